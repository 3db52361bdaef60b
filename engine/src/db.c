/*
 * db.c - the sofadb handle: options, the failed state, open (create or
 * recover), close and destroy. Its header comment holds the engine's
 * durability invariants D1-D22, which the other db_*.c files cite by number
 * (db_int.h lists those files and what crosses between them).
 *
 * Files in a database directory (docs/format/ (wal.md, sstable.md, manifest.md)):
 *   CURRENT            names the live MANIFEST
 *   MANIFEST-NNNNNN    version edits: the live tables, the live WAL, counters
 *   NNNNNN.log         the live WAL (MANIFEST's log_number), and while a
 *                      background flush is pending the older one (prev_log, D20)
 *   NNNNNN.sst         tables; live only if the MANIFEST lists them
 *   LOCK               flock()ed while a handle is open
 * File numbers come from one counter recorded in the MANIFEST: no time, pid or
 * randomness goes into a name or into file contents.
 *
 * Durability invariants (numbered; the code cites them):
 *  (D1) A write is acknowledged only after its whole WAL record was handed to
 *       the kernel with write() (log.c L1): acked writes survive a process
 *       crash. There is never user-space buffering of WAL data.
 *  (D2) A sync write is acknowledged only after fdatasync of the WAL returned
 *       0. Every earlier acked write is then durable too: it is either in this
 *       same WAL (covered by the fdatasync) or in a table that was made durable
 *       and recorded before the WAL that held it was retired (D4, D5), or was
 *       recovered at open, where the WAL is fsynced before open returns (D7).
 *  (D3) A WAL's directory entry is made durable (directory fsync) before the
 *       MANIFEST names it, so before any write in it can be sync-acked.
 *  (D4) A flush writes and fsyncs the whole table (table.c T1) and fsyncs the
 *       directory before the MANIFEST edit that records it is written.
 *  (D5) The WAL a memtable covered is unlinked only after the MANIFEST edit
 *       that records its table and names the next WAL is durable (fsynced).
 *  (D6) The live set is what the MANIFEST says, never a directory listing: at
 *       open, files that it does not name (half-written tables, retired WALs,
 *       old MANIFESTs, CURRENT.tmp) are deleted, and only after the new
 *       MANIFEST and CURRENT are durable (manifest.c M2, M3).
 *  (D7) Recovery replays the live WAL up to its last intact record and never
 *       appends to it again. Recovered writes are made durable by WRITING
 *       them anew -- flushed to a fresh, fsynced table recorded in the
 *       MANIFEST, with a fresh WAL -- never by an fsync of the old WAL: after
 *       a failed fsync the kernel may have marked the old WAL's pages clean
 *       without writing them (Linux "fsyncgate"), so a later fsync of that
 *       file proves nothing, and appending after those pages would leave a
 *       hole before newer, synced records (found by powercut:
 *       docs/findings.md #1). When nothing was recovered, a fresh WAL is
 *       started all the same (even the old WAL's header may be such a page).
 *       New records never follow garbage or such pages.
 *  (D8) Sequence numbers only grow: open resumes after the largest of the
 *       MANIFEST's last_seq and the WAL's last record.
 *  (D9) After a failed write or fsync of the WAL or the MANIFEST the handle is
 *       failed: every later write returns SDB_EFAILED until reopened; no fsync
 *       is retried. (A failed table write only fails that flush: the table is
 *       discarded, the WAL still holds the data.)
 *  (D10) A batch is one WAL record and enters one memtable: all or nothing.
 *  (D11) A compaction writes and fsyncs every output table (T1) and fsyncs the
 *       directory before the MANIFEST edit that adds the outputs and deletes
 *       the inputs (one edit: the switch is atomic). A failure before the
 *       edit removes the outputs and leaves the inputs live; a failed edit
 *       fails the handle (D9) and keeps every file (open sorts it out, D6).
 *  (D12) An input table is deleted only after that edit is durable, and only
 *       when the last version or iterator reading it lets go (refcounted
 *       sdb_table, unlinked at its last unref): files in use are never
 *       deleted. If the process dies first, open deletes it (D6).
 *  (D13) Compaction never loses or resurrects a key: for each user key it
 *       keeps the newest version (and any version a reader's snapshot may
 *       still need); a tombstone is dropped only when no deeper level has a
 *       file whose range holds the key. L0 is compacted as a whole and output
 *       files end only between user keys, so the files of L1..L6 stay
 *       disjoint (`check` verifies it) and a read stops at the first level
 *       that knows the key.
 *  (D14) Compaction runs inline after each flush, at points fixed by the
 *       workload, so the syscall sequence stays a pure function of the calls
 *       (deterministic mode); compaction pointers are in memory only.
 *  (D15) A checkpoint is published like a new database (db_snap.c
 *       checkpoint_locked).
 *  (D16) A transaction commits only if no key it read or wrote has a version
 *       newer than its snapshot; the check and the batch write happen under
 *       one hold of the handle's lock, and the batch is atomic (D10).
 *  (D17) Group commit (non-deterministic mode): several queued batches go
 *       into one WAL record and one fdatasync; see write_grouped (db_write.c).
 *  (D18) Background compaction (non-deterministic mode): one thread picks
 *       inputs under the lock, merges and fsyncs the outputs without it
 *       (holding a reference on the input version, so no input is freed),
 *       then re-takes the lock for the MANIFEST edit and the new version,
 *       built from the CURRENT version (flushes may have added L0 tables;
 *       only this thread changes L1..L6). D11/D12 hold unchanged. Writers
 *       wait while L0 has l0_stop_trigger tables and pause 1 ms per write
 *       from l0_slowdown_trigger, at the START of their locked section
 *       (sdb__throttle_locked releases the lock): a pause after a
 *       transaction's validation let a conflicting commit in between (lost
 *       update caught by the bank test). The same thread flushes (D20).
 *  (D19) A clean close (sync_on_close) appends, after its final sync, a
 *       marker record of no ops whose synced_upto is the whole log, and syncs
 *       it: damage anywhere in a closed log is reported as corruption.
 *  (D20) Background flush (non-deterministic mode): a full memtable is
 *       switched, not flushed, by the writer (sdb__switch_locked): fdatasync of
 *       the old WAL, a fresh WAL with a durable directory entry, and one MANIFEST
 *       edit naming both (PREV_LOG = old, LOG_NUMBER = new) before any write goes
 *       to the new WAL. The background thread writes the immutable memtable's
 *       table (D4) and one edit adds it and clears PREV_LOG; the old WAL is
 *       deleted only after that edit is durable (D5). Recovery replays PREV_LOG,
 *       then LOG_NUMBER; since PREV_LOG was synced before the new WAL existed,
 *       damage in it is corruption, never a torn tail. Readers see memtable, then
 *       immutable memtable, then tables. At most one immutable memtable: a writer
 *       that fills the next one waits (memtable_stalls).
 *  (D21) An open deletes files (D6) only after it recovered from the live
 *       MANIFEST that CURRENT names and published its successor. An open
 *       that finds no CURRENT creates a database only if the directory holds
 *       no sofadb data (a table, a WAL with records, a MANIFEST listing a
 *       table): CURRENT missing beside them is damage, not a new database,
 *       and creating one would make the next open delete them all. A created
 *       database deletes nothing (what an interrupted create left stays until
 *       the next open, which finds a live MANIFEST).
 *  (D22) A read_only open changes nothing in the directory: the WALs are
 *       replayed into the memtable, no file is created, renamed or deleted,
 *       LOCK (if present) is held shared and never created; every write path
 *       returns SDB_EREADONLY (sdb__check_failed).
 */
