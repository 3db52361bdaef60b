/*
 * oracle.h — the public face of the oracle module (prefix orc_).
 *
 * orc_check decides whether a recovered state is one the target was allowed to come back with,
 * given the op log with outcomes, the target's contract and how the run ended. The exact rules
 * are in docs/oracle.md; in short:
 *   - a unit (a write op; a batch sub-op when the target is not ORC_ATOMIC_BATCH) is MUST if it
 *     was acked and is covered by a durability point; MUST units must be visible;
 *   - ACKED units after the durability point may be lost: only as a suffix with ORC_PREFIX,
 *     per key independently without it;
 *   - FAILED and UNKNOWN (in flight) units are optional, each on its own;
 *   - nothing outside the legal values may appear (PHANTOM), batches are all or nothing with
 *     ORC_ATOMIC_BATCH (TORN_BATCH), pluggable invariants run last (INVARIANT);
 *   - a committed transaction is an atomic unit whatever the contract; a rolled back one (or
 *     one whose commit conflicted) is never applied;
 *   - reads at a snapshot or an iterator (recorded in the log) must show the state at their
 *     view's op (BAD_READ); a checkpoint directory that opens must hold the state at its
 *     op, and an acked one must open (BAD_CHECKPOINT).
 * Time and memory are linear in ops + keys (delete-range adds a sort of the key set).
 * A concurrent log (ops overlapping in real time, wl_log_concurrent) is judged by the real-time
 * partial order instead of the op order (docs/oracle.md "Concurrent logs"; one sort of the
 * outcomes); that check is per key and per cut, an over-approximation that only accepts more.
 * The oracle never reports a violation it cannot prove: zero false positives is the rule; when
 * values collide (empty values, deletes) it gives the engine the benefit of the doubt.
 */
#ifndef PC_ORACLE_H
#define PC_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "workloads.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ORC_ERRNO_MAP(X)               \
  X(EINVAL, -4001, "invalid argument") \
  X(ENOMEM, -4002, "out of memory")

enum {
#define ORC_ENUM_(name, code, msg) ORC_##name = code,
  ORC_ERRNO_MAP(ORC_ENUM_)
#undef ORC_ENUM_
};
const char *orc_strerror(int code);

/* Contract bits (docs/design.md, "Targets and contracts"). */
#define ORC_DURABLE_ACK  0x01u /* sync-acked writes / writes before an acked barrier survive power cuts */
#define ORC_PROCESS_SAFE 0x02u /* every acked write survives a process kill */
#define ORC_PREFIX       0x04u /* recovered state = state after some prefix of the ops */
#define ORC_ATOMIC_BATCH 0x08u /* a batch is all or nothing */
#define ORC_CLOSE_SYNCS \
  0x10u /* an acked close (a CLOSE op, or a reopen: acked when its close returns) makes
                                   everything acked before it was invoked durable */

typedef enum {
  ORC_CRASH_NONE = 0, /* workload ran to the end and the target was closed */
  ORC_CRASH_KILL = 1, /* process kill: page cache survives */
  ORC_CRASH_POWER = 2 /* power cut: only durable data survives */
} orc_crash;

#define ORC_VERDICT_MAP(X) \
  X(PASS)                  \
  X(LOST_ACKED)            \
  X(NOT_PREFIX)            \
  X(PHANTOM)               \
  X(TORN_BATCH)            \
  X(INVARIANT)             \
  X(BAD_READ)              \
  X(BAD_CHECKPOINT)        \
  X(RECOVERY_FAILED)       \
  X(RECOVERY_HANG)         \
  X(RECOVERY_CRASH)

typedef enum {
#define ORC_VENUM_(name) ORC_##name,
  ORC_VERDICT_MAP(ORC_VENUM_)
#undef ORC_VENUM_
      ORC_NVERDICTS
} orc_verdict;

/* "PASS", "LOST_ACKED", ... (the strings used in results.jsonl). */
const char *orc_verdict_name(orc_verdict v);
/* Inverse of orc_verdict_name; -1 if unknown. */
int orc_verdict_parse(const char *name);

/* One recovered key/value pair (bytes owned by the caller). */
typedef struct orc_kv {
  const uint8_t *key;
  size_t klen;
  const uint8_t *val;
  size_t vlen;
} orc_kv;

struct orc_input;
/* A check on the recovered state run after the others pass. Return 0 if it holds (or does not
 * apply), 1 if violated (write the reason into msg and the offending key into key/klen — may be
 * left empty), negative on error. */
typedef int (*orc_invariant_fn)(const struct orc_input *in, void *arg, char *msg, size_t msglen, char *key,
                                size_t keylen);

/* A checkpoint directory found after the crash (one per WL_CHECKPOINT op whose directory
 * exists; an op without one: its directory is not there). */
typedef struct orc_ckpt {
  uint64_t op;     /* the WL_CHECKPOINT op's index */
  int opened;      /* 1: opened and read whole (state); 0: the engine refused it */
  const char *why; /* opened 0: the engine's reason, why_len bytes (no NUL) */
  size_t why_len;
  const orc_kv *state; /* opened 1: every key/value in it, any order */
  size_t nstate;
} orc_ckpt;

typedef struct orc_input {
  const wl_log *log; /* ops with outcomes */
  uint32_t contract; /* ORC_* bits */
  orc_crash crash;
  const orc_kv *state; /* recovered state, any order */
  size_t nstate;
  orc_invariant_fn invariant; /* optional */
  void *invariant_arg;
  const orc_ckpt *ckpts; /* checkpoint directories found (docs/oracle.md "Checkpoints") */
  size_t nckpts;
} orc_input;

typedef struct orc_result {
  orc_verdict verdict;
  char *first_key;         /* printable-escaped; "" on PASS */
  char *expected;          /* legal values there: "absent | value of op 812 | value of op 990" */
  char *found;             /* "value of op 17", "absent", "foreign 12 bytes ..." */
  char *explanation;       /* "state = prefix 0..1287; 13 unsynced ops lost, allowed" */
  uint64_t ops_issued;     /* ops in the log */
  uint64_t ops_acked;      /* ops with outcome ACKED */
  uint64_t ops_failed;     /* ops with outcome FAILED */
  uint64_t ops_unknown;    /* ops in flight at the crash */
  uint64_t ops_lost;       /* acked but not durable write ops whose effect is gone (allowed) */
  int64_t durable_through; /* highest op index covered by a durability point, -1 if none */
  int64_t prefix_end;      /* ORC_PREFIX and PASS: last op index of the explaining prefix
                                (-1 = empty prefix); otherwise -1 */
  uint64_t get_mismatches; /* WL_GET ops the driver saw mismatch (informational) */
} orc_result;

/* Fill *out (which the caller later frees with orc_result_free). Returns 0 when a verdict was
 * reached (PASS or a violation), negative on error. */
int orc_check(const orc_input *in, orc_result *out);
void orc_result_free(orc_result *r);
/* Verdicts the harness decides (RECOVERY_*): fills *out with that verdict and a message. */
int orc_result_set(orc_result *out, orc_verdict v, const char *explanation);

/* The `bank` invariant: arg is the const wl_params * of the workload (keys = accounts).
 * Applies only when the contract has ORC_PREFIX and ORC_ATOMIC_BATCH and no op FAILED (a
 * transaction whose commit conflicted wrote nothing and does not count): either no account
 * exists (initial batch lost) or all exist and sum to keys * WL_BANK_INITIAL. */
int orc_invariant_bank(const orc_input *in, void *arg, char *msg, size_t msglen, char *key, size_t keylen);

#ifdef __cplusplus
}
#endif
#endif /* PC_ORACLE_H */
