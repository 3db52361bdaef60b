/*
 * fuzz_sstable.c - libFuzzer target for sofadb's SSTable reader: footer,
 * index, properties and data blocks (engine/src/table.c,
 * docs/format/sstable.md).
 *
 * Input: mode u8 | file bytes. Mode bit 0: recompute the checksums of the
 * footer and of every block it reaches, so mutations reach the block decoder.
 * Mode bit 1: read the table through a table-file cache with mmap_reads and a
 * block cache (blocks come from a mapping, verified once each); else pread.
 * The file is opened as 000000.sst, fully checked (with a dump), iterated, and
 * its first key looked up. Invariant: a table that sdb__table_check accepts
 * iterates without error, and in strictly increasing key order.
 */
#include "fuzz.h"
#include "fuzz_util.h"
#include "table.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *dir = fz_dir();
  uint8_t *f = malloc(size);
  memcpy(f, data + 1, size - 1);
  if (data[0] & 1) fz_reseal_sst(f, size - 1);
  fz_write(dir, "000000.sst", f, size - 1);
  free(f);

  char path[4096];
  snprintf(path, sizeof path, "%s/000000.sst", dir);
  sdb_table *t;
  sdb_eb eb = {{0}};
  if (sdb__table_open(path, 0, 0, &t, &eb)) return 0;
  sdb_fdlru fdl;
  sdb_cache *cache = NULL;
  if (data[0] & 2) {
    sdb__fdlru_init(&fdl, 16);
    fdl.mmap_reads = 1;
    cache = sdb__cache_new(64 * 1024);
    sdb__table_attach(t, cache, &fdl);
  }
  sdb_buf first = {0}, last = {0}, prev = {0};
  int checked = sdb__table_check(t, fz_devnull(), &first, &last, &eb);

  sdb_iiter *it = sdb__table_iter(t);
  size_t count = 0;
  if (it) {
    for (it->ops->seek_first(it); it->ops->valid(it) && count < 1000000; it->ops->next(it), count++) {
      size_t kn, vn;
      const uint8_t *k = it->ops->key(it, &kn);
      (void)it->ops->value(it, &vn);
      if (checked == 0) {
        if (kn < 8) fz_fail("checked table yields a %zu-byte internal key", kn);
        if (prev.len && sdb__icmp(prev.p, prev.len, k, kn) >= 0) fz_fail("checked table iterates out of order");
        sdb__buf_set(&prev, k, kn);
      }
    }
    int st = it->ops->status(it);
    if (checked == 0 && st) fz_fail("table passed sdb__table_check but iteration failed: %s", it->ops->errmsg(it));
    it->ops->free(it);
  }
  if (checked == 0 && first.len >= 8) {
    void *v = NULL;
    size_t vn = 0;
    int g = sdb__table_get(t, first.p, first.len, &v, &vn, &eb);
    if (g < 0) fz_fail("checked table: get of its first key failed: %s", eb.msg);
    free(v);
  }
  sdb__buf_free(&first);
  sdb__buf_free(&last);
  sdb__buf_free(&prev);
  sdb__table_unref(t);
  if (data[0] & 2) {
    sdb__fdlru_destroy(&fdl);
    sdb__cache_free(cache);
  }
  return 0;
}
