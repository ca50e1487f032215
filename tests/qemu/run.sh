#!/usr/bin/env bash
# run.sh — the QEMU end-to-end stage: real Linux guests (Debian kernel, busybox initramfs) on
# ferryd's vhost-user ports. Installs what it needs (qemu-system-x86, jq, iproute2, ethtool, ping),
# builds ferry if needed and the guest (cached, see build-guest.sh), then runs the tests in order.
# Each prints "PASS: qemu/<name> (...)" or "FAIL: qemu/<name>: <reason>" after the tails of its
# logs; ends with "N passed, N failed" and a non-zero status if anything failed.
#
#   tests/qemu/run.sh                    every test
#   tests/qemu/run.sh restart_client     some of them (ping_tcp multiqueue restart_client
#                                        restart_server guest_reboot uplink_netns)
# Environment: see lib.sh (FERRYD, FERRY_TEST_OUT, FERRY_QEMU_ACCEL, QEMU_TEST_LIMIT) and
# build-guest.sh (FERRY_QEMU_CACHE).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
ALL=(ping_tcp zc_tcp migrate multiqueue restart_client restart_server guest_reboot uplink_netns)
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=("${ALL[@]}")

setup_fail() { echo "FAIL: qemu/setup: $*"; echo "0 passed, 1 failed"; exit 1; }
[ "$(id -u)" -eq 0 ] || setup_fail "needs root (vhost-user sockets, hugepages, network namespaces)"

# --- packages -----------------------------------------------------------------------------
declare -A PKG_OF=([qemu-system-x86_64]=qemu-system-x86 [jq]=jq [ip]=iproute2 [ethtool]=ethtool
	[xz]=xz-utils [ps]=procps [ping]=iputils-ping)
missing=()
for cmd in "${!PKG_OF[@]}"; do
	command -v "$cmd" >/dev/null || missing+=("${PKG_OF[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "qemu: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
		> /tmp/ferry-qemu-apt.log 2>&1 || { tail -20 /tmp/ferry-qemu-apt.log; setup_fail "apt-get install ${missing[*]}"; }
fi

# --- ferryd, hugepages, guest ---------------------------------------------------------------
export FERRYD=${FERRYD:-$ROOT/build/app/ferryd/ferryd}
if [ ! -x "$FERRYD" ]; then
	echo "qemu: building ferry"
	scripts/build.sh > /tmp/ferry-qemu-build.log 2>&1 || { tail -20 /tmp/ferry-qemu-build.log; setup_fail "build"; }
fi
if [ "$(awk '/^HugePages_Total/{print $2}' /proc/meminfo)" -eq 0 ]; then
	scripts/hugepages.sh || setup_fail "hugepages"
fi
t0=$(date +%s)
FERRY_QEMU_GUEST=$("$HERE/build-guest.sh" | tail -n1) && [ -s "$FERRY_QEMU_GUEST/initramfs.gz" ] ||
	setup_fail "building the guest (tests/qemu/build-guest.sh)"
export FERRY_QEMU_GUEST
echo "qemu: guest $FERRY_QEMU_GUEST ($(cat "$FERRY_QEMU_GUEST/kernel-version"), $(( $(date +%s) - t0 )) s)"

# --- tests -----------------------------------------------------------------------------------
OUT=${FERRY_TEST_OUT:-/tmp/ferry-tests}/qemu
mkdir -p "$OUT"
TEST_PID=
on_signal() {
	if [ -n "$TEST_PID" ]; then
		kill -TERM "$TEST_PID" 2>/dev/null
		wait "$TEST_PID" 2>/dev/null
		wait "$SHOW_PID" 2>/dev/null
	fi
	echo "FAIL: qemu/run: interrupted"
	exit 1
}
trap on_signal INT TERM
passed=0 failed=0
for t in "${tests[@]}"; do
	case $t in
	restart_client) cmd=("$HERE/test_restart.sh" client) ;;
	restart_server) cmd=("$HERE/test_restart.sh" server) ;;
	*) cmd=("$HERE/test_$t.sh") ;;
	esac
	if [ ! -f "${cmd[0]}" ]; then
		echo "FAIL: qemu/$t: no such test"; failed=$((failed + 1)); continue
	fi
	start=$(date +%s)
	log=$OUT/$t.out
	# the test runs in the background so that an interrupted run.sh can stop it (its trap cleans
	# up); its output is shown as it comes, minus bash's "Killed" notices for the QEMUs and ferryds
	# it SIGKILLs on purpose
	: > "$log"         # before tail reads it: the redirection below happens in the child
	bash "${cmd[@]}" < /dev/null >> "$log" 2>&1 &
	TEST_PID=$!
	{ tail --pid=$TEST_PID -n +1 -f "$log" | grep --line-buffered -v -E '^/.*: line [0-9]+: +[0-9]+ Killed '; } &
	SHOW_PID=$!
	wait $TEST_PID     # (a trapped signal interrupts "wait", not a foreground pipeline)
	rc=$?
	wait $SHOW_PID
	TEST_PID=
	if grep -q "^PASS: qemu/" "$log" && [ $rc -eq 0 ]; then
		passed=$((passed + 1))
	else
		grep -q "^FAIL: " "$log" || echo "FAIL: qemu/$t: exited with status $rc"
		failed=$((failed + 1))
	fi
	echo "qemu: $t took $(( $(date +%s) - start )) s"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
