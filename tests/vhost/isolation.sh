#!/usr/bin/env bash
# isolation.sh — guest isolation (issue #17) with real virtio-user guests.
# 1. A stalled guest costs the others nothing: guests a, b, s on VLAN 10; s is stopped (SIGSTOP:
#    it never reads its RX ring again) while a broadcasts 15000 frames at 5 kpps. b receives every
#    one of them (zero loss, in order), none of a's frames is dropped, and s's port counts those it
#    could not take as tx_full (its ring full: dropped, never retried).
# 2. The policer is accurate on a vhostuser port: guest p sends to b at up to 40 kpps with
#    "policer": {"pps": 2000}; over a 2 s window ferry forwards p's frames within 5 % of 2000/s
#    (from ferry's own counters), the rest counted as policer drops.
# 3. A many-queue guest does not starve a 1-queue guest on the same PMD (issue #21's fairness
#    note asks for a 32-queue guest; DPDK 22.11's virtio-user takes at most 8 queue pairs
#    ("arg queues 32 exceeds the limit 8"), so g has 8 here (G_QUEUES): the same effect, 8 shares
#    instead of 32; a 32-queue guest needs a QEMU guest or a frontend of our own). g is
#    dpdk-testpmd (txonly on net_virtio_user, every TX queue sending at its maximum, both its
#    lcores on CPU 0 with the other guests; ferry's single PMD on lcore 1) sending 64-byte frames
#    to n (net_null, g's destination MAC pinned there).
#    3b. a (ferry-vpeer, 1 queue) sends at its maximum to b for 2 s, first with g connected but
#        idle (testpmd rxonly), then with g flooding. From ferry's own counters (port.stats
#        rx_packets of a and g): a's forwarded rate with g flooding must be at least 1/4 of its
#        rate alone (measured 0.8-1.3 in 3 runs, 308-333 kpps with g against 249-384 alone: what a
#        loses is CPU 0, which it shares with g's spinning testpmd). The ratio a/g is logged,
#        not bounded: the guests, all on CPU 0, cannot keep their rings full (a tops out at
#        250-380 kpps, g at 1.1-6.7 Mpps), so what each sender gets of that CPU decides it, not
#        ferry's split of the PMD. That split (a port's queues share one burst per round) is
#        checked where the PMD is the bound: rpc test_isolation queue_count_fair.
#    3a. while g still floods, a sends 10000 frames at 5 kpps to b: b receives every one, in
#        order (zero loss: a modest rate is not starved, whatever g does).
set -u
VHOST_TEST_LIMIT=${VHOST_TEST_LIMIT:-150}
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init isolation

MA=52:54:00:00:17:01
MB=52:54:00:00:17:02
MS=52:54:00:00:17:03
MP=52:54:00:00:17:04
MG=52:54:00:00:17:05
MN=52:54:00:00:17:06
RATE=5000
COUNT=15000
POLICE=2000

pport=$(t_port p server $MP 10)
pport="${pport%\}},\"policer\":{\"pps\":$POLICE}}"
t_config "$(t_port a server $MA 10)" "$(t_port b server $MB 10)" "$(t_port s server $MS 10)" \
	"$pport" "$(t_port g server $MG 10)" \
	"$(t_dpdk_port n "net_null0,no-rx=1" 10 "\"mac\":[\"$MN\"]")"
ferryd_start
ferryd_wait_ready 15
for p in a b s p g; do wait_socket "$T_DIR/$p.sock" 5; done

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

# --- 3. a many-queue guest next to a 1-queue guest on one PMD ---
GQ=${G_QUEUES:-8}   # virtio-user's limit in DPDK 22.11
G_PID=
g_start() {   # g_start txonly|rxonly: the many-queue guest (testpmd), both its lcores on CPU 0
	setpriv --pdeathsig KILL dpdk-testpmd --lcores "0@0,1@0" --no-pci --no-telemetry --in-memory \
		--single-file-segments --file-prefix "vp-$T_NAME-g" \
		--vdev "net_virtio_user0,path=$T_DIR/g.sock,queues=$GQ,queue_size=256,mac=$MG" -- \
		--rxq=$GQ --txq=$GQ --nb-cores=1 --forward-mode="$1" --eth-peer=0,$MN --txpkts=64 \
		--total-num-mbufs=32768 --auto-start --stats-period 1 > "$T_DIR/g-$1.log" 2>&1 &
	G_PID=$!
	T_PIDS+=("$G_PID")
	t_log "guest g started (pid $G_PID, testpmd $1, $GQ queue pairs)"
	for _ in $(seq 150); do
		[ "$(ferryd_rpc port.get '{"name":"g"}' | jq -r .link)" = up ] && [ "$(ferryd_port_stat g '.rxq | length')" -ge $GQ ] && return 0
		kill -0 "$G_PID" 2>/dev/null || t_fail "guest g (testpmd) exited: $(tail -3 "$T_DIR/g-$1.log")"
		sleep 0.1
	done
	t_fail "guest g: link or $GQ rx queues not up after 15 s (rxq $(ferryd_port_stat g '.rxq | length'))"
}
g_stop() {
	t_kill_wait "$G_PID"
	ferryd_wait_link g down 10
}
rx_of() { ferryd_port_stat "$1" .rx_packets; }
senders_alive() {   # before a window (which runs in a subshell, where t_fail cannot stop the test)
	local p
	for p in a3 b3; do
		kill -0 "${PEER_PID[$p]}" 2>/dev/null ||
			t_fail "peer $p exited before the window: $(tail -2 "$T_DIR/$p.log" 2>/dev/null)"
	done
}
window() {   # window NAME1 NAME2: rx_packets rates (pps) of two ports over 2 s
	local t0 t1 a0 a1 g0 g1
	t0=$(date +%s%N); a0=$(rx_of "$1"); g0=$(rx_of "$2")
	sleep 2
	t1=$(date +%s%N); a1=$(rx_of "$1"); g1=$(rx_of "$2")
	echo "$(( (a1 - a0) * 1000000000 / (t1 - t0) )) $(( (g1 - g0) * 1000000000 / (t1 - t0) ))"
}

