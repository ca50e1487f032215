#!/usr/bin/env bash
# zc_inflight.sh — the per-queue in-flight bound of zero-copy: a NIC that never completes can hold
# at most half of a guest's TX ring; beyond that ferry copies, and the guest keeps sending at
# full rate with nothing lost.
#
# The setup is deterministic: a "black hole" NIC. ferryd runs two PMDs (lcores 1 and 2, both on
# CPU 1) and a net_ring port "hole" with 1 rx queue and 2 tx queues. A net_ring tx queue k
# enqueues into the device's ring k and rx queue k dequeues from ring k; ferry gives PMD i tx queue
# i % 2, so what PMD 1 sends to the hole lands in ring 1, which no rx queue reads: the mbufs stay
# there, and so do the guest buffers lent in them. (The idea of a guest with 4 queues outrunning
# one rx burst of a looped-back ring does not make the ring grow on its own: ferry's PMD drains
# it faster than a guest fills its TX rings, unless the PMD happens to be descheduled.)
# Rx queues go to the least-loaded PMD: the hole's rx queue is PMD 0's at start, so the first
# guest queue to appear — vm1's, peer a — is PMD 1's (checked in ferryd's log before b starts).
# Peer a (one queue pair, ring size 1024: bound 512) broadcasts 6000 frames of 1400 bytes,
# zero_copy "on"; they flood to the hole and to vm2 (peer b, receive only).
# Proves:
#   - exactly 512 (= ring size / 2) frames are lent and stay in flight (inflight == inflight_max
#     == 512, forced_returns 0 while a is connected); every later frame is copied with
#     copy_reasons.inflight_bound (6000 - 512 of them), none for any other reason;
#   - the hole took 1023 frames (its ring's capacity) and the rest were tx_full drops there;
#   - a sent all 6000 frames (its TX ring never ran dry) and b received every one of them intact,
#     in order, once: zero loss at the receiver;
#   - when a leaves, the 512 buffers still at the hole are handed back (forced_returns 512,
#     inflight 0), and ferryd exits 0 on SIGTERM with them still in the dead ring.
set -u
export PEER_MEM=${PEER_MEM:-64}   # the guests' memory all in the first table (see vpeer_lib.sh)
if [ -z "${ZC_EARLY:-}" ]; then   # zc_return.sh sets ZC_EARLY: ferryd's default return time
	export FERRY_ZC_RETURN_MS=600000   # lent buffers stay with the hole (no early return)
else
	unset FERRY_ZC_RETURN_MS
fi
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init "${ZC_NAME:-zc_inflight}"

MA=52:54:00:00:72:01
MB=52:54:00:00:72:02
QSIZE=1024
BOUND=$(( QSIZE / 2 ))
HOLE_CAP=1023          # a net_ring ring: 1024 slots, one always free
COUNT=6000
RATE=6000
export T_PMDS="[1, 2]" T_EAL='"--lcores", "0@0,1@1,2@1", "--iova-mode=va"' T_ZC=on

t_config "$(t_dpdk_port hole net_ring0 10 '"rxq":1,"txq":2')" \
	 "$(t_port vm1 server $MA 10)" "$(t_port vm2 server $MB 10)"
ferryd_start
ferryd_wait_ready 15
ferryd_wait_log "pmd 0 \(lcore 1\) polls port hole queue 0" 5
wait_socket "$T_DIR/vm1.sock" 5
wait_socket "$T_DIR/vm2.sock" 5

# a first: its queue must be PMD 1's (the one whose tx queue to the hole is never read). Both
# peers --sync (a waits for b's announce), so a sends nothing before b is there.
PEER_QSIZE=$QSIZE peer_start a "$T_DIR/vm1.sock" 1 client --mac $MA --count $COUNT --rate $RATE \
	--size 1400 --duration 0 --progress 200 --sync-mac $MB --wait-link 20
peer_wait_link a 15
ferryd_wait_log "pmd [01] \(lcore [12]\) polls port vm1 queue 0" 10
grep -q "pmd 1 (lcore 2) polls port vm1 queue 0" "$FERRYD_LOG" ||
	t_fail "vm1's queue went to PMD 0, not PMD 1: $(grep 'polls port' "$FERRYD_LOG" | tr '\n' ';')"
peer_start b "$T_DIR/vm2.sock" 1 client --mac $MB --peer $MA --sync --count 0 --duration 0 --progress 200
t_log "a's queue is PMD 1's; b started"

