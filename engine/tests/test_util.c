/*
 * test_util.c - see test_util.h.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include "env.h"
#include "log_format.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tu_tmpdir(const char *tag) {
  const char *base = getenv("TMPDIR");
  char *p;
  if (!base) base = "/tmp";
  if (asprintf(&p, "%s/sdbtest-%s-XXXXXX", base, tag) < 0) abort();
  if (!mkdtemp(p)) abort();
  return p;
}

void tu_rmrf(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  if (d) {
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char *p = tu_path(dir, e->d_name);
      unlink(p);
      free(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

char *tu_path(const char *dir, const char *name) {
  char *p;
  if (asprintf(&p, "%s/%s", dir, name) < 0) abort();
  return p;
}

long tu_file_size(const char *path) {
  struct stat st;
  return stat(path, &st) < 0 ? -1 : (long)st.st_size;
}

int tu_truncate(const char *path, long len) { return truncate(path, len); }

long tu_wal_end(const char *path) {
  sdb_logr r;
  const uint8_t *rec;
  size_t n;
  int got;
  if (sdb__logr_open(&r, path, NULL, NULL, 0, NULL)) return -1;
  while ((got = sdb__logr_next(&r, &rec, &n, NULL)) == 1) continue;
  long end = got < 0 ? -1 : (long)r.valid_end;
  sdb__logr_close(&r);
  return end;
}

int tu_wal_trim(const char *path) {
  long end = tu_wal_end(path);
  return end < 0 ? -1 : truncate(path, end);
}

int tu_xor_byte(const char *path, long off, unsigned char mask) {
  int fd = open(path, O_RDWR);
  unsigned char c;
  if (fd < 0) return -1;
  if (pread(fd, &c, 1, off) != 1) return close(fd), -1;
  c ^= mask;
  if (pwrite(fd, &c, 1, off) != 1) return close(fd), -1;
  return close(fd);
}

static int put_file(const char *path, const void *p, size_t n, int flags) {
  int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
  if (fd < 0) return -1;
  if (write(fd, p, n) != (ssize_t)n) return close(fd), -1;
  return close(fd);
}
int tu_write_file(const char *path, const void *p, size_t n) { return put_file(path, p, n, O_TRUNC); }
int tu_append_file(const char *path, const void *p, size_t n) { return put_file(path, p, n, O_APPEND); }

static int matches(const char *name, const char *pat) {
  size_t n = strlen(name), m = strlen(pat);
  if (pat[0] == '^') return !strncmp(name, pat + 1, m - 1);
  return n >= m && !strcmp(name + n - m, pat);
}

char *tu_find(const char *dir, const char *pattern) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char *best = NULL;
  if (!d) return NULL;
  while ((e = readdir(d)))
    if (matches(e->d_name, pattern) && (!best || strcmp(e->d_name, best) < 0)) {
      free(best);
      best = strdup(e->d_name);
    }
  closedir(d);
  if (!best) return NULL;
  char *p = tu_path(dir, best);
  free(best);
  return p;
}

int tu_count(const char *dir, const char *pattern) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (!d) return -1;
  while ((e = readdir(d))) n += matches(e->d_name, pattern);
  closedir(d);
  return n;
}

sdb *tu_open(const char *dir, size_t memtable_bytes) {
  sdb_options o;
  sdb_options_init(&o);
  o.deterministic = 1;
  if (memtable_bytes) o.memtable_bytes = memtable_bytes;
  return tu_open_opts(dir, &o);
}

sdb *tu_open_opts(const char *dir, const sdb_options *opt) {
  sdb_options o = *opt;
  sdb *db = NULL;
  const char *mm = getenv("SDB_TEST_MMAP_READS"); /* engine_*_pread in engine/CMakeLists.txt */
  if (mm && *mm) o.mmap_reads = atoi(mm);
  int rc = sdb_open(dir, &o, &db);
  if (rc) {
    print_error("sdb_open(%s): %s: %s\n", dir, sdb_strerror(rc), sdb_errmsg(db));
    sdb_close(db);
    fail();
  }
  return db;
}

