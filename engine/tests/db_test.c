/*
 * db_test.c - the sofadb API end to end: values, keys, batches, flush,
 * reopen, MANIFEST/CURRENT recovery rules, iteration.
 */
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

TU_DIR_FIXTURE("db")


static void put(sdb *db, const char *k, const char *v, int sync) {
  assert_int_equal(sdb_put(db, k, strlen(k), v, strlen(v), sync), 0);
}


static void empty_value(void **s) {
  sdb *db = tu_open(dir, 0);
  void *v;
  size_t n = 99;
  assert_int_equal(sdb_put(db, "k", 1, NULL, 0, 1), 0);
  assert_int_equal(sdb_get(db, "k", 1, &v, &n), 0);
  assert_int_equal(n, 0);
  free(v);
  assert_int_equal(sdb_flush(db), 0);
  assert_int_equal(sdb_close(db), 0);
  db = tu_open(dir, 0);
  n = 99;
  assert_int_equal(sdb_get(db, "k", 1, &v, &n), 0); /* present, empty: not "not found" */
  assert_int_equal(n, 0);
  free(v);
  assert_int_equal(sdb_get(db, "", 0, &v, &n), SDB_ENOTFOUND);
  sdb_close(db);
}

static void embedded_nul_keys(void **s) {
  const char k1[] = "a\0b", k2[] = "a\0c", k3[] = "a";
  sdb *db = tu_open(dir, 0);
  void *v;
  size_t n;
  assert_int_equal(sdb_put(db, k1, 3, "1\0x", 3, 0), 0);
  assert_int_equal(sdb_put(db, k2, 3, "2", 1, 0), 0);
  assert_int_equal(sdb_put(db, k3, 1, "3", 1, 0), 0);
  for (int round = 0; round < 2; round++) {
    assert_int_equal(sdb_get(db, k1, 3, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(v, "1\0x", 3);
    free(v);
    assert_int_equal(sdb_get(db, k3, 1, &v, &n), 0);
    assert_memory_equal(v, "3", 1);
    free(v);
    assert_int_equal(sdb_get(db, "a\0", 2, &v, &n), SDB_ENOTFOUND);
    sdb_iter *it;
    assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
    const char *want[] = {k3, k1, k2};
    size_t wl[] = {1, 3, 3};
    for (int i = 0; i < 3; i++, sdb_iter_next(it)) {
      assert_true(sdb_iter_valid(it));
      const void *k = sdb_iter_key(it, &n);
      assert_int_equal(n, wl[i]);
      assert_memory_equal(k, want[i], n);
    }
    assert_false(sdb_iter_valid(it));
    sdb_iter_free(it);
    assert_int_equal(sdb_flush(db), 0);
    sdb_close(db);
    db = tu_open(dir, 0);
  }
  sdb_close(db);
}

static void value_16mib(void **s) {
  size_t big = 16u << 20;
  uint8_t *b = malloc(big);
  for (size_t i = 0; i < big; i++) b[i] = (uint8_t)(i * 2654435761u >> 13);
  sdb *db = tu_open(dir, 0);
  assert_int_equal(sdb_put(db, "big", 3, b, big, 1), 0);
  put(db, "after", "x", 1);
  sdb_close(db);
  for (int round = 0; round < 2; round++) {
    void *v;
    size_t n;
    db = tu_open(dir, 0); /* round 0: from the WAL; round 1: from a table */
    assert_int_equal(sdb_get(db, "big", 3, &v, &n), 0);
    assert_int_equal(n, big);
    assert_memory_equal(v, b, big);
    free(v);
    tu_expect(db, "after", "x");
    if (round == 0) assert_int_equal(sdb_flush(db), 0);
    sdb_close(db);
  }
  free(b);
}

/* The memtable fills up in the middle of a stream of batches: every batch is
 * wholly in one memtable/table, and after reopen each is all-or-nothing and
 * every acknowledged batch is whole. */
static void batch_atomicity_across_flush(void **s) {
  sdb *db = tu_open(dir, 16 << 10);
  sdb_batch *b;
  char k[32], v[64];
  assert_int_equal(sdb_batch_create(&b), 0);
  for (int i = 0; i < 60; i++) {
    sdb_batch_clear(b);
    for (int j = 0; j < 40; j++) {
      snprintf(k, sizeof k, "b%03d-%02d", i, j);
      snprintf(v, sizeof v, "value-%d-%d-................", i, j);
      assert_int_equal(sdb_batch_put(b, k, strlen(k), v, strlen(v)), 0);
    }
    snprintf(k, sizeof k, "b%03d-%02d", i - 1, 0);
    if (i) assert_int_equal(sdb_batch_delete(b, k, strlen(k)), 0);
    assert_int_equal(sdb_write(db, b, 0), 0);
  }
  assert_true(atoi(tu_stat(db, "flushes")) >= 3);
  /* a torn last batch: cut the WAL in the middle of its final record */
  sdb_batch_clear(b);
  for (int j = 0; j < 40; j++) {
    snprintf(k, sizeof k, "torn-%02d", j);
    assert_int_equal(sdb_batch_put(b, k, strlen(k), "v", 1), 0);
  }
  assert_int_equal(sdb_write(db, b, 0), 0);
  sdb_close(db);
  char *wal = tu_find(dir, ".log");
  assert_int_equal(tu_truncate(wal, tu_wal_end(wal) - 100), 0);
  db = tu_open(dir, 16 << 10);
  for (int i = 0; i < 60; i++)
    for (int j = 0; j < 40; j++) {
      snprintf(k, sizeof k, "b%03d-%02d", i, j);
      snprintf(v, sizeof v, "value-%d-%d-................", i, j);
      tu_expect(db, k, (j == 0 && i < 59) ? NULL : v);
    }
  for (int j = 0; j < 40; j++) {
    snprintf(k, sizeof k, "torn-%02d", j);
    tu_expect(db, k, NULL);
  }
  sdb_batch_free(b);
  sdb_close(db);
  free(wal);
}

static void reopen_after_flush(void **s) {
  sdb *db = tu_open(dir, 0);
  char k[32], v[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(k, sizeof k, "key%05d", i);
    snprintf(v, sizeof v, "v%d", i);
    put(db, k, v, 0);
  }
  assert_int_equal(sdb_flush(db), 0);
  assert_int_equal(tu_count(dir, ".sst"), 1);
  assert_int_equal(tu_count(dir, ".log"), 1); /* the covered WAL is gone */
  put(db, "key00007", "new", 0);
  assert_int_equal(sdb_delete(db, "key00008", 8, 0), 0);
  sdb_close(db);
  db = tu_open(dir, 0);
  /* the flushed table, plus the recovered WAL rewritten as a table (D7) */
  assert_string_equal(tu_stat(db, "tables"), "2");
  assert_int_equal(tu_count(dir, ".log"), 1);
  for (int i = 0; i < 1000; i++) {
    snprintf(k, sizeof k, "key%05d", i);
    snprintf(v, sizeof v, "v%d", i);
    tu_expect(db, k, i == 7 ? "new" : i == 8 ? NULL : v);
  }
  sdb_close(db);
}

/* Several flushes, each an edit; reopening replays them into the same live set. */
static sdb *open_no_compaction(void) {
  sdb_options o;
  sdb_options_init(&o);
  o.deterministic = 1;
  o.l0_compaction_trigger = o.l0_slowdown_trigger = o.l0_stop_trigger = 100;
  return tu_open_opts(dir, &o);
}

static void manifest_replay(void **s) {
  sdb *db = open_no_compaction();
  char k[32];
  for (int f = 0; f < 5; f++) {
    for (int i = 0; i < 50; i++) {
      snprintf(k, sizeof k, "f%d-%03d", f, i);
      put(db, k, k, 0);
    }
    assert_int_equal(sdb_flush(db), 0);
  }
  char before[64];
  snprintf(before, sizeof before, "%s", tu_stat(db, "last_seq"));
  sdb_close(db);
  assert_int_equal(tu_count(dir, ".sst"), 5);
  for (int round = 0; round < 3; round++) { /* each open writes a fresh MANIFEST snapshot */
    db = open_no_compaction();
    assert_string_equal(tu_stat(db, "tables"), "5");
    assert_string_equal(tu_stat(db, "last_seq"), before);
    for (int f = 0; f < 5; f++) {
      snprintf(k, sizeof k, "f%d-%03d", f, 49);
      tu_expect(db, k, k);
    }
    sdb_close(db);
    assert_int_equal(tu_count(dir, "^MANIFEST-"), 1);
  }
  char msg[256];
  assert_int_equal(sdb_check(dir, msg, sizeof msg), 0);
}

static void current_names_missing_manifest(void **s) {
  sdb *db = tu_open(dir, 0);
  put(db, "a", "1", 1);
  sdb_close(db);
  char *m = tu_find(dir, "^MANIFEST-");
  assert_int_equal(unlink(m), 0);
  sdb_options o;
  sdb_options_init(&o);
  db = NULL;
  assert_int_equal(sdb_open(dir, &o, &db), SDB_ECORRUPT);
  assert_non_null(db);
  assert_non_null(strstr(sdb_errmsg(db), m)); /* names the missing file */
  assert_non_null(strstr(sdb_errmsg(db), "does not exist"));
  assert_int_equal(sdb_put(db, "b", 1, "2", 1, 0), SDB_EFAILED);
  sdb_close(db);
  free(m);
}

/* A crash during a flush leaves a table the MANIFEST never recorded: it is not
 * loaded and is removed at open; its data still comes from the WAL. */
static void half_written_sstable_ignored_and_removed(void **s) {
  sdb *db = tu_open(dir, 0);
  put(db, "a", "1", 1);
  sdb_close(db);
  char *orphan = tu_path(dir, "000099.sst"), *garbage = tu_path(dir, "000100.sst");
  assert_int_equal(tu_write_file(garbage, "half a table", 12), 0);
  /* a complete, valid table that no MANIFEST edit names */
  char *other = tu_tmpdir("db-other");
  db = tu_open(other, 0);
  put(db, "a", "stale", 1);
  put(db, "zz", "phantom", 1);
  assert_int_equal(sdb_flush(db), 0);
  sdb_close(db);
  char *t = tu_find(other, ".sst");
  assert_int_equal(rename(t, orphan), 0);
  tu_rmrf(other);
  db = tu_open(dir, 0);
  tu_expect(db, "a", "1");
  tu_expect(db, "zz", NULL);
  /* only the table recovery wrote from the WAL (D7); the orphans are not loaded */
  assert_string_equal(tu_stat(db, "tables"), "1");
  assert_int_equal(tu_file_size(orphan), -1);
  assert_int_equal(tu_file_size(garbage), -1);
  sdb_close(db);
  free(orphan), free(garbage), free(other), free(t);
}

/* sdb_iter_seek repositions one iterator anywhere, backwards too, inside its bounds and its
 * view: the newest version of a key rewritten after a flush, deleted keys skipped, later
 * writes unseen. */
static void iter_seek_reuses_one_iterator(void **s) {
  sdb *db = tu_open(dir, 0);
  const char *keys[] = {"b", "a", "ab", "abc", "c", "ba", "aa", "d"};
  for (int i = 0; i < 8; i++) put(db, keys[i], "old", 0);
  assert_int_equal(sdb_flush(db), 0);
  put(db, "aa", "new", 0);
  assert_int_equal(sdb_delete(db, "b", 1, 0), 0);
  sdb_iter *it;
  size_t kn, vn;
  assert_int_equal(sdb_iter_create(db, NULL, 0, "d", 1, &it), 0);
  put(db, "bb", "later", 0); /* after the view was taken */
  static const struct { const char *seek, *key, *val; } c[] = {
    {"c", "c", "old"}, {"a", "a", "old"}, {"aa", "aa", "new"}, {"aaa", "ab", "old"}, {"b", "ba", "old"},
    {"", "a", "old"}, {"bb", "c", "old"}, {"aa", "aa", "new"}, {"ca", NULL, NULL}, {"zz", NULL, NULL}};
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    assert_int_equal(sdb_iter_seek(it, c[i].seek, strlen(c[i].seek)), 0);
    if (!c[i].key) {
      assert_false(sdb_iter_valid(it)); /* past the end or at hi */
      continue;
    }
    assert_true(sdb_iter_valid(it));
    const char *k = sdb_iter_key(it, &kn), *v = sdb_iter_value(it, &vn);
    assert_int_equal(kn, strlen(c[i].key));
    assert_memory_equal(k, c[i].key, kn);
    assert_int_equal(vn, strlen(c[i].val));
    assert_memory_equal(v, c[i].val, vn);
  }
  assert_int_equal(sdb_iter_seek(it, "a", 1), 0); /* and next goes on from there */
  sdb_iter_next(it);
  assert_memory_equal(sdb_iter_key(it, &kn), "aa", 2);
  assert_int_equal(sdb_iter_seek(NULL, "a", 1), SDB_EINVAL);
  sdb_iter_free(it);
  assert_int_equal(sdb_close(db), 0);
}

/* One iterator, many seeks, over several levels of several tables each (small blocks
 * and tables) with an empty memtable: every seek (onto a key, between keys, before the
 * first, past the last, backwards) must land where a sorted model says, and the 10 nexts
 * after it too; overwritten keys show their newest value, deleted ones are skipped.
 * Then writes after the view was taken (into the memtable the iterator left out because
 * it was empty, and a flush of them) stay unseen by it; a new iterator sees them. */
#define SEEK_KEYS 3000
static int seek_model_find(const char (*vals)[16], int from) { /* first live model key >= from */
  while (from < SEEK_KEYS && !vals[from][0]) from++;
  return from;
}
static void seek_check(sdb_iter *it, const char (*vals)[16], const char *seek, int from) {
  size_t kn, vn;
  assert_int_equal(sdb_iter_seek(it, seek, strlen(seek)), 0);
  int m = seek_model_find(vals, from);
  for (int j = 0; j <= 10; j++) {
    if (m >= SEEK_KEYS) {
      assert_false(sdb_iter_valid(it));
      return;
    }
    char want[16];
    snprintf(want, sizeof want, "k%05d", m);
    assert_true(sdb_iter_valid(it));
    const char *k = sdb_iter_key(it, &kn), *v = sdb_iter_value(it, &vn);
    assert_int_equal(kn, strlen(want));
    assert_memory_equal(k, want, kn);
    assert_int_equal(vn, strlen(vals[m]));
    assert_memory_equal(v, vals[m], vn);
    assert_int_equal(sdb_iter_next(it), 0);
    m = seek_model_find(vals, m + 1);
  }
}
static void iter_seek_across_levels_and_later_writes(void **s) {
  static char vals[SEEK_KEYS][16]; /* "" = absent */
  sdb_options o;
  sdb_options_init(&o);
  o.deterministic = 1;
  o.memtable_bytes = 16 << 10;
  o.block_bytes = 256;
  o.block_restart_interval = 4;
  o.target_file_bytes = 4 << 10;
  o.level_base_bytes = 8 << 10;
  o.l0_compaction_trigger = 2;
  sdb *db = tu_open_opts(dir, &o);
  char k[16], seek[16];
  uint64_t r = 12345;
  memset(vals, 0, sizeof vals);
  for (int pass = 0; pass < 3; pass++) /* pass 0 puts every even key, 1 overwrites some, 2 deletes some */
    for (int n = 0; n < SEEK_KEYS; n++) {
      int i = (int)((uint64_t)n * 7919 % SEEK_KEYS); /* a permutation */
      r = r * 6364136223846793005ull + 1442695040888963407ull;
      if (i % 2 || (pass && (r >> 33) % 3)) continue;
      snprintf(k, sizeof k, "k%05d", i);
      if (pass == 2) {
        assert_int_equal(sdb_delete(db, k, strlen(k), 0), 0);
        vals[i][0] = 0;
      } else {
        snprintf(vals[i], sizeof vals[i], "v%d-%d", pass, i);
        put(db, k, vals[i], 0);
      }
    }
  assert_int_equal(sdb_flush(db), 0);
  assert_string_equal(tu_stat(db, "memtable_entries"), "0");
  /* several tables on more than one level */
  assert_int_equal(strncmp(tu_stat(db, "level1"), "files 0 ", 8) != 0, 1);
  assert_int_equal(strncmp(tu_stat(db, "level2"), "files 0 ", 8) != 0, 1);
  sdb_iter *it;
  assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
  for (int n = 0; n < 4000; n++) {
    r = r * 6364136223846793005ull + 1442695040888963407ull;
    int i = (int)((r >> 33) % (SEEK_KEYS + 2)) - 1; /* -1: before every key; SEEK_KEYS: past them */
    if (i < 0) {
      seek_check(it, (const char (*)[16])vals, "", 0);
    } else if (i >= SEEK_KEYS) {
      seek_check(it, (const char (*)[16])vals, "l", SEEK_KEYS);
    } else {
      snprintf(seek, sizeof seek, (r >> 20) % 2 ? "k%05d" : "k%05d0", i); /* on a key, or just after it */
      seek_check(it, (const char (*)[16])vals, seek, (r >> 20) % 2 ? i : i + 1);
    }
  }
  /* writes after the view: a new key, an overwrite and a delete, then a flush */
  put(db, "k00001", "later", 0);
  put(db, "k00000", "later", 0);
  assert_int_equal(sdb_delete(db, "k00002", 6, 0), 0);
  seek_check(it, (const char (*)[16])vals, "k00000", 0);
  assert_int_equal(sdb_flush(db), 0);
  seek_check(it, (const char (*)[16])vals, "k00000", 0);
  seek_check(it, (const char (*)[16])vals, "k02990", 2990);
  sdb_iter_free(it);
  /* a new iterator sees them */
  snprintf(vals[0], sizeof vals[0], "later");
  snprintf(vals[1], sizeof vals[1], "later");
  vals[2][0] = 0;
  put(db, "k00003", "mem", 0); /* and one in the memtable now */
  snprintf(vals[3], sizeof vals[3], "mem");
  assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
  seek_check(it, (const char (*)[16])vals, "", 0);
  seek_check(it, (const char (*)[16])vals, "k00002", 2);
  sdb_iter_free(it);
  assert_int_equal(sdb_close(db), 0);
}

static void range_iteration_order(void **s) {
  sdb *db = tu_open(dir, 0);
  const char *keys[] = {"b", "a", "ab", "abc", "c", "", "ba", "\xff", "aa"};
  int n = sizeof keys / sizeof keys[0];
  for (int i = 0; i < n; i++) put(db, keys[i], "old", 0);
  assert_int_equal(sdb_flush(db), 0); /* half in a table, half in the memtable */
  for (int i = 0; i < n; i += 2) put(db, keys[i], keys[i], 0);
  assert_int_equal(sdb_delete(db, "ab", 2, 0), 0);
  const char *want[] = {"", "a", "aa", "abc", "b", "ba", "c", "\xff"};
  sdb_iter *it;
  size_t kn, vn;
  assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
  for (int i = 0; i < 8; i++, sdb_iter_next(it)) {
    assert_true(sdb_iter_valid(it));
    const char *k = sdb_iter_key(it, &kn);
    assert_int_equal(kn, strlen(want[i]));
    assert_memory_equal(k, want[i], kn);
  }
  assert_false(sdb_iter_valid(it));
  assert_int_equal(sdb_iter_status(it), 0);
  sdb_iter_free(it);
  /* [a, b): a aa abc */
  assert_int_equal(sdb_iter_create(db, "a", 1, "b", 1, &it), 0);
  const char *rw[] = {"a", "aa", "abc"};
  for (int i = 0; i < 3; i++, sdb_iter_next(it)) {
    assert_true(sdb_iter_valid(it));
    const char *k = sdb_iter_key(it, &kn);
    const char *v = sdb_iter_value(it, &vn);
    assert_int_equal(kn, strlen(rw[i]));
    assert_memory_equal(k, rw[i], kn);
    const char *wv = !strcmp(rw[i], "aa") ? "aa" : "old"; /* aa was rewritten after the flush */
    assert_int_equal(vn, strlen(wv));
    assert_memory_equal(v, wv, vn);
  }
  assert_false(sdb_iter_valid(it));
  sdb_iter_free(it);
  /* a consistent view: later writes and a flush do not show up */
  assert_int_equal(sdb_iter_create(db, "c", 1, NULL, 0, &it), 0);
  put(db, "ca", "new", 0);
  assert_int_equal(sdb_flush(db), 0);
  assert_true(sdb_iter_valid(it));
  assert_memory_equal(sdb_iter_key(it, &kn), "c", 1);
  sdb_iter_next(it);
  assert_true(sdb_iter_valid(it));
  assert_memory_equal(sdb_iter_key(it, &kn), "\xff", 1);
  sdb_iter_next(it);
  assert_false(sdb_iter_valid(it));
  sdb_iter_free(it);
  sdb_close(db);
}

static void open_flags_and_lock(void **s) {
  sdb_options o;
  sdb *db = NULL, *db2 = NULL;
  char *sub = tu_path(dir, "none");
  sdb_options_init(&o);
  o.create_if_missing = 0;
  assert_int_equal(sdb_open(sub, &o, &db), SDB_ENOENT);
  sdb_close(db);
  db = tu_open(sub, 0);
  sdb_options_init(&o);
  assert_int_equal(sdb_open(sub, &o, &db2), SDB_EBUSY);
  assert_non_null(strstr(sdb_errmsg(db2), "LOCK"));
  sdb_close(db2);
  sdb_close(db);
  o.error_if_exists = 1;
  db = NULL;
  assert_int_equal(sdb_open(sub, &o, &db), SDB_EEXISTS);
  sdb_close(db);
  assert_int_equal(sdb_destroy(sub), 0);
  assert_int_equal(tu_file_size(sub), -1);
  free(sub);
}

/* A torn WAL tail is cut at open, so records written afterwards never follow
 * garbage: a later reopen (and check) sees no corruption. */
static void torn_wal_tail_truncated_then_appended(void **s) {
  sdb *db = tu_open(dir, 0);
  put(db, "a", "1", 1);
  put(db, "b", "2", 1);
  char *wal = tu_find(dir, ".log");
  long end_of_b = tu_wal_end(wal); /* records reach the kernel at once (D1) */
  sdb_close(db);                        /* appends the close marker (D19) */
  assert_true(tu_wal_end(wal) > end_of_b);
  assert_int_equal(tu_truncate(wal, end_of_b - 3), 0); /* tear b's record, drop the marker */
  db = tu_open(dir, 0);
  tu_expect(db, "a", "1");
  tu_expect(db, "b", NULL);
  assert_string_not_equal(tu_stat(db, "recovered_tail_truncated_bytes"), "0");
  put(db, "c", "3", 1);
  sdb_close(db);
  char msg[256];
  assert_int_equal(sdb_check(dir, msg, sizeof msg), 0);
  db = tu_open(dir, 0);
  tu_expect(db, "a", "1");
  tu_expect(db, "c", "3");
  sdb_close(db);
  free(wal);
}

/* Sync-acked records after a damaged one prove it was synced: open fails with
 * SDB_ECORRUPT naming the WAL and offset instead of dropping acked writes. */
static void wal_corruption_before_synced_records_fails_open(void **s) {
  sdb *db = tu_open(dir, 0);
  put(db, "a", "1", 1);
  put(db, "b", "2", 1);
  put(db, "c", "3", 1);
  sdb_close(db);
  char *wal = tu_find(dir, ".log");
  assert_int_equal(tu_xor_byte(wal, 20 + 7 + 30, 0x01), 0); /* inside the first batch */
  sdb_options o;
  sdb_options_init(&o);
  db = NULL;
  assert_int_equal(sdb_open(dir, &o, &db), SDB_ECORRUPT);
  assert_non_null(strstr(sdb_errmsg(db), wal));
  assert_non_null(strstr(sdb_errmsg(db), "offset 27"));
  sdb_close(db);
  char msg[512];
  assert_int_equal(sdb_check(dir, msg, sizeof msg), SDB_ECORRUPT);
  assert_non_null(strstr(msg, "offset 27"));
  free(wal);
}

static void check_reports_table_corruption(void **s) {
  sdb *db = tu_open(dir, 0);
  char k[32];
  for (int i = 0; i < 500; i++) {
    snprintf(k, sizeof k, "key%05d", i);
    put(db, k, "some value that is long enough", 0);
  }
  assert_int_equal(sdb_flush(db), 0);
  sdb_close(db);
  char msg[512];
  assert_int_equal(sdb_check(dir, msg, sizeof msg), 0);
  char *t = tu_find(dir, ".sst");
  assert_int_equal(tu_xor_byte(t, 5000, 0x10), 0);
  assert_int_equal(sdb_check(dir, msg, sizeof msg), SDB_ECORRUPT);
  assert_non_null(strstr(msg, t));
  assert_non_null(strstr(msg, "offset"));
  db = tu_open(dir, 0);
  void *v;
  size_t n;
  int bad = 0;
  for (int i = 0; i < 500; i++) {
    snprintf(k, sizeof k, "key%05d", i);
    int rc = sdb_get(db, k, strlen(k), &v, &n);
    if (rc == SDB_ECORRUPT) bad++;
    else {
      assert_int_equal(rc, 0);
      free(v);
    }
  }
  assert_true(bad > 0 && bad < 500); /* only the keys of the damaged block */
  sdb_close(db);
  free(t);
}

/* Every file of a directory but LOCK: names and bytes. */
#define SNAP_MAX 64
typedef struct dirsnap {
  int n;
  char name[SNAP_MAX][64];
  char *data[SNAP_MAX];
  long size[SNAP_MAX];
} dirsnap;

static char *read_all(const char *p, long *size) {
  FILE *f = fopen(p, "rb");
  assert_non_null(f);
  *size = tu_file_size(p);
  char *b = malloc((size_t)*size + 1);
  assert_int_equal(fread(b, 1, (size_t)*size, f), (size_t)*size);
  fclose(f);
  return b;
}

static void snap_dir(const char *d, dirsnap *s) {
  DIR *dd = opendir(d);
  struct dirent *e;
  assert_non_null(dd);
  memset(s, 0, sizeof *s);
  while ((e = readdir(dd))) {
    if (e->d_name[0] == '.' || !strcmp(e->d_name, "LOCK")) continue;
    assert_true(s->n < SNAP_MAX);
    snprintf(s->name[s->n], sizeof s->name[s->n], "%s", e->d_name);
    char *p = tu_path(d, e->d_name);
    s->data[s->n] = read_all(p, &s->size[s->n]);
    free(p);
    s->n++;
  }
  closedir(dd);
}

static void snap_free(dirsnap *s) {
  for (int i = 0; i < s->n; i++) free(s->data[i]);
}

/* Every file of s is in d, byte for byte. */
static void expect_kept(const char *d, const dirsnap *s) {
  for (int i = 0; i < s->n; i++) {
    char *p = tu_path(d, s->name[i]);
    if (tu_file_size(p) < 0) print_error("%s: removed\n", p);
    assert_true(tu_file_size(p) >= 0);
    long n;
    char *b = read_all(p, &n);
    if (n != s->size[i] || memcmp(b, s->data[i], (size_t)n)) print_error("%s: changed\n", p);
    assert_int_equal(n, s->size[i]);
    assert_memory_equal(b, s->data[i], (size_t)n);
    free(b), free(p);
  }
}

static void expect_keys(sdb *db) {
  char k[32];
  for (int i = 0; i < 300; i++) {
    snprintf(k, sizeof k, "k%04d", i);
    tu_expect(db, k, "vvvvvvvvvvvvvvvvvvvv");
  }
}

/* The same calls in two directories give the same files (names from one
 * counter, no time or randomness: D-header of db.c), byte for byte. Then
 * opens of the first that fail in the middle of recovery -- after the new
 * tables, WAL and MANIFEST were written, when the CURRENT switch, the
 * MANIFEST fsync or a table write fails -- return the error and leave
 * every file that was live before, byte for byte (nothing deleted,
 * truncated or rewritten); the next open has every key. */
static void failed_open_removes_nothing_live_and_numbers_are_deterministic(void **s) {
  static const struct {
    enum tu_op op;
    const char *sub, *says;
  } faults[] = {{TU_RENAME, "CURRENT", "rename"}, {TU_FSYNC, "MANIFEST", "fsync"}, {TU_WRITE, ".sst", "write"}};
  char *d2 = tu_tmpdir("db-twin");
  const char *ds[2] = {dir, d2};
  for (int r = 0; r < 2; r++) {
    sdb *db = tu_open(ds[r], 4096);
    char k[32];
    for (int i = 0; i < 300; i++) {
      snprintf(k, sizeof k, "k%04d", i * 7 % 300);
      put(db, k, "vvvvvvvvvvvvvvvvvvvv", 0);
    }
    sdb_close(db);
  }
  dirsnap a, b;
  snap_dir(dir, &a);
  snap_dir(d2, &b);
  assert_int_equal(a.n, b.n);
  assert_true(tu_count(dir, ".sst") > 1 && tu_count(dir, ".log") == 1);
  expect_kept(d2, &a); /* and as many files: the same set */
  snap_free(&b);
  tu_rmrf(d2);
  free(d2);
  for (size_t f = 0; f < sizeof faults / sizeof *faults; f++) {
    sdb_options o;
    sdb_options_init(&o);
    o.deterministic = 1;
    sdb *db = NULL;
    tu_fault_set(faults[f].op, faults[f].sub, 1, EIO, 0);
    tu_fault_install();
    int rc = sdb_open(dir, &o, &db);
    int fired = tu_fault_fired();
    tu_fault_remove();
    if (rc != SDB_EIO) print_error("fault %zu: open: %s: %s\n", f, sdb_strerror(rc), sdb_errmsg(db));
    assert_true(fired);
    assert_int_equal(rc, SDB_EIO);
    assert_non_null(strstr(sdb_errmsg(db), faults[f].says));
    assert_non_null(strstr(sdb_errmsg(db), faults[f].sub));
    sdb_close(db);
    expect_kept(dir, &a);
  }
  snap_free(&a);
  sdb *db = tu_open(dir, 4096);
  expect_keys(db);
  sdb_close(db);
}

/* One writer (tiny memtable: many flushes) and two readers doing gets and
 * full scans: readers only ever see whole values, in key order. */
static sdb *cdb;
static int cdone;
static void *reader(void *arg) {
  char k[32], want[64];
  unsigned long bad = 0;
  for (int round = 0; !__atomic_load_n(&cdone, __ATOMIC_ACQUIRE); round++) {
    for (int i = 0; i < 200; i++) {
      void *v;
      size_t n;
      snprintf(k, sizeof k, "c%05d", (i * 31 + round) % 2000);
      snprintf(want, sizeof want, "value of %s", k);
      int rc = sdb_get(cdb, k, strlen(k), &v, &n);
      if (rc == 0) {
        bad += n != strlen(want) || memcmp(v, want, n);
        free(v);
      } else {
        bad += rc != SDB_ENOTFOUND;
      }
    }
    sdb_iter *it;
    if (sdb_iter_create(cdb, NULL, 0, NULL, 0, &it)) return (void *)1;
    char prev[32] = "";
    size_t pn = 0;
    for (; sdb_iter_valid(it); sdb_iter_next(it)) {
      size_t kn;
      const char *kk = sdb_iter_key(it, &kn);
      bad += pn && memcmp(prev, kk, kn < pn ? kn : pn) >= 0;
      memcpy(prev, kk, kn < sizeof prev ? kn : sizeof prev);
      pn = kn;
    }
    bad += sdb_iter_status(it) != 0;
    sdb_iter_free(it);
  }
  return (void *)bad;
}

static void concurrent_readers_during_writes_and_flushes(void **s) {
  pthread_t r[2];
  char k[32], v[64];
  cdb = tu_open(dir, 8 << 10);
  cdone = 0;
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&r[i], NULL, reader, NULL), 0);
  for (int i = 0; i < 6000; i++) {
    snprintf(k, sizeof k, "c%05d", i * 7 % 2000);
    snprintf(v, sizeof v, "value of %s", k);
    assert_int_equal(sdb_put(cdb, k, strlen(k), v, strlen(v), 0), 0);
  }
  __atomic_store_n(&cdone, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < 2; i++) {
    void *bad;
    pthread_join(r[i], &bad);
    assert_null(bad);
  }
  assert_true(atoi(tu_stat(cdb, "flushes")) > 5);
  sdb_close(cdb);
}

