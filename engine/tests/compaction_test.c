/*
 * compaction_test.c - leveled compaction keeps exactly the live data.
 *
 * The model test runs a seeded sequence of puts, deletes, batches, flushes,
 * reopens, gets and full scans against an in-memory reference map, with tiny
 * memtable, block, file and level sizes (every fourth seed with the background
 * compaction thread and group commit) so that flushes, L0->L1 merges,
 * trivial moves and deep-level compactions all happen; up to 3 snapshots live
 * at a time, each checked (get and scan) against a copy of the map taken with
 * it; after every step the
 * touched key is compared, and every 64 steps (and after each reopen) the
 * whole database. A key lost or resurrected at any level fails it.
 */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKEYS 400

TU_DIR_FIXTURE("compact")


typedef struct model {
  int present[NKEYS];
  char val[NKEYS][64];
  size_t vlen[NKEYS];
} model;

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
  return *s;
}

static void tiny_opts(sdb_options *o) {
  sdb_options_init(o);
  o->deterministic = 1;
  o->memtable_bytes = 1024;
  o->block_bytes = 128;
  o->block_restart_interval = 4;
  o->l0_compaction_trigger = 2;
  o->l0_slowdown_trigger = 3;
  o->l0_stop_trigger = 4;
  o->level_base_bytes = 4096;
  o->level_ratio = 3;
  o->target_file_bytes = 1024;
}

static int keyname(char *k, int i) { return snprintf(k, 16, "key%05d", i * 7919 % 100000); }

static void check_key_at(sdb *db, const sdb_snap *sn, const model *m, int i) {
  char k[16];
  void *v = NULL;
  size_t vn;
  int kn = keyname(k, i);
  int rc = sdb_get_at(db, sn, k, (size_t)kn, &v, &vn);
  if (m->present[i]) {
    if (rc) fail_msg("key %s: expected a value, got %s (%s)", k, sdb_strerror(rc), sdb_errmsg(db));
    assert_int_equal(vn, m->vlen[i]);
    if (vn) assert_memory_equal(v, m->val[i], vn);
  } else if (rc != SDB_ENOTFOUND) {
    fail_msg("key %s: expected absent, got %s (resurrected?)", k, sdb_strerror(rc));
  }
  free(v);
}

static void check_key(sdb *db, const model *m, int i) { check_key_at(db, NULL, m, i); }

/* Every key by get, and a full scan that must list exactly the live keys. */
static void check_all_at(sdb *db, const sdb_snap *sn, const model *m) {
  sdb_iter *it;
  int seen = 0, live = 0;
  for (int i = 0; i < NKEYS; i++) check_key_at(db, sn, m, i), live += m->present[i];
  assert_int_equal(sdb_iter_create_at(db, sn, NULL, 0, NULL, 0, &it), 0);
  for (; sdb_iter_valid(it); sdb_iter_next(it)) {
    size_t kn, vn;
    const char *k = sdb_iter_key(it, &kn);
    const void *v = sdb_iter_value(it, &vn);
    int id = -1;
    char name[16];
    for (int i = 0; i < NKEYS && id < 0; i++)
      if ((size_t)keyname(name, i) == kn && !memcmp(name, k, kn)) id = i;
    if (id < 0 || !m->present[id]) fail_msg("scan: key %.*s should not exist", (int)kn, k);
    assert_int_equal(vn, m->vlen[id]);
    if (vn) assert_memory_equal(v, m->val[id], vn);
    seen++;
  }
  assert_int_equal(sdb_iter_status(it), 0);
  sdb_iter_free(it);
  assert_int_equal(seen, live);
}

/* Up to 3 live snapshots, each with a copy of the model when it was taken. */
static struct {
  const sdb_snap *s;
  model *m;
} snaps[3];
static int nsnaps;
static long snaps_taken, snap_checks, range_deletes;

static void check_all(sdb *db, const model *m) {
  check_all_at(db, NULL, m);
  for (int i = 0; i < nsnaps; i++) check_all_at(db, snaps[i].s, snaps[i].m), snap_checks++;
}

