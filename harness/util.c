/*
 * util.c - process and file-tree helpers for the harness: removing and copying
 * small data dirs, monotonic time, and waiting for a child with a timeout.
 */
#include "harness_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *pc_strerror(int err) {
  switch (err) {
#define PC_X_(n, v, m) case v: return m;
    PC_ERRNO_MAP(PC_X_)
#undef PC_X_
  }
  return "unknown error";
}

int64_t pc_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Removes path and everything under it; a missing path is not an error. */
int pc_rm_rf(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -errno;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *e;
    char sub[4096];
    int rc = 0;
    if (!d) return -errno;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
      if ((rc = pc_rm_rf(sub))) break;
    }
    closedir(d);
    if (rc) return rc;
    return rmdir(path) ? -errno : 0;
  }
  return unlink(path) ? -errno : 0;
}

int pc_mkdir_p(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n >= sizeof buf) return -ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0755) && errno != EEXIST) return -errno;
    *p = '/';
  }
  if (mkdir(buf, 0755) && errno != EEXIST) return -errno;
  return 0;
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
  if ((rc = pc_mkdir_p(to))) return rc;
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
 * PC_ETIMEOUT after SIGKILLing and reaping the child. */
int pc_wait_child(pid_t pid, int timeout_ms, int *status) {
  int64_t deadline = pc_now_us() + (int64_t)timeout_ms * 1000;
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) { if (pfd >= 0) close(pfd); return 0; }
    if (r < 0 && errno != EINTR) { if (pfd >= 0) close(pfd); return PC_ESETUP; }
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
  return PC_ETIMEOUT;
}
