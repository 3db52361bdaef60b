/*
 * load_test.c - results.jsonl lines and loading: round trip of every field,
 * shards merged by concatenation, and the errors that must name where the
 * bad input is (duplicate ids across shards, malformed lines).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static char *line_of(const char *id, const char *verdict) {
  rpt_case c;
  char *line;
  fx_case(&c, id, "crash", "strict", verdict, 100);
  assert_int_equal(rpt_case_to_json(&c, &line), 0);
  return line;
}

/* Writes dir/results.jsonl from the given lines (and meta.json if given). */
static void write_shard(const char *dir, const char *const *lines, int n,
                        const char *meta) {
  char *p = fx_path(dir, "results.jsonl");
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  for (int i = 0; i < n; i++) fprintf(f, "%s\n", lines[i]);
  fclose(f);
  free(p);
  if (meta) {
    p = fx_path(dir, "meta.json");
    fx_write(p, meta);
    free(p);
  }
}

static void case_json_round_trips_every_field(void **st) {
  (void)st;
  rpt_case c, back;
  char *line, err[256];
  fx_case(&c, NASTY_ID, "torn", "reorder", "LOST_ACKED", 123456789012345);
  c.seed = 9007199254740991ull;          /* 2^53 - 1 */
  c.fire_index = -1;
  c.fired = 0;
  c.first_key = NASTY_KEY;
  c.expected = "line1\nline2\t\x01";
  c.found = "caf\xc3\xa9";
  c.ops_lost = 77;
  c.kept = "kept/x.tar.gz";
  assert_int_equal(rpt_case_to_json(&c, &line), 0);
  assert_null(strchr(line, '\n'));
  assert_int_equal(rpt_case_from_json(line, &back, err, sizeof err), 0);
  assert_string_equal(back.id, NASTY_ID);
  assert_string_equal(back.target, "sofadb");
  assert_string_equal(back.workload, "mixed:ops=200");
  assert_string_equal(back.model, "reorder");
  assert_string_equal(back.plan, c.plan);
  assert_true(back.seed == 9007199254740991ull);
  assert_string_equal(back.fault_kind, "torn");
  assert_string_equal(back.fault_op, "write");
  assert_int_equal(back.fired, 0);
  assert_int_equal(back.fire_index, -1);
  assert_string_equal(back.fire_path, "000003.sst");
  assert_string_equal(back.verdict, "LOST_ACKED");
  assert_string_equal(back.explanation, c.explanation);
  assert_string_equal(back.first_key, NASTY_KEY);
  assert_string_equal(back.expected, "line1\nline2\t\x01");
  assert_string_equal(back.found, "caf\xc3\xa9");
  assert_int_equal(back.ops_issued, 200);
  assert_int_equal(back.ops_acked, 190);
  assert_int_equal(back.ops_lost, 77);
  assert_true(back.recovery_us == 123456789012345);
  assert_int_equal(back.case_us, 1500);
  assert_string_equal(back.repro, "");
  assert_string_equal(back.minimized_id, "");
  assert_string_equal(back.kept, "kept/x.tar.gz");
  rpt_case_free(&back);
  free(line);
}

static void case_json_writes_null_strings_as_empty(void **st) {
  (void)st;
  rpt_case c, back;
  char *line, err[128];
  rpt_case_init(&c);
  c.id = "pc1/t/w/1/strict/none";
  c.verdict = "PASS";
  assert_int_equal(rpt_case_to_json(&c, &line), 0);
  assert_non_null(strstr(line, "\"kept\":\"\""));
  assert_int_equal(rpt_case_from_json(line, &back, err, sizeof err), 0);
  assert_string_equal(back.target, "");
  assert_int_equal(back.recovery_us, -1);
  rpt_case_free(&back);
  free(line);
}

