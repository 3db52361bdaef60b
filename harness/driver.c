/*
 * driver.c - runs a workload on a target, logging every op and its outcome.
 *
 * Runs in the per-case child process, under the shim. For each op it appends
 * an ISSUED record to the op log before calling the engine and an OUTCOME
 * record after, each with one write() to a file outside the data dir, so the
 * outcomes survive whatever the fault does to this process (docs/format/oplog.md).
 *
 * Invariant: the driver never closes the target at the end of the workload:
 * the end of the workload is itself a crash point (the harness then cuts the
 * power), so "close syncs everything" can never hide a missing fsync.
 *
 * A workload with threads=N > 1 runs N driver threads on one handle of a
 * thread-safe target (drive_threads below): thread t takes its ops from its
 * own generator (seed + t * golden ratio; thread 0 has the case's seed) and
 * numbers each op when it issues it, and yields between
 * issuing it and calling the engine (so ops overlap even on one CPU). Under one lock an op gets its index,
 * its values are stamped with it and its ISSUED record is written; its
 * OUTCOME record is written under the same lock after the engine returns, so
 * the log's sequence orders every invocation and every ack (docs/oracle.md).
 * A reopen holds the handle exclusively (no op in flight across it), and so
 * does a close, from its invocation to the end of the open that follows it
 * (its thread's next op); GETs are issued but not checked live (the oracle
 * judges the state).
 *
 * CLOSE and OPEN are ops of their own (docs/workloads.md "close"): the close
 * is acked when the target's close returns, the open is a separate op with its
 * own ISSUED and OUTCOME records, so a crash can land after an acked close,
 * before or inside the open (where a close_syncs contract is checked). A
 * close that is the last op leaves the handle closed: the end of the workload
 * is then a crash point right after it.
 *
 * Views and transactions (docs/workloads.md "Views and transactions"):
 *   - each driver thread holds at most one snapshot and one iterator (pc_views);
 *     a read at one records what it read in its OUTCOME record, which the
 *     oracle checks against the state at the view's op;
 *   - a reopen releases every thread's views before the close; a thread's
 *     later read at a released view is not issued (threads > 1) or FAILED
 *     (one thread: only after its snapshot op failed);
 *   - a transaction is begun and its keys read BEFORE its ISSUED record (a
 *     bank transfer's values come from the balances read), its writes and
 *     commit (or rollback) after: the record holds the values it commits;
 *   - a checkpoint goes to <data dir>/WL_CKPT_PREFIX<op index>; after the
 *     crash pc_checkpoints_dump opens each one read-only for the oracle.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "harness_int.h"
#include "workloads.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(PC_ECONFLICT == WL_CODE_CONFLICT, "the op log's conflict code is powercut's");

static int do_batch(const pc_target *t, void *h, const wl_op *op) {
  pc_kv_op stack[64] = {{0}}, *ops = stack;
  int rc;
  if (op->nsub > 64 && !(ops = calloc(op->nsub, sizeof *ops))) return PC_ENOMEM;
  for (uint32_t i = 0; i < op->nsub; i++) {
    ops[i].kind = op->sub[i].kind == WL_DEL ? PC_OP_DEL : PC_OP_PUT;
    ops[i].k = op->sub[i].key;
    ops[i].klen = op->sub[i].klen;
    ops[i].v = op->sub[i].val;
    ops[i].vlen = op->sub[i].vlen;
  }
  rc = t->batch(h, ops, op->nsub, op->sync);
  if (ops != stack) free(ops);
  return rc;
}

/* The capabilities a target has, as the generator's WL_CAP_* bits. */
uint32_t pc_target_caps(const pc_target *t) {
  uint32_t c = 0;
  if (t->delrange) c |= WL_CAP_DELRANGE;
  if (t->snap) c |= WL_CAP_SNAPSHOT;
  if (t->iter && t->iter_view) c |= WL_CAP_ITER;
  if (t->txn) c |= WL_CAP_TXN;
  if (t->checkpoint && t->checkpoint_open) c |= WL_CAP_CHECKPOINT;
  return c;
}

/* ---- views: one thread's open snapshot and iterator, and what a read read ---- */
typedef struct pc_views {
  void *snap;
  void *it;
  int it_end; /* the iterator is past its last entry */
} pc_views;

typedef struct pc_reads { /* entries read, copied (an iterator's are valid only until it moves) */
  wl_sub *e;
  uint32_t n, cap;
  int at_end;
} pc_reads;

static void reads_clear(pc_reads *r) {
  for (uint32_t i = 0; i < r->n; i++) free((void *)r->e[i].key);
  r->n = 0;
  r->at_end = 0;
}

