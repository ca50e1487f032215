#!/usr/bin/env bash
# offloads.sh — checksum and TCP segmentation offloads (issue #19), with real virtio-net drivers
# (DPDK's virtio PMD in ferry-olpeer writes the headers from TX_TCP_SEG / TX_TCP_CKSUM, as a guest
# driver does). Run once per dequeue: zero_copy "on" (ferry's own, lib/zc, reads the header),
# "off" (rte_vhost's, compliant flags turned into TX flags; a TSO guest's frames into one 64 KB
# mbuf each) and "copy" (ferry's own dequeue set to copy after a connected: port.set zero_copy off;
# every frame copied, each 64 KB one into one large mbuf, none lent).
#   - guest a sends N 64000-byte TCP/IPv4 segments (tso_segsz 1448) to b's MAC;
#     b negotiated GUEST_CSUM/GUEST_TSO4/6 ("offloads": true): each arrives as one frame with a
#     GSO header (RX_LRO, tso_segsz 1448), nothing segmented;
#   - the same segments to c ("offloads": false: no offload features) and to a net_pcap tx_pcap
#     port (no tx offload capability): MSS-sized frames, every IPv4 header and TCP checksum
#     correct, the payloads reassembling byte for byte into what a sent (python below);
#   - then 1400-byte frames with a partial TCP checksum only (no TSO): to b as they are (NEEDS_CSUM),
#     to c and cap with the checksum computed by ferry (zero_copy "on");
#   - port.get shows the negotiated feature names;
#   - bad headers (zero_copy "on": ferry reads them): gso_size 0, hdr_len beyond the frame,
#     csum_start beyond the frame, TCPV6 on an IPv4 frame, an IP packet over 65535 bytes: each
#     dropped under its reason (gso_size, gso_hdr_len, csum_range, gso_type, gso_too_long), ferryd alive.
set -u
export PEER_MEM=${PEER_MEM:-256}
VHOST_TEST_LIMIT=${VHOST_TEST_LIMIT:-240}   # two zero_copy phases of several testpmd guests: ~50 s alone, more on a loaded box
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init offloads
OLPEER=$BUILD/tests/tools/ferry-olpeer
[ -x "$OLPEER" ] || t_fail "no $OLPEER"
N=${OL_FRAMES:-20}
PAYLOAD=64000
MA=52:54:00:00:19:0a MB=52:54:00:00:19:0b MC=52:54:00:00:19:0c
export T_EAL='"--iova-mode=va"'

olpeer() {   # olpeer NAME SOCK ARGS...: starts ferry-olpeer as client of SOCK
	local name=$1 sock=$2
	shift 2
	"$OLPEER" -l 0 -m "$PEER_MEM" --no-pci --no-telemetry --in-memory --single-file-segments \
		--file-prefix "ol-$name-$$" --vdev "net_virtio_user0,path=$sock,queues=1,queue_size=1024" \
		-- --report "$T_DIR/$name.json" "$@" > "$T_DIR/$name.log" 2>&1 &
	PEER_PID[$name]=$!
	T_PIDS+=("$!")
	t_log "olpeer $name started (pid $!): $*"
}
olpeer_wait_link() {
	for _ in $(seq 100); do
		grep -q "olpeer: link up" "$T_DIR/$1.log" 2>/dev/null && return 0
		kill -0 "${PEER_PID[$1]}" 2>/dev/null || t_fail "olpeer $1 exited: $(tail -3 "$T_DIR/$1.log")"
		sleep 0.1
	done
	t_fail "olpeer $1: no link"
}
olpeer_wait() {
	wait "${PEER_PID[$1]}" || t_fail "olpeer $1 failed: $(tail -3 "$T_DIR/$1.log")"
}
port() {   # port NAME MAC OFFLOADS (T_ENQ: the ports' enqueue)
	printf '{"name":"%s","type":"vhostuser","path":"%s/%s.sock","mode":"server","mac":["%s"],"vlan":{"mode":"access","tag":10},"zero_copy":"%s","offloads":%s%s}' \
		"$1" "$T_DIR" "$1" "$2" "$ZC" "$3" "${T_ENQ:+,\"enqueue\":\"$T_ENQ\"}"
}

