/*
 * leveldb.c - the `leveldb` target: LevelDB through its C API (leveldb/c.h),
 * linked in-process. Built as a plugin when libleveldb-dev is present.
 *
 * Options (k=v, unknown names are errors):
 *   sync=0|1              1: every write uses WriteOptions.sync=true; 0 (default):
 *                         only the writes the workload flags as sync do
 *   write_buffer_size=N   memtable size (LevelDB clamps it to >= 64 KiB)
 *   paranoid_checks=0|1   Options.paranoid_checks (fail open on any corruption)
 *   block_size=N          Options.block_size
 *   bloom_bits=N          a bloom filter policy of N bits per key (default 0: none)
 *   block_cache=N         an LRU block cache of N bytes (default 0: LevelDB's 8 MiB)
 * Workload hints: memtable_bytes=N maps to write_buffer_size; other hints are
 * for other engines and are ignored. Explicit target options win.
 *
 * Contract (docs/targets.md, from include/leveldb/options.h, WriteOptions::sync,
 * and doc/index.md "Atomic Updates"): durable_ack, process_safe, atomic_batch,
 * for every option set. No prefix: doc/index.md suggests a sync write can mark a
 * restart point for everything before it, but LevelDB does not sync the old log
 * when it switches to a new one, so the unsynced tail of the old log can be lost
 * while later sync writes survive (campaign finding, docs/targets.md).
 * sync() writes an empty WriteBatch with sync=true (one log record + fsync of
 * the current log).
 *
 * Determinism: LevelDB runs one background thread for memtable compaction and
 * compactions. With the default 4 MiB write buffer and small workloads it never
 * runs during a case, so the syscall sequence is a function of the workload;
 * workloads that fill the memtable (churn) make the background thread's
 * timing part of the sequence (the verdict is still judged by the contract).
 */
#include "targets.h"

#include <leveldb/c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ldb_conf {
  int sync_all;
  int paranoid;
  uint64_t write_buffer;  /* 0 = LevelDB's default */
  uint64_t block_size;    /* 0 = LevelDB's default */
  uint64_t bloom_bits, block_cache;
} ldb_conf;

typedef struct ldb_target {
  leveldb_t *db;
  leveldb_options_t *opts;
  leveldb_readoptions_t *ro;
  leveldb_writeoptions_t *wo_sync, *wo_nosync;
  leveldb_filterpolicy_t *filter;  /* must outlive db */
  leveldb_cache_t *cache;          /* must outlive db */
  int sync_all;
  char msg[512];
} ldb_target;

static int set_opt(void *arg, const char *name, const char *val, char *msg, size_t len) {
  ldb_conf *c = arg;
  if (!strcmp(name, "sync")) return pc_opt_bool(name, val, &c->sync_all, msg, len);
  if (!strcmp(name, "paranoid_checks")) return pc_opt_bool(name, val, &c->paranoid, msg, len);
  if (!strcmp(name, "write_buffer_size")) return pc_opt_u64(name, val, &c->write_buffer, msg, len);
  if (!strcmp(name, "block_size")) return pc_opt_u64(name, val, &c->block_size, msg, len);
  if (!strcmp(name, "bloom_bits")) return pc_opt_u64(name, val, &c->bloom_bits, msg, len);
  if (!strcmp(name, "block_cache")) return pc_opt_u64(name, val, &c->block_cache, msg, len);
  snprintf(msg, len, "leveldb: unknown option '%s' (sync, write_buffer_size, paranoid_checks, "
           "block_size, bloom_bits, block_cache)", name);
  return PC_EINVAL;
}

/* workload hints are written for sofadb: map what has a LevelDB equivalent */
static int set_hint(void *arg, const char *name, const char *val, char *msg, size_t len) {
  ldb_conf *c = arg;
  if (!strcmp(name, "memtable_bytes")) return pc_opt_u64(name, val, &c->write_buffer, msg, len);
  return 0;
}

static int build_conf(const char *opts, const char *wopts, ldb_conf *c, char *msg, size_t len) {
  int rc;
  memset(c, 0, sizeof *c);
  if ((rc = pc_opts_each(wopts, set_hint, c, msg, len))) return rc;
  return pc_opts_each(opts, set_opt, c, msg, len);
}

static int t_check_opts(const char *opts, const char *wopts, char *msg, size_t len) {
  ldb_conf c;
  return build_conf(opts, wopts, &c, msg, len);
}

