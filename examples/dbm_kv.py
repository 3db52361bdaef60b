#!/usr/bin/env python3
"""dbm_kv.py - a dbm-style key-value store in one append-only log, speaking
powercut's exec protocol (docs/targets.md "exec protocol"). Standard library only.

    powercut campaign --target 'exec:cmd=python3 examples/dbm_kv.py,contract=durable_ack+process_safe+prefix+atomic_batch' ...

Store: DIR/kv.log, a sequence of records  <u32 payload length> <u32 crc32> <payload>;
a payload is one put/del or a whole batch: (b'P' klen key vlen value | b'D' klen key)*.
The index is a dict rebuilt by replaying the log at open.

Why it keeps the contract it declares:
  process_safe  each record is one os.write() before the ack: no user-space buffer.
  durable_ack   a sync write or `sync` fsyncs the log, which holds every earlier record;
                the directory is fsynced at open, so the log's own entry is durable.
  prefix        replay stops at the first record that is short, zero-length or fails its
                CRC; open rewrites the log without that tail (durably) before appending.
  atomic_batch  a batch is one record: its CRC covers all of it.
A failed write is cut off the log again; a failed fsync (EIO: the kernel may have dropped
the dirty pages) makes the store refuse every later write until it is reopened
("fsyncgate").

Reopen after a failed fsync. The bytes that fsync covered may be gone from the disk while
the page cache still serves them, and no later fsync brings them back: a later successful
fsync makes the file's size durable, not the dropped pages, so after a power cut they read
as zeros (or old bytes) in the middle of the log and replay stops there, losing every
record behind them, synced or not. So open never trusts the page cache: it replays the
log, writes the valid records to kv.log.tmp, fsyncs it, renames it over kv.log and fsyncs
the directory before it serves or appends anything. What open serves is then durable, and
new records go behind durable ones only. This holds whoever failed before: this process
or another one, so no failed state needs to be stored.
"""
import os
import struct
import sys
import zlib

HDR = struct.Struct("<II")
U32 = struct.Struct("<I")


def unhex(s):
    return b"" if s == "-" else bytes.fromhex(s)


def tohex(b):
    return b.hex() if b else "-"


def fsync_dir(d):
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encode(ops):
    out = []
    for kind, k, v in ops:
        out.append(kind + U32.pack(len(k)) + k)
        if kind == b"P":
            out.append(U32.pack(len(v)) + v)
    return b"".join(out)


def decode(payload, data):
    """Applies one record's ops to data; raises ValueError if it does not parse."""
    i, ops = 0, []
    while i < len(payload):
        kind = payload[i:i + 1]
        (kl,) = U32.unpack_from(payload, i + 1)
        k = payload[i + 5:i + 5 + kl]
        i += 5 + kl
        if kind == b"P":
            (vl,) = U32.unpack_from(payload, i)
            ops.append((k, payload[i + 4:i + 4 + vl]))
            i += 4 + vl
        elif kind == b"D":
            ops.append((k, None))
        else:
            raise ValueError("bad op kind")
    if i != len(payload):
        raise ValueError("trailing bytes")
    for k, v in ops:
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v


class Store:
    def __init__(self, d):
        self.data, self.broken = {}, None
        path = os.path.join(d, "kv.log")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            buf = b""
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                buf += chunk
            off = 0
            while off + HDR.size <= len(buf):
                n, crc = HDR.unpack_from(buf, off)
                payload = buf[off + HDR.size:off + HDR.size + n]
                if n == 0 or len(payload) != n or zlib.crc32(payload) != crc:
                    break
                try:
                    decode(payload, self.data)
                except (ValueError, struct.error):
                    break
                off += HDR.size + n
            if buf:
                # make what was read durable (see "Reopen after a failed fsync"); a torn or
                # garbage tail is left behind for good
                tmp = path + ".tmp"
                t = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    done = 0
                    while done < off:
                        done += os.write(t, buf[done:off])
                    os.fsync(t)
                finally:
                    os.close(t)
                os.rename(tmp, path)
                os.close(fd)
                fd = -1
                fd = os.open(path, os.O_RDWR)
            os.lseek(fd, off, os.SEEK_SET)
            fsync_dir(d)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            raise
        self.fd, self.end = fd, off

    def append(self, ops, sync):
        if self.broken:
            raise OSError(self.broken)
        payload = encode(ops)
        rec = HDR.pack(len(payload), zlib.crc32(payload)) + payload
        try:
            done = 0
            while done < len(rec):
                done += os.write(self.fd, rec[done:])
        except OSError:
            try:  # leave no partial record behind later ones
                os.ftruncate(self.fd, self.end)
                os.lseek(self.fd, self.end, os.SEEK_SET)
            except OSError as e:
                self.broken = "log tail unrepairable: %s" % e
            raise
        self.end += len(rec)
        decode(payload, self.data)
        if sync:
            self.sync()

    def sync(self):
        if self.broken:
            raise OSError(self.broken)
        try:
            os.fsync(self.fd)
        except OSError as e:
            self.broken = "fsync failed earlier: %s" % e
            raise


def main():
    store = None
    out = sys.stdout.buffer
    inp = sys.stdin.buffer

    def reply(s):
        out.write(s.encode() + b"\n")
        out.flush()

    while True:
        line = inp.readline()
        if not line:
            os._exit(0)  # EOF: the harness cut the power here; no close, no sync
        w = line.decode().split()
        try:
            if w[0] == "open":
                store = Store(line.decode()[5:].rstrip("\n"))
                reply("ok")
            elif w[0] == "put":
                store.append([(b"P", unhex(w[1]), unhex(w[2]))], w[3] == "1")
                reply("ok")
            elif w[0] == "del":
                store.append([(b"D", unhex(w[1]), b"")], w[2] == "1")
                reply("ok")
            elif w[0] == "batch":
                # read every line of the batch before anything can fail
                lines = [inp.readline().decode().split() for _ in range(int(w[1]))]
                ops = [(b"P", unhex(s[1]), unhex(s[2])) if s[0] == "put" else (b"D", unhex(s[1]), b"")
                       for s in lines]
                store.append(ops, w[2] == "1")
                reply("ok")
            elif w[0] == "get":
                v = store.data.get(unhex(w[1]))
                reply("notfound" if v is None else "ok " + tohex(v))
            elif w[0] == "scan":
                for k in sorted(store.data):
                    out.write(("kv %s %s\n" % (tohex(k), tohex(store.data[k]))).encode())
                reply("end")
            elif w[0] == "sync":
                store.sync()
                reply("ok")
            elif w[0] == "flush":
                reply("ok")
            elif w[0] == "close":
                os.close(store.fd)
                store = None
                reply("ok")
            else:
                reply("err unknown request " + w[0])
        except (OSError, ValueError, IndexError, AttributeError) as e:
            reply("err %s: %s" % (w[0] if w else "?", str(e).replace("\n", " ")))


if __name__ == "__main__":
    main()
