/*
 * minimize.c - shrinks a failing case while the same verdict holds:
 * fewer ops (the workload's `ops` parameter), an earlier fault (a smaller N
 * for each rule), then a simpler plan (rules dropped), repeated while a round
 * shrinks something (a smaller N can let fewer ops keep the fault firing).
 * Each step is a real case run, so the result is a case id that reproduces by
 * construction. Bounded by a budget of runs; greedy, not exhaustive.
 *
 * Invariants:
 *  (1) A candidate is accepted only when its fault fires: with fewer ops the
 *      N-th matching call may never come, and then the verdict is the one of
 *      the end-of-run power cut, so an id naming that fault would mislead.
 *      An input whose own fault does not fire becomes the plan "none" (the
 *      end-of-run power cut alone) when that gives the verdict, else it is
 *      not minimized (PC_ENOTFIRED).
 *  (2) A candidate counts as failing when any of its `rerun` runs gives the
 *      verdict: a target with a background thread moves the syscall counts,
 *      so one passing run does not show that the failure is gone.
 *
 * A trace state (plan trace:...) is shrunk by re-recording its workload with
 * fewer ops (binary search) and taking, in a record, the earliest cut whose
 * simplest state gives the verdict (pc_trace_minimize, below):
 *  (3) a state is taken only when K rebuilds from its record (what `repro
 *      --record` does) all give the verdict: the minimal id reproduces;
 *  (4) a record is never assumed to be another's: each candidate is checked
 *      in its own record, K recordings per ops count (a record seen before
 *      is not scanned again), and the minimal id names its record, which is
 *      kept (<digest>.rec).
 */
#define _GNU_SOURCE /* mkstemp */
#include "harness_int.h"
#include "tracecase.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct mini {
  pc_worker *w;
  const char *want;
  int rerun, budget, runs;
} mini;

static int plan_is_none(const pc_case *c) { return !strcmp(c->plan, "none") || !c->plan[0]; }
static int rplan_is_none(const pc_case *c) { return !strcmp(c->rplan, "none") || !c->rplan[0]; }

/* 1 when one of up to m->rerun runs of c gives the verdict with its fault fired (or with
 * no fault in the plan). *unfired (when not NULL) is set when a run gave the verdict
 * without its fault firing. */
static int still_fails(mini *m, const pc_case *c, int *unfired) {
  pc_run_opts o = {0};
  for (int i = 0; i < m->rerun && m->runs < m->budget && !pc_interrupted; i++) {
    pc_result r;
    int same, fired;
    m->runs++;
    pc_run_case(m->w, c, &o, &r);
    same = !strcmp(pc_result_verdict(&r), m->want);
    fired = (r.fired || plan_is_none(c)) && (r.rfired || rplan_is_none(c)); /* both faults, when two */
    pc_result_free(&r);
    if (same && fired) return 1;
    if (same && unfired) *unfired = 1;
  }
  return 0;
}

/* c's workload with `ops` set to ops. wl_spec_format writes only the keys the
 * spec overrode (with their current values), so ops is appended when the
 * original spec left it at its default. */
static int with_ops(const pc_case *c, uint64_t ops, pc_case *out) {
  wl_params p;
  char err[256], buf[512];
  if (wl_spec_parse(c->workload, &p, err, sizeof err)) return -1;
  p.ops = ops;
  if (wl_spec_format(&p, buf, sizeof buf) < 0) return -1;
  *out = *c;
  if (strstr(buf, "ops=")) snprintf(out->workload, sizeof out->workload, "%s", buf);
  else snprintf(out->workload, sizeof out->workload, "%s%cops=%" PRIu64, buf, strchr(buf, ':') ? ',' : ':', ops);
  return 0;
}

/* 1. fewer ops: binary search for the smallest count that still fails with its fault fired */
static void shrink_ops(mini *m, pc_case *best) {
  wl_params p;
  char err[256];
  pc_case cand;
  if (wl_spec_parse(best->workload, &p, err, sizeof err)) return;
  uint64_t lo = 1, hi = p.ops;
  while (lo < hi && m->runs < m->budget && !pc_interrupted) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (with_ops(best, mid, &cand) == 0 && still_fails(m, &cand, NULL)) {
      hi = mid;
      *best = cand; /* verified: fails with its fault fired */
    } else {
      lo = mid + 1;
    }
  }
}

