/*
 * table.c - SSTable builder and reader (docs/format/sstable.md).
 *
 * Invariants kept here:
 *  (T1) A table is written completely (every block, then the footer last) and
 *       fsynced before sdb__tb_finish returns; the caller makes its directory
 *       entry durable and only then records it in the MANIFEST (db.c, D4).
 *  (T2) Every block read is checked against its checksum (confirmed by a
 *       second read, like log.c L3) before any byte of it is used. A block
 *       read through a table's mapping (mmap_reads) is checked the first time
 *       it is used in that mapping and marked verified (t->verified); a
 *       mismatch is reported at once (a second look at a mapping sees the
 *       same page-cache bytes) and never marked. Dropping the mapping drops
 *       the marks.
 */
#include "table.h"

#include "env.h"
#include "sstable_format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

/* ---- block builder ----------------------------------------------------------- */
typedef struct sdb_bb {
  sdb_buf data, restarts, last;
  int counter, interval;
  size_t n;
} sdb_bb;

static int bb_add(sdb_bb *b, const uint8_t *k, size_t kn, const void *v, size_t vn) {
  size_t shared = 0;
  int rc;
  if (b->counter < b->interval) {
    size_t m = kn < b->last.len ? kn : b->last.len;
    while (shared < m && b->last.p[shared] == k[shared]) shared++;
  } else {
    b->counter = 0;
  }
  if (shared == 0 && b->counter == 0) {
    if ((rc = sdb__buf_u32(&b->restarts, (uint32_t)b->data.len))) return rc;
  }
  if ((rc = sdb__buf_var(&b->data, shared)) || (rc = sdb__buf_var(&b->data, kn - shared)) ||
      (rc = sdb__buf_var(&b->data, vn)) || (rc = sdb__buf_add(&b->data, k + shared, kn - shared)) ||
      (rc = sdb__buf_add(&b->data, v, vn)) || (rc = sdb__buf_set(&b->last, k, kn)))
    return rc;
  b->counter++;
  b->n++;
  return 0;
}

/* Appends the restart array; the block contents are then b->data. */
static int bb_finish(sdb_bb *b) {
  int rc;
  if (b->restarts.len == 0 && (rc = sdb__buf_u32(&b->restarts, 0))) return rc;
  if ((rc = sdb__buf_add(&b->data, b->restarts.p, b->restarts.len))) return rc;
  return sdb__buf_u32(&b->data, (uint32_t)(b->restarts.len / 4));
}

static void bb_reset(sdb_bb *b) {
  b->data.len = b->restarts.len = b->last.len = 0;
  b->counter = 0;
  b->n = 0;
}

static void bb_free(sdb_bb *b) {
  if (!b) return;
  sdb__buf_free(&b->data);
  sdb__buf_free(&b->restarts);
  sdb__buf_free(&b->last);
  free(b);
}

/* ---- table builder ----------------------------------------------------------- */
static int tb_flushbuf(sdb_tb *b, sdb_eb *eb) {
  int rc = sdb__write_all(b->fd, b->fbuf.p, b->fbuf.len);
  if (rc) return sdb__ioerr(eb, "write", b->path, rc);
  b->fbuf.len = 0;
  return 0;
}

/* Deflates a data block into b->zbuf (raw length varint | zlib stream);
 * returns 1 if that is smaller than the block, else 0 (store it raw). */
static int tb_deflate(sdb_tb *b, const uint8_t *c, size_t n) {
  uLongf zn = compressBound((uLong)n);
  b->zbuf.len = 0;
  if (sdb__buf_var(&b->zbuf, n) || sdb__buf_reserve(&b->zbuf, (size_t)zn)) return 0;
  if (compress2(b->zbuf.p + b->zbuf.len, &zn, c, (uLong)n, b->zlevel) != Z_OK) return 0;
  b->zbuf.len += (size_t)zn;
  return b->zbuf.len < n;
}

/* Writes contents + trailer; *off and *len get the block handle. A data
 * block is deflated when compression is on and that makes it smaller. */
static int tb_write_block(sdb_tb *b, const uint8_t *c, size_t n, uint64_t *off, uint64_t *len, int data,
                          sdb_eb *eb) {
  uint8_t type = SDB_BLOCK_RAW;
  int rc;
  size_t start = b->fbuf.len;
  b->raw_bytes += n;
  if (data && b->compression == SDB_COMPRESSION_ZLIB && tb_deflate(b, c, n)) {
    type = SDB_BLOCK_ZLIB;
    c = b->zbuf.p;
    n = b->zbuf.len;
    b->zblocks++;
  }
  if (sdb__buf_add(&b->fbuf, c, n) || sdb__buf_add(&b->fbuf, &type, 1) || sdb__buf_u32(&b->fbuf, 0))
    return sdb__err(eb, SDB_ENOMEM, "build %s: out of memory", b->path);
  sdb__enc32(b->fbuf.p + start + n + 1, sdb__cksum(b->fbuf.p + start, n + 1)); /* over contents||type */
  *off = b->off;
  *len = n;
  b->off += n + SDB_SST_TRAILER;
  if (b->fbuf.len >= (1u << 20) && (rc = tb_flushbuf(b, eb))) return rc;
  return 0;
}

static int handle_enc(uint8_t *p, uint64_t off, uint64_t len) {
  size_t n = sdb__encvar(p, off);
  return (int)(n + sdb__encvar(p + n, len));
}

static int tb_finish_data_block(sdb_tb *b, sdb_eb *eb) {
  uint64_t off, len;
  uint8_t h[20];
  int rc;
  if (b->data->n == 0) return 0;
  if (bb_finish(b->data)) return sdb__err(eb, SDB_ENOMEM, "build %s: out of memory", b->path);
  if ((rc = tb_write_block(b, b->data->data.p, b->data->data.len, &off, &len, 1, eb))) return rc;
  if (bb_add(b->index, b->lastkey.p, b->lastkey.len, h, (size_t)handle_enc(h, off, len)))
    return sdb__err(eb, SDB_ENOMEM, "build %s: out of memory", b->path);
  bb_reset(b->data);
  b->nblocks++;
  return 0;
}

int sdb__tb_open(sdb_tb *b, const char *path, size_t block_bytes, int interval, sdb_eb *eb) {
  memset(b, 0, sizeof *b);
  snprintf(b->path, sizeof b->path, "%s", path);
  b->block_bytes = block_bytes ? block_bytes : 4096;
  b->interval = interval > 0 ? interval : 16;
  b->min_seq = UINT64_MAX;
  b->bloom_bits = SDB_BLOOM_BITS_PER_KEY;
  b->zlevel = 6;
  b->data = calloc(1, sizeof *b->data);
  b->index = calloc(1, sizeof *b->index);
  b->fd = -1;
  if (!b->data || !b->index) {
    sdb__tb_free(b, 0);
    return sdb__err(eb, SDB_ENOMEM, "build %s: out of memory", path);
  }
  b->data->interval = b->interval;
  b->index->interval = 1;
  b->fd = sdb__create_new(path, 0); /* never over an existing name (a symlink) */
  if (b->fd < 0) {
    int rc = sdb__ioerr(eb, "create", path, b->fd);
    b->fd = -1;
    sdb__tb_free(b, 0);
    return rc;
  }
  return 0;
}

int sdb__tb_add(sdb_tb *b, const uint8_t *ik, size_t ikn, const void *v, size_t vn, sdb_eb *eb) {
  int rc;
  if (b->entries == 0 && sdb__buf_set(&b->smallest, ik, ikn)) goto nomem;
  if (bb_add(b->data, ik, ikn, v, vn) || sdb__buf_set(&b->lastkey, ik, ikn) ||
      sdb__buf_u64(&b->hashes, XXH3_64bits(ik, ikn - 8)))
    goto nomem;
  uint64_t seq = sdb__dec64(ik + ikn - 8) >> 8;
  if (seq < b->min_seq) b->min_seq = seq;
  if (seq > b->max_seq) b->max_seq = seq;
  b->entries++;
  if (b->data->data.len >= b->block_bytes && (rc = tb_finish_data_block(b, eb))) return rc;
  return 0;
nomem:
  return sdb__err(eb, SDB_ENOMEM, "build %s: out of memory", b->path);
}

