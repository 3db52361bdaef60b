/*
 * ckv.h - the skeleton shared by the broken-engine corpus (docs/corpus.md).
 *
 * Every corpus engine is a tiny key-value store behind the pc_target interface: an in-memory
 * sorted table (the "memtable", which holds the whole state), a record codec with a CRC-32
 * (zlib), plain POSIX file helpers, and the adapter glue (put/del become one-op batches; get
 * and scan read the memtable). An engine file supplies its own open/write/sync/flush/close
 * hooks and carries a `bug` flag chosen by the target name: `corpus-X` runs with the bug,
 * `corpus-X-fixed` without, so the twins differ only in the code guarded by the flag.
 *
 * All file I/O goes through plain open/read/write/pwrite/fsync/fdatasync/ftruncate/rename/
 * unlink inside the data dir, so the faultfs shim sees and faults every call.
 */
#ifndef PC_CORPUS_CKV_H
#define PC_CORPUS_CKV_H

#include "../targets/targets.h"

#include <stddef.h>
#include <stdint.h>

/* ---- memtable: sorted array of owned key/value pairs ---- */
typedef struct ckv_ent {
  uint8_t *k, *v;
  size_t kl, vl;
} ckv_ent;

typedef struct ckv_mem {
  ckv_ent *e;
  size_t n, cap;
} ckv_mem;

int ckv_mem_put(ckv_mem *m, const void *k, size_t kl, const void *v, size_t vl);
void ckv_mem_free(ckv_mem *m);
/* Applies a batch (puts and deletes) in order. */
int ckv_mem_apply(ckv_mem *m, const pc_kv_op *ops, size_t n);

/* ---- record codec ----
 * body := u64 seq, u32 nops, then per op: u8 del, u32 klen, u32 vlen, key, value
 * A framed record is u32 len (of body), u32 crc32(body), body. Log records carry increasing
 * sequence numbers; a snapshot/table carries the sequence number of the last record it holds,
 * so recovery never replays an older record over a newer snapshot. */
#define CKV_FRAME 8u
#define CKV_MAX_BODY (64u << 20)
uint32_t ckv_crc(const void *p, size_t n);
/* Encodes ops into a freshly malloc'ed body (*out, *outlen). */
int ckv_encode(const pc_kv_op *ops, size_t n, uint64_t seq, uint8_t **out, size_t *outlen);
/* Encodes into a framed record (len, crc, body). */
int ckv_frame(const pc_kv_op *ops, size_t n, uint64_t seq, uint8_t **out, size_t *outlen);
/* Encodes the whole memtable as one body of puts (snapshots and tables). */
/* Decodes a body (its sequence number into *seq) and applies it to m when *seq > after.
 * PC_EIO if it is malformed (nothing applied then). */
int ckv_decode_apply(ckv_mem *m, const uint8_t *body, size_t len, uint64_t after, uint64_t *seq);

/* Replays the framed records of a log buffer into m, stopping at the first record that is
 * incomplete or fails its checksum (a torn tail); *end = bytes of good records.
 * trust = 1 is corpus bug 8: a record's length is not checked against the bytes actually
 * there (the missing tail reads as zeros) and its checksum is not verified. */
/* Records with seq <= after are skipped; *last = the highest seq seen (at least after). */
int ckv_replay(ckv_mem *m, const uint8_t *buf, size_t len, int trust, uint64_t after, size_t *end,
               uint64_t *last);

/* ---- file helpers (errors: negative PC_* code, context in msg) ---- */
int ckv_write_all(int fd, const void *p, size_t n);
int ckv_pwrite_all(int fd, const void *p, size_t n, uint64_t off);
/* Reads a whole file into a malloc'ed buffer. 1 = read, 0 = file absent, <0 = error. */
int ckv_read_file(const char *path, uint8_t **out, size_t *outlen);
int ckv_fsync_dir(const char *dir);
int ckv_path(char *buf, size_t len, const char *dir, const char *name);
/* Writes a framed memtable snapshot to path with O_CREAT|O_TRUNC; returns the open fd in *fd
 * (the caller syncs/closes it) or a negative code. */
