/*
 * sqlite.c - the `sqlite` target: SQLite (sqlite3.h) as a key-value table
 * kv(k BLOB PRIMARY KEY, v BLOB) in DIR/kv.sqlite, linked in-process. Built when
 * libsqlite3-dev is present, as a plugin.
 *
 * Options (k=v, unknown names are errors); defaults are SQLite's own:
 *   journal_mode=delete|truncate|persist|wal|memory|off   (default delete)
 *   synchronous=off|normal|full|extra                     (default full)
 *   cache_size=N    page cache of N bytes: PRAGMA cache_size=-N/1024 (default:
 *                   SQLite's own, about 2 MiB)
 * put/del are one autocommit statement each; a batch is one transaction
 * (BEGIN IMMEDIATE ... COMMIT). SQLite has no per-transaction sync, so the
 * workload's per-write sync flag is not used: `synchronous` decides.
 * sync() = PRAGMA wal_checkpoint(FULL) in WAL mode (syncs the WAL and the
 * database), nothing otherwise; flush() = PRAGMA wal_checkpoint(TRUNCATE) in
 * WAL mode, nothing otherwise.
 *
 * Contract per option set, from https://sqlite.org/pragma.html#pragma_synchronous
 * and #pragma_journal_mode (docs/targets.md has the quotes):
 *   journal_mode memory|off            none (a crash mid-transaction may corrupt)
 *   synchronous=off                    process_safe (power loss may corrupt)
 *   wal + normal                       process_safe prefix atomic_batch ("always
 *                                      consistent", "does lose durability")
 *   wal + full|extra                   durable_ack process_safe prefix atomic_batch
 *   delete + extra                     durable_ack process_safe prefix atomic_batch
 *   delete|truncate|persist + full     process_safe prefix atomic_batch (durability
 *     (and truncate|persist + extra)   of the last commit across power loss is
 *                                      documented only for EXTRA in DELETE mode)
 *   delete|truncate|persist + normal   process_safe ("very small chance" of
 *                                      corruption on power loss in DELETE mode)
 *
 * Deterministic mode: SQLite is single-threaded here; the syscall sequence is
 * a function of the workload (journal/WAL salts are random bytes, not calls).
 */
#include "targets.h"

#include <sqlite3.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { JM_DELETE, JM_TRUNCATE, JM_PERSIST, JM_WAL, JM_MEMORY, JM_OFF };
enum { SY_OFF, SY_NORMAL, SY_FULL, SY_EXTRA };
static const char *const jm_names[] = {"delete", "truncate", "persist", "wal", "memory", "off"};
static const char *const sy_names[] = {"off", "normal", "full", "extra"};

typedef struct sql_conf {
  int jm, sy;
  uint64_t cache_bytes;  /* 0: SQLite's default */
} sql_conf;

typedef struct sql_target {
  sqlite3 *db;
  sqlite3_stmt *put, *del, *get;
  sql_conf conf;
  char msg[512];
} sql_target;

static int pick(const char *name, const char *val, const char *const *names, int n, int *out,
                char *msg, size_t len) {
  for (int i = 0; i < n; i++)
    if (!strcmp(val, names[i])) {
      *out = i;
      return 0;
    }
  snprintf(msg, len, "sqlite: %s '%s' is not one of %s", name, val,
           names == jm_names ? "delete|truncate|persist|wal|memory|off" : "off|normal|full|extra");
  return PC_EINVAL;
}

static int set_opt(void *arg, const char *name, const char *val, char *msg, size_t len) {
  sql_conf *c = arg;
  if (!strcmp(name, "journal_mode")) return pick(name, val, jm_names, 6, &c->jm, msg, len);
  if (!strcmp(name, "synchronous")) return pick(name, val, sy_names, 4, &c->sy, msg, len);
  if (!strcmp(name, "cache_size")) return pc_opt_u64(name, val, &c->cache_bytes, msg, len);
  snprintf(msg, len, "sqlite: unknown option '%s' (journal_mode, synchronous, cache_size)", name);
  return PC_EINVAL;
}

