/*
 * sdb_int.h - internals shared by the engine's files: byte buffers,
 * little-endian/varint coding, checksums, internal keys, file names and the
 * error-context buffer.
 *
 * Internal key = user key || 8-byte little-endian trailer (seq << 8 | type).
 * Order: user key bytewise (memcmp, shorter first on a common prefix), then
 * trailer descending, so the newest version of a key comes first.
 */
#ifndef SDB_INT_H
#define SDB_INT_H

#include "sofadb.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SDB_TYPE_DEL 0
#define SDB_TYPE_PUT 1
#define SDB_TYPE_SEEK 0xff /* largest type: seeks land on every type of a seq */
#define SDB_MAX_SEQ ((UINT64_C(1) << 56) - 1)

/* ---- error context --------------------------------------------------------- */
typedef struct sdb_eb {
  char msg[512];
} sdb_eb;

/* Formats a message into eb (may be NULL) and returns code. */
int sdb__err(sdb_eb *eb, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Maps -errno of a failed syscall to an SDB_E* code and records
 * "op path: strerror (errno N)". */
int sdb__ioerr(sdb_eb *eb, const char *op, const char *path, int neg_errno);
int sdb__errno_code(int neg_errno);

/* ---- growable byte buffer -------------------------------------------------- */
typedef struct sdb_buf {
  uint8_t *p;
  size_t len, cap;
} sdb_buf;

int sdb__buf_reserve(sdb_buf *b, size_t extra); /* 0 or SDB_ENOMEM */
void sdb__buf_free(sdb_buf *b);
static inline int sdb__buf_add(sdb_buf *b, const void *p, size_t n) {
  if (b->cap - b->len < n && sdb__buf_reserve(b, n)) return SDB_ENOMEM;
  if (n) memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}
static inline int sdb__buf_set(sdb_buf *b, const void *p, size_t n) {
  b->len = 0;
  return sdb__buf_add(b, p, n);
}

/* ---- coding (little-endian fixed, LEB128 varints) -------------------------- */
static inline void sdb__enc16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline uint16_t sdb__dec16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline void sdb__enc32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t sdb__dec32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void sdb__enc64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t sdb__dec64(const uint8_t *p) {
  return (uint64_t)sdb__dec32(p) | (uint64_t)sdb__dec32(p + 4) << 32;
}
static inline size_t sdb__encvar(uint8_t *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}
/* Returns the byte after the varint, or NULL if malformed/truncated. */
static inline const uint8_t *sdb__decvar(const uint8_t *p, const uint8_t *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift <= 63 && p < end; shift += 7) {
    uint8_t b = *p++;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return p;
    }
  }
  return NULL;
}
static inline int sdb__buf_var(sdb_buf *b, uint64_t v) {
  uint8_t t[10];
  return sdb__buf_add(b, t, sdb__encvar(t, v));
}
static inline int sdb__buf_u32(sdb_buf *b, uint32_t v) {
  uint8_t t[4];
  sdb__enc32(t, v);
  return sdb__buf_add(b, t, 4);
}
static inline int sdb__buf_u64(sdb_buf *b, uint64_t v) {
  uint8_t t[8];
  sdb__enc64(t, v);
  return sdb__buf_add(b, t, 8);
}
/* length-prefixed bytes */
static inline int sdb__buf_lp(sdb_buf *b, const void *p, size_t n) {
  int rc = sdb__buf_var(b, n);
  return rc ? rc : sdb__buf_add(b, p, n);
}

/* One op of a WAL batch (docs/format/wal.md): type byte, key (varint
 * length + bytes), and for a put the value (same). Advances *p; 0, or -1 if
 * the op is malformed or runs past end. */
static inline int sdb__op_next(const uint8_t **pp, const uint8_t *end, int *type, const uint8_t **k, uint64_t *kn,
                               const uint8_t **v, uint64_t *vn) {
  const uint8_t *p = *pp;
  *type = *p++;
  *v = NULL, *vn = 0;
  if ((*type != SDB_TYPE_PUT && *type != SDB_TYPE_DEL) || !(p = sdb__decvar(p, end, kn)) || *kn > (uint64_t)(end - p))
    return -1;
  *k = p;
  p += *kn;
  if (*type == SDB_TYPE_PUT) {
    if (!(p = sdb__decvar(p, end, vn)) || *vn > (uint64_t)(end - p)) return -1;
    *v = p;
    p += *vn;
  }
  *pp = p;
  return 0;
}