uint64_t sdb__tb_estimate(const sdb_tb *b) { return b->off + b->data->data.len; }

/* Bloom filter: bits[nbits/8] | probes u8; probe i of a key with hash h sets
 * bit (h1 + i*h2) mod nbits, h1 = low 32 bits of h, h2 = high 32 bits | 1. */
static int bloom_build(const sdb_buf *hashes, int bits_per_key, sdb_buf *out) {
  size_t n = hashes->len / 8;
  uint64_t nbits = (uint64_t)n * (uint64_t)bits_per_key;
  /* k = bits_per_key * ln 2, as in the usual analysis; at least 1, at most 30 */
  uint32_t probes = (uint32_t)(bits_per_key * 69 / 100);
  if (probes < 1) probes = 1;
  if (probes > 30) probes = 30;
  if (nbits < 64) nbits = 64;
  nbits = (nbits + 7) / 8 * 8;
  out->len = 0;
  if (sdb__buf_reserve(out, (size_t)nbits / 8 + 1)) return SDB_ENOMEM;
  memset(out->p, 0, (size_t)nbits / 8);
  for (size_t i = 0; i < n; i++) {
    uint64_t h = sdb__dec64(hashes->p + 8 * i);
    uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;
    for (uint32_t j = 0; j < probes; j++) {
      uint64_t bit = ((uint64_t)h1 + (uint64_t)j * h2) % nbits;
      out->p[bit / 8] |= (uint8_t)(1u << (bit % 8));
    }
  }
  out->p[nbits / 8] = (uint8_t)probes;
  out->len = (size_t)nbits / 8 + 1;
  return 0;
}

static int bloom_may_contain(const uint8_t *f, size_t len, const void *k, size_t kn) {
  if (len < 2) return 1;
  uint64_t nbits = (uint64_t)(len - 1) * 8, h = XXH3_64bits(k, kn);
  uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1, probes = f[len - 1];
  /* probe j is (h1 + j*h2) mod nbits, stepped without a division per probe */
  uint64_t bit = h1 % nbits, step = h2 % nbits;
  for (uint32_t j = 0; j < probes; j++) {
    if (!(f[bit / 8] & (1u << (bit % 8)))) return 0;
    bit += step;
    if (bit >= nbits) bit -= nbits;
  }
  return 1;
}

int sdb__table_may_contain(const sdb_table *t, const void *k, size_t kn) {
  return !t->filter || bloom_may_contain(t->filter, t->filter_len, k, kn);
}

static int props_add(sdb_bb *bb, const char *name, uint64_t v) {
  uint8_t t[10];
  return bb_add(bb, (const uint8_t *)name, strlen(name), t, sdb__encvar(t, v));
}

int sdb__tb_finish(sdb_tb *b, uint64_t *size, sdb_eb *eb) {
  uint64_t poff, plen, moff, mlen, ioff, ilen, foff, flen;
  uint8_t h[20], foot[SDB_SST_FOOTER];
  sdb_buf filter = {0};
  int rc;
  sdb_bb props = {.interval = 1}, meta = {.interval = 1};
  if ((rc = tb_finish_data_block(b, eb))) goto out;
  if (sdb__buf_set(&b->largest, b->lastkey.p, b->lastkey.len)) goto nomem;
  /* properties: names in sorted order */
  if (props_add(&props, "data_blocks", b->nblocks) || props_add(&props, "entries", b->entries) ||
      props_add(&props, "max_seq", b->entries ? b->max_seq : 0) ||
      props_add(&props, "min_seq", b->entries ? b->min_seq : 0) || bb_finish(&props))
    goto nomem;
  if (b->bloom_bits > 0) {
    if (bloom_build(&b->hashes, b->bloom_bits, &filter)) goto nomem;
    if ((rc = tb_write_block(b, filter.p, filter.len, &foff, &flen, 0, eb))) goto out;
  }
  if ((rc = tb_write_block(b, props.data.p, props.data.len, &poff, &plen, 0, eb))) goto out;
  /* metaindex names in sorted order */
  if ((b->bloom_bits > 0 &&
       bb_add(&meta, (const uint8_t *)SDB_FILTER_NAME, strlen(SDB_FILTER_NAME), h, (size_t)handle_enc(h, foff, flen))) ||
      bb_add(&meta, (const uint8_t *)SDB_PROPS_NAME, strlen(SDB_PROPS_NAME), h, (size_t)handle_enc(h, poff, plen)) ||
      bb_finish(&meta))
    goto nomem;
  if ((rc = tb_write_block(b, meta.data.p, meta.data.len, &moff, &mlen, 0, eb))) goto out;
  if (bb_finish(b->index)) goto nomem;
  if ((rc = tb_write_block(b, b->index->data.p, b->index->data.len, &ioff, &ilen, 0, eb))) goto out;
  sdb__enc64(foot, moff);
  sdb__enc64(foot + 8, mlen);
  sdb__enc64(foot + 16, ioff);
  sdb__enc64(foot + 24, ilen);
  sdb__enc32(foot + 32, SDB_SST_VERSION);
  sdb__enc32(foot + 36, sdb__cksum(foot, 36));
  memcpy(foot + 40, SDB_SST_MAGIC, 8);
  if (sdb__buf_add(&b->fbuf, foot, sizeof foot)) goto nomem;
  b->off += sizeof foot;
  if ((rc = tb_flushbuf(b, eb))) goto out;
  if (sdb__env->fsync(b->fd) < 0) { /* (T1) */
    rc = sdb__ioerr(eb, "fsync", b->path, -errno);
    goto out;
  }
  if (sdb__env->close(b->fd) < 0) {
    b->fd = -1;
    rc = sdb__ioerr(eb, "close", b->path, -errno);
    goto out;
  }
  b->fd = -1;
  *size = b->off;
  rc = 0;
  goto out;
nomem:
  rc = sdb__err(eb, SDB_ENOMEM, "build %s: out of memory", b->path);
out:
  sdb__buf_free(&props.data), sdb__buf_free(&props.restarts), sdb__buf_free(&props.last);
  sdb__buf_free(&meta.data), sdb__buf_free(&meta.restarts), sdb__buf_free(&meta.last);
  sdb__buf_free(&filter);
  return rc;
}

void sdb__tb_free(sdb_tb *b, int unlink_file) {
  if (b->fd >= 0) sdb__env->close(b->fd);
  b->fd = -1;
  if (unlink_file) sdb__env->unlink(b->path);
  bb_free(b->data);
  bb_free(b->index);
  b->data = b->index = NULL;
  sdb__buf_free(&b->fbuf);
  sdb__buf_free(&b->lastkey);
  sdb__buf_free(&b->smallest);
  sdb__buf_free(&b->largest);
  sdb__buf_free(&b->hashes);
  sdb__buf_free(&b->zbuf);
}

/* ---- block reader ------------------------------------------------------------ */

typedef struct biter {
  const uint8_t *d;
  size_t lim; /* start of the restart array */
  const uint8_t *rs;
  uint32_t nr;
  size_t cur, nxt;
  sdb_buf key;
  const uint8_t *val;
  size_t vn;
  int bad;
} biter;

static int bi_init(biter *b, const uint8_t *d, size_t n) {
  sdb_buf keep = b->key;
  memset(b, 0, sizeof *b);
  b->key = keep;
  b->key.len = 0;
  if (n < 4) return -1;
  b->nr = sdb__dec32(d + n - 4);
  if (b->nr == 0 || (uint64_t)b->nr * 4 + 4 > n) return -1;
  b->d = d;
  b->lim = n - 4 - (size_t)b->nr * 4;
  b->rs = d + b->lim;
  b->cur = b->lim;
  return 0;
}

