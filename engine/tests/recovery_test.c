/*
 * recovery_test.c - open after a crash replays the WAL into sorted runs and
 * tables (recover.c): newest versions only, whole batches only, several runs
 * when the WAL is bigger than the run bound, the same state and the same
 * files however often and wherever it is replayed.
 */
#include "test_util.h"

#include "log_format.h"
#include "wal_format.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static char *dir, *dir2;

static int setup(void **s) {
  dir = tu_tmpdir("rec");
  dir2 = tu_tmpdir("rec2");
  return 0;
}
static int teardown(void **s) {
  tu_rmrf(dir);
  tu_rmrf(dir2);
  free(dir);
  free(dir2);
  return 0;
}


/* ---- a model of what the database must hold ---------------------------------- */
#define MAXK 2048
typedef struct model {
  int nk;
  char key[MAXK][64];
  size_t kn[MAXK];
  int present[MAXK];
  char val[MAXK][160];
  size_t vn[MAXK];
} model;

static uint64_t rnd(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 33;
}

/* Keys: with `odd`, also short and binary ones ("", "a", "a\0", "\xff"...)
 * so that prefixes of other keys and zero padding are exercised; the rest
 * share a long prefix (the sort goes past its first 8 bytes). */
static void model_init(model *m, int nk, int odd) {
  static const char *const odds[] = {"", "a", "a\0", "a\0\0", "ab", "\xff", "\xff\xff\xff\xff\xff\xff\xff\xff\xff",
                                     "a\0\0\0\0\0\0\0", "a\0\0\0\0\0\0\0\0"};
  static const size_t oddn[] = {0, 1, 2, 3, 2, 1, 9, 8, 9};
  memset(m, 0, sizeof *m);
  m->nk = nk;
  int i = 0;
  if (odd)
    for (; i < (int)(sizeof odds / sizeof *odds); i++) {
      memcpy(m->key[i], odds[i], oddn[i]);
      m->kn[i] = oddn[i];
    }
  for (; i < nk; i++) m->kn[i] = (size_t)snprintf(m->key[i], sizeof m->key[i], "recovery/shared/prefix/%07d", i * 7);
}

/* The workload: puts (some empty), deletes, batches that touch a key twice,
 * one hot key with hundreds of versions. Applied to db (if non-NULL) and to m. */
static void workload(sdb *db, model *m, int steps, uint64_t seed) {
  sdb_batch *b;
  char v[160];
  assert_int_equal(sdb_batch_create(&b), 0);
  for (int s = 0; s < steps; s++) {
    uint64_t r = rnd(&seed);
    int k = (r % 5 == 0) ? 0 : (int)(rnd(&seed) % (uint64_t)m->nk);
    size_t vn0 = (size_t)snprintf(v, sizeof v, "v%d-%d-", s, k), vn = vn0 + rnd(&seed) % 100;
    for (size_t j = vn0; j < vn; j++) v[j] = (char)('a' + (s + j) % 26);
    if (r % 17 == 0) vn = 0;
    if (r % 7 == 1) { /* delete */
      if (db) assert_int_equal(sdb_delete(db, m->key[k], m->kn[k], 0), 0);
      m->present[k] = 0;
    } else if (r % 11 == 2) { /* a batch: put k, delete another, put k again */
      int k2 = (int)(rnd(&seed) % (uint64_t)m->nk);
      sdb_batch_clear(b);
      assert_int_equal(sdb_batch_put(b, m->key[k], m->kn[k], "first", 5), 0);
      assert_int_equal(sdb_batch_delete(b, m->key[k2], m->kn[k2]), 0);
      assert_int_equal(sdb_batch_put(b, m->key[k], m->kn[k], v, vn), 0);
      if (db) assert_int_equal(sdb_write(db, b, 0), 0);
      m->present[k2] = 0;
      m->present[k] = 1;
      memcpy(m->val[k], v, vn);
      m->vn[k] = vn;
    } else {
      if (db) assert_int_equal(sdb_put(db, m->key[k], m->kn[k], v, vn, 0), 0);
      m->present[k] = 1;
      memcpy(m->val[k], v, vn);
      m->vn[k] = vn;
    }
  }
  sdb_batch_free(b);
}

