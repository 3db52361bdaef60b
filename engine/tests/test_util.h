/*
 * test_util.h - helpers for the engine tests: temp dirs, file surgery, and a
 * fault-injecting I/O table (installed through sdb__env_set).
 */
#ifndef SDB_TEST_UTIL_H
#define SDB_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sofadb.h"

/* A fresh empty directory under $TMPDIR (or /tmp); returns a static-free path to free(). */
char *tu_tmpdir(const char *tag);
void tu_rmrf(const char *dir);
/* dir/name */
char *tu_path(const char *dir, const char *name);
long tu_file_size(const char *path);
int tu_truncate(const char *path, long len);
/* Where the records of the log at path end: before the zeros of its
 * preallocated space (docs/format/wal.md). -1 when it cannot be read. */
long tu_wal_end(const char *path);
/* Cuts those zeros off: what the file would be without preallocation, for a
 * test that edits bytes at the end of the records. */
int tu_wal_trim(const char *path);
int tu_xor_byte(const char *path, long off, unsigned char mask);
int tu_write_file(const char *path, const void *p, size_t n);
int tu_append_file(const char *path, const void *p, size_t n);
/* First file in dir whose name ends with suffix (or starts with prefix if
 * suffix starts with '^'); NULL if none. Caller frees. */
char *tu_find(const char *dir, const char *pattern);
int tu_count(const char *dir, const char *pattern);
sdb *tu_open(const char *dir, size_t memtable_bytes);
/* The value of stats line `name` (a whole line's name, not a suffix of
 * another: "flushes" is not "background_flushes"); fails the test if absent. */
char *tu_stat(sdb *db, const char *name);
sdb *tu_open_opts(const char *dir, const sdb_options *opt);
void tu_expect(sdb *db, const char *k, const char *v); /* v NULL = absent */

/* A cmocka fixture: `dir` is a fresh temp dir (tu_tmpdir(prefix)) during
 * each test run with setup/teardown, removed after it. */
#define TU_DIR_FIXTURE(prefix)                                                                     \
  static char *dir;                                                                                \
  static int setup(void **s) {                                                                     \
    (void)s;                                                                                       \
    dir = tu_tmpdir(prefix);                                                                       \
    return 0;                                                                                      \
  }                                                                                                \
  static int teardown(void **s) {                                                                  \
    (void)s;                                                                                       \
    tu_rmrf(dir);                                                                                  \
    free(dir);                                                                                     \
    return 0;                                                                                      \
  }

/* ---- fault injection ------------------------------------------------------------ */
enum tu_op { TU_WRITE, TU_FSYNC, TU_FDATASYNC, TU_RENAME, TU_OPEN, TU_PREAD, TU_ANY_SYNC, TU_NOPS };
/* Fail the n-th (1-based) call of op on a path containing `sub` (NULL: any)
 * with errno err; if sticky, also every later one. For TU_WRITE a `short_by`
 * > 0 makes the failing call first write all but short_by bytes. */
void tu_fault_set(enum tu_op op, const char *sub, int n, int err, int sticky);
void tu_fault_install(void);
void tu_fault_remove(void);
int tu_fault_fired(void);
int tu_calls(enum tu_op op); /* calls seen since install */
/* Global call counter over every faultable op (for sweeps) and a rule that
 * fails global call number n with EIO (ENOSPC for writes). */
void tu_fault_global(int n);
int tu_global_calls(void);
/* The next pread of a path containing sub returns data with bit 0 of its first byte flipped. */
void tu_flip_next_pread(const char *sub);

#endif
