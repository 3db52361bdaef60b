/*
 * db_read.c - reads: point gets, iterators (merge of memtables, L0 tables and
 * levels), range delete.
 */
#define _GNU_SOURCE
#include "db_int.h"


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
  /* An empty memtable is no child: whatever is added to it later has a
   * sequence above db->last_seq (writes apply under db->mu, then raise it),
   * so above it->snap, and this iterator would skip it anyway. */
  int mem = sdb__mem_count(db->mem) > 0, imm = db->imm && sdb__mem_count(db->imm) > 0;
  size_t want = (size_t)(mem + imm) + it->ver->n[0]; /* memtables, each L0 table, one per non-empty level */
  for (int l = 1; l < SDB_NUM_LEVELS; l++) want += it->ver->n[l] > 0;
  kids = calloc(want ? want : 1, sizeof *kids);
  if (kids && mem && (kids[n] = sdb__mem_iter(db->mem))) n++;
  if (kids && imm && (kids[n] = sdb__mem_iter(db->imm))) n++;
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
