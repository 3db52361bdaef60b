#!/bin/sh
# sofadb_dir.sh CASE - sofadb given a database directory that is damaged or
# hostile (docs/robustness.md, "sofadb directories"): CURRENT missing beside
# data, FIFOs and symlinks in place of its files, and read commands that must
# change nothing. Every command runs under a timeout: a hang fails the case.
. "$(dirname "$0")/lib.sh"
D=$T/db
TO=${SOFADB_TIMEOUT:-20}
# trun CMD...: run with a timeout; exit 124 (a hang) fails the case
trun() { run timeout "$TO" "$@"; [ "$RC" = 124 ] && fail "hung (timeout ${TO}s): $*"; return 0; }
# digest DIR: name, type and checksum of every entry, for before/after compares
digest() { (cd "$1" && for f in * .[!.]*; do [ -e "$f" ] || [ -L "$f" ] || continue
  if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; elif [ -f "$f" ]; then echo "$f $(md5sum <"$f")"
  else echo "$f $(stat -c %F "$f")"; fi; done); }
unchanged() { [ "$(digest "$D")" = "$1" ] || fail "$2 changed the directory: before: $1; after: $(digest "$D")"; }
# small database: k1 in a table, k2 in the WAL only
"$SOFADB" "$D" put --sync k1 v1 >/dev/null || fail "put k1"
"$SOFADB" "$D" load 45000 >/dev/null || fail "load"
"$SOFADB" "$D" put --sync k2 v2 >/dev/null || fail "put k2"
SST=$(ls "$D"/*.sst | head -1); WAL=$(ls "$D"/*.log | head -1); MAN=$(ls "$D"/MANIFEST-* | head -1)

case "$1" in
no_current_with_data)
  rm "$D/CURRENT"; before=$(digest "$D")
  trun "$SOFADB" "$D" put a b; expect_rc 3
  expect_out "$D: no CURRENT file, but the directory holds sofadb data ("; expect_out "$(basename "$SST")"
  expect_out "$(basename "$MAN")"; expect_out "not a new database; nothing was deleted or overwritten"
  unchanged "$before" put
  trun "$SOFADB" "$D" get k1; expect_rc 3; expect_out "no CURRENT file, but the directory holds sofadb data"
  trun "$SOFADB" "$D" check; expect_rc 3; expect_out "no CURRENT file, but the directory holds sofadb data"
  unchanged "$before" "get/check" ;;
no_current_interrupted_create)
  # a create that died before CURRENT: a header-only WAL and an empty MANIFEST
  E=$T/e; "$SOFADB" "$E" load 0 >/dev/null || fail "create"
  rm "$E/CURRENT"
  trun "$SOFADB" "$E" put a b; expect_rc 0
  trun "$SOFADB" "$E" get a; expect_rc 0; expect_out b ;;
fifo_current | fifo_manifest | fifo_table | fifo_wal | fifo_lock)
  case "$1" in
  fifo_current) F=$D/CURRENT ;; fifo_manifest) F=$MAN ;; fifo_table) F=$SST ;; fifo_wal) F=$WAL ;;
  fifo_lock) F=$D/LOCK ;;
  esac
  rm "$F" && mkfifo "$F"; before=$(digest "$D")
  for c in "get k1" "scan" "stats" "check" "put a b"; do
    # shellcheck disable=SC2086
    trun "$SOFADB" "$D" $c; expect_rc 3; expect_out "$F: is a FIFO, not a regular file"
  done
  unchanged "$before" "a command"
  if [ "$1" != fifo_current ] && [ "$1" != fifo_lock ]; then
    trun "$SOFADB" "$D" dump "$(basename "$F")"; expect_rc 3; expect_out "$F: is a FIFO, not a regular file"
  fi ;;
symlink_current_tmp)
  printf 'precious' >"$T/victim"; ln -s "$T/victim" "$D/CURRENT.tmp"
  trun "$SOFADB" "$D" get k1; expect_rc 0; expect_out v1
  [ "$(cat "$T/victim")" = precious ] || fail "get wrote through the CURRENT.tmp symlink"
  trun "$SOFADB" "$D" put a b; expect_rc 0
  [ "$(cat "$T/victim")" = precious ] || fail "put wrote through the CURRENT.tmp symlink"
  [ -L "$D/CURRENT.tmp" ] && fail "the stale CURRENT.tmp symlink is still there"
  trun "$SOFADB" "$D" get a; expect_rc 0; expect_out b ;;
symlink_lock)
  printf 'precious' >"$T/victim"; rm "$D/LOCK"; ln -s "$T/victim" "$D/LOCK"
  trun "$SOFADB" "$D" put a b; expect_rc 3; expect_out "$D/LOCK: is a symlink, not a regular file (not followed)"
  trun "$SOFADB" "$D" get k1; expect_rc 3; expect_out "$D/LOCK: is a symlink"
  [ "$(cat "$T/victim")" = precious ] || fail "the LOCK symlink's target changed" ;;
read_commands_change_nothing)
  printf 'x' >"$D/000999.log"; printf 'y' >"$D/000998.sst"; printf 'z' >"$D/MANIFEST-000997"
  before=$(digest "$D")
  trun "$SOFADB" "$D" get k2; expect_rc 0; expect_out v2
  trun "$SOFADB" "$D" scan k1 k3; expect_rc 0; expect_out "k1	v1"; expect_out "k2	v2"
  trun "$SOFADB" "$D" stats; expect_rc 0; expect_out "recovered_wal_records: 1"
  trun "$SOFADB" "$D" check; expect_rc 0
  trun "$SOFADB" "$D" dump "$(basename "$WAL")"; expect_rc 0
  unchanged "$before" "a read command"
  trun "$SOFADB" "$D" put --opt read_only=1 k3 v3; expect_rc 3
  expect_out "put: database is open read-only: $D: opened read-only (option read_only): writes are refused"
  unchanged "$before" "a read-only put" ;;
check_leaves_no_lock)
  mkdir "$T/plain"
  trun "$SOFADB" "$T/plain" check; expect_rc 3; expect_out "$T/plain: no CURRENT: not a database"
  trun "$SOFADB" "$T/plain" get k; expect_rc 3; expect_out "$T/plain: no CURRENT file: not a sofadb database"
  [ -z "$(ls -A "$T/plain")" ] || fail "a read command left files: $(ls -A "$T/plain")" ;;
empty_dir_name)
  [ -e /LOCK ] && { echo "skip: /LOCK exists already"; exit 77; }
  for c in check "get k" "put k v"; do
    # shellcheck disable=SC2086
    trun "$SOFADB" "" $c; expect_rc 2; expect_out "sofadb: DIR is empty: give the database directory"
  done
  [ -e /LOCK ] && fail "/LOCK was created" ;;
*) fail "unknown case '$1'" ;;
esac
echo "ok: $1"
