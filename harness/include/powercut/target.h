/*
 * powercut/target.h - the interface between powercut and an engine under test.
 *
 * An adapter fills one pc_target (designated initializers: a field it leaves
 * out is NULL or 0, which every optional field reads as "not supported") and
 * either is linked into powercut (sofadb, exec) or is built as a plugin,
 * pc_target_<name>.so, whose entry point `pc_target_plugin` returns it
 * (harness/targets/plugin.c). The loader refuses a plugin whose abi is not
 * PC_TARGET_ABI. Checklist for a new target: docs/targets.md.
 *
 * This header stands alone: it includes no other module's header.
 */
#ifndef POWERCUT_TARGET_H
#define POWERCUT_TARGET_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever pc_target, pc_kv_op, pc_iter_ops, pc_snap_ops or pc_txn_ops change layout
 * or meaning. */
#define PC_TARGET_ABI 4

/* ---- error codes ----------------------------------------------------------------------
 * Every module's error table has its own range of 1000 codes (docs/design.md "Error
 * codes"): -1..-999 are negated errno values, then sofadb, faultfs, workloads, oracle,
 * reports, and powercut's own (PC_E*, below). An adapter returns 0, a PC_E* code, or a
 * negated errno; it keeps the engine's own message for errmsg. pc_strerror names any code
 * of any range. */
#define PC_ERR_RANGE 1000
typedef enum pc_err_table {
  PC_TABLE_ERRNO = 0,     /* -1 .. -999: -errno */
  PC_TABLE_SOFADB = 1,    /* SDB_E*  (engine/include/sofadb.h) */
  PC_TABLE_FAULTFS = 2,   /* FFS_E*  (faultfs/faultfs.h) */
  PC_TABLE_WORKLOADS = 3, /* WL_E*   (workloads/workloads.h) */
  PC_TABLE_ORACLE = 4,    /* ORC_E*  (oracle/oracle.h) */
  PC_TABLE_REPORTS = 5,   /* RPT_E*  (reports/reports.h) */
  PC_TABLE_HARNESS = 6,   /* PC_E*   (this header) */
  PC_TABLE_NONE = -1      /* 0, positive, or below the last range */
} pc_err_table;
/* The table a code comes from (its range). */
static inline pc_err_table pc_err_table_of(int code) {
  if (code >= 0 || code <= -(PC_TABLE_HARNESS + 1) * PC_ERR_RANGE) return PC_TABLE_NONE;
  return (pc_err_table)(-code / PC_ERR_RANGE);
}

#define PC_ERRNO_MAP(X)                                                                          \
  X(OK, 0, "ok")                                                                                 \
  X(EINVAL, -6001, "invalid argument")                                                           \
  X(EIO, -6002, "I/O error")                                                                     \
  X(ENOMEM, -6003, "out of memory")                                                              \
  X(ETARGET, -6004, "target error")                                                              \
  X(ESETUP, -6005, "setup error")                                                                \
  X(ETIMEOUT, -6006, "timed out")                                                                \
  X(EGONE, -6007, "target process is gone")                                                      \
  X(ENOSHIM, -6008, "the faultfs shim is not loaded in the target program")                      \
  X(EINTR, -6009, "interrupted by a signal")                                                     \
  X(ENOTFIRED, -6010, "its fault does not fire: the verdict comes from the end-of-run power cut") \
  X(ENOFAIL, -6011, "no re-run of it failed")                                                    \
  X(ENOTSUP, -6012, "not supported by this target")                                              \
  X(ECONFLICT, -6013, "transaction conflict: the commit wrote nothing")

enum {
#define PC_X_(n, v, m) PC_##n = (v),
  PC_ERRNO_MAP(PC_X_)
#undef PC_X_
};

/* ---- contract bits: what the target promises (docs/targets.md "Contracts").
 * The oracle's ORC_* bits have the same values. */
#define PC_CONTRACT_DURABLE_ACK 0x01u  /* sync-acked writes / writes before an acked barrier survive power cuts */
#define PC_CONTRACT_PROCESS_SAFE 0x02u /* every acked write survives a process kill */
#define PC_CONTRACT_PREFIX 0x04u       /* recovered state = state after some prefix of the ops */
#define PC_CONTRACT_ATOMIC_BATCH 0x08u /* a batch is all or nothing */
#define PC_CONTRACT_CLOSE_SYNCS 0x10u  /* an acked reopen (close + open) makes everything before it durable */

/* ---- ops ---- */
typedef enum pc_op_kind {
  PC_OP_PUT = 0,
  PC_OP_DEL = 1,
} pc_op_kind;

typedef struct pc_kv_op { /* one write of a batch */
  pc_op_kind kind;
  const void *k;
  size_t klen;
  const void *v; /* PC_OP_PUT only */
  size_t vlen;
} pc_kv_op;

typedef int (*pc_scan_fn)(void *arg, const void *k, size_t klen, const void *v, size_t vlen);

/* An iterator over a target (optional: pc_target.iter may be NULL). Create
 * it on an open handle, destroy it before close. seek and next return 1 when
 * positioned on an entry, 0 past the end, a negative code on error; entry's
 * pointers are valid until the next seek, next or destroy. */
typedef struct pc_iter_ops {
  int (*create)(void *h, void **it);
  int (*seek)(void *it, const void *k, size_t klen); /* to the first key >= k */
  int (*next)(void *it);
  void (*entry)(void *it, const void **k, size_t *klen, const void **v, size_t *vlen);
  void (*destroy)(void *it);
} pc_iter_ops;

/* Snapshots (optional: pc_target.snap may be NULL; then workloads generate no snapshot
 * op). take returns a read view holding exactly the writes acknowledged before it; get (1
 * found, 0 absent) and scan read at it while writes go on; release drops it. The driver
 * releases every snapshot before a close. */
