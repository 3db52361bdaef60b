#!/usr/bin/env bash
# The whole test suite: installs missing packages, builds twice (plain, then
# ASan+UBSan) and runs every ctest test in both. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
JOBS=$(nproc)
echo "== build (RelWithDebInfo) =="
cmake -S . -B build -DPC_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$JOBS"
echo "== ctest (plain) =="
(cd build && ctest --output-on-failure -j"$JOBS")
echo "== build (ASan+UBSan) =="
cmake -S . -B build-asan -DPC_BUILD_TESTS=ON -DPC_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
echo "== ctest (ASan+UBSan) =="
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$JOBS" -LE no_asan)
echo "== build (ThreadSanitizer) =="
cmake -S . -B build-tsan -DPC_BUILD_TESTS=ON -DPC_TSAN=ON >/dev/null
cmake --build build-tsan -j"$JOBS"
echo "== ctest (TSan: the multi-threaded tests) =="
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 SDB_MODEL_SEEDS=4 \
   ctest --output-on-failure -j"$JOBS" -R 'engine_db_test|engine_txn_test|engine_cache_test|engine_kill_e2e|engine_fault_test|engine_compaction_test|engine_recovery_test|multithreaded')
echo "== fuzz (libFuzzer, 10 s per target on the seed corpus) =="
fuzz/run.sh --seconds 10
