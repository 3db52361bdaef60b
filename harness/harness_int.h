/*
 * harness_int.h - internals shared by the powercut harness's files.
 * The public face of the module is the `powercut` CLI (docs/powercut.md).
 */
#ifndef PC_HARNESS_INT_H
#define PC_HARNESS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The target interface, PC_E* codes and pc_strerror: the public header. */
#include "powercut/target.h"

/* The name of an error table (pc_err_table_of): "sofadb", "faultfs", ... */
const char *pc_err_table_name(pc_err_table t);

/* ---- case ids (caseid.c) ---- */
typedef struct pc_case {
  char target[64];
  char target_opts[512];
  char workload[512];   /* workload spec: name[:k=v,...] */
  uint64_t seed;
  char model[16];       /* strict | ext4 | reorder | kernel-ext4 | kernel-xfs | kernel-btrfs */
  char plan[1024];      /* fault plan (faultfs grammar), or "none" */
  /* "" or a second plan whose fault fires inside the first recovery (its open);
   * then a second, fault-free recovery is checked. Written PLAN>RPLAN in ids. */
  char rplan[256];
} pc_case;

/* Sets c->plan and c->rplan from "PLAN" or "PLAN>RPLAN" (the first '>' outside
 * a glob's parentheses); PC_EINVAL with the reason when a part is empty or too long. */
int pc_case_set_plan(pc_case *c, const char *s, char *err, size_t errlen);
/* "PLAN" or "PLAN>RPLAN" into buf. */
void pc_case_plan_str(const pc_case *c, char *buf, size_t len);

int pc_case_parse(const char *id, pc_case *c, char *err, size_t errlen);
int pc_case_format(const pc_case *c, char *buf, size_t len);
void pc_target_spec_split(const char *spec, char *name, size_t nlen, char *opts, size_t olen);

/* ---- targets (targets/) ---- */

const pc_target *pc_target_find(const char *name);
/* Every available target (loads every peer plugin); returns how many. */
size_t pc_target_all(const pc_target **out, size_t max);
void pc_target_list(FILE *f, int json); /* json: one JSON array instead of the text */


/* ---- util.c ---- */
#include <sys/types.h>
int64_t pc_now_us(void);
/* A getopt_long error (optstring ":", opterr 0) as one line on stderr: "powercut CMD:
 * unknown option '--x'" or "option '--x' needs a value", with the pointer to --help; 2. */
int pc_option_error(const char *cmd, char **argv, int ch);
int pc_copy_tree(const char *from, const char *to);
int pc_wait_child(pid_t pid, int timeout_ms, int *status);
/* --keep and --out directories: see util.c. Markers name what powercut made. */
#define PC_KEEP_MARKER ".powercut-keep"
#define PC_REPORT_MARKER ".powercut-report"
#define PC_SCRATCH_MARKER ".powercut-scratch"
int pc_own_dir_check(const char *opt, const char *path, const char *marker, char *err,
                     size_t errlen);
int pc_own_dir_claim(const char *opt, const char *path, const char *marker, int clear, char *err,
                     size_t errlen);
int pc_scratch_create(const char *root, char *err, size_t errlen);
int pc_scratch_sweep(const char *base);
/* The signal (SIGINT, SIGTERM, SIGHUP) that asked powercut to stop, 0 if none. */
#include <signal.h>
extern volatile sig_atomic_t pc_interrupted;
void pc_signals_install(void);
void pc_signals_default(void);
const char *pc_signal_name(int sig);

/* ---- runner.c: one case ---- */
#include "faultfs.h"
#include "oracle.h"
#include "reports.h"
#include "workloads.h"

