/*
 * log.c - writer and reader of the record framing used by the WAL and the
 * MANIFEST (docs/format/wal.md).
 *
 * Invariants kept here:
 *  (L1) A logical record is handed to the kernel by a single write() (plus
 *       continuations of a short write): no user-space buffering survives the
 *       call, so an acknowledged record survives a process crash.
 *  (L2) A damaged record (bad header, bad checksum, truncated, broken fragment
 *       chain) at offset x ends the log cleanly ("torn tail") unless an intact
 *       record later in the file proves that x had been synced; then it is
 *       corruption, reported with file and offset, never skipped silently.
 *  (L3) A checksum mismatch is confirmed by reading the bytes a second time,
 *       so a transient read error is not mistaken for damage.
 *  (L4) A log may end in zeros up to the end of the file: space a writer
 *       preallocated (sdb__logw_prealloc). The log ends where they begin; the
 *       reader's size becomes that offset, so a zeroed tail is neither a torn
 *       tail nor damage. A record a device zeroed after it was synced cannot
 *       be told from such space when nothing follows it.
 * The reader streams the file (a window of SDB_LOGR_WINDOW bytes): its memory
 * never follows the file's size, which a sparse file makes anything.
 */
#include "log_format.h"

#include "env.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

/* ---- writer ---------------------------------------------------------------- */

int sdb__logw_create(sdb_logw *w, const char *path, const char *magic, uint64_t num, sdb_eb *eb) {
  uint8_t h[SDB_LOG_HEADER_LEN];
  int rc;
  memset(w, 0, sizeof *w);
  snprintf(w->path, sizeof w->path, "%s", path);
  if ((w->fd = sdb__create_new(path, O_APPEND)) < 0) { /* never over an existing name (a symlink) */
    rc = sdb__ioerr(eb, "create", path, w->fd);
    w->fd = -1;
    return rc;
  }
  memcpy(h, magic, 8);
  sdb__enc32(h + 8, SDB_LOG_VERSION);
  sdb__enc64(h + 12, num);
  if ((rc = sdb__logw_add(w, h, sizeof h, NULL, 0, eb))) {
    sdb__logw_close(w);
    return rc;
  }
  return 0;
}

int sdb__logw_prealloc(sdb_logw *w, uint64_t step, sdb_eb *eb) {
  if (!step) return 0;
  int fl = fcntl(w->fd, F_GETFL);
  /* records go in at w->off: an O_APPEND descriptor would put them after the zeros */
  if (fl < 0 || fcntl(w->fd, F_SETFL, fl & ~O_APPEND) < 0) return sdb__ioerr(eb, "fcntl", w->path, -errno);
  w->step = step;
  w->alloc_end = w->fpos = w->off;
  return 0;
}

/* Hands the framed record in w->out to the kernel at w->off. With a step,
 * zeros up to the next step boundary follow a record that ends past the
 * file's end, in the same write (L1 holds: one call per record); the next
 * record seeks back over them, once per step. Records stay write() calls
 * (not pwrite), so a fault plan names them as it always has. */
static int logw_put(sdb_logw *w) {
  size_t len = w->out.len;
  if (!w->step) return sdb__write_all(w->fd, w->out.p, len);
  uint64_t end = w->off + len;
  if (end > w->alloc_end) {
    uint64_t to = (end + w->step - 1) / w->step * w->step;
    if (sdb__buf_reserve(&w->out, (size_t)(to - end))) return -ENOMEM;
    memset(w->out.p + len, 0, (size_t)(to - end));
    w->out.len = (size_t)(to - w->off);
  }
  if (w->fpos != w->off && lseek(w->fd, (off_t)w->off, SEEK_SET) < 0) return -errno;
  int rc = sdb__write_all(w->fd, w->out.p, w->out.len);
  w->fpos = rc ? UINT64_MAX : w->off + w->out.len; /* after a failed write: unknown, seek again */
  if (!rc && w->fpos > w->alloc_end) w->alloc_end = w->fpos;
  w->out.len = len;
  return rc;
}

