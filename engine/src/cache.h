/*
 * cache.h - the block cache (sharded LRU of uncompressed blocks with a byte
 * budget) and the table-file cache (a bound on open table descriptors).
 */
#ifndef SDB_CACHE_H
#define SDB_CACHE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sdb_cache sdb_cache;
typedef struct sdb_centry {
  const uint8_t *data; /* the block contents (read-only while held) */
  size_t len;
} sdb_centry;

/* bytes 0: a cache that keeps nothing (every get misses). */
sdb_cache *sdb__cache_new(size_t bytes);
void sdb__cache_free(sdb_cache *c);
/* The block (file, off), held until released; NULL on a miss. */
sdb_centry *sdb__cache_get(sdb_cache *c, uint64_t file, uint64_t off);
/* Inserts data (malloc'd; the cache takes it) and returns it held. NULL only
 * if out of memory (then data was freed). */
sdb_centry *sdb__cache_put(sdb_cache *c, uint64_t file, uint64_t off, uint8_t *data, size_t len);
void sdb__cache_release(sdb_cache *c, sdb_centry *e);
/* Drops every unheld block of a file (a deleted table). */
void sdb__cache_forget(sdb_cache *c, uint64_t file);
void sdb__cache_stats(sdb_cache *c, uint64_t *hits, uint64_t *misses, uint64_t *evictions, size_t *usage,
                      size_t *entries);

/* ---- table-file cache ---------------------------------------------------------- */
/* Tables register here; at most `max` of them keep a descriptor open, or with
 * mmap_reads a read-only mapping of the whole file instead (the descriptor is
 * closed once the file is mapped). A table whose descriptor or mapping was
 * closed reopens it on the next read. A table in use by a read (pinned) is
 * never closed, so `open` can exceed `max` by the tables pinned at once. */
typedef struct sdb_fdlru {
  pthread_mutex_t mu;
  int max, open;
  int mmap_reads;                /* set before the first table attaches */
  struct sdb_table *head, *tail; /* most recently used first */
  uint64_t reopens, closes;
  uint64_t maps, map_failures;   /* mmap calls made, and failed (those tables read with pread) */
  int map_errno;                 /* errno of the last failed mmap */
} sdb_fdlru;

void sdb__fdlru_init(sdb_fdlru *l, int max);
void sdb__fdlru_destroy(sdb_fdlru *l);

#endif
