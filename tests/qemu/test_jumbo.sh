#!/usr/bin/env bash
# test_jumbo.sh — jumbo frames with real guests (issue #19): a and b boot with QEMU's host_mtu=9000
# on ports of "mtu": 9000, so their virtio_net drivers take MTU 9000 from VIRTIO_NET_F_MTU, and
# ping each other with 8972-byte payloads (9000-byte IP packets, 9014-byte frames): every reply
# comes back and ferryd counts the requests as single frames (no IP fragments). c boots with
# host_mtu=9000 on a port of mtu 1500: ferryd refuses the guest's VHOST_USER_NET_SET_MTU, QEMU
# reports it and leaves c's device stopped; c reaches nobody, ferryd sends it nothing, and a and b
# are not disturbed.
set -u
. "$(dirname "$0")/lib.sh"
q_init jumbo

MA=52:54:00:0a:09:01 MB=52:54:00:0a:09:02 MC=52:54:00:0a:09:03
PINGS=10
vport() {   # vport NAME MAC MTU
	q_vport "$1" server "$2" 10 | sed "s/}\$/,\"mtu\":$3}/"
}
q_config "$(vport a $MA 9000)" "$(vport b $MB 9000)" "$(vport c $MC 1500)"

for me in a b; do
	if [ $me = a ]; then peer=10.0.10.2; else peer=10.0.10.1; fi
	q_script $me > /dev/null <<-EOF
	echo "GUEST-MTU \$(cat /sys/class/net/eth0/mtu)"
	[ "\$(cat /sys/class/net/eth0/mtu)" = 9000 ] || fail "eth0 mtu is \$(cat /sys/class/net/eth0/mtu), not 9000"
	wait_peer $peer 60 || fail "peer $peer unreachable"
	out=\$(ping -c $PINGS -i 0.2 -s 8972 $peer 2>&1)
	echo "\$out" | tail -3
	echo "\$out" | grep -q "^$PINGS packets transmitted, $PINGS packets received" ||
		fail "8972-byte pings to $peer lost replies"
	echo "\$out" | grep -q "8980 bytes from" || fail "no 8980-byte replies"
	unreachable 10.0.10.3 3 || fail "reached c, whose device should be stopped"
	EOF
done
q_script c > /dev/null <<-'EOF'
unreachable 10.0.10.1 8 || fail "c reached a"
EOF

ferryd_start
ferryd_wait_ready 20
vm_start_trio nic=host_mtu=9000
vm_wait_net a 60
guest_mtu=$(q_ctl --json port show a | jq -r '.guest_mtu // empty')
[ "$guest_mtu" = 9000 ] || q_fail "port.get a: guest_mtu '$guest_mtu', not 9000 (VIRTIO_NET_F_MTU)"
vm_result a 120
vm_result b 60
vm_result c 60
ferryd_alive
q_log "a: $(vm_grep a '^(GUEST-MTU|PING-STATS)|packets transmitted' | tr '\n' ' ') port.get guest_mtu=${guest_mtu:-?}"
grep -q "port c: guest MTU 9000 .* refused: the port's mtu is 1500" "$FERRYD_LOG" ||
	q_fail "ferryd did not log the refusal of c's MTU 9000"
grep -qi "MTU not supported" "$Q_DIR"/c.1.qemu.log ||
	q_fail "QEMU did not report c's MTU as refused ($(tail -3 "$Q_DIR"/c.1.qemu.log | tr '\n' ' '))"
ferryd_stop TERM
[ "$FERRYD_RC" = 0 ] || q_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
for g in a b; do
	# PINGS echo requests of 9014 bytes each, plus ARP and a few wait_peer pings: a fragmented
	# ping would have come in 7 frames of at most 1514 bytes
	rx=$(ferryd_stat $g .rx_packets) rxb=$(ferryd_stat $g .rx_bytes)
	q_log "port $g: rx $rx frames, $rxb bytes; drops $(ferryd_stat $g '.drops | tostring')"
	[ "$rxb" -ge $(( 2 * PINGS * 9014 )) ] || q_fail "port $g: only $rxb bytes received"
	[ "$rx" -le $(( 2 * PINGS + 40 )) ] || q_fail "port $g: $rx frames for $PINGS pings each way: fragmented?"
done
[ "$(ferryd_stat c .tx_packets)" = 0 ] || q_fail "ferryd sent $(ferryd_stat c .tx_packets) frames to c"
[ "$(ferryd_stat c .rx_packets)" = 0 ] || q_fail "ferryd received $(ferryd_stat c .rx_packets) frames from c"
q_pass "a, b at MTU 9000: $PINGS x 8972-byte pings each way, unfragmented; c's MTU 9000 refused on an mtu 1500 port"
