/*
 * manifest_format.h - MANIFEST records (version edits) and CURRENT.
 * Specification: docs/format/manifest.md. The MANIFEST uses the record
 * framing of log_format.h; after its header record each logical record is one
 * version edit, a sequence of (tag varint, fields):
 *   1 LOG_NUMBER  number varint64         the live WAL (the newest; see PREV_LOG)
 *   2 NEXT_FILE   number varint64         next file number to allocate
 *   3 LAST_SEQ    seq varint64            last sequence number in tables
 *   4 ADD_FILE    level varint32, number varint64, size varint64,
 *                 smallest (len varint + internal key), largest (same)
 *   5 DEL_FILE    level varint32, number varint64
 *   6 PREV_LOG    number varint64         older live WAL, replayed first (0 = none)
 * An edit lists its DEL_FILEs before its ADD_FILEs (a move is DEL + ADD).
 * CURRENT holds "MANIFEST-<number>\n".
 */
#ifndef SDB_MANIFEST_FORMAT_H
#define SDB_MANIFEST_FORMAT_H

#define SDB_NUM_LEVELS 7 /* L0..L6 */

enum { SDB_TAG_LOG = 1, SDB_TAG_NEXT = 2, SDB_TAG_SEQ = 3, SDB_TAG_ADD = 4, SDB_TAG_DEL = 5, SDB_TAG_PREV = 6 };

#endif