/* 2. earlier faults: for each rule, the smallest N (binary search) */
static void shrink_points(mini *m, pc_case *best, ffs_plan *plan) {
  pc_case cand;
  for (size_t i = 0; i < plan->nrules && m->runs < m->budget && !pc_interrupted; i++) {
    uint64_t lo = 1, hi = plan->rules[i].n;
    while (lo < hi && m->runs < m->budget && !pc_interrupted) {
      uint64_t mid = lo + (hi - lo) / 2, keep = plan->rules[i].n;
      plan->rules[i].n = mid;
      cand = *best;
      if (ffs_plan_format(plan, cand.plan, sizeof cand.plan) >= 0 && still_fails(m, &cand, NULL)) {
        hi = mid;
        *best = cand;
      } else {
        plan->rules[i].n = keep;
        lo = mid + 1;
      }
    }
  }
}

/* 3. simpler plan: drop rules one at a time */
static void drop_rules(mini *m, pc_case *best, ffs_plan *plan) {
  pc_case cand;
  for (size_t i = 0; plan->nrules > 1 && i < plan->nrules && m->runs < m->budget && !pc_interrupted;) {
    ffs_rule saved = plan->rules[i];
    memmove(plan->rules + i, plan->rules + i + 1, (plan->nrules - i - 1) * sizeof *plan->rules);
    plan->nrules--;
    cand = *best;
    if (ffs_plan_format(plan, cand.plan, sizeof cand.plan) >= 0 && still_fails(m, &cand, NULL)) {
      *best = cand;
      continue;
    }
    memmove(plan->rules + i + 1, plan->rules + i, (plan->nrules - i) * sizeof *plan->rules);
    plan->rules[i] = saved;
    plan->nrules++;
    i++;
  }
}

int pc_minimize(pc_worker *w, const pc_case *in, const char *verdict, int budget, int rerun,
                pc_case *out, int *runs_out) {
  mini m = {w, verdict, rerun > 0 ? rerun : 1, budget, 0};
  pc_case best = *in, start;
  char err[256];
  int rc = 0, unfired = 0;

  *out = *in;
  /* the input itself: its fault must fire (1) */
  if (!still_fails(&m, &best, &unfired)) {
    pc_case none = best;
    snprintf(none.plan, sizeof none.plan, "none");
    if (!unfired || plan_is_none(&best) || !still_fails(&m, &none, NULL)) {
      rc = unfired ? PC_ENOTFIRED : PC_ENOFAIL;
      goto out;
    }
    best = none;
  }
  for (int round = 0; round < 4 && m.runs < budget && !pc_interrupted; round++) {
    ffs_plan *plan = NULL;
    start = best;
    shrink_ops(&m, &best);
    if (!plan_is_none(&best) && ffs_plan_parse(best.plan, &plan, err, sizeof err) == 0) {
      shrink_points(&m, &best, plan);
      drop_rules(&m, &best, plan);
    }
    ffs_plan_free(plan);
    if (!strcmp(start.workload, best.workload) && !strcmp(start.plan, best.plan)) break;
  }
  *out = best;
out:
  if (runs_out) *runs_out = m.runs;
  return rc;
}

/* ---- trace states ---- */

typedef struct tm_ent {
  uint64_t h[2];
  pc_recovered rv;
  struct tm_ent *next;
} tm_ent;
#define TM_BUCKETS 1024

typedef struct tmin {
  pc_worker *w;
  pc_trace_min *m;
  int reorder, maxrank, exhausted;
  char dir[1100], work[1200], wstate[1200], st[1200], ststate[1200], rdir[1200];
  char cand[1200], best[1200], input[1200];
  pc_tserver *rs;
  tm_ent *tab[TM_BUCKETS];
} tmin;

static int tm_stopped(tmin *t) {
  return t->exhausted || pc_interrupted || (t->m->stop && atomic_load(t->m->stop));
}

/* room in the budget for n more runs; else the search ends with the best so far */
static int tm_room(tmin *t, int n) {
  if (t->m->runs + n <= t->m->budget) return 1;
  t->exhausted = 1;
  return 0;
}

static void tm_cache_free(tmin *t) {
  for (int b = 0; b < TM_BUCKETS; b++) {
    for (tm_ent *e = t->tab[b], *n; e; e = n) {
      n = e->next;
      pc_recovered_free(&e->rv);
      free(e);
    }
    t->tab[b] = NULL;
  }
}

