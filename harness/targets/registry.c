/*
 * registry.c - the targets, by name: built in (sofadb, exec), peer plugins,
 * and the test-only ones (sofadb-nosync, the broken-engine corpus), which the
 * installed powercut does not have (test_targets.c).
 *
 * A peer plugin is pc_target_<name>.so in <libdir>/powercut/ of the prefix the
 * executable is in, or in build/lib/powercut/ (or in $POWERCUT_PLUGIN_DIR). It
 * is dlopened the first time its name is asked for and stays loaded; children
 * forked afterwards inherit it.
 */
#define _GNU_SOURCE
#include "../harness_int.h"
#include "targets.h"

#include <cjson/cJSON.h>

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the public contract bits are the oracle's */
_Static_assert(PC_CONTRACT_DURABLE_ACK == ORC_DURABLE_ACK && PC_CONTRACT_PROCESS_SAFE == ORC_PROCESS_SAFE &&
                   PC_CONTRACT_PREFIX == ORC_PREFIX && PC_CONTRACT_ATOMIC_BATCH == ORC_ATOMIC_BATCH &&
                   PC_CONTRACT_CLOSE_SYNCS == ORC_CLOSE_SYNCS,
               "PC_CONTRACT_* and ORC_* differ");

static const pc_target *const builtin[] = {
  &pc_target_sofadb,
  NULL,
};

static const pc_target *const *const lists[] = {builtin, pc_peer_targets};
#define NLISTS (sizeof lists / sizeof *lists)

/* the i-th list of in-process targets (NULL after the last): lists[], then the test-only ones */
static const pc_target *const *list_at(size_t i) {
  return i < NLISTS ? lists[i] : pc_test_target_lists[i - NLISTS];
}

#define MAX_PLUGINS 16
static const pc_target *plugins[MAX_PLUGINS];
static size_t nplugins;

/* $POWERCUT_PLUGIN_DIR, else <libdir>/powercut beside the executable: the first of
 * ffs_exe_libdirs() (installed prefix, build tree) where it exists */
static const char *plugin_dir(void) {
  static char dir[FFS_PATH_MAX + 16];
  char libdirs[FFS_LIBDIRS_MAX][FFS_PATH_MAX];
  struct stat st;
  int n;
  const char *env = getenv("POWERCUT_PLUGIN_DIR");
  if (env && *env) return env;
  if (dir[0]) return dir;
  if (!(n = ffs_exe_libdirs(libdirs))) return NULL;
  for (int i = 0; i < n; i++) {
    snprintf(dir, sizeof dir, "%s/powercut", libdirs[i]);
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return dir;
  }
  snprintf(dir, sizeof dir, "%s/powercut", libdirs[0]); /* none yet: name the installed one */
  return dir;
}

/* name must be [a-z0-9_-]: it becomes part of a file name */
static int plain_name(const char *name) {
  if (!*name || strlen(name) > 64) return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) return 0;
  return 1;
}

