#!/usr/bin/env python3
# tiny_kv.py - the 30-line exec driver of docs/targets.md: every write rewrites
# DIR/db (tmp + fsync + rename + fsync dir). durable_ack+process_safe+prefix+atomic_batch.
import os, sys
h = lambda b: b.hex() or "-"
u = lambda s: b"" if s == "-" else bytes.fromhex(s)
def save(d, db):
    with open(d + "/db.tmp", "wb") as f:
        f.write(b"".join(b"%s %s\n" % (h(k).encode(), h(v).encode()) for k, v in db.items()))
        f.flush(); os.fsync(f.fileno())
    os.rename(d + "/db.tmp", d + "/db")
    fd = os.open(d, os.O_RDONLY); os.fsync(fd); os.close(fd)
def apply(db, w):
    if w[0] == "put": db[u(w[1])] = u(w[2])
    else: db.pop(u(w[1]), None)
for line in sys.stdin:
    w = line.split(); out = "ok"
    if w[0] == "open":
        d = line[5:].rstrip("\n"); db = {}
        if os.path.exists(d + "/db"):
            db = {u(a): u(b) for a, b in (l.split() for l in open(d + "/db"))}
    elif w[0] in ("put", "del"): apply(db, w); save(d, db)
    elif w[0] == "batch":
        for _ in range(int(w[1])): apply(db, sys.stdin.readline().split())
        save(d, db)
    elif w[0] == "get": out = "ok " + h(db[u(w[1])]) if u(w[1]) in db else "notfound"
    elif w[0] == "scan": out = "".join("kv %s %s\n" % (h(k), h(db[k])) for k in sorted(db)) + "end"
    print(out, flush=True)
