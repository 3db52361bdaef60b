/*
 * ckv.c - the skeleton shared by the corpus engines: memtable, record codec, file helpers,
 * adapter glue (see ckv.h). Nothing here decides durability: each engine file does, and each
 * states its invariants in its header comment.
 */
#define _GNU_SOURCE
#include "ckv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- memtable ---- */
static int cmp_key(const void *a, size_t al, const void *b, size_t bl) {
  int c = memcmp(a, b, al < bl ? al : bl);
  return c ? c : (al > bl) - (al < bl);
}

/* index of the first entry >= k */
static size_t lower(const ckv_mem *m, const void *k, size_t kl) {
  size_t lo = 0, hi = m->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cmp_key(m->e[mid].k, m->e[mid].kl, k, kl) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int ckv_mem_put(ckv_mem *m, const void *k, size_t kl, const void *v, size_t vl) {
  size_t i = lower(m, k, kl);
  uint8_t *nv = malloc(vl ? vl : 1);
  if (!nv) return PC_ENOMEM;
  if (vl) memcpy(nv, v, vl);
  if (i < m->n && !cmp_key(m->e[i].k, m->e[i].kl, k, kl)) {
    free(m->e[i].v);
    m->e[i].v = nv;
    m->e[i].vl = vl;
    return 0;
  }
  if (m->n == m->cap) {
    size_t nc = m->cap ? m->cap * 2 : 64;
    ckv_ent *ne = realloc(m->e, nc * sizeof *ne);
    if (!ne) goto fail;
    m->e = ne;
    m->cap = nc;
  }
  uint8_t *nk = malloc(kl ? kl : 1);
  if (!nk) goto fail;
  if (kl) memcpy(nk, k, kl);
  memmove(m->e + i + 1, m->e + i, (m->n - i) * sizeof *m->e);
  m->e[i] = (ckv_ent){nk, nv, kl, vl};
  m->n++;
  return 0;
fail:
  free(nv);
  return PC_ENOMEM;
}

static void ckv_mem_del(ckv_mem *m, const void *k, size_t kl) {
  size_t i = lower(m, k, kl);
  if (i >= m->n || cmp_key(m->e[i].k, m->e[i].kl, k, kl)) return;
  free(m->e[i].k);
  free(m->e[i].v);
  memmove(m->e + i, m->e + i + 1, (m->n - i - 1) * sizeof *m->e);
  m->n--;
}

void ckv_mem_free(ckv_mem *m) {
  for (size_t i = 0; i < m->n; i++) {
    free(m->e[i].k);
    free(m->e[i].v);
  }
  free(m->e);
  memset(m, 0, sizeof *m);
}

int ckv_mem_apply(ckv_mem *m, const pc_kv_op *ops, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (ops[i].kind == PC_OP_DEL) ckv_mem_del(m, ops[i].k, ops[i].klen);
    else {
      int rc = ckv_mem_put(m, ops[i].k, ops[i].klen, ops[i].v, ops[i].vlen);
      if (rc) return rc;
    }
  }
  return 0;
}

/* ---- codec ---- */
uint32_t ckv_crc(const void *p, size_t n) {
  return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Encodes ops after `pre` reserved bytes. */
static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

static int encode_at(const pc_kv_op *ops, size_t n, uint64_t seq, size_t pre, uint8_t **out,
                     size_t *outlen) {
  size_t len = 12;
  uint8_t *b, *p;
  for (size_t i = 0; i < n; i++) len += 9 + ops[i].klen + ((ops[i].kind == PC_OP_DEL) ? 0 : ops[i].vlen);
  if (len > CKV_MAX_BODY) return PC_EINVAL;
  if (!(b = malloc(pre + len))) return PC_ENOMEM;
  p = b + pre;
  put64(p, seq), p += 8;
  put32(p, (uint32_t)n), p += 4;
  for (size_t i = 0; i < n; i++) {
    size_t vl = (ops[i].kind == PC_OP_DEL) ? 0 : ops[i].vlen;
    *p++ = (uint8_t)((ops[i].kind == PC_OP_DEL) ? 1 : 0);
    put32(p, (uint32_t)ops[i].klen), p += 4;
    put32(p, (uint32_t)vl), p += 4;
    if (ops[i].klen) memcpy(p, ops[i].k, ops[i].klen), p += ops[i].klen;
    if (vl) memcpy(p, ops[i].v, vl), p += vl;
  }
  *out = b;
  *outlen = pre + len;
  return 0;
}

int ckv_encode(const pc_kv_op *ops, size_t n, uint64_t seq, uint8_t **out, size_t *outlen) {
  return encode_at(ops, n, seq, 0, out, outlen);
}

int ckv_frame(const pc_kv_op *ops, size_t n, uint64_t seq, uint8_t **out, size_t *outlen) {
  int rc = encode_at(ops, n, seq, CKV_FRAME, out, outlen);
  if (rc) return rc;
  put32(*out, (uint32_t)(*outlen - CKV_FRAME));
  put32(*out + 4, ckv_crc(*out + CKV_FRAME, *outlen - CKV_FRAME));
  return 0;
}

static int ckv_encode_mem(const ckv_mem *m, uint64_t seq, uint8_t **out, size_t *outlen) {
  pc_kv_op *ops = calloc(m->n ? m->n : 1, sizeof *ops);
  int rc;
  if (!ops) return PC_ENOMEM;
  for (size_t i = 0; i < m->n; i++)
    ops[i] = (pc_kv_op){0, m->e[i].k, m->e[i].kl, m->e[i].v, m->e[i].vl};
  rc = ckv_frame(ops, m->n, seq, out, outlen);
  free(ops);
  return rc;
}

int ckv_decode_apply(ckv_mem *m, const uint8_t *body, size_t len, uint64_t after, uint64_t *seq) {
  const uint8_t *p = body, *end = body + len;
  uint32_t n;
  pc_kv_op *ops = NULL;
  int rc = PC_EIO;
  if (len < 12) return PC_EIO;
  *seq = get64(p), p += 8;
  n = get32(p), p += 4;
  if (n > len / 9 + 1) return PC_EIO;
  if (!(ops = calloc(n ? n : 1, sizeof *ops))) return PC_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t kl, vl;
    if ((size_t)(end - p) < 9) goto fail;
    ops[i].kind = p[0] ? PC_OP_DEL : PC_OP_PUT;
    kl = get32(p + 1), vl = get32(p + 5), p += 9;
    if ((size_t)(end - p) < kl || (size_t)(end - p) - kl < vl) goto fail;
    ops[i].k = p, ops[i].klen = kl, p += kl;
    ops[i].v = p, ops[i].vlen = vl, p += vl;
  }
  if (p != end) goto fail;
  rc = *seq > after ? ckv_mem_apply(m, ops, n) : 0;
fail:
  free(ops);
  return rc;
}

