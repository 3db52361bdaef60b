/*
 * exec.c - the `exec` target: any program that speaks the exec line protocol
 * on stdin/stdout (docs/targets.md "exec protocol"), so engines in any
 * language can be tested.
 *
 *   --target 'exec:cmd=python3 examples/dbm_kv.py,contract=durable_ack+prefix'
 *   --target exec:./my-driver          (shorthand: a first option without '=')
 *
 * Options: cmd=SHELL COMMAND (run with /bin/sh -c, the data dir as $1 and in
 * $POWERCUT_DATA_DIR; no ',' inside), contract=FLAG+FLAG... (durable_ack,
 * process_safe, prefix, atomic_batch, close_syncs, or none; default none),
 * timeout=MS (per reply, default 30000), backend=preload|seccomp|auto (default preload;
 * invariant 7), reuse=1|0 (default 1; invariant 8).
 *
 * Invariants:
 *   (1) external = 1: the harness leaves the driver's own shim idle and exports
 *       FAULTFS_*; the program inherits LD_PRELOAD and that environment, so the
 *       plan fires inside the program. The recovery child has no FAULTFS_*, so
 *       the program's shim is idle there.
 *   (2) The program dying (EOF on its stdout, EPIPE on its stdin: a kill or a
 *       power cut fired inside it) turns the op in flight into PC_EGONE, and
 *       every later op too. SIGPIPE is ignored in this process.
 *   (3) One program per process for the whole workload: close() sends `close`
 *       and parks the program; the next open() with the same cmd sends `open`
 *       to it again. The shim inside the program therefore counts syscalls and
 *       keeps its undo log across a workload's reopen ops (a second program
 *       would re-initialise both).
 *   (4) The program dies with this process (PR_SET_PDEATHSIG = SIGKILL), so it
 *       never outlives the driver child: the end of the workload is a power
 *       cut, and nothing may write to the data dir after it. It runs in its
 *       own process group, which close() and the failure paths kill as a whole.
 *   (5) Replies are parsed by pc_exec_parse_reply only (exec_proto.h); a reply
 *       outside the grammar fails the op with the reason and desynchronises the
 *       session (every later op fails).
 *   (6) When FAULTFS_HANDSHAKE is set (the driver child of a case), a freshly
 *       spawned program must prove, once it answered `open`, that the shim is
 *       loaded in every process of its process group (its handshake line, or the
 *       shim mapped in a forked child): else open fails with PC_ENOSHIM and the
 *       case is an ERROR. A static binary would otherwise run unwatched and pass.
 *   (7) backend=seccomp (or auto on a static or Go program): in the workload phase the
 *       program runs under a seccomp filter whose supervisor (a process forked here,
 *       faultfs's ffs_sc_parent_start) counts and faults its calls instead of the shim;
 *       FAULTFS_PLAN and LD_PRELOAD are removed from its environment. A supervisor
 *       that cannot start fails open with PC_ENOSHIM and the reason.
 *   (8) Outside a workload (no FAULTFS_PLAN: the recovery, which runs open, scan,
 *       close for one crashed dir after another in one process, harness/recovery.c)
 *       a program is parked at close only with reuse=1, and a parked program is
 *       handed the next open only if it is still alive and wrote nothing since its
 *       close; otherwise it is dropped and the open starts a new one, so a program
 *       that died or misbehaved between two opens is never blamed on the second.
 *       Inside a workload invariant (3) holds as it is: the shim's counts and undo
 *       log live in that one program.
 *   (9) A simple command (none of SHELL_SPECIAL, not starting with `exec `) is
 *       split at blanks and exec'd directly (execvp), which is what `sh -c 'exec
 *       CMD'` does after its own start-up; anything else runs under /bin/sh -c.
 */
#define _GNU_SOURCE
#include "../harness_int.h"
#include "targets.h"
#include "exec_proto.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EX_MAX_LINE (256u << 20)   /* longest reply line accepted */
#define SHELL_SPECIAL ";&|<>()`{}!*?[]~#$='\"\\\n"   /* not a simple command */

