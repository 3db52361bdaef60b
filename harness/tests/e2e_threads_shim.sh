#!/usr/bin/env bash
# A campaign whose workload has two driver threads, each case a forked child of the
# campaign's worker. Under TSan (scripts/test.sh runs it in build-tsan: its name has
# "multithreaded") the shim's lock must be consistent across fork: the child unlocks
# what the fork's prepare handler locked (re-initialising it made TSan report a "double
# lock of a mutex" in ffs_pre at the first tracked call of a thread).
set -uo pipefail
PC=${1:?usage: e2e_threads_shim.sh path/to/powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
out=$("$PC" campaign --live --target sofadb --workload mixed:ops=60,threads=2 --cases 20 --jobs 1 \
      --out "$T/r" --reach none --no-minimize 2>&1); rc=$?
if grep -q "ThreadSanitizer" <<<"$out"; then echo "FAIL: a TSan report"; echo "$out" | head -40; exit 1; fi
[ "$rc" -eq 0 ] || { echo "FAIL: campaign exit $rc"; echo "$out" | tail -20; exit 1; }
grep -q "20 cases: 20 passed, 0 failed" <<<"$out" || { echo "FAIL: not 20 passing cases"; echo "$out"; exit 1; }
echo "PASS: 20 two-thread cases, no sanitizer report"
