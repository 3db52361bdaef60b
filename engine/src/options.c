/*
 * options.c - the defaults of sdb_options (sdb_options_init), and the options
 * by name, for the CLI (--opt name=value) and for harness adapters. One
 * table lists every option: name, kind and field.
 */
#include "sdb_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

enum okind { O_BOOL, O_INT, O_SIZE, O_U64, O_COMP };

static const struct {
  const char *name;
  enum okind kind;
  size_t off;
} opts[] = {
#define O(n, k) {#n, k, offsetof(sdb_options, n)}
    O(create_if_missing, O_BOOL),     O(error_if_exists, O_BOOL),       O(deterministic, O_BOOL),
    O(paranoid_checks, O_BOOL),       O(memtable_bytes, O_SIZE),        O(block_bytes, O_SIZE),
    O(block_restart_interval, O_INT), O(sync_on_close, O_BOOL),         O(l0_compaction_trigger, O_INT),
    O(l0_slowdown_trigger, O_INT),    O(l0_stop_trigger, O_INT),        O(level_base_bytes, O_U64),
    O(level_ratio, O_INT),            O(target_file_bytes, O_U64),      O(bloom_bits_per_key, O_INT),
    O(cache_bytes, O_SIZE),           O(compression, O_COMP),           O(compression_level, O_INT),
    O(max_open_files, O_INT),         O(sync_writes, O_BOOL),
    O(mmap_reads, O_BOOL),            O(read_only, O_BOOL),
#undef O
};

void sdb_options_init(sdb_options *o) {
  memset(o, 0, sizeof *o);
  o->create_if_missing = 1;
  o->error_if_exists = 0;
  o->deterministic = 0;
  o->paranoid_checks = 1;
  o->memtable_bytes = 4u << 20;
  o->block_bytes = 4096;
  o->block_restart_interval = 16;
  o->sync_on_close = 1;
  o->l0_compaction_trigger = 4;
  o->l0_slowdown_trigger = 8;
  o->l0_stop_trigger = 12;
  o->level_base_bytes = 10u << 20;
  o->level_ratio = 10;
  o->target_file_bytes = 2u << 20;
  o->bloom_bits_per_key = 10;
  o->cache_bytes = 8u << 20;
  o->compression = SDB_COMPRESSION_NONE;
  o->compression_level = 6;
  o->max_open_files = 1000;
  o->mmap_reads = 1;
}

const char *sdb_options_names(void) {
  return "create_if_missing error_if_exists deterministic paranoid_checks memtable_bytes block_bytes "
         "block_restart_interval sync_on_close l0_compaction_trigger l0_slowdown_trigger l0_stop_trigger "
         "level_base_bytes level_ratio target_file_bytes bloom_bits_per_key cache_bytes compression "
         "compression_level max_open_files sync_writes mmap_reads read_only";
}

/* Decimal with an optional K/M/G (binary) suffix. */
static int parse_num(const char *s, uint64_t *out) {
  char *end;
  uint64_t v, mul = 1;
  if (!s || *s < '0' || *s > '9') return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno) return -1;
  if (*end == 'K' || *end == 'k') mul = 1u << 10, end++;
  else if (*end == 'M' || *end == 'm') mul = 1u << 20, end++;
  else if (*end == 'G' || *end == 'g') mul = 1u << 30, end++;
  if (*end || (v && mul > UINT64_MAX / v)) return -1;
  *out = v * mul;
  return 0;
}

int sdb_options_set(sdb_options *o, const char *name, const char *value, char *msg, size_t msglen) {
  uint64_t v;
  char dummy[8];
  if (!msg) msg = dummy, msglen = sizeof dummy;
  if (!o || !name || !value) return SDB_EINVAL;
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    if (strcmp(opts[i].name, name)) continue;
    char *f = (char *)o + opts[i].off;
    if (opts[i].kind == O_COMP) {
      if (!strcmp(value, "none")) *(int *)f = SDB_COMPRESSION_NONE;
      else if (!strcmp(value, "zlib")) *(int *)f = SDB_COMPRESSION_ZLIB;
      else return snprintf(msg, msglen, "option %s: '%s' is not none or zlib", name, value), SDB_EINVAL;
      return 0;
    }
    if (parse_num(value, &v) || (opts[i].kind == O_BOOL && v > 1) || (opts[i].kind == O_INT && v > INT32_MAX)) {
      snprintf(msg, msglen, "option %s: bad value '%s'%s", name, value,
               opts[i].kind == O_BOOL ? " (0 or 1)" : " (a number, K/M/G suffix allowed)");
      return SDB_EINVAL;
    }
    if (opts[i].kind == O_BOOL || opts[i].kind == O_INT) *(int *)f = (int)v;
    else if (opts[i].kind == O_SIZE) *(size_t *)f = (size_t)v;
    else *(uint64_t *)f = v;
    return 0;
  }
  snprintf(msg, msglen, "unknown option '%s' (known: %s)", name, sdb_options_names());
  return SDB_EINVAL;
}
