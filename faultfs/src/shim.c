/* shim.c — libfaultfs.so: the LD_PRELOAD fault-injection shim.
 *
 * Every wrapped glibc entry point is one row of FFS_CALLS below (name, signature, error
 * return, plan op, and its durability class); the rows generate the real-function
 * pointers, their dlsym(RTLD_NEXT) resolution and the wrappers. A wrapper runs:
 *   idle (no plan, or recursion guard set)  -> real call, nothing else (one branch);
 *   untracked fd/path (outside FAULTFS_DIR) -> real call;
 *   tracked -> ffs_pre() under g_lock: count, consult libfiu point "faultfs/<op>", match
 *              rules, log undo info BEFORE the change; real call; ffs_post(): update the
 *              fd table / durability state, trace, after-actions; unlock.
 * Invariants:
 *  (1) undo records are complete in the shared mapping of STATE/undo before the change
 *      they describe is made, so a SIGKILL at any point leaves a usable log;
 *  (2) g_lock serialises every tracked call, so counting is atomic and once a crash
 *      fires (g_crashed set under the lock) no other thread performs a tracked call;
 *  (3) every random choice is ffs_mix(seed, call index / path), never time or addresses;
 *  (4) the shim writes only under the data dir, the state dir, the trace file and (one line
 *      per process image, one per refused io_uring_setup) the parent's handshake file;
 *  (5) the call stack is walked (site.c) only while a trace is written or when a rule fires.
 */
#define _GNU_SOURCE
#define FIU_ENABLE 1
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fiu.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ffs_int.h"
#include "ffs_sc.h"
#include "ffs_site.h"
#include "ffs_undo.h"

#define EXPORT __attribute__((visibility("default")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Durability classes: how a call touches the model. */
enum {
  CL_WRITE,     /* data write at c->off (or the fd position / end for O_APPEND) */
  CL_READ,      /* data read (flip) */
  CL_SYNC,      /* fsync / fdatasync */
  CL_SFR,       /* sync_file_range: no durability guarantee, traced only */
  CL_TRUNC,     /* ftruncate (fd) */
  CL_PTRUNC,    /* truncate (path) */
  CL_FALLOC,    /* fallocate / posix_fallocate */
  CL_CLOSE,
  CL_DUP,
  CL_RENAME,
  CL_UNLINK,    /* unlink / unlinkat (AT_REMOVEDIR -> rmdir) */
  CL_LINK,
  CL_MKDIR,
  CL_RMDIR,
};

/* One row per wrapped entry point:
 * X(name, ret, params, args, realargs, op, class, errret, descriptor initialisers...)
 * realargs may use the (possibly shortened) descriptor fields c.len / c.iovcnt. */
#define FFS_CALLS(X)                                                                                                       \
  X(write, ssize_t, (int fd, const void *buf, size_t n), (fd, buf, n), (fd, buf, c.len), FFS_OP_WRITE, CL_WRITE, -1,      \
    .fd = fd, .buf = buf, .len = n, .off = -1)                                                                             \
  X(pwrite, ssize_t, (int fd, const void *buf, size_t n, off_t o), (fd, buf, n, o), (fd, buf, c.len, o), FFS_OP_PWRITE,  \
    CL_WRITE, -1, .fd = fd, .buf = buf, .len = n, .off = o)                                                                \
  X(pwrite64, ssize_t, (int fd, const void *buf, size_t n, off64_t o), (fd, buf, n, o), (fd, buf, c.len, o),             \
    FFS_OP_PWRITE, CL_WRITE, -1, .fd = fd, .buf = buf, .len = n, .off = o)                                                 \
  X(writev, ssize_t, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt), (fd, c.iov, c.iovcnt), FFS_OP_WRITEV,   \
    CL_WRITE, -1, .fd = fd, .iov = iov, .iovcnt = cnt, .off = -1)                                                          \
  X(pwritev, ssize_t, (int fd, const struct iovec *iov, int cnt, off_t o), (fd, iov, cnt, o), (fd, c.iov, c.iovcnt, o),  \
    FFS_OP_WRITEV, CL_WRITE, -1, .fd = fd, .iov = iov, .iovcnt = cnt, .off = o)                                           \
  X(pwritev64, ssize_t, (int fd, const struct iovec *iov, int cnt, off64_t o), (fd, iov, cnt, o),                         \
    (fd, c.iov, c.iovcnt, o), FFS_OP_WRITEV, CL_WRITE, -1, .fd = fd, .iov = iov, .iovcnt = cnt, .off = o)                 \
  X(pwritev2, ssize_t, (int fd, const struct iovec *iov, int cnt, off_t o, int fl), (fd, iov, cnt, o, fl),                \
    (fd, c.iov, c.iovcnt, o, fl), FFS_OP_WRITEV, CL_WRITE, -1, .fd = fd, .iov = iov, .iovcnt = cnt, .off = o,            \
    .xflags = fl)                                                                                                          \
  X(pwritev64v2, ssize_t, (int fd, const struct iovec *iov, int cnt, off64_t o, int fl), (fd, iov, cnt, o, fl),           \
    (fd, c.iov, c.iovcnt, o, fl), FFS_OP_WRITEV, CL_WRITE, -1, .fd = fd, .iov = iov, .iovcnt = cnt, .off = o,            \
    .xflags = fl)                                                                                                          \
  X(read, ssize_t, (int fd, void *buf, size_t n), (fd, buf, n), (fd, buf, c.len), FFS_OP_READ, CL_READ, -1, .fd = fd,    \
    .rbuf = buf, .len = n, .off = -1)                                                                                      \
  X(__read_chk, ssize_t, (int fd, void *buf, size_t n, size_t bl), (fd, buf, n, bl), (fd, buf, c.len, bl), FFS_OP_READ,  \
    CL_READ, -1, .fd = fd, .rbuf = buf, .len = n, .off = -1)                                                               \
  X(pread, ssize_t, (int fd, void *buf, size_t n, off_t o), (fd, buf, n, o), (fd, buf, c.len, o), FFS_OP_PREAD, CL_READ, \
    -1, .fd = fd, .rbuf = buf, .len = n, .off = o)                                                                         \
  X(pread64, ssize_t, (int fd, void *buf, size_t n, off64_t o), (fd, buf, n, o), (fd, buf, c.len, o), FFS_OP_PREAD,      \
    CL_READ, -1, .fd = fd, .rbuf = buf, .len = n, .off = o)                                                                \
  X(__pread_chk, ssize_t, (int fd, void *buf, size_t n, off_t o, size_t bl), (fd, buf, n, o, bl),                         \
    (fd, buf, c.len, o, bl), FFS_OP_PREAD, CL_READ, -1, .fd = fd, .rbuf = buf, .len = n, .off = o)                        \
  X(__pread64_chk, ssize_t, (int fd, void *buf, size_t n, off64_t o, size_t bl), (fd, buf, n, o, bl),                     \
    (fd, buf, c.len, o, bl), FFS_OP_PREAD, CL_READ, -1, .fd = fd, .rbuf = buf, .len = n, .off = o)                        \
  X(readv, ssize_t, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt), (fd, iov, cnt), FFS_OP_READ, CL_READ, -1, \
    .fd = fd, .riov = iov, .iovcnt = cnt, .off = -1)                                                                       \
  X(preadv, ssize_t, (int fd, const struct iovec *iov, int cnt, off_t o), (fd, iov, cnt, o), (fd, iov, cnt, o),          \
    FFS_OP_PREAD, CL_READ, -1, .fd = fd, .riov = iov, .iovcnt = cnt, .off = o)                                            \
  X(preadv64, ssize_t, (int fd, const struct iovec *iov, int cnt, off64_t o), (fd, iov, cnt, o), (fd, iov, cnt, o),      \
    FFS_OP_PREAD, CL_READ, -1, .fd = fd, .riov = iov, .iovcnt = cnt, .off = o)                                            \
  X(preadv2, ssize_t, (int fd, const struct iovec *iov, int cnt, off_t o, int fl), (fd, iov, cnt, o, fl),                 \
    (fd, iov, cnt, o, fl), FFS_OP_PREAD, CL_READ, -1, .fd = fd, .riov = iov, .iovcnt = cnt, .off = o)                     \
  X(preadv64v2, ssize_t, (int fd, const struct iovec *iov, int cnt, off64_t o, int fl), (fd, iov, cnt, o, fl),            \
    (fd, iov, cnt, o, fl), FFS_OP_PREAD, CL_READ, -1, .fd = fd, .riov = iov, .iovcnt = cnt, .off = o)                     \
  X(fsync, int, (int fd), (fd), (fd), FFS_OP_FSYNC, CL_SYNC, -1, .fd = fd, .off = -1)                                      \
  X(fdatasync, int, (int fd), (fd), (fd), FFS_OP_FDATASYNC, CL_SYNC, -1, .fd = fd, .off = -1)                              \
  X(sync_file_range, int, (int fd, off64_t o, off64_t n, unsigned int fl), (fd, o, n, fl), (fd, o, n, fl),                \
    FFS_OP_SYNC_FILE_RANGE, CL_SFR, -1, .fd = fd, .off = o, .len = (size_t)n)                                             \
  X(ftruncate, int, (int fd, off_t n), (fd, n), (fd, n), FFS_OP_FTRUNCATE, CL_TRUNC, -1, .fd = fd, .off = n)              \
  X(ftruncate64, int, (int fd, off64_t n), (fd, n), (fd, n), FFS_OP_FTRUNCATE, CL_TRUNC, -1, .fd = fd, .off = n)          \
  X(truncate, int, (const char *p, off_t n), (p, n), (p, n), FFS_OP_FTRUNCATE, CL_PTRUNC, -1, .fd = -1, .path = p,        \
    .off = n)                                                                                                              \
  X(truncate64, int, (const char *p, off64_t n), (p, n), (p, n), FFS_OP_FTRUNCATE, CL_PTRUNC, -1, .fd = -1, .path = p,    \
    .off = n)                                                                                                              \
  X(fallocate, int, (int fd, int m, off_t o, off_t n), (fd, m, o, n), (fd, m, o, n), FFS_OP_FALLOCATE, CL_FALLOC, -1,     \
    .fd = fd, .xflags = m, .off = o, .len = (size_t)n)                                                                     \
  X(fallocate64, int, (int fd, int m, off64_t o, off64_t n), (fd, m, o, n), (fd, m, o, n), FFS_OP_FALLOCATE, CL_FALLOC,   \
    -1, .fd = fd, .xflags = m, .off = o, .len = (size_t)n)                                                                 \
  X(posix_fallocate, int, (int fd, off_t o, off_t n), (fd, o, n), (fd, o, n), FFS_OP_FALLOCATE, CL_FALLOC, ERRNO_RET,     \
    .fd = fd, .off = o, .len = (size_t)n, .errno_ret = 1)                                                                  \
  X(posix_fallocate64, int, (int fd, off64_t o, off64_t n), (fd, o, n), (fd, o, n), FFS_OP_FALLOCATE, CL_FALLOC,          \
    ERRNO_RET, .fd = fd, .off = o, .len = (size_t)n, .errno_ret = 1)                                                       \
  X(close, int, (int fd), (fd), (fd), FFS_OP_CLOSE, CL_CLOSE, -1, .fd = fd, .off = -1)                                     \
  X(dup, int, (int fd), (fd), (fd), FFS_OP_DUP, CL_DUP, -1, .fd = fd, .fd2 = -1, .off = -1)                                \
  X(dup2, int, (int fd, int fd2), (fd, fd2), (fd, fd2), FFS_OP_DUP, CL_DUP, -1, .fd = fd, .fd2 = fd2, .off = -1)         \
  X(dup3, int, (int fd, int fd2, int fl), (fd, fd2, fl), (fd, fd2, fl), FFS_OP_DUP, CL_DUP, -1, .fd = fd, .fd2 = fd2,    \
    .xflags = fl, .off = -1)                                                                                               \
  X(rename, int, (const char *a, const char *b), (a, b), (a, b), FFS_OP_RENAME, CL_RENAME, -1, .fd = -1, .dirfd = AT_FDCWD, \
    .path = a, .dirfd2 = AT_FDCWD, .path2 = b, .off = -1)                                                                  \
  X(renameat, int, (int da, const char *a, int db, const char *b), (da, a, db, b), (da, a, db, b), FFS_OP_RENAME,         \
    CL_RENAME, -1, .fd = -1, .dirfd = da, .path = a, .dirfd2 = db, .path2 = b, .off = -1)                                  \
  X(renameat2, int, (int da, const char *a, int db, const char *b, unsigned fl), (da, a, db, b, fl), (da, a, db, b, fl),  \
    FFS_OP_RENAME, CL_RENAME, -1, .fd = -1, .dirfd = da, .path = a, .dirfd2 = db, .path2 = b, .xflags = (int)fl,          \
    .off = -1)                                                                                                             \
  X(unlink, int, (const char *p), (p), (p), FFS_OP_UNLINK, CL_UNLINK, -1, .fd = -1, .dirfd = AT_FDCWD, .path = p,         \
    .off = -1)                                                                                                             \
  X(unlinkat, int, (int d, const char *p, int fl), (d, p, fl), (d, p, fl), FFS_OP_UNLINK, CL_UNLINK, -1, .fd = -1,        \
    .dirfd = d, .path = p, .xflags = fl, .off = -1)                                                                        \
  X(link, int, (const char *a, const char *b), (a, b), (a, b), FFS_OP_LINK, CL_LINK, -1, .fd = -1, .dirfd = AT_FDCWD,     \
    .path = a, .dirfd2 = AT_FDCWD, .path2 = b, .off = -1)                                                                  \
  X(linkat, int, (int da, const char *a, int db, const char *b, int fl), (da, a, db, b, fl), (da, a, db, b, fl),          \
    FFS_OP_LINK, CL_LINK, -1, .fd = -1, .dirfd = da, .path = a, .dirfd2 = db, .path2 = b, .xflags = fl, .off = -1)        \
  X(mkdir, int, (const char *p, mode_t m), (p, m), (p, m), FFS_OP_MKDIR, CL_MKDIR, -1, .fd = -1, .dirfd = AT_FDCWD,       \
    .path = p, .off = -1)                                                                                                  \
  X(mkdirat, int, (int d, const char *p, mode_t m), (d, p, m), (d, p, m), FFS_OP_MKDIR, CL_MKDIR, -1, .fd = -1,           \
    .dirfd = d, .path = p, .off = -1)                                                                                      \
  X(rmdir, int, (const char *p), (p), (p), FFS_OP_RMDIR, CL_RMDIR, -1, .fd = -1, .dirfd = AT_FDCWD, .path = p, .off = -1)

