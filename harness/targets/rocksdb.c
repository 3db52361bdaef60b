/*
 * rocksdb.c - the `rocksdb` target: RocksDB through its C API (rocksdb/c.h),
 * linked in-process. Built as a plugin when librocksdb-dev is present.
 *
 * Options (k=v, unknown names are errors):
 *   sync=0|1               1: every write uses WriteOptions.sync=true; 0 (default):
 *                          only the writes the workload flags as sync do
 *   write_buffer_size=N    memtable size
 *   manual_wal_flush=0|1   DBOptions.manual_wal_flush: the WAL is buffered in the
 *                          process until FlushWAL (sync() calls FlushWAL(true))
 *   disable_wal=0|1        WriteOptions.disableWAL: writes go to the memtable only;
 *                          the workload's sync flag is dropped (RocksDB rejects
 *                          sync writes without a WAL) and sync() flushes the memtable
 *   wal_recovery_mode=point_in_time|absolute|tolerate_corrupted_tail|skip_any
 * Tuning (defaults: the deterministic mode below; `powercut bench` sets them
 * as RocksDB's tuning guide suggests, docs/bench.md):
 *   max_background_jobs=N  DBOptions.max_background_jobs (default 1)
 *   auto_compactions=0|1   0 (default): disable_auto_compactions
 *   bloom_bits=N           a bloom filter of N bits per key (default 0: none)
 *   block_cache=N          an LRU block cache of N bytes (default 0: RocksDB's own)
 *   dynamic_level_bytes=0|1  level_compaction_dynamic_level_bytes (default 0)
 *   bytes_per_sync=N       DBOptions.bytes_per_sync (default 0)
 * Workload hints: memtable_bytes=N maps to write_buffer_size (at least 64 KiB).
 *
 * Contract per option set (docs/targets.md, from include/rocksdb/options.h:
 * WriteOptions::sync, WriteOptions::disableWAL, DBOptions::manual_wal_flush,
 * WALRecoveryMode):
 *   default                       durable_ack process_safe prefix atomic_batch
 *   manual_wal_flush=1            durable_ack prefix atomic_batch (no process_safe)
 *   disable_wal=1                 atomic_batch only
 *   wal_recovery_mode=skip_any    drops prefix (it may skip a record in the middle)
 *
 * Deterministic mode: one background job, no automatic compactions, no stats
 * dumps, info log at HEADER level only. Memtable flushes still run on a
 * background thread when the memtable fills (or on flush()); flush() waits for
 * it, so with small workloads (no memtable switch) the syscall sequence is a
 * function of the workload.
 */
#include "targets.h"

#include <rocksdb/c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RMODE_TOLERATE = 0, RMODE_ABSOLUTE = 1, RMODE_PIT = 2, RMODE_SKIP = 3 };

typedef struct rdb_conf {
  int sync_all;
  int manual_wal_flush;
  int disable_wal;
  int recovery_mode;
  uint64_t write_buffer;   /* 0 = RocksDB's default */
  uint64_t bg_jobs, bloom_bits, block_cache, bytes_per_sync;
  int auto_compactions, dynamic_level_bytes;
} rdb_conf;

typedef struct rdb_target {
  rocksdb_t *db;
  rocksdb_options_t *opts;
  rocksdb_readoptions_t *ro;
  rocksdb_writeoptions_t *wo_sync, *wo_nosync;
  rocksdb_flushoptions_t *fo;
  rocksdb_block_based_table_options_t *bbo;
  rdb_conf conf;
  char msg[512];
} rdb_target;

