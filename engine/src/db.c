/*
 * db.c - the sofadb handle: open/recovery, the write path, flush, reads and
 * iteration, leveled compaction (L0..L6).
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
 *  (D15) A checkpoint is published like a new database (checkpoint_locked).
 *  (D16) A transaction commits only if no key it read or wrote has a version
 *       newer than its snapshot; the check and the batch write happen under
 *       one hold of the handle's lock, and the batch is atomic (D10).
 *  (D17) Group commit (non-deterministic mode): several queued batches go
 *       into one WAL record and one fdatasync; see write_grouped.
 *  (D18) Background compaction (non-deterministic mode): one thread picks
 *       inputs under the lock, merges and fsyncs the outputs without it
 *       (holding a reference on the input version, so no input is freed),
 *       then re-takes the lock for the MANIFEST edit and the new version,
 *       built from the CURRENT version (flushes may have added L0 tables;
 *       only this thread changes L1..L6). D11/D12 hold unchanged. Writers
 *       wait while L0 has l0_stop_trigger tables and pause 1 ms per write
 *       from l0_slowdown_trigger, at the START of their locked section
 *       (sdb__throttle_locked releases the lock): a pause after a transaction's
 *       validation let a conflicting commit in between (lost update caught by
 *       the bank test). The same thread flushes (D20).
 *  (D20) Background flush (non-deterministic mode): a full memtable is
 *       switched, not flushed, by the writer (sdb__switch_locked): fdatasync of the
 *       old WAL, a fresh WAL with a durable directory entry, and one MANIFEST
 *       edit naming both (PREV_LOG = old, LOG_NUMBER = new) before any write
 *       goes to the new WAL. The background thread writes the immutable
 *       memtable's table (D4) and one edit adds it and clears PREV_LOG; the
 *       old WAL is deleted only after that edit is durable (D5). Recovery
 *       replays PREV_LOG, then LOG_NUMBER; since PREV_LOG was synced before
 *       the new WAL existed, damage in it is corruption, never a torn tail.
 *       Readers see memtable, then immutable memtable, then tables. At most
 *       one immutable memtable: a writer that fills the next one waits
 *       (memtable_stalls).
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
 *  (D19) A clean close (sync_on_close) appends, after its final sync, a
 *       marker record of no ops whose synced_upto is the whole log, and syncs
 *       it: damage anywhere in a closed log is reported as corruption.
 */
#define _GNU_SOURCE
#include "env.h"
#include "log_format.h"
#include "manifest.h"
#include "manifest_format.h"
#include "memtable.h"
#include "recover.h"
#include "sdb_int.h"
#include "table.h"
#include "tools.h"
#include "wal_format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

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

struct sdb_iter {
  sdb *db;
  int held; /* made under db->mu by its holder (delete_range), which keeps it */
  sdb_iiter *m;
  sdb_version *ver;
  uint64_t snap;
  sdb_buf hi, key, seek; /* seek: the internal key of the last sdb_iter_seek */
  int has_hi, has_key, valid, status;
  const uint8_t *val;
  size_t vn;
};

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void sdb_options_init(sdb_options *o) {
  memset(o, 0, sizeof *o);
  o->create_if_missing = 1;
  o->error_if_exists = 0;
  o->deterministic = 0;
  o->paranoid_checks = 1;
  o->memtable_bytes = 4u << 20;
  o->block_bytes = 4096;
  o->block_restart_interval = 16;
  o->sync_on_close = 1;
  o->l0_compaction_trigger = 4;
  o->l0_slowdown_trigger = 8;
  o->l0_stop_trigger = 12;
  o->level_base_bytes = 10u << 20;
  o->level_ratio = 10;
  o->target_file_bytes = 2u << 20;
  o->bloom_bits_per_key = 10;
  o->cache_bytes = 8u << 20;
  o->compression = SDB_COMPRESSION_NONE;
  o->compression_level = 6;
  o->max_open_files = 1000;
  o->mmap_reads = 1;
}

const char *sdb_errmsg(const sdb *db) { return db ? db->eb.msg : ""; }

