/* fuzz_test.c — deterministic fuzzing of faultfs's decoders (plan text, trace file, undo
 * log, handshake file): random and mutated inputs must never crash (run under ASan+UBSan), a
 * plan that parses must format canonically and reparse equal, and a rollback of a hostile
 * undo log must never touch anything outside the data dir. Also the data-dir comparison
 * (unseen.c) on a known case: it names exactly the paths no undo record covers. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "faultfs.h"
#include "ffs_int.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void plan_parser_survives_random_and_mutated_text(void **st) {
  static const char *const seeds[] = {"crash@fsync(*.log)#17", "torn@write(*.sst)#3:1000", "eio@fdatasync#2",
                                      "enospc@write#40+;flip@pread:3", "kill-after@rename(MANIFEST-*)"};
  static const char alpha[] = "@#:;()+*?[]!^\\-._abcdefghijklmnopqrstuvwxyz0123456789 ";
  char text[128], err[256], buf[1024], buf2[1024];
  int parsed = 0;
  for (int it = 0; it < 30000; it++) {
    size_t n;
    if (it % 2) {
      n = (size_t)(rnd() % 60);
      for (size_t i = 0; i < n; i++) text[i] = alpha[rnd() % (sizeof alpha - 1)];
    } else {
      snprintf(text, sizeof text, "%s", seeds[rnd() % 5]);
      n = strlen(text);
      for (int m = 0; m < 1 + (int)(rnd() % 3); m++) {
        size_t pos = (size_t)(rnd() % (n + 1));
        if (rnd() % 2 && n < sizeof text - 2) { memmove(text + pos + 1, text + pos, n - pos); text[pos] = alpha[rnd() % (sizeof alpha - 1)]; n++; }
        else if (n) { if (pos == n) pos--; memmove(text + pos, text + pos + 1, n - pos - 1); n--; }
      }
    }
    text[n] = 0;
    ffs_plan *p = NULL, *q = NULL;
    if (ffs_plan_parse(text, &p, err, sizeof err) != 0) {
      assert_null(p);
      assert_true(strncmp(err, "plan:", 5) == 0);
      continue;
    }
    parsed++;
    assert_true(ffs_plan_format(p, buf, sizeof buf) >= 0);
    if (ffs_plan_parse(buf, &q, err, sizeof err) != 0) fail_msg("'%s' -> '%s' does not reparse: %s", text, buf, err);
    assert_int_equal(q->nrules, p->nrules);
    if (p->nrules) assert_memory_equal(q->rules, p->rules, p->nrules * sizeof *p->rules);
    assert_true(ffs_plan_format(q, buf2, sizeof buf2) >= 0);
    assert_string_equal(buf, buf2);
    ffs_plan_free(p);
    ffs_plan_free(q);
  }
  assert_true(parsed > 1000);
}

static void trace_reader_survives_random_bytes(void **st) {
  char path[] = "/tmp/ffs-fuzz-trace-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  ffs_trace_rec *rec = malloc(sizeof *rec);
  for (int it = 0; it < 2000; it++) {
    unsigned char buf[2048];
    size_t n = (size_t)(rnd() % sizeof buf);
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)rnd();
    if (rnd() % 2 && n >= 8) memcpy(buf, FFS_TRACE_MAGIC, 8);
    if (rnd() % 2 && n >= 8 + sizeof(ffs_trec)) { /* a plausible head */
      ffs_trec h = {0};
      h.op = (uint16_t)(rnd() % (FFS_OP_COUNT + 2));
      h.pathlen = (uint16_t)(rnd() % 64);
      h.len = (uint32_t)(sizeof h + h.pathlen + (rnd() % 3));
      memcpy(buf + 8, &h, sizeof h);
    }
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, buf, n, 0), (ssize_t)n);
    ffs_trace *t;
    if (ffs_trace_open(path, &t) != 0) continue;
    int rc, k = 0;
    while ((rc = ffs_trace_next(t, rec)) == 1) {
      assert_true(rec->op < FFS_OP_COUNT);
      assert_true(strlen(rec->path) < FFS_PATH_MAX);
      k++;
    }
    assert_true(rc == 0 || rc == FFS_ECORRUPT);
    assert_true(k <= (int)n / (int)sizeof(ffs_trec));
    ffs_trace_close(t);
  }
  free(rec);
  close(fd);
  unlink(path);
}

static void put(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
  close(fd);
}

static size_t add_rec(unsigned char *log, size_t used, uint32_t type, int32_t fid, uint64_t a, uint64_t b, uint64_t c,
                      const void *pl, size_t plen) {
  ffs_urec r = {type, (uint32_t)((sizeof r + plen + 7) & ~(size_t)7), fid, (uint32_t)plen, a, b, c};
  memcpy(log + 64 + used, &r, sizeof r);
  memcpy(log + 64 + used + sizeof r, pl, plen);
  return used + r.len;
}