/* ---- realfs.c: cases on a real file system (loop-mounted image, shutdown ioctl) ---- */
typedef struct pc_realfs {
  char fstype[16];
  char pristine[1100], image[1100], mnt[1100], loopdev[64];
  int loopfd, rootfd;   /* the loop device; the mount's root dir (opened at mount) */
  int mounted, ready, probed;
  int seeded; /* the pristine image holds the data dir (made durable once, not per case) */
  int64_t mkfs_us, copy_us, prep_us, remount_us, end_us; /* cumulative, for the measurements */
  uint64_t ncases;
} pc_realfs;
/* root, a loop device, a known file system name; a clear error otherwise. */
int pc_realfs_check(const char *fstype, char *err, size_t errlen);
/* mkfs once into ROOT/<fs>.pristine.img; mounts go on ROOT/mnt. */
int pc_realfs_init(pc_realfs *fs, const char *root, const char *fstype, char *err, size_t errlen);
/* Fresh copy of the pristine image, loop, mount, mkdir MNT/SUBDIR (durable). */
int pc_realfs_case_begin(pc_realfs *fs, const char *subdir, char *err, size_t errlen);
int pc_realfs_shutdown(pc_realfs *fs, char *err, size_t errlen); /* idempotent */
int pc_realfs_remount(pc_realfs *fs, char *err, size_t errlen);  /* umount, mount */
void pc_realfs_case_end(pc_realfs *fs);                          /* umount, detach; always safe */
void pc_realfs_close(pc_realfs *fs);                             /* and remove the images */
int pc_realfs_sweep(const char *root); /* lazily unmount loop mounts left below ROOT */

#define PC_WCACHE_SLOTS 4
typedef struct pc_worker {
  char root[1024];                 /* per-worker scratch dir (tmpfs when available) */
  char data[1100], state[1100], oplog[1100], recov[1100], trace[1100];
  char rstate[1100], rtrace[1100]; /* the shim's state and trace of an interrupted recovery */
  /* The crashed states of the last workloads run to their end (plan none) for
   * cases with a recovery plan, kept in root/wcache/N: the next such case with
   * the same key (case id with plan none, options of the run) starts from a copy
   * instead of running the workload again. One slot per model of a campaign. */
  char wcache[1100];
  struct pc_wcache {
    char key[2400];
    orc_crash crash;
    char note[512];
  } wc[PC_WCACHE_SLOTS];
  unsigned wc_next;                /* the slot the next new state goes to */
  ffs_shim_configure_fn configure; /* NULL when the shim is not loaded */
  int timeout_ms;                  /* per phase: workload, recovery */
  pc_realfs *fs;                   /* the real file system of kernel-* cases, made on first use */
  int rs_pid, rs_to, rs_from;      /* the recovery server (recovery.c), rs_pid 0 when none */
} pc_worker;
/* Unmounts and removes what a worker made (its real file system images). */
void pc_worker_fini(pc_worker *w);
struct pc_case;
/* Per case: a kernel-* model gets its data dir on a fresh copy of that file system (made
 * on first use); any other model gets ROOT/data back. */
int pc_realfs_prepare_case(pc_worker *w, const struct pc_case *c, char *err, size_t errlen);
void pc_realfs_driver_end(pc_worker *w, const struct pc_case *c);
int pc_realfs_after_powercut(pc_worker *w, char *err, size_t errlen);
/* "ext4,xfs" -> "kernel-ext4,kernel-xfs", each checked with pc_realfs_check. */
int pc_realfs_models(const char *fslist, char *models, size_t mlen, char *err, size_t errlen);
#define PC_REACH_MAX 8 /* violations re-run on real file systems per campaign job */
/* A violation found under a model, re-run on each real file system of fslist:
 * "ext4=PASS,xfs=LOST_ACKED" into out ("" when fslist is empty or the model is kernel-*). */
void pc_realfs_reach(pc_worker *w, const struct pc_case *c, const char *fslist, char *out, size_t len);
/* The default of --reach: "ext4,xfs" (those whose mkfs is installed) when root with loop
 * devices, else "" with the reason in why. */
const char *pc_realfs_reach_default(char *why, size_t wl);

typedef struct pc_run_opts {
  const char *keep_dir;   /* copy the crashed data dir (after rollback) here */
  int trace;              /* write a trace (worker->trace) */
  uint64_t max_ops;       /* stop the workload after this many ops (minimize); 0 = all */
  int no_final_cut;       /* a workload that ends without a power cut firing ends as a kill
                             (fidelity: the page cache at the cut point) */
  const char *record;     /* record the workload into this record file (tracecase.c) */
  const char *record_file;/* a trace state's record (repro --record), NULL = record again */
} pc_run_opts;

