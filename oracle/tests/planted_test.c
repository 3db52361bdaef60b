/*
 * planted_test.c — the oracle against planted states: for each verdict, hand-built logs and
 * recovered states that must produce exactly that verdict, and legal states (every allowed
 * prefix, every in-flight op either way, failed-but-persisted ops) that must PASS.
 * Prints how many planted states were checked per verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "orc_test_util.h"

static unsigned counts[ORC_NVERDICTS];

/* Check one planted state; count it under the verdict it must produce. */
static void expect(const wl_log *l, uint32_t contract, orc_crash crash, tu_state *s, orc_verdict want,
                   const char *key) {
  orc_result r;
  orc_verdict got = tu_check(l, contract, crash, s, &r);
  if (got != want || (key && strcmp(r.first_key, key))) {
    fprintf(stderr, "want %s key %s, got %s key '%s'\n  expected: %s\n  found: %s\n  %s\n", orc_verdict_name(want),
            key ? key : "-", orc_verdict_name(got), r.first_key, r.expected, r.found, r.explanation);
  }
  assert_int_equal(got, want);
  if (key) assert_string_equal(r.first_key, key);
  if (want == ORC_PASS)
    assert_string_equal(r.first_key, "");
  else
    assert_true(r.explanation[0] != 0);
  counts[want]++;
  orc_result_free(&r);
}

/* Build a state from ops [0,k) minus skip, check it, free it. */
static void expect_prefix(const wl_log *l, uint32_t contract, orc_crash crash, uint64_t k, const int64_t *skip,
                          orc_verdict want, const char *key) {
  tu_state s;
  tu_state_init(&s);
  tu_apply_prefix(&s, l, k, skip);
  tu_freeze(&s);
  expect(l, contract, crash, &s, want, key);
  tu_state_free(&s);
}

static wl_log *newlog(void) {
  wl_log *l;
  assert_int_equal(wl_log_new(&l), 0);
  return l;
}

/* ================================ LOST_ACKED ================================ */
static void lost_sync_put_after_power_cut(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_state s;
  tu_state_init(&s);
  tu_freeze(&s);
  orc_result r;
  assert_int_equal(tu_check(l, C_LSM, ORC_CRASH_POWER, &s, &r), ORC_LOST_ACKED);
  assert_string_equal(r.first_key, "a");
  assert_non_null(strstr(r.expected, "value of op 0"));
  assert_string_equal(r.found, "absent");
  assert_int_equal(r.durable_through, 0);
  counts[ORC_LOST_ACKED]++;
  orc_result_free(&r);
  tu_state_free(&s);
  wl_log_free(l);
}
static void lost_put_before_acked_barrier(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_ctl(l, WL_SYNC, A);
  tu_put(l, "c", 0, A);
  int64_t skip[] = {1, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 4, skip, ORC_LOST_ACKED, "b");
  expect_prefix(l, ORC_DURABLE_ACK, ORC_CRASH_POWER, 4, skip, ORC_LOST_ACKED, "b");
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 0, NULL, ORC_LOST_ACKED, "a");
  wl_log_free(l);
}
static void lost_acked_put_after_kill_process_safe(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  expect_prefix(l, C_LSM, ORC_CRASH_KILL, 1, NULL, ORC_LOST_ACKED, "b");
  wl_log_free(l);
}
static void lost_acked_put_after_clean_close(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  expect_prefix(l, ORC_PREFIX, ORC_CRASH_NONE, 1, NULL, ORC_LOST_ACKED, "b");
  expect_prefix(l, 0, ORC_CRASH_NONE, 0, NULL, ORC_LOST_ACKED, "a");
  wl_log_free(l);
}
static void lost_put_acked_after_a_failure_at_clean_close(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_ctl(l, WL_SYNC, F);
  tu_put(l, "b", 0, A);
  int64_t skip[] = {2, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_NONE, 3, skip, ORC_LOST_ACKED, "b");
  wl_log_free(l);
}
static void lost_put_before_reopen_when_close_syncs(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_ctl(l, WL_REOPEN, A);
  tu_put(l, "b", 0, A);
  expect_prefix(l, ORC_PREFIX | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 0, NULL, ORC_LOST_ACKED, "a");
  wl_log_free(l);
}
/* A CLOSE op of its own (acked when close returns), the crash before or inside its OPEN:
 * with close_syncs every write acked before the close was invoked must survive, synced or
 * not; without it the close promises nothing. */
static void lost_put_before_acked_close_when_close_syncs(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_ctl(l, WL_CLOSE, A);
  int64_t skip_b[] = {1, -1};
  expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 0, NULL, ORC_LOST_ACKED, "a");
  expect_prefix(l, ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 3, skip_b, ORC_LOST_ACKED, "b");
  expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 3, NULL, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 0, NULL, ORC_PASS, NULL); /* no close_syncs */
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 1, NULL, ORC_PASS, NULL);
  /* the open that follows (in flight, acked or failed) changes nothing */
  for (wl_outcome o = U; o <= F; o++) {
    tu_ctl(l, WL_OPEN, o);
    expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 0, NULL, ORC_LOST_ACKED, "a");
    expect_prefix(l, C_LSM, ORC_CRASH_POWER, 0, NULL, ORC_PASS, NULL);
    l->n--;
  }
  /* writes after the open are not covered by the close */
  tu_ctl(l, WL_OPEN, A);
  tu_put(l, "c", 0, A);
  expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 4, NULL, ORC_PASS, NULL);
  expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 1, NULL, ORC_LOST_ACKED, "b");
  wl_log_free(l);
}
/* A close that was not acked (in flight at the crash, or failed) promises nothing, and an
 * acked OPEN is no durable point. */
static void pass_close_not_acked_and_open_give_no_guarantee(void **st) {
  for (wl_outcome o = U; o <= F; o += 2) {
    wl_log *l = newlog();
    tu_put(l, "a", 0, A);
    tu_ctl(l, WL_CLOSE, o);
    expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 0, NULL, ORC_PASS, NULL);
    wl_log_free(l);
  }
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_ctl(l, WL_OPEN, A);
  tu_put(l, "b", 0, A);
  expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 0, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