/* sync_writes=1: a put with sync=0 is synced all the same (the WAL's synced
 * offset reaches its end after each write); 0: it is not. */
static void sync_writes_option_syncs_every_write(void **s) {
  for (int det = 0; det <= 1; det++)
    for (int pol = 0; pol <= 1; pol++) {
      sdb_options o;
      sdb *db;
      char name[64], m[128];
      sdb_options_init(&o);
      o.deterministic = det;
      assert_int_equal(sdb_options_set(&o, "sync_writes", pol ? "1" : "0", m, sizeof m), 0);
      db = tu_open_opts(dir, &o);
      snprintf(name, sizeof name, "k%d%d", det, pol);
      assert_int_equal(sdb_put(db, name, strlen(name), "v", 1, 0), 0);
      unsigned long long off = 0, synced = 0;
      assert_int_equal(sscanf(strchr(tu_stat(db, "wal"), '('), "(%llu bytes, %llu synced)", &off, &synced), 2);
      if (pol)
        assert_true(synced == off);
      else
        assert_true(synced < off);
      sdb_close(db);
    }
}

/* The same database read with mmap_reads=1 and =0 gives the same answers for
 * every key (present, overwritten, deleted, absent) and the same full scan.
 * Opened with sdb_open, not tu_open, so SDB_TEST_MMAP_READS does not apply. */
