/*
 * test_views.c — the oracle's rules for views and transactions against planted states: reads
 * at a snapshot or an iterator must show the state at their view's op (BAD_READ), a checkpoint
 * must hold the state at its op and open when acked (BAD_CHECKPOINT), a committed transaction
 * is all or nothing and a rolled back or conflicting one never shows (TORN_BATCH, PHANTOM),
 * the bank invariant holds through transaction conflicts (INVARIANT). Each rule has a state
 * that breaks it and legal states that must pass beside it. Prints the count per verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "orc_test_util.h"

static unsigned counts[ORC_NVERDICTS];

/* ---- building logs with views ---- */
static wl_log *newlog(void) {
  wl_log *l;
  assert_int_equal(wl_log_new(&l), 0);
  return l;
}

static uint64_t add(wl_log *l, wl_op *op, wl_outcome o, int code) {
  assert_int_equal(wl_log_append(l, op, o, code), 0);
  return l->n - 1;
}

static uint64_t snap(wl_log *l) {
  wl_op op = {0};
  op.kind = WL_SNAP;
  return add(l, &op, A, 0);
}

/* What a read read: keys with the value op `op` wrote there (op -1: listed absent, i.e. the
 * entry is skipped). */
typedef struct rd {
  const char *key;
  int64_t op;
} rd;

static void set_read(wl_log *l, uint64_t i, const rd *r, int at_end) {
  wl_sub e[16];
  uint32_t n = 0;
  for (; r && r[n].key; n++)
    e[n] =
        (wl_sub){WL_PUT, (const uint8_t *)r[n].key, strlen(r[n].key), tu_val(r[n].key, (uint64_t)r[n].op, 0, 40), 40};
  assert_int_equal(wl_log_set_read(l, i, e, n, at_end), 0);
}

/* SNAP_GET of key at snapshot s; seen_op: the op whose value it read, -1 absent. */
static uint64_t snap_get(wl_log *l, uint64_t s, const char *key, int64_t seen_op) {
  wl_op op = {0};
  op.kind = WL_SNAP_GET;
  op.ref = s;
  op.key = (const uint8_t *)key;
  op.klen = strlen(key);
  uint64_t i = add(l, &op, A, 0);
  rd r[] = {{key, seen_op}, {NULL, 0}};
  set_read(l, i, seen_op >= 0 ? r : NULL, 0);
  return i;
}

/* SNAP_SCAN [lo, hi) at snapshot s (hi "": to the end). */
static uint64_t snap_scan(wl_log *l, uint64_t s, const char *lo, const char *hi, const rd *r) {
  wl_op op = {0};
  op.kind = WL_SNAP_SCAN;
  op.ref = s;
  op.key = (const uint8_t *)lo;
  op.klen = strlen(lo);
  op.end = (const uint8_t *)hi;
  op.elen = strlen(hi);
  uint64_t i = add(l, &op, A, 0);
  set_read(l, i, r, 0);
  return i;
}

static uint64_t iter_open(wl_log *l, const char *from, const rd *r, int at_end) {
  wl_op op = {0};
  op.kind = WL_ITER;
  op.arg = 8;
  op.key = (const uint8_t *)from;
  op.klen = strlen(from);
  uint64_t i = add(l, &op, A, 0);
  set_read(l, i, r, at_end);
  return i;
}

static uint64_t iter_next(wl_log *l, uint64_t it, const rd *r, int at_end) {
  wl_op op = {0};
  op.kind = WL_ITER_NEXT;
  op.ref = it;
  op.arg = 8;
  uint64_t i = add(l, &op, A, 0);
  set_read(l, i, r, at_end);
  return i;
}

/* A transaction writing keys (a leading '-' deletes). */
static uint64_t txn(wl_log *l, const char *const *keys, int sync, int rollback, wl_outcome o, int code) {
  wl_sub sub[16];
  wl_op op = {0};
  uint32_t n = tu_subs(l, keys, sub);
  op.kind = WL_TXN;
  op.sync = sync;
  op.rollback = rollback;
  op.sub = sub;
  op.nsub = n;
  return add(l, &op, o, code);
}