static int set_opt(void *arg, const char *name, const char *val, char *msg, size_t len) {
  rdb_conf *c = arg;
  if (!strcmp(name, "sync")) return pc_opt_bool(name, val, &c->sync_all, msg, len);
  if (!strcmp(name, "manual_wal_flush")) return pc_opt_bool(name, val, &c->manual_wal_flush, msg, len);
  if (!strcmp(name, "disable_wal")) return pc_opt_bool(name, val, &c->disable_wal, msg, len);
  if (!strcmp(name, "write_buffer_size")) return pc_opt_u64(name, val, &c->write_buffer, msg, len);
  if (!strcmp(name, "max_background_jobs")) {
    int rc = pc_opt_u64(name, val, &c->bg_jobs, msg, len);
    if (!rc && (c->bg_jobs < 1 || c->bg_jobs > 64)) {
      snprintf(msg, len, "rocksdb: max_background_jobs must be 1..64, not %s", val);
      return PC_EINVAL;
    }
    return rc;
  }
  if (!strcmp(name, "auto_compactions")) return pc_opt_bool(name, val, &c->auto_compactions, msg, len);
  if (!strcmp(name, "bloom_bits")) return pc_opt_u64(name, val, &c->bloom_bits, msg, len);
  if (!strcmp(name, "block_cache")) return pc_opt_u64(name, val, &c->block_cache, msg, len);
  if (!strcmp(name, "dynamic_level_bytes")) return pc_opt_bool(name, val, &c->dynamic_level_bytes, msg, len);
  if (!strcmp(name, "bytes_per_sync")) return pc_opt_u64(name, val, &c->bytes_per_sync, msg, len);
  if (!strcmp(name, "wal_recovery_mode")) {
    if (!strcmp(val, "point_in_time")) c->recovery_mode = RMODE_PIT;
    else if (!strcmp(val, "absolute")) c->recovery_mode = RMODE_ABSOLUTE;
    else if (!strcmp(val, "tolerate_corrupted_tail")) c->recovery_mode = RMODE_TOLERATE;
    else if (!strcmp(val, "skip_any")) c->recovery_mode = RMODE_SKIP;
    else {
      snprintf(msg, len, "rocksdb: wal_recovery_mode '%s' (point_in_time, absolute, "
               "tolerate_corrupted_tail, skip_any)", val);
      return PC_EINVAL;
    }
    return 0;
  }
  snprintf(msg, len, "rocksdb: unknown option '%s' (sync, write_buffer_size, manual_wal_flush, "
           "disable_wal, wal_recovery_mode, max_background_jobs, auto_compactions, bloom_bits, "
           "block_cache, dynamic_level_bytes, bytes_per_sync)", name);
  return PC_EINVAL;
}

static int set_hint(void *arg, const char *name, const char *val, char *msg, size_t len) {
  rdb_conf *c = arg;
  int rc;
  if (strcmp(name, "memtable_bytes")) return 0;   /* hints for other engines */
  if ((rc = pc_opt_u64(name, val, &c->write_buffer, msg, len))) return rc;
  if (c->write_buffer < 64 * 1024) c->write_buffer = 64 * 1024;
  return 0;
}

static int build_conf(const char *opts, const char *wopts, rdb_conf *c, char *msg, size_t len) {
  int rc;
  memset(c, 0, sizeof *c);
  c->recovery_mode = RMODE_PIT;
  c->bg_jobs = 1;
  if ((rc = pc_opts_each(wopts, set_hint, c, msg, len))) return rc;
  if ((rc = pc_opts_each(opts, set_opt, c, msg, len))) return rc;
  if (c->disable_wal && c->manual_wal_flush) {
    snprintf(msg, len, "rocksdb: disable_wal=1 and manual_wal_flush=1 do not combine");
    return PC_EINVAL;
  }
  if (c->disable_wal && c->sync_all) {
    snprintf(msg, len, "rocksdb: sync=1 needs the WAL (RocksDB rejects sync writes with disable_wal=1)");
    return PC_EINVAL;
  }
  return 0;
}

static int t_check_opts(const char *opts, const char *wopts, char *msg, size_t len) {
  rdb_conf c;
  return build_conf(opts, wopts, &c, msg, len);
}

