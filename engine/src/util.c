/*
 * util.c - error codes and context, buffers, escaping, file names and the
 * merging iterator.
 */
#include "sdb_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

const char *sdb_strerror(int err) {
  switch (err) {
#define SDB_X_(name, val, msg) \
  case (val):                  \
    return (msg);
    SDB_ERRNO_MAP(SDB_X_)
#undef SDB_X_
  }
  return "unknown error";
}

int sdb__err(sdb_eb *eb, int code, const char *fmt, ...) {
  if (eb) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

int sdb__errno_code(int neg_errno) {
  switch (-neg_errno) {
    case ENOSPC:
    case EDQUOT:
      return SDB_ENOSPC;
    case ENOMEM:
      return SDB_ENOMEM;
    default:
      return SDB_EIO;
  }
}

int sdb__ioerr(sdb_eb *eb, const char *op, const char *path, int neg_errno) {
  return sdb__err(eb, sdb__errno_code(neg_errno), "%s %s: %s (errno %d)", op, path ? path : "",
                  strerror(-neg_errno), -neg_errno);
}

int sdb__buf_reserve(sdb_buf *b, size_t extra) {
  if (b->cap - b->len >= extra) return 0;
  size_t want = b->len + extra, cap = b->cap ? b->cap : 64;
  while (cap < want) cap = cap * 2 > cap ? cap * 2 : want;
  uint8_t *p = realloc(b->p, cap);
  if (!p) return SDB_ENOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

void sdb__buf_free(sdb_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

void sdb__escape(const void *p, size_t n, char *out, size_t outlen) {
  const uint8_t *s = p;
  size_t o = 0;
  if (!outlen) return;
  for (size_t i = 0; i < n; i++) {
    char t[5];
    int tl;
    if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
      t[0] = (char)s[i];
      tl = 1;
    } else if (s[i] == '\\') {
      t[0] = t[1] = '\\';
      tl = 2;
    } else {
      tl = snprintf(t, sizeof t, "\\x%02x", s[i]);
    }
    if (o + (size_t)tl + 4 > outlen) {
      if (o + 4 <= outlen) memcpy(out + o, "...", 3), o += 3;
      break;
    }
    memcpy(out + o, t, (size_t)tl);
    o += (size_t)tl;
  }
  out[o < outlen ? o : outlen - 1] = 0;
}

static int parse_num(const char *s, size_t n, uint64_t *num) {
  uint64_t v = 0;
  if (n == 0 || n > 19) return 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *num = v;
  return 1;
}

enum sdb_ftype sdb__parse_name(const char *name, uint64_t *num) {
  size_t n = strlen(name);
  *num = 0;
  if (!strcmp(name, "CURRENT")) return SDB_F_CURRENT;
  if (!strcmp(name, "LOCK")) return SDB_F_LOCK;
  if (!strcmp(name, "CURRENT.tmp")) return SDB_F_TEMP;
  if (!strncmp(name, "MANIFEST-", 9) && parse_num(name + 9, n - 9, num)) return SDB_F_MANIFEST;
  if (n > 4 && !strcmp(name + n - 4, ".log") && parse_num(name, n - 4, num)) return SDB_F_LOG;
  if (n > 4 && !strcmp(name + n - 4, ".sst") && parse_num(name, n - 4, num)) return SDB_F_SST;
  return SDB_F_UNKNOWN;
}

char *sdb__log_name(char *out, size_t n, const char *dir, uint64_t num) {
  snprintf(out, n, "%s/%06" PRIu64 ".log", dir, num);
  return out;
}
char *sdb__sst_name(char *out, size_t n, const char *dir, uint64_t num) {
  snprintf(out, n, "%s/%06" PRIu64 ".sst", dir, num);
  return out;
}
char *sdb__manifest_name(char *out, size_t n, const char *dir, uint64_t num) {
  snprintf(out, n, "%s/MANIFEST-%06" PRIu64, dir, num);
  return out;
}

/* ---- merging iterator: the smallest internal key among the children --------- */
/* Each child's key is looked up once after the child moves (a child's key
 * stays put until it moves), and so is its status: m_pick and m_valid call
 * into no child. status: the first child's (in order) non-zero status, what
 * asking every child would give, since only a move changes a child's. */
typedef struct merge_kid {
  sdb_iiter *it;
  const uint8_t *k; /* NULL: not valid */
  size_t kn;
} merge_kid;
typedef struct merge_iter {
  sdb_iiter base;
  sdb_iiter **kids;
  merge_kid *mk;
  size_t n;
  merge_kid *cur;
  int status;
} merge_iter;

static void m_load(merge_iter *m, merge_kid *c) {
  sdb_iiter *k = c->it;
  c->k = k->ops->valid(k) ? k->ops->key(k, &c->kn) : NULL;
  if (!m->status) m->status = k->ops->status(k);
}
static void m_pick(merge_iter *m) {
  merge_kid *best = NULL;
  for (size_t i = 0; i < m->n; i++) {
    merge_kid *c = &m->mk[i];
    if (c->k && (!best || sdb__icmp(c->k, c->kn, best->k, best->kn) < 0)) best = c;
  }
  m->cur = best;
}
static int m_valid(sdb_iiter *it) {
  merge_iter *m = (merge_iter *)it;
  return m->cur != NULL && m->status == 0;
}
static void m_seek_first(sdb_iiter *it) {
  merge_iter *m = (merge_iter *)it;
  m->status = 0;
  for (size_t i = 0; i < m->n; i++) {
    m->kids[i]->ops->seek_first(m->kids[i]);
    m_load(m, &m->mk[i]);
  }
  m_pick(m);
}
static void m_seek(sdb_iiter *it, const uint8_t *k, size_t n) {
  merge_iter *m = (merge_iter *)it;
  m->status = 0;
  for (size_t i = 0; i < m->n; i++) /* every child's block misses in flight before any is waited for */
    if (m->kids[i]->ops->seek_prep) m->kids[i]->ops->seek_prep(m->kids[i], k, n);
  for (size_t i = 0; i < m->n; i++) {
    m->kids[i]->ops->seek(m->kids[i], k, n);
    m_load(m, &m->mk[i]);
  }
  m_pick(m);
}
static void m_next(sdb_iiter *it) {
  merge_iter *m = (merge_iter *)it;
  if (!m->cur) return;
  m->cur->it->ops->next(m->cur->it);
  m_load(m, m->cur);
  m_pick(m);
}
static const uint8_t *m_key(sdb_iiter *it, size_t *n) {
  merge_iter *m = (merge_iter *)it;
  *n = m->cur->kn;
  return m->cur->k;
}
static const uint8_t *m_value(sdb_iiter *it, size_t *n) {
  merge_iter *m = (merge_iter *)it;
  return m->cur->it->ops->value(m->cur->it, n);
}
static int m_status(sdb_iiter *it) { return ((merge_iter *)it)->status; }
static const char *m_errmsg(sdb_iiter *it) {
  merge_iter *m = (merge_iter *)it;
  for (size_t i = 0; i < m->n; i++)
    if (m->kids[i]->ops->status(m->kids[i])) return m->kids[i]->ops->errmsg(m->kids[i]);
  return "";
}
static void m_free(sdb_iiter *it) {
  merge_iter *m = (merge_iter *)it;
  for (size_t i = 0; i < m->n; i++) m->kids[i]->ops->free(m->kids[i]);
  free(m->kids);
  free(m->mk);
  free(m);
}
static const sdb_iiter_ops merge_ops = {m_valid, m_seek_first, m_seek,   m_next, m_key,
                                        m_value, m_status,     m_errmsg, m_free, NULL};

sdb_iiter *sdb__merge_iter(sdb_iiter **kids, size_t n) {
  merge_iter *m = calloc(1, sizeof *m);
  merge_kid *mk = calloc(n ? n : 1, sizeof *mk);
  if (!m || !mk) {
    for (size_t i = 0; i < n; i++) kids[i]->ops->free(kids[i]);
    free(kids);
    free(mk);
    free(m);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) mk[i].it = kids[i];
  m->base.ops = &merge_ops;
  m->kids = kids;
  m->mk = mk;
  m->n = n;
  return &m->base;
}