static void expect_in(const orc_input *in, orc_verdict want, const char *key) {
  orc_result r;
  assert_int_equal(orc_check(in, &r), 0);
  if (r.verdict != want || (key && strcmp(r.first_key, key)))
    fprintf(stderr, "want %s key %s, got %s key '%s'\n  expected: %s\n  found: %s\n  %s\n", orc_verdict_name(want),
            key ? key : "-", orc_verdict_name(r.verdict), r.first_key, r.expected, r.found, r.explanation);
  assert_int_equal(r.verdict, want);
  if (key) assert_string_equal(r.first_key, key);
  if (want != ORC_PASS) assert_true(r.explanation[0] != 0);
  counts[want]++;
  orc_result_free(&r);
}

/* The state after ops [0, n) (all applied), checked with the contract of an LSM engine. */
static void expect_full(const wl_log *l, orc_verdict want, const char *key) {
  tu_state s;
  tu_state_init(&s);
  tu_apply_prefix(&s, l, l->n, NULL);
  tu_freeze(&s);
  orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, NULL, NULL, NULL, 0};
  expect_in(&in, want, key);
  tu_state_free(&s);
}

/* ================================ BAD_READ: snapshots ================================ */
static void snapshot_get_sees_the_value_at_the_snapshot(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);   /* 0 */
  uint64_t s = snap(l);   /* 1 */
  tu_put(l, "a", 0, A);   /* 2: after the snapshot */
  snap_get(l, s, "a", 0); /* 3: the value of op 0 */
  expect_full(l, ORC_PASS, NULL);
  wl_log_free(l);
}

static void snapshot_get_sees_a_write_acked_after_it(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  uint64_t s = snap(l);
  tu_put(l, "a", 0, A);
  snap_get(l, s, "a", 2); /* the later write leaked into the snapshot */
  expect_full(l, ORC_BAD_READ, "a");
  wl_log_free(l);
}

static void snapshot_get_sees_an_overwritten_value(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "a", 0, A);
  uint64_t s = snap(l);
  snap_get(l, s, "a", 0); /* op 1 was acked before the snapshot */
  expect_full(l, ORC_BAD_READ, "a");
  wl_log_free(l);
}

static void snapshot_get_misses_a_key_that_was_there(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  uint64_t s = snap(l);
  tu_del(l, "a", 0, A);
  snap_get(l, s, "a", -1); /* absent at the snapshot: wrong */
  expect_full(l, ORC_BAD_READ, "a");
  wl_log_free(l);
}

static void snapshot_get_of_a_key_written_after_it_is_absent(void **st) {
  wl_log *l = newlog();
  uint64_t s = snap(l);
  tu_put(l, "a", 0, A);
  snap_get(l, s, "a", -1);
  expect_full(l, ORC_PASS, NULL);
  wl_log_free(l);
}

static void snapshot_scan_is_the_whole_state_of_its_range(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "c", 0, A); /* 0 1 2 */
  uint64_t s = snap(l); /* 3 */
  tu_put(l, "b", 0, A);
  tu_del(l, "c", 0, A);
  tu_put(l, "d", 0, A); /* 4 5 6 */
  rd good[] = {{"a", 0}, {"b", 1}, {"c", 2}, {NULL, 0}};
  snap_scan(l, s, "a", "", good);
  expect_full(l, ORC_PASS, NULL);
  wl_log_free(l);
  /* the range [b, c): only b */
  l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "c", 0, A);
  s = snap(l);
  rd part[] = {{"b", 1}, {NULL, 0}};
  snap_scan(l, s, "b", "c", part);
  expect_full(l, ORC_PASS, NULL);
  wl_log_free(l);
}

static void snapshot_scan_misses_a_key(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "c", 0, A);
  uint64_t s = snap(l);
  tu_del(l, "b", 0, A);
  rd miss[] = {{"a", 0}, {"c", 2}, {NULL, 0}}; /* b was there at the snapshot */
  snap_scan(l, s, "a", "", miss);
  expect_full(l, ORC_BAD_READ, "b");
  wl_log_free(l);
}

static void snapshot_scan_shows_a_key_written_after_it(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  uint64_t s = snap(l);
  tu_put(l, "b", 0, A);
  rd extra[] = {{"a", 0}, {"b", 2}, {NULL, 0}};
  snap_scan(l, s, "a", "", extra);
  expect_full(l, ORC_BAD_READ, "b");
  wl_log_free(l);
}

static void snapshot_scan_out_of_order_or_outside_its_range(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  uint64_t s = snap(l);
  rd backwards[] = {{"b", 1}, {"a", 0}, {NULL, 0}};
  snap_scan(l, s, "a", "", backwards);
  expect_full(l, ORC_BAD_READ, "a");
  wl_log_free(l);
  l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  s = snap(l);
  rd outside[] = {{"a", 0}, {"b", 1}, {NULL, 0}};
  snap_scan(l, s, "a", "b", outside); /* b is not in [a, b) */
  expect_full(l, ORC_BAD_READ, "b");
  wl_log_free(l);
}

