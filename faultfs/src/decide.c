/* decide.c — the plan decision and the encoding of fired lines and trace records, shared
 * by the preload shim (shim.c) and the seccomp supervisor (seccomp_sup.c); each does its
 * own I/O (the shim through its real_* pointers). Every choice is a function of (seed,
 * plan, call index, path). */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ffs_sc.h"

static int glob_match(const ffs_rule *r, const char *rel) { return !r->glob[0] || fnmatch(r->glob, rel, 0) == 0; }

void ffs__decide(const ffs_plan *plan, uint64_t *counts, ffs_op op, const char *rel, uint64_t index, uint64_t seed,
                 uint64_t want, ffs_decision *d) {
  memset(d, 0, sizeof *d);
  d->rule = -1;
  for (size_t i = 0; i < plan->nrules; i++) {
    const ffs_rule *r = &plan->rules[i];
    if (!ffs__op_matches(r->op, op) || !glob_match(r, rel)) continue;
    uint64_t k = ++counts[i];
    if (d->rule < 0 && (k == r->n || (r->plus && k > r->n))) d->rule = (int)i;
  }
  if (d->rule < 0) return;
  const ffs_rule *r = &plan->rules[d->rule];
  d->action = r->action;
  switch (r->action) {
    case FFS_A_TORN:
      d->keep = r->has_arg ? r->arg : (ffs_mix(seed ^ index) % (want / 512 + 1)) * 512;
      if (d->keep > want) d->keep = want;
      break;
    case FFS_A_EIO: d->fail_errno = EIO; break;
    case FFS_A_ENOSPC: d->fail_errno = ENOSPC; break;
    case FFS_A_EDQUOT: d->fail_errno = EDQUOT; break;
    case FFS_A_SHORT: d->keep = r->has_arg ? (r->arg < want ? r->arg : want) : want / 2; break;
    case FFS_A_FLIP:
      d->flip_bit = r->has_arg ? r->arg : ffs_mix(seed ^ (index * 0x9e3779b97f4a7c15ull));
      d->flip_has_arg = r->has_arg;
      break;
    default: break;
  }
}

int ffs__fired_line(char *line, size_t cap, const ffs_plan *plan, int rule, ffs_op op, uint64_t index,
                    uint64_t match, uint64_t site, const char *rel, unsigned *nfired) {
  if ((*nfired)++ >= 64 && !ffs_action_is_fatal(plan->rules[rule].action)) return 0;
  int n = snprintf(line, cap, "%d %s %s %llu %llu %016llx %s\n", rule, ffs_action_name(plan->rules[rule].action),
                   ffs_op_name(op), (unsigned long long)index, (unsigned long long)match,
                   (unsigned long long)site, rel);
  if (n > (int)cap - 1) n = (int)cap - 1;
  return n < 0 ? 0 : n;
}

size_t ffs__trace_encode(unsigned char *buf, ffs_op op, uint64_t index, uint32_t dur, int64_t off, uint64_t len,
                         int64_t res, const char *p1, const char *p2, uint64_t site, const char *name) {
  ffs_trec h = {0};
  size_t l1 = p1 ? strlen(p1) : 0, l2 = p2 ? strlen(p2) : 0, l3 = name ? strlen(name) : 0;
  if (l1 >= FFS_PATH_MAX) l1 = FFS_PATH_MAX - 1;
  if (l2 >= FFS_PATH_MAX) l2 = FFS_PATH_MAX - 1;
  if (l3 >= FFS_SITE_NAME_MAX) l3 = FFS_SITE_NAME_MAX - 1;
  h.len = (uint32_t)(sizeof h + l1 + l2 + l3);
  h.sitelen = (uint16_t)l3;
  h.site = site;
  h.op = (uint16_t)op;
  h.pathlen = (uint16_t)l1;
  h.path2len = (uint16_t)l2;
  h.dur = dur;
  h.index = index;
  h.offset = off;
  h.length = len;
  h.result = res;
  memcpy(buf, &h, sizeof h);
  if (l1) memcpy(buf + sizeof h, p1, l1);
  if (l2) memcpy(buf + sizeof h + l1, p2, l2);
  if (l3) memcpy(buf + sizeof h + l1 + l2, name, l3);
  return h.len;
}