/* Concurrent log: the close covers what was acked before it was invoked, not a write that
 * overlapped it. */
static void conc_close_covers_writes_acked_before_its_invocation(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_ctl(l, WL_CLOSE, A);
  tu_span(l, 0, 0, 1);
  tu_span(l, 1, 2, 5);
  tu_span(l, 2, 3, 4);
  int64_t skip_a[] = {0, -1}, skip_b[] = {1, -1};
  expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 3, skip_b, ORC_PASS, NULL);
  expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 3, skip_a, ORC_LOST_ACKED, "a");
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 0, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
static void lost_durable_overwrite_reverted(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_put(l, "a", 1, A);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 1, NULL, ORC_LOST_ACKED, "a");
  expect_prefix(l, ORC_DURABLE_ACK, ORC_CRASH_POWER, 1, NULL, ORC_LOST_ACKED, "a");
  wl_log_free(l);
}
static void lost_unsynced_put_before_acked_sync_put_on_prefix_target(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 1, A);
  int64_t skip[] = {0, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 2, skip, ORC_LOST_ACKED, "a");
  wl_log_free(l);
}
static void lost_durable_batch(void **st) {
  wl_log *l = newlog();
  const char *b[] = {"a", "b", NULL};
  tu_batch(l, b, 1, A);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 0, NULL, ORC_LOST_ACKED, "a");
  wl_log_free(l);
}
static void lost_durable_value_absent_after_failed_overwrite(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_put(l, "a", 0, F);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 0, NULL, ORC_LOST_ACKED, "a");
  wl_log_free(l);
}
static void lost_durable_delete_replaced_by_absent_is_fine_but_put_after_it_lost(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_del(l, "a", 1, A);
  tu_put(l, "a", 1, A);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 2, NULL, ORC_LOST_ACKED, "a");
  wl_log_free(l);
}

/* ================================ PHANTOM ================================ */
static void phantom_key_never_written(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_freeze(&s);
  tu_set(&s, "z", (const uint8_t *)"garbage", 7);
  orc_result r;
  assert_int_equal(tu_check(l, C_LSM, ORC_CRASH_POWER, &s, &r), ORC_PHANTOM);
  assert_string_equal(r.first_key, "z");
  assert_non_null(strstr(r.found, "garbage"));
  counts[ORC_PHANTOM]++;
  orc_result_free(&r);
  tu_state_free(&s);
  wl_log_free(l);
}
static void phantom_flipped_byte(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_freeze(&s);
  uint8_t v[40];
  memcpy(v, l->ops[0].op.val, 40);
  v[35] ^= 0x10;
  tu_set(&s, "a", v, 40);
  orc_result r;
  assert_int_equal(tu_check(l, C_LSM, ORC_CRASH_POWER, &s, &r), ORC_PHANTOM);
  assert_non_null(strstr(r.found, "damaged value claiming op 0"));
  counts[ORC_PHANTOM]++;
  orc_result_free(&r);
  tu_state_free(&s);
  wl_log_free(l);
}
static void phantom_value_of_another_key(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_freeze(&s);
  tu_set(&s, "a", l->ops[1].op.val, 40);
  expect(l, C_LSM, ORC_CRASH_POWER, &s, ORC_PHANTOM, "a");
  tu_state_free(&s);
  wl_log_free(l);
}
static void phantom_resurrected_durable_delete(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_del(l, "a", 1, A);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 1, NULL, ORC_PHANTOM, "a");
  expect_prefix(l, ORC_DURABLE_ACK, ORC_CRASH_POWER, 1, NULL, ORC_PHANTOM, "a");
  wl_log_free(l);
}
static void phantom_resurrected_durable_delete_range(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a1", 1, A);
  tu_put(l, "a2", 1, A);
  tu_put(l, "b1", 1, A);
  tu_delrange(l, "a", "b", 1, A);
  int64_t skip[] = {-1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, skip, ORC_PHANTOM, "a1");
  wl_log_free(l);
}
static void phantom_duplicate_key_in_scan(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_freeze(&s);
  tu_collect(&s, s.kv[0].key, s.kv[0].klen, s.kv[0].val, s.kv[0].vlen);
  expect(l, C_LSM, ORC_CRASH_POWER, &s, ORC_PHANTOM, "a");
  tu_state_free(&s);
  wl_log_free(l);
}
static void phantom_truncated_value(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_freeze(&s);
  tu_set(&s, "a", l->ops[0].op.val, 20);
  expect(l, C_LSM, ORC_CRASH_POWER, &s, ORC_PHANTOM, "a");
  tu_state_free(&s);
  wl_log_free(l);
}
static void phantom_garbage_where_only_a_failed_write_went(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, F);
  tu_state s;
  tu_state_init(&s);
  tu_freeze(&s);
  tu_set(&s, "a", (const uint8_t *)"\0\0\0\0", 4);
  expect(l, 0, ORC_CRASH_POWER, &s, ORC_PHANTOM, "a");
  tu_state_free(&s);
  wl_log_free(l);
}

