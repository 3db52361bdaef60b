/*
 * tablekv.c - corpus engine "tablekv": a write-ahead log plus one new table file per flush.
 *
 * Files in the data dir: LOG (append-only framed records, ckv.h) and T-NNNNNN tables, each one
 * framed record holding the whole state at its flush. A write appends one record to LOG (one
 * write()); a sync write or sync() calls fdatasync(LOG). Every 8 writes, on flush() and at open
 * the engine flushes: it creates the next table T-(n+1), empties LOG and unlinks the older
 * tables. Recovery takes the newest table that passes its checksum (an older one when the
 * newest is incomplete: a flush that crashed before its fsync) and replays LOG up to its first
 * bad record.
 *
 * Two corpus pairs use this engine; each broken target turns on exactly one bug:
 *   corpus-newfile-nodirsync  (2) the new table is fsynced but its directory entry is not made
 *                                 durable before LOG is emptied (the dir is fsynced only at
 *                                 the end of the flush, after the old tables are unlinked)
 *   corpus-log-deleted-early  (5) LOG is emptied before the new table's data is durable (the
 *                                 table is fsynced only after LOG was emptied)
 *   corpus-recovery-log-early (10) the same, but only in the flush at open: recovery's own
 *                                 ordering bug, seen only by a crash inside a recovery
 *
 * Durability invariants of the fixed twin (contract: durable_ack, process_safe, prefix,
 * atomic_batch):
 *   1. A record (a whole batch) reaches LOG in one write(): a process kill leaves only whole
 *      records in the page cache.
 *   2. A sync write or sync() is acked only after fdatasync(LOG) succeeded; a failed
 *      fdatasync fails the op and stops the engine (no later ack could be honest).
 *   3. Recovery stops at the first short or checksum-failing record: the state is a prefix.
 *   4. Flush order: write T-(n+1), fsync it, fsync the dir (its entry is durable), and only
 *      then empty LOG (ftruncate + fsync) and unlink T-n (then fsync the dir). At every crash
 *      point a durable table plus LOG holds every durable write. A table stores the sequence
 *      number of its last record and recovery skips LOG records it already holds.
 *   5. Any I/O error inside a write or a flush stops the engine.
 */
#define _GNU_SOURCE
#include "ckv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { TK_OK = 0, TK_NEWFILE_NODIRSYNC = 2, TK_LOG_DELETED_EARLY = 5, TK_RECOVERY_LOG_EARLY = 10 };

#define TK_FLUSH_EVERY 8

typedef struct tablekv {
  int lfd;            /* LOG, O_APPEND */
  unsigned writes;    /* writes since the last flush */
  unsigned table;     /* number of the newest table (0 = none) */
} tablekv;

#define TK(c) ((tablekv *)(c)->priv)

static int dead(ckv *c, int rc) {
  c->dead = 1;
  return rc;
}

static int table_path(char *buf, size_t len, const char *dir, unsigned n) {
  int r = snprintf(buf, len, "%s/T-%06u", dir, n);
  return r < 0 || (size_t)r >= len ? PC_EINVAL : 0;
}

/* Invariant 4. at_open: the flush that ends recovery. */
static int tk_flush_at(ckv *c, int at_open) {
  char path[1100], old[1100];
  unsigned n = TK(c)->table + 1;
  int tfd = -1, rc;
  int late_fsync = c->bug == TK_LOG_DELETED_EARLY || (at_open && c->bug == TK_RECOVERY_LOG_EARLY);
  if ((rc = table_path(path, sizeof path, c->dir, n))) goto fail;
  if ((rc = ckv_write_snapshot(path, &c->mem, c->seq, &tfd))) { ckv_fail(c, rc, "write %s", path); goto fail; }
  if (!late_fsync && fsync(tfd) < 0) { rc = ckv_fail(c, PC_EIO, "fsync(%s)", path); goto fail; }
  if (c->bug != TK_NEWFILE_NODIRSYNC && (rc = ckv_fsync_dir(c->dir))) { ckv_fail(c, rc, "fsync(%s)", c->dir); goto fail; }
  /* the old data goes: LOG is emptied */
  if (ftruncate(TK(c)->lfd, 0) < 0 || fsync(TK(c)->lfd) < 0) {
    rc = ckv_fail(c, PC_EIO, "empty %s/LOG", c->dir);
    goto fail;
  }
  /* BUGS 5 and 10: the table's data becomes durable only now, after LOG was emptied */
  if (late_fsync && fsync(tfd) < 0) { rc = ckv_fail(c, PC_EIO, "fsync(%s)", path); goto fail; }
  close(tfd);
  tfd = -1;
  if (TK(c)->table) {
    if ((rc = table_path(old, sizeof old, c->dir, TK(c)->table))) goto fail;
    if (unlink(old) < 0 && errno != ENOENT) { rc = ckv_fail(c, PC_EIO, "unlink(%s)", old); goto fail; }
  }
  /* BUG 2: for the broken twin this is the first time the new table's entry is durable */
  if ((rc = ckv_fsync_dir(c->dir))) { ckv_fail(c, rc, "fsync(%s)", c->dir); goto fail; }
  TK(c)->table = n;
  TK(c)->writes = 0;
  return 0;
fail:
  if (tfd >= 0) close(tfd);
  return dead(c, rc);
}

static int tk_flush(ckv *c) { return tk_flush_at(c, 0); }

static int tk_sync(ckv *c) {
  if (fdatasync(TK(c)->lfd) == 0) return 0;
  return dead(c, ckv_fail(c, PC_EIO, "fdatasync(%s/LOG)", c->dir));
}