#define _GNU_SOURCE
#include "db_int.h"
#include "env.h"
#include "wal_format.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *sdb_errmsg(const sdb *db) { return db ? db->eb.msg : ""; }

/* ---- failed state (D9) ---------------------------------------------------------- */
int sdb__enter_failed(sdb *db, int rc) {
  if (!db->failed) {
    db->failed = rc;
    snprintf(db->failmsg, sizeof db->failmsg, "%s", db->eb.msg);
  }
  return rc;
}

int sdb__check_failed(sdb *db) {
  if (!db->open_ok) return sdb__err(&db->eb, SDB_EFAILED, "database handle did not open");
  if (db->opt.read_only) /* D22 */
    return sdb__err(&db->eb, SDB_EREADONLY, "%s: opened read-only (option read_only): writes are refused", db->dir);
  if (db->failed)
    return sdb__err(&db->eb, SDB_EFAILED, "database failed after: %s (%s); reopen it", db->failmsg,
                    sdb_strerror(db->failed));
  return 0;
}

/* ---- open ---------------------------------------------------------------------- */
/* LOCK, flock()ed: exclusive for a writer (created if absent), shared for a
 * read_only open or check (D22: never created; none there = no lock). Never
 * through a symlink, never a FIFO (whose open could block). */
int sdb__lock_dir_mode(const char *dir, int shared, int *fdout, sdb_eb *eb) {
  char p[PATH_MAX];
  const char *kind = NULL;
  *fdout = -1;
  snprintf(p, sizeof p, "%s/LOCK", dir);
  int fd = sdb__open_regular(p, shared ? O_RDONLY | O_NOFOLLOW : O_RDWR | O_CREAT | O_NOFOLLOW, &kind);
  if (fd == -ENOENT && shared) return 0;
  if (fd == -ELOOP) return sdb__err(eb, SDB_ECORRUPT, "%s: is a symlink, not a regular file (not followed)", p);
  if (fd < 0) return sdb__open_error(eb, p, fd, kind);
  if (sdb__env->flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
    int e = errno;
    sdb__env->close(fd);
    if (e == EWOULDBLOCK) return sdb__err(eb, SDB_EBUSY, "%s: database is open in another handle or process", p);
    return sdb__ioerr(eb, "flock", p, -e);
  }
  *fdout = fd;
  return 0;
}

