/*
 * tracecampaign.c - a campaign of trace-based crash states (docs/powercut.md "Trace-based
 * crash states"): each workload is recorded once, then every cut point of its record is
 * materialized for each fault kind the record covers (kill, kill-after, crash, crash-after:
 * kill and crash states; torn: the write at the cut keeps a seeded prefix) and each model
 * (reorder: a bounded, seeded set of subsets plus none and all). A state whose files were
 * seen before is not recovered again: its recovery's result is reused and only the oracle
 * runs, with the op log up to its own cut. Fault kinds a record cannot cover (eio, enospc,
 * edquot, short, flip change what the program does next) run as live cases first
 * (campaign.c); their rows and the trace rows make one report.
 *
 * Jobs split the cut points in contiguous blocks (neighbouring cuts often give the same
 * state, so each job's cache sees them). Every job replays the whole record; only the
 * states of its own block are built. In the default spread (many arms: target options,
 * workload, seed) the work is cut in rounds instead, taken by the jobs in turn: round 0 is
 * the cuts at the first call of each crash site, then TC_ROUNDS rounds of every
 * TC_ROUNDS-th cut, each round over every arm, so a --time budget explores every record
 * before it explores any one to its end. Each state's row names the crash site of the call
 * at its cut (fire_site), from a trace written beside the record by the same run.
 *
 * A row is written for every state seen for the first time, for every failing check and
 * for a job's first state at each crash site; a failure is kept (the first PC_KEEP_PER_GROUP of each
 * signature, per job) by rebuilding its state from the campaign's record, which also
 * measures its reproduction (reruns, reproduced).
 */
#include "harness_int.h"
#include "tracecase.h"

#include <cjson/cJSON.h>

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

#define TC_MAXW PC_MAX_ARMS
#define TC_MAXM 4
#define TC_ROUNDS 8 /* the spread: rounds of every 8th cut, after the sites' first cuts */
#define TC_SITE_SLOTS 8192

typedef struct tc_shared {
  atomic_uint_fast64_t checks, distinct, failures, errors, next;
  atomic_int stop;
} tc_shared;

/* recovered states by content hash */
typedef struct tc_ent {
  uint64_t h[2];
  pc_recovered rv;
  struct tc_ent *next;
} tc_ent;
#define TC_BUCKETS 4096
/* The recovered states a job keeps (a scan holds every key and value: a large workload's
 * states are megabytes each): the oldest go past this many bytes (POWERCUT_TRACE_CACHE_MIB)
 * or entries, and a state seen again after that is recovered again. Which states were seen
 * (for the distinct count) is kept apart, 16 bytes a state. */
#define TC_CACHE_MIB 64
#define TC_CACHE_ENTRIES 16384

typedef struct tc_job {
  const pc_campaign_opts *o;
  pc_worker wk;
  tc_shared *sh;
  int fd;                     /* results.jsonl */
  pc_tserver *rs;
  tc_ent *tab[TC_BUCKETS];
  tc_ent **fifo;              /* the cached entries, oldest first from fifo_head */
  size_t fifo_head, fifo_n, fifo_cap, cache_bytes, cache_max;
  uint64_t (*seen)[2];        /* hashes of every state recovered (open addressing, {0,0} free) */
  size_t seen_n, seen_cap;
  char sigs[64][256];         /* failure signatures kept so far, and how many of each */
  int nsig_kept[64], nsigs;
  struct tc_min {             /* minimizations so far: by workload, model, verdict, kind rank */
    char key[600];
    int ok;
    pc_case m;
    char rec[1300];
  } mins[16];
  int nmins;
  char work[1200], wstate[1200], st[1200], ststate[1200], rdir[1200];
  int64_t t0;
  /* the last crash state built under the current model (not reorder) and the replay's
   * durable generation then: a crash state with the same generation is that state */
  uint64_t crash_gen, crash_h[2];
  int crash_valid, verify;
  uint64_t opts_hash;         /* of the arm's target options: one cache, states of several modes */
  const uint64_t *sites;      /* the site of each entry of the record explored, or NULL */
  uint64_t site_rows[TC_SITE_SLOTS]; /* sites this job wrote a row at (open addressing, 0 free) */
} tc_job;

/* 1 the first time this job writes a row at site (so the report counts it crashed at even
 * when its state was seen before at another cut) */
static int tc_new_site(tc_job *j, uint64_t site) {
  if (!site) return 0;
  for (size_t i = 0; i < TC_SITE_SLOTS; i++) {
    uint64_t *x = &j->site_rows[(site + i) % TC_SITE_SLOTS];
    if (*x == site) return 0;
    if (!*x) {
      *x = site;
      return 1;
    }
  }
  return 0;
}

/* Which cuts of a record a pass explores: [lo, hi), and in the spread one round. */
typedef struct tc_sel {
  uint64_t lo, hi;
  int round;                  /* -1 every cut; 0 the sites' first cuts; r: the rest, cut % TC_ROUNDS */
  const uint32_t *site_cut;   /* k + 1: the cut at the k-th site's first call; 0: none */
  int nm;                     /* models */
} tc_sel;

/* Whether pass s builds the states of cut under model m. Round 0: a site's first cut under
 * one model, in turn from site to site (its other models come in the round of its residue,
 * as every other cut's). */
static int tc_in(const tc_sel *s, uint64_t cut, int m) {
  /* bit-reversed residues: each round halves the gaps the earlier ones left */
  static const uint64_t order[TC_ROUNDS] = {0, 4, 2, 6, 1, 5, 3, 7};
  if (cut < s->lo || cut >= s->hi) return 0;
  if (s->round < 0) return 1;
  uint32_t k = s->site_cut ? s->site_cut[cut] : 0;
  int first = k && (int)((k - 1) % (uint32_t)s->nm) == m;
  if (s->round == 0) return first;
  return !first && cut % TC_ROUNDS == order[s->round - 1];
}

/* path in single quotes for a shell ('\'' for a quote): 0, or -1 if out is too small. */
static int sh_quote(const char *path, char *out, size_t len) {
  size_t j = 0;
  if (len < 3) return -1;
  out[j++] = '\'';
  for (const char *p = path; *p; p++) {
    const char *s = *p == '\'' ? "'\\''" : NULL;
    size_t n = s ? 4 : 1;
    if (j + n + 2 > len) return -1;
    if (s) memcpy(out + j, s, 4);
    else out[j] = *p;
    j += n;
  }
  out[j++] = '\'';
  out[j] = 0;
  return 0;
}

static tc_ent *tc_find(tc_job *j, const uint64_t h[2]) {
  for (tc_ent *e = j->tab[h[1] % TC_BUCKETS]; e; e = e->next)
    if (e->h[0] == h[0] && e->h[1] == h[1]) return e;
  return NULL;
}

static void tc_free(tc_job *j) {
  for (int b = 0; b < TC_BUCKETS; b++)
    for (tc_ent *e = j->tab[b], *n; e; e = n) {
      n = e->next;
      pc_recovered_free(&e->rv);
      free(e);
    }
  free(j->fifo);
  free(j->seen);
}

