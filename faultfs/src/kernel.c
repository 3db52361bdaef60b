/* kernel.c — the power cut of a real file system: its shutdown ioctl without a log flush.
 * Shared by the shim (a crash rule fires) and the harness (the end of a workload, a
 * timeout). Invariant: nothing is written before the shutdown, so what the next mount
 * finds is exactly what the file system had committed at that moment. */
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "faultfs.h"

/* EXT4_IOC_SHUTDOWN, XFS_IOC_GOINGDOWN and the generic FS_IOC_SHUTDOWN are one number. */
#define FFS_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#define FFS_SHUTDOWN_NOLOGFLUSH 2u /* EXT4_GOING_FLAGS_NOLOGFLUSH, XFS_FSOP_GOING_FLAGS_NOLOGFLUSH */

int ffs_fs_shutdown(int fd) {
  uint32_t flags = FFS_SHUTDOWN_NOLOGFLUSH;
  return ioctl(fd, FFS_IOC_SHUTDOWN, &flags) < 0 ? -errno : 0;
}