static unsigned t_contract(const char *opts) {
  rdb_conf c;
  char msg[128];
  unsigned f = PC_CONTRACT_DURABLE_ACK | PC_CONTRACT_PROCESS_SAFE | PC_CONTRACT_PREFIX | PC_CONTRACT_ATOMIC_BATCH;
  if (build_conf(opts, NULL, &c, msg, sizeof msg)) return f;
  if (c.disable_wal) return PC_CONTRACT_ATOMIC_BATCH;
  if (c.manual_wal_flush) f &= ~PC_CONTRACT_PROCESS_SAFE;
  if (c.recovery_mode == RMODE_SKIP) f &= ~PC_CONTRACT_PREFIX;
  return f;
}

static int fail_with(rdb_target *t, const char *op, char *err) {
  snprintf(t->msg, sizeof t->msg, "rocksdb %s: %s", op, err ? err : "unknown error");
  rocksdb_free(err);
  return PC_ETARGET;
}

static void destroy(rdb_target *t) {
  if (!t) return;
  if (t->db) rocksdb_close(t->db);
  if (t->opts) rocksdb_options_destroy(t->opts);
  if (t->ro) rocksdb_readoptions_destroy(t->ro);
  if (t->wo_sync) rocksdb_writeoptions_destroy(t->wo_sync);
  if (t->wo_nosync) rocksdb_writeoptions_destroy(t->wo_nosync);
  if (t->fo) rocksdb_flushoptions_destroy(t->fo);
  if (t->bbo) rocksdb_block_based_options_destroy(t->bbo);
  free(t);
}

static int t_open(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                  size_t len) {
  rdb_target *t = NULL;
  char *err = NULL;
  int rc;
  if (!(t = calloc(1, sizeof *t))) return PC_ENOMEM;
  if ((rc = build_conf(opts, wopts, &t->conf, msg, len))) goto fail;
  rc = PC_ENOMEM;
  if (!(t->opts = rocksdb_options_create()) || !(t->ro = rocksdb_readoptions_create()) ||
      !(t->wo_sync = rocksdb_writeoptions_create()) || !(t->wo_nosync = rocksdb_writeoptions_create()) ||
      !(t->fo = rocksdb_flushoptions_create()))
    goto fail;
  rocksdb_options_set_create_if_missing(t->opts, 1);
  if (t->conf.write_buffer) rocksdb_options_set_write_buffer_size(t->opts, (size_t)t->conf.write_buffer);
  rocksdb_options_set_manual_wal_flush(t->opts, (unsigned char)t->conf.manual_wal_flush);
  rocksdb_options_set_wal_recovery_mode(t->opts, t->conf.recovery_mode);
  /* deterministic mode (the defaults): as few background activities as
   * RocksDB allows; the tuning options relax it */
  rocksdb_options_set_max_background_jobs(t->opts, (int)t->conf.bg_jobs);
  rocksdb_options_set_disable_auto_compactions(t->opts, t->conf.auto_compactions ? 0 : 1);
  rocksdb_options_set_level_compaction_dynamic_level_bytes(t->opts, (unsigned char)t->conf.dynamic_level_bytes);
  if (t->conf.bytes_per_sync) rocksdb_options_set_bytes_per_sync(t->opts, t->conf.bytes_per_sync);
  if (t->conf.bloom_bits || t->conf.block_cache) {
    if (!(t->bbo = rocksdb_block_based_options_create())) goto fail;
    if (t->conf.bloom_bits) /* the table options own the policy */
      rocksdb_block_based_options_set_filter_policy(t->bbo,
                                                    rocksdb_filterpolicy_create_bloom((double)t->conf.bloom_bits));
    if (t->conf.block_cache) {
      rocksdb_cache_t *cache = rocksdb_cache_create_lru((size_t)t->conf.block_cache);
      if (!cache) goto fail;
      rocksdb_block_based_options_set_block_cache(t->bbo, cache); /* shares ownership */
      rocksdb_cache_destroy(cache);
    }
    rocksdb_options_set_block_based_table_factory(t->opts, t->bbo);
  }
  rocksdb_options_set_stats_dump_period_sec(t->opts, 0);
  rocksdb_options_set_stats_persist_period_sec(t->opts, 0);
  rocksdb_options_set_info_log_level(t->opts, 5 /* HEADER_LEVEL */);
  rocksdb_options_set_keep_log_file_num(t->opts, 2);
  rocksdb_options_set_max_file_opening_threads(t->opts, 1);
  rocksdb_options_set_skip_stats_update_on_db_open(t->opts, 1);
  rocksdb_writeoptions_set_sync(t->wo_sync, t->conf.disable_wal ? 0 : 1);
  rocksdb_writeoptions_set_sync(t->wo_nosync, 0);
  rocksdb_writeoptions_disable_WAL(t->wo_sync, t->conf.disable_wal);
  rocksdb_writeoptions_disable_WAL(t->wo_nosync, t->conf.disable_wal);
  rocksdb_flushoptions_set_wait(t->fo, 1);
  t->db = rocksdb_open(t->opts, dir, &err);
  if (err || !t->db) {
    snprintf(msg, len, "rocksdb_open(%s): %s", dir, err ? err : "failed");
    rocksdb_free(err);
    rc = PC_ETARGET;
    goto fail;
  }
  *h = t;
  return 0;
fail:
  destroy(t);
  return rc;
}

