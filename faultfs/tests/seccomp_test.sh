#!/bin/sh
# seccomp_test.sh FAULTFS STATIC_PROG DYNAMIC_PROG [GO_NAIVE] — `faultfs run --backend`
# end to end: the seccomp supervisor counts and faults the calls of a static binary
# (which the preload shim cannot see), resolves relative and symlinked paths, kills the
# target's process tree, refuses io_uring, cuts the power (crash, crash-after, torn),
# shortens writes and flips reads as the preload shim does on the dynamic build; auto
# picks seccomp for static and Go binaries and preload for dynamic ones.
set -eu
ffs=$1 sprog=$2 dprog=$3 naive=${4:-}
base=$(mktemp -d "${TMPDIR:-/tmp}/ffs-sc-XXXXXX")
trap 'rm -rf "$base"' EXIT
mkdir "$base/d" "$base/other"
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { # run EXPECTED_RC ARGS... : output in $base/out, messages in $base/err
  want=$1; shift
  set +e
  "$ffs" run "$@" > "$base/out" 2> "$base/err"
  rc=$?
  set -e
  [ "$rc" = "$want" ] || fail "faultfs run $*: exit $rc, want $want: $(cat "$base/out" "$base/err")"
}

echo "== eio on the 2nd write of a static binary, seccomp backend"
run 0 --backend seccomp --plan 'eio@write#2' --dir "$base/d" --trace "$base/t" -- "$sprog" write "$base/d/f"
grep -q "^write 1: Input/output error" "$base/out" || fail "no EIO reached the program: $(cat "$base/out")"
grep -q "^write 2 ok" "$base/out" || fail "write 3 failed too"
grep -q "fired: rule 0 (eio) on write #2 at call 2 'f'" "$base/err" || fail "fired line: $(cat "$base/err")"
"$ffs" trace "$base/t" > "$base/tr"
grep -q "^2 write f off=-1 len=6 res=-5 \[FIRED\]" "$base/tr" || fail "trace: $(cat "$base/tr")"
grep -q "^5 fsync f" "$base/tr" || fail "fsync not counted: $(cat "$base/tr")"

echo "== the same static binary under preload: an error, never a pass"
run 2 --backend preload --plan 'eio@write#2' --dir "$base/d" -- "$sprog" write "$base/d/f"
grep -q "ERROR: the shim was not loaded" "$base/err" || fail "preload saw a static binary?: $(cat "$base/err")"

echo "== auto: seccomp for the static build, preload for the dynamic build"
run 0 --plan 'enospc@write#3' --dir "$base/d" -- "$sprog" write "$base/d/f"
grep -q "^write 2: No space left on device" "$base/out" || fail "auto/static: $(cat "$base/out" "$base/err")"
run 0 --plan 'enospc@write#3' --dir "$base/d" -- "$dprog" write "$base/d/f"
grep -q "^write 2: No space left on device" "$base/out" || fail "auto/dynamic: $(cat "$base/out" "$base/err")"

echo "== kill before fsync: the process dies, the page cache keeps the writes"
run 137 --backend seccomp --plan 'kill@fsync' --dir "$base/d" -- "$sprog" write "$base/d/f"
grep -q "fired: rule 0 (kill) on fsync #1" "$base/err" || fail "kill: $(cat "$base/err")"
! grep -q "fsync ok" "$base/out" || fail "fsync ran after the kill"
[ "$(wc -c < "$base/d/f")" = 24 ] || fail "f has $(wc -c < "$base/d/f") bytes, want 24"

echo "== paths: relative to the cwd, and through a symlink to the data dir"
run 0 --backend seccomp --plan 'eio@write' --dir "$base/d" -- "$sprog" reldir "$base/d" g
grep -q "fired: rule 0 (eio) on write #1 at call 1 'g'" "$base/err" || fail "relative: $(cat "$base/err")"
ln -s "$base/d" "$base/link"
run 0 --backend seccomp --plan 'eio@write' --dir "$base/d" -- "$sprog" write "$base/link/h"
grep -q "fired: rule 0 (eio) on write #1 at call 1 'h'" "$base/err" || fail "symlink: $(cat "$base/err")"

echo "== calls outside the data dir are neither counted nor faulted"
run 0 --backend seccomp --plan 'eio@any#1+' --dir "$base/d" -- "$sprog" write "$base/other/f"
grep -q "did not fire" "$base/err" || fail "outside call faulted: $(cat "$base/err")"
[ "$(wc -c < "$base/other/f")" = 24 ] || fail "outside file not written"

echo "== io_uring_setup fails with ENOSYS and is recorded"
run 0 --backend seccomp --plan none --dir "$base/d" --trace "$base/t2" -- "$sprog" uring
grep -q "io_uring_setup: Function not implemented" "$base/out" || fail "io_uring: $(cat "$base/out")"
"$ffs" trace "$base/t2" | grep -q "syscall . off=425 .*res=-38 \[WARNING\]" || fail "io_uring not traced: $("$ffs" trace "$base/t2")"

