#!/usr/bin/env bash
# fuzz/run.sh - build the libFuzzer targets with clang (build-fuzz/) and run
# each one in turn, one at a time, for a given time on its seed corpus.
#
#   fuzz/run.sh [--seconds N] [--only NAME[,...]] [--skip NAME[,...]] [--keep-going]
#               [--build-dir DIR] [--no-build]
#
# --keep-going runs libFuzzer in fork mode and ignores crashes, to fuzz on past
# a known finding (longer runs); every crash is still saved in findings/.
#
# --skip leaves out targets with a known, reported, unfixed finding
# (fuzz/findings/, docs/fuzzing.md) so that a CI run stays meaningful.
#
# Seeds: fuzz/seeds/<target>/ (committed, read-only). New inputs found during a
# run go to BUILD/corpus/<target>/ (kept between runs, not committed). A crash,
# leak, timeout or invariant failure leaves its input in BUILD/findings/<target>/
# and makes the script exit 1 after the other targets ran; minimize it with
#   BUILD/fuzz/fuzz_<target> -minimize_crash=1 -runs=10000 FILE
# and save it under fuzz/findings/<target>/ (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=10
ONLY=""
SKIP=""
BUILD=build-fuzz
DO_BUILD=1
KEEP=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --skip) SKIP="$2"; shift 2 ;;
    --build-dir) BUILD="$2"; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --keep-going) KEEP=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1); shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "fuzz/run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$SECONDS_PER" in ''|*[!0-9]*) echo "fuzz/run.sh: --seconds needs a positive integer" >&2; exit 2 ;; esac

TARGETS="wal sstable manifest sofadb_dir oplog plan trace record undo caseid exec_reply"
[ -n "$ONLY" ] && TARGETS="${ONLY//,/ }"
for s in ${SKIP//,/ }; do TARGETS=$(echo " $TARGETS " | sed "s/ $s / /"); done

if [ "$DO_BUILD" = 1 ]; then
  command -v clang >/dev/null || { echo "fuzz/run.sh: clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
  mkdir -p "$BUILD"
  if ! { CC=clang cmake -S . -B "$BUILD" -DPC_FUZZ=ON -DPC_BUILD_TESTS=OFF -DPC_WERROR=ON &&
         cmake --build "$BUILD" -j"$(nproc)"; } >"$BUILD/build.log" 2>&1; then
    tail -30 "$BUILD/build.log" >&2
    echo "fuzz/run.sh: build failed (full log: $BUILD/build.log)" >&2
    exit 2
  fi
fi

# scratch dirs on tmpfs when there is one: the engine fsyncs, a disk makes that slow
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
fail=0
printf '%-12s %8s %12s %8s %8s %s\n' target seconds execs corpus crashes result
for t in $TARGETS; do
  bin="$BUILD/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz/run.sh: no such target '$t' ($bin)" >&2; exit 2; }
  corpus="$BUILD/corpus/$t"
  findings="$BUILD/findings/$t"
  mkdir -p "$corpus" "$findings"
  stamp=$(mktemp)
  log="$BUILD/fuzz-$t.log"
  set +e
  # saved reproducers (fuzz/findings/<target>/) run first: a fixed bug that comes back fails CI
  extra=()
  [ -d "fuzz/findings/$t" ] && extra=("fuzz/findings/$t")
  "$bin" "$corpus" "fuzz/seeds/$t" "${extra[@]}" -max_total_time="$SECONDS_PER" -timeout=10 -report_slow_units=5 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" "${KEEP[@]}" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' "$log" | tail -1) # fork mode
  crashes=$(find "$findings" -type f -newer "$stamp" 2>/dev/null | wc -l)
  rm -f "$stamp"
  files=$(find "$corpus" -type f | wc -l)
  # libFuzzer exits 0 after saving a slow unit (slow-unit-*, over -report_slow_units) and, with
  # --keep-going, after crashes and timeouts: any new file in findings/ is a failure too
  if [ "$rc" != 0 ]; then res="FAILED (rc $rc, see $log, input in $findings/)"; fail=1
  elif [ "$crashes" -gt 0 ]; then res="FAILED ($crashes new input(s) in $findings/: crash, timeout or slow unit, see $log)"; fail=1
  else res=ok; fi
  printf '%-12s %8s %12s %8s %8s %s\n' "$t" "$SECONDS_PER" "${execs:-?}" "$files" "$crashes" "$res"
  if [ "$res" != ok ]; then grep -m1 -E "ERROR: |INVARIANT|runtime error|Slowest unit" "$log" >&2 || tail -5 "$log" >&2; fi
done
exit "$fail"
