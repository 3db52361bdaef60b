/*
 * util.c - process and file-tree helpers for the harness: removing and copying
 * small data dirs, monotonic time, waiting for a child with a timeout, the
 * directories powercut claims (--keep, --out) and its scratch dirs, and the
 * signals that interrupt a run.
 */
#include "harness_int.h"
#include "sofadb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Names any code of the project: each module's table has its own range
 * (docs/design.md "Error codes"), and codes above -1000 are negated errno
 * values. An unknown code in a known range says which table it claims. */
const char *pc_strerror(int err) {
  static _Thread_local char buf[64];
  if (err == 0) return "ok";
  switch (pc_err_table_of(err)) {
  case PC_TABLE_ERRNO: return strerror(-err);
  case PC_TABLE_SOFADB: return sdb_strerror(err);
  case PC_TABLE_FAULTFS: return ffs_strerror(err);
  case PC_TABLE_WORKLOADS: return wl_strerror(err);
  case PC_TABLE_ORACLE: return orc_strerror(err);
  case PC_TABLE_REPORTS: return rpt_strerror(err);
  case PC_TABLE_HARNESS:
    switch (err) {
#define PC_X_(n, v, m) case v: return m;
      PC_ERRNO_MAP(PC_X_)
#undef PC_X_
    }
    break;
  case PC_TABLE_NONE: break;
  }
  snprintf(buf, sizeof buf, "unknown error %d (%s)", err, pc_err_table_name(pc_err_table_of(err)));
  return buf;
}

const char *pc_err_table_name(pc_err_table t) {
  switch (t) {
  case PC_TABLE_ERRNO: return "errno";
  case PC_TABLE_SOFADB: return "sofadb";
  case PC_TABLE_FAULTFS: return "faultfs";
  case PC_TABLE_WORKLOADS: return "workloads";
  case PC_TABLE_ORACLE: return "oracle";
  case PC_TABLE_REPORTS: return "reports";
  case PC_TABLE_HARNESS: return "powercut";
  case PC_TABLE_NONE: break;
  }
  return "no table";
}

int64_t pc_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int copy_file(const char *from, const char *to, mode_t mode) {
  char buf[65536];
  ssize_t n;
  int in = open(from, O_RDONLY | O_CLOEXEC), out, rc = 0;
  if (in < 0) return -errno;
  out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
  if (out < 0) { rc = -errno; close(in); return rc; }
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) { rc = -EIO; break; }
  if (n < 0) rc = -errno;
  close(in);
  close(out);
  return rc;
}

/* Copies a directory tree (regular files and dirs; nothing else is expected
 * in a data dir). */
int pc_copy_tree(const char *from, const char *to) {
  struct stat st;
  DIR *d;
  struct dirent *e;
  int rc = 0;
  if (lstat(from, &st)) return -errno;
  if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? copy_file(from, to, st.st_mode) : 0;
  if ((rc = rpt_mkdir_p(to))) return rc;
  if (!(d = opendir(from))) return -errno;
  while ((e = readdir(d))) {
    char a[4096], b[4096];
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(a, sizeof a, "%s/%s", from, e->d_name);
    snprintf(b, sizeof b, "%s/%s", to, e->d_name);
    if ((rc = pc_copy_tree(a, b))) break;
  }
  closedir(d);
  return rc;
}

/* Waits for pid up to timeout_ms. Returns 0 with *status filled, or
 * PC_ETIMEOUT after SIGKILLing and reaping the child; PC_EINTR likewise when
 * a signal stopped powercut (pc_interrupted). */
int pc_wait_child(pid_t pid, int timeout_ms, int *status) {
  int64_t deadline = pc_now_us() + (int64_t)timeout_ms * 1000;
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0), rc = PC_ETIMEOUT;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) { if (pfd >= 0) close(pfd); return 0; }
    if (r < 0 && errno != EINTR) { if (pfd >= 0) close(pfd); return PC_ESETUP; }
    if (pc_interrupted) { rc = PC_EINTR; break; }
    int64_t left = deadline - pc_now_us();
    if (left <= 0) break;
    if (pfd >= 0) {
      struct pollfd p = {pfd, POLLIN, 0};
      poll(&p, 1, (int)(left / 1000) + 1);
    } else {
      struct timespec ts = {0, 200000};
      nanosleep(&ts, NULL);
    }
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, status, 0) < 0 && errno == EINTR) {}
  if (pfd >= 0) close(pfd);
  return rc;
}

/* ---- directories powercut writes into at the user's request ---- */

/* A directory powercut may write into (--keep, --out): one that does not
 * exist, an empty one, or one that carries `marker`, which powercut writes in
 * every such directory it fills. Anything else holds files that are not
 * powercut's own, so it is refused and nothing in it is touched. */
int pc_own_dir_check(const char *opt, const char *path, const char *marker, char *err,
                     size_t errlen) {
  struct stat st;
  DIR *d;
  struct dirent *e;
  int empty = 1, marked = 0;
  if (!*path) {
    snprintf(err, errlen, "%s: the path is empty", opt);
    return PC_EINVAL;
  }
  if (stat(path, &st)) {
    if (errno == ENOENT) return 0;
    snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
    return PC_EINVAL;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s %s: exists and is not a directory; give a new or empty directory",
             opt, path);
    return PC_EINVAL;
  }
  if (!(d = opendir(path))) {
    snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
    return PC_EINVAL;
  }
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (!strcmp(e->d_name, marker)) marked = 1;
    else empty = 0;
  }
  closedir(d);
  if (!empty && !marked) {
    snprintf(err, errlen, "%s %s: the directory is not empty and powercut did not create it (no %s "
             "in it); nothing was changed: give a new or empty directory", opt, path, marker);
    return PC_EINVAL;
  }
  return 0;
}

