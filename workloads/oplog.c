/*
 * oplog.c — the op log (format: docs/format/oplog.md): writer, reader, in-memory builder, printer.
 *
 * Invariants:
 *   (1) Every record is built in memory and handed to ONE write() on an O_APPEND fd (a short
 *       write is continued, which only happens on a signal or a full disk); no user-space
 *       buffering, so a killed writer leaves complete records followed by at most one torn one.
 *   (2) A record's checksum covers its 8-byte header (length, type) and its payload.
 *   (3) Reader: a record that extends past EOF, or a bad checksum on the last record, is a torn
 *       tail and ends the log cleanly; a bad record followed by more data is corruption.
 *   (4) ISSUED records carry dense indices 0,1,2,...; at most one OUTCOME per issued op.
 *   (5) Ops of a wl_log point into storage owned by the wl_log (file image or builder blobs).
 *   (6) Version 3: every ISSUED and OUTCOME record carries the next number of one global
 *       sequence, strictly increasing in file order; version 1 and 2 logs (one driver thread)
 *       get the sequence from the order of their records.
 *   (7) Version 4: an ISSUED record names the view op it reads at (ref: an earlier SNAP or
 *       ITER op of the right kind) and an OUTCOME record of a read at a view carries what it
 *       read; every op of an older version has no ref and read nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "wl_int.h"

#define FILE_MAGIC "pcoplog\n"
#define FILE_HDR   16
#define REC_HDR    16
/* Versions: 1 the first; 2 OUTCOME records say which error table their code comes
 * from (bytes 10..11); 3 also one global sequence number at every ISSUED and OUTCOME
 * record and the driver thread in ISSUED (concurrent workloads); 4 the view and
 * transaction ops (kinds 9..17), ISSUED with ref, arg and flags, OUTCOME with what a read
 * read; 5 the close and open ops (kinds 18, 19; no layout change). 1 to 4 still read: their
 * sequence is the record order in 1 and 2, their codes' table unknown in 1. */
#define OPLOG_VERSION     5
#define OPLOG_VERSION_MIN 1
#define HAS_SEQ(v)        ((v) >= 3)
#define HAS_VIEWS(v)      ((v) >= 4)
/* the last op kind a version knows */
#define KIND_MAX_OF(v) ((v) >= 5 ? WL_KIND_MAX : HAS_VIEWS(v) ? WL_CHECKPOINT : WL_GET)
/* ISSUED payload before the entries; OUTCOME payload before its entries */
#define ISSUED_HDR(v)  (HAS_VIEWS(v) ? 40u : HAS_SEQ(v) ? 24u : 16u)
#define OUTCOME_LEN(v) (HAS_VIEWS(v) ? 32u : HAS_SEQ(v) ? 24u : 16u)
#define FLAG_SYNC      0x1u /* ISSUED v4 byte 9 */
#define FLAG_ROLLBACK  0x2u
#define FLAG_AT_END    0x1u /* OUTCOME v4 byte 28 */
#define REC_MAX        (1u << 30)

enum { REC_META = 1, REC_ISSUED = 2, REC_OUTCOME = 3 };

wl_code_table wl_code_table_of(int code) {
  if (code >= 0 || code <= -7000) return WL_CODE_OUT_OF_RANGE;
  return (wl_code_table)(-code / 1000 + 1);
}

const char *wl_code_table_name(wl_code_table t) {
  static const char *const names[] = {"table unknown", "errno",   "sofadb",   "faultfs", "workloads",
                                      "oracle",        "reports", "powercut", "no table"};
  return (unsigned)t < sizeof(names) / sizeof(*names) ? names[t] : "?";
}

/* ---- writer ----------------------------------------------------------------------------- */
struct wl_oplog_writer {
  int fd;
  char path[512];
  uint8_t *buf;
  size_t cap;
  uint64_t seq;        /* next number of the global sequence (invariant 6) */
  wl_oplog_tee_fn tee; /* also handed every record after it is written (NULL: none) */
  void *tee_arg;
};

void wl_oplog_set_tee(wl_oplog_writer *w, wl_oplog_tee_fn fn, void *arg) {
  w->tee = fn;
  w->tee_arg = arg;
}

static int write_all(int fd, const uint8_t *b, size_t n) {
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return WL_EIO;
    }
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

static int reserve(wl_oplog_writer *w, size_t n) {
  if (w->cap >= n) return 0;
  size_t cap = w->cap ? w->cap : 4096;
  while (cap < n) cap *= 2;
  uint8_t *b = realloc(w->buf, cap);
  if (!b) return WL_ENOMEM;
  w->buf = b;
  w->cap = cap;
  return 0;
}

