/* faultfs.h — public face of faultfs, the LD_PRELOAD fault-injection shim.
 *
 * Two artefacts share this header:
 *   - libfaultfs.so (the shim): loaded with LD_PRELOAD, configured by the FFS_ENV_*
 *     environment variables (or by ffs_shim_configure() in a forked child), counts the
 *     file-system calls made under the data dir, fires the fault plan and emulates power
 *     loss by rolling files back to their durable state.
 *   - libffs_ctl.a (the control library, for the harness and the CLI): fault-plan parser
 *     and formatter, the "fired" record reader, parent-side rollback, trace reader.
 *
 * Contracts (see docs/faultfs.md, docs/format/undo.md, docs/format/trace.md):
 *   (1) ffs_plan_parse(ffs_plan_format(p)) describes the same plan as p.
 *   (2) Every decision of the shim is a pure function of (seed, plan, call index, path);
 *       the same case gives a byte-identical trace.
 *   (3) ffs_rollback() is idempotent and is correct after a SIGKILL at any point.
 *   (4) The shim writes only under FAULTFS_DIR, FAULTFS_STATE and FAULTFS_TRACE, and
 *       appends to FAULTFS_HANDSHAKE (never creating it).
 */
#ifndef FAULTFS_H
#define FAULTFS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration: environment variables read by the shim at load ---------------- */
#define FFS_ENV_PLAN  "FAULTFS_PLAN"  /* fault plan; unset = idle shim, "" or "none" = track only */
#define FFS_ENV_DIR   "FAULTFS_DIR"   /* data dir: only paths under it are counted/faulted */
#define FFS_ENV_SEED  "FAULTFS_SEED"  /* decimal uint64, default 0 */
#define FFS_ENV_MODEL "FAULTFS_MODEL" /* strict | ext4 | reorder, default strict */
#define FFS_ENV_STATE "FAULTFS_STATE" /* dir for the undo log + fired record (required when active) */
#define FFS_ENV_TRACE "FAULTFS_TRACE" /* optional binary trace file */
/* Optional: a file the parent created. Every process image whose shim finds FAULTFS_PLAN
 * set (it then runs active or exits 2) appends "loaded PID EXE"; every refused io_uring_setup appends
 * "refused-io_uring_setup PID EXE" (docs/faultfs.md "What the shim cannot see"). The shim
 * never creates it: no file, no announcement. */
#define FFS_ENV_HANDSHAKE "FAULTFS_HANDSHAKE"

/* Files the shim keeps in FAULTFS_STATE. */
#define FFS_STATE_UNDO    "undo"    /* undo side-log, docs/format/undo.md */
#define FFS_STATE_FIRED   "fired"   /* one text line per firing */
#define FFS_STATE_VICTIMS "v"       /* prefix of hard links to unlinked/replaced files */
#define FFS_STATE_HANDSHAKE "handshake" /* where `faultfs run` and powercut put FAULTFS_HANDSHAKE */
#define FFS_STATE_MARKER  ".faultfs-state" /* written when faultfs takes a state dir as its own */

#define FFS_PATH_MAX 4096
/* A crash site's printable name: its top frames, "fn+0x1a (module+0x1234) < module+0x88 ..." */
#define FFS_SITE_NAME_MAX 512
#define FFS_GLOB_MAX 256

/* ---- errors: negative codes, one table ---------------------------------------------- */
#define FFS_ERRNO_MAP(X)                                \
  X(FFS_OK, 0, "ok")                                    \
  X(FFS_EINVAL, -2001, "invalid argument")              \
  X(FFS_EPLAN, -2002, "malformed fault plan")           \
  X(FFS_EIO, -2003, "I/O error")                        \
  X(FFS_ENOMEM, -2004, "out of memory")                 \
  X(FFS_ENOTFIRED, -2005, "no rule fired")              \
  X(FFS_ECORRUPT, -2006, "corrupt state or trace file") \
  X(FFS_ENOSHIM, -2007, "shim not loaded")              \
  X(FFS_ENODIR, -2008, "data dir or state dir missing") \
  X(FFS_ETOOBIG, -2009, "buffer too small")

enum {
#define FFS_X_ENUM(name, val, msg) name = (val),
  FFS_ERRNO_MAP(FFS_X_ENUM)
#undef FFS_X_ENUM
};
const char *ffs_strerror(int code);