static rocksdb_writeoptions_t *wo(rdb_target *t, int sync) {
  return (sync || t->conf.sync_all) ? t->wo_sync : t->wo_nosync;
}

static int t_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int sync) {
  rdb_target *t = h;
  char *err = NULL;
  rocksdb_put(t->db, wo(t, sync), k, kl, v ? v : "", vl, &err);
  return err ? fail_with(t, "put", err) : 0;
}

static int t_del(void *h, const void *k, size_t kl, int sync) {
  rdb_target *t = h;
  char *err = NULL;
  rocksdb_delete(t->db, wo(t, sync), k, kl, &err);
  return err ? fail_with(t, "delete", err) : 0;
}

static int t_batch(void *h, const pc_kv_op *ops, size_t n, int sync) {
  rdb_target *t = h;
  char *err = NULL;
  rocksdb_writebatch_t *b = rocksdb_writebatch_create();
  if (!b) return PC_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (ops[i].kind == PC_OP_DEL) rocksdb_writebatch_delete(b, ops[i].k, ops[i].klen);
    else rocksdb_writebatch_put(b, ops[i].k, ops[i].klen, ops[i].v ? ops[i].v : "", ops[i].vlen);
  }
  rocksdb_write(t->db, wo(t, sync), b, &err);
  rocksdb_writebatch_destroy(b);
  return err ? fail_with(t, "write(batch)", err) : 0;
}

/* DeleteRange as a one-entry write batch: the write options (sync) apply. */
static int t_delrange(void *h, const void *b, size_t bl, const void *e, size_t el, int sync) {
  rdb_target *t = h;
  char *err = NULL;
  rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
  if (!wb) return PC_ENOMEM;
  rocksdb_writebatch_delete_range(wb, b, bl, e, el);
  rocksdb_write(t->db, wo(t, sync), wb, &err);
  rocksdb_writebatch_destroy(wb);
  return err ? fail_with(t, "write(delete_range)", err) : 0;
}

static int t_get(void *h, const void *k, size_t kl, void **v, size_t *vl) {
  rdb_target *t = h;
  char *err = NULL;
  size_t n = 0;
  int rc;
  char *r = rocksdb_get(t->db, t->ro, k, kl, &n, &err);
  if (err) return fail_with(t, "get", err);
  if (!r) return 0;
  rc = pc_target_copy_value(r, n, v, vl);
  rocksdb_free(r);
  return rc;
}

static int t_scan(void *h, pc_scan_fn fn, void *arg) {
  rdb_target *t = h;
  char *err = NULL;
  int rc = 0;
  rocksdb_iterator_t *it = rocksdb_create_iterator(t->db, t->ro);
  if (!it) return PC_ENOMEM;
  for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
    size_t kl, vl;
    const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);
    if ((rc = fn(arg, k, kl, v, vl))) break;
  }
  if (!rc) {
    rocksdb_iter_get_error(it, &err);
    if (err) rc = fail_with(t, "scan", err);
  }
  rocksdb_iter_destroy(it);
  return rc;
}

