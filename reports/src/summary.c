/*
 * summary.c - summary.json (machine-readable totals for dashboards and CI
 * steps), the merged results.jsonl writer, and the short terminal summary
 * printed at the end of every campaign and by `powercut report`.
 */
#include "rpt_int.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define RPT_TERM_MAX_FAILURES 20 /* groups */

static int add_i64(cJSON *o, const char *k, int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return cJSON_AddRawToObject(o, k, buf) ? 0 : RPT_ENOMEM;
}

static int add_table(cJSON *root, const char *name, const rpt__table *t,
                     const rpt__stats *st) {
  size_t r, v;
  cJSON *o = cJSON_AddObjectToObject(root, name);
  if (!o) return RPT_ENOMEM;
  for (r = 0; r < t->nrows; r++) {
    cJSON *row = cJSON_AddObjectToObject(o, t->rows[r]);
    if (!row || add_i64(row, "total", t->row_total[r])) return RPT_ENOMEM;
    for (v = 0; v < st->nverdicts; v++) {
      int64_t n = t->cells[r * st->nverdicts + v];
      if (n && add_i64(row, st->verdicts[v], n)) return RPT_ENOMEM;
    }
  }
  return 0;
}

static int add_counts(cJSON *root, const char *name, const rpt__count *c,
                      size_t n) {
  size_t i;
  cJSON *o = cJSON_AddObjectToObject(root, name);
  if (!o) return RPT_ENOMEM;
  for (i = 0; i < n; i++)
    if (add_i64(o, c[i].name, c[i].n)) return RPT_ENOMEM;
  return 0;
}

static int add_failure(cJSON *arr, const rpt_case *c) {
  int rc = RPT_ENOMEM;
  char *repro = NULL;
  cJSON *o = cJSON_CreateObject();
  if (!o) return RPT_ENOMEM;
  if (!cJSON_AddItemToArray(arr, o)) {
    cJSON_Delete(o);
    return RPT_ENOMEM;
  }
  char label[600];
  if ((rc = rpt__min_repro(c, &repro))) return rc;
  rpt_reach_label(c, label, sizeof label);
  rc = RPT_ENOMEM;
  if (!cJSON_AddStringToObject(o, "id", c->id) ||
      !cJSON_AddStringToObject(o, "verdict", c->verdict) ||
      !cJSON_AddStringToObject(o, "explanation", c->explanation) ||
      !cJSON_AddStringToObject(o, "fault_kind", c->fault_kind) ||
      !cJSON_AddStringToObject(o, "model", c->model) ||
      !cJSON_AddStringToObject(o, "first_key", c->first_key) ||
      !cJSON_AddStringToObject(o, "expected", c->expected) ||
      !cJSON_AddStringToObject(o, "found", c->found) ||
      !cJSON_AddStringToObject(o, "repro", repro) ||
      !cJSON_AddStringToObject(o, "minimized_id", c->minimized_id) ||
      !cJSON_AddStringToObject(o, "kept", c->kept) ||
      !cJSON_AddStringToObject(o, "reach", c->reach ? c->reach : "") ||
      !cJSON_AddStringToObject(o, "reachable", label) ||
      add_i64(o, "reruns", c->reruns) || add_i64(o, "reproduced", c->reproduced))
    goto fail;
  rc = 0;
fail:
  free(repro);
  return rc;
}

static int add_strings(cJSON *o, const char *k, const char *const *v, size_t n) {
  cJSON *arr = cJSON_AddArrayToObject(o, k);
  if (!arr) return RPT_ENOMEM;
  for (size_t i = 0; i < n; i++)
    if (!cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]))) return RPT_ENOMEM;
  return 0;
}

