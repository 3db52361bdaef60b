/*
 * db_tools.c - stats, check and dump: reporting on a database and its files.
 */
#define _GNU_SOURCE
#include "db_int.h"
#include "env.h"
#include "tools.h"

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

/* ---- stats, check, dump ------------------------------------------------------------ */
/* One line per level, appended to buf (db->mu held). */
static void stats_levels(sdb *db, char *buf, size_t len) {
  for (int l = 0; l < SDB_NUM_LEVELS; l++) {
    size_t off = strlen(buf);
    if (off + 1 >= len) break;
    snprintf(buf + off, len - off,
             "level%d: files %zu bytes %" PRIu64 " target %" PRIu64 " read %" PRIu64 " written %" PRIu64 "\n", l,
             db->ver->n[l], sdb__level_bytes(db->ver, l),
             l == 0 ? (uint64_t)db->opt.l0_compaction_trigger : l == SDB_NUM_LEVELS - 1 ? 0 : sdb__level_target(db, l),
             db->level_read[l], db->level_written[l]);
  }
}

int sdb_stats(sdb *db, char *buf, size_t len) {
  uint64_t tbytes = 0, entries = 0;
  size_t ntables = 0, off;
  if (!db || !buf || !len) return SDB_EINVAL;
  pthread_mutex_lock(&db->mu);
  if (!db->open_ok) {
    pthread_mutex_unlock(&db->mu);
    return SDB_EFAILED;
  }
  for (int l = 0; l < SDB_NUM_LEVELS; l++)
    for (size_t i = 0; i < db->ver->n[l]; i++)
      ntables++, tbytes += db->ver->t[l][i]->size, entries += db->ver->t[l][i]->entries;
  uint64_t tw = db->flush_bytes + db->compact_written, ch, cm, ce;
  size_t cu, cn;
  sdb__cache_stats(db->cache, &ch, &cm, &ce, &cu, &cn);
  pthread_mutex_lock(&db->fdl.mu);
  int fopen = db->fdl.open, fmaperr = db->fdl.map_errno;
  uint64_t freopen = db->fdl.reopens, fmaps = db->fdl.maps, fmapfail = db->fdl.map_failures;
  pthread_mutex_unlock(&db->fdl.mu);
  snprintf(buf, len,
           "open_us: %" PRIu64 "\n"
           "recovered_wal_files: %" PRIu64 "\n"
           "recovered_wal_records: %" PRIu64 "\n"
           "recovered_wal_bytes: %" PRIu64 "\n"
           "recovered_tail_truncated_bytes: %" PRIu64 "\n"
           "recovered_corrupt_bytes_skipped: %" PRIu64 "\n"
           "last_seq: %" PRIu64 "\n"
           "next_file: %" PRIu64 "\n"
           "manifest: MANIFEST-%06" PRIu64 "\n"
           "wal: %06" PRIu64 ".log (%" PRIu64 " bytes, %" PRIu64 " synced)\n"
           "memtable_bytes: %zu\n"
           "memtable_entries: %zu\n"
           "immutable_memtable_bytes: %zu\n"
           "background_flushes: %" PRIu64 "\n"
           "memtable_stalls: %" PRIu64 "\n"
           "tables: %zu\n"
           "table_bytes: %" PRIu64 "\n"
           "table_entries: %" PRIu64 "\n"
           "flushes: %" PRIu64 "\n"
           "failed: %s\n"
           "user_bytes_written: %" PRIu64 "\n"
           "wal_bytes_written: %" PRIu64 "\n"
           "flush_bytes_written: %" PRIu64 "\n"
           "compactions: %" PRIu64 "\n"
           "trivial_moves: %" PRIu64 "\n"
           "compaction_bytes_read: %" PRIu64 "\n"
           "compaction_bytes_written: %" PRIu64 "\n"
           "write_amplification: %.2f\n"
           "write_amplification_total: %.2f\n"
           "block_bytes_before_compression: %" PRIu64 "\n"
           "blocks_compressed: %" PRIu64 "\n"
           "snapshots: %" PRIu64 "\n"
           "range_deletes: %" PRIu64 " (%" PRIu64 " keys)\n"
           "txn_commits: %" PRIu64 "\n"
           "txn_conflicts: %" PRIu64 "\n"
           "write_groups: %" PRIu64 " (%" PRIu64 " writes)\n"
           "background_compaction: %s\n"
           "write_slowdowns: %" PRIu64 "\n"
           "write_stalls: %" PRIu64 "\n"
           "background_errors: %" PRIu64 "\n"
           "bloom_checks: %" PRIu64 "\n"
           "bloom_useful: %" PRIu64 "\n"
           "bloom_false_positives: %" PRIu64 "\n"
           "block_cache_hits: %" PRIu64 "\n"
           "block_cache_misses: %" PRIu64 "\n"
           "block_cache_evictions: %" PRIu64 "\n"
           "block_cache_bytes: %zu\n"
           "block_cache_blocks: %zu\n"
           "table_cache_open_files: %d\n"
           "table_cache_reopens: %" PRIu64 "\n",
           db->open_us, db->rec_files, db->rec_records, db->rec_bytes, db->rec_truncated, db->rec_skipped, db->last_seq,
           db->vs.next_file, db->man_number, db->vs.log_number, db->wal.off, db->wal_synced,
           sdb__mem_usage(db->mem), sdb__mem_count(db->mem), db->imm ? sdb__mem_usage(db->imm) : (size_t)0,
           db->bg_flushes, db->memtable_stalls, ntables, tbytes, entries, db->flushes,
           db->failed ? sdb_strerror(db->failed) : "no", db->user_bytes, db->wal_bytes, db->flush_bytes,
           db->compactions, db->trivial_moves, db->compact_read, db->compact_written,
           db->flush_bytes ? (double)tw / (double)db->flush_bytes : 0.0,
           db->user_bytes ? (double)(tw + db->wal_bytes) / (double)db->user_bytes : 0.0, db->blocks_raw,
           db->blocks_zlib, db->nsnaps, db->range_deletes, db->range_deleted_keys, db->txn_commits, db->txn_conflicts, db->write_groups, db->grouped_writes,
           db->bg_mode ? "on" : "off", db->write_slowdowns, db->write_stalls, db->bg_errors, __atomic_load_n(&db->bloom_checks, __ATOMIC_RELAXED), __atomic_load_n(&db->bloom_useful, __ATOMIC_RELAXED),
           __atomic_load_n(&db->bloom_false_pos, __ATOMIC_RELAXED), ch, cm, ce, cu, cn, fopen, freopen);
  off = strlen(buf);
  if (off + 1 < len)
    snprintf(buf + off, len - off,
             "mmap_reads: %s\n"
             "table_cache_maps: %" PRIu64 "\n"
             "table_cache_map_failures: %" PRIu64 "%s%s%s\n",
             db->opt.mmap_reads ? "on" : "off", fmaps, fmapfail, fmapfail ? " (last: " : "",
             fmapfail ? strerror(fmaperr) : "", fmapfail ? "; those tables read with pread)" : "");
  stats_levels(db, buf, len);
  pthread_mutex_unlock(&db->mu);
  return 0;
}

