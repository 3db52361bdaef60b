/* benchdb.c - `powercut bench`: db_bench-style workloads through the target
 * adapters, several targets interleaved in one run (issue 8). */
#include "harness_int.h"

int pc_cmd_bench(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "powercut bench: not built yet\n");
  return 2;
}
