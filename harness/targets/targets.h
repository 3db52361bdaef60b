/* targets.h - adapter helpers shared by the files in harness/targets/. Peer
 * plugins see only this and powercut/target.h, never another module's header. */
#ifndef PC_TARGETS_H
#define PC_TARGETS_H
#include "powercut/target.h"

#include <stdint.h>

typedef int (*pc_opt_fn)(void *arg, const char *name, const char *val, char *msg, size_t len);
int pc_opts_each(const char *opts, pc_opt_fn fn, void *arg, char *msg, size_t len);
int pc_opt_u64(const char *name, const char *val, uint64_t *out, char *msg, size_t len);
int pc_opt_bool(const char *name, const char *val, int *out, char *msg, size_t len);
/* A bare number with an optional K/M/G suffix (no option name to blame in a message). */
int pc_opt_u64_pub(const char *val, uint64_t *out);

/* The methods of an adapter whose functions are named t_contract, t_open, t_put, ... (the peers
 * in this folder): one list in one place, so no adapter forgets one or swaps two. */
#define PC_TARGET_METHODS                                                                           \
  .contract_for = t_contract, .check_opts = t_check_opts, .open = t_open, .put = t_put, .del = t_del, \
  .batch = t_batch, .get = t_get, .scan = t_scan, .sync = t_sync, .flush = t_flush, .close = t_close,  \
  .errmsg = t_errmsg
/* A get's value copied from the engine's buffer into one of ours (callers free() it; an empty
 * value is still a non-NULL "found"): 1 (found), or PC_ENOMEM. */
int pc_target_copy_value(const void *src, size_t n, void **v, size_t *vl);

/* powercut bench: the block/page cache of the peers' bench profiles */
#define PC_BENCH_PEER_CACHE "64M"

extern const pc_target pc_target_sofadb;
extern const pc_target pc_target_sofadb_nosync;
extern const pc_target pc_target_sofadb_close_nosync; /* test-only (test_targets.c) */
extern const pc_target pc_target_sofadb_groupbug;
extern const pc_target pc_target_sofadb_snapbug;
extern const pc_target pc_target_sofadb_txnbug;
/* NULL-terminated lists defined in targets/peers.c and corpus/corpus.c */
extern const pc_target *const pc_peer_targets[];
extern const pc_target *const pc_corpus_targets[];
/* NULL-terminated list of those lists of test-only targets: test_targets.c (in
 * libpc_harness.a), or no_test_targets.c (empty, linked into the installed powercut) */
extern const pc_target *const *const pc_test_target_lists[];
#endif
