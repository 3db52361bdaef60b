/*
 * logkv.c - corpus engine "logkv": a write-ahead log plus a checkpointed snapshot.
 *
 * Files in the data dir: LOG (append-only framed records, ckv.h) and SNAP (one framed record
 * holding the whole state). A write appends one record to LOG (one write()); a sync write or
 * sync() calls fdatasync(LOG). Every 8 writes, on flush() and at open the engine checkpoints:
 * SNAP.tmp is written, renamed over SNAP, and LOG is emptied. Recovery loads SNAP (a SNAP that
 * fails its checksum is corruption: open fails) and replays LOG up to its first bad record.
 *
 * Six corpus pairs use this engine; each broken target turns on exactly one bug, every
 * `-fixed` twin runs with none (docs/corpus.md):
 *   corpus-wal-nofsync          (1) sync writes and sync() are acked without fdatasync(LOG)
 *   corpus-rename-unsynced-tmp  (3) SNAP.tmp is renamed over SNAP (and the dir fsynced, LOG
 *                                   emptied) before SNAP.tmp's data was fsynced
 *   corpus-rename-nodirsync     (4) LOG is emptied while the rename of SNAP.tmp is not yet
 *                                   durable (the dir fsync comes only after)
 *   corpus-eio-retry            (7) an fsync/fdatasync failing with EIO is retried; the retry
 *                                   succeeds and the engine goes on: a sync write is acked, a
 *                                   checkpoint renames its snapshot and empties LOG (fsyncgate)
 *   corpus-torn-record          (8) recovery trusts a record's length and skips its checksum:
 *                                   a torn last record is applied with a zero-filled tail
 *   corpus-batch-nocommit       (9) a batch is logged as one record per sub-op, with no
 *                                   commit marker
 *
 * Durability invariants of the fixed twin (contract: durable_ack, process_safe, prefix,
 * atomic_batch):
 *   1. A record (a whole batch) reaches LOG in one write(): after a process kill the page
 *      cache holds only whole records, so every acked write is replayed.
 *   2. A sync write or sync() is acked only after fdatasync(LOG) succeeded; an earlier record
 *      is covered by the same fdatasync (records are in LOG in ack order).
 *   3. If any fsync/fdatasync fails, the op fails and the engine refuses every later write:
 *      the kernel may have dropped the dirty pages, so no later ack could be honest.
 *   4. Recovery stops at the first record that is shorter than its length or fails its CRC,
 *      so the state is always a prefix of the logged records.
 *   5. Checkpoint order: write SNAP.tmp, fsync it, rename it over SNAP, fsync the dir, and only
 *      then empty LOG (ftruncate + fsync). Whatever the crash point, either the old SNAP + the
 *      full LOG or the new SNAP (holding everything in LOG) is durable. SNAP stores the
 *      sequence number of its last record and recovery skips LOG records it already holds, so
 *      a surviving prefix of LOG never overwrites newer values of SNAP.
 *   6. Any I/O error inside a write or a checkpoint stops the engine (invariant 3).
 */
#define _GNU_SOURCE
#include "ckv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
  LK_OK = 0,
  LK_WAL_NOFSYNC = 1,
  LK_TMP_NOSYNC = 3,
  LK_RENAME_NODIRSYNC = 4,
  LK_EIO_RETRY = 7,
  LK_TORN_RECORD = 8,
  LK_BATCH_NOCOMMIT = 9,
};

#define LK_CKPT_EVERY 8
#define LK_OPTS_HELP "ckpt_every=N (checkpoint every N writes, default 8; 0 = only at open and flush)"

typedef struct logkv {
  int lfd;            /* LOG, O_APPEND */
  unsigned writes;    /* writes since the last checkpoint */
  uint64_t every;     /* checkpoint interval in writes, 0 = none */
} logkv;

static int set_opt(void *arg, const char *name, const char *val, char *msg, size_t len) {
  if (!strcmp(name, "ckpt_every")) return pc_opt_u64(name, val, arg, msg, len);
  snprintf(msg, len, "logkv: unknown option '%s' (ckpt_every)", name);
  return PC_EINVAL;
}

static int lk_check_opts(const char *opts, const char *wopts, char *msg, size_t len) {
  uint64_t every = LK_CKPT_EVERY;
  (void)wopts; /* workload hints (e.g. churn's memtable size) do not apply */
  return pc_opts_each(opts, set_opt, &every, msg, len);
}

#define LK(c) ((logkv *)(c)->priv)

