#!/bin/sh
# oplog.sh CASE - the op-log reader (`oplog print`) on a real op log (the
# fuzz seed fuzz/seeds/oplog/mixed, written by wl_oplog_append_*) that was
# truncated or bit-flipped.
. "$(dirname "$0")/lib.sh"
LOG=$SRC/fuzz/seeds/oplog/mixed
run "$OPLOG" print "$LOG"; expect_rc 0; expect_out "30 ops"
case "$1" in
truncated)
  head -c 2000 "$LOG" >"$T/l"
  run "$OPLOG" print "$T/l"; expect_rc 0; expect_out "torn tail of"; expect_out "ignored"; expect_no_out "30 ops" ;;
truncated_header)
  head -c 3 "$LOG" >"$T/l"
  # a torn file header: nothing was issued yet (the header is written first)
  run "$OPLOG" print "$T/l"; expect_rc 0; expect_out "0 ops, torn tail of 3 bytes ignored" ;;
bitflip)
  cp "$LOG" "$T/l"; flip "$T/l" 1500
  run "$OPLOG" print "$T/l"; expect_rc 1; expect_out "bad checksum in record at offset"; expect_out "op log corrupt" ;;
*) fail "unknown case '$1'" ;;
esac
echo "ok: $1"