/* ---- reply parser (exec_proto.h) ---- */

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void pc_exec_hex_encode(const void *p, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  const uint8_t *b = p;
  if (n == 0) {
    strcpy(out, "-");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
  out[2 * n] = '\0';
}

int pc_exec_hex_decode(const char *s, size_t n, uint8_t *out, size_t *outlen) {
  if (n == 1 && s[0] == '-') {
    *outlen = 0;
    return 0;
  }
  if (n == 0 || n % 2) return -1;
  for (size_t i = 0; i < n; i += 2) {
    int hi = hexval(s[i]), lo = hexval(s[i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  *outlen = n / 2;
  return 0;
}

void pc_exec_reply_free(pc_exec_reply *r) {
  if (!r) return;
  free(r->k);
  free(r->v);
  free(r->text);
  memset(r, 0, sizeof *r);
}

/* Decodes the HEX token s[0..n) into a fresh allocation. */
static int hex_token(const char *s, size_t n, uint8_t **out, size_t *outlen, const char *what,
                     char *msg, size_t msglen) {
  if (!(*out = malloc(n / 2 + 1))) return PC_ENOMEM;
  if (pc_exec_hex_decode(s, n, *out, outlen)) {
    snprintf(msg, msglen, "%s is not hex ('-' for empty, an even number of [0-9a-f])", what);
    free(*out);
    *out = NULL;
    return PC_EINVAL;
  }
  return 0;
}

int pc_exec_parse_reply(const char *line, size_t len, pc_exec_reply *r, char *msg, size_t msglen) {
  const char *sp;
  size_t wl;
  int rc = PC_EINVAL;
  memset(r, 0, sizeof *r);
  if (!line) {
    snprintf(msg, msglen, "no reply");
    return PC_EINVAL;
  }
  for (size_t i = 0; i < len; i++)
    if (line[i] == '\0' || line[i] == '\n' || line[i] == '\r') {
      snprintf(msg, msglen, "reply holds a %s byte at offset %zu",
               line[i] == '\0' ? "NUL" : line[i] == '\n' ? "newline" : "carriage-return", i);
      return PC_EINVAL;
    }
  sp = memchr(line, ' ', len);
  wl = sp ? (size_t)(sp - line) : len;
#define WORD(w) (wl == sizeof(w) - 1 && !memcmp(line, w, wl))
  if (WORD("err")) {
    /* the message is free text; keep it printable */
    size_t off = sp ? wl + 1 : len, n = len - off;
    if (!(r->text = malloc(n + 1))) return PC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)line[off + i];
      r->text[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    r->text[n] = '\0';
    r->kind = PC_EXEC_ERR;
    return 0;
  }
  if (WORD("ok") || WORD("notfound") || WORD("end")) {
    pc_exec_kind k = WORD("ok") ? PC_EXEC_OK : WORD("notfound") ? PC_EXEC_NOTFOUND : PC_EXEC_END;
    if (!sp) {
      r->kind = k;
      return 0;
    }
    if (k != PC_EXEC_OK) {
      snprintf(msg, msglen, "'%.*s' takes no argument", (int)wl, line);
      return PC_EINVAL;
    }
    {
      const char *a = sp + 1;
      size_t an = len - wl - 1;
      if (memchr(a, ' ', an)) {
        snprintf(msg, msglen, "'ok' takes one value");
        return PC_EINVAL;
      }
      if ((rc = hex_token(a, an, &r->v, &r->vlen, "the value of 'ok'", msg, msglen))) return rc;
      r->kind = PC_EXEC_OK_VALUE;
      return 0;
    }
  }
  if (WORD("kv")) {
    const char *a = sp ? sp + 1 : NULL, *b;
    size_t an, bn;
    if (!a) {
      snprintf(msg, msglen, "'kv' needs a key and a value");
      return PC_EINVAL;
    }
    b = memchr(a, ' ', len - (size_t)(a - line));
    if (!b) {
      snprintf(msg, msglen, "'kv' needs a key and a value");
      return PC_EINVAL;
    }
    an = (size_t)(b - a);
    b++;
    bn = len - (size_t)(b - line);
    if (memchr(b, ' ', bn)) {
      snprintf(msg, msglen, "'kv' takes exactly a key and a value");
      return PC_EINVAL;
    }
    if ((rc = hex_token(a, an, &r->k, &r->klen, "the key of 'kv'", msg, msglen))) goto fail;
    if ((rc = hex_token(b, bn, &r->v, &r->vlen, "the value of 'kv'", msg, msglen))) goto fail;
    r->kind = PC_EXEC_KV;
    return 0;
  }
#undef WORD
  snprintf(msg, msglen, "unknown reply '%.*s' (ok, notfound, kv, end, err)", (int)(wl > 32 ? 32 : wl),
           line);
  return PC_EINVAL;
fail:
  pc_exec_reply_free(r);
  return rc;
}

/* ---- options ---- */

typedef struct ex_conf {
  char cmd[512];
  unsigned contract;
  int timeout_ms;
  int backend;          /* EX_PRELOAD, EX_SECCOMP, EX_AUTO */
  int reuse;            /* park the program at close outside a workload too (invariant 8) */
} ex_conf;

static const struct {
  const char *name;
  unsigned flag;
} contract_names[] = {
  {"durable_ack", PC_CONTRACT_DURABLE_ACK}, {"process_safe", PC_CONTRACT_PROCESS_SAFE}, {"prefix", PC_CONTRACT_PREFIX},
  {"atomic_batch", PC_CONTRACT_ATOMIC_BATCH}, {"close_syncs", PC_CONTRACT_CLOSE_SYNCS}, {"none", 0},
};

static int parse_contract(const char *val, unsigned *out, char *msg, size_t len) {
  char buf[256], *save = NULL, *tok;
  *out = 0;
  if (strlen(val) >= sizeof buf) {
    snprintf(msg, len, "exec: contract too long");
    return PC_EINVAL;
  }
  strcpy(buf, val);
  for (tok = strtok_r(buf, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
    size_t i, n = sizeof contract_names / sizeof *contract_names;
    for (i = 0; i < n && strcmp(tok, contract_names[i].name); i++) {}
    if (i == n) {
      snprintf(msg, len, "exec: unknown contract flag '%s' (durable_ack, process_safe, prefix, "
               "atomic_batch, close_syncs, none; joined with '+')", tok);
      return PC_EINVAL;
    }
    *out |= contract_names[i].flag;
  }
  return 0;
}

enum { EX_PRELOAD, EX_SECCOMP, EX_AUTO };

static int build_conf(const char *opts, ex_conf *c, char *msg, size_t len) {
  char buf[1024], *save = NULL, *tok;
  int first = 1, rc;
  memset(c, 0, sizeof *c);
  c->timeout_ms = 30000;
  c->reuse = 1;
  if (!opts || strlen(opts) >= sizeof buf) {
    snprintf(msg, len, "exec: options missing or too long (need cmd=COMMAND)");
    return PC_EINVAL;
  }
  strcpy(buf, opts);
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), first = 0) {
    char *eq = strchr(tok, '=');
    const char *val = eq ? eq + 1 : NULL;
    if (!eq) {
      if (!first) {
        snprintf(msg, len, "exec: option '%s' is not name=value", tok);
        return PC_EINVAL;
      }
      val = tok;   /* exec:COMMAND shorthand */
    } else {
      *eq = '\0';
    }
    if (!eq || !strcmp(tok, "cmd")) {
      if (!*val || strlen(val) >= sizeof c->cmd) {
        snprintf(msg, len, "exec: cmd is empty or longer than %zu bytes", sizeof c->cmd - 1);
        return PC_EINVAL;
      }
      snprintf(c->cmd, sizeof c->cmd, "%s", val);
    } else if (!strcmp(tok, "contract")) {
      if ((rc = parse_contract(val, &c->contract, msg, len))) return rc;
    } else if (!strcmp(tok, "timeout")) {
      uint64_t ms;
      if ((rc = pc_opt_u64(tok, val, &ms, msg, len))) return rc;
      if (ms < 1 || ms > 3600000) {
        snprintf(msg, len, "exec: timeout %s ms out of range (1..3600000)", val);
        return PC_EINVAL;
      }
      c->timeout_ms = (int)ms;
    } else if (!strcmp(tok, "backend")) {
      if (!strcmp(val, "preload")) c->backend = EX_PRELOAD;
      else if (!strcmp(val, "seccomp")) c->backend = EX_SECCOMP;
      else if (!strcmp(val, "auto")) c->backend = EX_AUTO;
      else {
        snprintf(msg, len, "exec: backend '%s' unknown (preload, seccomp, auto)", val);
        return PC_EINVAL;
      }
    } else if (!strcmp(tok, "reuse")) {
      if ((rc = pc_opt_bool(tok, val, &c->reuse, msg, len))) return rc;
    } else {
      snprintf(msg, len, "exec: unknown option '%s' (cmd, contract, timeout, backend, reuse)", tok);
      return PC_EINVAL;
    }
  }
  if (!c->cmd[0]) {
    snprintf(msg, len, "exec: missing cmd= (the program that speaks the exec protocol)");
    return PC_EINVAL;
  }
  return 0;
}

static int t_check_opts(const char *opts, const char *wopts, char *msg, size_t len) {
  ex_conf c;
  (void)wopts;   /* workload hints are for in-process engines */
  return build_conf(opts, &c, msg, len);
}

static unsigned t_contract(const char *opts) {
  ex_conf c;
  char msg[256];
  return build_conf(opts, &c, msg, sizeof msg) ? 0 : c.contract;
}

/* ---- the program ---- */

typedef struct ex_proc {
  pid_t pid;
  pid_t sup;               /* its seccomp supervisor, or -1 (preload) */
  int to, from;            /* its stdin (we write), its stdout (we read) */
  char *buf;               /* read buffer: unread bytes are buf[start, start+n) */
  size_t start, n, cap;
  char cmd[512];
} ex_proc;

typedef struct ex_target {
  ex_proc p;
  ex_conf conf;
  int gone;                /* the program died: every op is PC_EGONE */
  int broken;              /* a reply broke the protocol: every op fails */
  char *req;               /* request buffer */
  size_t reqlen, reqcap;
  char msg[768];
} ex_target;

static ex_proc parked;     /* invariant (3) */
static int have_parked;
static pid_t parked_owner; /* a forked child must not reuse its parent's program */

static void reap(ex_proc *p, int grace_ms) {
  int status;
  if (p->to >= 0) close(p->to);
  if (p->from >= 0) close(p->from);
  p->to = p->from = -1;
  if (p->pid > 0) {
    int gone = 0;
    for (int waited = 0; waited < grace_ms && !gone; waited += 5) {
      if (waitpid(p->pid, &status, WNOHANG) != 0) gone = 1;
      else nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    /* the program's own process group: whatever a compound command started too */
    kill(-p->pid, SIGKILL);
    if (!gone) {
      kill(p->pid, SIGKILL);
      waitpid(p->pid, &status, 0);
    }
  }
  p->pid = -1;
  if (p->sup > 0) { /* gone by itself once the program is; never left behind */
    kill(p->sup, SIGKILL);
    waitpid(p->sup, &status, 0);
  }
  p->sup = -1;
  free(p->buf);
  p->buf = NULL;
  p->start = p->n = p->cap = 0;
}

/* 1 if this spawn runs under the seccomp supervisor: only while a plan is exported (the
 * workload phase; recovery runs unwatched), for backend=seccomp, or backend=auto and a
 * static or Go program as the command's first word. */
static int use_seccomp(const ex_conf *c, char *msg, size_t len) {
  const char *plan = getenv(FFS_ENV_PLAN);
  if (!plan || c->backend == EX_PRELOAD) return 0;
  if (c->backend == EX_SECCOMP) return 1;
  char prog[512], err[512];
  size_t n = strcspn(c->cmd, " \t");
  snprintf(prog, sizeof prog, "%.*s", (int)n, c->cmd);
  int w = ffs_sc_wants(prog, err, sizeof err);
  if (w < 0) snprintf(msg, len, "exec: backend=auto: %s", err);
  return w;
}

static int spawn(const ex_conf *c, const char *dir, ex_proc *p, char *msg, size_t len) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, sv[2] = {-1, -1}, rc = PC_ESETUP;
  pid_t parent = getpid(), pid;
  memset(p, 0, sizeof *p);
  p->to = p->from = -1;
  p->pid = -1;
  p->sup = -1;
  int sc = use_seccomp(c, msg, len);
  if (sc < 0) return PC_ESETUP;
  if (sc && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    snprintf(msg, len, "exec: socketpair: %s", strerror(errno));
    return PC_ESETUP;
  }
  signal(SIGPIPE, SIG_IGN);   /* invariant (2): EPIPE instead of a signal */
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
    snprintf(msg, len, "exec: pipe: %s", strerror(errno));
    goto fail;
  }
  if ((pid = fork()) < 0) {
    snprintf(msg, len, "exec: fork for '%s': %s", c->cmd, strerror(errno));
    goto fail;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* invariant (4) */
    if (getppid() != parent) _exit(127);
    setpgid(0, 0);                      /* its own group, killed as one by reap() */
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) _exit(127);
    signal(SIGPIPE, SIG_DFL);
    setenv("POWERCUT_DATA_DIR", dir, 1);
    setenv("PYTHONHASHSEED", "0", 0);          /* deterministic mode for Python drivers */
    setenv("PYTHONDONTWRITEBYTECODE", "1", 0);
    if (sc) { /* the supervisor watches: the preloaded shim stays out of it */
      unsetenv(FFS_ENV_PLAN);
      unsetenv("LD_PRELOAD");
      close(sv[0]);
      if (ffs_sc_child_setup(sv[1]) < 0) _exit(127);
      close(sv[1]);
    }
    /* A simple command (no quoting, expansion or operator: invariant 9) is
     * split into its words and exec'd here, as `sh -c 'exec CMD'` would, without
     * the shell's own start-up; the program itself is our child and gets
     * PR_SET_PDEATHSIG (invariant 4). A compound command runs as written
     * (document: end it with `exec PROGRAM`). */
    if (!strpbrk(c->cmd, SHELL_SPECIAL) && strncmp(c->cmd, "exec ", 5)) {
      char words[sizeof c->cmd], *argv[sizeof c->cmd / 2 + 1], *save = NULL;
      size_t n = 0;
      snprintf(words, sizeof words, "%s", c->cmd);
      for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) argv[n++] = w;
      argv[n] = NULL;
      if (n) {
        execvp(argv[0], argv);
        dprintf(2, "powercut-exec: %s: %s\n", argv[0], strerror(errno));
      }
    } else {
      execl("/bin/sh", "sh", "-c", c->cmd, "powercut-exec", dir, (char *)NULL);
    }
    _exit(127);
  }
  setpgid(pid, pid);   /* also here: whichever of parent and child runs first */
  close(in[0]);
  close(out[1]);
  p->pid = pid;
  if (sc) {
    const char *seed = getenv(FFS_ENV_SEED), *trace = getenv(FFS_ENV_TRACE);
    char err[512];
    close(sv[1]);
    sv[1] = -1;
    p->sup = ffs_sc_parent_start(sv[0], pid, getenv(FFS_ENV_PLAN), getenv(FFS_ENV_DIR) ? getenv(FFS_ENV_DIR) : dir,
                                 seed ? strtoull(seed, NULL, 10) : 0, getenv(FFS_ENV_STATE), trace, err, sizeof err);
    close(sv[0]);
    sv[0] = -1;
    if (p->sup < 0) {
      snprintf(msg, len, "exec: seccomp backend for '%s': %s", c->cmd, err);
      p->sup = -1;
      close(in[1]);
      close(out[0]);
      in[1] = out[0] = -1;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      p->pid = -1;
      rc = PC_ENOSHIM; /* not the target's failure: the case cannot be watched (invariant 6) */
      goto fail;
    }
  }
  p->to = in[1];
  p->from = out[0];
  snprintf(p->cmd, sizeof p->cmd, "%s", c->cmd);
  return 0;
fail:
  for (int i = 0; i < 2; i++) {
    if (in[i] >= 0) close(in[i]);
    if (out[i] >= 0) close(out[i]);
    if (sv[i] >= 0) close(sv[i]);
  }
  return rc;
}

