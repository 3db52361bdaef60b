/*
 * gen.c — seeded op-stream generators, keys and self-describing values.
 *
 * Invariants:
 *   (1) The stream is a pure function of (params, seed): one splitmix64 PRNG, integer-only
 *       decisions taken in a fixed order per op (kind, then keys, then sync, then sizes), value
 *       bytes derived from (key, op index, sub index) alone. No libc rand(), no floating point.
 *   (2) Keys are "k" + zero-padded decimal index, all of the same length, wide enough for the
 *       index `keys` itself (a delete-range end), so byte order = index order.
 *   (3) A value of WL_VALUE_HDR bytes or more starts with the header below and its checksum
 *       covers every other byte; shorter values are filler derived from the same inputs.
 *         0  magic "pcV1"        4  u32 total length     8  u64 op index
 *         16 u32 sub index       20 u32 low 32 bits of XXH3_64(key)
 *         24 u64 checksum = XXH3_64bits_withSeed(bytes 32.., XXH3_64bits(bytes 0..23))
 *   (4) Keys within one batch are distinct.
 *   (5) Op pointers handed out stay valid until the next wl_gen_next / wl_gen_destroy.
 *   (6) Views: a stream has at most one open snapshot and one open iterator; the ops that read
 *       at one or release it come after it and name it in ref; a REOPEN ends both (the driver
 *       releases them before the close); so does a CLOSE. With every new share at 0 (snapshot,
 *       iter, txn, checkpoint, close) a stream is the one earlier versions generated.
 *   (7) A CLOSE is followed by an OPEN, the stream's next op, which draws nothing from the
 *       PRNG; a CLOSE that is the stream's last op leaves the handle closed (the end of the
 *       workload is then a crash point right after an acked close).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "wl_int.h"

static const uint8_t value_magic[4] = {'p', 'c', 'V', '1'};

const char *wl_kind_name(wl_kind k) {
  switch (k) {
    case WL_PUT: return "PUT";
    case WL_DEL: return "DEL";
    case WL_DELRANGE: return "DELRANGE";
    case WL_BATCH: return "BATCH";
    case WL_SYNC: return "SYNC";
    case WL_FLUSH: return "FLUSH";
    case WL_REOPEN: return "REOPEN";
    case WL_GET: return "GET";
    case WL_SNAP: return "SNAP";
    case WL_SNAP_GET: return "SNAP_GET";
    case WL_SNAP_SCAN: return "SNAP_SCAN";
    case WL_SNAP_RELEASE: return "SNAP_RELEASE";
    case WL_ITER: return "ITER";
    case WL_ITER_NEXT: return "ITER_NEXT";
    case WL_ITER_CLOSE: return "ITER_CLOSE";
    case WL_TXN: return "TXN";
    case WL_CHECKPOINT: return "CHECKPOINT";
    case WL_CLOSE: return "CLOSE";
    case WL_OPEN: return "OPEN";
  }
  return "?";
}

int wl_kind_writes(wl_kind k) {
  return k == WL_PUT || k == WL_DEL || k == WL_DELRANGE || k == WL_BATCH || k == WL_TXN;
}

int wl_kind_reads(wl_kind k) {
  return k == WL_SNAP_GET || k == WL_SNAP_SCAN || k == WL_ITER || k == WL_ITER_NEXT;
}

static int wl__key_digits(uint64_t keys) {
  int d = 1;
  while (keys >= 10) {
    keys /= 10;
    d++;
  }
  return d;
}

static size_t key_len(const wl_params *p) {
  size_t d = (size_t)wl__key_digits(p->keys);
  if (p->key_size > 1 && p->key_size - 1 > d) d = p->key_size - 1;
  return 1 + d;
}

size_t wl_key_of(const wl_params *p, uint64_t i, uint8_t *buf, size_t cap) {
  size_t n = key_len(p);
  if (cap < n) return n;
  buf[0] = 'k';
  for (size_t j = n; j > 1; j--) {
    buf[j - 1] = (uint8_t)('0' + i % 10);
    i /= 10;
  }
  return n;
}

/* ---- values ----------------------------------------------------------------------------- */
static void fill_bytes(uint8_t *b, size_t n, uint64_t seed) {
  wl__rng r = {seed};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) wl__put64(b + i, wl__next(&r));
  if (i < n) {
    uint8_t t[8];
    wl__put64(t, wl__next(&r));
    memcpy(b + i, t, n - i);
  }
}

