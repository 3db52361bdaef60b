/*
 * fidelity.c - `powercut fidelity`: the durability models against real file systems.
 *
 * For each power-cut case taken from campaign results (the model in its id is
 * replaced), it runs:
 *   - the case under each model M (emulated), keeping the crashed data dir: DM,
 *     the model's state (everything M does not call durable is gone);
 *   - the case with its cut turned into a process kill and no final power cut,
 *     keeping the data dir: DP, what the page cache held at the cut;
 *   - the case on each real file system F (kernel-F), keeping the data dir: R.
 * A model allows R when every file of R is one M allows between DM and DP:
 *   (1) a file in both DM and DP with the same bytes (durable, never changed
 *       after) is in R with those bytes;
 *   (2) every byte of a file in R is its byte in DM or in DP, or zero where the
 *       two differ or lie beyond the durable size (a non-durable extension);
 *   (3) a file of R is in DM or DP, and at least min(|DM|, |DP|) long when in
 *       both (durable bytes unchanged since their sync).
 * A file the run unlinked or renamed away may survive as an earlier incarnation whose
 * bytes no run recorded, and a file written through stdio or a shared mapping is beyond
 * the model: such files are counted, not compared (a renamed file's new name is).
 * This is a necessary condition (each file on its own, byte by byte), so a state
 * it rejects is certainly not one M allows; it needs a target that makes the
 * same system calls on every run (sofadb, SQLite, LMDB; not LevelDB/RocksDB,
 * whose background threads move them).
 * It also compares verdicts: a violation under M whose case passes on F is
 * not reachable on F.
 */
#define _GNU_SOURCE
#include "harness_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXMOD 4
#define MAXFS 3

typedef struct cell {
  uint64_t cases, allowed, model_fail, model_fail_fs_pass, fs_fail_model_pass, unchecked, nondet;
  char example[4][1400]; /* the first states the model does not allow */
  char missed[2400];    /* the first real violation the model passed */
} cell;

static int read_all(const char *path, unsigned char **buf, size_t *len) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  size_t off = 0;
  *buf = NULL;
  *len = 0;
  if (fd < 0) return -errno;
  if (fstat(fd, &st) < 0 || !(*buf = malloc((size_t)st.st_size + 1))) {
    close(fd);
    return -ENOMEM;
  }
  while (off < (size_t)st.st_size) {
    ssize_t n = read(fd, *buf + off, (size_t)st.st_size - off);
    if (n <= 0) break;
    off += (size_t)n;
  }
  close(fd);
  *len = off;
  return 0;
}

/* Renames of the run (from the kill run's trace): a file renamed away before the cut can
 * survive under its old name when the rename does not; its bytes are then those of the
 * new name. */
typedef struct alias {
  char from[256], to[256]; /* to = "" for an unlink */
} alias;
static alias *g_alias;
/* The durable bytes of every file whose name ever became durable or not (the ext4 model's
 * state: same data rules as strict, and it keeps a synced file's own name). */
static const char *g_dc;
static const char *g_dp2;  /* a second page-cache run: bytes that differ from DP differ per run */
static uint64_t g_nondet;  /* bytes of the current state not compared for that reason */
static size_t g_nalias;

static void load_aliases(const char *trace) {
  ffs_trace *t = NULL;
  ffs_trace_rec rec;
  g_nalias = 0;
  if (ffs_trace_open(trace, &t)) return;
  while (ffs_trace_next(t, &rec) == 1) {
    if ((rec.dur & FFS_DUR_WARN) && strlen(rec.path) < 256) { /* stdio, mmap: the model cannot see these writes */
      alias *na = realloc(g_alias, (g_nalias + 1) * sizeof *na);
      if (!na) break;
      g_alias = na;
      snprintf(g_alias[g_nalias].from, 256, "%s", rec.path);
      snprintf(g_alias[g_nalias].to, 256, "%s", "");
      g_nalias++;
      continue;
    }
    if ((rec.op != FFS_OP_RENAME && rec.op != FFS_OP_UNLINK) || rec.result != 0 || strlen(rec.path) >= 256 ||
        strlen(rec.path2) >= 256)
      continue;
    alias *na = realloc(g_alias, (g_nalias + 1) * sizeof *na);
    if (!na) break;
    g_alias = na;
    snprintf(g_alias[g_nalias].from, 256, "%s", rec.path);
    snprintf(g_alias[g_nalias].to, 256, "%s", rec.path2);
    g_nalias++;
  }
  ffs_trace_close(t);
}

