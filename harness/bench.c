/*
 * bench.c - `powercut bench-recovery`: how long a target takes to come back
 * after a crash with SIZE bytes of unflushed data in its log, and how that
 * grows with SIZE (docs/bench.md "bench-recovery").
 *
 * Per (size, target): a child opens the target with settings that keep the
 * whole fill in its log (write buffer / memtable above the data), puts
 * 16-byte keys with 100-byte incompressible values until SIZE bytes of
 * payload (+16 bytes of framing per put) are written, calls sync() and dies
 * without closing (a crash after the last durable write). The parent waits for
 * every descendant (an exec target's program too: the process is a child
 * subreaper), then checks that the fill is in the log: no table bytes, and the
 * log at least as large as the keys and values put. Each run copies that
 * pristine dir afresh, fsyncs the copy and, for a cold run, evicts its pages
 * (posix_fadvise DONTNEED, and drop_caches when root can); mincore says how
 * much of it is still resident. A fresh child times open() and then counts
 * the keys with a scan: every key put must be back.
 *
 * Engines whose open replays no log (pc_bench_no_replay) are labelled "open",
 * not "recovery".
 */
#define _GNU_SOURCE
#include "harness_int.h"
#include "targets/targets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define BR_MAXT 8
#define BR_MAXS 16
#define BR_MAXR 100
#define BR_KLEN 16
#define BR_VLEN 100
#define BR_PER (BR_KLEN + BR_VLEN + 16) /* bytes of the fill counted per put */
#define TMPFS_MAGIC_ 0x01021994

const char *pc_bench_no_replay(const pc_target *t) { return t->bench_no_replay; }

int pc_bench_root(const char *cmd, const char *dir, const char *prefix, char *root, size_t len, int *tmpfs) {
  struct statfs sf;
  if (!dir) dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(root, len, "%s/%s-XXXXXX", dir, prefix);
  if (!mkdtemp(root)) {
    fprintf(stderr, "powercut %s: mkdtemp %s: %s\n", cmd, root, strerror(errno));
    return -1;
  }
  *tmpfs = statfs(root, &sf) == 0 && (unsigned long)sf.f_type == TMPFS_MAGIC_;
  return 0;
}

/* targets whose log and tables we can tell apart by file name (NNNNNN.log;
 * NNNNNN.sst / .ldb) */
static int lsm_layout(const char *target) {
  return !strcmp(target, "sofadb") || !strcmp(target, "leveldb") || !strcmp(target, "rocksdb");
}

typedef struct br_target {
  char name[64], user[512];
  const pc_target *t;
  const char *no_replay;
} br_target;

typedef struct br_point {   /* one (target, size, cache) */
  uint64_t size, keys, log_bytes, table_bytes, db_bytes, keys_back;
  uint64_t x_bytes;         /* the growth curve's x: log bytes replayed, or the db's bytes for
                             * an engine whose open replays no log */
  int replays;
  int64_t us[BR_MAXR];
  uint64_t resident[BR_MAXR];
  int n, ok;
  double med_ms, lo_ms, hi_ms, mib_s;
} br_point;

typedef struct br_dirstat { uint64_t log, table, total; } br_dirstat;