static void rec_seal(uint8_t *rec, uint32_t plen, uint8_t type) {
  wl__put32(rec, plen);
  rec[4] = type;
  rec[5] = rec[6] = rec[7] = 0;
  wl__put64(rec + 8, XXH3_64bits_withSeed(rec + REC_HDR, plen, wl__get64(rec)));
}

static int emit(wl_oplog_writer *w, uint8_t type, size_t plen) {
  if (plen > REC_MAX) return WL_EINVAL;
  rec_seal(w->buf, (uint32_t)plen, type);
  int rc = write_all(w->fd, w->buf, REC_HDR + plen);
  if (rc == 0 && w->tee) rc = w->tee(w->tee_arg, w->buf, REC_HDR + plen);
  return rc;
}

int wl_oplog_open_writer(const char *path, const char *meta, wl_oplog_writer **out, char *err, size_t errlen) {
  wl_oplog_writer *w = NULL;
  int rc = WL_ENOMEM;
  uint8_t hdr[FILE_HDR];
  if (!path || !out) return WL_EINVAL;
  if (!(w = calloc(1, sizeof(*w)))) goto fail;
  w->fd = -1;
  snprintf(w->path, sizeof(w->path), "%s", path);
  w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (w->fd < 0) {
    rc = WL_EIO;
    if (err) snprintf(err, errlen, "op log %s: open: %s", path, strerror(errno));
    goto fail;
  }
  memcpy(hdr, FILE_MAGIC, 8);
  wl__put32(hdr + 8, OPLOG_VERSION);
  wl__put32(hdr + 12, 0);
  if ((rc = write_all(w->fd, hdr, sizeof(hdr)))) {
    if (err) snprintf(err, errlen, "op log %s: write header: %s", path, strerror(errno));
    goto fail;
  }
  size_t ml = meta ? strlen(meta) : 0;
  if ((rc = reserve(w, REC_HDR + ml))) goto fail;
  if (ml) memcpy(w->buf + REC_HDR, meta, ml);
  if ((rc = emit(w, REC_META, ml))) {
    if (err) snprintf(err, errlen, "op log %s: write meta: %s", path, strerror(errno));
    goto fail;
  }
  *out = w;
  return 0;
fail:
  if (w) {
    if (w->fd >= 0) close(w->fd);
    free(w->buf);
    free(w);
  }
  return rc;
}

static size_t put_entry(uint8_t *p, wl_kind kind, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  p[0] = (uint8_t)kind;
  p[1] = p[2] = p[3] = 0;
  wl__put32(p + 4, (uint32_t)kl);
  wl__put32(p + 8, (uint32_t)vl);
  if (kl) memcpy(p + 12, k, kl);
  if (vl) memcpy(p + 12 + kl, v, vl);
  return 12 + kl + vl;
}

int wl_oplog_append_issued(wl_oplog_writer *w, uint64_t idx, const wl_op *op) {
  return wl_oplog_append_issued_by(w, idx, op, 0);
}

int wl_oplog_append_issued_by(wl_oplog_writer *w, uint64_t idx, const wl_op *op, uint32_t thread) {
  int rc;
  if (!w || !op || op->idx != idx || thread > 0xffff) return WL_EINVAL;
  size_t n = ISSUED_HDR(OPLOG_VERSION);
  uint32_t nent = 0;
  switch (op->kind) {
    case WL_PUT:
    case WL_DEL:
    case WL_GET:
    case WL_SNAP_GET:
    case WL_ITER:
      nent = 1;
      n += 12 + op->klen + (op->kind == WL_PUT ? op->vlen : 0);
      break;
    case WL_DELRANGE:
    case WL_SNAP_SCAN:
      nent = 1;
      n += 12 + op->klen + op->elen;
      break;
    case WL_BATCH:
    case WL_TXN:
      nent = op->nsub;
      for (uint32_t s = 0; s < op->nsub; s++) n += 12 + op->sub[s].klen + op->sub[s].vlen;
      break;
    case WL_SYNC:
    case WL_FLUSH:
    case WL_REOPEN:
    case WL_SNAP:
    case WL_SNAP_RELEASE:
    case WL_ITER_NEXT:
    case WL_ITER_CLOSE:
    case WL_CHECKPOINT:
    case WL_CLOSE:
    case WL_OPEN: break;
    default: return WL_EINVAL;
  }
  if ((rc = reserve(w, REC_HDR + n))) return rc;
  uint8_t *p = w->buf + REC_HDR;
  wl__put64(p, idx);
  p[8] = (uint8_t)op->kind;
  p[9] = (uint8_t)((op->sync ? FLAG_SYNC : 0) | (op->kind == WL_TXN && op->rollback ? FLAG_ROLLBACK : 0));
  p[10] = (uint8_t)thread;
  p[11] = (uint8_t)(thread >> 8);
  wl__put32(p + 12, nent);
  wl__put64(p + 16, w->seq++);
  wl__put64(p + 24, wl__kind_has_ref(op->kind) ? op->ref : WL_REF_NONE);
  wl__put32(p + 32, op->arg);
  wl__put32(p + 36, 0);
  p += ISSUED_HDR(OPLOG_VERSION);
  switch (op->kind) {
    case WL_PUT: p += put_entry(p, WL_PUT, op->key, op->klen, op->val, op->vlen); break;
    case WL_DEL:
    case WL_GET:
    case WL_SNAP_GET:
    case WL_ITER: p += put_entry(p, op->kind, op->key, op->klen, NULL, 0); break;
    case WL_DELRANGE:
    case WL_SNAP_SCAN: p += put_entry(p, op->kind, op->key, op->klen, op->end, op->elen); break;
    case WL_BATCH:
    case WL_TXN:
      for (uint32_t s = 0; s < op->nsub; s++) {
        const wl_sub *sb = &op->sub[s];
        p += put_entry(p, sb->kind, sb->key, sb->klen, sb->kind == WL_PUT ? sb->val : NULL,
                       sb->kind == WL_PUT ? sb->vlen : 0);
      }
      break;
    default: break;
  }
  return emit(w, REC_ISSUED, n);
}

