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
# libfiu's control command drives the shim's failure point faultfs/write
if [ -r /usr/lib/fiu/fiu_run_preload.so ]; then
  printf base > "$base/d/a.dat"
  "$ffs" run --plan none --dir "$base/d" --fiu 'enable name=faultfs/write,failinfo=28' -- "$prog" append "$base/d" > "$base/out" 2>&1 || true
  grep -q '^write -1 28$' "$base/out" || fail "fiu: $(cat "$base/out")"
  [ "$(cat "$base/d/a.dat")" = base ] || fail "fiu: a.dat changed"
fi
echo ok
