/*
 * db_compact.c - leveled compaction (L0..L6), inline or on the background
 * thread (D11-D14, D18).
 */
#define _GNU_SOURCE
#include "db_int.h"
#include "env.h"

#include <inttypes.h>

/* ---- leveled compaction ------------------------------------------------------------ */
uint64_t sdb__level_target(const sdb *db, int l) {
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
  sdb_table **outs;        /* the outputs, opened for the new version (phase 4) */
  int *outlvl;
  size_t nouts;
} compaction;

static void compaction_free(compaction *c, int unlink_outputs, const char *dir) {
  char p[PATH_MAX];
  for (size_t i = 0; c->outs && i < c->nouts; i++) sdb__table_unref(c->outs[i]);
  free(c->outs);
  free(c->outlvl);
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

/* Phase 1: the inputs. At L0 every table (they overlap each other); at L1+
 * the table after the compaction pointer (round robin over the key space);
 * then every table of level+1 that overlaps them. Each input is also listed
 * in c->del for the MANIFEST edit. */
static int pick_inputs(sdb *db, compaction *c) {
  const sdb_version *v = c->ver;
  int level = c->level;
  const void *lo, *hi;
  size_t lon, hin;
  if (!(c->in = calloc(v->n[level] + v->n[level + 1] + 1, sizeof *c->in)) ||
      !(c->del = calloc(v->n[level] + v->n[level + 1] + 1, sizeof *c->del)))
    return sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory");
  if (level == 0) {
    for (size_t i = 0; i < v->n[0]; i++) c->in[c->nin++] = v->t[0][i];
  } else {
    size_t i = 0;
    if (db->has_cptr[level]) {
      while (i < v->n[level] &&
             sdb__ucmp(v->t[level][i]->lo.p, v->t[level][i]->lo.len, db->cptr[level].p, db->cptr[level].len) <= 0)
        i++;
      if (i == v->n[level]) i = 0;
    }
    c->in[c->nin++] = v->t[level][i];
  }
  c->nin0 = c->nin;
  lo = c->in[0]->lo.p, lon = c->in[0]->lo.len, hi = c->in[0]->hi.p, hin = c->in[0]->hi.len;
  for (size_t i = 1; i < c->nin0; i++) {
    if (sdb__ucmp(c->in[i]->lo.p, c->in[i]->lo.len, lo, lon) < 0) lo = c->in[i]->lo.p, lon = c->in[i]->lo.len;
    if (sdb__ucmp(c->in[i]->hi.p, c->in[i]->hi.len, hi, hin) > 0) hi = c->in[i]->hi.p, hin = c->in[i]->hi.len;
  }
  for (size_t i = 0; i < v->n[level + 1]; i++) {
    sdb_table *t = v->t[level + 1][i];
    if (sdb__ucmp(t->hi.p, t->hi.len, lo, lon) >= 0 && sdb__ucmp(t->lo.p, t->lo.len, hi, hin) <= 0) c->in[c->nin++] = t;
  }
  if (level > 0 && sdb__buf_set(&db->cptr[level], hi, hin))
    return sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory");
  db->has_cptr[level] = level > 0;
  for (size_t i = 0; i < c->nin; i++) {
    c->del[i].level = i < c->nin0 ? level : level + 1;
    c->del[i].number = c->in[i]->number;
  }
  return 0;
}

/* Phase 2, one input and nothing under it to merge with: the table moves
 * down a level; its file stays as it is. */
static int move_down(sdb *db, compaction *c) {
  const sdb_fmeta *f;
  if (fmeta_of(db, c->in[0]->number, &f) || !(c->out = calloc(1, sizeof *c->out)))
    return sdb__err(&db->eb, fmeta_of(db, c->in[0]->number, &f) ? SDB_ECORRUPT : SDB_ENOMEM,
                    "compaction: table %" PRIu64 " missing from the live set", c->in[0]->number);
  c->out[0].level = c->level + 1;
  c->out[0].number = f->number;
  c->out[0].size = f->size;
  if (sdb__buf_set(&c->out[0].smallest, f->smallest.p, f->smallest.len) ||
      sdb__buf_set(&c->out[0].largest, f->largest.p, f->largest.len)) {
    c->nout = 1;
    return sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory");
  }
  c->nout = c->capout = 1;
  db->trivial_moves++;
  return 0;
}

/* Phase 2: the inputs merged into new tables of level+1, their directory
 * entries made durable before the edit (D11). In background mode the merge
 * runs without the lock and writers go on (D18). An error, or a handle that
 * failed meanwhile (no more MANIFEST edits), is returned; the caller then
 * removes the outputs, which are not live. */
static int merge_inputs(sdb *db, compaction *c) {
  sdb_eb ceb = {{0}};
  uint64_t snap = sdb__smallest_snapshot(db);
  int rc;
  if (db->bg_mode) {
    c->unlocked = 1;
    c->eb = &ceb;
    pthread_mutex_unlock(&db->mu);
  }
  rc = compaction_merge(db, c, snap);
  if (!c->unlocked) db->blocks_raw += c->raw, db->blocks_zlib += c->zblocks;
  if (!rc && c->nout && (rc = sdb__fsync_dir(db->dir))) /* D11 */
    rc = sdb__ioerr(c->eb, "fsync directory", db->dir, rc);
  if (c->unlocked) {
    pthread_mutex_lock(&db->mu);
    db->blocks_raw += c->raw, db->blocks_zlib += c->zblocks;
    if (rc) memcpy(db->eb.msg, ceb.msg, sizeof ceb.msg);
    c->eb = &db->eb;
    c->unlocked = 0;
  }
  return rc ? rc : db->failed;
}

/* Phase 3: one MANIFEST edit adds the outputs and deletes the inputs (D11);
 * once it is durable, the live set says so. A failure fails the handle (D9). */
static int record_edit(sdb *db, compaction *c) {
  sdb_edit e = {0, 1, 0, 0, db->vs.next_file, 0, c->out, c->nout, c->del, c->nin, 0, 0};
  int rc;
  if ((rc = sdb__manifest_append(&db->man, &e, &db->eb))) return sdb__enter_failed(db, rc); /* the edit may or may not be on disk */
  for (size_t i = 0; i < c->nin; i++) sdb__vstate_del(&db->vs, c->in[i]->number);
  for (size_t i = 0; i < c->nout; i++)
    if (sdb__vstate_add(&db->vs, &c->out[i]))
      return sdb__enter_failed(db, sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory"));
  return 0;
}

/* Phase 4, after the edit: the outputs are opened (a moved table is kept),
 * the inputs marked obsolete, unlinked when the last version or iterator
 * using them lets go (D12), and a new version made from the CURRENT one,
 * which may have gained L0 tables from flushes meanwhile (D18). A failure
 * fails the handle: the MANIFEST already says what is live. */
static int install_outputs(sdb *db, compaction *c) {
  int level = c->level, rc;
  sdb_version *nv, *cur;
  if (!(c->outs = calloc(c->nout + 1, sizeof *c->outs)) || !(c->outlvl = calloc(c->nout + 1, sizeof *c->outlvl)))
    return sdb__enter_failed(db, sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory"));
  if (c->nin == 1 && c->nout == 1 && c->out[0].number == c->in[0]->number) {
    sdb__table_ref(c->in[0]);
    c->outs[c->nouts] = c->in[0];
    c->outlvl[c->nouts++] = level + 1;
  } else {
    for (size_t i = 0; i < c->nout; i++) {
      char p[PATH_MAX];
      sdb_table *t;
      if ((rc = sdb__table_open(sdb__sst_name(p, sizeof p, db->dir, c->out[i].number), c->out[i].number,
                                c->out[i].size, &t, &db->eb)))
        return sdb__enter_failed(db, rc);
      sdb__table_attach(t, db->cache, &db->fdl);
      c->outs[c->nouts] = t;
      c->outlvl[c->nouts++] = level + 1;
      if (sdb__buf_set(&t->lo, c->out[i].smallest.p, c->out[i].smallest.len - 8) ||
          sdb__buf_set(&t->hi, c->out[i].largest.p, c->out[i].largest.len - 8))
        return sdb__enter_failed(db, sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory"));
    }
    for (size_t i = 0; i < c->nin; i++) {
      c->in[i]->obsolete = 1;
      db->compact_read += c->in[i]->size;
      db->level_read[i < c->nin0 ? level : level + 1] += c->in[i]->size;
    }
    for (size_t i = 0; i < c->nout; i++)
      db->compact_written += c->out[i].size, db->level_written[level + 1] += c->out[i].size;
    db->compactions++;
  }
  cur = db->ver;
  if (!(nv = sdb__ver_edit(cur, c->del, c->nin, c->outs, c->outlvl, c->nouts)))
    return sdb__enter_failed(db, sdb__err(&db->eb, SDB_ENOMEM, "compaction: out of memory"));
  db->ver = nv;
  sdb__ver_unref(cur);
  return 0;
}

/* Compacts `level` into level+1 (D11, D12) in four phases: pick the inputs,
 * move or merge them, record the result in the MANIFEST, install the new
 * version. The input version is held throughout: its tables stay alive
 * while the merge runs unlocked. */
static int compact_level(sdb *db, int level) {
  sdb_version *v = db->ver;
  compaction c = {.level = level, .eb = &db->eb, .ver = v};
  int rc;
  __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
  if ((rc = pick_inputs(db, &c))) goto out;
  if (c.nin0 == 1 && c.nin == 1) {
    if ((rc = move_down(db, &c))) goto out;
  } else if ((rc = merge_inputs(db, &c))) {
    compaction_free(&c, 1, db->dir); /* outputs are not live: remove them */
    sdb__ver_unref(v);
    return rc;
  }
  if (!(rc = record_edit(db, &c))) rc = install_outputs(db, &c);
out:
  sdb__ver_unref(v);
  compaction_free(&c, 0, db->dir);
  return rc;
}

/* Compacts, inline, until no level is over its target. Runs after each
 * flush, so it happens at points fixed by the workload (deterministic). */
int sdb__compact_locked(sdb *db) {
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
void *sdb__bg_main(void *arg) {
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
