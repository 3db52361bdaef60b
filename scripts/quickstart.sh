#!/usr/bin/env bash
# The main job: installs missing packages, builds, and runs a short crash
# campaign on sofadb, writing its report to ./powercut-report/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DPC_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
OUT=${OUT:-powercut-report}
# exit status: 0 all cases passed, 1 a violation was found, 2 usage/setup error
# no --workload: the default spread over workloads, sofadb's two modes, seeds and models
# (docs/powercut.md "The default spread")
exec build/bin/powercut campaign --target sofadb --time "${TIME:-20s}" --out "$OUT" "$@"
