/*
 * sofadb.c - the sofadb target: the engine linked in-process.
 *
 * Contract (docs/targets.md): durable_ack, process_safe, prefix, atomic_batch,
 * close_syncs. The adapter always opens sofadb in deterministic mode so the
 * syscall sequence is a pure function of the workload (docs/design.md).
 *
 * `sofadb-nosync` is a deliberately broken, test-only variant: it acks sync
 * writes without syncing while claiming the same contract. The harness's own
 * tests use it to prove that a lying engine is caught (LOST_ACKED).
 *
 * `sofadb-groupbug` is another test-only variant with a planted group-commit
 * bug: a sync write that arrives while another thread's sync write is in
 * flight becomes a follower of that one: it is written WITHOUT sync and acked
 * once the leader's sync has returned, a sync that did not cover it. With one
 * driver thread there is never a leader in flight, so only a concurrent
 * workload (threads=N) can catch it.
 *
 * `sofadb-snapbug` and `sofadb-txnbug` are test-only variants with a planted
 * view bug: snapbug reads "at a snapshot" from the latest state (a snapshot
 * that does not hold still while writes go on); txnbug commits a transaction
 * as one write per key (not atomic: a crash between them tears it).
 */
#include "targets.h"
#include "sofadb.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The engine's codes become powercut's at this boundary (the engine's own
 * message stays available through errmsg): not found is an answer, not an
 * error; out of memory and bad arguments keep their meaning; the rest is an
 * I/O or engine error of the target. */
static int pc_code(int rc) {
  switch (rc) {
  case SDB_EOK: return 0;
  case SDB_ENOMEM: return PC_ENOMEM;
  case SDB_EINVAL: return PC_EINVAL;
  case SDB_EIO:
  case SDB_ENOSPC:
  case SDB_EFAILED: return PC_EIO;
  case SDB_ECONFLICT: return PC_ECONFLICT;
  default: return PC_ETARGET;
  }
}

typedef struct sdb_target {
  sdb *db;
  int lie_about_sync;
  int groupbug;            /* sofadb-groupbug: the planted follower bug (header) */
  pthread_mutex_t gmu;     /* groupbug: leader state */
  pthread_cond_t gcv;
  int leader_busy;         /* a sync write is in flight */
  int leader_synced;       /* its sync has returned */
  int followers, followed; /* followers of this leader; how many of them have written */
  uint64_t leader_gen;     /* sync writes finished */
  pthread_t seen[64];      /* the driver threads that have called in */
  int nseen;
  int grouped;             /* a group has formed: the first leader waited for the others */
  int snapbug, txnbug;     /* the planted view bugs (header) */
  char msg[512];
} sdb_target;

/* Every engine option by name (sdb_options_set: memtable_bytes, block_bytes,
 * l0_compaction_trigger, compression, cache_bytes, ...); unknown names are
 * the engine's error, with the list of valid ones. `deterministic` defaults to
 * 1 here (crash cases must repeat); `deterministic=0` (background compaction,
 * group commit) is for `powercut bench`, and for campaigns only knowingly:
 * their repro is then not guaranteed to give the same verdict. */
static int set_opt(void *arg, const char *name, const char *val, char *msg, size_t len) {
  sdb_options *o = arg;
  if (sdb_options_set(o, name, val, msg, len)) return PC_EINVAL;
  return 0;
}

static int build_opts(const char *opts, const char *wopts, sdb_options *o, char *msg, size_t len) {
  int rc;
  sdb_options_init(o);
  o->deterministic = 1;
  /* workload hints first (e.g. churn's tiny memtable), explicit target options win */
  if ((rc = pc_opts_each(wopts, set_opt, o, msg, len))) return rc;
  return pc_opts_each(opts, set_opt, o, msg, len);
}

static int t_check_opts(const char *opts, const char *wopts, char *msg, size_t len) {
  sdb_options o;
  return build_opts(opts, wopts, &o, msg, len);
}

