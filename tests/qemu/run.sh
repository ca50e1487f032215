#!/usr/bin/env bash
# run.sh — the QEMU end-to-end stage: real Linux guests (Debian kernel, busybox initramfs) on
# ferryd's vhost-user ports. Installs what it needs (qemu-system-x86, jq, iproute2, ethtool, ping),
# builds ferry if needed and the guest (cached, see build-guest.sh), then runs the tests in order.
# Each prints "PASS: qemu/<name> (...)" or "FAIL: qemu/<name>: <reason>" after the tails of its
# logs; ends with "N passed, N failed" and a non-zero status if anything failed.
#
#   tests/qemu/run.sh                    every test
#   tests/qemu/run.sh restart_client     some of them (ping_tcp zc_tcp offloads_tcp migrate multiqueue
#                                        restart_client restart_server guest_reboot uplink_netns jumbo)
# QEMU: 10 from bookworm-backports, prepared by tests/lab/setup.sh (falls back to the installed QEMU,
# saying so, if that fails). Environment: see lib.sh (FERRYD, FERRY_TEST_OUT, FERRY_QEMU_ACCEL,
# FERRY_QEMU_ENV, QEMU_TEST_LIMIT), build-guest.sh (FERRY_QEMU_CACHE), tests/lab/setup.sh
# (FERRY_LAB_CACHE, FERRY_LAB_QEMU).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
ALL=(ping_tcp zc_tcp offloads_tcp migrate multiqueue restart_client restart_server guest_reboot uplink_netns jumbo)
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

# --- QEMU: the lab's QEMU 10, else the installed one ----------------------------------------------
# Debian 12's QEMU 7.2 crashes with vhost-user + MSI-X under TCG (so its guests use INTx), and its
# migrated TCG guests reset or freeze about once in 15 migrate runs: the tests run on QEMU 10 from
# bookworm-backports, unpacked into the lab's cache by tests/lab/setup.sh (cached: a check the
# second time). FERRY_QEMU_ENV set (even empty = the installed QEMU) overrides; see lib.sh.
if [ -n "${FERRY_QEMU_ENV+set}" ]; then
	echo "qemu: QEMU from FERRY_QEMU_ENV=${FERRY_QEMU_ENV:-(empty: the installed $(qemu-system-x86_64 --version | head -n 1))}"
else
	t0=$(date +%s)
	slog=/tmp/ferry-qemu-setup.$$.log
	if timeout -k 10 900 "$ROOT/tests/lab/setup.sh" qemu > "$slog" 2>&1; then
		export FERRY_QEMU_ENV=${FERRY_LAB_CACHE:-/var/cache/ferry-lab}/qemu.env
		echo "qemu: $(sed -n 's/^lab-setup: ready: //p' "$slog") from tests/lab/setup.sh ($FERRY_QEMU_ENV, $(( $(date +%s) - t0 )) s)"
	else
		sed 's/^/qemu:   /' "$slog" | tail -n 15
		export FERRY_QEMU_ENV=
		echo "qemu: WARNING: tests/lab/setup.sh qemu failed (above): falling back to the installed" \
			"$(qemu-system-x86_64 --version | head -n 1) with legacy INTx (vectors=0), whose migrated guests" \
			"fail about once in 15 migrate runs"
	fi
	rm -f "$slog"
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
