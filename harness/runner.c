/*
 * runner.c - one case, start to verdict.
 *
 *   1. fork the driver from this (prepared) process; the child configures the
 *      already-loaded shim with the case's plan and runs the workload, logging
 *      every op and outcome outside the data dir;
 *   2. decide how the case ended (kill, power cut, end of workload) from the
 *      shim's fired record and the child's exit status, and apply the
 *      power-loss rollback from the parent when it was a power cut;
 *   3. when the case has a recovery plan (PLAN>RPLAN): a first recovery, the
 *      target's open alone, under RPLAN in a fresh shim state; it ends in
 *      RPLAN's fault or, when that does not fire, in a power cut right after
 *      the open returned (invariant 1); the parent rolls back as in step 2.
 *      Then recover with no faults (recovery.c: a fresh child, or an external
 *      target's long-lived recovery server): time open(), read back every key,
 *      hand the state to the parent through a file;
 *   4. run the oracle.
 *
 * Invariants:
 *   (1) The end of a workload is a power cut (the driver never closes the
 *       target), so every case checks durability, not only the faulted ones.
 *   (2) The parent rolls back after every power cut (ffs_rollback is
 *       idempotent), so a child killed from outside, by the timeout, is
 *       rolled back as well as one that cut its own power.
 *   (3) A plain kill is never rolled back: the page cache survives it.
 *   (4) The harness never calls a case clean when the shim could not see it: an
 *       external target's program that never announced the shim (handshake file
 *       in the state dir) is an ERROR, and a dry run (a plan with no rules) whose
 *       data dir holds changes the shim did not track is an ERROR naming them.
 */
#include "harness_int.h"
#include "targets/targets.h"
#include "tracecase.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_CONFIGURE 90
#define EXIT_DRIVER 91
#define EXIT_RECOVERY_OPEN PC_EXIT_RECOVERY_OPEN
#define EXIT_RECOVERY_SCAN PC_EXIT_RECOVERY_SCAN
#define EXIT_RECOVERY_HANG PC_EXIT_RECOVERY_HANG

/* Cumulative per-phase time of this process's cases (POWERCUT_PROFILE=1). */
static int64_t prof_us[5];
static uint64_t prof_cases;
static const char *const prof_names[5] = {"prepare", "workload", "rollback", "recovery", "oracle"};

void pc_profile_print(FILE *f) {
  if (!getenv("POWERCUT_PROFILE") || !prof_cases) return;
  fprintf(f, "profile (pid %d, %llu cases):", (int)getpid(), (unsigned long long)prof_cases);
  for (int i = 0; i < 5; i++)
    fprintf(f, " %s %.0f us", prof_names[i], (double)prof_us[i] / (double)prof_cases);
  fprintf(f, " per case\n");
}

int pc_worker_init(pc_worker *w, const char *root, int timeout_ms, char *err, size_t errlen) {
  int rc;
  memset(w, 0, sizeof *w);
  if (strlen(root) >= sizeof w->root) {
    snprintf(err, errlen, "work dir path too long: %s", root);
    return PC_EINVAL;
  }
  snprintf(w->root, sizeof w->root, "%s", root);
  snprintf(w->data, sizeof w->data, "%s/data", root);
  snprintf(w->state, sizeof w->state, "%s/state", root);
  snprintf(w->oplog, sizeof w->oplog, "%s/oplog", root);
  snprintf(w->recov, sizeof w->recov, "%s/recovered", root);
  snprintf(w->trace, sizeof w->trace, "%s/trace", root);
  snprintf(w->rstate, sizeof w->rstate, "%s/rstate", root);
  snprintf(w->rtrace, sizeof w->rtrace, "%s/rtrace", root);
  snprintf(w->wcache, sizeof w->wcache, "%s/wcache", root);
  if ((rc = rpt_mkdir_p(root))) {
    snprintf(err, errlen, "mkdir %s: %s", root, strerror(-rc));
    return PC_ESETUP;
  }
  w->configure = (ffs_shim_configure_fn)dlsym(RTLD_DEFAULT, FFS_SHIM_CONFIGURE_SYM);
  w->timeout_ms = timeout_ms;
  w->fs = NULL;
  w->rs_to = w->rs_from = -1;
  return 0;
}

/* A case resolved once, before it runs: its target, workload parameters (with the target's
 * capabilities), model, whether the plan is a dry run (no rules), and the fault the report
 * names (the plan's first rule, else "recovery:" and the recovery plan's). */
typedef struct pc_case_res {
  const pc_target *target;
  wl_params wp;
  ffs_model model;
  int dry;
  char fault_kind[32];
  char fault_op[32];
} pc_case_res;
/* Validates and resolves a case: target, options, workload spec, plans, model. 0 or
 * PC_EINVAL with the reason in err (fault_kind and fault_op are set either way). */
static int pc_case_resolve(const pc_case *c, pc_case_res *res, char *err, size_t errlen);