/* ---- fault plans --------------------------------------------------------------------- */
/* The actions: enum, name. Everything else about an action is a row of ffs_action_info
 * (plan.c): adding an action is one line here, one row there, and its handling in the shim. */
#define FFS_ACTION_MAP(X)                  \
  X(FFS_A_KILL, "kill")                    \
  X(FFS_A_KILL_AFTER, "kill-after")        \
  X(FFS_A_CRASH, "crash")                  \
  X(FFS_A_CRASH_AFTER, "crash-after")      \
  X(FFS_A_TORN, "torn")                    \
  X(FFS_A_EIO, "eio")                      \
  X(FFS_A_ENOSPC, "enospc")                \
  X(FFS_A_EDQUOT, "edquot")                \
  X(FFS_A_SHORT, "short")                  \
  X(FFS_A_FLIP, "flip")

typedef enum {
#define FFS_X_ENUM(e, s) e,
  FFS_ACTION_MAP(FFS_X_ENUM)
#undef FFS_X_ENUM
  FFS_A_COUNT
} ffs_action;

/* Ops: the first block is the plan grammar (docs/powercut.md); the second block only appears in
 * traces (calls that are tracked but cannot be named in a plan except through "any"). */
#define FFS_OP_MAP(X)                            \
  X(FFS_OP_OPEN, "open")                         \
  X(FFS_OP_CREAT, "creat")                       \
  X(FFS_OP_WRITE, "write")                       \
  X(FFS_OP_PWRITE, "pwrite")                     \
  X(FFS_OP_WRITEV, "writev")                     \
  X(FFS_OP_FSYNC, "fsync")                       \
  X(FFS_OP_FDATASYNC, "fdatasync")               \
  X(FFS_OP_SYNC_FILE_RANGE, "sync_file_range")   \
  X(FFS_OP_FTRUNCATE, "ftruncate")               \
  X(FFS_OP_FALLOCATE, "fallocate")               \
  X(FFS_OP_RENAME, "rename")                     \
  X(FFS_OP_UNLINK, "unlink")                     \
  X(FFS_OP_LINK, "link")                         \
  X(FFS_OP_MKDIR, "mkdir")                       \
  X(FFS_OP_RMDIR, "rmdir")                       \
  X(FFS_OP_CLOSE, "close")                       \
  X(FFS_OP_READ, "read")                         \
  X(FFS_OP_PREAD, "pread")                       \
  X(FFS_OP_ANY, "any")                           \
  X(FFS_OP_SYNC, "sync")                         \
  X(FFS_OP_DUP, "dup")                           \
  X(FFS_OP_MMAP, "mmap")                         \
  X(FFS_OP_SYSCALL, "syscall")                   \
  X(FFS_OP_STDIO, "stdio")

typedef enum {
#define FFS_X_ENUM(e, s) e,
  FFS_OP_MAP(FFS_X_ENUM)
#undef FFS_X_ENUM
  FFS_OP_COUNT
} ffs_op;
#define FFS_OP_PLAN_LAST FFS_OP_SYNC /* ops after this one cannot be named in a plan */
#define FFS_OP_BIT(op) (1ull << (op))

/* What every module knows about an action: the plan parser (ops, argument), the fired
 * record (fatal, power cut, kill), campaigns (the ops they aim it at, their default set),
 * and the help texts (ffs_action_list). */
typedef struct ffs_action_info {
  const char *name;
  const char *arg;         /* what ':ARG' means, NULL: the action takes none */
  uint64_t plan_ops;       /* FFS_OP_BIT set of the ops a plan may name it on */
  uint64_t campaign_ops;   /* the ops a campaign aims it at */
  unsigned fatal : 1;      /* the process does not go on after it */
  unsigned powercut : 1;   /* it ends in a power cut (rollback) */
  unsigned kill : 1;       /* it ends in a plain kill (the page cache survives) */
  unsigned after : 1;      /* it fires after the call ran */
  unsigned arg_bytes : 1;  /* ARG is a byte count of the write (campaigns draw it from write lengths) */
  unsigned campaign_default : 1; /* in a campaign's default --faults */
} ffs_action_info;
/* The row of action a (NULL when a is not an action). */
const ffs_action_info *ffs_action_get(ffs_action a);
/* "kill, kill-after, ..." (every action, sep between) or, with defaults_only, the
 * comma list of a campaign's default faults. The text is static. */
