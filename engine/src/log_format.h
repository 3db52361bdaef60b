/*
 * log_format.h - the record framing shared by the WAL and the MANIFEST.
 * Specification: docs/format/wal.md (framing, recovery rule) and
 * docs/format/manifest.md (MANIFEST payloads).
 *
 * A file is a sequence of 32 KiB blocks. A logical record is stored as one or
 * more fragments, each with a 7-byte header:
 *   checksum u32 LE | length u16 LE | type u8 | payload[length]
 * checksum = low 32 bits of XXH3-64 over (length, type, payload), i.e. the 3+length
 * bytes following the checksum field. A fragment never crosses a block; fewer
 * than 7 bytes left in a block are zero padding. The first logical record of a
 * file is a header record: magic[8] | version u32 LE | file number u64 LE.
 */
#ifndef SDB_LOG_FORMAT_H
#define SDB_LOG_FORMAT_H

#include "sdb_int.h"

#include <limits.h>

#define SDB_LOG_BLOCK 32768
#define SDB_LOG_HDR 7
enum { SDB_LOG_FULL = 1, SDB_LOG_FIRST = 2, SDB_LOG_MIDDLE = 3, SDB_LOG_LAST = 4 };

#define SDB_LOG_VERSION 1
#define SDB_LOG_HEADER_LEN 20
#define SDB_WAL_MAGIC "SOFA-WAL"      /* 8 bytes, no NUL */
#define SDB_MANIFEST_MAGIC "SOFA-MAN" /* 8 bytes, no NUL */

typedef struct sdb_logw {
  int fd;
  uint64_t off; /* bytes handed to the kernel so far */
  char path[PATH_MAX];
  sdb_buf out;  /* framing scratch: one write() per logical record */
  uint64_t step;      /* > 0: the file grows in zero-filled steps of this size */
  uint64_t alloc_end; /* with step: the file's size (off <= alloc_end) */
  uint64_t fpos;      /* with step: the descriptor's file position */
} sdb_logw;

/* Creates (truncating) path and writes the header record. Not synced. */
int sdb__logw_create(sdb_logw *w, const char *path, const char *magic, uint64_t num, sdb_eb *eb);
/* From now on the file grows in zero-filled steps of `step` bytes (0: no
 * change): a record that ends past the file's end is written together with
 * the zeros up to the next multiple of step, and a record inside is written
 * over zeros (after one lseek back per step), so the file's size and block map stay as they are
 * and fdatasync has no metadata to commit. Readers end the log at the zeros
 * (docs/format/wal.md, "Preallocated space"). */
int sdb__logw_prealloc(sdb_logw *w, uint64_t step, sdb_eb *eb);
/* Appends one logical record (a followed by b) with exactly one write() call
 * (retried only to finish a short write). */
int sdb__logw_add(sdb_logw *w, const void *a, size_t alen, const void *b, size_t blen, sdb_eb *eb);
int sdb__logw_sync(sdb_logw *w, sdb_eb *eb); /* fdatasync; never retried */
void sdb__logw_close(sdb_logw *w);

/* Reader. It streams the file through a window of SDB_LOGR_WINDOW bytes:
 * memory is the window plus the largest record, not the file's size.
 * `proves(arg, rec, n, x)` says whether the intact record rec, found
 * after a damaged one at offset x, proves that offset x had been synced: then
 * the damage is corruption, not a torn tail (see docs/format/wal.md). */
#define SDB_LOGR_WINDOW (32 * SDB_LOG_BLOCK) /* 1 MiB: one pread per 32 blocks */
typedef int (*sdb_log_proves)(void *arg, const uint8_t *rec, size_t n, uint64_t bad_off);
typedef struct sdb_logr {
  const char *path;
  int fd;
  uint8_t *win;       /* the window: whole blocks of the file from win_off */
  uint64_t win_off;
  size_t win_len;     /* bytes of the file in win (0: none yet) */
  int io_rc;          /* -errno of a failed read */
  uint64_t size;
  uint64_t pos;       /* where the next record starts */
  uint64_t rec_off;   /* offset of the record last returned */
  uint64_t valid_end; /* end of the last intact record returned */
  uint64_t tail_off;  /* where a torn tail began (== size when none) */
  uint64_t zeroed;    /* preallocated zeros after the last record (L4); size excludes them */
  uint64_t skipped;   /* bytes skipped over proven corruption (paranoid off) */
  char tail_why[96];
  sdb_log_proves proves;
  void *arg;
  int paranoid;
  int done;
  int open_errno; /* errno of a failed open */
  sdb_buf rec;        /* a record of several fragments, assembled */
  const uint8_t *recp; /* the record last parsed: into win, or rec.p */
  size_t recn;
} sdb_logr;

int sdb__logr_open(sdb_logr *r, const char *path, sdb_log_proves proves, void *arg, int paranoid,
                   sdb_eb *eb);
/* 1: a record in (*rec, *n); 0: end (clean, or torn tail at r->tail_off);
 * <0: SDB_ECORRUPT (file and offset in eb) or an I/O error (a failed read:
 * "read PATH: ..."). *rec stays valid until the next call (a record of one
 * fragment is returned in place in the window; copy what must outlive it). */
int sdb__logr_next(sdb_logr *r, const uint8_t **rec, size_t *n, sdb_eb *eb);
void sdb__logr_close(sdb_logr *r);

/* Checks a header record; returns 0 or SDB_ECORRUPT. */
int sdb__log_check_header(const char *path, const uint8_t *rec, size_t n, const char *magic,
                          uint64_t *num, sdb_eb *eb);

#endif
