/*
 * decoder_fuzz_test.c - seeded mutation test of every decoder: a small
 * database's WAL, MANIFEST, CURRENT and tables get random bit flips, byte
 * overwrites and truncations; open, get, scan, check and dump must return
 * cleanly (0 or an SDB_E* code, never crash, hang or read out of bounds:
 * run under ASan), and damage is never taken for good data silently:
 *  - any change to a table (flip, overwrite, truncation) fails check;
 *  - after a change to a table, CURRENT, or a flip/overwrite in the WAL
 *    (closed cleanly: its close marker proves every record synced, D19),
 *    every get and the scan either fail or give exactly the original data.
 * Not asserted: a truncated WAL or MANIFEST is a torn tail (a crash looks
 * the same), and damage to the last MANIFEST record is one too
 * (docs/format/wal.md "Limit"); they may open to an older state.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include "tools.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rnd_state;
static uint64_t rnd(void) {
  uint64_t z = (rnd_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void make_db(const char *d) {
  sdb *db = tu_open(d, 8 << 10);
  char k[32], v[200];
  for (int i = 0; i < 400; i++) {
    snprintf(k, sizeof k, "k%04d", (i * 37) % 300);
    snprintf(v, sizeof v, "%0*d", 10 + i % 150, i);
    assert_int_equal(sdb_put(db, k, strlen(k), v, strlen(v), i % 7 == 0), 0);
    if (i % 50 == 0) assert_int_equal(sdb_delete(db, k, strlen(k), 0), 0);
  }
  sdb_close(db);
}

static int list_files(const char *d, char names[][64], int max) {
  DIR *dd = opendir(d);
  struct dirent *e;
  int n = 0;
  while (dd && (e = readdir(dd)) && n < max)
    if (e->d_name[0] != '.' && strcmp(e->d_name, "LOCK")) snprintf(names[n++], 64, "%s", e->d_name);
  if (dd) closedir(dd);
  return n;
}

static void copy_dir(const char *from, const char *to) {
  char names[64][64];
  int n = list_files(from, names, 64);
  for (int i = 0; i < n; i++) {
    char *a = tu_path(from, names[i]), *b = tu_path(to, names[i]);
    long sz = tu_file_size(a);
    char *buf = malloc((size_t)sz + 1);
    int fd = open(a, O_RDONLY);
    assert_int_equal(read(fd, buf, (size_t)sz), sz);
    close(fd);
    assert_int_equal(tu_write_file(b, buf, (size_t)sz), 0);
    free(buf), free(a), free(b);
  }
}

static int valid_rc(int rc) { return rc == 0 || rc == SDB_ECORRUPT || rc == SDB_ENOTFOUND; }

#define NKEYS 300
static char model_val[NKEYS][200];
static int model_has[NKEYS];
static int exact_reads; /* gets of damaged databases compared with the model */

static void key_of(char *k, size_t n, int i) { snprintf(k, n, "k%04d", i); }

/* What the intact database holds: read from a copy (an open replays and
 * rewrites, so never the base itself). */
static void model_read(const char *base) {
  char *d = tu_tmpdir("fuzz-model");
  copy_dir(base, d);
  sdb *db = tu_open(d, 8 << 10);
  int present = 0;
  for (int i = 0; i < NKEYS; i++) {
    char k[32];
    void *v;
    size_t vn;
    key_of(k, sizeof k, i);
    int rc = sdb_get(db, k, strlen(k), &v, &vn);
    assert_true(rc == 0 || rc == SDB_ENOTFOUND);
    model_has[i] = rc == 0;
    if (rc == 0) {
      assert_true(vn < sizeof model_val[i]);
      memcpy(model_val[i], v, vn);
      model_val[i][vn] = 0;
      free(v);
      present++;
    }
  }
  assert_true(present > 100 && present < NKEYS); /* some deleted, most there */
  sdb_close(db);
  tu_rmrf(d);
  free(d);
}

/* Reads every key and scans; 1 if some read failed (an error code), else
 * 0. With exact, every answer must be the model's. */