static void snapshot_of_a_failed_write_may_show_it_or_not(void **st) {
  for (int shows = 0; shows < 2; shows++) {
    wl_log *l = newlog();
    tu_put(l, "a", 0, A);
    tu_put(l, "a", 0, F); /* 1: failed, applied or not */
    uint64_t s = snap(l);
    snap_get(l, s, "a", shows ? 1 : 0);
    tu_state st0;
    tu_state_init(&st0);
    tu_apply(&st0, l, 0);
    tu_freeze(&st0);
    orc_input in = {l, C_LSM, ORC_CRASH_POWER, st0.kv, st0.n, NULL, NULL, NULL, 0};
    expect_in(&in, ORC_PASS, NULL);
    tu_state_free(&st0);
    wl_log_free(l);
  }
}

static void snapshot_after_a_failure_is_not_checked(void **st) {
  /* a reopen after a failed sync may have dropped acked writes: later views are not judged */
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_ctl(l, WL_SYNC, F);
  tu_ctl(l, WL_REOPEN, A);
  uint64_t s = snap(l);
  snap_get(l, s, "a", -1);
  tu_state st0;
  tu_state_init(&st0);
  tu_freeze(&st0);
  orc_input in = {l, C_LSM, ORC_CRASH_POWER, st0.kv, st0.n, NULL, NULL, NULL, 0};
  expect_in(&in, ORC_PASS, NULL);
  tu_state_free(&st0);
  wl_log_free(l);
}

/* concurrent: a write that overlaps the snapshot's op may show or not; one acked before the
 * snapshot was invoked must show */
static void conc_snapshot_overlapping_write_either_way_acked_one_must_show(void **st) {
  for (int shows = 0; shows < 2; shows++) {
    wl_log *l = newlog();
    tu_put(l, "a", 0, A);               /* 0: [0, 1] */
    tu_put(l, "a", 0, A);               /* 1: [2, 5], overlaps the snapshot */
    uint64_t s = snap(l);               /* 2: [3, 4] */
    snap_get(l, s, "a", shows ? 1 : 0); /* 3: [6, 7] */
    tu_span(l, 0, 0, 1);
    tu_span(l, 1, 2, 5);
    tu_span(l, 2, 3, 4);
    tu_span(l, 3, 6, 7);
    expect_full(l, ORC_PASS, NULL);
    wl_log_free(l);
  }
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);   /* 0: [0, 1] */
  tu_put(l, "a", 0, A);   /* 1: [2, 3], acked before the snapshot */
  uint64_t s = snap(l);   /* 2: [4, 6] */
  tu_put(l, "b", 0, A);   /* 3: [5, 7] */
  snap_get(l, s, "a", 0); /* 4: [8, 9] */
  tu_span(l, 0, 0, 1);
  tu_span(l, 1, 2, 3);
  tu_span(l, 2, 4, 6);
  tu_span(l, 3, 5, 7);
  tu_span(l, 4, 8, 9);
  expect_full(l, ORC_BAD_READ, "a");
  wl_log_free(l);
}

/* ================================ BAD_READ: iterators ================================ */
static void iterator_reads_its_view_across_writes(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "c", 0, A); /* 0 1 2 */
  rd first[] = {{"a", 0}, {NULL, 0}};
  uint64_t it = iter_open(l, "a", first, 0); /* 3 */
  tu_put(l, "b", 0, A);
  tu_del(l, "c", 0, A);
  tu_put(l, "bb", 0, A); /* 4 5 6: after its view */
  rd rest[] = {{"b", 1}, {"c", 2}, {NULL, 0}};
  iter_next(l, it, rest, 1);
  expect_full(l, ORC_PASS, NULL);
  wl_log_free(l);
}

static void iterator_shows_a_write_made_after_it_was_opened(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "c", 0, A);
  rd first[] = {{"a", 0}, {NULL, 0}};
  uint64_t it = iter_open(l, "a", first, 0);
  tu_put(l, "b", 0, A); /* 4 */
  rd rest[] = {{"b", 4}, {"c", 2}, {NULL, 0}};
  iter_next(l, it, rest, 1);
  expect_full(l, ORC_BAD_READ, "b");
  wl_log_free(l);
}

