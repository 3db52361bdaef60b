/*
 * gen_test.c — generators: determinism (two independent runs of the same seed give the same
 * byte stream, different seeds differ), distribution sanity (zipf hot keys are hot, uniform is
 * flat, sync/delete/barrier frequencies within tolerance), self-describing values, bank
 * conservation, batch shape, large values, delete-range only when the target supports it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <xxhash.h>

#include "workloads.h"

static wl_params spec(const char *s) {
  wl_params p;
  char err[256];
  if (wl_spec_parse(s, &p, err, sizeof(err))) fail_msg("%s", err);
  return p;
}

static void hash_bytes(XXH3_state_t *h, const void *b, size_t n) {
  uint64_t len = n;
  XXH3_64bits_update(h, &len, sizeof(len));
  if (n) XXH3_64bits_update(h, b, n);
}

/* Hash of the whole op stream: every field that reaches the engine. */
static uint64_t stream_hash(const wl_params *p, uint64_t seed, uint64_t *nops) {
  wl_gen *g;
  wl_op op;
  XXH3_state_t *h = XXH3_createState();
  XXH3_64bits_reset(h);
  assert_int_equal(wl_gen_create(p, seed, &g), 0);
  uint64_t n = 0;
  int rc;
  while ((rc = wl_gen_next(g, &op)) == 1) {
    uint32_t hdr[2] = {op.kind, (uint32_t)op.sync};
    assert_int_equal(op.idx, n);
    XXH3_64bits_update(h, hdr, sizeof(hdr));
    hash_bytes(h, op.key, op.klen);
    hash_bytes(h, op.val, op.vlen);
    hash_bytes(h, op.end, op.elen);
    for (uint32_t s = 0; s < op.nsub; s++) {
      hash_bytes(h, &op.sub[s].kind, sizeof(op.sub[s].kind));
      hash_bytes(h, op.sub[s].key, op.sub[s].klen);
      hash_bytes(h, op.sub[s].val, op.sub[s].vlen);
    }
    n++;
  }
  assert_int_equal(rc, 0);
  wl_gen_destroy(g);
  uint64_t d = XXH3_64bits_digest(h);
  XXH3_freeState(h);
  if (nops) *nops = n;
  return d;
}

static void same_seed_gives_same_stream_and_other_seeds_differ(void **st) {
  for (int i = 0; wl_workload_names[i]; i++) {
    char s[128];
    snprintf(s, sizeof(s), "%s:ops=%d", wl_workload_names[i], strcmp(wl_workload_names[i], "large") ? 2000 : 12);
    wl_params p = spec(s);
    p.caps = WL_CAP_DELRANGE;
    uint64_t n1, n2;
    uint64_t a = stream_hash(&p, 7, &n1), b = stream_hash(&p, 7, &n2), c = stream_hash(&p, 8, NULL);
    assert_int_equal(n1, p.ops);
    assert_int_equal(n1, n2);
    assert_true(a == b);
    assert_true(a != c);
    /* seed 0 is an ordinary seed */
    assert_true(stream_hash(&p, 0, NULL) == stream_hash(&p, 0, NULL));
    assert_true(stream_hash(&p, 0, NULL) != a);
  }
}

/* A CLOSE is followed by its OPEN, the stream's next op (invariant 7 of gen.c); the OPEN
 * draws nothing, and close=0 generates neither. */
static void close_is_followed_by_its_open(void **st) {
  wl_params p = spec("reopen:ops=4000");
  wl_gen *g;
  wl_op op;
  wl_kind prev = 0;
  unsigned closes = 0, opens = 0, reopens = 0;
  assert_int_equal(p.close, 25000);
  assert_int_equal(wl_gen_create(&p, 11, &g), 0);
  while (wl_gen_next(g, &op) == 1) {
    if (prev == WL_CLOSE) assert_int_equal(op.kind, WL_OPEN);
    if (op.kind == WL_OPEN) assert_int_equal(prev, WL_CLOSE);
    if (op.kind == WL_CLOSE || op.kind == WL_OPEN) assert_true(op.klen == 0 && op.nsub == 0 && !op.sync);
    closes += op.kind == WL_CLOSE;
    opens += op.kind == WL_OPEN;
    reopens += op.kind == WL_REOPEN;
    prev = op.kind;
  }
  wl_gen_destroy(g);
  print_message("reopen:ops=4000 seed 11: %u closes, %u opens, %u reopens\n", closes, opens, reopens);
  assert_true(closes > 50 && closes < 150); /* 2.5% of the ops that are not opens */
  assert_true(opens == closes || opens + 1 == closes);
  assert_true(reopens > 100);
  p = spec("mixed:ops=4000"); /* mixed keeps its stream (its case ids are pinned) */
  assert_int_equal(p.close, 0);
  p = spec("reopen:ops=4000,close=0");
  assert_int_equal(wl_gen_create(&p, 11, &g), 0);
  while (wl_gen_next(g, &op) == 1) assert_true(op.kind != WL_CLOSE && op.kind != WL_OPEN);
  wl_gen_destroy(g);
}

