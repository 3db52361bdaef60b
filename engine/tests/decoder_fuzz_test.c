/*
 * decoder_fuzz_test.c - seeded mutation test of every decoder: a small
 * database's WAL, MANIFEST, CURRENT and tables get random bit flips, byte
 * overwrites and truncations; open, get, scan, check and dump must return
 * cleanly (0 or an SDB_E* code, never crash, hang or read out of bounds:
 * run under ASan), and a damaged table or MANIFEST must never be taken for a
 * good one silently.
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

static void mutated_files_never_crash_any_decoder(void **s) {
  char *base = tu_tmpdir("fuzz-base");
  char names[64][64];
  make_db(base);
  int nfiles = list_files(base, names, 64);
  int opened = 0, corrupt = 0;
  FILE *devnull = fopen("/dev/null", "w");
  rnd_state = 42;
  for (int iter = 0; iter < 400; iter++) {
    char *d = tu_tmpdir("fuzz");
    copy_dir(base, d);
    const char *victim = names[rnd() % (uint64_t)nfiles];
    char *p = tu_path(d, victim);
    long sz = tu_file_size(p);
    int kind = (int)(rnd() % 3);
    if (sz > 0) {
      if (kind == 0) {
        assert_int_equal(tu_xor_byte(p, (long)(rnd() % (uint64_t)sz), (unsigned char)(1u << (rnd() % 8))), 0);
      } else if (kind == 1) {
        for (int j = 0; j < 8; j++) tu_xor_byte(p, (long)(rnd() % (uint64_t)sz), (unsigned char)(rnd() | 1));
      } else {
        assert_int_equal(tu_truncate(p, (long)(rnd() % (uint64_t)sz)), 0);
      }
    }
    char msg[512];
    int crc = sdb_check(d, msg, sizeof msg);
    assert_true(valid_rc(crc));
    assert_true(valid_rc(sdb__dump_file(p, devnull, msg, sizeof msg)) || strstr(victim, "CURRENT"));
    sdb_options o;
    sdb *db = NULL;
    sdb_options_init(&o);
    o.create_if_missing = 0;
    int rc = sdb_open(d, &o, &db);
    assert_true(valid_rc(rc));
    if (rc == 0) {
      opened++;
      sdb_iter *it;
      for (int i = 0; i < 300; i += 13) {
        char k[32];
        void *v;
        size_t vn;
        snprintf(k, sizeof k, "k%04d", i);
        int g = sdb_get(db, k, strlen(k), &v, &vn);
        assert_true(valid_rc(g));
        if (g == 0) free(v);
      }
      assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
      while (sdb_iter_valid(it)) sdb_iter_next(it);
      assert_true(valid_rc(sdb_iter_status(it)));
      sdb_iter_free(it);
    } else {
      corrupt++;
      if (getenv("FUZZ_VERBOSE")) print_message("%s kind %d: %s\n", victim, kind, sdb_errmsg(db));
    }
    /* a damaged MANIFEST or table is never opened as if it were intact:
     * either open or check says so (torn tails of WAL/MANIFEST are legal). */
    if (strstr(victim, ".sst") && kind != 2) assert_true(rc == SDB_ECORRUPT || crc == SDB_ECORRUPT);
    sdb_close(db);
    tu_rmrf(d);
    free(d), free(p);
  }
  fclose(devnull);
  print_message("decoder fuzz: 400 mutations, %d opened, %d refused as corrupt\n", opened, corrupt);
  assert_true(corrupt > 0 && opened > 0);
  tu_rmrf(base);
  free(base);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(mutated_files_never_crash_any_decoder),
  };
  return cmocka_run_group_tests_name("engine_decoder_fuzz", tests, NULL, NULL);
}
