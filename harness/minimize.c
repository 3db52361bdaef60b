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
 */
#include "harness_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
