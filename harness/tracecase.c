/*
 * tracecase.c - crash states built from a recorded run (docs/powercut.md "Trace-based
 * crash states"), as ALICE and CrashMonkey build them.
 *
 *   1. record: one run of the workload under the shim with no fault and FAULTFS_RECORD
 *      set: the shim appends every tracked call (write payloads included) to the record
 *      file, the driver appends the op log's records to it (a tee on the op log writer),
 *      so the file interleaves what the engine did with what the driver was told;
 *   2. materialize: a replay (faultfs materialize.c) applies the calls to a copy of the
 *      pristine (empty) data dir through the shim's undo-log writer; the state at a cut is
 *      the work dir (kill), or its copy rolled back by the live rollback engine (crash,
 *      torn: the write at the cut keeps a prefix);
 *   3. check: the target's recovery (open, scan, close through the target interface) in a
 *      long-lived child process, then the oracle with the op log up to the cut.
 *
 * A trace state's id carries the plan `trace:KIND@CUT[:KEEP][,s=SUBSET],r=DIGEST`: CUT is
 * the number of the record's calls applied, DIGEST names the record (its digest), so a
 * re-recorded run that differs (an engine whose threads move the calls) is refused instead
 * of checking another state.
 * Invariants:
 *   (1) a state is a pure function of (record, cut, kind, keep, model, subset): the same id
 *       and record give the same files, hence the same verdict for a deterministic recovery;
 *   (2) the recovery of a state never runs in this process: a crash or hang of the target
 *       is the verdict of that state and the recovery process is started again.
 */
#define _GNU_SOURCE /* pipe2 */
#include "harness_int.h"
#include "tracecase.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

/* ---- the trace plan ---- */
int pc_trace_plan_is(const char *plan) { return !strncmp(plan, PC_TRACE_PREFIX, strlen(PC_TRACE_PREFIX)); }

int pc_trace_plan_parse(const char *plan, pc_trace_plan *p, char *err, size_t errlen) {
  const char *s = plan + strlen(PC_TRACE_PREFIX), *e;
  char *end;
  memset(p, 0, sizeof *p);
  p->subset = FFS_SUBSET_SEEDED;
  if (!pc_trace_plan_is(plan)) goto bad;
  if (!strncmp(s, "kill@", 5)) p->kind = FFS_CUT_KILL, s += 5;
  else if (!strncmp(s, "crash@", 6)) p->kind = FFS_CUT_CRASH, s += 6;
  else if (!strncmp(s, "torn@", 5)) p->kind = FFS_CUT_TORN, s += 5;
  else {
    snprintf(err, errlen, "trace plan '%s': the kind is kill, crash or torn (trace:crash@CUT,r=DIGEST)", plan);
    return PC_EINVAL;
  }
  if (*s < '0' || *s > '9') goto bad;
  errno = 0;
  p->cut = strtoull(s, &end, 10);
  if (errno) goto bad;
  s = end;
  if (*s == ':') {
    if (p->kind != FFS_CUT_TORN || s[1] < '0' || s[1] > '9') goto bad;
    p->keep = strtoull(s + 1, &end, 10);
    s = end;
  } else if (p->kind == FFS_CUT_TORN) {
    snprintf(err, errlen, "trace plan '%s': torn needs the bytes kept (trace:torn@CUT:KEEP,r=DIGEST)", plan);
    return PC_EINVAL;
  }
  while (*s == ',') {
    s++;
    e = strchr(s, ',');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (!strncmp(s, "s=", 2)) {
      if (n == 6 && !strncmp(s + 2, "none", 4)) p->subset = FFS_SUBSET_NONE;
      else if (n == 5 && !strncmp(s + 2, "all", 3)) p->subset = FFS_SUBSET_ALL;
      else {
        if (s[2] < '0' || s[2] > '9') goto bad;
        p->seed = strtoull(s + 2, &end, 10);
        if (end != s + n) goto bad;
        p->has_seed = 1;
      }
    } else if (!strncmp(s, "r=", 2) && n == 18) {
      char hex[17];
      memcpy(hex, s + 2, 16);
      hex[16] = 0;
      p->digest = strtoull(hex, &end, 16);
      if (*end) goto bad;
      p->has_digest = 1;
    } else {
      goto bad;
    }
    s += n;
  }
  if (*s) goto bad;
  return 0;
bad:
  snprintf(err, errlen, "trace plan '%s' is malformed: trace:KIND@CUT[:KEEP][,s=none|all|SEED][,r=DIGEST] "
           "(KIND kill, crash or torn)", plan);
  return PC_EINVAL;
}

