/*
 * oplog_test.c — the op log: a written log reads back op for op; a torn tail (the file cut at
 * every byte of its last record) reads back every complete record; a bad record followed by
 * more data is corruption; bad magic and unknown versions are refused; the reference map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <xxhash.h>

#include "workloads.h"

#include <xxhash.h>

static char path[256];

static int setup(void **st) {
  snprintf(path, sizeof(path), "/tmp/wl_oplog_test.%d.log", (int)getpid());
  return 0;
}
static int teardown(void **st) {
  unlink(path);
  return 0;
}

static size_t file_size(void) {
  struct stat s;
  assert_int_equal(stat(path, &s), 0);
  return (size_t)s.st_size;
}

static uint8_t *slurp(size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  *len = file_size();
  uint8_t *b = malloc(*len + 1);
  assert_int_equal(fread(b, 1, *len, f), *len);
  fclose(f);
  return b;
}

static void assert_same_op(const wl_op *a, const wl_op *b) {
  assert_int_equal(a->idx, b->idx);
  assert_int_equal(a->kind, b->kind);
  assert_int_equal(!!a->sync, !!b->sync);
  assert_int_equal(a->klen, b->klen);
  if (a->klen) assert_memory_equal(a->key, b->key, a->klen);
  assert_int_equal(a->vlen, b->vlen);
  if (a->vlen) assert_memory_equal(a->val, b->val, a->vlen);
  assert_int_equal(a->elen, b->elen);
  if (a->elen) assert_memory_equal(a->end, b->end, a->elen);
  assert_int_equal(a->nsub, b->nsub);
  for (uint32_t s = 0; s < a->nsub; s++) {
    assert_int_equal(a->sub[s].kind, b->sub[s].kind);
    assert_int_equal(a->sub[s].klen, b->sub[s].klen);
    assert_memory_equal(a->sub[s].key, b->sub[s].key, a->sub[s].klen);
    assert_int_equal(a->sub[s].vlen, b->sub[s].vlen);
    if (a->sub[s].vlen) assert_memory_equal(a->sub[s].val, b->sub[s].val, a->sub[s].vlen);
  }
}

/* Write a generated workload with outcomes; keep an in-memory copy to compare. */
static wl_log *write_log(const char *specstr, uint64_t seed, size_t *sizes /* after each op */) {
  wl_params p;
  wl_gen *g;
  wl_op op;
  wl_log *mem;
  wl_oplog_writer *w;
  char err[256];
  assert_int_equal(wl_spec_parse(specstr, &p, err, sizeof(err)), 0);
  p.caps = WL_CAP_DELRANGE;
  assert_int_equal(wl_gen_create(&p, seed, &g), 0);
  assert_int_equal(wl_log_new(&mem), 0);
  assert_int_equal(wl_oplog_open_writer(path, "case 1", &w, err, sizeof(err)), 0);
  while (wl_gen_next(g, &op) == 1) {
    assert_int_equal(wl_oplog_append_issued(w, op.idx, &op), 0);
    wl_outcome o = op.idx % 7 == 3 ? WL_OUT_FAILED : WL_OUT_ACKED;
    int last = op.idx + 1 == p.ops;
    if (last) o = WL_OUT_UNKNOWN; /* in flight at the crash: no outcome record */
    assert_int_equal(wl_log_append(mem, &op, o, o == WL_OUT_FAILED ? -5 : 0), 0);
    if (!last) {
      wl_get_result gr = op.kind == WL_GET ? (op.idx % 2 ? WL_GET_MATCH : WL_GET_MISMATCH) : WL_GET_NA;
      mem->ops[op.idx].get = gr;
      assert_int_equal(wl_oplog_append_outcome(w, op.idx, o, o == WL_OUT_FAILED ? -5 : 0, gr), 0);
    }
    if (sizes) sizes[op.idx] = file_size();
  }
  assert_int_equal(wl_oplog_close(w), 0);
  wl_gen_destroy(g);
  return mem;
}

