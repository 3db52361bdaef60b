/*
 * html_test.c - index.html and rpt_write_all: the failing cases are on the
 * page and escaped, the page loads nothing from outside (no http(s) URL in
 * any src or href, no script), its elements nest (python3's HTML parser via
 * check_html.py), and writing a merged set keeps every case.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

static char *html_of(const rpt_set *s) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  assert_int_equal(rpt_write_html(s, f), 0);
  fclose(f);
  return buf;
}

static void html_shows_failing_cases_escaped(void **st) {
  (void)st;
  rpt_set *s = fx_campaign();
  char *h = html_of(s);
  assert_non_null(strstr(h, "crash@fsync(*.log)#3;eio@write#2+ &amp; &lt;b&gt;'\"x"));
  assert_non_null(strstr(h, "k&lt;01&gt;&amp;\"quoted\" ]]&gt; &lt;/failure&gt;"));
  assert_null(strstr(h, "<b>'"));
  assert_null(strstr(h, "<01>"));
  assert_non_null(strstr(h, "acked put of key lost after power cut"));
  assert_non_null(strstr(h, "powercut repro 'pc1/sofadb/mixed:ops=12/7/strict/crash@fsync(*.log)#1'"));
  assert_non_null(strstr(h, "<a href=\"kept/case-1.tar.gz\">"));
  assert_non_null(strstr(h, "3 violations in 10 cases"));   /* ERROR is not one */
  assert_non_null(strstr(h, "+ 1 harness error"));
  /* one row per non-PASS case in the failures table */
  assert_int_equal(fx_count(h, "<tr><td><span class=\"badge\""), FX_NONPASS);
  for (const char *v = "LOST_ACKED"; v; v = NULL) assert_non_null(strstr(h, v));
  assert_non_null(strstr(h, "RECOVERY_HANG"));
  assert_non_null(strstr(h, "p50 500 µs"));
  /* key diffs and plans wrap at word boundaries, breaking a word only when it alone is
   * too wide (word-break:break-all cut "absent" into "abs|ent") */
  assert_non_null(strstr(h, ".diff dd{margin:0;overflow-wrap:anywhere}"));
  assert_null(strstr(h, ".diff dd{margin:0;word-break"));
  assert_null(strstr(h, "pre-wrap;word-break:break-all"));
  free(h);
  rpt_set_free(s);
}

static void html_loads_nothing_from_outside(void **st) {
  (void)st;
  rpt_set *s = fx_campaign();
  rpt_case c;
  fx_case(&c, "pc1/a/w/99/strict/x", "crash", "strict", "LOST_ACKED", 1);
  c.kept = "https://example.invalid/steal.tar.gz";
  assert_int_equal(rpt_set_add(s, &c), 0);
  fx_case(&c, "pc1/a/w/98/strict/x", "crash", "strict", "LOST_ACKED", 1);
  c.kept = "javascript:alert(1)";
  assert_int_equal(rpt_set_add(s, &c), 0);
  char *h = html_of(s);
  const char *attrs[] = {"src=\"", "href=\""};
  for (int a = 0; a < 2; a++)
    for (const char *p = h; (p = strstr(p, attrs[a])); p++) {
      p += strlen(attrs[a]);
      assert_true(strncmp(p, "http://", 7) && strncmp(p, "https://", 8) &&
                  strncmp(p, "//", 2) && strncmp(p, "javascript:", 11));
    }
  assert_null(strstr(h, "src=\"http"));
  assert_null(strstr(h, "href=\"http"));
  assert_null(strstr(h, "<script"));
  assert_null(strstr(h, "<link"));
  /* the unsafe kept paths are still shown, as text */
  assert_non_null(strstr(h, "kept: <code>javascript:alert(1)</code>"));
  free(h);
  rpt_set_free(s);
}

