#!/usr/bin/env bash
# The close op (docs/workloads.md "close"): a CLOSE is an op of its own, acked when close
# returns, and the OPEN after it another, so crashes land between an acked close and the open,
# with one driver thread and with several. The planted sofadb-close-nosync (sync_on_close=0
# behind an adapter that claims close_syncs):
#  1. one thread, close ops only: caught (LOST_ACKED), the repro gives it again, and the
#     op right after the last durable one is a CLOSE (oplog gen prints the stream);
#  2. two threads, close ops: caught; the same workload with reopen ops only (a reopen of the
#     concurrent driver is acked after its open) is not;
#  3. sofadb (its close syncs) passes the two-thread close workload;
#  4. an exec target takes close and open as separate ops: an open that fails after an acked
#     close is FAILED and stops the workload with the program's reason.
set -uo pipefail
PC=${1:?usage: e2e_close_op.sh path/to/powercut path/to/oplog}
OPLOG=${2:?usage: e2e_close_op.sh path/to/powercut path/to/oplog}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
C=(--faults crash --models strict --jobs 2 --reach none --no-minimize --quiet)
W1="mixed:ops=100,close=0.05,reopen=0,sync=0"
W2="mixed:ops=100,threads=2,close=0.05,reopen=0,sync=0"
W2R="mixed:ops=100,threads=2,close=0,reopen=0.05,sync=0"
count() { python3 -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["verdict"] == sys.argv[2]))' "$1" "$2"; }

echo "== 1. one thread: a crash after an acked close, before its open, loses what it promised"
"$PC" campaign --live --target sofadb-close-nosync --workload "$W1" "${C[@]}" --cases 60 --out "$T/one"; rc=$?
[ "$rc" -eq 1 ] || fail "campaign on sofadb-close-nosync ($W1) exited $rc, want 1"
read -r id through < <(python3 -c '
import json, re, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    m = re.search(r"durable through op (\d+)", d["explanation"])
    if d["verdict"] == "LOST_ACKED" and m:
        print(d["id"], m.group(1)); break' "$T/one/results.jsonl")
[ -n "${id:-}" ] || fail "no LOST_ACKED case naming its durable point"
out=$("$PC" repro "$id" 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q '^verdict: LOST_ACKED$' <<<"$out" || fail "repro $id: rc=$rc: $out"
gen=$("$OPLOG" gen "$W1" 0 all) || fail "oplog gen $W1 failed"
grep -q "^#$((through + 1)) CLOSE " <<<"$gen" ||
  fail "op $((through + 1)) (after the durable point of $id) is not a CLOSE: $(grep "^#$((through + 1)) " <<<"$gen")"
grep -q "^#$((through + 2)) OPEN " <<<"$gen" || fail "op $((through + 2)) is not the OPEN after the CLOSE"
echo "   caught: $id (durable through op $through, op $((through + 1)) a CLOSE)"

echo "== 2. two threads: close ops catch it, reopen ops alone do not"
"$PC" campaign --live --target sofadb-close-nosync --workload "$W2" "${C[@]}" --cases 60 --out "$T/two"; rc=$?
[ "$rc" -eq 1 ] || fail "campaign on sofadb-close-nosync ($W2) exited $rc, want 1"
n=$(count "$T/two/results.jsonl" LOST_ACKED)
[ "$n" -gt 0 ] || fail "no LOST_ACKED with $W2"
"$PC" campaign --live --target sofadb-close-nosync --workload "$W2R" "${C[@]}" --cases 60 --out "$T/reopen"; rc=$?
[ "$rc" -eq 0 ] || fail "campaign on sofadb-close-nosync ($W2R) exited $rc, want 0 (a reopen is acked after its open)"
echo "   close ops: $n LOST_ACKED of 60; reopen ops only: $(count "$T/reopen/results.jsonl" PASS) PASS of 60"

echo "== 3. sofadb's own close syncs"
"$PC" campaign --live --target sofadb --workload "$W2" "${C[@]}" --cases 60 --out "$T/ok"; rc=$?
[ "$rc" -eq 0 ] || fail "campaign on sofadb ($W2) exited $rc, want 0"
echo "== 4. exec: the open after an acked close fails"
HERE=$(cd "$(dirname "$0")" && pwd)
out=$("$PC" run --target "exec:cmd=python3 $HERE/data/reopen_fails_kv.py,contract=process_safe" \
  --workload fill:ops=8,close=0.4 --seed 0 --fault none 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q "^note: *workload stopped early: open of op 1 failed: exec: open: cannot reopen" <<<"$out" &&
  grep -q "^ops: *2 issued, 1 acked" <<<"$out" || fail "exec open failure after a close: rc=$rc: $out"
echo "e2e_close_op: all checks passed"
