#!/usr/bin/env bash
# Close is a crash point of its own (docs/workloads.md "reopen"): a reopen op is acked when
# close returns, before the open, so a close_syncs contract is checked by crashes between
# an acked close and the next open's own syncs.
#  1. sofadb-close-nosync (sync_on_close=0 behind an adapter that claims close_syncs) is
#     caught: LOST_ACKED, and its repro names a durable point at a reopen;
#  2. sofadb (sync_on_close=1) passes the same campaign.
set -uo pipefail
PC=${1:?usage: e2e_close.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
C=(--workload reopen:ops=100 --faults crash --models strict --cases 150 --jobs 2 --reach none --no-minimize --quiet)

echo "== 1. a close that does not sync, under a contract that says it does"
"$PC" campaign --live --target sofadb-close-nosync "${C[@]}" --out "$T/bad"; rc=$?
[ "$rc" -eq 1 ] || fail "campaign on sofadb-close-nosync exited $rc, want 1"
id=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["verdict"] == "LOST_ACKED":
        print(d["id"]); break' "$T/bad/results.jsonl")
[ -n "$id" ] || fail "no LOST_ACKED case"
out=$("$PC" repro "$id" 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q '^verdict: LOST_ACKED$' <<<"$out" || fail "repro $id: rc=$rc: $out"
echo "   caught: $id"

echo "== 2. sofadb's own close syncs"
"$PC" campaign --live --target sofadb "${C[@]}" --out "$T/ok"; rc=$?
[ "$rc" -eq 0 ] || fail "campaign on sofadb exited $rc, want 0"
echo "e2e_close: all checks passed"
