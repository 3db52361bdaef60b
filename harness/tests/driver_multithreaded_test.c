/*
 * driver_multithreaded_test.c - the concurrent driver (a workload with threads=N): its ops
 * overlap in real time and the op log orders them; the state it leaves passes the oracle;
 * sofadb's group commit forms groups with followers when N threads write with sync; targets
 * that are not thread-safe, and exec targets, are refused with a message naming them.
 * Registered for the TSan stage (its name holds "multithreaded").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness_int.h"
#include "sofadb.h"

static char root[256];

static int setup(void **st) {
  (void)st;
  snprintf(root, sizeof root, "/tmp/pc_driver_mt.%d", (int)getpid());
  ffs_rm_rf(root);
  return rpt_mkdir_p(root);
}
static int teardown(void **st) {
  (void)st;
  ffs_rm_rf(root);
  return 0;
}

static int collect(void *arg, const void *k, size_t kl, const void *v, size_t vl) {
  void **a = arg;
  orc_kv **kvs = a[0];
  size_t *n = a[1];
  *kvs = realloc(*kvs, (*n + 1) * sizeof **kvs);
  uint8_t *kc = malloc(kl + 1), *vc = malloc(vl + 1);
  memcpy(kc, k, kl);
  if (vl) memcpy(vc, v, vl);
  (*kvs)[(*n)++] = (orc_kv){kc, kl, vc, vl};
  return 0;
}

/* Drive `spec` with target `topts` in a child (it exits without closing, as the real driver
 * does), then check the log and the state it left. */
static void drive_and_check(const char *topts, const char *spec) {
  const pc_target *t = pc_target_find("sofadb");
  char dir[300], logp[300], msg[512];
  wl_params wp;
  wl_log *log;
  int status;
  snprintf(dir, sizeof dir, "%s/data", root);
  snprintf(logp, sizeof logp, "%s/oplog", root);
  ffs_rm_rf(dir);
  assert_int_equal(rpt_mkdir_p(dir), 0);
  assert_int_equal(wl_spec_parse(spec, &wp, msg, sizeof msg), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    wl_oplog_writer *w;
    if (wl_oplog_open_writer(logp, spec, &w, msg, sizeof msg)) _exit(3);
    int rc = pc_drive(t, dir, topts, &wp, 7, w, UINT64_MAX, msg, sizeof msg);
    wl_oplog_close(w);
    if (rc) fprintf(stderr, "pc_drive: %s\n", msg);
    _exit(rc ? 1 : 0);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(wl_oplog_read(logp, &log, msg, sizeof msg), 0);
  assert_int_equal(log->n, wp.ops);
  unsigned seen = 0;
  uint64_t overlaps = 0;
  for (size_t i = 0; i < log->n; i++) {
    const wl_logop *lo = &log->ops[i];
    assert_int_equal(lo->outcome, WL_OUT_ACKED);
    assert_true(lo->thread < wp.threads);
    assert_true(lo->ack_seq > lo->inv_seq);
    if (i) assert_true(lo->inv_seq > log->ops[i - 1].inv_seq);
    if (i + 1 < log->n && lo->ack_seq > log->ops[i + 1].inv_seq) overlaps++;
    seen |= 1u << lo->thread;
  }
  print_message("%s %s: %zu ops, %llu overlap the next one\n", topts, spec, log->n,
                (unsigned long long)overlaps);
  assert_int_equal(seen, (1u << wp.threads) - 1); /* every thread issued ops */
  assert_true(overlaps > 0);
  assert_int_equal(wl_log_concurrent(log), 1);
  /* the state: the handle was never closed, the page cache holds everything acked */
  void *h;
  orc_kv *kvs = NULL;
  size_t nkv = 0;
  void *arg[2] = {&kvs, &nkv};
  assert_int_equal(t->open(dir, topts, wp.target_opts, &h, msg, sizeof msg), 0);
  assert_int_equal(t->scan(h, collect, arg), 0);
  orc_input in = {log, t->contract_for(topts), ORC_CRASH_KILL, kvs, nkv, NULL, NULL, NULL, 0};
  orc_result r;
  assert_int_equal(orc_check(&in, &r), 0);
  if (r.verdict != ORC_PASS) fprintf(stderr, "%s: %s %s\n", orc_verdict_name(r.verdict), r.first_key, r.explanation);
  assert_int_equal(r.verdict, ORC_PASS);
  orc_result_free(&r);
  assert_int_equal(t->close(h), 0);
  for (size_t i = 0; i < nkv; i++) {
    free((void *)kvs[i].key);
    free((void *)kvs[i].val);
  }
  free(kvs);
  wl_log_free(log);
}

static void concurrent_ops_overlap_and_their_state_passes(void **st) {
  (void)st;
  drive_and_check("", "mixed:ops=600,threads=4,sync=0.3,reopen=0.01");
  drive_and_check("deterministic=0", "mixed:ops=600,threads=4,sync=0.3,reopen=0.01");
  drive_and_check("deterministic=0", "batch:ops=300,threads=3");
}

/* ---- group commit: a test target on sofadb in background mode, its handle kept ---- */
static sdb *g_db;
static int g_open(const char *dir, const char *o, const char *wo, void **h, char *msg, size_t len) {
  sdb_options opt;
  (void)o; (void)wo; (void)msg; (void)len;
  sdb_options_init(&opt);
  opt.deterministic = 0; /* group commit */
  if (sdb_open(dir, &opt, &g_db)) return PC_ETARGET;
  *h = g_db;
  return 0;
}
static int g_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int sync) {
  return sdb_put(h, k, kl, v, vl, sync);
}
static int g_del(void *h, const void *k, size_t kl, int sync) { return sdb_delete(h, k, kl, sync); }
static int g_sync(void *h) { return sdb_sync(h); }
static const pc_target gtarget = {.name = "group-probe", .put = g_put, .del = g_del, .sync = g_sync,
                                  .open = g_open, .thread_safe = 1};

