#!/usr/bin/env bash
# End-to-end tests of the powercut CLI, run against the real binaries:
#  1. a campaign on sofadb passes (exit 0, every case PASS, reports written);
#  2. a broken target (sofadb-nosync: acks sync writes without syncing) is caught
#     with LOST_ACKED or NOT_PREFIX, and its repro id gives the same verdict 20/20;
#  3. minimize returns a smaller case with the same verdict;
#  4. shards 1/2 + 2/2 cover exactly the cases of the unsharded run;
#  5. junit.xml is well-formed JUnit with one failure per failing case.
set -euo pipefail
PC=${1:?usage: e2e_campaign.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. campaign on sofadb passes"
"$PC" campaign --live --target sofadb --workload mixed:ops=60 --cases 300 --jobs 2 --out "$T/ok" --quiet \
  || fail "campaign on sofadb exited $?"
n=$(wc -l < "$T/ok/results.jsonl")
[ "$n" -eq 300 ] || fail "expected 300 result lines, got $n"
grep -q '"verdict":"PASS"' "$T/ok/results.jsonl" || fail "no PASS line"
# (no `cmd | grep -q` under pipefail anywhere here: an early-exiting reader
#  makes the writer die of SIGPIPE and the pipeline fail at random)
nonpass=$(grep -v '"verdict":"PASS"' "$T/ok/results.jsonl" || true)
[ -z "$nonpass" ] || fail "non-PASS verdicts on sofadb: $(printf '%s' "$nonpass" | sed -n 1,3p)"
for f in summary.json junit.xml index.html meta.json; do [ -s "$T/ok/$f" ] || fail "missing $f"; done
fired=$(grep -c '"fired":true' "$T/ok/results.jsonl" || true)
[ "$fired" -gt 200 ] || fail "only $fired of 300 faults fired: crash points are not aimed"
kinds=$(grep -o '"fault_kind":"[a-z-]*"' "$T/ok/results.jsonl" | sort -u | wc -l)
[ "$kinds" -ge 5 ] || fail "only $kinds fault kinds covered in 300 cases"
echo "   300 cases PASS, $fired fired, $kinds fault kinds"

echo "== 2. a broken target is caught"
set +e
"$PC" campaign --live --target sofadb-nosync --workload mixed:ops=60 --faults crash --models strict --cases 40 --reach none \
  --jobs 2 --out "$T/bad" --quiet
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "campaign on the broken target exited $rc, want 1"
# (only the first 3 failures of each group are minimized and kept: take one of those)
# (not `grep | grep -m1`: the early exit kills the first grep with SIGPIPE under pipefail)
line=$(grep -E '"verdict":"(LOST_ACKED|NOT_PREFIX)"' "$T/bad/results.jsonl" | grep -v '"kept":""' || true)
line=${line%%$'\n'*}
[ -n "$line" ] || fail "no LOST_ACKED/NOT_PREFIX verdict with a kept tarball"
id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$line")
verdict=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["verdict"])' "$line")
minid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["minimized_id"])' "$line")
kept=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["kept"])' "$line")
echo "   caught: $verdict  $id"
set +e
out=$("$PC" repro "$id" --count 20)
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "repro exited $rc, want 1: $out"
grep -q "^verdict: $verdict\$" <<<"$out" || fail "repro verdict differs: $out"
grep -q "repeat: 20 runs, same verdict every time" <<<"$out" || fail "repro not stable: $out"
echo "   repro: same verdict 20/20"
[ -n "$kept" ] && [ -s "$T/bad/$kept" ] || fail "failing case has no kept data dir tarball ($kept)"
listing=$(tar -tzf "$T/bad/$kept") || fail "kept tarball unreadable"
[ -n "$listing" ] || fail "kept tarball is empty"
# every entry sits under one folder named like the tarball (two extracted side by side never merge)
top="case-$(basename "$kept" .tar.gz)"
bad_entries=$(grep -v "^$top/" <<<"$listing" || true)
[ -z "$bad_entries" ] || fail "kept tarball entries outside $top/: $bad_entries"

