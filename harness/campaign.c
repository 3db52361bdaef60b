/*
 * campaign.c - many cases: the crash-point space, the case list, sharding,
 * parallel workers, automatic minimization, and the report.
 *
 * A campaign runs arms: (target options, workload, seed), one per workload, or without
 * --workload the default spread (every spread workload under the target's defaults and
 * each of its modes, each arm with a seed of its own; docs/powercut.md "The default
 * spread"), whose site phase takes the arms in turn by what their cases cost.
 *
 * The case list is a pure function of the campaign's parameters: case i is
 * computed from (targets, arms, faults, models, seed, i) alone, so
 * `--shard K/N` takes the indices i with i % N == K-1 of the same list and
 * shards never overlap. The list opens with the crash sites: each distinct call
 * stack (faultfs "Crash sites") that made a tracked call in a dry run is crashed
 * at its first call, once per fault kind aimed at that call's kind (in rounds,
 * the kinds in turn from site to site; models in turn), so a short budget
 * reaches rare code paths first, not only the N-th call of each kind; in the live
 * part of a trace campaign the first round takes first the sites no trace state is
 * cut at (a recovery's calls, calls that change nothing). Then a
 * systematic sweep: for
 * each (workload, fault kind, syscall kind, model) group, every call of that
 * kind seen in a dry run of the workload is a crash point; groups are
 * interleaved round-robin and points within a group are visited in a
 * spread-out permutation (stride coprime with the group size), so a list cut
 * short by --cases or --time still covers every kind evenly. The dry run also
 * traces the recovery that follows the workload's end (its power cut), and
 * every call of that recovery is a crash point too: the case NONE>PLAN, whose
 * fault fires inside the first recovery, checked after a second one. After
 * the sweep come seeded random cases (other workload seeds, random points and
 * models, in the workload or in its recovery).
 *
 * Signals. The workers run in a process group of their own (so a Ctrl-C on the
 * terminal reaches only this process) and die with it (PR_SET_PDEATHSIG). On
 * SIGINT, SIGTERM or SIGHUP this process SIGKILLs that group, cuts a partly
 * written last line off results.jsonl, writes the report of the cases already
 * verified marked interrupted, and returns 128 + the signal number.
 */
#include "harness_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXW PC_MAX_ARMS
#define MAXF 16
#define MAXM 4

typedef struct group {
  int w, f, m;
  ffs_op op;
  int rec;             /* 1: the crash points are in the recovery after the workload */
  uint64_t n;          /* calls of this kind in the dry run */
  uint64_t stride;
  uint64_t *lens;      /* torn: length of each call */
} group;

/* A crash site: its first call in one dry run (the workload's or its recovery's). */
typedef struct site {
  uint64_t id;
  int w, rec;          /* its arm (the first whose dry run showed it) */
  uint64_t rank;       /* its place among the new sites of its arm's dry runs */
  uint64_t cost;       /* what a case at its first call costs, roughly: 4 + MiB/4 written before */
  ffs_op op;
  uint64_t n;          /* its first call is the n-th of kind op (1-based): plan op#n */
  int uncut;           /* no trace state is cut at its first call: a recovery's call, or one
                        * that changes nothing (an open without O_CREAT, a read, a close) */
  char *name;          /* its top frames from the trace, or NULL */
} site;

/* A case of the site phase: a site, a fault kind, a model. */
typedef struct site_case {
  const site *s;
  int f, m;
} site_case;

typedef struct campaign {
  const pc_campaign_opts *o;
  pc_arm arms[MAXW];   /* (target options, workload, seed) */
  int nw;
  uint64_t arm_sites[MAXW]; /* new sites of each arm so far */
  uint64_t arm_bytes[MAXW]; /* bytes its workload's dry run wrote */
  ffs_action faults[MAXF];
  int nf;
  char models[MAXM][16];
  int nm;
  group *groups;
  size_t ng;
  uint64_t nsys;       /* systematic cases */
  uint64_t max_round;
  uint64_t counts[MAXW][FFS_OP_COUNT];
  uint64_t *lens[MAXW][FFS_OP_COUNT];  /* write lengths per call, shared by groups */
  uint64_t rcounts[MAXW][FFS_OP_COUNT]; /* the same for the recovery after the workload */
  uint64_t *rlens[MAXW][FFS_OP_COUNT];
  uint64_t nrec;       /* systematic cases in recoveries */
  site xsites[MAXW];   /* the spread: a stand-in for an arm that showed no new site (id 0) */
  site *sites;         /* distinct crash sites of the dry runs, in order of first call */
  size_t nsites, capsites;
  site_case *scases;   /* the site phase: the first cases of the list */
  uint64_t nscases;
  uint64_t *skip;      /* sweep positions the site phase ran already, ascending */
  uint64_t nskip;
} campaign;

static uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) { uint64_t t = a % b; a = b; b = t; }
  return a;
}

/* Which syscall kinds each fault kind aims at (faultfs's action table). */
static int fault_applies(ffs_action a, ffs_op op) { return !!(ffs_action_get(a)->campaign_ops & FFS_OP_BIT(op)); }

static int is_kill(ffs_action a) { return ffs_action_get(a)->kill; }

/* a workload crash point that the trace part of the campaign builds instead */
static int traced(const campaign *cp, ffs_action a, int rec) {
  return cp->o->trace_covered && !rec && pc_trace_covers(ffs_action_name(a));
}
/* a fault whose plan carries ':ARG', how much of the write */
static int takes_bytes(ffs_action a) { return ffs_action_get(a)->arg_bytes; }

static int site_known(const campaign *cp, uint64_t id) {
  for (size_t i = 0; i < cp->nsites; i++)
    if (cp->sites[i].id == id) return 1;
  return 0;
}

/* Whether a trace state is cut at a dry-run call like this one (ffs_call_mutates: the trace
 * has no open flags, so an open counts when it changed the namespace or a file's data). */
static int trace_cuts_at(const ffs_trace_rec *t) {
  return ffs_call_mutates(t->op, t->result, (t->dur & (FFS_DUR_NSCHANGE | FFS_DUR_DIRTY)) != 0);
}

/* Counts per syscall kind (and write lengths) of one trace file, and the crash sites it
 * shows first (cp->sites; a site seen in an earlier dry run is not added again). */
static int count_trace(campaign *cp, int w, int recovery, const char *path, uint64_t counts[FFS_OP_COUNT],
                       uint64_t *lens_out[FFS_OP_COUNT], char *err, size_t errlen) {
  ffs_trace *tr = NULL;
  ffs_trace_rec *rec = malloc(sizeof *rec);
  size_t cap[FFS_OP_COUNT] = {0};
  uint64_t bytes = 0; /* written so far */
  int rc;
  if (!rec) return PC_ENOMEM;
  if (!recovery) cp->arm_bytes[w] = 0;
  if ((rc = ffs_trace_open(path, &tr))) {
    snprintf(err, errlen, "dry run trace %s: %s", path, ffs_strerror(rc));
    free(rec);
    return PC_ESETUP;
  }
  while ((rc = ffs_trace_next(tr, rec)) == 1) {
    if (rec->dur & FFS_DUR_WARN) continue;
    if (rec->op >= FFS_OP_COUNT) continue;
    uint64_t k = counts[rec->op]++;
    int wr = rec->op == FFS_OP_WRITE || rec->op == FFS_OP_PWRITE || rec->op == FFS_OP_WRITEV;
    if (rec->site && !site_known(cp, rec->site)) {
      if (cp->nsites == cp->capsites) {
        size_t ncap = cp->capsites ? cp->capsites * 2 : 64;
        site *ns = realloc(cp->sites, ncap * sizeof *ns);
        if (!ns) { rc = PC_ENOMEM; break; }
        cp->sites = ns, cp->capsites = ncap;
      }
      /* the name rides on a site's first record in its process: this one */
      cp->sites[cp->nsites++] = (site){.id = rec->site, .w = w, .rank = cp->arm_sites[w]++,
                                       .cost = 4 + ((cp->arm_bytes[w] + bytes) >> 18), .rec = recovery, .op = rec->op, .n = k + 1,
                                       .uncut = recovery || !trace_cuts_at(rec), .name = rec->site_name[0] ? strdup(rec->site_name) : NULL};
    }
    if (k >= cap[rec->op]) {
      cap[rec->op] = cap[rec->op] ? cap[rec->op] * 2 : 64;
      lens_out[rec->op] = realloc(lens_out[rec->op], cap[rec->op] * sizeof(uint64_t));
    }
    lens_out[rec->op][k] = rec->length;
    if (wr && rec->result > 0) bytes += (uint64_t)rec->result;
  }
  if (!recovery) cp->arm_bytes[w] = bytes; /* a recovery case runs the whole workload first */
  ffs_trace_close(tr);
  free(rec);
  return rc == PC_ENOMEM ? rc : 0;
}

