#!/usr/bin/env bash
# zc_ring_evil.sh — a hostile guest changing its rings and its memory file after setup (security
# issue #21 items 1 and 8), against ferryd and an AddressSanitizer ferryd. ferry-evilguest
# --attack (tests/tools/evilguest.c) runs one attack per guest, then checks the same ring still
# carries valid frames, then leaves and comes back with fresh memory and checks again:
#   resize, resize2, resize3  SET_VRING_NUM 32768 on the running TX ring — before a changed
#                  SET_MEM_TABLE, after one (with SET_VRING_ADDR), and while the ring is disabled —,
#                  then heads beyond 256 where a ring of 32768 has them: the resize must be refused
#                  (NACK), ferry's queue keep its 256 entries (before the fix: ASan
#                  heap-buffer-overflow in zc_rx.c, ferry indexing its arrays up to 32767);
#   readdr         SET_VRING_ADDR outside guest memory, then the ring copied to new addresses and
#                  SET_VRING_ADDR there: ferry must follow (frames on the moved ring come back);
#   rebase         SET_VRING_BASE on the running ring, and while it is disabled: refused;
#   short          the memfd shorter than its regions at SET_MEM_TABLE, then frames whose buffers
#                  are in the missing part: zero-copy refused ("short memory file"), rte_vhost's
#                  copy of those frames must not kill ferryd (SIGBUS repaired); short2: a running
#                  guest's new table names a 64 KiB file, rte_vhost reads the rings beyond its end
#                  while it handles the message (SIGBUS on the vhost thread, repaired), ferry keeps
#                  the old table;
#   truncate       the memfd cut to 2 MiB under ferry, then frames in the cut part: SIGBUS repaired,
#                  zero_copy state "bad_memory"; truncate-huge: the same on 2 MiB pages (MFD_HUGETLB:
#                  the repair replaces whole huge pages), when 16 hugepages are free;
#   sealed         a sealable memfd: ferry seals it against shrinking.
# Port vm1 (zero_copy on: ferry's own dequeue) gets every attack; vm2 (zero_copy off: rte_vhost's
# dequeue) resize, short, short2 and the truncations. Both forward to a net_pcap port "cap" (MAC
# pinned). Checks per guest: its report (ok), ferryd alive and answering, "cap" sent at least the
# valid frames that came back, ferryd's log line for the attack; at the end ferryd exits 0 on
# SIGTERM and (ASan) logged no sanitizer report.
# Environment: RING_EVIL_PHASES (default "normal asan"), RING_EVIL_ATTACKS (vm1's, default all;
# "" none), RING_EVIL_ATTACKS_OFF (vm2's, default "resize short short2 truncate truncate-huge"),
# FERRYD_ASAN (the ASan ferryd; "none" skips that phase; default build-fuzz/app/ferryd/ferryd if
# it exists), RING_EVIL_LIMIT (seconds for the whole scenario, default 300).
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
# shellcheck disable=SC2034  # read by t_init (the scenario's watchdog)
T_LIMIT=${RING_EVIL_LIMIT:-300}
FERRYD_EAL_EXTRA="${FERRYD_EAL_EXTRA:-} --iova-mode=va"

EVIL=$BUILD/tests/tools/ferry-evilguest
PHASES=${RING_EVIL_PHASES:-normal asan}
HUGE=
[ "$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)" -ge 16 ] 2>/dev/null && HUGE=truncate-huge
ATTACKS=${RING_EVIL_ATTACKS-resize resize2 resize3 readdr rebase short short2 truncate $HUGE sealed}
ATTACKS_OFF=${RING_EVIL_ATTACKS_OFF-resize short short2 truncate $HUGE}
M1=52:54:00:00:0e:11
M3=52:54:00:00:0e:13
M2=02:00:00:00:0e:12
FERRYD_MAIN=$FERRYD
ASAN_BIN=
if [ "${FERRYD_ASAN:-}" = none ]; then
	ASAN_BIN=
elif [ -n "${FERRYD_ASAN:-}" ]; then
	ASAN_BIN=$(t_abs "$FERRYD_ASAN")
elif [ -x "$T_ROOT/build-fuzz/app/ferryd/ferryd" ]; then
	ASAN_BIN=$T_ROOT/build-fuzz/app/ferryd/ferryd
fi

t_init zc_ring_evil
[ -x "$EVIL" ] || t_fail "$EVIL not built"
RESULTS=()

# The log line each attack must leave (grep -E on ferryd's log).
expect_log() {
	case $1 in
	resize*) echo "SET_VRING_NUM 32768 for vring [0-9]+.*refused" ;;
	rebase)  echo "SET_VRING_BASE [0-9]+ for vring 1 while ferry reads it: refused" ;;
	readdr)  echo "vring 1 moved .*followed" ;;
	short)   echo "short memory file|SIGBUS in guest memory" ;;
	short2)  echo "SIGBUS in guest memory" ;;
	truncate*) echo "SIGBUS in guest memory" ;;
	*)       echo "." ;;
	esac
}

