/*
 * tracecase.h - trace-based crash states (tracecase.c, tracecampaign.c): the plan of their
 * case ids, recording, the long-lived recovery process, the oracle on a state.
 */
#ifndef PC_TRACECASE_H
#define PC_TRACECASE_H

#include "harness_int.h"

#include <stdatomic.h>

#define PC_TRACE_PREFIX "trace:"
#define PC_TRACE_SUBSETS 4 /* seeded reorder subsets per cut, besides none and all */

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
/* How simple a state's kind is: 0 kill, 1 crash (s=none under reorder), 2 crash s=all, 3 crash
 * with a seeded subset, 4 torn. */
int pc_trace_plan_rank(const pc_trace_plan *p, int reorder);
/* The campaign's choices at a cut (minimize makes the same): the k-th seeded reorder subset,
 * and the bytes a torn write of datalen (> 1) bytes keeps. */
uint64_t pc_trace_subset_seed(uint64_t case_seed, uint64_t cut, int k);
uint64_t pc_trace_torn_keep(uint64_t case_seed, uint64_t cut, uint64_t datalen);
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

/* minimize.c: a failing trace state shrunk (docs/powercut.md "Minimization"). */
typedef struct pc_trace_min {
  const char *record;      /* the id's record; NULL: a new recording, refused unless its digest is the id's */
  const char *records_dir; /* the minimal case's record is kept here as <digest>.rec */
  const char *verdict;     /* the input's verdict when known; NULL: from its rebuilds */
  int budget, rerun;       /* runs (recordings and rebuilds); K */
  int check_rerecord;      /* record the minimal workload once more: is it the same record? */
  atomic_int *stop;        /* when set: stop, with the best so far (campaign --time) */
  /* results */
  char want[32];           /* the verdict */
  pc_case out;             /* the minimal case (= the input when nothing smaller fails) */
  char out_record[1300];   /* its record */
  int runs, recordings, rerecord_same;
  uint64_t states;
} pc_trace_min;
/* 0 with m->out, m->out_record set; PC_ENOFAIL (the state passes, or its rebuilds do not all
 * give its verdict and no smaller state does); another PC_E* with the reason in err. */
int pc_trace_minimize(pc_worker *w, const pc_case *in, pc_trace_min *m, char *err, size_t errlen);

#endif
