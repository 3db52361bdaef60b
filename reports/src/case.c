/*
 * case.c - one case <-> one results.jsonl line (through cJSON), the error
 * table, and the repro command quoting.
 *
 * Integers are written with cJSON raw values so 64-bit counts print exactly;
 * on reading, cJSON holds numbers as doubles, so an integer field must be
 * integral and within +-2^53 or the line is rejected (never silently rounded).
 */
#include "rpt_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *rpt_strerror(int err) {
  switch (err) {
#define RPT_X_(name, val, msg) case (val): return msg;
    RPT_ERRNO_MAP(RPT_X_)
#undef RPT_X_
  }
  return "unknown error";
}

void rpt__seterr(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

char *rpt__strdup(const char *s) {
  return strdup(s ? s : "");
}

void rpt_case_init(rpt_case *c) {
  memset(c, 0, sizeof *c);
  c->fire_index = -1;
  c->recovery_us = -1;
}

/* The string fields, in file order, as offsets into rpt_case. */
#define RPT_STR_FIELDS(X)                                                   \
  X(id) X(target) X(workload) X(model) X(plan) X(fault_kind) X(fault_op)    \
  X(fire_path) X(fire_site) X(verdict) X(explanation) X(first_key) X(expected) X(found)  \
  X(repro) X(minimized_id) X(kept) X(reach)

void rpt_case_free(rpt_case *c) {
  if (!c) return;
#define RPT_FREE_(f) free(c->f); c->f = NULL;
  RPT_STR_FIELDS(RPT_FREE_)
#undef RPT_FREE_
}

static int add_str(cJSON *o, const char *k, const char *v) {
  return cJSON_AddStringToObject(o, k, v ? v : "") ? 0 : RPT_ENOMEM;
}

static int add_int(cJSON *o, const char *k, int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return cJSON_AddRawToObject(o, k, buf) ? 0 : RPT_ENOMEM;
}

static int add_uint(cJSON *o, const char *k, uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRIu64, v);
  return cJSON_AddRawToObject(o, k, buf) ? 0 : RPT_ENOMEM;
}

int rpt_case_to_json(const rpt_case *c, char **line) {
  int rc = RPT_ENOMEM;
  cJSON *o = NULL;
  *line = NULL;
  if (!c) return RPT_EINVAL;
  if (!(o = cJSON_CreateObject())) goto fail;
  if (add_str(o, "id", c->id) || add_str(o, "target", c->target) ||
      add_str(o, "workload", c->workload) || add_str(o, "model", c->model) ||
      add_str(o, "plan", c->plan) || add_uint(o, "seed", c->seed) ||
      add_str(o, "fault_kind", c->fault_kind) ||
      add_str(o, "fault_op", c->fault_op) ||
      !cJSON_AddBoolToObject(o, "fired", c->fired != 0) ||
      add_int(o, "fire_index", c->fire_index) ||
      add_str(o, "fire_path", c->fire_path) ||
      add_str(o, "fire_site", c->fire_site) ||
      add_str(o, "verdict", c->verdict) ||
      add_str(o, "explanation", c->explanation) ||
      add_str(o, "first_key", c->first_key) ||
      add_str(o, "expected", c->expected) || add_str(o, "found", c->found) ||
      add_int(o, "ops_issued", c->ops_issued) ||
      add_int(o, "ops_acked", c->ops_acked) ||
      add_int(o, "ops_lost", c->ops_lost) ||
      add_int(o, "recovery_us", c->recovery_us) ||
      add_int(o, "case_us", c->case_us) || add_str(o, "repro", c->repro) ||
      add_str(o, "minimized_id", c->minimized_id) ||
      add_str(o, "kept", c->kept) || add_str(o, "reach", c->reach) ||
      add_int(o, "reruns", c->reruns) || add_int(o, "reproduced", c->reproduced))
    goto fail;
  if (!(*line = cJSON_PrintUnformatted(o))) goto fail;
  rc = 0;
fail:
  cJSON_Delete(o);
  return rc;
}

/* 2^53: the largest range where every integer is a double exactly. */
#define RPT_MAX_EXACT 9007199254740992.0

