/*
 * table.h - SSTable builder and reader (docs/format/sstable.md).
 */
#ifndef SDB_TABLE_H
#define SDB_TABLE_H

#include "cache.h"
#include "sdb_int.h"

#include <limits.h>
#include <stdio.h>

typedef struct sdb_tb {
  int fd;
  char path[PATH_MAX];
  uint64_t off;
  sdb_buf fbuf; /* user-space write buffer: fine for a table, fsynced before use */
  size_t block_bytes;
  int interval;
  struct sdb_bb *data, *index;
  sdb_buf lastkey;
  uint64_t entries, nblocks, min_seq, max_seq;
  sdb_buf smallest, largest;
  sdb_buf hashes; /* XXH3-64 of each user key, for the bloom filter */
  int bloom_bits;  /* bits per key (set after sdb__tb_open; 0 = no filter) */
  int compression; /* SDB_COMPRESSION_* for data blocks (set after sdb__tb_open) */
  int zlevel;      /* zlib level */
  sdb_buf zbuf;
  uint64_t raw_bytes, zblocks; /* stats: block bytes before compression, blocks compressed */
} sdb_tb;

int sdb__tb_open(sdb_tb *b, const char *path, size_t block_bytes, int interval, sdb_eb *eb);
/* keys must be added in strictly increasing internal-key order */
int sdb__tb_add(sdb_tb *b, const uint8_t *ik, size_t ikn, const void *v, size_t vn, sdb_eb *eb);
/* Bytes the table would have if finished now (data blocks only, roughly). */
uint64_t sdb__tb_estimate(const sdb_tb *b);
/* Writes the rest, fsyncs and closes the file. */
int sdb__tb_finish(sdb_tb *b, uint64_t *size, sdb_eb *eb);
/* Frees the builder; unlinks the file unless it was finished. */
void sdb__tb_free(sdb_tb *b, int unlink_file);

typedef struct sdb_table {
  int refs;
  int fd;
  uint64_t number, size;
  char path[PATH_MAX];
  uint8_t *index;
  size_t index_len;
  uint8_t *filter; /* bloom filter block contents, or NULL */
  size_t filter_len;
  uint64_t meta_off, meta_len, index_off;
  uint64_t entries, nblocks, min_seq, max_seq; /* from the properties block */
  sdb_buf lo, hi; /* smallest and largest user key, from the MANIFEST (set by db.c) */
  int obsolete;   /* set by db.c once a MANIFEST edit removed it: unlinked at the last unref */
  sdb_cache *cache;     /* block cache, or NULL (set by sdb__table_attach) */
  sdb_fdlru *fdl;       /* table-file cache, or NULL: then fd stays open */
  int pins;             /* reads in progress on fd or map (under fdl->mu) */
  /* with fdl->mmap_reads: a read-only mapping of the whole file (size bytes),
   * made at the first block read and dropped when the table-file cache closes
   * the table or at the last unref; written under fdl->mu, read while pinned */
  const uint8_t *map;
  int map_err;          /* errno of a failed mmap: this table reads with pread */
  /* the index decoded at open (NULL if it did not decode cleanly: then reads
   * walk the index block itself): block i is ix[i], its last key
   * ixkeys[ix[i].koff .. + ix[i].klen) */
  struct sdb_ixent {
    uint64_t off, len;
    size_t koff, klen;
  } *ix;
  size_t nix;
  uint8_t *ixkeys;
  /* verified[i]: 0, or block ix[i]'s type + 1 once it passed its checksum in
   * the current mapping (atomic bytes; cleared when the mapping is dropped) (T2) */
  uint8_t *verified;
  int in_lru;
  struct sdb_table *lprev, *lnext;
} sdb_table;

/* Puts an open table under a block cache and a table-file cache (either may
 * be NULL). From then on its descriptor may be closed and reopened. */
void sdb__table_attach(sdb_table *t, sdb_cache *cache, sdb_fdlru *fdl);

/* Opens a table, checks footer, index and properties. expect_size 0 = any. */
int sdb__table_open(const char *path, uint64_t number, uint64_t expect_size, sdb_table **out, sdb_eb *eb);
void sdb__table_ref(sdb_table *t);
void sdb__table_unref(sdb_table *t);
/* 0 if the table's bloom filter rules the user key out, else 1. */
int sdb__table_may_contain(const sdb_table *t, const void *k, size_t kn);
/* Newest version <= seek key ik: 1 found put (*v malloc'd), 2 found delete,
 * 0 absent, <0 error. */
int sdb__table_get(sdb_table *t, const uint8_t *ik, size_t ikn, void **v, size_t *vn, sdb_eb *eb);
/* The same without the bloom filter check (the caller made it and counted it). */
int sdb__table_get_nofilter(sdb_table *t, const uint8_t *ik, size_t ikn, void **v, size_t *vn, sdb_eb *eb);
sdb_iiter *sdb__table_iter(sdb_table *t);
/* Same, but blocks it reads are not added to the block cache (compaction). */
sdb_iiter *sdb__table_iter_nofill(sdb_table *t);
/* Points it (from sdb__table_iter or _nofill) at table t, unpositioned, with
 * no error: what a new iterator on t would be, without an allocation (a
 * level iterator moving between tables). */
void sdb__table_iter_retarget(sdb_iiter *it, sdb_table *t);
/* Reads every block, verifies checksums and key order; prints the contents
 * to dump if non-NULL. *first and *last get the smallest/largest key if non-NULL. */
int sdb__table_check(sdb_table *t, FILE *dump, sdb_buf *first, sdb_buf *last, sdb_eb *eb);

#endif
