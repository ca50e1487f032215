#!/usr/bin/env bash
# test_guest_reboot.sh — guest c on the same VLAN goes away and comes back while a and b ping each
# other every 0.2 s (both directions, on their own ports):
#   1. c reboots itself (reboot -f: QEMU resets the virtio device; the vhost-user connection stays)
#   2. c's QEMU is killed with SIGKILL (the connection drops) and a new QEMU is started on the same
#      socket (c is the QEMU-listens / ferryd-client kind: ferryd must reconnect to a new socket;
#      a and b are the ferryd-server kind)
# Proves: after each, c reaches a and b again (5/5 pings each); a and b lose nothing at all: ferryd
# handles another port's device reset, disconnect and reconnect without dropping a frame of theirs
# (their rings are untouched and ping rates are far below any queue limit, so the bound is 0).
set -u
. "$(dirname "$0")/lib.sh"
q_init guest_reboot

MA=52:54:00:0a:03:01 MB=52:54:00:0a:03:02 MC=52:54:00:0a:03:03
q_config "$(q_vport a server $MA 10)" "$(q_vport b server $MB 10)" "$(q_vport c client $MC 10)"
for me in a b; do
	if [ $me = a ]; then peer=10.0.10.2; else peer=10.0.10.1; fi
	q_script $me > /dev/null <<-EOF
	wait_peer $peer 60 || fail "peer unreachable"
	echo "PINGER-START"
	ping -i 0.2 $peer
	EOF
done
q_script c > /dev/null <<-'EOF'
wait_peer 10.0.10.1 60 || fail "a unreachable"
ping_count 10.0.10.1 5 0.2 || fail "ping to a lost replies"
ping_count 10.0.10.2 5 0.2 || fail "ping to b lost replies"
EOF

ferryd_start
ferryd_wait_ready 20
vm_start a ip=10.0.10.1/24 mac=$MA sock="$Q_DIR/a.sock" chr=client script="$Q_DIR/a.sh" after=stay timeout=140
vm_start b ip=10.0.10.2/24 mac=$MB sock="$Q_DIR/b.sock" chr=client script="$Q_DIR/b.sh" after=stay timeout=140
vm_start c ip=10.0.10.3/24 mac=$MC sock="$Q_DIR/c.sock" chr=server script="$Q_DIR/c.sh" after=reboot timeout=100
REPLY_A='bytes from 10\.0\.10\.2' REPLY_B='bytes from 10\.0\.10\.1'
vm_wait a "$REPLY_A" 60 5
vm_wait b "$REPLY_B" 60 5
q_log "a and b ping each other"

# 1. c: first boot, result, reboot -f, second boot, result
vm_wait c '^FERRY-RESULT' 90 1
t_reboot=$(q_now_ns)
vm_wait c '^FERRY-RESULT' 90 2
[ "$(vm_count c '^FERRY-RESULT ok')" = 2 ] || q_fail "guest c: $(vm_grep c '^FERRY-(RESULT|FAIL)' | tr '\n' ' ')"
[ "$(vm_count c '^FERRY-BOOT')" = 2 ] || q_fail "guest c did not reboot"
q_log "c rebooted itself and reached a and b again ($(q_secs_since "$t_reboot") s from its first result)"

# 2. c's QEMU killed, a new one started
vm_kill c KILL
t_kill=$(q_now_ns)
vm_start c ip=10.0.10.3/24 mac=$MC sock="$Q_DIR/c.sock" chr=server script="$Q_DIR/c.sh" after=poweroff timeout=100
vm_result c 90
q_log "new QEMU of c reached a and b ($(q_secs_since "$t_kill") s after the SIGKILL of the old one)"

# a and b kept pinging all along: give them 10 more replies, then count
vm_wait a "$REPLY_A" 10 $(( $(vm_count a "$REPLY_A") + 10 ))
vm_wait b "$REPLY_B" 10 $(( $(vm_count b "$REPLY_B") + 10 ))
ferryd_alive
lost_of() {   # lost_of GUEST REGEX: "received lost first last" over the seqs up to the last but 3
	vm_grep "$1" "$2" | sed -n 's/.*seq=\([0-9]*\).*/\1/p' | sort -un | awk '
		NR == 1 { first = $1 } { s[NR] = $1; n = NR }
		END { last = s[n] - 3; got = 0; for (i = 1; i <= n; i++) if (s[i] <= last) got++
		      print got, last - first + 1 - got, first, last }'
}
read -r got_a lost_a first_a last_a <<< "$(lost_of a "$REPLY_A")"
read -r got_b lost_b first_b last_b <<< "$(lost_of b "$REPLY_B")"
q_log "a -> b: $got_a replies for seq $first_a..$last_a, $lost_a lost; b -> a: $got_b for seq $first_b..$last_b, $lost_b lost"
for g in a b; do
	[ "$(vm_count $g '^FERRY-BOOT')" = 1 ] || q_fail "guest $g rebooted"
done
ferryd_stop TERM
[ "$FERRYD_RC" = 0 ] || q_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
q_log "ferryd: c rx/tx $(ferryd_stat c '"\(.rx_packets)/\(.tx_packets)"'), drops a $(ferryd_stat a .drops_total) b $(ferryd_stat b .drops_total) c $(ferryd_stat c '.drops|with_entries(select(.value>0))|@json')"
[ "$lost_a" = 0 ] && [ "$lost_b" = 0 ] || q_fail "a/b lost echo replies while c rebooted and restarted: a $lost_a, b $lost_b"
q_pass "c rebooted in place, then its QEMU was SIGKILLed and restarted: c back each time; a<->b lost 0 of $got_a + $got_b pings"
