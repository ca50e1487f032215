#!/usr/bin/env bash
# two_pmds.sh — the multiqueue scenario with two PMD threads (lcores 1 and 2, both on CPU 1): rx
# queues split between PMDs, guest rings shared or split, the FDB learned from two threads. Each peer
# spreads 64 UDP flows over its 4 TX queues; ferryd must poll every RX queue of a port (every TX
# queue of the sending peer is used and nothing is lost) and deliver on every queue of the
# receiving guest (frames seen on each of its 4 RX queues). Zero loss, no reordering within a flow.
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
T_PMDS="[1, 2]"
T_EAL="\"--lcores\", \"0@0,1@1,2@1\""
t_init two_pmds

M1=52:54:00:00:03:01
M2=52:54:00:00:03:02
Q=4
RATE=6000
COUNT=18000

t_config "$(t_port vm1 server $M1 10)" "$(t_port vm2 server $M2 10)"
ferryd_start
ferryd_wait_ready 15
wait_socket "$T_DIR/vm1.sock" 5
wait_socket "$T_DIR/vm2.sock" 5

peer_start a "$T_DIR/vm1.sock" $Q client --mac $M1 --peer $M2 --count $COUNT --rate $RATE --flows 64 --duration 6 --sync
peer_start b "$T_DIR/vm2.sock" $Q client --mac $M2 --peer $M1 --count $COUNT --rate $RATE --flows 64 --duration 6 --sync
peer_wait_exit a 25
peer_wait_exit b 10

for p in a b; do
	[ "$(rj $p .queues)" = $Q ] || t_fail "peer $p has $(rj $p .queues) queue pairs, not $Q (MQ not negotiated?)"
	t_log "$p: tx_per_queue $(rj $p ".tx_per_queue|@json") rx_per_queue $(rj $p ".rx_per_queue|@json")"
done
for p in a b; do
	check_sent_all $p $COUNT
	[ "$(rj $p '[.tx_per_queue[] | select(. == 0)] | length')" = 0 ] ||
		t_fail "peer $p did not use every TX queue: $(rj $p ".tx_per_queue|@json")"
done
check_flow a b exact
check_flow b a exact
for p in a b; do
	[ "$(rj $p '[.rx_per_queue[] | select(. == 0)] | length')" = 0 ] ||
		t_fail "ferryd did not deliver on every RX queue of peer $p: rx_per_queue $(rj $p ".rx_per_queue|@json")"
done

ferryd_alive
pmds=$(ferryd_rpc pmd.list | jq "[.[] | select(.packets > 0)] | length")
[ "$pmds" = 2 ] || t_fail "expected both PMDs to forward, $pmds did"
ferryd_stop TERM 5
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "2 PMDs, $Q queue pairs, every queue used both ways, zero loss"