static void rollback_of_hostile_log_stays_inside_the_data_dir(void **st) {
  static const char *const paths[] = {"a", "b", "sub", "sub/c", "../outside.txt", "/etc/passwd", "..", "a/../../x",
                                      ".", "sub/..", "d"};
  char base[] = "/tmp/ffs-fuzz-rb-XXXXXX", data[256], state[256], sentinel[256], err[256], p[512];
  assert_non_null(mkdtemp(base));
  snprintf(data, sizeof data, "%s/data", base);
  snprintf(state, sizeof state, "%s/state", base);
  snprintf(sentinel, sizeof sentinel, "%s/outside.txt", base);
  mkdir(data, 0755);
  mkdir(state, 0755);
  unsigned char *log = calloc(1, 1 << 16);
  for (int it = 0; it < 400; it++) {
    put(sentinel, "sentinel");
    snprintf(p, sizeof p, "%s/a", data);
    put(p, "aaaa");
    size_t used = 0;
    int nrec = 1 + (int)(rnd() % 12);
    for (int k = 0; k < nrec && used < 60000; k++) {
      char pl[128];
      const char *p1 = paths[rnd() % (sizeof paths / sizeof paths[0])];
      const char *p2 = paths[rnd() % (sizeof paths / sizeof paths[0])];
      size_t l1 = strlen(p1) + 1, l2 = strlen(p2) + 1;
      memcpy(pl, p1, l1);
      memcpy(pl + l1, p2, l2);
      uint32_t type = 1 + (uint32_t)(rnd() % 15);
      size_t plen = (type == FFS_U_RENAME || type == FFS_U_LINK) ? l1 + l2 : (type == FFS_U_OLD ? 8 : l1);
      if (rnd() % 8 == 0) plen = (size_t)(rnd() % 20); /* unterminated */
      used = add_rec(log, used, type, (int32_t)(rnd() % 4) - 1, rnd() % 9000, rnd() % 9000, rnd() % 3, pl, plen);
    }
    ffs_undo_hdr h = {0};
    memcpy(h.magic, FFS_UNDO_MAGIC, 8);
    h.version = FFS_UNDO_VERSION;
    h.model = (uint32_t)(rnd() % 3);
    h.seed = rnd();
    h.used = used;
    memcpy(log, &h, sizeof h);
    snprintf(p, sizeof p, "%s/%s", state, FFS_STATE_UNDO);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(write(fd, log, 64 + used), (ssize_t)(64 + used));
    close(fd);
    int rc = ffs_rollback(state, data, err, sizeof err);
    assert_true(rc == 0 || rc == FFS_ECORRUPT || rc == FFS_EIO);
    char buf[16] = "";
    fd = open(sentinel, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof buf), 8);
    close(fd);
    assert_memory_equal(buf, "sentinel", 8);
    struct stat sb;
    assert_int_equal(stat(data, &sb), 0); /* the data dir itself survives */
  }
  free(log);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
}

static void write_log(const char *state, unsigned char *log, size_t used) {
  char p[512];
  ffs_undo_hdr h = {0};
  memcpy(h.magic, FFS_UNDO_MAGIC, 8);
  h.version = FFS_UNDO_VERSION;
  h.used = used;
  memcpy(log, &h, sizeof h);
  snprintf(p, sizeof p, "%s/%s", state, FFS_STATE_UNDO);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, log, 64 + used), (ssize_t)(64 + used));
  close(fd);
}

/* The comparison after a run names exactly the paths no undo record covers. */
static void unseen_changes_name_only_untracked_paths(void **st) {
  char base[] = "/tmp/ffs-unseen-XXXXXX", data[256], state[256], p[512], list[512];
  unsigned char *log = calloc(1, 1 << 14);
  ffs_snap *before = NULL;
  size_t used = 0;
  assert_non_null(mkdtemp(base));
  snprintf(data, sizeof data, "%s/data", base);
  snprintf(state, sizeof state, "%s/state", base);
  mkdir(data, 0755);
  mkdir(state, 0755);
  snprintf(p, sizeof p, "%s/old", data), put(p, "old");
  snprintf(p, sizeof p, "%s/gone", data), put(p, "gone");
  snprintf(p, sizeof p, "%s/same", data), put(p, "same");
  snprintf(p, sizeof p, "%s/d1", data), mkdir(p, 0755);
  assert_int_equal(ffs_snap_take(data, &before), 0);
  /* tracked: a created, old dirtied, d1 renamed to d2 (with d2/x inside it) */
  snprintf(p, sizeof p, "%s/a", data), put(p, "a");
  snprintf(p, sizeof p, "%s/old", data), put(p, "old, longer");
  char ren[] = "d1\0d2";
  snprintf(p, sizeof p, "%s/d2", data);
  char from[512];
  snprintf(from, sizeof from, "%s/d1", data);
  assert_int_equal(rename(from, p), 0);
  snprintf(p, sizeof p, "%s/d2/x", data), put(p, "x");
  used = add_rec(log, used, FFS_U_CREATE, -1, 0, 0, 0, "a", 2);
  used = add_rec(log, used, FFS_U_DIRTY, 0, 0, 0, 0, "old", 4);
  used = add_rec(log, used, FFS_U_RENAME, -1, 0, UINT64_MAX, 0, ren, sizeof ren);
  /* behind the shim's back: u created, gone removed, nothing else */
  snprintf(p, sizeof p, "%s/u", data), put(p, "u");
  snprintf(p, sizeof p, "%s/gone", data), unlink(p);
  write_log(state, log, used);
  assert_int_equal(ffs_unseen_changes(data, before, state, list, sizeof list), 2);
  assert_string_equal(list, "u (created), gone (removed)");
  /* no undo log at all: the shim tracked nothing, so everything that changed is named */
  snprintf(p, sizeof p, "%s/%s", state, FFS_STATE_UNDO), unlink(p);
  assert_int_equal(ffs_unseen_changes(data, before, state, list, sizeof list), 7);
  /* a small buffer is cut with "..." and stays terminated */
  assert_int_equal(ffs_unseen_changes(data, before, state, list, 12), 7);
  assert_string_equal(list + strlen(list) - 3, "...");
  ffs_snap_free(before);
  free(log);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
}