int sdb__check_dir(const char *dir, FILE *out, char *msg, size_t msglen) {
  sdb_eb eb = {{0}};
  sdb_vstate vs = {0};
  uint64_t mnum, seq = 0, prev = 0, end = 0, size = 0, records = 0, entries = 0;
  int lockfd = -1, rc;
  char p[PATH_MAX];
  sdb_buf first = {0}, last = {0};
  if (!dir || !*dir) {
    rc = sdb__err(&eb, SDB_EINVAL, "check: empty directory name");
    goto out;
  }
  if ((rc = sdb__lock_dir_mode(dir, 1, &lockfd, &eb))) goto out; /* D22: shared, never created */
  if ((rc = sdb__current_get(dir, &mnum, &eb))) {
    if (rc == SDB_ENOENT && !(rc = sdb__refuse_if_data(dir, &eb)))
      rc = sdb__err(&eb, SDB_ENOENT, "%s: no CURRENT: not a database", dir);
    goto out;
  }
  if ((rc = sdb__manifest_read(sdb__manifest_name(p, sizeof p, dir, mnum), mnum, &vs, NULL, &eb))) goto out;
  if (out) fprintf(out, "ok  %s (%zu live tables, wal %06" PRIu64 ".log)\n", p, vs.nfiles, vs.log_number);
  for (size_t i = 0; i < vs.nfiles; i++) /* D13: the tables of a level >= 1 are disjoint */
    for (size_t j = i + 1; j < vs.nfiles && vs.files[j].level == vs.files[i].level; j++) {
      const sdb_fmeta *a = &vs.files[i], *b = &vs.files[j];
      if (a->level == 0) break;
      if (sdb__ucmp(a->smallest.p, a->smallest.len - 8, b->largest.p, b->largest.len - 8) <= 0 &&
          sdb__ucmp(b->smallest.p, b->smallest.len - 8, a->largest.p, a->largest.len - 8) <= 0) {
        rc = sdb__err(&eb, SDB_ECORRUPT, "%s: level %d tables %06" PRIu64 ".sst and %06" PRIu64 ".sst overlap", p,
                      a->level, a->number, b->number);
        goto out;
      }
    }
  for (size_t i = 0; i < vs.nfiles; i++) {
    sdb_table *t;
    sdb_fmeta *f = &vs.files[i];
    if ((rc = sdb__table_open(sdb__sst_name(p, sizeof p, dir, f->number), f->number, f->size, &t, &eb))) goto out;
    rc = sdb__table_check(t, NULL, &first, &last, &eb);
    entries += t->entries;
    sdb__table_unref(t);
    if (rc) goto out;
    if (sdb__icmp(first.p, first.len, f->smallest.p, f->smallest.len) ||
        sdb__icmp(last.p, last.len, f->largest.p, f->largest.len)) {
      rc = sdb__err(&eb, SDB_ECORRUPT, "%s: key range differs from the MANIFEST's", p);
      goto out;
    }
    if (out) fprintf(out, "ok  %s (L%d, %" PRIu64 " bytes)\n", p, f->level, f->size);
  }
  if (vs.prev_log) {
    uint64_t pend = 0, psize = 0, precs = 0;
    if ((rc = sdb__wal_replay(sdb__log_name(p, sizeof p, dir, vs.prev_log), vs.prev_log, NULL, 1, NULL, &seq, &prev, &pend,
                         &precs, &psize, NULL, &eb)))
      goto out;
    if (psize > pend) {
      rc = sdb__err(&eb, SDB_ECORRUPT, "%s: damaged at offset %" PRIu64 ", but it was synced before WAL %06" PRIu64
                    " was started", p, pend, vs.log_number);
      goto out;
    }
    if (out) fprintf(out, "ok  %s (%" PRIu64 " records, pending flush)\n", p, precs);
  }
  if ((rc = sdb__wal_replay(sdb__log_name(p, sizeof p, dir, vs.log_number), vs.log_number, NULL, 1, NULL, &seq, &prev,
                       &end, &records, &size, NULL, &eb)))
    goto out;
  if (out) {
    fprintf(out, "ok  %s (%" PRIu64 " records)", p, records);
    if (size > end) fprintf(out, ", torn tail of %" PRIu64 " bytes at offset %" PRIu64 " (ignored)", size - end, end);
    fputc('\n', out);
  }
  snprintf(msg ? msg : p, msg ? msglen : sizeof p,
           "ok: %zu tables (%" PRIu64 " entries), wal with %" PRIu64 " records%s", vs.nfiles, entries, records,
           size > end ? ", torn tail ignored" : "");
  rc = 0;
out:
  if (rc && msg && msglen) snprintf(msg, msglen, "%s", eb.msg);
  sdb__buf_free(&first);
  sdb__buf_free(&last);
  sdb__vstate_free(&vs);
  if (lockfd >= 0) sdb__env->close(lockfd);
  return rc;
}

