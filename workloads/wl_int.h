/*
 * wl_int.h — internals shared by the workloads module's files (not part of the public API).
 *
 * Invariants:
 *   (1) Every random decision goes through wl__rng (splitmix64): integer-only, so a stream is a
 *       pure function of (params, seed) on every machine.
 *   (2) Little-endian helpers are used for every multi-byte field written to a value or to the
 *       op log, whatever the host order.
 */
#ifndef PC_WL_INT_H
#define PC_WL_INT_H

#include <stdint.h>
#include <string.h>

#include "workloads.h"

typedef struct wl__rng {
  uint64_t s;
} wl__rng;

static inline uint64_t wl__next(wl__rng *r) {
  return wl_splitmix64(&r->s);
}

/* Uniform in [0, n), n > 0; Lemire's multiply-shift with rejection (no modulo bias). */
static inline uint64_t wl__below(wl__rng *r, uint64_t n) {
  __uint128_t m = (__uint128_t)wl__next(r) * n;
  uint64_t lo = (uint64_t)m;
  if (lo < n) {
    uint64_t t = (0 - n) % n;
    while (lo < t) {
      m = (__uint128_t)wl__next(r) * n;
      lo = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

/* 1 with probability ppm / 1e6. */
static inline int wl__chance(wl__rng *r, uint32_t ppm) {
  return wl__below(r, WL_PPM) < ppm;
}

static inline void wl__put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline uint16_t wl__get16(const uint8_t *p) {
  return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}
static inline void wl__put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wl__put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t wl__get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}
static inline uint64_t wl__get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* Spec keys in canonical order; bit i of wl_params.set_mask = key i overridden. */
enum {
  WL__K_OPS,
  WL__K_KEYS,
  WL__K_DIST,
  WL__K_KEY_SIZE,
  WL__K_VALUE_SIZE,
  WL__K_VALUE_DIST,
  WL__K_SYNC,
  WL__K_BATCH,
  WL__K_BATCH_RATIO,
  WL__K_DEL,
  WL__K_DELRANGE,
  WL__K_FLUSH,
  WL__K_REOPEN,
  WL__K_CLOSE,
  WL__K_GET,
  WL__K_BARRIER,
  WL__K_THREADS,
  WL__K_SNAPSHOT,
  WL__K_ITER,
  WL__K_TXN,
  WL__K_ABORT,
  WL__K_CHECKPOINT,
  WL__K_COUNT
};

/* The kind of op a view op's ref must name (WL_SNAP or WL_ITER), 0 for ops without a ref. */
static inline wl_kind wl__ref_kind(wl_kind k) {
  switch (k) {
    case WL_SNAP_GET:
    case WL_SNAP_SCAN:
    case WL_SNAP_RELEASE: return WL_SNAP;
    case WL_ITER_NEXT:
    case WL_ITER_CLOSE: return WL_ITER;
    default: return (wl_kind)0;
  }
}
static inline int wl__kind_has_ref(wl_kind k) {
  return wl__ref_kind(k) != 0;
}

#endif /* PC_WL_INT_H */
