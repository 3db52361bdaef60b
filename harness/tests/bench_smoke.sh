#!/usr/bin/env bash
# bench_smoke.sh - smoke test of `powercut bench`: runs every
# workload on a small N against sofadb and every peer built, as a table and as
# JSON, and checks that each (benchmark, target) row is there with a positive
# ops/s and that the JSON parses. Figures are not asserted.
# usage: bench_smoke.sh /path/to/powercut
set -euo pipefail
PC=${1:?usage: bench_smoke.sh /path/to/powercut}
work=$(mktemp -d "${TMPDIR:-/tmp}/pc-bench-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT

# sofadb and the peers this powercut was built with (from `powercut targets`)
# (read the list once: `grep -q` in a pipe under pipefail would race SIGPIPE)
built=$("$PC" targets 2>/dev/null)
targets=sofadb
for p in leveldb rocksdb sqlite lmdb; do
  if grep -q "^$p " <<<"$built"; then targets="$targets,$p"; fi
done
echo "targets: $targets"
common=(--targets "$targets" --num 2000 --runs 1 --sync-num 50 --dir "$work")

"$PC" bench "${common[@]}" >"$work/table.txt" 2>"$work/err.txt" || {
  cat "$work/err.txt" "$work/table.txt"; echo "FAIL: bench (table) exited non-zero"; exit 1; }
"$PC" bench "${common[@]}" --json >"$work/out.json" 2>"$work/err2.txt" || {
  cat "$work/err2.txt"; echo "FAIL: bench --json exited non-zero"; exit 1; }
cat "$work/table.txt"

python3 - "$work/table.txt" "$work/out.json" "$targets" <<'PY'
import json, sys
table, js, targets = open(sys.argv[1]).read().splitlines(), sys.argv[2], sys.argv[3].split(",")
benches = ["fillseq", "fillrandom", "overwrite", "readrandom", "readmissing", "scan",
           "fillsync-1t", "fillsync-8t", "recovery"]
shim = ["shim-none", "shim-idle", "shim-track"]
base = "leveldb" if "leveldb" in targets else targets[0]
want = [(b, t) for b in benches for t in targets] + [("fillsync-1t", "disk"), ("fillsync-1t", "disk-prealloc")]
want += [(b, t) for b in shim for t in sorted({"sofadb", base})]
rows = {}
for line in table:
    f = line.split()
    if len(f) >= 3 and f[0] in benches + shim:
        rows[(f[0], f[1])] = f[2]
bad = []
for k in want:
    v = rows.get(k)
    try:
        ok = v is not None and float(v) > 0
    except ValueError:
        ok = False
    if not ok: bad.append("table %s/%s: %r" % (k[0], k[1], v))
doc = json.load(open(js))
got = {(r["benchmark"], r["target"]): r for r in doc["results"]}
for k in want:
    r = got.get(k)
    if r is None or not r["ok"] or not r["ops_per_s_median"] > 0:
        bad.append("json %s/%s: %r" % (k[0], k[1], r))
if doc["config"]["num"] != 2000: bad.append("json config.num")
if bad:
    print("FAIL:\n  " + "\n  ".join(bad)); sys.exit(1)
print("bench smoke: %d rows in the table and the JSON, all positive" % len(want))
PY

# bad input is refused
if "$PC" bench --targets nosuchengine --num 10 >/dev/null 2>&1; then
  echo "FAIL: unknown target accepted"; exit 1
fi
echo PASS
