#!/usr/bin/env bash
# Failure groups and reproduction rates (docs/reports.md, docs/powercut.md), on the broken
# target sofadb-nosync (acks sync writes without syncing): a campaign with many failures
#  1. gives few groups, one row each, with the charts above the table and a small page;
#  2. keeps at most 3 tarballs per group, each from a run that failed;
#  3. re-runs the smallest case of each group --rerun times: deterministic, so 5/5,
#     in results.jsonl, summary.json, index.html and the terminal summary;
#  4. --rerun is range-checked.
set -uo pipefail
PC=${1:?usage: e2e_groups.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. many failures, few groups, a small page"
"$PC" campaign --live --target sofadb-nosync --workload mixed:ops=60 --cases 300 --jobs 2 --out "$T/bad" \
  --reach none > "$T/out" 2> "$T/err"; rc=$?
[ "$rc" -eq 1 ] || fail "campaign exited $rc, want 1: $(tail -3 "$T/err")"
python3 - "$T/bad" <<'PY' || fail "groups"
import json, os, sys
d = sys.argv[1]
cases = [json.loads(l) for l in open(os.path.join(d, "results.jsonl"))]
fails = [c for c in cases if c["verdict"] != "PASS"]
s = json.load(open(os.path.join(d, "summary.json")))
g = s["groups"]
assert len(fails) >= 100, len(fails)
assert 1 <= len(g) <= 4, [x["signature"] for x in g]
assert sum(x["count"] for x in g) == len(fails), (sum(x["count"] for x in g), len(fails))
assert len(s["failures"]) == len(fails)
size = os.path.getsize(os.path.join(d, "index.html"))
assert size < 60000, "index.html is %d bytes" % size
html = open(os.path.join(d, "index.html"), encoding="utf-8").read()
assert 0 <= html.find('<section id="verdicts">') < html.find('<section id="failures">'), "charts after the table"
assert html.count('<tr><td><span class="badge"') == len(g)
print("   %d failing cases in %d group(s): %s; index.html %d bytes, charts first" %
      (len(fails), len(g), "; ".join("%d x %s" % (x["count"], x["signature"]) for x in g), size))
PY
grep -q "^failures: [0-9]* in [1-4] groups\?" "$T/out" || fail "terminal summary has no group line: $(cat "$T/out")"

echo "== 2. at most 3 tarballs per group, each listed by its case"
python3 - "$T/bad" <<'PY' || fail "tarballs"
import json, os, sys
d = sys.argv[1]
cases = [json.loads(l) for l in open(os.path.join(d, "results.jsonl"))]
s = json.load(open(os.path.join(d, "summary.json")))
kept = [c["kept"] for c in cases if c["kept"]]
files = sorted(os.listdir(os.path.join(d, "artifacts")))
assert 1 <= len(files) <= 3 * len(s["groups"]), (len(files), len(s["groups"]))
assert len(kept) <= 3 * len(s["groups"]), len(kept)
for k in kept:
    assert os.path.getsize(os.path.join(d, k)) > 0, k
for x in s["groups"]:
    assert x["kept_total"] <= 3 and len(x["kept"]) >= 1, x
# a kept case was minimized, and its minimal case's fault fires (never a dead fault)
for c in cases:
    if c["kept"]:
        assert c["minimized_id"], c["id"]
print("   %d tarballs for %d group(s)" % (len(files), len(s["groups"])))
PY

echo "== 3. the smallest case of each group reproduced 5/5"
python3 - "$T/bad" <<'PY' || fail "rates"
import json, os, sys
d = sys.argv[1]
cases = {json.loads(l)["id"]: json.loads(l) for l in open(os.path.join(d, "results.jsonl"))}
s = json.load(open(os.path.join(d, "summary.json")))
for x in s["groups"]:
    assert (x["reruns"], x["reproduced"]) == (5, 5), x
    c = cases[x["smallest"]["id"]]
    assert (c["reruns"], c["reproduced"]) == (5, 5), c
rerun = [c for c in cases.values() if c["reruns"]]
assert len(rerun) == len(s["groups"]), len(rerun)
print("   %d group(s), each 5/5" % len(s["groups"]))
PY
grep -q "^    reproduced 5/5$" "$T/out" || fail "terminal summary lacks 'reproduced 5/5': $(cat "$T/out")"
grep -q "reproduced 5/5" "$T/bad/index.html" || fail "index.html lacks the rate"
grep -q "^powercut: re-running the smallest case of [0-9]* failure groups\? 5 times each$" "$T/err" \
  || fail "no re-run line on stderr: $(cat "$T/err")"
# (a group whose cases have a fault: the end-of-workload power cut alone has none to fire)
mid=$(python3 -c 'import json,sys; g=[g for g in json.load(open(sys.argv[1]))["groups"] if not g["signature"].endswith("| no fault")][0]; print(g["smallest"]["minimized_id"] or g["smallest"]["id"])' "$T/bad/summary.json")
rout=$("$PC" repro "$mid" --count 5 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q "same verdict every time" <<<"$rout" && ! grep -q "did not fire" <<<"$rout" \
  || fail "the group's repro line does not reproduce with its fault firing: $rout"

echo "== 4. --rerun range"
out=$("$PC" campaign --live --target sofadb-nosync --cases 1 --rerun 101 --out "$T/x" 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--rerun: '101' is not a number in 1..100" <<<"$out" || fail "--rerun 101: rc=$rc: $out"
[ ! -e "$T/x" ] || fail "a refused campaign made its --out dir"
echo "e2e_groups: all checks passed"
