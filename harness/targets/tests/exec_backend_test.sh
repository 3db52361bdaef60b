#!/bin/sh
# exec_backend_test.sh POWERCUT GO_PROGRAM [PYTHON3 DBM_KV_PY] — the exec target's
# backend= option on a static Go program: preload cannot see it (ERROR), seccomp counts and
# faults it (PASS, the fault fired, a power cut too), an unknown backend is refused; a dynamic program (Python) shows the same crash-point
# space under both backends. Exit codes and messages are both checked.
set -eu
pc=$1 prog=$2 py=${3:-} dbm=${4:-}
T="exec:cmd=$prog,contract=durable_ack+process_safe+prefix+atomic_batch"
out=$(mktemp "${TMPDIR:-/tmp}/pc-exec-backend-XXXXXX")
trap 'rm -f "$out"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$out" >&2; exit 1; }
run() { # run WANT_RC ARGS...
  want=$1; shift
  set +e
  "$pc" run "$@" > "$out" 2>&1
  rc=$?
  set -e
  [ "$rc" = "$want" ] || fail "powercut run $*: exit $rc, want $want"
}

echo "== preload (the default): a Go program is an ERROR, never a PASS"
run 2 --target "$T" --workload mixed:ops=10 --seed 0 --fault 'eio@write#1'
grep -q "^verdict: ERROR" "$out" || fail "want ERROR"
grep -q "the shim was not loaded" "$out" || fail "want the reason"

echo "== backend=seccomp: the fault fires inside the program"
run 0 --target "$T,backend=seccomp" --workload mixed:ops=10 --seed 0 --fault 'eio@write#1'
grep -q "^verdict: PASS" "$out" || fail "want PASS"
grep -q "^fault: *eio on write #1 (db.tmp)" "$out" || fail "the fault did not fire on db.tmp"

echo "== backend=auto picks seccomp for a Go binary"
run 0 --target "$T,backend=auto" --workload mixed:ops=10 --seed 0 --fault 'kill@rename#2'
grep -q "^fault: *kill on rename #2" "$out" || fail "auto did not supervise"

echo "== a power cut under seccomp: the correct store passes, the cut fired"
run 0 --target "$T,backend=seccomp" --workload mixed:ops=10 --seed 0 --fault 'torn@write#2'
grep -q "^verdict: PASS" "$out" || fail "want PASS"
grep -q "^fault: *torn on write #2 (db.tmp)" "$out" || fail "the torn write did not fire on db.tmp"

echo "== --backend on run is the target option: the same case id"
run 0 --target "$T" --backend seccomp --workload mixed:ops=10 --seed 0 --fault 'eio@write#1'
grep -q "^case: .*,backend=seccomp/mixed:ops=10/0/strict/eio@write#1" "$out" || fail "case id without backend"
run 2 --target sofadb --backend seccomp --workload mixed:ops=10 --seed 0 --fault 'eio@write#1'
grep -q "backend applies to exec targets only ('sofadb'" "$out" || fail "want the message"
run 2 --target "$T,backend=auto" --backend seccomp --workload mixed:ops=10 --seed 0 --fault 'eio@write#1'
grep -q "both given" "$out" || fail "want the message"
run 2 --target "$T" --backend bogus --workload mixed:ops=10 --seed 0 --fault 'eio@write#1'
grep -q "'bogus' unknown (preload, seccomp, auto)" "$out" || fail "want the message"

echo "== an unknown backend is refused"
run 2 --target "$T,backend=ptrace" --workload mixed:ops=10 --seed 0 --fault 'eio@write#1'
grep -q "backend 'ptrace' unknown (preload, seccomp, auto)" "$out" || fail "want the message"
if [ -n "$py" ]; then
  echo "== one dynamic program, both backends: the same crash points"
  for b in preload seccomp; do
    "$pc" trace --target "exec:cmd=$py $dbm,contract=durable_ack,backend=$b" --workload mixed:ops=20 --seed 0 \
      > "$out.$b" 2>&1 || { cat "$out.$b" >&2; fail "trace under $b failed"; }
  done
  grep -q "25 tracked syscalls" "$out.preload" || { cat "$out.preload" >&2; fail "preload: want 25 tracked syscalls"; }
  cmp -s "$out.preload" "$out.seccomp" || { diff "$out.preload" "$out.seccomp" >&2; rm -f "$out".*; fail "the backends disagree"; }
  rm -f "$out".*
fi
echo OK