/* The fault a case's report names: the plan's first rule, or, when the plan has none, the
 * recovery plan's as "recovery:ACTION". Plans that do not parse name "none". */
static void case_fault(const pc_case *c, pc_case_res *out) {
  ffs_plan *plan = NULL;
  char err[64];
  snprintf(out->fault_kind, sizeof out->fault_kind, "none");
  out->fault_op[0] = '\0';
  out->dry = 0;
  if (ffs_plan_parse(c->plan, &plan, err, sizeof err) == 0) {
    out->dry = plan->nrules == 0;
    if (plan->nrules > 0) {
      snprintf(out->fault_kind, sizeof out->fault_kind, "%s", ffs_action_name(plan->rules[0].action));
      snprintf(out->fault_op, sizeof out->fault_op, "%s", ffs_op_name(plan->rules[0].op));
    }
  }
  ffs_plan_free(plan);
  plan = NULL;
  if (c->rplan[0] && !strcmp(out->fault_kind, "none") && ffs_plan_parse(c->rplan, &plan, err, sizeof err) == 0 &&
      plan->nrules > 0) {
    snprintf(out->fault_kind, sizeof out->fault_kind, "recovery:%s", ffs_action_name(plan->rules[0].action));
    snprintf(out->fault_op, sizeof out->fault_op, "%s", ffs_op_name(plan->rules[0].op));
  }
  ffs_plan_free(plan);
}

int pc_case_validate(const pc_case *c, char *err, size_t errlen) {
  if (pc_trace_plan_is(c->plan)) return pc_trace_validate(c, err, errlen);
  pc_case_res res;
  return pc_case_resolve(c, &res, err, errlen);
}

static int pc_case_resolve(const pc_case *c, pc_case_res *res, char *err, size_t errlen) {
  const pc_target *t = pc_target_find(c->target);
  wl_params wp;
  ffs_plan *plan = NULL;
  char msg[512];
  int rc, model;
  memset(res, 0, sizeof *res);
  case_fault(c, res);
  if (!t) {
    snprintf(err, errlen, "unknown target '%s' (see `powercut targets`)", c->target);
    return PC_EINVAL;
  }
  if ((rc = wl_spec_parse(c->workload, &wp, msg, sizeof msg))) {
    snprintf(err, errlen, "workload '%s': %s", c->workload, msg);
    return PC_EINVAL;
  }
  if (wp.threads > 1 && (t->external || !t->thread_safe)) {
    snprintf(err, errlen, "workload '%s': threads=%u needs a target that takes ops from several "
             "threads at once, and target %s %s (use threads=1)", c->workload, wp.threads, c->target,
             t->external ? "runs in a separate program (exec targets take one driver thread)"
                         : "does not declare itself thread-safe");
    return PC_EINVAL;
  }
  if (t->check_opts && (rc = t->check_opts(c->target_opts, wp.target_opts, msg, sizeof msg))) {
    snprintf(err, errlen, "target %s: %s", c->target, msg);
    return PC_EINVAL;
  }
  if ((rc = ffs_plan_parse(c->plan, &plan, msg, sizeof msg))) {
    snprintf(err, errlen, "fault plan '%s': %s", c->plan, msg);
    return PC_EINVAL;
  }
  ffs_plan_free(plan);
  if ((model = ffs_model_from_name(c->model)) < 0) {
    snprintf(err, errlen, "unknown model '%s' (strict, ext4, xfs, reorder, kernel-ext4, kernel-xfs, kernel-btrfs)",
             c->model);
    return PC_EINVAL;
  }
  if (c->rplan[0]) {
    if ((rc = ffs_plan_parse(c->rplan, &plan, msg, sizeof msg))) {
      snprintf(err, errlen, "recovery plan '%s' (after '>'): %s", c->rplan, msg);
      return PC_EINVAL;
    }
    ffs_plan_free(plan);
    if (ffs_model_fs((ffs_model)model)) {
      snprintf(err, errlen, "a recovery plan ('>%s') is not supported on a real file system (model %s): "
               "only under the models strict, ext4, xfs and reorder", c->rplan, c->model);
      return PC_EINVAL;
    }
  }
  res->target = t;
  res->wp = wp;
  /* a target with delete-range gets delrange ops (the share goes to other ops otherwise) */
  res->wp.caps = pc_target_caps(t);
  res->model = (ffs_model)model;
  return 0;
}

static void write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) {}
  close(fd);
}

static int read_file(const char *path, char **buf, size_t *len) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n;
  size_t off = 0;
  if (fd < 0) return -errno;
  if (fstat(fd, &st)) { close(fd); return -errno; }
  if (!(*buf = malloc((size_t)st.st_size + 1))) { close(fd); return -ENOMEM; }
  while (off < (size_t)st.st_size && (n = read(fd, *buf + off, (size_t)st.st_size - off)) > 0)
    off += (size_t)n;
  close(fd);
  (*buf)[off] = '\0';
  *len = off;
  return 0;
}

