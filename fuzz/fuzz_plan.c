/*
 * fuzz_plan.c - libFuzzer target for the fault-plan parser (faultfs/src/plan.c).
 * Any text must parse or fail with a "plan:POS: ..." message; a plan that
 * parses must satisfy contract (1) of faultfs.h: its canonical text reparses
 * to the same canonical text.
 */
#include "fuzz.h"
#include "faultfs.h"
#include "fuzz_util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1), err[512] = "", a[8192], b[8192];
  memcpy(text, data, size);
  text[size] = 0;
  ffs_plan *p = NULL, *q = NULL;
  int rc = ffs_plan_parse(text, &p, err, sizeof err);
  if (rc == 0) {
    int n = ffs_plan_format(p, a, sizeof a);
    if (n >= 0) {
      if (ffs_plan_parse(a, &q, err, sizeof err)) fz_fail("canonical plan '%s' (from '%s') does not reparse: %s", a, text, err);
      if (ffs_plan_format(q, b, sizeof b) < 0 || strcmp(a, b))
        fz_fail("plan '%s' formats as '%s' then '%s'", text, a, b);
      if (q->nrules != p->nrules) fz_fail("rule count changed on reparse");
      ffs_plan_free(q);
    }
    ffs_plan_free(p);
  } else if (strncmp(err, "plan:", 5)) {
    fz_fail("plan '%s' rejected with message '%s' (expected plan:POS: ...)", text, err);
  }
  free(text);
  return 0;
}
