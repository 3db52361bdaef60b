/*
 * peers.c - targets built into powercut besides sofadb: the exec target
 * (engines in any language, docs/targets.md "exec protocol"). Peer engines
 * (LevelDB, RocksDB, SQLite, LMDB) are plugins loaded by registry.c.
 */
#include "targets.h"

extern const pc_target pc_target_exec;

const pc_target *const pc_peer_targets[] = {
  &pc_target_exec,
  NULL,
};
