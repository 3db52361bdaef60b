/* locate.c — where the running executable's libraries are: libfaultfs.so and the
 * harness's peer plugins live in the library directory of the prefix the executable
 * was installed into (or in build/lib/ beside build/bin/). Only the relative path from
 * bindir to libdir is compiled in (FFS_BIN_TO_LIBDIR, from CMAKE_INSTALL_LIBDIR), so a
 * prefix moved as a whole still finds its files. */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ffs_int.h"

#ifndef FFS_BIN_TO_LIBDIR
#define FFS_BIN_TO_LIBDIR "../lib"
#endif

/* dir/rel with rel's leading "../" folded into dir, so messages name plain paths */
static void join_up(char *out, size_t len, const char *dir, const char *rel) {
  char d[FFS_PATH_MAX];
  snprintf(d, sizeof d, "%s", dir);
  while (!strncmp(rel, "../", 3) || !strcmp(rel, "..")) {
    char *slash = strrchr(d, '/');
    if (!slash || slash == d) break;
    *slash = '\0';
    rel += rel[2] ? 3 : 2;
  }
  snprintf(out, len, "%s%s%s", d, *rel ? "/" : "", rel);
}

int ffs_exe_libdirs(char dirs[FFS_LIBDIRS_MAX][FFS_PATH_MAX]) {
  char exe[FFS_PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  int k = 0;
  if (n <= 0) return 0;
  exe[n] = '\0';
  const char *bindir = dirname(exe);
  join_up(dirs[k++], FFS_PATH_MAX, bindir, FFS_BIN_TO_LIBDIR); /* an installed prefix */
  join_up(dirs[k], FFS_PATH_MAX, bindir, "../lib");            /* the build tree */
  if (strcmp(dirs[0], dirs[k])) k++;
  return k;
}

int ffs_shim_find(const char *env_var, char *path, size_t len, char *tried, size_t tlen) {
  const char *env = env_var ? getenv(env_var) : NULL;
  char dirs[FFS_LIBDIRS_MAX][FFS_PATH_MAX];
  size_t used = 0;
  if (env && *env) {
    snprintf(path, len, "%s", env);
    if (!access(path, R_OK)) return 0;
    snprintf(tried, tlen, "%s=%s", env_var, env);
    return FFS_ENOSHIM;
  }
  tried[0] = '\0';
  int n = ffs_exe_libdirs(dirs);
  for (int i = 0; i < n; i++) {
    snprintf(path, len, "%s/libfaultfs.so", dirs[i]);
    if (!access(path, R_OK)) return 0;
    if (used < tlen) used += (size_t)snprintf(tried + used, tlen - used, "%s%s", i ? ", " : "", path);
  }
  if (!n) snprintf(tried, tlen, "nothing: /proc/self/exe is unreadable");
  path[0] = '\0';
  return FFS_ENOSHIM;
}
