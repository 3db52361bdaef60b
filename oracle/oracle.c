/*
 * oracle.c — orc_check: is the recovered state one the target was allowed to come back with?
 * Rules and their justification: docs/oracle.md. Vocabulary:
 *   unit   — what can be applied or not as a whole: a write op (PUT DEL DELRANGE BATCH), or one
 *            sub-op of a batch when the contract lacks ORC_ATOMIC_BATCH.
 *   touch  — one (unit, key, value-or-absent) effect; a delete-range touches every known key in
 *            its range (known = written somewhere in the log, or present in the state).
 *   MUST   — acked unit covered by a durability point; REQ — other acked unit;
 *   OPT    — failed or unknown (in flight) unit: may be applied or not.
 *   eq(t)  — touch t's value equals the recovered value of its key (absent == absent).
 *
 * Invariants:
 *   (1) Every verdict other than PASS is proven: the oracle reports a violation only when no
 *       legal choice of the optional units explains the state (zero false positives); where a
 *       rule is approximated (optional multi-key units treated per key) the approximation only
 *       accepts more states.
 *   (2) Linear time: each pass visits each touch a constant number of times; values are
 *       compared against the recovered state once (eq is precomputed); the prefix search walks k
 *       upward with a running count of keys whose legal set does not contain the recovered value.
 *   (3) Verdict priority: PHANTOM (never written) > PHANTOM (resurrected durable delete) >
 *       LOST_ACKED > TORN_BATCH > NOT_PREFIX > INVARIANT; within one, the smallest key bytewise.
 *   (4) A log whose ops never overlap in real time (one driver thread: each op's outcome comes
 *       before the next op's invocation) is judged by the total order of its ops, as always. A
 *       concurrent log (wl_log_concurrent) is judged by the real-time partial order: op i is
 *       before op j iff i's outcome was recorded before j's invocation (ack_seq < inv_seq);
 *       overlapping ops may be in either order. The concurrent rules are per key and cut
 *       (docs/oracle.md "Concurrent logs"): they accept every state some order allows and may
 *       accept states no single order allows (cross-key order among overlapping ops is not
 *       checked): an over-approximation, never a false violation.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "oracle.h"

const char *orc_strerror(int code) {
  switch (code) {
    case 0: return "ok";
#define ORC_STR_(name, c, msg) \
  case c: return msg;
      ORC_ERRNO_MAP(ORC_STR_)
#undef ORC_STR_
    default: return "unknown error";
  }
}

static const char *const verdict_names[] = {
#define ORC_VNAME_(name) #name,
    ORC_VERDICT_MAP(ORC_VNAME_)
#undef ORC_VNAME_
};

const char *orc_verdict_name(orc_verdict v) {
  return (unsigned)v < ORC_NVERDICTS ? verdict_names[v] : "?";
}

int orc_verdict_parse(const char *name) {
  for (int v = 0; v < ORC_NVERDICTS; v++)
    if (name && !strcmp(name, verdict_names[v])) return v;
  return -1;
}

/* ---- result helpers ---------------------------------------------------------------------- */
void orc_result_free(orc_result *r) {
  if (!r) return;
  free(r->first_key);
  free(r->expected);
  free(r->found);
  free(r->explanation);
  r->first_key = r->expected = r->found = r->explanation = NULL;
}

static int setstr(char **dst, const char *fmt, ...) {
  va_list ap;
  char *s = NULL;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) return ORC_ENOMEM;
  free(*dst);
  *dst = s;
  return 0;
}

static int result_init(orc_result *r) {
  memset(r, 0, sizeof(*r));
  r->durable_through = -1;
  r->prefix_end = -1;
  if (setstr(&r->first_key, "") || setstr(&r->expected, "") || setstr(&r->found, "") || setstr(&r->explanation, "")) {
    orc_result_free(r);
    return ORC_ENOMEM;
  }
  return 0;
}

int orc_result_set(orc_result *out, orc_verdict v, const char *explanation) {
  int rc;
  if (!out || (unsigned)v >= ORC_NVERDICTS) return ORC_EINVAL;
  if ((rc = result_init(out))) return rc;
  out->verdict = v;
  return setstr(&out->explanation, "%s", explanation ? explanation : "");
}

/* ---- working state ------------------------------------------------------------------------ */
enum { U_MUST = 0, U_REQ = 1, U_OPT = 2 };
#define ABSENT UINT32_MAX

typedef struct okey {
  const uint8_t *k; /* into ctx.arena (set once every key is known) */
  uint64_t koff;    /* offset of the key bytes in ctx.arena */
  uint32_t klen;
  uint32_t slen; /* recovered value length, ABSENT if the key is not in the state */
  const uint8_t *sval;
  int32_t lastmust;  /* unit of the last MUST touch, -1 none */
  int32_t lastmatch; /* unit of the last eq touch; -1 = only the initial absent; -2 none */
  uint32_t neq;      /* eq touches */
  uint8_t match;     /* prefix walk: legal set at the current k contains the state */
  uint8_t mustput;   /* concurrent: an undominated MUST touch of this key is a put */
  int64_t mustinv;   /* concurrent: latest invocation seq of a MUST touch, -1 none */
  int64_t eqack;     /* concurrent: latest outcome seq of an eq touch (INT64_MAX: in flight);
                           -1 only the initial absence matches; -2 nothing matches */
  int64_t cm, ce;    /* concurrent sweep: latest inv of an applied REQ/MUST touch, latest
                           ack of an invoked eq touch (-1 none) */
} okey;

typedef struct touch {
  uint32_t key;
  uint32_t vlen; /* ABSENT for deletes */
  const uint8_t *v;
  uint8_t eq;
} touch;

typedef struct unit {
  uint64_t op;
  int32_t sub;  /* -1: the whole op */
  uint8_t st;   /* U_MUST / U_REQ / U_OPT */
  uint8_t kind; /* wl_kind of the op or sub-op */
  uint32_t t0;  /* touches [t0, t0 + nt) */
  uint32_t nt;
  int64_t inv, ack; /* the op's invocation and outcome seqs (ack INT64_MAX: in flight) */
} unit;

/* Hash table slot: enough to compare a key without touching its okey (one cache miss less). */
typedef struct tslot {
  uint32_t h;    /* high 32 bits of XXH3_64(key) */
  uint32_t id1;  /* key id + 1; 0 = empty */
  uint32_t koff; /* key bytes in ctx.arena */
  uint32_t klen;
} tslot;

typedef struct ctx {
  const orc_input *in;
  uint32_t contract;
  okey *keys;
  size_t nkeys, capkeys;
  tslot *tab; /* open addressing, load <= 1/2 */
  size_t tabmask;
  uint8_t *arena; /* key bytes, packed: lookups touch little memory */
  size_t arena_n, arena_cap;
  uint32_t *ids; /* key id of every PUT/DEL/batch sub-op key, in log order */
  size_t nids;
  uint32_t *sorted; /* key ids in key order (only with delete-range) */
  touch *t;
  size_t nt, capt;
  unit *u;
  size_t nu;
  int64_t kmin;           /* every prefix must include units [0, kmin) */
  int conc;               /* the log is concurrent (invariant 4) */
  uint32_t *kt0, *kt;     /* key k's touches: kt[kt0[k] .. kt0[k+1]), in unit order */
  int64_t first_fail_ack; /* outcome seq of the first failure (INT64_MAX: none) */
} ctx;

/* Byte equality, inlined: keys and small values are compared millions of times. */
static inline int eqbytes(const uint8_t *a, const uint8_t *b, size_t n) {
  while (n >= 8) {
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    if (x != y) return 0;
    a += 8;
    b += 8;
    n -= 8;
  }
  while (n--)
    if (*a++ != *b++) return 0;
  return 1;
}

static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  int c = (al && bl) ? memcmp(a, b, al < bl ? al : bl) : 0;
  if (c) return c;
  return al < bl ? -1 : al > bl;
}

static void tab_insert(tslot *tab, size_t mask, const tslot *e) {
  size_t i = e->h & mask;
  while (tab[i].id1) i = (i + 1) & mask;
  tab[i] = *e;
}

/* The slot of key k, or the empty slot where it would go. */
static size_t key_slot(const ctx *c, const uint8_t *k, size_t klen, uint32_t h) {
  size_t i;
  for (i = (size_t)h & c->tabmask; c->tab[i].id1; i = (i + 1) & c->tabmask) {
    const tslot *e = &c->tab[i];
    if (e->h == h && e->klen == klen && eqbytes(c->arena + e->koff, k, klen)) break;
  }
  return i;
}

