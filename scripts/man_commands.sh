#!/bin/sh
# man_commands.sh PROGRAM OUT CMD... - a help2man include file whose COMMANDS section
# holds each command's own --help text (PROGRAM CMD --help), so powercut(1) describes
# every command with the text the binary prints.
set -eu
prog=$1 out=$2
shift 2
{
  echo "[COMMANDS]"
  for c in "$@"; do
    echo ".SS $c"
    echo ".nf"
    "$prog" "$c" --help | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/"
    echo ".fi"
  done
} > "$out"