static int get_str(const cJSON *o, const char *k, int required, char **dst,
                   char *err, size_t errlen) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!v) {
    if (required) {
      rpt__seterr(err, errlen, "missing field \"%s\"", k);
      return RPT_EMALFORMED;
    }
    *dst = strdup("");
  } else if (!cJSON_IsString(v)) {
    rpt__seterr(err, errlen, "field \"%s\" is not a string", k);
    return RPT_EMALFORMED;
  } else {
    *dst = strdup(v->valuestring);
  }
  return *dst ? 0 : RPT_ENOMEM;
}

static int get_int(const cJSON *o, const char *k, int required, int64_t min,
                   int64_t *dst, char *err, size_t errlen) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!v) {
    if (required) {
      rpt__seterr(err, errlen, "missing field \"%s\"", k);
      return RPT_EMALFORMED;
    }
    return 0;
  }
  double d = v->valuedouble;
  if (!cJSON_IsNumber(v) || d != floor(d) || fabs(d) > RPT_MAX_EXACT ||
      d < (double)min) {
    rpt__seterr(err, errlen, "field \"%s\" is not an integer%s", k,
                min >= 0 ? " >= 0 (below 2^53)" : " (below 2^53)");
    return RPT_EMALFORMED;
  }
  *dst = (int64_t)d;
  return 0;
}

int rpt_case_from_json(const char *line, rpt_case *c, char *err,
                       size_t errlen) {
  int rc;
  cJSON *o = NULL;
  int64_t seed = 0;
  rpt_case_init(c);
  o = cJSON_ParseWithOpts(line, NULL, 1);
  if (!o) {
    const char *at = cJSON_GetErrorPtr();
    size_t off = (at && at >= line) ? (size_t)(at - line) : 0;
    rpt__seterr(err, errlen, "not valid JSON (at byte %zu)", off);
    rc = RPT_EMALFORMED;
    goto fail;
  }
  if (!cJSON_IsObject(o)) {
    rpt__seterr(err, errlen, "not a JSON object");
    rc = RPT_EMALFORMED;
    goto fail;
  }
  if ((rc = get_str(o, "id", 1, &c->id, err, errlen)) ||
      (rc = get_str(o, "target", 1, &c->target, err, errlen)) ||
      (rc = get_str(o, "workload", 1, &c->workload, err, errlen)) ||
      (rc = get_str(o, "model", 1, &c->model, err, errlen)) ||
      (rc = get_str(o, "plan", 1, &c->plan, err, errlen)) ||
      (rc = get_int(o, "seed", 1, 0, &seed, err, errlen)) ||
      (rc = get_str(o, "fault_kind", 1, &c->fault_kind, err, errlen)) ||
      (rc = get_str(o, "fault_op", 0, &c->fault_op, err, errlen)) ||
      (rc = get_int(o, "fire_index", 0, INT64_MIN, &c->fire_index, err, errlen)) ||
      (rc = get_str(o, "fire_path", 0, &c->fire_path, err, errlen)) ||
      (rc = get_str(o, "fire_site", 0, &c->fire_site, err, errlen)) ||
      (rc = get_str(o, "verdict", 1, &c->verdict, err, errlen)) ||
      (rc = get_str(o, "explanation", 0, &c->explanation, err, errlen)) ||
      (rc = get_str(o, "first_key", 0, &c->first_key, err, errlen)) ||
      (rc = get_str(o, "expected", 0, &c->expected, err, errlen)) ||
      (rc = get_str(o, "found", 0, &c->found, err, errlen)) ||
      (rc = get_int(o, "ops_issued", 0, 0, &c->ops_issued, err, errlen)) ||
      (rc = get_int(o, "ops_acked", 0, 0, &c->ops_acked, err, errlen)) ||
      (rc = get_int(o, "ops_lost", 0, 0, &c->ops_lost, err, errlen)) ||
      (rc = get_int(o, "recovery_us", 0, INT64_MIN, &c->recovery_us, err, errlen)) ||
      (rc = get_int(o, "case_us", 0, 0, &c->case_us, err, errlen)) ||
      (rc = get_str(o, "repro", 0, &c->repro, err, errlen)) ||
      (rc = get_str(o, "minimized_id", 0, &c->minimized_id, err, errlen)) ||
      (rc = get_str(o, "kept", 0, &c->kept, err, errlen)) ||
      (rc = get_str(o, "reach", 0, &c->reach, err, errlen)) ||
      (rc = get_int(o, "reruns", 0, 0, &c->reruns, err, errlen)) ||
      (rc = get_int(o, "reproduced", 0, 0, &c->reproduced, err, errlen)))
    goto fail;
  if (c->reproduced > c->reruns) {
    rpt__seterr(err, errlen, "field \"reproduced\" (%" PRId64 ") is above \"reruns\" (%" PRId64 ")",
                c->reproduced, c->reruns);
    rc = RPT_EMALFORMED;
    goto fail;
  }
  c->seed = (uint64_t)seed;
  const cJSON *fired = cJSON_GetObjectItemCaseSensitive(o, "fired");
  if (fired && !cJSON_IsBool(fired)) {
    rpt__seterr(err, errlen, "field \"fired\" is not a boolean");
    rc = RPT_EMALFORMED;
    goto fail;
  }
  c->fired = fired ? cJSON_IsTrue(fired) : 0;
  if (c->id[0] == '\0' || c->verdict[0] == '\0') {
    rpt__seterr(err, errlen, "field \"%s\" is empty", c->id[0] ? "verdict" : "id");
    rc = RPT_EMALFORMED;
    goto fail;
  }
  rc = 0;
fail:
  cJSON_Delete(o);
  if (rc) rpt_case_free(c);
  return rc;
}

