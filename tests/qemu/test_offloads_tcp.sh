#!/usr/bin/env bash
# test_offloads_tcp.sh — TCP bulk transfer between two real guests through ferryd with the virtio-net
# offloads on and off in the same run (issue #19, "Measured"). Each guest has two NICs: pair "on"
# (ports a0, b0, access VLAN 10, 10.0.10.0/24, "offloads": true, the default) and pair "off" (a1,
# b1, VLAN 20, 10.0.20.0/24, "offloads": false). b serves a random blob; a downloads it over the
# two pairs in turn (on off off on on off: drift in the host's load falls on both alike), every
# download's md5 compared with the md5 b computed of the file it serves. Asserted:
#   - every download complete and byte-identical (md5) to what b served, on both pairs;
#   - the guests' negotiated features (/sys/bus/virtio/devices/*/features, decoded): the on-NICs
#     have CSUM, GUEST_CSUM, GUEST_TSO4/6, HOST_TSO4/6, the off-NICs none of them, no NIC ECN/UFO;
#     and ferryd's port.get offloads_negotiated names the same set as the guest, port by port;
#   - ferryd's counters: frames larger than the MTU crossed the on-pair (b0's rx bytes per frame
#     above 1514: TSO segments) and none the off-pair (b1's rx bytes per frame at most 1514, and
#     a1's rx frames at least the blob's bytes / 1448: it arrived in MSS-sized frames).
# The throughput of each pair (median of 3) and their ratio are printed, never asserted (timing
# under TCG on a shared host is no test; bench/ measures).
#   TCP_MIB   blob size in MiB (default 32; the guests have 512 MiB, /tmp is half of it)
set -u
QEMU_TEST_LIMIT=${QEMU_TEST_LIMIT:-240}
. "$(dirname "$0")/lib.sh"
q_init "${Q_TEST_NAME:-offloads_tcp}"
MIB=${TCP_MIB:-32}

MA0=52:54:00:0a:00:01 MB0=52:54:00:0a:00:02 MA1=52:54:00:14:00:01 MB1=52:54:00:14:00:02
q_config "$(q_vport a0 server $MA0 10)" "$(q_vport b0 server $MB0 10)" \
	"$(q_vport a1 server $MA1 20 '"offloads":false')" "$(q_vport b1 server $MB1 20 '"offloads":false')"

# both guests: eth0 = the on-NIC (init gave it ferry_ip), eth1 = the off-NIC, checked by MAC;
# the negotiated feature bits of each
common() {   # common MAC0 MAC1 IP1
	cat <<-EOF
	[ "\$(cat /sys/class/net/eth0/address)" = $1 ] || fail "eth0 is not the first NIC ($1)"
	[ "\$(cat /sys/class/net/eth1/address)" = $2 ] || fail "eth1 is not the second NIC ($2)"
	ip link set eth1 up && ip addr add $3 dev eth1 || fail "eth1 $3"
	for i in eth0 eth1; do
		d=\$(readlink -f /sys/class/net/\$i/device)
		echo "FEAT \$i \$(cat /sys/class/net/\$i/address) \${d##*/} \$(cat \$d/features)"
	done
	EOF
}
{ common $MB0 $MB1 10.0.20.2/24; cat <<-EOF; } | q_script b > /dev/null
# the blob: 1 MiB from /dev/urandom repeated (urandom for all of it costs seconds under TCG)
head -c 1048576 /dev/urandom > /tmp/seed || fail "urandom"
i=0; : > /tmp/blob
while [ \$i -lt $MIB ]; do cat /tmp/seed >> /tmp/blob || fail "blob"; i=\$((i + 1)); done
echo "BLOB bytes=\$(wc -c < /tmp/blob) md5=\$(md5sum < /tmp/blob | cut -d' ' -f1)"
mv /tmp/blob /tmp/www/blob
# leave only once a is done with us (a's /done), then a sees us gone
t0=\$(date +%s)
until wget -q --spider http://10.0.10.1:8080/done 2>/dev/null; do
	[ \$((\$(date +%s) - t0)) -ge 200 ] && fail "a never finished"
	sleep 0.5