static uint64_t value_seed(uint64_t kh, uint64_t op, uint32_t sub) {
  return kh ^ (op * 0xD6E8FEB86659FD93ull) ^ ((uint64_t)sub * 0xA0761D6478BD642Full) ^ 0x5851F42D4C957F2Dull;
}

static void seal(uint8_t *buf, size_t len) {
  uint64_t s = XXH3_64bits(buf, 24);
  wl__put64(buf + 24, XXH3_64bits_withSeed(buf + 32, len - 32, s));
}

/* Header + payload (payload NULL: seeded filler). */
static void value_build(uint8_t *buf, size_t len, const uint8_t *key, size_t klen, uint64_t op, uint32_t sub,
                        const uint8_t *payload, size_t plen) {
  uint64_t kh = XXH3_64bits(key, klen);
  uint64_t seed = value_seed(kh, op, sub);
  if (len < WL_VALUE_HDR) {
    fill_bytes(buf, len, seed);
    return;
  }
  memcpy(buf, value_magic, 4);
  wl__put32(buf + 4, (uint32_t)len);
  wl__put64(buf + 8, op);
  wl__put32(buf + 16, sub);
  wl__put32(buf + 20, (uint32_t)kh);
  if (payload) {
    size_t n = plen < len - WL_VALUE_HDR ? plen : len - WL_VALUE_HDR;
    memcpy(buf + WL_VALUE_HDR, payload, n);
    memset(buf + WL_VALUE_HDR + n, 0, len - WL_VALUE_HDR - n);
  } else {
    fill_bytes(buf + WL_VALUE_HDR, len - WL_VALUE_HDR, seed);
  }
  seal(buf, len);
}

void wl_value_fill(uint8_t *buf, size_t len, const uint8_t *key, size_t klen, uint64_t op, uint32_t sub) {
  value_build(buf, len, key, klen, op, sub, NULL, 0);
}

int wl_value_decode(const uint8_t *val, size_t vlen, const uint8_t *key, size_t klen, wl_value_info *info) {
  if (!val || vlen < WL_VALUE_HDR || memcmp(val, value_magic, 4)) return WL_ENOTOURS;
  wl_value_info in;
  in.len = wl__get32(val + 4);
  in.op = wl__get64(val + 8);
  in.sub = wl__get32(val + 16);
  in.key_match = key ? (uint32_t)XXH3_64bits(key, klen) == wl__get32(val + 20) : 0;
  if (info) *info = in;
  if (in.len != vlen) return WL_ECHECKSUM;
  uint64_t s = XXH3_64bits(val, 24);
  if (XXH3_64bits_withSeed(val + 32, vlen - 32, s) != wl__get64(val + 24)) return WL_ECHECKSUM;
  return 0;
}

char *wl_escape(const uint8_t *s, size_t n, char *buf, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  if (!len) return buf;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    int printable = c >= 0x20 && c < 0x7f && c != '\\' && c != '"';
    size_t need = printable ? 1 : 4;
    if (o + need + 4 > len) { /* room for "..." + NUL */
      if (o + 4 <= len) memcpy(buf + o, "...", 3), o += 3;
      break;
    }
    if (printable) {
      buf[o++] = (char)c;
    } else {
      buf[o++] = '\\';
      buf[o++] = 'x';
      buf[o++] = hex[c >> 4];
      buf[o++] = hex[c & 15];
    }
  }
  buf[o < len ? o : len - 1] = 0;
  return buf;
}