static int reads_add(void *arg, const void *k, size_t kl, const void *v, size_t vl) {
  pc_reads *r = arg;
  uint8_t *b;
  if (r->n == r->cap) {
    uint32_t cap = r->cap ? 2 * r->cap : 16;
    wl_sub *e = realloc(r->e, cap * sizeof *e);
    if (!e) return PC_ENOMEM;
    r->e = e, r->cap = cap;
  }
  if (!(b = malloc(kl + vl + 1))) return PC_ENOMEM;
  if (kl) memcpy(b, k, kl);
  if (vl) memcpy(b + kl, v, vl);
  r->e[r->n++] = (wl_sub){WL_PUT, b, kl, b + kl, vl};
  return 0;
}

static void views_release(const pc_target *t, void *h, pc_views *v) {
  if (v->snap) t->snap->release(h, v->snap);
  if (v->it) t->iter->destroy(v->it);
  v->snap = v->it = NULL;
  v->it_end = 0;
}

/* Reads up to n entries from the iterator, the first after a seek to `seek` (NULL: next). */
static int iter_read(const pc_target *t, pc_views *v, const wl_op *op, const void *seek, uint32_t n, pc_reads *r) {
  int pos = 0;
  for (uint32_t i = 0; i < n && !v->it_end; i++) {
    const void *k, *val;
    size_t kl, vl;
    pos = i == 0 && seek ? t->iter->seek(v->it, seek, op->klen) : t->iter->next(v->it);
    if (pos < 0) return pos;
    if (pos == 0) {
      v->it_end = 1;
      break;
    }
    t->iter->entry(v->it, &k, &kl, &val, &vl);
    if ((pos = reads_add(r, k, kl, val, vl))) return pos;
  }
  r->at_end = v->it_end;
  return 0;
}

/* A view op on views v (SNAP .. ITER_CLOSE). */
static int exec_view(const pc_target *t, void *h, pc_views *v, const wl_op *op, pc_reads *r) {
  int rc;
  switch (op->kind) {
  case WL_SNAP:
    if (v->snap) t->snap->release(h, v->snap), v->snap = NULL;
    return t->snap->take(h, &v->snap);
  case WL_SNAP_GET: {
    void *val = NULL;
    size_t vl = 0;
    if (!v->snap) return PC_EINVAL; /* its snapshot op failed */
    rc = t->snap->get(h, v->snap, op->key, op->klen, &val, &vl);
    if (rc == 1) rc = reads_add(r, op->key, op->klen, val, vl);
    free(val);
    return rc;
  }
  case WL_SNAP_SCAN:
    if (!v->snap) return PC_EINVAL;
    return t->snap->scan(h, v->snap, op->key, op->klen, op->end, op->elen, reads_add, r);
  case WL_SNAP_RELEASE:
    if (!v->snap) return PC_EINVAL;
    t->snap->release(h, v->snap);
    v->snap = NULL;
    return 0;
  case WL_ITER:
    if (v->it) t->iter->destroy(v->it), v->it = NULL;
    v->it_end = 0;
    if ((rc = t->iter->create(h, &v->it))) {
      v->it = NULL;
      return rc;
    }
    return iter_read(t, v, op, op->key, op->arg, r);
  case WL_ITER_NEXT:
    if (!v->it) return PC_EINVAL;
    return iter_read(t, v, op, NULL, op->arg, r);
  case WL_ITER_CLOSE:
    if (!v->it) return PC_EINVAL;
    t->iter->destroy(v->it);
    v->it = NULL;
    return 0;
  default: return PC_EINVAL;
  }
}

static int is_view(wl_kind k) { return k >= WL_SNAP && k <= WL_ITER_CLOSE; }

static int exec_checkpoint(const pc_target *t, void *h, const char *dir, uint64_t idx) {
  char path[4096];
  if (!t->checkpoint) return PC_ENOTSUP;
  snprintf(path, sizeof path, "%s/%s%012llu", dir, WL_CKPT_PREFIX, (unsigned long long)idx);
  return t->checkpoint(h, path);
}

/* ---- transactions ---- */
/* Before the ISSUED record: begin, and read every key the transaction writes (so a
 * concurrent write to one is a conflict); a bank transfer decodes the two balances into
 * bal. A failure or a bank account that is not there yet sets op->rollback (the record
 * says it is never committed); the failure's code is returned, and *x is NULL then. */
