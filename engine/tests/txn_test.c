/*
 * txn_test.c - optimistic transactions: own writes visible, conflicts
 * detected (read-write and write-write), and the concurrent bank test:
 * threads move money between accounts with retry-on-conflict while auditors
 * sum every account in one transaction; the total never changes. Flushes and
 * compactions run underneath (small memtable). Group commit: concurrent sync
 * writers share WAL writes. LABELS threads: run by TSan.
 */
#include "test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCOUNTS 64
#define START 1000
#define THREADS 4

TU_DIR_FIXTURE("txn")


static sdb *open_db(void) {
  sdb_options o;
  sdb_options_init(&o);
  o.memtable_bytes = 16384;
  o.level_base_bytes = 65536;
  o.target_file_bytes = 16384;
  o.block_bytes = 512;
  return tu_open_opts(dir, &o);
}

static long get_num(sdb_txn *t, int acct, int *rc) {
  char k[16], buf[32];
  void *v;
  size_t vn;
  snprintf(k, sizeof k, "acct%03d", acct);
  if ((*rc = sdb_txn_get(t, k, strlen(k), &v, &vn))) return 0;
  snprintf(buf, sizeof buf, "%.*s", (int)vn, (char *)v);
  free(v);
  return atol(buf);
}

static int put_num(sdb_txn *t, int acct, long val) {
  char k[16], v[32];
  snprintf(k, sizeof k, "acct%03d", acct);
  snprintf(v, sizeof v, "%ld", val);
  return sdb_txn_put(t, k, strlen(k), v, strlen(v));
}

static void own_writes_and_conflicts(void **s) {
  sdb *db = open_db();
  sdb_txn *a, *b;
  void *v;
  size_t vn;
  int rc;
  assert_int_equal(sdb_put(db, "x", 1, "1", 1, 0), 0);
  assert_int_equal(sdb_txn_begin(db, &a), 0);
  assert_int_equal(sdb_txn_put(a, "x", 1, "2", 1), 0);
  assert_int_equal(sdb_txn_get(a, "x", 1, &v, &vn), 0); /* own write */
  assert_memory_equal(v, "2", 1);
  free(v);
  assert_int_equal(sdb_get(db, "x", 1, &v, &vn), 0); /* not visible outside before commit */
  assert_memory_equal(v, "1", 1);
  free(v);
  assert_int_equal(sdb_txn_commit(a, 0), 0);
  /* read-write conflict: b reads y, someone writes y, b commits -> conflict, nothing written */
  assert_int_equal(sdb_txn_begin(db, &b), 0);
  assert_int_equal(sdb_txn_get(b, "y", 1, &v, &vn), SDB_ENOTFOUND);
  assert_int_equal(sdb_txn_put(b, "z", 1, "b", 1), 0);
  assert_int_equal(sdb_put(db, "y", 1, "other", 5, 0), 0);
  assert_int_equal(sdb_txn_commit(b, 0), SDB_ECONFLICT);
  assert_int_equal(sdb_get(db, "z", 1, &v, &vn), SDB_ENOTFOUND);
  /* write-write conflict, also when the other write was flushed to a table */
  assert_int_equal(sdb_txn_begin(db, &b), 0);
  assert_int_equal(sdb_txn_delete(b, "x", 1), 0);
  assert_int_equal(sdb_put(db, "x", 1, "3", 1, 0), 0);
  assert_int_equal(sdb_flush(db), 0);
  assert_int_equal(sdb_txn_commit(b, 0), SDB_ECONFLICT);
  /* no conflict on untouched keys */
  assert_int_equal(sdb_txn_begin(db, &b), 0);
  assert_int_equal(sdb_txn_put(b, "w", 1, "ok", 2), 0);
  assert_int_equal(sdb_put(db, "unrelated", 9, "1", 1, 0), 0);
  assert_int_equal(sdb_txn_commit(b, 0), 0);
  assert_int_equal(sdb_get(db, "w", 1, &v, &vn), 0);
  free(v);
  (void)rc;
  sdb_close(db);
}

typedef struct worker {
  sdb *db;
  int id, transfers, done;
  long commits, conflicts, audits, bad_audits;
} worker;

static int stop_auditors;

static void *transfer(void *p) {
  worker *w = p;
  uint64_t x = (uint64_t)w->id * 0x9E3779B97F4A7C15ull | 1;
  for (int n = 0; n < w->transfers;) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int a = (int)(x % ACCOUNTS), b = (int)((x >> 20) % ACCOUNTS), rc, rc2;
    long amount = (long)((x >> 40) % 50) + 1;
    if (a == b) continue;
    sdb_txn *t;
    if (sdb_txn_begin(w->db, &t)) abort();
    long va = get_num(t, a, &rc), vb = get_num(t, b, &rc2);
    if (rc || rc2) fprintf(stderr, "get: %d %d %s\n", rc, rc2, sdb_errmsg(w->db)), abort();
    if (va < amount) { /* insufficient funds: nothing to do, count it as a transfer */
      sdb_txn_rollback(t);
      n++;
      continue;
    }
    if (put_num(t, a, va - amount) || put_num(t, b, vb + amount)) abort();
    rc = sdb_txn_commit(t, 0);
    if (rc == 0) {
      w->commits++;
      n++;
    } else if (rc == SDB_ECONFLICT) {
      w->conflicts++; /* retry */
    } else {
      fprintf(stderr, "commit: %s: %s\n", sdb_strerror(rc), sdb_errmsg(w->db));
      abort();
    }
  }
  return NULL;
}

