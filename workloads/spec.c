/*
 * spec.c — workload specs: built-in defaults, `name[:key=value,...]` parsing and the canonical
 * printed form, plus wl_strerror.
 *
 * Invariants:
 *   (1) wl_spec_format(wl_spec_parse(s)) is canonical: the name, then only overridden keys in
 *       the fixed order of the WL__K_* table; parsing the canonical form gives equal params.
 *   (2) Probabilities are parsed from decimals into exact integers (ppm): no floating point.
 *   (3) Parse errors name the offending key and value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl_int.h"

const char *wl_strerror(int code) {
  switch (code) {
    case 0: return "ok";
#define WL_STR_(name, c, msg) \
  case c: return msg;
      WL_ERRNO_MAP(WL_STR_)
#undef WL_STR_
    default: return "unknown error";
  }
}

const char *const wl_workload_names[] = {"mixed", "fill",   "overwrite", "batch", "bank", "large",
                                         "churn", "reopen", "sizes",     "views", NULL};

static const char *const key_names[WL__K_COUNT] = {
    "ops",         "keys",     "dist",     "key_size", "value_size", "value_dist", "sync", "batch",
    "batch_ratio", "del",      "delrange", "flush",    "reopen",     "close",      "get",  "barrier",
    "threads",     "snapshot", "iter",     "txn",      "abort",      "checkpoint"};

#define P(x) ((uint32_t)((x)*1000)) /* permille literal -> ppm, integer */

int wl_params_default(const char *name, wl_params *p) {
  memset(p, 0, sizeof(*p));
  if (!name || strlen(name) >= sizeof(p->name)) return WL_ESPEC;
  snprintf(p->name, sizeof(p->name), "%s", name);
  p->ops = 1000;
  p->keys = 1000;
  p->dist = WL_DIST_UNIFORM;
  p->key_size = 16;
  p->value_min = 0;
  p->value_max = 256;
  p->sync = P(100);
  p->batch = 8;
  p->threads = 1;
  if (!strcmp(name, "mixed")) {
    p->batch_ratio = P(100);
    p->del = P(100);
    p->delrange = P(10);
    p->flush = P(10);
    p->reopen = P(5);
    p->get = P(50);
    p->barrier = P(20);
  } else if (!strcmp(name, "fill")) {
    p->dist = WL_DIST_SEQ;
    p->value_min = p->value_max = 100;
    p->sync = P(10);
  } else if (!strcmp(name, "overwrite")) {
    p->dist = WL_DIST_ZIPF;
    p->value_max = 128;
    p->sync = P(50);
    p->get = P(20);
    p->barrier = P(10);
  } else if (!strcmp(name, "batch")) {
    p->batch = 16;
    p->batch_ratio = P(900);
    p->del = P(200);
    p->sync = P(200);
    p->barrier = P(20);
    p->get = P(20);
  } else if (!strcmp(name, "bank")) {
    p->keys = 100;
    p->dist = WL_DIST_UNIFORM;
    p->batch = 2; /* every other op is a transfer */
    p->sync = P(100);
    p->barrier = P(20);
    p->flush = P(5);
    p->value_min = p->value_max = 52;
  } else if (!strcmp(name, "large")) {
    p->ops = 40;
    p->keys = 16;
    p->value_min = 1u << 20;
    p->value_max = 4u << 20;
    p->sync = P(300);
    p->del = P(100);
    p->barrier = P(50);
    p->get = P(50);
  } else if (!strcmp(name, "churn")) {
    p->ops = 5000;
    p->keys = 500;
    p->value_min = 64;
    p->value_max = 512;
    p->del = P(200);
    p->flush = P(5);
    p->sync = P(20);
    p->get = P(10);
    snprintf(p->target_opts, sizeof(p->target_opts), "memtable_bytes=4096");
  } else if (!strcmp(name, "reopen")) {
    p->reopen = P(50);
    p->close = P(25);
    p->del = P(100);
    p->batch_ratio = P(50);
    p->get = P(50);
    p->barrier = P(20);
  } else if (!strcmp(name, "sizes")) {
    /* values from empty to 256 KiB, log-uniform: records of one to many 32 KiB log
         * blocks, memtables and tables that fill in a few ops */
    p->ops = 300;
    p->keys = 200;
    p->value_min = 0;
    p->value_max = 256u << 10;
    p->value_log = 1;
    p->sync = P(200);
    p->batch_ratio = P(100);
    p->batch = 4;
    p->del = P(100);
    p->flush = P(10);
    p->reopen = P(10);
    p->get = P(50);
    p->barrier = P(20);
  } else if (!strcmp(name, "views")) {
    /* reads at snapshots and iterators held across writes, flushes and reopens,
         * transactions (a quarter rolled back), checkpoints: each op needs its capability */
    p->ops = 500;
    p->keys = 200;
    p->value_max = 128;
    p->del = P(100);
    p->batch_ratio = P(50);
    p->delrange = P(10);
    p->flush = P(20);
    p->reopen = P(5);
    p->barrier = P(20);
    p->get = P(20);
    p->snapshot = P(100);
    p->iter = P(100);
    p->txn = P(60);
    p->txn_abort = P(250);
    p->checkpoint = P(6);
  } else {
    return WL_ESPEC;
  }
  return 0;
}

