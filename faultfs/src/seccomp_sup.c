/* seccomp_sup.c — the seccomp supervisor: answers every user notification of the filter
 * installed by seccomp_launch.c. Each notified call is resolved to a path relative to
 * the data dir (fds through /proc/TID/fd, relative paths through /proc/TID/cwd or the
 * dirfd, symlinks through realpath); a call outside the data dir continues untouched;
 * a tracked one is counted and decided by ffs__decide (the same decision as the preload
 * shim), traced, and then: kill -> SIGKILL to the target's process group before the call
 * runs; eio/enospc/edquot -> the call fails with that errno without running; otherwise
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE (the kernel runs the call). Before a change continues,
 * its undo information goes into STATE/undo through undo.c, the writer the preload shim
 * uses, on the target's own fd (pidfd_getfd). A power cut (crash, crash-after, torn) is:
 * the supervisor makes what must have happened happen itself (crash-after: the call; torn:
 * the prefix of the write), SIGKILLs the process group and answers nothing more; the
 * parent then rolls back from the log (ffs_rollback) as after a preload power cut.
 * fsync/fdatasync/sync/syncfs are run by the supervisor on the target's fd, so the model
 * learns their real result; short writes and flipped reads are done by it too.
 * Invariants:
 *  (1) the supervisor is one thread: calls are counted in the order they are decided,
 *      one at a time, so the call index is the trace index;
 *  (2) once a fatal action fired, no notification is answered again (every task of
 *      the target is being killed), so nothing runs after a crash point;
 *  (3) the supervisor writes in the data dir only what the target's own call would have
 *      written (short, torn prefix, a crash-after call, a sync), and logs its undo
 *      information first, as the shim does.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "ffs_sc.h"
#include "ffs_undo.h"

typedef struct {
  const ffs_sc_config *cfg;
  size_t dirlen;
  uint64_t *counts;
  uint64_t index;
  unsigned nfired;
  int dead;        /* a fatal action fired: answer nothing more */
  ffs_undo u;      /* the undo-log writer shared with the shim */
} sup_t;

