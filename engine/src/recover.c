/*
 * recover.c - bulk WAL replay at open (see recover.h): collect the ops of a
 * run of records, sort them once, keep the newest version of each key.
 *
 * The sort: an LSD radix sort (8 bits a pass, passes where every op has the
 * same byte skipped) of (8-byte key prefix, op index) pairs, stable, so ops
 * with equal prefixes stay in WAL order; then each group of equal prefixes
 * (one key's versions, or keys sharing 8 bytes) is merge-sorted by the full
 * order: user key, trailer descending, WAL position descending (R1: a total
 * order on the ops, so the result does not depend on the algorithm).
 */
#include "recover.h"

#include <sys/mman.h>

/* The records of a run are copied into chunks of RCOPY_CHUNK bytes (a
 * bigger record gets a chunk of its own): the log reader streams the WAL,
 * so a record it returns does not outlive the next one. A chunk is one
 * transparent huge page when the kernel has them (only a hint): filling the
 * copies then costs a page fault per 2 MiB, not per 4 KiB. */
typedef struct sdb_rcopy {
  struct sdb_rcopy *next;
  size_t used, cap;
  _Alignas(16) uint8_t data[];
} sdb_rcopy;

#define RCOPY_CHUNK (2u << 20)

static sdb_rcopy *chunk_new(size_t need) {
  void *p = NULL;
  size_t len = sizeof(sdb_rcopy) + need;
  if (len <= RCOPY_CHUNK) {
    len = RCOPY_CHUNK;
    if (posix_memalign(&p, RCOPY_CHUNK, len)) return NULL;
#if defined(MADV_HUGEPAGE)
    madvise(p, len, MADV_HUGEPAGE);
#endif
  } else if (!(p = malloc(len))) {
    return NULL;
  }
  sdb_rcopy *c = p;
  c->used = 0;
  c->cap = len - sizeof *c;
  return c;
}

/* A copy of p[0..n) in the run's chunks, or NULL (out of memory). */
static uint8_t *copy_in(sdb_rrun *r, const uint8_t *p, size_t n) {
  sdb_rcopy *c = r->copies;
  if (!c || c->cap - c->used < n) {
    if (!(c = chunk_new(n))) return NULL;
    c->next = r->copies;
    r->copies = c;
  }
  uint8_t *d = c->data + c->used;
  memcpy(d, p, n);
  c->used += n;
  return d;
}

