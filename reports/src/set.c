/*
 * set.c - a set of cases: building it in memory and loading it from
 * results.jsonl files or shard directories (merged by concatenation, in
 * argument order), with the duplicate-id check and shard metadata.
 *
 * Invariant: ids are unique in a set; the id index maps each to its case.
 */
#include "rpt_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;   /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Slot for id: either holding it or the empty slot where it would go. */
static size_t *index_slot(const rpt_set *s, const char *id) {
  size_t mask = s->idxcap - 1, i = hash_str(id) & mask;
  for (;;) {
    size_t *slot = &s->idx[i];
    if (*slot == 0 || strcmp(s->cases[*slot - 1].id, id) == 0) return slot;
    i = (i + 1) & mask;
  }
}

static int index_grow(rpt_set *s) {
  size_t cap = s->idxcap ? s->idxcap * 2 : 64, i;
  size_t *old = s->idx, oldcap = s->idxcap;
  s->idx = calloc(cap, sizeof *s->idx);
  if (!s->idx) {
    s->idx = old;
    return RPT_ENOMEM;
  }
  s->idxcap = cap;
  for (i = 0; i < oldcap; i++)
    if (old[i]) *index_slot(s, s->cases[old[i] - 1].id) = old[i];
  free(old);
  return 0;
}

int rpt_set_create(rpt_set **out) {
  rpt_set *s = calloc(1, sizeof *s);
  *out = NULL;
  if (!s) return RPT_ENOMEM;
  if (index_grow(s)) {
    free(s);
    return RPT_ENOMEM;
  }
  *out = s;
  return 0;
}

static void meta_free(rpt_meta *m) {
  free(m->shard);
  free(m->argv);
  free(m->source);
  free(m->interrupted);
  for (size_t i = 0; m->sites && i < m->nsites; i++) {
    free(m->sites[i].site);
    free(m->sites[i].workload);
    free(m->sites[i].op);
    free(m->sites[i].name);
  }
  free(m->sites);
  m->sites = NULL;
  m->nsites = 0;
}

void rpt_set_free(rpt_set *s) {
  size_t i;
  if (!s) return;
  for (i = 0; i < s->ncases; i++) rpt_case_free(&s->cases[i]);
  for (i = 0; i < s->nsources; i++) free(s->sources[i]);
  for (i = 0; i < s->nmetas; i++) meta_free(&s->metas[i]);
  free(s->cases);
  free(s->case_src);
  free(s->case_line);
  free(s->sources);
  free(s->metas);
  free(s->idx);
  free(s);
}

/* Takes ownership of *c's strings on success (c is then zeroed). */
static int add_owned(rpt_set *s, rpt_case *c, int src, long line,
                     size_t *dup_of) {
  if ((s->ncases + 1) * 2 > s->idxcap && index_grow(s)) return RPT_ENOMEM;
  size_t *slot = index_slot(s, c->id);
  if (*slot) {
    if (dup_of) *dup_of = *slot - 1;
    return RPT_EDUPLICATE;
  }
  if (s->ncases == s->capcases) {
    size_t cap = s->capcases ? s->capcases * 2 : 256;
    rpt_case *nc = realloc(s->cases, cap * sizeof *nc);
    if (!nc) return RPT_ENOMEM;
    s->cases = nc;
    int *ns = realloc(s->case_src, cap * sizeof *ns);
    if (!ns) return RPT_ENOMEM;
    s->case_src = ns;
    long *nl = realloc(s->case_line, cap * sizeof *nl);
    if (!nl) return RPT_ENOMEM;
    s->case_line = nl;
    s->capcases = cap;
  }
  s->cases[s->ncases] = *c;
  s->case_src[s->ncases] = src;
  s->case_line[s->ncases] = line;
  *slot = ++s->ncases;
  memset(c, 0, sizeof *c);
  return 0;
}

