/* registry.c - the built-in targets, by name: sofadb, the peers that were
 * built (targets/peers.c) and the test-only broken-engine corpus. */
#include "targets.h"

#include <string.h>

static const pc_target *const builtin[] = {
  &pc_target_sofadb,
  &pc_target_sofadb_nosync,
  NULL,
};

static const pc_target *const *const lists[] = {builtin, pc_peer_targets, pc_corpus_targets};

const pc_target *pc_target_find(const char *name) {
  for (size_t l = 0; l < sizeof lists / sizeof *lists; l++)
    for (const pc_target *const *t = lists[l]; *t; t++)
      if (!strcmp((*t)->name, name)) return *t;
  /* exec:CMD and other prefixed targets match on their prefix */
  for (size_t l = 0; l < sizeof lists / sizeof *lists; l++)
    for (const pc_target *const *t = lists[l]; *t; t++) {
      size_t n = strlen((*t)->name);
      if (n && (*t)->name[n - 1] == ':' && !strncmp((*t)->name, name, n)) return *t;
    }
  return NULL;
}

static void contract_str(unsigned c, char *buf, size_t len) {
  if (!c) {
    snprintf(buf, len, "none (declare one with the target's options)");
    return;
  }
  snprintf(buf, len, "%s%s%s%s%s", c & ORC_DURABLE_ACK ? "durable_ack " : "",
           c & ORC_PROCESS_SAFE ? "process_safe " : "", c & ORC_PREFIX ? "prefix " : "",
           c & ORC_ATOMIC_BATCH ? "atomic_batch " : "", c & ORC_CLOSE_SYNCS ? "close_syncs" : "");
}

void pc_target_list(FILE *f) {
  for (size_t l = 0; l < sizeof lists / sizeof *lists; l++)
    for (const pc_target *const *tp = lists[l]; *tp; tp++) {
      char c[128];
      const pc_target *t = *tp;
      contract_str(t->contract_for ? t->contract_for("") : t->contract, c, sizeof c);
      fprintf(f, "%-16s %s\n  options:  %s\n  contract: %s\n", t->name, t->about, t->options_help, c);
    }
}