#define ERRNO_RET 0 /* posix_fallocate: returns the error number instead of -1/errno */

/* ---- real functions ------------------------------------------------------------------ */
/* Each real pointer starts at a lazy stub that resolves everything on first use, so the
 * idle wrapper needs no "resolved yet?" test: one load of g_active, one branch, one call. */
static void resolve_all(void);
#define X_PTR(name, ret, params, args, ...)                                   \
  static ret lazy_##name params;                                              \
  static ret(*real_##name) params = lazy_##name;                              \
  static ret lazy_##name params {                                             \
    resolve_all();                                                            \
    if (real_##name == lazy_##name) { errno = ENOSYS; return (ret)-1; }      \
    return real_##name args;                                                  \
  }
FFS_CALLS(X_PTR)
#undef X_PTR
static int (*real_openat)(int, const char *, int, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off64_t);
static long (*real_syscall)(long, ...);
static FILE *(*real_fopen)(const char *, const char *);
static FILE *(*real_fopen64)(const char *, const char *);
static int (*real_fcntl)(int, int, ...);
static int (*real_fcntl64)(int, int, ...);
static ssize_t (*real_copy_file_range)(int, off64_t *, int, off64_t *, size_t, unsigned int);
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);
static ssize_t (*real_sendfile64)(int, int, off64_t *, size_t);
static int (*real_fclose)(FILE *);
static int (*real_closedir)(DIR *);
static int (*real_close_range)(unsigned int, unsigned int, int);
static void (*real_closefrom)(int);
static int (*real_syncfs)(int);
static void (*real_sync)(void);
static int (*real_msync)(void *, size_t, int);
static atomic_int g_resolved;

static void resolve_all(void) {
#define X_RES(name, ...) { void *p_ = dlsym(RTLD_NEXT, #name); if (p_) real_##name = p_; }
  FFS_CALLS(X_RES)
#undef X_RES
  real_openat = dlsym(RTLD_NEXT, "openat");
  real_mmap = dlsym(RTLD_NEXT, "mmap");
  real_mmap64 = dlsym(RTLD_NEXT, "mmap64");
  real_syscall = dlsym(RTLD_NEXT, "syscall");
  real_fopen = dlsym(RTLD_NEXT, "fopen");
  real_fopen64 = dlsym(RTLD_NEXT, "fopen64");
  real_fcntl = dlsym(RTLD_NEXT, "fcntl");
  real_fcntl64 = dlsym(RTLD_NEXT, "fcntl64");
  real_copy_file_range = dlsym(RTLD_NEXT, "copy_file_range");
  real_sendfile = dlsym(RTLD_NEXT, "sendfile");
  real_sendfile64 = dlsym(RTLD_NEXT, "sendfile64");
  real_fclose = dlsym(RTLD_NEXT, "fclose");
  real_sync = dlsym(RTLD_NEXT, "sync");
  real_syncfs = dlsym(RTLD_NEXT, "syncfs");
  real_msync = dlsym(RTLD_NEXT, "msync");
  real_closedir = dlsym(RTLD_NEXT, "closedir");
  real_close_range = dlsym(RTLD_NEXT, "close_range");
  real_closefrom = dlsym(RTLD_NEXT, "closefrom");
  atomic_store(&g_resolved, 1);
}
#define RESOLVE() do { if (UNLIKELY(!atomic_load_explicit(&g_resolved, memory_order_acquire))) resolve_all(); } while (0)

