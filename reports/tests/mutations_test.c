/*
 * mutations_test.c - seeded mutation testing of the results-line decoder
 * and the escapers (the decoder's fuzz target, run deterministically by
 * ctest; under PC_SANITIZE it runs with ASan+UBSan). Every mutated line must
 * either parse or fail with RPT_EMALFORMED and a message; a line that parses
 * must survive a write/read round trip unchanged; reports generated from
 * random bytes must stay valid UTF-8 with no stray control characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define ROUNDS 20000

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {   /* xorshift64*: deterministic */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ull;
}

static const char *const pieces[] = {
    "\"", "\\", "{", "}", ",", ":", "[", "]", "null", "true", "1e400", "-0",
    "9007199254740993", "\"seed\":", "\\u0000", "\\ud800", "\xff", "\xc3", " ", "\n"};

static void mutate(char *buf, size_t *len, size_t cap) {
  size_t at = *len ? next() % *len : 0;
  switch (next() % 5) {
  case 0: buf[at] ^= (char)(1u << (next() % 8)); break;            /* bit flip */
  case 1: *len = at; break;                                         /* truncate */
  case 2: memmove(buf + at, buf + at + 1, *len - at); if (*len) (*len)--; break;
  default: {                                                         /* insert */
    const char *p = pieces[next() % (sizeof pieces / sizeof *pieces)];
    size_t n = strlen(p);
    if (*len + n >= cap) break;
    memmove(buf + at + n, buf + at, *len - at);
    memcpy(buf + at, p, n);
    *len += n;
  }
  }
  buf[*len] = '\0';
}

static int same_case(const rpt_case *a, const rpt_case *b) {
  return !strcmp(a->id, b->id) && !strcmp(a->verdict, b->verdict) &&
         !strcmp(a->first_key, b->first_key) && !strcmp(a->found, b->found) &&
         a->seed == b->seed && a->fired == b->fired &&
         a->fire_index == b->fire_index && a->recovery_us == b->recovery_us &&
         a->ops_lost == b->ops_lost;
}

static void mutated_lines_parse_or_fail_cleanly(void **st) {
  (void)st;
  rpt_case c;
  char *base, err[256];
  fx_case(&c, NASTY_ID, "crash", "strict", "LOST_ACKED", 77);
  c.first_key = NASTY_KEY;
  assert_int_equal(rpt_case_to_json(&c, &base), 0);
  size_t cap = strlen(base) * 2 + 64, parsed = 0, rejected = 0;
  char *buf = malloc(cap);
  for (int r = 0; r < ROUNDS; r++) {
    size_t len = strlen(base);
    memcpy(buf, base, len + 1);
    int muts = 1 + (int)(next() % 4);
    for (int m = 0; m < muts; m++) mutate(buf, &len, cap);
    rpt_case got, again;
    err[0] = '\0';
    int rc = rpt_case_from_json(buf, &got, err, sizeof err);
    if (rc) {
      assert_int_equal(rc, RPT_EMALFORMED);
      assert_true(err[0] != '\0');
      rejected++;
      continue;
    }
    parsed++;
    char *line;
    assert_int_equal(rpt_case_to_json(&got, &line), 0);
    assert_null(strchr(line, '\n'));
    assert_int_equal(rpt_case_from_json(line, &again, err, sizeof err), 0);
    assert_true(same_case(&got, &again));
    free(line);
    rpt_case_free(&got);
    rpt_case_free(&again);
  }
  /* the mutations must exercise both paths */
  assert_true(parsed > ROUNDS / 20);
  assert_true(rejected > ROUNDS / 20);
  free(buf);
  free(base);
}

/* 1 if s is valid UTF-8 with no control characters but \n and \t. */
static int clean_utf8(const unsigned char *s) {
  while (*s) {
    int n = *s < 0x80 ? 1 : (*s & 0xE0) == 0xC0 ? 2 : (*s & 0xF0) == 0xE0 ? 3
          : (*s & 0xF8) == 0xF0 ? 4 : 0;
    if (!n) return 0;
    if (n == 1 && *s < 0x20 && *s != '\n' && *s != '\t') return 0;
    for (int i = 1; i < n; i++)
      if ((s[i] & 0xC0) != 0x80) return 0;
    s += n;
  }
  return 1;
}

static void reports_from_random_bytes_stay_clean(void **st) {
  (void)st;
  rpt_set *s;
  assert_int_equal(rpt_set_create(&s), 0);
  char strs[4][64], id[96];
  for (int i = 0; i < 300; i++) {
    for (int k = 0; k < 4; k++) {
      size_t n = next() % 63;
      for (size_t j = 0; j < n; j++) strs[k][j] = (char)(1 + next() % 255);
      strs[k][n] = '\0';
    }
    snprintf(id, sizeof id, "pc1/%d/%s", i, strs[0]);
    rpt_case c;
    fx_case(&c, id, i % 3 ? "crash" : strs[1], "strict", i % 2 ? "PASS" : "PHANTOM", i);
    c.first_key = strs[2];
    c.found = strs[3];
    c.explanation = strs[1];
    c.kept = strs[3];
    assert_int_equal(rpt_set_add(s, &c), 0);
  }
  int (*gens[])(const rpt_set *, FILE *) = {rpt_write_junit, rpt_write_html};
  for (int g = 0; g < 2; g++) {
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    assert_int_equal(gens[g](s, f), 0);
    fclose(f);
    assert_true(clean_utf8((const unsigned char *)out));
    assert_null(strstr(out, "href=\"http"));
    free(out);
  }
  rpt_set_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(mutated_lines_parse_or_fail_cleanly),
      cmocka_unit_test(reports_from_random_bytes_stay_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
