/*
 * memtable.c - skiplist memtable with an arena.
 *
 * Nodes are never removed or moved, and a node is fully built before it is
 * linked with a release store, so an iterator reading with acquire loads sees
 * a consistent list while the single writer inserts.
 */
#include "memtable.h"

#define MAXH 12
#define ARENA_BLOCK (256 * 1024)

typedef struct mnode {
  size_t ikn, vn;
  uint8_t *kv; /* internal key then value */
  struct mnode *next[];
} mnode;

typedef struct ablock {
  struct ablock *next;
  size_t used, cap;
  _Alignas(16) uint8_t data[];
} ablock;

struct sdb_mem {
  int refs;
  int height;
  uint32_t rnd;
  size_t usage, count;
  ablock *blocks;
  mnode *head;
  mnode *tail[MAXH]; /* last node of each level (NULL: none yet): appends skip the search */
};

static void *arena_alloc(sdb_mem *m, size_t n) {
  n = (n + 15) & ~(size_t)15;
  ablock *b = m->blocks;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
    ablock *nb = malloc(sizeof *nb + cap);
    if (!nb) return NULL;
    nb->used = 0;
    nb->cap = cap;
    if (cap == n && b) { /* big one-off: keep the current block for small ones */
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      m->blocks = nb;
    }
    b = nb;
  }
  void *p = b->data + b->used;
  b->used += n;
  m->usage += n; /* bytes in use, not block capacity: small memtables work */
  return p;
}

sdb_mem *sdb__mem_new(void) {
  sdb_mem *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->refs = 1;
  m->height = 1;
  m->rnd = 0x2545F491u; /* fixed seed: deterministic layout */
  m->head = arena_alloc(m, sizeof(mnode) + MAXH * sizeof(mnode *));
  if (!m->head) {
    free(m);
    return NULL;
  }
  memset(m->head, 0, sizeof(mnode) + MAXH * sizeof(mnode *));
  return m;
}

void sdb__mem_ref(sdb_mem *m) { __atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED); }

void sdb__mem_unref(sdb_mem *m) {
  if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
  for (ablock *b = m->blocks, *n; b; b = n) {
    n = b->next;
    free(b);
  }
  free(m);
}

size_t sdb__mem_usage(const sdb_mem *m) { return m->usage; }
size_t sdb__mem_count(const sdb_mem *m) { return m->count; }

static inline mnode *nx(mnode *n, int i) { return __atomic_load_n(&n->next[i], __ATOMIC_ACQUIRE); }

static int node_cmp(const mnode *n, const uint8_t *ik, size_t ikn) { return sdb__icmp(n->kv, n->ikn, ik, ikn); }

/* Last node < ik at each level into prev (if non-NULL); returns first node >= ik. */
static mnode *find_ge(sdb_mem *m, const uint8_t *ik, size_t ikn, mnode **prev) {
  mnode *x = m->head;
  int lvl = __atomic_load_n(&m->height, __ATOMIC_ACQUIRE) - 1;
  for (;;) {
    mnode *n = nx(x, lvl);
    if (n && node_cmp(n, ik, ikn) < 0) {
      x = n;
      continue;
    }
    if (prev) prev[lvl] = x;
    if (lvl == 0) return n;
    lvl--;
  }
}