static int key_cmp(const void *a, size_t an, const void *b, size_t bn) {
  size_t n = an < bn ? an : bn;
  int c = n ? memcmp(a, b, n) : 0;
  return c ? c : an < bn ? -1 : an > bn;
}

/* Every key by get, and one scan: strictly increasing, exactly the present keys. */
static void verify(sdb *db, const model *m) {
  size_t present = 0, seen = 0;
  for (int i = 0; i < m->nk; i++) {
    void *got = NULL;
    size_t n = 0;
    int rc = sdb_get(db, m->key[i], m->kn[i], &got, &n);
    if (!m->present[i]) {
      if (rc != SDB_ENOTFOUND) print_error("key #%d: expected absent, got rc %d\n", i, rc);
      assert_int_equal(rc, SDB_ENOTFOUND);
      continue;
    }
    present++;
    if (rc) print_error("key #%d: %s\n", i, sdb_errmsg(db));
    assert_int_equal(rc, 0);
    assert_int_equal(n, m->vn[i]);
    if (n) assert_memory_equal(got, m->val[i], n);
    free(got);
  }
  sdb_iter *it;
  char last[64];
  size_t lastn = 0;
  assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
  for (; sdb_iter_valid(it); sdb_iter_next(it), seen++) {
    size_t kn, vn;
    const void *k = sdb_iter_key(it, &kn), *v = sdb_iter_value(it, &vn);
    if (seen) assert_true(key_cmp(last, lastn, k, kn) < 0);
    assert_true(kn <= sizeof last);
    if (kn) memcpy(last, k, kn);
    lastn = kn;
    int i = 0;
    while (i < m->nk && key_cmp(m->key[i], m->kn[i], k, kn)) i++;
    assert_true(i < m->nk);
    assert_true(m->present[i]);
    assert_int_equal(vn, m->vn[i]);
    if (vn) assert_memory_equal(v, m->val[i], vn);
  }
  assert_int_equal(sdb_iter_status(it), 0);
  sdb_iter_free(it);
  assert_int_equal(seen, present);
}

/* A child writes the workload, syncs and dies without closing. */
static void crash_fill(const char *d, size_t memtable_bytes, int nk, int odd, int steps, uint64_t seed) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    static model m;
    model_init(&m, nk, odd);
    sdb *db = tu_open(d, memtable_bytes);
    workload(db, &m, steps, seed);
    _exit(sdb_sync(db) ? 1 : 0);
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static sdb *open_with(const char *d, size_t memtable_bytes, int compaction) {
  sdb_options o;
  sdb_options_init(&o);
  o.deterministic = 1;
  o.memtable_bytes = memtable_bytes;
  if (!compaction) o.l0_compaction_trigger = o.l0_slowdown_trigger = o.l0_stop_trigger = 1000;
  return tu_open_opts(d, &o);
}

static void check_ok(const char *d) {
  char msg[512];
  int rc = sdb_check(d, msg, sizeof msg);
  if (rc) print_error("check %s: %s\n", d, msg);
  assert_int_equal(rc, 0);
}

/* ---- tests ------------------------------------------------------------------------ */

static void overwrites_and_deletes_recover_to_newest(void **s) {
  static model m;
  crash_fill(dir, 64 << 20, 300, 1, 20000, 42);
  model_init(&m, 300, 1);
  workload(NULL, &m, 20000, 42);
  sdb *db = tu_open(dir, 64 << 20);
  assert_string_equal(tu_stat(db, "recovered_wal_records"), "20000");
  assert_string_equal(tu_stat(db, "tables"), "1");
  assert_string_equal(tu_stat(db, "memtable_entries"), "0");
  /* one version per key: as many entries as keys touched, tombstones included */
  assert_true(atoi(tu_stat(db, "table_entries")) <= 300);
  verify(db, &m);
  sdb_close(db);
  check_ok(dir);
  db = tu_open(dir, 0);
  verify(db, &m);
  sdb_close(db);
}

