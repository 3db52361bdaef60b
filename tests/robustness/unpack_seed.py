#!/usr/bin/env python3
# unpack_seed.py ARCHIVE DIR - writes the files of a fuzz_sofadb_dir seed
# (docs/fuzzing.md "Dir archive": a mode byte, then name_len u8 | name |
# data_len u32 LE | data entries) into DIR. The seeds are real databases built
# through the sofadb API in one process (fuzz/seedgen.c), so their WAL holds
# many records, some synced.
import os
import struct
import sys

data = open(sys.argv[1], "rb").read()[1:]
os.makedirs(sys.argv[2], exist_ok=True)
pos = 0
while pos < len(data):
    n = data[pos]
    name = data[pos + 1:pos + 1 + n].decode()
    (size,) = struct.unpack_from("<I", data, pos + 1 + n)
    start = pos + 1 + n + 4
    with open(os.path.join(sys.argv[2], name), "wb") as f:
        f.write(data[start:start + size])
    pos = start + size
