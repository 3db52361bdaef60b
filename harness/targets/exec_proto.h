/*
 * exec_proto.h - the exec target's line protocol, powercut's side (exec.c).
 *
 * The program under test reads one request per line on stdin and answers on
 * stdout (docs/targets.md "exec protocol"). Byte strings are hex ("-" = empty).
 * This header exposes the reply parser on its own so that it can be tested and
 * fuzzed without a program: it accepts exactly the documented grammar
 *
 *   REPLY := "ok" | "ok " HEX | "notfound" | "kv " HEX " " HEX | "end" | "err" [" " TEXT]
 *   HEX   := "-" | ( [0-9a-fA-F]{2} )+
 *
 * (single spaces, no trailing space, no '\n', '\r' or NUL inside the line; the
 * caller strips the final '\n') and rejects everything else with a message.
 */
#ifndef PC_EXEC_PROTO_H
#define PC_EXEC_PROTO_H

#include <stddef.h>
#include <stdint.h>

typedef enum pc_exec_kind {
  PC_EXEC_OK = 1,     /* "ok" */
  PC_EXEC_OK_VALUE,   /* "ok HEX": v/vlen */
  PC_EXEC_NOTFOUND,   /* "notfound" */
  PC_EXEC_KV,         /* "kv HEX HEX": k/klen, v/vlen */
  PC_EXEC_END,        /* "end" */
  PC_EXEC_ERR,        /* "err TEXT": text (printable, NUL-terminated) */
} pc_exec_kind;

typedef struct pc_exec_reply {
  pc_exec_kind kind;
  uint8_t *k, *v;     /* malloc'd (never NULL when set, even when empty) */
  size_t klen, vlen;
  char *text;         /* malloc'd, for PC_EXEC_ERR */
} pc_exec_reply;

/* Parses one reply line (len bytes, without its '\n'). Returns 0 and fills *r
 * (free it with pc_exec_reply_free), or PC_EINVAL with a reason in msg (then
 * *r holds nothing to free), or PC_ENOMEM. */
int pc_exec_parse_reply(const char *line, size_t len, pc_exec_reply *r, char *msg, size_t msglen);
void pc_exec_reply_free(pc_exec_reply *r);

/* Hex codec of the protocol: encode writes 2*n chars (or "-" when n == 0) and
 * a NUL; out must hold 2*n+2 bytes. decode reads the n chars of one HEX
 * token into out (room for n/2 bytes), sets *outlen; 0, or -1 if malformed. */
void pc_exec_hex_encode(const void *p, size_t n, char *out);
int pc_exec_hex_decode(const char *s, size_t n, uint8_t *out, size_t *outlen);

#endif
