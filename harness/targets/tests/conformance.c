/*
 * conformance.c - the generic adapter conformance test: one program, any
 * target spec (NAME[:k=v,...]), e.g. `targets_conformance leveldb:sync=1`.
 *
 * It drives the adapter through the pc_target vtable and checks it against an
 * in-test model: put/get/delete (present, absent, deleting an absent key),
 * overwrite, atomic batch of puts and deletes, binary keys with NUL and 0xff
 * bytes and keys that are prefixes of each other, empty values, a 100 KiB
 * value, full scan in bytewise key order, sync and flush, close + reopen in
 * the same process, reopen in a fresh process (for exec: a fresh program), the
 * optional iterator (seek to each key, between keys and past the end; next
 * to the end), the optional delete-range ([begin, end)), and rejection of an unknown option. Exit 0 when every check holds.
 */
#include "harness_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXKV 512

typedef struct kv {
  uint8_t k[64];
  size_t kl;
  uint8_t *v;
  size_t vl;
} kv;

static kv model[MAXKV];
static size_t nmodel;
static int failures;
static const pc_target *T;
static const char *OPTS = "";
static void *H;

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FAIL: ");
  vfprintf(stderr, fmt, ap);
  if (H && T->errmsg) fprintf(stderr, " [target says: %s]", T->errmsg(H));
  fprintf(stderr, "\n");
  va_end(ap);
  failures++;
}

static int cmpkey(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  int c = memcmp(a, b, al < bl ? al : bl);
  return c ? c : (al > bl) - (al < bl);
}

static kv *model_find(const void *k, size_t kl) {
  for (size_t i = 0; i < nmodel; i++)
    if (model[i].kl == kl && !memcmp(model[i].k, k, kl)) return &model[i];
  return NULL;
}

static void model_put(const void *k, size_t kl, const void *v, size_t vl) {
  kv *e = model_find(k, kl);
  if (!e) {
    if (nmodel == MAXKV) abort();
    e = &model[nmodel++];
    memcpy(e->k, k, kl);
    e->kl = kl;
  } else {
    free(e->v);
  }
  e->v = malloc(vl ? vl : 1);
  memcpy(e->v, v, vl);
  e->vl = vl;
}

static void model_del(const void *k, size_t kl) {
  kv *e = model_find(k, kl);
  if (!e) return;
  free(e->v);
  *e = model[--nmodel];
}

static int cmp_kv(const void *a, const void *b) {
  const kv *x = a, *y = b;
  return cmpkey(x->k, x->kl, y->k, y->kl);
}

static void do_put(const void *k, size_t kl, const void *v, size_t vl, int sync) {
  int rc = T->put(H, k, kl, v, vl, sync);
  if (rc) fail("put(klen %zu, vlen %zu, sync %d) = %d %s", kl, vl, sync, rc, pc_strerror(rc));
  else model_put(k, kl, v, vl);
}

static void do_del(const void *k, size_t kl, int sync) {
  int rc = T->del(H, k, kl, sync);
  if (rc) fail("del(klen %zu) = %d %s", kl, rc, pc_strerror(rc));
  else model_del(k, kl);
}

static void check_get(const void *k, size_t kl, const char *where) {
  void *v = NULL;
  size_t vl = 0;
  kv *e = model_find(k, kl);
  int rc = T->get(H, k, kl, &v, &vl);
  if (rc < 0) fail("%s: get(klen %zu) = %d %s", where, kl, rc, pc_strerror(rc));
  else if (rc == 0 && e) fail("%s: get(klen %zu): absent, the model holds a %zu-byte value", where, kl, e->vl);
  else if (rc == 1 && !e) fail("%s: get(klen %zu): found %zu bytes, the model holds nothing", where, kl, vl);
  else if (rc == 1 && (vl != e->vl || (vl && memcmp(v, e->v, vl))))
    fail("%s: get(klen %zu): %zu bytes, the model holds %zu different bytes", where, kl, vl, e->vl);
  else if (rc > 1) fail("%s: get returned %d (want 0 or 1)", where, rc);
  free(v);
}

typedef struct scan_state {
  size_t i;
  int bad;
  const char *where;
} scan_state;

static int scan_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl) {
  scan_state *s = arg;
  if (s->bad) return 0;
  if (s->i >= nmodel) {
    fail("%s: scan returned more than the %zu keys of the model", s->where, nmodel);
    s->bad = 1;
  } else if (model[s->i].kl != kl || memcmp(model[s->i].k, k, kl)) {
    fail("%s: scan entry %zu has the wrong key (order or content)", s->where, s->i);
    s->bad = 1;
  } else if (model[s->i].vl != vl || (vl && memcmp(model[s->i].v, v, vl))) {
    fail("%s: scan entry %zu has the wrong value (%zu bytes, want %zu)", s->where, s->i, vl,
         model[s->i].vl);
    s->bad = 1;
  }
  s->i++;
  return 0;
}

