/*
 * reports.h - public API of powercut's reports module (prefix rpt_).
 *
 * results.jsonl (docs/architecture.md, docs/reports.md) is the source of
 * truth: one JSON object per case. This module writes one such line per case
 * (rpt_case_to_json), loads one or more results files or shard directories
 * (rpt_load; shards merge by concatenation) and generates everything else
 * from the loaded set: summary.json, junit.xml, a self-contained index.html
 * (rpt_write_all) and a short terminal summary (rpt_print_summary).
 *
 * Every int-returning function returns 0 on success or a negative RPT_E*
 * code; rpt_strerror() names it and, where there is an err buffer, it says
 * which file, line or field was at fault.
 */
#ifndef POWERCUT_REPORTS_H
#define POWERCUT_REPORTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RPT_ERRNO_MAP(X)                                     \
  X(OK, 0, "ok")                                             \
  X(IO, -5001, "I/O error")                                  \
  X(NOENT, -5002, "no such file or directory")               \
  X(MALFORMED, -5003, "malformed results line or meta.json") \
  X(DUPLICATE, -5004, "duplicate case id")                   \
  X(INVAL, -5005, "invalid argument")                        \
  X(NOMEM, -5006, "out of memory")

typedef enum {
#define RPT_X_(name, val, msg) RPT_E##name = (val),
  RPT_ERRNO_MAP(RPT_X_)
#undef RPT_X_
} rpt_err;

const char *rpt_strerror(int err);
/* mkdir -p PATH (mode 0755 less the umask); 0 or a negated errno. The one mkdir -p of the tree. */
int rpt_mkdir_p(const char *path);

/* One case: one line of results.jsonl. Field meanings: docs/reports.md.
 * rpt_case_to_json() reads it and never takes ownership, so the strings may
 * be borrowed; NULL strings are written as "". Cases held by an rpt_set own
 * their strings (malloc'd). */
typedef struct rpt_case {
  char *id;            /* pc1/<target>/<workload>/<seed>/<model>/<plan> */
  char *target;
  char *workload;
  char *model;
  char *plan;
  uint64_t seed;       /* must be < 2^53 to survive JSON readers exactly */
  char *fault_kind;    /* kill, kill-after, crash, crash-after, torn, eio, ..., none */
  char *fault_op;      /* fsync, write, rename, ... ("" if none) */
  int fired;           /* 1 if the fault fired before the workload ended */
  int64_t fire_index;  /* global syscall index where it fired, -1 if not */
  char *fire_path;     /* path relative to the data dir, "" if not fired */
  char *fire_site;     /* crash site of the call it fired at (16 hex digits, faultfs "Crash
                          sites"), "" if not fired or unknown */
  char *verdict;       /* PASS, LOST_ACKED, NOT_PREFIX, PHANTOM, TORN_BATCH,
                          INVARIANT, RECOVERY_FAILED, RECOVERY_HANG,
                          RECOVERY_CRASH, ERROR */
  char *explanation;   /* one line */
  char *first_key;     /* printable-escaped, "" on PASS */
  char *expected;      /* printable-escaped */
  char *found;         /* printable-escaped */
  int64_t ops_issued;
  int64_t ops_acked;
  int64_t ops_lost;    /* non-durable ops lost (allowed) */
  int64_t recovery_us; /* target open() after the crash; -1 = not measured */
  int64_t case_us;     /* wall time of the whole case */
  char *repro;         /* shell command that reproduces the case */
  char *minimized_id;  /* failures: shrunk case id, "" otherwise */
  char *kept;          /* failures: tarball of the crashed data dir, relative
                          to the out dir, "" otherwise */
  char *reach;         /* failures under a model: the verdict of the same case
                          on each real file system, "ext4=PASS,xfs=LOST_ACKED";
                          "" = not checked */
  int64_t reruns;      /* failures: runs of the minimal case made to measure how
                          often it reproduces; 0 = not re-run */
  int64_t reproduced;  /* how many of those runs gave the verdict (<= reruns) */
} rpt_case;

/* A crash site seen in a campaign's dry runs (meta.json "sites"). */
typedef struct rpt_site {
  char *site;          /* 16 hex digits */
  char *workload;      /* first workload whose dry run made a call there */
  char *op;            /* the syscall kind of its first call */
  char *name;          /* its top frames, "" when the dry run did not name it */
  int recovery;        /* 1: first seen in the recovery after the workload */
  int aimed;           /* 1: a fault kind of the campaign aims at its call's kind */
} rpt_site;

/* Shard metadata (meta.json of one campaign shard). */
typedef struct rpt_meta {
  char *shard;         /* "K/N" */
  double elapsed_s;
  int64_t cases;
  double states_per_s; /* crash states verified per second in that shard */
  int64_t jobs;
  char *argv;          /* the command line, one string */
  char *source;        /* the meta.json file it came from ("" if in memory) */
  char *interrupted;   /* the signal that stopped that shard early ("SIGINT",
                          "SIGTERM", "SIGHUP"), "" if it ran to its end */
  rpt_site *sites;     /* crash sites of its dry runs (owned when held by a set) */
  size_t nsites;
} rpt_meta;

/* Where a violation is reachable, one line from its model and reach field:
 * "reachable on xfs (ext4: PASS)", "strict only: not reachable on ext4 or xfs",
 * "found on real ext4", "reachability on real file systems not checked". */
void rpt_reach_label(const rpt_case *c, char *buf, size_t len);

/* The group of a failing case, one line: its verdict, the shape of its key
 * diff (the key was absent, held an older or a newer value, or garbage), the
 * syscall kind its fault aimed at and the class of the path where it fired
 * (digit runs as '*'): "LOST_ACKED | key absent | write *.log". A fault that
 * did not fire shows as "fault not fired" (the verdict then comes from the
 * end-of-run power cut). Cases of one group are one bug seen many times. */
