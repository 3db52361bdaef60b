#!/usr/bin/env bash
# The whole test suite: installs missing packages, builds four trees and runs every
# ctest test plain (build/) and under ASan+UBSan (build-asan/), the multithreaded
# tests under TSan (build-tsan/), and each fuzz target for 10 s (build-fuzz/).
# Exits non-zero on any failure; the build trees stay behind (README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
JOBS=$(nproc)
echo "== build (RelWithDebInfo) =="
cmake -S . -B build -DPC_BUILD_TESTS=ON -DPC_WERROR=ON >/dev/null
cmake --build build -j"$JOBS"
echo "== ctest (plain) =="
(cd build && ctest --output-on-failure -j"$JOBS")
# say why a test skipped itself (e.g. the real-file-system campaign without root or loop devices)
grep -h '^SKIP: ' build/Testing/Temporary/LastTest.log 2>/dev/null | sed 's/^/skipped: /' || true
echo "== build (ASan+UBSan) =="
cmake -S . -B build-asan -DPC_BUILD_TESTS=ON -DPC_SANITIZE=ON -DPC_WERROR=ON >/dev/null
cmake --build build-asan -j"$JOBS"
echo "== ctest (ASan+UBSan) =="
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$JOBS" -LE no_asan)
echo "== build (ThreadSanitizer) =="
cmake -S . -B build-tsan -DPC_BUILD_TESTS=ON -DPC_TSAN=ON -DPC_WERROR=ON >/dev/null
cmake --build build-tsan -j"$JOBS"
echo "== ctest (TSan: the multi-threaded tests) =="
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 SDB_MODEL_SEEDS=4 \
   ctest --output-on-failure -j"$JOBS" -R 'engine_db_test|engine_txn_test|engine_cache_test|engine_kill_e2e|engine_fault_test|engine_compaction_test|engine_recovery_test|multithreaded')
echo "== fuzz (libFuzzer, 10 s per target on the seed corpus) =="
fuzz/run.sh --seconds 10