static void delete_range_only_when_the_target_supports_it(void **st) {
  wl_params p = spec("mixed:ops=3000,delrange=0.1");
  wl_gen *g;
  wl_op op;
  for (int cap = 0; cap < 2; cap++) {
    p.caps = cap ? WL_CAP_DELRANGE : 0;
    unsigned n = 0;
    assert_int_equal(wl_gen_create(&p, 3, &g), 0);
    while (wl_gen_next(g, &op) == 1) {
      if (op.kind != WL_DELRANGE) continue;
      n++;
      assert_true(op.klen == op.elen && memcmp(op.key, op.end, op.klen) < 0);
    }
    wl_gen_destroy(g);
    if (cap)
      assert_true(n > 200 && n < 400);
    else
      assert_int_equal(n, 0);
  }
}

static void zipf_hot_keys_are_hot_and_uniform_is_flat(void **st) {
  const uint64_t keys = 10000, ops = 200000;
  uint32_t *cnt = calloc(keys, sizeof(uint32_t));
  uint8_t kb[64];
  for (int dist = 0; dist < 2; dist++) {
    char s[128];
    snprintf(s, sizeof(s), "overwrite:ops=%llu,keys=%llu,dist=%s,get=0,barrier=0,del=0", (unsigned long long)ops,
             (unsigned long long)keys, dist ? "zipf" : "uniform");
    wl_params p = spec(s);
    memset(cnt, 0, keys * sizeof(uint32_t));
    wl_gen *g;
    wl_op op;
    assert_int_equal(wl_gen_create(&p, 11, &g), 0);
    uint64_t n = 0;
    while (wl_gen_next(g, &op) == 1) {
      assert_int_equal(op.kind, WL_PUT);
      size_t kl = wl_key_of(&p, 0, kb, sizeof(kb));
      assert_int_equal(op.klen, kl);
      char tmp[64];
      memcpy(tmp, op.key + 1, op.klen - 1);
      tmp[op.klen - 1] = 0;
      uint64_t x = strtoull(tmp, NULL, 10);
      assert_true(x < keys);
      cnt[x]++;
      n++;
    }
    wl_gen_destroy(g);
    /* top 1% of keys by count */
    uint32_t *sorted = malloc(keys * sizeof(uint32_t));
    memcpy(sorted, cnt, keys * sizeof(uint32_t));
    uint64_t top = 0;
    for (uint64_t i = 0; i < keys / 100; i++) { /* partial selection of the largest */
      uint64_t m = i;
      for (uint64_t j = i + 1; j < keys; j++)
        if (sorted[j] > sorted[m]) m = j;
      uint32_t t = sorted[i];
      sorted[i] = sorted[m];
      sorted[m] = t;
      top += sorted[i];
    }
    free(sorted);
    double share = (double)top / (double)n;
    if (dist) {
      print_message("zipf: top 1%% of keys get %.1f%% of writes, key 0 gets %u\n", share * 100, cnt[0]);
      assert_true(share > 0.30);
      for (uint64_t i = 1; i < keys; i++) assert_true(cnt[0] >= cnt[i]);
    } else {
      print_message("uniform: top 1%% of keys get %.2f%% of writes\n", share * 100);
      assert_true(share < 0.02);
      for (int b = 0; b < 10; b++) { /* 10 buckets of 1000 keys: each ~10% */
        uint64_t s2 = 0;
        for (uint64_t i = (uint64_t)b * 1000; i < (uint64_t)(b + 1) * 1000; i++) s2 += cnt[i];
        assert_true(s2 > n / 10 * 95 / 100 && s2 < n / 10 * 105 / 100);
      }
    }
  }
  free(cnt);
}

