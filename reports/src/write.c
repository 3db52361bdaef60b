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

static int mkdir_p(const char *dir, char *err, size_t errlen) {
  int rc = 0;
  char *p, *d = strdup(dir);
  if (!d) return RPT_ENOMEM;
  for (p = d + 1; ; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(d, 0777) != 0 && errno != EEXIST) {
        rpt__seterr(err, errlen, "mkdir %s: %s", d, strerror(errno));
        rc = RPT_EIO;
        goto fail;
      }
      *p = c;
      if (c == '\0') break;
    }
  }
fail:
  free(d);
  return rc;
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

/* meta.json of a merged set: totals over the shards, so that reloading the
 * merged dir reports the same throughput. */
static int write_merged_meta(const rpt_set *s, FILE *f) {
  int rc = RPT_ENOMEM;
  size_t i;
  double elapsed = 0, sps = 0;
  int64_t cases = 0, jobs = 0;
  char *text = NULL;
  cJSON *o = cJSON_CreateObject();
  for (i = 0; i < s->nmetas; i++) {
    if (s->metas[i].elapsed_s > elapsed) elapsed = s->metas[i].elapsed_s;
    sps += s->metas[i].states_per_s;
    cases += s->metas[i].cases;
    jobs += s->metas[i].jobs;
  }
  if (!o || !cJSON_AddStringToObject(o, "shard", "merged") ||
      !cJSON_AddNumberToObject(o, "elapsed_s", elapsed) ||
      !cJSON_AddNumberToObject(o, "cases", (double)cases) ||
      !cJSON_AddNumberToObject(o, "states_per_s", sps) ||
      !cJSON_AddNumberToObject(o, "jobs", (double)jobs) ||
      !cJSON_AddStringToObject(o, "argv", "") ||
      !(text = cJSON_Print(o)))
    goto fail;
  fputs(text, f);
  fputc('\n', f);
  rc = ferror(f) ? RPT_EIO : 0;
fail:
  free(text);
  cJSON_Delete(o);
  return rc;
}

int rpt_write_all(const rpt_set *s, const char *out_dir, char *err,
                  size_t errlen) {
  int rc;
  if (!s || !out_dir || !out_dir[0]) {
    rpt__seterr(err, errlen, "no set or no out dir");
    return RPT_EINVAL;
  }
  if ((rc = mkdir_p(out_dir, err, errlen))) return rc;
  if (s->nsources > 1) {
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
