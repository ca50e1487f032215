#!/usr/bin/env bash
# zc_evil.sh — a hostile guest against ferryd's guest TX path. ferry-evilguest (tests/tools/evilguest.c)
# is a vhost-user frontend of its own (no QEMU, no DPDK) that posts on its TX ring a seeded mix of valid
# frames and malicious descriptor chains: addresses outside guest memory, in the GPA gap between its
# regions, straddling region ends or wrapping past 2^64, huge lengths, loops (self, two, long, through
# data), next beyond the table, device-writable buffers, indirect tables (valid, nested, misaligned,
# empty, outside memory, INDIRECT|NEXT, straddling, huge, looping, next beyond, writable), chains shorter
# than the virtio-net header, heads beyond the ring, the same head twice, avail idx jumping thousands
# ahead, descriptors rewritten right after they are posted (TOCTOU), and a memory table changed while
# the rings run (hot-plug), and a live migration's dirty log (switched on, replaced 300 times under
# traffic, switched off: the used ring's page marked exactly while logging) and SEND_RARP (one RARP
# frame). Port vm1 (server, access VLAN 10) forwards to a net_pcap port "cap" (same
# VLAN, the destination MAC pinned there).
#
# For each zero_copy mode — "on" and "auto" (ferry's own dequeue, needs --iova-mode=va) and "off"
# (rte_vhost's dequeue, for comparison) — one ferryd runs several guests (seeds) one after the other,
# then stops; and once more with "on" against an AddressSanitizer build of ferryd (build-fuzz/, see
# tests/fuzz/run.sh) when there is one. Checks:
#   - each guest's own checks (its exit status; errors in <phase>-<seed>.json): every in-range head it
#     posted came back on the used ring exactly once (duplicates once or twice), nothing unposted came
#     back, GET_VRING_BASE matches what it posted, ferry's zero_copy.bad_descriptors rose by what it
#     injected (on/auto), zero_copy state is active (on/auto) or off;
#   - ferryd is alive and answers on its control socket after every guest, exits 0 on SIGTERM, and
#     (ASan build) logs no AddressSanitizer report;
#   - from the pcap (ferry-evilguest --verify): every valid frame arrived exactly once and intact, every
#     duplicated head's frame once or twice (as often as the head came back), and (on/auto) no frame
#     of a chain ferry must reject was forwarded; what the counters rose by beyond the injected chains
#     is at most the TOCTOU chains that did not arrive.
# Environment: EVIL_PHASES (default "on auto off asan"), EVIL_SECS (per guest, default 5), EVIL_SEED
# (first seed, default 1; "random" for a random one), EVIL_HOTPLUG (0: no memory hot-plug run),
# FERRYD_ASAN (the ASan ferryd; default build-fuzz/app/ferryd/ferryd, built here when build-fuzz/ is
# configured; "none" skips that phase), EVIL_LIMIT (seconds for the whole scenario, default 400),
# EVIL_DEBUG (passed to the guest: 1 or 2 log duplicates/repairs or every posting).
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
# shellcheck disable=SC2034  # read by t_init (the scenario's watchdog)
T_LIMIT=${EVIL_LIMIT:-400}
FERRYD_EAL_EXTRA="${FERRYD_EAL_EXTRA:-} --iova-mode=va"

EVIL=$BUILD/tests/tools/ferry-evilguest
SECS=${EVIL_SECS:-5}
SEED=${EVIL_SEED:-1}
[ "$SEED" = random ] && SEED=$(( (RANDOM << 15 | RANDOM) + 1 ))
PHASES=${EVIL_PHASES:-on auto off asan}
HOTPLUG=${EVIL_HOTPLUG:-1}
M1=52:54:00:00:0e:01
M2=02:00:00:00:0e:02
FERRYD_MAIN=$FERRYD

# The ASan ferryd: tests/fuzz/run.sh configures build-fuzz/ (clang, -Db_sanitize=address) but builds
# only the fuzz targets; build ferryd there too (incremental) before the watchdog starts.
ASAN_BIN=
ASAN_NOTE="no ASan build of ferryd (run tests/fuzz/run.sh first, or set FERRYD_ASAN)"
if [ "${FERRYD_ASAN:-}" = none ]; then
	ASAN_NOTE="ASan phase disabled (FERRYD_ASAN=none)"