/* Adds h to the states seen; 1 if it is new, 0 if seen before, PC_ENOMEM. */
static int tc_seen_add(tc_job *j, const uint64_t h[2]) {
  uint64_t k0 = h[0], k1 = h[1] ? h[1] : 1; /* {0,0} marks a free slot */
  if (2 * (j->seen_n + 1) > j->seen_cap) {
    size_t nc = j->seen_cap ? 2 * j->seen_cap : 4096;
    uint64_t(*ns)[2] = calloc(nc, sizeof *ns);
    if (!ns) return PC_ENOMEM;
    for (size_t i = 0; i < j->seen_cap; i++) {
      if (!j->seen[i][1]) continue;
      size_t x = j->seen[i][0] & (nc - 1);
      while (ns[x][1]) x = (x + 1) & (nc - 1);
      memcpy(ns[x], j->seen[i], sizeof ns[x]);
    }
    free(j->seen);
    j->seen = ns, j->seen_cap = nc;
  }
  size_t x = k0 & (j->seen_cap - 1);
  for (; j->seen[x][1]; x = (x + 1) & (j->seen_cap - 1))
    if (j->seen[x][0] == k0 && j->seen[x][1] == k1) return 0;
  j->seen[x][0] = k0, j->seen[x][1] = k1;
  j->seen_n++;
  return 1;
}

static size_t tc_ent_bytes(const tc_ent *e) { return sizeof *e + e->rv.len + e->rv.cklen; }

/* Caches e (its bucket and the fifo), then drops the oldest entries but e past the bounds. */
static int tc_cache_put(tc_job *j, tc_ent *e) {
  if (j->fifo_n == j->fifo_cap) {
    size_t nc = j->fifo_cap ? 2 * j->fifo_cap : 256;
    tc_ent **nf = malloc(nc * sizeof *nf);
    if (!nf) return PC_ENOMEM;
    for (size_t i = 0; i < j->fifo_n; i++) nf[i] = j->fifo[(j->fifo_head + i) % j->fifo_cap];
    free(j->fifo);
    j->fifo = nf, j->fifo_cap = nc, j->fifo_head = 0;
  }
  j->fifo[(j->fifo_head + j->fifo_n++) % j->fifo_cap] = e;
  e->next = j->tab[e->h[1] % TC_BUCKETS];
  j->tab[e->h[1] % TC_BUCKETS] = e;
  j->cache_bytes += tc_ent_bytes(e);
  while (j->fifo_n > 1 && (j->cache_bytes > j->cache_max || j->fifo_n > TC_CACHE_ENTRIES)) {
    tc_ent *old = j->fifo[j->fifo_head];
    j->fifo_head = (j->fifo_head + 1) % j->fifo_cap;
    j->fifo_n--;
    for (tc_ent **pp = &j->tab[old->h[1] % TC_BUCKETS]; *pp; pp = &(*pp)->next)
      if (*pp == old) {
        *pp = old->next;
        break;
      }
    j->cache_bytes -= tc_ent_bytes(old);
    pc_recovered_free(&old->rv);
    free(old);
  }
  return 0;
}

/* 1 the first PC_KEEP_PER_GROUP times a signature is seen by this job */
static int tc_keep_slot(tc_job *j, const char *sig) {
  for (int i = 0; i < j->nsigs; i++)
    if (!strcmp(j->sigs[i], sig)) return ++j->nsig_kept[i] <= PC_KEEP_PER_GROUP;
  if (j->nsigs == 64) return 0;
  snprintf(j->sigs[j->nsigs], sizeof j->sigs[0], "%s", sig);
  j->nsig_kept[j->nsigs++] = 1;
  return 1;
}

/* The minimal case of a failure (pc_trace_minimize), its record kept in OUT/records: 1 with
 * *m, mrec set. The search does not depend on the failure's cut (fewer ops, then the earliest
 * cut of each record), so failures of one workload, model, verdict and kind rank minimize
 * alike: a job minimizes each such key once and reuses the result. */
static int tc_minimize(tc_job *j, const pc_case *c, const char *rpath, const char *verdict, pc_case *m, char *mrec,
                       size_t len) {
  pc_trace_plan p;
  pc_trace_min tm = {0};
  char key[600], err[1400], dir[1200];
  int rerun = j->o->rerun > 0 ? j->o->rerun : 1, i;
  pc_trace_plan_parse(c->plan, &p, err, sizeof err);
  snprintf(key, sizeof key, "%s %s %s %d", c->workload, c->model, verdict,
           pc_trace_plan_rank(&p, !strcmp(c->model, "reorder")));
  for (i = 0; i < j->nmins && strcmp(j->mins[i].key, key); i++) {}
  if (i == j->nmins) {
    if (i == (int)(sizeof j->mins / sizeof j->mins[0])) return 0;
    snprintf(dir, sizeof dir, "%s/records", j->o->out_dir);
    tm.record = rpath;
    tm.records_dir = dir;
    tm.verdict = verdict;
    tm.budget = j->o->minimize_budget * rerun;
    tm.rerun = rerun;
    tm.stop = &j->sh->stop;
    snprintf(j->mins[i].key, sizeof j->mins[i].key, "%s", key);
    j->mins[i].ok = pc_trace_minimize(&j->wk, c, &tm, err, sizeof err) == 0;
    j->mins[i].m = tm.out;
    snprintf(j->mins[i].rec, sizeof j->mins[i].rec, "%s", tm.out_record);
    j->nmins++;
  }
  if (!j->mins[i].ok) return 0;
  *m = j->mins[i].m;
  snprintf(mrec, len, "%s", j->mins[i].rec);
  return 1;
}

/* Rebuilds a failing state (c, from the record rpath: the failure's own or its minimal
 * case's; o->rerun times), tars the first that gives the verdict into OUT/artifacts (named
 * after the failure's id and c's); kept = its path relative to OUT. */
