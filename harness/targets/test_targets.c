/*
 * test_targets.c - the test-only in-process targets: sofadb-nosync, sofadb-close-nosync, sofadb-groupbug,
 * sofadb-snapbug, sofadb-txnbug and the
 * broken-engine corpus (docs/corpus.md). Only build/bin/powercut and the test
 * programs know them. The installed powercut links no_test_targets.c, whose
 * empty pc_test_target_lists keeps the linker from taking this file, and with
 * it the corpus, out of libpc_harness.a: so define nothing else here.
 */
#include "targets.h"

static const pc_target *const nosync[] = {&pc_target_sofadb_nosync, &pc_target_sofadb_close_nosync, &pc_target_sofadb_groupbug,
                                         &pc_target_sofadb_snapbug, &pc_target_sofadb_txnbug, NULL};

const pc_target *const *const pc_test_target_lists[] = {nosync, pc_corpus_targets, NULL};
