#!/usr/bin/env bash
# The recovery of an exec target runs in one long-lived program per worker (docs/targets.md
# "Recovery of exec targets"): open, scan, close for one crashed data dir after another.
#  1. a campaign of 20 cases starts the recovery program twice (the dry run's, the
#     worker's), not 20 times; with reuse=0 it starts one per case;
#  2. a program that crashes at the open of one particular state gives those cases the
#     verdict a new program per case gives (RECOVERY_FAILED, "is gone"), and the cases
#     after them pass in a new program;
#  3. a program that hangs at that open: RECOVERY_HANG within the timeout, every run;
#  4. no recovery program or recovery process is left after a campaign, nor after SIGINT.
set -uo pipefail
PC=${1:?usage: e2e_exec_recovery.sh path/to/powercut}
DRV=${2:?usage: e2e_exec_recovery.sh path/to/powercut path/to/counting_kv.py [python3]}
PY=${3:-python3}
PART=${4:-all} # count, crash, hang, sigint or all
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cp "$DRV" "$T/kv.py" # a path of this test's own: pgrep finds its programs and nothing else
TGT="exec:cmd=$PY $T/kv.py,contract=durable_ack+process_safe+prefix+atomic_batch"
C=(--workload fill:ops=20,sync=1 --faults crash --jobs 1 --reach none --no-minimize --rerun 1 --quiet)
starts() { awk -v r="$1" '$1 == r { n++ } END { print n + 0 }' "$2" 2>/dev/null || echo 0; }
no_leftovers() {
  sleep 0.3
  local left
  left=$(pgrep -f "$T/" | grep -v "^$$\$" | tr '\n' ' ')
  [ -z "$left" ] || { ps -o pid,ppid,pgid,args -p ${left// /,} >&2; fail "$1: processes left: $left"; }
}
# verdicts as (plan, model, verdict, explanation) lines, in the order the worker ran them
verdicts() {
  python3 -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    print(d["plan"], d["model"], d["verdict"], d["explanation"])' "$1"
}

part() { [ "$PART" = all ] || [ "$PART" = "$1" ]; }

if part count; then
echo "== 1. one recovery program for many cases"
COUNT_FILE=$T/n1 "$PC" campaign --live --target "$TGT" "${C[@]}" --cases 20 --out "$T/r1"; rc=$?
[ "$rc" -eq 0 ] || fail "campaign exited $rc, want 0"
n=$(wc -l <"$T/r1/results.jsonl")
[ "$n" -eq 20 ] || fail "$n cases, want 20"
r=$(starts r "$T/n1")
[ "$r" -eq 2 ] || fail "$r recovery programs started for 20 cases, want 2 (dry run, worker)"
no_leftovers "after the campaign"
COUNT_FILE=$T/n0 "$PC" campaign --live --target "$TGT,reuse=0" "${C[@]}" --cases 20 --out "$T/r0"; rc=$?
[ "$rc" -eq 0 ] || fail "reuse=0: campaign exited $rc, want 0"
r0=$(starts r "$T/n0")
[ "$r0" -ge 20 ] || fail "reuse=0: $r0 recovery programs started for 20 cases, want one per case"
echo "   20 cases: $r recovery programs (reuse=0: $r0)"
# a program that exits, or says more, after its close is replaced, never blamed
for plant in exit chat; do
  COUNT_FILE=$T/n-$plant PLANT=$plant "$PC" campaign --live --target "$TGT" "${C[@]}" --cases 10 --out "$T/$plant"; rc=$?
  [ "$rc" -eq 0 ] || fail "PLANT=$plant: campaign exited $rc, want 0 (every case PASS)"
  r=$(starts r "$T/n-$plant")
  [ "$r" -ge 10 ] || fail "PLANT=$plant: $r recovery programs for 10 cases: a misbehaving one was kept"
done
no_leftovers "after the misbehaving programs"

fi

if part crash; then
echo "== 2. a crash at the open of one state: the verdict of a new program"
for reuse in 1 0; do # --order kinds: the case list that reaches the planted state in 20 cases
  COUNT_FILE=$T/n-c$reuse PLANT=crash PLANT_KEYS=13 "$PC" campaign --live --target "$TGT,reuse=$reuse" "${C[@]}" --cases 20 \
    --order kinds --out "$T/c$reuse"; rc=$?
  [ "$rc" -eq 1 ] || fail "planted crash, reuse=$reuse: campaign exited $rc, want 1"
  verdicts "$T/c$reuse/results.jsonl" >"$T/v$reuse"
done
no_leftovers "after the crashes"
cmp -s "$T/v1" "$T/v0" || { diff "$T/v0" "$T/v1" >&2; fail "verdicts differ between one program and one per case"; }
want="RECOVERY_FAILED open after the crash failed: exec: program '$PY $T/kv.py' is gone (EOF waiting for a reply)"
nf=$(grep -cF "$want" "$T/v1")
[ "$nf" -ge 1 ] || fail "no case with: $want"
# the case right after each crash ran in a new program and passed (unless it hit the state too)
awk -v w="$want" 'index($0, w) { crashed = 1; next } crashed && / PASS / { ok = 1 } { crashed = 0 } END { exit !ok }' \
  "$T/v1" || fail "no PASS right after a crashed recovery"
r=$(starts r "$T/n-c1")
# a crashed case is run again for its tarball, and the group's smallest case once more
[ "$r" -le $((3 + 3 * nf)) ] || fail "$r recovery programs for $nf crashed cases, want at most $((3 + 3 * nf))"
echo "   $nf cases crashed the recovery program, same verdicts as one program per case; $r programs"

fi

if part hang; then
echo "== 3. a hang at the open of one state"
# crash@open#15: the power fails after 7 acked puts, so recovery opens a 7-key state
out=$(PLANT=hang PLANT_KEYS=7 "$PC" run --target "$TGT" --workload fill:ops=20,sync=1 --seed 0 \
  --fault 'crash@open#15' --timeout 2s 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q '^verdict: RECOVERY_HANG$' <<<"$out" || fail "hang: run exited $rc: $out"
grep -q '^explain: recovery did not finish within 2000 ms' <<<"$out" || fail "hang: no timeout message: $out"
id=$(sed -n 's/^case: *//p' <<<"$out")
out=$(PLANT=hang PLANT_KEYS=7 "$PC" repro "$id" --count 2 --timeout 2s 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q '^verdict: RECOVERY_HANG$' <<<"$out" || fail "hang: repro exited $rc: $out"
grep -q 'same verdict every time' <<<"$out" || fail "hang: not the same verdict twice: $out"
no_leftovers "after the hang"
out=$(PLANT=hang PLANT_KEYS=7 "$PC" repro "${id/atomic_batch/atomic_batch,timeout=500}" --timeout 5s 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q "recovery hung: exec: no reply from '$PY $T/kv.py' within 500 ms" <<<"$out" ||
  fail "hang under the exec timeout: rc=$rc: $out"
no_leftovers "after the exec timeout"
fi

if part sigint; then
echo "== 4. SIGINT: nothing left behind"
set -m # job control: a background job does not start with SIGINT ignored
COUNT_FILE=$T/ni "$PC" campaign --live --target "$TGT" --workload fill:ops=20,sync=1 --faults crash --time 30s --jobs 2 \
  --reach none --no-minimize --quiet --out "$T/ri" &
pid=$!
set +m
for _ in $(seq 300); do [ "$(starts r "$T/ni")" -ge 3 ] && break; sleep 0.1; done
[ "$(starts r "$T/ni")" -ge 3 ] || fail "the workers' recovery programs never started"
sleep 0.5
kill -INT $pid
wait $pid; rc=$?
[ "$rc" -eq 130 ] || fail "SIGINT: campaign exited $rc, want 130"
no_leftovers "after SIGINT"
fi
echo "e2e_exec_recovery $PART: all checks passed"
