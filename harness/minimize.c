/*
 * minimize.c - shrinks a failing case while the same verdict holds:
 * fewer ops (the workload's `ops` parameter), an earlier fault (a smaller N
 * for each rule), then a simpler plan (rules dropped). Each step is a real
 * case run, so the result is a case id that reproduces by construction.
 * Bounded by a budget of runs; greedy, not exhaustive.
 */
#include "harness_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int same_verdict(pc_worker *w, const pc_case *c, const char *want, int *runs) {
  pc_run_opts o = {0};
  pc_result r;
  int same;
  (*runs)++;
  pc_run_case(w, c, &o, &r);
  same = !strcmp(pc_result_verdict(&r), want);
  pc_result_free(&r);
  return same;
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

static int plan_text(const ffs_plan *p, char *buf, size_t len) {
  return ffs_plan_format(p, buf, len) < 0 ? -1 : 0;
}

int pc_minimize(pc_worker *w, const pc_case *in, const char *verdict, int budget, pc_case *out,
                int *runs_out) {
  pc_case best = *in, cand;
  ffs_plan *plan = NULL;
  char err[256];
  int runs = 0;
  wl_params p;

  if (wl_spec_parse(best.workload, &p, err, sizeof err)) return PC_EINVAL;
  /* 1. fewer ops: binary search for the smallest prefix that still fails */
  {
    uint64_t lo = 1, hi = p.ops;
    while (lo < hi && runs < budget) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (with_ops(&best, mid, &cand) == 0 && same_verdict(w, &cand, verdict, &runs)) hi = mid;
      else lo = mid + 1;
    }
    if (hi < p.ops && with_ops(&best, hi, &cand) == 0 && same_verdict(w, &cand, verdict, &runs))
      best = cand;
  }
  /* 2. earlier faults: for each rule, the smallest N (binary search) */
  if (ffs_plan_parse(best.plan, &plan, err, sizeof err) == 0) {
    for (size_t i = 0; i < plan->nrules && runs < budget; i++) {
      uint64_t lo = 1, hi = plan->rules[i].n, orig = hi;
      while (lo < hi && runs < budget) {
        uint64_t mid = lo + (hi - lo) / 2;
        plan->rules[i].n = mid;
        cand = best;
        if (plan_text(plan, cand.plan, sizeof cand.plan) == 0 && same_verdict(w, &cand, verdict, &runs))
          hi = mid;
        else
          lo = mid + 1;
      }
      plan->rules[i].n = hi;
      cand = best;
      if (hi < orig && plan_text(plan, cand.plan, sizeof cand.plan) == 0 &&
          same_verdict(w, &cand, verdict, &runs))
        best = cand;
      else
        plan->rules[i].n = orig;
    }
    /* 3. simpler plan: drop rules one at a time */
    for (size_t i = 0; plan->nrules > 1 && i < plan->nrules && runs < budget;) {
      ffs_rule saved = plan->rules[i];
      memmove(plan->rules + i, plan->rules + i + 1, (plan->nrules - i - 1) * sizeof *plan->rules);
      plan->nrules--;
      cand = best;
      if (plan_text(plan, cand.plan, sizeof cand.plan) == 0 && same_verdict(w, &cand, verdict, &runs)) {
        best = cand;
        continue;
      }
      memmove(plan->rules + i + 1, plan->rules + i, (plan->nrules - i) * sizeof *plan->rules);
      plan->rules[i] = saved;
      plan->nrules++;
      i++;
    }
    ffs_plan_free(plan);
  }
  *out = best;
  if (runs_out) *runs_out = runs;
  return 0;
}
