/*
 * sstable_test.c - table builder and reader (docs/format/sstable.md).
 */
#include "test_util.h"

#include "sdb_int.h"
#include "sstable_format.h"
#include "table.h"
#include "env.h"

#include <errno.h>
#include <fcntl.h>
#include <xxhash.h>
#include <sys/mman.h>
#include <unistd.h>

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
  unlink(path); /* the builder creates its file O_EXCL: never over an existing one */
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
  unlink(path); /* the builder creates its file O_EXCL: never over an existing one */
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

/* Seeks to every key and to every gap between keys, before the first and
 * past the last, through the index decoded at open and through the index
 * block (t->ix hidden): both land on the first key >= the target. */
static void seek_lands_on_first_key_at_or_after(void **s) {
  int n = 3000;
  uint64_t size = build(n, 512, 16);
  sdb_table *t;
  sdb_buf k = {0};
  assert_int_equal(sdb__table_open(path, 7, size, &t, NULL), 0);
  assert_non_null(t->ix);
  assert_true(t->nblocks > 20);
  for (int pass = 0; pass < 2; pass++) {
    struct sdb_ixent *ix = t->ix;
    if (pass == 1) t->ix = NULL; /* the iterator walks the index block */
    sdb_iiter *it = sdb__table_iter(t);
    if (pass == 1) t->ix = ix;
    for (int j = -1; j <= 2 * n; j++) {
      char uk[32];
      snprintf(uk, sizeof uk, j < 0 ? "user-key-" : "user-key-%06d", j); /* j odd: between two keys */
      assert_int_equal(sdb__ikey(&k, uk, strlen(uk), SDB_MAX_SEQ, SDB_TYPE_SEEK), 0);
      it->ops->seek(it, k.p, k.len);
      assert_int_equal(it->ops->status(it), 0);
      int want = j < 0 ? 0 : (j + 1) / 2; /* index of the first even key >= j */
      if (want >= n) {
        assert_false(it->ops->valid(it));
        continue;
      }
      assert_true(it->ops->valid(it));
      size_t kn;
      const uint8_t *kk = it->ops->key(it, &kn);
      char wk[32];
      snprintf(wk, sizeof wk, "user-key-%06d", want * 2);
      assert_int_equal(kn, strlen(wk) + 8);
      assert_memory_equal(kk, wk, strlen(wk));
      if (want + 1 < n) { /* and next crosses into the following block when it must */
        it->ops->next(it);
        assert_true(it->ops->valid(it));
        kk = it->ops->key(it, &kn);
        snprintf(wk, sizeof wk, "user-key-%06d", (want + 1) * 2);
        assert_memory_equal(kk, wk, strlen(wk));
      }
    }
    it->ops->free(it);
  }
  sdb__buf_free(&k);
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

/* A data block whose restart array fills its whole contents (no entries, n > 1 restarts)
 * with a valid checksum: a get reports corruption instead of dividing by zero (the
 * restart prefetch took offsets modulo the entries' length, 0 here). */
static void block_of_only_restarts_is_corrupt_not_a_crash(void **s) {
  (void)s;
  sdb_tb tb;
  sdb_buf k = {0};
  uint64_t size;
  unsigned char blk[64];
  sdb_table *t;
  sdb_eb eb;
  void *v = NULL;
  size_t vn = 0;
  unlink(path);
  assert_int_equal(sdb__tb_open(&tb, path, 4096, 16, NULL), 0);
  ikey(&k, 0); /* 23 bytes: the block's contents are 3 + 23 + 2 (the entry) + 4 + 4 = 36 */
  assert_int_equal(sdb__tb_add(&tb, k.p, k.len, "v0", 2, NULL), 0);
  assert_int_equal(sdb__tb_finish(&tb, &size, NULL), 0);
  sdb__tb_free(&tb, 0);
  size_t L = 3 + k.len + 2 + 8;
  assert_int_equal(L % 4, 0);
  memset(blk, 0, sizeof blk);
  sdb__enc32(blk + L - 4, (uint32_t)((L - 4) / 4)); /* n = 8 restarts, all at 0, no entries */
  blk[L] = 0;                                         /* type raw */
  sdb__enc32(blk + L + 1, (uint32_t)XXH3_64bits(blk, L + 1));
  int fd = open(path, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, blk, L + 5, 0), (ssize_t)(L + 5));
  close(fd);
  assert_int_equal(sdb__table_open(path, 7, size, &t, NULL), 0);
  assert_int_equal(sdb__table_get(t, k.p, k.len, &v, &vn, &eb), SDB_ECORRUPT);
  assert_non_null(strstr(eb.msg, "000007.sst"));
  free(v);
  sdb__table_unref(t);
  sdb__buf_free(&k);
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


/* ---- reads through a mapping (mmap_reads) and through pread ----------------------- */
/* Opens the table at path under a table-file cache l (mmap_reads as given) and
 * a block cache c. */
static sdb_table *open_attached(uint64_t size, int mmap_reads, sdb_fdlru *l, sdb_cache **c) {
  sdb_table *t;
  assert_int_equal(sdb__table_open(path, 7, size, &t, NULL), 0);
  sdb__fdlru_init(l, 16);
  l->mmap_reads = mmap_reads;
  assert_non_null(*c = sdb__cache_new(64 * 1024));
  sdb__table_attach(t, *c, l);
  return t;
}
static void close_attached(sdb_table *t, sdb_fdlru *l, sdb_cache *c) {
  sdb__table_unref(t);
  assert_int_equal(l->open, 0);
  sdb__fdlru_destroy(l);
  sdb__cache_free(c);
}

/* Every key (present, absent, tombstone; newest and an older snapshot) gives
 * the same answer read through a mapping, through pread + block cache, and
 * through the two-level iterator lookup that tables with an undecodable index
 * use. A digest of all answers is compared. */
static uint64_t answers(sdb_table *t, int n, int iter_path) {
  uint64_t h = 0;
  sdb_buf k = {0};
  struct sdb_ixent *ix = t->ix;
  if (iter_path) t->ix = NULL;
  for (int j = 0; j < 2 * n + 2; j++) {
    char uk[32];
    snprintf(uk, sizeof uk, "user-key-%06d", j);
    for (int old = 0; old < 2; old++) {
      void *v = NULL;
      size_t vn = 0;
      assert_int_equal(sdb__ikey(&k, uk, strlen(uk), old ? (uint64_t)j / 2 + 1 : SDB_MAX_SEQ, SDB_TYPE_SEEK), 0);
      int rc = sdb__table_get(t, k.p, k.len, &v, &vn, NULL);
      assert_true(rc >= 0 && rc <= 2);
      h = h * 1000003 + (uint64_t)rc;
      if (rc == 1) {
        h = h * 1000003 + XXH3_64bits(v, vn);
        free(v);
      }
    }
  }
  t->ix = ix;
  sdb__buf_free(&k);
  return h;
}

static void mapped_and_pread_reads_agree(void **s) {
  for (int z = 0; z < 2; z++) {
    int n = z ? 2000 : 5000;
    sdb_tb st;
    uint64_t size = z ? build_z(n, 200, 0, &st) : build(n, 1024, 16), want = 0;
    for (int mm = 0; mm < 2; mm++) {
      sdb_fdlru l;
      sdb_cache *c;
      sdb_table *t = open_attached(size, mm, &l, &c);
      assert_non_null(t->ix);
      assert_int_equal(t->nix, t->nblocks);
      uint64_t fast = answers(t, n, 0), slow = answers(t, n, 1), again = answers(t, n, 0);
      assert_true(fast == slow && fast == again);
      if (mm == 0) want = fast;
      assert_true(fast == want);
      assert_int_equal(sdb__table_check(t, NULL, NULL, NULL, NULL), 0);
      assert_int_equal(l.maps, (uint64_t)mm); /* one mapping, kept */
      assert_int_equal(l.map_failures, 0);
      uint64_t hits, misses, ev;
      size_t usage, nent;
      sdb__cache_stats(c, &hits, &misses, &ev, &usage, &nent);
      if (mm && !z) assert_int_equal(hits + misses, 0); /* raw blocks never touch the block cache */
      if (z) assert_true(hits > 0);                     /* inflated blocks are cached either way */
      close_attached(t, &l, c);
    }
  }
}

/* A flipped byte in a data block of a mapped table: get and check both report
 * the file and the block's offset, every time (a failed block is never marked
 * verified). */
static void corrupt_block_in_mapped_table_reported(void **s) {
  uint64_t size = build(2000, 1024, 16);
  sdb_fdlru l;
  sdb_cache *c;
  sdb_eb eb;
  sdb_buf k = {0};
  void *v = NULL;
  size_t vn, j;
  char want[64];
  assert_int_equal(tu_xor_byte(path, 3000, 0x04), 0);
  sdb_table *t = open_attached(size, 1, &l, &c);
  assert_non_null(t->ix);
  for (j = 0; j < t->nix && !(t->ix[j].off <= 3000 && 3000 < t->ix[j].off + t->ix[j].len + SDB_SST_TRAILER); j++) {
  }
  assert_true(j < t->nix);
  snprintf(want, sizeof want, "block at offset %llu: checksum mismatch", (unsigned long long)t->ix[j].off);
  /* the block's last key, looked up at the newest snapshot */
  assert_int_equal(sdb__ikey(&k, t->ixkeys + t->ix[j].koff, t->ix[j].klen - 8, SDB_MAX_SEQ, SDB_TYPE_SEEK), 0);
  for (int round = 0; round < 2; round++) {
    memset(&eb, 0, sizeof eb);
    assert_int_equal(sdb__table_get(t, k.p, k.len, &v, &vn, &eb), SDB_ECORRUPT);
    assert_non_null(strstr(eb.msg, "000007.sst"));
    assert_non_null(strstr(eb.msg, want));
  }
  assert_int_equal(l.maps, 1);
  assert_int_equal(t->verified[j], 0);
  memset(&eb, 0, sizeof eb);
  assert_int_equal(sdb__table_check(t, NULL, NULL, NULL, &eb), SDB_ECORRUPT);
  assert_non_null(strstr(eb.msg, want));
  /* blocks before it were read and verified; the ones in front still read */
  assert_int_equal(sdb__ikey(&k, t->ixkeys + t->ix[0].koff, t->ix[0].klen - 8, SDB_MAX_SEQ, SDB_TYPE_SEEK), 0);
  assert_true(sdb__table_get(t, k.p, k.len, &v, &vn, &eb) > 0);
  free(v);
  assert_int_equal(t->verified[0], 1);
  sdb__buf_free(&k);
  close_attached(t, &l, c);
}

/* An iterator keeps reading a mapped table after its file is unlinked, and
 * an obsolete table's file goes only at the last unref (the iterator's). */
static void unlinked_table_stays_readable(void **s) {
  int n = 5000;
  uint64_t size = build(n, 1024, 16);
  sdb_fdlru l;
  sdb_cache *c;
  sdb_table *t = open_attached(size, 1, &l, &c);
  sdb_iiter *it = sdb__table_iter(t);
  int i = 0;
  it->ops->seek_first(it);
  for (; it->ops->valid(it) && i < 100; it->ops->next(it)) i++;
  assert_int_equal(unlink(path), 0); /* behind the engine's back: the mapping keeps the inode */
  for (; it->ops->valid(it); it->ops->next(it)) i++;
  assert_int_equal(it->ops->status(it), 0);
  assert_int_equal(i, n);
  assert_int_equal(answers(t, n, 0), answers(t, n, 1));
  it->ops->free(it);
  close_attached(t, &l, c);

  size = build(n, 1024, 16);
  t = open_attached(size, 1, &l, &c);
  it = sdb__table_iter(t);
  it->ops->seek_first(it);
  t->obsolete = 1;     /* a MANIFEST edit removed it (db.c D12) */
  sdb__table_ref(t);   /* close_attached's */
  sdb__table_unref(t); /* the version's ref: the iterator still holds one */
  assert_true(tu_file_size(path) > 0);
  for (i = 0; it->ops->valid(it); it->ops->next(it)) i++;
  assert_int_equal(it->ops->status(it), 0);
  assert_int_equal(i, n);
  it->ops->free(it);
  assert_true(tu_file_size(path) > 0);
  close_attached(t, &l, c); /* the last unref unmaps and unlinks */
  assert_true(tu_file_size(path) < 0);
}

static int mmap_calls;
static void *failing_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off) {
  (void)a, (void)n, (void)prot, (void)flags, (void)fd, (void)off;
  mmap_calls++;
  errno = ENOMEM;
  return MAP_FAILED;
}

