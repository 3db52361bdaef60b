/* seccomp_launch.c — starts a program under the seccomp backend: fork; in the child,
 * become a process-group leader (a kill takes the whole tree), PR_SET_NO_NEW_PRIVS (no
 * root needed), install a filter that returns SECCOMP_RET_USER_NOTIF for the file system
 * calls faultfs models, send the listener fd to the parent over a socketpair, exec.
 * Invariant: the filter is in place before the program's first instruction, and every
 * thread and child inherits it. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "ffs_sc.h"

/* Notified calls. Reads are always among them: the call index counts every tracked call,
 * reads included (as under preload), so a case with a trace and one without number their
 * calls alike. */
static const int sc_calls[] = {
    SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(creat),
    SCMP_SYS(write), SCMP_SYS(pwrite64), SCMP_SYS(writev), SCMP_SYS(pwritev), SCMP_SYS(pwritev2),
    SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(sync_file_range), SCMP_SYS(syncfs), SCMP_SYS(sync),
    SCMP_SYS(truncate), SCMP_SYS(ftruncate), SCMP_SYS(fallocate),
    SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
    SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(link), SCMP_SYS(linkat),
    SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir), SCMP_SYS(close),
    SCMP_SYS(copy_file_range), SCMP_SYS(io_uring_setup),
};
static const int sc_reads[] = {SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv), SCMP_SYS(preadv),
                                SCMP_SYS(preadv2)};

static int send_fd(int sock, int fd) {
  char dummy = 'L';
  struct iovec iov = {&dummy, 1};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  memset(&u, 0, sizeof u);
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock) {
  char dummy;
  struct iovec iov = {&dummy, 1};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  ssize_t r;
  while ((r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  if (r != 1) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

/* In the child: a message on stderr, then exit 127 (the parent sees no listener). */
static _Noreturn void child_fail(const char *what, int err) {
  fprintf(stderr, "faultfs: seccomp launcher: %s: %s\n", what, strerror(err));
  _exit(127);
}

/* In the child, before exec: filter, listener to the parent over sock, wait for its go.
 * Returns 0, or -errno with what failed in *what. */
static int sc_child(int sock, const char **what) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { *what = "PR_SET_NO_NEW_PRIVS"; return -errno; }
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) { *what = "seccomp_init"; return -ENOMEM; }
  int rc = 0;
  for (size_t i = 0; i < sizeof sc_calls / sizeof *sc_calls && rc == 0; i++)
    rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, sc_calls[i], 0);
  for (size_t i = 0; i < sizeof sc_reads / sizeof *sc_reads && rc == 0; i++)
    rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, sc_reads[i], 0);
  /* writable shared mappings: reported (writes through them are not system calls) */
  if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mmap), 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE, PROT_WRITE),
                          SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_SHARED, MAP_SHARED));
  if (rc < 0) { *what = "seccomp_rule_add"; seccomp_release(ctx); return rc; }
  rc = seccomp_load(ctx);
  if (rc < 0) { *what = "seccomp_load (kernel without seccomp user notification?)"; seccomp_release(ctx); return rc; }
  int fd = seccomp_notify_fd(ctx);
  seccomp_release(ctx);
  if (fd < 0) { *what = "seccomp_notify_fd"; return fd; }
  /* from here on, only calls outside the filter until the parent holds the listener */
  if (send_fd(sock, fd) < 0) { *what = "send listener"; return -errno; }
  close(fd);
  char ack;
  if (read(sock, &ack, 1) != 1) { *what = "wait for the supervisor"; return -EPIPE; }
  return 0;
}

int ffs_sc_child_setup(int sock) {
  const char *what = "";
  int rc = sc_child(sock, &what);
  if (rc < 0) fprintf(stderr, "faultfs: seccomp launcher: %s: %s\n", what, strerror(-rc));
  return rc < 0 ? FFS_EIO : 0;
}

/* In the parent: the listener from sock, or -1. */
static int sc_parent_listener(int sock) { return recv_fd(sock); }

static void sc_parent_go(int sock) {
  char ack = 'G';
  ssize_t w = write(sock, &ack, 1);
  (void)w;
}

int ffs__sc_launch(char *const argv[], pid_t *pid, int *listener, char *err, size_t errlen) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    snprintf(err, errlen, "socketpair: %s", strerror(errno));
    return FFS_EIO;
  }
  pid_t p = fork();
  if (p < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    close(sv[0]);
    close(sv[1]);
    return FFS_EIO;
  }
  if (p == 0) {
    const char *what = "";
    close(sv[0]);
    setpgid(0, 0);
    int rc = sc_child(sv[1], &what);
    if (rc < 0) child_fail(what, -rc);
    close(sv[1]);
    execvp(argv[0], argv);
    child_fail(argv[0], errno);
  }
  close(sv[1]);
  int fd = sc_parent_listener(sv[0]);
  if (fd < 0) {
    close(sv[0]);
    int st;
    waitpid(p, &st, 0);
    snprintf(err, errlen, "the launcher could not install the seccomp filter (see its message above)");
    return FFS_EIO;
  }
  sc_parent_go(sv[0]);
  close(sv[0]);
  *pid = p;
  *listener = fd;
  return 0;
}

