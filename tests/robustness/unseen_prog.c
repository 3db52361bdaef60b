/* unseen_prog.c - programs that act behind the faultfs shim's back, for shim_unseen.sh.
 * Built twice: dynamic (pc_unseen_prog) and `gcc -static` (pc_unseen_static), where
 * LD_PRELOAD is ignored and the shim never loads.
 *   unseen_prog write DIR    writes DIR/plain.dat with plain libc calls
 *   unseen_prog inline DIR   writes DIR/tracked.dat with libc calls, then DIR/raw.dat with
 *                            inline `syscall` instructions (openat, write, close)
 *   unseen_prog uring DIR    io_uring_setup through libc's syscall(); prints
 *                            "io_uring_setup RESULT ERRNO", then writes DIR/plain.dat
 *   unseen_prog kv [raw|uring]  speaks the exec protocol (docs/targets.md) on stdin/stdout:
 *                            appends every write to DIR/kv.log (fsync'd when the request
 *                            says so), never reads anything back (get: notfound, scan:
 *                            empty), so it only suits contract=none; `raw`: DIR/raw.log
 *                            with inline syscalls; `uring`: tries io_uring_setup at open. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
static long raw3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
static long raw4(long n, long a, long b, long c, long d) {
  long r;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}
#define HAVE_RAW 1
#elif defined(__aarch64__)
static long raw4(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c,
                x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
static long raw3(long n, long a, long b, long c) { return raw4(n, a, b, c, 0); }
#define HAVE_RAW 1
#endif

static char dir[4096];
static int raw_mode, uring_mode;

static long try_uring(void) {
  char params[120] = {0}; /* struct io_uring_params */
  long r = syscall(SYS_io_uring_setup, 4, params);
  if (r >= 0) close((int)r);
  return r;
}

static int put_file(const char *name, const char *text) {
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, text, strlen(text)) < 0 || fsync(fd) < 0) return -1;
  return close(fd);
}

#ifdef HAVE_RAW
static int raw_append(const char *name, const char *text, size_t n) {
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  long fd = raw4(SYS_openat, AT_FDCWD, (long)p, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return -1;
  long w = raw3(SYS_write, fd, (long)text, (long)n);
  raw3(SYS_close, fd, 0, 0);
  return w == (long)n ? 0 : -1;
}
#endif

static int kv_append(const char *line, int sync) {
#ifdef HAVE_RAW
  if (raw_mode) return raw_append("raw.log", line, strlen(line));
#endif
  char p[4200];
  snprintf(p, sizeof p, "%s/kv.log", dir);
  int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0 || write(fd, line, strlen(line)) < 0 || (sync && fsync(fd) < 0)) return -1;
  return close(fd);
}

/* The exec protocol, just enough: the map lives in kv.log replayed at open. */
static int kv(void) {
  static char line[1 << 16];
  while (fgets(line, sizeof line, stdin)) {
    const char *reply = "ok";
    if (!strncmp(line, "open ", 5)) {
      snprintf(dir, sizeof dir, "%.4000s", line + 5);
      dir[strcspn(dir, "\n")] = 0;
      if (uring_mode) try_uring();
    } else if (!strncmp(line, "put ", 4) || !strncmp(line, "del ", 4)) {
      int sync = strlen(line) >= 2 && line[strlen(line) - 2] == '1';
      if (kv_append(line, sync) < 0) reply = "err write failed";
    } else if (!strncmp(line, "batch ", 6)) {
      int n = atoi(line + 6);
      for (int i = 0; i < n && fgets(line, sizeof line, stdin); i++)
        if (kv_append(line, 0) < 0) reply = "err write failed";
    } else if (!strncmp(line, "get ", 4)) {
      reply = "notfound";
    } else if (!strncmp(line, "scan", 4)) {
      reply = "end";
    }
    printf("%s\n", reply);
    fflush(stdout);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "kv")) {
    raw_mode = argc >= 3 && !strcmp(argv[2], "raw");
    uring_mode = argc >= 3 && !strcmp(argv[2], "uring");
    return kv();
  }
  if (argc != 3) {
    fprintf(stderr, "usage: unseen_prog write|inline|uring DIR | kv [raw]\n");
    return 2;
  }
  snprintf(dir, sizeof dir, "%s", argv[2]);
  if (!strcmp(argv[1], "write")) return put_file("plain.dat", "plain\n") ? 1 : 0;
  if (!strcmp(argv[1], "inline")) {
#ifdef HAVE_RAW
    if (put_file("tracked.dat", "tracked\n")) return 1;
    return raw_append("raw.dat", "raw\n", 4) ? 1 : 0;
#else
    return 77;
#endif
  }
  if (!strcmp(argv[1], "uring")) {
    long r = try_uring();
    printf("io_uring_setup %d %d\n", r < 0 ? -1 : 0, r < 0 ? errno : 0);
    fflush(stdout);
    return put_file("plain.dat", "plain\n") ? 1 : 0;
  }
  fprintf(stderr, "unseen_prog: unknown scenario '%s'\n", argv[1]);
  return 2;
}
