/* rollback.c — the power-loss rollback engine: reads the undo side-log written by the shim
 * (docs/format/undo.md) and rolls the data dir back to what a disk would hold after a
 * power cut under the recorded model.
 *
 * Runs in two places: inside the shim when crash/crash-after/torn fires (all other
 * threads blocked, log complete) and in the parent via ffs_rollback() after the process
 * was killed at an arbitrary point. Invariants:
 *  (1) every undo step checks the current state before acting (inode numbers for renames
 *      and links, ENOENT tolerated), so a record whose operation never happened (SIGKILL
 *      between logging and acting) undoes nothing, and a second run changes nothing;
 *  (2) namespace records are undone in reverse log order, then file data per file id:
 *      the newest epoch first, then fsyncgate-lost segments newest first;
 *  (3) the header flag rolled_back makes ffs_rollback() a no-op once a rollback finished.
 */
#define _GNU_SOURCE /* fallocate */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ffs_int.h"

/* ---- log parsing ---------------------------------------------------------------------- */
static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}
/* The dense index of fid among the sorted distinct ids, or -1. */
static int32_t dense_fid(const int32_t *ids, size_t n, int32_t fid) {
  size_t lo = 0, hi = n;
  if (fid < 0) return -1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ids[mid] < fid) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && ids[lo] == fid ? (int32_t)lo : -1;
}

typedef struct {
  const ffs_urec *r;            /* -> h once the log is read */
  const unsigned char *payload;
  ffs_urec h;                   /* the record's header, its file ids made dense (below) */
} rec_t;

typedef struct {
  const char *state_dir, *data_dir;
  char *err;
  size_t errlen;
  ffs_model model;
  uint64_t seed;
  uint64_t subset;     /* reorder: ffs_subset */
  rec_t *recs;
  size_t nrecs;
  char **loc;          /* fid -> absolute path of the file now (NULL = gone) */
  uint64_t *loc_ino;
  int *loc_copy;       /* loc is a copied victim (inode differs) */
  size_t nfids;
  int32_t *located;    /* the fids ever given a location, each once: what move_prefix visits */
  unsigned char *listed; /* fid -> already in located */
  size_t nlocated;
  char real_dir[FFS_PATH_MAX];   /* the data dir and the state dir, resolved */
  char real_state[FFS_PATH_MAX];
  unsigned refused;              /* steps left undone because they led outside */
} rb_t;

static int rb_err(rb_t *rb, int rc, const char *fmt, ...) {
  if (rb->err && rb->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rb->err, rb->errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static void abs_path(const rb_t *rb, const char *rel, char *out, size_t len) {
  if (strcmp(rel, ".") == 0) snprintf(out, len, "%s", rb->data_dir);
  else snprintf(out, len, "%s/%s", rb->data_dir, rel);
}
static int under(const char *p, const char *dir) {
  size_t l = strlen(dir);
  return strncmp(p, dir, l) == 0 && (p[l] == 0 || p[l] == '/');
}

/* The shim records real paths, but the data dir may have changed since (a directory
 * replaced by a symlink to elsewhere): a step is taken only if the parent of its target
 * resolves inside the data dir (or, for a victim, is the state dir); the last component
 * is never followed by the steps themselves. Refused steps are counted and named. */
static int stays_inside(rb_t *rb, const char *abs) {
  char par[FFS_PATH_MAX], real[FFS_PATH_MAX];
  snprintf(par, sizeof par, "%s", abs);
  char *s = strrchr(par, '/');
  if (s && s != par) *s = 0;
  if (!realpath(par, real)) return 1; /* the parent is gone: the step finds nothing to change */
  if (under(real, rb->real_dir) || (rb->real_state[0] && strcmp(real, rb->real_state) == 0)) return 1;
  if (!rb->refused++)
    rb_err(rb, FFS_EINVAL, "rollback: %s leads outside the data dir %s (through %s): left alone", abs, rb->real_dir, real);
  return 0;
}

static void victim_path(const rb_t *rb, uint64_t n, char *out, size_t len) {
  snprintf(out, len, "%s/%s%llu", rb->state_dir, FFS_STATE_VICTIMS, (unsigned long long)n);
}
static void parent_of(const char *rel, char *out, size_t len) {
  const char *s = strrchr(rel, '/');
  if (!s) snprintf(out, len, ".");
  else snprintf(out, len, "%.*s", (int)(s - rel), rel);
}

static int set_loc(rb_t *rb, int32_t fid, const char *path, int copy) {
  if (fid < 0 || (size_t)fid >= rb->nfids) return 0;
  if (path && !rb->listed[fid]) {
    /* first location of this fid: list it once. The list is bounded by the records, so a
     * huge fid costs nothing in move_prefix. */
    int32_t *nl = realloc(rb->located, (rb->nlocated + 1) * sizeof *nl);
    if (!nl) return FFS_ENOMEM;
    rb->located = nl;
    rb->located[rb->nlocated++] = fid;
    rb->listed[fid] = 1;
  }
  free(rb->loc[fid]);
  rb->loc[fid] = path ? strdup(path) : NULL;
  rb->loc_copy[fid] = copy;
  if (path && !rb->loc[fid]) return FFS_ENOMEM;
  return 0;
}

/* A directory moved from old to new (absolute paths): so did every file located under it. */
static int move_prefix(rb_t *rb, const char *old, const char *new_) {
  size_t lo = strlen(old);
  char buf[FFS_PATH_MAX];
  for (size_t i = 0; i < rb->nlocated; i++) {
    size_t f = (size_t)rb->located[i];
    const char *l = rb->loc[f];
    if (!l || strncmp(l, old, lo) != 0 || l[lo] != '/') continue;
    snprintf(buf, sizeof buf, "%s%s", new_, l + lo);
    int rc = set_loc(rb, (int32_t)f, buf, rb->loc_copy[f]);
    if (rc < 0) return rc;
  }
  return 0;
}

/* ---- namespace undo ----------------------------------------------------------------- */
typedef struct { char **v; size_t n, cap; } strset;
static int ss_has(const strset *s, const char *p) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->v[i], p) == 0) return 1;
  return 0;
}
static int ss_add(strset *s, const char *p) {
  if (ss_has(s, p)) return 0;
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 8;
    char **nv = realloc(s->v, nc * sizeof *nv);
    if (!nv) return FFS_ENOMEM;
    s->v = nv;
    s->cap = nc;
  }
  if (!(s->v[s->n] = strdup(p))) return FFS_ENOMEM;
  s->n++;
  return 0;
}
static void ss_free(strset *s) {
  for (size_t i = 0; i < s->n; i++) free(s->v[i]);
  free(s->v);
}

