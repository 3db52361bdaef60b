/*
 * fuzz_record - libFuzzer target for the faultfs record reader and the replay
 * (faultfs/src/record.c, faultfs/src/materialize.c, docs/format/record.md): every
 * record read from a hostile file is formatted and replayed into a scratch work dir,
 * and a crash state is built at the end; nothing may be written outside the scratch
 * dir (the reader refuses paths that leave the data dir).
 */
#include "faultfs.h"
#include "fuzz.h"
#include "fuzz_util.h"

#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *dir = fz_dir();
  char path[4096], work[4096], wst[4096], out[4096], ost[4096], line[2 * FFS_PATH_MAX + 256], err[1024];
  ffs_record *r = NULL;
  ffs_replay *rp = NULL;
  fz_clear(dir);
  fz_write(dir, "rec", data, size);
  snprintf(path, sizeof path, "%s/rec", dir);
  snprintf(work, sizeof work, "%s/work", dir);
  snprintf(wst, sizeof wst, "%s/wst", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  snprintf(ost, sizeof ost, "%s/ost", dir);
  if (ffs_record_load(path, &r, err, sizeof err) < 0) return 0;
  if (mkdir(work, 0755) == 0 && ffs_replay_open(work, wst, FFS_MODEL_EXT4, &rp, err, sizeof err) == 0) {
    for (size_t i = 0; i < ffs_record_count(r) && i < 2000; i++) {
      const ffs_rec *e = ffs_record_at(r, i);
      ffs_rec_format(e, line, sizeof line);
      if (e->datalen > (1u << 20)) continue; /* bounded work per input */
      if (ffs_replay_apply(rp, e, err, sizeof err) < 0) break;
    }
    ffs_replay_state(rp, FFS_CUT_CRASH, NULL, 0, FFS_SUBSET_SEEDED, 1, out, ost, err, sizeof err);
    ffs_replay_close(rp);
  }
  ffs_record_free(r);
  return 0;
}