const char *ffs_action_list(int defaults_only);

/* The kernel-* models are not models: the case runs on that real file system and a power
 * cut is its shutdown ioctl without a log flush (ffs_fs_shutdown), so the kernel decides
 * what is kept and there is nothing to roll back. */
typedef enum {
  FFS_MODEL_STRICT = 0,
  FFS_MODEL_EXT4 = 1,
  FFS_MODEL_REORDER = 2,
  FFS_MODEL_KERNEL_EXT4 = 3,
  FFS_MODEL_KERNEL_XFS = 4,
  FFS_MODEL_KERNEL_BTRFS = 5,
  FFS_MODEL_XFS = 6, /* the journal rules of ext4 without its delayed-allocation flushes */
  FFS_MODEL_COUNT
} ffs_model;

typedef struct ffs_rule {
  ffs_action action;
  ffs_op op;                 /* FFS_OP_ANY / FFS_OP_SYNC are classes */
  char glob[FFS_GLOB_MAX];   /* "" = every path under the data dir */
  uint64_t n;                /* 1-based matching-call number (default 1) */
  int plus;                  /* 1: the n-th and every later matching call */
  int has_arg;
  uint64_t arg;              /* torn: bytes kept; short: bytes written/read; flip: bit offset */
} ffs_rule;

typedef struct ffs_plan {
  size_t nrules;
  ffs_rule *rules;
} ffs_plan;

/* Parses PLAN (grammar in docs/powercut.md). "" and "none" give a plan with no rules.
 * On error returns FFS_EPLAN and writes "plan:POS: what is wrong" into err. */
int ffs_plan_parse(const char *text, ffs_plan **out, char *err, size_t errlen);

/* The plan grammar as the CLIs print it in their --help (powercut run, faultfs run). */
#define FFS_PLAN_GRAMMAR                                                                          \
  "fault plans:\n"                                                                                \
  "  PLAN := RULE (';' RULE)*  or  none\n"                                                        \
  "  RULE := ACTION '@' OP ['(' GLOB ')'] ['#' N ['+']] [':' ARG]\n"                             \
  "  ACTION: kill kill-after crash crash-after torn eio enospc edquot short flip\n"              \
  "    kill: SIGKILL before the call (page cache kept); crash: power cut before the call;\n"     \
  "    -after: after it; torn: the write keeps ARG bytes, then power cut; eio, enospc,\n"        \
  "    edquot: the call fails with that errno; short: the write returns ARG bytes;\n"            \
  "    flip: a read returns one bit flipped (torn/short on writes, flip on reads only)\n"        \
  "  OP: open creat write pwrite writev fsync fdatasync sync_file_range ftruncate fallocate\n"   \
  "    rename unlink link mkdir rmdir close read pread, any (every tracked call), sync\n"        \
  "    (fsync|fdatasync)\n"                                                                      \
  "  GLOB: fnmatch pattern on the path relative to the data dir; N: the N-th matching call\n"   \
  "    (default 1), N+: that one and every later one\n"                                          \
  "  e.g. 'crash@fsync(*.log)#3', 'torn@write#12:512', 'eio@fdatasync#2+;kill@rename#1'\n"
/* Canonical text ("none" for an empty plan). Returns the length, or FFS_ETOOBIG. */
int ffs_plan_format(const ffs_plan *plan, char *buf, size_t len);
void ffs_plan_free(ffs_plan *plan);
const char *ffs_action_name(ffs_action a);
const char *ffs_op_name(ffs_op op);
/* Name -> enum; negative if unknown. */
int ffs_action_from_name(const char *name, size_t len);
int ffs_op_from_name(const char *name, size_t len);
/* 1 for crash, crash-after, torn (a power cut: the parent must call ffs_rollback). */
int ffs_action_is_powercut(ffs_action a);
/* 1 for kill, kill-after, crash, crash-after, torn (the process dies). */
int ffs_action_is_fatal(ffs_action a);
const char *ffs_model_name(ffs_model m);
int ffs_model_from_name(const char *name); /* negative if unknown */
/* The file system a kernel-* model runs on ("ext4", "xfs", "btrfs"), NULL for a model. */
const char *ffs_model_fs(ffs_model m);
/* Shuts down the file system that holds fd without flushing its log (FS_IOC_SHUTDOWN,
 * _IOR('X', 125, __u32), flag 2 = NOLOGFLUSH: ext4, xfs; what xfstests' godown does).
 * Every later write on it fails; what a mount finds afterwards is what the file system
 * had committed. A second call is a no-op. Returns 0 or -errno (-ENOTTY: no such ioctl). */
