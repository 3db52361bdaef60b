/*
 * memtable_test.c - the skiplist memtable: order, versions, snapshots.
 */
#include "test_util.h"

#include "memtable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void versions_newest_first_and_snapshots(void **s) {
  sdb_mem *m = sdb__mem_new();
  const uint8_t *v;
  size_t vn;
  assert_int_equal(sdb__mem_add(m, 1, SDB_TYPE_PUT, "k", 1, "v1", 2), 0);
  assert_int_equal(sdb__mem_add(m, 2, SDB_TYPE_PUT, "k", 1, "v2", 2), 0);
  assert_int_equal(sdb__mem_add(m, 3, SDB_TYPE_DEL, "k", 1, NULL, 0), 0);
  assert_int_equal(sdb__mem_add(m, 4, SDB_TYPE_PUT, "k\0", 2, "z", 1), 0);
  assert_int_equal(sdb__mem_get(m, "k", 1, 3, &v, &vn), SDB_TYPE_DEL);
  assert_int_equal(sdb__mem_get(m, "k", 1, 2, &v, &vn), SDB_TYPE_PUT);
  assert_memory_equal(v, "v2", 2);
  assert_int_equal(sdb__mem_get(m, "k", 1, 1, &v, &vn), SDB_TYPE_PUT);
  assert_memory_equal(v, "v1", 2);
  assert_int_equal(sdb__mem_get(m, "k", 1, 0, &v, &vn), -1); /* before any version */
  assert_int_equal(sdb__mem_get(m, "", 0, 9, &v, &vn), -1);
  assert_int_equal(sdb__mem_get(m, "k\0", 2, 9, &v, &vn), SDB_TYPE_PUT);
  assert_int_equal(sdb__mem_count(m), 4);
  sdb__mem_unref(m);
}

static void iterator_yields_internal_key_order(void **s) {
  sdb_mem *m = sdb__mem_new();
  char k[32];
  /* insert in a scrambled order, several versions per key */
  for (int i = 0; i < 3000; i++) {
    int key = (i * 7919) % 1000;
    snprintf(k, sizeof k, "%d", key); /* "10" < "9": bytewise, not numeric */
    assert_int_equal(sdb__mem_add(m, (uint64_t)i + 1, SDB_TYPE_PUT, k, strlen(k), k, strlen(k)), 0);
  }
  sdb_iiter *it = sdb__mem_iter(m);
  sdb__mem_unref(m); /* the iterator keeps it alive */
  const uint8_t *prev = NULL;
  size_t prevn = 0, n = 0;
  uint8_t pbuf[64];
  for (it->ops->seek_first(it); it->ops->valid(it); it->ops->next(it), n++) {
    size_t kn;
    const uint8_t *kk = it->ops->key(it, &kn);
    if (prev) assert_true(sdb__icmp(pbuf, prevn, kk, kn) < 0);
    memcpy(pbuf, kk, kn);
    prevn = kn;
    prev = pbuf;
  }
  assert_int_equal(n, 3000);
  it->ops->free(it);
}

static void large_values_and_usage(void **s) {
  sdb_mem *m = sdb__mem_new();
  size_t big = 3u << 20;
  uint8_t *b = calloc(1, big);
  const uint8_t *v;
  size_t vn;
  size_t before = sdb__mem_usage(m);
  assert_int_equal(sdb__mem_add(m, 1, SDB_TYPE_PUT, "small", 5, "x", 1), 0);
  assert_true(sdb__mem_usage(m) - before < 256); /* usage counts bytes, not arena blocks */
  b[big - 1] = 7;
  assert_int_equal(sdb__mem_add(m, 2, SDB_TYPE_PUT, "big", 3, b, big), 0);
  assert_true(sdb__mem_usage(m) >= big);
  assert_int_equal(sdb__mem_get(m, "big", 3, 2, &v, &vn), SDB_TYPE_PUT);
  assert_int_equal(vn, big);
  assert_int_equal(v[big - 1], 7);
  assert_int_equal(sdb__mem_get(m, "small", 5, 2, &v, &vn), SDB_TYPE_PUT);
  free(b);
  sdb__mem_unref(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(versions_newest_first_and_snapshots),
      cmocka_unit_test(iterator_yields_internal_key_order),
      cmocka_unit_test(large_values_and_usage),
  };
  return cmocka_run_group_tests_name("engine_memtable", tests, NULL, NULL);
}