/* A batch big enough to span several WAL blocks is read through the copying
 * path; torn at the tail, it is dropped whole, and so is a small one. */
static void torn_batches_dropped_whole(void **s) {
  sdb *db = tu_open(dir, 64 << 20);
  sdb_batch *b;
  char k[32], v[200];
  memset(v, 'x', sizeof v);
  assert_int_equal(sdb_batch_create(&b), 0);
  for (int round = 0; round < 3; round++) { /* rounds 0, 1 intact; round 2 torn */
    sdb_batch_clear(b);
    for (int j = 0; j < 600; j++) { /* ~130 KiB: FIRST, MIDDLE..., LAST fragments */
      snprintf(k, sizeof k, "big%d-%04d", round, j);
      v[0] = (char)('0' + round);
      assert_int_equal(sdb_batch_put(b, k, strlen(k), v, sizeof v), 0);
    }
    if (round) assert_int_equal(sdb_batch_delete(b, "small-0", 7), 0);
    assert_int_equal(sdb_write(db, b, 0), 0);
    assert_int_equal(sdb_put(db, "small-0", 7, "s", 1, 0), 0);
  }
  char *wal = tu_find(dir, ".log");
  long end = tu_wal_end(wal);
  sdb_close(db);
  /* cut inside round 2's big batch: its last put of small-0 goes too */
  assert_int_equal(tu_truncate(wal, end - 40000), 0);
  db = tu_open(dir, 64 << 20);
  for (int round = 0; round < 3; round++)
    for (int j = 0; j < 600; j += 37) {
      void *got;
      size_t n;
      snprintf(k, sizeof k, "big%d-%04d", round, j);
      int rc = sdb_get(db, k, strlen(k), &got, &n);
      if (round == 2) {
        assert_int_equal(rc, SDB_ENOTFOUND);
        continue;
      }
      assert_int_equal(rc, 0);
      assert_int_equal(n, sizeof v);
      assert_int_equal(((char *)got)[0], '0' + round);
      free(got);
    }
  tu_expect(db, "small-0", "s"); /* round 1's put, after round 1's delete */
  assert_string_not_equal(tu_stat(db, "recovered_tail_truncated_bytes"), "0");
  sdb_batch_free(b);
  sdb_close(db);
  check_ok(dir);
  free(wal);
}

/* With memtable_bytes below the WAL's size, recovery writes one table per run;
 * a key's newest version may be in any run and must win over older runs. */
static void wal_bigger_than_run_bound_gives_several_tables(void **s) {
  static model m;
  crash_fill(dir, 64 << 20, 1500, 0, 30000, 7);
  model_init(&m, 1500, 0);
  workload(NULL, &m, 30000, 7);
  sdb *db = open_with(dir, 256 << 10, 0);
  int tables = atoi(tu_stat(db, "tables"));
  assert_true(tables >= 4);
  assert_int_equal(atoi(tu_stat(db, "flushes")), tables);
  verify(db, &m);
  sdb_close(db);
  check_ok(dir);
  db = open_with(dir, 4 << 20, 1); /* now compact them */
  verify(db, &m);
  sdb_close(db);
  check_ok(dir);
  /* and the same WAL with compaction at recovery */
  crash_fill(dir2, 64 << 20, 1500, 0, 30000, 7);
  db = open_with(dir2, 128 << 10, 1);
  assert_true(atoi(tu_stat(db, "flushes")) >= 8);
  verify(db, &m);
  sdb_close(db);
  check_ok(dir2);
}

static void copy_dir(const char *from, const char *to) {
  DIR *d = opendir(from);
  struct dirent *e;
  assert_non_null(d);
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !strcmp(e->d_name, "LOCK")) continue;
    char *a = tu_path(from, e->d_name), *b = tu_path(to, e->d_name);
    FILE *f = fopen(a, "rb");
    assert_non_null(f);
    long n = tu_file_size(a);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    assert_int_equal(tu_write_file(b, buf, (size_t)n), 0);
    free(buf);
    free(a);
    free(b);
  }
  closedir(d);
}

