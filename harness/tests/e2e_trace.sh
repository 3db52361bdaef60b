#!/usr/bin/env bash
# Trace-based crash states (docs/powercut.md "Trace-based crash states"):
#  1. a trace state is the state the live case at the same call leaves (crash, kill, torn;
#     strict, ext4, xfs, reorder), file for file;
#  2. a --trace campaign on the planted bug (sofadb-nosync: sync writes acked unsynced) finds
#     it; the record is kept; the failing id's repro with that record gives the same verdict
#     20 times out of 20;
#  3. the same in background mode (sofadb-nosync:deterministic=0, threads in the engine), on
#     a corpus engine (corpus-wal-nofsync) and with 4 driver threads on the group-commit bug
#     (sofadb-groupbug: each recording differs, a new one is refused, the kept one gives
#     20/20); the correct sofadb passes every state;
#  4. bad ids and records are refused with the reason: a record that is not the id's, a cut
#     past the end, torn on a call that is not a write, --record on a live id, minimize of a
#     trace id whose record is not the id's.
set -uo pipefail
PC=${1:?usage: e2e_trace.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. trace states equal live states"
W=mixed:ops=40
for spec in strict:crash:5 strict:crash:23 strict:crash:47 ext4:crash:31 xfs:crash:31 xfs:crash:44 reorder:crash:40 strict:kill:36 ext4:kill:12; do
  IFS=: read -r m k n <<< "$spec"
  rm -rf "$T/live" "$T/tr"
  "$PC" run --target sofadb --workload $W --seed 3 --model "$m" --fault "$k@any#$((n + 1))" --keep "$T/live" > /dev/null 2>&1
  "$PC" repro "pc1/sofadb/$W/3/$m/trace:$k@$n" --keep "$T/tr" > "$T/o" 2>&1 || [ $? -eq 1 ] || fail "repro $spec: $(cat "$T/o")"
  diff -r "$T/live" "$T/tr" > /dev/null || fail "$spec: the trace state differs from the live one: $(diff -r "$T/live" "$T/tr" | head -3)"
done
# torn: the live torn@write#27:300 keeps 300 bytes of the 27th write (call 47); the trace state there the same
rm -rf "$T/live" "$T/tr"
"$PC" run --target sofadb --workload $W --seed 3 --fault "torn@write#27:300" --keep "$T/live" > /dev/null 2>&1
"$PC" repro "pc1/sofadb/$W/3/strict/trace:torn@47:300" --keep "$T/tr" > "$T/o" 2>&1 || [ $? -eq 1 ] || fail "torn repro: $(cat "$T/o")"
diff -r "$T/live" "$T/tr" > /dev/null || fail "torn: the trace state differs from the live one"
echo "   8 states, each the same files as its live case"

echo "== 2. the planted bug, found, kept and reproduced 20/20 from its record"
POWERCUT_TRACE_VERIFY=1 "$PC" campaign --trace --target sofadb-nosync --workload mixed:ops=60 --faults kill,crash,torn \
  --models strict,reorder --cases 1 --jobs 2 --out "$T/bad" --reach none > "$T/out" 2> "$T/err"; rc=$?
[ "$rc" -eq 1 ] || fail "campaign exited $rc, want 1: $(tail -3 "$T/err")"
grep -q "distinct crash states verified" "$T/err" || fail "no distinct-state count: $(cat "$T/err")"
read -r ID REC < <(python3 - "$T/bad" <<'PY'
import json, os, shlex, sys
d = sys.argv[1]
cases = [json.loads(l) for l in open(os.path.join(d, "results.jsonl"))]
fails = [c for c in cases if c["verdict"] == "LOST_ACKED" and "/trace:" in c["id"]]
assert fails, "no LOST_ACKED trace state"
# the live part adds crash points inside recovery only (NONE>PLAN): --faults has no live kind
assert all(("/trace:" in c["id"] and ",r=" in c["id"]) or "none>" in c["id"] for c in cases), "an id without trace:...,r="
kept = [c for c in fails if c["kept"]]
assert kept and all(os.path.getsize(os.path.join(d, c["kept"])) > 0 for c in kept)
assert all(c["reruns"] == c["reproduced"] > 0 for c in kept), [(c["reruns"], c["reproduced"]) for c in kept]
c = kept[0]
rec = shlex.split(c["repro"])[-1]
assert os.path.exists(rec), rec
print(shlex.split(c["repro"])[2], rec)  # the minimal id when minimized, with its record
PY
) || fail "results"
out=$("$PC" repro "$ID" --record "$REC" --count 20); rc=$?
[ "$rc" -eq 1 ] || fail "repro exited $rc, want 1: $out"
echo "$out" | grep -q "^verdict: LOST_ACKED" || fail "repro verdict: $out"
echo "$out" | grep -q "repeat: 20 runs, same verdict every time" || fail "not 20/20: $out"
echo "   $ID: LOST_ACKED 20/20"

echo "== 3. background mode, a corpus engine, the correct engine"
for tgt in sofadb-nosync:deterministic=0 corpus-wal-nofsync; do
  rm -rf "$T/o3"
  "$PC" campaign --trace --target "$tgt" --workload mixed:ops=60 --faults crash --models strict --cases 1 \
    --jobs 2 --out "$T/o3" --reach none > /dev/null 2> "$T/err"; rc=$?
  [ "$rc" -eq 1 ] || fail "$tgt: campaign exited $rc, want 1: $(tail -3 "$T/err")"
  read -r ID REC V < <(python3 - "$T/o3" <<'PY'
import json, os, shlex, sys
d = sys.argv[1]
c = [json.loads(l) for l in open(os.path.join(d, "results.jsonl"))]
f = [x for x in c if x["verdict"] not in ("PASS", "ERROR") and "/trace:" in x["id"]][0]
print(shlex.split(f["repro"])[2], shlex.split(f["repro"])[-1], f["verdict"])
PY
)
  out=$("$PC" repro "$ID" --record "$REC" --count 20); rc=$?
  [ "$rc" -eq 1 ] || fail "$tgt: repro exited $rc: $out"
  echo "$out" | grep -q "^verdict: $V" || fail "$tgt: repro verdict: $out"
  echo "$out" | grep -q "repeat: 20 runs, same verdict every time" || fail "$tgt: not 20/20: $out"
  echo "   $tgt: $V 20/20"
done
# concurrent driver threads on the group-commit bug: every record differs, the kept one pins the state
found=0
for s in 1 2 3; do
  rm -rf "$T/o3"
  "$PC" campaign --trace --target sofadb-groupbug --workload fill:ops=100,keys=1000000,dist=uniform,threads=4,sync=1 --seed $s --faults crash \
    --models strict --cases 1 --jobs 2 --out "$T/o3" --reach none > /dev/null 2> "$T/err"; rc=$?
  [ "$rc" -eq 0 ] && continue
  [ "$rc" -eq 1 ] || fail "groupbug: campaign exited $rc: $(tail -3 "$T/err")"
  ID=; read -r ID REC < <(python3 - "$T/o3" <<'PY'
import json, os, shlex, sys
c = [json.loads(l) for l in open(os.path.join(sys.argv[1], "results.jsonl"))]
f = [x for x in c if x["verdict"] == "LOST_ACKED" and "/trace:" in x["id"]]
if f:
    print(shlex.split(f[0]["repro"])[2], shlex.split(f[0]["repro"])[-1])
PY
)
  [ -n "${ID:-}" ] || continue # only a live case inside recovery failed
  out=$("$PC" repro "$ID" --record "$REC" --count 20); rc=$?
  [ "$rc" -eq 1 ] && echo "$out" | grep -q "repeat: 20 runs, same verdict every time" || fail "groupbug: not 20/20: $out"
  out=$("$PC" repro "$ID" 2>&1); rc=$?
  { [ "$rc" -eq 2 ] && echo "$out" | grep -q "is not the one the id names"; } || { [ "$rc" -eq 1 ] && echo "$out" | grep -q "^verdict: LOST_ACKED"; } ||
    fail "groupbug: repro without its record: $rc $out"
  echo "   sofadb-groupbug threads=4 seed $s: LOST_ACKED 20/20 from its record (a new recording: exit $rc)"
  found=1
  break
done
[ "$found" -eq 1 ] || fail "groupbug not found by trace campaigns of seeds 1-3"
rm -rf "$T/o3"
# POWERCUT_TRACE_VERIFY: every crash state reused because nothing durable changed since the
# last one is built and hashed anyway; a different hash is an error row (exit 2)
POWERCUT_TRACE_VERIFY=1 "$PC" campaign --trace --target sofadb --workload mixed:ops=60 --faults kill,crash,torn --models strict,ext4,xfs,reorder \
  --cases 1 --jobs 2 --out "$T/o3" --reach none > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 0 ] || fail "sofadb: campaign exited $rc, want 0: $(tail -3 "$T/err")"