/* The recovery of the state in dir (hash h): the cached one, or a new one on a copy. */
static int tm_recover(tmin *t, const pc_case *c, const char *dir, const uint64_t h[2], tm_ent **out) {
  tm_ent *e;
  for (e = t->tab[h[1] % TM_BUCKETS]; e; e = e->next)
    if (e->h[0] == h[0] && e->h[1] == h[1]) break;
  if (!e) {
    int rc;
    if (!t->rs && (rc = pc_tserver_open(c, t->dir, t->w->timeout_ms, &t->rs))) return rc;
    if (ffs_rm_rf(t->rdir) || ffs_copy_tree(dir, t->rdir)) return PC_EIO;
    if (!(e = calloc(1, sizeof *e))) return PC_ENOMEM;
    memcpy(e->h, h, sizeof e->h);
    if ((rc = pc_tserver_run(t->rs, t->rdir, &e->rv))) {
      free(e);
      return rc;
    }
    e->next = t->tab[h[1] % TM_BUCKETS];
    t->tab[h[1] % TM_BUCKETS] = e;
  }
  *out = e;
  return 0;
}

/* 1 when K rebuilds of c from its record (what `repro --record` does) all give the verdict */
static int tm_confirm(tmin *t, const pc_case *c, const char *rpath) {
  if (!tm_room(t, t->m->rerun)) return 0;
  for (int i = 0; i < t->m->rerun; i++) {
    pc_run_opts o = {0};
    pc_result r;
    int same;
    o.record_file = rpath;
    t->m->runs++;
    pc_run_case(t->w, c, &o, &r);
    same = !r.error && !strcmp(pc_result_verdict(&r), t->m->want);
    pc_result_free(&r);
    if (!same) return 0;
  }
  return 1;
}

/* The plans at a cut, simplest first (kill; crash, or s=none, s=all, the campaign's seeded
 * subsets under reorder; torn with the campaign's prefix), up to the input's rank. */
static int tm_plans(const tmin *t, const pc_case *base, uint64_t cut, uint64_t digest, const ffs_rec *next,
                    pc_trace_plan *ps) {
  pc_trace_plan p = {0}, all[4 + PC_TRACE_SUBSETS];
  int n = 0, k = 0;
  p.cut = cut;
  p.has_digest = 1;
  p.digest = digest;
  p.subset = FFS_SUBSET_SEEDED;
  p.kind = FFS_CUT_KILL;
  all[n++] = p;
  p.kind = FFS_CUT_CRASH;
  if (!t->reorder) {
    all[n++] = p;
  } else {
    p.subset = FFS_SUBSET_NONE;
    all[n++] = p;
    p.subset = FFS_SUBSET_ALL;
    all[n++] = p;
    p.subset = FFS_SUBSET_SEEDED;
    p.has_seed = 1;
    for (int i = 0; i < PC_TRACE_SUBSETS; i++) {
      p.seed = pc_trace_subset_seed(base->seed, cut, i);
      all[n++] = p;
    }
    p.has_seed = 0;
  }
  if (next && next->datalen > 1 && ffs_rec_mutates(next) &&
      (next->op == FFS_OP_WRITE || next->op == FFS_OP_PWRITE || next->op == FFS_OP_WRITEV)) {
    p.kind = FFS_CUT_TORN;
    p.keep = pc_trace_torn_keep(base->seed, cut, next->datalen);
    all[n++] = p;
  }
  for (int i = 0; i < n; i++)
    if (pc_trace_plan_rank(&all[i], t->reorder) <= t->maxrank) ps[k++] = all[i];
  return k;
}

