#!/usr/bin/env bash
# callgrind.sh — instructions per frame of ferry's datapath: a number that does not move with the
# machine's load or clock, for comparing changes (before/after) on a noisy shared machine.
#   bench/callgrind.sh [--case p2p-1|p2p-1k|p2p-100k] [--frames N] [--stations N] [--size B]
#                      [--out DIR] [--ferryd PATH] [--no-build] [--quick]
# P2P, trunk to trunk: ferryd runs under valgrind --tool=callgrind with nic1 replaying one frame
# from each of N stations (on 4 tagged VLANs); once the PMD has learned them all, the profile is
# zeroed (callgrind_control -z) and nic0 is added over RPC, replaying F frames from a router MAC
# to the N stations; when nic0 has received them all ferryd is shut down (switch.shutdown).
# Only those F frames are in the profile: learning and flooding are not measured.
# Reported: the inclusive instruction count of ferry_pipeline_run plus the end-of-iteration tx
# flushes, divided by the F frames (bench/cgreport.py), a call tree of the datapath, and (unless
# --quick) the top functions by inclusive cost inside the datapath (second pass, collection
# toggled on in the datapath only). --case sets stations and frames (p2p-1: 1 / 100 000, p2p-1k:
# 1000 / 100 000, p2p-100k: 100 000 / 100 000 with fdb.size 262144; the default is p2p-1k).
# Deterministic for a given binary and pcap; ~1 minute per pass (p2p-100k: ~2).
# bench/callgrind_gate.py runs the cases against bench/callgrind-baseline.txt (CI).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
frames=100000 stations=1000 size=64 out= ferryd=${FERRYD:-build/app/ferryd/ferryd} build=1 quick=0
while [ $# -gt 0 ]; do
	case $1 in
	--case)
		case $2 in
		p2p-1) stations=1 frames=100000 ;;
		p2p-1k) stations=1000 frames=100000 ;;
		p2p-100k) stations=100000 frames=100000 ;;
		*) echo "callgrind.sh: unknown case $2 (p2p-1, p2p-1k, p2p-100k)" >&2; exit 2 ;;
		esac
		shift 2 ;;
	--frames) frames=$2; shift 2 ;;
	--stations) stations=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--ferryd) ferryd=$2; build=0; shift 2 ;;
	--no-build) build=0; shift ;;
	--quick) quick=1; shift ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "callgrind.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null || {
	echo "callgrind: installing valgrind"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind \
		>/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends valgrind >/dev/null; }
}
command -v valgrind >/dev/null || { echo "FAIL: callgrind: valgrind not available"; exit 1; }
if [ $build = 1 ] && ! scripts/build.sh > /tmp/ferry-callgrind-build.log 2>&1; then
	echo "callgrind: WARNING: build failed (see /tmp/ferry-callgrind-build.log); using existing $ferryd"
fi
ferryd=$(realpath "$ferryd")
[ -x "$ferryd" ] || { echo "FAIL: callgrind: $ferryd not built"; exit 1; }
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3

out=${out:-$ROOT/bench/results/callgrind-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
work=$(mktemp -d /tmp/fbench-cg.XXXXXX)
prefix=fbench-cg$$
vg=
trap '[ -n "$vg" ] && kill "$vg" 2>/dev/null; rm -rf "$work" /var/run/dpdk/$prefix' EXIT

"$PY" bench/mkpcap.py p2p --stations "$stations" --frames "$frames" --size "$size" \
	--out "$work/p2p.pcap" || exit 1
"$PY" bench/mkpcap.py learn --stations "$stations" --out "$work/learn.pcap" || exit 1
fdb=65536
while [ $fdb -lt $((2 * stations)) ]; do fdb=$((fdb * 2)); done
cat > "$out/ferry.json" <<EOF
{"lcores": {"main": 0, "pmd": [1]}, "burst": 32, "mbufs": 16384,
 "fdb": {"size": $fdb, "aging": 3600},
 "rpc": {"socket": "$work/ferryd.sock", "allow_host_devargs": true},
 "ports": [
  {"name": "nic1", "type": "dpdk", "devargs": "net_pcap1,rx_pcap=$work/learn.pcap"}]}
EOF
nic0="{\"name\": \"nic0\", \"type\": \"dpdk\", \"devargs\": \"net_pcap0,rx_pcap=$work/p2p.pcap\"}"

rpc() {   # rpc METHOD [JSON-PARAMS] [KEY]: the result (or its KEY) as JSON, or nothing
	"$PY" - "$ROOT/bench" "$work/ferryd.sock" "$@" <<'PYEOF' 2>/dev/null
import json, sys
sys.path.insert(0, sys.argv[1])
from util import rpc_call
# port.add waits for an RCU grace period: slow under valgrind
r = rpc_call(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]) if len(sys.argv) > 4 else {},
             timeout=300)
