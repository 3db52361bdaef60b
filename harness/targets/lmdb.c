/*
 * lmdb.c - the `lmdb` target: LMDB (lmdb.h) with one unnamed database in the
 * environment DIR (data.mdb), linked in-process. Built when liblmdb-dev is
 * present, as a plugin.
 *
 * Options (k=v, unknown names are errors):
 *   nosync=0|1       MDB_NOSYNC: no fsync at commit
 *   nometasync=0|1   MDB_NOMETASYNC: fsync the data once per commit, not the meta page
 *   mapsize=N        mdb_env_set_mapsize (default 64M)
 * Every put/del is one write transaction, a batch is one transaction. With
 * nosync or nometasync, a write the workload flags as sync is followed by
 * mdb_env_sync(force=1), the documented way to make those commits durable;
 * sync() is mdb_env_sync(force=1); flush() does nothing (no memtable).
 * The environment is opened with MDB_NOLOCK (one process at a time, which the
 * harness guarantees; no lock file whose robust mutexes outlive a kill) and
 * without MDB_WRITEMAP (writes through the shim's write calls, not a mapping).
 * LMDB rejects empty keys and keys longer than mdb_env_get_maxkeysize (511).
 *
 * Contract per option set, from lmdb.h (mdb_env_open flags; docs/targets.md):
 *   default        durable_ack process_safe prefix atomic_batch
 *   nometasync=1   durable_ack process_safe prefix atomic_batch ("preserves ACI
 *                  but not D", undone only up to the next commit or mdb_env_sync,
 *                  which the adapter calls for sync-flagged writes)
 *   nosync=1       process_safe ("a system crash can corrupt the database" unless
 *                  the file system preserves write order, which powercut's
 *                  reorder model does not)
 *
 * Deterministic mode: LMDB has no background threads; the syscall sequence is
 * a function of the workload.
 */
#include "targets.h"

#include <lmdb.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lm_conf {
  int nosync, nometasync;
  uint64_t mapsize;
} lm_conf;

typedef struct lm_target {
  MDB_env *env;
  MDB_dbi dbi;
  lm_conf conf;
  char msg[512];
} lm_target;

static int set_opt(void *arg, const char *name, const char *val, char *msg, size_t len) {
  lm_conf *c = arg;
  if (!strcmp(name, "nosync")) return pc_opt_bool(name, val, &c->nosync, msg, len);
  if (!strcmp(name, "nometasync")) return pc_opt_bool(name, val, &c->nometasync, msg, len);
  if (!strcmp(name, "mapsize")) {
    int rc = pc_opt_u64(name, val, &c->mapsize, msg, len);
    if (!rc && c->mapsize < 64 * 1024) {
      snprintf(msg, len, "lmdb: mapsize %s is too small (at least 64K)", val);
      return PC_EINVAL;
    }
    return rc;
  }
  snprintf(msg, len, "lmdb: unknown option '%s' (nosync, nometasync, mapsize)", name);
  return PC_EINVAL;
}

/* Workload hints are for other engines: LMDB has none of them. */
static int build_conf(const char *opts, lm_conf *c, char *msg, size_t len) {
  memset(c, 0, sizeof *c);
  c->mapsize = 64ull << 20;
  return pc_opts_each(opts, set_opt, c, msg, len);
}

static int t_check_opts(const char *opts, const char *wopts, char *msg, size_t len) {
  lm_conf c;
  (void)wopts;
  return build_conf(opts, &c, msg, len);
}

static unsigned t_contract(const char *opts) {
  lm_conf c;
  char msg[128];
  if (build_conf(opts, &c, msg, sizeof msg)) return 0;
  if (c.nosync) return PC_CONTRACT_PROCESS_SAFE;
  return PC_CONTRACT_DURABLE_ACK | PC_CONTRACT_PROCESS_SAFE | PC_CONTRACT_PREFIX | PC_CONTRACT_ATOMIC_BATCH;
}

static int fail_mdb(lm_target *t, const char *op, int e) {
  snprintf(t->msg, sizeof t->msg, "lmdb %s: %s", op, mdb_strerror(e));
  return PC_ETARGET;
}

