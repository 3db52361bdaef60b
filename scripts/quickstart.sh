#!/usr/bin/env bash
# The main job: installs missing packages, builds, and runs a short crash
# campaign on sofadb, writing its report to ./powercut-report/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DPC_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
OUT=${OUT:-powercut-report}
if [ -x build/bin/powercut ]; then
  exec build/bin/powercut campaign --target sofadb --workload mixed --time 30s --out "$OUT" "$@"
fi
# Until the harness lands: a sofadb demo.
D=$(mktemp -d)
build/bin/sofadb "$D/db" put --sync hello world
build/bin/sofadb "$D/db" get hello
build/bin/sofadb "$D/db" load 100000
build/bin/sofadb "$D/db" stats
rm -rf "$D"
