#!/bin/bash
# tests/pcap/run.sh — pcap replay tests of ferryd against the reference model.
# For each scenario (default: all that ferry-pcapgen knows): generate config, input pcaps and the
# model's expected outputs with ferry-pcapgen, replay them through ferryd (net_pcap ports,
# --idle-exit), and compare every port's output with ferry-pcapcmp.
#
# The per-port drop counters ferryd logs on exit are compared with the model's (ferry-dropcmp).
# Scenarios in BURST_SCENARIOS (one sending port per round: learn_in_burst, mixed_rounds) are
# replayed a second time with "burst": 1, and those outputs must equal the burst-32 ones frame for
# frame (ferry-pcapcmp), and the drops the model's: learning is per frame (doc/semantics.md).
#
# Usage: tests/pcap/run.sh [SCENARIO...]
# Environment: BUILD (build dir, default build), FERRYD (default $BUILD/app/ferryd/ferryd),
#   FERRY_TEST_OUT (default /tmp/ferry-tests; scenario dirs go to $FERRY_TEST_OUT/pcap/<scenario>),
#   FERRY_PCAP_SEED (seed for the random scenarios, default: pcapgen's, 1),
#   FERRY_PCAP_TIMEOUT (seconds per daemon run, default 60).
# Prints "PASS: pcap/<scenario>" or "FAIL: pcap/<scenario>: <reason>" per scenario (and
# "pcap/<scenario>/burst1" for the second replay); exits 1 if any failed, 2 if the tools are
# missing ("FAIL: pcap: ...").
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)

# A relative path means: relative to the current directory if it exists there, else to the root.
abspath() {
	case $1 in
	/*) echo "$1" ;;
	*) if [ -e "$1" ]; then echo "$PWD/$1"; else echo "$root/$1"; fi ;;
	esac
}

BUILD=$(abspath "${BUILD:-build}")
FERRYD=$(abspath "${FERRYD:-$BUILD/app/ferryd/ferryd}")
PCAPGEN=$BUILD/tests/tools/ferry-pcapgen
PCAPCMP=$BUILD/tests/tools/ferry-pcapcmp
DROPCMP=$BUILD/tests/tools/ferry-dropcmp
OUT=${FERRY_TEST_OUT:-/tmp/ferry-tests}/pcap
TIMEOUT=${FERRY_PCAP_TIMEOUT:-60}
TAIL_LINES=40
BURST_SCENARIOS=" learn_in_burst mixed_rounds "

for tool in "$PCAPGEN" "$PCAPCMP" "$DROPCMP" "$FERRYD"; do
	if [ ! -x "$tool" ]; then
		echo "FAIL: pcap: $tool not found; build first (ninja -C build)"
		exit 2
	fi
done

failed=0

fail() {   # scenario reason [log [head]]: prints the log's tail (or, with "head", its start)
	echo "FAIL: pcap/$1: $2"
	if [ $# -ge 3 ] && [ -s "$3" ]; then
		echo "---- ${4:-tail} of $3:"
		"${4:-tail}" -n "$TAIL_LINES" "$3" | sed 's/^/    /'
	fi
	failed=1
}

# Names the input frame behind the first difference (from expected/fates.txt, which
# ferry-pcapgen writes).
explain_first_difference() {   # dir port pcapcmp_output
	local frame origin
	frame=$(sed -n 's/^first difference: frame \([0-9]*\) .*/\1/p' "$3" | head -n 1)
	[ -n "$frame" ] || return 0
	origin=$(grep -E " $2#$frame( |\$)" "$1/expected/fates.txt" | head -n 1)
	echo "expected $2#$frame comes from: ${origin:-nothing (ferryd sent extra frames)}"
}

