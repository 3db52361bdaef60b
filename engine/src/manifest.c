/*
 * manifest.c - MANIFEST (version edits) and CURRENT (docs/format/manifest.md).
 *
 * Invariants kept here:
 *  (M1) Every edit is fsynced before sdb__manifest_append returns, so an intact
 *       edit after a damaged one proves the damaged one had been synced: in a
 *       MANIFEST any damage before the last intact record is corruption.
 *  (M2) A new MANIFEST is complete and fsynced before CURRENT may name it.
 *  (M3) CURRENT is replaced atomically: CURRENT.tmp written, fsynced, renamed
 *       over CURRENT, then the directory fsynced. CURRENT is never written in
 *       place, so it always names a complete MANIFEST.
 *  (M4) No name in the directory is ever opened for writing unless this call
 *       created it (O_CREAT|O_EXCL|O_NOFOLLOW): a stale CURRENT.tmp -- even a
 *       symlink to a file elsewhere -- is unlinked first (the name, never what
 *       it points to). Existing files are opened for reading only after
 *       checking they are regular files (a FIFO would block the open).
 */
#define _GNU_SOURCE /* memmem */
#include "manifest.h"

#include "env.h"
#include "manifest_format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sdb__vstate_free(sdb_vstate *vs) {
  for (size_t i = 0; i < vs->nfiles; i++) {
    sdb__buf_free(&vs->files[i].smallest);
    sdb__buf_free(&vs->files[i].largest);
  }
  free(vs->files);
  memset(vs, 0, sizeof *vs);
}

int sdb__vstate_add(sdb_vstate *vs, const sdb_fmeta *f) {
  if (vs->nfiles == vs->cap) {
    size_t cap = vs->cap ? vs->cap * 2 : 16;
    sdb_fmeta *n = realloc(vs->files, cap * sizeof *n);
    if (!n) return SDB_ENOMEM;
    vs->files = n;
    vs->cap = cap;
  }
  /* keep (level asc, number desc): newest L0 first */
  size_t at = 0;
  while (at < vs->nfiles && (vs->files[at].level < f->level ||
                             (vs->files[at].level == f->level && vs->files[at].number > f->number)))
    at++;
  memmove(vs->files + at + 1, vs->files + at, (vs->nfiles - at) * sizeof *f);
  sdb_fmeta *d = &vs->files[at];
  memset(d, 0, sizeof *d);
  d->level = f->level;
  d->number = f->number;
  d->size = f->size;
  vs->nfiles++;
  if (sdb__buf_set(&d->smallest, f->smallest.p, f->smallest.len) ||
      sdb__buf_set(&d->largest, f->largest.p, f->largest.len))
    return SDB_ENOMEM;
  return 0;
}

int sdb__vstate_del(sdb_vstate *vs, uint64_t number) {
  size_t i;
  for (i = 0; i < vs->nfiles && vs->files[i].number != number; i++) {
  }
  if (i == vs->nfiles) return -1;
  sdb__buf_free(&vs->files[i].smallest);
  sdb__buf_free(&vs->files[i].largest);
  memmove(vs->files + i, vs->files + i + 1, (vs->nfiles - i - 1) * sizeof *vs->files);
  vs->nfiles--;
  return 0;
}

/* One version edit as MANIFEST fields (docs/format/manifest.md) into out. */
static int edit_encode(const sdb_edit *e, sdb_buf *out) {
  int rc = 0;
  out->len = 0;
  if (e->has_log && ((rc = sdb__buf_var(out, SDB_TAG_LOG)) || (rc = sdb__buf_var(out, e->log_number)))) return rc;
  if (e->has_next && ((rc = sdb__buf_var(out, SDB_TAG_NEXT)) || (rc = sdb__buf_var(out, e->next_file)))) return rc;
  if (e->has_seq && ((rc = sdb__buf_var(out, SDB_TAG_SEQ)) || (rc = sdb__buf_var(out, e->last_seq)))) return rc;
  if (e->has_prev && ((rc = sdb__buf_var(out, SDB_TAG_PREV)) || (rc = sdb__buf_var(out, e->prev_log)))) return rc;
  for (size_t i = 0; i < e->ndel; i++)
    if ((rc = sdb__buf_var(out, SDB_TAG_DEL)) || (rc = sdb__buf_var(out, (uint64_t)e->del[i].level)) ||
        (rc = sdb__buf_var(out, e->del[i].number)))
      return rc;
  for (size_t i = 0; i < e->nadd; i++) {
    const sdb_fmeta *f = &e->add[i];
    if ((rc = sdb__buf_var(out, SDB_TAG_ADD)) || (rc = sdb__buf_var(out, (uint64_t)f->level)) ||
        (rc = sdb__buf_var(out, f->number)) || (rc = sdb__buf_var(out, f->size)) ||
        (rc = sdb__buf_lp(out, f->smallest.p, f->smallest.len)) || (rc = sdb__buf_lp(out, f->largest.p, f->largest.len)))
      return rc;
  }
  return 0;
}

