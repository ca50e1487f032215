#!/usr/bin/env bash
# run.sh — ferry vs dpdk-testpmd (io forwarding) vs Open vSwitch with DPDK, side by side, in one run.
#   bench/run.sh [--smoke] [--repeat N] [--only TOPO[,TOPO..]] [more bench.py options]
# TOPO: pvp p2p v2v scale vm2nic v2v-tcp, or one case (pvp-64 pvp-512 pvp-1518 p2p-1 p2p-1k
# p2p-100k p2p-1m v2v-64 v2v-tcp-64k
# scale-2 scale-16 scale-64 scale-4 vm2nic-64 .. vm2nic-9000). Other options: --switches
# ferry,testpmd,ovs (vm2nic: ferry = ferry-off,ferry-on,ferry-auto, copy vs zero-copy) --warmup S
# --window S --out DIR --perf (perf record the PMD core during ferry's windows) --ferryd PATH.
# Writes bench/results/<date>/{results.md,results.json,chart.png,chart-zc.png,runs/}
# (see bench/README.md).
# --smoke: each topology once, short windows; ends with "PASS: bench/smoke" or
# "FAIL: bench/smoke: <reason>" (figures are not judged, only that every switch forwarded, and
# that vm2nic's zero_copy "on" run lent frames and its "off" run none).
# Needs root (hugepages, vhost-user sockets). Installs missing Debian packages itself.
set -uo pipefail
cd "$(dirname "$0")/.."
smoke=0
for a in "$@"; do [ "$a" = --smoke ] && smoke=1; done
name=bench; [ $smoke = 1 ] && name=bench/smoke
fail() { echo "FAIL: $name: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (hugepages, vhost-user sockets)"

# packages: the build's (scripts/install-deps.sh) plus OVS with DPDK and gnuplot for the chart
scripts/install-deps.sh >/dev/null || fail "installing build dependencies"
want=()
for p in dpdk openvswitch-switch-dpdk gnuplot-nox; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || want+=("$p")
done
if [ ${#want[@]} -gt 0 ]; then
	echo "bench: installing ${want[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# no service of the package may start: the suite runs its own ovsdb-server/ovs-vswitchd
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
		made_policy=1
	fi
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${want[@]}"; } \
		> /tmp/ferry-bench-apt.log 2>&1 || echo "bench: apt-get failed (see /tmp/ferry-bench-apt.log)"
	[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
command -v dpdk-testpmd >/dev/null || fail "dpdk-testpmd not installed"

# hugepages: guests, switch pools and OVS's shared pool together need ~2-3 GiB (2 MiB pages)
FERRY_HUGEPAGES=${BENCH_HUGEPAGES:-2048} scripts/hugepages.sh || fail "hugepages"

# ferryd: build it (another engineer's half-written change may break the build: then the last
# good binary is used, with a warning)
FERRYD=${FERRYD:-build/app/ferryd/ferryd}
if ! scripts/build.sh > /tmp/ferry-bench-build.log 2>&1; then
	if [ -x "$FERRYD" ]; then
		echo "bench: WARNING: build failed (see /tmp/ferry-bench-build.log); using the existing $FERRYD"
	else
		tail -20 /tmp/ferry-bench-build.log
		fail "build failed"
	fi
fi

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
exec "$PY" -u bench/bench.py --ferryd "$(realpath "$FERRYD")" "$@"