/* ---- the driver child ---- */
/* An external target's program gets a plan through its own (inherited) shim: the
 * FAULTFS_* variables of that plan, state dir and trace (NULL: none). */
static void plan_env(const pc_worker *w, const pc_case *c, const char *plan, const char *state, const char *trace) {
  char seed[32];
  snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
  setenv(FFS_ENV_PLAN, plan, 1);
  setenv(FFS_ENV_DIR, w->data, 1);
  setenv(FFS_ENV_SEED, seed, 1);
  setenv(FFS_ENV_MODEL, c->model, 1);
  setenv(FFS_ENV_STATE, state, 1);
  if (trace) setenv(FFS_ENV_TRACE, trace, 1);
  else unsetenv(FFS_ENV_TRACE);
}

static void driver_child(pc_worker *w, const pc_case *c, const pc_target *t, const wl_params *wp,
                         const pc_run_opts *o) {
  char msg[1024], id[2048];
  wl_oplog_writer *log = NULL;
  int rc;
  /* the state dir is faultfs's own (marker) before the handshake file goes in, so the
   * shim's configure finds it claimed, not a stranger's non-empty dir */
  if (ffs_state_claim(w->state, msg, sizeof msg) < 0) {
    write_text(w->recov, msg);
    _exit(EXIT_CONFIGURE);
  }
  snprintf(msg, sizeof msg, "%s/%s", w->state, FFS_STATE_HANDSHAKE);
  if ((rc = ffs_handshake_arm(msg))) {
    write_text(w->recov, "cannot create the shim's handshake file in the state dir");
    _exit(EXIT_CONFIGURE);
  }
  if (o->record) setenv(FFS_ENV_RECORD, o->record, 1); /* read by the shim's configure */
  else unsetenv(FFS_ENV_RECORD);
  if (t->external) {
    /* the target's program gets the plan through its own (inherited) shim */
    plan_env(w, c, c->plan, w->state, o->trace ? w->trace : NULL);
  } else if ((rc = w->configure(c->plan, w->data, c->seed, c->model, w->state,
                                o->trace ? w->trace : NULL))) {
    snprintf(msg, sizeof msg, "shim configure failed: %s", ffs_strerror(rc));
    write_text(w->recov, msg);
    _exit(EXIT_CONFIGURE);
  }
  pc_case_format(c, id, sizeof id);
  if ((rc = wl_oplog_open_writer(w->oplog, id, &log, msg, sizeof msg))) {
    write_text(w->recov, msg);
    _exit(EXIT_CONFIGURE);
  }
  if (o->record && pc_trace_tee_start(log, w->oplog, o->record)) {
    write_text(w->recov, "cannot put the op log in the record file");
    _exit(EXIT_CONFIGURE);
  }
  rc = pc_drive(t, w->data, c->target_opts, wp, c->seed, log, o->max_ops ? o->max_ops : UINT64_MAX,
                msg, sizeof msg);
  pc_realfs_driver_end(w, c); /* on a real file system: the power cut, before _exit closes fds */
  if (rc == PC_ENOSHIM) { /* invariant (4): not a target failure, the case cannot be judged */
    write_text(w->recov, msg);
    _exit(EXIT_CONFIGURE);
  }
  if (rc) {
    write_text(w->recov, msg);
    _exit(EXIT_DRIVER);
  }
  _exit(0);
}

/* ---- the recovery (recovery.c) writes PCRS u64 recovery_us, then (u32 klen, u32 vlen, k, v)*, u32 ~0 ---- */
int pc_state_parse(const char *buf, size_t len, orc_kv **kvs, size_t *n, int64_t *us) {
  size_t off = 12, cap = 64;
  orc_kv *a;
  if (len < 12 || memcmp(buf, "PCRS", 4)) return PC_EIO;
  memcpy(us, buf + 4, 8);
  if (!(a = malloc(cap * sizeof *a))) return PC_ENOMEM;
  *n = 0;
  for (;;) {
    uint32_t h[2];
    if (off + 4 > len) goto bad;
    memcpy(h, buf + off, 4);
    if (h[0] == UINT32_MAX) break;
    if (off + 8 > len) goto bad;
    memcpy(h, buf + off, 8);
    off += 8;
    if (h[0] > len - off || h[1] > len - off - h[0]) goto bad;
    if (*n == cap) {
      orc_kv *b = realloc(a, (cap *= 2) * sizeof *a);
      if (!b) goto bad;
      a = b;
    }
    a[*n].key = (const uint8_t *)buf + off;
    a[*n].klen = h[0];
    a[*n].val = (const uint8_t *)buf + off + h[0];
    a[*n].vlen = h[1];
    (*n)++;
    off += (size_t)h[0] + h[1];
  }
  *kvs = a;
  return 0;
bad:
  free(a);
  return PC_EIO;
}

/* Replaces the per-run scratch path of the data dir by "<data>" so messages
 * are the same on every run and mean something in a report. */
