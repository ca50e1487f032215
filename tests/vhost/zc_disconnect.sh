#!/usr/bin/env bash
# zc_disconnect.sh — guests leaving while ferry has lent their buffers to a NIC that never gives
# them back, and a guest whose switch port is deleted and re-added under it.
#
# Lent buffers are held deterministically by the "black hole" of zc_inflight.sh: two PMDs
# (lcores 1, 2 on CPU 1), a net_ring port "hole" with 1 rx and 2 tx queues; what PMD 1 sends
# to it stays in the ring of tx queue 1 forever. vm1 is a client-mode port (the guests a1, a2, a3
# listen, as QEMU with server=on) whose queue is PMD 1's (checked in ferryd's log); its guests
# (ring size 256: in-flight bound 128) broadcast 1400-byte frames, zero_copy "on", flooded to the
# hole and to vm2 (peer b, receive only). Meanwhile c (vm3) and d (vm4), VLAN 20, zero_copy "on",
# exchange 3 kpps both ways the whole time.
#   1. a1 sends 200 frames (128 lent and stuck in the hole, 72 copied), then is killed (SIGKILL).
#   2. a2 connects to vm1 (a new guest, ring indexes from 0), sends 200, is stopped with SIGTERM
#      (virtio-user stops its rings: a clean driver shutdown).
#   3. a3 connects and sends 12000 at 3 kpps; mid-traffic, with 128 of its buffers stuck in the
#      hole, vm1 is deleted (port.del) and added again (port.add) while a3 keeps running: ferry
#      hands every descriptor back and connects to a3 again; rte_vhost resumes a3's ring from
#      the used index ferry wrote.
# Proves: after each leave (kill, clean stop, port deletion) the buffers in flight are handed back
# (forced_returns grows by exactly the inflight count seen before, inflight returns to 0, lent ==
# returned normally + forced: nothing leaks; ferryd logs the early return); ferryd keeps running;
# c<->d lose nothing; every frame of a1, a2 and a3 reaches b exactly once and in order — for a3
# across the port deletion too, so the ring indexes ferry handed back were exact (a lost used
# entry would resend frames: duplicates; one too many would skip frames: loss); after the hole
# filled, a3's lent frames come back as the hole refuses them (normal returns: inflight stays
# below the bound, nothing forced when a3 stops); ferryd exits 0 on SIGTERM.
set -u
VHOST_TEST_LIMIT=${VHOST_TEST_LIMIT:-120}
export PEER_MEM=${PEER_MEM:-64}   # the guests' memory all in the first table (see vpeer_lib.sh)
export FERRY_ZC_RETURN_MS=600000   # lent buffers stay with the hole (no early return): see zc_return.sh
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init zc_disconnect

MA=52:54:00:00:73:01
MB=52:54:00:00:73:02
MC=52:54:00:00:73:03
MD=52:54:00:00:73:04
QSIZE=256
BOUND=$(( QSIZE / 2 ))
N12=200                # a1 and a2: 128 lent + 72 copied each
N3=12000              # a3: 4 s at 3 kpps (still sending when vm1 is deleted, also on a busy box)
RATE=3000
FOREVER=100000000
export T_PMDS="[1, 2]" T_EAL='"--lcores", "0@0,1@1,2@1", "--iova-mode=va"' T_ZC=on

zcv() { ferryd_port_stat vm1 ".zero_copy.$1"; }

# wait_b_rx N: b's progress shows at least N test frames in total
wait_b_rx() {
	for _ in $(seq 300); do
		[ "$(peer_progress b rx_test)" -ge "$1" ] && return 0
		ferryd_alive
		sleep 0.1
	done
	t_fail "b received $(peer_progress b rx_test) test frames, expected $1"
}

