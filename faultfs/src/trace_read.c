/* trace_read.c — reader and printer of the binary trace (docs/format/trace.md).
 * Invariant: a truncated last record (process killed mid-write) is reported as
 * FFS_ECORRUPT only if it is not at the tail; a short tail is a clean end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffs_int.h"

struct ffs_trace {
  FILE *f;
  size_t head;  /* record head bytes: 56, or 48 in a version 1 trace (no site) */
};

int ffs_trace_open(const char *path, ffs_trace **out) {
  ffs_trace *t = NULL;
  char magic[8];
  int rc = FFS_EINVAL;
  if (!path || !out) goto fail;
  t = calloc(1, sizeof *t);
  if (!t) { rc = FFS_ENOMEM; goto fail; }
  t->f = fopen(path, "rb");
  if (!t->f) { rc = errno == ENOENT ? FFS_ENODIR : FFS_EIO; goto fail; }
  if (fread(magic, 1, 8, t->f) != 8) { rc = FFS_ECORRUPT; goto fail; }
  if (memcmp(magic, FFS_TRACE_MAGIC, 8) == 0) t->head = sizeof(ffs_trec);
  else if (memcmp(magic, FFS_TRACE_MAGIC_V1, 8) == 0) t->head = FFS_TREC_V1_SIZE;
  else { rc = FFS_ECORRUPT; goto fail; }
  *out = t;
  return 0;
fail:
  ffs_trace_close(t);
  return rc;
}

int ffs_trace_next(ffs_trace *t, ffs_trace_rec *rec) {
  ffs_trec h = {0};
  if (!t || !rec) return FFS_EINVAL;
  size_t n = fread(&h, 1, t->head, t->f);
  if (n == 0) return 0;
  if (n != t->head) return 0; /* torn tail: clean end */
  if (t->head == FFS_TREC_V1_SIZE) h.sitelen = 0, h.site = 0; /* version 1: a pad, no site */
  if (h.len != t->head + h.pathlen + h.path2len + h.sitelen || h.pathlen >= FFS_PATH_MAX ||
      h.path2len >= FFS_PATH_MAX || h.sitelen >= FFS_SITE_NAME_MAX || h.op >= FFS_OP_COUNT)
    return FFS_ECORRUPT;
  memset(rec, 0, sizeof *rec);
  if (fread(rec->path, 1, h.pathlen, t->f) != h.pathlen) return 0;
  if (fread(rec->path2, 1, h.path2len, t->f) != h.path2len) return 0;
  if (fread(rec->site_name, 1, h.sitelen, t->f) != h.sitelen) return 0;
  rec->path[h.pathlen] = 0;
  rec->path2[h.path2len] = 0;
  rec->site_name[h.sitelen] = 0;
  rec->site = h.site;
  rec->index = h.index;
  rec->op = (ffs_op)h.op;
  rec->dur = h.dur;
  rec->offset = h.offset;
  rec->length = h.length;
  rec->result = h.result;
  return 1;
}

void ffs_trace_close(ffs_trace *t) {
  if (!t) return;
  if (t->f) fclose(t->f);
  free(t);
}

int ffs_trace_format(const ffs_trace_rec *r, char *buf, size_t len) {
  static const struct { uint32_t bit; const char *name; } flags[] = {
      {FFS_DUR_DIRTY, "dirty"}, {FFS_DUR_SYNC, "sync"},   {FFS_DUR_DIRSYNC, "dirsync"},
      {FFS_DUR_NSCHANGE, "ns"}, {FFS_DUR_LOST, "lost"},   {FFS_DUR_KEEP, "keep"},
      {FFS_DUR_FIRED, "FIRED"}, {FFS_DUR_WARN, "WARNING"}};
  if (!r || !buf || !len) return FFS_EINVAL;
  int n = snprintf(buf, len, "%llu %s %s%s%s off=%lld len=%llu res=%lld", (unsigned long long)r->index,
                   ffs_op_name(r->op), r->path, r->path2[0] ? " -> " : "", r->path2,
                   (long long)r->offset, (unsigned long long)r->length, (long long)r->result);
  if (n < 0 || (size_t)n >= len) return FFS_ETOOBIG;
  if (r->site) {
    int m = snprintf(buf + n, len - (size_t)n, " site=%016llx", (unsigned long long)r->site);
    if (m < 0 || (size_t)(n + m) >= len) return FFS_ETOOBIG;
    n += m;
  }
  int first = 1;
  for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) {
    if (!(r->dur & flags[k].bit)) continue;
    int m = snprintf(buf + n, len - (size_t)n, "%s%s", first ? " [" : ",", flags[k].name);
    if (m < 0 || (size_t)(n + m) >= len) return FFS_ETOOBIG;
    n += m;
    first = 0;
  }
  if (!first) {
    if ((size_t)n + 2 > len) return FFS_ETOOBIG;
    buf[n++] = ']';
    buf[n] = 0;
  }
  if (r->site_name[0]) {
    int m = snprintf(buf + n, len - (size_t)n, " @ %s", r->site_name);
    if (m < 0 || (size_t)(n + m) >= len) return FFS_ETOOBIG;
    n += m;
  }
  return n;
}
