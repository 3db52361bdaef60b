/* record_test.c — cmocka tests of the record file (docs/format/record.md: writer, reader,
 * version check) and of the crash states a replay builds from it (materialize.c) under
 * each model: kill keeps everything, strict keeps only what was synced, ext4 keeps a
 * created file its fsync committed, reorder keeps none or all of the unsynced sectors, a
 * torn write keeps its prefix. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ffs_int.h"

static char g_root[256];

static void rm_rf(const char *p) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
  if (system(cmd) != 0) fail_msg("%s failed", cmd);
}

static int setup(void **st) {
  (void)st;
  snprintf(g_root, sizeof g_root, "/tmp/ffs_record_test.%d", (int)getpid());
  rm_rf(g_root);
  return mkdir(g_root, 0755);
}
static int teardown(void **st) {
  (void)st;
  rm_rf(g_root);
  return 0;
}

/* Appends one CALL record as the shim does (head, paths, data in one write). */
static void add_call(int fd, ffs_op op, uint32_t flags, int32_t pfd, const char *path, const char *path2, int64_t off,
                     uint64_t len, int64_t res, const char *data) {
  unsigned char buf[sizeof(ffs_rhead) + 2 * FFS_PATH_MAX + 256];
  static uint64_t index;
  ffs_rec r = {.type = FFS_REC_CALL, .op = op, .flags = flags, .fd = pfd, .mode = 0644, .index = index++,
               .offset = off, .length = len, .result = res, .path = path, .path2 = path2 ? path2 : "",
               .datalen = data ? strlen(data) : 0};
  size_t n = ffs__record_head(buf, &r);
  if (data) memcpy(buf + n, data, r.datalen);
  assert_int_equal(write(fd, buf, n + r.datalen), (ssize_t)(n + r.datalen));
}

static void path_of(char *out, size_t len, const char *name) { snprintf(out, len, "%s/%s", g_root, name); }

