/*
 * db_snap.c - snapshots, optimistic transactions (D16) and checkpoints (D15).
 */
#define _GNU_SOURCE
#include "db_int.h"
#include "env.h"

#include <errno.h>

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