void rpt_case_signature(const rpt_case *c, char *buf, size_t len);
/* The shape of c's key diff: "absent", "older", "newer", "other value",
 * "garbage", "duplicate", or "" when the verdict names no key. */
const char *rpt_key_shape(const rpt_case *c);

/* rpt_case_init: every string NULL, fire_index = recovery_us = -1, rest 0. */
void rpt_case_init(rpt_case *c);
/* Frees the strings of a case that owns them (not the struct itself). */
void rpt_case_free(rpt_case *c);

/* One JSON object on one line, no newline inside or at the end, every field
 * present. *line is malloc'd: free() it. The harness appends line + "\n" to
 * results.jsonl with one write(). */
int rpt_case_to_json(const rpt_case *c, char **line);

/* Parses one results.jsonl line into *c (owned strings; rpt_case_free it).
 * Required: id, target, workload, model, plan, seed, fault_kind, verdict;
 * others default as rpt_case_init. err says which field is wrong. */
int rpt_case_from_json(const char *line, rpt_case *c, char *err, size_t errlen);

/* A loaded set of cases (opaque). */
typedef struct rpt_set rpt_set;

/* Loads results. Each path is either a results.jsonl file, or a directory
 * meaning DIR/results.jsonl plus DIR/meta.json when present. Several paths
 * are shards: cases are concatenated in argument order. Errors (err says
 * where): a malformed line "FILE:LINE: ...", a duplicate case id naming both
 * FILE:LINE places, a missing file, a malformed meta.json. Blank lines are
 * skipped. On error *out is NULL. */
int rpt_load(const char *const *paths, int npaths, rpt_set **out,
             char *err, size_t errlen);

/* An empty set, to fill in memory (tests, or a harness that keeps cases). */
int rpt_set_create(rpt_set **out);
/* Copies c into the set; RPT_EDUPLICATE if its id is already there. */
int rpt_set_add(rpt_set *s, const rpt_case *c);
/* Copies m into the set's shard list. */
int rpt_set_add_meta(rpt_set *s, const rpt_meta *m);
void rpt_set_free(rpt_set *s);

size_t rpt_set_count(const rpt_set *s);
const rpt_case *rpt_set_case(const rpt_set *s, size_t i);
size_t rpt_set_meta_count(const rpt_set *s);
const rpt_meta *rpt_set_meta(const rpt_set *s, size_t i);
/* Cases whose verdict is not PASS (campaign exit status 1 when > 0). */
size_t rpt_set_failures(const rpt_set *s);

/* One group of failing cases with the same target and signature. */
typedef struct rpt_group {
  char *signature;     /* rpt_case_signature of its cases (owned) */
  char *path_class;    /* fire_path class, "" when the fault did not fire (owned) */
  const char *target, *verdict, *syscall; /* borrowed from the set */
  const char *key_shape;                  /* static */
  size_t count;
  size_t smallest;     /* set index of the smallest case: fewest ops in its repro
                          id, then the earliest fault point (#N, then fire_index) */
  size_t kept[3];      /* set indices of the first cases with a kept tarball */
  size_t nkept;
  size_t nkept_all;    /* cases of the group with a kept tarball */
  const char *fault_kinds[4], *models[4]; /* distinct values seen, first 4 (borrowed) */
  size_t nfault_kinds, nmodels;
  int more_fault_kinds, more_models;      /* 1: more than 4 */
} rpt_group;

/* The groups of the set's failing cases, largest first (then by first
 * appearance). *out is malloc'd: rpt_groups_free it. */
int rpt_set_groups(const rpt_set *s, rpt_group **out, size_t *n);
void rpt_groups_free(rpt_group *g, size_t n);
/* Records how often case i's minimal case reproduced: reproduced of reruns. */
int rpt_set_set_rerun(rpt_set *s, size_t i, int64_t reruns, int64_t reproduced);

/* Writes out_dir/summary.json, out_dir/junit.xml and out_dir/index.html
 * (each to a temp file, then renamed into place), and out_dir/results.jsonl
 * and out_dir/meta.json (merged) unless the set was loaded from one input
 * whose directory is out_dir itself. kept paths are rewritten to be relative
 * to out_dir. Creates out_dir if needed. */
int rpt_write_all(const rpt_set *s, const char *out_dir, char *err, size_t errlen);

/* The individual generators, each to an open stream. */
int rpt_write_summary_json(const rpt_set *s, FILE *f);
int rpt_write_junit(const rpt_set *s, FILE *f);
int rpt_write_html(const rpt_set *s, FILE *f);
int rpt_write_jsonl(const rpt_set *s, FILE *f);

/* Short terminal summary: cases, verdict counts, states/s from meta,
 * recovery p50/p99/max, and each failure with its explanation and repro
 * command (at most 20 listed; the rest are counted). */
void rpt_print_summary(const rpt_set *s, FILE *f);

/* Nearest-rank percentile of sorted (ascending) values: the value at rank
 * ceil(p/100 * n) (1-based), clamped to [1, n]; p in 0..100; 0 when n == 0.
 * So p50 of {1,2,3,4} is 2, p99 of 1..100 is 99, p100 is the maximum. */
int64_t rpt_percentile(const int64_t *sorted, size_t n, unsigned p);

/* The shell-quoted command that re-runs a case id: powercut repro 'ID'
 * (a ' inside ID becomes '\''). malloc'd. */
int rpt_repro_command(const char *id, char **cmd);

#ifdef __cplusplus
}
#endif
#endif /* POWERCUT_REPORTS_H */
