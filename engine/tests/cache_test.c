/*
 * cache_test.c - the block cache (byte budget, LRU order, held blocks
 * survive eviction) and the table-file cache (max_open_files bounds the open
 * descriptors; closed tables reopen on demand), also under concurrent readers
 * while a writer flushes and compacts (LABELS threads: run under TSan).
 */
#include "test_util.h"

#include "cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TU_DIR_FIXTURE("cache")


static uint8_t *blk(size_t n, int fill) {
  uint8_t *p = malloc(n);
  memset(p, fill, n);
  return p;
}

static void budget_is_kept_and_lru_evicts_oldest(void **s) {
  sdb_cache *c = sdb__cache_new(16 * 4096); /* 16 shards x 4 KiB */
  uint64_t h, m, e;
  size_t usage, n;
  for (uint64_t i = 0; i < 2000; i++) {
    sdb_centry *x = sdb__cache_put(c, 1, i * 1000, blk(1000, (int)i), 1000);
    assert_non_null(x);
    sdb__cache_release(c, x);
  }
  sdb__cache_stats(c, &h, &m, &e, &usage, &n);
  assert_true(usage <= 16 * 4096);
  assert_true(e >= 2000 - 16 * 4);
  sdb_centry *x = sdb__cache_get(c, 1, 1999 * 1000); /* the newest is still there */
  assert_non_null(x);
  assert_int_equal(x->data[0], 1999 % 256);
  sdb__cache_release(c, x);
  assert_null(sdb__cache_get(c, 1, 0)); /* the oldest is gone */
  sdb__cache_free(c);
}

static void held_block_survives_eviction_and_forget(void **s) {
  sdb_cache *c = sdb__cache_new(16 * 2048);
  sdb_centry *held = sdb__cache_put(c, 7, 0, blk(1500, 0xab), 1500);
  for (uint64_t i = 1; i < 500; i++) sdb__cache_release(c, sdb__cache_put(c, 7, i * 4096, blk(1500, 1), 1500));
  sdb__cache_forget(c, 7);
  for (int i = 0; i < 1500; i++) assert_int_equal(held->data[i], 0xab); /* ASan: not freed */
  sdb__cache_release(c, held);
  assert_null(sdb__cache_get(c, 7, 4096));
  sdb__cache_free(c);
}

static void zero_budget_caches_nothing(void **s) {
  sdb_cache *c = sdb__cache_new(0);
  sdb_centry *x = sdb__cache_put(c, 1, 0, blk(10, 1), 10);
  assert_non_null(x);
  sdb__cache_release(c, x);
  assert_null(sdb__cache_get(c, 1, 0));
  sdb__cache_free(c);
}

static long stat_num(sdb *db, const char *name) {
  char buf[8192], pat[64];
  assert_int_equal(sdb_stats(db, buf, sizeof buf), 0);
  snprintf(pat, sizeof pat, "\n%s:", name);
  char *p = strstr(buf, pat);
  assert_non_null(p);
  return strtol(p + strlen(pat), NULL, 10);
}

static void small_opts(sdb_options *o, int max_open) {
  sdb_options_init(o);
  o->deterministic = 1;
  o->memtable_bytes = 4096;
  o->block_bytes = 256;
  o->target_file_bytes = 2048;
  o->level_base_bytes = 1u << 30; /* keep many small L1 tables */
  o->cache_bytes = 16 * 1024;
  o->max_open_files = max_open;
}

static void key(char *k, int i) { snprintf(k, 32, "key-%06d", (int)((unsigned)i * 2654435761u % 1000000)); }

/* 16 descriptors (or mappings) for far more tables: every key still reads
 * back, and the cache really closed and reopened files. */
static void bounds_open_tables(int mmap_reads) {
  sdb_options o;
  char k[32], v[64];
  small_opts(&o, 16);
  o.mmap_reads = mmap_reads;
  sdb *db = tu_open_opts(dir, &o);
  for (int i = 0; i < 6000; i++) {
    key(k, i);
    snprintf(v, sizeof v, "value-%d", i);
    assert_int_equal(sdb_put(db, k, strlen(k), v, strlen(v), 0), 0);
  }
  assert_true(stat_num(db, "tables") > 40);
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < 6000; i += 7) {
      void *val;
      size_t vn;
      key(k, i);
      snprintf(v, sizeof v, "value-%d", i);
      assert_int_equal(sdb_get(db, k, strlen(k), &val, &vn), 0);
      assert_int_equal(vn, strlen(v));
      assert_memory_equal(val, v, vn);
      free(val);
      assert_true(stat_num(db, "table_cache_open_files") <= 16);
    }
  print_message("tables %ld, open files %ld, reopens %ld, block cache hits %ld misses %ld\n",
                stat_num(db, "tables"), stat_num(db, "table_cache_open_files"), stat_num(db, "table_cache_reopens"),
                stat_num(db, "block_cache_hits"), stat_num(db, "block_cache_misses"));
  assert_true(stat_num(db, "table_cache_reopens") > 0);
  if (mmap_reads) { /* raw blocks come from the mappings, which the table cache bounds */
    assert_true(stat_num(db, "table_cache_maps") > stat_num(db, "tables"));
    assert_int_equal(stat_num(db, "table_cache_map_failures"), 0);
    assert_int_equal(stat_num(db, "block_cache_misses"), 0);
  } else {
    assert_int_equal(stat_num(db, "table_cache_maps"), 0);
    assert_true(stat_num(db, "block_cache_hits") > 0);
  }
  assert_true(stat_num(db, "block_cache_bytes") <= 16 * 1024);
  sdb_iter *it; /* a full scan needs every table at once: more than 16 pinned briefly, still correct */
  int n = 0;
  assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
  for (; sdb_iter_valid(it); sdb_iter_next(it)) n++;
  assert_int_equal(sdb_iter_status(it), 0);
  sdb_iter_free(it);
  assert_int_equal(n, 6000);
  sdb_close(db);
}
static void max_open_files_bounds_descriptors(void **s) { bounds_open_tables(0); }
static void max_open_files_bounds_mappings(void **s) { bounds_open_tables(1); }

