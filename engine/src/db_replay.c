/*
 * db_replay.c - WAL replay at open: batches applied or collected into sorted
 * runs, and the recovery of an existing database (recover_db).
 */
#define _GNU_SOURCE
#include "db_int.h"
#include "env.h"
#include "recover.h"
#include "wal_format.h"

#include <errno.h>
#include <inttypes.h>

/* ---- applying batches ----------------------------------------------------------- */
/* Decodes ops and (if mem) inserts them with seq, seq+1, ... Returns 0, or
 * SDB_ECORRUPT if the ops are malformed, or SDB_ENOMEM. */
int sdb__apply_ops(sdb_mem *mem, const uint8_t *p, size_t n, uint64_t seq, uint32_t count, FILE *dump) {
  const uint8_t *end = p + n;
  uint32_t i = 0;
  char ks[128], vs[128];
  for (; p < end; i++) {
    uint64_t kn, vn;
    int type;
    const uint8_t *k, *v;
    if (sdb__op_next(&p, end, &type, &k, &kn, &v, &vn)) return SDB_ECORRUPT;
    if (mem && sdb__mem_add(mem, seq + i, type, k, (size_t)kn, v, (size_t)vn)) return SDB_ENOMEM;
    if (dump) {
      sdb__escape(k, (size_t)kn, ks, sizeof ks);
      if (type == SDB_TYPE_PUT) {
        sdb__escape(v, (size_t)vn, vs, sizeof vs);
        fprintf(dump, "  put %s (%" PRIu64 " bytes) %s\n", ks, vn, vs);
      } else {
        fprintf(dump, "  del %s\n", ks);
      }
    }
  }
  return i == count ? 0 : SDB_ECORRUPT;
}

/* ---- WAL replay --------------------------------------------------------------- */
static int wal_proves(void *arg, const uint8_t *rec, size_t n, uint64_t x) {
  return n >= SDB_WAL_REC_HDR && sdb__dec64(rec + 12) > x;
}

/* Recovery's sink for replayed batches (recover.h): ops are collected into a
 * run (its records copied, recover.c); a run that reaches memtable_bytes
 * (counted as key + value + SDB_RRUN_OP_OVERHEAD per op), and the last one,
 * is sorted and written as one table. The tables are fsynced (T1) but not
 * live until sdb__recover_db's MANIFEST names them. */
struct replay_ctx {
  sdb *db;
  sdb_mem *mem; /* read_only open (D22): batches go into this memtable, no table is written */
  sdb_rrun run;
  sdb_fmeta *out; /* tables written so far */
  size_t nout, capout;
};

#define RUN_WRITEBACK (4u << 20)

/* One table from the sorted run's output entries [from, to). Touches no
 * shared state but the run (read only): two may run at once. */
typedef struct build_job {
  const sdb_rrun *r;
  const sdb_options *opt;
  size_t from, to;
  char path[PATH_MAX];
  sdb_fmeta *f;
  uint64_t raw, zblocks;
  sdb_eb eb;
  int rc;
} build_job;

static int build_run_table(build_job *j) {
  static const uint8_t none[1];
  const sdb_rrun *r = j->r;
  sdb_tb tb;
  sdb_buf ik = {0};
  int rc;
  if ((rc = sdb__tb_open(&tb, j->path, j->opt->block_bytes, j->opt->block_restart_interval, &j->eb))) return rc;
  tb.bloom_bits = j->opt->bloom_bits_per_key;
  tb.compression = j->opt->compression;
  tb.zlevel = j->opt->compression_level;
  uint64_t wb = 0; /* bytes handed to early writeback */
  for (size_t i = j->from; i < j->to && !rc; i++) {
    const sdb_rop *o = &r->ops[r->ord[i].i];
    /* start writing what the builder has written back while it goes on, so
     * that the fsync at the end (T1) waits for the tail only; a hint */
    if (tb.off - tb.fbuf.len - wb >= RUN_WRITEBACK) {
      uint64_t upto = tb.off - tb.fbuf.len; /* handed to write() so far */
      sdb__env->writeback(tb.fd, (off_t)wb, (off_t)(upto - wb));
      wb = upto;
    }
    /* sorted order reads the run's copies at random: fetch ahead (the op
     * record far ahead, its key and value nearer) */
    if (i + 16 < j->to) __builtin_prefetch(&r->ops[r->ord[i + 16].i]);
    if (i + 8 < j->to) {
      const sdb_rop *a = &r->ops[r->ord[i + 8].i];
      __builtin_prefetch(a->k);
      if (a->v) __builtin_prefetch(a->v), __builtin_prefetch(a->v + a->vn - 1);
    }
    ik.len = 0;
    if (sdb__buf_add(&ik, o->k, o->kn) || sdb__buf_u64(&ik, o->tr))
      rc = sdb__err(&j->eb, SDB_ENOMEM, "recovery: out of memory");
    else
      rc = sdb__tb_add(&tb, ik.p, ik.len, o->v ? o->v : none, o->vn, &j->eb);
  }
  sdb__buf_free(&ik);
  if (!rc) rc = sdb__tb_finish(&tb, &j->f->size, &j->eb); /* T1 */
  j->raw = tb.raw_bytes, j->zblocks = tb.zblocks;
  if (!rc && (sdb__buf_set(&j->f->smallest, tb.smallest.p, tb.smallest.len) ||
              sdb__buf_set(&j->f->largest, tb.largest.p, tb.largest.len)))
    rc = sdb__err(&j->eb, SDB_ENOMEM, "recovery: out of memory");
  sdb__tb_free(&tb, rc != 0);
  return rc;
}

