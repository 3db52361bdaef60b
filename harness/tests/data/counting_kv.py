#!/usr/bin/env python3
# counting_kv.py - examples/tiny_kv.py with test hooks for the recovery of exec targets
# (harness/tests/e2e_exec_recovery.sh). Every start appends one line to $COUNT_FILE:
# "w PID" when it runs under a fault plan (a workload, or the interrupted recovery of a
# PLAN>RPLAN case), "r PID" when it does not (the fault-free recovery). Planted faults at
# open, outside a fault plan only, when the store holds exactly $PLANT_KEYS keys:
#   PLANT=crash  the program kills itself with SIGSEGV;
#   PLANT=hang   it never answers.
# Misbehaviour between two recoveries, outside a fault plan: after answering `close`,
#   PLANT=exit   the program exits;
#   PLANT=chat   it writes one more line ("ok") nobody asked for.
import os, signal, sys, time
role = "w" if os.environ.get("FAULTFS_PLAN") else "r"
if os.environ.get("COUNT_FILE"):
    with open(os.environ["COUNT_FILE"], "a") as f:
        f.write("%s %d\n" % (role, os.getpid()))
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
        if role == "r" and str(len(db)) == os.environ.get("PLANT_KEYS"):
            if os.environ.get("PLANT") == "crash": os.kill(os.getpid(), signal.SIGSEGV)
            if os.environ.get("PLANT") == "hang": time.sleep(3600)
    elif w[0] in ("put", "del"): apply(db, w); save(d, db)
    elif w[0] == "batch":
        for _ in range(int(w[1])): apply(db, sys.stdin.readline().split())
        save(d, db)
    elif w[0] == "get": out = "ok " + h(db[u(w[1])]) if u(w[1]) in db else "notfound"
    elif w[0] == "scan": out = "".join("kv %s %s\n" % (h(k), h(db[k])) for k in sorted(db)) + "end"
    print(out, flush=True)
    if w[0] == "close" and role == "r" and os.environ.get("PLANT") == "exit": sys.exit(0)
    if w[0] == "close" and role == "r" and os.environ.get("PLANT") == "chat": print("ok", flush=True)
