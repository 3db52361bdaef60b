/*
 * wal_test.c - the record framing and the WAL's recovery rule (log.c L1-L3,
 * docs/format/wal.md).
 */
#include "test_util.h"

#include <unistd.h>

#include "log_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TU_DIR_FIXTURE("wal")


static int never(void *a, const uint8_t *r, size_t n, uint64_t x) { return 0; }
static int always(void *a, const uint8_t *r, size_t n, uint64_t x) { return 1; }

static size_t rec_len(int i) { return i % 7 == 3 ? 70000 + (size_t)i : (size_t)(i * 37 % 300); }
static void rec_fill(uint8_t *p, size_t n, int i) {
  for (size_t j = 0; j < n; j++) p[j] = (uint8_t)(i * 131 + j * 7);
}

/* Writes records 0..n-1; offsets[i] = start offset of record i (header = -1). */
static char *write_log(int n, uint64_t *ends) {
  sdb_logw w;
  char *p = tu_path(dir, "000001.log");
  unlink(p); /* logs are created O_EXCL: never over an existing file */
  assert_int_equal(sdb__logw_create(&w, p, SDB_WAL_MAGIC, 1, NULL), 0);
  for (int i = 0; i < n; i++) {
    size_t len = rec_len(i);
    uint8_t *b = malloc(len + 1);
    rec_fill(b, len, i);
    /* split across the two pieces to exercise the concatenation */
    assert_int_equal(sdb__logw_add(&w, b, len / 3, b + len / 3, len - len / 3, NULL), 0);
    if (ends) ends[i] = w.off;
    free(b);
  }
  sdb__logw_close(&w);
  return p;
}

/* Reads the log; returns number of data records seen (after the header), checking contents. */
static int read_log(const char *p, sdb_log_proves proves, int paranoid, int *rc_out, sdb_logr *keep) {
  sdb_logr r;
  sdb_eb eb = {{0}};
  const uint8_t *rec;
  size_t n;
  int got, i = -1;
  assert_int_equal(sdb__logr_open(&r, p, proves, NULL, paranoid, &eb), 0);
  while ((got = sdb__logr_next(&r, &rec, &n, &eb)) == 1) {
    if (i >= 0) {
      assert_int_equal(n, rec_len(i));
      uint8_t *b = malloc(n + 1);
      rec_fill(b, n, i);
      assert_memory_equal(rec, b, n);
      free(b);
    } else {
      uint64_t num;
      assert_int_equal(sdb__log_check_header(p, rec, n, SDB_WAL_MAGIC, &num, NULL), 0);
      assert_int_equal(num, 1);
    }
    i++;
  }
  *rc_out = got;
  if (keep) {
    *keep = r;
    keep->win = NULL;
    keep->rec.p = NULL;
  }
  if (got < 0 && keep) snprintf(keep->tail_why, sizeof keep->tail_why, "%.95s", eb.msg);
  sdb__logr_close(&r);
  return i < 0 ? 0 : i;
}

static void records_roundtrip_across_blocks(void **s) {
  uint64_t ends[40];
  int rc;
  char *p = write_log(40, ends);
  assert_true(tu_file_size(p) > 3 * SDB_LOG_BLOCK);
  assert_int_equal(read_log(p, never, 1, &rc, NULL), 40);
  assert_int_equal(rc, 0);
  free(p);
}

/* Cutting the file anywhere inside the last record: the reader returns every
 * earlier record and ends cleanly where the torn record began. */
static void torn_tail_ignored(void **s) {
  uint64_t ends[12];
  int rc;
  char *p = write_log(12, ends);
  for (uint64_t cut = ends[10] + 1; cut < ends[11]; cut += (ends[11] - ends[10]) / 37 + 1) {
    sdb_logr r;
    char *q = write_log(12, ends);
    assert_int_equal(tu_truncate(q, (long)cut), 0);
    assert_int_equal(read_log(q, always, 1, &rc, &r), 11);
    assert_int_equal(rc, 0);
    assert_true(r.tail_off == ends[10] || r.tail_off >= ends[10]); /* damage at/after the last intact end */
    assert_int_equal(r.valid_end, ends[10]);
    free(q);
  }
  free(p);
}

static void zeroed_tail_ignored(void **s) {
  uint64_t ends[5];
  int rc;
  sdb_logr r;
  char *p = write_log(5, ends);
  static uint8_t z[5000];
  assert_int_equal(tu_append_file(p, z, sizeof z), 0);
  assert_int_equal(read_log(p, always, 1, &rc, &r), 5);
  assert_int_equal(rc, 0);
  assert_int_equal(r.valid_end, ends[4]);
  free(p);
}

/* A bad checksum followed by an intact record that proves the damaged one had
 * been synced: corruption, with file and offset. */