static void written_log_reads_back_op_for_op(void **st) {
  wl_log *mem = write_log("mixed:ops=3000,delrange=0.02,value_size=0..600", 4, NULL), *rd;
  char err[256];
  assert_int_equal(wl_oplog_read(path, &rd, err, sizeof(err)), 0);
  assert_string_equal(rd->meta, "case 1");
  assert_int_equal(rd->torn_bytes, 0);
  assert_int_equal(rd->n, mem->n);
  for (size_t i = 0; i < rd->n; i++) {
    assert_same_op(&mem->ops[i].op, &rd->ops[i].op);
    assert_int_equal(mem->ops[i].outcome, rd->ops[i].outcome);
    assert_int_equal(mem->ops[i].code, rd->ops[i].code);
    assert_int_equal(mem->ops[i].code_table, rd->ops[i].code_table);
    if (rd->ops[i].outcome == WL_OUT_FAILED) assert_int_equal(rd->ops[i].code_table, WL_CODE_ERRNO);
    assert_int_equal(mem->ops[i].get, rd->ops[i].get);
  }
  assert_int_equal(rd->ops[rd->n - 1].outcome, WL_OUT_UNKNOWN);
  FILE *f = fopen("/dev/null", "w");
  assert_int_equal(wl_log_print(rd, f), 0);
  fclose(f);
  wl_log_free(mem);
  wl_log_free(rd);
}

static void torn_tail_at_every_byte_keeps_every_complete_record(void **st) {
  /* the last op is a batch with big values, written last: cut inside it at every byte */
  size_t sizes[40];
  wl_log *mem = write_log("batch:ops=40,value_size=200..400,get=0,barrier=0,batch_ratio=1", 2, sizes), *rd;
  size_t len;
  uint8_t *img = slurp(&len);
  char err[256];
  size_t start = sizes[38]; /* the file before the last ISSUED record */
  assert_true(len > start + 100);
  for (size_t cut = start; cut < len; cut++) {
    int rc = wl_oplog_parse(img, cut, &rd, err, sizeof(err));
    if (rc) fail_msg("cut at %zu: %s", cut, err);
    assert_int_equal(rd->n, 39);
    assert_int_equal(rd->torn_bytes, cut - start);
    for (size_t i = 0; i < 39; i++) {
      assert_same_op(&mem->ops[i].op, &rd->ops[i].op);
      assert_int_equal(mem->ops[i].outcome, rd->ops[i].outcome);
    }
    wl_log_free(rd);
  }
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), 0);
  assert_int_equal(rd->n, 40);
  wl_log_free(rd);
  /* a torn OUTCOME record: the op is issued, its outcome unknown */
  start = sizes[37] - 32; /* an OUTCOME record is 16 + 16 bytes */
  for (size_t cut = start + 1; cut < sizes[37]; cut++) {
    assert_int_equal(wl_oplog_parse(img, cut, &rd, err, sizeof(err)), 0);
    assert_int_equal(rd->n, 38);
    assert_int_equal(rd->ops[37].outcome, WL_OUT_UNKNOWN);
    assert_int_equal(rd->ops[36].outcome, mem->ops[36].outcome);
    wl_log_free(rd);
  }
  /* the header itself torn: an empty log */
  for (size_t cut = 0; cut < 16; cut++) {
    assert_int_equal(wl_oplog_parse(img, cut, &rd, err, sizeof(err)), 0);
    assert_int_equal(rd->n, 0);
    wl_log_free(rd);
  }
  free(img);
  wl_log_free(mem);
}

static void bad_record_followed_by_more_data_is_corruption(void **st) {
  size_t sizes[40];
  wl_log *mem = write_log("mixed:ops=40", 3, sizes), *rd;
  size_t len;
  uint8_t *img = slurp(&len);
  char err[256];
  img[sizes[10] + 20] ^= 1; /* inside op 11's ISSUED record */
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), WL_ECORRUPT);
  assert_non_null(strstr(err, "bad checksum"));
  assert_non_null(strstr(err, "offset"));
  img[sizes[10] + 20] ^= 1;
  /* the very last record damaged: a torn tail, not corruption */
  img[len - 1] ^= 1;
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), 0);
  assert_int_equal(rd->n, 39);
  assert_true(rd->torn_bytes > 0);
  wl_log_free(rd);
  img[len - 1] ^= 1;
  /* not an op log; a future version */
  img[0] = 'X';
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), WL_ECORRUPT);
  assert_non_null(strstr(err, "magic"));
  img[0] = 'p';
  img[8] = 9;
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), WL_EVERSION);
  free(img);
  wl_log_free(mem);
  assert_int_equal(wl_oplog_read("/nonexistent/x.log", &rd, err, sizeof(err)), WL_EIO);
  assert_non_null(strstr(err, "/nonexistent/x.log"));
}

static uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* Version 2 OUTCOME records name the table of their code; a version 1 log (no table: its
 * codes came from tables that overlapped) still reads, with the table unknown. */
static void version_1_log_still_reads_with_its_codes_table_unknown(void **st) {
  wl_log *rd;
  size_t len = 0, nfailed = 0;
  char err[256], out[16384];
  FILE *in = fopen(PC_WL_TEST_DATA "/oplog-v1-mixed30", "rb");
  assert_non_null(in);
  uint8_t *img = malloc(1 << 20);
  assert_non_null(img);
  len = fread(img, 1, 1 << 20, in);
  fclose(in);
  assert_int_equal(img[8], 1);
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), 0);
  for (size_t i = 0; i < rd->n; i++) {
    assert_int_equal(rd->ops[i].code_table, WL_CODE_UNKNOWN);
    nfailed += rd->ops[i].outcome == WL_OUT_FAILED;
  }
  assert_true(nfailed > 0);
  FILE *f = fmemopen(out, sizeof(out), "w");
  assert_int_equal(wl_log_print(rd, f), 0);
  fclose(f);
  assert_non_null(strstr(out, "table unknown)"));
  wl_log_free(rd);
  /* the same records as version 2 (OUTCOME bytes 10..11: the code's table; no sequence):
     * a FAILED outcome without a table is corruption, with one it reads back */
  img[8] = 2;
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), WL_ECORRUPT);
  assert_non_null(strstr(err, "inconsistent record"));
  for (size_t off = 16; off + 16 <= len;) {
    uint32_t plen = (uint32_t)le64(img + off) & 0xffffffffu;
    uint8_t *pl = img + off + 16;
    if (img[off + 4] == 3 && pl[8] == WL_OUT_FAILED) {
      pl[10] = (uint8_t)WL_CODE_POWERCUT, pl[11] = 0;
      uint64_t c = XXH3_64bits_withSeed(pl, plen, le64(img + off));
      for (int i = 0; i < 8; i++) img[off + 8 + i] = (uint8_t)(c >> (8 * i));
    }
    off += 16 + plen;
  }
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), 0);
  assert_int_equal(rd->version, 2);
  for (size_t i = 0; i < rd->n; i++)
    if (rd->ops[i].outcome == WL_OUT_FAILED) assert_int_equal(rd->ops[i].code_table, WL_CODE_POWERCUT);
  wl_log_free(rd);
  free(img);
}

static void failed_code_records_the_table_it_comes_from(void **st) {
  static const struct {
    int code;
    wl_code_table t;
    const char *name;
  } cases[] = {
      {-5, WL_CODE_ERRNO, "errno"},          {-1003, WL_CODE_SOFADB, "sofadb"},
      {-2001, WL_CODE_FAULTFS, "faultfs"},   {WL_EIO, WL_CODE_WORKLOADS, "workloads"},
      {-4002, WL_CODE_ORACLE, "oracle"},     {-5001, WL_CODE_REPORTS, "reports"},
      {-6007, WL_CODE_POWERCUT, "powercut"}, {-7000, WL_CODE_OUT_OF_RANGE, "no table"},
  };
  wl_oplog_writer *w;
  wl_log *rd;
  wl_op op;
  char err[256];
  memset(&op, 0, sizeof(op));
  op.kind = WL_SYNC;
  assert_int_equal(wl_oplog_open_writer(path, "tables", &w, err, sizeof(err)), 0);
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    op.idx = i;
    assert_int_equal(wl_oplog_append_issued(w, i, &op), 0);
    assert_int_equal(wl_oplog_append_outcome(w, i, WL_OUT_FAILED, cases[i].code, WL_GET_NA), 0);
  }
  assert_int_equal(wl_oplog_close(w), 0);
  assert_int_equal(wl_oplog_read(path, &rd, err, sizeof(err)), 0);
  assert_int_equal(rd->version, 5);
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    assert_int_equal(rd->ops[i].code, cases[i].code);
    assert_int_equal(rd->ops[i].code_table, cases[i].t);
    assert_string_equal(wl_code_table_name(rd->ops[i].code_table), cases[i].name);
  }
  wl_log_free(rd);
}

/* Decoder robustness: random damage (bit flips, overwritten bytes, cuts) either parses to a
 * prefix-consistent log or is refused with a corruption/version error; never anything else. Run
 * under ASan this is the decoder's fuzz test. */