/* The states of one cut: 1 with *out = the first that fails as wanted and reproduces. */
static int tm_cut(tmin *t, const pc_case *base, ffs_replay *rp, const char *rpath, uint64_t cut, uint64_t digest,
                  const ffs_rec *next, const pc_trace_oplog *ob, pc_case *out, char *err, size_t errlen) {
  pc_trace_plan ps[4 + PC_TRACE_SUBSETS];
  wl_log *log = NULL;
  int n = tm_plans(t, base, cut, digest, next, ps), rc = 0;
  if (pc_trace_oplog_parse(ob, &log, err, errlen)) return PC_EIO;
  for (int k = 0; k < n && !rc && !tm_stopped(t); k++) {
    pc_case c = *base;
    pc_result r;
    uint64_t h[2];
    tm_ent *e;
    const char *dir = t->st;
    char berr[512];
    pc_trace_plan_format(&ps[k], c.plan, sizeof c.plan);
    if (ps[k].kind == FFS_CUT_KILL) {
      dir = ffs_replay_work(rp);
    } else if (ffs_rm_rf(t->st) || ffs_rm_rf(t->ststate) ||
               ffs_replay_state(rp, ps[k].kind, next, ps[k].keep, ps[k].subset,
                                ps[k].has_seed ? ps[k].seed : base->seed, t->st, t->ststate, berr, sizeof berr)) {
      continue; /* a state that cannot be built is no candidate */
    }
    if (pc_trace_dir_hash(dir, h) || (rc = tm_recover(t, base, dir, h, &e))) {
      snprintf(err, errlen, "cannot recover the state at cut %" PRIu64 " of %s", cut, rpath);
      rc = rc ? rc : PC_EIO;
      break;
    }
    memset(&r, 0, sizeof r);
    r.recovery_us = -1;
    pc_trace_judge(&c, &e->rv, log, ps[k].kind == FFS_CUT_KILL ? ORC_CRASH_KILL : ORC_CRASH_POWER, &r);
    t->m->states++;
    int same = !r.error && !strcmp(pc_result_verdict(&r), t->m->want);
    pc_result_free(&r);
    if (same && tm_confirm(t, &c, rpath)) {
      *out = c;
      rc = 1;
    }
  }
  wl_log_free(log);
  return rc;
}

/* The cuts 0..maxcut of the record at rpath (loaded: rec), each cut's states simplest first:
 * 1 with *out = the first that fails as wanted and reproduces, 0 none (or stopped), < 0 error. */
static int tm_scan(tmin *t, const pc_case *base, const char *rpath, const ffs_record *rec, uint64_t maxcut, pc_case *out,
                   char *err, size_t errlen) {
  ffs_replay *rp = NULL;
  pc_trace_oplog ob = {0};
  uint64_t calls = 0, digest = ffs_record_digest(rec);
  int rc = 0;
  if (ffs_rm_rf(t->work) || ffs_rm_rf(t->wstate) || rpt_mkdir_p(t->work)) {
    snprintf(err, errlen, "cannot prepare %s", t->work);
    return PC_ESETUP;
  }
  if (ffs_replay_open(t->work, t->wstate, (ffs_model)ffs_model_from_name(base->model), &rp, err, errlen))
    return PC_ESETUP;
  for (size_t i = 0; i <= ffs_record_count(rec) && !rc && !tm_stopped(t); i++) {
    const ffs_rec *e = ffs_record_at(rec, i);
    if (e && e->type != FFS_REC_CALL) {
      rc = pc_trace_oplog_add(&ob, e);
      continue;
    }
    if (!e || ffs_rec_mutates(e)) {
      if (calls > maxcut) break;
      if ((rc = tm_cut(t, base, rp, rpath, calls, digest, e, &ob, out, err, errlen))) break;
    }
    if (e && ffs_replay_apply(rp, e, err, errlen)) rc = PC_ESETUP;
    calls++;
  }
  free(ob.buf);
  ffs_replay_close(rp);
  tm_cache_free(t);
  return rc;
}

/* One recording of c's workload into path, loaded. */
static int tm_record(tmin *t, const pc_case *c, const char *path, ffs_record **rec, char *err, size_t errlen) {
  t->m->runs++;
  t->m->recordings++;
  if (pc_trace_record(t->w, c, path, err, errlen)) return PC_ESETUP;
  return ffs_record_load(path, rec, err, errlen) ? PC_EIO : 0;
}

/* The workload with `ops` ops: K recordings, each new one scanned whole (two recordings of a
 * threaded engine may be equal, so an equal one does not end the tries). 1 with *out (its
 * record moved to t->best), 0 when none fails as wanted, < 0 error. */
static int tm_try_ops(tmin *t, const pc_case *best, uint64_t ops, pc_case *out, char *err, size_t errlen) {
  pc_case cand;
  uint64_t seen[100];
  int nseen = 0;
  if (with_ops(best, ops, &cand)) return 0;
  for (int i = 0; i < t->m->rerun && i < 100 && !tm_stopped(t) && tm_room(t, 1); i++) {
    ffs_record *rec = NULL;
    char rerr[1024];
    int rc, dup = 0;
    if (tm_record(t, &cand, t->cand, &rec, rerr, sizeof rerr)) {
      ffs_record_free(rec);
      return 0; /* fewer ops that cannot be recorded: no candidate */
    }
    uint64_t d = ffs_record_digest(rec);
    for (int k = 0; k < nseen; k++) dup |= seen[k] == d;
    if (dup) { /* scanned already; a threaded engine's next recording may still differ */
      ffs_record_free(rec);
      continue;
    }
    seen[nseen++] = d;
    rc = tm_scan(t, &cand, t->cand, rec, UINT64_MAX, out, err, errlen);
    ffs_record_free(rec);
    if (rc < 0) return rc;
    if (rc == 1) {
      if (rename(t->cand, t->best)) {
        snprintf(err, errlen, "rename %s: %s", t->cand, strerror(errno));
        return PC_EIO;
      }
      return 1;
    }
  }
  return 0;
}