/* Removes PATH and everything below it, never crossing into another file system: a mount
 * point below PATH (a real-file-system case whose worker was killed) gives -EBUSY and is left
 * alone with its contents, so nothing on a mounted image or a bind mount is deleted. */
static int rm_rf_dev(const char *path, dev_t dev, int top) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -errno;
  if (S_ISDIR(st.st_mode) && !top && st.st_dev != dev) return -EBUSY;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *e;
    char sub[FFS_PATH_MAX];
    int rc = 0;
    if (!d) return -errno;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
      if ((rc = rm_rf_dev(sub, st.st_dev, 0))) break;
    }
    closedir(d);
    if (rc) return rc;
    return rmdir(path) && errno != ENOENT ? -errno : 0;
  }
  return unlink(path) && errno != ENOENT ? -errno : 0;
}

int ffs_rm_rf(const char *path) { return rm_rf_dev(path, 0, 1); }

/* Moves a victim back to dst: a rename, or a byte copy when the state dir is on another
 * file system (the victim was a copy in the first place). */
static int restore_victim(const char *vp, const char *dst) {
  if (rename(vp, dst) == 0) return 0;
  if (errno != EXDEV) return -1;
  struct stat st;
  int in = open(vp, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
  if (in < 0 || fstat(in, &st) < 0) goto done;
  out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
  if (out < 0) goto done;
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) goto done;
  if (n < 0) goto done;
  rc = unlink(vp);
done:
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  return rc;
}

static int ino_is(const char *path, uint64_t ino) {
  struct stat st;
  return lstat(path, &st) == 0 && (uint64_t)st.st_ino == ino;
}

