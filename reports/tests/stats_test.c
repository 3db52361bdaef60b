/*
 * stats_test.c - the numbers: nearest-rank percentiles, verdict counts per
 * fault kind and model in summary.json, throughput from shard metadata, and
 * the terminal summary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void percentile_is_nearest_rank(void **st) {
  (void)st;
  int64_t four[] = {10, 20, 30, 40};
  assert_int_equal(rpt_percentile(four, 4, 0), 10);    /* rank clamped to 1 */
  assert_int_equal(rpt_percentile(four, 4, 25), 10);   /* ceil(1.0) = 1 */
  assert_int_equal(rpt_percentile(four, 4, 26), 20);   /* ceil(1.04) = 2 */
  assert_int_equal(rpt_percentile(four, 4, 50), 20);   /* ceil(2.0) = 2 */
  assert_int_equal(rpt_percentile(four, 4, 51), 30);
  assert_int_equal(rpt_percentile(four, 4, 99), 40);
  assert_int_equal(rpt_percentile(four, 4, 100), 40);
  assert_int_equal(rpt_percentile(four, 4, 250), 40);  /* p clamped to 100 */

  int64_t seven[] = {1, 2, 3, 4, 5, 6, 7};
  assert_int_equal(rpt_percentile(seven, 7, 50), 4);   /* ceil(3.5) = 4 */
  assert_int_equal(rpt_percentile(seven, 7, 99), 7);   /* ceil(6.93) = 7 */

  int64_t *big = malloc(1000 * sizeof *big);
  for (int i = 0; i < 1000; i++) big[i] = i + 1;
  assert_int_equal(rpt_percentile(big, 100, 99), 99);  /* exact: no 99.0000001 */
  assert_int_equal(rpt_percentile(big, 100, 50), 50);
  assert_int_equal(rpt_percentile(big, 1000, 99), 990);
  assert_int_equal(rpt_percentile(big, 1000, 1), 10);
  assert_int_equal(rpt_percentile(big, 1, 99), 1);
  free(big);
  assert_int_equal(rpt_percentile(NULL, 0, 50), 0);
}

static cJSON *summary_of(const rpt_set *s) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  assert_int_equal(rpt_write_summary_json(s, f), 0);
  fclose(f);
  cJSON *o = cJSON_Parse(buf);
  assert_non_null(o);
  free(buf);
  return o;
}

static int64_t num(const cJSON *o, const char *path) {
  char *dup = strdup(path), *save = NULL;
  const cJSON *cur = o;
  for (char *k = strtok_r(dup, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
    cur = cJSON_GetObjectItemCaseSensitive(cur, k);
    if (!cur) fail_msg("summary.json has no %s", path);
  }
  free(dup);
  assert_true(cJSON_IsNumber(cur));
  return (int64_t)cur->valuedouble;
}

static int has(const cJSON *o, const char *path) {
  char *dup = strdup(path), *save = NULL;
  const cJSON *cur = o;
  for (char *k = strtok_r(dup, ".", &save); k && cur; k = strtok_r(NULL, ".", &save))
    cur = cJSON_GetObjectItemCaseSensitive(cur, k);
  free(dup);
  return cur != NULL;
}

static void summary_counts_verdicts_per_fault_kind_and_model(void **st) {
  (void)st;
  rpt_set *s = fx_campaign();
  cJSON *o = summary_of(s);
  assert_int_equal(num(o, "cases"), FX_CASES);
  assert_int_equal(num(o, "passed"), 6);
  assert_int_equal(num(o, "failed"), FX_NONPASS);
  assert_int_equal(num(o, "errors"), 1);
  assert_int_equal(num(o, "verdicts.PASS"), 6);
  assert_int_equal(num(o, "verdicts.LOST_ACKED"), 1);
  assert_int_equal(num(o, "verdicts.NOT_PREFIX"), 1);
  assert_int_equal(num(o, "verdicts.RECOVERY_HANG"), 1);
  assert_int_equal(num(o, "verdicts.ERROR"), 1);
  assert_int_equal(num(o, "verdicts.PHANTOM"), 0);     /* known verdicts always there */
  assert_int_equal(num(o, "by_fault_kind.crash.total"), 6);
  assert_int_equal(num(o, "by_fault_kind.crash.PASS"), 4);
  assert_int_equal(num(o, "by_fault_kind.crash.LOST_ACKED"), 1);
  assert_int_equal(num(o, "by_fault_kind.crash.NOT_PREFIX"), 1);
  assert_false(has(o, "by_fault_kind.crash.RECOVERY_HANG"));
  assert_int_equal(num(o, "by_fault_kind.torn.total"), 3);
  assert_int_equal(num(o, "by_fault_kind.torn.RECOVERY_HANG"), 1);
  assert_int_equal(num(o, "by_fault_kind.eio.ERROR"), 1);
  assert_int_equal(num(o, "by_model.strict.total"), 6);
  assert_int_equal(num(o, "by_model.strict.PASS"), 4);
  assert_int_equal(num(o, "by_model.reorder.total"), 4);
  assert_int_equal(num(o, "by_model.reorder.PASS"), 2);
  assert_int_equal(num(o, "coverage.by_syscall.fsync"), 7);
  assert_int_equal(num(o, "coverage.by_syscall.write"), 3);
  const cJSON *paths = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "coverage"), "by_path");
  assert_int_equal(cJSON_GetObjectItem(paths, "*.sst")->valueint, 3);
  assert_int_equal(cJSON_GetObjectItem(paths, "*.log")->valueint, 7);
  cJSON_Delete(o);
  rpt_set_free(s);
}

