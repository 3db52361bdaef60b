/* peers.c - adapters for peer engines (issue 8): filled in as they land. */
#include "targets.h"

const pc_target *const pc_peer_targets[] = {NULL};
