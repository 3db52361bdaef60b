/*
 * sstable_test.c - table builder and reader (docs/format/sstable.md).
 */
#include "test_util.h"

#include "sdb_int.h"
#include "sstable_format.h"
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir, *path;

static int setup(void **s) {
  dir = tu_tmpdir("sst");
  path = tu_path(dir, "000007.sst");
  return 0;
}
static int teardown(void **s) {
  tu_rmrf(dir);
  free(dir);
  free(path);
  return 0;
}

static void ikey(sdb_buf *b, int i) {
  char k[32];
  snprintf(k, sizeof k, "user-key-%06d", i * 2); /* even keys only */
  assert_int_equal(sdb__ikey(b, k, strlen(k), (uint64_t)i + 1, i % 11 == 5 ? SDB_TYPE_DEL : SDB_TYPE_PUT), 0);
}

static uint64_t build(int n, size_t block, int interval) {
  sdb_tb tb;
  sdb_buf k = {0};
  uint64_t size;
  char v[64];
  assert_int_equal(sdb__tb_open(&tb, path, block, interval, NULL), 0);
  for (int i = 0; i < n; i++) {
    ikey(&k, i);
    snprintf(v, sizeof v, "v%d", i);
    assert_int_equal(sdb__tb_add(&tb, k.p, k.len, v, i % 11 == 5 ? 0 : strlen(v), NULL), 0);
  }
  assert_int_equal(sdb__tb_finish(&tb, &size, NULL), 0);
  sdb__tb_free(&tb, 0);
  sdb__buf_free(&k);
  assert_int_equal((long)size, tu_file_size(path));
  return size;
}

/* n entries with values of vlen bytes, compressible (repeated letters) or
 * not (xorshift noise); zlib on. */
static uint64_t build_z(int n, size_t vlen, int noisy, sdb_tb *out_stats) {
  sdb_tb tb;
  sdb_buf k = {0};
  uint64_t size, x = 88172645463325252ull;
  char v[512];
  assert_int_equal(sdb__tb_open(&tb, path, 1024, 16, NULL), 0);
  tb.compression = SDB_COMPRESSION_ZLIB;
  for (int i = 0; i < n; i++) {
    ikey(&k, i);
    for (size_t j = 0; j < vlen; j++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      v[j] = noisy ? (char)x : (char)('a' + (i + (int)j / 40) % 3);
    }
    assert_int_equal(sdb__tb_add(&tb, k.p, k.len, v, vlen, NULL), 0);
  }
  assert_int_equal(sdb__tb_finish(&tb, &size, NULL), 0);
  out_stats->raw_bytes = tb.raw_bytes;
  out_stats->zblocks = tb.zblocks;
  sdb__tb_free(&tb, 0);
  sdb__buf_free(&k);
  return size;
}

static void zlib_blocks_round_trip_and_shrink(void **s) {
  sdb_tb st;
  sdb_table *t;
  sdb_buf k = {0};
  void *v;
  size_t vn;
  uint64_t size = build_z(2000, 200, 0, &st);
  assert_true(st.zblocks > 100);
  assert_true(size * 3 < st.raw_bytes); /* repetitive values deflate well */
  assert_int_equal(sdb__table_open(path, 7, size, &t, NULL), 0);
  assert_int_equal(sdb__table_check(t, NULL, NULL, NULL, NULL), 0);
  ikey(&k, 1234);
  assert_int_equal(sdb__ikey(&k, k.p, k.len - 8, SDB_MAX_SEQ, SDB_TYPE_SEEK), 0);
  assert_int_equal(sdb__table_get(t, k.p, k.len, &v, &vn, NULL), 1);
  assert_int_equal(vn, 200);
  assert_int_equal(((char *)v)[0], 'a' + 1234 % 3);
  free(v);
  sdb__table_unref(t);
  sdb__buf_free(&k);
}

