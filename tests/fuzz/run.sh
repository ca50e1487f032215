#!/bin/sh
# tests/fuzz/run.sh — build the libFuzzer targets with clang (-fsanitize=fuzzer,address, libferry
# instrumented too) in their own build directory, and fuzz each for a bounded time.
# Prints `PASS: fuzz/<target>` or `FAIL: fuzz/<target>: <reason>`; exits non-zero on failure.
#   FUZZ_TIME=seconds per target (default 60)   FUZZ_BUILD=build dir (default build-fuzz)
#   logs in ${FERRY_TEST_OUT:-/tmp/ferry-tests}/fuzz/
# Crash inputs are kept in $FUZZ_BUILD/artifacts/ (re-run: $FUZZ_BUILD/tests/fuzz/fuzz_rpc FILE).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bdir=${FUZZ_BUILD:-$root/build-fuzz}
secs=${FUZZ_TIME:-60}
logs=${FERRY_TEST_OUT:-/tmp/ferry-tests}/fuzz
mkdir -p "$logs"

if ! command -v clang >/dev/null 2>&1; then
	apt-get install -y clang >/dev/null 2>&1 || { echo "FAIL: fuzz/setup: clang is not installed"; exit 1; }
fi
if [ ! -f "$bdir/build.ninja" ]; then
	CC=clang meson setup "$bdir" "$root" -Dfuzz=true -Db_sanitize=address -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link -Dwerror=false -Dbuildtype=debugoptimized \
		> "$logs/setup.log" 2>&1 || { tail -20 "$logs/setup.log"; echo "FAIL: fuzz/build: meson setup"; exit 1; }
fi
if ! ninja -C "$bdir" -j2 tests/fuzz/fuzz_rpc > "$logs/build.log" 2>&1; then
	tail -30 "$logs/build.log"
	echo "FAIL: fuzz/build: see $logs/build.log"
	exit 1
fi

# seed corpus: one line per request shape
corpus=$bdir/corpus/rpc
mkdir -p "$corpus" "$bdir/artifacts"
i=0
while IFS= read -r line; do
	i=$((i + 1))
	printf '%s' "$line" > "$corpus/seed$i"
done <<'SEEDS'
{"jsonrpc":"2.0","method":"rpc.methods","id":1}
{"jsonrpc":"2.0","method":"switch.info"}
[{"jsonrpc":"2.0","method":"port.list","id":"a"},{"jsonrpc":"2.0","method":"x"},1,[]]
[]
{"jsonrpc":"2.0","method":"port.add","params":{"name":"vm1","type":"vhostuser","path":"/tmp/vm1.sock","mac":["52:54:00:00:00:01"],"vlan":{"mode":"access","tag":10},"admin":"down","external_ids":{"a":"b"}},"id":2}
{"jsonrpc":"2.0","method":"port.add","params":{"name":"up","type":"dpdk","devargs":"net_null0","rxq":2,"txq":2,"mtu":9000,"vlan":{"mode":"trunk","allowed":[10,20],"native":10}},"id":3}
{"jsonrpc":"2.0","method":"port.set","params":{"name":"vm1","vlan":null,"mac":"52:54:00:00:00:02"},"id":4}
{"jsonrpc":"2.0","method":"fdb.add","params":{"mac":"02:00:00:00:00:01","vlan":4094,"port":"vm1"},"id":5}
{"jsonrpc":"2.0","method":"fdb.flush","params":{"port":"vm1","static":true},"id":6}
{"jsonrpc":"2.0","method":"config.save","params":{"path":"/tmp/x.json"},"id":null}
{"jsonrpc":"2.0","method":"port.stats","params":{"name":null},"id":1.5}
{"jsonrpc":"2.0","method":"events.subscribe","id":7}
SEEDS

log=$logs/fuzz_rpc.log
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bdir/tests/fuzz/fuzz_rpc" "$corpus" \
	-dict="$here/rpc.dict" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$bdir/artifacts/" -print_final_stats=1 > "$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ $rc -eq 0 ]; then
	echo "fuzz_rpc: ${runs:-?} inputs in ${secs} s, corpus of $(ls "$corpus" | wc -l)"
	echo "PASS: fuzz/fuzz_rpc"
else
	grep -E "ERROR|fuzz_rpc:|SUMMARY|Test unit written" "$log" | head -8
	echo "FAIL: fuzz/fuzz_rpc: exit $rc, see $log"
	exit 1
fi
