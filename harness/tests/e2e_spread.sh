#!/usr/bin/env bash
# The default spread (docs/powercut.md "The default spread"), on sofadb:
#  1. a campaign without --workload, --models or --seed (live cases: --cases bounds them): its
#     first cases span the models, both sofadb modes (its defaults and deterministic=0), the
#     workloads and seeds, and the header says so; a case id of it repros as the same case;
#  2. what the user gives is honoured exactly: --workload (no spread at all: one workload,
#     the target as given, seed 0, models strict,ext4), --models, --seed, target options.
set -uo pipefail
PC=${1:?usage: e2e_spread.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
C=(--live --reach none --no-minimize --jobs 2)
# the distinct values of a field of the ids in results.jsonl: target (with options),
# workload, seed, model
field() { python3 -c '
import json, sys
ix = {"target": 1, "workload": 2, "seed": 3, "model": 4}[sys.argv[2]]
print(" ".join(sorted({json.loads(l)["id"].split("/")[ix] for l in open(sys.argv[1])})))' "$T/$1/results.jsonl" "$2"; }
nfield() { field "$1" "$2" | wc -w; }

echo "== 1. the default campaign: its first 24 cases span models, modes, workloads, seeds"
"$PC" campaign --target sofadb --cases 24 "${C[@]}" --out "$T/def" > "$T/def.out" 2> "$T/def.err"; rc=$?
[ "$rc" -eq 0 ] || fail "default campaign exited $rc: $(tail -3 "$T/def.err")"
grep -q "^powercut: default spread (no --workload): 8 workloads (mixed reopen sizes views churn bank large mixed:threads=4) x 2 option sets (sofadb, sofadb:deterministic=0) = 16 arms, seeds 0..15, models strict,ext4,xfs,reorder" "$T/def.err" \
  || fail "no spread line in the header: $(head -3 "$T/def.err")"
[ "$(field def target)" = "sofadb sofadb:deterministic=0" ] || fail "targets of the first cases: $(field def target)"
[ "$(nfield def model)" -ge 4 ] || fail "models of the first cases: $(field def model)"
[ "$(nfield def workload)" -ge 6 ] || fail "workloads of the first cases: $(field def workload)"
[ "$(nfield def seed)" -ge 12 ] || fail "seeds of the first cases: $(field def seed)"
id=$(python3 -c 'import json,sys; print([json.loads(l)["id"] for l in open(sys.argv[1]) if "deterministic=0" not in l][0])' "$T/def/results.jsonl")
"$PC" repro "$id" --json > "$T/repro.json" 2> "$T/repro.err"; rc=$?
[ "$rc" -eq 0 ] || fail "repro $id exited $rc: $(cat "$T/repro.err")"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["id"] == sys.argv[2]' "$T/repro.json" "$id" \
  || fail "repro $id ran another case: $(cat "$T/repro.json")"

echo "== 2. explicit choices are honoured exactly"
"$PC" campaign --target sofadb --workload mixed:ops=40 --cases 12 "${C[@]}" --out "$T/w" 2> "$T/w.err"; rc=$?
[ "$rc" -eq 0 ] || fail "--workload campaign exited $rc: $(tail -3 "$T/w.err")"
grep -q "default spread" "$T/w.err" && fail "--workload campaign spread: $(head -2 "$T/w.err")"
[ "$(field w target)" = "sofadb" ] || fail "--workload: targets $(field w target)"
[ "$(field w workload)" = "mixed:ops=40" ] || fail "--workload: workloads $(field w workload)"
[ "$(field w seed)" = "0" ] || fail "--workload: seeds $(field w seed)"
[ "$(field w model)" = "ext4 strict" ] || fail "--workload: models $(field w model)"
"$PC" campaign --target sofadb:deterministic=0 --models reorder --seed 7 --cases 8 "${C[@]}" --out "$T/m" 2> "$T/m.err"; rc=$?
[ "$rc" -eq 0 ] || fail "--models/--seed campaign exited $rc: $(tail -3 "$T/m.err")"
grep -q "x 1 option set (sofadb:deterministic=0) = 8 arms, seed 7, models reorder," "$T/m.err" \
  || fail "spread line with --models, --seed, options: $(head -2 "$T/m.err")"
[ "$(field m target)" = "sofadb:deterministic=0" ] || fail "target options not honoured: $(field m target)"
[ "$(field m model)" = "reorder" ] || fail "--models reorder not honoured: $(field m model)"
[ "$(field m seed)" = "7" ] || fail "--seed 7 not honoured: $(field m seed)"
[ "$(nfield m workload)" -ge 5 ] || fail "workloads not spread under --models/--seed: $(field m workload)"
echo "PASS"
