#!/bin/sh
# datadir.sh CASE - sofadb given a data dir that is not a usable directory.
. "$(dirname "$0")/lib.sh"
case "$1" in
is_a_file)
  printf 'precious' >"$T/f"
  run "$SOFADB" "$T/f" put k v; expect_rc 3; expect_out "$T/f/LOCK: Not a directory"
  [ "$(cat "$T/f")" = precious ] || fail "the file was changed" ;;
under_a_file)
  : >"$T/f"
  run "$SOFADB" "$T/f/db" put k v; expect_rc 3; expect_out "mkdir $T/f/db: Not a directory" ;;
missing_read_only)
  run "$SOFADB" "$T/none" check; expect_rc 3; expect_out "$T/none"; expect_out "No such file"
  [ -e "$T/none" ] && fail "check created the dir" ;;
unreadable)
  # root ignores permission bits: drop to nobody for the open when we are root
  mkdir "$T/u" && chmod 000 "$T/u"
  if [ "$(id -u)" = 0 ]; then
    command -v setpriv >/dev/null || { echo "skip: setpriv missing (util-linux)"; exit 77; }
    run setpriv --reuid=65534 --regid=65534 --clear-groups "$SOFADB" "$T/u" put k v
  else
    run "$SOFADB" "$T/u" put k v
  fi
  expect_rc 3; expect_out "$T/u"; expect_out "Permission denied (errno 13)" ;;
*) fail "unknown case '$1'" ;;
esac
echo "ok: $1"