static void snap_release(sdb *db, int i) {
  sdb_snapshot_release(db, snaps[i].s);
  free(snaps[i].m);
  snaps[i] = snaps[--nsnaps];
}

static long stat_num(sdb *db, const char *name) { return atol(tu_stat(db, name)); }

static long level_files(sdb *db, const char *name) {
  char buf[8192], pat[32];
  assert_int_equal(sdb_stats(db, buf, sizeof buf), 0);
  snprintf(pat, sizeof pat, "\n%s: files ", name);
  char *p = strstr(buf, pat);
  assert_non_null(p);
  return strtol(p + strlen(pat), NULL, 10);
}

static void set_val(model *m, int i, uint64_t r) {
  m->present[i] = 1;
  m->vlen[i] = (size_t)(r % 60);
  for (size_t j = 0; j < m->vlen[i]; j++) m->val[i][j] = (char)('a' + (r >> (j % 50)) % 26);
}

static long total_compactions, total_moves, deepest, total_ops, total_bg_flushes;

static void run_model(uint64_t seed, int nops) {
  model *m = calloc(1, sizeof *m);
  sdb_options o;
  sdb_batch *b;
  sdb *db;
  char k[16], msg[512];
  uint64_t s = seed * 0x9E3779B97F4A7C15ull | 1;
  tiny_opts(&o);
  if (seed % 2) o.compression = SDB_COMPRESSION_ZLIB; /* odd seeds: zlib blocks */
  if (seed % 3 == 0) o.bloom_bits_per_key = 0;        /* every third: no filters */
  if (seed % 4 == 2) o.deterministic = 0;              /* background compaction, group commit */
  db = tu_open_opts(dir, &o);
  assert_int_equal(sdb_batch_create(&b), 0);
  for (int step = 0; step < nops; step++) {
    uint64_t r = rnd(&s), q = rnd(&s) % 100;
    int i = (int)(rnd(&s) % NKEYS), kn = keyname(k, i), op = (int)(r % 100);
    if (q < 2 && nsnaps < 3) { /* snapshot: later reads at it must see exactly this state */
      snaps[nsnaps].m = malloc(sizeof *m);
      memcpy(snaps[nsnaps].m, m, sizeof *m);
      assert_int_equal(sdb_snapshot(db, &snaps[nsnaps].s), 0);
      nsnaps++, snaps_taken++;
    } else if (q < 3 && nsnaps) {
      check_all_at(db, snaps[0].s, snaps[0].m), snap_checks++;
      snap_release(db, (int)(r % (uint64_t)nsnaps));
    } else if (q < 4) { /* delete_range [lo, hi) of two random key names */
      char lo[16], hi[16], x[16];
      int ln = keyname(lo, (int)(rnd(&s) % NKEYS)), hn = keyname(hi, (int)(rnd(&s) % NKEYS));
      for (int j = 0; j < NKEYS; j++) {
        int xn = keyname(x, j);
        if (memcmp(x, lo, (size_t)(xn < ln ? xn : ln)) >= 0 && memcmp(x, hi, (size_t)(xn < hn ? xn : hn)) < 0 &&
            xn == ln && xn == hn)
          m->present[j] = 0;
      }
      assert_int_equal(sdb_delete_range(db, lo, (size_t)ln, hi, (size_t)hn, 0), 0);
      range_deletes++;
    }
    if (op < 55) {
      set_val(m, i, rnd(&s));
      assert_int_equal(sdb_put(db, k, (size_t)kn, m->val[i], m->vlen[i], 0), 0);
    } else if (op < 80) {
      m->present[i] = 0;
      assert_int_equal(sdb_delete(db, k, (size_t)kn, 0), 0);
    } else if (op < 92) { /* a batch of up to 8 mixed ops */
      int n = 1 + (int)(rnd(&s) % 8);
      sdb_batch_clear(b);
      for (int j = 0; j < n; j++) {
        int x = (int)(rnd(&s) % NKEYS), xn = keyname(k, x);
        if (rnd(&s) % 3) {
          set_val(m, x, rnd(&s));
          assert_int_equal(sdb_batch_put(b, k, (size_t)xn, m->val[x], m->vlen[x]), 0);
        } else {
          m->present[x] = 0;
          assert_int_equal(sdb_batch_delete(b, k, (size_t)xn), 0);
        }
      }
      assert_int_equal(sdb_write(db, b, (int)(rnd(&s) % 2)), 0);
    } else if (op < 96) {
      assert_int_equal(sdb_flush(db), 0);
    } else if (op < 98) {
      check_all(db, m);
    } else { /* reopen */
      total_compactions += stat_num(db, "compactions"), total_bg_flushes += stat_num(db, "background_flushes");
      total_moves += stat_num(db, "trivial_moves");
      while (nsnaps) snap_release(db, 0); /* snapshots do not survive a reopen */
      assert_int_equal(sdb_close(db), 0);
      if (sdb_check(dir, msg, sizeof msg)) fail_msg("check after step %d: %s", step, msg);
      db = tu_open_opts(dir, &o);
      check_all(db, m);
    }
    check_key(db, m, i);
    if (step % 64 == 63) check_all(db, m);
  }
  for (int l = 6; l > 0; l--) {
    char name[16];
    snprintf(name, sizeof name, "level%d", l);
    if (level_files(db, name) > 0 && l > deepest) deepest = l;
  }
  total_compactions += stat_num(db, "compactions"), total_bg_flushes += stat_num(db, "background_flushes");
  total_moves += stat_num(db, "trivial_moves");
  check_all(db, m);
  while (nsnaps) snap_release(db, 0);
  assert_int_equal(sdb_close(db), 0);
  if (sdb_check(dir, msg, sizeof msg)) fail_msg("final check: %s", msg);
  db = tu_open_opts(dir, &o);
  check_all(db, m);
  sdb_close(db);
  sdb_batch_free(b);
  free(m);
  total_ops += nops;
}

