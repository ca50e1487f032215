#!/usr/bin/env bash
# second_connection.sh — a port serves one guest: further vhost-user connections on its socket
# are refused while the guest is connected, and cannot disturb it (security issue #21 item 6).
#
# rte_vhost's server socket accepts any number of connections. vm1 (server mode, zero_copy on:
# its guest's memory is mapped by ferry) has guest a, exchanging frames with c (vm2) both ways.
# While they run:
#   - 25 times, a bare vhost-user client connects to vm1's socket and asks GET_FEATURES: ferryd
#     must close it unanswered (and log the refusal);
#   - twice, a complete second guest (ferry-vpeer a_dup, same socket) tries to start: refused,
#     its device never starts.
# Proves: every second connection is refused (no answer; ferryd logs each one and counts it in
# vm1's port.stats connections_refused, which port.stats.clear resets), a <-> c lose
# nothing and a's ring never stalls (a leaving second connection used to clear the port's ring
# bits and overwrite its device, zero-copy memory map included); vm1's zero-copy counters end
# with nothing in flight or held; once a has left, a new guest on vm1 is accepted and forwards
# again; ferryd stays up and exits 0.
set -u
export PEER_MEM=${PEER_MEM:-64}
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init second_connection

MA=52:54:00:00:75:01
MC=52:54:00:00:75:02
N=${N_FRAMES:-40000}
RATE=5000
PROBES=${PROBES:-25}
export T_EAL='"--iova-mode=va"' T_ZC=on

# vhu_probe SOCK N: N bare vhost-user connections, one GET_FEATURES each; prints
# "refused R answered A" (refused: closed by the server without an answer).
vhu_probe() {
	python3 - "$1" "$2" <<-'PY'
	import socket, struct, sys, time
	path, n = sys.argv[1], int(sys.argv[2])
	refused = answered = 0
	for _ in range(n):
	    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	    s.settimeout(2)
	    s.connect(path)
	    try:
	        s.sendall(struct.pack("<III", 1, 1, 0))   # GET_FEATURES, version 1, no payload
	        r = s.recv(64)
	        if r:
	            answered += 1
	        else:
	            refused += 1
	    except (ConnectionResetError, BrokenPipeError):
	        refused += 1
	    except socket.timeout:
	        answered += 1   # kept open: accepted, only slow
	    s.close()
	    time.sleep(0.05)
	print("refused %d answered %d" % (refused, answered))
	PY
}

t_config "$(t_port vm1 server $MA 10)" "$(t_port vm2 server $MC 10)"
ferryd_start
ferryd_wait_ready 15
for p in vm1 vm2; do wait_socket "$T_DIR/$p.sock" 5; done

peer_start a "$T_DIR/vm1.sock" 1 client --mac $MA --peer $MC --sync --count $N --rate $RATE \
	--size 1400 --duration 0 --progress 100
peer_start c "$T_DIR/vm2.sock" 1 client --mac $MC --peer $MA --sync --count $N --rate $RATE \
	--size 1400 --duration 0 --progress 100
peers_wait_progress rx_test 1000 20 a c >/dev/null || t_fail "a <-> c traffic did not start"
[ "$(ferryd_port_stat vm1 .zero_copy.state)" = active ] ||
	t_fail "vm1 zero-copy state $(ferryd_port_stat vm1 .zero_copy.state), expected active"
t_log "a <-> c forwarding; vm1 zero-copy active"

# --- bare second connections ---
res=$(vhu_probe "$T_DIR/vm1.sock" "$PROBES") || t_fail "probe failed: $res"
t_log "$PROBES bare second connections on vm1: $res"
[ "$res" = "refused $PROBES answered 0" ] || t_fail "second connections not all refused: $res"
ferryd_alive