void pc_trace_plan_format(const pc_trace_plan *p, char *buf, size_t len) {
  static const char *const kinds[] = {"kill", "crash", "torn"};
  int n = snprintf(buf, len, "%s%s@%" PRIu64, PC_TRACE_PREFIX, kinds[p->kind], p->cut);
  if (p->kind == FFS_CUT_TORN) n += snprintf(buf + n, len - (size_t)n, ":%" PRIu64, p->keep);
  if (p->subset == FFS_SUBSET_NONE) n += snprintf(buf + n, len - (size_t)n, ",s=none");
  else if (p->subset == FFS_SUBSET_ALL) n += snprintf(buf + n, len - (size_t)n, ",s=all");
  else if (p->has_seed) n += snprintf(buf + n, len - (size_t)n, ",s=%" PRIu64, p->seed);
  if (p->has_digest) snprintf(buf + n, len - (size_t)n, ",r=%016" PRIx64, p->digest);
}

int pc_trace_validate(const pc_case *c, char *err, size_t errlen) {
  pc_trace_plan p;
  pc_case k = *c;
  int rc;
  if ((rc = pc_trace_plan_parse(c->plan, &p, err, errlen))) return rc;
  if (c->rplan[0]) {
    snprintf(err, errlen, "a trace state ('%s') takes no recovery plan ('>%s')", c->plan, c->rplan);
    return PC_EINVAL;
  }
  int m = ffs_model_from_name(c->model);
  if (m < 0 || ffs_model_fs((ffs_model)m)) {
    snprintf(err, errlen, "a trace state is built under a model (strict, ext4, xfs, reorder), not '%s'", c->model);
    return PC_EINVAL;
  }
  if ((p.subset != FFS_SUBSET_SEEDED || p.has_seed) && m != FFS_MODEL_REORDER) {
    snprintf(err, errlen, "trace plan '%s': a subset (s=) is for the model reorder only", c->plan);
    return PC_EINVAL;
  }
  snprintf(k.plan, sizeof k.plan, "none");
  return pc_case_validate(&k, err, errlen);
}

int pc_trace_plan_rank(const pc_trace_plan *p, int reorder) {
  if (p->kind == FFS_CUT_KILL) return 0;
  if (p->kind == FFS_CUT_TORN) return 4;
  if (!reorder || p->subset == FFS_SUBSET_NONE) return 1;
  return p->subset == FFS_SUBSET_ALL ? 2 : 3;
}

uint64_t pc_trace_subset_seed(uint64_t case_seed, uint64_t cut, int k) {
  return (case_seed * 0x9e3779b97f4a7c15ull + cut * 31 + (uint64_t)k) & ((1ull << 52) - 1);
}

uint64_t pc_trace_torn_keep(uint64_t case_seed, uint64_t cut, uint64_t datalen) {
  uint64_t s = case_seed ^ (cut * 0x9e3779b97f4a7c15ull);
  s = (s ^ (s >> 31)) * 0xbf58476d1ce4e5b9ull;
  return 1 + (s ^ (s >> 29)) % (datalen - 1);
}

/* ---- recording ---- */
typedef struct tee_ctx { int fd; } tee_ctx;
static int tee_fn(void *arg, const void *rec, size_t len) {
  tee_ctx *t = arg;
  return ffs_record_append_data(t->fd, FFS_REC_OPLOG, rec, len) ? PC_EIO : 0;
}