static int lock_dir(const char *dir, int *fdout, sdb_eb *eb) { return sdb__lock_dir_mode(dir, 0, fdout, eb); }

/* Largest file number present in dir (to never reuse a number on disk). */
static int max_file_number(const char *dir, uint64_t *max, sdb_eb *eb) {
  DIR *d = sdb__env->opendir(dir);
  struct dirent *e;
  *max = 0;
  if (!d) return sdb__ioerr(eb, "opendir", dir, -errno);
  while ((e = sdb__env->readdir(d))) {
    uint64_t num;
    enum sdb_ftype t = sdb__parse_name(e->d_name, &num);
    if ((t == SDB_F_LOG || t == SDB_F_SST || t == SDB_F_MANIFEST) && num > *max) *max = num;
  }
  sdb__env->closedir(d);
  return 0;
}

/* Size of a regular file (-errno, or SDB__ENOTREG). */
static int64_t regular_size(const char *path) {
  struct stat st;
  int fd = sdb__open_regular(path, O_RDONLY, NULL), rc = 0;
  if (fd < 0) return fd;
  if (sdb__env->fstat(fd, &st) < 0) rc = -errno;
  sdb__env->close(fd);
  return rc ? rc : (int64_t)st.st_size;
}

/* An interrupted create leaves at most a WAL holding its header, and a
 * MANIFEST whose snapshot lists no table (or a torn one, no longer than a
 * header and an empty snapshot). */
#define LEFTOVER_WAL_MAX (SDB_LOG_HDR + SDB_LOG_HEADER_LEN)
#define LEFTOVER_MANIFEST_MAX 96

/* (D21) With no CURRENT: names the sofadb data files in dir into eb and
 * returns SDB_ECORRUPT; 0 when there are none (only leftovers of an
 * interrupted create, LOCK, foreign names). */
int sdb__refuse_if_data(const char *dir, sdb_eb *eb) {
  char p[PATH_MAX], list[256] = "";
  size_t used = 0, found = 0;
  DIR *d = sdb__env->opendir(dir);
  struct dirent *e;
  if (!d) return sdb__ioerr(eb, "opendir", dir, -errno);
  while ((e = sdb__env->readdir(d))) {
    uint64_t num;
    enum sdb_ftype t = sdb__parse_name(e->d_name, &num);
    int data = 0;
    if (t != SDB_F_SST && t != SDB_F_LOG && t != SDB_F_MANIFEST) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    int64_t size = regular_size(p);
    if (t == SDB_F_SST || size < 0) {
      data = 1; /* a table, or something else than a regular file under a sofadb name */
    } else if (t == SDB_F_LOG) {
      data = size > LEFTOVER_WAL_MAX;
    } else if (size > 4096) {
      data = 1; /* far beyond an empty snapshot: not read (it could be huge) */
    } else {
      sdb_vstate vs;
      sdb_eb ignore;
      if (!sdb__manifest_read(p, num, &vs, NULL, &ignore)) {
        data = vs.nfiles > 0;
        sdb__vstate_free(&vs);
      } else {
        data = size > LEFTOVER_MANIFEST_MAX;
      }
    }
    if (!data) continue;
    if (found++ < 6) {
      int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", e->d_name);
      if (n > 0 && (size_t)n < sizeof list - used) used += (size_t)n;
    }
  }
  sdb__env->closedir(d);
  if (!found) return 0;
  return sdb__err(eb, SDB_ECORRUPT,
                  "%s: no CURRENT file, but the directory holds sofadb data (%s%s): not a new database; nothing was "
                  "deleted or overwritten (restore CURRENT, or move those files away)",
                  dir, list, found > 6 ? ", ..." : "");
}

