/* caseid_test.c - the one-line case id: parse/format round trips and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "harness_int.h"

static void RoundTripKeepsEveryField(void **state) {
  const char *id = "pc1/sofadb:memtable_bytes=4096/churn:ops=50,sync=0.5/18446744073709551615/ext4/torn@write(dir/*.log)#3:100;eio@fsync#2+";
  pc_case c;
  char err[256], buf[2200];
  assert_int_equal(pc_case_parse(id, &c, err, sizeof err), 0);
  assert_string_equal(c.target, "sofadb");
  assert_string_equal(c.target_opts, "memtable_bytes=4096");
  assert_string_equal(c.workload, "churn:ops=50,sync=0.5");
  assert_true(c.seed == UINT64_MAX);
  assert_string_equal(c.model, "ext4");
  assert_string_equal(c.plan, "torn@write(dir/*.log)#3:100;eio@fsync#2+");
  assert_int_equal(pc_case_format(&c, buf, sizeof buf), 0);
  assert_string_equal(buf, id);
}

static void TargetWithoutOptionsHasNoColon(void **state) {
  pc_case c;
  char err[256], buf[512];
  assert_int_equal(pc_case_parse("pc1/sofadb/mixed/7/strict/none", &c, err, sizeof err), 0);
  assert_string_equal(c.target_opts, "");
  assert_string_equal(c.workload, "mixed");
  assert_true(c.seed == 7);
  assert_string_equal(c.model, "strict");
  assert_string_equal(c.plan, "none");
  assert_int_equal(pc_case_format(&c, buf, sizeof buf), 0);
  assert_string_equal(buf, "pc1/sofadb/mixed/7/strict/none");
}

static void MalformedIdsAreRejectedWithAReason(void **state) {
  static const struct { const char *id, *why; } bad[] = {
    {"sofadb/mixed/7/strict/none", "pc1/"},
    {"pc1/sofadb/mixed/7/strict", "5 '/'-separated"},
    {"pc1/sofadb/mixed/7", "5 '/'-separated"},
    {"pc1//mixed/7/strict/none", "empty target"},
    {"pc1/sofadb/mixed/x7/strict/none", "not a decimal"},
    {"pc1/sofadb/mixed/-1/strict/none", "not a decimal"},
    {"pc1/sofadb/mixed/99999999999999999999/strict/none", "not a decimal"},
    {"pc1/sofadb/mixed/7/btrfs/none", "unknown model"},
    {"pc1/sofadb/mixed/7/strict/", "empty plan"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    pc_case c;
    char err[256] = "";
    assert_int_equal(pc_case_parse(bad[i].id, &c, err, sizeof err), PC_EINVAL);
    if (!strstr(err, bad[i].why)) fail_msg("id '%s': error '%s' lacks '%s'", bad[i].id, err, bad[i].why);
  }
}

static void RecoveryPlanSplitsAtTheFirstGtOutsideAGlob(void **state) {
  const char *id = "pc1/sofadb/mixed/3/strict/crash@write(a>b)#2>crash@rename#1";
  pc_case c;
  char err[256], buf[512];
  assert_int_equal(pc_case_parse(id, &c, err, sizeof err), 0);
  assert_string_equal(c.plan, "crash@write(a>b)#2");
  assert_string_equal(c.rplan, "crash@rename#1");
  assert_int_equal(pc_case_format(&c, buf, sizeof buf), 0);
  assert_string_equal(buf, id);
  pc_case_plan_str(&c, buf, sizeof buf);
  assert_string_equal(buf, "crash@write(a>b)#2>crash@rename#1");
  /* no '>': no recovery plan, and the id has none */
  assert_int_equal(pc_case_parse("pc1/sofadb/mixed/3/strict/none", &c, err, sizeof err), 0);
  assert_string_equal(c.rplan, "");
  assert_int_equal(pc_case_format(&c, buf, sizeof buf), 0);
  assert_string_equal(buf, "pc1/sofadb/mixed/3/strict/none");
  /* an empty part is an error naming it */
  assert_int_equal(pc_case_parse("pc1/sofadb/mixed/3/strict/none>", &c, err, sizeof err), PC_EINVAL);
  assert_non_null(strstr(err, "empty recovery plan"));
  assert_int_equal(pc_case_parse("pc1/sofadb/mixed/3/strict/>kill@open#1", &c, err, sizeof err), PC_EINVAL);
  assert_non_null(strstr(err, "empty plan"));
}

static void SlashesInOptionsAreEscapedAndRoundTrip(void **state) {
  pc_case c = {0}, d;
  char buf[2200], err[256];
  snprintf(c.target, sizeof c.target, "exec");
  snprintf(c.target_opts, sizeof c.target_opts, "cmd=python3 ./examples/kv.py 100%%");
  snprintf(c.workload, sizeof c.workload, "mixed");
  snprintf(c.model, sizeof c.model, "strict");
  snprintf(c.plan, sizeof c.plan, "crash@write(a/b*)#2");
  assert_int_equal(pc_case_format(&c, buf, sizeof buf), 0);
  assert_string_equal(buf, "pc1/exec:cmd=python3 .%2Fexamples%2Fkv.py 100%25/mixed/0/strict/crash@write(a/b*)#2");
  assert_int_equal(pc_case_parse(buf, &d, err, sizeof err), 0);
  assert_string_equal(d.target_opts, c.target_opts);
  assert_string_equal(d.plan, c.plan);
  assert_int_equal(pc_case_parse("pc1/exec:cmd=%41/mixed/0/strict/none", &d, err, sizeof err), PC_EINVAL);
}


int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(RoundTripKeepsEveryField),
    cmocka_unit_test(TargetWithoutOptionsHasNoColon),
    cmocka_unit_test(MalformedIdsAreRejectedWithAReason),
    cmocka_unit_test(SlashesInOptionsAreEscapedAndRoundTrip),
    cmocka_unit_test(RecoveryPlanSplitsAtTheFirstGtOutsideAGlob),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
