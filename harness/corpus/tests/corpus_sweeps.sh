#!/usr/bin/env bash
# corpus_sweeps.sh - the longer runs behind the tables of docs/corpus.md (not a ctest: minutes).
#   matrix: which fault kind x model catches each broken engine (200 cases each, no minimize)
#   twins:  every fixed twin under every fault kind and model, mixed:ops=40 (3000 cases each)
#           and six other workloads (1500 cases each) on the four engine configurations
# usage: corpus_sweeps.sh path/to/powercut matrix|twins
set -uo pipefail
PC=${1:?usage: corpus_sweeps.sh path/to/powercut matrix|twins}
MODE=${2:?usage: corpus_sweeps.sh path/to/powercut matrix|twins}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

count() { # results.jsonl -> {verdict: n}
  python3 -c 'import json,sys,collections
c=collections.Counter(json.loads(l)["verdict"] for l in open(sys.argv[1]))
if sys.argv[2] == "bad": c.pop("PASS", None)
print(dict(c))' "$1" "$2" 2>/dev/null || echo "(no results)"
}

run() { # target workload faults models cases extra-args... -> one line
  local t=$1 w=$2 f=$3 m=$4 n=$5 what=$6
  shift 6
  rm -rf "$T/out"
  "$PC" campaign --live --target "$t" --workload "$w" --faults "$f" --models "$m" --cases "$n" --jobs 2 \
    --out "$T/out" --quiet "$@" > /dev/null 2> "$T/err"
  echo "$t $w $f $m rc=$? $(count "$T/out/results.jsonl" "$what")"
}

case $MODE in
matrix)
  for t in corpus-wal-nofsync corpus-newfile-nodirsync corpus-rename-unsynced-tmp \
           corpus-rename-nodirsync corpus-log-deleted-early corpus-crc-header-only \
           corpus-eio-retry:ckpt_every=0 corpus-torn-record corpus-batch-nocommit; do
    for f in crash kill torn eio; do
      for m in strict ext4 reorder; do
        [ "$f" = kill ] && [ "$m" != strict ] && continue
        run "$t" mixed:ops=40 "$f" "$m" 200 bad --no-minimize
      done
    done
  done ;;
twins)
  F=crash,crash-after,kill,kill-after,torn,eio,enospc,short
  M=strict,ext4,reorder
  for t in corpus-wal-nofsync-fixed corpus-newfile-nodirsync-fixed corpus-rename-unsynced-tmp-fixed \
           corpus-rename-nodirsync-fixed corpus-log-deleted-early-fixed corpus-crc-header-only-fixed \
           corpus-torn-record-fixed corpus-batch-nocommit-fixed corpus-eio-retry-fixed \
           corpus-eio-retry-fixed:ckpt_every=0; do
    run "$t" mixed:ops=40 "$F" "$M" 3000 all
  done
  for t in corpus-wal-nofsync-fixed corpus-eio-retry-fixed:ckpt_every=0 \
           corpus-newfile-nodirsync-fixed corpus-crc-header-only-fixed; do
    for w in batch:ops=60 overwrite:ops=60 reopen:ops=60 bank:ops=60 churn:ops=200 fill:ops=60; do
      run "$t" "$w" "$F" "$M" 1500 all
    done
  done ;;
*) echo "unknown mode $MODE (matrix|twins)" >&2; exit 2 ;;
esac
