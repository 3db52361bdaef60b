/*
 * groups_test.c - failing cases grouped by signature: many failures of two
 * bugs give two groups with the right counts and smallest cases, in
 * summary.json, on the page (charts above the table, one row per group) and
 * in the terminal summary; the key-diff shapes; the reproduction rate.
 */
#define _GNU_SOURCE
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

#define NA 30 /* LOST_ACKED, key absent, crash at a write of a numbered log */
#define NB 12 /* NOT_PREFIX, an older value, torn write of a numbered table */
#define NPASS 20

/* Bug A's smallest case: minimized to 4 ops (the others to 6..). Bug B's: not minimized,
 * 9 ops issued, tied on ops with another, the earlier fault point #2 (ids below). */
#define A_SMALLEST "pc1/sofadb/mixed:ops=60/0/ext4/crash@write#17"
#define A_SMALLEST_MIN "pc1/sofadb/mixed:ops=4/0/ext4/crash@write#3"
#define B_SMALLEST "pc1/sofadb/mixed:ops=9/5/reorder/torn@write#2:10"

static rpt_set *two_bugs(void) {
  rpt_set *s;
  char id[256], min[256], path[64], kept[64];
  if (rpt_set_create(&s)) abort();
  for (int i = 0; i < NA + NB + NPASS; i++) {
    rpt_case c;
    if (i < NA) {
      /* A: every one minimized; i == 17 to 4 ops, others to 6 + i%5 ops */
      snprintf(id, sizeof id, "pc1/sofadb/mixed:ops=60/0/%s/crash@write#%d", i % 2 ? "ext4" : "strict", i);
      snprintf(min, sizeof min, "pc1/sofadb/mixed:ops=%d/0/%s/crash@write#3", i == 17 ? 4 : 6 + i % 5,
               i % 2 ? "ext4" : "strict");
      fx_case(&c, id, i % 3 ? "crash" : "crash-after", i % 2 ? "ext4" : "strict", "LOST_ACKED", 100);
      c.fault_op = "write";
      snprintf(path, sizeof path, "%06d.log", 1 + i % 4); /* four log files, one class */
      c.fire_path = path;
      c.fire_index = 100 + i;
      c.first_key = "k000003";
      c.expected = "value of op 14 (durable)";
      c.found = "absent";
      c.minimized_id = min;
      snprintf(kept, sizeof kept, "artifacts/a%02d.tar.gz", i);
      c.kept = i < 5 ? kept : "";
    } else if (i < NA + NB) {
      /* B: not minimized; ops=9 for two of them, fault points #2 and #5 */
      int j = i - NA;
      int ops = j == 3 || j == 7 ? 9 : 20 + j;
      snprintf(id, sizeof id, "pc1/sofadb/mixed:ops=%d/5/reorder/torn@write#%d:10", ops, j == 7 ? 2 : j == 3 ? 5 : 1);
      fx_case(&c, id, "torn", "reorder", "NOT_PREFIX", 100);
      c.workload = j == 3 || j == 7 ? "mixed:ops=9" : "mixed:ops=20";
      c.ops_issued = ops;
      c.fault_op = "write";
      snprintf(path, sizeof path, "%06d.sst", 10 + j);
      c.fire_path = path;
      c.fire_index = 50;
      c.first_key = "k000009";
      c.expected = "value of op 7 (durable) | value of op 8 (in flight)";
      c.found = "value of op 3 (durable)";
      c.kept = "";
    } else {
      snprintf(id, sizeof id, "pc1/sofadb/mixed:ops=60/0/strict/crash@fsync#%d", i);
      fx_case(&c, id, "crash", "strict", "PASS", 100);
    }
    if (rpt_set_add(s, &c)) abort();
  }
  return s;
}

static char *gen(const rpt_set *s, int (*fn)(const rpt_set *, FILE *)) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  assert_int_equal(fn(s, f), 0);
  fclose(f);
  return buf;
}

static int summary_gen(const rpt_set *s, FILE *f) {
  rpt_print_summary(s, f);
  return 0;
}

static void two_bugs_make_two_groups_with_counts_and_smallest_cases(void **st) {
  (void)st;
  rpt_set *s = two_bugs();
  rpt_group *g;
  size_t n;
  assert_int_equal(rpt_set_groups(s, &g, &n), 0);
  assert_int_equal(n, 2);
  /* largest first */
  assert_int_equal(g[0].count, NA);
  assert_string_equal(g[0].signature, "LOST_ACKED | key absent | write *.log");
  assert_string_equal(g[0].key_shape, "absent");
  assert_string_equal(g[0].path_class, "*.log");
  assert_string_equal(rpt_set_case(s, g[0].smallest)->id, A_SMALLEST);
  assert_int_equal(g[0].nkept, 3);
  assert_int_equal(g[0].nkept_all, 5);
  assert_string_equal(rpt_set_case(s, g[0].kept[0])->kept, "artifacts/a00.tar.gz");
  assert_int_equal(g[1].count, NB);
  assert_string_equal(g[1].signature, "NOT_PREFIX | key older | write *.sst");
  assert_string_equal(rpt_set_case(s, g[1].smallest)->id, B_SMALLEST);
  assert_int_equal(g[1].nkept, 0);
  rpt_groups_free(g, n);
  rpt_set_free(s);
}

