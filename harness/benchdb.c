/*
 * benchdb.c - `powercut bench`: db_bench-style workloads through the target
 * adapters, several targets interleaved in one run (docs/bench.md).
 *
 * Shape of a run: for run r = 1..R, for every target in --targets order, a
 * forked child runs the selected workloads on fresh data dirs and sends its
 * figures to the parent over a pipe (a crashing engine costs one cell, not
 * the bench). Runs are interleaved (run 1 of every target, then run 2 ...)
 * so that a shared machine's drift hits every target alike; the table shows
 * the median of the runs, min-max, and the ratio to the baseline target.
 *
 * Workloads (keys: 15 decimal digits + 'k', values: incompressible bytes):
 *   fillseq      N puts in key order, fresh db
 *   fillrandom   N puts in a pseudo-random permutation of the keys, fresh db;
 *                the db size (after close) is recorded
 *   overwrite    N puts of random existing keys into the fillrandom db
 *   readrandom   flush, close, open (reads come from files), N gets of random
 *                existing keys (every one must be found)
 *   readmissing  N gets of absent keys interleaved with the existing ones
 *   scan         one full scan of the db (ops = entries visited)
 *   seekrandom   N seeks to random existing keys through the adapter's
 *                iterator (pc_target.iter), each followed by SEEK_NEXTS nexts
 *   readwhilewriting  --readers threads, N gets of random existing keys in all,
 *                while one thread overwrites random keys (sync=0) until they
 *                are done; engines whose handle is thread-safe only
 *   fillsync     --sync-num puts with sync=1 by 1 thread, then by --threads
 *                threads (engines whose handle is not documented thread-safe
 *                are serialised with a mutex), plus the disk's own rate:
 *                append(key+value bytes) + fdatasync on a plain file
 *   recovery     the bench-recovery measurement: a child fills --recovery-bytes
 *                of synced, unflushed data and dies; a fresh child times open()
 *   shim         fillrandom in re-executed children: no shim (LD_PRELOAD
 *                cleared), shim idle (loaded, configured with no plan), shim
 *                tracking power-loss state (plan "none", model strict)
 *
 * Profiles: by default each engine runs with the options its users set for a
 * db_bench-style run (bench_opts, pc_bench_profile); --profile crash keeps
 * the adapters' crash-testing options. Rows that measure nothing (recovery of
 * an engine whose open replays no log, seekrandom without an iterator,
 * readwhilewriting on a handle that is not thread-safe) are n/a with the
 * reason, never a ratio. Every row carries the child's peak RSS.
 *
 * The bench process itself never loads the shim (`bench` is dispatched before
 * the CLI's re-exec under LD_PRELOAD); only the shim children do.
 */
#define _GNU_SOURCE
#include "harness_int.h"
#include "targets/targets.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXT 16
#define MAXRUNS 50

enum {
  B_FILLSEQ, B_FILLRANDOM, B_OVERWRITE, B_READRANDOM, B_READMISSING, B_SCAN, B_SEEKRANDOM,
  B_READWRITE, B_FILLSYNC1, B_FILLSYNCN, B_RECOVERY, B_SHIM_NONE, B_SHIM_IDLE, B_SHIM_TRACK, B__N
};
static const char *const bench_row[B__N] = {
  "fillseq", "fillrandom", "overwrite", "readrandom", "readmissing", "scan", "seekrandom",
  "readwhilewriting", "fillsync-1t", "fillsync-Nt", "recovery", "shim-none", "shim-idle", "shim-track",
};
/* selectable names (--benchmarks) and the rows they produce */
static const struct { const char *name; unsigned rows; } bench_sel[] = {
  {"fillseq", 1u << B_FILLSEQ},         {"fillrandom", 1u << B_FILLRANDOM},
  {"overwrite", 1u << B_OVERWRITE},     {"readrandom", 1u << B_READRANDOM},
  {"readmissing", 1u << B_READMISSING}, {"scan", 1u << B_SCAN},
  {"seekrandom", 1u << B_SEEKRANDOM},  {"readwhilewriting", 1u << B_READWRITE},
  {"fillsync", (1u << B_FILLSYNC1) | (1u << B_FILLSYNCN)},
  {"recovery", 1u << B_RECOVERY},
  {"shim", (1u << B_SHIM_NONE) | (1u << B_SHIM_IDLE) | (1u << B_SHIM_TRACK)},
};
#define DEFAULT_BENCHMARKS "fillseq,fillrandom,overwrite,readrandom,readmissing,scan,seekrandom,readwhilewriting,fillsync,recovery,shim"
#define SEEK_NEXTS 10 /* seekrandom: entries read after each seek */

typedef struct bench_target {
  char name[64];
  char user_opts[512];  /* from --targets name:k=v,... */
  const pc_target *t;
  int concurrent;       /* handle documented thread-safe: no mutex in fillsync-Nt */
  int shim;             /* runs the shim rows (sofadb and the baseline, or --shim-all) */
  const char *no_replay; /* why its open replays no log (its recovery row is n/a), or NULL */
} bench_target;

typedef struct bench_cfg {
  uint64_t num, sync_num, recovery_bytes;
  size_t klen, vlen;
  int runs, threads, readers, json;
  int crash_profile;    /* --profile crash: the adapters' crash-testing options */
  unsigned rows;
  char root[1024];      /* per-bench temp dir */
  int tmpfs;
  const char *shim;     /* libfaultfs.so path, NULL when not found */
  const char *exe;
} bench_cfg;

/* one figure, child -> parent */
typedef struct bench_rec {
  int row;
  double ops_s, mb_s;
  uint64_t bytes;       /* fillrandom: db size after close */
  int64_t rss_kib;      /* peak RSS of the child during the row (VmHWM), -1 unknown */
  int64_t us;           /* the timed part */
} bench_rec;

/* ---------------------------------------------------------------- keys and values */

static char *g_vals;               /* 1 MiB of incompressible bytes */
#define VALBUF (1u << 20)

static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static void make_values(void) {
  uint64_t s = 0x9e3779b97f4a7c15ull;
  if (g_vals) return;
  g_vals = malloc(VALBUF);
  if (!g_vals) abort();
  for (size_t i = 0; i < VALBUF; i += 8) {
    uint64_t r = rng_next(&s);
    memcpy(g_vals + i, &r, 8);
  }
}

static const char *value_for(uint64_t i, size_t vlen) {
  return g_vals + (i * 7919u) % (VALBUF - vlen);
}

/* key: idx as zero-padded decimal in klen-1 chars, then a tag ('k' present,
 * 'm' missing): missing keys sort between present ones. */
static void key_for(char *k, size_t klen, uint64_t idx, char tag) {
  for (size_t p = klen - 1; p-- > 0;) {
    k[p] = (char)('0' + idx % 10);
    idx /= 10;
  }
  k[klen - 1] = tag;
}

