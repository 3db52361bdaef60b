/* e2e_test.c — end-to-end tests of libfaultfs.so: each case prepares a data dir (durable
 * by construction: written before the shim runs), runs ffs_e2e_prog (or /usr/bin/sqlite3)
 * under LD_PRELOAD with a plan, and checks what is on disk afterwards. A case name given
 * as argv[1] selects one case (ctest registers one test per case). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "faultfs.h"

static char g_base[512], g_data[600], g_state[600], g_out[600];
static const char *g_envdir; /* FAULTFS_DIR when it is not spelled like g_data; NULL = g_data */

/* ---- helpers ------------------------------------------------------------------------ */

static int setup(void **st) {
  (void)st;
  struct stat s;
  const char *root = stat("/dev/shm", &s) == 0 ? "/dev/shm" : "/tmp";
  snprintf(g_base, sizeof g_base, "%s/ffs-e2e-XXXXXX", root);
  assert_non_null(mkdtemp(g_base));
  snprintf(g_data, sizeof g_data, "%s/data", g_base);
  snprintf(g_state, sizeof g_state, "%s/state", g_base);
  snprintf(g_out, sizeof g_out, "%s/outside", g_base);
  assert_int_equal(mkdir(g_data, 0755), 0);
  assert_int_equal(mkdir(g_state, 0755), 0);
  assert_int_equal(mkdir(g_out, 0755), 0);
  g_envdir = NULL;
  return 0;
}

static int teardown(void **st) {
  (void)st;
  ffs_rm_rf(g_base);
  return 0;
}

static void reset_dirs(void) {
  teardown(NULL);
  setup(NULL);
}

static void put_in(const char *dir, const char *name, const void *data, size_t len) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  fsync(fd);
  close(fd);
}
static void put(const char *name, const void *data, size_t len) { put_in(g_data, name, data, len); }

/* Reads a data-dir file; returns its length or -1 if missing. */
static ssize_t get_in(const char *dir, const char *name, char *buf, size_t cap) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, cap);
  close(fd);
  return n;
}
static ssize_t get(const char *name, char *buf, size_t cap) { return get_in(g_data, name, buf, cap); }

static void assert_file(const char *name, const void *want, size_t len) {
  char buf[65536];
  ssize_t n = get(name, buf, sizeof buf);
  if (n != (ssize_t)len) fail_msg("%s: length %zd, want %zu", name, n, len);
  assert_memory_equal(buf, want, len);
}
static void assert_missing(const char *name) {
  char p[4096];
  struct stat st;
  snprintf(p, sizeof p, "%s/%s", g_data, name);
  if (lstat(p, &st) == 0) fail_msg("%s exists but should be gone", name);
}

typedef struct {
  int exited, code, sig;
  char out[16384], err[4096];
} res_t;

/* Runs argv with the shim preloaded; plan NULL = FAULTFS_PLAN unset (idle). If kill_on is
 * set, SIGKILLs the child once that line appears on its stdout. */
