/* filekv.c — the whole-file key-value store of examples/go/filestore in C, speaking
 * powercut's exec protocol (docs/targets.md) on stdin/stdout. Every write rewrites
 * DIR/db.tmp and renames it over DIR/db.
 *   filekv correct   fsync the temp file before the rename and the directory after it
 *                    (write temp, fsync, rename, fsync dir): every acked write is durable
 *   filekv naive     never fsyncs: a power cut can lose acked writes
 * Built twice by CMake, dynamic and `-static`: the same source for both interception
 * backends (the preload shim cannot see the static one). Keys and values are kept as the
 * protocol's hex words ("-" = empty), whose byte order is the order of the bytes.
 * Invariant (correct): after a failed write, fsync or rename the store refuses writes
 * until it is opened again (a failed fsync is final). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { char *k, *v; } kv;
static kv *m;
static size_t n, cap;
static int durable, failed;
static char dir[4096];

static int cmp(const void *a, const void *b) { return strcmp(((const kv *)a)->k, ((const kv *)b)->k); }

static void set(kv *t, size_t *tn, size_t *tcap, const char *k, const char *v) {
  for (size_t i = 0; i < *tn; i++)
    if (!strcmp(t[i].k, k)) {
      if (v) { free(t[i].v); t[i].v = strdup(v); }
      else { free(t[i].k); free(t[i].v); t[i] = t[--*tn]; }
      return;
    }
  if (!v) return;
  (void)tcap;
  t[*tn].k = strdup(k);
  t[*tn].v = strdup(v);
  ++*tn;
}

static void grow(size_t more) {
  if (n + more <= cap) return;
  cap = (n + more) * 2;
  m = realloc(m, cap * sizeof *m);
  if (!m) { perror("filekv"); exit(1); }
}

static int fsync_path(const char *p) {
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = fsync(fd);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

/* Publishes the map: write temp, (fsync), rename, (fsync dir). 0 or -1 with errno. */
static int save(void) {
  char tmp[4200], db[4200];
  snprintf(tmp, sizeof tmp, "%s/db.tmp", dir);
  snprintf(db, sizeof db, "%s/db", dir);
  qsort(m, n, sizeof *m, cmp);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  size_t len = 0;
  for (size_t i = 0; i < n; i++) len += strlen(m[i].k) + strlen(m[i].v) + 2;
  char *buf = malloc(len + 1), *p = buf;
  for (size_t i = 0; i < n; i++) p += sprintf(p, "%s %s\n", m[i].k, m[i].v);
  int r = 0;
  for (size_t off = 0; off < len && r == 0;) {
    ssize_t w = write(fd, buf + off, len - off);
    if (w < 0) r = -1;
    else off += (size_t)w;
  }
  free(buf);
  if (r == 0 && durable) r = fsync(fd);
  int e = errno;
  close(fd);
  errno = e;
  if (r == 0) r = rename(tmp, db);
  if (r == 0 && durable) r = fsync_path(dir);
  return r;
}

/* Applies ops (k, v; v NULL = delete) on the map and publishes it. */
static void apply(char **ks, char **vs, size_t cnt) {
  if (failed) { printf("err store failed earlier: reopen\n"); return; }
  grow(cnt);
  for (size_t i = 0; i < cnt; i++) set(m, &n, &cap, ks[i], vs[i]);
  if (save() < 0) {
    printf("err %s\n", strerror(errno));
    if (durable) failed = 1;
    return;
  }
  printf("ok\n");
}

static int do_open(const char *d) {
  char db[4200], line[1 << 16];
  for (size_t i = 0; i < n; i++) { free(m[i].k); free(m[i].v); }
  n = 0;
  failed = 0;
  snprintf(dir, sizeof dir, "%s", d);
  snprintf(db, sizeof db, "%s/db", dir);
  FILE *f = fopen(db, "r");
  if (!f) return errno == ENOENT ? 0 : -1;
  while (fgets(line, sizeof line, f)) {
    char k[1 << 15], v[1 << 15];
    if (sscanf(line, "%32767s %32767s", k, v) != 2) { fclose(f); errno = EINVAL; return -1; }
    grow(1);
    set(m, &n, &cap, k, v);
  }
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  static char line[1 << 16];
  if (argc != 2 || (strcmp(argv[1], "naive") && strcmp(argv[1], "correct"))) {
    fprintf(stderr, "usage: filekv naive|correct\n");
    return 2;
  }
  durable = !strcmp(argv[1], "correct");
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    char *w[4] = {0};
    int nw = 0;
    for (char *t = strtok(line, " "); t && nw < 4; t = strtok(NULL, " ")) w[nw++] = t;
    if (nw == 0) printf("err empty request\n");
    else if (!strcmp(w[0], "open") && nw == 2) {
      if (do_open(w[1]) < 0) printf("err open: %s\n", strerror(errno));
      else printf("ok\n");
    } else if (!strcmp(w[0], "put") && nw == 4) apply(&w[1], &w[2], 1);
    else if (!strcmp(w[0], "del") && nw == 3) { char *v = NULL; apply(&w[1], &v, 1); }
    else if (!strcmp(w[0], "batch") && nw == 3) {
      long cnt = atol(w[1]);
      char **ks = calloc((size_t)cnt + 1, sizeof *ks), **vs = calloc((size_t)cnt + 1, sizeof *vs);
      for (long i = 0; i < cnt; i++) {
        char l[1 << 16], *a, *b, *c;
        if (!fgets(l, sizeof l, stdin)) return 0; /* end of input: a power cut */
        l[strcspn(l, "\n")] = 0;
        a = strtok(l, " "), b = strtok(NULL, " "), c = strtok(NULL, " ");
        ks[i] = strdup(b ? b : "-");
        vs[i] = a && !strcmp(a, "put") && c ? strdup(c) : NULL;
      }
      apply(ks, vs, (size_t)cnt);
      for (long i = 0; i < cnt; i++) { free(ks[i]); free(vs[i]); }
      free(ks);
      free(vs);
    } else if (!strcmp(w[0], "get") && nw == 2) {
      size_t i = 0;
      while (i < n && strcmp(m[i].k, w[1])) i++;
      if (i < n) printf("ok %s\n", m[i].v);
      else printf("notfound\n");
    } else if (!strcmp(w[0], "scan")) {
      qsort(m, n, sizeof *m, cmp);
      for (size_t i = 0; i < n; i++) printf("kv %s %s\n", m[i].k, m[i].v);
      printf("end\n");
    } else if (!strcmp(w[0], "sync") || !strcmp(w[0], "flush") || !strcmp(w[0], "close")) printf("ok\n");
    else printf("err unknown request %s\n", w[0]);
    fflush(stdout);
  }
  return 0; /* end of input: a power cut, no close */
}
