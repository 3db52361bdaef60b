/* errors_test.c - error codes across module boundaries: every module's table has
 * its own range, pc_strerror names any code with its own table's message, the
 * sofadb adapter hands powercut codes on (keeping the engine's message), and the
 * driver neither takes a generator error for a completed workload nor drops
 * delete-range ops. Built with -Wl,--wrap=wl_gen_next to make the generator fail. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness_int.h"
#include "sofadb.h"
#include "targets/targets.h"

/* ---- a generator that fails after fail_after ops (0: never) ---- */
static uint64_t fail_after;
int __real_wl_gen_next(wl_gen *g, wl_op *op);
int __wrap_wl_gen_next(wl_gen *g, wl_op *op);
int __wrap_wl_gen_next(wl_gen *g, wl_op *op) {
  static uint64_t calls;
  if (fail_after && ++calls > fail_after) return WL_ENOMEM;
  return __real_wl_gen_next(g, op);
}

/* ---- an in-memory target that counts what it is asked ---- */
static unsigned nput, ndel, nbatch, ndelrange;
static int m_open(const char *d, const char *o, const char *w, void **h, char *m, size_t l) {
  (void)d, (void)o, (void)w, (void)m, (void)l;
  *h = &nput;
  return 0;
}
static int m_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int s) {
  (void)h, (void)k, (void)kl, (void)v, (void)vl, (void)s;
  nput++;
  return 0;
}
static int m_del(void *h, const void *k, size_t kl, int s) {
  (void)h, (void)k, (void)kl, (void)s;
  ndel++;
  return 0;
}
static int m_batch(void *h, const pc_kv_op *ops, size_t n, int s) {
  (void)h, (void)ops, (void)n, (void)s;
  nbatch++;
  return 0;
}
static int m_delrange(void *h, const void *b, size_t bl, const void *e, size_t el, int s) {
  (void)h, (void)s;
  assert_true(bl > 0 && el > 0);
  assert_true(memcmp(b, e, bl < el ? bl : el) < 0 || (memcmp(b, e, bl < el ? bl : el) == 0 && bl < el));
  ndelrange++;
  return 0;
}
static int m_get(void *h, const void *k, size_t kl, void **v, size_t *vl) {
  (void)h, (void)k, (void)kl, (void)v, (void)vl;
  return 0;
}
static int m_ok(void *h) {
  (void)h;
  return 0;
}
static const pc_target mem_target = {
  .abi = PC_TARGET_ABI,
  .name = "mem",
  .open = m_open,
  .put = m_put,
  .del = m_del,
  .batch = m_batch,
  .delrange = m_delrange,
  .get = m_get,
  .sync = m_ok,
  .flush = m_ok,
  .close = m_ok,
};

static char tmp[256];

static int drive(const char *spec, unsigned caps, char *msg, size_t len) {
  wl_params wp;
  wl_oplog_writer *log;
  char err[256], path[300];
  int rc;
  assert_int_equal(wl_spec_parse(spec, &wp, err, sizeof err), 0);
  wp.caps = caps;
  snprintf(path, sizeof path, "%s/oplog", tmp);
  assert_int_equal(wl_oplog_open_writer(path, "t", &log, err, sizeof err), 0);
  nput = ndel = nbatch = ndelrange = 0;
  msg[0] = '\0';
  rc = pc_drive(&mem_target, tmp, "", &wp, 7, log, UINT64_MAX, msg, len);
  wl_oplog_close(log);
  return rc;
}

static int setup(void **st) {
  (void)st;
  snprintf(tmp, sizeof tmp, "/tmp/pc_errors_test.%d", (int)getpid());
  return rpt_mkdir_p(tmp);
}
static int teardown(void **st) {
  (void)st;
  fail_after = 0;
  return ffs_rm_rf(tmp);
}

/* ---- the tables ---- */
typedef struct code { int v; const char *msg; int table; } code;
static code all[128];
static size_t nall;
static void add(int v, const char *msg, int table) {
  if (v) all[nall++] = (code){v, msg, table};
}

static void collect(void) {
  nall = 0;
#define X_(n, v, m) add(v, m, PC_TABLE_SOFADB);
  SDB_ERRNO_MAP(X_)
#undef X_
#define X_(n, v, m) add(v, m, PC_TABLE_FAULTFS);
  FFS_ERRNO_MAP(X_)
#undef X_
#define X_(n, v, m) add(v, m, PC_TABLE_WORKLOADS);
  WL_ERRNO_MAP(X_)
#undef X_
#define X_(n, v, m) add(v, m, PC_TABLE_ORACLE);
  ORC_ERRNO_MAP(X_)
#undef X_
#define X_(n, v, m) add(v, m, PC_TABLE_REPORTS);
  RPT_ERRNO_MAP(X_)
#undef X_
#define X_(n, v, m) add(v, m, PC_TABLE_HARNESS);
  PC_ERRNO_MAP(X_)
#undef X_
}

static void NoTwoTablesShareACode(void **st) {
  (void)st;
  collect();
  assert_true(nall >= 49);
  for (size_t i = 0; i < nall; i++)
    for (size_t j = i + 1; j < nall; j++)
      if (all[i].v == all[j].v) fail_msg("code %d is in two tables (%s / %s)", all[i].v, all[i].msg, all[j].msg);
  assert_true((int)PC_EGONE != (int)SDB_ENOENT);
  assert_true((int)PC_EGONE != (int)SDB_ENOTFOUND && (int)PC_EGONE != (int)FFS_ENOSHIM);
}