int ffs_sc_parent_start(int sock, int target, const char *plan, const char *data_dir, uint64_t seed,
                        const char *state_dir, const char *trace_path, char *err, size_t errlen) {
  ffs_plan *p = NULL;
  char rdir[PATH_MAX], rstate[PATH_MAX];
  if (ffs_plan_parse(plan, &p, err, errlen) < 0) return FFS_EPLAN;
  if (!realpath(data_dir, rdir) || !realpath(state_dir, rstate)) {
    snprintf(err, errlen, "seccomp: data dir %s or state dir %s: %s", data_dir, state_dir, strerror(errno));
    ffs_plan_free(p);
    return FFS_ENODIR;
  }
  int lfd = sc_parent_listener(sock);
  if (lfd < 0) {
    snprintf(err, errlen, "seccomp: the program's launcher sent no listener (see its message above)");
    ffs_plan_free(p);
    return FFS_EIO;
  }
  pid_t sup = fork();
  if (sup < 0) {
    snprintf(err, errlen, "seccomp: fork for the supervisor: %s", strerror(errno));
    close(lfd);
    ffs_plan_free(p);
    return FFS_EIO;
  }
  if (sup == 0) { /* the supervisor: lives as long as a task is under the filter */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* hold none of the driver's fds: a copy of the program's stdin pipe would keep its
     * end-of-input from arriving */
    int lo = lfd < sock ? lfd : sock, hi = lfd < sock ? sock : lfd;
    if (lo > 3) syscall(SYS_close_range, 3u, (unsigned)lo - 1, 0u);
    if (hi > lo + 1) syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0u);
    syscall(SYS_close_range, (unsigned)hi + 1, ~0u, 0u);
    int tfd = -1;
    if (trace_path && *trace_path) {
      tfd = open(trace_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
      if (tfd < 0 || write(tfd, FFS_TRACE_MAGIC, 8) != 8) {
        fprintf(stderr, "faultfs: seccomp supervisor: trace %s: %s\n", trace_path, strerror(errno));
        kill(-target, SIGKILL);
        _exit(2);
      }
    }
    const char *model = getenv(FFS_ENV_MODEL); /* the driver's: the case's model */
    int m = model && *model ? ffs_model_from_name(model) : FFS_MODEL_STRICT;
    ffs_sc_config cfg = {.plan = p, .data_dir = rdir, .state_dir = rstate, .seed = seed,
                         .model = m < 0 ? FFS_MODEL_STRICT : (ffs_model)m, .trace_fd = tfd};
    char e2[512];
    ffs_state_clear(rstate);
    const char *hs = getenv(FFS_ENV_HANDSHAKE);
    if (hs && *hs) { /* announce the watcher (appended, never created: the parent armed it) */
      int hfd = open(hs, O_WRONLY | O_APPEND | O_CLOEXEC);
      if (hfd >= 0) {
        dprintf(hfd, "loaded %d %s\n", (int)target, FFS_HANDSHAKE_SECCOMP);
        close(hfd);
      }
    }
    sc_parent_go(sock);
    int rc = ffs__sc_supervise(&cfg, target, lfd, e2, sizeof e2);
    if (rc < 0) fprintf(stderr, "faultfs: seccomp supervisor: %s\n", e2);
    _exit(rc < 0 ? 2 : 0);
  }
  close(lfd);
  ffs_plan_free(p);
  return (int)sup;
}

int ffs_sc_wants(const char *prog, char *err, size_t errlen) { return ffs__elf_wants_seccomp(prog, err, errlen); }

int ffs__sc_available(char *err, size_t errlen) {
  unsigned api = (unsigned)seccomp_api_get();
  if (api < 6) {
    snprintf(err, errlen,
             "this kernel/libseccomp offers seccomp API level %u; the seccomp backend needs level 6 "
             "(user notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE, Linux 5.5+)",
             api);
    return 0;
  }
  return 1;
}

/* PATH search as execvp does it. */
static int find_prog(const char *prog, char *out, size_t len) {
  if (strchr(prog, '/')) { snprintf(out, len, "%s", prog); return access(out, X_OK) == 0 ? 0 : -1; }
  const char *path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    const char *e = strchr(path, ':');
    size_t n = e ? (size_t)(e - path) : strlen(path);
    snprintf(out, len, "%.*s/%s", (int)n, n ? path : ".", prog);
    if (access(out, X_OK) == 0) return 0;
    path += n + (e ? 1 : 0);
  }
  return -1;
}

int ffs__elf_wants_seccomp(const char *prog, char *err, size_t errlen) {
  char path[PATH_MAX];
  Elf64_Ehdr eh;
  if (find_prog(prog, path, sizeof path) < 0) { snprintf(err, errlen, "%s: not found or not executable", prog); return FFS_EINVAL; }
  int fd = open(path, O_RDONLY | O_CLOEXEC), rc = FFS_EINVAL;
  if (fd < 0) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return FFS_EIO; }
  if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr)) {
    snprintf(err, errlen, "%s: not a 64-bit ELF program (a script? name its interpreter, or pass --backend)", path);
    goto out;
  }
  int interp = 0, go = 0;
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph) break;
    if (ph.p_type == PT_INTERP) interp = 1;
    if (ph.p_type != PT_NOTE || ph.p_filesz > (1u << 16)) continue;
    unsigned char buf[1 << 16];
    if (pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz) continue;
    for (size_t o = 0; o + sizeof(Elf64_Nhdr) <= ph.p_filesz;) {
      Elf64_Nhdr nh;
      memcpy(&nh, buf + o, sizeof nh);
      size_t name = o + sizeof nh, desc = name + ((nh.n_namesz + 3) & ~3u);
      if (nh.n_namesz == 3 && name + 3 <= ph.p_filesz && memcmp(buf + name, "Go", 3) == 0) go = 1;
      o = desc + ((nh.n_descsz + 3) & ~3u);
    }
  }
  rc = !interp || go;
out:
  close(fd);
  return rc;
}
