/* undo.c — the undo-log writer of both backends (see ffs_undo.h for its invariants and
 * docs/format/undo.md for the records). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ffs_undo.h"

ffs_undo_hdr *ffs__undo_hdr(const ffs_undo *u) { return (ffs_undo_hdr *)u->log; }

static int park(ffs_undo *u, int fd) { return u->io.park_fd && fd >= 0 ? u->io.park_fd(fd) : fd; }

int ffs__undo_open(ffs_undo *u, uint64_t seed, char *err, size_t errlen) {
  char path[PATH_MAX];
  u->dirlen = strlen(u->dir);
  snprintf(path, sizeof path, "%s/%s", u->state, FFS_STATE_UNDO);
  u->log_fd = park(u, u->io.openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  u->log_cap = 1u << 20;
  if (u->log_fd < 0 || u->io.ftruncate(u->log_fd, (off_t)u->log_cap) < 0 ||
      (u->log = mmap(NULL, u->log_cap, PROT_READ | PROT_WRITE, MAP_SHARED, u->log_fd, 0)) == MAP_FAILED) {
    snprintf(err, errlen, "undo log %s: %s", path, strerror(errno));
    u->log = NULL;
    return FFS_EIO;
  }
  ffs_undo_hdr *h = ffs__undo_hdr(u);
  memset(h, 0, sizeof *h);
  h->version = FFS_UNDO_VERSION;
  h->model = (uint32_t)u->model;
  h->seed = seed;
  memcpy(h->magic, FFS_UNDO_MAGIC, 8);
  return 0;
}

void ffs__undo_reset(ffs_undo *u) {
  for (size_t i = 0; i < u->nnodes; i++) {
    free(u->nodes[i].rel);
    free(u->nodes[i].saved.v);
    if (u->nodes[i].rfd >= 0) u->io.close(u->nodes[i].rfd);
  }
  free(u->nodes);
  u->nodes = NULL;
  u->nnodes = u->nodes_cap = 0;
  for (size_t i = 0; i < u->nfresh; i++) free(u->fresh[i]);
  free(u->fresh);
  u->fresh = NULL;
  u->nfresh = 0;
  u->victims = 0;
  if (u->log) munmap(u->log, u->log_cap);
  u->log = NULL;
  if (u->log_fd >= 0) u->io.close(u->log_fd);
  u->log_fd = -1;
}

/* ---- records ------------------------------------------------------------------------- */
/* Reserves a record; returns its payload area (plen bytes) or NULL. Commit with commit(). */
static unsigned char *reserve(ffs_undo *u, uint32_t type, int32_t fid, uint64_t a, uint64_t b, uint64_t c,
                              size_t plen, size_t *reclen) {
  if (!u->log) return NULL;
  size_t len = (sizeof(ffs_urec) + plen + 7) & ~(size_t)7;
  size_t need = sizeof(ffs_undo_hdr) + ffs__undo_hdr(u)->used + len;
  if (need > u->log_cap) {
    size_t nc = u->log_cap * 2;
    while (nc < need) nc *= 2;
    if (u->io.ftruncate(u->log_fd, (off_t)nc) < 0) return NULL;
    void *m = mremap(u->log, u->log_cap, nc, MREMAP_MAYMOVE);
    if (m == MAP_FAILED) return NULL;
    u->log = m;
    u->log_cap = nc;
  }
  ffs_urec *r = (ffs_urec *)(u->log + sizeof(ffs_undo_hdr) + ffs__undo_hdr(u)->used);
  r->type = type;
  r->len = (uint32_t)len;
  r->fid = fid;
  r->plen = (uint32_t)plen;
  r->a = a;
  r->b = b;
  r->c = c;
  *reclen = len;
  return (unsigned char *)(r + 1);
}

static void commit(ffs_undo *u, size_t reclen) {
  ffs_undo_hdr *h = ffs__undo_hdr(u);
  __atomic_store_n(&h->used, h->used + reclen, __ATOMIC_RELEASE);
}

static int ffs__undo_rec(ffs_undo *u, uint32_t type, int32_t fid, uint64_t a, uint64_t b, uint64_t c, const char *s1,
                  const char *s2) {
  size_t l1 = s1 ? strlen(s1) + 1 : 0, l2 = s2 ? strlen(s2) + 1 : 0, rl;
  unsigned char *p = reserve(u, type, fid, a, b, c, l1 + l2, &rl);
  if (!p) return -1;
  if (l1) memcpy(p, s1, l1);
  if (l2) memcpy(p + l1, s2, l2);
  commit(u, rl);
  return 0;
}

