/*
 * bench.c - `powercut bench-recovery`: how long a target takes to come back
 * after a crash with N bytes of unflushed data in its log, and how that grows.
 *
 * Per size: a child fills the target (16-byte keys, 100-byte values, one put
 * per write, no flush: for sofadb the memtable is sized above the data), syncs
 * and dies without closing (a crash after the last durable write). The dir is
 * then copied afresh for each run and a fresh child times open(). Medians of
 * several runs, with min-max, so a shared machine's noise shows.
 */
#include "harness_int.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t dir_bytes(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  uint64_t n = 0;
  if (!d) return 0;
  while ((e = readdir(d))) {
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (!stat(p, &st) && S_ISREG(st.st_mode)) n += (uint64_t)st.st_size;
  }
  closedir(d);
  return n;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int fill(const pc_target *t, const char *dir, const char *opts, uint64_t bytes, char *err, size_t len) {
  pid_t pid = fork();
  int st;
  if (pid == 0) {
    void *h;
    char k[17], v[100];
    uint64_t i = 0, s = 0x12345;
    if (t->open(dir, opts, "", &h, err, len)) { fprintf(stderr, "open: %s\n", err); _exit(3); }
    memset(v, 'v', sizeof v);
    for (uint64_t written = 0; written < bytes; written += 16 + 100 + 16, i++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      snprintf(k, sizeof k, "%016" PRIx64, s);
      memcpy(v, &i, sizeof i);
      if (t->put(h, k, 16, v, sizeof v, 0)) { fprintf(stderr, "put failed at %" PRIu64 "\n", i); _exit(4); }
    }
    if (t->sync(h)) _exit(5);
    _exit(0); /* crash: no close */
  }
  if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
    snprintf(err, len, "fill child failed");
    return PC_ETARGET;
  }
  return 0;
}

static int64_t time_open(const pc_target *t, const char *dir, const char *opts) {
  int fds[2];
  pid_t pid;
  int64_t us = -1;
  int st;
  if (pipe(fds)) return -1;
  if ((pid = fork()) == 0) {
    void *h;
    char err[512];
    int64_t t0 = pc_now_us(), d;
    close(fds[0]);
    if (t->open(dir, opts, "", &h, err, sizeof err)) { fprintf(stderr, "recovery open: %s\n", err); _exit(3); }
    d = pc_now_us() - t0;
    if (write(fds[1], &d, sizeof d) != sizeof d) _exit(4);
    _exit(0);
  }
  close(fds[1]);
  if (read(fds[0], &us, sizeof us) != sizeof us) us = -1;
  close(fds[0]);
  waitpid(pid, &st, 0);
  return us;
}

int pc_cmd_bench_recovery(int argc, char **argv) {
  static const struct option lo[] = {{"target", 1, 0, 't'}, {"sizes", 1, 0, 's'}, {"runs", 1, 0, 'r'},
                                     {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *tspec = "sofadb", *sizes = "16M,64M,256M";
  int runs = 5, ch;
  char target[64], topts[512], root[512], err[512];
  const pc_target *t;
  while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (ch) {
    case 't': tspec = optarg; break;
    case 's': sizes = optarg; break;
    case 'r': {
      uint64_t u;
      if (pc_opt_u64_pub(optarg, &u) || u < 1 || u > 100) {
        fprintf(stderr, "powercut bench-recovery: --runs: '%s' is not a number in 1..100\n", optarg);
        return 2;
      }
      runs = (int)u;
    } break;
    case 'h':
      printf("usage: powercut bench-recovery [--target T[:opt=v]] [--sizes 16M,64M,256M] [--runs 5]\n"
             "Fills the target with SIZE of unflushed, synced data (16-byte keys, 100-byte\n"
             "values), crashes it, and times its recovery (open) in a fresh process, RUNS\n"
             "times on a fresh copy. Prints the median, min-max and MB/s per size.\n");
      return 0;
    default: fprintf(stderr, "powercut bench-recovery: unknown option (see --help)\n"); return 2;
    }
  }
  pc_target_spec_split(tspec, target, sizeof target, topts, sizeof topts);
  if (!(t = pc_target_find(target))) {
    fprintf(stderr, "powercut bench-recovery: unknown target '%s'\n", target);
    return 2;
  }
  snprintf(root, sizeof root, "%s/powercut-bench-%d", access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm", (int)getpid());
  printf("%-8s %12s %10s %10s %10s %10s\n", "size", "log bytes", "median ms", "min ms", "max ms", "MB/s");
  char list[512], *save = NULL, *tok;
  snprintf(list, sizeof list, "%s", sizes);
  for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    uint64_t bytes;
    char pristine[600], work[600], opts[700];
    int64_t us[100];
    int n = 0;
    if (pc_opt_u64_pub(tok, &bytes) || bytes == 0 || bytes > (1ull << 40)) {
      fprintf(stderr, "powercut bench-recovery: bad size '%s' (1..1T, e.g. 16M)\n", tok);
      return 2;
    }
    snprintf(pristine, sizeof pristine, "%s/pristine", root);
    snprintf(work, sizeof work, "%s/work", root);
    pc_rm_rf(root);
    pc_mkdir_p(root);
    if (!strcmp(target, "sofadb"))
      snprintf(opts, sizeof opts, "memtable_bytes=%" PRIu64 "%s%s", bytes * 2 + (64u << 20), topts[0] ? "," : "", topts);
    else
      snprintf(opts, sizeof opts, "%s", topts);
    if (fill(t, pristine, opts, bytes, err, sizeof err)) {
      fprintf(stderr, "powercut bench-recovery: %s\n", err);
      pc_rm_rf(root);
      return 2;
    }
    uint64_t db = dir_bytes(pristine);
    for (int r = 0; r < runs; r++) {
      pc_rm_rf(work);
      if (pc_copy_tree(pristine, work)) { fprintf(stderr, "copy failed\n"); return 2; }
      int64_t u = time_open(t, work, opts);
      if (u < 0) { fprintf(stderr, "powercut bench-recovery: recovery failed at size %s\n", tok); pc_rm_rf(root); return 2; }
      us[n++] = u;
    }
    qsort(us, (size_t)n, sizeof *us, cmp_i64);
    double med = (double)us[n / 2] / 1000.0;
    printf("%-8s %12" PRIu64 " %10.1f %10.1f %10.1f %10.1f\n", tok, db, med, (double)us[0] / 1000.0,
           (double)us[n - 1] / 1000.0, med > 0 ? (double)db / 1048576.0 / (med / 1000.0) : 0);
    fflush(stdout);
  }
  pc_rm_rf(root);
  return 0;
}
