/* seccomp_sup.c — the seccomp supervisor: answers every user notification of the filter
 * installed by seccomp_launch.c. Each notified call is resolved to a path relative to
 * the data dir (fds through /proc/TID/fd, relative paths through /proc/TID/cwd or the
 * dirfd, symlinks through realpath); a call outside the data dir continues untouched;
 * a tracked one is counted and decided by ffs__decide (the same decision as the preload
 * shim), traced, and then: kill -> SIGKILL to the target's process group before the call
 * runs; eio/enospc/edquot -> the call fails with that errno without running; otherwise
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE (the kernel runs the call).
 * Invariants:
 *  (1) the supervisor is one thread: calls are counted in the order they are decided,
 *      one at a time, so the call index is the trace index;
 *  (2) once a fatal action fired, no notification is answered again (every task of
 *      the target is being killed), so nothing runs after a crash point;
 *  (3) the supervisor never writes in the data dir (power cuts are refused, see
 *      ffs_sc_plan_supported, until the undo log is shared with this backend).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "ffs_sc.h"

typedef struct {
  const ffs_sc_config *cfg;
  size_t dirlen;
  uint64_t *counts;
  uint64_t index;
  unsigned nfired;
  int dead;        /* a fatal action fired: answer nothing more */
} sup_t;

/* One notified call, as the model sees it. */
typedef struct {
  ffs_op op;
  int warn;        /* reported only (mmap, copy_file_range, io_uring_setup) */
  int enosys;      /* io_uring_setup: fails with ENOSYS */
  char rel[PATH_MAX], rel2[PATH_MAX];
  int64_t off;
  uint64_t len;
} scall_t;

/* Reads a NUL-terminated string from the target, page by page. */
static int read_str(pid_t tid, uint64_t addr, char *out, size_t cap) {
  size_t got = 0;
  while (got < cap) {
    size_t pg = 4096 - ((addr + got) & 4095), n = pg < cap - got ? pg : cap - got;
    struct iovec l = {out + got, n}, r = {(void *)(uintptr_t)(addr + got), n};
    ssize_t k = process_vm_readv(tid, &l, 1, &r, 1, 0);
    if (k <= 0) return -1;
    if (memchr(out + got, 0, (size_t)k)) return 0;
    got += (size_t)k;
  }
  return -1;
}

static int read_mem(pid_t tid, uint64_t addr, void *out, size_t n) {
  struct iovec l = {out, n}, r = {(void *)(uintptr_t)addr, n};
  return process_vm_readv(tid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -1;
}

static uint64_t iov_len(pid_t tid, uint64_t addr, uint64_t cnt) {
  struct iovec v[64];
  uint64_t t = 0;
  if (cnt > 64) cnt = 64;
  if (read_mem(tid, addr, v, cnt * sizeof *v) < 0) return 0;
  for (uint64_t i = 0; i < cnt; i++) t += v[i].iov_len;
  return t;
}

/* Lexically normalises an absolute path in place (//, ., ..). */
static void normalize(char *p) {
  char out[PATH_MAX];
  size_t o = 0;
  const char *s = p;
  while (*s) {
    while (*s == '/') s++;
    if (!*s) break;
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 1 && s[0] == '.') {
    } else if (n == 2 && s[0] == '.' && s[1] == '.') {
      while (o > 0 && out[o - 1] != '/') o--;
      if (o > 0) o--;
    } else if (o + n + 2 < sizeof out) {
      out[o++] = '/';
      memcpy(out + o, s, n);
      o += n;
    }
    s += n;
  }
  if (o == 0) out[o++] = '/';
  out[o] = 0;
  memcpy(p, out, o + 1);
}

static int proc_link(pid_t tid, const char *what, int fd, char *out) {
  char lp[64];
  if (fd >= 0) snprintf(lp, sizeof lp, "/proc/%d/fd/%d", (int)tid, fd);
  else snprintf(lp, sizeof lp, "/proc/%d/%s", (int)tid, what);
  ssize_t n = readlink(lp, out, PATH_MAX - 1);
  if (n <= 0) return -1;
  out[n] = 0;
  if (out[0] != '/') return -1; /* pipe:[..], socket:[..], anon_inode:.. */
  static const char del[] = " (deleted)";
  size_t l = (size_t)n;
  if (l > sizeof del - 1 && strcmp(out + l - (sizeof del - 1), del) == 0) out[l - (sizeof del - 1)] = 0;
  return 0;
}

