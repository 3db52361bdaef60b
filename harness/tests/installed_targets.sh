#!/usr/bin/env bash
# The installed powercut knows no test-only target: its `targets` lists neither
# sofadb-nosync nor the broken-engine corpus, a run naming one is refused as an
# unknown target, and the corpus is not linked in. The test build knows them.
set -uo pipefail
INST=${1:?usage: installed_targets.sh path/to/install-bin/powercut path/to/bin/powercut}
TEST=${2:?test build powercut}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

list=$("$INST" targets 2>&1) || fail "installed powercut targets -> rc=$?: $list"
grep -q '^sofadb ' <<<"$list" || fail "installed powercut does not list sofadb: $list"
bad=$(grep -oE '^(sofadb-nosync|corpus-[a-z-]*)' <<<"$list" | tr '\n' ' ')
[ -z "$bad" ] || fail "installed powercut lists test-only targets: $bad"
for t in sofadb-nosync corpus-wal-nofsync; do
  out=$(cd "$T" && "$INST" run --target "$t" --workload mixed:ops=10 --fault none 2>&1); rc=$?
  [ "$rc" -eq 2 ] && grep -q "unknown target '$t'" <<<"$out" || fail "installed run --target $t -> rc=$rc: $out"
done
if command -v nm >/dev/null; then
  if nm "$INST" | grep -q pc_corpus_targets; then fail "the installed powercut links the corpus (pc_corpus_targets)"; fi
fi
n=$("$TEST" targets 2>&1 | grep -cE '^(sofadb-nosync|corpus-)')
[ "$n" -gt 1 ] || fail "the test build lists $n test-only targets"
echo "installed_targets: the installed powercut has no test-only target; the test build has $n"
