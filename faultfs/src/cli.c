/* cli.c — the `faultfs` command: run a program under the shim with a fault plan, print or
 * summarise a trace, roll a data dir back by hand, and benchmark the shim's overhead.
 * Invariants: a malformed plan or a missing data dir is rejected before the target runs
 * (exit 2); after `run`, if a power-cut action fired, the data dir is in its rolled-back
 * state (ffs_rollback is idempotent, so it is applied again here for safety); a run the
 * shim could not see (no handshake from CMD, or data-dir changes it did not track) never
 * ends with CMD's status alone: it prints ERROR and exits 2. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faultfs.h"
#include "ffs_sc.h"

#ifndef FFS_FIU_RUN_PRELOAD
#define FFS_FIU_RUN_PRELOAD "/usr/lib/fiu/fiu_run_preload.so"
#endif

static void usage(FILE *f) {
  fprintf(f,
          "usage:\n"
          "  faultfs run --plan PLAN --dir DATA_DIR [--seed S] [--model strict|ext4|xfs|reorder]\n"
          "              [--state DIR] [--trace FILE] [--fiu 'enable name=faultfs/OP,...']\n"
          "              [--backend preload|seccomp|auto] -- CMD [ARGS...]\n"
          "      run CMD under libfaultfs.so; PLAN e.g. 'crash@fsync(*.log)#3;eio@write#2+'\n"
          "      --backend seccomp: intercept CMD's system calls with a seccomp supervisor instead\n"
          "      (static and Go programs; every action, no --fiu); auto (the default):\n"
          "      seccomp for a static or Go binary, preload otherwise\n"
          "      --fiu: also preload libfiu's fiu_run_preload.so with that control command\n"
          "      (the shim's failure points are named faultfs/<op>)\n"
          "      exits with CMD's status, or 2 with 'faultfs: ERROR: ...' when the shim was not\n"
          "      loaded in CMD (static binary?) or the data dir changed behind its back\n"
          "      --state: undo log, fired record, victims (default: a temporary dir in /dev/shm or /tmp);\n"
          "      an existing DIR must be empty or made by faultfs (it holds .faultfs-state)\n"
          "  faultfs trace [--summary] FILE     print a trace, or counts per op and per path\n"
          "  faultfs rollback --state DIR --dir DATA_DIR   apply the recorded power-loss rollback\n"
          "  faultfs bench [--iters N] [--runs R]   ns per 4 KiB pwrite and per fsync:\n"
          "      no shim / shim idle / shim tracking (median of R runs, tmpfs file)\n"
          "  faultfs --help | faultfs help | faultfs COMMAND --help\n"
          "  faultfs --version\n"
          "Environment: FAULTFS_LIB overrides the path of libfaultfs.so.\n\n"
          FFS_PLAN_GRAMMAR);
}

/* libfaultfs.so: $FAULTFS_LIB, else beside this executable (ffs_shim_find) */
static int shim_path(const char *cmd, char *out, size_t len) {
  char tried[3 * FFS_PATH_MAX];
  if (ffs_shim_find("FAULTFS_LIB", out, len, tried, sizeof tried) == 0) return 0;
  fprintf(stderr, "faultfs %s: cannot find libfaultfs.so (tried %s; set FAULTFS_LIB)\n", cmd, tried);
  return -1;
}

static int make_tmp_state(char *out, size_t len) {
  struct stat st;
  const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
  snprintf(out, len, "%s/faultfs-state-XXXXXX", base);
  return mkdtemp(out) ? 0 : -1;
}

static void set_preload(const char *lib) {
  const char *old = getenv("LD_PRELOAD");
  char buf[PATH_MAX * 2];
  if (old && *old) snprintf(buf, sizeof buf, "%s:%s", lib, old);
  else snprintf(buf, sizeof buf, "%s", lib);
  setenv("LD_PRELOAD", buf, 1);
}