static void incompressible_block_stored_raw(void **s) {
  sdb_tb st;
  sdb_table *t;
  uint64_t size = build_z(300, 400, 1, &st);
  assert_int_equal(st.zblocks, 0); /* noise does not shrink: every block raw */
  assert_int_equal(sdb__table_open(path, 7, size, &t, NULL), 0);
  assert_int_equal(sdb__table_check(t, NULL, NULL, NULL, NULL), 0);
  sdb__table_unref(t);
}

/* A flipped byte inside a compressed block fails its checksum: check names
 * the block's offset. */
static void corrupt_compressed_block_detected(void **s) {
  sdb_tb st;
  sdb_table *t;
  sdb_eb eb;
  uint64_t size = build_z(2000, 200, 0, &st);
  assert_int_equal(tu_xor_byte(path, 20, 0x40), 0);
  assert_int_equal(sdb__table_open(path, 7, size, &t, NULL), 0);
  assert_int_equal(sdb__table_check(t, NULL, NULL, NULL, &eb), SDB_ECORRUPT);
  assert_non_null(strstr(eb.msg, "block at offset 0"));
  sdb__table_unref(t);
}

static void build_then_iterate_and_get(void **s) {
  int n = 5000;
  uint64_t size = build(n, 1024, 16);
  sdb_table *t;
  sdb_buf k = {0};
  assert_int_equal(sdb__table_open(path, 7, size, &t, NULL), 0);
  assert_int_equal(t->entries, n);
  assert_true(t->nblocks > 50);
  sdb_iiter *it = sdb__table_iter(t);
  int i = 0;
  for (it->ops->seek_first(it); it->ops->valid(it); it->ops->next(it), i++) {
    size_t kn;
    const uint8_t *kk = it->ops->key(it, &kn);
    ikey(&k, i);
    assert_int_equal(kn, k.len);
    assert_memory_equal(kk, k.p, kn);
  }
  assert_int_equal(i, n);
  assert_int_equal(it->ops->status(it), 0);
  /* seek to an odd (absent) key lands on the next even one */
  assert_int_equal(sdb__ikey(&k, "user-key-000101", 15, SDB_MAX_SEQ, SDB_TYPE_SEEK), 0);
  it->ops->seek(it, k.p, k.len);
  assert_true(it->ops->valid(it));
  size_t kn;
  const uint8_t *kk = it->ops->key(it, &kn);
  assert_memory_equal(kk, "user-key-000102", 15);
  it->ops->free(it);
  for (int j = 0; j < n; j += 7) {
    char uk[32];
    void *v;
    size_t vn;
    snprintf(uk, sizeof uk, "user-key-%06d", j * 2);
    assert_int_equal(sdb__ikey(&k, uk, strlen(uk), SDB_MAX_SEQ, SDB_TYPE_SEEK), 0);
    int rc = sdb__table_get(t, k.p, k.len, &v, &vn, NULL);
    if (j % 11 == 5) {
      assert_int_equal(rc, 2); /* a tombstone */
    } else {
      char want[32];
      snprintf(want, sizeof want, "v%d", j);
      assert_int_equal(rc, 1);
      assert_int_equal(vn, strlen(want));
      assert_memory_equal(v, want, vn);
      free(v);
    }
    /* a snapshot older than the entry does not see it */
    assert_int_equal(sdb__ikey(&k, uk, strlen(uk), (uint64_t)j, SDB_TYPE_SEEK), 0);
    assert_int_equal(sdb__table_get(t, k.p, k.len, &v, &vn, NULL), 0);
  }
  assert_int_equal(sdb__table_check(t, NULL, NULL, NULL, NULL), 0);
  sdb__table_unref(t);
  sdb__buf_free(&k);
}

/* Keys share long prefixes: restart points + prefix compression keep the file
 * well below the raw key bytes. */