/* ================================ TORN_BATCH ================================ */
static void torn_acked_batch_half_visible(void **st) {
  wl_log *l = newlog();
  tu_put(l, "b", 1, A);
  const char *b[] = {"a", "b", NULL};
  tu_batch(l, b, 0, A);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_apply(&s, l, 1);
  tu_freeze(&s);
  tu_set(&s, "b", l->ops[0].op.val, 40);
  orc_result r;
  assert_int_equal(tu_check(l, C_LSM, ORC_CRASH_POWER, &s, &r), ORC_TORN_BATCH);
  assert_string_equal(r.first_key, "b");
  assert_non_null(strstr(r.explanation, "batch op 1"));
  counts[ORC_TORN_BATCH]++;
  orc_result_free(&r);
  tu_state_free(&s);
  wl_log_free(l);
}
static void torn_in_flight_batch_half(void **st) {
  wl_log *l = newlog();
  tu_put(l, "x", 1, A);
  const char *b[] = {"a", "b", "c", NULL};
  tu_batch(l, b, 1, U);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_apply(&s, l, 1);
  tu_freeze(&s);
  tu_drop(&s, "c");
  expect(l, C_LSM, ORC_CRASH_POWER, &s, ORC_TORN_BATCH, "c");
  tu_state_free(&s);
  wl_log_free(l);
}
static void torn_failed_batch_half(void **st) {
  wl_log *l = newlog();
  const char *b[] = {"a", "b", NULL};
  tu_batch(l, b, 0, F);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_freeze(&s);
  tu_drop(&s, "a");
  expect(l, C_LSM, ORC_CRASH_NONE, &s, ORC_TORN_BATCH, "a");
  tu_state_free(&s);
  wl_log_free(l);
}
static void torn_batch_delete_half_not_applied(void **st) {
  wl_log *l = newlog();
  tu_put(l, "x", 1, A);
  const char *b[] = {"a", "-x", NULL};
  tu_batch(l, b, 0, A);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_apply(&s, l, 1);
  tu_freeze(&s);
  tu_set(&s, "x", l->ops[0].op.val, 40);
  expect(l, C_LSM, ORC_CRASH_POWER, &s, ORC_TORN_BATCH, "x");
  tu_state_free(&s);
  wl_log_free(l);
}
static void torn_batch_after_kill_on_non_process_safe_target(void **st) {
  wl_log *l = newlog();
  const char *b[] = {"a", "b", NULL};
  tu_batch(l, b, 0, A);
  tu_put(l, "c", 0, A);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_freeze(&s);
  tu_drop(&s, "b");
  expect(l, ORC_DURABLE_ACK | ORC_PREFIX | ORC_ATOMIC_BATCH, ORC_CRASH_KILL, &s, ORC_TORN_BATCH, "b");
  expect(l, ORC_ATOMIC_BATCH, ORC_CRASH_KILL, &s, ORC_TORN_BATCH, "b");
  tu_state_free(&s);
  wl_log_free(l);
}

/* ================================ NOT_PREFIX ================================ */
static void not_prefix_later_write_survived_earlier_lost(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  int64_t skip[] = {0, -1};
  tu_state s;
  tu_state_init(&s);
  tu_apply_prefix(&s, l, 2, skip);
  tu_freeze(&s);
  orc_result r;
  assert_int_equal(tu_check(l, C_LSM, ORC_CRASH_POWER, &s, &r), ORC_NOT_PREFIX);
  assert_non_null(strstr(r.explanation, "closest is"));
  counts[ORC_NOT_PREFIX]++;
  orc_result_free(&r);
  tu_state_free(&s);
  wl_log_free(l);
}
static void not_prefix_failed_write_persisted_but_earlier_acked_lost(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, F);
  int64_t skip[] = {0, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 2, skip, ORC_NOT_PREFIX, NULL);
  wl_log_free(l);
}
static void not_prefix_overwrite_without_the_write_between(void **st) {
  wl_log *l = newlog();
  tu_put(l, "k", 0, A);
  tu_put(l, "j", 0, A);
  tu_put(l, "k", 0, A);
  int64_t skip[] = {1, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, skip, ORC_NOT_PREFIX, NULL);
  wl_log_free(l);
}
static void not_prefix_non_atomic_batch_second_sub_op_without_first(void **st) {
  wl_log *l = newlog();
  const char *b[] = {"a", "b", NULL};
  tu_batch(l, b, 0, A);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_freeze(&s);
  tu_drop(&s, "a");
  expect(l, ORC_DURABLE_ACK | ORC_PREFIX, ORC_CRASH_POWER, &s, ORC_NOT_PREFIX, "a");
  tu_state_free(&s);
  wl_log_free(l);
}
static void not_prefix_write_after_delete_range_survived_range_lost(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a1", 0, A);
  tu_delrange(l, "a", "b", 0, A);
  tu_put(l, "b1", 0, A);
  int64_t skip[] = {1, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, skip, ORC_NOT_PREFIX, NULL);
  wl_log_free(l);
}
static void not_prefix_hole_after_durable_point(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "c", 0, A);
  int64_t skip[] = {1, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, skip, ORC_NOT_PREFIX, NULL);
  wl_log_free(l);
}

static void not_prefix_in_flight_op_applied_but_acked_op_before_it_lost(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_ctl(l, WL_REOPEN, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "c", 0, U);
  int64_t skip[] = {2, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 4, skip, ORC_NOT_PREFIX, NULL);
  expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 4, skip, ORC_NOT_PREFIX, NULL);
  wl_log_free(l);
}