static uint64_t read_digest(int mmap_reads) {
  sdb_options o;
  sdb *db = NULL;
  uint64_t h = 0;
  char k[32];
  sdb_options_init(&o);
  o.deterministic = 1;
  o.mmap_reads = mmap_reads;
  assert_int_equal(sdb_open(dir, &o, &db), 0);
  for (int i = 0; i < 4000; i++) {
    void *v = NULL;
    size_t vn = 0;
    snprintf(k, sizeof k, "k%05d", i);
    int rc = sdb_get(db, k, strlen(k), &v, &vn);
    h = h * 1000003 + (uint64_t)(rc + 100);
    for (size_t j = 0; j < vn; j++) h = h * 31 + ((unsigned char *)v)[j];
    free(v);
  }
  sdb_iter *it;
  assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
  for (; sdb_iter_valid(it); sdb_iter_next(it)) {
    size_t kn, vn;
    const unsigned char *kk = sdb_iter_key(it, &kn), *vv = sdb_iter_value(it, &vn);
    for (size_t j = 0; j < kn; j++) h = h * 31 + kk[j];
    for (size_t j = 0; j < vn; j++) h = h * 37 + vv[j];
  }
  assert_int_equal(sdb_iter_status(it), 0);
  sdb_iter_free(it);
  assert_string_equal(tu_stat(db, "mmap_reads"), mmap_reads ? "on" : "off");
  if (mmap_reads) assert_true(atol(tu_stat(db, "table_cache_maps")) > 0);
  else assert_int_equal(atol(tu_stat(db, "table_cache_maps")), 0);
  assert_int_equal(sdb_close(db), 0);
  return h;
}

