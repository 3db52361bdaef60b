/*
 * recovery.c - the fault-free recovery of a case (step 3 of runner.c): open the
 * target on the crashed data dir, time the open, read back every key, and hand
 * the state to the worker in a file: "PCRS", i64 open time in us, then
 * (u32 klen, u32 vlen, key, value)*, u32 ~0.
 *
 * An in-process target recovers in a fresh child per case: a crash or a hang of
 * the engine is the case's verdict, and the next case must not inherit its
 * memory. An external target (exec: the engine is a program of its own) recovers
 * in the worker's recovery server, a long-lived child that runs open, scan and
 * close through the target interface for case after case. The exec adapter parks
 * its program at close and hands it the next open (exec.c invariant 3), so one
 * program recovers many crash states instead of one program per case.
 *
 * Invariants:
 *   (1) Same verdicts as a fresh child: the server answers a case with PC_RS_DONE
 *       only once its state file is complete. Any other end of a case (open or
 *       scan failed) is the server's _exit with the code a fresh recovery child
 *       exits with, after the same message in the same file; a server killed by a
 *       signal gives that status; a server that does not answer within the
 *       worker's timeout is killed (SIGKILL) and the case is a hang. A server that
 *       ended a case in any of these ways is gone: the next case gets a new one,
 *       with a new program.
 *   (2) No death is blamed on the wrong case: before each request the worker
 *       checks that the server is alive and starts a new one if not, and the exec
 *       adapter checks a parked program (alive, nothing written out of turn)
 *       before it reuses it, else starts a new one.
 *   (3) The program is idle before the next case starts: after PC_RS_DONE the
 *       server closes the target and answers PC_RS_CLOSED (the close went well)
 *       or PC_RS_DROPPED (it failed: the adapter dropped the program); the worker
 *       waits for that before it returns. A close that does not end within the
 *       timeout costs the server (killed), never a verdict.
 *   (4) The server never outlives its worker: it dies with it (PR_SET_PDEATHSIG),
 *       it is in the worker's process group (a campaign stops its workers with
 *       killpg), and pc_recovery_stop ends it; its program dies with it (exec.c
 *       invariant 4).
 *   (5) Cases with a recovery plan run their interrupted recovery (under the plan)
 *       in a fresh child as before (runner.c); only their fault-free recovery goes
 *       to the server. Cases on a real file system (kernel-* models: the data dir
 *       is remounted per case) keep a fresh child.
 */
#define _GNU_SOURCE
#include "harness_int.h"
#include "targets/targets.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PC_RS_DONE 'k'     /* the state file is complete */
#define PC_RS_CLOSED 'c'   /* the target closed: the program is parked for the next case */
#define PC_RS_DROPPED 'x'  /* close failed: the adapter dropped its program */

typedef struct rs_request {
  pc_case c;
  char data[1100], recov[1100];
} rs_request;

static uint64_t servers_started;

uint64_t pc_recovery_servers_started(void) { return servers_started; }

static void put_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) {}
  close(fd);
}

typedef struct scan_out {
  FILE *f;
} scan_out;

static int scan_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl) {
  scan_out *s = arg;
  uint32_t h[2] = {(uint32_t)kl, (uint32_t)vl};
  if (fwrite(h, sizeof h, 1, s->f) != 1 || fwrite(k, 1, kl, s->f) != kl ||
      fwrite(v, 1, vl, s->f) != vl)
    return PC_EIO;
  return 0;
}

static int recover(const char *data, const char *recov, const pc_case *c, const pc_target *t,
                   const wl_params *wp, void **h) {
  return pc_recover_into(t, data, c->target_opts, wp->target_opts, recov, h);
}

