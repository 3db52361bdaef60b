#!/bin/sh
# shim_outside.sh - faultfs contract (4): the shim writes only under the data
# dir, its state dir and its trace. A program run with `faultfs run --plan
# 'crash@write#5'` writes a file outside the data dir (before and after some
# writes inside it) and is cut by the power loss at its 5th write inside; the
# outside files must be exactly as the program left them and a pre-existing
# outside file untouched, while the data dir is rolled back. The state dir holds
# only the shim's files and the handshake file `faultfs run` created there.
# (faultfs_e2e_test writes_outside_the_data_dir_are_untouched proves the same
# in-process for renames across the boundary; this test goes through the CLI.)
. "$(dirname "$0")/lib.sh"
mkdir "$T/d" "$T/out" "$T/state"
printf 'before' >"$T/out/pre"
cat >"$T/prog.sh" <<'PROG'
D=$1; O=$2
echo first-outside >"$O/a"
i=0
while [ $i -lt 10 ]; do
  echo "line $i" >>"$D/f"
  echo "outside $i" >>"$O/b"
  i=$((i + 1))
done
PROG
run "$FAULTFS" run --plan 'crash@write#5' --dir "$T/d" --state "$T/state" -- sh "$T/prog.sh" "$T/d" "$T/out"
[ "$RC" != 0 ] || fail "the program was not cut by crash@write#5: $OUT"
expect_out "crash"
[ "$(cat "$T/out/pre")" = before ] || fail "pre-existing outside file changed"
[ "$(cat "$T/out/a")" = first-outside ] || fail "outside file a changed: $(cat "$T/out/a")"
# the 5th write inside is 'line 4': the program wrote outside 0..3 before dying
printf 'outside 0\noutside 1\noutside 2\noutside 3\n' >"$T/expect"
cmp -s "$T/out/b" "$T/expect" || fail "outside file b is not what the program wrote: $(cat "$T/out/b")"
[ "$(ls "$T/out" | tr '\n' ' ')" = "a b pre " ] || fail "unexpected files outside: $(ls "$T/out")"
# inside: never synced, so the power cut rolled f back to nothing
[ -s "$T/d/f" ] && fail "unsynced data survived the power cut: $(cat "$T/d/f")"
for f in "$T/state"/*; do
  case "$(basename "$f")" in undo|fired|handshake|v*) ;; *) fail "unexpected file in the state dir: $f" ;; esac
done
echo "ok: shim stays inside"
