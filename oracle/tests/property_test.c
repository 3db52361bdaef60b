/*
 * property_test.c — property test of the oracle over many seeds:
 *   for a random generated log with random outcomes (acked, failed — including an engine that
 *   stays failed —, in flight), a random contract and crash kind, the state after any legal
 *   prefix (with any choice of the failed/in-flight ops applied) must PASS; one mutation of it
 *   must fail with the right verdict:
 *     drop a durable key -> LOST_ACKED, resurrect a durable delete -> PHANTOM,
 *     change a byte of a value -> PHANTOM, revert half of an atomic batch -> TORN_BATCH.
 * The legal states are built here from the contract rules in docs/oracle.md, independently of
 * the oracle's own bookkeeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "orc_test_util.h"

#define SEEDS 400

static uint64_t rs;
static uint64_t rnd(void) {
  uint64_t z = (rs += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint64_t below(uint64_t n) {
  return rnd() % n;
}
static int coin(unsigned pct) {
  return below(100) < pct;
}

static unsigned n_legal, n_mut[5];

static int is_write(wl_kind k) {
  return k == WL_PUT || k == WL_DEL || k == WL_DELRANGE || k == WL_BATCH;
}

/* Generated keys are "k" + fixed-width digits (not NUL-terminated in the log). */
static size_t klen_g;
static uint64_t key_index(const uint8_t *k) {
  uint64_t x = 0;
  for (size_t i = 1; i < klen_g; i++) x = x * 10 + (uint64_t)(k[i] - '0');
  return x;
}

typedef struct prevval {
  uint64_t key;
  uint8_t *v;
  size_t vlen;
  int present;
  uint32_t sub;
} prevval;

/* M5 helpers: the puts of an op (a put, or a batch's subs; deletes write no value) */
static uint32_t sub_count(const wl_op *o) {
  return o->kind == WL_BATCH ? o->nsub : o->kind == WL_PUT ? 1 : 0;
}
/* 1 if sub j of o is a put of exactly kv's key and value */
static int sub_writes(const wl_op *o, uint32_t j, const orc_kv *kv) {
  const uint8_t *k = o->kind == WL_BATCH ? o->sub[j].key : o->key;
  size_t kl = o->kind == WL_BATCH ? o->sub[j].klen : o->klen;
  const uint8_t *val = o->kind == WL_BATCH ? o->sub[j].val : o->val;
  size_t vl = o->kind == WL_BATCH ? o->sub[j].vlen : o->vlen;
  if (o->kind == WL_BATCH && o->sub[j].kind != WL_PUT) return 0;
  return kl == kv->klen && vl == kv->vlen && !memcmp(k, kv->key, kl) && !memcmp(val, kv->val, vl);
}
static int sub_visible(tu_state *s, const wl_op *o, uint32_t j) {
  for (size_t q = 0; q < s->n; q++)
    if (sub_writes(o, j, &s->kv[q])) return 1;
  return 0;
}