static void EveryCodeIsInItsTablesRangeAndNamedByPcStrerror(void **st) {
  (void)st;
  collect();
  for (size_t i = 0; i < nall; i++) {
    assert_int_equal(pc_err_table_of(all[i].v), all[i].table);
    assert_string_equal(pc_strerror(all[i].v), all[i].msg);
  }
  assert_string_equal(pc_err_table_name(pc_err_table_of(SDB_EIO)), "sofadb");
  assert_string_equal(pc_err_table_name(pc_err_table_of(PC_EGONE)), "powercut");
  /* codes above -1000 are negated errno values (harness/util.c returns them) */
  assert_int_equal(pc_err_table_of(-ENOENT), PC_TABLE_ERRNO);
  assert_string_equal(pc_strerror(-ENOENT), strerror(ENOENT));
  assert_non_null(strstr(pc_strerror(-6999), "unknown error -6999 (powercut)"));
  assert_int_equal(pc_err_table_of(-7000), PC_TABLE_NONE);
  assert_int_equal(pc_err_table_of(1), PC_TABLE_NONE);
}

static void StrerrorOfAnEngineIoErrorIsNotOutOfMemory(void **st) {
  (void)st;
  assert_string_equal(pc_strerror(SDB_EIO), "I/O error");
  assert_string_equal(pc_strerror(SDB_ENOENT), "database does not exist");
  assert_string_equal(pc_strerror(FFS_ENOSHIM), "shim not loaded");
  assert_string_equal(pc_strerror(PC_EGONE), "target process is gone");
}

/* The sofadb adapter's codes are powercut's (never an engine code that means
 * something else here, as SDB_ENOENT meant PC_EGONE), and msg / errmsg keep
 * the engine's own words. */
static void SofadbAdapterReturnsPowercutCodesAndKeepsTheEngineMessage(void **st) {
  (void)st;
  char msg[512], dir[300];
  void *h = NULL;
  snprintf(dir, sizeof dir, "%s/nodb", tmp);
  assert_int_equal(rpt_mkdir_p(dir), 0);
  int rc = pc_target_sofadb.open(dir, "create_if_missing=0", "", &h, msg, sizeof msg);
  assert_int_equal(rc, PC_ETARGET);
  assert_int_not_equal(rc, PC_EGONE);
  assert_int_equal(pc_err_table_of(rc), PC_TABLE_HARNESS);
  assert_non_null(strstr(msg, "database does not exist"));
  assert_null(h);
  /* an open database: a put into a closed-for-writes (read-only) db */
  assert_int_equal(pc_target_sofadb.open(dir, "", "", &h, msg, sizeof msg), 0);
  assert_int_equal(pc_target_sofadb.put(h, "k", 1, "v", 1, 1), 0);
  assert_int_equal(pc_target_sofadb.delrange(h, "a", 1, "z", 1, 1), 0);
  void *v = NULL;
  size_t vl = 0;
  assert_int_equal(pc_target_sofadb.get(h, "k", 1, &v, &vl), 0); /* deleted by the range */
  assert_int_equal(pc_target_sofadb.close(h), 0);
  assert_int_equal(pc_target_sofadb.open(dir, "read_only=1", "", &h, msg, sizeof msg), 0);
  rc = pc_target_sofadb.put(h, "k", 1, "v", 1, 1);
  assert_int_equal(pc_err_table_of(rc), PC_TABLE_HARNESS);
  assert_non_null(pc_target_sofadb.errmsg(h));
  assert_int_equal(pc_target_sofadb.close(h), 0);
}

static void GeneratorErrorIsNotACompletedWorkload(void **st) {
  (void)st;
  char msg[512];
  fail_after = 3;
  int rc = drive("fill:ops=10", 0, msg, sizeof msg);
  assert_int_equal(rc, WL_ENOMEM);
  assert_non_null(strstr(msg, "workload generator failed after op 3: out of memory"));
  assert_int_equal(nput, 3);
  fail_after = 0;
  assert_int_equal(drive("fill:ops=10", 0, msg, sizeof msg), 0);
  assert_int_equal(nput, 10);
}

static void DelrangeOpsReachATargetThatHasDelrange(void **st) {
  (void)st;
  char msg[512];
  assert_int_equal(drive("mixed:ops=500,delrange=0.2", WL_CAP_DELRANGE, msg, sizeof msg), 0);
  assert_true(ndelrange > 50);
  assert_int_equal(drive("mixed:ops=500,delrange=0.2", 0, msg, sizeof msg), 0);
  assert_int_equal(ndelrange, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(NoTwoTablesShareACode),
    cmocka_unit_test(EveryCodeIsInItsTablesRangeAndNamedByPcStrerror),
    cmocka_unit_test(StrerrorOfAnEngineIoErrorIsNotOutOfMemory),
    cmocka_unit_test_setup_teardown(SofadbAdapterReturnsPowercutCodesAndKeepsTheEngineMessage, setup, teardown),
    cmocka_unit_test_setup_teardown(GeneratorErrorIsNotACompletedWorkload, setup, teardown),
    cmocka_unit_test_setup_teardown(DelrangeOpsReachATargetThatHasDelrange, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
