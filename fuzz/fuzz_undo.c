/*
 * fuzz_undo.c - libFuzzer target for faultfs's parent-side rollback reading a
 * hostile undo log (faultfs/src/rollback.c, docs/format/undo.md).
 *
 * Layout per run: ROOT/data/{a.dat, sub/b.dat}, ROOT/state/undo (= the input,
 * with the header's magic/version forced on when mode bit 0 of byte 0 is set,
 * so that mutations reach the records), ROOT/outside.txt.
 * Invariant (faultfs.h contract 4 / docs/robustness.md): rollback changes
 * nothing outside ROOT/data and ROOT/state. The binary is linked with
 * -Wl,--wrap for open/unlink/rename/mkdir/rmdir, so every path the rollback
 * touches is checked BEFORE the call: a path outside the sandbox aborts (a
 * finding) instead of damaging the machine.
 */
#include "fuzz.h"
#include "faultfs.h"
#include "fuzz_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_root[PATH_MAX], g_data[PATH_MAX], g_state[PATH_MAX];

/* 1 if path (its parent resolved, the last component as given) is under
 * ROOT/data or ROOT/state; -1 if the parent does not exist. */
static int inside(const char *path) {
  char buf[PATH_MAX], real[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  char *slash = strrchr(buf, '/');
  const char *last = slash ? slash + 1 : buf;
  if (!slash) snprintf(real, sizeof real, ".");
  if (slash == buf) snprintf(real, sizeof real, "/");
  if (slash && slash != buf) *slash = 0;
  if (!realpath(slash && slash != buf ? buf : real, real)) return -1;
  if (!strcmp(last, "..")) return 0;
  size_t nd = strlen(g_data), ns = strlen(g_state);
  int in = (!strncmp(real, g_data, nd) && (real[nd] == 0 || real[nd] == '/')) ||
           (!strncmp(real, g_state, ns) && (real[ns] == 0 || real[ns] == '/'));
  /* the data dir itself may be named as ROOT/data (parent ROOT, last "data") */
  if (!in && !strcmp(real, g_root) && (!strcmp(last, "data") || !strcmp(last, "state"))) in = 1;
  return in;
}

static void guard(const char *op, const char *path, int writes) {
  if (!g_root[0] || !writes) return;
  int in = inside(path);
  if (in == 0) fz_fail("rollback: %s(%s) outside the data and state dirs", op, path);
}

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...) {
  mode_t mode = 0;
  if (flags & O_CREAT) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  guard("open", path, (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0);
  return __real_open(path, flags, mode);
}
int __real_unlink(const char *path);
int __wrap_unlink(const char *path);
int __wrap_unlink(const char *path) {
  guard("unlink", path, 1);
  return __real_unlink(path);
}
int __real_rmdir(const char *path);
int __wrap_rmdir(const char *path);
int __wrap_rmdir(const char *path) {
  guard("rmdir", path, 1);
  return __real_rmdir(path);
}
int __real_mkdir(const char *path, mode_t mode);
int __wrap_mkdir(const char *path, mode_t mode);
int __wrap_mkdir(const char *path, mode_t mode) {
  guard("mkdir", path, 1);
  return __real_mkdir(path, mode);
}
int __real_rename(const char *a, const char *b);
int __wrap_rename(const char *a, const char *b);
int __wrap_rename(const char *a, const char *b) {
  guard("rename from", a, 1);
  guard("rename to", b, 1);
  return __real_rename(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *root = fz_dir();
  char p[PATH_MAX], err[512];
  g_root[0] = 0; /* setup below is ours, unguarded */
  if (!realpath(root, g_root)) fz_fail("realpath %s", root);
  snprintf(g_data, sizeof g_data, "%s/data", g_root);
  snprintf(g_state, sizeof g_state, "%s/state", g_root);
  char groot[PATH_MAX];
  snprintf(groot, sizeof groot, "%s", g_root);
  g_root[0] = 0;
  mkdir(g_data, 0755);
  mkdir(g_state, 0755);
  snprintf(p, sizeof p, "%s/sub", g_data);
  mkdir(p, 0755);
  fz_write(g_data, "a.dat", "durable-a", 9);
  fz_write(p, "b.dat", "durable-b", 9);
  fz_write(groot, "outside.txt", "outside", 7);

  uint8_t *u = malloc(size);
  memcpy(u, data + 1, size - 1);
  if ((data[0] & 1) && size - 1 >= 16) {
    memcpy(u, "FFSUNDO1", 8);
    u[8] = 1, u[9] = u[10] = u[11] = 0;
  }
  fz_write(g_state, "undo", u, size - 1);
  free(u);

  snprintf(g_root, sizeof g_root, "%s", groot);
  ffs_rollback(g_state, g_data, err, sizeof err);
  ffs_rollback(g_state, g_data, err, sizeof err); /* idempotent: must not crash either */
  g_root[0] = 0;

  char buf[16] = "";
  snprintf(p, sizeof p, "%s/outside.txt", groot);
  int fd = open(p, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
  if (fd >= 0) close(fd);
  if (n != 7 || memcmp(buf, "outside", 7)) fz_fail("rollback changed %s", p);
  return 0;
}
