/*
 * ref.c — wl_ref, the in-memory reference map the driver checks WL_GET against.
 *
 * Invariants:
 *   (1) Separate chaining; each node owns one allocation holding key then value.
 *   (2) The bucket count is a power of two and at least the entry count (load <= 1).
 *   (3) Key order for delete-range is bytewise, a shorter key first on a common prefix (the
 *       engines' order).
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "wl_int.h"

typedef struct node {
  struct node *next;
  uint64_t h;
  size_t klen, vlen;
  uint8_t data[]; /* key, then value */
} node;

struct wl_ref {
  node **b;
  size_t nb, n;
};

int wl_ref_create(wl_ref **out) {
  wl_ref *r = calloc(1, sizeof(*r));
  if (!r) return WL_ENOMEM;
  r->nb = 64;
  if (!(r->b = calloc(r->nb, sizeof(node *)))) {
    free(r);
    return WL_ENOMEM;
  }
  *out = r;
  return 0;
}

void wl_ref_destroy(wl_ref *r) {
  if (!r) return;
  for (size_t i = 0; i < r->nb; i++)
    for (node *n = r->b[i], *nx; n; n = nx) {
      nx = n->next;
      free(n);
    }
  free(r->b);
  free(r);
}

static node **find(const wl_ref *r, const uint8_t *k, size_t klen, uint64_t h) {
  node **pp = &r->b[h & (r->nb - 1)];
  for (; *pp; pp = &(*pp)->next)
    if ((*pp)->h == h && (*pp)->klen == klen && !memcmp((*pp)->data, k, klen)) break;
  return pp;
}

static int grow(wl_ref *r) {
  size_t nb = r->nb * 2;
  node **b = calloc(nb, sizeof(node *));
  if (!b) return WL_ENOMEM;
  for (size_t i = 0; i < r->nb; i++)
    for (node *n = r->b[i], *nx; n; n = nx) {
      nx = n->next;
      n->next = b[n->h & (nb - 1)];
      b[n->h & (nb - 1)] = n;
    }
  free(r->b);
  r->b = b;
  r->nb = nb;
  return 0;
}

int wl_ref_put(wl_ref *r, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen) {
  uint64_t h = XXH3_64bits(k, klen);
  node **pp = find(r, k, klen, h);
  node *n = malloc(sizeof(node) + klen + vlen);
  if (!n) return WL_ENOMEM;
  n->h = h;
  n->klen = klen;
  n->vlen = vlen;
  memcpy(n->data, k, klen);
  if (vlen) memcpy(n->data + klen, v, vlen);
  if (*pp) { /* replace in place */
    n->next = (*pp)->next;
    free(*pp);
    *pp = n;
    return 0;
  }
  n->next = NULL;
  *pp = n;
  r->n++;
  if (r->n > r->nb) return grow(r);
  return 0;
}

int wl_ref_del(wl_ref *r, const uint8_t *k, size_t klen) {
  node **pp = find(r, k, klen, XXH3_64bits(k, klen));
  if (*pp) {
    node *n = *pp;
    *pp = n->next;
    free(n);
    r->n--;
  }
  return 0;
}

static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  int c = memcmp(a, b, al < bl ? al : bl);
  if (c) return c;
  return al < bl ? -1 : al > bl;
}

int wl_ref_delrange(wl_ref *r, const uint8_t *b, size_t blen, const uint8_t *e, size_t elen) {
  for (size_t i = 0; i < r->nb; i++)
    for (node **pp = &r->b[i]; *pp;) {
      node *n = *pp;
      if (keycmp(n->data, n->klen, b, blen) >= 0 && keycmp(n->data, n->klen, e, elen) < 0) {
        *pp = n->next;
        free(n);
        r->n--;
      } else {
        pp = &n->next;
      }
    }
  return 0;
}

int wl_ref_apply(wl_ref *r, const wl_op *op) {
  int rc = 0;
  switch (op->kind) {
    case WL_PUT: return wl_ref_put(r, op->key, op->klen, op->val, op->vlen);
    case WL_DEL: return wl_ref_del(r, op->key, op->klen);
    case WL_DELRANGE: return wl_ref_delrange(r, op->key, op->klen, op->end, op->elen);
    case WL_BATCH:
    case WL_TXN:
      if (op->kind == WL_TXN && op->rollback) return 0;
      for (uint32_t s = 0; s < op->nsub && !rc; s++) {
        const wl_sub *sb = &op->sub[s];
        rc =
            sb->kind == WL_PUT ? wl_ref_put(r, sb->key, sb->klen, sb->val, sb->vlen) : wl_ref_del(r, sb->key, sb->klen);
      }
      return rc;
    default: return 0;
  }
}

int wl_ref_get(const wl_ref *r, const uint8_t *k, size_t klen, const uint8_t **v, size_t *vlen) {
  node **pp = find(r, k, klen, XXH3_64bits(k, klen));
  if (!*pp) return 0;
  if (v) *v = (*pp)->data + klen;
  if (vlen) *vlen = (*pp)->vlen;
  return 1;
}

size_t wl_ref_count(const wl_ref *r) {
  return r->n;
}

int wl_ref_foreach(const wl_ref *r, int (*fn)(void *, const uint8_t *, size_t, const uint8_t *, size_t), void *arg) {
  for (size_t i = 0; i < r->nb; i++)
    for (node *n = r->b[i]; n; n = n->next) {
      int rc = fn(arg, n->data, n->klen, n->data + n->klen, n->vlen);
      if (rc) return rc;
    }
  return 0;
}
