/*
 * sofadb.h - public API of sofadb, an LSM key-value engine.
 *
 * Keys and values are arbitrary byte strings (embedded NULs allowed, empty
 * values allowed). Every function returns 0 on success or a negative SDB_E*
 * code; sdb_strerror() names it and sdb_errmsg() gives the context (operation,
 * path, errno) of the last error on a handle.
 *
 * Durability contract (see docs/targets.md):
 *   - a write with sync=1 is durable when it returns 0, and so is every write
 *     acknowledged before it;
 *   - sdb_sync() makes every acknowledged write durable;
 *   - without sync, acknowledged writes survive a process crash (they are in
 *     the kernel page cache: no user-space buffering) but may be lost, as a
 *     suffix, on power loss.
 *   - a write batch is atomic.
 * After a failed write or fsync on the WAL or MANIFEST the handle is in a
 * failed state: every later write returns SDB_EFAILED until it is reopened.
 */
#ifndef SOFADB_H
#define SOFADB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SDB_ERRNO_MAP(X)                                                       \
  X(OK, 0, "ok")                                                               \
  X(NOTFOUND, -1001, "not found")                                              \
  X(CORRUPT, -1002, "corruption")                                              \
  X(IO, -1003, "I/O error")                                                    \
  X(INVAL, -1004, "invalid argument")                                          \
  X(NOMEM, -1005, "out of memory")                                             \
  X(EXISTS, -1006, "database already exists")                                  \
  X(NOENT, -1007, "database does not exist")                                   \
  X(FAILED, -1008, "database is in a failed state after an I/O error; reopen") \
  X(BUSY, -1009, "database is locked by another process")                      \
  X(CONFLICT, -1010, "transaction conflict")                                   \
  X(NOSPC, -1011, "no space left on device")                                   \
  X(READONLY, -1012, "database is open read-only")

typedef enum {
#define SDB_X_(name, val, msg) SDB_E##name = (val),
  SDB_ERRNO_MAP(SDB_X_)
#undef SDB_X_
} sdb_err;

const char *sdb_strerror(int err);

typedef struct sdb sdb;            /* an open database */
typedef struct sdb_batch sdb_batch;/* an atomic group of writes */
typedef struct sdb_iter sdb_iter;  /* an iterator over a consistent view */

/* Every option, its default and its effect: docs/sofadb.md, "Options". */
typedef struct sdb_options {
  int create_if_missing;      /* default 1 */
  int error_if_exists;        /* default 0 */
  int deterministic;          /* default 0: 1 = all background work inline, no
                                 threads, syscall sequence a pure function of
                                 the calls made (needed by powercut) */
  int paranoid_checks;        /* default 1: corruption in the WAL is an error */
  size_t memtable_bytes;      /* default 4 MiB: memtable size that triggers a flush */
  size_t block_bytes;         /* default 4 KiB: SSTable data block target size */
  int block_restart_interval; /* default 16 keys between restart points */
  int sync_on_close;          /* default 1: close() syncs the WAL */
  int l0_compaction_trigger;  /* default 4: L0 files that start an L0->L1 compaction */
  int l0_slowdown_trigger;    /* default 8: L0 files at which writes are delayed */
  int l0_stop_trigger;        /* default 12: L0 files at which writes wait for compaction */
  uint64_t level_base_bytes;  /* default 10 MiB: size target of L1 */
  int level_ratio;            /* default 10: target(Ln+1) = target(Ln) * ratio */
  uint64_t target_file_bytes; /* default 2 MiB: compaction output file size */
  int bloom_bits_per_key;     /* default 10 (0 = no filter) */
  size_t cache_bytes;         /* default 8 MiB: block cache budget (0 = no cache) */
  int compression;            /* default SDB_COMPRESSION_NONE */
  int compression_level;      /* default 6 (zlib 1..9) */
  int max_open_files;         /* default 1000: bound of the table cache (>= 16) */
  int sync_writes;            /* default 0: each call's sync flag decides; 1 = every
                                 write is synced (fdatasync before it is acked) */
  int mmap_reads;             /* default 1: read tables through a read-only mmap
                                 (0 = pread every block into the block cache) */
  size_t wal_prealloc_bytes;  /* default 64 KiB: the WAL grows in zero-filled steps of
                                 this size (0 = it grows with each record), so a
                                 synced write inside a step does not change the
                                 file's size and its fdatasync commits no metadata */
  int read_only;              /* default 0: 1 = open without changing the directory:
                                 recovery in memory only, no file created, renamed
                                 or deleted (not even LOCK); every write, flush,
                                 sync or checkpoint returns SDB_EREADONLY */
} sdb_options;

#define SDB_COMPRESSION_NONE 0
#define SDB_COMPRESSION_ZLIB 1

/* Sets one option by name from a string ("memtable_bytes", "4194304");
 * sizes accept a K/M/G suffix, compression takes none|zlib. SDB_EINVAL for an
 * unknown name or a bad value (msg, if non-NULL, says which). */
int sdb_options_set(sdb_options *opt, const char *name, const char *value, char *msg, size_t msglen);
/* Names of every option, space-separated. */
const char *sdb_options_names(void);

void sdb_options_init(sdb_options *opt);   /* fills in the defaults */