char *wl_value_describe(const uint8_t *val, size_t vlen, int present, const uint8_t *key, size_t klen, char *buf,
                        size_t len) {
  wl_value_info vi;
  char esc[64];
  if (!present) {
    snprintf(buf, len, "absent");
    return buf;
  }
  if (vlen == 0) {
    snprintf(buf, len, "empty value");
    return buf;
  }
  int rc = wl_value_decode(val, vlen, key, klen, &vi);
  if (rc == 0) {
    char subs[32] = "";
    if (vi.sub) snprintf(subs, sizeof(subs), " sub %u", vi.sub);
    snprintf(buf, len, "value of op %llu%s%s (%zu B)", (unsigned long long)vi.op, subs,
             vi.key_match ? "" : " written for another key", vlen);
  } else if (rc == WL_ECHECKSUM) {
    snprintf(buf, len, "damaged value claiming op %llu (%zu B, header says %u B)", (unsigned long long)vi.op, vlen,
             vi.len);
  } else {
    snprintf(buf, len, "%zu bytes \"%s\"", vlen, wl_escape(val, vlen < 24 ? vlen : 24, esc, sizeof(esc)));
  }
  return buf;
}

int wl_bank_balance(const uint8_t *val, size_t vlen, uint64_t *balance) {
  uint64_t b = 0;
  if (wl_value_decode(val, vlen, NULL, 0, NULL) != 0 || vlen != WL_VALUE_HDR + 20) return WL_ENOTOURS;
  for (size_t i = WL_VALUE_HDR; i < vlen; i++) {
    if (val[i] < '0' || val[i] > '9') return WL_ENOTOURS;
    b = b * 10 + (uint64_t)(val[i] - '0');
  }
  *balance = b;
  return 0;
}

/* ---- generator ------------------------------------------------------------------------- */
struct wl_gen {
  wl_params p;
  wl__rng rng;
  uint64_t i;   /* next op index */
  uint64_t seq; /* next key for WL_DIST_SEQ */
  size_t klen;
  int octaves; /* zipf: bit length of keys */
  uint8_t *key, *end;
  uint8_t **vals; /* one value buffer per sub-op slot (slot 0 for single ops) */
  size_t *vcap;
  uint8_t *keys;  /* batch keys: nslots * klen */
  uint64_t *kidx; /* batch key indices (distinctness) */
  wl_sub *sub;
  uint32_t nslots;
  uint64_t *bal;               /* bank balances */
  int snap_open, iter_open;    /* invariant 6 */
  uint64_t snap_idx, iter_idx; /* their ops' indices (wl_gen_stamp: as stamped) */
  int opening;                 /* bank: the last op was the opening batch */
  int open_next;               /* the last op was a CLOSE: the next is its OPEN (invariant 7) */
};

void wl_gen_destroy(wl_gen *g) {
  if (!g) return;
  if (g->vals)
    for (uint32_t s = 0; s < g->nslots; s++) free(g->vals[s]);
  free(g->vals);
  free(g->vcap);
  free(g->key);
  free(g->end);
  free(g->keys);
  free(g->kidx);
  free(g->sub);
  free(g->bal);
  free(g);
}