static void random_damage_is_refused_or_read_consistently(void **st) {
  wl_log *mem = write_log("batch:ops=60,value_size=0..80,batch=4", 5, NULL), *rd;
  size_t len;
  uint8_t *img = slurp(&len), *copy = malloc(len);
  char err[256];
  uint64_t x = 88172645463325252ull;
  unsigned ok = 0, refused = 0;
  for (int iter = 0; iter < 20000; iter++) {
    memcpy(copy, img, len);
    int nflips = 1 + (int)(iter % 4);
    for (int f = 0; f < nflips; f++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      copy[x % len] ^= (uint8_t)(1u << ((x >> 32) % 8));
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    size_t cut = iter % 3 ? len : x % (len + 1);
    int rc = wl_oplog_parse(copy, cut, &rd, err, sizeof(err));
    if (rc == 0) {
      /* whatever was read is an exact prefix of what was written */
      assert_true(rd->n <= mem->n);
      for (size_t i = 0; i < rd->n; i++) assert_same_op(&mem->ops[i].op, &rd->ops[i].op);
      wl_log_free(rd);
      ok++;
    } else {
      assert_true(rc == WL_ECORRUPT || rc == WL_EVERSION);
      assert_true(err[0] != 0);
      refused++;
    }
  }
  print_message("random damage: %u read as a prefix, %u refused\n", ok, refused);
  assert_true(ok > 0 && refused > 0);
  free(copy);
  free(img);
  wl_log_free(mem);
}

/* A version 1 log (one driver thread; written by the previous writer: mixed:ops=30, seed 7,
 * op i%4==3 without outcome, i%7==6 FAILED) still reads: same ops, outcomes, and a sequence
 * derived from the order of its records in which no op overlaps another. */
static void version_1_log_still_reads(void **st) {
  wl_log *rd;
  wl_params p;
  wl_gen *g;
  wl_op op;
  char err[256];
  assert_int_equal(wl_oplog_read(PC_WL_TEST_DATA "/oplog-v1-mixed30", &rd, err, sizeof(err)), 0);
  assert_int_equal(rd->version, 1);
  assert_string_equal(rd->meta, "mixed:ops=30");
  assert_int_equal(rd->n, 30);
  assert_int_equal(wl_spec_parse("mixed:ops=30", &p, err, sizeof(err)), 0);
  assert_int_equal(wl_gen_create(&p, 7, &g), 0);
  for (size_t i = 0; wl_gen_next(g, &op) == 1; i++) {
    const wl_logop *lo = &rd->ops[i];
    assert_same_op(&op, &lo->op);
    assert_int_equal(lo->outcome, i % 4 == 3 ? WL_OUT_UNKNOWN : i % 7 == 6 ? WL_OUT_FAILED : WL_OUT_ACKED);
    assert_int_equal(lo->thread, 0);
    assert_true(lo->ack_seq > lo->inv_seq && lo->ack_seq != WL_SEQ_NONE);
    if (i) assert_true(lo->inv_seq > rd->ops[i - 1].ack_seq);
  }
  assert_int_equal(wl_log_concurrent(rd), 0);
  wl_gen_destroy(g);
  wl_log_free(rd);
}

/* The sequence numbers come back; thread ids too; a sequence number that goes
 * backwards is corruption. */
static void version_3_records_carry_the_sequence(void **st) {
  wl_oplog_writer *w;
  wl_log *rd;
  wl_op op = {0};
  char err[256];
  op.kind = WL_PUT;
  op.key = (const uint8_t *)"k";
  op.klen = 1;
  op.val = (const uint8_t *)"v";
  op.vlen = 1;
  assert_int_equal(wl_oplog_open_writer(path, "", &w, err, sizeof(err)), 0);
  op.idx = 0;
  assert_int_equal(wl_oplog_append_issued_by(w, 0, &op, 0), 0);
  op.idx = 1;
  assert_int_equal(wl_oplog_append_issued_by(w, 1, &op, 3), 0);
  assert_int_equal(wl_oplog_append_outcome(w, 1, WL_OUT_ACKED, 0, WL_GET_NA), 0);
  assert_int_equal(wl_oplog_append_outcome(w, 0, WL_OUT_FAILED, -5, WL_GET_NA), 0);
  op.idx = 2;
  assert_int_equal(wl_oplog_append_issued_by(w, 2, &op, 1), 0);
  assert_int_equal(wl_oplog_append_issued_by(w, 3, &op, 1), WL_EINVAL);     /* op.idx != 3 */
  assert_int_equal(wl_oplog_append_issued_by(w, 2, &op, 70000), WL_EINVAL); /* thread > 65535 */
  assert_int_equal(wl_oplog_close(w), 0);
  assert_int_equal(wl_oplog_read(path, &rd, err, sizeof(err)), 0);
  assert_int_equal(rd->version, 5);
  assert_int_equal(rd->n, 3);
  assert_int_equal(rd->ops[0].inv_seq, 0);
  assert_int_equal(rd->ops[0].ack_seq, 3);
  assert_int_equal(rd->ops[1].inv_seq, 1);
  assert_int_equal(rd->ops[1].ack_seq, 2);
  assert_int_equal(rd->ops[2].inv_seq, 4);
  assert_true(rd->ops[2].ack_seq == WL_SEQ_NONE);
  assert_int_equal(rd->ops[1].thread, 3);
  assert_int_equal(rd->ops[0].outcome, WL_OUT_FAILED);
  assert_int_equal(wl_log_concurrent(rd), 1);
  wl_log_free(rd);
  /* rewrite op 2's seq (the last record: payload bytes 16..23) to 1 and reseal it */
  size_t len;
  uint8_t *img = slurp(&len);
  size_t last = len - 16 - (40 + 12 + 1 + 1); /* version 4+ ISSUED: 40-byte header, one entry */
  memset(img + last + 16 + 16, 0, 8);
  img[last + 16 + 16] = 1;
  uint64_t seed = 0;
  for (int i = 0; i < 8; i++) seed |= (uint64_t)img[last + i] << (8 * i);
  uint64_t sum = XXH3_64bits_withSeed(img + last + 16, len - last - 16, seed);
  for (int i = 0; i < 8; i++) img[last + 8 + i] = (uint8_t)(sum >> (8 * i));
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), WL_ECORRUPT);
  assert_non_null(strstr(err, "inconsistent record"));
  free(img);
}

