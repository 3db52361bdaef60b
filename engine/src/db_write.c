/*
 * db_write.c - the write path: WAL record, memtable, sync, throttling, group
 * commit (D17), batches.
 */
#define _GNU_SOURCE
#include "db_int.h"
#include "wal_format.h"

#include <inttypes.h>
#include <time.h>
#include <unistd.h>

/* ---- writes ------------------------------------------------------------------- */
int sdb__sync_locked(sdb *db) {
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
int sdb__throttle_locked(sdb *db) {
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

int sdb__write_locked(sdb *db, const uint8_t *ops, size_t n, uint32_t count, int sync) {
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

int sdb__encode_op(sdb_buf *b, int type, const void *k, size_t kn, const void *v, size_t vn) {
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
