#!/usr/bin/env bash
# Crash sites in a campaign (docs/powercut.md "The campaign's case list", docs/faultfs.md
# "Crash sites"), on sofadb:
#  1. a small --cases budget opens with the sites' first calls: every case crashes at a
#     site of its own, where the sweep by N-th call of each kind (--order kinds) returns
#     to the same few sites; the rare sites (first called late in their kind) are reached
#     only by the site order;
#  2. the terminal line, summary.json, meta.json, results.jsonl and index.html agree on
#     the counts, and every fired site is one the dry run saw;
#  3. both orders run the same case ids when the budget covers the whole sweep;
#  4. --order takes sites or kinds only.
set -uo pipefail
PC=${1:?usage: e2e_sites.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
W=(--target sofadb --workload mixed:ops=6 --faults crash,eio --models strict,ext4 --reach none --no-minimize --jobs 2)

echo "== 1. a budget of 12 cases: the site order crashes at more sites"
for ord in sites kinds; do
  "$PC" campaign --live "${W[@]}" --cases 12 --order "$ord" --out "$T/$ord" > "$T/$ord.out" 2> "$T/$ord.err"; rc=$?
  [ "$rc" -eq 0 ] || fail "--order $ord: exit $rc, want 0: $(tail -3 "$T/$ord.err")"
  grep -Eq '^  crash sites: [0-9]+ seen in dry runs, [0-9]+ crashed at \([0-9.]+%\)' "$T/$ord.out" ||
    fail "--order $ord: no crash sites line: $(cat "$T/$ord.out")"
done
python3 - "$T" <<'PY' || fail "site counts"
import json, os, re, sys
t = sys.argv[1]
def load(ord):
    d = os.path.join(t, ord)
    rows = [json.loads(l) for l in open(os.path.join(d, "results.jsonl"))]
    meta = json.load(open(os.path.join(d, "meta.json")))
    summ = json.load(open(os.path.join(d, "summary.json")))["crash_sites"]
    line = [l for l in open(os.path.join(t, ord + ".out")) if "crash sites:" in l][0]
    return rows, meta, summ, line
rows, meta, summ, line = load("sites")
seen = {s["site"]: s for s in meta["sites"]}
fired = [r["fire_site"] for r in rows if r["fired"]]
assert len(rows) == 12 and len(fired) == 12, (len(rows), len(fired))
assert all(re.fullmatch("[0-9a-f]{16}", f) for f in fired), fired
assert set(fired) <= set(seen), "a fired site the dry run did not see: %s" % (set(fired) - set(seen))
assert len(set(fired)) == 12, "site order: %d distinct sites in 12 cases" % len(set(fired))
assert summ["seen"] == len(seen) and summ["crashed"] == 12 and summ["crashed_unseen"] == 0, summ
assert len(summ["never_crashed"]) == len(seen) - 12, summ
assert "%d seen in dry runs, 12 crashed at" % len(seen) in line, line
assert all(s["name"] for s in meta["sites"]), "a site without a name"
krows, kmeta, ksumm, kline = load("kinds")
kfired = {r["fire_site"] for r in krows if r["fired"]}
assert ksumm["seen"] == summ["seen"], (ksumm, summ)
assert ksumm["crashed"] == len(kfired) < summ["crashed"], "kinds order: %d sites, site order %d" % (ksumm["crashed"], summ["crashed"])
# the rare sites: first called late in their kind (#5 or later), crashed at by the site order only
rare = {s for s in set(fired) if int(re.search(r"#(\d+)", [r["plan"] for r in rows if r["fire_site"] == s][0]).group(1)) >= 5}
assert rare and not (rare & kfired), (rare, kfired)
print("   site order: %d distinct sites in 12 cases (%d first called at #5 or later); kinds order: %d; %d seen"
      % (len(set(fired)), len(rare), len(kfired), len(seen)))
PY
grep -q '<h3 id="sites">crash sites</h3>' "$T/sites/index.html" || fail "index.html: no crash sites section"
grep -q 'Never crashed at' "$T/sites/index.html" || fail "index.html: no list of sites never crashed at"
grep -q 'powercut+0x' "$T/sites/index.html" || fail "index.html: sites not named"

echo "== 2. the whole sweep: the same case ids in both orders"
for ord in sites kinds; do
  n=$(sed -n 's/.* \([0-9]*\) systematic crash points.*/\1/p' "$T/$ord.err")
  "$PC" campaign --live "${W[@]}" --cases $((n + 3)) --order "$ord" --out "$T/all-$ord" > /dev/null 2> "$T/all-$ord.err"; rc=$?
  [ "$rc" -eq 0 ] || fail "--order $ord, whole sweep: exit $rc: $(tail -3 "$T/all-$ord.err")"
  python3 -c 'import json,sys; print("\n".join(sorted(json.loads(l)["id"] for l in open(sys.argv[1]))))' \
    "$T/all-$ord/results.jsonl" > "$T/ids-$ord"
done
cmp -s "$T/ids-sites" "$T/ids-kinds" || fail "the orders run different cases: $(diff "$T/ids-sites" "$T/ids-kinds" | head -5)"
[ "$(sort -u "$T/ids-sites" | wc -l)" = "$(wc -l < "$T/ids-sites")" ] || fail "a case id twice"

echo "== 3. --order is checked"
out=$("$PC" campaign --live "${W[@]}" --cases 1 --order depth --out "$T/bad" 2>&1); rc=$?
[ "$rc" -eq 2 ] || fail "--order depth: exit $rc, want 2"
grep -q "order: 'depth' is not sites or kinds" <<<"$out" || fail "--order depth: $out"
[ ! -e "$T/bad" ] || fail "--order depth: the out dir was made"
echo "ok"