static int undo_namespace(rb_t *rb) {
  strset synced = {0}, dentry = {0};
  int rc = 0, e;
  char par[FFS_PATH_MAX], par2[FFS_PATH_MAX], a1[FFS_PATH_MAX], a2[FFS_PATH_MAX], vp[FFS_PATH_MAX];
  /* forward: where each file id lives now */
  for (size_t i = 0; i < rb->nrecs; i++) {
    const ffs_urec *r = rb->recs[i].r;
    const char *p = (const char *)rb->recs[i].payload;
    if (r->type == FFS_U_DIRTY && r->fid >= 0 && (size_t)r->fid < rb->nfids) {
      abs_path(rb, p, a1, sizeof a1);
      if ((rc = set_loc(rb, r->fid, a1, 0)) < 0) goto fail;
      rb->loc_ino[r->fid] = r->c;
    } else if (r->type == FFS_U_RENAME) {
      abs_path(rb, p, a2, sizeof a2);
      abs_path(rb, p + strlen(p) + 1, a1, sizeof a1);
      if ((rc = move_prefix(rb, a2, a1)) < 0) goto fail;
      if (r->fid >= 0 && (size_t)r->fid < rb->nfids && rb->loc[r->fid] && (rc = set_loc(rb, r->fid, a1, 0)) < 0) goto fail;
      if (r->b != UINT64_MAX && (int32_t)r->c >= 0 && (size_t)r->c < rb->nfids && rb->loc[r->c]) {
        victim_path(rb, r->b, vp, sizeof vp);
        if ((rc = set_loc(rb, (int32_t)r->c, vp, !ino_is(vp, rb->loc_ino[r->c]))) < 0) goto fail;
      }
    } else if (r->type == FFS_U_UNLINK && r->fid >= 0 && (size_t)r->fid < rb->nfids && rb->loc[r->fid]) {
      victim_path(rb, r->b, vp, sizeof vp);
      if ((rc = set_loc(rb, r->fid, vp, !ino_is(vp, rb->loc_ino[r->fid]))) < 0) goto fail;
    }
  }
  /* backward: undo every directory change no later dir fsync made durable; nothing before
   * a sync()/syncfs() is undone */
  size_t first = 0;
  for (size_t k = rb->nrecs; k-- > 0;)
    if (rb->recs[k].r->type == FFS_U_SYNCALL) { first = k + 1; break; }
  for (size_t k = rb->nrecs; k-- > first;) {
    const ffs_urec *r = rb->recs[k].r;
    const char *p = (const char *)rb->recs[k].payload;
    const char *p2 = NULL;
    if (r->type == FFS_U_RENAME || r->type == FFS_U_LINK) p2 = p + strlen(p) + 1;
    switch (r->type) {
      case FFS_U_DSYNC:
        if ((rc = ss_add(&synced, p)) < 0) goto fail;
        break;
      case FFS_U_DENTRY:
        if ((rc = ss_add(&dentry, p)) < 0) goto fail;
        break;
      case FFS_U_CREATE:
        parent_of(p, par, sizeof par);
        if (ss_has(&synced, par) || ss_has(&dentry, p)) break;
        abs_path(rb, p, a1, sizeof a1);
        if (!stays_inside(rb, a1)) break;
        if (unlink(a1) < 0 && errno != ENOENT && errno != EISDIR) { rc = rb_err(rb, FFS_EIO, "rollback: unlink %s: %s", a1, strerror(errno)); goto fail; }
        break;
      case FFS_U_MKDIR:
        parent_of(p, par, sizeof par);
        if (ss_has(&synced, par)) break;
        abs_path(rb, p, a1, sizeof a1);
        if (!stays_inside(rb, a1)) break;
        if ((e = ffs_rm_rf(a1)) < 0) { rc = rb_err(rb, FFS_EIO, "rollback: remove dir %s: %s", a1, strerror(-e)); goto fail; }
        break;
      case FFS_U_RMDIR:
        parent_of(p, par, sizeof par);
        if (ss_has(&synced, par)) break;
        abs_path(rb, p, a1, sizeof a1);
        if (!stays_inside(rb, a1)) break;
        if (mkdir(a1, 0755) < 0 && errno != EEXIST) { rc = rb_err(rb, FFS_EIO, "rollback: mkdir %s: %s", a1, strerror(errno)); goto fail; }
        break;
      case FFS_U_UNLINK:
        parent_of(p, par, sizeof par);
        if (ss_has(&synced, par)) break;
        abs_path(rb, p, a1, sizeof a1);
        if (!stays_inside(rb, a1)) break;
        victim_path(rb, r->b, vp, sizeof vp);
        if (access(vp, F_OK) == 0) {
          if (restore_victim(vp, a1) < 0) { rc = rb_err(rb, FFS_EIO, "rollback: restore %s: %s", a1, strerror(errno)); goto fail; }
          if (access(vp, F_OK) == 0) unlink(vp); /* same inode: rename was a no-op */
        }
        /* restored now, or by an earlier interrupted rollback */
        if (r->fid >= 0 && (size_t)r->fid < rb->nfids && rb->loc[r->fid] && access(a1, F_OK) == 0 &&
            (rc = set_loc(rb, r->fid, a1, !ino_is(a1, rb->loc_ino[r->fid]))) < 0)
          goto fail;
        break;
      case FFS_U_RENAME:
        parent_of(p, par, sizeof par);
        parent_of(p2, par2, sizeof par2);
        /* ext4: fsync of the file under its new name made its entry durable */
        if ((ss_has(&synced, par) && ss_has(&synced, par2)) || ss_has(&dentry, p2)) break;
        abs_path(rb, p, a1, sizeof a1);
        abs_path(rb, p2, a2, sizeof a2);
        if (!stays_inside(rb, a1) || !stays_inside(rb, a2)) break;
        if (ino_is(a2, r->a)) {
          if (rename(a2, a1) < 0) { rc = rb_err(rb, FFS_EIO, "rollback: rename %s back to %s: %s", a2, a1, strerror(errno)); goto fail; }
          if ((rc = move_prefix(rb, a2, a1)) < 0) goto fail;
        }
        /* moved back now, or by an earlier interrupted rollback: the file lives at old */
        if (ino_is(a1, r->a) && r->fid >= 0 && (size_t)r->fid < rb->nfids && rb->loc[r->fid] &&
            (rc = set_loc(rb, r->fid, a1, 0)) < 0)
          goto fail;
        if (r->b != UINT64_MAX) {
          victim_path(rb, r->b, vp, sizeof vp);
          if (access(vp, F_OK) == 0) {
            if (restore_victim(vp, a2) < 0) { rc = rb_err(rb, FFS_EIO, "rollback: restore %s: %s", a2, strerror(errno)); goto fail; }
            if (access(vp, F_OK) == 0) unlink(vp);
            if ((int32_t)r->c >= 0 && (size_t)r->c < rb->nfids && rb->loc[r->c] &&
                (rc = set_loc(rb, (int32_t)r->c, a2, !ino_is(a2, rb->loc_ino[r->c]))) < 0)
              goto fail;
          }
        }
        break;
      case FFS_U_LINK:
        parent_of(p2, par, sizeof par);
        if (ss_has(&synced, par)) break;
        abs_path(rb, p2, a2, sizeof a2);
        if (!stays_inside(rb, a2)) break;
        if (ino_is(a2, r->a) && unlink(a2) < 0) { rc = rb_err(rb, FFS_EIO, "rollback: unlink %s: %s", a2, strerror(errno)); goto fail; }
        break;
      default:
        break;
    }
  }
fail:
  ss_free(&synced);
  ss_free(&dentry);
  return rc;
}

