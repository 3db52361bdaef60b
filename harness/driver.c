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
 */
#include "harness_int.h"
#include "workloads.h"

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

/* Returns 0 when the workload ran to its end (ops may have failed on the way),
 * or a negative code when the driver itself could not go on (its log says why). */
int pc_drive(const pc_target *t, const char *dir, const char *topts, const wl_params *wp,
             uint64_t seed, wl_oplog_writer *log, uint64_t max_ops, char *msg, size_t len) {
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
