/*
 * open_test.c - what sdb_open does with a directory (docs/sofadb.md,
 * "Opening a directory"): a read_only open changes no file; a directory
 * without CURRENT is a new database only if it holds no data; FIFOs and
 * symlinks in the directory are neither waited on nor followed.
 */
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

TU_DIR_FIXTURE("open")

/* Every file of d (name, size, bytes), in name order, as one string to compare. */
static char *dir_image(const char *d) {
  struct dirent **names;
  int n = scandir(d, &names, NULL, alphasort);
  size_t len = 0, cap = 1 << 16;
  char *img = malloc(cap);
  assert_true(n >= 0 && img);
  for (int i = 0; i < n; i++) {
    char *p = tu_path(d, names[i]->d_name);
    struct stat st;
    if (names[i]->d_name[0] != '.' && lstat(p, &st) == 0) {
      size_t need = len + strlen(p) + 64 + (S_ISREG(st.st_mode) ? (size_t)st.st_size : 0);
      if (need > cap) {
        while (cap < need) cap *= 2;
        assert_non_null(img = realloc(img, cap));
      }
      len += (size_t)sprintf(img + len, "%s %o %lld:", names[i]->d_name, (unsigned)st.st_mode, (long long)st.st_size);
      if (S_ISREG(st.st_mode)) {
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        len += fread(img + len, 1, (size_t)st.st_size, f);
        fclose(f);
      }
    }
    free(p);
    free(names[i]);
  }
  free(names);
  img[len] = 0;
  return img;
}

static sdb_options ro_opts(void) {
  sdb_options o;
  sdb_options_init(&o);
  o.deterministic = 1;
  o.read_only = 1;
  o.create_if_missing = 0;
  return o;
}

/* A database with k1 in a table and k2 only in the WAL (a crash: no close). */
static void make_db_with_wal(void) {
  sdb *db = tu_open(dir, 0);
  assert_int_equal(sdb_put(db, "k1", 2, "v1", 2, 1), 0);
  assert_int_equal(sdb_flush(db), 0);
  assert_int_equal(sdb_put(db, "k2", 2, "v2", 2, 1), 0);
  assert_int_equal(sdb_close(db), 0);
}

static void read_only_open_changes_no_file(void **s) {
  (void)s;
  make_db_with_wal();
  char *foreign = tu_path(dir, "000999.log"); /* not live: a writable open would delete it */
  assert_int_equal(tu_write_file(foreign, "x", 1), 0);
  free(foreign);
  char *before = dir_image(dir);
  sdb_options o = ro_opts();
  sdb *db = NULL;
  assert_int_equal(sdb_open(dir, &o, &db), 0);
  tu_expect(db, "k1", "v1");
  tu_expect(db, "k2", "v2"); /* replayed from the WAL into memory */
  assert_int_equal(sdb_put(db, "k3", 2, "v3", 2, 0), SDB_EREADONLY);
  assert_non_null(strstr(sdb_errmsg(db), "opened read-only"));
  assert_int_equal(sdb_delete(db, "k1", 2, 0), SDB_EREADONLY);
  assert_int_equal(sdb_flush(db), SDB_EREADONLY);
  assert_int_equal(sdb_sync(db), SDB_EREADONLY);
  char stats[8192];
  assert_int_equal(sdb_stats(db, stats, sizeof stats), 0);
  assert_int_equal(sdb_close(db), 0);
  char *after = dir_image(dir);
  assert_string_equal(before, after);
  free(before);
  free(after);
  char msg[512];
  before = dir_image(dir);
  assert_int_equal(sdb_check(dir, msg, sizeof msg), 0);
  after = dir_image(dir);
  assert_string_equal(before, after);
  free(before);
  free(after);
}

static void read_only_open_of_empty_dir_creates_nothing(void **s) {
  (void)s;
  sdb_options o = ro_opts();
  sdb *db = NULL;
  char msg[512];
  assert_int_equal(sdb_open(dir, &o, &db), SDB_ENOENT);
  assert_non_null(strstr(sdb_errmsg(db), "no CURRENT file"));
  sdb_close(db);
  assert_int_equal(sdb_check(dir, msg, sizeof msg), SDB_ENOENT);
  char *img = dir_image(dir);
  assert_string_equal(img, ""); /* not even LOCK */
  free(img);
  assert_int_equal(sdb_check("", msg, sizeof msg), SDB_EINVAL);
}

