#!/usr/bin/env bash
# fuzz/make_seeds.sh - regenerate fuzz/seeds/ from real files.
#   fuzz/make_seeds.sh [BUILD_FUZZ_DIR]   (default build-fuzz, built by fuzz/run.sh)
# Engine, op-log, plan, case-id and exec-reply seeds come from fuzz_seedgen
# (seedgen.c). Trace and undo seeds come from running the sofadb CLI under the
# faultfs shim with a crash plan: the trace file and the undo log it leaves.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-fuzz}
OUT=fuzz/seeds
rm -rf "$OUT"
mkdir -p "$OUT/trace" "$OUT/undo"
ASAN_OPTIONS=detect_leaks=0 "$B/fuzz/fuzz_seedgen" "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
for plan in 'crash@fsync#3' 'torn@write(*.log)#5:9' 'crash@rename#2' 'eio@fdatasync#1;crash@write#20'; do
  i=$((i + 1))
  rm -rf "$tmp/d" "$tmp/s"; mkdir -p "$tmp/d" "$tmp/s"
  # the instrumented CLI runs under the (uninstrumented) shim: relax ASan's link-order check
  ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 FAULTFS_LIB="$B/lib/libfaultfs.so" \
    "$B/bin/faultfs" run --plan "$plan" --dir "$tmp/d" --state "$tmp/s" --trace "$tmp/t" -- \
    "$B/bin/sofadb" "$tmp/d" load 30 --batch 3 >/dev/null 2>&1 || true
  [ -s "$tmp/t" ] && cp "$tmp/t" "$OUT/trace/sofadb-load-$i"
  # undo seeds: mode byte 0 (header as written), then the 64-byte header and
  # the `used` bytes of records (the shim grows the file by doubling)
  if [ -s "$tmp/s/undo" ]; then
    used=$(od -An -t u8 -j 24 -N 8 "$tmp/s/undo" | tr -d ' ')
    { printf '\0'; head -c $((64 + used)) "$tmp/s/undo"; } >"$OUT/undo/sofadb-load-$i"
  fi
done
# record seeds: the records a trace campaign keeps (DIR/records/<digest>.rec)
mkdir -p "$OUT/record"
for w in fill:ops=6 mixed:ops=12 reopen:ops=10; do
  rm -rf "$tmp/c"
  ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 POWERCUT_SHIM="$B/lib/libfaultfs.so" \
    "$B/bin/powercut" campaign --trace --target sofadb --workload "$w" --models strict --faults crash --cases 1 \
    --jobs 1 --out "$tmp/c" --reach none --quiet >/dev/null 2>&1 || true
  for r in "$tmp"/c/records/*.rec; do [ -s "$r" ] && cp "$r" "$OUT/record/sofadb-$(echo "$w" | tr ':=,' '---')"; done
done
echo "make_seeds: $(find "$OUT" -type f | wc -l) files in $OUT"
find "$OUT" -type f | sed 's|/[^/]*$||' | sort | uniq -c