static void scrub_path(char *msg, size_t cap, const char *data) {
  size_t dl = strlen(data);
  char *p;
  while (dl && (p = strstr(msg, data))) {
    size_t tail = strlen(p + dl) + 1;
    if ((size_t)(p - msg) + 6 + tail > cap) break;
    memmove(p + 6, p + dl, tail);
    memcpy(p, "<data>", 6);
  }
}

static void set_harness_verdict(pc_result *r, orc_verdict v, const char *fmt, const char *detail,
                                const char *data) {
  char msg[1024];
  snprintf(msg, sizeof msg, fmt, detail);
  scrub_path(msg, sizeof msg, data);
  orc_result_set(&r->orc, v, msg);
}

static void set_error(pc_result *r, const char *msg) {
  r->error = 1;
  snprintf(r->note, sizeof r->note, "%s", msg);
}

/* The interrupted recovery of a case with a recovery plan: the target's open
 * under c->rplan, with the shim's state in w->rstate. Open errors are not
 * judged here (the fault may cause them): the fault-free recovery after it is. */
static void interrupted_recovery_child(pc_worker *w, const pc_case *c, const pc_target *t, const wl_params *wp,
                                       const pc_run_opts *o) {
  char msg[1024];
  void *h = NULL;
  int rc;
  if (ffs_state_claim(w->rstate, msg, sizeof msg) < 0) {
    write_text(w->recov, msg);
    _exit(EXIT_CONFIGURE);
  }
  if (t->external) {
    plan_env(w, c, c->rplan, w->rstate, o->trace ? w->rtrace : NULL);
  } else if ((rc = w->configure(c->rplan, w->data, c->seed, c->model, w->rstate, o->trace ? w->rtrace : NULL))) {
    snprintf(msg, sizeof msg, "shim configure failed (recovery plan): %s", ffs_strerror(rc));
    write_text(w->recov, msg);
    _exit(EXIT_CONFIGURE);
  }
  rc = t->open(w->data, c->target_opts, wp->target_opts, &h, msg, sizeof msg);
  _exit(rc ? EXIT_RECOVERY_OPEN : 0); /* no close: the end is a power cut (invariant 1) */
}

/* Step 3's first half: 0 (go on to the fault-free recovery), 1 when the
 * interrupted recovery itself gave the verdict (it died on a signal of its own
 * or hung), or an error set in r. */
static int interrupted_recovery(pc_worker *w, const pc_case *c, const pc_target *t, const wl_params *wp,
                                const pc_run_opts *o, pc_result *r) {
  char err[1024];
  int status = 0, rc, crash;
  pid_t pid;
  if ((rc = ffs_rm_rf(w->rstate)) || (rc = rpt_mkdir_p(w->rstate))) {
    snprintf(err, sizeof err, "cannot prepare %s: %s", w->rstate, pc_strerror(rc));
    set_error(r, err);
    return -1;
  }
  unlink(w->rtrace);
  unlink(w->recov);
  fflush(NULL);
  if ((pid = fork()) < 0) {
    set_error(r, "fork failed");
    return -1;
  }
  if (pid == 0) interrupted_recovery_child(w, c, t, wp, o);
  rc = pc_wait_child(pid, w->timeout_ms, &status);
  if (rc == PC_EINTR) {
    set_error(r, "interrupted by a signal");
    return -1;
  }
  r->rfired = ffs_fired_read(w->rstate, &r->rf) == 0;
  if (rc == PC_ETIMEOUT) {
    char d[32];
    snprintf(d, sizeof d, "%d", w->timeout_ms);
    set_harness_verdict(r, ORC_RECOVERY_HANG, "the first recovery (under the recovery plan) did not finish within %s ms",
                        d, w->data);
    return 1;
  }
  if (!WIFSIGNALED(status) && WEXITSTATUS(status) == EXIT_CONFIGURE) {
    char *buf = NULL;
    size_t len;
    if (read_file(w->recov, &buf, &len) == 0) set_error(r, buf);
    else set_error(r, "recovery setup failed");
    free(buf);
    return -1;
  }
  if (WIFSIGNALED(status) && !r->rfired) {
    set_harness_verdict(r, ORC_RECOVERY_CRASH, "the first recovery (under the recovery plan) died on signal %s",
                        strsignal(WTERMSIG(status)), w->data);
    return 1;
  }
  {
    size_t n = strlen(r->note);
    if (r->rfired)
      snprintf(r->note + n, sizeof r->note - n, "%srecovery fault: %s on %s #%" PRIu64 " (%s)", n ? "; " : "",
               ffs_action_name(r->rf.action), ffs_op_name(r->rf.op), r->rf.match_index, r->rf.path);
    else
      snprintf(r->note + n, sizeof r->note - n, "%s%s the first recovery's open %s, then the power was cut",
               n ? "; " : "", strcmp(c->rplan, "none") ? "recovery fault did not fire:" : "recovery plan none:",
               !WIFSIGNALED(status) && WEXITSTATUS(status) == 0 ? "returned" : "failed");
  }
  crash = !(r->rfired && r->rf.killed && !r->rf.powercut); /* a kill keeps the page cache */
  if (crash && (rc = ffs_rollback(w->rstate, w->data, err, sizeof err))) {
    char m[1200];
    snprintf(m, sizeof m, "power-loss rollback after the first recovery failed: %s", err);
    set_error(r, m);
    return -1;
  }
  return 0;
}