verify_segments() {   # verify_segments PCAP WHAT: MSS frames, checksums, payload reassembled
	python3 - "$1" "$N" "$PAYLOAD" 2> "$T_DIR/verify.err" <<-'PY' || t_fail "$2: $(tail -1 "$T_DIR/verify.err")"
	import struct, sys
	path, n, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
	d = open(path, "rb").read()
	magic = struct.unpack("<I", d[:4])[0]
	assert magic in (0xa1b2c3d4, 0xa1b23c4d), "not a pcap"
	def csum(b):
	    if len(b) % 2: b += b"\0"
	    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	    while s >> 16: s = (s & 0xffff) + (s >> 16)
	    return s
	off, segs, bad = 24, {}, []
	while off + 16 <= len(d):
	    incl, orig = struct.unpack("<II", d[off + 8:off + 16])
	    f = d[off + 16:off + 16 + incl]; off += 16 + incl
	    if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6: continue
	    ip = f[14:34]; tot = struct.unpack("!H", ip[2:4])[0]
	    if csum(ip) != 0xffff: bad.append("ip checksum")
	    if len(f) > 1514: bad.append("frame of %d bytes" % len(f))
	    tcp = f[34:14 + tot]
	    ph = ip[12:20] + struct.pack("!BBH", 0, 6, len(tcp))
	    if csum(ph + tcp) != 0xffff: bad.append("tcp checksum")
	    seq = struct.unpack("!I", tcp[4:8])[0]
	    hl = (tcp[12] >> 4) * 4
	    segs[seq] = tcp[hl:]
	stream = b"".join(segs[s] for s in sorted(segs))
	want = bytes(((j * 7 + (j >> 8)) & 0xff) for j in range(n * payload))
	if bad: sys.exit("%d bad: %s" % (len(bad), bad[:3]))
	if stream != want: sys.exit("payload: %d bytes reassembled from %d frames, want %d" % (len(stream), len(segs), len(want)))
	print(len(segs))
	PY
}

