/*
 * fixture.c - test helpers (see fixture.h).
 */
#define _GNU_SOURCE
#include "fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *fx_tmpdir(void) {
  char *d = strdup("/tmp/rpt-test-XXXXXX");
  if (!d || !mkdtemp(d)) abort();
  return d;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb; (void)flag; (void)ftw;
  return remove(p);
}

void fx_rmrf(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

char *fx_path(const char *dir, const char *name) {
  char *p;
  if (asprintf(&p, "%s/%s", dir, name) < 0) abort();
  return p;
}

void fx_write(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) abort();
  fputs(text, f);
  fclose(f);
}

char *fx_read(const char *path) {
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  size_t n = 0;
  if (!f) return NULL;
  FILE *m = open_memstream(&buf, &n);
  char chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, m);
  fclose(f);
  fclose(m);
  return buf;
}

int fx_run(const char *const *argv) {
  pid_t pid = fork();
  int st;
  if (pid < 0) return -1;
  if (pid == 0) {
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

size_t fx_count(const char *hay, const char *needle) {
  size_t n = 0, len = strlen(needle);
  for (const char *p = hay; (p = strstr(p, needle)); p += len) n++;
  return n;
}

void fx_case(rpt_case *c, const char *id, const char *fault_kind,
             const char *model, const char *verdict, int64_t recovery_us) {
  rpt_case_init(c);
  c->id = (char *)id;
  c->target = "sofadb";
  c->workload = "mixed:ops=200";
  c->model = (char *)model;
  c->plan = "crash@fsync(*.log)#3";
  c->seed = 7;
  c->fault_kind = (char *)fault_kind;
  c->fault_op = strcmp(fault_kind, "torn") == 0 ? "write" : "fsync";
  c->fired = 1;
  c->fire_index = 42;
  c->fire_path = strcmp(fault_kind, "torn") == 0 ? "000003.sst" : "000001.log";
  c->verdict = (char *)verdict;
  c->explanation = strcmp(verdict, "PASS") == 0
                       ? "state = prefix 0..187; 13 unsynced ops lost, allowed"
                       : "acked put of key lost after power cut";
  c->ops_issued = 200;
  c->ops_acked = 190;
  c->ops_lost = 3;
  c->recovery_us = recovery_us;
  c->case_us = 1500;
  c->repro = "";
  c->minimized_id = "";
  c->kept = strcmp(verdict, "PASS") == 0 ? "" : "kept/case-1.tar.gz";
}

rpt_set *fx_campaign(void) {
  static const struct { const char *kind, *model, *verdict; } spec[FX_CASES] = {
      {"crash", "strict", "PASS"},       {"crash", "strict", "PASS"},
      {"crash", "reorder", "PASS"},      {"crash", "strict", "PASS"},
      {"crash", "strict", "LOST_ACKED"}, {"crash", "reorder", "NOT_PREFIX"},
      {"torn", "strict", "PASS"},        {"torn", "reorder", "PASS"},
      {"torn", "reorder", "RECOVERY_HANG"}, {"eio", "strict", "ERROR"}};
  rpt_set *s;
  char id[256];
  if (rpt_set_create(&s)) abort();
  for (int i = 0; i < FX_CASES; i++) {
    rpt_case c;
    snprintf(id, sizeof id, "pc1/sofadb/mixed:ops=200/%d/%s/%s@fsync#%d", i,
             spec[i].model, spec[i].kind, i + 1);
    fx_case(&c, i == 4 ? NASTY_ID : id, spec[i].kind, spec[i].model,
            spec[i].verdict, strcmp(spec[i].verdict, "ERROR") ? 100 * (i + 1) : -1);
    if (i == 4) {
      c.first_key = NASTY_KEY;
      c.expected = "v<7> | v8";
      c.found = "(absent)";
      c.minimized_id = "pc1/sofadb/mixed:ops=12/7/strict/crash@fsync(*.log)#1";
    }
    if (rpt_set_add(s, &c)) abort();
  }
  rpt_meta m = {.shard = "1/1", .elapsed_s = 0.01, .cases = FX_CASES,
                .states_per_s = 1000, .jobs = 2, .argv = "powercut campaign --cases 10"};
  if (rpt_set_add_meta(s, &m)) abort();
  return s;
}
