/*
 * html.c - index.html (work in progress).
 */
#include "rpt_int.h"

int rpt_write_html(const rpt_set *s, FILE *f) {
  fputs("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>powercut report</title></head><body></body></html>\n", f);
  return ferror(f) ? RPT_EIO : 0;
}