/* Copies the record src into dir as <digest>.rec (dir made when missing) without ever
 * replacing a file: an existing <digest>.rec must be that record. Its path into out. */
static int tm_keep_record(const char *src, const char *dir, uint64_t digest, char *out, size_t len, char *err,
                          size_t errlen) {
  char tmp[1400], buf[65536];
  ssize_t n = 0;
  int in = -1, fd = -1, rc = PC_EIO, e;
  snprintf(out, len, "%s/%016" PRIx64 ".rec", dir, digest);
  if ((e = rpt_mkdir_p(dir))) {
    snprintf(err, errlen, "records dir %s: cannot create it: %s", dir, strerror(-e));
    return PC_EIO;
  }
  snprintf(tmp, sizeof tmp, "%s/.new-rec-XXXXXX", dir);
  if ((fd = mkstemp(tmp)) < 0) {
    snprintf(err, errlen, "records dir %s: cannot write in it: %s", dir, strerror(errno));
    return PC_EIO;
  }
  if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) goto ioerr;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(fd, buf, (size_t)n) != n) goto ioerr;
  if (n < 0 || fsync(fd)) goto ioerr;
  close(in);
  in = -1;
  close(fd);
  fd = -1;
  if (link(tmp, out) == 0) {
    rc = 0;
  } else if (errno == EEXIST) {
    ffs_record *r = NULL;
    char lerr[512];
    if (ffs_record_load(out, &r, lerr, sizeof lerr) == 0 && ffs_record_digest(r) == digest) rc = 0;
    else snprintf(err, errlen, "%s exists and is not the record %016" PRIx64 ": left alone", out, digest);
    ffs_record_free(r);
  } else {
    snprintf(err, errlen, "cannot write %s: %s", out, strerror(errno));
  }
  unlink(tmp);
  return rc;
ioerr:
  snprintf(err, errlen, "cannot copy %s into %s: %s", src, dir, strerror(errno));
  if (in >= 0) close(in);
  if (fd >= 0) close(fd);
  unlink(tmp);
  return PC_EIO;
}

