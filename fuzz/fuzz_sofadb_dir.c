/*
 * fuzz_sofadb_dir.c - libFuzzer target: sofadb opening a hostile directory.
 *
 * Input: mode u8 | dir archive (fuzz_util.h: name_len u8 | name | data_len
 * u32 LE | data, repeated). Mode bit 0: recompute the checksums of every
 * *.log, MANIFEST-* and *.sst first. The files are written into an empty dir,
 * then:
 *   1. sdb_check (before anything touches the dir);
 *   2. sdb_open (create_if_missing 0, deterministic) + a full scan;
 *   3. close, sdb_check again, reopen, scan again.
 * Invariants (abort = finding):
 *   - if the first check passes, the open and the scan succeed (recovery does
 *     not reject what the checker accepts);
 *   - if the first check passed, the recovered dir passes sdb_check too
 *     (recovery does not damage a sound database);
 *   - after a successful open + scan, a reopen gives the very same scan
 *     (nothing lost or invented by recovery).
 * Every block a scan returns passed its checksum (table.c read_block), so a
 * scan that succeeds never returns data that fails its checksum. A dir that
 * the first check rejects may still open: sofadb (like LevelDB) does not read
 * every block at open, and a checksum-valid table with damaged contents (e.g.
 * a bloom filter that misses a key) is only seen by sdb_check.
 */
#include "fuzz.h"
#include "fuzz_util.h"
#include "sofadb.h"

#include <stdlib.h>
#include <string.h>

/* Scan everything: 0 and a digest (FNV-1a of k/v lengths and bytes), or the error. */
static int scan(sdb *db, uint64_t *digest, size_t *count, char *err, size_t errlen) {
  sdb_iter *it;
  uint64_t h = 1469598103934665603ull;
  int rc = sdb_iter_create(db, NULL, 0, NULL, 0, &it);
  *count = 0;
  if (rc) {
    snprintf(err, errlen, "iter_create: %s: %s", sdb_strerror(rc), sdb_errmsg(db));
    return rc;
  }
  for (; sdb_iter_valid(it) && *count < 1000000; sdb_iter_next(it), (*count)++) {
    size_t kn, vn;
    const uint8_t *k = sdb_iter_key(it, &kn), *v = sdb_iter_value(it, &vn);
    uint64_t lens[2] = {kn, vn};
    const uint8_t *parts[3] = {(const uint8_t *)lens, k, v};
    size_t plen[3] = {sizeof lens, kn, vn};
    for (int j = 0; j < 3; j++)
      for (size_t i = 0; i < plen[j]; i++) h = (h ^ parts[j][i]) * 1099511628211ull;
  }
  rc = sdb_iter_status(it);
  if (rc) snprintf(err, errlen, "scan: %s", sdb_strerror(rc));
  sdb_iter_free(it);
  *digest = h;
  return rc;
}

static int open_db(const char *dir, sdb **db) {
  sdb_options o;
  sdb_options_init(&o);
  o.create_if_missing = 0;
  o.deterministic = 1;
  o.memtable_bytes = 4096; /* small: replay may flush */
  *db = NULL;
  return sdb_open(dir, &o, db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *dir = fz_dir();
  fz_unpack(dir, data + 1, size - 1, data[0] & 1);

  char msg[1024], err[1024];
  int chk = sdb_check(dir, msg, sizeof msg);
  sdb *db;
  int rc = open_db(dir, &db);
  if (rc) {
    if (chk == 0) fz_fail("sdb_check accepted the dir (%s) but sdb_open failed: %s: %s", msg, sdb_strerror(rc),
                          sdb_errmsg(db));
    if (db) sdb_close(db);
    return 0;
  }
  uint64_t d1 = 0, d2 = 0;
  size_t n1 = 0, n2 = 0;
  rc = scan(db, &d1, &n1, err, sizeof err);
  sdb_close(db);
  if (rc) {
    if (chk == 0) fz_fail("sdb_check accepted the dir (%s) but the scan failed: %s", msg, err);
    return 0;
  }
  if (chk == 0 && (chk = sdb_check(dir, msg, sizeof msg)))
    fz_fail("the dir passed sdb_check before recovery, not after: %s", msg);
  if ((rc = open_db(dir, &db))) fz_fail("reopen after a successful recovery failed: %s", sdb_errmsg(db));
  if ((rc = scan(db, &d2, &n2, err, sizeof err))) fz_fail("scan after reopen failed: %s", err);
  sdb_close(db);
  if (n1 != n2 || d1 != d2) fz_fail("reopen changed the contents: %zu entries before, %zu after", n1, n2);
  return 0;
}
