/*
 * realfs.c - cases on a real file system: an image file made by mkfs once, a
 * fresh copy of it per case on a loop device, mounted with a long commit
 * interval; the power cut is the file system's shutdown ioctl without a log
 * flush (faultfs ffs_fs_shutdown), then unmount and mount again: what the
 * mount finds is what that file system kept. This is how xfstests builds its
 * crash states (godown), without dm-flakey.
 *
 * Invariants:
 *   (1) mkfs only ever runs on an image file this module created in its own
 *       scratch dir, never on a device or on a path the user gave.
 *   (2) Every mount this process made is unmounted, and its loop device
 *       detached, when the case ends, on every error path, and at exit
 *       (atexit; the per-case children never run it: they leave by _exit).
 *   (3) Each case starts from a byte-identical copy of the pristine image,
 *       so a case id gives the same state every time it runs.
 *   (4) No timer commits behind the workload: ext4 and btrfs mount with
 *       commit=600; XFS's log worker first runs 30 s after the mount, and
 *       every case mounts afresh (a case longer than that is not exact).
 */
#define _GNU_SOURCE
#include "harness_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define IMAGE_BYTES (128ull << 20)

typedef struct fs_kind {
  const char *name;
  const char *mkfs;       /* program */
  const char *mkfs_args;  /* before the image path, space separated */
  const char *options;    /* mount data */
  int probe;              /* the kernel may lack its shutdown ioctl: try one before any case */
} fs_kind;

/* XFS: the xfstests variables let mkfs.xfs make a file system below its 300 MB floor with
 * a small log, so the per-case copy is 6 MB instead of 70 MB (the 64 MB log is data). */
static const fs_kind kinds[] = {
    {"ext4", "mkfs.ext4", "-q -F -E lazy_itable_init=0,lazy_journal_init=0", "commit=600", 0},
    {"xfs", "mkfs.xfs", "-q -f", "", 0},
    {"btrfs", "mkfs.btrfs", "-q -f", "commit=600", 1},
};

static const fs_kind *kind_find(const char *name) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(kinds[i].name, name)) return &kinds[i];
  return NULL;
}

/* Mounts of this process, for the exit handler (invariant 2). */
#define MAX_LIVE 4
static pc_realfs *live[MAX_LIVE];
static pid_t live_pid;

static void forget(pc_realfs *fs) {
  for (int i = 0; i < MAX_LIVE; i++)
    if (live[i] == fs) live[i] = NULL;
}

static void at_exit(void) {
  if (getpid() != live_pid) return;
  for (int i = 0; i < MAX_LIVE; i++)
    if (live[i]) pc_realfs_case_end(live[i]);
}

static int remember(pc_realfs *fs) {
  static int registered;
  if (!registered) {
    atexit(at_exit);
    registered = 1;
  }
  if (live_pid != getpid()) { /* a forked campaign worker: the parent's entries are not ours */
    memset(live, 0, sizeof live);
    live_pid = getpid();
  }
  for (int i = 0; i < MAX_LIVE; i++)
    if (!live[i] || live[i] == fs) {
      live[i] = fs;
      return 0;
    }
  return -1;
}

int pc_realfs_check(const char *fstype, char *err, size_t errlen) {
  const fs_kind *k = kind_find(fstype);
  if (!k) {
    snprintf(err, errlen, "--fs: unknown file system '%s' (ext4, xfs, btrfs)", fstype);
    return PC_EINVAL;
  }
  if (geteuid() != 0) {
    snprintf(err, errlen, "--fs %s needs root (it makes a loop device and mounts an image); running as uid %d",
             fstype, (int)geteuid());
    return PC_ESETUP;
  }
  if (access("/dev/loop-control", R_OK | W_OK)) {
    snprintf(err, errlen, "--fs %s needs loop devices: /dev/loop-control: %s", fstype, strerror(errno));
    return PC_ESETUP;
  }
  return 0;
}

