#!/bin/sh
# sofadb_sweep.sh KIND - every sofadb command on hostile database directories
# (docs/robustness.md, "sofadb directories").
#   KIND current|manifest|table|wal|lock: that file truncated, one bit flipped,
#        grown to a huge sparse file, missing, a FIFO, a symlink to a file
#        outside the directory, a symlink to a directory outside it;
#   KIND foreign: a LevelDB-like directory, a random NNN.log beside a live
#        database, sofadb names without CURRENT, a directory without permissions.
# For each, get/scan/stats/check/dump/put run under a timeout. Asserted: no
# hang; a damaged input gives exit 3 and a message naming the file (a WAL
# damaged at its tail may instead be recovered: exit 0); no file outside the
# directory changes (the symlinks' targets are checksummed); a read command
# changes no file inside it either.
. "$(dirname "$0")/lib.sh"
TO=${SOFADB_TIMEOUT:-20}
HUGE=${SOFADB_SWEEP_HUGE:-64M} # sparse growth; reading it whole must still end
KIND=$1
trun() { run timeout "$TO" "$@"; [ "$RC" = 124 ] && fail "$CASE: hung (timeout ${TO}s): $*"; return 0; }
digest() { (cd "$1" && for f in * .[!.]*; do [ -e "$f" ] || [ -L "$f" ] || continue
  if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; elif [ -f "$f" ]; then echo "$f $(md5sum <"$f")"
  elif [ -d "$f" ]; then echo "$f/ $(digest "$f" | md5sum)"; else echo "$f $(stat -c %F "$f")"; fi; done); }

# the outside world the symlinks point to
O=$T/outside; mkdir -p "$O/dir"
head -c 4096 /dev/urandom >"$O/file"; printf 'MANIFEST-000001\n' >"$O/dir/CURRENT"
OUT0=$(digest "$O")