/* Workload hints are for other engines: SQLite has none of them. */
static int build_conf(const char *opts, sql_conf *c, char *msg, size_t len) {
  c->jm = JM_DELETE;
  c->sy = SY_FULL;
  c->cache_bytes = 0;
  return pc_opts_each(opts, set_opt, c, msg, len);
}

static int t_check_opts(const char *opts, const char *wopts, char *msg, size_t len) {
  sql_conf c;
  (void)wopts;
  return build_conf(opts, &c, msg, len);
}

static unsigned contract_of(const sql_conf *c) {
  const unsigned consistent = PC_CONTRACT_PROCESS_SAFE | PC_CONTRACT_PREFIX | PC_CONTRACT_ATOMIC_BATCH;
  if (c->jm == JM_MEMORY || c->jm == JM_OFF) return 0;
  if (c->sy == SY_OFF) return PC_CONTRACT_PROCESS_SAFE;
  if (c->jm == JM_WAL) return c->sy == SY_NORMAL ? consistent : consistent | PC_CONTRACT_DURABLE_ACK;
  if (c->sy == SY_NORMAL) return PC_CONTRACT_PROCESS_SAFE;
  if (c->jm == JM_DELETE && c->sy == SY_EXTRA) return consistent | PC_CONTRACT_DURABLE_ACK;
  return consistent;
}

static unsigned t_contract(const char *opts) {
  sql_conf c;
  char msg[128];
  if (build_conf(opts, &c, msg, sizeof msg)) return 0;
  return contract_of(&c);
}

static int fail_db(sql_target *t, const char *op) {
  snprintf(t->msg, sizeof t->msg, "sqlite %s: %s (code %d)", op, sqlite3_errmsg(t->db),
           sqlite3_extended_errcode(t->db));
  return PC_ETARGET;
}

static void destroy(sql_target *t) {
  if (!t) return;
  sqlite3_finalize(t->put);
  sqlite3_finalize(t->del);
  sqlite3_finalize(t->get);
  if (t->db) sqlite3_close(t->db);
  free(t);
}

static int exec_sql(sql_target *t, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(t->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    snprintf(t->msg, sizeof t->msg, "sqlite '%s': %s", sql, err ? err : sqlite3_errmsg(t->db));
    sqlite3_free(err);
    return PC_ETARGET;
  }
  return 0;
}

static int t_open(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                  size_t len) {
  sql_target *t = NULL;
  char path[4200], sql[128];
  sqlite3_stmt *st = NULL;
  int rc;
  (void)wopts;
  if (!(t = calloc(1, sizeof *t))) return PC_ENOMEM;
  if ((rc = build_conf(opts, &t->conf, msg, len))) goto fail;
  snprintf(path, sizeof path, "%s/kv.sqlite", dir);
  if (sqlite3_open_v2(path, &t->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    snprintf(msg, len, "sqlite3_open_v2(%s): %s", path, t->db ? sqlite3_errmsg(t->db) : "out of memory");
    rc = PC_ETARGET;
    goto fail;
  }
  /* journal_mode answers with the mode in force: check it took */
  snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", jm_names[t->conf.jm]);
  if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
    snprintf(msg, len, "sqlite %s on %s: %s", sql, path, sqlite3_errmsg(t->db));
    rc = PC_ETARGET;
    goto fail;
  }
  if (sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), jm_names[t->conf.jm])) {
    snprintf(msg, len, "sqlite %s on %s: the database stays in journal mode '%s'", sql, path,
             (const char *)sqlite3_column_text(st, 0));
    rc = PC_ETARGET;
    goto fail;
  }
  sqlite3_finalize(st);
  st = NULL;
  snprintf(sql, sizeof sql, "PRAGMA synchronous=%s", sy_names[t->conf.sy]);
  if ((rc = exec_sql(t, sql))) {
    snprintf(msg, len, "%s (%s)", t->msg, path);
    goto fail;
  }
  if (t->conf.cache_bytes) /* a negative cache_size is KiB */
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%" PRIu64, (t->conf.cache_bytes + 1023) / 1024);
  if ((t->conf.cache_bytes && (rc = exec_sql(t, sql))) ||
      (rc = exec_sql(t, "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB)"))) {
    snprintf(msg, len, "%s (%s)", t->msg, path);
    goto fail;
  }
  if (sqlite3_prepare_v2(t->db, "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)", -1, &t->put, NULL) ||
      sqlite3_prepare_v2(t->db, "DELETE FROM kv WHERE k = ?1", -1, &t->del, NULL) ||
      sqlite3_prepare_v2(t->db, "SELECT v FROM kv WHERE k = ?1", -1, &t->get, NULL)) {
    snprintf(msg, len, "sqlite prepare on %s: %s", path, sqlite3_errmsg(t->db));
    rc = PC_ETARGET;
    goto fail;
  }
  *h = t;
  return 0;
