/*
 * bench_oracle.c — `orc_bench [OPS] [RUNS]`: time the oracle on a big op log.
 * Generates `mixed` with OPS ops (default 1,000,000) over OPS/10 keys with delete-range on,
 * writes it to an op log file and reads it back (timed), builds the recovered state (all ops
 * applied, the last one in flight), then runs orc_check RUNS times (default 5) on a PASS state
 * and on a state with one durable key dropped (LOST_ACKED), printing the median of each.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oracle.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct kvs {
  orc_kv *kv;
  size_t n, cap;
} kvs;
static int collect(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  kvs *s = arg;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 1024;
    s->kv = realloc(s->kv, s->cap * sizeof(orc_kv));
    if (!s->kv) return -1;
  }
  s->kv[s->n++] = (orc_kv){k, kl, v, vl};
  return 0;
}

static double median_check(const orc_input *in, int runs, orc_verdict *v, double *cpu_median) {
  double t[64], c[64];
  for (int r = 0; r < runs; r++) {
    orc_result res;
    double t0 = now_ms(), c0 = cpu_ms();
    if (orc_check(in, &res)) {
      fprintf(stderr, "orc_check failed\n");
      exit(1);
    }
    t[r] = now_ms() - t0;
    c[r] = cpu_ms() - c0;
    *v = res.verdict;
    if (r == 0) printf("  verdict %s: %s\n", orc_verdict_name(res.verdict), res.explanation);
    orc_result_free(&res);
  }
  qsort(t, (size_t)runs, sizeof(double), cmpd);
  qsort(c, (size_t)runs, sizeof(double), cmpd);
  *cpu_median = c[runs / 2];
  return t[runs / 2];
}

int main(int argc, char **argv) {
  uint64_t ops = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
  int runs = argc > 2 ? atoi(argv[2]) : 5;
  if (runs < 1 || runs > 63) runs = 5;
  char spec[128], err[256], path[64];
  snprintf(spec, sizeof(spec), "mixed:ops=%llu,keys=%llu,value_size=0..64", (unsigned long long)ops,
           (unsigned long long)(ops / 10 ? ops / 10 : 1));
  snprintf(path, sizeof(path), "/tmp/orc_bench.%d.log", (int)getpid());
  wl_params p;
  wl_gen *g;
  wl_op op;
  wl_oplog_writer *w;
  wl_ref *ref;
  if (wl_spec_parse(spec, &p, err, sizeof(err))) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  p.caps = WL_CAP_DELRANGE;
  if (wl_gen_create(&p, 1, &g) || wl_ref_create(&ref) || wl_oplog_open_writer(path, spec, &w, err, sizeof(err))) {
    fprintf(stderr, "setup failed %s\n", err);
    return 1;
  }
  double t0 = now_ms();
  while (wl_gen_next(g, &op) == 1) {
    wl_oplog_append_issued(w, op.idx, &op);
    if (op.kind == WL_DELRANGE) { /* keys are "k" + digits: delete the range key by key */
      uint64_t b = 0, e = 0;
      uint8_t kb[64];
      for (size_t i = 1; i < op.klen; i++) b = b * 10 + (uint64_t)(op.key[i] - '0');
      for (size_t i = 1; i < op.elen; i++) e = e * 10 + (uint64_t)(op.end[i] - '0');
      for (uint64_t x = b; x < e; x++) wl_ref_del(ref, kb, wl_key_of(&p, x, kb, sizeof(kb)));
    } else {
      wl_ref_apply(ref, &op);
    }
    if (op.idx + 1 < ops) wl_oplog_append_outcome(w, op.idx, WL_OUT_ACKED, 0, WL_GET_NA);
  }
  wl_oplog_close(w);
  wl_gen_destroy(g);
  double tgen = now_ms() - t0;
  wl_log *log;
  t0 = now_ms();
  if (wl_oplog_read(path, &log, err, sizeof(err))) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  double tread = now_ms() - t0;
  /* a second read, CPU time only (the first one may include cold page cache) */
  wl_log *log2;
  double rc0 = cpu_ms();
  if (wl_oplog_read(path, &log2, err, sizeof(err))) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  double tread_cpu = cpu_ms() - rc0;
  wl_log_free(log2);
  kvs s = {0};
  wl_ref_foreach(ref, collect, &s);
  printf(
      "%s: %zu ops, %zu keys recovered; generate+write log %.0f ms; read log %.1f ms wall "
      "(again: %.1f ms CPU)\n",
      spec, log->n, s.n, tgen, tread, tread_cpu);
  orc_input in = {log,
                  ORC_DURABLE_ACK | ORC_PROCESS_SAFE | ORC_PREFIX | ORC_ATOMIC_BATCH,
                  ORC_CRASH_POWER,
                  s.kv,
                  s.n,
                  NULL,
                  NULL,
                  NULL,
                  0};
  orc_verdict v1, v2;
  double c1, c2;
  double m1 = median_check(&in, runs, &v1, &c1);
  printf("orc_check PASS state: median %.1f ms wall, %.1f ms CPU over %d runs\n", m1, c1, runs);
  /* drop the key the last synced put wrote */
  for (size_t i = log->n; i-- > 0;) {
    const wl_logop *lo = &log->ops[i];
    if (lo->op.kind != WL_PUT || !lo->op.sync) continue;
    for (size_t j = 0; j < s.n; j++)
      if (s.kv[j].klen == lo->op.klen && !memcmp(s.kv[j].key, lo->op.key, lo->op.klen)) {
        s.kv[j] = s.kv[--s.n];
        break;
      }
    break;
  }
  in.nstate = s.n;
  double m2 = median_check(&in, runs, &v2, &c2);
  printf("orc_check LOST_ACKED state: median %.1f ms wall, %.1f ms CPU over %d runs\n", m2, c2, runs);
  wl_log_free(log);
  wl_ref_destroy(ref);
  free(s.kv);
  unlink(path);
  return v1 == ORC_PASS && v2 == ORC_LOST_ACKED ? 0 : 1;
}
