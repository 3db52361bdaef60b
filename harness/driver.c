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
 * A reopen holds the handle exclusively (no op in flight across it); GETs are
 * issued but not checked live (the oracle judges the state).
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "harness_int.h"
#include "workloads.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

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
} pc_cdrive;

typedef struct pc_cthread {
  pc_cdrive *d;
  uint32_t id;
  pthread_t th;
} pc_cthread;

static void cd_fail(pc_cdrive *d, int rc, const char *m) { /* under d->lk */
  if (!d->rc) {
    d->rc = rc;
    snprintf(d->msg, d->len, "%s", m);
  }
  d->stop = 1;
}

static int cd_exec(pc_cdrive *d, const wl_op *op) {
  const pc_target *t = d->t;
  void *h = d->h;
  switch (op->kind) {
  case WL_PUT: return t->put(h, op->key, op->klen, op->val, op->vlen, op->sync);
  case WL_DEL: return t->del(h, op->key, op->klen, op->sync);
  case WL_BATCH: return do_batch(t, h, op);
  case WL_SYNC: return t->sync(h);
  case WL_FLUSH: return t->flush(h);
  case WL_GET: {
    void *v = NULL;
    size_t vl = 0;
    int rc = t->get(h, op->key, op->klen, &v, &vl);
    free(v);
    return rc < 0 ? rc : 0;
  }
  default: return PC_EINVAL; /* WL_DELRANGE: not generated unless the target has the capability */
  }
}