static int t_open(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                  size_t len) {
  lm_target *t;
  MDB_txn *txn = NULL;
  unsigned flags = MDB_NOLOCK | MDB_NORDAHEAD;
  int rc, e;
  (void)wopts;
  if (!(t = calloc(1, sizeof *t))) return PC_ENOMEM;
  if ((rc = build_conf(opts, &t->conf, msg, len))) goto fail;
  if (t->conf.nosync) flags |= MDB_NOSYNC;
  if (t->conf.nometasync) flags |= MDB_NOMETASYNC;
  rc = PC_ETARGET;
  if ((e = mdb_env_create(&t->env))) {
    snprintf(msg, len, "mdb_env_create: %s", mdb_strerror(e));
    goto fail;
  }
  if ((e = mdb_env_set_mapsize(t->env, (size_t)t->conf.mapsize))) {
    snprintf(msg, len, "mdb_env_set_mapsize(%llu): %s", (unsigned long long)t->conf.mapsize,
             mdb_strerror(e));
    goto fail;
  }
  if ((e = mdb_env_open(t->env, dir, flags, 0644))) {
    snprintf(msg, len, "mdb_env_open(%s): %s", dir, mdb_strerror(e));
    goto fail;
  }
  if ((e = mdb_txn_begin(t->env, NULL, 0, &txn)) || (e = mdb_dbi_open(txn, NULL, 0, &t->dbi)) ||
      (e = mdb_txn_commit(txn))) {
    if (txn && e) mdb_txn_abort(txn);
    snprintf(msg, len, "lmdb open database in %s: %s", dir, mdb_strerror(e));
    goto fail;
  }
  *h = t;
  return 0;
fail:
  if (t->env) mdb_env_close(t->env);
  free(t);
  return rc;
}

static MDB_val val_of(const void *p, size_t n) {
  MDB_val v;
  v.mv_size = n;
  v.mv_data = (void *)(p ? p : "");
  return v;
}

/* One write transaction applying ops[0..n); durable per the flags, plus an
 * explicit mdb_env_sync when the caller asked for sync and commits do not sync. */
static int write_txn(lm_target *t, const pc_kv_op *ops, size_t n, int sync) {
  MDB_txn *txn = NULL;
  int e;
  if ((e = mdb_txn_begin(t->env, NULL, 0, &txn))) return fail_mdb(t, "txn_begin", e);
  for (size_t i = 0; i < n; i++) {
    MDB_val k = val_of(ops[i].k, ops[i].klen), v = val_of(ops[i].v, ops[i].vlen);
    e = (ops[i].kind == PC_OP_DEL) ? mdb_del(txn, t->dbi, &k, NULL) : mdb_put(txn, t->dbi, &k, &v, 0);
    if (e == MDB_NOTFOUND && (ops[i].kind == PC_OP_DEL)) e = 0;   /* deleting an absent key is fine */
    if (e) {
      mdb_txn_abort(txn);
      return fail_mdb(t, (ops[i].kind == PC_OP_DEL) ? "del" : "put", e);
    }
  }
  if ((e = mdb_txn_commit(txn))) return fail_mdb(t, "txn_commit", e);
  if (sync && (t->conf.nosync || t->conf.nometasync) && (e = mdb_env_sync(t->env, 1)))
    return fail_mdb(t, "env_sync", e);
  return 0;
}

static int t_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int sync) {
  pc_kv_op op = {0, k, kl, v, vl};
  return write_txn(h, &op, 1, sync);
}

static int t_del(void *h, const void *k, size_t kl, int sync) {
  pc_kv_op op = {1, k, kl, NULL, 0};
  return write_txn(h, &op, 1, sync);
}

static int t_batch(void *h, const pc_kv_op *ops, size_t n, int sync) { return write_txn(h, ops, n, sync); }

static int t_get(void *h, const void *k, size_t kl, void **v, size_t *vl) {
  lm_target *t = h;
  MDB_txn *txn = NULL;
  MDB_val key = val_of(k, kl), val;
  int e, rc;
  if ((e = mdb_txn_begin(t->env, NULL, MDB_RDONLY, &txn))) return fail_mdb(t, "txn_begin(read)", e);
  e = mdb_get(txn, t->dbi, &key, &val);
  if (e == MDB_NOTFOUND) {
    rc = 0;
  } else if (e) {
    rc = fail_mdb(t, "get", e);
  } else {
    rc = pc_target_copy_value(val.mv_data, val.mv_size, v, vl);
  }
  mdb_txn_abort(txn);
  return rc;
}