# 3b first half: a alone at its maximum (g connected with all its queues, not sending)
g_start rxonly
# a3 and b3 run until signalled: g's restarts in between can take 25 s on a loaded machine, and a
# sender whose --duration ran out mid-window once read as "a starved: 0 pps"
peer_start b3 "$T_DIR/b.sock" 1 client --mac $MB --count 0 --duration 0
peer_wait_link b3 10
peer_start a3 "$T_DIR/a.sock" 1 client --mac $MA --peer $MB --count 1000000000 --rate 5000000 \
	--duration 0
peer_wait_link a3 10
sleep 1
senders_alive
read -r a_solo g_idle < <(window a g)
t_log "a alone at its maximum: $a_solo pps forwarded (g idle: $g_idle pps)"
g_stop
# 3b second half: g floods on all its queues
g_start txonly
sleep 1
senders_alive
read -r a_cont g_cont < <(window a g)
pmd=$(ferryd_rpc pmd.list | jq -c '[.[0].rxqs[]? | select(.port == "a" or .port == "g") | {port, queue, busy_share}] | group_by(.port) | map({port: .[0].port, queues: length, busy_share: (map(.busy_share // 0) | add)})' 2>/dev/null)
t_log "g flooding ($GQ queues): a $a_cont pps, g $g_cont pps forwarded; PMD busy shares $pmd"
kill -TERM "${PEER_PID[a3]}" "${PEER_PID[b3]}" 2>/dev/null
peer_wait_exit a3 10
peer_wait_exit b3 10
[ $(( a_cont * 4 )) -ge "$a_solo" ] ||
	t_fail "the 1-queue guest a is starved by the $GQ-queue guest g: $a_cont pps with g at $g_cont pps, $a_solo pps alone (need >= 1/4)"
# a/g is not bounded here: both guests share CPU 0, so unless the PMD is saturated their rates are
# what each sender gets of that CPU (CI measured a 0.37 Mpps vs g 6.7 Mpps with the PMD not full).
# The PMD's own split (a port's queues share one burst per round) is checked where the PMD is the
# bound: rpc test_isolation queue_count_fair.
[ "$g_cont" -ge $(( a_solo / 2 )) ] ||
	t_fail "guest g forwarded only $g_cont pps: it did not load the PMD (a alone: $a_solo pps)"
t_log "a/g forwarded with g flooding: $a_cont / $g_cont pps = $(( a_cont * 100 / (g_cont > 0 ? g_cont : 1) )) % (a per-port fair share would be ~100 %, one burst per queue $(( 100 / GQ )) % when both rings stay full)"

# 3a: a modest rate from a is not starved while g floods
peer_start b4 "$T_DIR/b.sock" 1 client --mac $MB --count 0 --sync-mac $MA --duration 12
peer_start a4 "$T_DIR/a.sock" 1 client --mac $MA --peer $MB --sync-mac $MB --count 10000 \
	--rate 5000 --duration 8
peer_wait_exit a4 25
peer_wait_exit b4 15
check_sent_all a4 10000
check_flow a4 b4 exact
[ "$(ferryd_port_stat g .rx_packets)" -gt 1000000 ] || t_fail "g sent only $(ferryd_port_stat g .rx_packets) frames"
g_stop
ferryd_alive
ferryd_stop TERM 5
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "stalled guest: b lost nothing, s tx_full $full; vhostuser policer $POLICE pps -> $rate; $GQ-queue guest g $g_cont pps, a 10000 frames at 5 kpps zero loss, a at max $a_cont pps (alone $a_solo)"