static void *build_main(void *arg) {
  build_job *j = arg;
  j->rc = build_run_table(j);
  return NULL;
}

/* Below this many output entries a run is one table, also in
 * non-deterministic mode. */
#define RUN_SPLIT_MIN 65536

/* Sorts the run and writes it as one level-0 table; in non-deterministic
 * mode a big run is written as two tables split between two user keys (so
 * disjoint), built by two threads at once (their syscalls interleave, which
 * deterministic mode must not). */
static int replay_write_run(replay_ctx *x) {
  sdb *db = x->db;
  sdb_rrun *r = &x->run;
  build_job jobs[2];
  pthread_t th;
  int nj, threaded = 0, rc = 0;
  if (!r->n) return 0;
  if (x->capout - x->nout < 2) {
    size_t cap = x->capout ? 2 * x->capout : 4;
    sdb_fmeta *n = realloc(x->out, cap * sizeof *n);
    if (!n) return sdb__err(&db->eb, SDB_ENOMEM, "recovery: out of memory");
    x->out = n, x->capout = cap;
  }
  if (sdb__rrun_sort(r)) return sdb__err(&db->eb, SDB_ENOMEM, "recovery: out of memory");
  nj = !db->opt.deterministic && r->nuniq >= RUN_SPLIT_MIN ? 2 : 1;
  for (int k = 0; k < nj; k++) {
    build_job *j = &jobs[k];
    memset(j, 0, sizeof *j);
    j->r = r;
    j->opt = &db->opt;
    j->from = r->nuniq * (size_t)k / (size_t)nj;
    j->to = r->nuniq * (size_t)(k + 1) / (size_t)nj;
    j->f = &x->out[x->nout + (size_t)k];
    memset(j->f, 0, sizeof *j->f);
    j->f->level = 0;
    j->f->number = db->vs.next_file++;
    sdb__sst_name(j->path, sizeof j->path, db->dir, j->f->number);
  }
  if (nj == 2) threaded = !pthread_create(&th, NULL, build_main, &jobs[1]);
  jobs[0].rc = build_run_table(&jobs[0]);
  if (nj == 2 && !threaded) jobs[1].rc = build_run_table(&jobs[1]);
  if (threaded) pthread_join(th, NULL);
  for (int k = 0; k < nj; k++) {
    db->blocks_raw += jobs[k].raw, db->blocks_zlib += jobs[k].zblocks;
    if (jobs[k].rc && !rc) {
      rc = jobs[k].rc;
      memcpy(db->eb.msg, jobs[k].eb.msg, sizeof db->eb.msg);
    }
  }
  for (int k = 0; k < nj; k++) {
    if (rc) { /* a failed job unlinked its own file; the others go too */
      if (!jobs[k].rc) sdb__env->unlink(jobs[k].path);
      sdb__buf_free(&jobs[k].f->smallest);
      sdb__buf_free(&jobs[k].f->largest);
    }
  }
  if (rc) return rc;
  x->nout += (size_t)nj;
  sdb__rrun_clear(r);
  return 0;
}

