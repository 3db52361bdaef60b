/*
 * write.c - rpt_write_all: every report file into an out dir. Each file is
 * written to a temp name, flushed, fsynced and renamed into place, so a
 * reader (a CI step, a browser) never sees a half-written report.
 */
#include "rpt_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*rpt__gen)(const rpt_set *, FILE *);

int rpt_mkdir_p(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n >= sizeof buf) return -ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0755) && errno != EEXIST) return -errno;
    *p = '/';
  }
  if (mkdir(buf, 0755) && errno != EEXIST) return -errno;
  return 0;
}

static int mkdir_p(const char *dir, char *err, size_t errlen) {
  int rc = rpt_mkdir_p(dir);
  if (!rc) return 0;
  rpt__seterr(err, errlen, "mkdir %s: %s", dir, strerror(-rc));
  return RPT_EIO;
}

static int write_file(const rpt_set *s, const char *dir, const char *name,
                      rpt__gen gen, char *err, size_t errlen) {
  int rc = RPT_ENOMEM;
  FILE *f = NULL;
  size_t n = strlen(dir) + strlen(name) + 16;
  char *path = malloc(n), *tmp = malloc(n);
  if (!path || !tmp) goto fail;
  snprintf(path, n, "%s/%s", dir, name);
  snprintf(tmp, n, "%s/.%s.tmp", dir, name);
  if (!(f = fopen(tmp, "w"))) {
    rpt__seterr(err, errlen, "open %s: %s", tmp, strerror(errno));
    rc = RPT_EIO;
    goto fail;
  }
  if ((rc = gen(s, f))) {
    rpt__seterr(err, errlen, "write %s: %s", tmp, rpt_strerror(rc));
    goto fail;
  }
  if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
    rpt__seterr(err, errlen, "write %s: %s", tmp, strerror(errno));
    rc = RPT_EIO;
    goto fail;
  }
  FILE *done = f;
  f = NULL;
  if (fclose(done) != 0) {
    rpt__seterr(err, errlen, "close %s: %s", tmp, strerror(errno));
    rc = RPT_EIO;
    goto fail;
  }
  if (rename(tmp, path) != 0) {
    rpt__seterr(err, errlen, "rename %s -> %s: %s", tmp, path, strerror(errno));
    rc = RPT_EIO;
    goto fail;
  }
  rc = 0;
fail:
  if (f) fclose(f);
  if (rc && tmp) unlink(tmp);
  free(path);
  free(tmp);
  return rc;
}

/* meta.json of the out dir: one shard's meta as it was, or for several the
 * totals over the shards, so that reloading the out dir reports the same
 * throughput. */
static int write_merged_meta(const rpt_set *s, FILE *f) {
  int rc = RPT_ENOMEM;
  size_t i;
  double elapsed = 0, sps = 0;
  int64_t cases = 0, jobs = 0;
  char *text = NULL;
  cJSON *o = cJSON_CreateObject();
  const char *shard = s->nmetas == 1 ? s->metas[0].shard : "merged";
  const char *argv = s->nmetas == 1 ? s->metas[0].argv : "";
  const char *intr = "";
  for (i = 0; i < s->nmetas; i++) {
    if (s->metas[i].interrupted && *s->metas[i].interrupted) intr = s->metas[i].interrupted;
    if (s->metas[i].elapsed_s > elapsed) elapsed = s->metas[i].elapsed_s;
    sps += s->metas[i].states_per_s;
    cases += s->metas[i].cases;
    jobs += s->metas[i].jobs;
  }
  if (!o || !cJSON_AddStringToObject(o, "shard", shard) ||
      !cJSON_AddNumberToObject(o, "elapsed_s", elapsed) ||
      !cJSON_AddNumberToObject(o, "cases", (double)cases) ||
      !cJSON_AddNumberToObject(o, "states_per_s", sps) ||
      !cJSON_AddNumberToObject(o, "jobs", (double)jobs) ||
      !cJSON_AddStringToObject(o, "argv", argv) ||
      (*intr && !cJSON_AddStringToObject(o, "interrupted", intr)))
    goto fail;
  {
    /* the union of the shards' dry-run crash sites */
    rpt__stats st;
    cJSON *a = cJSON_AddArrayToObject(o, "sites");
    if (!a || rpt__stats_compute(s, &st)) goto fail;
    for (i = 0; i < st.nsites; i++)
      if (rpt__site_json(a, st.sites[i])) {
        rpt__stats_free(&st);
        goto fail;
      }
    rpt__stats_free(&st);
  }
  if (!(text = cJSON_Print(o))) goto fail;
  fputs(text, f);
  fputc('\n', f);
  rc = ferror(f) ? RPT_EIO : 0;
fail:
  free(text);
  cJSON_Delete(o);
  return rc;
}

/* The relative path from directory `from` to directory `to` (both
 * resolved with realpath), "" when they are the same; NULL on error. */