static uint64_t gcd64(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* a permutation of [0,n): i -> (i*p + off) mod n with gcd(p,n) = 1 */
typedef struct perm { uint64_t n, p, off; } perm;
static void perm_init(perm *pm, uint64_t n) {
  pm->n = n;
  pm->p = 2654435761u % n;
  if (pm->p == 0) pm->p = 1;
  while (gcd64(pm->p, n) != 1) pm->p++;
  pm->off = n / 3;
}
static uint64_t perm_at(const perm *pm, uint64_t i) {
  return (uint64_t)(((unsigned __int128)i * pm->p + pm->off) % pm->n);
}

/* ---------------------------------------------------------------- helpers */

static uint64_t tree_bytes(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  uint64_t n = 0;
  if (!d) return 0;
  while ((e = readdir(d))) {
    char p[4096];
    struct stat st;
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (lstat(p, &st)) continue;
    if (S_ISREG(st.st_mode)) n += (uint64_t)st.st_size;
    else if (S_ISDIR(st.st_mode)) n += tree_bytes(p);
  }
  closedir(d);
  return n;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* appends "k=v" options: bench defaults first, the user's last (they win) */
static void opts_join(char *out, size_t len, const char *a, const char *b) {
  snprintf(out, len, "%s%s%s", a, (*a && *b) ? "," : "", b);
}

/* Per-target options. Every profile runs the mode that matches the
 * workload's promise: non-sync workloads = writes reach the kernel, no fsync
 * per write; fillsync = each write durable when acked. The bench profile (the
 * default) adds what each engine's users set for a db_bench-style run (its
 * tuning guide or db_bench's flags, docs/bench.md); --profile crash keeps the
 * adapters' crash-testing defaults (RocksDB: one background job, no
 * automatic compactions; LevelDB: no bloom filter). The user's options come
 * last and win. Printed with the results. */
const char *pc_bench_profile(const pc_target *t) { return t->bench_profile; }

static void bench_opts(const bench_cfg *c, const bench_target *bt, int row, char *out, size_t len) {
  char base[512] = "";
  int sync = row == B_FILLSYNC1 || row == B_FILLSYNCN, tuned = !c->crash_profile;
  uint64_t big = c->recovery_bytes * 2 + (64u << 20);
  if (!strcmp(bt->name, "lmdb")) {
    uint64_t map = (c->num * (c->klen + c->vlen) * 4 + c->recovery_bytes * 4 + (256u << 20));
    snprintf(base, sizeof base, "mapsize=%" PRIu64 "%s", map, sync ? "" : ",nosync=1");
  } else if (!strcmp(bt->name, "sqlite")) {
    snprintf(base, sizeof base, "journal_mode=wal,synchronous=%s%s", sync ? "full" : "normal",
             tuned ? ",cache_size=" PC_BENCH_PEER_CACHE : "");
  } else if (!strcmp(bt->name, "sofadb")) {
    /* the engine's own default mode (background flush and compaction, group
     * commit), not the adapter's deterministic crash-testing mode; for
     * recovery, the whole fill stays in the log: no memtable switch */
    if (row == B_RECOVERY)
      snprintf(base, sizeof base, "deterministic=0,memtable_bytes=%" PRIu64, big);
    else
      snprintf(base, sizeof base, "deterministic=0");
  } else if (!strcmp(bt->name, "leveldb") || !strcmp(bt->name, "rocksdb")) {
    size_t l = tuned ? (size_t)snprintf(base, sizeof base, "%s", pc_bench_profile(bt->t)) : 0;
    /* recovery: keep the whole fill in the log (no memtable flush before the crash) */
    if (row == B_RECOVERY)
      snprintf(base + l, sizeof base - l, "%swrite_buffer_size=%" PRIu64, l ? "," : "", big);
  }
  opts_join(out, len, base, bt->user_opts);
}

static int open_t(const bench_target *bt, const char *dir, const char *opts, void **h) {
  char msg[512];
  int rc;
  if (rpt_mkdir_p(dir)) {
    fprintf(stderr, "powercut bench: mkdir %s: %s\n", dir, strerror(errno));
    return PC_ESETUP;
  }
  if ((rc = bt->t->open(dir, opts, "", h, msg, sizeof msg)))
    fprintf(stderr, "powercut bench: %s: open(%s): %s\n", bt->name, dir, msg);
  return rc;
}

static int close_t(const bench_target *bt, void *h) {
  int rc = bt->t->close(h);
  if (rc) fprintf(stderr, "powercut bench: %s: close failed (%d)\n", bt->name, rc);
  return rc;
}

static int put_fail(const bench_target *bt, void *h, const char *what, uint64_t i, int rc) {
  fprintf(stderr, "powercut bench: %s: %s failed at op %" PRIu64 " (%d): %s\n", bt->name, what, i, rc,
          bt->t->errmsg ? bt->t->errmsg(h) : "");
  return rc ? rc : PC_ETARGET;
}

/* Peak RSS per row: the child resets its high-water mark (writing 5 to
 * /proc/self/clear_refs sets VmHWM to the current RSS) before a row and reads
 * VmHWM when it sends the row's figures. RSS counts the file pages an engine
 * maps (sofadb's tables, LMDB's map) as well as its heap. */
static int g_rss_reset_failed;
static void rss_reset(void) {
  int f = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (f < 0 || write(f, "5", 1) != 1) g_rss_reset_failed = 1;
  if (f >= 0) close(f);
}
static int64_t rss_peak_kib(void) {
  char line[256];
  int64_t kib = -1;
  FILE *f = fopen("/proc/self/status", "re");
  if (!f || g_rss_reset_failed) {
    if (f) fclose(f);
    return -1;
  }
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6)) kib = strtoll(line + 6, NULL, 10);
  fclose(f);
  return kib;
}

static int send_rec_us(int fd, int row, double ops_s, double mb_s, uint64_t bytes, int64_t us) {
  bench_rec r = {row, ops_s, mb_s, bytes, rss_peak_kib(), us};
  return write(fd, &r, sizeof r) == (ssize_t)sizeof r ? 0 : PC_EIO;
}
static int send_rec(int fd, int row, double ops_s, double mb_s, uint64_t bytes) {
  bench_rec r = {row, ops_s, mb_s, bytes, rss_peak_kib(), 0};
  return write(fd, &r, sizeof r) == (ssize_t)sizeof r ? 0 : PC_EIO;
}

static double rate(uint64_t n, int64_t us) { return us > 0 ? (double)n * 1e6 / (double)us : 0; }
static double mib_s(uint64_t bytes, int64_t us) {
  return us > 0 ? (double)bytes / 1048576.0 * 1e6 / (double)us : 0;
}

/* ---------------------------------------------------------------- workloads */

/* order: 0 sequential, 1 permutation, 2 random with replacement (overwrite) */
static int do_fill(const bench_cfg *c, const bench_target *bt, void *h, int order, int sync,
                   uint64_t n, int64_t *us) {
  char k[256];
  perm pm;
  uint64_t s = 0x2545F4914F6CDD1Dull;
  int rc;
  perm_init(&pm, c->num);
  int64_t t0 = pc_now_us();
  for (uint64_t i = 0; i < n; i++) {
    uint64_t idx = order == 0 ? i : order == 1 ? perm_at(&pm, i) : rng_next(&s) % c->num;
    key_for(k, c->klen, idx, 'k');
    if ((rc = bt->t->put(h, k, c->klen, value_for(i, c->vlen), c->vlen, sync)))
      return put_fail(bt, h, "put", i, rc);
  }
  *us = pc_now_us() - t0;
  return 0;
}

static int do_reads(const bench_cfg *c, const bench_target *bt, void *h, char tag, int64_t *us) {
  char k[256];
  uint64_t s = tag == 'k' ? 0x853c49e6748fea9bull : 0xda3e39cb94b95bdbull, found = 0;
  int64_t t0 = pc_now_us();
  for (uint64_t i = 0; i < c->num; i++) {
    void *v = NULL;
    size_t vl = 0;
    key_for(k, c->klen, rng_next(&s) % c->num, tag);
    int rc = bt->t->get(h, k, c->klen, &v, &vl);
    if (rc < 0) return put_fail(bt, h, "get", i, rc);
    if (rc == 1) {
      found++;
      free(v);
    }
  }
  *us = pc_now_us() - t0;
  if (found != (tag == 'k' ? c->num : 0)) {
    fprintf(stderr, "powercut bench: %s: %s found %" PRIu64 " of %" PRIu64 " keys\n", bt->name,
            tag == 'k' ? "readrandom" : "readmissing", found, c->num);
    return PC_ETARGET;
  }
  return 0;
}

/* seekrandom: one iterator, N seeks to random existing keys, each must land
 * on its key, then SEEK_NEXTS nexts (fewer at the end of the db) */
static int do_seeks(const bench_cfg *c, const bench_target *bt, void *h, int64_t *us, uint64_t *bytes) {
  const pc_iter_ops *io = bt->t->iter;
  char k[256];
  uint64_t s = 0x6a09e667f3bcc909ull;
  void *it;
  int rc;
  *bytes = 0;
  if ((rc = io->create(h, &it))) return put_fail(bt, h, "iterator create", 0, rc);
  int64_t t0 = pc_now_us();
  for (uint64_t i = 0; i < c->num; i++) {
    const void *ek, *ev;
    size_t ekl, evl;
    key_for(k, c->klen, rng_next(&s) % c->num, 'k');
    if ((rc = io->seek(it, k, c->klen)) <= 0) {
      io->destroy(it);
      if (rc == 0) fprintf(stderr, "powercut bench: %s: seek to an existing key found nothing\n", bt->name);
      return put_fail(bt, h, "seek", i, rc);
    }
    io->entry(it, &ek, &ekl, &ev, &evl);
    if (ekl != c->klen || memcmp(ek, k, ekl)) {
      io->destroy(it);
      fprintf(stderr, "powercut bench: %s: seek to an existing key landed on another key\n", bt->name);
      return PC_ETARGET;
    }
    *bytes += ekl + evl;
    for (int j = 0; j < SEEK_NEXTS; j++) {
      if ((rc = io->next(it)) < 0) {
        io->destroy(it);
        return put_fail(bt, h, "next", i, rc);
      }
      if (rc == 0) break;
      io->entry(it, &ek, &ekl, &ev, &evl);
      *bytes += ekl + evl;
    }
  }
  *us = pc_now_us() - t0;
  io->destroy(it);
  return 0;
}