/* 1 if the run unlinked rel or renamed it away (an earlier incarnation of it may survive), or
 * wrote it in a way the shim cannot model (stdio, a shared mapping: a warning in the trace). */
static int replaced(const char *rel) {
  for (size_t i = 0; i < g_nalias; i++)
    if (!strcmp(g_alias[i].from, rel)) return 1;
  return 0;
}

static const char *renamed_to(const char *rel) {
  const char *to = NULL;
  for (size_t i = 0; i < g_nalias; i++)
    if (!strcmp(g_alias[i].from, rel) && g_alias[i].to[0]) to = g_alias[i].to;
  for (size_t i = 0; to && i < g_nalias; i++) /* follow a chain a -> b -> c once */
    if (!strcmp(g_alias[i].from, to)) to = g_alias[i].to;
  return to;
}

/* Checks R/rel against DM/rel and DP/rel, rules (1)-(3). Returns 1 allowed, 0 not (why). */
static int file_allowed(const char *dm, const char *dp, const char *r, const char *rel, char *why, size_t wl) {
  char a[4200], b[4200], c[4200];
  const char *as = NULL;
  unsigned char *m = NULL, *p = NULL, *x = NULL, *p2 = NULL;
  size_t ml = 0, pl = 0, xl = 0, p2l = 0;
  int hm, hp, hx, hp2 = 0, ok = 1;
  if (g_dp2) {
    snprintf(a, sizeof a, "%s/%s", g_dp2, rel);
    hp2 = read_all(a, &p2, &p2l) == 0;
  }
  snprintf(a, sizeof a, "%s/%s", dm, rel);
  snprintf(b, sizeof b, "%s/%s", dp, rel);
  snprintf(c, sizeof c, "%s/%s", r, rel);
  hm = read_all(a, &m, &ml) == 0;
  hp = read_all(b, &p, &pl) == 0;
  hx = read_all(c, &x, &xl) == 0;
  if (!hx) {
    if (hm && hp && ml == pl && !memcmp(m, p, ml)) {
      snprintf(why, wl, "%s: durable and unchanged under the model, missing on the real file system", rel);
      ok = 0;
    }
    goto out;
  }
  if (!hm && !hp && (as = renamed_to(rel))) { /* the rename that moved it away was lost */
    snprintf(a, sizeof a, "%s/%s", dm, as);
    snprintf(b, sizeof b, "%s/%s", dp, as);
    hm = read_all(a, &m, &ml) == 0;
    hp = read_all(b, &p, &pl) == 0;
  }
  if (!hm && g_dc) { /* the model drops the file's name; if the name survives, its synced bytes must */
    snprintf(a, sizeof a, "%s/%s", g_dc, as ? as : rel);
    hm = read_all(a, &m, &ml) == 0;
  }
  if (!hm && !hp) {
    snprintf(why, wl, "%s: on the real file system, but neither durable nor written before the cut", rel);
    ok = 0;
    goto out;
  }
  if (hm && hp && xl < (ml < pl ? ml : pl)) {
    snprintf(why, wl, "%s: %zu bytes on the real file system, the model keeps at least %zu", rel, xl, ml < pl ? ml : pl);
    ok = 0;
    goto out;
  }
  for (size_t i = 0; i < xl; i++) {
    int inm = hm && i < ml, inp = hp && i < pl;
    int same = inm && inp && m[i] == p[i];
    if (inp && hp2 && i < p2l && p[i] != p2[i]) { /* a byte each run writes differently (a nonce) */
      g_nondet++;
      continue;
    }
    if ((inm && x[i] == m[i]) || (inp && x[i] == p[i]) || (!same && x[i] == 0)) continue;
    {
      char dur[32] = "", last[32] = "";
      if (inm) snprintf(dur, sizeof dur, " 0x%02x (durable)", m[i]);
      if (inp && !same) snprintf(last, sizeof last, " 0x%02x (latest)", p[i]);
      snprintf(why, wl, "%s: byte %zu is 0x%02x on the real file system; the model allows%s%s%s", rel, i, x[i], dur,
               last, same ? "" : " 0x00 (unwritten)");
    }
    ok = 0;
    break;
  }
out:
  if (!ok && hx && replaced(rel)) ok = 2; /* an earlier incarnation: its bytes are not recorded */
  free(m);
  free(p);
  free(p2);
  free(x);
  return ok;
}