static void load_merges_shards_by_concatenation(void **st) {
  (void)st;
  char *d1 = fx_tmpdir(), *d2 = fx_tmpdir(), err[512] = "";
  char *a = line_of("pc1/a/w/1/strict/crash@fsync#1", "PASS");
  char *b = line_of("pc1/a/w/2/strict/crash@fsync#2", "LOST_ACKED");
  char *c = line_of("pc1/a/w/3/strict/crash@fsync#3", "PASS");
  const char *s1[] = {a, b}, *s2[] = {c};
  write_shard(d1, s1, 2, "{\"shard\":\"1/2\",\"elapsed_s\":2.0,\"cases\":2,"
                         "\"states_per_s\":1.0,\"jobs\":2,\"argv\":\"x\"}");
  write_shard(d2, s2, 1, "{\"shard\":\"2/2\",\"elapsed_s\":1.0,\"cases\":1,"
                         "\"states_per_s\":1.0,\"jobs\":2,\"argv\":\"y\"}");
  const char *paths[] = {d2, d1};   /* argument order decides case order */
  rpt_set *s = NULL;
  assert_int_equal(rpt_load(paths, 2, &s, err, sizeof err), 0);
  assert_int_equal(rpt_set_count(s), 3);
  assert_string_equal(rpt_set_case(s, 0)->id, "pc1/a/w/3/strict/crash@fsync#3");
  assert_string_equal(rpt_set_case(s, 1)->id, "pc1/a/w/1/strict/crash@fsync#1");
  assert_string_equal(rpt_set_case(s, 2)->id, "pc1/a/w/2/strict/crash@fsync#2");
  assert_int_equal(rpt_set_failures(s), 1);
  assert_int_equal(rpt_set_meta_count(s), 2);
  assert_string_equal(rpt_set_meta(s, 0)->shard, "2/2");
  assert_string_equal(rpt_set_meta(s, 1)->argv, "x");
  rpt_set_free(s);
  free(a); free(b); free(c);
  fx_rmrf(d1); fx_rmrf(d2);
  free(d1); free(d2);
}

static void load_accepts_a_results_file_and_skips_blank_lines(void **st) {
  (void)st;
  char *d = fx_tmpdir(), err[256] = "";
  char *a = line_of("pc1/a/w/1/strict/x", "PASS");
  char *b = line_of("pc1/a/w/2/strict/x", "PASS");
  char *p = fx_path(d, "mine.jsonl"), *text;
  assert_true(asprintf(&text, "\n%s\n   \n%s\n\n", a, b) > 0);
  fx_write(p, text);
  const char *paths[] = {p};
  rpt_set *s = NULL;
  assert_int_equal(rpt_load(paths, 1, &s, err, sizeof err), 0);
  assert_int_equal(rpt_set_count(s), 2);
  assert_int_equal(rpt_set_meta_count(s), 0);
  rpt_set_free(s);
  free(text); free(p); free(a); free(b);
  fx_rmrf(d);
  free(d);
}

static void load_duplicate_id_across_shards_names_both_files(void **st) {
  (void)st;
  char *d1 = fx_tmpdir(), *d2 = fx_tmpdir(), err[1024] = "";
  char *a = line_of("pc1/a/w/1/strict/x", "PASS");
  char *b = line_of("pc1/a/w/2/strict/x", "PASS");
  const char *s1[] = {a, b}, *s2[] = {b};
  write_shard(d1, s1, 2, NULL);
  write_shard(d2, s2, 1, NULL);
  const char *paths[] = {d1, d2};
  rpt_set *s = (rpt_set *)1;
  assert_int_equal(rpt_load(paths, 2, &s, err, sizeof err), RPT_EDUPLICATE);
  assert_null(s);
  char *f1 = fx_path(d1, "results.jsonl:2"), *f2 = fx_path(d2, "results.jsonl:1");
  assert_non_null(strstr(err, f1));
  assert_non_null(strstr(err, f2));
  assert_non_null(strstr(err, "pc1/a/w/2/strict/x"));
  free(f1); free(f2); free(a); free(b);
  fx_rmrf(d1); fx_rmrf(d2);
  free(d1); free(d2);
}

static void load_malformed_line_names_file_and_line(void **st) {
  (void)st;
  char *d = fx_tmpdir(), err[512] = "";
  char *a = line_of("pc1/a/w/1/strict/x", "PASS");
  const char *lines[] = {a, "", "{\"id\":\"pc1/a/w/2\",\"verdict\":"};
  write_shard(d, lines, 3, NULL);
  const char *paths[] = {d};
  rpt_set *s = NULL;
  assert_int_equal(rpt_load(paths, 1, &s, err, sizeof err), RPT_EMALFORMED);
  assert_null(s);
  char *where = fx_path(d, "results.jsonl:3:");
  assert_non_null(strstr(err, where));
  free(where); free(a);
  fx_rmrf(d);
  free(d);
}

