/* plan.c — fault-plan parser and canonical formatter, names of actions/ops/models, and
 * the error table. Grammar (docs/powercut.md):
 *   PLAN := RULE (';' RULE)*     RULE := ACTION '@' OP ['(' GLOB ')'] ['#' N ['+']] [':' ARG]
 * Invariants: a plan that parses has only known actions/ops, N >= 1, a glob without ')'
 * and with balanced brackets, and an ARG only where the action uses one; format() emits
 * the canonical form (no default fields) so parse(format(p)) == p. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffs_int.h"

const char *ffs_strerror(int code) {
  switch (code) {
#define FFS_X_CASE(name, val, msg) case val: return msg;
    FFS_ERRNO_MAP(FFS_X_CASE)
#undef FFS_X_CASE
  }
  return "unknown faultfs error";
}

#define OPS_WRITE (FFS_OP_BIT(FFS_OP_WRITE) | FFS_OP_BIT(FFS_OP_PWRITE) | FFS_OP_BIT(FFS_OP_WRITEV))
#define OPS_READ (FFS_OP_BIT(FFS_OP_READ) | FFS_OP_BIT(FFS_OP_PREAD))
#define OPS_PLAN ((FFS_OP_BIT(FFS_OP_PLAN_LAST) << 1) - 1) /* every op a plan can name */
/* a crash point: every call that opens, changes or syncs a file or a name */
#define OPS_CRASH                                                                                       \
  (FFS_OP_BIT(FFS_OP_OPEN) | FFS_OP_BIT(FFS_OP_CREAT) | OPS_WRITE | FFS_OP_BIT(FFS_OP_FSYNC) |            \
   FFS_OP_BIT(FFS_OP_FDATASYNC) | FFS_OP_BIT(FFS_OP_FTRUNCATE) | FFS_OP_BIT(FFS_OP_FALLOCATE) |            \
   FFS_OP_BIT(FFS_OP_RENAME) | FFS_OP_BIT(FFS_OP_UNLINK) | FFS_OP_BIT(FFS_OP_LINK) |                       \
   FFS_OP_BIT(FFS_OP_MKDIR) | FFS_OP_BIT(FFS_OP_RMDIR) | FFS_OP_BIT(FFS_OP_SYNC_FILE_RANGE))
#define OPS_EIO                                                                                         \
  (FFS_OP_BIT(FFS_OP_FSYNC) | FFS_OP_BIT(FFS_OP_FDATASYNC) | FFS_OP_BIT(FFS_OP_WRITE) |                   \
   FFS_OP_BIT(FFS_OP_PWRITE) | FFS_OP_BIT(FFS_OP_RENAME) | FFS_OP_BIT(FFS_OP_OPEN))
#define OPS_NOSPACE (OPS_WRITE | FFS_OP_BIT(FFS_OP_FALLOCATE) | FFS_OP_BIT(FFS_OP_FTRUNCATE))

static const ffs_action_info actions[FFS_A_COUNT] = {
  [FFS_A_KILL] = {.name = "kill", .plan_ops = OPS_PLAN, .campaign_ops = OPS_CRASH, .fatal = 1, .kill = 1,
                  .campaign_default = 1},
  [FFS_A_KILL_AFTER] = {.name = "kill-after", .plan_ops = OPS_PLAN, .campaign_ops = OPS_CRASH, .fatal = 1,
                        .kill = 1, .after = 1},
  [FFS_A_CRASH] = {.name = "crash", .plan_ops = OPS_PLAN, .campaign_ops = OPS_CRASH, .fatal = 1, .powercut = 1,
                   .campaign_default = 1},
  [FFS_A_CRASH_AFTER] = {.name = "crash-after", .plan_ops = OPS_PLAN, .campaign_ops = OPS_CRASH, .fatal = 1,
                         .powercut = 1, .after = 1, .campaign_default = 1},
  [FFS_A_TORN] = {.name = "torn", .arg = "bytes of the write that reach the disk", .plan_ops = OPS_WRITE,
                  .campaign_ops = OPS_WRITE, .fatal = 1, .powercut = 1, .after = 1, .arg_bytes = 1,
                  .campaign_default = 1},
  [FFS_A_EIO] = {.name = "eio", .plan_ops = OPS_PLAN, .campaign_ops = OPS_EIO, .campaign_default = 1},
  [FFS_A_ENOSPC] = {.name = "enospc", .plan_ops = OPS_PLAN, .campaign_ops = OPS_NOSPACE, .campaign_default = 1},
  [FFS_A_EDQUOT] = {.name = "edquot", .plan_ops = OPS_PLAN, .campaign_ops = OPS_NOSPACE},
  [FFS_A_SHORT] = {.name = "short", .arg = "bytes the write returns", .plan_ops = OPS_WRITE,
                   .campaign_ops = OPS_WRITE, .arg_bytes = 1},
  [FFS_A_FLIP] = {.name = "flip", .arg = "the bit flipped", .plan_ops = OPS_READ, .campaign_ops = OPS_READ},
};

