#!/usr/bin/env bash
# zc_memtable.sh — a guest's memory table changes mid-traffic (memory hotplug) while ferry reads
# its TX ring itself and lends its buffers.
#
# Peer a (vm1) broadcasts a mix of frames (1400 bytes; 600 in 12 chained mbufs; 1400 in 3; 64),
# zero_copy "on", flooded to peer b (vm2), a net_ring (echo dropped as spoofed) and a net_pcap;
# b sends numbered frames back to a. One second into the run a takes 128 MB of new hugepage
# memory as a new mempool (ferry-vpeer --grow-at): the EAL maps more pages, virtio-user pauses
# its rings, sends ferry a new memory table and resumes them, and every frame a builds from then
# on lives in memory the old table did not have. Proves:
#   - ferryd saw the change while traffic ran ("guest memory table changed: remapped" after a's
#     "memory grown" line) and a really sent most frames from the new memory (tx_from_grown);
#   - no descriptor was refused (bad_descriptors all 0: every address of the new memory
#     translated through ferry's new map), no mbuf shortage, exact lent/copied counts;
#   - every frame of a reached b (zero loss, none corrupted, duplicated or reordered) and the
#     capture (every frame byte for byte valid, `ferry-vpeer --check-pcap`);
#   - b -> a: the frames ferry could not deliver while a's rings were paused (not_ready drops
#     at vm1) are the only loss, counted exactly, and bounded (MAX_RX_LOSS, default 100; the
#     number is printed);
#   - ferryd exits 0 on SIGTERM.
set -u
export PEER_MEM=${PEER_MEM:-64}   # the guests' memory all in the first table (see vpeer_lib.sh)
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init zc_memtable

MA=52:54:00:00:74:01
MB=52:54:00:00:74:02
SIZES=1400,600/12,1400/3,64
PER_SIZE=5000
COUNT=$(( 4 * PER_SIZE ))
RATE=8000
B_COUNT=15000
B_RATE=5000
MAX_RX_LOSS=${MAX_RX_LOSS:-100}
export T_EAL='"--iova-mode=va"' T_ZC=on


t_config "$(t_port vm1 server $MA 10)" "$(t_port vm2 server $MB 10)" \
	 "$(t_dpdk_port ring net_ring0 10)" "$(t_dpdk_port pcap "net_pcap0,tx_pcap=$T_DIR/a.pcap" 10)"
ferryd_start
ferryd_wait_ready 15
wait_socket "$T_DIR/vm1.sock" 5
wait_socket "$T_DIR/vm2.sock" 5

# (the peers take 64 MB at start, PEER_MEM: a's 128 MB more cannot come from there)
peer_start a "$T_DIR/vm1.sock" 1 client --mac $MA --sync-mac $MB --count $COUNT --rate $RATE \
	--sizes $SIZES --duration 0 --grow-at 1 --grow-mb 128 --progress 100
peer_start b "$T_DIR/vm2.sock" 1 client --mac $MB --peer $MA --sync --count $B_COUNT --rate $B_RATE \
	--duration 0 --progress 100
peer_wait_link a 10
peer_wait_link b 10
# (with memory taken at start there are no remaps of start-up; count from here anyway) a grows
# its memory one second into its run
peers_wait_progress tx 1000 10 a >/dev/null || t_fail "a is not sending"
remaps_before=$(grep -c "port vm1: guest memory table changed: remapped" "$FERRYD_LOG")
for _ in $(seq 100); do
	grep -q "vpeer: memory grown" "$T_DIR/a.log" && break
	sleep 0.1
done
grep -q "vpeer: memory grown" "$T_DIR/a.log" || t_fail "a did not grow its memory"
t_log "a: $(grep 'vpeer: memory grown' "$T_DIR/a.log")"
ferryd_wait_log "port vm1: guest memory table changed: remapped" 5
for _ in $(seq 50); do
	[ "$(grep -c "port vm1: guest memory table changed: remapped" "$FERRYD_LOG")" -gt "$remaps_before" ] && break
	sleep 0.1