/* ---- state ------------------------------------------------------------------------------ */
typedef ffs_unode node_t;

typedef struct {
  int32_t node1;  /* node index + 1; 0 = untracked (so a calloc'ed table is all untracked) */
  uint8_t sync;   /* O_SYNC / O_DSYNC (F_SETFL cannot change them) */
} fdent_t;

static int g_active;                 /* read without the lock: the idle branch */
static atomic_int g_crashed;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
/* initial-exec: the shim is preloaded, so its TLS is static and reading the guard is one
 * instruction instead of a __tls_get_addr call */
static __thread int t_guard __attribute__((tls_model("initial-exec")));

static ffs_plan *g_plan;
static uint64_t *g_rule_count;
static char g_dir[PATH_MAX];
static size_t g_dirlen;
static char g_state[PATH_MAX];
static uint64_t g_seed;
static ffs_model g_model;
static int g_trace_fd = -1;
static int g_rec_fd = -1;            /* FAULTFS_RECORD (docs/format/record.md), -1 = none */
static uint64_t g_index;
static unsigned g_nfired;

static ffs_undo g_u = {.log_fd = -1}; /* the undo-log writer (undo.c) and its node table */

static fdent_t *g_fds;  /* fixed size (RLIMIT_NOFILE) once allocated: read without the lock */
static int g_nfds;
static int g_fd_hi;     /* highest fd ever tracked + 1 (what a reset must clear) */

static const char *const fiu_names[FFS_OP_COUNT] = {
#define FFS_X_FIU(e, s) "faultfs/" s,
    FFS_OP_MAP(FFS_X_FIU)
#undef FFS_X_FIU
};

/* Descriptor of one tracked call. */
typedef struct {
  ffs_op op;
  int cls;
  int fd, fd2, dirfd, dirfd2, xflags, errno_ret;
  const char *path, *path2;
  const void *buf;
  void *rbuf;
  const struct iovec *iov, *riov;
  int iovcnt;
  size_t len;
  int64_t off;
  /* filled by ffs_pre */
  int32_t node;
  char *rel, *rel2;     /* thread-local buffers (one tracked call per thread at a time) */
  uint64_t index;
  int fire_rule;        /* -1 none */
  int fail_errno;       /* injected error */
  int after;            /* FFS_A_KILL_AFTER / FFS_A_CRASH_AFTER / FFS_A_TORN or -1 */
  uint64_t torn_keep;
  int flip, flip_has_arg;
  uint64_t flip_bit;
  uint32_t dur;
  int64_t woff;         /* resolved write offset */
  int append;           /* the write went to the end (O_APPEND at the time of the call) */
  struct iovec *iovbuf; /* thread-local, 64 entries */
} call_t;

static __thread char t_rel[PATH_MAX], t_rel2[PATH_MAX];
static __thread struct iovec t_iov[64];
#define CALL_BUFS .rel = t_rel, .rel2 = t_rel2, .iovbuf = t_iov

/* ---- small helpers ------------------------------------------------------------------ */
static int fd_tracked(int fd) { return fd >= 0 && fd < g_nfds && g_fds[fd].node1 > 0; }
#define FD_NODE(fd) (g_fds[fd].node1 - 1)

static void die_msg(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
  if (n < 0) n = 0;
  buf[n++] = '\n';
  RESOLVE();
  ssize_t w = real_write(2, buf, (size_t)n);
  (void)w;
}

/* realpath() of a directory, cached: a hit costs one stat() (the spelled path must still
 * lead to the same directory inode) instead of a readlink per component. A directory's real
 * path changes only by a rename, and every rename that can move a directory into, inside
 * or out of the data dir is tracked: it bumps g_rgen, which empties the cache. */
#define RCACHE 8
static struct { char spelled[PATH_MAX], real[PATH_MAX]; uint64_t dev, ino, gen; int used; } g_rcache[RCACHE];
static unsigned g_rnext;
static atomic_uint_fast64_t g_rgen = 1;
static pthread_mutex_t g_rlock = PTHREAD_MUTEX_INITIALIZER;

static int real_dir(const char *spelled, char *real) {
  struct stat st;
  if (stat(spelled, &st) < 0) return 0;
  uint64_t gen = atomic_load(&g_rgen);
  pthread_mutex_lock(&g_rlock);
  for (int i = 0; i < RCACHE; i++)
    if (g_rcache[i].used && g_rcache[i].gen == gen && g_rcache[i].ino == (uint64_t)st.st_ino &&
        g_rcache[i].dev == (uint64_t)st.st_dev && strcmp(g_rcache[i].spelled, spelled) == 0) {
      memcpy(real, g_rcache[i].real, strlen(g_rcache[i].real) + 1);
      pthread_mutex_unlock(&g_rlock);
      return 1;
    }
  pthread_mutex_unlock(&g_rlock);
  if (!realpath(spelled, real)) return 0;
  if (strlen(spelled) < PATH_MAX) {
    pthread_mutex_lock(&g_rlock);
    unsigned k = g_rnext++ % RCACHE;
    snprintf(g_rcache[k].spelled, PATH_MAX, "%s", spelled);
    snprintf(g_rcache[k].real, PATH_MAX, "%s", real);
    g_rcache[k].dev = (uint64_t)st.st_dev;
    g_rcache[k].ino = (uint64_t)st.st_ino;
    g_rcache[k].gen = gen;
    g_rcache[k].used = 1;
    pthread_mutex_unlock(&g_rlock);
  }
  return 1;
}

/* Real path of (dirfd, path) relative to the data dir into rel; 0 if it is outside, or its
 * parent directory does not exist (then the call changes nothing). The kernel's view, not
 * the spelling: the parent is resolved with realpath() (symlinked components, `..` after a
 * symlink, a relative path against the cwd, a dirfd through /proc/self/fd), so a data dir
 * reached through a symlink is still the data dir and a symlink inside it that leads
 * outside is outside. follow: the call follows a symlink in the last component (open,
 * truncate); unlink, rename, mkdir, link act on the name itself. A dangling symlink that
 * would be followed counts as outside. */
static int rel_of(int dirfd, const char *path, char *rel, int follow) {
  char abs[PATH_MAX], real[PATH_MAX];
  if (!path || !*path) return 0;
  if (path[0] == '/') {
    if ((size_t)snprintf(abs, sizeof abs, "%s", path) >= sizeof abs) return 0;
  } else {
    char base[PATH_MAX];
    if (dirfd == AT_FDCWD) {
      if (!getcwd(base, sizeof base)) return 0;
    } else {
      char lp[64];
      snprintf(lp, sizeof lp, "/proc/self/fd/%d", dirfd);
      ssize_t n = readlink(lp, base, sizeof base - 1);
      if (n <= 0 || base[0] != '/') return 0;
      base[n] = 0;
    }
    if ((size_t)snprintf(abs, sizeof abs, "%s/%s", base, path) >= sizeof abs) return 0;
  }
  size_t l = strlen(abs);
  while (l > 1 && abs[l - 1] == '/') abs[--l] = 0;
  char *slash = strrchr(abs, '/');
  const char *last = slash + 1;
  if (!*last || !strcmp(last, ".") || !strcmp(last, "..")) {
    if (!realpath(abs, real)) return 0;
  } else {
    if (slash == abs) strcpy(real, "/");
    else {
      *slash = 0;
      if (!real_dir(abs, real)) return 0;
      *slash = '/';
    }
    size_t rl = strlen(real);
    if (rl + 1 + strlen(last) + 1 > sizeof real) return 0;
    snprintf(real + rl, sizeof real - rl, "%s%s", rl > 1 ? "/" : "", last);
    struct stat st;
    if (follow && lstat(real, &st) == 0 && S_ISLNK(st.st_mode)) {
      char tgt[PATH_MAX];
      if (!realpath(real, tgt)) return 0;
      memcpy(real, tgt, strlen(tgt) + 1);
    }
  }
  if (strncmp(real, g_dir, g_dirlen) != 0) return 0;
  if (real[g_dirlen] == 0) {
    strcpy(rel, ".");
    return 1;
  }
  if (real[g_dirlen] != '/') return 0;
  snprintf(rel, PATH_MAX, "%s", real + g_dirlen + 1);
  return 1;
}

static void abs_of(const char *rel, char *out) {
  if (strcmp(rel, ".") == 0) snprintf(out, PATH_MAX, "%s", g_dir);
  else snprintf(out, PATH_MAX, "%s/%s", g_dir, rel);
}