# base database: k1 in a table, several tables (small memtable), k2 in the WAL
B=$T/base
"$SOFADB" "$B" put --sync k1 v1 >/dev/null || fail "put k1"
"$SOFADB" "$B" load 3000 --opt memtable_bytes=64K >/dev/null || fail "load"
"$SOFADB" "$B" put --sync k2 v2 >/dev/null || fail "put k2"
"$SOFADB" "$B" check >/dev/null || fail "base check"
name_of() { case "$1" in
  current) echo CURRENT ;; lock) echo LOCK ;; manifest) (cd "$B" && ls MANIFEST-* | head -1) ;;
  table) (cd "$B" && ls ./*.sst | head -1 | cut -c3-) ;; wal) (cd "$B" && ls ./*.log | head -1 | cut -c3-) ;; esac; }

# damage DIR FILE HOW
damage() { f=$1/$2; case "$3" in
  truncated) truncate -s $(($(size_of "$f") / 2)) "$f" ;;
  bitflip) flip "$f" $(($(size_of "$f") / 2)) ;;
  huge) truncate -s "+$HUGE" "$f" ;;
  missing) rm "$f" ;;
  fifo) rm "$f"; mkfifo "$f" ;;
  symlink_file) rm "$f"; ln -s "$O/file" "$f" ;;
  symlink_dir) rm "$f"; ln -s "$O/dir" "$f" ;;
  esac; }

# expect CLASS: err = exit 3 naming $NAME; any = also a clean recovery (0, or 1 for get)
check_outcome() {
  case "$RC" in
  3) expect_out "$NAME" ;;
  0 | 1) [ "$1" = any ] || fail "$CASE $CMD: expected exit 3 naming $NAME, got $RC: $OUT" ;;
  *) fail "$CASE $CMD: exit $RC: $OUT" ;;
  esac
  [ "$(digest "$O")" = "$OUT0" ] || fail "$CASE $CMD: a file outside the database changed"
}

# sweep DIR CLASS DUMPFILE [lazy]: every command on (a copy of) DIR. dump
# reads one file: CLASS applies to it only when DUMPFILE is the damaged one
# ($NAME). lazy: get/stats/put need not read the damaged part (a flipped bit
# in a table block get does not visit); scan, check and dump must.
sweep() {
  src=$1; class=$2; dumpf=$3; lazy=$4
  W=$T/w; rm -rf "$W"; cp -a "$src" "$W"; before=$(digest "$W")
  for CMD in "get k1" "scan" "stats" "check" "dump $dumpf" "put a b"; do
    cls=$class
    case "$CMD" in
    dump*) [ "$dumpf" = "$NAME" ] || cls=any ;;
    get* | stats | put*) [ -n "$lazy" ] && cls=any ;;
    esac
    # shellcheck disable=SC2086
    trun "$SOFADB" "$W" $CMD; check_outcome "$cls"
    case "$CMD" in
    put*) if [ "$RC" = 3 ]; then # a refused writer deletes and rewrites nothing (LOCK aside)
        [ "$(digest "$W" | grep -v '^LOCK ')" = "$(echo "$before" | grep -v '^LOCK ')" ] ||
          fail "$CASE put: failed, but changed the directory"
      fi ;;
    *) [ "$(digest "$W")" = "$before" ] || fail "$CASE $CMD: a read command changed the directory" ;;
    esac
  done
  rm -rf "$W"
  N=$((N + 1))
}

N=0
case "$KIND" in
current | manifest | table | wal | lock)
  F=$(name_of "$KIND"); DUMP=$F
  [ "$KIND" = current ] || [ "$KIND" = lock ] && DUMP=$(name_of manifest)
  for how in truncated huge missing fifo symlink_file symlink_dir bitflip; do
    CASE="$KIND/$how"; NAME=$F; class=err; lazy=
    [ "$KIND" = lock ] && [ ! -s "$B/LOCK" ] && { [ "$how" = truncated ] || [ "$how" = bitflip ]; } && continue
    case "$KIND/$how" in
    lock/huge | lock/missing) class=any ;;                              # LOCK's bytes mean nothing
    wal/truncated | wal/bitflip | wal/huge | wal/symlink_file) class=any ;; # a torn tail is recovered
    manifest/huge) class=any ;;                                          # zeros after the last edit: a torn tail
    table/bitflip) lazy=1 ;;
    esac
    rm -rf "$T/d"; cp -a "$B" "$T/d"; damage "$T/d" "$F" "$how"
    sweep "$T/d" "$class" "$DUMP" $lazy
  done ;;
foreign)
  # a LevelDB-like directory: CURRENT names a MANIFEST of another format
  L=$T/leveldb; mkdir "$L"; printf 'MANIFEST-000002\n' >"$L/CURRENT"; : >"$L/LOCK"
  printf '\x8a\x1f\x2b\x61\x1c\x00\x01\x1a\x6c\x65\x76\x65\x6c\x64\x62\x2e\x42\x79\x74\x65\x77\x69\x73\x65' >"$L/MANIFEST-000002"
  head -c 5000 /dev/urandom >"$L/000003.log"; head -c 3000 /dev/urandom >"$L/000005.ldb"
  CASE=leveldb; NAME=MANIFEST-000002; sweep "$L" err MANIFEST-000002
  # a random NNN.log beside a live database: not live, so ignored (a writer's open deletes it)
  R=$T/randlog; cp -a "$B" "$R"; head -c 70000 /dev/urandom >"$R/000777.log"
  CASE=random_log; NAME=000777.log; sweep "$R" any 000777.log
  # sofadb names and no CURRENT: a foreign directory, not a new database
  X=$T/nocurrent; mkdir "$X"; head -c 70000 /dev/urandom >"$X/000007.log"; head -c 900 /dev/urandom >"$X/MANIFEST-000001"
  CASE=no_current; NAME="no CURRENT file, but the directory holds sofadb data"; sweep "$X" err 000007.log
  # a directory without permissions (as nobody: root ignores mode bits)
  if [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; then
    echo "skip: setpriv missing (util-linux): the no-permission case was not run"; exit 77
  fi
  P=$T/noperm; cp -a "$B" "$P"; chmod 000 "$P"; chmod 755 "$T"; before=$(chmod 755 "$P"; digest "$P"; chmod 000 "$P")
  AS=; [ "$(id -u)" = 0 ] && AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
  for CMD in "get k1" "scan" "stats" "check" "dump $(name_of wal)" "put a b"; do
    CASE=noperm
    # shellcheck disable=SC2086
    trun $AS "$SOFADB" "$P" $CMD; expect_rc 3; expect_out "$P"; expect_out "Permission denied (errno 13)"
  done
  chmod 755 "$P"; [ "$(digest "$P")" = "$before" ] || fail "noperm: the directory changed"
  N=$((N + 1)) ;;
*) fail "unknown kind '$KIND'" ;;
esac
echo "ok: $KIND: $N hostile directories, every command, no hang, nothing outside changed"