static int t_scan(void *h, pc_scan_fn fn, void *arg) {
  lm_target *t = h;
  MDB_txn *txn = NULL;
  MDB_cursor *cur = NULL;
  MDB_val k, v;
  int e, rc = 0;
  if ((e = mdb_txn_begin(t->env, NULL, MDB_RDONLY, &txn))) return fail_mdb(t, "txn_begin(read)", e);
  if ((e = mdb_cursor_open(txn, t->dbi, &cur))) {
    rc = fail_mdb(t, "cursor_open", e);
    goto out;
  }
  for (e = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !e; e = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    if ((rc = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size))) goto out;
  if (e != MDB_NOTFOUND) rc = fail_mdb(t, "scan", e);
out:
  if (cur) mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  return rc;
}

/* a cursor in one read transaction for the whole benchmark */
typedef struct lm_iter {
  lm_target *t;
  MDB_txn *txn;
  MDB_cursor *cur;
  MDB_val k, v;
} lm_iter;
static int it_create(void *h, void **out) {
  lm_iter *p = calloc(1, sizeof *p);
  int e;
  if (!p) return PC_ENOMEM;
  p->t = h;
  if ((e = mdb_txn_begin(p->t->env, NULL, MDB_RDONLY, &p->txn)) || (e = mdb_cursor_open(p->txn, p->t->dbi, &p->cur))) {
    if (p->txn) mdb_txn_abort(p->txn);
    free(p);
    return fail_mdb(h, "iterator (txn_begin, cursor_open)", e);
  }
  *out = p;
  return 0;
}
static int it_pos(lm_iter *p, int e) {
  if (!e) return 1;
  return e == MDB_NOTFOUND ? 0 : fail_mdb(p->t, "cursor_get", e);
}
static int it_seek(void *it, const void *k, size_t kl) {
  lm_iter *p = it;
  p->k.mv_data = (void *)k;
  p->k.mv_size = kl;
  return it_pos(p, mdb_cursor_get(p->cur, &p->k, &p->v, MDB_SET_RANGE));
}
static int it_next(void *it) {
  lm_iter *p = it;
  return it_pos(p, mdb_cursor_get(p->cur, &p->k, &p->v, MDB_NEXT));
}
static void it_entry(void *it, const void **k, size_t *kl, const void **v, size_t *vl) {
  lm_iter *p = it;
  *k = p->k.mv_data, *kl = p->k.mv_size, *v = p->v.mv_data, *vl = p->v.mv_size;
}
static void it_destroy(void *it) {
  lm_iter *p = it;
  if (!p) return;
  mdb_cursor_close(p->cur);
  mdb_txn_abort(p->txn);
  free(p);
}
static const pc_iter_ops lm_iter_ops = {
  .create = it_create, .seek = it_seek, .next = it_next, .entry = it_entry, .destroy = it_destroy,
};

static int t_sync(void *h) {
  lm_target *t = h;
  int e = mdb_env_sync(t->env, 1);
  return e ? fail_mdb(t, "env_sync", e) : 0;
}

static int t_flush(void *h) {
  (void)h;
  return 0;
}

static int t_close(void *h) {
  lm_target *t = h;
  mdb_env_close(t->env);
  free(t);
  return 0;
}

static const char *t_errmsg(void *h) { return ((lm_target *)h)->msg; }

const pc_target pc_target_lmdb = {
  .abi = PC_TARGET_ABI,
  .name = "lmdb",
  .about = "LMDB (liblmdb, in-process, MDB_NOLOCK, no WRITEMAP); one transaction per write or batch; "
           "sync() = mdb_env_sync(1); contract: nosync=1 keeps only process_safe",
  .options_help = "nosync=0|1 nometasync=0|1 mapsize=N (default 64M); keys 1..511 bytes",
  .contract = PC_CONTRACT_DURABLE_ACK | PC_CONTRACT_PROCESS_SAFE | PC_CONTRACT_PREFIX | PC_CONTRACT_ATOMIC_BATCH,
  PC_TARGET_METHODS,
  .iter = &lm_iter_ops,
  .thread_note = "the adapter's handle is not thread-safe (opened with MDB_NOLOCK)",
  .bench_no_replay = "LMDB has no log: open maps the data file",
};