done
remaps=$(( $(grep -c "port vm1: guest memory table changed: remapped" "$FERRYD_LOG") - remaps_before ))
[ "$remaps" -gt 0 ] || t_fail "ferryd did not remap vm1's memory after a grew it"
t_log "ferryd remapped vm1's memory $remaps time(s) during the traffic"
peers_wait_value tx $COUNT 30 a || t_fail "a sent only $(peer_progress a tx) of $COUNT frames in 30 s"
peers_wait_value tx $B_COUNT 30 b || t_fail "b sent only $(peer_progress b tx) of $B_COUNT frames in 30 s"
peers_wait_value rx_test $COUNT 10 b   # then let the last ones arrive (checked below)
peers_wait_value rx_test $(( B_COUNT - MAX_RX_LOSS )) 10 a
peer_finish a b

check_sent_all a $COUNT
check_sent_all b $B_COUNT
grown=$(rj a .tx_from_grown)
t_log "a: $grown of $COUNT frames built in the new memory (grown at $(rj a .grown_at_ms) ms)"
[ "$grown" -ge $(( COUNT / 4 )) ] || t_fail "only $grown of a's frames came from the new memory"
check_flow a b exact
check_flow b a
ferryd_port_stat vm1 .zero_copy > "$T_DIR/zc.json"
zc() { jq -cr "$1" "$T_DIR/zc.json"; }
t_log "vm1 zero_copy: $(cat "$T_DIR/zc.json")"
ann=$(rj a .announces)
check_eq "bad descriptors" "$(zc '[.bad_descriptors[]] | add')" 0
check_eq "no_mbuf" "$(zc .no_mbuf)" 0
check_eq "frames lent (all but the 64-byte ones)" "$(zc .lent)" $(( 3 * PER_SIZE ))
check_eq "frames copied (64-byte ones and $ann announces)" "$(zc .copied)" $(( PER_SIZE + ann ))
check_eq "copy reasons other than small" "$(zc '.copied - .copy_reasons.small')" 0
# b -> a: frames ferry could not deliver while a's rings were paused
lost=$(( $(rj b .tx) - $(sender_val a "$(rj b .id)" rx) ))
not_ready=$(ferryd_port_stat vm1 .drops.not_ready)
tx_full=$(ferryd_port_stat vm1 .drops.tx_full)
t_log "b -> a across the table change: lost $lost; vm1 drops not_ready $not_ready, tx_full $tx_full"
[ "$lost" -le "$MAX_RX_LOSS" ] || t_fail "b -> a lost $lost frames (more than $MAX_RX_LOSS)"
[ "$lost" -le $(( not_ready + tx_full )) ] || t_fail "b -> a lost $lost frames, ferryd accounts for $(( not_ready + tx_full ))"
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"

"$VPEER" --check-pcap "$T_DIR/a.pcap" --sizes $SIZES --report "$T_DIR/pcap.json" \
	> "$T_DIR/pcapcheck.log" 2>&1 || t_fail "ferry-vpeer --check-pcap a.pcap failed"
pc() { jq -cr "$1" "$T_DIR/pcap.json"; }
id=$(rj a .id)
t_log "a.pcap: $(pc .pcap) a: $(pc ".senders[\"$id\"]")"
check_eq "a.pcap: valid frames of a" "$(pc ".senders[\"$id\"].rx")" $COUNT
check_eq "a.pcap: duplicates" "$(pc ".senders[\"$id\"].dup")" 0
check_eq "a.pcap: corrupted, truncated or wrong-length frames" "$(pc '.rx_bad + .pcap.truncated + .pcap.wrong_size + .rx_other')" 0
t_pass "memory table changed mid-traffic ($remaps remap(s)), $grown frames from the new memory; a -> b and capture: $COUNT frames intact, zero loss; b -> a lost $lost"
