#!/usr/bin/env bash
# asan_build.sh — the AddressSanitizer build (clang, -Db_sanitize=address, libFuzzer's coverage
# instrumentation) that the fuzz targets and the hostile-guest tests' ASan ferryd share: configures
# it once, then builds the targets named (incremental). Installs clang if it is missing.
#   tests/tools/asan_build.sh BUILD_DIR LOG_DIR TARGET...    (exit 1 and the log's tail on failure)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bdir=$1 logs=$2
shift 2
mkdir -p "$logs"
if ! command -v clang >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang > "$logs/clang.log" 2>&1 ||
		{ echo "asan_build: clang is not installed and apt-get install clang failed"; exit 1; }
fi
if [ ! -f "$bdir/build.ninja" ]; then
	CC=clang meson setup "$bdir" "$root" -Dfuzz=true -Db_sanitize=address -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link -Dwerror=false -Dbuildtype=debugoptimized \
		> "$logs/setup.log" 2>&1 || { tail -20 "$logs/setup.log"; echo "asan_build: meson setup failed"; exit 1; }
fi
if ! ninja -C "$bdir" -j2 "$@" > "$logs/build.log" 2>&1; then
	tail -30 "$logs/build.log"
	echo "asan_build: ninja failed, see $logs/build.log"
	exit 1
fi