int pc_trace_tee_start(wl_oplog_writer *log, const char *oplog_path, const char *record_path) {
  static tee_ctx t; /* one per driver process, which ends with the workload */
  char *buf = NULL;
  size_t n = 0;
  int rc = PC_EIO;
  FILE *f = fopen(oplog_path, "rbe");
  if (!f) return PC_EIO;
  /* what the writer has written so far: the header and the META record */
  if (fseek(f, 0, SEEK_END) == 0 && (n = (size_t)ftell(f)) > 0 && (buf = malloc(n)) && fseek(f, 0, SEEK_SET) == 0 &&
      fread(buf, 1, n, f) == n && (t.fd = open(record_path, O_WRONLY | O_APPEND | O_CLOEXEC)) >= 0 &&
      ffs_record_append_data(t.fd, FFS_REC_OPLOG_HEAD, buf, n) == 0) {
    wl_oplog_set_tee(log, tee_fn, &t);
    rc = 0;
  }
  fclose(f);
  free(buf);
  return rc;
}

static int record_run(pc_worker *w, const pc_case *c, const char *path, int trace, char *err, size_t errlen) {
  pc_case k = *c;
  pc_run_opts o = {0};
  pc_result r;
  int rc;
  snprintf(k.plan, sizeof k.plan, "none");
  k.rplan[0] = '\0';
  snprintf(k.model, sizeof k.model, "strict");
  char abs[PATH_MAX];
  if ((rc = ffs_record_create(path, err, errlen))) return PC_ESETUP;
  /* absolute: the program (an exec target's, and what it starts) may run in another dir */
  if (!realpath(path, abs)) {
    snprintf(err, errlen, "record %s: %s", path, strerror(errno));
    return PC_ESETUP;
  }
  o.record = abs;
  o.no_final_cut = 1;
  o.trace = trace;
  pc_run_case(w, &k, &o, &r);
  if (r.error) {
    snprintf(err, errlen, "recording the workload failed: %s", r.note);
    pc_result_free(&r);
    return PC_ESETUP;
  }
  pc_result_free(&r);
  return 0;
}

int pc_trace_record(pc_worker *w, const pc_case *c, const char *path, char *err, size_t errlen) {
  return record_run(w, c, path, 0, err, errlen);
}

int pc_trace_record_traced(pc_worker *w, const pc_case *c, const char *path, char *err, size_t errlen) {
  return record_run(w, c, path, 1, err, errlen);
}

/* ---- the recovery process ---- */
enum { RS_OK = 0, RS_OPEN = 1, RS_SCAN = 2, RS_HANG = 3 };

struct pc_tserver {
  const pc_target *t;
  char topts[512], wopts[512];
  char out[1100];          /* where the child writes a state's keys and values, or its message */
  int timeout_ms;
  pid_t pid;
  int req, rep;            /* pipes to and from the child */
};

static int read_full(int fd, void *buf, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static _Noreturn void recovery_loop(pc_tserver *rs) {
  char dir[1200];
  uint32_t len;
  int64_t pr[2] = {0, 0};
  pc_signals_default();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  while (read_full(rs->req, &len, sizeof len) == 0 && len < sizeof dir && read_full(rs->req, dir, len) == 0) {
    void *h = NULL;
    int32_t st = RS_OK;
    dir[len] = 0;
    int64_t t0 = pc_now_us();
    int code = pc_recover_into(rs->t, dir, rs->topts, rs->wopts, rs->out, &h);
    int64_t t1 = pc_now_us();
    st = code == 0 ? RS_OK : code == PC_EXIT_RECOVERY_HANG ? RS_HANG : code == PC_EXIT_RECOVERY_OPEN ? RS_OPEN : RS_SCAN;
    if (h) rs->t->close(h); /* its result is not the state's: the scan was */
    pr[0] += t1 - t0, pr[1] += pc_now_us() - t1;
    if (write(rs->rep, &st, sizeof st) != (ssize_t)sizeof st) break;
  }
  if (getenv("POWERCUT_PROFILE"))
    fprintf(stderr, "recovery process: open and scan %.3f s, close %.3f s\n", (double)pr[0] / 1e6,
            (double)pr[1] / 1e6);
  _exit(0);
}

/* hard: SIGKILL now (a hung recovery); else the child sees the end of its requests and exits */
static void rs_stop(pc_tserver *rs, int hard) {
  if (rs->pid > 0) {
    int st;
    close(rs->req);
    close(rs->rep);
    if (hard) kill(rs->pid, SIGKILL);
    pc_wait_child(rs->pid, rs->timeout_ms, &st);
  }
  rs->pid = 0;
}

static int rs_start(pc_tserver *rs) {
  int a[2], b[2];
  if (pipe2(a, O_CLOEXEC) < 0) return PC_ESETUP;
  if (pipe2(b, O_CLOEXEC) < 0) { close(a[0]); close(a[1]); return PC_ESETUP; }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) { close(a[0]); close(a[1]); close(b[0]); close(b[1]); return PC_ESETUP; }
  if (pid == 0) {
    close(a[1]);
    close(b[0]);
    rs->req = a[0];
    rs->rep = b[1];
    recovery_loop(rs);
  }
  close(a[0]);
  close(b[1]);
  rs->req = a[1];
  rs->rep = b[0];
  rs->pid = pid;
  return 0;
}