static void dir_stat(const char *dir, const char *target, br_dirstat *s) {
  DIR *d = opendir(dir);
  struct dirent *e;
  if (!d) return;
  while ((e = readdir(d))) {
    char p[4096];
    struct stat st;
    size_t l = strlen(e->d_name);
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (e->d_name[0] == '.' || lstat(p, &st)) continue;
    if (S_ISDIR(st.st_mode)) {
      dir_stat(p, target, s);
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    s->total += (uint64_t)st.st_size;
    if (lsm_layout(target)) {
      if (l > 4 && !strcmp(e->d_name + l - 4, ".log")) s->log += (uint64_t)st.st_size;
      else if (l > 4 && (!strcmp(e->d_name + l - 4, ".sst") || !strcmp(e->d_name + l - 4, ".ldb")))
        s->table += (uint64_t)st.st_size;
    } else if (!strcmp(target, "sqlite") && l > 4 && !strcmp(e->d_name + l - 4, "-wal"))
      s->log += (uint64_t)st.st_size;
  }
  closedir(d);
}

/* fsync every file of dir; evict: drop their cached pages; resident: add the
 * bytes mincore finds in memory */
static void dir_pages(const char *dir, int do_sync, int evict, uint64_t *resident) {
  DIR *d = opendir(dir);
  struct dirent *e;
  long pg = sysconf(_SC_PAGESIZE);
  if (!d) return;
  while ((e = readdir(d))) {
    char p[4096];
    struct stat st;
    int fd;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (e->d_name[0] == '.' || lstat(p, &st)) continue;
    if (S_ISDIR(st.st_mode)) {
      dir_pages(p, do_sync, evict, resident);
      continue;
    }
    if (!S_ISREG(st.st_mode) || (fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) continue;
    if (do_sync) (void)fsync(fd);
    if (evict) (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (resident && st.st_size > 0) {
      void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
      if (m != MAP_FAILED) {
        size_t np = ((size_t)st.st_size + (size_t)pg - 1) / (size_t)pg;
        unsigned char *v = malloc(np);
        if (v && !mincore(m, (size_t)st.st_size, v))
          for (size_t i = 0; i < np; i++) *resident += (v[i] & 1) ? (uint64_t)pg : 0;
        free(v);
        munmap(m, (size_t)st.st_size);
      }
    }
    close(fd);
  }
  closedir(d);
}

/* the system-wide drop (root only): 1 done, 0 not possible */
static int drop_caches(void) {
  int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC), ok;
  if (fd < 0) return 0;
  sync();
  ok = write(fd, "3", 1) == 1;
  close(fd);
  return ok;
}

/* waits for every descendant (we are their subreaper): an exec target's
 * program outlives the child that crashed */
static void reap_all(void) {
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
}

static void key_for(char *k, uint64_t i) {
  /* an odd multiplier is a bijection on 64 bits: distinct keys in random order */
  snprintf(k, BR_KLEN + 1, "%016" PRIx64, (uint64_t)(i * UINT64_C(0x9e3779b97f4a7c15)));
}

static uint64_t keys_for(uint64_t size) { return (size + BR_PER - 1) / BR_PER; }

static void fill_opts(const br_target *bt, uint64_t size, char *out, size_t len) {
  uint64_t big = size * 2 + (64u << 20);
  const char *prof = pc_bench_profile(bt->t);
  char base[700] = "";
  if (!strcmp(bt->name, "sofadb"))
    snprintf(base, sizeof base, "deterministic=0,memtable_bytes=%" PRIu64, big);
  else if (!strcmp(bt->name, "leveldb") || !strcmp(bt->name, "rocksdb"))
    snprintf(base, sizeof base, "%s,write_buffer_size=%" PRIu64, prof, big);
  else if (!strcmp(bt->name, "lmdb"))
    snprintf(base, sizeof base, "mapsize=%" PRIu64 ",nosync=1", size * 4 + (256u << 20));
  else if (prof)
    snprintf(base, sizeof base, "%s", prof);
  snprintf(out, len, "%s%s%s", base, base[0] && bt->user[0] ? "," : "", bt->user);
}

static int fill(const br_target *bt, const char *dir, const char *opts, uint64_t size) {
  pid_t pid;
  int st;
  fflush(stdout);
  fflush(stderr);
  if ((pid = fork()) == 0) {
    void *h;
    char k[BR_KLEN + 1], v[BR_VLEN], msg[512];
    uint64_t n = keys_for(size), s = 0x9e3779b97f4a7c15ull;
    if (rpt_mkdir_p(dir)) {
      fprintf(stderr, "powercut bench-recovery: mkdir %s: %s\n", dir, strerror(errno));
      _exit(3);
    }
    if (bt->t->open(dir, opts, "", &h, msg, sizeof msg)) {
      fprintf(stderr, "powercut bench-recovery: %s: fill: open(%s): %s\n", bt->name, dir, msg);
      _exit(3);
    }
    for (uint64_t i = 0; i < n; i++) {
      for (size_t j = 0; j < BR_VLEN; j += 8) { /* incompressible values */
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        memcpy(v + j, &s, BR_VLEN - j < 8 ? BR_VLEN - j : 8);
      }
      key_for(k, i);
      if (bt->t->put(h, k, BR_KLEN, v, BR_VLEN, 0)) {
        fprintf(stderr, "powercut bench-recovery: %s: fill: put %" PRIu64 " failed: %s\n", bt->name, i,
                bt->t->errmsg ? bt->t->errmsg(h) : "");
        _exit(4);
      }
    }
    if (bt->t->sync(h)) {
      fprintf(stderr, "powercut bench-recovery: %s: fill: sync failed: %s\n", bt->name,
              bt->t->errmsg ? bt->t->errmsg(h) : "");
      _exit(5);
    }
    _exit(0); /* crash: no close */
  }
  if (pid < 0 || waitpid(pid, &st, 0) < 0) return PC_ESETUP;
  reap_all();
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : PC_ETARGET;
}

typedef struct open_res { int64_t us; uint64_t keys; int32_t ok; } open_res;

static int scan_count(void *arg, const void *k, size_t kl, const void *v, size_t vl) {
  (void)k, (void)kl, (void)v, (void)vl;
  (*(uint64_t *)arg)++;
  return 0;
}

/* a fresh child times open(), then counts the keys (untimed) */
static int time_open(const br_target *bt, const char *dir, const char *opts, open_res *res) {
  int fds[2], st;
  pid_t pid;
  memset(res, 0, sizeof *res);
  if (pipe(fds)) return PC_ESETUP;
  fflush(stdout);
  fflush(stderr);
  if ((pid = fork()) == 0) {
    void *h;
    char msg[512];
    open_res r = {0, 0, 1};
    close(fds[0]);
    int64_t t0 = pc_now_us();
    if (bt->t->open(dir, opts, "", &h, msg, sizeof msg)) {
      fprintf(stderr, "powercut bench-recovery: %s: recovery open(%s): %s\n", bt->name, dir, msg);
      _exit(3);
    }
    r.us = pc_now_us() - t0;
    if (bt->t->scan(h, scan_count, &r.keys)) {
      fprintf(stderr, "powercut bench-recovery: %s: scan after recovery failed: %s\n", bt->name,
              bt->t->errmsg ? bt->t->errmsg(h) : "");
      _exit(4);
    }
    if (write(fds[1], &r, sizeof r) != (ssize_t)sizeof r) _exit(5);
    _exit(0); /* the timing is done: no close (it may flush) */
  }
  close(fds[1]);
  if (pid < 0 || read(fds[0], res, sizeof *res) != (ssize_t)sizeof *res) res->ok = 0;
  close(fds[0]);
  if (pid > 0) waitpid(pid, &st, 0);
  reap_all();
  return res->ok ? 0 : PC_ETARGET;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void point_stats(br_point *p) {
  int64_t u[BR_MAXR];
  memcpy(u, p->us, sizeof(int64_t) * (size_t)p->n);
  qsort(u, (size_t)p->n, sizeof *u, cmp_i64);
  p->med_ms = (p->n % 2 ? (double)u[p->n / 2] : (double)(u[p->n / 2 - 1] + u[p->n / 2]) / 2) / 1000.0;
  p->lo_ms = (double)u[0] / 1000.0;
  p->hi_ms = (double)u[p->n - 1] / 1000.0;
  p->mib_s = p->replays && p->med_ms > 0 ? (double)p->log_bytes / 1048576.0 / (p->med_ms / 1000.0) : 0;
}

/* least squares of median ms against replayed MiB */
typedef struct br_fit { double slope, icept, r2; int ok; } br_fit;
static br_fit fit(const br_point *const *ps, int n) {
  br_fit f = {0, 0, 0, 0};
  double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
  if (n < 2) return f;
  for (int i = 0; i < n; i++) {
    double x = (double)ps[i]->x_bytes / 1048576.0, y = ps[i]->med_ms;
    sx += x, sy += y, sxx += x * x, sxy += x * y, syy += y * y;
  }
  double d = n * sxx - sx * sx;
  if (d <= 0) return f;
  f.slope = (n * sxy - sx * sy) / d;
  f.icept = (sy - f.slope * sx) / n;
  double vy = n * syy - sy * sy;
  f.r2 = vy > 0 ? (n * sxy - sx * sy) * (n * sxy - sx * sy) / (d * vy) : 1;
  f.ok = 1;
  return f;
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

static const char *const cache_name[2] = {"warm", "cold"};

typedef struct br_run {
  br_target ts[BR_MAXT];
  int nt, ns, caches, runs, dropped, tmpfs;
  uint64_t sizes[BR_MAXS];
  char size_txt[BR_MAXS][32];
  br_point pts[BR_MAXT][BR_MAXS][2];
  char root[1100];
} br_run;

static const char *measure_of(const br_target *bt) { return bt->no_replay ? "open" : "recovery"; }

static void print_json(FILE *f, const br_run *R) {
  fprintf(f, "{\"config\":{\"runs\":%d,\"key_size\":%d,\"value_size\":%d,\"dir\":", R->runs, BR_KLEN,
          BR_VLEN);
  json_str(f, R->root);
  fprintf(f, ",\"tmpfs\":%s,\"cold\":\"%s\"},\n\"results\":[", R->tmpfs ? "true" : "false",
          !(R->caches & 2) ? "not run" : R->dropped ? "drop_caches" : "fadvise");
  int first = 1;
  for (int t = 0; t < R->nt; t++)
    for (int s = 0; s < R->ns; s++)
      for (int c = 0; c < 2; c++) {
        const br_point *p = &R->pts[t][s][c];
        char opts[1300];
        if (!(R->caches & (1 << c))) continue;
        fill_opts(&R->ts[t], R->sizes[s], opts, sizeof opts);
        fprintf(f, "%s\n{\"target\":", first ? "" : ",");
        first = 0;
        json_str(f, R->ts[t].name);
        fprintf(f, ",\"options\":");
        json_str(f, opts);
        fprintf(f, ",\"measure\":\"%s\"", measure_of(&R->ts[t]));
        if (R->ts[t].no_replay) {
          fprintf(f, ",\"na\":");
          json_str(f, R->ts[t].no_replay);
        }
        fprintf(f, ",\"size\":%" PRIu64 ",\"cache\":\"%s\",\"ok\":%s,\"keys\":%" PRIu64
                ",\"keys_back\":%" PRIu64 ",\"log_bytes\":%" PRIu64 ",\"table_bytes\":%" PRIu64
                ",\"db_bytes\":%" PRIu64 ",\"open_us\":[",
                R->sizes[s], cache_name[c], p->ok ? "true" : "false", p->keys, p->keys_back, p->log_bytes,
                p->table_bytes, p->db_bytes);
        for (int i = 0; i < p->n; i++) fprintf(f, "%s%" PRId64, i ? "," : "", p->us[i]);
        fprintf(f, "],\"resident_bytes\":[");
        for (int i = 0; i < p->n; i++) fprintf(f, "%s%" PRIu64, i ? "," : "", p->resident[i]);
        fprintf(f, "]");
        fprintf(f, ",\"replayed_bytes\":%" PRIu64, p->replays ? p->log_bytes : 0);
        if (p->ok)
          fprintf(f, ",\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f", p->med_ms, p->lo_ms, p->hi_ms);
        if (p->ok && p->replays) fprintf(f, ",\"mib_per_s\":%.2f", p->mib_s);
        fprintf(f, "}");
      }
  fprintf(f, "\n],\n\"growth\":[");
  first = 1;
  for (int t = 0; t < R->nt; t++)
    for (int c = 0; c < 2; c++) {
      const br_point *ps[BR_MAXS];
      int n = 0;
      if (!(R->caches & (1 << c))) continue;
      for (int s = 0; s < R->ns; s++)
        if (R->pts[t][s][c].ok) ps[n++] = &R->pts[t][s][c];
      br_fit g = fit(ps, n);
      fprintf(f, "%s\n{\"target\":", first ? "" : ",");
      first = 0;
      json_str(f, R->ts[t].name);
      fprintf(f, ",\"measure\":\"%s\",\"cache\":\"%s\",\"points\":%d", measure_of(&R->ts[t]), cache_name[c], n);
      fprintf(f, ",\"x\":\"%s\"", R->ts[t].no_replay ? "db_bytes" : "replayed_bytes");
      if (g.ok)
        fprintf(f, ",\"ms_per_mib\":%.4f,\"intercept_ms\":%.3f,\"r2\":%.4f", g.slope, g.icept, g.r2);
      fprintf(f, "}");
    }
  fprintf(f, "\n]}\n");
}

static void print_growth(FILE *f, const br_run *R) {
  fprintf(f, "\ngrowth (median ms against MiB of log replayed; open: MiB of db; least squares):\n");
  for (int t = 0; t < R->nt; t++)
    for (int c = 0; c < 2; c++) {
      const br_point *ps[BR_MAXS];
      int n = 0;
      if (!(R->caches & (1 << c))) continue;
      for (int s = 0; s < R->ns; s++)
        if (R->pts[t][s][c].ok) ps[n++] = &R->pts[t][s][c];
      br_fit g = fit(ps, n);
      if (!g.ok) fprintf(f, "  %-8s %-8s %s: n/a (%d size%s measured; a slope needs two)\n", R->ts[t].name,
                         measure_of(&R->ts[t]), cache_name[c], n, n == 1 ? "" : "s");
      else if (R->ts[t].no_replay || g.slope <= 0)
        fprintf(f, "  %-8s %-8s %s: %.3f ms/MiB + %.1f ms, r2 %.3f\n", R->ts[t].name, measure_of(&R->ts[t]),
                cache_name[c], g.slope, g.icept, g.r2);
      else
        fprintf(f, "  %-8s %-8s %s: %.3f ms/MiB (%.1f MiB/s marginal) + %.1f ms, r2 %.3f\n", R->ts[t].name,
                measure_of(&R->ts[t]), cache_name[c], g.slope, 1000.0 / g.slope, g.icept, g.r2);
    }
}

/* the growth curve as an SVG line chart inside a small HTML page */
static int write_html(const char *path, const br_run *R) {
  static const char *const col[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                    "#8c564b", "#e377c2", "#17becf"};
  FILE *f = fopen(path, "w");
  double xmax = 0, ymax = 0;
  const int W = 720, H = 420, L = 70, B = 50, T = 20, Rm = 180;
  if (!f) return PC_EIO;
  for (int t = 0; t < R->nt; t++)
    for (int s = 0; s < R->ns; s++)
      for (int c = 0; c < 2; c++) {
        const br_point *p = &R->pts[t][s][c];
        if (!p->ok || !(R->caches & (1 << c))) continue;
        if ((double)p->x_bytes / 1048576.0 > xmax) xmax = (double)p->x_bytes / 1048576.0;
        if (p->hi_ms > ymax) ymax = p->hi_ms;
      }
  if (xmax <= 0) xmax = 1;
  if (ymax <= 0) ymax = 1;
  fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>powercut bench-recovery</title>"
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head><body>\n"
             "<h1>Recovery time against log size</h1>\n<p>Median open() time of %d run%s per point "
             "(bars: min-max); solid: warm page cache, dashed: cold (%s). Dir %s (%s).</p>\n",
          R->runs, R->runs == 1 ? "" : "s",
          R->dropped ? "caches dropped" : "db files evicted with posix_fadvise, caches not dropped",
          R->root, R->tmpfs ? "tmpfs" : "real disk");
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-size=\"12\">\n", W, H);
  int pw = W - L - Rm, ph = H - T - B;
#define X(v) (L + (v) / xmax * pw)
#define Y(v) (T + ph - (v) / ymax * ph)
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", L, T, pw, ph);
  for (int i = 0; i <= 4; i++) {
    double xv = xmax * i / 4, yv = ymax * i / 4;
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f</text>\n", X(xv), T + ph + 16, xv);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n", L - 6, Y(yv) + 4, yv);
    fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", L, L + pw, Y(yv), Y(yv));
  }
  fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">log replayed (MiB); open-time engines: db size (MiB)</text>\n", L + pw / 2, H - 10);
  fprintf(f, "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" text-anchor=\"middle\">open time (ms)</text>\n",
          T + ph / 2, T + ph / 2);
  int li = 0;
  for (int t = 0; t < R->nt; t++)
    for (int c = 0; c < 2; c++) {
      const char *cl = col[t % 8];
      if (!(R->caches & (1 << c))) continue;
      fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", cl,
              c ? " stroke-dasharray=\"6 4\"" : "");
      for (int s = 0; s < R->ns; s++) {
        const br_point *p = &R->pts[t][s][c];
        if (p->ok) fprintf(f, "%.1f,%.1f ", X((double)p->x_bytes / 1048576.0), Y(p->med_ms));
      }
      fprintf(f, "\"/>\n");
      for (int s = 0; s < R->ns; s++) {
        const br_point *p = &R->pts[t][s][c];
        double x;
        if (!p->ok) continue;
        x = X((double)p->x_bytes / 1048576.0);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>"
                   "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
                x, Y(p->med_ms), cl, x, x, Y(p->lo_ms), Y(p->hi_ms), cl);
      }
      fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                 "<text x=\"%d\" y=\"%d\">%s %s %s</text>\n",
              L + pw + 10, L + pw + 34, T + 10 + li * 18, T + 10 + li * 18, cl,
              c ? " stroke-dasharray=\"6 4\"" : "", L + pw + 40, T + 14 + li * 18, R->ts[t].name,
              measure_of(&R->ts[t]), cache_name[c]);
      li++;
    }