/* Invariant (4), right after the workload and before any rollback: 0, or an error set in r.
 * dry: the case's plan has no rules (the data dir started empty). */
static int check_seen(pc_worker *w, const pc_case *c, const pc_target *t, int dry, pc_result *r) {
  char path[1200], list[700], m[1024];
  ffs_handshake hs;
  int n;
  snprintf(path, sizeof path, "%s/%s", w->state, FFS_STATE_HANDSHAKE);
  if (ffs_handshake_read(path, &hs) < 0) hs.nloaded = hs.nrefused = 0, hs.v = NULL, hs.n = 0;
  if (t->external && hs.nloaded == 0) {
    snprintf(m, sizeof m, "the faultfs shim was not loaded in the program of target %s%s%s: static "
             "binary? nothing it did was counted or faulted", c->target, c->target_opts[0] ? ":" : "",
             c->target_opts);
    ffs_handshake_free(&hs);
    set_error(r, m);
    return PC_ENOSHIM;
  }
  if (hs.nrefused) {
    size_t l = strlen(r->note);
    snprintf(r->note + l, sizeof r->note - l, "%sthe shim refused io_uring_setup %u time%s (ENOSYS: the "
             "engine had to use plain syscalls)", l ? "; " : "", hs.nrefused, hs.nrefused == 1 ? "" : "s");
  }
  if (hs.nmsync) {
    size_t l = strlen(r->note);
    snprintf(r->note + l, sizeof r->note - l, "%sthe program msync()ed a shared mapping of a tracked file: "
             "writes through mappings are not modelled, so this verdict does not cover them", l ? "; " : "");
  }
  int seccomp = ffs_handshake_seccomp(&hs);
  ffs_handshake_free(&hs);
  /* a seccomp supervisor saw the calls in the kernel and keeps no undo log to compare with */
  if (!dry || seccomp) return 0;
  n = ffs_unseen_changes(w->data, NULL, w->state, list, sizeof list);
  if (n == 0) return 0;
  if (n < 0) snprintf(m, sizeof m, "cannot compare the data dir with what the shim tracked: %s", list);
  else
    snprintf(m, sizeof m, "%d path%s in the data dir changed behind the shim's back (raw syscalls, a "
             "static helper, mmap?), so the crash points cannot cover them: %s", n, n == 1 ? "" : "s", list);
  set_error(r, m);
  return PC_ESETUP;
}

/* The workload cache of recovery cases: a recovery case (plan none, a recovery plan) whose
 * workload state is cached starts from it (steps 1-2 done). Sets key (empty: not cacheable);
 * 1 restored, 0 not cached, -1 ERROR (set in r). */
static int wcache_restore(pc_worker *w, const pc_case *c, const pc_run_opts *o, char *ckey, size_t klen,
                          pc_result *r) {
  char err[1400];
  int rc;
  ckey[0] = '\0';
  if (!c->rplan[0] || strcmp(c->plan, "none") || o->trace || w->fs) return 0;
  pc_case k = *c;
  k.rplan[0] = '\0';
  pc_case_format(&k, ckey, klen - 64);
  snprintf(ckey + strlen(ckey), 64, "|%" PRIu64 "|%d", o->max_ops, o->no_final_cut);
  for (unsigned i = 0; i < PC_WCACHE_SLOTS; i++) {
    char a[1200], b[1200];
    if (!w->wc[i].key[0] || strcmp(ckey, w->wc[i].key)) continue;
    snprintf(a, sizeof a, "%s/%u/data", w->wcache, i);
    snprintf(b, sizeof b, "%s/%u/oplog", w->wcache, i);
    if ((rc = pc_copy_tree(a, w->data)) || (rc = pc_copy_tree(b, w->oplog))) {
      snprintf(err, sizeof err, "cannot copy the cached workload state %s: %s", w->wcache, strerror(-rc));
      set_error(r, err);
      return -1;
    }
    r->crash = w->wc[i].crash;
    snprintf(r->note, sizeof r->note, "%s", w->wc[i].note);
    return 1;
  }
  return 0;
}

/* Keeps this workload's crashed state for the next recovery case of the same workload. */
static void wcache_store(pc_worker *w, const char *ckey, const pc_result *r) {
  char d[1200], a[1200], b[1200];
  struct pc_wcache *e = &w->wc[w->wc_next];
  snprintf(d, sizeof d, "%s/%u", w->wcache, w->wc_next);
  snprintf(a, sizeof a, "%s/data", d);
  snprintf(b, sizeof b, "%s/oplog", d);
  e->key[0] = '\0';
  if (ffs_rm_rf(d) == 0 && rpt_mkdir_p(d) == 0 && pc_copy_tree(w->data, a) == 0 && pc_copy_tree(w->oplog, b) == 0) {
    snprintf(e->key, sizeof e->key, "%s", ckey);
    e->crash = r->crash;
    snprintf(e->note, sizeof e->note, "%s", r->note);
    w->wc_next = (w->wc_next + 1) % PC_WCACHE_SLOTS;
  }
}

