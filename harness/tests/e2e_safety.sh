#!/usr/bin/env bash
# e2e_safety.sh POWERCUT CASE - powercut's command line, signals and its own files.
#   keep:    --keep refuses a directory that is not its own, or a file; nothing deleted
#   out:     campaign --out likewise; an earlier campaign's dir is reused
#   signal:  SIGTERM / SIGINT / SIGHUP to the campaign's pid: workers stop, report
#            marked interrupted, scratch dir removed, exit 128+N
#   scratch: the scratch dirs of dead powercut processes are removed at start,
#            nothing else is
#   numbers: numeric options: overflow, zero, negative, out of range
#   nothing: a campaign that verified no case never exits 0
set -uo pipefail
PC=$(realpath "${1:?usage: e2e_safety.sh path/to/powercut CASE}")
CASE=${2:?case}
T=$(mktemp -d "${TMPDIR:-/tmp}/pc-safety.XXXXXX")
trap 'rm -rf "$T"' EXIT
export POWERCUT_TMP=$T/tmp   # scratch dirs of this test only
mkdir -p "$T/tmp"
cd "$T" || exit 1   # a broken build that writes ./powercut-report writes it here
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect RC PATTERN -- ARGS...: exit status and a fixed string in stdout+stderr
expect() {
  local want=$1 pat=$2; shift 3
  out=$("$PC" "$@" 2>&1); rc=$?
  [ "$rc" -eq "$want" ] || fail "powercut $* -> rc=$rc (want $want): $out"
  grep -qF -- "$pat" <<<"$out" || fail "powercut $* -> output lacks '$pat': $out"
}
ID='pc1/sofadb/mixed:ops=20/1/strict/crash@fsync#2'

case "$CASE" in
keep)
  mkdir "$T/user"; echo precious > "$T/user/notes.txt"
  expect 2 "--keep $T/user: the directory is not empty and powercut did not create it" -- repro "$ID" --keep "$T/user"
  [ "$(cat "$T/user/notes.txt")" = precious ] || fail "repro --keep deleted the user's file"
  expect 2 "--keep $T/user: the directory is not empty" -- run --target sofadb --workload mixed:ops=20 --seed 1 --fault 'crash@fsync#2' --keep "$T/user"
  [ -f "$T/user/notes.txt" ] || fail "run --keep deleted the user's file"
  (cd "$T/user" && "$PC" repro "$ID" --keep . >/dev/null 2>&1); [ $? -eq 2 ] || fail "--keep . was not refused"
  [ -f "$T/user/notes.txt" ] || fail "--keep . deleted the user's file"
  echo data > "$T/afile"
  expect 2 "--keep $T/afile: exists and is not a directory" -- repro "$ID" --keep "$T/afile"
  [ -f "$T/afile" ] && [ "$(cat "$T/afile")" = data ] || fail "--keep replaced a file"
  # a report dir is refused too
  "$PC" campaign --live --target sofadb --workload mixed:ops=10 --cases 2 --jobs 1 --out "$T/rep" --quiet >/dev/null 2>&1
  [ -s "$T/rep/results.jsonl" ] || fail "campaign wrote no report"
  expect 2 "the directory is not empty and powercut did not create it (no .powercut-keep" -- repro "$ID" --keep "$T/rep"
  [ -s "$T/rep/results.jsonl" ] || fail "--keep emptied the report"
  # new, empty, and powercut's own dirs are fine (the own one is refilled)
  expect 0 "kept:    $T/new" -- repro "$ID" --keep "$T/new"
  [ -f "$T/new/.powercut-keep" ] || fail "no marker in the kept dir"
  touch "$T/new/stale-from-last-time"
  expect 0 "kept:    $T/new" -- repro "$ID" --keep "$T/new"
  [ -e "$T/new/stale-from-last-time" ] && fail "powercut's own kept dir was not refilled"
  mkdir "$T/empty"
  expect 0 "kept:    $T/empty" -- repro "$ID" --keep "$T/empty" ;;
