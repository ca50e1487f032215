#!/usr/bin/env bash
# nic_csum.sh — NIC -> guest checksum (issue #19): a NIC's RTE_MBUF_F_RX_L4_CKSUM_GOOD reaches
# the guest as VIRTIO_NET_HDR_F_DATA_VALID through ferry's own enqueue ("enqueue": "ferry").
# The NIC is net_tap with its L4 checksum verification on (ferry enables it where a device has
# it; net_tap's is software, tap_verify_csum, and the only vdev here that sets the flag — net_pcap
# and net_null set none). Frames are written into the tap's kernel interface (AF_PACKET), so the
# PMD receives them as from a wire. Guests are ferry-olpeer (DPDK's virtio PMD with rx checksum
# offload: it turns DATA_VALID into RX_L4_CKSUM_GOOD, and counts those per unicast frame).
# b has mergeable receive buffers (MRG_RXBUF), c not (mrg_rxbuf=0). Run once per enqueue, same
# frames:
#   - ferry: b (GUEST_CSUM negotiated) gets N good UDP frames marked DATA_VALID and M frames with a
#     broken UDP checksum (the tap says BAD) unmarked; c ("offloads": false, no GUEST_CSUM) gets
#     its N unmarked; b's port.stats enqueue says state active, ring 0 "ferry", data_valid N;
#   - rte_vhost: the same frames, none marked (DPDK 22.11's enqueue never sets DATA_VALID), state
#     "off", ring 0 "rte_vhost";
#   - each time, what b and c received is byte for byte what was written into the tap.
set -u
export PEER_MEM=${PEER_MEM:-256}
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init nic_csum
OLPEER=$BUILD/tests/tools/ferry-olpeer
[ -x "$OLPEER" ] || t_fail "no $OLPEER"
[ -e /dev/net/tun ] || t_fail "no /dev/net/tun (net_tap)"
N=${CSUM_FRAMES:-200}
M=${CSUM_BAD:-50}
MB=52:54:00:00:1c:0b MC=52:54:00:00:1c:0c SRC=02:00:00:00:1c:01
TAP=fcs$$
export T_EAL='"--iova-mode=va"'

olpeer() {   # olpeer NAME SOCK ARGS...: starts ferry-olpeer as client of SOCK (VDEV_MORE: devargs)
	local name=$1 sock=$2
	shift 2
	"$OLPEER" -l 0 -m "$PEER_MEM" --no-pci --no-telemetry --in-memory --single-file-segments \
		--file-prefix "csum-$name-$$" --vdev "net_virtio_user0,path=$sock,queues=1,queue_size=256${VDEV_MORE:-}" \
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
port() {   # port NAME MAC OFFLOADS
	printf '{"name":"%s","type":"vhostuser","path":"%s/%s.sock","mode":"server","mac":["%s"],"vlan":{"mode":"access","tag":10},"offloads":%s,"enqueue":"%s"}' \
		"$1" "$T_DIR" "$1" "$2" "$3" "$ENQ"
}

# inject OUT: N good UDP/IPv4 frames to b, M with a broken UDP checksum to b, N good ones to c,
# written into the tap interface; OUT gets them as a pcap (what each guest must receive).
inject() {
	python3 - "$TAP" "$N" "$M" "$MB" "$MC" "$SRC" "$1" 2> "$T_DIR/inject.err" <<-'PY' || t_fail "inject: $(tail -1 "$T_DIR/inject.err")"
	import socket, struct, sys, time
	tap, n, m, mb, mc, src, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
	mac = lambda s: bytes(int(x, 16) for x in s.split(":"))
	def csum(b):
	    if len(b) % 2:
	        b += b"\0"
	    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
	    while s >> 16:
	        s = (s & 0xffff) + (s >> 16)
	    return ~s & 0xffff
	def frame(dst, k, bad):
	    payload = bytes((k * 7 + j) & 0xff for j in range(100 + k % 900))
	    sip, dip = bytes([10, 28, 0, 1]), bytes([10, 28, 0, 2])
	    udp = struct.pack("!HHHH", 4000 + k % 1000, 5001, 8 + len(payload), 0) + payload
	    c = csum(sip + dip + struct.pack("!BBH", 0, 17, len(udp)) + udp) or 0xffff
	    if bad:
	        c ^= 0x5a5a
	    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
	    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k, 0, 64, 17, 0, sip, dip)
	    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
	    return mac(dst) + mac(src) + b"\x08\x00" + ip + udp
	frames = [frame(mb, k, False) for k in range(n)] + [frame(mb, n + k, True) for k in range(m)] + \
	         [frame(mc, k, False) for k in range(n)]
	s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
	s.bind((tap, 0))
	with open(out, "wb") as f:
	    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
	    for x in frames:
	        s.send(x)
	        f.write(struct.pack("<IIII", 0, 0, len(x), len(x)) + x)
	        time.sleep(0.0005)
	PY
}