int rpt_repro_command(const char *id, char **cmd) {
  static const char prefix[] = "powercut repro '";
  size_t n = sizeof prefix + 2, i, j;
  if (!id) return RPT_EINVAL;
  for (i = 0; id[i]; i++) n += id[i] == '\'' ? 4 : 1;
  char *out = malloc(n);
  if (!out) return RPT_ENOMEM;
  memcpy(out, prefix, sizeof prefix - 1);
  j = sizeof prefix - 1;
  for (i = 0; id[i]; i++) {
    if (id[i] == '\'') {
      memcpy(out + j, "'\\''", 4);
      j += 4;
    } else {
      out[j++] = id[i];
    }
  }
  out[j++] = '\'';
  out[j] = '\0';
  *cmd = out;
  return 0;
}

/* 1 when the row's repro is the minimized id's command with more arguments (a trace
 * state's `--record FILE`, written by the trace campaign) */
int rpt__repro_is_min(const rpt_case *c) {
  char *own = NULL;
  int is = 0;
  if (!c->minimized_id || !c->minimized_id[0] || !c->repro || rpt_repro_command(c->minimized_id, &own)) return 0;
  is = !strncmp(c->repro, own, strlen(own)) && c->repro[strlen(own)] == ' ';
  free(own);
  return is;
}

int rpt__min_repro(const rpt_case *c, char **cmd) {
  if (rpt__repro_is_min(c)) {
    *cmd = strdup(c->repro);
    return *cmd ? 0 : RPT_ENOMEM;
  }
  if (c->minimized_id && c->minimized_id[0])
    return rpt_repro_command(c->minimized_id, cmd);
  if (c->repro && c->repro[0]) {
    *cmd = strdup(c->repro);
    return *cmd ? 0 : RPT_ENOMEM;
  }
  return rpt_repro_command(c->id ? c->id : "", cmd);
}

void rpt_reach_label(const rpt_case *c, char *buf, size_t len) {
  const char *model = c->model ? c->model : "", *reach = c->reach ? c->reach : "";
  char fails[256] = "", passes[256] = "", item[128];
  size_t nf = 0, np = 0;
  if (!strncmp(model, "kernel-", 7)) {
    snprintf(buf, len, "found on real %s", model + 7);
    return;
  }
  if (!reach[0]) {
    snprintf(buf, len, "reachability on real file systems not checked");
    return;
  }
  for (const char *p = reach; *p;) {
    const char *e = strchr(p, ','), *eq;
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n >= sizeof item) n = sizeof item - 1;
    memcpy(item, p, n);
    item[n] = '\0';
    p += n + (e ? 1 : 0);
    if (!(eq = strchr(item, '='))) continue;
    item[eq - item] = '\0';
    if (!strcmp(eq + 1, "PASS")) {
      snprintf(passes + strlen(passes), sizeof passes - strlen(passes), "%s%s", np++ ? " or " : "", item);
    } else {
      snprintf(fails + strlen(fails), sizeof fails - strlen(fails), "%s%s (%s)", nf++ ? ", " : "", item, eq + 1);
    }
  }
  if (nf) snprintf(buf, len, "reachable on %s%s%s%s", fails, np ? "; not on " : "", passes, "");
  else snprintf(buf, len, "%s only: not reachable on %s", model, np ? passes : "(none)");
}