static int dead(ckv *c, int rc) {
  c->dead = 1;
  return rc;
}

/* Every fsync/fdatasync of the engine (invariant 3). */
static int sync_fd(ckv *c, int fd, int data_only, const char *what) {
  if ((data_only ? fdatasync(fd) : fsync(fd)) == 0) return 0;
  if (c->bug == LK_EIO_RETRY && errno == EIO && (data_only ? fdatasync(fd) : fsync(fd)) == 0)
    return 0; /* BUG 7: the retry "succeeds", but the kernel already dropped the dirty pages */
  return dead(c, ckv_fail(c, PC_EIO, "%s(%s)", data_only ? "fdatasync" : "fsync", what));
}

static int sync_dir(ckv *c) {
  int fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
  if (fd < 0) return dead(c, ckv_fail(c, PC_EIO, "open(%s)", c->dir));
  rc = sync_fd(c, fd, 0, c->dir);
  close(fd);
  return rc;
}

/* Invariant 2. */
static int log_sync(ckv *c) {
  if (c->bug == LK_WAL_NOFSYNC) return 0; /* BUG 1: ack without fdatasync */
  return sync_fd(c, LK(c)->lfd, 1, "LOG");
}

/* Invariant 5. */
static int checkpoint(ckv *c) {
  char tmp[1100], snap[1100];
  int sfd = -1, rc;
  if ((rc = ckv_path(tmp, sizeof tmp, c->dir, "SNAP.tmp")) || (rc = ckv_path(snap, sizeof snap, c->dir, "SNAP")))
    goto fail;
  if ((rc = ckv_write_snapshot(tmp, &c->mem, c->seq, &sfd))) { ckv_fail(c, rc, "write %s", tmp); goto fail; }
  if (c->bug != LK_TMP_NOSYNC && (rc = sync_fd(c, sfd, 0, "SNAP.tmp"))) goto fail;
  if (rename(tmp, snap) < 0) { rc = ckv_fail(c, PC_EIO, "rename(%s, %s)", tmp, snap); goto fail; }
  if (c->bug != LK_RENAME_NODIRSYNC && (rc = sync_dir(c))) goto fail;
  /* the old data goes: LOG is emptied */
  if (ftruncate(LK(c)->lfd, 0) < 0) { rc = ckv_fail(c, PC_EIO, "ftruncate(%s/LOG)", c->dir); goto fail; }
  if ((rc = sync_fd(c, LK(c)->lfd, 0, "LOG"))) goto fail;
  /* BUG 4: the rename becomes durable only now, after LOG was emptied */
  if (c->bug == LK_RENAME_NODIRSYNC && (rc = sync_dir(c))) goto fail;
  /* BUG 3: SNAP's data becomes durable only now, after it was renamed and LOG emptied */
  if (c->bug == LK_TMP_NOSYNC && (rc = sync_fd(c, sfd, 0, "SNAP"))) goto fail;
  close(sfd);
  LK(c)->writes = 0;
  return 0;
fail:
  if (sfd >= 0) close(sfd);
  return dead(c, rc);
}

static int lk_write(ckv *c, const pc_kv_op *ops, size_t n, int sync) {
  uint8_t *rec = NULL;
  size_t rl;
  int rc;
  if (c->bug == LK_BATCH_NOCOMMIT && n > 1) {
    /* BUG 9: one record per sub-op, nothing marks the batch complete */
    for (size_t i = 0; i < n; i++) {
      if ((rc = ckv_frame(&ops[i], 1, ++c->seq, &rec, &rl))) return ckv_fail(c, rc, "encode");
      rc = ckv_write_all(LK(c)->lfd, rec, rl);
      free(rec);
      if (rc) return dead(c, ckv_fail(c, rc, "append to %s/LOG", c->dir));
    }
  } else {
    if ((rc = ckv_frame(ops, n, ++c->seq, &rec, &rl))) return ckv_fail(c, rc, "encode");
    rc = ckv_write_all(LK(c)->lfd, rec, rl); /* invariant 1 */
    free(rec);
    if (rc) return dead(c, ckv_fail(c, rc, "append to %s/LOG", c->dir));
  }
  if (sync && (rc = log_sync(c))) return rc;
  if (++LK(c)->writes >= LK(c)->every && LK(c)->every) {
    /* the checkpoint must see this write: apply it first (the skeleton applies it again,
     * which is idempotent) */
    if ((rc = ckv_mem_apply(&c->mem, ops, n))) return rc;
    if ((rc = checkpoint(c))) return rc;
  }
  return 0;
}

