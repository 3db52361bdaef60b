/*
 * tools.h - engine entry points used only by the CLI: verbose check and dump.
 */
#ifndef SDB_TOOLS_H
#define SDB_TOOLS_H

#include <stdio.h>

/* sdb_check() that also prints one line per verified file to out. */
int sdb__check_dir(const char *dir, FILE *out, char *msg, size_t msglen);
/* Prints a WAL (NNNNNN.log), table (NNNNNN.sst) or MANIFEST-NNNNNN readably. */
int sdb__dump_file(const char *path, FILE *out, char *msg, size_t msglen);

#endif
