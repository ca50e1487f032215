#!/usr/bin/env bash
# zc_nic.sh — zero-copy from a guest to DPDK ports: lent guest buffers really reach net_ring,
# net_pcap and net_null ports and arrive intact.
#
# One guest (peer a on vm1, access VLAN 10, one queue pair) broadcasts a fixed mix of frame sizes —
# 64, 65, 300, 511, 512, 600 in 12 chained mbufs, 1400, 1400 in 3 chained mbufs, 1514 (the chained
# ones reach ferry as multi-descriptor / indirect virtio buffers) — flooded to three DPDK ports in
# VLAN 10: a net_ring (it keeps the mbufs until ferry polls its rx, where they come back with a's
# pinned source MAC and are dropped as spoofed: the lent buffers live on inside a "NIC" for a
# PMD iteration), a net_pcap writing what it sends to a file, and a net_null. ferryd runs with
# --iova-mode=va, twice: zero_copy "on", then "auto". Proves, per mode:
#   - the port's zero_copy state is "active" and the counters are exact: "on" lends every frame
#     longer than 64 bytes (the 64-byte header copy would be all of it) and copies the 64-byte
#     ones (copy_reasons.small); "auto" lends frames of at least FERRY_ZC_MIN_AUTO bytes (read from lib/zc/ferry_zc.h;
#     MIN_AUTO - 1 is copied, MIN_AUTO lent) and copies the rest as small; lent/copied bytes match; no other copy
#     reason, no bad descriptor, no mbuf shortage, nothing left in flight once the ring is polled;
#   - every frame reached each of the three ports exactly once (port tx counters, no tx drops,
#     the ring's echo all dropped as spoofed);
#   - the capture holds every frame exactly once, byte for byte a valid vpeer frame of the length
#     its sender used for that seq (`ferry-vpeer --check-pcap`: lengths, IPv4 checksum, payload
#     FNV checksum over the whole payload, per-flow order, no duplicates, no gaps);
#   - ferryd exits 0 on SIGTERM and its exit stats agree.
set -u
export PEER_MEM=${PEER_MEM:-64}   # the guests' memory all in the first table (see vpeer_lib.sh)
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init zc_nic

MA=52:54:00:00:71:01
MIN_AUTO=$(sed -n "s/^#define FERRY_ZC_MIN_AUTO *\([0-9]*\).*/\1/p" "$(dirname "$0")/../../lib/zc/ferry_zc.h")
SIZES=64,65,300,511,600/12,$((MIN_AUTO - 1)),$MIN_AUTO,1400,1400/3,1514
PER_SIZE=2000
RATE=10000
export T_EAL='"--iova-mode=va"'

n_sizes=$(tr ',' '\n' <<<"$SIZES" | wc -l)
COUNT=$(( n_sizes * PER_SIZE ))