static void sync_delete_and_barrier_frequencies_within_tolerance(void **st) {
  wl_params p =
      spec("mixed:ops=200000,sync=0.3,del=0.25,barrier=0.05,batch_ratio=0.1,get=0.05,flush=0,reopen=0,delrange=0");
  wl_gen *g;
  wl_op op;
  uint64_t writes = 0, syncs = 0, singles = 0, dels = 0, barriers = 0, batches = 0, n = 0;
  assert_int_equal(wl_gen_create(&p, 5, &g), 0);
  while (wl_gen_next(g, &op) == 1) {
    n++;
    if (op.kind == WL_SYNC) barriers++;
    if (op.kind == WL_BATCH) {
      batches++;
      assert_true(op.nsub >= 1 && op.nsub <= p.batch);
      for (uint32_t i = 0; i < op.nsub; i++)
        for (uint32_t j = i + 1; j < op.nsub; j++)
          assert_false(op.sub[i].klen == op.sub[j].klen && !memcmp(op.sub[i].key, op.sub[j].key, op.sub[i].klen));
    }
    if (op.kind == WL_PUT || op.kind == WL_DEL) {
      singles++;
      dels += op.kind == WL_DEL;
    }
    if (op.kind == WL_PUT || op.kind == WL_DEL || op.kind == WL_BATCH) {
      writes++;
      syncs += op.sync;
    }
  }
  wl_gen_destroy(g);
  double fs = (double)syncs / writes, fd = (double)dels / singles, fb = (double)barriers / n, fbt = (double)batches / n;
  print_message("sync %.4f (0.3), delete %.4f (0.25), barrier %.4f (0.05), batch %.4f (0.1)\n", fs, fd, fb, fbt);
  assert_true(fs > 0.29 && fs < 0.31);
  assert_true(fd > 0.24 && fd < 0.26);
  assert_true(fb > 0.045 && fb < 0.055);
  assert_true(fbt > 0.095 && fbt < 0.105);
}

static void values_decode_to_their_op_and_key(void **st) {
  wl_params p = spec("batch:ops=2000,value_size=0..300");
  wl_gen *g;
  wl_op op;
  unsigned decoded = 0, shorts = 0, empties = 0;
  assert_int_equal(wl_gen_create(&p, 9, &g), 0);
  while (wl_gen_next(g, &op) == 1) {
    for (uint32_t s = 0; s < (op.kind == WL_BATCH ? op.nsub : op.kind == WL_PUT); s++) {
      const uint8_t *k = op.kind == WL_BATCH ? op.sub[s].key : op.key;
      const uint8_t *v = op.kind == WL_BATCH ? op.sub[s].val : op.val;
      size_t kl = op.kind == WL_BATCH ? op.sub[s].klen : op.klen;
      size_t vl = op.kind == WL_BATCH ? op.sub[s].vlen : op.vlen;
      if (op.kind == WL_BATCH && op.sub[s].kind == WL_DEL) continue;
      wl_value_info vi;
      int rc = wl_value_decode(v, vl, k, kl, &vi);
      if (vl < WL_VALUE_HDR) {
        assert_int_equal(rc, WL_ENOTOURS);
        shorts++;
        empties += vl == 0;
        continue;
      }
      assert_int_equal(rc, 0);
      assert_int_equal(vi.op, op.idx);
      assert_int_equal(vi.sub, op.kind == WL_BATCH ? s : 0);
      assert_true(vi.key_match);
      /* another key: decodes, but key_match says it is not this key's */
      assert_int_equal(wl_value_decode(v, vl, (const uint8_t *)"zz", 2, &vi), 0);
      assert_false(vi.key_match);
      /* one flipped bit anywhere -> damaged; truncated -> damaged */
      uint8_t *c = malloc(vl);
      memcpy(c, v, vl);
      size_t at = (op.idx * 31 + s) % vl;
      if (at < 4) at = 4; /* keep the magic so it still looks like ours */
      c[at] ^= 0x04;
      assert_int_equal(wl_value_decode(c, vl, k, kl, &vi), WL_ECHECKSUM);
      assert_int_equal(wl_value_decode(v, vl - 1, k, kl, &vi), vl - 1 < WL_VALUE_HDR ? WL_ENOTOURS : WL_ECHECKSUM);
      free(c);
      decoded++;
    }
  }
  wl_gen_destroy(g);
  assert_true(decoded > 1000 && shorts > 50 && empties > 0);
  assert_int_equal(wl_value_decode((const uint8_t *)"hello, this is not ours at all, really", 38, NULL, 0, NULL),
                   WL_ENOTOURS);
}