int pc_tserver_open(const pc_case *c, const char *root, int timeout_ms, pc_tserver **out) {
  pc_tserver *rs = calloc(1, sizeof *rs);
  wl_params wp;
  char err[256];
  if (!rs) return PC_ENOMEM;
  rs->t = pc_target_find(c->target);
  if (!rs->t || wl_spec_parse(c->workload, &wp, err, sizeof err)) { free(rs); return PC_EINVAL; }
  snprintf(rs->topts, sizeof rs->topts, "%s", c->target_opts);
  snprintf(rs->wopts, sizeof rs->wopts, "%s", wp.target_opts);
  snprintf(rs->out, sizeof rs->out, "%s/trecov", root);
  rs->timeout_ms = timeout_ms;
  *out = rs;
  return 0;
}

void pc_tserver_close(pc_tserver *rs) {
  if (!rs) return;
  rs_stop(rs, 0);
  free(rs);
}

static int read_all(const char *path, char **buf, size_t *len) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (fstat(fd, &st) < 0 || !(*buf = malloc((size_t)st.st_size + 1))) { close(fd); return -1; }
  *len = 0;
  ssize_t n;
  while (*len < (size_t)st.st_size && (n = read(fd, *buf + *len, (size_t)st.st_size - *len)) > 0) *len += (size_t)n;
  close(fd);
  (*buf)[*len] = 0;
  return 0;
}

int pc_tserver_run(pc_tserver *rs, const char *dir, pc_recovered *out) {
  uint32_t len = (uint32_t)strlen(dir);
  int32_t st;
  char ckp0[sizeof rs->out + 8];
  memset(out, 0, sizeof *out);
  snprintf(ckp0, sizeof ckp0, "%s.ckpt", rs->out);
  unlink(rs->out);
  unlink(ckp0);
  if (!rs->pid && rs_start(rs)) return PC_ESETUP;
  if (write(rs->req, &len, sizeof len) != (ssize_t)sizeof len || write(rs->req, dir, len) != (ssize_t)len) goto died;
  struct pollfd p = {rs->rep, POLLIN, 0};
  int pr;
  while ((pr = poll(&p, 1, rs->timeout_ms)) < 0 && errno == EINTR && !pc_interrupted) {}
  if (pr == 0) {
    rs_stop(rs, 1);
    out->status = PC_REC_HANG;
    snprintf(out->msg, sizeof out->msg, "recovery did not finish within %d ms", rs->timeout_ms);
    return 0;
  }
  if (pr < 0) return PC_EINTR;
  if (read_full(rs->rep, &st, sizeof st) < 0) goto died;
  if (st == RS_OK) {
    char ckp[sizeof rs->out + 8];
    snprintf(ckp, sizeof ckp, "%s.ckpt", rs->out);
    if (read_all(rs->out, &out->buf, &out->len) < 0 || read_all(ckp, &out->ck, &out->cklen) < 0) return PC_EIO;
    out->status = PC_REC_OK;
    return 0;
  }
  {
    char *m = NULL;
    size_t ml;
    if (read_all(rs->out, &m, &ml) == 0) snprintf(out->msg, sizeof out->msg, "%s", m);
    free(m);
  }
  out->status = st == RS_HANG ? PC_REC_HANG : st == RS_OPEN ? PC_REC_OPEN : PC_REC_SCAN;
  return 0;
died: {
    int ws = 0;
    close(rs->req);
    close(rs->rep);
    while (waitpid(rs->pid, &ws, 0) < 0 && errno == EINTR) {}
    rs->pid = 0;
    out->status = PC_REC_CRASH;
    snprintf(out->msg, sizeof out->msg, "recovery died on signal %s",
             WIFSIGNALED(ws) ? strsignal(WTERMSIG(ws)) : "(none: it exited)");
    return 0;
  }
}