/* Step 2: how the workload ended (kill, power cut, end of workload) from the fired record,
 * the wait's rc and the child's status. -1 when the case is an ERROR (set in r). */
static int workload_end(pc_worker *w, const pc_run_opts *o, int rc, int status, pc_result *r) {
  char *buf = NULL;
  size_t len = 0;
  r->fired = ffs_fired_read(w->state, &r->f) == 0;
  if (rc == PC_ETIMEOUT) {
    snprintf(r->note, sizeof r->note, "workload timed out after %d ms; killed and treated as a power cut",
             w->timeout_ms);
    r->crash = ORC_CRASH_POWER;
  } else if (r->fired && r->f.powercut) {
    r->crash = ORC_CRASH_POWER;
  } else if (r->fired && r->f.killed) {
    r->crash = ORC_CRASH_KILL;
  } else if (WIFSIGNALED(status)) {
    snprintf(r->note, sizeof r->note, "the target crashed during the workload (signal %d, %s)",
             WTERMSIG(status), strsignal(WTERMSIG(status)));
    r->crash = ORC_CRASH_KILL;
  } else if (WEXITSTATUS(status) == EXIT_CONFIGURE) {
    if (read_file(w->recov, &buf, &len) == 0) set_error(r, buf);
    else set_error(r, "driver setup failed");
    free(buf);
    return -1;
  } else {
    if (WEXITSTATUS(status) == EXIT_DRIVER && read_file(w->recov, &buf, &len) == 0) {
      snprintf(r->note, sizeof r->note, "workload stopped early: %s", buf);
      scrub_path(r->note, sizeof r->note, w->data);
      free(buf);
    } else if (WEXITSTATUS(status) != 0) {
      snprintf(r->note, sizeof r->note, "driver exited with status %d", WEXITSTATUS(status));
    }
    r->crash = ORC_CRASH_POWER; /* invariant (1) */
    if (o->no_final_cut) r->crash = ORC_CRASH_KILL;
  }
  return 0;
}

/* Step 4: the verdict, from how the recovery child ended (rc of the wait, status) and,
 * when it read the state back, the oracle. -1 when the case is an ERROR (set in r). */
static int judge(pc_worker *w, const pc_case *c, const pc_target *t, wl_params *wp, wl_log *log, int rc,
                 int status, pc_result *r) {
  char *buf = NULL, *ckbuf = NULL, ckp[sizeof w->recov + 8];
  size_t len = 0, nkv = 0, cklen = 0, nckpts = 0;
  orc_kv *kvs = NULL;
  orc_ckpt *ckpts = NULL;
  orc_input in = {0};
  int bad = 0;
  in.log = log;
  in.contract = t->contract_for ? t->contract_for(c->target_opts) : t->contract;
  in.crash = r->crash;
  if (!strcmp(wp->name, "bank")) {
    in.invariant = orc_invariant_bank;
    in.invariant_arg = wp;
  }
  if (rc == PC_ETIMEOUT) {
    char d[32];
    snprintf(d, sizeof d, "%d", w->timeout_ms);
    set_harness_verdict(r, ORC_RECOVERY_HANG, "recovery did not finish within %s ms", d, w->data);
  } else if (WIFSIGNALED(status)) {
    set_harness_verdict(r, ORC_RECOVERY_CRASH, "recovery died on signal %s",
                        strsignal(WTERMSIG(status)), w->data);
  } else if (WEXITSTATUS(status) == EXIT_RECOVERY_HANG) {
    if (read_file(w->recov, &buf, &len)) buf = strdup("(no message)");
    set_harness_verdict(r, ORC_RECOVERY_HANG, "recovery hung: %s", buf ? buf : "", w->data);
  } else if (WEXITSTATUS(status) != 0) {
    const char *what = WEXITSTATUS(status) == EXIT_RECOVERY_OPEN ? "open after the crash failed: %s"
                                                                : "reading back the state failed: %s";
    if (read_file(w->recov, &buf, &len)) buf = strdup("(no message)");
    set_harness_verdict(r, ORC_RECOVERY_FAILED, what, buf ? buf : "", w->data);
  } else if (read_file(w->recov, &buf, &len) || pc_state_parse(buf, len, &kvs, &nkv, &r->recovery_us)) {
    set_error(r, "recovered state file unreadable");
    bad = 1;
  } else if (snprintf(ckp, sizeof ckp, "%s.ckpt", w->recov) < 0 || read_file(ckp, &ckbuf, &cklen) ||
             pc_checkpoints_parse(ckbuf, cklen, &ckpts, &nckpts)) {
    set_error(r, "recovered checkpoints file unreadable");
    bad = 1;
  } else {
    in.state = kvs;
    in.nstate = nkv;
    in.ckpts = ckpts;
    in.nckpts = nckpts;
    if (orc_check(&in, &r->orc)) {
      set_error(r, "oracle failed");
      bad = 1;
    }
  }
  if (!bad && r->orc.verdict >= ORC_RECOVERY_FAILED) {
    /* verdicts the harness set (RECOVERY_*) carry no op counts: fill them from the log */
    r->orc.ops_issued = log->n;
    r->orc.ops_acked = 0;
    for (size_t i = 0; i < log->n; i++) r->orc.ops_acked += log->ops[i].outcome == WL_OUT_ACKED;
  }
  pc_checkpoints_free(ckpts, nckpts);
  free(ckbuf);
  free(kvs);
  free(buf);
  return bad ? -1 : 0;
}