static int count_files(const char *d0) {
  DIR *d = opendir(d0);
  struct dirent *e;
  int n = 0;
  assert_non_null(d);
  while ((e = readdir(d))) n += e->d_name[0] != '.' && strcmp(e->d_name, "LOCK");
  closedir(d);
  return n;
}

/* Every file of a and b (but LOCK) has the same name and bytes. */
static void same_files(const char *a, const char *b) {
  DIR *d = opendir(a);
  struct dirent *e;
  int n = 0;
  assert_non_null(d);
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !strcmp(e->d_name, "LOCK")) continue;
    char *pa = tu_path(a, e->d_name), *pb = tu_path(b, e->d_name);
    long na = tu_file_size(pa), nb = tu_file_size(pb);
    if (na != nb) print_error("%s: %ld vs %ld bytes\n", e->d_name, na, nb);
    assert_int_equal(na, nb);
    FILE *fa = fopen(pa, "rb"), *fb = fopen(pb, "rb");
    char *x = malloc((size_t)na + 1), *y = malloc((size_t)na + 1);
    assert_int_equal(fread(x, 1, (size_t)na, fa), (size_t)na);
    assert_int_equal(fread(y, 1, (size_t)na, fb), (size_t)na);
    assert_memory_equal(x, y, (size_t)na);
    fclose(fa), fclose(fb), free(x), free(y), free(pa), free(pb);
    n++;
  }
  closedir(d);
  assert_int_equal(n, count_files(b)); /* and no file more in b */
}

/* Recovery is a pure function of the directory (R1): two copies recover to
 * byte-identical files; and reopening again keeps the state. */
static void reopen_twice_same_state_and_same_files(void **s) {
  static model m;
  crash_fill(dir, 64 << 20, 800, 1, 15000, 99);
  model_init(&m, 800, 1);
  workload(NULL, &m, 15000, 99);
  copy_dir(dir, dir2);
  sdb *db = open_with(dir, 96 << 10, 1);
  verify(db, &m);
  sdb_close(db);
  db = open_with(dir2, 96 << 10, 1);
  sdb_close(db);
  same_files(dir, dir2);
  for (int i = 0; i < 2; i++) {
    db = tu_open(dir, 0);
    verify(db, &m);
    sdb_close(db);
    check_ok(dir);
  }
}

/* A failed table write or fsync, MANIFEST fsync or CURRENT rename during
 * recovery fails the open and loses nothing: the old MANIFEST and WAL are
 * still the live ones, and the next open recovers everything. */
static void failed_recovery_loses_nothing(void **s) {
  static model m;
  static const struct {
    enum tu_op op;
    const char *sub;
    int n;
  } faults[] = {{TU_FSYNC, ".sst", 1}, {TU_FSYNC, ".sst", 3}, {TU_WRITE, ".sst", 2},
                {TU_FSYNC, "MANIFEST", 1}, {TU_RENAME, "CURRENT", 1}};
  crash_fill(dir, 64 << 20, 400, 0, 6000, 5);
  model_init(&m, 400, 0);
  workload(NULL, &m, 6000, 5);
  for (size_t f = 0; f < sizeof faults / sizeof *faults; f++) {
    sdb_options o;
    sdb_options_init(&o);
    o.deterministic = 1;
    o.memtable_bytes = 64 << 10; /* several runs, several tables */
    tu_fault_set(faults[f].op, faults[f].sub, faults[f].n, EIO, 0);
    tu_fault_install();
    sdb *db = NULL;
    int rc = sdb_open(dir, &o, &db);
    int fired = tu_fault_fired();
    tu_fault_remove();
    sdb_close(db);
    assert_true(fired);
    assert_int_not_equal(rc, 0);
  }
  sdb *db = open_with(dir, 64 << 10, 0);
  verify(db, &m);
  sdb_close(db);
  check_ok(dir);
}

/* Non-deterministic mode writes a big run as two disjoint tables built by two
 * threads at once; every key must still be right, and check must pass. */
