/*
 * fuzz_caseid.c - libFuzzer target for the case-id parser (harness/caseid.c).
 * A parsed id must format back to a string that parses to the same case
 * (format/parse round trip), and every field must be NUL-terminated.
 */
#include "fuzz.h"
#include "fuzz_util.h"
#include "harness_int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *id = malloc(size + 1), err[512] = "", a[4096], b[4096];
  memcpy(id, data, size);
  id[size] = 0;
  pc_case c, d;
  memset(&c, 0, sizeof c);
  if (pc_case_parse(id, &c, err, sizeof err) == 0) {
    if (!memchr(c.target, 0, sizeof c.target) || !memchr(c.target_opts, 0, sizeof c.target_opts) ||
        !memchr(c.workload, 0, sizeof c.workload) || !memchr(c.model, 0, sizeof c.model) ||
        !memchr(c.plan, 0, sizeof c.plan))
      fz_fail("case id '%s': a field is not NUL-terminated", id);
    if (pc_case_format(&c, a, sizeof a) >= 0) {
      memset(&d, 0, sizeof d);
      if (pc_case_parse(a, &d, err, sizeof err)) fz_fail("formatted id '%s' (from '%s') does not parse: %s", a, id, err);
      if (pc_case_format(&d, b, sizeof b) < 0 || strcmp(a, b)) fz_fail("id '%s' formats as '%s' then '%s'", id, a, b);
    }
  } else if (!err[0]) {
    fz_fail("case id rejected without a message");
  }
  free(id);
  return 0;
}
