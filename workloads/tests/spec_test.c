/*
 * spec_test.c — workload specs: defaults of every named workload, overrides, canonical form,
 * and clear errors for unknown names, unknown keys and bad values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "workloads.h"

static void every_named_workload_parses_and_formats_to_its_name(void **st) {
  for (int i = 0; wl_workload_names[i]; i++) {
    wl_params p;
    char buf[256], err[256];
    assert_int_equal(wl_spec_parse(wl_workload_names[i], &p, err, sizeof(err)), 0);
    assert_string_equal(p.name, wl_workload_names[i]);
    assert_true(p.ops > 0 && p.keys > 0);
    assert_true(wl_spec_format(&p, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, wl_workload_names[i]);
  }
}

static void overrides_are_applied_and_printed_in_canonical_order(void **st) {
  wl_params p, q;
  char buf[256], buf2[256];
  assert_int_equal(wl_spec_parse("churn:value_size=100,ops=500,sync=0.25,dist=zipf", &p, NULL, 0), 0);
  assert_int_equal(p.ops, 500);
  assert_int_equal(p.value_min, 100);
  assert_int_equal(p.value_max, 100);
  assert_int_equal(p.sync, 250000);
  assert_int_equal(p.dist, WL_DIST_ZIPF);
  assert_string_equal(p.target_opts, "memtable_bytes=4096");
  assert_true(wl_spec_format(&p, buf, sizeof(buf)) > 0);
  assert_string_equal(buf, "churn:ops=500,dist=zipf,value_size=100,sync=0.25");
  assert_int_equal(wl_spec_parse(buf, &q, NULL, 0), 0);
  assert_true(wl_spec_format(&q, buf2, sizeof(buf2)) > 0);
  assert_string_equal(buf, buf2);
  assert_int_equal(memcmp(&p, &q, sizeof(p)), 0);

  assert_int_equal(wl_spec_parse("mixed:value_size=0..4194304,sync=1,del=0.000001,batch=3", &p, NULL, 0), 0);
  assert_int_equal(p.value_min, 0);
  assert_int_equal(p.value_max, 4194304);
  assert_int_equal(p.sync, WL_PPM);
  assert_int_equal(p.del, 1);
  assert_true(wl_spec_format(&p, buf, sizeof(buf)) > 0);
  assert_string_equal(buf, "mixed:value_size=0..4194304,sync=1,batch=3,del=0.000001");

  /* close: a probability, printed after reopen */
  assert_int_equal(wl_spec_parse("fill:get=0.1,close=0.02,reopen=0.01", &p, NULL, 0), 0);
  assert_int_equal(p.close, 20000);
  assert_true(wl_spec_format(&p, buf, sizeof(buf)) > 0);
  assert_string_equal(buf, "fill:reopen=0.01,close=0.02,get=0.1");
}

static void bad_specs_are_rejected_with_a_reason(void **st) {
  static const struct {
    const char *spec, *needle;
  } bad[] = {
      {"nosuch", "unknown workload 'nosuch'"},
      {"", "missing"},
      {"mixed:opz=3", "unknown parameter 'opz'"},
      {"mixed:ops", "no '=value'"},
      {"mixed:ops=-1", "bad value '-1' for ops"},
      {"mixed:ops=12x", "bad value '12x' for ops"},
      {"mixed:keys=0", "bad value '0' for keys"},
      {"mixed:dist=gauss", "seq, uniform or zipf"},
      {"mixed:sync=1.5", "bad value '1.5' for sync"},
      {"mixed:sync=0.1234567", "at most 6 decimals"},
      {"mixed:value_size=10..5", "bad value '10..5' for value_size"},
      {"mixed:batch_ratio=0.6,get=0.5", "more than 1"},
      {"fill:close=0.6,reopen=0.5", "batch_ratio+delrange+flush+reopen+close+get"},
      {"fill:close=2", "bad value '2' for close"},
      {"mixed:ops=1,", "empty"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    wl_params p;
    char err[512];
    int rc = wl_spec_parse(bad[i].spec, &p, err, sizeof(err));
    if (rc == 0 || !strstr(err, bad[i].needle)) print_error("spec '%s': rc %d err '%s'\n", bad[i].spec, rc, err);
    assert_int_equal(rc, WL_ESPEC);
    assert_non_null(strstr(err, bad[i].needle));
  }
}

static void threads_default_to_one_and_print_last(void **st) {
  wl_params p;
  char err[256], buf[256];
  assert_int_equal(wl_spec_parse("mixed", &p, err, sizeof(err)), 0);
  assert_int_equal(p.threads, 1);
  assert_int_equal(wl_spec_parse("mixed:threads=4,ops=100", &p, err, sizeof(err)), 0);
  assert_int_equal(p.threads, 4);
  assert_true(wl_spec_format(&p, buf, sizeof(buf)) > 0);
  assert_string_equal(buf, "mixed:ops=100,threads=4");
  assert_int_equal(wl_spec_parse("mixed:threads=0", &p, err, sizeof(err)), WL_ESPEC);
  assert_non_null(strstr(err, "expected an integer in 1..64"));
  assert_int_equal(wl_spec_parse("bank:threads=2", &p, err, sizeof(err)), WL_ESPEC);
  assert_non_null(strstr(err, "bank takes threads>1 only with txn=1"));
  assert_int_equal(wl_spec_parse("bank:threads=1", &p, err, sizeof(err)), 0);
}

static void strerror_names_every_code(void **st) {
  assert_string_equal(wl_strerror(0), "ok");
  assert_string_equal(wl_strerror(WL_ECORRUPT), "op log corrupt");
  assert_string_equal(wl_strerror(WL_ESPEC), "bad workload spec");
  assert_string_equal(wl_strerror(-999), "unknown error");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_named_workload_parses_and_formats_to_its_name),
      cmocka_unit_test(overrides_are_applied_and_printed_in_canonical_order),
      cmocka_unit_test(bad_specs_are_rejected_with_a_reason),
      cmocka_unit_test(threads_default_to_one_and_print_last),
      cmocka_unit_test(strerror_names_every_code),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
