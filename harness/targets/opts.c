/*
 * opts.c - "k=v,k=v" option strings shared by the target adapters.
 * Unknown names are errors at the adapter (never silently ignored).
 */
#include "targets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pc_opts_each(const char *opts, pc_opt_fn fn, void *arg, char *msg, size_t len) {
  char buf[1024];
  char *save = NULL, *tok;
  int rc;
  if (!opts || !*opts) return 0;
  if (strlen(opts) >= sizeof buf) {
    snprintf(msg, len, "option string too long");
    return PC_EINVAL;
  }
  strcpy(buf, opts);
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok) {
      snprintf(msg, len, "option '%s' is not name=value", tok);
      return PC_EINVAL;
    }
    *eq = '\0';
    if ((rc = fn(arg, tok, eq + 1, msg, len))) return rc;
  }
  return 0;
}

int pc_opt_u64(const char *name, const char *val, uint64_t *out, char *msg, size_t len) {
  char *end;
  uint64_t mult = 1;
  errno = 0;
  if (val[0] < '0' || val[0] > '9') goto bad;
  unsigned long long v = strtoull(val, &end, 10);
  if (errno == ERANGE) mult = 0; /* out of range, said below once the suffix is checked */
  else if (errno) goto bad;
  if (*end == 'k' || *end == 'K') mult = mult ? 1024 : 0, end++;
  else if (*end == 'm' || *end == 'M') mult = mult ? 1024 * 1024 : 0, end++;
  else if (*end == 'g' || *end == 'G') mult = mult ? 1024ull * 1024 * 1024 : 0, end++;
  if (*end) goto bad;
  if (!mult || v > UINT64_MAX / mult) {
    snprintf(msg, len, "option %s: '%s' is out of range", name, val);
    return PC_EINVAL;
  }
  *out = v * mult;
  return 0;
bad:
  snprintf(msg, len, "option %s: '%s' is not a number", name, val);
  return PC_EINVAL;
}

int pc_opt_bool(const char *name, const char *val, int *out, char *msg, size_t len) {
  if (!strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "on")) *out = 1;
  else if (!strcmp(val, "0") || !strcmp(val, "false") || !strcmp(val, "off")) *out = 0;
  else {
    snprintf(msg, len, "option %s: '%s' is not a boolean (0/1)", name, val);
    return PC_EINVAL;
  }
  return 0;
}

int pc_opt_u64_pub(const char *val, uint64_t *out) {
  char msg[8];
  return pc_opt_u64("size", val, out, msg, sizeof msg);
}

int pc_target_copy_value(const void *src, size_t n, void **v, size_t *vl) {
  if (!(*v = malloc(n ? n : 1))) return PC_ENOMEM;
  if (n) memcpy(*v, src, n);
  *vl = n;
  return 1;
}