/* Version 5: CLOSE and OPEN are ops of their own (no entries, no ref) and read back; a
 * version 4 log (the same layout) still reads, but one naming a kind version 4 does not
 * know is corruption. */
static void version_5_close_and_open_read_back_and_version_4_refuses_them(void **st) {
  wl_oplog_writer *w;
  wl_log *rd;
  wl_op op = {0};
  char err[256];
  static const wl_kind kinds[] = {WL_PUT, WL_CLOSE, WL_OPEN, WL_PUT};
  assert_int_equal(wl_oplog_open_writer(path, "close", &w, err, sizeof(err)), 0);
  for (uint64_t i = 0; i < 4; i++) {
    op = (wl_op){.idx = i, .kind = kinds[i], .ref = WL_REF_NONE};
    if (kinds[i] == WL_PUT) op.key = (const uint8_t *)"k", op.klen = 1, op.val = (const uint8_t *)"v", op.vlen = 1;
    assert_int_equal(wl_oplog_append_issued(w, i, &op), 0);
    if (i < 3)
      assert_int_equal(wl_oplog_append_outcome(w, i, i == 2 ? WL_OUT_FAILED : WL_OUT_ACKED, i == 2 ? -5 : 0, WL_GET_NA),
                       0);
  }
  assert_int_equal(wl_oplog_close(w), 0);
  assert_int_equal(wl_oplog_read(path, &rd, err, sizeof(err)), 0);
  assert_int_equal(rd->version, 5);
  assert_int_equal(rd->n, 4);
  for (size_t i = 0; i < 4; i++) assert_int_equal(rd->ops[i].op.kind, kinds[i]);
  assert_int_equal(rd->ops[1].outcome, WL_OUT_ACKED);
  assert_int_equal(rd->ops[2].outcome, WL_OUT_FAILED);
  assert_int_equal(rd->ops[3].outcome, WL_OUT_UNKNOWN);
  assert_int_equal(rd->ops[1].op.nsub, 0);
  assert_string_equal(wl_kind_name(rd->ops[1].op.kind), "CLOSE");
  assert_string_equal(wl_kind_name(rd->ops[2].op.kind), "OPEN");
  wl_log_free(rd);
  size_t len;
  uint8_t *img = slurp(&len);
  img[8] = 4; /* the file header's version */
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), WL_ECORRUPT);
  free(img);
  /* the same layout without the new kinds is a version 4 log, read as before */
  assert_int_equal(wl_oplog_open_writer(path, "v4", &w, err, sizeof(err)), 0);
  op = (wl_op){.idx = 0, .kind = WL_SYNC, .ref = WL_REF_NONE};
  assert_int_equal(wl_oplog_append_issued(w, 0, &op), 0);
  assert_int_equal(wl_oplog_append_outcome(w, 0, WL_OUT_ACKED, 0, WL_GET_NA), 0);
  assert_int_equal(wl_oplog_close(w), 0);
  img = slurp(&len);
  img[8] = 4;
  assert_int_equal(wl_oplog_parse(img, len, &rd, err, sizeof(err)), 0);
  assert_int_equal(rd->version, 4);
  assert_int_equal(rd->ops[0].op.kind, WL_SYNC);
  wl_log_free(rd);
  free(img);
}