int wl_parse_u64(const char *s, uint64_t *out) {
  char *end;
  if (!s || *s < '0' || *s > '9') return -1;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end) return -1;
  if (errno == ERANGE) return -2;
  if (errno) return -1;
  *out = v;
  return 0;
}

/* "0.25" -> 250000; accepts 0, 1, 1.0, .5, up to 6 decimals; must be within [0,1]. */
static int parse_ppm(const char *s, uint32_t *out) {
  uint64_t whole = 0, frac = 0;
  int nd = 0, any = 0;
  const char *p = s;
  while (*p >= '0' && *p <= '9') {
    whole = whole * 10 + (uint64_t)(*p++ - '0');
    any = 1;
    if (whole > 1) return -1;
  }
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') {
      if (nd == 6) {
        if (*p != '0') return -1; /* finer than 1 ppm */
      } else {
        frac = frac * 10 + (uint64_t)(*p - '0');
        nd++;
      }
      p++;
      any = 1;
    }
  }
  if (*p || !any) return -1;
  while (nd < 6) {
    frac *= 10;
    nd++;
  }
  uint64_t v = whole * WL_PPM + frac;
  if (v > WL_PPM) return -1;
  *out = (uint32_t)v;
  return 0;
}

#define WL_MAX_OPS 1000000000ull

/* -1: bad value; -2: a number out of range (the caller says so) */
static int set_key(wl_params *p, int k, const char *v) {
  uint64_t u, u2;
  uint32_t ppm;
  int rc;
  switch (k) {
    case WL__K_OPS:
      if ((rc = wl_parse_u64(v, &u))) return rc;
      if (u > WL_MAX_OPS) return -2;
      p->ops = u;
      return 0;
    case WL__K_KEYS:
      if ((rc = wl_parse_u64(v, &u))) return rc;
      if (u == 0) return -1;
      p->keys = u;
      return 0;
    case WL__K_DIST:
      if (!strcmp(v, "seq"))
        p->dist = WL_DIST_SEQ;
      else if (!strcmp(v, "uniform"))
        p->dist = WL_DIST_UNIFORM;
      else if (!strcmp(v, "zipf"))
        p->dist = WL_DIST_ZIPF;
      else
        return -1;
      return 0;
    case WL__K_KEY_SIZE:
      if (wl_parse_u64(v, &u) || u == 0 || u > 4096) return -1;
      p->key_size = (uint32_t)u;
      return 0;
    case WL__K_VALUE_SIZE: {
      const char *dots = strstr(v, "..");
      char a[32];
      if (dots) {
        size_t n = (size_t)(dots - v);
        if (n == 0 || n >= sizeof(a)) return -1;
        memcpy(a, v, n);
        a[n] = 0;
        if (wl_parse_u64(a, &u) || wl_parse_u64(dots + 2, &u2)) return -1;
      } else {
        if (wl_parse_u64(v, &u)) return -1;
        u2 = u;
      }
      if (u > u2 || u2 > (64u << 20)) return -1;
      p->value_min = (uint32_t)u;
      p->value_max = (uint32_t)u2;
      return 0;
    }
    case WL__K_VALUE_DIST:
      if (!strcmp(v, "uniform"))
        p->value_log = 0;
      else if (!strcmp(v, "log"))
        p->value_log = 1;
      else
        return -1;
      return 0;
    case WL__K_BATCH:
      if (wl_parse_u64(v, &u) || u < 1 || u > 100000) return -1;
      p->batch = (uint32_t)u;
      return 0;
    case WL__K_THREADS:
      if (wl_parse_u64(v, &u) || u < 1 || u > WL_MAX_THREADS) return -1;
      p->threads = (uint32_t)u;
      return 0;
    default: break;
  }
  if (parse_ppm(v, &ppm)) return -1;
  switch (k) {
    case WL__K_SYNC: p->sync = ppm; break;
    case WL__K_BATCH_RATIO: p->batch_ratio = ppm; break;
    case WL__K_DEL: p->del = ppm; break;
    case WL__K_DELRANGE: p->delrange = ppm; break;
    case WL__K_FLUSH: p->flush = ppm; break;
    case WL__K_REOPEN: p->reopen = ppm; break;
    case WL__K_CLOSE: p->close = ppm; break;
    case WL__K_GET: p->get = ppm; break;
    case WL__K_BARRIER: p->barrier = ppm; break;
    case WL__K_SNAPSHOT: p->snapshot = ppm; break;
    case WL__K_ITER: p->iter = ppm; break;
    case WL__K_TXN: p->txn = ppm; break;
    case WL__K_ABORT: p->txn_abort = ppm; break;
    case WL__K_CHECKPOINT: p->checkpoint = ppm; break;
    default: return -1;
  }
  return 0;
}