elif [ -n "${FERRYD_ASAN:-}" ]; then
	ASAN_BIN=$(t_abs "$FERRYD_ASAN")
elif [ -f "$T_ROOT/build-fuzz/build.ninja" ]; then
	asan_log=$(mktemp)
	if timeout 900 ninja -C "$T_ROOT/build-fuzz" app/ferryd/ferryd > "$asan_log" 2>&1; then
		ASAN_BIN=$T_ROOT/build-fuzz/app/ferryd/ferryd
	else
		ASAN_NOTE="building build-fuzz/app/ferryd/ferryd failed: $(tail -n 3 "$asan_log" | tr '\n' ' ')"
	fi
	rm -f "$asan_log"
fi

t_init zc_evil
[ -x "$EVIL" ] || t_fail "$EVIL not built"

RESULTS=()

# The per-seed reports, checked after ferryd stopped (its pcap is complete only then).
check_run() {   # check_run PHASE MODE PCAP REPORT ABRUPT
	local phase=$1 mode=$2 pcap=$3 rep=$4 abrupt=$5 v ver
	v=${rep%.json}.verify.json
	"$EVIL" --verify "$pcap" --report-in "$rep" --mac $M1 --report "$v" 2>> "$T_DIR/verify.log"
	[ -s "$v" ] || t_fail "$phase: verify wrote nothing for $(basename "$rep")"
	t_log "$phase $(jq -r '"run \(.run): valid \(.valid_sent) sent, \(.valid_missing) missing, \(.valid_dup) dup; dup heads \(.dup_sent) (\(.dup_arrived_twice) arrived twice); hot-plug \(.hotplug_sent) sent, \(.hotplug_missing) missing; arrived \(.arrived|@json); altered \(.altered|@json)"' "$v")"
	[ "$(jq -r .ok "$v")" = true ] || t_fail "$phase run $(jq -r .run "$v"): $(jq -r '.errors|join("; ")' "$v")"
	ver=$(jq -r '.dup_arrived_twice' "$v")
	local twice
	twice=$(jq -r '.dup_returns.twice' "$rep")
	if [ "$abrupt" = 1 ]; then
		[ "$ver" -ge "$twice" ] || t_fail "$phase run $(jq -r .run "$v"): $twice duplicated heads came back twice but only $ver of their frames arrived twice"
	else
		[ "$ver" = "$twice" ] || t_fail "$phase run $(jq -r .run "$v"): $twice duplicated heads came back twice, $ver of their frames arrived twice"
	fi
	if [ "$mode" != off ] && [ "$abrupt" = 0 ]; then
		# bad_descriptors beyond the injected chains: only TOCTOU chains that were not forwarded
		local excess budget
		excess=$(jq -r '[.bad_descriptors_delta as $d | .injected as $i | ($d|keys[]) |
			select(. != "duplicate" and . != "bad_head") | ($d[.] - ($i[.] // 0))] | add' "$rep")
		budget=$(( $(jq -r '.posted.toctou // 0' "$rep") - $(jq -r '.arrived.toctou // 0' "$v") ))
		[ "$excess" -le "$budget" ] || t_fail "$phase run $(jq -r .run "$v"): bad_descriptors rose by $excess beyond the injected chains; only $budget TOCTOU chains were not forwarded"
	fi
}

phase() {   # phase NAME MODE FERRYD_BINARY NSEEDS
	local name=$1 mode=$2 bin=$3 n=$4 i seed pcap rep log rc flags runs=()
	pcap=$T_DIR/$name.pcap
	t_config "{\"name\":\"vm1\",\"type\":\"vhostuser\",\"path\":\"$T_DIR/vm1.sock\",\"mode\":\"server\",\"mac\":[\"$M1\"],\"vlan\":{\"mode\":\"access\",\"tag\":10},\"zero_copy\":\"$mode\"}" \
		"{\"name\":\"cap\",\"type\":\"dpdk\",\"devargs\":\"net_pcap0,tx_pcap=$pcap\",\"mac\":[\"$M2\"],\"vlan\":{\"mode\":\"access\",\"tag\":10}}"
	FERRYD=$bin
	ferryd_start
	ferryd_wait_ready 60
	wait_socket "$T_DIR/vm1.sock" 10
	t_log "$name: ferryd ${bin#"$T_ROOT"/}, zero_copy $mode, $n guests of $SECS s"
	for i in $(seq 0 $((n - 1))); do
		seed=$((SEED + i))
		flags=()
		# the first guest of a phase leaves abruptly (heads outstanding, maybe lent), the second
		# changes its memory table mid-run and goes through a live migration's dirty logging
		[ "$i" = 0 ] && [ "$n" -gt 1 ] && flags+=(--abrupt)
		[ "$i" = 1 ] && [ "$HOTPLUG" = 1 ] && flags+=(--hotplug --migration)
		# ring sizes: 256, a small one (chain budgets), the largest the guest lays out
		[ "$i" = 2 ] && flags+=(--ring 64)
		[ "$i" = 3 ] && flags+=(--ring 512)
		rep=$T_DIR/$name-$seed.json
		log=$T_DIR/$name-$seed.log
		EVIL_DEBUG=${EVIL_DEBUG:-0} timeout $((SECS + 60)) "$EVIL" --socket "$T_DIR/vm1.sock" \
			--rpc "$T_DIR/ferryd.sock" --port vm1 --mac $M1 --dst $M2 --mode "$mode" \
			--seed "$seed" --duration "$SECS" --report "$rep" "${flags[@]}" > "$log" 2>&1
		rc=$?
		ferryd_alive
		[ "$rc" = 0 ] || { [ -s "$rep" ] && t_fail "$name seed $seed${flags[*]:+ (${flags[*]})}: $(jq -r '.errors|join("; ")' "$rep")"; t_fail "$name seed $seed: guest exited with status $rc (see $(basename "$log"))"; }
		ferryd_rpc switch.info | grep -q '"uptime' || t_fail "$name seed $seed: ferryd's control socket does not answer"
		t_log "$name seed $seed${flags[*]:+ (${flags[*]})}: $(jq -r '"event_idx \(.event_idx), \(.valid_sent) valid, malicious \(.injected|@json), toctou \(.posted.toctou // 0), jumps \(.jumps) (\(.jump_entries) heads), repaired (rte_vhost stalls) \([.repaired_off_mode[]]|add // 0), zc \(.zc_state // "-") lent \(.lent // 0) copied \(.copied // 0), bad_descriptors +\(.bad_descriptors_delta // {}|@json)"' "$rep")"
		runs+=("$rep:$([ "$i" = 0 ] && [ "$n" -gt 1 ] && echo 1 || echo 0)")
	done
	ferryd_stop TERM 20
	ferryd_check_exit "$name"
	t_log "$name: ferryd's exit stats for vm1: $(sed -n 's/^ferry: stats //p' "$FERRYD_LOG" | jq -c 'select(.name == "vm1") | {rx_packets, drops, zero_copy: (.zero_copy | {state, lent, copied, copy_reasons, forced_returns, no_mbuf, inflight_max})}' 2>/dev/null)"
	for r in "${runs[@]}"; do
		check_run "$name" "$mode" "$pcap" "${r%:*}" "${r##*:}"
	done
	rm -f "$pcap"
	RESULTS+=("$name: ${#runs[@]} guests")
	FERRYD=$FERRYD_MAIN
}

t_log "seeds from $SEED, $SECS s per guest, phases: $PHASES"
for ph in $PHASES; do
	case $ph in
	on)   phase on on "$FERRYD_MAIN" 4 ;;
	auto) phase auto auto "$FERRYD_MAIN" 3 ;;
	off)  phase off off "$FERRYD_MAIN" 2 ;;
	asan)
		if [ -z "$ASAN_BIN" ] || [ ! -x "$ASAN_BIN" ]; then
			t_log "asan: skipped: $ASAN_NOTE"
			RESULTS+=("asan: skipped")
			continue
		fi
		export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
		phase asan on "$ASAN_BIN" 3 ;;
	*) t_fail "unknown phase $ph" ;;
	esac
done
t_pass "$(IFS=,; echo "${RESULTS[*]}"), seeds from $SEED"
