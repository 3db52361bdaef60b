/*
 * fuzz_exec_reply.c - libFuzzer target for the exec target's reply parser
 * (harness/targets/exec_proto.h). A reply that parses must re-encode to the
 * very same line (the grammar has one spelling per reply, up to hex case).
 */
#include "fuzz.h"
#include "exec_proto.h"
#include "fuzz_util.h"
#include "harness_int.h"

#include <strings.h>
#include <stdlib.h>
#include <string.h>

static size_t hex(const uint8_t *p, size_t n, char *out) {
  pc_exec_hex_encode(p, n, out);
  return strlen(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char msg[512] = "";
  pc_exec_reply r;
  memset(&r, 0, sizeof r);
  int rc = pc_exec_parse_reply((const char *)data, size, &r, msg, sizeof msg);
  if (rc) {
    if (!msg[0]) fz_fail("reply rejected (%d) without a message", rc);
    return 0;
  }
  char *line = malloc(2 * (r.klen + r.vlen) + size + 32);
  size_t n = 0;
  switch (r.kind) {
    case PC_EXEC_OK: n = (size_t)sprintf(line, "ok"); break;
    case PC_EXEC_OK_VALUE: n = (size_t)sprintf(line, "ok ") + hex(r.v, r.vlen, line + 3); break;
    case PC_EXEC_NOTFOUND: n = (size_t)sprintf(line, "notfound"); break;
    case PC_EXEC_KV:
      n = (size_t)sprintf(line, "kv ");
      n += hex(r.k, r.klen, line + n);
      line[n++] = ' ';
      n += hex(r.v, r.vlen, line + n);
      break;
    case PC_EXEC_END: n = (size_t)sprintf(line, "end"); break;
    case PC_EXEC_ERR:
      if (!r.text) fz_fail("err reply without text");
      goto done;
    default: fz_fail("unknown reply kind %d", (int)r.kind);
  }
  if (n != size || strncasecmp(line, (const char *)data, n))
    fz_fail("reply '%.*s' re-encodes as '%.*s'", (int)size, (const char *)data, (int)n, line);
done:
  free(line);
  pc_exec_reply_free(&r);
  return 0;
}
