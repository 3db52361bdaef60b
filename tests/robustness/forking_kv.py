#!/usr/bin/env python3
# forking_kv.py - an exec-protocol target (docs/targets.md) that forks: at
# `open` it leaves a child behind that inherits stdin/stdout and sleeps
# (FORK_SLEEP seconds, default 1000; its pid is appended to $FORK_PIDFILE if
# set). powercut must not hang on the pipe the child keeps open. Storage: the whole map in
# DIR/db, rewritten by temp file + fsync + rename + dir fsync on every write, so
# every acked write is durable and every batch atomic.
import os
import sys
import time

def hx(b):
    return b.hex() or "-"

def uh(s):
    return b"" if s == "-" else bytes.fromhex(s)

def load(d):
    db = {}
    try:
        with open(os.path.join(d, "db"), "rb") as f:
            for line in f.read().decode().splitlines():
                k, v = line.split(" ")
                db[uh(k)] = uh(v)
    except FileNotFoundError:
        pass
    return db

def save(d, db):
    tmp = os.path.join(d, "db.tmp")
    with open(tmp, "wb") as f:
        f.write("".join("%s %s\n" % (hx(k), hx(v)) for k, v in sorted(db.items())).encode())
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(d, "db"))
    fd = os.open(d, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)

def reply(s):
    sys.stdout.write(s + "\n")
    sys.stdout.flush()

def apply(db, w):
    if w[0] == "put":
        db[uh(w[1])] = uh(w[2])
    else:
        db.pop(uh(w[1]), None)

def main():
    d, db = None, {}
    forked = False
    while True:
        line = sys.stdin.readline()
        if not line:
            os._exit(0)
        w = line.split()
        if not w:
            continue
        op = w[0]
        if op == "open":
            d = line[5:].rstrip("\n")
            db = load(d)
            if not forked:
                forked = True
                if os.fork() == 0:
                    if os.environ.get("FORK_PIDFILE"):
                        with open(os.environ["FORK_PIDFILE"], "a") as f:
                            f.write("%d\n" % os.getpid())
                    time.sleep(float(os.environ.get("FORK_SLEEP", "1000")))
                    os._exit(0)
            reply("ok")
        elif op in ("put", "del"):
            apply(db, w)
            save(d, db)
            reply("ok")
        elif op == "batch":
            for _ in range(int(w[1])):
                apply(db, sys.stdin.readline().split())
            save(d, db)
            reply("ok")
        elif op == "get":
            k = uh(w[1])
            reply("ok " + hx(db[k]) if k in db else "notfound")
        elif op == "scan":
            for k in sorted(db):
                reply("kv %s %s" % (hx(k), hx(db[k])))
            reply("end")
        elif op in ("sync", "flush", "close"):
            reply("ok")
        else:
            reply("err unknown request " + op)

main()