static void run_seed(uint64_t seed) {
  static const char *specs[] = {
      "mixed:ops=120,keys=20,value_size=0..96,delrange=0.03,reopen=0.02,close=0.02,barrier=0.03",
      "batch:ops=80,keys=24,value_size=30..80,batch=5",
      "overwrite:ops=100,keys=30,value_size=0..64",
      "reopen:ops=100,keys=16,value_size=32..64",
      "mixed:ops=60,keys=6,value_size=32..40,sync=0.02",
  };
  char err[256];
  wl_params p;
  wl_gen *g;
  wl_op op;
  wl_log *l;
  rs = seed * 7919 + 1;
  const char *spec = specs[below(5)];
  assert_int_equal(wl_spec_parse(spec, &p, err, sizeof(err)), 0);
  p.caps = WL_CAP_DELRANGE;
  assert_int_equal(wl_gen_create(&p, seed, &g), 0);
  assert_int_equal(wl_log_new(&l), 0);
  while (wl_gen_next(g, &op) == 1) assert_int_equal(wl_log_append(l, &op, A, 0), 0);
  wl_gen_destroy(g);
  size_t n = l->n;
  {
    uint8_t tmp[64];
    klen_g = wl_key_of(&p, 0, tmp, sizeof(tmp));
  }

  /* contract, crash kind, outcomes */
  uint32_t ct = 0;
  if (coin(75)) ct |= ORC_PREFIX;
  if (coin(80)) ct |= ORC_DURABLE_ACK;
  if (coin(50)) ct |= ORC_PROCESS_SAFE;
  if (coin(75)) ct |= ORC_ATOMIC_BATCH;
  if (coin(50)) ct |= ORC_CLOSE_SYNCS;
  unsigned c = (unsigned)below(10);
  orc_crash crash = c < 6 ? ORC_CRASH_POWER : c < 9 ? ORC_CRASH_KILL : ORC_CRASH_NONE;
  n = 1 + below(n); /* the crash cut the stream here */
  l->n = n;
  size_t fail_from = coin(35) ? below(n) : n;
  for (size_t i = 0; i < n; i++) {
    if ((i >= fail_from && coin(70)) || coin(3)) l->ops[i].outcome = F, l->ops[i].code = -5;
  }
  if (crash != ORC_CRASH_NONE && coin(50)) l->ops[n - 1].outcome = U;

  /* durability per the contract */
  int all_acked = crash == ORC_CRASH_NONE || (crash == ORC_CRASH_KILL && (ct & ORC_PROCESS_SAFE));
  int64_t barrier = -1, syncw = -1, last_failed = -1;
  for (size_t i = 0; i < n; i++) {
    const wl_logop *lo = &l->ops[i];
    if (lo->outcome == F) last_failed = (int64_t)i;
    if (lo->outcome != A) continue;
    if ((lo->op.kind == WL_SYNC && (ct & ORC_DURABLE_ACK)) ||
        ((lo->op.kind == WL_REOPEN || lo->op.kind == WL_CLOSE) && (ct & ORC_CLOSE_SYNCS)))
      barrier = (int64_t)i;
    if (is_write(lo->op.kind) && lo->op.sync && (ct & ORC_DURABLE_ACK)) syncw = (int64_t)i;
  }
  uint8_t *must = calloc(n, 1), *applied = calloc(n, 1);
  size_t kmin = 0;
  for (size_t i = 0; i < n; i++) {
    const wl_logop *lo = &l->ops[i];
    if (!is_write(lo->op.kind) || lo->outcome != A) continue;
    must[i] = (all_acked && (int64_t)i > last_failed) || (int64_t)i < barrier ||
              (lo->op.sync && (ct & ORC_DURABLE_ACK)) || ((ct & ORC_PREFIX) && (int64_t)i < syncw);
    if (must[i]) kmin = i + 1;
  }
  size_t k = kmin + below(n - kmin + 1);

  /* the legal state: acked ops before k, each failed / in-flight one by a coin */
  tu_state s;
  tu_state_init(&s);
  prevval *pv = calloc(4096, sizeof(prevval));
  size_t npv = 0;
  int64_t last_batch = -1;
  size_t last_batch_pv = 0;
  for (size_t i = 0; i < k; i++) {
    const wl_logop *lo = &l->ops[i];
    if (!is_write(lo->op.kind)) continue;
    if (lo->outcome != A && coin(50)) continue;
    applied[i] = 1;
    if (lo->op.kind == WL_BATCH && !must[i]) {
      last_batch = (int64_t)i;
      last_batch_pv = npv;
      for (uint32_t j = 0; j < lo->op.nsub && npv < 4096; j++) {
        const wl_sub *sb = &lo->op.sub[j];
        const uint8_t *v;
        size_t vl;
        prevval *q = &pv[npv++];
        q->key = key_index(sb->key);
        q->sub = j;
        q->present = wl_ref_get(s.ref, sb->key, sb->klen, &v, &vl);
        q->v = q->present ? malloc(vl + 1) : NULL;
        if (q->present) {
          memcpy(q->v, v, vl);
          q->vlen = vl;
        }
      }
    }
    tu_apply(&s, l, i);
  }
  tu_freeze(&s);
  orc_result r;
  orc_verdict v = tu_check(l, ct, crash, &s, &r);
  if (v != ORC_PASS)
    fprintf(
        stderr,
        "seed %llu spec %s contract 0x%x crash %d n %zu k %zu kmin %zu: %s key %s\n  expected %s\n  found %s\n  %s\n",
        (unsigned long long)seed, spec, ct, crash, n, k, kmin, orc_verdict_name(v), r.first_key, r.expected, r.found,
        r.explanation);
  assert_int_equal(v, ORC_PASS);
  n_legal++;
  orc_result_free(&r);

  /* last touch of every key over the whole log (delete-range included) */
  uint64_t nk = p.keys + 1;
  int64_t *last = malloc(nk * sizeof(int64_t));
  int8_t *last_del = calloc(nk, 1);
  int64_t *some_put = malloc(nk * sizeof(int64_t));
  int32_t *some_put_sub = calloc(nk, sizeof(int32_t));
  for (uint64_t i = 0; i < nk; i++) last[i] = some_put[i] = -1;
  for (size_t i = 0; i < n; i++) {
    const wl_op *o = &l->ops[i].op;
    switch (o->kind) {
      case WL_PUT:
        last[key_index(o->key)] = (int64_t)i;
        last_del[key_index(o->key)] = 0;
        some_put[key_index(o->key)] = (int64_t)i;
        some_put_sub[key_index(o->key)] = -1;
        break;
      case WL_DEL:
        last[key_index(o->key)] = (int64_t)i;
        last_del[key_index(o->key)] = 1;
        break;
      case WL_DELRANGE:
        for (uint64_t x = key_index(o->key); x < key_index(o->end); x++) last[x] = (int64_t)i, last_del[x] = 1;
        break;
      case WL_BATCH:
        for (uint32_t j = 0; j < o->nsub; j++) {
          uint64_t x = key_index(o->sub[j].key);
          last[x] = (int64_t)i;
          last_del[x] = o->sub[j].kind == WL_DEL;
          if (o->sub[j].kind == WL_PUT) some_put[x] = (int64_t)i, some_put_sub[x] = (int32_t)j;
        }
        break;
      default: break;
    }
  }
  char kb[64];
  /* M1: drop a durable key */
  for (uint64_t x = 0; x < p.keys; x++) {
    size_t kl = wl_key_of(&p, x, (uint8_t *)kb, sizeof(kb));
    kb[kl] = 0;
    if (last[x] < 0 || !must[last[x]] || last_del[x] || !tu_find(&s, kb)) continue;
    tu_state m;
    tu_state_init(&m);
    m.kv = malloc(s.n * sizeof(orc_kv));
    m.cap = m.n = s.n;
    memcpy(m.kv, s.kv, s.n * sizeof(orc_kv));
    tu_drop(&m, kb);
    v = tu_check(l, ct, crash, &m, &r);
    if (v != ORC_LOST_ACKED || strcmp(r.first_key, kb))
      fprintf(stderr, "seed %llu M1 drop %s: got %s key %s (%s)\n", (unsigned long long)seed, kb, orc_verdict_name(v),
              r.first_key, r.explanation);
    assert_int_equal(v, ORC_LOST_ACKED);
    assert_string_equal(r.first_key, kb);
    n_mut[0]++;
    orc_result_free(&r);
    tu_state_free(&m);
    break;
  }
  /* M2: resurrect a durable delete with an older value of that key */
  for (uint64_t x = 0; x < p.keys; x++) {
    size_t kl = wl_key_of(&p, x, (uint8_t *)kb, sizeof(kb));
    kb[kl] = 0;
    if (last[x] < 0 || !must[last[x]] || !last_del[x] || some_put[x] < 0 || some_put[x] >= last[x]) continue;
    const wl_op *o = &l->ops[some_put[x]].op;
    const uint8_t *val = o->kind == WL_PUT ? o->val : o->sub[some_put_sub[x]].val;
    size_t vl = o->kind == WL_PUT ? o->vlen : o->sub[some_put_sub[x]].vlen;
    tu_state m;
    tu_state_init(&m);
    m.kv = malloc((s.n + 1) * sizeof(orc_kv));
    m.cap = s.n + 1;
    m.n = s.n;
    memcpy(m.kv, s.kv, s.n * sizeof(orc_kv));
    tu_set(&m, kb, val, vl);
    v = tu_check(l, ct, crash, &m, &r);
    if (v != ORC_PHANTOM || strcmp(r.first_key, kb))
      fprintf(stderr, "seed %llu M2 resurrect %s: got %s key %s (%s)\n", (unsigned long long)seed, kb,
              orc_verdict_name(v), r.first_key, r.explanation);
    assert_int_equal(v, ORC_PHANTOM);
    assert_string_equal(r.first_key, kb);
    n_mut[1]++;
    orc_result_free(&r);
    tu_state_free(&m);
    break;
  }
  /* M3: change one byte of a self-describing value */
  for (size_t i = 0; i < s.n; i++) {
    if (s.kv[i].vlen < WL_VALUE_HDR) continue;
    char key[64];
    snprintf(key, sizeof(key), "%.*s", (int)s.kv[i].klen, (const char *)s.kv[i].key);
    uint8_t *b = malloc(s.kv[i].vlen);
    memcpy(b, s.kv[i].val, s.kv[i].vlen);
    b[below(s.kv[i].vlen)] ^= (uint8_t)(1u << below(8));
    tu_state m;
    tu_state_init(&m);
    m.kv = malloc(s.n * sizeof(orc_kv));
    m.cap = m.n = s.n;
    memcpy(m.kv, s.kv, s.n * sizeof(orc_kv));
    tu_set(&m, key, b, s.kv[i].vlen);
    free(b);
    v = tu_check(l, ct, crash, &m, &r);
    assert_int_equal(v, ORC_PHANTOM);
    assert_string_equal(r.first_key, key);
    n_mut[2]++;
    orc_result_free(&r);
    tu_state_free(&m);
    break;
  }
  /* M4: revert one key of the last applied (non-durable) atomic batch */
  if ((ct & ORC_ATOMIC_BATCH) && last_batch >= 0) {
    const wl_op *o = &l->ops[last_batch].op;
    int64_t k1 = -1, k2 = -1;
    for (uint32_t j = 0; j < o->nsub; j++) {
      const wl_sub *sb = &o->sub[j];
      char key[64];
      snprintf(key, sizeof(key), "%.*s", (int)sb->klen, (const char *)sb->key);
      orc_kv *kv = tu_find(&s, key);
      if (sb->kind != WL_PUT || sb->vlen < WL_VALUE_HDR || !kv || kv->vlen != sb->vlen ||
          memcmp(kv->val, sb->val, sb->vlen))
        continue; /* not visible as written by this batch */
      const prevval *q = &pv[last_batch_pv + j];
      if (k2 < 0 && q->present && q->vlen >= WL_VALUE_HDR)
        k2 = j;
      else if (k1 < 0)
        k1 = j;
    }
    if (k1 >= 0 && k2 >= 0) {
      const wl_sub *sb = &o->sub[k2];
      const prevval *q = &pv[last_batch_pv + k2];
      char key[64];
      snprintf(key, sizeof(key), "%.*s", (int)sb->klen, (const char *)sb->key);
      tu_state m;
      tu_state_init(&m);
      m.kv = malloc(s.n * sizeof(orc_kv));
      m.cap = m.n = s.n;
      memcpy(m.kv, s.kv, s.n * sizeof(orc_kv));
      tu_set(&m, key, q->v, q->vlen);
      v = tu_check(l, ct, crash, &m, &r);
      if (v != ORC_TORN_BATCH || strcmp(r.first_key, key))
        fprintf(stderr, "seed %llu M4 batch op %lld key %s: got %s key %s (%s)\n", (unsigned long long)seed,
                (long long)last_batch, key, orc_verdict_name(v), r.first_key, r.explanation);
      assert_int_equal(v, ORC_TORN_BATCH);
      assert_string_equal(r.first_key, key);
      n_mut[3]++;
      orc_result_free(&r);
      tu_state_free(&m);
    }
  }
  /* M5: cut the log before the last op whose value is visible: the state then holds a
     * value no op of the (shorter) log wrote to its key */
  {
    int64_t cut = -1;
    char want[64] = "";
    for (size_t i = n; i-- > 0 && cut < 0;)
      for (uint32_t j = 0; j < sub_count(&l->ops[i].op); j++)
        if (sub_visible(&s, &l->ops[i].op, j)) cut = (int64_t)i;
    /* expected: the smallest key whose value no op before the cut wrote */
    for (size_t q = 0; cut >= 0 && q < s.n; q++) {
      char key[64];
      int written = 0;
      snprintf(key, sizeof(key), "%.*s", (int)s.kv[q].klen, (const char *)s.kv[q].key);
      for (int64_t i = 0; i < cut && !written; i++)
        for (uint32_t j = 0; j < sub_count(&l->ops[i].op) && !written; j++)
          written = sub_writes(&l->ops[i].op, j, &s.kv[q]);
      if (!written && (!want[0] || strcmp(key, want) < 0)) snprintf(want, sizeof(want), "%s", key);
    }
    if (want[0]) {
      size_t saved = l->n;
      l->n = (size_t)cut;
      v = tu_check(l, ct, crash, &s, &r);
      l->n = saved; /* wl_log_free frees every op the builder appended */
      if (v != ORC_PHANTOM || strcmp(r.first_key, want))
        fprintf(stderr, "seed %llu M5 cut at op %lld: got %s key %s, want PHANTOM %s (%s)\n", (unsigned long long)seed,
                (long long)cut, orc_verdict_name(v), r.first_key, want, r.explanation);
      assert_int_equal(v, ORC_PHANTOM);
      assert_string_equal(r.first_key, want);
      n_mut[4]++;
      orc_result_free(&r);
    }
  }
  for (size_t i = 0; i < npv; i++) free(pv[i].v);
  free(pv);
  free(last);
  free(last_del);
  free(some_put);
  free(some_put_sub);
  free(must);
  free(applied);
  tu_state_free(&s);
  wl_log_free(l);
}

static void legal_prefix_states_pass_and_one_mutation_fails(void **st) {
  for (uint64_t seed = 1; seed <= SEEDS; seed++) run_seed(seed);
  printf(
      "legal states: %u PASS; mutations: drop durable key %u -> LOST_ACKED, resurrect delete %u -> "
      "PHANTOM, change a byte %u -> PHANTOM, half a batch %u -> TORN_BATCH, log cut before a "
      "visible write %u -> PHANTOM\n",
      n_legal, n_mut[0], n_mut[1], n_mut[2], n_mut[3], n_mut[4]);
  assert_int_equal(n_legal, SEEDS);
  for (int i = 0; i < 5; i++) assert_true(n_mut[i] >= SEEDS / 20); /* each mutation exercised */
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(legal_prefix_states_pass_and_one_mutation_fails)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
