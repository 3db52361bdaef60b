#!/bin/sh
# cli_test.sh SOFADB - the sofadb CLI: commands, exit codes, errors on stderr.
set -u
B=$1
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
$B "$D/db" put --sync hello world || fail put
[ "$($B "$D/db" get hello)" = world ] || fail get
$B "$D/db" put b 2 && $B "$D/db" put a 1 && $B "$D/db" del b || fail put/del
[ "$($B "$D/db" scan | tr '\t\n' ':,')" = "a:1,hello:world," ] || fail scan
[ "$($B "$D/db" scan b | tr '\t\n' ':,')" = "hello:world," ] || fail "scan FROM"
$B "$D/db" get b 2>/dev/null; [ $? -eq 1 ] || fail "get of a missing key must exit 1"
$B "$D/db" get 2>/dev/null; [ $? -eq 2 ] || fail "missing argument must exit 2"
$B "$D/db" put --bogus k v 2>"$D/err"; [ $? -eq 2 ] || fail "unknown option must exit 2"
grep -q "unknown option" "$D/err" || fail "unknown option message"
$B "$D/db" frobnicate 2>/dev/null; [ $? -eq 2 ] || fail "unknown command"
$B --help | grep -q "usage" || fail --help
$B help put | grep -q -- "--sync" || fail "help put"
$B "$D/db" load --help | grep -q "ops\|puts" || fail "load --help"
$B "$D/db" load 60000 | grep -q "ops/s" || fail load
$B "$D/db" stats | grep -q "^open_us:" || fail stats
$B "$D/db" check >/dev/null || fail check
MAN=$(cd "$D/db" && ls MANIFEST-*)
$B "$D/db" dump "$MAN" | grep -q "header: magic SOFA-MAN" || fail "dump manifest"
LOG=$(cd "$D/db" && ls *.log)
$B "$D/db" dump "$LOG" | grep -q "^@0 header" || fail "dump wal"
SST=$(cd "$D/db" && ls *.sst | head -1)
$B "$D/db" dump "$SST" | grep -q "^sstable" || fail "dump sstable"
# --opt NAME=VALUE: known names apply, unknown names and bad values exit 2
$B "$D/db" put --opt no_such_option=1 k v 2>"$D/err"; [ $? -eq 2 ] || fail "unknown --opt must exit 2"
grep -q "unknown option 'no_such_option'" "$D/err" || fail "unknown --opt message"
$B "$D/db" put --opt memtable_bytes=lots k v 2>/dev/null; [ $? -eq 2 ] || fail "bad --opt value must exit 2"
$B "$D/z" load 30000 --keys 3000 --opt compression=zlib --opt memtable_bytes=64K --opt level_base_bytes=256K \
  --opt target_file_bytes=64K >/dev/null || fail "load with --opt"
$B "$D/z" stats --opt compression=zlib | grep -q "^level1: files" || fail "stats levels"
$B "$D/z" check >/dev/null || fail "check of a compressed, compacted db"
[ "$($B "$D/z" scan | wc -l)" -le 3000 ] || fail "--keys bounds the key count"
$B "$D/z" stats --format prometheus | grep -q '^sofadb_level_files{level="1"} ' || fail "prometheus format"
$B "$D/z" stats --format xml 2>/dev/null; [ $? -eq 2 ] || fail "bad --format must exit 2"
# corrupt a table: check names the file and exits non-zero
printf '\377' | dd of="$D/db/$SST" bs=1 seek=100 conv=notrunc 2>/dev/null
$B "$D/db" check >/dev/null 2>"$D/err"; [ $? -eq 3 ] || fail "check must exit 3 on corruption"
grep -q "$SST" "$D/err" || fail "check must name the file"
grep -q "offset" "$D/err" || fail "check must give the offset"
echo "cli ok"