/* readwhilewriting: readers share the handle with one writer */
typedef struct rw_ctx {
  const bench_cfg *c;
  const bench_target *bt;
  void *h;
  uint64_t n, seed, found, writes;
  volatile int *stop;
  int rc;
} rw_ctx;

static void *rw_reader(void *arg) {
  rw_ctx *x = arg;
  char k[256];
  for (uint64_t i = 0; i < x->n && !x->rc; i++) {
    void *v = NULL;
    size_t vl = 0;
    key_for(k, x->c->klen, rng_next(&x->seed) % x->c->num, 'k');
    int rc = x->bt->t->get(x->h, k, x->c->klen, &v, &vl);
    if (rc < 0) x->rc = put_fail(x->bt, x->h, "get (readwhilewriting)", i, rc);
    else if (rc == 1) {
      x->found++;
      free(v);
    }
  }
  return NULL;
}

static void *rw_writer(void *arg) {
  rw_ctx *x = arg;
  char k[256];
  for (uint64_t i = 0; !__atomic_load_n(x->stop, __ATOMIC_ACQUIRE) && !x->rc; i++) {
    key_for(k, x->c->klen, rng_next(&x->seed) % x->c->num, 'k');
    int rc = x->bt->t->put(x->h, k, x->c->klen, value_for(i, x->c->vlen), x->c->vlen, 0);
    if (rc) __atomic_store_n(&x->rc, put_fail(x->bt, x->h, "put (readwhilewriting)", i, rc), __ATOMIC_RELEASE);
    else __atomic_add_fetch(&x->writes, 1, __ATOMIC_RELEASE);
  }
  return NULL;
}

static int do_readwrite(const bench_cfg *c, const bench_target *bt, void *h, int64_t *us, uint64_t *writes) {
  pthread_t th[65];
  rw_ctx x[65];
  volatile int stop = 0;
  int nr = c->readers, started = 0, rc = 0;
  uint64_t found = 0;
  x[0] = (rw_ctx){c, bt, h, 0, 0x510e527fade682d1ull, 0, 0, &stop, 0};
  if (pthread_create(&th[0], NULL, rw_writer, &x[0])) return PC_ESETUP;
  /* the readers start once the writer writes: on a loaded machine a small N could
   * otherwise be read entirely before the writer thread first runs (0 writes, no row) */
  while (!__atomic_load_n(&x[0].writes, __ATOMIC_ACQUIRE) && !__atomic_load_n(&x[0].rc, __ATOMIC_ACQUIRE))
    sched_yield();
  int64_t t0 = pc_now_us();
  for (int i = 1; i <= nr; i++) {
    uint64_t per = c->num / (uint64_t)nr;
    x[i] = (rw_ctx){c, bt, h, i == nr ? c->num - per * (uint64_t)(nr - 1) : per,
                    0x9b05688c2b3e6c1full + (uint64_t)i * 0x1f83d9abfb41bd6bull, 0, 0, &stop, 0};
    if (pthread_create(&th[i], NULL, rw_reader, &x[i])) {
      rc = PC_ESETUP;
      break;
    }
    started++;
  }
  for (int i = 1; i <= started; i++) {
    pthread_join(th[i], NULL);
    found += x[i].found;
    if (x[i].rc && !rc) rc = x[i].rc;
  }
  *us = pc_now_us() - t0;
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  pthread_join(th[0], NULL);
  if (x[0].rc && !rc) rc = x[0].rc;
  *writes = x[0].writes;
  if (!rc && found != c->num) {
    fprintf(stderr, "powercut bench: %s: readwhilewriting found %" PRIu64 " of %" PRIu64 " keys\n", bt->name,
            found, c->num);
    rc = PC_ETARGET;
  }
  return rc;
}

typedef struct scan_acc { uint64_t n, bytes; } scan_acc;
static int scan_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl) {
  scan_acc *a = arg;
  (void)k;
  (void)v;
  a->n++;
  a->bytes += kl + vl;
  return 0;
}

/* fillsync with T threads on one handle */
typedef struct sync_ctx {
  const bench_cfg *c;
  const bench_target *bt;
  void *h;
  pthread_mutex_t *mu;   /* NULL: the handle is thread-safe */
  uint64_t first, n;
  int rc;
} sync_ctx;

static void *sync_thread(void *arg) {
  sync_ctx *x = arg;
  char k[256];
  for (uint64_t i = x->first; i < x->first + x->n && !x->rc; i++) {
    key_for(k, x->c->klen, i, 'k');
    if (x->mu) pthread_mutex_lock(x->mu);
    int rc = x->bt->t->put(x->h, k, x->c->klen, value_for(i, x->c->vlen), x->c->vlen, 1);
    if (x->mu) pthread_mutex_unlock(x->mu);
    if (rc) x->rc = put_fail(x->bt, x->h, "sync put", i, rc);
  }
  return NULL;
}

static int do_fillsync(const bench_cfg *c, const bench_target *bt, const char *dir, int threads,
                       int64_t *us) {
  char opts[1024];
  void *h;
  pthread_t th[64];
  sync_ctx x[64];
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  int rc = 0, started = 0;
  bench_opts(c, bt, threads > 1 ? B_FILLSYNCN : B_FILLSYNC1, opts, sizeof opts);
  if ((rc = open_t(bt, dir, opts, &h))) return rc;
  int64_t t0 = pc_now_us();
  for (int i = 0; i < threads; i++) {
    uint64_t per = c->sync_num / (uint64_t)threads;
    x[i] = (sync_ctx){c, bt, h, bt->concurrent ? NULL : &mu, per * (uint64_t)i,
                      i == threads - 1 ? c->sync_num - per * (uint64_t)i : per, 0};
    if (pthread_create(&th[i], NULL, sync_thread, &x[i])) {
      rc = PC_ESETUP;
      break;
    }
    started++;
  }
  for (int i = 0; i < started; i++) {
    pthread_join(th[i], NULL);
    if (x[i].rc && !rc) rc = x[i].rc;
  }
  *us = pc_now_us() - t0;
  if (close_t(bt, h) && !rc) rc = PC_ETARGET;
  return rc;
}