static int add_group(cJSON *arr, const rpt_set *s, const rpt_group *g) {
  const rpt_case *c = &s->cases[g->smallest];
  char *repro = NULL, label[600];
  int rc;
  cJSON *o = cJSON_CreateObject(), *sm, *kept;
  if (!o) return RPT_ENOMEM;
  if (!cJSON_AddItemToArray(arr, o)) {
    cJSON_Delete(o);
    return RPT_ENOMEM;
  }
  if ((rc = rpt__min_repro(c, &repro))) return rc;
  rpt_reach_label(c, label, sizeof label);
  rc = RPT_ENOMEM;
  if (!cJSON_AddStringToObject(o, "signature", g->signature) ||
      !cJSON_AddStringToObject(o, "target", g->target) ||
      !cJSON_AddStringToObject(o, "verdict", g->verdict) ||
      !cJSON_AddStringToObject(o, "key_diff", g->key_shape) ||
      !cJSON_AddStringToObject(o, "syscall", g->syscall) ||
      !cJSON_AddStringToObject(o, "path_class", g->path_class) ||
      add_i64(o, "count", (int64_t)g->count) ||
      !cJSON_AddStringToObject(o, "repro", repro) ||
      add_i64(o, "reruns", c->reruns) || add_i64(o, "reproduced", c->reproduced) ||
      add_strings(o, "fault_kinds", g->fault_kinds, g->nfault_kinds) ||
      add_strings(o, "models", g->models, g->nmodels) ||
      !(sm = cJSON_AddObjectToObject(o, "smallest")) ||
      !cJSON_AddStringToObject(sm, "id", c->id) ||
      !cJSON_AddStringToObject(sm, "minimized_id", c->minimized_id) ||
      !cJSON_AddStringToObject(sm, "explanation", c->explanation) ||
      !cJSON_AddStringToObject(sm, "first_key", c->first_key) ||
      !cJSON_AddStringToObject(sm, "expected", c->expected) ||
      !cJSON_AddStringToObject(sm, "found", c->found) ||
      !cJSON_AddStringToObject(sm, "fault_kind", c->fault_kind) ||
      !cJSON_AddStringToObject(sm, "model", c->model) ||
      !cJSON_AddBoolToObject(sm, "fired", c->fired != 0) ||
      !cJSON_AddStringToObject(sm, "fire_path", c->fire_path) ||
      !cJSON_AddStringToObject(sm, "reachable", label) ||
      !(kept = cJSON_AddArrayToObject(o, "kept")) ||
      add_i64(o, "kept_total", (int64_t)g->nkept_all))
    goto fail;
  for (size_t i = 0; i < g->nkept; i++)
    if (!cJSON_AddItemToArray(kept, cJSON_CreateString(s->cases[g->kept[i]].kept))) goto fail;
  rc = 0;
fail:
  free(repro);
  return rc;
}

int rpt__site_json(cJSON *arr, const rpt_site *t) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddItemToArray(arr, o)) {
    cJSON_Delete(o);
    return RPT_ENOMEM;
  }
  return !cJSON_AddStringToObject(o, "site", t->site) || !cJSON_AddStringToObject(o, "workload", t->workload) ||
                 !cJSON_AddStringToObject(o, "op", t->op) || !cJSON_AddStringToObject(o, "name", t->name) ||
                 !cJSON_AddBoolToObject(o, "recovery", t->recovery != 0) ||
                 !cJSON_AddBoolToObject(o, "aimed", t->aimed != 0)
             ? RPT_ENOMEM
             : 0;
}