int pc_recover_into(const pc_target *t, const char *data, const char *topts, const char *wopts, const char *recov,
                    void **h) {
  char msg[1024];
  int64_t t0 = pc_now_us(), us;
  int rc = t->open(data, topts, wopts, h, msg, sizeof msg);
  FILE *f;
  scan_out s;
  uint32_t end = UINT32_MAX;
  us = pc_now_us() - t0;
  if (rc) {
    put_text(recov, msg);
    return rc == PC_ETIMEOUT ? PC_EXIT_RECOVERY_HANG : PC_EXIT_RECOVERY_OPEN;
  }
  if (!(f = fopen(recov, "we"))) return PC_EXIT_RECOVERY_SCAN;
  fwrite("PCRS", 4, 1, f);
  fwrite(&us, sizeof us, 1, f);
  s.f = f;
  if ((rc = t->scan(*h, scan_cb, &s))) {
    fclose(f);
    snprintf(msg, sizeof msg, "full scan after recovery failed: %d %s", rc, t->errmsg ? t->errmsg(*h) : "");
    put_text(recov, msg);
    return PC_EXIT_RECOVERY_SCAN;
  }
  fwrite(&end, sizeof end, 1, f);
  if (fclose(f)) return PC_EXIT_RECOVERY_SCAN;
  snprintf(msg, sizeof msg, "%s.ckpt", recov); /* the checkpoints, for the oracle */
  if (pc_checkpoints_dump(t, data, topts, wopts, msg)) {
    snprintf(msg, sizeof msg, "reading back the checkpoints in %s failed", data);
    put_text(recov, msg);
    return PC_EXIT_RECOVERY_SCAN;
  }
  return 0;
}

/* ---- one fresh child per case ---- */

static int fresh_child(pc_worker *w, const pc_case *c, const pc_target *t, const wl_params *wp, int *status) {
  pid_t pid;
  fflush(NULL);
  if ((pid = fork()) < 0) return PC_ESETUP;
  if (pid == 0) {
    void *h = NULL;
    _exit(recover(w->data, w->recov, c, t, wp, &h)); /* no close: recovery only reads */
  }
  return pc_wait_child(pid, w->timeout_ms, status);
}

/* ---- the recovery server ---- */

static int read_full(int fd, void *p, size_t n) {
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue; /* the worker decides what a signal means */
    if (r <= 0) return -1;
    p = (char *)p + r;
    n -= (size_t)r;
  }
  return 0;
}

static int write_full(int fd, const void *p, size_t n) {
  while (n) {
    ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p = (const char *)p + r;
    n -= (size_t)r;
  }
  return 0;
}

static void server_main(int from, int to, pid_t parent) {
  rs_request q;
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* invariant (4) */
  if (getppid() != parent) _exit(0);
  signal(SIGPIPE, SIG_IGN);
  for (;;) {
    const pc_target *t;
    wl_params wp;
    char err[512];
    void *h = NULL;
    int code;
    if (read_full(from, &q, sizeof q)) _exit(0); /* EOF: the worker stopped us */
    if (!(t = pc_target_find(q.c.target)) || wl_spec_parse(q.c.workload, &wp, err, sizeof err)) {
      put_text(q.recov, "the recovery server could not resolve the case's target or workload");
      _exit(PC_EXIT_RECOVERY_OPEN);
    }
    if ((code = recover(q.data, q.recov, &q.c, t, &wp, &h))) _exit(code); /* invariant (1) */
    if (write_full(to, (char[]){PC_RS_DONE}, 1)) _exit(0);
    char done = t->close(h) ? PC_RS_DROPPED : PC_RS_CLOSED; /* invariant (3) */
    if (write_full(to, &done, 1)) _exit(0);
  }
}

static void server_kill(pc_worker *w, int *status) {
  int st;
  if (w->rs_to >= 0) close(w->rs_to);
  if (w->rs_from >= 0) close(w->rs_from);
  w->rs_to = w->rs_from = -1;
  if (w->rs_pid > 0) {
    kill(w->rs_pid, SIGKILL);
    while (waitpid(w->rs_pid, &st, 0) < 0 && errno == EINTR) {}
    if (status) *status = st;
  }
  w->rs_pid = 0;
}