/* the main child: every selected row except recovery and shim */
static int child_main(const bench_cfg *c, const bench_target *bt, const char *dir, int fd) {
  char d[1200], opts[1024];
  void *h;
  int64_t us;
  int rc;
  uint64_t rowbytes = c->num * (c->klen + c->vlen);
  unsigned r = c->rows;
  if (r & (1u << B_FILLSEQ)) {
    snprintf(d, sizeof d, "%s/fillseq", dir);
    rss_reset();
    bench_opts(c, bt, B_FILLSEQ, opts, sizeof opts);
    if ((rc = open_t(bt, d, opts, &h))) return rc;
    if ((rc = do_fill(c, bt, h, 0, 0, c->num, &us))) return rc;
    if ((rc = close_t(bt, h))) return rc;
    if ((rc = send_rec(fd, B_FILLSEQ, rate(c->num, us), mib_s(rowbytes, us), 0))) return rc;
    ffs_rm_rf(d);
  }
  if (r & ((1u << B_FILLRANDOM) | (1u << B_OVERWRITE) | (1u << B_READRANDOM) |
           (1u << B_READMISSING) | (1u << B_SCAN) | (1u << B_SEEKRANDOM) | (1u << B_READWRITE))) {
    snprintf(d, sizeof d, "%s/db", dir);
    rss_reset();
    bench_opts(c, bt, B_FILLRANDOM, opts, sizeof opts);
    if ((rc = open_t(bt, d, opts, &h))) return rc;
    if ((rc = do_fill(c, bt, h, 1, 0, c->num, &us))) return rc;
    if ((rc = close_t(bt, h))) return rc;
    if ((rc = send_rec(fd, B_FILLRANDOM, rate(c->num, us), mib_s(rowbytes, us), tree_bytes(d))))
      return rc;
    if (r & (1u << B_OVERWRITE)) {
      rss_reset();
      if ((rc = open_t(bt, d, opts, &h))) return rc;
      if ((rc = do_fill(c, bt, h, 2, 0, c->num, &us))) return rc;
      if ((rc = close_t(bt, h))) return rc;
      if ((rc = send_rec(fd, B_OVERWRITE, rate(c->num, us), mib_s(rowbytes, us), 0))) return rc;
    }
    if (r & ((1u << B_READRANDOM) | (1u << B_READMISSING) | (1u << B_SCAN) | (1u << B_SEEKRANDOM) | (1u << B_READWRITE))) {
      /* everything into tables, then reopen: reads come from files */
      rss_reset();
      if ((rc = open_t(bt, d, opts, &h))) return rc;
      if ((rc = bt->t->flush(h))) return put_fail(bt, h, "flush", 0, rc);
      if ((rc = close_t(bt, h))) return rc;
      if ((rc = open_t(bt, d, opts, &h))) return rc;
      if (r & (1u << B_READRANDOM)) {
        if ((rc = do_reads(c, bt, h, 'k', &us))) return rc;
        if ((rc = send_rec(fd, B_READRANDOM, rate(c->num, us), mib_s(rowbytes, us), 0))) return rc;
      }
      if (r & (1u << B_READMISSING)) {
        rss_reset();
        if ((rc = do_reads(c, bt, h, 'm', &us))) return rc;
        if ((rc = send_rec(fd, B_READMISSING, rate(c->num, us), mib_s(c->num * c->klen, us), 0)))
          return rc;
      }
      if (r & (1u << B_SCAN)) {
        scan_acc a = {0, 0};
        rss_reset();
        int64_t t0 = pc_now_us();
        if ((rc = bt->t->scan(h, scan_cb, &a))) return put_fail(bt, h, "scan", a.n, rc);
        us = pc_now_us() - t0;
        if (a.n != c->num) {
          fprintf(stderr, "powercut bench: %s: scan saw %" PRIu64 " entries, want %" PRIu64 "\n",
                  bt->name, a.n, c->num);
          return PC_ETARGET;
        }
        if ((rc = send_rec(fd, B_SCAN, rate(a.n, us), mib_s(a.bytes, us), 0))) return rc;
      }
      if ((r & (1u << B_SEEKRANDOM)) && bt->t->iter) {
        uint64_t sb;
        rss_reset();
        if ((rc = do_seeks(c, bt, h, &us, &sb))) return rc;
        if ((rc = send_rec(fd, B_SEEKRANDOM, rate(c->num, us), mib_s(sb, us), 0))) return rc;
      }
      if ((r & (1u << B_READWRITE)) && bt->concurrent) {
        uint64_t w;
        rss_reset();
        if ((rc = do_readwrite(c, bt, h, &us, &w))) return rc;
        /* bytes: the writer's puts per second during the reads */
        if ((rc = send_rec(fd, B_READWRITE, rate(c->num, us), mib_s(rowbytes, us), (uint64_t)rate(w, us))))
          return rc;
      }
      if ((rc = close_t(bt, h))) return rc;
    }
    ffs_rm_rf(d);
  }
  if (r & (1u << B_FILLSYNC1)) {
    uint64_t sb = c->sync_num * (c->klen + c->vlen);
    snprintf(d, sizeof d, "%s/sync1", dir);
    rss_reset();
    if ((rc = do_fillsync(c, bt, d, 1, &us))) return rc;
    if ((rc = send_rec(fd, B_FILLSYNC1, rate(c->sync_num, us), mib_s(sb, us), 0))) return rc;
    ffs_rm_rf(d);
    snprintf(d, sizeof d, "%s/syncN", dir);
    rss_reset();
    if ((rc = do_fillsync(c, bt, d, c->threads, &us))) return rc;
    if ((rc = send_rec(fd, B_FILLSYNCN, rate(c->sync_num, us), mib_s(sb, us), 0))) return rc;
    ffs_rm_rf(d);
  }
  return 0;
}

