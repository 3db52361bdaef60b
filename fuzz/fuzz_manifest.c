/*
 * fuzz_manifest.c - libFuzzer target for sofadb's MANIFEST reader
 * (engine/src/manifest.c, docs/format/manifest.md).
 *
 * Input: mode u8 | file bytes. Mode bit 0: recompute every fragment checksum
 * first, so mutations reach the version-edit decoder. The file is replayed as
 * MANIFEST-000000 (expected number 0 = any) with a dump to /dev/null. A
 * successful replay must give a well-formed state: every file's smallest and
 * largest keys are internal keys (>= 8 bytes).
 */
#include "fuzz.h"
#include "fuzz_util.h"
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *dir = fz_dir();
  uint8_t *f = malloc(size);
  memcpy(f, data + 1, size - 1);
  if (data[0] & 1) fz_reseal_log(f, size - 1);
  fz_write(dir, "MANIFEST-000000", f, size - 1);
  free(f);

  char path[4096];
  snprintf(path, sizeof path, "%s/MANIFEST-000000", dir);
  sdb_vstate vs;
  sdb_eb eb = {{0}};
  memset(&vs, 0, sizeof vs);
  int rc = sdb__manifest_read(path, 0, &vs, fz_devnull(), &eb);
  if (rc == 0) {
    for (size_t i = 0; i < vs.nfiles; i++)
      if (vs.files[i].smallest.len < 8 || vs.files[i].largest.len < 8)
        fz_fail("MANIFEST accepted file %llu with a key shorter than an internal key",
                (unsigned long long)vs.files[i].number);
    sdb__vstate_free(&vs);
  } else if (!eb.msg[0]) {
    fz_fail("MANIFEST rejected (%d) without a message", rc);
  }
  return 0;
}