static void reference_map_put_get_delete_range(void **st) {
  wl_ref *r;
  const uint8_t *v;
  size_t vl;
  char k[16];
  assert_int_equal(wl_ref_create(&r), 0);
  for (int i = 0; i < 1000; i++) {
    snprintf(k, sizeof(k), "k%04d", i);
    assert_int_equal(wl_ref_put(r, (uint8_t *)k, 5, (uint8_t *)k, (size_t)(i % 5)), 0);
  }
  assert_int_equal(wl_ref_count(r), 1000);
  assert_int_equal(wl_ref_put(r, (uint8_t *)"k0007", 5, (uint8_t *)"new", 3), 0);
  assert_int_equal(wl_ref_count(r), 1000);
  assert_int_equal(wl_ref_get(r, (uint8_t *)"k0007", 5, &v, &vl), 1);
  assert_int_equal(vl, 3);
  assert_memory_equal(v, "new", 3);
  assert_int_equal(wl_ref_get(r, (uint8_t *)"k0005", 5, &v, &vl), 1);
  assert_int_equal(vl, 0); /* an empty value is present */
  assert_int_equal(wl_ref_del(r, (uint8_t *)"k0005", 5), 0);
  assert_int_equal(wl_ref_get(r, (uint8_t *)"k0005", 5, &v, &vl), 0);
  assert_int_equal(wl_ref_delrange(r, (uint8_t *)"k0100", 5, (uint8_t *)"k0200", 5), 0);
  assert_int_equal(wl_ref_count(r), 1000 - 1 - 100);
  assert_int_equal(wl_ref_get(r, (uint8_t *)"k0099", 5, &v, &vl), 1);
  assert_int_equal(wl_ref_get(r, (uint8_t *)"k0100", 5, &v, &vl), 0);
  assert_int_equal(wl_ref_get(r, (uint8_t *)"k0199", 5, &v, &vl), 0);
  assert_int_equal(wl_ref_get(r, (uint8_t *)"k0200", 5, &v, &vl), 1);
  /* a shorter key sorts first on a common prefix: "k01" < "k0100" */
  assert_int_equal(wl_ref_put(r, (uint8_t *)"k01", 3, NULL, 0), 0);
  assert_int_equal(wl_ref_delrange(r, (uint8_t *)"k01", 3, (uint8_t *)"k0100", 5), 0);
  assert_int_equal(wl_ref_get(r, (uint8_t *)"k01", 3, &v, &vl), 0);
  wl_ref_destroy(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(written_log_reads_back_op_for_op, setup, teardown),
      cmocka_unit_test_setup_teardown(torn_tail_at_every_byte_keeps_every_complete_record, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_record_followed_by_more_data_is_corruption, setup, teardown),
      cmocka_unit_test_setup_teardown(random_damage_is_refused_or_read_consistently, setup, teardown),
      cmocka_unit_test_setup_teardown(version_1_log_still_reads_with_its_codes_table_unknown, setup, teardown),
      cmocka_unit_test_setup_teardown(failed_code_records_the_table_it_comes_from, setup, teardown),
      cmocka_unit_test(version_1_log_still_reads),
      cmocka_unit_test_setup_teardown(version_3_records_carry_the_sequence, setup, teardown),
      cmocka_unit_test_setup_teardown(version_5_close_and_open_read_back_and_version_4_refuses_them, setup, teardown),
      cmocka_unit_test(reference_map_put_get_delete_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
