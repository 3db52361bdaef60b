#!/usr/bin/env bash
# powercut minimize never outputs a case whose fault does not fire (docs/powercut.md):
#  1. a sofadb-nosync case whose minimization used to cut ops first and keep
#     crash@write#9 in a 4-op run, where there is no 9th write: its minimal id's
#     fault fires (`powercut repro` says where) and gives the same verdict;
#  2. an input whose own fault does not fire minimizes to the plan "none";
#  3. --rerun is range-checked.
set -uo pipefail
PC=${1:?usage: e2e_minimize.sh path/to/powercut}
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. the minimal case's fault fires"
id='pc1/sofadb-nosync/mixed:ops=60/0/strict/crash@write#38'
out=$("$PC" minimize "$id" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "minimize exited $rc, want 1: $out"
mid=$(sed -n 's/^minimal: //p' <<<"$out")
[ -n "$mid" ] || fail "no minimal id: $out"
rout=$("$PC" repro "$mid" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "repro of $mid exited $rc, want 1: $rout"
grep -q '^verdict: LOST_ACKED$' <<<"$rout" || fail "minimal case $mid lost the verdict: $rout"
grep -q '^fault:   crash on write #' <<<"$rout" || fail "minimal case $mid: its fault does not fire: $(grep '^fault:' <<<"$rout")"
echo "   $mid: $(grep '^fault:' <<<"$rout")"

echo "== 2. an input whose fault does not fire becomes the plan none"
out=$("$PC" minimize 'pc1/sofadb-nosync/mixed:ops=4/0/strict/crash@write#9' 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "minimize exited $rc, want 1: $out"
grep -q '^minimal: pc1/sofadb-nosync/mixed:ops=[0-9]*/0/strict/none$' <<<"$out" || fail "want a minimal id with plan none: $out"
echo "   $(grep '^minimal:' <<<"$out")"

echo "== 3. --rerun range"
out=$("$PC" minimize "$id" --rerun 0 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--rerun: '0' is not a number in 1..100" <<<"$out" || fail "--rerun 0: rc=$rc: $out"
echo "e2e_minimize: all checks passed"