static void bi_parse(biter *b) {
  uint64_t sh, ns, vn;
  const uint8_t *p = b->d + b->cur, *end = b->d + b->lim;
  if (b->cur >= b->lim) return;
  if (!(p = sdb__decvar(p, end, &sh)) || !(p = sdb__decvar(p, end, &ns)) || !(p = sdb__decvar(p, end, &vn)) ||
      sh > b->key.len || ns > (uint64_t)(end - p) || vn > (uint64_t)(end - p) - ns) {
    b->bad = 1;
    b->cur = b->lim;
    return;
  }
  b->key.len = (size_t)sh;
  if (sdb__buf_add(&b->key, p, (size_t)ns)) {
    b->bad = 1;
    b->cur = b->lim;
    return;
  }
  b->val = p + ns;
  b->vn = (size_t)vn;
  b->nxt = (size_t)(b->val + vn - b->d);
}

static int bi_valid(const biter *b) { return b->cur < b->lim && !b->bad; }

/* Check only (F1 in docs/fuzzing.md): lookups binary-search the restart array
 * and parse an entry at each restart with an empty key, so every restart must
 * be the offset of an entry that shares nothing with its predecessor, in
 * increasing order, the first at 0. Walks entry headers only. Returns the
 * index of the first bad restart, or -1 when the array is sound. */
static int64_t bi_bad_restart(const biter *b) {
  size_t off = 0;
  uint32_t j = 0;
  if (sdb__dec32(b->rs) != 0) return 0;
  while (off < b->lim) {
    uint64_t sh, ns, vn;
    const uint8_t *p = b->d + off, *end = b->d + b->lim;
    while (j < b->nr && sdb__dec32(b->rs + 4 * j) < off) return j; /* inside an entry */
    if (!(p = sdb__decvar(p, end, &sh)) || !(p = sdb__decvar(p, end, &ns)) || !(p = sdb__decvar(p, end, &vn)) ||
        ns > (uint64_t)(end - p) || vn > (uint64_t)(end - p) - ns)
      return j < b->nr ? (int64_t)j : (int64_t)b->nr - 1;
    if (j < b->nr && sdb__dec32(b->rs + 4 * j) == off) {
      if (sh != 0) return j;
      j++;
    }
    off = (size_t)(p + ns + vn - b->d);
  }
  return j == b->nr ? -1 : (int64_t)j;
}
static void bi_first(biter *b) {
  b->cur = 0;
  b->key.len = 0;
  bi_parse(b);
}
static void bi_next(biter *b) {
  if (!bi_valid(b)) return;
  b->cur = b->nxt;
  bi_parse(b);
}
/* Parses the entry header at d+off (off < lim): *sh, *ns, *vn and *kp = its
 * key suffix; 0, or -1 if it runs past lim. */
static inline int entry_at(const uint8_t *d, size_t off, size_t lim, uint64_t *sh, uint64_t *ns, uint64_t *vn,
                           const uint8_t **kp) {
  const uint8_t *p = d + off, *end = d + lim;
  if (end - p >= 3 && !((p[0] | p[1] | p[2]) & 0x80)) { /* three one-byte varints: the usual case */
    *sh = p[0], *ns = p[1], *vn = p[2];
    p += 3;
  } else if (!(p = sdb__decvar(p, end, sh)) || !(p = sdb__decvar(p, end, ns)) || !(p = sdb__decvar(p, end, vn))) {
    return -1;
  }
  if (*ns > (uint64_t)(end - p) || *vn > (uint64_t)(end - p) - *ns) return -1;
  *kp = p;
  return 0;
}

/* first entry with internal key >= k (k at least 8 bytes) */
static void bi_seek(biter *b, const uint8_t *k, size_t kn) {
  uint32_t lo = 0, hi = b->nr - 1;
  if (b->nr <= 8 && b->lim) /* a few restarts (the usual block): start their cache misses at once, as blk_find */
    for (uint32_t r = 1; r < b->nr; r++) __builtin_prefetch(b->d + (sdb__dec32(b->rs + 4 * (size_t)r) % b->lim));
  while (lo < hi) { /* last restart whose key < k: compared in place (a restart shares nothing) */
    uint32_t mid = (lo + hi + 1) / 2;
    uint64_t sh, ns, vn;
    const uint8_t *kp;
    size_t off = sdb__dec32(b->rs + 4 * mid);
    if (off >= b->lim || entry_at(b->d, off, b->lim, &sh, &ns, &vn, &kp)) {
      b->cur = b->lim;
      b->bad = 1;
      return;
    }
    if (sh == 0 && ns >= 8 && sdb__icmp(kp, (size_t)ns, k, kn) < 0)
      lo = mid;
    else if (sh == 0)
      hi = mid - 1;
    else { /* a restart that shares a prefix: damaged, as bi_parse with an empty key would say */
      b->cur = b->lim;
      b->bad = 1;
      return;
    }
  }
  b->cur = sdb__dec32(b->rs + 4 * lo);
  b->key.len = 0;
  if (b->cur > b->lim) {
    b->bad = 1;
    return;
  }
  { /* the entries up to the next restart are walked in order: fetch them in parallel */
    size_t stop = lo + 1 < b->nr ? sdb__dec32(b->rs + 4 * (size_t)(lo + 1)) : b->lim;
    if (stop > b->lim) stop = b->lim;
    for (size_t a = b->cur + 64; a < stop; a += 64) __builtin_prefetch(b->d + a);
  }
  bi_parse(b);
  while (bi_valid(b) && (b->key.len < 8 || sdb__icmp(b->key.p, b->key.len, k, kn) < 0)) bi_next(b);
}

static int dec_handle(const uint8_t *p, size_t n, uint64_t *off, uint64_t *len) {
  const uint8_t *end = p + n;
  return (p = sdb__decvar(p, end, off)) && sdb__decvar(p, end, len) ? 0 : -1;
}

/* ---- table-file cache ---------------------------------------------------------- */
void sdb__fdlru_init(sdb_fdlru *l, int max) {
  memset(l, 0, sizeof *l);
  pthread_mutex_init(&l->mu, NULL);
  l->max = max;
}
void sdb__fdlru_destroy(sdb_fdlru *l) { pthread_mutex_destroy(&l->mu); }

static void lru_unlink(sdb_fdlru *l, sdb_table *t) {
  if (!t->in_lru) return;
  if (t->lprev) t->lprev->lnext = t->lnext; else l->head = t->lnext;
  if (t->lnext) t->lnext->lprev = t->lprev; else l->tail = t->lprev;
  t->lprev = t->lnext = NULL;
  t->in_lru = 0;
}

static void lru_front(sdb_fdlru *l, sdb_table *t) {
  lru_unlink(l, t);
  t->lnext = l->head;
  if (l->head) l->head->lprev = t;
  l->head = t;
  if (!l->tail) l->tail = t;
  t->in_lru = 1;
}

/* Drops t's mapping; its blocks must be verified again in the next one. Only
 * with no read in progress (pins == 0, or the last unref). */
static void map_drop(sdb_table *t) {
  if (!t->map) return;
  sdb__env->munmap((void *)t->map, (size_t)t->size);
  t->map = NULL;
  if (t->verified) memset(t->verified, 0, t->nix);
}

/* Closes the least recently used idle tables (descriptor or mapping) while
 * over the bound (mu held). */
static void lru_trim(sdb_fdlru *l, const sdb_table *keep) {
  for (sdb_table *v = l->tail; v && l->open > l->max;) {
    sdb_table *prev = v->lprev;
    if (v != keep && v->pins == 0 && (v->fd >= 0 || v->map)) {
      if (v->fd >= 0) sdb__env->close(v->fd);
      v->fd = -1;
      map_drop(v);
      l->open--;
      l->closes++;
      lru_unlink(l, v);
    }
    v = prev;
  }
}

void sdb__table_attach(sdb_table *t, sdb_cache *cache, sdb_fdlru *fdl) {
  t->cache = cache;
  if (!fdl) return;
  pthread_mutex_lock(&fdl->mu);
  t->fdl = fdl;
  if (t->fd >= 0) fdl->open++;
  lru_front(fdl, t);
  lru_trim(fdl, t);
  pthread_mutex_unlock(&fdl->mu);
}

/* A descriptor for reading t, reopened if the table cache closed it; pair
 * with fd_put. -errno on failure. */