int ffs_fs_shutdown(int fd);

/* ---- the fired record -------------------------------------------------------------- */
typedef struct ffs_fired {
  unsigned rule;          /* index of the rule in the plan (0-based) */
  ffs_action action;
  ffs_op op;              /* op of the call it fired on (never a class) */
  uint64_t call_index;    /* global 0-based index of that call among tracked calls (= trace index) */
  uint64_t match_index;   /* 1-based count of calls that matched this rule */
  char path[FFS_PATH_MAX];/* relative to the data dir ("." = the dir itself) */
  uint64_t site;          /* crash site of that call (docs/faultfs.md "Crash sites"), 0 = unknown */
  unsigned nfired;        /* number of firings recorded (N+ rules fire repeatedly) */
  int powercut;           /* some firing was crash / crash-after / torn */
  int killed;             /* some firing was kill / kill-after */
} ffs_fired;

/* Fills *out with the first fatal firing if any, else the first firing. Returns 0, or
 * FFS_ENOTFIRED if nothing fired, or FFS_ECORRUPT. */
int ffs_fired_read(const char *state_dir, ffs_fired *out);

/* ---- rollback ----------------------------------------------------------------------- */
/* Rolls the data dir back to its durable state as recorded in STATE/undo (model and seed
 * are stored there by the shim at configure time: the caller does not pass them).
 * Idempotent. Call it whenever the case ends in a power cut: the fired record says a
 * power-cut action fired, or the process was killed from outside and the harness treats
 * it as a power cut. Never call it after a plain kill (page cache survives). */
int ffs_rollback(const char *state_dir, const char *data_dir, char *err, size_t errlen);
/* Removes the shim's files from STATE (undo log, fired record, victims). A non-empty STATE
 * without FFS_STATE_MARKER is not faultfs's: FFS_EINVAL, nothing removed. */
int ffs_state_clear(const char *state_dir);
/* Takes STATE as faultfs's own: creates it if missing; an empty or already marked dir is
 * accepted; FFS_STATE_MARKER is written. A non-empty dir without the marker is refused
 * (FFS_EINVAL, message in err, nothing touched): clearing it could delete the user's files. */
int ffs_state_claim(const char *state_dir, char *err, size_t errlen);
/* Removes PATH and everything below it (a missing PATH is not an error), never crossing into
 * another file system (-EBUSY, left alone). 0 or a negated errno. The one rm -rf of the tree. */
int ffs_rm_rf(const char *path);

/* ---- finding the shim (libffs_ctl only) -------------------------------------------- */
/* The library directories of the running executable, in search order: the installed
 * layout, <bindir>/<path from bindir to libdir of the install> (a prefix still works
 * after it is moved as a whole), then the build tree, <bindir>/../lib, when that differs.
 * Returns how many were filled (0 when /proc/self/exe cannot be read). */
#define FFS_LIBDIRS_MAX 2
int ffs_exe_libdirs(char dirs[FFS_LIBDIRS_MAX][FFS_PATH_MAX]);
/* Finds libfaultfs.so: $env_var when it is set and not empty (then nowhere else), else
 * in ffs_exe_libdirs(). 0 with the path in path; FFS_ENOSHIM with the places tried in
 * tried ("POWERCUT_SHIM=/x", or "/p/lib/x86_64-linux-gnu/libfaultfs.so, /p/lib/libfaultfs.so"). */
int ffs_shim_find(const char *env_var, char *path, size_t len, char *tried, size_t tlen);

/* ---- shim control (fork-server) ----------------------------------------------------- */
/* Exported by libfaultfs.so (look it up with dlsym(RTLD_DEFAULT, FFS_SHIM_CONFIGURE_SYM)
 * in the freshly forked child). plan == NULL makes the shim idle. Resets counters, the
 * fd table, durability tracking, the state dir files and the trace; everything in the
 * data dir at this moment is taken as durable. Returns 0 or a negative FFS_* code. */