static int append_outcome(wl_oplog_writer *w, uint64_t idx, wl_outcome status, int code, wl_get_result get,
                          const wl_sub *ent, uint32_t nent, int at_end) {
  int rc;
  size_t n = OUTCOME_LEN(OPLOG_VERSION);
  if (!w || (status != WL_OUT_ACKED && status != WL_OUT_FAILED) || (nent && !ent)) return WL_EINVAL;
  for (uint32_t e = 0; e < nent; e++) n += 12 + ent[e].klen + ent[e].vlen;
  if ((rc = reserve(w, REC_HDR + n))) return rc;
  uint8_t *p = w->buf + REC_HDR;
  wl__put64(p, idx);
  p[8] = (uint8_t)status;
  p[9] = (uint8_t)get;
  wl__put16(p + 10, status == WL_OUT_FAILED ? (uint16_t)wl_code_table_of(code) : 0);
  wl__put32(p + 12, (uint32_t)code);
  wl__put64(p + 16, w->seq++);
  wl__put32(p + 24, nent);
  p[28] = (uint8_t)(at_end ? FLAG_AT_END : 0);
  p[29] = p[30] = p[31] = 0;
  p += OUTCOME_LEN(OPLOG_VERSION);
  for (uint32_t e = 0; e < nent; e++) p += put_entry(p, WL_PUT, ent[e].key, ent[e].klen, ent[e].val, ent[e].vlen);
  return emit(w, REC_OUTCOME, n);
}

int wl_oplog_append_outcome(wl_oplog_writer *w, uint64_t idx, wl_outcome status, int code, wl_get_result get) {
  return append_outcome(w, idx, status, code, get, NULL, 0, 0);
}

int wl_oplog_append_read(wl_oplog_writer *w, uint64_t idx, wl_outcome status, int code, const wl_sub *ent,
                         uint32_t nent, int at_end) {
  return append_outcome(w, idx, status, code, WL_GET_NA, ent, nent, at_end);
}

int wl_oplog_close(wl_oplog_writer *w) {
  int rc = 0;
  if (!w) return 0;
  if (w->fd >= 0 && close(w->fd)) rc = WL_EIO;
  free(w->buf);
  free(w);
  return rc;
}

/* ---- log storage ------------------------------------------------------------------------ */
typedef struct log_priv {
  uint8_t *image;      /* file image the ops point into (reader) */
  wl_sub *subs;        /* all batch sub-ops (reader) */
  void **blobs;        /* builder: one blob per appended op */
  size_t nblobs, bcap; /* builder blobs */
  size_t cap;          /* ops capacity */
} log_priv;

void wl_log_free(wl_log *log) {
  if (!log) return;
  log_priv *pv = log->priv_;
  if (pv) {
    free(pv->image);
    free(pv->subs);
    for (size_t i = 0; i < pv->nblobs; i++) free(pv->blobs[i]);
    free(pv->blobs);
    free(pv);
  }
  free(log->ops);
  free(log->meta);
  free(log);
}

int wl_log_new(wl_log **out) {
  wl_log *log = calloc(1, sizeof(*log));
  if (!log) return WL_ENOMEM;
  log->priv_ = calloc(1, sizeof(log_priv));
  log->meta = calloc(1, 1);
  log->version = OPLOG_VERSION;
  if (!log->priv_ || !log->meta) {
    wl_log_free(log);
    return WL_ENOMEM;
  }
  *out = log;
  return 0;
}

