/*
 * wal_format.h - the WAL's logical records. Specification: docs/format/wal.md.
 *
 * Framing: log_format.h. After the header record (magic "SOFA-WAL") each
 * logical record is one atomic write batch:
 *   seq u64 LE | count u32 LE | synced_upto u64 LE | op * count
 *   op := type u8 (0 delete, 1 put) | klen varint | key | [vlen varint | value]
 * seq is the sequence number of the first op (op i gets seq + i). synced_upto
 * is the file offset up to which an fdatasync of this WAL had succeeded when
 * the record was written: it lets recovery tell a torn tail from corruption.
 */
#ifndef SDB_WAL_FORMAT_H
#define SDB_WAL_FORMAT_H

#define SDB_WAL_REC_HDR 20

#endif
