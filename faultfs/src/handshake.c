/* handshake.c — the parent's side of the FAULTFS_HANDSHAKE file (docs/faultfs.md "What the
 * shim cannot see, and how powercut notices"). The shim appends "loaded PID EXE" when it
 * starts in a process image with FAULTFS_PLAN set, and "refused-io_uring_setup
 * PID EXE" for each io_uring_setup it fails with ENOSYS, and "msync-unmodelled PID EXE" the
 * first time a process msyncs a shared mapping of a tracked file; each line is one write(2) with
 * O_APPEND, so lines from a process tree or an exec chain never interleave.
 * Invariant: a line is complete (ends in '\n') or ignored, as in the fired record. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ffs_int.h"

static int parse_line(char *l, ffs_hs_line *out) {
  char *sp = strchr(l, ' '), *end;
  long pid;
  if (!sp) return -1;
  *sp = 0;
  if (!strcmp(l, FFS_HS_LOADED)) out->refused = 0;
  else if (!strcmp(l, FFS_HS_REFUSED)) out->refused = 1;
  else if (!strcmp(l, FFS_HS_MSYNC)) out->refused = 2;
  else return -1;
  errno = 0;
  pid = strtol(sp + 1, &end, 10);
  if (errno || end == sp + 1 || *end != ' ' || pid <= 0 || pid > 0x7fffffff) return -1;
  out->pid = (int)pid;
  snprintf(out->exe, sizeof out->exe, "%s", end + 1);
  return 0;
}

int ffs_handshake_read(const char *path, ffs_handshake *out) {
  char *buf = NULL;
  size_t len = 0, cap = 0;
  ssize_t r;
  int fd, rc = 0;
  memset(out, 0, sizeof *out);
  if (!path || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return FFS_EIO;
  for (;;) {
    if (len + 4096 > cap) {
      char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
      if (!nb) { rc = FFS_ENOMEM; goto out; }
      buf = nb;
    }
    r = read(fd, buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { rc = FFS_EIO; goto out; }
    if (r == 0) break;
    len += (size_t)r;
  }
  for (char *l = buf, *nl; l && l < buf + len && (nl = memchr(l, '\n', (size_t)(buf + len - l))); l = nl + 1) {
    ffs_hs_line line;
    *nl = 0;
    if (parse_line(l, &line) < 0) continue;
    ffs_hs_line *nv = realloc(out->v, (out->n + 1) * sizeof *nv);
    if (!nv) { rc = FFS_ENOMEM; goto out; }
    out->v = nv;
    out->v[out->n++] = line;
    if (line.refused == 1) out->nrefused++;
    else if (line.refused == 2) out->nmsync++;
    else out->nloaded++;
  }
out:
  close(fd);
  free(buf);
  if (rc < 0) ffs_handshake_free(out);
  return rc;
}

void ffs_handshake_free(ffs_handshake *h) {
  if (!h) return;
  free(h->v);
  memset(h, 0, sizeof *h);
}

int ffs_handshake_loaded(const ffs_handshake *h, int pid, const char *exe) {
  for (size_t i = 0; i < h->n; i++)
    if (!h->v[i].refused && h->v[i].pid == pid && !strcmp(h->v[i].exe, exe)) return 1;
  return 0;
}

int ffs_handshake_seccomp(const ffs_handshake *h) {
  for (size_t i = 0; i < h->n; i++)
    if (!h->v[i].refused && !strcmp(h->v[i].exe, FFS_HANDSHAKE_SECCOMP)) return 1;
  return 0;
}

int ffs_handshake_arm(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return FFS_EIO;
  close(fd);
  return setenv(FFS_ENV_HANDSHAKE, path, 1) == 0 ? 0 : FFS_ENOMEM;
}
