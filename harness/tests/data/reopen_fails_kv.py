#!/usr/bin/env python3
# reopen_fails_kv.py - an exec driver (docs/targets.md "exec protocol") that cannot recover:
# its first open marks the data dir, every later open of a marked dir fails. A fault-free
# run of it therefore ends in RECOVERY_FAILED (used by harness_e2e_cli_conventions).
import os, sys
for line in sys.stdin:
    w = line.split()
    if w[0] == "open":
        d = line[5:].rstrip("\n")
        if os.path.exists(d + "/mark"):
            print("err cannot reopen: this store never recovers", flush=True)
            continue
        fd = os.open(d + "/mark", os.O_CREAT | os.O_WRONLY, 0o644); os.fsync(fd); os.close(fd)
        dfd = os.open(d, os.O_RDONLY); os.fsync(dfd); os.close(dfd)
        print("ok", flush=True)
    elif w[0] == "batch":
        for _ in range(int(w[1])): sys.stdin.readline()
        print("ok", flush=True)
    elif w[0] == "get": print("notfound", flush=True)
    elif w[0] == "scan": print("end", flush=True)
    else: print("ok", flush=True)