int sdb__logw_add(sdb_logw *w, const void *a, size_t alen, const void *b, size_t blen, sdb_eb *eb) {
  size_t left = alen + blen, done = 0;
  size_t blk = (size_t)(w->off % SDB_LOG_BLOCK);
  int first = 1, rc;
  w->out.len = 0;
  if (sdb__buf_reserve(&w->out, left + (left / (SDB_LOG_BLOCK - SDB_LOG_HDR) + 2) * SDB_LOG_HDR + SDB_LOG_HDR))
    return sdb__err(eb, SDB_ENOMEM, "log append %s: out of memory", w->path);
  do {
    size_t rem = SDB_LOG_BLOCK - blk;
    if (rem < SDB_LOG_HDR) { /* zero-pad the block trailer */
      memset(w->out.p + w->out.len, 0, rem);
      w->out.len += rem;
      blk = 0;
      rem = SDB_LOG_BLOCK;
    }
    size_t frag = left < rem - SDB_LOG_HDR ? left : rem - SDB_LOG_HDR;
    int end = frag == left;
    uint8_t type = first && end ? SDB_LOG_FULL : first ? SDB_LOG_FIRST : end ? SDB_LOG_LAST : SDB_LOG_MIDDLE;
    uint8_t *h = w->out.p + w->out.len;
    sdb__enc16(h + 4, (uint16_t)frag);
    h[6] = type;
    /* copy frag bytes of the concatenation a||b starting at done */
    size_t c = 0;
    while (c < frag) {
      size_t at = done + c, n;
      if (at < alen) {
        n = alen - at < frag - c ? alen - at : frag - c;
        memcpy(h + SDB_LOG_HDR + c, (const uint8_t *)a + at, n);
      } else {
        n = frag - c;
        memcpy(h + SDB_LOG_HDR + c, (const uint8_t *)b + (at - alen), n);
      }
      c += n;
    }
    sdb__enc32(h, sdb__cksum(h + 4, 3 + frag));
    w->out.len += SDB_LOG_HDR + frag;
    blk += SDB_LOG_HDR + frag;
    done += frag;
    left -= frag;
    first = 0;
  } while (left > 0);
  if ((rc = logw_put(w))) return sdb__ioerr(eb, "write", w->path, rc);
  w->off += w->out.len;
  if (w->out.cap > (1u << 20)) sdb__buf_free(&w->out); /* don't pin a 16 MiB scratch */
  return 0;
}

int sdb__logw_sync(sdb_logw *w, sdb_eb *eb) {
  if (sdb__env->fdatasync(w->fd) < 0) return sdb__ioerr(eb, "fdatasync", w->path, -errno);
  return 0;
}

void sdb__logw_close(sdb_logw *w) {
  if (w->fd >= 0) sdb__env->close(w->fd);
  w->fd = -1;
  sdb__buf_free(&w->out);
}

/* ---- reader ---------------------------------------------------------------- */

/* The reader streams the file through a window of SDB_LOGR_WINDOW bytes
 * (whole blocks, read with one pread): its memory is the window plus one
 * assembled record, whatever the file's size (a sparse file of a few GiB
 * costs reading it, never holding it). */
enum { FR_OK, FR_BAD, FR_EOF, FR_ERR };

/* The bytes of the block holding offset p, from p on (NULL: a read failed,
 * r->io_rc says how). Reads the window that starts at p's block unless it is
 * already there. A short read means the file shrank under us: the rest is a
 * tail, and r->size is cut to what could be read. */
static uint8_t *window_at(sdb_logr *r, uint64_t p) {
  if (p >= r->win_off && p - r->win_off < r->win_len) return r->win + (p - r->win_off);
  uint64_t off = p - p % SDB_LOG_BLOCK;
  size_t want = r->size - off < SDB_LOGR_WINDOW ? (size_t)(r->size - off) : SDB_LOGR_WINDOW;
  ssize_t got = sdb__pread_all(r->fd, r->win, want, (off_t)off);
  r->win_len = 0;
  if (got < 0) {
    r->io_rc = (int)got;
    return NULL;
  }
  r->win_off = off;
  r->win_len = (size_t)got;
  if ((size_t)got < want) {
    r->size = off + (uint64_t)got;
    if (r->tail_off > r->size) r->tail_off = r->size;
  }
  return r->win + (p - off); /* p - off < one block; past win_len only if p >= the new size */
}