/* Numbered files count together under their path class, as `powercut trace` shows them;
 * a campaign over many tables used to list every one of them. */
static void coverage_groups_numbered_paths_by_class(void **st) {
  (void)st;
  static const char *const fp[] = {"000001.log", "000017.log", "MANIFEST-000003",
                                   "MANIFEST-000012", "CURRENT", "", "sub/0042.sst"};
  rpt_set *s;
  if (rpt_set_create(&s)) abort();
  for (size_t i = 0; i < sizeof fp / sizeof *fp; i++) {
    rpt_case c;
    char id[64];
    snprintf(id, sizeof id, "pc1/sofadb/mixed/%zu/strict/crash@write#1", i);
    fx_case(&c, id, "crash", "strict", "PASS", 100);
    c.fire_path = (char *)fp[i];
    if (rpt_set_add(s, &c)) abort();
  }
  cJSON *o = summary_of(s);
  const cJSON *paths = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "coverage"), "by_path");
  assert_int_equal(cJSON_GetArraySize(paths), 5);
  assert_int_equal(cJSON_GetObjectItem(paths, "*.log")->valueint, 2);
  assert_int_equal(cJSON_GetObjectItem(paths, "MANIFEST-*")->valueint, 2);
  assert_int_equal(cJSON_GetObjectItem(paths, "CURRENT")->valueint, 1);
  assert_int_equal(cJSON_GetObjectItem(paths, "(unknown)")->valueint, 1);
  assert_int_equal(cJSON_GetObjectItem(paths, "sub/*.sst")->valueint, 1);
  cJSON_Delete(o);
  rpt_set_free(s);
}

static void summary_recovery_percentiles_skip_unmeasured(void **st) {
  (void)st;
  rpt_set *s = fx_campaign();
  cJSON *o = summary_of(s);
  /* 9 samples 100..900 (the ERROR case's -1 is not a sample) */
  assert_int_equal(num(o, "recovery_us.samples"), 9);
  assert_int_equal(num(o, "recovery_us.p50"), 500);   /* ceil(4.5) = 5th */
  assert_int_equal(num(o, "recovery_us.p99"), 900);
  assert_int_equal(num(o, "recovery_us.max"), 900);
  cJSON *fails = cJSON_GetObjectItemCaseSensitive(o, "failures");
  assert_int_equal(cJSON_GetArraySize(fails), FX_NONPASS);
  cJSON *first = cJSON_GetArrayItem(fails, 0);
  assert_string_equal(cJSON_GetObjectItem(first, "id")->valuestring, NASTY_ID);
  assert_string_equal(cJSON_GetObjectItem(first, "first_key")->valuestring, NASTY_KEY);
  assert_string_equal(cJSON_GetObjectItem(first, "repro")->valuestring,
                      "powercut repro 'pc1/sofadb/mixed:ops=12/7/strict/crash@fsync(*.log)#1'");
  cJSON_Delete(o);
  rpt_set_free(s);
}