/* ---- versions ----------------------------------------------------------------- */
static void sdb__ver_unref(sdb_version *v) {
  if (!v || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
  for (int l = 0; l < SDB_NUM_LEVELS; l++) {
    for (size_t i = 0; i < v->n[l]; i++) sdb__table_unref(v->t[l][i]);
    free(v->t[l]);
  }
  free(v);
}

static int cmp_newest(const void *a, const void *b) {
  const sdb_table *x = *(sdb_table *const *)a, *y = *(sdb_table *const *)b;
  return x->number > y->number ? -1 : x->number < y->number;
}
static int cmp_lo(const void *a, const void *b) {
  const sdb_table *x = *(sdb_table *const *)a, *y = *(sdb_table *const *)b;
  return sdb__ucmp(x->lo.p, x->lo.len, y->lo.p, y->lo.len);
}

/* New version: the tables of `old` except those in del[], plus add[i] at
 * level addlvl[i]. A move is a del and an add of the same table. */
static sdb_version *sdb__ver_edit(const sdb_version *old, const sdb_fdel *del, size_t ndel, sdb_table *const *add,
                             const int *addlvl, size_t nadd) {
  sdb_version *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  v->refs = 1;
  for (int l = 0; l < SDB_NUM_LEVELS; l++) {
    size_t cap = (old ? old->n[l] : 0) + nadd + 1;
    if (!(v->t[l] = malloc(cap * sizeof *v->t[l]))) {
      sdb__ver_unref(v);
      return NULL;
    }
    for (size_t i = 0; old && i < old->n[l]; i++) {
      size_t j = 0;
      while (j < ndel && !(del[j].level == l && del[j].number == old->t[l][i]->number)) j++;
      if (j < ndel) continue;
      sdb__table_ref(old->t[l][i]);
      v->t[l][v->n[l]++] = old->t[l][i];
    }
    for (size_t i = 0; i < nadd; i++)
      if (addlvl[i] == l) sdb__table_ref(add[i]), v->t[l][v->n[l]++] = add[i];
    qsort(v->t[l], v->n[l], sizeof *v->t[l], l == 0 ? cmp_newest : cmp_lo);
  }
  return v;
}

/* Index of the first table of a sorted level (L1+) whose largest key >= k. */
static size_t sdb__level_find(const sdb_version *v, int l, const void *k, size_t kn) {
  size_t lo = 0, hi = v->n[l];
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const sdb_table *t = v->t[l][mid];
    if (sdb__ucmp(t->hi.p, t->hi.len, k, kn) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* ---- level iterator ------------------------------------------------------------- */
/* The tables of one level L1..L6 read one after another (they are disjoint
 * and sorted, D13): one child of the merge per level instead of one per
 * table, and only the table under the cursor is open. The iterator's owner
 * holds a reference on the version, which keeps the tables alive (D12). */
typedef struct level_iter {
  sdb_iiter base;
  sdb_table **t;
  size_t n, i;
  sdb_iiter *cur;
  int nomem;
} level_iter;

static void li_open(level_iter *l, size_t i) {
  if (l->cur) l->cur->ops->free(l->cur);
  l->cur = NULL;
  l->i = i;
  if (i < l->n && !(l->cur = sdb__table_iter(l->t[i]))) l->nomem = 1;
}
/* past the end of a table: on to the next one, unless the table failed */
static void li_skip(level_iter *l) {
  while (l->cur && !l->cur->ops->valid(l->cur) && !l->cur->ops->status(l->cur) && l->i + 1 < l->n) {
    li_open(l, l->i + 1);
    if (l->cur) l->cur->ops->seek_first(l->cur);
  }
}
static int li_valid(sdb_iiter *it) {
  level_iter *l = (level_iter *)it;
  return l->cur && l->cur->ops->valid(l->cur);
}
static void li_seek_first(sdb_iiter *it) {
  level_iter *l = (level_iter *)it;
  li_open(l, 0);
  if (l->cur) l->cur->ops->seek_first(l->cur);
  li_skip(l);
}
static void li_seek(sdb_iiter *it, const uint8_t *k, size_t n) {
  level_iter *l = (level_iter *)it;
  size_t lo = 0, hi = l->n; /* first table whose largest user key >= k's */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (sdb__ucmp(l->t[mid]->hi.p, l->t[mid]->hi.len, k, n - 8) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  li_open(l, lo);
  if (l->cur) l->cur->ops->seek(l->cur, k, n);
  li_skip(l);
}
static void li_next(sdb_iiter *it) {
  level_iter *l = (level_iter *)it;
  if (!li_valid(it)) return;
  l->cur->ops->next(l->cur);
  li_skip(l);
}
static const uint8_t *li_key(sdb_iiter *it, size_t *n) {
  level_iter *l = (level_iter *)it;
  return l->cur->ops->key(l->cur, n);
}
static const uint8_t *li_value(sdb_iiter *it, size_t *n) {
  level_iter *l = (level_iter *)it;
  return l->cur->ops->value(l->cur, n);
}
static int li_status(sdb_iiter *it) {
  level_iter *l = (level_iter *)it;
  return l->nomem ? SDB_ENOMEM : l->cur ? l->cur->ops->status(l->cur) : 0;
}
static const char *li_errmsg(sdb_iiter *it) {
  level_iter *l = (level_iter *)it;
  return l->nomem ? "out of memory" : l->cur ? l->cur->ops->errmsg(l->cur) : "";
}
static void li_free(sdb_iiter *it) {
  level_iter *l = (level_iter *)it;
  if (l->cur) l->cur->ops->free(l->cur);
  free(l);
}
static const sdb_iiter_ops level_iter_ops = {li_valid, li_seek_first, li_seek,   li_next, li_key,
                                             li_value, li_status,     li_errmsg, li_free};

static sdb_iiter *sdb__level_iter_new(sdb_table **t, size_t n) {
  level_iter *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->base.ops = &level_iter_ops;
  l->t = t;
  l->n = n;
  return &l->base;
}

static int sdb__table_covers(const sdb_table *t, const void *k, size_t kn) {
  return sdb__ucmp(k, kn, t->lo.p, t->lo.len) >= 0 && sdb__ucmp(k, kn, t->hi.p, t->hi.len) <= 0;
}

static uint64_t sdb__level_bytes(const sdb_version *v, int l) {
  uint64_t b = 0;
  for (size_t i = 0; i < v->n[l]; i++) b += v->t[l][i]->size;
  return b;
}

/* ---- failed state (D9) ---------------------------------------------------------- */
static int sdb__enter_failed(sdb *db, int rc) {
  if (!db->failed) {
    db->failed = rc;
    snprintf(db->failmsg, sizeof db->failmsg, "%s", db->eb.msg);
  }
  return rc;
}

static int sdb__check_failed(sdb *db) {
  if (!db->open_ok) return sdb__err(&db->eb, SDB_EFAILED, "database handle did not open");
  if (db->opt.read_only) /* D22 */
    return sdb__err(&db->eb, SDB_EREADONLY, "%s: opened read-only (option read_only): writes are refused", db->dir);
  if (db->failed)
    return sdb__err(&db->eb, SDB_EFAILED, "database failed after: %s (%s); reopen it", db->failmsg,
                    sdb_strerror(db->failed));
  return 0;
}

/* ---- applying batches ----------------------------------------------------------- */
/* Decodes ops and (if mem) inserts them with seq, seq+1, ... Returns 0, or
 * SDB_ECORRUPT if the ops are malformed, or SDB_ENOMEM. */
static int sdb__apply_ops(sdb_mem *mem, const uint8_t *p, size_t n, uint64_t seq, uint32_t count, FILE *dump) {
  const uint8_t *end = p + n;
  uint32_t i = 0;
  char ks[128], vs[128];
  for (; p < end; i++) {
    uint64_t kn, vn;
    int type;
    const uint8_t *k, *v;
    if (sdb__op_next(&p, end, &type, &k, &kn, &v, &vn)) return SDB_ECORRUPT;
    if (mem && sdb__mem_add(mem, seq + i, type, k, (size_t)kn, v, (size_t)vn)) return SDB_ENOMEM;
    if (dump) {
      sdb__escape(k, (size_t)kn, ks, sizeof ks);
      if (type == SDB_TYPE_PUT) {
        sdb__escape(v, (size_t)vn, vs, sizeof vs);
        fprintf(dump, "  put %s (%" PRIu64 " bytes) %s\n", ks, vn, vs);
      } else {
        fprintf(dump, "  del %s\n", ks);
      }
    }
  }
  return i == count ? 0 : SDB_ECORRUPT;
}

/* ---- WAL replay --------------------------------------------------------------- */
static int wal_proves(void *arg, const uint8_t *rec, size_t n, uint64_t x) {
  return n >= SDB_WAL_REC_HDR && sdb__dec64(rec + 12) > x;
}

/* Recovery's sink for replayed batches (recover.h): ops are collected into a
 * run (its records copied, recover.c); a run that reaches memtable_bytes
 * (counted as key + value + SDB_RRUN_OP_OVERHEAD per op), and the last one,
 * is sorted and written as one table. The tables are fsynced (T1) but not
 * live until sdb__recover_db's MANIFEST names them. */
typedef struct replay_ctx {
  sdb *db;
  sdb_mem *mem; /* read_only open (D22): batches go into this memtable, no table is written */
  sdb_rrun run;
  sdb_fmeta *out; /* tables written so far */
  size_t nout, capout;
} replay_ctx;

#define RUN_WRITEBACK (4u << 20)

/* One table from the sorted run's output entries [from, to). Touches no
 * shared state but the run (read only): two may run at once. */
typedef struct build_job {
  const sdb_rrun *r;
  const sdb_options *opt;
  size_t from, to;
  char path[PATH_MAX];
  sdb_fmeta *f;
  uint64_t raw, zblocks;
  sdb_eb eb;
  int rc;
} build_job;

static int build_run_table(build_job *j) {
  static const uint8_t none[1];
  const sdb_rrun *r = j->r;
  sdb_tb tb;
  sdb_buf ik = {0};
  int rc;
  if ((rc = sdb__tb_open(&tb, j->path, j->opt->block_bytes, j->opt->block_restart_interval, &j->eb))) return rc;
  tb.bloom_bits = j->opt->bloom_bits_per_key;
  tb.compression = j->opt->compression;
  tb.zlevel = j->opt->compression_level;
  uint64_t wb = 0; /* bytes handed to early writeback */
  for (size_t i = j->from; i < j->to && !rc; i++) {
    const sdb_rop *o = &r->ops[r->ord[i].i];
    /* start writing what the builder has written back while it goes on, so
     * that the fsync at the end (T1) waits for the tail only; a hint */
    if (tb.off - tb.fbuf.len - wb >= RUN_WRITEBACK) {
      uint64_t upto = tb.off - tb.fbuf.len; /* handed to write() so far */
      sdb__env->writeback(tb.fd, (off_t)wb, (off_t)(upto - wb));
      wb = upto;
    }
    /* sorted order reads the run's copies at random: fetch ahead (the op
     * record far ahead, its key and value nearer) */
    if (i + 16 < j->to) __builtin_prefetch(&r->ops[r->ord[i + 16].i]);
    if (i + 8 < j->to) {
      const sdb_rop *a = &r->ops[r->ord[i + 8].i];
      __builtin_prefetch(a->k);
      if (a->v) __builtin_prefetch(a->v), __builtin_prefetch(a->v + a->vn - 1);
    }
    ik.len = 0;
    if (sdb__buf_add(&ik, o->k, o->kn) || sdb__buf_u64(&ik, o->tr))
      rc = sdb__err(&j->eb, SDB_ENOMEM, "recovery: out of memory");
    else
      rc = sdb__tb_add(&tb, ik.p, ik.len, o->v ? o->v : none, o->vn, &j->eb);
  }
  sdb__buf_free(&ik);
  if (!rc) rc = sdb__tb_finish(&tb, &j->f->size, &j->eb); /* T1 */
  j->raw = tb.raw_bytes, j->zblocks = tb.zblocks;
  if (!rc && (sdb__buf_set(&j->f->smallest, tb.smallest.p, tb.smallest.len) ||
              sdb__buf_set(&j->f->largest, tb.largest.p, tb.largest.len)))
    rc = sdb__err(&j->eb, SDB_ENOMEM, "recovery: out of memory");
  sdb__tb_free(&tb, rc != 0);
  return rc;
}

static void *build_main(void *arg) {
  build_job *j = arg;
  j->rc = build_run_table(j);
  return NULL;
}

/* Below this many output entries a run is one table, also in
 * non-deterministic mode. */
#define RUN_SPLIT_MIN 65536

/* Sorts the run and writes it as one level-0 table; in non-deterministic
 * mode a big run is written as two tables split between two user keys (so
 * disjoint), built by two threads at once (their syscalls interleave, which
 * deterministic mode must not). */
static int replay_write_run(replay_ctx *x) {
  sdb *db = x->db;
  sdb_rrun *r = &x->run;
  build_job jobs[2];
  pthread_t th;
  int nj, threaded = 0, rc = 0;
  if (!r->n) return 0;
  if (x->capout - x->nout < 2) {
    size_t cap = x->capout ? 2 * x->capout : 4;
    sdb_fmeta *n = realloc(x->out, cap * sizeof *n);
    if (!n) return sdb__err(&db->eb, SDB_ENOMEM, "recovery: out of memory");
    x->out = n, x->capout = cap;
  }
  if (sdb__rrun_sort(r)) return sdb__err(&db->eb, SDB_ENOMEM, "recovery: out of memory");
  nj = !db->opt.deterministic && r->nuniq >= RUN_SPLIT_MIN ? 2 : 1;
  for (int k = 0; k < nj; k++) {
    build_job *j = &jobs[k];
    memset(j, 0, sizeof *j);
    j->r = r;
    j->opt = &db->opt;
    j->from = r->nuniq * (size_t)k / (size_t)nj;
    j->to = r->nuniq * (size_t)(k + 1) / (size_t)nj;
    j->f = &x->out[x->nout + (size_t)k];
    memset(j->f, 0, sizeof *j->f);
    j->f->level = 0;
    j->f->number = db->vs.next_file++;
    sdb__sst_name(j->path, sizeof j->path, db->dir, j->f->number);
  }
  if (nj == 2) threaded = !pthread_create(&th, NULL, build_main, &jobs[1]);
  jobs[0].rc = build_run_table(&jobs[0]);
  if (nj == 2 && !threaded) jobs[1].rc = build_run_table(&jobs[1]);
  if (threaded) pthread_join(th, NULL);
  for (int k = 0; k < nj; k++) {
    db->blocks_raw += jobs[k].raw, db->blocks_zlib += jobs[k].zblocks;
    if (jobs[k].rc && !rc) {
      rc = jobs[k].rc;
      memcpy(db->eb.msg, jobs[k].eb.msg, sizeof db->eb.msg);
    }
  }
  for (int k = 0; k < nj; k++) {
    if (rc) { /* a failed job unlinked its own file; the others go too */
      if (!jobs[k].rc) sdb__env->unlink(jobs[k].path);
      sdb__buf_free(&jobs[k].f->smallest);
      sdb__buf_free(&jobs[k].f->largest);
    }
  }
  if (rc) return rc;
  x->nout += (size_t)nj;
  sdb__rrun_clear(r);
  return 0;
}

/* A batch's sequence numbers (docs/format/wal.md "Sequence numbers"): op i
 * has seq + i, all within 1..SDB_MAX_SEQ (the trailer keeps 56 bits), and
 * each batch starts after the last sequence number of the batch before it
 * (*prev; the same run goes on from PREV_LOG into LOG_NUMBER). A close
 * marker (no ops, D19) carries last_seq + 1. 0 or SDB_ECORRUPT naming file
 * and offset. */
static int check_seq(const char *path, uint64_t off, uint64_t seq, uint32_t count, uint64_t prev, sdb_eb *eb) {
  uint64_t span = count ? count : 1; /* a marker's seq may be SDB_MAX_SEQ + 1 */
  uint64_t top = count ? SDB_MAX_SEQ : SDB_MAX_SEQ + 1;
  if (seq == 0 || seq > top || span - 1 > top - seq)
    return sdb__err(eb, SDB_ECORRUPT,
                    "%s: offset %" PRIu64 ": batch of %u ops at sequence number %" PRIu64
                    " is outside the sequence space 1..%" PRIu64,
                    path, off, count, seq, SDB_MAX_SEQ);
  if (seq <= prev)
    return sdb__err(eb, SDB_ECORRUPT,
                    "%s: offset %" PRIu64 ": batch at sequence number %" PRIu64
                    " does not follow the previous batch, which ended at %" PRIu64,
                    path, off, seq, prev);
  return 0;
}

/* Replays (ctx: into recovery's runs and tables) or checks (ctx NULL; with
 * dump, prints) the WAL at path. The reader streams the file; each record is
 * copied into the run (recover.c), so memory follows the run, never the
 * WAL's size. *end gets the end of the last intact record (0 if not even the
 * header is intact); *prev is the last sequence number of the batches before
 * (check_seq), updated. */
static int sdb__wal_replay(const char *path, uint64_t number, replay_ctx *ctx, int paranoid, FILE *dump,
                      uint64_t *last_seq, uint64_t *prev, uint64_t *end, uint64_t *records, uint64_t *size,
                      uint64_t *skipped, sdb_eb *eb) {
  sdb_logr r;
  const uint8_t *rec;
  size_t n;
  uint64_t num;
  int rc, got, i;
  if ((rc = sdb__logr_open(&r, path, wal_proves, NULL, paranoid, eb))) {
    if (r.open_errno == ENOENT) rc = sdb__err(eb, SDB_ECORRUPT, "%s: the live WAL named by the MANIFEST is missing", path);
    return rc;
  }
  if (dump) fprintf(dump, "wal %s: %" PRIu64 " bytes\n", path, r.size);
  for (i = 0; (got = sdb__logr_next(&r, &rec, &n, eb)) == 1; i++) {
    if (i == 0) {
      if ((rc = sdb__log_check_header(path, rec, n, SDB_WAL_MAGIC, &num, eb))) goto out;
      if (number && num != number) {
        rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset 0: header names file %" PRIu64, path, num);
        goto out;
      }
      if (dump) fprintf(dump, "@0 header: magic %.8s version %d file %" PRIu64 "\n", rec, SDB_LOG_VERSION, num);
      continue;
    }
    if (n < SDB_WAL_REC_HDR) {
      rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": record too short (%zu bytes)", path, r.rec_off, n);
      goto out;
    }
    uint64_t seq = sdb__dec64(rec);
    uint32_t count = sdb__dec32(rec + 8);
    if (dump)
      fprintf(dump, "@%" PRIu64 " batch seq %" PRIu64 " count %u synced_upto %" PRIu64 "\n", r.rec_off, seq, count,
              sdb__dec64(rec + 12));
    if ((rc = check_seq(path, r.rec_off, seq, count, *prev, eb))) goto out;
    if (ctx && ctx->mem)
      rc = sdb__apply_ops(ctx->mem, rec + SDB_WAL_REC_HDR, n - SDB_WAL_REC_HDR, seq, count, NULL);
    else if (ctx)
      rc = sdb__rrun_add(&ctx->run, rec + SDB_WAL_REC_HDR, n - SDB_WAL_REC_HDR, seq, count);
    else
      rc = sdb__apply_ops(NULL, rec + SDB_WAL_REC_HDR, n - SDB_WAL_REC_HDR, seq, count, dump);
    if (rc == SDB_ECORRUPT) rc = sdb__err(eb, rc, "%s: offset %" PRIu64 ": malformed batch", path, r.rec_off);
    if (rc == SDB_ENOMEM) rc = sdb__err(eb, rc, "%s: replay: out of memory", path);
    if (!rc && ctx && ctx->run.bytes >= ctx->db->opt.memtable_bytes) rc = replay_write_run(ctx);
    if (rc) goto out;
    if (count) *prev = seq + count - 1;
    if (count && seq + count - 1 > *last_seq) *last_seq = seq + count - 1;
    if (count) (*records)++; /* a close marker (D19) holds no ops */
  }
  if (got < 0) {
    rc = got;
    goto out;
  }
  if (dump && r.tail_off < r.size)
    fprintf(dump, "@%" PRIu64 " torn tail (%s): %" PRIu64 " bytes ignored\n", r.tail_off, r.tail_why, r.size - r.tail_off);
  if (dump && r.skipped) fprintf(dump, "%" PRIu64 " corrupt bytes skipped (paranoid_checks off)\n", r.skipped);
  if (ctx && (rc = replay_write_run(ctx))) goto out; /* the last run */
  *end = i == 0 ? 0 : r.valid_end;
  *size = r.size;
  if (skipped) *skipped = r.skipped;
  rc = 0;
out:
  sdb__logr_close(&r);
  return rc;
}

/* ---- open ---------------------------------------------------------------------- */
/* LOCK, flock()ed: exclusive for a writer (created if absent), shared for a
 * read_only open or check (D22: never created; none there = no lock). Never
 * through a symlink, never a FIFO (whose open could block). */
static int sdb__lock_dir_mode(const char *dir, int shared, int *fdout, sdb_eb *eb) {
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
static int sdb__refuse_if_data(const char *dir, sdb_eb *eb) {
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
static int sdb__open_live_table(sdb *db, const sdb_fmeta *f, sdb_table **out) {
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

static int open_tables(sdb *db) {
  size_t n = 0;
  int rc = 0;
  sdb_table **ts = calloc(db->vs.nfiles + 1, sizeof *ts);
  int *lv = calloc(db->vs.nfiles + 1, sizeof *lv);
  if (!ts || !lv) {
    rc = sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
    goto out;
  }
  for (; n < db->vs.nfiles; n++) {
    if ((rc = sdb__open_live_table(db, &db->vs.files[n], &ts[n]))) goto out;
    lv[n] = db->vs.files[n].level;
  }
  if (!(db->ver = sdb__ver_edit(NULL, NULL, 0, ts, lv, n))) rc = sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
out:
  for (size_t i = 0; ts && i < n; i++) sdb__table_unref(ts[i]);
  free(ts);
  free(lv);
  return rc;
}

/* New MANIFEST with a snapshot of db->vs, then CURRENT names it (M2, M3). */
static int sdb__publish_manifest(sdb *db) {
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
                             db->vs.log_number, &db->eb)))
    return rc;
  return sdb__publish_manifest(db); /* its directory fsync also covers the WAL's entry (D3) */
}

static int sdb__flush_locked(sdb *db);
static int sdb__sync_locked(sdb *db);
static int sdb__wait_imm_locked(sdb *db);
static int sdb__compact_locked(sdb *db);
static uint64_t sdb__smallest_snapshot(const sdb *db);
static void *sdb__bg_main(void *arg);

static int sdb__recover_db(sdb *db, uint64_t mnum, uint64_t maxnum) {
  char p[PATH_MAX];
  uint64_t end = 0, size = 0, seq, prev = 0;
  replay_ctx x = {.db = db, .mem = db->opt.read_only ? db->mem : NULL};
  sdb_table **ts = NULL;
  int *lv = NULL, rc, published = 0;
  size_t nts = 0;
  sdb_version *v;
  if ((rc = sdb__manifest_read(sdb__manifest_name(p, sizeof p, db->dir, mnum), mnum, &db->vs, NULL, &db->eb))) return rc;
  if (db->vs.next_file <= maxnum) db->vs.next_file = maxnum + 1;
  if ((rc = open_tables(db))) return rc;
  seq = db->vs.last_seq;
  if (db->vs.prev_log) { /* D20: the WAL of a memtable whose background flush had not finished, first */
    uint64_t pend = 0, psize = 0, precs = 0;
    sdb__log_name(p, sizeof p, db->dir, db->vs.prev_log);
    if ((rc = sdb__wal_replay(p, db->vs.prev_log, &x, db->opt.paranoid_checks, NULL, &seq, &prev, &pend, &precs, &psize,
                         &db->rec_skipped, &db->eb)))
      goto out;
    if (psize > pend) { /* it was fdatasynced before the newer WAL was named: damage, not a torn tail */
      rc = sdb__err(&db->eb, SDB_ECORRUPT,
                    "%s: damaged at offset %" PRIu64 ", but it was synced before WAL %06" PRIu64 " was started", p,
                    pend, db->vs.log_number);
      goto out;
    }
    db->rec_records += precs;
    db->rec_bytes += pend;
    db->rec_files++;
  }
  sdb__log_name(p, sizeof p, db->dir, db->vs.log_number);
  uint64_t skipped = 0;
  if ((rc = sdb__wal_replay(p, db->vs.log_number, &x, db->opt.paranoid_checks, NULL, &seq, &prev, &end, &db->rec_records,
                       &size, &skipped, &db->eb)))
    goto out;
  db->rec_skipped += skipped;
  db->rec_files++;
  db->last_seq = seq; /* D8 */
  db->rec_bytes += end;
  if (size > end) db->rec_truncated = size - end;
  if (db->opt.read_only) { /* D22: the WALs are in db->mem; nothing is written */
    db->man_number = mnum;
    goto out;
  }
  /* D7: what was recovered is now in fresh tables (x.out, written and fsynced:
   * T1). The old WAL is never appended to, nor fsynced: a failed fsync may
   * have dropped even its header, and records appended after it would then
   * "prove" that damage synced. A fresh WAL (even when nothing was recovered)
   * and the tables become live together when the new MANIFEST does; the old
   * WAL is deleted after that (D6). A crash before leaves the old MANIFEST
   * and WAL live, and the new files unnamed (deleted by the next open). */
  db->vs.log_number = db->vs.next_file++;
  db->vs.prev_log = 0; /* D20: its records are in x.out too; open deletes it (D6) */
  if ((rc = sdb__logw_create(&db->wal, sdb__log_name(p, sizeof p, db->dir, db->vs.log_number), SDB_WAL_MAGIC,
                             db->vs.log_number, &db->eb)))
    goto out;
  db->wal_synced = 0;
  if (x.nout && (rc = sdb__fsync_dir(db->dir))) { /* D4: the tables' entries before a MANIFEST names them */
    rc = sdb__ioerr(&db->eb, "fsync directory", db->dir, rc);
    goto out;
  }
  for (size_t i = 0; i < x.nout; i++)
    if (sdb__vstate_add(&db->vs, &x.out[i])) {
      rc = sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
      goto out;
    }
  db->vs.last_seq = db->last_seq;
  published = 1; /* from here on the new files may be live: never unlink them */
  if ((rc = sdb__publish_manifest(db))) goto out; /* its directory fsync covers the new WAL's entry (D3) */
  if (!x.nout) goto out;
  if (!(ts = calloc(x.nout, sizeof *ts)) || !(lv = calloc(x.nout, sizeof *lv))) {
    rc = sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
    goto out;
  }
  for (; nts < x.nout; nts++) {
    sdb_fmeta *f = &x.out[nts];
    if ((rc = sdb__open_live_table(db, f, &ts[nts]))) goto out;
    lv[nts] = f->level;
    db->flushes++;
    db->flush_bytes += f->size;
    db->level_written[f->level] += f->size;
  }
  if (!(v = sdb__ver_edit(db->ver, NULL, 0, ts, lv, nts))) {
    rc = sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
    goto out;
  }
  sdb__ver_unref(db->ver);
  db->ver = v;
  rc = sdb__compact_locked(db); /* inline: the background thread starts after open */
out:
  for (size_t i = 0; i < nts; i++) sdb__table_unref(ts[i]);
  free(ts);
  free(lv);
  for (size_t i = 0; i < x.nout; i++) {
    if (rc && !published) sdb__env->unlink(sdb__sst_name(p, sizeof p, db->dir, x.out[i].number));
    sdb__buf_free(&x.out[i].smallest);
    sdb__buf_free(&x.out[i].largest);
  }
  free(x.out);
  sdb__rrun_free(&x.run);
  return rc;
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
      db->opt.compression_level < 1 || db->opt.compression_level > 9 || db->opt.max_open_files < 16) {
    rc = sdb__err(&db->eb, SDB_EINVAL,
                  "open: bad option (need 1 <= l0_compaction_trigger <= l0_slowdown_trigger <= l0_stop_trigger, "
                  "level_base_bytes and target_file_bytes > 0, level_ratio >= 2, bloom_bits_per_key 0..64, "
                  "compression none|zlib, compression_level 1..9, max_open_files >= 16)");
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

/* ---- flush ---------------------------------------------------------------------- */
/* Writes the versions of mem that a reader at or above snap may still see
 * into table `number` (T1: written, fsynced, closed); f gets its number,
 * size and key range. Touches no handle state: the background flush runs it
 * without the lock. On failure the file is removed. */
static int build_table(const sdb_options *opt, const char *dir, sdb_mem *mem, uint64_t snap, uint64_t number,
                       sdb_fmeta *f, uint64_t *raw, uint64_t *zblocks, sdb_eb *eb) {
  char sp[PATH_MAX];
  sdb_tb tb;
  sdb_buf prev = {0};
  int rc;
  f->number = number;
  sdb__sst_name(sp, sizeof sp, dir, number);
  if ((rc = sdb__tb_open(&tb, sp, opt->block_bytes, opt->block_restart_interval, eb))) return rc;
  tb.bloom_bits = opt->bloom_bits_per_key;
  tb.compression = opt->compression;
  tb.zlevel = opt->compression_level;
  sdb_iiter *it = sdb__mem_iter(mem);
  if (!it) {
    sdb__tb_free(&tb, 1);
    return sdb__err(eb, SDB_ENOMEM, "flush: out of memory");
  }
  uint64_t last_for_key = UINT64_MAX;
  int has_prev = 0;
  for (it->ops->seek_first(it); it->ops->valid(it); it->ops->next(it)) {
    size_t kn, vn;
    const uint8_t *k = it->ops->key(it, &kn), *val = it->ops->value(it, &vn);
    uint64_t seq = sdb__dec64(k + kn - 8) >> 8;
    if (!has_prev || sdb__ucmp(prev.p, prev.len, k, kn - 8)) {
      last_for_key = UINT64_MAX;
      has_prev = 1;
      if ((rc = sdb__buf_set(&prev, k, kn - 8))) break;
    }
    int shadowed = last_for_key <= snap; /* an older version no snapshot can see */
    last_for_key = seq;
    if (shadowed) continue;
    if ((rc = sdb__tb_add(&tb, k, kn, val, vn, eb))) break;
  }
  it->ops->free(it);
  sdb__buf_free(&prev);
  if (!rc) rc = sdb__tb_finish(&tb, &f->size, eb); /* T1 */
  *raw += tb.raw_bytes, *zblocks += tb.zblocks;
  if (!rc && (sdb__buf_set(&f->smallest, tb.smallest.p, tb.smallest.len) ||
              sdb__buf_set(&f->largest, tb.largest.p, tb.largest.len)))
    rc = sdb__err(eb, SDB_ENOMEM, "flush: out of memory");
  sdb__tb_free(&tb, rc != 0);
  if (rc) sdb__env->unlink(sp);
  return rc;
}

/* After the MANIFEST edit that adds table f at L0 is durable: opens it and
 * makes a version holding it current. A failure here fails the handle (the
 * MANIFEST already says the table is live). */
static int install_l0(sdb *db, sdb_fmeta *f) {
  sdb_table *t = NULL;
  sdb_version *v;
  int rc;
  if ((rc = sdb__vstate_add(&db->vs, f)) || (rc = sdb__open_live_table(db, f, &t)) ||
      !(v = sdb__ver_edit(db->ver, NULL, 0, &t, &f->level, 1))) {
    if (!rc) rc = sdb__err(&db->eb, SDB_ENOMEM, "flush: out of memory");
    sdb__table_unref(t);
    return sdb__enter_failed(db, rc);
  }
  sdb__table_unref(t);
  sdb__ver_unref(db->ver);
  db->ver = v;
  db->flushes++;
  db->flush_bytes += f->size;
  db->level_written[0] += f->size;
  return 0;
}

static void unlink_log(sdb *db, uint64_t number) {
  char p[PATH_MAX];
  sdb__env->unlink(sdb__log_name(p, sizeof p, db->dir, number)); /* D5; if lost, open deletes it (D6) */
}

/* Inline flush (deterministic mode, sdb_flush, checkpoint, recovery): the
 * memtable becomes a table and a fresh WAL replaces the old one, in one
 * MANIFEST edit. In background mode the caller first waits until no
 * immutable memtable is pending (sdb__wait_imm_locked). */
static int sdb__flush_locked(sdb *db) {
  char lp[PATH_MAX];
  sdb_fmeta f = {0};
  sdb_logw nw = {.fd = -1};
  int rc;
  if (sdb__mem_count(db->mem) == 0) return 0;
  if ((rc = build_table(&db->opt, db->dir, db->mem, sdb__smallest_snapshot(db), db->vs.next_file++, &f, &db->blocks_raw,
                        &db->blocks_zlib, &db->eb)))
    goto out;
  uint64_t newlog = db->vs.next_file++;
  sdb__log_name(lp, sizeof lp, db->dir, newlog);
  if (!(rc = sdb__logw_create(&nw, lp, SDB_WAL_MAGIC, newlog, &db->eb)) && (rc = sdb__fsync_dir(db->dir)))
    rc = sdb__ioerr(&db->eb, "fsync directory", db->dir, rc);
  if (rc) {
    sdb__logw_close(&nw);
    sdb__env->unlink(lp);
    sdb__env->unlink(sdb__sst_name(lp, sizeof lp, db->dir, f.number));
    goto out;
  }
  /* D3, D4 above. Callers in background mode waited for a pending flush
   * first (sdb__wait_imm_locked): no immutable memtable, so no PREV_LOG, is live
   * here (sdb__flush_imm clears both), and this edit leaves PREV_LOG alone. */
  sdb_edit e = {1, 1, 1, newlog, db->vs.next_file, db->last_seq, &f, 1, NULL, 0, 0, 0};
  if ((rc = sdb__manifest_append(&db->man, &e, &db->eb))) { /* D9: the edit may or may not be on disk */
    sdb__logw_close(&nw);
    sdb__enter_failed(db, rc);
    goto out;
  }
  /* The edit is durable: from here on, the new table and WAL are live. */
  uint64_t oldlog = db->vs.log_number;
  db->vs.log_number = newlog;
  db->vs.last_seq = db->last_seq;
  if ((rc = install_l0(db, &f))) {
    sdb__logw_close(&nw);
    goto out;
  }
  sdb__logw_close(&db->wal);
  db->wal = nw;
  db->wal_synced = 0;
  unlink_log(db, oldlog); /* D5 */
  sdb_mem *m = sdb__mem_new();
  if (!m) {
    rc = sdb__enter_failed(db, sdb__err(&db->eb, SDB_ENOMEM, "flush: out of memory"));
    goto out;
  }
  sdb__mem_unref(db->mem);
  db->mem = m;
  rc = sdb__compact_locked(db);
out:
  sdb__buf_free(&f.smallest);
  sdb__buf_free(&f.largest);
  return rc;
}

/* (D20) Background mode: waits until no immutable memtable is pending. An
 * error of the background flush is returned to the waiter (the data is still
 * in its WAL; the next wait retries the flush). */
static int sdb__wait_imm_locked(sdb *db) {
  if (db->imm) db->memtable_stalls++;
  while (db->imm && !db->failed) {
    uint64_t errs = db->bg_flush_errors;
    if (!db->bg_started || db->bg_stop) return sdb__err(&db->eb, SDB_EFAILED, "write: the handle is closing");
    pthread_cond_signal(&db->bg_cv);
    pthread_cond_wait(&db->bg_done, &db->mu);
    if (db->imm && db->bg_flush_errors != errs)
      return sdb__err(&db->eb, db->bg_flush_rc, "background flush failed: %s", db->bg_flush_msg);
  }
  return sdb__check_failed(db);
}

/* (D20) Background mode, memtable full: the old WAL is fdatasynced (so it is
 * complete on disk before a newer WAL exists: no sync write in the new WAL
 * can be acked while older acked writes could still be lost, D2), a fresh WAL
 * is created and its directory entry made durable (D3), and one MANIFEST edit
 * names both (PREV_LOG = the old WAL, LOG_NUMBER = the new one) before any
 * write goes to the new WAL. The full memtable becomes db->imm, which the
 * background thread flushes (sdb__flush_imm). */
static int sdb__switch_locked(sdb *db) {
  char lp[PATH_MAX];
  sdb_logw nw = {.fd = -1};
  sdb_mem *m;
  int rc;
  if ((rc = sdb__wait_imm_locked(db))) return rc;
  if (sdb__mem_count(db->mem) == 0) return 0; /* nothing to switch */
  if ((rc = sdb__sync_locked(db))) return rc;
  uint64_t newlog = db->vs.next_file++;
  sdb__log_name(lp, sizeof lp, db->dir, newlog);
  if ((rc = sdb__logw_create(&nw, lp, SDB_WAL_MAGIC, newlog, &db->eb))) {
    sdb__env->unlink(lp);
    return rc;
  }
  if ((rc = sdb__fsync_dir(db->dir)) || !(m = sdb__mem_new())) {
    rc = rc ? sdb__ioerr(&db->eb, "fsync directory", db->dir, rc) : sdb__err(&db->eb, SDB_ENOMEM, "write: out of memory");
    sdb__logw_close(&nw);
    sdb__env->unlink(lp);
    return rc;
  }
  sdb_edit e = {1, 1, 0, newlog, db->vs.next_file, 0, NULL, 0, NULL, 0, 1, db->vs.log_number};
  if ((rc = sdb__manifest_append(&db->man, &e, &db->eb))) {
    sdb__logw_close(&nw);
    sdb__mem_unref(m);
    return sdb__enter_failed(db, rc); /* D9 */
  }
  db->vs.prev_log = db->vs.log_number;
  db->vs.log_number = newlog;
  sdb__logw_close(&db->wal);
  db->wal = nw;
  db->wal_synced = 0;
  db->imm = db->mem;
  db->imm_last_seq = db->last_seq;
  db->mem = m;
  pthread_cond_signal(&db->bg_cv);
  return 0;
}

/* (D20) The background thread's flush of db->imm. Called and returns with
 * db->mu held; builds and fsyncs the table (D4) without it. The MANIFEST edit
 * adds the table and clears PREV_LOG; only once it is durable is the old WAL
 * deleted (D5). On failure the table is removed and db->imm stays: its data
 * is still in the old WAL, and the next writer that needs the switch gets the
 * error and signals a retry. */
static int sdb__flush_imm(sdb *db) {
  sdb_mem *imm = db->imm;
  sdb_fmeta f = {0};
  sdb_eb eb = {{0}};
  uint64_t raw = 0, zb = 0, snap = sdb__smallest_snapshot(db), seq = db->imm_last_seq, old = db->vs.prev_log;
  int rc;
  f.number = db->vs.next_file++;
  sdb__mem_ref(imm);
  pthread_mutex_unlock(&db->mu);
  rc = build_table(&db->opt, db->dir, imm, snap, f.number, &f, &raw, &zb, &eb);
  if (!rc && (rc = sdb__fsync_dir(db->dir))) rc = sdb__ioerr(&eb, "fsync directory", db->dir, rc); /* D4 */
  pthread_mutex_lock(&db->mu);
  sdb__mem_unref(imm);
  db->blocks_raw += raw, db->blocks_zlib += zb;
  if (!rc && db->failed) rc = db->failed; /* the MANIFEST may be what failed: leave it alone */
  if (rc) {
    char sp[PATH_MAX];
    sdb__env->unlink(sdb__sst_name(sp, sizeof sp, db->dir, f.number));
    db->bg_flush_errors++;
    db->bg_flush_rc = rc;
    snprintf(db->bg_flush_msg, sizeof db->bg_flush_msg, "%s", eb.msg[0] ? eb.msg : sdb_strerror(rc));
    goto out;
  }
  sdb_edit e = {0, 1, 1, 0, db->vs.next_file, seq, &f, 1, NULL, 0, 1, 0};
  if ((rc = sdb__manifest_append(&db->man, &e, &db->eb))) {
    sdb__enter_failed(db, rc);
    goto out;
  }
  db->vs.prev_log = 0;
  if (seq > db->vs.last_seq) db->vs.last_seq = seq;
  if ((rc = install_l0(db, &f))) goto out;
  db->imm = NULL;
  sdb__mem_unref(imm);
  unlink_log(db, old); /* D5 */
  db->bg_flushes++;
out:
  sdb__buf_free(&f.smallest);
  sdb__buf_free(&f.largest);
  pthread_cond_broadcast(&db->bg_done);
  return rc;
}

/* The oldest sequence number a reader may still read at: versions shadowed
 * by a newer one at or below it are invisible to everyone (D13). */
static uint64_t sdb__smallest_snapshot(const sdb *db) {
  return db->snaps.next != &db->snaps ? db->snaps.next->seq : db->last_seq;
}

/* ---- leveled compaction ------------------------------------------------------------ */
static uint64_t sdb__level_target(const sdb *db, int l) {
  double t = (double)db->opt.level_base_bytes;
  for (int i = 1; i < l; i++) t *= db->opt.level_ratio;
  return t > 1e18 ? UINT64_C(1000000000000000000) : (uint64_t)t;
}

/* The level most over its target (score >= 1), or -1. L0 scores by file
 * count, L1..L5 by bytes; L6 has no target. */
static int pick_level(const sdb *db) {
  const sdb_version *v = db->ver;
  double best = 1.0;
  int level = -1;
  for (int l = 0; l < SDB_NUM_LEVELS - 1; l++) {
    double score = l == 0 ? (double)v->n[0] / db->opt.l0_compaction_trigger
                          : (double)sdb__level_bytes(v, l) / (double)sdb__level_target(db, l);
    if (score >= best) best = score, level = l;
  }
  return level;
}

/* 1 if no level deeper than `out` can hold user key k: a tombstone for it
 * written to `out` would hide nothing, so it can be dropped. */
static int is_base_level(const sdb_version *v, int out, const void *k, size_t kn) {
  for (int l = out + 1; l < SDB_NUM_LEVELS; l++) {
    size_t i = sdb__level_find(v, l, k, kn);
    if (i < v->n[l] && sdb__table_covers(v->t[l][i], k, kn)) return 0;
  }
  return 1;
}

static int fmeta_of(const sdb *db, uint64_t number, const sdb_fmeta **out) {
  for (size_t i = 0; i < db->vs.nfiles; i++)
    if (db->vs.files[i].number == number) return *out = &db->vs.files[i], 0;
  return -1;
}

typedef struct compaction {
  int level;               /* inputs from level and level+1, outputs to level+1 */
  sdb_table **in;          /* level's inputs first, then level+1's */
  size_t nin, nin0;
  sdb_fdel *del;
  sdb_fmeta *out;          /* outputs (finished tables) */
  size_t nout, capout;
  sdb_tb tb;
  int tb_open;
  uint64_t tbnum;
  sdb_eb *eb;              /* db->eb, or a private buffer while unlocked */
  const sdb_version *ver;  /* the version the inputs come from (held) */
  int unlocked;            /* merging without db->mu (background thread) */
  uint64_t raw, zblocks;
} compaction;

static void compaction_free(compaction *c, int unlink_outputs, const char *dir) {
  char p[PATH_MAX];
  if (c->tb_open) sdb__tb_free(&c->tb, 1);
  for (size_t i = 0; i < c->nout; i++) {
    if (unlink_outputs) sdb__env->unlink(sdb__sst_name(p, sizeof p, dir, c->out[i].number));
    sdb__buf_free(&c->out[i].smallest);
    sdb__buf_free(&c->out[i].largest);
  }
  free(c->out);
  free(c->in);
  free(c->del);
}

/* Finishes the open output table (T1: written and fsynced). */
static int finish_output(sdb *db, compaction *c) {
  int rc;
  sdb_fmeta *f;
  if (c->nout == c->capout) {
    size_t cap = c->capout ? 2 * c->capout : 4;
    sdb_fmeta *n = realloc(c->out, cap * sizeof *n);
    if (!n) return sdb__err(c->eb, SDB_ENOMEM, "compaction: out of memory");
    c->out = n, c->capout = cap;
  }
  f = &c->out[c->nout];
  memset(f, 0, sizeof *f);
  f->level = c->level + 1;
  f->number = c->tbnum;
  rc = sdb__tb_finish(&c->tb, &f->size, c->eb);
  if (!rc && (sdb__buf_set(&f->smallest, c->tb.smallest.p, c->tb.smallest.len) ||
              sdb__buf_set(&f->largest, c->tb.largest.p, c->tb.largest.len)))
    rc = sdb__err(c->eb, SDB_ENOMEM, "compaction: out of memory");
  c->nout++; /* listed even when it failed, so that it is unlinked */
  c->raw += c->tb.raw_bytes, c->zblocks += c->tb.zblocks; /* added to db's stats under the lock */
  sdb__tb_free(&c->tb, rc != 0);
  c->tb_open = 0;
  return rc;
}

/* Merges the inputs into new tables of level+1. Keeps, for each user key,
 * the newest version and every version a snapshot at or after `smallest_snap`
 * could still need (none today: smallest_snap is last_seq); drops a tombstone
 * that no snapshot needs when no deeper level can hold its key. */
static int compaction_merge(sdb *db, compaction *c, uint64_t smallest_snap) {
  const sdb_version *v = c->ver;
  char p[PATH_MAX];
  sdb_iiter **kids = calloc(c->nin, sizeof *kids), *m = NULL;
  sdb_buf cur = {0};
  uint64_t last_for_key = UINT64_MAX;
  int rc = 0, has_cur = 0;
  if (!kids) return sdb__err(c->eb, SDB_ENOMEM, "compaction: out of memory");
  for (size_t i = 0; i < c->nin; i++) {
    if (!(kids[i] = sdb__table_iter_nofill(c->in[i]))) {
      for (size_t j = 0; j < i; j++) kids[j]->ops->free(kids[j]);
      free(kids);
      return sdb__err(c->eb, SDB_ENOMEM, "compaction: out of memory");
    }
  }
  if (!(m = sdb__merge_iter(kids, c->nin))) return sdb__err(c->eb, SDB_ENOMEM, "compaction: out of memory");
  for (m->ops->seek_first(m); m->ops->valid(m); m->ops->next(m)) {
    size_t kn, vn;
    const uint8_t *k = m->ops->key(m, &kn), *val = m->ops->value(m, &vn);
    uint64_t tr = sdb__dec64(k + kn - 8), seq = tr >> 8;
    int drop = 0;
    if (!has_cur || sdb__ucmp(cur.p, cur.len, k, kn - 8)) {
      if (sdb__buf_set(&cur, k, kn - 8)) {
        rc = sdb__err(c->eb, SDB_ENOMEM, "compaction: out of memory");
        break;
      }
      has_cur = 1;
      last_for_key = UINT64_MAX;
      /* outputs end only between user keys, so the files of a level stay disjoint */
      if (c->tb_open && sdb__tb_estimate(&c->tb) >= db->opt.target_file_bytes && (rc = finish_output(db, c))) break;
    }
    if (last_for_key <= smallest_snap)
      drop = 1; /* a newer version is visible to every reader */
    else if ((tr & 0xff) == SDB_TYPE_DEL && seq <= smallest_snap && is_base_level(v, c->level + 1, k, kn - 8))
      drop = 1;
    last_for_key = seq;
    if (drop) continue;
    if (!c->tb_open) {
      uint64_t num;
      if (c->unlocked) pthread_mutex_lock(&db->mu);
      num = db->vs.next_file++;
      if (c->unlocked) pthread_mutex_unlock(&db->mu);
      if ((rc = sdb__tb_open(&c->tb, sdb__sst_name(p, sizeof p, db->dir, num), db->opt.block_bytes,
                             db->opt.block_restart_interval, c->eb)))
        break;
      c->tb.bloom_bits = db->opt.bloom_bits_per_key;
      c->tb.compression = db->opt.compression;
      c->tb.zlevel = db->opt.compression_level;
      c->tbnum = num;
      c->tb_open = 1;
    }
    if ((rc = sdb__tb_add(&c->tb, k, kn, val, vn, c->eb))) break;
  }
  if (!rc && (rc = m->ops->status(m))) sdb__err(c->eb, rc, "compaction: %s", m->ops->errmsg(m));
  if (!rc && c->tb_open) rc = finish_output(db, c);
  m->ops->free(m);
  sdb__buf_free(&cur);
  return rc;
}

/* Picks inputs at `level`, merges (or moves) them into level+1, records the
 * result in the MANIFEST, installs the new version. (D11, D12) */
static int compact_level(sdb *db, int level) {
  sdb_version *v = db->ver, *nv = NULL, *cur;
  compaction c = {.level = level, .eb = &db->eb, .ver = v};
  sdb_eb ceb = {{0}};
  __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED); /* inputs stay alive while unlocked */
  const void *lo, *hi;
  size_t lon, hin;
  sdb_table **outs = NULL;
  int *outlvl = NULL, rc = 0;
  size_t nouts = 0;
  if (!(c.in = calloc(v->n[level] + v->n[level + 1] + 1, sizeof *c.in)) ||
      !(c.del = calloc(v->n[level] + v->n[level + 1] + 1, sizeof *c.del))) {
    rc = sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory");
    goto out;
  }
  if (level == 0) { /* L0 files overlap each other: take them all */
    for (size_t i = 0; i < v->n[0]; i++) c.in[c.nin++] = v->t[0][i];
  } else { /* the file after the compaction pointer, round robin over the key space */
    size_t i = 0;
    if (db->has_cptr[level]) {
      while (i < v->n[level] &&
             sdb__ucmp(v->t[level][i]->lo.p, v->t[level][i]->lo.len, db->cptr[level].p, db->cptr[level].len) <= 0)
        i++;
      if (i == v->n[level]) i = 0;
    }
    c.in[c.nin++] = v->t[level][i];
  }
  c.nin0 = c.nin;
  lo = c.in[0]->lo.p, lon = c.in[0]->lo.len, hi = c.in[0]->hi.p, hin = c.in[0]->hi.len;
  for (size_t i = 1; i < c.nin0; i++) {
    if (sdb__ucmp(c.in[i]->lo.p, c.in[i]->lo.len, lo, lon) < 0) lo = c.in[i]->lo.p, lon = c.in[i]->lo.len;
    if (sdb__ucmp(c.in[i]->hi.p, c.in[i]->hi.len, hi, hin) > 0) hi = c.in[i]->hi.p, hin = c.in[i]->hi.len;
  }
  for (size_t i = 0; i < v->n[level + 1]; i++) {
    sdb_table *t = v->t[level + 1][i];
    if (sdb__ucmp(t->hi.p, t->hi.len, lo, lon) >= 0 && sdb__ucmp(t->lo.p, t->lo.len, hi, hin) <= 0) c.in[c.nin++] = t;
  }
  if (level > 0 && sdb__buf_set(&db->cptr[level], hi, hin)) {
    rc = sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory");
    goto out;
  }
  db->has_cptr[level] = level > 0;
  for (size_t i = 0; i < c.nin; i++) {
    c.del[i].level = i < c.nin0 ? level : level + 1;
    c.del[i].number = c.in[i]->number;
  }
  if (c.nin0 == 1 && c.nin == 1) { /* nothing to merge with: move the file down */
    const sdb_fmeta *f;
    if (fmeta_of(db, c.in[0]->number, &f) || !(c.out = calloc(1, sizeof *c.out))) {
      rc = sdb__err(&db->eb, fmeta_of(db, c.in[0]->number, &f) ? SDB_ECORRUPT : SDB_ENOMEM,
                    "compaction: table %" PRIu64 " missing from the live set", c.in[0]->number);
      goto out;
    }
    c.out[0].level = level + 1;
    c.out[0].number = f->number;
    c.out[0].size = f->size;
    if (sdb__buf_set(&c.out[0].smallest, f->smallest.p, f->smallest.len) ||
        sdb__buf_set(&c.out[0].largest, f->largest.p, f->largest.len)) {
      c.nout = 1;
      rc = sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory");
      goto out;
    }
    c.nout = c.capout = 1;
    db->trivial_moves++;
  } else {
    uint64_t snap = sdb__smallest_snapshot(db);
    if (db->bg_mode) { /* D18: the merge runs without the lock; writers go on */
      c.unlocked = 1;
      c.eb = &ceb;
      pthread_mutex_unlock(&db->mu);
    }
    rc = compaction_merge(db, &c, snap);
    if (!c.unlocked) db->blocks_raw += c.raw, db->blocks_zlib += c.zblocks;
    if (!rc && c.nout && (rc = sdb__fsync_dir(db->dir))) /* D11: output entries durable before the edit */
      rc = sdb__ioerr(c.eb, "fsync directory", db->dir, rc);
    if (c.unlocked) {
      pthread_mutex_lock(&db->mu);
      db->blocks_raw += c.raw, db->blocks_zlib += c.zblocks;
      if (rc) memcpy(db->eb.msg, ceb.msg, sizeof ceb.msg);
      c.eb = &db->eb;
      c.unlocked = 0;
    }
    if (rc) {
      compaction_free(&c, 1, db->dir); /* outputs are not live: remove them */
      sdb__ver_unref(v);
      return rc;
    }
    if (db->failed) { /* the handle failed while we merged: no more MANIFEST edits */
      compaction_free(&c, 1, db->dir);
      sdb__ver_unref(v);
      return db->failed;
    }
  }
  sdb_edit e = {0, 1, 0, 0, db->vs.next_file, 0, c.out, c.nout, c.del, c.nin, 0, 0};
  if ((rc = sdb__manifest_append(&db->man, &e, &db->eb))) { /* D9: the edit may or may not be on disk */
    sdb__enter_failed(db, rc);
    goto out;
  }
  /* The edit is durable: outputs are live, inputs are not (D12). */
  for (size_t i = 0; i < c.nin; i++) sdb__vstate_del(&db->vs, c.in[i]->number);
  for (size_t i = 0; i < c.nout; i++)
    if (sdb__vstate_add(&db->vs, &c.out[i])) {
      rc = sdb__enter_failed(db, sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory"));
      goto out;
    }
  if (!(outs = calloc(c.nout + 1, sizeof *outs)) || !(outlvl = calloc(c.nout + 1, sizeof *outlvl))) {
    rc = sdb__enter_failed(db, sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory"));
    goto out;
  }
  if (c.nin == 1 && c.nout == 1 && c.out[0].number == c.in[0]->number) {
    sdb__table_ref(c.in[0]);
    outs[nouts] = c.in[0];
    outlvl[nouts++] = level + 1;
  } else {
    for (size_t i = 0; i < c.nout; i++) {
      char p[PATH_MAX];
      sdb_table *t;
      if ((rc = sdb__table_open(sdb__sst_name(p, sizeof p, db->dir, c.out[i].number), c.out[i].number, c.out[i].size,
                                &t, &db->eb))) {
        sdb__enter_failed(db, rc);
        goto out;
      }
      sdb__table_attach(t, db->cache, &db->fdl);
      outs[nouts] = t;
      outlvl[nouts++] = level + 1;
      if (sdb__buf_set(&t->lo, c.out[i].smallest.p, c.out[i].smallest.len - 8) ||
          sdb__buf_set(&t->hi, c.out[i].largest.p, c.out[i].largest.len - 8)) {
        rc = sdb__enter_failed(db, sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory"));
        goto out;
      }
    }
    for (size_t i = 0; i < c.nin; i++) {
      c.in[i]->obsolete = 1; /* unlinked when the last version or iterator using it lets go (D12) */
      db->compact_read += c.in[i]->size;
      db->level_read[i < c.nin0 ? level : level + 1] += c.in[i]->size;
    }
    for (size_t i = 0; i < c.nout; i++) db->compact_written += c.out[i].size, db->level_written[level + 1] += c.out[i].size;
    db->compactions++;
  }
  cur = db->ver; /* may have gained L0 tables from flushes meanwhile */
  if (!(nv = sdb__ver_edit(cur, c.del, c.nin, outs, outlvl, nouts))) {
    rc = sdb__enter_failed(db, sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory"));
    goto out;
  }
  db->ver = nv;
  sdb__ver_unref(cur);
  rc = 0;
out:
  sdb__ver_unref(v);
  for (size_t i = 0; outs && i < nouts; i++) sdb__table_unref(outs[i]);
  free(outs);
  free(outlvl);
  compaction_free(&c, 0, db->dir);
  return rc;
}

/* Compacts, inline, until no level is over its target. Runs after each
 * flush, so it happens at points fixed by the workload (deterministic). */
static int sdb__compact_locked(sdb *db) {
  int rc, level;
  if (db->bg_mode) { /* the background thread compacts (D18) */
    pthread_cond_signal(&db->bg_cv);
    return 0;
  }
  while ((level = pick_level(db)) >= 0)
    if ((rc = compact_level(db, level))) return rc;
  return 0;
}

/* The background thread (non-deterministic mode): flushes the immutable
 * memtable when there is one (D20), compacts while a level is over its
 * target, else sleeps until a switch or flush signals. After a failure it
 * waits for the next signal rather than spin. (D18) */
static void *sdb__bg_main(void *arg) {
  sdb *db = arg;
  pthread_mutex_lock(&db->mu);
  while (!db->bg_stop) {
    if (db->imm && !db->failed) { /* D20: a pending memtable goes first */
      if (sdb__flush_imm(db) && !db->bg_stop) pthread_cond_wait(&db->bg_cv, &db->mu); /* retry when asked */
      continue;
    }
    int level = db->failed ? -1 : pick_level(db);
    if (level < 0) {
      pthread_cond_broadcast(&db->bg_done);
      pthread_cond_wait(&db->bg_cv, &db->mu);
      continue;
    }
    if (compact_level(db, level)) {
      db->bg_errors++;
      pthread_cond_broadcast(&db->bg_done);
      if (!db->bg_stop) pthread_cond_wait(&db->bg_cv, &db->mu);
      continue;
    }
    pthread_cond_broadcast(&db->bg_done);
  }
  pthread_mutex_unlock(&db->mu);
  return NULL;
}

int sdb_flush(sdb *db) {
  int rc;
  if (!db) return SDB_EINVAL;
  pthread_mutex_lock(&db->mu);
  if (!(rc = sdb__check_failed(db)) && !(rc = db->bg_mode ? sdb__wait_imm_locked(db) : 0)) rc = sdb__flush_locked(db);
  pthread_mutex_unlock(&db->mu);
  return rc;
}

/* ---- writes ------------------------------------------------------------------- */
static int sdb__sync_locked(sdb *db) {
  struct timespec a, b;
  if (db->bg_mode) clock_gettime(CLOCK_MONOTONIC, &a);
  int rc = sdb__logw_sync(&db->wal, &db->eb);
  if (db->bg_mode) {
    clock_gettime(CLOCK_MONOTONIC, &b);
    __atomic_store_n(&db->last_sync_ns,
                     (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec,
                     __ATOMIC_RELAXED); /* read by a gathering leader under wq_mu */
  }
  if (rc) return sdb__enter_failed(db, rc); /* D9: never retried */
  db->wal_synced = db->wal.off;
  return 0;
}

/* D18: with L0 too full, stop until the compactor catches up (or fails);
 * past the slowdown mark, pause 1 ms. It releases db->mu, so callers run it
 * right after taking the lock, before reading anything their write depends
 * on (a transaction's validation, a range delete's key list). */
static int sdb__throttle_locked(sdb *db) {
  int rc;
  if (!db->bg_mode) return 0;
  /* D20: a full memtable with a flush still pending: wait for it here, at
   * the start, and switch (sdb__write_locked never waits: see there) */
  if (db->imm && sdb__mem_usage(db->mem) >= db->opt.memtable_bytes && (rc = sdb__wait_imm_locked(db))) return rc;
  /* re-checked: a writer that waited too may have switched already */
  if (!db->imm && sdb__mem_usage(db->mem) >= db->opt.memtable_bytes && (rc = sdb__switch_locked(db))) return rc;
  if (db->ver->n[0] < (size_t)db->opt.l0_slowdown_trigger) return 0;
  if (db->ver->n[0] >= (size_t)db->opt.l0_stop_trigger) db->write_stalls++; else db->write_slowdowns++;
  while (db->ver->n[0] >= (size_t)db->opt.l0_stop_trigger && !db->failed && !db->bg_stop) {
    uint64_t errs = db->bg_errors;
    pthread_cond_signal(&db->bg_cv);
    pthread_cond_wait(&db->bg_done, &db->mu);
    if (db->bg_errors != errs) break; /* compaction is failing: do not wait forever */
  }
  if (db->ver->n[0] >= (size_t)db->opt.l0_slowdown_trigger && db->ver->n[0] < (size_t)db->opt.l0_stop_trigger) {
    pthread_mutex_unlock(&db->mu);
    usleep(1000);
    pthread_mutex_lock(&db->mu);
  }
  return sdb__check_failed(db);
}

static int sdb__write_locked(sdb *db, const uint8_t *ops, size_t n, uint32_t count, int sync) {
  uint8_t h[SDB_WAL_REC_HDR];
  int rc;
  sync |= db->opt.sync_writes; /* the sync policy option */
  if ((rc = sdb__check_failed(db))) return rc;
  if (count == 0) return sync ? sdb__sync_locked(db) : 0;
  if (db->last_seq > SDB_MAX_SEQ || count > SDB_MAX_SEQ - db->last_seq) /* D8: the trailer keeps 56 bits */
    return sdb__err(&db->eb, SDB_EINVAL,
                    "write: sequence numbers are used up (last %" PRIu64 ", largest %" PRIu64 "): %u more do not fit",
                    db->last_seq, SDB_MAX_SEQ, count);
  /* A full memtable is flushed before the write that would add to it, so a
   * batch never straddles a flush and a failed flush leaves the write undone. */
  if (sdb__mem_usage(db->mem) >= db->opt.memtable_bytes) {
    /* Background mode (D20): switch only when that needs no wait, since
     * waiting releases db->mu and a transaction validated under this hold
     * must write under it (D16); otherwise the memtable runs over and the
     * next write's sdb__throttle_locked waits before anything is validated. */
    if (!db->bg_mode) rc = sdb__flush_locked(db);
    else rc = db->imm ? 0 : sdb__switch_locked(db);
    if (rc) return rc;
  }
  sdb__enc64(h, db->last_seq + 1);
  sdb__enc32(h + 8, count);
  sdb__enc64(h + 12, db->wal_synced);
  if ((rc = sdb__logw_add(&db->wal, h, sizeof h, ops, n, &db->eb))) return sdb__enter_failed(db, rc); /* D1, D9 */
  db->user_bytes += n;
  db->wal_bytes += n + sizeof h;
  if (sync && (rc = sdb__sync_locked(db))) return rc;                                                 /* D2 */
  if ((rc = sdb__apply_ops(db->mem, ops, n, db->last_seq + 1, count, NULL))) {
    sdb__err(&db->eb, rc, "write: cannot add to the memtable (%s)", sdb_strerror(rc));
    return sdb__enter_failed(db, rc);
  }
  db->last_seq += count;
  return 0;
}

static int sdb__encode_op(sdb_buf *b, int type, const void *k, size_t kn, const void *v, size_t vn) {
  int rc;
  uint8_t t = (uint8_t)type;
  if ((rc = sdb__buf_add(b, &t, 1)) || (rc = sdb__buf_lp(b, k, kn))) return rc;
  if (type == SDB_TYPE_PUT) rc = sdb__buf_lp(b, v, vn);
  return rc;
}

/* ---- group commit (not in deterministic mode) -------------------------------------- */
/* Writers queue up under wq_mu (not the db lock, so a queue forms while a
 * write is in progress); the one at the head is the leader: it takes every
 * queued request (up to 1 MiB of ops), writes them as ONE WAL record with one
 * fdatasync if any of them asked for sync, applies them, and wakes them with
 * the common result. A record holding several batches is still all or
 * nothing, so each batch stays atomic (D10); a sync request is acknowledged
 * only after the fdatasync that covers it (D2). (D17) */
typedef struct wreq {
  const uint8_t *ops;
  size_t n;
  uint32_t count;
  int sync, done, rc;
  struct wreq *next;
  pthread_cond_t cv;
} wreq;

#define GROUP_MAX_BYTES (1u << 20)

static int write_grouped(sdb *db, const uint8_t *ops, size_t n, uint32_t count, int sync) {
  sync |= db->opt.sync_writes;
  wreq r = {.ops = ops, .n = n, .count = count, .sync = sync};
  wreq *last, *q;
  size_t total = 0, members = 0;
  uint64_t cnt = 0;
  int any_sync = 0, rc;
  pthread_cond_init(&r.cv, NULL);
  pthread_mutex_lock(&db->wq_mu);
  if (db->wq_tail) db->wq_tail->next = &r; else db->wq_head = &r;
  db->wq_tail = &r;
  db->wq_len++;
  db->wq_inflight++;
  if (db->wq_gathering) pthread_cond_signal(&db->wq_arrive);
  while (!r.done && db->wq_head != &r) pthread_cond_wait(&r.cv, &db->wq_mu);
  if (r.done) {
    db->wq_inflight--;
    pthread_mutex_unlock(&db->wq_mu);
    pthread_cond_destroy(&r.cv);
    return r.rc;
  }
  /* Gathering (sync writes only): a leader that starts as soon as the last
   * group's fdatasync ends finds only the writers that queued during it;
   * the ones just released join a moment later and would wait a whole
   * fdatasync, so groups alternate at half the writers. When more writers
   * were recently in flight than are queued, wait for them a little (at
   * most a quarter of the last fdatasync, capped at 200 us). One writer
   * never waits: its target is 1. */
  int target = db->wq_inflight > db->wq_target - 1 ? db->wq_inflight : db->wq_target - 1;
  db->wq_target = target;
  uint64_t last_sync = __atomic_load_n(&db->last_sync_ns, __ATOMIC_RELAXED);
  if (sync && target > 1 && db->wq_len < target && last_sync) {
    uint64_t wait_ns = last_sync / 4 < 200000 ? last_sync / 4 : 200000;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += (long)wait_ns;
    if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
    db->wq_gathering = 1;
    while (db->wq_len < target && pthread_cond_timedwait(&db->wq_arrive, &db->wq_mu, &dl) == 0) {
    }
    db->wq_gathering = 0;
  }
  /* leader: the group is r and the requests queued behind it */
  for (last = q = &r; q && (q == &r || (total + q->n <= GROUP_MAX_BYTES && cnt + q->count <= UINT32_MAX));
       last = q, q = q->next)
    total += q->n, cnt += q->count, any_sync |= q->sync, members++;
  pthread_mutex_unlock(&db->wq_mu);
  pthread_mutex_lock(&db->mu);
  if ((rc = sdb__throttle_locked(db))) {
    /* failed handle: every member gets the error */
  } else if (members == 1) {
    rc = sdb__write_locked(db, ops, n, count, sync);
  } else {
    db->gbuf.len = 0;
    rc = 0;
    for (q = &r;; q = q->next) {
      if (sdb__buf_add(&db->gbuf, q->ops, q->n)) {
        rc = sdb__err(&db->eb, SDB_ENOMEM, "write: out of memory");
        break;
      }
      if (q == last) break;
    }
    if (!rc) rc = sdb__write_locked(db, db->gbuf.p, db->gbuf.len, (uint32_t)cnt, any_sync);
    if (db->gbuf.cap > 4 * GROUP_MAX_BYTES) sdb__buf_free(&db->gbuf);
  }
  db->write_groups++;
  db->grouped_writes += members;
  pthread_mutex_unlock(&db->mu);
  pthread_mutex_lock(&db->wq_mu);
  for (q = &r;;) {
    wreq *next = q->next;
    q->rc = rc;
    q->done = 1;
    if (q != &r) pthread_cond_signal(&q->cv);
    if (q == last) {
      db->wq_head = next;
      if (!next) db->wq_tail = NULL;
      db->wq_len -= (int)members;
      break;
    }
    q = next;
  }
  if (db->wq_head) pthread_cond_signal(&db->wq_head->cv); /* the next leader */
  db->wq_inflight--;
  pthread_mutex_unlock(&db->wq_mu);
  pthread_cond_destroy(&r.cv);
  return rc;
}

static int write_one(sdb *db, int type, const void *k, size_t kn, const void *v, size_t vn, int sync) {
  int rc;
  if (!db || (!k && kn) || (!v && vn)) return SDB_EINVAL;
  if (!db->opt.deterministic) {
    uint8_t small[512]; /* most ops: encoded on the stack, no malloc per write */
    if (1 + 10 + kn + 10 + vn <= sizeof small) {
      size_t n = 0;
      small[n++] = (uint8_t)type;
      n += sdb__encvar(small + n, kn);
      if (kn) memcpy(small + n, k, kn);
      n += kn;
      if (type == SDB_TYPE_PUT) {
        n += sdb__encvar(small + n, vn);
        if (vn) memcpy(small + n, v, vn);
        n += vn;
      }
      return write_grouped(db, small, n, 1, sync);
    }
    sdb_buf b = {0};
    if (sdb__encode_op(&b, type, k, kn, v, vn)) return SDB_ENOMEM;
    rc = write_grouped(db, b.p, b.len, 1, sync);
    sdb__buf_free(&b);
    return rc;
  }
  pthread_mutex_lock(&db->mu);
  db->scratch.len = 0;
  if ((rc = sdb__encode_op(&db->scratch, type, k, kn, v, vn)))
    rc = sdb__err(&db->eb, rc, "write: out of memory");
  else
    rc = sdb__write_locked(db, db->scratch.p, db->scratch.len, 1, sync);
  if (db->scratch.cap > (1u << 20)) sdb__buf_free(&db->scratch);
  pthread_mutex_unlock(&db->mu);
  return rc;
}

int sdb_put(sdb *db, const void *k, size_t kn, const void *v, size_t vn, int sync) {
  return write_one(db, SDB_TYPE_PUT, k, kn, v, vn, sync);
}

int sdb_delete(sdb *db, const void *k, size_t kn, int sync) {
  return write_one(db, SDB_TYPE_DEL, k, kn, NULL, 0, sync);
}

int sdb_write(sdb *db, const sdb_batch *b, int sync) {
  int rc;
  if (!db || !b) return SDB_EINVAL;
  if (!db->opt.deterministic) return write_grouped(db, b->rep.p, b->rep.len, b->count, sync);
  pthread_mutex_lock(&db->mu);
  rc = sdb__write_locked(db, b->rep.p, b->rep.len, b->count, sync);
  pthread_mutex_unlock(&db->mu);
  return rc;
}

int sdb_sync(sdb *db) {
  int rc;
  if (!db) return SDB_EINVAL;
  pthread_mutex_lock(&db->mu);
  if (!(rc = sdb__check_failed(db))) rc = sdb__sync_locked(db);
  pthread_mutex_unlock(&db->mu);
  return rc;
}

int sdb_batch_create(sdb_batch **out) {
  if (!out) return SDB_EINVAL;
  *out = calloc(1, sizeof **out);
  return *out ? 0 : SDB_ENOMEM;
}
void sdb_batch_free(sdb_batch *b) {
  if (!b) return;
  sdb__buf_free(&b->rep);
  free(b);
}
void sdb_batch_clear(sdb_batch *b) {
  if (!b) return;
  b->rep.len = 0;
  b->count = 0;
}
int sdb_batch_put(sdb_batch *b, const void *k, size_t kn, const void *v, size_t vn) {
  if (!b || (!k && kn) || (!v && vn) || b->count == UINT32_MAX) return SDB_EINVAL;
  int rc = sdb__encode_op(&b->rep, SDB_TYPE_PUT, k, kn, v, vn);
  if (!rc) b->count++;
  return rc;
}
int sdb_batch_delete(sdb_batch *b, const void *k, size_t kn) {
  if (!b || (!k && kn) || b->count == UINT32_MAX) return SDB_EINVAL;
  int rc = sdb__encode_op(&b->rep, SDB_TYPE_DEL, k, kn, NULL, 0);
  if (!rc) b->count++;
  return rc;
}

/* ---- reads ---------------------------------------------------------------------- */
int sdb_get(sdb *db, const void *k, size_t kn, void **val, size_t *vn) { return sdb_get_at(db, NULL, k, kn, val, vn); }

int sdb_get_at(sdb *db, const sdb_snap *sn, const void *k, size_t kn, void **val, size_t *vn) {
  const uint8_t *mv;
  size_t mvn;
  sdb_buf ik = {0};
  sdb_version *ver;
  int rc, type;
  if (!db || (!k && kn) || !val || !vn) return SDB_EINVAL;
  *val = NULL;
  *vn = 0;
  pthread_mutex_lock(&db->mu);
  if (!db->open_ok) {
    pthread_mutex_unlock(&db->mu);
    return SDB_EFAILED;
  }
  uint64_t snap = sn ? sn->seq : db->last_seq;
  type = sdb__mem_get(db->mem, k, kn, snap, &mv, &mvn);
  if (type < 0 && db->imm) type = sdb__mem_get(db->imm, k, kn, snap, &mv, &mvn);
  if (type >= 0) {
    rc = SDB_ENOTFOUND;
    if (type == SDB_TYPE_PUT) {
      rc = (*val = malloc(mvn ? mvn : 1)) ? 0 : SDB_ENOMEM;
      if (!rc && mvn) memcpy(*val, mv, mvn);
      if (!rc) *vn = mvn;
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
  }
  ver = db->ver;
  __atomic_add_fetch(&ver->refs, 1, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&db->mu);
  rc = SDB_ENOTFOUND;
  uint64_t checks = 0, useful = 0, falsepos = 0;
  if (sdb__ikey(&ik, k, kn, snap, SDB_TYPE_SEEK)) {
    rc = SDB_ENOMEM;
    goto out;
  }
  for (int l = 0; l < SDB_NUM_LEVELS && rc == SDB_ENOTFOUND; l++) {
    size_t i = l == 0 ? 0 : sdb__level_find(ver, l, k, kn);
    for (; i < ver->n[l]; i++) {
      sdb_table *t = ver->t[l][i];
      if (!sdb__table_covers(t, k, kn)) {
        if (l == 0) continue;
        break;
      }
      sdb_eb eb;
      if (t->filter) {
        checks++;
        if (!sdb__table_may_contain(t, k, kn)) {
          useful++;
          if (l > 0) break;
          continue;
        }
      }
      int r = sdb__table_get_nofilter(t, ik.p, ik.len, val, vn, &eb);
      if (r == 0 && t->filter) falsepos++;
      if (r == 1) rc = 0;
      if (r == 2) rc = SDB_ENOTFOUND;
      if (r < 0) {
        rc = r;
        pthread_mutex_lock(&db->mu);
        memcpy(db->eb.msg, eb.msg, sizeof eb.msg);
        pthread_mutex_unlock(&db->mu);
      }
      if (r != 0) goto out;
      if (l > 0) break; /* L1+: at most one table of a level covers the key */
    }
  }
out:
  if (checks) __atomic_add_fetch(&db->bloom_checks, checks, __ATOMIC_RELAXED);
  if (useful) __atomic_add_fetch(&db->bloom_useful, useful, __ATOMIC_RELAXED);
  if (falsepos) __atomic_add_fetch(&db->bloom_false_pos, falsepos, __ATOMIC_RELAXED);
  sdb__buf_free(&ik);
  sdb__ver_unref(ver);
  return rc;
}

/* An iterator stopped by an error says why through sdb_errmsg(), as a get
 * does: the file and offset of the damage (table.c's message). */
static void iter_failed(sdb_iter *it) {
  const char *why = it->status == SDB_ENOMEM ? "out of memory" : it->m->ops->errmsg(it->m);
  if (!it->held) pthread_mutex_lock(&it->db->mu);
  sdb__err(&it->db->eb, it->status, "%s", *why ? why : sdb_strerror(it->status));
  if (!it->held) pthread_mutex_unlock(&it->db->mu);
}

static void iter_find(sdb_iter *it) {
  sdb_iiter *m = it->m;
  it->valid = 0;
  for (; m->ops->valid(m); m->ops->next(m)) {
    size_t kn;
    const uint8_t *k = m->ops->key(m, &kn);
    uint64_t tr = sdb__dec64(k + kn - 8);
    if ((tr >> 8) > it->snap) continue;
    if (it->has_key && !sdb__ucmp(k, kn - 8, it->key.p, it->key.len)) continue; /* older version */
    if (it->has_hi && sdb__ucmp(k, kn - 8, it->hi.p, it->hi.len) >= 0) break;
    if (sdb__buf_set(&it->key, k, kn - 8)) {
      it->status = SDB_ENOMEM;
      iter_failed(it);
      return;
    }
    it->has_key = 1;
    if ((tr & 0xff) != SDB_TYPE_PUT) continue; /* deleted */
    it->val = m->ops->value(m, &it->vn);
    it->valid = 1;
    return;
  }
  if ((it->status = m->ops->status(m))) iter_failed(it);
}

int sdb_iter_create(sdb *db, const void *lo, size_t lolen, const void *hi, size_t hilen, sdb_iter **out) {
  return sdb_iter_create_at(db, NULL, lo, lolen, hi, hilen, out);
}

/* held: the caller holds db->mu (and keeps it). */
static int iter_new(sdb *db, const sdb_snap *sn, const void *lo, size_t lolen, const void *hi, size_t hilen,
                    sdb_iter **out, int held) {
  sdb_iter *it;
  sdb_iiter **kids;
  size_t n = 0;
  if (!db || !out || (!lo && lolen) || (!hi && hilen)) return SDB_EINVAL;
  *out = NULL;
  if (!(it = calloc(1, sizeof *it))) return SDB_ENOMEM;
  if (!held) pthread_mutex_lock(&db->mu);
  if (!db->open_ok) {
    if (!held) pthread_mutex_unlock(&db->mu);
    free(it);
    return SDB_EFAILED;
  }
  it->db = db;
  it->held = held;
  it->snap = sn ? sn->seq : db->last_seq;
  it->ver = db->ver;
  __atomic_add_fetch(&it->ver->refs, 1, __ATOMIC_RELAXED);
  size_t want = (db->imm ? 2 : 1) + it->ver->n[0]; /* memtables, each L0 table, one per non-empty level */
  for (int l = 1; l < SDB_NUM_LEVELS; l++) want += it->ver->n[l] > 0;
  kids = calloc(want, sizeof *kids);
  if (kids && (kids[n] = sdb__mem_iter(db->mem))) n++;
  if (kids && db->imm && (kids[n] = sdb__mem_iter(db->imm))) n++;
  if (!held) pthread_mutex_unlock(&db->mu);
  for (size_t i = 0; kids && i < it->ver->n[0]; i++)
    if ((kids[n] = sdb__table_iter(it->ver->t[0][i]))) n++;
  for (int l = 1; kids && l < SDB_NUM_LEVELS; l++)
    if (it->ver->n[l] && (kids[n] = sdb__level_iter_new(it->ver->t[l], it->ver->n[l]))) n++;
  if (kids && n != want) {
    for (size_t i = 0; i < n; i++) kids[i]->ops->free(kids[i]);
    free(kids);
    kids = NULL;
  }
  if (!kids || !(it->m = sdb__merge_iter(kids, n))) goto nomem;
  if (hi) {
    it->has_hi = 1;
    if (sdb__buf_set(&it->hi, hi, hilen)) goto nomem;
  }
  if (lo) {
    sdb_buf ik = {0};
    if (sdb__ikey(&ik, lo, lolen, SDB_MAX_SEQ, SDB_TYPE_SEEK)) goto nomem;
    it->m->ops->seek(it->m, ik.p, ik.len);
    sdb__buf_free(&ik);
  } else {
    it->m->ops->seek_first(it->m);
  }
  iter_find(it);
  *out = it;
  return 0;
nomem:
  sdb_iter_free(it);
  return SDB_ENOMEM;
}

int sdb_iter_create_at(sdb *db, const sdb_snap *sn, const void *lo, size_t lolen, const void *hi, size_t hilen,
                       sdb_iter **out) {
  return iter_new(db, sn, lo, lolen, hi, hilen, out, 0);
}

/* Range delete as one atomic batch of point tombstones, built and written
 * under the handle's lock so no write can slip in between (D10). */
int sdb_delete_range(sdb *db, const void *lo, size_t lolen, const void *hi, size_t hilen, int sync) {
  sdb_iter *it = NULL;
  sdb_buf ops = {0};
  uint32_t count = 0;
  int rc;
  if (!db || !lo || !hi) return SDB_EINVAL;
  if (sdb__ucmp(lo, lolen, hi, hilen) >= 0) return 0; /* empty range */
  pthread_mutex_lock(&db->mu);
  if ((rc = sdb__check_failed(db)) || (rc = sdb__throttle_locked(db))) goto out;
  if ((rc = iter_new(db, NULL, lo, lolen, hi, hilen, &it, 1))) goto out;
  for (; sdb_iter_valid(it); sdb_iter_next(it)) {
    size_t kn;
    const void *k = sdb_iter_key(it, &kn);
    if ((rc = sdb__encode_op(&ops, SDB_TYPE_DEL, k, kn, NULL, 0))) {
      rc = sdb__err(&db->eb, rc, "delete_range: out of memory");
      goto out;
    }
    count++;
  }
  if ((rc = sdb_iter_status(it))) {
    char why[sizeof db->eb.msg]; /* iter_failed's */
    snprintf(why, sizeof why, "%s", db->eb.msg);
    sdb__err(&db->eb, rc, "delete_range: reading the range failed: %s", why);
    goto out;
  }
  sdb_iter_free(it);
  it = NULL; /* release the version before a flush may replace it */
  rc = sdb__write_locked(db, ops.p, ops.len, count, sync);
  if (!rc) db->range_deletes++, db->range_deleted_keys += count;
out:
  sdb_iter_free(it);
  sdb__buf_free(&ops);
  pthread_mutex_unlock(&db->mu);
  return rc;
}

int sdb_iter_valid(const sdb_iter *it) { return it && it->valid; }

int sdb_iter_next(sdb_iter *it) {
  if (!it || !it->valid) return it ? it->status : SDB_EINVAL;
  it->m->ops->next(it->m);
  iter_find(it);
  return it->status;
}

const void *sdb_iter_key(const sdb_iter *it, size_t *len) {
  if (!it || !it->valid) return *len = 0, NULL;
  *len = it->key.len;
  return it->key.p;
}

const void *sdb_iter_value(const sdb_iter *it, size_t *len) {
  if (!it || !it->valid) return *len = 0, NULL;
  *len = it->vn;
  return it->val;
}

int sdb_iter_status(const sdb_iter *it) { return it ? it->status : SDB_EINVAL; }

int sdb_iter_seek(sdb_iter *it, const void *key, size_t klen) {
  if (!it || (!key && klen)) return SDB_EINVAL;
  if (it->status) return it->status;
  if (sdb__ikey(&it->seek, key, klen, SDB_MAX_SEQ, SDB_TYPE_SEEK)) {
    it->status = SDB_ENOMEM;
    it->valid = 0;
    iter_failed(it);
    return it->status;
  }
  it->has_key = 0; /* the first version found from here is the newest one */
  it->m->ops->seek(it->m, it->seek.p, it->seek.len);
  iter_find(it);
  return it->status;
}

void sdb_iter_free(sdb_iter *it) {
  if (!it) return;
  if (it->m) it->m->ops->free(it->m);
  sdb__ver_unref(it->ver);
  sdb__buf_free(&it->hi);
  sdb__buf_free(&it->key);
  sdb__buf_free(&it->seek);
  free(it);
}

/* ---- snapshots ------------------------------------------------------------------ */
int sdb_snapshot(sdb *db, const sdb_snap **out) {
  sdb_snap *x;
  if (!db || !out) return SDB_EINVAL;
  *out = NULL;
  if (!(x = calloc(1, sizeof *x))) return SDB_ENOMEM;
  pthread_mutex_lock(&db->mu);
  if (!db->open_ok) {
    pthread_mutex_unlock(&db->mu);
    free(x);
    return SDB_EFAILED;
  }
  x->seq = db->last_seq; /* sequence numbers only grow: the list stays sorted */
  x->next = &db->snaps;
  x->prev = db->snaps.prev;
  db->snaps.prev->next = x;
  db->snaps.prev = x;
  db->nsnaps++;
  pthread_mutex_unlock(&db->mu);
  *out = x;
  return 0;
}

void sdb_snapshot_release(sdb *db, const sdb_snap *snap) {
  sdb_snap *x = (sdb_snap *)snap;
  if (!db || !x) return;
  pthread_mutex_lock(&db->mu);
  x->prev->next = x->next;
  x->next->prev = x->prev;
  db->nsnaps--;
  pthread_mutex_unlock(&db->mu);
  free(x);
}

/* ---- optimistic transactions ------------------------------------------------------ */
struct sdb_txn {
  sdb *db;
  const sdb_snap *snap;
  sdb_buf keys;  /* read and write set: length-prefixed keys */
  sdb_batch wb;  /* the writes, in order */
};

/* Sequence number of the newest version of k in the database (0: none).
 * db->mu held. (D16) */
static int latest_seq_locked(sdb *db, const void *k, size_t kn, uint64_t *seq) {
  sdb_buf ik = {0};
  sdb_iiter *it;
  int rc = 0, found = 0;
  *seq = 0;
  if (sdb__ikey(&ik, k, kn, SDB_MAX_SEQ, SDB_TYPE_SEEK)) return SDB_ENOMEM;
  for (int l = -2; l < SDB_NUM_LEVELS && !found && !rc; l++) { /* -2 memtable, -1 immutable memtable */
    if (l == -1 && !db->imm) continue;
    size_t i = l <= 0 ? 0 : sdb__level_find(db->ver, l, k, kn), nt = l < 0 ? 1 : db->ver->n[l];
    for (; i < nt && !found && !rc; i++) {
      if (l >= 0) {
        sdb_table *t = db->ver->t[l][i];
        if (!sdb__table_covers(t, k, kn)) {
          if (l == 0) continue;
          break;
        }
        if (!sdb__table_may_contain(t, k, kn)) continue;
        it = sdb__table_iter(t);
      } else {
        it = sdb__mem_iter(l == -2 ? db->mem : db->imm);
      }
      if (!it) {
        rc = SDB_ENOMEM;
        break;
      }
      it->ops->seek(it, ik.p, ik.len);
      if (it->ops->valid(it)) {
        size_t n;
        const uint8_t *key = it->ops->key(it, &n);
        if (!sdb__ucmp(key, n - 8, k, kn)) *seq = sdb__dec64(key + n - 8) >> 8, found = 1;
      } else if ((rc = it->ops->status(it))) {
        sdb__err(&db->eb, rc, "transaction: %s", it->ops->errmsg(it));
      }
      it->ops->free(it);
      if (l > 0) break;
    }
  }
  sdb__buf_free(&ik);
  return rc;
}

int sdb_txn_begin(sdb *db, sdb_txn **out) {
  sdb_txn *t;
  int rc;
  if (!db || !out) return SDB_EINVAL;
  *out = NULL;
  if (!(t = calloc(1, sizeof *t))) return SDB_ENOMEM;
  t->db = db;
  if ((rc = sdb_snapshot(db, &t->snap))) {
    free(t);
    return rc;
  }
  *out = t;
  return 0;
}

static int txn_note(sdb_txn *t, const void *k, size_t kn) { return sdb__buf_lp(&t->keys, k, kn); }

int sdb_txn_get(sdb_txn *t, const void *k, size_t kn, void **val, size_t *vn) {
  const uint8_t *p, *end;
  const uint8_t *hit = NULL;
  uint64_t hn = 0;
  int htype = -1;
  if (!t || (!k && kn) || !val || !vn) return SDB_EINVAL;
  if (txn_note(t, k, kn)) return SDB_ENOMEM;
  /* own writes first: the last op on k in the batch */
  for (p = t->wb.rep.p, end = p + t->wb.rep.len; p && p < end;) {
    uint64_t n = 0, vl = 0;
    int type = *p++;
    if (!(p = sdb__decvar(p, end, &n))) break; /* our own encoding: cannot happen */
    const uint8_t *key = p;
    p += n;
    if (type == SDB_TYPE_PUT) {
      if (!(p = sdb__decvar(p, end, &vl))) break;
      if (!sdb__ucmp(key, (size_t)n, k, kn)) hit = p, hn = vl, htype = type;
      p += vl;
    } else if (!sdb__ucmp(key, (size_t)n, k, kn)) {
      htype = type;
    }
  }
  if (htype == SDB_TYPE_DEL) return SDB_ENOTFOUND;
  if (htype == SDB_TYPE_PUT) {
    if (!(*val = malloc(hn ? hn : 1))) return SDB_ENOMEM;
    if (hn) memcpy(*val, hit, hn);
    *vn = (size_t)hn;
    return 0;
  }
  return sdb_get_at(t->db, t->snap, k, kn, val, vn);
}

int sdb_txn_put(sdb_txn *t, const void *k, size_t kn, const void *v, size_t vn) {
  if (!t) return SDB_EINVAL;
  if (txn_note(t, k, kn)) return SDB_ENOMEM;
  return sdb_batch_put(&t->wb, k, kn, v, vn);
}

int sdb_txn_delete(sdb_txn *t, const void *k, size_t kn) {
  if (!t) return SDB_EINVAL;
  if (txn_note(t, k, kn)) return SDB_ENOMEM;
  return sdb_batch_delete(&t->wb, k, kn);
}

void sdb_txn_rollback(sdb_txn *t) {
  if (!t) return;
  sdb_snapshot_release(t->db, t->snap);
  sdb__buf_free(&t->keys);
  sdb__buf_free(&t->wb.rep);
  free(t);
}

/* Validation and write happen under one hold of db->mu, so no write can come
 * between the check and the batch (D16). */
int sdb_txn_commit(sdb_txn *t, int sync) {
  sdb *db;
  int rc;
  if (!t) return SDB_EINVAL;
  db = t->db;
  pthread_mutex_lock(&db->mu);
  if ((rc = sdb__check_failed(db)) || (rc = sdb__throttle_locked(db))) goto out;
  for (const uint8_t *p = t->keys.p, *end = p + t->keys.len; p && p < end;) {
    uint64_t n = 0, seq;
    if (!(p = sdb__decvar(p, end, &n))) break;
    if ((rc = latest_seq_locked(db, p, (size_t)n, &seq))) goto out;
    if (seq > t->snap->seq) {
      db->txn_conflicts++;
      rc = SDB_ECONFLICT;
      goto out;
    }
    p += n;
  }
  if (!(rc = sdb__write_locked(db, t->wb.rep.p, t->wb.rep.len, t->wb.count, sync))) db->txn_commits++;
out:
  pthread_mutex_unlock(&db->mu);
  sdb_txn_rollback(t);
  return rc;
}

/* ---- checkpoint ------------------------------------------------------------------ */
/* (D15) A checkpoint is published like a database: its tables (hard links to
 * durable tables) and its empty WAL have durable directory entries before its
 * MANIFEST is written, and CURRENT is written last (M2, M3); a crash before
 * that leaves a directory without CURRENT, which opens as no database. */
static int checkpoint_locked(sdb *db, const char *cp) {
  char from[PATH_MAX], to[PATH_MAX], parent[PATH_MAX];
  sdb_logw w = {.fd = -1}, man = {.fd = -1};
  sdb_vstate vs;
  int rc;
  if ((db->bg_mode && (rc = sdb__wait_imm_locked(db))) || (rc = sdb__flush_locked(db))) return rc; /* every acked write into a table */
  vs = db->vs; /* shallow: shares the file list (nothing changes it under mu) */
  if (sdb__env->mkdir(cp, 0755) < 0)
    return errno == EEXIST ? sdb__err(&db->eb, SDB_EEXISTS, "checkpoint: %s already exists", cp)
                           : sdb__ioerr(&db->eb, "mkdir", cp, -errno);
  for (size_t i = 0; i < db->vs.nfiles; i++) {
    sdb__sst_name(from, sizeof from, db->dir, db->vs.files[i].number);
    sdb__sst_name(to, sizeof to, cp, db->vs.files[i].number);
    if (sdb__env->link(from, to) < 0) return sdb__ioerr(&db->eb, "link (checkpoint)", to, -errno);
  }
  vs.log_number = db->vs.next_file;
  vs.next_file = db->vs.next_file + 2;
  vs.last_seq = db->last_seq;
  if ((rc = sdb__logw_create(&w, sdb__log_name(to, sizeof to, cp, vs.log_number), SDB_WAL_MAGIC, vs.log_number,
                             &db->eb)))
    return rc;
  rc = sdb__env->fsync(w.fd) < 0 ? sdb__ioerr(&db->eb, "fsync", to, -errno) : 0;
  sdb__logw_close(&w);
  if (rc) return rc;
  if ((rc = sdb__fsync_dir(cp))) return sdb__ioerr(&db->eb, "fsync directory", cp, rc);
  if ((rc = sdb__manifest_create(&man, cp, vs.log_number + 1, &vs, &db->eb))) return rc;
  sdb__logw_close(&man);
  if ((rc = sdb__fsync_dir(cp))) return sdb__ioerr(&db->eb, "fsync directory", cp, rc);
  if ((rc = sdb__current_set(cp, vs.log_number + 1, &db->eb))) return rc;
  snprintf(parent, sizeof parent, "%s", cp);
  char *slash = strrchr(parent, '/');
  if (slash == parent) slash[1] = 0;
  else if (slash) *slash = 0;
  else snprintf(parent, sizeof parent, ".");
  if ((rc = sdb__fsync_dir(parent))) return sdb__ioerr(&db->eb, "fsync directory", parent, rc);
  return 0;
}

int sdb_checkpoint(sdb *db, const char *dir) {
  int rc;
  if (!db || !dir || !*dir) return SDB_EINVAL;
  pthread_mutex_lock(&db->mu);
  if (!(rc = sdb__check_failed(db))) rc = checkpoint_locked(db, dir);
  pthread_mutex_unlock(&db->mu);
  return rc;
}

/* ---- stats, check, dump ------------------------------------------------------------ */
int sdb_stats(sdb *db, char *buf, size_t len) {
  uint64_t tbytes = 0, entries = 0;
  size_t ntables = 0, off;
  if (!db || !buf || !len) return SDB_EINVAL;
  pthread_mutex_lock(&db->mu);
  if (!db->open_ok) {
    pthread_mutex_unlock(&db->mu);
    return SDB_EFAILED;
  }
  for (int l = 0; l < SDB_NUM_LEVELS; l++)
    for (size_t i = 0; i < db->ver->n[l]; i++)
      ntables++, tbytes += db->ver->t[l][i]->size, entries += db->ver->t[l][i]->entries;
  uint64_t tw = db->flush_bytes + db->compact_written, ch, cm, ce;
  size_t cu, cn;
  sdb__cache_stats(db->cache, &ch, &cm, &ce, &cu, &cn);
  pthread_mutex_lock(&db->fdl.mu);
  int fopen = db->fdl.open, fmaperr = db->fdl.map_errno;
  uint64_t freopen = db->fdl.reopens, fmaps = db->fdl.maps, fmapfail = db->fdl.map_failures;
  pthread_mutex_unlock(&db->fdl.mu);
  snprintf(buf, len,
           "open_us: %" PRIu64 "\n"
           "recovered_wal_files: %" PRIu64 "\n"
           "recovered_wal_records: %" PRIu64 "\n"
           "recovered_wal_bytes: %" PRIu64 "\n"
           "recovered_tail_truncated_bytes: %" PRIu64 "\n"
           "recovered_corrupt_bytes_skipped: %" PRIu64 "\n"
           "last_seq: %" PRIu64 "\n"
           "next_file: %" PRIu64 "\n"
           "manifest: MANIFEST-%06" PRIu64 "\n"
           "wal: %06" PRIu64 ".log (%" PRIu64 " bytes, %" PRIu64 " synced)\n"
           "memtable_bytes: %zu\n"
           "memtable_entries: %zu\n"
           "immutable_memtable_bytes: %zu\n"
           "background_flushes: %" PRIu64 "\n"
           "memtable_stalls: %" PRIu64 "\n"
           "tables: %zu\n"
           "table_bytes: %" PRIu64 "\n"
           "table_entries: %" PRIu64 "\n"
           "flushes: %" PRIu64 "\n"
           "failed: %s\n"
           "user_bytes_written: %" PRIu64 "\n"
           "wal_bytes_written: %" PRIu64 "\n"
           "flush_bytes_written: %" PRIu64 "\n"
           "compactions: %" PRIu64 "\n"
           "trivial_moves: %" PRIu64 "\n"
           "compaction_bytes_read: %" PRIu64 "\n"
           "compaction_bytes_written: %" PRIu64 "\n"
           "write_amplification: %.2f\n"
           "write_amplification_total: %.2f\n"
           "block_bytes_before_compression: %" PRIu64 "\n"
           "blocks_compressed: %" PRIu64 "\n"
           "snapshots: %" PRIu64 "\n"
           "range_deletes: %" PRIu64 " (%" PRIu64 " keys)\n"
           "txn_commits: %" PRIu64 "\n"
           "txn_conflicts: %" PRIu64 "\n"
           "write_groups: %" PRIu64 " (%" PRIu64 " writes)\n"
           "background_compaction: %s\n"
           "write_slowdowns: %" PRIu64 "\n"
           "write_stalls: %" PRIu64 "\n"
           "background_errors: %" PRIu64 "\n"
           "bloom_checks: %" PRIu64 "\n"
           "bloom_useful: %" PRIu64 "\n"
           "bloom_false_positives: %" PRIu64 "\n"
           "block_cache_hits: %" PRIu64 "\n"
           "block_cache_misses: %" PRIu64 "\n"
           "block_cache_evictions: %" PRIu64 "\n"
           "block_cache_bytes: %zu\n"
           "block_cache_blocks: %zu\n"
           "table_cache_open_files: %d\n"
           "table_cache_reopens: %" PRIu64 "\n",
           db->open_us, db->rec_files, db->rec_records, db->rec_bytes, db->rec_truncated, db->rec_skipped, db->last_seq,
           db->vs.next_file, db->man_number, db->vs.log_number, db->wal.off, db->wal_synced,
           sdb__mem_usage(db->mem), sdb__mem_count(db->mem), db->imm ? sdb__mem_usage(db->imm) : (size_t)0,
           db->bg_flushes, db->memtable_stalls, ntables, tbytes, entries, db->flushes,
           db->failed ? sdb_strerror(db->failed) : "no", db->user_bytes, db->wal_bytes, db->flush_bytes,
           db->compactions, db->trivial_moves, db->compact_read, db->compact_written,
           db->flush_bytes ? (double)tw / (double)db->flush_bytes : 0.0,
           db->user_bytes ? (double)(tw + db->wal_bytes) / (double)db->user_bytes : 0.0, db->blocks_raw,
           db->blocks_zlib, db->nsnaps, db->range_deletes, db->range_deleted_keys, db->txn_commits, db->txn_conflicts, db->write_groups, db->grouped_writes,
           db->bg_mode ? "on" : "off", db->write_slowdowns, db->write_stalls, db->bg_errors, __atomic_load_n(&db->bloom_checks, __ATOMIC_RELAXED), __atomic_load_n(&db->bloom_useful, __ATOMIC_RELAXED),
           __atomic_load_n(&db->bloom_false_pos, __ATOMIC_RELAXED), ch, cm, ce, cu, cn, fopen, freopen);
  off = strlen(buf);
  if (off + 1 < len)
    snprintf(buf + off, len - off,
             "mmap_reads: %s\n"
             "table_cache_maps: %" PRIu64 "\n"
             "table_cache_map_failures: %" PRIu64 "%s%s%s\n",
             db->opt.mmap_reads ? "on" : "off", fmaps, fmapfail, fmapfail ? " (last: " : "",
             fmapfail ? strerror(fmaperr) : "", fmapfail ? "; those tables read with pread)" : "");
  for (int l = 0; l < SDB_NUM_LEVELS; l++) {
    off = strlen(buf);
    if (off + 1 >= len) break;
    snprintf(buf + off, len - off,
             "level%d: files %zu bytes %" PRIu64 " target %" PRIu64 " read %" PRIu64 " written %" PRIu64 "\n", l,
             db->ver->n[l], sdb__level_bytes(db->ver, l),
             l == 0 ? (uint64_t)db->opt.l0_compaction_trigger : l == SDB_NUM_LEVELS - 1 ? 0 : sdb__level_target(db, l),
             db->level_read[l], db->level_written[l]);
  }
  pthread_mutex_unlock(&db->mu);
  return 0;
}

int sdb__check_dir(const char *dir, FILE *out, char *msg, size_t msglen) {
  sdb_eb eb = {{0}};
  sdb_vstate vs = {0};
  uint64_t mnum, seq = 0, prev = 0, end = 0, size = 0, records = 0, entries = 0;
  int lockfd = -1, rc;
  char p[PATH_MAX];
  sdb_buf first = {0}, last = {0};
  if (!dir || !*dir) {
    rc = sdb__err(&eb, SDB_EINVAL, "check: empty directory name");
    goto out;
  }
  if ((rc = sdb__lock_dir_mode(dir, 1, &lockfd, &eb))) goto out; /* D22: shared, never created */
  if ((rc = sdb__current_get(dir, &mnum, &eb))) {
    if (rc == SDB_ENOENT && !(rc = sdb__refuse_if_data(dir, &eb)))
      rc = sdb__err(&eb, SDB_ENOENT, "%s: no CURRENT: not a database", dir);
    goto out;
  }
  if ((rc = sdb__manifest_read(sdb__manifest_name(p, sizeof p, dir, mnum), mnum, &vs, NULL, &eb))) goto out;
  if (out) fprintf(out, "ok  %s (%zu live tables, wal %06" PRIu64 ".log)\n", p, vs.nfiles, vs.log_number);
  for (size_t i = 0; i < vs.nfiles; i++) /* D13: the tables of a level >= 1 are disjoint */
    for (size_t j = i + 1; j < vs.nfiles && vs.files[j].level == vs.files[i].level; j++) {
      const sdb_fmeta *a = &vs.files[i], *b = &vs.files[j];
      if (a->level == 0) break;
      if (sdb__ucmp(a->smallest.p, a->smallest.len - 8, b->largest.p, b->largest.len - 8) <= 0 &&
          sdb__ucmp(b->smallest.p, b->smallest.len - 8, a->largest.p, a->largest.len - 8) <= 0) {
        rc = sdb__err(&eb, SDB_ECORRUPT, "%s: level %d tables %06" PRIu64 ".sst and %06" PRIu64 ".sst overlap", p,
                      a->level, a->number, b->number);
        goto out;
      }
    }
  for (size_t i = 0; i < vs.nfiles; i++) {
    sdb_table *t;
    sdb_fmeta *f = &vs.files[i];
    if ((rc = sdb__table_open(sdb__sst_name(p, sizeof p, dir, f->number), f->number, f->size, &t, &eb))) goto out;
    rc = sdb__table_check(t, NULL, &first, &last, &eb);
    entries += t->entries;
    sdb__table_unref(t);
    if (rc) goto out;
    if (sdb__icmp(first.p, first.len, f->smallest.p, f->smallest.len) ||
        sdb__icmp(last.p, last.len, f->largest.p, f->largest.len)) {
      rc = sdb__err(&eb, SDB_ECORRUPT, "%s: key range differs from the MANIFEST's", p);
      goto out;
    }
    if (out) fprintf(out, "ok  %s (L%d, %" PRIu64 " bytes)\n", p, f->level, f->size);
  }
  if (vs.prev_log) {
    uint64_t pend = 0, psize = 0, precs = 0;
    if ((rc = sdb__wal_replay(sdb__log_name(p, sizeof p, dir, vs.prev_log), vs.prev_log, NULL, 1, NULL, &seq, &prev, &pend,
                         &precs, &psize, NULL, &eb)))
      goto out;
    if (psize > pend) {
      rc = sdb__err(&eb, SDB_ECORRUPT, "%s: damaged at offset %" PRIu64 ", but it was synced before WAL %06" PRIu64
                    " was started", p, pend, vs.log_number);
      goto out;
    }
    if (out) fprintf(out, "ok  %s (%" PRIu64 " records, pending flush)\n", p, precs);
  }
  if ((rc = sdb__wal_replay(sdb__log_name(p, sizeof p, dir, vs.log_number), vs.log_number, NULL, 1, NULL, &seq, &prev,
                       &end, &records, &size, NULL, &eb)))
    goto out;
  if (out) {
    fprintf(out, "ok  %s (%" PRIu64 " records)", p, records);
    if (size > end) fprintf(out, ", torn tail of %" PRIu64 " bytes at offset %" PRIu64 " (ignored)", size - end, end);
    fputc('\n', out);
  }
  snprintf(msg ? msg : p, msg ? msglen : sizeof p,
           "ok: %zu tables (%" PRIu64 " entries), wal with %" PRIu64 " records%s", vs.nfiles, entries, records,
           size > end ? ", torn tail ignored" : "");
  rc = 0;
out:
  if (rc && msg && msglen) snprintf(msg, msglen, "%s", eb.msg);
  sdb__buf_free(&first);
  sdb__buf_free(&last);
  sdb__vstate_free(&vs);
  if (lockfd >= 0) sdb__env->close(lockfd);
  return rc;
}

int sdb_check(const char *dir, char *msg, size_t msglen) {
  if (!dir) return SDB_EINVAL;
  return sdb__check_dir(dir, NULL, msg, msglen);
}

int sdb__dump_file(const char *path, FILE *out, char *msg, size_t msglen) {
  sdb_eb eb = {{0}};
  const char *base = strrchr(path, '/');
  uint64_t num, seq = 0, prev = 0, end = 0, records = 0, size = 0;
  int rc;
  base = base ? base + 1 : path;
  if (access(path, R_OK) < 0) {
    rc = sdb__ioerr(&eb, "open", path, -errno);
    if (msg && msglen) snprintf(msg, msglen, "%s", eb.msg);
    return rc;
  }
  switch (sdb__parse_name(base, &num)) {
    case SDB_F_MANIFEST: {
      sdb_vstate vs;
      rc = sdb__manifest_read(path, num, &vs, out, &eb);
      if (!rc) sdb__vstate_free(&vs);
      break;
    }
    case SDB_F_SST: {
      sdb_table *t;
      if (!(rc = sdb__table_open(path, num, 0, &t, &eb))) {
        rc = sdb__table_check(t, out, NULL, NULL, &eb);
        sdb__table_unref(t);
      }
      break;
    }
    case SDB_F_LOG:
      rc = sdb__wal_replay(path, num, NULL, 1, out, &seq, &prev, &end, &records, &size, NULL, &eb);
      break;
    default:
      rc = sdb__err(&eb, SDB_EINVAL, "%s: not a WAL (NNNNNN.log), table (NNNNNN.sst) or MANIFEST-NNNNNN", path);
  }
  if (rc && msg && msglen) snprintf(msg, msglen, "%s", eb.msg);
  return rc;
}
