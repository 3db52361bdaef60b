/*
 * stats.c - aggregates a set into the counts every report draws from:
 * verdicts overall, per fault kind and per model, crash-point coverage of
 * fired cases per syscall kind and per path, crash sites seen in the dry runs
 * and crashed at, recovery-time percentiles
 * (nearest rank, see rpt_percentile) and throughput from shard metadata.
 *
 * Row and name strings in the stats are borrowed from the set's cases.
 */
#include "rpt_int.h"

#include <stdlib.h>
#include <string.h>

const char *const rpt__verdicts[] = {
    "PASS",          "LOST_ACKED",      "NOT_PREFIX",    "PHANTOM",
    "TORN_BATCH",    "INVARIANT",       "BAD_READ",      "BAD_CHECKPOINT",
    "RECOVERY_FAILED", "RECOVERY_HANG",
    "RECOVERY_CRASH", "ERROR"};
const size_t rpt__nverdicts = sizeof rpt__verdicts / sizeof rpt__verdicts[0];

int64_t rpt_percentile(const int64_t *sorted, size_t n, unsigned p) {
  if (n == 0 || !sorted) return 0;
  if (p > 100) p = 100;
  /* rank = ceil(p * n / 100) in integers: exact, no floating point */
  uint64_t rank = ((uint64_t)p * n + 99) / 100;
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int cmp_count(const void *a, const void *b) {
  const rpt__count *x = a, *y = b;
  if (x->n != y->n) return x->n < y->n ? 1 : -1;
  return strcmp(x->name, y->name);
}

int rpt__verdict_col(const rpt__stats *st, const char *verdict) {
  size_t i;
  for (i = 0; i < st->nverdicts; i++)
    if (strcmp(st->verdicts[i], verdict) == 0) return (int)i;
  return -1;
}

/* Index of name in an array of n names, or -1. Linear: the number of
 * distinct fault kinds, models, syscalls and paths is small. */
static long find_name(char *const *names, size_t n, const char *name) {
  size_t i;
  for (i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0) return (long)i;
  return -1;
}

/* Rows are listed in a fixed order of known names (fault kinds from mild to
 * severe, models from strict to loose), then the others alphabetically. */
static size_t row_rank(const char *const *order, size_t norder,
                       const char *name) {
  size_t i;
  for (i = 0; i < norder; i++)
    if (strcmp(order[i], name) == 0) return i;
  return norder;
}

static int row_before(const char *const *order, size_t norder, const char *x,
                      const char *y) {
  size_t rx = row_rank(order, norder, x), ry = row_rank(order, norder, y);
  return rx != ry ? rx < ry : strcmp(x, y) < 0;
}

static const char *const fault_order[] = {
    "kill", "kill-after", "crash", "crash-after", "torn", "eio", "enospc",
    "edquot", "short", "flip", "none"};
static const char *const model_order[] = {"strict", "ext4", "xfs", "reorder"};

static int table_fill(rpt__table *t, const rpt_set *s, const rpt__stats *st,
                      size_t field_off, const char *const *order, size_t norder) {
  size_t i;
  t->rows = calloc(s->ncases ? s->ncases : 1, sizeof *t->rows);
  if (!t->rows) return RPT_ENOMEM;
  for (i = 0; i < s->ncases; i++) {
    char *name = *(char **)((char *)&s->cases[i] + field_off);
    if (find_name(t->rows, t->nrows, name) < 0) t->rows[t->nrows++] = name;
  }
  for (i = 1; i < t->nrows; i++) {   /* insertion sort: a handful of rows */
    char *x = t->rows[i];
    size_t j = i;
    for (; j > 0 && row_before(order, norder, x, t->rows[j - 1]); j--)
      t->rows[j] = t->rows[j - 1];
    t->rows[j] = x;
  }
  t->cells = calloc(t->nrows * st->nverdicts + 1, sizeof *t->cells);
  t->row_total = calloc(t->nrows + 1, sizeof *t->row_total);
  if (!t->cells || !t->row_total) return RPT_ENOMEM;
  for (i = 0; i < s->ncases; i++) {
    char *name = *(char **)((char *)&s->cases[i] + field_off);
    long r = find_name(t->rows, t->nrows, name);
    int c = rpt__verdict_col(st, s->cases[i].verdict);
    t->cells[(size_t)r * st->nverdicts + (size_t)c]++;
    t->row_total[r]++;
  }
  return 0;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void rpt__path_class(const char *p, char *out) {
  while (*p) {
    if (*p >= '0' && *p <= '9') {
      while (*p >= '0' && *p <= '9') p++;
      *out++ = '*';
    } else {
      *out++ = *p++;
    }
  }
  *out = '\0';
}

/* Counts of a string field over fired cases: sort the names, count runs,
 * then order by count (descending) and name. O(n log n) in the cases. With
 * classes != NULL, each name is first mapped to its path class, kept in a
 * buffer returned in *classes (freed by the caller). */
static int count_fill(rpt__count **out, size_t *nout, const rpt_set *s,
                      size_t field_off, char **classes) {
  size_t i, n = 0, k = 0, total = 0;
  const char **names = calloc(s->ncases ? s->ncases : 1, sizeof *names);
  rpt__count *v = calloc(s->ncases ? s->ncases : 1, sizeof *v);
  char *buf = NULL;
  if (classes) {
    for (i = 0; i < s->ncases; i++)
      total += strlen(*(char *const *)((const char *)&s->cases[i] + field_off)) + 1;
    buf = malloc(total + 1);
  }
  if (!names || !v || (classes && !buf)) {
    free(names);
    free(v);
    free(buf);
    return RPT_ENOMEM;
  }
  total = 0;
  for (i = 0; i < s->ncases; i++) {
    const rpt_case *c = &s->cases[i];
    if (!c->fired) continue;
    const char *name = *(char *const *)((const char *)c + field_off);
    if (name[0] && buf) {
      rpt__path_class(name, buf + total);
      name = buf + total;
      total += strlen(name) + 1;
    }
    names[k++] = name[0] ? name : "(unknown)";
  }
  if (classes) *classes = buf;
  qsort(names, k, sizeof *names, cmp_name);
  for (i = 0; i < k; i++) {
    if (n == 0 || strcmp(v[n - 1].name, names[i]) != 0) v[n++].name = names[i];
    v[n - 1].n++;
  }
  free(names);
  qsort(v, n, sizeof *v, cmp_count);
  *out = v;
  *nout = n;
  return 0;
}

typedef struct site_ix {
  const char *site;
  size_t i; /* index in st->sites */
} site_ix;

static int cmp_site_ix(const void *a, const void *b) {
  return strcmp(((const site_ix *)a)->site, ((const site_ix *)b)->site);
}

/* Crash sites: the metas' sites (one per id, first appearance kept), which of them some
 * case's fault fired at, and how many distinct fired sites no dry run saw. */
static int sites_fill(const rpt_set *s, rpt__stats *st) {
  size_t total = 0, i, j, n = 0, nother = 0;
  for (i = 0; i < s->nmetas; i++) total += s->metas[i].nsites;
  site_ix *sorted = calloc(total + 1, sizeof *sorted);
  const char **other = calloc(s->ncases + 1, sizeof *other);
  st->sites = calloc(total + 1, sizeof *st->sites);
  st->site_crashed = calloc(total + 1, 1);
  if (!sorted || !other || !st->sites || !st->site_crashed) {
    free(sorted);
    free(other);
    return RPT_ENOMEM;
  }
  for (i = 0; i < s->nmetas; i++)
    for (j = 0; j < s->metas[i].nsites; j++) {
      const rpt_site *t = &s->metas[i].sites[j];
      site_ix key = {.site = t->site};
      if (n && bsearch(&key, sorted, n, sizeof *sorted, cmp_site_ix)) continue;
      /* insert in order (shards repeat one list: the union stays the size of one) */
      size_t k = n++;
      for (; k > 0 && strcmp(sorted[k - 1].site, t->site) > 0; k--) sorted[k] = sorted[k - 1];
      sorted[k] = (site_ix){.site = t->site, .i = st->nsites};
      st->sites[st->nsites++] = t;
      st->nsites_unaimed += !t->aimed;
    }
  for (i = 0; i < s->ncases; i++) {
    const rpt_case *c = &s->cases[i];
    if (!c->fired || !c->fire_site[0]) continue;
    site_ix key = {.site = c->fire_site}, *hit = n ? bsearch(&key, sorted, n, sizeof *sorted, cmp_site_ix) : NULL;
    if (!hit) other[nother++] = c->fire_site;
    else if (!st->site_crashed[hit->i]) st->site_crashed[hit->i] = 1, st->nsites_crashed++;
  }
  qsort(other, nother, sizeof *other, cmp_name);
  for (i = 0; i < nother; i++) st->nsites_elsewhere += i == 0 || strcmp(other[i - 1], other[i]) != 0;
  free(sorted);
  free(other);
  return 0;
}

int rpt__stats_compute(const rpt_set *s, rpt__stats *st) {
  int rc = RPT_ENOMEM;
  size_t i, j;
  memset(st, 0, sizeof *st);
  st->ncases = s->ncases;

  /* verdict columns: the known ones present, then unknown ones */
  st->verdicts = calloc(s->ncases + rpt__nverdicts, sizeof *st->verdicts);
  if (!st->verdicts) goto fail;
  for (j = 0; j < rpt__nverdicts; j++)
    for (i = 0; i < s->ncases; i++)
      if (strcmp(s->cases[i].verdict, rpt__verdicts[j]) == 0) {
        st->verdicts[st->nverdicts++] = rpt__verdicts[j];
        break;
      }
  for (i = 0; i < s->ncases; i++)
    if (rpt__verdict_col(st, s->cases[i].verdict) < 0)
      st->verdicts[st->nverdicts++] = s->cases[i].verdict;
  if (!(st->verdict_n = calloc(st->nverdicts + 1, sizeof *st->verdict_n)))
    goto fail;

  if (!(st->recovery = calloc(s->ncases + 1, sizeof *st->recovery))) goto fail;
  for (i = 0; i < s->ncases; i++) {
    const rpt_case *c = &s->cases[i];
    st->verdict_n[rpt__verdict_col(st, c->verdict)]++;
    if (rpt__is_pass(c)) st->npass++;
    else st->nfail++;
    if (c->fired) st->nfired++;
    if (rpt__is_error(c)) st->nerror++;
    if (c->recovery_us >= 0) st->recovery[st->nrecovery++] = c->recovery_us;
    st->total_case_s += (double)c->case_us / 1e6;
  }
  qsort(st->recovery, st->nrecovery, sizeof *st->recovery, cmp_i64);
  st->rec_p50 = rpt_percentile(st->recovery, st->nrecovery, 50);
  st->rec_p99 = rpt_percentile(st->recovery, st->nrecovery, 99);
  st->rec_max = rpt_percentile(st->recovery, st->nrecovery, 100);

  if ((rc = table_fill(&st->by_fault, s, st, offsetof(rpt_case, fault_kind),
                       fault_order, sizeof fault_order / sizeof *fault_order)) ||
      (rc = table_fill(&st->by_model, s, st, offsetof(rpt_case, model),
                       model_order, sizeof model_order / sizeof *model_order)) ||
      (rc = count_fill(&st->ops, &st->nops, s, offsetof(rpt_case, fault_op), NULL)) ||
      (rc = count_fill(&st->paths, &st->npaths, s, offsetof(rpt_case, fire_path), &st->path_names)) ||
      (rc = sites_fill(s, st)))
    goto fail;

  st->nshards = s->nmetas;
  for (i = 0; i < s->nmetas; i++) {
    st->meta_cases += s->metas[i].cases;
    st->meta_elapsed_s += s->metas[i].elapsed_s;
    st->aggregate_states_per_s += s->metas[i].states_per_s;
  }
  if (s->nmetas == 1) st->states_per_s = s->metas[0].states_per_s;
  else if (st->meta_elapsed_s > 0)
    st->states_per_s = (double)st->meta_cases / st->meta_elapsed_s;
  rc = 0;
fail:
  if (rc) rpt__stats_free(st);
  return rc;
}

static void table_free(rpt__table *t) {
  free(t->rows);
  free(t->cells);
  free(t->row_total);
}

void rpt__stats_free(rpt__stats *st) {
  free(st->verdicts);
  free(st->verdict_n);
  table_free(&st->by_fault);
  table_free(&st->by_model);
  free(st->ops);
  free(st->paths);
  free(st->path_names);
  free(st->recovery);
  free(st->sites);
  free(st->site_crashed);
  memset(st, 0, sizeof *st);
}