static int gone(ex_target *t, const char *what) {
  snprintf(t->msg, sizeof t->msg, "exec: program '%s' is gone (%s)", t->conf.cmd, what);
  t->gone = 1;
  return PC_EGONE;
}

static int send_all(ex_target *t, const char *data, size_t n) {
  while (n) {
    ssize_t w = write(t->p.to, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EPIPE) return gone(t, "EPIPE writing a request");
    if (w < 0) {
      snprintf(t->msg, sizeof t->msg, "exec: write to '%s': %s", t->conf.cmd, strerror(errno));
      return PC_EIO;
    }
    data += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Next reply line (without its newline) in line and len, valid until the next call. */
static int read_line(ex_target *t, const char **line, size_t *len) {
  ex_proc *p = &t->p;
  for (;;) {
    char *nl = p->n ? memchr(p->buf + p->start, '\n', p->n) : NULL;
    if (nl) {
      *line = p->buf + p->start;
      *len = (size_t)(nl - *line);
      p->start += *len + 1;
      p->n -= *len + 1;
      return 0;
    }
    if (p->start && p->n) memmove(p->buf, p->buf + p->start, p->n);
    p->start = 0;
    if (p->n == p->cap) {
      size_t cap = p->cap ? p->cap * 2 : 65536;
      char *b;
      if (p->cap >= EX_MAX_LINE) {
        snprintf(t->msg, sizeof t->msg, "exec: reply line longer than %u bytes", EX_MAX_LINE);
        t->broken = 1;
        return PC_ETARGET;
      }
      if (!(b = realloc(p->buf, cap))) return PC_ENOMEM;
      p->buf = b;
      p->cap = cap;
    }
    struct pollfd pfd = {p->from, POLLIN, 0};
    int pr = poll(&pfd, 1, t->conf.timeout_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) {
      snprintf(t->msg, sizeof t->msg, "exec: no reply from '%s' within %d ms", t->conf.cmd,
               t->conf.timeout_ms);
      t->broken = 1;
      return PC_ETIMEOUT;
    }
    ssize_t r = read(p->from, p->buf + p->n, p->cap - p->n);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return gone(t, p->n ? "EOF inside a reply line" : "EOF waiting for a reply");
    if (r < 0) {
      snprintf(t->msg, sizeof t->msg, "exec: read from '%s': %s", t->conf.cmd, strerror(errno));
      return PC_EIO;
    }
    p->n += (size_t)r;
  }
}

static int next_reply(ex_target *t, const char *op, pc_exec_reply *r) {
  const char *line;
  size_t len;
  char why[256];
  int rc = read_line(t, &line, &len);
  if (rc) return rc;
  if ((rc = pc_exec_parse_reply(line, len, r, why, sizeof why))) {
    if (rc == PC_ENOMEM) return rc;
    snprintf(t->msg, sizeof t->msg, "exec: malformed reply to '%s' from '%s': %s: \"%.*s\"", op,
             t->conf.cmd, why, (int)(len > 80 ? 80 : len), line);
    t->broken = 1;
    return PC_ETARGET;
  }
  return 0;
}

/* ---- requests ---- */

static int req_room(ex_target *t, size_t more) {
  if (t->reqlen + more + 1 > t->reqcap) {
    size_t cap = t->reqcap ? t->reqcap : 256;
    char *b;
    while (cap < t->reqlen + more + 1) cap *= 2;
    if (!(b = realloc(t->req, cap))) return PC_ENOMEM;
    t->req = b;
    t->reqcap = cap;
  }
  return 0;
}

static int req_str(ex_target *t, const char *s) {
  size_t n = strlen(s);
  if (req_room(t, n)) return PC_ENOMEM;
  memcpy(t->req + t->reqlen, s, n + 1);
  t->reqlen += n;
  return 0;
}

static int req_hex(ex_target *t, const void *p, size_t n) {
  if (req_room(t, 2 * n + 2)) return PC_ENOMEM;
  t->req[t->reqlen++] = ' ';
  pc_exec_hex_encode(p, n, t->req + t->reqlen);
  t->reqlen += n ? 2 * n : 1;
  return 0;
}

static int usable(ex_target *t) {
  if (t->gone) return PC_EGONE;
  if (t->broken) return PC_ETARGET;
  t->reqlen = 0;
  return 0;
}

/* Sends the request built in t->req and expects a bare "ok". */
static int call_ok(ex_target *t, const char *op) {
  pc_exec_reply r;
  int rc;
  if ((rc = send_all(t, t->req, t->reqlen)) || (rc = next_reply(t, op, &r))) return rc;
  if (r.kind == PC_EXEC_OK) rc = 0;
  else if (r.kind == PC_EXEC_ERR) {
    snprintf(t->msg, sizeof t->msg, "exec: %s: %s", op, r.text);
    rc = PC_ETARGET;
  } else {
    snprintf(t->msg, sizeof t->msg, "exec: protocol error: '%s' must be answered with ok or err", op);
    t->broken = 1;
    rc = PC_ETARGET;
  }
  pc_exec_reply_free(&r);
  return rc;
}

/* ---- invariant (6): is the shim loaded in the program? ---- */

/* Process group of pid from /proc/PID/stat (field 5, after the parenthesised name). */
static int proc_pgrp(int pid) {
  char path[64], buf[512], *rp;
  int fd, pgrp = -1;
  ssize_t n;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return -1;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  if (!(rp = strrchr(buf, ')')) || sscanf(rp + 1, " %*c %*d %d", &pgrp) != 1) return -1;
  return pgrp;
}

/* 1 if the file `lib` is mapped in pid (a forked child keeps its parent's shim). */
static int proc_maps_has(int pid, const char *lib) {
  char path[64], line[4352];
  FILE *f;
  int found = 0;
  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  if (!lib[0] || !(f = fopen(path, "re"))) return 0;
  while (!found && fgets(line, sizeof line, f)) {
    char *nl = strchr(line, '\n'), *sl = strchr(line, '/');
    if (nl) *nl = '\0';
    found = sl && !strcmp(sl, lib);
  }
  fclose(f);
  return found;
}

/* First process of the group pgid whose current image shows no sign of the shim, or 0. */
static int unwatched_member(int pgid, const ffs_handshake *hs, const char *lib, char *exe, size_t exelen) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int bad = 0;
  if (!d) return 0;
  while (!bad && (e = readdir(d))) {
    char link[64];
    int pid = atoi(e->d_name);
    ssize_t n;
    if (pid <= 0 || proc_pgrp(pid) != pgid) continue;
    snprintf(link, sizeof link, "/proc/%d/exe", pid);
    if ((n = readlink(link, exe, exelen - 1)) <= 0) continue; /* exited meanwhile */
    exe[n] = '\0';
    if (!ffs_handshake_loaded(hs, pid, exe) && !proc_maps_has(pid, lib)) bad = pid;
  }
  closedir(d);
  return bad;
}

static int check_shim(ex_target *t, const char *hspath, char *msg, size_t len) {
  char lib[4096] = "", exe[4096] = "";
  Dl_info di;
  void *cfg = dlsym(RTLD_DEFAULT, FFS_SHIM_CONFIGURE_SYM);
  int bad = 0;
  if (cfg && dladdr(cfg, &di) && di.dli_fname) {
    if (!realpath(di.dli_fname, lib)) snprintf(lib, sizeof lib, "%s", di.dli_fname);
  }
  /* a process of the group may be between exec and the loader running the shim's
   * constructor: look again for up to ~0.5 s before calling it unwatched */
  for (int round = 0; round < 50; round++) {
    ffs_handshake hs;
    if (ffs_handshake_read(hspath, &hs) < 0) {
      snprintf(msg, len, "exec: cannot read the shim's handshake file %s", hspath);
      return PC_ESETUP;
    }
    bad = unwatched_member(t->p.pid, &hs, lib, exe, sizeof exe);
    ffs_handshake_free(&hs);
    if (!bad) return 0;
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
  snprintf(msg, len, "exec: the shim was not loaded in '%s' (pid %d, %s): static binary? powercut "
           "cannot see, count or fault what it does", t->conf.cmd, bad, exe);
  return PC_ENOSHIM;
}

/* Invariant (8): outside a workload a parked program is reused only while it is
 * alive and has written nothing since its close. */
static int parked_quiet(const ex_proc *p) {
  siginfo_t si;
  struct pollfd pfd = {p->from, POLLIN, 0};
  memset(&si, 0, sizeof si);
  if (p->n || p->sup > 0) return 0;
  if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid != 0) return 0;
  return poll(&pfd, 1, 0) == 0;
}

static int t_open(const char *dir, const char *opts, const char *wopts, void **h, char *msg,
                  size_t len) {
  ex_target *t;
  int rc;
  (void)wopts;
  if (!(t = calloc(1, sizeof *t))) return PC_ENOMEM;
  t->p.to = t->p.from = t->p.pid = -1;
  if ((rc = build_conf(opts, &t->conf, msg, len))) goto fail;
  if (have_parked && parked_owner != getpid()) {
    /* inherited through fork: the program belongs to the parent; drop our copies */
    close(parked.to);
    close(parked.from);
    free(parked.buf);
    have_parked = 0;
  }
  int fresh = 0;
  if (have_parked && !strcmp(parked.cmd, t->conf.cmd) && (getenv(FFS_ENV_PLAN) || parked_quiet(&parked))) {
    t->p = parked;
    have_parked = 0;
  } else {
    if (have_parked) {
      reap(&parked, 0);
      have_parked = 0;
    }
    if ((rc = spawn(&t->conf, dir, &t->p, msg, len))) goto fail;
    fresh = 1;
  }
  t->reqlen = 0;
  if ((rc = req_str(t, "open ")) || (rc = req_str(t, dir)) || (rc = req_str(t, "\n"))) goto fail;
  if ((rc = call_ok(t, "open"))) {
    snprintf(msg, len, "%s", t->msg);
    goto fail;
  }
  {
    const char *hs = getenv(FFS_ENV_HANDSHAKE);
    /* under seccomp the supervisor sees the calls in the kernel: no shim to check */
    if (fresh && t->p.sup < 0 && hs && *hs && (rc = check_shim(t, hs, msg, len))) goto fail;
  }
  *h = t;
  return 0;
fail:
  reap(&t->p, 0);
  free(t->req);
  free(t);
  return rc;
}

static int t_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int sync) {
  ex_target *t = h;
  int rc;
  if ((rc = usable(t)) || (rc = req_str(t, "put")) || (rc = req_hex(t, k, kl)) ||
      (rc = req_hex(t, v, vl)) || (rc = req_str(t, sync ? " 1\n" : " 0\n")))
    return rc;
  return call_ok(t, "put");
}

