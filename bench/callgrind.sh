#!/usr/bin/env bash
# callgrind.sh — instructions per frame of ferry's datapath: a number that does not move with the
# machine's load or clock, for comparing changes (before/after) on a noisy shared machine.
#   bench/callgrind.sh [--frames N] [--stations N] [--size B] [--out DIR] [--ferryd PATH]
# ferryd replays a fixed pcap once under valgrind --tool=callgrind (P2P: a learning pass of the
# stations from nic1, then N frames from a router MAC on nic0 to the N stations on 4 tagged VLANs,
# trunk to trunk) and exits by itself (--idle-exit 500). Reported: the inclusive instruction count
# of ferry_pipeline_run plus the end-of-iteration tx flushes, divided by the frames that went
# through the pipeline (bench/cgreport.py), a call tree of the datapath, and the top functions by
# inclusive cost inside the datapath (second pass, collection toggled on in the datapath only).
# Deterministic for a given binary and pcap; ~1 minute.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
frames=100000 stations=1000 size=64 out= ferryd=${FERRYD:-build/app/ferryd/ferryd} build=1
while [ $# -gt 0 ]; do
	case $1 in
	--frames) frames=$2; shift 2 ;;
	--stations) stations=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--ferryd) ferryd=$2; build=0; shift 2 ;;
	--no-build) build=0; shift ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	*) echo "callgrind.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
command -v valgrind >/dev/null || {
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
trap 'rm -rf "$work" /var/run/dpdk/$prefix' EXIT

"$PY" bench/mkpcap.py p2p --stations "$stations" --frames "$frames" --size "$size" \
	--out "$work/p2p.pcap" || exit 1
"$PY" bench/mkpcap.py learn --stations "$stations" --out "$work/learn.pcap" || exit 1
fdb=65536
while [ $fdb -lt $((2 * stations)) ]; do fdb=$((fdb * 2)); done
cat > "$out/ferry.json" <<EOF
{"lcores": {"main": 0, "pmd": [1]}, "burst": 32, "mbufs": 16384,
 "fdb": {"size": $fdb, "aging": 3600},
 "rpc": {"socket": "$work/ferryd.sock"},
 "ports": [
  {"name": "nic1", "type": "dpdk", "devargs": "net_pcap1,rx_pcap=$work/learn.pcap"},
  {"name": "nic0", "type": "dpdk", "devargs": "net_pcap0,rx_pcap=$work/p2p.pcap"}]}
EOF

run() {   # run NAME [callgrind options]: one replay under callgrind
	local name=$1; shift
	valgrind --tool=callgrind --callgrind-out-file="$out/$name.out" --compress-strings=no \
		--compress-pos=no "$@" "$ferryd" --config "$out/ferry.json" --idle-exit 500 -- \
		--file-prefix "$prefix" --no-huge -m 512 --no-telemetry > "$out/$name.log" 2>&1
}

echo "callgrind: replaying $frames frames ($stations stations, $size B) through $ferryd"
t0=$(date +%s)
run full || { tail -20 "$out/full.log"; echo "FAIL: callgrind: ferryd under valgrind failed"; exit 1; }
pmd=$(grep -o 'pmd {.*}' "$out/full.log" | tail -1 | cut -c5-)
n=$(echo "$pmd" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["packets"])' 2>/dev/null)
[ -n "$n" ] && [ "$n" -gt 0 ] || { tail -20 "$out/full.log"; echo "FAIL: callgrind: no frames"; exit 1; }
"$PY" bench/cgreport.py "$out/full.out" "$n" --json "$out/callgrind.json" --top 30 \
	> "$out/report-full.txt" || { cat "$out/report-full.txt"; exit 1; }
sed -n '1,/^top /p' "$out/report-full.txt" | sed '$d'
# second pass: collect only inside the datapath, for the top functions there
run datapath --collect-atstart=no --toggle-collect=ferry_pipeline_run \
	--toggle-collect=ferry_txbuf_flush --toggle-collect=ferry_pmd_flush ||
	{ echo "FAIL: callgrind: second pass failed"; exit 1; }
"$PY" bench/cgreport.py "$out/datapath.out" "$n" --top-only --top 25 \
	--scope "inside ferry_pipeline_run + the tx flush" | tee "$out/report-datapath.txt"
echo
echo "callgrind: $(( $(date +%s) - t0 )) s; profiles and reports in $out"
echo "  (callgrind_annotate --inclusive=yes $out/full.out for the annotated listing)"
