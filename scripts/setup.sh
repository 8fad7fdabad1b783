#!/usr/bin/env bash
# Installs every Debian 12 package bts-stress needs to build and test, then configures the build.
# Idempotent; run as root (or with sudo) on a fresh machine. Usage: scripts/setup.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}

packages=(
  build-essential meson ninja-build pkg-config cmake
  libzmq3-dev cppzmq-dev libczmq-dev libmsgpack-cxx-dev
  libboost1.74-dev libssl-dev libsecp256k1-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev sqlite3 libtomlplusplus-dev nlohmann-json3-dev
  openssl iproute2 procps python3 tmux
  chromium chromium-driver fonts-dejavu-core poppler-utils
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$here"
fi
echo "setup: ready (build dir: $build)"