# guest_gone WHAT INFLIGHT FORCED_BEFORE: vm1's guest left with INFLIGHT buffers lent
guest_gone() {
	ferryd_wait_link vm1 down 10
	ferryd_wait_stat vm1 ".zero_copy.inflight == 0 and .zero_copy.forced_returns == $(( $3 + $2 ))" 5
	t_log "$1: $(ferryd_port_stat vm1 '.zero_copy | {lent, inflight, forced_returns}')"
	check_eq "vm1 bad descriptors after $1" "$(ferryd_port_stat vm1 '[.zero_copy.bad_descriptors[]] | add')" 0
	ferryd_alive
	peers_wait_progress rx_test 600 10 c d >/dev/null || t_fail "c/d traffic stalled after $1"
}

t_config "$(t_dpdk_port hole net_ring0 10 '"rxq":1,"txq":2')" \
	 "$(t_port vm1 client $MA 10)" "$(t_port vm2 server $MB 10)" \
	 "$(t_port vm3 server $MC 20)" "$(t_port vm4 server $MD 20)"
ferryd_start
ferryd_wait_ready 15
for p in vm2 vm3 vm4; do wait_socket "$T_DIR/$p.sock" 5; done

# --- 1. a1 (first, so that vm1's queue is PMD 1's), b, then c and d ---
PEER_QSIZE=$QSIZE peer_start a1 "$T_DIR/vm1.sock" 1 server --mac $MA --id 7301 --count $N12 \
	--rate $RATE --size 1400 --duration 0 --sync-mac $MB --wait-link 20
ferryd_wait_log "polls port vm1 queue 0" 20
grep -q "pmd 1 (lcore 2) polls port vm1 queue 0" "$FERRYD_LOG" ||
	t_fail "vm1's queue went to PMD 0: $(grep 'polls port' "$FERRYD_LOG" | tr '\n' ';')"
peer_start b "$T_DIR/vm2.sock" 1 client --mac $MB --peer $MA --sync --count 0 --duration 0 --progress 100
wait_b_rx $N12
peer_start c "$T_DIR/vm3.sock" 1 client --mac $MC --peer $MD --count $FOREVER --rate $RATE --size 1400 --duration 0 --progress 100 --sync
peer_start d "$T_DIR/vm4.sock" 1 client --mac $MD --peer $MC --count $FOREVER --rate $RATE --size 1400 --duration 0 --progress 100 --sync
peers_wait_progress rx_test 1500 15 c d >/dev/null || t_fail "c<->d traffic did not start"
check_eq "a1: lent" "$(zcv lent)" $BOUND
check_eq "a1: in flight at the hole" "$(zcv inflight)" $BOUND
kill -KILL "${PEER_PID[a1]}"; wait "${PEER_PID[a1]}" 2>/dev/null
t_log "a1 killed (SIGKILL) with $BOUND buffers lent"
guest_gone "a1 killed" $BOUND 0
check_eq "lent after a1" "$(zcv lent)" $BOUND
# the hole never gives a buffer back: every one lent so far came back as a forced return
check_eq "forced returns == lent after a1" "$(zcv forced_returns)" "$(zcv lent)"

# --- 2. a2: a new guest on vm1, stopped cleanly ---
rm -f "$T_DIR/vm1.sock"   # a1's socket file (SIGKILL leaves it)
PEER_QSIZE=$QSIZE peer_start a2 "$T_DIR/vm1.sock" 1 server --mac $MA --id 7302 --count $N12 \
	--rate $RATE --size 1400 --duration 0 --wait-link 20
peer_wait_link a2 15
wait_b_rx $(( 2 * N12 ))
check_eq "a2: lent (a1 + a2)" "$(zcv lent)" $(( 2 * BOUND ))
check_eq "a2: in flight at the hole" "$(zcv inflight)" $BOUND
kill -TERM "${PEER_PID[a2]}"; peer_wait_exit a2 10
t_log "a2 stopped (SIGTERM) with $BOUND buffers lent"
guest_gone "a2 stopped" $BOUND $BOUND
check_eq "forced returns == lent after a2" "$(zcv forced_returns)" "$(zcv lent)"

