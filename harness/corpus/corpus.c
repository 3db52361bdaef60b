/* corpus.c - the broken-engine corpus (issue 6): filled in as it lands. */
#include "../targets/targets.h"

const pc_target *const pc_corpus_targets[] = {NULL};