/* The id of a known key, or -1. */
static int64_t key_find(const ctx *c, const uint8_t *k, size_t klen) {
  size_t i = key_slot(c, k, klen, (uint32_t)(XXH3_64bits(k, klen) >> 32));
  return c->tab[i].id1 ? (int64_t)c->tab[i].id1 - 1 : -1;
}

/* Find or add a key; *id set. Returns 1 if added, 0 if found, <0 error. */
static int key_id(ctx *c, const uint8_t *k, size_t klen, uint32_t *id) {
  uint32_t h = (uint32_t)(XXH3_64bits(k, klen) >> 32);
  size_t i = key_slot(c, k, klen, h);
  if (c->tab[i].id1) {
    *id = c->tab[i].id1 - 1;
    return 0;
  }
  if (c->nkeys == c->capkeys || c->arena_n + klen > UINT32_MAX) return ORC_ENOMEM;
  if (c->arena_n + klen > c->arena_cap) {
    size_t cap = c->arena_cap ? c->arena_cap * 2 : 65536;
    while (cap < c->arena_n + klen) cap *= 2;
    uint8_t *a = realloc(c->arena, cap);
    if (!a) return ORC_ENOMEM;
    c->arena = a;
    c->arena_cap = cap;
  }
  okey *o = &c->keys[c->nkeys];
  memset(o, 0, sizeof(*o));
  if (klen) memcpy(c->arena + c->arena_n, k, klen);
  o->koff = c->arena_n;
  c->arena_n += klen;
  o->klen = (uint32_t)klen;
  o->slen = ABSENT;
  o->lastmust = -1;
  o->lastmatch = -2;
  c->tab[i] = (tslot){h, (uint32_t)c->nkeys + 1, (uint32_t)o->koff, (uint32_t)klen};
  *id = (uint32_t)c->nkeys++;
  if (2 * c->nkeys > c->tabmask) { /* keep the load under one half */
    size_t size = (c->tabmask + 1) * 2;
    tslot *t = calloc(size, sizeof(tslot));
    if (!t) return ORC_ENOMEM;
    for (size_t j = 0; j <= c->tabmask; j++)
      if (c->tab[j].id1) tab_insert(t, size - 1, &c->tab[j]);
    free(c->tab);
    c->tab = t;
    c->tabmask = size - 1;
  }
  return 1;
}

static int add_touch(ctx *c, uint32_t key, const uint8_t *v, uint32_t vlen) {
  if (c->nt == c->capt) {
    size_t cap = c->capt ? c->capt * 2 : 1024;
    touch *t = realloc(c->t, cap * sizeof(*t));
    if (!t) return ORC_ENOMEM;
    c->t = t;
    c->capt = cap;
  }
  const okey *o = &c->keys[key];
  uint8_t eq;
  if (vlen == ABSENT || o->slen == ABSENT)
    eq = vlen == o->slen;
  else
    eq = vlen == o->slen && (vlen <= 64 ? eqbytes(v, o->sval, vlen) : !memcmp(v, o->sval, vlen));
  c->t[c->nt++] = (touch){key, vlen, v, eq};
  return 0;
}

static const ctx *sort_ctx; /* qsort comparator context (single-threaded use only) */
static int cmp_ids(const void *a, const void *b) {
  const okey *x = &sort_ctx->keys[*(const uint32_t *)a], *y = &sort_ctx->keys[*(const uint32_t *)b];
  return keycmp(x->k, x->klen, y->k, y->klen);
}

static size_t lower_bound(const ctx *c, const uint8_t *k, size_t kl) {
  size_t lo = 0, hi = c->nkeys;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const okey *o = &c->keys[c->sorted[mid]];
    if (keycmp(o->k, o->klen, k, kl) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int is_conflict(const wl_logop *lo) {
  return lo->op.kind == WL_TXN && lo->outcome == WL_OUT_FAILED && lo->code == WL_CODE_CONFLICT;
}
/* A failure that may have cost the engine acked writes (a conflict is an answer, not one). */
static int is_failure(const wl_logop *lo) {
  return lo->outcome == WL_OUT_FAILED && !is_conflict(lo);
}
/* A write op that may have taken effect: not a transaction rolled back or whose commit
 * conflicted (those wrote nothing: their values are never legal). */
static int applies(const wl_logop *lo) {
  if (!wl_kind_writes(lo->op.kind)) return 0;
  return lo->op.kind != WL_TXN || (!lo->op.rollback && !is_conflict(lo));
}

/* ---- describing values -------------------------------------------------------------------- */
static void describe_touch(const ctx *c, const touch *t, const unit *u, char *buf, size_t len) {
  const wl_op *op = &c->in->log->ops[u->op].op;
  char sub[32] = "";
  if (op->kind == WL_BATCH || op->kind == WL_TXN) {
    /* which sub-op wrote this key */
    int32_t s = u->sub;
    if (s < 0)
      for (uint32_t i = 0; i < op->nsub; i++)
        if (op->sub[i].klen == c->keys[t->key].klen && !memcmp(op->sub[i].key, c->keys[t->key].k, op->sub[i].klen))
          s = (int32_t)i;
    snprintf(sub, sizeof(sub), " (%s sub %d)", op->kind == WL_TXN ? "transaction" : "batch", s);
  }
  const char *st = u->st == U_MUST                                   ? "durable"
                   : u->st == U_REQ                                  ? "acked"
                   : c->in->log->ops[u->op].outcome == WL_OUT_FAILED ? "failed"
                                                                     : "in flight";
  if (t->vlen == ABSENT)
    snprintf(buf, len, "absent (%s op %llu%s, %s)", op->kind == WL_DELRANGE ? "delete-range" : "delete",
             (unsigned long long)u->op, sub, st);
  else
    snprintf(buf, len, "value of op %llu%s (%s)", (unsigned long long)u->op, sub, st);
}

/* Unit of each touch: touches are stored in unit order, so a binary search finds it. */
static const unit *unit_of(const ctx *c, size_t ti) {
  size_t lo = 0, hi = c->nu;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->u[mid].t0 <= ti)
      lo = mid;
    else
      hi = mid;
  }
  return &c->u[lo];
}

typedef struct sbuf {
  char *s;
  size_t n, cap;
  int items, more;
} sbuf;

static void sb_item(sbuf *b, const char *item) {
  if (b->items >= 6) {
    b->more++;
    return;
  }
  size_t l = strlen(item);
  if (b->n + l + 4 >= b->cap) {
    size_t cap = (b->cap + l + 4) * 2;
    char *s = realloc(b->s, cap);
    if (!s) return;
    b->s = s;
    b->cap = cap;
  }
  if (b->items) {
    memcpy(b->s + b->n, " | ", 3);
    b->n += 3;
  }
  memcpy(b->s + b->n, item, l);
  b->n += l;
  b->s[b->n] = 0;
  b->items++;
}

static char *sb_finish(sbuf *b) {
  char more[48];
  if (b->more) {
    snprintf(more, sizeof(more), "(+%d more)", b->more);
    b->items = 0; /* force append without the cap */
    size_t l = strlen(more);
    char *s = realloc(b->s, b->n + l + 4);
    if (s) {
      b->s = s;
      memcpy(b->s + b->n, " | ", 3);
      memcpy(b->s + b->n + 3, more, l + 1);
    }
  }
  if (!b->s) b->s = strdup("");
  return b->s;
}

/* Legal values of key `kid`: the value left by touch units < `from` that are MUST/REQ (or the
 * initial absence), plus every touch in [from_any, upto) — see callers. */
static char *legal_list(const ctx *c, uint32_t kid, int64_t base_unit_lt, int64_t any_from, int64_t upto,
                        int only_opt_after) {
  sbuf b = {0};
  char d[160];
  int64_t base = -1; /* touch index of the base value */
  for (size_t i = 0; i < c->nt; i++) {
    if (c->t[i].key != kid) continue;
    const unit *u = unit_of(c, i);
    int64_t ui = u - c->u;
    if (ui < base_unit_lt && u->st != U_OPT) base = (int64_t)i;
  }
  if (base < 0)
    sb_item(&b, "absent (never written before)");
  else {
    describe_touch(c, &c->t[base], unit_of(c, (size_t)base), d, sizeof(d));
    sb_item(&b, d);
  }
  for (size_t i = 0; i < c->nt; i++) {
    if (c->t[i].key != kid) continue;
    const unit *u = unit_of(c, i);
    int64_t ui = u - c->u;
    if ((int64_t)i <= base || ui < any_from || ui >= upto) continue;
    if (only_opt_after && u->st != U_OPT) continue;
    describe_touch(c, &c->t[i], u, d, sizeof(d));
    sb_item(&b, d);
  }
  return sb_finish(&b);
}

