/*
 * env.h - the one table through which sofadb does ALL file I/O.
 *
 * Like LevelDB's Env or SQLite's aSyscall[]: every open/read/write/fsync/
 * rename/unlink/... of the engine goes through sdb__env, so unit tests can
 * install a fault-injecting table in-process (sdb__env_set) and the LD_PRELOAD
 * shim sees ordinary libc calls in the default table.
 */
#ifndef SDB_ENV_H
#define SDB_ENV_H

#include <dirent.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct sdb_env {
  int (*open)(const char *path, int flags, mode_t mode);
  int (*close)(int fd);
  ssize_t (*read)(int fd, void *buf, size_t n);
  ssize_t (*pread)(int fd, void *buf, size_t n, off_t off);
  ssize_t (*write)(int fd, const void *buf, size_t n);
  ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
  int (*fsync)(int fd);
  int (*fdatasync)(int fd);
  int (*ftruncate)(int fd, off_t len);
  int (*fstat)(int fd, struct stat *st);
  int (*rename)(const char *from, const char *to);
  int (*unlink)(const char *path);
  int (*link)(const char *from, const char *to); /* hard link (checkpoints) */
  int (*mkdir)(const char *path, mode_t mode);
  int (*rmdir)(const char *path);
  int (*flock)(int fd, int op);
  DIR *(*opendir)(const char *path);
  struct dirent *(*readdir)(DIR *d);
  int (*closedir)(DIR *d);
  /* read-only mappings of table files (table.c, option mmap_reads) */
  void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
  int (*munmap)(void *addr, size_t len);
  /* starts writeback of a range (SYNC_FILE_RANGE_WRITE); never a durability
   * point: an fsync still follows */
  int (*writeback)(int fd, off_t off, off_t n);
};

/* The table in use. Never NULL. */
extern const struct sdb_env *sdb__env;
/* The default table: the libc calls themselves. */
const struct sdb_env *sdb__env_default(void);
/* Test-only: install a table (NULL restores the default). Not thread-safe:
 * call it while no database is open. */
void sdb__env_set(const struct sdb_env *env);

/* Helpers built on the table; each returns 0 or -errno. */
int sdb__write_all(int fd, const void *p, size_t n);
/* Reads up to n bytes at off (short only at EOF); returns bytes read or -errno. */
ssize_t sdb__pread_all(int fd, void *p, size_t n, off_t off);
/* Opens dir and fsyncs it: makes creates/renames/unlinks in it durable. */
int sdb__fsync_dir(const char *dir);

/* Opens a file that must already exist for reading: O_NONBLOCK, so that a
 * FIFO (or device) in its place cannot block the open, then fstat: anything
 * but a regular file is refused. Returns the fd, or -errno of the failed open
 * or fstat, or SDB__ENOTREG (with the file type in *kind) when it is not a
 * regular file. O_NONBLOCK has no effect on a regular file's reads. */
#define SDB__ENOTREG (-100000)
int sdb__open_regular(const char *path, int flags, const char **kind);
/* Creates a new file for writing: O_CREAT | O_EXCL | O_NOFOLLOW, so a name
 * that already exists -- a stale file, or a symlink pointing anywhere -- is
 * never opened, truncated or followed. Returns the fd or -errno. */
int sdb__create_new(const char *path, int extra_flags);
/* Error of a failed sdb__open_regular/sdb__create_new (rc), into eb:
 * SDB_ECORRUPT "path: is a FIFO, not a regular file", or the I/O error. */
struct sdb_eb;
int sdb__open_error(struct sdb_eb *eb, const char *path, int rc, const char *kind);

#endif