/* Parses the fragment at *pp (skipping a block trailer first). The fragment
 * lies in one block, so in the window after this call. */
static int frag_at(sdb_logr *r, uint64_t *pp, int *type, uint16_t *len, const uint8_t **hp, int reread,
                   const char **why) {
  uint64_t p = *pp;
  uint64_t rem = SDB_LOG_BLOCK - p % SDB_LOG_BLOCK;
  if (rem < SDB_LOG_HDR) {
    p += rem;
    rem = SDB_LOG_BLOCK;
  }
  *pp = p;
  if (p >= r->size) return FR_EOF;
  uint8_t *h = window_at(r, p);
  if (!h) return FR_ERR;
  if (p >= r->size) return FR_EOF; /* the file shrank */
  if (r->size - p < SDB_LOG_HDR) return *why = "truncated fragment header", FR_BAD;
  *len = sdb__dec16(h + 4);
  *type = h[6];
  if (*type < SDB_LOG_FULL || *type > SDB_LOG_LAST) {
    static const uint8_t z[SDB_LOG_HDR];
    return *why = memcmp(h, z, SDB_LOG_HDR) ? "bad fragment type" : "zeroed bytes", FR_BAD;
  }
  if (SDB_LOG_HDR + (uint64_t)*len > rem) return *why = "fragment length crosses a block boundary", FR_BAD;
  if (p + SDB_LOG_HDR + *len > r->size) return *why = "truncated fragment", FR_BAD;
  if (sdb__cksum(h + 4, 3 + (size_t)*len) != sdb__dec32(h)) {
    /* (L3) confirm with a second read before calling it damage */
    if (!reread || sdb__pread_all(r->fd, h, SDB_LOG_HDR + *len, (off_t)p) != SDB_LOG_HDR + *len ||
        sdb__cksum(h + 4, 3 + (size_t)*len) != sdb__dec32(h) || sdb__dec16(h + 4) != *len || h[6] != *type)
      return *why = "checksum mismatch", FR_BAD;
  }
  *hp = h;
  return FR_OK;
}

/* One logical record from *pp into (r->recp, r->recn): in place in the
 * window when it is one FULL fragment, else assembled in r->rec. FR_OK:
 * *start = its offset, *pp = its end. FR_BAD: *bad = offset of the damaged
 * logical record. FR_ERR: a read failed (r->io_rc). */
static int record_at(sdb_logr *r, uint64_t *pp, uint64_t *start, uint64_t *bad, int reread, const char **why) {
  uint64_t p = *pp;
  int in = 0;
  r->rec.len = 0;
  for (;;) {
    int type = 0;
    uint16_t len = 0;
    const uint8_t *h = NULL;
    int st = frag_at(r, &p, &type, &len, &h, reread, why);
    if (st == FR_ERR) return FR_ERR;
    if (st == FR_EOF) {
      if (!in) return FR_EOF;
      *bad = *start;
      *why = "record truncated after its FIRST fragment";
      return FR_BAD;
    }
    if (st == FR_BAD) {
      *bad = in ? *start : p;
      return FR_BAD;
    }
    if ((type == SDB_LOG_FULL || type == SDB_LOG_FIRST) && in) {
      *bad = *start;
      *why = "record not finished by a LAST fragment";
      return FR_BAD;
    }
    if ((type == SDB_LOG_MIDDLE || type == SDB_LOG_LAST) && !in) {
      *bad = p;
      *why = "fragment continues no record";
      return FR_BAD;
    }
    if (!in) *start = p;
    if (type == SDB_LOG_FULL) { /* one fragment: the record is read in place, no copy */
      r->recp = h + SDB_LOG_HDR;
      r->recn = len;
      *pp = p + SDB_LOG_HDR + len;
      return FR_OK;
    }
    if (sdb__buf_add(&r->rec, h + SDB_LOG_HDR, len)) return *why = "out of memory", FR_BAD;
    p += SDB_LOG_HDR + len;
    if (type == SDB_LOG_LAST) {
      static const uint8_t empty[1];
      /* never NULL, also for a record whose fragments are all empty: callers
       * compute rec + n (found by fuzz_manifest, docs/fuzzing.md F5) */
      r->recp = r->rec.p ? r->rec.p : empty;
      r->recn = r->rec.len;
      *pp = p;
      return FR_OK;
    }
    in = 1;
  }
}