static int report_key(ctx *c, orc_result *r, uint32_t kid, char *expected) {
  const okey *o = &c->keys[kid];
  char kb[256], d[200];
  free(r->expected);
  r->expected = expected;
  if (!expected) return ORC_ENOMEM;
  wl_escape(o->k, o->klen, kb, sizeof(kb));
  if (setstr(&r->first_key, "%s", kb)) return ORC_ENOMEM;
  /* found: name the op that wrote it when we can */
  int64_t last = -1;
  for (size_t i = 0; i < c->nt; i++)
    if (c->t[i].key == kid && c->t[i].eq) last = (int64_t)i;
  if (last >= 0)
    describe_touch(c, &c->t[last], unit_of(c, (size_t)last), d, sizeof(d));
  else
    wl_value_describe(o->sval, o->slen == ABSENT ? 0 : o->slen, o->slen != ABSENT, o->k, o->klen, d, sizeof(d));
  if (last >= 0 && o->slen == ABSENT) snprintf(d, sizeof(d), "absent");
  return setstr(&r->found, "%s", d);
}

/* ---- the check ----------------------------------------------------------------------------- */
static void ctx_free(ctx *c) {
  free(c->keys);
  free(c->tab);
  free(c->arena);
  free(c->ids);
  free(c->sorted);
  free(c->t);
  free(c->u);
  free(c->kt0);
  free(c->kt);
}

/* What one pass over the log finds before anything is allocated. */
typedef struct scan_info {
  size_t maxkeys, nunits, nranges;
  int sorted; /* delete-ranges or range reads: the key set is sorted */
  int64_t barrier, syncw, last_failed, tdur, fail_ack;
} scan_info;

/* build, phase 1: sizes and durability points; concurrent logs: the latest invocation of an
 * acked durability point (tdur), the latest and the first outcome of a failure. */
static int build_scan(ctx *c, scan_info *si) {
  const wl_log *log = c->in->log;
  uint32_t ct = c->contract;
  *si = (scan_info){c->in->nstate, 0, 0, 0, -1, -1, -1, -1, -1};
  c->first_fail_ack = INT64_MAX;
  c->conc = wl_log_concurrent(log);
  for (size_t i = 0; i < log->n; i++) {
    const wl_logop *lo = &log->ops[i];
    const wl_op *op = &lo->op;
    if (c->conc) { /* seqs: invocations strictly increasing, each outcome after its invocation */
      if (lo->inv_seq >= (uint64_t)INT64_MAX || (i && lo->inv_seq <= log->ops[i - 1].inv_seq) ||
          (lo->ack_seq != WL_SEQ_NONE && lo->ack_seq <= lo->inv_seq) ||
          (lo->outcome != WL_OUT_UNKNOWN && lo->ack_seq == WL_SEQ_NONE))
        return ORC_EINVAL;
      if (is_failure(lo) && (int64_t)lo->ack_seq > si->fail_ack) si->fail_ack = (int64_t)lo->ack_seq;
    }
    if (is_failure(lo)) {
      si->last_failed = (int64_t)i;
      if ((int64_t)lo->ack_seq < c->first_fail_ack) c->first_fail_ack = (int64_t)lo->ack_seq;
    }
    if (lo->outcome == WL_OUT_ACKED) {
      if ((op->kind == WL_SYNC && (ct & ORC_DURABLE_ACK)) ||
          ((op->kind == WL_REOPEN || op->kind == WL_CLOSE) && (ct & ORC_CLOSE_SYNCS)))
        si->barrier = (int64_t)i, si->tdur = (int64_t)lo->inv_seq;
      if (applies(lo) && op->sync && (ct & ORC_DURABLE_ACK)) {
        si->syncw = (int64_t)i;
        if ((ct & ORC_PREFIX) && (int64_t)lo->inv_seq > si->tdur) si->tdur = (int64_t)lo->inv_seq;
      }
    }
    if (!applies(lo)) {
      if (wl_kind_reads(op->kind) || op->kind == WL_CHECKPOINT) si->sorted = 1;
      continue;
    }
    switch (op->kind) {
      case WL_PUT:
      case WL_DEL:
        si->maxkeys++;
        si->nunits++;
        break;
      case WL_DELRANGE:
        si->sorted = 1;
        si->nunits++;
        si->nranges++;
        break;
      case WL_BATCH:
        si->maxkeys += op->nsub;
        si->nunits += (ct & ORC_ATOMIC_BATCH) ? 1 : op->nsub;
        break;
      case WL_TXN:
        si->maxkeys += op->nsub;
        si->nunits++;
        break;
      default: break;
    }
  }
  if (c->in->nckpts) si->sorted = 1;
  if (si->nunits >= INT32_MAX || si->maxkeys >= UINT32_MAX / 2) return ORC_EINVAL; /* ids are 32-bit */
  return 0;
}

/* build, phase 2: the recovered state's keys (a key listed twice is a PHANTOM: *done). */
static int build_state_keys(ctx *c, orc_result *r, int *done) {
  const orc_input *in = c->in;
  for (size_t i = 0; i < in->nstate; i++) {
    uint32_t id;
    int rc;
    const orc_kv *kv = &in->state[i];
    if ((rc = key_id(c, kv->key, kv->klen, &id)) < 0) return rc;
    if (rc == 0) {
      char kb[256];
      r->verdict = ORC_PHANTOM;
      wl_escape(kv->key, kv->klen, kb, sizeof(kb));
      if (setstr(&r->first_key, "%s", kb) || setstr(&r->expected, "one entry per key") ||
          setstr(&r->found, "the key twice in the scan") ||
          setstr(&r->explanation, "recovered state lists key %s more than once", kb))
        return ORC_ENOMEM;
      *done = 1;
      return 0;
    }
    c->keys[id].sval = kv->val;
    c->keys[id].slen = (uint32_t)kv->vlen;
  }
  return 0;
}

/* build, phase 3: the keys the log writes, in log order (ids), then the sorted key set. */
static int build_log_keys(ctx *c, const scan_info *si) {
  const wl_log *log = c->in->log;
  int rc;
  for (size_t i = 0; i < log->n; i++) {
    const wl_op *op = &log->ops[i].op;
    uint32_t id;
    if (!applies(&log->ops[i])) continue;
    if (op->kind == WL_PUT || op->kind == WL_DEL) {
      if ((rc = key_id(c, op->key, op->klen, &id)) < 0) return rc;
      c->ids[c->nids++] = id;
    } else if (op->kind == WL_BATCH || op->kind == WL_TXN) {
      for (uint32_t s = 0; s < op->nsub; s++) {
        if ((rc = key_id(c, op->sub[s].key, op->sub[s].klen, &id)) < 0) return rc;
        c->ids[c->nids++] = id;
      }
    }
  }
  for (size_t k = 0; k < c->nkeys; k++) c->keys[k].k = c->arena + c->keys[k].koff;
  c->capt = c->nids + 64 * si->nranges + 1; /* grows if ranges cover more keys */
  if (!(c->t = malloc(c->capt * sizeof(touch)))) return ORC_ENOMEM;
  if (si->sorted) {
    if (!(c->sorted = malloc((c->nkeys + 1) * sizeof(uint32_t)))) return ORC_ENOMEM;
    for (size_t i = 0; i < c->nkeys; i++) c->sorted[i] = (uint32_t)i;
    sort_ctx = c;
    qsort(c->sorted, c->nkeys, sizeof(uint32_t), cmp_ids);
  }
  return 0;
}

/* The touches of one unit (part p of op lo; the whole op when split is 0). */
static int unit_touches(ctx *c, const wl_op *op, int split, uint32_t p, size_t *next_id) {
  int rc;
  switch (op->kind) {
    case WL_PUT: return add_touch(c, c->ids[(*next_id)++], op->val, (uint32_t)op->vlen);
    case WL_DEL: return add_touch(c, c->ids[(*next_id)++], NULL, ABSENT);
    case WL_DELRANGE:
      for (size_t j = lower_bound(c, op->key, op->klen); j < c->nkeys; j++) {
        const okey *o = &c->keys[c->sorted[j]];
        if (keycmp(o->k, o->klen, op->end, op->elen) >= 0) break;
        if ((rc = add_touch(c, c->sorted[j], NULL, ABSENT))) return rc;
      }
      return 0;
    case WL_BATCH:
    case WL_TXN:
      for (uint32_t s = split ? p : 0; s < (split ? p + 1 : op->nsub); s++) {
        const wl_sub *sb = &op->sub[s];
        if ((rc = add_touch(c, c->ids[(*next_id)++], sb->kind == WL_PUT ? sb->val : NULL,
                            sb->kind == WL_PUT ? (uint32_t)sb->vlen : ABSENT)))
          return rc;
      }
      return 0;
    default: return 0;
  }
}