int ckv_replay(ckv_mem *m, const uint8_t *buf, size_t len, int trust, uint64_t after, size_t *end,
               uint64_t *last) {
  size_t off = 0;
  uint64_t seq = 0;
  int rc = 0;
  *last = after;
  while (len - off >= CKV_FRAME) {
    uint32_t l = get32(buf + off), crc = get32(buf + off + 4);
    const uint8_t *body = buf + off + CKV_FRAME;
    uint8_t *tmp = NULL;
    if (l == 0 || l > CKV_MAX_BODY) break;   /* zeros past the end, or garbage */
    if (len - off - CKV_FRAME < l) {         /* the record runs past the end of the file */
      size_t have = len - off - CKV_FRAME;
      if (!trust) break;
      if (!(tmp = calloc(1, l))) return PC_ENOMEM;
      memcpy(tmp, body, have);
      body = tmp;
    } else if (!trust && ckv_crc(body, l) != crc) {
      break;
    }
    rc = ckv_decode_apply(m, body, l, after, &seq);
    free(tmp);
    if (rc == PC_ENOMEM) return rc;
    if (rc) { rc = 0; break; }               /* malformed body: end of the log */
    if (seq > *last) *last = seq;
    off += CKV_FRAME + l;
    if (off > len) off = len;
  }
  *end = off;
  return rc;
}

/* ---- files ---- */
int ckv_write_all(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return PC_EIO;
    b += w, n -= (size_t)w;
  }
  return 0;
}

int ckv_pwrite_all(int fd, const void *p, size_t n, uint64_t off) {
  const uint8_t *b = p;
  while (n) {
    ssize_t w = pwrite(fd, b, n, (off_t)off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return PC_EIO;
    b += w, n -= (size_t)w, off += (uint64_t)w;
  }
  return 0;
}

int ckv_read_file(const char *path, uint8_t **out, size_t *outlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC), rc = PC_EIO;
  struct stat st;
  uint8_t *b = NULL;
  size_t got = 0;
  if (fd < 0) return errno == ENOENT ? 0 : PC_EIO;
  if (fstat(fd, &st) < 0) goto fail;
  if (!(b = malloc((size_t)st.st_size + 1))) { rc = PC_ENOMEM; goto fail; }
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) goto fail;
    if (r == 0) break;
    got += (size_t)r;
  }
  close(fd);
  *out = b;
  *outlen = got;
  return 1;
fail:
  free(b);
  close(fd);
  return rc;
}

int ckv_fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
  if (fd < 0) return PC_EIO;
  if (fsync(fd) < 0) rc = PC_EIO;
  close(fd);
  return rc;
}

int ckv_path(char *buf, size_t len, const char *dir, const char *name) {
  int n = snprintf(buf, len, "%s/%s", dir, name);
  return n < 0 || (size_t)n >= len ? PC_EINVAL : 0;
}