static unsigned t_contract(const char *opts) {
  sdb_options o;
  char msg[16];
  unsigned c = PC_CONTRACT_DURABLE_ACK | PC_CONTRACT_PROCESS_SAFE | PC_CONTRACT_PREFIX | PC_CONTRACT_ATOMIC_BATCH;
  if (build_opts(opts, NULL, &o, msg, sizeof msg) == 0 && o.sync_on_close) c |= PC_CONTRACT_CLOSE_SYNCS;
  return c;
}

static int open_common(const char *dir, const char *opts, const char *wopts, void **h,
                       char *msg, size_t len, int lie) {
  sdb_options o;
  sdb_target *t;
  int rc;
  if ((rc = build_opts(opts, wopts, &o, msg, len))) return rc;
  if (!(t = calloc(1, sizeof *t))) return PC_ENOMEM;
  t->lie_about_sync = lie == 1;
  t->groupbug = lie == 2;
  t->snapbug = lie == 3;
  t->txnbug = lie == 4;
  pthread_mutex_init(&t->gmu, NULL);
  pthread_cond_init(&t->gcv, NULL);
  if ((rc = sdb_open(dir, &o, &t->db))) {
    snprintf(msg, len, "sdb_open(%s): %s: %s", dir, sdb_strerror(rc),
             t->db ? sdb_errmsg(t->db) : "");
    if (t->db) sdb_close(t->db);
    pthread_mutex_destroy(&t->gmu);
    pthread_cond_destroy(&t->gcv);
    free(t);
    return pc_code(rc);
  }
  *h = t;
  return 0;
}

static int t_open(const char *dir, const char *opts, const char *wopts, void **h, char *msg, size_t len) {
  return open_common(dir, opts, wopts, h, msg, len, 0);
}
static int t_open_nosync(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                         size_t len) {
  return open_common(dir, opts, wopts, h, msg, len, 1);
}

static int t_open_groupbug(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                           size_t len) {
  return open_common(dir, opts, wopts, h, msg, len, 2);
}
static int t_open_snapbug(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                          size_t len) {
  return open_common(dir, opts, wopts, h, msg, len, 3);
}
static int t_open_txnbug(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                         size_t len) {
  return open_common(dir, opts, wopts, h, msg, len, 4);
}

#define SYNC(t, s) ((t)->lie_about_sync ? 0 : (s))

/* sofadb-groupbug: before a sync write, 1 = lead (sync it), 0 = follow: the
 * follower waits until the leader's sync has returned, writes WITHOUT sync
 * and is acked when the leader finishes (group_end). Every follower's write
 * comes after the sync it is acked on, whatever the disk's speed, so the bug
 * does not hide behind timing. A leader also waits (up to GROUP_WAIT_MS) until
 * every other thread seen so far has joined its group before it syncs (the
 * first leader waits all of it, for every thread to arrive): the threads then move in step,
 * every group has followers, and the last group of a run (every thread's last
 * op) leaves acked writes behind the last sync, on a loaded machine as on an
 * idle one. With one thread only the first sync write waits. */
#define GROUP_WAIT_MS 50
static void group_note_thread(sdb_target *t) { /* under gmu */
  pthread_t self = pthread_self();
  for (int i = 0; i < t->nseen; i++)
    if (pthread_equal(t->seen[i], self)) return;
  if (t->nseen < (int)(sizeof t->seen / sizeof t->seen[0])) t->seen[t->nseen++] = self;
}
static int group_begin(sdb_target *t, int sync, uint64_t *gen) {
  int lead;
  if (!t->groupbug || !sync) return 1;
  pthread_mutex_lock(&t->gmu);
  group_note_thread(t);
  lead = !t->leader_busy;
  if (lead) t->leader_busy = 1, t->leader_synced = 0, t->followers = t->followed = 0;
  else t->followers++;
  *gen = t->leader_gen;
  if (lead && (t->nseen > 1 || !t->grouped)) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += GROUP_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    while (t->followers < t->nseen - 1 || !t->grouped) /* the first: all GROUP_WAIT_MS */
      if (pthread_cond_timedwait(&t->gcv, &t->gmu, &until)) break;
    t->grouped = 1;
  }
  if (!lead) pthread_cond_broadcast(&t->gcv); /* a leader may be waiting for this follower */
  while (!lead && t->leader_gen == *gen && !t->leader_synced) pthread_cond_wait(&t->gcv, &t->gmu);
  pthread_mutex_unlock(&t->gmu);
  return lead;
}
static void group_end(sdb_target *t, int sync, int lead, uint64_t gen) {
  if (!t->groupbug || !sync) return;
  pthread_mutex_lock(&t->gmu);
  if (lead) {
    t->leader_synced = 1;
    pthread_cond_broadcast(&t->gcv);
    sched_yield(); /* followers may still join */
    while (t->followed < t->followers) pthread_cond_wait(&t->gcv, &t->gmu);
    t->leader_busy = 0;
    t->leader_gen++;
    pthread_cond_broadcast(&t->gcv);
  } else {
    t->followed++;
    pthread_cond_broadcast(&t->gcv);
    while (t->leader_gen == gen) pthread_cond_wait(&t->gcv, &t->gmu); /* THE BUG: that sync began before this write */
  }
  pthread_mutex_unlock(&t->gmu);
}