static void tc_keep(tc_job *j, const char *fail_id, const pc_case *c, const char *rpath, const char *verdict,
                    char *kept, size_t klen, int *runs, int *same) {
  char keep[1200], cmd[4000], id[2200];
  uint64_t h = 1469598103934665603ull;
  int have = 0;
  *runs = *same = 0;
  kept[0] = '\0';
  snprintf(keep, sizeof keep, "%s/kept", j->wk.root);
  for (int i = 0; i < (j->o->rerun > 0 ? j->o->rerun : 1) && !pc_interrupted; i++) {
    pc_run_opts ro = {0};
    pc_result r;
    ro.record_file = rpath;
    ro.keep_dir = have ? NULL : keep;
    pc_run_case(&j->wk, c, &ro, &r);
    (*runs)++;
    if (!r.error && !strcmp(pc_result_verdict(&r), verdict)) {
      (*same)++;
      have = 1;
    } else if (!have) {
      ffs_rm_rf(keep);
    }
    pc_result_free(&r);
  }
  if (!have) return;
  pc_case_format(c, id, sizeof id);
  for (const char *p = fail_id; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
  if (strcmp(fail_id, id))
    for (const char *p = id; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
  snprintf(kept, klen, "artifacts/%016" PRIx64 ".tar.gz", h);
  snprintf(cmd, sizeof cmd,
           "mkdir -p '%s/artifacts' && tar -czf '%s/%s' --transform='s,^kept,case-%016" PRIx64 ",' -C '%s' kept",
           j->o->out_dir, j->o->out_dir, kept, h, j->wk.root);
  if (system(cmd) != 0) kept[0] = '\0';
}

/* One check of a state: its row when it is new or fails. */
static int tc_emit(tc_job *j, const pc_case *c, const pc_result *r, const ffs_rec *at, uint64_t site, int fresh,
                   const char *rpath) {
  static const char *const kinds[] = {"kill", "crash", "torn"};
  pc_trace_plan p;
  char id[2200], repro[2600], q[2300], err[256], kept[1300] = "", sig[512], verdict[32], min_id[2200] = "";
  rpt_case rc;
  char *line = NULL;
  int failed = r->error ? 2 : r->orc.verdict != ORC_PASS, runs = 0, same = 0;
  atomic_fetch_add(&j->sh->checks, 1);
  if (failed == 1) atomic_fetch_add(&j->sh->failures, 1);
  if (failed == 2) atomic_fetch_add(&j->sh->errors, 1);
  if (!fresh && !failed && !(at && tc_new_site(j, site))) return 0;
  if (at) tc_new_site(j, site);
  pc_case_format(c, id, sizeof id);
  pc_trace_plan_parse(c->plan, &p, err, sizeof err);
  snprintf(verdict, sizeof verdict, "%s", pc_result_verdict(r));
  pc_result_to_rpt(c, id, r, &rc, repro, sizeof repro);
  rc.fault_kind = (char *)kinds[p.kind];
  rc.fault_op = at ? (char *)ffs_op_name(at->op) : ""; /* the end of the record */
  rc.fired = 1;
  rc.fire_index = at ? (int64_t)at->index : -1;
  rc.fire_path = at ? (char *)at->path : "";
  char site_hex[17] = "";
  if (at && site) snprintf(site_hex, sizeof site_hex, "%016" PRIx64, site);
  rc.fire_site = site_hex;
  char *cmd = NULL;
  if (rpt_repro_command(id, &cmd) == 0 && sh_quote(rpath, q, sizeof q) == 0)
    snprintf(repro, sizeof repro, "%s --record %s", cmd, q);
  free(cmd);
  rc.repro = repro;
  if (failed == 1 && j->o->out_dir) {
    rpt_case_signature(&rc, sig, sizeof sig);
    if (tc_keep_slot(j, sig)) {
      pc_case m;
      char mrec[1300];
      const pc_case *kc = c;
      const char *krec = rpath;
      /* the first few of a group are minimized, as live failures are; the row's repro line
       * is then the minimal id's, with its record */
      if (j->o->minimize_budget > 0 && tc_minimize(j, c, rpath, verdict, &m, mrec, sizeof mrec)) {
        kc = &m;
        krec = mrec;
        pc_case_format(&m, min_id, sizeof min_id);
        cmd = NULL;
        if (rpt_repro_command(min_id, &cmd) == 0 && sh_quote(mrec, q, sizeof q) == 0)
          snprintf(repro, sizeof repro, "%s --record %s", cmd, q);
        free(cmd);
        cmd = NULL;
        rc.minimized_id = min_id;
      }
      tc_keep(j, id, kc, krec, verdict, kept, sizeof kept, &runs, &same);
      rc.kept = kept;
      rc.reruns = runs;
      rc.reproduced = same;
    }
  }
  int e = rpt_case_to_json(&rc, &line);
  if (!e) e = pc_append_line(j->fd, line);
  free(line);
  return e;
}

/* Recovers the state in dir (hash h) unless cached, on a copy (the state shares files with
 * the replay's work dir, and a recovery may write); the cached result. *fresh: the first
 * time this job sees the state (one left the cache is recovered again, not counted again). */
static int tc_recover(tc_job *j, const char *dir, const uint64_t h[2], tc_ent **out, int *fresh) {
  tc_ent *e = tc_find(j, h);
  *fresh = 0;
  if (!e) {
    if (ffs_rm_rf(j->rdir) || ffs_copy_tree(dir, j->rdir)) return PC_EIO;
    if (!(e = calloc(1, sizeof *e))) return PC_ENOMEM;
    memcpy(e->h, h, sizeof e->h);
    int rc = pc_tserver_run(j->rs, j->rdir, &e->rv);
    if (!rc && (rc = tc_seen_add(j, h)) >= 0) *fresh = rc, rc = 0;
    if (!rc) rc = tc_cache_put(j, e);
    if (rc) {
      pc_recovered_free(&e->rv);
      free(e);
      return rc;
    }
    if (*fresh) atomic_fetch_add(&j->sh->distinct, 1);
  }
  *out = e;
  return 0;
}

/* POWERCUT_PROFILE=1: time per phase of this job's states */
static int64_t tc_prof[6];
static const char *const tc_prof_names[6] = {"materialize", "hash", "recover", "judge", "emit", "replay+oplog"};

/* Builds, recovers (when new) and judges one state at the current point of the replay. */
static int tc_state(tc_job *j, ffs_replay *rp, const pc_case *base, const char *model, const pc_trace_plan *p,
                    const ffs_rec *next, uint64_t site, const wl_log *log, const char *rpath) {
  char err[1024];
  uint64_t h[2];
  tc_ent *e;
  int fresh, rc;
  pc_case c = *base;
  pc_result r;
  memset(&r, 0, sizeof r);
  r.recovery_us = -1;
  snprintf(c.model, sizeof c.model, "%s", model);
  pc_trace_plan_format(p, c.plan, sizeof c.plan);
  int64_t t = pc_now_us(), t2;
  const char *dir = j->st;
  uint64_t gen = ffs_replay_durable_gen(rp);
  int same_durable = p->kind == FFS_CUT_CRASH && strcmp(model, "reorder") && j->crash_valid && j->crash_gen == gen;
  if (same_durable && !j->verify) { /* nothing durable changed since the last crash state: it is this one */
    memcpy(h, j->crash_h, sizeof h);
    goto recover;
  }
  if (p->kind == FFS_CUT_KILL) {
    dir = ffs_replay_work(rp); /* the kill state is the work dir itself */
  } else if (ffs_rm_rf(j->st) || ffs_rm_rf(j->ststate)) {
    return PC_ESETUP;
  } else if ((rc = ffs_replay_state(rp, p->kind, next, p->keep, p->subset, p->has_seed ? p->seed : base->seed, j->st,
                                    j->ststate, err, sizeof err))) {
    r.error = 1;
    snprintf(r.note, sizeof r.note, "%s", err);
    return tc_emit(j, &c, &r, next, site, 1, rpath);
  }
  t2 = pc_now_us(), tc_prof[0] += t2 - t, t = t2;
  if (pc_trace_dir_hash(dir, h)) return PC_EIO;
  h[0] ^= j->opts_hash; /* the same files under other target options: another recovery */
  t2 = pc_now_us(), tc_prof[1] += t2 - t, t = t2;
  if (same_durable && memcmp(h, j->crash_h, sizeof h)) { /* POWERCUT_TRACE_VERIFY: the shortcut was wrong */
    r.error = 1;
    snprintf(r.note, sizeof r.note, "the crash state changed at cut %" PRIu64 " without a durable change since the "
             "last one (POWERCUT_TRACE_VERIFY)", p->cut);
    return tc_emit(j, &c, &r, next, site, 1, rpath);
  }
  if (p->kind == FFS_CUT_CRASH && strcmp(model, "reorder")) {
    j->crash_gen = gen;
    memcpy(j->crash_h, h, sizeof h);
    j->crash_valid = 1;
  }
recover:
  if ((rc = tc_recover(j, dir, h, &e, &fresh))) return rc;
  t2 = pc_now_us(), tc_prof[2] += t2 - t, t = t2;
  pc_trace_judge(&c, &e->rv, log, p->kind == FFS_CUT_KILL ? ORC_CRASH_KILL : ORC_CRASH_POWER, &r);
  t2 = pc_now_us(), tc_prof[3] += t2 - t, t = t2;
  r.case_us = pc_now_us() - j->t0;
  j->t0 = pc_now_us();
  rc = tc_emit(j, &c, &r, next, site, fresh, rpath);
  tc_prof[4] += pc_now_us() - t;
  pc_result_free(&r);
  return rc;
}

/* The states of one cut (cut = calls applied; next = the call there, NULL at the end). */
static int tc_cut(tc_job *j, ffs_replay *rp, const pc_case *base, unsigned kinds, const char *model, int first_model,
                  uint64_t cut, uint64_t digest, const ffs_rec *next, uint64_t site, const pc_trace_oplog *ob,
                  const char *rpath) {
  char err[512];
  wl_log *log = NULL;
  int rc = 0;
  pc_trace_plan p = {0};
  p.cut = cut;
  p.has_digest = 1;
  p.digest = digest;
  if (pc_trace_oplog_parse(ob, &log, err, sizeof err)) return PC_EIO;
  if (first_model && (kinds & (1u << FFS_CUT_KILL))) {
    p.kind = FFS_CUT_KILL;
    rc = tc_state(j, rp, base, model, &p, next, site, log, rpath);
  }
  if (!rc && (kinds & (1u << FFS_CUT_CRASH))) {
    p.kind = FFS_CUT_CRASH;
    if (!strcmp(model, "reorder")) {
      p.subset = FFS_SUBSET_NONE;
      rc = tc_state(j, rp, base, model, &p, next, site, log, rpath);
      p.subset = FFS_SUBSET_ALL;
      if (!rc) rc = tc_state(j, rp, base, model, &p, next, site, log, rpath);
      p.subset = FFS_SUBSET_SEEDED;
      p.has_seed = 1;
      for (int k = 0; k < PC_TRACE_SUBSETS && !rc; k++) {
        p.seed = pc_trace_subset_seed(base->seed, cut, k);
        rc = tc_state(j, rp, base, model, &p, next, site, log, rpath);
      }
      p.has_seed = 0;
    } else {
      rc = tc_state(j, rp, base, model, &p, next, site, log, rpath);
    }
  }
  if (!rc && (kinds & (1u << FFS_CUT_TORN)) && next && next->datalen > 1 && ffs_rec_mutates(next) &&
      (next->op == FFS_OP_WRITE || next->op == FFS_OP_PWRITE || next->op == FFS_OP_WRITEV)) {
    p.kind = FFS_CUT_TORN;
    p.subset = FFS_SUBSET_SEEDED;
    p.keep = pc_trace_torn_keep(base->seed, cut, next->datalen);
    rc = tc_state(j, rp, base, model, &p, next, site, log, rpath);
  }
  wl_log_free(log);
  return rc;
}

/* The cuts [lo, hi) of the record under each model. */
static int tc_explore(tc_job *j, const pc_case *base, const ffs_record *rec, const char *rpath, unsigned kinds,
                      const char models[][16], int nm, const tc_sel *sel) {
  char err[1024];
  uint64_t digest = ffs_record_digest(rec);
  int rc = 0;
  for (int m = 0; m < nm && !rc; m++) {
    ffs_replay *rp = NULL;
    pc_trace_oplog ob = {0};
    uint64_t cut = 0, calls = 0;
    if (ffs_rm_rf(j->work) || ffs_rm_rf(j->wstate) || rpt_mkdir_p(j->work)) return PC_ESETUP;
    j->crash_valid = 0; /* a new replay: its first crash state is built */
    if ((rc = ffs_replay_open(j->work, j->wstate, (ffs_model)ffs_model_from_name(models[m]), &rp, err, sizeof err))) {
      fprintf(stderr, "powercut: %s\n", err);
      return rc;
    }
    for (size_t i = 0; i <= ffs_record_count(rec) && !rc; i++) {
      const ffs_rec *e = ffs_record_at(rec, i);
      if (atomic_load(&j->sh->stop) || pc_interrupted) break;
      if (e && e->type != FFS_REC_CALL) {
        rc = pc_trace_oplog_add(&ob, e);
        continue;
      }
      if (!e || ffs_rec_mutates(e)) {
        if (cut >= sel->hi) break; /* the rest of the record is another pass's */
        if (tc_in(sel, cut, m))
          rc = tc_cut(j, rp, base, kinds, models[m], m == 0, calls, digest, e, e && j->sites ? j->sites[i] : 0, &ob,
                      rpath);
        cut++;
      }
      if (!rc && e && (rc = ffs_replay_apply(rp, e, err, sizeof err))) fprintf(stderr, "powercut: %s\n", err);
      calls++;
    }
    free(ob.buf);
    ffs_replay_close(rp);
  }
  return rc;
}

/* The cut kind a record builds for fault kind NAME (the -after kinds are the same states at
 * the next cut), or -1 for a kind that stays live. */
static int cut_kind_of(const char *name) {
  if (!strcmp(name, "kill") || !strcmp(name, "kill-after")) return FFS_CUT_KILL;
  if (!strcmp(name, "crash") || !strcmp(name, "crash-after")) return FFS_CUT_CRASH;
  if (!strcmp(name, "torn")) return FFS_CUT_TORN;
  return -1;
}

int pc_trace_covers(const char *name) { return cut_kind_of(name) >= 0; }

unsigned pc_trace_kinds(const char *faults) {
  char buf[1024], *save = NULL, *tok;
  unsigned kinds = 0;
  snprintf(buf, sizeof buf, "%s", faults);
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    int k = cut_kind_of(tok);
    if (k >= 0) kinds |= 1u << k;
  }
  return kinds;
}

static uint64_t tc_cuts(const ffs_record *rec) {
  uint64_t n = 1;
  for (size_t i = 0; i < ffs_record_count(rec); i++) n += ffs_rec_mutates(ffs_record_at(rec, i));
  return n;
}

/* A crash site of the records: the first arm whose record made a call there. */
typedef struct tc_site {
  uint64_t id;
  int arm;
  ffs_op op;
  int aimed;                  /* some call of it changes the data dir: a cut point is there */
  char *name;
} tc_site;

typedef struct tc_plan {
  char models[TC_MAXM][16], rpaths[TC_MAXW][1300];
  pc_arm arms[TC_MAXW];
  int nm, nw;
  ffs_record *recs[TC_MAXW];
  uint64_t *sites[TC_MAXW];   /* the site of each record entry, 0 when none is known */
  uint32_t *site_cut[TC_MAXW]; /* k + 1: the cut at the first call of the k-th site (of no earlier arm) */
  uint32_t nsite_cuts;
  int order[TC_MAXW];         /* the arms in a round: fewest bytes written first (cheap states) */
  uint64_t cuts[TC_MAXW], total;
  tc_site *slist;
  size_t nslist, capslist;
} tc_plan;

/* step 1: the models and workloads of o into pl; 0, or 2 with the reason printed */
static int tc_lists(const pc_campaign_opts *o, tc_plan *pl) {
  char buf[4096], *save = NULL, *tok;
  snprintf(buf, sizeof buf, "%s", o->models);
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    int m = ffs_model_from_name(tok);
    if (m < 0 || ffs_model_fs((ffs_model)m)) {
      fprintf(stderr, "powercut campaign: --trace: model '%s': trace states are built under strict, ext4, xfs or reorder "
              "(use --live for the real file systems)\n", tok);
      return 2;
    }
    if (pl->nm == TC_MAXM) { fprintf(stderr, "powercut campaign: --models: at most %d\n", TC_MAXM); return 2; }
    snprintf(pl->models[pl->nm++], 16, "%s", tok);
  }
  if (pc_campaign_arms(o, pl->arms, &pl->nw, buf, sizeof buf)) {
    fprintf(stderr, "powercut campaign: %s\n", buf);
    return 2;
  }
  if (o->shard_n > 1) {
    fprintf(stderr, "powercut campaign: --shard is for live cases (--live); a trace campaign splits its cut points "
            "over --jobs\n");
    return 2;
  }
  return 0;
}