/* 24 seeds x 3000 steps (SDB_MODEL_SEEDS / SDB_MODEL_OPS override). */
static void model_no_key_lost_or_resurrected_across_levels(void **s) {
  const char *es = getenv("SDB_MODEL_SEEDS"), *eo = getenv("SDB_MODEL_OPS");
  int seeds = es ? atoi(es) : 24, ops = eo ? atoi(eo) : 3000;
  for (int seed = 1; seed <= seeds; seed++) {
    tu_rmrf(dir);
    run_model((uint64_t)seed, ops);
  }
  print_message("model: %d seeds x %d steps = %ld steps, %ld compactions, %ld trivial moves, deepest level L%ld, "
                "%ld snapshots taken, %ld whole-db checks at a snapshot, %ld range deletes, %ld background flushes\n",
                seeds, ops, total_ops, total_compactions, total_moves, deepest, snaps_taken, snap_checks,
                range_deletes, total_bg_flushes);
  if (seeds >= 2) assert_true(total_bg_flushes > 0); /* seed 2, 6, ...: background mode (D20) */
  assert_true(total_compactions > 100);
  assert_true(deepest >= 3); /* the tiny level sizes must push data deep */
  assert_true(snaps_taken > total_ops / 200 && snap_checks > total_ops / 100);
}

/* A tombstone that reaches the last level holding its key is dropped, and
 * the old value under it must not come back, even after more compactions
 * and a reopen. */