int sdb__mem_add(sdb_mem *m, uint64_t seq, int type, const void *k, size_t kn, const void *v, size_t vn) {
  int h = 1;
  while (h < MAXH) {
    m->rnd = m->rnd * 1103515245u + 12345u;
    if ((m->rnd >> 16) % 4) break;
    h++;
  }
  mnode *n = arena_alloc(m, sizeof(mnode) + (size_t)h * sizeof(mnode *));
  uint8_t *kv = n ? arena_alloc(m, kn + 8 + vn) : NULL;
  if (!kv) return SDB_ENOMEM;
  if (kn) memcpy(kv, k, kn);
  sdb__enc64(kv + kn, sdb__trailer(seq, type));
  if (vn) memcpy(kv + kn + 8, v, vn);
  n->kv = kv;
  n->ikn = kn + 8;
  n->vn = vn;
  mnode *prev[MAXH];
  if (m->tail[0] && node_cmp(m->tail[0], kv, kn + 8) < 0) {
    /* in key order after everything (sequential loads): the last node of
     * each level is the predecessor there */
    for (int i = 0; i < MAXH; i++) prev[i] = m->tail[i] ? m->tail[i] : m->head;
  } else {
    find_ge(m, kv, kn + 8, prev);
  }
  if (h > m->height) {
    for (int i = m->height; i < h; i++) prev[i] = m->head;
    __atomic_store_n(&m->height, h, __ATOMIC_RELEASE);
  }
  for (int i = 0; i < h; i++) {
    n->next[i] = prev[i]->next[i];
    __atomic_store_n(&prev[i]->next[i], n, __ATOMIC_RELEASE);
    if (!n->next[i]) m->tail[i] = n;
  }
  m->count++;
  return 0;
}

int sdb__mem_get(sdb_mem *m, const void *k, size_t kn, uint64_t snap, const uint8_t **v, size_t *vn) {
  uint8_t stackbuf[256];
  uint8_t *ik = kn + 8 <= sizeof stackbuf ? stackbuf : malloc(kn + 8);
  if (!ik) return -1;
  if (kn) memcpy(ik, k, kn);
  sdb__enc64(ik + kn, sdb__trailer(snap, SDB_TYPE_SEEK));
  mnode *n = find_ge(m, ik, kn + 8, NULL);
  if (ik != stackbuf) free(ik);
  if (!n || sdb__ucmp(n->kv, n->ikn - 8, k, kn)) return -1;
  int type = n->kv[n->ikn - 8] & 0xff;
  *v = n->kv + n->ikn;
  *vn = n->vn;
  return type == SDB_TYPE_PUT ? SDB_TYPE_PUT : SDB_TYPE_DEL;
}

/* ---- iterator -------------------------------------------------------------- */
typedef struct mem_iter {
  sdb_iiter base;
  sdb_mem *m;
  mnode *cur;
} mem_iter;

static int mi_valid(sdb_iiter *it) { return ((mem_iter *)it)->cur != NULL; }
static void mi_seek_first(sdb_iiter *it) {
  mem_iter *i = (mem_iter *)it;
  i->cur = nx(i->m->head, 0);
}
static void mi_seek(sdb_iiter *it, const uint8_t *k, size_t n) {
  mem_iter *i = (mem_iter *)it;
  i->cur = find_ge(i->m, k, n, NULL);
}
static void mi_next(sdb_iiter *it) {
  mem_iter *i = (mem_iter *)it;
  if (i->cur) i->cur = nx(i->cur, 0);
}
static const uint8_t *mi_key(sdb_iiter *it, size_t *n) {
  mem_iter *i = (mem_iter *)it;
  *n = i->cur->ikn;
  return i->cur->kv;
}
static const uint8_t *mi_value(sdb_iiter *it, size_t *n) {
  mem_iter *i = (mem_iter *)it;
  *n = i->cur->vn;
  return i->cur->kv + i->cur->ikn;
}
static int mi_status(sdb_iiter *it) { return 0; }
static const char *mi_errmsg(sdb_iiter *it) { return ""; }
static void mi_free(sdb_iiter *it) {
  mem_iter *i = (mem_iter *)it;
  sdb__mem_unref(i->m);
  free(i);
}
static const sdb_iiter_ops mem_iter_ops = {mi_valid, mi_seek_first, mi_seek,   mi_next, mi_key,
                                           mi_value, mi_status,     mi_errmsg, mi_free, NULL};

sdb_iiter *sdb__mem_iter(sdb_mem *m) {
  mem_iter *i = calloc(1, sizeof *i);
  if (!i) return NULL;
  i->base.ops = &mem_iter_ops;
  sdb__mem_ref(m);
  i->m = m;
  return &i->base;
}