#define FFS_SHIM_CONFIGURE_SYM "ffs_shim_configure"
typedef int (*ffs_shim_configure_fn)(const char *plan, const char *data_dir, uint64_t seed,
                                     const char *model, const char *state_dir,
                                     const char *trace_path);
int ffs_shim_configure(const char *plan, const char *data_dir, uint64_t seed,
                       const char *model, const char *state_dir, const char *trace_path);

/* ---- what the shim could not see (handshake.c, unseen.c) --------------------------- */
typedef struct ffs_hs_line {
  int refused;            /* 0: "loaded" (the shim is active in this image); 1: io_uring_setup refused;
                             2: msync(MS_SYNC) of a tracked shared mapping (not modelled) */
  int pid;
  char exe[FFS_PATH_MAX]; /* readlink(/proc/self/exe) of the announcing image */
} ffs_hs_line;

typedef struct ffs_handshake {
  size_t n;               /* lines read */
  ffs_hs_line *v;
  unsigned nloaded;       /* "loaded" lines */
  unsigned nrefused;      /* refused io_uring_setup calls */
  unsigned nmsync;        /* processes that msynced a tracked shared mapping */
} ffs_handshake;

/* Reads a FAULTFS_HANDSHAKE file. Returns 0 (an incomplete last line is ignored),
 * FFS_EIO if it cannot be read, FFS_ENOMEM. Free with ffs_handshake_free. */
int ffs_handshake_read(const char *path, ffs_handshake *out);
void ffs_handshake_free(ffs_handshake *h);
/* 1 if a "loaded" line names this pid with this exe (the process image that runs now). */
int ffs_handshake_loaded(const ffs_handshake *h, int pid, const char *exe);
/* Creates (or empties) the handshake file and exports FAULTFS_HANDSHAKE=path. */
int ffs_handshake_arm(const char *path);
/* The EXE a seccomp supervisor announces for the program it watches ("loaded PID " this):
 * the calls were seen in the kernel, not by a shim, and there is no undo log to compare
 * the data dir with. */
#define FFS_HANDSHAKE_SECCOMP "seccomp-supervisor"
/* 1 if a seccomp supervisor announced itself in h. */
int ffs_handshake_seccomp(const ffs_handshake *h);

/* A snapshot of a data dir: per path, type, size, mtime and inode. */
typedef struct ffs_snap ffs_snap;
int ffs_snap_take(const char *dir, ffs_snap **out);
void ffs_snap_free(ffs_snap *s);
/* Paths under dir created, removed or changed (type, size, mtime, inode; directories:
 * existence and type only) since `before` (NULL = an empty dir) that the shim did not
 * track: named by no record of the undo log in state_dir (a path under a directory that
 * a tracked rename moved counts as tracked). Writes "PATH (created|changed|removed)"
 * items (also "replaced": another inode or type) joined by ", " into buf (cut with "..." when full) and returns how many there
 * are: 0 = none; or a negative FFS_* code with the reason in buf. */
int ffs_unseen_changes(const char *dir, const ffs_snap *before, const char *state_dir, char *buf,
                       size_t len);

/* ---- trace --------------------------------------------------------------------------- */
/* Durable-state changes of one call (bit flags in ffs_trace_rec.dur). */
#define FFS_DUR_DIRTY     0x0001u /* file data became non-durable (epoch began) */
#define FFS_DUR_SYNC      0x0002u /* file data made durable */
#define FFS_DUR_DIRSYNC   0x0004u /* directory entries made durable */
#define FFS_DUR_NSCHANGE  0x0008u /* non-durable directory-entry change */
#define FFS_DUR_LOST      0x0010u /* fsync failed: covered data lost at next crash */
#define FFS_DUR_KEEP      0x0020u /* O_SYNC/O_DSYNC write: its bytes are durable */
#define FFS_DUR_FIRED     0x0100u /* a rule fired on this call */
#define FFS_DUR_WARN      0x0200u /* warning: call cannot be modelled (mmap, syscall, stdio) */

