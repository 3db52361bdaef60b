#!/bin/sh
# shim_unseen.sh CASE - programs the faultfs shim cannot see must never look clean
# (docs/faultfs.md "What the shim cannot see, and how powercut notices").
#   static_program: a static binary writes into the data dir under `faultfs run`:
#     ERROR "the shim was not loaded", exit 2, the file named, never "did not fire".
#     A state dir inside the data dir is refused before anything is created.
#   inline_syscall: a dynamic program writes a file with inline `syscall`
#     instructions: the comparison after the run names it (and not the file it
#     wrote through libc), exit 2.
#   io_uring_setup: io_uring_setup through libc's syscall() fails with ENOSYS under
#     the shim and `faultfs run` reports the refusal; the run is otherwise clean. The
#     same in an exec target: the case's note counts the refusal.
#   msync_exec_target: an exec target that msyncs a shared mapping of its data: the
#     case's note says that mapped writes are not modelled.
#   several_processes: a shell script that runs a second tracked program: the
#     second one resets the shim's state, so the first one's files are named.
#   static_exec_target: an exec target that is a static binary speaking the
#     protocol: `powercut run` and `powercut campaign` give ERROR (exit 2), never PASS;
#     also when a shell (which does load the shim) starts it as a child.
#   inline_exec_dry_run: an exec target that writes with inline syscalls: the dry
#     run names the file (run and campaign, exit 2); the same program writing with
#     libc calls passes.
. "$(dirname "$0")/lib.sh"
D=$T/d
mkdir "$D"
static_or_skip() { [ -n "$UNSEEN_STATIC" ] || { echo "skip: no static libc (libc6-dev's libc.a)"; exit 77; }; }
case "$1" in
static_program)
  static_or_skip
  # under the preload backend a static program is never a clean run
  run "$FAULTFS" run --backend preload --plan 'crash@write' --dir "$D" -- "$UNSEEN_STATIC" write "$D"
  expect_rc 2
  expect_out "faultfs: ERROR: the shim was not loaded in $UNSEEN_STATIC: static binary?"
  expect_out "changed behind the shim's back (raw syscalls, a static helper, mmap?): plain.dat (created)"
  expect_no_out "did not fire"
  # a state dir inside the data dir is refused before the handshake file is made there
  rm -f "$D/plain.dat"
  run "$FAULTFS" run --plan none --dir "$D" --state "$D/st" -- "$UNSEEN_PROG" write "$D"
  expect_rc 2
  expect_out "faultfs run: the state dir $D/st must not be inside the data dir $D"
  [ -z "$(ls "$D")" ] || fail "the refused run left files in the data dir: $(ls "$D")"
  # the same program, dynamic: seen, fired, rolled back, no error
  run "$FAULTFS" run --plan 'crash@write' --dir "$D" -- "$UNSEEN_PROG" write "$D"
  expect_rc 137
  expect_out "fired: rule 0 (crash) on write"
  expect_no_out "ERROR" ;;
inline_syscall)
  "$UNSEEN_PROG" inline "$T" >/dev/null 2>&1; [ $? = 77 ] && { echo "skip: no inline syscall on this arch"; exit 77; }
  rm -f "$T/raw.dat" "$T/tracked.dat"
  printf old >"$D/kept.dat"
  run "$FAULTFS" run --plan none --dir "$D" -- "$UNSEEN_PROG" inline "$D"
  expect_rc 2
  expect_out "faultfs: ERROR: 1 path in the data dir changed behind the shim's back (raw syscalls, a static helper, mmap?): raw.dat (created)"
  expect_no_out "tracked.dat"
  expect_no_out "kept.dat"
  expect_no_out "not loaded"
  # an empty file truncated again (open with O_TRUNC: no undo record) is not a change
  : >"$D/empty"
  run "$FAULTFS" run --plan none --dir "$D" -- sh -c ': >"$1/empty"' sh "$D"
  expect_rc 0
  expect_no_out "ERROR" ;;
io_uring_setup)
  run "$FAULTFS" run --plan none --dir "$D" -- "$UNSEEN_PROG" uring "$D"
  expect_rc 0
  expect_out "io_uring_setup -1 38"
  expect_out "faultfs: refused io_uring_setup 1 time with ENOSYS"
  expect_out "plan 'none' did not fire"
  expect_no_out "ERROR"
  run "$POWERCUT" run --target "exec:cmd=$UNSEEN_PROG kv uring" --workload mixed:ops=10 --seed 1 --fault none
  expect_rc 0
  expect_out "verdict: PASS"
  expect_out "the shim refused io_uring_setup 1 time (ENOSYS: the engine had to use plain syscalls)" ;;
