#!/bin/sh
# symlinked_tmp_test.sh POWERCUT — powercut with POWERCUT_TMP reached through a symlink: the
# shim must see the same data dir (it resolves paths, not their spelling), so the dry run
# finds as many crash points as with the real path, and the deliberately broken target
# sofadb-nosync still fails where it fails with the plain path.
set -eu
pc=$1
root=/dev/shm
[ -d "$root" ] && [ -w "$root" ] || root=${TMPDIR:-/tmp}
base=$(mktemp -d "$root/ffs-symtmp-XXXXXX")
trap 'rm -rf "$base"' EXIT
mkdir "$base/real"
ln -s "$base/real" "$base/link"
fail() { echo "FAIL: $*" >&2; exit 1; }

points() { # POWERCUT_TMP -> number of systematic crash points of the dry run
  POWERCUT_TMP=$1 "$pc" campaign --live --target sofadb-nosync --workload mixed:ops=60 --cases 1 --jobs 1 \
    --out "$base/out" > "$base/camp" 2>&1 || true
  sed -n 's/.* \([0-9][0-9]*\) systematic crash points.*/\1/p' "$base/camp" | head -1
}
plain=$(points "$base/real")
linked=$(points "$base/link")
[ -n "$plain" ] && [ "$plain" -gt 100 ] || fail "plain POWERCUT_TMP: '$plain' crash points: $(cat "$base/camp")"
[ "$linked" = "$plain" ] || fail "symlinked POWERCUT_TMP: $linked crash points, plain: $plain"

set +e
POWERCUT_TMP="$base/link" "$pc" run --target sofadb-nosync --workload mixed:ops=60 --seed 0 --fault 'crash@write#30' \
  > "$base/run" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "sofadb-nosync under a symlinked POWERCUT_TMP: exit $rc, want 1: $(cat "$base/run")"
grep -q '^verdict: LOST_ACKED' "$base/run" || fail "no LOST_ACKED verdict: $(cat "$base/run")"
! grep -q 'did not fire' "$base/run" || fail "plan did not fire: $(cat "$base/run")"
echo ok