void pc_recovered_free(pc_recovered *r) {
  free(r->buf);
  free(r->ck);
  r->buf = r->ck = NULL;
}

int pc_trace_judge(const pc_case *c, const pc_recovered *rec, const wl_log *log, orc_crash crash, pc_result *r) {
  const pc_target *t = pc_target_find(c->target);
  wl_params wp;
  char err[256];
  orc_kv *kvs = NULL;
  orc_ckpt *ckpts = NULL;
  size_t nkv = 0, nckpts = 0;
  int rc = 0;
  orc_input in = {0};
  if (!t || wl_spec_parse(c->workload, &wp, err, sizeof err)) return PC_EINVAL;
  in.log = log;
  in.contract = t->contract_for ? t->contract_for(c->target_opts) : t->contract;
  in.crash = crash;
  if (!strcmp(wp.name, "bank")) {
    in.invariant = orc_invariant_bank;
    in.invariant_arg = &wp;
  }
  r->crash = crash;
  switch (rec->status) {
    case PC_REC_OK:
      if (pc_state_parse(rec->buf, rec->len, &kvs, &nkv, &r->recovery_us)) {
        r->error = 1;
        snprintf(r->note, sizeof r->note, "recovered state file unreadable");
        return 0;
      }
      in.state = kvs;
      in.nstate = nkv;
      if (pc_checkpoints_parse(rec->ck, rec->cklen, &ckpts, &nckpts)) {
        free(kvs);
        r->error = 1;
        snprintf(r->note, sizeof r->note, "recovered checkpoints file unreadable");
        return 0;
      }
      in.ckpts = ckpts;
      in.nckpts = nckpts;
      rc = orc_check(&in, &r->orc);
      pc_checkpoints_free(ckpts, nckpts);
      free(kvs);
      if (rc) {
        r->error = 1;
        snprintf(r->note, sizeof r->note, "oracle failed");
      }
      return 0;
    case PC_REC_HANG: orc_result_set(&r->orc, ORC_RECOVERY_HANG, rec->msg); break;
    case PC_REC_CRASH: orc_result_set(&r->orc, ORC_RECOVERY_CRASH, rec->msg); break;
    default: {
      char m[1200];
      snprintf(m, sizeof m, "%s: %s", rec->status == PC_REC_OPEN ? "open after the crash failed" : "reading back the state failed",
               rec->msg);
      orc_result_set(&r->orc, ORC_RECOVERY_FAILED, m);
      break;
    }
  }
  r->orc.ops_issued = log->n;
  r->orc.ops_acked = 0;
  for (size_t i = 0; i < log->n; i++) r->orc.ops_acked += log->ops[i].outcome == WL_OUT_ACKED;
  return 0;
}

/* ---- the explorer's building blocks ---- */
int pc_trace_oplog_parse(const pc_trace_oplog *b, wl_log **out, char *err, size_t errlen) {
  return wl_oplog_parse(b->buf, b->len, out, err, errlen) ? PC_EIO : 0;
}

int pc_trace_oplog_add(pc_trace_oplog *b, const ffs_rec *r) {
  if (r->type != FFS_REC_OPLOG && r->type != FFS_REC_OPLOG_HEAD) return 0;
  if (b->len + r->datalen > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 65536;
    while (nc < b->len + r->datalen) nc *= 2;
    char *nb = realloc(b->buf, nc);
    if (!nb) return PC_ENOMEM;
    b->buf = nb;
    b->cap = nc;
  }
  memcpy(b->buf + b->len, r->data, r->datalen);
  b->len += r->datalen;
  return 0;
}

