/*
 * options.c - sdb_options: the defaults (sdb_options_init) and the options by
 * name, for the CLI (--opt name=value) and for harness adapters. One table
 * lists every option: name, kind, field and default.
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
  uint64_t def; /* the default */
} opts[] = {
#define O(n, k, d) {#n, k, offsetof(sdb_options, n), d}
    O(create_if_missing, O_BOOL, 1),
    O(error_if_exists, O_BOOL, 0),
    O(deterministic, O_BOOL, 0),
    O(paranoid_checks, O_BOOL, 1),
    O(memtable_bytes, O_SIZE, 4u << 20),
    O(block_bytes, O_SIZE, 4096),
    O(block_restart_interval, O_INT, 16),
    O(sync_on_close, O_BOOL, 1),
    O(l0_compaction_trigger, O_INT, 4),
    O(l0_slowdown_trigger, O_INT, 8),
    O(l0_stop_trigger, O_INT, 12),
    O(level_base_bytes, O_U64, 10u << 20),
    O(level_ratio, O_INT, 10),
    O(target_file_bytes, O_U64, 2u << 20),
    O(bloom_bits_per_key, O_INT, 10),
    O(cache_bytes, O_SIZE, 8u << 20),
    O(compression, O_COMP, SDB_COMPRESSION_NONE),
    O(compression_level, O_INT, 6),
    O(max_open_files, O_INT, 1000),
    O(sync_writes, O_BOOL, 0),
    O(mmap_reads, O_BOOL, 1),
    O(read_only, O_BOOL, 0),
    O(wal_prealloc_bytes, O_SIZE, 64u << 10),
#undef O
};
#define NOPTS (sizeof opts / sizeof opts[0])

/* Stores v into option i of o. */
static void store(sdb_options *o, size_t i, uint64_t v) {
  char *f = (char *)o + opts[i].off;
  if (opts[i].kind == O_SIZE) *(size_t *)f = (size_t)v;
  else if (opts[i].kind == O_U64) *(uint64_t *)f = v;
  else *(int *)f = (int)v;
}

void sdb_options_init(sdb_options *o) {
  memset(o, 0, sizeof *o);
  for (size_t i = 0; i < NOPTS; i++) store(o, i, opts[i].def);
}

const char *sdb_options_names(void) {
  return "create_if_missing error_if_exists deterministic paranoid_checks memtable_bytes block_bytes "
         "block_restart_interval sync_on_close l0_compaction_trigger l0_slowdown_trigger l0_stop_trigger "
         "level_base_bytes level_ratio target_file_bytes bloom_bits_per_key cache_bytes compression "
         "compression_level max_open_files sync_writes mmap_reads read_only wal_prealloc_bytes";
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
  for (size_t i = 0; i < NOPTS; i++) {
    if (strcmp(opts[i].name, name)) continue;
    if (opts[i].kind == O_COMP) {
      if (!strcmp(value, "none")) store(o, i, SDB_COMPRESSION_NONE);
      else if (!strcmp(value, "zlib")) store(o, i, SDB_COMPRESSION_ZLIB);
      else return snprintf(msg, msglen, "option %s: '%s' is not none or zlib", name, value), SDB_EINVAL;
      return 0;
    }
    if (parse_num(value, &v) || (opts[i].kind == O_BOOL && v > 1) || (opts[i].kind == O_INT && v > INT32_MAX)) {
      snprintf(msg, msglen, "option %s: bad value '%s'%s", name, value,
               opts[i].kind == O_BOOL ? " (0 or 1)" : " (a number, K/M/G suffix allowed)");
      return SDB_EINVAL;
    }
    store(o, i, v);
    return 0;
  }
  snprintf(msg, msglen, "unknown option '%s' (known: %s)", name, sdb_options_names());
  return SDB_EINVAL;
}
