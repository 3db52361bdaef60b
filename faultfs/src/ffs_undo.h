/* ffs_undo.h — the undo-log writer shared by both interception backends: the preload shim
 * (shim.c, in the program's process) and the seccomp supervisor (seccomp_sup.c, in its
 * own process, on fds it took from the target with pidfd_getfd). It keeps the per-inode
 * durability state (durable size, open epoch, saved ranges) and appends the records of
 * docs/format/undo.md to STATE/undo, which rollback.c reads.
 * Invariants:
 *  (1) every ffs__undo_* "before" function has logged what the rollback needs before it
 *      returns, and the caller lets the change happen only after it returned;
 *  (2) only the first save of a byte per epoch is logged (the rollback applies saves
 *      newest first), so repeated overwrites cost nothing extra;
 *  (3) all I/O goes through the io table: the shim passes libc's real functions (its own
 *      wrappers must not see it), the supervisor passes libc's. */
#ifndef FFS_UNDO_H
#define FFS_UNDO_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "ffs_int.h"

typedef struct ffs_unode {
  uint64_t dev, ino;
  char *rel;      /* path relative to the data dir when last seen */
  int isdir;
  int epoch;      /* DIRTY logged since the last SYNC */
  int created;    /* created in this session, creation not yet durable (ext4 DENTRY) */
  uint64_t D, P;  /* durable size; protected size (OLD bytes are saved below it) */
  ivset saved;    /* ranges whose pre-epoch bytes are already in the log (reset at KEEP/LOST) */
  int rfd;        /* read-only fd of the inode for saving old bytes (the program's may be O_WRONLY), -1 */
} ffs_unode;

typedef struct ffs_undo_io {
  ssize_t (*pread)(int, void *, size_t, off_t);
  int (*openat)(int, const char *, int, ...);
  int (*close)(int);
  int (*link)(const char *, const char *);
  ssize_t (*read)(int, void *, size_t);
  ssize_t (*write)(int, const void *, size_t);
  int (*ftruncate)(int, off_t);
  int (*park_fd)(int); /* moves a new fd of the writer out of the program's way, or NULL */
} ffs_undo_io;

typedef struct ffs_undo {
  ffs_undo_io io;
  const char *dir, *state;  /* real paths, owned by the caller */
  size_t dirlen;
  ffs_model model;
  int log_fd;
  unsigned char *log;       /* shared mapping of STATE/undo */
  size_t log_cap;
  uint64_t victims;
  ffs_unode *nodes;
  size_t nnodes, nodes_cap;
  char **fresh;             /* names created whose inode is not known yet (seccomp) */
  size_t nfresh;
} ffs_undo;

/* Creates STATE/undo (the caller claimed and cleared the state dir) with its header. */
FFS_HIDDEN int ffs__undo_open(ffs_undo *u, uint64_t seed, char *err, size_t errlen);
/* Frees the node table and the fresh names, unmaps and closes the log; u->io, dir,
 * state stay. */
FFS_HIDDEN void ffs__undo_reset(ffs_undo *u);
FFS_HIDDEN ffs_undo_hdr *ffs__undo_hdr(const ffs_undo *u);

/* Node of the inode st named rel (rel refreshed when it changed). created < 0: created
 * if rel is a fresh name (ffs__undo_open_path logged its creation). -1 when out of memory. */
FFS_HIDDEN int32_t ffs__undo_node(ffs_undo *u, const struct stat *st, const char *rel, int created);
/* The node of inode (dev, ino), -1 if it has none. */
FFS_HIDDEN int32_t ffs__undo_node_ino(const ffs_undo *u, uint64_t dev, uint64_t ino);
/* A regular file not seen yet with more than one link: never tracked nor rolled back. */
FFS_HIDDEN int ffs__undo_foreign(const ffs_undo *u, const struct stat *st);

/* ---- before a change (each returns the FFS_DUR_* bits it set) ------------------------- */
/* A write of len bytes at woff through fd on node nid; cur = the file's size when the
 * caller knows it (O_APPEND), else UINT64_MAX. */
FFS_HIDDEN uint32_t ffs__undo_write(ffs_undo *u, int fd, int32_t nid, uint64_t woff, uint64_t len, uint64_t cur);
FFS_HIDDEN uint32_t ffs__undo_trunc(ffs_undo *u, int fd, int32_t nid, uint64_t newlen);
FFS_HIDDEN uint32_t ffs__undo_falloc(ffs_undo *u, int fd, int32_t nid, uint64_t off, uint64_t len);
/* truncate(path); *foreign set (nothing logged) for a file with foreign links. */
FFS_HIDDEN uint32_t ffs__undo_ptrunc(ffs_undo *u, const char *rel, uint64_t newlen, int *foreign);
/* open(rel, flags): a create, or an O_TRUNC of existing bytes. *creating: the open will
 * create the file; *foreign: the file has foreign links (nothing logged). remember: keep
 * a created name as fresh for ffs__undo_node(created < 0). */
FFS_HIDDEN uint32_t ffs__undo_open_path(ffs_undo *u, const char *rel, int flags, int remember, int *creating,
                                        int *foreign);
FFS_HIDDEN uint32_t ffs__undo_unlink(ffs_undo *u, const char *rel);
FFS_HIDDEN uint32_t ffs__undo_rmdir(ffs_undo *u, const char *rel);
FFS_HIDDEN uint32_t ffs__undo_mkdir(ffs_undo *u, const char *rel);
/* rel or rel2 "" when that side is outside the data dir. */
FFS_HIDDEN uint32_t ffs__undo_rename(ffs_undo *u, const char *rel, const char *rel2);
FFS_HIDDEN uint32_t ffs__undo_link(ffs_undo *u, const char *rel, const char *rel2);
/* An fsync of nid failed (fsyncgate): the epoch's data is lost at the next crash. */
FFS_HIDDEN uint32_t ffs__undo_lost(ffs_undo *u, int32_t nid);

/* ---- after a change ------------------------------------------------------------------- */
/* n bytes at off were made durable (O_SYNC / RWF_DSYNC write, torn prefix). */
FFS_HIDDEN uint32_t ffs__undo_kept(ffs_undo *u, int32_t nid, uint64_t off, uint64_t n);
/* A successful fsync/fdatasync of nid through fd. */
FFS_HIDDEN uint32_t ffs__undo_synced(ffs_undo *u, int fd, int32_t nid);
/* A successful sync()/syncfs(): everything is durable. */
FFS_HIDDEN uint32_t ffs__undo_synced_all(ffs_undo *u);
/* A successful rename of rel to rel2 (rel2 "" when moved out). */
FFS_HIDDEN void ffs__undo_renamed(ffs_undo *u, const char *rel, const char *rel2);

#endif
