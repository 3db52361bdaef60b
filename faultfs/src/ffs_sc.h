/* ffs_sc.h — internals of the seccomp backend (seccomp_launch.c, seccomp_sup.c) and the
 * plan decision both backends share (decide.c).
 * Invariant: one implementation decides a call (count the rules it matches, pick the
 * firing rule, derive its seeded argument) and one writes the fired record, whichever
 * backend intercepted the call. */
#ifndef FFS_SC_H
#define FFS_SC_H

#include <stdint.h>
#include <sys/types.h>
#include "ffs_int.h"

/* What the plan says about one call. */
typedef struct ffs_decision {
  int rule;            /* firing rule index, -1 none */
  ffs_action action;   /* valid when rule >= 0 */
  int fail_errno;      /* eio / enospc / edquot: the errno; 0 otherwise */
  uint64_t keep;       /* torn: bytes kept; short: bytes written */
  uint64_t flip_bit;   /* flip: bit (seeded when the rule has no ARG) */
  int flip_has_arg;
} ffs_decision;

/* Counts the call (op, rel) against every rule (counts[i] += 1 for each rule it matches)
 * and fills d with the first rule, in plan order, that fires. want is the write's length
 * (torn / short), index the call's global index. */
FFS_HIDDEN void ffs__decide(const ffs_plan *plan, uint64_t *counts, ffs_op op, const char *rel, uint64_t index,
                            uint64_t seed, uint64_t want, ffs_decision *d);
/* The STATE/fired line of a firing (docs/faultfs.md "Fired record") into line; returns
 * its length, or 0 when it is not recorded (non-fatal N+ rules record their first 64
 * firings; nfired counts them). */
FFS_HIDDEN int ffs__fired_line(char *line, size_t cap, const ffs_plan *plan, int rule, ffs_op op, uint64_t index,
                               uint64_t match, uint64_t site, const char *rel, unsigned *nfired);
/* One trace record (docs/format/trace.md) into buf (sizeof(ffs_trec) + 2 * FFS_PATH_MAX +
 * FFS_SITE_NAME_MAX bytes); returns its length. site 0 = unknown; name NULL = not named here. */
FFS_HIDDEN size_t ffs__trace_encode(unsigned char *buf, ffs_op op, uint64_t index, uint32_t dur, int64_t off,
                                    uint64_t len, int64_t res, const char *p1, const char *p2, uint64_t site,
                                    const char *name);

/* ---- seccomp backend ------------------------------------------------------------------ */
typedef struct ffs_sc_config {
  const ffs_plan *plan;
  const char *data_dir;   /* real path */
  const char *state_dir;  /* real path */
  uint64_t seed;
  ffs_model model;        /* written into the undo log; kernel-*: a power cut shuts the fs down */
  int trace_fd;           /* -1: no trace */
} ffs_sc_config;

/* Forks; the child makes itself a process-group leader, sets PR_SET_NO_NEW_PRIVS,
 * installs the seccomp filter (SECCOMP_RET_USER_NOTIF for the file syscalls, reads
 * included), passes the listener fd back and execs argv[0] (PATH search).
 * Returns 0 with *pid and *listener, or a negative FFS_* code with a message in err. */
FFS_HIDDEN int ffs__sc_launch(char *const argv[], pid_t *pid, int *listener, char *err,
                              size_t errlen);
/* Answers every notification until the filter has no task left, then reaps pid.
 * Returns the wait status of pid, or a negative FFS_* code (err says why). */
FFS_HIDDEN int ffs__sc_supervise(const ffs_sc_config *cfg, pid_t pid, int listener, char *err, size_t errlen);
/* 1 if the program at path (PATH searched) should run under seccomp: a static binary (no
 * PT_INTERP) or a Go binary (a "Go" build-id note), which LD_PRELOAD cannot see; 0 for
 * any other ELF; negative FFS_* (message in err) if it cannot be read. */
FFS_HIDDEN int ffs__elf_wants_seccomp(const char *prog, char *err, size_t errlen);
/* 1 if this kernel offers what the backend needs (seccomp user notification with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE); else 0 and a message in err. */
FFS_HIDDEN int ffs__sc_available(char *err, size_t errlen);

#endif