static void bank_transfers_conserve_the_total(void **st) {
  wl_params p = spec("bank:ops=3000,keys=20");
  wl_gen *g;
  wl_op op;
  wl_ref *ref;
  uint64_t transfers = 0;
  assert_int_equal(wl_ref_create(&ref), 0);
  assert_int_equal(wl_gen_create(&p, 77, &g), 0);
  while (wl_gen_next(g, &op) == 1) {
    assert_int_equal(wl_ref_apply(ref, &op), 0);
    if (op.kind != WL_BATCH) continue;
    if (op.idx == 0) {
      assert_int_equal(op.nsub, 20);
      assert_true(op.sync);
      continue;
    }
    assert_int_equal(op.nsub, 2);
    transfers++;
    uint64_t sum = 0;
    uint8_t kb[64];
    for (uint64_t a = 0; a < p.keys; a++) {
      const uint8_t *v;
      size_t vl, kl = wl_key_of(&p, a, kb, sizeof(kb));
      uint64_t b;
      assert_int_equal(wl_ref_get(ref, kb, kl, &v, &vl), 1);
      assert_int_equal(wl_bank_balance(v, vl, &b), 0);
      sum += b;
    }
    assert_int_equal(sum, p.keys * WL_BANK_INITIAL);
  }
  wl_gen_destroy(g);
  wl_ref_destroy(ref);
  assert_true(transfers > 2500);
}

static void large_values_are_mebibytes_and_intact(void **st) {
  wl_params p = spec("large:ops=30");
  wl_gen *g;
  wl_op op;
  unsigned puts = 0;
  assert_int_equal(wl_gen_create(&p, 1, &g), 0);
  while (wl_gen_next(g, &op) == 1) {
    if (op.kind != WL_PUT) continue;
    puts++;
    assert_true(op.vlen >= (1u << 20) && op.vlen <= (4u << 20));
    assert_int_equal(wl_value_decode(op.val, op.vlen, op.key, op.klen, NULL), 0);
  }
  wl_gen_destroy(g);
  assert_true(puts > 10);
}

static void keys_sort_in_index_order_even_at_the_range_end(void **st) {
  wl_params p = spec("mixed:keys=1000,key_size=1");
  uint8_t a[32], b[32];
  size_t la = wl_key_of(&p, 999, a, sizeof(a)), lb = wl_key_of(&p, 1000, b, sizeof(b));
  assert_int_equal(la, lb);
  assert_true(memcmp(a, b, la) < 0);
  assert_int_equal(la, 5);                     /* "k" + 4 digits */
  assert_int_equal(wl_key_of(&p, 5, a, 2), 5); /* too small: says how much is needed */
}

/* sizes: log-uniform values from empty to 256 KiB, so records below and above a 32 KiB
 * log block are both common; uniform on the same range would make small ones rare. */
static void sizes_spread_values_over_every_octave(void **st) {
  const char *specs[2] = {"sizes:ops=3000", "sizes:ops=3000,value_dist=uniform"};
  unsigned small[2] = {0}, big[2] = {0}, puts[2] = {0};
  for (int i = 0; i < 2; i++) {
    wl_params p = spec(specs[i]);
    wl_gen *g;
    wl_op op;
    assert_int_equal(wl_gen_create(&p, 4, &g), 0);
    while (wl_gen_next(g, &op) == 1) {
      if (op.kind != WL_PUT) continue;
      puts[i]++;
      assert_true(op.vlen <= (256u << 10));
      small[i] += op.vlen < 256;
      big[i] += op.vlen > (32u << 10);
      if (op.vlen >= WL_VALUE_HDR) assert_int_equal(wl_value_decode(op.val, op.vlen, op.key, op.klen, NULL), 0);
    }
    wl_gen_destroy(g);
  }
  /* log: 8 of 19 octaves below 256 bytes, 3 above 32 KiB */
  assert_true(small[0] * 100 > puts[0] * 30 && big[0] * 100 > puts[0] * 10);
  assert_true(small[1] * 100 < puts[1] * 2 && big[1] * 100 > puts[1] * 80);
  char buf[128];
  wl_params p = spec("sizes:value_dist=uniform");
  assert_true(wl_spec_format(&p, buf, sizeof buf) > 0);
  assert_string_equal(buf, "sizes:value_dist=uniform");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_seed_gives_same_stream_and_other_seeds_differ),
      cmocka_unit_test(close_is_followed_by_its_open),
      cmocka_unit_test(delete_range_only_when_the_target_supports_it),
      cmocka_unit_test(zipf_hot_keys_are_hot_and_uniform_is_flat),
      cmocka_unit_test(sync_delete_and_barrier_frequencies_within_tolerance),
      cmocka_unit_test(values_decode_to_their_op_and_key),
      cmocka_unit_test(bank_transfers_conserve_the_total),
      cmocka_unit_test(large_values_are_mebibytes_and_intact),
      cmocka_unit_test(keys_sort_in_index_order_even_at_the_range_end),
      cmocka_unit_test(sizes_spread_values_over_every_octave),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