/* Room for one more blob in the builder's list (ops capacity is pv->cap). */
static int add_blob(log_priv *pv, void *blob) {
  if (pv->nblobs == pv->bcap) {
    size_t cap = pv->bcap ? pv->bcap * 2 : 64;
    void **b = realloc(pv->blobs, cap * sizeof(*b));
    if (!b) return WL_ENOMEM;
    pv->blobs = b;
    pv->bcap = cap;
  }
  pv->blobs[pv->nblobs++] = blob;
  return 0;
}

int wl_log_append(wl_log *log, const wl_op *op, wl_outcome outcome, int code) {
  log_priv *pv = log->priv_;
  size_t bytes = op->klen + op->vlen + op->elen;
  int subs_op = op->kind == WL_BATCH || op->kind == WL_TXN;
  if (subs_op)
    for (uint32_t s = 0; s < op->nsub; s++) bytes += sizeof(wl_sub) + op->sub[s].klen + op->sub[s].vlen;
  if (log->n == pv->cap) {
    size_t cap = pv->cap ? pv->cap * 2 : 64;
    wl_logop *o = realloc(log->ops, cap * sizeof(*o));
    if (!o) return WL_ENOMEM;
    log->ops = o;
    pv->cap = cap;
  }
  uint8_t *blob = malloc(bytes + 1), *p;
  if (!blob || add_blob(pv, blob)) {
    free(blob);
    return WL_ENOMEM;
  }
  wl_logop *lo = &log->ops[log->n];
  memset(lo, 0, sizeof(*lo));
  lo->op = *op;
  lo->op.idx = log->n;
  if (!wl__kind_has_ref(op->kind)) lo->op.ref = WL_REF_NONE;
  if (op->kind != WL_TXN) lo->op.rollback = 0;
  lo->outcome = outcome;
  lo->code = code;
  lo->code_table = outcome == WL_OUT_FAILED ? wl_code_table_of(code) : WL_CODE_UNKNOWN;
  lo->inv_seq = 2 * (uint64_t)log->n; /* sequential: invoked after the last one's outcome */
  lo->ack_seq = lo->inv_seq + 1;
  p = blob;
  if (subs_op) {
    wl_sub *subs = (wl_sub *)blob;
    p = blob + sizeof(wl_sub) * op->nsub;
    for (uint32_t s = 0; s < op->nsub; s++) {
      subs[s] = op->sub[s];
      memcpy(p, op->sub[s].key, op->sub[s].klen);
      subs[s].key = p;
      p += op->sub[s].klen;
      if (op->sub[s].kind == WL_PUT) {
        if (op->sub[s].vlen) memcpy(p, op->sub[s].val, op->sub[s].vlen);
        subs[s].val = p;
        p += op->sub[s].vlen;
      } else {
        subs[s].val = NULL;
        subs[s].vlen = 0;
      }
    }
    lo->op.sub = subs;
  } else {
    lo->op.sub = NULL;
    lo->op.nsub = 0;
  }
  if (op->klen) memcpy(p, op->key, op->klen);
  lo->op.key = op->key ? p : NULL;
  p += op->klen;
  if (op->vlen) memcpy(p, op->val, op->vlen);
  lo->op.val = op->val ? p : NULL;
  p += op->vlen;
  if (op->elen) memcpy(p, op->end, op->elen);
  lo->op.end = op->end ? p : NULL;
  log->n++;
  return 0;
}

int wl_log_set_read(wl_log *log, uint64_t idx, const wl_sub *ent, uint32_t nent, int at_end) {
  if (!log || idx >= log->n || (nent && !ent)) return WL_EINVAL;
  size_t bytes = (size_t)nent * sizeof(wl_sub);
  for (uint32_t e = 0; e < nent; e++) bytes += ent[e].klen + ent[e].vlen;
  uint8_t *blob = malloc(bytes + 1), *p;
  if (!blob) return WL_ENOMEM;
  if (add_blob(log->priv_, blob)) {
    free(blob);
    return WL_ENOMEM;
  }
  wl_sub *subs = (wl_sub *)blob;
  p = blob + (size_t)nent * sizeof(wl_sub);
  for (uint32_t e = 0; e < nent; e++) {
    subs[e] = (wl_sub){WL_PUT, p, ent[e].klen, NULL, ent[e].vlen};
    if (ent[e].klen) memcpy(p, ent[e].key, ent[e].klen);
    p += ent[e].klen;
    subs[e].val = p;
    if (ent[e].vlen) memcpy(p, ent[e].val, ent[e].vlen);
    p += ent[e].vlen;
  }
  log->ops[idx].read = nent ? subs : NULL;
  log->ops[idx].nread = nent;
  log->ops[idx].read_end = at_end != 0;
  return 0;
}