/* ---- data undo -------------------------------------------------------------------------- */
typedef struct {
  int fd;
  const char *path;
  rb_t *rb;
  const unsigned char *bytes; /* OLD payload */
  uint64_t base;              /* file offset of bytes[0] */
  uint64_t limit;             /* zero fill: do not extend past this */
} wctx;

static int write_old(void *vctx, uint64_t a, uint64_t b) {
  wctx *c = vctx;
  const unsigned char *p = c->bytes + (a - c->base);
  size_t n = (size_t)(b - a);
  while (n) {
    ssize_t w = pwrite(c->fd, p, n, (off_t)a);
    if (w < 0) {
      if (errno == EINTR) continue;
      return rb_err(c->rb, FFS_EIO, "rollback: pwrite %s: %s", c->path, strerror(errno));
    }
    p += w;
    a += (uint64_t)w;
    n -= (size_t)w;
  }
  return 0;
}

/* Zeros [a, b) (nothing past c->limit or the current end of file): punched, so a sparse
 * range stays sparse and a huge one costs nothing; written where the file system cannot
 * punch. Serves the hole records (OLD with FFS_OLD_HOLE) and the zero fills below. */
static int write_zero(void *vctx, uint64_t a, uint64_t b) {
  static const unsigned char zeros[4096];
  wctx *c = vctx;
  struct stat st;
  if (b > c->limit) b = c->limit;
  if (fstat(c->fd, &st) < 0) return rb_err(c->rb, FFS_EIO, "rollback: fstat %s: %s", c->path, strerror(errno));
  if (b > (uint64_t)st.st_size) b = (uint64_t)st.st_size;
  if (a >= b) return 0;
  if (fallocate(c->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)a, (off_t)(b - a)) == 0) return 0;
  if (errno != EOPNOTSUPP && errno != ENOSYS)
    return rb_err(c->rb, FFS_EIO, "rollback: punch %s [%llu, %llu): %s", c->path, (unsigned long long)a,
                  (unsigned long long)b, strerror(errno));
  while (a < b) {
    size_t n = b - a > sizeof zeros ? sizeof zeros : (size_t)(b - a);
    c->bytes = zeros;
    c->base = a;
    int rc = write_old(c, a, a + n);
    if (rc < 0) return rc;
    a += n;
  }
  return 0;
}

typedef struct {
  size_t first, last; /* record index range [first,last) in fid's list */
  uint64_t D;
  size_t pos;          /* global record index of the LOST mark (lost segments) */
  const char *relpath;
} seg_t;

/* Walks recs[first,last) backwards restoring OLD bytes outside *pinned, pinning KEEPs. */
static int revert_walk(rb_t *rb, int fd, const char *path, const size_t *idx, size_t first, size_t last, ivset *pinned) {
  for (size_t k = last; k-- > first;) {
    const ffs_urec *r = rb->recs[idx[k]].r;
    int rc = 0;
    if (r->type == FFS_U_KEEP) rc = iv_add(pinned, r->a, r->a + r->b);
    else if (r->type == FFS_U_OLD) {
      wctx c = {fd, path, rb, rb->recs[idx[k]].payload, r->a, UINT64_MAX};
      rc = iv_gaps(pinned, r->a, r->a + r->b, r->c == FFS_OLD_HOLE ? write_zero : write_old, &c);
    }
    if (rc < 0) return rc;
  }
  return 0;
}