/* rel of an absolute real path; 0 if outside the data dir. */
static int rel_of_abs(const sup_t *s, const char *abs, char *rel) {
  const char *d = s->cfg->data_dir;
  if (strncmp(abs, d, s->dirlen) != 0) return 0;
  if (abs[s->dirlen] == 0) { strcpy(rel, "."); return 1; }
  if (abs[s->dirlen] != '/') return 0;
  snprintf(rel, PATH_MAX, "%s", abs + s->dirlen + 1);
  return 1;
}

/* (dirfd, path) of task tid -> rel. Directories are resolved with realpath (symlinks),
 * the last component too when follow is set and it exists. */
static int rel_of_path(const sup_t *s, pid_t tid, int dirfd, uint64_t addr, int follow, char *rel) {
  char path[PATH_MAX], abs[PATH_MAX], base[PATH_MAX], real[PATH_MAX];
  if (!addr || read_str(tid, addr, path, sizeof path) < 0) return 0;
  if (path[0] == '/') {
    snprintf(abs, sizeof abs, "%s", path);
  } else {
    if (proc_link(tid, "cwd", dirfd == AT_FDCWD ? -1 : dirfd, base) < 0) return 0;
    snprintf(abs, sizeof abs, "%s/%s", base, path);
  }
  normalize(abs);
  if (follow && realpath(abs, real)) return rel_of_abs(s, real, rel);
  char *slash = strrchr(abs, '/');
  if (slash && slash != abs) {
    *slash = 0;
    if (realpath(abs, real)) {
      snprintf(base, sizeof base, "%s/%s", real, slash + 1);
      return rel_of_abs(s, base, rel);
    }
    *slash = '/';
  }
  return rel_of_abs(s, abs, rel);
}

static int rel_of_fd(const sup_t *s, pid_t tid, int fd, char *rel) {
  char abs[PATH_MAX];
  if (fd < 0 || proc_link(tid, NULL, fd, abs) < 0) return 0;
  return rel_of_abs(s, abs, rel);
}