static int server_start(pc_worker *w) {
  int req[2], rep[2];
  pid_t pid, parent = getpid();
  if (pipe2(req, O_CLOEXEC)) return PC_ESETUP;
  if (pipe2(rep, O_CLOEXEC)) {
    close(req[0]);
    close(req[1]);
    return PC_ESETUP;
  }
  fflush(NULL);
  if ((pid = fork()) < 0) {
    close(req[0]);
    close(req[1]);
    close(rep[0]);
    close(rep[1]);
    return PC_ESETUP;
  }
  if (pid == 0) {
    close(req[1]);
    close(rep[0]);
    server_main(req[0], rep[1], parent);
  }
  close(req[0]);
  close(rep[1]);
  w->rs_pid = pid;
  w->rs_to = req[1];
  w->rs_from = rep[0];
  servers_started++;
  return 0;
}

/* The server's next byte within timeout_ms: 1 with *b, 0 on EOF (it exited),
 * PC_ETIMEOUT, or PC_EINTR (powercut was asked to stop). */
static int server_byte(pc_worker *w, int timeout_ms, char *b) {
  int64_t deadline = pc_now_us() + (int64_t)timeout_ms * 1000;
  for (;;) {
    int64_t left = deadline - pc_now_us();
    struct pollfd p = {w->rs_from, POLLIN, 0};
    if (pc_interrupted) return PC_EINTR;
    if (left <= 0) return PC_ETIMEOUT;
    int pr = poll(&p, 1, (int)(left / 1000) + 1);
    if (pr < 0 && errno != EINTR) return 0;
    if (pr <= 0) continue;
    ssize_t r = read(w->rs_from, b, 1);
    if (r < 0 && errno == EINTR) continue;
    return r == 1 ? 1 : 0;
  }
}

static int by_server(pc_worker *w, const pc_case *c, int *status) {
  rs_request q;
  char b;
  int rc;
  *status = 0;
  if (w->rs_pid > 0 && waitpid(w->rs_pid, &rc, WNOHANG) != 0) { /* died between cases: invariant (2) */
    w->rs_pid = 0;
    server_kill(w, NULL);
  }
  memset(&q, 0, sizeof q);
  q.c = *c;
  snprintf(q.data, sizeof q.data, "%s", w->data);
  snprintf(q.recov, sizeof q.recov, "%s", w->recov);
  if (w->rs_pid <= 0 && server_start(w)) return PC_ESETUP;
  if (write_full(w->rs_to, &q, sizeof q)) {
    /* it was alive an instant ago and idle: whatever ended it was not this case */
    server_kill(w, NULL);
    if (server_start(w)) return PC_ESETUP;
    if (write_full(w->rs_to, &q, sizeof q)) {
      server_kill(w, NULL);
      return PC_ESETUP;
    }
  }
  rc = server_byte(w, w->timeout_ms, &b);
  if (rc == 1 && b == PC_RS_DONE) {
    /* the verdict is set; the close decides only whether this server goes on */
    if (server_byte(w, w->timeout_ms, &b) != 1 || (b != PC_RS_CLOSED && b != PC_RS_DROPPED)) server_kill(w, NULL);
    return 0;
  }
  if (rc == 0 || rc == 1) { /* it exited (a failed recovery) or broke the pipe protocol */
    int st = 0;
    if (rc == 1) kill(w->rs_pid, SIGKILL);
    while (waitpid(w->rs_pid, &st, 0) < 0 && errno == EINTR) {}
    w->rs_pid = 0;
    server_kill(w, NULL);
    *status = st;
    return 0;
  }
  server_kill(w, status); /* PC_ETIMEOUT or PC_EINTR: killed, as pc_wait_child does */
  return rc;
}

int pc_recovery_run(pc_worker *w, const pc_case *c, const pc_target *t, const wl_params *wp, int *status) {
  if (!t->external || w->fs) return fresh_child(w, c, t, wp, status);
  return by_server(w, c, status);
}

void pc_recovery_stop(pc_worker *w) {
  int st;
  if (w->rs_pid <= 0) return;
  close(w->rs_to); /* EOF: it exits, and its program with it */
  w->rs_to = -1;
  if (pc_wait_child(w->rs_pid, 2000, &st) != 0) {} /* killed after 2 s */
  w->rs_pid = 0;
  server_kill(w, NULL);
}