static void checksum_mismatch_mid_log_reported(void **s) {
  uint64_t ends[6];
  int rc;
  sdb_logr r;
  char *p = write_log(6, ends);
  char want[64];
  assert_int_equal(tu_xor_byte(p, (long)ends[1] + 10, 0x40), 0); /* inside record 2 */
  assert_int_equal(read_log(p, always, 1, &rc, &r), 2);
  assert_int_equal(rc, SDB_ECORRUPT);
  snprintf(want, sizeof want, "offset %llu ", (unsigned long long)ends[1]);
  assert_non_null(strstr(r.tail_why, want));
  assert_non_null(strstr(r.tail_why, "000001.log"));
  free(p);
}

/* The same damage when no later record proves it was synced (e.g. a power cut
 * kept a later unsynced sector but not this one): a clean end at the damage. */
static void unproven_damage_is_a_torn_tail(void **s) {
  uint64_t ends[6];
  int rc;
  sdb_logr r;
  char *p = write_log(6, ends);
  assert_int_equal(tu_xor_byte(p, (long)ends[1] + 10, 0x40), 0);
  assert_int_equal(read_log(p, never, 1, &rc, &r), 2);
  assert_int_equal(rc, 0);
  assert_int_equal(r.tail_off, ends[1]);
  free(p);
}

static void paranoid_off_skips_proven_corruption(void **s) {
  uint64_t ends[6];
  int rc;
  sdb_logr r;
  sdb_eb eb;
  const uint8_t *rec;
  size_t n;
  char *p = write_log(6, ends);
  assert_int_equal(tu_xor_byte(p, (long)ends[1] + 10, 0x40), 0);
  assert_int_equal(sdb__logr_open(&r, p, always, NULL, 0, &eb), 0);
  int count = 0;
  while ((rc = sdb__logr_next(&r, &rec, &n, &eb)) == 1) count++;
  assert_int_equal(rc, 0);
  assert_int_equal(count, 1 + 5); /* header + every record but the damaged one */
  assert_int_equal(r.skipped, ends[2] - ends[1]);
  sdb__logr_close(&r);
  free(p);
}

/* L3: a bit flipped by one read only is not mistaken for damage. */
static void transient_read_flip_is_reread(void **s) {
  int rc;
  char *p = write_log(3, NULL);
  tu_fault_install();
  tu_flip_next_pread("000001.log");
  assert_int_equal(read_log(p, always, 1, &rc, NULL), 3);
  assert_int_equal(rc, 0);
  assert_true(tu_calls(TU_PREAD) >= 2);
  tu_fault_remove();
  free(p);
}

static void empty_file_is_an_empty_log(void **s) {
  int rc;
  char *p = tu_path(dir, "000001.log");
  assert_int_equal(tu_write_file(p, "", 0), 0);
  assert_int_equal(read_log(p, always, 1, &rc, NULL), 0);
  assert_int_equal(rc, 0);
  free(p);
}

/* Exactly 7 bytes left in a block: a zero-length FIRST fragment, then the rest. */
static void block_trailer_edge_cases(void **s) {
  char *p = tu_path(dir, "000001.log");
  for (int left = 0; left <= 8; left++) {
    sdb_logw w;
    sdb_logr r;
    const uint8_t *rec;
    size_t n;
    unlink(p); /* logs are created O_EXCL */
    assert_int_equal(sdb__logw_create(&w, p, SDB_WAL_MAGIC, 1, NULL), 0);
    size_t fill = SDB_LOG_BLOCK - (size_t)w.off - SDB_LOG_HDR - (size_t)left;
    uint8_t *b = calloc(1, fill + 100);
    assert_int_equal(sdb__logw_add(&w, b, fill, NULL, 0, NULL), 0);
    assert_int_equal(w.off, SDB_LOG_BLOCK - (uint64_t)left);
    memset(b, 0xab, 100);
    assert_int_equal(sdb__logw_add(&w, b, 100, NULL, 0, NULL), 0);
    sdb__logw_close(&w);
    assert_int_equal(sdb__logr_open(&r, p, always, NULL, 1, NULL), 0);
    assert_int_equal(sdb__logr_next(&r, &rec, &n, NULL), 1);
    assert_int_equal(sdb__logr_next(&r, &rec, &n, NULL), 1);
    assert_int_equal(n, fill);
    assert_int_equal(sdb__logr_next(&r, &rec, &n, NULL), 1);
    assert_int_equal(n, 100);
    assert_int_equal(rec[99], 0xab);
    assert_int_equal(sdb__logr_next(&r, &rec, &n, NULL), 0);
    assert_int_equal(r.tail_off, r.size);
    sdb__logr_close(&r);
    free(b);
  }
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(records_roundtrip_across_blocks, setup, teardown),
      cmocka_unit_test_setup_teardown(torn_tail_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(zeroed_tail_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(checksum_mismatch_mid_log_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(unproven_damage_is_a_torn_tail, setup, teardown),
      cmocka_unit_test_setup_teardown(paranoid_off_skips_proven_corruption, setup, teardown),
      cmocka_unit_test_setup_teardown(transient_read_flip_is_reread, setup, teardown),
      cmocka_unit_test_setup_teardown(empty_file_is_an_empty_log, setup, teardown),
      cmocka_unit_test_setup_teardown(block_trailer_edge_cases, setup, teardown),
  };
  return cmocka_run_group_tests_name("engine_wal", tests, NULL, NULL);
}