/* ---- nodes --------------------------------------------------------------------------- */
static int take_fresh(ffs_undo *u, const char *rel) {
  for (size_t i = 0; i < u->nfresh; i++)
    if (!strcmp(u->fresh[i], rel)) {
      free(u->fresh[i]);
      u->fresh[i] = u->fresh[--u->nfresh];
      return 1;
    }
  return 0;
}

int32_t ffs__undo_node(ffs_undo *u, const struct stat *st, const char *rel, int created) {
  for (size_t i = 0; i < u->nnodes; i++)
    if (u->nodes[i].ino == (uint64_t)st->st_ino && u->nodes[i].dev == (uint64_t)st->st_dev) {
      if (strcmp(u->nodes[i].rel, rel) != 0) {
        char *r = strdup(rel);
        if (r) { free(u->nodes[i].rel); u->nodes[i].rel = r; }
      }
      return (int32_t)i;
    }
  if (created < 0) created = take_fresh(u, rel);
  if (u->nnodes == u->nodes_cap) {
    size_t nc = u->nodes_cap ? u->nodes_cap * 2 : 64;
    ffs_unode *nn = realloc(u->nodes, nc * sizeof *nn);
    if (!nn) return -1;
    u->nodes = nn;
    u->nodes_cap = nc;
  }
  ffs_unode *n = &u->nodes[u->nnodes];
  memset(n, 0, sizeof *n);
  n->dev = (uint64_t)st->st_dev;
  n->ino = (uint64_t)st->st_ino;
  n->rel = strdup(rel);
  if (!n->rel) return -1;
  n->isdir = S_ISDIR(st->st_mode);
  n->rfd = -1;
  n->created = created;
  n->D = n->P = created ? 0 : (uint64_t)st->st_size;
  return (int32_t)u->nnodes++;
}

int32_t ffs__undo_node_ino(const ffs_undo *u, uint64_t dev, uint64_t ino) {
  for (size_t i = 0; i < u->nnodes; i++)
    if (u->nodes[i].ino == ino && u->nodes[i].dev == dev) return (int32_t)i;
  return -1;
}

int ffs__undo_foreign(const ffs_undo *u, const struct stat *st) {
  return S_ISREG(st->st_mode) && st->st_nlink > 1 && ffs__undo_node_ino(u, (uint64_t)st->st_dev, (uint64_t)st->st_ino) < 0;
}

static void abs_of(const ffs_undo *u, const char *rel, char *out) {
  if (strcmp(rel, ".") == 0) snprintf(out, PATH_MAX, "%s", u->dir);
  else snprintf(out, PATH_MAX, "%s/%s", u->dir, rel);
}