static int t_del(void *h, const void *k, size_t kl, int sync) {
  ex_target *t = h;
  int rc;
  if ((rc = usable(t)) || (rc = req_str(t, "del")) || (rc = req_hex(t, k, kl)) ||
      (rc = req_str(t, sync ? " 1\n" : " 0\n")))
    return rc;
  return call_ok(t, "del");
}

static int t_batch(void *h, const pc_kv_op *ops, size_t n, int sync) {
  ex_target *t = h;
  char head[64];
  int rc;
  if ((rc = usable(t))) return rc;
  snprintf(head, sizeof head, "batch %zu %d\n", n, sync ? 1 : 0);
  if ((rc = req_str(t, head))) return rc;
  for (size_t i = 0; i < n; i++) {
    if (ops[i].kind == PC_OP_DEL) rc = req_str(t, "del") || req_hex(t, ops[i].k, ops[i].klen) || req_str(t, "\n");
    else
      rc = req_str(t, "put") || req_hex(t, ops[i].k, ops[i].klen) ||
           req_hex(t, ops[i].v, ops[i].vlen) || req_str(t, "\n");
    if (rc) return PC_ENOMEM;
  }
  return call_ok(t, "batch");
}

static int t_get(void *h, const void *k, size_t kl, void **v, size_t *vl) {
  ex_target *t = h;
  pc_exec_reply r;
  int rc;
  if ((rc = usable(t)) || (rc = req_str(t, "get")) || (rc = req_hex(t, k, kl)) ||
      (rc = req_str(t, "\n")) || (rc = send_all(t, t->req, t->reqlen)) ||
      (rc = next_reply(t, "get", &r)))
    return rc;
  switch (r.kind) {
  case PC_EXEC_OK_VALUE:
    *v = r.v;
    *vl = r.vlen;
    r.v = NULL;
    rc = 1;
    break;
  case PC_EXEC_NOTFOUND: rc = 0; break;
  case PC_EXEC_ERR:
    snprintf(t->msg, sizeof t->msg, "exec: get: %s", r.text);
    rc = PC_ETARGET;
    break;
  default:
    snprintf(t->msg, sizeof t->msg, "exec: protocol error: 'get' must be answered with ok HEX, "
             "notfound or err");
    t->broken = 1;
    rc = PC_ETARGET;
  }
  pc_exec_reply_free(&r);
  return rc;
}