#undef X
#undef Y
  fprintf(f, "</svg>\n<table><tr><th>target</th><th>measure</th><th>size</th><th>cache</th><th>keys back</th>"
             "<th>log bytes</th><th>median ms</th><th>min-max ms</th><th>MiB/s</th></tr>\n");
  for (int t = 0; t < R->nt; t++)
    for (int s = 0; s < R->ns; s++)
      for (int c = 0; c < 2; c++) {
        const br_point *p = &R->pts[t][s][c];
        if (!(R->caches & (1 << c))) continue;
        if (!p->ok) {
          fprintf(f, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td colspan=5>FAILED</td></tr>\n",
                  R->ts[t].name, measure_of(&R->ts[t]), R->size_txt[s], cache_name[c]);
          continue;
        }
        fprintf(f, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%" PRIu64 " of %" PRIu64 "</td><td>%" PRIu64
                   "</td><td>%.1f</td><td>%.1f-%.1f</td><td>%.1f</td></tr>\n",
                R->ts[t].name, measure_of(&R->ts[t]), R->size_txt[s], cache_name[c], p->keys_back, p->keys,
                p->log_bytes, p->med_ms, p->lo_ms, p->hi_ms, p->mib_s);
      }
  fprintf(f, "</table>\n<pre>");
  print_growth(f, R);
  fprintf(f, "</pre>\n</body></html>\n");
  return fclose(f) ? PC_EIO : 0;
}