static int fd_get(sdb_table *t) {
  sdb_fdlru *l = t->fdl;
  int fd;
  if (!l) return t->fd;
  pthread_mutex_lock(&l->mu);
  if (t->fd < 0) {
    if ((t->fd = sdb__env->open(t->path, O_RDONLY | O_NONBLOCK, 0)) < 0) {
      int e = errno;
      pthread_mutex_unlock(&l->mu);
      return -e;
    }
    if (!t->map) {
      l->open++;
      l->reopens++;
    }
  }
  t->pins++;
  fd = t->fd;
  lru_front(l, t);
  lru_trim(l, t);
  pthread_mutex_unlock(&l->mu);
  return fd;
}

static void fd_put(sdb_table *t) {
  if (!t->fdl) return;
  pthread_mutex_lock(&t->fdl->mu);
  t->pins--;
  pthread_mutex_unlock(&t->fdl->mu);
}

/* Maps t (mu held). On failure t->map stays NULL: t->map_err says why when
 * the mmap itself failed (then t reads with pread for good); a failed open
 * sets nothing, and the pread path reports it. */
static void map_open(sdb_fdlru *l, sdb_table *t) {
  struct stat st;
  int was_open = t->fd >= 0;
  void *m;
  if (t->fd < 0 && (t->fd = sdb__env->open(t->path, O_RDONLY | O_NONBLOCK, 0)) < 0) return;
  if (!was_open) l->open++, l->reopens++;
  if (sdb__env->fstat(t->fd, &st) < 0) {
    t->map_err = errno ? errno : EIO;
  } else if ((uint64_t)st.st_size != t->size || t->size > SIZE_MAX) {
    t->map_err = ESTALE; /* the file changed size since it was opened: let pread report what it finds */
  } else {
    l->maps++;
    m = sdb__env->mmap(NULL, (size_t)t->size, PROT_READ, MAP_SHARED, t->fd, 0);
    if (m != MAP_FAILED) {
      t->map = m;
      sdb__env->close(t->fd); /* the mapping does not need it */
      t->fd = -1;
      return;
    }
    t->map_err = errno ? errno : ENOMEM;
  }
  l->map_failures++;
  l->map_errno = t->map_err;
}

/* The mapping of t, pinned until map_put; NULL when t reads with pread (no
 * table-file cache, mmap_reads off, or mapping failed). */
static const uint8_t *map_get(sdb_table *t) {
  sdb_fdlru *l = t->fdl;
  const uint8_t *m;
  if (!l || !l->mmap_reads) return NULL;
  pthread_mutex_lock(&l->mu);
  if (!t->map && !t->map_err) map_open(l, t);
  if ((m = t->map)) {
    t->pins++;
    lru_front(l, t);
    lru_trim(l, t);
  }
  pthread_mutex_unlock(&l->mu);
  return m;
}
#define map_put fd_put

/* Inflates a zlib block (contents = raw length varint | zlib stream). */
static int inflate_block(sdb_table *t, uint64_t off, const uint8_t *p, size_t n, uint8_t **out, size_t *outlen,
                         sdb_eb *eb) {
  uint64_t raw;
  const uint8_t *z = sdb__decvar(p, p + n, &raw);
  uLongf got;
  uint8_t *d;
  if (!z || raw > (1u << 30))
    return sdb__err(eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": bad compressed-block header", t->path, off);
  if (!(d = malloc(raw ? raw : 1))) return sdb__err(eb, SDB_ENOMEM, "read %s: out of memory", t->path);
  got = (uLongf)raw;
  if (uncompress(d, &got, z, (uLong)(p + n - z)) != Z_OK || got != raw) {
    free(d);
    return sdb__err(eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": zlib data does not inflate to %" PRIu64 " bytes",
                    t->path, off, raw);
  }
  *out = d;
  *outlen = (size_t)raw;
  return 0;
}

/* Reads and verifies the block at (off, len); *out is malloc'd contents
 * (inflated if the block is compressed), *outlen its length. (T2) */
static int read_block(sdb_table *t, uint64_t off, uint64_t len, uint8_t **out, size_t *outlen, sdb_eb *eb) {
  uint8_t *p;
  ssize_t n;
  int rc;
  if (off > t->size || len > t->size - off || t->size - off - len < SDB_SST_TRAILER)
    return sdb__err(eb, SDB_ECORRUPT, "%s: block handle at offset %" PRIu64 " length %" PRIu64 " is out of bounds",
                    t->path, off, len);
  if (!(p = malloc(len + SDB_SST_TRAILER))) return sdb__err(eb, SDB_ENOMEM, "read %s: out of memory", t->path);
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = fd_get(t);
    if (fd < 0) {
      free(p);
      return sdb__ioerr(eb, "open", t->path, fd);
    }
    n = sdb__pread_all(fd, p, len + SDB_SST_TRAILER, (off_t)off);
    fd_put(t);
    if (n < 0) {
      free(p);
      return sdb__ioerr(eb, "pread", t->path, (int)n);
    }
    if ((uint64_t)n == len + SDB_SST_TRAILER && sdb__cksum(p, len + 1) == sdb__dec32(p + len + 1)) {
      if (p[len] == SDB_BLOCK_RAW) {
        *out = p;
        *outlen = (size_t)len;
        return 0;
      }
      if (p[len] == SDB_BLOCK_ZLIB) {
        rc = inflate_block(t, off, p, (size_t)len, out, outlen, eb);
        free(p);
        return rc;
      }
      unsigned type = p[len];
      free(p);
      return sdb__err(eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": unknown block type %u", t->path, off, type);
    }
  }
  free(p);
  return sdb__err(eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": checksum mismatch", t->path, off);
}

/* ---- blocks as readers hold them ------------------------------------------------ */
/* A data block in use: a pointer into the table's mapping (pinned), a block
 * cache entry (held), or a private copy (malloc'd). */
typedef struct blkref {
  const uint8_t *d;
  size_t n;
  sdb_centry *ce;
  uint8_t *own;
  const uint8_t *map; /* pinned: the mapping d points into */
  int pinned;
} blkref;

static void blk_release(sdb_table *t, blkref *r) {
  if (r->ce) sdb__cache_release(t->cache, r->ce);
  free(r->own);
  if (r->pinned) map_put(t);
  memset(r, 0, sizeof *r);
}

/* The position of block (off, len) in the decoded index, or -1. */
static long ix_slot(const sdb_table *t, uint64_t off, uint64_t len) {
  size_t lo = 0, hi = t->nix;
  if (!t->ix) return -1;
  while (lo < hi) { /* blocks are written in file order; if not (a crafted index), -1 at worst */
    size_t mid = lo + (hi - lo) / 2;
    if (t->ix[mid].off < off) lo = mid + 1;
    else hi = mid;
  }
  return lo < t->nix && t->ix[lo].off == off && t->ix[lo].len == len ? (long)lo : -1;
}

/* Verifies block (off, len) in t's mapping m (T2), at most once per mapping
 * when slot >= 0 names it in the decoded index; then *p = its contents and
 * *type its block type. */
static int map_block(sdb_table *t, const uint8_t *m, uint64_t off, uint64_t len, long slot, const uint8_t **p,
                     uint8_t *type, sdb_eb *eb) {
  if (off > t->size || len > t->size - off || t->size - off - len < SDB_SST_TRAILER)
    return sdb__err(eb, SDB_ECORRUPT, "%s: block handle at offset %" PRIu64 " length %" PRIu64 " is out of bounds",
                    t->path, off, len);
  *p = m + off;
  if (slot >= 0) { /* verified[slot] is its type + 1 once verified: the trailer need not be touched again */
    uint8_t v = __atomic_load_n(&t->verified[slot], __ATOMIC_ACQUIRE);
    if (v) return *type = (uint8_t)(v - 1), 0;
  }
  *type = (*p)[len];
  /* unlike a pread buffer, the mapping shows the page cache itself: a second
   * look would see the same bytes, so one mismatch is the verdict */
  if (sdb__cksum(*p, (size_t)len + 1) != sdb__dec32(*p + len + 1))
    return sdb__err(eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": checksum mismatch", t->path, off);
  if (*type != SDB_BLOCK_RAW && *type != SDB_BLOCK_ZLIB)
    return sdb__err(eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": unknown block type %u", t->path, off,
                    (unsigned)*type);
  if (slot >= 0) __atomic_store_n(&t->verified[slot], (uint8_t)(*type + 1), __ATOMIC_RELEASE);
  return 0;
}