/* build, phase 4: durability (which acked units are MUST), then units and their touches. */
static int build_units(ctx *c, orc_result *r, const scan_info *si) {
  const orc_input *in = c->in;
  const wl_log *log = in->log;
  uint32_t ct = c->contract;
  size_t next_id = 0;
  int rc;
  int all_acked = in->crash == ORC_CRASH_NONE || (in->crash == ORC_CRASH_KILL && (ct & ORC_PROCESS_SAFE));
  /* An engine that failed may drop what it had acked but not made durable (a failed fsync
     * loses the pages; a failed state refuses to flush at close): "every acked write
     * survives" covers only the writes acked after the last failure. */
  int64_t acked_from = all_acked ? si->last_failed + 1 : INT64_MAX;
  r->durable_through = si->barrier > 0 ? si->barrier - 1 : -1;
  if (all_acked && si->last_failed < (int64_t)log->n - 1) r->durable_through = (int64_t)log->n - 1;
  if (si->syncw > r->durable_through) r->durable_through = si->syncw; /* without prefix: that op alone */
  if (c->conc) r->durable_through = -1;                               /* the latest MUST op, set below */
  c->kmin = 0;
  for (size_t i = 0; i < log->n; i++) {
    const wl_logop *lo = &log->ops[i];
    const wl_op *op = &lo->op;
    if (!applies(lo)) continue;
    uint8_t st;
    int64_t inv = (int64_t)lo->inv_seq, ack = lo->ack_seq == WL_SEQ_NONE ? INT64_MAX : (int64_t)lo->ack_seq;
    if (lo->outcome != WL_OUT_ACKED)
      st = U_OPT;
    else if (c->conc) /* before a durability point in real time: acked before it was invoked */
      st = (all_acked && inv > si->fail_ack) || ack < si->tdur || (op->sync && (ct & ORC_DURABLE_ACK)) ? U_MUST : U_REQ;
    else if ((int64_t)i >= acked_from || (int64_t)i < si->barrier || (op->sync && (ct & ORC_DURABLE_ACK)) ||
             ((ct & ORC_PREFIX) && (int64_t)i < si->syncw))
      st = U_MUST;
    else
      st = U_REQ;
    if (c->conc && st == U_MUST && (int64_t)i > r->durable_through) r->durable_through = (int64_t)i;
    /* a transaction is atomic whatever the contract says of batches */
    int split = op->kind == WL_BATCH && !(ct & ORC_ATOMIC_BATCH);
    uint32_t nparts = split ? op->nsub : 1;
    for (uint32_t p = 0; p < nparts; p++) {
      unit *u = &c->u[c->nu++];
      u->op = i;
      u->sub = split ? (int32_t)p : -1;
      u->st = st;
      u->kind = split ? (uint8_t)op->sub[p].kind : (uint8_t)op->kind;
      u->t0 = (uint32_t)c->nt;
      u->inv = inv;
      u->ack = ack;
      if ((rc = unit_touches(c, op, split, p, &next_id))) return rc;
      u->nt = (uint32_t)(c->nt - u->t0);
      if (st == U_MUST) c->kmin = (int64_t)c->nu;
    }
  }
  return 0;
}

/* build, phase 5: per-key summaries (last MUST and matching touches; concurrent: seqs), and
 * each key's touches in unit order (kt0/kt, for the checks of views). */
static int build_key_summaries(ctx *c) {
  for (size_t k = 0; k < c->nkeys; k++) {
    okey *o = &c->keys[k];
    if (o->slen == ABSENT) o->lastmatch = -1;
    o->mustinv = -1;
    o->eqack = o->slen == ABSENT ? -1 : -2;
  }
  for (size_t ui = 0; ui < c->nu; ui++) {
    const unit *u = &c->u[ui];
    for (uint32_t j = 0; j < u->nt; j++) {
      const touch *t = &c->t[u->t0 + j];
      okey *o = &c->keys[t->key];
      if (u->st == U_MUST) {
        o->lastmust = (int32_t)ui;
        o->mustinv = u->inv;
      }
      if (t->eq) {
        o->lastmatch = (int32_t)ui;
        o->neq++;
        if (u->ack > o->eqack) o->eqack = u->ack;
      }
    }
  }
  if (c->conc) /* MUST touches no later MUST touch of the key follows in real time */
    for (size_t ui = 0; ui < c->nu; ui++) {
      const unit *u = &c->u[ui];
      for (uint32_t j = 0; u->st == U_MUST && j < u->nt; j++) {
        const touch *t = &c->t[u->t0 + j];
        if (u->ack > c->keys[t->key].mustinv && t->vlen != ABSENT) c->keys[t->key].mustput = 1;
      }
    }
  if (!(c->kt0 = calloc(c->nkeys + 1, sizeof(uint32_t))) || !(c->kt = malloc((c->nt + 1) * sizeof(uint32_t))))
    return ORC_ENOMEM;
  for (size_t i = 0; i < c->nt; i++) c->kt0[c->t[i].key + 1]++;
  for (size_t k = 0; k < c->nkeys; k++) c->kt0[k + 1] += c->kt0[k];
  for (size_t i = 0; i < c->nt; i++) c->kt[c->kt0[c->t[i].key]++] = (uint32_t)i;
  for (size_t k = c->nkeys; k > 0; k--) c->kt0[k] = c->kt0[k - 1]; /* the fill moved each start to the next */
  c->kt0[0] = 0;
  return 0;
}

static int build(ctx *c, orc_result *r, int *done) {
  const orc_input *in = c->in;
  scan_info si;
  int rc;
  if ((rc = build_scan(c, &si))) return rc;
  size_t tabsize = 1024;
  while (tabsize < 2 * in->nstate + 2) tabsize <<= 1;
  c->capkeys = si.maxkeys + 1;
  if (!(c->keys = malloc(c->capkeys * sizeof(okey))) || !(c->tab = calloc(tabsize, sizeof(tslot))) ||
      !(c->u = malloc((si.nunits + 1) * sizeof(unit))) ||
      !(c->ids = malloc((si.maxkeys - in->nstate + 1) * sizeof(uint32_t))))
    return ORC_ENOMEM;
  c->tabmask = tabsize - 1;
  if ((rc = build_state_keys(c, r, done)) || *done || (rc = build_log_keys(c, &si)) || (rc = build_units(c, r, &si)))
    return rc;
  return build_key_summaries(c);
}

/* Concurrent logs: K's legal values at a cut where units [0, ninv) were invoked and the
 * latest applied REQ/MUST touch of K was invoked at m (-1: none, the initial absence is
 * legal): every touch invoked before the cut whose outcome came after m. */
static char *legal_list_conc(const ctx *c, uint32_t kid, int64_t ninv, int64_t m) {
  sbuf b = {0};
  char d[160];
  if (m < 0) sb_item(&b, "absent (never written before)");
  for (size_t i = 0; i < c->nt; i++) {
    if (c->t[i].key != kid) continue;
    const unit *u = unit_of(c, i);
    if (u - c->u >= ninv || u->ack <= m) continue;
    describe_touch(c, &c->t[i], u, d, sizeof(d));
    sb_item(&b, d);
  }
  return sb_finish(&b);
}

/* A key's match at a cut of the concurrent sweep. */
static inline uint8_t conc_match(const okey *o) {
  return (o->slen == ABSENT && o->cm < 0) || o->ce > o->cm;
}

typedef struct ackev {
  int64_t ack;
  uint32_t u;
} ackev;
static int cmp_ackev(const void *a, const void *b) {
  const ackev *x = a, *y = b;
  return x->ack < y->ack ? -1 : x->ack > y->ack ? 1 : (x->u > y->u) - (x->u < y->u);
}

/* The cut after `ni` invocations and `na` outcomes (in sequence order) of write units. */
static const char *cut_desc(const ctx *c, const ackev *ev, size_t ni, size_t na, char *buf, size_t len) {
  uint64_t nops = 0, inflight = 0;
  if (ni == 0) {
    snprintf(buf, len, "the cut before any write");
    return buf;
  }
  for (size_t i = 0; i < ni; i++)
    if (c->u[i].sub <= 0) nops++;
  inflight = nops;
  for (size_t i = 0; i < na; i++)
    if (c->u[ev[i].u].sub <= 0) inflight--;
  snprintf(buf, len, "the cut after op %llu was invoked (%llu write op(s) invoked, %llu of them in flight there)",
           (unsigned long long)c->u[ni - 1].op, (unsigned long long)nops, (unsigned long long)inflight);
  return buf;
}

