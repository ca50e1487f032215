#!/usr/bin/env bash
# egress_segs.sh — lent guest frames to a device that sends few segments per frame (issue #21
# item 9). i40e/ice VFs take 8 (tx_desc_lim nb_seg_max / nb_mtu_seg_max) and their malicious-driver
# detection disables the VF for everyone on more; a lent frame is a 64-byte head mbuf plus one
# mbuf per guest buffer piece (up to 65). The vdevs here report no limit, so ferryd runs with the
# test hook FERRY_TEST_TX_SEG_MAX=2 (read once at port setup, caps every DPDK port's limit).
#
# One guest (vm1, zero_copy "on": every frame above 64 bytes lent) sends 1400 (one buffer: head +
# 1 piece = 2 segments, sent as lent), 1400/3, 1514/6, 4000/8 (more segments than 2: copied into a
# fresh chain of pool mbufs, 1 or 2 segments, and sent) and 9000/8 (its copy has 5 segments:
# dropped as tx_segs) to a net_pcap port with "mtu": 9000 (ferry's own limit: net_pcap has no MTU).
# Proves: the port sent exactly the frames that fit, drops.tx_segs counts the 9000-byte ones and
# nothing else is dropped; the capture holds every sent frame intact (ferry-vpeer --check-pcap:
# lengths, checksums); every lent buffer went back to the guest (inflight 0).
set -u
export PEER_MEM=${PEER_MEM:-64}
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init egress_segs

MA=52:54:00:00:72:01
SIZES=1400,1400/3,1514/6,4000/8,9000/8
PER_SIZE=400
COUNT=$(( 5 * PER_SIZE ))
SENT=$(( 4 * PER_SIZE ))
export T_EAL='"--iova-mode=va"'
export T_ZC=on
export FERRY_TEST_TX_SEG_MAX=${EGRESS_SEG_MAX:-2}


t_config "$(t_port vm1 server $MA 10)" \
	"$(t_dpdk_port cap "net_pcap0,tx_pcap=$T_DIR/cap.pcap" 10 '"mtu":9000')"
ferryd_start
ferryd_wait_ready 15
grep -q "port cap: egress limit 9014 bytes untagged (MTU 9000, ferry's own), 2 segments" \
	"$FERRYD_LOG" || t_fail "cap's egress limits not as configured: $(grep 'egress limit' "$FERRYD_LOG")"
wait_socket "$T_DIR/vm1.sock" 5
peer_start a "$T_DIR/vm1.sock" 1 client --mac $MA --count $COUNT --rate 5000 \
	--sizes $SIZES --duration 0 --progress 100
peer_wait_link a 10
peers_wait_value tx $COUNT 30 a || t_fail "a sent only $(peer_progress a tx) of $COUNT frames in 30 s"
peer_finish a
check_sent_all a $COUNT
ferryd_wait_stat vm1 '.zero_copy.inflight == 0' 5
check_eq "vm1 rx_packets" "$(ferryd_port_stat vm1 .rx_packets)" $COUNT
check_eq "vm1 lent" "$(ferryd_port_stat vm1 .zero_copy.lent)" $COUNT
check_eq "cap tx_packets" "$(ferryd_port_stat cap .tx_packets)" $SENT
check_eq "cap drops.tx_segs" "$(ferryd_port_stat cap .drops.tx_segs)" $PER_SIZE
check_eq "cap drops (all)" "$(ferryd_port_stat cap .drops_total)" $PER_SIZE
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"

"$VPEER" --check-pcap "$T_DIR/cap.pcap" --sizes $SIZES --report "$T_DIR/pcap.json" \
	> "$T_DIR/pcapcheck.log" 2>&1
pc() { jq -cr "$1" "$T_DIR/pcap.json"; }
t_log "cap.pcap: $(pc .pcap)"
check_eq "cap.pcap: frames" "$(pc .pcap.frames)" $SENT
check_eq "cap.pcap: truncated frames" "$(pc .pcap.truncated)" 0
check_eq "cap.pcap: frames of the wrong length" "$(pc .pcap.wrong_size)" 0
check_eq "cap.pcap: corrupted vpeer frames" "$(pc .rx_bad)" 0
check_eq "cap.pcap: frames that are not vpeer frames" "$(pc '.rx_other + .rx_arp')" 0
check_eq "cap.pcap: 9000-byte frames" "$(python3 - "$T_DIR/cap.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, n = 24, 0
while off + 16 <= len(d):
    incl = struct.unpack("<IIII", d[off:off + 16])[2]
    n += incl == 9000
    off += 16 + incl
print(n)
PY
)" 0
t_pass "$SENT of $COUNT lent frames sent through a 2-segment device (copied when chained deeper), $PER_SIZE dropped as tx_segs"
