#!/usr/bin/env bash
# campaign.sh POWERCUT TARGET_SPEC [CASES] [WORKLOAD] [CAMPAIGN OPTIONS...]
# A short crash campaign on one target under the contract its options declare:
# it must exit 0 (every case PASS), write one result per case, and aim its
# faults (most of them fire). Prints the verdict summary per fault kind.
set -euo pipefail
PC=${1:?usage: campaign.sh path/to/powercut TARGET_SPEC [CASES] [WORKLOAD]}
SPEC=${2:?target spec}
CASES=${3:-60}
WORKLOAD=${4:-mixed:ops=40}
shift $(( $# < 4 ? $# : 4 ))
EXTRA=("$@")   # e.g. --faults ... --models ... (see docs/targets.md for why a peer needs them)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== campaign --live --target '$SPEC' --workload $WORKLOAD --cases $CASES --jobs 2 ${EXTRA[*]:-}"
set +e
"$PC" campaign --live --target "$SPEC" --workload "$WORKLOAD" --cases "$CASES" --jobs 2 --out "$T/out" --quiet \
  ${EXTRA[@]+"${EXTRA[@]}"}
rc=$?
set -e
R="$T/out/results.jsonl"
[ -s "$R" ] || fail "no results.jsonl (campaign exited $rc)"
python3 - "$R" <<'PY'
import collections, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = collections.Counter(r["verdict"] for r in rows)
print("   verdicts:", ", ".join("%s %d" % kv for kv in sorted(by.items())))
kinds = collections.defaultdict(collections.Counter)
for r in rows:
    kinds[r["fault_kind"]][r["verdict"]] += 1
for k in sorted(kinds):
    print("   %-12s %s" % (k, ", ".join("%s %d" % kv for kv in sorted(kinds[k].items()))))
print("   fired: %d of %d" % (sum(r["fired"] for r in rows), len(rows)))
for r in rows:
    if r["verdict"] != "PASS":
        print("   NOT PASS: %s %s: %s" % (r["verdict"], r["id"], r["explanation"]))
PY
n=$(wc -l < "$R")
[ "$n" -eq "$CASES" ] || fail "expected $CASES result lines, got $n"
[ "$rc" -eq 0 ] || fail "campaign exited $rc (want 0: every case PASS)"
fired=$(grep -c '"fired":true' "$R" || true)
[ "$fired" -ge $((CASES / 2)) ] || fail "only $fired of $CASES faults fired: crash points are not aimed"
echo "   OK: $CASES cases PASS"
