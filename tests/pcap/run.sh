#!/bin/bash
# tests/pcap/run.sh — pcap replay tests of ferryd against the reference model.
# For each scenario (default: all that ferry-pcapgen knows): generate config, input pcaps and the
# model's expected outputs with ferry-pcapgen, replay them through ferryd (net_pcap ports,
# --idle-exit), and compare every port's output with ferry-pcapcmp.
#
# The per-port drop counters ferryd logs on exit are compared with the model's (ferry-dropcmp).
#
# Usage: tests/pcap/run.sh [SCENARIO...]
# Environment: BUILD (build dir, default build), FERRYD (default $BUILD/app/ferryd/ferryd),
#   FERRY_TEST_OUT (default /tmp/ferry-tests; scenario dirs go to $FERRY_TEST_OUT/pcap/<scenario>),
#   FERRY_PCAP_SEED (seed for the random scenarios, default: pcapgen's, 1),
#   FERRY_PCAP_TIMEOUT (seconds per daemon run, default 60).
# Prints "PASS: pcap/<scenario>" or "FAIL: pcap/<scenario>: <reason>" per scenario; exits 1 if
# any failed, 2 if the tools are missing ("FAIL: pcap: ...").
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

if [ $# -gt 0 ]; then
	scenarios=("$@")
else
	mapfile -t scenarios < <("$PCAPGEN" --list)
fi
for sc in "${scenarios[@]}"; do
	run_scenario "$sc"
done
exit $failed
