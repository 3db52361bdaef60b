/* ffs_int.h — internals shared by the shim (libfaultfs.so) and the control library
 * (libffs_ctl.a): on-disk layout of the undo side-log (docs/format/undo.md) and of the
 * trace (docs/format/trace.md), the seeded hash every random choice comes from.
 * Invariant: both sides include this one definition, so writer and reader cannot drift. */
#ifndef FFS_INT_H
#define FFS_INT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "faultfs.h"

#define FFS_HIDDEN __attribute__((visibility("hidden")))

/* ---- undo log ------------------------------------------------------------------- */
#define FFS_UNDO_MAGIC "FFSUNDO1"
#define FFS_UNDO_VERSION 1u

typedef struct ffs_undo_hdr {
  char magic[8];
  uint32_t version;
  uint32_t model;        /* ffs_model */
  uint64_t seed;
  uint64_t used;         /* bytes of complete records after the header */
  uint32_t rolled_back;  /* 1 once a rollback completed */
  uint32_t pad;
  uint64_t subset;       /* reorder: ffs_subset (0 = seeded, the live cases' only value) */
  uint64_t reserved[2];
} ffs_undo_hdr;           /* 64 bytes */

enum {
  FFS_U_DIRTY = 1,  /* fid: data epoch begins; a = durable size, b = protected size; path */
  FFS_U_OLD,        /* fid: a = off, b = len; payload = the bytes before the change, or
                       c = FFS_OLD_HOLE and no payload: the range was a hole (zeros) */
  FFS_U_W,          /* fid: a = off, b = len written (non-durable) */
  FFS_U_KEEP,       /* fid: a = off, b = len made durable (O_SYNC write, torn part) */
  FFS_U_SYNC,       /* fid: fsync ok, a = size now durable */
  FFS_U_LOST,       /* fid: fsync failed, data written since the last SYNC is lost */
  FFS_U_CREATE,     /* path created (file) */
  FFS_U_MKDIR,      /* path */
  FFS_U_RMDIR,      /* path */
  FFS_U_UNLINK,     /* fid (or -1), a = ino, b = victim number; path */
  FFS_U_RENAME,     /* fid (or -1), a = ino, b = victim number or UINT64_MAX, c = victim fid; old\0new */
  FFS_U_LINK,       /* a = ino; old\0new */
  FFS_U_DSYNC,      /* path of a directory made durable ("." = data dir) */
  FFS_U_DENTRY,     /* ext4: path's own creation made durable by fsync of the file */
  FFS_U_SYNCALL,    /* sync()/syncfs(): every directory entry before it is durable */
};

#define FFS_OLD_HOLE 1u

typedef struct ffs_urec {
  uint32_t type;
  uint32_t len;     /* whole record incl. this header and payload, multiple of 8 */
  int32_t fid;
  uint32_t plen;    /* payload bytes */
  uint64_t a, b, c;
} ffs_urec;         /* 40 bytes, payload follows */

/* ---- trace ------------------------------------------------------------------------- */
#define FFS_TRACE_MAGIC "FFSTRC02"
#define FFS_TRACE_MAGIC_V1 "FFSTRC01" /* read only: no site (48-byte head, sitelen 0) */
/* record: u32 len (whole record), u16 op, u16 pathlen, u32 dur, u16 path2len, u16 sitelen,
 *         u64 index, i64 offset, u64 length, i64 result, u64 site, path bytes, path2 bytes,
 *         site name bytes (the first record of a site in its process only) */
typedef struct ffs_trec {
  uint32_t len;
  uint16_t op;
  uint16_t pathlen;
  uint32_t dur;
  uint16_t path2len;
  uint16_t sitelen;
  uint64_t index;
  int64_t offset;
  uint64_t length;
  int64_t result;
  uint64_t site;
} ffs_trec;         /* 56 bytes (version 1: the first 48, sitelen 0) */
#define FFS_TREC_V1_SIZE 48