int rpt_set_add(rpt_set *s, const rpt_case *c) {
  int rc = RPT_ENOMEM;
  rpt_case copy;
  if (!s || !c || !c->id || !c->id[0]) return RPT_EINVAL;
  copy = *c;
#define RPT_DUP_(f) copy.f = NULL;
  RPT_DUP_(id) RPT_DUP_(target) RPT_DUP_(workload) RPT_DUP_(model)
  RPT_DUP_(plan) RPT_DUP_(fault_kind) RPT_DUP_(fault_op) RPT_DUP_(fire_path)
  RPT_DUP_(fire_site) RPT_DUP_(verdict) RPT_DUP_(explanation) RPT_DUP_(first_key)
  RPT_DUP_(expected) RPT_DUP_(found) RPT_DUP_(repro) RPT_DUP_(minimized_id)
  RPT_DUP_(kept) RPT_DUP_(reach)
#undef RPT_DUP_
#define RPT_DUP_(f) if (!(copy.f = rpt__strdup(c->f))) goto fail;
  RPT_DUP_(id) RPT_DUP_(target) RPT_DUP_(workload) RPT_DUP_(model)
  RPT_DUP_(plan) RPT_DUP_(fault_kind) RPT_DUP_(fault_op) RPT_DUP_(fire_path)
  RPT_DUP_(fire_site) RPT_DUP_(verdict) RPT_DUP_(explanation) RPT_DUP_(first_key)
  RPT_DUP_(expected) RPT_DUP_(found) RPT_DUP_(repro) RPT_DUP_(minimized_id)
  RPT_DUP_(kept) RPT_DUP_(reach)
#undef RPT_DUP_
  rc = add_owned(s, &copy, -1, 0, NULL);
fail:
  rpt_case_free(&copy);   /* no-op after a successful add (zeroed) */
  return rc;
}

int rpt_set_add_meta(rpt_set *s, const rpt_meta *m) {
  if (!s || !m) return RPT_EINVAL;
  rpt_meta *nm = realloc(s->metas, (s->nmetas + 1) * sizeof *nm);
  if (!nm) return RPT_ENOMEM;
  s->metas = nm;
  rpt_meta *d = &s->metas[s->nmetas];
  *d = *m;
  d->shard = rpt__strdup(m->shard);
  d->argv = rpt__strdup(m->argv);
  d->source = rpt__strdup(m->source);
  d->interrupted = rpt__strdup(m->interrupted);
  d->sites = m->nsites ? calloc(m->nsites, sizeof *d->sites) : NULL;
  d->nsites = d->sites ? m->nsites : 0;
  int bad = !d->shard || !d->argv || !d->source || !d->interrupted || (m->nsites && !d->sites);
  for (size_t i = 0; i < d->nsites; i++) {
    rpt_site *t = &d->sites[i];
    t->recovery = m->sites[i].recovery;
    t->aimed = m->sites[i].aimed;
    bad |= !(t->site = rpt__strdup(m->sites[i].site)) || !(t->workload = rpt__strdup(m->sites[i].workload)) ||
           !(t->op = rpt__strdup(m->sites[i].op)) || !(t->name = rpt__strdup(m->sites[i].name));
  }
  if (bad) {
    meta_free(d);
    return RPT_ENOMEM;
  }
  s->nmetas++;
  return 0;
}

size_t rpt_set_count(const rpt_set *s) { return s ? s->ncases : 0; }
const rpt_case *rpt_set_case(const rpt_set *s, size_t i) {
  return s && i < s->ncases ? &s->cases[i] : NULL;
}
const char *rpt__interrupted(const rpt_set *s) {
  for (size_t i = 0; s && i < s->nmetas; i++)
    if (s->metas[i].interrupted && *s->metas[i].interrupted) return s->metas[i].interrupted;
  return NULL;
}

size_t rpt_set_meta_count(const rpt_set *s) { return s ? s->nmetas : 0; }
const rpt_meta *rpt_set_meta(const rpt_set *s, size_t i) {
  return s && i < s->nmetas ? &s->metas[i] : NULL;
}

int rpt__is_pass(const rpt_case *c) { return strcmp(c->verdict, "PASS") == 0; }
int rpt__is_error(const rpt_case *c) { return strcmp(c->verdict, "ERROR") == 0; }

size_t rpt_set_failures(const rpt_set *s) {
  size_t i, n = 0;
  for (i = 0; s && i < s->ncases; i++) n += !rpt__is_pass(&s->cases[i]);
  return n;
}