/* the disk's own rate: append klen+vlen bytes + fdatasync, sync_num times */
static int child_disk(const bench_cfg *c, const char *dir, int fd) {
  char p[1200];
  size_t n = c->klen + c->vlen;
  int f;
  rpt_mkdir_p(dir);
  snprintf(p, sizeof p, "%s/append.log", dir);
  if ((f = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0) {
    fprintf(stderr, "powercut bench: open %s: %s\n", p, strerror(errno));
    return PC_EIO;
  }
  rss_reset();
  int64_t t0 = pc_now_us();
  for (uint64_t i = 0; i < c->sync_num; i++)
    if (write(f, value_for(i, n), n) != (ssize_t)n || fdatasync(f)) {
      fprintf(stderr, "powercut bench: append+fdatasync %s: %s\n", p, strerror(errno));
      close(f);
      return PC_EIO;
    }
  int64_t us = pc_now_us() - t0;
  close(f);
  int rc = send_rec(fd, B_FILLSYNC1, rate(c->sync_num, us), mib_s(c->sync_num * n, us), 0);
  if (rc) return rc;
  /* the same writes into a preallocated, synced file: no size change per
   * write, so fdatasync has no metadata to commit (what a WAL that
   * preallocates or recycles its file pays) */
  snprintf(p, sizeof p, "%s/prealloc.log", dir);
  if ((f = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
      posix_fallocate(f, 0, (off_t)(c->sync_num * n)) || fsync(f)) {
    fprintf(stderr, "powercut bench: preallocate %s failed\n", p);
    if (f >= 0) close(f);
    return PC_EIO;
  }
  t0 = pc_now_us();
  for (uint64_t i = 0; i < c->sync_num; i++)
    if (pwrite(f, value_for(i, n), n, (off_t)(i * n)) != (ssize_t)n || fdatasync(f)) {
      fprintf(stderr, "powercut bench: pwrite+fdatasync %s: %s\n", p, strerror(errno));
      close(f);
      return PC_EIO;
    }
  us = pc_now_us() - t0;
  close(f);
  return send_rec(fd, B__N, rate(c->sync_num, us), mib_s(c->sync_num * n, us), 0);
}

/* recovery, step 1 (child): fill recovery_bytes, sync, die without close */
static int child_recovery_fill(const bench_cfg *c, const bench_target *bt, const char *dir) {
  char opts[1024], k[256];
  void *h;
  int rc;
  bench_opts(c, bt, B_RECOVERY, opts, sizeof opts);
  if ((rc = open_t(bt, dir, opts, &h))) return rc;
  uint64_t per = c->klen + c->vlen + 16, n = c->recovery_bytes / per;
  perm pm;
  perm_init(&pm, n ? n : 1);
  for (uint64_t i = 0; i < n; i++) {
    key_for(k, c->klen, perm_at(&pm, i), 'k');
    if ((rc = bt->t->put(h, k, c->klen, value_for(i, c->vlen), c->vlen, 0)))
      return put_fail(bt, h, "put", i, rc);
  }
  if ((rc = bt->t->sync(h))) return put_fail(bt, h, "sync", n, rc);
  _exit(0); /* a crash after the last durable write: no close */
}

/* recovery, step 2 (child): time open() */
static int child_recovery_open(const bench_cfg *c, const bench_target *bt, const char *dir, int fd) {
  char opts[1024];
  void *h;
  int rc;
  uint64_t bytes = tree_bytes(dir), n = c->recovery_bytes / (c->klen + c->vlen + 16);
  bench_opts(c, bt, B_RECOVERY, opts, sizeof opts);
  rss_reset();
  int64_t t0 = pc_now_us();
  if ((rc = open_t(bt, dir, opts, &h))) return rc;
  int64_t us = pc_now_us() - t0;
  if ((rc = send_rec_us(fd, B_RECOVERY, rate(n, us), mib_s(bytes, us), bytes, us))) return rc;
  _exit(0); /* the timing is done: no close (it may flush) */
}

/* shim child (re-executed, maybe under LD_PRELOAD): fillrandom */
static int child_shim(const bench_cfg *c, const bench_target *bt, const char *dir, int row) {
  char d[1200], st[1200], opts[1024];
  void *h;
  int64_t us;
  int rc;
  snprintf(d, sizeof d, "%s/db", dir);
  snprintf(st, sizeof st, "%s/state", dir);
  rpt_mkdir_p(d);
  rpt_mkdir_p(st);
  if (row != B_SHIM_NONE) {
    ffs_shim_configure_fn cf = (ffs_shim_configure_fn)dlsym(RTLD_DEFAULT, FFS_SHIM_CONFIGURE_SYM);
    if (!cf) {
      fprintf(stderr, "powercut bench: the faultfs shim is not loaded (LD_PRELOAD=%s)\n",
              getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
      return PC_ESETUP;
    }
    if ((rc = cf(row == B_SHIM_TRACK ? "none" : NULL, d, 1, "strict", st, NULL))) {
      fprintf(stderr, "powercut bench: shim configure failed: %s\n", ffs_strerror(rc));
      return PC_ESETUP;
    }
  }
  bench_opts(c, bt, B_FILLRANDOM, opts, sizeof opts);
  rss_reset();
  if ((rc = open_t(bt, d, opts, &h))) return rc;
  if ((rc = do_fill(c, bt, h, 1, 0, c->num, &us))) return rc;
  if ((rc = close_t(bt, h))) return rc;
  return send_rec(1, row, rate(c->num, us), mib_s(c->num * (c->klen + c->vlen), us), 0);
}

/* ---------------------------------------------------------------- parent side */

typedef struct cell {
  double ops[MAXRUNS], mb[MAXRUNS];
  uint64_t bytes[MAXRUNS];
  int64_t rss[MAXRUNS];   /* KiB, -1 unknown */
  int64_t us[MAXRUNS];    /* the timed part (recovery: the open) */
  int n;
  int failed;
} cell;

static cell g_cells[B__N][MAXT + 2]; /* columns MAXT, MAXT+1: the disk (fillsync-1t only):
                                      * appending, overwriting a preallocated file */

static void record(int col, const bench_rec *r) {
  if (r->row == B__N && col == MAXT) { /* the disk child's second figure */
    cell *y = &g_cells[B_FILLSYNC1][MAXT + 1];
    if (y->n < MAXRUNS) {
      y->ops[y->n] = r->ops_s;
      y->mb[y->n] = r->mb_s;
      y->rss[y->n] = r->rss_kib;
      y->bytes[y->n++] = 0;
    }
    return;
  }
  if (r->row < 0 || r->row >= B__N) return;
  cell *x = &g_cells[r->row][col];
  if (x->n >= MAXRUNS) return;
  x->ops[x->n] = r->ops_s;
  x->mb[x->n] = r->mb_s;
  x->bytes[x->n] = r->bytes;
  x->rss[x->n] = r->rss_kib;
  x->us[x->n] = r->us;
  x->n++;
}

/* forks fn in a child; reads its records from a pipe into column col.
 * expect: rows the child should produce (missing ones are marked failed). */
typedef int (*child_fn)(const bench_cfg *, const bench_target *, const char *, int);
static int run_child(const bench_cfg *c, const bench_target *bt, const char *dir, child_fn fn,
                     int col, unsigned expect) {
  int fds[2], st;
  pid_t pid;
  bench_rec r;
  unsigned got = 0;
  if (pipe(fds)) return PC_ESETUP;
  fflush(stdout);
  fflush(stderr);
  if ((pid = fork()) < 0) return PC_ESETUP;
  if (pid == 0) {
    close(fds[0]);
    _exit(fn(c, bt, dir, fds[1]) ? 3 : 0);
  }
  close(fds[1]);
  while (read(fds[0], &r, sizeof r) == (ssize_t)sizeof r) {
    record(col, &r);
    if (r.row < B__N) got |= 1u << r.row;
  }
  close(fds[0]);
  waitpid(pid, &st, 0);
  for (int b = 0; b < B__N; b++)
    if ((expect & (1u << b)) && !(got & (1u << b))) g_cells[b][col].failed = 1;
  return (WIFEXITED(st) && WEXITSTATUS(st) == 0 && (got & expect) == expect) ? 0 : PC_ETARGET;
}

static int main_child(const bench_cfg *c, const bench_target *bt, const char *dir, int fd) {
  return child_main(c, bt, dir, fd);
}
static int disk_child(const bench_cfg *c, const bench_target *bt, const char *dir, int fd) {
  (void)bt;
  return child_disk(c, dir, fd);
}
static int recov_child(const bench_cfg *c, const bench_target *bt, const char *dir, int fd) {
  (void)fd;
  return child_recovery_fill(c, bt, dir);
}
static int recov_open_child(const bench_cfg *c, const bench_target *bt, const char *dir, int fd) {
  return child_recovery_open(c, bt, dir, fd);
}

static int run_recovery(const bench_cfg *c, const bench_target *bt, const char *dir, int col) {
  int rc = run_child(c, bt, dir, recov_child, col, 0);
  if (rc) {
    g_cells[B_RECOVERY][col].failed = 1;
    return rc;
  }
  return run_child(c, bt, dir, recov_open_child, col, 1u << B_RECOVERY);
}

/* re-executes this binary as a shim child; env decides the shim */
static int run_shim(const bench_cfg *c, const bench_target *bt, const char *dir, int col, int row) {
  int fds[2], st;
  pid_t pid;
  bench_rec r;
  int got = 0;
  char num[32], rowbuf[16], tspec[700];
  if (row != B_SHIM_NONE && !c->shim) {
    g_cells[row][col].failed = 1;
    return PC_ESETUP;
  }
  snprintf(num, sizeof num, "%" PRIu64, c->num);
  snprintf(rowbuf, sizeof rowbuf, "%d", row);
  snprintf(tspec, sizeof tspec, "%s%s%s", bt->name, bt->user_opts[0] ? ":" : "", bt->user_opts);
  if (pipe(fds)) return PC_ESETUP;
  fflush(stdout);
  fflush(stderr);
  if ((pid = fork()) < 0) return PC_ESETUP;
  if (pid == 0) {
    char ksz[32], vsz[32];
    snprintf(ksz, sizeof ksz, "%zu", c->klen);
    snprintf(vsz, sizeof vsz, "%zu", c->vlen);
    close(fds[0]);
    if (dup2(fds[1], 1) < 0) _exit(3);
    if (row == B_SHIM_NONE) unsetenv("LD_PRELOAD");
    else {
      const char *a = getenv("ASAN_OPTIONS");
      char buf[1024];
      setenv("LD_PRELOAD", c->shim, 1);
      snprintf(buf, sizeof buf, "%s%sverify_asan_link_order=0", a ? a : "", a && *a ? ":" : "");
      setenv("ASAN_OPTIONS", buf, 1);
    }
    unsetenv(FFS_ENV_PLAN);
    execl(c->exe, c->exe, "bench", "--shim-child", rowbuf, "--targets", tspec, "--num", num,
          "--key-size", ksz, "--value-size", vsz, "--dir", dir, "--profile",
          c->crash_profile ? "crash" : "bench", (char *)NULL);
    _exit(4);
  }
  close(fds[1]);
  while (read(fds[0], &r, sizeof r) == (ssize_t)sizeof r)
    if (r.row == row) {
      record(col, &r);
      got = 1;
    }
  close(fds[0]);
  waitpid(pid, &st, 0);
  if (!got) g_cells[row][col].failed = 1;
  return got && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : PC_ETARGET;
}

typedef struct stat3 { double med, lo, hi, mb, bytes, us; int64_t rss; int ok; } stat3;
static stat3 cell_stat(const cell *x) {
  stat3 s = {0, 0, 0, 0, 0, 0, -1, 0};
  double o[MAXRUNS], m[MAXRUNS], b[MAXRUNS], u[MAXRUNS];
  if (x->n == 0) return s;
  for (int i = 0; i < x->n; i++) {
    o[i] = x->ops[i];
    m[i] = x->mb[i];
    b[i] = (double)x->bytes[i];
    u[i] = (double)x->us[i];
  }
  qsort(u, (size_t)x->n, sizeof *u, cmp_dbl);
  qsort(o, (size_t)x->n, sizeof *o, cmp_dbl);
  qsort(m, (size_t)x->n, sizeof *m, cmp_dbl);
  qsort(b, (size_t)x->n, sizeof *b, cmp_dbl);
  int mid = x->n / 2;
  /* median: the middle run, or the mean of the two middle ones */
  s.med = x->n % 2 ? o[mid] : (o[mid - 1] + o[mid]) / 2;
  s.mb = x->n % 2 ? m[mid] : (m[mid - 1] + m[mid]) / 2;
  s.bytes = x->n % 2 ? b[mid] : (b[mid - 1] + b[mid]) / 2;
  s.us = x->n % 2 ? u[mid] : (u[mid - 1] + u[mid]) / 2;
  s.lo = o[0];
  s.hi = o[x->n - 1];
  for (int i = 0; i < x->n; i++) /* the highest peak of the runs; unknown if any is */
    if (x->rss[i] < 0 || s.rss == -2) s.rss = -2;
    else if (x->rss[i] > s.rss) s.rss = x->rss[i];
  if (s.rss == -2) s.rss = -1;
  s.ok = 1;
  return s;
}

/* the ratio to the baseline compares MB/s (the same as ops/s except for
 * recovery, where MB/s of log replayed is the measure) */
static double ratio(int row, int col, int base) {
  stat3 a = cell_stat(&g_cells[row][col]), b = cell_stat(&g_cells[row][base]);
  if (!a.ok || !b.ok || b.mb <= 0) return NAN;
  return a.mb / b.mb;
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", *s);
    else fputc(*s, f);
  }
  fputc('"', f);
}

static const char *row_label(int row, int threads, char *buf, size_t len) {
  if (row == B_FILLSYNCN) snprintf(buf, len, "fillsync-%dt", threads);
  else snprintf(buf, len, "%s", bench_row[row]);
  return buf;
}

static void fmt_rss(char *buf, size_t len, int64_t kib) {
  if (kib < 0) snprintf(buf, len, "-");
  else snprintf(buf, len, "%.1f", (double)kib / 1024.0);
}

/* a cell that measured nothing: its reason, or NULL */
static const char *cell_na(const bench_target *ts, int nt, int row, int col) {
  if (col >= nt) return NULL;
  if (row == B_RECOVERY) return ts[col].no_replay;
  if (row == B_SEEKRANDOM && !ts[col].t->iter) return "the adapter has no iterator";
  if (row == B_READWRITE && !ts[col].concurrent)
    return ts[col].t->thread_note ? ts[col].t->thread_note : "the adapter's handle is not documented thread-safe";
  return NULL;
}

static void print_table(const bench_cfg *c, bench_target *ts, int nt, int base) {
  char lab[32], mm[64], rt[32], rss[32];
  printf("%-16s %-13s %15s %-23s %9s %10s %9s\n", "benchmark", "target", "ops/s (median)", "min-max",
         "MB/s", nt > 1 ? "vs base" : "", "peak MiB");
  for (int b = 0; b < B__N; b++) {
    if (!(c->rows & (1u << b))) continue;
    for (int col = 0; col <= nt + 1; col++) {
      int tc = col >= nt ? MAXT + (col - nt) : col;
      const char *tn = col == nt ? "disk" : col > nt ? "disk-prealloc" : ts[col].name, *na;
      if (col >= nt && b != B_FILLSYNC1) continue;
      const cell *x = &g_cells[b][tc];
      stat3 s = cell_stat(x);
      row_label(b, c->threads, lab, sizeof lab);
      if (x->n == 0 && !x->failed && (na = cell_na(ts, nt, b, col))) { /* not run: why */
        printf("%-16s %-13s %15s %-23s %9s %10s %9s  %s\n", lab, tn, "n/a", "", "", "", "", na);
        continue;
      }
      if (x->n == 0 && !x->failed) continue; /* not run for this target */
      if (!s.ok) {
        printf("%-16s %-13s %15s\n", lab, tn, "FAILED");
        continue;
      }
      fmt_rss(rss, sizeof rss, s.rss);
      if ((na = cell_na(ts, nt, b, col))) {
        printf("%-16s %-13s %15s %-23s %9s %10s %9s  open %.1f ms: %s%s\n", lab, tn, "n/a", "", "",
               "", rss, s.us / 1000.0, na, x->failed ? " (some runs failed)" : "");
        continue;
      }
      snprintf(mm, sizeof mm, "%.0f-%.0f", s.lo, s.hi);
      double r = col >= nt || cell_na(ts, nt, b, base) ? NAN : ratio(b, tc, base);
      if (isnan(r)) snprintf(rt, sizeof rt, "%s", "");
      else snprintf(rt, sizeof rt, "%.2fx", r);
      char extra[64] = "";
      if (b == B_READWRITE) snprintf(extra, sizeof extra, "  writer %.0f puts/s", s.bytes);
      printf("%-16s %-13s %15.0f %-23s %9.1f %10s %9s%s%s\n", lab, tn, s.med, mm, s.mb, rt, rss, extra,
             x->failed ? "  (some runs failed)" : "");
    }
  }
  if (c->rows & (1u << B_FILLRANDOM)) {
    printf("\n%-16s %-10s %15s %10s\n", "db size", "target", "bytes (median)", "vs base");
    stat3 bs = cell_stat(&g_cells[B_FILLRANDOM][base]);
    for (int col = 0; col < nt; col++) {
      stat3 s = cell_stat(&g_cells[B_FILLRANDOM][col]);
      if (!s.ok) continue;
      printf("%-16s %-10s %15.0f %9.2fx\n", "fillrandom", ts[col].name, s.bytes,
             bs.ok && bs.bytes > 0 ? s.bytes / bs.bytes : 0);
    }
  }
}

/* the shim's cost on each engine: idle and tracking vs no shim */
static void print_shim(const bench_cfg *c, bench_target *ts, int nt) {
  if (!(c->rows & (1u << B_SHIM_NONE))) return;
  printf("\nshim overhead (fillrandom ops/s relative to no shim):\n");
  for (int i = 0; i < nt; i++) {
    stat3 a = cell_stat(&g_cells[B_SHIM_NONE][i]), b = cell_stat(&g_cells[B_SHIM_IDLE][i]),
          t = cell_stat(&g_cells[B_SHIM_TRACK][i]);
    if (!a.ok || a.med <= 0) continue;
    printf("  %-10s idle %.2fx  tracking %.2fx\n", ts[i].name, b.ok ? b.med / a.med : 0,
           t.ok ? t.med / a.med : 0);
  }
}

static void print_json(FILE *f, const bench_cfg *c, bench_target *ts, int nt, int base) {
  char lab[32], opts[1024];
  fprintf(f, "{\"config\":{\"num\":%" PRIu64 ",\"sync_num\":%" PRIu64 ",\"recovery_bytes\":%" PRIu64
         ",\"key_size\":%zu,\"value_size\":%zu,\"runs\":%d,\"threads\":%d,\"readers\":%d,\"dir\":",
         c->num, c->sync_num, c->recovery_bytes, c->klen, c->vlen, c->runs, c->threads, c->readers);
  json_str(f, c->root);
  fprintf(f, ",\"tmpfs\":%s,\"profile\":\"%s\",\"baseline\":", c->tmpfs ? "true" : "false",
          c->crash_profile ? "crash" : "bench");
  json_str(f, ts[base].name);
  fprintf(f, "},\n\"results\":[");
  int first = 1;
  for (int b = 0; b < B__N; b++) {
    if (!(c->rows & (1u << b))) continue;
    for (int col = 0; col <= nt + 1; col++) {
      int tc = col >= nt ? MAXT + (col - nt) : col;
      if (col >= nt && b != B_FILLSYNC1) continue;
      const cell *x = &g_cells[b][tc];
      stat3 s = cell_stat(x);
      const char *na = cell_na(ts, nt, b, col);
      if (x->n == 0 && !x->failed && na) { /* not run: the row says why */
        fprintf(f, "%s\n{\"benchmark\":", first ? "" : ",");
        first = 0;
        json_str(f, row_label(b, c->threads, lab, sizeof lab));
        fprintf(f, ",\"target\":");
        json_str(f, ts[col].name);
        fprintf(f, ",\"ok\":true,\"na\":");
        json_str(f, na);
        fprintf(f, "}");
        continue;
      }
      if (x->n == 0 && !x->failed) continue; /* not run for this target */
      double r = col >= nt || na || cell_na(ts, nt, b, base) ? NAN : ratio(b, tc, base);
      fprintf(f, "%s\n{\"benchmark\":", first ? "" : ",");
      first = 0;
      json_str(f, row_label(b, c->threads, lab, sizeof lab));
      fprintf(f, ",\"target\":");
      json_str(f, col == nt ? "disk" : col > nt ? "disk-prealloc" : ts[col].name);
      if (col < nt) {
        bench_opts(c, &ts[col], b, opts, sizeof opts);
        fprintf(f, ",\"options\":");
        json_str(f, opts);
      }
      fprintf(f, ",\"ok\":%s,\"ops_per_s\":[", s.ok && !x->failed ? "true" : "false");
      for (int i = 0; i < x->n; i++) fprintf(f, "%s%.1f", i ? "," : "", x->ops[i]);
      fprintf(f, "],\"ops_per_s_median\":%.1f,\"ops_per_s_min\":%.1f,\"ops_per_s_max\":%.1f,"
             "\"mb_per_s_median\":%.2f",
             s.med, s.lo, s.hi, s.mb);
      if (b == B_FILLRANDOM || b == B_RECOVERY) fprintf(f, ",\"bytes_median\":%.0f", s.bytes);
      if (b == B_RECOVERY) fprintf(f, ",\"open_us_median\":%.0f", s.us);
      if (b == B_READWRITE) fprintf(f, ",\"writes_per_s_median\":%.0f", s.bytes);
      if (na) {
        fprintf(f, ",\"na\":");
        json_str(f, na);
      }
      fprintf(f, ",\"peak_rss_kib\":%" PRId64 ",\"peak_rss_kib_runs\":[", s.rss);
      for (int i = 0; i < x->n; i++) fprintf(f, "%s%" PRId64, i ? "," : "", x->rss[i]);
      fprintf(f, "]");
      if (!isnan(r)) fprintf(f, ",\"vs_baseline\":%.4f", r);
      fprintf(f, "}");
    }
  }
  fprintf(f, "\n]}\n");
}

static int parse_targets(const char *spec, bench_target *ts, int *nt) {
  char buf[4096], *save = NULL, *tok;
  snprintf(buf, sizeof buf, "%s", spec);
  *nt = 0;
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    const char *colon = strchr(tok, ':');
    if (!colon && strchr(tok, '=') && *nt > 0) { /* name:a=1,b=2: b=2 belongs to name */
      bench_target *p = &ts[*nt - 1];
      size_t l = strlen(p->user_opts);
      snprintf(p->user_opts + l, sizeof p->user_opts - l, "%s%s", l ? "," : "", tok);
      continue;
    }
    if (*nt >= MAXT) {
      fprintf(stderr, "powercut bench: at most %d targets\n", MAXT);
      return PC_EINVAL;
    }
    bench_target *t = &ts[(*nt)++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%.*s", colon ? (int)(colon - tok) : (int)strlen(tok), tok);
    snprintf(t->user_opts, sizeof t->user_opts, "%s", colon ? colon + 1 : "");
    if (!(t->t = pc_target_find(t->name)) || t->t->external) {
      fprintf(stderr, "powercut bench: unknown or unsupported target '%s' (in-process targets "
              "only: see `powercut targets`)\n", t->name);
      return PC_EINVAL;
    }
    /* each adapter says whether its handle may be shared (pc_target.thread_safe:
     * LevelDB, RocksDB, sofadb); the others get a mutex in the bench */
    t->concurrent = t->t->thread_safe;
    t->no_replay = pc_bench_no_replay(t->t);
  }
  for (int i = 0; i < *nt; i++) {
    char msg[512];
    if (ts[i].t->check_opts && ts[i].t->check_opts(ts[i].user_opts, "", msg, sizeof msg)) {
      fprintf(stderr, "powercut bench: %s: %s\n", ts[i].name, msg);
      return PC_EINVAL;
    }
  }
  return *nt ? 0 : PC_EINVAL;
}

/* $POWERCUT_SHIM, else beside the executable (ffs_shim_find); NULL, with the
 * places tried in tried, when it is not there */
static const char *find_shim(char *tried, size_t tlen) {
  static char p[PATH_MAX + 64];
  return ffs_shim_find("POWERCUT_SHIM", p, sizeof p, tried, tlen) ? NULL : p;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: powercut bench [--targets T[:k=v,...],...] [--benchmarks a,b,...] [--num N]\n"
          "                      [--runs R] [--baseline T] [--threads T] [--sync-num N]\n"
          "                      [--readers R] [--recovery-bytes B] [--key-size K] [--value-size V]\n"
          "                      [--dir D] [--profile bench|crash] [--json]\n"
          "db_bench-style workloads through the target adapters, targets interleaved per run.\n"
          "  --targets      default sofadb plus every peer built\n"
          "  --benchmarks   " DEFAULT_BENCHMARKS "\n"
          "  --num          keys per workload (default 1000000)\n"
          "  --runs         runs per (benchmark, target): median and min-max (default 3)\n"
          "  --baseline     ratio column's reference (default leveldb when built, else the first)\n"
          "  --threads      fillsync's second row (default 8)\n"
          "  --readers      reader threads in readwhilewriting, beside one writer (default 2)\n"
          "  --sync-num     puts in fillsync and the disk baseline (default min(num, 2000))\n"
          "  --recovery-bytes  log filled before the crash (default min(64M, num x 132))\n"
          "  --dir          where the temp data dirs go (default $TMPDIR or /tmp; not tmpfs,\n"
          "                 which would make fsync free)\n"
          "  --profile      bench (default): each engine with the options its users set for a\n"
          "                 db_bench-style run (bloom filters, block caches, RocksDB's automatic\n"
          "                 compactions); crash: the adapters' crash-testing options\n"
          "  --json         one JSON document on stdout instead of the table\n"
          "  --json-file F  also write the JSON document to F (with the table on stdout)\n"
          "  --shim-all     shim rows for every target (default: sofadb and the baseline)\n"
          "See docs/bench.md.\n");
}

/* pc_cmd_bench, step 1: the options into c and the strings (exit status, or -1 to go on). */
typedef struct bench_args {
  const char *json_file, *tspec, *bspec, *basename_, *dir;
  int shim_row, shim_all;
} bench_args;
static int parse_args(int argc, char **argv, bench_cfg *cp, bench_args *ap) {
  static const struct option lo[] = {
    {"targets", 1, 0, 't'},  {"benchmarks", 1, 0, 'b'}, {"num", 1, 0, 'n'},
    {"runs", 1, 0, 'r'},     {"baseline", 1, 0, 'B'},   {"threads", 1, 0, 'T'},
    {"sync-num", 1, 0, 's'}, {"recovery-bytes", 1, 0, 'R'}, {"key-size", 1, 0, 'k'},
    {"value-size", 1, 0, 'v'}, {"dir", 1, 0, 'd'},      {"json", 0, 0, 'j'},
    {"shim-child", 1, 0, 'S'}, {"shim-all", 0, 0, 'A'}, {"json-file", 1, 0, 'J'}, {"help", 0, 0, 'h'},
    {"profile", 1, 0, 'P'}, {"readers", 1, 0, 'E'}, {0, 0, 0, 0}};
  bench_cfg c = *cp;
  uint64_t u;
  int ch, sync_set = 0, recov_set = 0;
  const char *json_file = NULL, *tspec = NULL, *bspec = DEFAULT_BENCHMARKS, *basename_ = NULL, *dir = NULL;
  int shim_row = -1, shim_all = 0;
  optind = 1;
  while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
    switch (ch) {
    case 't': tspec = optarg; break;
    case 'b': bspec = optarg; break;
    case 'B': basename_ = optarg; break;
    case 'd': dir = optarg; break;
    case 'j': c.json = 1; break;
    case 'A': shim_all = 1; break;
    case 'J': json_file = optarg; break;
    case 'P':
      if (!strcmp(optarg, "crash")) c.crash_profile = 1;
      else if (!strcmp(optarg, "bench")) c.crash_profile = 0;
      else {
        fprintf(stderr, "powercut bench: --profile '%s' (bench or crash)\n", optarg);
        return 2;
      }
      break;
    case 'S': shim_row = atoi(optarg); break;
    case 'h': usage(stdout); return 0;
    case 'n': case 'r': case 'T': case 's': case 'R': case 'k': case 'v': case 'E':
      if (pc_opt_u64_pub(optarg, &u) || u == 0) {
        fprintf(stderr, "powercut bench: bad number '%s' (a positive integer, suffix K/M/G allowed)\n", optarg);
        return 2;
      }
      if (ch == 'n') c.num = u;
      else if (ch == 'r') {
        if (u > MAXRUNS) { fprintf(stderr, "powercut bench: --runs must be 1..%d\n", MAXRUNS); return 2; }
        c.runs = (int)u;
      } else if (ch == 'T') {
        if (u > 64) { fprintf(stderr, "powercut bench: --threads must be 1..64\n"); return 2; }
        c.threads = (int)u;
      } else if (ch == 'E') {
        if (u > 64) { fprintf(stderr, "powercut bench: --readers must be 1..64\n"); return 2; }
        c.readers = (int)u;
      } else if (ch == 's') { c.sync_num = u; sync_set = 1; }
      else if (ch == 'R') { c.recovery_bytes = u; recov_set = 1; }
      else if (ch == 'k') {
        if (u < 2 || u > 255) { fprintf(stderr, "powercut bench: --key-size must be 2..255\n"); return 2; }
        c.klen = (size_t)u;
      } else {
        if (u > 65536) { fprintf(stderr, "powercut bench: --value-size must be 1..65536\n"); return 2; }
        c.vlen = (size_t)u;
      }
      break;
    default: return pc_option_error("bench", argv, ch);
    }
  }
  if (optind < argc) {
    fprintf(stderr, "powercut bench: unexpected argument '%s' (see --help)\n", argv[optind]);
    return 2;
  }
  if (!sync_set) c.sync_num = c.num < 2000 ? c.num : 2000;
  if (!recov_set) c.recovery_bytes = c.num * 132 < (64u << 20) ? c.num * 132 : (64u << 20);
  if ((uint64_t)c.threads > c.sync_num) c.threads = (int)c.sync_num;
  if (c.klen - 1 < 20) {
    uint64_t cap = 1;
    for (size_t i = 0; i < c.klen - 1; i++) cap *= 10;
    if (c.num > cap) {
      fprintf(stderr, "powercut bench: --num %" PRIu64 " does not fit %zu-byte keys\n", c.num, c.klen);
      return 2;
    }
  }
  *cp = c;
  *ap = (bench_args){json_file, tspec, bspec, basename_, dir, shim_row, shim_all};
  return -1;
}