int wl_gen_create(const wl_params *p, uint64_t seed, wl_gen **out) {
  wl_gen *g = NULL;
  int rc = WL_EINVAL;
  if (!p || !out || p->keys == 0 || p->value_min > p->value_max || p->batch == 0) goto fail;
  int bank = !strcmp(p->name, "bank");
  if (bank && p->keys < 2) goto fail;
  rc = WL_ENOMEM;
  if (!(g = calloc(1, sizeof(*g)))) goto fail;
  g->p = *p;
  g->rng.s = seed ^ 0x243F6A8885A308D3ull; /* pi digits: seed 0 is not a special state */
  g->klen = key_len(p);
  uint64_t k = p->keys;
  while (k) {
    g->octaves++;
    k >>= 1;
  }
  g->nslots = bank ? (uint32_t)(p->keys > 2 ? p->keys : 2) : (p->batch > 1 ? p->batch : 1);
  if (bank && p->keys > 1000000) {
    rc = WL_EINVAL;
    goto fail;
  }
  if (!(g->key = malloc(g->klen)) || !(g->end = malloc(g->klen)) || !(g->keys = malloc(g->klen * g->nslots)) ||
      !(g->kidx = calloc(g->nslots, 8)) || !(g->sub = calloc(g->nslots, sizeof(wl_sub))) ||
      !(g->vals = calloc(g->nslots, sizeof(uint8_t *))) || !(g->vcap = calloc(g->nslots, sizeof(size_t))))
    goto fail;
  if (bank) {
    if (!(g->bal = malloc(p->keys * sizeof(uint64_t)))) goto fail;
    for (uint64_t a = 0; a < p->keys; a++) g->bal[a] = WL_BANK_INITIAL;
  }
  *out = g;
  return 0;
fail:
  wl_gen_destroy(g);
  return rc;
}

static uint64_t pick_key(wl_gen *g) {
  switch (g->p.dist) {
    case WL_DIST_SEQ: {
      uint64_t k = g->seq % g->p.keys;
      g->seq++;
      return k;
    }
    case WL_DIST_ZIPF: {
      /* log-uniform rank: an octave [2^j, 2^(j+1)) chosen uniformly, then a rank inside it;
         * P(rank r) ~ 1/r (Zipf s=1) with integers only. Hot keys are the low indices. */
      uint64_t j = wl__below(&g->rng, (uint64_t)g->octaves);
      uint64_t lo = 1ull << j, hi = lo << 1;
      if (hi > g->p.keys + 1) hi = g->p.keys + 1;
      return lo + wl__below(&g->rng, hi - lo) - 1;
    }
    default: return wl__below(&g->rng, g->p.keys);
  }
}

static int value_slot(wl_gen *g, uint32_t s, size_t len) {
  if (g->vcap[s] >= len && g->vals[s]) return 0;
  size_t cap = len < 64 ? 64 : len;
  uint8_t *b = realloc(g->vals[s], cap);
  if (!b) return WL_ENOMEM;
  g->vals[s] = b;
  g->vcap[s] = cap;
  return 0;
}

static size_t pick_vlen(wl_gen *g) {
  uint64_t lo = g->p.value_min, hi = g->p.value_max;
  if (g->p.value_log && hi > lo) {
    /* log-uniform over the span: an octave [2^j, 2^(j+1)) of 1..hi-lo+1 uniformly, then
         * an offset inside it (integers only, as the Zipf key choice) */
    uint64_t span = hi - lo + 1, bits = 0, j, a, b;
    for (uint64_t s = span; s; s >>= 1) bits++;
    j = wl__below(&g->rng, bits);
    a = 1ull << j, b = j + 1 < 64 ? (1ull << (j + 1)) : span + 1;
    if (b > span + 1) b = span + 1;
    return (size_t)(lo + a - 1 + wl__below(&g->rng, b - a));
  }
  return (size_t)lo + (size_t)wl__below(&g->rng, hi - lo + 1);
}

void wl_bank_value_fill(uint8_t *buf, const uint8_t *key, size_t klen, uint64_t op, uint32_t sub, uint64_t balance) {
  char digits[24];
  snprintf(digits, sizeof(digits), "%020llu", (unsigned long long)balance);
  value_build(buf, WL_BANK_VALUE_LEN, key, klen, op, sub, (const uint8_t *)digits, 20);
}

static int bank_value(wl_gen *g, uint32_t s, const uint8_t *key, uint64_t op, uint64_t bal) {
  int rc = value_slot(g, s, WL_BANK_VALUE_LEN);
  if (rc) return rc;
  wl_bank_value_fill(g->vals[s], key, g->klen, op, s, bal);
  return 0;
}