static int undo_file(rb_t *rb, int32_t fid, const size_t *idx, size_t n) {
  seg_t *lost = NULL;
  size_t nlost = 0;
  ivset durable_after = {0}, pinned = {0}, written = {0};
  int fd = -1, rc = 0;
  const char *path = rb->loc[fid];
  struct stat st;
  if (!path || !stays_inside(rb, path)) return 0;
  fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0; /* gone (its creation was undone) */
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (!rb->loc_copy[fid] && (uint64_t)st.st_ino != rb->loc_ino[fid])) goto done;
  lost = calloc(n + 1, sizeof *lost);
  if (!lost) { rc = FFS_ENOMEM; goto done; }
  /* split the file's records into epochs */
  int open_ep = 0;
  seg_t cur = {0};
  size_t lost_k = 0;
  int has_lost = 0;
  for (size_t k = 0; k < n; k++) {
    const ffs_urec *r = rb->recs[idx[k]].r;
    switch (r->type) {
      case FFS_U_DIRTY:
        open_ep = 1;
        has_lost = 0;
        cur.first = k;
        cur.D = r->a;
        cur.relpath = (const char *)rb->recs[idx[k]].payload;
        break;
      case FFS_U_LOST:
        if (open_ep && !has_lost) { has_lost = 1; lost_k = k; }
        break;
      case FFS_U_SYNC:
        if (open_ep && has_lost) {
          lost[nlost] = cur;
          lost[nlost].last = lost_k;
          lost[nlost].pos = idx[lost_k];
          nlost++;
        }
        open_ep = 0;
        has_lost = 0;
        break;
      default:
        break;
    }
  }
  /* 1. the open (non-durable) epoch */
  if (open_ep) {
    uint64_t S = cur.D;
    for (size_t k = cur.first; k < n; k++) {
      const ffs_urec *r = rb->recs[idx[k]].r;
      if (r->type == FFS_U_KEEP && r->a + r->b > S) S = r->a + r->b;
    }
    if (rb->model == FFS_MODEL_REORDER && rb->subset != FFS_SUBSET_NONE) {
      uint64_t h = ffs_hash_str(rb->seed, cur.relpath);
      for (size_t k = cur.first; k < n; k++) {
        const ffs_urec *r = rb->recs[idx[k]].r;
        if (r->type != FFS_U_W || !r->b) continue;
        uint64_t wend = r->a + r->b < (uint64_t)st.st_size ? r->a + r->b : (uint64_t)st.st_size;
        for (uint64_t s = r->a / 512; s * 512 < wend; s++) {
          if (rb->subset != FFS_SUBSET_ALL && !(ffs_mix(h ^ (s * 0x9e3779b97f4a7c15ull)) & 1)) continue;
          uint64_t a = s * 512, b = a + 512;
          if (a < r->a) a = r->a;
          if (b > r->a + r->b) b = r->a + r->b;
          if (b > (uint64_t)st.st_size) b = (uint64_t)st.st_size;
          if (a >= b) continue;
          if ((rc = iv_add(&pinned, a, b)) < 0) goto done;
          if (b > S) S = b;
        }
      }
    }
    if ((rc = revert_walk(rb, fd, path, idx, cur.first, n, &pinned)) < 0) goto done;
    wctx c = {fd, path, rb, NULL, 0, S};
    if (S > cur.D && (rc = iv_gaps(&pinned, cur.D, S, write_zero, &c)) < 0) goto done;
    if (ftruncate(fd, (off_t)S) < 0) { rc = rb_err(rb, FFS_EIO, "rollback: ftruncate %s: %s", path, strerror(errno)); goto done; }
  }
  /* 2. fsyncgate: data covered by a failed fsync, newest segment first */
  for (size_t L = nlost; L-- > 0;) {
    seg_t *sg = &lost[L];
    free(pinned.v);
    memset(&pinned, 0, sizeof pinned);
    free(written.v);
    memset(&written, 0, sizeof written);
    for (size_t k = 0; k < n; k++) {
      const ffs_urec *r = rb->recs[idx[k]].r;
      if (idx[k] <= sg->pos || (r->type != FFS_U_W && r->type != FFS_U_KEEP)) continue;
      /* a later write counts as durable if a SYNC of this file follows it */
      int synced = r->type == FFS_U_KEEP;
      for (size_t q = k + 1; q < n && !synced; q++)
        if (rb->recs[idx[q]].r->type == FFS_U_SYNC) synced = 1;
      if (synced && (rc = iv_add(&pinned, r->a, r->a + r->b)) < 0) goto done;
    }
    for (size_t k = sg->first; k < sg->last; k++) {
      const ffs_urec *r = rb->recs[idx[k]].r;
      if (r->type == FFS_U_W && (rc = iv_add(&written, r->a > sg->D ? r->a : sg->D, r->a + r->b)) < 0) goto done;
    }
    if ((rc = revert_walk(rb, fd, path, idx, sg->first, sg->last, &pinned)) < 0) goto done;
    if (fstat(fd, &st) < 0) { rc = rb_err(rb, FFS_EIO, "rollback: fstat %s: %s", path, strerror(errno)); goto done; }
    for (size_t w = 0; w < written.n; w++) {
      wctx c = {fd, path, rb, NULL, 0, (uint64_t)st.st_size};
      if ((rc = iv_gaps(&pinned, written.v[w].a, written.v[w].b, write_zero, &c)) < 0) goto done;
    }
  }
