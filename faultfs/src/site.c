/* site.c — the crash site of a call: WHERE in the program it was made, as one 64-bit id.
 *
 * A site is the XXH64 of the call's stack (glibc backtrace()): up to FFS_SITE_FRAMES return
 * addresses below the shim's own frames (the frames above them, a sanitizer's interceptor
 * of backtrace() in an ASan-built program, are no part of it either), each made independent of ASLR as (basename of
 * its module from dladdr, offset from the module's base). Two calls from different places
 * differ; one call site gives one id in every run of the same binaries.
 *
 * The frames a call shares with the stack that configured the shim (ffs__site_anchor:
 * the harness's own callers, from the forked driver down to main) are left out, so the
 * same engine call has one site whether the driver was forked by a dry run or by a
 * campaign worker. Threads start their own stacks and share nothing with it.
 *
 * Only the shim links this file, and it runs only while a trace is written or when a rule
 * fires: never on the path of an untraced call.
 * Invariant: called with g_lock held (the anchor and the named-site set are not locked). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ffs_int.h"
#include "ffs_site.h"

#define SITE_DEPTH 64   /* frames walked: enough to find the frames shared with the anchor */
#define SITE_NAMED 1024 /* sites whose name this process wrote into the trace */

static void *g_anchor[SITE_DEPTH];
static int g_nanchor;
static const void *g_self; /* the shim's load base: its frames are skipped */
static uint64_t g_named[SITE_NAMED];

void ffs__site_anchor(void) {
  Dl_info di;
  if (!g_self && dladdr((void *)ffs__site_anchor, &di)) g_self = di.dli_fbase;
  /* the first backtrace() loads libgcc_s: do it here, not inside a traced call */
  g_nanchor = backtrace(g_anchor, SITE_DEPTH);
  memset(g_named, 0, sizeof g_named);
}

static const char *base_name(const char *p) {
  const char *s = p ? strrchr(p, '/') : NULL;
  return s ? s + 1 : (p && *p ? p : "?");
}

uint64_t ffs__site(char *name, size_t cap) {
  void *f[SITE_DEPTH];
  int n = backtrace(f, SITE_DEPTH), top = 0;
  Dl_info di;
  /* the shim's own frames; above them, a sanitizer's backtrace() interceptor may sit */
  while (top < n && !(dladdr(f[top], &di) && di.dli_fbase == g_self)) top++;
  while (top < n && dladdr(f[top], &di) && di.dli_fbase == g_self) top++;
  if (top >= n) top = 0; /* no frame of the shim (cannot happen): the whole walk */
  /* drop the frames shared with the anchor, bottom up (a walk cut at SITE_DEPTH cannot be
   * lined up with it: then the top frames alone) */
  if (n < SITE_DEPTH && g_nanchor < SITE_DEPTH)
    for (int a = g_nanchor; n > top + 1 && a > 0 && f[n - 1] == g_anchor[a - 1]; n--, a--) {}
  if (n - top > FFS_SITE_FRAMES) n = top + FFS_SITE_FRAMES;
  XXH64_state_t st;
  XXH64_reset(&st, 0);
  size_t len = 0;
  if (name && cap) name[0] = 0;
  for (int i = top; i < n; i++) {
    const char *mod = "?";
    uintptr_t base = 0;
    memset(&di, 0, sizeof di);
    if (dladdr(f[i], &di)) mod = base_name(di.dli_fname), base = (uintptr_t)di.dli_fbase;
    uint64_t off = (uint64_t)((uintptr_t)f[i] - base);
    XXH64_update(&st, mod, strlen(mod) + 1);
    XXH64_update(&st, &off, sizeof off);
    if (name && i - top < FFS_SITE_NAMED_FRAMES && len + 1 < cap) {
      int m;
      if (di.dli_sname)
        m = snprintf(name + len, cap - len, "%s%s+0x%llx (%s+0x%llx)", len ? " < " : "", di.dli_sname,
                     (unsigned long long)((uintptr_t)f[i] - (uintptr_t)di.dli_saddr), mod, (unsigned long long)off);
      else
        m = snprintf(name + len, cap - len, "%s%s+0x%llx", len ? " < " : "", mod, (unsigned long long)off);
      if (m > 0) len = (size_t)m < cap - len ? len + (size_t)m : cap - 1;
    }
  }
  uint64_t h = XXH64_digest(&st);
  return h ? h : 1; /* 0 means unknown */
}

int ffs__site_first(uint64_t site) {
  for (size_t i = 0; i < SITE_NAMED; i++) {
    uint64_t *s = &g_named[(site + i) % SITE_NAMED];
    if (*s == site) return 0;
    if (*s == 0) { *s = site; return 1; }
  }
  return 1; /* the set is full: name it again (the reader keeps the first name) */
}