fail:
  sqlite3_finalize(st);
  destroy(t);
  return rc;
}

/* A zero-length blob must be bound with a non-NULL pointer, or it becomes NULL. */
static int bind(sqlite3_stmt *st, int i, const void *p, size_t n) {
  return sqlite3_bind_blob64(st, i, p ? p : "", (sqlite3_uint64)n, SQLITE_STATIC);
}

static int run(sql_target *t, sqlite3_stmt *st, const char *op) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? 0 : fail_db(t, op);
}

static int do_put(sql_target *t, const void *k, size_t kl, const void *v, size_t vl) {
  if (bind(t->put, 1, k, kl) || bind(t->put, 2, v, vl)) return fail_db(t, "bind(put)");
  return run(t, t->put, "put");
}

static int do_del(sql_target *t, const void *k, size_t kl) {
  if (bind(t->del, 1, k, kl)) return fail_db(t, "bind(delete)");
  return run(t, t->del, "delete");
}

static int t_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int sync) {
  (void)sync;
  return do_put(h, k, kl, v, vl);
}

static int t_del(void *h, const void *k, size_t kl, int sync) {
  (void)sync;
  return do_del(h, k, kl);
}

static int t_batch(void *h, const pc_kv_op *ops, size_t n, int sync) {
  sql_target *t = h;
  int rc;
  (void)sync;
  if ((rc = exec_sql(t, "BEGIN IMMEDIATE"))) return rc;
  for (size_t i = 0; i < n; i++) {
    rc = (ops[i].kind == PC_OP_DEL) ? do_del(t, ops[i].k, ops[i].klen)
                    : do_put(t, ops[i].k, ops[i].klen, ops[i].v, ops[i].vlen);
    if (rc) goto fail;
  }
  if ((rc = exec_sql(t, "COMMIT"))) goto fail;
  return 0;
fail:
  {
    char keep[sizeof t->msg];
    memcpy(keep, t->msg, sizeof keep);
    if (!sqlite3_get_autocommit(t->db)) exec_sql(t, "ROLLBACK");
    memcpy(t->msg, keep, sizeof keep);
  }
  return rc;
}

static int t_get(void *h, const void *k, size_t kl, void **v, size_t *vl) {
  sql_target *t = h;
  int rc, found = 0;
  if (bind(t->get, 1, k, kl)) return fail_db(t, "bind(get)");
  rc = sqlite3_step(t->get);
  if (rc == SQLITE_ROW) {
    const void *b = sqlite3_column_blob(t->get, 0);
    size_t n = (size_t)sqlite3_column_bytes(t->get, 0);
    if ((rc = pc_target_copy_value(b, n, v, vl)) < 0) goto out;
    found = 1;
    rc = 0;
  } else if (rc == SQLITE_DONE) {
    rc = 0;
  } else {
    rc = fail_db(t, "get");
  }
out:
  sqlite3_reset(t->get);
  sqlite3_clear_bindings(t->get);
  return rc ? rc : found;
}

static int t_scan(void *h, pc_scan_fn fn, void *arg) {
  sql_target *t = h;
  sqlite3_stmt *st = NULL;
  int rc = 0, s;
  /* BLOB ordering is memcmp, then length: the same bytewise order as the others */
  if (sqlite3_prepare_v2(t->db, "SELECT k, v FROM kv ORDER BY k", -1, &st, NULL) != SQLITE_OK)
    return fail_db(t, "prepare(scan)");
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    const void *k = sqlite3_column_blob(st, 0);
    size_t kl = (size_t)sqlite3_column_bytes(st, 0);
    const void *v = sqlite3_column_blob(st, 1);
    size_t vl = (size_t)sqlite3_column_bytes(st, 1);
    if ((rc = fn(arg, k ? k : "", kl, v ? v : "", vl))) break;
  }
  if (!rc && s != SQLITE_DONE) rc = fail_db(t, "scan");
  sqlite3_finalize(st);
  return rc;
}