static int t_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int sync) {
  sdb_target *t = h;
  uint64_t gen = 0;
  int lead = group_begin(t, sync, &gen);
  int rc = sdb_put(t->db, k, kl, v, vl, lead ? SYNC(t, sync) : 0);
  group_end(t, sync, lead, gen);
  return pc_code(rc);
}
static int t_del(void *h, const void *k, size_t kl, int sync) {
  sdb_target *t = h;
  uint64_t gen = 0;
  int lead = group_begin(t, sync, &gen);
  int rc = sdb_delete(t->db, k, kl, lead ? SYNC(t, sync) : 0);
  group_end(t, sync, lead, gen);
  return pc_code(rc);
}
static int t_delrange(void *h, const void *b, size_t bl, const void *e, size_t el, int sync) {
  sdb_target *t = h;
  uint64_t gen = 0;
  int lead = group_begin(t, sync, &gen);
  int rc = sdb_delete_range(t->db, b, bl, e, el, lead ? SYNC(t, sync) : 0);
  group_end(t, sync, lead, gen);
  return pc_code(rc);
}
static int t_batch(void *h, const pc_kv_op *ops, size_t n, int sync) {
  sdb_target *t = h;
  sdb_batch *b;
  int rc = sdb_batch_create(&b);
  if (rc) return pc_code(rc);
  for (size_t i = 0; i < n && !rc; i++)
    rc = (ops[i].kind == PC_OP_DEL) ? sdb_batch_delete(b, ops[i].k, ops[i].klen)
                    : sdb_batch_put(b, ops[i].k, ops[i].klen, ops[i].v, ops[i].vlen);
  if (!rc) {
    uint64_t gen = 0;
    int lead = group_begin(t, sync, &gen);
    rc = sdb_write(t->db, b, lead ? SYNC(t, sync) : 0);
    group_end(t, sync, lead, gen);
  }
  sdb_batch_free(b);
  return pc_code(rc);
}
static int t_get(void *h, const void *k, size_t kl, void **v, size_t *vl) {
  sdb_target *t = h;
  int rc = sdb_get(t->db, k, kl, v, vl);
  if (rc == SDB_ENOTFOUND) return 0;
  return rc ? pc_code(rc) : 1;
}
static int t_scan(void *h, pc_scan_fn fn, void *arg) {
  sdb_target *t = h;
  sdb_iter *it;
  int rc = sdb_iter_create(t->db, NULL, 0, NULL, 0, &it);
  if (rc) return pc_code(rc);
  for (; sdb_iter_valid(it); sdb_iter_next(it)) {
    size_t kl, vl;
    const void *k = sdb_iter_key(it, &kl), *v = sdb_iter_value(it, &vl);
    if ((rc = fn(arg, k, kl, v, vl))) break;
  }
  if (!rc) rc = pc_code(sdb_iter_status(it));
  sdb_iter_free(it);
  return rc;
}
/* One sofadb iterator, made at the first seek, serves every seek (sdb_iter_seek):
 * the view is the state at that first seek, as an LMDB cursor or a reused
 * RocksDB iterator */