/* The verified contents of data block (off, len) of t (T2). slot: its
 * position in the decoded index, or -1. fill: add what it reads to the block
 * cache. Mapped tables serve raw blocks from the mapping and only cache
 * inflated zlib blocks; pread tables cache every block they read. */
static int blk_acquire(sdb_table *t, uint64_t off, uint64_t len, long slot, int fill, blkref *r, sdb_eb *eb) {
  const uint8_t *m = map_get(t), *p = NULL;
  uint8_t type = 0, *b;
  size_t bn;
  int rc;
  memset(r, 0, sizeof *r);
  if (m) {
    if ((rc = map_block(t, m, off, len, slot, &p, &type, eb))) {
      map_put(t);
      return rc;
    }
    if (type == SDB_BLOCK_RAW) {
      r->d = p, r->n = (size_t)len, r->map = m, r->pinned = 1;
      return 0;
    }
    if (t->cache && (r->ce = sdb__cache_get(t->cache, t->number, off))) {
      map_put(t);
      r->d = r->ce->data, r->n = r->ce->len;
      return 0;
    }
    rc = inflate_block(t, off, p, (size_t)len, &b, &bn, eb);
    map_put(t);
    if (rc) return rc;
  } else {
    if (t->cache && (r->ce = sdb__cache_get(t->cache, t->number, off))) {
      r->d = r->ce->data, r->n = r->ce->len;
      return 0;
    }
    if ((rc = read_block(t, off, len, &b, &bn, eb))) return rc;
  }
  if (t->cache && fill) { /* verified (T2) before it is shared */
    if (!(r->ce = sdb__cache_put(t->cache, t->number, off, b, bn)))
      return sdb__err(eb, SDB_ENOMEM, "read %s: out of memory", t->path);
    r->d = r->ce->data, r->n = r->ce->len;
  } else {
    r->d = r->own = b, r->n = bn;
  }
  return 0;
}

/* The value of entry `name` in a meta block (linear scan; values point into
 * blk): 1 found, 0 absent, -1 malformed. */
static int meta_find(const uint8_t *blk, size_t n, const char *name, const uint8_t **v, size_t *vn) {
  biter b = {0};
  int found = 0;
  if (bi_init(&b, blk, n)) return -1;
  for (bi_first(&b); bi_valid(&b); bi_next(&b))
    if (b.key.len == strlen(name) && !memcmp(b.key.p, name, b.key.len)) {
      *v = b.val;
      *vn = b.vn;
      found = 1;
      break;
    }
  if (!found && b.bad) found = -1;
  sdb__buf_free(&b.key);
  return found;
}

static int find_prop(const uint8_t *blk, size_t n, const char *name, uint64_t *v) {
  const uint8_t *p;
  size_t pn;
  int found = meta_find(blk, n, name, &p, &pn);
  return found == 1 && !sdb__decvar(p, p + pn, v) ? -1 : found;
}

static int find_handle(const uint8_t *blk, size_t n, const char *name, uint64_t *off, uint64_t *len) {
  const uint8_t *p;
  size_t pn;
  int found = meta_find(blk, n, name, &p, &pn);
  return found == 1 && dec_handle(p, pn, off, len) ? -1 : found;
}

/* Decodes the index block into t->ix (keys copied out, handles decoded), so a
 * lookup is a binary search over whole keys. Only a clean index is decoded:
 * every entry well formed, keys of at least 8 bytes in strictly increasing
 * order, block handles in increasing file order. Anything else leaves t->ix
 * NULL and reads walk the index block, which reports the damage when a read
 * reaches it. Out of memory does the same. */
static void ix_decode(sdb_table *t) {
  biter b = {0};
  size_t n = 0, kbytes = 0, k = 0;
  if (bi_init(&b, t->index, t->index_len)) return;
  for (bi_first(&b); bi_valid(&b); bi_next(&b)) {
    if (b.key.len < 8) goto out;
    n++;
    kbytes += b.key.len;
  }
  if (b.bad || n == 0 || !(t->ix = calloc(n, sizeof *t->ix)) || !(t->ixkeys = malloc(kbytes)) ||
      !(t->verified = calloc(n, 1)))
    goto fail;
  for (bi_first(&b); bi_valid(&b) && k < n; bi_next(&b), k++) {
    struct sdb_ixent *e = &t->ix[k];
    if (dec_handle(b.val, b.vn, &e->off, &e->len)) goto fail;
    e->koff = k ? t->ix[k - 1].koff + t->ix[k - 1].klen : 0;
    e->klen = b.key.len;
    memcpy(t->ixkeys + e->koff, b.key.p, b.key.len);
    if (k && (sdb__icmp(t->ixkeys + t->ix[k - 1].koff, t->ix[k - 1].klen, b.key.p, b.key.len) >= 0 ||
              e->off <= t->ix[k - 1].off))
      goto fail;
  }
  if (k != n) goto fail;
  t->nix = n;
  goto out;
fail:
  free(t->ix), free(t->ixkeys), free(t->verified);
  t->ix = NULL, t->ixkeys = NULL, t->verified = NULL;
out:
  sdb__buf_free(&b.key);
}

int sdb__table_open(const char *path, uint64_t number, uint64_t expect_size, sdb_table **out, sdb_eb *eb) {
  struct stat st;
  uint8_t foot[SDB_SST_FOOTER], *meta = NULL, *props = NULL;
  uint64_t plen = 0, poff = 0;
  int rc;
  sdb_table *t = calloc(1, sizeof *t);
  *out = NULL;
  if (!t) return sdb__err(eb, SDB_ENOMEM, "open %s: out of memory", path);
  t->refs = 1;
  t->number = number;
  snprintf(t->path, sizeof t->path, "%s", path);
  const char *kind = NULL;
  t->fd = sdb__open_regular(path, O_RDONLY, &kind); /* a FIFO in its place must not hang us */
  if (t->fd < 0) {
    rc = t->fd == -ENOENT ? sdb__err(eb, SDB_ECORRUPT, "%s: table listed in the MANIFEST is missing", path)
                          : sdb__open_error(eb, path, t->fd, kind);
    t->fd = -1;
    goto fail;
  }
  if (sdb__env->fstat(t->fd, &st) < 0) {
    rc = sdb__ioerr(eb, "fstat", path, -errno);
    goto fail;
  }
  t->size = (uint64_t)st.st_size;
  if (expect_size && t->size != expect_size) {
    rc = sdb__err(eb, SDB_ECORRUPT, "%s: size %" PRIu64 " but the MANIFEST says %" PRIu64, path, t->size,
                  expect_size);
    goto fail;
  }
  if (t->size < SDB_SST_FOOTER) {
    rc = sdb__err(eb, SDB_ECORRUPT, "%s: %" PRIu64 " bytes, too short for a table footer", path, t->size);
    goto fail;
  }
  uint64_t fo = t->size - SDB_SST_FOOTER;
  for (int attempt = 0; attempt < 2; attempt++) { /* a bad footer is confirmed by a second read (T2) */
    ssize_t n = sdb__pread_all(t->fd, foot, sizeof foot, (off_t)fo);
    if (n != SDB_SST_FOOTER) {
      rc = sdb__ioerr(eb, "pread", path, n < 0 ? (int)n : -EIO);
      goto fail;
    }
    if (!memcmp(foot + 40, SDB_SST_MAGIC, 8) && sdb__cksum(foot, 36) == sdb__dec32(foot + 36)) break;
  }
  if (memcmp(foot + 40, SDB_SST_MAGIC, 8)) {
    rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": bad footer magic (not a finished sofadb table)", path, fo);
    goto fail;
  }
  if (sdb__cksum(foot, 36) != sdb__dec32(foot + 36)) {
    rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": footer checksum mismatch", path, fo);
    goto fail;
  }
  if (sdb__dec32(foot + 32) != SDB_SST_VERSION) {
    rc = sdb__err(eb, SDB_ECORRUPT, "%s: unsupported table format version %u", path, sdb__dec32(foot + 32));
    goto fail;
  }
  t->meta_off = sdb__dec64(foot);
  t->meta_len = sdb__dec64(foot + 8);
  t->index_off = sdb__dec64(foot + 16);
  uint64_t ilen = sdb__dec64(foot + 24);
  if ((rc = read_block(t, t->index_off, ilen, &t->index, &t->index_len, eb))) goto fail;
  biter chk = {0};
  if (bi_init(&chk, t->index, t->index_len)) {
    rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": malformed index block", path, t->index_off);
    goto fail;
  }
  ix_decode(t);
  size_t mlen, flen2, plen2;
  if ((rc = read_block(t, t->meta_off, t->meta_len, &meta, &mlen, eb))) goto fail;
  uint64_t foff = 0, flen = 0;
  int found = find_handle(meta, mlen, SDB_PROPS_NAME, &poff, &plen) == 1;
  int has_filter = find_handle(meta, mlen, SDB_FILTER_NAME, &foff, &flen);
  if (has_filter < 0) found = 0;
  if (has_filter) {
    if ((rc = read_block(t, foff, flen, &t->filter, &flen2, eb))) goto fail;
    t->filter_len = flen2;
  }
  if (!found) {
    rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": metaindex has no properties block", path, t->meta_off);
    goto fail;
  }
  if ((rc = read_block(t, poff, plen, &props, &plen2, eb))) goto fail;
  if (find_prop(props, plen2, "entries", &t->entries) != 1 || find_prop(props, plen2, "data_blocks", &t->nblocks) != 1 ||
      find_prop(props, plen2, "min_seq", &t->min_seq) != 1 || find_prop(props, plen2, "max_seq", &t->max_seq) != 1) {
    rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": malformed properties block", path, poff);
    goto fail;
  }
  free(meta);
  free(props);
  *out = t;
  return 0;