static void iterator_skips_a_key_of_its_view(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "c", 0, A);
  rd first[] = {{"a", 0}, {NULL, 0}};
  uint64_t it = iter_open(l, "a", first, 0);
  tu_del(l, "b", 0, A);
  rd rest[] = {{"c", 2}, {NULL, 0}}; /* b was in its view */
  iter_next(l, it, rest, 1);
  expect_full(l, ORC_BAD_READ, "b");
  wl_log_free(l);
}

static void iterator_ends_early(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  rd first[] = {{"a", 0}, {NULL, 0}};
  iter_open(l, "a", first, 1); /* claims the end, b is there */
  expect_full(l, ORC_BAD_READ, "b");
  wl_log_free(l);
  /* without the end claim, reading one entry of two is fine */
  l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  iter_open(l, "a", first, 0);
  expect_full(l, ORC_PASS, NULL);
  wl_log_free(l);
}

static void iterator_goes_back(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "c", 0, A);
  rd first[] = {{"a", 0}, {"b", 1}, {NULL, 0}};
  uint64_t it = iter_open(l, "a", first, 0);
  rd again[] = {{"b", 1}, {"c", 2}, {NULL, 0}}; /* b twice */
  iter_next(l, it, again, 1);
  expect_full(l, ORC_BAD_READ, "b");
  wl_log_free(l);
}

/* ================================ transactions ================================ */
static void txn_committed_half_applied_is_torn_even_without_atomic_batches(void **st) {
  wl_log *l = newlog();
  const char *k[] = {"a", "b", NULL};
  txn(l, k, 0, 0, A, 0);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_freeze(&s);
  tu_drop(&s, "b");
  orc_input in = {l, ORC_DURABLE_ACK | ORC_PREFIX, ORC_CRASH_POWER, s.kv, s.n, NULL, NULL, NULL, 0};
  expect_in(&in, ORC_TORN_BATCH, "b");
  tu_state_free(&s);
  /* all or nothing: both pass */
  expect_full(l, ORC_PASS, NULL);
  tu_state_init(&s);
  tu_freeze(&s);
  orc_input none = {l, ORC_DURABLE_ACK | ORC_PREFIX, ORC_CRASH_POWER, s.kv, s.n, NULL, NULL, NULL, 0};
  expect_in(&none, ORC_PASS, NULL);
  tu_state_free(&s);
  wl_log_free(l);
}

static void txn_synced_commit_lost_is_lost_acked(void **st) {
  wl_log *l = newlog();
  const char *k[] = {"a", "b", NULL};
  txn(l, k, 1, 0, A, 0);
  tu_state s;
  tu_state_init(&s);
  tu_freeze(&s);
  orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, NULL, NULL, NULL, 0};
  expect_in(&in, ORC_LOST_ACKED, "a");
  tu_state_free(&s);
  wl_log_free(l);
}

/* a rolled back transaction's values, or those of one whose commit conflicted, never show */
static void txn_rolled_back_or_conflicting_shows_is_a_phantom(void **st) {
  for (int conflict = 0; conflict < 2; conflict++) {
    wl_log *l = newlog();
    const char *k[] = {"a", NULL};
    tu_put(l, "a", 1, A);
    txn(l, k, 1, !conflict, conflict ? F : A, conflict ? WL_CODE_CONFLICT : 0);
    wl_op tx = l->ops[1].op;
    tx.rollback = 0; /* apply its writes to plant the state */
    tu_state s;
    tu_state_init(&s);
    tu_apply(&s, l, 0);
    assert_int_equal(wl_ref_apply(s.ref, &tx), 0);
    tu_freeze(&s);
    orc_result r;
    orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, NULL, NULL, NULL, 0};
    assert_int_equal(orc_check(&in, &r), 0);
    assert_int_equal(r.verdict, ORC_PHANTOM);
    assert_string_equal(r.first_key, "a");
    assert_non_null(strstr(r.explanation, conflict ? "conflicted at commit" : "was rolled back"));
    counts[ORC_PHANTOM]++;
    orc_result_free(&r);
    tu_state_free(&s);
    /* the state without it passes */
    tu_state_init(&s);
    tu_apply(&s, l, 0);
    tu_freeze(&s);
    orc_input without = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, NULL, NULL, NULL, 0};
    expect_in(&without, ORC_PASS, NULL);
    tu_state_free(&s);
    wl_log_free(l);
  }
}