static int txn_prepare(const pc_target *t, void *h, wl_op *op, int bank, void **x, uint64_t bal[2]) {
  int rc;
  *x = NULL;
  if ((rc = t->txn->begin(h, x))) {
    *x = NULL;
    op->rollback = 1;
    return rc;
  }
  for (uint32_t s = 0; s < op->nsub; s++) {
    void *v = NULL;
    size_t vl = 0;
    rc = t->txn->get(*x, op->sub[s].key, op->sub[s].klen, &v, &vl);
    if (bank && s < 2 && (rc != 1 || wl_bank_balance(v, vl, &bal[s]))) op->rollback = 1;
    free(v);
    if (rc < 0) {
      t->txn->rollback(*x);
      *x = NULL;
      return rc;
    }
  }
  return 0;
}

/* After the ISSUED record: the writes and the commit, or the rollback. */
static int txn_finish(const pc_target *t, void *x, const wl_op *op) {
  int rc = 0;
  if (!x) return PC_EINVAL;
  for (uint32_t s = 0; s < op->nsub && !rc; s++)
    rc = op->sub[s].kind == WL_DEL ? t->txn->del(x, op->sub[s].key, op->sub[s].klen)
                                   : t->txn->put(x, op->sub[s].key, op->sub[s].klen, op->sub[s].val, op->sub[s].vlen);
  if (rc || op->rollback) {
    t->txn->rollback(x);
    return rc;
  }
  return t->txn->commit(x, op->sync);
}

/* ---- concurrent driver (threads > 1) ---- */
typedef struct pc_cdrive {
  const pc_target *t;
  const char *dir, *topts;
  const wl_params *wp;
  uint64_t seed, max_ops;
  wl_oplog_writer *log;
  pthread_mutex_t lk;     /* the op log, next index, stop, rc, msg */
  pthread_rwlock_t hl;    /* the handle: ops share it, a reopen takes it alone */
  pthread_cond_t go;      /* the threads start together (or the first may finish alone) */
  int gate;               /* under lk: 1 once every thread was started */
  void *h;                /* NULL after a failed reopen */
  uint64_t next;          /* next op index */
  int stop, rc;
  char *msg;
  size_t len;
  pc_views views[WL_MAX_THREADS]; /* thread t's; a reopen (holding hl alone) releases all */
} pc_cdrive;

typedef struct pc_cthread {
  pc_cdrive *d;
  uint32_t id;
  pthread_t th;
  int excl; /* holds hl alone from its CLOSE to the end of its OPEN */
} pc_cthread;

static void cd_fail(pc_cdrive *d, int rc, const char *m) { /* under d->lk */
  if (!d->rc) {
    d->rc = rc;
    snprintf(d->msg, d->len, "%s", m);
  }
  d->stop = 1;
}

static int cd_exec(pc_cdrive *d, const wl_op *op, pc_views *v, pc_reads *r, uint64_t idx) {
  const pc_target *t = d->t;
  void *h = d->h;
  switch (op->kind) {
  case WL_PUT: return t->put(h, op->key, op->klen, op->val, op->vlen, op->sync);
  case WL_DEL: return t->del(h, op->key, op->klen, op->sync);
  case WL_DELRANGE: return t->delrange ? t->delrange(h, op->key, op->klen, op->end, op->elen, op->sync) : PC_ENOTSUP;
  case WL_BATCH: return do_batch(t, h, op);
  case WL_SYNC: return t->sync(h);
  case WL_FLUSH: return t->flush(h);
  case WL_CHECKPOINT: return exec_checkpoint(t, h, d->dir, idx);
  case WL_GET: {
    void *val = NULL;
    size_t vl = 0;
    int rc = t->get(h, op->key, op->klen, &val, &vl);
    free(val);
    return rc < 0 ? rc : 0;
  }
  default:
    if (is_view(op->kind)) return exec_view(t, h, v, op, r);
    return PC_EINVAL;
  }
}

/* The reopen, with hl held alone: every thread's views go first. */
static int cd_reopen(pc_cdrive *d) {
  char om[512] = "";
  for (uint32_t i = 0; i < d->wp->threads; i++) views_release(d->t, d->h, &d->views[i]);
  int rc = d->t->close(d->h);
  d->h = NULL;
  int rc2 = d->t->open(d->dir, d->topts, d->wp->target_opts, &d->h, om, sizeof om);
  if (!rc) rc = rc2;
  if (rc2) d->h = NULL;
  return rc;
}

/* A close with hl held alone: every thread's views go first; h is gone whatever it returns. */
static int cd_close(pc_cdrive *d) {
  for (uint32_t i = 0; i < d->wp->threads; i++) views_release(d->t, d->h, &d->views[i]);
  int rc = d->t->close(d->h);
  d->h = NULL;
  return rc;
}

