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
  out=$("$PC" $c --help 2>&1); rc=$?  # the man page is made from this form
  [ "$rc" -eq 0 ] && grep -q "^usage: powercut $c" <<<"$out" || fail "powercut $c --help: rc=$rc: $(head -2 <<<"$out")"
done
out=$("$PC" targets); grep -n ' $' <<<"$out" && fail "powercut targets: a line ends in a space"
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
for args in "run --bogus" "campaign --live --cases 1 --frobnicate" "repro --nope x" "bench --x" "bench-recovery --y"; do
  err=$("$PC" $args 2>&1 >/dev/null); rc=$?
  opt=${args##* }; [ "${args%% *}" = repro ] && opt=--nope
  [ "$rc" -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "unknown option '$opt'" <<<"$err" \
    || fail "powercut $args: rc=$rc: $err"
done
err=$("$PC" run --seed 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "option '--seed' needs a value" <<<"$err" || fail "run --seed: rc=$rc: $err"

echo "== 4. -j and --quiet"
err=$("$PC" campaign --live --target sofadb --workload mixed:ops=20 -j 1 --cases 5 --quiet --reach none --out "$T/q" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 0 ] || fail "campaign -j 1 --quiet: rc=$rc: $err"
[ -z "$err" ] || fail "--quiet still printed on stderr: $err"
err=$("$PC" campaign --live --target sofadb --workload mixed:ops=20 -j 1 --cases 5 --reach none --out "$T/j" 2>&1 >/dev/null); rc=$?
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
echo "== 7. a target that never runs the workload: what it did, not 'no crash points'"
err=$("$PC" campaign --live --target 'exec:cmd=/bin/cat' --cases 3 --reach none --out "$T/cat" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 2 ] && grep -q "dry run of mixed without faults: the target acked no op: workload stopped early: exec: malformed reply to 'open' from '/bin/cat'" <<<"$err" \
  || fail "exec:cmd=/bin/cat: rc=$rc: $err"
grep -q "no crash points" <<<"$err" && fail "still says no crash points: $err"
err=$("$PC" campaign --live --target "exec:cmd=python3 $T/nonexistent.py" --cases 3 --reach none --out "$T/nx" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 2 ] && grep -q "the target acked no op: .*is gone (EOF waiting for a reply)" <<<"$err" && grep -q "nonexistent.py': \[Errno 2\]" <<<"$err" \
  || fail "missing script: rc=$rc: $err"

echo "== 8. plan none says so"
out=$("$PC" run --target sofadb --workload mixed:ops=20 --seed 0 --fault none 2>&1)
grep -q '^fault:   none in the workload (plan none); at its end the power was cut$' <<<"$out" || fail "plan none: $out"

echo "== 9. sofadb on a LevelDB and a RocksDB directory: named, and left alone"
for peer in leveldb rocksdb; do
  "$PC" run --target $peer --workload mixed:ops=20 --seed 0 --fault none --keep "$T/$peer" >/dev/null 2>&1 || fail "cannot make a $peer dir"
  before=$(cd "$T/$peer" && find . -type f -printf '%p %s %T@\n' | sort; cat ./* | sha1sum)
  err=$("$BIN/sofadb" "$T/$peer" put k v 2>&1); rc=$?
  name=LevelDB; [ $peer = rocksdb ] && name=RocksDB
  [ "$rc" -eq 3 ] && grep -q "not a sofadb database: .*MANIFEST-[0-9]* is a $name MANIFEST" <<<"$err" || fail "sofadb on $peer: rc=$rc: $err"
  after=$(cd "$T/$peer" && find . -type f -printf '%p %s %T@\n' | sort; cat ./* | sha1sum)
  [ "$before" = "$after" ] || fail "sofadb changed the $peer dir"
done
echo "== 10. --json on run, repro, trace and targets"
"$PC" run --target sofadb-nosync --workload mixed:ops=60 --seed 0 --fault 'crash@write#30' --json > "$T/run.json"; rc=$?
[ "$rc" -eq 1 ] || fail "run --json exit $rc"
"$PC" repro 'pc1/sofadb/mixed:ops=20/0/strict/crash@write#3' --count 3 --json > "$T/repro.json"; rc=$?
[ "$rc" -eq 0 ] || fail "repro --json exit $rc"
"$PC" trace --target sofadb --workload mixed:ops=10 --seed 0 --json > "$T/trace.json" || fail "trace --json"
"$PC" targets --json > "$T/targets.json" || fail "targets --json"
python3 - "$T" <<'PY' || fail "json output"
import json, os, sys
t = sys.argv[1]
run = json.load(open(os.path.join(t, "run.json")))
assert run["verdict"] == "LOST_ACKED" and run["fired"] and run["fire_path"] == "000001.log", run
assert run["id"] == "pc1/sofadb-nosync/mixed:ops=60/0/strict/crash@write#30" and run["expected"] and run["found"] == "absent", run
rep = json.load(open(os.path.join(t, "repro.json")))
assert rep["verdict"] == "PASS" and (rep["reruns"], rep["reproduced"]) == (3, 3), rep
tr = json.load(open(os.path.join(t, "trace.json")))
assert tr["verdict_without_faults"] == "PASS" and tr["tracked_syscalls"] == sum(r["calls"] for r in tr["rows"]), tr
assert tr["per_kind"]["write"] == sum(r["calls"] for r in tr["rows"] if r["syscall"] == "write"), tr
tg = {x["name"]: x for x in json.load(open(os.path.join(t, "targets.json")))}
assert "close_syncs" in tg["sofadb"]["contract"] and "durable_ack" in tg["sofadb"]["contract"], tg["sofadb"]
print("   run, repro, trace, targets: JSON with the text's fields")
PY
echo "== 11. an --out dir reused: no tarball of the earlier campaign stays"
"$PC" campaign --live --target sofadb-nosync --workload mixed:ops=40 --faults crash --cases 30 --reach none --quiet --out "$T/re"; rc=$?
[ "$rc" -eq 1 ] && [ -n "$(ls "$T/re/artifacts")" ] || fail "first campaign: rc=$rc, artifacts: $(ls "$T/re/artifacts" 2>&1)"
"$PC" campaign --live --target sofadb --workload mixed:ops=40 --cases 10 --reach none --quiet --out "$T/re"; rc=$?
[ "$rc" -eq 0 ] || fail "second campaign: rc=$rc"
[ ! -e "$T/re/artifacts" ] || fail "stale tarballs kept: $(ls "$T/re/artifacts")"
echo "e2e_cli_conventions: all checks passed"