static void check_scan(const char *where) {
  scan_state s = {0, 0, where};
  int rc;
  qsort(model, nmodel, sizeof *model, cmp_kv);
  if ((rc = T->scan(H, scan_cb, &s))) fail("%s: scan = %d %s", where, rc, pc_strerror(rc));
  else if (!s.bad && s.i != nmodel) fail("%s: scan returned %zu keys, want %zu", where, s.i, nmodel);
}

static void check_all(const char *where) {
  check_scan(where);
  for (size_t i = 0; i < nmodel; i++) check_get(model[i].k, model[i].kl, where);
}

/* the optional iterator against the model: seek to each key and to just
 * after it (the key + a 0 byte: the next model key), next to the end, and
 * past the last key */
static int iter_is(void *it, int rc, size_t i, const char *where, const char *what) {
  const void *k, *v;
  size_t kl, vl;
  if (rc < 0) {
    fail("%s: iterator %s = %d %s", where, what, rc, pc_strerror(rc));
    return -1;
  }
  if (i == nmodel) {
    if (rc != 0) fail("%s: iterator %s: positioned, want past the end", where, what);
    return rc != 0 ? -1 : 0;
  }
  if (rc != 1) {
    fail("%s: iterator %s: past the end, want key %zu of %zu", where, what, i, nmodel);
    return -1;
  }
  T->iter->entry(it, &k, &kl, &v, &vl);
  if (kl != model[i].kl || memcmp(k, model[i].k, kl) || vl != model[i].vl || (vl && memcmp(v, model[i].v, vl))) {
    fail("%s: iterator %s: wrong entry (want model key %zu)", where, what, i);
    return -1;
  }
  return 0;
}

static void check_iter(const char *where) {
  void *it;
  int rc;
  if (!T->iter) {
    printf("  %s: no iterator (optional)\n", where);
    return;
  }
  qsort(model, nmodel, sizeof *model, cmp_kv);
  if ((rc = T->iter->create(H, &it))) {
    fail("%s: iterator create = %d %s", where, rc, pc_strerror(rc));
    return;
  }
  for (size_t i = 0; i < nmodel; i++) {
    uint8_t k[65];
    if (iter_is(it, T->iter->seek(it, model[i].k, model[i].kl), i, where, "seek to a key")) break;
    memcpy(k, model[i].k, model[i].kl);
    k[model[i].kl] = 0;
    if (iter_is(it, T->iter->seek(it, k, model[i].kl + 1), i + 1, where, "seek between keys")) break;
  }
  if (nmodel && !iter_is(it, T->iter->seek(it, model[0].k, model[0].kl), 0, where, "seek to the first key"))
    for (size_t i = 1; i <= nmodel; i++)
      if (iter_is(it, T->iter->next(it), i, where, "next")) break;
  iter_is(it, T->iter->seek(it, "\xff\xff\xff\xff", 4), nmodel, where, "seek past the last key");
  T->iter->destroy(it);
}

static int open_target(const char *dir, const char *where) {
  char msg[1024] = "";
  int rc = T->open(dir, OPTS, "", &H, msg, sizeof msg);
  if (rc) {
    H = NULL;
    fail("%s: open(%s) = %d %s: %s", where, dir, rc, pc_strerror(rc), msg);
  }
  return rc;
}