static int split_list(const char *s, char out[][512], int max, int *n) {
  char buf[4096], *save = NULL, *tok;
  snprintf(buf, sizeof buf, "%s", s);
  *n = 0;
  for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    if (*n >= max) return -1;
    snprintf(out[(*n)++], 512, "%s", tok);
  }
  return 0;
}

/* ---- arms and the default spread ---- */

/* The default spread's workloads: the crash sites of every named workload but the few that
 * add none of their own (fill, overwrite, batch: mixed makes their calls), plus concurrent
 * writers where the target takes them (docs/powercut.md "The default spread"). */
const char *pc_spread_workloads(const pc_target *t) {
  return t && t->thread_safe ? "mixed reopen sizes views churn bank large mixed:threads=4"
                             : "mixed reopen sizes views churn bank large";
}

int pc_campaign_arms(const pc_campaign_opts *o, pc_arm *arms, int *n, char *err, size_t errlen) {
  char w[PC_MAX_WORKLOADS][512];
  const char *modes[8];
  int nw = 0, nm = 0;
  /* workloads are space separated (a spec may hold commas) */
  if (split_list(o->workloads, w, PC_MAX_WORKLOADS, &nw) || nw == 0) {
    snprintf(err, errlen, "--workload: give 1 to %d workloads", PC_MAX_WORKLOADS);
    return PC_EINVAL;
  }
  modes[nm++] = o->target_opts;
  if (o->spread && o->spread_modes) {
    const pc_target *t = pc_target_find(o->target);
    for (const char *const *m = t ? t->modes : NULL; m && *m && nm < 8; m++) modes[nm++] = *m;
  }
  *n = 0;
  for (int i = 0; i < nw; i++)
    for (int m = 0; m < nm; m++) {
      if (*n == PC_MAX_ARMS) {
        snprintf(err, errlen, "%d workloads under %d option sets: more than %d arms", nw, nm, PC_MAX_ARMS);
        return PC_EINVAL;
      }
      pc_arm *a = &arms[(*n)++];
      snprintf(a->opts, sizeof a->opts, "%s", modes[m]);
      snprintf(a->workload, sizeof a->workload, "%s", w[i]);
      a->seed = o->seed + (o->spread && o->spread_seeds ? (uint64_t)(*n - 1) : 0);
    }
  return 0;
}

/* "workload", or for an arm of the spread other than the campaign's own options and seed
 * "workload (target:options, seed S)" */
static const char *arm_name(const campaign *cp, const pc_arm *a, char *buf, size_t len) {
  if (!strcmp(a->opts, cp->o->target_opts) && a->seed == cp->o->seed) snprintf(buf, len, "%s", a->workload);
  else snprintf(buf, len, "%s (%s%s%s, seed %" PRIu64 ")", a->workload, cp->o->target, a->opts[0] ? ":" : "",
                a->opts, a->seed);
  return buf;
}

void pc_campaign_spread_line(const pc_campaign_opts *o, const pc_arm *arms, int n, FILE *f) {
  int nm = 0, nw = 0;
  if (!o->spread) return;
  for (int i = 0; i < n; i++) nm += !strcmp(arms[i].workload, arms[0].workload);
  nw = nm ? n / nm : n;
  fprintf(f, "powercut: default spread (no --workload): %d workloads (", nw);
  for (int i = 0; i < n; i += nm) fprintf(f, "%s%s", i ? " " : "", arms[i].workload);
  fprintf(f, ") x %d option set%s (", nm, nm == 1 ? "" : "s");
  for (int i = 0; i < nm; i++) fprintf(f, "%s%s%s%s", i ? ", " : "", o->target, arms[i].opts[0] ? ":" : "", arms[i].opts);
  fprintf(f, ") = %d arms, ", n);
  if (o->spread_seeds) fprintf(f, "seeds %" PRIu64 "..%" PRIu64, arms[0].seed, arms[n - 1].seed);
  else fprintf(f, "seed %" PRIu64, o->seed);
  fprintf(f, ", models %s, interleaved from the first case; --workload, --models, --seed or target options "
             "choose instead\n", o->models);
}

/* Dry run of one workload and of the recovery after it: counts per syscall
 * kind (and write lengths) of each. */
static int dry_run(pc_worker *wk, campaign *cp, int wi, char *err, size_t errlen) {
  char an[1200];
  pc_case c = {0};
  pc_run_opts o = {0};
  pc_result r;
  int rc;
  snprintf(c.target, sizeof c.target, "%s", cp->o->target);
  snprintf(c.target_opts, sizeof c.target_opts, "%s", cp->arms[wi].opts);
  snprintf(c.workload, sizeof c.workload, "%s", cp->arms[wi].workload);
  c.seed = cp->arms[wi].seed;
  snprintf(c.model, sizeof c.model, "strict");
  snprintf(c.plan, sizeof c.plan, "none");
  snprintf(c.rplan, sizeof c.rplan, "none"); /* and trace the first recovery */
  o.trace = 1;
  pc_run_case(wk, &c, &o, &r);
  /* only the syscall counts matter here: a violation in the dry run (the
   * end-of-workload power cut) is found again by the campaign's own cases */
  if (r.error) {
    snprintf(err, errlen, "dry run of %s without faults failed: %s", arm_name(cp, &cp->arms[wi], an, sizeof an), r.note);
    pc_result_free(&r);
    return PC_ESETUP;
  }
  if (r.orc.ops_acked == 0 && r.orc.ops_issued <= 1 && r.note[0]) {
    char *rn = strstr(r.note, "; recovery plan none:");
    if (rn) *rn = '\0'; /* the dry run's own recovery plan: nothing to say */
    /* the target never ran the workload (a program that is missing, exits or
     * speaks another protocol): say what it did, not "no crash points" */
    snprintf(err, errlen, "dry run of %s without faults: the target acked no op: %s; then %s: %s",
             arm_name(cp, &cp->arms[wi], an, sizeof an), r.note, pc_result_verdict(&r), r.orc.explanation ? r.orc.explanation : "");
    pc_result_free(&r);
    return PC_ESETUP;
  }
  pc_result_free(&r);
  if ((rc = count_trace(cp, wi, 0, wk->trace, cp->counts[wi], cp->lens[wi], err, errlen))) return rc;
  return count_trace(cp, wi, 1, wk->rtrace, cp->rcounts[wi], cp->rlens[wi], err, errlen);
}