/* a transaction that failed otherwise (an I/O error) may or may not have committed */
static void txn_failed_commit_either_way(void **st) {
  wl_log *l = newlog();
  const char *k[] = {"a", "b", NULL};
  txn(l, k, 1, 0, F, -5);
  expect_full(l, ORC_PASS, NULL);
  tu_state s;
  tu_state_init(&s);
  tu_freeze(&s);
  orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, NULL, NULL, NULL, 0};
  expect_in(&in, ORC_PASS, NULL);
  tu_state_free(&s);
  wl_log_free(l);
}

/* A conflict is not a failure: the bank invariant still applies (and so do kill rules). */
static void bank_invariant_checked_through_conflicts(void **st) {
  wl_params p;
  char err[128];
  assert_int_equal(wl_spec_parse("bank:keys=2,txn=1", &p, err, sizeof(err)), 0);
  wl_log *l = newlog();
  wl_sub sub[2];
  uint8_t v[2][WL_BANK_VALUE_LEN];
  const char *keys[2] = {"k0", "k1"};
  for (int a = 0; a < 2; a++) {
    wl_bank_value_fill(v[a], (const uint8_t *)keys[a], 2, 0, (uint32_t)a, WL_BANK_INITIAL);
    sub[a] = (wl_sub){WL_PUT, (const uint8_t *)keys[a], 2, v[a], WL_BANK_VALUE_LEN};
  }
  wl_op op = {0};
  op.kind = WL_BATCH;
  op.sync = 1;
  op.sub = sub;
  op.nsub = 2;
  add(l, &op, A, 0);
  op.kind = WL_TXN; /* a transfer whose commit conflicted (values stay those of op 0's) */
  add(l, &op, F, WL_CODE_CONFLICT);
  uint8_t money[WL_BANK_VALUE_LEN];
  wl_bank_value_fill(money, (const uint8_t *)"k0", 2, 2, 0, 5000); /* money from nowhere */
  wl_sub s1[1] = {{WL_PUT, (const uint8_t *)"k0", 2, money, WL_BANK_VALUE_LEN}};
  op.kind = WL_BATCH;
  op.sync = 1;
  op.sub = s1;
  op.nsub = 1;
  add(l, &op, A, 0);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_apply(&s, l, 2);
  tu_freeze(&s);
  orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, orc_invariant_bank, &p, NULL, 0};
  expect_in(&in, ORC_INVARIANT, NULL);
  tu_state_free(&s);
  wl_log_free(l);
}

/* ================================ BAD_CHECKPOINT ================================ */
static uint64_t ckpt(wl_log *l, wl_outcome o) {
  wl_op op = {0};
  op.kind = WL_CHECKPOINT;
  return add(l, &op, o, o == F ? -5 : 0);
}

/* The state after ops [0, n) applied except skip (-1 terminated): the checkpoint's contents. */
static void ckpt_state(tu_state *s, const wl_log *l, uint64_t n, const int64_t *skip) {
  tu_state_init(s);
  tu_apply_prefix(s, l, n, skip);
  tu_freeze(s);
}

static void expect_ckpt(const wl_log *l, orc_ckpt *ck, size_t nck, orc_verdict want, const char *key) {
  tu_state s;
  tu_state_init(&s);
  tu_apply_prefix(&s, l, l->n, NULL);
  tu_freeze(&s);
  orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, NULL, NULL, ck, nck};
  expect_in(&in, want, key);
  tu_state_free(&s);
}

static void checkpoint_holds_exactly_the_state_at_its_op(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);    /* 0 1 */
  uint64_t c = ckpt(l, A); /* 2 */
  tu_put(l, "a", 0, A);
  tu_del(l, "b", 0, A);
  tu_put(l, "c", 0, A);
  tu_state cs;
  ckpt_state(&cs, l, c, NULL);
  orc_ckpt ck = {c, 1, NULL, 0, cs.kv, cs.n};
  expect_ckpt(l, &ck, 1, ORC_PASS, NULL);
  tu_state_free(&cs);
  /* missing an acked write before it */
  int64_t no_b[] = {1, -1};
  ckpt_state(&cs, l, c, no_b);
  ck = (orc_ckpt){c, 1, NULL, 0, cs.kv, cs.n};
  expect_ckpt(l, &ck, 1, ORC_BAD_CHECKPOINT, "b");
  tu_state_free(&cs);
  /* holding a write made after it (op c + 1) */
  ckpt_state(&cs, l, c + 2, NULL);
  ck = (orc_ckpt){c, 1, NULL, 0, cs.kv, cs.n};
  expect_ckpt(l, &ck, 1, ORC_BAD_CHECKPOINT, "a");
  tu_state_free(&cs);
  /* a key never written */
  ckpt_state(&cs, l, c, NULL);
  tu_set(&cs, "zz", (const uint8_t *)"junk", 4);
  ck = (orc_ckpt){c, 1, NULL, 0, cs.kv, cs.n};
  expect_ckpt(l, &ck, 1, ORC_BAD_CHECKPOINT, "zz");
  tu_state_free(&cs);
  wl_log_free(l);
}

