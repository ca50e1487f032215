#!/usr/bin/env bash
# run-all.sh — the whole test suite: installs what it needs, reserves hugepages, builds, then runs
# every stage (unit, pcap replay, vhost-user peers, JSON-RPC, fuzzing, ...). Each stage prints
# "PASS: <name>" / "FAIL: <name>: <why>" lines; this script counts them and ends with
# "N passed, N failed". Exit status is non-zero if anything failed or nothing ran.
#   tests/run-all.sh [stage...]      stages: unit cli pcap vhost rpc fuzz qemu lab bench (default: all)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export BUILD=${BUILD:-$ROOT/build}
export FERRYD=${FERRYD:-$BUILD/app/ferryd/ferryd}
export FERRY_TEST_OUT=${FERRY_TEST_OUT:-/tmp/ferry-tests}

[ "$(id -u)" -eq 0 ] || { echo "run-all: needs root (hugepages, vhost-user sockets, TAP)" >&2; exit 2; }
scripts/install-deps.sh || { echo "FAIL: setup: installing packages"; echo "0 passed, 1 failed"; exit 1; }
scripts/hugepages.sh || { echo "FAIL: setup: hugepages"; echo "0 passed, 1 failed"; exit 1; }
if ! scripts/build.sh > "$FERRY_TEST_OUT.build.log" 2>&1; then
	tail -30 "$FERRY_TEST_OUT.build.log"
	echo "FAIL: build"; echo "0 passed, 1 failed"; exit 1
fi
mkdir -p "$FERRY_TEST_OUT"

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(unit cli pcap plugins vhost rpc fuzz qemu lab bench)

stage_cmd() {
	case "$1" in
	unit)  echo "$BUILD/tests/unit/ferry-unit" ;;
	cli)   echo "tests/cli/run.sh" ;;
	pcap)  echo "tests/pcap/run.sh" ;;
	plugins) echo "tests/plugins/run.sh" ;;
	vhost) echo "tests/vhost/run.sh" ;;
	rpc)   echo "tests/rpc/run.sh" ;;
	fuzz)  echo "tests/fuzz/run.sh" ;;
	qemu)  echo "tests/qemu/run.sh" ;;
	lab)   echo "tests/lab/run.sh" ;;
	bench) echo "bench/ci-stage.sh" ;;   # run.sh --smoke, then the callgrind gate
	*)     echo "" ;;
	esac
}

passed=0 failed=0
for s in "${stages[@]}"; do
	cmd=$(stage_cmd "$s")
	log="$FERRY_TEST_OUT/stage-$s.log"
	if [ -z "$cmd" ]; then
		echo "FAIL: $s: unknown stage"; failed=$((failed + 1)); continue
	fi
	echo "== $s"
	start=$(date +%s)
	$cmd > "$log" 2>&1
	rc=$?
	p=$(grep -c '^PASS: ' "$log") f=$(grep -c '^FAIL: ' "$log")
	grep -E '^(PASS|FAIL): ' "$log"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $s: exited $rc without naming a failure (log: $log)"
		tail -20 "$log"
		f=1
	elif [ "$f" -gt 0 ]; then
		echo "-- $s log tail ($log):"; grep -v '^PASS: ' "$log" | tail -25
	fi
	echo "== $s: $p passed, $f failed ($(( $(date +%s) - start )) s)"
	passed=$((passed + p)) failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
