/*
 * db_flush.c - flush: a memtable becomes an L0 table, inline (deterministic
 * mode) or in the background (D20).
 */
#define _GNU_SOURCE
#include "db_int.h"
#include "env.h"


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
int sdb__flush_locked(sdb *db) {
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
  if (!(rc = sdb__logw_create(&nw, lp, SDB_WAL_MAGIC, newlog, &db->eb)) &&
      !(rc = sdb__logw_prealloc(&nw, db->opt.wal_prealloc_bytes, &db->eb)) && (rc = sdb__fsync_dir(db->dir)))
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
int sdb__wait_imm_locked(sdb *db) {
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
int sdb__switch_locked(sdb *db) {
  char lp[PATH_MAX];
  sdb_logw nw = {.fd = -1};
  sdb_mem *m;
  int rc;
  if ((rc = sdb__wait_imm_locked(db))) return rc;
  if (sdb__mem_count(db->mem) == 0) return 0; /* nothing to switch */
  if ((rc = sdb__sync_locked(db))) return rc;
  uint64_t newlog = db->vs.next_file++;
  sdb__log_name(lp, sizeof lp, db->dir, newlog);
  if ((rc = sdb__logw_create(&nw, lp, SDB_WAL_MAGIC, newlog, &db->eb)) ||
      (rc = sdb__logw_prealloc(&nw, db->opt.wal_prealloc_bytes, &db->eb))) {
    sdb__logw_close(&nw);
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
int sdb__flush_imm(sdb *db) {
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
uint64_t sdb__smallest_snapshot(const sdb *db) {
  return db->snaps.next != &db->snaps ? db->snaps.next->seq : db->last_seq;
}

int sdb_flush(sdb *db) {
  int rc;
  if (!db) return SDB_EINVAL;
  pthread_mutex_lock(&db->mu);
  if (!(rc = sdb__check_failed(db)) && !(rc = db->bg_mode ? sdb__wait_imm_locked(db) : 0)) rc = sdb__flush_locked(db);
  pthread_mutex_unlock(&db->mu);
  return rc;
}
