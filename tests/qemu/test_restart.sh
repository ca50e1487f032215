#!/usr/bin/env bash
# test_restart.sh client|server — ferryd killed with SIGKILL and restarted under two running
# guests that ping each other (a pings b every 0.1 s), twice; the guests are never rebooted.
#   client: ferryd is the vhost-user client, QEMU listens (chardev server=on): ferryd reconnects
#   server: ferryd owns the sockets (a SIGKILL leaves them stale), QEMU reconnects (reconnect=1)
# Proves: traffic comes back by itself within RESTART_LIMIT s (default 20) after each kill — the
# time from the SIGKILL to the first echo reply to a request sent after it, seen on a's console, is measured and printed —
# and keeps flowing afterwards; neither guest rebooted (one FERRY-BOOT each, QEMU alive).
set -u
MODE=${1:?usage: test_restart.sh client|server}
. "$(dirname "$0")/lib.sh"
q_init "restart_$MODE"
RESTART_LIMIT=${RESTART_LIMIT:-20}

MA=52:54:00:0a:02:01 MB=52:54:00:0a:02:02
if [ "$MODE" = client ]; then chr=server; else chr=client; fi
q_config "$(q_vport a "$MODE" $MA 10)" "$(q_vport b "$MODE" $MB 10)"

# a: echo requests to b every 0.1 s until powered off; one "bytes from" line per reply
q_script a > /dev/null <<-'EOF'
wait_peer 10.0.10.2 60 || fail "b unreachable"
echo "PINGER-START"
ping -i 0.1 10.0.10.2
EOF

REPLY='bytes from 10\.0\.10\.2'
if [ "$MODE" = server ]; then ferryd_start; ferryd_wait_ready 20; fi
vm_start a ip=10.0.10.1/24 mac=$MA sock="$Q_DIR/a.sock" chr=$chr script="$Q_DIR/a.sh" after=stay timeout=140
vm_start b ip=10.0.10.2/24 mac=$MB sock="$Q_DIR/b.sock" chr=$chr after=stay timeout=140
if [ "$MODE" = client ]; then
	for s in a b; do   # QEMU creates its listening socket at start-up
		for i in $(seq 100); do [ -S "$Q_DIR/$s.sock" ] && break; sleep 0.05; done
	done
	ferryd_start; ferryd_wait_ready 20
fi
vm_wait a PINGER-START 60
vm_wait a "$REPLY" 20 10
q_log "traffic flowing: $(vm_count a "$REPLY") replies"

# a's replies carry the request's seq: requests go out every 0.1 s, so a reply with a seq at least 2
# above the highest one printed before the kill was requested after it (one in flight at the kill
# may still be printed late); measured to within one ping interval
maxseq() { vm_grep a "$REPLY" | sed -n 's/.*seq=\([0-9]*\).*/\1/p' | sort -n | tail -n1; }
times=
for round in 1 2; do
	s0=$(maxseq)
	t_kill=$(q_now_ns)
	ferryd_stop KILL 5
	ferryd_start
	ferryd_wait_ready 20
	ready=$(q_secs_since "$t_kill")
	back=
	for i in $(seq $((RESTART_LIMIT * 20))); do
		if [ "$(maxseq)" -ge $((s0 + 2)) ]; then back=$(q_secs_since "$t_kill"); break; fi
		vm_alive a && vm_alive b || q_fail "a guest's QEMU exited after ferryd's SIGKILL (round $round)"
		ferryd_alive
		sleep 0.05
	done
	[ -n "$back" ] || q_fail "round $round: no echo reply within ${RESTART_LIMIT} s of the SIGKILL (ferryd ready after $ready s)"
	q_log "round $round: SIGKILL -> ferryd ready after $ready s, traffic back after $back s"
	times="$times${times:+, }$back s"
	# it keeps flowing: at least 10 more replies within 5 s
	vm_wait a "$REPLY" 5 $(( $(vm_count a "$REPLY") + 10 ))
done

for g in a b; do
	vm_alive $g || q_fail "guest $g's QEMU is gone"
	[ "$(vm_count $g '^FERRY-BOOT')" = 1 ] || q_fail "guest $g rebooted"
done
seqs=$(vm_grep a "$REPLY" | sed -n 's/.*seq=\([0-9]*\).*/\1/p' | sort -un)
first=$(echo "$seqs" | head -n1) last=$(echo "$seqs" | tail -n1) got=$(echo "$seqs" | wc -l)
lost=$(( last - first + 1 - got ))
q_log "a: echo replies for $got of seq $first..$last ($lost lost across 2 restarts)"
ferryd_stop TERM
[ "$FERRYD_RC" = 0 ] || q_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
q_log "ferryd (last run): a rx/tx $(ferryd_stat a '"\(.rx_packets)/\(.tx_packets)"'), b rx/tx $(ferryd_stat b '"\(.rx_packets)/\(.tx_packets)"')"
q_pass "traffic back after $times (limit $RESTART_LIMIT s), $lost of $((last - first + 1)) pings lost, no guest reboot"
