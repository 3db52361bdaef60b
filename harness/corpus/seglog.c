/*
 * seglog.c - corpus engine "seglog": a preallocated, O_DSYNC log segment.
 *
 * One file, SEG: 1 MiB of zeros made durable when the store is created (SEG.tmp, ftruncate,
 * fsync, rename, dir fsync), then opened O_RDWR | O_DSYNC so every write is durable when it
 * returns (like a database using open_datasync for its WAL). A record is a 16-byte header
 * (magic, payload length, sequence number, CRC-32) written with one pwrite, then the payload (a
 * batch body, ckv.h) written with a second pwrite. Recovery scans from offset 0 and stops at
 * the first header whose magic, length or CRC does not hold. The store holds at most one
 * segment: a write that does not fit fails (no rotation; enough for the corpus workloads).
 *
 * Corpus pair:
 *   corpus-crc-header-only (6) the header's CRC covers the header fields only, not the payload:
 *                              a torn payload (the tail still zeros from the preallocation)
 *                              passes the check and is applied.
 *
 * Durability invariants of the fixed twin (contract: durable_ack, process_safe, prefix,
 * atomic_batch):
 *   1. Every write is O_DSYNC: when a write op is acked its header and payload are durable.
 *   2. The CRC covers the header fields and the whole payload, so a header whose payload was
 *      torn (or never written) fails the check; recovery stops there and the in-flight record
 *      is dropped: the state is a prefix of the acked records.
 *   3. A batch is one record: all or nothing.
 *   4. A failed write stops the engine (the segment may hold a partial record).
 */
#define _GNU_SOURCE
#include "ckv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SG_OK = 0, SG_CRC_HEADER_ONLY = 6 };

#define SG_SIZE (1u << 20)
#define SG_MAGIC 0x53564b43u /* "CKVS" */
#define SG_HDR 16u

typedef struct seglog {
  int fd;
  uint64_t end;   /* offset of the next record */
  uint32_t seq;
} seglog;

#define SG(c) ((seglog *)(c)->priv)

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Invariant 2 (the bug: the payload is left out). */
static uint32_t rec_crc(int bug, const uint8_t *hdr, const uint8_t *payload, size_t plen) {
  uint32_t crc = ckv_crc(hdr, 12);
  if (bug == SG_CRC_HEADER_ONLY) return crc; /* BUG 6 */
  return crc ^ ckv_crc(payload, plen) ^ 0x9e3779b9u;
}

static int sg_write(ckv *c, const pc_kv_op *ops, size_t n, int sync) {
  uint8_t *body = NULL, hdr[SG_HDR];
  size_t bl;
  int rc;
  (void)sync; /* O_DSYNC: every write is durable anyway (invariant 1) */
  if ((rc = ckv_encode(ops, n, SG(c)->seq + 1, &body, &bl))) return ckv_fail(c, rc, "encode");
  if (SG(c)->end + SG_HDR + bl > SG_SIZE) {
    free(body);
    return ckv_fail(c, PC_EIO, "segment full (%u bytes)", SG_SIZE);
  }
  put32(hdr, SG_MAGIC);
  put32(hdr + 4, (uint32_t)bl);
  put32(hdr + 8, SG(c)->seq + 1);
  put32(hdr + 12, rec_crc(c->bug, hdr, body, bl));
  rc = ckv_pwrite_all(SG(c)->fd, hdr, SG_HDR, SG(c)->end);
  if (!rc) rc = ckv_pwrite_all(SG(c)->fd, body, bl, SG(c)->end + SG_HDR);
  free(body);
  if (rc) {
    c->dead = 1; /* invariant 4 */
    return ckv_fail(c, rc, "write record at %llu of %s/SEG", (unsigned long long)SG(c)->end, c->dir);
  }
  SG(c)->end += SG_HDR + bl;
  SG(c)->seq++;
  return 0;
}

