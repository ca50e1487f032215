#!/usr/bin/env bash
# isolation.sh — guest isolation (issue #17) with real virtio-user guests.
# 1. A stalled guest costs the others nothing: guests a, b, s on VLAN 10; s is stopped (SIGSTOP:
#    it never reads its RX ring again) while a broadcasts 15000 frames at 5 kpps. b receives every
#    one of them (zero loss, in order), none of a's frames is dropped, and s's port counts those it
#    could not take as tx_full (its ring full: dropped, never retried).
# 2. The policer is accurate on a vhostuser port: guest p sends to b at up to 40 kpps with
#    "policer": {"pps": 2000}; over a 2 s window ferry forwards p's frames within 5 % of 2000/s
#    (from ferry's own counters), the rest counted as policer drops.
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init isolation

MA=52:54:00:00:17:01
MB=52:54:00:00:17:02
MS=52:54:00:00:17:03
MP=52:54:00:00:17:04
RATE=5000
COUNT=15000
POLICE=2000

pport=$(t_port p server $MP 10)
pport="${pport%\}},\"policer\":{\"pps\":$POLICE}}"
t_config "$(t_port a server $MA 10)" "$(t_port b server $MB 10)" "$(t_port s server $MS 10)" \
	"$pport"
ferryd_start
ferryd_wait_ready 15
for p in a b s p; do wait_socket "$T_DIR/$p.sock" 5; done

# --- 1. the stalled guest ---
PEER_QSIZE=256 peer_start s "$T_DIR/s.sock" 1 client --mac $MS --count 0 --duration 30
peer_wait_link s 10
ferryd_wait_link s up 10
kill -STOP "${PEER_PID[s]}"
t_log "guest s stopped (SIGSTOP): it reads nothing from now on"
peer_start b "$T_DIR/b.sock" 1 client --mac $MB --count 0 --sync-mac $MA --duration 10
peer_start a "$T_DIR/a.sock" 1 client --mac $MA --peer ff:ff:ff:ff:ff:ff --sync-mac $MB \
	--count $COUNT --rate $RATE --duration 8
peer_wait_exit a 25
peer_wait_exit b 10
check_sent_all a $COUNT
check_flow a b exact
full=$(ferryd_port_stat s .drops.tx_full)
adrops=$(ferryd_port_stat a '[.rxq[].drops] | add')   # of the frames a sent
t_log "stalled guest s: tx_full $full; a's drops $adrops"
[ "$full" -ge $((COUNT / 2)) ] || t_fail "s's port counted only $full tx_full drops"
[ "$adrops" = 0 ] || t_fail "a's port dropped $adrops of a's frames: $(ferryd_port_stat a .drops)"
kill -CONT "${PEER_PID[s]}"
kill -TERM "${PEER_PID[s]}" 2>/dev/null

# --- 2. the policer on a vhostuser port ---
peer_start b2 "$T_DIR/b.sock" 1 client --mac $MB --count 0 --duration 8
peer_wait_link b2 10
peer_start p "$T_DIR/p.sock" 1 client --mac $MP --peer $MB --count 400000 --rate 40000 \
	--duration 7
peer_wait_link p 10
sleep 1.5
fwd() {   # now_ns forwarded_frames_of_p
	local t0 s t1
	t0=$(date +%s%N)
	s=$(ferryd_port_stat p '.rx_packets - .drops_total')
	t1=$(date +%s%N)
	echo "$(( (t0 + t1) / 2 )) $s"
}
read -r t0 f0 < <(fwd)
r0=$(ferryd_port_stat p .rx_packets)
sleep 2
read -r t1 f1 < <(fwd)
r1=$(ferryd_port_stat p .rx_packets)
rate=$(( (f1 - f0) * 1000000000 / (t1 - t0) ))
offered=$(( (r1 - r0) * 1000000000 / (t1 - t0) ))
t_log "policer $POLICE pps on vhostuser port p: offered ~$offered pps, forwarded $rate pps"
[ "$offered" -ge $((10 * POLICE)) ] || t_fail "p offered only $offered pps (< 10x $POLICE)"
[ $((rate * 100)) -ge $((POLICE * 95)) ] && [ $((rate * 100)) -le $((POLICE * 105)) ] ||
	t_fail "policer: $rate pps forwarded for $POLICE"
[ "$(ferryd_port_stat p .drops.policer)" -gt 0 ] || t_fail "no policer drops counted"
peer_wait_exit p 20
peer_wait_exit b2 10

ferryd_alive
ferryd_stop TERM 5
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "stalled guest: b lost nothing, s tx_full $full; vhostuser policer $POLICE pps -> $rate"