static void *audit(void *p) {
  worker *w = p;
  while (!__atomic_load_n(&stop_auditors, __ATOMIC_ACQUIRE)) {
    sdb_txn *t;
    long total = 0;
    int rc;
    if (sdb_txn_begin(w->db, &t)) abort();
    for (int i = 0; i < ACCOUNTS; i++) {
      total += get_num(t, i, &rc);
      if (rc) abort();
    }
    sdb_txn_rollback(t);
    w->audits++;
    if (total != (long)ACCOUNTS * START) w->bad_audits++;
  }
  return NULL;
}

/* THREADS x SDB_BANK_TRANSFERS (default 5000) transfers. */
static void bank_total_constant_under_concurrent_transfers(void **s) {
  const char *e = getenv("SDB_BANK_TRANSFERS");
  int per = e ? atoi(e) : 5000;
  sdb *db = open_db();
  pthread_t th[THREADS], aud;
  worker w[THREADS], a = {0};
  long commits = 0, conflicts = 0, total = 0;
  char k[16], v[16];
  for (int i = 0; i < ACCOUNTS; i++) {
    snprintf(k, sizeof k, "acct%03d", i);
    snprintf(v, sizeof v, "%d", START);
    assert_int_equal(sdb_put(db, k, strlen(k), v, strlen(v), 0), 0);
  }
  a.db = db;
  pthread_create(&aud, NULL, audit, &a);
  for (int i = 0; i < THREADS; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].db = db, w[i].id = i + 1, w[i].transfers = per;
    pthread_create(&th[i], NULL, transfer, &w[i]);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL), commits += w[i].commits, conflicts += w[i].conflicts;
  __atomic_store_n(&stop_auditors, 1, __ATOMIC_RELEASE);
  pthread_join(aud, NULL);
  long compactions = atol(tu_stat(db, "compactions"));
  assert_true(compactions > 0);
  sdb_close(db);
  db = open_db(); /* and after a reopen */
  for (int i = 0; i < ACCOUNTS; i++) {
    void *val;
    size_t vn;
    snprintf(k, sizeof k, "acct%03d", i);
    assert_int_equal(sdb_get(db, k, strlen(k), &val, &vn), 0);
    snprintf(v, sizeof v, "%.*s", (int)vn, (char *)val);
    free(val);
    assert_true(atol(v) >= 0);
    total += atol(v);
  }
  print_message("bank: %d threads x %d transfers: %ld commits, %ld conflicts retried, %ld audits (%ld bad), "
                "total %ld (expected %d), %ld compactions underneath\n",
                THREADS, per, commits, conflicts, a.audits, a.bad_audits, total, ACCOUNTS * START, compactions);
  assert_int_equal(total, (long)ACCOUNTS * START);
  assert_int_equal(a.bad_audits, 0);
  assert_true(commits > THREADS * per / 2);
  sdb_close(db);
}

typedef struct gw {
  sdb *db;
  int id;
} gw;

static void *sync_writer(void *p) {
  gw *g = p;
  char k[32], v[32];
  for (int i = 0; i < 300; i++) {
    snprintf(k, sizeof k, "w%d-%04d", g->id, i);
    snprintf(v, sizeof v, "v%d", i);
    if (sdb_put(g->db, k, strlen(k), v, strlen(v), 1)) abort();
  }
  return NULL;
}

/* Group commit: 8 threads doing sync puts; every put reads back after a
 * reopen, and there were fewer WAL writes (groups) than puts. */
static void concurrent_sync_writes_are_grouped(void **s) {
  pthread_t th[8];
  gw g[8];
  char k[32], v[32], st[8192], *p;
  sdb *db = open_db();
  for (int i = 0; i < 8; i++) g[i].db = db, g[i].id = i, pthread_create(&th[i], NULL, sync_writer, &g[i]);
  for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
  assert_int_equal(sdb_stats(db, st, sizeof st), 0);
  assert_non_null(p = strstr(st, "\nwrite_groups: "));
  long groups = atol(p + 15);
  print_message("group commit: 2400 sync puts from 8 threads in %ld WAL writes\n", groups);
  assert_true(groups < 2400);
  sdb_close(db);
  db = open_db();
  for (int t = 0; t < 8; t++)
    for (int i = 0; i < 300; i++) {
      void *val;
      size_t vn;
      snprintf(k, sizeof k, "w%d-%04d", t, i);
      snprintf(v, sizeof v, "v%d", i);
      assert_int_equal(sdb_get(db, k, strlen(k), &val, &vn), 0);
      assert_int_equal(vn, strlen(v));
      assert_memory_equal(val, v, vn);
      free(val);
    }
  sdb_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(own_writes_and_conflicts, setup, teardown),
      cmocka_unit_test_setup_teardown(bank_total_constant_under_concurrent_transfers, setup, teardown),
      cmocka_unit_test_setup_teardown(concurrent_sync_writes_are_grouped, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
