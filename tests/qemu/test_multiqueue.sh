#!/usr/bin/env bash
# test_multiqueue.sh — a guest with a 2-queue-pair virtio-net (QEMU queues=2, mq=on, -smp 2): the
# guest's virtio_net enables both pairs (one per vCPU) and transmits on queue N from vCPU N (XPS).
# Several flows from both vCPUs (pings pinned with taskset, parallel TCP downloads both ways) to a
# single-queue guest. Proves: ferryd negotiates MQ with a real guest, polls both RX queues of the
# port (its per-queue counters, logged at exit, show traffic on every one), and delivers to the
# guest's queues without loss or corruption (pings all answered, downloads md5-checked).
set -u
. "$(dirname "$0")/lib.sh"
q_init multiqueue

M1=52:54:00:0a:01:01 M2=52:54:00:0a:01:02
q_config "$(q_vport m1 server $M1 10)" "$(q_vport m2 server $M2 10)"

q_script m1 > /dev/null <<-'EOF'
n=$(ls -d /sys/class/net/eth0/queues/tx-* | wc -l)
[ "$n" = 2 ] || fail "the guest runs $n TX queues, not 2 (MQ not negotiated?)"
log "xps: tx-0 $(cat /sys/class/net/eth0/queues/tx-0/xps_cpus) tx-1 $(cat /sys/class/net/eth0/queues/tx-1/xps_cpus)"
make_blob 2 || fail "cannot make the blob"
wait_peer 10.0.10.2 60 || fail "m2 unreachable"
wait_blob 10.0.10.2 30 || fail "m2 serves no blob"
# one ping flow per vCPU (taskset mask 1 = CPU0, 2 = CPU1), then two downloads per vCPU
taskset 1 ping -c 40 -i 0.05 -s 100 10.0.10.2 > /tmp/ping0 2>&1 & p0=$!
taskset 2 ping -c 40 -i 0.05 -s 200 10.0.10.2 > /tmp/ping1 2>&1 & p1=$!
wait $p0; wait $p1
for f in /tmp/ping0 /tmp/ping1; do echo "PING-STATS $f $(grep 'packets received' $f)"; done
# m2 downloads from us meanwhile: a reply may meet a full RX ring (tx_full); most must come back
for f in /tmp/ping0 /tmp/ping1; do
	[ "$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' $f)" -ge 36 ] || fail "ping ($f) lost replies"
done
for i in 1 2 3 4; do
	taskset $((i % 2 + 1)) wget -q -O /tmp/w$i http://10.0.10.2:8080/blob & eval w$i=\$!
done
rc=0
for i in 1 2 3 4; do
	eval wait \$w$i || { log "download $i failed"; rc=1; }
	[ "$(md5sum < /tmp/w$i | cut -d' ' -f1)" = "$(cat /tmp/blob.md5)" ] || { log "download $i corrupted"; rc=1; }
done
[ $rc = 0 ] || fail "a TCP download failed"
log "4 downloads of 2 MiB OK"
# stay up until m2's downloads from us are done: it then serves /done (and waits for us to go)
t0=$(date +%s)
until wget -q --spider http://10.0.10.2:8080/done 2>/dev/null; do
	[ $(( $(date +%s) - t0 )) -lt 90 ] || fail "m2 never finished its downloads"
	sleep 0.5
done
EOF
q_script m2 > /dev/null <<-'EOF'
make_blob 2 || fail "cannot make the blob"
wait_peer 10.0.10.1 60 || fail "m1 unreachable"
wait_blob 10.0.10.1 30 || fail "m1 serves no blob"
for i in 1 2 3; do
	wget -q -O /tmp/w$i http://10.0.10.1:8080/blob & eval w$i=\$!
done
ping_count 10.0.10.1 30 0.05 || log "ping to m1 lost replies (its RX ring may be full with TCP)"
for i in 1 2 3; do
	eval wait \$w$i || fail "download $i from m1 failed"
	[ "$(md5sum < /tmp/w$i | cut -d' ' -f1)" = "$(cat /tmp/blob.md5)" ] || fail "download $i corrupted"
done
log "3 downloads of 2 MiB from m1 OK"
# m1 may still be downloading from us: tell it we are done, stay until it is gone
touch /tmp/www/done
until ! ping -c1 -W1 10.0.10.1 > /dev/null 2>&1; do sleep 0.5; done
EOF

ferryd_start
ferryd_wait_ready 20
vm_start m1 ip=10.0.10.1/24 mac=$M1 sock="$Q_DIR/m1.sock" chr=client smp=2 queues=2 script="$Q_DIR/m1.sh" timeout=110
vm_start m2 ip=10.0.10.2/24 mac=$M2 sock="$Q_DIR/m2.sock" chr=client script="$Q_DIR/m2.sh" timeout=110
vm_wait_net m1 60
q_log "m1: $(vm_grep m1 '^FERRY-NET-UP')"
vm_result m1 120
vm_result m2 30
ferryd_alive
ferryd_stop TERM
[ "$FERRYD_RC" = 0 ] || q_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
rxq=$(ferryd_stat m1 '[.rxq[].packets]|@csv')
txq=$(ferryd_stat m1 '[.txq[].packets]|@csv')
q_log "ferryd port m1: rx queues [$rxq] tx queues [$txq]; m2: rx [$(ferryd_stat m2 '[.rxq[].packets]|@csv')]"
[ "$(ferryd_stat m1 '.rxq|length')" = 2 ] || q_fail "ferryd reports $(ferryd_stat m1 '.rxq|length') rx queues for m1, not 2"
[ "$(ferryd_stat m1 '[.rxq[]|select(.packets == 0)]|length')" = 0 ] ||
	q_fail "an rx queue of port m1 saw no traffic: [$rxq]"
q_pass "2 queue pairs, ferryd rx per queue [$rxq], tx per queue [$txq], tx_full drops $(ferryd_stat m1 .drops.tx_full)"