static char *rel_dir(const char *from, const char *to) {
  char *a = realpath(from, NULL), *b = realpath(to, NULL), *out = NULL;
  size_t i, common = 0, ups = 0, n;
  if (!a || !b) goto fail;
  for (i = 0; a[i] && a[i] == b[i]; i++)
    if (a[i] == '/') common = i;
  if ((a[i] == '\0' || a[i] == '/') && (b[i] == '\0' || b[i] == '/')) common = i;
  for (i = common; a[i] && a[1]; i++) ups += a[i] == '/';   /* a == "/": 0 */
  const char *rest = b + common + (b[common] == '/');
  n = ups * 3 + strlen(rest) + 2;
  if (!(out = malloc(n))) goto fail;
  out[0] = '\0';
  for (i = 0; i < ups; i++) strcat(out, "../");
  strcat(out, rest);
  if (out[0] && rest[0] == '\0') out[strlen(out) - 1] = '\0';   /* trailing / */
fail:
  free(a);
  free(b);
  return out;
}

static int is_relative_path(const char *p) {
  const char *colon = strchr(p, ':'), *slash = strchr(p, '/');
  return p[0] && p[0] != '/' && !(colon && (!slash || colon < slash));
}

/* A view of s whose kept paths are relative to out_dir instead of to the
 * dir each case was loaded from, so links in a merged report still resolve.
 * The view shares everything with s except the cases array and the kept
 * strings it had to rewrite (listed in *owned). */
static int rebase_kept(const rpt_set *s, const char *out_dir, rpt_set *view,
                       char ***owned, size_t *nowned, int *out_is_source) {
  size_t i, src;
  char **rel = NULL;
  int rc = RPT_ENOMEM;
  *view = *s;
  *owned = NULL;
  *nowned = 0;
  if (!(view->cases = malloc((s->ncases + 1) * sizeof *view->cases))) return rc;
  if (s->ncases) memcpy(view->cases, s->cases, s->ncases * sizeof *view->cases); /* none: cases is NULL */
  if (!(rel = calloc(s->nsources + 1, sizeof *rel))) goto fail;
  for (src = 0; src < s->nsources; src++) {
    char *dir = strdup(s->sources[src]), *slash;
    if (!dir) goto fail;
    slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = '\0';
    else if (slash) *slash = '\0';
    else strcpy(dir, ".");
    rel[src] = rel_dir(out_dir, dir);   /* NULL: leave its paths alone */
    free(dir);
  }
  *out_is_source = s->nsources == 1 && rel[0] && rel[0][0] == '\0';
  if (!(*owned = calloc(s->ncases + 1, sizeof **owned))) goto fail;
  for (i = 0; i < s->ncases; i++) {
    rpt_case *c = &view->cases[i];
    int k = s->case_src[i];
    if (k < 0 || !rel[k] || !rel[k][0] || !is_relative_path(c->kept)) continue;
    size_t n = strlen(rel[k]) + strlen(c->kept) + 2;
    char *p = malloc(n);
    if (!p) goto fail;
    snprintf(p, n, "%s/%s", rel[k], c->kept);
    c->kept = (*owned)[(*nowned)++] = p;
  }
  rc = 0;
fail:
  for (src = 0; rel && src < s->nsources; src++) free(rel[src]);
  free(rel);
  return rc;
}

static int write_everything(const rpt_set *s, const char *out_dir,
                            int out_is_source, char *err, size_t errlen) {
  int rc;
  if (!out_is_source) {
    if ((rc = write_file(s, out_dir, "results.jsonl", rpt_write_jsonl, err, errlen)))
      return rc;
    if (s->nmetas > 0 &&
        (rc = write_file(s, out_dir, "meta.json", write_merged_meta, err, errlen)))
      return rc;
  }
  if ((rc = write_file(s, out_dir, "summary.json", rpt_write_summary_json, err, errlen)) ||
      (rc = write_file(s, out_dir, "junit.xml", rpt_write_junit, err, errlen)) ||
      (rc = write_file(s, out_dir, "index.html", rpt_write_html, err, errlen)))
    return rc;
  return 0;
}

int rpt_write_all(const rpt_set *s, const char *out_dir, char *err,
                  size_t errlen) {
  int rc;
  rpt_set view;
  char **owned = NULL;
  size_t nowned = 0, i;
  if (!s || !out_dir || !out_dir[0]) {
    rpt__seterr(err, errlen, "no set or no out dir");
    return RPT_EINVAL;
  }
  if ((rc = mkdir_p(out_dir, err, errlen))) return rc;
  int out_is_source = 0;
  if ((rc = rebase_kept(s, out_dir, &view, &owned, &nowned, &out_is_source))) {
    rpt__seterr(err, errlen, "rebasing kept paths: %s", rpt_strerror(rc));
    goto fail;
  }
  rc = write_everything(&view, out_dir, out_is_source, err, errlen);
fail:
  for (i = 0; i < nowned; i++) free(owned[i]);
  free(owned);
  if (view.cases != s->cases) free(view.cases);
  return rc;
}