/* ---- record (docs/format/record.md) ------------------------------------------------------ */
#define FFS_RECORD_MAGIC "FFSRECRD"
typedef struct ffs_rfile_hdr {
  char magic[8];
  uint32_t version;   /* FFS_RECORD_VERSION */
  uint32_t reserved;  /* 0 */
} ffs_rfile_hdr;      /* 16 bytes */
/* record: head, path NUL, path2 NUL, data */
typedef struct ffs_rhead {
  uint32_t len;       /* whole record */
  uint16_t type;      /* ffs_rec_type */
  uint16_t op;        /* ffs_op (CALL) */
  uint32_t flags;
  int32_t fd;
  uint32_t mode;
  uint32_t dur;
  uint64_t index;
  int64_t offset;
  uint64_t length;
  int64_t result;
  uint16_t pathlen;   /* without the NUL */
  uint16_t path2len;
  uint32_t datalen;
} ffs_rhead;          /* 64 bytes */
/* Encodes r's head and paths into buf (sizeof(ffs_rhead) + 2 * FFS_PATH_MAX bytes); the
 * caller writes r->datalen data bytes right after it, in the same write. Returns the bytes. */
FFS_HIDDEN size_t ffs__record_head(unsigned char *buf, const ffs_rec *r);
/* 1 if p is relative and stays inside the data dir: no empty, "." or ".." component; the
 * data dir itself is exactly "." (allowed with allow_dot). */
FFS_HIDDEN int ffs__safe_relpath(const char *p, int allow_dot);

/* ---- handshake file (FAULTFS_HANDSHAKE): one line per event, "WORD PID EXE\n", each
 * appended with one write(2) by the shim and read by handshake.c ------------------------ */
#define FFS_HS_LOADED "loaded"                  /* the shim starts active in this image */
#define FFS_HS_REFUSED "refused-io_uring_setup" /* io_uring_setup failed with ENOSYS */
#define FFS_HS_MSYNC "msync-unmodelled"         /* msync(MS_SYNC) of a tracked shared mapping */

/* ---- seeded choices --------------------------------------------------------------- */
static inline uint64_t ffs_mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
static inline uint64_t ffs_hash_str(uint64_t h, const char *s) {
  h ^= 0xcbf29ce484222325ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return ffs_mix(h);
}

/* ---- interval sets (sorted, disjoint [a,b) ranges) --------------------------------------- */
typedef struct { uint64_t a, b; } iv_t;
typedef struct { iv_t *v; size_t n, cap; } ivset;

static inline int iv_add(ivset *s, uint64_t a, uint64_t b) {
  if (a >= b) return 0;
  size_t i = 0;
  while (i < s->n && s->v[i].b < a) i++;
  size_t j = i;
  while (j < s->n && s->v[j].a <= b) {
    if (s->v[j].a < a) a = s->v[j].a;
    if (s->v[j].b > b) b = s->v[j].b;
    j++;
  }
  if (i == j) { /* insert */
    if (s->n == s->cap) {
      size_t nc = s->cap ? s->cap * 2 : 8;
      iv_t *nv = realloc(s->v, nc * sizeof *nv);
      if (!nv) return FFS_ENOMEM;
      s->v = nv;
      s->cap = nc;
    }
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof *s->v);
    s->n++;
  } else if (j - i > 1) {
    memmove(s->v + i + 1, s->v + j, (s->n - j) * sizeof *s->v);
    s->n -= j - i - 1;
  }
  s->v[i].a = a;
  s->v[i].b = b;
  return 0;
}

/* Calls fn on each sub-range of [a,b) not covered by s. */
typedef int (*gap_fn)(void *ctx, uint64_t a, uint64_t b);
static inline int iv_gaps(const ivset *s, uint64_t a, uint64_t b, gap_fn fn, void *ctx) {
  uint64_t p = a;
  for (size_t i = 0; i < s->n && p < b; i++) {
    if (s->v[i].b <= p) continue;
    if (s->v[i].a >= b) break;
    if (s->v[i].a > p) {
      int rc = fn(ctx, p, s->v[i].a);
      if (rc < 0) return rc;
    }
    p = s->v[i].b;
  }
  if (p < b) return fn(ctx, p, b);
  return 0;
}


/* 1 if [a,b) lies inside one range of s. */
static inline int iv_covers(const ivset *s, uint64_t a, uint64_t b) {
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].a <= a && b <= s->v[i].b) return 1;
  return a >= b;
}

/* Rule matching shared by shim and tests. */
FFS_HIDDEN int ffs__op_matches(ffs_op rule_op, ffs_op call_op);
/* Rollback engine (used by ffs_rollback and by the shim on crash). */
FFS_HIDDEN int ffs__rollback_buf(const unsigned char *log, size_t loglen, const char *state_dir,
                                 const char *data_dir, char *err, size_t errlen);

#endif
