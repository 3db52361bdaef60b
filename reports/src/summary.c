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

#define RPT_TERM_MAX_FAILURES 20

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
  if ((rc = rpt__min_repro(c, &repro))) return rc;
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
      !cJSON_AddStringToObject(o, "kept", c->kept))
    goto fail;
  rc = 0;
fail:
  free(repro);
  return rc;
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
  if (st.nrecovery)
    fprintf(f, "  recovery: p50 %s  p99 %s  max %s  (%zu samples)\n",
            fmt_us(a, sizeof a, st.rec_p50), fmt_us(b, sizeof b, st.rec_p99),
            fmt_us(c, sizeof c, st.rec_max), st.nrecovery);
  for (i = 0; i < s->ncases; i++) {
    const rpt_case *k = &s->cases[i];
    char *repro = NULL;
    if (rpt__is_pass(k)) continue;
    if (listed == 0) fputs("failures:\n", f);
    if (listed++ >= RPT_TERM_MAX_FAILURES) continue;
    fputs("  ", f);
    term_str(f, k->verdict);
    fputs("  ", f);
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
    if (k->kept[0]) {
      fputs("\n    kept: ", f);
      term_str(f, k->kept);
    }
    fputc('\n', f);
    free(repro);
  }
  if (listed > RPT_TERM_MAX_FAILURES)
    fprintf(f, "  ... and %zu more (see index.html or summary.json)\n",
            listed - RPT_TERM_MAX_FAILURES);
  rpt__stats_free(&st);
}