msync_exec_target)
  # an msync of a shared mapping is durable for the program but not modelled: the case says so
  run "$POWERCUT" run --target "exec:cmd=$UNSEEN_PROG kv msync" --workload mixed:ops=10 --seed 1 --fault none
  expect_rc 0
  expect_out "verdict: PASS"
  expect_out "the program msync()ed a shared mapping of a tracked file: writes through mappings are not modelled, so this verdict does not cover them" ;;
several_processes)
  # sh writes a, cp (a second process whose shim resets the state) writes b, sh writes c:
  # only cp's change is modelled, and faultfs run says so instead of passing
  run "$FAULTFS" run --plan none --dir "$D" -- sh -c 'echo a >"$1/a"; cp "$1/a" "$1/b"; echo c >"$1/c"' sh "$D"
  expect_rc 2
  expect_out "faultfs: warning: the shim started in 2 processes (the last: pid "
  expect_out "only the last one's changes are modelled (run the program directly)"
  expect_out "2 paths in the data dir changed behind the shim's back (raw syscalls, a static helper, mmap?): a (created), c (created)" ;;
static_exec_target)
  static_or_skip
  tgt="exec:cmd=$UNSEEN_STATIC kv,contract=none"
  run "$POWERCUT" run --target "$tgt" --workload mixed:ops=20 --seed 1 --fault none
  expect_rc 2
  expect_out "verdict: ERROR"
  expect_out "the shim was not loaded in '$UNSEEN_STATIC kv' (pid "
  expect_out "static binary?"
  expect_no_out "PASS"
  run "$POWERCUT" run --target "$tgt" --workload mixed:ops=20 --seed 1 --fault 'crash@fsync#2'
  expect_rc 2
  expect_out "verdict: ERROR"
  run "$POWERCUT" campaign --live --target "$tgt" --workload mixed:ops=20 --cases 4 --jobs 1 --out "$T/rep" --quiet
  expect_rc 2
  expect_out "dry run of mixed:ops=20 without faults failed: exec: the shim was not loaded in"
  expect_no_out "PASS"
  # a compound command: sh (dynamic, announced) runs the static program as its child
  run "$POWERCUT" run --target "exec:cmd=$UNSEEN_STATIC kv; true" --workload mixed:ops=20 --seed 1 --fault none
  expect_rc 2
  expect_out "verdict: ERROR"
  expect_out "the shim was not loaded in '$UNSEEN_STATIC kv; true' (pid "
  expect_out ", $UNSEEN_STATIC): static binary?" ;;
inline_exec_dry_run)
  "$UNSEEN_PROG" inline "$T" >/dev/null 2>&1; [ $? = 77 ] && { echo "skip: no inline syscall on this arch"; exit 77; }
  run "$POWERCUT" run --target "exec:cmd=$UNSEEN_PROG kv raw" --workload mixed:ops=20 --seed 1 --fault none
  expect_rc 2
  expect_out "verdict: ERROR"
  expect_out "1 path in the data dir changed behind the shim's back (raw syscalls, a static helper, mmap?), so the crash points cannot cover them: raw.log (created)"
  run "$POWERCUT" campaign --live --target "exec:cmd=$UNSEEN_PROG kv raw" --workload mixed:ops=20 --cases 4 --jobs 1 --out "$T/rep" --quiet
  expect_rc 2
  expect_out "dry run of mixed:ops=20 without faults failed: 1 path in the data dir changed behind the shim's back"
  expect_out "raw.log (created)"
  # the same program writing through libc: seen, no error
  run "$POWERCUT" campaign --live --target "exec:cmd=$UNSEEN_PROG kv" --workload mixed:ops=20 --cases 4 --jobs 1 --out "$T/rep2" --quiet
  expect_no_out "ERROR"
  expect_no_out "behind the shim's back"
  [ "$RC" = 0 ] || [ "$RC" = 1 ] || fail "campaign on the libc-writing program: exit $RC: $OUT" ;;
*) fail "unknown case '$1'" ;;
esac
echo "ok: $1"
