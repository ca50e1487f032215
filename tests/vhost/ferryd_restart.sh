#!/usr/bin/env bash
# ferryd_restart.sh — ferryd restarted under traffic, the guests untouched: client mode (the peers
# listen, like QEMU with server=on), ferryd stopped with SIGTERM and restarted, then killed with
# SIGKILL and restarted. Proves: the guests reconnect by themselves and traffic resumes both ways
# within RESUME_LIMIT_MS (the measured times are printed), no frame is corrupted, a clean stop exits
# with status 0, and a restart after SIGKILL works (stale control socket).
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init ferryd_restart

M1=52:54:00:00:06:01
M2=52:54:00:00:06:02
RATE=10000
RESUME_LIMIT_MS=${RESUME_LIMIT_MS:-10000}

t_config "$(t_port vm1 client $M1 10)" "$(t_port vm2 client $M2 10)"
run_forever=(--count 100000000 --rate "$RATE" --duration 0 --progress 100 --sync --wait-link 20)
peer_start a "$T_DIR/vm1.sock" 2 server --mac $M1 --peer $M2 "${run_forever[@]}"
peer_start b "$T_DIR/vm2.sock" 2 server --mac $M2 --peer $M1 "${run_forever[@]}"
wait_socket "$T_DIR/vm1.sock" 10
wait_socket "$T_DIR/vm2.sock" 10
ferryd_start
ferryd_wait_ready 15
peers_wait_progress rx_test 3000 15 a b >/dev/null || t_fail "no traffic both ways before the restarts"
t_log "traffic flowing both ways"

results=
for sig in TERM KILL; do
	kill_ns=$(date +%s%N)
	ferryd_stop $sig 5
	if [ $sig = TERM ] && [ "$FERRYD_RC" != 0 ]; then
		t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
	fi
	ferryd_start
	ferryd_wait_ready 15
	ready_ms=$(( ($(date +%s%N) - kill_ns) / 1000000 ))
	peers_wait_progress rx_test 200 $(( RESUME_LIMIT_MS / 1000 + 1 )) a b >/dev/null ||
		t_fail "traffic did not resume after SIG$sig + restart"
	resume_ms=$(( ($(date +%s%N) - kill_ns) / 1000000 ))
	t_log "SIG$sig: ferryd ready again after $ready_ms ms, traffic both ways after $resume_ms ms"
	[ "$resume_ms" -le "$RESUME_LIMIT_MS" ] ||
		t_fail "SIG$sig: traffic resumed only after $resume_ms ms (limit $RESUME_LIMIT_MS)"
	results="$results SIG$sig:${resume_ms}ms"
done
peers_wait_progress rx_test 5000 10 a b >/dev/null || t_fail "traffic stalled after the second restart"
peer_finish a b

for p in a b; do
	t_log "$p: link events $(rj $p '.link_events|@json'), rx gaps $(rj $p '.rx_gaps|@json')"
	[ "$(rj $p .link_up_at_end)" = true ] || t_fail "peer $p: link down at the end"
	[ "$(rj $p '[.link_events[] | select(.up == 0)] | length')" -ge 2 ] ||
		t_fail "peer $p did not see two disconnects"
done
check_flow_restart() {   # loss and duplicates around a restart are expected; corruption is not
	local tx=$1 rx=$2 id sent got
	id=$(rj "$tx" .id); sent=$(rj "$tx" .tx); got=$(sender_val "$rx" "$id" rx)
	t_log "$tx -> $rx: sent $sent, received $got (lost $((sent - got)) across 2 restarts), dup $(sender_val "$rx" "$id" dup), ooo $(sender_val "$rx" "$id" ooo)"
	[ "$(rj "$rx" .rx_bad)" = 0 ] || t_fail "$rx received $(rj "$rx" .rx_bad) corrupted frames"
	[ "$got" -gt 0 ] || t_fail "$tx -> $rx: nothing received"
}
check_flow_restart a b
check_flow_restart b a
ferryd_stop TERM 5
t_pass "traffic resumed:$results (peer-measured max rx gap a $(rj a .rx_max_gap_ms) ms, b $(rj b .rx_max_gap_ms) ms)"