# b receives all of a's frames
for _ in $(seq 200); do
	[ "$(peer_progress b rx_test)" -ge $COUNT ] && break
	ferryd_alive
	sleep 0.1
done
[ "$(peer_progress b rx_test)" -ge $COUNT ] || t_fail "b received only $(peer_progress b rx_test) of a's $COUNT frames"
ferryd_port_stat vm1 .zero_copy > "$T_DIR/zc.json"
zc() { jq -cr "$1" "$T_DIR/zc.json"; }
t_log "vm1 zero_copy with a connected: $(cat "$T_DIR/zc.json")"
t_log "hole: $(ferryd_port_stat hole '{tx_packets, drops}')"
if [ -n "${ZC_EARLY:-}" ]; then
	check_eq "vm1 zero_copy.state" "$(zc .state)" active
	[ "$(zc .lent)" -gt $BOUND ] || t_fail "only $(zc .lent) frames lent: buffers did not come back early to be lent again"
	[ "$(zc .inflight_max)" -le $BOUND ] || t_fail "inflight_max $(zc .inflight_max) above the bound $BOUND"
	[ "$(zc .returned_early)" -gt 0 ] || t_fail "no buffer was returned early"
	check_eq "bad descriptors" "$(zc '[.bad_descriptors[]] | add')" 0
	check_eq "no_mbuf" "$(zc .no_mbuf)" 0
	ferryd_wait_stat vm1 '.zero_copy.inflight == 0 and .zero_copy.held > 0' 1
	t_log "a done sending: $(ferryd_port_stat vm1 '.zero_copy | {lent, inflight, held, returned_early, forced_returns}')"
	peer_finish a b
	check_sent_all a $COUNT
	check_flow a b exact
	ferryd_wait_link vm1 down 10
	check_eq "forced returns when a left" "$(ferryd_port_stat vm1 .zero_copy.forced_returns)" 0
	ferryd_alive
	ferryd_stop TERM 10
	[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
	t_pass "$(zc .lent) frames lent, at most $(zc .inflight_max) at once, $(zc .returned_early) returned early, all back within 1 s of the last send, zero loss at b"
fi
check_eq "vm1 zero_copy.state" "$(zc .state)" active
check_eq "frames lent" "$(zc .lent)" $BOUND
check_eq "lent buffers in flight" "$(zc .inflight)" $BOUND
check_eq "inflight_max (ring size $QSIZE / 2)" "$(zc .inflight_max)" $BOUND
check_eq "copies for the in-flight bound" "$(zc .copy_reasons.inflight_bound)" $(( COUNT - BOUND ))
check_eq "bad descriptors" "$(zc '[.bad_descriptors[]] | add')" 0
check_eq "forced returns while a is connected" "$(zc .forced_returns)" 0
check_eq "no_mbuf" "$(zc .no_mbuf)" 0
peer_finish a b
# a's announces (60-byte ARPs, copied as small) went the same way as its test frames
ann=$(rj a .announces)
check_eq "frames copied (test frames beyond the bound + $ann announces)" "$(zc .copied)" $(( COUNT - BOUND + ann ))
check_eq "copies of small frames (a's announces)" "$(zc .copy_reasons.small)" "$ann"
check_eq "other copy reasons" "$(zc '[.copy_reasons | to_entries[] | select(.key != "inflight_bound" and .key != "small") | .value] | add')" 0
# PMD 1 sends on the hole's tx queue 1: it took as much as its ring holds, the rest was tx_full
check_eq "frames the hole's dead ring took" "$(ferryd_port_stat hole '.txq[] | select(.queue == 1) | .packets')" $HOLE_CAP
check_eq "tx_full drops at the hole's dead ring" "$(ferryd_port_stat hole '.txq[] | select(.queue == 1) | .drops')" $(( COUNT + ann - HOLE_CAP ))

check_sent_all a $COUNT
check_flow a b exact
ferryd_wait_link vm1 down 10
ferryd_wait_stat vm1 '.zero_copy.forced_returns == '$BOUND' and .zero_copy.inflight == 0' 5
t_log "a left: $(ferryd_port_stat vm1 '.zero_copy | {lent, inflight, forced_returns}')"
ferryd_alive
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "$BOUND of $COUNT frames lent (= ring/2), $(( COUNT - BOUND )) copied at the bound, zero loss at b, all $BOUND handed back when a left"