static void deleted_key_not_resurrected_when_tombstone_dropped(void **s) {
  sdb_options o;
  char k[32], v[64];
  tiny_opts(&o);
  sdb *db = tu_open_opts(dir, &o);
  for (int round = 0; round < 6; round++)
    for (int i = 0; i < 300; i++) {
      snprintf(k, sizeof k, "k%04d", i);
      snprintf(v, sizeof v, "value-%d-%d", round, i);
      assert_int_equal(sdb_put(db, k, strlen(k), v, strlen(v), 0), 0);
    }
  for (int i = 0; i < 300; i += 2) {
    snprintf(k, sizeof k, "k%04d", i);
    assert_int_equal(sdb_delete(db, k, strlen(k), 0), 0);
  }
  for (int round = 0; round < 6; round++) /* churn other keys: tombstones travel down and vanish */
    for (int i = 0; i < 300; i++) {
      snprintf(k, sizeof k, "z%04d", i);
      assert_int_equal(sdb_put(db, k, strlen(k), "x", 1, 0), 0);
    }
  assert_true(stat_num(db, "compactions") > 10);
  sdb_close(db);
  db = tu_open_opts(dir, &o);
  for (int i = 0; i < 300; i++) {
    void *val;
    size_t vn;
    snprintf(k, sizeof k, "k%04d", i);
    int rc = sdb_get(db, k, strlen(k), &val, &vn);
    if (i % 2) {
      assert_int_equal(rc, 0);
      snprintf(v, sizeof v, "value-5-%d", i);
      assert_int_equal(vn, strlen(v));
      assert_memory_equal(val, v, vn);
      free(val);
    } else {
      assert_int_equal(rc, SDB_ENOTFOUND);
    }
  }
  sdb_close(db);
}

/* A snapshot keeps seeing the value it was taken with while the key is
 * overwritten, deleted and pushed through flushes and compactions; once it is
 * released, compaction may drop that version. */
static void snapshot_sees_old_value_through_compactions(void **s) {
  sdb_options o;
  const sdb_snap *sn;
  char k[32], v[32];
  void *val;
  size_t vn;
  sdb_iter *it;
  tiny_opts(&o);
  sdb *db = tu_open_opts(dir, &o);
  assert_int_equal(sdb_put(db, "target", 6, "old", 3, 0), 0);
  assert_int_equal(sdb_snapshot(db, &sn), 0);
  assert_int_equal(sdb_put(db, "target", 6, "new", 3, 0), 0);
  assert_int_equal(sdb_delete(db, "target", 6, 0), 0);
  for (int round = 0; round < 5; round++)
    for (int i = 0; i < 300; i++) {
      snprintf(k, sizeof k, "k%04d", i);
      snprintf(v, sizeof v, "v%d", round);
      assert_int_equal(sdb_put(db, k, strlen(k), v, strlen(v), 0), 0);
    }
  assert_true(stat_num(db, "compactions") > 5);
  assert_int_equal(sdb_get(db, "target", 6, &val, &vn), SDB_ENOTFOUND);
  assert_int_equal(sdb_get_at(db, sn, "target", 6, &val, &vn), 0);
  assert_int_equal(vn, 3);
  assert_memory_equal(val, "old", 3);
  free(val);
  assert_int_equal(sdb_iter_create_at(db, sn, "t", 1, NULL, 0, &it), 0); /* keys k* were written after it */
  assert_true(sdb_iter_valid(it));
  const void *ik = sdb_iter_key(it, &vn);
  assert_int_equal(vn, 6);
  assert_memory_equal(ik, "target", 6);
  sdb_iter_next(it);
  assert_false(sdb_iter_valid(it));
  sdb_iter_free(it);
  assert_int_equal(sdb_iter_create_at(db, sn, NULL, 0, NULL, 0, &it), 0);
  int n = 0;
  for (; sdb_iter_valid(it); sdb_iter_next(it)) n++;
  sdb_iter_free(it);
  assert_int_equal(n, 1);
  assert_int_equal(stat_num(db, "snapshots"), 1);
  sdb_snapshot_release(db, sn);
  assert_int_equal(stat_num(db, "snapshots"), 0);
  sdb_close(db);
}

/* A checkpoint opens on its own and holds exactly the writes made before it,
 * even after the source goes on writing and compacting (its tables are hard
 * links: deleting the source's inputs does not touch them). */
