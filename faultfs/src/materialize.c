/* materialize.c — crash states from a record (docs/format/record.md, docs/powercut.md
 * "Trace-based crash states").
 *
 * A replay applies the record's calls, in order, to a work dir that starts as the pristine
 * data dir, and logs each one through the undo-log writer of the shim (undo.c) exactly as the
 * shim does around the real call: the "before" function, the change, the "after" function.
 * The undo log of the replay at cut point i is then the log the live run had when its call i
 * was about to run, and the crash state is what the live power cut makes of it: the rollback
 * engine (rollback.c) run on a copy of the work dir. No model rule lives in this file.
 * Invariants:
 *  (1) the work dir and its undo log only move forward, one record at a time; a state is
 *      built in a separate dir (kill: a copy; crash: a copy rolled back; torn: the prefix
 *      written and logged, the copy rolled back, then the prefix, the log and the node put
 *      back as they were);
 *  (2) the rollback checks inode numbers (renames, files): a copy has new ones, so the
 *      copied log's inode fields are translated from the work dir's inodes to the copy's
 *      (DIRTY c, UNLINK a, RENAME a, LINK a); an inode found in neither maps to 0 (no file);
 *  (3) a call the replay cannot repeat (a file moved in from outside the data dir, a write
 *      to a file it cannot find) is an error naming the call, never skipped. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ffs_undo.h"

typedef struct { char *rel; int fd; } fdslot;

struct ffs_replay {
  ffs_undo u;
  uint64_t scanned;   /* undo-log bytes looked at for durability records */
  uint64_t durgen;    /* applied calls that changed what is durable (ffs_replay_durable_gen) */
  char work[PATH_MAX], state[PATH_MAX];
  fdslot *fds;        /* open fds of the work dir's files, by path (dropped at every namespace change) */
  size_t nfds, capfds;
};

typedef struct { uint64_t from, to; } inomap_ent;
typedef struct { inomap_ent *v; size_t n, cap; } inomap;