# expected MODE lent|lent_bytes|copied|copied_bytes: from the size mix
expected() {
	local mode=$1 what=$2 s len n=0 bytes=0 lend
	for s in ${SIZES//,/ }; do
		len=${s%%/*}
		if [ "$mode" = on ]; then lend=$(( len > 64 )); else lend=$(( len >= MIN_AUTO )); fi
		case $what in
		lent) n=$(( n + lend )) ;;
		lent_bytes) bytes=$(( bytes + lend * len )) ;;
		copied) n=$(( n + 1 - lend )) ;;
		copied_bytes) bytes=$(( bytes + (1 - lend) * len )) ;;
		esac
	done
	echo $(( (n + bytes) * PER_SIZE ))
}


summary=()
for mode in on auto; do
	export T_ZC=$mode
	t_config "$(t_port vm1 server $MA 10)" "$(t_dpdk_port ring net_ring0 10)" \
		 "$(t_dpdk_port pcap "net_pcap0,tx_pcap=$T_DIR/$mode.pcap" 10)" \
		 "$(t_dpdk_port null net_null0,no-rx=1 10)"
	ferryd_start
	ferryd_wait_ready 15
	wait_socket "$T_DIR/vm1.sock" 5
	peer_start "a_$mode" "$T_DIR/vm1.sock" 1 client --mac $MA --count $COUNT --rate $RATE \
		--sizes $SIZES --duration 0 --progress 100
	peer_wait_link "a_$mode" 10
	ferryd_wait_stat vm1 '.zero_copy.lent > 0' 10
	check_eq "vm1 zero_copy.state while the guest sends (zero_copy $mode)" \
		"$(ferryd_port_stat vm1 .zero_copy.state)" active
	peers_wait_value tx $COUNT 30 "a_$mode" || t_fail "a sent only $(peer_progress "a_$mode" tx) of $COUNT frames in 30 s"
	peer_finish "a_$mode"
	check_sent_all "a_$mode" $COUNT
	# the ring's last frames come back on the next PMD iteration: then nothing is lent any more
	ferryd_wait_stat vm1 '.zero_copy.inflight == 0' 5
	ferryd_port_stat vm1 .zero_copy > "$T_DIR/zc-$mode.json"
	zc() { jq -cr "$1" "$T_DIR/zc-$mode.json"; }
	t_log "zero_copy $mode: $(cat "$T_DIR/zc-$mode.json")"
	check_eq "vm1 rx_packets" "$(ferryd_port_stat vm1 .rx_packets)" $COUNT
	for k in lent lent_bytes copied copied_bytes; do
		check_eq "zero_copy $mode: $k" "$(zc .$k)" "$(expected $mode $k)"
	done
	check_eq "zero_copy $mode: copy_reasons.small" "$(zc .copy_reasons.small)" "$(expected $mode copied)"
	check_eq "zero_copy $mode: other copy reasons" \
		"$(zc '[.copy_reasons | to_entries[] | select(.key != "small") | .value] | add')" 0
	check_eq "zero_copy $mode: bad descriptors" "$(zc '[.bad_descriptors[]] | add')" 0
	check_eq "zero_copy $mode: no_mbuf" "$(zc .no_mbuf)" 0
	check_eq "zero_copy $mode: forced_returns" "$(zc .forced_returns)" 0
	for p in ring pcap null; do
		check_eq "port $p tx_packets (zero_copy $mode)" "$(ferryd_port_stat $p .tx_packets)" $COUNT
		check_eq "port $p drops" "$(ferryd_port_stat $p .drops_total)" \
			"$([ $p = ring ] && echo $COUNT || echo 0)"
	done
	check_eq "ring: frames back from the ring" "$(ferryd_port_stat ring .rx_packets)" $COUNT
	check_eq "ring: echoes dropped as spoofed" "$(ferryd_port_stat ring .drops.spoof)" $COUNT
	ferryd_stop TERM 10
	[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
	check_eq "exit stats: vm1 lent" "$(ferryd_exit_stat vm1 .zero_copy.lent)" "$(zc .lent)"

	# the capture, frame by frame
	"$VPEER" --check-pcap "$T_DIR/$mode.pcap" --sizes $SIZES --report "$T_DIR/pcap-$mode.json" \
		> "$T_DIR/pcapcheck-$mode.log" 2>&1 || t_fail "ferry-vpeer --check-pcap $mode.pcap failed"
	pc() { jq -cr "$1" "$T_DIR/pcap-$mode.json"; }
	id=$(rj "a_$mode" .id)
	t_log "$mode.pcap: $(pc .pcap) sender $id: $(pc ".senders[\"$id\"]")"
	check_eq "$mode.pcap: frames" "$(pc .pcap.frames)" $COUNT
	check_eq "$mode.pcap: truncated frames" "$(pc .pcap.truncated)" 0
	check_eq "$mode.pcap: frames of the wrong length" "$(pc .pcap.wrong_size)" 0
	check_eq "$mode.pcap: corrupted vpeer frames" "$(pc .rx_bad)" 0
	check_eq "$mode.pcap: frames that are not vpeer frames" "$(pc '.rx_other + .rx_arp')" 0
	check_eq "$mode.pcap: valid frames of a" "$(pc ".senders[\"$id\"].rx")" $COUNT
	check_eq "$mode.pcap: duplicates" "$(pc ".senders[\"$id\"].dup")" 0
	check_eq "$mode.pcap: out of order within a flow" "$(pc ".senders[\"$id\"].ooo")" 0
	summary+=("$mode: lent $(zc .lent), copied $(zc .copied)")
done
t_pass "$COUNT frames x 3 NICs per mode, capture intact; ${summary[*]}"