static void states_per_s_comes_from_meta(void **st) {
  (void)st;
  rpt_set *s;
  rpt_case c;
  assert_int_equal(rpt_set_create(&s), 0);
  fx_case(&c, "pc1/a/w/1/strict/x", "crash", "strict", "PASS", 5);
  assert_int_equal(rpt_set_add(s, &c), 0);
  rpt_meta m1 = {.shard = "1/2", .elapsed_s = 10, .cases = 1000, .states_per_s = 100, .jobs = 2};
  rpt_meta m2 = {.shard = "2/2", .elapsed_s = 30, .cases = 3000, .states_per_s = 100, .jobs = 2};
  assert_int_equal(rpt_set_add_meta(s, &m1), 0);
  cJSON *o = summary_of(s);
  assert_int_equal(num(o, "states_per_s"), 100);
  cJSON_Delete(o);
  assert_int_equal(rpt_set_add_meta(s, &m2), 0);
  o = summary_of(s);
  assert_int_equal(num(o, "states_per_s"), 100);            /* 4000 / 40 s */
  assert_int_equal(num(o, "aggregate_states_per_s"), 200);  /* shards side by side */
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "shards")), 2);
  cJSON_Delete(o);
  rpt_set_free(s);
}

static void terminal_summary_lists_failures_with_repro(void **st) {
  (void)st;
  rpt_set *s = fx_campaign();
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  rpt_print_summary(s, f);
  fclose(f);
  assert_non_null(strstr(buf, "10 cases"));
  assert_non_null(strstr(buf, "6 passed, 4 failed (3 violations, 1 harness errors)"));
  assert_non_null(strstr(buf, "1000 crash states/s"));
  assert_non_null(strstr(buf, "LOST_ACKED 1"));
  assert_non_null(strstr(buf, "p50 500 us"));
  assert_non_null(strstr(buf, NASTY_ID));
  assert_non_null(strstr(buf, "acked put of key lost after power cut"));
  assert_non_null(strstr(buf, "repro: powercut repro 'pc1/sofadb/mixed:ops=12/7/strict/crash@fsync(*.log)#1'"));
  assert_int_equal(fx_count(buf, "repro: "), FX_NONPASS);
  free(buf);
  rpt_set_free(s);
}

static void terminal_summary_neutralizes_escape_sequences(void **st) {
  (void)st;
  rpt_set *s;
  rpt_case c;
  char *buf = NULL;
  size_t n = 0;
  assert_int_equal(rpt_set_create(&s), 0);
  fx_case(&c, "pc1/a/w/1/strict/x", "crash", "strict", "PHANTOM", 1);
  c.explanation = "value \x1b[2J cleared your screen";
  assert_int_equal(rpt_set_add(s, &c), 0);
  FILE *f = open_memstream(&buf, &n);
  rpt_print_summary(s, f);
  fclose(f);
  assert_null(strchr(buf, '\x1b'));
  assert_non_null(strstr(buf, "value \\x1b[2J cleared"));
  free(buf);
  rpt_set_free(s);
}

static void repro_command_quotes_single_quotes(void **st) {
  (void)st;
  char *cmd;
  assert_int_equal(rpt_repro_command("pc1/a/it's/#1", &cmd), 0);
  assert_string_equal(cmd, "powercut repro 'pc1/a/it'\\''s/#1'");
  free(cmd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(percentile_is_nearest_rank),
      cmocka_unit_test(summary_counts_verdicts_per_fault_kind_and_model),
      cmocka_unit_test(summary_recovery_percentiles_skip_unmeasured),
      cmocka_unit_test(coverage_groups_numbered_paths_by_class),
      cmocka_unit_test(states_per_s_comes_from_meta),
      cmocka_unit_test(terminal_summary_lists_failures_with_repro),
      cmocka_unit_test(terminal_summary_neutralizes_escape_sequences),
      cmocka_unit_test(repro_command_quotes_single_quotes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