/* Open rules (docs/sofadb.md, "Opening a directory"):
 *   - a directory with CURRENT is opened; CURRENT, the MANIFEST, tables and
 *     WALs must be regular files (a FIFO, device or directory in their place
 *     is SDB_ECORRUPT, never a blocked open);
 *   - a directory without CURRENT is a new database (create_if_missing) only
 *     if it holds no sofadb data: a table, a WAL with records, or a MANIFEST
 *     listing a table there makes the open fail with SDB_ECORRUPT naming them;
 *   - files are deleted (those the live MANIFEST does not name) only after a
 *     writable open has recovered from a live MANIFEST and published its new
 *     one; a created or read-only open deletes nothing;
 *   - read_only: nothing in the directory changes; a LOCK file, if present,
 *     is held shared (writers get SDB_EBUSY meanwhile), none is created.
 * On failure *out may still be set to a dead handle so that sdb_errmsg() can
 * say why; pass it to sdb_close(). */
int sdb_open(const char *dir, const sdb_options *opt, sdb **out);
int sdb_close(sdb *db);                    /* always frees db */
int sdb_destroy(const char *dir);          /* removes every file of a db */

/* Last error's context on this handle (operation, path, errno), or "". */
const char *sdb_errmsg(const sdb *db);

int sdb_put(sdb *db, const void *k, size_t klen, const void *v, size_t vlen, int sync);
int sdb_delete(sdb *db, const void *k, size_t klen, int sync);
/* *val is malloc'd (free() it); SDB_ENOTFOUND when absent. */
int sdb_get(sdb *db, const void *k, size_t klen, void **val, size_t *vlen);

int sdb_batch_create(sdb_batch **out);
void sdb_batch_free(sdb_batch *b);
void sdb_batch_clear(sdb_batch *b);
int sdb_batch_put(sdb_batch *b, const void *k, size_t klen, const void *v, size_t vlen);
int sdb_batch_delete(sdb_batch *b, const void *k, size_t klen);
int sdb_write(sdb *db, const sdb_batch *b, int sync);  /* all or nothing */

/* Deletes every key in [lo, hi) atomically (one batch of tombstones for the
 * keys present when it runs; cost grows with the number of keys). */
int sdb_delete_range(sdb *db, const void *lo, size_t lolen, const void *hi, size_t hilen, int sync);

int sdb_sync(sdb *db);    /* fdatasync the WAL: every acked write becomes durable */
int sdb_flush(sdb *db);   /* memtable -> SSTable, recorded in the MANIFEST */

/* Iteration in key order (bytewise, shorter key first on a common prefix).
 * lo/hi may be NULL for unbounded; the range is [lo, hi). */
int sdb_iter_create(sdb *db, const void *lo, size_t lolen,
                    const void *hi, size_t hilen, sdb_iter **out);
int sdb_iter_valid(const sdb_iter *it);   /* 1 while positioned on an entry */
/* Repositions it at the first key >= key (and < its hi bound) in the same view
 * (the state at its creation, or its snapshot's): one iterator serves many seeks.
 * 0, or the error that stopped it (then sdb_errmsg says why). */
int sdb_iter_seek(sdb_iter *it, const void *key, size_t klen);
int sdb_iter_next(sdb_iter *it);
const void *sdb_iter_key(const sdb_iter *it, size_t *len);
const void *sdb_iter_value(const sdb_iter *it, size_t *len);
int sdb_iter_status(const sdb_iter *it);  /* 0, or the error that stopped it */
void sdb_iter_free(sdb_iter *it);

/* Snapshots: a read view holding exactly the writes acknowledged before it
 * was taken, while writers continue. Compaction keeps the versions a live
 * snapshot can see. Release every snapshot before sdb_close (close frees the
 * ones left). Snapshots do not survive a reopen. */
typedef struct sdb_snap sdb_snap; /* a snapshot handle */
int sdb_snapshot(sdb *db, const sdb_snap **out);
void sdb_snapshot_release(sdb *db, const sdb_snap *snap);
/* sdb_get / sdb_iter_create at a snapshot (snap NULL: the latest state). */
int sdb_get_at(sdb *db, const sdb_snap *snap, const void *k, size_t klen, void **val, size_t *vlen);
int sdb_iter_create_at(sdb *db, const sdb_snap *snap, const void *lo, size_t lolen, const void *hi,
                       size_t hilen, sdb_iter **out);

/* Optimistic transactions. Reads see the transaction's own writes, then the
 * database as of sdb_txn_begin (a snapshot). Commit fails with
 * SDB_ECONFLICT, writing nothing, if any key the transaction read or wrote
 * was written by someone else after it began; otherwise its writes go in as
 * one atomic batch. Commit and rollback free the transaction. */
typedef struct sdb_txn sdb_txn;
int sdb_txn_begin(sdb *db, sdb_txn **out);
int sdb_txn_get(sdb_txn *t, const void *k, size_t klen, void **val, size_t *vlen);
int sdb_txn_put(sdb_txn *t, const void *k, size_t klen, const void *v, size_t vlen);
int sdb_txn_delete(sdb_txn *t, const void *k, size_t klen);
int sdb_txn_commit(sdb_txn *t, int sync);
void sdb_txn_rollback(sdb_txn *t);

/* Makes a consistent, openable copy of the database in `dir` (which must not
 * exist; same filesystem): the memtable is flushed first, tables are
 * hard-linked, a fresh MANIFEST, CURRENT and empty WAL are written there and
 * fsynced. It holds every write acknowledged before the call. */
int sdb_checkpoint(sdb *db, const char *dir);

/* Engine statistics as "name: value" lines (open_us = time sdb_open took,
 * recovery included; tables; memtable; WAL; flushes...). */
int sdb_stats(sdb *db, char *buf, size_t buflen);

/* Verify every checksum of every live file; 0 or SDB_ECORRUPT with context in
 * the message buffer (file and offset). Read-only, like a read_only open: it
 * creates, changes and deletes nothing (not even LOCK). */
int sdb_check(const char *dir, char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif
#endif /* SOFADB_H */