out)
  mkdir "$T/user"; echo '<html>mine</html>' > "$T/user/index.html"
  expect 2 "--out $T/user: the directory is not empty and powercut did not create it (no .powercut-report" -- \
    campaign --live --target sofadb --workload mixed:ops=10 --cases 2 --jobs 1 --out "$T/user" --quiet
  [ "$(cat "$T/user/index.html")" = '<html>mine</html>' ] || fail "campaign overwrote the user's index.html"
  echo x > "$T/afile"
  expect 2 "--out $T/afile: exists and is not a directory" -- \
    campaign --live --target sofadb --workload mixed:ops=10 --cases 2 --jobs 1 --out "$T/afile" --quiet
  expect 0 "" -- campaign --live --target sofadb --workload mixed:ops=10 --cases 2 --jobs 1 --out "$T/rep" --quiet
  [ -f "$T/rep/.powercut-report" ] || fail "no marker in the report dir"
  expect 0 "" -- campaign --live --target sofadb --workload mixed:ops=10 --cases 3 --jobs 1 --out "$T/rep" --quiet
  [ "$(wc -l < "$T/rep/results.jsonl")" -eq 3 ] || fail "rerun into the own report dir did not rewrite it" ;;
signal)
  set -m   # job control: a background job does not start with SIGINT ignored
  for s in TERM INT HUP; do
    code=$((128 + $(kill -l "$s")))
    rm -rf "$T/rep"
    "$PC" campaign --live --target sofadb --workload mixed:ops=200 --time 60s --jobs 2 --out "$T/rep" --quiet \
      >"$T/out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -s "$T/rep/results.jsonl" ] && break; sleep 0.1; done
    [ -s "$T/rep/results.jsonl" ] || fail "SIG$s: no case was recorded before the signal"
    kill -"$s" "$pid"
    wait "$pid"; rc=$?
    [ "$rc" -eq "$code" ] || fail "SIG$s: exit $rc, want $code: $(cat "$T/out")"
    grep -qF "interrupted by SIG$s: the workers were stopped" "$T/out" || fail "SIG$s: terminal: $(cat "$T/out")"
    n1=$(wc -l < "$T/rep/results.jsonl"); sleep 1.5; n2=$(wc -l < "$T/rep/results.jsonl")
    [ "$n1" -eq "$n2" ] || fail "SIG$s: results.jsonl grew after exit ($n1 -> $n2): workers left behind"
    [ -z "$(ls -A "$T/tmp")" ] || fail "SIG$s: scratch left: $(ls -A "$T/tmp")"
    python3 - "$T/rep" "SIG$s" "$n1" <<'PY' || fail "SIG$s: report not marked"
import json, sys
d, sig, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = json.load(open(d + "/summary.json"))
assert s["interrupted"] == sig and s["cases"] == n, (s["interrupted"], s["cases"], n)
assert json.load(open(d + "/meta.json"))["interrupted"] == sig
assert 'id="interrupted"' in open(d + "/index.html").read()
assert open(d + "/junit.xml").read().startswith("<?xml")
PY
  done ;;
scratch)
  sh -c 'exit 0' & dead=$!; wait $dead
  mkdir "$T/tmp/powercut-$dead"; echo "pid $dead start 1" > "$T/tmp/powercut-$dead/.powercut-scratch"
  mkdir "$T/tmp/powercut-$dead-x" "$T/tmp/powercut-abc"               # not powercut's names
  echo "pid $dead start 1" > "$T/tmp/powercut-$dead-x/.powercut-scratch"
  sh -c 'exit 0' & dead2=$!; wait $dead2
  mkdir "$T/tmp/powercut-$dead2"; touch "$T/tmp/powercut-$dead2/keepme"  # no marker
  start=$(awk '{ sub(/.*\) /, ""); print $20 }' /proc/$$/stat)          # field 22: start time
  mkdir "$T/tmp/powercut-$$"; echo "pid $$ start $start" > "$T/tmp/powercut-$$/.powercut-scratch"   # alive
  mkdir "$T/tmp/powercut-1"; echo "pid 1 start 1" > "$T/tmp/powercut-1/.powercut-scratch"  # pid reused
  expect 0 "verdict: PASS" -- run --target sofadb --workload mixed:ops=5 --seed 1 --fault none
  [ -e "$T/tmp/powercut-$dead" ] && fail "the scratch dir of dead pid $dead was left"
  [ -e "$T/tmp/powercut-1" ] && fail "a scratch dir whose pid now names another process was left"
  for k in "powercut-$dead-x" powercut-abc "powercut-$dead2/keepme" "powercut-$$"; do
    [ -e "$T/tmp/$k" ] || fail "removed $k, which is not a dead powercut's scratch dir"
  done ;;