cap_tx() { ferryd_port_stat cap .tx_packets; }

attack() {   # attack PHASE PORT MAC MODE NAME
	local phase=$1 port=$2 mac=$3 mode=$4 a=$5 rep log rc tx0 tx1 back state args
	rep=$T_DIR/$phase-$port-$a.json
	log=$T_DIR/$phase-$port-$a.log
	args=(--attack "$a")
	[ "$a" = truncate-huge ] && args=(--attack truncate --hugetlb)
	tx0=$(cap_tx)
	timeout 60 "$EVIL" --socket "$T_DIR/$port.sock" --rpc "$T_DIR/ferryd.sock" --port "$port" \
		--mac "$mac" --dst $M2 --mode "$mode" --seed 7 "${args[@]}" --report "$rep" > "$log" 2>&1
	rc=$?
	ferryd_alive
	ferryd_rpc switch.info | grep -q '"uptime' || t_fail "$phase $port $a: ferryd's control socket does not answer"
	[ -s "$rep" ] || t_fail "$phase $port $a: guest exited with status $rc and no report (see $(basename "$log"))"
	[ "$(jq -r .ok "$rep")" = true ] || t_fail "$phase $port $a: $(jq -r '.errors|join("; ")' "$rep")"
	back=$(jq -r .probe_back "$rep")
	state=$(jq -r .zc_state_after "$rep")
	# the valid frames that came back were forwarded (the NIC counts them; allow it 2 s)
	for _ in $(seq 20); do
		tx1=$(cap_tx)
		[ $((tx1 - tx0)) -ge "$back" ] && break
		sleep 0.1
	done
	[ $((tx1 - tx0)) -ge "$back" ] || t_fail "$phase $port $a: $back valid frames came back, cap sent only $((tx1 - tx0))"
	grep -qE "$(expect_log "$a")" "$FERRYD_LOG" || t_fail "$phase $port $a: no ferryd log line matching '$(expect_log "$a")'"
	case $a in
	truncate*) [ "$state" = bad_memory ] || t_fail "$phase $port $a: zero_copy state \"$state\", not bad_memory" ;;
	short) [ "$mode" = off ] || [ "$state" != active ] || t_fail "$phase $port $a: zero-copy active on a short file" ;;
	esac
	t_log "$phase $port ($mode) $a: refused $(jq -r .refused "$rep"), $back valid frames back and sent by cap, zero_copy state after: $state"
}

phase() {   # phase NAME FERRYD_BINARY
	local name=$1 bin=$2 a n=0
	t_config "{\"name\":\"vm1\",\"type\":\"vhostuser\",\"path\":\"$T_DIR/vm1.sock\",\"mode\":\"server\",\"mac\":[\"$M1\"],\"vlan\":{\"mode\":\"access\",\"tag\":10},\"zero_copy\":\"on\"}" \
		"{\"name\":\"vm2\",\"type\":\"vhostuser\",\"path\":\"$T_DIR/vm2.sock\",\"mode\":\"server\",\"mac\":[\"$M3\"],\"vlan\":{\"mode\":\"access\",\"tag\":10},\"zero_copy\":\"off\"}" \
		"{\"name\":\"cap\",\"type\":\"dpdk\",\"devargs\":\"net_pcap0,tx_pcap=$T_DIR/$name.pcap\",\"mac\":[\"$M2\"],\"vlan\":{\"mode\":\"access\",\"tag\":10}}"
	FERRYD=$bin
	ferryd_start
	ferryd_wait_ready 60
	wait_socket "$T_DIR/vm1.sock" 10
	wait_socket "$T_DIR/vm2.sock" 10
	t_log "$name: ferryd ${bin#"$T_ROOT"/}"
	for a in $ATTACKS; do
		attack "$name" vm1 $M1 on "$a"
		n=$((n + 1))
	done
	for a in $ATTACKS_OFF; do
		attack "$name" vm2 $M3 off "$a"
		n=$((n + 1))
	done
	ferryd_stop TERM 20
	ferryd_check_exit "$name"
	rm -f "$T_DIR/$name.pcap"
	RESULTS+=("$name: $n attacks")
	FERRYD=$FERRYD_MAIN
}

for ph in $PHASES; do
	case $ph in
	normal) phase normal "$FERRYD_MAIN" ;;
	asan)
		if [ -z "$ASAN_BIN" ] || [ ! -x "$ASAN_BIN" ]; then
			t_log "asan: skipped (no ASan ferryd: set FERRYD_ASAN)"
			RESULTS+=("asan: skipped")
			continue
		fi
		export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
		phase asan "$ASAN_BIN" ;;
	*) t_fail "unknown phase $ph" ;;
	esac
done
t_pass "$(IFS=,; echo "${RESULTS[*]}")"
