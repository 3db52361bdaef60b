/*
 * rpt_int.h - internals shared by the reports module's source files
 * (rpt__ prefix): the set's layout, the aggregated statistics every report is
 * drawn from, and the text escapers.
 *
 * Invariant: every string of a case held by a set is non-NULL (missing or
 * NULL fields become ""), so generators never test for NULL.
 */
#ifndef POWERCUT_RPT_INT_H
#define POWERCUT_RPT_INT_H

#include "reports.h"

struct rpt_set {
  rpt_case *cases;
  size_t ncases, capcases;
  /* where each case came from: index into sources (or -1) and 1-based line */
  int *case_src;
  long *case_line;
  char **sources;       /* results files loaded, in order */
  size_t nsources;
  rpt_meta *metas;
  size_t nmetas;
  /* id -> case index + 1 (0 = empty), open addressing, capacity power of 2 */
  size_t *idx;
  size_t idxcap;
};

/* The canonical verdict order (reports list known verdicts in this order,
 * unknown ones after them, in order of first appearance). */
extern const char *const rpt__verdicts[];
extern const size_t rpt__nverdicts;

/* A table of counts: rows (a fault kind, a model, ...) x verdict columns. */
typedef struct rpt__table {
  char **rows;          /* borrowed from the cases */
  size_t nrows;
  int64_t *cells;       /* nrows x ncols, row-major */
  int64_t *row_total;
} rpt__table;

typedef struct rpt__count {
  const char *name;     /* borrowed */
  int64_t n;
} rpt__count;

typedef struct rpt__stats {
  size_t ncases, npass, nfail, nfired;
  size_t nerror;           /* ERROR cases (part of nfail): harness errors */
  const char **verdicts;   /* columns: verdicts present, canonical order */
  size_t nverdicts;
  int64_t *verdict_n;      /* per column */
  rpt__table by_fault;     /* fault_kind x verdict */
  rpt__table by_model;     /* model x verdict */
  rpt__count *ops;         /* fault_op counts of fired cases, descending */
  size_t nops;
  rpt__count *paths;       /* fire_path class counts (digit runs as '*') of fired cases, descending */
  size_t npaths;
  char *path_names;        /* owns the class names in paths */
  int64_t *recovery;       /* recovery_us >= 0, sorted ascending */
  size_t nrecovery;
  int64_t rec_p50, rec_p99, rec_max;
  double total_case_s;
  /* crash sites: the union of the shards' dry-run sites, in order of first appearance */
  const rpt_site **sites;      /* borrowed from the metas */
  size_t nsites;
  unsigned char *site_crashed; /* per site: 1 if some case's fault fired there */
  size_t nsites_crashed;
  size_t nsites_elsewhere;     /* distinct fire_site values no dry run saw */
  size_t nsites_unaimed;       /* sites whose call kind no fault kind of the campaign aims at */
  /* from meta: */
  size_t nshards;
  int64_t meta_cases;
  double meta_elapsed_s;       /* sum over shards */
  double states_per_s;         /* meta_cases / meta_elapsed_s (one runner) */
  double aggregate_states_per_s; /* sum of shards' states_per_s */
} rpt__stats;

/* The path class of a data-dir path: every run of digits becomes one '*', so numbered files
 * count together (000012.log -> *.log, MANIFEST-000003 -> MANIFEST-*), as `powercut trace`
 * groups them. Writes at most strlen(p)+1 bytes to out. */
void rpt__path_class(const char *p, char *out);

int rpt__stats_compute(const rpt_set *s, rpt__stats *st);
/* Appends {"site","workload","op","name","recovery"} to a cJSON array; 0 or RPT_ENOMEM. */
struct cJSON;
int rpt__site_json(struct cJSON *arr, const rpt_site *t);
void rpt__stats_free(rpt__stats *st);
int rpt__verdict_col(const rpt__stats *st, const char *verdict);
int rpt__is_pass(const rpt_case *c);
/* The signal that interrupted a shard of the set ("SIGINT"...), NULL if none. */
const char *rpt__interrupted(const rpt_set *s);
int rpt__is_error(const rpt_case *c);   /* ERROR: a harness/setup error */

/* Escapers. Each writes s to f; bytes that are not valid UTF-8, and control
 * characters other than \t (and \n where allowed), are written as the text
 * \xNN so the output stays well-formed whatever the input. */
void rpt__xml_text(FILE *f, const char *s);       /* element content */
void rpt__xml_attr(FILE *f, const char *s);       /* inside "..." */
#define rpt__html_text rpt__xml_text
#define rpt__html_attr rpt__xml_attr

/* The minimal repro command of a case: minimized_id if set, else repro, else
 * built from the id. malloc'd. */
int rpt__min_repro(const rpt_case *c, char **cmd);
/* 1 when c->repro is the minimized id's command with more arguments (a trace state's
 * --record FILE): then it is the minimal repro line. */
int rpt__repro_is_min(const rpt_case *c);

/* How often the minimal case reproduced, for people: "reproduced 5/5", "reproduced
 * 3/5 (flaky)", "reproduced 0/5 (no re-run failed)". Returns 0 (buf "") when the case
 * was not re-run. */
int rpt__rate(const rpt_case *c, char *buf, size_t len);

char *rpt__strdup(const char *s);   /* NULL -> "" */
void rpt__seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* POWERCUT_RPT_INT_H */