/* step 2: the live part first (its campaign makes the report dir and results.jsonl): the
 * kinds a record cannot cover, and every kind's crash points inside the recovery after the
 * workload (a record holds the workload's calls only); with --time it gets half the time.
 * Then an empty DIR/records. 0, or the exit status. */
static int tc_prepare_out(const pc_campaign_opts *o) {
  char path[1200];
  pc_campaign_opts lo = *o;
  lo.trace_covered = 1;
  lo.quiet = 1;
  lo.time_ms = o->time_ms / 2 > 0 ? o->time_ms / 2 : o->time_ms;
  if (!o->quiet)
    fprintf(stderr, "powercut: live cases first (kinds a record cannot cover, and crash points inside recovery)%s\n",
            o->time_ms ? ", half the time" : "");
  int lrc = pc_campaign(&lo);
  if (lrc != 0 && lrc != 1) return lrc;
  snprintf(path, sizeof path, "%s/records", o->out_dir);
  if (ffs_rm_rf(path) || rpt_mkdir_p(path)) {
    fprintf(stderr, "powercut campaign: cannot make %s\n", path);
    return 2;
  }
  return 0;
}

/* The entry of slist for site id (added, named, when new); NULL when out of memory. */
static tc_site *tc_site_get(tc_plan *pl, uint64_t id, int arm, ffs_op op, const char *name) {
  for (size_t i = 0; i < pl->nslist; i++)
    if (pl->slist[i].id == id) {
      if (!pl->slist[i].name && name[0]) pl->slist[i].name = strdup(name);
      return &pl->slist[i];
    }
  if (pl->nslist == pl->capslist) {
    size_t ncap = pl->capslist ? pl->capslist * 2 : 256;
    tc_site *n = realloc(pl->slist, ncap * sizeof *n);
    if (!n) return NULL;
    pl->slist = n, pl->capslist = ncap;
  }
  pl->slist[pl->nslist] = (tc_site){.id = id, .arm = arm, .op = op, .name = name[0] ? strdup(name) : NULL};
  return &pl->slist[pl->nslist++];
}