typedef struct ffs_trace_rec {
  uint64_t index;      /* global 0-based call index (warnings share the next index) */
  ffs_op op;
  uint32_t dur;        /* FFS_DUR_* */
  int64_t offset;      /* -1 if none */
  uint64_t length;
  int64_t result;      /* return value, or -errno */
  char path[FFS_PATH_MAX];  /* relative to the data dir */
  char path2[FFS_PATH_MAX]; /* rename/link target, "" otherwise */
  uint64_t site;       /* crash site: a hash of the call stack (docs/faultfs.md "Crash sites"), 0 = unknown */
  char site_name[FFS_SITE_NAME_MAX]; /* its top frames, on the site's first record only; "" otherwise */
} ffs_trace_rec;

typedef struct ffs_trace ffs_trace;
int ffs_trace_open(const char *path, ffs_trace **out);
/* 1 = *rec filled, 0 = end of trace, negative = error (FFS_ECORRUPT: truncated record). */
int ffs_trace_next(ffs_trace *t, ffs_trace_rec *rec);
void ffs_trace_close(ffs_trace *t);
/* One printable line (no newline): "17 fsync 000003.log off=-1 len=0 res=0 site=9f3c0a1b22d4e570 [sync]"
 * (no site= for a site 0), then " @ NAME" on a record that names its site. */
int ffs_trace_format(const ffs_trace_rec *rec, char *buf, size_t len);

/* ---- record (docs/format/record.md): one run, every tracked call with what it changed ---- */
/* A file the parent created with ffs_record_create. The shim appends one record per tracked
 * call (write payloads included) with one O_APPEND write each; it never creates the file. */
#define FFS_ENV_RECORD "FAULTFS_RECORD"
#define FFS_RECORD_VERSION 1u
typedef enum {
  FFS_REC_CALL = 1,      /* a tracked call of the program (shim) */
  FFS_REC_OPLOG = 2,     /* data = bytes of one op log record (the driver) */
  FFS_REC_OPLOG_HEAD = 3 /* data = the op log file's first bytes: header and META (the driver) */
} ffs_rec_type;
/* flags of a write record */
#define FFS_RF_SYNC   0x1u /* O_SYNC/O_DSYNC fd or RWF_SYNC/RWF_DSYNC: durable when it returns */
#define FFS_RF_APPEND 0x2u /* O_APPEND fd (offset = the size before the write) */
typedef struct ffs_rec {
  ffs_rec_type type;
  ffs_op op;
  uint32_t flags;   /* open/creat: open flags; write: FFS_RF_*; fallocate: mode; rename: renameat2 flags */
  int32_t fd;       /* the program's fd, -1 for path calls and sync()/syncfs() */
  uint32_t mode;    /* open/creat: creation mode */
  uint32_t dur;     /* FFS_DUR_* the shim logged (informative) */
  uint64_t index;   /* global 0-based index of the call (= the trace's and the fired record's) */
  int64_t offset;   /* write: resolved offset; ftruncate/truncate: new length; fallocate: offset; else -1 */
  uint64_t length;  /* bytes asked for (fallocate: its length) */
  int64_t result;   /* return value, or -errno */
  const char *path, *path2; /* relative to the data dir; "" when none (NUL-terminated, in the record's memory) */
  const unsigned char *data; /* write: the bytes written (result of them); op log bytes */
  size_t datalen;
} ffs_rec;
typedef struct ffs_record ffs_record;
/* Creates (truncates) a record file with its header. 0 or FFS_EIO with the reason in err. */
int ffs_record_create(const char *path, char *err, size_t errlen);
/* Appends one record of type FFS_REC_OPLOG / FFS_REC_OPLOG_HEAD to an fd opened O_APPEND on
 * a record file (one write). 0 or FFS_EIO. */
int ffs_record_append_data(int fd, ffs_rec_type type, const void *data, size_t len);
/* Reads a whole record file. A bad magic or another version is refused (FFS_ECORRUPT, the
 * reason in err); a short last record (a killed writer) is the end. */
int ffs_record_load(const char *path, ffs_record **out, char *err, size_t errlen);
size_t ffs_record_count(const ffs_record *r);
const ffs_rec *ffs_record_at(const ffs_record *r, size_t i);
/* XXH-free 64-bit digest of the records' bytes (what a case id names). */
uint64_t ffs_record_digest(const ffs_record *r);
void ffs_record_free(ffs_record *r);
/* 1 if a CALL record changes the data dir or its durability (a write, truncate, create,
 * rename, unlink, sync ...), 0 for reads, closes, plain opens and failed calls. */
