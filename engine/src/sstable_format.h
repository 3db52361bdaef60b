/*
 * sstable_format.h - constants of the SSTable format.
 * Specification: docs/format/sstable.md.
 *
 * file   := data_block* filter_block properties_block metaindex_block index_block footer
 * block  := contents | type u8 | checksum u32 LE   (checksum = low 32 bits of
 *           XXH3-64 over contents||type; type 0 = uncompressed, 1 = zlib)
 * contents := entry* restart u32 LE * n | n u32 LE
 * entry  := shared varint | non_shared varint | value_len varint | key_delta | value
 * footer (48 bytes) := metaindex off u64 | size u64 | index off u64 | size u64 |
 *           version u32 | checksum u32 (of the 36 bytes before) | magic "SOFA-SST"
 */
#ifndef SDB_SSTABLE_FORMAT_H
#define SDB_SSTABLE_FORMAT_H

#define SDB_SST_MAGIC "SOFA-SST"
#define SDB_SST_VERSION 1
#define SDB_SST_FOOTER 48
#define SDB_SST_TRAILER 5
#define SDB_BLOCK_RAW 0
#define SDB_BLOCK_ZLIB 1 /* contents = raw length varint | zlib stream (RFC 1950) */
#define SDB_PROPS_NAME "sofadb.properties"
#define SDB_FILTER_NAME "filter.bloom"
#define SDB_BLOOM_BITS_PER_KEY 10
#define SDB_BLOOM_PROBES 7

#endif