static uint64_t fd_size(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* ---- data: saving old bytes --------------------------------------------------------- */
typedef struct { ffs_undo *u; int fd; int32_t nid; int own; } save_ctx;

/* Saves [off, end) of the file's bytes from x->fd. */
static void save_bytes(save_ctx *x, uint64_t off, uint64_t end) {
  while (off < end) {
    size_t chunk = end - off > (1u << 20) ? (1u << 20) : (size_t)(end - off), rl;
    unsigned char *p = reserve(x->u, FFS_U_OLD, x->nid, off, chunk, 0, chunk, &rl);
    if (!p) return;
    ssize_t got = x->u->io.pread(x->fd, p, chunk, (off_t)off);
    if (got <= 0) return; /* nothing there: nothing to restore */
    ffs_urec *r = (ffs_urec *)p - 1;
    r->b = (uint64_t)got;
    r->plen = (uint32_t)got;
    r->len = (uint32_t)((sizeof(ffs_urec) + (size_t)got + 7) & ~(size_t)7);
    commit(x->u, r->len);
    if ((size_t)got < chunk) return;
    off += chunk;
  }
}

/* Saves the current bytes of [off, end) of node nid (via fd) before they change. A hole is
 * saved as one OLD record without payload (c = FFS_OLD_HOLE): a sparse file of any size
 * costs the log what its data costs. Holes are looked up only on the shim's own fd (lseek
 * moves the offset, which the program's fd must keep). */
static int save_range(void *vctx, uint64_t off, uint64_t end) {
  save_ctx *x = vctx;
  if (!x->own) {
    save_bytes(x, off, end);
    return 0;
  }
  uint64_t size = fd_size(x->fd);
  if (end > size) end = size;
  while (off < end) {
    off_t d = lseek(x->fd, (off_t)off, SEEK_DATA);
    if (d < 0 && errno != ENXIO) { /* no SEEK_DATA here: every byte is data */
      save_bytes(x, off, end);
      return 0;
    }
    uint64_t data = d < 0 || (uint64_t)d > end ? end : (uint64_t)d;
    if (data > off) {
      ffs__undo_rec(x->u, FFS_U_OLD, x->nid, off, data - off, FFS_OLD_HOLE, NULL, NULL);
      off = data;
      continue;
    }
    off_t h = lseek(x->fd, (off_t)off, SEEK_HOLE);
    uint64_t hole = h < 0 || (uint64_t)h > end || (uint64_t)h <= off ? end : (uint64_t)h;
    save_bytes(x, off, hole);
    off = hole;
  }
  return 0;
}

/* A readable fd on the same inode as fd (reopened through /proc/self/fd, which works for
 * write-only and unlinked files too), cached per node. */
static int node_rfd(ffs_undo *u, int fd, int32_t nid) {
  ffs_unode *n = &u->nodes[nid];
  if (n->rfd >= 0) return n->rfd;
  char lp[64];
  snprintf(lp, sizeof lp, "/proc/self/fd/%d", fd);
  n->rfd = park(u, u->io.openat(AT_FDCWD, lp, O_RDONLY | O_CLOEXEC));
  return n->rfd >= 0 ? n->rfd : fd;
}

static void save_old(ffs_undo *u, int fd, int32_t nid, uint64_t off, uint64_t len) {
  int rfd = node_rfd(u, fd, nid);
  save_ctx x = {u, rfd, nid, rfd != fd};
  iv_gaps(&u->nodes[nid].saved, off, off + len, save_range, &x);
  iv_add(&u->nodes[nid].saved, off, off + len);
}

static uint32_t epoch_begin(ffs_undo *u, int32_t nid) {
  ffs_unode *n = &u->nodes[nid];
  if (n->epoch) return 0;
  ffs__undo_rec(u, FFS_U_DIRTY, nid, n->D, n->P, n->ino, n->rel, NULL);
  n->epoch = 1;
  n->saved.n = 0;
  return FFS_DUR_DIRTY;
}

/* Before a change of [off, off+len) of node nid through fd whose size is cur. */
static uint32_t before_change(ffs_undo *u, int fd, int32_t nid, uint64_t off, uint64_t len, uint64_t cur, int log_w) {
  ffs_unode *n = &u->nodes[nid];
  uint32_t dur = epoch_begin(u, nid);
  uint64_t lim = n->P < cur ? n->P : cur;
  if (off < lim) save_old(u, fd, nid, off, (off + len > lim ? lim : off + len) - off);
  if (log_w) ffs__undo_rec(u, FFS_U_W, nid, off, len, 0, NULL, NULL);
  return dur;
}

uint32_t ffs__undo_write(ffs_undo *u, int fd, int32_t nid, uint64_t woff, uint64_t len, uint64_t cur) {
  ffs_unode *n = &u->nodes[nid];
  if (n->isdir) return 0;
  if (cur == UINT64_MAX) {
    cur = 0;
    if (woff < n->P) {
      uint64_t e = woff + len < n->P ? woff + len : n->P;
      /* the size only matters if some of these bytes still need saving: saved ranges
       * count in the open epoch only (a new epoch saves every byte again) */
      if (!n->epoch || !iv_covers(&n->saved, woff, e)) cur = fd_size(fd);
    }
  }
  return before_change(u, fd, nid, woff, len, cur, 1);
}

uint32_t ffs__undo_trunc(ffs_undo *u, int fd, int32_t nid, uint64_t nl) {
  uint64_t cur = fd_size(fd);
  if (nl < cur) return before_change(u, fd, nid, nl, cur - nl, cur, 0);
  return epoch_begin(u, nid);
}

uint32_t ffs__undo_falloc(ffs_undo *u, int fd, int32_t nid, uint64_t off, uint64_t len) {
  return before_change(u, fd, nid, off, len, fd_size(fd), 1);
}

uint32_t ffs__undo_ptrunc(ffs_undo *u, const char *rel, uint64_t nl, int *foreign) {
  char abs[PATH_MAX];
  struct stat st;
  uint32_t dur = 0;
  *foreign = 0;
  abs_of(u, rel, abs);
  if (stat(abs, &st) < 0 || !S_ISREG(st.st_mode)) return 0;
  if (ffs__undo_foreign(u, &st)) { *foreign = 1; return FFS_DUR_WARN; }
  int fd = u->io.openat(AT_FDCWD, abs, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int32_t id = ffs__undo_node(u, &st, rel, 0);
  if (id >= 0) {
    if (nl < (uint64_t)st.st_size) dur = before_change(u, fd, id, nl, (uint64_t)st.st_size - nl, (uint64_t)st.st_size, 0);
    else dur = epoch_begin(u, id);
  }
  u->io.close(fd);
  return dur;
}

uint32_t ffs__undo_open_path(ffs_undo *u, const char *rel, int flags, int remember, int *creating, int *foreign) {
  char abs[PATH_MAX];
  struct stat st;
  uint32_t dur = 0;
  abs_of(u, rel, abs);
  int exists = stat(abs, &st) == 0;
  *creating = !exists && (flags & O_CREAT);
  *foreign = exists && ffs__undo_foreign(u, &st);
  if (*foreign) return FFS_DUR_WARN;
  if (*creating) {
    ffs__undo_rec(u, FFS_U_CREATE, -1, 0, 0, 0, rel, NULL);
    if (remember) {
      char **nf = realloc(u->fresh, (u->nfresh + 1) * sizeof *nf);
      char *r = strdup(rel);
      if (nf) u->fresh = nf;
      if (nf && r) u->fresh[u->nfresh++] = r;
      else free(r);
    }
    return FFS_DUR_NSCHANGE;
  }
  if (exists && (flags & O_TRUNC) && S_ISREG(st.st_mode) && (flags & O_ACCMODE) != O_RDONLY && st.st_size > 0) {
    int32_t id = ffs__undo_node(u, &st, rel, 0);
    int rfd = u->io.openat(AT_FDCWD, abs, O_RDONLY | O_CLOEXEC);
    if (id >= 0 && rfd >= 0) dur = before_change(u, rfd, id, 0, (uint64_t)st.st_size, (uint64_t)st.st_size, 0);
    if (rfd >= 0) u->io.close(rfd);
  }
  return dur;
}

/* ---- namespace ------------------------------------------------------------------------ */
/* Victim: a hard link (or copy) of path into the state dir, kept for undo. */
static uint64_t make_victim(ffs_undo *u, const char *abs) {
  char vp[PATH_MAX];
  uint64_t v = u->victims++;
  snprintf(vp, sizeof vp, "%s/%s%llu", u->state, FFS_STATE_VICTIMS, (unsigned long long)v);
  if (u->io.link(abs, vp) == 0) return v;
  if (errno != EXDEV && errno != EPERM && errno != EMLINK) return UINT64_MAX;
  int in = u->io.openat(AT_FDCWD, abs, O_RDONLY | O_CLOEXEC), out = -1;
  if (in < 0) return UINT64_MAX;
  out = u->io.openat(AT_FDCWD, vp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) { u->io.close(in); return UINT64_MAX; }
  char buf[65536];
  ssize_t r;
  while ((r = u->io.read(in, buf, sizeof buf)) > 0)
    if (u->io.write(out, buf, (size_t)r) != r) break;
  u->io.close(in);
  u->io.close(out);
  return v;
}

static void log_unlink(ffs_undo *u, const char *rel, const char *abs, const struct stat *st) {
  uint64_t v = make_victim(u, abs);
  if (v != UINT64_MAX)
    ffs__undo_rec(u, FFS_U_UNLINK, ffs__undo_node_ino(u, (uint64_t)st->st_dev, (uint64_t)st->st_ino),
                  (uint64_t)st->st_ino, v, 0, rel, NULL);
}

uint32_t ffs__undo_unlink(ffs_undo *u, const char *rel) {
  char abs[PATH_MAX];
  struct stat st;
  abs_of(u, rel, abs);
  if (lstat(abs, &st) < 0) return 0;
  if (S_ISDIR(st.st_mode)) {
    ffs__undo_rec(u, FFS_U_RMDIR, -1, 0, 0, 0, rel, NULL);
  } else {
    uint64_t v = make_victim(u, abs);
    if (v == UINT64_MAX) return 0;
    ffs__undo_rec(u, FFS_U_UNLINK, ffs__undo_node_ino(u, (uint64_t)st.st_dev, (uint64_t)st.st_ino), (uint64_t)st.st_ino,
                  v, 0, rel, NULL);
  }
  return FFS_DUR_NSCHANGE;
}

uint32_t ffs__undo_rmdir(ffs_undo *u, const char *rel) {
  /* only a directory that exists can be removed: nothing to undo otherwise */
  char abs[PATH_MAX];
  struct stat st;
  abs_of(u, rel, abs);
  if (lstat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) return 0;
  ffs__undo_rec(u, FFS_U_RMDIR, -1, 0, 0, 0, rel, NULL);
  return FFS_DUR_NSCHANGE;
}

uint32_t ffs__undo_mkdir(ffs_undo *u, const char *rel) {
  /* mkdir of an existing path fails with EEXIST and changes nothing: logging it would
   * make the rollback remove a directory that was already there (e.g. an engine that
   * calls mkdir(dir) on every open) */
  char abs[PATH_MAX];
  struct stat st;
  abs_of(u, rel, abs);
  if (lstat(abs, &st) == 0) return 0;
  ffs__undo_rec(u, FFS_U_MKDIR, -1, 0, 0, 0, rel, NULL);
  return FFS_DUR_NSCHANGE;
}

uint32_t ffs__undo_rename(ffs_undo *u, const char *rel, const char *rel2) {
  char a1[PATH_MAX], a2[PATH_MAX];
  struct stat s1, s2;
  if (!rel[0] || !rel2[0]) { /* crosses the data dir boundary */
    if (rel[0]) { /* moved out: an unlink of rel */
      abs_of(u, rel, a1);
      if (lstat(a1, &s1) < 0 || S_ISDIR(s1.st_mode)) return 0;
      log_unlink(u, rel, a1, &s1);
    } else { /* moved in: a create of rel2, replacing what was there */
      abs_of(u, rel2, a2);
      if (lstat(a2, &s2) == 0 && !S_ISDIR(s2.st_mode)) log_unlink(u, rel2, a2, &s2);
      ffs__undo_rec(u, FFS_U_CREATE, -1, 0, 0, 0, rel2, NULL);
    }
    return FFS_DUR_NSCHANGE;
  }
  abs_of(u, rel, a1);
  abs_of(u, rel2, a2);
  if (lstat(a1, &s1) < 0) return 0;
  uint64_t v = UINT64_MAX;
  int32_t vfid = -1;
  if (lstat(a2, &s2) == 0 && !S_ISDIR(s2.st_mode) && s2.st_ino != s1.st_ino) {
    v = make_victim(u, a2);
    vfid = ffs__undo_node_ino(u, (uint64_t)s2.st_dev, (uint64_t)s2.st_ino);
  }
  int32_t sfid = ffs__undo_node_ino(u, (uint64_t)s1.st_dev, (uint64_t)s1.st_ino);
  ffs__undo_rec(u, FFS_U_RENAME, sfid, (uint64_t)s1.st_ino, v, (uint64_t)(int64_t)vfid, rel, rel2);
  return FFS_DUR_NSCHANGE;
}

uint32_t ffs__undo_link(ffs_undo *u, const char *rel, const char *rel2) {
  char a1[PATH_MAX];
  struct stat s1;
  if (!rel[0] || !rel2[0]) return 0;
  abs_of(u, rel, a1);
  if (lstat(a1, &s1) < 0) return 0;
  ffs__undo_rec(u, FFS_U_LINK, -1, (uint64_t)s1.st_ino, 0, 0, rel, rel2);
  return FFS_DUR_NSCHANGE;
}

uint32_t ffs__undo_lost(ffs_undo *u, int32_t nid) {
  if (nid < 0 || !u->nodes[nid].epoch || u->nodes[nid].isdir) return 0;
  ffs__undo_rec(u, FFS_U_LOST, nid, 0, 0, 0, NULL, NULL); /* fsyncgate */
  u->nodes[nid].saved.n = 0;
  return FFS_DUR_LOST;
}

/* ---- after ---------------------------------------------------------------------------- */
uint32_t ffs__undo_kept(ffs_undo *u, int32_t nid, uint64_t off, uint64_t n) {
  ffs_unode *x = &u->nodes[nid];
  ffs__undo_rec(u, FFS_U_KEEP, nid, off, n, 0, NULL, NULL);
  x->saved.n = 0; /* later overwrites must save the kept bytes again */
  if (off + n > x->P) x->P = off + n;
  return FFS_DUR_KEEP;
}

uint32_t ffs__undo_synced(ffs_undo *u, int fd, int32_t nid) {
  ffs_unode *n = &u->nodes[nid];
  if (n->isdir) {
    ffs__undo_rec(u, FFS_U_DSYNC, -1, 0, 0, 0, n->rel, NULL);
    return FFS_DUR_DIRSYNC;
  }
  /* ext4 (and XFS): this sync commits the journal when the file has a change it must make
   * durable with its data, its creation or a new size; the commit takes every earlier
   * metadata change of any file with it (docs/faultfs.md) */
  uint32_t dur = FFS_DUR_SYNC;
  int commit_all = 0;
  if (n->epoch) {
    uint64_t sz = fd_size(fd);
    commit_all = sz != n->D;
    ffs__undo_rec(u, FFS_U_SYNC, nid, sz, 0, 0, NULL, NULL);
    n->D = n->P = sz;
    n->epoch = 0;
  }
  int journal = u->model == FFS_MODEL_EXT4 || u->model == FFS_MODEL_XFS;
  if (journal && n->created) {
    ffs__undo_rec(u, FFS_U_DENTRY, nid, 0, 0, 0, n->rel, NULL);
    n->created = 0;
    commit_all = 1;
  }
  if (journal && commit_all) {
    ffs__undo_rec(u, FFS_U_SYNCALL, -1, 0, 0, 0, NULL, NULL);
    for (size_t i = 0; i < u->nnodes; i++) u->nodes[i].created = 0; /* committed with it */
    dur |= FFS_DUR_DIRSYNC;
  }
  return dur;
}

uint32_t ffs__undo_synced_all(ffs_undo *u) {
  for (size_t i = 0; i < u->nnodes; i++) {
    ffs_unode *n = &u->nodes[i];
    if (n->isdir || !n->epoch) continue;
    char abs[PATH_MAX];
    struct stat st;
    abs_of(u, n->rel, abs);
    uint64_t sz = n->rfd >= 0 && fstat(n->rfd, &st) == 0 ? (uint64_t)st.st_size
                  : stat(abs, &st) == 0 && (uint64_t)st.st_ino == n->ino ? (uint64_t)st.st_size : n->D;
    ffs__undo_rec(u, FFS_U_SYNC, (int32_t)i, sz, 0, 0, NULL, NULL);
    n->D = n->P = sz;
    n->epoch = 0;
    n->created = 0;
  }
  ffs__undo_rec(u, FFS_U_SYNCALL, -1, 0, 0, 0, NULL, NULL);
  return FFS_DUR_SYNC | FFS_DUR_DIRSYNC;
}

void ffs__undo_renamed(ffs_undo *u, const char *rel, const char *rel2) {
  char a2[PATH_MAX];
  struct stat st;
  if (!rel2[0]) return;
  abs_of(u, rel2, a2);
  if (lstat(a2, &st) < 0) return;
  if (S_ISDIR(st.st_mode) && rel[0]) { /* a directory moved: so did every node under it */
    size_t lo = strlen(rel);
    for (size_t i = 0; i < u->nnodes; i++) {
      const char *r = u->nodes[i].rel;
      if (strncmp(r, rel, lo) != 0 || r[lo] != '/') continue;
      char buf[PATH_MAX];
      snprintf(buf, sizeof buf, "%s%s", rel2, r + lo);
      char *p = strdup(buf);
      if (p) { free(u->nodes[i].rel); u->nodes[i].rel = p; }
    }
  }
  int32_t id = ffs__undo_node_ino(u, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
  if (id >= 0) {
    char *p = strdup(rel2);
    if (p) { free(u->nodes[id].rel); u->nodes[id].rel = p; }
  }
}