int ckv_write_snapshot(const char *path, const ckv_mem *m, uint64_t seq, int *fd);
/* Loads a snapshot file (one framed record of puts) into m, its seq into *seq. 1 = loaded,
 * 0 = absent, PC_ETARGET = present but fails its checksum / framing, PC_EIO = cannot read. */
int ckv_load_snapshot(const char *path, ckv_mem *m, uint64_t *seq);

/* ---- adapter glue ---- */
typedef struct ckv ckv;
typedef struct ckv_hooks {
  /* log a batch (put/del are batches of one) and make it durable when sync is set */
  int (*write)(ckv *c, const pc_kv_op *ops, size_t n, int sync);
  int (*sync)(ckv *c);
  int (*flush)(ckv *c);
  void (*close)(ckv *c);  /* release files; the skeleton frees the memtable and c */
} ckv_hooks;

struct ckv {
  const ckv_hooks *hooks;
  int bug;           /* 1 = the broken twin */
  int dead;          /* an I/O error left the files in an unknown state: refuse writes */
  uint64_t seq;      /* sequence number of the last record written or recovered */
  char dir[1024];
  ckv_mem mem;
  char msg[512];
  void *priv;        /* engine state */
};

/* Sets c->msg (printf style) and returns rc. */
int ckv_fail(ckv *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int ckv_t_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int sync);
int ckv_t_del(void *h, const void *k, size_t kl, int sync);
int ckv_t_batch(void *h, const pc_kv_op *ops, size_t n, int sync);
int ckv_t_get(void *h, const void *k, size_t kl, void **v, size_t *vl);
int ckv_t_scan(void *h, pc_scan_fn fn, void *arg);
int ckv_t_sync(void *h);
int ckv_t_flush(void *h);
int ckv_t_close(void *h);
const char *ckv_t_errmsg(void *h);
int ckv_t_check_opts(const char *opts, const char *wopts, char *msg, size_t len);

/* Allocates the handle (dir copied, bug set); the engine's open fills priv and recovers. */
int ckv_new(const char *dir, int bug, const ckv_hooks *hooks, ckv **out, char *msg, size_t len);
void ckv_free(ckv *c);

#define CKV_CONTRACT (PC_CONTRACT_DURABLE_ACK | PC_CONTRACT_PROCESS_SAFE | PC_CONTRACT_PREFIX | PC_CONTRACT_ATOMIC_BATCH)

#define CKV_TARGET_COMMON(checkfn)                                                          \
  .abi = PC_TARGET_ABI, .contract = CKV_CONTRACT, .check_opts = checkfn, .put = ckv_t_put,  \
  .del = ckv_t_del, .batch = ckv_t_batch, .get = ckv_t_get, .scan = ckv_t_scan,             \
  .sync = ckv_t_sync, .flush = ckv_t_flush, .close = ckv_t_close, .errmsg = ckv_t_errmsg

/* Defines the pair `NAME` (OPENFN(dir, opts, bugval, ...)) and `NAME-fixed` (OPENFN(dir, opts,
 * 0, ...)); CHECKFN validates the options, OPTHELP lists them. */
#define CKV_PAIR(var, tname, bugval, about_bug, about_fixed, openfn, checkfn, opthelp)          \
  static int var##_open_bug(const char *dir, const char *o, const char *w, void **h, char *m, \
                            size_t l) {                                                        \
    (void)w;                                                                                   \
    return openfn(dir, o, bugval, h, m, l);                                                    \
  }                                                                                            \
  static int var##_open_fixed(const char *dir, const char *o, const char *w, void **h,        \
                              char *m, size_t l) {                                             \
    (void)w;                                                                                   \
    return openfn(dir, o, 0, h, m, l);                                                         \
  }                                                                                            \
  const pc_target var##_bug = {CKV_TARGET_COMMON(checkfn), .name = tname,                     \
                               .about = "TEST ONLY, broken: " about_bug,                       \
                               .options_help = opthelp, .open = var##_open_bug};               \
  const pc_target var##_fixed = {CKV_TARGET_COMMON(checkfn), .name = tname "-fixed",           \
                                 .about = "TEST ONLY, correct twin: " about_fixed,             \
                                 .options_help = opthelp, .open = var##_open_fixed}

#endif
