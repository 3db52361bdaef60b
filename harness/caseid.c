/*
 * caseid.c - the one-line case id: pc1/<target>[:opts]/<workload>[:params]/<seed>/<model>/<plan>
 *
 * The id names everything that decides a case (docs/architecture.md), so a
 * repro needs nothing else. The plan comes last because a glob may hold '/'.
 * Parsing is strict: every field present, seed decimal, model known; the plan
 * and workload are validated by their own modules' parsers (pc_case_validate).
 */
#include "harness_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* '/' and '%' inside the target, its options and the workload are written
 * as %2F and %25 so that a command path (exec:cmd=./x) cannot split the id. */
static int decode_field(char *s, const char *what, char *err, size_t errlen) {
  char *o = s;
  for (char *p = s; *p; p++) {
    if (*p != '%') { *o++ = *p; continue; }
    if (p[1] == '2' && (p[2] == 'F' || p[2] == 'f')) *o++ = '/';
    else if (p[1] == '2' && p[2] == '5') *o++ = '%';
    else {
      snprintf(err, errlen, "case id: bad escape in %s field (only %%2F and %%25)", what);
      return PC_EINVAL;
    }
    p += 2;
  }
  *o = '\0';
  return 0;
}

static size_t encode_field(const char *s, char *out, size_t cap) {
  size_t o = 0;
  for (; *s; s++) {
    const char *rep = *s == '/' ? "%2F" : *s == '%' ? "%25" : NULL;
    if (rep) { if (o + 3 < cap) memcpy(out + o, rep, 3); o += 3; }
    else { if (o + 1 < cap) out[o] = *s; o++; }
  }
  if (cap) out[o < cap ? o : cap - 1] = '\0';
  return o;
}

static int copy_field(char *dst, size_t cap, const char *s, size_t n,
                      const char *what, char *err, size_t errlen) {
  if (n == 0) {
    snprintf(err, errlen, "case id: empty %s field", what);
    return PC_EINVAL;
  }
  if (n >= cap) {
    snprintf(err, errlen, "case id: %s field too long (%zu bytes, max %zu)", what, n, cap - 1);
    return PC_EINVAL;
  }
  memcpy(dst, s, n);
  dst[n] = '\0';
  return 0;
}

int pc_case_parse(const char *id, pc_case *c, char *err, size_t errlen) {
  const char *p = id, *slash;
  const char *fields[4];
  size_t lens[4];
  int rc;

  memset(c, 0, sizeof *c);
  if (strncmp(id, "pc1/", 4) != 0) {
    snprintf(err, errlen, "case id must start with 'pc1/' (got '%.20s')", id);
    return PC_EINVAL;
  }
  p = id + 4;
  for (int i = 0; i < 4; i++) {
    slash = strchr(p, '/');
    if (!slash) {
      snprintf(err, errlen, "case id: expected 5 '/'-separated fields after 'pc1/' "
               "(target/workload/seed/model/plan), found %d", i + 1);
      return PC_EINVAL;
    }
    fields[i] = p;
    lens[i] = (size_t)(slash - p);
    p = slash + 1;
  }
  /* fields: target[:opts], workload, seed, model, and p = plan */
  {
    const char *colon = memchr(fields[0], ':', lens[0]);
    size_t tn = colon ? (size_t)(colon - fields[0]) : lens[0];
    if ((rc = copy_field(c->target, sizeof c->target, fields[0], tn, "target", err, errlen)))
      return rc;
    if (colon && (rc = copy_field(c->target_opts, sizeof c->target_opts, colon + 1,
                                  lens[0] - tn - 1, "target options", err, errlen)))
      return rc;
  }
  if ((rc = copy_field(c->workload, sizeof c->workload, fields[1], lens[1], "workload", err, errlen)))
    return rc;
  if ((rc = decode_field(c->target, "target", err, errlen)) ||
      (rc = decode_field(c->target_opts, "target options", err, errlen)) ||
      (rc = decode_field(c->workload, "workload", err, errlen)))
    return rc;
  {
    char buf[32], *end;
    if ((rc = copy_field(buf, sizeof buf, fields[2], lens[2], "seed", err, errlen)))
      return rc;
    if (buf[0] < '0' || buf[0] > '9') goto bad_seed;
    errno = 0;
    c->seed = strtoull(buf, &end, 10);
    if (errno || *end) goto bad_seed;
  }
  if ((rc = copy_field(c->model, sizeof c->model, fields[3], lens[3], "model", err, errlen)))
    return rc;
  if (ffs_model_from_name(c->model) < 0 || !c->model[0]) {
    snprintf(err, errlen, "case id: unknown model '%s' (strict, ext4, xfs, reorder, kernel-ext4, kernel-xfs, kernel-btrfs)",
             c->model);
    return PC_EINVAL;
  }
  return pc_case_set_plan(c, p, err, errlen);
bad_seed:
  snprintf(err, errlen, "case id: seed '%.*s' is not a decimal number", (int)lens[2], fields[2]);
  return PC_EINVAL;
}

int pc_case_format(const pc_case *c, char *buf, size_t len) {
  char t[sizeof c->target * 3], o[sizeof c->target_opts * 3], w[sizeof c->workload * 3];
  encode_field(c->target, t, sizeof t);
  encode_field(c->target_opts, o, sizeof o);
  encode_field(c->workload, w, sizeof w);
  int n = snprintf(buf, len, "pc1/%s%s%s/%s/%" PRIu64 "/%s/%s", t,
                   c->target_opts[0] ? ":" : "", o, w, c->seed, c->model, c->plan);
  if (n >= 0 && (size_t)n < len && c->rplan[0]) n += snprintf(buf + n, len - (size_t)n, ">%s", c->rplan);
  return (n < 0 || (size_t)n >= len) ? PC_EINVAL : 0;
}

int pc_case_set_plan(pc_case *c, const char *s, char *err, size_t errlen) {
  const char *gt = NULL;
  int depth = 0, rc;
  for (const char *p = s; *p && !gt; p++) { /* a glob may hold '>': skip (...) */
    if (*p == '(') depth = 1;
    else if (*p == ')') depth = 0;
    else if (*p == '>' && !depth) gt = p;
  }
  c->rplan[0] = '\0';
  if (!gt) return copy_field(c->plan, sizeof c->plan, s, strlen(s), "plan", err, errlen);
  if ((rc = copy_field(c->plan, sizeof c->plan, s, (size_t)(gt - s), "plan", err, errlen))) return rc;
  return copy_field(c->rplan, sizeof c->rplan, gt + 1, strlen(gt + 1), "recovery plan (after '>')", err, errlen);
}

void pc_case_plan_str(const pc_case *c, char *buf, size_t len) {
  snprintf(buf, len, "%s%s%s", c->plan, c->rplan[0] ? ">" : "", c->rplan);
}

/* "name[:opts]" as given to --target: split at the first ':'. */
void pc_target_spec_split(const char *spec, char *name, size_t nlen, char *opts, size_t olen) {
  const char *colon = strchr(spec, ':');
  snprintf(name, nlen, "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
  snprintf(opts, olen, "%s", colon ? colon + 1 : "");
}