echo "   sofadb: every state passes"

echo "== 4. refusals"
out=$("$PC" repro "pc1/sofadb/$W/3/strict/trace:crash@5,r=0123456789abcdef" 2>&1); rc=$?
[ "$rc" -eq 2 ] || fail "wrong digest: exit $rc"
echo "$out" | grep -q "is not the one the id names (0123456789abcdef)" || fail "wrong digest: $out"
out=$("$PC" repro "pc1/sofadb/$W/3/strict/trace:crash@99999" 2>&1); rc=$?
[ "$rc" -eq 2 ] && echo "$out" | grep -q "cut 99999 is past the record's end" || fail "past the end: $rc $out"
out=$("$PC" repro "pc1/sofadb/$W/3/strict/trace:torn@0:1" 2>&1); rc=$?
[ "$rc" -eq 2 ] && echo "$out" | grep -q "the call there is not a write" || fail "torn on an open: $rc $out"
out=$("$PC" repro "pc1/sofadb/$W/3/strict/trace:crash@5,s=all" 2>&1); rc=$?
[ "$rc" -eq 2 ] && echo "$out" | grep -q "a subset (s=) is for the model reorder only" || fail "subset: $rc $out"
out=$("$PC" repro "pc1/sofadb/$W/3/strict/trace:boom@5" 2>&1); rc=$?
[ "$rc" -eq 2 ] && echo "$out" | grep -q "the kind is kill, crash or torn" || fail "kind: $rc $out"
out=$("$PC" repro "pc1/sofadb/$W/3/strict/crash@fsync#1" --record "$REC" 2>&1); rc=$?
[ "$rc" -eq 2 ] && echo "$out" | grep -q "record is for a trace state's id" || fail "--record on a live id: $rc $out"
out=$("$PC" minimize "pc1/sofadb/$W/3/strict/trace:crash@5,r=0123456789abcdef" 2>&1); rc=$?
[ "$rc" -eq 2 ] && echo "$out" | grep -q "is not the one the id names (0123456789abcdef)" || fail "minimize, wrong digest: $rc $out"
echo "   refused with the reason"