done
EOF
{ common $MA0 $MA1 10.0.20.1/24; cat <<-'EOF'; } | q_script a > /dev/null
for p in 10.0.10.2 10.0.20.2; do
	wait_peer $p 60 || fail "peer $p unreachable"
	wait_blob $p 60 || fail "$p serves no blob"
done
n=0
for pair in on off off on on off; do
	n=$((n + 1))
	if [ $pair = on ]; then p=10.0.10.2; else p=10.0.20.2; fi
	t0=$(uptime_s)
	timeout 100 wget -q -O /tmp/got "http://$p:8080/blob" || fail "download $n from $p failed"
	t1=$(uptime_s)
	echo "XFER n=$n pair=$pair from=$p bytes=$(wc -c < /tmp/got) secs=$(awk "BEGIN{printf \"%.2f\", $t1-$t0}") md5=$(md5sum < /tmp/got | cut -d' ' -f1)"
	rm -f /tmp/got
done
touch /tmp/www/done
i=0
while ping -c1 -W1 10.0.10.2 > /dev/null 2>&1; do
	i=$((i + 1)); [ $i -ge 30 ] && break; sleep 0.5
done
EOF

ferryd_start
ferryd_wait_ready 20
vm_start a ip=10.0.10.1/24 mac=$MA0 sock="$Q_DIR/a0.sock" mac2=$MA1 sock2="$Q_DIR/a1.sock" chr=client script="$Q_DIR/a.sh" mem=512 timeout=220
vm_start b ip=10.0.10.2/24 mac=$MB0 sock="$Q_DIR/b0.sock" mac2=$MB1 sock2="$Q_DIR/b1.sock" chr=client script="$Q_DIR/b.sh" mem=512 timeout=220
vm_wait a '^FEAT eth1' 90
vm_wait b '^FEAT eth1' 90

# --- features: the guest's bits (decoded) and ferryd's names, per port, while the guests run ----
NAMES=([0]=CSUM [1]=GUEST_CSUM [3]=MTU [7]=GUEST_TSO4 [8]=GUEST_TSO6 [9]=GUEST_ECN [10]=GUEST_UFO
	[11]=HOST_TSO4 [12]=HOST_TSO6 [13]=HOST_ECN [14]=HOST_UFO [15]=MRG_RXBUF)