/* Maps a notified call to scall_t; 0 if it is not tracked (outside the data dir). */
static int classify(const sup_t *s, const struct seccomp_notif *n, scall_t *c) {
  const __u64 *a = n->data.args;
  pid_t tid = (pid_t)n->pid;
  int fdarg = -1;
  memset(c, 0, sizeof *c);
  c->off = -1;
  switch (n->data.nr) {
    case SYS_open: c->op = FFS_OP_OPEN; return rel_of_path(s, tid, AT_FDCWD, a[0], !(a[1] & O_NOFOLLOW), c->rel);
    case SYS_creat: c->op = FFS_OP_CREAT; return rel_of_path(s, tid, AT_FDCWD, a[0], 1, c->rel);
    case SYS_openat: c->op = FFS_OP_OPEN; return rel_of_path(s, tid, (int)a[0], a[1], !(a[2] & O_NOFOLLOW), c->rel);
    case SYS_openat2: {
      struct open_how how = {0};
      if (read_mem(tid, a[2], &how, sizeof how < a[3] ? sizeof how : a[3]) < 0) return 0;
      c->op = FFS_OP_OPEN;
      return rel_of_path(s, tid, (int)a[0], a[1], !(how.flags & O_NOFOLLOW), c->rel);
    }
    case SYS_write: c->op = FFS_OP_WRITE; c->len = a[2]; fdarg = (int)a[0]; break;
    case SYS_pwrite64: c->op = FFS_OP_PWRITE; c->len = a[2]; c->off = (int64_t)a[3]; fdarg = (int)a[0]; break;
    case SYS_writev: c->op = FFS_OP_WRITEV; c->len = iov_len(tid, a[1], a[2]); fdarg = (int)a[0]; break;
    case SYS_pwritev: case SYS_pwritev2:
      c->op = FFS_OP_WRITEV; c->len = iov_len(tid, a[1], a[2]); c->off = (int64_t)a[3]; fdarg = (int)a[0];
      break;
    case SYS_read: c->op = FFS_OP_READ; c->len = a[2]; fdarg = (int)a[0]; break;
    case SYS_readv: c->op = FFS_OP_READ; c->len = iov_len(tid, a[1], a[2]); fdarg = (int)a[0]; break;
    case SYS_pread64: c->op = FFS_OP_PREAD; c->len = a[2]; c->off = (int64_t)a[3]; fdarg = (int)a[0]; break;
    case SYS_preadv: case SYS_preadv2:
      c->op = FFS_OP_PREAD; c->len = iov_len(tid, a[1], a[2]); c->off = (int64_t)a[3]; fdarg = (int)a[0];
      break;
    case SYS_fsync: c->op = FFS_OP_FSYNC; fdarg = (int)a[0]; break;
    case SYS_fdatasync: c->op = FFS_OP_FDATASYNC; fdarg = (int)a[0]; break;
    case SYS_sync_file_range:
      c->op = FFS_OP_SYNC_FILE_RANGE; c->off = (int64_t)a[1]; c->len = a[2]; fdarg = (int)a[0];
      break;
    case SYS_sync: case SYS_syncfs: /* as the shim: an fsync of the data dir */
      c->op = FFS_OP_FSYNC; strcpy(c->rel, "."); return 1;
    case SYS_ftruncate: c->op = FFS_OP_FTRUNCATE; c->off = (int64_t)a[1]; fdarg = (int)a[0]; break;
    case SYS_truncate: c->op = FFS_OP_FTRUNCATE; c->off = (int64_t)a[1]; return rel_of_path(s, tid, AT_FDCWD, a[0], 1, c->rel);
    case SYS_fallocate: c->op = FFS_OP_FALLOCATE; c->off = (int64_t)a[2]; c->len = a[3]; fdarg = (int)a[0]; break;
    case SYS_close: c->op = FFS_OP_CLOSE; fdarg = (int)a[0]; break;
    case SYS_rename: case SYS_renameat: case SYS_renameat2: case SYS_link: case SYS_linkat: {
      int two = n->data.nr == SYS_rename || n->data.nr == SYS_link;
      int d1 = two ? AT_FDCWD : (int)a[0], d2 = two ? AT_FDCWD : (int)a[2];
      uint64_t p1 = two ? a[0] : a[1], p2 = two ? a[1] : a[3];
      c->op = n->data.nr == SYS_link || n->data.nr == SYS_linkat ? FFS_OP_LINK : FFS_OP_RENAME;
      int t1 = rel_of_path(s, tid, d1, p1, 0, c->rel), t2 = rel_of_path(s, tid, d2, p2, 0, c->rel2);
      if (!t1) c->rel[0] = 0;
      if (!t2) c->rel2[0] = 0;
      return t1 || t2;
    }
    case SYS_unlink: c->op = FFS_OP_UNLINK; return rel_of_path(s, tid, AT_FDCWD, a[0], 0, c->rel);
    case SYS_unlinkat:
      c->op = (a[2] & AT_REMOVEDIR) ? FFS_OP_RMDIR : FFS_OP_UNLINK;
      return rel_of_path(s, tid, (int)a[0], a[1], 0, c->rel);
    case SYS_rmdir: c->op = FFS_OP_RMDIR; return rel_of_path(s, tid, AT_FDCWD, a[0], 0, c->rel);
    case SYS_mkdir: c->op = FFS_OP_MKDIR; return rel_of_path(s, tid, AT_FDCWD, a[0], 0, c->rel);
    case SYS_mkdirat: c->op = FFS_OP_MKDIR; return rel_of_path(s, tid, (int)a[0], a[1], 0, c->rel);
    case SYS_copy_file_range: c->op = FFS_OP_SYSCALL; c->warn = 1; c->len = a[4]; fdarg = (int)a[2]; break;
    case SYS_mmap: c->op = FFS_OP_MMAP; c->warn = 1; c->off = (int64_t)a[5]; c->len = a[1]; fdarg = (int)a[4]; break;
    case SYS_io_uring_setup: /* not modelled: refused, and recorded */
      c->op = FFS_OP_SYSCALL; c->warn = 1; c->enosys = 1; c->off = SYS_io_uring_setup; strcpy(c->rel, ".");
      return 1;
    default: return 0;
  }
  return rel_of_fd(s, tid, fdarg, c->rel);
}

static void trace(const sup_t *s, ffs_op op, uint64_t index, uint32_t dur, int64_t off, uint64_t len, int64_t res,
                  const char *p1, const char *p2) {
  unsigned char buf[sizeof(ffs_trec) + 2 * FFS_PATH_MAX];
  if (s->cfg->trace_fd < 0) return;
  size_t n = ffs__trace_encode(buf, op, index, dur, off, len, res, p1, p2);
  ssize_t w = write(s->cfg->trace_fd, buf, n);
  (void)w;
}

