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

# MQ_FILL=N (with MQ_PMDS=2): N single-queue net_null ports (VLAN 99, no rx), which take PMDs
# 0, 1, 0, 1, ...; every odd one is deleted before the guests connect, so PMD 0 polls N/2 queues
# and PMD 1 none: the guests' queues must still spread over both PMDs (a least-loaded-only
# assignment gave PMD 1 the first N/2 guest queues, whichever port they belonged to).
fill=()
for ((i = 0; i < ${MQ_FILL:-0}; i++)); do
	fill+=("$(t_dpdk_port n$i "net_null$i,no-rx=1" 99 '"rxq":1,"txq":1')")
done
t_config "${fill[@]}" "$(t_port vm1 server $M1 10)" "$(t_port vm2 server $M2 10)"
ferryd_start
ferryd_wait_ready 15
wait_socket "$T_DIR/vm1.sock" 5
wait_socket "$T_DIR/vm2.sock" 5
for ((i = 1; i < ${MQ_FILL:-0}; i += 2)); do
	t0=$(t_ms)
	# two grace periods and more: seconds when other work keeps the PMDs off their CPU
	res=$(FERRYD_RPC_TIMEOUT=30 ferryd_rpc port.del "{\"name\":\"n$i\"}" 2>&1)
	[ "$(echo "$res" | jq -r .deleted 2>/dev/null)" = true ] || t_fail "port.del n$i: $res"
	t_log "port n$i deleted ($(( $(t_ms) - t0 )) ms)"
done
if [ "${MQ_FILL:-0}" -gt 0 ]; then
	rxqs=$(ferryd_rpc pmd.list | jq -c '[.[] | .rxqs | length]')
	[ "$rxqs" = "[$(( MQ_FILL / 2 )),0]" ] || t_fail "PMD rx queue counts $rxqs before the guests, expected [$(( MQ_FILL / 2 )),0]"
	t_log "before the guests: rx queues per PMD $rxqs"
fi

peer_start a "$T_DIR/vm1.sock" $Q client --mac $M1 --peer $M2 --count $COUNT --rate $RATE --flows 64 --duration 6 --sync
peer_start b "$T_DIR/vm2.sock" $Q client --mac $M2 --peer $M1 --count $COUNT --rate $RATE --flows 64 --duration 6 --sync
peer_wait_exit a 25
peer_wait_exit b 10

for p in a b; do
	[ "$(rj $p .queues)" = $Q ] || t_fail "peer $p has $(rj $p .queues) queue pairs, not $Q (MQ not negotiated?)"
	t_log "$p: tx_per_queue $(rj $p ".tx_per_queue|@json") rx_per_queue $(rj $p ".rx_per_queue|@json")"
done
if [ -n "${MQ_PMDS:-}" ]; then
	pmds=$(ferryd_rpc pmd.list | jq "[.[] | select(.packets > 0)] | length")
	[ "$pmds" = "$MQ_PMDS" ] || t_fail "expected $MQ_PMDS PMDs to forward, $pmds did"
	# each guest port's queues evenly over the PMDs: else a PMD forwards none of its frames, and
	# the receiving guest's RX rings that PMD owns stay empty (rx_per_queue, checked below)
	for p in vm1 vm2; do
		per=$(ferryd_rpc pmd.list | jq -c --arg p $p '[.[] | [.rxqs[] | select(.port == $p)] | length]')
		want=$(jq -nc --argjson n "$MQ_PMDS" --argjson q $Q '[range($n)] | map($q / $n)')
		[ "$per" = "$want" ] || t_fail "port $p: rx queues per PMD $per, expected $want"
		t_log "port $p: rx queues per PMD $per"
	done
fi
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
ferryd_stop TERM 5
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "${MQ_PMDS:-1} PMD(s), $Q queue pairs, every queue used both ways, zero loss"
