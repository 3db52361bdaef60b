/* abi_plugin.c - a tiny target plugin built for another target ABI than
 * powercut's (PC_TEST_ABI), or with no ABI symbol at all (PC_TEST_NO_ABI):
 * the loader must refuse it by name before calling anything in it. */
#include "powercut/target.h"

static int t_open(const char *d, const char *o, const char *w, void **h, char *m, size_t l) {
  (void)d, (void)o, (void)w, (void)h, (void)m, (void)l;
  return PC_ETARGET;
}

static int t_put(void *h, const void *k, size_t kl, const void *v, size_t vl, int s) {
  (void)h, (void)k, (void)kl, (void)v, (void)vl, (void)s;
  return PC_ETARGET;
}
static int t_del(void *h, const void *k, size_t kl, int s) {
  (void)h, (void)k, (void)kl, (void)s;
  return PC_ETARGET;
}
static int t_batch(void *h, const pc_kv_op *ops, size_t n, int s) {
  (void)h, (void)ops, (void)n, (void)s;
  return PC_ETARGET;
}
static int t_get(void *h, const void *k, size_t kl, void **v, size_t *vl) {
  (void)h, (void)k, (void)kl, (void)v, (void)vl;
  return PC_ETARGET;
}
static int t_scan(void *h, pc_scan_fn fn, void *arg) {
  (void)h, (void)fn, (void)arg;
  return PC_ETARGET;
}
static int t_void(void *h) {
  (void)h;
  return PC_ETARGET;
}
static const char *t_errmsg(void *h) {
  (void)h;
  return "test plugin";
}

static const pc_target t = {
  .abi = PC_TEST_ABI, .name = PC_TEST_NAME, .about = "test plugin", .open = t_open, .put = t_put,
  .del = t_del, .batch = t_batch, .get = t_get, .scan = t_scan, .sync = t_void, .flush = t_void,
  .close = t_void, .errmsg = t_errmsg,
#ifdef PC_TEST_NO_OPS
  .put = NULL,
#endif
};

#ifndef PC_TEST_NO_ABI
__attribute__((visibility("default"))) const int pc_target_plugin_abi = PC_TEST_ABI;
#endif
__attribute__((visibility("default"))) const pc_target *pc_target_plugin(void);
__attribute__((visibility("default"))) const pc_target *pc_target_plugin(void) { return &t; }