static void *cd_thread(void *arg) {
  pc_cthread *ct = arg;
  pc_cdrive *d = ct->d;
  wl_params p = *d->wp;
  wl_gen *g = NULL;
  wl_op op;
  int rc, r;
  char m[256];
  /* thread t's share of the ops, from its own stream */
  p.ops = d->wp->ops / d->wp->threads + (ct->id < d->wp->ops % d->wp->threads);
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
  while ((r = wl_gen_next(g, &op)) == 1) {
    int reopen = op.kind == WL_REOPEN;
    uint64_t idx;
    if (reopen) pthread_rwlock_wrlock(&d->hl);
    else pthread_rwlock_rdlock(&d->hl);
    pthread_mutex_lock(&d->lk);
    if (d->stop || !d->h || d->next >= d->max_ops) {
      pthread_mutex_unlock(&d->lk);
      pthread_rwlock_unlock(&d->hl);
      break;
    }
    idx = d->next++;
    if ((rc = wl_gen_stamp(g, &op, idx)) || (rc = wl_oplog_append_issued_by(d->log, idx, &op, ct->id))) {
      snprintf(m, sizeof m, "op log write failed: %s", wl_strerror(rc));
      cd_fail(d, rc, m);
      pthread_mutex_unlock(&d->lk);
      pthread_rwlock_unlock(&d->hl);
      break;
    }
    pthread_mutex_unlock(&d->lk);
    /* on a busy machine the threads share one CPU and an op never blocks on tmpfs: without
     * a switch here each op would run from its invocation to its ack alone, and no two would
     * overlap; with it, the others are invoked while this one is pending */
    if (!reopen) sched_yield();
    if (reopen) {
      char om[512] = "";
      rc = d->t->close(d->h);
      d->h = NULL;
      int rc2 = d->t->open(d->dir, d->topts, d->wp->target_opts, &d->h, om, sizeof om);
      if (!rc) rc = rc2;
      if (rc2) d->h = NULL;
    } else {
      rc = cd_exec(d, &op);
    }
    pthread_mutex_lock(&d->lk);
    wl_oplog_append_outcome(d->log, idx, rc ? WL_OUT_FAILED : WL_OUT_ACKED, rc, WL_GET_NA);
    if (!d->h) {
      snprintf(m, sizeof m, "reopen failed at op %llu", (unsigned long long)idx);
      cd_fail(d, PC_ETARGET, m);
    }
    pthread_mutex_unlock(&d->lk);
    pthread_rwlock_unlock(&d->hl);
  }
  if (r < 0) {
    pthread_mutex_lock(&d->lk);
    cd_fail(d, r, "workload: generator failed");
    pthread_mutex_unlock(&d->lk);
  }
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
    th[i] = (pc_cthread){&d, i, 0};
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

/* Returns 0 when the workload ran to its end (ops may have failed on the way),
 * or a negative code when the driver itself could not go on (its log says why). */
int pc_drive(const pc_target *t, const char *dir, const char *topts, const wl_params *wp,
             uint64_t seed, wl_oplog_writer *log, uint64_t max_ops, char *msg, size_t len) {
  if (wp->threads > 1) return drive_threads(t, dir, topts, wp, seed, log, max_ops, msg, len);
  wl_gen *g = NULL;
  wl_ref *ref = NULL;
  void *h = NULL;
  wl_op op;
  int rc, r = 0;
  uint64_t n = 0;

  if ((rc = wl_gen_create(wp, seed, &g)) || (rc = wl_ref_create(&ref))) {
    snprintf(msg, len, "workload: %s", wl_strerror(rc));
    goto fail;
  }
  if ((rc = t->open(dir, topts, wp->target_opts, &h, msg, len))) goto fail;
  while (n < max_ops && (r = wl_gen_next(g, &op)) == 1) {
    wl_get_result gr = WL_GET_NA;
    n++;
    if ((rc = wl_oplog_append_issued(log, op.idx, &op))) {
      snprintf(msg, len, "op log write failed: %s", wl_strerror(rc));
      goto fail;
    }
    switch (op.kind) {
    case WL_PUT: rc = t->put(h, op.key, op.klen, op.val, op.vlen, op.sync); break;
    case WL_DEL: rc = t->del(h, op.key, op.klen, op.sync); break;
    case WL_DELRANGE: /* generated only when the target has delrange (runner.c) */
      rc = t->delrange ? t->delrange(h, op.key, op.klen, op.end, op.elen, op.sync) : PC_ENOTSUP;
      break;
    case WL_BATCH: rc = do_batch(t, h, &op); break;
    case WL_SYNC: rc = t->sync(h); break;
    case WL_FLUSH: rc = t->flush(h); break;
    case WL_REOPEN:
      /* acked when close returns, before the open: the open's calls are crash points
       * after an acked close, where a close_syncs contract is checked */
      rc = t->close(h);
      h = NULL;
      if (rc == 0) {
        wl_oplog_append_outcome(log, op.idx, WL_OUT_ACKED, 0, gr);
        if ((rc = t->open(dir, topts, wp->target_opts, &h, msg, len)) == PC_EGONE) {
          snprintf(msg, len, "target process gone in the open after op %llu", (unsigned long long)op.idx);
          rc = 0;
          goto fail;
        }
        if (rc) {
          char m[512];
          snprintf(m, sizeof m, "%s", msg);
          snprintf(msg, len, "open after the acked close of op %llu failed: %s", (unsigned long long)op.idx, m);
          goto fail;
        }
        continue;
      }
      {
        int rc2 = t->open(dir, topts, wp->target_opts, &h, msg, len);
        if (rc2) h = NULL;
      }
      break;
    case WL_GET: {
      void *v = NULL;
      size_t vl = 0;
      const uint8_t *rv;
      size_t rvl;
      rc = t->get(h, op.key, op.klen, &v, &vl);
      if (rc >= 0) {
        int want = wl_ref_get(ref, op.key, op.klen, &rv, &rvl);
        gr = (want == rc && (!rc || (vl == rvl && !memcmp(v, rv, vl)))) ? WL_GET_MATCH
                                                                        : WL_GET_MISMATCH;
        rc = 0;
      }
      free(v);
      break;
    }
    default:
      rc = PC_EINVAL;
      break;
    }
    if (rc == PC_EGONE) { /* the target's process died (a kill fired in it): op stays in flight */
      snprintf(msg, len, "target process gone at op %llu", (unsigned long long)op.idx);
      rc = 0;
      goto fail;
    }
    if (rc == 0) {
      wl_ref_apply(ref, &op);
      wl_oplog_append_outcome(log, op.idx, WL_OUT_ACKED, 0, gr);
    } else {
      /* A failed write may or may not have been applied: the live reference
       * stays as it was (gets after it are judged by the oracle, not here). */
      wl_oplog_append_outcome(log, op.idx, WL_OUT_FAILED, rc, gr);
    }
    if (!h) { /* a reopen failed: nothing more can be issued */
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
fail:
  /* no close: the end of the workload is a crash point (see header) */
  wl_ref_destroy(ref);
  wl_gen_destroy(g);
  return rc;
}
