/*
 * plugin.c - the entry point of a peer-adapter plugin (pc_target_<name>.so).
 *
 * Each peer adapter (leveldb.c, rocksdb.c, ...) is built as its own module
 * with this file and -DPC_PLUGIN_TARGET=pc_target_<name>; the registry
 * dlopens a module only when its target is named, so the powercut process
 * (and every child it forks per case) maps a peer's library only when it is
 * tested, and powercut runs where a peer's library is not installed.
 */
#include "targets.h"

#ifndef PC_PLUGIN_TARGET
#error "build with -DPC_PLUGIN_TARGET=<the adapter's pc_target variable>"
#endif

extern const pc_target PC_PLUGIN_TARGET;

/* read by the loader before the entry point (powercut/target.h) */
__attribute__((visibility("default"))) const int pc_target_plugin_abi = PC_TARGET_ABI;

__attribute__((visibility("default"))) const pc_target *pc_target_plugin(void) {
  return &PC_PLUGIN_TARGET;
}