static const pc_target *load_plugin(const char *name) {
  char path[PATH_MAX + 128];
  const char *dir = plugin_dir();
  void *h;
  pc_target_plugin_fn entry;
  const int *abi;
  const pc_target *t;
  for (size_t i = 0; i < nplugins; i++)
    if (!strcmp(plugins[i]->name, name)) return plugins[i];
  if (!dir || !plain_name(name) || nplugins == MAX_PLUGINS) return NULL;
  snprintf(path, sizeof path, "%s/pc_target_%s.so", dir, name);
  if (access(path, R_OK)) return NULL;
  if (!(h = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
    fprintf(stderr, "powercut: cannot load target plugin %s: %s\n", path, dlerror());
    return NULL;
  }
  /* the version first: a plugin of another ABI may lay pc_target out otherwise */
  abi = (const int *)dlsym(h, PC_TARGET_PLUGIN_ABI);
  if (!abi || *abi != PC_TARGET_ABI) {
    if (abi)
      fprintf(stderr, "powercut: target plugin %s was built for target ABI %d; this powercut has ABI %d: rebuild it\n",
              path, *abi, PC_TARGET_ABI);
    else
      fprintf(stderr, "powercut: target plugin %s has no target ABI version (symbol %s: built before ABI 2); "
                      "this powercut has ABI %d: rebuild it\n", path, PC_TARGET_PLUGIN_ABI, PC_TARGET_ABI);
    dlclose(h);
    return NULL;
  }
  *(void **)&entry = dlsym(h, PC_TARGET_PLUGIN_ENTRY);
  if (!entry || !(t = entry()) || t->abi != PC_TARGET_ABI || strcmp(t->name, name)) {
    fprintf(stderr, "powercut: %s is not a plugin for target '%s'\n", path, name);
    dlclose(h);
    return NULL;
  }
  if (!t->open || !t->put || !t->del || !t->batch || !t->get || !t->scan || !t->sync || !t->flush ||
      !t->close || !t->errmsg) {
    fprintf(stderr, "powercut: target plugin %s lacks a required operation (open, put, del, batch, get, scan, "
                    "sync, flush, close and errmsg are required: docs/targets.md)\n", path);
    dlclose(h);
    return NULL;
  }
  plugins[nplugins++] = t;
  return t;
}

const pc_target *pc_target_find(const char *name) {
  for (size_t l = 0; list_at(l); l++)
    for (const pc_target *const *t = list_at(l); *t; t++)
      if (!strcmp((*t)->name, name)) return *t;
  return load_plugin(name);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t pc_target_all(const pc_target **out, size_t max) {
  size_t n = 0;
  const char *dir = plugin_dir();
  DIR *d;
  struct dirent *e;
  char *names[MAX_PLUGINS];
  size_t nn = 0;
  for (size_t l = 0; list_at(l); l++)
    for (const pc_target *const *t = list_at(l); *t; t++)
      if (n < max) out[n++] = *t;
  if (dir && (d = opendir(dir))) {
    while ((e = readdir(d)) && nn < MAX_PLUGINS) {
      size_t len = strlen(e->d_name);
      if (len > 13 && !strncmp(e->d_name, "pc_target_", 10) && !strcmp(e->d_name + len - 3, ".so"))
        names[nn++] = strndup(e->d_name + 10, len - 13);
    }
    closedir(d);
  }
  qsort(names, nn, sizeof *names, cmp_str); /* a stable order for `powercut targets` */
  for (size_t i = 0; i < nn; i++) {
    const pc_target *t = names[i] ? load_plugin(names[i]) : NULL;
    if (t && n < max) out[n++] = t;
    free(names[i]);
  }
  return n;
}

/* The contract flags by name, in the order `targets` prints them. */
static const struct { unsigned bit; const char *name; } contract_names[] = {
    {PC_CONTRACT_DURABLE_ACK, "durable_ack"}, {PC_CONTRACT_PROCESS_SAFE, "process_safe"},
    {PC_CONTRACT_PREFIX, "prefix"}, {PC_CONTRACT_ATOMIC_BATCH, "atomic_batch"},
    {PC_CONTRACT_CLOSE_SYNCS, "close_syncs"}};

static void contract_str(unsigned c, char *buf, size_t len) {
  if (!c) {
    snprintf(buf, len, "none (declare one with the target's options)");
    return;
  }
  size_t o = 0;
  buf[0] = 0;
  for (size_t i = 0; i < sizeof contract_names / sizeof contract_names[0] && o < len; i++)
    if (c & contract_names[i].bit) o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " " : "", contract_names[i].name);
}

void pc_target_list(FILE *f, int json) {
  const pc_target *all[64];
  size_t n = pc_target_all(all, 64);
  if (json) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
      const pc_target *t = all[i];
      unsigned c = t->contract_for ? t->contract_for("") : t->contract;
      cJSON *o = cJSON_CreateObject(), *ca;
      cJSON_AddStringToObject(o, "name", t->name);
      cJSON_AddStringToObject(o, "about", t->about);
      cJSON_AddStringToObject(o, "options", t->options_help);
      ca = cJSON_AddArrayToObject(o, "contract");
      for (size_t k = 0; k < sizeof contract_names / sizeof *contract_names; k++)
        if (c & contract_names[k].bit) cJSON_AddItemToArray(ca, cJSON_CreateString(contract_names[k].name));
      ca = cJSON_AddArrayToObject(o, "modes");
      for (const char *const *m = t->modes; m && *m; m++) cJSON_AddItemToArray(ca, cJSON_CreateString(*m));
      cJSON_AddItemToArray(a, o);
    }
    char *text = cJSON_PrintUnformatted(a);
    if (text) fprintf(f, "%s\n", text);
    free(text);
    cJSON_Delete(a);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    char c[128];
    const pc_target *t = all[i];
    contract_str(t->contract_for ? t->contract_for("") : t->contract, c, sizeof c);
    fprintf(f, "%-16s %s\n  options:  %s\n  contract: %s\n", t->name, t->about ? t->about : "",
            t->options_help ? t->options_help : "(none)", c);
    if (t->modes && t->modes[0]) { /* what the default campaign spreads over (docs/powercut.md) */
      fprintf(f, "  modes:   ");
      for (const char *const *m = t->modes; *m; m++) fprintf(f, " %s:%s", t->name, *m);
      fprintf(f, " (a campaign without --workload runs each workload under these too)\n");
    }
  }
  fprintf(f, "(peer plugins are loaded from %s)\n", plugin_dir() ? plugin_dir() : "?");
}