/* The prefix rule on a concurrent log: is there a cut (a moment of the sequence) such that the
 * state is: every REQ/MUST unit acked before it applied, any of those in flight there applied
 * or not, OPT units either way, each key holding a value no applied touch of it followed in
 * real time? One sweep over the invocations and outcomes in sequence order; per key, the
 * latest invocation of an applied REQ/MUST touch (cm) against the latest outcome of an
 * invoked touch that writes the recovered value (ce). Returns 0 with *verdict_set when a
 * violation was reported. */
static int conc_prefix(ctx *c, orc_result *r) {
  ackev *ev = malloc((c->nu + 1) * sizeof(*ev));
  size_t nev = 0, diff = 0, mindiff = SIZE_MAX;
  size_t best_i = SIZE_MAX, best_a = 0, min_i = 0, min_a = 0;
  char cut[200];
  int rc = 0;
  if (!ev) return ORC_ENOMEM;
  for (size_t ui = 0; ui < c->nu; ui++)
    if (c->u[ui].ack != INT64_MAX && c->u[ui].st != U_OPT) ev[nev++] = (ackev){c->u[ui].ack, (uint32_t)ui};
  qsort(ev, nev, sizeof(*ev), cmp_ackev);
  for (int pass = 0; pass < 2; pass++) {
    size_t ni = 0, na = 0;
    diff = 0;
    for (size_t k = 0; k < c->nkeys; k++) {
      okey *o = &c->keys[k];
      o->cm = o->ce = -1;
      o->match = conc_match(o);
      diff += !o->match;
    }
    for (;;) {
      if (pass == 0 && ni >= (size_t)c->kmin) {
        if (diff == 0) best_i = ni, best_a = na;
        if (diff <= mindiff) mindiff = diff, min_i = ni, min_a = na;
      }
      if (pass == 1 && ni == min_i && na == min_a) break;
      int inv_next = ni < c->nu && (na == nev || c->u[ni].inv < ev[na].ack);
      if (!inv_next && na == nev) break;
      const unit *u = inv_next ? &c->u[ni++] : &c->u[ev[na++].u];
      for (uint32_t j = 0; j < u->nt; j++) {
        const touch *t = &c->t[u->t0 + j];
        okey *o = &c->keys[t->key];
        if (inv_next && t->eq && u->ack > o->ce) o->ce = u->ack;
        if (!inv_next && u->inv > o->cm) o->cm = u->inv;
        uint8_t m = conc_match(o);
        diff += (size_t)(!m) - (size_t)(!o->match);
        o->match = m;
      }
    }
    if (pass == 0 && best_i != SIZE_MAX) break;
  }
  if (best_i == SIZE_MAX) { /* the keys are at the closest cut (pass 1) */
    int64_t kid = -1;
    for (size_t k = 0; k < c->nkeys; k++)
      if (!c->keys[k].match &&
          (kid < 0 || keycmp(c->keys[k].k, c->keys[k].klen, c->keys[kid].k, c->keys[kid].klen) < 0))
        kid = (int64_t)k;
    r->verdict = ORC_NOT_PREFIX;
    if (kid >= 0 &&
        (rc = report_key(c, r, (uint32_t)kid, legal_list_conc(c, (uint32_t)kid, (int64_t)min_i, c->keys[kid].cm))))
      goto out;
    rc = setstr(&r->explanation,
                "no cut of the concurrent ops explains the state: closest is %s with %zu key(s) differing "
                "(durable through op %lld)",
                cut_desc(c, ev, min_i, min_a, cut, sizeof(cut)), mindiff, (long long)r->durable_through);
    goto out;
  }
  /* lost (allowed): REQ ops not acked before the cut, with a touch whose value is not there */
  {
    uint64_t lost = 0;
    int64_t lastop = -1;
    int64_t tcut = best_a ? ev[best_a - 1].ack : -1;
    for (size_t ui = 0; ui < c->nu; ui++) {
      const unit *u = &c->u[ui];
      if (u->st != U_REQ || u->ack <= tcut || (int64_t)u->op == lastop) continue;
      for (uint32_t j = 0; j < u->nt; j++)
        if (!c->t[u->t0 + j].eq) {
          lost++;
          lastop = (int64_t)u->op;
          break;
        }
    }
    r->ops_lost = lost;
    r->prefix_end = best_i ? (int64_t)c->u[best_i - 1].op : -1;
    rc = setstr(&r->explanation, "state = %s, some of those in flight applied; %llu unsynced op(s) lost, allowed",
                cut_desc(c, ev, best_i, best_a, cut, sizeof(cut)), (unsigned long long)lost);
  }
out:
  free(ev);
  return rc;
}

static const char *op_range(const ctx *c, int64_t k, char *buf, size_t len) {
  /* prefix of k units, printed as op indices */
  if (k <= 0) {
    snprintf(buf, len, "empty prefix");
    return buf;
  }
  const unit *u = &c->u[k - 1];
  const wl_log *log = c->in->log;
  int64_t last_op = (int64_t)u->op;
  if (u->sub >= 0 && (uint32_t)u->sub + 1 < log->ops[u->op].op.nsub)
    snprintf(buf, len, "prefix 0..%lld (op %lld: sub-ops 0..%d of %u)", (long long)last_op, (long long)last_op, u->sub,
             log->ops[u->op].op.nsub);
  else {
    /* extend over trailing non-write ops so the range names the last op explained */
    size_t e = (size_t)last_op + 1;
    while (e < log->n && !applies(&log->ops[e])) e++;
    snprintf(buf, len, "prefix 0..%lld", (long long)e - 1);
  }
  return buf;
}

/* A value only a transaction that never applied (rolled back, or its commit conflicted) wrote
 * to key kid: that op's index, else -1. */
static int64_t dead_txn_writer(const ctx *c, uint32_t kid) {
  const wl_log *log = c->in->log;
  const okey *o = &c->keys[kid];
  for (size_t i = 0; i < log->n; i++) {
    const wl_op *op = &log->ops[i].op;
    if (op->kind != WL_TXN || applies(&log->ops[i])) continue;
    for (uint32_t s = 0; s < op->nsub; s++) {
      const wl_sub *sb = &op->sub[s];
      if (sb->kind == WL_PUT && o->slen != ABSENT && sb->klen == o->klen && sb->vlen == o->slen &&
          !memcmp(sb->key, o->k, o->klen) && !memcmp(sb->val, o->sval, o->slen))
        return (int64_t)i;
    }
  }
  return -1;
}

/* check, phase 1. per key: phantom, resurrected durable delete, lost durable write */
static int check_keys(ctx *c, orc_result *r) {
  int64_t best[3] = {-1, -1, -1}; /* key id per category */
  for (size_t k = 0; k < c->nkeys; k++) {
    const okey *o = &c->keys[k];
    int cat = -1;
    if (o->lastmatch == -2)
      cat = 0;          /* present, never written to this key */
    else if (c->conc) { /* some matching touch no MUST touch follows in real time */
      if (o->eqack == -1 ? o->mustinv >= 0 : o->eqack <= o->mustinv) cat = o->mustput ? 2 : 1;
    } else if (o->lastmatch < o->lastmust) {
      const unit *u = &c->u[o->lastmust];
      int durable_is_delete = 0;
      for (uint32_t j = 0; j < u->nt; j++)
        if (c->t[u->t0 + j].key == k) durable_is_delete = c->t[u->t0 + j].vlen == ABSENT;
      cat = durable_is_delete ? 1 : 2;
    }
    if (cat < 0) continue;
    if (best[cat] < 0 || keycmp(o->k, o->klen, c->keys[best[cat]].k, c->keys[best[cat]].klen) < 0)
      best[cat] = (int64_t)k;
  }
  for (int cat = 0; cat < 3; cat++) {
    if (best[cat] < 0) continue;
    uint32_t kid = (uint32_t)best[cat];
    const okey *o = &c->keys[kid];
    int rc;
    r->verdict = cat == 2 ? ORC_LOST_ACKED : ORC_PHANTOM;
    if ((rc = report_key(c, r, kid,
                         c->conc ? legal_list_conc(c, kid, (int64_t)c->nu, o->mustinv)
                                 : legal_list(c, kid, o->lastmust + 1, o->lastmust + 1, INT64_MAX, 0))))
      return rc;
    int64_t dead = cat == 0 ? dead_txn_writer(c, kid) : -1;
    if (dead >= 0)
      return setstr(&r->explanation,
                    "key holds a value only transaction op %lld wrote, and it %s "
                    "(durable through op %lld)",
                    (long long)dead,
                    c->in->log->ops[dead].op.rollback ? "was rolled back" : "conflicted at commit (wrote nothing)",
                    (long long)r->durable_through);
    if (cat == 0)
      return setstr(&r->explanation, "key holds a value never written to it (durable through op %lld)",
                    (long long)r->durable_through);
    return setstr(&r->explanation, "%s by op %llu (durable through op %lld) is gone",
                  cat == 1 ? "delete made durable" : "write made durable", (unsigned long long)c->u[o->lastmust].op,
                  (long long)r->durable_through);
  }
  return 0;
}