#define BIGN 70000
static void bigkey(char *k, int i) { snprintf(k, 32, "big/%08d", (int)((i * 7919L) % BIGN)); }
static void bigval(char *v, int i, int gen) { snprintf(v, 64, "value-%d-gen%d-..........", i, gen); }

static void big_run_two_tables_in_parallel(void **s) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char k[32], v[64];
    sdb *db = tu_open(dir, 256 << 20);
    for (int i = 0; i < BIGN; i++) {
      bigkey(k, i), bigval(v, i, 0);
      if (sdb_put(db, k, strlen(k), v, strlen(v), 0)) _exit(1);
    }
    for (int i = 0; i < BIGN; i += 3) {
      bigkey(k, i), bigval(v, i, 1);
      if (sdb_put(db, k, strlen(k), v, strlen(v), 0)) _exit(1);
    }
    for (int i = 0; i < BIGN; i += 7) {
      bigkey(k, i);
      if (sdb_delete(db, k, strlen(k), 0)) _exit(1);
    }
    _exit(sdb_sync(db) ? 1 : 0);
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  sdb_options o;
  sdb_options_init(&o);
  o.deterministic = 0;
  o.memtable_bytes = 256 << 20;
  sdb *db = tu_open_opts(dir, &o);
  assert_string_equal(tu_stat(db, "flushes"), "2");
  char k[32], v[64];
  for (int i = 0; i < BIGN; i++) {
    bigkey(k, i), bigval(v, i, i % 3 == 0);
    tu_expect(db, k, i % 7 == 0 ? NULL : v);
  }
  sdb_iter *it;
  int n = 0;
  assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
  for (; sdb_iter_valid(it); sdb_iter_next(it)) n++;
  sdb_iter_free(it);
  assert_int_equal(n, BIGN - (BIGN + 6) / 7);
  sdb_close(db);
  check_ok(dir);
}


/* ---- hostile WALs ----------------------------------------------------------------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_keys(sdb *db, const char *tag, int n) {
  char k[32], v[32];
  for (int i = 0; i < n; i++) {
    snprintf(k, sizeof k, "%s-%03d", tag, i);
    snprintf(v, sizeof v, "value-%d", i);
    assert_int_equal(sdb_put(db, k, strlen(k), v, strlen(v), 0), 0);
  }
}

/* A WAL whose apparent size is 1 GiB (a sparse file: a few records, then
 * zeroed space, as a crash after a preallocation or a hostile file leaves
 * it). check and open read it through the log reader's window, so the peak
 * RSS follows the run, not the file (it was the file's size: 1.5 GB), and
 * the time is that of reading it once. In a child, whose peak RSS wait4
 * reports. */
#define SPARSE_WAL_BYTES (1024L << 20)
#define SPARSE_MAX_RSS_KB (192L << 10)
static void sparse_wal_replays_in_bounded_memory(void **s) {
  sdb *db = tu_open(dir, 0);
  put_keys(db, "sparse", 50);
  sdb_close(db);
  char *wal = tu_find(dir, ".log");
  long end = tu_wal_end(wal);
  assert_int_equal(tu_truncate(wal, SPARSE_WAL_BYTES), 0);
  /* one byte of garbage at the very end: a sparse file left by a crash, not
   * preallocated zeros (which would end the log without a torn tail) */
  int fd = open(wal, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, "\xff", 1, SPARSE_WAL_BYTES - 1), 1);
  close(fd);
  double t0 = now_s();
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char msg[512], cut[32];
    snprintf(cut, sizeof cut, "%ld", SPARSE_WAL_BYTES - end);
    if (sdb_check(dir, msg, sizeof msg) || !strstr(msg, "torn tail ignored")) {
      fprintf(stderr, "check: %s\n", msg);
      _exit(1);
    }
    sdb_options o;
    sdb_options_init(&o);
    o.deterministic = 1;
    sdb *d = NULL;
    if (sdb_open(dir, &o, &d)) {
      fprintf(stderr, "open: %s\n", sdb_errmsg(d));
      _exit(2);
    }
    if (strcmp(tu_stat(d, "recovered_wal_records"), "50") || strcmp(tu_stat(d, "recovered_tail_truncated_bytes"), cut)) {
      fprintf(stderr, "recovered %s records, cut %s bytes\n", tu_stat(d, "recovered_wal_records"),
              tu_stat(d, "recovered_tail_truncated_bytes"));
      _exit(3);
    }
    for (int i = 0; i < 50; i++) {
      char k[32], v[32];
      void *got;
      size_t n;
      snprintf(k, sizeof k, "sparse-%03d", i);
      snprintf(v, sizeof v, "value-%d", i);
      if (sdb_get(d, k, strlen(k), &got, &n) || n != strlen(v) || memcmp(got, v, n)) _exit(4);
      free(got);
    }
    sdb_close(d);
    _exit(0);
  }
  int st;
  struct rusage ru;
  assert_int_equal(wait4(pid, &st, 0, &ru), pid);
  double secs = now_s() - t0;
  print_message("sparse WAL of %ld MiB: check + open in %.2f s, peak RSS %ld KiB\n", SPARSE_WAL_BYTES >> 20, secs,
                ru.ru_maxrss);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  assert_true(ru.ru_maxrss < SPARSE_MAX_RSS_KB);
  assert_true(secs < 15.0);
  assert_int_equal(tu_count(dir, ".log"), 1); /* the sparse WAL was retired (D6) */
  free(wal);
  wal = tu_find(dir, ".log");
  assert_true(tu_file_size(wal) < 4096);
  free(wal);
}