typedef struct pc_result {
  orc_result orc;         /* verdict and explanation (always set after pc_run_case) */
  int fired;
  ffs_fired f;
  int rfired;             /* the recovery plan's fault fired (rf says where) */
  ffs_fired rf;
  orc_crash crash;
  int64_t recovery_us, case_us;
  char note[512];         /* what else happened: driver signal, timeout ... */
  int error;              /* setup error: verdict ERROR, message in note */
  char fault_kind[32];    /* what the report names: crash, recovery:crash, none ... */
  char fault_op[32];
} pc_result;

int pc_worker_init(pc_worker *w, const char *root, int timeout_ms, char *err, size_t errlen);

/* ---- recovery.c: the fault-free recovery of a case ---- */
#define PC_EXIT_RECOVERY_OPEN 92
#define PC_EXIT_RECOVERY_SCAN 93
#define PC_EXIT_RECOVERY_HANG 94 /* the target's own open() timed out (an external program that never replied) */
/* Recovers w->data into the state file w->recov: a fresh child, or for an external target
 * the worker's long-lived recovery server. Returns as pc_wait_child (0, PC_ETIMEOUT,
 * PC_EINTR; PC_ESETUP when no process could be started) with the status a fresh
 * recovery child would have ended with. */
int pc_recovery_run(pc_worker *w, const pc_case *c, const pc_target *t, const wl_params *wp, int *status);
void pc_recovery_stop(pc_worker *w);           /* ends the recovery server, if any */
uint64_t pc_recovery_servers_started(void);    /* in this process (POWERCUT_PROFILE) */
int pc_run_case(pc_worker *w, const pc_case *c, const pc_run_opts *o, pc_result *r);
void pc_result_free(pc_result *r);
void pc_profile_print(FILE *f);  /* POWERCUT_PROFILE=1: per-phase time per case */
const char *pc_result_verdict(const pc_result *r);
/* Fills an rpt_case that borrows strings from c/r/id/bufs (valid while they live). */
void pc_result_to_rpt(const pc_case *c, const char *id, const pc_result *r, rpt_case *out,
                      char *repro, size_t reprolen);
/* Validates a case before running it: target, options, workload spec, plan. */
int pc_case_validate(const pc_case *c, char *err, size_t errlen);
int pc_drive(const pc_target *t, const char *dir, const char *topts, const wl_params *wp,
             uint64_t seed, wl_oplog_writer *log, uint64_t max_ops, char *msg, size_t len);
/* The WL_CAP_* bits of the ops target t can run (delete-range, snapshots, ...). */
uint32_t pc_target_caps(const pc_target *t);
/* After the crash, in the recovery child: every checkpoint directory in the data dir, opened
 * read-only and read whole (or the engine's reason why not), into file out. 0 or PC_EIO. */
/* Recovery of one state: opens data (timed), writes the state file recov (PCRS ... as
 * pc_state_parse reads) and recov.ckpt (the checkpoints). 0 with *h open, or the exit code
 * of a failed recovery (PC_EXIT_RECOVERY_*) with its message in recov. */
int pc_recover_into(const pc_target *t, const char *data, const char *topts, const char *wopts, const char *recov,
                    void **h);
/* Parses a recovered state file (PCRS, recovery_us, the keys and values, the end mark) into
 * kvs, which point into buf. 0, PC_EIO if malformed, PC_ENOMEM. */
int pc_state_parse(const char *buf, size_t len, orc_kv **kvs, size_t *n, int64_t *us);
int pc_checkpoints_dump(const pc_target *t, const char *dir, const char *topts, const char *wopts, const char *out);
/* Parses that file; buf must outlive *out. PC_EIO when malformed. */
int pc_checkpoints_parse(const char *buf, size_t len, orc_ckpt **out, size_t *nout);
void pc_checkpoints_free(orc_ckpt *c, size_t n);

/* ---- fidelity.c: models against real file systems (docs/faultfs.md) ---- */
int pc_fidelity(const char *const *inputs, int ninputs, const char *models, const char *fslist, uint64_t limit,
                int timeout_ms, const char *root, FILE *out);
/* ---- minimize.c ---- */
/* Shrinks a case failing with `verdict`; a candidate counts as failing when one of its
 * `rerun` runs gives the verdict with its fault fired. 0 with *out set (possibly = *in), or
 * PC_ENOTFIRED (the input's fault does not fire and the plan "none" does not fail),
 * PC_ENOFAIL (no run of the input failed); then *out = *in. */
int pc_minimize(pc_worker *w, const pc_case *in, const char *verdict, int budget, int rerun,
                pc_case *out, int *runs);