int rpt_write_summary_json(const rpt_set *s, FILE *f) {
  int rc;
  rpt__stats st;
  size_t i, v;
  char *text = NULL;
  cJSON *root = NULL, *o;
  if ((rc = rpt__stats_compute(s, &st))) return rc;
  rc = RPT_ENOMEM;
  if (!(root = cJSON_CreateObject())) goto fail;
  size_t nerr = st.nerror;
  if (!cJSON_AddStringToObject(root, "format", "powercut-summary/1") ||
      add_i64(root, "cases", (int64_t)st.ncases) ||
      add_i64(root, "passed", (int64_t)st.npass) ||
      add_i64(root, "failed", (int64_t)st.nfail) ||
      add_i64(root, "errors", (int64_t)nerr) ||
      add_i64(root, "fired", (int64_t)st.nfired))
    goto fail;
  /* a run stopped by a signal: the counts cover only the cases verified before it */
  if (rpt__interrupted(s) ? !cJSON_AddStringToObject(root, "interrupted", rpt__interrupted(s))
                          : !cJSON_AddNullToObject(root, "interrupted"))
    goto fail;
  /* every known verdict (zeros included) so consumers can rely on the keys */
  if (!(o = cJSON_AddObjectToObject(root, "verdicts"))) goto fail;
  for (v = 0; v < rpt__nverdicts; v++) {
    int col = rpt__verdict_col(&st, rpt__verdicts[v]);
    if (add_i64(o, rpt__verdicts[v], col < 0 ? 0 : st.verdict_n[col])) goto fail;
  }
  for (v = 0; v < st.nverdicts; v++) {
    for (i = 0; i < rpt__nverdicts && strcmp(rpt__verdicts[i], st.verdicts[v]); i++) {}
    if (i == rpt__nverdicts && add_i64(o, st.verdicts[v], st.verdict_n[v])) goto fail;
  }
  if ((rc = add_table(root, "by_fault_kind", &st.by_fault, &st)) ||
      (rc = add_table(root, "by_model", &st.by_model, &st)))
    goto fail;
  rc = RPT_ENOMEM;
  if (!(o = cJSON_AddObjectToObject(root, "coverage"))) goto fail;
  if (add_counts(o, "by_syscall", st.ops, st.nops) ||
      add_counts(o, "by_path", st.paths, st.npaths))
    goto fail;
  {
    /* crash sites: distinct call stacks of the dry runs, and those a fault fired at */
    cJSON *nc;
    if (!(o = cJSON_AddObjectToObject(root, "crash_sites")) || add_i64(o, "seen", (int64_t)st.nsites) ||
        add_i64(o, "crashed", (int64_t)st.nsites_crashed) ||
        !cJSON_AddNumberToObject(o, "percent", st.nsites ? 100.0 * (double)st.nsites_crashed / (double)st.nsites : 0) ||
        add_i64(o, "crashed_unseen", (int64_t)st.nsites_elsewhere) ||
        add_i64(o, "not_aimed", (int64_t)st.nsites_unaimed) ||
        !(nc = cJSON_AddArrayToObject(o, "never_crashed")))
      goto fail;
    for (i = 0; i < st.nsites; i++)
      if (!st.site_crashed[i] && rpt__site_json(nc, st.sites[i])) goto fail;
  }
  if (!(o = cJSON_AddObjectToObject(root, "recovery_us")) ||
      !cJSON_AddStringToObject(o, "percentile", "nearest-rank") ||
      add_i64(o, "samples", (int64_t)st.nrecovery) ||
      add_i64(o, "p50", st.rec_p50) || add_i64(o, "p99", st.rec_p99) ||
      add_i64(o, "max", st.rec_max))
    goto fail;
  if (!cJSON_AddNumberToObject(root, "states_per_s", st.states_per_s) ||
      !cJSON_AddNumberToObject(root, "aggregate_states_per_s",
                               st.aggregate_states_per_s) ||
      !cJSON_AddNumberToObject(root, "elapsed_s", st.meta_elapsed_s))
    goto fail;
  if (!(o = cJSON_AddArrayToObject(root, "shards"))) goto fail;
  for (i = 0; i < s->nmetas; i++) {
    const rpt_meta *m = &s->metas[i];
    cJSON *sh = cJSON_CreateObject();
    if (!sh || !cJSON_AddItemToArray(o, sh)) {
      cJSON_Delete(sh);
      goto fail;
    }
    if (!cJSON_AddStringToObject(sh, "shard", m->shard) ||
        add_i64(sh, "cases", m->cases) ||
        !cJSON_AddNumberToObject(sh, "elapsed_s", m->elapsed_s) ||
        !cJSON_AddNumberToObject(sh, "states_per_s", m->states_per_s) ||
        add_i64(sh, "jobs", m->jobs) ||
        !cJSON_AddStringToObject(sh, "argv", m->argv))
      goto fail;
  }
  {
    rpt_group *g = NULL;
    size_t ng = 0;
    if ((rc = rpt_set_groups(s, &g, &ng))) goto fail;
    rc = RPT_ENOMEM;
    if (!(o = cJSON_AddArrayToObject(root, "groups"))) {
      rpt_groups_free(g, ng);
      goto fail;
    }
    rc = 0;
    for (i = 0; i < ng && !rc; i++) rc = add_group(o, s, &g[i]);
    rpt_groups_free(g, ng);
    if (rc) goto fail;
    rc = RPT_ENOMEM;
  }
  if (!(o = cJSON_AddArrayToObject(root, "failures"))) goto fail;
  for (i = 0; i < s->ncases; i++)
    if (!rpt__is_pass(&s->cases[i]) && (rc = add_failure(o, &s->cases[i])))
      goto fail;
  rc = RPT_ENOMEM;
  if (!(text = cJSON_Print(root))) goto fail;
  fputs(text, f);
  fputc('\n', f);
  rc = ferror(f) ? RPT_EIO : 0;
fail:
  free(text);
  cJSON_Delete(root);
  rpt__stats_free(&st);
  return rc;
}

int rpt_write_jsonl(const rpt_set *s, FILE *f) {
  size_t i;
  for (i = 0; i < s->ncases; i++) {
    char *line;
    int rc = rpt_case_to_json(&s->cases[i], &line);
    if (rc) return rc;
    fputs(line, f);
    fputc('\n', f);
    free(line);
  }
  return ferror(f) ? RPT_EIO : 0;
}

/* "850 us", "12.3 ms", "1.52 s" */
static const char *fmt_us(char *buf, size_t n, int64_t us) {
  if (us < 1000) snprintf(buf, n, "%" PRId64 " us", us);
  else if (us < 1000000) snprintf(buf, n, "%.1f ms", (double)us / 1e3);
  else snprintf(buf, n, "%.2f s", (double)us / 1e6);
  return buf;
}

/* A string for a terminal: control characters (ESC above all) as \xNN. */
static void term_str(FILE *f, const char *s) {
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch < 0x20 || ch == 0x7F) fprintf(f, "\\x%02x", ch);
    else fputc(ch, f);
  }
}

