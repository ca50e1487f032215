#!/usr/bin/env bash
# vlan_isolation.sh — four access ports: a, c on VLAN 10; b, d on VLAN 20 (server mode, MACs pinned).
# a sends broadcast frames, b sends unicast to a's MAC. Proves: a's broadcasts reach c (all of
# them) and never b or d; b's frames never reach a or c although they are addressed to a's MAC
# (a's MAC is pinned in VLAN 10 only), they are flooded as unknown unicast within VLAN 20 to d;
# frames leave access ports untagged.
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init vlan_isolation

MA=52:54:00:00:05:01
MB=52:54:00:00:05:02
MC=52:54:00:00:05:03
MD=52:54:00:00:05:04
RATE=5000
COUNT=10000

t_config "$(t_port a server $MA 10)" "$(t_port b server $MB 20)" \
	 "$(t_port c server $MC 10)" "$(t_port d server $MD 20)"
ferryd_start
ferryd_wait_ready 15
for p in a b c d; do wait_socket "$T_DIR/$p.sock" 5; done

# Receivers sync with their VLAN's sender (announces are flooded within the VLAN only).
peer_start c "$T_DIR/c.sock" 1 client --mac $MC --count 0 --sync-mac $MA --duration 5
peer_start d "$T_DIR/d.sock" 1 client --mac $MD --count 0 --sync-mac $MB --duration 5
peer_start a "$T_DIR/a.sock" 1 client --mac $MA --peer ff:ff:ff:ff:ff:ff --sync-mac $MC \
	--count $COUNT --rate $RATE --duration 4
peer_start b "$T_DIR/b.sock" 1 client --mac $MB --peer $MA --sync-mac $MD \
	--count $COUNT --rate $RATE --duration 4
for p in a b c d; do peer_wait_exit $p 25; done

for p in a b c d; do
	[ "$(rj $p .synced_after_ms)" -ge 0 ] || t_fail "peer $p never heard the other peer of its VLAN"
	[ "$(rj $p .rx_tagged)" = 0 ] || t_fail "peer $p (access port) received $(rj $p .rx_tagged) tagged frames"
	[ "$(rj $p .rx_bad)" = 0 ] || t_fail "peer $p received $(rj $p .rx_bad) corrupted frames"
done
check_sent_all a $COUNT
check_sent_all b $COUNT
check_flow a c exact                       # VLAN 10 broadcast: all of it
check_nothing_from b a                     # no VLAN 10 broadcast in VLAN 20
check_nothing_from d a
check_nothing_from a b                     # VLAN 20 frames to a's MAC: not to a ...
check_nothing_from c b                     # ... nor flooded into VLAN 10
fl=$(sender_val d "$(rj b .id)" foreign)   # flooded (unknown unicast) within VLAN 20
t_log "b -> d (flooded unknown unicast, not addressed to d): $fl of $(rj b .tx)"
[ "$fl" = "$(rj b .tx)" ] || t_fail "d got $fl of b's $(rj b .tx) frames flooded in VLAN 20"

ferryd_alive
ferryd_stop TERM 5
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "no frame crossed VLANs 10/20"
