#!/usr/bin/env python3
"""plainfile_kv.py - one file per key, speaking powercut's exec protocol
(docs/targets.md "exec protocol"). Standard library only.

    powercut campaign --target 'exec:cmd=python3 examples/plainfile_kv.py,contract=durable_ack+process_safe' ...

A put writes DIR/.tmp, fsyncs it and renames it over DIR/k<hex key>; a delete
unlinks that file. A sync write (and `sync`) then fsyncs DIR, which makes every
rename/unlink so far durable, each pointing at data already fsynced.
Contract: durable_ack + process_safe. No prefix (directory entries of different
keys may reach the disk in any order between two directory fsyncs) and no
atomic_batch (a batch is its puts and deletes one by one).
"""
import os
import sys

D = None


def unhex(s):
    return b"" if s == "-" else bytes.fromhex(s)


def name(k):
    return os.path.join(D, "k" + k.hex())


def fsync_dir():
    fd = os.open(D, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def put(k, v):
    tmp = os.path.join(D, ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        done = 0
        while done < len(v):
            done += os.write(fd, v[done:])
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, name(k))


def delete(k):
    try:
        os.unlink(name(k))
    except FileNotFoundError:
        pass


def main():
    global D
    inp, out = sys.stdin.buffer, sys.stdout.buffer

    def reply(s):
        out.write(s.encode() + b"\n")
        out.flush()

    while True:
        line = inp.readline()
        if not line:
            os._exit(0)  # EOF = power cut: no close, no sync
        w = line.decode().split()
        try:
            if w[0] == "open":
                D = line.decode()[5:].rstrip("\n")
                if os.path.exists(os.path.join(D, ".tmp")):
                    os.unlink(os.path.join(D, ".tmp"))
            elif w[0] == "put":
                put(unhex(w[1]), unhex(w[2]))
            elif w[0] == "del":
                delete(unhex(w[1]))
            elif w[0] == "batch":
                # read every line of the batch first: an error half-way must not
                # leave batch lines to be taken for requests
                lines = [inp.readline().decode().split() for _ in range(int(w[1]))]
                for s in lines:
                    put(unhex(s[1]), unhex(s[2])) if s[0] == "put" else delete(unhex(s[1]))
            elif w[0] == "get":
                try:
                    with open(name(unhex(w[1])), "rb") as f:
                        reply("ok " + (f.read().hex() or "-"))
                except FileNotFoundError:
                    reply("notfound")
                continue
            elif w[0] == "scan":
                for k in sorted(bytes.fromhex(n[1:]) for n in os.listdir(D) if n.startswith("k")):
                    with open(name(k), "rb") as f:
                        out.write(("kv %s %s\n" % (k.hex() or "-", f.read().hex() or "-")).encode())
                reply("end")
                continue
            elif w[0] not in ("sync", "flush", "close"):
                reply("err unknown request " + w[0])
                continue
            if w[0] == "sync" or (w[0] in ("put", "del", "batch") and w[-1] == "1"):
                fsync_dir()
            reply("ok")
        except (OSError, ValueError, IndexError) as e:
            reply("err %s: %s" % (w[0] if w else "?", str(e).replace("\n", " ")))


if __name__ == "__main__":
    main()