/* The checksum of every on-disk format: low 32 bits of XXH3-64 (seed 0). */
static inline uint32_t sdb__cksum(const void *p, size_t n) { return (uint32_t)XXH3_64bits(p, n); }

/* ---- keys ------------------------------------------------------------------ */
/* Bytewise order, -1, 0 or 1: eight bytes at a time without a memcmp call,
 * which is what short keys want. */
static inline int sdb__ucmp(const void *av, size_t alen, const void *bv, size_t blen) {
  const uint8_t *a = av, *b = bv;
  size_t n = alen < blen ? alen : blen, i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    memcpy(&x, a + i, 8);
    memcpy(&y, b + i, 8);
    if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      x = __builtin_bswap64(x), y = __builtin_bswap64(y);
#endif
      return x < y ? -1 : 1;
    }
  }
  for (; i < n; i++)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}
/* internal keys: both at least 8 bytes */
static inline int sdb__icmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  int c = sdb__ucmp(a, alen - 8, b, blen - 8);
  if (c) return c;
  uint64_t ta = sdb__dec64(a + alen - 8), tb = sdb__dec64(b + blen - 8);
  return ta > tb ? -1 : ta < tb ? 1 : 0;
}
static inline uint64_t sdb__trailer(uint64_t seq, int type) { return seq << 8 | (uint64_t)type; }
/* Builds user||trailer into b. */
static inline int sdb__ikey(sdb_buf *b, const void *k, size_t klen, uint64_t seq, int type) {
  b->len = 0;
  int rc = sdb__buf_add(b, k, klen);
  return rc ? rc : sdb__buf_u64(b, sdb__trailer(seq, type));
}

/* Printable form of arbitrary bytes (\xNN escapes), NUL-terminated, into out;
 * truncated with "..." if longer than outlen. */
void sdb__escape(const void *p, size_t n, char *out, size_t outlen);

/* ---- file names -------------------------------------------------------------- */
enum sdb_ftype { SDB_F_UNKNOWN, SDB_F_LOG, SDB_F_SST, SDB_F_MANIFEST, SDB_F_CURRENT, SDB_F_TEMP, SDB_F_LOCK };
/* Classifies a directory entry name; *num gets the file number if any. */
enum sdb_ftype sdb__parse_name(const char *name, uint64_t *num);
/* dir/NNNNNN.log etc. into out (PATH_MAX); returns out. */
char *sdb__log_name(char *out, size_t n, const char *dir, uint64_t num);
char *sdb__sst_name(char *out, size_t n, const char *dir, uint64_t num);
char *sdb__manifest_name(char *out, size_t n, const char *dir, uint64_t num);

/* ---- internal iterators (memtable, table, merge) ---------------------------- */
typedef struct sdb_iiter sdb_iiter;
typedef struct sdb_iiter_ops {
  int (*valid)(sdb_iiter *);
  void (*seek_first)(sdb_iiter *);
  void (*seek)(sdb_iiter *, const uint8_t *ikey, size_t n); /* first entry >= ikey */
  void (*next)(sdb_iiter *);
  const uint8_t *(*key)(sdb_iiter *, size_t *n);            /* internal key */
  const uint8_t *(*value)(sdb_iiter *, size_t *n);
  int (*status)(sdb_iiter *);
  const char *(*errmsg)(sdb_iiter *);
  void (*free)(sdb_iiter *);
  /* optional (NULL: none): the first half of seek(ikey): find the block
   * and start its cache misses; the seek that must follow at once, with the
   * same key, completes it. The merge prepares every child before seeking
   * any, so the children's misses overlap. */
  void (*seek_prep)(sdb_iiter *, const uint8_t *ikey, size_t n);
} sdb_iiter_ops;
struct sdb_iiter {
  const sdb_iiter_ops *ops;
};

sdb_iiter *sdb__merge_iter(sdb_iiter **children, size_t n); /* takes ownership */

#endif