static int rp_err(char *err, size_t errlen, int rc, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static int sys_openat(int d, const char *p, int fl, ...) {
  mode_t m = 0;
  if (fl & (O_CREAT | __O_TMPFILE)) {
    va_list ap;
    va_start(ap, fl);
    m = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  return openat(d, p, fl, m);
}

static void abs_of(const ffs_replay *rp, const char *dir, const char *rel, char *out) {
  (void)rp;
  if (!strcmp(rel, ".")) snprintf(out, PATH_MAX, "%s", dir);
  else snprintf(out, PATH_MAX, "%s/%s", dir, rel);
}

static void drop_fds(ffs_replay *rp) {
  for (size_t i = 0; i < rp->nfds; i++) {
    close(rp->fds[i].fd);
    free(rp->fds[i].rel);
  }
  rp->nfds = 0;
}

/* An fd and undo node of the file or dir rel of the work dir; -1 if it is not there. */
static int get_fd(ffs_replay *rp, const char *rel, int32_t *nid) {
  char abs[PATH_MAX];
  struct stat st;
  int fd = -1;
  for (size_t i = 0; i < rp->nfds; i++)
    if (!strcmp(rp->fds[i].rel, rel)) { fd = rp->fds[i].fd; break; }
  if (fd < 0) {
    abs_of(rp, rp->work, rel, abs);
    fd = open(abs, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == EISDIR) fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (rp->nfds == rp->capfds) {
      size_t nc = rp->capfds ? rp->capfds * 2 : 16;
      fdslot *nv = realloc(rp->fds, nc * sizeof *nv);
      if (!nv) { close(fd); return -1; }
      rp->fds = nv;
      rp->capfds = nc;
    }
    rp->fds[rp->nfds].rel = strdup(rel);
    if (!rp->fds[rp->nfds].rel) { close(fd); return -1; }
    rp->fds[rp->nfds++].fd = fd;
  }
  if (fstat(fd, &st) < 0 || (*nid = ffs__undo_node(&rp->u, &st, rel, 0)) < 0) return -1;
  return fd;
}

int ffs_replay_open(const char *work, const char *state, ffs_model model, ffs_replay **out, char *err,
                    size_t errlen) {
  ffs_replay *rp;
  int rc;
  *out = NULL;
  if ((unsigned)model >= FFS_MODEL_COUNT || ffs_model_fs(model))
    return rp_err(err, errlen, FFS_EINVAL, "model %s: a replay takes strict, ext4, xfs or reorder", ffs_model_name(model));
  if (!(rp = calloc(1, sizeof *rp))) return FFS_ENOMEM;
  rp->u.log_fd = -1;
  if (!realpath(work, rp->work)) {
    rc = rp_err(err, errlen, FFS_ENODIR, "replay work dir %s: %s", work, strerror(errno));
    goto fail;
  }
  if ((rc = ffs_state_claim(state, err, errlen)) < 0) goto fail;
  if (!realpath(state, rp->state)) {
    rc = rp_err(err, errlen, FFS_ENODIR, "replay state dir %s: %s", state, strerror(errno));
    goto fail;
  }
  ffs_state_clear(rp->state);
  rp->u.io = (ffs_undo_io){.pread = pread, .openat = sys_openat, .close = close, .link = link, .read = read,
                           .write = write, .ftruncate = ftruncate, .park_fd = NULL};
  rp->u.dir = rp->work;
  rp->u.state = rp->state;
  rp->u.model = model;
  if ((rc = ffs__undo_open(&rp->u, 0, err, errlen)) < 0) goto fail;
  *out = rp;
  return 0;
fail:
  ffs_replay_close(rp);
  return rc;
}

void ffs_replay_close(ffs_replay *rp) {
  if (!rp) return;
  drop_fds(rp);
  free(rp->fds);
  ffs__undo_reset(&rp->u);
  free(rp);
}

static int diverged(char *err, size_t errlen, const ffs_rec *r, const char *what) {
  char line[600];
  ffs_rec_format(r, line, sizeof line);
  return rp_err(err, errlen, FFS_EIO, "replay of call %s: %s: %s", line, what, strerror(errno));
}

/* A write of data[0..n) at off, logged as the shim logs it (len = the bytes asked for). */
static int apply_write(ffs_replay *rp, const ffs_rec *r, uint64_t len, size_t n, int keep, char *err,
                       size_t errlen) {
  int32_t nid;
  int fd = get_fd(rp, r->path, &nid);
  if (fd < 0) return diverged(err, errlen, r, "the file is not in the replay's work dir (written after its unlink?)");
  uint64_t off = r->offset < 0 ? 0 : (uint64_t)r->offset, cur = UINT64_MAX;
  if (r->flags & FFS_RF_APPEND) {
    struct stat st;
    cur = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
  }
  ffs__undo_write(&rp->u, fd, nid, off, len, cur);
  for (size_t done = 0; done < n;) {
    ssize_t w = pwrite(fd, r->data + done, n - done, (off_t)(off + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return diverged(err, errlen, r, "pwrite");
    done += (size_t)w;
  }
  if (keep && n) ffs__undo_kept(&rp->u, nid, off, n);
  return 0;
}

static int apply_one(ffs_replay *rp, const ffs_rec *r, char *err, size_t errlen);

/* Counts the calls whose undo records change the durable state: a crash state under
 * strict, ext4 or xfs is the durable state, so between two such calls it is the same. */
static void scan_durable(ffs_replay *rp) {
  const ffs_undo_hdr *h = ffs__undo_hdr(&rp->u);
  const unsigned char *log = (const unsigned char *)rp->u.log;
  uint64_t end = sizeof *h + h->used, off = rp->scanned < sizeof *h ? sizeof *h : rp->scanned;
  int changed = 0;
  if (off > end) off = sizeof *h, changed = 1; /* the log was cut back: count it as a change */
  while (off + sizeof(ffs_urec) <= end) {
    const ffs_urec *r = (const ffs_urec *)(log + off);
    if (r->len < sizeof *r) break;
    changed |= r->type == FFS_U_KEEP || r->type == FFS_U_SYNC || r->type == FFS_U_LOST || r->type == FFS_U_DSYNC ||
               r->type == FFS_U_DENTRY || r->type == FFS_U_SYNCALL;
    off += r->len;
  }
  rp->scanned = off;
  rp->durgen += (uint64_t)changed;
}

uint64_t ffs_replay_durable_gen(const ffs_replay *rp) { return rp->durgen; }

int ffs_replay_apply(ffs_replay *rp, const ffs_rec *r, char *err, size_t errlen) {
  int rc = apply_one(rp, r, err, errlen);
  scan_durable(rp);
  return rc;
}

static int apply_one(ffs_replay *rp, const ffs_rec *r, char *err, size_t errlen) {
  char a1[PATH_MAX], a2[PATH_MAX];
  int32_t nid;
  int fd, foreign, creating;
  if (r->type != FFS_REC_CALL || r->result < 0) return 0;
  switch (r->op) {
    case FFS_OP_OPEN: case FFS_OP_CREAT: {
      int flags = r->op == FFS_OP_CREAT ? O_CREAT | O_WRONLY | O_TRUNC : (int)r->flags;
      struct stat st;
      if (!(flags & (O_CREAT | O_TRUNC)) || (flags & __O_TMPFILE) == __O_TMPFILE) return 0;
      ffs__undo_open_path(&rp->u, r->path, flags, 0, &creating, &foreign);
      abs_of(rp, rp->work, r->path, a1);
      fd = open(a1, (flags & ~(O_EXCL | O_DIRECTORY | O_NOCTTY)) | O_CLOEXEC, (mode_t)(r->mode ? r->mode : 0644));
      if (fd < 0) return diverged(err, errlen, r, "open");
      if (fstat(fd, &st) == 0) ffs__undo_node(&rp->u, &st, r->path, creating);
      close(fd);
      return 0;
    }
    case FFS_OP_WRITE: case FFS_OP_PWRITE: case FFS_OP_WRITEV:
      if (r->result <= 0) return 0;
      if (r->datalen != (size_t)r->result) return diverged(err, errlen, r, "the record holds fewer bytes than the write wrote");
      return apply_write(rp, r, r->length, r->datalen, (r->flags & FFS_RF_SYNC) != 0, err, errlen);
    case FFS_OP_FSYNC: case FFS_OP_FDATASYNC:
      if (r->fd < 0 && !strcmp(r->path, ".")) { /* sync() / syncfs() */
        ffs__undo_synced_all(&rp->u);
        return 0;
      }
      if ((fd = get_fd(rp, r->path, &nid)) < 0) return diverged(err, errlen, r, "the synced file is not in the work dir");
      ffs__undo_synced(&rp->u, fd, nid);
      return 0;
    case FFS_OP_FTRUNCATE: {
      uint64_t nl = r->offset < 0 ? 0 : (uint64_t)r->offset;
      if (r->fd < 0) { /* truncate(path) */
        ffs__undo_ptrunc(&rp->u, r->path, nl, &foreign);
        abs_of(rp, rp->work, r->path, a1);
        if (truncate(a1, (off_t)nl) < 0) return diverged(err, errlen, r, "truncate");
        return 0;
      }
      if ((fd = get_fd(rp, r->path, &nid)) < 0) return diverged(err, errlen, r, "the truncated file is not in the work dir");
      ffs__undo_trunc(&rp->u, fd, nid, nl);
      if (ftruncate(fd, (off_t)nl) < 0) return diverged(err, errlen, r, "ftruncate");
      return 0;
    }
    case FFS_OP_FALLOCATE:
      if ((fd = get_fd(rp, r->path, &nid)) < 0) return diverged(err, errlen, r, "the file is not in the work dir");
      ffs__undo_falloc(&rp->u, fd, nid, r->offset < 0 ? 0 : (uint64_t)r->offset, r->length);
      if (fallocate(fd, (int)r->flags, (off_t)r->offset, (off_t)r->length) < 0 &&
          (r->flags || posix_fallocate(fd, (off_t)r->offset, (off_t)r->length) != 0))
        return diverged(err, errlen, r, "fallocate");
      return 0;
    case FFS_OP_RENAME:
      drop_fds(rp);
      if (!r->path[0]) return diverged(err, errlen, r, "a file moved in from outside the data dir (the record has not its bytes)");
      ffs__undo_rename(&rp->u, r->path, r->path2);
      abs_of(rp, rp->work, r->path, a1);
      if (!r->path2[0]) { /* moved out: gone from the data dir */
        if (unlink(a1) < 0 && rmdir(a1) < 0) return diverged(err, errlen, r, "remove (moved out)");
      } else {
        abs_of(rp, rp->work, r->path2, a2);
        if (renameat2(AT_FDCWD, a1, AT_FDCWD, a2, r->flags) < 0) return diverged(err, errlen, r, "rename");
      }
      ffs__undo_renamed(&rp->u, r->path, r->path2);
      return 0;
    case FFS_OP_UNLINK:
      drop_fds(rp);
      ffs__undo_unlink(&rp->u, r->path);
      abs_of(rp, rp->work, r->path, a1);
      if (unlink(a1) < 0) return diverged(err, errlen, r, "unlink");
      return 0;
    case FFS_OP_RMDIR:
      drop_fds(rp);
      ffs__undo_rmdir(&rp->u, r->path);
      abs_of(rp, rp->work, r->path, a1);
      if (rmdir(a1) < 0) return diverged(err, errlen, r, "rmdir");
      return 0;
    case FFS_OP_MKDIR:
      ffs__undo_mkdir(&rp->u, r->path);
      abs_of(rp, rp->work, r->path, a1);
      if (mkdir(a1, 0755) < 0) return diverged(err, errlen, r, "mkdir");
      return 0;
    case FFS_OP_LINK:
      drop_fds(rp);
      if (!r->path[0]) return diverged(err, errlen, r, "a link to a file outside the data dir (the record has not its bytes)");
      if (!r->path2[0]) return 0;
      ffs__undo_link(&rp->u, r->path, r->path2);
      abs_of(rp, rp->work, r->path, a1);
      abs_of(rp, rp->work, r->path2, a2);
      if (link(a1, a2) < 0) return diverged(err, errlen, r, "link");
      return 0;
    default:
      return 0;
  }
}

/* ---- building a state ------------------------------------------------------------------ */
static int map_add(inomap *m, uint64_t from, uint64_t to) {
  if (m->n == m->cap) {
    size_t nc = m->cap ? m->cap * 2 : 64;
    inomap_ent *nv = realloc(m->v, nc * sizeof *nv);
    if (!nv) return FFS_ENOMEM;
    m->v = nv;
    m->cap = nc;
  }
  m->v[m->n].from = from;
  m->v[m->n++].to = to;
  return 0;
}
static uint64_t map_get(const inomap *m, uint64_t from) {
  for (size_t i = 0; i < m->n; i++)
    if (m->v[i].from == from) return m->v[i].to;
  return 0;
}

/* Copies a range [off, end) of in to the same offsets of out: in the kernel when it can,
 * else through buf. 0 or -1. */
static int copy_range(int in, int out, off_t off, off_t end, char *buf, size_t blen) {
  while (off < end) {
    off_t io = off, oo = off;
    ssize_t n = copy_file_range(in, &io, out, &oo, (size_t)(end - off), 0);
    if (n < 0) {
      n = pread(in, buf, (size_t)(end - off) < blen ? (size_t)(end - off) : blen, off);
      if (n <= 0 || pwrite(out, buf, (size_t)n, off) != n) return -1;
    } else if (n == 0) {
      return -1; /* the file shrank under us */
    }
    off += n;
  }
  return 0;
}

/* Copies a regular file keeping its holes (the data extents only, then its size): a
 * record may name offsets far past the data, and those zeros are not written out. */
static int copy_file(const char *from, const char *to, mode_t mode, uint64_t *ino) {
  char buf[65536];
  int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out = -1, rc = -1;
  struct stat st;
  off_t pos = 0, size;
  if (in < 0 || fstat(in, &st) < 0) goto done;
  size = st.st_size;
  if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777)) < 0 || ftruncate(out, size) < 0)
    goto done;
  while (pos < size) {
    off_t d = lseek(in, pos, SEEK_DATA), h;
    if (d < 0) {
      if (errno == ENXIO) break; /* only a hole is left */
      goto done;
    }
    if ((h = lseek(in, d, SEEK_HOLE)) < 0 || h > size) h = size;
    if (copy_range(in, out, d, h, buf, sizeof buf)) goto done;
    pos = h;
  }
  if (fstat(out, &st) < 0) goto done;
  *ino = (uint64_t)st.st_ino;
  rc = 0;
done:
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  return rc;
}

/* 1 if the rollback may write into the file st (a node with an open epoch): it is copied;
 * any other file is hard-linked into a crash state (the rollback only renames or unlinks
 * its names there, never changes its bytes). */
static int may_change(const ffs_undo *u, const struct stat *st) {
  int32_t id = ffs__undo_node_ino(u, (uint64_t)st->st_dev, (uint64_t)st->st_ino);
  return id >= 0 && u->nodes[id].epoch;
}

/* Copies the tree from -> to (to must not exist), recording old -> new inode numbers; with
 * u, files the rollback cannot change are hard links. */
static int copy_tree_u(const char *from, const char *to, inomap *m, const ffs_undo *u) {
  struct stat st, nst;
  if (lstat(from, &st) < 0) return -1;
  if (S_ISREG(st.st_mode)) {
    uint64_t ino;
    if (u && !may_change(u, &st) && link(from, to) == 0) return m ? map_add(m, (uint64_t)st.st_ino, (uint64_t)st.st_ino) : 0;
    if (copy_file(from, to, st.st_mode, &ino) < 0) return -1;
    return m ? map_add(m, (uint64_t)st.st_ino, ino) : 0;
  }
  if (S_ISLNK(st.st_mode)) {
    char t[PATH_MAX];
    ssize_t n = readlink(from, t, sizeof t - 1);
    if (n < 0) return -1;
    t[n] = 0;
    return symlink(t, to);
  }
  if (!S_ISDIR(st.st_mode)) return 0;
  if (mkdir(to, st.st_mode & 07777) < 0 && errno != EEXIST) return -1;
  if (m && (lstat(to, &nst) < 0 || map_add(m, (uint64_t)st.st_ino, (uint64_t)nst.st_ino) < 0)) return -1;
  DIR *d = opendir(from);
  struct dirent *e;
  int rc = 0;
  if (!d) return -1;
  while (rc == 0 && (e = readdir(d))) {
    char a[PATH_MAX], b[PATH_MAX];
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(a, sizeof a, "%s/%s", from, e->d_name);
    snprintf(b, sizeof b, "%s/%s", to, e->d_name);
    rc = copy_tree_u(a, b, m, u);
  }
  closedir(d);
  return rc;
}
static int copy_tree(const char *from, const char *to, inomap *m) { return copy_tree_u(from, to, m, NULL); }

int ffs_copy_tree(const char *from, const char *to) { return copy_tree(from, to, NULL) < 0 ? FFS_EIO : 0; }
const char *ffs_replay_work(const ffs_replay *rp) { return rp->work; }

/* The crash state of the work dir as it is now: copy, translated log, rollback. */
static int crash_state(ffs_replay *rp, ffs_subset subset, uint64_t seed, const char *out, const char *out_state,
                       char *err, size_t errlen) {
  inomap m = {0};
  unsigned char *log = NULL;
  int rc = 0;
  DIR *d = NULL;
  struct dirent *e;
  size_t vl = strlen(FFS_STATE_VICTIMS);
  if (copy_tree_u(rp->work, out, &m, &rp->u) < 0) { rc = rp_err(err, errlen, FFS_EIO, "copy %s to %s: %s", rp->work, out, strerror(errno)); goto done; }
  if (mkdir(out_state, 0755) < 0 && errno != EEXIST) { rc = rp_err(err, errlen, FFS_EIO, "mkdir %s: %s", out_state, strerror(errno)); goto done; }
  if (!(d = opendir(rp->state))) { rc = rp_err(err, errlen, FFS_EIO, "open %s: %s", rp->state, strerror(errno)); goto done; }
  while ((e = readdir(d))) {
    char a[PATH_MAX], b[PATH_MAX];
    if (strncmp(e->d_name, FFS_STATE_VICTIMS, vl) || e->d_name[vl] < '0' || e->d_name[vl] > '9') continue;
    snprintf(a, sizeof a, "%s/%s", rp->state, e->d_name);
    snprintf(b, sizeof b, "%s/%s", out_state, e->d_name);
    if (copy_tree_u(a, b, &m, &rp->u) < 0) { rc = rp_err(err, errlen, FFS_EIO, "copy victim %s: %s", a, strerror(errno)); goto done; }
  }
  ffs_undo_hdr *h = ffs__undo_hdr(&rp->u);
  size_t len = sizeof *h + h->used;
  if (!(log = malloc(len))) { rc = FFS_ENOMEM; goto done; }
  memcpy(log, rp->u.log, len);
  h = (ffs_undo_hdr *)log;
  h->seed = seed;
  h->subset = (uint64_t)subset;
  h->rolled_back = 0;
  for (size_t off = sizeof *h; off + sizeof(ffs_urec) <= len;) {
    ffs_urec *r = (ffs_urec *)(log + off);
    if (r->len < sizeof *r) break;
    if (r->type == FFS_U_DIRTY) r->c = map_get(&m, r->c);
    else if (r->type == FFS_U_UNLINK || r->type == FFS_U_RENAME || r->type == FFS_U_LINK) r->a = map_get(&m, r->a);
    off += r->len;
  }
  rc = ffs__rollback_buf(log, len, out_state, out, err, errlen);
done:
  if (d) closedir(d);
  free(m.v);
  free(log);
  return rc;
}

/* Torn: the first keep bytes of the write next (at the cut) are written and kept, then the
 * power is cut; afterwards the work dir, its log and the file's node are as before. */
static int torn_state(ffs_replay *rp, const ffs_rec *next, uint64_t keep, ffs_subset subset, uint64_t seed,
                      const char *out, const char *out_state, char *err, size_t errlen) {
  int32_t nid;
  struct stat st;
  int rc;
  if (next->type != FFS_REC_CALL || next->result <= 0 ||
      (next->op != FFS_OP_WRITE && next->op != FFS_OP_PWRITE && next->op != FFS_OP_WRITEV))
    return rp_err(err, errlen, FFS_EINVAL, "a torn state needs a write at the cut");
  if (keep > next->datalen) keep = next->datalen;
  int fd = get_fd(rp, next->path, &nid);
  if (fd < 0 || fstat(fd, &st) < 0) return diverged(err, errlen, next, "the file is not in the work dir");
  uint64_t off = next->offset < 0 ? 0 : (uint64_t)next->offset;
  size_t olen = (uint64_t)st.st_size > off ? (size_t)((uint64_t)st.st_size - off < keep ? (uint64_t)st.st_size - off : keep) : 0;
  unsigned char *old = malloc(olen + 1);
  ffs_unode saved = rp->u.nodes[nid];
  iv_t *sv = malloc((saved.saved.n + 1) * sizeof *sv);
  uint64_t used = ffs__undo_hdr(&rp->u)->used;
  if (!old || !sv) { free(old); free(sv); return FFS_ENOMEM; }
  if (olen && pread(fd, old, olen, (off_t)off) != (ssize_t)olen) { free(old); free(sv); return diverged(err, errlen, next, "pread"); }
  if (saved.saved.n) memcpy(sv, saved.saved.v, saved.saved.n * sizeof *sv);
  rc = apply_write(rp, next, keep, (size_t)keep, 1, err, errlen);
  if (rc == 0) rc = crash_state(rp, subset, seed, out, out_state, err, errlen);
  /* put the work dir back: the bytes, the size, the node, the log */
  if (olen && pwrite(fd, old, olen, (off_t)off) != (ssize_t)olen && rc == 0) rc = diverged(err, errlen, next, "restore");
  if (ftruncate(fd, st.st_size) < 0 && rc == 0) rc = diverged(err, errlen, next, "restore size");
  ffs_unode *n = &rp->u.nodes[nid];
  free(n->saved.v);
  n->saved = saved.saved;
  n->saved.v = sv;
  n->saved.cap = saved.saved.n + 1;
  n->epoch = saved.epoch;
  n->created = saved.created;
  n->D = saved.D;
  n->P = saved.P;
  ffs__undo_hdr(&rp->u)->used = used;
  free(old);
  return rc;
}

int ffs_replay_state(ffs_replay *rp, ffs_cut_kind kind, const ffs_rec *next, uint64_t keep, ffs_subset subset,
                     uint64_t seed, const char *out, const char *out_state, char *err, size_t errlen) {
  switch (kind) {
    case FFS_CUT_KILL:
      if (copy_tree(rp->work, out, NULL) < 0) return rp_err(err, errlen, FFS_EIO, "copy %s to %s: %s", rp->work, out, strerror(errno));
      return 0;
    case FFS_CUT_CRASH: return crash_state(rp, subset, seed, out, out_state, err, errlen);
    case FFS_CUT_TORN:
      if (!next) return rp_err(err, errlen, FFS_EINVAL, "a torn state needs a write at the cut");
      return torn_state(rp, next, keep, subset, seed, out, out_state, err, errlen);
    default: return rp_err(err, errlen, FFS_EINVAL, "unknown cut kind %d", (int)kind);
  }
}
