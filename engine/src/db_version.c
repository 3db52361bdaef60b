/*
 * db_version.c - versions (the live tables of each level, refcounted) and the
 * level iterator.
 */
#define _GNU_SOURCE
#include "db_int.h"


/* ---- versions ----------------------------------------------------------------- */
void sdb__ver_unref(sdb_version *v) {
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
sdb_version *sdb__ver_edit(const sdb_version *old, const sdb_fdel *del, size_t ndel, sdb_table *const *add,
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
size_t sdb__level_find(const sdb_version *v, int l, const void *k, size_t kn) {
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
  int prepped; /* li_seek_prep ran: cur is on the next seek's table */
} level_iter;

/* The iterator on table i (none past the end): the one in hand is pointed at
 * the new table rather than freed, so a seek allocates nothing. */
static void li_open(level_iter *l, size_t i) {
  l->i = i;
  if (i >= l->n) {
    if (l->cur) l->cur->ops->free(l->cur);
    l->cur = NULL;
  } else if (l->cur) {
    sdb__table_iter_retarget(l->cur, l->t[i]);
  } else if (!(l->cur = sdb__table_iter(l->t[i]))) {
    l->nomem = 1;
  }
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
  l->prepped = 0;
  li_open(l, 0);
  if (l->cur) l->cur->ops->seek_first(l->cur);
  li_skip(l);
}
static void li_seek_prep(sdb_iiter *it, const uint8_t *k, size_t n) {
  level_iter *l = (level_iter *)it;
  size_t lo = 0, hi = l->n; /* first table whose largest user key >= k's */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (sdb__ucmp(l->t[mid]->hi.p, l->t[mid]->hi.len, k, n - 8) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (!l->cur || lo != l->i || l->cur->ops->status(l->cur)) li_open(l, lo); /* else: same table, its block pin kept */
  if (l->cur) l->cur->ops->seek_prep(l->cur, k, n);
  l->prepped = 1;
}
static void li_seek(sdb_iiter *it, const uint8_t *k, size_t n) {
  level_iter *l = (level_iter *)it;
  if (!l->prepped) li_seek_prep(it, k, n);
  l->prepped = 0;
  if (l->cur) l->cur->ops->seek(l->cur, k, n);
  li_skip(l);
}
static void li_next(sdb_iiter *it) {
  level_iter *l = (level_iter *)it;
  l->prepped = 0;
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
                                             li_value, li_status,     li_errmsg, li_free, li_seek_prep};

sdb_iiter *sdb__level_iter_new(sdb_table **t, size_t n) {
  level_iter *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->base.ops = &level_iter_ops;
  l->t = t;
  l->n = n;
  return &l->base;
}

int sdb__table_covers(const sdb_table *t, const void *k, size_t kn) {
  return sdb__ucmp(k, kn, t->lo.p, t->lo.len) >= 0 && sdb__ucmp(k, kn, t->hi.p, t->hi.len) <= 0;
}

uint64_t sdb__level_bytes(const sdb_version *v, int l) {
  uint64_t b = 0;
  for (size_t i = 0; i < v->n[l]; i++) b += v->t[l][i]->size;
  return b;
}