/* Checks path as above, creates it if needed and writes the marker. clear=1
 * first removes what a marked directory holds (powercut's own files). */
int pc_own_dir_claim(const char *opt, const char *path, const char *marker, int clear, char *err,
                     size_t errlen) {
  char m[4096];
  int rc, fd;
  if ((rc = pc_own_dir_check(opt, path, marker, err, errlen))) return rc;
  if (clear) {
    DIR *d = opendir(path);
    struct dirent *e;
    if (d) {
      while ((e = readdir(d))) {
        char sub[4096];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, marker)) continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        if ((rc = ffs_rm_rf(sub))) {
          snprintf(err, errlen, "%s %s: cannot clear %s: %s", opt, path, sub, strerror(-rc));
          closedir(d);
          return PC_EIO;
        }
      }
      closedir(d);
    }
  }
  if ((rc = rpt_mkdir_p(path))) {
    snprintf(err, errlen, "%s %s: cannot create it: %s", opt, path, strerror(-rc));
    return PC_EIO;
  }
  snprintf(m, sizeof m, "%s/%s", path, marker);
  if ((fd = open(m, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0) {
    snprintf(err, errlen, "%s %s: cannot write %s: %s", opt, path, m, strerror(errno));
    return PC_EIO;
  }
  close(fd);
  return 0;
}

/* ---- scratch dirs: <base>/powercut-<pid>, marked with PC_SCRATCH_MARKER ---- */

/* Field 22 of /proc/PID/stat: when the process started (ticks since boot);
 * with the pid it names one process even when pids are reused. */
static int proc_start_time(pid_t pid, unsigned long long *t) {
  char p[64], buf[1024], *s;
  int fd, n;
  snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
  if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) return -1;
  n = (int)read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  if (!(s = strrchr(buf, ')'))) return -1;
  s++;
  for (int field = 3; field < 22; field++) {
    s = strchr(s + 1, ' ');
    if (!s) return -1;
  }
  *t = strtoull(s + 1, NULL, 10);
  return 0;
}

int pc_scratch_create(const char *root, char *err, size_t errlen) {
  char m[4200], text[128];
  unsigned long long st = 0;
  int rc, fd;
  if ((rc = rpt_mkdir_p(root))) {
    snprintf(err, errlen, "cannot create the scratch dir %s: %s", root, strerror(-rc));
    return PC_ESETUP;
  }
  proc_start_time(getpid(), &st);
  snprintf(m, sizeof m, "%s/%s", root, PC_SCRATCH_MARKER);
  snprintf(text, sizeof text, "pid %d start %llu\n", (int)getpid(), st);
  if ((fd = open(m, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
      write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
    snprintf(err, errlen, "cannot write %s: %s", m, strerror(errno));
    if (fd >= 0) close(fd);
    return PC_ESETUP;
  }
  close(fd);
  return 0;
}

/* Removes base/powercut-<pid> dirs left by powercut processes that are gone
 * (killed before they could clean up). Only a directory (not a link) of that
 * exact name, owned by this user, holding powercut's marker, whose process is
 * dead (or is another process now: its start time differs from the marker's).
 * Returns how many were removed. */
int pc_scratch_sweep(const char *base) {
  DIR *d = opendir(base);
  struct dirent *e;
  int removed = 0;
  if (!d) return 0;
  while ((e = readdir(d))) {
    char dir[4096], m[4200], text[128];
    const char *p;
    struct stat st;
    unsigned long long mine = 0, now = 0;
    long pid;
    int fd, n, mpid = -1;
    if (strncmp(e->d_name, "powercut-", 9)) continue;
    for (p = e->d_name + 9; *p >= '0' && *p <= '9'; p++) {}
    if (p == e->d_name + 9 || *p || p - e->d_name > 9 + 9) continue;
    pid = strtol(e->d_name + 9, NULL, 10);
    if (pid <= 0 || pid == (long)getpid()) continue;
    snprintf(dir, sizeof dir, "%s/%s", base, e->d_name);
    if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) continue;
    snprintf(m, sizeof m, "%s/%s", dir, PC_SCRATCH_MARKER);
    if ((fd = open(m, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) continue;
    n = (int)read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) continue;
    text[n] = '\0';
    if (sscanf(text, "pid %d start %llu", &mpid, &mine) != 2 || mpid != (int)pid) continue;
    if (kill((pid_t)pid, 0) == 0 || errno == EPERM) {
      /* alive: the same process unless it started at another time */
      if (proc_start_time((pid_t)pid, &now) || now == mine) continue;
    }
    if (ffs_rm_rf(dir) == 0) removed++;
  }
  closedir(d);
  return removed;
}

/* ---- signals: SIGINT, SIGTERM, SIGHUP stop the run; the code checks ---- */
volatile sig_atomic_t pc_interrupted;

static void on_signal(int sig) { pc_interrupted = sig; }

/* A signal this process was started with ignored (nohup: SIGHUP) stays ignored. */
void pc_signals_install(void) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN) sigaction(sigs[i], &sa, NULL);
}

const char *pc_signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

void pc_signals_default(void) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
}

int pc_option_error(const char *cmd, char **argv, int ch) {
  const char *opt = argv[optind - 1];
  if (ch == ':')
    fprintf(stderr, "powercut %s: option '%s' needs a value (see `powercut %s --help`)\n", cmd, opt, cmd);
  else
    fprintf(stderr, "powercut %s: unknown option '%s' (see `powercut %s --help`)\n", cmd, opt, cmd);
  return 2;
}
