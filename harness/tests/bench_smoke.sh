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
benches = ["fillseq", "fillrandom", "overwrite", "readrandom", "readmissing", "scan", "seekrandom",
           "readwhilewriting", "fillsync-1t", "fillsync-8t", "recovery"]
shim = ["shim-none", "shim-idle", "shim-track"]
base = "leveldb" if "leveldb" in targets else targets[0]
want = [(b, t) for b in benches for t in targets] + [("fillsync-1t", "disk"), ("fillsync-1t", "disk-prealloc")]
want += [(b, t) for b in shim for t in sorted({"sofadb", base})]
# n/a rows, never a ratio: recovery of engines whose open replays no log,
# readwhilewriting on handles that are not thread-safe
na = {"sqlite", "lmdb"}
na_rows = ("recovery", "readwhilewriting")
rows, lines = {}, {}
for line in table:
    f = line.split()
    if len(f) >= 3 and f[0] in benches + shim and (f[0], f[1]) not in rows:  # not the db size table
        rows[(f[0], f[1])] = f[2]
        lines[(f[0], f[1])] = line
bad = []
for k in want:
    v = rows.get(k)
    if k[0] in na_rows and k[1] in na:
        l = lines.get(k, "")
        if v != "n/a" or "x " in l + " " or (k[0] == "recovery" and "open " not in l) or \
           (k[0] == "readwhilewriting" and "not thread-safe" not in l):
            bad.append("table %s/%s: want n/a with the reason and no ratio: %r" % (k[0], k[1], l))
        continue
    try:
        ok = v is not None and float(v) > 0
    except ValueError:
        ok = False
    if not ok: bad.append("table %s/%s: %r" % (k[0], k[1], v))
doc = json.load(open(js))
got = {(r["benchmark"], r["target"]): r for r in doc["results"]}
for k in want:
    r = got.get(k)
    if k[0] == "readwhilewriting" and k[1] in na:
        if r is None or "na" not in r or "vs_baseline" in r: bad.append("json %s/%s: want na: %r" % (k[0], k[1], r))
        continue
    if r is None or not r["ok"] or not r["ops_per_s_median"] > 0:
        bad.append("json %s/%s: %r" % (k[0], k[1], r))
        continue
    if not r.get("peak_rss_kib", 0) > 0 or len(r.get("peak_rss_kib_runs", [])) != 1:
        bad.append("json %s/%s: no peak RSS: %r" % (k[0], k[1], r))
    if k[0] == "recovery" and k[1] in na and ("na" not in r or "vs_baseline" in r):
        bad.append("json %s/%s: want na and no vs_baseline: %r" % (k[0], k[1], r))
    if k[0] == "recovery" and k[1] not in na and "na" in r:
        bad.append("json %s/%s: unexpected na: %r" % (k[0], k[1], r))
# peak RSS in the table: the last column of every measured row is a positive MiB figure
for k in want:
    l = lines.get(k)
    if l is None or (k[0] in na_rows and k[1] in na): continue
    if k[0] == "readwhilewriting": l = l.split("  writer")[0]
    try:
        ok = float(l.split()[-1]) > 0
    except ValueError:
        ok = False
    if not ok: bad.append("table %s/%s: no peak RSS column: %r" % (k[0], k[1], l))
if doc["config"]["num"] != 2000: bad.append("json config.num")
for k in want:
    if k[0] == "readwhilewriting" and k[1] not in na and not got.get(k, {}).get("writes_per_s_median", 0) > 0:
        bad.append("json %s/%s: no writes_per_s_median" % k)
if doc["config"].get("profile") != "bench": bad.append("json config.profile")
if not any("profile bench" in l for l in table): bad.append("table header: no profile")
if "leveldb" in targets and not any("leveldb" in l and "bloom_bits=10" in l for l in table):
    bad.append("table header: leveldb's bench profile not printed")
if bad:
    print("FAIL:\n  " + "\n  ".join(bad)); sys.exit(1)
print("bench smoke: %d rows in the table and the JSON, all positive" % len(want))
PY

# --profile crash: the adapters' crash-testing options, named in the header
"$PC" bench --targets sofadb,leveldb --benchmarks readrandom --num 500 --runs 1 --dir "$work" \
  --profile crash >"$work/crash.txt" 2>&1 || { cat "$work/crash.txt"; echo "FAIL: --profile crash"; exit 1; }
grep -q "profile crash" "$work/crash.txt" || { cat "$work/crash.txt"; echo "FAIL: profile crash not in the header"; exit 1; }
if grep -q "bloom_bits" "$work/crash.txt"; then cat "$work/crash.txt"; echo "FAIL: crash profile has bench options"; exit 1; fi

# bad input is refused
if "$PC" bench --targets nosuchengine --num 10 >/dev/null 2>&1; then
  echo "FAIL: unknown target accepted"; exit 1
fi
out=$("$PC" bench --profile fast --num 10 2>&1) && { echo "FAIL: --profile fast accepted"; exit 1; }
grep -q "profile 'fast' (bench or crash)" <<<"$out" || { echo "FAIL: --profile message: $out"; exit 1; }
echo PASS