static void summary_json_lists_the_groups(void **st) {
  (void)st;
  rpt_set *s = two_bugs();
  char *text = gen(s, rpt_write_summary_json);
  cJSON *o = cJSON_Parse(text), *groups, *g0, *g1;
  assert_non_null(o);
  groups = cJSON_GetObjectItem(o, "groups");
  assert_int_equal(cJSON_GetArraySize(groups), 2);
  g0 = cJSON_GetArrayItem(groups, 0);
  g1 = cJSON_GetArrayItem(groups, 1);
  assert_int_equal(cJSON_GetObjectItem(g0, "count")->valueint, NA);
  assert_string_equal(cJSON_GetObjectItem(g0, "verdict")->valuestring, "LOST_ACKED");
  assert_string_equal(cJSON_GetObjectItem(g0, "key_diff")->valuestring, "absent");
  assert_string_equal(cJSON_GetObjectItem(g0, "syscall")->valuestring, "write");
  assert_string_equal(cJSON_GetObjectItem(g0, "path_class")->valuestring, "*.log");
  assert_string_equal(cJSON_GetObjectItem(g0, "repro")->valuestring, "powercut repro '" A_SMALLEST_MIN "'");
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(g0, "smallest"), "id")->valuestring, A_SMALLEST);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(g0, "kept")), 3);
  assert_int_equal(cJSON_GetObjectItem(g0, "kept_total")->valueint, 5);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(g0, "fault_kinds")), 2);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(g0, "models")), 2);
  assert_int_equal(cJSON_GetObjectItem(g0, "reruns")->valueint, 0);
  assert_int_equal(cJSON_GetObjectItem(g1, "count")->valueint, NB);
  assert_string_equal(cJSON_GetObjectItem(g1, "repro")->valuestring, "powercut repro '" B_SMALLEST "'");
  /* every failing case is still listed for older consumers */
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "failures")), NA + NB);
  cJSON_Delete(o);
  free(text);
  rpt_set_free(s);
}

static void page_has_charts_above_one_row_per_group(void **st) {
  (void)st;
  rpt_set *s = two_bugs();
  char *h = gen(s, rpt_write_html);
  const char *charts = strstr(h, "<section id=\"verdicts\">"), *table = strstr(h, "<section id=\"failures\">");
  assert_non_null(charts);
  assert_non_null(table);
  assert_true(charts < table);
  assert_int_equal(fx_count(h, "<tr><td><span class=\"badge\""), 2);
  assert_non_null(strstr(h, "42 failing cases in 2 groups"));
  assert_non_null(strstr(h, "LOST_ACKED | key absent | write *.log"));
  assert_non_null(strstr(h, "powercut repro '" A_SMALLEST_MIN "'"));
  assert_non_null(strstr(h, "<a href=\"artifacts/a02.tar.gz\">"));
  assert_null(strstr(h, "artifacts/a03.tar.gz"));   /* at most 3 per group on the page */
  assert_non_null(strstr(h, "(+2 more in summary.json)"));
  /* the page does not grow with the number of failing cases of one bug */
  assert_true(strlen(h) < 40000);
  free(h);
  rpt_set_free(s);
}

static void terminal_summary_prints_one_entry_per_group(void **st) {
  (void)st;
  rpt_set *s = two_bugs();
  char *t = gen(s, summary_gen);
  assert_non_null(strstr(t, "failures: 42 in 2 groups"));
  assert_non_null(strstr(t, "  30 x LOST_ACKED | key absent | write *.log\n    smallest: " A_SMALLEST "\n"));
  assert_non_null(strstr(t, "  12 x NOT_PREFIX | key older | write *.sst\n    smallest: " B_SMALLEST "\n"));
  assert_int_equal(fx_count(t, "repro: "), 2);
  assert_non_null(strstr(t, "kept: artifacts/a00.tar.gz (+4 more)"));
  free(t);
  rpt_set_free(s);
}

