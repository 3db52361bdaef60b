#!/bin/sh
# targets.sh CASE - powercut facing a hostile target program (exec target).
#   hang: a program that never answers. powercut must time out cleanly (the
#     exec timeout= option), report the hang, and leave no process behind.
#   fork: a program that forks a child which keeps its stdin/stdout open
#     (forking_kv.py). powercut must finish anyway with a correct verdict.
. "$(dirname "$0")/lib.sh"
case "$1" in
hang)
  start=$(date +%s)
  run timeout 60 "$POWERCUT" run --target 'exec:cmd=sleep 1007,contract=prefix,timeout=1000' \
    --workload mixed:ops=5 --seed 1 --fault none
  end=$(date +%s)
  expect_rc 1
  # the exec target's reply timeout is a hang (PC_ETIMEOUT from open), never a failed open
  expect_out "verdict: RECOVERY_HANG"
  expect_out "explain: recovery hung: exec: no reply from 'sleep 1007' within 1000 ms"
  [ $((end - start)) -le 20 ] || fail "took $((end - start)) s for a 1 s reply timeout"
  sleep 0.2
  left=$(pgrep -f 'sleep 1007')
  [ -n "$left" ] && { kill $left; fail "the hung target was left running (pid $left)"; }
  : ;;
fork)
  # FORK_PIDFILE: the child writes its pid there, so this test can reap what it started
  export FORK_SLEEP=1000 FORK_PIDFILE=$T/pids
  # output to a file, not a pipe: the child inherits powercut's stderr and would
  # hold a pipe open (see docs/robustness.md)
  start=$(date +%s)
  timeout 120 "$POWERCUT" run \
    --target "exec:cmd=python3 $SRC/tests/robustness/forking_kv.py,contract=durable_ack+prefix+atomic_batch" \
    --workload mixed:ops=30 --seed 3 --fault 'crash@fsync#5' >"$T/out" 2>&1
  RC=$?
  end=$(date +%s)
  OUT=$(cat "$T/out")
  [ -f "$T/pids" ] && while read -r p; do kill "$p" 2>/dev/null; done <"$T/pids"
  expect_rc 0; expect_out "verdict: PASS"; expect_out "crash on fsync #5"
  [ $((end - start)) -le 60 ] || fail "took $((end - start)) s" ;;
*) fail "unknown case '$1'" ;;
esac
echo "ok: $1"