/* Every regular file under dir (relative names) appended to *names. */
static int list_files(const char *root, const char *sub, char ***names, size_t *n, size_t *cap) {
  char path[4200];
  DIR *d;
  struct dirent *e;
  snprintf(path, sizeof path, "%s%s%s", root, *sub ? "/" : "", sub);
  if (!(d = opendir(path))) return errno == ENOENT ? 0 : -errno;
  while ((e = readdir(d))) {
    char rel[4200], full[8400];
    struct stat st;
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(rel, sizeof rel, "%s%s%s", sub, *sub ? "/" : "", e->d_name);
    snprintf(full, sizeof full, "%s/%s", root, rel);
    if (lstat(full, &st) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      list_files(root, rel, names, n, cap);
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    for (size_t i = 0; i < *n; i++)
      if (!strcmp((*names)[i], rel)) goto next;
    if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 32;
      *names = realloc(*names, *cap * sizeof **names);
    }
    (*names)[(*n)++] = strdup(rel);
  next:;
  }
  closedir(d);
  return 0;
}

static int state_allowed(const char *dm, const char *dp, const char *r, char *why, size_t wl, uint64_t *unchecked) {
  char **names = NULL;
  size_t n = 0, cap = 0;
  int ok = 1;
  list_files(dm, "", &names, &n, &cap);
  list_files(dp, "", &names, &n, &cap);
  list_files(r, "", &names, &n, &cap);
  for (size_t i = 0; i < n && ok; i++) {
    ok = file_allowed(dm, dp, r, names[i], why, wl);
    if (ok == 2) (*unchecked)++, ok = 1;
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return ok;
}

/* The plan with its cut turned into a process kill at the same point (torn: after the
 * whole write, the most a torn write can leave). */
static int kill_plan(const char *plan, char *out, size_t len) {
  ffs_plan *p = NULL;
  char err[128];
  if (ffs_plan_parse(plan, &p, err, sizeof err)) return -1;
  for (size_t i = 0; i < p->nrules; i++) {
    ffs_rule *r = &p->rules[i];
    if (r->action == FFS_A_CRASH) r->action = FFS_A_KILL;
    else if (r->action == FFS_A_CRASH_AFTER || r->action == FFS_A_TORN) {
      r->action = FFS_A_KILL_AFTER;
      r->has_arg = 0;
      r->arg = 0;
    }
  }
  int rc = ffs_plan_format(p, out, len);
  ffs_plan_free(p);
  return rc < 0 ? -1 : 0;
}

/* Kill cases have no power cut; a torn write is a device fault the model applies (its
 * prefix is durable by definition) and a shutdown cannot reproduce: both are skipped. */
static int skipped_case(const char *plan) {
  ffs_plan *p = NULL;
  char err[128];
  int k = 0;
  if (ffs_plan_parse(plan, &p, err, sizeof err)) return 1;
  for (size_t i = 0; i < p->nrules; i++)
    k |= p->rules[i].action == FFS_A_KILL || p->rules[i].action == FFS_A_KILL_AFTER || p->rules[i].action == FFS_A_TORN;
  ffs_plan_free(p);
  return k;
}

static int run_keep(pc_worker *w, const pc_case *c, const char *keep, int no_cut, int trace, char *verdict,
                    size_t vl) {
  pc_run_opts o = {0};
  pc_result r;
  o.keep_dir = keep;
  o.trace = trace;
  o.no_final_cut = no_cut;
  int rc = pc_run_case(w, c, &o, &r);
  snprintf(verdict, vl, "%s", pc_result_verdict(&r));
  if (r.error) fprintf(stderr, "fidelity: %s/%s: %s\n", c->model, c->plan, r.note);
  pc_result_free(&r);
  return rc;
}

int pc_fidelity(const char *const *inputs, int ninputs, const char *models, const char *fslist, uint64_t limit,
                int timeout_ms, const char *root, FILE *out) {
  rpt_set *s = NULL;
  char err[1024], mods[MAXMOD][16], fss[MAXFS][16], buf[256], *save = NULL, fsm[128];
  int nm = 0, nf = 0, rc = 2;
  cell cells[MAXMOD][MAXFS];
  pc_worker w;
  uint64_t done = 0;
  char **seen = NULL;
  size_t nseen = 0;
  memset(cells, 0, sizeof cells);
  snprintf(buf, sizeof buf, "%s", models);
  for (char *t = strtok_r(buf, ",", &save); t && nm < MAXMOD; t = strtok_r(NULL, ",", &save)) {
    int m = ffs_model_from_name(t);
    if (m < 0 || ffs_model_fs((ffs_model)m)) {
      fprintf(stderr, "powercut fidelity: --models: '%s' is not a model (strict, ext4, xfs, reorder)\n", t);
      return 2;
    }
    snprintf(mods[nm++], 16, "%s", t);
  }
  if (pc_realfs_models(fslist, fsm, sizeof fsm, err, sizeof err)) {
    fprintf(stderr, "powercut fidelity: %s\n", err);
    return 2;
  }
  save = NULL;
  snprintf(buf, sizeof buf, "%s", fslist);
  for (char *t = strtok_r(buf, ",", &save); t && nf < MAXFS; t = strtok_r(NULL, ",", &save)) snprintf(fss[nf++], 16, "%s", t);
  if (rpt_load(inputs, ninputs, &s, err, sizeof err)) {
    fprintf(stderr, "powercut fidelity: %s\n", err);
    return 2;
  }
  if (pc_worker_init(&w, root, timeout_ms, err, sizeof err)) {
    fprintf(stderr, "powercut fidelity: %s\n", err);
    goto out;
  }
  for (size_t i = 0; i < rpt_set_count(s) && done < limit; i++) {
    const rpt_case *rc0 = rpt_set_case(s, i);
    pc_case c;
    char key[2200], dm[MAXMOD][1200], dp[1200], dp2[1200], dc[1200], dr[MAXFS][1200], vm[MAXMOD][32], vf[MAXFS][32], v[32];
    /* a recovery fault ('>RPLAN') cannot run on a real file system (runner.c refuses it) */
    if (pc_case_parse(rc0->id, &c, err, sizeof err) || skipped_case(c.plan) || c.rplan[0]) continue;
    snprintf(key, sizeof key, "%s|%s|%s|%" PRIu64 "|%s", c.target, c.target_opts, c.workload, c.seed, c.plan);
    int dup = 0;
    for (size_t k = 0; k < nseen && !dup; k++) dup = !strcmp(seen[k], key);
    if (dup) continue;
    seen = realloc(seen, (nseen + 1) * sizeof *seen);
    seen[nseen++] = strdup(key);
    for (int m = 0; m < nm; m++) {
      snprintf(dm[m], sizeof dm[m], "%s/keep-model-%s", root, mods[m]);
      snprintf(c.model, sizeof c.model, "%s", mods[m]);
      run_keep(&w, &c, dm[m], 0, 0, vm[m], sizeof vm[m]);
    }
    {
      pc_case k = c;
      snprintf(k.model, sizeof k.model, "strict");
      if (kill_plan(c.plan, k.plan, sizeof k.plan)) continue;
      snprintf(dp, sizeof dp, "%s/keep-page-cache", root);
      run_keep(&w, &k, dp, 1, 1, v, sizeof v);
      load_aliases(w.trace);
      snprintf(dp2, sizeof dp2, "%s/keep-page-cache-2", root);
      run_keep(&w, &k, dp2, 1, 0, v, sizeof v);
      g_dp2 = dp2;
      snprintf(dc, sizeof dc, "%s/keep-durable-content", root);
      snprintf(k.model, sizeof k.model, "xfs"); /* journal rules, no data flushed on rename */
      snprintf(k.plan, sizeof k.plan, "%s", c.plan);
      run_keep(&w, &k, dc, 0, 0, v, sizeof v);
      g_dc = dc;
    }
    for (int f = 0; f < nf; f++) {
      snprintf(dr[f], sizeof dr[f], "%s/keep-fs-%s", root, fss[f]);
      snprintf(c.model, sizeof c.model, "kernel-%s", fss[f]);
      run_keep(&w, &c, dr[f], 0, 0, vf[f], sizeof vf[f]);
    }
    for (int m = 0; m < nm; m++)
      for (int f = 0; f < nf; f++) {
        cell *ce = &cells[m][f];
        char why[1200];
        int mfail = strcmp(vm[m], "PASS") != 0, ffail = strcmp(vf[f], "PASS") != 0;
        if (!strcmp(vm[m], "ERROR") || !strcmp(vf[f], "ERROR")) continue;
        ce->cases++;
        snprintf(c.model, sizeof c.model, "%s", mods[m]);
        pc_case_format(&c, key, sizeof key);
        g_nondet = 0;
        if (state_allowed(dm[m], dp, dr[f], why, sizeof why, &ce->unchecked)) ce->allowed++;
        if (g_nondet) ce->nondet++;
        else if (ce->cases - ce->allowed <= 4)
          snprintf(ce->example[ce->cases - ce->allowed - 1], sizeof ce->example[0], "%s: %s", key, why);
        if (mfail) ce->model_fail++;
        if (mfail && !ffail) ce->model_fail_fs_pass++;
        if (ffail && !mfail) {
          ce->fs_fail_model_pass++;
          if (!ce->missed[0]) snprintf(ce->missed, sizeof ce->missed, "%s: %s under kernel-%s", key, vf[f], fss[f]);
        }
      }
    done++;
    if (done % 20 == 0) fprintf(stderr, "fidelity: %" PRIu64 " cases\n", done);
  }
  fprintf(out, "| model | file system | cases | real state allowed by the model | violations under the model | "
               "of which not reachable on the file system | real violations the model passes | "
               "files not compared (earlier incarnations) | states with bytes not compared (they differ per run) |\n"
               "|---|---|---|---|---|---|---|---|---|\n");
  for (int m = 0; m < nm; m++)
    for (int f = 0; f < nf; f++) {
      cell *ce = &cells[m][f];
      fprintf(out, "| %s | %s | %" PRIu64 " | %" PRIu64 " (%.1f%%) | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64
              " | %" PRIu64 " |\n", mods[m], fss[f], ce->cases, ce->allowed,
              ce->cases ? 100.0 * (double)ce->allowed / (double)ce->cases : 0.0, ce->model_fail,
              ce->model_fail_fs_pass, ce->fs_fail_model_pass, ce->unchecked, ce->nondet);
    }
  for (int m = 0; m < nm; m++)
    for (int f = 0; f < nf; f++) {
      for (int e = 0; e < 4; e++)
        if (cells[m][f].example[e][0]) fprintf(out, "\nnot allowed by %s on %s: %s\n", mods[m], fss[f], cells[m][f].example[e]);
      if (cells[m][f].missed[0]) fprintf(out, "\nmissed by %s on %s: %s\n", mods[m], fss[f], cells[m][f].missed);
    }
  rc = 0;
  for (int m = 0; m < nm; m++)
    for (int f = 0; f < nf; f++)
      if (cells[m][f].allowed != cells[m][f].cases && !strcmp(mods[m], fss[f])) rc = 1;
out:
  pc_worker_fini(&w);
  for (size_t k = 0; k < nseen; k++) free(seen[k]);
  free(seen);
  rpt_set_free(s);
  free(g_alias);
  g_alias = NULL;
  g_dc = NULL;
  g_dp2 = NULL;
  return rc;
}