fail:
  free(meta);
  free(props);
  sdb__table_unref(t);
  return rc;
}

void sdb__table_ref(sdb_table *t) { __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED); }

void sdb__table_unref(sdb_table *t) {
  if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
  if (t->fdl) {
    pthread_mutex_lock(&t->fdl->mu);
    lru_unlink(t->fdl, t);
    if (t->fd >= 0 || t->map) t->fdl->open--;
    pthread_mutex_unlock(&t->fdl->mu);
  }
  if (t->cache && t->obsolete) sdb__cache_forget(t->cache, t->number);
  map_drop(t); /* no reader left: each holds a ref */
  if (t->fd >= 0) sdb__env->close(t->fd);
  if (t->obsolete) sdb__env->unlink(t->path); /* db.c D12: after the edit that removed it */
  free(t->index);
  free(t->filter);
  free(t->ix);
  free(t->ixkeys);
  free(t->verified);
  sdb__buf_free(&t->lo);
  sdb__buf_free(&t->hi);
  free(t);
}

/* ---- two-level iterator ------------------------------------------------------- */
typedef struct titer {
  sdb_iiter base;
  sdb_table *t;
  biter idx, data;
  blkref blk;  /* the data block */
  int no_fill; /* a compaction's scan: use cached blocks, do not add its own */
  /* use_ix: walk the index decoded at open (t->ix, t->nix) instead of the
   * index block, so a seek is a binary search over whole keys with nothing
   * parsed; ixpos is then the current block (nix: past the end). Set for
   * reads when t->ix exists; a check walks the block itself to verify it. */
  int use_ix;
  size_t ixpos;
  int prepped; /* ti_seek_prep ran: ixpos and blk are the next seek's */
  uint64_t boff; /* blk's offset in the file */
  int status;
  sdb_eb eb;
} titer;

static int ix_valid(const titer *i) { return i->use_ix ? i->ixpos < i->t->nix : bi_valid(&i->idx); }
static void ix_next(titer *i) {
  if (!i->use_ix) bi_next(&i->idx);
  else if (i->ixpos < i->t->nix) i->ixpos++;
}
static void ix_first(titer *i) {
  if (!i->use_ix) bi_first(&i->idx);
  else i->ixpos = 0;
}
/* The first block whose last key >= k (its keys are the only ones that can be). */
static void ix_seek(titer *i, const uint8_t *k, size_t kn) {
  const sdb_table *t = i->t;
  size_t lo = 0, hi = t->nix;
  if (!i->use_ix) {
    bi_seek(&i->idx, k, kn);
    return;
  }
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (sdb__icmp(t->ixkeys + t->ix[mid].koff, t->ix[mid].klen, k, kn) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  i->ixpos = lo;
}

/* Moves a raw block held from the mapping (r->pinned) to block (off, len) of
 * the same table, keeping the pin: no table-file cache lock per block. 1
 * done, 0 when the new block is not raw (r is then released), or an error
 * (r released). */
static int blk_move(sdb_table *t, uint64_t off, uint64_t len, long slot, blkref *r, sdb_eb *eb) {
  const uint8_t *p;
  uint8_t type;
  int rc = map_block(t, r->map, off, len, slot, &p, &type, eb);
  if (rc || type != SDB_BLOCK_RAW) {
    blk_release(t, r);
    return rc ? rc : 0;
  }
  r->d = p, r->n = (size_t)len;
  return 1;
}

/* The block under the index position into i->blk (none past the end). */
static void ti_acquire(titer *i) {
  uint64_t off, len;
  i->data.cur = i->data.lim = 0;
  if (!ix_valid(i)) {
    blk_release(i->t, &i->blk);
    return;
  }
  if (i->use_ix) {
    off = i->boff = i->t->ix[i->ixpos].off, len = i->t->ix[i->ixpos].len;
    int moved = 0;
    if (i->blk.pinned && !i->blk.ce && !i->blk.own &&
        (moved = blk_move(i->t, off, len, (long)i->ixpos, &i->blk, &i->eb)) < 0) {
      i->status = moved;
      return;
    }
    if (!moved) {
      blk_release(i->t, &i->blk);
      if ((i->status = blk_acquire(i->t, off, len, (long)i->ixpos, !i->no_fill, &i->blk, &i->eb))) return;
    }
  } else {
    blk_release(i->t, &i->blk);
    if (dec_handle(i->idx.val, i->idx.vn, &off, &len)) {
      i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": bad block handle in index", i->t->path,
                           i->t->index_off);
      return;
    }
    i->boff = off;
    if ((i->status = blk_acquire(i->t, off, len, ix_slot(i->t, off, len), !i->no_fill, &i->blk, &i->eb))) return;
  }
}

/* Reads i->blk's trailer: the data block iterator, unpositioned. */
static void ti_init(titer *i) {
  if (i->status || !i->blk.d) return;
  if (bi_init(&i->data, i->blk.d, i->blk.n))
    i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": malformed", i->t->path, i->boff);
}

static void ti_load(titer *i) {
  ti_acquire(i);
  ti_init(i);
}

static void ti_skip(titer *i) {
  while (!i->status && !bi_valid(&i->data)) {
    if (i->data.bad || i->idx.bad) {
      i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: malformed block entry", i->t->path);
      return;
    }
    if (!ix_valid(i)) return;
    ix_next(i);
    if (!ix_valid(i)) return;
    ti_load(i);
    if (!i->status) bi_first(&i->data);
  }
  /* every internal key ends in an 8-byte sequence/type trailer: a shorter one
   * (a crafted or damaged table with valid checksums) must not reach the
   * callers that decode that trailer (found by fuzz_sofadb_dir, docs/fuzzing.md F2) */
  if (!i->status && bi_valid(&i->data) && i->data.key.len < 8)
    i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: block entry with a key shorter than 8 bytes", i->t->path);
}