static int t_scan(void *h, pc_scan_fn fn, void *arg) {
  ex_target *t = h;
  pc_exec_reply r;
  int rc, cb = 0;
  if ((rc = usable(t)) || (rc = req_str(t, "scan\n")) || (rc = send_all(t, t->req, t->reqlen)))
    return rc;
  for (;;) {
    if ((rc = next_reply(t, "scan", &r))) return rc;
    if (r.kind == PC_EXEC_KV) {
      /* keep reading to 'end' even after the callback stopped: stay in sync */
      if (!cb) cb = fn(arg, r.k, r.klen, r.v, r.vlen);
    } else if (r.kind == PC_EXEC_END) {
      rc = cb;
      break;
    } else if (r.kind == PC_EXEC_ERR) {
      snprintf(t->msg, sizeof t->msg, "exec: scan: %s", r.text);
      rc = PC_ETARGET;
      break;
    } else {
      snprintf(t->msg, sizeof t->msg, "exec: protocol error: 'scan' must be answered with kv "
               "lines then end, or err");
      t->broken = 1;
      rc = PC_ETARGET;
      break;
    }
    pc_exec_reply_free(&r);
  }
  pc_exec_reply_free(&r);
  return rc;
}

static int simple(void *h, const char *line, const char *op) {
  ex_target *t = h;
  int rc;
  if ((rc = usable(t)) || (rc = req_str(t, line))) return rc;
  return call_ok(t, op);
}

