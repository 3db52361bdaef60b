/* e2e_prog.c — small target programs run under libfaultfs.so by the end-to-end tests.
 * Usage: ffs_e2e_prog SCENARIO DATA_DIR [ARG]. Each scenario does a fixed sequence of
 * file-system calls on DATA_DIR and prints one line per call result that the test checks
 * ("write 4", "fsync -1 5", ...). Built without sanitizers (it runs under the shim). */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fiu-control.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faultfs.h"

static const char *D;

static char *P(const char *name) {
  static char buf[8][4096];
  static int k;
  char *b = buf[k++ % 8];
  snprintf(b, 4096, "%s/%s", D, name);
  return b;
}

static void say(const char *what, long r) {
  if (r < 0) printf("%s -1 %d\n", what, errno);
  else printf("%s %ld\n", what, r);
  fflush(stdout);
}

static int xopen(const char *name, int flags) {
  int fd = open(P(name), flags, 0644);
  if (fd < 0) { printf("open %s failed %d\n", name, errno); fflush(stdout); exit(3); }
  return fd;
}

static void dirsync(void) {
  int d = open(D, O_RDONLY | O_DIRECTORY);
  say("dirsync", fsync(d));
  close(d);
}

/* a.dat exists (durable); appends "XXXX"; no fsync; closes. */
static int sc_append(int do_sync) {
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  say("write", write(fd, "XXXX", 4));
  if (do_sync) say("fsync", fsync(fd));
  say("write", write(fd, "YYYY", 4));
  say("close", close(fd));
  return 0;
}

/* creates new.dat with "hello", fsyncs the file (not the dir), closes. */
static int sc_create_fsync(void) {
  int fd = xopen("new.dat", O_WRONLY | O_CREAT | O_EXCL);
  say("write", write(fd, "hello", 5));
  say("fsync", fsync(fd));
  say("close", close(fd));
  int m = xopen("marker", O_WRONLY | O_CREAT);
  close(m);
  return 0;
}

/* directory fsync through opendir() + dirfd(): an fd the shim never saw opened */
static void dirsync_dirfd(void) {
  DIR *d = opendir(D);
  say("dirsync", fsync(dirfd(d)));
  closedir(d);
}

/* write tmp, fsync it, rename over a.dat; dir fsync only if asked; then a marker call. */
static int sc_rename(int do_dirsync) {
  int fd = xopen("tmp.dat", O_WRONLY | O_CREAT | O_TRUNC);
  say("write", write(fd, "new!", 4));
  say("fsync", fsync(fd));
  close(fd);
  say("rename", rename(P("tmp.dat"), P("a.dat")));
  if (do_dirsync == 1) dirsync();
  if (do_dirsync == 2) dirsync_dirfd();
  int m = xopen("marker", O_WRONLY | O_CREAT);
  close(m);
  return 0;
}

/* append "LOST", fsync (fails under eio@fsync#1), append "KEPT", fsync (succeeds). */
static int sc_fsyncgate(void) {
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  say("write", write(fd, "LOST", 4));
  say("fsync", fsync(fd));
  say("write", write(fd, "KEPT", 4));
  say("fsync", fsync(fd));
  say("close", close(fd));
  return 0;
}

/* a.dat holds 4096 'A' (durable): overwrite it with 4096 'B' with pwrite. */
static int sc_overwrite(void) {
  char buf[4096];
  memset(buf, 'B', sizeof buf);
  int fd = xopen("a.dat", O_WRONLY);
  say("pwrite", pwrite(fd, buf, sizeof buf, 0));
  say("close", close(fd));
  return 0;
}

/* appends 8192 'C' to a.dat in one write. */
static int sc_bigappend(void) {
  char buf[8192];
  memset(buf, 'C', sizeof buf);
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  say("write", write(fd, buf, sizeof buf));
  say("close", close(fd));
  return 0;
}

/* Mixed workload, then (mode "hang") waits to be killed from outside, or (mode "close")
 * closes a marker file (the crash point of the in-shim variant). */