void tu_expect(sdb *db, const char *k, const char *v) {
  void *got = NULL;
  size_t n = 0;
  int rc = sdb_get(db, k, strlen(k), &got, &n);
  if (!v) {
    if (rc != SDB_ENOTFOUND) print_error("key %s: expected absent, got rc %d\n", k, rc);
    assert_int_equal(rc, SDB_ENOTFOUND);
    return;
  }
  if (rc) print_error("key %s: %s: %s\n", k, sdb_strerror(rc), sdb_errmsg(db));
  assert_int_equal(rc, 0);
  assert_int_equal(n, strlen(v));
  assert_memory_equal(got, v, n);
  free(got);
}

/* ---- fault table ---------------------------------------------------------------- */
/* The engine calls the table from its background thread as well as from the
 * test's: the rule, the counters and the fd -> path map are shared, so every
 * access holds `mu` (a fault is then counted and fired exactly once, and a
 * path is never read while another thread frees it). */
#define MAXFD 4096
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *fdpath[MAXFD];
static struct {
  enum tu_op op;
  char sub[64];
  int n, err, sticky, active, fired, matched;
  int global;
} rule;
static int calls[TU_NOPS], gcalls;
static char flipsub[64];
static struct sdb_env fenv;

/* Under mu. path: the call's path, or NULL to take fd's. */
static int should_fail_locked(enum tu_op op, const char *path, int fd, int *err) {
  int g = ++gcalls;
  calls[op]++;
  if (!path && fd >= 0 && fd < MAXFD) path = fdpath[fd];
  if (rule.global) {
    if (g == rule.global && !rule.fired) {
      rule.fired = 1;
      *err = op == TU_WRITE ? ENOSPC : EIO;
      return 1;
    }
    return 0;
  }
  if (!rule.active) return 0;
  int match = rule.op == op || (rule.op == TU_ANY_SYNC && (op == TU_FSYNC || op == TU_FDATASYNC));
  if (!match || (rule.sub[0] && (!path || !strstr(path, rule.sub)))) return 0;
  int c = ++rule.matched;
  if (c == rule.n || (rule.sticky && c > rule.n)) {
    rule.fired++;
    *err = rule.err;
    return 1;
  }
  return 0;
}

static int should_fail(enum tu_op op, const char *path, int fd, int *err) {
  pthread_mutex_lock(&mu);
  int r = should_fail_locked(op, path, fd, err);
  pthread_mutex_unlock(&mu);
  return r;
}

static int f_open(const char *path, int flags, mode_t mode) {
  int err;
  if (should_fail(TU_OPEN, path, -1, &err)) return errno = err, -1;
  int fd = sdb__env_default()->open(path, flags, mode);
  if (fd >= 0 && fd < MAXFD) {
    char *copy = strdup(path);
    pthread_mutex_lock(&mu);
    free(fdpath[fd]);
    fdpath[fd] = copy;
    pthread_mutex_unlock(&mu);
  }
  return fd;
}
static int f_close(int fd) {
  if (fd >= 0 && fd < MAXFD) {
    pthread_mutex_lock(&mu);
    free(fdpath[fd]);
    fdpath[fd] = NULL;
    pthread_mutex_unlock(&mu);
  }
  return sdb__env_default()->close(fd);
}
/* write (off < 0) or pwrite at off: TU_WRITE rules apply to both */
static ssize_t put_at(int fd, const void *p, size_t n, off_t off) {
  return off < 0 ? sdb__env_default()->write(fd, p, n) : sdb__env_default()->pwrite(fd, p, n, off);
}
static ssize_t f_put(int fd, const void *p, size_t n, off_t off) {
  int err;
  pthread_mutex_lock(&mu);
  int fail = should_fail_locked(TU_WRITE, NULL, fd, &err), at = rule.matched;
  pthread_mutex_unlock(&mu);
  if (!fail) return put_at(fd, p, n, off);
  if (n > 1 && err == ENOSPC) { /* a real full disk often takes part of the write first */
    ssize_t w = put_at(fd, p, n / 2, off);
    if (w > 0) { /* and refuses every later write */
      pthread_mutex_lock(&mu);
      if (!rule.sticky && !rule.global) rule.sticky = 1, rule.n = at;
      pthread_mutex_unlock(&mu);
      return w;
    }
  }
  return errno = err, -1;
}
static ssize_t f_write(int fd, const void *p, size_t n) { return f_put(fd, p, n, -1); }
static ssize_t f_pwrite(int fd, const void *p, size_t n, off_t off) { return f_put(fd, p, n, off); }
static ssize_t f_pread(int fd, void *p, size_t n, off_t off) {
  int err, flip = 0;
  pthread_mutex_lock(&mu);
  int fail = should_fail_locked(TU_PREAD, NULL, fd, &err);
  if (!fail && flipsub[0] && fd >= 0 && fd < MAXFD && fdpath[fd] && strstr(fdpath[fd], flipsub)) {
    flip = 1;
    flipsub[0] = 0;
  }
  pthread_mutex_unlock(&mu);
  if (fail) return errno = err, -1;
  ssize_t r = sdb__env_default()->pread(fd, p, n, off);
  if (r > 0 && flip) ((unsigned char *)p)[r / 2] ^= 1;
  return r;
}
static int f_fsync(int fd) {
  int err;
  if (should_fail(TU_FSYNC, NULL, fd, &err)) return errno = err, -1;
  return sdb__env_default()->fsync(fd);
}
static int f_fdatasync(int fd) {
  int err;
  if (should_fail(TU_FDATASYNC, NULL, fd, &err)) return errno = err, -1;
  return sdb__env_default()->fdatasync(fd);
}
static int f_rename(const char *a, const char *b) {
  int err;
  if (should_fail(TU_RENAME, a, -1, &err)) return errno = err, -1;
  return sdb__env_default()->rename(a, b);
}