done:
  free(durable_after.v);
  free(pinned.v);
  free(written.v);
  free(lost);
  if (fd >= 0) close(fd);
  return rc;
}

#define FFS_MAX_OFF (1ull << 48) /* larger offsets/lengths are not from a real file */

/* A path the shim writes (normalised, relative, inside the data dir): no leading '/', no
 * empty, "." or ".." component; the data dir itself is exactly "." (allowed_dot). */
int ffs__safe_relpath(const char *p, int allow_dot) {
  if (allow_dot && strcmp(p, ".") == 0) return 1;
  if (!*p || p[0] == '/') return 0;
  for (const char *s = p; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
    s += n;
    if (*s == '/') s++;
  }
  return 1;
}

/* Payload checks: paths NUL-terminated inside the record and inside the data dir. A log
 * that fails them was not written by the shim: the rollback refuses to act on it. */
static int rec_ok(const ffs_urec *r, const unsigned char *pl) {
  const char *p = (const char *)pl;
  const char *z1 = r->plen ? memchr(p, 0, r->plen) : NULL;
  switch (r->type) {
    case FFS_U_DIRTY:
      return z1 && ffs__safe_relpath(p, 0) && r->a <= FFS_MAX_OFF && r->b <= FFS_MAX_OFF;
    case FFS_U_DSYNC:
      return z1 && ffs__safe_relpath(p, 1);
    case FFS_U_CREATE: case FFS_U_MKDIR: case FFS_U_RMDIR: case FFS_U_UNLINK: case FFS_U_DENTRY:
      return z1 && ffs__safe_relpath(p, 0);
    case FFS_U_RENAME: case FFS_U_LINK: {
      if (!z1) return 0;
      size_t l1 = (size_t)(z1 - p) + 1;
      return l1 < r->plen && memchr(p + l1, 0, r->plen - l1) && ffs__safe_relpath(p, 0) && ffs__safe_relpath(p + l1, 0);
    }
    case FFS_U_OLD:
      if (r->c == FFS_OLD_HOLE) return r->plen == 0 && r->a <= INT64_MAX && r->b <= INT64_MAX - r->a;
      return r->c == 0 && r->b <= r->plen && r->a <= FFS_MAX_OFF && r->b <= FFS_MAX_OFF;
    case FFS_U_W: case FFS_U_KEEP:
      return r->a <= FFS_MAX_OFF && r->b <= FFS_MAX_OFF;
    case FFS_U_SYNC: case FFS_U_LOST:
      return r->a <= FFS_MAX_OFF;
    case FFS_U_SYNCALL:
      return 1;
    default:
      return 0;
  }
}