echo "== power cuts, short writes, flipped reads: the same data dir as under preload"
# both() PLAN MODEL MODE WANT_RC: the static build under seccomp and the dynamic build
# under preload, each on a data dir holding 24 durable bytes in f; the data dirs after
# the run (and rollback) and the program's output must be the same.
both() {
  for b in seccomp preload; do
    rm -rf "$base/$b"; mkdir "$base/$b"
    printf 'AAAAAAAAAAAAAAAAAAAAAAAA' > "$base/$b/f"
    prog=$sprog; [ $b = preload ] && prog=$dprog
    run "$4" --backend $b --plan "$1" --model "$2" --dir "$base/$b" -- "$prog" "$3" "$base/$b/f"
    cp "$base/out" "$base/out.$b"; cp "$base/err" "$base/err.$b"
  done
  grep -q "fired: rule 0" "$base/err.seccomp" || fail "$1: did not fire under seccomp: $(cat "$base/err.seccomp")"
  case $1 in crash*|torn*) grep -q "power cut: data dir rolled back" "$base/err.seccomp" || fail "$1: no rollback: $(cat "$base/err.seccomp")";; esac
  diff -r "$base/seccomp" "$base/preload" > /dev/null || fail "$1 ($2): data dirs differ: $(ls -l "$base/seccomp" "$base/preload"; cat "$base/seccomp/f"; echo; cat "$base/preload/f")"
  cmp -s "$base/out.seccomp" "$base/out.preload" || fail "$1: output differs: $(cat "$base/out.seccomp" "$base/out.preload")"
}
both 'crash@write#3' strict write 137
[ "$(cat "$base/seccomp/f")" = AAAAAAAAAAAAAAAAAAAAAAAA ] || fail "crash: f is '$(cat "$base/seccomp/f")'"
both 'crash@fsync' strict write 137
[ "$(cat "$base/seccomp/f")" = AAAAAAAAAAAAAAAAAAAAAAAA ] || fail "crash@fsync: f is '$(cat "$base/seccomp/f")'"
both 'crash-after@fsync' strict write 137
[ "$(cat "$base/seccomp/f")" = "$(printf 'hello\nhello\nhello\nhello\n')" ] || fail "crash-after@fsync: f is '$(cat "$base/seccomp/f")'"
both 'crash-after@write#2' strict write 137
[ "$(cat "$base/seccomp/f")" = AAAAAAAAAAAAAAAAAAAAAAAA ] || fail "crash-after@write: f is '$(cat "$base/seccomp/f")'"
both 'torn@write#2:3' strict write 137
[ "$(cat "$base/seccomp/f")" = AAAAAAhelAAAAAAAAAAAAAAA ] || fail "torn: f is '$(cat "$base/seccomp/f")'"
both 'kill-after@write#2' strict write 137
[ "$(cat "$base/seccomp/f")" = "$(printf 'hello\nhello\n')" ] || fail "kill-after: f is '$(cat "$base/seccomp/f")'"
both 'short@write#1:2' strict write 0
[ "$(cat "$base/seccomp/f")" = "$(printf 'hehello\nhello\nhello\n')" ] || fail "short: f is '$(cat "$base/seccomp/f")'"
both 'flip@read:0' strict read 0
grep -q "^read 24: @AAAAAAAAAAAAAAAAAAAAAAA" "$base/out.seccomp" || fail "flip: $(cat "$base/out.seccomp")"

echo "== refused: an unknown backend"
run 2 --backend ptrace --plan none --dir "$base/d" -- "$sprog" write "$base/d/f"
grep -q "unknown backend 'ptrace' (preload, seccomp, auto)" "$base/err" || fail "backend: $(cat "$base/err")"

if [ -n "$naive" ]; then
  echo "== a Go program (auto): the second rename fails with EIO"
  printf 'open %s\nput 01 02 1\nput 03 04 1\nscan\n' "$base/d" > "$base/in"
  set +e
  "$ffs" run --plan 'eio@rename#2' --dir "$base/d" -- "$naive" < "$base/in" > "$base/out" 2> "$base/err"
  rc=$?
  set -e
  [ "$rc" = 0 ] || fail "go: exit $rc: $(cat "$base/err")"
  grep -q "^err rename .*input/output error" "$base/out" || fail "go: $(cat "$base/out" "$base/err")"
  grep -q "^kv 01 02" "$base/out" || fail "go: scan: $(cat "$base/out")"
  echo "== the call index is the same with and without a trace (reads are counted either way)"
  printf 'open %s\nput 05 06 1\n' "$base/d" > "$base/in"
  "$ffs" run --plan 'eio@rename#1' --dir "$base/d" -- "$naive" < "$base/in" > "$base/out" 2> "$base/err1" || true
  "$ffs" run --plan 'eio@rename#1' --dir "$base/d" --trace "$base/t3" -- "$naive" < "$base/in" > "$base/out" 2> "$base/err2" || true
  a=$(grep -o "at call [0-9]*" "$base/err1") b=$(grep -o "at call [0-9]*" "$base/err2")
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "call index without trace '$a', with trace '$b'"
else
  echo "SKIP (Go part): go not found at configure time"
fi
echo "OK"