static int sc_mixed(const char *mode) {
  char buf[3000];
  memset(buf, 'm', sizeof buf);
  int fd = xopen("log", O_WRONLY | O_CREAT | O_APPEND);
  say("write", write(fd, buf, sizeof buf));
  say("fsync", fsync(fd));
  dirsync();
  say("write", write(fd, buf, 1000));
  int g = xopen("a.dat", O_RDWR);
  say("pwrite", pwrite(g, "ZZZZZZZZ", 8, 2));
  say("ftruncate", ftruncate(g, 3));
  close(g);
  int h = xopen("t1", O_WRONLY | O_CREAT);
  say("write", write(h, "t1data", 6));
  say("fsync", fsync(h));
  close(h);
  say("rename", rename(P("t1"), P("t2")));
  say("unlink", unlink(P("old.dat")));
  int o2 = xopen("old2.dat", O_WRONLY | O_APPEND);
  say("write", write(o2, "zz", 2));
  close(o2);
  say("rename", rename(P("old2.dat"), P("moved.dat")));
  say("mkdir", mkdir(P("sub"), 0755));
  int s = xopen("sub/f", O_WRONLY | O_CREAT);
  say("write", write(s, "sub", 3));
  close(s);
  if (!strcmp(mode, "hang")) {
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
  }
  int m = xopen("marker", O_WRONLY | O_CREAT);
  close(m);
  return 0;
}

/* write 100 bytes (short rule cuts it), a write that may fail (enospc), close. */
static int sc_errors(void) {
  char buf[100];
  memset(buf, 'e', sizeof buf);
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  say("write", write(fd, buf, sizeof buf));
  say("write", write(fd, buf, sizeof buf));
  say("close", close(fd));
  return 0;
}

/* read 8 bytes of a.dat and print them in hex. */
static int sc_read(void) {
  unsigned char b[8];
  int fd = xopen("a.dat", O_RDONLY);
  ssize_t r = read(fd, b, sizeof b);
  printf("read %zd", r);
  for (ssize_t i = 0; i < r; i++) printf(" %02x", b[i]);
  printf("\n");
  close(fd);
  return 0;
}

/* Writes into the data dir and into OUTSIDE (another dir), no fsync anywhere. */
static int sc_outside(const char *outside) {
  char p[4096];
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  say("write", write(fd, "XXXX", 4));
  close(fd);
  snprintf(p, sizeof p, "%s/out.txt", outside);
  int o = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  say("write-out", write(o, "outside", 7));
  close(o);
  snprintf(p, sizeof p, "%s/gone.txt", outside);
  say("unlink-out", unlink(p));
  snprintf(p, sizeof p, "%s/in.txt", outside);
  say("rename-in", rename(p, P("in.txt")));
  int m = xopen("marker", O_WRONLY | O_CREAT);
  close(m);
  return 0;
}

/* Threads: each appends RECS records of 64 bytes to its own file, fsync every BATCH. */
#define THREADS 4
#define RECS 200
#define BATCH 5
static void *writer(void *arg) {
  long t = (long)arg;
  char name[32], rec[64];
  snprintf(name, sizeof name, "t%ld.dat", t);
  int fd = xopen(name, O_WRONLY | O_CREAT | O_APPEND);
  for (int i = 0; i < RECS; i++) {
    memset(rec, 'a' + (int)t, sizeof rec);
    snprintf(rec, sizeof rec, "%ld:%d:", t, i);
    rec[strlen(rec)] = 'a' + (int)t;
    if (write(fd, rec, sizeof rec) != sizeof rec) exit(4);
    if ((i + 1) % BATCH == 0 && fsync(fd) != 0) exit(5);
  }
  close(fd);
  return NULL;
}
static int sc_threads(void) {
  pthread_t th[THREADS];
  for (long t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, writer, (void *)t);
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  return 0;
}

/* libfiu drives the shim's failure point: faultfs/write fails with ENOSPC. */
static int sc_fiu(void) {
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  if (fiu_enable("faultfs/write", 1, (void *)(intptr_t)ENOSPC, FIU_ONETIME) != 0) { printf("fiu_enable failed\n"); return 6; }
  say("write", write(fd, "XXXX", 4));
  say("write", write(fd, "YYYY", 4));
  close(fd);
  return 0;
}

/* Fork-server: loaded idle; a forked child configures the shim, appends without fsync
 * and closes (crash@close fires). ARG = state dir. Prints the child's exit signal. */
static int sc_forkserver(const char *state) {
  ffs_shim_configure_fn cfg = (ffs_shim_configure_fn)dlsym(RTLD_DEFAULT, FFS_SHIM_CONFIGURE_SYM);
  if (!cfg) { printf("no shim\n"); return 7; }
  for (int round = 0; round < 2; round++) {
    pid_t pid = fork();
    if (pid == 0) {
      if (cfg("crash@close", D, 1, "strict", state, NULL) != 0) _exit(8);
      int fd = xopen("a.dat", O_WRONLY | O_APPEND);
      if (write(fd, "XXXX", 4) != 4) _exit(9);
      close(fd);
      _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -WEXITSTATUS(st));
  }
  /* and the parent itself is still idle: its writes pass through untracked */
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  say("write", write(fd, "PPPP", 4));
  close(fd);
  return 0;
}