OFFL="CSUM GUEST_CSUM GUEST_TSO4 GUEST_TSO6 HOST_TSO4 HOST_TSO6"
decode() {   # decode BITSTRING: the names of the bits set (sysfs: character i = feature bit i)
	local i out=
	for i in "${!NAMES[@]}"; do [ "${1:i:1}" = 1 ] && out="$out ${NAMES[$i]}"; done
	echo "${out# }"
}
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
feats=
for g in a b; do
	for n in 0 1; do
		line=$(vm_grep $g "^FEAT eth$n ")
		bits=${line##* }
		got=$(decode "$bits")
		ferry=$(q_ctl call port.get "{\"name\":\"$g$n\"}" | jq -r '.offloads_negotiated | join(" ")')
		q_log "$g eth$n (port $g$n, ${line#FEAT eth$n }): guest $got; ferryd $ferry"
		[ "$(tr ' ' '\n' <<< "$got" | sort)" = "$(tr ' ' '\n' <<< "$ferry" | sort)" ] ||
			q_fail "port $g$n: the guest negotiated [$got], ferryd reports [$ferry]"
		for f in $OFFL; do
			if [ $n = 0 ]; then has "$got" $f || q_fail "$g eth$n (offloads on): no $f in [$got]"
			else ! has "$got" $f || q_fail "$g eth$n (offloads false): $f negotiated [$got]"; fi
		done
		for f in GUEST_ECN GUEST_UFO HOST_ECN HOST_UFO; do
			! has "$got" $f || q_fail "$g eth$n: $f negotiated (never offered) [$got]"
		done
		feats="$feats $g$n=[$got]"
	done
done

vm_result a 200
vm_result b 60
ferryd_alive

# --- every download byte-identical to what b served; throughput per pair ----------------------
blob=$(vm_grep b '^BLOB')
bmd5=${blob##*md5=} bbytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<< "$blob")
q_log "b served $bbytes bytes, md5 $bmd5"
[ "$bbytes" = $((MIB * 1048576)) ] || q_fail "b's blob: $bbytes bytes, not $MIB MiB"
declare -A RATES=([on]= [off]=)
while read -r line; do
	q_log "a: $line"
	pair=$(sed -n 's/.* pair=\([a-z]*\).*/\1/p' <<< "$line")
	bytes=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<< "$line")
	secs=$(sed -n 's/.* secs=\([0-9.]*\).*/\1/p' <<< "$line")
	[ "$bytes" = "$bbytes" ] && [ "${line##*md5=}" = "$bmd5" ] || q_fail "a's download differs from b's blob: $line"
	RATES[$pair]="${RATES[$pair]} $(awk -v b="$bytes" -v s="$secs" 'BEGIN{if (s <= 0) s = 0.01; printf "%.1f", b*8/s/1e6}')"
done < <(vm_grep a '^XFER ')
median() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
n_on=$(wc -w <<< "${RATES[on]}") n_off=$(wc -w <<< "${RATES[off]}")
[ "$n_on" = 3 ] && [ "$n_off" = 3 ] || q_fail "downloads: $n_on on the on-pair, $n_off on the off-pair (want 3 and 3)"
mon=$(median "${RATES[on]}") moff=$(median "${RATES[off]}")
ratio=$(awk -v a="$mon" -v b="$moff" 'BEGIN{printf "%.2f", a/b}')
load=$(cut -d' ' -f1-3 /proc/loadavg)
q_log "Mbit/s on:${RATES[on]} (median $mon) off:${RATES[off]} (median $moff): ratio $ratio, host load $load"

# --- ferryd's counters: TSO segments on the on-pair, MTU frames only on the off-pair ----------
ferryd_stop TERM
[ "$FERRYD_RC" = 0 ] || q_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
for p in a0 b0 a1 b1; do
	q_log "port $p: rx $(ferryd_stat $p '"\(.rx_packets) frames \(.rx_bytes) B"'), tx $(ferryd_stat $p '"\(.tx_packets) frames \(.tx_bytes) B"'), drops $(ferryd_stat $p '.drops | with_entries(select(.value > 0)) | tostring')"
done
per() { ferryd_stat "$1" "if .$2_packets > 0 then (.$2_bytes / .$2_packets | floor) else 0 end"; }
b0=$(per b0 rx) a0=$(per a0 tx) b1=$(per b1 rx) a1=$(per a1 tx)
[ "$b0" -gt 1514 ] || q_fail "on-pair: b0 received $b0 bytes per frame from b: none above the MTU (no HOST_TSO)"
[ "$a0" -gt 1514 ] || q_fail "on-pair: a0 sent $a0 bytes per frame to a: none above the MTU (no GUEST_TSO)"
[ "$b1" -le 1514 ] || q_fail "off-pair: b1 received $b1 bytes per frame from b: above the MTU without offloads"
[ "$a1" -le 1514 ] || q_fail "off-pair: a1 sent $a1 bytes per frame to a: above the MTU without offloads"
a1n=$(ferryd_stat a1 .tx_packets)
[ "$a1n" -ge $((3 * bbytes / 1448)) ] || q_fail "off-pair: only $a1n frames to a1 for 3 x $bbytes bytes (MSS 1448)"
q_pass "3+3 downloads of $MIB MiB md5-identical; Mbit/s median offloads on $mon, off $moff, ratio $ratio" \
	"(TCG, load $load); B/frame b->b0 $b0, a0->a $a0, b->b1 $b1, a1->a $a1;$feats"