static int read_all(sdb *db, int exact, const char *what) {
  int failed = 0;
  for (int i = 0; i < NKEYS; i++) {
    char k[32];
    void *v;
    size_t vn;
    key_of(k, sizeof k, i);
    int g = sdb_get(db, k, strlen(k), &v, &vn);
    assert_true(valid_rc(g));
    if (g == SDB_ECORRUPT) {
      failed = 1;
      continue;
    }
    if (exact && (g == 0) != model_has[i]) fail_msg("%s: %s silently %s", what, k, g ? "lost" : "resurrected");
    if (exact && g == 0 && (vn != strlen(model_val[i]) || memcmp(v, model_val[i], vn)))
      fail_msg("%s: %s has a wrong value, silently", what, k);
    exact_reads += exact;
    if (g == 0) free(v);
  }
  sdb_iter *it;
  int n = 0, present = 0;
  assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
  for (; sdb_iter_valid(it); sdb_iter_next(it)) n++;
  int st = sdb_iter_status(it);
  assert_true(valid_rc(st));
  sdb_iter_free(it);
  for (int i = 0; i < NKEYS; i++) present += model_has[i];
  if (st) return 1;
  if (exact && n != present) fail_msg("%s: scan gave %d keys, not %d, silently", what, n, present);
  return failed;
}

static void mutated_files_never_crash_any_decoder(void **s) {
  char *base = tu_tmpdir("fuzz-base");
  char names[64][64];
  make_db(base);
  model_read(base);
  int nfiles = list_files(base, names, 64);
  int opened = 0, corrupt = 0, sst_checked = 0, kinds[3] = {0};
  FILE *devnull = fopen("/dev/null", "w");
  rnd_state = 42;
  for (int iter = 0; iter < 400; iter++) {
    char *d = tu_tmpdir("fuzz");
    copy_dir(base, d);
    const char *victim = names[rnd() % (uint64_t)nfiles];
    char *p = tu_path(d, victim);
    long sz = tu_file_size(p);
    int kind = (int)(rnd() % 3);
    char what[160];
    snprintf(what, sizeof what, "%s %s", victim, kind == 0 ? "bit flip" : kind == 1 ? "8 bytes overwritten" : "truncated");
    assert_true(sz > 0);
    if (kind == 0) {
      assert_int_equal(tu_xor_byte(p, (long)(rnd() % (uint64_t)sz), (unsigned char)(1u << (rnd() % 8))), 0);
    } else if (kind == 1) {
      for (int j = 0; j < 8; j++) tu_xor_byte(p, (long)(rnd() % (uint64_t)sz), (unsigned char)(rnd() | 1));
    } else {
      long to = (long)(rnd() % (uint64_t)sz); /* shorter than it was: a change */
      assert_int_equal(tu_truncate(p, to), 0);
      assert_int_equal(tu_file_size(p), to);
    }
    kinds[kind]++;
    int sst = strstr(victim, ".sst") != NULL, wal = strstr(victim, ".log") != NULL;
    int exact = sst || strstr(victim, "CURRENT") || (wal && kind != 2);
    char msg[512];
    int crc = sdb_check(d, msg, sizeof msg);
    assert_true(valid_rc(crc));
    if (sst) { /* check reads every byte of every live table */
      if (crc != SDB_ECORRUPT) fail_msg("%s: check passed: %s", what, msg);
      sst_checked++;
    }
    assert_true(valid_rc(sdb__dump_file(p, devnull, msg, sizeof msg)) || strstr(victim, "CURRENT"));
    sdb_options o;
    sdb *db = NULL;
    sdb_options_init(&o);
    o.create_if_missing = 0;
    int rc = sdb_open(d, &o, &db);
    assert_true(valid_rc(rc));
    if (rc == 0) {
      opened++;
      read_all(db, exact, what);
    } else {
      corrupt++;
      if (getenv("FUZZ_VERBOSE")) print_message("%s: %s\n", what, sdb_errmsg(db));
    }
    sdb_close(db);
    tu_rmrf(d);
    free(d), free(p);
  }
  fclose(devnull);
  print_message("decoder fuzz: 400 mutations (%d flips, %d overwrites, %d truncations), %d opened, %d refused as "
                "corrupt; %d table mutations failed check; %d reads compared with the original\n",
                kinds[0], kinds[1], kinds[2], opened, corrupt, sst_checked, exact_reads);
  assert_true(corrupt > 0 && opened > 0 && kinds[2] > 0 && sst_checked > 0 && exact_reads > 0);
  tu_rmrf(base);
  free(base);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(mutated_files_never_crash_any_decoder),
  };
  return cmocka_run_group_tests_name("engine_decoder_fuzz", tests, NULL, NULL);
}