int pc_run_case(pc_worker *w, const pc_case *c, const pc_run_opts *o, pc_result *r) {
  pc_case_res res;
  const pc_target *t;
  wl_params wp;
  char err[1024];
  int status = 0, rc;
  pid_t pid;
  wl_log *log = NULL;
  int64_t t0 = pc_now_us();

  if (pc_trace_plan_is(c->plan)) return pc_trace_run_case(w, c, o, r);
  memset(r, 0, sizeof *r);
  r->recovery_us = -1;
  rc = pc_case_resolve(c, &res, err, sizeof err);
  snprintf(r->fault_kind, sizeof r->fault_kind, "%s", res.fault_kind);
  snprintf(r->fault_op, sizeof r->fault_op, "%s", res.fault_op);
  if (rc) {
    set_error(r, err);
    goto out;
  }
  t = res.target;
  wp = res.wp;
  if (!w->configure) {
    set_error(r, "the faultfs shim is not loaded in this process (LD_PRELOAD=libfaultfs.so)");
    goto out;
  }
  if (ffs_model_fs(res.model)) {
    if (pc_realfs_prepare_case(w, c, err, sizeof err)) { /* the data dir on a fresh real file system */
      set_error(r, err);
      goto out;
    }
  } else if (pc_realfs_prepare_case(w, c, err, sizeof err)) {
    set_error(r, err);
    goto out;
  } else if ((rc = ffs_rm_rf(w->data)) || (rc = ffs_rm_rf(w->state)) || (rc = rpt_mkdir_p(w->data)) ||
             (rc = rpt_mkdir_p(w->state))) {
    snprintf(err, sizeof err, "cannot prepare %s: %s", w->root, pc_strerror(rc));
    set_error(r, err);
    goto out;
  }
  unlink(w->oplog);
  unlink(w->recov);
  unlink(w->trace);

  /* a recovery case whose workload state is cached: start from it (steps 1-2 done) */
  int64_t tp = pc_now_us();
  char ckey[2400] = "";
  if ((rc = wcache_restore(w, c, o, ckey, sizeof ckey, r)) < 0) goto out;
  if (rc > 0) goto recovery_plan;

  /* 1. the workload under the fault plan */
  tp = pc_now_us();
  prof_us[0] += tp - t0;
  prof_cases++;
  fflush(NULL);
  if ((pid = fork()) < 0) {
    set_error(r, "fork failed");
    goto out;
  }
  if (pid == 0) driver_child(w, c, t, &wp, o);
  rc = pc_wait_child(pid, w->timeout_ms, &status);
  if (rc == PC_EINTR) {
    set_error(r, "interrupted by a signal");
    goto out;
  }

  /* 2. how did it end? */
  prof_us[1] += pc_now_us() - tp, tp = pc_now_us();
  if (workload_end(w, o, rc, status, r)) goto out;
  /* a real file system may be shut down already (the driver cuts it at the end of the
   * workload, and a shut-down XFS lists nothing): it is compared after the remount */
  int real = w->fs && w->fs->mounted;
  if (!real && check_seen(w, c, t, res.dry, r)) goto out;
  if (r->crash == ORC_CRASH_POWER && real) {
    if ((rc = pc_realfs_after_powercut(w, err, sizeof err))) { /* shutdown (if not yet), umount, mount */
      set_error(r, err);
      goto out;
    }
  } else if (r->crash == ORC_CRASH_POWER && (rc = ffs_rollback(w->state, w->data, err, sizeof err))) {
    char m[1200];
    snprintf(m, sizeof m, "power-loss rollback failed: %s", err);
    set_error(r, m);
    goto out;
  }
  if (real && check_seen(w, c, t, res.dry, r)) goto out;
  if (ckey[0]) wcache_store(w, ckey, r);
recovery_plan:
  if (c->rplan[0]) {
    int irc = interrupted_recovery(w, c, t, &wp, o, r);
    if (irc < 0) goto out;
    if (irc > 0) {
      if (wl_oplog_read(w->oplog, &log, err, sizeof err) == 0) {
        r->orc.ops_issued = log->n;
        for (size_t i = 0; i < log->n; i++) r->orc.ops_acked += log->ops[i].outcome == WL_OUT_ACKED;
      }
      goto out;
    }
  }
  if (o->keep_dir) {
    /* never empties a directory powercut did not fill itself (its marker) */
    if (pc_own_dir_claim("--keep", o->keep_dir, PC_KEEP_MARKER, 1, err, sizeof err)) {
      set_error(r, err);
      goto out;
    }
    if ((rc = pc_copy_tree(w->data, o->keep_dir))) {
      snprintf(err, sizeof err, "cannot keep the data dir in %s: %s", o->keep_dir, strerror(-rc));
      set_error(r, err);
      goto out;
    }
  }

  /* 3. recovery with no faults (recovery.c) */
  prof_us[2] += pc_now_us() - tp, tp = pc_now_us();
  if ((rc = wl_oplog_read(w->oplog, &log, err, sizeof err))) {
    char m[1200];
    snprintf(m, sizeof m, "op log unreadable: %s", err);
    set_error(r, m);
    goto out;
  }
  unlink(w->recov);
  if ((rc = pc_recovery_run(w, c, t, &wp, &status)) == PC_ESETUP) {
    set_error(r, "fork failed");
    goto out;
  }
  prof_us[3] += pc_now_us() - tp, tp = pc_now_us();
  if (judge(w, c, t, &wp, log, rc, status, r)) goto out;
  prof_us[4] += pc_now_us() - tp;
out:
  if (w->fs) pc_realfs_case_end(w->fs);
  wl_log_free(log);
  r->case_us = pc_now_us() - t0;
  return r->error ? PC_ESETUP : 0;
}

