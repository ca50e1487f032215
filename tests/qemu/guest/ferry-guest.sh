# /lib/ferry-guest.sh — helpers for the test scripts run inside the guest (busybox sh), sourced by
# /init before the script handed over through fw_cfg. Every line a helper prints goes to the
# serial console, where tests/qemu/lib.sh reads it. Helpers return non-zero on failure; a test
# script ends with a non-zero status (e.g. via `fail`) to make the guest report FERRY-RESULT fail.

log() { echo "FERRY-LOG [$(cut -d' ' -f1 /proc/uptime)] $*"; }
fail() { echo "FERRY-FAIL $*"; exit 1; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# heartbeat [SECONDS]: forever, every SECONDS (default 1) a line "HB <uptime> tx=N rx=N
# irq=<virtio vector>:<count>,...": whether the guest lives, sends, receives and takes its
# virtio interrupts (run it in the background)
heartbeat() {
	local s=/sys/class/net/eth0/statistics
	while :; do
		echo "HB $(uptime_s) tx=$(cat $s/tx_packets) rx=$(cat $s/rx_packets) irq=$(awk '
			/virtio/ && !/config/ { n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
				printf "%s%s:%d", sep, $NF, n; sep = "," }' /proc/interrupts)"
		sleep "${1:-1}"
	done
}

# wait_peer IP [SECONDS]: until IP answers a ping (default 30 s)
wait_peer() {
	local t0 now
	t0=$(date +%s)
	until ping -c1 -W1 "$1" >/dev/null 2>&1; do
		now=$(date +%s)
		[ $((now - t0)) -ge "${2:-30}" ] && { log "peer $1 unreachable after ${2:-30}s"; return 1; }
	done
	log "peer $1 reachable after $(( $(date +%s) - t0 ))s"
}

# ping_count IP COUNT [INTERVAL]: ping; prints "PING-STATS sent=N received=M"; ok if M == N
ping_count() {
	local out tx rx
	out=$(ping -c "$2" -i "${3:-0.2}" "$1" 2>&1)
	tx=$(echo "$out" | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
	rx=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
	echo "PING-STATS to=$1 sent=${tx:-0} received=${rx:-0}"
	[ -n "$rx" ] && [ "$rx" = "$2" ]
}

# unreachable IP SECONDS: pings (and ARPs) IP for SECONDS; ok if not a single reply came back
unreachable() {
	if ping -c "$2" -i 1 -W 1 "$1" 2>&1 | grep -q "bytes from"; then
		log "UNEXPECTED: $1 answered"
		return 1
	fi
	log "$1 unreachable for $2 s (as required)"
}

# make_blob MIB: /tmp/www/blob, MIB MiB of deterministic content (so every guest knows the checksum of
# what it should receive from another): 1 MiB of "seq" lines repeated (seq and md5sum of the whole
# file would cost seconds under TCG)
make_blob() {
	local i=0
	seq 1 200000 | head -c 1048576 > /tmp/seed || return 1
	: > /tmp/blob
	while [ $i -lt "$1" ]; do cat /tmp/seed >> /tmp/blob || return 1; i=$((i + 1)); done
	rm -f /tmp/seed
	md5sum < /tmp/blob | cut -d' ' -f1 > /tmp/blob.md5
	mv /tmp/blob /tmp/www/blob      # served only once complete (wait_blob)
}

# wait_blob IP [SECONDS]: until IP serves its blob (it makes it after its network is up)
wait_blob() {
	local t0
	t0=$(date +%s)
	until wget -q --spider "http://$1:8080/blob" 2>/dev/null; do
		[ $(( $(date +%s) - t0 )) -ge "${2:-30}" ] && { log "no blob on $1 after ${2:-30}s"; return 1; }
		sleep 0.3
	done
}

# fetch_blob IP [TAG]: downloads http://IP:8080/blob, checks its md5 against ours; prints rate
fetch_blob() {
	local t0 t1 got size
	t0=$(uptime_s)
	timeout 120 wget -q -O /tmp/got.$$ "http://$1:8080/blob" || { log "wget from $1 failed"; return 1; }
	t1=$(uptime_s)
	size=$(wc -c < /tmp/got.$$)
	got=$(md5sum < /tmp/got.$$ | cut -d' ' -f1)
	rm -f /tmp/got.$$
	echo "TCP-BULK ${2:-} from=$1 bytes=$size secs=$(awk "BEGIN{printf \"%.2f\", $t1-$t0}")" \
		"mbit_s=$(awk "BEGIN{d=$t1-$t0; if (d<=0) d=0.01; printf \"%.1f\", $size*8/d/1e6}")"
	[ "$got" = "$(cat /tmp/blob.md5)" ] || { log "md5 mismatch from $1: $got"; return 1; }
}

# eth0 counters
rx_packets() { cat /sys/class/net/eth0/statistics/rx_packets; }
tx_packets() { cat /sys/class/net/eth0/statistics/tx_packets; }
