#!/bin/sh
# tests/fuzz/run.sh — build the libFuzzer targets with clang (-fsanitize=fuzzer,address, libferry
# instrumented too) in their own build directory, and fuzz each for a bounded time:
#   fuzz_rpc    the JSON-RPC request handler
#   fuzz_virtq  lib/virtq walking a malicious guest's split ring
#   fuzz_zcring lib/zc's queues while a guest resizes, moves and re-bases its ring
#   fuzz_vnet   lib/offload checking a guest's virtio-net header fields against its frame
#   fuzz_vqrx   lib/virtq placing frames into a malicious guest's receive ring
# Prints `PASS: fuzz/<target>` or `FAIL: fuzz/<target>: <reason>`; exits non-zero on failure.
#   FUZZ_TIME=seconds per target (default 45)   FUZZ_BUILD=build dir (default build-fuzz)
#   FUZZ_TARGETS="fuzz_rpc fuzz_virtq" (default: all)
#   logs in ${FERRY_TEST_OUT:-/tmp/ferry-tests}/fuzz/
# Crash inputs are kept in $FUZZ_BUILD/artifacts/ (re-run: $FUZZ_BUILD/tests/fuzz/<target> FILE).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bdir=${FUZZ_BUILD:-$root/build-fuzz}
secs=${FUZZ_TIME:-45}
targets=${FUZZ_TARGETS:-fuzz_rpc fuzz_virtq fuzz_pkt fuzz_zcring fuzz_vnet fuzz_vqrx}
logs=${FERRY_TEST_OUT:-/tmp/ferry-tests}/fuzz
mkdir -p "$logs"

build_targets=
for t in $targets; do build_targets="$build_targets tests/fuzz/$t"; done
# shellcheck disable=SC2086
"$root/tests/tools/asan_build.sh" "$bdir" "$logs" $build_targets || { echo "FAIL: fuzz/build: see $logs"; exit 1; }

mkdir -p "$bdir/artifacts"

# fuzz <target> <corpus> <max_len> [libFuzzer flags...]: one PASS:/FAIL: line
failed=0
fuzz() {
	t=$1 corpus=$2 maxlen=$3
	shift 3
	log=$logs/$t.log
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bdir/tests/fuzz/$t" "$corpus" "$@" \
		-max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$bdir/artifacts/" -print_final_stats=1 > "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/, cov \1, ft \2/p')
	if [ $rc -eq 0 ]; then
		echo "$t: ${runs:-?} inputs in ${secs} s, corpus of $(ls "$corpus" | wc -l)${cov}"
		echo "PASS: fuzz/$t"
	else
		grep -E "ERROR|$t:|SUMMARY|Test unit written" "$log" | head -8
		echo "FAIL: fuzz/$t: exit $rc, see $log"
		failed=1
	fi
}

run_fuzz_rpc() {
	# seed corpus: one line per request shape
	corpus=$bdir/corpus/rpc
	mkdir -p "$corpus"
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
	fuzz fuzz_rpc "$corpus" 4096 -dict="$here/rpc.dict"
}

run_fuzz_virtq() {
	# seed corpus: hand-made rings (write_seeds in fuzz_virtq.c)
	corpus=$bdir/corpus/virtq
	mkdir -p "$corpus"
	if ! FUZZ_VIRTQ_SEEDS="$corpus" "$bdir/tests/fuzz/fuzz_virtq" > "$logs/fuzz_virtq.seeds.log" 2>&1; then
		cat "$logs/fuzz_virtq.seeds.log"
		echo "FAIL: fuzz/fuzz_virtq: writing the seed corpus"
		failed=1
		return
	fi
	fuzz fuzz_virtq "$corpus" 8192 -dict="$here/virtq.dict"
}

run_fuzz_zcring() {
	# seed corpus: a ring of 256 with buffers lent, resized to 32768 and remapped, refreshed,
	# moved, re-based (the input format is in fuzz_zcring.c)
	corpus=$bdir/corpus/zcring
	mkdir -p "$corpus"
	printf '\010\020\022\030\006\001\001\000\000\017\000\000\002\000\000\000\003\000\000\000' \
		> "$corpus/resize_remap"
	printf '\010\020\022\030\006\007\000\000\001\100\102\110\004\000\000\000\005\350\003\000' \
		> "$corpus/move_rebase"
	printf '\017\020\120\200\000\010\000\000\003\000\000\000\002\000\000\000' > "$corpus/shrink"
	fuzz fuzz_zcring "$corpus" 1024
}

