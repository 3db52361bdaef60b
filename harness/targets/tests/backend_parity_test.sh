#!/bin/sh
# backend_parity_test.sh POWERCUT c FILEKV
# backend_parity_test.sh POWERCUT c-static FILEKV_STATIC
# backend_parity_test.sh POWERCUT go NAIVE CORRECT
# Power-cut campaigns (crash, crash-after, torn) give the same verdict class under the
# seccomp backend as under the preload shim: the naive store (no fsync) loses acked
# writes (LOST_ACKED), the correct one (write temp, fsync, rename, fsync dir) passes.
#   c:  filekv built dynamic, under preload and under seccomp;
#   c-static: filekv built static, under seccomp; under preload alone it is an ERROR
#       (exit 2), never a PASS.
#   go: the Go stores (static: seccomp only).
# A LOST_ACKED case found under seccomp, re-run with `powercut repro ID`, runs under
# seccomp again (the id carries backend=seccomp) and gives LOST_ACKED again.
set -eu
pc=$1 kind=$2
C="contract=durable_ack+process_safe+prefix+atomic_batch"
dir=$(mktemp -d "${TMPDIR:-/tmp}/pc-parity-XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# camp WANT_RC WANT_VERDICTS CMD BACKEND: WANT_VERDICTS is a pattern for the verdicts line
# (--order kinds: the sweep by N-th call, the case list the budget of 16 was chosen for;
# the preload backend's site phase would come first, the seccomp backend has none)
camp() {
  want=$1 verd=$2 cmd=$3 b=$4
  rm -rf "$dir/out"
  set +e
  "$pc" campaign --live --target "exec:cmd=$cmd,$C" --backend "$b" --workload mixed:ops=12 --faults crash,crash-after,torn \
    --reach none --rerun 1 --cases 16 --order kinds --jobs 2 --out "$dir/out" > "$dir/log" 2>&1
  rc=$?
  set -e
  line=$(grep "verdicts:" "$dir/log" || true)
  echo "$cmd ($b): exit $rc, $line"
  [ "$rc" = "$want" ] || fail "$cmd under $b: exit $rc, want $want: $(tail -20 "$dir/log")"
  echo "$line" | grep -Eq "$verd" || fail "$cmd under $b: '$line' does not match '$verd'"
  ! echo "$line" | grep -q "ERROR" || fail "$cmd under $b: an ERROR case: $(grep -m3 ERROR "$dir/log")"
}
naive_pass() { # LOST_ACKED found, nothing but PASS and LOST_ACKED
  camp 1 "^ *verdicts: (PASS [0-9]+ )?LOST_ACKED [0-9]+$" "$@"
}
correct_pass() { camp 0 "^ *verdicts: PASS [0-9]+$" "$@"; }
repro_seccomp() { # the first repro line of the last campaign: LOST_ACKED again, under seccomp
  id=$(sed -n "s/^ *repro: powercut repro '\(.*\)'$/\1/p" "$dir/log" | head -n 1)
  case $id in *,backend=seccomp/*) ;; *) fail "repro id without backend=seccomp: '$id'" ;; esac
  set +e
  "$pc" repro "$id" > "$dir/repro" 2>&1
  rc=$?
  set -e
  [ "$rc" = 1 ] || fail "repro $id: exit $rc, want 1: $(cat "$dir/repro")"
  grep -q "^verdict: LOST_ACKED" "$dir/repro" || fail "repro $id: $(cat "$dir/repro")"
  grep -q "^case: .*,backend=seccomp/" "$dir/repro" || fail "repro did not run under seccomp: $(cat "$dir/repro")"
  echo "repro of $id: LOST_ACKED under seccomp"
}

case $kind in
c)
  naive_pass "$3 naive" preload
  naive_pass "$3 naive" seccomp
  correct_pass "$3 correct" preload
  correct_pass "$3 correct" seccomp
  ;;
c-static)
  static=$3
  naive_pass "$static naive" seccomp
  repro_seccomp
  correct_pass "$static correct" seccomp
  set +e
  "$pc" run --target "exec:cmd=$static correct,$C" --backend preload --workload mixed:ops=12 --seed 0 \
    --fault 'crash@write#2' > "$dir/run" 2>&1
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "static under preload: exit $rc, want 2: $(cat "$dir/run")"
  grep -q "^verdict: ERROR" "$dir/run" && grep -q "the shim was not loaded" "$dir/run" ||
    fail "static under preload: $(cat "$dir/run")"
  echo "$static under preload: ERROR (the shim was not loaded)"
  ;;
go)
  naive_pass "$3" seccomp
  repro_seccomp
  correct_pass "$4" seccomp
  ;;
*) fail "unknown kind '$kind'" ;;
esac
echo OK