static const uint8_t *dec_lp(const uint8_t *p, const uint8_t *end, sdb_buf *b) {
  uint64_t n;
  if (!(p = sdb__decvar(p, end, &n)) || n > (uint64_t)(end - p) || n < 8) return NULL;
  if (sdb__buf_set(b, p, (size_t)n)) return NULL;
  return p + n;
}

/* Applies one edit; returns NULL on success or a reason. */
static const char *apply_edit(sdb_vstate *vs, const uint8_t *p, size_t n, FILE *dump) {
  const uint8_t *end = p + n;
  char a[128], b[128];
  while (p < end) {
    uint64_t tag, v, lvl, num;
    if (!(p = sdb__decvar(p, end, &tag))) return "truncated tag";
    switch (tag) {
      case SDB_TAG_LOG:
      case SDB_TAG_NEXT:
      case SDB_TAG_SEQ:
      case SDB_TAG_PREV:
        if (!(p = sdb__decvar(p, end, &v))) return "truncated field";
        if (tag == SDB_TAG_PREV) {
          vs->prev_log = v;
          if (dump) fprintf(dump, "  prev_log %" PRIu64 "\n", v);
          break;
        }
        if (tag == SDB_TAG_LOG) vs->log_number = v, vs->has_log = 1;
        if (tag == SDB_TAG_NEXT) vs->next_file = v, vs->has_next = 1;
        if (tag == SDB_TAG_SEQ) vs->last_seq = v, vs->has_seq = 1;
        if (dump)
          fprintf(dump, "  %s %" PRIu64 "\n",
                  tag == SDB_TAG_LOG ? "log_number" : tag == SDB_TAG_NEXT ? "next_file" : "last_seq", v);
        break;
      case SDB_TAG_ADD: {
        sdb_fmeta f = {0};
        const char *why = NULL;
        if (!(p = sdb__decvar(p, end, &lvl)) || lvl >= SDB_NUM_LEVELS || !(p = sdb__decvar(p, end, &f.number)) ||
            !(p = sdb__decvar(p, end, &f.size)) || !(p = dec_lp(p, end, &f.smallest)) ||
            !(p = dec_lp(p, end, &f.largest))) {
          why = "malformed ADD_FILE";
        } else {
          f.level = (int)lvl;
          for (size_t i = 0; i < vs->nfiles; i++)
            if (vs->files[i].number == f.number) why = "ADD_FILE of a file already live";
          if (!why && sdb__vstate_add(vs, &f)) why = "out of memory";
          if (!why && dump) {
            sdb__escape(f.smallest.p, f.smallest.len - 8, a, sizeof a);
            sdb__escape(f.largest.p, f.largest.len - 8, b, sizeof b);
            fprintf(dump, "  add_file L%d %06" PRIu64 ".sst %" PRIu64 " bytes [%s .. %s]\n", f.level, f.number, f.size,
                    a, b);
          }
        }
        sdb__buf_free(&f.smallest);
        sdb__buf_free(&f.largest);
        if (why) return why;
        break;
      }
      case SDB_TAG_DEL: {
        if (!(p = sdb__decvar(p, end, &lvl)) || !(p = sdb__decvar(p, end, &num))) return "malformed DEL_FILE";
        if (sdb__vstate_del(vs, num)) return "DEL_FILE of a file not live";
        if (dump) fprintf(dump, "  del_file L%" PRIu64 " %06" PRIu64 ".sst\n", lvl, num);
        break;
      }
      default:
        return "unknown tag";
    }
  }
  return NULL;
}