static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* x^-1 mod m (gcd(x, m) == 1, m >= 1) */
static uint64_t inv_mod(uint64_t x, uint64_t m) {
  __int128 t = 0, nt = 1, r = m, nr = x % m;
  while (nr) {
    __int128 q = r / nr, tmp = t - q * nt;
    t = nt, nt = tmp;
    tmp = r - q * nr;
    r = nr, nr = tmp;
  }
  return (uint64_t)(t < 0 ? t + m : t);
}

/* Where point #n of group gi is in the sweep (see case_at): its round r, where
 * n = 1 + r*stride mod size, after every point of the earlier rounds and the earlier
 * groups of its round. */
static uint64_t sweep_pos(const campaign *cp, size_t gi, uint64_t n) {
  const group *g = &cp->groups[gi];
  uint64_t r = g->n > 1 ? (uint64_t)(((unsigned __int128)(n - 1) * inv_mod(g->stride, g->n)) % g->n) : 0, pos = 0;
  for (size_t k = 0; k < cp->ng; k++) {
    pos += cp->groups[k].n < r ? cp->groups[k].n : r;
    pos += k < gi && cp->groups[k].n > r;
  }
  return pos;
}

/* The site phase: round r gives every site whose call kind r+1 fault kinds aim at a case
 * with one of them, site i with the ((r + i) mod n)-th of its n kinds, so a short budget
 * spreads over kill, crash, torn ... from the start and every site gets each of its kinds
 * over the rounds; models are taken in turn (kill kinds: the first model). A
 * recovery's site is skipped on a real file system, as its groups are. */
static int cmp_site_arm(const void *a, const void *b) {
  const site *x = *(const site *const *)a, *y = *(const site *const *)b;
  if (x->w != y->w) return (x->w > y->w) - (x->w < y->w);
  return (x->rank > y->rank) - (x->rank < y->rank);
}

/* The fault kinds of cp that aim at site t's call (indices into cp->faults), in app; their number. */
static int site_kinds(const campaign *cp, const site *t, int real, int app[32]) {
  int na = 0;
  if (t->op > FFS_OP_PLAN_LAST || (t->rec && real)) return 0;
  for (int f = 0; f < cp->nf && na < 32; f++)
    if (fault_applies(cp->faults[f], t->op) && !traced(cp, cp->faults[f], t->rec)) app[na++] = f;
  return na;
}

/* The stages of the site phase: a round r and which sites it takes (all, or, in the live
 * part of a trace campaign, first the sites no trace state is cut at, then the others:
 * those reach coverage only through these cases, so a short budget gives them its start). */
enum { ST_ALL, ST_UNCUT, ST_CUT };
static int site_stages(const campaign *cp, int stage_r[], int stage_f[]) {
  int n = 0;
  for (int r = 0; r < cp->nf && !cp->o->order_kinds; r++) {
    if (r == 0 && cp->o->trace_covered) {
      stage_r[n] = 0, stage_f[n++] = ST_UNCUT;
      stage_r[n] = 0, stage_f[n++] = ST_CUT;
    } else {
      stage_r[n] = r, stage_f[n++] = ST_ALL;
    }
  }
  return n;
}
static int stage_takes(int f, const site *t) { return f == ST_ALL || (f == ST_UNCUT) == !!t->uncut; }

/* The model of site t's case in round r: in turn (from arm to arm too, so no arm keeps one
 * model); kill kinds the first. A recovery's sites keep one model per arm and round, so their
 * cases share the workload's end state (runner.c's workload cache). */
static int site_model(const campaign *cp, const site *t, int k, int r) {
  if (is_kill(cp->faults[k])) return 0;
  if (t->rec) return (int)(((uint64_t)t->w + (uint64_t)r) % (uint64_t)cp->nm);
  return (int)((t->rank + (uint64_t)t->w + (uint64_t)r) % (uint64_t)cp->nm);
}

/* An arm's recovery sites are taken together while a case of it costs at most this (a
 * workload that writes more than some 48 MiB: its saved end state costs about as much to
 * copy as the workload to run, and its cases are long). */
#define TAKE_TOGETHER_COST 16

/* The spread's site phase: each stage takes, from the arm that has spent the least so far in
 * the stage (its cases' costs), its next site that has an r-th kind, so a short budget
 * reaches every arm, and an arm whose cases write hundreds of MiB (large) takes its share
 * of the time, not of the cases. An arm's recovery sites are taken together when its
 * workload is small (they share its end state: one workload run, then the recoveries;
 * each after the first counts a quarter). Deterministic: the
 * costs come from the dry runs' bytes. */
static void spread_site_phase(campaign *cp, const site **ord, size_t n, int real) {
  size_t start[MAXW + 1] = {0};
  int sr[2 * MAXF + 2], sf[2 * MAXF + 2], ns = site_stages(cp, sr, sf);
  for (size_t i = 0, w = 0; w <= (size_t)cp->nw; w++) {
    while (i < n && ord[i]->w < (int)w) i++;
    start[w] = i;
  }
  for (int st = 0; st < ns; st++) {
    int r = sr[st];
    size_t pos[MAXW];
    uint64_t spent[MAXW] = {0};
    for (int w = 0; w < cp->nw; w++) pos[w] = start[w];
    for (;;) {
      int best = -1, app[32], na = 0;
      for (int w = 0; w < cp->nw; w++) {
        while (pos[w] < start[w + 1] && (site_kinds(cp, ord[pos[w]], real, app) <= r || !stage_takes(sf[st], ord[pos[w]])))
          pos[w]++;
        if (pos[w] < start[w + 1] && (best < 0 || spent[w] < spent[best])) best = w;
      }
      if (best < 0) break;
      int first = 1;
      do {
        size_t at = pos[best]++;
        const site *t = ord[at];
        if ((na = site_kinds(cp, t, real, app)) <= r || !stage_takes(sf[st], t)) continue;
        spent[best] += first ? t->cost : 4 + t->cost / 4;
        /* the kinds in turn from site to site; a site's place in ord, not in the round, so
         * no two rounds give a site one kind */
        int k = app[(r + (int)(at % (size_t)na)) % na];
        cp->scases[cp->nscases++] = (site_case){.s = t, .f = k, .m = site_model(cp, t, k, r)};
        if (!t->rec || t->cost > TAKE_TOGETHER_COST) break;
        first = 0;
      } while (pos[best] < start[best + 1] && ord[pos[best]]->rec);
    }
  }
}

