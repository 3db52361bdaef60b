/* registry.c - the built-in targets, by name. */
#include "targets.h"

#include <string.h>

static const pc_target *const all[] = {
  &pc_target_sofadb,
  &pc_target_sofadb_nosync,
};

const pc_target *pc_target_find(const char *name) {
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (!strcmp(all[i]->name, name)) return all[i];
  return NULL;
}

static void contract_str(unsigned c, char *buf, size_t len) {
  snprintf(buf, len, "%s%s%s%s%s", c & ORC_DURABLE_ACK ? "durable_ack " : "",
           c & ORC_PROCESS_SAFE ? "process_safe " : "", c & ORC_PREFIX ? "prefix " : "",
           c & ORC_ATOMIC_BATCH ? "atomic_batch " : "", c & ORC_CLOSE_SYNCS ? "close_syncs" : "");
}

void pc_target_list(FILE *f) {
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
    char c[128];
    const pc_target *t = all[i];
    contract_str(t->contract_for ? t->contract_for("") : t->contract, c, sizeof c);
    fprintf(f, "%-14s %s\n  options:  %s\n  contract: %s\n", t->name, t->about, t->options_help, c);
  }
}