/* --out DIR: created if missing; an existing DIR must be empty or one of ours */
#define BR_MARK ".powercut-bench-recovery"
static int prepare_out(const char *dir) {
  char p[4200];
  DIR *d;
  struct dirent *e;
  int mine, empty = 1;
  if (rpt_mkdir_p(dir)) {
    fprintf(stderr, "powercut bench-recovery: --out %s: %s\n", dir, strerror(errno));
    return PC_EINVAL;
  }
  snprintf(p, sizeof p, "%s/%s", dir, BR_MARK);
  mine = access(p, F_OK) == 0;
  if (!(d = opendir(dir))) {
    fprintf(stderr, "powercut bench-recovery: --out %s: %s\n", dir, strerror(errno));
    return PC_EINVAL;
  }
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
  closedir(d);
  if (!empty && !mine) {
    fprintf(stderr, "powercut bench-recovery: --out %s is not empty and not an earlier bench-recovery "
            "output (no %s in it): refusing to write there\n", dir, BR_MARK);
    return PC_EINVAL;
  }
  FILE *f = fopen(p, "w");
  if (!f || fclose(f)) {
    fprintf(stderr, "powercut bench-recovery: --out %s: cannot write %s: %s\n", dir, p, strerror(errno));
    return PC_EINVAL;
  }
  return 0;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: powercut bench-recovery [--target T[:k=v,...]]... [--sizes 16M,64M,256M] [--runs 5]\n"
          "                               [--cache warm,cold] [--dir D] [--json] [--out DIR]\n"
          "Fills each target with SIZE of synced data that stays in its log (16-byte keys,\n"
          "100-byte values; write buffer / memtable above SIZE, no flush during the fill),\n"
          "checks that the log holds it, crashes the target (no close), and times open() in a\n"
          "fresh process on a fresh copy, RUNS times per cache state; after each open every key\n"
          "must be back (counted with a scan). Prints median and min-max ms and MiB/s of log\n"
          "replayed per size, and the growth (ms per MiB, least squares).\n"
          "  --target   repeatable (default sofadb); any target, exec: included\n"
          "  --sizes    fill sizes (default 16M,64M,256M)\n"
          "  --runs     runs per (target, size, cache) (default 5)\n"
          "  --cache    warm: the copy's pages cached; cold: evicted (posix_fadvise DONTNEED, and\n"
          "             drop_caches when root); default warm,cold\n"
          "  --dir      where the data dirs go (default $TMPDIR or /tmp: a real disk, not tmpfs)\n"
          "  --json     one JSON document on stdout instead of the table\n"
          "  --out DIR  also write DIR/index.html (SVG growth chart and table) and DIR/recovery.json\n"
          "Engines whose open replays no log (sqlite, lmdb) are labelled 'open', not 'recovery'.\n"
          "See docs/bench.md.\n");
}

