# lab.sh — the lab's scenarios, run inside the lab VM by its /init (tests/lab/guest/init), one after
# the other, in the order below; lab.scenarios= on the kernel command line selects them. Each ends
# with one "PASS: lab/<name>" or "FAIL: lab/<name>: <reason>" line in $OUT/results.txt, which
# tests/lab/run.sh prints on the host. See tests/lab/README.md for what each one proves.
# shellcheck source=tests/lab/guest/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCEN=$(sed -n 's/.*lab\.scenarios=\([^ ]*\).*/\1/p' /proc/cmdline | tr ',' ' ')
want() { [[ " $SCEN " == *" $1 "* ]]; }

RATE=1000        # frames/s per sender: TCG moves ~0.1 Mpps per port, keep far below
COUNT=5000       # frames per sender (5 s)
MIN_PCT=99       # delivery required per flow (corruption, duplicates, reordering: none allowed)
WAIT=40          # seconds a peer waits for link and for its partner (DPDK start under TCG: 3-10 s)

MAC_VM1=02:00:00:00:0a:01
MAC_A=52:54:00:00:03:00     # EM0's MAC (hub 0)
MAC_B=52:54:00:00:04:00     # EM1's MAC (hub 1)
MAC_X=52:54:00:00:01:00     # NIC0's MAC, when a peer drives NIC0
MAC_VF=02:00:00:00:00:11    # the VF's MAC, set by ferryd (hw_mac), also the vhost guest's MAC

