/*
 * fuzz_util.c - helpers shared by the fuzz targets (see fuzz_util.h).
 * The checksum code is an independent re-implementation of the layouts in
 * docs/format/{wal,sstable}.md: it must not call the decoders it feeds.
 */
#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

void fz_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FUZZ INVARIANT BROKEN: ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

static void rm_tree(const char *path, int keep_top) {
  DIR *d = opendir(path);
  struct dirent *e;
  if (d) {
    while ((e = readdir(d))) {
      char p[4096];
      struct stat st;
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(p, sizeof p, "%s/%s", path, e->d_name);
      if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
        chmod(p, 0700);
        rm_tree(p, 0);
      } else {
        unlink(p);
      }
    }
    closedir(d);
  }
  if (!keep_top) rmdir(path);
}

void fz_clear(const char *dir) { rm_tree(dir, 1); }

static char g_dir[4096];
static void cleanup(void) {
  if (g_dir[0]) rm_tree(g_dir, 0);
}

const char *fz_dir(void) {
  if (!g_dir[0] && getenv("FUZZ_DIR")) { /* debugging: a fixed dir, left in place */
    snprintf(g_dir, sizeof g_dir, "%s", getenv("FUZZ_DIR"));
    mkdir(g_dir, 0755);
  }
  if (!g_dir[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/pcfuzz.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(g_dir)) fz_fail("mkdtemp %s: %s", g_dir, strerror(errno));
    atexit(cleanup);
  }
  fz_clear(g_dir);
  return g_dir;
}

void fz_write(const char *dir, const char *name, const void *data, size_t n) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fz_fail("open %s: %s", p, strerror(errno));
  const uint8_t *b = data;
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w <= 0) fz_fail("write %s: %s", p, strerror(errno));
    b += w;
    n -= (size_t)w;
  }
  close(fd);
}

FILE *fz_devnull(void) {
  static FILE *f;
  if (!f && !(f = fopen("/dev/null", "w"))) fz_fail("fopen /dev/null: %s", strerror(errno));
  return f;
}

/* ---- checksums ------------------------------------------------------------- */
static uint32_t ck(const void *p, size_t n) { return (uint32_t)XXH3_64bits(p, n); }
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void fz_reseal_log(uint8_t *p, size_t n) {
  const size_t block = 32768, hdr = 7;
  size_t pos = 0;
  while (pos < n) {
    size_t left = block - pos % block;
    if (left < hdr) { /* zero padding at the end of a block */
      pos += left;
      continue;
    }
    if (n - pos < hdr) return;
    size_t len = (size_t)(p[pos + 4] | p[pos + 5] << 8);
    if (hdr + len > left || hdr + len > n - pos) return; /* leave a torn/bad tail as it is */
    put32(p + pos, ck(p + pos + 4, 3 + len));
    pos += hdr + len;
  }
}

static const uint8_t *varint(const uint8_t *p, const uint8_t *end, uint64_t *v) {
  uint64_t r = 0;
  for (int s = 0; s <= 63 && p < end; s += 7) {
    uint8_t b = *p++;
    r |= (uint64_t)(b & 0x7f) << s;
    if (!(b & 0x80)) {
      *v = r;
      return p;
    }
  }
  return NULL;
}

/* contents [off, off+len) | type | checksum(contents||type) */
static int block_ok(size_t n, uint64_t off, uint64_t len) {
  return off <= n && len <= n - off && n - off - len >= 5;
}
static void reseal_block(uint8_t *p, size_t n, uint64_t off, uint64_t len) {
  if (block_ok(n, off, len)) put32(p + off + len + 1, ck(p + off, (size_t)len + 1));
}

/* Calls fn on the block handle stored in each entry value of the block at off. */
static void each_handle(uint8_t *p, size_t n, uint64_t off, uint64_t len, int depth) {
  if (!block_ok(n, off, len) || len < 4) return;
  const uint8_t *b = p + off;
  uint32_t nr = get32(b + len - 4);
  if (nr > (len - 4) / 4) return;
  const uint8_t *q = b, *end = b + len - 4 - 4 * (uint64_t)nr;
  for (int guard = 0; q < end && guard < 100000; guard++) {
    uint64_t sh, ns, vn, ho, hl;
    if (!(q = varint(q, end, &sh)) || !(q = varint(q, end, &ns)) || !(q = varint(q, end, &vn))) return;
    if (ns > (uint64_t)(end - q) || vn > (uint64_t)(end - q) - ns) return;
    const uint8_t *v = q + ns, *h;
    q = v + vn;
    if ((h = varint(v, v + vn, &ho)) && varint(h, v + vn, &hl)) {
      if (depth) each_handle(p, n, ho, hl, depth - 1); /* metaindex -> properties */
      reseal_block(p, n, ho, hl);
    }
  }
}

void fz_reseal_sst(uint8_t *p, size_t n) {
  if (n < 48) return;
  uint8_t *f = p + n - 48;
  uint64_t moff = get64(f), mlen = get64(f + 8), ioff = get64(f + 16), ilen = get64(f + 24);
  each_handle(p, n, ioff, ilen, 0); /* data blocks */
  each_handle(p, n, moff, mlen, 0); /* properties */
  reseal_block(p, n, moff, mlen);
  reseal_block(p, n, ioff, ilen);
  put32(f + 36, ck(f, 36));
}

/* ---- dir archive ------------------------------------------------------------- */
static int name_ok(const char *s, size_t n) {
  if (!n || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '/' || s[i] == 0) return 0;
  return 1;
}

static int has_suffix(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

int fz_unpack(const char *dir, const uint8_t *data, size_t n, int reseal) {
  size_t pos = 0;
  int files = 0;
  while (pos < n && files < 16) {
    size_t nl = data[pos++];
    if (nl > n - pos) break;
    char name[256];
    memcpy(name, data + pos, nl);
    name[nl] = 0;
    pos += nl;
    size_t dl = 0;
    if (n - pos >= 4) {
      dl = get32(data + pos);
      pos += 4;
    } else {
      pos = n;
    }
    if (dl > n - pos) dl = n - pos;
    if (name_ok(name, nl)) {
      uint8_t *copy = malloc(dl ? dl : 1);
      if (!copy) fz_fail("out of memory");
      memcpy(copy, data + pos, dl);
      if (reseal && (has_suffix(name, ".log") || !strncmp(name, "MANIFEST-", 9))) fz_reseal_log(copy, dl);
      if (reseal && has_suffix(name, ".sst")) fz_reseal_sst(copy, dl);
      fz_write(dir, name, copy, dl);
      free(copy);
      files++;
    }
    pos += dl;
  }
  return files;
}

size_t fz_pack_entry(uint8_t *out, size_t len, size_t cap, const char *name, const uint8_t *data, size_t n) {
  size_t nl = strlen(name);
  if (nl > 255 || n > UINT32_MAX || cap - len < 1 + nl + 4 + n) return 0;
  out[len++] = (uint8_t)nl;
  memcpy(out + len, name, nl);
  len += nl;
  put32(out + len, (uint32_t)n);
  len += 4;
  memcpy(out + len, data, n);
  return len + n;
}