echo "== 5. the default campaign: trace states for kill/crash/torn, live cases for the rest"
rm -rf "$T/d"
"$PC" campaign --target sofadb --workload mixed:ops=40 --faults kill,crash,eio --cases 6 --jobs 2 --out "$T/d" \
  --reach none > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 0 ] || fail "default campaign exited $rc: $(tail -3 "$T/err")"
grep -q "trace-based states" "$T/err" || fail "the default campaign made no trace states: $(cat "$T/err")"
python3 - "$T/d" <<'PY' || fail "default campaign results"
import json, os, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(os.path.join(d, "results.jsonl"))]
trace = [r for r in rows if "/trace:" in r["id"]]
live = [r for r in rows if "/trace:" not in r["id"]]
assert trace, "no trace state"
assert {r["fault_kind"] for r in trace} <= {"kill", "crash"}, {r["fault_kind"] for r in trace}
assert 0 < len(live) <= 6, len(live)
# a live case is an eio case or a crash point inside recovery, never a workload kill/crash
assert all(r["fault_kind"] == "eio" or "none>" in r["id"] for r in live), [r["id"] for r in live]
m = json.load(open(os.path.join(d, "meta.json")))
assert m["live_cases"] == len(live) and m["trace_states"] > 0, m
assert m["cases"] == m["live_cases"] + m["trace_states"], m
PY
for opt in "--live:4" "--shard 1/2:2"; do
  n=${opt##*:} opt=${opt%:*}
  rm -rf "$T/d"
  "$PC" campaign --target sofadb --workload mixed:ops=40 --faults kill,crash --cases 4 --jobs 1 --out "$T/d" \
    --reach none $opt > /dev/null 2> "$T/err"; rc=$?
  [ "$rc" -eq 0 ] || fail "$opt: exit $rc: $(tail -3 "$T/err")"
  grep -q "/trace:" "$T/d/results.jsonl" && fail "$opt: a trace state in a live campaign"
  [ "$(wc -l < "$T/d/results.jsonl")" -eq "$n" ] || fail "$opt: not $n live cases"
done
out=$("$PC" campaign --trace --shard 1/2 --target sofadb --cases 1 --out "$T/d2" 2>&1); rc=$?
[ "$rc" -eq 2 ] && echo "$out" | grep -q -- "--shard is for live cases (--live)" || fail "--trace --shard: $rc $out"
echo "   default: trace states plus live eio and recovery cases; --live and --shard: live cases only"

echo "== 6. a job keeps a bounded number of recovered states (large: megabytes each)"
# every distinct state's scan used to stay in memory: a long campaign grew by gigabytes
# (a 4 MiB bound, so that a slow sanitizer build's few states overflow it too)
POWERCUT_TRACE_CACHE_MIB=4 POWERCUT_PROFILE=1 "$PC" campaign --trace --target sofadb --workload large:ops=40 \
  --faults crash --models strict,ext4 --time 6s --jobs 1 --reach none --out "$T/big" > "$T/big.out" 2> "$T/big.err"; rc=$?
[ "$rc" -eq 0 ] || fail "large trace campaign exited $rc: $(tail -3 "$T/big.err")"
python3 - "$T/big.err" <<'PY' || fail "the job's cache of recovered states: $(grep -E 'cache|distinct' "$T/big.err")"
import re, sys
t = open(sys.argv[1]).read()
n, b = map(int, re.search(r"; cache (\d+) states, (\d+) bytes", t).groups())
d = int(re.search(r"(\d+) distinct crash states verified", t).group(1))
assert n == 1 or b <= 4 << 20, "%d states cached in %d bytes: over 4 MiB" % (n, b)
assert d > n, "%d distinct states, %d cached: nothing left the cache, the check proves nothing" % (d, n)
print("   %d distinct states, %d cached (%.1f MiB)" % (d, n, b / 1048576))
PY
out=$(POWERCUT_TRACE_CACHE_MIB=lots "$PC" campaign --trace --target sofadb --workload mixed:ops=10 --cases 1 \
  --out "$T/bad" 2>&1); rc=$?
[ "$rc" -eq 2 ] && echo "$out" | grep -q "POWERCUT_TRACE_CACHE_MIB=lots: want a number" || fail "a bad POWERCUT_TRACE_CACHE_MIB: $rc $out"
echo "PASS"