# same_frames PCAP_GOT PCAP_SENT DST: the unicast frames to DST in both, byte for byte, in order
same_frames() {
	python3 - "$@" 2> "$T_DIR/cmp.err" <<-'PY' || t_fail "$3: $(tail -1 "$T_DIR/cmp.err")"
	import struct, sys
	def frames(path, dst):
	    d = open(path, "rb").read()
	    be = d[:4] == b"\xa1\xb2\xc3\xd4"
	    e = ">" if be else "<"
	    off, out = 24, []
	    while off + 16 <= len(d):
	        incl = struct.unpack(e + "IIII", d[off:off + 16])[2]
	        x = d[off + 16:off + 16 + incl]
	        off += 16 + incl
	        if x[:6] == dst:
	            out.append(x)
	    return out
	dst = bytes(int(x, 16) for x in sys.argv[3].split(":"))
	got, sent = frames(sys.argv[1], dst), frames(sys.argv[2], dst)
	assert len(got) == len(sent), "%d frames, %d sent" % (len(got), len(sent))
	for i, (a, b) in enumerate(zip(got, sent)):
	    assert a == b, "frame %d differs (%d / %d bytes)" % (i, len(a), len(b))
	PY
}

run() {   # run ENQ
	ENQ=$1
	rm -f "$T_DIR"/b.* "$T_DIR"/c.*
	t_config "$(port b $MB true)" "$(port c $MC false)" "$(t_dpdk_port tap "net_tap0,iface=$TAP" 10)"
	ferryd_start
	ferryd_wait_ready 15
	for p in b c; do wait_socket "$T_DIR/$p.sock" 5; done
	ip link set "$TAP" up 2> /dev/null
	olpeer b "$T_DIR/b.sock" --mac $MB --dst ff:ff:ff:ff:ff:ff --rx-offloads 1 --duration 8 --pcap "$T_DIR/b.pcap"
	VDEV_MORE=,mrg_rxbuf=0 olpeer c "$T_DIR/c.sock" --mac $MC --dst ff:ff:ff:ff:ff:ff --rx-offloads 0 --duration 8 --pcap "$T_DIR/c.pcap"
	olpeer_wait_link b
	olpeer_wait_link c
	ferryd_wait_link b up 10
	ferryd_wait_link c up 10
	negb=$(ferryd_rpc port.get '{"name":"b"}' | jq -c .offloads_negotiated)
	negc=$(ferryd_rpc port.get '{"name":"c"}' | jq -c .offloads_negotiated)
	[[ "$negb" == *MRG_RXBUF* && "$negb" == *GUEST_CSUM* ]] || t_fail "b negotiated $negb"
	[[ "$negc" != *MRG_RXBUF* && "$negc" != *GUEST_CSUM* ]] || t_fail "c negotiated $negc"
	sleep 0.5
	inject "$T_DIR/sent.pcap"
	ferryd_wait_stat tap ".rx_packets >= $((2 * N + M))" 10
	st=$(ferryd_rpc port.stats '{"name":"b"}')
	t_log "enqueue $ENQ: b enqueue stats $(jq -c '.enqueue' <<< "$st")"
	olpeer_wait b
	olpeer_wait c
	t_log "b: $(cat "$T_DIR/b.json") c: $(cat "$T_DIR/c.json")"
	if [ "$ENQ" = ferry ]; then
		check_eq "b enqueue.state" "$(jq -r .enqueue.state <<< "$st")" active
		check_eq "b enqueue.rings" "$(jq -c .enqueue.rings <<< "$st")" '{"0":"ferry"}'
		check_eq "b enqueue.data_valid" "$(jq .enqueue.data_valid <<< "$st")" $N
		check_eq "b: frames marked DATA_VALID (good checksums)" "$(jq .csum_good "$T_DIR/b.json")" $N
	else
		check_eq "b enqueue.state" "$(jq -r .enqueue.state <<< "$st")" off
		check_eq "b enqueue.rings" "$(jq -c .enqueue.rings <<< "$st")" '{"0":"rte_vhost"}'
		check_eq "b: frames marked DATA_VALID" "$(jq .csum_good "$T_DIR/b.json")" 0
	fi
	local unmarked=$((N + M))
	[ "$ENQ" = ferry ] && unmarked=$M
	check_eq "b: unmarked unicast frames" "$(jq .csum_other "$T_DIR/b.json")" $unmarked
	check_eq "c: frames marked DATA_VALID (no GUEST_CSUM)" "$(jq .csum_good "$T_DIR/c.json")" 0
	check_eq "c: unmarked unicast frames" "$(jq .csum_other "$T_DIR/c.json")" $N
	same_frames "$T_DIR/b.pcap" "$T_DIR/sent.pcap" $MB
	same_frames "$T_DIR/c.pcap" "$T_DIR/sent.pcap" $MC
	ferryd_stop TERM 10
	[ "$FERRYD_RC" = 0 ] || t_fail "ferryd (enqueue $ENQ) exited with status $FERRYD_RC"
}

ENQ=ferry
run ferry
run rte_vhost
t_pass "net_tap's checksum-good flags: $N UDP frames reach a GUEST_CSUM guest marked DATA_VALID through ferry's enqueue (none through rte_vhost's), $M with a bad checksum and a non-mergeable guest without GUEST_CSUM unmarked; every frame byte for byte"