# --- complete second guests ---
for i in 1 2; do
	peer_start a_dup$i "$T_DIR/vm1.sock" 1 client --mac $MA --count 0 --duration 2 --wait-link 3
	for _ in $(seq 150); do
		kill -0 "${PEER_PID[a_dup$i]}" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "${PEER_PID[a_dup$i]}" 2>/dev/null && t_fail "second guest a_dup$i still running after 15 s"
	wait "${PEER_PID[a_dup$i]}" 2>/dev/null
	grep -q "vpeer: link up" "$T_DIR/a_dup$i.log" && t_fail "second guest a_dup$i got a link on vm1"
	t_log "second guest a_dup$i: refused ($(grep -m1 -iE 'fail|error' "$T_DIR/a_dup$i.log" | cut -c1-100))"
done
peers_wait_progress rx_test 1000 10 a c >/dev/null || t_fail "a <-> c stalled after the second connections"

n_ref=$(grep -c "second vhost-user connection .* refused" "$FERRYD_LOG")
[ "$n_ref" -ge $(( PROBES + 2 )) ] || t_fail "ferryd logged $n_ref refusals, expected at least $(( PROBES + 2 ))"
t_log "ferryd logged $n_ref refused second connections: $(grep -m1 "second vhost-user connection" "$FERRYD_LOG" | sed 's/.*port /port /')"

# --- port.stats counts them (connections_refused), port.stats.clear resets it ---
n_cnt=$(ferryd_port_stat vm1 .connections_refused)
[ "$n_cnt" = "$n_ref" ] || t_fail "vm1 connections_refused $n_cnt, ferryd refused $n_ref"
[ "$(ferryd_port_stat vm2 .connections_refused)" = 0 ] ||
	t_fail "vm2 connections_refused $(ferryd_port_stat vm2 .connections_refused), expected 0"
ferryd_rpc port.stats.clear '{"name":"vm1"}' >/dev/null
[ "$(ferryd_port_stat vm1 .connections_refused)" = 0 ] ||
	t_fail "vm1 connections_refused $(ferryd_port_stat vm1 .connections_refused) after port.stats.clear"
res=$(vhu_probe "$T_DIR/vm1.sock" 3) || t_fail "probe failed: $res"
[ "$res" = "refused 3 answered 0" ] || t_fail "second connections after the clear not all refused: $res"
[ "$(ferryd_port_stat vm1 .connections_refused)" = 3 ] ||
	t_fail "vm1 connections_refused $(ferryd_port_stat vm1 .connections_refused) after 3 more, expected 3"
t_log "vm1 connections_refused: $n_cnt (= refusals logged), 0 after port.stats.clear, 3 after 3 more"

peers_wait_value tx $N 30 a c || t_fail "a/c did not send their $N frames"
peer_finish a c
check_flow a c exact
check_flow c a exact
for p in a c; do
	[ "$(rj $p '.link_events | length')" -le 1 ] || t_fail "peer $p saw link events $(rj $p .link_events)"
	[ "$(rj $p .rx_max_gap_ms)" -lt 1000 ] || t_fail "peer $p: traffic stopped for $(rj $p .rx_max_gap_ms) ms"
done
ferryd_wait_link vm1 down 10
ferryd_wait_stat vm1 '.zero_copy.inflight == 0 and .zero_copy.held == 0' 5
t_log "vm1 zero_copy after a left: $(ferryd_port_stat vm1 '.zero_copy | {state, lent, inflight, held, forced_returns}')"

# --- the port is free again: a new guest is accepted ---
peer_start a2 "$T_DIR/vm1.sock" 1 client --mac $MA --peer $MC --count 2000 --rate $RATE --size 1400 \
	--duration 3
peer_wait_link a2 15
peer_wait_exit a2 20
[ "$(rj a2 .tx)" -gt 0 ] || t_fail "a2 sent nothing on vm1"
ferryd_wait_link vm1 down 10
ferryd_alive
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "$PROBES bare + 2 complete second connections refused; a <-> c $N + $N frames, zero loss; a new guest accepted after a left"