/* FlushWAL(sync=true): writes the WAL buffer (manual_wal_flush) and syncs the
 * WAL. Without a WAL the only durable place is a table file: flush the memtable. */
static int t_sync(void *h) {
  rdb_target *t = h;
  char *err = NULL;
  if (t->conf.disable_wal) {
    rocksdb_flush(t->db, t->fo, &err);
    return err ? fail_with(t, "sync (memtable flush)", err) : 0;
  }
  rocksdb_flush_wal(t->db, 1, &err);
  return err ? fail_with(t, "sync (FlushWAL(true))", err) : 0;
}

static int t_flush(void *h) {
  rdb_target *t = h;
  char *err = NULL;
  rocksdb_flush(t->db, t->fo, &err);
  return err ? fail_with(t, "flush (memtable)", err) : 0;
}

/* one iterator for the whole benchmark, re-seeked per op */
static int it_create(void *h, void **out) {
  rdb_target *t = h;
  if (!(*out = rocksdb_create_iterator(t->db, t->ro))) return PC_ENOMEM;
  return 0;
}
static int it_pos(rocksdb_iterator_t *it) {
  char *err = NULL;
  if (rocksdb_iter_valid(it)) return 1;
  rocksdb_iter_get_error(it, &err);
  if (err) {
    rocksdb_free(err);
    return PC_ETARGET;
  }
  return 0;
}
static int it_seek(void *it, const void *k, size_t kl) {
  rocksdb_iter_seek(it, k, kl);
  return it_pos(it);
}
static int it_next(void *it) {
  rocksdb_iter_next(it);
  return it_pos(it);
}
static void it_entry(void *it, const void **k, size_t *kl, const void **v, size_t *vl) {
  *k = rocksdb_iter_key(it, kl);
  *v = rocksdb_iter_value(it, vl);
}
static void it_destroy(void *it) {
  if (it) rocksdb_iter_destroy(it);
}
static const pc_iter_ops rocksdb_iter_ops = {
  .create = it_create, .seek = it_seek, .next = it_next, .entry = it_entry, .destroy = it_destroy,
};

static int t_close(void *h) {
  destroy(h);
  return 0;
}

static const char *t_errmsg(void *h) { return ((rdb_target *)h)->msg; }

const pc_target pc_target_rocksdb = {
  .abi = PC_TARGET_ABI,
  .name = "rocksdb",
  .about = "RocksDB (librocksdb, C API, in-process; default 1 background job, no auto compactions); "
           "sync() = FlushWAL(true), flush() = memtable flush; contract: manual_wal_flush=1 drops "
           "process_safe, disable_wal=1 keeps only atomic_batch, wal_recovery_mode=skip_any drops prefix",
  .options_help = "sync=0|1 write_buffer_size=N manual_wal_flush=0|1 disable_wal=0|1 "
                  "wal_recovery_mode=point_in_time|absolute|tolerate_corrupted_tail|skip_any "
                  "max_background_jobs=N auto_compactions=0|1 bloom_bits=N block_cache=N dynamic_level_bytes=0|1 "
                  "bytes_per_sync=N",
  .contract = PC_CONTRACT_DURABLE_ACK | PC_CONTRACT_PROCESS_SAFE | PC_CONTRACT_PREFIX | PC_CONTRACT_ATOMIC_BATCH,
  PC_TARGET_METHODS,
  .iter = &rocksdb_iter_ops,
  .delrange = t_delrange,
  .thread_safe = 1, /* a DB handle is documented safe to share between threads */
  .bench_profile = "max_background_jobs=2,auto_compactions=1,bloom_bits=10,block_cache=" PC_BENCH_PEER_CACHE
                   ",dynamic_level_bytes=1,bytes_per_sync=1M",
};
