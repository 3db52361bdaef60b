#!/usr/bin/env bash
# Crash sites of a trace campaign (docs/powercut.md "Trace-based crash states"), on sofadb:
#  1. each state's row names the site of the call at its cut (fire_site), the records' sites
#     are in meta.json, and the terminal line, summary.json and index.html count the sites
#     crashed at (nonzero; live cases in recovery too), each one a site a dry run or a
#     record showed, trace states at 10 or more;
#  2. the default spread in trace mode: one record per arm, and a short --time explores
#     every record (the sites' first cuts of each arm) before any to its end;
#  3. the live part of a trace campaign starts with the sites no trace state is cut at: every
#     site of the recovery has its case before the first case at a workload call that a
#     trace state is cut at (one workload, and the spread).
set -uo pipefail
PC=${1:?usage: e2e_trace_sites.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. a trace campaign reports the crash sites it crashed at"
"$PC" campaign --trace --target sofadb --workload mixed:ops=60 --faults kill,crash,torn --models strict,ext4 \
  --cases 1 --jobs 2 --reach none --out "$T/t" > "$T/t.out" 2> "$T/t.err"; rc=$?
[ "$rc" -eq 0 ] || fail "trace campaign exited $rc: $(tail -3 "$T/t.err")"
read -r seen crashed < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))["crash_sites"]
print(s["seen"], s["crashed"])' "$T/t") || fail "summary.json has no crash_sites"
[ "$seen" -gt 0 ] && [ "$crashed" -gt 0 ] || fail "crash_sites seen $seen, crashed $crashed: want both > 0"
grep -q "crash sites: $seen seen in dry runs, $crashed crashed at" "$T/t.out" || fail "terminal line: $(grep 'crash sites' "$T/t.out")"
grep -q "faults fired at $crashed of them" "$T/t/index.html" || fail "index.html does not count $crashed sites crashed at"
python3 -c '
import json, sys
d = sys.argv[1]
sites = {s["site"] for s in json.load(open(d + "/meta.json"))["sites"]}
rows = [json.loads(l) for l in open(d + "/results.jsonl")]
fired = {r["fire_site"] for r in rows if r.get("fire_site")}
traced = {r["fire_site"] for r in rows if r.get("fire_site") and "/trace:" in r["id"]}
assert len(traced) >= 10, "trace states at %d distinct sites" % len(traced)
assert fired <= sites, "fired sites not among the dry runs and records: %s" % (fired - sites)
assert len(fired) == int(sys.argv[2]), "%d distinct fired sites, summary says %s" % (len(fired), sys.argv[2])
' "$T/t" "$crashed" || fail "rows and meta.json disagree"

echo "== 2. the spread in trace mode: every record explored first"
# one mode (target options given): 8 arms, 8 dry runs and 8 records before the states
"$PC" campaign --trace --target sofadb:deterministic=0 --faults crash --models strict,reorder --time 20s --jobs 2 \
  --reach none --out "$T/s" > "$T/s.out" 2> "$T/s.err"; rc=$?
[ "$rc" -eq 0 ] || fail "spread trace campaign exited $rc: $(tail -3 "$T/s.err")"
grep -q "= 8 arms, seeds 0..7, models strict,reorder" "$T/s.err" || fail "no spread line: $(head -2 "$T/s.err")"
grep -q "8 arms recorded" "$T/s.err" || fail "not one record per arm: $(grep recorded "$T/s.err")"
python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/results.jsonl") if "/trace:" in l]
arms = {r["workload"] for r in rows}
assert len(arms) >= 6, "workloads of the trace states: %s" % sorted(arms)
' "$T/s" || fail "the states of a 20 s spread trace campaign (at least 10 s of it) did not reach 6 of its 8 arms"
echo "== 3. the live part starts where no trace state goes"
cut_ops='{"write", "pwrite", "writev", "fsync", "fdatasync", "rename", "unlink", "link", "mkdir", "rmdir", "ftruncate", "fallocate", "creat"}'
"$PC" campaign --target sofadb --workload mixed:ops=60 --models strict,ext4 --cases 80 --jobs 1 --reach none \
  --out "$T/l" > "$T/l.out" 2> "$T/l.err"; rc=$?
[ "$rc" -eq 0 ] || fail "trace campaign (one workload) exited $rc: $(tail -3 "$T/l.err")"
python3 -c '
import json, sys
d = sys.argv[1]
rec = {s["site"] for s in json.load(open(d + "/meta.json"))["sites"] if s["recovery"] and s["aimed"]}
rows = [json.loads(l) for l in open(d + "/results.jsonl") if "/trace:" not in l]
first = next((i for i, r in enumerate(rows) if not r["fault_kind"].startswith("recovery:")
              and r["fault_op"] in '"$cut_ops"'), len(rows))
assert rec, "no recovery site in meta.json"
assert first < len(rows), "no live case at a cut call: the check proves nothing"
missing = rec - {r.get("fire_site") for r in rows[:first]}
assert not missing, "%d of %d recovery sites had no case before the first live case at a cut call (row %d of %d)" % (
    len(missing), len(rec), first, len(rows))
print("   one workload: its %d recovery sites before live row %d of %d" % (len(rec), first, len(rows)))
' "$T/l" || fail "one workload: the live part did not start with the recovery's sites"
# the spread (one mode, 8 arms, one job): its first live cases are all at uncut sites (an
# ASan build runs a handful in the live part's 6 s: the recovery's come after the opens)
"$PC" campaign --target sofadb:deterministic=0 --models strict,ext4 --time 12s --jobs 1 --reach none \
  --out "$T/m" > "$T/m.out" 2> "$T/m.err"; rc=$?
[ "$rc" -eq 0 ] || fail "trace campaign (spread) exited $rc: $(tail -3 "$T/m.err")"
python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/results.jsonl") if "/trace:" not in l][:40]
cut = [r["id"] for r in rows if not r["fault_kind"].startswith("recovery:") and r["fault_op"] in '"$cut_ops"']
assert len(rows) >= 3, "%d live cases" % len(rows)
assert not cut, "live cases at cut calls among the first %d: %s" % (len(rows), cut[:3])
print("   spread: its first %d live cases at uncut sites (%d in the recovery)"
      % (len(rows), sum(r["fault_kind"].startswith("recovery:") for r in rows)))
' "$T/m" || fail "spread: the live part did not start with the uncut sites"
echo "PASS"
