/*
 * env.c - the default I/O table (plain libc calls) and helpers over it.
 *
 * The helpers never retry fsync/fdatasync: a failed sync is reported to the
 * caller, which enters the failed state (see db.c invariant 9).
 */
#define _GNU_SOURCE
#include "env.h"

#include "sdb_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

static int env_open(const char *path, int flags, mode_t mode) { return open(path, flags | O_CLOEXEC, mode); }
static int env_mkdir(const char *path, mode_t mode) { return mkdir(path, mode); }
static int env_writeback(int fd, off_t off, off_t n) { return sync_file_range(fd, off, n, SYNC_FILE_RANGE_WRITE); }

static const struct sdb_env default_env = {
    .open = env_open,
    .close = close,
    .read = read,
    .pread = pread,
    .write = write,
    .pwrite = pwrite,
    .fsync = fsync,
    .fdatasync = fdatasync,
    .ftruncate = ftruncate,
    .fstat = fstat,
    .rename = rename,
    .unlink = unlink,
    .link = link,
    .mkdir = env_mkdir,
    .rmdir = rmdir,
    .flock = flock,
    .opendir = opendir,
    .readdir = readdir,
    .closedir = closedir,
    .mmap = mmap,
    .munmap = munmap,
    .writeback = env_writeback,
};

const struct sdb_env *sdb__env = &default_env;

const struct sdb_env *sdb__env_default(void) { return &default_env; }

void sdb__env_set(const struct sdb_env *env) { sdb__env = env ? env : &default_env; }

int sdb__write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = sdb__env->write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (w == 0) return -EIO;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

ssize_t sdb__pread_all(int fd, void *p, size_t n, off_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = sdb__env->pread(fd, (char *)p + got, n - got, off + (off_t)got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

/* The name of a file type ("FIFO", "directory"...) of st_mode. */
static const char *ftype_name(mode_t mode) {
  return S_ISDIR(mode) ? "directory" : S_ISFIFO(mode) ? "FIFO" : S_ISCHR(mode) ? "character device"
       : S_ISBLK(mode) ? "block device" : S_ISSOCK(mode) ? "socket" : S_ISLNK(mode) ? "symlink" : "special file";
}

int sdb__open_regular(const char *path, int flags, const char **kind) {
  struct stat st;
  int fd = sdb__env->open(path, flags | O_NONBLOCK, 0644), e; /* mode: for LOCK (O_CREAT) */
  if (fd < 0) return -errno;
  if (sdb__env->fstat(fd, &st) < 0) {
    e = errno;
    sdb__env->close(fd);
    return -e;
  }
  if (!S_ISREG(st.st_mode)) {
    sdb__env->close(fd);
    if (kind) *kind = ftype_name(st.st_mode);
    return SDB__ENOTREG;
  }
  return fd;
}

int sdb__create_new(const char *path, int extra_flags) {
  int fd = sdb__env->open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | extra_flags, 0644);
  return fd < 0 ? -errno : fd;
}

int sdb__open_error(sdb_eb *eb, const char *path, int rc, const char *kind) {
  if (rc == SDB__ENOTREG) return sdb__err(eb, SDB_ECORRUPT, "%s: is a %s, not a regular file", path, kind);
  return sdb__ioerr(eb, "open", path, rc);
}

int sdb__fsync_dir(const char *dir) {
  int fd = sdb__env->open(dir, O_RDONLY | O_DIRECTORY, 0);
  int rc = 0;
  if (fd < 0) return -errno;
  if (sdb__env->fsync(fd) < 0) rc = -errno;
  sdb__env->close(fd);
  return rc;
}