/* Appends one checksum-valid batch record of `count` puts (keys "<tag>-i",
 * at most 8 written, the rest empty keys) with sequence number seq to the
 * WAL at p; returns the offset where the record starts. */
static uint64_t append_batch(const char *p, uint64_t seq, uint32_t count, const char *tag) {
  sdb_logw w;
  uint8_t h[SDB_WAL_REC_HDR], ops[4096];
  size_t n = 0;
  for (uint32_t i = 0; i < count && i < 64; i++) {
    char k[32];
    int kn = snprintf(k, sizeof k, "%s-%u", tag, i);
    ops[n++] = 1; /* put */
    ops[n++] = (uint8_t)kn;
    memcpy(ops + n, k, (size_t)kn), n += (size_t)kn;
    ops[n++] = 1, ops[n++] = 'v';
  }
  sdb__enc64(h, seq);
  sdb__enc32(h + 8, count);
  sdb__enc64(h + 12, 0);
  assert_int_equal(tu_wal_trim(p), 0); /* append where the records end */
  memset(&w, 0, sizeof w); /* the WAL's writer, reopened at its end (the engine never appends to an old WAL) */
  snprintf(w.path, sizeof w.path, "%s", p);
  assert_true((w.fd = open(p, O_WRONLY | O_APPEND)) >= 0);
  w.off = (uint64_t)tu_file_size(p);
  uint64_t off = w.off;
  if (SDB_LOG_BLOCK - off % SDB_LOG_BLOCK < SDB_LOG_HDR) off += SDB_LOG_BLOCK - off % SDB_LOG_BLOCK;
  assert_int_equal(sdb__logw_add(&w, h, sizeof h, ops, n, NULL), 0);
  sdb__logw_close(&w);
  return off;
}

/* A checksum-valid batch whose sequence numbers leave 1..2^56-1 (the
 * trailer keeps 56 bits: 2^64-1 was stored at 2^56-1 and its next op at 0),
 * wrap around, or do not follow the batch before (docs/format/wal.md) is
 * corruption: check and open both refuse it, naming file and offset, and the
 * open deletes nothing. */