static void fired(sup_t *s, int rule, ffs_op op, uint64_t index, const char *rel) {
  char path[PATH_MAX], line[PATH_MAX + 128];
  int n = ffs__fired_line(line, sizeof line, s->cfg->plan, rule, op, index, s->counts[rule], rel, &s->nfired);
  if (n <= 0) return;
  snprintf(path, sizeof path, "%s/%s", s->cfg->state_dir, FFS_STATE_FIRED);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t w = write(fd, line, (size_t)n);
  (void)w;
  close(fd);
}

static void respond(int fd, struct seccomp_notif *req, struct seccomp_notif_resp *resp, int err) {
  memset(resp, 0, sizeof *resp);
  resp->id = req->id;
  if (err) resp->error = -err;
  else resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  seccomp_notify_respond(fd, resp); /* ENOENT: the task died meanwhile */
}

static void kill_tree(pid_t pid) {
  kill(-pid, SIGKILL); /* the launcher made the target a process-group leader */
  kill(pid, SIGKILL);
}

static void handle(sup_t *s, pid_t pid, int lfd, struct seccomp_notif *req, struct seccomp_notif_resp *resp) {
  scall_t c;
  const ffs_sc_config *cfg = s->cfg;
  if (s->dead) return;
  if (!classify(s, req, &c)) { respond(lfd, req, resp, 0); return; }
  /* the call may have been interrupted while we read its arguments */
  if (seccomp_notify_id_valid(lfd, req->id) != 0) return;
  if (c.warn) {
    trace(s, c.op, s->index, FFS_DUR_WARN, c.off, c.len, c.enosys ? -ENOSYS : 0, c.rel, NULL);
    respond(lfd, req, resp, c.enosys ? ENOSYS : 0);
    return;
  }
  ffs_decision d;
  uint64_t index = s->index++;
  ffs__decide(cfg->plan, s->counts, c.op, c.rel, index, cfg->seed, c.len, &d);
  uint32_t dur = 0;
  int err = 0;
  if (d.rule >= 0) {
    dur |= FFS_DUR_FIRED;
    fired(s, d.rule, c.op, index, c.rel);
    if (d.action == FFS_A_KILL) {
      trace(s, c.op, index, dur, c.off, c.len, 0, c.rel, c.rel2);
      s->dead = 1;
      kill_tree(pid);
      return;
    }
    err = d.fail_errno;
  }
  trace(s, c.op, index, dur, c.off, c.len, err ? -(int64_t)err : 0, c.rel, c.rel2);
  respond(lfd, req, resp, err);
}

int ffs__sc_supervise(const ffs_sc_config *cfg, pid_t pid, int listener, char *err, size_t errlen) {
  sup_t s = {.cfg = cfg, .dirlen = strlen(cfg->data_dir)};
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  int status = 0, reaped = 0, rc = 0;
  s.counts = calloc(cfg->plan->nrules + 1, sizeof *s.counts);
  if (!s.counts || seccomp_notify_alloc(&req, &resp) < 0) {
    snprintf(err, errlen, "out of memory");
    rc = FFS_ENOMEM;
    kill_tree(pid);
    goto out;
  }
  for (;;) {
    struct pollfd p = {.fd = listener, .events = POLLIN};
    int k = poll(&p, 1, 200);
    if (k < 0 && errno != EINTR) { snprintf(err, errlen, "poll: %s", strerror(errno)); rc = FFS_EIO; kill_tree(pid); break; }
    if (k > 0 && (p.revents & POLLIN)) {
      memset(req, 0, sizeof *req);
      if (seccomp_notify_receive(listener, req) == 0) handle(&s, pid, listener, req, resp);
      continue;
    }
    if (!reaped && waitpid(pid, &status, WNOHANG) == pid) reaped = 1;
    if (k > 0 && (p.revents & (POLLHUP | POLLERR))) break; /* no task left under the filter */
  }
out:
  if (!reaped)
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  seccomp_notify_free(req, resp);
  free(s.counts);
  close(listener);
  return rc < 0 ? rc : status;
}

int ffs__sc_plan_supported(const ffs_plan *plan, char *err, size_t errlen) {
  for (size_t i = 0; i < plan->nrules; i++) {
    ffs_action a = plan->rules[i].action;
    if (a == FFS_A_KILL || a == FFS_A_EIO || a == FFS_A_ENOSPC || a == FFS_A_EDQUOT) continue;
    snprintf(err, errlen,
             "rule %zu: the seccomp backend does not do '%s' yet (it does kill, eio, enospc, edquot); "
             "a dynamically linked program can use the preload backend",
             i + 1, ffs_action_name(a));
    return 0;
  }
  return 1;
}