static void run_argv(char *const argv[], const char *plan, const char *model, const char *seed, const char *trace,
                     const char *kill_on, res_t *r) {
  int po[2], pe[2];
  memset(r, 0, sizeof *r);
  assert_int_equal(pipe(po), 0);
  assert_int_equal(pipe(pe), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(po[1], 1);
    dup2(pe[1], 2);
    close(po[0]);
    close(pe[0]);
    setenv("LD_PRELOAD", FFS_SHIM_PATH, 1);
    unsetenv(FFS_ENV_PLAN);
    if (plan) setenv(FFS_ENV_PLAN, plan, 1);
    setenv(FFS_ENV_DIR, g_envdir ? g_envdir : g_data, 1);
    setenv(FFS_ENV_STATE, g_state, 1);
    setenv(FFS_ENV_MODEL, model ? model : "strict", 1);
    setenv(FFS_ENV_SEED, seed ? seed : "0", 1);
    if (trace) setenv(FFS_ENV_TRACE, trace, 1);
    else unsetenv(FFS_ENV_TRACE);
    execv(argv[0], argv);
    _exit(127);
  }
  close(po[1]);
  close(pe[1]);
  size_t n = 0;
  for (;;) {
    ssize_t k = read(po[0], r->out + n, sizeof r->out - 1 - n);
    if (k <= 0) break;
    n += (size_t)k;
    r->out[n] = 0;
    if (kill_on && strstr(r->out, kill_on)) kill(pid, SIGKILL);
  }
  ssize_t k = read(pe[0], r->err, sizeof r->err - 1);
  if (k > 0) r->err[k] = 0;
  close(po[0]);
  close(pe[0]);
  int status;
  waitpid(pid, &status, 0);
  r->exited = WIFEXITED(status);
  r->code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r->sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void run(const char *scenario, const char *plan, const char *model, const char *arg, res_t *r) {
  char *argv[] = {FFS_PROG_PATH, (char *)scenario, g_data, (char *)(arg ? arg : ""), NULL};
  run_argv(argv, plan, model, NULL, NULL, NULL, r);
}

static void assert_crashed(const res_t *r, ffs_action a) {
  ffs_fired f;
  if (r->sig != SIGKILL) fail_msg("expected SIGKILL, got exit %d sig %d; out:\n%s\nerr:\n%s", r->code, r->sig, r->out, r->err);
  assert_int_equal(ffs_fired_read(g_state, &f), 0);
  assert_int_equal(f.action, a);
}

static void assert_out_has(const res_t *r, const char *line) {
  if (!strstr(r->out, line)) fail_msg("output lacks '%s':\n%s\nstderr:\n%s", line, r->out, r->err);
}

/* Recursive listing "path:len:content-hash" of the data dir, for comparing outcomes. */
static void snapshot_dir(const char *dir, const char *rel, char *out, size_t cap) {
  char p[4096];
  snprintf(p, sizeof p, "%s%s%s", dir, rel[0] ? "/" : "", rel);
  DIR *d = opendir(p);
  if (!d) return;
  struct dirent *e;
  char names[64][256];
  int n = 0;
  while ((e = readdir(d)) && n < 64)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) snprintf(names[n++], 256, "%s", e->d_name);
  closedir(d);
  qsort(names, (size_t)n, 256, (int (*)(const void *, const void *))strcmp);
  for (int i = 0; i < n; i++) {
    char r2[4096], q[4096];
    struct stat st;
    snprintf(r2, sizeof r2, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
    snprintf(q, sizeof q, "%s/%s", dir, r2);
    lstat(q, &st);
    size_t l = strlen(out);
    if (S_ISDIR(st.st_mode)) {
      snprintf(out + l, cap - l, "%s/\n", r2);
      snapshot_dir(dir, r2, out, cap);
    } else {
      char buf[8192];
      ssize_t k = get_in(dir, r2, buf, sizeof buf);
      uint64_t h = 1469598103934665603ull;
      for (ssize_t j = 0; j < k; j++) h = (h ^ (unsigned char)buf[j]) * 1099511628211ull;
      snprintf(out + l, cap - l, "%s:%zd:%016llx\n", r2, k, (unsigned long long)h);
    }
  }
}

/* ---- cases ---------------------------------------------------------------------------- */
static void append_without_fsync_is_lost_at_crash(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("append", "crash@close", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "write 4");
  assert_file("a.dat", "base", 4);
}

static void append_with_fsync_is_kept_at_crash(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("append-sync", "crash@close", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "fsync 0");
  assert_file("a.dat", "baseXXXX", 8);
}

static void crash_after_fsync_keeps_synced_data(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("append-sync", "crash-after@fsync", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH_AFTER);
  assert_file("a.dat", "baseXXXX", 8);
}

static void kill_keeps_page_cache_data(void **st) {
  res_t r;
  ffs_fired f;
  put("a.dat", "base", 4);
  run("append", "kill@close", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_KILL);
  assert_int_equal(ffs_fired_read(g_state, &f), 0);
  assert_int_equal(f.killed, 1);
  assert_int_equal(f.powercut, 0);
  assert_file("a.dat", "baseXXXXYYYY", 12);
}

static void kill_after_write_keeps_that_write(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("append", "kill-after@write", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_KILL_AFTER);
  assert_file("a.dat", "baseXXXX", 8);
}

static void o_dsync_write_survives_crash_but_plain_write_does_not(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("dsync", "crash@close#2", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "write 4\nwrite 4\n");
  assert_file("a.dat", "baseSYNC", 8);
}

static void write_through_fcntl_dupfd_alias_is_tracked(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("fcntl-dup", "crash@close#2", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "write 4\n");
  assert_file("a.dat", "base", 4);
}

/* O_APPEND cleared with fcntl(F_SETFL) after the open: the write lands at the
 * fd's position (an overwrite of durable bytes), and the power cut restores
 * them. The shim once kept the open's O_APPEND and modelled it as an append
 * at the end, so the overwrite survived the cut (a missed loss). */
static void overwrite_after_setfl_clears_append_is_undone(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("setfl-overwrite", "crash@close", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "write 4\n");
  assert_file("a.dat", "base", 4);
}

static void create_fsync_without_dirsync_is_lost_under_strict(void **st) {
  res_t r;
  run("create-fsync", "crash@open(marker)", "strict", NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "fsync 0");
  assert_missing("new.dat");
  assert_missing("marker");
}

static void create_fsync_without_dirsync_is_kept_under_ext4(void **st) {
  res_t r;
  run("create-fsync", "crash@open(marker)", "ext4", NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_file("new.dat", "hello", 5);
  assert_missing("marker");
}

/* ext4's journal: the fsync of a new file commits the earlier rename of another file too */
/* A file renamed over another keeps no unsynced data under any model: ext4's auto_da_alloc
 * starts the data's writeback at the rename, but the state on real ext4 after a shutdown
 * showed the renamed file empty with its rename durable (docs/faultfs.md, fidelity), so
 * no model may count on it; XFS has no such flush at all. */
static void rename_over_keeps_no_unsynced_data_under_any_model(void **st) {
  static const char *const models[] = {"ext4", "xfs", "strict"};
  res_t r;
  for (int i = 0; i < 3; i++) {
    reset_dirs();
    put("a.dat", "base", 4);
    run("rename-over-unsynced", "crash@open(marker)", models[i], NULL, &r);
    assert_crashed(&r, FFS_A_CRASH);
    assert_file("a.dat", "", 0);
    assert_missing("tmp");
  }
}

/* An overwrite of bytes that the previous epoch saved and synced is undone at a crash:
 * the real file system showed SQLite's header page (its change counter) back at its synced
 * value where every model kept the unsynced overwrite (docs/faultfs.md, fidelity) */
static void overwrite_again_after_sync_is_undone(void **st) {
  static const char *const models[] = {"strict", "ext4", "xfs"};
  res_t r;
  for (int i = 0; i < 3; i++) {
    reset_dirs();
    put("a.dat", "base", 4);
    run("overwrite-again-after-sync", "crash@open(marker)", models[i], NULL, &r);
    assert_crashed(&r, FFS_A_CRASH);
    assert_file("a.dat", "B1se", 4);
  }
}

/* The journal rules hold under xfs as under ext4: the new file's fsync commits the
 * earlier rename of another file. */
static void fsync_of_a_new_file_commits_an_earlier_rename_under_xfs(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("rename-then-fsync-other", "crash@open(marker)", "xfs", NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_file("moved.dat", "base", 4);
  assert_missing("a.dat");
  assert_file("new.dat", "hello", 5);
}

static void fsync_of_a_new_file_commits_an_earlier_rename_under_ext4(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("rename-then-fsync-other", "crash@open(marker)", "ext4", NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_file("moved.dat", "base", 4);
  assert_missing("a.dat");
  assert_file("new.dat", "hello", 5);
  reset_dirs();
  put("a.dat", "base", 4);
  run("rename-then-fsync-other", "crash@open(marker)", "strict", NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_file("a.dat", "base", 4);
  assert_missing("moved.dat");
  assert_missing("new.dat");
}

/* an fdatasync of an in-place overwrite has nothing to commit: an earlier create stays lost */
static void fdatasync_of_an_overwrite_commits_nothing_under_ext4(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("create-then-overwrite-fdatasync", "crash@open(marker)", "ext4", NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_file("a.dat", "Base", 4);
  assert_missing("x");
}

static void fsync_after_rename_keeps_new_name_under_ext4_only(void **st) {
  res_t r;
  run("create-rename-fsync", "crash@open(marker)", "ext4", NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_file("final", "data", 4);
  assert_missing("tmp");
  reset_dirs();
  run("create-rename-fsync", "crash@open(marker)", "strict", NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_missing("final");
  assert_missing("tmp");
}

static void rename_without_dirsync_is_undone(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("rename", "crash@open(marker)", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "rename 0");
  assert_file("a.dat", "base", 4);
  assert_missing("tmp.dat");
}

static void rename_with_dirsync_is_kept(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("rename-dirsync", "crash@open(marker)", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "dirsync 0");
  assert_file("a.dat", "new!", 4);
  assert_missing("tmp.dat");
}

static void rename_with_dirsync_through_opendir_dirfd_is_kept(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("rename-dirfd", "crash@open(marker)", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "dirsync 0");
  assert_file("a.dat", "new!", 4);
}

static void directory_rename_is_undone_and_files_under_it_roll_back(void **st) {
  res_t r;
  run("dir-rename", "crash@close#4", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "rename 0\nwrite 4\n");
  assert_missing("final");
  assert_file("tmpdir/f", "v1", 2);
}

/* data dir on disk (/tmp), state dir on tmpfs: victims are byte copies, not hard links */
static void rename_undo_works_with_state_on_another_filesystem(void **st) {
  struct stat a, b;
  char disk[] = "/var/tmp/ffs-e2e-disk-XXXXXX", saved[sizeof g_data];
  if (stat("/dev/shm", &a) != 0 || !mkdtemp(disk)) skip();
  if (stat(disk, &b) != 0 || a.st_dev == b.st_dev || strncmp(g_base, "/dev/shm", 8) != 0) { rmdir(disk); skip(); }
  memcpy(saved, g_data, sizeof saved);
  snprintf(g_data, sizeof g_data, "%s", disk);
  res_t r;
  put("a.dat", "base", 4);
  run("rename", "crash@open(marker)", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_file("a.dat", "base", 4);
  assert_missing("tmp.dat");
  ffs_rm_rf(disk);
  memcpy(g_data, saved, sizeof saved);
}

static void at_calls_on_a_tracked_dirfd_are_modelled(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("at-calls", "crash@close#2", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "dirsync 0\nrenameat 0\nunlinkat 0\nmkdirat 0\n");
  assert_file("x", "xx", 2);   /* created, synced, dir synced */
  assert_missing("y");         /* the rename was not durable */
  assert_file("a.dat", "base", 4);
  assert_missing("sub");
}

static void sync_and_syncfs_make_everything_durable(void **st) {
  static const char *const sc[] = {"sync", "syncfs"};
  for (int k = 0; k < 2; k++) {
    res_t r;
    reset_dirs();
    put("a.dat", "base", 4);
    run(sc[k], "crash@close", NULL, NULL, &r);
    assert_crashed(&r, FFS_A_CRASH);
    assert_file("s.dat", "sync", 4); /* created, written, synced; "more" came later */
    assert_file("b.dat", "base", 4);
    assert_missing("a.dat");
  }
}

static void eio_then_successful_fsync_still_loses_data(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("fsyncgate", "eio@fsync#1;crash@close", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "fsync -1 5\n");
  assert_out_has(&r, "fsync 0\n");
  /* LOST was covered by the failed fsync: its bytes are gone (zeros; the later fsync made
   * the size durable); KEPT was written after it and synced successfully. */
  assert_file("a.dat", "base\0\0\0\0KEPT", 12);
}

static void torn_overwrite_keeps_exactly_the_planned_bytes(void **st) {
  res_t r;
  char a[4096], want[4096];
  memset(a, 'A', sizeof a);
  put("a.dat", a, sizeof a);
  run("overwrite", "torn@pwrite:1000", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_TORN);
  memset(want, 'A', sizeof want);
  memset(want, 'B', 1000);
  assert_file("a.dat", want, sizeof want);
}

static void overwrite_larger_than_the_initial_undo_log_rolls_back(void **st) {
  res_t r;
  size_t n = 3u << 20;
  char *a = malloc(n), *b = malloc(n + 1);
  for (size_t i = 0; i < n; i++) a[i] = (char)('a' + i % 23);
  put("a.dat", a, n);
  run("big-overwrite", "crash@close", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  char p[700];
  snprintf(p, sizeof p, "%s/a.dat", g_data);
  int fd = open(p, O_RDONLY);
  assert_true(fd >= 0);
  size_t got = 0;
  ssize_t k;
  while ((k = read(fd, b + got, n + 1 - got)) > 0) got += (size_t)k;
  close(fd);
  assert_int_equal(got, n);
  assert_memory_equal(a, b, n);
  free(a);
  free(b);
}

static void open_with_o_trunc_is_undone_at_crash(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("truncopen", "crash@close", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "write 3");
  assert_file("a.dat", "base", 4);
}

/* A sparse file's holes are saved as holes: an O_TRUNC open of a 4 GiB file holding 8 bytes
 * of data used to copy 4 GiB of zeros into the undo log. After the crash the file is back,
 * data and size, and still sparse. */
static void o_trunc_of_a_sparse_file_saves_its_holes_as_holes(void **st) {
  const uint64_t size = 4ull << 30;
  char p[4096];
  struct stat sb;
  res_t r;
  put("a.dat", "head", 4);
  snprintf(p, sizeof p, "%s/a.dat", g_data);
  int fd = open(p, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, "tail", 4, (off_t)(size - 4)), 4);
  assert_int_equal(fsync(fd), 0);
  close(fd);
  run("truncopen", "crash@close", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "write 3");
  snprintf(p, sizeof p, "%s/%s", g_state, FFS_STATE_UNDO);
  assert_int_equal(stat(p, &sb), 0);
  if ((uint64_t)sb.st_size > (1u << 20)) fail_msg("undo log is %lld bytes for 8 bytes of data", (long long)sb.st_size);
  snprintf(p, sizeof p, "%s/a.dat", g_data);
  assert_int_equal(stat(p, &sb), 0);
  assert_int_equal((uint64_t)sb.st_size, size);
  if ((uint64_t)sb.st_blocks * 512 > (64u << 20)) fail_msg("a.dat holds %lld blocks: its holes were filled", (long long)sb.st_blocks);
  char buf[4];
  fd = open(p, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(pread(fd, buf, 4, 0), 4);
  assert_memory_equal(buf, "head", 4);
  assert_int_equal(pread(fd, buf, 4, 1 << 20), 4);
  assert_memory_equal(buf, "\0\0\0\0", 4);
  assert_int_equal(pread(fd, buf, 4, (off_t)(size - 4)), 4);
  assert_memory_equal(buf, "tail", 4);
  close(fd);
}

static void torn_and_short_writev_cut_across_iovecs(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("writev", "torn@writev:5", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_TORN);
  assert_file("a.dat", "baseaaabb", 9);
  reset_dirs();
  put("a.dat", "base", 4);
  run("writev", "short@writev:7", NULL, NULL, &r);
  assert_true(r.exited && r.code == 0);
  assert_out_has(&r, "writev 7\n");
  assert_file("a.dat", "baseaaabbbc", 11);
}

static void torn_append_keeps_exactly_the_planned_prefix(void **st) {
  res_t r;
  char want[1004];
  put("a.dat", "base", 4);
  run("bigappend", "torn@write:1000", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_TORN);
  memcpy(want, "base", 4);
  memset(want + 4, 'C', 1000);
  assert_file("a.dat", want, sizeof want);
}

static void parent_rollback_after_external_sigkill_matches_shim_rollback(void **st) {
  res_t r;
  char a[65536] = "", b[65536] = "", c[65536] = "", err[512];
  /* in-shim power cut at the marker */
  put("a.dat", "0123456789abcdef", 16);
  put("old.dat", "old", 3);
  put("old2.dat", "old2", 4);
  run("mixed", "crash@open(marker)", NULL, "close", &r);
  assert_crashed(&r, FFS_A_CRASH);
  snapshot_dir(g_data, "", a, sizeof a);
  /* same program killed from outside at the same point, then rolled back by the parent */
  reset_dirs();
  put("a.dat", "0123456789abcdef", 16);
  put("old.dat", "old", 3);
  put("old2.dat", "old2", 4);
  char *argv[] = {FFS_PROG_PATH, "mixed", g_data, "hang", NULL};
  run_argv(argv, "none", NULL, NULL, NULL, "ready", &r);
  assert_int_equal(r.sig, SIGKILL);
  assert_int_equal(ffs_rollback(g_state, g_data, err, sizeof err), 0);
  snapshot_dir(g_data, "", b, sizeof b);
  assert_string_equal(a, b);
  /* and it is the durable state: synced log prefix, a.dat and old.dat as before, no t1/t2/sub */
  char log[3000];
  memset(log, 'm', sizeof log);
  assert_file("log", log, sizeof log);
  assert_file("a.dat", "0123456789abcdef", 16);
  assert_file("old.dat", "old", 3);
  assert_missing("t1");
  assert_missing("t2");
  assert_missing("sub");
  assert_file("old2.dat", "old2", 4);
  assert_missing("moved.dat");
  /* idempotent: by the flag, and step by step (flag cleared, everything applied again) */
  assert_int_equal(ffs_rollback(g_state, g_data, err, sizeof err), 0);
  snapshot_dir(g_data, "", c, sizeof c);
  assert_string_equal(b, c);
  char up[700];
  uint32_t zero = 0;
  snprintf(up, sizeof up, "%s/%s", g_state, FFS_STATE_UNDO);
  int fd = open(up, O_WRONLY);
  assert_int_equal(pwrite(fd, &zero, sizeof zero, 32), (ssize_t)sizeof zero);
  close(fd);
  assert_int_equal(ffs_rollback(g_state, g_data, err, sizeof err), 0);
  c[0] = 0;
  snapshot_dir(g_data, "", c, sizeof c);
  assert_string_equal(b, c);
}

static void rollback_again_after_shim_rollback_changes_nothing(void **st) {
  res_t r;
  char err[512];
  put("a.dat", "base", 4);
  run("append", "crash@close", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  put("a.dat", "after", 5); /* a later change the second rollback must not touch */
  assert_int_equal(ffs_rollback(g_state, g_data, err, sizeof err), 0);
  assert_file("a.dat", "after", 5);
}

static void enospc_fails_the_write_without_crash(void **st) {
  res_t r;
  char want[104];
  put("a.dat", "base", 4);
  run("errors", "enospc@write#2", NULL, NULL, &r);
  assert_true(r.exited && r.code == 0);
  assert_out_has(&r, "write 100\nwrite -1 28\nclose 0");
  memcpy(want, "base", 4);
  memset(want + 4, 'e', 100);
  assert_file("a.dat", want, sizeof want);
}

static void edquot_and_eio_fail_every_call_from_n(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("errors", "edquot@write#1+", NULL, NULL, &r);
  assert_true(r.exited);
  assert_out_has(&r, "write -1 122\nwrite -1 122\n");
  reset_dirs();
  put("a.dat", "base", 4);
  run("errors", "eio@close", NULL, NULL, &r);
  assert_out_has(&r, "close -1 5");
}

static void short_write_returns_fewer_bytes(void **st) {
  res_t r;
  char want[114];
  put("a.dat", "base", 4);
  run("errors", "short@write:10", NULL, NULL, &r);
  assert_true(r.exited && r.code == 0);
  assert_out_has(&r, "write 10\nwrite 100\n");
  memcpy(want, "base", 4);
  memset(want + 4, 'e', 110);
  assert_file("a.dat", want, sizeof want);
}

static void flip_returns_the_planned_bit_flipped(void **st) {
  res_t r;
  put("a.dat", "ABCDEFGH", 8);
  run("read", "flip@read:11", NULL, NULL, &r);
  assert_true(r.exited && r.code == 0);
  /* bit 11 = byte 1, bit 3: 'B' (0x42) ^ 0x08 = 0x4a */
  assert_out_has(&r, "read 8 41 4a 43 44 45 46 47 48");
  assert_file("a.dat", "ABCDEFGH", 8); /* the file itself is intact */
}

static void flip_without_arg_is_seeded_and_deterministic(void **st) {
  res_t r1, r2;
  put("a.dat", "ABCDEFGH", 8);
  char *argv[] = {FFS_PROG_PATH, "read", g_data, NULL};
  run_argv(argv, "flip@read", NULL, "42", NULL, NULL, &r1);
  run_argv(argv, "flip@read", NULL, "42", NULL, NULL, &r2);
  assert_string_equal(r1.out, r2.out);
  unsigned v[8];
  const char *p = strstr(r1.out, "read 8 ");
  assert_non_null(p);
  assert_int_equal(sscanf(p, "read 8 %x %x %x %x %x %x %x %x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]), 8);
  int bits = 0;
  for (int i = 0; i < 8; i++) bits += __builtin_popcount(v[i] ^ (unsigned)("ABCDEFGH"[i]));
  assert_int_equal(bits, 1);
}

static void multithreaded_crash_stops_every_writer(void **st) {
  res_t r;
  char *argv[] = {FFS_PROG_PATH, "threads", g_data, NULL};
  run_argv(argv, "crash@fsync#20", NULL, NULL, NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  /* 20 fsyncs ran, but every file was created without a dir fsync: under strict none
   * of them survives, whatever was synced into it */
  for (int t = 0; t < 4; t++) {
    char name[16], buf[64];
    snprintf(name, sizeof name, "t%d.dat", t);
    ssize_t n = get(name, buf, sizeof buf);
    if (n >= 0) fail_msg("%s survived with %zd bytes: its creation was never made durable", name, n);
  }
  /* so the data check runs under ext4, where an fsync makes the file's creation durable:
   * every completed fsync made exactly one batch of 5 x 64 bytes durable and nothing
   * written after the crash point survives, so sizes are whole batches summing to 19 */
  reset_dirs();
  run_argv(argv, "crash@fsync#20", "ext4", NULL, NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  long batches = 0;
  for (int t = 0; t < 4; t++) {
    char name[16], buf[65536];
    snprintf(name, sizeof name, "t%d.dat", t);
    ssize_t n = get(name, buf, sizeof buf);
    if (n < 0) continue;
    if (n % 320) fail_msg("%s: %zd bytes is not a whole number of batches", name, n);
    for (ssize_t i = 0; i < n; i += 64) {
      char want[16];
      int k = snprintf(want, sizeof want, "%d:%zd:", t, i / 64);
      assert_memory_equal(buf + i, want, (size_t)k);
    }
    batches += n / 320;
  }
  assert_int_equal(batches, 19);
}

static void writes_outside_the_data_dir_are_untouched(void **st) {
  res_t r;
  char buf[64];
  put("a.dat", "base", 4);
  put_in(g_out, "gone.txt", "bye", 3);
  put_in(g_out, "in.txt", "in", 2);
  run("outside", "crash@open(marker)", NULL, g_out, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "rename-in 0");
  assert_file("a.dat", "base", 4);
  assert_missing("in.txt"); /* moved in without a dir fsync: a non-durable create */
  assert_int_equal(get_in(g_out, "in.txt", buf, sizeof buf), -1); /* and never put back outside */
  assert_int_equal(get_in(g_out, "out.txt", buf, sizeof buf), 7);
  assert_memory_equal(buf, "outside", 7);
  assert_int_equal(get_in(g_out, "gone.txt", buf, sizeof buf), -1);
  /* the state dir holds only the shim's own files */
  DIR *d = opendir(g_state);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (strcmp(e->d_name, FFS_STATE_UNDO) && strcmp(e->d_name, FFS_STATE_FIRED) && strcmp(e->d_name, FFS_STATE_MARKER) &&
        strncmp(e->d_name, FFS_STATE_VICTIMS, 1))
      fail_msg("unexpected file in state dir: %s", e->d_name);
  }
  closedir(d);
  /* and the outside dir holds exactly what the program wrote */
  d = opendir(g_out);
  int n = 0;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  assert_int_equal(n, 1);
}

static void fd_closed_by_fclose_is_forgotten(void **st) {
  res_t r;
  ffs_fired f;
  put("a.dat", "base", 4);
  run("fclose-reuse", "crash@write", NULL, NULL, &r);
  assert_true(r.exited && r.code == 0);
  assert_out_has(&r, "same fd 1\nwrite-sock 4\n");
  assert_int_equal(ffs_fired_read(g_state, &f), FFS_ENOTFIRED); /* the write was not a.dat's */
}

static void invalid_plan_fails_before_the_program_runs(void **st) {
  res_t r;
  run("append", "explode@write", NULL, NULL, &r);
  assert_true(r.exited);
  assert_int_equal(r.code, 2);
  assert_null(strstr(r.out, "started"));
  assert_non_null(strstr(r.err, "unknown action 'explode'"));
  run("append", "crash@wrte", NULL, NULL, &r);
  assert_int_equal(r.code, 2);
  assert_non_null(strstr(r.err, "unknown op 'wrte'"));
}

static void missing_data_dir_fails_before_the_program_runs(void **st) {
  res_t r;
  ffs_rm_rf(g_data);
  run("append", "crash@close", NULL, NULL, &r);
  assert_true(r.exited);
  assert_int_equal(r.code, 2);
  assert_null(strstr(r.out, "started"));
  assert_non_null(strstr(r.err, "data dir"));
}

static void read_file(const char *path, char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  *data = malloc(*len + 1);
  assert_int_equal(fread(*data, 1, *len, f), *len);
  fclose(f);
}

static void same_case_gives_byte_identical_trace(void **st) {
  res_t r;
  char t1[700], t2[700];
  char *d1, *d2;
  size_t l1, l2;
  snprintf(t1, sizeof t1, "%s/t1.trace", g_out);
  snprintf(t2, sizeof t2, "%s/t2.trace", g_out);
  char *argv[] = {FFS_PROG_PATH, "mixed", g_data, "close", NULL};
  for (int k = 0; k < 2; k++) {
    reset_dirs();
    snprintf(t1, sizeof t1, "%s/../ffs-trace-%d-%d", g_base, (int)getpid(), k); /* outlives reset_dirs */
    put("a.dat", "0123456789abcdef", 16);
    put("old.dat", "old", 3);
  put("old2.dat", "old2", 4);
    run_argv(argv, "crash@open(marker)", NULL, "5", t1, NULL, &r);
    assert_crashed(&r, FFS_A_CRASH);
  }
  snprintf(t1, sizeof t1, "%s/../ffs-trace-%d-0", g_base, (int)getpid());
  snprintf(t2, sizeof t2, "%s/../ffs-trace-%d-1", g_base, (int)getpid());
  read_file(t1, &d1, &l1);
  read_file(t2, &d2, &l2);
  assert_int_equal(l1, l2);
  assert_memory_equal(d1, d2, l1);
  /* the reader sees the calls in order and the firing at the marker */
  ffs_trace *t;
  ffs_trace_rec *rec = malloc(sizeof *rec);
  assert_int_equal(ffs_trace_open(t1, &t), 0);
  uint64_t expect = 0;
  int fired = 0, fsyncs = 0, rc;
  while ((rc = ffs_trace_next(t, rec)) == 1) {
    assert_int_equal(rec->index, expect++);
    if (rec->op == FFS_OP_FSYNC && rec->result == 0) {
      fsyncs++;
      assert_true(rec->dur & (FFS_DUR_SYNC | FFS_DUR_DIRSYNC));
    }
    if (rec->dur & FFS_DUR_FIRED) {
      fired++;
      assert_int_equal(rec->op, FFS_OP_OPEN);
      assert_string_equal(rec->path, "marker");
    }
  }
  assert_int_equal(rc, 0);
  assert_int_equal(fired, 1);
  assert_int_equal(fsyncs, 3); /* log, the data dir, t1 */
  ffs_trace_close(t);
  free(rec);
  free(d1);
  free(d2);
  unlink(t1);
  unlink(t2);
}

static void libfiu_failure_point_drives_the_shim(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  run("fiu", "none", NULL, NULL, &r);
  assert_true(r.exited && r.code == 0);
  assert_out_has(&r, "write -1 28\nwrite 4\n");
  assert_file("a.dat", "baseYYYY", 8);
}

static void forkserver_child_configures_the_shim(void **st) {
  res_t r;
  put("a.dat", "base", 4);
  char *argv[] = {FFS_PROG_PATH, "forkserver", g_data, g_state, NULL};
  run_argv(argv, NULL, NULL, NULL, NULL, NULL, &r); /* FAULTFS_PLAN unset: idle */
  assert_true(r.exited && r.code == 0);
  assert_out_has(&r, "child 9\nchild 9\n");
  /* each child's unsynced append was rolled back; the idle parent's write passed through */
  assert_file("a.dat", "basePPPP", 8);
}

static void reorder_keeps_a_seeded_subset_of_sectors(void **st) {
  char outcomes[8][20];
  int distinct = 0;
  for (int s = 0; s < 8; s++) {
    res_t r;
    char seed[8], buf[16384];
    reset_dirs();
    put("a.dat", "", 0);
    snprintf(seed, sizeof seed, "%d", s);
    char *argv[] = {FFS_PROG_PATH, "bigappend", g_data, NULL};
    run_argv(argv, "crash@close", "reorder", seed, NULL, NULL, &r);
    assert_crashed(&r, FFS_A_CRASH);
    ssize_t n = get("a.dat", buf, sizeof buf);
    assert_true(n >= 0 && n <= 8192 && n % 512 == 0);
    for (int k = 0; k < 16; k++) {
      char c = k * 512 < n ? buf[k * 512] : '-';
      if (k * 512 < n)
        for (int j = 0; j < 512; j++) assert_int_equal(buf[k * 512 + j], c); /* whole sectors */
      assert_true(c == 'C' || c == 0 || c == '-');
      outcomes[s][k] = c == 'C' ? 'C' : '.';
    }
    outcomes[s][16] = 0;
    int seen = 0;
    for (int q = 0; q < s; q++) seen |= !strcmp(outcomes[q], outcomes[s]);
    distinct += !seen;
    if (s == 3) { /* same seed, same outcome */
      char again[16384];
      reset_dirs();
      put("a.dat", "", 0);
      run_argv(argv, "crash@close", "reorder", seed, NULL, NULL, &r);
      assert_int_equal(get("a.dat", again, sizeof again), n);
      assert_memory_equal(again, buf, (size_t)n);
    }
  }
  assert_true(distinct >= 3);
}

static void shared_mmap_write_is_reported_in_the_trace(void **st) {
  res_t r;
  char tp[700];
  snprintf(tp, sizeof tp, "%s/m.trace", g_out);
  put("a.dat", "abcd", 4);
  char *argv[] = {FFS_PROG_PATH, "mmap", g_data, NULL};
  run_argv(argv, "none", NULL, NULL, tp, NULL, &r);
  assert_true(r.exited && r.code == 0);
  ffs_trace *t;
  ffs_trace_rec rec;
  int warned = 0;
  assert_int_equal(ffs_trace_open(tp, &t), 0);
  while (ffs_trace_next(t, &rec) == 1)
    if ((rec.dur & FFS_DUR_WARN) && rec.op == FFS_OP_MMAP && !strcmp(rec.path, "a.dat")) warned++;
  ffs_trace_close(t);
  assert_int_equal(warned, 1);
}

/* sqlite3 (the real program) under a crash at several points of a 300-row transaction:
 * afterwards the database opens, passes integrity_check, and holds exactly what the
 * durability model says: in rollback-journal mode the transaction is never durable here (the
 * journal's deletion is not followed by a directory fsync, so strict undoes it and the hot
 * journal rolls the db back); in WAL mode it is durable once the commit frame's fdatasync
 * (#3) returned. */
static void sqlite3_survives_crash_points(void **st) {
  static const struct { const char *mode, *plan; int rows; } cases[] = {
      {"delete", "crash@fdatasync#1", 1},       {"delete", "crash@fdatasync#2", 1},
      {"delete", "crash@fdatasync#3", 1},       {"delete", "crash@fdatasync#4", 1},
      {"delete", "crash@pwrite#1", 1},          {"delete", "crash@pwrite#3", 1},
      {"delete", "crash@pwrite(t.db)#2", 1},    {"delete", "crash@unlink", 1},
      {"delete", "crash-after@unlink", 1},      {"delete", "torn@pwrite#2:100", 1},
      {"delete", "crash-after@pwrite(t.db)#1", 1},
      {"wal", "crash@fdatasync#1", 1},          {"wal", "crash@fdatasync#3", 1},
      {"wal", "crash-after@fdatasync#3", 301},  {"wal", "crash@fdatasync#4", 301},
      {"wal", "crash@ftruncate(t.db)", 301},    {"wal", "crash@unlink(t.db-wal)", 301},
      {"wal", "torn@pwrite(t.db)#5:1000", 301}, {"wal", "torn@pwrite(t.db-wal)#3:700", 1},
  };
  const char *sql =
      "BEGIN; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<300) "
      "INSERT INTO t SELECT printf('%0500d', i) FROM c; COMMIT;";
  if (access("/usr/bin/sqlite3", X_OK) != 0) skip();
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    res_t r;
    char db[700], cmd[2048], want[32];
    reset_dirs();
    snprintf(db, sizeof db, "%s/t.db", g_data);
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' \"PRAGMA journal_mode=%s; CREATE TABLE t(x); INSERT INTO t VALUES('seed');\" >/dev/null", db,
             cases[k].mode);
    assert_int_equal(system(cmd), 0);
    char *argv[] = {"/usr/bin/sqlite3", db, (char *)sql, NULL};
    run_argv(argv, cases[k].plan, NULL, NULL, NULL, NULL, &r);
    ffs_fired f;
    if (ffs_fired_read(g_state, &f) != 0) fail_msg("%s %s did not fire (exit %d)", cases[k].mode, cases[k].plan, r.code);
    assert_int_equal(r.sig, SIGKILL);
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'PRAGMA integrity_check; SELECT count(*) FROM t;'", db);
    FILE *p = popen(cmd, "r");
    char out[256] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    snprintf(want, sizeof want, "ok\n%d\n", cases[k].rows);
    if (strcmp(out, want) != 0)
      fail_msg("journal_mode=%s, %s: sqlite3 says '%s', want '%s'", cases[k].mode, cases[k].plan, out, want);
  }
}

static void pwritev2_with_rwf_dsync_or_rwf_sync_is_durable(void **st) {
  res_t r;
  const char *flags[] = {"dsync", "sync"};
  for (int k = 0; k < 2; k++) {
    reset_dirs();
    put("a.dat", "base", 4);
    run("rwf-sync", "crash@close", NULL, flags[k], &r);
    assert_crashed(&r, FFS_A_CRASH);
    assert_out_has(&r, "write 4\nwrite 4\n");
    assert_file("a.dat", "baseSYNC", 8);
  }
}

/* the data dir named through a symlink, `..` after a symlinked component, or the shim
 * configured with the symlink and the program using the real path: one data dir */
static void data_dir_spelled_through_symlinks_is_tracked(void **st) {
  char ln[700], deep[700], ln2[700], via[800];
  for (int k = 0; k < 3; k++) {
    res_t r;
    reset_dirs();
    snprintf(ln, sizeof ln, "%s/ln", g_base);
    snprintf(deep, sizeof deep, "%s/deep/x", g_base);
    snprintf(ln2, sizeof ln2, "%s/ln2", g_base);
    assert_int_equal(symlink(g_data, ln), 0);
    snprintf(via, sizeof via, "%s/deep", g_base);
    assert_int_equal(mkdir(via, 0755), 0);
    assert_int_equal(mkdir(deep, 0755), 0);
    assert_int_equal(symlink(deep, ln2), 0);
    put("a.dat", "base", 4);
    const char *prog_dir = g_data;
    if (k == 0) prog_dir = ln;                                      /* program uses the symlink */
    if (k == 1) { snprintf(via, sizeof via, "%s/../../data", ln2); prog_dir = via; } /* ".." after a symlink */
    if (k == 2) g_envdir = ln;                                      /* FAULTFS_DIR is the symlink */
    char *argv[] = {FFS_PROG_PATH, "append", (char *)prog_dir, "", NULL};
    run_argv(argv, "crash@close", NULL, NULL, NULL, NULL, &r);
    g_envdir = NULL;
    assert_crashed(&r, FFS_A_CRASH);
    assert_out_has(&r, "write 4\nwrite 4\n");
    assert_file("a.dat", "base", 4);
  }
}

static void assert_file_in(const char *dir, const char *name, const char *want) {
  char buf[256];
  ssize_t n = get_in(dir, name, buf, sizeof buf);
  if (n != (ssize_t)strlen(want) || memcmp(buf, want, strlen(want)) != 0)
    fail_msg("%s/%s: got %zd bytes '%.*s', want '%s'", dir, name, n, n > 0 ? (int)n : 0, buf, want);
}

/* names inside the data dir whose real file is outside: written, never rolled back */
static void writes_through_links_leading_outside_are_never_rolled_back(void **st) {
  res_t r;
  char p1[700], p2[700];
  put_in(g_out, "existing", "old", 3);
  put_in(g_out, "trunc", "tt", 2);
  put_in(g_out, "linked", "lk", 2);
  put_in(g_out, "hardfile", "hd", 2);
  snprintf(p1, sizeof p1, "%s/sub", g_data);
  assert_int_equal(symlink(g_out, p1), 0);
  snprintf(p1, sizeof p1, "%s/link", g_data);
  snprintf(p2, sizeof p2, "%s/linked", g_out);
  assert_int_equal(symlink(p2, p1), 0);
  snprintf(p1, sizeof p1, "%s/hard", g_data);
  snprintf(p2, sizeof p2, "%s/hardfile", g_out);
  assert_int_equal(link(p2, p1), 0);
  put("a.dat", "base", 4);
  run("escape", "crash@close(a.dat)", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_CRASH);
  assert_out_has(&r, "truncate 0\nmkdir 0\nwrite 4\n");
  assert_file("a.dat", "base", 4); /* the data dir itself was rolled back */
  assert_file_in(g_out, "new", "n\n");
  assert_file_in(g_out, "existing", "olda\n");
  assert_file_in(g_out, "trunc", "t");
  assert_file_in(g_out, "linked", "lkL");
  assert_file_in(g_out, "hardfile", "hdH");
  struct stat s;
  snprintf(p1, sizeof p1, "%s/newdir", g_out);
  if (stat(p1, &s) < 0 || !S_ISDIR(s.st_mode)) fail_msg("%s was removed", p1);
  if (!strstr(r.err, "/hard has 2 hard links: not tracked, never rolled back"))
    fail_msg("no hard-link report on stderr:\n%s", r.err);
  /* a rollback from the parent changes nothing more */
  char err[512];
  assert_int_equal(ffs_rollback(g_state, g_data, err, sizeof err), 0);
  assert_file_in(g_out, "existing", "olda\n");
  assert_file_in(g_out, "hardfile", "hdH");
}

/* after the run, sub/ is moved outside and a symlink put in its place: the parent's
 * rollback must not follow it (the new file and the append are outside now) */
static void rollback_does_not_follow_a_dir_replaced_by_a_symlink(void **st) {
  res_t r;
  char sub[700], moved[700], err[512];
  snprintf(sub, sizeof sub, "%s/sub", g_data);
  assert_int_equal(mkdir(sub, 0755), 0);
  put("sub/old", "old", 3);
  run("subcreate", "kill-after@close#2", NULL, NULL, &r);
  assert_crashed(&r, FFS_A_KILL_AFTER);
  assert_file("sub/new", "new", 3);
  snprintf(moved, sizeof moved, "%s/sub", g_out);
  assert_int_equal(rename(sub, moved), 0);
  assert_int_equal(symlink(moved, sub), 0);
  int rc = ffs_rollback(g_state, g_data, err, sizeof err);
  assert_int_equal(rc, FFS_EINVAL);
  if (!strstr(err, "leads outside the data dir")) fail_msg("rollback message: %s", err);
  assert_file_in(moved, "new", "new");
  assert_file_in(moved, "old", "oldmore");
}

/* msync(MS_SYNC) makes mapped writes durable for real; the model cannot see them, so the
 * program is told (stderr) and the trace carries a warning for the msync too */
static void msync_of_a_shared_mapping_is_reported_not_modelled(void **st) {
  res_t r;
  char tp[700];
  snprintf(tp, sizeof tp, "%s/m.trace", g_out);
  put("a.dat", "abcd", 4);
  char *argv[] = {FFS_PROG_PATH, "mmap", g_data, "msync", NULL};
  run_argv(argv, "none", NULL, NULL, tp, NULL, &r);
  assert_true(r.exited && r.code == 0);
  assert_out_has(&r, "msync 0");
  if (!strstr(r.err, "msync(MS_SYNC) of a shared mapping of ") || !strstr(r.err, "/a.dat: writes through mappings are not modelled"))
    fail_msg("no msync report on stderr:\n%s", r.err);
  ffs_trace *t;
  ffs_trace_rec rec;
  int warned = 0;
  assert_int_equal(ffs_trace_open(tp, &t), 0);
  while (ffs_trace_next(t, &rec) == 1)
    if ((rec.dur & FFS_DUR_WARN) && rec.op == FFS_OP_MMAP && !strcmp(rec.path, "a.dat")) warned++;
  ffs_trace_close(t);
  assert_int_equal(warned, 2); /* the mmap and the msync */
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(append_without_fsync_is_lost_at_crash, setup, teardown),
      cmocka_unit_test_setup_teardown(append_with_fsync_is_kept_at_crash, setup, teardown),
      cmocka_unit_test_setup_teardown(crash_after_fsync_keeps_synced_data, setup, teardown),
      cmocka_unit_test_setup_teardown(kill_keeps_page_cache_data, setup, teardown),
      cmocka_unit_test_setup_teardown(kill_after_write_keeps_that_write, setup, teardown),
      cmocka_unit_test_setup_teardown(o_dsync_write_survives_crash_but_plain_write_does_not, setup, teardown),
      cmocka_unit_test_setup_teardown(write_through_fcntl_dupfd_alias_is_tracked, setup, teardown),
      cmocka_unit_test_setup_teardown(overwrite_after_setfl_clears_append_is_undone, setup, teardown),
      cmocka_unit_test_setup_teardown(create_fsync_without_dirsync_is_lost_under_strict, setup, teardown),
      cmocka_unit_test_setup_teardown(create_fsync_without_dirsync_is_kept_under_ext4, setup, teardown),
      cmocka_unit_test_setup_teardown(fsync_after_rename_keeps_new_name_under_ext4_only, setup, teardown),
      cmocka_unit_test_setup_teardown(fsync_of_a_new_file_commits_an_earlier_rename_under_ext4, setup, teardown),
      cmocka_unit_test_setup_teardown(fsync_of_a_new_file_commits_an_earlier_rename_under_xfs, setup, teardown),
      cmocka_unit_test_setup_teardown(rename_over_keeps_no_unsynced_data_under_any_model, setup, teardown),
      cmocka_unit_test_setup_teardown(overwrite_again_after_sync_is_undone, setup, teardown),
      cmocka_unit_test_setup_teardown(o_trunc_of_a_sparse_file_saves_its_holes_as_holes, setup, teardown),
      cmocka_unit_test_setup_teardown(fdatasync_of_an_overwrite_commits_nothing_under_ext4, setup, teardown),
      cmocka_unit_test_setup_teardown(rename_without_dirsync_is_undone, setup, teardown),
      cmocka_unit_test_setup_teardown(rename_with_dirsync_is_kept, setup, teardown),
      cmocka_unit_test_setup_teardown(rename_with_dirsync_through_opendir_dirfd_is_kept, setup, teardown),
      cmocka_unit_test_setup_teardown(directory_rename_is_undone_and_files_under_it_roll_back, setup, teardown),
      cmocka_unit_test_setup_teardown(rename_undo_works_with_state_on_another_filesystem, setup, teardown),
      cmocka_unit_test_setup_teardown(at_calls_on_a_tracked_dirfd_are_modelled, setup, teardown),
      cmocka_unit_test_setup_teardown(sync_and_syncfs_make_everything_durable, setup, teardown),
      cmocka_unit_test_setup_teardown(eio_then_successful_fsync_still_loses_data, setup, teardown),
      cmocka_unit_test_setup_teardown(torn_overwrite_keeps_exactly_the_planned_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(torn_append_keeps_exactly_the_planned_prefix, setup, teardown),
      cmocka_unit_test_setup_teardown(open_with_o_trunc_is_undone_at_crash, setup, teardown),
      cmocka_unit_test_setup_teardown(torn_and_short_writev_cut_across_iovecs, setup, teardown),
      cmocka_unit_test_setup_teardown(overwrite_larger_than_the_initial_undo_log_rolls_back, setup, teardown),
      cmocka_unit_test_setup_teardown(parent_rollback_after_external_sigkill_matches_shim_rollback, setup, teardown),
      cmocka_unit_test_setup_teardown(rollback_again_after_shim_rollback_changes_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(enospc_fails_the_write_without_crash, setup, teardown),
      cmocka_unit_test_setup_teardown(edquot_and_eio_fail_every_call_from_n, setup, teardown),
      cmocka_unit_test_setup_teardown(short_write_returns_fewer_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(flip_returns_the_planned_bit_flipped, setup, teardown),
      cmocka_unit_test_setup_teardown(flip_without_arg_is_seeded_and_deterministic, setup, teardown),
      cmocka_unit_test_setup_teardown(multithreaded_crash_stops_every_writer, setup, teardown),
      cmocka_unit_test_setup_teardown(writes_outside_the_data_dir_are_untouched, setup, teardown),
      cmocka_unit_test_setup_teardown(fd_closed_by_fclose_is_forgotten, setup, teardown),
      cmocka_unit_test_setup_teardown(invalid_plan_fails_before_the_program_runs, setup, teardown),
      cmocka_unit_test_setup_teardown(missing_data_dir_fails_before_the_program_runs, setup, teardown),
      cmocka_unit_test_setup_teardown(same_case_gives_byte_identical_trace, setup, teardown),
      cmocka_unit_test_setup_teardown(libfiu_failure_point_drives_the_shim, setup, teardown),
      cmocka_unit_test_setup_teardown(forkserver_child_configures_the_shim, setup, teardown),
      cmocka_unit_test_setup_teardown(reorder_keeps_a_seeded_subset_of_sectors, setup, teardown),
      cmocka_unit_test_setup_teardown(shared_mmap_write_is_reported_in_the_trace, setup, teardown),
      cmocka_unit_test_setup_teardown(sqlite3_survives_crash_points, setup, teardown),
      cmocka_unit_test_setup_teardown(pwritev2_with_rwf_dsync_or_rwf_sync_is_durable, setup, teardown),
      cmocka_unit_test_setup_teardown(data_dir_spelled_through_symlinks_is_tracked, setup, teardown),
      cmocka_unit_test_setup_teardown(writes_through_links_leading_outside_are_never_rolled_back, setup, teardown),
      cmocka_unit_test_setup_teardown(rollback_does_not_follow_a_dir_replaced_by_a_symlink, setup, teardown),
      cmocka_unit_test_setup_teardown(msync_of_a_shared_mapping_is_reported_not_modelled, setup, teardown),
  };
  if (argc > 1) cmocka_set_test_filter(argv[1]);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