static const char *src_name(const rpt_set *s, size_t ci) {
  int src = s->case_src[ci];
  return src >= 0 ? s->sources[src] : "(in memory)";
}

static int load_jsonl(rpt_set *s, const char *path, char *err, size_t errlen) {
  int rc = 0;
  FILE *f = NULL;
  char *line = NULL, *name = NULL;
  size_t cap = 0;
  ssize_t len;
  long lineno = 0;
  rpt_case c;
  char why[256];

  rpt_case_init(&c);
  if (!(name = strdup(path))) return RPT_ENOMEM;
  char **ns = realloc(s->sources, (s->nsources + 1) * sizeof *ns);
  if (!ns) {
    free(name);
    return RPT_ENOMEM;
  }
  s->sources = ns;
  s->sources[s->nsources] = name;
  int src = (int)s->nsources++;

  if (!(f = fopen(path, "r"))) {
    rpt__seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    rc = errno == ENOENT ? RPT_ENOENT : RPT_EIO;
    goto fail;
  }
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (strspn(line, " \t") == (size_t)len) continue;   /* blank line */
    if (strlen(line) != (size_t)len) {
      rpt__seterr(err, errlen, "%s:%ld: malformed line: NUL byte inside", path, lineno);
      rc = RPT_EMALFORMED;
      goto fail;
    }
    if ((rc = rpt_case_from_json(line, &c, why, sizeof why))) {
      if (rc == RPT_EMALFORMED)
        rpt__seterr(err, errlen, "%s:%ld: malformed line: %s", path, lineno, why);
      else
        rpt__seterr(err, errlen, "%s:%ld: %s", path, lineno, rpt_strerror(rc));
      goto fail;
    }
    size_t dup = 0;
    if ((rc = add_owned(s, &c, src, lineno, &dup))) {
      if (rc == RPT_EDUPLICATE)
        rpt__seterr(err, errlen, "duplicate case id '%s' in %s:%ld and %s:%ld",
                    c.id, src_name(s, dup), s->case_line[dup], path, lineno);
      else
        rpt__seterr(err, errlen, "%s:%ld: %s", path, lineno, rpt_strerror(rc));
      goto fail;
    }
  }
  if (ferror(f)) {
    rpt__seterr(err, errlen, "%s: read error: %s", path, strerror(errno));
    rc = RPT_EIO;
    goto fail;
  }
fail:
  rpt_case_free(&c);
  free(line);
  if (f) fclose(f);
  return rc;
}

static char *slurp(const char *path, int *rc) {
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  size_t n = 0, cap = 0;
  if (!f) {
    *rc = errno == ENOENT ? RPT_ENOENT : RPT_EIO;
    return NULL;
  }
  for (;;) {
    if (cap - n < 4096) {
      char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
      if (!nb) {
        *rc = RPT_ENOMEM;
        goto fail;
      }
      buf = nb;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    *rc = RPT_EIO;
    goto fail;
  }
  buf[n] = '\0';
  fclose(f);
  *rc = 0;
  return buf;
fail:
  free(buf);
  fclose(f);
  return NULL;
}

static int meta_num(const cJSON *o, const char *k, double *d) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!v) return 0;
  if (!cJSON_IsNumber(v)) return -1;
  *d = v->valuedouble;
  return 0;
}

static int meta_str(const cJSON *o, const char *k, char **dst) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!v) return 0;
  if (!cJSON_IsString(v)) return -1;
  *dst = v->valuestring;   /* borrowed; copied by rpt_set_add_meta */
  return 0;
}