static int open_record(const char *name) {
  char p[512], err[256];
  path_of(p, sizeof p, name);
  assert_int_equal(ffs_record_create(p, err, sizeof err), 0);
  int fd = open(p, O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  return fd;
}

static ffs_record *load(const char *name) {
  char p[512], err[256];
  ffs_record *r = NULL;
  path_of(p, sizeof p, name);
  if (ffs_record_load(p, &r, err, sizeof err)) fail_msg("load %s: %s", p, err);
  return r;
}

/* ---- the file ---- */
static void calls_and_oplog_records_read_back_in_order(void **st) {
  (void)st;
  int fd = open_record("rt.rec");
  assert_int_equal(ffs_record_append_data(fd, FFS_REC_OPLOG_HEAD, "HEAD", 4), 0);
  add_call(fd, FFS_OP_OPEN, O_CREAT | O_WRONLY, -1, "a", NULL, -1, 0, 3, NULL);
  assert_int_equal(ffs_record_append_data(fd, FFS_REC_OPLOG, "op1", 3), 0);
  add_call(fd, FFS_OP_PWRITE, FFS_RF_APPEND, 3, "a", NULL, 7, 5, 5, "hello");
  add_call(fd, FFS_OP_RENAME, 0, -1, "a", "b", -1, 0, 0, NULL);
  close(fd);
  ffs_record *r = load("rt.rec");
  assert_int_equal(ffs_record_count(r), 5);
  const ffs_rec *e = ffs_record_at(r, 0);
  assert_int_equal(e->type, FFS_REC_OPLOG_HEAD);
  assert_memory_equal(e->data, "HEAD", 4);
  e = ffs_record_at(r, 1);
  assert_int_equal(e->type, FFS_REC_CALL);
  assert_int_equal(e->op, FFS_OP_OPEN);
  assert_int_equal(e->flags, O_CREAT | O_WRONLY);
  assert_int_equal(e->result, 3);
  assert_string_equal(e->path, "a");
  assert_string_equal(e->path2, "");
  assert_int_equal(ffs_record_at(r, 2)->type, FFS_REC_OPLOG);
  e = ffs_record_at(r, 3);
  assert_int_equal(e->op, FFS_OP_PWRITE);
  assert_int_equal(e->fd, 3);
  assert_int_equal(e->offset, 7);
  assert_int_equal(e->datalen, 5);
  assert_memory_equal(e->data, "hello", 5);
  assert_true(ffs_rec_mutates(e));
  assert_false(ffs_rec_mutates(ffs_record_at(r, 2)));
  e = ffs_record_at(r, 4);
  assert_string_equal(e->path2, "b");
  assert_null(ffs_record_at(r, 5));
  ffs_record_free(r);
}

static void another_version_is_refused_with_both_versions_named(void **st) {
  (void)st;
  char p[512], err[256] = "";
  ffs_record *r = NULL;
  int fd = open_record("v2.rec");
  close(fd);
  path_of(p, sizeof p, "v2.rec");
  fd = open(p, O_WRONLY);
  uint32_t v = 2;
  assert_int_equal(pwrite(fd, &v, 4, 8), 4);
  close(fd);
  assert_int_equal(ffs_record_load(p, &r, err, sizeof err), FFS_ECORRUPT);
  assert_null(r);
  assert_non_null(strstr(err, "version 2; this build reads version 1"));
  /* not a record at all */
  fd = open(p, O_WRONLY | O_TRUNC);
  assert_int_equal(write(fd, "FFSTRC01", 8), 8);
  close(fd);
  assert_int_equal(ffs_record_load(p, &r, err, sizeof err), FFS_ECORRUPT);
  assert_non_null(strstr(err, "is not a faultfs record"));
}

static void a_path_leading_out_of_the_data_dir_is_refused(void **st) {
  (void)st;
  const char *bad[] = {"../x", "/etc/passwd", "a/../../x", "a//b", "./a"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char p[512], err[256] = "";
    ffs_record *r = NULL;
    int fd = open_record("path.rec");
    add_call(fd, FFS_OP_WRITE, 0, 3, "a", NULL, 0, 3, 3, "abc");
    add_call(fd, FFS_OP_RENAME, 0, -1, "a", bad[i], -1, 0, 0, NULL);
    close(fd);
    path_of(p, sizeof p, "path.rec");
    if (ffs_record_load(p, &r, err, sizeof err) != FFS_ECORRUPT) fail_msg("'%s' was taken", bad[i]);
    assert_null(r);
    assert_non_null(strstr(err, "bad path at byte"));
  }
}

static void torn_tail_is_the_end_and_a_bad_record_before_it_is_corrupt(void **st) {
  (void)st;
  char p[512], err[256];
  ffs_record *r = NULL;
  int fd = open_record("torn.rec");
  add_call(fd, FFS_OP_WRITE, 0, 3, "a", NULL, 0, 3, 3, "abc");
  add_call(fd, FFS_OP_WRITE, 0, 3, "a", NULL, 3, 3, 3, "def");
  assert_int_equal(write(fd, "\x50\x00\x00\x00\x01\x00", 6), 6); /* a killed writer's head */
  close(fd);
  r = load("torn.rec");
  assert_int_equal(ffs_record_count(r), 2);
  ffs_record_free(r);
  path_of(p, sizeof p, "torn.rec");
  fd = open(p, O_WRONLY);
  uint32_t bad = 7; /* the first record's length */
  assert_int_equal(pwrite(fd, &bad, 4, 16), 4);
  close(fd);
  assert_int_equal(ffs_record_load(p, &r, err, sizeof err), FFS_ECORRUPT);
  assert_non_null(strstr(err, "bad record at byte 16"));
}

/* ---- states ---- */
/* a: AAAA synced (and its dir), then BBBB unsynced; b: created, CCCC, fsynced, dir never
 * synced, then renamed to c. Cuts: 0 open a, 1 write AAAA, 2 fsync a, 3 fsync ., 4 write
 * BBBB, 5 open b, 6 write CCCC, 7 fsync b, 8 rename b c, 9 = the end. */
static void write_scenario(const char *name) {
  int fd = open_record(name);
  add_call(fd, FFS_OP_OPEN, O_CREAT | O_WRONLY, -1, "a", NULL, -1, 0, 3, NULL);
  add_call(fd, FFS_OP_WRITE, 0, 3, "a", NULL, 0, 4, 4, "AAAA");
  add_call(fd, FFS_OP_FSYNC, 0, 3, "a", NULL, -1, 0, 0, NULL);
  add_call(fd, FFS_OP_FSYNC, 0, 4, ".", NULL, -1, 0, 0, NULL);
  add_call(fd, FFS_OP_WRITE, 0, 3, "a", NULL, 4, 4, 4, "BBBB");
  add_call(fd, FFS_OP_OPEN, O_CREAT | O_WRONLY, -1, "b", NULL, -1, 0, 5, NULL);
  add_call(fd, FFS_OP_WRITE, 0, 5, "b", NULL, 0, 4, 4, "CCCC");
  add_call(fd, FFS_OP_FSYNC, 0, 5, "b", NULL, -1, 0, 0, NULL);
  add_call(fd, FFS_OP_RENAME, 0, -1, "b", "c", -1, 0, 0, NULL);
  close(fd);
}

/* The state of (model, cut, kind) as "name=contents;..." in name order. */
static void state_at(ffs_model model, uint64_t cut, ffs_cut_kind kind, uint64_t keep, ffs_subset subset, char *out,
                     size_t len) {
  char work[512], wst[512], dst[512], dstate[512], err[512];
  ffs_replay *rp = NULL;
  ffs_record *r;
  static int n;
  write_scenario("s.rec");
  r = load("s.rec");
  snprintf(work, sizeof work, "%s/w%d", g_root, n);
  snprintf(wst, sizeof wst, "%s/ws%d", g_root, n);
  snprintf(dst, sizeof dst, "%s/d%d", g_root, n);
  snprintf(dstate, sizeof dstate, "%s/ds%d", g_root, n++);
  assert_int_equal(mkdir(work, 0755), 0);
  if (ffs_replay_open(work, wst, model, &rp, err, sizeof err)) fail_msg("replay: %s", err);
  const ffs_rec *next = NULL;
  for (uint64_t i = 0; i < ffs_record_count(r); i++) {
    if (i == cut) { next = ffs_record_at(r, i); break; }
    if (ffs_replay_apply(rp, ffs_record_at(r, i), err, sizeof err)) fail_msg("apply %llu: %s", (unsigned long long)i, err);
  }
  if (ffs_replay_state(rp, kind, next, keep, subset, 7, dst, dstate, err, sizeof err)) fail_msg("state: %s", err);
  out[0] = 0;
  const char *names[] = {"a", "b", "c"};
  for (int k = 0; k < 3; k++) {
    char p[600], buf[64] = "";
    snprintf(p, sizeof p, "%s/%s", dst, names[k]);
    int fd = open(p, O_RDONLY);
    if (fd < 0) continue;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[got > 0 ? got : 0] = 0;
    snprintf(out + strlen(out), len - strlen(out), "%s=%s;", names[k], buf);
  }
  ffs_replay_close(rp);
  ffs_record_free(r);
}

static void kill_keeps_every_applied_call(void **st) {
  (void)st;
  char s[256];
  state_at(FFS_MODEL_STRICT, 5, FFS_CUT_KILL, 0, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "a=AAAABBBB;");
  state_at(FFS_MODEL_STRICT, 9, FFS_CUT_KILL, 0, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "a=AAAABBBB;c=CCCC;");
}

static void strict_drops_a_write_after_the_last_fsync(void **st) {
  (void)st;
  char s[256];
  state_at(FFS_MODEL_STRICT, 5, FFS_CUT_CRASH, 0, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "a=AAAA;");
  /* before the fsync of a: its data and (no dir sync yet) its creation are gone */
  state_at(FFS_MODEL_STRICT, 2, FFS_CUT_CRASH, 0, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "");
  /* after the file's fsync, its entry still waits for the dir's */
  state_at(FFS_MODEL_STRICT, 3, FFS_CUT_CRASH, 0, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "");
  state_at(FFS_MODEL_STRICT, 4, FFS_CUT_CRASH, 0, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "a=AAAA;");
}

static void strict_undoes_a_create_and_a_rename_no_dir_fsync_covered(void **st) {
  (void)st;
  char s[256];
  state_at(FFS_MODEL_STRICT, 9, FFS_CUT_CRASH, 0, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "a=AAAA;");
}

static void ext4_keeps_a_created_file_its_fsync_committed(void **st) {
  (void)st;
  char s[256];
  /* the fsync of b commits its creation (and the journal): b stays, its rename does not */
  state_at(FFS_MODEL_EXT4, 9, FFS_CUT_CRASH, 0, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "a=AAAA;b=CCCC;");
  state_at(FFS_MODEL_EXT4, 7, FFS_CUT_CRASH, 0, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "a=AAAA;");
}

static void reorder_none_and_all_bound_the_unsynced_sectors(void **st) {
  (void)st;
  char s[256];
  state_at(FFS_MODEL_REORDER, 5, FFS_CUT_CRASH, 0, FFS_SUBSET_NONE, s, sizeof s);
  assert_string_equal(s, "a=AAAA;");
  state_at(FFS_MODEL_REORDER, 5, FFS_CUT_CRASH, 0, FFS_SUBSET_ALL, s, sizeof s);
  assert_string_equal(s, "a=AAAABBBB;");
  /* the namespace is rolled back as under strict whatever the subset */
  state_at(FFS_MODEL_REORDER, 9, FFS_CUT_CRASH, 0, FFS_SUBSET_ALL, s, sizeof s);
  assert_string_equal(s, "a=AAAABBBB;");
}

static void torn_keeps_the_prefix_of_the_write_at_the_cut(void **st) {
  (void)st;
  char s[256];
  state_at(FFS_MODEL_STRICT, 4, FFS_CUT_TORN, 2, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "a=AAAABB;");
  /* the work dir is as it was: the next state sees the whole write gone again */
  state_at(FFS_MODEL_STRICT, 5, FFS_CUT_CRASH, 0, FFS_SUBSET_SEEDED, s, sizeof s);
  assert_string_equal(s, "a=AAAA;");
}

static void torn_state_leaves_the_replay_where_it_was(void **st) {
  (void)st;
  char work[512], wst[512], d1[512], d2[512], s1[512], s2[512], err[512], buf[64] = "";
  ffs_replay *rp = NULL;
  write_scenario("t.rec");
  ffs_record *r = load("t.rec");
  snprintf(work, sizeof work, "%s/tw", g_root);
  snprintf(wst, sizeof wst, "%s/tws", g_root);
  snprintf(d1, sizeof d1, "%s/td1", g_root);
  snprintf(s1, sizeof s1, "%s/tds1", g_root);
  snprintf(d2, sizeof d2, "%s/td2", g_root);
  snprintf(s2, sizeof s2, "%s/tds2", g_root);
  assert_int_equal(mkdir(work, 0755), 0);
  assert_int_equal(ffs_replay_open(work, wst, FFS_MODEL_STRICT, &rp, err, sizeof err), 0);
  for (int i = 0; i < 4; i++) assert_int_equal(ffs_replay_apply(rp, ffs_record_at(r, (size_t)i), err, sizeof err), 0);
  assert_int_equal(ffs_replay_state(rp, FFS_CUT_TORN, ffs_record_at(r, 4), 3, FFS_SUBSET_SEEDED, 0, d1, s1, err, sizeof err), 0);
  /* apply the whole write, then fsync it: both writes are durable */
  assert_int_equal(ffs_replay_apply(rp, ffs_record_at(r, 4), err, sizeof err), 0);
  ffs_rec sync = *ffs_record_at(r, 2);
  assert_int_equal(ffs_replay_apply(rp, &sync, err, sizeof err), 0);
  assert_int_equal(ffs_replay_state(rp, FFS_CUT_CRASH, NULL, 0, FFS_SUBSET_SEEDED, 0, d2, s2, err, sizeof err), 0);
  char p[600];
  snprintf(p, sizeof p, "%s/a", d2);
  int fd = open(p, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(read(fd, buf, sizeof buf), 8);
  close(fd);
  assert_memory_equal(buf, "AAAABBBB", 8);
  ffs_replay_close(rp);
  ffs_record_free(r);
}

/* A write far past the data (a hostile or an odd record) leaves a hole: the crash state's
 * copy keeps it a hole instead of writing a gigabyte of zeros (it took 13 s per state in
 * the fuzzer before). */
static void a_state_copy_keeps_holes(void **st) {
  (void)st;
  char work[512], wst[512], dst[512], dstate[512], err[512], p[600], tail[5] = "";
  ffs_replay *rp = NULL;
  ffs_record *r;
  struct stat sb;
  const int64_t far = (int64_t)1 << 30;
  int fd = open_record("hole.rec");
  add_call(fd, FFS_OP_OPEN, O_CREAT | O_WRONLY, -1, "a", NULL, -1, 0, 3, NULL);
  add_call(fd, FFS_OP_WRITE, 0, 3, "a", NULL, far, 4, 4, "AAAA");
  add_call(fd, FFS_OP_FSYNC, 0, 3, "a", NULL, -1, 0, 0, NULL);
  close(fd);
  r = load("hole.rec");
  path_of(work, sizeof work, "hw");
  path_of(wst, sizeof wst, "hws");
  path_of(dst, sizeof dst, "hd");
  path_of(dstate, sizeof dstate, "hds");
  assert_int_equal(mkdir(work, 0755), 0);
  if (ffs_replay_open(work, wst, FFS_MODEL_STRICT, &rp, err, sizeof err)) fail_msg("replay: %s", err);
  for (uint64_t i = 0; i < ffs_record_count(r); i++)
    if (ffs_replay_apply(rp, ffs_record_at(r, i), err, sizeof err)) fail_msg("apply: %s", err);
  if (ffs_replay_state(rp, FFS_CUT_KILL, NULL, 0, FFS_SUBSET_SEEDED, 7, dst, dstate, err, sizeof err))
    fail_msg("state: %s", err);
  snprintf(p, sizeof p, "%s/a", dst);
  assert_int_equal(stat(p, &sb), 0);
  assert_int_equal(sb.st_size, far + 4);
  assert_true((int64_t)sb.st_blocks * 512 < ((int64_t)1 << 20)); /* a hole, not a gigabyte of zeros */
  fd = open(p, O_RDONLY);
  assert_int_equal(pread(fd, tail, 4, far), 4);
  close(fd);
  assert_string_equal(tail, "AAAA");
  ffs_replay_close(rp);
  ffs_record_free(r);
}

static void replay_refuses_a_call_it_cannot_repeat(void **st) {
  (void)st;
  char work[512], wst[512], err[512] = "";
  ffs_replay *rp = NULL;
  int fd = open_record("bad.rec");
  add_call(fd, FFS_OP_WRITE, 0, 3, "missing", NULL, 0, 3, 3, "abc");
  add_call(fd, FFS_OP_RENAME, 0, -1, "", "in", -1, 0, 0, NULL);
  close(fd);
  ffs_record *r = load("bad.rec");
  snprintf(work, sizeof work, "%s/bw", g_root);
  snprintf(wst, sizeof wst, "%s/bws", g_root);
  assert_int_equal(mkdir(work, 0755), 0);
  assert_int_equal(ffs_replay_open(work, wst, FFS_MODEL_STRICT, &rp, err, sizeof err), 0);
  assert_int_equal(ffs_replay_apply(rp, ffs_record_at(r, 0), err, sizeof err), FFS_EIO);
  assert_non_null(strstr(err, "write missing"));
  assert_non_null(strstr(err, "not in the replay's work dir"));
  assert_int_equal(ffs_replay_apply(rp, ffs_record_at(r, 1), err, sizeof err), FFS_EIO);
  assert_non_null(strstr(err, "moved in from outside the data dir"));
  ffs_replay_close(rp);
  ffs_record_free(r);
  /* kernel-* models are not replayed */
  assert_int_equal(ffs_replay_open(work, wst, FFS_MODEL_KERNEL_EXT4, &rp, err, sizeof err), FFS_EINVAL);
  assert_non_null(strstr(err, "strict, ext4, xfs or reorder"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(calls_and_oplog_records_read_back_in_order),
      cmocka_unit_test(a_state_copy_keeps_holes),
      cmocka_unit_test(another_version_is_refused_with_both_versions_named),
      cmocka_unit_test(torn_tail_is_the_end_and_a_bad_record_before_it_is_corrupt),
      cmocka_unit_test(a_path_leading_out_of_the_data_dir_is_refused),
      cmocka_unit_test(kill_keeps_every_applied_call),
      cmocka_unit_test(strict_drops_a_write_after_the_last_fsync),
      cmocka_unit_test(strict_undoes_a_create_and_a_rename_no_dir_fsync_covered),
      cmocka_unit_test(ext4_keeps_a_created_file_its_fsync_committed),
      cmocka_unit_test(reorder_none_and_all_bound_the_unsynced_sectors),
      cmocka_unit_test(torn_keeps_the_prefix_of_the_write_at_the_cut),
      cmocka_unit_test(torn_state_leaves_the_replay_where_it_was),
      cmocka_unit_test(replay_refuses_a_call_it_cannot_repeat),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
