#!/bin/sh
# engine_files.sh CASE - sofadb on a damaged database (docs/robustness.md).
# Each CASE damages one file of a real database, then checks what `sofadb
# check` and a read say: a clear error naming the file (and offset where the
# format has one), or a correct recovery that keeps every intact record.
. "$(dirname "$0")/lib.sh"
D=$T/db
make_db "$D"
SST=$(ls "$D"/*.sst | head -1); SSTN=$(basename "$SST")
WAL=$(ls "$D"/*.log | head -1); WALN=$(basename "$WAL")
MAN=$(ls "$D"/MANIFEST-* | head -1); MANN=$(basename "$MAN")

# where a WAL's records end: before the zeros of its preallocated space
wal_end() {
  e=$("$SOFADB" "$(dirname "$1")" dump "$1" | sed -n 's/^@\([0-9]*\) end: .* preallocated zeros$/\1/p')
  echo "${e:-$(size_of "$1")}"
}

case "$1" in
sst_truncated)
  truncate -s $(($(size_of "$SST") / 2)) "$SST"
  run "$SOFADB" "$D" check; expect_rc 3; expect_out "$SSTN: size"; expect_out "but the MANIFEST says"
  run "$SOFADB" "$D" get k1; expect_rc 3; expect_out "$SSTN: size" ;;
sst_bitflip_data)
  flip "$SST" $(($(size_of "$SST") / 2))
  run "$SOFADB" "$D" check; expect_rc 3; expect_out "$SSTN: block at offset"; expect_out "checksum mismatch"
  run "$SOFADB" "$D" scan; expect_rc 3; expect_out "scan: corruption: $D/$SSTN: block at offset"; expect_out "checksum mismatch" ;;
sst_bitflip_footer)
  s=$(size_of "$SST"); flip "$SST" $((s - 4))
  run "$SOFADB" "$D" check; expect_rc 3; expect_out "$SSTN: offset $((s - 48)): bad footer magic"
  run "$SOFADB" "$D" get k1; expect_rc 3; expect_out "$SSTN" ;;
wal_truncated_tail)
  s=$(wal_end "$WAL"); truncate -s $((s - 9)) "$WAL"
  run "$SOFADB" "$D" check; expect_rc 0; expect_out "$WALN"; expect_out "torn tail"
  run "$SOFADB" "$D" get k2; expect_rc 0; expect_out "v2"
  run "$SOFADB" "$D" get k1; expect_rc 0; expect_out "v1" ;;
wal_truncated_header)
  truncate -s 3 "$WAL"
  run "$SOFADB" "$D" check; expect_rc 0; expect_out "torn tail of 3 bytes at offset 0"
  run "$SOFADB" "$D" get k1; expect_rc 0; expect_out "v1" ;;
wal_bitflip_middle)
  # needs a WAL with synced records after the flip, written by ONE process (each
  # CLI open starts a new WAL): the real database of the fuzz seed walonly-dir
  W=$T/w; python3 "$SRC/tests/robustness/unpack_seed.py" "$SRC/fuzz/seeds/sofadb_dir/walonly-dir" "$W" || fail unpack
  WAL=$W/000001.log
  run "$SOFADB" "$W" check; expect_rc 0
  flip "$WAL" $(($(size_of "$WAL") / 2))
  run "$SOFADB" "$W" check; expect_rc 3; expect_out "000001.log: corrupt record at offset"; expect_out "had been synced"
  run "$SOFADB" "$W" get key00000; expect_rc 3; expect_out "000001.log: corrupt record at offset" ;;
wal_bitflip_after_close)
  # a log synced only at its clean close (load): the close marker (engine D19)
  # proves every record was synced, so a flip in the middle is corruption, not
  # a torn tail that would silently drop the records after it
  W=$T/c; run "$SOFADB" "$W" load 3000; expect_rc 0
  CW=$(ls "$W"/*.log | head -1)
  flip "$CW" $(($(size_of "$CW") / 2))
  run "$SOFADB" "$W" check; expect_rc 3; expect_out "corrupt record at offset"; expect_out "had been synced" ;;
manifest_truncated)
  truncate -s 10 "$MAN"
  run "$SOFADB" "$D" check; expect_rc 3; expect_out "$MANN"; expect_out "corruption"
  run "$SOFADB" "$D" get k1; expect_rc 3; expect_out "$MANN" ;;
manifest_bitflip)
  flip "$MAN" 40
  run "$SOFADB" "$D" check; expect_rc 3; expect_out "$MANN"; expect_out "corruption"
  run "$SOFADB" "$D" get k1; expect_rc 3; expect_out "$MANN" ;;
current_empty)
  : >"$D/CURRENT"
  run "$SOFADB" "$D" check; expect_rc 3; expect_out "CURRENT: malformed"
  run "$SOFADB" "$D" get k1; expect_rc 3; expect_out "CURRENT: malformed" ;;
current_bitflip)
  flip "$D/CURRENT" 12
  run "$SOFADB" "$D" check; expect_rc 3; expect_out "CURRENT: malformed"
  run "$SOFADB" "$D" get k1; expect_rc 3; expect_out "CURRENT: malformed" ;;
current_names_missing_manifest)
  echo MANIFEST-000777 >"$D/CURRENT"
  run "$SOFADB" "$D" check; expect_rc 3; expect_out "MANIFEST-000777, which does not exist"
  run "$SOFADB" "$D" get k1; expect_rc 3; expect_out "MANIFEST-000777, which does not exist"
  [ -e "$D/MANIFEST-000777" ] && fail "the missing MANIFEST was created" ;;
*) fail "unknown case '$1'" ;;
esac
# whatever happened, no table was deleted and a MANIFEST is still there (a
# successful recovery may have replaced the old one by a new snapshot)
[ -e "$SST" ] || fail "$SSTN was removed"
ls "$D"/MANIFEST-* >/dev/null 2>&1 || fail "no MANIFEST left"
echo "ok: $1"