static int gen_bank(wl_gen *g, wl_op *op) {
  int rc;
  g->opening = 0;
  if (op->idx == 0 && g->p.thread == 0) { /* open all accounts in one synced batch */
    g->opening = 1;
    uint32_t n = (uint32_t)g->p.keys;
    for (uint32_t a = 0; a < n; a++) {
      uint8_t *k = g->keys + (size_t)a * g->klen;
      wl_key_of(&g->p, a, k, g->klen);
      if ((rc = bank_value(g, a, k, 0, g->bal[a]))) return rc;
      g->sub[a] = (wl_sub){WL_PUT, k, g->klen, g->vals[a], WL_VALUE_HDR + 20};
    }
    op->kind = WL_BATCH;
    op->sync = 1;
    op->sub = g->sub;
    op->nsub = n;
    return 1;
  }
  uint64_t a = pick_key(g), b;
  do b = pick_key(g);
  while (b == a);
  if (g->p.txn) { /* a transaction: the driver reads both balances, wl_bank_txn_fill moves */
    uint64_t acc[2] = {a, b};
    for (uint32_t s = 0; s < 2; s++) {
      uint8_t *k = g->keys + (size_t)s * g->klen;
      wl_key_of(&g->p, acc[s], k, g->klen);
      if ((rc = bank_value(g, s, k, op->idx, 0))) return rc;
      g->sub[s] = (wl_sub){WL_PUT, k, g->klen, g->vals[s], WL_BANK_VALUE_LEN};
    }
    op->kind = WL_TXN;
    op->arg = (uint32_t)wl__below(&g->rng, WL_PPM + 1);
    op->rollback = wl__chance(&g->rng, g->p.txn_abort);
    op->sync = wl__chance(&g->rng, g->p.sync);
    op->sub = g->sub;
    op->nsub = 2;
    return 1;
  }
  uint64_t amount = wl__below(&g->rng, g->bal[a] / 2 + 1);
  g->bal[a] -= amount;
  g->bal[b] += amount;
  uint64_t acc[2] = {a, b};
  for (uint32_t s = 0; s < 2; s++) {
    uint8_t *k = g->keys + (size_t)s * g->klen;
    wl_key_of(&g->p, acc[s], k, g->klen);
    if ((rc = bank_value(g, s, k, op->idx, g->bal[acc[s]]))) return rc;
    g->sub[s] = (wl_sub){WL_PUT, k, g->klen, g->vals[s], WL_VALUE_HDR + 20};
  }
  op->kind = WL_BATCH;
  op->sync = wl__chance(&g->rng, g->p.sync);
  op->sub = g->sub;
  op->nsub = 2;
  return 1;
}

/* A range of up to 64 keys from a random key (delete-range, snapshot scans). */
static void pick_range(wl_gen *g, wl_op *op) {
  const wl_params *p = &g->p;
  uint64_t b = pick_key(g);
  uint64_t wmax = p->keys / 50 ? p->keys / 50 : 1;
  if (wmax > 64) wmax = 64; /* ranges of up to 64 keys */
  uint64_t e = b + 1 + wl__below(&g->rng, wmax);
  if (e > p->keys) e = p->keys;
  wl_key_of(p, b, g->key, g->klen);
  wl_key_of(p, e, g->end, g->klen);
  op->key = g->key;
  op->klen = g->klen;
  op->end = g->end;
  op->elen = g->klen;
}

/* A snapshot op (iter 0) or an iterator op (iter 1): open one when none is open, else read
 * at it (3 in 4) or end it (invariant 6). */