/* An open with hl held alone (by the thread whose CLOSE came before it). */
static int cd_open(pc_cdrive *d, char *m, size_t len) {
  if (d->h) return PC_EINVAL;
  int rc = d->t->open(d->dir, d->topts, d->wp->target_opts, &d->h, m, len);
  if (rc) d->h = NULL;
  return rc;
}

static void cd_unlock(pc_cthread *ct) {
  ct->excl = 0;
  pthread_rwlock_unlock(&ct->d->hl);
}

/* One op of thread ct: issue, run, record. 0 to go on, 1 to stop. */
static int cd_op(pc_cthread *ct, wl_gen *g, wl_op *op, pc_reads *r) {
  pc_cdrive *d = ct->d;
  pc_views *v = &d->views[ct->id];
  int reopen = op->kind == WL_REOPEN, rc = 0, prc = 0, bank = !strcmp(d->wp->name, "bank");
  int alone = reopen || op->kind == WL_CLOSE || op->kind == WL_OPEN, closed = 0;
  uint64_t idx, bal[2] = {0, 0};
  void *x = NULL;
  char m[256], om[512] = "";
  if (ct->excl) { /* an OPEN after this thread's CLOSE: hl is still held alone */
  } else if (alone) pthread_rwlock_wrlock(&d->hl);
  else pthread_rwlock_rdlock(&d->hl);
  /* a read at a view a reopen released (or whose op failed) is not issued */
  if ((op->kind == WL_SNAP_GET || op->kind == WL_SNAP_SCAN || op->kind == WL_SNAP_RELEASE) && !v->snap) goto skip;
  if ((op->kind == WL_ITER_NEXT || op->kind == WL_ITER_CLOSE) && !v->it) goto skip;
  if (op->kind == WL_TXN && d->h) prc = txn_prepare(d->t, d->h, op, bank, &x, bal);
  pthread_mutex_lock(&d->lk);
  if (d->stop || (!d->h && !(ct->excl && op->kind == WL_OPEN)) || d->next >= d->max_ops) {
    pthread_mutex_unlock(&d->lk);
    if (x) d->t->txn->rollback(x);
    cd_unlock(ct);
    return 1;
  }
  idx = d->next++;
  if ((rc = wl_gen_stamp(g, op, idx)) == 0 && op->kind == WL_TXN && bank) wl_bank_txn_fill(g, op, bal[0], bal[1]);
  if (rc || (rc = wl_oplog_append_issued_by(d->log, idx, op, ct->id))) {
    snprintf(m, sizeof m, "op log write failed: %s", wl_strerror(rc));
    cd_fail(d, rc, m);
    pthread_mutex_unlock(&d->lk);
    if (x) d->t->txn->rollback(x);
    cd_unlock(ct);
    return 1;
  }
  pthread_mutex_unlock(&d->lk);
  /* on a busy machine the threads share one CPU and an op never blocks on tmpfs: without
   * a switch here each op would run from its invocation to its ack alone, and no two would
   * overlap; with it, the others are invoked while this one is pending */
  if (!alone) sched_yield();
  reads_clear(r);
  if (reopen) rc = cd_reopen(d);
  else if (op->kind == WL_CLOSE) rc = cd_close(d), closed = 1;
  else if (op->kind == WL_OPEN) rc = cd_open(d, om, sizeof om);
  else if (op->kind == WL_TXN) rc = prc ? prc : txn_finish(d->t, x, op);
  else rc = cd_exec(d, op, v, r, idx);
  pthread_mutex_lock(&d->lk);
  if (rc == PC_EGONE && (closed || op->kind == WL_OPEN)) { /* the target's process died: in flight */
    snprintf(m, sizeof m, "target process gone at op %llu", (unsigned long long)idx);
    cd_fail(d, 0, m);
  } else {
    wl_oplog_append_read(d->log, idx, rc ? WL_OUT_FAILED : WL_OUT_ACKED, rc, rc ? NULL : r->e, rc ? 0 : r->n,
                         !rc && r->at_end);
  }
  if (!d->h && op->kind == WL_OPEN && rc != PC_EGONE) {
    snprintf(m, sizeof m, "open of op %llu failed: %s", (unsigned long long)idx, om[0] ? om : pc_strerror(rc));
    cd_fail(d, rc, m);
  } else if (!d->h && reopen) {
    snprintf(m, sizeof m, "reopen failed at op %llu", (unsigned long long)idx);
    cd_fail(d, PC_ETARGET, m);
  }
  pthread_mutex_unlock(&d->lk);
  if (closed) { /* keep hl alone until the open (this thread's next op) */
    ct->excl = 1;
    return 0;
  }
skip:
  cd_unlock(ct);
  return 0;
}