static void html_nests_and_is_self_contained_per_parser(void **st) {
  (void)st;
  if (!RPT_PYTHON3[0]) skip();
  rpt_set *s = fx_campaign();
  char *dir = fx_tmpdir(), err[256] = "";
  assert_int_equal(rpt_write_all(s, dir, err, sizeof err), 0);
  char *p = fx_path(dir, "index.html");
  const char *argv[] = {RPT_PYTHON3, RPT_TESTS_DIR "/check_html.py", p, NULL};
  assert_int_equal(fx_run(argv), 0);
  /* the checker can fail: an external image and an unclosed element */
  char *h = fx_read(p);
  FILE *f = fopen(p, "w");
  fprintf(f, "%s<img src=\"https://example.invalid/x.png\"><div>", h);
  fclose(f);
  assert_int_not_equal(fx_run(argv), 0);
  free(h);
  free(p);
  rpt_set_free(s);
  fx_rmrf(dir);
  free(dir);
}

static void html_all_pass_says_so(void **st) {
  (void)st;
  rpt_set *s;
  rpt_case c;
  assert_int_equal(rpt_set_create(&s), 0);
  fx_case(&c, "pc1/a/w/1/strict/crash@fsync#1", "crash", "strict", "PASS", 250);
  assert_int_equal(rpt_set_add(s, &c), 0);
  char *h = html_of(s);
  assert_non_null(strstr(h, "all 1 cases pass"));
  assert_non_null(strstr(h, "No violations"));
  assert_null(strstr(h, "<span class=\"badge\""));
  free(h);
  rpt_set_free(s);
}

static void html_only_errors_is_not_called_a_violation(void **st) {
  (void)st;
  rpt_set *s;
  rpt_case c;
  assert_int_equal(rpt_set_create(&s), 0);
  fx_case(&c, "pc1/a/w/1/strict/crash@fsync#1", "crash", "strict", "ERROR", -1);
  assert_int_equal(rpt_set_add(s, &c), 0);
  char *h = html_of(s);
  assert_non_null(strstr(h, "no violation; 1 case could not run"));
  assert_null(strstr(h, "violations in"));
  free(h);
  rpt_set_free(s);
}

static void html_of_empty_set_is_valid(void **st) {
  (void)st;
  rpt_set *s;
  assert_int_equal(rpt_set_create(&s), 0);
  char *h = html_of(s);
  assert_non_null(strstr(h, "No recovery was measured"));
  assert_non_null(strstr(h, "</html>"));
  free(h);
  rpt_set_free(s);
}