static int lk_sync(ckv *c) { return log_sync(c); }
static int lk_flush(ckv *c) { return checkpoint(c); }

static void lk_close(ckv *c) {
  if (c->priv && LK(c)->lfd >= 0) close(LK(c)->lfd);
  free(c->priv);
  c->priv = NULL;
}

static const ckv_hooks lk_hooks = {lk_write, lk_sync, lk_flush, lk_close};

/* Recovery (invariant 4), then a checkpoint so appends never follow a torn tail. */
static int lk_open(const char *dir, const char *opts, int bug, void **h, char *msg, size_t len) {
  ckv *c = NULL;
  char path[1100];
  uint8_t *buf = NULL;
  size_t bl = 0, end;
  int rc;
  if ((rc = ckv_new(dir, bug, &lk_hooks, &c, msg, len))) return rc;
  if (!(c->priv = calloc(1, sizeof(logkv)))) { rc = PC_ENOMEM; goto fail; }
  LK(c)->lfd = -1;
  LK(c)->every = LK_CKPT_EVERY;
  if ((rc = pc_opts_each(opts, set_opt, &LK(c)->every, msg, len))) goto fail;
  if ((rc = ckv_path(path, sizeof path, dir, "SNAP"))) goto fail;
  if ((rc = ckv_load_snapshot(path, &c->mem, &c->seq)) < 0) {
    snprintf(msg, len, "logkv: %s %s", path,
             rc == PC_ETARGET ? "is corrupt (fails its checksum or framing)" : "cannot be read");
    goto fail;
  }
  if ((rc = ckv_path(path, sizeof path, dir, "LOG"))) goto fail;
  if ((rc = ckv_read_file(path, &buf, &bl)) < 0) { snprintf(msg, len, "logkv: cannot read %s", path); goto fail; }
  if (rc == 1 && (rc = ckv_replay(&c->mem, buf, bl, bug == LK_TORN_RECORD, c->seq, &end, &c->seq))) goto fail;
  if ((LK(c)->lfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
    rc = PC_EIO;
    snprintf(msg, len, "logkv: open %s: %s", path, strerror(errno));
    goto fail;
  }
  if ((rc = checkpoint(c))) { snprintf(msg, len, "logkv: checkpoint at open: %s", c->msg); goto fail; }
  free(buf);
  *h = c;
  return 0;
fail:
  free(buf);
  if (c) { lk_close(c); ckv_free(c); }
  return rc ? rc : PC_EIO;
}

CKV_PAIR(pc_corpus_wal_nofsync, "corpus-wal-nofsync", LK_WAL_NOFSYNC,
         "logkv acks sync writes without fdatasync of its WAL", "logkv, WAL fdatasync'ed before a sync ack",
         lk_open, lk_check_opts, LK_OPTS_HELP);
CKV_PAIR(pc_corpus_rename_unsynced_tmp, "corpus-rename-unsynced-tmp", LK_TMP_NOSYNC,
         "logkv renames its snapshot tmp over SNAP before fsyncing it",
         "logkv, snapshot tmp fsynced before the rename", lk_open,
         lk_check_opts, LK_OPTS_HELP);
CKV_PAIR(pc_corpus_rename_nodirsync, "corpus-rename-nodirsync", LK_RENAME_NODIRSYNC,
         "logkv empties its log before the snapshot rename is durable (dir fsync too late)",
         "logkv, dir fsynced after the snapshot rename, then the log emptied", lk_open,
         lk_check_opts, LK_OPTS_HELP);
CKV_PAIR(pc_corpus_eio_retry, "corpus-eio-retry", LK_EIO_RETRY,
         "logkv retries fsync/fdatasync after EIO and goes on (acks) when the retry succeeds",
         "logkv, an fsync EIO fails the op and stops the engine", lk_open,
         lk_check_opts, LK_OPTS_HELP);
CKV_PAIR(pc_corpus_torn_record, "corpus-torn-record", LK_TORN_RECORD,
         "logkv recovery applies a torn last record (no length or checksum check)",
         "logkv, recovery stops at a short record or a checksum mismatch", lk_open,
         lk_check_opts, LK_OPTS_HELP);
CKV_PAIR(pc_corpus_batch_nocommit, "corpus-batch-nocommit", LK_BATCH_NOCOMMIT,
         "logkv logs a batch as one record per sub-op with no commit marker",
         "logkv, a batch is one record", lk_open,
         lk_check_opts, LK_OPTS_HELP);
