/*
 * groups.c - failing cases grouped by signature: one bug that a campaign hits
 * at hundreds of crash points is one group with a count, its smallest case and
 * that case's repro line, instead of hundreds of rows.
 *
 * A signature is built from fields every results line has (verdict, the key
 * diff's expected/found, fault_op, fired, fire_path), so the campaign (which
 * decides per group which data dirs to tar) and the reports agree on it.
 * Groups also split by target, so merged shards of different engines never
 * share a group.
 */
#define _GNU_SOURCE /* asprintf */
#include "rpt_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The op numbers named in text ("value of op 14 (durable) | absent (delete op 20, ...)"):
 * the smallest and largest; 0 when there is none. */
static int op_range(const char *text, uint64_t *lo, uint64_t *hi) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, "op ")); p += 3) {
    if (p > text && p[-1] != ' ' && p[-1] != '(') continue;
    if (p[3] < '0' || p[3] > '9') continue;
    uint64_t v = strtoull(p + 3, NULL, 10);
    if (!n++ || v < *lo) *lo = v;
    if (n == 1 || v > *hi) *hi = v;
  }
  return n;
}

const char *rpt_key_shape(const rpt_case *c) {
  const char *f = c->found ? c->found : "", *e = c->expected ? c->expected : "";
  uint64_t flo, fhi, elo, ehi;
  if (!strcmp(e, "the invariant to hold")) return "";
  if (!strcmp(e, "one entry per key")) return "duplicate";
  if (!(c->first_key && c->first_key[0]) && !f[0]) return "";
  if (!strncmp(f, "absent", 6)) return "absent";
  if (!strncmp(f, "value of op ", 12) && op_range(f, &flo, &fhi)) {
    if (!op_range(e, &elo, &ehi)) return "newer"; /* only absence was legal */
    if (flo < elo) return "older";
    if (flo > ehi && !strstr(e, " more)")) return "newer";
    return "other value";
  }
  return "garbage"; /* a damaged value, foreign bytes, an empty value */
}

void rpt_case_signature(const rpt_case *c, char *buf, size_t len) {
  const char *shape = rpt_key_shape(c);
  size_t n;
  n = (size_t)snprintf(buf, len, "%s", c->verdict ? c->verdict : "");
  if (n < len && shape[0]) n += (size_t)snprintf(buf + n, len - n, " | key %s", shape);
  if (n >= len) return;
  if (c->fired) {
    const char *fp = c->fire_path ? c->fire_path : "";
    char *cls = malloc(strlen(fp) + 1);
    if (!cls) return;
    rpt__path_class(fp, cls);
    snprintf(buf + n, len - n, " | %s %s", c->fault_op && c->fault_op[0] ? c->fault_op : "(unknown)",
             cls[0] ? cls : "(unknown)");
    free(cls);
  } else {
    snprintf(buf + n, len - n, " | %s", c->fault_kind && !strcmp(c->fault_kind, "none")
                                           ? "no fault" : "fault not fired");
  }
}

/* ---- the smallest case: fewest ops, then the earliest fault point ---- */

/* The id a person re-runs: the minimized one when there is one. */
static const char *repro_id(const rpt_case *c) {
  return c->minimized_id[0] ? c->minimized_id : c->id;
}

/* The ops of a case's repro id: for a case that was not minimized, the ops it issued
 * (a crash at op 90 of 1000 runs 90); for a minimized one, ops=N of the minimized id's
 * workload ("pc1/T/NAME:k=v,ops=N/...", found after "/NAME" where NAME is the case's
 * workload name), else the ops the original issued. */
static uint64_t id_ops(const rpt_case *c) {
  const char *id = repro_id(c), *w = c->workload;
  size_t wl = strcspn(w, ":/");
  if (!c->minimized_id[0] && c->ops_issued > 0) return (uint64_t)c->ops_issued;
  for (const char *p = id; (p = strchr(p, '/')); p++) {
    if (strncmp(p + 1, w, wl) || (p[1 + wl] != ':' && p[1 + wl] != '/')) continue;
    const char *end = strchr(p + 1, '/');
    for (const char *q = p + 1 + wl; q && *q && (!end || q < end); q++)
      if ((*q == ':' || *q == ',') && !strncmp(q + 1, "ops=", 4))
        return strtoull(q + 5, NULL, 10);
    break;
  }
  return c->ops_issued > 0 ? (uint64_t)c->ops_issued : UINT64_MAX;
}

/* #N of the first rule of the id's plan (the text after "/MODEL/"); 0 for no fault. */
static uint64_t id_point(const rpt_case *c) {
  const char *id = repro_id(c), *plan = NULL;
  size_t ml = strlen(c->model);
  for (const char *p = id; (p = strchr(p, '/')); p++)
    if (!strncmp(p + 1, c->model, ml) && p[1 + ml] == '/') plan = p + 2 + ml;
  if (!plan || !strcmp(plan, "none")) return 0;
  size_t rule = strcspn(plan, ";");
  const char *h = memchr(plan, '#', rule);
  return h ? strtoull(h + 1, NULL, 10) : 1;
}

