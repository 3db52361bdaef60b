#!/usr/bin/env bash
# bench_recovery.sh - `powercut bench-recovery`: the fill stays in the log
# (LevelDB and RocksDB when built: no table bytes, the log at least the keys
# and values put), every key is back after recovery, an exec target works,
# engines whose open replays no log are labelled "open" (no MiB/s), --out
# writes an HTML page with an SVG growth chart and the JSON, and bad input is
# refused without touching what is not ours. Figures are not asserted.
# usage: bench_recovery.sh /path/to/powercut /path/to/examples
set -euo pipefail
PC=${1:?usage: bench_recovery.sh /path/to/powercut /path/to/examples}
EX=${2:?usage: bench_recovery.sh /path/to/powercut /path/to/examples}
work=$(mktemp -d "${TMPDIR:-/tmp}/pc-brec.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

built=$("$PC" targets 2>/dev/null)
args=(--target sofadb)
for p in leveldb rocksdb sqlite lmdb; do
  if grep -q "^$p " <<<"$built"; then args+=(--target "$p"); fi
done
args+=(--target "exec:cmd=python3 $EX/dbm_kv.py,contract=durable_ack+prefix")

"$PC" bench-recovery "${args[@]}" --sizes 1M,2M --runs 1 --cache warm --dir "$work" --json \
  >"$work/out.json" 2>"$work/err.txt" || { cat "$work/err.txt"; fail "bench-recovery --json exited non-zero"; }
python3 - "$work/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
seen = set()
for r in d["results"]:
    t = r["target"]; seen.add(t)
    where = "%s %d %s" % (t, r["size"], r["cache"])
    if not r["ok"]: bad.append(where + ": not ok")
    if r["keys_back"] != r["keys"] or r["keys"] <= 0: bad.append(where + ": keys %r back of %r" % (r["keys_back"], r["keys"]))
    if t in ("sofadb", "leveldb", "rocksdb"):
        if r["table_bytes"] != 0: bad.append(where + ": table bytes %d after the fill" % r["table_bytes"])
        if r["log_bytes"] < r["keys"] * 116: bad.append(where + ": log %d < keys x 116" % r["log_bytes"])
        if r["measure"] != "recovery" or "mib_per_s" not in r or "na" in r: bad.append(where + ": %r" % r)
    if t in ("sqlite", "lmdb"):
        if r["measure"] != "open" or "mib_per_s" in r or "na" not in r or r["replayed_bytes"] != 0:
            bad.append(where + ": want measure open, na, no MiB/s: %r" % r)
if "exec" not in seen: bad.append("no exec rows")
for g in d["growth"]:
    if "ms_per_mib" not in g or g["points"] != 2: bad.append("growth %r" % g)
if bad:
    print("FAIL:\n  " + "\n  ".join(bad)); sys.exit(1)
print("bench-recovery json: %d rows, every key back, fills in the log" % len(d["results"]))
PY

# table, cold runs and --out on one small target
"$PC" bench-recovery --target sofadb --sizes 256K,512K --runs 1 --dir "$work" --out "$work/html" \
  >"$work/table.txt" 2>"$work/err2.txt" || { cat "$work/err2.txt"; fail "bench-recovery --out exited non-zero"; }
cat "$work/table.txt"
grep -Eq '^sofadb +recovery +256K +warm' "$work/table.txt" || fail "no warm row in the table"
grep -Eq '^sofadb +recovery +512K +cold' "$work/table.txt" || fail "no cold row in the table"
grep -q 'ms/MiB' "$work/table.txt" || fail "no growth line"
grep -q '<svg' "$work/html/index.html" && grep -q '<polyline' "$work/html/index.html" || fail "no SVG chart in index.html"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/html/recovery.json" || fail "recovery.json does not parse"
# a second run into the same --out is allowed (it is ours)
"$PC" bench-recovery --target sofadb --sizes 256K --runs 1 --cache warm --dir "$work" --out "$work/html" \
  >/dev/null 2>&1 || fail "rerun into our own --out refused"

# bad input: a foreign, non-empty --out is refused and left alone
mkdir -p "$work/foreign" && echo keep >"$work/foreign/index.html"
set +e
out=$("$PC" bench-recovery --target sofadb --sizes 256K --runs 1 --dir "$work" --out "$work/foreign" 2>&1); rc=$?
set -e
[ "$rc" = 2 ] || fail "foreign --out: exit $rc, want 2"
grep -q "is not empty and not an earlier bench-recovery output" <<<"$out" || fail "foreign --out message: $out"
[ "$(cat "$work/foreign/index.html")" = keep ] || fail "foreign --out: index.html touched"
set +e
out=$("$PC" bench-recovery --target sofadb --cache tepid 2>&1); rc=$?
set -e
[ "$rc" = 2 ] && grep -q "cache 'tepid' (warm, cold or warm,cold)" <<<"$out" || fail "bad --cache: rc $rc: $out"
set +e
out=$("$PC" bench-recovery --target nosuch 2>&1); rc=$?
set -e
[ "$rc" = 2 ] && grep -q "unknown target 'nosuch'" <<<"$out" || fail "unknown target: rc $rc: $out"
echo PASS