/* (D6) */
static void delete_obsolete(sdb *db) {
  DIR *d = sdb__env->opendir(db->dir);
  struct dirent *e;
  char p[PATH_MAX];
  if (!d) return;
  while ((e = sdb__env->readdir(d))) {
    uint64_t num;
    int live = 1;
    switch (sdb__parse_name(e->d_name, &num)) {
      case SDB_F_LOG:
        live = num == db->vs.log_number || (db->vs.prev_log && num == db->vs.prev_log);
        break;
      case SDB_F_MANIFEST:
        live = num == db->man_number;
        break;
      case SDB_F_TEMP:
        live = 0;
        break;
      case SDB_F_SST:
        live = 0;
        for (size_t i = 0; i < db->vs.nfiles; i++) live |= db->vs.files[i].number == num;
        break;
      default:
        break;
    }
    if (!live) {
      snprintf(p, sizeof p, "%s/%s", db->dir, e->d_name);
      sdb__env->unlink(p);
    }
  }
  sdb__env->closedir(d);
}

/* Opens a table the MANIFEST names (size checked against it), puts it under
 * the caches and gives it its user-key range. On failure *out is NULL. */
int sdb__open_live_table(sdb *db, const sdb_fmeta *f, sdb_table **out) {
  char p[PATH_MAX];
  int rc;
  *out = NULL;
  if ((rc = sdb__table_open(sdb__sst_name(p, sizeof p, db->dir, f->number), f->number, f->size, out, &db->eb)))
    return rc;
  sdb__table_attach(*out, db->cache, &db->fdl);
  if (sdb__buf_set(&(*out)->lo, f->smallest.p, f->smallest.len - 8) ||
      sdb__buf_set(&(*out)->hi, f->largest.p, f->largest.len - 8)) {
    sdb__table_unref(*out);
    *out = NULL;
    return sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
  }
  return 0;
}

/* New MANIFEST with a snapshot of db->vs, then CURRENT names it (M2, M3). */
int sdb__publish_manifest(sdb *db) {
  uint64_t num = db->vs.next_file++;
  int rc;
  if ((rc = sdb__manifest_create(&db->man, db->dir, num, &db->vs, &db->eb))) return rc;
  if ((rc = sdb__fsync_dir(db->dir))) return sdb__ioerr(&db->eb, "fsync directory", db->dir, rc); /* D3 */
  if ((rc = sdb__current_set(db->dir, num, &db->eb))) return rc;
  db->man_number = num;
  return 0;
}

static int create_db(sdb *db, uint64_t maxnum) {
  char p[PATH_MAX];
  int rc;
  db->vs.has_log = db->vs.has_next = db->vs.has_seq = 1;
  db->vs.log_number = maxnum + 1;
  db->vs.next_file = maxnum + 2;
  if ((rc = sdb__logw_create(&db->wal, sdb__log_name(p, sizeof p, db->dir, db->vs.log_number), SDB_WAL_MAGIC,
                             db->vs.log_number, &db->eb)) ||
      (rc = sdb__logw_prealloc(&db->wal, db->opt.wal_prealloc_bytes, &db->eb)))
    return rc;
  return sdb__publish_manifest(db); /* its directory fsync also covers the WAL's entry (D3) */
}