/* The crash site of each call of arm a's record, from the trace the same run wrote (each
 * trace record matched to the record's next CALL of the same index and kind; a call left
 * unmatched has site 0), the sites into pl->slist, and which cuts are at a site's first
 * changing call. A trace that cannot be read leaves every site 0 (the seccomp backend
 * sees no stack either). 0, or PC_ENOMEM. */
static int tc_map_sites(tc_plan *pl, int a, const char *trace) {
  const ffs_record *rec = pl->recs[a];
  size_t n = ffs_record_count(rec), pos = 0;
  ffs_trace *tr = NULL;
  ffs_trace_rec *tx = malloc(sizeof *tx);
  int rc = 0;
  pl->sites[a] = calloc(n + 1, sizeof *pl->sites[a]);
  pl->site_cut[a] = calloc(pl->cuts[a] + 1, sizeof *pl->site_cut[a]);
  if (!tx || !pl->sites[a] || !pl->site_cut[a]) {
    free(tx);
    return PC_ENOMEM;
  }
  if (ffs_trace_open(trace, &tr) == 0) {
    while (ffs_trace_next(tr, tx) == 1) {
      if (tx->dur & FFS_DUR_WARN) continue;
      for (size_t i = pos; i < n && i < pos + 64; i++) {
        const ffs_rec *e = ffs_record_at(rec, i);
        if (e->type != FFS_REC_CALL || e->index != tx->index || e->op != tx->op) continue;
        pl->sites[a][i] = tx->site;
        pos = i + 1;
        if (tx->site && !tc_site_get(pl, tx->site, a, tx->op, tx->site_name)) rc = PC_ENOMEM;
        break;
      }
    }
    ffs_trace_close(tr);
  }
  free(tx);
  for (size_t i = 0, cut = 0; i < n && !rc; i++) {
    const ffs_rec *e = ffs_record_at(rec, i);
    if (e->type != FFS_REC_CALL || !ffs_rec_mutates(e)) continue;
    if (pl->sites[a][i]) {
      tc_site *t = tc_site_get(pl, pl->sites[a][i], a, e->op, "");
      if (!t) return PC_ENOMEM;
      if (!t->aimed) t->aimed = 1, pl->site_cut[a][cut] = ++pl->nsite_cuts;
    }
    cut++;
  }
  return rc;
}

/* step 3: each workload recorded once, kept as DIR/records/<digest>.rec; -1 with the
 * reason printed */