/* a range query, re-bound per seek; its read transaction lasts until the
 * next seek resets it */
typedef struct sql_iter { sql_target *t; sqlite3_stmt *st; } sql_iter;
static int it_create(void *h, void **out) {
  sql_iter *p = calloc(1, sizeof *p);
  if (!p) return PC_ENOMEM;
  p->t = h;
  if (sqlite3_prepare_v2(p->t->db, "SELECT k, v FROM kv WHERE k >= ?1 ORDER BY k", -1, &p->st, NULL)) {
    free(p);
    return fail_db(h, "prepare(iterator)");
  }
  *out = p;
  return 0;
}
static int it_step(sql_iter *p) {
  int rc = sqlite3_step(p->st);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail_db(p->t, "iterator step");
}
static int it_seek(void *it, const void *k, size_t kl) {
  sql_iter *p = it;
  sqlite3_reset(p->st);
  if (bind(p->st, 1, k, kl)) return fail_db(p->t, "bind(seek)");
  return it_step(p);
}
static int it_next(void *it) { return it_step(it); }
static void it_entry(void *it, const void **k, size_t *kl, const void **v, size_t *vl) {
  sql_iter *p = it;
  *k = sqlite3_column_blob(p->st, 0);
  *kl = (size_t)sqlite3_column_bytes(p->st, 0);
  *v = sqlite3_column_blob(p->st, 1);
  *vl = (size_t)sqlite3_column_bytes(p->st, 1);
}
static void it_destroy(void *it) {
  sql_iter *p = it;
  if (!p) return;
  sqlite3_finalize(p->st);
  free(p);
}
static const pc_iter_ops sql_iter_ops = {
  .create = it_create, .seek = it_seek, .next = it_next, .entry = it_entry, .destroy = it_destroy,
};

static int t_sync(void *h) {
  sql_target *t = h;
  return t->conf.jm == JM_WAL ? exec_sql(t, "PRAGMA wal_checkpoint(FULL)") : 0;
}

static int t_flush(void *h) {
  sql_target *t = h;
  return t->conf.jm == JM_WAL ? exec_sql(t, "PRAGMA wal_checkpoint(TRUNCATE)") : 0;
}

static int t_close(void *h) {
  sql_target *t = h;
  int rc = 0;
  sqlite3_finalize(t->put);
  sqlite3_finalize(t->del);
  sqlite3_finalize(t->get);
  t->put = t->del = t->get = NULL;
  if (sqlite3_close(t->db) != SQLITE_OK) rc = PC_ETARGET;
  else t->db = NULL;
  destroy(t);
  return rc;
}

static const char *t_errmsg(void *h) { return ((sql_target *)h)->msg; }

const pc_target pc_target_sqlite = {
  .abi = PC_TARGET_ABI,
  .name = "sqlite",
  .about = "SQLite (libsqlite3, in-process) as a table kv(k BLOB PRIMARY KEY, v BLOB); a batch is one "
           "transaction; the per-write sync flag is not used (synchronous= decides); contract: durable_ack "
           "only with wal+full|extra or delete+extra, process_safe only with synchronous=off or "
           "normal outside WAL, none with journal_mode=memory|off",
  .options_help = "journal_mode=delete|truncate|persist|wal|memory|off (default delete) "
                  "synchronous=off|normal|full|extra (default full) cache_size=N (page cache bytes)",
  .contract = PC_CONTRACT_PROCESS_SAFE | PC_CONTRACT_PREFIX | PC_CONTRACT_ATOMIC_BATCH,
  PC_TARGET_METHODS,
  .iter = &sql_iter_ops,
  .thread_note = "the adapter's handle is not thread-safe (shared prepared statements)",
  .bench_no_replay = "SQLite's open replays nothing (the WAL is read at the first transaction)",
  .bench_profile = "journal_mode=wal,synchronous=normal,cache_size=" PC_BENCH_PEER_CACHE,
};