int main(int argc, char **argv) {
  char name[64], dir[] = "/tmp/pc-conformance-XXXXXX", msg[1024], bad[1200];
  const char *spec, *colon;
  uint8_t big[100 * 1024];
  int rc;
  if (argc != 2) {
    fprintf(stderr, "usage: %s TARGET[:k=v,...]\n", argv[0]);
    return 2;
  }
  spec = argv[1];
  colon = strchr(spec, ':');
  snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
  OPTS = colon ? colon + 1 : "";
  if (!(T = pc_target_find(name))) {
    fprintf(stderr, "FAIL: target '%s' is not built in\n", name);
    return 1;
  }
  printf("conformance of %s (options '%s')\n", name, OPTS);

  /* options: the given ones are valid, an unknown one is an error */
  if (T->check_opts && (rc = T->check_opts(OPTS, "", msg, sizeof msg)))
    fail("check_opts('%s') = %d: %s", OPTS, rc, msg);
  snprintf(bad, sizeof bad, "%s%sno_such_option=1", OPTS, *OPTS ? "," : "");
  msg[0] = '\0';
  if (!T->check_opts || T->check_opts(bad, "", msg, sizeof msg) == 0)
    fail("an unknown option ('%s') is accepted", bad);
  else printf("  unknown option rejected: %s\n", msg);

  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 2;
  }
  if (open_target(dir, "first open")) goto out;

  /* binary keys: NUL inside, 0xff, prefixes of each other */
  static const uint8_t k_nul[] = {'a', 0, 'b'}, k_a[] = {'a'}, k_a0[] = {'a', 0}, k_ab[] = {'a', 'b'},
                       k_ff[] = {0xff, 0xfe, 0}, k_00[] = {0}, k_e[] = {'e', 'm', 'p', 't', 'y'};
  do_put(k_nul, sizeof k_nul, "v-nul", 5, 0);
  do_put(k_a, sizeof k_a, "v-a", 3, 1);
  do_put(k_a0, sizeof k_a0, "v\0a0", 4, 0);
  do_put(k_ab, sizeof k_ab, "v-ab", 4, 0);
  do_put(k_ff, sizeof k_ff, "\xff\x00\x01", 3, 0);
  do_put(k_00, sizeof k_00, "zero-key", 8, 0);
  do_put(k_e, sizeof k_e, "", 0, 0);          /* empty value: present, 0 bytes */
  check_all("after puts");
  check_get("missing", 7, "absent key");

  /* overwrite, delete, delete of an absent key, empty value over a value */
  do_put(k_a, sizeof k_a, "v-a-2", 5, 0);
  do_del(k_ab, sizeof k_ab, 1);
  do_del("never-written", 13, 0);
  do_put(k_a0, sizeof k_a0, "", 0, 0);
  check_all("after overwrite/delete");
  check_get(k_ab, sizeof k_ab, "deleted key");

  /* atomic batch: puts, an overwrite inside the batch, a delete */
  {
    pc_kv_op ops[] = {
      {PC_OP_PUT, "b1", 2, "batch-1", 7}, {PC_OP_PUT, "b2", 2, "batch-2", 7},
      {PC_OP_DEL, k_nul, sizeof k_nul, NULL, 0}, {PC_OP_PUT, "b1", 2, "batch-1b", 8},
      {PC_OP_PUT, "b3", 2, "", 0},
    };
    if ((rc = T->batch(H, ops, sizeof ops / sizeof *ops, 1))) {
      fail("batch = %d %s", rc, pc_strerror(rc));
    } else {
      for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (ops[i].kind == PC_OP_DEL) model_del(ops[i].k, ops[i].klen);
        else model_put(ops[i].k, ops[i].klen, ops[i].v, ops[i].vlen);
    }
  }
  check_all("after batch");

  /* a large value, and enough keys for a few blocks */
  for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 131 + 7);
  do_put("big", 3, big, sizeof big, 0);
  for (int i = 0; i < 200; i++) {
    char k[16], v[32];
    int kl = snprintf(k, sizeof k, "key%05d", (i * 37) % 200);
    int vl = snprintf(v, sizeof v, "value-%d", i);
    do_put(k, (size_t)kl, v, (size_t)vl, i % 50 == 0);
  }
  if ((rc = T->sync(H))) fail("sync = %d %s", rc, pc_strerror(rc));
  if ((rc = T->flush(H))) fail("flush = %d %s", rc, pc_strerror(rc));
  check_all("after sync+flush");
  check_iter("after sync+flush");
  /* delete-range (optional): [key00010, key00020) goes, key00020 stays, and a
   * range over no key changes nothing */
  if (T->delrange) {
    if ((rc = T->delrange(H, "key00010", 8, "key00020", 8, 1)) ||
        (rc = T->delrange(H, "key00010", 8, "key00010\x01", 9, 0))) {
      fail("delrange = %d %s", rc, pc_strerror(rc));
    } else {
      for (int i = 10; i < 20; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%05d", i);
        model_del(k, 8);
      }
    }
    check_all("after delete-range");
    check_get("key00020", 8, "the end key of a delete-range");
  }
  do_del("key00007", 8, 0);
  if ((rc = T->sync(H))) fail("sync = %d %s", rc, pc_strerror(rc));

  /* close + reopen in this process */
  if ((rc = T->close(H))) fail("close = %d %s", rc, pc_strerror(rc));
  H = NULL;
  if (open_target(dir, "reopen")) goto out;
  check_all("after reopen");
  check_iter("after reopen");
  do_put("after-reopen", 12, "x", 1, 1);
  check_get("after-reopen", 12, "write after reopen");
  if ((rc = T->close(H))) fail("close = %d %s", rc, pc_strerror(rc));
  H = NULL;

  /* reopen in a fresh process: nothing carried over in memory (exec: a new program) */
  {
    pid_t pid;
    int status;
    fflush(NULL);
    if ((pid = fork()) == 0) {
      failures = 0;
      if (open_target(dir, "reopen in a fresh process") == 0) {
        check_all("fresh process");
        if (T->close(H)) fail("close in the fresh process");
      }
      _exit(failures ? 1 : 0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
      fail("reopen in a fresh process failed (see above)");
  }

out:
  if (H) T->close(H);
  ffs_rm_rf(dir);
  if (failures) {
    printf("%s: %d check(s) FAILED\n", spec, failures);
    return 1;
  }
  printf("%s: all checks passed (%zu keys at the end)\n", spec, nmodel);
  return 0;
}