static void mmap_and_pread_reads_agree(void **s) {
  sdb_options o;
  sdb *db = NULL;
  char k[32], v[128];
  sdb_options_init(&o);
  o.deterministic = 1;
  o.memtable_bytes = 32 * 1024;
  o.block_bytes = 512;
  o.target_file_bytes = 16 * 1024;
  assert_int_equal(sdb_open(dir, &o, &db), 0);
  for (int round = 0; round < 3; round++)
    for (int i = round; i < 3000; i += round + 1) {
      snprintf(k, sizeof k, "k%05d", i);
      snprintf(v, sizeof v, "value-%d-round-%d-%0*d", i, round, i % 60, 0);
      if (round == 2 && i % 7 == 0) assert_int_equal(sdb_delete(db, k, strlen(k), 0), 0);
      else put(db, k, v, 0);
    }
  assert_int_equal(sdb_flush(db), 0);
  assert_true(atol(tu_stat(db, "tables")) > 3);
  assert_int_equal(sdb_close(db), 0);
  uint64_t a = read_digest(1), b = read_digest(0), c = read_digest(1);
  assert_true(a == b && a == c);
}

/* Bloom filter stats: gets of absent keys are answered by the filters
 * (bloom_useful), present keys pass them; with no filter nothing is counted. */