static void checkpoint_is_consistent_and_independent(void **s) {
  sdb_options o;
  char k[32], v[32], msg[256];
  char *cp = tu_path(dir, "../cp-of-compact");
  tiny_opts(&o);
  tu_rmrf(cp);
  sdb *db = tu_open_opts(dir, &o);
  for (int i = 0; i < 500; i++) {
    snprintf(k, sizeof k, "k%04d", i);
    snprintf(v, sizeof v, "a%d", i);
    assert_int_equal(sdb_put(db, k, strlen(k), v, strlen(v), 0), 0); /* the last ones stay in the memtable */
  }
  assert_int_equal(sdb_checkpoint(db, cp), 0);
  assert_int_equal(sdb_checkpoint(db, cp), SDB_EEXISTS);
  for (int i = 0; i < 500; i++) {
    snprintf(k, sizeof k, "k%04d", i);
    assert_int_equal(i % 2 ? sdb_put(db, k, strlen(k), "b", 1, 0) : sdb_delete(db, k, strlen(k), 0), 0);
  }
  assert_true(stat_num(db, "compactions") > 0);
  sdb_close(db);
  if (sdb_check(cp, msg, sizeof msg)) fail_msg("check of the checkpoint: %s", msg);
  db = tu_open_opts(cp, &o);
  for (int i = 0; i < 500; i++) {
    void *val;
    size_t vn;
    snprintf(k, sizeof k, "k%04d", i);
    snprintf(v, sizeof v, "a%d", i);
    assert_int_equal(sdb_get(db, k, strlen(k), &val, &vn), 0);
    assert_int_equal(vn, strlen(v));
    assert_memory_equal(val, v, vn);
    free(val);
  }
  sdb_close(db);
  tu_rmrf(cp);
  free(cp);
}

/* A 64 MiB value survives the WAL (replayed at open), the flush that
 * recovery does, compactions that move and merge its table, and reopens. */
static void value_of_64_mib_through_wal_flush_compaction_recovery(void **s) {
  sdb_options o;
  size_t big = (size_t)64 << 20, vn;
  char *v = malloc(big), k[32];
  void *got;
  char msg[256];
  for (size_t i = 0; i < big; i++) v[i] = (char)(i * 2654435761u >> 13);
  tiny_opts(&o);
  sdb *db = tu_open_opts(dir, &o);
  assert_int_equal(sdb_put(db, "big", 3, v, big, 1), 0);
  assert_int_equal(sdb_close(db), 0);
  db = tu_open_opts(dir, &o); /* WAL replay, then the recovery flush */
  for (int round = 0; round < 3; round++) {
    assert_int_equal(sdb_get(db, "big", 3, &got, &vn), 0);
    assert_int_equal(vn, big);
    assert_true(memcmp(got, v, big) == 0);
    free(got);
    for (int i = 0; i < 400; i++) { /* push it through compactions */
      snprintf(k, sizeof k, "k%d-%04d", round, i);
      assert_int_equal(sdb_put(db, k, strlen(k), "x", 1, 0), 0);
    }
    assert_int_equal(sdb_close(db), 0);
    db = tu_open_opts(dir, &o);
  }
  assert_true(stat_num(db, "tables") > 0);
  sdb_close(db);
  if (sdb_check(dir, msg, sizeof msg)) fail_msg("check: %s", msg);
  free(v);
}

/* Space stays bounded under overwrites: rewriting the same keys many times
 * leaves about one copy of them in the tables. */
static void overwrites_keep_space_bounded(void **s) {
  sdb_options o;
  char k[32], v[128];
  tiny_opts(&o);
  o.memtable_bytes = 8192;
  o.level_base_bytes = 32768;
  o.target_file_bytes = 8192;
  sdb *db = tu_open_opts(dir, &o);
  memset(v, 'v', sizeof v);
  for (int round = 0; round < 30; round++)
    for (int i = 0; i < 500; i++) {
      snprintf(k, sizeof k, "k%04d", i);
      assert_int_equal(sdb_put(db, k, strlen(k), v, 100, 0), 0);
    }
  long bytes = stat_num(db, "table_bytes"), entries = stat_num(db, "table_entries");
  print_message("overwrites: 15000 puts of 500 keys -> %ld table bytes, %ld entries\n", bytes, entries);
  for (int i = 0; i < 500; i++) {
    void *val;
    size_t vn;
    snprintf(k, sizeof k, "k%04d", i);
    assert_int_equal(sdb_get(db, k, strlen(k), &val, &vn), 0);
    assert_int_equal(vn, 100);
    free(val);
  }

  /* 15000 versions written; each level holds at most one copy of a key */
  assert_true(entries <= 3 * 500);
  assert_true(bytes < 3 * 500 * 130);
  sdb_close(db);
}

