#!/bin/bash
# tests/plugins/run.sh — the eBPF plugins of plugins/ (acl, arp_guard, dhcp_guard, proto_count)
# through the real ferryd: for each, plugtest.py crafts frames, replays them from a net_pcap port
# with the plugin attached at its ingress ("filters" in the config), and checks exactly which
# frames leave on the other port and the plugin's map values and counters (filter.list over RPC);
# acl_runtime sets and disables ACL rules with filter.map_set while frames flow (plugtest.py).
#
# Usage: tests/plugins/run.sh [CASE...]      (default: all: the four plugins, proto_count at an
#   egress hook, acl_runtime)
# Environment: BUILD (default build), FERRYD (default $BUILD/app/ferryd/ferryd), FERRY_TEST_OUT
#   (default /tmp/ferry-tests; case dirs go to $FERRY_TEST_OUT/plugins/<case>).
# Prints "PASS: plugins/<case>" or "FAIL: plugins/<case>: <reason>"; exits 1 if any failed. When
# meson did not build the plugins (no clang with the BPF target), every case FAILs saying so.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
abspath() { case $1 in /*) echo "$1" ;; *) if [ -e "$1" ]; then echo "$PWD/$1"; else echo "$root/$1"; fi ;; esac; }
BUILD=$(abspath "${BUILD:-build}")
FERRYD=$(abspath "${FERRYD:-$BUILD/app/ferryd/ferryd}")
OUT=${FERRY_TEST_OUT:-/tmp/ferry-tests}/plugins
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(acl acl_runtime arp_guard dhcp_guard proto_count proto_count_egress)

why=""
if [ ! -x "$FERRYD" ]; then
	why="$FERRYD not found; build first (ninja -C build)"
elif ! ls "$BUILD"/plugins/*.o > /dev/null 2>&1; then
	why="clang with the BPF target not found: eBPF plugins are not built ($BUILD/plugins/ has no objects; install clang and libbpf-dev: scripts/install-deps.sh, then meson setup --reconfigure)"
elif ! command -v python3 > /dev/null; then
	why="python3 not found"
fi
if [ -n "$why" ]; then
	for c in "${cases[@]}"; do echo "FAIL: plugins/$c: $why"; done
	exit 1
fi

failed=0
for c in "${cases[@]}"; do
	mkdir -p "$OUT/$c"
	python3 "$root/tests/plugins/plugtest.py" "$c" --ferryd "$FERRYD" --objdir "$BUILD/plugins" \
		--out "$OUT/$c" --plugin-src "$root/plugins" || failed=1
done
exit $failed