/* What key kid may hold when unit ui shows elsewhere: ui's value there or a later one. */
static char *batch_expected(const ctx *c, size_t ui, uint32_t kid) {
  sbuf b = {0};
  char d[160];
  for (uint32_t j = c->kt0[kid]; j < c->kt0[kid + 1]; j++) {
    const unit *u = unit_of(c, c->kt[j]);
    if (c->conc ? u->ack < c->u[ui].inv : (size_t)(u - c->u) < ui) continue;
    describe_touch(c, &c->t[c->kt[j]], u, d, sizeof(d));
    sb_item(&b, d);
  }
  return sb_finish(&b);
}

/* check, phase 2. atomic batches and transactions: some key certainly shows one, another
 * certainly does not */
static int check_atomic(ctx *c, orc_result *r) {
  for (size_t ui = 0; ui < c->nu; ui++) {
    const unit *u = &c->u[ui];
    int atomic = u->kind == WL_TXN || (u->kind == WL_BATCH && (c->contract & ORC_ATOMIC_BATCH));
    if (!atomic || u->nt < 2) continue;
    int64_t applied = -1, missing = -1;
    for (uint32_t j = 0; j < u->nt; j++) {
      const touch *t = &c->t[u->t0 + j];
      const okey *o = &c->keys[t->key];
      if (t->eq && t->vlen != ABSENT && o->neq == 1)
        applied = t->key;
      else if (!t->eq && (c->conc ? o->eqack < u->inv : o->lastmatch < (int64_t)ui) &&
               (missing < 0 || keycmp(o->k, o->klen, c->keys[missing].k, c->keys[missing].klen) < 0))
        missing = t->key;
    }
    if (applied < 0 || missing < 0) continue;
    char ak[128];
    int rc;
    r->verdict = ORC_TORN_BATCH;
    if ((rc = report_key(c, r, (uint32_t)missing, batch_expected(c, ui, (uint32_t)missing)))) return rc;
    wl_escape(c->keys[applied].k, c->keys[applied].klen, ak, sizeof(ak));
    return setstr(&r->explanation, "%s op %llu (%u keys) is half applied: key %s shows it, key %s does not",
                  u->kind == WL_TXN ? "transaction" : "batch", (unsigned long long)u->op, u->nt, ak, r->first_key);
  }
  return 0;
}

/* The prefix walk's match of every key at the state after units [0, k). */
static void prefix_match_at(ctx *c, int64_t k) {
  for (size_t i = 0; i < c->nkeys; i++) c->keys[i].match = c->keys[i].slen == ABSENT;
  for (int64_t ui = 0; ui < k; ui++) {
    const unit *u = &c->u[ui];
    for (uint32_t j = 0; j < u->nt; j++) {
      const touch *t = &c->t[u->t0 + j];
      okey *o = &c->keys[t->key];
      o->match = u->st == U_OPT ? (o->match || t->eq) : t->eq;
    }
  }
}

/* check, phase 3 (prefix, one thread): walk k upward with a running count of keys whose
 * legal set misses the state */
static int check_prefix(ctx *c, orc_result *r) {
  const wl_log *log = c->in->log;
  size_t diff = 0, mindiff = SIZE_MAX;
  int64_t bestk = -1, mink = -1;
  char rng[128];
  int rc;
  for (size_t k = 0; k < c->nkeys; k++) {
    c->keys[k].match = c->keys[k].slen == ABSENT;
    diff += !c->keys[k].match;
  }
  for (int64_t k = 0;; k++) { /* state after units [0, k) */
    if (k >= c->kmin) {
      if (diff == 0) bestk = k;
      if (diff <= mindiff) {
        mindiff = diff;
        mink = k;
      }
    }
    if (k == (int64_t)c->nu) break;
    const unit *u = &c->u[k];
    for (uint32_t j = 0; j < u->nt; j++) {
      const touch *t = &c->t[u->t0 + j];
      okey *o = &c->keys[t->key];
      uint8_t m = u->st == U_OPT ? (o->match || t->eq) : t->eq;
      diff += (size_t)(!m) - (size_t)(!o->match);
      o->match = m;
    }
  }
  if (bestk < 0) { /* name the first differing key at the closest prefix */
    int64_t kid = -1;
    prefix_match_at(c, mink);
    for (size_t k = 0; k < c->nkeys; k++)
      if (!c->keys[k].match &&
          (kid < 0 || keycmp(c->keys[k].k, c->keys[k].klen, c->keys[kid].k, c->keys[kid].klen) < 0))
        kid = (int64_t)k;
    r->verdict = ORC_NOT_PREFIX;
    /* legal at mink: last acked value before mink, optional values up to mink */
    if (kid >= 0 && (rc = report_key(c, r, (uint32_t)kid, legal_list(c, (uint32_t)kid, mink, 0, mink, 1)))) return rc;
    return setstr(&r->explanation,
                  "no prefix of the ops explains the state: closest is %s with %zu key(s) differing "
                  "(durable through op %lld)",
                  op_range(c, mink, rng, sizeof(rng)), mindiff, (long long)r->durable_through);
  }
  /* lost (allowed): acked write ops with a unit at or after bestk */
  uint64_t lost = 0;
  int64_t lastop = -1;
  for (size_t ui = (size_t)bestk; ui < c->nu; ui++)
    if (c->u[ui].st == U_REQ && (int64_t)c->u[ui].op != lastop) {
      lost++;
      lastop = (int64_t)c->u[ui].op;
    }
  r->ops_lost = lost;
  r->prefix_end = bestk > 0 ? (int64_t)c->u[bestk - 1].op : -1;
  if (bestk > 0 && c->u[bestk - 1].sub >= 0 && (uint32_t)c->u[bestk - 1].sub + 1 < log->ops[c->u[bestk - 1].op].op.nsub)
    r->prefix_end--; /* that op is only partly in */
  return setstr(&r->explanation, "state = %s; %llu unsynced op(s) lost, allowed", op_range(c, bestk, rng, sizeof(rng)),
                (unsigned long long)lost);
}

/* check, phase 3 (no prefix): lost = acked ops whose value is neither visible nor overwritten
 * visibly, counted, never a violation */
static int check_lost_per_key(ctx *c, orc_result *r) {
  uint64_t lost = 0;
  for (size_t ui = 0; ui < c->nu; ui++) {
    const unit *u = &c->u[ui];
    if (u->st != U_REQ || (ui > 0 && c->u[ui - 1].op == u->op && c->u[ui - 1].st == U_REQ)) continue;
    /* count each op once: look at all its units */
    int gone = 0;
    for (size_t uj = ui; uj < c->nu && c->u[uj].op == u->op; uj++)
      for (uint32_t j = 0; j < c->u[uj].nt; j++) {
        const touch *t = &c->t[c->u[uj].t0 + j];
        if (!t->eq && (c->conc ? c->keys[t->key].eqack < c->u[uj].inv : c->keys[t->key].lastmatch < (int64_t)uj))
          gone = 1;
      }
    lost += gone;
  }
  r->ops_lost = lost;
  return setstr(&r->explanation,
                "every key holds its durable value or a later one "
                "(durable through op %lld); %llu unsynced op(s) lost, allowed",
                (long long)r->durable_through, (unsigned long long)lost);
}

/* ---- views: reads at snapshots and iterators, checkpoints --------------------------------- */
/* The latest invocation of an acked touch of key kid whose outcome came before seq vi (-1:
 * none): a touch that one follows in real time was overwritten before a view taken at vi. */
static int64_t view_base(const ctx *c, uint32_t kid, int64_t vi) {
  int64_t d = -1;
  for (uint32_t j = c->kt0[kid]; j < c->kt0[kid + 1]; j++) {
    const unit *u = unit_of(c, c->kt[j]);
    if (u->st != U_OPT && u->ack < vi && u->inv > d) d = u->inv;
  }
  return d;
}

static int same_value(const touch *t, const uint8_t *v, uint32_t vlen) {
  if (t->vlen == ABSENT || vlen == ABSENT) return t->vlen == vlen;
  return t->vlen == vlen && (!vlen || !memcmp(t->v, v, vlen));
}

/* Is v (vlen ABSENT: absent) a value key kid may show in the view of an op invoked at vi and
 * acked at va? The value of a touch invoked before va that no touch acked before vi follows in
 * real time; absent when no touch was acked before vi. kid < 0: a key never written. */