typedef struct pc_snap_ops {
  int (*take)(void *h, void **snap);
  int (*get)(void *h, void *snap, const void *k, size_t klen, void **v, size_t *vlen);
  /* [lo, hi) in key order; hilen 0: to the last key */
  int (*scan)(void *h, void *snap, const void *lo, size_t lolen, const void *hi, size_t hilen,
              pc_scan_fn fn, void *arg);
  void (*release)(void *h, void *snap);
} pc_snap_ops;

/* Transactions (optional: pc_target.txn may be NULL). get reads the transaction's own
 * writes, then the database as of begin; commit writes its puts and deletes as one atomic
 * batch (durable when it returns 0 with sync), or returns PC_ECONFLICT having written
 * nothing (another write got in since begin); rollback drops it. Commit and rollback free
 * the transaction, whatever they return. */
typedef struct pc_txn_ops {
  int (*begin)(void *h, void **txn);
  int (*get)(void *txn, const void *k, size_t klen, void **v, size_t *vlen); /* 1 found, 0 absent */
  int (*put)(void *txn, const void *k, size_t klen, const void *v, size_t vlen);
  int (*del)(void *txn, const void *k, size_t klen);
  int (*commit)(void *txn, int sync);
  void (*rollback)(void *txn);
} pc_txn_ops;

/* An engine behind a small adapter. All calls return 0 or a negative code;
 * get returns 1 when found, 0 when absent. msg gets context on failure. */
typedef struct pc_target {
  int abi;                  /* PC_TARGET_ABI */
  const char *name;
  const char *about;
  const char *options_help; /* the options it takes, one line */
  unsigned contract;        /* PC_CONTRACT_* bits; contract_for, when set, decides instead */
  unsigned (*contract_for)(const char *opts);
  int (*check_opts)(const char *opts, const char *workload_opts, char *msg, size_t len);
  int (*open)(const char *dir, const char *opts, const char *workload_opts, void **h, char *msg,
              size_t len);
  int (*put)(void *h, const void *k, size_t klen, const void *v, size_t vlen, int sync);
  int (*del)(void *h, const void *k, size_t klen, int sync);
  int (*batch)(void *h, const pc_kv_op *ops, size_t n, int sync);
  /* Optional (NULL: workloads generate no delete-range op): deletes every key
   * in [begin, end) as one atomic write. */
  int (*delrange)(void *h, const void *begin, size_t blen, const void *end, size_t elen, int sync);
  int (*get)(void *h, const void *k, size_t klen, void **v, size_t *vlen);
  int (*scan)(void *h, pc_scan_fn fn, void *arg);
  int (*sync)(void *h);
  int (*flush)(void *h);
  int (*close)(void *h); /* frees h whatever it returns */
  const char *(*errmsg)(void *h);
  /* 1: the engine runs in a separate program (exec:, ...). The harness then
   * leaves the driver's own shim idle and exports the FAULTFS_* variables so
   * the program's shim (inherited LD_PRELOAD) runs the plan. An op that finds
   * the program gone returns PC_EGONE: the driver stops, leaving it in flight. */
  int external;
  const pc_iter_ops *iter; /* NULL: no iterator (bench has no seekrandom row for it) */
  /* 1: one handle may be called from several threads at once (bench's
   * readwhilewriting calls it unlocked); 0: thread_note says why not. */
  int thread_safe;
  const char *thread_note;
  /* powercut bench: the options its "bench" profile adds (the engine's usual
   * tuning, docs/bench.md), NULL for none; bench_baseline = 1: the default
   * baseline column. */
  const char *bench_profile;
  int bench_baseline;
  /* powercut bench-recovery: why open replays no log (its time is labelled
   * "open"), NULL when it does */
  const char *bench_no_replay;
  /* ---- capabilities that make workloads issue more of the API (NULL/0: never asked) ---- */
  const pc_snap_ops *snap;
  /* 1: an iterator (iter) reads one view, the state at its first seek, whatever is written
   * while it is open (workloads then open iterators and read them across writes) */
  int iter_view;
  const pc_txn_ops *txn;
  /* Makes a consistent, openable copy of the database in dir (which does not exist yet;
   * the driver names one inside the data dir), holding every write acknowledged before the
   * call, durable when it returns 0. checkpoint_open opens such a copy read-only (scan and
   * close work on its handle) without creating or changing anything: an error, with the
   * engine's reason in msg, when dir holds no complete copy. Both or neither. */
  int (*checkpoint)(void *h, const char *dir);
  int (*checkpoint_open)(const char *dir, const char *opts, const char *workload_opts, void **h,
                         char *msg, size_t len);
  /* The target's other modes: option sets (as after `name:`) that run code its defaults do
   * not, NULL-terminated, NULL for none (sofadb: "deterministic=0", its background flush and
   * compaction). A campaign that chooses its own workloads, on a target given without
   * options, spreads its cases over the defaults and each of these (docs/powercut.md "The
   * default spread"). */
  const char *const *modes;
} pc_target;

/* A plugin exports `const int pc_target_plugin_abi = PC_TARGET_ABI;`, which the
 * loader reads before anything else, and the entry point `pc_target_plugin`,
 * which returns its target (plugin.c defines both). */
typedef const pc_target *(*pc_target_plugin_fn)(void);
#define PC_TARGET_PLUGIN_ENTRY "pc_target_plugin"
#define PC_TARGET_PLUGIN_ABI "pc_target_plugin_abi"
extern const int pc_target_plugin_abi;
const pc_target *pc_target_plugin(void);

/* Names any code of any module (see "error codes" above). */
const char *pc_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
