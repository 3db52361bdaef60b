/* fuzz.h - the entry point libFuzzer calls, declared once for every fuzz target. */
#ifndef PC_FUZZ_H
#define PC_FUZZ_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
