#!/usr/bin/env bash
# Concurrent workloads (threads=N, docs/workloads.md) through the real powercut binary:
#  1. targets that do not take several threads, exec targets and bank without txn=1 refuse threads>1,
#     with exit 2 and a message naming the target (or the workload);
#  2. a concurrent case on sofadb passes and its explanation names a cut of the concurrent ops;
#  3. sofadb-groupbug (a follower acked on a leader's sync that did not cover it) is caught
#     with 4 driver threads, and never with one (with one thread there is no leader in flight).
set -uo pipefail
PC=${1:?usage: e2e_concurrent.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. refusals"
"$PC" run --target corpus-wal-nofsync --workload fill:ops=10,threads=2 --seed 1 --fault none >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "not thread-safe: exit $rc, want 2: $(cat "$T/out")"
grep -q "threads=2 needs a target that takes ops from several threads at once, and target corpus-wal-nofsync does not declare itself thread-safe (use threads=1)" "$T/out" \
  || fail "not thread-safe: message: $(cat "$T/out")"
"$PC" run --target exec:cmd=true --workload fill:ops=10,threads=2 --seed 1 --fault none >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "exec: exit $rc, want 2: $(cat "$T/out")"
grep -q "exec targets take one driver thread" "$T/out" || fail "exec: message: $(cat "$T/out")"
"$PC" run --target sofadb --workload bank:threads=2 --seed 1 --fault none >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "bank: exit $rc, want 2: $(cat "$T/out")"
grep -q "bank takes threads>1 only with txn=1" "$T/out" || fail "bank: message: $(cat "$T/out")"
"$PC" run --target sofadb --workload fill:threads=65 --seed 1 --fault none >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "threads=65: exit $rc, want 2: $(cat "$T/out")"
grep -q "bad value '65' for threads: expected an integer in 1..64" "$T/out" || fail "threads=65: message: $(cat "$T/out")"

echo "== 2. a concurrent case on sofadb passes"
"$PC" run --target sofadb --workload mixed:ops=200,threads=4 --seed 3 --fault none >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] || fail "sofadb threads=4: exit $rc: $(cat "$T/out")"
grep -q "^verdict: PASS" "$T/out" || fail "no PASS: $(cat "$T/out")"
grep -q "the cut after op [0-9]* was invoked" "$T/out" || fail "not judged as a concurrent log: $(cat "$T/out")"

echo "== 3. the planted group-commit bug: caught with 4 threads, never with 1"
# Random keys from a large space, so no two threads write one key: a lost follower
# cannot be explained away by ordering it before its leader's overlapping write.
# The adapter keeps the threads in step (targets/sofadb.c), so every run's last
# group leaves acked follower writes behind the last sync: the end-of-run power
# cut must catch it in (nearly) every seed, on a loaded machine too.
W=fill:ops=100,keys=1000000,dist=uniform,sync=1
caught=0
for s in $(seq 1 20); do
  "$PC" run --target sofadb-groupbug --workload "$W,threads=4" --seed "$s" --fault none >"$T/out" 2>&1
  rc=$?
  if [ "$rc" -eq 1 ]; then
    grep -q "^verdict: LOST_ACKED" "$T/out" || fail "groupbug: want LOST_ACKED: $(cat "$T/out")"
    caught=$((caught + 1))
  else
    [ "$rc" -eq 0 ] || fail "groupbug threads=4: exit $rc: $(cat "$T/out")"
  fi
done
echo "   caught in $caught of 20 seeds"
[ "$caught" -ge 15 ] || fail "groupbug caught in only $caught of 20 concurrent runs"
for s in $(seq 1 10); do
  for f in none 'crash@write(*.log)#60'; do
    "$PC" run --target sofadb-groupbug --workload "$W,threads=1" --seed "$s" --fault "$f" >"$T/out" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || fail "groupbug threads=1 must pass (no leader in flight): exit $rc: $(cat "$T/out")"
  done
done
echo "ok"
