/*
 * fuzz_trace.c - libFuzzer target for the faultfs trace reader
 * (faultfs/src/trace_read.c, docs/format/trace.md): every record read from a
 * hostile file is formatted; paths must stay NUL-terminated.
 */
#include "fuzz.h"
#include "faultfs.h"
#include "fuzz_util.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *dir = fz_dir();
  char path[4096], line[2 * FFS_PATH_MAX + 256];
  static ffs_trace_rec rec;
  fz_write(dir, "trace", data, size);
  snprintf(path, sizeof path, "%s/trace", dir);
  ffs_trace *t;
  if (ffs_trace_open(path, &t) < 0) return 0;
  int rc;
  for (int i = 0; i < 100000 && (rc = ffs_trace_next(t, &rec)) == 1; i++) {
    if (!memchr(rec.path, 0, sizeof rec.path) || !memchr(rec.path2, 0, sizeof rec.path2))
      fz_fail("trace record %d: path not NUL-terminated", i);
    ffs_trace_format(&rec, line, sizeof line);
  }
  ffs_trace_close(t);
  return 0;
}
