#!/bin/sh
# goleveldb_manifest_test.sh POWERCUT GOLEVELDBKV — finding G4 (docs/targets.md), kept
# as a check: goleveldb's open writes a new MANIFEST and points CURRENT at it (CURRENT's
# temp file fsynced, renamed, directory fsynced) without ever fsyncing the MANIFEST, so a
# power cut after an open that made no write finds CURRENT naming a MANIFEST with no
# bytes: the next open fails. Under the seccomp backend: RECOVERY_FAILED, exit 1, with
# goleveldb's message; a workload with no power cut after its recovery passes.
set -eu
pc=$1 prog=$2
T="exec:cmd=$prog,contract=durable_ack+process_safe+atomic_batch,backend=seccomp"
out=$(mktemp "${TMPDIR:-/tmp}/pc-g4-XXXXXX")
trap 'rm -f "$out"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$out" >&2; exit 1; }
set +e
"$pc" run --target "$T" --workload mixed:ops=40 --seed 0 --fault 'none>eio@rmdir#1' > "$out" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "exit $rc, want 1"
grep -q "^verdict: RECOVERY_FAILED" "$out" || fail "want RECOVERY_FAILED"
grep -q "manifest corrupted (field 'comparer'): missing \[file=MANIFEST-" "$out" || fail "want goleveldb's message"
"$pc" run --target "$T" --workload mixed:ops=40 --seed 0 --fault none > "$out" 2>&1 || fail "the plain power cut: exit $?"
grep -q "^verdict: PASS" "$out" || fail "want PASS without a cut after the recovery"
echo OK