static const char *value_hint(int k) {
  switch (k) {
    case WL__K_OPS: return "an integer in 0..1000000000";
    case WL__K_KEYS: return "a positive integer";
    case WL__K_DIST: return "seq, uniform or zipf";
    case WL__K_KEY_SIZE: return "an integer in 1..4096";
    case WL__K_VALUE_SIZE: return "N or MIN..MAX bytes, at most 64 MiB";
    case WL__K_VALUE_DIST: return "uniform or log";
    case WL__K_BATCH: return "an integer in 1..100000";
    case WL__K_THREADS: return "an integer in 1..64";
    default: return "a decimal probability in [0,1] (at most 6 decimals)";
  }
}

int wl_spec_parse(const char *spec, wl_params *out, char *err, size_t errlen) {
  char name[64], item[256];
  const char *colon, *p;
  int rc = WL_ESPEC;
  wl_params tmp;
  if (err && errlen) err[0] = 0;
  if (!spec || !out) {
    if (err) snprintf(err, errlen, "workload spec: missing");
    return WL_EINVAL;
  }
  colon = strchr(spec, ':');
  size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
  if (nl == 0 || nl >= sizeof(name)) {
    if (err) snprintf(err, errlen, "workload spec '%s': missing or too long workload name", spec);
    goto fail;
  }
  memcpy(name, spec, nl);
  name[nl] = 0;
  if (wl_params_default(name, &tmp)) {
    if (err) {
      int o = snprintf(err, errlen, "workload spec '%s': unknown workload '%s' (known:", spec, name);
      for (int i = 0; wl_workload_names[i] && o >= 0 && (size_t)o < errlen; i++)
        o += snprintf(err + o, errlen - (size_t)o, " %s", wl_workload_names[i]);
      if (o >= 0 && (size_t)o < errlen) snprintf(err + o, errlen - (size_t)o, ")");
    }
    goto fail;
  }
  p = colon ? colon + 1 : NULL;
  while (p) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (n == 0 || n >= sizeof(item)) {
      if (err) snprintf(err, errlen, "workload spec '%s': empty or too long parameter", spec);
      goto fail;
    }
    memcpy(item, p, n);
    item[n] = 0;
    char *eq = strchr(item, '=');
    if (!eq) {
      if (err) snprintf(err, errlen, "workload spec '%s': parameter '%s' has no '=value'", spec, item);
      goto fail;
    }
    *eq = 0;
    int k;
    for (k = 0; k < WL__K_COUNT; k++)
      if (!strcmp(item, key_names[k])) break;
    if (k == WL__K_COUNT) {
      if (err) {
        int o = snprintf(err, errlen, "workload spec '%s': unknown parameter '%s' (known:", spec, item);
        for (int i = 0; i < WL__K_COUNT && o >= 0 && (size_t)o < errlen; i++)
          o += snprintf(err + o, errlen - (size_t)o, " %s", key_names[i]);
        if (o >= 0 && (size_t)o < errlen) snprintf(err + o, errlen - (size_t)o, ")");
      }
      goto fail;
    }
    int src = set_key(&tmp, k, eq + 1);
    if (src) {
      if (err)
        snprintf(err, errlen, "workload spec '%s': %s '%s' for %s: expected %s", spec,
                 src == -2 ? "number out of range" : "bad value", eq + 1, item, value_hint(k));
      goto fail;
    }
    tmp.set_mask |= 1u << k;
    p = comma ? comma + 1 : NULL;
  }
  uint64_t sum = (uint64_t)tmp.batch_ratio + tmp.delrange + tmp.flush + tmp.reopen + tmp.close + tmp.get + tmp.barrier +
                 tmp.snapshot + tmp.iter + tmp.checkpoint;
  int bank = !strcmp(tmp.name, "bank");
  if (!bank) sum += tmp.txn; /* bank: txn says how transfers are made, not how many */
  if (bank && tmp.txn != 0 && tmp.txn != WL_PPM) {
    if (err)
      snprintf(err, errlen,
               "workload spec '%s': bank takes txn=0 or txn=1 (a blind transfer writes "
               "balances the generator computed, which transactions do not update)",
               spec);
    goto fail;
  }
  if (tmp.threads > 1 && bank && tmp.txn != WL_PPM) {
    if (err)
      snprintf(err, errlen,
               "workload spec '%s': bank takes threads>1 only with txn=1 (a blind transfer "
               "writes balances computed from the transfer before it)",
               spec);
    goto fail;
  }
  if (sum > WL_PPM) {
    if (err)
      snprintf(err, errlen,
               "workload spec '%s': batch_ratio+delrange+flush+reopen+close+get+barrier+snapshot+"
               "iter+txn+checkpoint add up to more than 1",
               spec);
    goto fail;
  }
  *out = tmp;
  return 0;