/* ---- reader ----------------------------------------------------------------------------- */
/* Pass over the records: validate framing and checksums, find the clean end, count ops and
 * sub-ops. Returns 0 or WL_ECORRUPT/WL_EVERSION with err filled. */
static int scan(const uint8_t *b, size_t len, uint32_t version, size_t *end, size_t *nops, size_t *nsubs, char *err,
                size_t errlen) {
  const uint32_t ih = ISSUED_HDR(version);
  size_t off = FILE_HDR, ops = 0, subs = 0;
  while (off < len) {
    size_t rem = len - off;
    if (rem < REC_HDR) break; /* torn header */
    uint32_t plen = wl__get32(b + off);
    if (plen > rem - REC_HDR) break; /* extends past EOF: torn */
    uint64_t sum = XXH3_64bits_withSeed(b + off + REC_HDR, plen, wl__get64(b + off));
    if (sum != wl__get64(b + off + 8)) {
      if (off + REC_HDR + plen == len) break; /* torn last record */
      if (err) snprintf(err, errlen, "op log: bad checksum in record at offset %zu followed by more data", off);
      return WL_ECORRUPT;
    }
    uint8_t type = b[off + 4];
    const uint8_t *p = b + off + REC_HDR;
    if (type == REC_ISSUED) {
      if (plen < ih) goto bad;
      /* every entry takes at least 12 bytes: a count beyond that is damage,
             * not a reason to allocate (found by fuzz_oplog, docs/fuzzing.md F4) */
      if (wl__get32(p + 12) > (plen - ih) / 12) goto bad;
      if (p[8] == WL_BATCH || p[8] == WL_TXN) subs += wl__get32(p + 12);
      ops++;
    } else if (type == REC_OUTCOME && HAS_VIEWS(version)) {
      if (plen < OUTCOME_LEN(version) || wl__get32(p + 24) > (plen - OUTCOME_LEN(version)) / 12) goto bad;
      subs += wl__get32(p + 24);
    } else if (type != REC_META && type != REC_OUTCOME) {
      goto bad;
    }
    off += REC_HDR + plen;
    continue;
  bad:
    if (err) snprintf(err, errlen, "op log: malformed record (type %u, %u bytes) at offset %zu", type, plen, off);
    return WL_ECORRUPT;
  }
  *end = off;
  *nops = ops;
  *nsubs = subs;
  return 0;
}

