/*
 * main.c - the powercut CLI.
 *
 * Commands that run cases need the faultfs shim loaded in this process (the
 * per-case children are forked from it and configure it; no exec per case).
 * When it is not loaded, powercut re-executes itself once with
 * LD_PRELOAD=<libdir>/libfaultfs.so (or $POWERCUT_SHIM); the shim stays
 * idle in this process and in every child that does not configure it.
 * Exit codes: 0 pass, 1 violation found, 2 usage or setup error, 128+N when
 * signal N (SIGINT, SIGTERM, SIGHUP) interrupted it.
 */
#define _GNU_SOURCE
#include "harness_int.h"
#include "tracecase.h"

#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *USAGE =
  "usage: powercut <command> [options]\n"
  "\n"
  "commands:\n"
  "  run        --target T --workload W --seed S --fault PLAN [--model M | --fs F]   one case\n"
  "  trace      --target T --workload W --seed S [--full]   list the crash-point space\n"
  "  campaign   --target T [--workload W ...] [--faults K,...] [--models M,...]\n"
  "             (--cases N | --time 60s) [--seed S] [--jobs J] [--shard K/N] [--out DIR]\n"
  "  repro      ID [--keep DIR] [--count N]   re-run a case from its id\n"
  "  minimize   ID [--budget RUNS] [--rerun K]  shrink a failing case\n"
  "  bench-recovery --target T... [--sizes 16M,64M,256M] [--runs N] [--out DIR]   recovery time vs log size\n"
  "  bench      --targets sofadb,leveldb,... [--num N] [--json]   db_bench-style comparison\n"
  "  fidelity   RESULTS... [--models M,...] [--fs ext4,xfs]   models against real file systems\n"
  "  report     DIR... [--out DIR]              regenerate reports (merging shards)\n"
  "  targets                                    list targets, options, contracts\n"
  "\n"
  "  help [COMMAND]                             this text, or COMMAND's help\n"
  "  --version                                  print the version\n"
  "\n"
  "`powercut <command> --help` (or `powercut help <command>`) describes each command;\n"
  "`powercut run --help` gives the fault-plan grammar. Models, verdicts and case ids:\n"
  "docs/powercut.md.\n"
  "\n"
  "exit status: 0 pass, 1 violation found, 2 usage or setup error, 128+N when signal N\n"
  "stopped it (130 SIGINT, 143 SIGTERM, 129 SIGHUP).\n";

static int usage_error(const char *cmd, const char *fmt, const char *arg) {
  fprintf(stderr, "powercut %s: ", cmd);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(see `powercut %s --help`)\n", cmd);
  return 2;
}

/* --backend B: the exec target's option backend=B (docs/targets.md), so the case id
 * carries it and repro needs no flag. 0, or a usage error (2). */
static int add_backend(const char *cmd, const char *backend, const char *target, char *opts, size_t olen) {
  if (!backend) return 0;
  if (strcmp(backend, "preload") && strcmp(backend, "seccomp") && strcmp(backend, "auto"))
    return usage_error(cmd, "--backend: '%s' unknown (preload, seccomp, auto)", backend);
  if (strcmp(target, "exec"))
    return usage_error(cmd, "--backend applies to exec targets only ('%s' runs inside powercut, under its "
                       "preloaded shim)", target);
  if (strstr(opts, "backend="))
    return usage_error(cmd, "%s", "--backend and the target option backend= both given: keep one");
  size_t l = strlen(opts);
  if (l + strlen(backend) + 10 >= olen) return usage_error(cmd, "%s", "--backend: target options too long");
  snprintf(opts + l, olen - l, "%sbackend=%s", l ? "," : "", backend);
  return 0;
}

/* ---- shim loading ---- */
static int ensure_shim(char **argv) {
  char exe[PATH_MAX], shim[PATH_MAX + 64], pre[2 * PATH_MAX + 128], tried[3 * PATH_MAX];
  ssize_t n;
  if (dlsym(RTLD_DEFAULT, FFS_SHIM_CONFIGURE_SYM)) return 0;
  if (getenv("POWERCUT_REEXEC")) {
    fprintf(stderr, "powercut: the faultfs shim did not load (LD_PRELOAD=%s)\n",
            getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
    return 2;
  }
  if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) < 0) return 2;
  exe[n] = '\0';
  /* $POWERCUT_SHIM, else the installed prefix's libdir, else build/lib */
  if (ffs_shim_find("POWERCUT_SHIM", shim, sizeof shim, tried, sizeof tried)) {
    fprintf(stderr, "powercut: cannot find the faultfs shim libfaultfs.so (tried %s); build or install it, or set POWERCUT_SHIM\n",
            tried);
    return 2;
  }
  if (getenv("LD_PRELOAD") && *getenv("LD_PRELOAD"))
    snprintf(pre, sizeof pre, "%s:%s", getenv("LD_PRELOAD"), shim);
  else
    snprintf(pre, sizeof pre, "%s", shim);
  setenv("LD_PRELOAD", pre, 1);
  setenv("POWERCUT_REEXEC", "1", 1);
  {
    /* sanitizer builds: the shim is not the first library; that is fine here */
    const char *a = getenv("ASAN_OPTIONS");
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%sverify_asan_link_order=0", a ? a : "", a && *a ? ":" : "");
    setenv("ASAN_OPTIONS", buf, 1);
  }
  unsetenv(FFS_ENV_PLAN);
  execv(exe, argv);
  fprintf(stderr, "powercut: re-exec with the shim failed: %s\n", strerror(errno));
  return 2;
}

/* This process's scratch dir, <base>/powercut-<pid>, marked as powercut's.
 * First removes the scratch dirs of powercut processes that died without
 * cleaning up (pc_scratch_sweep: only marked dirs of dead pids). */