static int open_db(sdb *db) {
  uint64_t mnum = 0, maxnum = 0;
  int rc, ro = db->opt.read_only;
  if (db->opt.create_if_missing && !ro) {
    if (sdb__env->mkdir(db->dir, 0755) < 0 && errno != EEXIST) return sdb__ioerr(&db->eb, "mkdir", db->dir, -errno);
  } else {
    DIR *d = sdb__env->opendir(db->dir);
    if (!d && errno == ENOENT) return sdb__err(&db->eb, SDB_ENOENT, "%s: no such directory", db->dir);
    if (!d) return sdb__ioerr(&db->eb, "opendir", db->dir, -errno);
    sdb__env->closedir(d);
  }
  if ((rc = sdb__lock_dir_mode(db->dir, ro, &db->lockfd, &db->eb))) return rc;
  if (!(db->cache = sdb__cache_new(db->opt.cache_bytes))) return sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
  sdb__fdlru_init(&db->fdl, db->opt.max_open_files);
  db->fdl.mmap_reads = db->opt.mmap_reads;
  db->fdl_init = 1;
  if ((rc = max_file_number(db->dir, &maxnum, &db->eb))) return rc;
  if (!(db->mem = sdb__mem_new())) return sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
  rc = sdb__current_get(db->dir, &mnum, &db->eb);
  if (rc == SDB_ENOENT) { /* D21: a new database, unless there is data here */
    if ((rc = sdb__refuse_if_data(db->dir, &db->eb))) return rc;
    if (!db->opt.create_if_missing || ro)
      return sdb__err(&db->eb, SDB_ENOENT, "%s: no CURRENT file: not a sofadb database", db->dir);
    if ((rc = create_db(db, maxnum))) return rc;
    if (!(db->ver = sdb__ver_edit(NULL, NULL, 0, NULL, NULL, 0))) return sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
    return 0; /* D21: nothing is deleted */
  } else if (rc) {
    return rc;
  } else if (db->opt.error_if_exists) {
    return sdb__err(&db->eb, SDB_EEXISTS, "%s: database already exists", db->dir);
  } else if ((rc = sdb__recover_db(db, mnum, maxnum))) {
    return rc;
  }
  if (!ro) delete_obsolete(db); /* D6: after the new MANIFEST and CURRENT are durable */
  return 0;
}

static void release(sdb *db) {
  sdb__logw_close(&db->wal);
  sdb__logw_close(&db->man);
  sdb__ver_unref(db->ver);
  db->ver = NULL;
  sdb__mem_unref(db->mem);
  db->mem = NULL;
  sdb__mem_unref(db->imm);
  db->imm = NULL;
  sdb__vstate_free(&db->vs);
  sdb__buf_free(&db->scratch);
  sdb__buf_free(&db->gbuf);
  while (db->snaps.next && db->snaps.next != &db->snaps) {
    sdb_snap *x = db->snaps.next;
    db->snaps.next = x->next;
    free(x);
  }
  db->snaps.next = db->snaps.prev = &db->snaps;
  sdb__cache_free(db->cache); /* after the version: tables release their blocks first */
  db->cache = NULL;
  if (db->fdl_init) sdb__fdlru_destroy(&db->fdl);
  db->fdl_init = 0;
  for (int l = 0; l < SDB_NUM_LEVELS; l++) sdb__buf_free(&db->cptr[l]);
  if (db->lockfd >= 0) sdb__env->close(db->lockfd);
  db->lockfd = -1;
}

int sdb_open(const char *dir, const sdb_options *opt, sdb **out) {
  sdb *db;
  int rc;
  uint64_t t0 = now_us();
  if (!out) return SDB_EINVAL;
  *out = NULL;
  if (!dir || !*dir) return SDB_EINVAL;
  if (!(db = calloc(1, sizeof *db))) return SDB_ENOMEM;
  db->lockfd = db->wal.fd = db->man.fd = -1;
  db->snaps.next = db->snaps.prev = &db->snaps;
  pthread_mutex_init(&db->mu, NULL);
  pthread_mutex_init(&db->wq_mu, NULL);
  pthread_cond_init(&db->wq_arrive, NULL);
  pthread_cond_init(&db->bg_cv, NULL);
  pthread_cond_init(&db->bg_done, NULL);
  if (opt)
    db->opt = *opt;
  else
    sdb_options_init(&db->opt);
  if (!db->opt.memtable_bytes || !db->opt.block_bytes || db->opt.block_restart_interval < 1) {
    rc = sdb__err(&db->eb, SDB_EINVAL, "open: memtable_bytes, block_bytes and block_restart_interval must be > 0");
    goto fail;
  }
  if (db->opt.l0_compaction_trigger < 1 || db->opt.l0_slowdown_trigger < db->opt.l0_compaction_trigger ||
      db->opt.l0_stop_trigger < db->opt.l0_slowdown_trigger || !db->opt.level_base_bytes || db->opt.level_ratio < 2 ||
      !db->opt.target_file_bytes || db->opt.bloom_bits_per_key < 0 || db->opt.bloom_bits_per_key > 64 ||
      (db->opt.compression != SDB_COMPRESSION_NONE && db->opt.compression != SDB_COMPRESSION_ZLIB) ||
      db->opt.compression_level < 1 || db->opt.compression_level > 9 || db->opt.max_open_files < 16 ||
      db->opt.wal_prealloc_bytes > (1u << 30)) {
    rc = sdb__err(&db->eb, SDB_EINVAL,
                  "open: bad option (need 1 <= l0_compaction_trigger <= l0_slowdown_trigger <= l0_stop_trigger, "
                  "level_base_bytes and target_file_bytes > 0, level_ratio >= 2, bloom_bits_per_key 0..64, "
                  "compression none|zlib, compression_level 1..9, max_open_files >= 16, wal_prealloc_bytes <= 1G)");
    goto fail;
  }
  if (!(db->dir = strdup(dir))) {
    rc = SDB_ENOMEM;
    goto fail;
  }
  if ((rc = open_db(db))) goto fail;
  db->open_ok = 1;
  if (!db->opt.deterministic && !db->opt.read_only) { /* recovery compacted inline; from now on in the background */
    pthread_mutex_lock(&db->mu);
    db->bg_mode = 1;
    if (pthread_create(&db->bg, NULL, sdb__bg_main, db)) {
      db->bg_mode = 0; /* no thread: compact inline as in deterministic mode */
    } else {
      db->bg_started = 1;
    }
    pthread_mutex_unlock(&db->mu);
  }
  db->open_us = now_us() - t0;
  *out = db;
  return 0;
fail:
  /* The handle survives so sdb_errmsg() can say why; only sdb_close() works on it. */
  release(db);
  *out = db;
  return rc;
}

