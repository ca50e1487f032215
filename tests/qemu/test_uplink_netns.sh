#!/usr/bin/env bash
# test_uplink_netns.sh — a guest and a host network namespace on one L2 segment through ferryd's
# uplink: a veth pair, one end (10.0.10.254) in a namespace created here, the other end opened by
# ferryd as a dpdk port (net_af_packet), both ports on access VLAN 10.
# Proves: guest -> namespace and namespace -> guest pings (10/10 each way), and a TCP download of
# the guest's 2 MiB blob into the namespace, md5-checked (the veth end in the namespace has TX
# checksum offload turned off: see README, "pitfalls").
set -u
. "$(dirname "$0")/lib.sh"
q_init uplink_netns

NS=ferry-qemu-ns HOST_IF=fqemu-up NS_IF=fqemu-ns
MA=52:54:00:0a:04:01
# leftovers of an interrupted run (these names belong to this test)
ip netns del $NS 2>/dev/null
ip link del $HOST_IF 2>/dev/null
q_netns_add $NS
ip link add $HOST_IF type veth peer name $NS_IF || q_fail "cannot create the veth pair"
q_link_track $HOST_IF
ip link set $NS_IF netns $NS || q_fail "cannot move $NS_IF into $NS"
sysctl -qw net.ipv6.conf.$HOST_IF.disable_ipv6=1 2>/dev/null
ip link set $HOST_IF up
ip netns exec $NS sh -c "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	ip link set lo up && ip link set $NS_IF up && ip addr add 10.0.10.254/24 dev $NS_IF" ||
	q_fail "cannot configure $NS_IF in $NS"
# veth hands TCP/UDP frames over with the checksum left to "hardware"; AF_PACKET (and so ferryd)
# sees them unfinished and the guest, which negotiated no checksum offload, would drop them
ip netns exec $NS ethtool -K $NS_IF tx off > /dev/null 2>&1 || q_fail "ethtool -K $NS_IF tx off failed"

q_config "{\"name\":\"uplink\",\"type\":\"dpdk\",\"devargs\":\"net_af_packet0,iface=$HOST_IF\",\"vlan\":{\"mode\":\"access\",\"tag\":10}}" \
	"$(q_vport a server $MA 10)"
q_script a > /dev/null <<-'EOF'
make_blob 2 || fail "cannot make the blob"
wait_peer 10.0.10.254 60 || fail "the namespace is unreachable"
ping_count 10.0.10.254 10 0.1 || fail "ping to the namespace lost replies"
echo "BLOB-MD5 $(cat /tmp/blob.md5)"
echo "GUEST-READY"
sleep 100   # the host pings us and downloads the blob, then powers us off
EOF

ferryd_start
ferryd_wait_ready 20
vm_start a ip=10.0.10.1/24 mac=$MA sock="$Q_DIR/a.sock" chr=client script="$Q_DIR/a.sh" timeout=120
vm_wait a '^GUEST-READY' 90
q_log "guest -> namespace: $(vm_grep a '^PING-STATS')"

out=$(ip netns exec $NS ping -c 10 -i 0.1 -W 2 10.0.10.1 2>&1)
rx=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
q_log "namespace -> guest: ${rx:-0}/10 replies"
[ "${rx:-0}" = 10 ] || { echo "$out" | tail -3; q_fail "namespace -> guest: ${rx:-0} of 10 pings answered"; }

want=$(vm_grep a '^BLOB-MD5' | cut -d' ' -f2)
t0=$(q_now_ns)
got=$(ip netns exec $NS timeout 60 bash -c 'exec 3<>/dev/tcp/10.0.10.1/8080 &&
	printf "GET /blob HTTP/1.0\r\n\r\n" >&3 && sed "1,/^\r$/d" <&3 | md5sum' 2>&1 | cut -d' ' -f1)
secs=$(q_secs_since "$t0")
q_log "TCP guest -> namespace: md5 $got in $secs s (want $want)"
[ -n "$want" ] && [ "$got" = "$want" ] || q_fail "TCP download from the guest into the namespace failed or was corrupted"
vm_kill a TERM
ferryd_stop TERM
[ "$FERRYD_RC" = 0 ] || q_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
q_log "ferryd: uplink rx/tx $(ferryd_stat uplink '"\(.rx_packets)/\(.tx_packets)"'), a rx/tx $(ferryd_stat a '"\(.rx_packets)/\(.tx_packets)"')"
q_pass "ping 10/10 guest -> namespace and namespace -> guest, TCP 2 MiB guest -> namespace in $secs s"