static int run_mkfs(const fs_kind *k, const char *image, char *err, size_t errlen) {
  char args[256], *argv[16], *save = NULL, log[1200];
  int argc = 0, status = 0, logfd;
  pid_t pid;
  posix_spawn_file_actions_t fa;
  snprintf(args, sizeof args, "%s", k->mkfs_args);
  argv[argc++] = (char *)k->mkfs;
  for (char *t = strtok_r(args, " ", &save); t && argc < 14; t = strtok_r(NULL, " ", &save)) argv[argc++] = t;
  argv[argc++] = (char *)image;
  argv[argc] = NULL;
  snprintf(log, sizeof log, "%s.mkfs-log", image);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  if (!strcmp(k->name, "xfs")) {
    setenv("TEST_DIR", "1", 1);
    setenv("TEST_DEV", "1", 1);
    setenv("QA_CHECK_FS", "1", 1);
  }
  int rc = posix_spawnp(&pid, k->mkfs, &fa, NULL, argv, environ);
  if (!strcmp(k->name, "xfs")) {
    unsetenv("TEST_DIR");
    unsetenv("TEST_DEV");
    unsetenv("QA_CHECK_FS");
  }
  posix_spawn_file_actions_destroy(&fa);
  if (rc) {
    snprintf(err, errlen, "cannot run %s: %s (install it: scripts/deps.sh)", k->mkfs, strerror(rc));
    return PC_ESETUP;
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(status) || WEXITSTATUS(status)) {
    char msg[512] = "";
    if ((logfd = open(log, O_RDONLY | O_CLOEXEC)) >= 0) {
      ssize_t n = read(logfd, msg, sizeof msg - 1);
      msg[n > 0 ? n : 0] = '\0';
      close(logfd);
      msg[strcspn(msg, "\n")] = '\0';
    }
    snprintf(err, errlen, "%s %s failed (status %d): %s", k->mkfs, image, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
             msg);
    unlink(log);
    return PC_ESETUP;
  }
  unlink(log);
  return 0;
}

int pc_realfs_init(pc_realfs *fs, const char *root, const char *fstype, char *err, size_t errlen) {
  const fs_kind *k;
  int rc, fd;
  memset(fs, 0, sizeof *fs);
  fs->loopfd = fs->rootfd = -1;
  if ((rc = pc_realfs_check(fstype, err, errlen))) return rc;
  k = kind_find(fstype);
  snprintf(fs->fstype, sizeof fs->fstype, "%s", fstype);
  snprintf(fs->pristine, sizeof fs->pristine, "%s/%s.pristine.img", root, fstype);
  snprintf(fs->image, sizeof fs->image, "%s/%s.case.img", root, fstype);
  snprintf(fs->mnt, sizeof fs->mnt, "%s/mnt", root);
  if ((rc = rpt_mkdir_p(root)) || (rc = rpt_mkdir_p(fs->mnt))) {
    snprintf(err, errlen, "mkdir %s: %s", fs->mnt, strerror(-rc));
    return PC_ESETUP;
  }
  /* invariant (1): a new file of our own, never an existing one */
  unlink(fs->pristine);
  if ((fd = open(fs->pristine, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
      ftruncate(fd, (off_t)IMAGE_BYTES) < 0) {
    snprintf(err, errlen, "cannot create the image %s: %s", fs->pristine, strerror(errno));
    if (fd >= 0) close(fd);
    return PC_ESETUP;
  }
  close(fd);
  int64_t t0 = pc_now_us();
  if ((rc = run_mkfs(k, fs->pristine, err, errlen))) {
    unlink(fs->pristine);
    return rc;
  }
  fs->mkfs_us = pc_now_us() - t0;
  fs->ready = 1;
  return 0;
}

/* Copies the pristine image into the case image, data extents only (the images are sparse). */
static int copy_image(const char *from, const char *to) {
  int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
  struct stat st;
  off_t pos = 0;
  if (in < 0 || fstat(in, &st) < 0) { rc = -errno; goto out; }
  unlink(to);
  if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 || ftruncate(out, st.st_size) < 0) {
    rc = -errno;
    goto out;
  }
  for (;;) {
    off_t d = lseek(in, pos, SEEK_DATA), h;
    if (d < 0) {
      if (errno != ENXIO) rc = -errno;
      break;
    }
    if ((h = lseek(in, d, SEEK_HOLE)) < 0) { rc = -errno; break; }
    off_t io = d, oo = d;
    while (io < h) {
      ssize_t n = copy_file_range(in, &io, out, &oo, (size_t)(h - io), 0);
      if (n <= 0) {
        rc = n < 0 ? -errno : -EIO;
        goto out;
      }
    }
    pos = h;
  }
out:
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  return rc;
}

static int loop_attach(pc_realfs *fs, char *err, size_t errlen) {
  int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC), img = -1, rc = PC_ESETUP;
  if (ctl < 0) {
    snprintf(err, errlen, "/dev/loop-control: %s", strerror(errno));
    return PC_ESETUP;
  }
  if ((img = open(fs->image, O_RDWR | O_CLOEXEC)) < 0) {
    snprintf(err, errlen, "%s: %s", fs->image, strerror(errno));
    goto out;
  }
  for (int tries = 0; tries < 50; tries++) { /* another process may take the free device first */
    int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
    struct loop_config cfg;
    if (nr < 0) {
      snprintf(err, errlen, "no free loop device: %s", strerror(errno));
      goto out;
    }
    snprintf(fs->loopdev, sizeof fs->loopdev, "/dev/loop%d", nr);
    if ((fs->loopfd = open(fs->loopdev, O_RDWR | O_CLOEXEC)) < 0) continue;
    memset(&cfg, 0, sizeof cfg);
    cfg.fd = (uint32_t)img;
    cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    snprintf((char *)cfg.info.lo_file_name, sizeof cfg.info.lo_file_name, "%s", fs->image);
    if (ioctl(fs->loopfd, LOOP_CONFIGURE, &cfg) == 0) {
      rc = 0;
      goto out;
    }
    int e = errno;
    close(fs->loopfd);
    fs->loopfd = -1;
    if (e != EBUSY) {
      snprintf(err, errlen, "%s: LOOP_CONFIGURE: %s", fs->loopdev, strerror(e));
      goto out;
    }
  }
  snprintf(err, errlen, "no loop device could be attached (all busy)");
out:
  if (img >= 0) close(img);
  close(ctl);
  return rc;
}