# Compares every port's output and the drop counters. Writes dir/cmp.log: one summary line per
# port and for the drop counters, then the details of each difference. Sets bad_ports (the ports
# whose output differs) and drops_rc (ferry-dropcmp's exit status).
compare_outputs() {   # dir
	local dir=$1 exp port tmp=$1/cmp.tmp details=$1/cmp.details
	bad_ports=""
	: > "$dir/cmp.log"
	: > "$details"
	for exp in "$dir"/expected/*.pcap; do
		port=$(basename "$exp" .pcap)
		if "$PCAPCMP" "$exp" "$dir/out/$port.pcap" > "$tmp" 2>&1; then
			echo "== $port: $(cat "$tmp")" >> "$dir/cmp.log"
			continue
		fi
		bad_ports="$bad_ports $port"
		echo "== $port: differs (details below)" >> "$dir/cmp.log"
		{ echo "-- $port:"; cat "$tmp"; explain_first_difference "$dir" "$port" "$tmp"; } >> "$details"
	done
	"$DROPCMP" "$dir/expected/drops.json" "$dir/ferryd.log" > "$tmp" 2>&1
	drops_rc=$?
	{ echo "== drop counters: $(tail -n 1 "$tmp")"; grep -v '^ferry-dropcmp' "$tmp"; cat "$details"; } >> "$dir/cmp.log"
	rm -f "$tmp" "$details"
}

run_scenario() {
	local sc=$1 dir=$OUT/$1 rc
	local seed=()
	[ -n "${FERRY_PCAP_SEED:-}" ] && seed=(--seed "$FERRY_PCAP_SEED")

	rm -rf "$dir"
	mkdir -p "$dir"
	if ! "$PCAPGEN" "$sc" "$dir" "${seed[@]}" > "$dir/pcapgen.log" 2>&1; then
		fail "$sc" "ferry-pcapgen failed (the model disagrees with the scenario's expectations?)" \
			"$dir/pcapgen.log"
		return
	fi
	timeout -k 5 "$TIMEOUT" "$FERRYD" --config "$dir/config.json" --idle-exit 500 \
		-- --file-prefix "ferry-pcap-$sc" --in-memory > "$dir/ferryd.log" 2>&1
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		fail "$sc" "ferryd did not exit within ${TIMEOUT} s" "$dir/ferryd.log"
		return
	elif [ $rc -ne 0 ]; then
		fail "$sc" "ferryd exited with status $rc" "$dir/ferryd.log"
		return
	fi
	compare_outputs "$dir"
	if [ -n "$bad_ports" ]; then
		fail "$sc" "output differs from the model on port(s):$bad_ports (see $dir/cmp.log)" \
			"$dir/cmp.log" head
		echo "---- tail of $dir/ferryd.log:"
		tail -n 10 "$dir/ferryd.log" | sed 's/^/    /'
		return
	elif [ "$drops_rc" -eq 1 ]; then
		fail "$sc" "the outputs match but the drop counters differ (see $dir/cmp.log)" \
			"$dir/cmp.log" head
		return
	fi
	echo "PASS: pcap/$sc"
}

# The second replay of a BURST_SCENARIOS scenario: config.json with "burst": 1 and its outputs in
# out-burst1/, compared with the burst-32 replay's out/ frame for frame, drops with the model's.
# (--idle-exit 2000: 500 000 frames one by one keep the PMD busy longer; a loaded box can stall
# it for 500 ms, and ferryd would then exit before its inputs are done.)
run_burst1() {
	local sc=$1 dir=$OUT/$1 name=$1/burst1 rc port bad=""
	rm -rf "$dir/out-burst1"
	mkdir -p "$dir/out-burst1"
	if ! python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/config.json"))
c["burst"] = 1
c["rpc"]["socket"] = c["rpc"]["socket"].replace(".sock", "-burst1.sock")
for p in c["ports"]:
    p["devargs"] = p["devargs"].replace("tx_pcap=" + d + "/out/", "tx_pcap=" + d + "/out-burst1/")
json.dump(c, open(d + "/config-burst1.json", "w"), indent=1)
PY
	then
		fail "$name" "could not write config-burst1.json"
		return
	fi
	timeout -k 5 "$TIMEOUT" "$FERRYD" --config "$dir/config-burst1.json" --idle-exit 2000 \
		-- --file-prefix "ferry-pcap-$sc-b1" --in-memory > "$dir/ferryd-burst1.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$name" "ferryd (burst 1) exited with status $rc" "$dir/ferryd-burst1.log"
		return
	fi
	: > "$dir/cmp-burst1.log"
	for exp in "$dir"/expected/*.pcap; do
		port=$(basename "$exp" .pcap)
		echo "== $port: burst 32 (out/) vs burst 1 (out-burst1/):" >> "$dir/cmp-burst1.log"
		"$PCAPCMP" "$dir/out/$port.pcap" "$dir/out-burst1/$port.pcap" >> "$dir/cmp-burst1.log" 2>&1 ||
			bad="$bad $port"
	done
	if [ -n "$bad" ]; then
		fail "$name" "burst 1 and burst 32 outputs differ on port(s):$bad (see $dir/cmp-burst1.log)" \
			"$dir/cmp-burst1.log" head
		return
	fi
	if ! "$DROPCMP" "$dir/expected/drops.json" "$dir/ferryd-burst1.log" >> "$dir/cmp-burst1.log" 2>&1; then
		fail "$name" "drop counters (burst 1) differ from the model's (see $dir/cmp-burst1.log)" \
			"$dir/cmp-burst1.log"
		return
	fi
	echo "PASS: pcap/$name"
}

if [ $# -gt 0 ]; then
	scenarios=("$@")
else
	mapfile -t scenarios < <("$PCAPGEN" --list)
fi
for sc in "${scenarios[@]}"; do
	run_scenario "$sc"
	case $BURST_SCENARIOS in *" $sc "*) run_burst1 "$sc" ;; esac
done
exit $failed
