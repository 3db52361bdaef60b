/* rollback.c — placeholder, replaced by the rollback engine. */
#include "ffs_int.h"
int ffs_rollback(const char *s, const char *d, char *e, size_t n) { (void)s; (void)d; (void)e; (void)n; return FFS_EINVAL; }
int ffs_state_clear(const char *s) { (void)s; return FFS_EINVAL; }
