#!/usr/bin/env bash
# build.sh — configure (once) and build ferry into ./build with warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build --werror "$@" >/dev/null
ninja -C build