/* A batch's sequence numbers (docs/format/wal.md "Sequence numbers"): op i
 * has seq + i, all within 1..SDB_MAX_SEQ (the trailer keeps 56 bits), and
 * each batch starts after the last sequence number of the batch before it
 * (*prev; the same run goes on from PREV_LOG into LOG_NUMBER). A close
 * marker (no ops, D19) carries last_seq + 1. 0 or SDB_ECORRUPT naming file
 * and offset. */
static int check_seq(const char *path, uint64_t off, uint64_t seq, uint32_t count, uint64_t prev, sdb_eb *eb) {
  uint64_t span = count ? count : 1; /* a marker's seq may be SDB_MAX_SEQ + 1 */
  uint64_t top = count ? SDB_MAX_SEQ : SDB_MAX_SEQ + 1;
  if (seq == 0 || seq > top || span - 1 > top - seq)
    return sdb__err(eb, SDB_ECORRUPT,
                    "%s: offset %" PRIu64 ": batch of %u ops at sequence number %" PRIu64
                    " is outside the sequence space 1..%" PRIu64,
                    path, off, count, seq, SDB_MAX_SEQ);
  if (seq <= prev)
    return sdb__err(eb, SDB_ECORRUPT,
                    "%s: offset %" PRIu64 ": batch at sequence number %" PRIu64
                    " does not follow the previous batch, which ended at %" PRIu64,
                    path, off, seq, prev);
  return 0;
}

/* Replays (ctx: into recovery's runs and tables) or checks (ctx NULL; with
 * dump, prints) the WAL at path. The reader streams the file; each record is
 * copied into the run (recover.c), so memory follows the run, never the
 * WAL's size. *end gets the end of the last intact record (0 if not even the
 * header is intact); *prev is the last sequence number of the batches before
 * (check_seq), updated. */
int sdb__wal_replay(const char *path, uint64_t number, replay_ctx *ctx, int paranoid, FILE *dump,
                      uint64_t *last_seq, uint64_t *prev, uint64_t *end, uint64_t *records, uint64_t *size,
                      uint64_t *skipped, sdb_eb *eb) {
  sdb_logr r;
  const uint8_t *rec;
  size_t n;
  uint64_t num;
  int rc, got, i;
  if ((rc = sdb__logr_open(&r, path, wal_proves, NULL, paranoid, eb))) {
    if (r.open_errno == ENOENT) rc = sdb__err(eb, SDB_ECORRUPT, "%s: the live WAL named by the MANIFEST is missing", path);
    return rc;
  }
  if (dump) fprintf(dump, "wal %s: %" PRIu64 " bytes\n", path, r.size);
  for (i = 0; (got = sdb__logr_next(&r, &rec, &n, eb)) == 1; i++) {
    if (i == 0) {
      if ((rc = sdb__log_check_header(path, rec, n, SDB_WAL_MAGIC, &num, eb))) goto out;
      if (number && num != number) {
        rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset 0: header names file %" PRIu64, path, num);
        goto out;
      }
      if (dump) fprintf(dump, "@0 header: magic %.8s version %d file %" PRIu64 "\n", rec, SDB_LOG_VERSION, num);
      continue;
    }
    if (n < SDB_WAL_REC_HDR) {
      rc = sdb__err(eb, SDB_ECORRUPT, "%s: offset %" PRIu64 ": record too short (%zu bytes)", path, r.rec_off, n);
      goto out;
    }
    uint64_t seq = sdb__dec64(rec);
    uint32_t count = sdb__dec32(rec + 8);
    if (dump)
      fprintf(dump, "@%" PRIu64 " batch seq %" PRIu64 " count %u synced_upto %" PRIu64 "\n", r.rec_off, seq, count,
              sdb__dec64(rec + 12));
    if ((rc = check_seq(path, r.rec_off, seq, count, *prev, eb))) goto out;
    if (ctx && ctx->mem)
      rc = sdb__apply_ops(ctx->mem, rec + SDB_WAL_REC_HDR, n - SDB_WAL_REC_HDR, seq, count, NULL);
    else if (ctx)
      rc = sdb__rrun_add(&ctx->run, rec + SDB_WAL_REC_HDR, n - SDB_WAL_REC_HDR, seq, count);
    else
      rc = sdb__apply_ops(NULL, rec + SDB_WAL_REC_HDR, n - SDB_WAL_REC_HDR, seq, count, dump);
    if (rc == SDB_ECORRUPT) rc = sdb__err(eb, rc, "%s: offset %" PRIu64 ": malformed batch", path, r.rec_off);
    if (rc == SDB_ENOMEM) rc = sdb__err(eb, rc, "%s: replay: out of memory", path);
    if (!rc && ctx && ctx->run.bytes >= ctx->db->opt.memtable_bytes) rc = replay_write_run(ctx);
    if (rc) goto out;
    if (count) *prev = seq + count - 1;
    if (count && seq + count - 1 > *last_seq) *last_seq = seq + count - 1;
    if (count) (*records)++; /* a close marker (D19) holds no ops */
  }
  if (got < 0) {
    rc = got;
    goto out;
  }
  if (dump && r.tail_off < r.size)
    fprintf(dump, "@%" PRIu64 " torn tail (%s): %" PRIu64 " bytes ignored\n", r.tail_off, r.tail_why, r.size - r.tail_off);
  if (dump && r.zeroed) fprintf(dump, "@%" PRIu64 " end: %" PRIu64 " bytes of preallocated zeros\n", r.size, r.zeroed);
  if (dump && r.skipped) fprintf(dump, "%" PRIu64 " corrupt bytes skipped (paranoid_checks off)\n", r.skipped);
  if (ctx && (rc = replay_write_run(ctx))) goto out; /* the last run */
  *end = i == 0 ? 0 : r.valid_end;
  *size = r.size;
  if (skipped) *skipped = r.skipped;
  rc = 0;
out:
  sdb__logr_close(&r);
  return rc;
}

