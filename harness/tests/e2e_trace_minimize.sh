#!/usr/bin/env bash
# powercut minimize on trace states (docs/powercut.md "Minimization"):
#  1. a failing trace state of the planted bug (sofadb-nosync: sync writes acked unsynced),
#     taken from a --trace campaign, minimizes to an id with fewer ops whose record is kept;
#     `repro --record` of it gives the same verdict (LOST_ACKED) 20 times out of 20;
#     with the same ops (--budget too small to re-record), an earlier cut of the same record;
#  2. a passing trace state: nothing to minimize (exit 0);
#  3. the campaign minimizes its failing trace states (minimized_id, the minimal record kept
#     in DIR/records, the summary's repro line names it);
#  4. hostile input: a missing or corrupt record, a record that is not the id's, a records
#     dir holding another file under the record's name, --record on a live id.
set -uo pipefail
PC=${1:?usage: e2e_trace_minimize.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$T" || exit 1

echo "== 1. a failing trace state shrinks, and its minimal id reproduces 20/20"
"$PC" campaign --trace --target sofadb-nosync --workload mixed:ops=60 --faults crash --models strict \
  --cases 1 --jobs 1 --out "$T/c" --reach none --no-minimize > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 1 ] || fail "campaign exited $rc, want 1: $(tail -3 "$T/err")"
