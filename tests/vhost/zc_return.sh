#!/usr/bin/env bash
# zc_return.sh — lent buffers a NIC sits on go back to the guest after FERRY_ZC_RETURN_MS (10 ms):
# the black-hole NIC of zc_inflight.sh (a net_ring tx ring nobody reads), ferryd's default return
# time. Drivers that free transmitted mbufs only when their ring wraps (igb, ...) behave like it
# when traffic stops.
# Proves: peer a (ring 1024, bound 512) broadcasts 6000 frames of 1400 B at 6000 pps while the hole
# keeps every mbuf it takes: more than the bound is lent over the run (buffers come back early and
# are lent again), never more than the bound at once (inflight_max <= 512), returned_early > 0;
# once a stops sending, every buffer is back with the guest within 1 s (inflight 0) although the
# hole still holds mbufs (held > 0) — nothing forced when a leaves; b receives all 6000 frames
# intact, in order, once; ferryd exits 0 with the hole's mbufs still out.
set -u
export PEER_MEM=${PEER_MEM:-64}   # the guests' memory all in the first table (see vpeer_lib.sh)
unset FERRY_ZC_RETURN_MS
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init zc_return

MA=52:54:00:00:73:01
MB=52:54:00:00:73:02
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
check_eq() { [ "$2" = "$3" ] || t_fail "$1: $2, expected $3"; }
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