/* Parse; when `own` is set, buf is a malloc'd image the log takes over (no copy). */
static int parse(uint8_t *buf, int own, size_t len, wl_log **out, char *err, size_t errlen) {
  const uint8_t *b = buf;
  wl_log *log = NULL;
  log_priv *pv;
  size_t end, nops, nsubs, si = 0;
  int rc = WL_ECORRUPT;
  if (err && errlen) err[0] = 0;
  if ((rc = wl_log_new(&log))) goto fail;
  pv = log->priv_;
  if (len < FILE_HDR) {
    if (memcmp(b, FILE_MAGIC, len < 8 ? len : 8)) {
      rc = WL_ECORRUPT;
      if (err) snprintf(err, errlen, "op log: not an op log (bad magic)");
      goto fail;
    }
    log->torn_bytes = len; /* header itself torn: an empty log */
    if (own) free(buf);
    *out = log;
    return 0;
  }
  if (memcmp(b, FILE_MAGIC, 8)) {
    rc = WL_ECORRUPT;
    if (err) snprintf(err, errlen, "op log: not an op log (bad magic)");
    goto fail;
  }
  log->version = wl__get32(b + 8);
  if (log->version < OPLOG_VERSION_MIN || log->version > OPLOG_VERSION) {
    rc = WL_EVERSION;
    if (err)
      snprintf(err, errlen, "op log: version %u, this reader knows %u..%u", log->version, OPLOG_VERSION_MIN,
               OPLOG_VERSION);
    goto fail;
  }
  const uint32_t v = log->version;
  uint64_t nextseq = 0; /* v2: every seq must exceed the previous one; v1: derived (x2) */
  if ((rc = scan(b, len, v, &end, &nops, &nsubs, err, errlen))) goto fail;
  log->torn_bytes = len - end;
  rc = WL_ENOMEM;
  if (own) {
    pv->image = buf;
    own = 0;
  } else {
    if (!(pv->image = malloc(end ? end : 1))) goto fail;
    memcpy(pv->image, b, end);
  }
  b = pv->image;
  if (nops && !(log->ops = calloc(nops, sizeof(wl_logop)))) goto fail;
  if (nsubs && !(pv->subs = malloc(nsubs * sizeof(wl_sub)))) goto fail;
  pv->cap = nops;
  for (size_t off = FILE_HDR; off < end;) {
    uint32_t plen = wl__get32(b + off);
    uint8_t type = b[off + 4];
    const uint8_t *p = b + off + REC_HDR, *pe = p + plen;
    size_t roff = off;
    off += REC_HDR + plen;
    rc = WL_ECORRUPT;
    if (type == REC_META) {
      char *m = malloc((size_t)plen + 1);
      if (!m) {
        rc = WL_ENOMEM;
        goto fail;
      }
      memcpy(m, p, plen);
      m[plen] = 0;
      free(log->meta);
      log->meta = m;
    } else if (type == REC_OUTCOME) {
      if (plen < OUTCOME_LEN(v)) goto bad;
      uint64_t idx = wl__get64(p);
      if (idx >= log->n || log->ops[idx].outcome != WL_OUT_UNKNOWN) goto bad;
      if (p[8] != WL_OUT_ACKED && p[8] != WL_OUT_FAILED) goto bad;
      uint64_t seq = !HAS_SEQ(v) ? 2 * nextseq : wl__get64(p + 16);
      if (HAS_SEQ(v) && (seq < nextseq || seq == WL_SEQ_NONE)) goto bad;
      nextseq = !HAS_SEQ(v) ? nextseq + 1 : seq + 1;
      log->ops[idx].outcome = (wl_outcome)p[8];
      log->ops[idx].get = (wl_get_result)p[9];
      log->ops[idx].code = (int)wl__get32(p + 12);
      if (log->version >= 2) {
        uint16_t tb = wl__get16(p + 10);
        if (p[8] == WL_OUT_FAILED ? tb == WL_CODE_UNKNOWN || tb > WL_CODE_OUT_OF_RANGE : tb != 0) goto bad;
        log->ops[idx].code_table = (wl_code_table)tb;
      }
      log->ops[idx].ack_seq = seq;
      if (HAS_VIEWS(v)) { /* what a read read (invariant 7) */
        uint32_t nent = wl__get32(p + 24);
        const uint8_t *q = p + OUTCOME_LEN(v);
        wl_logop *lo = &log->ops[idx];
        if ((p[28] & ~FLAG_AT_END) || p[29] || p[30] || p[31]) goto bad;
        if ((nent || p[28]) && (!wl_kind_reads(lo->op.kind) || p[8] != WL_OUT_ACKED)) goto bad;
        if (p[28] && lo->op.kind != WL_ITER && lo->op.kind != WL_ITER_NEXT) goto bad;
        lo->read = nent ? pv->subs + si : NULL;
        lo->nread = nent;
        lo->read_end = p[28] & FLAG_AT_END;
        for (uint32_t e = 0; e < nent; e++) {
          size_t kl, vl;
          if ((size_t)(pe - q) < 12 || q[0] != WL_PUT) goto bad;
          kl = wl__get32(q + 4), vl = wl__get32(q + 8);
          if ((size_t)(pe - q) - 12 < kl || (size_t)(pe - q) - 12 - kl < vl) goto bad;
          pv->subs[si++] = (wl_sub){WL_PUT, q + 12, kl, q + 12 + kl, vl};
          q += 12 + kl + vl;
        }
      }
    } else { /* ISSUED */
      uint64_t idx = wl__get64(p);
      if (idx != log->n) goto bad;
      wl_logop *lo = &log->ops[log->n];
      wl_op *op = &lo->op;
      op->idx = idx;
      op->kind = (wl_kind)p[8];
      uint32_t nent = wl__get32(p + 12);
      if (op->kind < WL_PUT || op->kind > KIND_MAX_OF(v)) goto bad;
      op->ref = WL_REF_NONE;
      if (HAS_VIEWS(v)) { /* flags, and the view op a ref names (invariant 7) */
        if ((p[9] & ~(FLAG_SYNC | FLAG_ROLLBACK)) || ((p[9] & FLAG_ROLLBACK) && op->kind != WL_TXN)) goto bad;
        op->sync = p[9] & FLAG_SYNC;
        op->rollback = (p[9] & FLAG_ROLLBACK) != 0;
        op->ref = wl__get64(p + 24);
        op->arg = wl__get32(p + 32);
        if (wl__kind_has_ref(op->kind) ? op->ref >= idx || log->ops[op->ref].op.kind != wl__ref_kind(op->kind)
                                       : op->ref != WL_REF_NONE)
          goto bad;
      } else {
        op->sync = p[9];
      }
      uint64_t seq = !HAS_SEQ(v) ? 2 * nextseq : wl__get64(p + 16);
      if (HAS_SEQ(v) && (seq < nextseq || seq == WL_SEQ_NONE)) goto bad;
      nextseq = !HAS_SEQ(v) ? nextseq + 1 : seq + 1;
      lo->inv_seq = seq;
      lo->ack_seq = WL_SEQ_NONE;
      lo->thread = !HAS_SEQ(v) ? 0 : (uint32_t)p[10] | (uint32_t)p[11] << 8;
      /* v1: one thread, so an op without an outcome ended before the next was issued */
      if (!HAS_SEQ(v) && log->n && log->ops[log->n - 1].outcome == WL_OUT_UNKNOWN)
        log->ops[log->n - 1].ack_seq = log->ops[log->n - 1].inv_seq + 1;
      const uint8_t *q = p + ISSUED_HDR(v);
      int single = op->kind == WL_PUT || op->kind == WL_DEL || op->kind == WL_GET || op->kind == WL_DELRANGE ||
                   op->kind == WL_SNAP_GET || op->kind == WL_SNAP_SCAN || op->kind == WL_ITER;
      int subs_op = op->kind == WL_BATCH || op->kind == WL_TXN;
      if ((single && nent != 1) || (!single && !subs_op && nent != 0)) goto bad;
      if (subs_op) {
        op->sub = nent ? pv->subs + si : NULL;
        op->nsub = nent;
      }
      for (uint32_t e = 0; e < nent; e++) {
        if ((size_t)(pe - q) < 12) goto bad;
        wl_kind ek = (wl_kind)q[0];
        size_t kl = wl__get32(q + 4), vl = wl__get32(q + 8);
        if ((size_t)(pe - q) - 12 < kl || (size_t)(pe - q) - 12 - kl < vl) goto bad;
        const uint8_t *k = q + 12, *ev = q + 12 + kl;
        q += 12 + kl + vl;
        if (subs_op) {
          if (ek != WL_PUT && ek != WL_DEL) goto bad;
          pv->subs[si++] = (wl_sub){ek, k, kl, ek == WL_PUT ? ev : NULL, vl};
        } else {
          if (ek != op->kind) goto bad;
          op->key = k;
          op->klen = kl;
          if (op->kind == WL_PUT) {
            op->val = ev;
            op->vlen = vl;
          }
          if (op->kind == WL_DELRANGE || op->kind == WL_SNAP_SCAN) {
            op->end = ev;
            op->elen = vl;
          }
        }
      }
      log->n++;
    }
    continue;
  bad:
    if (err) snprintf(err, errlen, "op log: inconsistent record (type %u) at offset %zu", type, roff);
    goto fail;
  }
  *out = log;
  return 0;
fail:
  if (rc == WL_ENOMEM && err && errlen && !err[0]) snprintf(err, errlen, "op log: out of memory (%zu bytes)", len);
  if (own) free(buf);
  wl_log_free(log);
  return rc;
}