static int gen_view(wl_gen *g, wl_op *op, int iter) {
  int *open = iter ? &g->iter_open : &g->snap_open;
  uint64_t *at = iter ? &g->iter_idx : &g->snap_idx;
  if (!*open) {
    *open = 1;
    *at = op->idx;
    op->kind = iter ? WL_ITER : WL_SNAP;
    if (iter) {
      wl_key_of(&g->p, pick_key(g), g->key, g->klen);
      op->key = g->key;
      op->klen = g->klen;
      op->arg = 1 + (uint32_t)wl__below(&g->rng, 8);
    }
    return 1;
  }
  op->ref = *at;
  uint64_t what = wl__below(&g->rng, 4);
  if (what == 0) {
    *open = 0;
    op->kind = iter ? WL_ITER_CLOSE : WL_SNAP_RELEASE;
  } else if (iter) {
    op->kind = WL_ITER_NEXT;
    op->arg = 1 + (uint32_t)wl__below(&g->rng, 8);
  } else if (what == 1) {
    op->kind = WL_SNAP_GET;
    wl_key_of(&g->p, pick_key(g), g->key, g->klen);
    op->key = g->key;
    op->klen = g->klen;
  } else {
    op->kind = WL_SNAP_SCAN;
    if (wl__below(&g->rng, 4) == 0) { /* the whole key space: from key 0 to the last key */
      wl_key_of(&g->p, 0, g->key, g->klen);
      op->key = g->key;
      op->klen = g->klen;
      op->end = g->end;
      op->elen = 0;
    } else {
      pick_range(g, op);
    }
  }
  return 1;
}

int wl_gen_next(wl_gen *g, wl_op *op) {
  const wl_params *p = &g->p;
  int rc;
  if (g->i >= p->ops) return 0;
  memset(op, 0, sizeof(*op));
  op->idx = g->i++;
  op->ref = WL_REF_NONE;
  if (g->open_next) { /* invariant 7 */
    g->open_next = 0;
    op->kind = WL_OPEN;
    return 1;
  }
  int bank = !strcmp(p->name, "bank");
  if (bank && op->idx == 0 && p->thread == 0) return gen_bank(g, op);

  uint64_t r = wl__below(&g->rng, WL_PPM), c = 0;
  uint32_t delrange = (p->caps & WL_CAP_DELRANGE) ? p->delrange : 0;
  uint32_t snap = (p->caps & WL_CAP_SNAPSHOT) ? p->snapshot : 0;
  uint32_t iter = (p->caps & WL_CAP_ITER) ? p->iter : 0;
  uint32_t txn = (p->caps & WL_CAP_TXN) ? p->txn : 0;
  uint32_t ckpt = (p->caps & WL_CAP_CHECKPOINT) ? p->checkpoint : 0;
  wl_kind kind;
  if (r < (c += p->barrier))
    kind = WL_SYNC;
  else if (r < (c += p->flush))
    kind = WL_FLUSH;
  else if (r < (c += p->reopen))
    kind = WL_REOPEN;
  else if (r < (c += p->close))
    kind = WL_CLOSE;
  else if (r < (c += p->get))
    kind = WL_GET;
  else if (r < (c += snap))
    return gen_view(g, op, 0);
  else if (r < (c += iter))
    return gen_view(g, op, 1);
  else if (r < (c += ckpt))
    kind = WL_CHECKPOINT;
  else if (bank)
    return gen_bank(g, op);
  else if (r < (c += delrange))
    kind = WL_DELRANGE;
  else if (r < (c += p->batch_ratio))
    kind = WL_BATCH;
  else if (r < (c += txn))
    kind = WL_TXN;
  else
    kind = wl__chance(&g->rng, p->del) ? WL_DEL : WL_PUT; /* del: a ratio of single writes */
  op->kind = kind;

  switch (kind) {
    case WL_REOPEN:
    case WL_CLOSE:
      g->snap_open = g->iter_open = 0; /* invariant 6: the driver releases them */
      g->open_next = kind == WL_CLOSE;
      return 1;
    case WL_SYNC:
    case WL_FLUSH:
    case WL_CHECKPOINT: return 1;
    case WL_GET:
    case WL_DEL:
    case WL_PUT:
      wl_key_of(p, pick_key(g), g->key, g->klen);
      op->key = g->key;
      op->klen = g->klen;
      if (kind == WL_GET) return 1;
      op->sync = wl__chance(&g->rng, p->sync);
      if (kind == WL_PUT) {
        size_t n = pick_vlen(g);
        if ((rc = value_slot(g, 0, n))) return rc;
        wl_value_fill(g->vals[0], n, g->key, g->klen, op->idx, 0);
        op->val = g->vals[0];
        op->vlen = n;
      }
      return 1;
    case WL_DELRANGE:
      pick_range(g, op);
      op->sync = wl__chance(&g->rng, p->sync);
      return 1;
    case WL_BATCH:
    case WL_TXN: {
      uint32_t want = p->batch >= 2 ? 2 + (uint32_t)wl__below(&g->rng, p->batch - 1) : 1;
      uint32_t n = 0;
      for (uint32_t s = 0; s < want; s++) {
        uint64_t k = 0;
        int dup = 1;
        for (int tries = 0; tries < 8 && dup; tries++) {
          k = pick_key(g);
          dup = 0;
          for (uint32_t j = 0; j < n; j++)
            if (g->kidx[j] == k) {
              dup = 1;
              break;
            }
        }
        int is_del = wl__chance(&g->rng, p->del);
        size_t vl = is_del ? 0 : pick_vlen(g);
        if (dup) continue; /* tiny key space: fewer sub-ops, stream still deterministic */
        uint8_t *kb = g->keys + (size_t)n * g->klen;
        wl_key_of(p, k, kb, g->klen);
        g->kidx[n] = k;
        g->sub[n] = (wl_sub){is_del ? WL_DEL : WL_PUT, kb, g->klen, NULL, 0};
        if (!is_del) {
          if ((rc = value_slot(g, n, vl))) return rc;
          wl_value_fill(g->vals[n], vl, kb, g->klen, op->idx, n);
          g->sub[n].val = g->vals[n];
          g->sub[n].vlen = vl;
        }
        n++;
      }
      op->sub = g->sub;
      op->nsub = n;
      op->sync = wl__chance(&g->rng, p->sync);
      if (kind == WL_TXN) op->rollback = wl__chance(&g->rng, p->txn_abort);
      return 1;
    }
    default: break;
  }
  return WL_EINVAL;
}