typedef struct sdb_pit { sdb *db; sdb_iter *it; } sdb_pit;
static int it_create(void *h, void **out) {
  sdb_pit *p = calloc(1, sizeof *p);
  if (!p) return PC_ENOMEM;
  p->db = ((sdb_target *)h)->db;
  *out = p;
  return 0;
}
static int it_pos(sdb_pit *p) {
  int rc = sdb_iter_status(p->it);
  if (rc) return PC_ETARGET;
  return sdb_iter_valid(p->it);
}
static int it_seek(void *it, const void *k, size_t kl) {
  sdb_pit *p = it;
  if (p->it) {
    if (sdb_iter_seek(p->it, k, kl)) return PC_ETARGET;
  } else if (sdb_iter_create(p->db, k, kl, NULL, 0, &p->it)) {
    return PC_ETARGET;
  }
  return it_pos(p);
}
static int it_next(void *it) {
  sdb_pit *p = it;
  sdb_iter_next(p->it);
  return it_pos(p);
}
static void it_entry(void *it, const void **k, size_t *kl, const void **v, size_t *vl) {
  sdb_pit *p = it;
  *k = sdb_iter_key(p->it, kl);
  *v = sdb_iter_value(p->it, vl);
}
static void it_destroy(void *it) {
  sdb_pit *p = it;
  if (p && p->it) sdb_iter_free(p->it);
  free(p);
}
static const pc_iter_ops sdb_iter_ops = {
  .create = it_create, .seek = it_seek, .next = it_next, .entry = it_entry, .destroy = it_destroy,
};

/* ---- snapshots ---- */
static int sn_take(void *h, void **snap) {
  const sdb_snap *s = NULL;
  int rc = sdb_snapshot(((sdb_target *)h)->db, &s);
  *snap = (void *)s;
  return pc_code(rc);
}
/* snapbug reads the latest state, not the snapshot's (THE BUG) */
static const sdb_snap *at(sdb_target *t, void *snap) { return t->snapbug ? NULL : snap; }
static int sn_get(void *h, void *snap, const void *k, size_t kl, void **v, size_t *vl) {
  sdb_target *t = h;
  int rc = sdb_get_at(t->db, at(t, snap), k, kl, v, vl);
  if (rc == SDB_ENOTFOUND) return 0;
  return rc ? pc_code(rc) : 1;
}
static int iter_scan(sdb_iter *it, pc_scan_fn fn, void *arg) {
  int rc = 0;
  for (; sdb_iter_valid(it); sdb_iter_next(it)) {
    size_t kl, vl;
    const void *k = sdb_iter_key(it, &kl), *v = sdb_iter_value(it, &vl);
    if ((rc = fn(arg, k, kl, v, vl))) break;
  }
  if (!rc) rc = pc_code(sdb_iter_status(it));
  sdb_iter_free(it);
  return rc;
}
static int sn_scan(void *h, void *snap, const void *lo, size_t lol, const void *hi, size_t hil, pc_scan_fn fn,
                   void *arg) {
  sdb_target *t = h;
  sdb_iter *it;
  int rc = sdb_iter_create_at(t->db, at(t, snap), lo, lol, hil ? hi : NULL, hil, &it);
  return rc ? pc_code(rc) : iter_scan(it, fn, arg);
}
static void sn_release(void *h, void *snap) { sdb_snapshot_release(((sdb_target *)h)->db, snap); }
static const pc_snap_ops sdb_snap_ops = {.take = sn_take, .get = sn_get, .scan = sn_scan, .release = sn_release};