static uint64_t key_prefix(const uint8_t *k, size_t kn) {
  uint8_t b[8] = {0};
  memcpy(b, k, kn < 8 ? kn : 8);
  return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 | (uint64_t)b[3] << 32 |
         (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 | (uint64_t)b[6] << 8 | (uint64_t)b[7];
}

/* ops and ord grow together: ord's (prefix, index) is filled as an op is
 * added, while its key is still in the cache. tmp is sized at sort time. */
static int grow(sdb_rrun *r) {
  size_t cap = r->cap ? 2 * r->cap : 4096;
  sdb_rop *n = realloc(r->ops, cap * sizeof *n);
  if (!n) return SDB_ENOMEM;
  r->ops = n;
  if (r->ordcap < cap) {
    sdb_rkey *o = realloc(r->ord, cap * sizeof *o);
    if (!o) return SDB_ENOMEM;
    r->ord = o;
    r->ordcap = cap;
  }
  r->cap = cap;
  return 0;
}

int sdb__rrun_add(sdb_rrun *r, const uint8_t *p, size_t n, uint64_t seq, uint32_t count) {
  const size_t n0 = r->n, b0 = r->bytes;
  sdb_rcopy *c;
  uint32_t i = 0;
  if (!n) return count ? SDB_ECORRUPT : 0;
  if (!(p = copy_in(r, p, n))) return SDB_ENOMEM;
  c = r->copies;
  const uint8_t *end = p + n;
  for (; p < end; i++) {
    uint64_t kn, vn;
    int type;
    const uint8_t *k, *v;
    if (sdb__op_next(&p, end, &type, &k, &kn, &v, &vn)) goto bad;
    if (r->n == r->cap && grow(r)) {
      r->n = n0, r->bytes = b0;
      c->used -= n;
      return SDB_ENOMEM;
    }
    sdb_rop *o = &r->ops[r->n++];
    o->k = k, o->kn = (size_t)kn, o->v = v, o->vn = (size_t)vn;
    o->tr = sdb__trailer(seq + i, type);
    r->ord[r->n - 1].pre = key_prefix(k, (size_t)kn);
    r->ord[r->n - 1].i = r->n - 1;
    if (r->n == 1) {
      r->lcp = (size_t)kn;
    } else if (r->lcp) { /* the prefix every key of the run shares */
      const sdb_rop *f = &r->ops[0];
      size_t l = r->lcp < kn ? r->lcp : (size_t)kn, m = 0;
      while (m < l && f->k[m] == k[m]) m++;
      r->lcp = m;
    }
    r->bytes += (size_t)kn + (size_t)vn + SDB_RRUN_OP_OVERHEAD;
  }
  if (i == count) return 0;
bad: /* R2: nothing of a malformed batch stays */
  r->n = n0, r->bytes = b0;
  c->used -= n; /* its copy is the last thing in the newest chunk */
  return SDB_ECORRUPT;
}

/* The full order (R1): user key ascending, trailer descending, later in the WAL first. */
static int rop_cmp(const sdb_rop *ops, const sdb_rkey *a, const sdb_rkey *b) {
  const sdb_rop *x = &ops[a->i], *y = &ops[b->i];
  int c = sdb__ucmp(x->k, x->kn, y->k, y->kn);
  if (c) return c;
  if (x->tr != y->tr) return x->tr > y->tr ? -1 : 1;
  return a->i > b->i ? -1 : a->i < b->i;
}

/* Merge sort of s[0..n) by rop_cmp, with tmp[0..n) as scratch. */
static void group_sort(const sdb_rop *ops, sdb_rkey *s, sdb_rkey *tmp, size_t n) {
  if (n <= 12) {
    for (size_t i = 1; i < n; i++) {
      sdb_rkey x = s[i];
      size_t j = i;
      for (; j > 0 && rop_cmp(ops, &x, &s[j - 1]) < 0; j--) s[j] = s[j - 1];
      s[j] = x;
    }
    return;
  }
  size_t h = n / 2, i = 0, j = h, o = 0;
  group_sort(ops, s, tmp, h);
  group_sort(ops, s + h, tmp, n - h);
  while (i < h && j < n) tmp[o++] = rop_cmp(ops, &s[j], &s[i]) < 0 ? s[j++] : s[i++];
  while (i < h) tmp[o++] = s[i++];
  while (j < n) tmp[o++] = s[j++];
  memcpy(s, tmp, n * sizeof *s);
}

/* LSD radix sort of s[0..n) by .pre (8 bits a pass; a pass where every
 * element has the same byte is skipped); stable. The result is in s. */
static void radix(sdb_rkey *s, sdb_rkey *tmp, size_t n, size_t (*cnt)[256]) {
  sdb_rkey *src = s, *dst = tmp;
  memset(cnt, 0, 8 * sizeof *cnt);
  for (size_t i = 0; i < n; i++) {
    uint64_t pre = s[i].pre;
    for (int d = 0; d < 8; d++) cnt[d][(pre >> (8 * d)) & 0xff]++;
  }
  for (int d = 0; d < 8; d++) { /* least significant byte first */
    size_t *c = cnt[d], sum = 0;
    if (c[(src[0].pre >> (8 * d)) & 0xff] == n) continue;
    for (int b = 0; b < 256; b++) {
      size_t t = c[b];
      c[b] = sum;
      sum += t;
    }
    for (size_t i = 0; i < n; i++) dst[c[(src[i].pre >> (8 * d)) & 0xff]++] = src[i];
    sdb_rkey *t = src;
    src = dst;
    dst = t;
  }
  if (src != s) memcpy(s, src, n * sizeof *s);
}

static uint64_t prefix_at(const sdb_rop *o, size_t off) {
  return o->kn > off ? key_prefix(o->k + off, o->kn - off) : 0;
}

/* Sorts s[0..n) by rop_cmp, given that the keys agree on their first `off`
 * bytes and .pre holds bytes off..off+7 (R1). Radix on the prefix, then each
 * group of equal prefixes either again on the next 8 bytes (big groups whose
 * keys go on) or by comparison. Equal keys always share a group, so two
 * neighbours with different .pre have different keys. */
static void sort_range(const sdb_rop *ops, sdb_rkey *s, sdb_rkey *tmp, size_t n, size_t off, size_t (*cnt)[256]) {
  if (n <= 32) {
    group_sort(ops, s, tmp, n);
    return;
  }
  radix(s, tmp, n, cnt);
  for (size_t i = 0, j; i < n; i = j) {
    int deeper = ops[s[i].i].kn > off + 8;
    for (j = i + 1; j < n && s[j].pre == s[i].pre; j++) deeper |= ops[s[j].i].kn > off + 8;
    if (j - i < 2) continue;
    if (j - i <= 32 || !deeper) {
      group_sort(ops, s + i, tmp, j - i);
      continue;
    }
    for (size_t k = i; k < j; k++) s[k].pre = prefix_at(&ops[s[k].i], off + 8);
    sort_range(ops, s + i, tmp, j - i, off + 8, cnt);
  }
}

int sdb__rrun_sort(sdb_rrun *r) {
  size_t n = r->n, cnt[8][256];
  r->nuniq = 0;
  if (!n) return 0;
  if (r->tmpcap < n) {
    sdb_rkey *b = realloc(r->tmp, n * sizeof *b);
    if (!b) return SDB_ENOMEM;
    r->tmp = b;
    r->tmpcap = n;
  }
  sdb_rkey *s = r->ord;
  /* .pre was taken at offset 0 as ops came in; skip what every key shares */
  if (r->lcp > 0)
    for (size_t i = 0; i < n; i++) s[i].pre = prefix_at(&r->ops[s[i].i], r->lcp);
  sort_range(r->ops, s, r->tmp, n, r->lcp, cnt);
  size_t out = 0;
  for (size_t k = 0; k < n; k++) { /* R3: the first of each user key is its newest version */
    if (out > 0 && s[out - 1].pre == s[k].pre) {
      const sdb_rop *p = &r->ops[s[out - 1].i], *o = &r->ops[s[k].i];
      if (!sdb__ucmp(p->k, p->kn, o->k, o->kn)) continue;
    }
    s[out++] = s[k];
  }
  r->nuniq = out;
  return 0;
}

void sdb__rrun_clear(sdb_rrun *r) {
  for (sdb_rcopy *c = r->copies, *x; c; c = x) {
    x = c->next;
    free(c);
  }
  r->copies = NULL;
  r->n = r->bytes = r->nuniq = r->lcp = 0;
}

void sdb__rrun_free(sdb_rrun *r) {
  sdb__rrun_clear(r);
  free(r->ops);
  free(r->ord);
  free(r->tmp);
  memset(r, 0, sizeof *r);
}
