/* fired.c — the "fired" record in the state dir: one text line per firing, written by the
 * shim with a single write() before it acts, read back by the parent.
 * Line: "RULE ACTION OP CALL_INDEX MATCH_INDEX SITE PATH\n" (SITE: 16 hex digits, 0 = unknown;
 * PATH last: it may hold spaces).
 * Invariant: a line is either complete (ends in '\n') or ignored. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ffs_int.h"

static int parse_line(const char *l, size_t n, ffs_fired *f) {
  char buf[FFS_PATH_MAX + 128];
  char an[32], on[32];
  unsigned rule;
  unsigned long long ci, mi, site;
  int pos = 0;
  if (n >= sizeof buf) return FFS_ECORRUPT;
  memcpy(buf, l, n);
  buf[n] = 0;
  if (sscanf(buf, "%u %31s %31s %llu %llu %llx %n", &rule, an, on, &ci, &mi, &site, &pos) != 6 || !pos)
    return FFS_ECORRUPT;
  int a = ffs_action_from_name(an, strlen(an));
  int o = -1;
  for (int k = 0; k < FFS_OP_COUNT; k++)
    if (strcmp(on, ffs_op_name((ffs_op)k)) == 0) o = k;
  if (a < 0 || o < 0) return FFS_ECORRUPT;
  f->rule = rule;
  f->action = (ffs_action)a;
  f->op = (ffs_op)o;
  f->call_index = ci;
  f->match_index = mi;
  f->site = site;
  snprintf(f->path, sizeof f->path, "%s", buf + pos);
  return 0;
}

int ffs_fired_read(const char *state_dir, ffs_fired *out) {
  char path[FFS_PATH_MAX];
  char *data = NULL;
  int fd = -1, rc = FFS_EINVAL;
  size_t cap = 0, len = 0;
  if (!state_dir || !out) goto fail;
  memset(out, 0, sizeof *out);
  snprintf(path, sizeof path, "%s/%s", state_dir, FFS_STATE_FIRED);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { rc = errno == ENOENT ? FFS_ENOTFIRED : FFS_EIO; goto fail; }
  for (;;) {
    if (len + 4096 > cap) {
      cap = cap ? cap * 2 : 8192;
      char *nd = realloc(data, cap);
      if (!nd) { rc = FFS_ENOMEM; goto fail; }
      data = nd;
    }
    ssize_t r = read(fd, data + len, cap - len);
    if (r < 0) { if (errno == EINTR) continue; rc = FFS_EIO; goto fail; }
    if (r == 0) break;
    len += (size_t)r;
  }
  int have = 0, have_fatal = 0;
  size_t s = 0;
  for (size_t i = 0; i < len; i++) {
    if (data[i] != '\n') continue;
    ffs_fired f;
    memset(&f, 0, sizeof f);
    if (parse_line(data + s, i - s, &f) == 0) {
      int fatal = ffs_action_is_fatal(f.action);
      out->nfired++;
      if (ffs_action_is_powercut(f.action)) out->powercut = 1;
      if (ffs_action_get(f.action)->kill) out->killed = 1;
      if (!have || (fatal && !have_fatal)) {
        unsigned nf = out->nfired; int pc = out->powercut, k = out->killed;
        *out = f;
        out->nfired = nf; out->powercut = pc; out->killed = k;
        have = 1;
        have_fatal = fatal;
      }
    }
    s = i + 1;
  }
  rc = have ? 0 : FFS_ENOTFIRED;
fail:
  if (fd >= 0) close(fd);
  free(data);
  return rc;
}