/* step 2: the rows of --benchmarks into c->rows; -1 with the reason printed */
static int select_rows(bench_cfg *c, const char *bspec) {
  char list[1024], *save = NULL, *tok;
  snprintf(list, sizeof list, "%s", bspec);
  for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    size_t i;
    for (i = 0; i < sizeof bench_sel / sizeof *bench_sel; i++)
      if (!strcmp(tok, bench_sel[i].name)) break;
    if (i == sizeof bench_sel / sizeof *bench_sel) {
      fprintf(stderr, "powercut bench: unknown benchmark '%s' (%s)\n", tok, DEFAULT_BENCHMARKS);
      return -1;
    }
    c->rows |= bench_sel[i].rows;
  }
  return 0;
}

/* step 3: every run of every row of every target, each in a child; 1 if one failed */
static int run_all(bench_cfg *cp, bench_target *ts, int nt) {
  bench_cfg c = *cp;
  int rc = 0;
  for (int r = 0; r < c.runs; r++) {
    char d[1200];
    if (c.rows & (1u << B_FILLSYNC1)) {
      snprintf(d, sizeof d, "%s/r%d-disk", c.root, r);
      if (run_child(&c, NULL, d, disk_child, MAXT, 1u << B_FILLSYNC1)) rc = 1;
      ffs_rm_rf(d);
    }
    for (int i = 0; i < nt; i++) {
      unsigned main_rows = c.rows & ~((1u << B_RECOVERY) | (1u << B_SHIM_NONE) |
                                      (1u << B_SHIM_IDLE) | (1u << B_SHIM_TRACK));
      if (!ts[i].t->iter) main_rows &= ~(1u << B_SEEKRANDOM); /* n/a: no iterator */
      if (!ts[i].concurrent) main_rows &= ~(1u << B_READWRITE); /* n/a: handle not thread-safe */
      fprintf(stderr, "powercut bench: run %d/%d %s\n", r + 1, c.runs, ts[i].name);
      snprintf(d, sizeof d, "%s/r%d-%s", c.root, r, ts[i].name);
      if (main_rows && run_child(&c, &ts[i], d, main_child, i, main_rows)) rc = 1;
      ffs_rm_rf(d);
      if (c.rows & (1u << B_RECOVERY)) {
        snprintf(d, sizeof d, "%s/r%d-%s-recovery", c.root, r, ts[i].name);
        if (run_recovery(&c, &ts[i], d, i)) rc = 1;
        ffs_rm_rf(d);
      }
      for (int row = B_SHIM_NONE; row <= B_SHIM_TRACK; row++) {
        if (!(c.rows & (1u << row)) || !ts[i].shim) continue;
        snprintf(d, sizeof d, "%s/r%d-%s-shim%d", c.root, r, ts[i].name, row);
        if (run_shim(&c, &ts[i], d, i, row)) rc = 1;
        ffs_rm_rf(d);
      }
    }
  }
  *cp = c;
  return rc;
}

