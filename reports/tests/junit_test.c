/*
 * junit_test.c - junit.xml: well-formed, the structure CI systems read
 * (checked by python3's XML parser through check_junit.py and, when xmllint
 * is on the machine, against our own junit.xsd), failures + errors equal the
 * non-PASS cases, and nasty ids and keys come back exactly after escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static char *write_junit(const rpt_set *s, const char *dir) {
  char err[256] = "";
  assert_int_equal(rpt_write_all(s, dir, err, sizeof err), 0);
  char *p = fx_path(dir, "junit.xml");
  return p;
}

static int check(const char *file, const char *tests, const char *failures,
                 const char *errors, const char *suites) {
  const char *argv[] = {RPT_PYTHON3, RPT_TESTS_DIR "/check_junit.py", file,
                        "--tests", tests, "--failures", failures,
                        "--errors", errors, "--suites", suites,
                        "--expect-name", NASTY_ID,
                        "--expect-body", "key:      " NASTY_KEY,
                        "--expect-body", "kept: kept/case-1.tar.gz", NULL};
  return fx_run(argv);
}

static void junit_counts_match_non_pass_cases(void **st) {
  (void)st;
  if (!RPT_PYTHON3[0]) skip();
  rpt_set *s = fx_campaign();
  char *dir = fx_tmpdir(), *p = write_junit(s, dir);
  /* 10 cases in 3 suites (crash, torn, eio); 4 non-PASS = 3 failures + 1 error */
  assert_int_equal(check(p, "10", "3", "1", "3"), 0);
  rpt_set_free(s);
  free(p);
  fx_rmrf(dir);
  free(dir);
}

static void junit_checker_rejects_wrong_counts_and_broken_xml(void **st) {
  (void)st;
  if (!RPT_PYTHON3[0]) skip();
  rpt_set *s = fx_campaign();
  char *dir = fx_tmpdir(), *p = write_junit(s, dir);
  assert_int_not_equal(check(p, "10", "4", "0", "3"), 0);
  /* a raw '<' in an attribute, as an unescaping writer would produce */
  char *text = fx_read(p);
  char *at = strstr(text, "&lt;b&gt;");
  assert_non_null(at);
  memcpy(at, "<b>      ", 9);
  fx_write(p, text);
  assert_int_not_equal(check(p, "10", "3", "1", "3"), 0);
  free(text);
  rpt_set_free(s);
  free(p);
  fx_rmrf(dir);
  free(dir);
}

static void junit_validates_against_schema(void **st) {
  (void)st;
  if (!RPT_XMLLINT[0]) skip();
  rpt_set *s = fx_campaign();
  char *dir = fx_tmpdir(), *p = write_junit(s, dir);
  const char *argv[] = {RPT_XMLLINT, "--noout", "--schema",
                        RPT_TESTS_DIR "/junit.xsd", p, NULL};
  assert_int_equal(fx_run(argv), 0);
  /* and the schema is strict enough to reject a testcase without a name */
  char *text = fx_read(p);
  char *at = strstr(text, "name=\"pc1/");
  assert_non_null(at);
  memcpy(at, "nome", 4);
  fx_write(p, text);
  assert_int_not_equal(fx_run(argv), 0);
  free(text);
  rpt_set_free(s);
  free(p);
  fx_rmrf(dir);
  free(dir);
}

static void junit_escapes_ids_keys_and_bad_bytes(void **st) {
  (void)st;
  rpt_set *s;
  rpt_case c;
  char *buf = NULL;
  size_t n = 0;
  assert_int_equal(rpt_set_create(&s), 0);
  fx_case(&c, NASTY_ID, "crash", "strict", "PHANTOM", 10);
  c.first_key = NASTY_KEY;
  c.found = "bad\x01\xff utf8 \xc3\xa9";
  assert_int_equal(rpt_set_add(s, &c), 0);
  FILE *f = open_memstream(&buf, &n);
  assert_int_equal(rpt_write_junit(s, f), 0);
  fclose(f);
  assert_non_null(strstr(buf, "name=\"pc1/sofadb/mixed:ops=200/7/strict/crash@fsync(*.log)"
                              "#3;eio@write#2+ &amp; &lt;b&gt;&#39;&quot;x\""));
  assert_non_null(strstr(buf, "k&lt;01&gt;&amp;\"quoted\" ]]&gt; &lt;/failure&gt;"));
  assert_null(strstr(buf, "<b>"));
  assert_non_null(strstr(buf, "bad\\x01\\xff utf8 \xc3\xa9"));
  assert_int_equal(fx_count(buf, "<failure "), 1);
  assert_non_null(strstr(buf, "message=\"PHANTOM: acked put of key lost after power cut\""));
  assert_non_null(strstr(buf, "classname=\"sofadb.mixed:ops=200\""));
  free(buf);
  rpt_set_free(s);
}

static void junit_all_pass_has_no_failures(void **st) {
  (void)st;
  rpt_set *s;
  rpt_case c;
  char *buf = NULL;
  size_t n = 0;
  assert_int_equal(rpt_set_create(&s), 0);
  fx_case(&c, "pc1/a/w/1/strict/crash@fsync#1", "crash", "strict", "PASS", 10);
  assert_int_equal(rpt_set_add(s, &c), 0);
  FILE *f = open_memstream(&buf, &n);
  assert_int_equal(rpt_write_junit(s, f), 0);
  fclose(f);
  assert_non_null(strstr(buf, "<testsuites name=\"powercut\" tests=\"1\" failures=\"0\" errors=\"0\""));
  assert_null(strstr(buf, "<failure"));
  assert_null(strstr(buf, "<error"));
  free(buf);
  rpt_set_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(junit_counts_match_non_pass_cases),
      cmocka_unit_test(junit_checker_rejects_wrong_counts_and_broken_xml),
      cmocka_unit_test(junit_validates_against_schema),
      cmocka_unit_test(junit_escapes_ids_keys_and_bad_bytes),
      cmocka_unit_test(junit_all_pass_has_no_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
