/*
 * tracecase.h - trace-based crash states (tracecase.c, tracecampaign.c): the plan of their
 * case ids, recording, the long-lived recovery process, the oracle on a state.
 */
#ifndef PC_TRACECASE_H
#define PC_TRACECASE_H

#include "harness_int.h"

#define PC_TRACE_PREFIX "trace:"

typedef struct pc_trace_plan {
  ffs_cut_kind kind;
  uint64_t cut;       /* calls of the record applied */
  uint64_t keep;      /* torn: bytes of the write at the cut kept */
  ffs_subset subset;  /* reorder */
  int has_seed;       /* subset seed given (s=N); else the case seed */
  uint64_t seed;
  int has_digest;     /* r= given */
  uint64_t digest;
} pc_trace_plan;

/* 1 if the plan is a trace state's ("trace:..."). */
int pc_trace_plan_is(const char *plan);
int pc_trace_plan_parse(const char *plan, pc_trace_plan *p, char *err, size_t errlen);
void pc_trace_plan_format(const pc_trace_plan *p, char *buf, size_t len);
int pc_trace_validate(const pc_case *c, char *err, size_t errlen);
/* The state a trace id names: recorded (or o->record_file), materialized into w->data,
 * recovered, judged. Same contract as pc_run_case. */
int pc_trace_run_case(pc_worker *w, const pc_case *c, const pc_run_opts *o, pc_result *r);

/* Records one run of c's workload (no fault) into path (docs/format/record.md). */
int pc_trace_record(pc_worker *w, const pc_case *c, const char *path, char *err, size_t errlen);
/* The same, with the dry-run trace of that run in w->trace (docs/format/trace.md): the crash
 * site of each call, which the record does not hold (a site holds code offsets, and the
 * record's digest, which ids name, would change with every build). */
int pc_trace_record_traced(pc_worker *w, const pc_case *c, const char *path, char *err, size_t errlen);
/* In the driver: puts the op log's bytes so far in the record, and tees the rest to it. */
int pc_trace_tee_start(wl_oplog_writer *log, const char *oplog_path, const char *record_path);

/* The op log up to a cut: its records, as they appear in the record. */
typedef struct pc_trace_oplog { char *buf; size_t len, cap; } pc_trace_oplog;
int pc_trace_oplog_add(pc_trace_oplog *b, const ffs_rec *r);
int pc_trace_oplog_parse(const pc_trace_oplog *b, wl_log **out, char *err, size_t errlen);

/* A child process that recovers states: open, scan, close through the target interface. */
typedef struct pc_tserver pc_tserver;
typedef enum { PC_REC_OK = 0, PC_REC_OPEN, PC_REC_SCAN, PC_REC_HANG, PC_REC_CRASH } pc_rec_status;
typedef struct pc_recovered {
  pc_rec_status status;
  char *buf;          /* OK: the scan ("PCRS" u64 us, (u32 klen, u32 vlen, k, v)*, u32 ~0) */
  size_t len;
  char *ck;           /* OK: the checkpoints (pc_checkpoints_dump) */
  size_t cklen;
  char msg[1024];     /* otherwise: what happened */
} pc_recovered;
int pc_tserver_open(const pc_case *c, const char *root, int timeout_ms, pc_tserver **out);
int pc_tserver_run(pc_tserver *rs, const char *dir, pc_recovered *out);
void pc_tserver_close(pc_tserver *rs);
void pc_recovered_free(pc_recovered *r);
/* The oracle on a recovered state (or the verdict of a recovery that failed) into r. */
int pc_trace_judge(const pc_case *c, const pc_recovered *rec, const wl_log *log, orc_crash crash, pc_result *r);

/* 128-bit hash of a directory tree's names, types, sizes and contents. */
int pc_trace_dir_hash(const char *dir, uint64_t out[2]);
/* The cut-th call record (0-based), or NULL past the end. */
const ffs_rec *pc_trace_call_at(const ffs_record *rec, uint64_t cut);

/* A campaign of trace-based crash states (tracecampaign.c) for the kinds (bits 1 <<
 * ffs_cut_kind), after a live part (pc_campaign with trace_covered) for the kinds a record
 * cannot cover and the crash points inside recovery. */
int pc_trace_campaign(const pc_campaign_opts *o, unsigned kinds);
/* The kinds of a --faults list that trace states cover (bits 1 << ffs_cut_kind); the live
 * part runs the rest, and refuses unknown names. */
unsigned pc_trace_kinds(const char *faults);

#endif