say "guest up: kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) MiB, hugepages $(cat /proc/sys/vm/nr_hugepages); scenarios: $SCEN"
for d in /sys/bus/pci/devices/*; do
	echo "$(basename "$d") $(cat "$d/vendor"):$(cat "$d/device") group $(basename "$(readlink "$d/iommu_group")")"
done > "$OUT/pci.txt"
dmesg | grep -iE 'DMAR|IOMMU' | head -n 20 > "$OUT/dmesg-iommu.txt"
grep -q 'DMAR: IOMMU enabled\|DMAR-IR: Enabled IRQ remapping' "$OUT/dmesg-iommu.txt" || say "warning: no 'DMAR: IOMMU enabled' in dmesg"

cfg_head() {   # cfg_head [EXTRA_TOP_LEVEL_JSON]: the common top of a config file
	printf '{"lcores": {"main": 0, "pmd": [1]}, "mbufs": 8192,\n "rpc": {"socket": "%s/ctl.sock"},%s\n "ports": [\n' "$SOCKS" "${1:+ $1,}"
}
vhost_port() {   # vhost_port NAME MAC [VLAN_JSON]
	printf '  {"name": "%s", "type": "vhostuser", "path": "%s/%s.sock", "mode": "server", "mac": ["%s"]%s}' \
		"$1" "$SOCKS" "$1" "$2" "${3:+, \"vlan\": $3}"
}

# ferryd with both igb PFs and a vhost-user guest vm1 (pf-pair, hotplug); the e1000e NICs on
# vfio-pci for the far-end peers. Non-zero (scenario already failed) if any step fails.
two_pf_switch() {
	bind_vfio $NIC0 && bind_vfio $NIC1 && bind_vfio $EM0 && bind_vfio $EM1 || { s_fail "cannot bind the NICs to vfio-pci"; return 1; }
	{ cfg_head
	  printf '  {"name": "pf0", "type": "dpdk", "devargs": "%s"},\n' $NIC0
	  printf '  {"name": "pf1", "type": "dpdk", "devargs": "%s"},\n' $NIC1
	  vhost_port vm1 $MAC_VM1; printf ']}\n'; } > "$SDIR/cfg.json"
	start_switch
}

# Starts ferryd on $SDIR/cfg.json and waits until it is ready; fails the scenario otherwise.
start_switch() {
	ferryd_start "$SDIR/cfg.json"
	ferryd_wait_ready 90 && return 0
	case $? in
	1) s_fail "ferryd exited (status $FERRYD_RC) during start-up: $(ferryd_tail)" ;;
	*) s_fail "ferryd not ready after 90 s: $(ferryd_tail)" ;;
	esac
}
# Stops ferryd, requires exit status 0 and its stats lines.
stop_switch() {
	ferryd_stop
	[ "$FERRYD_RC" = 0 ] || { s_fail "ferryd exit status $FERRYD_RC after SIGTERM: $(ferryd_tail)"; return 1; }
	grep -q 'ferry: stats ' "$FERRYD_LOG" || { s_fail "ferryd logged no stats at exit"; return 1; }
	fstat_load
}
wait_peers() {   # wait_peers TIMEOUT NAME...: every peer exits 0 in time
	local n t=$1
	shift
	for n in "$@"; do
		peer_wait "$n" "$t" || { s_fail "peer $n did not finish cleanly ($(peer_tail "$n"))"; return 1; }
	done
}
check_flows() {   # check_flows TX:RX...: flow_check each; SUMMARY collects the counts
	local f
	SUMMARY=
	for f in "$@"; do
		flow_check "${f%%:*}" "${f##*:}" "$MIN_PCT" || { s_fail "$FLOW_ERR"; return 1; }
		SUMMARY="$SUMMARY${SUMMARY:+, }$FLOW"
	done
}
check_ports_moved() {   # check_ports_moved PORT...: each port received and sent frames
	local p
	for p in "$@"; do
		[ "$(fstat "$p" rx)" -gt 0 ] 2>/dev/null && [ "$(fstat "$p" tx)" -gt 0 ] 2>/dev/null ||
			{ s_fail "port $p did not move traffic both ways: $(fstat_line "$p")"; return 1; }
	done
}

# ---------------------------------------------------------------------------------------------
# pf-pair: two igb PFs (vfio-pci) and a vhost-user guest on one switch. Peers: "a" on EM0 (the
# other end of NIC0's cable), "b" on EM1 (NIC1's cable), "vm1" on the vhost-user port.
# Flows: vm1 -> a (vhost -> PF), a -> broadcast (PF -> vhost and PF -> PF), b -> a (PF -> PF).
# iommu (same run): while traffic flows, ferryd's memzones (telemetry) and ~1 s of QEMU's VT-d
# translation trace; the host checks them after the run (tests/lab/iommu-check.py).
pf_pair() {
	s_begin pf-pair
	two_pf_switch || return
	grep -E "IOVA mode|port pf[01]" "$FERRYD_LOG" | sed 's/^/    /' | head -n 5 >> "$OUT/lab.log"
	[ "$(grep -c 'Probe PCI driver: net_e1000_igb ' "$FERRYD_LOG")" = 2 ] || { s_fail "ferryd did not probe both NICs with net_e1000_igb: $(ferryd_tail)"; return; }
	local common=(--count $COUNT --rate $RATE --wait-link $WAIT --progress 500)
	peer_start vm1 "vhost:$SOCKS/vm1.sock" --mac $MAC_VM1 --peer $MAC_A --sync "${common[@]}" --duration 10
	peer_start a "pci:$EM0" --mac $MAC_A --sync-mac $MAC_VM1 "${common[@]}" --duration 10
	peer_start b "pci:$EM1" --mac $MAC_B --peer $MAC_A --sync "${common[@]}" --duration 8
	# mid-traffic: iommu evidence
	deadline 60
	while in_time; do [ "$(peer_progress a tx)" -gt 0 ] && break; nap 0.2; done
	if want iommu; then
		mkdir -p "$OUT/iommu"
		host_req trace on vtd_dmar_translate > "$OUT/iommu/trace-on.txt"
		nap 1
		host_req trace off vtd_dmar_translate > "$OUT/iommu/trace-off.txt"
		say "iommu: translation trace on for ~1 s at a's tx=$(peer_progress a tx) ($(head -n 1 "$OUT/iommu/trace-on.txt"))"
		/usr/bin/python3 "$HERE/memzones.py" "/run/dpdk/lab-$S" "$OUT/iommu/memzones.json" > "$OUT/iommu/memzones.log" 2>&1
	fi
	wait_peers 60 vm1 a b || return
	stop_switch || return
	if want iommu; then
		grep -E "IOVA mode|VFIO|vfio" "$FERRYD_LOG" > "$OUT/iommu/ferryd-eal.txt"
		dmesg | grep -E 'DMAR:.*(fault|\[DMA)|DRHD: handling fault' > "$OUT/iommu/dmesg-faults.txt"
		printf 'pf0=%s pf1=%s\n' $NIC0 $NIC1 > "$OUT/iommu/pending"
	fi
	check_flows vm1:a a:vm1 b:a || return
	check_ports_moved pf0 pf1 vm1 || return
	s_pass "$SUMMARY; ferryd: $(fstat_line pf0), $(fstat_line pf1), $(fstat_line vm1)"
}

# ---------------------------------------------------------------------------------------------
# e1000e: ferryd drives an 82574 (net_e1000_em) and a vhost-user guest; the peer "x" drives NIC0
# (igb), the other end of EM0's cable.
e1000e() {
	s_begin e1000e
	bind_vfio $EM0 && bind_vfio $NIC0 || { s_fail "cannot bind the NICs to vfio-pci"; return; }
	{ cfg_head
	  printf '  {"name": "em0", "type": "dpdk", "devargs": "%s"},\n' $EM0
	  vhost_port vm1 $MAC_VM1; printf ']}\n'; } > "$SDIR/cfg.json"
	start_switch || return
	grep -q "Probe PCI driver: net_e1000_em .*$EM0" "$FERRYD_LOG" || { s_fail "ferryd did not probe $EM0 with net_e1000_em: $(ferryd_tail)"; return; }
	local common=(--count $COUNT --rate $RATE --wait-link $WAIT --sync --duration 8)
	peer_start vm1 "vhost:$SOCKS/vm1.sock" --mac $MAC_VM1 --peer $MAC_X "${common[@]}"
	peer_start x "pci:$NIC0" --mac $MAC_X --peer $MAC_VM1 "${common[@]}"
	wait_peers 60 vm1 x || return
	stop_switch || return
	check_flows vm1:x x:vm1 || return
	check_ports_moved em0 vm1 || return
	s_pass "$SUMMARY; ferryd: $(fstat_line em0), $(fstat_line vm1)"
}

# ---------------------------------------------------------------------------------------------
# zc / zc_withheld: zero-copy from vhost-user guests to igb NIC0 behind the vIOMMU. ferryd runs
# IOVA-as-VA with pf0 (NIC0) and two guests on zero_copy "on": vm1 sends 1400-byte frames (ferry
# lends them: 64 bytes copied into a head mbuf, the rest DMA'd by the igb straight from vm1's
# memory, which ferry maps into the VFIO container), vm2 sends 64-byte frames (copied: "small").
# The peer "a" on EM0, the other end of NIC0's cable, must receive every frame of both intact
# (vpeer's per-sender loss, duplicate and checksum accounting), and neither the guest kernel nor
# QEMU's VT-d model may report a DMAR fault while the scenario runs. ferry's port.stats, taken
# while the guests are still connected, must show nothing lent any more once they stopped sending.
# zc_withheld: the same with FERRY_ZC_WITHHOLD_DMA_MAP=1 (guest memory deliberately not mapped for
# DMA): nothing may be lent, the frames are copied (copy_reasons.dma_unmapped) and still arrive.
ZC_COUNT=3000     # frames per sender (3 s at $RATE)
ZC_SIZE=1400      # vm1's frame length (lent); vm2 sends 64-byte frames (copied)
MAC_VM2=02:00:00:00:0a:02
zc_scenario() {   # zc_scenario NAME WITHHOLD(0|1)
	local withhold=$2
	s_begin "$1"
	bind_vfio $NIC0 && bind_vfio $EM0 || { s_fail "cannot bind the NICs to vfio-pci"; return; }
	{ cfg_head '"eal_args": ["--iova-mode=va"]'
	  printf '  {"name": "pf0", "type": "dpdk", "devargs": "%s"},\n' $NIC0
	  printf '  {"name": "vm%s", "type": "vhostuser", "path": "%s/vm%s.sock", "mode": "server", "mac": ["%s"], "zero_copy": "on"}%s\n' \
		1 "$SOCKS" 1 $MAC_VM1 , 2 "$SOCKS" 2 $MAC_VM2 ''; printf ']}\n'; } > "$SDIR/cfg.json"
	fault_mark
	[ "$withhold" = 1 ] && export FERRY_ZC_WITHHOLD_DMA_MAP=1
	start_switch || return
	unset FERRY_ZC_WITHHOLD_DMA_MAP
	grep -q "IOVA mode 'VA'" "$FERRYD_LOG" || { s_fail "ferryd's EAL is not in IOVA-as-VA mode: $(grep -m1 'IOVA mode' "$FERRYD_LOG")"; return; }
	local common=(--count $ZC_COUNT --rate $RATE --wait-link $WAIT --duration 0 --progress 250)
	peer_start vm1 "vhost:$SOCKS/vm1.sock" --mac $MAC_VM1 --peer $MAC_A --sync --size $ZC_SIZE "${common[@]}"
	peer_start vm2 "vhost:$SOCKS/vm2.sock" --mac $MAC_VM2 --peer $MAC_A --sync --size 64 "${common[@]}"
	# a broadcasts until stopped: both guests sync on its frames whenever they come up
	peer_start a "pci:$EM0" --mac $MAC_A --sync-mac $MAC_VM1 --count 1000000 --rate $RATE --wait-link $WAIT --duration 0 --progress 250
	# both guests done sending (their own count), then ferry's view while they are still connected
	deadline 90
	while in_time; do
		[ "$(peer_progress vm1 tx)" -ge $ZC_COUNT ] && [ "$(peer_progress vm2 tx)" -ge $ZC_COUNT ] && break
		kill -0 "${PEER_PID[vm1]}" 2>/dev/null && kill -0 "${PEER_PID[vm2]}" 2>/dev/null && kill -0 "${PEER_PID[a]}" 2>/dev/null || break
		nap 0.25
	done
	say "guests sent: vm1 $(peer_progress vm1 tx), vm2 $(peer_progress vm2 tx); a received $(peer_progress a rx_test)"
	nap 1
	ferryd_rpc port.stats null --zc-idle 10 > "$SDIR/stats-connected.json" 2> "$SDIR/rpc.err"
	local alive=1
	kill -0 "${PEER_PID[vm1]}" 2>/dev/null && kill -0 "${PEER_PID[vm2]}" 2>/dev/null || alive=0
	# a stops first (it still receives for 0.5 s after), then the guests
	kill -USR1 "${PEER_PID[a]}" 2>/dev/null
	peer_wait a 20
	kill -USR1 "${PEER_PID[vm1]}" "${PEER_PID[vm2]}" 2>/dev/null
	wait_peers 20 vm1 vm2 a || return
	stop_switch || return
	fault_scan
	# ---- verdict ----
	[ "$FAULTS" = 0 ] || { s_fail "DMAR fault while guest frames went to the igb: $FAULT_FIRST ($FAULTS lines: $S/faults-dmesg.txt, $S/faults-qemu.txt)"; return; }
	[ $alive = 1 ] || { s_fail "a guest had exited before ferryd's stats were taken ($(peer_tail vm1) / $(peer_tail vm2))"; return; }
	# ferry's zero-copy counters: while connected (stats-connected.json) and at exit (its stats lines)
	sed -n 's/.*ferry: stats //p' "$FERRYD_LOG" > "$SDIR/stats-exit.jsonl"
	local zdef='def zs: .zero_copy | "lent=\(.lent) copied=\(.copied) reasons=\(.copy_reasons | to_entries | map(select(.value > 0) | "\(.key):\(.value)") | join(",")) inflight_max=\(.inflight_max) forced=\(.forced_returns) bad=\([.bad_descriptors[]] | add) no_mbuf=\(.no_mbuf)";'
	local c1 x1 x2
	c1=$(jq -r "$zdef"' .[] | select(.name == "vm1") | "state=\(.zero_copy.state) \(zs) inflight=\(.zero_copy.inflight) (after \(.zc_idle_after_s) s)"' "$SDIR/stats-connected.json" 2>/dev/null)
	[ -n "$c1" ] || { s_fail "no port.stats from ferryd while the guests were connected: $(cat "$SDIR/stats-connected.json" "$SDIR/rpc.err" 2>/dev/null | head -c 300 | tr '\n' ' ')"; return; }
	x1=$(jq -r "$zdef"' select(.name == "vm1") | zs' "$SDIR/stats-exit.jsonl")
	x2=$(jq -r "$zdef"' select(.name == "vm2") | zs' "$SDIR/stats-exit.jsonl")
	say "vm1 (connected, after sending): $c1"
	say "vm1 (ferryd exit): $x1"
	say "vm2 (ferryd exit): $x2"
	# every frame, none damaged: on a loss, say where ferry dropped (pf0's drop reasons)
	local f drops
	SUMMARY=
	for f in vm1:a vm2:a; do
		flow_check "${f%%:*}" "${f##*:}" 100 && { SUMMARY="$SUMMARY${SUMMARY:+, }$FLOW"; continue; }
		drops=$(sed -n 's/.*ferry: stats //p' "$FERRYD_LOG" | jq -r 'select(.name == "pf0") | .drops | to_entries | map(select(.value > 0) | "\(.key) \(.value)") | join(", ")')
		s_fail "$FLOW_ERR (ferryd: $(fstat_line pf0)${drops:+: $drops}; vm1 $x1; a's receive progress: $(grep -o 'rx_test=[0-9]*' "$SDIR/a.log" | sed -n '2p;6p;10p;14p;18p' | tr '\n' ' '))"
		return
	done
	local st lent dma forced bad inflight idle lent2 small2
	read -r lent dma forced bad < <(jq -r 'select(.name == "vm1") | .zero_copy |
		[.lent, .copy_reasons.dma_unmapped, .forced_returns, ([.bad_descriptors[]] | add)] | @tsv' "$SDIR/stats-exit.jsonl")
	read -r lent2 small2 < <(jq -r 'select(.name == "vm2") | .zero_copy |
		[.lent + ([.bad_descriptors[]] | add), .copy_reasons.small] | @tsv' "$SDIR/stats-exit.jsonl")
	# the state is the running guest's (at exit, with the guest gone, it reads no_guest)
	read -r st inflight idle < <(jq -r '.[] | select(.name == "vm1") | [.zero_copy.state, .zero_copy.inflight, .zc_idle_after_s] | @tsv' "$SDIR/stats-connected.json")
	[ "$st" = active ] || { s_fail "vm1's zero-copy was not active while it sent (state $st): $c1"; return; }
	[ "$bad" = 0 ] || { s_fail "ferry refused vm1's descriptors: $x1"; return; }
	[ "$inflight" = 0 ] || { s_fail "vm1's buffers still lent 10 s after the guests stopped sending (NIC tx descriptors never reclaimed?): $c1"; return; }
	[ "$forced" = 0 ] || { s_fail "lent buffers had to be forced back to a leaving guest: $x1"; return; }
	[ "$lent2" = 0 ] && [ "$small2" -ge $ZC_COUNT ] || { s_fail "vm2's 64-byte frames were not all copied as small (or refused): $x2"; return; }
	if [ "$withhold" = 1 ]; then
		grep -q 'FERRY_ZC_WITHHOLD_DMA_MAP set' "$FERRYD_LOG" || { s_fail "ferryd did not log the withheld DMA mapping"; return; }
		[ "$lent" = 0 ] || { s_fail "frames lent although guest memory was not mapped for DMA: $x1"; return; }
		[ "$dma" -ge $ZC_COUNT ] || { s_fail "vm1's frames not copied for dma_unmapped: $x1"; return; }
	else
		[ "$dma" = 0 ] || { s_fail "frames copied for dma_unmapped (guest memory not mapped for the igb): $x1"; return; }
		[ "$lent" -gt 0 ] || { s_fail "nothing lent: $x1"; return; }
	fi
	s_pass "$SUMMARY; 0 DMAR faults; vm1 ($st): $x1, inflight 0 ${idle} s after sending; vm2: $x2"
}

# ---------------------------------------------------------------------------------------------
# sriov-enotsup: a PF-side VF MAC/VLAN request (sriov.vfs[]) on igb, which has no such API in
# DPDK: ferryd must refuse to start, naming the PMD and ENOTSUP, and exit non-zero.
sriov_enotsup() {
	s_begin sriov-enotsup
	bind_vfio $NIC0 || { s_fail "cannot bind NIC0 to vfio-pci"; return; }
	sriov_reset $NIC0
	{ cfg_head "\"vfio_vf_token\": \"$(cat /proc/sys/kernel/random/uuid)\""
	  printf '  {"name": "pf0", "type": "dpdk", "devargs": "%s", "sriov": {"num_vfs": 2, "vfs": [{"vf": 0, "mac": "%s", "vlan": 10}]}}\n]}\n' $NIC0 $MAC_VF
	} > "$SDIR/cfg.json"
	ferryd_start "$SDIR/cfg.json"
	local rc=0
	ferryd_wait_ready 90 || rc=$?
	if [ $rc = 0 ]; then
		ferryd_stop
		s_fail "ferryd started although sriov.vfs[0] asks igb for a VF MAC/VLAN (no ENOTSUP)"
		return
	fi
	[ $rc = 1 ] || { s_fail "ferryd neither ready nor exited after 90 s: $(ferryd_tail)"; return; }
	local msg
	msg=$(grep -m1 -E "no API to set a VF's MAC or VLAN" "$FERRYD_LOG")
	[ -n "$msg" ] || { s_fail "exit status $FERRYD_RC without the ENOTSUP message: $(ferryd_tail)"; return; }
	echo "$msg" | grep -q 'net_e1000_igb' && echo "$msg" | grep -q 'ENOTSUP' ||
		{ s_fail "message does not name net_e1000_igb and ENOTSUP: $msg"; return; }
	[ "$FERRYD_RC" != 0 ] || { s_fail "ferryd printed the error but exited 0"; return; }
	s_pass "exit status $FERRYD_RC: ${msg#ferryd: }"
	sriov_reset $NIC0
}

# ---------------------------------------------------------------------------------------------
# sriov: ferryd owns PF NIC0 (vfio-pci, enable_sriov=1) and creates 2 VFs from its config, opens
# PF and VF 0 (vfio_vf_token), sets the VF's MAC (hw_mac: igbvf asks the PF - ferryd's own igb
# PMD - through the mailbox), and switches the VF's traffic to a vhost-user guest. The guest uses
# the VF's MAC; the peer "a" on EM0 (NIC0's cable) sends to that MAC, which only reaches the VF
# if the MAC was programmed. PF and VF sit in different VLANs so that broadcasts the NIC's
# internal switch loops between them are not switched back.
sriov() {
	s_begin sriov
	bind_vfio $NIC0 && bind_vfio $EM0 || { s_fail "cannot bind the NICs to vfio-pci"; return; }
	sriov_reset $NIC0
	local vf0 tok
	vf0=$(vf_addr $NIC0 0)
	tok=$(cat /proc/sys/kernel/random/uuid)
	say "VF 0 of $NIC0 will be $vf0; token $tok"
	{ cfg_head "\"vfio_vf_token\": \"$tok\""
	  printf '  {"name": "pf0", "type": "dpdk", "devargs": "%s", "sriov": {"num_vfs": 2}, "vlan": {"mode": "access", "tag": 20}},\n' $NIC0
	  printf '  {"name": "vf0", "type": "dpdk", "devargs": "%s", "hw_mac": "%s", "vlan": {"mode": "access", "tag": 10}},\n' "$vf0" $MAC_VF
	  vhost_port vm1 $MAC_VF '{"mode": "access", "tag": 10}'; printf ']}\n'; } > "$SDIR/cfg.json"
	local tl0
	tl0=$(wc -l < "$OUT/qemu-trace.log")
	start_switch || { sriov_reset $NIC0; return; }
	local n
	n=$(cat /sys/bus/pci/devices/$NIC0/sriov_numvfs)
	say "sriov_numvfs=$n; VF 0 driver $(basename "$(readlink /sys/bus/pci/devices/$vf0/driver 2>/dev/null)" 2>/dev/null)"
	grep -q "Probe PCI driver: net_e1000_igb_vf .*$vf0" "$FERRYD_LOG" || { ferryd_stop; sriov_reset $NIC0; s_fail "ferryd did not probe VF $vf0 with net_e1000_igb_vf: $(ferryd_tail)"; return; }
	local common=(--count $COUNT --rate $RATE --wait-link $WAIT --sync --duration 8)
	peer_start vm1 "vhost:$SOCKS/vm1.sock" --mac $MAC_VF --peer $MAC_A "${common[@]}"
	peer_start a "pci:$EM0" --mac $MAC_A --peer $MAC_VF "${common[@]}"
	wait_peers 60 vm1 a
	local peers_ok=$?
	stop_switch || { sriov_reset $NIC0; return; }
	sriov_reset $NIC0
	[ "$n" = 2 ] || { s_fail "ferryd did not create the 2 VFs (sriov_numvfs=$n)"; return; }
	# QEMU's view of the PF/VF mailbox while ferryd ran (VF reset, hw_mac: VF -> PF requests, PF replies)
	tail -n +$((tl0 + 1)) "$OUT/qemu-trace.log" | grep -E '^igb_(set_pfmailbox|set_vfmailbox|core_vf_reset)' > "$SDIR/mailbox.txt"
	local pf_mbx vf_mbx hint=
	pf_mbx=$(grep -c 'igb_set_pfmailbox' "$SDIR/mailbox.txt") vf_mbx=$(grep -c 'igb_set_vfmailbox' "$SDIR/mailbox.txt")
	grep -q 'Unexpected device scan' "$FERRYD_LOG" &&
		hint=" (ferryd log: '$(grep -m1 'Unexpected device scan' "$FERRYD_LOG")': the PF was probed before ferryd created its VFs, so DPDK's igb PF host - VF mailbox service, VMDq pools - was set up for 0 VFs)"
	[ $peers_ok = 0 ] || return
	if ! check_flows vm1:a a:vm1; then return; fi
	check_ports_moved vf0 vm1 || return
	[ "$pf_mbx" -gt 0 ] || { s_fail "the PF never answered the VF's mailbox requests ($vf_mbx VF mailbox writes, 0 PF mailbox writes in QEMU's trace)$hint"; return; }
	[ "$(fstat pf0 rx)" -gt 0 ] || { s_fail "the PF received nothing while VF 0 ran ($(fstat_line pf0); its broadcasts went to the VF: no VMDq pools, the VF's queue 0 is the PF's)$hint"; return; }
	s_pass "$SUMMARY; mailbox: $vf_mbx VF / $pf_mbx PF writes; ferryd: $(fstat_line pf0), $(fstat_line vf0), $(fstat_line vm1)"
}

# ---------------------------------------------------------------------------------------------
# hotplug: pf0, pf1 and a vhost-user guest; vm1 <-> a (over pf0) runs throughout, b -> a (over
# pf1) too until NIC1 is hot-unplugged with device_del (QEMU monitor). ferryd must log the
# removal and drop pf1 (freeing the vfio device so the kernel can complete the removal), and vm1
# <-> a must keep flowing afterwards.
hotplug() {
	s_begin hotplug
	two_pf_switch || return
	local common=(--rate $RATE --count 1000000 --wait-link $WAIT --duration 0 --progress 250)
	peer_start vm1 "vhost:$SOCKS/vm1.sock" --mac $MAC_VM1 --peer $MAC_A --sync "${common[@]}"
	peer_start a "pci:$EM0" --mac $MAC_A --peer $MAC_VM1 --sync "${common[@]}"
	peer_start b "pci:$EM1" --mac $MAC_B --peer $MAC_A --sync "${common[@]}"
	local try
	for try in 1 2; do
		deadline 60
		while in_time; do
			[ "$(peer_progress vm1 rx_test)" -gt 500 ] && [ "$(peer_progress a rx_test)" -gt 1000 ] && break
			kill -0 "${PEER_PID[a]}" 2>/dev/null || break
			nap 0.2
		done
		[ "$(peer_progress a rx_test)" -gt 1000 ] && break
		[ $try = 2 ] && { s_fail "no traffic before the unplug: vm1 $(peer_tail vm1) a $(peer_tail a)"; return; }
		# The emulated e1000e (not ferryd: its port is the far end) now and then keeps its link down
		# after the previous scenario used it; a fresh peer re-initialises the device.
		echo "LAB: hotplug: far-end peer a saw no link/traffic ($(peer_tail a | tail -c 120)); restarting it once"
		kill "${PEER_PID[a]}" 2>/dev/null; wait "${PEER_PID[a]}" 2>/dev/null
		peer_start a "pci:$EM0" --mac $MAC_A --peer $MAC_VM1 --sync "${common[@]}"
	done
	local t_del ans gone=0 dropped=0
	now; t_del=$NOW_CS
	ans=$(host_req device_del nic1) || { s_fail "device_del nic1 refused: $ans"; return; }
	say "device_del nic1 ($NIC1) accepted; waiting for ferryd and the kernel"
	deadline 30
	while in_time; do
		[ $dropped = 0 ] && grep -q "port pf1: device removed" "$FERRYD_LOG" && { dropped=1; say "ferryd dropped pf1 $(since $t_del) s after device_del"; }
		[ $gone = 0 ] && [ ! -e /sys/bus/pci/devices/$NIC1 ] && { gone=1; say "kernel removed $NIC1 $(since $t_del) s after device_del"; }
		[ $dropped = 1 ] && [ $gone = 1 ] && break
		kill -0 "$FERRYD_PID" 2>/dev/null || break
		nap 0.2
	done
	dmesg | grep -iE 'pciehp|vfio|0000:02:00|acpiphp|Relaying' | tail -n 15 > "$SDIR/dmesg.txt"
	kill -0 "$FERRYD_PID" 2>/dev/null || { s_fail "ferryd died after the unplug: $(ferryd_tail)"; return; }
	# traffic after the removal (or 30 s of ferryd ignoring it) must still flow for the others
	local rx_vm1 rx_a
	rx_vm1=$(peer_progress vm1 rx_test) rx_a=$(peer_progress a rx_test)
	nap 3
	local d_vm1=$(( $(peer_progress vm1 rx_test) - rx_vm1 )) d_a=$(( $(peer_progress a rx_test) - rx_a ))
	say "after the unplug: vm1 received $d_vm1, a received $d_a frames in 3 s"
	kill -USR1 "${PEER_PID[vm1]}" "${PEER_PID[a]}" "${PEER_PID[b]}" 2>/dev/null
	wait_peers 20 vm1 a b
	local rep=$(grep -E 'device removed|dropping|port pf1|RMV|remove' "$FERRYD_LOG" | grep -v 'port pf1: ethdev' | head -n 3 | tr '\n' '|')
	ferryd_stop
	local stop_rc=$FERRYD_RC
	fstat_load
	deadline 10
	while [ -e /sys/bus/pci/devices/$NIC1 ] && in_time; do nap 0.2; done
	[ -e /sys/bus/pci/devices/$NIC1 ] && gone_after_stop=no || gone_after_stop=yes
	if [ $dropped = 0 ]; then
		s_fail "ferryd did not drop pf1 within 30 s of device_del (kernel: $(grep -m1 -E 'Relaying device request|blocked until released' "$SDIR/dmesg.txt" | sed 's/^\[[^]]*\] //'); device removed only after ferryd exited: $gone_after_stop; ferryd log: ${rep:-nothing about it})"
		return
	fi
	[ $gone = 1 ] || { s_fail "ferryd logged the removal but the kernel still has $NIC1 (vfio device not released)"; return; }
	[ $d_vm1 -gt 500 ] && [ $d_a -gt 500 ] || { s_fail "traffic for the remaining ports stalled after the unplug (vm1 +$d_vm1, a +$d_a in 3 s)"; return; }
	[ "$stop_rc" = 0 ] || { s_fail "ferryd exit status $stop_rc"; return; }
	[ -z "$(fstat pf1 rx)" ] || { s_fail "pf1 still listed in ferryd's stats at exit"; return; }
	s_pass "pf1 dropped, kernel removed $NIC1; vm1 +$d_vm1 and a +$d_a frames in the 3 s after; ferryd: $(fstat_line pf0), $(fstat_line vm1)"
}

# ---------------------------------------------------------------------------------------------
# steer: issue #18's per-VM rule on a real NIC. pf0 = igb nic0 with rxq 1 + vm_queues 1; vm1 has a
# mac and access VLAN 10 (pf0 is a trunk of every VLAN: the rule is ETH dst + VLAN 10 -> QUEUE 1).
# The igb has a RETA: RSS must be confined to queue 0 (no rss_note); its rte_flow must answer the
# rule (a rule, or a refusal in the PMD's own words, never "has no rte_flow"), and its VMDq pools
# must be named as not tried (lab/vmdq: what they would do). No traffic: the verdict carries what the device said.
steer() {
	s_begin steer
	bind_vfio $NIC0 || { s_fail "cannot bind NIC0 to vfio-pci"; return; }
	{ cfg_head
	  printf '  {"name": "pf0", "type": "dpdk", "devargs": "%s", "rxq": 1, "vm_queues": 1},\n' $NIC0
	  vhost_port vm1 $MAC_VM1 '{"mode": "access", "tag": 10}'; printf ']}\n'; } > "$SDIR/cfg.json"
	start_switch || return
	ferryd_rpc port.get '{"name": "pf0"}' > "$SDIR/pf0.json"
	ferryd_rpc port.get '{"name": "vm1"}' > "$SDIR/vm1.json"
	ferryd_stop
	local v
	v=$(/usr/bin/python3 - "$SDIR/pf0.json" "$SDIR/vm1.json" <<'PY'
import json, sys
pf, vm = (json.load(open(f)) for f in sys.argv[1:3])
s = vm["steering"]["uplinks"]["pf0"]
bad = []
if pf.get("rx_queues") != 2 or pf.get("rss_queues") != 1:
    bad.append("pf0 rx_queues %r rss_queues %r" % (pf.get("rx_queues"), pf.get("rss_queues")))
if "rss_note" in pf:
    bad.append("RSS not confined: " + pf["rss_note"])
if s["method"] == "rte_flow":
    if s["queue"] != 1 or pf.get("vm_queue_owners") != {"1": "vm1"}:
        bad.append("rule on queue %r, owners %r" % (s["queue"], pf.get("vm_queue_owners")))
elif not (s["reason"].startswith("uplink pf0: rte_flow_validate refused: ") or
          s["reason"].startswith("uplink pf0: rte_flow_create refused: ")):
    bad.append("reason %r is not the device's refusal" % s["reason"])
elif "vmdq not tried (8 pools)" not in s["reason"]:
    bad.append("reason %r does not say VMDq was not tried" % s["reason"])
print(("FAIL " if bad else "OK ") + ("; ".join(bad) if bad else
      "%s queue %s: %s" % (s["method"], s["queue"], s["reason"] or "rule created")))
PY
)
	case $v in
	OK*) s_pass "pf0 (igb) rx queues 2, RSS on queue 0 ($(grep -m1 -o 'RSS over rx queues.*' "$FERRYD_LOG")); vm1: ${v#OK }" ;;
	*) s_fail "${v#FAIL }" ;;
	esac
}

# ---------------------------------------------------------------------------------------------
# dmar-fault: the negative control of the zc scenarios' fault detector. NIC0, bound to vfio-pci
# and unused (its IOMMU domain maps nothing), is made to fetch TX descriptors from IOVA 0xdead000
# by hand (guest/dmar_fault.py). Both detectors must see it: the guest kernel's DMAR fault line for
# [01:00.0] at that address (matched by DMAR_FAULT_RE) and QEMU's vtd_dmar_fault trace for source
# id 0x100. Runs last: the kernel rate-limits fault messages (10 per 5 s), and iommu-check.py
# leaves out exactly this fault (dmar-fault/control.txt) when it checks the whole run.
DMAR_CTL_IOVA=0xdead000
dmar_fault() {
	s_begin dmar-fault
	bind_vfio $NIC0 || { s_fail "cannot bind NIC0 to vfio-pci"; return; }
	fault_mark
	printf 'dev=01:00.0 sid=0x100 addr=%s\n' $DMAR_CTL_IOVA > "$SDIR/control.txt"
	/usr/bin/python3 "$HERE/dmar_fault.py" $NIC0 $DMAR_CTL_IOVA > "$SDIR/dmar_fault.log" 2>&1 ||
		{ s_fail "dmar_fault.py failed: $(tail -n 2 "$SDIR/dmar_fault.log" | tr '\n' ' ')"; return; }
	sed 's/^/    /' "$SDIR/dmar_fault.log" >> "$OUT/lab.log"
	local k='' q=''
	deadline 10
	while in_time; do
		fault_scan
		k=$(grep -m1 -F "Request device [01:00.0] fault addr $DMAR_CTL_IOVA " "$SDIR/faults-dmesg.txt")
		q=$(grep -m1 -E "vtd_dmar_fault sid 0x100 .*addr $DMAR_CTL_IOVA " "$SDIR/faults-qemu.txt")
		[ -n "$k" ] && [ -n "$q" ] && break
		nap 0.5
	done
	[ -n "$q" ] || { s_fail "QEMU traced no vtd_dmar_fault for the DMA to $DMAR_CTL_IOVA ($(cat "$SDIR/dmar_fault.log" | tr '\n' ' '))"; return; }
	[ -n "$k" ] || { s_fail "the guest kernel logged no DMAR fault matching the detector's pattern (QEMU: ${q#*:}; kernel: $(dmesg | grep -E 'DMAR' | tail -n 2 | tr '\n' ' '))"; return; }
	s_pass "kernel: ${k#\[*\] }; QEMU: ${q#*:}"
}

# ---------------------------------------------------------------------------------------------
# vmdq: can the igb's VMDq pools be a per-VM MAC filter (issue #18 section 1, "vmdq")? NIC0 in
# RTE_ETH_MQ_RX_VMDQ_ONLY, 8 pools of one queue (pool p = queue p), default pool 0, pool_map
# VLAN 10 -> pool 1, then rte_eth_dev_mac_addr_add(vm1's MAC, pool 1) — what ferry would program
# (ferry-vmdq-probe counts per queue); once with every pool accepting broadcasts, once without;
# and a control without VMDq. Peer a on em0 sends 300 frames each: to vm1's MAC untagged and in
# VLAN 10, to another MAC in VLAN 10, broadcast. Required: the control delivers, and with pools
# every frame to vm1's MAC (untagged, VLAN 10) is on pool 1's queue (1) and nowhere else. Where
# the other frames went is reported (the default pool, or every pool: broadcast replication).
vmdq_probe() {   # vmdq_probe NAME PROBE_OPTIONS...: one probe run with the four senders
	local name=$1 probe c=(--mac $MAC_A --rate 1000 --count 300 --duration 3 --wait-link 30) n o a
	shift
	"$BIN/ferry-vmdq-probe" -l 0 --no-telemetry --in-memory --file-prefix lab-vmdq -a $NIC0 -- \
		--mac $MAC_VM1 --vlan 10 "$@" > "$SDIR/$name.json" 2> "$SDIR/$name.log" &
	probe=$!
	S_PIDS+=("$probe")
	deadline 60
	until grep -q 'vmdq-probe: .*receiving' "$SDIR/$name.log"; do
		kill -0 $probe 2>/dev/null && in_time || { s_fail "probe $name not receiving: $(tail -n 3 "$SDIR/$name.log" | tr '\n' '|')"; return 1; }
		nap 0.2
	done
	for n in "mac" "macv10 --vlan 10" "otherv10 --vlan 10 --peer 02:00:00:00:0a:02" "bcast"; do
		read -r n o <<< "$n"
		[ $n = mac ] || [ $n = macv10 ] && o="$o --peer $MAC_VM1"
		# shellcheck disable=SC2086
		peer_start $name-$n "pci:$EM0" "${c[@]}" $o
		wait_peers 60 $name-$n || return 1
	done
	kill -TERM $probe; wait $probe
}
vmdq() {
	s_begin vmdq
	bind_vfio $NIC0 && bind_vfio $EM0 || { s_fail "cannot bind NIC0/EM0 to vfio-pci"; return; }
	vmdq_probe control --vmdq 0 && vmdq_probe pools --default-pool 0 &&
		vmdq_probe pools-nobcast --default-pool 0 --bcast 0 || return
	local v
	v=$(/usr/bin/python3 - "$SDIR/control.json" "$SDIR/pools.json" "$SDIR/pools-nobcast.json" <<'PY'
import json, sys
bad, out = [], []
for f in sys.argv[1:]:
    p = json.load(open(f))
    q = p["queues"]
    def where(k):
        return {int(n): c[k] for n, c in q.items() if c.get(k)}
    m, mv, ov, bc = (where(k) for k in ("mac/untagged", "mac/vlan10", "other/vlan10", "bcast/untagged"))
    what = "vm1's MAC %r, vm1's MAC in VLAN 10 %r, another MAC in VLAN 10 %r, broadcast %r" % (m, mv, ov, bc)
    if p["configure"] != "ok" or p["mac_addr_add"] != "ok":
        bad.append("configure %s, mac_addr_add %s" % (p["configure"], p["mac_addr_add"]))
    if not p["vmdq"]:   # the control: no pools, the NIC must deliver (queue 0)
        if m.get(0, 0) < 297 or bc.get(0, 0) < 297:
            bad.append("control (no VMDq): %s: the NIC or the peer does not work" % what)
        out.append("no VMDq: " + what)
        continue
    name = "pools, broadcast %s" % ("accepted by every pool" if p["bcast"] else "not accepted")
    for k, d in (("vm1's MAC", m), ("vm1's MAC in VLAN 10", mv)):
        if d.get(1, 0) < 297 or set(d) - {1}:
            bad.append("%s: frames to %s not all on pool 1's queue: %r" % (name, k, d))
    out.append("%s: %s" % (name, what))
print(("FAIL " + "; ".join(bad) + " | " if bad else "OK ") + "%s %d pools, default pool 0, mac_addr_add(vm1, pool 1); per queue (queue: frames of 300): " %
      (p["driver"], p["max_vmdq_pools"]) + "; ".join(out))
PY
)
	case $v in
	OK*) s_pass "${v#OK }" ;;
	*) s_fail "${v#FAIL }" ;;
	esac
}

run_one() {   # run_one "FUNC [ARGS]" NAME: in a subshell (a scenario's failure stays its own), then cleanup
	( $1; s_end )
	grep -qE "^(PASS|FAIL): lab/$2( |:|$)" "$RESULTS" 2>/dev/null ||
		echo "FAIL: lab/$2: the scenario script ended without a verdict (see $2/ in the run directory)" >> "$RESULTS"
}

if want pf-pair || want iommu; then
	( pf_pair; s_end )
	want pf-pair && ! grep -qE "^(PASS|FAIL): lab/pf-pair" "$RESULTS" 2>/dev/null &&
		echo "FAIL: lab/pf-pair: the scenario script ended without a verdict" >> "$RESULTS"
	# the iommu evidence rides on the pf-pair run: without it, say why
	want iommu && [ ! -f "$OUT/iommu/pending" ] &&
		echo "FAIL: lab/iommu: no evidence: the pf-pair run it rides on did not get to traffic ($(sed -n 's/^FAIL: lab\/pf-pair: //p' "$RESULTS" | cut -c1-300))" >> "$RESULTS"
	want pf-pair || sed -i '/^\(PASS\|FAIL\): lab\/pf-pair/d' "$RESULTS"
fi
want e1000e && run_one e1000e e1000e
want zc && run_one "zc_scenario zc 0" zc
want zc_withheld && run_one "zc_scenario zc_withheld 1" zc_withheld
want sriov-enotsup && run_one sriov_enotsup sriov-enotsup
want sriov && run_one sriov sriov
want steer && run_one steer steer
want vmdq && run_one vmdq vmdq
want hotplug && run_one hotplug hotplug
want dmar-fault && run_one dmar_fault dmar-fault
dmesg > "$OUT/dmesg.txt"
say "all scenarios done"