void rpt_print_summary(const rpt_set *s, FILE *f) {
  rpt__stats st;
  size_t i, v, listed = 0;
  char a[32], b[32], c[32];
  if (!s || rpt__stats_compute(s, &st)) {
    fputs("powercut: cannot summarize results (out of memory)\n", f);
    return;
  }
  fprintf(f, "powercut: %zu cases", st.ncases);
  if (st.nshards > 1) fprintf(f, " from %zu shards", st.nshards);
  fprintf(f, ": %zu passed, %zu failed", st.npass, st.nfail);
  if (st.nerror)
    fprintf(f, " (%zu violations, %zu harness errors)", st.nfail - st.nerror,
            st.nerror);
  fputc('\n', f);
  if (rpt__interrupted(s))
    fprintf(f, "  INTERRUPTED by %s: only the %zu cases verified before it are counted\n",
            rpt__interrupted(s), st.ncases);
  if (st.nshards > 0) {
    fprintf(f, "  throughput: %.0f crash states/s", st.states_per_s);
    if (st.nshards > 1)
      fprintf(f, " per runner, %.0f states/s across %zu shards",
              st.aggregate_states_per_s, st.nshards);
    fputc('\n', f);
  }
  fputs("  verdicts:", f);
  for (v = 0; v < st.nverdicts; v++) {
    fputc(' ', f);
    term_str(f, st.verdicts[v]);
    fprintf(f, " %" PRId64, st.verdict_n[v]);
  }
  fputc('\n', f);
  fprintf(f, "  faults fired: %zu of %zu cases\n", st.nfired, st.ncases);
  if (st.nsites) {
    fprintf(f, "  crash sites: %zu seen in dry runs, %zu crashed at (%.1f%%)", st.nsites, st.nsites_crashed,
            100.0 * (double)st.nsites_crashed / (double)st.nsites);
    if (st.nsites_unaimed) fprintf(f, "; no chosen fault kind aims at %zu of them", st.nsites_unaimed);
    if (st.nsites_elsewhere) fprintf(f, "; %zu more not seen in dry runs", st.nsites_elsewhere);
    fputc('\n', f);
  }
  if (st.nrecovery)
    fprintf(f, "  recovery: p50 %s  p99 %s  max %s  (%zu samples)\n",
            fmt_us(a, sizeof a, st.rec_p50), fmt_us(b, sizeof b, st.rec_p99),
            fmt_us(c, sizeof c, st.rec_max), st.nrecovery);
  {
    rpt_group *g = NULL;
    size_t ng = 0;
    if (rpt_set_groups(s, &g, &ng)) {
      fputs("  (cannot group the failures: out of memory)\n", f);
      ng = 0;
    }
    if (ng)
      fprintf(f, "failures: %zu in %zu group%s (one line per group; every case is in summary.json)\n",
              st.nfail, ng, ng == 1 ? "" : "s");
    for (i = 0; i < ng; i++) {
      const rpt_case *k = &s->cases[g[i].smallest];
      char *repro = NULL, rate[64];
      if (listed++ >= RPT_TERM_MAX_FAILURES) continue;
      fprintf(f, "  %zu x ", g[i].count);
      term_str(f, g[i].signature);
      fputs("\n    smallest: ", f);
      term_str(f, k->id);
      if (k->explanation[0]) {
        fputs("\n    ", f);
        term_str(f, k->explanation);
      }
      if (k->first_key[0]) {
        fputs("\n    key ", f);
        term_str(f, k->first_key);
        fputs(": expected ", f);
        term_str(f, k->expected);
        fputs(", found ", f);
        term_str(f, k->found);
      }
      if (rpt__min_repro(k, &repro) == 0) {
        fputs("\n    repro: ", f);
        term_str(f, repro);
      }
      if (rpt__rate(k, rate, sizeof rate)) fprintf(f, "\n    %s", rate);
      if (g[i].nkept) {
        fputs("\n    kept: ", f);
        term_str(f, s->cases[g[i].kept[0]].kept);
        if (g[i].nkept_all > 1) fprintf(f, " (+%zu more)", g[i].nkept_all - 1);
      }
      if (!rpt__is_error(k)) {
        char label[600];
        rpt_reach_label(k, label, sizeof label);
        fputs("\n    where: ", f);
        term_str(f, label);
      }
      fputc('\n', f);
      free(repro);
    }
    rpt_groups_free(g, ng);
  }
  if (listed > RPT_TERM_MAX_FAILURES)
    fprintf(f, "  ... and %zu more groups (see index.html or summary.json)\n",
            listed - RPT_TERM_MAX_FAILURES);
  rpt__stats_free(&st);
}