/* Writes through a shared writable mapping of a.dat (reported as a warning). */
static int sc_mmap(const char *arg) {
  int fd = xopen("a.dat", O_RDWR);
  char *m = mmap(NULL, 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return 10;
  m[0] = 'M';
  if (arg[0]) say("msync", msync(m, 4, MS_SYNC));
  munmap(m, 4);
  close(fd);
  return 0;
}

/* one O_DSYNC append ("SYNC") and one plain append ("nosy") to a.dat, then close both. */
static int sc_dsync(void) {
  int s = xopen("a.dat", O_WRONLY | O_APPEND | O_DSYNC);
  say("write", write(s, "SYNC", 4));
  int p = xopen("a.dat", O_WRONLY | O_APPEND);
  say("write", write(p, "nosy", 4));
  close(p);
  close(s);
  return 0;
}

/* pwritev2 with RWF_DSYNC (arg "dsync") or RWF_SYNC appends "SYNC", then a plain append */
static int sc_rwf_sync(const char *arg) {
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  struct iovec iov = {.iov_base = "SYNC", .iov_len = 4};
  say("write", pwritev2(fd, &iov, 1, -1, strcmp(arg, "dsync") == 0 ? RWF_DSYNC : RWF_SYNC));
  say("write", write(fd, "nosy", 4));
  say("close", close(fd));
  return 0;
}

/* writes through names in the data dir that lead elsewhere: sub/ (a symlink to a dir
 * outside), link (a symlink to a file outside), hard (a second link of a file outside);
 * then appends to a.dat so a crash at its close rolls the data dir back */
static int sc_escape(void) {
  int fd = xopen("sub/new", O_WRONLY | O_CREAT | O_EXCL);
  say("write", write(fd, "n\n", 2));
  say("close", close(fd));
  fd = xopen("sub/existing", O_WRONLY | O_APPEND);
  say("write", write(fd, "a\n", 2));
  say("close", close(fd));
  fd = xopen("link", O_WRONLY | O_APPEND);
  say("write", write(fd, "L", 1));
  say("close", close(fd));
  fd = xopen("hard", O_WRONLY | O_APPEND);
  say("write", write(fd, "H", 1));
  say("close", close(fd));
  say("truncate", truncate(P("sub/trunc"), 1));
  say("mkdir", mkdir(P("sub/newdir"), 0755));
  fd = xopen("a.dat", O_WRONLY | O_APPEND);
  say("write", write(fd, "XXXX", 4));
  say("close", close(fd));
  return 0;
}

/* creates sub/new (sub is a durable subdir) and appends to the durable sub/old, no fsync */
static int sc_subcreate(void) {
  int fd = xopen("sub/new", O_WRONLY | O_CREAT | O_EXCL);
  say("write", write(fd, "new", 3));
  say("close", close(fd));
  fd = xopen("sub/old", O_WRONLY | O_APPEND);
  say("write", write(fd, "more", 4));
  say("close", close(fd));
  return 0;
}

/* an fcntl(F_DUPFD) alias of a tracked fd, written after the original is closed */
static int sc_fcntl_dup(void) {
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  int fd2 = fcntl(fd, F_DUPFD, 50);
  say("close", close(fd));
  say("write", write(fd2, "XXXX", 4));
  say("close", close(fd2));
  return 0;
}

/* a.dat ("base", durable) opened O_APPEND; F_SETFL clears O_APPEND; the
 * descriptor seeks to 0 and overwrites "base" with "OVER" (no fsync) */
static int sc_setfl_overwrite(void) {
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  int fl = fcntl(fd, F_GETFL);
  say("setfl", fcntl(fd, F_SETFL, fl & ~O_APPEND));
  say("seek", (int)lseek(fd, 0, SEEK_SET));
  say("write", write(fd, "OVER", 4));
  say("close", close(fd));
  return 0;
}

/* a synced file in a synced subdir; the subdir is renamed (no fsync of the data dir), then
 * the file is appended to through its new path */
static int sc_dir_rename(void) {
  say("mkdir", mkdir(P("tmpdir"), 0755));
  dirsync();
  int fd = xopen("tmpdir/f", O_WRONLY | O_CREAT);
  say("write", write(fd, "v1", 2));
  say("fsync", fsync(fd));
  close(fd);
  int d = open(P("tmpdir"), O_RDONLY | O_DIRECTORY);
  say("subdirsync", fsync(d));
  close(d);
  say("rename", rename(P("tmpdir"), P("final")));
  fd = xopen("final/f", O_WRONLY | O_APPEND);
  say("write", write(fd, "more", 4));
  say("close", close(fd));
  return 0;
}

/* create tmp, write, rename to final, then fsync the (same) fd: no directory fsync */
/* rename the durable a.dat, then create, write and fsync another file */
static int sc_rename_then_fsync_other(void) {
  say("rename", rename(P("a.dat"), P("moved.dat")));
  int fd = xopen("new.dat", O_WRONLY | O_CREAT | O_EXCL);
  say("write", write(fd, "hello", 5));
  say("fsync", fsync(fd));
  close(fd);
  int m = xopen("marker", O_WRONLY | O_CREAT);
  close(m);
  return 0;
}

/* replace-via-rename: tmp gets "NEWDATA" (no fsync) and is renamed over the durable
 * a.dat; the data dir is fsynced (the rename is durable), then a marker is created */
static int sc_rename_over_unsynced(void) {
  int fd = xopen("tmp", O_WRONLY | O_CREAT | O_EXCL);
  say("write", write(fd, "NEWDATA", 7));
  close(fd);
  say("rename", rename(P("tmp"), P("a.dat")));
  dirsync();
  int m = xopen("marker", O_WRONLY | O_CREAT);
  close(m);
  return 0;
}

/* the durable a.dat ("base") is overwritten in place and synced twice over: pwrite "B1",
 * fdatasync, pwrite "C2" (unsynced), then a marker: the second overwrite, of bytes the
 * epoch before saved already, must be undone at a crash like the first */
static int sc_overwrite_again_after_sync(void) {
  int fd = xopen("a.dat", O_WRONLY);
  say("pwrite", pwrite(fd, "B1", 2, 0));
  say("fdatasync", fdatasync(fd));
  say("pwrite", pwrite(fd, "C2", 2, 0));
  close(fd);
  int m = xopen("marker", O_WRONLY | O_CREAT);
  close(m);
  return 0;
}

/* create x (never synced), then overwrite the durable a.dat in place and fdatasync it */
static int sc_create_then_overwrite_fdatasync(void) {
  int x = xopen("x", O_WRONLY | O_CREAT | O_EXCL);
  close(x);
  int fd = xopen("a.dat", O_WRONLY);
  say("pwrite", pwrite(fd, "B", 1, 0));
  say("fdatasync", fdatasync(fd));
  close(fd);
  int m = xopen("marker", O_WRONLY | O_CREAT);
  close(m);
  return 0;
}

static int sc_create_rename_fsync(void) {
  int fd = xopen("tmp", O_WRONLY | O_CREAT | O_EXCL);
  say("write", write(fd, "data", 4));
  say("rename", rename(P("tmp"), P("final")));
  say("fsync", fsync(fd));
  close(fd);
  int m = xopen("marker", O_WRONLY | O_CREAT);
  close(m);
  return 0;
}

/* overwrite the 3 MiB durable a.dat with 'B' in 64 KiB pwrites (the undo log must grow) */
static int sc_big_overwrite(void) {
  static char buf[65536];
  memset(buf, 'B', sizeof buf);
  int fd = xopen("a.dat", O_WRONLY);
  for (int i = 0; i < 48; i++)
    if (pwrite(fd, buf, sizeof buf, (off_t)i * (off_t)sizeof buf) != (ssize_t)sizeof buf) return 11;
  say("close", close(fd));
  return 0;
}

/* open a.dat with O_TRUNC and write "new" */
static int sc_truncopen(void) {
  int fd = xopen("a.dat", O_WRONLY | O_TRUNC);
  say("write", write(fd, "new", 3));
  say("close", close(fd));
  return 0;
}

/* one writev of "aaa" "bbb" "ccc" appended to a.dat */
static int sc_writev(void) {
  struct iovec iov[3] = {{"aaa", 3}, {"bbb", 3}, {"ccc", 3}};
  int fd = xopen("a.dat", O_WRONLY | O_APPEND);
  say("writev", writev(fd, iov, 3));
  say("close", close(fd));
  return 0;
}

/* *at calls relative to a tracked directory fd */
static int sc_at_calls(void) {
  int dfd = open(D, O_RDONLY | O_DIRECTORY);
  int fd = openat(dfd, "x", O_WRONLY | O_CREAT, 0644);
  say("write", write(fd, "xx", 2));
  say("fsync", fsync(fd));
  close(fd);
  say("dirsync", fsync(dfd));
  say("renameat", renameat(dfd, "x", dfd, "y"));
  say("unlinkat", unlinkat(dfd, "a.dat", 0));
  say("mkdirat", mkdirat(dfd, "sub", 0755));
  say("close", close(dfd));
  return 0;
}

/* a tracked fd closed by fclose(); the same fd number reused by socketpair() (an fd
 * creator the shim does not wrap) and written to */
static int sc_fclose_reuse(void) {
  int fd = xopen("a.dat", O_RDONLY);
  FILE *f = fdopen(fd, "r");
  fclose(f);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 12;
  printf("same fd %d\n", sv[0] == fd);
  say("write-sock", write(sv[0], "sock", 4));
  close(sv[0]);
  close(sv[1]);
  return 0;
}

/* a create, a write and a rename, then sync() (or syncfs()), then one more write */
static int sc_syncall(int use_syncfs) {
  int fd = xopen("s.dat", O_WRONLY | O_CREAT);
  say("write", write(fd, "sync", 4));
  say("rename", rename(P("a.dat"), P("b.dat")));
  if (use_syncfs) say("syncfs", syncfs(fd));
  else { sync(); say("sync", 0); }
  say("write", write(fd, "more", 4));
  say("close", close(fd));
  return 0;
}

/* crash sites: one write made from two functions; site_a's is made twice from one place
 * (a loop the compiler cannot unroll) */
static volatile int sites_twice = 2;
__attribute__((noinline)) static void site_a(int fd) {
  for (int i = 0; i < sites_twice; i++) say("write", write(fd, "a", 1));
}
__attribute__((noinline)) static void site_b(int fd) { say("write", write(fd, "b", 1)); }
static int sc_sites(void) {
  int fd = xopen("s.dat", O_WRONLY | O_CREAT | O_TRUNC);
  site_a(fd);
  site_b(fd);
  say("close", close(fd));
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  D = argv[2];
  const char *arg = argc > 3 ? argv[3] : "";
  const char *s = argv[1];
  printf("started\n");
  fflush(stdout);
  if (!strcmp(s, "append")) return sc_append(0);
  if (!strcmp(s, "sites")) return sc_sites();
  if (!strcmp(s, "append-sync")) return sc_append(1);
  if (!strcmp(s, "create-fsync")) return sc_create_fsync();
  if (!strcmp(s, "rename")) return sc_rename(0);
  if (!strcmp(s, "rename-dirsync")) return sc_rename(1);
  if (!strcmp(s, "rename-dirfd")) return sc_rename(2);
  if (!strcmp(s, "fsyncgate")) return sc_fsyncgate();
  if (!strcmp(s, "overwrite")) return sc_overwrite();
  if (!strcmp(s, "bigappend")) return sc_bigappend();
  if (!strcmp(s, "mixed")) return sc_mixed(arg);
  if (!strcmp(s, "errors")) return sc_errors();
  if (!strcmp(s, "read")) return sc_read();
  if (!strcmp(s, "outside")) return sc_outside(arg);
  if (!strcmp(s, "threads")) return sc_threads();
  if (!strcmp(s, "fiu")) return sc_fiu();
  if (!strcmp(s, "forkserver")) return sc_forkserver(arg);
  if (!strcmp(s, "mmap")) return sc_mmap(arg);
  if (!strcmp(s, "dsync")) return sc_dsync();
  if (!strcmp(s, "fcntl-dup")) return sc_fcntl_dup();
  if (!strcmp(s, "setfl-overwrite")) return sc_setfl_overwrite();
  if (!strcmp(s, "rename-over-unsynced")) return sc_rename_over_unsynced();
  if (!strcmp(s, "overwrite-again-after-sync")) return sc_overwrite_again_after_sync();
  if (!strcmp(s, "dir-rename")) return sc_dir_rename();
  if (!strcmp(s, "create-rename-fsync")) return sc_create_rename_fsync();
  if (!strcmp(s, "rename-then-fsync-other")) return sc_rename_then_fsync_other();
  if (!strcmp(s, "create-then-overwrite-fdatasync")) return sc_create_then_overwrite_fdatasync();
  if (!strcmp(s, "big-overwrite")) return sc_big_overwrite();
  if (!strcmp(s, "truncopen")) return sc_truncopen();
  if (!strcmp(s, "writev")) return sc_writev();
  if (!strcmp(s, "at-calls")) return sc_at_calls();
  if (!strcmp(s, "fclose-reuse")) return sc_fclose_reuse();
  if (!strcmp(s, "sync")) return sc_syncall(0);
  if (!strcmp(s, "syncfs")) return sc_syncall(1);
  if (!strcmp(s, "rwf-sync")) return sc_rwf_sync(arg);
  if (!strcmp(s, "escape")) return sc_escape();
  if (!strcmp(s, "subcreate")) return sc_subcreate();
  return 2;
}
