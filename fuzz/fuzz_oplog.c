/*
 * fuzz_oplog.c - libFuzzer target for the op-log reader (workloads/oplog.c,
 * docs/format/oplog.md): wl_oplog_parse on raw bytes. A parsed log is printed
 * (touching every op's bytes) and must be dense (ops[i].op.idx == i).
 */
#include "fuzz.h"
#include "fuzz_util.h"
#include "workloads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wl_log *log = NULL;
  char err[512] = "";
  int rc = wl_oplog_parse(data, size, &log, err, sizeof err);
  if (rc == 0) {
    for (size_t i = 0; i < log->n; i++)
      if (log->ops[i].op.idx != i) fz_fail("op %zu has index %llu", i, (unsigned long long)log->ops[i].op.idx);
    if (log->torn_bytes > size) fz_fail("torn_bytes %zu > input %zu", log->torn_bytes, size);
    wl_log_print(log, fz_devnull());
    wl_log_free(log);
  } else if (!err[0]) {
    fz_fail("op log rejected (%d) without a message", rc);
  }
  return 0;
}