static int tc_record_all(const pc_campaign_opts *o, tc_plan *pl) {
  char err[1024], path[1200];
  pc_worker wk;
  int rc = -1;
  snprintf(path, sizeof path, "%s/trace-rec", o->work_dir);
  if (pc_worker_init(&wk, path, o->timeout_ms, err, sizeof err)) {
    fprintf(stderr, "powercut campaign: %s\n", err);
    return -1;
  }
  for (int w = 0; w < pl->nw; w++) {
    pc_case c = {0};
    char tmp[1300];
    snprintf(c.target, sizeof c.target, "%s", o->target);
    snprintf(c.target_opts, sizeof c.target_opts, "%s", pl->arms[w].opts);
    snprintf(c.workload, sizeof c.workload, "%s", pl->arms[w].workload);
    c.seed = pl->arms[w].seed;
    snprintf(c.model, sizeof c.model, "strict");
    snprintf(c.plan, sizeof c.plan, "none");
    if (pc_case_validate(&c, err, sizeof err)) {
      fprintf(stderr, "powercut campaign: %s\n", err);
      goto out;
    }
    snprintf(tmp, sizeof tmp, "%s/records/new.rec", o->out_dir);
    if (pc_trace_record_traced(&wk, &c, tmp, err, sizeof err) || ffs_record_load(tmp, &pl->recs[w], err, sizeof err)) {
      fprintf(stderr, "powercut campaign: %s: %s\n", pl->arms[w].workload, err);
      goto out;
    }
    snprintf(pl->rpaths[w], sizeof pl->rpaths[w], "%s/records/%016" PRIx64 ".rec", o->out_dir,
             ffs_record_digest(pl->recs[w]));
    if (rename(tmp, pl->rpaths[w])) {
      fprintf(stderr, "powercut campaign: rename %s: %s\n", tmp, strerror(errno));
      goto out;
    }
    pl->cuts[w] = tc_cuts(pl->recs[w]);
    pl->total += pl->cuts[w];
    if (tc_map_sites(pl, w, wk.trace)) {
      fprintf(stderr, "powercut campaign: %s: the crash sites of its record: out of memory\n", pl->arms[w].workload);
      goto out;
    }
  }
  /* the arms by the bytes their records wrote (a stable insertion sort: ties keep the order) */
  uint64_t bytes[TC_MAXW] = {0};
  for (int w = 0; w < pl->nw; w++) {
    for (size_t i = 0; i < ffs_record_count(pl->recs[w]); i++) {
      const ffs_rec *e = ffs_record_at(pl->recs[w], i);
      if (e->type == FFS_REC_CALL) bytes[w] += e->datalen;
    }
    int k = w;
    for (; k > 0 && bytes[pl->order[k - 1]] > bytes[w]; k--) pl->order[k] = pl->order[k - 1];
    pl->order[k] = w;
  }
  rc = 0;
out:
  pc_worker_fini(&wk);
  ffs_rm_rf(wk.root);
  return rc;
}

/* step 4, in job jn's child: its block of every workload's cut points */
/* POWERCUT_TRACE_CACHE_MIB, or TC_CACHE_MIB; 0 if it is not a number from 1 to 2^20. */
static unsigned long tc_cache_mib(void) {
  const char *cm = getenv("POWERCUT_TRACE_CACHE_MIB");
  char *end;
  if (!cm) return TC_CACHE_MIB;
  unsigned long v = strtoul(cm, &end, 10);
  return *cm >= '0' && *cm <= '9' && !*end && v >= 1 && v <= (1ul << 20) ? v : 0;
}

/* This process's resident set (VmRSS), KiB; -1 if unknown. */
static long tc_rss_kib(void) {
  char line[256];
  long kib = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld", &kib) == 1) break;
  fclose(f);
  return kib;
}

static _Noreturn void tc_job_main(const pc_campaign_opts *o, const tc_plan *pl, tc_shared *sh, int fd, int jn,
                                  unsigned kinds) {
  char err[1024], path[1200];
  tc_job *j = calloc(1, sizeof *j);
  int jrc = 0;
  pc_signals_default();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  snprintf(path, sizeof path, "%s/tw%d", o->work_dir, jn);
  if (!j || pc_worker_init(&j->wk, path, o->timeout_ms, err, sizeof err)) _exit(2);
  j->o = o;
  j->sh = sh;
  j->fd = fd;
  j->t0 = pc_now_us();
  j->verify = getenv("POWERCUT_TRACE_VERIFY") != NULL;
  long rss0 = tc_rss_kib();
  j->cache_max = (size_t)tc_cache_mib() << 20; /* checked by the parent */
  snprintf(j->work, sizeof j->work, "%s/xwork", path);
  snprintf(j->wstate, sizeof j->wstate, "%s/xwstate", path);
  snprintf(j->st, sizeof j->st, "%s/xst", path);
  snprintf(j->ststate, sizeof j->ststate, "%s/xststate", path);
  snprintf(j->rdir, sizeof j->rdir, "%s/xrecover", path);
  /* without the spread: this job's block of each record; in the spread: the next (round,
   * arm) of the shared counter, round-major */
  uint64_t units = o->spread ? (uint64_t)(TC_ROUNDS + 1) * (uint64_t)pl->nw : (uint64_t)pl->nw;
  for (uint64_t u = o->spread ? atomic_fetch_add(&sh->next, 1) : 0; u < units && !jrc && !atomic_load(&sh->stop);
       u = o->spread ? atomic_fetch_add(&sh->next, 1) : u + 1) {
    int w = pl->order[u % (uint64_t)pl->nw];
    const pc_arm *a = &pl->arms[w];
    pc_case base = {0};
    tc_sel sel = {.lo = 0, .hi = pl->cuts[w], .round = -1, .site_cut = pl->site_cut[w], .nm = pl->nm};
    if (o->spread) {
      sel.round = (int)(u / (uint64_t)pl->nw);
      if (sel.round == 0) /* the replay stops after the last site's first cut */
        for (sel.hi = pl->cuts[w]; sel.hi > 0 && !pl->site_cut[w][sel.hi - 1]; sel.hi--) continue;
    } else {
      sel.lo = pl->cuts[w] * (uint64_t)jn / (uint64_t)o->jobs;
      sel.hi = pl->cuts[w] * (uint64_t)(jn + 1) / (uint64_t)o->jobs;
    }
    snprintf(base.target, sizeof base.target, "%s", o->target);
    snprintf(base.target_opts, sizeof base.target_opts, "%s", a->opts);
    snprintf(base.workload, sizeof base.workload, "%s", a->workload);
    base.seed = a->seed;
    j->opts_hash = 1469598103934665603ull;
    for (const char *p = a->opts; *p; p++) j->opts_hash = (j->opts_hash ^ (uint8_t)*p) * 1099511628211ull;
    j->sites = pl->sites[w];
    int64_t tu = pc_now_us();
    if (pc_tserver_open(&base, j->wk.root, o->timeout_ms, &j->rs)) _exit(2);
    jrc = tc_explore(j, &base, pl->recs[w], pl->rpaths[w], kinds, pl->models, pl->nm, &sel);
    pc_tserver_close(j->rs);
    j->rs = NULL;
    if (getenv("POWERCUT_PROFILE"))
      fprintf(stderr, "trace job %d: %s %s round %d cuts [%" PRIu64 ", %" PRIu64 "): %.3f s\n", jn, a->opts, a->workload,
              sel.round, sel.lo, sel.hi, (double)(pc_now_us() - tu) / 1e6);
  }
  if (getenv("POWERCUT_PROFILE")) {
    fprintf(stderr, "trace job %d:", jn);
    for (int k = 0; k < 6; k++) fprintf(stderr, " %s %.3f s", tc_prof_names[k], (double)tc_prof[k] / 1e6);
    fprintf(stderr, "; cache %zu states, %zu bytes; rss from %ld to %ld KiB\n", j->fifo_n, j->cache_bytes, rss0,
            tc_rss_kib());
  }
  tc_free(j);
  pc_worker_fini(&j->wk);
  ffs_rm_rf(j->wk.root);
  _exit(jrc ? 2 : 0);
}

