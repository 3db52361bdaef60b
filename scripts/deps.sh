#!/usr/bin/env bash
# Installs the Debian packages powercut needs, only those that are missing.
# Usage: scripts/deps.sh            (must be root, or have sudo)
set -euo pipefail
PKGS=(build-essential cmake pkg-config help2man libfiu-dev fiu-utils libcmocka-dev zlib1g-dev
      libxxhash-dev libcjson-dev sqlite3 clang libclang-rt-14-dev python3 python3-yaml libxml2-utils
      libleveldb-dev librocksdb-dev libsqlite3-dev liblmdb-dev libseccomp-dev
      golang-go golang-github-coreos-bbolt-dev golang-github-syndtr-goleveldb-dev
      xfsprogs btrfs-progs)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