int wl_oplog_parse(const void *buf, size_t len, wl_log **out, char *err, size_t errlen) {
  return parse((uint8_t *)buf, 0, len, out, err, errlen);
}

int wl_oplog_read(const char *path, wl_log **out, char *err, size_t errlen) {
  int fd = -1, rc = WL_EIO;
  uint8_t *buf = NULL;
  struct stat st;
  size_t got = 0;
  if (!path || !out) return WL_EINVAL;
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st)) {
    if (err) snprintf(err, errlen, "op log %s: open: %s", path, strerror(errno));
    goto fail;
  }
  if (!(buf = malloc((size_t)st.st_size + 1))) {
    rc = WL_ENOMEM;
    goto fail;
  }
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      if (err) snprintf(err, errlen, "op log %s: read: %s", path, strerror(errno));
      goto fail;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  rc = parse(buf, 1, got, out, err, errlen);
  buf = NULL; /* parse took it */
  if (rc && err) {
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s", err);
    snprintf(err, errlen, "%s: %s", path, tmp);
  }
fail:
  if (fd >= 0) close(fd);
  free(buf);
  return rc;
}

/* ---- printing --------------------------------------------------------------------------- */
static const char *outcome_name(wl_outcome o) {
  return o == WL_OUT_ACKED ? "ACKED" : o == WL_OUT_FAILED ? "FAILED" : "UNKNOWN";
}

int wl_log_concurrent(const wl_log *log) {
  for (size_t i = 0; log && i + 1 < log->n; i++)
    if (log->ops[i].ack_seq > log->ops[i + 1].inv_seq) return 1;
  return 0;
}

