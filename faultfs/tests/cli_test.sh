#!/bin/sh
# cli_test.sh FAULTFS PROG — the faultfs CLI end to end: a malformed plan is rejected
# before the program runs; `run` with a crash plan leaves the data dir rolled back; the
# trace summary counts the calls per op and path.
set -eu
ffs=$1 prog=$2
base=$(mktemp -d "${TMPDIR:-/tmp}/ffs-cli-XXXXXX")
trap 'rm -rf "$base"' EXIT
mkdir "$base/d"
printf base > "$base/d/a.dat"
fail() { echo "FAIL: $*" >&2; exit 1; }

# malformed plan: exit 2, program never ran
if "$ffs" run --plan 'crash@nope' --dir "$base/d" -- "$prog" append "$base/d" > "$base/out" 2> "$base/err"; then
  fail "bad plan accepted"
fi
grep -q "unknown op 'nope'" "$base/err" || fail "no error message: $(cat "$base/err")"
! grep -q started "$base/out" || fail "program ran despite a bad plan"

# crash at close: the unsynced appends are gone; the CLI says what fired
set +e
"$ffs" run --plan 'crash@close' --dir "$base/d" --trace "$base/t" -- "$prog" append "$base/d" > "$base/out" 2> "$base/err"
rc=$?
set -e
[ "$rc" = 137 ] || fail "exit $rc, want 137 (SIGKILL): $(cat "$base/err")"
grep -q "fired: rule 0 (crash) on close" "$base/err" || fail "no fired line: $(cat "$base/err")"
[ "$(cat "$base/d/a.dat")" = base ] || fail "a.dat = '$(cat "$base/d/a.dat")', want base"

# trace summary: 1 open, 2 writes, 1 close on a.dat
"$ffs" trace --summary "$base/t" > "$base/sum"
grep -Eq '^  write +2$' "$base/sum" || fail "summary: $(cat "$base/sum")"
grep -Eq '^  open +a.dat +1$' "$base/sum" || fail "summary: $(cat "$base/sum")"
"$ffs" trace "$base/t" | grep -q '^3 close a.dat .*FIRED' || fail "trace: $("$ffs" trace "$base/t")"
"$ffs" --help | grep -q 'faultfs run' || fail "help"

# --state naming a non-empty dir faultfs did not make: refused before the program runs,
# nothing in it deleted
mkdir -p "$base/s/v1-important"
echo keep > "$base/s/v1-important/file"
echo keep > "$base/s/undo"
set +e
"$ffs" run --plan 'crash@close' --dir "$base/d" --state "$base/s" -- "$prog" append "$base/d" > "$base/out" 2> "$base/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "--state non-empty: exit $rc, want 2: $(cat "$base/err")"
grep -q "state dir '$base/s' is not empty and was not created by faultfs" "$base/err" || fail "--state: $(cat "$base/err")"
! grep -q started "$base/out" || fail "program ran with a foreign state dir"
[ "$(cat "$base/s/v1-important/file")" = keep ] && [ "$(cat "$base/s/undo")" = keep ] || fail "--state: files deleted"
# the same from the shim alone (FAULTFS_STATE): exit 2 before main, nothing deleted
set +e
LD_PRELOAD="$(dirname "$ffs")/../lib/libfaultfs.so" FAULTFS_PLAN=none FAULTFS_DIR="$base/d" FAULTFS_STATE="$base/s" \
  "$prog" append "$base/d" > "$base/out" 2> "$base/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "FAULTFS_STATE non-empty: exit $rc, want 2"
grep -q "FAULTFS_STATE: state dir '$base/s' is not empty and was not created by faultfs" "$base/err" || fail "shim: $(cat "$base/err")"
! grep -q started "$base/out" || fail "program ran with a foreign FAULTFS_STATE"
[ "$(cat "$base/s/v1-important/file")" = keep ] && [ "$(cat "$base/s/undo")" = keep ] || fail "FAULTFS_STATE: files deleted"
# a state dir faultfs created is reused (and cleared) by the next run
"$ffs" run --plan none --dir "$base/d" --state "$base/s2" -- "$prog" append "$base/d" > /dev/null 2>&1
[ -f "$base/s2/.faultfs-state" ] || fail "no marker in a state dir faultfs created"
"$ffs" run --plan none --dir "$base/d" --state "$base/s2" -- "$prog" append "$base/d" > /dev/null 2> "$base/err" ||
  fail "state dir made by faultfs refused: $(cat "$base/err")"

# a relative --dir, and a program that changes directory before exec'ing the tracked one
printf base > "$base/d/a.dat"
set +e
(cd "$base" && "$ffs" run --plan 'crash@close' --dir d -- sh -c 'cd / && exec "$0" append "$1"' "$prog" "$base/d") \
  > "$base/out" 2> "$base/err"
rc=$?
set -e
[ "$rc" = 137 ] || fail "relative --dir: exit $rc, want 137: $(cat "$base/err")"
! grep -q "is not a directory" "$base/err" || fail "relative --dir: $(cat "$base/err")"
[ "$(cat "$base/d/a.dat")" = base ] || fail "relative --dir: a.dat = '$(cat "$base/d/a.dat")', want base"
# the shim alone, FAULTFS_DIR relative: resolved at load, so a child after a cd still sees it
printf base > "$base/d/a.dat"
set +e
(cd "$base" && LD_PRELOAD="$(dirname "$ffs")/../lib/libfaultfs.so" FAULTFS_PLAN='crash@close' FAULTFS_DIR=d \
  FAULTFS_STATE="$base/s3" sh -c 'cd / && exec "$0" append "$1"' "$prog" "$base/d") > "$base/out" 2> "$base/err"
rc=$?
set -e
[ "$rc" = 137 ] || fail "relative FAULTFS_DIR: exit $rc, want 137: $(cat "$base/err")"
[ "$(cat "$base/d/a.dat")" = base ] || fail "relative FAULTFS_DIR: a.dat = '$(cat "$base/d/a.dat")'"
# libfiu's control command drives the shim's failure point faultfs/write
if [ -r /usr/lib/fiu/fiu_run_preload.so ]; then
  printf base > "$base/d/a.dat"
  "$ffs" run --plan none --dir "$base/d" --fiu 'enable name=faultfs/write,failinfo=28' -- "$prog" append "$base/d" > "$base/out" 2>&1 || true
  grep -q '^write -1 28$' "$base/out" || fail "fiu: $(cat "$base/out")"
  [ "$(cat "$base/d/a.dat")" = base ] || fail "fiu: a.dat changed"
fi
echo ok
