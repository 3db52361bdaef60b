/*
 * fuzz_util.h - helpers shared by the libFuzzer targets in fuzz/: a private
 * scratch directory per process, file writing, the "dir archive" input format
 * of fuzz_sofadb_dir, and checksum resealing so that mutations reach the
 * decoders behind the checksums (docs/fuzzing.md).
 */
#ifndef PC_FUZZ_UTIL_H
#define PC_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A scratch directory created once per process (under $TMPDIR or /tmp, or
 * $FUZZ_DIR if set: then it is left in place for debugging), empty
 * at every call (its contents are removed). */
const char *fz_dir(void);
/* Removes everything under dir (not dir itself). */
void fz_clear(const char *dir);
/* dir/name := data; aborts on I/O errors (the harness, not the target, broke). */
void fz_write(const char *dir, const char *name, const void *data, size_t n);
/* An open /dev/null to print dumps into. */
FILE *fz_devnull(void);
/* Prints a message and aborts: an invariant of a target does not hold. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Dir archive: entry* where entry := name_len u8 | name | data_len u32 LE |
 * data (a short last entry keeps what is left). Entries whose name is empty,
 * ".", "..", or holds '/' or NUL are skipped; at most 16 files. Writes the files
 * into dir; returns how many. With reseal, WAL/MANIFEST/SSTable files get their
 * checksums recomputed first (see below). */
int fz_unpack(const char *dir, const uint8_t *data, size_t n, int reseal);
/* Appends one entry to out (cap bytes); returns the new length or 0 if full. */
size_t fz_pack_entry(uint8_t *out, size_t len, size_t cap, const char *name, const uint8_t *data, size_t n);

/* Recompute checksums in place: every fragment of a WAL/MANIFEST (record
 * framing of engine/src/log_format.h), or the footer, index, metaindex,
 * properties and data blocks an SSTable's footer and index point at. */
void fz_reseal_log(uint8_t *p, size_t n);
void fz_reseal_sst(uint8_t *p, size_t n);

#endif