/* ================================ INVARIANT ================================ */
static void bank_put(wl_log *l, const char *const *acct, const uint64_t *bal, int n, int sync) {
  static uint8_t vals[8][WL_BANK_VALUE_LEN];
  wl_sub sub[8];
  for (int i = 0; i < n; i++) {
    wl_bank_value_fill(vals[i], (const uint8_t *)acct[i], strlen(acct[i]), l->n, (uint32_t)i, bal[i]);
    sub[i] = (wl_sub){WL_PUT, (const uint8_t *)acct[i], strlen(acct[i]), vals[i], WL_BANK_VALUE_LEN};
  }
  wl_op op = {0};
  op.kind = WL_BATCH;
  op.sync = sync;
  op.sub = sub;
  op.nsub = (uint32_t)n;
  assert_int_equal(wl_log_append(l, &op, A, 0), 0);
}
static void invariant_bank_money_vanished(void **st) {
  wl_log *l = newlog();
  wl_params p;
  assert_int_equal(wl_params_default("bank", &p), 0);
  p.keys = 2;
  const char *acct[] = {"k0", "k1"};
  uint64_t init[] = {1000, 1000}, bad[] = {900, 1000}, good[] = {900, 1100};
  bank_put(l, acct, init, 2, 1);
  bank_put(l, acct, good, 2, 0);
  bank_put(l, acct, bad, 2, 0);
  for (uint64_t k = 0; k <= 3; k++) {
    tu_state s;
    tu_state_init(&s);
    tu_apply_prefix(&s, l, k, NULL);
    tu_freeze(&s);
    orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, orc_invariant_bank, &p, NULL, 0};
    orc_result r;
    assert_int_equal(orc_check(&in, &r), 0);
    if (k == 0) { /* durable opening batch missing */
      assert_int_equal(r.verdict, ORC_LOST_ACKED);
    } else if (k < 3) {
      assert_int_equal(r.verdict, ORC_PASS);
      counts[ORC_PASS]++;
    } else {
      assert_int_equal(r.verdict, ORC_INVARIANT);
      assert_non_null(strstr(r.explanation, "balances sum to 1900"));
      counts[ORC_INVARIANT]++;
    }
    orc_result_free(&r);
    tu_state_free(&s);
  }
  wl_log_free(l);
}
static void invariant_bank_account_value_is_not_a_balance(void **st) {
  wl_log *l = newlog();
  wl_params p;
  assert_int_equal(wl_params_default("bank", &p), 0);
  p.keys = 2;
  const char *acct[] = {"k0", "k1"};
  uint64_t init[] = {1000, 1000};
  bank_put(l, acct, init, 2, 1);
  tu_put(l, "k1", 0, A); /* a plain value lands on an account (legal for the log, not for a bank) */
  tu_state s;
  tu_state_init(&s);
  tu_apply_prefix(&s, l, 2, NULL);
  tu_freeze(&s);
  orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, orc_invariant_bank, &p, NULL, 0};
  orc_result r;
  assert_int_equal(orc_check(&in, &r), 0);
  assert_int_equal(r.verdict, ORC_INVARIANT);
  assert_string_equal(r.first_key, "k1");
  counts[ORC_INVARIANT]++;
  orc_result_free(&r);
  tu_state_free(&s);
  wl_log_free(l);
}
static int at_most_one_key(const orc_input *in, void *arg, char *msg, size_t ml, char *key, size_t kl) {
  if (in->nstate <= 1) return 0;
  snprintf(msg, ml, "%zu keys, at most 1 allowed", in->nstate);
  snprintf(key, kl, "%.*s", (int)in->state[1].klen, (const char *)in->state[1].key);
  return 1;
}
static void invariant_custom_callback(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  for (uint64_t k = 0; k <= 2; k++) {
    tu_state s;
    tu_state_init(&s);
    tu_apply_prefix(&s, l, k, NULL);
    tu_freeze(&s);
    orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, at_most_one_key, NULL, NULL, 0};
    orc_result r;
    assert_int_equal(orc_check(&in, &r), 0);
    assert_int_equal(r.verdict, k == 2 ? ORC_INVARIANT : ORC_PASS);
    if (k == 2) assert_non_null(strstr(r.explanation, "2 keys, at most 1"));
    counts[r.verdict]++;
    orc_result_free(&r);
    tu_state_free(&s);
  }
  wl_log_free(l);
}
static void invariant_bank_skipped_when_an_op_failed(void **st) {
  wl_log *l = newlog();
  wl_params p;
  assert_int_equal(wl_params_default("bank", &p), 0);
  p.keys = 2;
  const char *acct[] = {"k0", "k1"};
  uint64_t init[] = {1000, 1000}, t1[] = {900, 1100}, t2[] = {800, 1100};
  bank_put(l, acct, init, 2, 1);
  bank_put(l, acct, t1, 2, 0);
  l->ops[1].outcome = F; /* generator assumed it applied; the next transfer builds on it */
  bank_put(l, acct, t2, 2, 0);
  int64_t skip[] = {1, -1};
  tu_state s;
  tu_state_init(&s);
  tu_apply_prefix(&s, l, 3, skip);
  tu_freeze(&s);
  orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, orc_invariant_bank, &p, NULL, 0};
  orc_result r;
  assert_int_equal(orc_check(&in, &r), 0);
  assert_int_equal(r.verdict, ORC_PASS);
  counts[ORC_PASS]++;
  orc_result_free(&r);
  tu_state_free(&s);
  wl_log_free(l);
}

static void empty_log_and_empty_state_pass_and_bad_input_is_refused(void **st) {
  wl_log *l = newlog();
  tu_state s;
  tu_state_init(&s);
  tu_freeze(&s);
  expect(l, C_LSM, ORC_CRASH_POWER, &s, ORC_PASS, NULL);
  orc_result r;
  orc_input in = {NULL, C_LSM, ORC_CRASH_POWER, NULL, 0, NULL, NULL, NULL, 0};
  assert_int_equal(orc_check(&in, &r), ORC_EINVAL);
  in.log = l;
  in.nstate = 3; /* but no state array */
  assert_int_equal(orc_check(&in, &r), ORC_EINVAL);
  assert_string_equal(orc_strerror(ORC_EINVAL), "invalid argument");
  tu_state_free(&s);
  wl_log_free(l);
}

/* ============================ RECOVERY_* (harness) ============================ */
static void recovery_verdicts_set_by_harness(void **st) {
  orc_verdict v[] = {ORC_RECOVERY_FAILED, ORC_RECOVERY_HANG, ORC_RECOVERY_CRASH};
  for (int i = 0; i < 3; i++) {
    orc_result r;
    assert_int_equal(orc_result_set(&r, v[i], "open: corrupt MANIFEST"), 0);
    assert_int_equal(r.verdict, v[i]);
    assert_string_equal(r.explanation, "open: corrupt MANIFEST");
    assert_int_equal(orc_verdict_parse(orc_verdict_name(v[i])), v[i]);
    counts[v[i]]++;
    orc_result_free(&r);
  }
  assert_string_equal(orc_verdict_name(ORC_NOT_PREFIX), "NOT_PREFIX");
  assert_int_equal(orc_verdict_parse("NOPE"), -1);
}

