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
    # a command whose --help fails stops the build (a pipe would hide it)
    text=$("$prog" "$c" --help) || { echo "man_commands.sh: '$prog $c --help' failed" >&2; exit 1; }
    printf '%s\n' "$text" | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/"
    echo ".fi"
  done
} > "$out"