static int view_legal(const ctx *c, int64_t kid, int64_t vi, int64_t va, const uint8_t *v, uint32_t vlen) {
  if (kid < 0) return vlen == ABSENT;
  int64_t d = view_base(c, (uint32_t)kid, vi);
  if (vlen == ABSENT && d < 0) return 1;
  for (uint32_t j = c->kt0[kid]; j < c->kt0[kid + 1]; j++) {
    const unit *u = unit_of(c, c->kt[j]);
    if (u->inv < va && u->ack > d && same_value(&c->t[c->kt[j]], v, vlen)) return 1;
  }
  return 0;
}

/* Report a view violation of verdict v at key (k, kl) found holding (val, vlen). */
static int report_view(const ctx *c, orc_result *r, orc_verdict v, const uint8_t *k, size_t kl, int64_t kid, int64_t vi,
                       int64_t va, const uint8_t *val, uint32_t vlen) {
  char kb[256], d[200];
  sbuf b = {0};
  r->verdict = v;
  if (setstr(&r->first_key, "%s", wl_escape(k, kl, kb, sizeof(kb)))) return ORC_ENOMEM;
  if (kid < 0) {
    sb_item(&b, "absent (never written)");
  } else {
    int64_t base = view_base(c, (uint32_t)kid, vi);
    if (base < 0) sb_item(&b, "absent (never written before)");
    for (uint32_t j = c->kt0[kid]; j < c->kt0[kid + 1]; j++) {
      const unit *u = unit_of(c, c->kt[j]);
      if (u->inv >= va || u->ack <= base) continue;
      describe_touch(c, &c->t[c->kt[j]], u, d, sizeof(d));
      sb_item(&b, d);
    }
  }
  free(r->expected);
  if (!(r->expected = sb_finish(&b))) return ORC_ENOMEM;
  int named = 0;
  for (uint32_t j = kid < 0 ? 0 : c->kt0[kid]; kid >= 0 && j < c->kt0[kid + 1] && !named; j++)
    if (same_value(&c->t[c->kt[j]], val, vlen) && vlen != ABSENT)
      describe_touch(c, &c->t[c->kt[j]], unit_of(c, c->kt[j]), d, sizeof(d)), named = 1;
  if (!named) wl_value_describe(val, vlen == ABSENT ? 0 : vlen, vlen != ABSENT, k, kl, d, sizeof(d));
  return setstr(&r->found, "%s", d);
}

/* The known keys in [lo, hi] (lo_incl, hi_incl; hi NULL: unbounded) that entries do not
 * list must be absent in the view. Entries are in key order. Returns the first key id that
 * may not be absent there, or -1. */
static int64_t view_absent_keys(const ctx *c, const uint8_t *lo, size_t lol, int lo_incl, const uint8_t *hi, size_t hil,
                                int hi_incl, const wl_sub *e, uint32_t ne, int64_t vi, int64_t va) {
  uint32_t ei = 0;
  for (size_t j = lower_bound(c, lo, lol); j < c->nkeys; j++) {
    const okey *o = &c->keys[c->sorted[j]];
    if (!lo_incl && keycmp(o->k, o->klen, lo, lol) == 0) continue;
    if (hi) {
      int cmp = keycmp(o->k, o->klen, hi, hil);
      if (cmp > 0 || (cmp == 0 && !hi_incl)) break;
    }
    while (ei < ne && keycmp(e[ei].key, e[ei].klen, o->k, o->klen) < 0) ei++;
    if (ei < ne && keycmp(e[ei].key, e[ei].klen, o->k, o->klen) == 0) continue;
    if (!view_legal(c, c->sorted[j], vi, va, NULL, ABSENT)) return c->sorted[j];
  }
  return -1;
}

/* Where one iterator stands: after its last entry read (or before its seek key). */
typedef struct itpos {
  int valid; /* its reads so far were all acked */
  const uint8_t *k;
  size_t kl;
  int incl; /* k itself not read yet (the seek key) */
  int end;
} itpos;

/* One read at a view: 1 and r filled when it saw a state other than its view's. */
static int check_one_read(ctx *c, orc_result *r, const wl_logop *lo, const wl_logop *vo, itpos *p, int *rc) {
  const wl_op *op = &lo->op;
  int64_t vi = (int64_t)vo->inv_seq, va = (int64_t)vo->ack_seq;
  const uint8_t *hi = NULL;
  size_t hil = 0;
  int hi_incl = 0, lo_incl = p ? p->incl : 1;
  const uint8_t *lk = p ? p->k : op->key;
  size_t lkl = p ? p->kl : op->klen;
  const char *what = op->kind == WL_SNAP_GET || op->kind == WL_SNAP_SCAN ? "snapshot" : "iterator";
  if (op->kind == WL_SNAP_GET)
    hi = op->key, hil = op->klen, hi_incl = 1;
  else if (op->kind == WL_SNAP_SCAN)
    hi = op->elen ? op->end : NULL, hil = op->elen;
  else if (!lo->read_end && lo->nread)
    hi = lo->read[lo->nread - 1].key, hil = lo->read[lo->nread - 1].klen, hi_incl = 1;
  else if (!lo->read_end)
    hi = lk, hil = lkl, hi_incl = 0, lo_incl = 1; /* nothing read, nothing covered */
  for (uint32_t e = 0; e < lo->nread; e++) {      /* in key order, inside the range */
    const wl_sub *en = &lo->read[e];
    int below = keycmp(en->key, en->klen, lk, lkl), above = hi ? keycmp(en->key, en->klen, hi, hil) : -1;
    if (below < 0 || (below == 0 && !lo_incl) || above > 0 || (above == 0 && !hi_incl) ||
        (e && keycmp(en->key, en->klen, lo->read[e - 1].key, lo->read[e - 1].klen) <= 0)) {
      char kb[256];
      r->verdict = ORC_BAD_READ;
      if ((*rc = setstr(&r->first_key, "%s", wl_escape(en->key, en->klen, kb, sizeof(kb)))) ||
          (*rc = setstr(&r->expected, "keys in order, each once, inside the range read")) ||
          (*rc = setstr(&r->found, "entry %u of %u out of order or outside the range", e, lo->nread)))
        return 1;
      *rc = setstr(&r->explanation,
                   "%s op %llu at the %s of op %llu returned keys out of order or "
                   "outside its range",
                   wl_kind_name(op->kind), (unsigned long long)op->idx, what, (unsigned long long)vo->op.idx);
      return 1;
    }
    int64_t kid = key_find(c, en->key, en->klen);
    if (!view_legal(c, kid, vi, va, en->val, (uint32_t)en->vlen)) {
      *rc = report_view(c, r, ORC_BAD_READ, en->key, en->klen, kid, vi, va, en->val, (uint32_t)en->vlen);
      goto explain;
    }
  }
  int64_t kid = view_absent_keys(c, lk, lkl, lo_incl, hi, hil, hi_incl, lo->read, lo->nread, vi, va);
  if (kid < 0) return 0;
  *rc = report_view(c, r, ORC_BAD_READ, c->keys[kid].k, c->keys[kid].klen, kid, vi, va, NULL, ABSENT);
explain:
  if (!*rc)
    *rc = setstr(&r->explanation,
                 "%s op %llu at the %s of op %llu read a state other than the one at "
                 "that op (what was acked before it was invoked, and any of what overlapped it)",
                 wl_kind_name(op->kind), (unsigned long long)op->idx, what, (unsigned long long)vo->op.idx);
  return 1;
}

/* check, phase 4: every read at a snapshot or an iterator shows the state at its view's op.
 * Views taken after a failure are not checked (an engine that failed may have dropped acked
 * writes a reopen then no longer shows). */
static int check_reads(ctx *c, orc_result *r) {
  const wl_log *log = c->in->log;
  itpos *pos = NULL;
  int rc = 0;
  for (size_t i = 0; i < log->n; i++) {
    const wl_logop *lo = &log->ops[i];
    const wl_op *op = &lo->op;
    if (!wl_kind_reads(op->kind)) continue;
    uint64_t v = op->kind == WL_ITER ? i : op->ref;
    itpos *p = NULL;
    if (v >= log->n) continue;
    const wl_logop *vo = &log->ops[v];
    if (op->kind == WL_ITER || op->kind == WL_ITER_NEXT) {
      if (!pos && !(pos = calloc(log->n, sizeof(*pos)))) return ORC_ENOMEM;
      p = &pos[v];
      if (op->kind == WL_ITER) *p = (itpos){1, op->key, op->klen, 1, 0};
      if (lo->outcome != WL_OUT_ACKED) p->valid = 0;
      if (!p->valid) continue;
    }
    if (lo->outcome != WL_OUT_ACKED || vo->outcome != WL_OUT_ACKED || vo->ack_seq == WL_SEQ_NONE) continue;
    if ((int64_t)vo->inv_seq < c->first_fail_ack && check_one_read(c, r, lo, vo, p, &rc)) break;
    if (p && lo->nread)
      *p = (itpos){1, lo->read[lo->nread - 1].key, lo->read[lo->nread - 1].klen, 0, lo->read_end};
    else if (p)
      p->end |= lo->read_end;
  }
  free(pos);
  return rc;
}

