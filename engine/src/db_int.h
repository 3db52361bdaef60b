/*
 * db_int.h - what the files of the sofadb handle share: the handle itself
 * (struct sdb), versions, batches, snapshots, and the functions one file of
 * the handle calls in another. Everything else in those files is static.
 *
 *   db.c          the handle: failed state (D9), open/close/destroy; the
 *                 durability invariants D1-D22 (its header comment)
 *   db_version.c  versions (the live tables of each level) and the level iterator
 *   db_replay.c   WAL replay, and recovery of an existing database at open
 *   db_flush.c    flush: inline, or switch + background flush (D20)
 *   db_compact.c  leveled compaction and the background thread (D18)
 *   db_write.c    the write path and group commit (D17); batches
 *   db_read.c     gets, iterators, range delete
 *   db_snap.c     snapshots, optimistic transactions (D16), checkpoints (D15)
 *   db_tools.c    stats, check, dump
 *
 * Functions named *_locked are called with db->mu held.
 */
#ifndef SDB_DB_INT_H
#define SDB_DB_INT_H

#include "cache.h"
#include "log_format.h"
#include "manifest_format.h"
#include "manifest.h"
#include "memtable.h"
#include "sdb_int.h"
#include "table.h"

#include <pthread.h>
#include <stdio.h>

struct sdb_batch {
  sdb_buf rep; /* ops only; the 20-byte record header is added at write time */
  uint32_t count;
};

struct sdb_snap {
  uint64_t seq;
  struct sdb_snap *prev, *next; /* db->snaps, oldest first */
};

typedef struct sdb_version {
  int refs;
  size_t n[SDB_NUM_LEVELS];
  sdb_table **t[SDB_NUM_LEVELS]; /* L0 newest first; L1+ by smallest key, disjoint */
} sdb_version;

struct sdb {
  pthread_mutex_t mu;
  char *dir;
  sdb_options opt;
  int lockfd;
  int open_ok;
  sdb_logw wal;
  uint64_t wal_synced; /* offset covered by the last successful fdatasync */
  sdb_logw man;
  uint64_t man_number;
  sdb_vstate vs;
  sdb_version *ver;
  sdb_mem *mem;
  sdb_mem *imm;          /* full memtable being flushed in the background (D20), or NULL */
  uint64_t imm_last_seq; /* last sequence number in imm */
  uint64_t bg_flushes, bg_flush_errors, memtable_stalls;
  int bg_flush_rc;
  char bg_flush_msg[512];
  uint64_t last_seq;
  int failed; /* 0, or the error that put the handle in the failed state (D9) */
  char failmsg[512];
  sdb_eb eb;
  sdb_buf scratch;
  sdb_snap snaps; /* sentinel of the live snapshots, oldest (smallest seq) first */
  int bg_mode, bg_started, bg_stop; /* background compaction (D18) */
  pthread_t bg;
  pthread_cond_t bg_cv, bg_done;
  uint64_t bg_errors, write_stalls, write_slowdowns;
  pthread_mutex_t wq_mu; /* group commit queue (D17) */
  struct wreq *wq_head, *wq_tail;
  pthread_cond_t wq_arrive; /* a request joined the queue (a gathering leader waits on it) */
  int wq_len, wq_inflight, wq_target, wq_gathering;
  uint64_t last_sync_ns; /* duration of the last WAL fdatasync (background mode) */
  sdb_buf gbuf;
  uint64_t write_groups, grouped_writes;
  uint64_t nsnaps, range_deletes, range_deleted_keys, txn_commits, txn_conflicts;
  sdb_cache *cache; /* block cache (cache_bytes) */
  sdb_fdlru fdl;    /* table-file cache (max_open_files) */
  int fdl_init;
  sdb_buf cptr[SDB_NUM_LEVELS]; /* compaction pointer: largest user key last compacted per level */
  int has_cptr[SDB_NUM_LEVELS];
  /* stats */
  uint64_t bloom_checks, bloom_useful, bloom_false_pos; /* gets: filter probes, "absent" answers, "maybe" but absent (atomic) */
  uint64_t rec_files; /* WALs replayed at open: 2 when a background flush was pending (D20) */
  uint64_t open_us, flushes, flush_bytes, rec_records, rec_bytes, rec_truncated, rec_skipped;
  uint64_t blocks_raw, blocks_zlib; /* block bytes before compression, blocks stored deflated */
  uint64_t user_bytes, wal_bytes, compactions, trivial_moves, compact_read, compact_written;
  uint64_t level_read[SDB_NUM_LEVELS], level_written[SDB_NUM_LEVELS];
};

/* ---- db_version.c ---- */
void sdb__ver_unref(sdb_version *v);
/* New version: the tables of `old` except those in del[], plus add[i] at
 * level addlvl[i]. */
sdb_version *sdb__ver_edit(const sdb_version *old, const sdb_fdel *del, size_t ndel, sdb_table *const *add,
                           const int *addlvl, size_t nadd);
/* Index of the first table of a sorted level (L1+) whose largest key >= k. */
size_t sdb__level_find(const sdb_version *v, int l, const void *k, size_t kn);
/* The tables of one level L1..L6 as one iterator (the caller keeps them alive). */
sdb_iiter *sdb__level_iter_new(sdb_table **t, size_t n);
int sdb__table_covers(const sdb_table *t, const void *k, size_t kn);
uint64_t sdb__level_bytes(const sdb_version *v, int l);

/* ---- db.c ---- */
int sdb__enter_failed(sdb *db, int rc); /* D9; returns rc */
int sdb__check_failed(sdb *db);         /* 0, or why writes are refused */
int sdb__lock_dir_mode(const char *dir, int shared, int *fdout, sdb_eb *eb);
int sdb__refuse_if_data(const char *dir, sdb_eb *eb); /* D21 */
int sdb__open_live_table(sdb *db, const sdb_fmeta *f, sdb_table **out);
int sdb__publish_manifest(sdb *db);

/* ---- db_replay.c ---- */
typedef struct replay_ctx replay_ctx; /* where replayed batches go (db_replay.c) */
int sdb__apply_ops(sdb_mem *mem, const uint8_t *p, size_t n, uint64_t seq, uint32_t count, FILE *dump);
int sdb__wal_replay(const char *path, uint64_t number, replay_ctx *ctx, int paranoid, FILE *dump,
                    uint64_t *last_seq, uint64_t *prev, uint64_t *end, uint64_t *records, uint64_t *size,
                    uint64_t *skipped, sdb_eb *eb);
int sdb__recover_db(sdb *db, uint64_t mnum, uint64_t maxnum);

/* ---- db_flush.c ---- */
int sdb__flush_locked(sdb *db);
int sdb__wait_imm_locked(sdb *db);
int sdb__switch_locked(sdb *db);
int sdb__flush_imm(sdb *db); /* the background thread's flush of db->imm */
uint64_t sdb__smallest_snapshot(const sdb *db);

/* ---- db_compact.c ---- */
int sdb__compact_locked(sdb *db);
void *sdb__bg_main(void *arg);
uint64_t sdb__level_target(const sdb *db, int l);

/* ---- db_write.c ---- */
int sdb__sync_locked(sdb *db);
int sdb__throttle_locked(sdb *db);
int sdb__write_locked(sdb *db, const uint8_t *ops, size_t n, uint32_t count, int sync);
int sdb__encode_op(sdb_buf *b, int type, const void *k, size_t kn, const void *v, size_t vn);

#endif