static void missing_current_beside_data_is_refused_and_nothing_deleted(void **s) {
  (void)s;
  make_db_with_wal();
  char *cur = tu_path(dir, "CURRENT");
  assert_int_equal(unlink(cur), 0);
  free(cur);
  char *before = dir_image(dir);
  sdb *db = NULL;
  sdb_options o;
  sdb_options_init(&o);
  o.deterministic = 1;
  assert_int_equal(sdb_open(dir, &o, &db), SDB_ECORRUPT);
  assert_non_null(strstr(sdb_errmsg(db), "no CURRENT file, but the directory holds sofadb data"));
  assert_non_null(strstr(sdb_errmsg(db), ".sst"));
  sdb_close(db);
  char *after = dir_image(dir);
  assert_string_equal(before, after);
  free(before);
  free(after);
}

static void interrupted_create_leaves_a_new_database(void **s) {
  (void)s;
  sdb *db = tu_open(dir, 0); /* created, nothing written: a header-only WAL, an empty MANIFEST */
  assert_int_equal(sdb_close(db), 0);
  char *cur = tu_path(dir, "CURRENT");
  assert_int_equal(unlink(cur), 0); /* as if the create had died before CURRENT */
  free(cur);
  db = tu_open(dir, 0);
  assert_int_equal(sdb_put(db, "a", 1, "b", 1, 1), 0);
  assert_int_equal(sdb_close(db), 0);
  db = tu_open(dir, 0);
  tu_expect(db, "a", "b");
  assert_int_equal(sdb_close(db), 0);
}

static void fifo_in_place_of_current_is_an_error_not_a_hang(void **s) {
  (void)s;
  make_db_with_wal();
  char *cur = tu_path(dir, "CURRENT");
  assert_int_equal(unlink(cur), 0);
  assert_int_equal(mkfifo(cur, 0644), 0);
  alarm(20); /* before the fix the open blocked forever */
  sdb_options o = ro_opts();
  sdb *db = NULL;
  assert_int_equal(sdb_open(dir, &o, &db), SDB_ECORRUPT);
  assert_non_null(strstr(sdb_errmsg(db), "CURRENT: is a FIFO, not a regular file"));
  sdb_close(db);
  db = NULL;
  o.read_only = 0;
  assert_int_equal(sdb_open(dir, &o, &db), SDB_ECORRUPT);
  sdb_close(db);
  alarm(0);
  free(cur);
}

static void stale_temp_symlink_is_removed_not_followed(void **s) {
  (void)s;
  char *outside = tu_tmpdir("open-outside");
  char *victim = tu_path(outside, "victim");
  assert_int_equal(tu_write_file(victim, "precious", 8), 0);
  make_db_with_wal();
  char *tmp = tu_path(dir, "CURRENT.tmp");
  assert_int_equal(symlink(victim, tmp), 0);
  sdb *db = tu_open(dir, 0); /* recovery publishes a new MANIFEST: CURRENT.tmp is written */
  tu_expect(db, "k2", "v2");
  assert_int_equal(sdb_close(db), 0);
  assert_int_equal(tu_file_size(victim), 8);
  FILE *f = fopen(victim, "rb");
  char buf[16] = {0};
  assert_non_null(f);
  assert_int_equal(fread(buf, 1, sizeof buf, f), 8);
  fclose(f);
  assert_string_equal(buf, "precious");
  struct stat st;
  assert_int_equal(lstat(tmp, &st), -1);
  free(tmp);
  free(victim);
  tu_rmrf(outside);
  free(outside);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(read_only_open_changes_no_file, setup, teardown),
      cmocka_unit_test_setup_teardown(read_only_open_of_empty_dir_creates_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(missing_current_beside_data_is_refused_and_nothing_deleted, setup, teardown),
      cmocka_unit_test_setup_teardown(interrupted_create_leaves_a_new_database, setup, teardown),
      cmocka_unit_test_setup_teardown(fifo_in_place_of_current_is_an_error_not_a_hang, setup, teardown),
      cmocka_unit_test_setup_teardown(stale_temp_symlink_is_removed_not_followed, setup, teardown),
  };
  return cmocka_run_group_tests_name("engine_open", tests, NULL, NULL);
}