static int ti_valid(sdb_iiter *it) {
  titer *i = (titer *)it;
  return !i->status && bi_valid(&i->data);
}
static void ti_seek_first(sdb_iiter *it) {
  titer *i = (titer *)it;
  i->prepped = 0;
  if (i->status) return;
  ix_first(i);
  ti_load(i);
  if (!i->status && i->blk.d) bi_first(&i->data);
  ti_skip(i);
}
static void ti_seek_prep(sdb_iiter *it, const uint8_t *k, size_t n) {
  titer *i = (titer *)it;
  i->prepped = 0;
  if (i->status) return;
  ix_seek(i, k, n);
  ti_acquire(i);
  i->prepped = 1;
  if (i->status || !i->blk.d) return;
  /* the trailer (restart count and array) first, what bi_init reads, then
   * the block's lines (at most 8 KiB): the restarts bi_seek probes and the
   * run it walks are not known before the trailer arrives */
  const uint8_t *d = i->blk.d;
  size_t bn = i->blk.n;
  if (bn >= 4) __builtin_prefetch(d + bn - 4);
  if (bn >= 68) __builtin_prefetch(d + bn - 68);
  for (size_t a = 0; a + 68 < bn && a < 8192; a += 64) __builtin_prefetch(d + a);
}
static void ti_seek(sdb_iiter *it, const uint8_t *k, size_t n) {
  titer *i = (titer *)it;
  if (!i->prepped) ti_seek_prep(it, k, n);
  i->prepped = 0;
  if (i->status) return;
  ti_init(i);
  if (!i->status && i->blk.d) bi_seek(&i->data, k, n);
  ti_skip(i);
}
static void ti_next(sdb_iiter *it) {
  titer *i = (titer *)it;
  i->prepped = 0;
  if (!ti_valid(it)) return;
  bi_next(&i->data);
  ti_skip(i);
}
static const uint8_t *ti_key(sdb_iiter *it, size_t *n) {
  titer *i = (titer *)it;
  *n = i->data.key.len;
  return i->data.key.p;
}
static const uint8_t *ti_value(sdb_iiter *it, size_t *n) {
  titer *i = (titer *)it;
  *n = i->data.vn;
  return i->data.val;
}
static int ti_status(sdb_iiter *it) { return ((titer *)it)->status; }
static const char *ti_errmsg(sdb_iiter *it) { return ((titer *)it)->eb.msg; }
static void ti_free(sdb_iiter *it) {
  titer *i = (titer *)it;
  blk_release(i->t, &i->blk);
  sdb__buf_free(&i->idx.key);
  sdb__buf_free(&i->data.key);
  sdb__table_unref(i->t);
  free(i);
}
static const sdb_iiter_ops table_iter_ops = {ti_valid, ti_seek_first, ti_seek, ti_next, ti_key,
                                             ti_value, ti_status,     ti_errmsg, ti_free, ti_seek_prep};

static titer *titer_new(sdb_table *t) {
  titer *i = calloc(1, sizeof *i);
  if (!i) return NULL;
  i->base.ops = &table_iter_ops;
  sdb__table_ref(t);
  i->t = t;
  if (bi_init(&i->idx, t->index, t->index_len))
    i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: malformed index block", t->path);
  return i;
}

void sdb__table_iter_retarget(sdb_iiter *it, sdb_table *t) {
  titer *i = (titer *)it;
  blk_release(i->t, &i->blk);
  sdb__table_ref(t);
  sdb__table_unref(i->t);
  i->t = t;
  i->status = 0;
  i->eb.msg[0] = 0;
  i->ixpos = 0;
  i->prepped = 0;
  i->use_ix = t->ix != NULL;
  bi_init(&i->data, NULL, 0); /* no block: invalid, its key buffer kept */
  if (bi_init(&i->idx, t->index, t->index_len))
    i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: malformed index block", t->path);
}

sdb_iiter *sdb__table_iter(sdb_table *t) {
  titer *i = titer_new(t);
  if (i && t->ix) i->use_ix = 1;
  return i ? &i->base : NULL;
}

sdb_iiter *sdb__table_iter_nofill(sdb_table *t) {
  titer *i = titer_new(t);
  if (i) i->no_fill = 1, i->use_ix = t->ix != NULL;
  return i ? &i->base : NULL;
}

/* A lookup through the two-level iterator: for a table whose index did not
 * decode (ix_decode), so damage is reported where the iterator meets it. */
static int table_get_iter(sdb_table *t, const uint8_t *ik, size_t ikn, void **v, size_t *vn, sdb_eb *eb) {
  titer *i = titer_new(t);
  int rc = 0;
  if (!i) return sdb__err(eb, SDB_ENOMEM, "get: out of memory");
  ti_seek(&i->base, ik, ikn);
  if (i->status) {
    rc = i->status;
    if (eb) memcpy(eb->msg, i->eb.msg, sizeof eb->msg);
  } else if (ti_valid(&i->base) && i->data.key.len >= 8 &&
             !sdb__ucmp(i->data.key.p, i->data.key.len - 8, ik, ikn - 8)) {
    int type = i->data.key.p[i->data.key.len - 8];
    if (type == SDB_TYPE_PUT) {
      *v = malloc(i->data.vn ? i->data.vn : 1);
      if (!*v) {
        rc = sdb__err(eb, SDB_ENOMEM, "get: out of memory");
      } else {
        if (i->data.vn) memcpy(*v, i->data.val, i->data.vn);
        *vn = i->data.vn;
        rc = 1;
      }
    } else {
      rc = 2;
    }
  }
  ti_free(&i->base);
  return rc;
}

/* The key of the entry a block search stands on: in place in the block when
 * the entry shares nothing with its predecessor (every restart point), else
 * rebuilt in buf (on the stack, or heap for long keys). */
typedef struct kcur {
  const uint8_t *p;
  size_t n;
  uint8_t *buf;
  size_t cap;
  uint8_t small[128];
} kcur;

/* Makes the key prev[0..sh) || suffix[0..ns); 0 or SDB_ENOMEM. */
static int kcur_build(kcur *c, size_t sh, const uint8_t *suffix, size_t ns) {
  if (sh == 0) {
    c->p = suffix, c->n = ns;
    return 0;
  }
  if (sh + ns > c->cap) {
    size_t cap = (sh + ns) * 2;
    uint8_t *b = c->buf == c->small ? malloc(cap) : realloc(c->buf, cap);
    if (!b) return SDB_ENOMEM;
    if (c->buf == c->small) memcpy(b, c->p, sh); /* c->p may point at small */
    else if (c->p != c->buf) memcpy(b, c->p, sh);
    c->buf = b, c->cap = cap;
  } else if (c->p != c->buf) {
    memmove(c->buf, c->p, sh);
  }
  memcpy(c->buf + sh, suffix, ns);
  c->p = c->buf, c->n = sh + ns;
  return 0;
}

/* Finds the first entry of block d[0..n) with internal key >= ik: 1 found
 * (c holds its key, *val and *valn its value), 0 none in this block, or an error
 * (corrupt: the block is at offset boff of t). Same rules as bi_init/bi_seek,
 * but keys at restart points are compared in place and nothing is copied
 * unless an entry shares a prefix with its predecessor. */