int pc_trace_minimize(pc_worker *w, const pc_case *in, pc_trace_min *m, char *err, size_t errlen) {
  tmin *t = calloc(1, sizeof *t);
  pc_trace_plan p0;
  ffs_record *rec = NULL;
  const char *inpath;
  wl_params wp;
  pc_case best, found;
  int rc = 0, have = 0, same = 0, shrank = 0;
  m->runs = m->recordings = 0;
  m->states = 0;
  m->rerecord_same = -1;
  m->out = *in;
  m->out_record[0] = '\0';
  if (m->rerun < 1) m->rerun = 1;
  if (!t) return PC_ENOMEM;
  if ((rc = pc_trace_validate(in, err, errlen)) || (rc = pc_trace_plan_parse(in->plan, &p0, err, errlen))) goto out;
  if (wl_spec_parse(in->workload, &wp, err, errlen)) {
    rc = PC_EINVAL;
    goto out;
  }
  t->w = w;
  t->m = m;
  t->reorder = ffs_model_from_name(in->model) == FFS_MODEL_REORDER;
  t->maxrank = pc_trace_plan_rank(&p0, t->reorder);
  snprintf(t->dir, sizeof t->dir, "%s/tmin", w->root);
  snprintf(t->work, sizeof t->work, "%s/work", t->dir);
  snprintf(t->wstate, sizeof t->wstate, "%s/wstate", t->dir);
  snprintf(t->st, sizeof t->st, "%s/st", t->dir);
  snprintf(t->ststate, sizeof t->ststate, "%s/ststate", t->dir);
  snprintf(t->rdir, sizeof t->rdir, "%s/recover", t->dir);
  snprintf(t->cand, sizeof t->cand, "%s/cand.rec", t->dir);
  snprintf(t->best, sizeof t->best, "%s/best.rec", t->dir);
  snprintf(t->input, sizeof t->input, "%s/input.rec", t->dir);
  if (ffs_rm_rf(t->dir) || rpt_mkdir_p(t->dir)) {
    snprintf(err, errlen, "cannot prepare %s", t->dir);
    rc = PC_ESETUP;
    goto out;
  }
  /* the input's record: the one given, or a new recording that must be the id's */
  inpath = m->record ? m->record : t->input;
  if (m->record) {
    if (ffs_record_load(m->record, &rec, err, errlen)) {
      rc = PC_EIO;
      goto out;
    }
  } else if ((rc = tm_record(t, in, t->input, &rec, err, errlen))) {
    goto out;
  }
  if (p0.has_digest && ffs_record_digest(rec) != p0.digest) {
    snprintf(err, errlen, "the record %s (digest %016" PRIx64 ") is not the one the id names (%016" PRIx64 ")%s",
             m->record ? m->record : "of a new run of the workload", ffs_record_digest(rec), p0.digest,
             m->record ? "" : ": the engine's calls differ from run to run (threads?); pass --record FILE, "
                              "the record the campaign kept");
    rc = PC_EINVAL;
    goto out;
  }
  p0.has_digest = 1; /* the minimal id names its record */
  p0.digest = ffs_record_digest(rec);
  best = *in;
  pc_trace_plan_format(&p0, best.plan, sizeof best.plan);
  /* its verdict, and whether its K rebuilds all give it (3) */
  for (int i = 0; i < m->rerun; i++) {
    pc_run_opts o = {0};
    pc_result r;
    o.record_file = inpath;
    m->runs++;
    pc_run_case(w, &best, &o, &r);
    if (r.error) {
      snprintf(err, errlen, "%s", r.note);
      pc_result_free(&r);
      rc = PC_ESETUP;
      goto out;
    }
    if (!m->verdict && !m->want[0] && strcmp(pc_result_verdict(&r), "PASS"))
      snprintf(m->want, sizeof m->want, "%s", pc_result_verdict(&r));
    else if (m->verdict && !m->want[0])
      snprintf(m->want, sizeof m->want, "%s", m->verdict);
    same += m->want[0] && !strcmp(pc_result_verdict(&r), m->want);
    pc_result_free(&r);
    if (pc_interrupted) {
      rc = PC_EINTR;
      goto out;
    }
  }
  if (!m->want[0] || !strcmp(m->want, "PASS")) {
    snprintf(m->want, sizeof m->want, "PASS");
    rc = PC_ENOFAIL;
    goto out;
  }
  have = same == m->rerun;
  /* 1. the earliest cut, simplest state, of the input's own record (no recording) */
  if ((rc = tm_scan(t, &best, inpath, rec, p0.cut, &found, err, errlen)) < 0) goto out;
  if (rc == 1) best = found, have = 1;
  /* 2. fewer ops (4) */
  {
    uint64_t lo = 1, hi = wp.ops;
    while (lo < hi && !tm_stopped(t)) {
      uint64_t mid = lo + (hi - lo) / 2;
      rc = tm_try_ops(t, &best, mid, &found, err, errlen);
      if (rc < 0) goto out;
      if (rc == 1) {
        hi = mid;
        best = found;
        have = shrank = 1;
      } else {
        lo = mid + 1;
      }
    }
    rc = 0;
  }
  if (!have) {
    snprintf(err, errlen, "its %d rebuilds did not all give %s, and no smaller state that does was found", m->rerun,
             m->want);
    rc = PC_ENOFAIL;
    goto out;
  }
  /* its record, kept (4) */
  {
    pc_trace_plan pb;
    pc_trace_plan_parse(best.plan, &pb, err, errlen);
    if (!shrank && m->record) snprintf(m->out_record, sizeof m->out_record, "%s", m->record);
    else if ((rc = tm_keep_record(shrank ? t->best : t->input, m->records_dir, pb.digest, m->out_record,
                                  sizeof m->out_record, err, errlen)))
      goto out;
    if (m->check_rerecord && !pc_interrupted) {
      ffs_record *r2 = NULL;
      char rerr[1024];
      if (tm_record(t, &best, t->cand, &r2, rerr, sizeof rerr) == 0) m->rerecord_same = ffs_record_digest(r2) == pb.digest;
      ffs_record_free(r2);
    }
  }
  m->out = best;
out:
  if (pc_interrupted && !rc) rc = PC_EINTR;
  ffs_record_free(rec);
  tm_cache_free(t);
  pc_tserver_close(t->rs);
  if (t->dir[0]) ffs_rm_rf(t->dir);
  free(t);
  return rc;
}