static void sync_writers_form_groups_with_followers(void **st) {
  (void)st;
  char dir[300], logp[300], msg[512], stats[4096];
  wl_params wp;
  wl_oplog_writer *w;
  snprintf(dir, sizeof dir, "%s/gdata", root);
  snprintf(logp, sizeof logp, "%s/glog", root);
  assert_int_equal(rpt_mkdir_p(dir), 0);
  assert_int_equal(wl_spec_parse("fill:ops=2000,threads=4,sync=1", &wp, msg, sizeof msg), 0);
  assert_int_equal(wl_oplog_open_writer(logp, "", &w, msg, sizeof msg), 0);
  assert_int_equal(pc_drive(&gtarget, dir, "", &wp, 1, w, UINT64_MAX, msg, sizeof msg), 0);
  wl_oplog_close(w);
  assert_int_equal(sdb_stats(g_db, stats, sizeof stats), 0);
  const char *p = strstr(stats, "write_groups: ");
  assert_non_null(p);
  unsigned long long groups = 0, writes = 0;
  assert_int_equal(sscanf(p, "write_groups: %llu (%llu writes)", &groups, &writes), 2);
  print_message("4 threads, 2000 sync puts: %llu groups for %llu writes\n", groups, writes);
  assert_int_equal(writes, 2000);
  assert_true(groups < writes); /* some group had a follower */
  assert_int_equal(sdb_close(g_db), 0);
}

static void threads_refused_on_targets_that_are_not_thread_safe(void **st) {
  (void)st;
  pc_case c = {0};
  char err[512];
  snprintf(c.target, sizeof c.target, "corpus-wal-nofsync");
  snprintf(c.workload, sizeof c.workload, "fill:ops=10,threads=2");
  snprintf(c.model, sizeof c.model, "strict");
  snprintf(c.plan, sizeof c.plan, "none");
  assert_int_equal(pc_case_validate(&c, err, sizeof err), PC_EINVAL);
  assert_non_null(strstr(err, "threads=2"));
  assert_non_null(strstr(err, "target corpus-wal-nofsync does not declare itself thread-safe"));
  snprintf(c.target, sizeof c.target, "exec");
  snprintf(c.target_opts, sizeof c.target_opts, "cmd=true");
  assert_int_equal(pc_case_validate(&c, err, sizeof err), PC_EINVAL);
  assert_non_null(strstr(err, "exec targets take one driver thread"));
  snprintf(c.workload, sizeof c.workload, "fill:ops=10,threads=1");
  snprintf(c.target, sizeof c.target, "corpus-wal-nofsync");
  c.target_opts[0] = 0;
  assert_int_equal(pc_case_validate(&c, err, sizeof err), 0);
  snprintf(c.target, sizeof c.target, "sofadb");
  snprintf(c.workload, sizeof c.workload, "fill:ops=10,threads=4");
  assert_int_equal(pc_case_validate(&c, err, sizeof err), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(concurrent_ops_overlap_and_their_state_passes, setup, teardown),
      cmocka_unit_test_setup_teardown(sync_writers_form_groups_with_followers, setup, teardown),
      cmocka_unit_test(threads_refused_on_targets_that_are_not_thread_safe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
