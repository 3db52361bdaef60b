#!/bin/sh
# install_test.sh - `cmake --install` gives a prefix that works on its own and
# can be moved: powercut runs a campaign and a repro from an unrelated cwd with
# only the prefix's bin/ on PATH, finds its shim and peer plugins beside itself,
# has no test-only targets; a C program builds against sofadb through
# pkg-config and through find_package(sofadb CONFIG).
#
# Environment (set by ctest, tests/CMakeLists.txt): BUILD (the build tree),
# CMAKE (cmake), CC (the C compiler), SAN_FLAGS (sanitizer flags the libraries
# were built with; consumers need them too).
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
: "${BUILD:?}" "${CMAKE:?}" "${CC:?}"
SAN_FLAGS=${SAN_FLAGS:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/pc-install-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
unset POWERCUT_SHIM POWERCUT_PLUGIN_DIR FAULTFS_LIB LD_PRELOAD POWERCUT_REEXEC
P=$T/prefix

# ---- install -------------------------------------------------------------------
"$CMAKE" --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "cmake --install exited non-zero"; }
for f in bin/powercut bin/faultfs bin/sofadb include/sofadb.h; do
  [ -f "$P/$f" ] || fail "$f not installed (cmake --install $BUILD --prefix $P)"
done
SHIM=$(cd "$P" && find . -name libfaultfs.so | sed 's|^\./||')
[ -n "$SHIM" ] || fail "libfaultfs.so not installed"
LIB=$(dirname "$SHIM")
for f in libsofadb.a pkgconfig/sofadb.pc cmake/sofadb/sofadbConfig.cmake cmake/sofadb/sofadbConfigVersion.cmake; do
  [ -f "$P/$LIB/$f" ] || fail "$LIB/$f not installed"
done
# every plugin the build made is installed beside the shim
for so in "$BUILD"/lib/powercut/pc_target_*.so; do
  [ -f "$so" ] || continue
  [ -f "$P/$LIB/powercut/$(basename "$so")" ] || fail "plugin $(basename "$so") not installed in $LIB/powercut"
done
# nothing else: no test programs, no internal static libraries, no benchmarks
(cd "$P" && find . -type f | sed 's|^\./||') | while read -r f; do
  case $f in
    bin/powercut|bin/faultfs|bin/sofadb|include/sofadb.h) ;;
    "$LIB"/libfaultfs.so|"$LIB"/libsofadb.a|"$LIB"/pkgconfig/sofadb.pc) ;;
    "$LIB"/powercut/pc_target_*.so) ;;
    "$LIB"/cmake/sofadb/sofadb*.cmake) ;;
    share/man/man1/powercut.1|share/man/man1/faultfs.1|share/man/man1/sofadb.1) ;;
    share/bash-completion/completions/powercut|share/bash-completion/completions/faultfs) ;;
    share/bash-completion/completions/sofadb) ;;
    *) echo "FAIL: unexpected file installed: $f" >&2; exit 1 ;;
  esac
done || exit 1

# man pages made from the binaries' own help: every command of each is in its page
for c in run trace campaign repro minimize fidelity report bench bench-recovery targets; do
  grep -q "^\.SS $c\$" "$P/share/man/man1/powercut.1" || fail "powercut.1 has no section for '$c'"
done
grep -q 'RULE := ACTION' "$P/share/man/man1/powercut.1" || fail "powercut.1 lacks the plan grammar"
grep -q 'faultfs run' "$P/share/man/man1/faultfs.1" && grep -q 'RULE := ACTION' "$P/share/man/man1/faultfs.1" || fail "faultfs.1 lacks faultfs run or the plan grammar"
for c in put get del scan load stats check dump; do
  grep -q "^$c\$\|^$c " "$P/share/man/man1/sofadb.1" || fail "sofadb.1 lacks the command '$c'"
done
grep -q '^\.TH POWERCUT "1"' "$P/share/man/man1/powercut.1" || fail "powercut.1 is not a man page"
# the completion loads in bash and completes commands, options from --help, targets
for prog in powercut faultfs sofadb; do
  [ -f "$P/share/bash-completion/completions/$prog" ] || fail "no bash completion for $prog"