static unsigned t_contract(const char *opts) {
  (void)opts;
  return PC_CONTRACT_DURABLE_ACK | PC_CONTRACT_PROCESS_SAFE | PC_CONTRACT_ATOMIC_BATCH;
}

/* Takes ownership of a LevelDB error string: copies it to t->msg, frees it. */
static int fail_with(ldb_target *t, const char *op, char *err) {
  snprintf(t->msg, sizeof t->msg, "leveldb %s: %s", op, err ? err : "unknown error");
  leveldb_free(err);
  return PC_ETARGET;
}

static void destroy(ldb_target *t) {
  if (!t) return;
  if (t->db) leveldb_close(t->db);
  if (t->opts) leveldb_options_destroy(t->opts);
  if (t->ro) leveldb_readoptions_destroy(t->ro);
  if (t->wo_sync) leveldb_writeoptions_destroy(t->wo_sync);
  if (t->wo_nosync) leveldb_writeoptions_destroy(t->wo_nosync);
  if (t->filter) leveldb_filterpolicy_destroy(t->filter);
  if (t->cache) leveldb_cache_destroy(t->cache);
  free(t);
}

static int t_open(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                  size_t len) {
  ldb_conf c;
  ldb_target *t = NULL;
  char *err = NULL;
  int rc;
  if ((rc = build_conf(opts, wopts, &c, msg, len))) goto fail;
  rc = PC_ENOMEM;
  if (!(t = calloc(1, sizeof *t))) goto fail;
  if (!(t->opts = leveldb_options_create()) || !(t->ro = leveldb_readoptions_create()) ||
      !(t->wo_sync = leveldb_writeoptions_create()) || !(t->wo_nosync = leveldb_writeoptions_create()))
    goto fail;
  leveldb_options_set_create_if_missing(t->opts, 1);
  leveldb_options_set_paranoid_checks(t->opts, (uint8_t)c.paranoid);
  if (c.write_buffer) leveldb_options_set_write_buffer_size(t->opts, (size_t)c.write_buffer);
  if (c.block_size) leveldb_options_set_block_size(t->opts, (size_t)c.block_size);
  if (c.bloom_bits) {
    if (!(t->filter = leveldb_filterpolicy_create_bloom((int)c.bloom_bits))) goto fail;
    leveldb_options_set_filter_policy(t->opts, t->filter);
  }
  if (c.block_cache) {
    if (!(t->cache = leveldb_cache_create_lru((size_t)c.block_cache))) goto fail;
    leveldb_options_set_cache(t->opts, t->cache);
  }
  leveldb_writeoptions_set_sync(t->wo_sync, 1);
  leveldb_writeoptions_set_sync(t->wo_nosync, 0);
  t->sync_all = c.sync_all;
  t->db = leveldb_open(t->opts, dir, &err);
  if (err || !t->db) {
    snprintf(msg, len, "leveldb_open(%s): %s", dir, err ? err : "failed");
    leveldb_free(err);
    rc = PC_ETARGET;
    goto fail;
  }
  *h = t;
  return 0;
fail:
  destroy(t);
  return rc;
}

static leveldb_writeoptions_t *wo(ldb_target *t, int sync) {
  return (sync || t->sync_all) ? t->wo_sync : t->wo_nosync;
}

static int t_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int sync) {
  ldb_target *t = h;
  char *err = NULL;
  leveldb_put(t->db, wo(t, sync), k, kl, v ? v : "", vl, &err);
  return err ? fail_with(t, "put", err) : 0;
}

static int t_del(void *h, const void *k, size_t kl, int sync) {
  ldb_target *t = h;
  char *err = NULL;
  leveldb_delete(t->db, wo(t, sync), k, kl, &err);
  return err ? fail_with(t, "delete", err) : 0;
}

static int t_batch(void *h, const pc_kv_op *ops, size_t n, int sync) {
  ldb_target *t = h;
  char *err = NULL;
  leveldb_writebatch_t *b = leveldb_writebatch_create();
  if (!b) return PC_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (ops[i].kind == PC_OP_DEL) leveldb_writebatch_delete(b, ops[i].k, ops[i].klen);
    else leveldb_writebatch_put(b, ops[i].k, ops[i].klen, ops[i].v ? ops[i].v : "", ops[i].vlen);
  }
  leveldb_write(t->db, wo(t, sync), b, &err);
  leveldb_writebatch_destroy(b);
  return err ? fail_with(t, "write(batch)", err) : 0;
}

