/*
 * fuzz_wal.c - libFuzzer target for sofadb's WAL reader (engine/src/log.c
 * framing + the batch decoder of db.c, docs/format/wal.md).
 *
 * Input: mode u8 | file bytes. Mode bit 0: recompute every fragment checksum
 * first, so mutations reach the batch decoder. The file is written as
 * 000000.log (number 0: the header's file number is not checked) and
 *   - dumped with sdb__dump_file (reader in paranoid mode + batch decoder);
 *   - read record by record with paranoid checks off (skips proven corruption).
 * Must not crash, hang or read out of bounds.
 */
#include "fuzz.h"
#include "fuzz_util.h"
#include "log_format.h"
#include "tools.h"
#include "wal_format.h"

#include <stdlib.h>
#include <string.h>

static int proves(void *arg, const uint8_t *rec, size_t n, uint64_t x) {
  (void)arg;
  return n >= SDB_WAL_REC_HDR && sdb__dec64(rec + 12) > x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *dir = fz_dir();
  uint8_t *f = malloc(size);
  memcpy(f, data + 1, size - 1);
  if (data[0] & 1) fz_reseal_log(f, size - 1);
  fz_write(dir, "000000.log", f, size - 1);
  free(f);

  char path[4096], msg[512];
  snprintf(path, sizeof path, "%s/000000.log", dir);
  sdb__dump_file(path, fz_devnull(), msg, sizeof msg);

  sdb_logr r;
  sdb_eb eb = {{0}};
  const uint8_t *rec;
  size_t n;
  if (sdb__logr_open(&r, path, proves, NULL, 0, &eb) == 0) {
    uint64_t last = 0;
    int rc;
    while ((rc = sdb__logr_next(&r, &rec, &n, &eb)) == 1) {
      if (r.rec_off < last && last) fz_fail("log reader went backwards: record at %llu after %llu",
                                            (unsigned long long)r.rec_off, (unsigned long long)last);
      if (r.valid_end > r.size) fz_fail("valid_end %llu beyond the file size", (unsigned long long)r.valid_end);
      last = r.rec_off;
    }
    sdb__logr_close(&r);
  }
  return 0;
}
