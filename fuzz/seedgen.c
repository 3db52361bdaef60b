/*
 * seedgen.c - writes the seed corpus of every fuzz target from REAL files:
 * sofadb databases built through the public API (WAL, tables, MANIFEST,
 * CURRENT), op logs written by the workloads op-log writer from generated
 * streams, replies encoded by the exec protocol's own hex encoder, and case ids
 * and plans from the documentation. The faultfs trace and undo seeds come from
 * running the sofadb CLI under the shim (fuzz/make_seeds.sh).
 *
 * usage: fuzz_seedgen OUTDIR   (creates OUTDIR/<target>/<name> files)
 * Engine seeds carry the mode byte 0x01 (reseal checksums), see fuzz_*.c.
 */
#include "exec_proto.h"
#include "fuzz_util.h"
#include "sofadb.h"
#include "workloads.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *g_out;
static int g_n;

static void seed(const char *target, const char *name, const void *p, size_t n, int mode) {
  char d[4096], f[128];
  snprintf(d, sizeof d, "%s/%s", g_out, target);
  mkdir(d, 0755);
  uint8_t *b = malloc(n + 1);
  size_t len = 0;
  if (mode >= 0) b[len++] = (uint8_t)mode;
  memcpy(b + len, p, n);
  snprintf(f, sizeof f, "%s", name);
  fz_write(d, f, b, len + n);
  free(b);
  g_n++;
}

static uint8_t *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) fz_fail("open %s: %s", path, strerror(errno));
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)sz + 1);
  *n = fread(b, 1, (size_t)sz, f);
  fclose(f);
  return b;
}

static void must(int rc, const char *what, sdb *db) {
  if (rc) fz_fail("%s: %s: %s", what, sdb_strerror(rc), sdb_errmsg(db));
}

/* Builds a database in dir: n puts (some with NULs, empty values, big values),
 * deletes, batches; flushes when flush is set. */
static void build_db(const char *dir, int n, int flush, size_t vbig) {
  sdb_options o;
  sdb *db;
  sdb_options_init(&o);
  o.deterministic = flush != 2; /* 2: background flush, its MANIFEST holds PREV_LOG edits (D20) */
  o.memtable_bytes = flush ? 2048 : 1 << 20;
  o.block_bytes = 256;
  must(sdb_open(dir, &o, &db), "open", db);
  char k[32], v[64];
  for (int i = 0; i < n; i++) {
    int kn = snprintf(k, sizeof k, "key%05d", (i * 7) % (n + 1));
    int vn = snprintf(v, sizeof v, "value-%d", i);
    if (i % 11 == 3) k[1] = 0; /* embedded NUL */
    must(sdb_put(db, k, (size_t)kn, v, i % 13 == 5 ? 0 : (size_t)vn, i % 9 == 0), "put", db);
    if (i % 5 == 4) must(sdb_delete(db, k, (size_t)kn, 0), "del", db);
    if (i % 17 == 8) {
      sdb_batch *b;
      sdb_batch_create(&b);
      sdb_batch_put(b, "batch-a", 7, v, (size_t)vn);
      sdb_batch_delete(b, "batch-b", 7);
      sdb_batch_put(b, "batch-c", 7, "", 0);
      must(sdb_write(db, b, 1), "write", db);
      sdb_batch_free(b);
    }
  }
  if (vbig) {
    char *big = malloc(vbig);
    for (size_t i = 0; i < vbig; i++) big[i] = (char)('a' + i % 26);
    must(sdb_put(db, "big", 3, big, vbig, 1), "put big", db);
    free(big);
  }
  if (flush) must(sdb_flush(db), "flush", db);
  must(sdb_put(db, "after-flush", 11, "tail", 4, 1), "put", db);
  sdb_close(db);
}

/* Every file of dir as seeds of the decoder targets, and the whole dir as a
 * sofadb_dir seed (plus variants: torn WAL tail, missing CURRENT). */
static void harvest(const char *dir, const char *tag) {
  static uint8_t ar[1 << 22];
  size_t alen = 0;
  char name[256], p[4096];
  DIR *d = opendir(dir);
  struct dirent *e;
  int nsst = 0;
  while ((e = readdir(d))) {
    size_t n;
    if (e->d_name[0] == '.' || !strcmp(e->d_name, "LOCK")) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    uint8_t *b = slurp(p, &n);
    size_t l = strlen(e->d_name);
    snprintf(name, sizeof name, "%s-%s", tag, e->d_name);
    if (l > 4 && !strcmp(e->d_name + l - 4, ".log")) {
      seed("wal", name, b, n, 1);
      seed("wal", strcat(name, "-torn"), b, n > 30 ? n - 5 : n, 1);
    } else if (!strncmp(e->d_name, "MANIFEST-", 9)) {
      seed("manifest", name, b, n, 1);
    } else if (l > 4 && !strcmp(e->d_name + l - 4, ".sst") && nsst++ < 3) {
      seed("sstable", name, b, n, 1);
    }
    size_t na = fz_pack_entry(ar, alen, sizeof ar, e->d_name, b, n);
    if (!na) fz_fail("archive full");
    alen = na;
    free(b);
  }
  closedir(d);
  snprintf(name, sizeof name, "%s-dir", tag);
  seed("sofadb_dir", name, ar, alen, 1);
}