/* mmap fails: the table reads with pread for good, with the same answers,
 * and the table-file cache records why. */
static void failed_mmap_falls_back_to_pread(void **s) {
  int n = 3000;
  uint64_t size = build(n, 1024, 16), want;
  sdb_fdlru l;
  sdb_cache *c;
  static struct sdb_env env;
  sdb_table *t = open_attached(size, 0, &l, &c);
  want = answers(t, n, 0);
  close_attached(t, &l, c);
  env = *sdb__env_default();
  env.mmap = failing_mmap;
  mmap_calls = 0;
  sdb__env_set(&env);
  t = open_attached(size, 1, &l, &c);
  assert_true(answers(t, n, 0) == want);
  assert_int_equal(sdb__table_check(t, NULL, NULL, NULL, NULL), 0);
  assert_int_equal(mmap_calls, 1); /* tried once, not at every read */
  assert_int_equal(l.maps, 1);
  assert_int_equal(l.map_failures, 1);
  assert_int_equal(l.map_errno, ENOMEM);
  assert_int_equal(t->map_err, ENOMEM);
  assert_null(t->map);
  close_attached(t, &l, c);
  sdb__env_set(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(build_then_iterate_and_get, setup, teardown),
      cmocka_unit_test_setup_teardown(seek_lands_on_first_key_at_or_after, setup, teardown),
      cmocka_unit_test_setup_teardown(prefix_compression_shrinks_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(corrupt_block_detected_with_offset, setup, teardown),
      cmocka_unit_test_setup_teardown(block_of_only_restarts_is_corrupt_not_a_crash, setup, teardown),
      cmocka_unit_test_setup_teardown(truncated_or_bad_footer_rejected, setup, teardown),
      cmocka_unit_test_setup_teardown(bloom_filter_rules_out_absent_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(zlib_blocks_round_trip_and_shrink, setup, teardown),
      cmocka_unit_test_setup_teardown(incompressible_block_stored_raw, setup, teardown),
      cmocka_unit_test_setup_teardown(corrupt_compressed_block_detected, setup, teardown),
      cmocka_unit_test_setup_teardown(mapped_and_pread_reads_agree, setup, teardown),
      cmocka_unit_test_setup_teardown(corrupt_block_in_mapped_table_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(unlinked_table_stays_readable, setup, teardown),
      cmocka_unit_test_setup_teardown(failed_mmap_falls_back_to_pread, setup, teardown),
  };
  return cmocka_run_group_tests_name("engine_sstable", tests, NULL, NULL);
}