/* ---- transactions ---- */
typedef struct sdb_ptxn {
  sdb_target *t;
  sdb_txn *x;
  pc_kv_op *w; /* txnbug: the writes, to commit one by one */
  size_t nw, cap;
} sdb_ptxn;
static int tx_begin(void *h, void **out) {
  sdb_ptxn *p = calloc(1, sizeof *p);
  int rc;
  if (!p) return PC_ENOMEM;
  p->t = h;
  if ((rc = sdb_txn_begin(p->t->db, &p->x))) {
    free(p);
    return pc_code(rc);
  }
  *out = p;
  return 0;
}
static int tx_get(void *txn, const void *k, size_t kl, void **v, size_t *vl) {
  int rc = sdb_txn_get(((sdb_ptxn *)txn)->x, k, kl, v, vl);
  if (rc == SDB_ENOTFOUND) return 0;
  return rc ? pc_code(rc) : 1;
}
static int tx_note(sdb_ptxn *p, pc_op_kind kind, const void *k, size_t kl, const void *v, size_t vl) {
  if (!p->t->txnbug) return 0;
  if (p->nw == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 8;
    pc_kv_op *w = realloc(p->w, cap * sizeof *w);
    if (!w) return PC_ENOMEM;
    p->w = w, p->cap = cap;
  }
  void *kc = malloc(kl + 1), *vc = malloc(vl + 1);
  if (!kc || !vc) {
    free(kc), free(vc);
    return PC_ENOMEM;
  }
  memcpy(kc, k, kl);
  if (vl) memcpy(vc, v, vl);
  p->w[p->nw++] = (pc_kv_op){kind, kc, kl, vc, vl};
  return 0;
}
static int tx_put(void *txn, const void *k, size_t kl, const void *v, size_t vl) {
  sdb_ptxn *p = txn;
  int rc = tx_note(p, PC_OP_PUT, k, kl, v, vl);
  return rc ? rc : pc_code(sdb_txn_put(p->x, k, kl, v, vl));
}
static int tx_del(void *txn, const void *k, size_t kl) {
  sdb_ptxn *p = txn;
  int rc = tx_note(p, PC_OP_DEL, k, kl, NULL, 0);
  return rc ? rc : pc_code(sdb_txn_delete(p->x, k, kl));
}
static void tx_free(sdb_ptxn *p) {
  for (size_t i = 0; i < p->nw; i++) free((void *)p->w[i].k), free((void *)p->w[i].v);
  free(p->w);
  free(p);
}
static int tx_commit(void *txn, int sync) {
  sdb_ptxn *p = txn;
  int rc = 0;
  if (p->t->txnbug) { /* THE BUG: one write per key, so a crash between them tears it */
    sdb_txn_rollback(p->x);
    for (size_t i = 0; i < p->nw && !rc; i++)
      rc = p->w[i].kind == PC_OP_DEL ? sdb_delete(p->t->db, p->w[i].k, p->w[i].klen, sync)
                                     : sdb_put(p->t->db, p->w[i].k, p->w[i].klen, p->w[i].v, p->w[i].vlen, sync);
  } else {
    rc = sdb_txn_commit(p->x, sync);
  }
  tx_free(p);
  return pc_code(rc);
}
static void tx_rollback(void *txn) {
  sdb_ptxn *p = txn;
  sdb_txn_rollback(p->x);
  tx_free(p);
}
static const pc_txn_ops sdb_txn_ops = {.begin = tx_begin, .get = tx_get, .put = tx_put, .del = tx_del,
                                       .commit = tx_commit, .rollback = tx_rollback};

/* ---- checkpoints ---- */
static int t_checkpoint(void *h, const char *dir) { return pc_code(sdb_checkpoint(((sdb_target *)h)->db, dir)); }
/* read-only and never created: a directory without CURRENT (an unfinished checkpoint) is
 * SDB_ENOENT, damage is SDB_ECORRUPT, each with the engine's reason */
static int t_checkpoint_open(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                             size_t len) {
  char o[1024];
  snprintf(o, sizeof o, "%s%sread_only=1,create_if_missing=0", opts, opts[0] ? "," : "");
  return open_common(dir, o, wopts, h, msg, len, 0);
}