int ffs_rec_mutates(const ffs_rec *r);
/* The same rule for a call of kind op that returned result; open_changes: an open that may
 * create or truncate (a record: O_CREAT or O_TRUNC; a trace, which has no flags: the call
 * changed the namespace or a file's data). */
int ffs_call_mutates(ffs_op op, int64_t result, int open_changes);
/* One printable line (no newline): "17 pwrite 000003.log off=0 len=42 res=42 data=42". */
int ffs_rec_format(const ffs_rec *r, char *buf, size_t len);

/* ---- materialize (src/materialize.c): crash states from a record ---------------------- */
/* A replay applies a record's calls to a work dir through the undo-log writer the shim
 * uses (src/undo.c), so that the crash state at any point is what the live power cut
 * (src/rollback.c) would leave: one implementation of the models. */
typedef struct ffs_replay ffs_replay;
typedef enum {
  FFS_CUT_KILL = 0,  /* everything applied so far (the page cache survives) */
  FFS_CUT_CRASH = 1, /* the model's durable state */
  FFS_CUT_TORN = 2   /* the next write keeps a prefix (durable), then the power is cut */
} ffs_cut_kind;
/* reorder subsets: which non-durable 512-byte sectors of written files survive */
typedef enum {
  FFS_SUBSET_SEEDED = 0, /* a seeded half (the seed decides each sector) */
  FFS_SUBSET_NONE = 1,   /* none */
  FFS_SUBSET_ALL = 2     /* all */
} ffs_subset;
/* work: an existing empty dir (the pristine data dir); state: a dir for the undo log and
 * victims (claimed as faultfs's own). model: strict, ext4, xfs or reorder (not kernel-*). */
int ffs_replay_open(const char *work, const char *state, ffs_model model, ffs_replay **out, char *err,
                    size_t errlen);
/* Applies one record (anything but a successful mutating CALL changes nothing). */
int ffs_replay_apply(ffs_replay *rp, const ffs_rec *r, char *err, size_t errlen);
/* How many applied calls so far changed what is durable (a sync, a dir sync, a journal
 * commit, an O_SYNC write, an fsync failure): under strict, ext4 and xfs the crash state
 * at two points with the same count is the same (not under reorder, whose unsynced
 * sectors may survive). */
uint64_t ffs_replay_durable_gen(const ffs_replay *rp);
/* Builds the crash state at the current point into out (a new dir) with out_state as the
 * scratch state dir of its rollback. Files the rollback leaves alone are hard links to the
 * work dir's: copy the state (ffs_copy_tree) before anything may write into it. torn: next is the write at the cut, keep the
 * bytes kept (the work dir is left as it was). seed: the reorder subset seed. */
int ffs_replay_state(ffs_replay *rp, ffs_cut_kind kind, const ffs_rec *next, uint64_t keep, ffs_subset subset,
                     uint64_t seed, const char *out, const char *out_state, char *err, size_t errlen);
void ffs_replay_close(ffs_replay *rp);
/* The work dir: the kill state at the current point, as it is (never to be changed). */
const char *ffs_replay_work(const ffs_replay *rp);
/* A crash state may share files with the work dir (hard links, never written by the
 * rollback): a program that may write into it gets a copy, made with this (to: new). */
int ffs_copy_tree(const char *from, const char *to);

/* ---- seccomp backend (docs/faultfs.md "The seccomp backend") ------------------------ */
/* For a launcher that forks the program itself (the exec target). In the forked child,
 * before exec: PR_SET_NO_NEW_PRIVS, the filter, the listener sent over sock, then wait
 * for the supervisor's go. 0 or FFS_EIO (message on stderr). */
int ffs_sc_child_setup(int sock);
/* In the parent: receives the listener from sock and forks the supervisor process, which
 * clears the state dir's faultfs files, sends the go and answers every notification of
 * target's tasks until none is left. Returns the supervisor's pid, or a negative FFS_*
 * code with the reason in err (a plan the backend cannot carry out: FFS_EINVAL). */
int ffs_sc_parent_start(int sock, int target, const char *plan, const char *data_dir, uint64_t seed,
                        const char *state_dir, const char *trace_path, char *err, size_t errlen);
/* 1 if prog (PATH searched) is a static or Go binary (LD_PRELOAD cannot see it), 0 if not,
 * negative with the reason in err if it cannot be read. */
int ffs_sc_wants(const char *prog, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* FAULTFS_H */