static int build_site_phase(campaign *cp) {
  int real = ffs_model_fs((ffs_model)ffs_model_from_name(cp->models[0])) != NULL;
  size_t cap = (cp->nsites + MAXW) * (size_t)cp->nf + 1;
  const site **ord = calloc(cp->nsites + MAXW + 1, sizeof *ord);
  if (!ord || !(cp->scases = calloc(cap, sizeof *cp->scases))) {
    free(ord);
    return PC_ENOMEM;
  }
  for (size_t i = 0; i < cp->nsites; i++) ord[i] = &cp->sites[i];
  if (cp->o->spread) {
    /* an arm whose calls were all made by earlier arms (bank: mixed makes them) still gets
     * one case, at its middle write, so the budget touches every arm */
    size_t n = cp->nsites;
    for (int w = 0; w < cp->nw; w++)
      if (!cp->arm_sites[w] && cp->counts[w][FFS_OP_WRITE]) {
        cp->xsites[w] = (site){.w = w, .op = FFS_OP_WRITE, .n = cp->counts[w][FFS_OP_WRITE] / 2 + 1,
                               .cost = 4 + ((cp->arm_bytes[w] / 2) >> 18)};
        ord[n++] = &cp->xsites[w];
      }
    qsort(ord, n, sizeof *ord, cmp_site_arm);
    spread_site_phase(cp, ord, n, real);
  }
  int sr[2 * MAXF + 2], sf[2 * MAXF + 2], ns = cp->o->spread ? 0 : site_stages(cp, sr, sf);
  for (int st = 0; st < ns; st++)
    for (size_t i = 0; i < cp->nsites; i++) {
      const site *t = ord[i];
      int r = sr[st], app[32], na = site_kinds(cp, t, real, app), k;
      if (r >= na || !stage_takes(sf[st], t)) continue;
      k = app[(r + (int)(i % (size_t)na)) % na]; /* the kinds in turn from site to site */
      int m = is_kill(cp->faults[k]) ? 0 : t->rec ? site_model(cp, t, k, r) : (int)(cp->nscases % (uint64_t)cp->nm);
      cp->scases[cp->nscases++] = (site_case){.s = t, .f = k, .m = m};
    }
  free(ord);
  /* the sweep leaves out the points the site phase ran (one case id, one case) */
  if (!(cp->skip = calloc(cp->nscases + 1, sizeof *cp->skip))) return PC_ENOMEM;
  for (uint64_t i = 0; i < cp->nscases; i++) {
    const site_case *sc = &cp->scases[i];
    for (size_t gi = 0; gi < cp->ng; gi++) {
      const group *g = &cp->groups[gi];
      if (g->w != sc->s->w || g->rec != sc->s->rec || g->f != sc->f || g->op != sc->s->op || g->m != sc->m) continue;
      cp->skip[cp->nskip++] = sweep_pos(cp, gi, sc->s->n);
      break;
    }
  }
  qsort(cp->skip, cp->nskip, sizeof *cp->skip, cmp_u64);
  return 0;
}

static int build(campaign *cp, pc_worker *wk, char *err, size_t errlen) {
  const pc_campaign_opts *o = cp->o;
  uint64_t *(*lens)[FFS_OP_COUNT] = cp->lens;
  int rc0 = pc_campaign_arms(o, cp->arms, &cp->nw, err, errlen);
  if (rc0) return rc0;
  {
    char buf[1024], *save = NULL, *tok;
    snprintf(buf, sizeof buf, "%s", o->faults);
    cp->nf = 0;
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      int a = ffs_action_from_name(tok, strlen(tok));
      if (a < 0) {
        snprintf(err, errlen, "--faults: unknown fault kind '%s' (%s)", tok, ffs_action_list(0));
        return PC_EINVAL;
      }
      if (cp->nf >= MAXF) { snprintf(err, errlen, "--faults: too many"); return PC_EINVAL; }
      cp->faults[cp->nf++] = (ffs_action)a;
    }
    snprintf(buf, sizeof buf, "%s", o->models);
    cp->nm = 0;
    save = NULL;
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      if (ffs_model_from_name(tok) < 0) {
        snprintf(err, errlen, "--models: unknown model '%s' (strict, ext4, xfs, reorder, kernel-ext4, kernel-xfs, kernel-btrfs)", tok);
        return PC_EINVAL;
      }
      if (cp->nm >= MAXM) { snprintf(err, errlen, "--models: at most 4"); return PC_EINVAL; }
      snprintf(cp->models[cp->nm++], 16, "%s", tok);
    }
  }
  /* validate every workload with the target before the dry runs */
  for (int w = 0; w < cp->nw; w++) {
    pc_case c = {0};
    snprintf(c.target, sizeof c.target, "%s", o->target);
    snprintf(c.target_opts, sizeof c.target_opts, "%s", cp->arms[w].opts);
    snprintf(c.workload, sizeof c.workload, "%s", cp->arms[w].workload);
    snprintf(c.model, sizeof c.model, "strict");
    snprintf(c.plan, sizeof c.plan, "none");
    if (pc_case_validate(&c, err, errlen)) return PC_EINVAL;
  }
  for (int w = 0; w < cp->nw; w++) {
    int rc = dry_run(wk, cp, w, err, errlen);
    if (rc) return rc;
  }
  /* groups: the workload's calls, then its recovery's (rec) */
  cp->groups = calloc((size_t)2 * cp->nw * cp->nf * MAXM * FFS_OP_COUNT, sizeof *cp->groups);
  if (!cp->groups) return PC_ENOMEM;
  for (int rec = 0; rec < 2; rec++)
    for (int w = 0; w < cp->nw; w++)
      for (int f = 0; f < cp->nf; f++)
        for (int op = 0; op <= FFS_OP_PLAN_LAST; op++) {
          uint64_t n = rec ? cp->rcounts[w][op] : cp->counts[w][op];
          if (!fault_applies(cp->faults[f], (ffs_op)op) || n == 0 || traced(cp, cp->faults[f], rec)) continue;
          if (rec && ffs_model_fs((ffs_model)ffs_model_from_name(cp->models[0]))) continue; /* not on real fs */
          for (int m = 0; m < (is_kill(cp->faults[f]) ? 1 : cp->nm); m++) {
            group *g = &cp->groups[cp->ng++];
            g->w = w; g->f = f; g->m = m; g->op = (ffs_op)op; g->rec = rec;
            g->n = n;
            g->lens = rec ? cp->rlens[w][op] : lens[w][op];
            g->stride = (uint64_t)((double)g->n * 0.618) | 1;
            while (g->n > 1 && gcd(g->stride, g->n) != 1) g->stride++;
            cp->nsys += g->n;
            if (rec) cp->nrec += g->n;
            if (g->n > cp->max_round) cp->max_round = g->n;
          }
        }
  if (cp->ng == 0 && !o->trace_covered) {
    snprintf(err, errlen, "no crash points: the workloads made no syscall that the chosen fault kinds aim at");
    return PC_ESETUP;
  }
  return build_site_phase(cp);
}

/* the arm's part of a case: target options, workload, seed */
static void arm_case(const pc_arm *a, pc_case *c) {
  snprintf(c->target_opts, sizeof c->target_opts, "%s", a->opts);
  snprintf(c->workload, sizeof c->workload, "%s", a->workload);
  c->seed = a->seed;
}

static void make_plan(ffs_action a, ffs_op op, uint64_t n, const uint64_t *lens, uint64_t salt,
                      char *buf, size_t len) {
  if (takes_bytes(a)) {
    uint64_t l = lens ? lens[n - 1] : 0, s = salt, keep = l > 1 ? 1 + wl_splitmix64(&s) % (l - 1) : 0;
    snprintf(buf, len, "%s@%s#%" PRIu64 ":%" PRIu64, ffs_action_name(a), ffs_op_name(op), n, keep);
  } else {
    snprintf(buf, len, "%s@%s#%" PRIu64, ffs_action_name(a), ffs_op_name(op), n);
  }
}

