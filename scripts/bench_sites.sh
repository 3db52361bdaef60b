#!/usr/bin/env bash
# Crash-site coverage of the default campaign (docs/bench.md "Crash-site coverage of the
# default campaign"): the distinct crash sites (call stacks, docs/faultfs.md "Crash sites")
# that the default 20 s campaign crashed at, against the union of those a long campaign
# crashed at: every model, both sofadb modes (one campaign each, half of LONG_TIME), every
# named workload (docs/workloads.md). Prints both counts, how many of the long one's sites the
# default reached, and the ratio (the goal: 90%). Sites hold code offsets: both campaigns run
# the one binary given.
#   usage: scripts/bench_sites.sh path/to/powercut
# env: DEFAULT_ARGS  the default campaign's options after --target sofadb (default:
#                    "--time 20s", scripts/quickstart.sh's campaign; for a build whose
#                    quickstart names workloads, give them here)
#      LONG_TIME     the long campaign's time, split over the two modes (default 10m)
#      JOBS          --jobs of both (default 2)
#      KEEP          a directory to keep both reports in (default: a temp dir, removed)
set -uo pipefail
PC=${1:?usage: bench_sites.sh path/to/powercut}
DEFAULT_ARGS=${DEFAULT_ARGS:---time 20s}
LONG_TIME=${LONG_TIME:-10m}
JOBS=${JOBS:-2}
if [ -n "${KEEP:-}" ]; then T=$KEEP; mkdir -p "$T"; else T=$(mktemp -d); trap 'rm -rf "$T"' EXIT; fi
WORKLOADS=$(for w in mixed fill overwrite batch bank large churn reopen sizes views; do printf -- '--workload %s ' "$w"; done)
half=$(python3 -c '
import re, sys
m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", sys.argv[1]) or sys.exit("LONG_TIME: %r is not a duration" % sys.argv[1])
print("%dms" % (float(m[1]) * {"ms": 1, "s": 1e3, "m": 6e4, "h": 3.6e6}[m[2] or "s"] / 2))' "$LONG_TIME") || exit 2

echo "powercut: $PC ($("$PC" --version))"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # name, args...
  local name=$1; shift
  local t0=$SECONDS
  "$PC" campaign "$@" --jobs "$JOBS" --reach none --out "$T/$name" > "$T/$name.out" 2> "$T/$name.err"
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    echo "FAIL: campaign $name exited $rc: $(tail -3 "$T/$name.err")" >&2
    exit 2
  fi
  echo "$name: $((SECONDS - t0)) s wall: $(grep 'crash sites:' "$T/$name.out" | sed 's/^ *//')"
}
# shellcheck disable=SC2086 # DEFAULT_ARGS and WORKLOADS are lists of options
run default --target sofadb $DEFAULT_ARGS
# shellcheck disable=SC2086
run long-sofadb --target sofadb $WORKLOADS --models strict,ext4,xfs,reorder --time "$half"
# shellcheck disable=SC2086
run long-deterministic0 --target sofadb:deterministic=0 $WORKLOADS --models strict,ext4,xfs,reorder --time "$half"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$T" <<'PY'
import json, sys
d = sys.argv[1]
def crashed(name):
    """the distinct sites of the dry runs and records that a case or trace state fired at"""
    seen = {s["site"] for s in json.load(open("%s/%s/meta.json" % (d, name))).get("sites", [])}
    fired = set()
    for l in open("%s/%s/results.jsonl" % (d, name)):
        r = json.loads(l)
        if r.get("fired") and r.get("fire_site") in seen:
            fired.add(r["fire_site"])
    return fired
D = crashed("default")
L = crashed("long-sofadb") | crashed("long-deterministic0")
both = len(D & L)
print("crash sites crashed at: default %d, long %d (union of both modes); the default reached %d of the long's"
      % (len(D), len(L), both))
print("ratio: %d / %d = %.1f%% of the long campaign's sites (goal 90%%); default / long = %.2f"
      % (both, len(L), 100.0 * both / max(len(L), 1), len(D) / max(len(L), 1)))
PY