static void *cd_thread(void *arg) {
  pc_cthread *ct = arg;
  pc_cdrive *d = ct->d;
  wl_params p = *d->wp;
  wl_gen *g = NULL;
  wl_op op;
  pc_reads rd = {0};
  int rc, r;
  char m[256];
  /* thread t's share of the ops, from its own stream */
  p.ops = d->wp->ops / d->wp->threads + (ct->id < d->wp->ops % d->wp->threads);
  p.thread = ct->id;
  rc = wl_gen_create(&p, d->seed + ct->id * 0x9E3779B97F4A7C15ull, &g);
  pthread_mutex_lock(&d->lk);
  while (!d->gate) pthread_cond_wait(&d->go, &d->lk);
  pthread_mutex_unlock(&d->lk);
  if (rc) {
    snprintf(m, sizeof m, "workload: %s", wl_strerror(rc));
    pthread_mutex_lock(&d->lk);
    cd_fail(d, rc, m);
    pthread_mutex_unlock(&d->lk);
    return NULL;
  }
  while ((r = wl_gen_next(g, &op)) == 1)
    if (cd_op(ct, g, &op, &rd)) break;
  if (ct->excl) cd_unlock(ct); /* its stream ended after a CLOSE: the handle stays closed */
  if (r < 0) {
    pthread_mutex_lock(&d->lk);
    cd_fail(d, r, "workload: generator failed");
    pthread_mutex_unlock(&d->lk);
  }
  reads_clear(&rd);
  free(rd.e);
  wl_gen_destroy(g);
  return NULL;
}

static int drive_threads(const pc_target *t, const char *dir, const char *topts, const wl_params *wp,
                         uint64_t seed, wl_oplog_writer *log, uint64_t max_ops, char *msg, size_t len) {
  pc_cdrive d = {.t = t, .dir = dir, .topts = topts, .wp = wp, .seed = seed, .max_ops = max_ops,
                 .log = log, .msg = msg, .len = len};
  pc_cthread th[WL_MAX_THREADS];
  pthread_rwlockattr_t ra;
  uint32_t n = wp->threads, started = 0;
  int rc;
  if ((rc = t->open(dir, topts, wp->target_opts, &d.h, msg, len))) return rc;
  pthread_mutex_init(&d.lk, NULL);
  pthread_rwlockattr_init(&ra);
  /* a waiting reopen goes first, or readers could hold it off for the whole workload */
  pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&d.hl, &ra);
  pthread_rwlockattr_destroy(&ra);
  pthread_cond_init(&d.go, NULL);
  for (uint32_t i = 0; i < n; i++) {
    th[i] = (pc_cthread){&d, i, 0, 0};
    if (pthread_create(&th[i].th, NULL, cd_thread, &th[i])) break;
    started++;
  }
  pthread_mutex_lock(&d.lk);
  if (started < n) cd_fail(&d, PC_ENOMEM, "cannot start a driver thread");
  d.gate = 1;
  pthread_cond_broadcast(&d.go);
  pthread_mutex_unlock(&d.lk);
  for (uint32_t i = 0; i < started; i++) pthread_join(th[i].th, NULL);
  pthread_cond_destroy(&d.go);
  pthread_rwlock_destroy(&d.hl);
  pthread_mutex_destroy(&d.lk);
  /* no close: the end of the workload is a crash point (see header) */
  return d.rc;
}

/* ---- one thread ---- */
/* The reopen of the one-thread driver: acked when close returns, before the open (the open's
 * calls are crash points after an acked close, where a close_syncs contract is checked).
 * 0 to go on; 1 with rc to record as the op's outcome; -1 with rc to stop (msg says why). */
static int seq_reopen(const pc_target *t, void **h, pc_views *v, const char *dir, const char *topts,
                      const wl_params *wp, wl_oplog_writer *log, const wl_op *op, int *rc, char *msg, size_t len) {
  views_release(t, *h, v);
  *rc = t->close(*h);
  *h = NULL;
  if (*rc) {
    if (t->open(dir, topts, wp->target_opts, h, msg, len)) *h = NULL;
    return 1;
  }
  wl_oplog_append_outcome(log, op->idx, WL_OUT_ACKED, 0, WL_GET_NA);
  if ((*rc = t->open(dir, topts, wp->target_opts, h, msg, len)) == PC_EGONE) {
    snprintf(msg, len, "target process gone in the open after op %llu", (unsigned long long)op->idx);
    *rc = 0;
    return -1;
  }
  if (*rc) {
    char m[512];
    snprintf(m, sizeof m, "%s", msg);
    snprintf(msg, len, "open after the acked close of op %llu failed: %s", (unsigned long long)op->idx, m);
    return -1;
  }
  return 0;
}

