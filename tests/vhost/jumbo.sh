#!/usr/bin/env bash
# jumbo.sh — jumbo frames through vhostuser and dpdk ports at "mtu": 9000 (issue #19).
# Guest a (mtu 9000) floods (broadcast) 9014-byte frames (IP 9000: the largest an MTU 9000
# takes) and 9015-byte ones (IP 9001) into VLAN 10, where guest b (mtu 9000), guest c (mtu 1500)
# and a net_pcap port cap (mtu 9000: ferry's own limit) listen. b receives with the virtio PMD's
# default 2 KB buffers: each 9014-byte frame arrives merged over several (MRG_RXBUF).
# Proves: b gets every 9014-byte frame intact (vpeer's payload check over the chained buffers)
# and none of the 9015-byte ones (b drops.mtu counts them); c (mtu 1500) gets none of either
# (drops.mtu counts all); cap.pcap holds exactly the 9014-byte frames, intact; b negotiated
# MRG_RXBUF; port.set takes mtu on a vhostuser port and reports it. Then NIC -> guest: cap.pcap
# replayed by a net_pcap rx port (mtu 9000) reaches b intact, merged again, and not c.
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init jumbo

MA=52:54:00:00:73:01
MB=52:54:00:00:73:02
MC=52:54:00:00:73:03
PER_SIZE=${JUMBO_PER_SIZE:-500}
COUNT=$(( 2 * PER_SIZE ))
SIZES=9014,9015

vport() {   # vport NAME MAC MTU: a vhostuser port object with its mtu
	t_port "$1" server "$2" 10 | sed "s/}\$/,\"mtu\":$3}/"
}

t_config "$(vport a $MA 9000)" "$(vport b $MB 9000)" "$(vport c $MC 1500)" \
	"$(t_dpdk_port cap "net_pcap0,tx_pcap=$T_DIR/cap.pcap" 10 '"mtu":9000')"
ferryd_start
ferryd_wait_ready 15
for p in a b c; do wait_socket "$T_DIR/$p.sock" 5; done
peer_start b "$T_DIR/b.sock" 1 client --mac $MB --count 0 --duration 0
peer_start c "$T_DIR/c.sock" 1 client --mac $MC --count 0 --duration 0
peer_wait_link b 10
peer_wait_link c 10
peer_start a "$T_DIR/a.sock" 1 client --mac $MA --count $COUNT --rate 2000 \
	--sizes $SIZES --duration 0 --progress 100
peer_wait_link a 10
peers_wait_value tx $COUNT 30 a || t_fail "a sent only $(peer_progress a tx) of $COUNT frames in 30 s"
sleep 1
neg=$(ferryd_rpc port.get '{"name":"b"}' | jq -c '.offloads_negotiated')
peer_finish a b c
check_sent_all a $COUNT
[[ "$neg" == *MRG_RXBUF* ]] || t_fail "b did not negotiate MRG_RXBUF: $neg"
ida=$(rj a .id)
check_eq "b: 9014-byte frames from a" "$(sender_val b "$ida" rx)" $PER_SIZE
check_eq "b: corrupted frames" "$(rj b .rx_bad)" 0
check_eq "b: duplicates" "$(sender_val b "$ida" dup)" 0
check_eq "c: frames from a" "$(sender_val c "$ida" rx)" 0
check_eq "a rx_packets" "$(ferryd_port_stat a .rx_packets)" $COUNT
check_eq "b tx_packets" "$(ferryd_port_stat b .tx_packets)" $PER_SIZE
check_eq "b drops.mtu" "$(ferryd_port_stat b .drops.mtu)" $PER_SIZE
check_eq "c drops.mtu" "$(ferryd_port_stat c .drops.mtu)" $COUNT
check_eq "cap tx_packets" "$(ferryd_port_stat cap .tx_packets)" $PER_SIZE
check_eq "cap drops.mtu" "$(ferryd_port_stat cap .drops.mtu)" $PER_SIZE

# port.set mtu on a vhostuser port: taken and reported
r=$(ferryd_rpc port.set '{"name":"c","mtu":9000}' | jq -r .mtu)
check_eq "c mtu after port.set" "$r" 9000
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"

"$VPEER" --check-pcap "$T_DIR/cap.pcap" --sizes 9014 --report "$T_DIR/pcap.json" \
	> "$T_DIR/pcapcheck.log" 2>&1
pc() { jq -cr "$1" "$T_DIR/pcap.json"; }
t_log "cap.pcap: $(pc .pcap)"
check_eq "cap.pcap: frames" "$(pc .pcap.frames)" $PER_SIZE
check_eq "cap.pcap: truncated frames" "$(pc .pcap.truncated)" 0
check_eq "cap.pcap: frames of the wrong length" "$(pc .pcap.wrong_size)" 0
check_eq "cap.pcap: corrupted vpeer frames" "$(pc .rx_bad)" 0

# --- NIC -> guest: cap.pcap's 9014-byte frames replayed into b and c by a net_pcap rx port ------
# (the port is added once both guests are up: a net_pcap rx port replays its file at once).
# net_pcap writes each frame over chained 2 KB mbufs, as a NIC with rx scatter does; b receives
# them merged over its 2 KB buffers and checks every byte; c (mtu 1500) gets none.
t_config "$(vport b $MB 9000)" "$(vport c $MC 1500)"
sed -i 's|"rpc": {|"rpc": {"allow_host_devargs": true, |' "$T_DIR/cfg.json"   # a net_pcap port.add
ferryd_start
ferryd_wait_ready 15
for p in b c; do wait_socket "$T_DIR/$p.sock" 5; done
peer_start b "$T_DIR/b.sock" 1 client --mac $MB --count 0 --duration 0
peer_start c "$T_DIR/c.sock" 1 client --mac $MC --count 0 --duration 0
peer_wait_link b 10
peer_wait_link c 10
r=$(ferryd_rpc port.add "$(t_dpdk_port nic "net_pcap1,rx_pcap=$T_DIR/cap.pcap" 10 '"mtu":9000')")
[ "$(echo "$r" | jq -r '.name // empty')" = nic ] || t_fail "port.add nic: $r"
ferryd_wait_stat nic ".rx_packets == $PER_SIZE" 20
ferryd_wait_stat b ".tx_packets + .drops.tx_full >= $PER_SIZE" 10
sleep 0.5
peer_finish b c
check_eq "nic rx_packets" "$(ferryd_port_stat nic .rx_packets)" $PER_SIZE
check_eq "b (from nic): 9014-byte frames of a's" "$(sender_val b "$ida" rx)" $PER_SIZE
check_eq "b (from nic): corrupted frames" "$(rj b .rx_bad)" 0
check_eq "c (from nic): frames of a's" "$(sender_val c "$ida" rx)" 0
check_eq "c (from nic) drops.mtu" "$(ferryd_port_stat c .drops.mtu)" $PER_SIZE
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM (second run)"
t_pass "$PER_SIZE 9014-byte frames intact through mtu-9000 ports (b merged over 2 KB buffers, cap.pcap, and back from cap.pcap through a net_pcap rx port into b), $PER_SIZE 9015-byte ones dropped (mtu) there; the mtu-1500 guest got none"