static int t_get(void *h, const void *k, size_t kl, void **v, size_t *vl) {
  ldb_target *t = h;
  char *err = NULL;
  size_t n = 0;
  int rc;
  char *r = leveldb_get(t->db, t->ro, k, kl, &n, &err);
  if (err) return fail_with(t, "get", err);
  if (!r) return 0;
  rc = pc_target_copy_value(r, n, v, vl);
  leveldb_free(r);
  return rc;
}

static int t_scan(void *h, pc_scan_fn fn, void *arg) {
  ldb_target *t = h;
  char *err = NULL;
  int rc = 0;
  leveldb_iterator_t *it = leveldb_create_iterator(t->db, t->ro);
  if (!it) return PC_ENOMEM;
  for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
    size_t kl, vl;
    const char *k = leveldb_iter_key(it, &kl), *v = leveldb_iter_value(it, &vl);
    if ((rc = fn(arg, k, kl, v, vl))) break;
  }
  if (!rc) {
    leveldb_iter_get_error(it, &err);
    if (err) rc = fail_with(t, "scan", err);
  }
  leveldb_iter_destroy(it);
  return rc;
}

/* An empty batch with sync=true: LevelDB appends a (header-only) log record
 * and fsyncs the current log, which holds every earlier write since the last
 * memtable switch. */
static int t_sync(void *h) {
  ldb_target *t = h;
  char *err = NULL;
  leveldb_writebatch_t *b = leveldb_writebatch_create();
  if (!b) return PC_ENOMEM;
  leveldb_write(t->db, t->wo_sync, b, &err);
  leveldb_writebatch_destroy(b);
  return err ? fail_with(t, "sync (empty sync write)", err) : 0;
}

/* CompactRange over everything: flushes the memtable to a table file first. */
static int t_flush(void *h) {
  ldb_target *t = h;
  leveldb_compact_range(t->db, NULL, 0, NULL, 0);
  return 0;
}

/* one iterator for the whole benchmark, re-seeked per op */
static int it_create(void *h, void **out) {
  ldb_target *t = h;
  if (!(*out = leveldb_create_iterator(t->db, t->ro))) return PC_ENOMEM;
  return 0;
}
static int it_pos(leveldb_iterator_t *it) {
  char *err = NULL;
  if (leveldb_iter_valid(it)) return 1;
  leveldb_iter_get_error(it, &err);
  if (err) {
    leveldb_free(err);
    return PC_ETARGET;
  }
  return 0;
}
static int it_seek(void *it, const void *k, size_t kl) {
  leveldb_iter_seek(it, k, kl);
  return it_pos(it);
}
static int it_next(void *it) {
  leveldb_iter_next(it);
  return it_pos(it);
}
static void it_entry(void *it, const void **k, size_t *kl, const void **v, size_t *vl) {
  *k = leveldb_iter_key(it, kl);
  *v = leveldb_iter_value(it, vl);
}
static void it_destroy(void *it) {
  if (it) leveldb_iter_destroy(it);
}
static const pc_iter_ops leveldb_iter_ops = {
  .create = it_create, .seek = it_seek, .next = it_next, .entry = it_entry, .destroy = it_destroy,
};

static int t_close(void *h) {
  destroy(h);
  return 0;
}

static const char *t_errmsg(void *h) { return ((ldb_target *)h)->msg; }

const pc_target pc_target_leveldb = {
  .abi = PC_TARGET_ABI,
  .name = "leveldb",
  .about = "LevelDB (libleveldb, C API, in-process); sync() = empty sync write, flush() = compact_range; "
           "same contract for every option set (no prefix: LevelDB does not sync the old log at a log "
           "switch)",
  .options_help = "sync=0|1 (1: every write sync) write_buffer_size=N paranoid_checks=0|1 block_size=N "
                  "bloom_bits=N block_cache=N",
  .contract = PC_CONTRACT_DURABLE_ACK | PC_CONTRACT_PROCESS_SAFE | PC_CONTRACT_ATOMIC_BATCH,
  PC_TARGET_METHODS,
  .iter = &leveldb_iter_ops,
  .thread_safe = 1, /* a DB handle is documented safe to share between threads */
  .bench_profile = "bloom_bits=10,block_cache=" PC_BENCH_PEER_CACHE,
  .bench_baseline = 1,
};