int wl_log_print(const wl_log *log, void *fp) {
  FILE *f = fp;
  char k[128], e[128], v[160];
  int conc = wl_log_concurrent(log);
  fprintf(f, "# op log v%u, %zu ops%s%s", log->version, log->n, log->meta[0] ? ", meta: " : "", log->meta);
  if (log->torn_bytes) fprintf(f, ", torn tail of %zu bytes ignored", log->torn_bytes);
  fputc('\n', f);
  for (size_t i = 0; i < log->n; i++) {
    const wl_logop *lo = &log->ops[i];
    const wl_op *op = &lo->op;
    fprintf(f, "#%llu %s%s", (unsigned long long)op->idx, wl_kind_name(op->kind), op->sync ? " sync" : "");
    switch (op->kind) {
      case WL_PUT:
        fprintf(f, " %s -> %s", wl_escape(op->key, op->klen, k, sizeof(k)),
                wl_value_describe(op->val, op->vlen, 1, op->key, op->klen, v, sizeof(v)));
        break;
      case WL_DEL:
      case WL_GET: fprintf(f, " %s", wl_escape(op->key, op->klen, k, sizeof(k))); break;
      case WL_DELRANGE:
        fprintf(f, " [%s, %s)", wl_escape(op->key, op->klen, k, sizeof(k)), wl_escape(op->end, op->elen, e, sizeof(e)));
        break;
      case WL_SNAP_GET:
        fprintf(f, " at #%llu %s", (unsigned long long)op->ref, wl_escape(op->key, op->klen, k, sizeof(k)));
        break;
      case WL_SNAP_SCAN:
        fprintf(f, " at #%llu [%s, %s)", (unsigned long long)op->ref, wl_escape(op->key, op->klen, k, sizeof(k)),
                op->elen ? wl_escape(op->end, op->elen, e, sizeof(e)) : "end");
        break;
      case WL_SNAP_RELEASE:
      case WL_ITER_CLOSE: fprintf(f, " #%llu", (unsigned long long)op->ref); break;
      case WL_ITER: fprintf(f, " from %s, %u entries", wl_escape(op->key, op->klen, k, sizeof(k)), op->arg); break;
      case WL_ITER_NEXT: fprintf(f, " #%llu, %u entries", (unsigned long long)op->ref, op->arg); break;
      case WL_BATCH:
      case WL_TXN:
        if (op->kind == WL_TXN) fprintf(f, " %s", op->rollback ? "rollback" : "commit");
        fprintf(f, " %u:", op->nsub);
        for (uint32_t s = 0; s < op->nsub; s++) {
          const wl_sub *sb = &op->sub[s];
          if (sb->kind == WL_PUT)
            fprintf(f, " {PUT %s -> %s}", wl_escape(sb->key, sb->klen, k, sizeof(k)),
                    wl_value_describe(sb->val, sb->vlen, 1, sb->key, sb->klen, v, sizeof(v)));
          else
            fprintf(f, " {DEL %s}", wl_escape(sb->key, sb->klen, k, sizeof(k)));
        }
        break;
      default: break;
    }
    fprintf(f, " %s", outcome_name(lo->outcome));
    if (lo->outcome == WL_OUT_FAILED) fprintf(f, "(%d %s)", lo->code, wl_code_table_name(lo->code_table));
    if (op->kind == WL_GET && lo->outcome == WL_OUT_ACKED)
      fprintf(f, " %s", lo->get == WL_GET_MISMATCH ? "mismatch" : lo->get == WL_GET_MATCH ? "match" : "");
    if (wl_kind_reads(op->kind) && lo->outcome == WL_OUT_ACKED) { /* what it read */
      fprintf(f, " read %u%s", lo->nread, lo->read_end ? " (at end)" : "");
      for (uint32_t r = 0; r < lo->nread && r < 8; r++)
        fprintf(
            f, " {%s -> %s}", wl_escape(lo->read[r].key, lo->read[r].klen, k, sizeof(k)),
            wl_value_describe(lo->read[r].val, lo->read[r].vlen, 1, lo->read[r].key, lo->read[r].klen, v, sizeof(v)));
      if (lo->nread > 8) fprintf(f, " ...");
    }
    if (conc) { /* who issued it and when: seq of its invocation .. of its outcome */
      fprintf(f, " [thread %u, seq %llu..", lo->thread, (unsigned long long)lo->inv_seq);
      if (lo->ack_seq == WL_SEQ_NONE)
        fprintf(f, "]");
      else
        fprintf(f, "%llu]", (unsigned long long)lo->ack_seq);
    }
    fputc('\n', f);
  }
  return ferror(f) ? WL_EIO : 0;
}