static void checkpoint_acked_must_be_there_and_open(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  uint64_t c = ckpt(l, A);
  expect_ckpt(l, NULL, 0, ORC_BAD_CHECKPOINT, "");
  orc_ckpt ck = {c, 0, "database does not exist", 23, NULL, 0};
  expect_ckpt(l, &ck, 1, ORC_BAD_CHECKPOINT, "");
  wl_log_free(l);
}

/* one in flight at the crash or failed: missing or refused is fine, partial is not */
static void checkpoint_unfinished_is_missing_refused_or_whole_never_partial(void **st) {
  for (int o = 0; o < 2; o++) {
    wl_log *l = newlog();
    tu_put(l, "a", 0, A);
    tu_put(l, "b", 0, A);
    uint64_t c = ckpt(l, o ? F : U);
    expect_ckpt(l, NULL, 0, ORC_PASS, NULL);
    orc_ckpt ck = {c, 0, "database does not exist", 23, NULL, 0};
    expect_ckpt(l, &ck, 1, ORC_PASS, NULL);
    tu_state cs;
    ckpt_state(&cs, l, c, NULL);
    ck = (orc_ckpt){c, 1, NULL, 0, cs.kv, cs.n};
    expect_ckpt(l, &ck, 1, ORC_PASS, NULL);
    tu_state_free(&cs);
    int64_t no_a[] = {0, -1};
    ckpt_state(&cs, l, c, no_a); /* opens, but without a: silently partial */
    ck = (orc_ckpt){c, 1, NULL, 0, cs.kv, cs.n};
    expect_ckpt(l, &ck, 1, ORC_BAD_CHECKPOINT, "a");
    tu_state_free(&cs);
    wl_log_free(l);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(snapshot_get_sees_the_value_at_the_snapshot),
      cmocka_unit_test(snapshot_get_sees_a_write_acked_after_it),
      cmocka_unit_test(snapshot_get_sees_an_overwritten_value),
      cmocka_unit_test(snapshot_get_misses_a_key_that_was_there),
      cmocka_unit_test(snapshot_get_of_a_key_written_after_it_is_absent),
      cmocka_unit_test(snapshot_scan_is_the_whole_state_of_its_range),
      cmocka_unit_test(snapshot_scan_misses_a_key),
      cmocka_unit_test(snapshot_scan_shows_a_key_written_after_it),
      cmocka_unit_test(snapshot_scan_out_of_order_or_outside_its_range),
      cmocka_unit_test(snapshot_of_a_failed_write_may_show_it_or_not),
      cmocka_unit_test(snapshot_after_a_failure_is_not_checked),
      cmocka_unit_test(conc_snapshot_overlapping_write_either_way_acked_one_must_show),
      cmocka_unit_test(iterator_reads_its_view_across_writes),
      cmocka_unit_test(iterator_shows_a_write_made_after_it_was_opened),
      cmocka_unit_test(iterator_skips_a_key_of_its_view),
      cmocka_unit_test(iterator_ends_early),
      cmocka_unit_test(iterator_goes_back),
      cmocka_unit_test(txn_committed_half_applied_is_torn_even_without_atomic_batches),
      cmocka_unit_test(txn_synced_commit_lost_is_lost_acked),
      cmocka_unit_test(txn_rolled_back_or_conflicting_shows_is_a_phantom),
      cmocka_unit_test(txn_failed_commit_either_way),
      cmocka_unit_test(bank_invariant_checked_through_conflicts),
      cmocka_unit_test(checkpoint_holds_exactly_the_state_at_its_op),
      cmocka_unit_test(checkpoint_acked_must_be_there_and_open),
      cmocka_unit_test(checkpoint_unfinished_is_missing_refused_or_whole_never_partial),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  printf("planted view states checked per verdict:\n");
  for (int v = 0; v < ORC_NVERDICTS; v++) printf("  %-16s %u\n", orc_verdict_name((orc_verdict)v), counts[v]);
  return failed;
}