static void out_of_range_sequence_numbers_are_corruption(void **s) {
  static const struct {
    uint64_t seq;
    uint32_t count;
    const char *why;
  } cases[] = {
      {UINT64_MAX, 1, "is outside the sequence space 1..72057594037927935"},
      {UINT64_MAX - 1, 3, "is outside the sequence space"}, /* wraps to 0, 1 */
      {(UINT64_C(1) << 56) - 1, 2, "is outside the sequence space"}, /* the second op would be 2^56 */
      {UINT64_C(1) << 56, 1, "is outside the sequence space"},
      {0, 1, "is outside the sequence space"},
      {(UINT64_C(1) << 56) - 10, UINT32_MAX, "is outside the sequence space"},
      {3, 1, "does not follow the previous batch, which ended at 5"}, /* backwards */
      {5, 2, "does not follow the previous batch, which ended at 5"}, /* repeats 5 */
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    char *d = tu_tmpdir("rec-seq"), msg[512], at[PATH_MAX + 64];
    sdb *db = tu_open(d, 0);
    put_keys(db, "k", 5); /* sequence numbers 1..5, then the close marker */
    sdb_close(db);
    char *wal = tu_find(d, ".log");
    uint64_t off = append_batch(wal, cases[c].seq, cases[c].count, "bad");
    long size = tu_file_size(wal);
    snprintf(at, sizeof at, "%s: offset %" PRIu64 ": batch", wal, off);
    int rc = sdb_check(d, msg, sizeof msg);
    if (rc != SDB_ECORRUPT || !strstr(msg, at) || !strstr(msg, cases[c].why))
      print_error("case %zu: check: %d %s\n", c, rc, msg);
    assert_int_equal(rc, SDB_ECORRUPT);
    assert_non_null(strstr(msg, at));
    assert_non_null(strstr(msg, cases[c].why));
    sdb_options o;
    sdb_options_init(&o);
    o.deterministic = 1;
    db = NULL;
    rc = sdb_open(d, &o, &db);
    if (rc != SDB_ECORRUPT || !strstr(sdb_errmsg(db), at)) print_error("case %zu: open: %d %s\n", c, rc, sdb_errmsg(db));
    assert_int_equal(rc, SDB_ECORRUPT);
    assert_non_null(strstr(sdb_errmsg(db), at));
    assert_non_null(strstr(sdb_errmsg(db), cases[c].why));
    sdb_close(db);
    assert_int_equal(tu_file_size(wal), size); /* the WAL is still there, untouched */
    tu_rmrf(d);
    free(d), free(wal);
  }
}

/* The last valid sequence number, 2^56-1, is replayed; then the sequence
 * space is used up: a write is refused (nothing is stored at 2^56, which
 * the trailer would turn into 0) and the handle stays readable. */
static void last_sequence_number_replays_and_then_writes_are_refused(void **s) {
  sdb *db = tu_open(dir, 0);
  put_keys(db, "k", 5);
  sdb_close(db);
  char *wal = tu_find(dir, ".log");
  append_batch(wal, (UINT64_C(1) << 56) - 1, 1, "top");
  check_ok(dir);
  db = tu_open(dir, 0);
  assert_string_equal(tu_stat(db, "last_seq"), "72057594037927935");
  tu_expect(db, "top-0", "v");
  tu_expect(db, "k-004", "value-4");
  int rc = sdb_put(db, "after", 5, "x", 1, 0);
  assert_int_equal(rc, SDB_EINVAL);
  assert_non_null(strstr(sdb_errmsg(db), "sequence numbers are used up"));
  tu_expect(db, "after", NULL);
  tu_expect(db, "top-0", "v");
  sdb_close(db);
  check_ok(dir);
  free(wal);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(overwrites_and_deletes_recover_to_newest, setup, teardown),
      cmocka_unit_test_setup_teardown(torn_batches_dropped_whole, setup, teardown),
      cmocka_unit_test_setup_teardown(wal_bigger_than_run_bound_gives_several_tables, setup, teardown),
      cmocka_unit_test_setup_teardown(reopen_twice_same_state_and_same_files, setup, teardown),
      cmocka_unit_test_setup_teardown(failed_recovery_loses_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(big_run_two_tables_in_parallel, setup, teardown),
      cmocka_unit_test_setup_teardown(sparse_wal_replays_in_bounded_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(out_of_range_sequence_numbers_are_corruption, setup, teardown),
      cmocka_unit_test_setup_teardown(last_sequence_number_replays_and_then_writes_are_refused, setup, teardown),
  };
  return cmocka_run_group_tests_name("engine_recovery", tests, NULL, NULL);
}