static void engine_seeds(void) {
  char tmpl[] = "/tmp/pcseed.XXXXXX", dir[4096];
  if (!mkdtemp(tmpl)) fz_fail("mkdtemp");
  struct {
    const char *tag;
    int n, flush;
    size_t big;
  } dbs[] = {{"walonly", 40, 0, 0}, {"flushed", 120, 1, 0}, {"bgflush", 120, 2, 0}, {"bigrec", 10, 0, 40000}, {"empty", 0, 0, 0}};
  for (size_t i = 0; i < sizeof dbs / sizeof *dbs; i++) {
    snprintf(dir, sizeof dir, "%s/%s", tmpl, dbs[i].tag);
    build_db(dir, dbs[i].n, dbs[i].flush, dbs[i].big);
    harvest(dir, dbs[i].tag);
    fz_clear(dir);
    rmdir(dir);
  }
  rmdir(tmpl);
}

static void oplog_seeds(void) {
  const char *specs[] = {"mixed:ops=30", "batch:ops=10", "bank:ops=10", "large:ops=2,value_size=100..3000", "churn:ops=20"};
  char path[] = "/tmp/pcseed-oplog.XXXXXX", err[256];
  int fd = mkstemp(path);
  close(fd);
  for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
    wl_params prm;
    wl_gen *g;
    wl_oplog_writer *w;
    wl_op op;
    if (wl_spec_parse(specs[s], &prm, err, sizeof err)) fz_fail("spec %s: %s", specs[s], err);
    if (wl_gen_create(&prm, 7, &g)) fz_fail("gen %s", specs[s]);
    if (wl_oplog_open_writer(path, specs[s], &w, err, sizeof err)) fz_fail("oplog: %s", err);
    for (uint64_t i = 0; wl_gen_next(g, &op) == 1; i++) {
      wl_oplog_append_issued(w, i, &op);
      if (i % 4 != 3) wl_oplog_append_outcome(w, i, i % 7 == 6 ? WL_OUT_FAILED : WL_OUT_ACKED, 0, WL_GET_NA);
    }
    wl_oplog_close(w);
    wl_gen_destroy(g);
    size_t n;
    uint8_t *b = slurp(path, &n);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(specs[s], ":"), specs[s]);
    seed("oplog", name, b, n, -1);
    free(b);
  }
  unlink(path);
}

static void text_seeds(void) {
  static const char *plans[] = {"none", "crash@fsync(*.log)#3", "torn@write(*.sst)#2:100", "eio@fdatasync#2+",
                                "enospc@write#40+;flip@pread:3", "kill-after@rename(MANIFEST-*)",
                                "crash-after@any#17", "short@write(0000[0-9]?.log)#1:7;edquot@sync#1+",
                                "crash@open(CURRENT)"};
  static const char *ids[] = {"pc1/sofadb/mixed:ops=200/7/strict/crash@fsync(*.log)#3",
                              "pc1/sofadb:memtable_bytes=4096/fill:ops=50,value_size=0..100/1/ext4/none",
                              /* the plan may hold a slash */
                              "pc1/exec:cmd=python3 ex.py,contract=prefix/batch/18446744073709551615/reorder/torn@write(a/b/*.log)#2:9",
                              "pc1/sofadb/bank:ops=20,sync=0.5/3/strict/eio@fdatasync#1+;crash@any#40"};
  char name[32];
  for (size_t i = 0; i < sizeof plans / sizeof *plans; i++) {
    snprintf(name, sizeof name, "plan%zu", i);
    seed("plan", name, plans[i], strlen(plans[i]), -1);
  }
  for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
    snprintf(name, sizeof name, "id%zu", i);
    seed("caseid", name, ids[i], strlen(ids[i]), -1);
  }
  /* exec replies, hex made by the protocol's encoder */
  char hk[64], hv[64], line[256];
  pc_exec_hex_encode("k\0\xff", 3, hk);
  pc_exec_hex_encode("value", 5, hv);
  const char *fixed[] = {"ok", "notfound", "end", "err disk on fire", "ok -"};
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
    snprintf(name, sizeof name, "reply%zu", i);
    seed("exec_reply", name, fixed[i], strlen(fixed[i]), -1);
  }
  snprintf(line, sizeof line, "ok %s", hv);
  seed("exec_reply", "reply-okv", line, strlen(line), -1);
  snprintf(line, sizeof line, "kv %s %s", hk, hv);
  seed("exec_reply", "reply-kv", line, strlen(line), -1);
  snprintf(line, sizeof line, "kv %s -", hk);
  seed("exec_reply", "reply-kv-empty", line, strlen(line), -1);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  g_out = argv[1];
  mkdir(g_out, 0755);
  engine_seeds();
  oplog_seeds();
  text_seeds();
  printf("seedgen: %d seed files in %s\n", g_n, g_out);
  return 0;
}