/* One checkpoint's state against the view of its op: 1 and r filled when it differs. */
static int check_one_checkpoint(ctx *c, orc_result *r, const wl_logop *lo, const orc_ckpt *ck, int *rc) {
  int64_t vi = (int64_t)lo->inv_seq, va = lo->ack_seq == WL_SEQ_NONE ? INT64_MAX : (int64_t)lo->ack_seq;
  const orc_kv **at = calloc(c->nkeys + 1, sizeof(*at));
  int bad = 0;
  if (!at) return *rc = ORC_ENOMEM, 1;
  for (size_t i = 0; i < ck->nstate && !bad; i++) { /* keys never written, keys listed twice */
    const orc_kv *kv = &ck->state[i];
    int64_t kid = key_find(c, kv->key, kv->klen);
    if (kid >= 0 && !at[kid]) {
      at[kid] = kv;
      continue;
    }
    bad = 1;
    *rc = report_view(c, r, ORC_BAD_CHECKPOINT, kv->key, kv->klen, kid, vi, va, kv->val, (uint32_t)kv->vlen);
    if (!*rc && kid >= 0) *rc = setstr(&r->found, "the key twice in the checkpoint");
  }
  for (size_t j = 0; j < c->nkeys && !bad; j++) { /* every known key, in key order */
    uint32_t kid = c->sorted[j];
    const orc_kv *kv = at[kid];
    if (view_legal(c, kid, vi, va, kv ? kv->val : NULL, kv ? (uint32_t)kv->vlen : ABSENT)) continue;
    bad = 1;
    *rc = report_view(c, r, ORC_BAD_CHECKPOINT, c->keys[kid].k, c->keys[kid].klen, kid, vi, va, kv ? kv->val : NULL,
                      kv ? (uint32_t)kv->vlen : ABSENT);
  }
  free(at);
  if (bad && !*rc)
    *rc = setstr(&r->explanation,
                 "checkpoint of op %llu (%s) opens but holds a state other than the one "
                 "at that op",
                 (unsigned long long)lo->op.idx,
                 lo->outcome == WL_OUT_ACKED    ? "acked"
                 : lo->outcome == WL_OUT_FAILED ? "failed"
                                                : "in flight");
  return bad;
}

/* check, phase 5: a checkpoint directory that opens holds the state at its op; an acked one
 * is there after the crash and opens. One that did not finish may be missing or refused by
 * the engine, never silently partial. */
static int check_checkpoints(ctx *c, orc_result *r) {
  const wl_log *log = c->in->log;
  int rc = 0;
  for (size_t i = 0; i < log->n; i++) {
    const wl_logop *lo = &log->ops[i];
    const orc_ckpt *ck = NULL;
    if (lo->op.kind != WL_CHECKPOINT) continue;
    for (size_t j = 0; j < c->in->nckpts && !ck; j++)
      if (c->in->ckpts[j].op == i) ck = &c->in->ckpts[j];
    if (ck && ck->opened) {
      if ((int64_t)lo->inv_seq < c->first_fail_ack && check_one_checkpoint(c, r, lo, ck, &rc)) return rc;
      continue;
    }
    if (lo->outcome != WL_OUT_ACKED) continue; /* unfinished: missing or refused */
    r->verdict = ORC_BAD_CHECKPOINT;
    if ((rc = setstr(&r->first_key, "")) || (rc = setstr(&r->expected, "a checkpoint that opens")) ||
        (rc = setstr(&r->found, ck ? "refused: %.*s" : "no directory", ck ? (int)ck->why_len : 0, ck ? ck->why : "")))
      return rc;
    return setstr(&r->explanation, "checkpoint of op %llu was acked, and after the crash %s%s%.*s",
                  (unsigned long long)i, ck ? "the engine refused to open it" : "its directory is not there",
                  ck ? ": " : "", ck ? (int)ck->why_len : 0, ck ? ck->why : "");
  }
  return 0;
}

/* check, phase 6: the pluggable invariant */
static int check_invariant(ctx *c, orc_result *r) {
  const orc_input *in = c->in;
  char msg[512] = "", key[256] = "";
  int v = in->invariant(in, in->invariant_arg, msg, sizeof(msg), key, sizeof(key));
  if (v < 0) return v;
  if (v != 1) return 0;
  r->verdict = ORC_INVARIANT;
  if (setstr(&r->explanation, "invariant violated: %s", msg) || setstr(&r->first_key, "%s", key) ||
      setstr(&r->expected, "the invariant to hold") || setstr(&r->found, "%s", msg))
    return ORC_ENOMEM;
  return 0;
}

static void count_outcomes(const wl_log *log, orc_result *r) {
  r->ops_issued = log->n;
  for (size_t i = 0; i < log->n; i++) {
    switch (log->ops[i].outcome) {
      case WL_OUT_ACKED: r->ops_acked++; break;
      case WL_OUT_FAILED: r->ops_failed++; break;
      default: r->ops_unknown++; break;
    }
    if (log->ops[i].op.kind == WL_GET && log->ops[i].get == WL_GET_MISMATCH) r->get_mismatches++;
  }
}

int orc_check(const orc_input *in, orc_result *r) {
  ctx c;
  int rc, done = 0;
  if (!in || !r || !in->log || (in->nstate && !in->state) || (in->nckpts && !in->ckpts)) return ORC_EINVAL;
  if ((rc = result_init(r))) return rc;
  memset(&c, 0, sizeof(c));
  c.in = in;
  c.contract = in->contract;
  count_outcomes(in->log, r);
  r->verdict = ORC_PASS;
  /* the phases in verdict priority (invariant 3); the first that reports ends the check */
  if ((rc = build(&c, r, &done)) || done) goto out;
  if ((rc = check_keys(&c, r)) || r->verdict != ORC_PASS) goto out;
  if ((rc = check_atomic(&c, r)) || r->verdict != ORC_PASS) goto out;
  if (c.contract & ORC_PREFIX)
    rc = c.conc ? conc_prefix(&c, r) : check_prefix(&c, r);
  else
    rc = check_lost_per_key(&c, r);
  if (rc || r->verdict != ORC_PASS) goto out;
  if ((rc = check_reads(&c, r)) || r->verdict != ORC_PASS) goto out;
  if ((rc = check_checkpoints(&c, r)) || r->verdict != ORC_PASS) goto out;
  if (in->invariant && (rc = check_invariant(&c, r))) goto out;
  if (r->get_mismatches) {
    char *e = r->explanation;
    r->explanation = NULL;
    rc = setstr(&r->explanation, "%s; %llu live get mismatch(es) seen by the driver", e,
                (unsigned long long)r->get_mismatches);
    free(e);
  }
out:
  ctx_free(&c);
  if (rc) orc_result_free(r);
  return rc;
}

/* ---- bank invariant ------------------------------------------------------------------------- */
int orc_invariant_bank(const orc_input *in, void *arg, char *msg, size_t msglen, char *key, size_t keylen) {
  const wl_params *p = arg;
  uint64_t sum = 0, present = 0;
  if (!p) return ORC_EINVAL;
  if ((in->contract & (ORC_PREFIX | ORC_ATOMIC_BATCH)) != (ORC_PREFIX | ORC_ATOMIC_BATCH)) return 0;
  for (size_t i = 0; i < in->log->n; i++)
    if (is_failure(&in->log->ops[i])) return 0; /* generator assumed it applied */
  for (size_t i = 0; i < in->nstate; i++) {
    uint64_t b;
    if (wl_bank_balance(in->state[i].val, in->state[i].vlen, &b)) {
      snprintf(msg, msglen, "account value is not a bank balance");
      wl_escape(in->state[i].key, in->state[i].klen, key, keylen);
      return 1;
    }
    sum += b;
    present++;
  }
  if (present == 0) return 0; /* the opening batch itself was lost */
  if (present != p->keys) {
    snprintf(msg, msglen, "%llu of %llu accounts present", (unsigned long long)present, (unsigned long long)p->keys);
    return 1;
  }
  if (sum != p->keys * (uint64_t)WL_BANK_INITIAL) {
    snprintf(msg, msglen, "balances sum to %llu, expected %llu", (unsigned long long)sum,
             (unsigned long long)(p->keys * (uint64_t)WL_BANK_INITIAL));
    return 1;
  }
  return 0;
}
