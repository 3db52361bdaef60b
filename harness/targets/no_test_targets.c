/*
 * no_test_targets.c - the installed powercut's (empty) list of test-only
 * targets, in place of test_targets.c (see there).
 */
#include "targets.h"

const pc_target *const *const pc_test_target_lists[] = {NULL};