int ffs__rollback_buf(const unsigned char *log, size_t loglen, const char *state_dir, const char *data_dir,
                      char *err, size_t errlen) {
  rb_t rb = {0};
  size_t *idx = NULL, *cnt = NULL, *start = NULL;
  int rc = 0;
  const ffs_undo_hdr *h = (const ffs_undo_hdr *)log;
  rb.state_dir = state_dir;
  rb.data_dir = data_dir;
  rb.err = err;
  rb.errlen = errlen;
  if (!realpath(data_dir, rb.real_dir)) {
    rc = rb_err(&rb, FFS_ENODIR, "rollback: data dir %s: %s", data_dir, strerror(errno));
    goto fail;
  }
  if (!realpath(state_dir, rb.real_state)) rb.real_state[0] = 0;
  if (loglen < sizeof *h || memcmp(h->magic, FFS_UNDO_MAGIC, 8) != 0 || h->version != FFS_UNDO_VERSION) {
    rc = rb_err(&rb, FFS_ECORRUPT, "rollback: %s/%s: bad header", state_dir, FFS_STATE_UNDO);
    goto fail;
  }
  rb.model = (ffs_model)h->model;
  rb.seed = h->seed;
  rb.subset = h->subset;
  if (ffs_model_fs(rb.model)) goto fail; /* a real file system: the kernel kept what it kept */
  size_t used = h->used;
  if (used > loglen - sizeof *h) used = loglen - sizeof *h;
  const unsigned char *p = log + sizeof *h, *end = p + used;
  size_t cap = 0;
  int32_t maxfid = -1;
  while (p + sizeof(ffs_urec) <= end) {
    const ffs_urec *r = (const ffs_urec *)p;
    if (r->len < sizeof *r || r->len % 8 || p + r->len > end || r->plen > r->len - sizeof *r) break;
    if (rb.nrecs == cap) {
      cap = cap ? cap * 2 : 256;
      rec_t *nr = realloc(rb.recs, cap * sizeof *nr);
      if (!nr) { rc = FFS_ENOMEM; goto fail; }
      rb.recs = nr;
    }
    if (!rec_ok(r, p + sizeof *r)) {
      rc = rb_err(&rb, FFS_ECORRUPT, "rollback: %s/%s: bad record at byte %zu", state_dir, FFS_STATE_UNDO,
                  (size_t)(p - log));
      goto fail;
    }
    rb.recs[rb.nrecs].h = *r;
    rb.recs[rb.nrecs].payload = p + sizeof *r;
    rb.nrecs++;
    p += r->len;
  }
  /* Only a DIRTY record gives a file id a location (every other use of a fid needs one), so
   * the per-file tables hold the DIRTY fids only, renumbered densely 0..n-1 in the record
   * copies (fid, and a RENAME's victim fid c; any other fid becomes -1): a log whose records
   * name a fid near 2^24 costs no more than one naming fid 1 (fuzz finding F6). */
  {
    int32_t *ids = malloc((rb.nrecs + 1) * sizeof *ids);
    size_t n = 0;
    if (!ids) { rc = FFS_ENOMEM; goto fail; }
    for (size_t i = 0; i < rb.nrecs; i++)
      if (rb.recs[i].h.type == FFS_U_DIRTY && rb.recs[i].h.fid >= 0) ids[n++] = rb.recs[i].h.fid;
    qsort(ids, n, sizeof *ids, cmp_i32);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
      if (!u || ids[u - 1] != ids[i]) ids[u++] = ids[i];
    for (size_t i = 0; i < rb.nrecs; i++) {
      ffs_urec *ur = &rb.recs[i].h;
      ur->fid = dense_fid(ids, u, ur->fid);
      if (ur->type == FFS_U_RENAME)
        ur->c = (uint64_t)(uint32_t)(ur->c > INT32_MAX ? -1 : dense_fid(ids, u, (int32_t)ur->c));
      rb.recs[i].r = ur;
    }
    free(ids);
    maxfid = (int32_t)u - 1;
  }
  rb.nfids = (size_t)(maxfid + 1);
  rb.loc = calloc(rb.nfids + 1, sizeof *rb.loc);
  rb.loc_ino = calloc(rb.nfids + 1, sizeof *rb.loc_ino);
  rb.loc_copy = calloc(rb.nfids + 1, sizeof *rb.loc_copy);
  rb.listed = calloc(rb.nfids + 1, 1);
  if (!rb.loc || !rb.loc_ino || !rb.loc_copy || !rb.listed) { rc = FFS_ENOMEM; goto fail; }
  if ((rc = undo_namespace(&rb)) < 0) goto fail;
  /* group data records by fid (counting sort keeps log order) */
  cnt = calloc(rb.nfids + 1, sizeof *cnt);
  start = calloc(rb.nfids + 1, sizeof *start);
  idx = calloc(rb.nrecs + 1, sizeof *idx);
  if (!cnt || !start || !idx) { rc = FFS_ENOMEM; goto fail; }
  for (size_t i = 0; i < rb.nrecs; i++) {
    const ffs_urec *r = rb.recs[i].r;
    if (r->type <= FFS_U_LOST && r->fid >= 0 && (size_t)r->fid < rb.nfids) cnt[r->fid]++;
  }
  for (size_t f = 1; f < rb.nfids; f++) start[f] = start[f - 1] + cnt[f - 1];
  memset(cnt, 0, (rb.nfids + 1) * sizeof *cnt);
  for (size_t i = 0; i < rb.nrecs; i++) {
    const ffs_urec *r = rb.recs[i].r;
    if (r->type <= FFS_U_LOST && r->fid >= 0 && (size_t)r->fid < rb.nfids) idx[start[r->fid] + cnt[r->fid]++] = i;
  }
  for (size_t f = 0; f < rb.nfids; f++)
    if (cnt[f] && (rc = undo_file(&rb, (int32_t)f, idx + start[f], cnt[f])) < 0) goto fail;
  if (rb.refused) rc = FFS_EINVAL; /* the message names the first refused step */
fail:
  if (rb.loc)
    for (size_t f = 0; f < rb.nfids; f++) free(rb.loc[f]);
  free(rb.loc);
  free(rb.loc_ino);
  free(rb.loc_copy);
  free(rb.located);
  free(rb.listed);
  free(rb.recs);
  free(idx);
  free(cnt);
  free(start);
  return rc;
}

