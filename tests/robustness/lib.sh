# lib.sh - helpers sourced by the hostile-input tests in tests/robustness/.
# Binaries come from the environment set by tests/CMakeLists.txt: SOFADB,
# POWERCUT, FAULTFS, OPLOG, SRC (the source tree). Every check asserts an exit
# code AND a message; the first failed check exits 1.

fail() { echo "FAIL: $*" >&2; exit 1; }
# run CMD...: RC := exit status, OUT := stdout+stderr
run() { OUT=$("$@" 2>&1); RC=$?; }
expect_rc() { [ "$RC" = "$1" ] || fail "expected exit $1, got $RC; output: $OUT"; }
expect_out() { case "$OUT" in *"$1"*) ;; *) fail "expected output to contain '$1'; got: $OUT" ;; esac; }
expect_no_out() { case "$OUT" in *"$1"*) fail "output must not contain '$1'; got: $OUT" ;; esac; }
# flip BIT of the byte at OFFSET of FILE
flip() { python3 -c "import sys
f = open(sys.argv[1], 'r+b'); o = int(sys.argv[2]); f.seek(o); b = f.read(1)
f.seek(o); f.write(bytes([b[0] ^ 0x10]))" "$1" "$2"; }
size_of() { stat -c %s "$1"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/robust.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# make_db DIR: k1 (before the flush, so in a table), ~45000 loaded keys (one
# flush -> one .sst), k2 synced early, zz synced last (proves the WAL synced).
make_db() {
  "$SOFADB" "$1" put --sync k1 v1 >/dev/null || fail "put k1"
  "$SOFADB" "$1" load 45000 >/dev/null || fail "load"
  "$SOFADB" "$1" put --sync k2 v2 >/dev/null || fail "put k2"
  "$SOFADB" "$1" load 2000 --seed 2 >/dev/null || fail "load 2"
  "$SOFADB" "$1" put --sync zz last >/dev/null || fail "put zz"
  run "$SOFADB" "$1" check
  expect_rc 0
  ls "$1"/*.sst >/dev/null 2>&1 || fail "no table was written"
}