/* Runs argv under the seccomp supervisor; *status is its wait status. */
static int run_seccomp(const ffs_plan *p, const char *dir, const char *seed, const char *model, const char *state,
                       const char *trace, char **argv, int *status) {
  char rdir[PATH_MAX], rstate[PATH_MAX], err[512];
  int tfd = -1, lfd, rc;
  pid_t pid;
  char *end;
  errno = 0;
  uint64_t s = strtoull(seed, &end, 10);
  if (errno || !*seed || *end) { fprintf(stderr, "faultfs run: --seed '%s' is not a number\n", seed); return -1; }
  if (!realpath(dir, rdir) || !realpath(state, rstate)) { perror("faultfs run: realpath"); return -1; }
  ffs_state_clear(rstate);
  if (trace) {
    tfd = open(trace, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (tfd < 0 || write(tfd, FFS_TRACE_MAGIC, 8) != 8) { fprintf(stderr, "faultfs run: trace %s: %s\n", trace, strerror(errno)); return -1; }
  }
  ffs_sc_config cfg = {.plan = p, .data_dir = rdir, .state_dir = rstate, .seed = s,
                       .model = (ffs_model)ffs_model_from_name(model), .trace_fd = tfd};
  rc = ffs__sc_launch(argv, &pid, &lfd, err, sizeof err);
  if (rc == 0) rc = ffs__sc_supervise(&cfg, pid, lfd, err, sizeof err);
  if (tfd >= 0) close(tfd);
  if (rc < 0) { fprintf(stderr, "faultfs run: --backend seccomp: %s\n", err); return -1; }
  *status = rc;
  return 0;
}

/* After the program: did the shim see it at all, what did it refuse, and what changed in the
 * data dir behind its back (compared with `before`, ahead of any parent rollback)?
 * Returns 0 when the run can be trusted, else BLIND_NOSHIM and/or BLIND_UNSEEN. */
enum { BLIND_NOSHIM = 1, BLIND_UNSEEN = 2 };
static int report_unseen(const char *prog, const char *hspath, const char *dir, const ffs_snap *before,
                         const char *state) {
  ffs_handshake hs;
  char list[2048];
  int n, rc = 0;
  if (ffs_handshake_read(hspath, &hs) < 0 || hs.nloaded == 0) {
    fprintf(stderr, "faultfs: ERROR: the shim was not loaded in %s: static binary? (nothing it did was "
            "counted, traced or faulted)\n", prog);
    rc |= BLIND_NOSHIM;
  }
  if (hs.nrefused)
    fprintf(stderr, "faultfs: refused io_uring_setup %u time%s with ENOSYS (the program had to use plain "
            "syscalls instead)\n", hs.nrefused, hs.nrefused == 1 ? "" : "s");
  {
    /* an exec chain announces several images under one pid; several pids mean several
     * processes, and each one's configure reset the state of the one before */
    unsigned pids = 0;
    for (size_t k = 0; k < hs.n; k++) {
      size_t j = 0;
      while (j < k && (hs.v[j].refused || hs.v[j].pid != hs.v[k].pid)) j++;
      pids += !hs.v[k].refused && j == k;
    }
    size_t last = hs.n;
    while (last > 0 && hs.v[last - 1].refused) last--;
    if (pids > 1 && last > 0)
      fprintf(stderr, "faultfs: warning: the shim started in %u processes (the last: pid %d, %s); each one "
              "reset the undo log, so only the last one's changes are modelled (run the program directly)\n",
              pids, hs.v[last - 1].pid, hs.v[last - 1].exe);
  }
  ffs_handshake_free(&hs);
  n = ffs_unseen_changes(dir, before, state, list, sizeof list);
  if (n < 0) {
    fprintf(stderr, "faultfs: ERROR: cannot compare the data dir with what the shim tracked: %s\n", list);
    rc |= BLIND_UNSEEN;
  } else if (n > 0) {
    fprintf(stderr, "faultfs: ERROR: %d path%s in the data dir changed behind the shim's back (raw syscalls, "
            "a static helper, mmap?): %s\n", n, n == 1 ? "" : "s", list);
    rc |= BLIND_UNSEEN;
  }
  return rc;
}

/* 1 if path (or, when it does not exist yet, its last component in its existing parent)
 * is dir or lies under it. */
static int path_inside(const char *path, const char *dir) {
  char rd[PATH_MAX], rp[PATH_MAX], tmp[PATH_MAX];
  if (!realpath(dir, rd)) return 0;
  if (!realpath(path, rp)) {
    snprintf(tmp, sizeof tmp, "%s", path);
    char *sl = strrchr(tmp, '/');
    const char *base = sl ? sl + 1 : path;
    if (sl == tmp) tmp[1] = 0;
    else if (sl) *sl = 0;
    if (!realpath(sl ? tmp : ".", rp)) return 0;
    size_t l = strlen(rp);
    snprintf(rp + l, sizeof rp - l, "/%s", base);
  }
  size_t n = strlen(rd);
  return !strncmp(rp, rd, n) && (rp[n] == '/' || !rp[n] || n == 1);
}

static int cmd_run(int argc, char **argv) {
  const char *plan = NULL, *dir = NULL, *seed = "0", *model = "strict", *state = NULL, *trace = NULL, *fiu = NULL;
  const char *backend = "auto";
  char lib[PATH_MAX], tmpstate[PATH_MAX] = "", err[512], canon[4096], hspath[PATH_MAX + 32] = "";
  char absdir[PATH_MAX], absstate[PATH_MAX];
  int i, rc = 2, execpipe[2] = {-1, -1};
  ffs_plan *p = NULL;
  ffs_snap *before = NULL;
  for (i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--")) { i++; break; }
    if (i + 1 >= argc) { fprintf(stderr, "faultfs run: %s needs a value\n", argv[i]); return 2; }
    if (!strcmp(argv[i], "--plan")) plan = argv[++i];
    else if (!strcmp(argv[i], "--dir")) dir = argv[++i];
    else if (!strcmp(argv[i], "--seed")) seed = argv[++i];
    else if (!strcmp(argv[i], "--model")) model = argv[++i];
    else if (!strcmp(argv[i], "--state")) state = argv[++i];
    else if (!strcmp(argv[i], "--trace")) trace = argv[++i];
    else if (!strcmp(argv[i], "--fiu")) fiu = argv[++i];
    else if (!strcmp(argv[i], "--backend")) backend = argv[++i];
    else { fprintf(stderr, "faultfs run: unknown option %s\n", argv[i]); return 2; }
  }
  if (!plan || !dir || i >= argc) { usage(stderr); return 2; }
  if (ffs_plan_parse(plan, &p, err, sizeof err) < 0) { fprintf(stderr, "faultfs run: %s\n", err); return 2; }
  int use_sc = 0;
  if (!strcmp(backend, "seccomp")) use_sc = 1;
  else if (!strcmp(backend, "auto")) {
    int w = ffs__elf_wants_seccomp(argv[i], err, sizeof err);
    if (w < 0) { fprintf(stderr, "faultfs run: --backend auto: %s\n", err); goto out; }
    use_sc = w;
  } else if (strcmp(backend, "preload") != 0) {
    fprintf(stderr, "faultfs run: unknown backend '%s' (preload, seccomp, auto)\n", backend);
    goto out;
  }
  if (use_sc && fiu) { fprintf(stderr, "faultfs run: --fiu needs --backend preload (libfiu is a preloaded library)\n"); goto out; }
  if (use_sc && !ffs__sc_available(err, sizeof err)) { fprintf(stderr, "faultfs run: --backend seccomp: %s\n", err); goto out; }
  if (ffs_model_from_name(model) < 0) { fprintf(stderr, "faultfs run: unknown model '%s'\n", model); goto out; }
  struct stat st;
  if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) { fprintf(stderr, "faultfs run: data dir '%s' does not exist\n", dir); goto out; }
  /* absolute once: the program may change directory before a child of it loads the shim */
  if (!realpath(dir, absdir)) { fprintf(stderr, "faultfs run: data dir '%s': %s\n", dir, strerror(errno)); goto out; }
  dir = absdir;
  if (!use_sc && shim_path("run", lib, sizeof lib) < 0) goto out;
  if (!state) {
    if (make_tmp_state(tmpstate, sizeof tmpstate) < 0) { perror("faultfs run: mkdtemp"); goto out; }
    state = tmpstate;
  }
  /* the undo log and handshake file go into the state dir: refuse one inside the data dir
   * (as the shim would) before anything is created there */
  if (path_inside(state, dir)) { fprintf(stderr, "faultfs run: the state dir %s must not be inside the data dir %s\n", state, dir); goto out; }
  /* never clear a dir faultfs did not make: an existing non-empty one needs the marker */
  if (ffs_state_claim(state, err, sizeof err) < 0) { fprintf(stderr, "faultfs run: --state: %s\n", err); goto out; }
  if (!realpath(state, absstate)) { fprintf(stderr, "faultfs run: state dir '%s': %s\n", state, strerror(errno)); goto out; }
  state = absstate;
  ffs_plan_format(p, canon, sizeof canon);
  int status, exec_errno = 0, blind = 0;
  if (use_sc) { /* no shim to shake hands with: the supervisor sees every call itself */
    if (run_seccomp(p, dir, seed, model, state, trace, argv + i, &status) < 0) goto out;
    goto report;
  }
  snprintf(hspath, sizeof hspath, "%s/%s", state, FFS_STATE_HANDSHAKE);
  if (ffs_handshake_arm(hspath) < 0) { fprintf(stderr, "faultfs run: cannot create %s: %s\n", hspath, strerror(errno)); goto out; }
  if (ffs_snap_take(dir, &before) < 0) { fprintf(stderr, "faultfs run: cannot list the data dir %s\n", dir); goto out; }
  if (pipe2(execpipe, O_CLOEXEC) < 0) { perror("faultfs run: pipe"); goto out; }
  pid_t pid = fork();
  if (pid < 0) { perror("faultfs run: fork"); goto out; }
  if (pid == 0) {
    setenv(FFS_ENV_PLAN, plan, 1);
    setenv(FFS_ENV_DIR, dir, 1);
    setenv(FFS_ENV_SEED, seed, 1);
    setenv(FFS_ENV_MODEL, model, 1);
    setenv(FFS_ENV_STATE, state, 1);
    if (trace) setenv(FFS_ENV_TRACE, trace, 1);
    set_preload(lib);
    if (fiu) { /* libfiu's own run-preload enables the points from FIU_ENABLE at start */
      setenv("FIU_ENABLE", fiu, 1);
      setenv("FIU_CTRL_FIFO", "", 1);
      set_preload(FFS_FIU_RUN_PRELOAD);
    }
    execvp(argv[i], argv + i);
    int e = errno;
    fprintf(stderr, "faultfs run: exec %s: %s\n", argv[i], strerror(e));
    if (write(execpipe[1], &e, sizeof e) < 0) {}
    _exit(127);
  }
  close(execpipe[1]);
  while (read(execpipe[0], &exec_errno, sizeof exec_errno) < 0 && errno == EINTR) {}
  close(execpipe[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  blind = exec_errno ? 0 : report_unseen(argv[i], hspath, dir, before, state);
report:
  rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (blind) rc = 2;
  ffs_fired f;
  int fr = ffs_fired_read(state, &f);
  if (fr == 0) {
    char site[32] = " site unknown"; /* the seccomp backend cannot see the stack */
    if (f.site) snprintf(site, sizeof site, " site=%016" PRIx64, f.site);
    fprintf(stderr, "faultfs: plan '%s' fired: rule %u (%s) on %s #%" PRIu64 " at call %" PRIu64 " '%s'%s (%u firing%s)\n",
            canon, f.rule, ffs_action_name(f.action), ffs_op_name(f.op), f.match_index, f.call_index, f.path, site,
            f.nfired, f.nfired == 1 ? "" : "s");
    if (f.powercut) {
      int r = ffs_rollback(state, dir, err, sizeof err);
      if (r < 0) { fprintf(stderr, "faultfs: rollback failed: %s: %s\n", ffs_strerror(r), err); rc = 2; }
      else fprintf(stderr, "faultfs: power cut: data dir rolled back to its durable state (model %s)\n", model);
    }
  } else if (fr == FFS_ENOTFIRED && !(blind & BLIND_NOSHIM)) {
    fprintf(stderr, "faultfs: plan '%s' did not fire\n", canon);
  }
out:
  ffs_snap_free(before);
  if (tmpstate[0]) {
    char marker[PATH_MAX + 32];
    ffs_state_clear(tmpstate);
    unlink(hspath);
    snprintf(marker, sizeof marker, "%s/%s", tmpstate, FFS_STATE_MARKER);
    unlink(marker);
    rmdir(tmpstate);
  }
  ffs_plan_free(p);
  return rc;
}

typedef struct { int op; char *path; uint64_t n; } count_t;

static int cmd_trace(int argc, char **argv) {
  int summary = 0, rc;
  const char *file = NULL;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--summary")) summary = 1;
    else file = argv[i];
  }
  if (!file) { usage(stderr); return 2; }
  ffs_trace *t;
  rc = ffs_trace_open(file, &t);
  if (rc < 0) { fprintf(stderr, "faultfs trace: %s: %s\n", file, ffs_strerror(rc)); return 2; }
  ffs_trace_rec *rec = malloc(sizeof *rec);
  uint64_t ops[FFS_OP_COUNT] = {0}, total = 0, warns = 0, fired = 0;
  count_t *pc = NULL;
  size_t npc = 0;
  char line[2 * FFS_PATH_MAX + FFS_SITE_NAME_MAX + 256];
  while (rec && (rc = ffs_trace_next(t, rec)) == 1) {
    if (!summary) {
      ffs_trace_format(rec, line, sizeof line);
      puts(line);
      continue;
    }
    if (rec->dur & FFS_DUR_WARN) warns++;
    else { ops[rec->op]++; total++; }
    if (rec->dur & FFS_DUR_FIRED) fired++;
    size_t k;
    for (k = 0; k < npc; k++)
      if (pc[k].op == (int)rec->op && !strcmp(pc[k].path, rec->path)) break;
    if (k == npc) {
      count_t *np = realloc(pc, (npc + 1) * sizeof *np);
      if (!np) break;
      pc = np;
      pc[npc].op = (int)rec->op;
      pc[npc].path = strdup(rec->path);
      pc[npc].n = 0;
      npc++;
    }
    pc[k].n++;
  }
  if (rc < 0) fprintf(stderr, "faultfs trace: %s: %s\n", file, ffs_strerror(rc));
  if (summary) {
    printf("calls %" PRIu64 "  warnings %" PRIu64 "  fired %" PRIu64 "\n\nper op:\n", total, warns, fired);
    for (int o = 0; o < FFS_OP_COUNT; o++)
      if (ops[o]) printf("  %-16s %" PRIu64 "\n", ffs_op_name((ffs_op)o), ops[o]);
    printf("\nper op and path:\n");
    for (size_t k = 0; k < npc; k++) printf("  %-16s %-40s %" PRIu64 "\n", ffs_op_name((ffs_op)pc[k].op), pc[k].path, pc[k].n);
  }
  for (size_t k = 0; k < npc; k++) free(pc[k].path);
  free(pc);
  free(rec);
  ffs_trace_close(t);
  return rc < 0 ? 2 : 0;
}

static int cmd_rollback(int argc, char **argv) {
  const char *state = NULL, *dir = NULL;
  char err[512];
  for (int i = 0; i + 1 < argc; i++) {
    if (!strcmp(argv[i], "--state")) state = argv[++i];
    else if (!strcmp(argv[i], "--dir")) dir = argv[++i];
  }
  if (!state || !dir) { usage(stderr); return 2; }
  int rc = ffs_rollback(state, dir, err, sizeof err);
  if (rc < 0) { fprintf(stderr, "faultfs rollback: %s: %s\n", ffs_strerror(rc), err); return 2; }
  return 0;
}

/* ---- bench ------------------------------------------------------------------------------ */
static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Child: prints "append_ns overwrite_ns fsync_ns" for a file in DIR. */
static int bench_child(const char *dir, long iters) {
  char path[PATH_MAX], buf[4096];
  memset(buf, 'x', sizeof buf);
  snprintf(path, sizeof path, "%s/bench.dat", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { perror("bench: open"); return 2; }
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++)
    if (pwrite(fd, buf, sizeof buf, (off_t)i * 4096) != (ssize_t)sizeof buf) { perror("bench: pwrite"); return 2; }
  uint64_t t1 = now_ns();
  fsync(fd); /* makes the file durable: the next loop overwrites durable data (undo saves old bytes) */
  uint64_t t2 = now_ns();
  for (long i = 0; i < iters; i++)
    if (pwrite(fd, buf, sizeof buf, (off_t)(i % 256) * 4096) != (ssize_t)sizeof buf) { perror("bench: pwrite"); return 2; }
  uint64_t t3 = now_ns();
  uint64_t fs = 0;
  long nf = iters / 4 > 0 ? iters / 4 : 1;
  for (long i = 0; i < nf; i++) {
    if (pwrite(fd, buf, sizeof buf, (off_t)(iters + i) * 4096) != (ssize_t)sizeof buf) return 2;
    uint64_t a = now_ns();
    if (fsync(fd) < 0) { perror("bench: fsync"); return 2; }
    fs += now_ns() - a;
  }
  close(fd);
  unlink(path);
  printf("%.1f %.1f %.1f\n", (double)(t1 - t0) / (double)iters, (double)(t3 - t2) / (double)iters, (double)fs / (double)nf);
  return 0;
}

/* Child (preloaded, idle): fork-server crash cases per second. Each case: fork, configure
 * the shim in the child, 8 appends + fsync + 8 appends, crash at the second fsync; the
 * parent reads the fired record and calls ffs_rollback (a no-op after the shim's own). */
static int bench_cases(const char *dir, const char *state, long cases) {
  ffs_shim_configure_fn cfg = (ffs_shim_configure_fn)dlsym(RTLD_DEFAULT, FFS_SHIM_CONFIGURE_SYM);
  char path[PATH_MAX], buf[4096], err[256];
  if (!cfg) { fprintf(stderr, "bench: shim not loaded\n"); return 2; }
  memset(buf, 'c', sizeof buf);
  snprintf(path, sizeof path, "%s/case.dat", dir);
  int fd0 = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd0 < 0) return 2;
  close(fd0);
  uint64_t t0 = now_ns();
  for (long k = 0; k < cases; k++) {
    pid_t pid = fork();
    if (pid == 0) {
      if (cfg("crash@fsync#2", dir, (uint64_t)k, "strict", state, NULL) != 0) _exit(3);
      int fd = open(path, O_WRONLY | O_APPEND);
      for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 8; i++)
          if (write(fd, buf, 512) != 512) _exit(4);
        fsync(fd);
      }
      _exit(5); /* not reached: the second fsync crashes */
    }
    int st;
    waitpid(pid, &st, 0);
    ffs_fired f;
    if (!WIFSIGNALED(st) || ffs_fired_read(state, &f) != 0 || !f.powercut) { fprintf(stderr, "bench: case %ld did not crash\n", k); return 2; }
    if (ffs_rollback(state, dir, err, sizeof err) != 0) { fprintf(stderr, "bench: rollback: %s\n", err); return 2; }
  }
  uint64_t t1 = now_ns();
  struct stat sb;
  /* each case keeps exactly its first 8 writes (synced), loses the rest */
  if (stat(path, &sb) != 0 || sb.st_size != (off_t)cases * 8 * 512) { fprintf(stderr, "bench: case file has %lld bytes, want %ld\n", (long long)sb.st_size, cases * 8 * 512); return 2; }
  unlink(path);
  printf("%.1f\n", (double)cases * 1e9 / (double)(t1 - t0));
  return 0;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int cmd_bench(int argc, char **argv) {
  long iters = 20000, runs = 5;
  char lib[PATH_MAX], exe[PATH_MAX], base[PATH_MAX], data[PATH_MAX], state[PATH_MAX];
  for (int i = 0; i + 1 < argc; i++) {
    if (!strcmp(argv[i], "--iters")) iters = atol(argv[++i]);
    else if (!strcmp(argv[i], "--runs")) runs = atol(argv[++i]);
  }
  if (iters < 1 || runs < 1 || runs > 99) { usage(stderr); return 2; }
  if (shim_path("bench", lib, sizeof lib) < 0) return 2;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return 2;
  exe[n] = 0;
  if (make_tmp_state(base, sizeof base) < 0) return 2;
  snprintf(data, sizeof data, "%s/data", base);
  snprintf(state, sizeof state, "%s/state", base);
  mkdir(data, 0755);
  mkdir(state, 0755);
  static const char *const modes[] = {"no shim", "shim idle", "shim tracking"};
  printf("faultfs bench: %ld x 4 KiB pwrite per run, %ld fsyncs, %ld runs, file in %s (median ns per call)\n", iters,
         iters / 4, runs, data);
  printf("%-14s %14s %14s %12s\n", "mode", "pwrite-append", "pwrite-over", "fsync");
  for (int m = 0; m < 3; m++) {
    double v[3][100];
    for (long r = 0; r < runs; r++) {
      int pfd[2];
      if (pipe(pfd) < 0) return 2;
      pid_t pid = fork();
      if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        if (m >= 1) set_preload(lib);
        if (m == 2) {
          setenv(FFS_ENV_PLAN, "none", 1);
          setenv(FFS_ENV_DIR, data, 1);
          setenv(FFS_ENV_STATE, state, 1);
        }
        char it[32];
        snprintf(it, sizeof it, "%ld", iters);
        execl(exe, exe, "bench-child", data, it, (char *)NULL);
        _exit(127);
      }
      close(pfd[1]);
      char out[256] = "";
      ssize_t got = read(pfd[0], out, sizeof out - 1);
      close(pfd[0]);
      int status;
      waitpid(pid, &status, 0);
      if (got <= 0 || sscanf(out, "%lf %lf %lf", &v[0][r], &v[1][r], &v[2][r]) != 3) {
        fprintf(stderr, "faultfs bench: child failed (%s)\n", modes[m]);
        return 2;
      }
    }
    for (int k = 0; k < 3; k++) qsort(v[k], (size_t)runs, sizeof(double), cmp_d);
    printf("%-14s %14.1f %14.1f %12.1f\n", modes[m], v[0][runs / 2], v[1][runs / 2], v[2][runs / 2]);
  }
  /* fork-server crash cases per second (one core) */
  {
    int pfd[2];
    if (pipe(pfd) < 0) return 2;
    pid_t pid = fork();
    if (pid == 0) {
      dup2(pfd[1], 1);
      close(pfd[0]);
      set_preload(lib);
      execl(exe, exe, "bench-cases", data, state, "2000", (char *)NULL);
      _exit(127);
    }
    close(pfd[1]);
    char out[128] = "";
    ssize_t got = read(pfd[0], out, sizeof out - 1);
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (got > 0) printf("crash cases/s (fork-server: fork, configure, 16 x 512 B write, crash at fsync #2, rollback): %s", out);
    else fprintf(stderr, "faultfs bench: crash-case run failed\n");
  }
  ffs_state_clear(state);
  snprintf(exe, sizeof exe, "%s/%s", state, FFS_STATE_MARKER);
  unlink(exe);
  rmdir(state);
  rmdir(data);
  rmdir(base);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("faultfs %s\n", PC_VERSION);
    return 0;
  }
  for (int i = 2; i < argc && strcmp(argv[i], "--"); i++) /* COMMAND --help, before the command's own parsing */
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    }
  if (!strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
  if (!strcmp(argv[1], "trace")) return cmd_trace(argc - 2, argv + 2);
  if (!strcmp(argv[1], "rollback")) return cmd_rollback(argc - 2, argv + 2);
  if (!strcmp(argv[1], "bench")) return cmd_bench(argc - 2, argv + 2);
  if (!strcmp(argv[1], "bench-child") && argc == 4) return bench_child(argv[2], atol(argv[3]));
  if (!strcmp(argv[1], "bench-cases") && argc == 5) return bench_cases(argv[2], argv[3], atol(argv[4]));
  fprintf(stderr, "faultfs: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