/* step 4: the table, or the JSON */
static void print_results(const bench_cfg *cp, bench_target *ts, int nt, int base, const char *dir) {
  const bench_cfg c = *cp;
  if (!dir) dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  if (c.json) print_json(stdout, &c, ts, nt, base);
  else {
    printf("powercut bench: num=%" PRIu64 " (keys %zuB, values %zuB), runs=%d, fillsync %" PRIu64
           " puts, recovery %" PRIu64 " bytes, dir %s (%s), baseline %s, profile %s\n",
           c.num, c.klen, c.vlen, c.runs, c.sync_num, c.recovery_bytes, dir,
           c.tmpfs ? "tmpfs" : "real disk", ts[base].name, c.crash_profile ? "crash" : "bench");
    for (int i = 0; i < nt; i++) {
      char o1[1024], o2[1024];
      bench_opts(&c, &ts[i], B_FILLRANDOM, o1, sizeof o1);
      bench_opts(&c, &ts[i], B_FILLSYNC1, o2, sizeof o2);
      printf("  %-8s options: %s; fillsync: %s%s\n", ts[i].name, o1[0] ? o1 : "(defaults)",
             o2[0] ? o2 : "(defaults)", ts[i].concurrent ? "; threads share the handle" :
             "; threads serialised by a mutex");
      if (c.rows & (1u << B_RECOVERY)) {
        bench_opts(&c, &ts[i], B_RECOVERY, o1, sizeof o1);
        printf("  %-8s recovery: %s\n", "", o1[0] ? o1 : "(defaults)");
      }
    }
    printf("\n");
    print_table(&c, ts, nt, base);
    print_shim(&c, ts, nt);
  }
}