/* One notified call, as the model sees it. */
typedef struct {
  ffs_op op;
  int warn;        /* reported only (mmap, copy_file_range, io_uring_setup) */
  int enosys;      /* io_uring_setup: fails with ENOSYS */
  char rel[PATH_MAX], rel2[PATH_MAX];
  int64_t off;
  uint64_t len;
  int fd;          /* the target's fd for fd calls, else -1 */
  int flags;       /* open flags; pwritev2 RWF_* flags */
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
  c->fd = -1;
  switch (n->data.nr) {
    case SYS_open: c->op = FFS_OP_OPEN; c->flags = (int)a[1]; return rel_of_path(s, tid, AT_FDCWD, a[0], !(a[1] & O_NOFOLLOW), c->rel);
    case SYS_creat: c->op = FFS_OP_CREAT; c->flags = O_CREAT | O_WRONLY | O_TRUNC; return rel_of_path(s, tid, AT_FDCWD, a[0], 1, c->rel);
    case SYS_openat: c->op = FFS_OP_OPEN; c->flags = (int)a[2]; return rel_of_path(s, tid, (int)a[0], a[1], !(a[2] & O_NOFOLLOW), c->rel);
    case SYS_openat2: {
      struct open_how how = {0};
      if (read_mem(tid, a[2], &how, sizeof how < a[3] ? sizeof how : a[3]) < 0) return 0;
      c->op = FFS_OP_OPEN;
      c->flags = (int)how.flags;
      return rel_of_path(s, tid, (int)a[0], a[1], !(how.flags & O_NOFOLLOW), c->rel);
    }
    case SYS_write: c->op = FFS_OP_WRITE; c->len = a[2]; fdarg = (int)a[0]; break;
    case SYS_pwrite64: c->op = FFS_OP_PWRITE; c->len = a[2]; c->off = (int64_t)a[3]; fdarg = (int)a[0]; break;
    case SYS_writev: c->op = FFS_OP_WRITEV; c->len = iov_len(tid, a[1], a[2]); fdarg = (int)a[0]; break;
    case SYS_pwritev: case SYS_pwritev2:
      c->op = FFS_OP_WRITEV; c->len = iov_len(tid, a[1], a[2]); c->off = (int64_t)a[3]; fdarg = (int)a[0];
      if (n->data.nr == SYS_pwritev2) c->flags = (int)a[5];
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
      c->op = FFS_OP_FSYNC; strcpy(c->rel, "."); c->fd = n->data.nr == SYS_syncfs ? (int)a[0] : -1; return 1;
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
  c->fd = fdarg;
  return rel_of_fd(s, tid, fdarg, c->rel);
}

static void trace(const sup_t *s, ffs_op op, uint64_t index, uint32_t dur, int64_t off, uint64_t len, int64_t res,
                  const char *p1, const char *p2) {
  unsigned char buf[sizeof(ffs_trec) + 2 * FFS_PATH_MAX];
  if (s->cfg->trace_fd < 0) return;
  /* the site is unknown here: the stack is in another process (site 0) */
  size_t n = ffs__trace_encode(buf, op, index, dur, off, len, res, p1, p2, 0, NULL);
  ssize_t w = write(s->cfg->trace_fd, buf, n);
  (void)w;
}

static void fired(sup_t *s, int rule, ffs_op op, uint64_t index, const char *rel) {
  char path[PATH_MAX], line[PATH_MAX + 128];
  int n = ffs__fired_line(line, sizeof line, s->cfg->plan, rule, op, index, s->counts[rule], 0, rel, &s->nfired);
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

static void respond_val(int fd, struct seccomp_notif *req, struct seccomp_notif_resp *resp, int64_t val) {
  memset(resp, 0, sizeof *resp);
  resp->id = req->id;
  if (val < 0) resp->error = (int32_t)val;
  else resp->val = val;
  seccomp_notify_respond(fd, resp);
}

/* The target's fd as an fd of the supervisor sharing its open file description (offset,
 * flags), or -1. */
static int take_fd(pid_t tid, int fd) {
  if (fd < 0) return -1;
  int pfd = (int)syscall(SYS_pidfd_open, tid, 0);
  if (pfd < 0) pfd = (int)syscall(SYS_pidfd_open, tid, O_EXCL /* PIDFD_THREAD: a thread's own */);
  if (pfd < 0) return -1;
  int r = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
  close(pfd);
  return r;
}

/* Up to want bytes of the data of a write call of the target, gathered. */
static ssize_t gather(pid_t tid, const struct seccomp_notif *n, unsigned char *buf, size_t want) {
  const __u64 *a = n->data.args;
  int vec = n->data.nr == SYS_writev || n->data.nr == SYS_pwritev || n->data.nr == SYS_pwritev2;
  if (!vec) return read_mem(tid, a[1], buf, want) < 0 ? -EFAULT : (ssize_t)want;
  struct iovec v[64];
  uint64_t cnt = a[2] > 64 ? 64 : a[2];
  if (read_mem(tid, a[1], v, cnt * sizeof *v) < 0) return -EFAULT;
  size_t got = 0;
  for (uint64_t i = 0; i < cnt && got < want; i++) {
    size_t k = v[i].iov_len < want - got ? v[i].iov_len : want - got;
    if (k && read_mem(tid, (uint64_t)(uintptr_t)v[i].iov_base, buf + got, k) < 0) return -EFAULT;
    got += k;
  }
  return (ssize_t)got;
}

/* Performs the first keep bytes of a write call on tfd, as the target would have:
 * positional at c->off, else at (and advancing) the shared file offset. */
static int64_t do_write(pid_t tid, const struct seccomp_notif *n, const scall_t *c, int tfd, uint64_t keep) {
  unsigned char *buf = malloc(keep ? keep : 1);
  if (!buf) return -ENOMEM;
  ssize_t got = gather(tid, n, buf, keep), w = got;
  if (got > 0) w = c->off >= 0 ? pwrite(tfd, buf, (size_t)got, c->off) : write(tfd, buf, (size_t)got);
  if (w < 0 && got >= 0) w = -errno;
  free(buf);
  return w;
}

/* A read call performed by the supervisor with one bit flipped (as the shim's flip_read). */
static int64_t do_flip_read(pid_t tid, const struct seccomp_notif *n, const scall_t *c, int tfd, const ffs_decision *d) {
  const __u64 *a = n->data.args;
  int vec = n->data.nr == SYS_readv || n->data.nr == SYS_preadv || n->data.nr == SYS_preadv2;
  struct iovec v[64];
  uint64_t cnt = 1;
  if (vec) {
    cnt = a[2] > 64 ? 64 : a[2];
    if (read_mem(tid, a[1], v, cnt * sizeof *v) < 0) return -EFAULT;
  } else {
    v[0].iov_base = (void *)(uintptr_t)a[1];
    v[0].iov_len = a[2];
  }
  unsigned char *buf = malloc(c->len ? c->len : 1);
  if (!buf) return -ENOMEM;
  ssize_t r = c->off >= 0 ? pread(tfd, buf, c->len, c->off) : read(tfd, buf, c->len);
  if (r < 0) { r = -errno; goto out; }
  if (r > 0) {
    uint64_t bit = d->flip_has_arg ? d->flip_bit : d->flip_bit % ((uint64_t)r * 8);
    if (bit < (uint64_t)r * 8) buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
  }
  size_t done = 0;
  for (uint64_t i = 0; i < cnt && done < (size_t)r; i++) {
    size_t k = v[i].iov_len < (size_t)r - done ? v[i].iov_len : (size_t)r - done;
    struct iovec l = {buf + done, k};
    if (k && process_vm_writev(tid, &l, 1, &v[i], 1, 0) != (ssize_t)k) { r = -EFAULT; goto out; }
    done += k;
  }
out:
  free(buf);
  return r;
}

static void abs_of(const sup_t *s, const char *rel, char *out) {
  if (!strcmp(rel, ".")) snprintf(out, PATH_MAX, "%s", s->cfg->data_dir);
  else snprintf(out, PATH_MAX, "%s/%s", s->cfg->data_dir, rel);
}

/* crash-after / kill-after: the call's effect, made by the supervisor (the target never
 * runs again, so it cannot tell). A side outside the data dir is not made. */
static void do_call(sup_t *s, pid_t tid, const struct seccomp_notif *n, const scall_t *c, int tfd) {
  const __u64 *a = n->data.args;
  char a1[PATH_MAX], a2[PATH_MAX];
  abs_of(s, c->rel, a1);
  abs_of(s, c->rel2, a2);
  switch (n->data.nr) {
    case SYS_write: case SYS_pwrite64: case SYS_writev: case SYS_pwritev: case SYS_pwritev2:
      if (tfd >= 0) (void)do_write(tid, n, c, tfd, c->len);
      break;
    case SYS_ftruncate: if (tfd >= 0 && ftruncate(tfd, (off_t)a[1]) < 0) {} break;
    case SYS_fallocate: if (tfd >= 0 && fallocate(tfd, (int)a[1], (off_t)a[2], (off_t)a[3]) < 0) {} break;
    case SYS_truncate: if (truncate(a1, (off_t)a[1]) < 0) {} break;
    case SYS_open: case SYS_openat: case SYS_openat2: case SYS_creat:
      if (c->flags & (O_CREAT | O_TRUNC)) {
        int fd = open(a1, (c->flags & ~(O_EXCL | O_DIRECTORY | O_NOFOLLOW)) | O_CLOEXEC,
                      n->data.nr == SYS_creat ? (mode_t)a[1] : n->data.nr == SYS_open ? (mode_t)a[2] : (mode_t)a[3]);
        if (fd >= 0) close(fd);
      }
      break;
    case SYS_rename: case SYS_renameat: case SYS_renameat2:
      if (c->rel[0] && c->rel2[0] && syscall(SYS_renameat2, AT_FDCWD, a1, AT_FDCWD, a2,
                                             n->data.nr == SYS_renameat2 ? (unsigned)a[4] : 0u) == 0)
        ffs__undo_renamed(&s->u, c->rel, c->rel2);
      break;
    case SYS_link: case SYS_linkat: if (c->rel[0] && c->rel2[0] && link(a1, a2) < 0) {} break;
    case SYS_unlink: if (unlink(a1) < 0) {} break;
    case SYS_unlinkat: if (unlinkat(AT_FDCWD, a1, (int)a[2] & AT_REMOVEDIR) < 0) {} break;
    case SYS_rmdir: if (rmdir(a1) < 0) {} break;
    case SYS_mkdir: case SYS_mkdirat:
      if (mkdir(a1, n->data.nr == SYS_mkdir ? (mode_t)a[1] : (mode_t)a[2]) < 0) {}
      break;
    default: break; /* close, reads, sync_file_range: nothing durable changes; syncs were run */
  }
}

/* Power cut: on a real file system its shutdown, else nothing here (the parent rolls
 * back from the log); then the whole process group dies before any other call runs. */
static void power_cut(sup_t *s, pid_t pid) {
  if (ffs_model_fs(s->cfg->model)) {
    int fd = open(s->cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 ? -errno : ffs_fs_shutdown(fd);
    if (rc < 0) fprintf(stderr, "faultfs: seccomp supervisor: shutdown of the file system under %s failed: %s\n",
                        s->cfg->data_dir, strerror(-rc));
    if (fd >= 0) close(fd);
  }
  s->dead = 1;
  kill_tree(pid);
}

static int is_write(long nr) {
  return nr == SYS_write || nr == SYS_pwrite64 || nr == SYS_writev || nr == SYS_pwritev || nr == SYS_pwritev2;
}

static void handle(sup_t *s, pid_t pid, int lfd, struct seccomp_notif *req, struct seccomp_notif_resp *resp) {
  scall_t c;
  const ffs_sc_config *cfg = s->cfg;
  pid_t tid = (pid_t)req->pid;
  long nr = req->data.nr;
  if (s->dead) return;
  if (!classify(s, req, &c)) { respond(lfd, req, resp, 0); return; }
  if (c.warn) {
    if (seccomp_notify_id_valid(lfd, req->id) != 0) return;
    trace(s, c.op, s->index, FFS_DUR_WARN, c.off, c.len, c.enosys ? -ENOSYS : 0, c.rel, NULL);
    respond(lfd, req, resp, c.enosys ? ENOSYS : 0);
    return;
  }
  /* the target's fd and the inode's node, for the calls that change or sync a file (a
   * read or close needs neither unless a flip fires on it, below) */
  int changes = is_write(nr) || nr == SYS_ftruncate || nr == SYS_fallocate || nr == SYS_fsync ||
                nr == SYS_fdatasync || nr == SYS_syncfs;
  int tfd = changes ? take_fd(tid, c.fd) : -1, fl = 0;
  int32_t nid = -1;
  struct stat st;
  if (tfd >= 0 && fstat(tfd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) && !ffs__undo_foreign(&s->u, &st)) {
    nid = ffs__undo_node(&s->u, &st, c.rel, -1);
    fl = fcntl(tfd, F_GETFL);
  }
  /* the call may have been interrupted while we read its arguments */
  if (seccomp_notify_id_valid(lfd, req->id) != 0) goto out;
  ffs_decision d;
  uint64_t index = s->index++;
  ffs__decide(cfg->plan, s->counts, c.op, c.rel, index, cfg->seed, c.len, &d);
  uint32_t dur = 0;
  int err = 0;
  if (d.rule >= 0) {
    dur |= FFS_DUR_FIRED;
    fired(s, d.rule, c.op, index, c.rel);
    if (d.action == FFS_A_KILL || d.action == FFS_A_CRASH) {
      trace(s, c.op, index, dur, c.off, c.len, 0, c.rel, c.rel2);
      if (d.action == FFS_A_CRASH) power_cut(s, pid);
      else { s->dead = 1; kill_tree(pid); }
      goto out;
    }
    err = d.fail_errno;
  }
  if (d.rule >= 0 && d.action == FFS_A_FLIP && tfd < 0) tfd = take_fd(tid, c.fd);
  if (err) {
    if (c.op == FFS_OP_FSYNC || c.op == FFS_OP_FDATASYNC) dur |= ffs__undo_lost(&s->u, nid);
    trace(s, c.op, index, dur, c.off, c.len, -(int64_t)err, c.rel, c.rel2);
    respond(lfd, req, resp, err);
    goto out;
  }
  /* undo information, before the change (undo.c, as the shim) */
  int64_t woff = c.off, res = 0, performed = 0;
  int keep_all = 0;
  if (is_write(nr) && nid >= 0) {
    uint64_t cur = UINT64_MAX;
    if (c.off < 0 && fl >= 0 && (fl & O_APPEND)) { cur = fstat(tfd, &st) == 0 ? (uint64_t)st.st_size : 0; woff = (int64_t)cur; }
    else if (c.off < 0) woff = lseek(tfd, 0, SEEK_CUR);
    if (woff < 0) woff = 0;
    dur |= ffs__undo_write(&s->u, tfd, nid, (uint64_t)woff, c.len, cur);
    keep_all = (fl >= 0 && (fl & (O_SYNC | O_DSYNC))) || (c.flags & (RWF_SYNC | RWF_DSYNC));
  } else if (nr == SYS_ftruncate && nid >= 0) {
    dur |= ffs__undo_trunc(&s->u, tfd, nid, c.off < 0 ? 0 : (uint64_t)c.off);
  } else if (nr == SYS_fallocate && nid >= 0) {
    dur |= ffs__undo_falloc(&s->u, tfd, nid, (uint64_t)c.off, c.len);
  } else if (nr == SYS_truncate) {
    int foreign;
    dur |= ffs__undo_ptrunc(&s->u, c.rel, c.off < 0 ? 0 : (uint64_t)c.off, &foreign);
  } else if (c.op == FFS_OP_OPEN || c.op == FFS_OP_CREAT) {
    int creating, foreign;
    dur |= ffs__undo_open_path(&s->u, c.rel, c.flags, 1, &creating, &foreign);
  } else if (c.op == FFS_OP_UNLINK) {
    dur |= ffs__undo_unlink(&s->u, c.rel);
  } else if (c.op == FFS_OP_RMDIR) {
    dur |= ffs__undo_rmdir(&s->u, c.rel);
  } else if (c.op == FFS_OP_MKDIR) {
    dur |= ffs__undo_mkdir(&s->u, c.rel);
  } else if (c.op == FFS_OP_RENAME) {
    dur |= ffs__undo_rename(&s->u, c.rel, c.rel2);
  } else if (c.op == FFS_OP_LINK) {
    dur |= ffs__undo_link(&s->u, c.rel, c.rel2);
  }
  /* syncs run here, on the target's fd: the model learns their real result */
  if ((nr == SYS_fsync || nr == SYS_fdatasync) && tfd >= 0) {
    performed = 1;
    res = (nr == SYS_fsync ? fsync(tfd) : fdatasync(tfd)) < 0 ? -errno : 0;
    if (res == 0 && nid >= 0) dur |= ffs__undo_synced(&s->u, tfd, nid);
  } else if (nr == SYS_sync || nr == SYS_syncfs) {
    performed = 1;
    if (nr == SYS_sync) sync();
    else res = tfd < 0 ? -EBADF : syncfs(tfd) < 0 ? -errno : 0;
    if (res == 0) dur |= ffs__undo_synced_all(&s->u);
  }
  int act = d.rule >= 0 ? (int)d.action : -1;
  if ((act == FFS_A_TORN || act == FFS_A_SHORT) && is_write(nr) && tfd >= 0) {
    performed = 1;
    res = do_write(tid, req, &c, tfd, d.keep);
    if (nid >= 0 && res > 0 && (act == FFS_A_TORN || keep_all)) dur |= ffs__undo_kept(&s->u, nid, (uint64_t)woff, (uint64_t)res);
  } else if (act == FFS_A_FLIP && tfd >= 0) {
    performed = 1;
    res = do_flip_read(tid, req, &c, tfd, &d);
  } else if (act == FFS_A_CRASH_AFTER || act == FFS_A_KILL_AFTER) {
    if (!performed) do_call(s, tid, req, &c, tfd);
    if (keep_all && nid >= 0) dur |= ffs__undo_kept(&s->u, nid, (uint64_t)woff, c.len);
    performed = 1;
  } else if (keep_all && nid >= 0) {
    /* an O_SYNC / RWF_DSYNC write is durable once it returns: logged before it runs */
    dur |= ffs__undo_kept(&s->u, nid, (uint64_t)woff, c.len);
  }
  if (c.op == FFS_OP_RENAME && !performed) ffs__undo_renamed(&s->u, c.rel, c.rel2); /* as if it succeeded */
  trace(s, c.op, index, dur, is_write(nr) ? woff : c.off, c.len, res, c.rel, c.rel2);
  if (act == FFS_A_CRASH_AFTER || act == FFS_A_TORN) power_cut(s, pid);
  else if (act == FFS_A_KILL_AFTER) { s->dead = 1; kill_tree(pid); }
  else if (performed) respond_val(lfd, req, resp, res);
  else respond(lfd, req, resp, 0);
out:
  if (tfd >= 0) close(tfd);
}

int ffs__sc_supervise(const ffs_sc_config *cfg, pid_t pid, int listener, char *err, size_t errlen) {
  sup_t s = {.cfg = cfg, .dirlen = strlen(cfg->data_dir)};
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  int status = 0, reaped = 0, rc = 0;
  s.counts = calloc(cfg->plan->nrules + 1, sizeof *s.counts);
  s.u = (ffs_undo){.io = {.pread = pread, .openat = openat, .close = close, .link = link, .read = read, .write = write,
                          .ftruncate = ftruncate},
                   .dir = cfg->data_dir, .state = cfg->state_dir, .model = cfg->model, .log_fd = -1};
  if (s.counts && ffs__undo_open(&s.u, cfg->seed, err, errlen) < 0) {
    rc = FFS_EIO;
    kill_tree(pid);
    goto out;
  }
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
  ffs__undo_reset(&s.u);
  free(s.counts);
  close(listener);
  return rc < 0 ? rc : status;
}
