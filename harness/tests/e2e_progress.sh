#!/usr/bin/env bash
# The campaign's progress line: with a case budget it counts done/planned and ends at
# planned/planned; with a time budget it says how much of the budget is left; on a terminal
# the bar is full when the campaign is done (it once showed elapsed seconds modulo 30).
set -uo pipefail
PC=${1:?usage: e2e_progress.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# case budget, not a terminal: the last progress line reads 60/60 cases ... done
"$PC" campaign --live --target sofadb --workload mixed:ops=30 --cases 60 --jobs 1 --out "$T/a" >/dev/null 2>"$T/a.err"
rc=$?; [ $rc -eq 0 ] || { cat "$T/a.err"; fail "case-budget campaign exited $rc"; }
last=$(grep -E '^powercut: [0-9]+/' "$T/a.err" | tail -1)
grep -qE '^powercut: 60/60 cases, [0-9]+/s, 0 failing, 0 errors, [0-9.]+s, done$' <<<"$last" ||
  { cat "$T/a.err"; fail "last progress line of a 60-case campaign: '$last'"; }

# time budget: lines say what is left of it, and it never grows
"$PC" campaign --live --target sofadb --workload mixed:ops=30 --time 7s --jobs 1 --out "$T/b" >/dev/null 2>"$T/b.err"
rc=$?; [ $rc -eq 0 ] || { cat "$T/b.err"; fail "time-budget campaign exited $rc"; }
lefts=$(grep -oE ', [0-9]+s left$' "$T/b.err" | grep -oE '[0-9]+')
[ -n "$lefts" ] || { cat "$T/b.err"; fail "no 'Ns left' in the progress of a 7 s campaign"; }
prev=999
for l in $lefts; do
  [ "$l" -le 7 ] && [ "$l" -le "$prev" ] || { cat "$T/b.err"; fail "time left went $prev -> $l"; }
  prev=$l
done
grep -qE ' errors, [0-9.]+s, done$' "$T/b.err" || { cat "$T/b.err"; fail "no final 'done' line"; }

# on a terminal (script(1) gives the campaign a pty): the final bar is full
if command -v script >/dev/null; then
  script -qec "'$PC' campaign --live --target sofadb --workload mixed:ops=30 --cases 40 --jobs 1 --out '$T/c'" /dev/null \
    >"$T/c.out" 2>&1
  final=$(tr '\r' '\n' <"$T/c.out" | grep -E '^\[[#.]{30}\]' | tail -1)
  grep -qE '^\[#{30}\] 40/40 cases .* done' <<<"$final" || { cat "$T/c.out"; fail "final tty bar: '$final'"; }
fi
echo "ok: progress lines"