const ffs_action_info *ffs_action_get(ffs_action a) { return (unsigned)a < FFS_A_COUNT ? &actions[a] : NULL; }

const char *ffs_action_list(int defaults_only) {
  static char all[256], defaults[256];
  char *buf = defaults_only ? defaults : all;
  if (!buf[0]) {
    size_t o = 0;
    for (int i = 0; i < FFS_A_COUNT; i++) {
      if (defaults_only && !actions[i].campaign_default) continue;
      o += (size_t)snprintf(buf + o, 256 - o, "%s%s", o ? (defaults_only ? "," : ", ") : "", actions[i].name);
    }
  }
  return buf;
}
static const char *const op_names[] = {
#define FFS_X_NAME(e, s) s,
    FFS_OP_MAP(FFS_X_NAME)
#undef FFS_X_NAME
};
static const char *const model_names[FFS_MODEL_COUNT] = {"strict", "ext4", "reorder",
                                                          "kernel-ext4", "kernel-xfs", "kernel-btrfs", "xfs"};

const char *ffs_action_name(ffs_action a) {
  return (unsigned)a < FFS_A_COUNT ? actions[a].name : "?";
}
const char *ffs_op_name(ffs_op op) { return (unsigned)op < FFS_OP_COUNT ? op_names[op] : "?"; }
const char *ffs_model_name(ffs_model m) { return (unsigned)m < FFS_MODEL_COUNT ? model_names[m] : "?"; }

const char *ffs_model_fs(ffs_model m) {
  return m >= FFS_MODEL_KERNEL_EXT4 && m <= FFS_MODEL_KERNEL_BTRFS ? model_names[m] + 7 : NULL;
}

int ffs_model_from_name(const char *name) {
  if (!name || !*name) return FFS_MODEL_STRICT;
  for (int i = 0; i < FFS_MODEL_COUNT; i++)
    if (strcmp(name, model_names[i]) == 0) return i;
  return FFS_EINVAL;
}

int ffs_action_from_name(const char *name, size_t len) {
  for (int i = 0; i < FFS_A_COUNT; i++)
    if (strlen(actions[i].name) == len && memcmp(actions[i].name, name, len) == 0) return i;
  return FFS_EINVAL;
}

int ffs_op_from_name(const char *name, size_t len) {
  for (int i = 0; i <= FFS_OP_PLAN_LAST; i++)
    if (strlen(op_names[i]) == len && memcmp(op_names[i], name, len) == 0) return i;
  return FFS_EINVAL;
}

int ffs_action_is_powercut(ffs_action a) { return (unsigned)a < FFS_A_COUNT && actions[a].powercut; }
int ffs_action_is_fatal(ffs_action a) { return (unsigned)a < FFS_A_COUNT && actions[a].fatal; }

int ffs__op_matches(ffs_op rule_op, ffs_op call_op) {
  if (rule_op == call_op || rule_op == FFS_OP_ANY) return 1;
  if (rule_op == FFS_OP_SYNC) return call_op == FFS_OP_FSYNC || call_op == FFS_OP_FDATASYNC;
  return 0;
}