void pc_result_free(pc_result *r) { orc_result_free(&r->orc); }

const char *pc_result_verdict(const pc_result *r) {
  return r->error ? "ERROR" : orc_verdict_name(r->orc.verdict);
}

static const char *nz(const char *s) { return s ? s : ""; }

void pc_result_to_rpt(const pc_case *c, const char *id, const pc_result *r, rpt_case *out,
                      char *repro, size_t reprolen) {
  static __thread char expl[1400], fullplan[sizeof c->plan + sizeof c->rplan + 1], site_hex[17];
  static __thread pc_case_res res;
  const char *kind = r->fault_kind, *op = r->fault_op;
  rpt_case_init(out);
  out->id = (char *)id;
  out->target = (char *)c->target;
  out->workload = (char *)c->workload;
  out->model = (char *)c->model;
  pc_case_plan_str(c, fullplan, sizeof fullplan);
  out->plan = fullplan;
  out->seed = c->seed;
  if (!kind[0]) { /* a result pc_run_case did not fill */
    case_fault(c, &res);
    kind = res.fault_kind, op = res.fault_op;
  }
  /* a case whose only fault is in the recovery: its kind says so (recovery:crash) */
  out->fault_kind = (char *)kind;
  out->fault_op = (char *)op;
  out->fired = r->fired;
  out->fire_index = r->fired ? (int64_t)r->f.call_index : -1;
  out->fire_path = r->fired ? (char *)r->f.path : "";
  uint64_t site = r->fired ? r->f.site : 0;
  if (!strncmp(kind, "recovery:", 9)) { /* the case's one fault is the recovery's */
    out->fired = r->rfired;
    out->fire_index = r->rfired ? (int64_t)r->rf.call_index : -1;
    out->fire_path = r->rfired ? (char *)r->rf.path : "";
    site = r->rfired ? r->rf.site : 0;
  }
  if (site) snprintf(site_hex, sizeof site_hex, "%016" PRIx64, site);
  else site_hex[0] = '\0'; /* not fired, or the stack was not seen (seccomp) */
  out->fire_site = site_hex;
  out->verdict = (char *)pc_result_verdict(r);
  if (r->error) snprintf(expl, sizeof expl, "%s", r->note);
  else if (r->note[0]) snprintf(expl, sizeof expl, "%s (%s)", nz(r->orc.explanation), r->note);
  else snprintf(expl, sizeof expl, "%s", nz(r->orc.explanation));
  out->explanation = expl;
  out->first_key = (char *)nz(r->orc.first_key);
  out->expected = (char *)nz(r->orc.expected);
  out->found = (char *)nz(r->orc.found);
  out->ops_issued = (int64_t)r->orc.ops_issued;
  out->ops_acked = (int64_t)r->orc.ops_acked;
  out->ops_lost = (int64_t)r->orc.ops_lost;
  out->recovery_us = r->recovery_us;
  out->case_us = r->case_us;
  {
    char *cmd = NULL;
    if (rpt_repro_command(id, &cmd) == 0) snprintf(repro, reprolen, "%s", cmd);
    else repro[0] = '\0';
    free(cmd);
  }
  out->repro = repro;
  out->minimized_id = "";
  out->kept = "";
}
