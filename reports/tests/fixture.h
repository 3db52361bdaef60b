/*
 * fixture.h - helpers shared by the reports tests: a scratch directory,
 * whole-file read/write, running a checker program, and a synthetic
 * campaign (cases with known verdict counts and nasty strings).
 */
#ifndef RPT_TEST_FIXTURE_H
#define RPT_TEST_FIXTURE_H

#include "reports.h"

/* An id with every character that must be escaped somewhere. */
#define NASTY_ID "pc1/sofadb/mixed:ops=200/7/strict/crash@fsync(*.log)#3;eio@write#2+ & <b>'\"x"
#define NASTY_KEY "k<01>&\"quoted\" ]]> </failure>"

char *fx_tmpdir(void);                         /* mkdtemp; free() the name */
void fx_rmrf(const char *dir);
char *fx_path(const char *dir, const char *name); /* malloc'd dir/name */
void fx_write(const char *path, const char *text);
char *fx_read(const char *path);               /* NULL if missing */
int fx_run(const char *const *argv);           /* exit status, -1 on failure to run */
size_t fx_count(const char *hay, const char *needle);

/* Fills c (borrowed string literals and a static buffer for the id). */
void fx_case(rpt_case *c, const char *id, const char *fault_kind,
             const char *model, const char *verdict, int64_t recovery_us);

/* The synthetic campaign: 10 cases
 *   crash: 4 PASS, 1 LOST_ACKED (NASTY_ID, key NASTY_KEY), 1 NOT_PREFIX
 *   torn:  2 PASS, 1 RECOVERY_HANG
 *   eio:   1 ERROR
 *   models: strict 6 (4 PASS), reorder 4 (2 PASS)
 * recovery_us = 100,200,...,1000 in case order except ERROR: -1. */
rpt_set *fx_campaign(void);
#define FX_CASES 10
#define FX_NONPASS 4

#endif