done
out=$(PATH="$P/bin:/usr/bin:/bin" bash -c '
  . "$1/share/bash-completion/completions/powercut" || exit 1
  complete -p powercut faultfs sofadb >/dev/null || exit 1
  COMP_WORDS=(powercut cam); COMP_CWORD=1; _powercut; echo "a:${COMPREPLY[*]}"
  COMP_WORDS=(powercut campaign --rer); COMP_CWORD=2; _powercut; echo "b:${COMPREPLY[*]}"
  COMP_WORDS=(powercut run --target sof); COMP_CWORD=3; _powercut; echo "c:${COMPREPLY[*]}"
  COMP_WORDS=(powercut campaign --faults cr); COMP_CWORD=3; _powercut; echo "d:${COMPREPLY[*]}"
  COMP_WORDS=(faultfs run --bac); COMP_CWORD=2; _faultfs; echo "e:${COMPREPLY[*]}"
  COMP_WORDS=(powercut campaign --faults kill,cr); COMP_CWORD=3; _powercut; echo "g:${COMPREPLY[*]}"
  COMP_WORDS=(powercut run --fault cr); COMP_CWORD=3; _powercut; echo "h:${COMPREPLY[*]}"
  COMP_WORDS=(sofadb /tmp ch); COMP_CWORD=2; _sofadb; echo "f:${COMPREPLY[*]}"' _ "$P") || fail "the completion does not load: $out"
for want in "a:campaign" "b:--rerun" "c:sofadb" "d:crash crash-after" "e:--backend" "f:check" \
  "g:kill,crash kill,crash-after" "h:crash@ crash-after@"; do
  printf '%s\n' "$out" | grep -qx -- "$want" || fail "completion: want '$want', got: $out"
done

# ---- the installed powercut, from an unrelated cwd, only the prefix on PATH ----
# run_pc PREFIX OUT: a campaign and a repro of its first case
run_pc() {
  mkdir -p "$T/cwd" && cd "$T/cwd" || exit 1
  PATH="$1/bin:/usr/bin:/bin" powercut campaign --live --target sofadb --workload mixed:ops=40 --cases 20 \
    --out "$2" >"$T/campaign.out" 2>&1
  rc=$?
  [ $rc -eq 0 ] || { cat "$T/campaign.out"; fail "$1/bin/powercut campaign exited $rc"; }
  grep -q "20 cases: 20 passed, 0 failed" "$T/campaign.out" || { cat "$T/campaign.out"; fail "campaign summary"; }
  [ -f "$2/index.html" ] && [ "$(wc -l <"$2/results.jsonl")" -eq 20 ] || fail "report not written to $2"
  id=$(sed -n '1s/^.*"id":"\([^"]*\)".*$/\1/p' "$2/results.jsonl")
  case $id in pc1/sofadb/*) ;; *) fail "no case id in $2/results.jsonl" ;; esac
  PATH="$1/bin:/usr/bin:/bin" powercut repro "$id" >"$T/repro.out" 2>&1
  rc=$?
  [ $rc -eq 0 ] || { cat "$T/repro.out"; fail "powercut repro '$id' exited $rc"; }
  grep -q "^verdict: PASS" "$T/repro.out" || { cat "$T/repro.out"; fail "repro verdict"; }
  cd "$T" || exit 1
}
run_pc "$P" "$T/r1"

# targets: the installed plugins, no test-only target
"$P/bin/powercut" targets >"$T/targets.out" 2>&1 || fail "powercut targets exited $?"
grep -q "(peer plugins are loaded from $P/$LIB/powercut)" "$T/targets.out" || { cat "$T/targets.out"; fail "plugin dir is not $P/$LIB/powercut"; }
for so in "$P/$LIB"/powercut/pc_target_*.so; do
  [ -f "$so" ] || continue
  name=$(basename "$so" .so); name=${name#pc_target_}
  grep -q "^$name " "$T/targets.out" || { cat "$T/targets.out"; fail "installed plugin $name not listed"; }
done
if grep -q "^sofadb-nosync \|^corpus-" "$T/targets.out"; then cat "$T/targets.out"; fail "a test-only target is installed"; fi
out=$("$P/bin/powercut" run --target sofadb-nosync --workload mixed:ops=10 --seed 1 --fault none 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "unknown target 'sofadb-nosync'" || { echo "$out"; fail "installed powercut runs sofadb-nosync (rc $rc)"; }

# faultfs finds its shim beside itself (an ASan-built sofadb accepts the preloaded
# shim only with verify_asan_link_order=0, docs/faultfs.md)
mkdir -p "$T/ffs"
out=$(cd "$T/cwd" && ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$P/bin/faultfs" run --plan 'crash@fsync#1' --dir "$T/ffs" -- "$P/bin/sofadb" "$T/ffs/db" put --sync k v 2>&1)
rc=$?
[ $rc -eq 137 ] && echo "$out" | grep -q "power cut: data dir rolled back" || { echo "$out"; fail "installed faultfs run (rc $rc)"; }

# ---- relocated: the whole prefix moved; nothing may point into the old one -------
M=$T/moved/elsewhere
mkdir -p "$T/moved" && mv "$P" "$M" || fail "mv prefix"
run_pc "$M" "$T/r2"

# a missing shim is an error naming where it looked; $POWERCUT_SHIM overrides
mv "$M/$SHIM" "$T/shim.so" || fail "mv shim"
out=$(cd "$T/cwd" && "$M/bin/powercut" campaign --live --target sofadb --cases 1 --out "$T/r3" 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "cannot find the faultfs shim libfaultfs.so (tried $M/$LIB/libfaultfs.so" \
  || { echo "$out"; fail "missing shim: rc $rc"; }
[ ! -e "$T/r3" ] || fail "the report dir was created although the shim is missing"
out=$(cd "$T/cwd" && POWERCUT_SHIM="$T/nope.so" "$M/bin/powercut" campaign --live --target sofadb --cases 1 --out "$T/r3" 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "tried POWERCUT_SHIM=$T/nope.so" || { echo "$out"; fail "bad POWERCUT_SHIM: rc $rc"; }
[ ! -e "$T/r3" ] || fail "the report dir was created although POWERCUT_SHIM names no file"
out=$(cd "$T/cwd" && POWERCUT_SHIM="$T/shim.so" "$M/bin/powercut" campaign --live --target sofadb --workload mixed:ops=20 \
  --cases 2 --out "$T/r4" 2>&1)
rc=$?
[ $rc -eq 0 ] || { echo "$out"; fail "POWERCUT_SHIM=$T/shim.so: rc $rc"; }
out=$(cd "$T/cwd" && "$M/bin/faultfs" run --plan none --dir "$T/ffs" -- true 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "cannot find libfaultfs.so (tried $M/$LIB/libfaultfs.so" || { echo "$out"; fail "faultfs, missing shim: rc $rc"; }
mv "$T/shim.so" "$M/$SHIM" || fail "mv shim back"

# ---- embedding sofadb ----------------------------------------------------------
cat >"$T/prog.c" <<'C'
#include <sofadb.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  sdb *db;
  void *v;
  size_t n;
  int rc;
  if (argc != 2) return 2;
  if ((rc = sdb_open(argv[1], NULL, &db))) { fprintf(stderr, "open: %s\n", sdb_strerror(rc)); return 1; }
  if ((rc = sdb_put(db, "hello", 5, "world", 5, 1)) || (rc = sdb_get(db, "hello", 5, &v, &n))) {
    fprintf(stderr, "put/get: %s\n", sdb_strerror(rc));
    return 1;
  }
  printf("hello=%.*s\n", (int)n, (char *)v);
  free(v);
  return sdb_close(db) ? 1 : 0;
}
C
check_prog() {
  out=$("$1" "$T/db-$2" 2>&1)
  rc=$?
  [ $rc -eq 0 ] && [ "$out" = "hello=world" ] || { echo "$out"; fail "$2 program: rc $rc"; }
}
export PKG_CONFIG_PATH="$M/$LIB/pkgconfig"
[ "$(pkg-config --modversion sofadb)" = "$(sed -n 's/^Version: //p' "$M/$LIB/pkgconfig/sofadb.pc")" ] || fail "pkg-config sofadb"
flags=$(pkg-config --static --cflags --libs sofadb) || fail "pkg-config --static --cflags --libs sofadb"
# shellcheck disable=SC2086
"$CC" $SAN_FLAGS -o "$T/prog-pc" "$T/prog.c" $flags >"$T/cc.out" 2>&1 || { cat "$T/cc.out"; fail "cc with pkg-config flags: $flags"; }
check_prog "$T/prog-pc" pkgconfig

mkdir -p "$T/cm"
cat >"$T/cm/CMakeLists.txt" <<'C'
cmake_minimum_required(VERSION 3.16)
project(use_sofadb C)
find_package(sofadb CONFIG REQUIRED)
add_executable(prog ../prog.c)
target_link_libraries(prog PRIVATE sofadb::sofadb)
C
"$CMAKE" -S "$T/cm" -B "$T/cm/build" -DCMAKE_PREFIX_PATH="$M" -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_C_FLAGS="$SAN_FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$SAN_FLAGS" >"$T/cm.out" 2>&1 \
  || { cat "$T/cm.out"; fail "find_package(sofadb CONFIG) project did not configure"; }
"$CMAKE" --build "$T/cm/build" >"$T/cm.out" 2>&1 || { cat "$T/cm.out"; fail "find_package(sofadb) project did not build"; }
check_prog "$T/cm/build/prog" cmake

echo "install_prefix: PASS (libdir $LIB)"
