/*
 * peers.c - the list of peer-engine adapters built into this powercut, and the
 * exec target (engines in any language, docs/targets.md "exec protocol").
 *
 * Invariant: a peer appears here iff its library was found at build time
 * (harness/targets/CMakeLists.txt defines PC_HAVE_<PEER>); the list is
 * NULL-terminated and in a fixed order, so `powercut targets` is stable.
 */
#include "targets.h"

#ifdef PC_HAVE_LEVELDB
extern const pc_target pc_target_leveldb;
#endif
#ifdef PC_HAVE_ROCKSDB
extern const pc_target pc_target_rocksdb;
#endif
#ifdef PC_HAVE_SQLITE
extern const pc_target pc_target_sqlite;
#endif
#ifdef PC_HAVE_LMDB
extern const pc_target pc_target_lmdb;
#endif
extern const pc_target pc_target_exec;

const pc_target *const pc_peer_targets[] = {
#ifdef PC_HAVE_LEVELDB
  &pc_target_leveldb,
#endif
#ifdef PC_HAVE_ROCKSDB
  &pc_target_rocksdb,
#endif
#ifdef PC_HAVE_SQLITE
  &pc_target_sqlite,
#endif
#ifdef PC_HAVE_LMDB
  &pc_target_lmdb,
#endif
  &pc_target_exec,
  NULL,
};