static void bloom_stats_count_checks_and_useful_negatives(void **s) {
  for (int bits = 0; bits <= 10; bits += 10) {
    sdb_options o;
    sdb *db;
    char k[32];
    void *v;
    size_t vn;
    sdb_options_init(&o);
    o.deterministic = 1;
    o.memtable_bytes = 16 << 10;
    o.bloom_bits_per_key = bits;
    db = tu_open_opts(dir, &o);
    for (int i = 0; i < 2000; i++) {
      snprintf(k, sizeof k, "bloom%d-%05d", bits, i);
      assert_int_equal(sdb_put(db, k, strlen(k), "value", 5, 0), 0);
    }
    assert_int_equal(sdb_flush(db), 0);
    for (int i = 0; i < 2000; i++) {
      snprintf(k, sizeof k, "bloom%d-%05d", bits, i);
      assert_int_equal(sdb_get(db, k, strlen(k), &v, &vn), 0);
      free(v);
    }
    long checks = atol(tu_stat(db, "bloom_checks")), useful = atol(tu_stat(db, "bloom_useful"));
    for (int i = 0; i < 2000; i++) {
      snprintf(k, sizeof k, "bloom%d-%05dx", bits, i); /* absent, inside the tables' ranges */
      assert_int_equal(sdb_get(db, k, strlen(k), &v, &vn), SDB_ENOTFOUND);
    }
    long checks2 = atol(tu_stat(db, "bloom_checks")), useful2 = atol(tu_stat(db, "bloom_useful"));
    long fp = atol(tu_stat(db, "bloom_false_positives"));
    if (bits == 0) {
      assert_int_equal(checks2, 0);
      assert_int_equal(useful2, 0);
    } else {
      assert_true(checks >= 2000);        /* every present key probed at least one filter */
      assert_true(useful2 - useful > 1800); /* absent keys: nearly all answered by the filter */
      assert_true(checks2 - checks > 1800); /* (a few fall between two tables of a level: no probe) */
      assert_true(fp < 200);               /* ~1% at 10 bits per key */
    }
    sdb_close(db);
  }
}

