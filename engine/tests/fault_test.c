/*
 * fault_test.c - I/O failures injected in-process through the I/O table
 * (env.h): the failed state (db.c D9) and recovery after ENOSPC/EIO.
 */
#include "test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;

static int setup(void **s) {
  dir = tu_tmpdir("fault");
  tu_fault_install();
  return 0;
}
static int teardown(void **s) {
  tu_fault_remove();
  tu_rmrf(dir);
  free(dir);
  return 0;
}

static int put(sdb *db, int i, int sync) {
  char k[32], v[64];
  snprintf(k, sizeof k, "key%05d", i);
  snprintf(v, sizeof v, "value-%d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
  return sdb_put(db, k, strlen(k), v, strlen(v), sync);
}

static void expect_range(sdb *db, int from, int to, int present) {
  char k[32], v[64];
  for (int i = from; i < to; i++) {
    snprintf(k, sizeof k, "key%05d", i);
    snprintf(v, sizeof v, "value-%d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
    tu_expect(db, k, present ? v : NULL);
  }
}

/* fdatasync of the WAL fails: the write reports the error, the handle is
 * failed (every later write SDB_EFAILED), and no fsync is ever retried. */
static void failed_fsync_enters_failed_state(void **s) {
  sdb *db = tu_open(dir, 0);
  for (int i = 0; i < 10; i++) assert_int_equal(put(db, i, 1), 0);
  tu_fault_set(TU_FDATASYNC, ".log", 1, EIO, 0);
  assert_int_equal(put(db, 10, 1), SDB_EIO);
  assert_int_equal(tu_fault_fired(), 1);
  assert_non_null(strstr(sdb_errmsg(db), "fdatasync"));
  assert_non_null(strstr(sdb_errmsg(db), ".log"));
  int syncs = tu_calls(TU_FDATASYNC) + tu_calls(TU_FSYNC);
  assert_int_equal(put(db, 11, 0), SDB_EFAILED);
  assert_int_equal(put(db, 12, 1), SDB_EFAILED);
  assert_int_equal(sdb_sync(db), SDB_EFAILED);
  assert_int_equal(sdb_flush(db), SDB_EFAILED);
  assert_int_equal(sdb_delete(db, "key00001", 8, 1), SDB_EFAILED);
  assert_non_null(strstr(sdb_errmsg(db), "fdatasync")); /* says why it failed */
  expect_range(db, 0, 10, 1);                             /* reads still work */
  assert_int_equal(sdb_close(db), 0);                     /* no sync on close either */
  assert_int_equal(tu_calls(TU_FDATASYNC) + tu_calls(TU_FSYNC), syncs);
  tu_fault_remove();
  db = tu_open(dir, 0);
  expect_range(db, 0, 10, 1);
  expect_range(db, 11, 13, 0);
  sdb_close(db);
}

/* The disk fills up in the middle of a WAL write (part of it written, then
 * ENOSPC): the write returns SDB_ENOSPC, the handle is failed, and the
 * database opens afterwards with every acknowledged write and without the
 * failed one. */
static void enospc_on_wal_write_keeps_acked_writes(void **s) {
  sdb *db = tu_open(dir, 0);
  for (int i = 0; i < 50; i++) assert_int_equal(put(db, i, i % 5 == 0), 0);
  tu_fault_set(TU_WRITE, ".log", 1, ENOSPC, 0);
  assert_int_equal(put(db, 50, 0), SDB_ENOSPC);
  assert_non_null(strstr(sdb_errmsg(db), "No space"));
  assert_int_equal(put(db, 51, 0), SDB_EFAILED);
  sdb_close(db);
  tu_fault_remove();
  db = tu_open(dir, 0);
  expect_range(db, 0, 50, 1);
  expect_range(db, 50, 52, 0);
  assert_int_equal(put(db, 52, 1), 0); /* usable again */
  sdb_close(db);
  char msg[256];
  assert_int_equal(sdb_check(dir, msg, sizeof msg), 0);
}

/* The MANIFEST edit of a flush cannot be synced: the handle fails, the WAL
 * is kept, and reopening recovers everything. */
static void manifest_fsync_failure_fails_handle(void **s) {
  sdb *db = tu_open(dir, 0);
  for (int i = 0; i < 100; i++) assert_int_equal(put(db, i, 0), 0);
  tu_fault_set(TU_FSYNC, "MANIFEST", 1, EIO, 0);
  assert_int_equal(sdb_flush(db), SDB_EIO);
  assert_non_null(strstr(sdb_errmsg(db), "MANIFEST"));
  assert_int_equal(put(db, 100, 0), SDB_EFAILED);
  sdb_close(db);
  tu_fault_remove();
  db = tu_open(dir, 0);
  expect_range(db, 0, 100, 1);
  sdb_close(db);
}

/* A table write failing (ENOSPC) fails only that flush: the table is removed,
 * the data stays in memtable + WAL, and the handle keeps working. */
static void table_write_enospc_fails_only_the_flush(void **s) {
  sdb *db = tu_open(dir, 0);
  for (int i = 0; i < 100; i++) assert_int_equal(put(db, i, 0), 0);
  tu_fault_set(TU_WRITE, ".sst", 1, ENOSPC, 1);
  assert_int_equal(sdb_flush(db), SDB_ENOSPC);
  assert_int_equal(tu_count(dir, ".sst"), 0);
  tu_fault_remove();
  tu_fault_install();
  assert_int_equal(put(db, 100, 1), 0);
  expect_range(db, 0, 101, 1);
  assert_int_equal(sdb_flush(db), 0);
  sdb_close(db);
  db = tu_open(dir, 0);
  expect_range(db, 0, 101, 1);
  sdb_close(db);
}

/* Background mode (D20): a table write failing fails the background flush;
 * the write that has to wait for that flush gets the error, the handle is not
 * failed, the data stays in the WAL of the immutable memtable, and once the
 * disk has room the next write retries the flush and goes on. */
static void background_flush_failure_fails_the_waiting_write_then_retries(void **s) {
  sdb_options o;
  sdb *db;
  int i, rc = 0, acked;
  sdb_options_init(&o);
  o.deterministic = 0;
  o.memtable_bytes = 4096;
  db = tu_open_opts(dir, &o);
  tu_fault_set(TU_WRITE, ".sst", 1, ENOSPC, 1);
  for (i = 0; i < 2000 && !(rc = put(db, i, 0)); i++) {
  }
  acked = i; /* puts 0..i-1 acked, put i failed */
  assert_int_equal(rc, SDB_ENOSPC);
  assert_true(tu_fault_fired());
  assert_non_null(strstr(sdb_errmsg(db), "background flush failed"));
  expect_range(db, 0, acked, 1); /* the pending memtable still answers reads */
  tu_fault_remove();
  tu_fault_install();
  for (i = acked; i < acked + 200; i++) assert_int_equal(put(db, i, 0), 0); /* retried, not failed */
  assert_int_equal(sdb_flush(db), 0);
  expect_range(db, 0, acked + 200, 1);
  assert_int_equal(sdb_close(db), 0);
  db = tu_open(dir, 0);
  expect_range(db, 0, acked + 200, 1);
  sdb_close(db);
}

/* Fault sweep: a workload with sync writes, flushes and a reopen is run once
 * per I/O call, failing exactly that call (EIO; ENOSPC for writes). Whatever
 * fails, a clean reopen must hold every acknowledged write and nothing that
 * was never written. */
static void every_io_failure_point_keeps_acked_writes(void **s) {
  int total, points = 0;
  /* count the calls of a clean run */
  tu_fault_global(0);
  {
    sdb *db = tu_open(dir, 2048);
    for (int i = 0; i < 60; i++) assert_int_equal(put(db, i, i % 3 == 0), 0);
    sdb_close(db);
    total = tu_global_calls();
  }
  tu_fault_remove();
  tu_rmrf(dir);
  free(dir);
  dir = NULL;
  for (int n = 1; n <= total; n++, points++) {
    char *d = tu_tmpdir("sweep");
    int acked = 0, rc = 0;
    sdb_options o;
    sdb *db = NULL;
    sdb_options_init(&o);
    o.memtable_bytes = 2048;
    tu_fault_install();
    tu_fault_global(n);
    if ((rc = sdb_open(d, &o, &db)) == 0) {
      for (int i = 0; i < 60; i++) {
        if ((rc = put(db, i, i % 3 == 0))) break;
        acked = i + 1;
      }
    }
    sdb_close(db);
    tu_fault_remove();
    db = tu_open(d, 2048);
    expect_range(db, 0, acked, 1);
    expect_range(db, acked + 1, 60, 0); /* the failed write may or may not be there */
    sdb_close(db);
    char msg[256];
    assert_int_equal(sdb_check(d, msg, sizeof msg), 0);
    tu_rmrf(d);
    free(d);
  }
  print_message("fault sweep: %d failure points\n", points);
  assert_true(points > 50);
  dir = tu_tmpdir("fault");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(failed_fsync_enters_failed_state, setup, teardown),
      cmocka_unit_test_setup_teardown(background_flush_failure_fails_the_waiting_write_then_retries, setup, teardown),
      cmocka_unit_test_setup_teardown(enospc_on_wal_write_keeps_acked_writes, setup, teardown),
      cmocka_unit_test_setup_teardown(manifest_fsync_failure_fails_handle, setup, teardown),
      cmocka_unit_test_setup_teardown(table_write_enospc_fails_only_the_flush, setup, teardown),
      cmocka_unit_test_setup_teardown(every_io_failure_point_keeps_acked_writes, setup, teardown),
  };
  return cmocka_run_group_tests_name("engine_fault", tests, NULL, NULL);
}
