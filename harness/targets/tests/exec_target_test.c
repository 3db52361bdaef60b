/*
 * exec_target_test.c - the exec target against small shell programs that
 * misbehave: a program that exits at once or mid-op (PC_EGONE, no SIGPIPE
 * death of the caller), answers garbage or the wrong reply kind (PC_ETARGET,
 * and the session stays failed), answers err (PC_ETARGET with its message),
 * never answers (PC_ETIMEOUT), plus option parsing, the contract option, the
 * data dir handed over as $1 / $POWERCUT_DATA_DIR / `open DIR`, and scan.
 */
#include "harness_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...)                                      \
  do {                                                        \
    if (!(cond)) {                                            \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
      fprintf(stderr, __VA_ARGS__);                           \
      fprintf(stderr, "\n");                                  \
      failures++;                                             \
    }                                                         \
  } while (0)

static const pc_target *T;
static char dir[] = "/tmp/pc-exec-test-XXXXXX";

static int open_cmd(const char *opts, void **h, char *msg, size_t len) {
  msg[0] = '\0';
  return T->open(dir, opts, "", h, msg, len);
}

typedef struct seen {
  int n;
  char keys[8][8];
  size_t vlens[8];
} seen;

static int scan_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl) {
  seen *s = arg;
  (void)v;
  if (s->n < 8 && kl < 8) {
    memcpy(s->keys[s->n], k, kl);
    s->keys[s->n][kl] = '\0';
    s->vlens[s->n] = vl;
  }
  s->n++;
  return 0;
}

