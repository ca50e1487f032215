#!/usr/bin/env bash
# test_ping_tcp.sh — three real guests on ferryd (server mode): a and b on access VLAN 10 ping each
# other and move a TCP bulk transfer both ways at once (busybox wget <- httpd, 4 MiB each, content
# checked by md5); c, in the same IP subnet but on access VLAN 20, can reach neither and receives
# not a single frame (ferryd sends nothing to its port: no flooded ARP, no unicast).
set -u
. "$(dirname "$0")/lib.sh"
q_init "${Q_TEST_NAME:-ping_tcp}"

MA=52:54:00:0a:00:01 MB=52:54:00:0a:00:02 MC=52:54:00:14:00:03
q_config "$(q_vport a server $MA 10)" "$(q_vport b server $MB 10)" "$(q_vport c server $MC 20)"

# a and b: the same script with the roles swapped
for me in a b; do
	if [ $me = a ]; then peer=10.0.10.2; else peer=10.0.10.1; fi
	q_script $me > /dev/null <<-EOF
	wait_peer $peer 60 || fail "peer $peer unreachable"
	ping_count $peer 20 0.1 || fail "ping to $peer lost replies"
	# publish the blob only now: the peer's bulk fetch from us must not fill our rings while we
	# still ping (a slow TCG guest's full RX ring drops frames, counted by ferryd as tx_full)
	make_blob 4 || fail "cannot make the blob"
	wait_blob $peer 30 || fail "$peer serves no blob"
	fetch_blob $peer $me || fail "TCP bulk transfer from $peer failed"
	unreachable 10.0.10.3 3 || fail "reached c on VLAN 20"
	EOF
done
q_script c > /dev/null <<-'EOF'
# ping a and b the whole time they exchange traffic; nothing must come back, nothing must arrive
( unreachable 10.0.10.1 12 ) & p1=$!
( unreachable 10.0.10.2 12 ) & p2=$!
wait $p1 || fail "a answered across VLANs"
wait $p2 || fail "b answered across VLANs"
echo "C-RX rx_packets=$(rx_packets) tx_packets=$(tx_packets)"
[ "$(rx_packets)" = 0 ] || fail "c received $(rx_packets) frames from another VLAN"
EOF

ferryd_start
ferryd_wait_ready 20
vm_start_trio
vm_result a 120
vm_result b 60
vm_result c 60
ferryd_alive
for g in a b; do q_log "$g: $(vm_grep $g '^(PING-STATS|TCP-BULK)' | tr '\n' ' ')"; done
q_log "c: $(vm_grep c '^C-RX')"
ferryd_stop TERM
[ "$FERRYD_RC" = 0 ] || q_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
ctx=$(ferryd_stat c .tx_packets)
q_log "ferryd: a rx/tx $(ferryd_stat a '"\(.rx_packets)/\(.tx_packets)"')," \
	"b rx/tx $(ferryd_stat b '"\(.rx_packets)/\(.tx_packets)"'), c rx/tx $(ferryd_stat c '"\(.rx_packets)/\(.tx_packets)"')"
[ "$ctx" = 0 ] || q_fail "ferryd sent $ctx frames to port c (VLAN 20)"
for g in a b; do   # each received the other's 4 MiB blob through ferryd
	[ "$(ferryd_stat $g .tx_bytes)" -ge 4194304 ] || q_fail "port $g: only $(ferryd_stat $g .tx_bytes) bytes sent"
done
if [ "${Q_ZC:-auto}" = on ]; then   # test_zc_tcp.sh: the guests' frames were lent, not copied
	for g in a b; do
		zc=$(ferryd_stat $g '.zero_copy | "\(.state) lent=\(.lent) copied=\(.copied) calls=\(.guest_calls) inflight=\(.inflight) bad=\([.bad_descriptors[]] | add)"')
		q_log "port $g zero_copy: $zc"
		# its 4 MiB went out lent (counted in bytes: with TSO negotiated a guest sends ~64 KB
		# segments, so ~70 frames carry what 2900 MTU frames did)
		[ "$(ferryd_stat $g .zero_copy.lent_bytes)" -ge 4194304 ] || q_fail "port $g: too few bytes lent ($zc)"
		[ "$(ferryd_stat $g .zero_copy.inflight)" = 0 ] || q_fail "port $g: buffers still lent at exit ($zc)"
		[ "$(ferryd_stat $g '[.zero_copy.bad_descriptors[]] | add')" = 0 ] || q_fail "port $g: a real guest's descriptors were refused ($zc)"
	done
fi
rate() { vm_grep "$1" '^TCP-BULK' | sed -n 's/.*mbit_s=\([0-9.]*\).*/\1/p'; }
q_pass "ping 20/20 both ways, TCP 4 MiB a<-b $(rate a) Mbit/s and b<-a $(rate b) Mbit/s, VLAN 20 isolated"