run_mode() {
	ZC=$1
	rm -f "$T_DIR"/*.pcap
	local zc=$ZC wait=()
	[ "$ZC" = copy ] && ZC=on wait=(--wait 1.5)
	t_config "$(port a $MA true)" "$(port b $MB true)" "$(port c $MC false)" \
		"$(t_dpdk_port cap "net_pcap0,tx_pcap=$T_DIR/cap.pcap" 10)"
	ferryd_start
	ferryd_wait_ready 15
	for p in a b c; do wait_socket "$T_DIR/$p.sock" 5; done
	# b and c receive; MACs are learned from a gratuitous frame each (a bad-header frame would do too)
	olpeer b "$T_DIR/b.sock" --mac $MB --dst ff:ff:ff:ff:ff:ff --rx-offloads 1 --duration 12 --pcap "$T_DIR/b.pcap"
	olpeer c "$T_DIR/c.sock" --mac $MC --dst ff:ff:ff:ff:ff:ff --rx-offloads 0 --duration 12 --pcap "$T_DIR/c.pcap"
	olpeer_wait_link b
	olpeer_wait_link c
	feats=$(ferryd_rpc port.get '{"name":"b"}' | jq -cr '.offloads_negotiated')
	t_log "b negotiated $feats"
	for f in CSUM GUEST_CSUM HOST_TSO4 HOST_TSO6 GUEST_TSO4 GUEST_TSO6; do
		jq -e --arg f $f 'index($f) != null' <<< "$feats" > /dev/null || t_fail "b: $f not negotiated ($feats)"
	done
	featc=$(ferryd_rpc port.get '{"name":"c"}' | jq -cr '.offloads_negotiated')
	[ "$(jq -r 'map(select(test("CSUM|TSO"))) | length' <<< "$featc")" = 0 ] || t_fail "c (offloads false) negotiated $featc"
	# a floods (b and c unknown yet -> to b, c and cap): every segment reaches every port
	olpeer a "$T_DIR/a.sock" --mac $MA --dst ff:ff:ff:ff:ff:ff --send $N --payload $PAYLOAD --mss 1448 --duration $((4 + ${#wait[@]})) $NOTSO "${wait[@]}"
	if [ "$zc" = copy ]; then   # a's ring read by ferry, set to copy before a sends
		olpeer_wait_link a
		ferryd_rpc port.set '{"name":"a","zero_copy":"off"}' > /dev/null
	fi
	olpeer_wait a
	olpeer_wait b
	olpeer_wait c
	check_eq "a sent" "$(jq .sent "$T_DIR/a.json")" $N
	check_eq "b: frames" "$(jq .rx "$T_DIR/b.json")" $N
	if [ -z "$NOTSO" ]; then
		check_eq "b: frames with a GSO header" "$(jq .lro "$T_DIR/b.json")" $N
		check_eq "b: tso_segsz" "$(jq .segsz "$T_DIR/b.json")" 1448
		segs=$(( N * ((PAYLOAD + 1447) / 1448) ))
		check_eq "c: longest frame" "$(jq .max_len "$T_DIR/c.json")" 1502
	else
		check_eq "b: frames with a GSO header" "$(jq .lro "$T_DIR/b.json")" 0
		segs=$N
		check_eq "c: longest frame" "$(jq .max_len "$T_DIR/c.json")" $((PAYLOAD + 54))
	fi
	check_eq "b: longest frame" "$(jq .max_len "$T_DIR/b.json")" $((PAYLOAD + 54))
	check_eq "c: frames" "$(jq .rx "$T_DIR/c.json")" $segs
	nc=$(verify_segments "$T_DIR/c.pcap" "c.pcap")
	check_eq "c.pcap segments" "$nc" $segs
	check_eq "cap tx_packets" "$(ferryd_port_stat cap .tx_packets)" $segs
	check_eq "a drops" "$(ferryd_port_stat a .drops_total)" 0
	if [ "$zc" = copy ]; then
		check_eq "a: frames copied" "$(ferryd_port_stat a .zero_copy.copied)" $N
		check_eq "a: frames lent" "$(ferryd_port_stat a .zero_copy.lent)" 0
	fi
	ZC=$zc
	ferryd_stop TERM 10
	[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC"
	np=$(verify_segments "$T_DIR/cap.pcap" "cap.pcap")
	check_eq "cap.pcap segments" "$np" $segs
	RESULT="$RESULT zero_copy=$ZC${NOTSO:+ $NOTSO}: b $N x $((PAYLOAD + 54)) B frames$([ -z "$NOTSO" ] && echo " with GSO headers"), c and cap $segs frames, checksums and payload ok;"
}

RESULT=""
NOTSO=
run_mode on
run_mode off
run_mode copy
NOTSO=--no-tso PAYLOAD=1400
run_mode on
PAYLOAD=64000 NOTSO=

# bad headers, read by ferry itself
ZC=on
t_config "$(port a $MA true)" "$(port b $MB true)"
ferryd_start
ferryd_wait_ready 15
wait_socket "$T_DIR/a.sock" 5
for kind in gso_size:gso_size hdr_len:gso_hdr_len csum:csum_range gso_type:gso_type too_long:gso_too_long; do
	k=${kind%%:*} reason=${kind#*:}
	before=$(ferryd_port_stat a ".drops.$reason")
	olpeer a "$T_DIR/a.sock" --mac $MA --dst $MB --send 5 --bad "$k" --duration 2
	olpeer_wait a
	ferryd_alive
	sleep 0.3
	after=$(ferryd_port_stat a ".drops.$reason")
	check_eq "a drops.$reason after 5 '$k' frames" $((after - before)) 5
	RESULT="$RESULT $reason 5;"
done
check_eq "a drops (all)" "$(ferryd_port_stat a .drops_total)" 25
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC"
t_pass "$RESULT"
