/*
 * orc_test_util.h — helpers for the oracle tests: build op logs by hand, build recovered states
 * by applying chosen ops to a reference map, run orc_check.
 * Values are 40-byte self-describing values of their op (wl_value_fill), unless a test says
 * otherwise, so every written value is unique.
 */
#ifndef ORC_TEST_UTIL_H
#define ORC_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "workloads.h"

#define A WL_OUT_ACKED
#define F WL_OUT_FAILED
#define U WL_OUT_UNKNOWN

static uint8_t tu_vbuf[64][64];
static unsigned tu_vi;

static inline const uint8_t *tu_val(const char *key, uint64_t op, uint32_t sub, size_t len) {
  uint8_t *b = tu_vbuf[tu_vi++ % 64];
  wl_value_fill(b, len, (const uint8_t *)key, strlen(key), op, sub);
  return b;
}

static inline uint64_t tu_put_len(wl_log *l, const char *key, size_t len, int sync, wl_outcome o) {
  wl_op op = {0};
  op.kind = WL_PUT;
  op.sync = sync;
  op.key = (const uint8_t *)key;
  op.klen = strlen(key);
  op.val = tu_val(key, l->n, 0, len);
  op.vlen = len;
  if (wl_log_append(l, &op, o, o == F ? -5 : 0)) abort();
  return l->n - 1;
}
static inline uint64_t tu_put(wl_log *l, const char *key, int sync, wl_outcome o) {
  return tu_put_len(l, key, 40, sync, o);
}
static inline uint64_t tu_del(wl_log *l, const char *key, int sync, wl_outcome o) {
  wl_op op = {0};
  op.kind = WL_DEL;
  op.sync = sync;
  op.key = (const uint8_t *)key;
  op.klen = strlen(key);
  if (wl_log_append(l, &op, o, o == F ? -5 : 0)) abort();
  return l->n - 1;
}
static inline uint64_t tu_delrange(wl_log *l, const char *b, const char *e, int sync, wl_outcome o) {
  wl_op op = {0};
  op.kind = WL_DELRANGE;
  op.sync = sync;
  op.key = (const uint8_t *)b;
  op.klen = strlen(b);
  op.end = (const uint8_t *)e;
  op.elen = strlen(e);
  if (wl_log_append(l, &op, o, o == F ? -5 : 0)) abort();
  return l->n - 1;
}
/* The sub-ops of keys (NULL-terminated, at most 16; a key starting with '-' is a delete of
 * the rest) for an op about to be appended to l; returns how many. */
static inline uint32_t tu_subs(const wl_log *l, const char *const *keys, wl_sub *sub) {
  uint32_t n = 0;
  for (; keys[n]; n++) {
    int del = keys[n][0] == '-';
    const char *k = keys[n] + del;
    sub[n] = (wl_sub){del ? WL_DEL : WL_PUT, (const uint8_t *)k, strlen(k), del ? NULL : tu_val(k, l->n, n, 40),
                      del ? 0 : 40};
  }
  return n;
}
/* keys: NULL-terminated; a key starting with '-' is a delete of the rest. */
static inline uint64_t tu_batch(wl_log *l, const char *const *keys, int sync, wl_outcome o) {
  wl_sub sub[16];
  wl_op op = {0};
  uint32_t n = tu_subs(l, keys, sub);
  op.kind = WL_BATCH;
  op.sync = sync;
  op.sub = sub;
  op.nsub = n;
  if (wl_log_append(l, &op, o, o == F ? -5 : 0)) abort();
  return l->n - 1;
}
static inline uint64_t tu_ctl(wl_log *l, wl_kind kind, wl_outcome o) {
  wl_op op = {0};
  op.kind = kind;
  if (wl_log_append(l, &op, o, o == F ? -5 : 0)) abort();
  return l->n - 1;
}

/* Plant concurrency: op i was invoked at seq inv and its outcome recorded at ack
 * (WL_SEQ_NONE: in flight); thread only labels it. */
static inline void tu_span(wl_log *l, uint64_t i, uint64_t inv, uint64_t ack) {
  l->ops[i].inv_seq = inv;
  l->ops[i].ack_seq = ack;
  l->ops[i].thread = (uint32_t)(i % 4);
}

/* A recovered state: a reference map plus the kv array handed to the oracle. */
typedef struct tu_state {
  wl_ref *ref;
  orc_kv *kv;
  size_t n, cap;
  uint8_t *extra[64]; /* bytes owned by the state (mutations) */
  int nextra;
} tu_state;

static inline void tu_state_init(tu_state *s) {
  memset(s, 0, sizeof(*s));
  if (wl_ref_create(&s->ref)) abort();
}
static inline void tu_state_free(tu_state *s) {
  wl_ref_destroy(s->ref);
  free(s->kv);
  for (int i = 0; i < s->nextra; i++) free(s->extra[i]);
}
static inline void tu_apply(tu_state *s, const wl_log *l, uint64_t i) {
  if (wl_ref_apply(s->ref, &l->ops[i].op)) abort();
}
/* Apply ops [0, k) except those listed (-1 terminated). */
static inline void tu_apply_prefix(tu_state *s, const wl_log *l, uint64_t k, const int64_t *skip) {
  for (uint64_t i = 0; i < k; i++) {
    int sk = 0;
    for (const int64_t *p = skip; p && *p >= 0; p++)
      if ((uint64_t)*p == i) sk = 1;
    if (!sk) tu_apply(s, l, i);
  }
}
static inline int tu_collect(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  tu_state *s = arg;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->kv = realloc(s->kv, s->cap * sizeof(orc_kv));
  }
  s->kv[s->n++] = (orc_kv){k, kl, v, vl};
  return 0;
}
/* Freeze the ref map into the kv array (call after all applies, before mutations). */
static inline void tu_freeze(tu_state *s) {
  s->n = 0;
  wl_ref_foreach(s->ref, tu_collect, s);
}
static inline orc_kv *tu_find(tu_state *s, const char *key) {
  for (size_t i = 0; i < s->n; i++)
    if (s->kv[i].klen == strlen(key) && !memcmp(s->kv[i].key, key, s->kv[i].klen)) return &s->kv[i];
  return NULL;
}
static inline void tu_drop(tu_state *s, const char *key) {
  orc_kv *kv = tu_find(s, key);
  if (!kv) abort();
  *kv = s->kv[--s->n];
}
static inline void tu_set(tu_state *s, const char *key, const uint8_t *v, size_t vl) {
  uint8_t *copy = malloc(vl + 1), *kc = malloc(strlen(key) + 1);
  memcpy(copy, v, vl);
  memcpy(kc, key, strlen(key) + 1);
  s->extra[s->nextra++] = copy;
  s->extra[s->nextra++] = kc;
  orc_kv *kv = tu_find(s, key);
  if (!kv) {
    tu_collect(s, kc, strlen(key), copy, vl);
  } else {
    kv->val = copy;
    kv->vlen = vl;
  }
}

static inline orc_verdict tu_check(const wl_log *l, uint32_t contract, orc_crash crash, tu_state *s, orc_result *res) {
  orc_input in = {l, contract, crash, s->kv, s->n, NULL, NULL, NULL, 0};
  int rc = orc_check(&in, res);
  if (rc) {
    fprintf(stderr, "orc_check failed: %s\n", orc_strerror(rc));
    abort();
  }
  return res->verdict;
}

#define C_LSM (ORC_DURABLE_ACK | ORC_PROCESS_SAFE | ORC_PREFIX | ORC_ATOMIC_BATCH)

#endif
