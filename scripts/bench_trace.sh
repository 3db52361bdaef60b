#!/usr/bin/env bash
# Crash states per second, live against trace-based (docs/bench.md "Trace-based crash
# states against live cases"), side by side in one run: RUNS rounds, each a live campaign
# (--time LIVE_TIME) then a trace campaign (every cut point) of the same target, workload,
# kinds and models, with JOBS jobs. Prints each round, then the medians, with the load
# average before and after.
#   usage: scripts/bench_trace.sh path/to/powercut [TARGET] [WORKLOAD] [RUNS] [JOBS]
# env: FAULTS (default kill,crash,crash-after,torn), MODELS (strict,ext4), LIVE_TIME (10s)
set -uo pipefail
PC=${1:?usage: bench_trace.sh path/to/powercut [target] [workload] [runs] [jobs]}
TGT=${2:-sofadb}
WL=${3:-mixed}
RUNS=${4:-3}
JOBS=${5:-2}
FAULTS=${FAULTS:-kill,crash,crash-after,torn}
MODELS=${MODELS:-strict,ext4}
LIVE_TIME=${LIVE_TIME:-10s}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

echo "target $TGT, workload $WL, faults $FAULTS, models $MODELS, jobs $JOBS, $RUNS rounds"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$RUNS"); do
  rm -rf "$T/live" "$T/trace"
  "$PC" campaign --live --target "$TGT" --workload "$WL" --faults "$FAULTS" --models "$MODELS" --time "$LIVE_TIME" \
    --jobs "$JOBS" --out "$T/live" --reach none --no-minimize --quiet > /dev/null 2>&1
  "$PC" campaign --trace --target "$TGT" --workload "$WL" --faults "$FAULTS" --models "$MODELS" --cases 1 \
    --jobs "$JOBS" --out "$T/trace" --reach none --no-minimize --quiet > /dev/null 2>&1
  python3 - "$T" "$i" <<'PY'
import json, os, sys
t, i = sys.argv[1], sys.argv[2]
live = json.load(open(os.path.join(t, "live", "meta.json")))
tr = json.load(open(os.path.join(t, "trace", "meta-trace.json")))
print("round %s: live %d cases in %.1f s = %.1f states/s | trace %d cut points, %d checks, %d distinct states in %.2f s = %.1f distinct states/s"
      % (i, live["cases"], live["elapsed_s"], live["states_per_s"], tr["cut_points"], tr["checks"],
         tr["distinct_states"], tr["elapsed_s"], tr["distinct_states_per_s"]))
open(os.path.join(t, "rates"), "a").write("%f %f\n" % (live["states_per_s"], tr["distinct_states_per_s"]))
PY
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$T/rates" <<'PY'
import statistics, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
l, t = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
print("median: live %.0f states/s, trace %.0f distinct states/s (%.1fx)" % (l, t, t / l if l else 0))
PY