/* One reader: its own seed (so the readers look at different keys), and
 * what it saw. */
typedef struct rarg {
  sdb *db;
  uint64_t seed;
  int *stop, *started;
  int errors, reads;
  char first_error[160];
} rarg;

static void *reader(void *p) {
  rarg *a = p;
  char k[32], v[64];
  uint64_t x = a->seed;
  while (!__atomic_load_n(a->stop, __ATOMIC_ACQUIRE)) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int i = (int)(x % 3000); /* keys 0..2999 were written before the readers started */
    void *val;
    size_t vn;
    key(k, i);
    snprintf(v, sizeof v, "value-%d", i);
    int rc = sdb_get(a->db, k, strlen(k), &val, &vn);
    if (rc || vn < strlen(v) || memcmp(val, v, strlen(v))) {
      if (!a->errors++)
        snprintf(a->first_error, sizeof a->first_error, "%s: %s", k, rc ? sdb_strerror(rc) : "wrong value");
    }
    if (!rc) free(val);
    if (!__atomic_fetch_add(&a->reads, 1, __ATOMIC_RELAXED)) __atomic_add_fetch(a->started, 1, __ATOMIC_RELEASE);
  }
  return NULL;
}

/* Readers hit the block and table caches while the writer flushes and
 * compacts (tables come and go). Values of keys 0..2999 are rewritten with
 * the same prefix, so every read must find "value-<i>". The writer starts
 * once every reader has read, and every reader must have read during the
 * writes too (reads counted before and after). */
#define NREADERS 3
static void concurrent_readers(int mmap_reads) {
  sdb_options o;
  char k[32], v[64];
  pthread_t th[NREADERS];
  rarg a[NREADERS];
  int stop = 0, started = 0;
  small_opts(&o, 20);
  o.deterministic = 0;
  o.mmap_reads = mmap_reads;
  o.level_base_bytes = 16384;
  sdb *db = tu_open_opts(dir, &o);
  for (int i = 0; i < 3000; i++) {
    key(k, i);
    snprintf(v, sizeof v, "value-%d", i);
    assert_int_equal(sdb_put(db, k, strlen(k), v, strlen(v), 0), 0);
  }
  long compactions0 = stat_num(db, "compactions");
  for (int t = 0; t < NREADERS; t++) {
    a[t] = (rarg){.db = db, .seed = 0x9E3779B97F4A7C15ull * (uint64_t)(t + 1), .stop = &stop, .started = &started};
    assert_int_equal(pthread_create(&th[t], NULL, reader, &a[t]), 0);
  }
  for (int w = 0; __atomic_load_n(&started, __ATOMIC_ACQUIRE) < NREADERS; w++) {
    if (w == 100000) { /* 10 s */
      __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
      fail_msg("only %d of %d readers read within 10 s", __atomic_load_n(&started, __ATOMIC_ACQUIRE), NREADERS);
    }
    usleep(100);
  }
  int before[NREADERS], during[NREADERS];
  for (int t = 0; t < NREADERS; t++) before[t] = __atomic_load_n(&a[t].reads, __ATOMIC_RELAXED);
  for (int i = 0; i < 8000; i++) {
    key(k, i % 5000);
    snprintf(v, sizeof v, "value-%d", i % 5000);
    assert_int_equal(sdb_put(db, k, strlen(k), v, strlen(v), 0), 0);
  }
  for (int t = 0; t < NREADERS; t++) during[t] = __atomic_load_n(&a[t].reads, __ATOMIC_RELAXED) - before[t];
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  int reads = 0;
  for (int t = 0; t < NREADERS; t++) {
    pthread_join(th[t], NULL);
    if (a[t].errors) print_error("reader %d: %d errors, first %s\n", t, a[t].errors, a[t].first_error);
    assert_int_equal(a[t].errors, 0);
    if (during[t] <= 0) print_error("reader %d: no read while the writer ran\n", t);
    assert_true(during[t] > 0);
    reads += a[t].reads;
  }
  long compactions = stat_num(db, "compactions") - compactions0;
  print_message("concurrent: %d reads by %d readers, %ld compactions during them\n", reads, NREADERS, compactions);
  assert_true(compactions > 0);
  sdb_close(db);
}
static void concurrent_readers_through_caches(void **s) { concurrent_readers(0); }
static void concurrent_readers_through_mappings(void **s) { concurrent_readers(1); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(budget_is_kept_and_lru_evicts_oldest),
      cmocka_unit_test(held_block_survives_eviction_and_forget),
      cmocka_unit_test(zero_budget_caches_nothing),
      cmocka_unit_test_setup_teardown(max_open_files_bounds_descriptors, setup, teardown),
      cmocka_unit_test_setup_teardown(max_open_files_bounds_mappings, setup, teardown),
      cmocka_unit_test_setup_teardown(concurrent_readers_through_caches, setup, teardown),
      cmocka_unit_test_setup_teardown(concurrent_readers_through_mappings, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