static int open_tables(sdb *db) {
  size_t n = 0;
  int rc = 0;
  sdb_table **ts = calloc(db->vs.nfiles + 1, sizeof *ts);
  int *lv = calloc(db->vs.nfiles + 1, sizeof *lv);
  if (!ts || !lv) {
    rc = sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
    goto out;
  }
  for (; n < db->vs.nfiles; n++) {
    if ((rc = sdb__open_live_table(db, &db->vs.files[n], &ts[n]))) goto out;
    lv[n] = db->vs.files[n].level;
  }
  if (!(db->ver = sdb__ver_edit(NULL, NULL, 0, ts, lv, n))) rc = sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
out:
  for (size_t i = 0; ts && i < n; i++) sdb__table_unref(ts[i]);
  free(ts);
  free(lv);
  return rc;
}

/* Replays PREV_LOG (D20: the WAL of a memtable whose background flush had
 * not finished), then LOG_NUMBER, into x; sets last_seq (D8) and the
 * recovery counters. */
static int replay_wals(sdb *db, replay_ctx *x) {
  char p[PATH_MAX];
  uint64_t end = 0, size = 0, seq = db->vs.last_seq, prev = 0, skipped = 0;
  int rc;
  if (db->vs.prev_log) {
    uint64_t pend = 0, psize = 0, precs = 0;
    sdb__log_name(p, sizeof p, db->dir, db->vs.prev_log);
    if ((rc = sdb__wal_replay(p, db->vs.prev_log, x, db->opt.paranoid_checks, NULL, &seq, &prev, &pend, &precs,
                              &psize, &db->rec_skipped, &db->eb)))
      return rc;
    if (psize > pend) /* it was fdatasynced before the newer WAL was named: damage, not a torn tail */
      return sdb__err(&db->eb, SDB_ECORRUPT,
                      "%s: damaged at offset %" PRIu64 ", but it was synced before WAL %06" PRIu64 " was started", p,
                      pend, db->vs.log_number);
    db->rec_records += precs;
    db->rec_bytes += pend;
    db->rec_files++;
  }
  sdb__log_name(p, sizeof p, db->dir, db->vs.log_number);
  if ((rc = sdb__wal_replay(p, db->vs.log_number, x, db->opt.paranoid_checks, NULL, &seq, &prev, &end,
                            &db->rec_records, &size, &skipped, &db->eb)))
    return rc;
  db->rec_skipped += skipped;
  db->rec_files++;
  db->last_seq = seq; /* D8 */
  db->rec_bytes += end;
  if (size > end) db->rec_truncated = size - end;
  return 0;
}

/* After the MANIFEST that names them is current: the recovered tables are
 * opened into a new version and compacted, inline (the background thread
 * starts after open). */