static void key_shapes_and_unfired_faults_split_groups(void **st) {
  (void)st;
  rpt_case c;
  char sig[256];
  fx_case(&c, "pc1/x/w/1/strict/crash@write#3", "crash", "strict", "LOST_ACKED", 1);
  c.first_key = "k1";
  c.expected = "value of op 9 (durable)";
  c.found = "absent";
  assert_string_equal(rpt_key_shape(&c), "absent");
  c.found = "absent (delete op 4, durable)";
  assert_string_equal(rpt_key_shape(&c), "absent");
  c.found = "value of op 3 (durable)";
  assert_string_equal(rpt_key_shape(&c), "older");
  c.found = "value of op 12 (in flight)";
  assert_string_equal(rpt_key_shape(&c), "newer");
  c.expected = "absent (never written before)";
  assert_string_equal(rpt_key_shape(&c), "newer");
  c.found = "damaged value claiming op 3 (10 B, header says 12 B)";
  assert_string_equal(rpt_key_shape(&c), "garbage");
  c.found = "7 bytes \"\\x00\\x01\"";
  assert_string_equal(rpt_key_shape(&c), "garbage");
  c.expected = "one entry per key";
  c.found = "the key twice in the scan";
  assert_string_equal(rpt_key_shape(&c), "duplicate");
  c.first_key = c.expected = c.found = "";
  c.verdict = "RECOVERY_FAILED";
  assert_string_equal(rpt_key_shape(&c), "");
  c.fire_path = "MANIFEST-000012";
  c.fault_op = "rename";
  rpt_case_signature(&c, sig, sizeof sig);
  assert_string_equal(sig, "RECOVERY_FAILED | rename MANIFEST-*");
  /* the verdict came from the end-of-run power cut: not the group of a fired fault */
  c.fired = 0;
  rpt_case_signature(&c, sig, sizeof sig);
  assert_string_equal(sig, "RECOVERY_FAILED | fault not fired");
  c.fault_kind = "none";
  rpt_case_signature(&c, sig, sizeof sig);
  assert_string_equal(sig, "RECOVERY_FAILED | no fault");
}

static void reproduction_rate_is_shown_and_round_trips(void **st) {
  (void)st;
  rpt_set *s = two_bugs(), *back;
  rpt_group *g;
  size_t n;
  char *dir = fx_tmpdir(), err[256];
  assert_int_equal(rpt_set_groups(s, &g, &n), 0);
  assert_int_equal(rpt_set_set_rerun(s, g[0].smallest, 5, 4), 0);
  assert_int_equal(rpt_set_set_rerun(s, g[1].smallest, 5, 5), 0);
  assert_int_equal(rpt_set_set_rerun(s, g[1].smallest, 5, 6), RPT_EINVAL);
  char *t = gen(s, summary_gen), *h = gen(s, rpt_write_html);
  assert_non_null(strstr(t, "    reproduced 4/5 (flaky)\n"));
  assert_non_null(strstr(t, "    reproduced 5/5\n"));
  assert_non_null(strstr(h, "reproduced 4/5 (flaky)"));
  /* results.jsonl keeps it */
  char *p = fx_path(dir, "results.jsonl");
  FILE *f = fopen(p, "w");
  assert_int_equal(rpt_write_jsonl(s, f), 0);
  fclose(f);
  const char *paths[1] = {p};
  assert_int_equal(rpt_load(paths, 1, &back, err, sizeof err), 0);
  assert_int_equal(rpt_set_case(back, g[0].smallest)->reruns, 5);
  assert_int_equal(rpt_set_case(back, g[0].smallest)->reproduced, 4);
  rpt_set_free(back);
  /* more reproduced than runs is a malformed line */
  rpt_case c;
  assert_int_equal(rpt_case_from_json("{\"id\":\"a\",\"target\":\"t\",\"workload\":\"w\",\"model\":\"m\","
                                      "\"plan\":\"p\",\"seed\":1,\"fault_kind\":\"crash\",\"verdict\":\"PHANTOM\","
                                      "\"reruns\":2,\"reproduced\":3}", &c, err, sizeof err),
                   RPT_EMALFORMED);
  assert_string_equal(err, "field \"reproduced\" (3) is above \"reruns\" (2)");
  free(t);
  free(h);
  free(p);
  fx_rmrf(dir);
  free(dir);
  rpt_groups_free(g, n);
  rpt_set_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(two_bugs_make_two_groups_with_counts_and_smallest_cases),
      cmocka_unit_test(summary_json_lists_the_groups),
      cmocka_unit_test(page_has_charts_above_one_row_per_group),
      cmocka_unit_test(terminal_summary_prints_one_entry_per_group),
      cmocka_unit_test(key_shapes_and_unfired_faults_split_groups),
      cmocka_unit_test(reproduction_rate_is_shown_and_round_trips),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