typedef struct gkey {
  size_t i;          /* set index */
  char *key;         /* target + '\n' + signature */
  uint64_t ops, point;
} gkey;

static int smaller(const gkey *a, const rpt_case *ca, const gkey *b, const rpt_case *cb) {
  if (a->ops != b->ops) return a->ops < b->ops;
  if (a->point != b->point) return a->point < b->point;
  if (ca->fire_index != cb->fire_index) return (uint64_t)ca->fire_index < (uint64_t)cb->fire_index;
  return a->i < b->i;
}

static void add_distinct(const char **seen, size_t *n, int *more, const char *v) {
  for (size_t i = 0; i < *n; i++)
    if (!strcmp(seen[i], v)) return;
  if (*n < 4) seen[(*n)++] = v;
  else *more = 1;
}

static int cmp_key(const void *x, const void *y) {
  const gkey *a = x, *b = y;
  int d = strcmp(a->key, b->key);
  return d ? d : (a->i > b->i) - (a->i < b->i);
}

static int cmp_group(const void *x, const void *y) {
  const rpt_group *a = x, *b = y;
  if (a->count != b->count) return a->count < b->count ? 1 : -1;
  int d = strcmp(a->signature, b->signature);
  return d ? d : strcmp(a->target, b->target);
}

void rpt_groups_free(rpt_group *g, size_t n) {
  for (size_t i = 0; g && i < n; i++) {
    free(g[i].signature);
    free(g[i].path_class);
  }
  free(g);
}

int rpt_set_groups(const rpt_set *s, rpt_group **out, size_t *nout) {
  size_t nf = 0, ng = 0, i, j;
  gkey *k = NULL;
  rpt_group *g = NULL;
  int rc = RPT_ENOMEM;
  *out = NULL;
  *nout = 0;
  for (i = 0; i < s->ncases; i++) nf += !rpt__is_pass(&s->cases[i]);
  if (!nf) return 0;
  if (!(k = calloc(nf, sizeof *k)) || !(g = calloc(nf, sizeof *g))) goto fail;
  for (i = 0, j = 0; i < s->ncases; i++) {
    const rpt_case *c = &s->cases[i];
    char sig[512];
    if (rpt__is_pass(c)) continue;
    rpt_case_signature(c, sig, sizeof sig);
    k[j].i = i;
    k[j].ops = id_ops(c);
    k[j].point = id_point(c);
    if (asprintf(&k[j].key, "%s\n%s", c->target, sig) < 0) {
      k[j].key = NULL;
      goto fail;
    }
    j++;
  }
  qsort(k, nf, sizeof *k, cmp_key);
  for (i = 0; i < nf; i++) {
    const rpt_case *c = &s->cases[k[i].i];
    rpt_group *cur;
    if (i == 0 || strcmp(k[i].key, k[i - 1].key)) {
      cur = &g[ng++];
      cur->signature = rpt__strdup(strchr(k[i].key, '\n') + 1);
      cur->path_class = malloc(strlen(c->fire_path) + 1);
      if (!cur->signature || !cur->path_class) goto fail;
      if (c->fired) rpt__path_class(c->fire_path, cur->path_class);
      else cur->path_class[0] = '\0';
      cur->target = c->target;
      cur->verdict = c->verdict;
      cur->syscall = c->fired ? c->fault_op : "";
      cur->key_shape = rpt_key_shape(c);
      cur->smallest = i; /* index into k for now */
    }
    cur = &g[ng - 1];
    cur->count++;
    add_distinct(cur->fault_kinds, &cur->nfault_kinds, &cur->more_fault_kinds, c->fault_kind);
    add_distinct(cur->models, &cur->nmodels, &cur->more_models, c->model);
    if (smaller(&k[i], c, &k[cur->smallest], &s->cases[k[cur->smallest].i])) cur->smallest = i;
    if (c->kept[0]) {
      if (cur->nkept < 3) cur->kept[cur->nkept++] = k[i].i; /* k is in set order per group */
      cur->nkept_all++;
    }
  }
  for (i = 0; i < ng; i++) g[i].smallest = k[g[i].smallest].i;
  qsort(g, ng, sizeof *g, cmp_group);
  rc = 0;
fail:
  for (i = 0; k && i < nf; i++) free(k[i].key);
  free(k);
  if (rc) {
    rpt_groups_free(g, ng);
    return rc;
  }
  *out = g;
  *nout = ng;
  return 0;
}

int rpt_set_set_rerun(rpt_set *s, size_t i, int64_t reruns, int64_t reproduced) {
  if (!s || i >= s->ncases || reruns < 0 || reproduced < 0 || reproduced > reruns) return RPT_EINVAL;
  s->cases[i].reruns = reruns;
  s->cases[i].reproduced = reproduced;
  return 0;
}

int rpt__rate(const rpt_case *c, char *buf, size_t len) {
  if (c->reruns <= 0) {
    if (len) buf[0] = '\0';
    return 0;
  }
  snprintf(buf, len, "reproduced %" PRId64 "/%" PRId64 "%s", c->reproduced, c->reruns,
           c->reproduced == 0 ? " (no re-run failed)" : c->reproduced < c->reruns ? " (flaky)" : "");
  return 1;
}
