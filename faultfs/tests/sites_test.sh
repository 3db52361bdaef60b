#!/bin/sh
# sites_test.sh FAULTFS PROG — crash sites: the trace gives each call the site of its call
# stack. Two calls made from different functions have different sites; one call made twice
# from one place has one site, the same in two runs (ASLR on); the site a rule fired at is
# the trace's; a version 1 trace still reads (no site); the seccomp backend says none.
set -eu
ffs=$1 prog=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
aslr=$(cat /proc/sys/kernel/randomize_va_space 2>/dev/null || echo 0)
if [ "$aslr" = 0 ]; then echo "SKIP: ASLR is off (kernel.randomize_va_space=0): sites across runs not tested"; exit 77; fi
base=$(mktemp -d "${TMPDIR:-/tmp}/ffs-sites-XXXXXX")
trap 'rm -rf "$base"' EXIT
mkdir "$base/d"

for run in 1 2; do
  "$ffs" run --plan none --dir "$base/d" --trace "$base/t$run" -- "$prog" sites "$base/d" > /dev/null 2>&1 ||
    fail "run $run: exit $?"
  "$ffs" trace "$base/t$run" > "$base/p$run"
  # index op path ... site=HEX: the sites of calls 1..3 (writes: site_a twice, then site_b)
  sed -n 's/^\([0-9]*\) write s.dat .* site=\([0-9a-f]\{16\}\).*/\1 \2/p' "$base/p$run" > "$base/w$run"
  [ "$(wc -l < "$base/w$run")" = 3 ] || fail "run $run: want 3 writes with a site: $(cat "$base/p$run")"
done
a1=$(sed -n 1p "$base/w1" | cut -d' ' -f2) a2=$(sed -n 2p "$base/w1" | cut -d' ' -f2) b=$(sed -n 3p "$base/w1" | cut -d' ' -f2)
[ "$a1" = "$a2" ] || fail "one call site, two sites: $a1 $a2"
[ "$a1" != "$b" ] || fail "two functions, one site: $a1"
cmp -s "$base/w1" "$base/w2" || fail "sites differ between runs: $(cat "$base/w1") / $(cat "$base/w2")"
# the first record of a site names it (module+offset), a repeat does not
grep -q "^1 write s.dat .* @ ffs_e2e_prog+0x" "$base/p1" || fail "site not named: $(cat "$base/p1")"
! grep -q "^2 write s.dat .* @ " "$base/p1" || fail "a repeated site is named again: $(cat "$base/p1")"

# the fired record carries the site of the call it fired at
set +e
"$ffs" run --plan 'crash@write#3' --dir "$base/d" -- "$prog" sites "$base/d" > /dev/null 2> "$base/err"
rc=$?
set -e
[ "$rc" = 137 ] || fail "crash@write#3: exit $rc, want 137: $(cat "$base/err")"
grep -q "fired: rule 0 (crash) on write #3 at call 3 's.dat' site=$b " "$base/err" || fail "fired site: want $b: $(cat "$base/err")"

# a version 1 trace (48-byte heads, no site) still reads: one write of 'x', 1 byte, result 1
printf 'FFSTRC01\061\000\000\000\002\000\001\000\001\000\000\000\000\000\000\000\007\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000x' > "$base/v1"
out=$("$ffs" trace "$base/v1") || fail "v1 trace: exit $?"
[ "$out" = "7 write x off=0 len=1 res=1 [dirty]" ] || fail "v1 trace: '$out'"

# seccomp: the stack is in another process: site unknown, none printed
"$ffs" run --backend seccomp --plan 'eio@write#1' --dir "$base/d" --trace "$base/ts" -- "$prog" sites "$base/d" > /dev/null 2> "$base/err" ||
  fail "seccomp: exit $?: $(cat "$base/err")"
grep -q "site unknown" "$base/err" || fail "seccomp fired line: $(cat "$base/err")"
! "$ffs" trace "$base/ts" | grep -q "site=" || fail "seccomp trace has a site: $("$ffs" trace "$base/ts")"
echo "ok: sites $a1 (twice) and $b, equal in two runs"
