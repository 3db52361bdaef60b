/*
 * oplog_cli.c — `oplog`: print an op log, or generate a workload and print it.
 *   oplog print FILE            one line per op with its outcome
 *   oplog gen SPEC SEED [CAP...]     the op stream of a workload spec, printed the same way, for a
 *                                    target with the capabilities CAP (delrange snapshot iter txn
 *                                    checkpoint, or all)
 * Exit status: 0 ok, 1 error (message on stderr), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

static int usage(void) {
  fprintf(stderr,
          "usage: oplog print FILE\n"
          "       oplog gen WORKLOAD[:k=v,...] SEED [CAP...]\n"
          "         CAP: delrange snapshot iter txn checkpoint all (the target's ops)\n");
  return 2;
}

int main(int argc, char **argv) {
  char err[512];
  int rc;
  if (argc >= 3 && !strcmp(argv[1], "print")) {
    wl_log *log = NULL;
    if ((rc = wl_oplog_read(argv[2], &log, err, sizeof(err)))) {
      fprintf(stderr, "oplog: %s (%s)\n", err[0] ? err : wl_strerror(rc), wl_strerror(rc));
      return 1;
    }
    rc = wl_log_print(log, stdout);
    wl_log_free(log);
    return rc ? 1 : 0;
  }
  if (argc >= 4 && !strcmp(argv[1], "gen")) {
    wl_params p;
    wl_gen *g = NULL;
    wl_log *log = NULL;
    wl_op op;
    char *end;
    if (wl_spec_parse(argv[2], &p, err, sizeof(err))) {
      fprintf(stderr, "oplog: %s\n", err);
      return 1;
    }
    unsigned long long seed = strtoull(argv[3], &end, 10);
    if (*end) return usage();
    for (int a = 4; a < argc; a++) {
      static const struct {
        const char *name;
        uint32_t cap;
      } caps[] = {{"delrange", WL_CAP_DELRANGE},
                  {"snapshot", WL_CAP_SNAPSHOT},
                  {"iter", WL_CAP_ITER},
                  {"txn", WL_CAP_TXN},
                  {"checkpoint", WL_CAP_CHECKPOINT},
                  {"all", WL_CAP_DELRANGE | WL_CAP_SNAPSHOT | WL_CAP_ITER | WL_CAP_TXN | WL_CAP_CHECKPOINT}};
      size_t c = 0;
      while (c < sizeof(caps) / sizeof(*caps) && strcmp(argv[a], caps[c].name)) c++;
      if (c == sizeof(caps) / sizeof(*caps)) {
        fprintf(stderr, "oplog: gen: unknown capability '%s' (delrange snapshot iter txn checkpoint all)\n", argv[a]);
        return 2;
      }
      p.caps |= caps[c].cap;
    }
    if ((rc = wl_gen_create(&p, seed, &g)) || (rc = wl_log_new(&log))) goto gen_fail;
    while ((rc = wl_gen_next(g, &op)) == 1)
      if ((rc = wl_log_append(log, &op, WL_OUT_UNKNOWN, 0))) goto gen_fail;
    if (rc < 0) goto gen_fail;
    char spec[256];
    wl_spec_format(&p, spec, sizeof(spec));
    printf("# workload %s seed %llu target_opts '%s'\n", spec, seed, p.target_opts);
    rc = wl_log_print(log, stdout);
  gen_fail:
    if (rc < 0) fprintf(stderr, "oplog: gen: %s\n", wl_strerror(rc));
    wl_log_free(log);
    wl_gen_destroy(g);
    return rc ? 1 : 0;
  }
  return usage();
}
