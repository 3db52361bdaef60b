#!/usr/bin/env bash
# Command-line conventions (docs/powercut.md "Commands"): help for every command, --version,
# one-line option errors, -j, --quiet, the plan grammar in --help, trace's exit status when a
# fault-free run cannot be recovered, and run's ops line next to a violation.
set -uo pipefail
PC=${1:?usage: e2e_cli_conventions.sh path/to/powercut}
BIN=$(dirname "$PC")
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. help for every command"
for c in run trace campaign repro minimize fidelity report bench bench-recovery targets; do
  out=$("$PC" help $c 2>&1); rc=$?
  [ "$rc" -eq 0 ] && grep -q "^usage: powercut $c" <<<"$out" || fail "powercut help $c: rc=$rc: $(head -2 <<<"$out")"
done
out=$("$PC" help 2>&1); rc=$?
[ "$rc" -eq 0 ] && grep -q "help \[COMMAND\]" <<<"$out" || fail "powercut help: rc=$rc"
for c in run trace rollback bench; do
  out=$("$BIN/faultfs" $c --help 2>&1); rc=$?
  [ "$rc" -eq 0 ] && grep -q "faultfs run --plan PLAN" <<<"$out" || fail "faultfs $c --help: rc=$rc: $(head -2 <<<"$out")"
done
out=$("$PC" run --help); grep -q "RULE := ACTION '@' OP" <<<"$out" && grep -q "PLAN>RPLAN" <<<"$out" || fail "no plan grammar in run --help"
out=$("$BIN/faultfs" --help); grep -q "RULE := ACTION '@' OP" <<<"$out" || fail "no plan grammar in faultfs --help"

echo "== 2. --version"
want=$(sed -n 's/^project(powercut VERSION \([0-9.]*\).*/\1/p' "$HERE/../../CMakeLists.txt")
[ -n "$want" ] || fail "no version in CMakeLists.txt"
for p in powercut faultfs sofadb; do
  out=$("$BIN/$p" --version 2>&1); rc=$?
  [ "$rc" -eq 0 ] && [ "$out" = "$p $want" ] || fail "$p --version: rc=$rc: '$out' (want '$p $want')"
done

echo "== 3. option errors are one line"
for args in "run --bogus" "campaign --cases 1 --frobnicate" "repro --nope x" "bench --x" "bench-recovery --y"; do
  err=$("$PC" $args 2>&1 >/dev/null); rc=$?
  opt=${args##* }; [ "${args%% *}" = repro ] && opt=--nope
  [ "$rc" -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "unknown option '$opt'" <<<"$err" \
    || fail "powercut $args: rc=$rc: $err"
done
err=$("$PC" run --seed 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "option '--seed' needs a value" <<<"$err" || fail "run --seed: rc=$rc: $err"

echo "== 4. -j and --quiet"
err=$("$PC" campaign --target sofadb --workload mixed:ops=20 -j 1 --cases 5 --quiet --reach none --out "$T/q" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 0 ] || fail "campaign -j 1 --quiet: rc=$rc: $err"
[ -z "$err" ] || fail "--quiet still printed on stderr: $err"
err=$("$PC" campaign --target sofadb --workload mixed:ops=20 -j 1 --cases 5 --reach none --out "$T/j" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 0 ] && grep -q " 1 job(s)," <<<"$err" || fail "campaign -j 1: rc=$rc: $err"

echo "== 5. trace of a target that cannot recover its fault-free run"
out=$("$PC" trace --target "exec:cmd=python3 $HERE/data/reopen_fails_kv.py,contract=process_safe" --workload mixed:ops=3 --seed 0 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "the run without faults ends in RECOVERY_FAILED: open after the crash failed: .*cannot reopen" <<<"$out" \
  || fail "trace exit $rc: $out"

echo "== 6. run's ops line next to a violation"
out=$("$PC" run --target sofadb-nosync --workload mixed:ops=60 --seed 0 --fault 'crash@write#30' 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q '^verdict: LOST_ACKED$' <<<"$out" || fail "nosync: rc=$rc: $out"
grep -q "lost (allowed)" <<<"$out" && fail "'lost (allowed)' next to LOST_ACKED: $out"
grep -q "lost that the contract allows (the violation above is not among them)" <<<"$out" || fail "ops line: $out"
echo "e2e_cli_conventions: all checks passed"