/* step 5: waits for the jobs, stopping them at a signal or at --time; the signal, or 0 */
static int tc_wait(const pc_campaign_opts *o, tc_shared *sh, const pid_t *pids, int64_t t0) {
  int alive = 0, failed = 0, sig = 0;
  for (int jn = 0; jn < o->jobs; jn++) alive += pids[jn] > 0;
  while (alive > 0) {
    int st;
    pid_t p = waitpid(-1, &st, WNOHANG);
    if (p > 0) {
      alive--;
      if (!WIFEXITED(st) || WEXITSTATUS(st)) failed = 1;
      continue;
    }
    if (pc_interrupted && !sig) {
      sig = pc_interrupted;
      atomic_store(&sh->stop, 1);
    }
    if (o->time_ms && pc_now_us() - t0 >= (int64_t)o->time_ms * 1000) atomic_store(&sh->stop, 1);
    usleep(20000);
  }
  if (failed && !sig) atomic_fetch_add(&sh->errors, 1);
  return sig;
}

/* DIR/meta.json, which the live part wrote (or not, when it had nothing to run), made to
 * count the whole campaign: its cases are the live cases and the distinct trace states, its
 * time the live part's and the trace part's, so the report's throughput is the campaign's. */
static int tc_meta(const pc_campaign_opts *o, uint64_t distinct, double total_s) {
  char path[1200], *text = NULL, *out = NULL;
  cJSON *m = NULL;
  FILE *f;
  long n = 0;
  double live = 0;
  snprintf(path, sizeof path, "%s/meta.json", o->out_dir);
  if ((f = fopen(path, "r"))) {
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (1l << 26) && fseek(f, 0, SEEK_SET) == 0 &&
        (text = calloc(1, (size_t)n + 1)) && fread(text, 1, (size_t)n, f) == (size_t)n)
      m = cJSON_Parse(text);
    fclose(f);
    free(text);
  }
  if (!m && !(m = cJSON_CreateObject())) return -1;
  cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "cases");
  if (cJSON_IsNumber(c)) live = c->valuedouble;
  double cases = live + (double)distinct;
  cJSON_DeleteItemFromObjectCaseSensitive(m, "cases");
  cJSON_DeleteItemFromObjectCaseSensitive(m, "elapsed_s");
  cJSON_DeleteItemFromObjectCaseSensitive(m, "states_per_s");
  cJSON_DeleteItemFromObjectCaseSensitive(m, "live_cases");
  cJSON_DeleteItemFromObjectCaseSensitive(m, "trace_states");
  if (!cJSON_GetObjectItemCaseSensitive(m, "shard")) cJSON_AddStringToObject(m, "shard", "1/1");
  if (!cJSON_GetObjectItemCaseSensitive(m, "jobs")) cJSON_AddNumberToObject(m, "jobs", o->jobs);
  if (!cJSON_GetObjectItemCaseSensitive(m, "argv")) cJSON_AddStringToObject(m, "argv", o->argv ? o->argv : "");
  if (!cJSON_AddNumberToObject(m, "cases", cases) || !cJSON_AddNumberToObject(m, "elapsed_s", total_s) ||
      !cJSON_AddNumberToObject(m, "states_per_s", total_s > 0 ? cases / total_s : 0) ||
      !cJSON_AddNumberToObject(m, "live_cases", live) || !cJSON_AddNumberToObject(m, "trace_states", (double)distinct) ||
      !(out = cJSON_PrintUnformatted(m))) {
    cJSON_Delete(m);
    return -1;
  }
  cJSON_Delete(m);
  int rc = -1;
  if ((f = fopen(path, "w"))) {
    rc = fprintf(f, "%s\n", out) < 0 ? -1 : 0;
    if (fclose(f)) rc = -1;
  }
  free(out);
  return rc;
}

/* step 6: the counts, in DIR/meta-trace.json and on the terminal */
static void tc_counts(const pc_campaign_opts *o, const tc_plan *pl, tc_shared *sh, double el) {
  char path[1200];
  FILE *f;
  uint64_t distinct = atomic_load(&sh->distinct), checks = atomic_load(&sh->checks);
  snprintf(path, sizeof path, "%s/meta-trace.json", o->out_dir);
  if ((f = fopen(path, "w"))) {
    fprintf(f, "{\"mode\":\"trace\",\"elapsed_s\":%.3f,\"cut_points\":%" PRIu64 ",\"checks\":%" PRIu64
               ",\"distinct_states\":%" PRIu64 ",\"distinct_states_per_s\":%.1f,\"jobs\":%d}\n",
            el, pl->total, checks, distinct, el > 0 ? (double)distinct / el : 0.0, o->jobs);
    fclose(f);
  }
  if (!o->quiet)
    fprintf(stderr, "powercut: %" PRIu64 " cut points, %" PRIu64 " checks, %" PRIu64 " distinct crash states verified "
            "in %.1fs (%.0f/s), %" PRIu64 " failing checks, %" PRIu64 " errors\n", pl->total, checks, distinct, el,
            el > 0 ? (double)distinct / el : 0.0, (uint64_t)atomic_load(&sh->failures), (uint64_t)atomic_load(&sh->errors));
}

/* step 6b: the records' crash sites into DIR/meta.json "sites" (the report counts those
 * crashed at, docs/reports.md): added to the live part's meta.json, or in a new one. 0, or
 * -1 with the reason printed. */