static int install_recovered(sdb *db, const replay_ctx *x) {
  sdb_table **ts = NULL;
  int *lv = NULL, rc;
  size_t nts = 0;
  sdb_version *v;
  if (!(ts = calloc(x->nout, sizeof *ts)) || !(lv = calloc(x->nout, sizeof *lv))) {
    rc = sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
    goto out;
  }
  for (; nts < x->nout; nts++) {
    sdb_fmeta *f = &x->out[nts];
    if ((rc = sdb__open_live_table(db, f, &ts[nts]))) goto out;
    lv[nts] = f->level;
    db->flushes++;
    db->flush_bytes += f->size;
    db->level_written[f->level] += f->size;
  }
  if (!(v = sdb__ver_edit(db->ver, NULL, 0, ts, lv, nts))) {
    rc = sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
    goto out;
  }
  sdb__ver_unref(db->ver);
  db->ver = v;
  rc = sdb__compact_locked(db);
out:
  for (size_t i = 0; i < nts; i++) sdb__table_unref(ts[i]);
  free(ts);
  free(lv);
  return rc;
}

/* Opens the database MANIFEST-mnum describes: its tables, then its WALs
 * replayed into fresh tables that one new MANIFEST makes live with a fresh
 * WAL (D7); read_only: into db->mem, writing nothing (D22). maxnum: the
 * largest file number in the directory. */
int sdb__recover_db(sdb *db, uint64_t mnum, uint64_t maxnum) {
  char p[PATH_MAX];
  replay_ctx x = {.db = db, .mem = db->opt.read_only ? db->mem : NULL};
  int rc, published = 0;
  if ((rc = sdb__manifest_read(sdb__manifest_name(p, sizeof p, db->dir, mnum), mnum, &db->vs, NULL, &db->eb))) return rc;
  if (db->vs.next_file <= maxnum) db->vs.next_file = maxnum + 1;
  if ((rc = open_tables(db))) return rc;
  if ((rc = replay_wals(db, &x))) goto out;
  if (db->opt.read_only) { /* D22: the WALs are in db->mem; nothing is written */
    db->man_number = mnum;
    goto out;
  }
  /* D7: what was recovered is now in fresh tables (x.out, written and fsynced:
   * T1). The old WAL is never appended to, nor fsynced: a failed fsync may
   * have dropped even its header, and records appended after it would then
   * "prove" that damage synced. A fresh WAL (even when nothing was recovered)
   * and the tables become live together when the new MANIFEST does; the old
   * WAL is deleted after that (D6). A crash before leaves the old MANIFEST
   * and WAL live, and the new files unnamed (deleted by the next open). */
  db->vs.log_number = db->vs.next_file++;
  db->vs.prev_log = 0; /* D20: its records are in x.out too; open deletes it (D6) */
  if ((rc = sdb__logw_create(&db->wal, sdb__log_name(p, sizeof p, db->dir, db->vs.log_number), SDB_WAL_MAGIC,
                             db->vs.log_number, &db->eb)) ||
      (rc = sdb__logw_prealloc(&db->wal, db->opt.wal_prealloc_bytes, &db->eb)))
    goto out;
  db->wal_synced = 0;
  if (x.nout && (rc = sdb__fsync_dir(db->dir))) { /* D4: the tables' entries before a MANIFEST names them */
    rc = sdb__ioerr(&db->eb, "fsync directory", db->dir, rc);
    goto out;
  }
  for (size_t i = 0; i < x.nout; i++)
    if (sdb__vstate_add(&db->vs, &x.out[i])) {
      rc = sdb__err(&db->eb, SDB_ENOMEM, "open: out of memory");
      goto out;
    }
  db->vs.last_seq = db->last_seq;
  published = 1; /* from here on the new files may be live: never unlink them */
  if ((rc = sdb__publish_manifest(db))) goto out; /* its directory fsync covers the new WAL's entry (D3) */
  if (x.nout) rc = install_recovered(db, &x);
out:
  for (size_t i = 0; i < x.nout; i++) {
    if (rc && !published) sdb__env->unlink(sdb__sst_name(p, sizeof p, db->dir, x.out[i].number));
    sdb__buf_free(&x.out[i].smallest);
    sdb__buf_free(&x.out[i].largest);
  }
  free(x.out);
  sdb__rrun_free(&x.run);
  return rc;
}