static int manifest_proves(void *arg, const uint8_t *rec, size_t n, uint64_t x) { return 1; /* (M1) */ }

/* A MANIFEST that holds no sofadb record at all may be another engine's: LevelDB
 * and RocksDB write the comparator's name into their first version edit. Names it
 * ("a LevelDB MANIFEST", "a RocksDB MANIFEST": RocksDB keeps an IDENTITY file
 * beside it) into what, or returns 0 when the file does not look like one. */
static int foreign_manifest(const char *path, char *what, size_t len) {
  static const char cmp[] = "leveldb.BytewiseComparator";
  char buf[4096], dir[PATH_MAX];
  struct stat st;
  ssize_t n;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  n = read(fd, buf, sizeof buf);
  close(fd);
  if (n <= 0 || !memmem(buf, (size_t)n, cmp, sizeof cmp - 1)) return 0;
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) snprintf(slash + 1, sizeof dir - (size_t)(slash + 1 - dir), "IDENTITY");
  else snprintf(dir, sizeof dir, "IDENTITY");
  snprintf(what, len, "a %s MANIFEST", lstat(dir, &st) == 0 ? "RocksDB" : "LevelDB");
  return 1;
}

int sdb__manifest_read(const char *path, uint64_t expect_num, sdb_vstate *vs, FILE *dump, sdb_eb *eb) {
  sdb_logr r;
  const uint8_t *rec;
  size_t n;
  uint64_t num;
  int rc, got, nrec = 0;
  memset(vs, 0, sizeof *vs);
  if ((rc = sdb__logr_open(&r, path, manifest_proves, NULL, 1, eb))) {
    if (r.open_errno == ENOENT) rc = sdb__err(eb, SDB_ECORRUPT, "CURRENT names %s, which does not exist", path);
    return rc;
  }
  if (dump) fprintf(dump, "manifest %s: %" PRIu64 " bytes\n", path, r.size);
  for (int i = 0; (got = sdb__logr_next(&r, &rec, &n, eb)) == 1; i++) {
    nrec++;
    if (i == 0) {
      if ((rc = sdb__log_check_header(path, rec, n, SDB_MANIFEST_MAGIC, &num, eb))) goto out;
      if (expect_num && num != expect_num) {
        rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset 0: header names MANIFEST-%06" PRIu64, path, num);
        goto out;
      }
      if (dump) fprintf(dump, "@%" PRIu64 " header: magic %.8s version %d file %" PRIu64 "\n", r.rec_off, rec, SDB_LOG_VERSION, num);
      continue;
    }
    if (dump) fprintf(dump, "@%" PRIu64 " edit (%zu bytes)\n", r.rec_off, n);
    const char *why = apply_edit(vs, rec, n, dump);
    if (why) {
      rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": bad version edit: %s", path, r.rec_off, why);
      goto out;
    }
  }
  if (got < 0) {
    rc = got;
    goto out;
  }
  if (dump && r.tail_off < r.size)
    fprintf(dump, "@%" PRIu64 " torn tail (%s), %" PRIu64 " bytes ignored\n", r.tail_off, r.tail_why, r.size - r.tail_off);
  if (!vs->has_log || !vs->has_next || !vs->has_seq) {
    char what[64];
    if (nrec == 0 && foreign_manifest(path, what, sizeof what))
      rc = sdb__err(eb, SDB_EINVAL, "not a sofadb database: %s is %s (comparator leveldb.BytewiseComparator); "
                    "sofadb reads only its own files and changed nothing", path, what);
    else
      rc = sdb__err(eb, SDB_ECORRUPT, "%s: no complete snapshot (log number, next file, last sequence)", path);
    goto out;
  }
  rc = 0;
out:
  sdb__logr_close(&r);
  if (rc) sdb__vstate_free(vs);
  return rc;
}