echo "== 3. minimize shrinks it"
set +e
mout=$("$PC" minimize "$id")
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "minimize exited $rc: $mout"
mid=$(echo "$mout" | sed -n 's/^minimal: //p')
[ -n "$mid" ] || fail "no minimal id: $mout"
python3 - "$id" "$mid" <<'PY' || fail "minimal case is not smaller: $mid vs $id"
import re, sys
def size(i):
    parts = i.split('/', 5)
    w, plan = parts[2], parts[5]
    m = re.search(r'ops=(\d+)', w)
    ops = int(m.group(1)) if m else 10**9
    n = sum(int(x) for x in re.findall(r'#(\d+)', plan))
    return (ops, n)
a, b = size(sys.argv[1]), size(sys.argv[2])
sys.exit(0 if (b[0] <= a[0] and b[1] <= a[1] and b != a) else 1)
PY
set +e
"$PC" repro "$mid" > "$T/min.out"
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "^verdict: $verdict\$" "$T/min.out" || fail "minimal case does not reproduce $verdict: $(cat "$T/min.out")"
[ -z "$minid" ] || echo "   campaign's own minimized id: $minid"
echo "   minimal: $mid"

echo "== 4. shards cover exactly the unsharded cases"
"$PC" campaign --live --target sofadb --workload mixed:ops=30 --cases 50 --jobs 2 --out "$T/all" --quiet
"$PC" campaign --live --target sofadb --workload mixed:ops=30 --cases 50 --jobs 1 --shard 1/2 --out "$T/s1" --quiet
"$PC" campaign --live --target sofadb --workload mixed:ops=30 --cases 50 --jobs 1 --shard 2/2 --out "$T/s2" --quiet
ids() { python3 -c 'import json,sys
for p in sys.argv[1:]:
    for l in open(p):
        print(json.loads(l)["id"])' "$@" | sort; }
ids "$T/all/results.jsonl" > "$T/a.ids"
ids "$T/s1/results.jsonl" "$T/s2/results.jsonl" > "$T/s.ids"
[ "$(wc -l < "$T/a.ids")" -eq 50 ] || fail "unsharded run has $(wc -l < "$T/a.ids") cases"
cmp -s "$T/a.ids" "$T/s.ids" || fail "shards differ from the unsharded run: $(diff "$T/a.ids" "$T/s.ids" | head)"
[ -z "$(comm -12 <(ids "$T/s1/results.jsonl") <(ids "$T/s2/results.jsonl"))" ] || fail "shards overlap"
"$PC" report "$T/s1" "$T/s2" --out "$T/merged" > /dev/null
[ "$(wc -l < "$T/merged/results.jsonl")" -eq 50 ] || fail "merged report lacks cases"
echo "   1/2 + 2/2 == unsharded (50 cases), merged report written"

echo "== 5. junit.xml validates"
python3 - "$T/bad/junit.xml" "$T/bad/results.jsonl" <<'PY' || fail "junit.xml invalid"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
cases = [json.loads(l) for l in open(sys.argv[2])]
bad = sum(1 for c in cases if c["verdict"] != "PASS")
tcs = root.findall("./testsuite/testcase")
assert len(tcs) == len(cases), (len(tcs), len(cases))
fails = sum(len(tc.findall("failure")) + len(tc.findall("error")) for tc in tcs)
assert fails == bad, (fails, bad)
for ts in root.findall("testsuite"):
    n = len(ts.findall("testcase"))
    assert int(ts.get("tests")) == n
print("   junit: %d testcases, %d failures" % (len(tcs), fails))
PY
echo "== 6. --models applies to kill cases too (they end in a power cut like every case)"
"$PC" campaign --live --target sofadb --workload mixed:ops=30 --models ext4 --faults kill,crash --cases 30 \
  --out "$T/models" --quiet > /dev/null || fail "ext4-only campaign failed"
python3 - "$T/models/results.jsonl" <<'PY' || fail "a case ran under a model that --models did not name"
import json, sys
cases = [json.loads(l) for l in open(sys.argv[1])]
kinds = {c["fault_kind"] for c in cases}
assert "kill" in kinds, kinds
bad = [c["id"] for c in cases if c["model"] != "ext4"]
assert not bad, bad[:3]
print("   %d cases (kill and crash), every one under ext4" % len(cases))
PY

echo "e2e_campaign: all checks passed"
