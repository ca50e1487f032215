#!/usr/bin/env bash
# multiqueue.sh — two vhost-user ports whose guests use 4 queue pairs (server mode). Each peer
# spreads 64 UDP flows over its 4 TX queues; ferryd must poll every RX queue of a port (every TX
# queue of the sending peer is used and nothing is lost) and deliver on every queue of the
# receiving guest (frames seen on each of its 4 RX queues). Zero loss, no reordering within a flow.
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init "${MQ_NAME:-multiqueue}"

M1=52:54:00:00:03:01
M2=52:54:00:00:03:02
Q=4
RATE=${MQ_RATE:-12000}
COUNT=${MQ_COUNT:-36000}

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
if [ -n "${MQ_PMDS:-}" ]; then
	pmds=$(ferryd_rpc pmd.list | jq "[.[] | select(.packets > 0)] | length")
	[ "$pmds" = "$MQ_PMDS" ] || t_fail "expected $MQ_PMDS PMDs to forward, $pmds did"
fi
ferryd_stop TERM 5
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "${MQ_PMDS:-1} PMD(s), $Q queue pairs, every queue used both ways, zero loss"