static int tc_meta_sites(const pc_campaign_opts *o, const tc_plan *pl, double el, uint64_t distinct, int sig) {
  char path[1200], tmp[1300];
  FILE *f = NULL;
  cJSON *root = NULL, *sites;
  char *text = NULL;
  int rc = -1;
  snprintf(path, sizeof path, "%s/meta.json", o->out_dir);
  if ((f = fopen(path, "r"))) {
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fseek(f, 0, SEEK_SET) == 0 && fread(buf, 1, (size_t)n, f) == (size_t)n) {
      buf[n] = '\0';
      root = cJSON_Parse(buf);
    }
    free(buf);
    fclose(f);
    f = NULL;
    if (!root || !cJSON_IsObject(root)) {
      fprintf(stderr, "powercut campaign: %s (of the live cases) is not a JSON object\n", path);
      goto out;
    }
  } else {
    char shard[8] = "1/1";
    if (!(root = cJSON_CreateObject()) || !cJSON_AddStringToObject(root, "shard", shard) ||
        !cJSON_AddNumberToObject(root, "elapsed_s", el) || !cJSON_AddNumberToObject(root, "cases", (double)distinct) ||
        !cJSON_AddNumberToObject(root, "states_per_s", el > 0 ? (double)distinct / el : 0.0) ||
        !cJSON_AddNumberToObject(root, "jobs", o->jobs) || !cJSON_AddStringToObject(root, "argv", o->argv ? o->argv : ""))
      goto nomem;
  }
  if (sig) {
    cJSON_DeleteItemFromObjectCaseSensitive(root, "interrupted");
    if (!cJSON_AddStringToObject(root, "interrupted", pc_signal_name(sig))) goto nomem;
  }
  if (!(sites = cJSON_GetObjectItemCaseSensitive(root, "sites")) && !(sites = cJSON_AddArrayToObject(root, "sites")))
    goto nomem;
  for (size_t i = 0; i < pl->nslist; i++) {
    const tc_site *t = &pl->slist[i];
    char hex[17];
    const cJSON *e;
    int have = 0;
    snprintf(hex, sizeof hex, "%016" PRIx64, t->id);
    cJSON_ArrayForEach(e, sites) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "site");
      have |= cJSON_IsString(v) && !strcmp(v->valuestring, hex);
    }
    if (have) continue;
    cJSON *x = cJSON_CreateObject();
    if (!x || !cJSON_AddStringToObject(x, "site", hex) ||
        !cJSON_AddStringToObject(x, "workload", pl->arms[t->arm].workload) ||
        !cJSON_AddStringToObject(x, "op", ffs_op_name(t->op)) || !cJSON_AddFalseToObject(x, "recovery") ||
        !cJSON_AddBoolToObject(x, "aimed", t->aimed) || !cJSON_AddStringToObject(x, "name", t->name ? t->name : "")) {
      cJSON_Delete(x);
      goto nomem;
    }
    cJSON_AddItemToArray(sites, x);
  }
  if (!(text = cJSON_PrintUnformatted(root))) goto nomem;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  if (!(f = fopen(tmp, "w")) || fprintf(f, "%s\n", text) < 0 || fclose(f)) {
    f = NULL;
    fprintf(stderr, "powercut campaign: cannot write %s: %s\n", tmp, strerror(errno));
    goto out;
  }
  f = NULL;
  if (rename(tmp, path)) {
    fprintf(stderr, "powercut campaign: cannot rename %s: %s\n", tmp, strerror(errno));
    goto out;
  }
  rc = 0;
  goto out;
nomem:
  fprintf(stderr, "powercut campaign: %s: out of memory\n", path);
out:
  if (f) fclose(f);
  free(text);
  cJSON_Delete(root);
  return rc;
}

int pc_trace_campaign(const pc_campaign_opts *o, unsigned kinds) {
  static tc_plan pl;
  char path[1200];
  int rc = 2, fd = -1, sig;
  tc_shared *sh = NULL;
  int64_t start = pc_now_us();
  pid_t pids[64] = {0};

  memset(&pl, 0, sizeof pl);
  if (!tc_cache_mib()) {
    fprintf(stderr, "powercut campaign: POWERCUT_TRACE_CACHE_MIB=%s: want a number of MiB from 1 to 1048576\n",
            getenv("POWERCUT_TRACE_CACHE_MIB"));
    return 2;
  }
  if ((rc = tc_lists(o, &pl)) || (rc = tc_prepare_out(o))) return rc;
  rc = 2;
  int64_t trec = pc_now_us(); /* the trace part's time counts its recording */
  if (tc_record_all(o, &pl)) goto out;
  snprintf(path, sizeof path, "%s/results.jsonl", o->out_dir);
  if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
    fprintf(stderr, "powercut campaign: cannot open %s: %s\n", path, strerror(errno));
    goto out;
  }
  if (!o->quiet) {
    pc_campaign_spread_line(o, pl.arms, pl.nw, stderr);
    size_t aimed = 0;
    for (size_t i = 0; i < pl.nslist; i++) aimed += pl.slist[i].aimed;
    fprintf(stderr, "powercut: %s, %d %s recorded, %" PRIu64 " cut points, %zu crash sites (%zu at cut points%s), "
            "models %s, %d job(s) (trace-based states)\n", o->target, pl.nw, o->spread ? "arms" : "workload(s)",
            pl.total, pl.nslist, aimed, o->spread ? ", their first cuts first" : "", o->models, o->jobs);
  }
  sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) goto out;
  memset(sh, 0, sizeof *sh);
  int64_t t0 = pc_now_us(); /* the states' exploration starts */
  fflush(NULL);
  for (int jn = 0; jn < o->jobs && jn < 64; jn++) {
    pid_t pid = fork();
    if (pid < 0) break;
    if (pid == 0) tc_job_main(o, &pl, sh, fd, jn, kinds);
    pids[jn] = pid;
  }
  /* --time counts from the live part's start, but the states get at least half of it (the
   * dry runs and records of many arms can take longer than the live part's half) */
  int64_t from = start;
  if (o->time_ms && t0 - o->time_ms * 500 > from) from = t0 - o->time_ms * 500;
  sig = tc_wait(o, sh, pids, from);
  close(fd);
  fd = -1;
  double el = (double)(pc_now_us() - trec) / 1e6; /* the trace part, its recording included */
  tc_counts(o, &pl, sh, el);
  if (tc_meta(o, atomic_load(&sh->distinct), (double)(pc_now_us() - start) / 1e6)) {
    fprintf(stderr, "powercut campaign: cannot write %s/meta.json\n", o->out_dir);
    goto out;
  }
  if (tc_meta_sites(o, &pl, el, (uint64_t)atomic_load(&sh->distinct), sig)) goto out;
  if ((rc = pc_campaign_report(o, sig)) < 0) {
    rc = 2;
    goto out;
  }
  if (atomic_load(&sh->errors) > 0 && rc == 0) rc = 2;
  if (sig) rc = 128 + sig;
out:
  if (fd >= 0) close(fd);
  if (sh && sh != MAP_FAILED) munmap(sh, sizeof *sh);
  for (int w = 0; w < pl.nw; w++) {
    ffs_record_free(pl.recs[w]);
    free(pl.sites[w]);
    free(pl.site_cut[w]);
  }
  for (size_t i = 0; i < pl.nslist; i++) free(pl.slist[i].name);
  free(pl.slist);
  return rc;
}
