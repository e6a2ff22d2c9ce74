#!/usr/bin/env bash
# Installs what schedlab needs from Debian 12's packages (when run as root and something is
# missing), then configures and builds into ./build. Safe to run again: it only does what is
# not done yet.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkg-config catch2 librapidcheck-dev libcli11-dev nlohmann-json3-dev
          liburing-dev libdpdk-dev libboost1.81-dev chromium clang-format)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]} (run as root, or install them first)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_type=${SCHEDLAB_BUILD_TYPE:-Release}
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build build -j"$(nproc)"