int pc_cmd_bench_recovery(int argc, char **argv) {
  static const struct option lo[] = {{"target", 1, 0, 't'}, {"sizes", 1, 0, 's'}, {"runs", 1, 0, 'r'},
                                     {"cache", 1, 0, 'c'},  {"dir", 1, 0, 'd'},   {"json", 0, 0, 'j'},
                                     {"out", 1, 0, 'o'},    {"help", 0, 0, 'h'},  {0, 0, 0, 0}};
  static br_run R;
  const char *specs[BR_MAXT], *sizes = "16M,64M,256M", *cache = "warm,cold", *dir = NULL, *out = NULL;
  int nspec = 0, ch, json = 0, rc = 0;
  memset(&R, 0, sizeof R);
  R.runs = 5;
  optind = 1;
  while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
    switch (ch) {
    case 't':
      if (nspec == BR_MAXT) {
        fprintf(stderr, "powercut bench-recovery: at most %d --target\n", BR_MAXT);
        return 2;
      }
      specs[nspec++] = optarg;
      break;
    case 's': sizes = optarg; break;
    case 'c': cache = optarg; break;
    case 'd': dir = optarg; break;
    case 'j': json = 1; break;
    case 'o': out = optarg; break;
    case 'r': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > BR_MAXR) {
        fprintf(stderr, "powercut bench-recovery: --runs: '%s' is not a number in 1..%d\n", optarg, BR_MAXR);
        return 2;
      }
      R.runs = (int)v;
      break;
    }
    case 'h': usage(stdout); return 0;
    default: return pc_option_error("bench-recovery", argv, ch);
    }
  }
  if (optind < argc) {
    fprintf(stderr, "powercut bench-recovery: unexpected argument '%s' (see --help)\n", argv[optind]);
    return 2;
  }
  if (!nspec) specs[nspec++] = "sofadb";
  for (int i = 0; i < nspec; i++) {
    br_target *bt = &R.ts[R.nt++];
    char msg[512];
    pc_target_spec_split(specs[i], bt->name, sizeof bt->name, bt->user, sizeof bt->user);
    if (!(bt->t = pc_target_find(bt->name))) {
      fprintf(stderr, "powercut bench-recovery: unknown target '%s' (see `powercut targets`)\n", bt->name);
      return 2;
    }
    if (bt->t->check_opts && bt->t->check_opts(bt->user, "", msg, sizeof msg)) {
      fprintf(stderr, "powercut bench-recovery: %s: %s\n", bt->name, msg);
      return 2;
    }
    bt->no_replay = pc_bench_no_replay(bt->t);
  }
  {
    char list[512], *save = NULL, *tok;
    snprintf(list, sizeof list, "%s", sizes);
    for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      uint64_t b;
      if (pc_opt_u64_pub(tok, &b) || b < BR_PER || b > (1ull << 40)) {
        fprintf(stderr, "powercut bench-recovery: bad size '%s' in --sizes (e.g. 16M, at least %d, at most 1T)\n", tok, BR_PER);
        return 2;
      }
      if (R.ns == BR_MAXS) {
        fprintf(stderr, "powercut bench-recovery: at most %d sizes\n", BR_MAXS);
        return 2;
      }
      snprintf(R.size_txt[R.ns], sizeof R.size_txt[R.ns], "%s", tok);
      R.sizes[R.ns++] = b;
    }
    snprintf(list, sizeof list, "%s", cache);
    save = NULL;
    for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      if (!strcmp(tok, "warm")) R.caches |= 1;
      else if (!strcmp(tok, "cold")) R.caches |= 2;
      else {
        fprintf(stderr, "powercut bench-recovery: --cache '%s' (warm, cold or warm,cold)\n", tok);
        return 2;
      }
    }
    if (!R.ns || !R.caches) {
      fprintf(stderr, "powercut bench-recovery: --sizes and --cache must not be empty\n");
      return 2;
    }
  }
  if (out && prepare_out(out)) return 2;
  if (pc_bench_root("bench-recovery", dir, "powercut-brec", R.root, sizeof R.root, &R.tmpfs)) return 2;
  /* descendants (an exec target's program) are reparented to us: reap_all
   * waits for them before the dir is copied or removed */
  (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (R.caches & 2) R.dropped = drop_caches();
  fprintf(stderr, "powercut bench-recovery: data dirs under %s (%s); cold runs: %s\n", R.root,
          R.tmpfs ? "tmpfs: WARNING, cold runs are not cold there" : "not tmpfs",
          !(R.caches & 2) ? "not run"
          : R.dropped ? "the copy's pages evicted (posix_fadvise) and caches dropped (drop_caches=3)"
                      : "the copy's pages evicted (posix_fadvise); caches NOT dropped (drop_caches needs root)");

  for (int s = 0; s < R.ns; s++)
    for (int t = 0; t < R.nt; t++) {
      br_target *bt = &R.ts[t];
      char pristine[1200], work[1200], opts[1300];
      br_dirstat ds = {0, 0, 0};
      uint64_t keys = keys_for(R.sizes[s]);
      snprintf(pristine, sizeof pristine, "%s/%s-%d/pristine", R.root, bt->name, s);
      snprintf(work, sizeof work, "%s/%s-%d/work", R.root, bt->name, s);
      fill_opts(bt, R.sizes[s], opts, sizeof opts);
      fprintf(stderr, "powercut bench-recovery: %s: fill %s (%" PRIu64 " keys), options %s\n", bt->name,
              R.size_txt[s], keys, opts[0] ? opts : "(defaults)");
      for (int c = 0; c < 2; c++) R.pts[t][s][c].size = R.sizes[s], R.pts[t][s][c].keys = keys;
      if (fill(bt, pristine, opts, R.sizes[s])) {
        fprintf(stderr, "powercut bench-recovery: %s: the fill of %s failed (see above)\n", bt->name, R.size_txt[s]);
        rc = 1;
        continue;
      }
      dir_stat(pristine, bt->name, &ds);
      if (lsm_layout(bt->name) && (ds.table || ds.log < keys * (BR_KLEN + BR_VLEN))) {
        fprintf(stderr, "powercut bench-recovery: %s: after the %s fill the log holds %" PRIu64
                " bytes and tables %" PRIu64 " bytes: the fill (%" PRIu64 " bytes of keys and values) "
                "is not all in the log\n", bt->name, R.size_txt[s], ds.log, ds.table, keys * (BR_KLEN + BR_VLEN));
        rc = 1;
        continue;
      }
      for (int c = 0; c < 2; c++) {
        br_point *p = &R.pts[t][s][c];
        p->log_bytes = lsm_layout(bt->name) || !strcmp(bt->name, "sqlite") ? ds.log : ds.total;
        p->replays = !bt->no_replay;
        p->x_bytes = p->replays ? p->log_bytes : ds.total;
        p->table_bytes = ds.table;
        p->db_bytes = ds.total;
        p->ok = 1;
      }
      for (int r = 0; r < R.runs; r++)
        for (int c = 0; c < 2; c++) {
          br_point *p = &R.pts[t][s][c];
          open_res res;
          uint64_t resident = 0;
          if (!(R.caches & (1 << c)) || !p->ok) continue;
          ffs_rm_rf(work);
          if (pc_copy_tree(pristine, work)) {
            fprintf(stderr, "powercut bench-recovery: copy %s -> %s failed\n", pristine, work);
            p->ok = 0;
            rc = 1;
            continue;
          }
          dir_pages(work, 1, c == 1, NULL);
          if (c == 1 && R.dropped) drop_caches();
          dir_pages(work, 0, 0, &resident);
          if (time_open(bt, work, opts, &res)) {
            fprintf(stderr, "powercut bench-recovery: %s: recovery of %s (%s) failed\n", bt->name,
                    R.size_txt[s], cache_name[c]);
            p->ok = 0;
            rc = 1;
            continue;
          }
          if (res.keys != keys) {
            fprintf(stderr, "powercut bench-recovery: %s: after recovery of %s (%s) %" PRIu64 " keys are back, "
                    "%" PRIu64 " were put\n", bt->name, R.size_txt[s], cache_name[c], res.keys, keys);
            p->ok = 0;
            rc = 1;
          }
          p->keys_back = res.keys;
          p->resident[p->n] = resident;
          p->us[p->n++] = res.us;
        }
      for (int c = 0; c < 2; c++)
        if (R.pts[t][s][c].ok && R.pts[t][s][c].n) point_stats(&R.pts[t][s][c]);
        else R.pts[t][s][c].ok = 0;
      ffs_rm_rf(work);
      ffs_rm_rf(pristine);
    }
  ffs_rm_rf(R.root);

  if (json) print_json(stdout, &R);
  else {
    printf("powercut bench-recovery: runs=%d, keys %dB, values %dB, dir %s (%s), cold: %s\n", R.runs, BR_KLEN,
           BR_VLEN, dir, R.tmpfs ? "tmpfs" : "real disk",
           !(R.caches & 2) ? "not run" : R.dropped ? "caches dropped" : "db files evicted, caches not dropped (not root)");
    for (int t = 0; t < R.nt; t++) {
      char o[1300];
      fill_opts(&R.ts[t], R.sizes[0], o, sizeof o);
      printf("  %-8s %s; options (size %s): %s\n", R.ts[t].name,
             R.ts[t].no_replay ? "open time, not recovery" : "recovery", R.size_txt[0], o[0] ? o : "(defaults)");
      if (R.ts[t].no_replay) printf("           (%s)\n", R.ts[t].no_replay);
    }
    printf("\n%-8s %-8s %-7s %-5s %11s %12s %10s %-19s %8s %10s\n", "target", "measure", "size", "cache",
           "keys back", "log bytes", "median ms", "min-max ms", "MiB/s", "resident");
    for (int s = 0; s < R.ns; s++)
      for (int t = 0; t < R.nt; t++)
        for (int c = 0; c < 2; c++) {
          const br_point *p = &R.pts[t][s][c];
          char mm[64];
          uint64_t res = 0;
          if (!(R.caches & (1 << c))) continue;
          if (!p->ok) {
            printf("%-8s %-8s %-7s %-5s %11s\n", R.ts[t].name, measure_of(&R.ts[t]), R.size_txt[s], cache_name[c],
                   "FAILED");
            continue;
          }
          for (int i = 0; i < p->n; i++) res = p->resident[i] > res ? p->resident[i] : res;
          snprintf(mm, sizeof mm, "%.1f-%.1f", p->lo_ms, p->hi_ms);
          char ms[32] = "-";
          if (p->replays) snprintf(ms, sizeof ms, "%.1f", p->mib_s);
          printf("%-8s %-8s %-7s %-5s %11" PRIu64 " %12" PRIu64 " %10.1f %-19s %8s %9.1fM\n", R.ts[t].name,
                 measure_of(&R.ts[t]), R.size_txt[s], cache_name[c], p->keys_back, p->log_bytes, p->med_ms, mm,
                 ms, (double)res / 1048576.0);
        }
    print_growth(stdout, &R);
  }
  if (out) {
    char p[4200];
    FILE *f;
    snprintf(p, sizeof p, "%s/recovery.json", out);
    if (!(f = fopen(p, "w"))) {
      fprintf(stderr, "powercut bench-recovery: %s: %s\n", p, strerror(errno));
      rc = 1;
    } else {
      print_json(f, &R);
      if (fclose(f)) rc = 1;
    }
    snprintf(p, sizeof p, "%s/index.html", out);
    if (write_html(p, &R)) {
      fprintf(stderr, "powercut bench-recovery: %s: %s\n", p, strerror(errno));
      rc = 1;
    } else
      fprintf(stderr, "powercut bench-recovery: wrote %s and %s/recovery.json\n", p, out);
  }
  return rc;
}