int main(void) {
  char msg[1024], opts[1024];
  void *h = NULL, *v = NULL;
  size_t vl = 0;
  int rc;
  if (!(T = pc_target_find("exec"))) {
    fprintf(stderr, "FAIL: no exec target\n");
    return 1;
  }
  if (!mkdtemp(dir)) return 2;
  CHECK(T->external == 1, "exec must be an external target");

  /* options */
  CHECK(T->check_opts("cmd=x,contract=prefix+atomic_batch", "", msg, sizeof msg) == 0, "%s", msg);
  CHECK(T->contract_for("cmd=x,contract=prefix+atomic_batch") == (ORC_PREFIX | ORC_ATOMIC_BATCH),
        "contract_for");
  CHECK(T->contract_for("cmd=x,contract=durable_ack+process_safe+prefix+atomic_batch+close_syncs") ==
            (ORC_DURABLE_ACK | ORC_PROCESS_SAFE | ORC_PREFIX | ORC_ATOMIC_BATCH | ORC_CLOSE_SYNCS),
        "contract_for all flags");
  CHECK(T->contract_for("cmd=x") == 0, "no contract= means no promise");
  CHECK(T->check_opts("./my-driver --fast", "", msg, sizeof msg) == 0, "shorthand exec:CMD: %s", msg);
  CHECK(T->check_opts("cmd=x,contract=durable", "", msg, sizeof msg) == PC_EINVAL && strstr(msg, "durable"),
        "unknown contract flag accepted");
  CHECK(T->check_opts("contract=prefix", "", msg, sizeof msg) == PC_EINVAL && strstr(msg, "cmd"),
        "missing cmd accepted");
  CHECK(T->check_opts("cmd=x,speed=9", "", msg, sizeof msg) == PC_EINVAL, "unknown option accepted");
  CHECK(T->check_opts("cmd=x,timeout=0", "", msg, sizeof msg) == PC_EINVAL, "timeout=0 accepted");

  /* the data dir: $1, $POWERCUT_DATA_DIR and the open line agree */
  rc = open_cmd("cmd=read l; [ \"$1\" = \"$POWERCUT_DATA_DIR\" ] && [ \"open $1\" = \"$l\" ] && "
                "echo ok || echo \"err bad dir: $l\"; read l; echo ok", &h, msg, sizeof msg);
  CHECK(rc == 0, "data dir handover: rc %d: %s", rc, msg);
  if (!rc) CHECK(T->close(h) == 0, "close answered ok");

  /* exits at once: open finds it gone */
  rc = open_cmd("cmd=true", &h, msg, sizeof msg);
  CHECK(rc == PC_EGONE && strstr(msg, "gone"), "exit at once: rc %d msg '%s'", rc, msg);

  /* garbage */
  rc = open_cmd("cmd=echo hello; cat >/dev/null", &h, msg, sizeof msg);
  CHECK(rc == PC_ETARGET && strstr(msg, "malformed reply"), "garbage: rc %d msg '%s'", rc, msg);

  /* dies mid-op, without reading the request: EGONE, not SIGPIPE; stays gone */
  rc = open_cmd("cmd=read l; echo ok; exit 3", &h, msg, sizeof msg);
  CHECK(rc == 0, "open: %d %s", rc, msg);
  if (!rc) {
    rc = T->put(h, "k", 1, "v", 1, 1);
    CHECK(rc == PC_EGONE, "put to a dead program: rc %d (%s)", rc, T->errmsg(h));
    rc = T->get(h, "k", 1, &v, &vl);
    CHECK(rc == PC_EGONE, "get after gone: rc %d", rc);
    T->close(h);
  }

  /* err reply carries its message; the wrong kind of reply breaks the session */
  rc = open_cmd("cmd=read l; echo ok; read l; echo 'err disk on fire'; read l; echo 'ok 61'; read l; "
                "echo ok", &h, msg, sizeof msg);
  CHECK(rc == 0, "open: %d %s", rc, msg);
  if (!rc) {
    rc = T->put(h, "k", 1, "v", 1, 0);
    CHECK(rc == PC_ETARGET && strstr(T->errmsg(h), "disk on fire"), "err: rc %d '%s'", rc, T->errmsg(h));
    rc = T->del(h, "k", 1, 0);
    CHECK(rc == PC_ETARGET && strstr(T->errmsg(h), "protocol error"), "ok HEX to del: rc %d '%s'", rc,
          T->errmsg(h));
    rc = T->sync(h);
    CHECK(rc == PC_ETARGET, "session must stay failed after a protocol error: rc %d", rc);
    T->close(h);
  }

  /* get: value, empty value, notfound, and 'ok' without a value is a protocol error */
  rc = open_cmd("cmd=read l; echo ok; read l; echo 'ok 6869'; read l; echo 'ok -'; read l; echo notfound;"
                " read l; echo ok; cat >/dev/null", &h, msg, sizeof msg);
  CHECK(rc == 0, "open: %d %s", rc, msg);
  if (!rc) {
    rc = T->get(h, "a", 1, &v, &vl);
    CHECK(rc == 1 && vl == 2 && !memcmp(v, "hi", 2), "get value: rc %d", rc);
    free(v);
    v = NULL;
    rc = T->get(h, "b", 1, &v, &vl);
    CHECK(rc == 1 && vl == 0 && v, "get empty value: rc %d", rc);
    free(v);
    v = NULL;
    rc = T->get(h, "c", 1, &v, &vl);
    CHECK(rc == 0, "get notfound: rc %d", rc);
    rc = T->get(h, "d", 1, &v, &vl);
    CHECK(rc == PC_ETARGET && strstr(T->errmsg(h), "protocol error"), "get answered ok: rc %d", rc);
    T->close(h);
  }

  /* scan: kv lines then end; request lines are what the protocol says */
  rc = open_cmd("cmd=read l; echo ok; read l; [ \"$l\" = scan ] || echo 'err not scan'; "
                "echo 'kv 61 62'; echo 'kv 6300 -'; echo end; read l; "
                "[ \"$l\" = 'put 00ff - 1' ] && echo ok || echo \"err got $l\"; read l; echo ok",
                &h, msg, sizeof msg);
  CHECK(rc == 0, "open: %d %s", rc, msg);
  if (!rc) {
    seen s = {0};
    rc = T->scan(h, scan_cb, &s);
    CHECK(rc == 0 && s.n == 2 && !strcmp(s.keys[0], "a") && s.vlens[0] == 1 && s.vlens[1] == 0,
          "scan: rc %d n %d (%s)", rc, s.n, T->errmsg(h));
    rc = T->put(h, "\x00\xff", 2, "", 0, 1);
    CHECK(rc == 0, "put encoding: rc %d (%s)", rc, T->errmsg(h));
    T->close(h);
  }

  /* never answers: a timeout, not a hang */
  snprintf(opts, sizeof opts, "cmd=read l; echo ok; sleep 30,timeout=300");
  rc = open_cmd(opts, &h, msg, sizeof msg);
  CHECK(rc == 0, "open: %d %s", rc, msg);
  if (!rc) {
    int64_t t0 = pc_now_us();
    rc = T->sync(h);
    CHECK(rc == PC_ETIMEOUT, "silent program: rc %d", rc);
    CHECK(pc_now_us() - t0 < 5000000, "timeout took %lld us", (long long)(pc_now_us() - t0));
    T->close(h);
  }

  ffs_rm_rf(dir);
  if (failures) {
    printf("%d check(s) FAILED\n", failures);
    return 1;
  }
  printf("exec target: all checks passed\n");
  return 0;
}