static int fd_table_init(void) {
  if (g_fds) return 0;
  struct rlimit rl;
  int n = 65536;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > (rlim_t)n)
    n = rl.rlim_cur > (1u << 20) ? (1 << 20) : (int)rl.rlim_cur;
  /* anonymous pages are zero until touched: a calloc from a heap a fork inherited
   * would clear the whole table in every case's child */
  void *p = real_mmap(NULL, (size_t)n * sizeof *g_fds, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return -1;
  g_fds = p;
  g_nfds = n;
  return 0;
}

/* Records fd -> node (nid < 0: untracked). fds beyond the table stay untracked. */
static void fd_track(int fd, int32_t nid, int sync) {
  if (fd < 0 || fd >= g_nfds) return;
  g_fds[fd].sync = (uint8_t)sync;
  g_fds[fd].node1 = nid + 1;
  if (nid >= 0 && fd >= g_fd_hi) g_fd_hi = fd + 1;
}

static int32_t node_get(const struct stat *st, const char *rel, int created) { return ffs__undo_node(&g_u, st, rel, created); }

/* A regular file the shim has not seen yet with more than one link: another name may be
 * outside the data dir, so changing it back at a power cut could change a file that is not
 * the shim's. It is never tracked nor rolled back; the call is reported (trace warning and
 * one stderr line). */
static int foreign_links(const struct stat *st) { return ffs__undo_foreign(&g_u, st); }
static void report_foreign(const char *rel, const struct stat *st) {
  die_msg("faultfs: warning: %s/%s has %lu hard links: not tracked, never rolled back (a link may be outside the data dir)",
          g_dir, rel, (unsigned long)st->st_nlink);
}

static int high_fd(int fd);
static size_t iov_total(const struct iovec *iov, int cnt);

