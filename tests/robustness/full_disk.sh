#!/bin/sh
# full_disk.sh - a disk that fills up in the middle of sofadb's flushes and
# compactions: `enospc@write(*.sst)#N+` fails the N-th table write and every
# later one (the disk stays full). Writes after it must fail with an error,
# and recovery must come back with a legal state (nothing acked lost, nothing
# invented): verdict PASS. N spans the workload's table writes (churn: a tiny
# memtable, so flushes and compactions write ~36 tables in 400 ops).
. "$(dirname "$0")/lib.sh"
for n in 1 5 10 20 30; do
  run "$POWERCUT" run --target sofadb --workload churn:ops=400 --seed 3 --fault "enospc@write(*.sst)#$n+"
  expect_rc 0
  expect_out "verdict: PASS"
  expect_out "fault:   enospc on write #$n ("
  acked=$(printf '%s\n' "$OUT" | sed -n 's/^ops: *400 issued, \([0-9]*\) acked.*/\1/p')
  [ -n "$acked" ] && [ "$acked" -lt 400 ] || fail "N=$n: the full disk failed no write ($OUT)"
done
echo "full_disk: 5 fill points, each PASS with failed writes after the disk filled"
