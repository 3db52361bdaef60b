/*
 * recover.h - bulk WAL replay at open: the ops of a run of WAL records are
 * collected (the records copied into the run's chunks, the ops referring
 * into them), sorted once (user key ascending, newest first) and streamed
 * into tables. No memtable. Memory: the run (about memtable_bytes), never
 * the WAL's size.
 *
 * Invariants kept here:
 *  (R1) The order is a pure function of the ops (key, trailer, WAL position),
 *       never of addresses, timing or allocation: deterministic mode's
 *       syscall sequence stays a function of the on-disk state.
 *  (R2) A batch is added whole or not at all (D10): a malformed batch adds
 *       nothing and returns SDB_ECORRUPT.
 *  (R3) Only the newest version of each user key is written (there is no
 *       snapshot at open, so older ones are invisible to every reader);
 *       tombstones are kept (a deeper table may hold the key).
 */
#ifndef SDB_RECOVER_H
#define SDB_RECOVER_H

#include "manifest.h"
#include "sdb_int.h"

typedef struct sdb_rop {
  const uint8_t *k, *v;
  size_t kn, vn;
  uint64_t tr; /* trailer: seq << 8 | type */
} sdb_rop;

typedef struct sdb_rkey {
  uint64_t pre; /* the key's first 8 bytes, big-endian, zero-padded: orders like memcmp */
  uint64_t i;   /* index into ops */
} sdb_rkey;

typedef struct sdb_rrun {
  sdb_rop *ops;
  size_t n, cap;
  size_t bytes;          /* key and value bytes plus per-op overhead: what the run bound counts */
  struct sdb_rcopy *copies; /* the run's records, copied (newest chunk first) */
  sdb_rkey *ord;         /* (prefix, index) of each op; after sort, ord[0..nuniq) lists the output */
  sdb_rkey *tmp;         /* sort scratch */
  size_t ordcap, tmpcap, nuniq;
  size_t lcp;            /* length of the prefix all keys of the run share */
} sdb_rrun;

/* Bytes accounted per op on top of its key and value. */
#define SDB_RRUN_OP_OVERHEAD (sizeof(sdb_rop) + 2 * sizeof(sdb_rkey))

/* Adds the `count` ops of one WAL batch (seq = that of the first op; the
 * caller has checked that seq .. seq+count-1 are valid sequence numbers).
 * The ops bytes are copied. 0, SDB_ECORRUPT (malformed: nothing added, R2)
 * or SDB_ENOMEM. */
int sdb__rrun_add(sdb_rrun *r, const uint8_t *ops, size_t n, uint64_t seq, uint32_t count);
/* Sorts and drops shadowed versions (R1, R3): then r->ord[0..r->nuniq) in
 * internal-key order. 0 or SDB_ENOMEM. */
int sdb__rrun_sort(sdb_rrun *r);
/* Empties the run (frees copies; keeps the arrays for the next run). */
void sdb__rrun_clear(sdb_rrun *r);
void sdb__rrun_free(sdb_rrun *r);

#endif