int sdb_close(sdb *db) {
  int rc = 0;
  if (!db) return 0;
  if (db->bg_started) {
    pthread_mutex_lock(&db->mu);
    if (db->imm && !db->failed) sdb__wait_imm_locked(db); /* finish a pending flush (D20): a quicker next open */
    db->bg_stop = 1;
    pthread_cond_signal(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    pthread_join(db->bg, NULL);
    db->bg_started = 0;
  }
  pthread_mutex_lock(&db->mu);
  if (db->open_ok && !db->failed && db->opt.sync_on_close && !db->opt.read_only) {
    rc = sdb__logw_sync(&db->wal, &db->eb);
    /* (D19) A clean close ends the log with a marker: a record of no ops whose
     * synced_upto is the whole log, synced. Damage anywhere before it is then
     * proven corruption at the next open (log.c L2), never taken for a torn
     * tail: without it, a bit flip in the middle of a log that was synced only
     * at close silently dropped every record after it (docs/robustness.md). */
    if (!rc && db->user_bytes > 0) {
      static const uint8_t none[1];
      uint8_t h[SDB_WAL_REC_HDR] = {0};
      sdb__enc64(h, db->last_seq + 1);
      sdb__enc32(h + 8, 0);
      sdb__enc64(h + 12, db->wal.off);
      if (!(rc = sdb__logw_add(&db->wal, h, sizeof h, none, 0, &db->eb))) rc = sdb__logw_sync(&db->wal, &db->eb);
    }
  }
  release(db);
  pthread_mutex_unlock(&db->mu);
  pthread_mutex_destroy(&db->mu);
  pthread_mutex_destroy(&db->wq_mu);
  pthread_cond_destroy(&db->wq_arrive);
  pthread_cond_destroy(&db->bg_cv);
  pthread_cond_destroy(&db->bg_done);
  free(db->dir);
  free(db);
  return rc;
}

int sdb_destroy(const char *dir) {
  int lockfd, rc;
  DIR *d;
  struct dirent *e;
  char p[PATH_MAX];
  if (!dir) return SDB_EINVAL;
  if (!(d = sdb__env->opendir(dir))) return errno == ENOENT ? 0 : sdb__errno_code(-errno);
  sdb__env->closedir(d);
  if ((rc = lock_dir(dir, &lockfd, NULL))) return rc;
  if ((d = sdb__env->opendir(dir))) {
    while ((e = sdb__env->readdir(d))) {
      uint64_t num;
      enum sdb_ftype t = sdb__parse_name(e->d_name, &num);
      if (t != SDB_F_UNKNOWN && t != SDB_F_LOCK) {
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (sdb__env->unlink(p) < 0 && !rc) rc = sdb__errno_code(-errno);
      }
    }
    sdb__env->closedir(d);
  }
  snprintf(p, sizeof p, "%s/LOCK", dir);
  sdb__env->unlink(p);
  sdb__env->close(lockfd);
  sdb__env->rmdir(dir); /* fails harmlessly if foreign files remain */
  return rc;
}
