#!/usr/bin/env bash
# Bad input to the powercut CLI gets a clear error naming the problem and exit 2,
# before anything runs.
set -uo pipefail
PC=${1:?usage: e2e_cli_errors.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
expect() { # expect WANT_RC PATTERN -- ARGS...
  local want=$1 pat=$2; shift 3
  out=$("$PC" "$@" 2>&1); rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -qiE -- "$pat" <<<"$out"; then
    echo "FAIL: powercut $* -> rc=$rc (want $want), output lacks /$pat/:"; echo "$out"; exit 1
  fi
  n=$((n+1))
}
expect 2 "unknown command" -- frobnicate
expect 2 "plan:1: unknown action 'crush'" -- run --target sofadb --workload mixed --seed 1 --fault 'crush@fsync#1'
expect 2 "plan:7: unknown op 'fsnyc'" -- run --target sofadb --workload mixed --seed 1 --fault 'crash@fsnyc#1'
expect 2 "plan:13: bad N: calls are counted from 1" -- run --target sofadb --workload mixed --seed 1 --fault 'crash@fsync#0'
expect 2 "unknown target" -- run --target nosuchdb --workload mixed --seed 1 --fault none
expect 2 "workload" -- run --target sofadb --workload nosuch --seed 1 --fault none
expect 2 "workload" -- run --target sofadb --workload mixed:opz=3 --seed 1 --fault none
expect 2 "unknown option" -- run --target sofadb:memtable=3 --workload mixed --seed 1 --fault none
expect 2 "model" -- run --target sofadb --workload mixed --seed 1 --fault none --model btrfs
expect 2 "seed" -- run --target sofadb --workload mixed --seed x --fault none
expect 2 "pc1/" -- repro 'sofadb/mixed/1/strict/none'
expect 2 "unknown model" -- repro 'pc1/sofadb/mixed/1/zfs/none'
expect 2 "cases N or --time" -- campaign --live --target sofadb
expect 2 "shard" -- campaign --live --target sofadb --cases 3 --shard 3/2
expect 2 "fault kind" -- campaign --live --target sofadb --cases 3 --faults crash,boom
expect 2 "--time: '5parsecs' is not a duration" -- campaign --live --target sofadb --time 5parsecs
expect 2 "merging shards needs --out" -- report "$T/a" "$T/b"
expect 2 "no such file|cannot|missing" -- report "$T/nonexistent"
expect 0 "usage: powercut run" -- run --help
expect 0 "sofadb" -- targets
echo "e2e_cli_errors: $n checks passed"