static int blk_find(const sdb_table *t, uint64_t boff, const uint8_t *d, size_t n, const uint8_t *ik, size_t ikn,
                    kcur *c, const uint8_t **val, size_t *valn, sdb_eb *eb) {
  uint64_t sh, ns, vn;
  const uint8_t *kp;
  uint32_t nr, lo = 0, hi;
  size_t lim, off;
  if (n < 4 || (nr = sdb__dec32(d + n - 4)) == 0 || (uint64_t)nr * 4 + 4 > n)
    return sdb__err(eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": malformed", t->path, boff);
  lim = n - 4 - (size_t)nr * 4;
  const uint8_t *rs = d + lim;
  hi = nr - 1;
  if (nr <= 8 && lim) /* a few restarts (the usual block): start all their cache misses at once */
    for (uint32_t r = 1; r < nr; r++) __builtin_prefetch(d + (sdb__dec32(rs + 4 * (size_t)r) % lim));
  while (lo < hi) { /* the last restart whose key < ik */
    uint32_t mid = lo + (hi - lo + 1) / 2;
    off = sdb__dec32(rs + 4 * (size_t)mid);
    if (off >= lim || entry_at(d, off, lim, &sh, &ns, &vn, &kp) || sh != 0) goto bad;
    if (ns < 8) goto shortkey;
    if (sdb__icmp(kp, (size_t)ns, ik, ikn) < 0)
      lo = mid;
    else
      hi = mid - 1;
  }
  off = sdb__dec32(rs + 4 * (size_t)lo);
  if (off > lim) goto bad;
  { /* the entries up to the next restart are walked in order: fetch them in parallel */
    size_t stop = lo + 1 < nr ? sdb__dec32(rs + 4 * (size_t)(lo + 1)) : lim;
    if (stop > lim) stop = lim;
    for (size_t a = off + 64; a < stop; a += 64) __builtin_prefetch(d + a);
  }
  c->n = 0;
  while (off < lim) {
    if (entry_at(d, off, lim, &sh, &ns, &vn, &kp) || sh > c->n) goto bad;
    if (kcur_build(c, (size_t)sh, kp, (size_t)ns)) return sdb__err(eb, SDB_ENOMEM, "get: out of memory");
    if (c->n < 8) goto shortkey;
    if (sdb__icmp(c->p, c->n, ik, ikn) >= 0) {
      *val = kp + ns;
      *valn = (size_t)vn;
      return 1;
    }
    off = (size_t)(kp + ns + vn - d);
  }
  return 0;
bad:
  return sdb__err(eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": malformed block entry", t->path, boff);
shortkey: /* F2 in docs/fuzzing.md: every internal key ends in an 8-byte trailer */
  return sdb__err(eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": block entry with a key shorter than 8 bytes",
                  t->path, boff);
}

int sdb__table_get(sdb_table *t, const uint8_t *ik, size_t ikn, void **v, size_t *vn, sdb_eb *eb) {
  if (!sdb__table_may_contain(t, ik, ikn - 8)) return 0;
  return sdb__table_get_nofilter(t, ik, ikn, v, vn, eb);
}

int sdb__table_get_nofilter(sdb_table *t, const uint8_t *ik, size_t ikn, void **v, size_t *vn, sdb_eb *eb) {
  if (!t->ix) return table_get_iter(t, ik, ikn, v, vn, eb);
  size_t lo = 0, hi = t->nix; /* the first block whose last key >= ik */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (sdb__icmp(t->ixkeys + t->ix[mid].koff, t->ix[mid].klen, ik, ikn) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  kcur c;
  c.buf = c.small, c.cap = sizeof c.small, c.p = NULL, c.n = 0;
  int rc = 0;
  for (size_t j = lo; j < t->nix && rc == 0; j++) { /* a block without such a key: its successor's first (as ti_skip) */
    blkref r;
    const uint8_t *val = NULL;
    size_t valn = 0;
    if ((rc = blk_acquire(t, t->ix[j].off, t->ix[j].len, (long)j, 1, &r, eb))) break;
    rc = blk_find(t, t->ix[j].off, r.d, r.n, ik, ikn, &c, &val, &valn, eb);
    if (rc == 1) {
      rc = 0;
      if (!sdb__ucmp(c.p, c.n - 8, ik, ikn - 8)) {
        if (c.p[c.n - 8] != SDB_TYPE_PUT) {
          rc = 2;
        } else if (!(*v = malloc(valn ? valn : 1))) {
          rc = sdb__err(eb, SDB_ENOMEM, "get: out of memory");
        } else {
          if (valn) memcpy(*v, val, valn);
          *vn = valn;
          rc = 1;
        }
      }
      blk_release(t, &r);
      break;
    }
    blk_release(t, &r);
  }
  if (c.buf != c.small) free(c.buf);
  return rc;
}

int sdb__table_check(sdb_table *t, FILE *dump, sdb_buf *first, sdb_buf *last, sdb_eb *eb) {
  titer *i = titer_new(t);
  sdb_buf prev = {0};
  uint64_t n = 0, blocks = 0;
  int rc = 0;
  char ks[256], vs[256];
  if (!i) return sdb__err(eb, SDB_ENOMEM, "check: out of memory");
  if (dump)
    fprintf(dump, "sstable %s: %" PRIu64 " bytes, format %d, %" PRIu64 " entries in %" PRIu64
                  " data blocks, seq %" PRIu64 "..%" PRIu64 ", index at %" PRIu64 "\n",
            t->path, t->size, SDB_SST_VERSION, t->entries, t->nblocks, t->min_seq, t->max_seq, t->index_off);
  if (dump && t->filter && t->filter_len > 0)
    fprintf(dump, "bloom filter: %zu bits, %u probes\n", (t->filter_len - 1) * 8, t->filter[t->filter_len - 1]);
  if (i->status) goto done;
  {
    int64_t bad = bi_bad_restart(&i->idx); /* the index is binary-searched too */
    if (bad >= 0) {
      i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: index block at offset %" PRIu64 ": bad restart point %" PRId64,
                           t->path, t->index_off, bad);
      goto done;
    }
  }
  for (bi_first(&i->idx); bi_valid(&i->idx); bi_next(&i->idx)) {
    uint64_t off, len;
    if (dec_handle(i->idx.val, i->idx.vn, &off, &len)) {
      i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": bad block handle", t->path, t->index_off);
      break;
    }
    ti_load(i);
    if (i->status) break;
    blocks++;
    {
      int64_t bad = bi_bad_restart(&i->data);
      if (bad >= 0) {
        i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": bad restart point %" PRId64,
                             t->path, off, bad);
        break;
      }
    }
    if (dump) fprintf(dump, "block @%" PRIu64 " len %" PRIu64 " restarts %u\n", off, len, i->data.nr);
    for (bi_first(&i->data); bi_valid(&i->data); bi_next(&i->data)) {
      const uint8_t *k = i->data.key.p;
      size_t kn = i->data.key.len;
      if (kn < 8 || (prev.len && sdb__icmp(prev.p, prev.len, k, kn) >= 0)) {
        i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": keys out of order", t->path, off);
        break;
      }
      if (dump) {
        uint64_t tr = sdb__dec64(k + kn - 8);
        sdb__escape(k, kn - 8, ks, sizeof ks);
        sdb__escape(i->data.val, i->data.vn, vs, sizeof vs);
        fprintf(dump, "  %s @%" PRIu64 " %s", ks, tr >> 8, (tr & 0xff) == SDB_TYPE_PUT ? "put" : "del");
        if ((tr & 0xff) == SDB_TYPE_PUT) fprintf(dump, " (%zu bytes) %s", i->data.vn, vs);
        fputc('\n', dump);
      }
      if (!sdb__table_may_contain(t, k, kn - 8)) {
        i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": key missing from the bloom filter",
                             t->path, off);
        break;
      }
      if (n == 0 && first && sdb__buf_set(first, k, kn)) i->status = SDB_ENOMEM;
      if (sdb__buf_set(&prev, k, kn)) i->status = SDB_ENOMEM;
      n++;
    }
    if (i->data.bad && !i->status)
      i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: block at offset %" PRIu64 ": malformed entry", t->path, off);
    if (i->status) break;
    if (sdb__icmp(prev.p, prev.len, i->idx.key.p, i->idx.key.len) > 0) {
      i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: index key below the last key of block %" PRIu64, t->path, off);
      break;
    }
  }
  if (!i->status && i->idx.bad)
    i->status = sdb__err(&i->eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": malformed index block", t->path, t->index_off);
  if (!i->status && (n != t->entries || blocks != t->nblocks))
    i->status = sdb__err(&i->eb, SDB_ECORRUPT,
                         "%s: %" PRIu64 " entries in %" PRIu64 " blocks, but the properties say %" PRIu64 " in %" PRIu64,
                         t->path, n, blocks, t->entries, t->nblocks);
  if (!i->status && last && sdb__buf_set(last, prev.p, prev.len)) i->status = SDB_ENOMEM;
done:
  rc = i->status;
  if (rc && eb) memcpy(eb->msg, i->eb.msg, sizeof eb->msg);
  sdb__buf_free(&prev);
  ti_free(&i->base);
  return rc;
}
