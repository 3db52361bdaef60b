/*
 * memtable.h - the in-memory write buffer: a skiplist of internal keys.
 * One writer at a time (the db mutex); readers (iterators) need no lock.
 */
#ifndef SDB_MEMTABLE_H
#define SDB_MEMTABLE_H

#include "sdb_int.h"

typedef struct sdb_mem sdb_mem;

sdb_mem *sdb__mem_new(void);
void sdb__mem_ref(sdb_mem *m);
void sdb__mem_unref(sdb_mem *m);
/* 0 or SDB_ENOMEM */
int sdb__mem_add(sdb_mem *m, uint64_t seq, int type, const void *k, size_t kn, const void *v, size_t vn);
/* Newest version of k with seq <= snap: SDB_TYPE_PUT (value in *v), SDB_TYPE_DEL,
 * or -1 if the memtable does not know k. */
int sdb__mem_get(sdb_mem *m, const void *k, size_t kn, uint64_t snap, const uint8_t **v, size_t *vn);
size_t sdb__mem_usage(const sdb_mem *m);
size_t sdb__mem_count(const sdb_mem *m);
/* Iterator over every version (internal keys); holds a reference. */
sdb_iiter *sdb__mem_iter(sdb_mem *m);

#endif
