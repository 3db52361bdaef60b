/* unseen.c — changes to a data dir that the shim did not see. The parent snapshots the data
 * dir before the program runs and compares it afterwards (before any rollback) with what the
 * shim tracked: the paths named by the records of the undo log (docs/format/undo.md). A
 * path that was created, removed or changed and that no record names was changed behind
 * the shim's back: by raw syscalls, a static helper program, a process the shim was not
 * loaded in. Invariants:
 *  (1) "tracked" is per path: a file the shim saw changed is not re-checked byte by byte
 *      (a raw write into a file that tracked calls also changed is not named);
 *  (2) directories are compared by existence and type only: tracked creates and unlinks
 *      change their mtime and size; a file that was empty and is still empty is unchanged
 *      whatever its mtime (O_TRUNC of an empty file is not an undo record);
 *  (3) the undo log is read as written, bounded by its own lengths; a malformed record
 *      ends the walk (the paths before it are kept). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ffs_int.h"

typedef struct {
  char *path;   /* relative to the dir */
  mode_t type;  /* S_IFMT bits */
  uint64_t size, ino;
  int64_t mtime_ns;
} snap_ent;

struct ffs_snap {
  snap_ent *v;
  size_t n, cap;
};

static int snap_add(ffs_snap *s, const char *rel, const struct stat *st) {
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 64;
    snap_ent *nv = realloc(s->v, nc * sizeof *nv);
    if (!nv) return FFS_ENOMEM;
    s->v = nv;
    s->cap = nc;
  }
  snap_ent *e = &s->v[s->n];
  if (!(e->path = strdup(rel))) return FFS_ENOMEM;
  e->type = st->st_mode & S_IFMT;
  e->size = (uint64_t)st->st_size;
  e->ino = (uint64_t)st->st_ino;
  e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
  s->n++;
  return 0;
}

static int walk(ffs_snap *s, const char *abs, const char *rel) {
  DIR *d = opendir(abs);
  struct dirent *de;
  int rc = 0;
  if (!d) return errno == ENOENT ? 0 : FFS_EIO;
  while (rc == 0 && (de = readdir(d))) {
    char a[FFS_PATH_MAX], r[FFS_PATH_MAX];
    struct stat st;
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if ((size_t)snprintf(a, sizeof a, "%s/%s", abs, de->d_name) >= sizeof a ||
        (size_t)snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", de->d_name) >= sizeof r)
      continue; /* too deep to name: cannot be a path the shim tracked either */
    if (lstat(a, &st) < 0) continue; /* gone meanwhile */
    rc = snap_add(s, r, &st);
    if (rc == 0 && S_ISDIR(st.st_mode)) rc = walk(s, a, r);
  }
  closedir(d);
  return rc;
}

static int ent_cmp(const void *a, const void *b) {
  return strcmp(((const snap_ent *)a)->path, ((const snap_ent *)b)->path);
}

int ffs_snap_take(const char *dir, ffs_snap **out) {
  ffs_snap *s = calloc(1, sizeof *s);
  int rc;
  *out = NULL;
  if (!s) return FFS_ENOMEM;
  if ((rc = walk(s, dir, "")) < 0) {
    ffs_snap_free(s);
    return rc;
  }
  if (s->n) qsort(s->v, s->n, sizeof *s->v, ent_cmp);
  *out = s;
  return 0;
}

void ffs_snap_free(ffs_snap *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) free(s->v[i].path);
  free(s->v);
  free(s);
}

static const snap_ent *snap_find(const ffs_snap *s, const char *path) {
  snap_ent key = {.path = (char *)path};
  return s && s->n ? bsearch(&key, s->v, s->n, sizeof *s->v, ent_cmp) : NULL;
}

/* ---- what the shim tracked: every path named in the undo log ------------------------- */
typedef struct {
  char **v;
  size_t n, cap;
} strset;

static int set_add(strset *s, const char *p, size_t maxlen) {
  size_t l = strnlen(p, maxlen);
  if (l == maxlen) return 0; /* not NUL-terminated inside the record: ignore */
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 64;
    char **nv = realloc(s->v, nc * sizeof *nv);
    if (!nv) return FFS_ENOMEM;
    s->v = nv;
    s->cap = nc;
  }
  if (!(s->v[s->n] = strndup(p, l))) return FFS_ENOMEM;
  s->n++;
  return 0;
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int set_has(const strset *s, const char *p) {
  return s->n && bsearch(&p, s->v, s->n, sizeof *s->v, str_cmp) != NULL;
}
static void set_free(strset *s) {
  for (size_t i = 0; i < s->n; i++) free(s->v[i]);
  free(s->v);
}

/* tracked: every path of every record; moved: both names of every rename (a directory
 * rename moves what is under it). A missing log means the shim tracked nothing. */
