#!/usr/bin/env bash
# Regression cases: each id once failed on sofadb (docs/findings.md) and must
# now PASS, with the same verdict on every run.
set -uo pipefail
PC=${1:?usage: e2e_regressions.sh path/to/powercut}
ids=(
  # 1. reopen after a failed fsync left a hole in the WAL (RECOVERY_FAILED)
  'pc1/sofadb/reopen:ops=18,close=0/0/reorder/eio@fdatasync'
  'pc1/sofadb/reopen:ops=18,close=0/0/strict/eio@fdatasync'
  'pc1/sofadb/reopen:ops=146,close=0/0/ext4/eio@fdatasync#7'
  'pc1/sofadb/mixed:ops=90/624/reorder/eio@fdatasync#4'
  'pc1/sofadb/reopen:ops=200,close=0/0/strict/eio@fdatasync#19'
)
for id in "${ids[@]}"; do
  out=$("$PC" repro "$id" --count 3 2>&1); rc=$?
  if [ "$rc" -ne 0 ] || ! grep -q '^verdict: PASS$' <<<"$out" || ! grep -q 'same verdict every time' <<<"$out"; then
    echo "FAIL: $id (rc=$rc)"; echo "$out"; exit 1
  fi
  echo "ok: $id"
done
echo "e2e_regressions: ${#ids[@]} cases PASS"
