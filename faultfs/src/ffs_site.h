/* ffs_site.h — crash sites of the shim's calls (site.c; docs/faultfs.md "Crash sites"). */
#ifndef FFS_SITE_H
#define FFS_SITE_H

#include <stddef.h>
#include <stdint.h>

#include "ffs_int.h"

#define FFS_SITE_FRAMES 16      /* return addresses hashed into a site */
#define FFS_SITE_NAMED_FRAMES 4 /* of which the top ones are named */

/* Records the configuring stack (the frames every later call shares with it are no part
 * of a site) and resets the set of named sites. */
FFS_HIDDEN void ffs__site_anchor(void);
/* The site of the current call (never 0); its name into name (top frames) when non-NULL. */
FFS_HIDDEN uint64_t ffs__site(char *name, size_t cap);
/* 1 the first time site is seen since the anchor (its trace record carries the name). */
FFS_HIDDEN int ffs__site_first(uint64_t site);

#endif