static int load_meta(rpt_set *s, const char *path, char *err, size_t errlen) {
  int rc;
  cJSON *o = NULL;
  char *text = slurp(path, &rc);
  rpt_meta m = {0};
  double cases = 0, jobs = 0;
  if (!text) {
    if (rc == RPT_ENOENT) return 0;   /* meta.json is optional */
    rpt__seterr(err, errlen, "%s: cannot read: %s", path, rpt_strerror(rc));
    return rc;
  }
  rc = RPT_EMALFORMED;
  if (!(o = cJSON_Parse(text)) || !cJSON_IsObject(o)) {
    rpt__seterr(err, errlen, "%s: malformed meta.json: not a JSON object", path);
    goto fail;
  }
  if (meta_str(o, "shard", &m.shard) || meta_str(o, "argv", &m.argv) ||
      meta_num(o, "elapsed_s", &m.elapsed_s) || meta_num(o, "cases", &cases) ||
      meta_num(o, "states_per_s", &m.states_per_s) || meta_num(o, "jobs", &jobs) ||
      meta_str(o, "interrupted", &m.interrupted)) {
    rpt__seterr(err, errlen, "%s: malformed meta.json: a field has the wrong type", path);
    goto fail;
  }
  {
    /* "sites": [{"site","workload","op","name","recovery"}], the dry runs' crash sites */
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "sites"), *e;
    if (a && !cJSON_IsArray(a)) {
      rpt__seterr(err, errlen, "%s: malformed meta.json: \"sites\" is not an array", path);
      goto fail;
    }
    if (a && cJSON_GetArraySize(a) > 0) {
      if (!(m.sites = calloc((size_t)cJSON_GetArraySize(a), sizeof *m.sites))) { rc = RPT_ENOMEM; goto fail; }
      cJSON_ArrayForEach(e, a) {
        rpt_site *t = &m.sites[m.nsites];
        const cJSON *rec = cJSON_GetObjectItemCaseSensitive(e, "recovery"),
                    *aimed = cJSON_GetObjectItemCaseSensitive(e, "aimed");
        t->site = t->workload = t->op = t->name = "";
        if (!cJSON_IsObject(e) || meta_str(e, "site", &t->site) || meta_str(e, "workload", &t->workload) ||
            meta_str(e, "op", &t->op) || meta_str(e, "name", &t->name) || (rec && !cJSON_IsBool(rec)) ||
            (aimed && !cJSON_IsBool(aimed)) ||
            strlen(t->site) != 16 || strspn(t->site, "0123456789abcdef") != 16) {
          rpt__seterr(err, errlen, "%s: malformed meta.json: sites[%zu] is not {\"site\": 16 hex digits, "
                      "\"workload\", \"op\", \"name\": strings, \"recovery\", \"aimed\": booleans}", path, m.nsites);
          goto fail;
        }
        t->recovery = rec && cJSON_IsTrue(rec);
        t->aimed = !aimed || cJSON_IsTrue(aimed); /* absent: counted as aimed at */
        m.nsites++;
      }
    }
  }
  m.cases = (int64_t)cases;
  m.jobs = (int64_t)jobs;
  m.source = (char *)path;
  if (m.states_per_s == 0 && m.elapsed_s > 0) m.states_per_s = cases / m.elapsed_s;
  rc = rpt_set_add_meta(s, &m);
fail:
  free(m.sites); /* its strings are borrowed from o */
  cJSON_Delete(o);
  free(text);
  return rc;
}

int rpt_load(const char *const *paths, int npaths, rpt_set **out, char *err,
             size_t errlen) {
  int rc, i;
  rpt_set *s = NULL;
  char *buf = NULL;
  *out = NULL;
  if (!paths || npaths <= 0) {
    rpt__seterr(err, errlen, "no results given");
    return RPT_EINVAL;
  }
  if ((rc = rpt_set_create(&s))) goto fail;
  for (i = 0; i < npaths; i++) {
    struct stat st;
    if (stat(paths[i], &st) != 0) {
      rpt__seterr(err, errlen, "%s: %s", paths[i], strerror(errno));
      rc = errno == ENOENT ? RPT_ENOENT : RPT_EIO;
      goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
      size_t n = strlen(paths[i]) + sizeof "/results.jsonl";
      if (!(buf = malloc(n))) {
        rc = RPT_ENOMEM;
        goto fail;
      }
      snprintf(buf, n, "%s/results.jsonl", paths[i]);
      if ((rc = load_jsonl(s, buf, err, errlen))) goto fail;
      snprintf(buf, n, "%s/meta.json", paths[i]);
      if ((rc = load_meta(s, buf, err, errlen))) goto fail;
      free(buf);
      buf = NULL;
    } else if ((rc = load_jsonl(s, paths[i], err, errlen))) {
      goto fail;
    }
  }
  *out = s;
  s = NULL;
fail:
  free(buf);
  rpt_set_free(s);
  return rc;
}
