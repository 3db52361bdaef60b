#!/usr/bin/env bash
# Faults inside recovery (docs/powercut.md "Fault plans"): a case plan PLAN>RPLAN
#  1. malformed or unsupported recovery plans are refused with exit 2 and a reason;
#  2. a recovery-only ordering bug (corpus-recovery-log-early) is caught by a crash inside
#     the first recovery, its twin passes the same case, and the note says where it fired;
#  3. a recovery fault that does not fire is said so, and the case still ends in a power cut.
set -uo pipefail
PC=${1:?usage: e2e_recovery_faults.sh path/to/powercut}
fail() { echo "FAIL: $*" >&2; exit 1; }
W=mixed:ops=30

echo "== 1. refused plans"
out=$("$PC" run --target sofadb --workload $W --seed 0 --fault 'none>' 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "empty recovery plan (after '>') field" <<<"$out" || fail "'none>': rc=$rc: $out"
out=$("$PC" run --target sofadb --workload $W --seed 0 --fault 'none>crash@bogus#1' 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "recovery plan 'crash@bogus#1' (after '>')" <<<"$out" || fail "bad recovery plan: rc=$rc: $out"
out=$("$PC" repro 'pc1/sofadb/mixed/0/kernel-ext4/none>crash@fsync#1' 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "not supported on a real file system (model kernel-ext4)" <<<"$out" || fail "kernel-ext4: rc=$rc: $out"

echo "== 2. a recovery-only bug"
id='pc1/corpus-recovery-log-early/mixed:ops=30/5/strict/none>crash@fsync#3'
out=$("$PC" repro "$id" --count 3 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q '^verdict: LOST_ACKED$' <<<"$out" || fail "broken engine: rc=$rc: $out"
grep -q 'recovery fault: crash on fsync #3 (T-' <<<"$out" || fail "no recovery fault in the note: $out"
grep -q 'same verdict every time' <<<"$out" || fail "not stable: $out"
out=$("$PC" repro "${id%%>*}" 2>&1); rc=$?
[ "$rc" -eq 0 ] || fail "without the recovery fault the case must pass (the bug is in recovery only): rc=$rc: $out"
out=$("$PC" repro "${id/corpus-recovery-log-early/corpus-recovery-log-early-fixed}" 2>&1); rc=$?
[ "$rc" -eq 0 ] && grep -q '^verdict: PASS$' <<<"$out" || fail "fixed twin: rc=$rc: $out"

echo "== 3. a recovery fault that does not fire"
out=$("$PC" run --target sofadb --workload $W --seed 0 --fault 'none>crash@fsync#100000' 2>&1); rc=$?
[ "$rc" -eq 0 ] && grep -q "recovery fault did not fire: the first recovery's open returned, then the power was cut" <<<"$out" \
  || fail "unfired recovery fault: rc=$rc: $out"
grep -q "^case:    pc1/sofadb/$W/0/strict/none>crash@fsync#100000$" <<<"$out" || fail "case id: $out"
echo "e2e_recovery_faults: all checks passed"
