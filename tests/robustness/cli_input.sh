#!/bin/sh
# cli_input.sh CASE - malformed fault plans and case ids are refused before
# anything runs, with exit 2 and a message that says what is wrong.
. "$(dirname "$0")/lib.sh"
mkdir "$T/d"
case "$1" in
bad_plan)
  run "$POWERCUT" run --target sofadb --workload mixed:ops=5 --seed 1 --fault 'explode@write'
  expect_rc 2; expect_out "plan:1: unknown action 'explode'"
  run "$POWERCUT" run --target sofadb --workload mixed:ops=5 --seed 1 --fault 'crash@fsync#0'
  expect_rc 2; expect_out "plan:"
  run "$POWERCUT" run --target sofadb --workload mixed:ops=5 --seed 1 --fault 'crash@fsync(*.log'
  expect_rc 2; expect_out "plan:"
  run "$FAULTFS" run --plan 'crash@wrte' --dir "$T/d" -- touch "$T/d/x"
  expect_rc 2; expect_out "plan:"
  [ -e "$T/d/x" ] && fail "the program ran despite the bad plan" ;;
bad_caseid)
  run "$POWERCUT" repro 'garbage'; expect_rc 2; expect_out "case id must start with 'pc1/'"
  run "$POWERCUT" repro 'pc1/sofadb/mixed/notanumber/strict/none'; expect_rc 2; expect_out "seed 'notanumber' is not a decimal number"
  run "$POWERCUT" repro 'pc1/sofadb/mixed/1/weird/none'; expect_rc 2; expect_out "unknown model 'weird'"
  run "$POWERCUT" repro 'pc1/sofadb/mixed/1/strict/explode@write'; expect_rc 2; expect_out "unknown action 'explode'"
  run "$POWERCUT" repro 'pc1/nosuchtarget/mixed/1/strict/none'; expect_rc 2; expect_out "nosuchtarget"
  run "$POWERCUT" repro 'pc1/sofadb/nosuchworkload/1/strict/none'; expect_rc 2; expect_out "nosuchworkload" ;;
*) fail "unknown case '$1'" ;;
esac
echo "ok: $1"