/* The open op of the one-thread driver (its close was the op before). 0 to go on, -1 with
 * rc to stop (msg says why); the outcome is recorded here. */
static int seq_open(const pc_target *t, void **h, const char *dir, const char *topts, const wl_params *wp,
                    wl_oplog_writer *log, const wl_op *op, int *rc, char *msg, size_t len) {
  char m[512] = "";
  if (*h) { /* the stream's invariant: an OPEN comes right after its CLOSE */
    *rc = PC_EINVAL;
    wl_oplog_append_outcome(log, op->idx, WL_OUT_FAILED, *rc, WL_GET_NA);
    snprintf(msg, len, "op %llu is an open of a handle that is open", (unsigned long long)op->idx);
    return -1;
  }
  if ((*rc = t->open(dir, topts, wp->target_opts, h, m, sizeof m)) == PC_EGONE) { /* in flight */
    *h = NULL;
    snprintf(msg, len, "target process gone in the open of op %llu", (unsigned long long)op->idx);
    *rc = 0;
    return -1;
  }
  if (*rc) {
    *h = NULL;
    wl_oplog_append_outcome(log, op->idx, WL_OUT_FAILED, *rc, WL_GET_NA);
    snprintf(msg, len, "open of op %llu failed: %s", (unsigned long long)op->idx, m[0] ? m : pc_strerror(*rc));
    return -1;
  }
  wl_oplog_append_outcome(log, op->idx, WL_OUT_ACKED, 0, WL_GET_NA);
  return 0;
}

/* A GET checked live against the reference map. */
static int seq_get(const pc_target *t, void *h, const wl_ref *ref, const wl_op *op, wl_get_result *gr) {
  void *v = NULL;
  size_t vl = 0, rvl;
  const uint8_t *rv;
  int rc = t->get(h, op->key, op->klen, &v, &vl);
  if (rc >= 0) {
    int want = wl_ref_get(ref, op->key, op->klen, &rv, &rvl);
    *gr = (want == rc && (!rc || (vl == rvl && !memcmp(v, rv, vl)))) ? WL_GET_MATCH : WL_GET_MISMATCH;
    rc = 0;
  }
  free(v);
  return rc;
}

/* Returns 0 when the workload ran to its end (ops may have failed on the way),
 * or a negative code when the driver itself could not go on (its log says why). */