/* First intact logical record starting at or after `from`: 1 (*start, *end
 * set; the record in r->recp), 0 none, -1 a read failed (r->io_rc). */
static int find_intact(sdb_logr *r, uint64_t from, uint64_t *start, uint64_t *end) {
  uint64_t c = from;
  while (c + SDB_LOG_HDR <= r->size) {
    uint64_t rem = SDB_LOG_BLOCK - c % SDB_LOG_BLOCK;
    if (rem < SDB_LOG_HDR) {
      c += rem;
      continue;
    }
    const uint8_t *h = window_at(r, c);
    if (!h) return -1;
    if (c + SDB_LOG_HDR > r->size) break; /* the file shrank */
    /* candidates in this block: a header fits and its type is FULL or FIRST.
     * Zeroed space (a sparse or preallocated file) is passed 1 KiB, then 8
     * bytes, at a time. */
    static const uint8_t zeros[1024];
    uint64_t lim = rem - SDB_LOG_HDR; /* last candidate, relative to c */
    if (lim > r->size - SDB_LOG_HDR - c) lim = r->size - SDB_LOG_HDR - c;
    uint64_t i = 0;
    for (;;) {
      while (i + sizeof zeros <= lim && !memcmp(h + i + 6, zeros, sizeof zeros)) i += sizeof zeros;
      while (i + 8 <= lim) {
        uint64_t w;
        memcpy(&w, h + i + 6, 8);
        if (w) break;
        i += 8;
      }
      if (h[i + 6] == SDB_LOG_FULL || h[i + 6] == SDB_LOG_FIRST || i == lim) break;
      i++;
    }
    c += i;
    if ((h[i + 6] == SDB_LOG_FULL || h[i + 6] == SDB_LOG_FIRST) && SDB_LOG_HDR + (uint64_t)sdb__dec16(h + i + 4) <= rem - i) {
      uint64_t p = c, s = 0, bad;
      const char *why;
      int st = record_at(r, &p, &s, &bad, 0, &why);
      if (st == FR_ERR) return -1;
      if (st == FR_OK && s == c) {
        *start = s;
        *end = p;
        return 1;
      }
    }
    c++;
  }
  return 0;
}

int sdb__logr_open(sdb_logr *r, const char *path, sdb_log_proves proves, void *arg, int paranoid,
                   sdb_eb *eb) {
  struct stat st;
  memset(r, 0, sizeof *r);
  r->path = path;
  r->proves = proves;
  r->arg = arg;
  r->paranoid = paranoid;
  const char *kind = NULL;
  r->fd = sdb__open_regular(path, O_RDONLY, &kind); /* a FIFO in its place must not hang us */
  if (r->fd < 0) {
    int rc = sdb__open_error(eb, path, r->fd, kind);
    r->open_errno = r->fd == SDB__ENOTREG ? 0 : -r->fd;
    r->fd = -1;
    return rc;
  }
  if (sdb__env->fstat(r->fd, &st) < 0) {
    int rc = sdb__ioerr(eb, "fstat", path, -errno);
    sdb__logr_close(r);
    return rc;
  }
  r->size = (uint64_t)st.st_size;
  r->tail_off = r->size;
  if (!(r->win = malloc(SDB_LOGR_WINDOW))) {
    sdb__logr_close(r);
    return sdb__err(eb, SDB_ENOMEM, "read %s: out of memory", path);
  }
  return 0;
}

