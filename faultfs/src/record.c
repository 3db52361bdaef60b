/* record.c — the record file (docs/format/record.md): its encoder, shared by the shim
 * (which appends one CALL record per tracked call, with the bytes a write wrote) and the
 * driver (which appends the op log's records), and its reader.
 * Invariants:
 *  (1) every record is handed to ONE write/writev on an O_APPEND fd, so records of several
 *      writers (the program's shim, the driver, other processes of the program) never
 *      interleave, and their order in the file is the order in which they were made;
 *  (2) the reader checks the magic and the version before anything else; a short last
 *      record is the end of the file (a killed writer), a bad one before the end is corrupt. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ffs_int.h"

struct ffs_record {
  unsigned char *buf;
  size_t len;
  ffs_rec *v;
  size_t n;
};

size_t ffs__record_head(unsigned char *buf, const ffs_rec *r) {
  ffs_rhead h = {0};
  size_t l1 = r->path ? strlen(r->path) : 0, l2 = r->path2 ? strlen(r->path2) : 0;
  if (l1 >= FFS_PATH_MAX) l1 = FFS_PATH_MAX - 1;
  if (l2 >= FFS_PATH_MAX) l2 = FFS_PATH_MAX - 1;
  h.len = (uint32_t)(sizeof h + l1 + 1 + l2 + 1 + r->datalen);
  h.type = (uint16_t)r->type;
  h.op = (uint16_t)r->op;
  h.flags = r->flags;
  h.fd = r->fd;
  h.mode = r->mode;
  h.dur = r->dur;
  h.index = r->index;
  h.offset = r->offset;
  h.length = r->length;
  h.result = r->result;
  h.pathlen = (uint16_t)l1;
  h.path2len = (uint16_t)l2;
  h.datalen = (uint32_t)r->datalen;
  memcpy(buf, &h, sizeof h);
  if (l1) memcpy(buf + sizeof h, r->path, l1);
  buf[sizeof h + l1] = 0;
  if (l2) memcpy(buf + sizeof h + l1 + 1, r->path2, l2);
  buf[sizeof h + l1 + 1 + l2] = 0;
  return sizeof h + l1 + 1 + l2 + 1;
}

int ffs_record_create(const char *path, char *err, size_t errlen) {
  ffs_rfile_hdr h = {0};
  memcpy(h.magic, FFS_RECORD_MAGIC, 8);
  h.version = FFS_RECORD_VERSION;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, &h, sizeof h) != (ssize_t)sizeof h) {
    snprintf(err, errlen, "record %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return FFS_EIO;
  }
  close(fd);
  return 0;
}

int ffs_record_append_data(int fd, ffs_rec_type type, const void *data, size_t len) {
  unsigned char head[sizeof(ffs_rhead) + 2];
  ffs_rec r = {.type = type, .fd = -1, .offset = -1, .data = data, .datalen = len};
  if (len > UINT32_MAX - sizeof head) return FFS_EINVAL;
  size_t hl = ffs__record_head(head, &r);
  struct iovec iov[2] = {{head, hl}, {(void *)data, len}};
  ssize_t w = writev(fd, iov, len ? 2 : 1);
  return w == (ssize_t)(hl + len) ? 0 : FFS_EIO;
}

/* A path the shim writes: relative, inside the data dir (ffs__safe_relpath); the data dir
 * itself is "." or "" (none). A replay acts only on such paths. */
static int safe_path(const char *p) { return !*p || ffs__safe_relpath(p, 1); }