/* The WAL grows in zero-filled steps of wal_prealloc_bytes: synced writes
 * inside a step leave the file's size as it is (so fdatasync has no metadata
 * to commit), a write past it adds one step, the zeros end the log at reopen
 * without a torn tail, and 0 turns it off. */
static void wal_grows_in_preallocated_steps(void **s) {
  sdb_options o;
  sdb_options_init(&o);
  o.deterministic = 1;
  assert_int_equal(o.wal_prealloc_bytes, 64u << 10);
  sdb *db = tu_open_opts(dir, &o);
  char *wal = tu_find(dir, ".log");
  char k[32], v[200];
  memset(v, 'v', sizeof v - 1), v[sizeof v - 1] = 0;
  put(db, "first", "1", 1);
  assert_int_equal(tu_file_size(wal), 64 << 10);
  int i = 0;
  for (; tu_wal_end(wal) + 300 < (64 << 10); i++) { /* the file's size stays one step */
    snprintf(k, sizeof k, "k%05d", i);
    put(db, k, v, 1);
    assert_int_equal(tu_file_size(wal), 64 << 10);
  }
  for (int j = 0; j < 4; j++, i++) { /* past the step: one more */
    snprintf(k, sizeof k, "k%05d", i);
    put(db, k, v, 1);
  }
  assert_int_equal(tu_file_size(wal), 128 << 10);
  long end = tu_wal_end(wal);
  assert_true(end > (64 << 10) && end < (128 << 10));
  sdb_close(db);
  db = tu_open_opts(dir, &o);
  assert_string_equal(tu_stat(db, "recovered_tail_truncated_bytes"), "0"); /* zeros are no torn tail */
  for (int j = 0; j < i; j++) {
    snprintf(k, sizeof k, "k%05d", j);
    tu_expect(db, k, v);
  }
  sdb_close(db);
  free(wal);
  char msg[256];
  assert_int_equal(sdb_check(dir, msg, sizeof msg), 0);
  /* off: the file ends where its records do */
  char *d2 = tu_tmpdir("prealloc-off");
  o.wal_prealloc_bytes = 0;
  db = tu_open_opts(d2, &o);
  put(db, "a", "1", 1);
  wal = tu_find(d2, ".log");
  assert_int_equal(tu_file_size(wal), tu_wal_end(wal));
  sdb_close(db);
  free(wal);
  /* out of range: a clear error */
  o.wal_prealloc_bytes = (size_t)2 << 30;
  db = NULL;
  assert_int_equal(sdb_open(d2, &o, &db), SDB_EINVAL);
  assert_non_null(strstr(sdb_errmsg(db), "wal_prealloc_bytes"));
  sdb_close(db);
  free(d2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(wal_grows_in_preallocated_steps, setup, teardown),
      cmocka_unit_test_setup_teardown(sync_writes_option_syncs_every_write, setup, teardown),
      cmocka_unit_test_setup_teardown(bloom_stats_count_checks_and_useful_negatives, setup, teardown),
      cmocka_unit_test_setup_teardown(empty_value, setup, teardown),
      cmocka_unit_test_setup_teardown(embedded_nul_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(value_16mib, setup, teardown),
      cmocka_unit_test_setup_teardown(batch_atomicity_across_flush, setup, teardown),
      cmocka_unit_test_setup_teardown(reopen_after_flush, setup, teardown),
      cmocka_unit_test_setup_teardown(manifest_replay, setup, teardown),
      cmocka_unit_test_setup_teardown(current_names_missing_manifest, setup, teardown),
      cmocka_unit_test_setup_teardown(half_written_sstable_ignored_and_removed, setup, teardown),
      cmocka_unit_test_setup_teardown(range_iteration_order, setup, teardown),
      cmocka_unit_test_setup_teardown(iter_seek_reuses_one_iterator, setup, teardown),
      cmocka_unit_test_setup_teardown(iter_seek_across_levels_and_later_writes, setup, teardown),
      cmocka_unit_test_setup_teardown(open_flags_and_lock, setup, teardown),
      cmocka_unit_test_setup_teardown(torn_wal_tail_truncated_then_appended, setup, teardown),
      cmocka_unit_test_setup_teardown(wal_corruption_before_synced_records_fails_open, setup, teardown),
      cmocka_unit_test_setup_teardown(check_reports_table_corruption, setup, teardown),
      cmocka_unit_test_setup_teardown(failed_open_removes_nothing_live_and_numbers_are_deterministic, setup, teardown),
      cmocka_unit_test_setup_teardown(concurrent_readers_during_writes_and_flushes, setup, teardown),
      cmocka_unit_test_setup_teardown(mmap_and_pread_reads_agree, setup, teardown),
  };
  return cmocka_run_group_tests_name("engine_db", tests, NULL, NULL);
}