static int sg_sync(ckv *c) {
  if (fdatasync(SG(c)->fd) == 0) return 0;
  c->dead = 1;
  return ckv_fail(c, PC_EIO, "fdatasync(%s/SEG)", c->dir);
}

static int sg_flush(ckv *c) { (void)c; return 0; }

static void sg_close(ckv *c) {
  if (c->priv && SG(c)->fd >= 0) close(SG(c)->fd);
  free(c->priv);
  c->priv = NULL;
}

static const ckv_hooks sg_hooks = {sg_write, sg_sync, sg_flush, sg_close};

/* Creates the zero-filled segment durably. */
static int create_segment(ckv *c, const char *seg) {
  char tmp[1100];
  int fd = -1, rc;
  if ((rc = ckv_path(tmp, sizeof tmp, c->dir, "SEG.tmp"))) return rc;
  if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) return ckv_fail(c, PC_EIO, "create %s", tmp);
  if (ftruncate(fd, SG_SIZE) < 0 || fsync(fd) < 0) { rc = ckv_fail(c, PC_EIO, "preallocate %s", tmp); goto fail; }
  close(fd);
  fd = -1;
  if (rename(tmp, seg) < 0) return ckv_fail(c, PC_EIO, "rename(%s, %s)", tmp, seg);
  if ((rc = ckv_fsync_dir(c->dir))) return ckv_fail(c, rc, "fsync(%s)", c->dir);
  return 0;
fail:
  if (fd >= 0) close(fd);
  return rc;
}

static int sg_open(const char *dir, const char *opts, int bug, void **h, char *msg, size_t len) {
  ckv *c = NULL;
  char seg[1100];
  uint8_t *buf = NULL;
  size_t bl = 0;
  uint64_t off = 0, bseq;
  int rc;
  (void)opts; /* checked by ckv_t_check_opts: none */
  if ((rc = ckv_new(dir, bug, &sg_hooks, &c, msg, len))) return rc;
  if (!(c->priv = calloc(1, sizeof(seglog)))) { rc = PC_ENOMEM; goto fail; }
  SG(c)->fd = -1;
  if ((rc = ckv_path(seg, sizeof seg, dir, "SEG"))) goto fail;
  if ((rc = ckv_read_file(seg, &buf, &bl)) < 0) { snprintf(msg, len, "seglog: cannot read %s", seg); goto fail; }
  if (rc == 0 && (rc = create_segment(c, seg))) { snprintf(msg, len, "seglog: %s", c->msg); goto fail; }
  /* recovery scan (invariant 2) */
  while (bl - off >= SG_HDR) {
    const uint8_t *hdr = buf + off;
    uint32_t plen = get32(hdr + 4);
    if (get32(hdr) != SG_MAGIC || get32(hdr + 8) != SG(c)->seq + 1) break;
    if (plen > bl - off - SG_HDR) break;
    if (get32(hdr + 12) != rec_crc(bug, hdr, hdr + SG_HDR, plen)) break;
    rc = ckv_decode_apply(&c->mem, hdr + SG_HDR, plen, 0, &bseq);
    if (rc == PC_ENOMEM) goto fail;
    if (rc) break;
    off += SG_HDR + plen;
    SG(c)->seq++;
  }
  SG(c)->end = off;
  if ((SG(c)->fd = open(seg, O_RDWR | O_DSYNC | O_CLOEXEC)) < 0) {
    rc = PC_EIO;
    snprintf(msg, len, "seglog: open %s: %s", seg, strerror(errno));
    goto fail;
  }
  free(buf);
  *h = c;
  return 0;
fail:
  free(buf);
  if (c) { sg_close(c); ckv_free(c); }
  return rc ? rc : PC_EIO;
}

CKV_PAIR(pc_corpus_crc_header_only, "corpus-crc-header-only", SG_CRC_HEADER_ONLY,
         "seglog writes header and payload separately and checksums only the header",
         "seglog, the checksum covers header and payload", sg_open,
         ckv_t_check_opts, "(none)");