run_fuzz_vqrx() {
	# seeds: a ring of 8 writable 256-byte buffers, two frames (100 and 1000 bytes, the second
	# merged over four); the same without mergeable buffers (the second is too big)
	corpus=$bdir/corpus/vqrx
	mkdir -p "$corpus"
	python3 - "$corpus" <<'PY'
import struct, sys
d = sys.argv[1]
desc = b"".join(struct.pack("<QIHH", 0x1000 + 0x400 + k * 0x100, 256, 2, 0) for k in range(8))
avail = struct.pack("<HH", 0, 8) + b"".join(struct.pack("<H", k) for k in range(8))
mem = desc + avail
for name, h1 in (("merged", 0x40), ("single", 0x00)):
    hdr = bytes([3, h1, 0, 0, 0, 0, 1, 0]) + struct.pack("<HH", 100, 1000) + struct.pack("<HH", 0x0fff, 0)
    open("%s/%s" % (d, name), "wb").write(hdr + mem)
PY
	fuzz fuzz_vqrx "$corpus" 8192
}

run_fuzz_vnet() {
	# seeds: a TCPV4 segment (NEEDS_CSUM at the TCP checksum), a UDP partial checksum, a TCPV6
	# segment; features all but ECN/UFO
	corpus=$bdir/corpus/vnet
	mkdir -p "$corpus"
	python3 - "$corpus" <<'PY'
import struct, sys
d = sys.argv[1]
eth4 = b"\x52\x54\0\0\0\2" + b"\x52\x54\0\0\0\1" + b"\x08\x00"
eth6 = eth4[:12] + b"\x86\xdd"
ip4 = lambda n, p: struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + n, 1, 0x4000, 64, p, 0, b"\x0a\0\0\1", b"\x0a\0\0\2")
ip6 = lambda n, p: struct.pack("!IHBB16s16s", 0x60000000, n, p, 64, b"\0" * 15 + b"\1", b"\0" * 15 + b"\2")
tcp = struct.pack("!HHIIBBHHH", 40000, 5201, 1000, 0, 0x50, 0x18, 65535, 0, 0)
udp = lambda n: struct.pack("!HHHH", 1000, 2000, 8 + n, 0)
pay = bytes(range(256)) * 8
def hdr(flags, gso, hl, gs, cs, co):
    return struct.pack("<BBHHHHH", flags, gso, hl, gs, cs, co, 1)
seeds = [hdr(1, 1, 54, 500, 34, 16) + b"\x3f\x00\x03" + eth4 + ip4(20 + 2048, 6) + tcp + pay,
         hdr(1, 0, 0, 0, 34, 6) + b"\x01\x02\x01" + eth4 + ip4(8 + 300, 17) + udp(300) + pay[:300],
         hdr(1, 4, 74, 1000, 54, 16) + b"\x3f\x01\x02" + eth6 + ip6(20 + 2048, 6) + tcp + pay]
for i, s in enumerate(seeds):
    open("%s/seed%d" % (d, i), "wb").write(s)
PY
	fuzz fuzz_vnet "$corpus" 4096
}

for t in $targets; do
	case $t in
	fuzz_rpc)   run_fuzz_rpc ;;
	fuzz_virtq) run_fuzz_virtq ;;
	fuzz_zcring) run_fuzz_zcring ;;
	fuzz_vnet)  run_fuzz_vnet ;;
	fuzz_vqrx)  run_fuzz_vqrx ;;
	fuzz_pkt)   mkdir -p "$bdir/corpus/pkt" && fuzz fuzz_pkt "$bdir/corpus/pkt" 512 -dict="$here/pkt.dict" ;;
	*)          echo "FAIL: fuzz/$t: unknown target"; failed=1 ;;
	esac
done
exit $failed
