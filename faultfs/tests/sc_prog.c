/* sc_prog.c — a program for the seccomp backend's tests, built twice: static (LD_PRELOAD
 * cannot see it) and dynamic (same source). Modes:
 *   write PATH     open PATH (create), 4 writes of 6 bytes, fsync, close; one line each
 *   reldir DIR F   chdir(DIR), then as write on the relative name F
 *   uring          io_uring_setup(1, ...) through syscall(2); prints its errno
 *   bench PATH N   N pwrites of 100 bytes at offset 0 of PATH; prints writes/s
 *   read PATH      reads up to 63 bytes of PATH and prints them */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int do_write(const char *p) {
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { printf("open: %s\n", strerror(errno)); return 1; }
  for (int i = 0; i < 4; i++) {
    if (write(fd, "hello\n", 6) < 0) printf("write %d: %s\n", i, strerror(errno));
    else printf("write %d ok\n", i);
  }
  if (fsync(fd) < 0) printf("fsync: %s\n", strerror(errno));
  else printf("fsync ok\n");
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc == 3 && !strcmp(argv[1], "write")) return do_write(argv[2]);
  if (argc == 3 && !strcmp(argv[1], "read")) {
    char buf[64] = {0};
    int fd = open(argv[2], O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (n < 0) { printf("read: %s\n", strerror(errno)); return 1; }
    printf("read %zd: %s\n", n, buf);
    return 0;
  }
  if (argc == 4 && !strcmp(argv[1], "reldir")) {
    if (chdir(argv[2]) < 0) { printf("chdir: %s\n", strerror(errno)); return 1; }
    return do_write(argv[3]);
  }
  if (argc == 2 && !strcmp(argv[1], "uring")) {
    unsigned char params[120] = {0};
    long r = syscall(SYS_io_uring_setup, 1, params);
    printf("io_uring_setup: %s\n", r < 0 ? strerror(errno) : "ok");
    return 0;
  }
  if (argc == 4 && !strcmp(argv[1], "bench")) {
    char buf[100] = {0};
    long n = atol(argv[3]);
    int fd = open(argv[2], O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || n <= 0) { printf("bench: %s\n", strerror(errno)); return 1; }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
      if (pwrite(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf) { printf("bench: %s\n", strerror(errno)); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%.0f writes/s (%.0f ns/write)\n", (double)n / s, s * 1e9 / (double)n);
    close(fd);
    return 0;
  }
  fprintf(stderr, "usage: sc_prog write PATH | reldir DIR F | uring | bench PATH N\n");
  return 2;
}