static int t_sync(void *h) { return simple(h, "sync\n", "sync"); }
static int t_flush(void *h) { return simple(h, "flush\n", "flush"); }

/* invariants (3) and (8): a program that closed cleanly is parked for the next open */
static int t_close(void *h) {
  ex_target *t = h;
  int rc = simple(h, "close\n", "close");
  if (rc == 0 && (t->conf.reuse || getenv(FFS_ENV_PLAN))) {
    if (have_parked) reap(&parked, 0);
    parked = t->p;
    have_parked = 1;
    parked_owner = getpid();
  } else {
    reap(&t->p, 0);
  }
  free(t->req);
  free(t);
  return rc;
}

static const char *t_errmsg(void *h) { return ((ex_target *)h)->msg; }

const pc_target pc_target_exec = {
  .abi = PC_TARGET_ABI,
  .name = "exec",
  .about = "any program speaking the exec line protocol on stdin/stdout (docs/targets.md); runs under "
           "the shim; its contract is what contract= declares (none by default)",
  .options_help = "cmd=COMMAND (sh -c; data dir as $1 and $POWERCUT_DATA_DIR; no ',') "
                  "contract=durable_ack+process_safe+prefix+atomic_batch+close_syncs|none timeout=MS "
                  "backend=preload|seccomp|auto reuse=1|0",
  .contract_for = t_contract,
  .check_opts = t_check_opts,
  .open = t_open,
  .put = t_put,
  .del = t_del,
  .batch = t_batch,
  .get = t_get,
  .scan = t_scan,
  .sync = t_sync,
  .flush = t_flush,
  .close = t_close,
  .errmsg = t_errmsg,
  .external = 1,
  .thread_note = "one pipe to one program: requests are not concurrent",
};
