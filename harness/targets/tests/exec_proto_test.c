/*
 * exec_proto_test.c - the exec protocol's reply parser (exec_proto.h) accepts
 * exactly the documented grammar: every valid form decodes to the right kind
 * and bytes, every malformed one is rejected with a message, and random input
 * never crashes it (a small deterministic fuzz run; the real fuzzer comes later).
 */
#include "harness_int.h"
#include "targets/exec_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...)                                      \
  do {                                                        \
    if (!(cond)) {                                            \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
      fprintf(stderr, __VA_ARGS__);                           \
      fprintf(stderr, "\n");                                  \
      failures++;                                             \
    }                                                         \
  } while (0)

static void ok(const char *line, size_t len, pc_exec_kind kind, const char *k, size_t kl,
               const char *v, size_t vl, const char *text) {
  pc_exec_reply r;
  char msg[256] = "";
  int rc = pc_exec_parse_reply(line, len, &r, msg, sizeof msg);
  CHECK(rc == 0, "'%.*s' rejected: %s", (int)len, line, msg);
  if (rc) return;
  CHECK(r.kind == kind, "'%.*s': kind %d, want %d", (int)len, line, r.kind, kind);
  if (k) CHECK(r.k && r.klen == kl && !memcmp(r.k, k, kl), "'%.*s': wrong key", (int)len, line);
  if (v) CHECK(r.v && r.vlen == vl && !memcmp(r.v, v, vl), "'%.*s': wrong value", (int)len, line);
  if (text) CHECK(r.text && !strcmp(r.text, text), "'%.*s': text '%s'", (int)len, line, r.text ? r.text : "(null)");
  pc_exec_reply_free(&r);
}

static void bad(const char *line, size_t len) {
  pc_exec_reply r;
  char msg[256] = "";
  int rc = pc_exec_parse_reply(line, len, &r, msg, sizeof msg);
  CHECK(rc == PC_EINVAL, "'%.*s' accepted (kind %d), want rejected", (int)len, line, r.kind);
  CHECK(rc != PC_EINVAL || msg[0], "'%.*s' rejected without a message", (int)len, line);
  if (rc == 0) pc_exec_reply_free(&r);
}
#define OK(s, ...) ok(s, sizeof(s) - 1, __VA_ARGS__)
#define BAD(s) bad(s, sizeof(s) - 1)

int main(void) {
  OK("ok", PC_EXEC_OK, NULL, 0, NULL, 0, NULL);
  OK("ok 00ff10", PC_EXEC_OK_VALUE, NULL, 0, "\x00\xff\x10", 3, NULL);
  OK("ok 00FF1a", PC_EXEC_OK_VALUE, NULL, 0, "\x00\xff\x1a", 3, NULL);
  OK("ok -", PC_EXEC_OK_VALUE, NULL, 0, "", 0, NULL);
  OK("notfound", PC_EXEC_NOTFOUND, NULL, 0, NULL, 0, NULL);
  OK("end", PC_EXEC_END, NULL, 0, NULL, 0, NULL);
  OK("kv 6100 -", PC_EXEC_KV, "a\0", 2, "", 0, NULL);
  OK("kv - 76", PC_EXEC_KV, "", 0, "v", 1, NULL);
  OK("err disk full", PC_EXEC_ERR, NULL, 0, NULL, 0, "disk full");
  OK("err", PC_EXEC_ERR, NULL, 0, NULL, 0, "");
  OK("err tab\there \x01", PC_EXEC_ERR, NULL, 0, NULL, 0, "tab?here ?");

  BAD("");
  BAD("OK");
  BAD("ok ");
  BAD("ok  ab");
  BAD("ok abc");
  BAD("ok zz");
  BAD("ok ab cd");
  BAD("ok ab ");
  BAD("ok --");
  BAD("ok -a");
  BAD("ok\r");
  BAD("ok 61\r");
  BAD("ok 61\n");
  BAD("notfound x");
  BAD("notfound ");
  BAD("end 00");
  BAD("kv");
  BAD("kv ");
  BAD("kv ab");
  BAD("kv ab ");
  BAD("kv  ab cd");
  BAD("kv ab cd ef");
  BAD("kv ab cd ");
  BAD("kv g0 00");
  BAD("kv 00 0");
  BAD("bogus");
  BAD("okay");
  BAD(" ok");
  bad("ok 6\0" "1", 5);
  bad("err a\0b", 7);
  bad("ok", 0); /* empty */

  /* round trip of the hex codec on every byte value */
  {
    uint8_t in[256], out[256];
    char hex[520];
    size_t n;
    for (int i = 0; i < 256; i++) in[i] = (uint8_t)i;
    pc_exec_hex_encode(in, sizeof in, hex);
    CHECK(strlen(hex) == 512, "hex of 256 bytes is %zu chars", strlen(hex));
    CHECK(pc_exec_hex_decode(hex, 512, out, &n) == 0 && n == 256 && !memcmp(in, out, 256),
          "hex round trip");
    pc_exec_hex_encode(in, 0, hex);
    CHECK(!strcmp(hex, "-"), "empty encodes as '-', got '%s'", hex);
  }

  /* deterministic fuzz: random lines from a grammar-ish alphabet and raw bytes */
  {
    static const char alpha[] = "okvnotfudeHErr 0123456789abcdefABCDEFxz-\t\r";
    uint64_t s = 0x9e3779b97f4a7c15ull;
    char line[96], msg[256];
    int accepted = 0;
    for (int it = 0; it < 200000; it++) {
      pc_exec_reply r;
      size_t n;
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      n = s % sizeof line;
      for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        line[i] = (it & 1) ? (char)(s & 0xff) : alpha[s % (sizeof alpha - 1)];
      }
      if (it % 7 == 0 && n > 3) memcpy(line, it % 14 ? "kv " : "ok ", 3);
      int rc = pc_exec_parse_reply(line, n, &r, msg, sizeof msg);
      CHECK(rc == 0 || rc == PC_EINVAL, "fuzz: rc %d", rc);
      if (rc == 0) {
        accepted++;
        CHECK(r.kind >= PC_EXEC_OK && r.kind <= PC_EXEC_ERR, "fuzz: kind %d", r.kind);
        if (r.kind == PC_EXEC_KV) CHECK(r.k && r.v, "fuzz: kv without buffers");
        pc_exec_reply_free(&r);
      }
    }
    printf("fuzz: 200000 lines, %d accepted\n", accepted);
  }
  if (failures) {
    printf("%d check(s) FAILED\n", failures);
    return 1;
  }
  printf("exec reply parser: all checks passed\n");
  return 0;
}