static int tk_write(ckv *c, const pc_kv_op *ops, size_t n, int sync) {
  uint8_t *rec = NULL;
  size_t rl;
  int rc;
  if ((rc = ckv_frame(ops, n, ++c->seq, &rec, &rl))) return ckv_fail(c, rc, "encode");
  rc = ckv_write_all(TK(c)->lfd, rec, rl); /* invariant 1 */
  free(rec);
  if (rc) return dead(c, ckv_fail(c, rc, "append to %s/LOG", c->dir));
  if (sync && (rc = tk_sync(c))) return rc;
  if (++TK(c)->writes >= TK_FLUSH_EVERY) {
    if ((rc = ckv_mem_apply(&c->mem, ops, n))) return rc; /* the table must hold this write */
    if ((rc = tk_flush(c))) return rc;
  }
  return 0;
}

static void tk_close(ckv *c) {
  if (c->priv && TK(c)->lfd >= 0) close(TK(c)->lfd);
  free(c->priv);
  c->priv = NULL;
}

static const ckv_hooks tk_hooks = {tk_write, tk_sync, tk_flush, tk_close};

/* Table numbers present in dir, newest first (at most cap). */
static size_t list_tables(const char *dir, unsigned *out, size_t cap) {
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t n = 0;
  if (!d) return 0;
  while ((e = readdir(d)) && n < cap) {
    unsigned t;
    char extra;
    if (sscanf(e->d_name, "T-%6u%c", &t, &extra) == 1 && t > 0) out[n++] = t;
  }
  closedir(d);
  for (size_t i = 1; i < n; i++) /* insertion sort, descending */
    for (size_t j = i; j > 0 && out[j - 1] < out[j]; j--) {
      unsigned x = out[j]; out[j] = out[j - 1]; out[j - 1] = x;
    }
  return n;
}

static int tk_open(const char *dir, const char *opts, int bug, void **h, char *msg, size_t len) {
  ckv *c = NULL;
  char path[1100];
  unsigned tables[64];
  size_t nt, end, bl = 0;
  uint8_t *buf = NULL;
  int rc;
  (void)opts; /* checked by ckv_t_check_opts: none */
  if ((rc = ckv_new(dir, bug, &tk_hooks, &c, msg, len))) return rc;
  if (!(c->priv = calloc(1, sizeof(tablekv)))) { rc = PC_ENOMEM; goto fail; }
  TK(c)->lfd = -1;
  nt = list_tables(dir, tables, 64);
  for (size_t i = 0; i < nt; i++) {
    if ((rc = table_path(path, sizeof path, dir, tables[i]))) goto fail;
    if (i == 0) TK(c)->table = tables[0]; /* never reuse a number, even of a bad table */
    rc = ckv_load_snapshot(path, &c->mem, &c->seq);
    if (rc == 1) break;
    if (rc != PC_ETARGET) { /* cannot read it: never guess, fail the open */
      snprintf(msg, len, "tablekv: cannot read %s: %s", path, pc_strerror(rc ? rc : PC_EIO));
      rc = rc ? rc : PC_EIO;
      goto fail;
    }
    ckv_mem_free(&c->mem); /* incomplete table (a crashed flush): try the older one */
    c->seq = 0;
  }
  if ((rc = ckv_path(path, sizeof path, dir, "LOG"))) goto fail;
  if ((rc = ckv_read_file(path, &buf, &bl)) < 0) { snprintf(msg, len, "tablekv: cannot read %s", path); goto fail; }
  if (rc == 1 && (rc = ckv_replay(&c->mem, buf, bl, 0, c->seq, &end, &c->seq))) goto fail;
  if ((TK(c)->lfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
    rc = PC_EIO;
    snprintf(msg, len, "tablekv: open %s: %s", path, strerror(errno));
    goto fail;
  }
  /* a flush at open: appends never follow a torn tail, stale tables go */
  if ((rc = tk_flush_at(c, 1))) { snprintf(msg, len, "tablekv: flush at open: %s", c->msg); goto fail; }
  for (size_t i = 0; i < nt; i++) { /* older tables left by crashed flushes */
    if (tables[i] >= TK(c)->table - 1) continue;
    if (table_path(path, sizeof path, dir, tables[i]) == 0) unlink(path);
  }
  free(buf);
  *h = c;
  return 0;
fail:
  free(buf);
  if (c) { tk_close(c); ckv_free(c); }
  return rc ? rc : PC_EIO;
}

CKV_PAIR(pc_corpus_newfile_nodirsync, "corpus-newfile-nodirsync", TK_NEWFILE_NODIRSYNC,
         "tablekv empties its log before the new table's directory entry is durable",
         "tablekv, dir fsynced after creating a table, before the log is emptied", tk_open,
         ckv_t_check_opts, "(none)");
CKV_PAIR(pc_corpus_log_deleted_early, "corpus-log-deleted-early", TK_LOG_DELETED_EARLY,
         "tablekv empties its log before the new table's data is fsynced",
         "tablekv, table fsynced before the log is emptied", tk_open,
         ckv_t_check_opts, "(none)");
CKV_PAIR(pc_corpus_recovery_log_early, "corpus-recovery-log-early", TK_RECOVERY_LOG_EARLY,
         "tablekv's recovery empties its log before the new table's data is fsynced",
         "tablekv, recovery's flush fsyncs the table before the log is emptied", tk_open,
         ckv_t_check_opts, "(none)");