void tu_fault_install(void) {
  pthread_mutex_lock(&mu);
  fenv = *sdb__env_default();
  fenv.open = f_open;
  fenv.close = f_close;
  fenv.write = f_write;
  fenv.pwrite = f_pwrite;
  fenv.pread = f_pread;
  fenv.fsync = f_fsync;
  fenv.fdatasync = f_fdatasync;
  fenv.rename = f_rename;
  memset(calls, 0, sizeof calls);
  gcalls = 0;
  pthread_mutex_unlock(&mu);
  sdb__env_set(&fenv);
}

void tu_fault_remove(void) {
  sdb__env_set(NULL);
  pthread_mutex_lock(&mu);
  memset(&rule, 0, sizeof rule);
  flipsub[0] = 0;
  pthread_mutex_unlock(&mu);
}

void tu_fault_set(enum tu_op op, const char *sub, int n, int err, int sticky) {
  pthread_mutex_lock(&mu);
  memset(&rule, 0, sizeof rule);
  memset(calls, 0, sizeof calls);
  rule.op = op;
  snprintf(rule.sub, sizeof rule.sub, "%s", sub ? sub : "");
  rule.n = n;
  rule.err = err;
  rule.sticky = sticky;
  rule.active = 1;
  pthread_mutex_unlock(&mu);
}

void tu_fault_global(int n) {
  pthread_mutex_lock(&mu);
  memset(&rule, 0, sizeof rule);
  rule.global = n;
  gcalls = 0;
  pthread_mutex_unlock(&mu);
}

static int locked_read(const int *v) {
  pthread_mutex_lock(&mu);
  int r = *v;
  pthread_mutex_unlock(&mu);
  return r;
}
int tu_fault_fired(void) { return locked_read(&rule.fired); }
int tu_calls(enum tu_op op) { return locked_read(&calls[op]); }
int tu_global_calls(void) { return locked_read(&gcalls); }
void tu_flip_next_pread(const char *sub) {
  pthread_mutex_lock(&mu);
  snprintf(flipsub, sizeof flipsub, "%s", sub);
  pthread_mutex_unlock(&mu);
}

char *tu_stat(sdb *db, const char *name) {
  static char buf[16384], out[128];
  char pat[128];
  assert_int_equal(sdb_stats(db, buf, sizeof buf), 0);
  size_t n = strlen(name);
  char *p = strncmp(buf, name, n) || buf[n] != ':' ? NULL : buf;
  snprintf(pat, sizeof pat, "\n%s:", name);
  if (!p && (p = strstr(buf, pat))) p++;
  assert_non_null(p);
  sscanf(p + n + 1, " %127[^\n]", out);
  return out;
}