int ckv_write_snapshot(const char *path, const ckv_mem *m, uint64_t seq, int *fdp) {
  uint8_t *b = NULL;
  size_t bl;
  int fd = -1, rc;
  if ((rc = ckv_encode_mem(m, seq, &b, &bl))) goto fail;
  if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) { rc = PC_EIO; goto fail; }
  if ((rc = ckv_write_all(fd, b, bl))) goto fail;
  free(b);
  *fdp = fd;
  return 0;
fail:
  if (fd >= 0) close(fd);
  free(b);
  return rc;
}

int ckv_load_snapshot(const char *path, ckv_mem *m, uint64_t *seq) {
  uint8_t *b = NULL;
  size_t bl = 0;
  int rc = ckv_read_file(path, &b, &bl);
  if (rc <= 0) return rc;
  rc = PC_ETARGET;
  if (bl < CKV_FRAME || get32(b) != bl - CKV_FRAME || get32(b + 4) != ckv_crc(b + CKV_FRAME, bl - CKV_FRAME))
    goto fail;
  if ((rc = ckv_decode_apply(m, b + CKV_FRAME, bl - CKV_FRAME, 0, seq))) {
    if (rc == PC_EIO) rc = PC_ETARGET;
    goto fail;
  }
  rc = 1;
fail:
  free(b);
  return rc;
}

/* ---- adapter glue ---- */
int ckv_fail(ckv *c, int rc, const char *fmt, ...) {
  va_list ap;
  int e = errno;
  size_t n;
  va_start(ap, fmt);
  vsnprintf(c->msg, sizeof c->msg, fmt, ap);
  va_end(ap);
  n = strlen(c->msg);
  if (e && n + 2 < sizeof c->msg) snprintf(c->msg + n, sizeof c->msg - n, ": %s", strerror(e));
  return rc;
}

int ckv_new(const char *dir, int bug, const ckv_hooks *hooks, ckv **out, char *msg, size_t len) {
  ckv *c = calloc(1, sizeof *c);
  if (!c) return PC_ENOMEM;
  if (snprintf(c->dir, sizeof c->dir, "%s", dir) >= (int)sizeof c->dir) {
    snprintf(msg, len, "data dir path too long: %s", dir);
    free(c);
    return PC_EINVAL;
  }
  c->hooks = hooks;
  c->bug = bug;
  *out = c;
  return 0;
}

void ckv_free(ckv *c) {
  if (!c) return;
  ckv_mem_free(&c->mem);
  free(c);
}

int ckv_t_batch(void *h, const pc_kv_op *ops, size_t n, int sync) {
  ckv *c = h;
  int rc;
  if (c->dead) return ckv_fail(c, PC_EIO, "engine stopped after an earlier I/O error (%s)", c->msg);
  if ((rc = c->hooks->write(c, ops, n, sync))) return rc;
  return ckv_mem_apply(&c->mem, ops, n);
}

int ckv_t_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int sync) {
  pc_kv_op op = {0, k, kl, v, vl};
  return ckv_t_batch(h, &op, 1, sync);
}

int ckv_t_del(void *h, const void *k, size_t kl, int sync) {
  pc_kv_op op = {1, k, kl, NULL, 0};
  return ckv_t_batch(h, &op, 1, sync);
}

int ckv_t_get(void *h, const void *k, size_t kl, void **v, size_t *vl) {
  ckv *c = h;
  size_t i = lower(&c->mem, k, kl);
  if (i >= c->mem.n || cmp_key(c->mem.e[i].k, c->mem.e[i].kl, k, kl)) return 0;
  if (!(*v = malloc(c->mem.e[i].vl ? c->mem.e[i].vl : 1))) return PC_ENOMEM;
  memcpy(*v, c->mem.e[i].v, c->mem.e[i].vl);
  *vl = c->mem.e[i].vl;
  return 1;
}

int ckv_t_scan(void *h, pc_scan_fn fn, void *arg) {
  ckv *c = h;
  for (size_t i = 0; i < c->mem.n; i++) {
    int rc = fn(arg, c->mem.e[i].k, c->mem.e[i].kl, c->mem.e[i].v, c->mem.e[i].vl);
    if (rc) return rc;
  }
  return 0;
}

int ckv_t_sync(void *h) {
  ckv *c = h;
  if (c->dead) return ckv_fail(c, PC_EIO, "engine stopped after an earlier I/O error");
  return c->hooks->sync(c);
}

int ckv_t_flush(void *h) {
  ckv *c = h;
  if (c->dead) return ckv_fail(c, PC_EIO, "engine stopped after an earlier I/O error");
  return c->hooks->flush(c);
}

int ckv_t_close(void *h) {
  ckv *c = h;
  c->hooks->close(c);
  ckv_free(c);
  return 0;
}

const char *ckv_t_errmsg(void *h) { return ((ckv *)h)->msg; }

int ckv_t_check_opts(const char *opts, const char *wopts, char *msg, size_t len) {
  (void)wopts; /* workload hints (e.g. churn's memtable size) do not apply to these engines */
  if (opts && *opts) {
    snprintf(msg, len, "corpus engines take no options (got '%s')", opts);
    return PC_EINVAL;
  }
  return 0;
}