int ffs_rollback(const char *state_dir, const char *data_dir, char *err, size_t errlen) {
  char path[FFS_PATH_MAX];
  unsigned char *buf = NULL;
  int fd = -1, rc = FFS_EINVAL;
  struct stat st;
  if (err && errlen) err[0] = 0;
  if (!state_dir || !data_dir) goto fail;
  snprintf(path, sizeof path, "%s/%s", state_dir, FFS_STATE_UNDO);
  fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) { rc = 0; goto fail; } /* nothing was tracked */
    if (err && errlen) snprintf(err, errlen, "rollback: open %s: %s", path, strerror(errno));
    rc = FFS_EIO;
    goto fail;
  }
  if (fstat(fd, &st) < 0) { rc = FFS_EIO; goto fail; }
  /* read the header, then only the used part (the file is preallocated sparse) */
  ffs_undo_hdr hd;
  size_t want = sizeof hd;
  if (pread(fd, &hd, sizeof hd, 0) == (ssize_t)sizeof hd && memcmp(hd.magic, FFS_UNDO_MAGIC, 8) == 0)
    want += (size_t)hd.used;
  if (want > (size_t)st.st_size) want = (size_t)st.st_size;
  buf = malloc(want + 1);
  if (!buf) { rc = FFS_ENOMEM; goto fail; }
  size_t got = 0;
  while (got < want) {
    ssize_t r = pread(fd, buf + got, want - got, (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  ffs_undo_hdr *h = (ffs_undo_hdr *)buf;
  if (got >= sizeof *h && memcmp(h->magic, FFS_UNDO_MAGIC, 8) == 0 && h->rolled_back) { rc = 0; goto fail; }
  rc = ffs__rollback_buf(buf, got, state_dir, data_dir, err, errlen);
  if (rc < 0) goto fail;
  uint32_t one = 1;
  if (pwrite(fd, &one, sizeof one, (off_t)offsetof(ffs_undo_hdr, rolled_back)) != sizeof one) {
    if (err && errlen) snprintf(err, errlen, "rollback: mark %s: %s", path, strerror(errno));
    rc = FFS_EIO;
  }
fail:
  if (fd >= 0) close(fd);
  free(buf);
  return rc;
}

/* 1: STATE has the marker; 0: it is empty (apart from . and ..); -1: neither. */
static int state_owned(const char *state_dir) {
  char path[FFS_PATH_MAX];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", state_dir, FFS_STATE_MARKER);
  if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) return 1;
  DIR *d = opendir(state_dir);
  if (!d) return -1;
  struct dirent *e;
  int empty = 1;
  while (empty && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
  closedir(d);
  return empty ? 0 : -1;
}

int ffs_state_claim(const char *state_dir, char *err, size_t errlen) {
  char path[FFS_PATH_MAX];
  struct stat st;
  if (err && errlen) err[0] = 0;
  if (!state_dir || !*state_dir) return FFS_EINVAL;
  if (mkdir(state_dir, 0755) < 0 && errno != EEXIST) {
    if (err && errlen) snprintf(err, errlen, "state dir '%s': %s", state_dir, strerror(errno));
    return FFS_ENODIR;
  }
  if (stat(state_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
    if (err && errlen) snprintf(err, errlen, "state dir '%s' is not a directory", state_dir);
    return FFS_ENODIR;
  }
  int own = state_owned(state_dir);
  if (own < 0) {
    if (err && errlen)
      snprintf(err, errlen, "state dir '%s' is not empty and was not created by faultfs (no %s): refusing to use it",
               state_dir, FFS_STATE_MARKER);
    return FFS_EINVAL;
  }
  if (own == 0) {
    snprintf(path, sizeof path, "%s/%s", state_dir, FFS_STATE_MARKER);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) {
      if (err && errlen) snprintf(err, errlen, "state dir marker %s: %s", path, strerror(errno));
      return FFS_EIO;
    }
    if (fd >= 0) close(fd);
  }
  return 0;
}

int ffs_state_clear(const char *state_dir) {
  char path[FFS_PATH_MAX];
  DIR *d;
  struct dirent *e;
  size_t vl = strlen(FFS_STATE_VICTIMS);
  if (!state_dir) return FFS_EINVAL;
  d = opendir(state_dir);
  if (!d) return errno == ENOENT ? FFS_ENODIR : FFS_EIO;
  if (state_owned(state_dir) < 0) { closedir(d); return FFS_EINVAL; }
  while ((e = readdir(d))) {
    int victim = strncmp(e->d_name, FFS_STATE_VICTIMS, vl) == 0 && e->d_name[vl] >= '0' && e->d_name[vl] <= '9';
    if (victim || !strcmp(e->d_name, FFS_STATE_UNDO) || !strcmp(e->d_name, FFS_STATE_FIRED)) {
      snprintf(path, sizeof path, "%s/%s", state_dir, e->d_name);
      ffs_rm_rf(path);
    }
  }
  closedir(d);
  return 0;
}
