/*
 * kill_e2e.c - end to end: a child process writes with sync=1 (puts, deletes,
 * batches) and reports each acknowledged op to the parent over a pipe; the
 * parent SIGKILLs it at a different point every round (often in the middle of
 * a flush: the memtable is tiny), reopens the database and checks that the
 * state is exactly "all acked ops" or "all acked ops + the one in flight",
 * with every acked write present and nothing invented. The database carries
 * over from round to round.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NKEYS 400
#define ROUNDS 200

static char *state[NKEYS];
static int g_background; /* the child runs with deterministic=0: background flush (D20) and compaction */

static void key_of(int k, char *out) { snprintf(out, 32, "key-%04d", k); }

static void val_of(int i, char tag, char *out) {
  snprintf(out, 160, "%c%d-%0*d", tag, i, 60 + i % 50, i);
}

/* the op with index i, applied to st (strdup'd values) or to the db */
static int do_op(int i, char **st, sdb *db) {
  char k[32], v[160];
  int rc = 0;
  if (i % 13 == 0) {
    sdb_batch *b;
    if (db && sdb_batch_create(&b)) return SDB_ENOMEM;
    val_of(i, 'b', v);
    for (int j = 0; j < 3; j++) {
      int kk = (i + j * 17) % NKEYS;
      key_of(kk, k);
      if (db)
        rc |= j == 2 ? sdb_batch_delete(b, k, strlen(k)) : sdb_batch_put(b, k, strlen(k), v, strlen(v));
      if (st) {
        free(st[kk]);
        st[kk] = j == 2 ? NULL : strdup(v);
      }
    }
    if (db) {
      if (!rc) rc = sdb_write(db, b, 1);
      sdb_batch_free(b);
    }
  } else if (i % 10 == 0) {
    int kk = i * 7 % NKEYS;
    key_of(kk, k);
    if (db) rc = sdb_delete(db, k, strlen(k), 1);
    if (st) free(st[kk]), st[kk] = NULL;
  } else {
    int kk = i % NKEYS;
    key_of(kk, k);
    val_of(i, 'v', v);
    if (db) rc = sdb_put(db, k, strlen(k), v, strlen(v), 1);
    if (st) free(st[kk]), st[kk] = strdup(v);
  }
  return rc;
}

static void child(const char *dir, int start, int fd) {
  sdb_options o;
  sdb *db;
  sdb_options_init(&o);
  o.memtable_bytes = 24 << 10;
  o.deterministic = !g_background;
  if (sdb_open(dir, &o, &db)) _exit(3);
  for (int i = start;; i++) {
    if (do_op(i, NULL, db)) _exit(4);
    if (write(fd, &i, sizeof i) != sizeof i) _exit(5);
  }
}

/* WAL files in dir: 2 while a background flush is pending (D20) */
static int count_logs(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (!d) return 0;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    n += l > 4 && !strcmp(e->d_name + l - 4, ".log");
  }
  closedir(d);
  return n;
}

/* 1 if the db holds exactly st (and no other key) */
static int matches(sdb *db, char **st) {
  int n = 0;
  sdb_iter *it;
  char k[32];
  for (int kk = 0; kk < NKEYS; kk++) {
    void *v;
    size_t vn;
    key_of(kk, k);
    int rc = sdb_get(db, k, strlen(k), &v, &vn);
    if (rc == SDB_ENOTFOUND) {
      if (st[kk]) return 0;
      continue;
    }
    assert_int_equal(rc, 0);
    int ok = st[kk] && vn == strlen(st[kk]) && !memcmp(v, st[kk], vn);
    free(v);
    if (!ok) return 0;
    n++;
  }
  assert_int_equal(sdb_iter_create(db, NULL, 0, NULL, 0, &it), 0);
  int m = 0;
  for (; sdb_iter_valid(it); sdb_iter_next(it)) m++;
  assert_int_equal(sdb_iter_status(it), 0);
  sdb_iter_free(it);
  return m == n;
}

static void run_kills(int background) {
  char *dir = tu_tmpdir("kill");
  long two_logs = 0; /* recoveries that found a background flush pending (two WALs) */
  g_background = background;
  char *next[NKEYS] = {0};
  int done = 0; /* ops applied for sure */
  long acked_total = 0, kills = 0, inflight_applied = 0;
  for (int round = 0; round < ROUNDS; round++) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(p[0]);
      child(dir, done, p[1]);
    }
    close(p[1]);
    int want = 3 + (round * 7919) % 120, got = 0, last = done - 1, x;
    while (got < want && read(p[0], &x, sizeof x) == sizeof x) {
      assert_int_equal(x, last + 1);
      last = x;
      got++;
    }
    /* background mode, every other round: run on until a flush is pending
     * (two WALs on disk), then kill inside that window */
    for (int extra = 0; background && round % 2 == 0 && extra < 3000 && count_logs(dir) < 2; extra++) {
      if (read(p[0], &x, sizeof x) != sizeof x) break;
      assert_int_equal(x, last + 1);
      last = x;
      got++;
    }
    if (round % 3 == 1) { /* let it run a little past the last ack we will read */
      struct timespec ts = {0, (round * 37 % 500) * 1000L};
      nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    /* acks already in the pipe are acks too */
    while (read(p[0], &x, sizeof x) == sizeof x) {
      assert_int_equal(x, last + 1);
      last = x;
      got++;
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(p[0]);
    assert_true(WIFSIGNALED(status)); /* killed, not failed */
    kills++;
    /* state after every acked op, and after one more (the op in flight) */
    for (int i = done; i <= last; i++) do_op(i, state, NULL);
    for (int kk = 0; kk < NKEYS; kk++) next[kk] = state[kk] ? strdup(state[kk]) : NULL;
    do_op(last + 1, next, NULL);
    sdb *db = tu_open(dir, 24 << 10);
    two_logs += atoi(tu_stat(db, "recovered_wal_files")) == 2;
    int a = matches(db, state), b = !a && matches(db, next);
    if (!a && !b) fail_msg("round %d: state after op %d is neither the acked prefix nor prefix+1", round, last);
    acked_total += got;
    done = last + 1;
    if (b) {
      do_op(done, state, NULL);
      done++;
      inflight_applied++;
    }
    sdb_close(db);
    for (int kk = 0; kk < NKEYS; kk++) free(next[kk]);
  }
  char msg[512];
  assert_int_equal(sdb_check(dir, msg, sizeof msg), 0);
  printf("kill e2e (%s): %ld kill points, %ld acknowledged sync writes checked (%d ops in total, %ld in-flight ops "
         "found applied, %ld recoveries with a background flush pending)\n",
         background ? "background flush+compaction" : "deterministic", kills, acked_total, done, inflight_applied,
         two_logs);
  if (background) assert_true(two_logs > 0); /* else D20's recovery path went untested */
  for (int kk = 0; kk < NKEYS; kk++) free(state[kk]), state[kk] = NULL;
  tu_rmrf(dir);
  free(dir);
}

static void sigkill_at_many_points_keeps_every_acked_write(void **s) { run_kills(0); }
static void sigkill_with_background_flush_keeps_every_acked_write(void **s) { run_kills(1); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sigkill_at_many_points_keeps_every_acked_write),
      cmocka_unit_test(sigkill_with_background_flush_keeps_every_acked_write),
  };
  return cmocka_run_group_tests_name("engine_kill_e2e", tests, NULL, NULL);
}
