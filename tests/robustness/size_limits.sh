#!/bin/sh
# size_limits.sh - keys and values at the edges: empty key, empty value, and a
# 100000-byte key and value (the WAL record spans several 32 KiB blocks; 128
# KiB is the kernel's limit on one argv string). Each reads back exactly, and
# survives a reopen and `check`.
. "$(dirname "$0")/lib.sh"
D=$T/db
big=$(head -c 100000 /dev/zero | tr '\0' 'k')
bigv=$(head -c 100000 /dev/zero | tr '\0' 'v')
run "$SOFADB" "$D" put --sync "$big" "$bigv"; expect_rc 0
run "$SOFADB" "$D" put --sync "" empty-key; expect_rc 0
run "$SOFADB" "$D" put --sync ev ""; expect_rc 0
run "$SOFADB" "$D" check; expect_rc 0; expect_out "ok: "
"$SOFADB" "$D" get "$big" >"$T/out" || fail "get big key"
[ "$(cat "$T/out")" = "$bigv" ] || fail "big value differs after reopen"
run "$SOFADB" "$D" get ""; expect_rc 0; expect_out "empty-key"
"$SOFADB" "$D" get ev >"$T/out" || fail "get ev"
[ "$(wc -c <"$T/out")" = 1 ] || fail "empty value read back as $(wc -c <"$T/out") bytes (expected just the newline)"
# and after a flush to a table (load past the 4 MiB memtable)
"$SOFADB" "$D" load 45000 >/dev/null || fail "load"
ls "$D"/*.sst >/dev/null 2>&1 || fail "no table written"
"$SOFADB" "$D" get "$big" >"$T/out" || fail "get big key from a table"
[ "$(cat "$T/out")" = "$bigv" ] || fail "big value differs after the flush"
run "$SOFADB" "$D" get ""; expect_rc 0; expect_out "empty-key"
run "$SOFADB" "$D" check; expect_rc 0
echo "ok: size limits"