/* ================================ PASS ================================ */
static void pass_every_prefix_of_unsynced_puts(void **st) {
  wl_log *l = newlog();
  char key[8];
  for (int i = 0; i < 10; i++) {
    snprintf(key, sizeof(key), "k%d", i % 6);
    tu_put(l, key, 0, A);
  }
  for (uint64_t k = 0; k <= 10; k++) {
    tu_state s;
    tu_state_init(&s);
    tu_apply_prefix(&s, l, k, NULL);
    tu_freeze(&s);
    orc_result r;
    assert_int_equal(tu_check(l, C_LSM, ORC_CRASH_POWER, &s, &r), ORC_PASS);
    assert_int_equal(r.ops_lost, 10 - k);
    assert_int_equal(r.prefix_end, (int64_t)k - 1);
    counts[ORC_PASS]++;
    orc_result_free(&r);
    tu_state_free(&s);
  }
  wl_log_free(l);
}
static void pass_every_prefix_after_barrier(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_ctl(l, WL_SYNC, A);
  tu_put(l, "c", 0, A);
  tu_del(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  for (uint64_t k = 3; k <= 6; k++) expect_prefix(l, C_LSM, ORC_CRASH_POWER, k, NULL, ORC_PASS, NULL);
  for (uint64_t k = 3; k <= 6; k++) expect_prefix(l, ORC_DURABLE_ACK, ORC_CRASH_POWER, k, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
static void pass_in_flight_op_either_way(void **st) {
  const char *b[] = {"a", "-x", "y", NULL};
  for (int kind = 0; kind < 4; kind++) {
    wl_log *l = newlog();
    tu_put(l, "x", 1, A);
    tu_put(l, "a", 0, A);
    switch (kind) {
      case 0: tu_put(l, "b", 1, U); break;
      case 1: tu_del(l, "x", 1, U); break;
      case 2: tu_batch(l, b, 1, U); break;
      case 3: tu_delrange(l, "a", "z", 0, U); break;
    }
    expect_prefix(l, C_LSM, ORC_CRASH_POWER, 2, NULL, ORC_PASS, NULL);
    expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, NULL, ORC_PASS, NULL);
    expect_prefix(l, C_LSM, ORC_CRASH_KILL, 2, NULL, ORC_PASS, NULL);
    expect_prefix(l, C_LSM, ORC_CRASH_KILL, 3, NULL, ORC_PASS, NULL);
    wl_log_free(l);
  }
}
static void pass_failed_ops_persisted_or_not(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 1, F);
  tu_put(l, "c", 0, F);
  tu_ctl(l, WL_SYNC, F);
  int64_t none[] = {-1}, skip_b[] = {1, -1}, skip_c[] = {2, -1}, skip_bc[] = {1, 2, -1};
  const int64_t *sk[] = {none, skip_b, skip_c, skip_bc};
  for (int i = 0; i < 4; i++) {
    expect_prefix(l, C_LSM, ORC_CRASH_POWER, 4, sk[i], ORC_PASS, NULL);
    expect_prefix(l, C_LSM, ORC_CRASH_NONE, 4, sk[i], ORC_PASS, NULL);
    expect_prefix(l, ORC_DURABLE_ACK, ORC_CRASH_POWER, 4, sk[i], ORC_PASS, NULL);
  }
  wl_log_free(l);
}
static void pass_unsynced_writes_lost_after_failed_fsync_at_clean_close(void **st) {
  /* fsync failed (EIO: the kernel dropped the pages); the engine was closed cleanly after it */
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_put(l, "b", 0, A);
  tu_ctl(l, WL_SYNC, F);
  tu_put(l, "c", 0, F);
  for (uint64_t k = 1; k <= 4; k++) {
    expect_prefix(l, C_LSM, ORC_CRASH_NONE, k, NULL, ORC_PASS, NULL);
    expect_prefix(l, C_LSM, ORC_CRASH_KILL, k, NULL, ORC_PASS, NULL);
  }
  wl_log_free(l);
}
static void pass_failed_overwrite_of_durable_value_either_way(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_put(l, "a", 1, F);
  tu_put(l, "a", 1, F);
  int64_t s1[] = {1, -1}, s2[] = {2, -1}, s12[] = {1, 2, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, NULL, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, s1, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, s2, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, s12, ORC_PASS, NULL);
  wl_log_free(l);
}
static void pass_non_prefix_target_loses_keys_independently(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "a", 0, A);
  int64_t s0[] = {0, -1}, s2[] = {2, -1}, s02[] = {0, 2, -1};
  expect_prefix(l, ORC_DURABLE_ACK | ORC_ATOMIC_BATCH, ORC_CRASH_POWER, 3, s0, ORC_PASS, NULL);
  expect_prefix(l, ORC_DURABLE_ACK | ORC_ATOMIC_BATCH, ORC_CRASH_POWER, 3, s2, ORC_PASS, NULL);
  expect_prefix(l, ORC_DURABLE_ACK | ORC_ATOMIC_BATCH, ORC_CRASH_POWER, 3, s02, ORC_PASS, NULL);
  wl_log_free(l);
}
static void pass_kill_without_process_safe_loses_unsynced(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_put(l, "b", 0, A);
  tu_put(l, "c", 0, A);
  for (uint64_t k = 1; k <= 3; k++)
    expect_prefix(l, ORC_DURABLE_ACK | ORC_PREFIX, ORC_CRASH_KILL, k, NULL, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_KILL, 3, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
static void pass_reopen_syncs_only_if_contract_says_so(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_ctl(l, WL_REOPEN, A);
  tu_put(l, "b", 0, A);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 0, NULL, ORC_PASS, NULL);
  expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 1, NULL, ORC_PASS, NULL);
  expect_prefix(l, C_LSM | ORC_CLOSE_SYNCS, ORC_CRASH_POWER, 3, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
static void pass_unsynced_delete_lost_or_kept(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_del(l, "a", 0, A);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 1, NULL, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 2, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
static void pass_empty_values_that_collide(void **st) {
  wl_log *l = newlog();
  tu_put_len(l, "a", 0, 1, A);
  tu_put_len(l, "a", 0, 0, A);
  tu_put_len(l, "b", 0, 0, A);
  for (uint64_t k = 1; k <= 3; k++) expect_prefix(l, C_LSM, ORC_CRASH_POWER, k, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
static void pass_batch_all_or_nothing(void **st) {
  wl_log *l = newlog();
  tu_put(l, "x", 1, A);
  const char *b1[] = {"a", "b", "-x", NULL}, *b2[] = {"a", "c", NULL};
  tu_batch(l, b1, 0, A);
  tu_batch(l, b2, 0, A);
  for (uint64_t k = 1; k <= 3; k++) expect_prefix(l, C_LSM, ORC_CRASH_POWER, k, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
static void pass_batch_not_applied_where_its_value_equals_the_old_one(void **st) {
  /* an empty value collides: "a" showing "" proves nothing about the batch */
  wl_log *l = newlog();
  tu_put_len(l, "a", 0, 1, A);
  tu_put(l, "b", 1, A);
  wl_sub sub[2] = {{WL_PUT, (const uint8_t *)"a", 1, (const uint8_t *)"", 0},
                   {WL_PUT, (const uint8_t *)"b", 1, tu_val("b", 2, 1, 40), 40}};
  wl_op op = {0};
  op.kind = WL_BATCH;
  op.sub = sub;
  op.nsub = 2;
  assert_int_equal(wl_log_append(l, &op, A, 0), 0);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 2, NULL, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
static void pass_non_atomic_target_keeps_part_of_batch(void **st) {
  wl_log *l = newlog();
  const char *b[] = {"a", "b", NULL};
  tu_batch(l, b, 0, A);
  tu_state s;
  tu_state_init(&s);
  tu_apply(&s, l, 0);
  tu_freeze(&s);
  tu_drop(&s, "b");
  orc_result r;
  assert_int_equal(tu_check(l, ORC_DURABLE_ACK | ORC_PREFIX, ORC_CRASH_POWER, &s, &r), ORC_PASS);
  assert_non_null(strstr(r.explanation, "sub-ops 0..0 of 2"));
  counts[ORC_PASS]++;
  orc_result_free(&r);
  tu_state_free(&s);
  wl_log_free(l);
}
static void pass_delete_range_every_prefix(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a1", 0, A);
  tu_put(l, "a2", 1, A);
  tu_put(l, "b1", 0, A);
  tu_delrange(l, "a", "b", 0, A);
  tu_put(l, "a1", 0, A);
  tu_delrange(l, "a0", "a2", 0, U);
  for (uint64_t k = 2; k <= 6; k++) expect_prefix(l, C_LSM, ORC_CRASH_POWER, k, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
/* A delete-range covers [begin, end): the key equal to begin goes, the key equal
 * to end stays. Durable (sync) ops, so a wrong boundary rule changes the verdict:
 * end taken as inclusive calls the kept "b" a phantom; begin taken as exclusive
 * calls the deleted "a" lost. */
static void delete_range_is_begin_inclusive_end_exclusive(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_put(l, "b", 1, A);
  tu_put(l, "a5", 1, A);
  tu_delrange(l, "a", "b", 1, A);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 4, NULL, ORC_PASS, NULL); /* {b} */
  tu_state s;
  tu_state_init(&s);
  tu_apply_prefix(&s, l, 4, NULL);
  tu_freeze(&s);
  tu_drop(&s, "b");
  expect(l, C_LSM, ORC_CRASH_POWER, &s, ORC_LOST_ACKED, "b");
  tu_state_free(&s);
  int64_t skip[] = {3, -1}; /* the range lost: "a" and "a5" back */
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 4, skip, ORC_PHANTOM, "a");
  wl_log_free(l);
}
static void pass_clean_close_full_state(void **st) {
  wl_log *l = newlog();
  const char *b[] = {"a", "-b", NULL};
  tu_put(l, "b", 0, A);
  tu_batch(l, b, 0, A);
  tu_ctl(l, WL_FLUSH, A);
  tu_put(l, "c", 0, A);
  tu_ctl(l, WL_GET, A);
  expect_prefix(l, C_LSM, ORC_CRASH_NONE, 5, NULL, ORC_PASS, NULL);
  expect_prefix(l, 0, ORC_CRASH_NONE, 5, NULL, ORC_PASS, NULL);
  wl_log_free(l);
}
static void pass_generated_bank_every_prefix(void **st) {
  wl_params p;
  wl_gen *g;
  wl_op op;
  wl_log *l = newlog();
  assert_int_equal(wl_spec_parse("bank:ops=60,keys=5", &p, NULL, 0), 0);
  assert_int_equal(wl_gen_create(&p, 42, &g), 0);
  while (wl_gen_next(g, &op) == 1) assert_int_equal(wl_log_append(l, &op, A, 0), 0);
  wl_gen_destroy(g);
  for (uint64_t k = 0; k <= l->n; k++) {
    /* the state after any prefix that keeps every durable op */
    uint64_t kmin = 0;
    for (uint64_t i = 0; i < l->n; i++)
      if ((l->ops[i].op.kind == WL_SYNC) || (l->ops[i].op.kind == WL_BATCH && l->ops[i].op.sync))
        kmin = l->ops[i].op.kind == WL_SYNC ? i : i + 1;
    if (k < kmin) continue;
    tu_state s;
    tu_state_init(&s);
    tu_apply_prefix(&s, l, k, NULL);
    tu_freeze(&s);
    orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, orc_invariant_bank, &p, NULL, 0};
    orc_result r;
    assert_int_equal(orc_check(&in, &r), 0);
    if (r.verdict != ORC_PASS)
      fprintf(stderr, "k=%llu %s %s\n", (unsigned long long)k, orc_verdict_name(r.verdict), r.explanation);
    assert_int_equal(r.verdict, ORC_PASS);
    counts[ORC_PASS]++;
    orc_result_free(&r);
    tu_state_free(&s);
  }
  wl_log_free(l);
}

/* ============================ concurrent logs ============================ */
/* a: acked (seq 0..1) before b and c were invoked; b and c overlap each other */
static wl_log *three_ops_a_before_overlapping_b_c(int sync_b) {
  wl_log *l = newlog();
  tu_put(l, "a", 0, A);
  tu_put(l, "b", sync_b, A);
  tu_put(l, "c", 0, A);
  tu_span(l, 0, 0, 1);
  tu_span(l, 1, 2, 5);
  tu_span(l, 2, 3, 4);
  assert_int_equal(wl_log_concurrent(l), 1);
  return l;
}
static void conc_not_prefix_op_acked_before_a_later_invoke_lost_later_survived(void **st) {
  wl_log *l = three_ops_a_before_overlapping_b_c(0);
  int64_t skip[] = {0, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, skip, ORC_NOT_PREFIX, "a");
  /* with b a sync write, a (acked before b was invoked) is durable: LOST_ACKED */
  wl_log_free(l);
  l = three_ops_a_before_overlapping_b_c(1);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, skip, ORC_LOST_ACKED, "a");
  /* every down-set of the real-time order passes: {}, {a}, {a,b}, {a,c}, {a,b,c} */
  int64_t none[] = {-1}, no_b[] = {1, -1}, no_c[] = {2, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, none, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, no_c, ORC_PASS, NULL);
  wl_log_free(l);
  l = three_ops_a_before_overlapping_b_c(0);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 0, NULL, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 1, NULL, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, no_b, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, no_c, ORC_PASS, NULL);
  wl_log_free(l);
}
/* two sync puts to one key that overlap: either may be last, so either value is legal */
static void conc_overlapping_puts_to_one_key_leave_either_value(void **st) {
  for (int sync = 0; sync < 2; sync++) {
    wl_log *l = newlog();
    tu_put(l, "k", sync, A);
    tu_put(l, "k", sync, A);
    tu_span(l, 0, 0, 3);
    tu_span(l, 1, 1, 2);
    int64_t only0[] = {1, -1};
    expect_prefix(l, C_LSM, ORC_CRASH_POWER, 2, NULL, ORC_PASS, NULL);  /* k = op 1 */
    expect_prefix(l, C_LSM, ORC_CRASH_POWER, 2, only0, ORC_PASS, NULL); /* k = op 0 */
    expect_prefix(l, ORC_DURABLE_ACK, ORC_CRASH_POWER, 2, only0, ORC_PASS, NULL);
    expect_prefix(l, C_LSM, ORC_CRASH_NONE, 2, only0, ORC_PASS, NULL);
    /* in real-time order (op 0 acked before op 1 invoked) op 0's value is lost */
    tu_span(l, 0, 0, 1);
    tu_span(l, 1, 2, 3);
    tu_put(l, "x", 0, A);
    tu_put(l, "y", 0, A); /* keep the log concurrent */
    tu_span(l, 2, 4, 7);
    tu_span(l, 3, 5, 6);
    expect_prefix(l, C_LSM, ORC_CRASH_NONE, 4, only0, ORC_LOST_ACKED, "k");
    if (sync) expect_prefix(l, C_LSM, ORC_CRASH_POWER, 2, only0, ORC_LOST_ACKED, "k");
    wl_log_free(l);
  }
}
static void conc_value_never_written_is_a_phantom(void **st) {
  wl_log *l = three_ops_a_before_overlapping_b_c(0);
  tu_state s;
  tu_state_init(&s);
  tu_apply_prefix(&s, l, 3, NULL);
  tu_freeze(&s);
  tu_set(&s, "b", (const uint8_t *)"never written", 13);
  expect(l, C_LSM, ORC_CRASH_POWER, &s, ORC_PHANTOM, "b");
  tu_state_free(&s);
  wl_log_free(l);
}
/* a barrier covers the ops acked before it was invoked, not those it overlapped */
static void conc_barrier_covers_ops_acked_before_its_invocation(void **st) {
  wl_log *l = newlog();
  /* x acked before the barrier was invoked; a invoked before it, acked after: not covered */
  tu_put(l, "x", 0, A);
  tu_put(l, "a", 0, A);
  tu_ctl(l, WL_SYNC, A);
  tu_span(l, 0, 0, 1);
  tu_span(l, 1, 2, 5);
  tu_span(l, 2, 3, 6);
  int64_t no_x[] = {0, -1}, no_a[] = {1, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, no_a, ORC_PASS, NULL);
  expect_prefix(l, ORC_DURABLE_ACK, ORC_CRASH_POWER, 3, no_a, ORC_PASS, NULL);
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 3, no_x, ORC_LOST_ACKED, "x");
  expect_prefix(l, ORC_DURABLE_ACK, ORC_CRASH_POWER, 3, no_x, ORC_LOST_ACKED, "x");
  wl_log_free(l);
}
static void conc_in_flight_op_either_way_and_failed_op_either_way(void **st) {
  wl_log *l = newlog();
  tu_put(l, "a", 1, A);
  tu_put(l, "b", 0, U);
  tu_put(l, "c", 1, F);
  tu_put(l, "d", 1, A);
  tu_span(l, 0, 0, 1);
  tu_span(l, 1, 2, WL_SEQ_NONE);
  tu_span(l, 2, 3, 5);
  tu_span(l, 3, 4, 6);
  int64_t none[] = {-1}, no_b[] = {1, -1}, no_c[] = {2, -1}, no_bc[] = {1, 2, -1};
  const int64_t *sk[] = {none, no_b, no_c, no_bc};
  for (int i = 0; i < 4; i++) expect_prefix(l, C_LSM, ORC_CRASH_POWER, 4, sk[i], ORC_PASS, NULL);
  int64_t no_d[] = {3, -1};
  expect_prefix(l, C_LSM, ORC_CRASH_POWER, 4, no_d, ORC_LOST_ACKED, "d");
  wl_log_free(l);
}
static void conc_torn_batch_against_a_value_acked_before_it(void **st) {
  wl_log *l = newlog();
  tu_put(l, "b", 1, A);
  const char *b[] = {"a", "b", NULL};
  tu_batch(l, b, 0, A);
  tu_put(l, "z", 0, A);
  tu_span(l, 0, 0, 1);
  tu_span(l, 1, 2, 5);
  tu_span(l, 2, 3, 4);
  tu_state s;
  tu_state_init(&s);
  tu_apply_prefix(&s, l, 3, NULL);
  tu_freeze(&s);
  tu_set(&s, "b", l->ops[0].op.val, 40);
  expect(l, C_LSM, ORC_CRASH_POWER, &s, ORC_TORN_BATCH, "b");
  tu_state_free(&s);
  wl_log_free(l);
}
/* The documented over-approximation: two overlapping atomic batches over the same two keys,
 * each key showing a different batch. No single order gives that state (the batch ordered
 * last would win both keys), but the concurrent rules check each key against the real-time
 * order alone, so they accept it. */
static void conc_over_approximation_accepts_cross_key_mix_of_overlapping_batches(void **st) {
  wl_log *l = newlog();
  const char *b[] = {"a", "b", NULL};
  tu_batch(l, b, 0, A);
  tu_batch(l, b, 0, A);
  tu_span(l, 0, 0, 3);
  tu_span(l, 1, 1, 2);
  tu_state s;
  tu_state_init(&s);
  tu_apply_prefix(&s, l, 2, NULL);
  tu_freeze(&s);
  tu_set(&s, "a", l->ops[0].op.sub[0].val, 40);
  expect(l, C_LSM, ORC_CRASH_POWER, &s, ORC_PASS, NULL);
  tu_state_free(&s);
  wl_log_free(l);
}
static void conc_bad_sequence_is_refused(void **st) {
  wl_log *l = three_ops_a_before_overlapping_b_c(0);
  tu_span(l, 2, 1, 4); /* invoked before op 1: invocations must follow the op order */
  tu_state s;
  tu_state_init(&s);
  tu_freeze(&s);
  orc_input in = {l, C_LSM, ORC_CRASH_POWER, s.kv, s.n, NULL, NULL, NULL, 0};
  orc_result r;
  assert_int_equal(orc_check(&in, &r), ORC_EINVAL);
  tu_state_free(&s);
  wl_log_free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(conc_not_prefix_op_acked_before_a_later_invoke_lost_later_survived),
      cmocka_unit_test(conc_overlapping_puts_to_one_key_leave_either_value),
      cmocka_unit_test(conc_value_never_written_is_a_phantom),
      cmocka_unit_test(conc_barrier_covers_ops_acked_before_its_invocation),
      cmocka_unit_test(conc_in_flight_op_either_way_and_failed_op_either_way),
      cmocka_unit_test(conc_torn_batch_against_a_value_acked_before_it),
      cmocka_unit_test(conc_over_approximation_accepts_cross_key_mix_of_overlapping_batches),
      cmocka_unit_test(conc_bad_sequence_is_refused),
      cmocka_unit_test(lost_sync_put_after_power_cut),
      cmocka_unit_test(lost_put_before_acked_barrier),
      cmocka_unit_test(lost_acked_put_after_kill_process_safe),
      cmocka_unit_test(lost_acked_put_after_clean_close),
      cmocka_unit_test(lost_put_acked_after_a_failure_at_clean_close),
      cmocka_unit_test(lost_put_before_reopen_when_close_syncs),
      cmocka_unit_test(lost_put_before_acked_close_when_close_syncs),
      cmocka_unit_test(pass_close_not_acked_and_open_give_no_guarantee),
      cmocka_unit_test(conc_close_covers_writes_acked_before_its_invocation),
      cmocka_unit_test(lost_durable_overwrite_reverted),
      cmocka_unit_test(lost_unsynced_put_before_acked_sync_put_on_prefix_target),
      cmocka_unit_test(lost_durable_batch),
      cmocka_unit_test(lost_durable_value_absent_after_failed_overwrite),
      cmocka_unit_test(lost_durable_delete_replaced_by_absent_is_fine_but_put_after_it_lost),
      cmocka_unit_test(phantom_key_never_written),
      cmocka_unit_test(phantom_flipped_byte),
      cmocka_unit_test(phantom_value_of_another_key),
      cmocka_unit_test(phantom_resurrected_durable_delete),
      cmocka_unit_test(phantom_resurrected_durable_delete_range),
      cmocka_unit_test(phantom_duplicate_key_in_scan),
      cmocka_unit_test(phantom_truncated_value),
      cmocka_unit_test(phantom_garbage_where_only_a_failed_write_went),
      cmocka_unit_test(torn_acked_batch_half_visible),
      cmocka_unit_test(torn_in_flight_batch_half),
      cmocka_unit_test(torn_failed_batch_half),
      cmocka_unit_test(torn_batch_delete_half_not_applied),
      cmocka_unit_test(torn_batch_after_kill_on_non_process_safe_target),
      cmocka_unit_test(not_prefix_later_write_survived_earlier_lost),
      cmocka_unit_test(not_prefix_failed_write_persisted_but_earlier_acked_lost),
      cmocka_unit_test(not_prefix_overwrite_without_the_write_between),
      cmocka_unit_test(not_prefix_non_atomic_batch_second_sub_op_without_first),
      cmocka_unit_test(not_prefix_write_after_delete_range_survived_range_lost),
      cmocka_unit_test(not_prefix_hole_after_durable_point),
      cmocka_unit_test(not_prefix_in_flight_op_applied_but_acked_op_before_it_lost),
      cmocka_unit_test(empty_log_and_empty_state_pass_and_bad_input_is_refused),
      cmocka_unit_test(invariant_bank_money_vanished),
      cmocka_unit_test(invariant_bank_account_value_is_not_a_balance),
      cmocka_unit_test(invariant_custom_callback),
      cmocka_unit_test(invariant_bank_skipped_when_an_op_failed),
      cmocka_unit_test(recovery_verdicts_set_by_harness),
      cmocka_unit_test(pass_every_prefix_of_unsynced_puts),
      cmocka_unit_test(pass_every_prefix_after_barrier),
      cmocka_unit_test(pass_in_flight_op_either_way),
      cmocka_unit_test(pass_failed_ops_persisted_or_not),
      cmocka_unit_test(pass_unsynced_writes_lost_after_failed_fsync_at_clean_close),
      cmocka_unit_test(pass_failed_overwrite_of_durable_value_either_way),
      cmocka_unit_test(pass_non_prefix_target_loses_keys_independently),
      cmocka_unit_test(pass_kill_without_process_safe_loses_unsynced),
      cmocka_unit_test(pass_reopen_syncs_only_if_contract_says_so),
      cmocka_unit_test(pass_unsynced_delete_lost_or_kept),
      cmocka_unit_test(pass_empty_values_that_collide),
      cmocka_unit_test(pass_batch_all_or_nothing),
      cmocka_unit_test(pass_batch_not_applied_where_its_value_equals_the_old_one),
      cmocka_unit_test(pass_non_atomic_target_keeps_part_of_batch),
      cmocka_unit_test(pass_delete_range_every_prefix),
      cmocka_unit_test(delete_range_is_begin_inclusive_end_exclusive),
      cmocka_unit_test(pass_clean_close_full_state),
      cmocka_unit_test(pass_generated_bank_every_prefix),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  printf("planted states checked per verdict:\n");
  for (int v = 0; v < ORC_NVERDICTS; v++) printf("  %-16s %u\n", orc_verdict_name((orc_verdict)v), counts[v]);
  return failed;
}