int wl_gen_stamp(wl_gen *g, wl_op *op, uint64_t idx) {
  if (!g || !op) return WL_EINVAL;
  int bank = !strcmp(g->p.name, "bank");
  if (bank && op->kind == WL_BATCH && !g->opening) return WL_EINVAL; /* a blind transfer */
  op->idx = idx;
  switch (op->kind) {
    case WL_SNAP: g->snap_idx = idx; break;
    case WL_ITER: g->iter_idx = idx; break;
    case WL_SNAP_GET:
    case WL_SNAP_SCAN:
    case WL_SNAP_RELEASE: op->ref = g->snap_idx; break;
    case WL_ITER_NEXT:
    case WL_ITER_CLOSE: op->ref = g->iter_idx; break;
    case WL_PUT:
      if (op->val == g->vals[0]) wl_value_fill(g->vals[0], op->vlen, op->key, op->klen, idx, 0);
      break;
    case WL_BATCH:
    case WL_TXN:
      if (bank && op->kind == WL_TXN) break; /* wl_bank_txn_fill */
      for (uint32_t s = 0; s < op->nsub; s++) {
        if (g->sub[s].kind != WL_PUT) continue;
        if (bank)
          wl_bank_value_fill(g->vals[s], g->sub[s].key, g->sub[s].klen, idx, s, WL_BANK_INITIAL);
        else
          wl_value_fill(g->vals[s], g->sub[s].vlen, g->sub[s].key, g->sub[s].klen, idx, s);
      }
      break;
    default: break;
  }
  return 0;
}

uint64_t wl_bank_txn_fill(wl_gen *g, wl_op *op, uint64_t from, uint64_t to) {
  uint64_t amount = (from / 2) * op->arg / WL_PPM;
  uint64_t bal[2] = {from - amount, to + amount};
  for (uint32_t s = 0; s < 2 && s < op->nsub; s++)
    wl_bank_value_fill(g->vals[s], g->sub[s].key, g->sub[s].klen, op->idx, s, bal[s]);
  return amount;
}