read -r ID REC CUT < <(python3 - "$T/c" <<'PY'
import json, os, re, shlex, sys
cases = [json.loads(l) for l in open(os.path.join(sys.argv[1], "results.jsonl"))]
f = [c for c in cases if c["verdict"] == "LOST_ACKED" and not c["minimized_id"]]
assert f, "no LOST_ACKED, or minimized with --no-minimize"
c = max(f, key=lambda c: int(re.search(r"trace:crash@(\d+)", c["id"]).group(1)))  # the latest cut
print(c["id"], shlex.split(c["repro"])[-1], re.search(r"trace:crash@(\d+)", c["id"]).group(1))
PY
) || fail "results"
out=$("$PC" minimize "$ID" --record "$REC" --records "$T/min" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "minimize exited $rc, want 1: $out"
grep -q '^verdict: LOST_ACKED (held through' <<<"$out" || fail "verdict line: $out"
MID=$(sed -n 's/^minimal: //p' <<<"$out")
MREC=$(sed -n 's/^record:  \([^ ]*\) .*/\1/p' <<<"$out")
[ -n "$MID" ] && [ -f "$MREC" ] || fail "no minimal id or its record is missing: $out"
DIG=$(sed -n 's/.*,r=\([0-9a-f]\{16\}\)$/\1/p' <<<"$MID")
[ "$MREC" = "$T/min/$DIG.rec" ] || fail "the record $MREC is not DIR/<digest of the id>.rec ($DIG)"
ops=$(sed -n 's|^pc1/sofadb-nosync/mixed:ops=\([0-9]*\)/0/strict/trace:crash@[0-9]*,r=[0-9a-f]*$|\1|p' <<<"$MID")
[ -n "$ops" ] && [ "$ops" -lt 60 ] || fail "the minimal id $MID has not fewer ops than 60 (a crash state of the same kind)"
grep -q "^repro:   powercut repro '$MID' --record '$MREC' --count 20$" <<<"$out" || fail "repro line: $out"
grep -q "a new recording of the workload gives the same record" <<<"$out" || fail "sofadb-nosync records are deterministic: $out"
rout=$("$PC" repro "$MID" --record "$MREC" --count 20); rc=$?
[ "$rc" -eq 1 ] || fail "repro of $MID exited $rc, want 1: $rout"
grep -q '^verdict: LOST_ACKED$' <<<"$rout" || fail "the minimal id lost the verdict: $rout"
grep -q '^repeat: 20 runs, same verdict every time$' <<<"$rout" || fail "not 20/20: $rout"
echo "   $ID -> $MID: LOST_ACKED 20/20"
# no re-recording (budget: the input's 5 rebuilds, 5 of one candidate): the earliest cut of the record
out=$("$PC" minimize "$ID" --record "$REC" --budget 10 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "minimize --budget 10 exited $rc: $out"
mid2=$(sed -n 's/^minimal: //p' <<<"$out")
cut2=$(sed -n 's|^pc1/sofadb-nosync/mixed:ops=60/0/strict/trace:crash@\([0-9]*\),r=.*|\1|p' <<<"$mid2")
[ -n "$cut2" ] && [ "$cut2" -lt "$CUT" ] || fail "with the same ops the cut did not move before $CUT: $out"
grep -q "^record:  $REC " <<<"$out" || fail "the same record: $out"
rout=$("$PC" repro "$mid2" --record "$REC" --count 20)
grep -q '^repeat: 20 runs, same verdict every time$' <<<"$rout" || fail "$mid2 not 20/20: $rout"
echo "   same ops: cut $CUT -> $cut2"

echo "== 2. a passing trace state: nothing to minimize"
out=$("$PC" minimize "pc1/sofadb-nosync/mixed:ops=60/0/strict/trace:crash@3" --records "$T/none" 2>&1); rc=$?
[ "$rc" -eq 0 ] || fail "minimize of a passing state exited $rc, want 0: $out"
[ "$out" = "verdict: PASS: nothing to minimize" ] || fail "passing state: $out"
[ ! -e "$T/none" ] || fail "a records dir was made for a passing state"
echo "   $out"

echo "== 3. the campaign minimizes its failing trace states"
"$PC" campaign --trace --target sofadb-nosync --workload mixed:ops=60 --faults crash --models strict \
  --cases 1 --jobs 1 --out "$T/m" --reach none > "$T/out" 2> "$T/err"; rc=$?
[ "$rc" -eq 1 ] || fail "campaign exited $rc, want 1: $(tail -3 "$T/err")"
python3 - "$T/m" <<'PY' || fail "campaign minimization"
import json, os, re, shlex, sys
d = sys.argv[1]
cases = [json.loads(l) for l in open(os.path.join(d, "results.jsonl"))]
# the live part (crash points inside recovery) has failures of its own, minimized as live cases
m = [c for c in cases if c["minimized_id"] and "/trace:" in c["id"]]
assert m, "no failure minimized"
for c in m:
    ops = int(re.search(r"mixed:ops=(\d+)/", c["minimized_id"]).group(1))
    assert ops < 60, c["minimized_id"]
    dig = re.search(r",r=([0-9a-f]{16})$", c["minimized_id"]).group(1)
    assert os.path.exists(os.path.join(d, "records", dig + ".rec")), dig
    r = shlex.split(c["repro"])
    assert r[2] == c["minimized_id"] and r[3] == "--record" and r[4].endswith("/records/%s.rec" % dig), c["repro"]
    assert c["reruns"] == c["reproduced"] > 0, (c["reruns"], c["reproduced"])
s = json.load(open(os.path.join(d, "summary.json")))
for f in s["failures"]:
    assert "/trace:" not in f["repro"] or "--record" in f["repro"], f["repro"]
PY
grep -q -- "repro: powercut repro 'pc1/sofadb-nosync/mixed:ops=[0-9]/0/strict/trace:crash@[0-9]*,r=[0-9a-f]*' --record '$T/m/records/" "$T/out" "$T/err" ||
  fail "the terminal summary's repro line is not a minimal id's with its record: $(cat "$T/out" "$T/err")"
echo "   minimized ids with fewer ops, their records kept, repro lines name them"

echo "== 4. hostile input"
out=$("$PC" minimize "$ID" --record "$T/nope.rec" 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "record $T/nope.rec: No such file or directory" <<<"$out" || fail "missing record: $rc $out"
echo garbage > "$T/bad.rec"
out=$("$PC" minimize "$ID" --record "$T/bad.rec" 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "bad.rec is not a faultfs record" <<<"$out" || fail "corrupt record: $rc $out"
out=$("$PC" minimize "$MID" --record "$REC" 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "is not the one the id names ($DIG)" <<<"$out" || fail "another record: $rc $out"
mkdir -p "$T/clash" && echo mine > "$T/clash/$DIG.rec"
out=$("$PC" minimize "$ID" --record "$REC" --records "$T/clash" 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "$T/clash/$DIG.rec exists and is not the record $DIG: left alone" <<<"$out" || fail "clash: $rc $out"
[ "$(cat "$T/clash/$DIG.rec")" = mine ] || fail "the file in the records dir was replaced"
[ "$(ls -A "$T/clash")" = "$DIG.rec" ] || fail "a temp file was left in the records dir: $(ls -A "$T/clash")"
out=$("$PC" minimize 'pc1/sofadb-nosync/mixed:ops=60/0/strict/crash@write#38' --record "$REC" 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "record and --records are for a trace state's id" <<<"$out" || fail "--record on a live id: $rc $out"
echo "   refused with the reason, nothing replaced"
echo "PASS"