static uint64_t fd_size(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* ---- trace ------------------------------------------------------------------------------ */
static void trace_rec(ffs_op op, uint64_t index, uint32_t dur, int64_t off, uint64_t len, int64_t res, const char *p1,
                      const char *p2) {
  if (g_trace_fd < 0) return;
  unsigned char buf[sizeof(ffs_trec) + 2 * FFS_PATH_MAX + FFS_SITE_NAME_MAX];
  char name[FFS_SITE_NAME_MAX];
  uint64_t site = ffs__site(name, sizeof name); /* only here, while a trace is written */
  size_t n = ffs__trace_encode(buf, op, index, dur, off, len, res, p1, p2, site,
                               ffs__site_first(site) ? name : NULL);
  ssize_t w = real_write(g_trace_fd, buf, n);
  (void)w;
}

/* One CALL record of the record file (record.c encodes it): head, paths and, for a write, the
 * bytes it wrote, in one writev on the O_APPEND fd. Called with g_lock held. */
static void record_call(const call_t *c, int64_t res, uint32_t flags, uint32_t mode) {
  if (g_rec_fd < 0) return;
  unsigned char head[sizeof(ffs_rhead) + 2 * FFS_PATH_MAX];
  struct iovec iov[66];
  int n = 1;
  size_t data = 0;
  if (c->cls == CL_WRITE && res > 0) {
    if (c->iov) {
      for (int i = 0; i < c->iovcnt && n < 65 && data < (size_t)res; i++) {
        size_t l = c->iov[i].iov_len < (size_t)res - data ? c->iov[i].iov_len : (size_t)res - data;
        iov[n].iov_base = c->iov[i].iov_base;
        iov[n++].iov_len = l;
        data += l;
      }
    } else {
      iov[n].iov_base = (void *)c->buf;
      iov[n++].iov_len = (size_t)res;
      data = (size_t)res;
    }
  }
  ffs_rec r = {.type = FFS_REC_CALL, .op = c->op, .flags = flags, .fd = c->fd, .mode = mode, .dur = c->dur,
               .index = c->index, .offset = c->cls == CL_WRITE ? c->woff : c->off,
               .length = c->cls == CL_WRITE && c->iov ? iov_total(c->iov, c->iovcnt) : c->len, .result = res,
               .path = c->rel, .path2 = c->rel2, .datalen = data};
  iov[0].iov_base = head;
  iov[0].iov_len = ffs__record_head(head, &r);
  ssize_t w = real_writev(g_rec_fd, iov, n);
  (void)w;
}

/* A warning record (shares the index of the next call); fd >= 0: path of that fd. */
static void warn_call(ffs_op op, int fd, const char *rel, int64_t off, uint64_t len) {
  pthread_mutex_lock(&g_lock);
  if (fd >= 0) rel = fd_tracked(fd) ? g_u.nodes[FD_NODE(fd)].rel : NULL;
  if (rel) trace_rec(op, g_index, FFS_DUR_WARN, off, len, 0, rel, NULL);
  pthread_mutex_unlock(&g_lock);
}

/* ---- firing -------------------------------------------------------------------------- */
static void write_fired(const call_t *c, int rule) {
  char path[PATH_MAX], line[PATH_MAX + 128];
  /* the site it fired at: one stack walk per recorded firing (ffs__fired_line records the
   * first 64 and every fatal one), none for the repeats of an N+ rule */
  int recorded = g_nfired < 64 || ffs_action_is_fatal(g_plan->rules[rule].action);
  int n = ffs__fired_line(line, sizeof line, g_plan, rule, c->op, c->index, g_rule_count[rule],
                          recorded ? ffs__site(NULL, 0) : 0, c->rel, &g_nfired);
  if (n <= 0) return;
  snprintf(path, sizeof path, "%s/%s", g_state, FFS_STATE_FIRED);
  int fd = real_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t w = real_write(fd, line, (size_t)n);
  (void)w;
  real_close(fd);
}

static _Noreturn void die_now(void) {
  kill(getpid(), SIGKILL);
  for (;;) pause();
}

/* Power cut: roll back to the durable state, then die. Called with g_lock held.
 * On a real file system (kernel-* model) the file system is shut down instead, before any
 * fd is closed (a close can start writeback: ext4's flush-on-close after truncate). */
static _Noreturn void power_cut(void) {
  char err[512];
  atomic_store(&g_crashed, 1);
  if (ffs_model_fs(g_model)) {
    int fd = real_openat(AT_FDCWD, g_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    int rc = fd < 0 ? -errno : ffs_fs_shutdown(fd);
    if (rc < 0) die_msg("faultfs: shutdown of the %s file system under %s failed: %s", ffs_model_fs(g_model), g_dir,
                        strerror(-rc));
    die_now();
  }
  int rc = ffs__rollback_buf(g_u.log, sizeof(ffs_undo_hdr) + ffs__undo_hdr(&g_u)->used, g_state, g_dir, err, sizeof err);
  if (rc < 0) die_msg("faultfs: in-process rollback failed (%s): %s", ffs_strerror(rc), err);
  else ffs__undo_hdr(&g_u)->rolled_back = 1;
  die_now();
}

/* ---- the tracked-call core ------------------------------------------------------------ */
enum { PRE_PASS = 0, PRE_GO = 1, PRE_FAIL = 2 };

static size_t iov_total(const struct iovec *iov, int cnt) {
  size_t t = 0;
  for (int i = 0; i < cnt; i++) t += iov[i].iov_len;
  return t;
}

/* Limits the data of a write to keep bytes (short / torn). */
static void limit_write(call_t *c, uint64_t keep) {
  if (c->iov) {
    int n = 0;
    uint64_t left = keep;
    for (int i = 0; i < c->iovcnt && n < 64 && left; i++) {
      c->iovbuf[n] = c->iov[i];
      if (c->iovbuf[n].iov_len > left) c->iovbuf[n].iov_len = (size_t)left;
      left -= c->iovbuf[n].iov_len;
      n++;
    }
    if (n == 0) { c->iovbuf[0].iov_base = (void *)c->iov[0].iov_base; c->iovbuf[0].iov_len = 0; n = 1; }
    c->iov = c->iovbuf;
    c->iovcnt = n;
  } else if (keep < c->len) {
    c->len = (size_t)keep;
  }
}

/* fd no longer refers to what the shim tracked (closed behind its back, or replaced). */
static void forget_fd(int fd) {
  if (!fd_tracked(fd)) return;
  pthread_mutex_lock(&g_lock);
  fd_track(fd, -1, 0);
  pthread_mutex_unlock(&g_lock);
}

static int own_fd(int fd) {
  if (fd < 0) return 0;
  if (fd == g_u.log_fd || fd == g_trace_fd || fd == g_rec_fd) return 1;
  if (fd < 900) return 0; /* the shim's fds are all >= 900 */
  for (size_t i = 0; i < g_u.nnodes; i++)
    if (g_u.nodes[i].rfd == fd) return 1;
  return 0;
}

/* An fsync on an fd the shim never saw open (opendir + dirfd, fopen + fileno, opened before
 * configure) still has to count: look its path up once and track it from now on. */
static void adopt_fd(int fd) {
  char lp[64], path[PATH_MAX], rel[PATH_MAX];
  struct stat st;
  if (fd < 0 || fd >= g_nfds || own_fd(fd)) return;
  snprintf(lp, sizeof lp, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(lp, path, sizeof path - 1);
  if (n <= 0 || path[0] != '/') return;
  path[n] = 0;
  if (!rel_of(AT_FDCWD, path, rel, 0) || fstat(fd, &st) < 0) return;
  if (foreign_links(&st)) return;
  pthread_mutex_lock(&g_lock);
  if (!fd_tracked(fd)) {
    int fl = fcntl(fd, F_GETFL);
    fd_track(fd, node_get(&st, rel, 0), fl >= 0 && (fl & (O_SYNC | O_DSYNC)));
  }
  pthread_mutex_unlock(&g_lock);
}

/* Counts the call, consults the libfiu point and the plan, and applies the decision: kill and
 * crash act here (never return); other actions are left in c for the caller. Every choice
 * is a function of (seed, plan, call index, path). Called with g_lock held. */
static void decide(call_t *c) {
  c->index = g_index++;
  c->fire_rule = -1;
  c->after = -1;
  /* libfiu failure point */
  if (UNLIKELY(fiu_fail(fiu_names[c->op]))) {
    void *info = fiu_failinfo();
    c->fail_errno = info ? (int)(intptr_t)info : EIO;
  }
  /* the plan: the decision shared with the seccomp supervisor */
  size_t want = c->iov ? iov_total(c->iov, c->iovcnt) : c->len;
  ffs_decision d;
  ffs__decide(g_plan, g_rule_count, c->op, c->rel, c->index, g_seed, want, &d);
  c->fire_rule = d.rule;
  if (c->fire_rule >= 0 && !c->fail_errno) {
    c->dur |= FFS_DUR_FIRED;
    write_fired(c, c->fire_rule);
    switch (d.action) {
      case FFS_A_KILL:
        trace_rec(c->op, c->index, c->dur, c->off, want, 0, c->rel, c->rel2);
        die_now();
      case FFS_A_CRASH:
        trace_rec(c->op, c->index, c->dur, c->off, want, 0, c->rel, c->rel2);
        power_cut();
      case FFS_A_KILL_AFTER: case FFS_A_CRASH_AFTER:
        c->after = d.action;
        break;
      case FFS_A_TORN:
        c->after = FFS_A_TORN;
        c->torn_keep = d.keep;
        limit_write(c, c->torn_keep);
        break;
      case FFS_A_EIO: case FFS_A_ENOSPC: case FFS_A_EDQUOT: c->fail_errno = d.fail_errno; break;
      case FFS_A_SHORT: limit_write(c, d.keep); break;
      case FFS_A_FLIP:
        c->flip = 1;
        c->flip_bit = d.flip_bit;
        c->flip_has_arg = d.flip_has_arg;
        break;
      default: break;
    }
  }
}

static int ffs_pre(call_t *c) {
  int32_t nid = -1;
  c->woff = c->off;
  if (c->cls == CL_SYNC && !fd_tracked(c->fd)) adopt_fd(c->fd);
  /* 1. is it tracked? (fd table reads race only with calls on other fds) */
  switch (c->cls) {
    case CL_RENAME: case CL_LINK: {
      int t1 = rel_of(c->dirfd, c->path, c->rel, c->cls == CL_LINK && (c->xflags & AT_SYMLINK_FOLLOW)),
          t2 = rel_of(c->dirfd2, c->path2, c->rel2, 0);
      if (!t1 && !t2) return PRE_PASS;
      if (!t1) strcpy(c->rel, "");
      if (!t2) strcpy(c->rel2, "");
      break;
    }
    case CL_UNLINK: case CL_MKDIR: case CL_RMDIR: case CL_PTRUNC:
      if (!rel_of(c->cls == CL_PTRUNC ? AT_FDCWD : c->dirfd, c->path, c->rel, c->cls == CL_PTRUNC)) return PRE_PASS;
      c->rel2[0] = 0;
      break;
    default:
      if (!fd_tracked(c->fd)) return PRE_PASS;
      c->rel2[0] = 0;
      break;
  }
  pthread_mutex_lock(&g_lock);
  if (UNLIKELY(atomic_load(&g_crashed))) for (;;) pause(); /* a crash fired: never act again */
  t_guard = 1;
  if (c->fd >= 0) {
    if (!fd_tracked(c->fd)) { t_guard = 0; pthread_mutex_unlock(&g_lock); return PRE_PASS; }
    nid = FD_NODE(c->fd);
    snprintf(c->rel, PATH_MAX, "%s", g_u.nodes[nid].rel);
  }
  c->node = nid;
  if (c->cls == CL_UNLINK && (c->xflags & AT_REMOVEDIR)) c->op = FFS_OP_RMDIR;
  decide(c);
  if (c->fail_errno) {
    if (c->cls == CL_SYNC) c->dur |= ffs__undo_lost(&g_u, nid);
    return PRE_FAIL;
  }
  /* 4. undo information, before the change (undo.c, shared with the seccomp supervisor) */
  switch (c->cls) {
    case CL_WRITE: {
      uint64_t len = c->iov ? iov_total(c->iov, c->iovcnt) : c->len, cur = UINT64_MAX;
      /* O_APPEND as it is now: fcntl(F_SETFL) may have set or cleared it since the
       * open, on this fd or on an alias sharing its open file description */
      int fl = c->off >= 0 ? 0 : real_fcntl(c->fd, F_GETFL);
      if (c->off >= 0) c->woff = c->off;
      else if (fl >= 0 && (fl & O_APPEND)) { cur = fd_size(c->fd); c->woff = (int64_t)cur; c->append = 1; }
      else c->woff = lseek(c->fd, 0, SEEK_CUR);
      if (c->woff < 0) c->woff = 0;
      c->dur |= ffs__undo_write(&g_u, c->fd, nid, (uint64_t)c->woff, len, cur);
      break;
    }
    case CL_TRUNC: c->dur |= ffs__undo_trunc(&g_u, c->fd, nid, c->off < 0 ? 0 : (uint64_t)c->off); break;
    case CL_FALLOC: c->dur |= ffs__undo_falloc(&g_u, c->fd, nid, (uint64_t)c->off, c->len); break;
    case CL_PTRUNC: {
      int foreign;
      c->dur |= ffs__undo_ptrunc(&g_u, c->rel, c->off < 0 ? 0 : (uint64_t)c->off, &foreign);
      if (foreign) {
        char abs[PATH_MAX];
        struct stat st;
        abs_of(c->rel, abs);
        if (stat(abs, &st) == 0) report_foreign(c->rel, &st);
      }
      break;
    }
    case CL_UNLINK: c->dur |= ffs__undo_unlink(&g_u, c->rel); break;
    case CL_RMDIR: c->dur |= ffs__undo_rmdir(&g_u, c->rel); break;
    case CL_MKDIR: c->dur |= ffs__undo_mkdir(&g_u, c->rel); break;
    case CL_RENAME:
      atomic_fetch_add(&g_rgen, 1); /* a directory may move: cached real paths are stale */
      c->dur |= ffs__undo_rename(&g_u, c->rel, c->rel2);
      break;
    case CL_LINK: c->dur |= ffs__undo_link(&g_u, c->rel, c->rel2); break;
    default:
      break;
  }
  return PRE_GO;
}

static void flip_read(call_t *c, int64_t r) {
  if (r <= 0) return;
  uint64_t bit = c->flip_has_arg ? c->flip_bit : c->flip_bit % ((uint64_t)r * 8);
  if (bit >= (uint64_t)r * 8) return;
  uint64_t byte = bit / 8;
  if (c->rbuf) {
    ((unsigned char *)c->rbuf)[byte] ^= (unsigned char)(1u << (bit % 8));
  } else {
    for (int i = 0; i < c->iovcnt; i++) {
      if (byte < c->riov[i].iov_len) {
        ((unsigned char *)c->riov[i].iov_base)[byte] ^= (unsigned char)(1u << (bit % 8));
        break;
      }
      byte -= c->riov[i].iov_len;
    }
  }
}

/* After the real call (or the injected failure). Releases g_lock. */
static void ffs_post(call_t *c, int64_t r, int err) {
  int ok = r >= 0 && !(c->errno_ret && r != 0);
  int32_t nid = c->node;
  int64_t res = ok ? r : -(int64_t)(c->errno_ret ? r : err);
  if (ok) {
    switch (c->cls) {
      case CL_WRITE:
        /* durable when it returns: an O_SYNC/O_DSYNC fd, or pwritev2 with RWF_SYNC/RWF_DSYNC */
        if (nid >= 0 && r > 0 && (g_fds[c->fd].sync || (c->xflags & (RWF_SYNC | RWF_DSYNC)) || c->after == FFS_A_TORN))
          c->dur |= ffs__undo_kept(&g_u, nid, (uint64_t)c->woff, (uint64_t)r);
        break;
      case CL_READ:
        if (c->flip) flip_read(c, r);
        break;
      case CL_SYNC: c->dur |= ffs__undo_synced(&g_u, c->fd, nid); break;
      case CL_CLOSE:
        fd_track(c->fd, -1, 0);
        break;
      case CL_DUP:
        if (r >= 0 && (int)r != c->fd) fd_track((int)r, nid, g_fds[c->fd].sync);
        break;
      case CL_RENAME:
        atomic_fetch_add(&g_rgen, 1);
        ffs__undo_renamed(&g_u, c->rel, c->rel2);
        break;
      default:
        break;
    }
  } else if (c->cls == CL_CLOSE) {
    fd_track(c->fd, -1, 0);
  }
  uint64_t tlen = c->cls == CL_WRITE && c->iov ? iov_total(c->iov, c->iovcnt) : c->len;
  trace_rec(c->op, c->index, c->dur, c->cls == CL_WRITE ? c->woff : c->off, tlen, res, c->rel, c->rel2);
  if (UNLIKELY(g_rec_fd >= 0)) {
    uint32_t rf = (uint32_t)c->xflags; /* fallocate mode, renameat2 flags */
    if (c->cls == CL_WRITE) {
      int known = c->fd >= 0 && c->fd < g_nfds;
      rf = (known && g_fds[c->fd].sync) || (c->xflags & (RWF_SYNC | RWF_DSYNC)) ? FFS_RF_SYNC : 0;
      if (c->append) rf |= FFS_RF_APPEND;
    }
    record_call(c, res, rf, 0);
  }
  if (c->after == FFS_A_KILL_AFTER) die_now();
  if (c->after == FFS_A_CRASH_AFTER || c->after == FFS_A_TORN) power_cut();
  t_guard = 0;
  pthread_mutex_unlock(&g_lock);
}

/* ---- generated wrappers -------------------------------------------------------------- */
/* The fortified (__*_chk) and __open*_2 entry points are glibc's own and declared by no
 * header the shim includes; each exported wrapper gets its prototype from the same table. */
#define X_PROTO(name, ret, params, ...) EXPORT ret name params;
FFS_CALLS(X_PROTO)
#undef X_PROTO
EXPORT int __open_2(const char *p, int flags);
EXPORT int __open64_2(const char *p, int flags);
EXPORT int __openat_2(int d, const char *p, int flags);
EXPORT int __openat64_2(int d, const char *p, int flags);
EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n);
EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t n);
#define X_WRAP(name, ret, params, args, realargs, op_, cls_, errret, ...)        \
  static __attribute__((noinline)) ret slow_##name params {                     \
    if (t_guard) return real_##name args;                                      \
    call_t c = {.op = op_, .cls = cls_, .dirfd = AT_FDCWD, CALL_BUFS, __VA_ARGS__}; \
    int pre = ffs_pre(&c);                                                     \
    if (pre == PRE_PASS) {                                                     \
      if ((cls_ == CL_CLOSE || cls_ == CL_DUP) && (own_fd(c.fd) || own_fd(c.fd2))) { \
        errno = EBADF; /* the shim's own log/trace fds are not the program's */ \
        return (ret)(errret);                                                  \
      }                                                                        \
      if (cls_ == CL_DUP && fd_tracked(c.fd2)) { /* untracked fd over a tracked one */ \
        ret r = real_##name args;                                              \
        if ((int64_t)r >= 0) forget_fd(c.fd2);                                 \
        return r;                                                              \
      }                                                                        \
      return real_##name args;                                                 \
    }                                                                          \
    if (pre == PRE_FAIL) {                                                     \
      if (cls_ == CL_CLOSE) real_close(c.fd);                                  \
      ffs_post(&c, c.errno_ret ? c.fail_errno : -1, c.fail_errno);             \
      if (c.errno_ret) return (ret)c.fail_errno;                               \
      errno = c.fail_errno;                                                    \
      return (ret)(errret);                                                    \
    }                                                                          \
    ret r = real_##name realargs;                                              \
    int e = errno;                                                             \
    ffs_post(&c, (int64_t)r, e);                                               \
    errno = e;                                                                 \
    return r;                                                                  \
  }                                                                            \
  /* idle: one load, one predictable branch, a tail call into libc */         \
  EXPORT ret name params {                                                     \
    if (LIKELY(!g_active)) return real_##name args;                            \
    return slow_##name args;                                                   \
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
FFS_CALLS(X_WRAP)
#pragma GCC diagnostic pop
#undef X_WRAP

/* ---- open family (variadic mode: one core, thin entry points) -------------------------- */
static int open_core(int dirfd, const char *path, int flags, mode_t mode, ffs_op op) {
  RESOLVE();
  if (LIKELY(!g_active) || t_guard) return real_openat(dirfd, path, flags, mode);
  call_t c = {.op = op, .cls = -1, .fd = -1, .fd2 = -1, .dirfd = dirfd, .path = path, .off = -1, CALL_BUFS};
  t_rel2[0] = 0;
  if (!rel_of(dirfd, path, c.rel, !(flags & O_NOFOLLOW))) {
    int fd = real_openat(dirfd, path, flags, mode);
    if (UNLIKELY(fd >= 0 && fd_tracked(fd))) forget_fd(fd); /* its close was not seen */
    return fd;
  }
  pthread_mutex_lock(&g_lock);
  if (UNLIKELY(atomic_load(&g_crashed))) for (;;) pause();
  t_guard = 1;
  c.node = -1;
  decide(&c);
  int fd = -1, e = 0;
  if (c.fail_errno) {
    e = c.fail_errno;
    goto done;
  }
  /* undo info */
  struct stat st;
  int creating, foreign;
  c.dur |= ffs__undo_open_path(&g_u, c.rel, flags, 0, &creating, &foreign);
  if (foreign) {
    char abs[PATH_MAX];
    abs_of(c.rel, abs);
    if (stat(abs, &st) == 0) report_foreign(c.rel, &st);
  }
  fd = real_openat(dirfd, path, flags, mode);
  e = errno;
  if (fd >= 0 && !foreign && fstat(fd, &st) == 0 && !foreign_links(&st))
    fd_track(fd, node_get(&st, c.rel, creating), (flags & (O_SYNC | O_DSYNC)) != 0);
done:
  trace_rec(op, c.index, c.dur, -1, 0, fd >= 0 ? fd : -(int64_t)e, c.rel, NULL);
  record_call(&c, fd >= 0 ? fd : -(int64_t)e, (uint32_t)flags, (uint32_t)mode);
  if (c.after == FFS_A_KILL_AFTER) die_now();
  if (c.after == FFS_A_CRASH_AFTER) power_cut();
  t_guard = 0;
  pthread_mutex_unlock(&g_lock);
  errno = e;
  return fd;
}

#define OPEN_MODE(flags) \
  mode_t mode = 0;       \
  if ((flags) & (O_CREAT | __O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = (mode_t)va_arg(ap, int); va_end(ap); }
EXPORT int open(const char *p, int flags, ...) { OPEN_MODE(flags); return open_core(AT_FDCWD, p, flags, mode, FFS_OP_OPEN); }
EXPORT int open64(const char *p, int flags, ...) { OPEN_MODE(flags); return open_core(AT_FDCWD, p, flags, mode, FFS_OP_OPEN); }
EXPORT int openat(int d, const char *p, int flags, ...) { OPEN_MODE(flags); return open_core(d, p, flags, mode, FFS_OP_OPEN); }
EXPORT int openat64(int d, const char *p, int flags, ...) { OPEN_MODE(flags); return open_core(d, p, flags, mode, FFS_OP_OPEN); }
EXPORT int __open_2(const char *p, int flags) { return open_core(AT_FDCWD, p, flags, 0, FFS_OP_OPEN); }
EXPORT int __open64_2(const char *p, int flags) { return open_core(AT_FDCWD, p, flags, 0, FFS_OP_OPEN); }
EXPORT int __openat_2(int d, const char *p, int flags) { return open_core(d, p, flags, 0, FFS_OP_OPEN); }
EXPORT int __openat64_2(int d, const char *p, int flags) { return open_core(d, p, flags, 0, FFS_OP_OPEN); }
EXPORT int creat(const char *p, mode_t m) { return open_core(AT_FDCWD, p, O_CREAT | O_WRONLY | O_TRUNC, m, FFS_OP_CREAT); }
EXPORT int creat64(const char *p, mode_t m) { return open_core(AT_FDCWD, p, O_CREAT | O_WRONLY | O_TRUNC, m, FFS_OP_CREAT); }

/* ---- calls that cannot be modelled: reported as warnings in the trace ---------------- */
/* Writable shared mappings of tracked files (the first 64), so that an msync of one can be
 * reported: the program expects those bytes durable, the model never saw them written. */
static struct { uintptr_t a; size_t n; char rel[256]; } g_maps[64];
static int g_nmaps, g_msync_said;
static int mmap_check(int prot, int flags, int fd, int64_t off, size_t len) {
  if (!g_active || t_guard || !(flags & MAP_SHARED) || !(prot & PROT_WRITE) || !fd_tracked(fd)) return 0;
  warn_call(FFS_OP_MMAP, fd, NULL, off, len);
  return 1;
}
static void mmap_note(void *m, size_t n, int fd) {
  if (m == MAP_FAILED) return;
  pthread_mutex_lock(&g_lock);
  if (g_nmaps < 64 && fd_tracked(fd)) {
    g_maps[g_nmaps].a = (uintptr_t)m;
    g_maps[g_nmaps].n = n;
    snprintf(g_maps[g_nmaps].rel, sizeof g_maps[g_nmaps].rel, "%s", g_u.nodes[FD_NODE(fd)].rel);
    g_nmaps++;
  }
  pthread_mutex_unlock(&g_lock);
}
EXPORT void *mmap(void *a, size_t n, int prot, int flags, int fd, off_t off) {
  RESOLVE();
  int w = mmap_check(prot, flags, fd, off, n);
  void *m = real_mmap(a, n, prot, flags, fd, off);
  if (UNLIKELY(w)) mmap_note(m, n, fd);
  return m;
}
EXPORT void *mmap64(void *a, size_t n, int prot, int flags, int fd, off64_t off) {
  RESOLVE();
  int w = mmap_check(prot, flags, fd, off, n);
  void *m = real_mmap64(a, n, prot, flags, fd, off);
  if (UNLIKELY(w)) mmap_note(m, n, fd);
  return m;
}
static void announce(const char *word);
/* msync(MS_SYNC) of a tracked shared mapping: durable for the program, invisible to the
 * model. Reported (trace warning, one stderr line and one handshake line per process, which
 * powercut puts in the case's note), never modelled. */
EXPORT int msync(void *a, size_t n, int flags) {
  RESOLVE();
  if (UNLIKELY(g_active) && !t_guard && (flags & MS_SYNC) && g_nmaps) {
    char rel[256] = "";
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < g_nmaps && !rel[0]; i++)
      if ((uintptr_t)a < g_maps[i].a + g_maps[i].n && (uintptr_t)a + n > g_maps[i].a) memcpy(rel, g_maps[i].rel, sizeof rel);
    int say = rel[0] && !g_msync_said++;
    pthread_mutex_unlock(&g_lock);
    if (rel[0]) warn_call(FFS_OP_MMAP, -1, rel, -1, n);
    if (say) announce(FFS_HS_MSYNC);
    if (say)
      die_msg("faultfs: warning: msync(MS_SYNC) of a shared mapping of %s/%s: writes through mappings are not modelled "
              "(reported only; a power cut neither keeps nor drops them)", g_dir, rel);
  }
  return real_msync(a, n, flags);
}
/* One line to the parent's FAULTFS_HANDSHAKE file, "WORD PID EXE\n", with one O_APPEND
 * write (lines from a process tree never interleave). The file is never created here. */
static void announce(const char *word) {
  const char *p = getenv(FFS_ENV_HANDSHAKE);
  char exe[PATH_MAX], line[PATH_MAX + 64];
  if (!p || !*p) return;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  int fd = real_openat(AT_FDCWD, p, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return;
  int l = snprintf(line, sizeof line, "%s %d %s\n", word, (int)getpid(), exe);
  ssize_t w = real_write(fd, line, l < (int)sizeof line ? (size_t)l : sizeof line - 1);
  (void)w;
  real_close(fd);
}

EXPORT long syscall(long nr, ...) {
  va_list ap;
  long a[6];
  va_start(ap, nr);
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  RESOLVE();
  if (nr == SYS_io_uring_setup && g_active && !t_guard) {
    /* writes through a ring bypass every wrapper: refuse it, so that liburing and
     * runtimes fall back to plain syscalls, and tell the parent */
    warn_call(FFS_OP_SYSCALL, -1, ".", nr, 0);
    announce(FFS_HS_REFUSED);
    errno = ENOSYS;
    return -1;
  }
  if (g_active && !t_guard) {
    int fdarg = nr == SYS_write || nr == SYS_pwrite64 || nr == SYS_writev || nr == SYS_pwritev || nr == SYS_fsync ||
                nr == SYS_fdatasync || nr == SYS_ftruncate || nr == SYS_fallocate || nr == SYS_sync_file_range;
    if (fdarg && fd_tracked((int)a[0])) warn_call(FFS_OP_SYSCALL, (int)a[0], NULL, nr, 0);
  }
  return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
static void stdio_check(const char *path, const char *mode) {
  char rel[PATH_MAX];
  if (!g_active || t_guard || !mode || !strpbrk(mode, "wa+")) return;
  if (rel_of(AT_FDCWD, path, rel, 1)) warn_call(FFS_OP_STDIO, -1, rel, -1, 0);
}
EXPORT FILE *fopen(const char *p, const char *m) {
  RESOLVE();
  stdio_check(p, m);
  return real_fopen(p, m);
}
EXPORT FILE *fopen64(const char *p, const char *m) {
  RESOLVE();
  stdio_check(p, m);
  return real_fopen64(p, m);
}

/* fcntl(F_DUPFD*) makes an alias of a tracked fd: follow it like dup (not counted). */
static void fcntl_dup(int fd, int cmd, int r) {
  if (LIKELY(!g_active) || t_guard || r < 0 || (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) || !fd_tracked(fd)) return;
  pthread_mutex_lock(&g_lock);
  if (fd_tracked(fd)) fd_track(r, FD_NODE(fd), g_fds[fd].sync);
  pthread_mutex_unlock(&g_lock);
}
#define FCNTL_WRAPPER(name)                    \
  EXPORT int name(int fd, int cmd, ...) {      \
    va_list ap;                                \
    va_start(ap, cmd);                         \
    void *arg = va_arg(ap, void *);            \
    va_end(ap);                                \
    RESOLVE();                                 \
    int r = real_##name(fd, cmd, arg);         \
    fcntl_dup(fd, cmd, r);                     \
    return r;                                  \
  }
FCNTL_WRAPPER(fcntl)
FCNTL_WRAPPER(fcntl64)

/* Closes that do not go through close(): forget the fds first. */
EXPORT int fclose(FILE *f) {
  RESOLVE();
  if (UNLIKELY(g_active) && f) {
    int fd = fileno(f);
    if (own_fd(fd)) { errno = EBADF; return EOF; }
    forget_fd(fd);
  }
  return real_fclose(f);
}
EXPORT int closedir(DIR *d) {
  RESOLVE();
  if (UNLIKELY(g_active)) forget_fd(dirfd(d));
  return real_closedir(d);
}
EXPORT int close_range(unsigned int lo, unsigned int hi, int flags) {
  RESOLVE();
  if (UNLIKELY(g_active) && !(flags & CLOSE_RANGE_CLOEXEC)) {
    /* never the shim's own fds: close around them */
    for (unsigned int fd = lo; fd <= hi && fd < (unsigned)g_nfds; fd++)
      if (own_fd((int)fd)) {
        int r1 = fd > lo ? close_range(lo, fd - 1, flags) : 0;
        int r2 = fd < hi ? close_range(fd + 1, hi, flags) : 0;
        return r1 < 0 ? r1 : r2;
      }
    for (unsigned int fd = lo; fd <= hi && (int)fd < g_fd_hi; fd++) forget_fd((int)fd);
  }
  return real_close_range(lo, hi, flags);
}
EXPORT void closefrom(int lo) {
  RESOLVE();
  if (UNLIKELY(g_active)) { close_range((unsigned)lo, ~0u, 0); return; }
  real_closefrom(lo);
}

/* sync() / syncfs(): everything becomes durable. Counted and traced as an fsync of the data
 * dir ("."); every open epoch is closed with a SYNC record, then one SYNCALL record. */
static int sync_all(int fd) {
  call_t c = {.op = FFS_OP_FSYNC, .cls = -1, .fd = -1, .off = -1, CALL_BUFS};
  pthread_mutex_lock(&g_lock);
  if (UNLIKELY(atomic_load(&g_crashed))) for (;;) pause();
  t_guard = 1;
  strcpy(c.rel, ".");
  c.rel2[0] = 0;
  c.node = -1;
  decide(&c);
  int r = 0;
  if (c.fail_errno) {
    r = -1;
    errno = c.fail_errno;
  } else {
    if (fd >= 0) r = real_syncfs(fd);
    else real_sync();
    if (r == 0) c.dur |= ffs__undo_synced_all(&g_u);
  }
  int e = errno;
  trace_rec(FFS_OP_FSYNC, c.index, c.dur, -1, 0, r < 0 ? -(int64_t)e : 0, ".", NULL);
  record_call(&c, r < 0 ? -(int64_t)e : 0, 0, 0);
  if (c.after == FFS_A_KILL_AFTER) die_now();
  if (c.after == FFS_A_CRASH_AFTER) power_cut();
  t_guard = 0;
  pthread_mutex_unlock(&g_lock);
  errno = e;
  return r;
}
EXPORT void sync(void) {
  RESOLVE();
  if (LIKELY(!g_active) || t_guard) { real_sync(); return; }
  sync_all(-1);
}
EXPORT int syncfs(int fd) {
  RESOLVE();
  if (LIKELY(!g_active) || t_guard) return real_syncfs(fd);
  return sync_all(fd);
}

/* In-kernel copies into a tracked file bypass the model: reported. */
EXPORT ssize_t copy_file_range(int in, off64_t *oin, int out, off64_t *oout, size_t n, unsigned int fl) {
  RESOLVE();
  if (g_active && !t_guard && fd_tracked(out)) warn_call(FFS_OP_SYSCALL, out, NULL, oout ? *oout : -1, n);
  return real_copy_file_range(in, oin, out, oout, n, fl);
}
EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n) {
  RESOLVE();
  if (g_active && !t_guard && fd_tracked(out)) warn_call(FFS_OP_SYSCALL, out, NULL, -1, n);
  return real_sendfile(out, in, off, n);
}
EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t n) {
  RESOLVE();
  if (g_active && !t_guard && fd_tracked(out)) warn_call(FFS_OP_SYSCALL, out, NULL, -1, n);
  return real_sendfile64(out, in, off, n);
}

/* ---- configuration ---------------------------------------------------------------------- */
/* Moves a shim fd out of the way of the program's own fd numbers. */
static int high_fd(int fd) {
  if (fd < 0) return fd;
  int h = fcntl(fd, F_DUPFD_CLOEXEC, 900);
  if (h < 0) return fd;
  real_close(fd);
  return h;
}

static void atfork_prepare(void) { pthread_mutex_lock(&g_lock); }
static void atfork_parent(void) { pthread_mutex_unlock(&g_lock); }
/* A forked child is idle until it calls ffs_shim_configure (the fork-server path): two
 * processes appending to one undo log and keeping two inode tables would corrupt both. */
static void atfork_child(void) {
  pthread_mutex_unlock(&g_lock); /* the forking thread, the child's only one, locked it in prepare */
  pthread_mutex_init(&g_rlock, NULL);
  g_active = 0;
}

static void reset_tracking(void) {
  ffs__undo_reset(&g_u);
  if (g_fds) memset(g_fds, 0, (size_t)g_fd_hi * sizeof *g_fds);
  g_fd_hi = 0;
  free(g_rule_count);
  g_rule_count = NULL;
  ffs_plan_free(g_plan);
  g_plan = NULL;
  g_index = 0;
  g_nmaps = g_msync_said = 0;
  atomic_fetch_add(&g_rgen, 1);
  g_nfired = 0;
  if (g_trace_fd >= 0) real_close(g_trace_fd);
  g_trace_fd = -1;
  if (g_rec_fd >= 0) real_close(g_rec_fd);
  g_rec_fd = -1;
}

EXPORT int ffs_shim_configure(const char *plan, const char *data_dir, uint64_t seed, const char *model,
                              const char *state_dir, const char *trace_path) {
  char err[512];
  int rc = 0;
  struct stat st;
  RESOLVE();
  int saved_guard = t_guard;
  t_guard = 1;
  pthread_mutex_lock(&g_lock);
  g_active = 0;
  reset_tracking();
  if (!plan) goto out; /* idle */
  rc = ffs_plan_parse(plan, &g_plan, err, sizeof err);
  if (rc < 0) { die_msg("faultfs: %s: %s", FFS_ENV_PLAN, err); goto out; }
  int m = ffs_model_from_name(model);
  if (m < 0) { die_msg("faultfs: %s: unknown model '%s' (strict, ext4, xfs, reorder, kernel-ext4, kernel-xfs, kernel-btrfs)", FFS_ENV_MODEL, model); rc = FFS_EINVAL; goto out; }
  g_model = (ffs_model)m;
  g_seed = seed;
  if (!data_dir || !realpath(data_dir, g_dir) || stat(g_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
    die_msg("faultfs: %s: data dir '%s' is not a directory", FFS_ENV_DIR, data_dir ? data_dir : "(unset)");
    rc = FFS_ENODIR;
    goto out;
  }
  g_dirlen = strlen(g_dir);
  if (!state_dir || !*state_dir || !realpath(state_dir, g_state)) {
    /* a missing state dir is created (and marked as faultfs's) just below */
    if (!state_dir || !*state_dir || (mkdir(state_dir, 0755) < 0 && errno != EEXIST) || !realpath(state_dir, g_state)) {
      die_msg("faultfs: %s: state dir '%s' is missing", FFS_ENV_STATE, state_dir ? state_dir : "(unset)");
      rc = FFS_ENODIR;
      goto out;
    }
  }
  if (strncmp(g_state, g_dir, g_dirlen) == 0 && (g_state[g_dirlen] == '/' || !g_state[g_dirlen])) {
    die_msg("faultfs: state dir %s must not be inside the data dir %s", g_state, g_dir);
    rc = FFS_EINVAL;
    goto out;
  }
  if ((rc = ffs_state_claim(g_state, err, sizeof err)) < 0) { die_msg("faultfs: %s: %s", FFS_ENV_STATE, err); goto out; }
  ffs_state_clear(g_state);
  g_rule_count = calloc(g_plan->nrules + 1, sizeof *g_rule_count);
  if (!g_rule_count) { rc = FFS_ENOMEM; goto out; }
  g_u.io = (ffs_undo_io){.pread = real_pread64, .openat = real_openat, .close = real_close, .link = real_link,
                         .read = real_read, .write = real_write, .ftruncate = real_ftruncate, .park_fd = high_fd};
  g_u.dir = g_dir;
  g_u.state = g_state;
  g_u.model = g_model;
  if ((rc = ffs__undo_open(&g_u, g_seed, err, sizeof err)) < 0) { die_msg("faultfs: %s", err); goto out; }
  ffs__site_anchor();
  if (trace_path && *trace_path) {
    g_trace_fd = high_fd(real_openat(AT_FDCWD, trace_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
    if (g_trace_fd < 0 || real_write(g_trace_fd, FFS_TRACE_MAGIC, 8) != 8) {
      die_msg("faultfs: trace %s: %s", trace_path, strerror(errno));
      rc = FFS_EIO;
      goto out;
    }
  }
  {
    /* the record file: the parent created it with its header; the shim only appends */
    const char *rp = getenv(FFS_ENV_RECORD);
    if (rp && *rp) {
      g_rec_fd = high_fd(real_openat(AT_FDCWD, rp, O_WRONLY | O_APPEND | O_CLOEXEC));
      if (g_rec_fd < 0) {
        die_msg("faultfs: %s %s: %s", FFS_ENV_RECORD, rp, strerror(errno));
        rc = FFS_EIO;
        goto out;
      }
    }
  }
  if (fd_table_init() < 0) { rc = FFS_ENOMEM; goto out; }
  atomic_store(&g_crashed, 0);
  g_active = 1;
out:
  if (rc < 0) reset_tracking();
  pthread_mutex_unlock(&g_lock);
  t_guard = saved_guard;
  return rc;
}

__attribute__((constructor)) static void ffs_init(void) {
  RESOLVE();
  fiu_init(0);
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  const char *plan = getenv(FFS_ENV_PLAN);
  if (!plan) return; /* idle */
  /* the parent's proof that this process image is watched: from here on it either runs
   * with the shim active or exits with the reason (a bad configuration is not "no shim") */
  announce(FFS_HS_LOADED);
  const char *seed = getenv(FFS_ENV_SEED);
  char *end = NULL;
  uint64_t s = 0;
  if (seed && *seed) {
    errno = 0;
    s = strtoull(seed, &end, 10);
    if (errno || *end) { die_msg("faultfs: %s: '%s' is not a number", FFS_ENV_SEED, seed); _exit(2); }
  }
  if (ffs_shim_configure(plan, getenv(FFS_ENV_DIR), s, getenv(FFS_ENV_MODEL), getenv(FFS_ENV_STATE),
                         getenv(FFS_ENV_TRACE)) < 0)
    _exit(2);
  /* children that change directory and exec inherit the resolved dirs, not a relative name */
  setenv(FFS_ENV_DIR, g_dir, 1);
  setenv(FFS_ENV_STATE, g_state, 1);
}