int sdb_check(const char *dir, char *msg, size_t msglen) {
  if (!dir) return SDB_EINVAL;
  return sdb__check_dir(dir, NULL, msg, msglen);
}

int sdb__dump_file(const char *path, FILE *out, char *msg, size_t msglen) {
  sdb_eb eb = {{0}};
  const char *base = strrchr(path, '/');
  uint64_t num, seq = 0, prev = 0, end = 0, records = 0, size = 0;
  int rc;
  base = base ? base + 1 : path;
  if (access(path, R_OK) < 0) {
    rc = sdb__ioerr(&eb, "open", path, -errno);
    if (msg && msglen) snprintf(msg, msglen, "%s", eb.msg);
    return rc;
  }
  switch (sdb__parse_name(base, &num)) {
    case SDB_F_MANIFEST: {
      sdb_vstate vs;
      rc = sdb__manifest_read(path, num, &vs, out, &eb);
      if (!rc) sdb__vstate_free(&vs);
      break;
    }
    case SDB_F_SST: {
      sdb_table *t;
      if (!(rc = sdb__table_open(path, num, 0, &t, &eb))) {
        rc = sdb__table_check(t, out, NULL, NULL, &eb);
        sdb__table_unref(t);
      }
      break;
    }
    case SDB_F_LOG:
      rc = sdb__wal_replay(path, num, NULL, 1, out, &seq, &prev, &end, &records, &size, NULL, &eb);
      break;
    default:
      rc = sdb__err(&eb, SDB_EINVAL, "%s: not a WAL (NNNNNN.log), table (NNNNNN.sst) or MANIFEST-NNNNNN", path);
  }
  if (rc && msg && msglen) snprintf(msg, msglen, "%s", eb.msg);
  return rc;
}