int sdb__manifest_create(sdb_logw *w, const char *dir, uint64_t num, const sdb_vstate *vs, sdb_eb *eb) {
  char path[PATH_MAX];
  sdb_buf b = {0};
  sdb_edit e = {1, 1, 1, vs->log_number, vs->next_file, vs->last_seq, vs->files, vs->nfiles, NULL, 0,
                vs->prev_log != 0, vs->prev_log};
  int rc;
  sdb__manifest_name(path, sizeof path, dir, num);
  if ((rc = sdb__logw_create(w, path, SDB_MANIFEST_MAGIC, num, eb))) return rc;
  if ((rc = edit_encode(&e, &b))) {
    rc = sdb__err(eb, rc, "manifest %s: out of memory", path);
  } else if (!(rc = sdb__logw_add(w, b.p, b.len, NULL, 0, eb))) {
    if (sdb__env->fsync(w->fd) < 0) rc = sdb__ioerr(eb, "fsync", path, -errno); /* (M2) */
  }
  sdb__buf_free(&b);
  if (rc) sdb__logw_close(w);
  return rc;
}

int sdb__manifest_append(sdb_logw *w, const sdb_edit *e, sdb_eb *eb) {
  sdb_buf b = {0};
  int rc = edit_encode(e, &b);
  if (rc) {
    rc = sdb__err(eb, rc, "manifest %s: out of memory", w->path);
  } else if (!(rc = sdb__logw_add(w, b.p, b.len, NULL, 0, eb))) {
    if (sdb__env->fsync(w->fd) < 0) rc = sdb__ioerr(eb, "fsync", w->path, -errno); /* (M1) */
  }
  sdb__buf_free(&b);
  return rc;
}

int sdb__current_set(const char *dir, uint64_t num, sdb_eb *eb) {
  char tmp[PATH_MAX], cur[PATH_MAX], body[64];
  int fd, rc;
  snprintf(tmp, sizeof tmp, "%s/CURRENT.tmp", dir);
  snprintf(cur, sizeof cur, "%s/CURRENT", dir);
  int n = snprintf(body, sizeof body, "MANIFEST-%06" PRIu64 "\n", num);
  if (sdb__env->unlink(tmp) < 0 && errno != ENOENT) return sdb__ioerr(eb, "unlink stale", tmp, -errno); /* (M4) */
  if ((fd = sdb__create_new(tmp, 0)) < 0) return sdb__ioerr(eb, "create", tmp, fd);
  if ((rc = sdb__write_all(fd, body, (size_t)n))) {
    rc = sdb__ioerr(eb, "write", tmp, rc);
  } else if (sdb__env->fsync(fd) < 0) {
    rc = sdb__ioerr(eb, "fsync", tmp, -errno);
  }
  sdb__env->close(fd);
  if (rc) goto fail;
  if (sdb__env->rename(tmp, cur) < 0) {
    rc = sdb__ioerr(eb, "rename", tmp, -errno);
    goto fail;
  }
  if ((rc = sdb__fsync_dir(dir))) return sdb__ioerr(eb, "fsync directory", dir, rc);
  return 0;
fail:
  sdb__env->unlink(tmp);
  return rc;
}

static int parse_current(const char *body, ssize_t n, uint64_t *num) {
  uint64_t v = 0;
  if (n < 11 || n > 29 || strncmp(body, "MANIFEST-", 9) || body[n - 1] != '\n') return -1;
  for (ssize_t i = 9; i < n - 1; i++) {
    if (body[i] < '0' || body[i] > '9') return -1;
    v = v * 10 + (uint64_t)(body[i] - '0');
  }
  *num = v;
  return 0;
}

int sdb__current_get(const char *dir, uint64_t *num, sdb_eb *eb) {
  char cur[PATH_MAX], body[64];
  int fd, bad = 1;
  ssize_t n = 0;
  const char *kind = NULL;
  snprintf(cur, sizeof cur, "%s/CURRENT", dir);
  if ((fd = sdb__open_regular(cur, O_RDONLY, &kind)) < 0) { /* (M4) */
    if (fd == -ENOENT) return SDB_ENOENT;
    return sdb__open_error(eb, cur, fd, kind);
  }
  for (int attempt = 0; attempt < 2 && bad; attempt++) { /* confirm a malformed read */
    n = sdb__pread_all(fd, body, sizeof body - 1, 0);
    if (n < 0) break;
    body[n] = 0;
    bad = parse_current(body, n, num);
  }
  sdb__env->close(fd);
  if (n < 0) return sdb__ioerr(eb, "read", cur, (int)n);
  if (bad) return sdb__err(eb, SDB_ECORRUPT, "%s: malformed (expected \"MANIFEST-<number>\\n\")", cur);
  return 0;
}