numbers)
  expect 2 "--time: '99999999999h' is out of range" -- campaign --live --target sofadb --time 99999999999h
  expect 2 "--time: '0s' is out of range" -- campaign --live --target sofadb --time 0s
  expect 2 "--time: '0.0001ms' is out of range" -- campaign --live --target sofadb --time 0.0001ms
  expect 2 "--time: '-5s' is not a duration" -- campaign --live --target sofadb --time -5s
  expect 2 "--time: 'inf' is not a duration" -- campaign --live --target sofadb --time inf
  expect 2 "--time: '0x10' is not a duration" -- campaign --live --target sofadb --time 0x10
  for cmd in run repro campaign; do
    a=(--target sofadb --cases 1); [ "$cmd" = run ] && a=(--target sofadb); [ "$cmd" = repro ] && a=("$ID")
    expect 2 "--timeout: '0s' is out of range (1ms..24h)" -- "$cmd" "${a[@]}" --timeout 0s
    expect 2 "--timeout: '25h' is out of range (1ms..24h)" -- "$cmd" "${a[@]}" --timeout 25h
    expect 2 "--timeout: '-1s' is not a duration" -- "$cmd" "${a[@]}" --timeout -1s
  done
  expect 2 "--cases: '0' is not a number in 1..1000000000000" -- campaign --live --target sofadb --cases 0
  expect 2 "--cases: '18446744073709551615' is not a number in 1..1000000000000" -- campaign --live --target sofadb --cases 18446744073709551615 --shard 1/2
  expect 2 "--cases: '99999999999999999999' is not a number" -- campaign --live --target sofadb --cases 99999999999999999999
  expect 2 "--cases: '-3' is not a number" -- campaign --live --target sofadb --cases -3
  expect 2 "--jobs: '0' is not 1..64" -- campaign --live --target sofadb --cases 1 --jobs 0
  expect 2 "--jobs: '18446744073709551617' is not 1..64" -- campaign --live --target sofadb --cases 1 --jobs 18446744073709551617
  expect 2 "--shard: '1/99999999999' is not K/N" -- campaign --live --target sofadb --cases 1 --shard 1/99999999999
  expect 2 "--shard: '0/2' is not K/N" -- campaign --live --target sofadb --cases 1 --shard 0/2
  expect 2 "--shard: ' 1/2' is not K/N" -- campaign --live --target sofadb --cases 1 --shard ' 1/2'
  expect 2 "--shard: '+1/2' is not K/N" -- campaign --live --target sofadb --cases 1 --shard +1/2
  expect 2 "--seed: '4503599627370496' is not a number below 2^52" -- campaign --live --target sofadb --cases 1 --seed 4503599627370496
  expect 2 "--seed: '99999999999999999999' is not a number" -- run --target sofadb --seed 99999999999999999999
  expect 2 "--count: '0' is not a number in 1..1000000" -- repro "$ID" --count 0
  expect 2 "--count: '4294967297' is not a number in 1..1000000" -- repro "$ID" --count 4294967297
  expect 2 "--budget: '4294967296' is not a number in 1..1000000" -- minimize "$ID" --budget 4294967296
  expect 2 "--budget: '0' is not a number in 1..1000000" -- minimize "$ID" --budget 0
  expect 2 "bad N: number out of range: '99999999999999999999'" -- run --target sofadb --fault 'crash@fsync#99999999999999999999'
  expect 2 "bad ARG: number out of range: '99999999999999999999'" -- run --target sofadb --fault 'torn@write#1:99999999999999999999'
  expect 2 "number out of range '99999999999999999999' for ops" -- run --target sofadb --workload mixed:ops=99999999999999999999
  expect 2 "number out of range '1000000001' for ops" -- run --target sofadb --workload mixed:ops=1000000001
  expect 2 "number out of range '99999999999999999999' for keys" -- run --target sofadb --workload mixed:keys=99999999999999999999
  expect 2 "bad value '99999999999999999G'" -- run --target 'sofadb:memtable_bytes=99999999999999999G' --fault none
  expect 2 "--runs: '4294967297' is not a number in 1..100" -- bench-recovery --runs 4294967297
  expect 2 "bad size '99999999999999999G'" -- bench-recovery --sizes 99999999999999999G ;;
nothing)
  # shard 5 of 5 of a 3-case campaign holds no case: nothing was verified, so no pass
  expect 2 "no crash state was verified" -- campaign --live --target sofadb --workload mixed:ops=10 --cases 3 \
    --shard 5/5 --jobs 1 --out "$T/rep" --quiet ;;
*) fail "unknown case '$CASE'" ;;
esac
echo "e2e_safety $CASE: ok"