# --- 3. a3: sends across a port.del / port.add of vm1 ---
rm -f "$T_DIR/vm1.sock"
PEER_QSIZE=$QSIZE peer_start a3 "$T_DIR/vm1.sock" 1 server --mac $MA --id 7303 --count $N3 \
	--rate $RATE --size 1400 --duration 0 --wait-link 20 --progress 100
peer_wait_link a3 15
wait_b_rx $(( 2 * N12 + 1000 ))
check_eq "a3: in flight at the hole" "$(zcv inflight)" $BOUND
check_eq "vm1 bad descriptors before port.del" "$(ferryd_port_stat vm1 '[.zero_copy.bad_descriptors[]] | add')" 0
n_warn=$(grep -c "lent buffers were still at the NIC" "$FERRYD_LOG")
check_eq "ferryd's early-return warnings so far" "$n_warn" 2
ferryd_rpc port.del '{"name":"vm1"}' > "$T_DIR/port-del.json"
jq -e '.deleted == true' "$T_DIR/port-del.json" >/dev/null || t_fail "port.del vm1: $(cat "$T_DIR/port-del.json")"
if [ "$(grep -c "lent buffers were still at the NIC" "$FERRYD_LOG")" != $(( n_warn + 1 )) ] ||
   ! grep "lent buffers were still at the NIC" "$FERRYD_LOG" | tail -n 1 | grep -q " $BOUND lent buffers"; then
	t_fail "port.del: no early return of $BOUND lent buffers logged (the deleted port's queues were not stopped)"
fi
t_log "vm1 deleted with $BOUND of a3's buffers lent: $(grep 'still at the NIC' "$FERRYD_LOG" | tail -n 1)"
ferryd_rpc port.add "$(t_port vm1 client $MA 10)" > "$T_DIR/port-add.json"
jq -e '.name == "vm1"' "$T_DIR/port-add.json" >/dev/null || t_fail "port.add vm1: $(cat "$T_DIR/port-add.json")"
ferryd_wait_link vm1 up 15
[ "$(grep -c "polls port vm1 queue 0" "$FERRYD_LOG")" = "$(grep -c "pmd 1 (lcore 2) polls port vm1 queue 0" "$FERRYD_LOG")" ] ||
	t_fail "the re-added vm1's queue went to PMD 0"
t_log "vm1 added again; a3 reconnected"
wait_b_rx $(( 2 * N12 + N3 ))
ferryd_wait_stat vm1 '.zero_copy.inflight == 0' 5
zc3=$(ferryd_port_stat vm1 .zero_copy)
t_log "re-added vm1 after a3's run: $zc3"
[ "$(jq .lent <<<"$zc3")" -gt 0 ] || t_fail "a3's frames were not lent after vm1 was re-added"
check_eq "bad descriptors (re-added vm1)" "$(jq '[.bad_descriptors[]] | add' <<<"$zc3")" 0
check_eq "copies at the bound after re-add (the hole is full: lent frames return at once)" \
	"$(jq .copy_reasons.inflight_bound <<<"$zc3")" 0
peer_finish a3
ferryd_wait_link vm1 down 10
check_eq "forced returns when a3 stopped (nothing was in flight)" "$(zcv forced_returns)" 0

peer_finish b c d
check_flow c d exact
check_flow d c exact
for a in a2 a3; do check_sent_all $a "$([ $a = a3 ] && echo $N3 || echo $N12)"; done
check_flow a2 b exact
check_flow a3 b exact
# a1 was killed: no report of its own; b accounts for its numbered frames
check_eq "a1's frames at b" "$(sender_val b 7301 rx)" $N12
check_eq "a1's duplicates at b" "$(sender_val b 7301 dup)" 0
check_eq "a1's frames out of order at b" "$(sender_val b 7301 ooo)" 0
check_eq "corrupted frames at b" "$(rj b .rx_bad)" 0
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "3 x $BOUND lent buffers handed back on SIGKILL, SIGTERM and port.del; a3 resumed without loss or duplicates; c<->d $(rj c .tx) + $(rj d .tx) frames, zero loss"