static void prefix_compression_shrinks_keys(void **s) {
  int n = 5000;
  uint64_t size = build(n, 4096, 16);
  uint64_t raw = (uint64_t)n * (15 + 8 + 6);
  assert_true(size < raw * 3 / 4);
}

static void corrupt_block_detected_with_offset(void **s) {
  uint64_t size = build(2000, 1024, 16);
  sdb_table *t;
  sdb_eb eb;
  assert_int_equal(tu_xor_byte(path, 3000, 0x04), 0);
  assert_int_equal(sdb__table_open(path, 7, size, &t, NULL), 0); /* footer and index intact */
  assert_int_equal(sdb__table_check(t, NULL, NULL, NULL, &eb), SDB_ECORRUPT);
  assert_non_null(strstr(eb.msg, "checksum mismatch"));
  assert_non_null(strstr(eb.msg, "000007.sst"));
  sdb__table_unref(t);
}

static void truncated_or_bad_footer_rejected(void **s) {
  uint64_t size = build(100, 1024, 16);
  sdb_table *t;
  sdb_eb eb;
  assert_int_equal(tu_xor_byte(path, (long)size - 2, 0x01), 0); /* magic */
  assert_int_equal(sdb__table_open(path, 7, 0, &t, &eb), SDB_ECORRUPT);
  assert_non_null(strstr(eb.msg, "magic"));
  build(100, 1024, 16);
  assert_int_equal(tu_xor_byte(path, (long)size - 20, 0x01), 0); /* footer fields */
  assert_int_equal(sdb__table_open(path, 7, 0, &t, &eb), SDB_ECORRUPT);
  assert_non_null(strstr(eb.msg, "footer checksum"));
  build(100, 1024, 16);
  assert_int_equal(tu_truncate(path, (long)size / 2), 0); /* a half-written table */
  assert_int_equal(sdb__table_open(path, 7, 0, &t, &eb), SDB_ECORRUPT);
  build(100, 1024, 16);
  assert_int_equal(sdb__table_open(path, 7, size + 1, &t, &eb), SDB_ECORRUPT); /* size differs from the MANIFEST */
  assert_non_null(strstr(eb.msg, "MANIFEST"));
}

/* Every key in the table passes its bloom filter; absent keys rarely do. */
static void bloom_filter_rules_out_absent_keys(void **s) {
  int n = 5000, fp = 0;
  uint64_t size = build(n, 4096, 16);
  sdb_table *t;
  char uk[32];
  assert_int_equal(sdb__table_open(path, 7, size, &t, NULL), 0);
  assert_non_null(t->filter);
  for (int i = 0; i < n; i++) {
    snprintf(uk, sizeof uk, "user-key-%06d", i * 2);
    assert_true(sdb__table_may_contain(t, uk, strlen(uk)));
  }
  for (int i = 0; i < n; i++) {
    snprintf(uk, sizeof uk, "user-key-%06d", i * 2 + 1);
    fp += sdb__table_may_contain(t, uk, strlen(uk));
  }
  print_message("bloom: %d false positives in %d absent keys\n", fp, n);
  assert_true(fp < n * 3 / 100); /* 10 bits/key, 7 probes: about 1% */
  sdb__table_unref(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(build_then_iterate_and_get, setup, teardown),
      cmocka_unit_test_setup_teardown(prefix_compression_shrinks_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(corrupt_block_detected_with_offset, setup, teardown),
      cmocka_unit_test_setup_teardown(truncated_or_bad_footer_rejected, setup, teardown),
      cmocka_unit_test_setup_teardown(bloom_filter_rules_out_absent_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(zlib_blocks_round_trip_and_shrink, setup, teardown),
      cmocka_unit_test_setup_teardown(incompressible_block_stored_raw, setup, teardown),
      cmocka_unit_test_setup_teardown(corrupt_compressed_block_detected, setup, teardown),
  };
  return cmocka_run_group_tests_name("engine_sstable", tests, NULL, NULL);
}