if len(sys.argv) > 5:
    r = (r[0] if isinstance(r, list) else r)[sys.argv[5]]
print(json.dumps(r))
PYEOF
}

wait_rx() {   # wait_rx PORT N TIMEOUT_S: until PORT has received N frames
	local i
	for ((i = 0; i < $3 * 2; i++)); do
		kill -0 "$vg" 2>/dev/null || return 1
		[ "$(rpc port.stats "{\"name\": \"$1\"}" rx_packets)" = "$2" ] && return 0
		sleep 0.5
	done
	return 1
}

run() {   # run NAME [callgrind options]: learn, zero, replay nic0, shut down
	local name=$1 rc; shift
	valgrind --tool=callgrind --callgrind-out-file="$out/$name.out" --compress-strings=no \
		--compress-pos=no --vgdb=yes --fair-sched=yes "$@" "$ferryd" --config "$out/ferry.json" -- \
		--file-prefix "$prefix" --no-huge -m 512 --no-telemetry > "$out/$name.log" 2>&1 &
	vg=$!
	why=
	if ! wait_rx nic1 "$stations" 900; then
		why="nic1 never received its $stations learning frames"
	elif ! callgrind_control -z "$vg" > "$out/$name.zero.log" 2>&1; then
		why="callgrind_control -z failed"
	elif [ -z "$(rpc port.add "$nic0")" ]; then
		why="port.add nic0 failed"
	elif ! wait_rx nic0 "$frames" 900; then
		why="nic0 never received its $frames frames"
	fi
	[ -z "$why" ] && rpc switch.shutdown > /dev/null
	[ -n "$why" ] && kill "$vg" 2>/dev/null
	wait "$vg"; rc=$?
	vg=
	[ -z "$why" ] && [ $rc != 0 ] && why="ferryd exited $rc"
	[ -z "$why" ]
}

echo "callgrind: replaying $frames frames ($stations stations, $size B) through $ferryd"
t0=$(date +%s)
run full || { tail -20 "$out/full.log"; echo "FAIL: callgrind: ferryd under valgrind: $why"; exit 1; }
n=$frames
"$PY" bench/cgreport.py "$out/full.out" "$n" --json "$out/callgrind.json" --top 30 \
	> "$out/report-full.txt" || { cat "$out/report-full.txt"; exit 1; }
sed -n '1,/^top /p' "$out/report-full.txt" | sed '$d'
if [ $quick = 0 ]; then
	# second pass: collect only inside the datapath, for the top functions there
	run datapath --collect-atstart=no --toggle-collect=ferry_pipeline_run \
		--toggle-collect=ferry_txbuf_flush --toggle-collect=ferry_pmd_flush ||
		{ tail -20 "$out/datapath.log"; echo "FAIL: callgrind: second pass: $why"; exit 1; }
	"$PY" bench/cgreport.py "$out/datapath.out" "$n" --top-only --top 25 \
		--scope "inside ferry_pipeline_run + the tx flush" | tee "$out/report-datapath.txt"
fi
echo
echo "callgrind: $(( $(date +%s) - t0 )) s; profiles and reports in $out"
echo "  (callgrind_annotate --inclusive=yes $out/full.out for the annotated listing)"