fail:
  return rc;
}

static int fmt_ppm(char *b, size_t n, uint32_t v) {
  if (v == WL_PPM) return snprintf(b, n, "1");
  if (v == 0) return snprintf(b, n, "0");
  char frac[16];
  snprintf(frac, sizeof(frac), "%06u", v);
  int l = 6;
  while (l > 1 && frac[l - 1] == '0') frac[--l] = 0;
  return snprintf(b, n, "0.%s", frac);
}

int wl_spec_format(const wl_params *p, char *buf, size_t len) {
  char v[64];
  size_t o = 0;
  int n;
  if (!p || !buf) return WL_EINVAL;
  n = snprintf(buf, len, "%s", p->name);
  if (n < 0 || (size_t)n >= len) return WL_EINVAL;
  o = (size_t)n;
  int first = 1;
  for (int k = 0; k < WL__K_COUNT; k++) {
    if (!(p->set_mask & (1u << k))) continue;
    switch (k) {
      case WL__K_OPS: snprintf(v, sizeof(v), "%llu", (unsigned long long)p->ops); break;
      case WL__K_KEYS: snprintf(v, sizeof(v), "%llu", (unsigned long long)p->keys); break;
      case WL__K_DIST:
        snprintf(v, sizeof(v), "%s", p->dist == WL_DIST_SEQ ? "seq" : p->dist == WL_DIST_ZIPF ? "zipf" : "uniform");
        break;
      case WL__K_KEY_SIZE: snprintf(v, sizeof(v), "%u", p->key_size); break;
      case WL__K_VALUE_SIZE:
        if (p->value_min == p->value_max)
          snprintf(v, sizeof(v), "%u", p->value_min);
        else
          snprintf(v, sizeof(v), "%u..%u", p->value_min, p->value_max);
        break;
      case WL__K_VALUE_DIST: snprintf(v, sizeof(v), "%s", p->value_log ? "log" : "uniform"); break;
      case WL__K_BATCH: snprintf(v, sizeof(v), "%u", p->batch); break;
      case WL__K_SYNC: fmt_ppm(v, sizeof(v), p->sync); break;
      case WL__K_BATCH_RATIO: fmt_ppm(v, sizeof(v), p->batch_ratio); break;
      case WL__K_DEL: fmt_ppm(v, sizeof(v), p->del); break;
      case WL__K_DELRANGE: fmt_ppm(v, sizeof(v), p->delrange); break;
      case WL__K_FLUSH: fmt_ppm(v, sizeof(v), p->flush); break;
      case WL__K_REOPEN: fmt_ppm(v, sizeof(v), p->reopen); break;
      case WL__K_CLOSE: fmt_ppm(v, sizeof(v), p->close); break;
      case WL__K_GET: fmt_ppm(v, sizeof(v), p->get); break;
      case WL__K_BARRIER: fmt_ppm(v, sizeof(v), p->barrier); break;
      case WL__K_THREADS: snprintf(v, sizeof(v), "%u", p->threads); break;
      case WL__K_SNAPSHOT: fmt_ppm(v, sizeof(v), p->snapshot); break;
      case WL__K_ITER: fmt_ppm(v, sizeof(v), p->iter); break;
      case WL__K_TXN: fmt_ppm(v, sizeof(v), p->txn); break;
      case WL__K_ABORT: fmt_ppm(v, sizeof(v), p->txn_abort); break;
      case WL__K_CHECKPOINT: fmt_ppm(v, sizeof(v), p->checkpoint); break;
    }
    n = snprintf(buf + o, len - o, "%c%s=%s", first ? ':' : ',', key_names[k], v);
    if (n < 0 || (size_t)n >= len - o) return WL_EINVAL;
    o += (size_t)n;
    first = 0;
  }
  return (int)o;
}