/* Hash of a directory tree: names, types, sizes and contents, in name order. */
static int hash_tree(XXH3_state_t *s, const char *dir, const char *rel) {
  struct dirent **ents = NULL;
  int n = scandir(dir, &ents, NULL, alphasort), rc = 0;
  if (n < 0) return -1;
  for (int i = 0; i < n; i++) {
    const char *name = ents[i]->d_name;
    char p[4096], r[4096];
    struct stat st;
    if (!strcmp(name, ".") || !strcmp(name, "..") || rc) continue;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    snprintf(r, sizeof r, "%s%s%s", rel, rel[0] ? "/" : "", name);
    if (lstat(p, &st) < 0) { rc = -1; continue; }
    uint64_t head[2] = {(uint64_t)(st.st_mode & S_IFMT), (uint64_t)st.st_size};
    XXH3_128bits_update(s, r, strlen(r) + 1);
    XXH3_128bits_update(s, head, sizeof head);
    if (S_ISDIR(st.st_mode)) {
      rc = hash_tree(s, p, r);
    } else if (S_ISREG(st.st_mode)) {
      char buf[65536];
      ssize_t k;
      int fd = open(p, O_RDONLY | O_CLOEXEC);
      if (fd < 0) { rc = -1; continue; }
      while ((k = read(fd, buf, sizeof buf)) > 0) XXH3_128bits_update(s, buf, (size_t)k);
      close(fd);
    } else if (S_ISLNK(st.st_mode)) {
      char t[4096];
      ssize_t k = readlink(p, t, sizeof t);
      if (k > 0) XXH3_128bits_update(s, t, (size_t)k);
    }
  }
  for (int i = 0; i < n; i++) free(ents[i]);
  free(ents);
  return rc;
}

int pc_trace_dir_hash(const char *dir, uint64_t out[2]) {
  XXH3_state_t *s = XXH3_createState();
  int rc;
  if (!s) return PC_ENOMEM;
  XXH3_128bits_reset(s);
  rc = hash_tree(s, dir, "");
  XXH128_hash_t h = XXH3_128bits_digest(s);
  XXH3_freeState(s);
  out[0] = h.high64;
  out[1] = h.low64;
  return rc ? PC_EIO : 0;
}

/* The op of the call at the cut (the first call not applied), for reports. */
const ffs_rec *pc_trace_call_at(const ffs_record *rec, uint64_t cut) {
  uint64_t k = 0;
  for (size_t i = 0; i < ffs_record_count(rec); i++) {
    const ffs_rec *r = ffs_record_at(rec, i);
    if (r->type != FFS_REC_CALL) continue;
    if (k++ == cut) return r;
  }
  return NULL;
}