static int perr(char *err, size_t errlen, size_t pos, const char *fmt, ...) {
  if (err && errlen) {
    int n = snprintf(err, errlen, "plan:%zu: ", pos + 1);
    if (n >= 0 && (size_t)n < errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return FFS_EPLAN;
}

static int glob_ok(const char *g) {
  int depth = 0;
  for (const char *p = g; *p; p++) {
    if (*p == '\\') {
      if (!p[1]) return 0;
      p++;
    } else if (*p == '[' && !depth) {
      depth = 1;
      if (p[1] == '!' || p[1] == '^') p++;
      if (p[1] == ']') p++;
    } else if (*p == ']' && depth) {
      depth = 0;
    }
  }
  return !depth;
}

/* -1: no digits; -2: more than 2^64-1 (*i then points past the digits) */
static int parse_u64(const char *s, size_t *i, uint64_t *out) {
  size_t j = *i;
  uint64_t v = 0;
  int big = 0;
  if (!isdigit((unsigned char)s[j])) return -1;
  while (isdigit((unsigned char)s[j])) {
    unsigned d = (unsigned)(s[j] - '0');
    if (v > (UINT64_MAX - d) / 10) big = 1;
    else v = v * 10 + d;
    j++;
  }
  if (big) {
    *i = j;
    return -2;
  }
  *i = j;
  *out = v;
  return 0;
}

static size_t skip_ws(const char *s, size_t i) {
  while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') i++;
  return i;
}

static int parse_rule(const char *s, size_t *ip, ffs_rule *r, char *err, size_t errlen) {
  size_t i = *ip, st = i;
  memset(r, 0, sizeof *r);
  r->n = 1;
  while (s[i] && s[i] != '@' && s[i] != ';') i++;
  if (i == st) return perr(err, errlen, st, "expected an action (kill, crash, torn, eio, ...)");
  int a = ffs_action_from_name(s + st, i - st);
  if (a < 0) return perr(err, errlen, st, "unknown action '%.*s'", (int)(i - st), s + st);
  r->action = (ffs_action)a;
  if (s[i] != '@') return perr(err, errlen, i, "expected '@' after action '%s'", actions[a].name);
  st = ++i;
  while (isalnum((unsigned char)s[i]) || s[i] == '_') i++;
  if (i == st) return perr(err, errlen, st, "expected an op after '@'");
  int op = ffs_op_from_name(s + st, i - st);
  if (op < 0) return perr(err, errlen, st, "unknown op '%.*s'", (int)(i - st), s + st);
  r->op = (ffs_op)op;
  if (s[i] == '(') {
    st = ++i;
    while (s[i] && s[i] != ')') i++;
    if (!s[i]) return perr(err, errlen, st - 1, "bad glob: missing ')'");
    if (i == st) return perr(err, errlen, st, "bad glob: empty");
    if (i - st >= FFS_GLOB_MAX) return perr(err, errlen, st, "bad glob: longer than %d", FFS_GLOB_MAX - 1);
    memcpy(r->glob, s + st, i - st);
    r->glob[i - st] = 0;
    if (!glob_ok(r->glob)) return perr(err, errlen, st, "bad glob '%s': unbalanced '[' or trailing '\\'", r->glob);
    i++;
  }
  if (s[i] == '#') {
    st = ++i;
    int prc = parse_u64(s, &i, &r->n);
    if (prc == -2)
      return perr(err, errlen, st, "bad N: number out of range: '%.*s' (at most 18446744073709551615)",
                  (int)(i - st), s + st);
    if (prc < 0) return perr(err, errlen, st, "bad N: expected a number after '#'");
    if (r->n == 0) return perr(err, errlen, st, "bad N: calls are counted from 1");
    if (s[i] == '+') {
      r->plus = 1;
      i++;
    }
  }
  if (s[i] == ':') {
    st = ++i;
    int prc = parse_u64(s, &i, &r->arg);
    if (prc == -2)
      return perr(err, errlen, st, "bad ARG: number out of range: '%.*s' (at most 18446744073709551615)",
                  (int)(i - st), s + st);
    if (prc < 0) return perr(err, errlen, st, "bad ARG: expected a number after ':'");
    r->has_arg = 1;
  }
  i = skip_ws(s, i);
  if (s[i] && s[i] != ';') return perr(err, errlen, i, "unexpected '%c' after rule", s[i]);
  /* action/op compatibility */
  if (!(actions[r->action].plan_ops & FFS_OP_BIT(r->op))) {
    char ops[160];
    size_t o = 0, n = 0, k = 0;
    for (int q = 0; q <= FFS_OP_PLAN_LAST; q++) n += !!(actions[r->action].plan_ops & FFS_OP_BIT(q));
    for (int q = 0; q <= FFS_OP_PLAN_LAST && o < sizeof ops; q++)
      if (actions[r->action].plan_ops & FFS_OP_BIT(q))
        o += (size_t)snprintf(ops + o, sizeof ops - o, "%s%s", k++ == 0 ? "" : k == n ? " or " : ", ", op_names[q]);
    return perr(err, errlen, *ip, "%s applies to %s, not %s", actions[r->action].name, ops, op_names[r->op]);
  }
  if (r->has_arg && !actions[r->action].arg)
    return perr(err, errlen, *ip, "action %s takes no ':ARG'", actions[r->action].name);
  *ip = i;
  return 0;
}

int ffs_plan_parse(const char *text, ffs_plan **out, char *err, size_t errlen) {
  ffs_plan *p = NULL;
  int rc = FFS_EINVAL;
  if (err && errlen) err[0] = 0;
  if (!text || !out) goto fail;
  *out = NULL;
  p = calloc(1, sizeof *p);
  if (!p) { rc = FFS_ENOMEM; goto fail; }
  size_t i = skip_ws(text, 0);
  if (!text[i] || (strncmp(text + i, "none", 4) == 0 && !text[skip_ws(text, i + 4)])) {
    *out = p;
    return 0;
  }
  size_t cap = 0;
  for (;;) {
    i = skip_ws(text, i);
    if (p->nrules == cap) {
      cap = cap ? cap * 2 : 4;
      ffs_rule *nr = realloc(p->rules, cap * sizeof *nr);
      if (!nr) { rc = FFS_ENOMEM; goto fail; }
      p->rules = nr;
    }
    rc = parse_rule(text, &i, &p->rules[p->nrules], err, errlen);
    if (rc < 0) goto fail;
    p->nrules++;
    if (!text[i]) break;
    i++; /* ';' */
    if (!text[skip_ws(text, i)]) { rc = perr(err, errlen, i, "empty rule after ';'"); goto fail; }
  }
  *out = p;
  return 0;
fail:
  ffs_plan_free(p);
  return rc;
}

int ffs_plan_format(const ffs_plan *plan, char *buf, size_t len) {
  size_t n = 0;
  if (!plan || !buf || !len) return FFS_EINVAL;
  buf[0] = 0;
  if (!plan->nrules) {
    if (len < 5) return FFS_ETOOBIG;
    memcpy(buf, "none", 5);
    return 4;
  }
  for (size_t k = 0; k < plan->nrules; k++) {
    const ffs_rule *r = &plan->rules[k];
    char part[FFS_GLOB_MAX + 96];
    int m = snprintf(part, sizeof part, "%s%s@%s", k ? ";" : "", ffs_action_name(r->action), ffs_op_name(r->op));
    if (r->glob[0]) m += snprintf(part + m, sizeof part - (size_t)m, "(%s)", r->glob);
    if (r->n != 1 || r->plus) m += snprintf(part + m, sizeof part - (size_t)m, "#%llu%s", (unsigned long long)r->n, r->plus ? "+" : "");
    if (r->has_arg) m += snprintf(part + m, sizeof part - (size_t)m, ":%llu", (unsigned long long)r->arg);
    if (n + (size_t)m + 1 > len) return FFS_ETOOBIG;
    memcpy(buf + n, part, (size_t)m + 1);
    n += (size_t)m;
  }
  return (int)n;
}

void ffs_plan_free(ffs_plan *plan) {
  if (!plan) return;
  free(plan->rules);
  free(plan);
}