static const char *scratch_root(void) {
  static char buf[256];
  char err[512];
  struct stat st;
  const char *base = getenv("POWERCUT_TMP");
  if (!base) base = (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
                      ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  snprintf(buf, sizeof buf, "%s/powercut-%d", base, (int)getpid());
  pc_scratch_sweep(base);
  if (pc_scratch_create(buf, err, sizeof err)) fprintf(stderr, "powercut: %s\n", err);
  return buf;
}

/* 0 ok, -1 not a number, -2 out of [min, max] (say which to the user) */
static int parse_u64_range(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  int rc = wl_parse_u64(s, out);
  if (rc) return rc;
  return *out < min || *out > max ? -2 : 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  return parse_u64_range(s, 0, UINT64_MAX, out) ? -1 : 0;
}

/* Durations: DIGITS[.DIGITS] then ms, s (or nothing), m or h. 0 ok, -1 not a
 * duration, -2 out of [min_ms, max_ms] (what rounds to 0 ms counts as 0). */
static int parse_duration_ms(const char *s, int64_t min_ms, int64_t max_ms, int64_t *ms) {
  const char *p = s;
  char *end;
  double v, mult;
  int digits = 0;
  while (*p >= '0' && *p <= '9') p++, digits++;
  if (*p == '.') for (p++; *p >= '0' && *p <= '9'; p++) digits++;
  if (!digits || p - s > 32) return -1;
  v = strtod(s, &end);
  if (end != p) return -1;
  if (!strcmp(p, "ms")) mult = 1;
  else if (!strcmp(p, "s") || !*p) mult = 1000;
  else if (!strcmp(p, "m")) mult = 60000;
  else if (!strcmp(p, "h")) mult = 3600000;
  else return -1;
  v *= mult;
  if (!(v >= (double)min_ms && v < (double)max_ms + 1)) return -2;
  *ms = (int64_t)v;
  return *ms < min_ms ? -2 : 0;
}

#define PC_MAX_TIMEOUT_MS (24LL * 3600 * 1000)        /* per phase of a case: one day */
#define PC_MAX_TIME_MS (366LL * 24 * 3600 * 1000)     /* a campaign: one year */
#define PC_MAX_RERUN 100                              /* --rerun: runs per failure */
#define PC_MAX_CASES 1000000000000ull                 /* 10^12 */
#define PC_MAX_COUNT 1000000ull

static int duration_error(const char *cmd, const char *opt, const char *arg, int rc, const char *range) {
  if (rc == -2)
    fprintf(stderr, "powercut %s: %s: '%s' is out of range (%s)\n", cmd, opt, arg, range);
  else
    fprintf(stderr, "powercut %s: %s: '%s' is not a duration (e.g. 500ms, 10s, 5m, 1h)\n", cmd, opt, arg);
  fprintf(stderr, "(see `powercut %s --help`)\n", cmd);
  return 2;
}

/* Exit status after a signal stopped a command: 128 + its number. */
static int interrupted_exit(const char *cmd, const char *scratch) {
  int sig = (int)pc_interrupted;
  fprintf(stderr, "powercut %s: interrupted by %s; nothing more was run\n", cmd, pc_signal_name(sig));
  if (scratch) pc_realfs_sweep(scratch), ffs_rm_rf(scratch);
  return 128 + sig;
}

/* The defaults of run/trace: workload mixed, model strict, no fault. */
static void case_defaults(pc_case *c) {
  snprintf(c->workload, sizeof c->workload, "mixed");
  snprintf(c->model, sizeof c->model, "strict");
  snprintf(c->plan, sizeof c->plan, "none");
}

/* ---- printing one result ---- */
static void print_result(FILE *f, const char *id, const pc_result *r) {
  fprintf(f, "verdict: %s\n", pc_result_verdict(r));
  if (r->error) fprintf(f, "error:   %s\n", r->note);
  else {
    fprintf(f, "explain: %s\n", r->orc.explanation ? r->orc.explanation : "");
    if (r->note[0]) fprintf(f, "note:    %s\n", r->note);
    if (r->orc.verdict != ORC_PASS && r->orc.first_key && *r->orc.first_key) {
      fprintf(f, "key:      %s\n", r->orc.first_key);
      fprintf(f, "expected: %s\n", r->orc.expected ? r->orc.expected : "");
      fprintf(f, "found:    %s\n", r->orc.found ? r->orc.found : "");
    }
  }
  if (r->fired)
    fprintf(f, "fault:   %s on %s #%" PRIu64 " (%s), syscall %" PRIu64 "\n", ffs_action_name(r->f.action),
            ffs_op_name(r->f.op), r->f.match_index, r->f.path, r->f.call_index);
  else if (!r->error && strstr(id, "/none") && (!strcmp(strstr(id, "/none"), "/none") || strstr(id, "/none>")))
    fprintf(f, "fault:   none in the workload (plan none); at its end the power was cut\n");
  else if (!r->error)
    fprintf(f, "fault:   did not fire; the workload ran to its end, then the power was cut\n");
  /* ops_lost counts the losses the contract allows (acked without a durability promise) */
  fprintf(f, "ops:     %" PRIu64 " issued, %" PRIu64 " acked, %" PRIu64 " lost that the contract allows%s\n",
          r->orc.ops_issued, r->orc.ops_acked, r->orc.ops_lost,
          !r->error && r->orc.verdict != ORC_PASS ? " (the violation above is not among them)" : "");
  if (r->recovery_us >= 0) fprintf(f, "recovery: %.3f ms\n", (double)r->recovery_us / 1000.0);
  {
    char *cmd = NULL;
    int rc = rpt_repro_command(id, &cmd);
    fprintf(f, "case:    %s\nrepro:   %s\n", id, rc ? rpt_strerror(rc) : cmd);
    free(cmd);
  }
}

static int verdict_exit(const pc_result *r) { return r->error ? 2 : r->orc.verdict != ORC_PASS; }

/* ---- run / repro / minimize ---- */
/* --json: the case as one results.jsonl record (docs/reports.md), the fields `run`
 * prints as text; with repro --count, reruns/reproduced count the runs and those
 * that gave the first run's verdict. */
static void print_result_json(const pc_case *c, const char *id, const pc_result *r, int runs, int same_runs) {
  rpt_case rc;
  char repro[2400], *line = NULL;
  pc_result_to_rpt(c, id, r, &rc, repro, sizeof repro);
  if (runs > 1) rc.reruns = runs, rc.reproduced = same_runs;
  if (rpt_case_to_json(&rc, &line) == 0) printf("%s\n", line);
  free(line);
}

static int run_one(const char *cmd, const pc_case *c, const char *keep, const char *record, int count, int timeout_ms,
                   int json) {
  pc_worker w;
  pc_run_opts o = {0};
  pc_result r, r0;
  char err[1024], id[2200], first[32] = "";
  int rc = 0, same = 1, nsame = 0;
  if (pc_case_validate(c, err, sizeof err)) return usage_error(cmd, "%s", err);
  if (keep && pc_own_dir_check("--keep", keep, PC_KEEP_MARKER, err, sizeof err)) {
    fprintf(stderr, "powercut %s: %s\n", cmd, err);
    return 2;
  }
  if (ffs_model_fs((ffs_model)ffs_model_from_name(c->model)) &&
      pc_realfs_check(ffs_model_fs((ffs_model)ffs_model_from_name(c->model)), err, sizeof err)) {
    fprintf(stderr, "powercut %s: %s\n", cmd, err);
    return 2;
  }
  if (pc_worker_init(&w, scratch_root(), timeout_ms, err, sizeof err)) {
    fprintf(stderr, "powercut %s: %s\n", cmd, err);
    return 2;
  }
  pc_case_format(c, id, sizeof id);
  o.keep_dir = keep;
  o.record_file = record;
  for (int i = 0; i < count; i++) {
    pc_run_case(&w, c, &o, &r);
    if (pc_interrupted) {
      pc_result_free(&r);
      return interrupted_exit(cmd, w.root);
    }
    if (i == 0) {
      if (!json) print_result(stdout, id, &r);
      snprintf(first, sizeof first, "%s", pc_result_verdict(&r));
      rc = verdict_exit(&r);
      nsame = 1;
      if (json) { /* printed after the last run, with the count */
        r0 = r;
        continue;
      }
    } else if (strcmp(first, pc_result_verdict(&r))) {
      same = 0;
      if (!json)
        fprintf(stdout, "run %d: verdict %s differs from the first run's %s\n", i + 1, pc_result_verdict(&r), first);
    } else {
      nsame++;
    }
    pc_result_free(&r);
  }
  if (json) {
    print_result_json(c, id, &r0, count, nsame);
    pc_result_free(&r0);
  }
  if (count > 1 && !json)
    fprintf(stdout, "repeat: %d runs, %s\n", count, same ? "same verdict every time" : "VERDICT CHANGED");
  if (keep && !json) fprintf(stdout, "kept:    %s (the data dir after the crash, before recovery)\n", keep);
  pc_worker_fini(&w);
  ffs_rm_rf(w.root);
  return same ? rc : 2;
}

static int cmd_run(int argc, char **argv) {
  static const struct option lo[] = {{"target", 1, 0, 't'}, {"workload", 1, 0, 'w'}, {"seed", 1, 0, 's'},
    {"fault", 1, 0, 'f'}, {"model", 1, 0, 'm'}, {"keep", 1, 0, 'k'}, {"timeout", 1, 0, 'T'},
    {"fs", 1, 0, 'F'}, {"backend", 1, 0, 'B'}, {"json", 0, 0, 'J'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  pc_case c = {0};
  const char *target = "sofadb", *keep = NULL, *fs = NULL, *backend = NULL;
  int have_model = 0, json = 0;
  int64_t tmo = 10000;
  int ch, rc;
  case_defaults(&c);
  while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
    switch (ch) {
    case 't': target = optarg; break;
    case 'w': snprintf(c.workload, sizeof c.workload, "%s", optarg); break;
    case 's': if (parse_u64(optarg, &c.seed)) return usage_error("run", "--seed: '%s' is not a number", optarg); break;
    case 'f': {
      char perr[300];
      if (pc_case_set_plan(&c, optarg, perr, sizeof perr)) return usage_error("run", "--fault: %s", perr);
      break;
    }
    case 'm': snprintf(c.model, sizeof c.model, "%s", optarg); have_model = 1; break;
    case 'F': fs = optarg; break;
    case 'k': keep = optarg; break;
    case 'B': backend = optarg; break;
    case 'J': json = 1; break;
    case 'T': if ((rc = parse_duration_ms(optarg, 1, PC_MAX_TIMEOUT_MS, &tmo))) return duration_error("run", "--timeout", optarg, rc, "1ms..24h"); break;
    case 'h':
      printf("usage: powercut run --target T[:opt=v,...] --workload W[:k=v,...] --seed S --fault PLAN\n"
             "                    [--model strict|ext4|xfs|reorder | --fs ext4|xfs|btrfs] [--keep DIR] [--timeout 10s]\n"
             "                    [--backend preload|seccomp|auto] [--json]\n"
             "Runs one case: the workload under the fault plan, then a power cut (unless the\n"
             "plan killed the process), recovery in a fresh process, and the oracle. Prints the\n"
             "verdict, the explanation and the case id. --keep DIR copies the crashed data dir\n"
             "to DIR: a new or empty directory, or one an earlier --keep filled (it holds\n"
             "" PC_KEEP_MARKER "); any other is refused. --timeout (1ms..24h) bounds each phase.\n"
             "--fs runs it on that real file system instead of a model (root, loop devices): a\n"
             "fresh loop-mounted image, the power cut is its shutdown ioctl, then unmount and\n"
             "mount; the case id's model is kernel-<fs>.\n"
             "--backend (exec targets): adds the target option backend= (preload: the shim;\n"
             "seccomp: the seccomp supervisor, for static and Go programs; auto: by the binary).\n"
             "--json: the case as one results.jsonl record (docs/reports.md) instead of the text.\n"
             "Exit 0 PASS, 1 violation, 2 error, 128+N stopped by signal N.\n\n"
             "--fault takes PLAN or PLAN>RPLAN: RPLAN's fault fires inside a first recovery,\n"
             "then a second, fault-free recovery is checked (e.g. none>crash@rename#1).\n"
             FFS_PLAN_GRAMMAR);
      return 0;
    default: return pc_option_error("run", argv, ch);
    }
  }
  if (optind < argc) return usage_error("run", "unexpected argument '%s'", argv[optind]);
  if (fs && have_model) return usage_error("run", "%s", "give --model or --fs, not both (--fs F is the model kernel-F)");
  if (fs) {
    char err[256];
    if (pc_realfs_check(fs, err, sizeof err)) {
      fprintf(stderr, "powercut run: %s\n", err);
      return 2;
    }
    snprintf(c.model, sizeof c.model, "kernel-%s", fs);
  }
  pc_target_spec_split(target, c.target, sizeof c.target, c.target_opts, sizeof c.target_opts);
  if ((rc = add_backend("run", backend, c.target, c.target_opts, sizeof c.target_opts))) return rc;
  return run_one("run", &c, keep, NULL, 1, (int)tmo, json);
}

static int cmd_repro(int argc, char **argv) {
  static const struct option lo[] = {{"keep", 1, 0, 'k'}, {"count", 1, 0, 'n'}, {"timeout", 1, 0, 'T'},
                                     {"json", 0, 0, 'J'}, {"record", 1, 0, 'R'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *keep = NULL, *record = NULL;
  uint64_t count = 1;
  int64_t tmo = 10000;
  int ch, rc, json = 0;
  pc_case c;
  char err[512];
  while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
    switch (ch) {
    case 'k': keep = optarg; break;
    case 'J': json = 1; break;
    case 'R': record = optarg; break;
    case 'n': if (parse_u64_range(optarg, 1, PC_MAX_COUNT, &count)) return usage_error("repro", "--count: '%s' is not a number in 1..1000000", optarg); break;
    case 'T': if ((rc = parse_duration_ms(optarg, 1, PC_MAX_TIMEOUT_MS, &tmo))) return duration_error("repro", "--timeout", optarg, rc, "1ms..24h"); break;
    case 'h':
      printf("usage: powercut repro ID [--keep DIR] [--count N] [--timeout 10s] [--json] [--record FILE]\n"
             "Re-runs the case named by ID (as printed by run/campaign) and prints its verdict.\n"
             "A trace state's id (plan trace:KIND@CUT,...) is rebuilt from a record of the workload:\n"
             "--record FILE (the one its campaign kept), or else a new recording, refused when it\n"
             "is not the record the id names (r=DIGEST).\n"
             "--keep DIR copies the crashed data dir (after the power-loss rollback, before\n"
             "recovery) to DIR: a new or empty directory, or one an earlier --keep filled (it\n"
             "holds " PC_KEEP_MARKER "); any other is refused. --count N (1..1000000) runs it N\n"
             "times and checks the verdict never changes. --timeout (1ms..24h) bounds each phase.\n"
             "--json: the case as one results.jsonl record (with --count, reruns and reproduced:\n"
             "the runs, and those with the first run's verdict).\n"
             "Exit 0 PASS, 1 violation, 2 error, 128+N stopped by signal N.\n");
      return 0;
    default: return pc_option_error("repro", argv, ch);
    }
  }
  if (optind != argc - 1) return usage_error("repro", "%s", "expects exactly one case id");
  if (pc_case_parse(argv[optind], &c, err, sizeof err)) return usage_error("repro", "%s", err);
  if (record && !pc_trace_plan_is(c.plan))
    return usage_error("repro", "--record is for a trace state's id (plan trace:...), not '%s'", c.plan);
  return run_one("repro", &c, keep, record, (int)count, (int)tmo, json);
}

/* minimize of a trace state's id (minimize.c pc_trace_minimize): 1 minimized, 0 the state
 * passes, 2 error or not minimizable */
static int minimize_trace(const pc_case *c, const char *record, const char *records, int budget, int rerun) {
  pc_trace_min m = {0};
  pc_worker w;
  char err[1400], id[2200], dir[1300];
  int mrc;
  if (!records) { /* beside the record given, else ./powercut-records */
    const char *slash = record ? strrchr(record, '/') : NULL;
    if (record && slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - record) ? (int)(slash - record) : 1, record);
    else snprintf(dir, sizeof dir, "%s", record ? "." : "powercut-records");
    records = dir;
  }
  if (pc_worker_init(&w, scratch_root(), 10000, err, sizeof err)) {
    fprintf(stderr, "powercut minimize: %s\n", err);
    return 2;
  }
  m.record = record;
  m.records_dir = records;
  m.budget = budget;
  m.rerun = rerun;
  m.check_rerecord = 1;
  mrc = pc_trace_minimize(&w, c, &m, err, sizeof err);
  if (pc_interrupted) return interrupted_exit("minimize", w.root);
  pc_worker_fini(&w);
  ffs_rm_rf(w.root);
  if (mrc == PC_ENOFAIL && !strcmp(m.want, "PASS")) {
    printf("verdict: PASS: nothing to minimize\n");
    return 0;
  }
  if (mrc) {
    pc_case_format(c, id, sizeof id);
    if (m.want[0]) fprintf(stderr, "powercut minimize: %s fails with %s but cannot be minimized: %s\n", id, m.want, err);
    else fprintf(stderr, "powercut minimize: %s: %s\n", id, err);
    return 2;
  }
  pc_case_format(&m.out, id, sizeof id);
  printf("verdict: %s (held through %d trial runs: %d recordings, the rest rebuilds; %" PRIu64 " states checked)\n"
         "minimal: %s\nrecord:  %s (%s)\n", m.want, m.runs, m.recordings, m.states, id, m.out_record,
         m.rerecord_same == 1   ? "a new recording of the workload gives the same record"
         : m.rerecord_same == 0 ? "a new recording of the workload gives another record: repro needs this one"
                                : "kept");
  {
    char *cmd = NULL, q[2700];
    int rc = rpt_repro_command(id, &cmd);
    size_t j = 0;
    for (const char *p = m.out_record; *p && j + 5 < sizeof q; p++) { /* single-quoted for a shell */
      if (*p == '\'') memcpy(q + j, "'\\''", 4), j += 4;
      else q[j++] = *p;
    }
    q[j] = '\0';
    printf("repro:   %s --record '%s' --count 20\n", rc ? rpt_strerror(rc) : cmd, q);
    free(cmd);
  }
  return 1;
}

static int cmd_minimize(int argc, char **argv) {
  static const struct option lo[] = {{"budget", 1, 0, 'b'}, {"rerun", 1, 0, 'r'}, {"record", 1, 0, 'R'},
                                     {"records", 1, 0, 'D'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  uint64_t budget = 200, rerun = 5;
  int ch, runs = 0, mrc;
  const char *record = NULL, *records = NULL;
  pc_case c, m;
  pc_worker w;
  pc_result r;
  char err[1024], id[2200], verdict[32];
  while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
    switch (ch) {
    case 'b': if (parse_u64_range(optarg, 1, PC_MAX_COUNT, &budget)) return usage_error("minimize", "--budget: '%s' is not a number in 1..1000000", optarg); break;
    case 'r': if (parse_u64_range(optarg, 1, PC_MAX_RERUN, &rerun)) return usage_error("minimize", "--rerun: '%s' is not a number in 1..100", optarg); break;
    case 'R': record = optarg; break;
    case 'D': records = optarg; break;
    case 'h':
      printf("usage: powercut minimize ID [--budget RUNS] [--rerun K] [--record FILE] [--records DIR]\n"
             "Shrinks a failing case (fewer ops, earlier fault, fewer rules) while the same\n"
             "verdict holds with the fault firing, and prints the minimal case id. A candidate\n"
             "fails when any of its K runs (--rerun 1..100, default 5) gives the verdict; one\n"
             "whose fault does not fire is never taken. --budget (1..1000000, default 200) caps\n"
             "the trial runs. Exit 1 when minimized, 0 if the case passes in K runs (nothing to\n"
             "minimize), 2 on error, 128+N stopped by signal N.\n"
             "A trace state's id (plan trace:...) is rebuilt from --record FILE (else a new\n"
             "recording, refused unless it is the id's record), then its workload is recorded\n"
             "again with fewer ops (up to K recordings per count) and each record's earliest cut\n"
             "whose simplest state (kill, crash, torn) gives the verdict is taken when its K\n"
             "rebuilds all give it. The minimal state's record is kept as DIR/<digest>.rec\n"
             "(--records DIR; default: the directory of --record FILE, else ./powercut-records).\n");
      return 0;
    default: return pc_option_error("minimize", argv, ch);
    }
  }
  if (optind != argc - 1) return usage_error("minimize", "%s", "expects exactly one case id");
  if (pc_case_parse(argv[optind], &c, err, sizeof err) || pc_case_validate(&c, err, sizeof err))
    return usage_error("minimize", "%s", err);
  if (pc_trace_plan_is(c.plan)) return minimize_trace(&c, record, records, (int)budget, (int)rerun);
  if (record || records)
    return usage_error("minimize", "--record and --records are for a trace state's id (plan trace:...), not '%s'", c.plan);
  if (pc_worker_init(&w, scratch_root(), 10000, err, sizeof err)) {
    fprintf(stderr, "powercut minimize: %s\n", err);
    return 2;
  }
  pc_run_opts o = {0};
  for (uint64_t i = 0; i < rerun; i++) { /* a flaky failure may pass a run: try K times */
    pc_run_case(&w, &c, &o, &r);
    snprintf(verdict, sizeof verdict, "%s", pc_result_verdict(&r));
    pc_result_free(&r);
    if (pc_interrupted) return interrupted_exit("minimize", w.root);
    if (strcmp(verdict, "PASS")) break;
  }
  if (!strcmp(verdict, "PASS") || !strcmp(verdict, "ERROR")) {
    printf("verdict: %s: nothing to minimize\n", verdict);
    ffs_rm_rf(w.root);
    return !strcmp(verdict, "PASS") ? 0 : 2;
  }
  mrc = pc_minimize(&w, &c, verdict, (int)budget, (int)rerun, &m, &runs);
  if (pc_interrupted) return interrupted_exit("minimize", w.root);
  pc_case_format(&m, id, sizeof id);
  ffs_rm_rf(w.root);
  if (mrc) {
    fprintf(stderr, "powercut minimize: the case fails with %s but cannot be minimized: %s\n", verdict,
            mrc == PC_ENOTFIRED ? "its fault does not fire (the verdict comes from the end-of-run power cut) "
                                  "and the same case without a fault does not fail"
                                : pc_strerror(mrc));
    return 2;
  }
  printf("verdict: %s (held through %d trial runs)\nminimal: %s\n", verdict, runs, id);
  {
    char *cmd = NULL;
    int rc = rpt_repro_command(id, &cmd);
    printf("repro:   %s\n", rc ? rpt_strerror(rc) : cmd);
    free(cmd);
  }
  return 1;
}

/* ---- trace ---- */
static void path_class(const char *p, char *out, size_t len) {
  /* 000012.log -> *.log ; MANIFEST-000003 -> MANIFEST-* ; digits runs become '*' */
  size_t o = 0;
  for (const char *s = p; *s && o + 1 < len;) {
    if (*s >= '0' && *s <= '9') {
      while (*s >= '0' && *s <= '9') s++;
      out[o++] = '*';
    } else out[o++] = *s++;
  }
  out[o] = '\0';
}

static int cmd_trace(int argc, char **argv) {
  static const struct option lo[] = {{"target", 1, 0, 't'}, {"workload", 1, 0, 'w'}, {"seed", 1, 0, 's'},
    {"full", 0, 0, 'F'}, {"model", 1, 0, 'm'}, {"backend", 1, 0, 'B'}, {"json", 0, 0, 'J'},
    {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  pc_case c = {0};
  const char *target = "sofadb", *backend = NULL;
  int ch, full = 0, rc, json = 0;
  case_defaults(&c);
  while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
    switch (ch) {
    case 't': target = optarg; break;
    case 'w': snprintf(c.workload, sizeof c.workload, "%s", optarg); break;
    case 's': if (parse_u64(optarg, &c.seed)) return usage_error("trace", "--seed: '%s' is not a number", optarg); break;
    case 'm': snprintf(c.model, sizeof c.model, "%s", optarg); break;
    case 'F': full = 1; break;
    case 'B': backend = optarg; break;
    case 'J': json = 1; break;
    case 'h':
      printf("usage: powercut trace --target T --workload W --seed S [--full] [--backend B] [--json]\n"
             "Dry run without faults: lists the crash-point space, i.e. the tracked syscalls\n"
             "per kind and path class (digits shown as *), with the plan that aims at the\n"
             "first and last of each. --full prints every call. --backend as for run.\n"
             "--json: one object {target, workload, seed, ops, tracked_syscalls,\n"
             "verdict_without_faults, rows: [{syscall, path, calls, first, last}], per_kind}.\n"
             "Exit 0, or 2 when the run without faults cannot be recovered (RECOVERY_*).\n");
      return 0;
    default: return pc_option_error("trace", argv, ch);
    }
  }
  pc_target_spec_split(target, c.target, sizeof c.target, c.target_opts, sizeof c.target_opts);
  {
    int brc = add_backend("trace", backend, c.target, c.target_opts, sizeof c.target_opts);
    if (brc) return brc;
  }
  char err[1024];
  pc_worker w;
  pc_run_opts o = {0};
  pc_result r;
  if (pc_case_validate(&c, err, sizeof err)) return usage_error("trace", "%s", err);
  if (pc_worker_init(&w, scratch_root(), 30000, err, sizeof err)) {
    fprintf(stderr, "powercut trace: %s\n", err);
    return 2;
  }
  o.trace = 1;
  pc_run_case(&w, &c, &o, &r);
  if (pc_interrupted) {
    pc_result_free(&r);
    return interrupted_exit("trace", w.root);
  }
  if (r.error) {
    fprintf(stderr, "powercut trace: %s\n", r.note);
    pc_result_free(&r);
    ffs_rm_rf(w.root);
    return 2;
  }
  ffs_trace *tr;
  ffs_trace_rec *rec = malloc(sizeof *rec);
  struct row { int op; char cls[128]; uint64_t n; uint64_t first, last; } rows[256];
  int nrows = 0;
  uint64_t per_op[FFS_OP_COUNT] = {0}, total = 0;
  if (!rec || ffs_trace_open(w.trace, &tr)) { fprintf(stderr, "powercut trace: no trace\n"); return 2; }
  while (ffs_trace_next(tr, rec) == 1) {
    char line[2 * FFS_PATH_MAX + FFS_SITE_NAME_MAX + 256], cls[128];
    if (full && !json && ffs_trace_format(rec, line, sizeof line) >= 0) printf("%s\n", line);
    if (rec->dur & FFS_DUR_WARN) continue;
    uint64_t k = ++per_op[rec->op];
    total++;
    path_class(rec->path, cls, sizeof cls);
    int i;
    for (i = 0; i < nrows; i++) if (rows[i].op == (int)rec->op && !strcmp(rows[i].cls, cls)) break;
    if (i == nrows && nrows < 256) {
      rows[nrows].op = rec->op;
      snprintf(rows[nrows].cls, sizeof rows[nrows].cls, "%s", cls);
      rows[nrows].n = 0;
      rows[nrows].first = k;
      nrows++;
    }
    if (i < nrows) { rows[i].n++; rows[i].last = k; }
  }
  ffs_trace_close(tr);
  free(rec);
  if (json) { /* the same figures as one JSON object */
    cJSON *jo = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(jo, "rows"), *k;
    cJSON_AddStringToObject(jo, "target", c.target);
    cJSON_AddStringToObject(jo, "workload", c.workload);
    cJSON_AddNumberToObject(jo, "seed", (double)c.seed);
    cJSON_AddNumberToObject(jo, "ops", (double)r.orc.ops_issued);
    cJSON_AddNumberToObject(jo, "tracked_syscalls", (double)total);
    cJSON_AddStringToObject(jo, "verdict_without_faults", pc_result_verdict(&r));
    for (int i = 0; i < nrows; i++) {
      cJSON *row = cJSON_CreateObject();
      cJSON_AddStringToObject(row, "syscall", ffs_op_name(rows[i].op));
      cJSON_AddStringToObject(row, "path", rows[i].cls);
      cJSON_AddNumberToObject(row, "calls", (double)rows[i].n);
      cJSON_AddNumberToObject(row, "first", (double)rows[i].first);
      cJSON_AddNumberToObject(row, "last", (double)rows[i].last);
      cJSON_AddItemToArray(a, row);
    }
    k = cJSON_AddObjectToObject(jo, "per_kind");
    for (int op = 0; op < FFS_OP_COUNT; op++)
      if (per_op[op]) cJSON_AddNumberToObject(k, ffs_op_name(op), (double)per_op[op]);
    char *text = cJSON_PrintUnformatted(jo);
    if (text) printf("%s\n", text);
    free(text);
    cJSON_Delete(jo);
  } else {
  printf("workload %s seed %" PRIu64 " on %s: %" PRIu64 " ops, %" PRIu64 " tracked syscalls, verdict without faults: %s\n",
         c.workload, c.seed, c.target, r.orc.ops_issued, total, pc_result_verdict(&r));
  printf("%-10s %-22s %8s  %s\n", "syscall", "path", "calls", "aim (first / last of this path class)");
  for (int i = 0; i < nrows; i++)
    printf("%-10s %-22s %8" PRIu64 "  crash@%s#%" PRIu64 " / crash@%s#%" PRIu64 "\n", ffs_op_name(rows[i].op),
           rows[i].cls, rows[i].n, ffs_op_name(rows[i].op), rows[i].first, ffs_op_name(rows[i].op), rows[i].last);
  printf("per kind:");
  for (int op = 0; op < FFS_OP_COUNT; op++) if (per_op[op]) printf(" %s=%" PRIu64, ffs_op_name(op), per_op[op]);
  printf("\n");
  }
  rc = r.orc.verdict >= ORC_RECOVERY_FAILED; /* the target cannot even recover its own fault-free run */
  if (rc)
    fprintf(stderr, "powercut trace: the run without faults ends in %s: %s\n", pc_result_verdict(&r),
            r.orc.explanation ? r.orc.explanation : "");
  pc_result_free(&r);
  ffs_rm_rf(w.root);
  return rc ? 2 : 0;
}

/* ---- campaign ---- */
static int cmd_campaign(int argc, char **argv) {
  static const struct option lo[] = {{"target", 1, 0, 't'}, {"workload", 1, 0, 'w'}, {"faults", 1, 0, 'f'},
    {"models", 1, 0, 'm'}, {"cases", 1, 0, 'c'}, {"time", 1, 0, 'T'}, {"seed", 1, 0, 's'},
    {"jobs", 1, 0, 'j'}, {"shard", 1, 0, 'S'}, {"out", 1, 0, 'o'}, {"timeout", 1, 0, 'O'},
    {"no-minimize", 0, 0, 'N'}, {"quiet", 0, 0, 'q'}, {"fs", 1, 0, 'F'}, {"reach", 1, 0, 'R'},
    {"rerun", 1, 0, 'K'}, {"backend", 1, 0, 'B'}, {"trace", 0, 0, 'X'}, {"live", 0, 0, 'L'},
    {"order", 1, 0, 'Y'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  pc_campaign_opts o = {0};
  int trace_mode = -1; /* -1: trace states unless the options need live cases */
  const char *reach = NULL;
  static char workloads[4096], target[64], argvs[4096], fsmodels[128], reachm[128];
  const char *fs = NULL;
  int have_models = 0, have_seed = 0;
  const char *tspec = "sofadb", *backend = NULL;
  int ch, have_budget = 0, rc;
  int64_t tmo = 10000;
  long nproc = sysconf(_SC_NPROCESSORS_ONLN);
  o.faults = ffs_action_list(1);
  o.models = "strict,ext4";
  o.jobs = nproc > 0 ? (int)(nproc > 64 ? 64 : nproc) : 1;
  o.shard_k = o.shard_n = 1;
  o.out_dir = "powercut-report";
  o.minimize_budget = 60;
  o.rerun = 5;
  workloads[0] = '\0';
  while ((ch = getopt_long(argc, argv, ":j:", lo, NULL)) != -1) {
    switch (ch) {
    case 't': tspec = optarg; break;
    case 'w':
      if (strlen(workloads) + strlen(optarg) + 2 > sizeof workloads) return usage_error("campaign", "%s", "too many workloads");
      if (workloads[0]) strcat(workloads, " ");
      strcat(workloads, optarg);
      break;
    case 'f': o.faults = optarg; break;
    case 'm': o.models = optarg; have_models = 1; break;
    case 'F': fs = optarg; break;
    case 'R': reach = optarg; break;
    case 'c': if (parse_u64_range(optarg, 1, PC_MAX_CASES, &o.cases)) return usage_error("campaign", "--cases: '%s' is not a number in 1..1000000000000", optarg); have_budget++; break;
    case 'T': if ((rc = parse_duration_ms(optarg, 1, PC_MAX_TIME_MS, &o.time_ms))) return duration_error("campaign", "--time", optarg, rc, "1ms..366 days, e.g. 60s, 5m"); have_budget++; break;
    case 's':
      /* results.jsonl readers keep integers exact below 2^53 (docs/reports.md);
         leave room for the random cases' seed + 1 + i */
      if (parse_u64(optarg, &o.seed) || o.seed >= (1ull << 52))
        return usage_error("campaign", "--seed: '%s' is not a number below 2^52", optarg);
      have_seed = 1;
      break;
    case 'j': { uint64_t j; if (parse_u64(optarg, &j) || !j || j > 64) return usage_error("campaign", "--jobs: '%s' is not 1..64", optarg); o.jobs = (int)j; } break;
    case 'S': {
      char kb[32];
      const char *slash = strchr(optarg, '/');
      uint64_t k, n;
      if (!slash || (size_t)(slash - optarg) >= sizeof kb ||
          (snprintf(kb, sizeof kb, "%.*s", (int)(slash - optarg), optarg), 0) ||
          parse_u64_range(kb, 1, 1000000, &k) || parse_u64_range(slash + 1, 1, 1000000, &n) || k > n)
        return usage_error("campaign", "--shard: '%s' is not K/N with 1 <= K <= N <= 1000000", optarg);
      o.shard_k = (int)k; o.shard_n = (int)n;
    } break;
    case 'o': o.out_dir = optarg; break;
    case 'O': if ((rc = parse_duration_ms(optarg, 1, PC_MAX_TIMEOUT_MS, &tmo))) return duration_error("campaign", "--timeout", optarg, rc, "1ms..24h"); break;
    case 'N': o.minimize_budget = 0; break;
    case 'K': { uint64_t k; if (parse_u64_range(optarg, 1, PC_MAX_RERUN, &k)) return usage_error("campaign", "--rerun: '%s' is not a number in 1..100", optarg); o.rerun = (int)k; } break;
    case 'q': o.quiet = 1; break;
    case 'B': backend = optarg; break;
    case 'X': trace_mode = 1; break;
    case 'L': trace_mode = 0; break;
    case 'Y':
      if (strcmp(optarg, "sites") && strcmp(optarg, "kinds"))
        return usage_error("campaign", "--order: '%s' is not sites or kinds", optarg);
      o.order_kinds = !strcmp(optarg, "kinds");
      break;
    case 'h':
      printf("usage: powercut campaign --target T[:opt=v,...] [--workload W[:k=v,...]]...\n"
             "         [--faults kill,crash,crash-after,torn,eio,enospc] [--models strict,ext4]\n"
             "         (--cases N | --time 60s) [--seed S] [-j|--jobs J] [--shard K/N]\n"
             "         [--out DIR] [--timeout 10s] [--no-minimize] [--quiet] [--fs ext4,xfs]\n"
             "         [--reach ext4,xfs|none] [--rerun K] [--trace | --live] [--order sites|kinds]\n"
             "         [--backend preload|seccomp|auto]   (exec targets: the option backend=)\n"
             "Runs many cases. Live cases: first one at the first call of each crash site (a\n"
             "distinct call stack) seen in a dry run of each workload, per fault kind aimed at\n"
             "it; then a\n"
             "systematic sweep over every crash point of each syscall kind (interleaved so a\n"
             "budget cut short still covers every kind), then seeded random cases. --order\n"
             "kinds leaves the sites out of the order (the sweep first); the report counts the\n"
             "sites crashed at either way. Failures are minimized and their\n"
             "crashed data dir is kept in DIR/artifacts. Writes DIR/results.jsonl, meta.json,\n"
             "summary.json, junit.xml and index.html. --shard K/N runs a disjoint slice of the\n"
             "same case list (merge with `powercut report`). Without --workload the campaign\n"
             "spreads its cases from the first ones over workloads (mixed reopen sizes views\n"
             "churn bank large, and mixed:threads=4 on a thread-safe target), the target's modes\n"
             "(sofadb: its defaults and deterministic=0; not when the target has options), seeds\n"
             "(each arm its own, not with --seed) and models (strict,ext4,xfs,reorder, not with\n"
             "--models); with --workload: --models strict,ext4, --seed 0, the target as given.\n"
             "Defaults: --jobs = cores, --out powercut-report. DIR must be new, empty, or an\n"
             "earlier campaign's (it holds " PC_REPORT_MARKER "). Ranges: --cases 1..10^12,\n"
             "--time 1ms..366 days, --timeout (per phase of a case) 1ms..24h, --jobs 1..64.\n"
             "--fs runs every case on those real file systems instead of --models (root, loop\n"
             "devices): models kernel-<fs>, each case on a fresh copy of a loop-mounted image.\n"
             "--reach re-runs every violation found under a model on those real file systems\n"
             "and reports where it is reachable (the first 8 per job); default ext4,xfs when\n"
             "root with loop devices.\n"
             "Failures are grouped by signature (verdict, key-diff shape, syscall, path class):\n"
             "the first 3 of a group are minimized and keep a tarball taken from a run that\n"
             "failed; the smallest case of each group is re-run K times (--rerun 1..100,\n"
             "default 5) and its rate reported (\"reproduced 4/5\").\n"
             "SIGINT, SIGTERM or SIGHUP stops the workers, writes the report of the cases\n"
             "verified so far marked interrupted, and exits 128+N (130, 143, 129).\n"
             "By default (--trace) the kinds a record covers (kill, kill-after, crash,\n"
             "crash-after, torn) are trace-based crash states: each workload is recorded once\n"
             "and every cut point of its record is built, under each model (reorder: seeded\n"
             "subsets, none and all), each distinct state recovered once; ids have the plan\n"
             "trace:KIND@CUT,...,r=DIGEST and the record is kept in DIR/records. Live cases\n"
             "run first: the other kinds (eio, enospc, edquot, short, flip change what the\n"
             "program does next) and every kind's crash points inside recovery; they get\n"
             "--cases N cases or half of --time, the trace states every cut point within the\n"
             "rest of --time. --live: every case is a run of the workload (the sites, the\n"
             "sweep, random cases above), as are campaigns with --fs, --shard or a kernel-*\n"
             "model.\n"
             "Exit 0 when every case passed (and at least one ran), 1 on a violation, 2 on a\n"
             "usage or setup error.\n");
      return 0;
    default: return pc_option_error("campaign", argv, ch);
    }
  }
  if (optind < argc) return usage_error("campaign", "unexpected argument '%s'", argv[optind]);
  if (have_budget != 1) return usage_error("campaign", "%s", "give exactly one of --cases N or --time DURATION");
  if (fs && have_models) return usage_error("campaign", "%s", "give --models or --fs, not both (--fs F is the model kernel-F)");
  if (fs && pc_realfs_models(fs, fsmodels, sizeof fsmodels, argvs, sizeof argvs)) {
    fprintf(stderr, "powercut campaign: %s\n", argvs);
    return 2;
  }
  if (fs) o.models = fsmodels;
  argvs[0] = '\0';
  if (reach && strcmp(reach, "none")) {
    if (pc_realfs_models(reach, reachm, sizeof reachm, argvs, sizeof argvs)) {
      fprintf(stderr, "powercut campaign: --reach: %s\n", argvs);
      return 2;
    }
    argvs[0] = '\0';
    o.reach = reach;
  } else if (!reach) {
    char why[256] = "";
    o.reach = pc_realfs_reach_default(why, sizeof why);
    if (!o.reach[0] && !o.quiet) fprintf(stderr, "powercut: violations are not re-run on real file systems: %s\n", why);
  } else {
    o.reach = "";
  }
  static char topts[512];
  pc_target_spec_split(tspec, target, sizeof target, topts, sizeof topts);
  if ((rc = add_backend("campaign", backend, target, topts, sizeof topts))) return rc;
  o.target = target;
  o.target_opts = topts;
  if (!workloads[0]) {
    /* the default spread: every dimension the user did not choose (docs/powercut.md) */
    o.spread = 1;
    o.spread_modes = !topts[0];
    o.spread_seeds = !have_seed;
    snprintf(workloads, sizeof workloads, "%s", pc_spread_workloads(pc_target_find(target)));
    if (!have_models && !fs) o.models = PC_SPREAD_MODELS;
  }
  o.workloads = workloads;
  o.timeout_ms = (int)tmo;
  o.work_dir = scratch_root();
  for (int i = 0; i < argc; i++) {
    if (strlen(argvs) + strlen(argv[i]) + 2 >= sizeof argvs) break;
    if (i) strcat(argvs, " ");
    strcat(argvs, argv[i]);
  }
  o.argv = argvs;
  if (trace_mode == 1 && fs) return usage_error("campaign", "%s", "--trace builds states under the models; --fs runs live cases (--live)");
  if (trace_mode == 1 && o.shard_n > 1) return usage_error("campaign", "%s", "--shard is for live cases (--live); a trace campaign splits its cut points over --jobs");
  if (trace_mode < 0) /* real file systems and shards have live cases only */
    trace_mode = !fs && o.shard_n == 1 && !strstr(o.models, "kernel-");
  unsigned kinds = trace_mode ? pc_trace_kinds(o.faults) : 0;
  rc = kinds ? pc_trace_campaign(&o, kinds) : pc_campaign(&o);
  pc_realfs_sweep(o.work_dir); /* mounts of --fs workers stopped by a signal */
  ffs_rm_rf(o.work_dir);
  return rc;
}

/* ---- fidelity ---- */
static int cmd_fidelity(int argc, char **argv) {
  static const struct option lo[] = {{"models", 1, 0, 'm'}, {"fs", 1, 0, 'F'}, {"cases", 1, 0, 'c'},
    {"timeout", 1, 0, 'O'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *models = "strict,ext4,xfs", *fs = "ext4,xfs";
  uint64_t limit = UINT64_MAX;
  int64_t tmo = 10000;
  int ch, rc;
  while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
    switch (ch) {
    case 'm': models = optarg; break;
    case 'F': fs = optarg; break;
    case 'c': if (parse_u64_range(optarg, 1, PC_MAX_CASES, &limit)) return usage_error("fidelity", "--cases: '%s' is not a number in 1..1000000000000", optarg); break;
    case 'O': if ((rc = parse_duration_ms(optarg, 1, PC_MAX_TIMEOUT_MS, &tmo))) return duration_error("fidelity", "--timeout", optarg, rc, "1ms..24h"); break;
    case 'h':
      printf("usage: powercut fidelity RESULTS... [--models strict,ext4,xfs] [--fs ext4,xfs] [--cases N] [--timeout 10s]\n"
             "Takes the power-cut cases of campaign results (dirs or results.jsonl) and runs each\n"
             "under every model, as a kill at the same point (the page cache), and on every real\n"
             "file system (root, loop devices). Prints per model and file system how often the\n"
             "real state is one the model allows, how many of the model's violations are not\n"
             "reachable there, and how many real violations the model passes (docs/faultfs.md).\n"
             "Exit 0; 1 when a model is not sound for the file system it is named after.\n");
      return 0;
    default: return pc_option_error("fidelity", argv, ch);
    }
  }
  if (optind >= argc) return usage_error("fidelity", "%s", "give at least one campaign results dir or file");
  rc = pc_fidelity((const char *const *)argv + optind, argc - optind, models, fs, limit, (int)tmo,
                       scratch_root(), stdout);
  ffs_rm_rf(scratch_root());
  return rc;
}

/* ---- report / targets ---- */
static int cmd_report(int argc, char **argv) {
  static const struct option lo[] = {{"out", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *out = NULL;
  int ch;
  rpt_set *s = NULL;
  char err[1024];
  while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
    switch (ch) {
    case 'o': out = optarg; break;
    case 'h':
      printf("usage: powercut report DIR|results.jsonl... [--out DIR]\n"
             "Regenerates summary.json, junit.xml and index.html from results, merging shards\n"
             "(several DIRs) by concatenation. Default --out: the first DIR (one input only).\n"
             "Exit 1 when the results hold a violation.\n");
      return 0;
    default: return pc_option_error("report", argv, ch);
    }
  }
  if (optind >= argc) return usage_error("report", "%s", "give at least one results dir or file");
  if (!out) {
    if (argc - optind > 1) return usage_error("report", "%s", "merging shards needs --out DIR");
    out = argv[optind];
  }
  if (rpt_load((const char *const *)argv + optind, argc - optind, &s, err, sizeof err) ||
      rpt_write_all(s, out, err, sizeof err)) {
    fprintf(stderr, "powercut report: %s\n", err);
    rpt_set_free(s);
    return 2;
  }
  rpt_print_summary(s, stdout);
  printf("report: %s/index.html\n", out);
  int rc = rpt_set_failures(s) > 0;
  rpt_set_free(s);
  return rc;
}


int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : NULL;
  char *help_argv[4];
  int rc;
  opterr = 0; /* pc_option_error says what was wrong, in one line */
  if (cmd && !strcmp(cmd, "help") && argc > 2) { /* help COMMAND = COMMAND --help */
    help_argv[0] = argv[0], help_argv[1] = argv[2], help_argv[2] = "--help", help_argv[3] = NULL;
    argc = 3, argv = help_argv, cmd = argv[1];
  }
  if (!cmd || !strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(USAGE, cmd ? stdout : stderr);
    return cmd ? 0 : 2;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
    printf("powercut %s\n", PC_VERSION);
    return 0;
  }
  if (!strcmp(cmd, "targets")) {
    if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
      printf("usage: powercut targets [--json]\nLists the built-in targets, their options and contracts;\n"
             "--json: one JSON array of {name, about, options, contract: [flags]}.\n");
      return 0;
    }
    if (argc > 2 && strcmp(argv[2], "--json")) {
      fprintf(stderr, "powercut targets: unknown option '%s' (see `powercut targets --help`)\n", argv[2]);
      return 2;
    }
    pc_target_list(stdout, argc > 2);
    return 0;
  }
  if (!strcmp(cmd, "report")) return cmd_report(argc - 1, argv + 1);
  if (!strcmp(cmd, "bench-recovery")) return pc_cmd_bench_recovery(argc - 1, argv + 1);
  if (!strcmp(cmd, "bench")) return pc_cmd_bench(argc - 1, argv + 1);
  if (strcmp(cmd, "run") && strcmp(cmd, "repro") && strcmp(cmd, "minimize") && strcmp(cmd, "trace") &&
      strcmp(cmd, "campaign") && strcmp(cmd, "fidelity")) {
    fprintf(stderr, "powercut: unknown command '%s'\n\n%s", cmd, USAGE);
    return 2;
  }
  {
    int want_help = 0;
    for (int i = 2; i < argc; i++) want_help |= !strcmp(argv[i], "--help");
    if (!want_help && (rc = ensure_shim(argv))) return rc;
  }
  pc_signals_install();
  if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "repro")) return cmd_repro(argc - 1, argv + 1);
  if (!strcmp(cmd, "minimize")) return cmd_minimize(argc - 1, argv + 1);
  if (!strcmp(cmd, "trace")) return cmd_trace(argc - 1, argv + 1);
  if (!strcmp(cmd, "fidelity")) return cmd_fidelity(argc - 1, argv + 1);
  return cmd_campaign(argc - 1, argv + 1);
}