int pc_drive(const pc_target *t, const char *dir, const char *topts, const wl_params *wp,
             uint64_t seed, wl_oplog_writer *log, uint64_t max_ops, char *msg, size_t len) {
  if (wp->threads > 1) return drive_threads(t, dir, topts, wp, seed, log, max_ops, msg, len);
  wl_gen *g = NULL;
  wl_ref *ref = NULL;
  void *h = NULL, *x = NULL;
  wl_op op;
  pc_views views = {0};
  pc_reads rd = {0};
  int rc, r = 0, bank = !strcmp(wp->name, "bank");
  uint64_t n = 0, bal[2];

  if ((rc = wl_gen_create(wp, seed, &g)) || (rc = wl_ref_create(&ref))) {
    snprintf(msg, len, "workload: %s", wl_strerror(rc));
    goto fail;
  }
  if ((rc = t->open(dir, topts, wp->target_opts, &h, msg, len))) goto fail;
  while (n < max_ops && (r = wl_gen_next(g, &op)) == 1) {
    wl_get_result gr = WL_GET_NA;
    int prc = 0;
    n++;
    if (!h && op.kind != WL_OPEN) { /* the stream's invariant: only an OPEN follows a CLOSE */
      snprintf(msg, len, "op %llu (%s) on a closed handle", (unsigned long long)op.idx, wl_kind_name(op.kind));
      rc = PC_EINVAL;
      goto fail;
    }
    if (op.kind == WL_TXN) { /* begin and reads before the record (header) */
      if ((prc = txn_prepare(t, h, &op, bank, &x, bal)) == PC_EGONE) goto gone;
      if (bank) wl_bank_txn_fill(g, &op, bal[0], bal[1]);
    }
    if ((rc = wl_oplog_append_issued(log, op.idx, &op))) {
      snprintf(msg, len, "op log write failed: %s", wl_strerror(rc));
      goto fail;
    }
    reads_clear(&rd);
    switch (op.kind) {
    case WL_PUT: rc = t->put(h, op.key, op.klen, op.val, op.vlen, op.sync); break;
    case WL_DEL: rc = t->del(h, op.key, op.klen, op.sync); break;
    case WL_DELRANGE: /* generated only when the target has delrange (runner.c) */
      rc = t->delrange ? t->delrange(h, op.key, op.klen, op.end, op.elen, op.sync) : PC_ENOTSUP;
      break;
    case WL_BATCH: rc = do_batch(t, h, &op); break;
    case WL_TXN: rc = prc ? prc : txn_finish(t, x, &op); break;
    case WL_SYNC: rc = t->sync(h); break;
    case WL_FLUSH: rc = t->flush(h); break;
    case WL_CHECKPOINT: rc = exec_checkpoint(t, h, dir, op.idx); break;
    case WL_REOPEN: {
      int k = seq_reopen(t, &h, &views, dir, topts, wp, log, &op, &rc, msg, len);
      if (k < 0) goto fail;
      if (k == 0) continue;
      break;
    }
    case WL_CLOSE: /* acked when close returns; h is gone whatever it returns */
      views_release(t, h, &views);
      rc = t->close(h);
      h = NULL;
      break;
    case WL_OPEN:
      if (seq_open(t, &h, dir, topts, wp, log, &op, &rc, msg, len) < 0) goto fail;
      continue;
    case WL_GET: rc = seq_get(t, h, ref, &op, &gr); break;
    default:
      rc = is_view(op.kind) ? exec_view(t, h, &views, &op, &rd) : PC_EINVAL;
      break;
    }
    x = NULL;
    if (rc == PC_EGONE) goto gone;
    if (rc == 0) {
      wl_ref_apply(ref, &op);
      if (wl_kind_reads(op.kind)) wl_oplog_append_read(log, op.idx, WL_OUT_ACKED, 0, rd.e, rd.n, rd.at_end);
      else wl_oplog_append_outcome(log, op.idx, WL_OUT_ACKED, 0, gr);
    } else {
      /* A failed write may or may not have been applied: the live reference
       * stays as it was (gets after it are judged by the oracle, not here). */
      wl_oplog_append_outcome(log, op.idx, WL_OUT_FAILED, rc, gr);
    }
    if (!h && op.kind != WL_CLOSE) { /* a reopen failed: nothing more can be issued */
      snprintf(msg, len, "reopen failed at op %llu", (unsigned long long)op.idx);
      rc = PC_ETARGET;
      goto fail;
    }
  }
  if (r < 0) { /* the generator failed: the workload did not run to its end */
    snprintf(msg, len, "workload generator failed after op %llu: %s", (unsigned long long)n, wl_strerror(r));
    rc = r;
    goto fail;
  }
  rc = 0;
  goto fail;
gone: /* the target's process died (a kill fired in it): op stays in flight */
  snprintf(msg, len, "target process gone at op %llu", (unsigned long long)op.idx);
  rc = 0;
fail:
  /* no close: the end of the workload is a crash point (see header) */
  if (x) t->txn->rollback(x);
  reads_clear(&rd);
  free(rd.e);
  wl_ref_destroy(ref);
  wl_gen_destroy(g);
  return rc;
}

/* ---- after the crash: the checkpoints, for the oracle ---- */
/* Recovery file of the checkpoints (one record per directory named WL_CKPT_PREFIX<index> in
 * the data dir): "PCCK" u64 op index, i32 code (0: opened and read whole), u32 message
 * length, the message (the engine's reason when not 0), then when 0 (u32 klen, u32 vlen,
 * key, value)* u32 ~0. The file ends after the last record. */
typedef struct ck_out {
  FILE *f;
} ck_out;

static int ck_kv(void *arg, const void *k, size_t kl, const void *v, size_t vl) {
  ck_out *o = arg;
  uint32_t hd[2] = {(uint32_t)kl, (uint32_t)vl};
  if (fwrite(hd, sizeof hd, 1, o->f) != 1 || fwrite(k, 1, kl, o->f) != kl || fwrite(v, 1, vl, o->f) != vl)
    return PC_EIO;
  return 0;
}

static int ck_record(FILE *f, uint64_t idx, int32_t code, const char *msg) {
  uint32_t ml = (uint32_t)strlen(msg);
  if (fwrite("PCCK", 4, 1, f) != 1 || fwrite(&idx, sizeof idx, 1, f) != 1 || fwrite(&code, sizeof code, 1, f) != 1 ||
      fwrite(&ml, sizeof ml, 1, f) != 1 || fwrite(msg, 1, ml, f) != ml)
    return PC_EIO;
  return 0;
}

/* One checkpoint: opened read-only and scanned to a temp file first, so that a scan that fails
 * half way leaves a record with its code and no entries. */