/* The root fd is opened at mount time: a shut-down XFS refuses new opens (EIO), and the
 * shutdown must also work when the case's own process already did it. */
static int do_mount(pc_realfs *fs, char *err, size_t errlen) {
  const fs_kind *k = kind_find(fs->fstype);
  if (mount(fs->loopdev, fs->mnt, fs->fstype, MS_NOATIME, k->options) < 0) {
    snprintf(err, errlen, "mount -t %s %s %s -o %s: %s", fs->fstype, fs->loopdev, fs->mnt, k->options,
             strerror(errno));
    return PC_ESETUP;
  }
  fs->mounted = 1;
  if ((fs->rootfd = open(fs->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    snprintf(err, errlen, "open %s: %s", fs->mnt, strerror(errno));
    return PC_ESETUP;
  }
  return 0;
}

static int do_umount(pc_realfs *fs, char *err, size_t errlen) {
  if (fs->rootfd >= 0) close(fs->rootfd);
  fs->rootfd = -1;
  if (!fs->mounted) return 0;
  for (int tries = 0; umount2(fs->mnt, 0) < 0; tries++) {
    if (errno != EBUSY || tries >= 200) {
      if (err) snprintf(err, errlen, "umount %s: %s", fs->mnt, strerror(errno));
      return PC_ESETUP;
    }
    usleep(5000); /* a dying child may still hold an fd for a moment */
  }
  fs->mounted = 0;
  return 0;
}

/* Makes the data dir in the pristine image, durably, once: a case's copy then starts with
 * it, and no case pays for the mkdir and the syncfs (on XFS a log force) itself. */
static int seed_pristine(pc_realfs *fs, const char *subdir, char *err, size_t errlen) {
  char image[sizeof fs->image], data[1200];
  int rc;
  memcpy(image, fs->image, sizeof image);
  snprintf(fs->image, sizeof fs->image, "%s", fs->pristine);
  if (remember(fs)) {
    snprintf(err, errlen, "too many file systems mounted at once");
    rc = PC_ESETUP;
    goto out;
  }
  if ((rc = loop_attach(fs, err, errlen)) || (rc = do_mount(fs, err, errlen))) goto out;
  snprintf(data, sizeof data, "%s/%s", fs->mnt, subdir);
  if (mkdir(data, 0755) < 0 || syncfs(fs->rootfd) < 0) {
    snprintf(err, errlen, "%s in the pristine image: %s", data, strerror(errno));
    rc = PC_ESETUP;
    goto out;
  }
  fs->seeded = 1;
out:
  pc_realfs_case_end(fs);
  memcpy(fs->image, image, sizeof image);
  return rc;
}

int pc_realfs_case_begin(pc_realfs *fs, const char *subdir, char *err, size_t errlen) {
  char data[1200];
  int rc, mkfs_per_case = getenv("POWERCUT_REALFS_MKFS") != NULL;
  int64_t t0 = pc_now_us();
  pc_realfs_case_end(fs);
  if (!mkfs_per_case && !fs->seeded && (rc = seed_pristine(fs, subdir, err, errlen))) return rc;
  if (mkfs_per_case) { /* measurement only: mkfs per case instead of a copy */
    const fs_kind *k = kind_find(fs->fstype);
    int fd;
    unlink(fs->image);
    if ((fd = open(fs->image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 || ftruncate(fd, (off_t)IMAGE_BYTES) < 0) {
      snprintf(err, errlen, "cannot create the image %s: %s", fs->image, strerror(errno));
      if (fd >= 0) close(fd);
      return PC_ESETUP;
    }
    close(fd);
    if ((rc = run_mkfs(k, fs->image, err, errlen))) return rc;
  } else if ((rc = copy_image(fs->pristine, fs->image))) {
    snprintf(err, errlen, "copy %s to %s: %s", fs->pristine, fs->image, strerror(-rc));
    return PC_ESETUP;
  }
  fs->copy_us += pc_now_us() - t0;
  fs->ncases++;
  if (remember(fs)) {
    snprintf(err, errlen, "too many file systems mounted at once");
    return PC_ESETUP;
  }
  if ((rc = loop_attach(fs, err, errlen)) || (rc = do_mount(fs, err, errlen))) goto fail;
  snprintf(data, sizeof data, "%s/%s", fs->mnt, subdir);
  if (mkfs_per_case && mkdir(data, 0755) < 0) {
    snprintf(err, errlen, "mkdir %s: %s", data, strerror(errno));
    rc = PC_ESETUP;
    goto fail;
  }
  if (mkfs_per_case && syncfs(fs->rootfd) < 0) { /* the data dir exists durably before the case starts */
    snprintf(err, errlen, "syncfs %s: %s", fs->mnt, strerror(errno));
    rc = PC_ESETUP;
    goto fail;
  }
  struct stat st;
  if (lstat(data, &st) < 0 || !S_ISDIR(st.st_mode)) { /* the copy of the seeded image has it */
    snprintf(err, errlen, "%s: not in the case's image: %s", data, errno ? strerror(errno) : "not a directory");
    rc = PC_ESETUP;
    goto fail;
  }
  if (!fs->probed) { /* flags 0xff are invalid: EINVAL says the ioctl exists, ENOTTY that it does not */
    uint32_t bad = 0xff;
    if (ioctl(fs->rootfd, _IOR('X', 125, uint32_t), &bad) < 0 && errno == ENOTTY) {
      snprintf(err, errlen, "--fs %s: this kernel has no shutdown ioctl for %s, so it cannot cut its power",
               fs->fstype, fs->fstype);
      rc = PC_ESETUP;
      goto fail;
    }
    fs->probed = 1;
  }
  fs->prep_us += pc_now_us() - t0;
  return 0;
fail:
  pc_realfs_case_end(fs);
  return rc;
}

int pc_realfs_shutdown(pc_realfs *fs, char *err, size_t errlen) {
  int rc = ffs_fs_shutdown(fs->rootfd);
  if (rc < 0) {
    snprintf(err, errlen, "the %s shutdown ioctl failed on %s: %s%s", fs->fstype, fs->mnt, strerror(-rc),
             rc == -ENOTTY ? " (this kernel cannot shut this file system down)" : "");
    return PC_ESETUP;
  }
  return 0;
}

int pc_realfs_remount(pc_realfs *fs, char *err, size_t errlen) {
  int rc;
  int64_t t0 = pc_now_us();
  if ((rc = do_umount(fs, err, errlen)) || (rc = do_mount(fs, err, errlen))) return rc;
  fs->remount_us += pc_now_us() - t0;
  return 0;
}

void pc_realfs_case_end(pc_realfs *fs) {
  int64_t t0 = pc_now_us();
  do_umount(fs, NULL, 0);
  if (fs->loopfd >= 0) {
    ioctl(fs->loopfd, LOOP_CLR_FD, 0); /* autoclear does it too once the fd is closed */
    close(fs->loopfd);
    fs->loopfd = -1;
  }
  if (!fs->mounted) forget(fs);
  fs->end_us += pc_now_us() - t0;
}

void pc_realfs_close(pc_realfs *fs) {
  if (!fs->ready) return;
  pc_realfs_case_end(fs);
  unlink(fs->image);
  unlink(fs->pristine);
  fs->ready = 0;
}


/* ---- the runner's hooks ---- */
#define DATA_SUBDIR "db"

int pc_realfs_prepare_case(pc_worker *w, const pc_case *c, char *err, size_t errlen) {
  const char *fst = ffs_model_fs((ffs_model)ffs_model_from_name(c->model));
  int rc;
  if (!fst) { /* an emulated case: the data dir on the scratch file system */
    if (w->fs) pc_realfs_case_end(w->fs);
    snprintf(w->data, sizeof w->data, "%s/data", w->root);
    return 0;
  }
  if (w->fs && strcmp(w->fs->fstype, fst)) {
    pc_realfs_close(w->fs);
    free(w->fs);
    w->fs = NULL;
  }
  if (!w->fs) {
    char sub[1100];
    if (!(w->fs = calloc(1, sizeof *w->fs))) {
      snprintf(err, errlen, "out of memory");
      return PC_ENOMEM;
    }
    snprintf(sub, sizeof sub, "%s/realfs", w->root);
    if ((rc = pc_realfs_init(w->fs, sub, fst, err, errlen))) {
      free(w->fs);
      w->fs = NULL;
      return rc;
    }
  }
  if (ffs_rm_rf(w->state) || rpt_mkdir_p(w->state)) {
    snprintf(err, errlen, "cannot prepare %s: %s", w->state, strerror(errno));
    return PC_ESETUP;
  }
  if ((rc = pc_realfs_case_begin(w->fs, DATA_SUBDIR, err, errlen))) return rc;
  snprintf(w->data, sizeof w->data, "%s/%s", w->fs->mnt, DATA_SUBDIR);
  return 0;
}

void pc_realfs_driver_end(pc_worker *w, const pc_case *c) {
  /* the driver's last act: the power cut comes before _exit closes its fds (a close can
   * start writeback: ext4's flush-on-close after truncate) */
  if (w->fs && w->fs->mounted && ffs_model_fs((ffs_model)ffs_model_from_name(c->model))) ffs_fs_shutdown(w->fs->rootfd);
}

int pc_realfs_after_powercut(pc_worker *w, char *err, size_t errlen) {
  int rc;
  if ((rc = pc_realfs_shutdown(w->fs, err, errlen))) return rc;
  return pc_realfs_remount(w->fs, err, errlen);
}

void pc_worker_fini(pc_worker *w) {
  pc_recovery_stop(w);
  if (!w->fs) return;
  if (getenv("POWERCUT_PROFILE") && w->fs->ncases) {
    pc_realfs *f = w->fs;
    double n = (double)f->ncases;
    fprintf(stderr, "realfs %s (pid %d, %llu cases): mkfs once %.0f us; per case: image %.0f us, loop+mount+mkdir %.0f us, "
            "umount+mount after the cut %.0f us, umount+detach %.0f us\n", f->fstype, (int)getpid(),
            (unsigned long long)f->ncases, (double)f->mkfs_us, (double)f->copy_us / n,
            (double)(f->prep_us - f->copy_us) / n, (double)f->remount_us / n, (double)f->end_us / n);
  }
  pc_realfs_close(w->fs);
  free(w->fs);
  w->fs = NULL;
}

/* Whether this kernel can shut FSTYPE down: one image made, mounted and asked, in a scratch
 * dir of our own, all removed after. Only for the kinds whose ioctl is recent (btrfs): a
 * campaign that cannot cut the power must say so before it runs, not fail every case. */
static int probe_shutdown(const char *fstype, char *err, size_t errlen) {
  char root[] = "/dev/shm/powercut-probe-XXXXXX";
  pc_realfs fs;
  int rc;
  if (!mkdtemp(root)) {
    snprintf(err, errlen, "--fs %s: cannot make a scratch dir %s: %s", fstype, root, strerror(errno));
    return PC_ESETUP;
  }
  if (!(rc = pc_realfs_init(&fs, root, fstype, err, errlen))) {
    if (!(rc = pc_realfs_case_begin(&fs, DATA_SUBDIR, err, errlen))) pc_realfs_case_end(&fs);
    pc_realfs_close(&fs);
  }
  ffs_rm_rf(root);
  return rc;
}

int pc_realfs_models(const char *fslist, char *models, size_t mlen, char *err, size_t errlen) {
  char buf[128], *save = NULL;
  size_t used = 0;
  int rc;
  if (strlen(fslist) >= sizeof buf) {
    snprintf(err, errlen, "--fs: '%s' is too long", fslist);
    return PC_EINVAL;
  }
  snprintf(buf, sizeof buf, "%s", fslist);
  models[0] = '\0';
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if ((rc = pc_realfs_check(t, err, errlen))) return rc;
    if (kind_find(t)->probe && (rc = probe_shutdown(t, err, errlen))) return rc;
    int n = snprintf(models + used, mlen - used, "%skernel-%s", used ? "," : "", t);
    if (n < 0 || (size_t)n >= mlen - used) {
      snprintf(err, errlen, "--fs: too many file systems");
      return PC_EINVAL;
    }
    used += (size_t)n;
  }
  if (!used) {
    snprintf(err, errlen, "--fs: no file system given");
    return PC_EINVAL;
  }
  return 0;
}

void pc_realfs_reach(pc_worker *w, const pc_case *c, const char *fslist, char *out, size_t len) {
  char buf[128], *save = NULL;
  size_t used = 0;
  out[0] = '\0';
  if (ffs_model_fs((ffs_model)ffs_model_from_name(c->model))) return;
  snprintf(buf, sizeof buf, "%s", fslist);
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    pc_case k = *c;
    pc_run_opts o = {0};
    pc_result r;
    snprintf(k.model, sizeof k.model, "kernel-%s", t);
    pc_run_case(w, &k, &o, &r);
    int n = snprintf(out + used, len - used, "%s%s=%s", used ? "," : "", t, pc_result_verdict(&r));
    pc_result_free(&r);
    if (n < 0 || (size_t)n >= len - used) break;
    used += (size_t)n;
  }
}

static int have_prog(const char *name) {
  const char *path = getenv("PATH");
  char buf[4096], full[4200], *save = NULL;
  snprintf(buf, sizeof buf, "%s:/sbin:/usr/sbin", path ? path : "/usr/bin:/bin");
  for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    snprintf(full, sizeof full, "%s/%s", d, name);
    if (access(full, X_OK) == 0) return 1;
  }
  return 0;
}

const char *pc_realfs_reach_default(char *why, size_t wl) {
  static char list[64];
  if (pc_realfs_check("ext4", why, wl)) return "";
  list[0] = '\0';
  if (have_prog("mkfs.ext4")) strcat(list, "ext4");
  if (have_prog("mkfs.xfs")) strcat(list, list[0] ? ",xfs" : "xfs");
  if (!list[0]) snprintf(why, wl, "neither mkfs.ext4 nor mkfs.xfs is installed");
  return list;
}

/* Unmounts (lazily) every loop-device mount below ROOT, a scratch dir of this powercut:
 * what workers killed by a signal (SIGKILL, no exit handler) leave behind. Their loop
 * devices are attached with autoclear, so they detach once unmounted and closed. Returns how
 * many it unmounted. Nothing outside ROOT, and nothing not on a loop device, is touched. */
int pc_realfs_sweep(const char *root) {
  char line[8192], rp[PATH_MAX];
  int n = 0;
  size_t rl;
  FILE *f;
  if (!root || !realpath(root, rp)) return 0;
  rl = strlen(rp);
  if (!(f = fopen("/proc/self/mounts", "re"))) return 0;
  while (fgets(line, sizeof line, f)) {
    char src[4096], mnt[4096];
    if (sscanf(line, "%4095s %4095s", src, mnt) != 2) continue;
    if (strncmp(src, "/dev/loop", 9) || strncmp(mnt, rp, rl) || mnt[rl] != '/') continue;
    if (strchr(mnt, '\\')) continue; /* an escaped name (space, ...): not one the harness makes */
    if (umount2(mnt, MNT_DETACH) == 0) n++;
  }
  fclose(f);
  return n;
}