/* Hostile undo logs and handshake files: never a crash, a bounded answer. */
static void unseen_readers_survive_hostile_logs_and_handshakes(void **st) {
  static const char *const paths[] = {"a", "sub", "sub/c", "../x", "/etc/passwd", "..", "", "d"};
  char base[] = "/tmp/ffs-fuzz-unseen-XXXXXX", data[256], state[256], hs[512], list[256];
  unsigned char *log = calloc(1, 1 << 16);
  assert_non_null(mkdtemp(base));
  snprintf(data, sizeof data, "%s/data", base);
  snprintf(state, sizeof state, "%s/state", base);
  snprintf(hs, sizeof hs, "%s/%s", state, FFS_STATE_HANDSHAKE);
  mkdir(data, 0755);
  mkdir(state, 0755);
  for (int it = 0; it < 300; it++) {
    size_t used = 0;
    for (int k = 0, n = 1 + (int)(rnd() % 10); k < n; k++) {
      char pl[64];
      const char *p1 = paths[rnd() % 8], *p2 = paths[rnd() % 8];
      size_t l1 = strlen(p1) + 1, l2 = strlen(p2) + 1;
      memcpy(pl, p1, l1);
      memcpy(pl + l1, p2, l2);
      size_t plen = rnd() % 4 == 0 ? (size_t)(rnd() % 20) : l1 + l2;
      used = add_rec(log, used, 1 + (uint32_t)(rnd() % 15), -1, rnd(), rnd(), rnd(), pl, plen);
    }
    if (rnd() % 4 == 0) used += rnd() % 64; /* used beyond the records */
    write_log(state, log, used);
    if (rnd() % 3 == 0) { /* a record whose len lies */
      ffs_urec r;
      memcpy(&r, log + 64, sizeof r);
      r.len = (uint32_t)rnd();
      memcpy(log + 64, &r, sizeof r);
      write_log(state, log, used);
    }
    int n = ffs_unseen_changes(data, NULL, state, list, sizeof list);
    assert_true(n >= 0 || n == FFS_EIO || n == FFS_ENOMEM);
    assert_true(strlen(list) < sizeof list);
    /* handshake: random lines, some complete, some not */
    char text[512];
    size_t tl = 0;
    for (int k = 0; k < 8 && tl < 400; k++) {
      static const char *const words[] = {"loaded", "refused-io_uring_setup", "loaded ", "x", ""};
      tl += (size_t)snprintf(text + tl, sizeof text - tl, "%s %lld %s%s", words[rnd() % 5],
                             (long long)(rnd() % 3 ? rnd() % 70000 : rnd()), rnd() % 2 ? "/bin/sh" : "",
                             rnd() % 4 ? "\n" : "");
    }
    for (size_t k = 0; k < tl; k++)
      if (rnd() % 50 == 0) text[k] = (char)rnd();
    int fd = open(hs, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(write(fd, text, tl), (ssize_t)tl);
    close(fd);
    ffs_handshake h;
    assert_int_equal(ffs_handshake_read(hs, &h), 0);
    assert_true(h.nloaded + h.nrefused == h.n);
    for (size_t k = 0; k < h.n; k++) assert_true(h.v[k].pid > 0);
    ffs_handshake_free(&h);
  }
  free(log);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(plan_parser_survives_random_and_mutated_text),
      cmocka_unit_test(trace_reader_survives_random_bytes),
      cmocka_unit_test(rollback_of_hostile_log_stays_inside_the_data_dir),
      cmocka_unit_test(unseen_changes_name_only_untracked_paths),
      cmocka_unit_test(unseen_readers_survive_hostile_logs_and_handshakes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
