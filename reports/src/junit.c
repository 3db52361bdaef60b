/*
 * junit.c - junit.xml for CI systems (Jenkins, GitLab, GitHub test
 * reporters): a <testsuites> root, one <testsuite> per fault kind, one
 * <testcase> per case (classname = target.workload, name = case id).
 *
 * A non-PASS verdict is a <failure> (the engine broke its contract), except
 * ERROR, which is an <error> (the harness could not run the case). So
 * failures + errors == non-PASS cases, in every suite and at the root.
 * Structure checked by reports/tests/junit.xsd.
 */
#include "rpt_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void case_body(FILE *f, const rpt_case *c, const char *min_repro) {
  fputs("repro: ", f);
  rpt__xml_text(f, min_repro);
  fputc('\n', f);
  if (c->minimized_id[0]) {
    char *own = NULL;
    fputs("original: ", f);
    if (rpt__repro_is_min(c) && rpt_repro_command(c->id, &own) == 0) rpt__xml_text(f, own);
    else rpt__xml_text(f, c->repro[0] ? c->repro : c->id);
    free(own);
    fputc('\n', f);
  }
  if (c->first_key[0] || c->expected[0] || c->found[0]) {
    fputs("key:      ", f);
    rpt__xml_text(f, c->first_key);
    fputs("\nexpected: ", f);
    rpt__xml_text(f, c->expected);
    fputs("\nfound:    ", f);
    rpt__xml_text(f, c->found);
    fputc('\n', f);
  }
  fprintf(f, "fault: %s", c->fired ? "fired" : "did not fire");
  if (c->fired) {
    fprintf(f, " at syscall #%" PRId64 " (", c->fire_index);
    rpt__xml_text(f, c->fault_op);
    fputc(' ', f);
    rpt__xml_text(f, c->fire_path);
    fputc(')', f);
  }
  fprintf(f, "\nops: %" PRId64 " issued, %" PRId64 " acked, %" PRId64
             " unsynced lost\n", c->ops_issued, c->ops_acked, c->ops_lost);
  if (c->kept[0]) {
    fputs("kept: ", f);
    rpt__xml_text(f, c->kept);
    fputc('\n', f);
  }
}

int rpt_write_junit(const rpt_set *s, FILE *f) {
  int rc;
  rpt__stats st;
  size_t r, i;
  char *repro = NULL;
  if ((rc = rpt__stats_compute(s, &st))) return rc;

  size_t nerr = st.nerror;
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
  fprintf(f, "<testsuites name=\"powercut\" tests=\"%zu\" failures=\"%zu\""
             " errors=\"%zu\" time=\"%.6f\">\n",
          st.ncases, st.nfail - nerr, nerr, st.total_case_s);
  for (r = 0; r < st.by_fault.nrows; r++) {
    const char *kind = st.by_fault.rows[r];
    size_t tests = 0, fails = 0, errs = 0;
    double time_s = 0;
    for (i = 0; i < s->ncases; i++) {
      const rpt_case *c = &s->cases[i];
      if (strcmp(c->fault_kind, kind) != 0) continue;
      tests++;
      errs += rpt__is_error(c);
      fails += !rpt__is_pass(c) && !rpt__is_error(c);
      time_s += (double)c->case_us / 1e6;
    }
    fputs("  <testsuite name=\"", f);
    rpt__xml_attr(f, kind[0] ? kind : "(none)");
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\""
               " time=\"%.6f\">\n", tests, fails, errs, time_s);
    for (i = 0; i < s->ncases; i++) {
      const rpt_case *c = &s->cases[i];
      if (strcmp(c->fault_kind, kind) != 0) continue;
      fputs("    <testcase classname=\"", f);
      rpt__xml_attr(f, c->target);
      fputc('.', f);
      rpt__xml_attr(f, c->workload);
      fputs("\" name=\"", f);
      rpt__xml_attr(f, c->id);
      fprintf(f, "\" time=\"%.6f\"", (double)c->case_us / 1e6);
      if (rpt__is_pass(c)) {
        fputs("/>\n", f);
        continue;
      }
      const char *tag = rpt__is_error(c) ? "error" : "failure";
      free(repro);
      repro = NULL;
      if ((rc = rpt__min_repro(c, &repro))) goto fail;
      fprintf(f, ">\n      <%s message=\"", tag);
      rpt__xml_attr(f, c->verdict);
      fputs(": ", f);
      rpt__xml_attr(f, c->explanation);
      fputs("\" type=\"", f);
      rpt__xml_attr(f, c->verdict);
      fputs("\">", f);
      case_body(f, c, repro);
      fprintf(f, "</%s>\n    </testcase>\n", tag);
    }
    fputs("  </testsuite>\n", f);
  }
  fputs("</testsuites>\n", f);
  rc = ferror(f) ? RPT_EIO : 0;
fail:
  free(repro);
  rpt__stats_free(&st);
  return rc;
}