static void load_missing_field_names_the_field(void **st) {
  (void)st;
  char *d = fx_tmpdir(), err[512] = "";
  const char *lines[] = {"{\"id\":\"x\",\"target\":\"t\",\"workload\":\"w\","
                         "\"model\":\"strict\",\"plan\":\"p\",\"seed\":1,"
                         "\"fault_kind\":\"crash\"}"};
  write_shard(d, lines, 1, NULL);
  const char *paths[] = {d};
  rpt_set *s = NULL;
  assert_int_equal(rpt_load(paths, 1, &s, err, sizeof err), RPT_EMALFORMED);
  assert_non_null(strstr(err, "results.jsonl:1:"));
  assert_non_null(strstr(err, "\"verdict\""));
  fx_rmrf(d);
  free(d);
}

static void load_rejects_fractional_or_huge_integers(void **st) {
  (void)st;
  rpt_case c;
  char err[256] = "";
  const char *base = "{\"id\":\"x\",\"target\":\"t\",\"workload\":\"w\",\"model\":\"m\","
                     "\"plan\":\"p\",\"fault_kind\":\"crash\",\"verdict\":\"PASS\",";
  char line[512];
  snprintf(line, sizeof line, "%s\"seed\":1.5}", base);
  assert_int_equal(rpt_case_from_json(line, &c, err, sizeof err), RPT_EMALFORMED);
  assert_non_null(strstr(err, "seed"));
  snprintf(line, sizeof line, "%s\"seed\":18446744073709551615}", base);
  assert_int_equal(rpt_case_from_json(line, &c, err, sizeof err), RPT_EMALFORMED);
  snprintf(line, sizeof line, "%s\"seed\":3,\"fired\":1}", base);
  assert_int_equal(rpt_case_from_json(line, &c, err, sizeof err), RPT_EMALFORMED);
  assert_non_null(strstr(err, "fired"));
  snprintf(line, sizeof line, "%s\"seed\":3}", base);
  assert_int_equal(rpt_case_from_json(line, &c, err, sizeof err), 0);
  rpt_case_free(&c);
}

static void load_missing_path_and_bad_meta_are_errors(void **st) {
  (void)st;
  char *d = fx_tmpdir(), err[512] = "";
  char *missing = fx_path(d, "nope");
  const char *paths[] = {missing};
  rpt_set *s = NULL;
  assert_int_equal(rpt_load(paths, 1, &s, err, sizeof err), RPT_ENOENT);
  assert_non_null(strstr(err, missing));
  char *a = line_of("pc1/a/w/1/strict/x", "PASS");
  const char *lines[] = {a};
  write_shard(d, lines, 1, "{\"shard\": 3}");
  const char *dirs[] = {d};
  assert_int_equal(rpt_load(dirs, 1, &s, err, sizeof err), RPT_EMALFORMED);
  assert_non_null(strstr(err, "meta.json"));
  assert_int_equal(rpt_load(dirs, 0, &s, err, sizeof err), RPT_EINVAL);
  free(a); free(missing);
  fx_rmrf(d);
  free(d);
}

/* A case whose fault fired at SITE ("" = not fired). */
static char *line_at(const char *id, const char *site) {
  rpt_case c;
  char *line;
  fx_case(&c, id, "crash", "strict", "PASS", 100);
  c.fired = site[0] != 0;
  c.fire_site = (char *)site;
  assert_int_equal(rpt_case_to_json(&c, &line), 0);
  return line;
}

#define SITE_A "00000000000000aa"
#define SITE_B "00000000000000bb"
#define SITE_C "00000000000000cc"
#define SITE_(id, op, aimed) \
  "{\"site\":\"" id "\",\"workload\":\"w\",\"op\":\"" op "\",\"recovery\":false,\"aimed\":" aimed ",\"name\":\"f+0x1 (m+0x2)\"}"