static int read_tracked(const char *state_dir, strset *tracked, strset *moved, char *err, size_t errlen) {
  char path[FFS_PATH_MAX];
  unsigned char *log = NULL;
  struct stat st;
  int fd, rc = 0;
  snprintf(path, sizeof path, "%s/%s", state_dir, FFS_STATE_UNDO);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
    if (errno == ENOENT) return 0;
    snprintf(err, errlen, "undo log %s: %s", path, strerror(errno));
    return FFS_EIO;
  }
  if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(ffs_undo_hdr)) goto out;
  if (!(log = malloc((size_t)st.st_size))) { rc = FFS_ENOMEM; goto out; }
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t r = pread(fd, log + got, (size_t)st.st_size - got, (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  const ffs_undo_hdr *h = (const ffs_undo_hdr *)log;
  if (got < sizeof *h || memcmp(h->magic, FFS_UNDO_MAGIC, 8) != 0) goto out;
  size_t end = sizeof *h + (h->used < got - sizeof *h ? (size_t)h->used : got - sizeof *h);
  for (size_t off = sizeof *h; off + sizeof(ffs_urec) <= end && rc == 0;) {
    ffs_urec r;
    memcpy(&r, log + off, sizeof r);
    if (r.len < sizeof r || r.len % 8 || r.len > end - off || r.plen > r.len - sizeof r) break;
    const char *p = (const char *)log + off + sizeof r;
    size_t pl = r.plen;
    switch (r.type) {
      case FFS_U_DIRTY: case FFS_U_CREATE: case FFS_U_MKDIR: case FFS_U_RMDIR: case FFS_U_UNLINK:
      case FFS_U_DSYNC: case FFS_U_DENTRY:
        if (pl) rc = set_add(tracked, p, pl);
        break;
      case FFS_U_RENAME: case FFS_U_LINK: {
        size_t l1 = strnlen(p, pl);
        if (l1 + 1 >= pl) break;
        rc = set_add(tracked, p, pl);
        if (rc == 0) rc = set_add(tracked, p + l1 + 1, pl - l1 - 1);
        if (rc == 0 && r.type == FFS_U_RENAME) rc = set_add(moved, p, pl);
        if (rc == 0 && r.type == FFS_U_RENAME) rc = set_add(moved, p + l1 + 1, pl - l1 - 1);
        break;
      }
      default:
        break;
    }
    off += r.len;
  }
  if (tracked->n) qsort(tracked->v, tracked->n, sizeof *tracked->v, str_cmp);
  if (moved->n) qsort(moved->v, moved->n, sizeof *moved->v, str_cmp);
out:
  free(log);
  close(fd);
  if (rc == FFS_ENOMEM) snprintf(err, errlen, "out of memory reading %s", path);
  return rc;
}

/* p is tracked, or lies under a directory that a tracked rename moved. */
static int covered(const strset *tracked, const strset *moved, const char *p) {
  char buf[FFS_PATH_MAX];
  if (set_has(tracked, p)) return 1;
  snprintf(buf, sizeof buf, "%s", p);
  for (char *s = strrchr(buf, '/'); s; s = strrchr(buf, '/')) {
    *s = 0;
    if (set_has(moved, buf)) return 1;
  }
  return 0;
}

static void append_item(char *buf, size_t len, size_t *used, int *full, const char *p, const char *what) {
  if (*full || !len) return;
  int n = snprintf(buf + *used, len - *used, "%s%s (%s)", *used ? ", " : "", p, what);
  if (n < 0 || (size_t)n >= len - *used) {
    /* cut: leave room for "..." */
    *used = len > 4 ? len - 4 : 0;
    snprintf(buf + *used, len - *used, "...");
    *full = 1;
    return;
  }
  *used += (size_t)n;
}

int ffs_unseen_changes(const char *dir, const ffs_snap *before, const char *state_dir, char *buf, size_t len) {
  ffs_snap *after = NULL;
  strset tracked = {0}, moved = {0};
  size_t used = 0;
  int full = 0, count = 0, rc;
  if (len) buf[0] = 0;
  if ((rc = read_tracked(state_dir, &tracked, &moved, buf, len)) < 0) goto out;
  if ((rc = ffs_snap_take(dir, &after)) < 0) {
    snprintf(buf, len, "cannot list %s", dir);
    goto out;
  }
  for (size_t i = 0; i < after->n; i++) {
    const snap_ent *a = &after->v[i], *b = snap_find(before, a->path);
    const char *what = NULL;
    if (!b) what = "created";
    else if (a->type != b->type || a->ino != b->ino) what = "replaced";
    else if (a->type != S_IFDIR && (a->size != b->size || (a->mtime_ns != b->mtime_ns && a->size > 0)))
      what = "changed"; /* an empty file that stayed empty (open with O_TRUNC) holds nothing new */
    if (!what || covered(&tracked, &moved, a->path)) continue;
    count++;
    append_item(buf, len, &used, &full, a->path, what);
  }
  for (size_t i = 0; before && i < before->n; i++) {
    const snap_ent *b = &before->v[i];
    if (snap_find(after, b->path) || covered(&tracked, &moved, b->path)) continue;
    count++;
    append_item(buf, len, &used, &full, b->path, "removed");
  }
  rc = count;
out:
  ffs_snap_free(after);
  set_free(&tracked);
  set_free(&moved);
  return rc;
}
