#!/usr/bin/env bash
# A target plugin built for another target ABI is refused at load with a message
# naming the file and both versions; one without the ABI symbol likewise; the run
# that names it fails (exit 2) instead of calling into it.
set -uo pipefail
PC=${1:?usage: abi_plugin.sh path/to/powercut PLUGIN_DIR ABI}
DIR=${2:?plugin dir}
ABI=${3:?powercut target ABI}
n=0
expect() { # expect WANT_RC PATTERN -- ARGS...
  local want=$1 pat=$2; shift 3
  out=$(POWERCUT_PLUGIN_DIR="$DIR" "$PC" "$@" 2>&1); rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -qE -- "$pat" <<<"$out"; then
    echo "FAIL: powercut $* -> rc=$rc (want $want), output lacks /$pat/:"; echo "$out"; exit 1
  fi
  n=$((n+1))
}
expect 2 "target plugin $DIR/pc_target_abiold.so was built for target ABI 1; this powercut has ABI $ABI: rebuild it" \
  -- run --target abiold --workload fill:ops=3 --seed 1 --fault none
expect 2 "target plugin $DIR/pc_target_abinone.so has no target ABI version \(symbol pc_target_plugin_abi" \
  -- run --target abinone --workload fill:ops=3 --seed 1 --fault none
expect 2 "target plugin $DIR/pc_target_abinoput.so lacks a required operation" \
  -- run --target abinoput --workload fill:ops=3 --seed 1 --fault none
# the same plugin source built with powercut's ABI and every operation loads
expect 0 "abiok +test plugin" -- targets
echo "abi_plugin: $n checks passed"