/* ---- campaign.c ---- */
typedef struct pc_campaign_opts {
  const char *target, *target_opts;
  const char *workloads;   /* space-separated workload specs */
  const char *faults;      /* comma-separated fault kinds */
  const char *models;      /* comma-separated models */
  uint64_t cases;          /* 0 = until time_ms */
  int64_t time_ms;
  uint64_t seed;
  int jobs;
  int shard_k, shard_n;
  const char *out_dir;
  const char *work_dir;    /* scratch (tmpfs when available) */
  int timeout_ms;
  int minimize_budget;     /* runs per minimized failure (times rerun), 0 = no minimize */
  int rerun;               /* runs of a failure: minimize's candidates, kept tarballs, the rate */
  int quiet;
  const char *argv;
  const char *reach;       /* real file systems each violation is re-run on ("ext4,xfs"), "" = none */
  int order_kinds;         /* --order kinds: no site phase, the sweep by N-th call of each kind first */
  /* The default spread (no --workload given; docs/powercut.md "The default spread"): the
   * campaign's arms are every workload under the target's defaults and each of its modes
   * (spread_modes: the target was given without options), each arm with a seed of its own,
   * o->seed + its index (spread_seeds: no --seed), interleaved from the first cases. */
  int spread, spread_modes, spread_seeds;
  int trace_covered;       /* the live part of a trace campaign: no workload crash point of a kind the
                            * record covers (pc_trace_covers), only those inside recovery and the
                            * other kinds; no crash point at all is no error (nothing is run) */
} pc_campaign_opts;
/* An arm of a campaign: what a dry run (live) or a record (trace) is made of. Without the
 * spread, one per workload, with the campaign's target options and seed. */
#define PC_MAX_ARMS 32
#define PC_MAX_WORKLOADS 16 /* --workload given at most this often */
typedef struct pc_arm {
  char opts[512];          /* target options */
  char workload[512];
  uint64_t seed;
} pc_arm;
/* o's arms (workload-major: each workload under the defaults, then under each mode), 0; or
 * PC_EINVAL with err set (too many, bad list). */
int pc_campaign_arms(const pc_campaign_opts *o, pc_arm *arms, int *n, char *err, size_t errlen);
/* The workloads of the default spread for target t (one string, space separated) and the
 * models; the terminal line that says what the spread is (pc_campaign_spread_line). */
const char *pc_spread_workloads(const pc_target *t);
#define PC_SPREAD_MODELS "strict,ext4,xfs,reorder"
void pc_campaign_spread_line(const pc_campaign_opts *o, const pc_arm *arms, int n, FILE *f);
int pc_campaign(const pc_campaign_opts *o);
/* Whether a record covers fault kind NAME (kill, kill-after, crash, crash-after, torn:
 * tracecampaign.c); the others change what the program does next and stay live. */
int pc_trace_covers(const char *name);
/* The report of a campaign's results (campaign.c): its exit status, or -1 if it could not be written. */
int pc_campaign_report(const pc_campaign_opts *o, int sig);
/* Appends line and a newline to fd (O_APPEND) in one write(): workers' lines never interleave. */
int pc_append_line(int fd, const char *line);
/* Failure groups shared by a campaign's workers (campaign.c). */
typedef struct pc_group_slots pc_group_slots;
#define PC_KEEP_PER_GROUP 3 /* crashed data dirs tarred per failure group */
int pc_case_record(pc_worker *wk, const pc_case *c, const pc_campaign_opts *o, pc_group_slots *gs,
                   int fd, int *failed);

int pc_cmd_bench(int argc, char **argv);
int pc_cmd_bench_recovery(int argc, char **argv);
/* bench (benchdb.c, bench.c): the non-sync options of a target's bench
 * profile (NULL: none), and why its open replays no log (NULL: it does) */
const char *pc_bench_profile(const pc_target *t);
const char *pc_bench_no_replay(const pc_target *t);
/* Makes the bench's scratch dir DIR/PREFIX-XXXXXX (DIR: --dir, else $TMPDIR, else /tmp) into root,
 * *tmpfs = 1 if it is on tmpfs; -1 with the reason printed for powercut CMD. */
int pc_bench_root(const char *cmd, const char *dir, const char *prefix, char *root, size_t len, int *tmpfs);
#endif