int ffs_record_load(const char *path, ffs_record **out, char *err, size_t errlen) {
  ffs_record *r = calloc(1, sizeof *r);
  struct stat st;
  int fd = -1, rc = FFS_EIO;
  size_t cap = 0;
  *out = NULL;
  if (!r) return FFS_ENOMEM;
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
    snprintf(err, errlen, "record %s: %s", path, strerror(errno));
    goto fail;
  }
  r->len = (size_t)st.st_size;
  if (!(r->buf = malloc(r->len + 1))) { rc = FFS_ENOMEM; goto fail; }
  for (size_t got = 0; got < r->len;) {
    ssize_t n = read(fd, r->buf + got, r->len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { snprintf(err, errlen, "record %s: short read", path); goto fail; }
    got += (size_t)n;
  }
  ffs_rfile_hdr h;
  if (r->len < sizeof h || memcmp(r->buf, FFS_RECORD_MAGIC, 8) != 0) {
    snprintf(err, errlen, "%s is not a faultfs record (no %s magic)", path, FFS_RECORD_MAGIC);
    rc = FFS_ECORRUPT;
    goto fail;
  }
  memcpy(&h, r->buf, sizeof h);
  if (h.version != FFS_RECORD_VERSION) {
    snprintf(err, errlen, "record %s has version %u; this build reads version %u", path, h.version, FFS_RECORD_VERSION);
    rc = FFS_ECORRUPT;
    goto fail;
  }
  for (size_t off = sizeof h; off < r->len;) {
    ffs_rhead rh;
    if (r->len - off < sizeof rh) break; /* torn tail */
    memcpy(&rh, r->buf + off, sizeof rh);
    size_t want = sizeof rh + (size_t)rh.pathlen + 1 + rh.path2len + 1 + rh.datalen;
    if (rh.len != want || rh.pathlen >= FFS_PATH_MAX || rh.path2len >= FFS_PATH_MAX ||
        (rh.type < FFS_REC_CALL || rh.type > FFS_REC_OPLOG_HEAD) || rh.op >= FFS_OP_COUNT) {
      snprintf(err, errlen, "record %s: bad record at byte %zu", path, off);
      rc = FFS_ECORRUPT;
      goto fail;
    }
    if (r->len - off < want) break; /* torn tail */
    const unsigned char *p = r->buf + off + sizeof rh;
    if (p[rh.pathlen] != 0 || p[rh.pathlen + 1 + rh.path2len] != 0 || memchr(p, 0, rh.pathlen) ||
        memchr(p + rh.pathlen + 1, 0, rh.path2len) || !safe_path((const char *)p) ||
        !safe_path((const char *)p + rh.pathlen + 1)) {
      snprintf(err, errlen, "record %s: bad path at byte %zu (not a path inside the data dir)", path, off);
      rc = FFS_ECORRUPT;
      goto fail;
    }
    if (r->n == cap) {
      cap = cap ? cap * 2 : 256;
      ffs_rec *nv = realloc(r->v, cap * sizeof *nv);
      if (!nv) { rc = FFS_ENOMEM; goto fail; }
      r->v = nv;
    }
    ffs_rec *e = &r->v[r->n++];
    e->type = (ffs_rec_type)rh.type;
    e->op = (ffs_op)rh.op;
    e->flags = rh.flags;
    e->fd = rh.fd;
    e->mode = rh.mode;
    e->dur = rh.dur;
    e->index = rh.index;
    e->offset = rh.offset;
    e->length = rh.length;
    e->result = rh.result;
    e->path = (const char *)p;
    e->path2 = (const char *)p + rh.pathlen + 1;
    e->data = p + rh.pathlen + 1 + rh.path2len + 1;
    e->datalen = rh.datalen;
    off += want;
  }
  close(fd);
  *out = r;
  return 0;
fail:
  if (fd >= 0) close(fd);
  ffs_record_free(r);
  return rc;
}

size_t ffs_record_count(const ffs_record *r) { return r ? r->n : 0; }
const ffs_rec *ffs_record_at(const ffs_record *r, size_t i) { return r && i < r->n ? &r->v[i] : NULL; }

uint64_t ffs_record_digest(const ffs_record *r) {
  uint64_t h = 0x6a09e667f3bcc908ull;
  size_t i = 0;
  if (!r) return 0;
  for (; i + 8 <= r->len; i += 8) {
    uint64_t w;
    memcpy(&w, r->buf + i, 8);
    h = ffs_mix(h ^ w);
  }
  for (; i < r->len; i++) h = ffs_mix(h ^ r->buf[i]);
  return ffs_mix(h ^ r->len);
}

void ffs_record_free(ffs_record *r) {
  if (!r) return;
  free(r->buf);
  free(r->v);
  free(r);
}

int ffs_call_mutates(ffs_op op, int64_t result, int open_changes) {
  if (result < 0) return 0;
  switch (op) {
    case FFS_OP_WRITE: case FFS_OP_PWRITE: case FFS_OP_WRITEV: return result > 0;
    case FFS_OP_OPEN: return open_changes;
    case FFS_OP_CREAT: case FFS_OP_FSYNC: case FFS_OP_FDATASYNC: case FFS_OP_FTRUNCATE: case FFS_OP_FALLOCATE:
    case FFS_OP_RENAME: case FFS_OP_UNLINK: case FFS_OP_LINK: case FFS_OP_MKDIR: case FFS_OP_RMDIR:
      return 1;
    default: return 0;
  }
}

int ffs_rec_mutates(const ffs_rec *r) {
  return r->type == FFS_REC_CALL && ffs_call_mutates(r->op, r->result, (r->flags & (O_CREAT | O_TRUNC)) != 0);
}

int ffs_rec_format(const ffs_rec *r, char *buf, size_t len) {
  int n;
  if (r->type == FFS_REC_CALL)
    n = snprintf(buf, len, "%llu %s %s%s%s fd=%d off=%lld len=%llu res=%lld flags=0x%x data=%zu",
                 (unsigned long long)r->index, ffs_op_name(r->op), r->path, r->path2[0] ? " -> " : "", r->path2,
                 (int)r->fd, (long long)r->offset, (unsigned long long)r->length, (long long)r->result,
                 (unsigned)r->flags, r->datalen);
  else
    n = snprintf(buf, len, "%s %zu bytes", r->type == FFS_REC_OPLOG ? "oplog" : "oplog-head", r->datalen);
  return n < 0 || (size_t)n >= len ? FFS_ETOOBIG : n;
}