/* Case number i of the whole campaign (before sharding). */
static void case_at(const campaign *cp, uint64_t i, pc_case *c) {
  const pc_campaign_opts *o = cp->o;
  memset(c, 0, sizeof *c);
  snprintf(c->target, sizeof c->target, "%s", o->target);
  if (i < cp->nscases) { /* the site phase: a site's first call */
    const site_case *sc = &cp->scases[i];
    const site *t = sc->s;
    const uint64_t *lens = t->rec ? cp->rlens[t->w][t->op] : cp->lens[t->w][t->op];
    arm_case(&cp->arms[t->w], c);
    snprintf(c->model, sizeof c->model, "%s", cp->models[sc->m]);
    if (t->rec) {
      snprintf(c->plan, sizeof c->plan, "none");
      make_plan(cp->faults[sc->f], t->op, t->n, lens, o->seed ^ i, c->rplan, sizeof c->rplan);
    } else {
      make_plan(cp->faults[sc->f], t->op, t->n, lens, o->seed ^ i, c->plan, sizeof c->plan);
    }
    return;
  }
  i -= cp->nscases;
  if (i < cp->nsys - cp->nskip) {
    /* then the sweep without the points the sites took: its i-th point is the x with
     * x - #{skipped < x} = i, x not skipped: the least fixed point of x = i + #{skipped <= x} */
    uint64_t x = i;
    for (;;) {
      uint64_t lo = 0, hi = cp->nskip;
      while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (cp->skip[mid] <= x) lo = mid + 1;
        else hi = mid;
      }
      if (i + lo == x) break;
      x = i + lo;
    }
    i = x;
    /* round-robin over groups; round r visits the r-th point of each group that has one */
    uint64_t k = i;
    for (uint64_t r = 0; r < cp->max_round; r++) {
      uint64_t live = 0;
      for (size_t gi = 0; gi < cp->ng; gi++) live += cp->groups[gi].n > r;
      if (k >= live) { k -= live; continue; }
      for (size_t gi = 0; gi < cp->ng; gi++) {
        const group *g = &cp->groups[gi];
        if (g->n <= r) continue;
        if (k--) continue;
        uint64_t n = 1 + (r * g->stride) % g->n;
        arm_case(&cp->arms[g->w], c);
        snprintf(c->model, sizeof c->model, "%s", is_kill(cp->faults[g->f]) ? cp->models[0] : cp->models[g->m]);
        if (g->rec) { /* the workload ends in its power cut; the fault fires in the recovery */
          snprintf(c->plan, sizeof c->plan, "none");
          make_plan(cp->faults[g->f], g->op, n, g->lens, o->seed ^ i, c->rplan, sizeof c->rplan);
        } else {
          make_plan(cp->faults[g->f], g->op, n, g->lens, o->seed ^ i, c->plan, sizeof c->plan);
        }
        return;
      }
    }
  } else {
    i += cp->nskip; /* random cases numbered as without the site phase */
  }
  /* random: another workload seed, a random kind and point */
  uint64_t s = o->seed * 0x9e3779b97f4a7c15ull + i;
  const group *g = &cp->groups[wl_splitmix64(&s) % cp->ng];
  uint64_t n = 1 + wl_splitmix64(&s) % g->n;
  arm_case(&cp->arms[g->w], c);
  c->seed = cp->arms[g->w].seed + 1 + (i - cp->nsys);
  snprintf(c->model, sizeof c->model, "%s",
           is_kill(cp->faults[g->f]) ? cp->models[0] : cp->models[wl_splitmix64(&s) % cp->nm]);
  {
    /* a recovery group: the fault in the recovery after this seed's workload, whose
     * calls differ from the dry run's (then the fault may not fire: the note says so) */
    char *p = g->rec ? c->rplan : c->plan;
    size_t pl = g->rec ? sizeof c->rplan : sizeof c->plan;
    if (g->rec) snprintf(c->plan, sizeof c->plan, "none");
    make_plan(cp->faults[g->f], g->op, n, NULL, s, p, pl);
    if (takes_bytes(cp->faults[g->f])) {
      uint64_t keep = 1 + wl_splitmix64(&s) % (g->lens ? (g->lens[n - 1] > 1 ? g->lens[n - 1] - 1 : 1) : 64);
      snprintf(p, pl, "%s@%s#%" PRIu64 ":%" PRIu64, ffs_action_name(cp->faults[g->f]), ffs_op_name(g->op), n, keep);
    }
  }
}

/* Cuts a partly written last line (a worker killed inside its write) off the
 * results file; returns the number of complete lines, -1 on error. */
static int64_t trim_results(const char *path) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  char buf[65536];
  int64_t lines = 0;
  off_t off = 0, last_nl = 0;
  ssize_t n;
  if (fd < 0) return -1;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] == '\n') lines++, last_nl = off + i + 1;
    off += n;
  }
  if (n < 0 || (off != last_nl && ftruncate(fd, last_nl))) lines = -1;
  close(fd);
  return lines;
}

/* ---- failure groups, shared by the workers ----
 * A group is the signature of a failing case (rpt_case_signature: verdict, key-diff shape,
 * syscall kind and path class of the cut). The first PC_KEEP_PER_GROUP failures of each
 * group are minimized and keep their crashed data dir; the others are counted only (one
 * bug hit at 700 crash points used to leave 700 tarballs and cost 700 minimizations). The table is open addressing on a 64-bit hash
 * of the signature, in shared memory; when it is full, every further new group keeps. */
#define PC_GROUP_SLOTS 4096
struct pc_group_slots {
  atomic_uint_fast64_t hash[PC_GROUP_SLOTS];
  atomic_uint_fast32_t n[PC_GROUP_SLOTS];
};

