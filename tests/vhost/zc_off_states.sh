#!/usr/bin/env bash
# zc_off_states.sh — when zero-copy is not used, and why (port.stats zero_copy.state).
#
# Two guests exchange 1400-byte frames both ways (a on vm1, b on vm2, same VLAN).
#   1. ferryd with --iova-mode=va; vm1 zero_copy "off", vm2 "on". vm1: state "off", nothing lent
#      or copied by ferry's dequeue (rte_vhost reads its ring); vm2: state "active", b's frames
#      lent — until, halfway, `port.set vm2 zero_copy off` at runtime: from then on b's frames
#      are copied (copy_reasons.off), lent + copied-for-off == b's frames. Zero loss both ways.
#   2. ferryd without --iova-mode=va (this host's EAL picks IOVA-as-PA), both ports "on": state
#      "iova_pa", nothing lent, zero loss. (Should the EAL pick VA by itself, the state must be
#      "active" instead: the check follows the mode ferryd's EAL reports.)
set -u
export PEER_MEM=${PEER_MEM:-64}   # the guests' memory all in the first table (see vpeer_lib.sh)
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init zc_off_states

MA=52:54:00:00:75:01
MB=52:54:00:00:75:02
COUNT=20000
RATE=8000

port_zc() {   # port_zc NAME MODE: a vhostuser port with its own zero_copy mode
	T_ZC=$2 t_port "$1" server "$3" 10
}
exchange() {   # exchange TAG [HALFWAY_CMD...]: a<->b, COUNT frames each way
	local tag=$1
	shift
	peer_start "a$tag" "$T_DIR/vm1.sock" 1 client --mac $MA --peer $MB --count $COUNT --rate $RATE \
		--size 1400 --duration 0 --sync --progress 100
	peer_start "b$tag" "$T_DIR/vm2.sock" 1 client --mac $MB --peer $MA --count $COUNT --rate $RATE \
		--size 1400 --duration 0 --sync --progress 100
	peer_wait_link "a$tag" 10
	peer_wait_link "b$tag" 10
	ferryd_wait_link vm1 up 10
	ferryd_wait_link vm2 up 10
	state1=$(ferryd_port_stat vm1 .zero_copy.state)
	state2=$(ferryd_port_stat vm2 .zero_copy.state)
	if [ $# -gt 0 ]; then
		for _ in $(seq 100); do
			[ "$(peer_progress "b$tag" tx)" -ge $(( COUNT / 2 )) ] && break
			sleep 0.05
		done
		"$@"
	fi
	peers_wait_value tx $COUNT 30 "a$tag" "b$tag" || t_fail "a/b did not send $COUNT frames in 30 s"
	peers_wait_value rx_test $COUNT 10 "a$tag" "b$tag"
	peer_finish "a$tag" "b$tag"
	check_sent_all "a$tag" $COUNT
	check_sent_all "b$tag" $COUNT
	check_flow "a$tag" "b$tag" exact
	check_flow "b$tag" "a$tag" exact
}
# shellcheck disable=SC2317  # called through exchange "$@"
set_vm2_off() {
	ferryd_rpc port.set '{"name":"vm2","zero_copy":"off"}' | jq -e '.zero_copy == "off"' >/dev/null ||
		t_fail "port.set vm2 zero_copy off failed"
	t_log "port.set vm2 zero_copy off at b tx=$(peer_progress b1 tx)"
}

# --- 1. IOVA as VA: "off" vs "on", then "on" switched off at runtime ---
export T_EAL='"--iova-mode=va"'
t_config "$(port_zc vm1 off $MA)" "$(port_zc vm2 on $MB)"
ferryd_start
ferryd_wait_ready 15
wait_socket "$T_DIR/vm1.sock" 5
wait_socket "$T_DIR/vm2.sock" 5
exchange 1 set_vm2_off
check_eq "vm1 (zero_copy off): state" "$state1" off
check_eq "vm2 (zero_copy on): state" "$state2" active
z1=$(ferryd_port_stat vm1 .zero_copy)
z2=$(ferryd_port_stat vm2 .zero_copy)
t_log "vm1: $z1"
t_log "vm2: $z2"
check_eq "vm1: lent" "$(jq .lent <<<"$z1")" 0
check_eq "vm1: copied by ferry's own dequeue" "$(jq .copied <<<"$z1")" 0
check_eq "vm2: mode after port.set" "$(jq -r .mode <<<"$z2")" off
lent=$(jq .lent <<<"$z2")
off=$(jq .copy_reasons.off <<<"$z2")
[ "$lent" -gt 0 ] || t_fail "vm2 lent nothing before port.set"
[ "$off" -gt 0 ] || t_fail "vm2 copied nothing for zero_copy off after port.set"
check_eq "vm2: lent + copied for 'off' (b's test frames)" $(( lent + off )) $COUNT
check_eq "vm2: bad descriptors" "$(jq '[.bad_descriptors[]] | add' <<<"$z2")" 0
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"

# --- 2. no --iova-mode=va ---
export T_EAL=
t_config "$(port_zc vm1 on $MA)" "$(port_zc vm2 on $MB)"
ferryd_start
ferryd_wait_ready 15
wait_socket "$T_DIR/vm1.sock" 5
wait_socket "$T_DIR/vm2.sock" 5
iova=$(sed -n "s/^EAL: Selected IOVA mode '\(.*\)'/\1/p" "$FERRYD_LOG")
want=$([ "$iova" = PA ] && echo iova_pa || echo active)
t_log "ferryd's EAL selected IOVA mode '$iova': expecting state $want"
exchange 2
check_eq "vm1 (zero_copy on, IOVA $iova): state" "$state1" "$want"
check_eq "vm2 (zero_copy on, IOVA $iova): state" "$state2" "$want"
if [ "$want" = iova_pa ]; then
	for p in vm1 vm2; do
		check_eq "$p: lent under IOVA-as-PA" "$(ferryd_port_stat $p .zero_copy.lent)" 0
	done
fi
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "off -> state off; on -> active, $lent lent then $off copied after port.set off; IOVA $iova -> $want; zero loss"