static int ck_dump_one(const pc_target *t, const char *path, uint64_t idx, const char *topts, const char *wopts,
                       FILE *f) {
  char msg[1024] = "";
  void *h = NULL;
  uint32_t end = UINT32_MAX;
  FILE *tmp = tmpfile();
  ck_out o = {tmp};
  int rc, wrc = 0;
  if (!tmp) return PC_EIO;
  rc = t->checkpoint_open(path, topts, wopts, &h, msg, sizeof msg);
  if (!rc) {
    rc = t->scan(h, ck_kv, &o);
    if (rc == PC_EIO && ferror(tmp)) wrc = PC_EIO;
    else if (rc) snprintf(msg, sizeof msg, "reading it failed: %s", t->errmsg ? t->errmsg(h) : pc_strerror(rc));
    t->close(h);
  } else if (!msg[0]) {
    snprintf(msg, sizeof msg, "%s", pc_strerror(rc));
  }
  if (!wrc && !(wrc = ck_record(f, idx, rc, rc ? msg : "")) && !rc) {
    char buf[65536];
    size_t n;
    rewind(tmp);
    while ((n = fread(buf, 1, sizeof buf, tmp)) > 0)
      if (fwrite(buf, 1, n, f) != n) wrc = PC_EIO;
    if (ferror(tmp) || fwrite(&end, sizeof end, 1, f) != 1) wrc = PC_EIO;
  }
  fclose(tmp);
  return wrc;
}

int pc_checkpoints_dump(const pc_target *t, const char *dir, const char *topts, const char *wopts, const char *out) {
  DIR *d;
  struct dirent *e;
  FILE *f;
  int rc = 0;
  size_t pl = strlen(WL_CKPT_PREFIX);
  if (!(f = fopen(out, "we"))) return PC_EIO;
  if (!t->checkpoint_open || !(d = opendir(dir))) return fclose(f) ? PC_EIO : 0;
  while (!rc && (e = readdir(d))) {
    char path[4096], *end;
    if (strncmp(e->d_name, WL_CKPT_PREFIX, pl) || strlen(e->d_name) != pl + 12) continue;
    unsigned long long idx = strtoull(e->d_name + pl, &end, 10);
    if (*end) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    rc = ck_dump_one(t, path, idx, topts, wopts, f);
  }
  closedir(d);
  if (fclose(f)) rc = PC_EIO;
  return rc;
}

void pc_checkpoints_free(orc_ckpt *c, size_t n) {
  for (size_t i = 0; i < n; i++) free((void *)c[i].state);
  free(c);
}

/* Parses the file pc_checkpoints_dump wrote (buf stays owned by the caller and must outlive
 * *out: keys, values and messages point into it). */
int pc_checkpoints_parse(const char *buf, size_t len, orc_ckpt **out, size_t *nout) {
  orc_ckpt *a = NULL;
  size_t n = 0, off = 0;
  while (off < len) {
    orc_ckpt c = {0};
    int32_t code;
    uint32_t ml;
    size_t cap = 0;
    orc_kv *kv = NULL;
    if (len - off < 20 || memcmp(buf + off, "PCCK", 4)) goto bad;
    memcpy(&c.op, buf + off + 4, 8);
    memcpy(&code, buf + off + 12, 4);
    memcpy(&ml, buf + off + 16, 4);
    off += 20;
    if (ml > len - off) goto bad;
    c.why = buf + off; /* not NUL-terminated: why_len */
    c.why_len = ml;
    off += ml;
    c.opened = code == 0;
    while (c.opened) {
      uint32_t hd[2];
      if (len - off < 4) goto bad_kv;
      memcpy(hd, buf + off, 4);
      if (hd[0] == UINT32_MAX) {
        off += 4;
        break;
      }
      if (len - off < 8) goto bad_kv;
      memcpy(hd, buf + off, 8);
      off += 8;
      if (hd[0] > len - off || hd[1] > len - off - hd[0]) goto bad_kv;
      if (c.nstate == cap) {
        orc_kv *b = realloc(kv, (cap = cap ? 2 * cap : 64) * sizeof *kv);
        if (!b) goto bad_kv;
        kv = b;
      }
      kv[c.nstate++] = (orc_kv){(const uint8_t *)buf + off, hd[0], (const uint8_t *)buf + off + hd[0], hd[1]};
      off += (size_t)hd[0] + hd[1];
    }
    c.state = kv;
    orc_ckpt *b = realloc(a, (n + 1) * sizeof *a);
    if (!b) goto bad_kv;
    a = b;
    a[n++] = c;
    continue;
  bad_kv:
    free(kv);
    goto bad;
  }
  *out = a;
  *nout = n;
  return 0;
bad:
  pc_checkpoints_free(a, n);
  return PC_EIO;
}