/* 1 when every byte from x to the end of the file is zero, 0 when one is
 * not, -1 when a read failed (r->io_rc). */
static int zero_from(sdb_logr *r, uint64_t x) {
  static const uint8_t zeros[1024];
  while (x < r->size) {
    const uint8_t *h = window_at(r, x);
    if (!h) return -1;
    uint64_t n = r->win_off + r->win_len - x; /* bytes of the window from x */
    if (x >= r->size || !n) break;            /* the file shrank */
    for (uint64_t i = 0; i < n; i += sizeof zeros) {
      size_t k = n - i < sizeof zeros ? (size_t)(n - i) : sizeof zeros;
      if (memcmp(h + i, zeros, k)) return 0;
    }
    x += n;
  }
  return 1;
}

int sdb__logr_next(sdb_logr *r, const uint8_t **rec, size_t *n, sdb_eb *eb) {
  for (;;) {
    uint64_t p = r->pos, start = 0, x = 0;
    const char *why = "";
    if (r->done) return 0;
    int st = record_at(r, &p, &start, &x, 1, &why);
    if (st == FR_ERR) return sdb__ioerr(eb, "read", r->path, r->io_rc);
    if (st == FR_OK) {
      r->pos = r->valid_end = p;
      r->rec_off = start;
      *rec = r->recp;
      *n = r->recn;
      return 1;
    }
    if (st == FR_EOF) {
      r->done = 1;
      return 0;
    }
    /* (L4) zeros from x to the end of the file are space a writer preallocated
     * (sdb__logw_prealloc), not damage: the log ends at x */
    if (!strcmp(why, "zeroed bytes")) {
      int z = zero_from(r, x);
      if (z < 0) return sdb__ioerr(eb, "read", r->path, r->io_rc);
      if (z) {
        r->zeroed = r->size - x;
        r->size = r->tail_off = x;
        r->done = 1;
        return 0;
      }
    }
    /* (L2) damaged record at x: torn tail unless a later record proves x was synced */
    char whybuf[96];
    snprintf(whybuf, sizeof whybuf, "%s", why);
    uint64_t c = x + 1, s = 0, e, first = 0;
    int found = 0, proven = 0, f;
    while ((f = find_intact(r, c, &s, &e)) == 1) {
      if (!found) first = s;
      found = 1;
      if (r->proves && r->proves(r->arg, r->recp, r->recn, x)) {
        proven = 1;
        break;
      }
      c = e;
    }
    if (f < 0) return sdb__ioerr(eb, "read", r->path, r->io_rc);
    if (!proven) {
      r->done = 1;
      r->tail_off = x;
      snprintf(r->tail_why, sizeof r->tail_why, "%s", whybuf);
      return 0;
    }
    if (r->paranoid)
      return sdb__err(eb, SDB_ECORRUPT,
                      "%s: corrupt record at offset %" PRIu64 " (%s); the intact record at offset %" PRIu64
                      " shows it had been synced",
                      r->path, x, whybuf, s);
    r->skipped += first - x;
    r->pos = first;
  }
}

void sdb__logr_close(sdb_logr *r) {
  if (r->fd >= 0) sdb__env->close(r->fd);
  r->fd = -1;
  free(r->win);
  r->win = NULL;
  sdb__buf_free(&r->rec);
}

int sdb__log_check_header(const char *path, const uint8_t *rec, size_t n, const char *magic,
                          uint64_t *num, sdb_eb *eb) {
  if (n != SDB_LOG_HEADER_LEN || memcmp(rec, magic, 8))
    return sdb__err(eb, SDB_ECORRUPT, "%s: offset 0: missing %.8s header record", path, magic);
  if (sdb__dec32(rec + 8) != SDB_LOG_VERSION)
    return sdb__err(eb, SDB_ECORRUPT, "%s: offset 0: unsupported format version %u", path, sdb__dec32(rec + 8));
  *num = sdb__dec64(rec + 12);
  return 0;
}
