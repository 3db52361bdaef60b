/*
 * manifest.h - the set of live files (what the MANIFEST says) and CURRENT.
 */
#ifndef SDB_MANIFEST_H
#define SDB_MANIFEST_H

#include "log_format.h"

#include <stdio.h>

typedef struct sdb_fmeta {
  int level;
  uint64_t number, size;
  sdb_buf smallest, largest; /* internal keys */
} sdb_fmeta;

typedef struct sdb_fdel {
  int level;
  uint64_t number;
} sdb_fdel;

/* A version edit, or (all fields set, every file in `add`) a full snapshot.
 * Deletions are encoded (and applied) before additions, so one edit can move
 * a file to another level. */
typedef struct sdb_edit {
  int has_log, has_next, has_seq;
  uint64_t log_number, next_file, last_seq;
  const sdb_fmeta *add;
  size_t nadd;
  const sdb_fdel *del;
  size_t ndel;
  int has_prev;      /* PREV_LOG present */
  uint64_t prev_log; /* the older live WAL being flushed in the background, 0 = none */
} sdb_edit;

typedef struct sdb_vstate {
  int has_log, has_next, has_seq;
  uint64_t log_number, next_file, last_seq;
  uint64_t prev_log; /* 0, or the older live WAL (replayed before log_number) */
  sdb_fmeta *files; /* all levels; L0 newest (highest number) first */
  size_t nfiles, cap;
} sdb_vstate;

void sdb__vstate_free(sdb_vstate *vs);
int sdb__vstate_add(sdb_vstate *vs, const sdb_fmeta *f); /* copies */
/* Removes file `number`; -1 if it is not live. */
int sdb__vstate_del(sdb_vstate *vs, uint64_t number);

/* Replays a MANIFEST into vs. Damage at the tail is a clean end; elsewhere
 * (or any undecodable edit) SDB_ECORRUPT naming file and offset. Prints the
 * records to dump if non-NULL. expect_num: the number its header must carry
 * (0: any). */
int sdb__manifest_read(const char *path, uint64_t expect_num, sdb_vstate *vs, FILE *dump, sdb_eb *eb);
/* Creates MANIFEST-<num> holding a snapshot of vs, fsynced; w stays open for edits. */
int sdb__manifest_create(sdb_logw *w, const char *dir, uint64_t num, const sdb_vstate *vs, sdb_eb *eb);
/* Appends one edit and fsyncs it. */
int sdb__manifest_append(sdb_logw *w, const sdb_edit *e, sdb_eb *eb);
/* CURRENT := "MANIFEST-<num>\n" by temp file -> fsync -> rename -> fsync dir. */
int sdb__current_set(const char *dir, uint64_t num, sdb_eb *eb);
/* Reads CURRENT: 0 (+*num), SDB_ENOENT if absent, SDB_ECORRUPT if malformed. */
int sdb__current_get(const char *dir, uint64_t *num, sdb_eb *eb);

#endif
