# lib.sh — helpers of the lab guest's scenarios (sourced by lab.sh; runs inside the lab VM, in a
# chroot of the host's / mounted read-only over 9p). The host's run directory is $OUT (read-write):
# logs, configs, reports and the results file go there; sockets and DPDK runtime files stay in the
# guest's tmpfs (/run).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
OUT=/tmp/ferry-lab
BIN=$OUT/bin
SOCKS=/run/lab
RESULTS=$OUT/results.txt
mkdir -p "$SOCKS"

# Wiring (tests/lab/run.sh): hub 0 joins NIC0 and EM0, hub 1 joins NIC1 and EM1.
NIC0=0000:01:00.0   # igb 82576 (QEMU id nic0), SR-IOV capable
NIC1=0000:02:00.0   # igb 82576 (nic1)
EM0=0000:03:00.0    # e1000e 82574 (em0)
EM1=0000:04:00.0    # e1000e 82574 (em1)

# Time without forking (process creation is slow under TCG over 9p): NOW (uptime "12.34"), NOW_CS
# (centiseconds); nap S sleeps in the shell itself (read on a FIFO nobody writes).
now() { read -r NOW _ < /proc/uptime; NOW_CS=${NOW/./}; NOW_CS=$((10#$NOW_CS)); }
ts() { now; echo "$NOW"; }
mkfifo "$SOCKS/.nap" 2>/dev/null
exec {NAP_FD}<> "$SOCKS/.nap"
nap() { read -r -t "$1" -u "$NAP_FD" _; return 0; }
DL_CS=0
deadline() { now; DL_CS=$((NOW_CS + $1 * 100)); }   # deadline SECONDS: starts a wait
in_time() { now; [ "$NOW_CS" -lt "$DL_CS" ]; }       # in_time: the deadline is not reached
since() { now; local d=$((NOW_CS - $1)); printf '%d.%02d' $((d / 100)) $((d % 100)); }   # since START_CS
say() {   # progress line: console and $OUT/lab.log (run.sh prints it on the host as it comes)
	local l="[guest $(ts) s${S:+ $S}] $*"
	echo "$l"
	echo "$l" >> "$OUT/lab.log"
}

# ---- scenario frame: S (name), SDIR (its directory), S_PIDS (processes to stop at its end) ----
S= SDIR=
S_PIDS=()
s_begin() {
	S=$1
	SDIR=$OUT/$S
	mkdir -p "$SDIR"
	S_PIDS=()
	now; S_T0=$NOW_CS
	say "---- begin"
	# lab.hang=NAME (run.sh's FERRY_LAB_TEST_HANG, first boot only): play a hung guest here, to
	# test the host's watchdog
	if grep -q " lab.hang=$S\( \|$\)" /proc/cmdline; then
		say "lab.hang: hanging here (a watchdog test)"
		while :; do nap 60; done
	fi
}
s_secs() { since "$S_T0"; }
s_verdict() {   # s_verdict PASS|FAIL TEXT: the scenario's one result line (first verdict wins)
	grep -qE "^(PASS|FAIL): lab/$S( |:|$)" "$RESULTS" 2>/dev/null && return 0
	if [ "$1" = PASS ]; then
		echo "PASS: lab/$S${2:+ ($2)}" >> "$RESULTS"
	else
		echo "FAIL: lab/$S: $2" >> "$RESULTS"
	fi
	say "$1 ($(s_secs) s): $2"
}
s_pass() { s_verdict PASS "$*"; }
s_fail() { s_verdict FAIL "$*"; return 1; }
s_end() {   # stops every process the scenario started (TERM, then KILL)
	local p
	for p in "${S_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null || continue
		kill -TERM "$p" 2>/dev/null
		deadline 5
		while kill -0 "$p" 2>/dev/null && in_time; do nap 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	S_PIDS=()
	rm -rf /run/dpdk/lab-* /run/dpdk/vp-* "${SOCKS:?}"/* 2>/dev/null
	say "---- end ($(s_secs) s)"
}

# ---- devices ----
bind_vfio() {   # bind_vfio BDF: the device's driver becomes vfio-pci
	local d=/sys/bus/pci/devices/$1 drv
	[ -e "$d" ] || { say "no device $1"; return 1; }
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
	[ "$drv" = vfio-pci ] && return 0
	[ -n "$drv" ] && echo "$1" > "$d/driver/unbind"
	echo vfio-pci > "$d/driver_override"
	echo "$1" > /sys/bus/pci/drivers_probe
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
	[ "$drv" = vfio-pci ] || { say "$1: bound to '$drv', not vfio-pci"; return 1; }
}
vf_addr() {   # vf_addr PF_BDF N: the PCI address VF N of the PF will have (SR-IOV offset/stride)
	local d=/sys/bus/pci/devices/$1 off stride dom bus dev fn rid
	off=$(cat "$d/sriov_offset") stride=$(cat "$d/sriov_stride")
	IFS=':.' read -r dom bus dev fn <<< "$1"
	rid=$(( (16#$bus << 8) + (16#$dev << 3) + 16#$fn + off + $2 * stride ))
	printf '%s:%02x:%02x.%x\n' "$dom" $((rid >> 8)) $(((rid >> 3) & 31)) $((rid & 7))
}
sriov_reset() {   # sriov_reset PF_BDF: no VFs (a previous scenario may have left some)
	local d=/sys/bus/pci/devices/$1
	[ "$(cat "$d/sriov_numvfs" 2>/dev/null || echo 0)" = 0 ] || echo 0 > "$d/sriov_numvfs"
}

# ---- the host's monitor (tests/lab/monitor.py): device_del, trace on/off ----
REQ_N=0
host_req() {   # host_req WORDS...: one request, waits up to 20 s for the answer (printed)
	REQ_N=$((REQ_N + 1))
	local f
	f=$OUT/req/$(printf '%s-%03d' "$S" "$REQ_N")
	echo "$*" > "$f.tmp" && mv "$f.tmp" "$f.req"
	deadline 20
	while in_time; do
		if [ -f "$f.done" ]; then
			local first
			read -r first < "$f.done"
			cat "$f.done"
			[[ $first == ok* ]]
			return
		fi
		nap 0.1
	done
	echo "no answer from the host monitor"
	return 1
}

# ---- ferryd ----
FERRYD_PID= FERRYD_LOG= FERRYD_RC=
ferryd_start() {   # ferryd_start CFG [LOG]: starts ferryd in the background
	FERRYD_LOG=${2:-$SDIR/ferryd.log}
	"$BIN/ferryd" --config "$1" -- --file-prefix "lab-$S" > "$FERRYD_LOG" 2>&1 &
	FERRYD_PID=$!
	S_PIDS+=("$FERRYD_PID")
	say "ferryd started (pid $FERRYD_PID)"
}
ferryd_wait_ready() {   # ferryd_wait_ready [TIMEOUT_S]: its "ferryd ready" line (1 if it exited)
	local t0
	now; t0=$NOW_CS
	deadline "${1:-60}"
	while in_time; do
		if grep -q "ferryd ready" "$FERRYD_LOG"; then
			say "ferryd ready after $(since "$t0") s"
			return 0
		fi
		kill -0 "$FERRYD_PID" 2>/dev/null || { wait "$FERRYD_PID"; FERRYD_RC=$?; return 1; }
		nap 0.2
	done
	return 2
}
ferryd_stop() {   # SIGTERM, wait up to 20 s (then SIGKILL); FERRYD_RC
	kill -TERM "$FERRYD_PID" 2>/dev/null
	deadline 20
	while kill -0 "$FERRYD_PID" 2>/dev/null && in_time; do nap 0.1; done
	kill -0 "$FERRYD_PID" 2>/dev/null && { say "ferryd ignored SIGTERM for 20 s: SIGKILL"; kill -KILL "$FERRYD_PID"; }
	wait "$FERRYD_PID" 2>/dev/null
	FERRYD_RC=$?
	say "ferryd stopped, exit status $FERRYD_RC"
}
ferryd_tail() {   # ferryd's last error lines (or its last lines), one line for a verdict
	local sel
	sel=$(grep -E '^ferryd: |invalid|[Ee]rror|[Ff]ail|refused|[Cc]annot|ENOTSUP' "$FERRYD_LOG" | grep -v 'already stopped' | tail -n 3)
	[ -n "$sel" ] || sel=$(grep -v '^$' "$FERRYD_LOG" | tail -n "${1:-4}")
	echo "$sel" | tr '\n' '|' | sed 's/|$//' | cut -c1-600
}
declare -A FSTAT=()
fstat_load() {   # reads the "stats" lines ferryd logged at exit (one jq for all ports)
	local name rx tx drops
	FSTAT=()
	while read -r name rx tx drops; do
		FSTAT[$name]="$rx $tx $drops"
	done < <(sed -n 's/.*ferry: stats //p' "$FERRYD_LOG" | jq -r '[.name, .rx_packets, .tx_packets, .drops_total] | @tsv')
}
fstat() {   # fstat PORT rx|tx|drops: a counter from ferryd's exit stats (empty: no such port)
	local v=(${FSTAT[$1]:-})
	case $2 in rx) echo "${v[0]:-}" ;; tx) echo "${v[1]:-}" ;; drops) echo "${v[2]:-}" ;; esac
}
fstat_line() {   # fstat_line PORT: rx/tx/drops of a port, for messages
	local v=(${FSTAT[$1]:-- - -})
	echo "$1 rx ${v[0]} tx ${v[1]} drops ${v[2]}"
}

# ferryd_rpc METHOD [PARAMS_JSON] [--zc-idle S]: one call on ferryd's control socket (guest/rpc.py);
# prints the result as one JSON line
ferryd_rpc() { /usr/bin/python3 "$OUT/guest/rpc.py" "$SOCKS/ctl.sock" "$@"; }

# ---- DMAR faults, as the guest kernel and QEMU see them ----
# The guest's intel-iommu driver (drivers/iommu/intel/dmar.c, dmar_fault() and dmar_fault_do_one(),
# pr_fmt "DMAR: ") logs a DMA remapping fault as
#   DMAR: DRHD: handling fault status reg %x
#   DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x... [fault reason 0x06] PTE Read access is not set
# ("DMA Write", "PASID 0x%x" instead of NO_PASID, or "[INTR-REMAP] ... fault index" for interrupt
# remapping). QEMU's VT-d model traces every fault it reports as "vtd_dmar_fault sid 0x.. fault N
# addr 0x.. write N" (and "vtd_fault_disabled" for one it may not report) in qemu-trace.log.
# Both are checked (the kernel pattern also takes any other "DMAR: ... fault" line); the dmar-fault
# scenario shows both fire for a DMA to an unmapped IOVA.
DMAR_FAULT_RE='DMAR: (\[(DMA Read|DMA Write|INTR-REMAP)|DRHD: handling fault)|DMAR:.*[Ff]ault'
QEMU_FAULT_RE='vtd_dmar_fault|vtd_fault_disabled'
FAULT_K0=0 FAULT_T0=0
fault_mark() {   # the baseline: only what both logs get after this counts
	FAULT_K0=$(dmesg | wc -l)
	FAULT_T0=$(wc -l < "$OUT/qemu-trace.log")
}
# fault_scan: DMAR faults since fault_mark into $SDIR/faults-{dmesg,qemu}.txt; FAULTS = how many
# (0: none) and FAULT_FIRST = the first one, for a verdict
fault_scan() {
	local k
	k=$(dmesg | wc -l)
	# a kernel log that wrapped since the mark (not seen in this lab): look at all of it
	[ "$k" -ge "$FAULT_K0" ] || FAULT_K0=0
	dmesg | tail -n +$((FAULT_K0 + 1)) | grep -E "$DMAR_FAULT_RE" > "$SDIR/faults-dmesg.txt"
	tail -n +$((FAULT_T0 + 1)) "$OUT/qemu-trace.log" | grep -E "$QEMU_FAULT_RE" > "$SDIR/faults-qemu.txt"
	FAULTS=$(( $(wc -l < "$SDIR/faults-dmesg.txt") + $(wc -l < "$SDIR/faults-qemu.txt") ))
	FAULT_FIRST=$(cat "$SDIR/faults-dmesg.txt" "$SDIR/faults-qemu.txt" | head -n 1 | cut -c1-300)
}

# ---- test peers (ferry-vpeer: numbered, checksummed UDP frames and a JSON report) ----
declare -A PEER_PID=()
peer_start() {   # peer_start NAME pci:BDF|vhost:SOCKET [vpeer options...]
	local name=$1 where=$2 eal
	shift 2
	case $where in
	pci:*) eal=(-a "${where#pci:}") ;;
	vhost:*) eal=(--no-pci --single-file-segments --vdev "net_virtio_user0,path=${where#vhost:},queue_size=1024") ;;
	esac
	"$BIN/ferry-vpeer" -l 0 --no-telemetry --in-memory --file-prefix "vp-$name" "${eal[@]}" -- \
		--report "$SDIR/$name.json" "$@" > "$SDIR/$name.log" 2>&1 &
	PEER_PID[$name]=$!
	S_PIDS+=("$!")
}
peer_wait() {   # peer_wait NAME TIMEOUT_S: waits for the peer to exit by itself; 1 if not in time
	deadline "$2"
	while in_time; do
		kill -0 "${PEER_PID[$1]}" 2>/dev/null || { wait "${PEER_PID[$1]}"; return $?; }
		nap 0.1
	done
	return 1
}
peer_progress() {   # peer_progress NAME KEY: the last --progress value (0 before the first line)
	local l
	l=$(tail -n 2 "$SDIR/$1.log" 2>/dev/null)
	[[ $l =~ .*\ $2=([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo 0
}
rj() { jq -r "$2" "$SDIR/$1.json" 2>/dev/null; }
peer_tail() { tail -n 3 "$SDIR/$1.log" 2>/dev/null | tr '\n' '|' | cut -c1-400; }
# flow_check TX RX MIN_PERCENT: RX got TX's frames undamaged, unduplicated, in order per flow (up to
# MAX_OOO_PERMILLE, default 1 per mille, reordered), at least MIN_PERCENT of them. Sets FLOW (a summary); returns 1 with FLOW_ERR on failure.
flow_check() {
	local tx=$1 rx=$2 sent got dup ooo bad synced
	FLOW_ERR=
	[ -s "$SDIR/$tx.json" ] || { FLOW_ERR="$tx wrote no report ($(peer_tail "$tx"))"; return 1; }
	[ -s "$SDIR/$rx.json" ] || { FLOW_ERR="$rx wrote no report ($(peer_tail "$rx"))"; return 1; }
	read -r sent got dup ooo bad synced < <(jq -rn --slurpfile t "$SDIR/$tx.json" --slurpfile r "$SDIR/$rx.json" \
		'$t[0] as $t | $r[0] as $r | ($t.id | tostring) as $id |
		 [$t.tx, ($r.senders[$id].rx // 0), ($r.senders[$id].dup // 0), ($r.senders[$id].ooo // 0),
		  $r.rx_bad, $t.synced_after_ms] | @tsv')
	FLOW="$tx->$rx $got/$sent"
	[ "${ooo:-0}" = 0 ] || FLOW="$FLOW ($ooo reordered)"
	[ "${sent:-0}" -gt 0 ] || { FLOW_ERR="$tx sent nothing (synced after ${synced:-?} ms; $(peer_tail "$tx"))"; return 1; }
	[ "$bad" = 0 ] || { FLOW_ERR="$rx received $bad corrupted frames"; return 1; }
	[ "$dup" = 0 ] || { FLOW_ERR="$tx->$rx: $dup duplicates"; return 1; }
	# QEMU's net queue can hand a new frame to a NIC ahead of older queued ones when the receiver
	# falls behind under TCG: a few reordered frames are the emulation's, not the switch's
	[ $((ooo * 1000)) -le $((sent * ${MAX_OOO_PERMILLE:-1})) ] || { FLOW_ERR="$tx->$rx: $ooo of $sent frames out of order within their flow"; return 1; }
	[ "$got" -le "$sent" ] || { FLOW_ERR="$tx->$rx: received $got > sent $sent"; return 1; }
	[ $((got * 100)) -ge $((sent * $3)) ] || { FLOW_ERR="$tx->$rx: only $got of $sent frames arrived (< $3 %)"; return 1; }
}