/* The number of failures of sig's group so far, this one included. */
static uint64_t group_count(pc_group_slots *gs, const char *sig) {
  uint64_t h = 1469598103934665603ull;
  for (const char *p = sig; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
  if (!h) h = 1; /* 0 marks a free slot */
  for (size_t i = 0; gs && i < PC_GROUP_SLOTS; i++) {
    size_t k = (h + i) % PC_GROUP_SLOTS;
    uint_fast64_t cur = atomic_load(&gs->hash[k]);
    if (cur == 0) {
      uint_fast64_t want = 0;
      if (!atomic_compare_exchange_strong(&gs->hash[k], &want, h)) cur = want;
      else cur = h;
    }
    if (cur == h) return atomic_fetch_add(&gs->n[k], 1) + 1;
  }
  return 1;
}

/* ---- shared state between the campaign's processes ---- */
typedef struct shared {
  atomic_uint_fast64_t next, done, failures, errors;
  atomic_int stop;
  pc_group_slots groups;
} shared;

int pc_append_line(int fd, const char *line) {
  size_t n = strlen(line);
  char *buf = malloc(n + 1);
  ssize_t w;
  if (!buf) return PC_ENOMEM;
  memcpy(buf, line, n);
  buf[n] = '\n';
  w = write(fd, buf, n + 1); /* O_APPEND: one write per line, never interleaved */
  free(buf);
  return w == (ssize_t)(n + 1) ? 0 : PC_EIO;
}

/* Re-runs m (the minimal case of a failure with `verdict`) up to `rerun` times with its
 * data dir kept, and tars the data dir of the first run that fails with that verdict into
 * OUT/artifacts (kept = its path relative to OUT). A run that passes is never kept: a
 * flaky failure's re-run may recover a good state. *runs and *failing count the runs. */
static void keep_failing_run(pc_worker *wk, const char *id, const pc_case *m, const char *verdict,
                             int rerun, const char *out_dir, char *kept, size_t klen, int *runs,
                             int *failing) {
  char keep[1200], tarball[1400], cmd[4000], min_id[2200];
  pc_run_opts ro = {0};
  uint64_t h = 1469598103934665603ull;
  *runs = *failing = 0;
  kept[0] = '\0';
  pc_case_format(m, min_id, sizeof min_id);
  snprintf(keep, sizeof keep, "%s/kept", wk->root);
  ro.keep_dir = keep;
  for (int i = 0; i < rerun && !*failing && !pc_interrupted; i++) {
    pc_result r2;
    pc_run_case(wk, m, &ro, &r2);
    (*runs)++;
    *failing = !r2.error && !strcmp(pc_result_verdict(&r2), verdict);
    pc_result_free(&r2);
  }
  if (!*failing) return;
  /* named after the failing case and its minimal case: two failures that minimize to one id
   * (a flaky one may crash in different states) never write one file */
  for (const char *p = id; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
  for (const char *p = min_id; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
  /* the tarball's top folder is named like the tarball, so several extracted in one
   * place stay apart */
  snprintf(kept, klen, "artifacts/%016" PRIx64 ".tar.gz", h);
  snprintf(tarball, sizeof tarball, "%s/%s", out_dir, kept);
  snprintf(cmd, sizeof cmd,
           "mkdir -p '%s/artifacts' && tar -czf '%s' --transform='s,^kept,case-%016" PRIx64 ",' -C '%s' kept",
           out_dir, tarball, h, wk->root);
  if (system(cmd) != 0) kept[0] = '\0';
}

/* Runs one case; when it is one of the first PC_KEEP_PER_GROUP failures of its group (gs;
 * NULL = every failure), minimizes it and keeps the crashed data dir of its minimal case.
 * Appends its line. */
int pc_case_record(pc_worker *wk, const pc_case *c, const pc_campaign_opts *o, pc_group_slots *gs,
                   int fd, int *failed) {
  char id[2200], repro[2400], min_id[2200] = "", kept[1300] = "";
  pc_run_opts ro = {0};
  pc_result r;
  rpt_case rc;
  char *line = NULL;
  int err, kept_runs = 0, kept_failing = 0;
  pc_case c2;
  char fullplan[sizeof c2.plan + sizeof c2.rplan + 1] = "";
  pc_case_format(c, id, sizeof id);
  pc_run_case(wk, c, &ro, &r);
  *failed = r.error ? 2 : r.orc.verdict != ORC_PASS;
  if (*failed == 1 && c->rplan[0]) {
    /* A violation with a fault in the recovery: when the case fails the same way
     * without that fault, the recovery is not to blame: the case recorded (and
     * grouped, minimized) is the one without it, and its note names the first. */
    pc_result r2;
    c2 = *c;
    c2.rplan[0] = '\0';
    pc_run_case(wk, &c2, &ro, &r2);
    if (!r2.error && r2.orc.verdict == r.orc.verdict) {
      char id2[2200];
      size_t n = strlen(r2.note);
      pc_case_format(&c2, id2, sizeof id2);
      snprintf(r2.note + n, sizeof r2.note - n, "%sfails without its recovery fault too (%s)", n ? "; " : "", id2);
      pc_result_free(&r);
      r = r2;
      pc_case_plan_str(c, fullplan, sizeof fullplan);
      c = &c2; /* the id stays the case's own */
    } else {
      pc_result_free(&r2);
    }
  }
  if (*failed == 1 && o->out_dir) {
    pc_case m = *c;
    char verdict[32], sig[512];
    snprintf(verdict, sizeof verdict, "%s", pc_result_verdict(&r));
    pc_result_to_rpt(c, id, &r, &rc, repro, sizeof repro);
    rpt_case_signature(&rc, sig, sizeof sig);
    /* the first few of a group are minimized and kept; the rest are counted in it */
    if (group_count(gs, sig) <= PC_KEEP_PER_GROUP) {
      /* the budget is in runs: a passing candidate costs rerun of them */
      if (o->minimize_budget > 0 &&
          pc_minimize(wk, c, verdict, o->minimize_budget * (o->rerun > 0 ? o->rerun : 1), o->rerun, &m, NULL))
        m = *c; /* not minimizable (its fault does not fire, or it passed every re-run) */
      pc_case_format(&m, min_id, sizeof min_id);
      keep_failing_run(wk, id, &m, verdict, o->rerun > 0 ? o->rerun : 1, o->out_dir, kept, sizeof kept,
                       &kept_runs, &kept_failing);
    }
  }
  char reach[256] = "";
  static int reached; /* per job: a campaign with thousands of violations stays fast */
  if (*failed == 1 && o->reach && o->reach[0] && reached < PC_REACH_MAX) {
    pc_realfs_reach(wk, c, o->reach, reach, sizeof reach);
    reached++;
  }
  pc_result_to_rpt(c, id, &r, &rc, repro, sizeof repro);
  if (fullplan[0]) rc.plan = fullplan;
  rc.minimized_id = min_id;
  rc.kept = kept;
  rc.reach = reach;
  if (kept_runs && !kept_failing) {
    /* every re-run of the minimal case passed: nothing kept, and its rate says so */
    rc.reruns = kept_runs;
    rc.reproduced = 0;
  }
  err = rpt_case_to_json(&rc, &line);
  if (!err) err = pc_append_line(fd, line);
  free(line);
  pc_result_free(&r);
  return err;
}

/* After the workers: the smallest case of each failure group (rpt_set_groups) re-run
 * o->rerun times, the count that gave its verdict recorded in results.jsonl (reruns,
 * reproduced; rewritten through a temp file and a rename). Only one case per group, so
 * the cost is bounded by the number of groups. Returns 0, or -1 with err set. */
static int rerun_groups(const pc_campaign_opts *o, const char *results, char *err, size_t len) {
  const char *paths[1] = {results};
  rpt_set *set = NULL;
  rpt_group *g = NULL;
  size_t ng = 0, todo = 0;
  pc_worker wk;
  char root[1200], tmp[1300];
  int rc = -1, wk_ready = 0;
  FILE *f = NULL;
  if (rpt_load(paths, 1, &set, err, len)) goto out;
  if (rpt_set_groups(set, &g, &ng)) {
    snprintf(err, len, "cannot group the failures: out of memory");
    goto out;
  }
  for (size_t i = 0; i < ng; i++) todo += strcmp(g[i].verdict, "ERROR") && !rpt_set_case(set, g[i].smallest)->reruns;
  if (!todo) {
    rc = 0;
    goto out;
  }
  if (!o->quiet)
    fprintf(stderr, "powercut: re-running the smallest case of %zu failure group%s %d times each\n", todo,
            todo == 1 ? "" : "s", o->rerun);
  snprintf(root, sizeof root, "%s/rerun", o->work_dir);
  if (pc_worker_init(&wk, root, o->timeout_ms, err, len)) goto out;
  wk_ready = 1;
  for (size_t i = 0; i < ng && !pc_interrupted; i++) {
    const rpt_case *c = rpt_set_case(set, g[i].smallest);
    pc_case pc;
    char perr[256];
    int same = 0, runs = 0;
    if (!strcmp(g[i].verdict, "ERROR") || c->reruns) continue;
    if (pc_case_parse(c->minimized_id[0] ? c->minimized_id : c->id, &pc, perr, sizeof perr)) {
      snprintf(err, len, "case %s: %s", c->id, perr);
      goto out;
    }
    for (int k = 0; k < o->rerun && !pc_interrupted; k++) {
      pc_run_opts ro = {0};
      pc_result r;
      pc_run_case(&wk, &pc, &ro, &r);
      runs++;
      same += !r.error && !strcmp(pc_result_verdict(&r), c->verdict);
      pc_result_free(&r);
    }
    if (!pc_interrupted) rpt_set_set_rerun(set, g[i].smallest, runs, same);
  }
  if (pc_interrupted) {
    rc = 0; /* the caller reports the signal; results.jsonl stays as the workers wrote it */
    goto out;
  }
  snprintf(tmp, sizeof tmp, "%s.tmp", results);
  if (!(f = fopen(tmp, "w")) || rpt_write_jsonl(set, f) || fflush(f) || fsync(fileno(f))) {
    snprintf(err, len, "cannot write %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (fclose(f)) {
    f = NULL;
    snprintf(err, len, "cannot write %s: %s", tmp, strerror(errno));
    goto out;
  }
  f = NULL;
  if (rename(tmp, results)) {
    snprintf(err, len, "cannot rename %s to %s: %s", tmp, results, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  if (f) fclose(f);
  if (rc) unlink(tmp);
  if (wk_ready) {
    pc_worker_fini(&wk);
    ffs_rm_rf(root);
  }
  rpt_groups_free(g, ng);
  rpt_set_free(set);
  return rc;
}

static void worker_main(campaign *cp, shared *sh, int wid, int fd, uint64_t limit, pid_t pgid,
                        pid_t parent) {
  const pc_campaign_opts *o = cp->o;
  pc_worker wk;
  char root[1100], err[512];
  /* the parent stops the workers (killpg); they never act on a signal themselves */
  pc_signals_default();
  setpgid(0, pgid);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent || pc_interrupted) _exit(2);
  snprintf(root, sizeof root, "%s/w%d", o->work_dir, wid);
  if (pc_worker_init(&wk, root, o->timeout_ms, err, sizeof err)) {
    fprintf(stderr, "powercut: worker %d: %s\n", wid, err);
    _exit(2);
  }
  for (;;) {
    uint64_t k = atomic_fetch_add(&sh->next, 1);
    pc_case c;
    int failed = 0;
    if (k >= limit || atomic_load(&sh->stop) || pc_interrupted) break;
    case_at(cp, k * (uint64_t)o->shard_n + (uint64_t)(o->shard_k - 1), &c);
    if (pc_case_record(&wk, &c, o, &sh->groups, fd, &failed)) {
      fprintf(stderr, "powercut: cannot write results: %s\n", strerror(errno));
      _exit(2);
    }
    if (failed == 1) atomic_fetch_add(&sh->failures, 1);
    if (failed == 2) atomic_fetch_add(&sh->errors, 1);
    atomic_fetch_add(&sh->done, 1);
  }
  pc_worker_fini(&wk);
  ffs_rm_rf(root);
  pc_profile_print(stderr);
  _exit(0);
}

/* One progress line: cases done (of the planned number with a case budget), rate, failures
 * and errors so far, elapsed time and what is left: the ETA from the rate with a case budget,
 * the budget's remaining time with a time budget. On a terminal it redraws in place with a
 * bar of the fraction done; otherwise it is a plain line (the caller prints one every 5 s). */
static void progress(const shared *sh, uint64_t total, uint64_t time_ms, int64_t t0, int tty, int final) {
  uint64_t done = atomic_load(&sh->done), fails = atomic_load(&sh->failures),
           errs = atomic_load(&sh->errors);
  double el = (double)(pc_now_us() - t0) / 1e6;
  double rate = el > 0 ? (double)done / el : 0, frac = 0, left = -1;
  char count[64], rest[64];
  if (total) {
    frac = (double)done / (double)total;
    if (rate > 0 && done < total) left = (double)(total - done) / rate;
    snprintf(count, sizeof count, "%" PRIu64 "/%" PRIu64 " cases", done, total);
  } else {
    snprintf(count, sizeof count, "%" PRIu64 " cases", done);
  }
  if (time_ms) {
    double budget = (double)time_ms / 1e3;
    double tl = budget - el;
    if (!total || tl < left || left < 0) left = tl > 0 ? tl : 0;
    if (!total || el / budget > frac) frac = el / budget;
  }
  if (frac > 1) frac = 1;
  if (final) snprintf(rest, sizeof rest, "done");
  else if (left >= 0) snprintf(rest, sizeof rest, "%.0fs left", left + 0.5);
  else snprintf(rest, sizeof rest, "ETA unknown");
  if (tty) {
    char bar[31];
    int fill = (int)(30.0 * frac);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %s  %.0f/s  %" PRIu64 " failing  %" PRIu64 " errors  %.1fs  %s\033[K",
            bar, count, rate, fails, errs, el, rest);
    if (final) fputc('\n', stderr);
  } else {
    fprintf(stderr, "powercut: %s, %.0f/s, %" PRIu64 " failing, %" PRIu64 " errors, %.1fs, %s\n",
            count, rate, fails, errs, el, rest);
  }
}

static void campaign_free(campaign *cp) {
  free(cp->groups);
  cp->groups = NULL;
  for (size_t i = 0; i < cp->nsites; i++) free(cp->sites[i].name);
  free(cp->sites);
  free(cp->scases);
  free(cp->skip);
  cp->sites = NULL;
  cp->scases = NULL;
  cp->skip = NULL;
  for (int w = 0; w < MAXW; w++)
    for (int op = 0; op < FFS_OP_COUNT; op++) {
      free(cp->lens[w][op]), cp->lens[w][op] = NULL;
      free(cp->rlens[w][op]), cp->rlens[w][op] = NULL;
    }
}



/* Writes the report of the results in o->out_dir (index.html, junit.xml, summary.json) and
 * prints its summary: the campaign's exit status by its results (0 all passed, 1 a
 * violation, 2 nothing verified), or -1 when the report could not be written (said). */
int pc_campaign_report(const pc_campaign_opts *o, int sig) {
  const char *paths[1] = {o->out_dir};
  rpt_set *set = NULL;
  char err[1024];
  int rc;
  if (rpt_load(paths, 1, &set, err, sizeof err) || rpt_write_all(set, o->out_dir, err, sizeof err)) {
    fprintf(stderr, "powercut campaign: report: %s\n", err);
    rpt_set_free(set);
    return -1;
  }
  if (!o->quiet) {
    rpt_print_summary(set, stdout);
    printf("report: %s/index.html  (junit.xml, summary.json, results.jsonl beside it)\n", o->out_dir);
  }
  rc = rpt_set_failures(set) > 0 ? 1 : 0;
  if (rpt_set_count(set) == 0 && !sig) {
    fprintf(stderr, "powercut campaign: no crash state was verified: nothing passed\n");
    rc = 2;
  }
  if (sig)
    fprintf(stderr, "powercut campaign: interrupted by %s: the workers were stopped; the report in %s "
            "holds the %zu cases verified before it (marked interrupted); exit %d\n",
            pc_signal_name(sig), o->out_dir, rpt_set_count(set), 128 + sig);
  rpt_set_free(set);
  return rc;
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\') fputc('\\', f);
    if ((unsigned char)*p >= 0x20) fputc(*p, f);
  }
  fputc('"', f);
}

/* meta.json "sites": the dry runs' crash sites (the report counts those crashed at). */
static void write_sites(const campaign *cp, FILE *f) {
  fprintf(f, ",\"sites\":[");
  for (size_t i = 0; i < cp->nsites; i++) {
    const site *t = &cp->sites[i];
    fprintf(f, "%s{\"site\":\"%016" PRIx64 "\",\"workload\":", i ? "," : "", t->id);
    json_str(f, cp->arms[t->w].workload);
    int aimed = 0; /* some chosen fault kind aims at its call's kind */
    for (int k = 0; k < cp->nf; k++) aimed |= t->op <= FFS_OP_PLAN_LAST && fault_applies(cp->faults[k], t->op);
    fprintf(f, ",\"op\":\"%s\",\"recovery\":%s,\"aimed\":%s,\"name\":", ffs_op_name(t->op),
            t->rec ? "true" : "false", aimed ? "true" : "false");
    json_str(f, t->name ? t->name : "");
    fputc('}', f);
  }
  fputc(']', f);
}

static int campaign_run(campaign *cp, const pc_campaign_opts *o) {
  pc_worker wk;
  shared *sh;
  char err[1024], path[1200], dry[1200];
  int fd = -1, rc = 2, tty = isatty(2);
  pid_t pids[64] = {0}, pgid = 0, parent = getpid();
  uint64_t limit;
  int64_t t0, lines = -1;
  int sig = 0;

  /* --out: results of an earlier campaign are overwritten, anything else is refused */
  if (pc_own_dir_check("--out", o->out_dir, PC_REPORT_MARKER, err, sizeof err)) {
    fprintf(stderr, "powercut campaign: %s\n", err);
    return 2;
  }
  snprintf(dry, sizeof dry, "%s/dry", o->work_dir);
  int failed = pc_worker_init(&wk, dry, o->timeout_ms, err, sizeof err) || build(cp, &wk, err, sizeof err);
  pc_worker_fini(&wk); /* its recovery server too: the workers start their own */
  if (failed) {
    ffs_rm_rf(dry);
    if (pc_interrupted) {
      fprintf(stderr, "powercut campaign: interrupted by %s during the dry run: no case ran, no report\n",
              pc_signal_name(pc_interrupted));
      return 128 + pc_interrupted;
    }
    fprintf(stderr, "powercut campaign: %s\n", err);
    return 2;
  }
  ffs_rm_rf(dry);
  if (pc_own_dir_claim("--out", o->out_dir, PC_REPORT_MARKER, 0, err, sizeof err)) {
    fprintf(stderr, "powercut campaign: %s\n", err);
    return 2;
  }
  /* an earlier campaign's tarballs would sit beside this one's (and its report link them
   * no more): artifacts/ is this program's own, written only by campaigns */
  snprintf(path, sizeof path, "%s/artifacts", o->out_dir);
  if ((rc = ffs_rm_rf(path))) {
    fprintf(stderr, "powercut campaign: cannot clear %s of an earlier campaign: %s\n", path, strerror(-rc));
    return 2;
  }
  rc = 2;
  snprintf(path, sizeof path, "%s/results.jsonl", o->out_dir);
  if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644)) < 0) {
    fprintf(stderr, "powercut campaign: cannot create %s: %s\n", path, strerror(errno));
    return 2;
  }
  if (cp->ng == 0) { /* the live part of a trace campaign with nothing live to run */
    close(fd);
    return 0;
  }
  /* cases of this shard: indices k with global = k*N + K-1 */
  if (o->cases) limit = (o->cases + (uint64_t)(o->shard_n - o->shard_k)) / (uint64_t)o->shard_n;
  else limit = UINT64_MAX;
  if (!o->quiet) pc_campaign_spread_line(o, cp->arms, cp->nw, stderr);
  if (!o->quiet)
    fprintf(stderr, "powercut: %s, %d %s, %zu crash sites (%" PRIu64 " cases at their first calls first), "
          "%" PRIu64 " systematic crash points (%" PRIu64 " in recovery), %d job(s), shard %d/%d, %s\n",
          o->target, cp->nw, o->spread ? "arms" : "workload(s)", cp->nsites, cp->nscases, cp->nsys, cp->nrec, o->jobs, o->shard_k, o->shard_n,
          o->cases ? "case budget" : "time budget");
  sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) return 2;
  memset(sh, 0, sizeof *sh);
  t0 = pc_now_us();
  fflush(NULL);
  int alive = 0;
  for (int j = 0; j < o->jobs; j++) {
    if ((pids[j] = fork()) == 0) worker_main(cp, sh, j, fd, limit, pgid, parent);
    if (pids[j] < 0) {
      fprintf(stderr, "powercut: fork: %s\n", strerror(errno));
      atomic_store(&sh->stop, 1);
      break;
    }
    alive++;
    setpgid(pids[j], pgid ? pgid : pids[j]); /* also done in the child: whichever runs first */
    if (!pgid) pgid = pids[j];
  }
  {
    int last_line = 0;
    while (alive > 0) {
      int st;
      pid_t p;
      if (pc_interrupted && !sig) {
        /* stop every worker and what it runs now; their cases in flight are not counted */
        sig = pc_interrupted;
        atomic_store(&sh->stop, 1);
        if (pgid) killpg(pgid, SIGKILL);
        for (int j = 0; j < o->jobs; j++)
          if (pids[j] > 0) kill(pids[j], SIGKILL);
      }
      p = waitpid(-1, &st, WNOHANG);
      if (p > 0) {
        alive--;
        for (int j = 0; j < o->jobs; j++)
          if (pids[j] == p) pids[j] = 0;
        if (!sig && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) atomic_fetch_add(&sh->errors, 1), atomic_store(&sh->stop, 1);
        continue;
      }
      if (o->time_ms && pc_now_us() - t0 >= (int64_t)o->time_ms * 1000) atomic_store(&sh->stop, 1);
      usleep(100000);
      int el = (int)((pc_now_us() - t0) / 5000000);
      if (!o->quiet && (tty || el != last_line)) progress(sh, o->cases ? limit : 0, o->time_ms, t0, tty, 0), last_line = el;
    }
  }
  double elapsed = (double)(pc_now_us() - t0) / 1e6;
  if (!o->quiet) progress(sh, o->cases ? limit : 0, o->time_ms, t0, tty, 1);
  close(fd);
  if (sig && (lines = trim_results(path)) < 0) {
    fprintf(stderr, "powercut campaign: cannot repair %s after %s: %s\n", path, pc_signal_name(sig),
            strerror(errno));
    return 2;
  }
  if (!sig && o->rerun > 0 && atomic_load(&sh->failures) > 0) {
    if (rerun_groups(o, path, err, sizeof err)) {
      fprintf(stderr, "powercut campaign: re-running failures: %s\n", err);
      return 2;
    }
    if (pc_interrupted) {
      sig = pc_interrupted;
      lines = (int64_t)atomic_load(&sh->done);
    }
  }
  /* meta.json for this shard */
  {
    char mp[1200], shard[32];
    FILE *f;
    snprintf(shard, sizeof shard, "%d/%d", o->shard_k, o->shard_n);
    int64_t cases = sig ? lines : (int64_t)atomic_load(&sh->done);
    snprintf(mp, sizeof mp, "%s/meta.json", o->out_dir);
    if ((f = fopen(mp, "w"))) {
      fprintf(f, "{\"shard\":\"%s\",\"elapsed_s\":%.3f,\"cases\":%" PRId64 ",\"states_per_s\":%.1f,"
                 "\"jobs\":%d,\"systematic_points\":%" PRIu64 ",\"site_cases\":%" PRIu64 ",\"argv\":\"",
              shard, elapsed, cases, elapsed > 0 ? (double)cases / elapsed : 0.0, o->jobs, cp->nsys, cp->nscases);
      for (const char *p = o->argv; *p; p++) {
        if (*p == '"' || *p == '\\') fputc('\\', f);
        if ((unsigned char)*p >= 0x20) fputc(*p, f);
      }
      fprintf(f, "\"");
      if (sig) fprintf(f, ",\"interrupted\":\"%s\"", pc_signal_name(sig));
      write_sites(cp, f);
      fprintf(f, "}\n");
      if (fclose(f)) f = NULL;
    }
    if (!f) {
      fprintf(stderr, "powercut campaign: cannot write %s: %s\n", mp, strerror(errno));
      return 2;
    }
  }
  if ((rc = pc_campaign_report(o, sig)) < 0) return 2;
  if (atomic_load(&sh->errors) > 0 && rc == 0) rc = 2;
  if (sig) rc = 128 + sig;
  munmap(sh, sizeof *sh);
  return rc;
}

int pc_campaign(const pc_campaign_opts *o) {
  campaign cp;
  int rc;
  memset(&cp, 0, sizeof cp);
  cp.o = o;
  rc = campaign_run(&cp, o);
  campaign_free(&cp);
  return rc;
}