/* Fault sweep through compactions: fail each I/O call of a workload that
 * flushes and compacts, in turn. A clean reopen must show, for every key, its
 * last acknowledged write (or the failed write), and `check` must pass. */
static void every_io_failure_during_compaction_keeps_acked_writes(void **s) {
  enum { N = 260, K = 23 };
  int total;
  sdb_options o;
  tiny_opts(&o);
  o.memtable_bytes = 512;
  tu_fault_global(0);
  tu_fault_install();
  {
    sdb *db = tu_open_opts(dir, &o);
    char k[16], v[32];
    for (int i = 0; i < N; i++) {
      snprintf(k, sizeof k, "k%02d", i % K);
      snprintf(v, sizeof v, "v%d", i);
      assert_int_equal(i % 7 == 3 ? sdb_delete(db, k, strlen(k), i % 5 == 0) : sdb_put(db, k, strlen(k), v, strlen(v), i % 5 == 0), 0);
    }
    assert_true(stat_num(db, "compactions") > 3);
    sdb_close(db);
    total = tu_global_calls();
  }
  tu_fault_remove();
  for (int n = 1; n <= total; n++) {
    char *d = tu_tmpdir("csweep"), k[16], v[32], msg[256];
    int acked = 0;
    sdb *db = NULL;
    tu_fault_install();
    tu_fault_global(n);
    if (sdb_open(d, &o, &db) == 0) {
      for (int i = 0; i < N; i++) {
        snprintf(k, sizeof k, "k%02d", i % K);
        snprintf(v, sizeof v, "v%d", i);
        if (i % 7 == 3 ? sdb_delete(db, k, strlen(k), i % 5 == 0) : sdb_put(db, k, strlen(k), v, strlen(v), i % 5 == 0))
          break;
        acked = i + 1;
      }
    }
    sdb_close(db);
    tu_fault_remove();
    db = tu_open_opts(d, &o);
    for (int key = 0; key < K; key++) {
      int last = -1; /* last acked op on key */
      for (int i = key; i < acked; i += K) last = i;
      void *val = NULL;
      size_t vn;
      snprintf(k, sizeof k, "k%02d", key);
      int rc = sdb_get(db, k, strlen(k), &val, &vn);
      char want[32] = "";
      int want_present = last >= 0 && last % 7 != 3;
      if (want_present) snprintf(want, sizeof want, "v%d", last);
      int ok = want_present ? rc == 0 && vn == strlen(want) && !memcmp(val, want, vn) : rc == SDB_ENOTFOUND;
      if (!ok && acked < N && acked % K == key) { /* the failed write may have happened */
        snprintf(want, sizeof want, "v%d", acked);
        ok = acked % 7 == 3 ? rc == SDB_ENOTFOUND : rc == 0 && vn == strlen(want) && !memcmp(val, want, vn);
      }
      if (!ok) fail_msg("fault at call %d (acked %d): key %s wrong (%s)", n, acked, k, sdb_strerror(rc));
      free(val);
    }
    sdb_close(db);
    if (sdb_check(d, msg, sizeof msg)) fail_msg("fault at call %d: check: %s", n, msg);
    tu_rmrf(d);
    free(d);
  }
  print_message("compaction fault sweep: %d failure points\n", total);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(model_no_key_lost_or_resurrected_across_levels, setup, teardown),
      cmocka_unit_test_setup_teardown(deleted_key_not_resurrected_when_tombstone_dropped, setup, teardown),
      cmocka_unit_test_setup_teardown(snapshot_sees_old_value_through_compactions, setup, teardown),
      cmocka_unit_test_setup_teardown(overwrites_keep_space_bounded, setup, teardown),
      cmocka_unit_test_setup_teardown(checkpoint_is_consistent_and_independent, setup, teardown),
      cmocka_unit_test_setup_teardown(value_of_64_mib_through_wal_flush_compaction_recovery, setup, teardown),
      cmocka_unit_test_setup_teardown(every_io_failure_during_compaction_keeps_acked_writes, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