int pc_cmd_bench(int argc, char **argv) {
  static bench_target ts[MAXT];
  bench_cfg c;
  bench_args A = {0};
  char tdef[512] = "sofadb", exe[PATH_MAX], shim_tried[3 * PATH_MAX];
  int nt = 0, rc = 0;
  ssize_t n;
  memset(&c, 0, sizeof c);
  c.num = 1000000;
  c.runs = 3;
  c.threads = 8;
  c.readers = 2;
  c.klen = 16;
  c.vlen = 100;
  if ((rc = parse_args(argc, argv, &c, &A)) >= 0) return rc;
  rc = 0;
  const char *tspec = A.tspec, *dir = A.dir, *basename_ = A.basename_, *json_file = A.json_file;
  if (!tspec) {
    const pc_target *all[64];
    size_t na = pc_target_all(all, 64);
    for (size_t i = 0; i < na; i++) /* sofadb (already first) and the peers */
      if (!all[i]->external && strcmp(all[i]->name, "sofadb") && strncmp(all[i]->name, "sofadb-", 7) &&
          strncmp(all[i]->name, "corpus-", 7)) {
        size_t l = strlen(tdef);
        snprintf(tdef + l, sizeof tdef - l, ",%s", all[i]->name);
      }
    tspec = tdef;
  }
  if (parse_targets(tspec, ts, &nt)) return 2;
  make_values();

  if (A.shim_row >= 0) { /* re-executed shim child: one fillrandom, figures on stdout */
    if (A.shim_row < B_SHIM_NONE || A.shim_row > B_SHIM_TRACK || !dir) return 2;
    c.rows = 1u << B_FILLRANDOM;
    return child_shim(&c, &ts[0], dir, A.shim_row) ? 3 : 0;
  }
  if (select_rows(&c, A.bspec)) return 2;
  int base = 0;
  if (basename_) {
    for (base = 0; base < nt && strcmp(ts[base].name, basename_); base++) {}
    if (base == nt) {
      fprintf(stderr, "powercut bench: --baseline %s is not among --targets\n", basename_);
      return 2;
    }
  } else
    for (int i = 0; i < nt; i++)
      if (ts[i].t->bench_baseline) base = i;

  for (int i = 0; i < nt; i++) ts[i].shim = A.shim_all || i == base || !strcmp(ts[i].name, "sofadb");
  if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) < 0) return 2;
  exe[n] = '\0';
  c.exe = exe;
  c.shim = find_shim(shim_tried, sizeof shim_tried);
  if (pc_bench_root("bench", dir, "powercut-bench", c.root, sizeof c.root, &c.tmpfs)) return 2;
  fprintf(stderr,
          "powercut bench: num=%" PRIu64 " sync_num=%" PRIu64 " recovery_bytes=%" PRIu64
          " keys=%zuB values=%zuB runs=%d threads=%d\n"
          "powercut bench: data dirs under %s (%s)%s\n",
          c.num, c.sync_num, c.recovery_bytes, c.klen, c.vlen, c.runs, c.threads, c.root,
          c.tmpfs ? "tmpfs" : "not tmpfs: a real disk",
          c.tmpfs && (c.rows & (1u << B_FILLSYNC1)) ? " WARNING: fsync is free on tmpfs, fillsync is meaningless" : "");
  if ((c.rows & ((1u << B_SHIM_IDLE) | (1u << B_SHIM_TRACK))) && !c.shim)
    fprintf(stderr, "powercut bench: faultfs shim libfaultfs.so not found (tried %s; set POWERCUT_SHIM): shim rows fail\n",
            shim_tried);

  rc = run_all(&c, ts, nt);
  ffs_rm_rf(c.root);
  if (json_file) {
    FILE *jf = fopen(json_file, "w");
    if (!jf) fprintf(stderr, "powercut bench: %s: %s\n", json_file, strerror(errno));
    else {
      print_json(jf, &c, ts, nt, base);
      if (fclose(jf)) rc = 1;
    }
  }
  print_results(&c, ts, nt, base, dir);
  if (rc) fprintf(stderr, "powercut bench: some runs failed (see above)\n");
  return rc;
}