static void crash_sites_count_the_union_of_shards_and_bad_sites_are_errors(void **st) {
  (void)st;
  char *d1 = fx_tmpdir(), *d2 = fx_tmpdir(), err[512] = "", *out = NULL;
  size_t outlen = 0;
  /* shard 1 crashed at A, shard 2 at A again and at D, which no dry run saw */
  char *a = line_at("pc1/a/w/1/strict/crash@write#1", SITE_A), *b = line_at("pc1/a/w/1/strict/crash@write#2", SITE_A);
  char *c = line_at("pc1/a/w/1/strict/crash@write#3", "00000000000000dd"), *e = line_at("pc1/a/w/1/strict/none", "");
  const char *s1[] = {a, e}, *s2[] = {b, c};
  write_shard(d1, s1, 2, "{\"shard\":\"1/2\",\"sites\":[" SITE_(SITE_A, "write", "true") "," SITE_(SITE_B, "fsync", "true") "]}");
  write_shard(d2, s2, 2, "{\"shard\":\"2/2\",\"sites\":[" SITE_(SITE_A, "write", "true") "," SITE_(SITE_B, "fsync", "true")
                         "," SITE_(SITE_C, "close", "false") "]}");
  const char *paths[] = {d1, d2};
  rpt_set *s = NULL;
  assert_int_equal(rpt_load(paths, 2, &s, err, sizeof err), 0);
  assert_int_equal(rpt_set_meta(s, 1)->nsites, 3);
  assert_string_equal(rpt_set_case(s, 0)->fire_site, SITE_A);
  FILE *f = open_memstream(&out, &outlen);
  rpt_print_summary(s, f);
  fclose(f);
  assert_non_null(strstr(out, "  crash sites: 3 seen in dry runs, 1 crashed at (33.3%); no chosen fault kind aims at 1 of "
                              "them; 1 more not seen in dry runs\n"));
  free(out);
  out = NULL;
  f = open_memstream(&out, &outlen);
  assert_int_equal(rpt_write_summary_json(s, f), 0);
  fclose(f);
  /* the never crashed: B and C, not A */
  assert_non_null(strstr(out, "\"site\":\t\"" SITE_B "\""));
  assert_non_null(strstr(out, "\"site\":\t\"" SITE_C "\""));
  assert_null(strstr(out, "\"site\":\t\"" SITE_A "\""));
  free(out);
  rpt_set_free(s);
  /* a site id that is not 16 hex digits: the file and the entry are named */
  write_shard(d2, s2, 2, "{\"shard\":\"2/2\",\"sites\":[" SITE_(SITE_A, "write", "true") "," SITE_("xyz", "write", "true") "]}");
  s = NULL;
  assert_int_equal(rpt_load(paths, 2, &s, err, sizeof err), RPT_EMALFORMED);
  assert_null(s);
  assert_non_null(strstr(err, "meta.json: malformed meta.json: sites[1] is not"));
  write_shard(d2, s2, 2, "{\"shard\":\"2/2\",\"sites\":{}}");
  assert_int_equal(rpt_load(paths, 2, &s, err, sizeof err), RPT_EMALFORMED);
  assert_non_null(strstr(err, "\"sites\" is not an array"));
  free(a); free(b); free(c); free(e);
  fx_rmrf(d1); fx_rmrf(d2);
  free(d1); free(d2);
}

static void set_add_rejects_duplicate_id(void **st) {
  (void)st;
  rpt_set *s;
  rpt_case c;
  assert_int_equal(rpt_set_create(&s), 0);
  fx_case(&c, "pc1/a/w/1/strict/x", "crash", "strict", "PASS", 1);
  assert_int_equal(rpt_set_add(s, &c), 0);
  assert_int_equal(rpt_set_add(s, &c), RPT_EDUPLICATE);
  /* many ids: the index grows and still finds each one */
  char id[64];
  for (int i = 0; i < 5000; i++) {
    snprintf(id, sizeof id, "pc1/a/w/%d/strict/x", i + 2);
    c.id = id;
    assert_int_equal(rpt_set_add(s, &c), 0);
  }
  snprintf(id, sizeof id, "pc1/a/w/%d/strict/x", 1234);
  assert_int_equal(rpt_set_add(s, &c), RPT_EDUPLICATE);
  assert_int_equal(rpt_set_count(s), 5001);
  rpt_set_free(s);
}

static void strerror_names_every_code(void **st) {
  (void)st;
  assert_string_equal(rpt_strerror(RPT_EDUPLICATE), "duplicate case id");
  assert_string_equal(rpt_strerror(0), "ok");
  assert_string_equal(rpt_strerror(-999), "unknown error");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(case_json_round_trips_every_field),
      cmocka_unit_test(case_json_writes_null_strings_as_empty),
      cmocka_unit_test(load_merges_shards_by_concatenation),
      cmocka_unit_test(load_accepts_a_results_file_and_skips_blank_lines),
      cmocka_unit_test(load_duplicate_id_across_shards_names_both_files),
      cmocka_unit_test(load_malformed_line_names_file_and_line),
      cmocka_unit_test(load_missing_field_names_the_field),
      cmocka_unit_test(load_rejects_fractional_or_huge_integers),
      cmocka_unit_test(load_missing_path_and_bad_meta_are_errors),
      cmocka_unit_test(crash_sites_count_the_union_of_shards_and_bad_sites_are_errors),
      cmocka_unit_test(set_add_rejects_duplicate_id),
      cmocka_unit_test(strerror_names_every_code),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
