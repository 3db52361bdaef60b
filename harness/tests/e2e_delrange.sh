#!/usr/bin/env bash
# Delete-range ops reach an engine that has them and the oracle checks them: a
# sofadb run whose workload is puts and delete-ranges (every write synced, so
# the power cut loses none) leaves exactly the keys the generated stream leaves
# (fewer than it put); a crash/kill campaign on a delrange workload passes.
set -uo pipefail
PC=${1:?usage: e2e_delrange.sh path/to/powercut path/to/oplog path/to/sofadb}
OPLOG=${2:?oplog}
SDB=${3:?sofadb}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

W="mixed:ops=300,keys=1000,delrange=0.3,del=0,batch_ratio=0,sync=1,reopen=0,flush=0"
out=$("$PC" run --target sofadb --workload "$W" --seed 1 --fault none --keep "$T/k" 2>&1); rc=$?
[ "$rc" -eq 0 ] && grep -q "^verdict: PASS" <<<"$out" && grep -q "ops: *300 issued, 300 acked" <<<"$out" ||
  fail "run -> rc=$rc: $out"
model=$("$OPLOG" gen "$W" 1 delrange | awk '
  $2 == "PUT" { s[$4] = 1; put[$4] = 1 }
  $2 == "DELRANGE" { b = substr($4, 2, length($4) - 2); e = substr($5, 1, length($5) - 1); nr++
                     for (k in s) if (k >= b && k < e) delete s[k] }
  END { n = 0; for (k in s) n++; p = 0; for (k in put) p++; print nr, p, n }')
read -r nranges nput nleft <<<"$model"
[ "$nranges" -gt 50 ] || fail "the stream has $nranges delete-ranges"
[ "$nleft" -lt "$nput" ] || fail "the delete-ranges of the stream delete nothing ($nput keys put, $nleft left)"
have=$("$SDB" "$T/k" scan | wc -l)
[ "$have" -eq "$nleft" ] || fail "sofadb holds $have keys; the stream ($nranges delete-ranges) leaves $nleft of $nput"

out=$("$PC" campaign --live --target sofadb --workload "mixed:ops=200,keys=200,delrange=0.1" --faults crash,kill \
  --cases 120 --jobs 2 --no-minimize --quiet --out "$T/r" 2>&1); rc=$?
[ "$rc" -eq 0 ] || fail "campaign -> rc=$rc: $out"
n=$(grep -c '"verdict":"PASS"' "$T/r/results.jsonl")
[ "$n" -eq 120 ] || fail "campaign: $n of 120 cases PASS"
echo "e2e_delrange: $nranges delete-ranges, $nleft of $nput keys left as the stream says; 120 crash/kill cases PASS"