static int t_sync(void *h) {
  sdb_target *t = h;
  return t->lie_about_sync ? 0 : pc_code(sdb_sync(t->db));
}
static int t_flush(void *h) { return pc_code(sdb_flush(((sdb_target *)h)->db)); }
static int t_close(void *h) {
  sdb_target *t = h;
  int rc = sdb_close(t->db);
  pthread_mutex_destroy(&t->gmu);
  pthread_cond_destroy(&t->gcv);
  free(t);
  return pc_code(rc);
}
static const char *t_errmsg(void *h) {
  sdb_target *t = h;
  snprintf(t->msg, sizeof t->msg, "%s", sdb_errmsg(t->db));
  return t->msg;
}

#define SOFADB_OPTS_HELP "any sofadb option as name=value (docs/sofadb.md \"Options\"), e.g. memtable_bytes=N l0_compaction_trigger=N compression=zlib sync_on_close=0"

#define SOFADB_TARGET_COMMON                                                                   \
  .abi = PC_TARGET_ABI, .options_help = SOFADB_OPTS_HELP,                                         \
  .check_opts = t_check_opts, .put = t_put, .del = t_del, .batch = t_batch,                      \
  .delrange = t_delrange, .get = t_get, .scan = t_scan, .sync = t_sync, .flush = t_flush,         \
  .close = t_close, .errmsg = t_errmsg, .iter = &sdb_iter_ops,                                   \
  /* every call takes the engine's db->mu (engine/src/db.c) */                                   \
  .thread_safe = 1, .snap = &sdb_snap_ops, .iter_view = 1, .txn = &sdb_txn_ops,                  \
  .checkpoint = t_checkpoint, .checkpoint_open = t_checkpoint_open

/* background mode: group commit, flushes and compactions on the engine's own thread */
static const char *const sofadb_modes[] = {"deterministic=0", NULL};

const pc_target pc_target_sofadb = {
  SOFADB_TARGET_COMMON,
  .name = "sofadb",
  .about = "sofadb, the LSM engine shipped with powercut (in-process, deterministic mode)",
  .contract_for = t_contract,
  .open = t_open,
  .modes = sofadb_modes,
};

const pc_target pc_target_sofadb_nosync = {
  SOFADB_TARGET_COMMON,
  .name = "sofadb-nosync",
  .about = "TEST ONLY: sofadb behind an adapter that acks sync writes without syncing",
  .contract_for = t_contract,
  .open = t_open_nosync,
};

/* TEST ONLY: sofadb whose close does not sync (sync_on_close=0 forced) behind an
 * adapter that still claims close_syncs: only a crash after an acked close and
 * before the next open's own syncs can tell (docs/robustness.md). */
static int t_open_closenosync(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                              size_t len) {
  char o[1024];
  snprintf(o, sizeof o, "%s%ssync_on_close=0", opts, opts[0] ? "," : "");
  return open_common(dir, o, wopts, h, msg, len, 0);
}
static unsigned t_contract_closenosync(const char *opts) { return t_contract(opts) | PC_CONTRACT_CLOSE_SYNCS; }

const pc_target pc_target_sofadb_close_nosync = {
  SOFADB_TARGET_COMMON,
  .name = "sofadb-close-nosync",
  .about = "TEST ONLY: sofadb with sync_on_close=0 behind an adapter that claims close_syncs",
  .contract_for = t_contract_closenosync,
  .open = t_open_closenosync,
};

const pc_target pc_target_sofadb_groupbug = {
  SOFADB_TARGET_COMMON,
  .name = "sofadb-groupbug",
  .about = "TEST ONLY: sofadb behind an adapter with a group-commit bug: a sync write that "
           "arrives while another is in flight is acked on that one's sync, which did not cover it",
  .contract_for = t_contract,
  .open = t_open_groupbug,
};

const pc_target pc_target_sofadb_snapbug = {
  SOFADB_TARGET_COMMON,
  .name = "sofadb-snapbug",
  .about = "TEST ONLY: sofadb behind an adapter whose reads at a snapshot read the latest state",
  .contract_for = t_contract,
  .open = t_open_snapbug,
};

const pc_target pc_target_sofadb_txnbug = {
  SOFADB_TARGET_COMMON,
  .name = "sofadb-txnbug",
  .about = "TEST ONLY: sofadb behind an adapter that commits a transaction as one write per key",
  .contract_for = t_contract,
  .open = t_open_txnbug,
};