/* ---- one trace state, from its id ---- */
int pc_trace_run_case(pc_worker *w, const pc_case *c, const pc_run_opts *o, pc_result *r) {
  pc_trace_plan p;
  char err[1024], rpath[1200], tstate[1200], work[1200], wstate[1200];
  ffs_record *rec = NULL;
  ffs_replay *rp = NULL;
  pc_tserver *rs = NULL;
  pc_trace_oplog ob = {0};
  wl_log *log = NULL;
  pc_recovered rv = {0};
  int64_t t0 = pc_now_us();
  int rc;
  memset(r, 0, sizeof *r);
  r->recovery_us = -1;
  if ((rc = pc_trace_validate(c, err, sizeof err))) goto error;
  pc_trace_plan_parse(c->plan, &p, err, sizeof err);
  if (!w->configure) {
    snprintf(err, sizeof err, "the faultfs shim is not loaded in this process (LD_PRELOAD=libfaultfs.so)");
    goto error;
  }
  /* the record: the one given, or a new recording of the same workload and seed */
  if (o && o->record_file) {
    snprintf(rpath, sizeof rpath, "%s", o->record_file);
  } else {
    snprintf(rpath, sizeof rpath, "%s/record", w->root);
    if ((rc = pc_trace_record(w, c, rpath, err, sizeof err))) goto error;
  }
  if ((rc = ffs_record_load(rpath, &rec, err, sizeof err))) goto error;
  if (p.has_digest && ffs_record_digest(rec) != p.digest) {
    snprintf(err, sizeof err, "the record %s (digest %016" PRIx64 ") is not the one the id names (%016" PRIx64 ")%s",
             o && o->record_file ? o->record_file : "of a new run of the workload", ffs_record_digest(rec), p.digest,
             o && o->record_file ? "" : ": the engine's calls differ from run to run (threads?); pass --record FILE, "
                                       "the record the campaign kept");
    goto error;
  }
  snprintf(work, sizeof work, "%s/twork", w->root);
  snprintf(wstate, sizeof wstate, "%s/twstate", w->root);
  snprintf(tstate, sizeof tstate, "%s/tstate", w->root);
  if (ffs_rm_rf(work) || ffs_rm_rf(wstate) || ffs_rm_rf(tstate) || ffs_rm_rf(w->data) || rpt_mkdir_p(work)) {
    snprintf(err, sizeof err, "cannot prepare %s", w->root);
    goto error;
  }
  if ((rc = ffs_replay_open(work, wstate, (ffs_model)ffs_model_from_name(c->model), &rp, err, sizeof err))) goto error;
  {
    uint64_t k = 0;
    const ffs_rec *next = NULL;
    for (size_t i = 0; i < ffs_record_count(rec); i++) {
      const ffs_rec *e = ffs_record_at(rec, i);
      if (e->type != FFS_REC_CALL) {
        if ((rc = pc_trace_oplog_add(&ob, e))) goto error;
        continue;
      }
      if (k == p.cut) { next = e; break; }
      if ((rc = ffs_replay_apply(rp, e, err, sizeof err))) goto error;
      k++;
    }
    if (k < p.cut) {
      snprintf(err, sizeof err, "cut %" PRIu64 " is past the record's end (%" PRIu64 " calls)", p.cut, k);
      goto error;
    }
    if (p.kind == FFS_CUT_TORN && (!next || !ffs_rec_mutates(next) || next->datalen == 0 ||
                                   (next->op != FFS_OP_WRITE && next->op != FFS_OP_PWRITE && next->op != FFS_OP_WRITEV))) {
      snprintf(err, sizeof err, "torn at cut %" PRIu64 ": the call there is not a write", p.cut);
      goto error;
    }
    if (next) {
      r->fired = 1;
      r->f.action = p.kind == FFS_CUT_KILL ? FFS_A_KILL : p.kind == FFS_CUT_TORN ? FFS_A_TORN : FFS_A_CRASH;
      r->f.killed = p.kind == FFS_CUT_KILL;
      r->f.powercut = !r->f.killed;
      r->f.match_index = next->index + 1;
      r->f.op = next->op;
      r->f.call_index = next->index;
      snprintf(r->f.path, sizeof r->f.path, "%s", next->path);
    }
    uint64_t seed = p.has_seed ? p.seed : c->seed;
    if ((rc = ffs_replay_state(rp, p.kind, next, p.keep, p.subset, seed, w->data, tstate, err, sizeof err))) goto error;
  }
  if (o && o->keep_dir) {
    if (pc_own_dir_claim("--keep", o->keep_dir, PC_KEEP_MARKER, 1, err, sizeof err)) goto error;
    if ((rc = pc_copy_tree(w->data, o->keep_dir))) {
      snprintf(err, sizeof err, "cannot keep the data dir in %s: %s", o->keep_dir, strerror(-rc));
      goto error;
    }
  }
  if ((rc = pc_trace_oplog_parse(&ob, &log, err, sizeof err))) goto error;
  if ((rc = pc_tserver_open(c, w->root, w->timeout_ms, &rs)) || (rc = pc_tserver_run(rs, w->data, &rv))) {
    snprintf(err, sizeof err, "recovery setup failed: %s", pc_strerror(rc));
    goto error;
  }
  pc_trace_judge(c, &rv, log, p.kind == FFS_CUT_KILL ? ORC_CRASH_KILL : ORC_CRASH_POWER, r);
  goto out;
error:
  r->error = 1;
  snprintf(r->note, sizeof r->note, "%s", err);
out:
  pc_recovered_free(&rv);
  pc_tserver_close(rs);
  wl_log_free(log);
  free(ob.buf);
  ffs_replay_close(rp);
  ffs_record_free(rec);
  r->case_us = pc_now_us() - t0;
  return r->error ? PC_ESETUP : 0;
}