static void write_all_merges_shards_and_reload_keeps_every_case(void **st) {
  (void)st;
  char *d1 = fx_tmpdir(), *d2 = fx_tmpdir(), *out = fx_tmpdir(), err[512] = "";
  char *merged = fx_path(out, "merged");
  rpt_set *camp = fx_campaign();
  /* shard 1 gets cases 0..4, shard 2 cases 5..9 */
  for (int k = 0; k < 2; k++) {
    char *p = fx_path(k ? d2 : d1, "results.jsonl");
    FILE *f = fopen(p, "w");
    for (size_t i = (size_t)k * 5; i < (size_t)k * 5 + 5; i++) {
      char *line;
      assert_int_equal(rpt_case_to_json(rpt_set_case(camp, i), &line), 0);
      fprintf(f, "%s\n", line);
      free(line);
    }
    fclose(f);
    free(p);
    p = fx_path(k ? d2 : d1, "meta.json");
    fx_write(p, "{\"shard\":\"x/2\",\"elapsed_s\":1.0,\"cases\":5,\"states_per_s\":5.0,"
                "\"jobs\":2,\"argv\":\"powercut campaign\"}");
    free(p);
  }
  for (int k = 0; k < 2; k++) {   /* the tarballs the failures point at */
    char *kd = fx_path(k ? d2 : d1, "kept"), *kf = fx_path(kd, "case-1.tar.gz");
    assert_int_equal(mkdir(kd, 0777), 0);
    fx_write(kf, "tarball");
    free(kd); free(kf);
  }
  const char *paths[] = {d1, d2};
  rpt_set *s = NULL, *back = NULL;
  assert_int_equal(rpt_load(paths, 2, &s, err, sizeof err), 0);
  assert_int_equal(rpt_write_all(s, merged, err, sizeof err), 0);
  const char *names[] = {"results.jsonl", "meta.json", "summary.json", "junit.xml", "index.html"};
  for (int i = 0; i < 5; i++) {
    char *p = fx_path(merged, names[i]);
    assert_int_equal(access(p, R_OK), 0);
    free(p);
  }
  const char *again[] = {merged};
  assert_int_equal(rpt_load(again, 1, &back, err, sizeof err), 0);
  assert_int_equal(rpt_set_count(back), FX_CASES);
  /* kept paths were relative to each shard dir; in the merged dir they are
   * rewritten so they still point at the shard's tarball */
  for (size_t i = 0; i < FX_CASES; i++) {
    const rpt_case *c = rpt_set_case(back, i);
    if (!c->kept[0]) continue;
    assert_non_null(strstr(c->kept, "/kept/case-1.tar.gz"));
    char *p = fx_path(merged, c->kept);
    assert_int_equal(access(p, R_OK), 0);
    free(p);
    char *href;
    assert_true(asprintf(&href, "<a href=\"%s\">", c->kept) > 0);
    char *ip = fx_path(merged, "index.html"), *h = fx_read(ip);
    assert_non_null(strstr(h, href));
    free(h); free(ip); free(href);
  }
  for (size_t i = 0; i < FX_CASES; i++)
    assert_string_equal(rpt_set_case(back, i)->id, rpt_set_case(camp, i)->id);
  assert_int_equal(rpt_set_meta_count(back), 1);
  assert_true(rpt_set_meta(back, 0)->states_per_s == 10.0);
  /* one input written elsewhere: that dir gets its own results.jsonl and
   * the shard's meta.json as it was */
  char *single = fx_path(out, "single");
  const char *one[] = {d1};
  rpt_set *s1 = NULL, *s2 = NULL;
  assert_int_equal(rpt_load(one, 1, &s1, err, sizeof err), 0);
  assert_int_equal(rpt_write_all(s1, single, err, sizeof err), 0);
  const char *again1[] = {single};
  assert_int_equal(rpt_load(again1, 1, &s2, err, sizeof err), 0);
  assert_int_equal(rpt_set_count(s2), 5);
  assert_string_equal(rpt_set_meta(s2, 0)->shard, "x/2");
  assert_string_equal(rpt_set_meta(s2, 0)->argv, "powercut campaign");
  rpt_set_free(s2);
  /* one input written in place: results.jsonl and meta.json are untouched */
  char *rp = fx_path(d1, "results.jsonl"), *mp = fx_path(d1, "meta.json");
  char *r_before = fx_read(rp), *m_before = fx_read(mp);
  assert_int_equal(rpt_write_all(s1, d1, err, sizeof err), 0);
  char *r_after = fx_read(rp), *m_after = fx_read(mp);
  assert_string_equal(r_before, r_after);
  assert_string_equal(m_before, m_after);
  char *ip = fx_path(d1, "index.html"), *h = fx_read(ip);
  assert_non_null(strstr(h, "<a href=\"kept/case-1.tar.gz\">"));   /* not rebased */
  free(h); free(ip);
  free(r_before); free(r_after); free(m_before); free(m_after); free(rp); free(mp);
  free(single);
  rpt_set_free(s1);
  rpt_set_free(s);
  rpt_set_free(back);
  rpt_set_free(camp);
  free(merged);
  fx_rmrf(d1); fx_rmrf(d2); fx_rmrf(out);
  free(d1); free(d2); free(out);
}

static void write_all_reports_unwritable_dir(void **st) {
  (void)st;
  rpt_set *s = fx_campaign();
  char err[512] = "";
  char *dir = fx_tmpdir(), *file = fx_path(dir, "plainfile"), *sub;
  fx_write(file, "x");
  sub = fx_path(file, "out");
  assert_int_equal(rpt_write_all(s, sub, err, sizeof err), RPT_EIO);
  assert_non_null(strstr(err, "plainfile"));
  free(sub);
  free(file);
  fx_rmrf(dir);
  free(dir);
  rpt_set_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(html_shows_failing_cases_escaped),
      cmocka_unit_test(html_loads_nothing_from_outside),
      cmocka_unit_test(html_nests_and_is_self_contained_per_parser),
      cmocka_unit_test(html_all_pass_says_so),
      cmocka_unit_test(html_only_errors_is_not_called_a_violation),
      cmocka_unit_test(html_of_empty_set_is_valid),
      cmocka_unit_test(write_all_merges_shards_and_reload_keeps_every_case),
      cmocka_unit_test(write_all_reports_unwritable_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
