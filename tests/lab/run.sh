#!/usr/bin/env bash
# run.sh — the virtual hardware lab (tests/lab/README.md): boots one QEMU q35 guest with an emulated
# VT-d IOMMU, two Intel 82576 (igb, SR-IOV) and two 82574 (e1000e) NICs, and runs every scenario in
# it: ferryd drives the NICs through vfio-pci, VFs, vhost-user guests (ferry-vpeer) inside the lab
# guest (zero-copy from them to an igb, with a DMAR fault check and its negative control); one
# hot-unplug. Prints "PASS: lab/<name>" or "FAIL: lab/<name>: <reason>" per scenario
# and "N passed, N failed"; exit status non-zero on any failure.
#
#   tests/lab/run.sh [scenario...]     scenarios: pf-pair iommu e1000e zc zc_withheld sriov-enotsup sriov
#                                      steer vmdq hotplug dmar-fault
#
# Environment: FERRYD (default build/app/ferryd/ferryd), BUILD (default build; the peer is
# $BUILD/tests/tools/ferry-vpeer), FERRY_LAB_CACHE (setup.sh's cache, /var/cache/ferry-lab),
# FERRY_LAB_OUT (run directory, default ${FERRY_TEST_OUT:-/tmp/ferry-tests}/lab), FERRY_LAB_LIMIT
# (seconds a boot may take, default 600), FERRY_LAB_STALL_S / FERRY_LAB_SILENT_S (the hung-guest
# watchdog: seconds without progress after the guest kernel reports an RCU stall, default 60, or
# without one, default 300; a hung guest is booted once more for the scenarios left without a
# verdict, and the scenario it hung in says so), FERRY_LAB_TEST_HANG=SCENARIO (the first guest
# plays hung there: tests the watchdog), FERRY_LAB_MEM / FERRY_LAB_HUGEPAGES (guest MiB / 2 MiB
# pages, 2048 / 448), FERRY_LAB_KEEP=1 (keep the per-run copies of the binaries and the initramfs),
# FERRY_LAB_ALLPMDS=1 (offer DPDK all its PMD plugins in the guest, not only the lab's five).
set -uo pipefail
LAB=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$LAB/../.." && pwd)
ALL=(pf-pair iommu e1000e zc zc_withheld sriov-enotsup sriov steer vmdq hotplug dmar-fault)
CACHE=${FERRY_LAB_CACHE:-/var/cache/ferry-lab}
OUT=${FERRY_LAB_OUT:-${FERRY_TEST_OUT:-/tmp/ferry-tests}/lab}
abs() { case $1 in /*) echo "$1" ;; *) if [ -e "$1" ]; then echo "$PWD/$1"; else echo "$ROOT/$1"; fi ;; esac; }
FERRYD=$(abs "${FERRYD:-build/app/ferryd/ferryd}")
BUILD=$(abs "${BUILD:-build}")
VPEER=$BUILD/tests/tools/ferry-vpeer
PROBE=$BUILD/tests/tools/ferry-vmdq-probe
LIMIT=${FERRY_LAB_LIMIT:-600}
MEM=${FERRY_LAB_MEM:-2048}
HP=${FERRY_LAB_HUGEPAGES:-448}

scen=("$@")
[ ${#scen[@]} -gt 0 ] || scen=("${ALL[@]}")
for s in "${scen[@]}"; do
	[[ " ${ALL[*]} " == *" $s "* ]] || { echo "FAIL: lab/$s: no such scenario (${ALL[*]})"; exit 1; }
done
fail_all() {
	for s in "${scen[@]}"; do echo "FAIL: lab/$s: $*"; done
	echo "0 passed, ${#scen[@]} failed"
	exit 1
}
say() { echo "[lab $(( $(date +%s) - T0 )) s] $*"; }
T0=$(date +%s)

[ "$(id -u)" -eq 0 ] || fail_all "needs root"
for x in "$FERRYD" "$VPEER" "$PROBE"; do [ -x "$x" ] || fail_all "$x is not built (scripts/build.sh)"; done
"$LAB/setup.sh" > /tmp/ferry-lab-setup.$$.log 2>&1 || { cat /tmp/ferry-lab-setup.$$.log; rm -f /tmp/ferry-lab-setup.$$.log; fail_all "tests/lab/setup.sh failed"; }
rm -f /tmp/ferry-lab-setup.$$.log
# shellcheck disable=SC1091
. "$CACHE/qemu.env"
KV=$(cat "$CACHE/kernel/modules.dep.ok")
BB=$CACHE/bb/bin/busybox

case $OUT in /|/tmp|/var|/root|"") fail_all "refusing FERRY_LAB_OUT=$OUT" ;; esac
mkdir -p "$(dirname "$OUT")"
exec 8> "$OUT.lock"
flock -n 8 || fail_all "another lab run is using $OUT"
rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/req" || fail_all "cannot create $OUT"
# a snapshot of the binaries under test: others may rebuild build/ while the lab runs
cp "$FERRYD" "$OUT/bin/ferryd" && cp "$VPEER" "$OUT/bin/ferry-vpeer" &&
	cp "$BUILD/tests/tools/ferry-vmdq-probe" "$OUT/bin/ferry-vmdq-probe" || fail_all "cannot copy the binaries"
# the guest sees the host's root read-only but has its own /tmp (and the checkout may live there):
# its scripts travel in the shared run directory, mounted at /tmp/ferry-lab inside
rm -rf "$OUT/guest" && cp -r "$LAB/guest" "$OUT/guest" || fail_all "cannot copy the guest scripts"

# ---- initramfs: busybox, the modules for virtio-9p and vfio, our /init ----
build_initramfs() {
	local m=$CACHE/kernel/lib/modules/$KV s=$OUT/initramfs.d files="" mod line f
	rm -rf "$s"; mkdir -p "$s/bin" "$s/lib/modules/$KV"
	cp "$BB" "$s/bin/busybox"
	cp "$LAB/guest/init" "$s/init"; chmod 755 "$s/init"
	for mod in virtio_pci 9pnet_virtio 9p vfio vfio_iommu_type1 vfio-pci; do
		line=$(grep -E "/$mod\.ko(\.xz|\.zst)?:" "$m/modules.dep") || return 1
		files="$files ${line%%:*} ${line#*:}"
	done
	files=$(echo $files | tr ' ' '\n' | sort -u)
	for f in $files; do
		mkdir -p "$s/lib/modules/$KV/$(dirname "$f")"
		cp "$m/$f" "$s/lib/modules/$KV/$f"
	done
	grep -E "^($(echo "$files" | sed 's/\./\\./g' | paste -sd'|')):" "$m/modules.dep" > "$s/lib/modules/$KV/modules.dep"
	(cd "$s" && find . | "$BB" cpio -o -H newc 2>/dev/null | gzip -1 > "$OUT/initramfs.cpio.gz")
	rm -rf "$s"
}
build_initramfs || fail_all "cannot build the initramfs"

# trace events on for the whole run, all rare: VT-d faults, igb VF resets and PF/VF mailbox writes
# (the sriov scenario reads them); the translation trace (one line per DMA) is switched on by the
# iommu scenario for about a second through the monitor
printf '%s\n' vtd_dmar_fault vtd_fault_disabled igb_core_vf_reset igb_set_pfmailbox igb_set_vfmailbox > "$OUT/trace-events"

QPID= MPID=
cleanup() {
	[ -n "$QPID" ] && kill "$QPID" 2>/dev/null && { sleep 1; kill -9 "$QPID" 2>/dev/null; }
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'echo "FAIL: lab: interrupted"; exit 1' INT TERM

QDATA=()
for d in ${QEMU_DATA:-}; do QDATA+=(-L "$d"); done

# A hung guest: the emulated guest kernel stops (seen twice in CI, in different scenarios: one vCPU
# takes no more timer ticks, "rcu: INFO: rcu_preempt detected stalls" every minute, nothing else
# moves). It is the emulator's or the guest kernel's, not a scenario's verdict: the host gives the
# guest STALL_S seconds of silence after the kernel's first stall report (SILENT_S without one),
# saves QEMU's view of the vCPUs, and boots once more for the scenarios left without a verdict.
STALL_S=${FERRY_LAB_STALL_S:-60}
SILENT_S=${FERRY_LAB_SILENT_S:-300}
STALLED=   # scenario the guest hung in ("" if none)

# the scenario the guest is in: its last "---- begin" line
current_scenario() {
	sed -n 's/^\[guest [0-9.]* s \([^]]*\)\] ---- begin$/\1/p' "$OUT/lab.log" 2>/dev/null | tail -n 1
}

# QEMU's view of a hung guest, through the monitor (it may not answer if QEMU itself is stuck)
save_stall_state() {
	local f=$1 r=$OUT/req/host-stall-$BOOT
	echo "hmp info registers -a" > "$r.req"
	for _ in $(seq 50); do [ -f "$r.done" ] && break; sleep 0.1; done
	{ echo "== QEMU monitor: info registers -a"; cat "$r.done" 2>/dev/null || echo "(no answer in 5 s)"
	  echo "== guest console, last 60 lines"; tail -n 60 "$OUT/console.log"; } > "$f"
}

# boot_guest N SCENARIO...: one boot of the lab VM running those scenarios (results.txt, lab.log are
# appended to); sets STALLED when the watchdog stopped a hung guest.
boot_guest() {
	BOOT=$1; shift
	local t_boot seen last_progress stall_seen=0 n now
	# Wiring: hub 0 = igb nic0 (01:00.0) + e1000e em0 (03:00.0); hub 1 = igb nic1 (02:00.0) +
	# e1000e em1 (04:00.0). Each hub is one cable: a ferryd port on one end, a test peer on the
	# other, no loop.
	say "booting the lab guest (boot $BOOT, QEMU $QEMU_VERSION, TCG, ${MEM} MiB, kernel $KV): $*"
	rm -f "$OUT/console.log" "$OUT/qemu-trace.log" "$OUT/qmp.sock"
	if [ "$BOOT" -gt 1 ]; then   # a new monitor must not replay the first guest's requests
		mv "$OUT/req" "$OUT/req-boot$((BOOT - 1))" && mkdir -p "$OUT/req"
	fi
	env ${QEMU_MODULE_DIR:+QEMU_MODULE_DIR=$QEMU_MODULE_DIR} "$QEMU" "${QDATA[@]}" \
		-machine q35 -accel tcg,thread=multi,tb-size=256 -cpu max -smp 2 -m "$MEM" \
		-device intel-iommu,intremap=on,caching-mode=on \
		-display none -vga none -serial "file:$OUT/console.log" -monitor none -no-reboot \
		-qmp "unix:$OUT/qmp.sock,server=on,wait=off" \
		-kernel "$CACHE/kernel/boot/vmlinuz-$KV" -initrd "$OUT/initramfs.cpio.gz" \
		-append "console=ttyS0 intel_iommu=on panic=-1 hugepages=$HP quiet loglevel=4 lab.root=/tmp/ferry-lab lab.script=guest/lab.sh lab.scenarios=$(IFS=,; echo "$*")${FERRY_LAB_ALLPMDS:+ lab.allpmds=1}$([ "$BOOT" = 1 ] && [ -n "${FERRY_LAB_TEST_HANG:-}" ] && echo " lab.hang=$FERRY_LAB_TEST_HANG")" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$OUT,mount_tag=labout,security_model=none" \
		-netdev hubport,id=h0a,hubid=0 -netdev hubport,id=h0b,hubid=0 \
		-netdev hubport,id=h1a,hubid=1 -netdev hubport,id=h1b,hubid=1 \
		-device pcie-root-port,id=rp1,chassis=1,slot=1 -device igb,id=nic0,bus=rp1,netdev=h0a,mac=52:54:00:00:01:00,romfile= \
		-device pcie-root-port,id=rp2,chassis=2,slot=2 -device igb,id=nic1,bus=rp2,netdev=h1a,mac=52:54:00:00:02:00,romfile= \
		-device pcie-root-port,id=rp3,chassis=3,slot=3 -device e1000e,id=em0,bus=rp3,netdev=h0b,mac=52:54:00:00:03:00,romfile= \
		-device pcie-root-port,id=rp4,chassis=4,slot=4 -device e1000e,id=em1,bus=rp4,netdev=h1b,mac=52:54:00:00:04:00,romfile= \
		-trace "events=$OUT/trace-events,file=$OUT/qemu-trace.log" \
		>> "$OUT/qemu.log" 2>&1 &
	QPID=$!
	/usr/bin/python3 "$LAB/monitor.py" "$OUT/qmp.sock" "$OUT/req" >> "$OUT/monitor.log" 2>&1 &
	MPID=$!

	# follow the guest's progress lines while waiting (bounded by FERRY_LAB_LIMIT a boot)
	t_boot=$(date +%s)
	seen=$(grep -c '' "$OUT/lab.log" 2>/dev/null) || seen=0
	last_progress=$t_boot
	while kill -0 "$QPID" 2>/dev/null; do
		now=$(date +%s)
		if [ $(( now - t_boot )) -ge "$LIMIT" ]; then
			say "time limit of $LIMIT s reached: stopping QEMU"
			kill "$QPID" 2>/dev/null
			break
		fi
		n=$(grep -c '' "$OUT/lab.log" 2>/dev/null) || n=0
		if [ "$n" -gt "$seen" ]; then
			sed -n "$((seen + 1)),${n}p" "$OUT/lab.log"; seen=$n; last_progress=$now
		fi
		[ "$stall_seen" = 0 ] && grep -qE 'rcu: INFO: .*(detected stalls|self-detected stall)' "$OUT/console.log" 2>/dev/null &&
			stall_seen=$now
		if { [ "$stall_seen" != 0 ] && [ $(( now - last_progress )) -ge "$STALL_S" ] &&
		     [ $(( now - stall_seen )) -ge "$STALL_S" ]; } || [ $(( now - last_progress )) -ge "$SILENT_S" ]; then
			STALLED=$(current_scenario)
			save_stall_state "$OUT/stall-boot$BOOT.txt"
			say "the guest hung in ${STALLED:-its boot}: no progress for $(( now - last_progress )) s$([ "$stall_seen" != 0 ] && echo ", guest kernel RCU stall reports since $(( now - stall_seen )) s"); vCPU state in $OUT/stall-boot$BOOT.txt; stopping QEMU"
			kill "$QPID" 2>/dev/null
			break
		fi
		sleep 1
	done
	wait "$QPID" 2>/dev/null
	QPID=
	n=$(grep -c '' "$OUT/lab.log" 2>/dev/null) || n=0
	[ "$n" -gt "$seen" ] && sed -n "$((seen + 1)),${n}p" "$OUT/lab.log"
	sleep 0.5
	kill "$MPID" 2>/dev/null; wait "$MPID" 2>/dev/null; MPID=
	say "guest powered off (boot $BOOT)"

	# the iommu verdict needs QEMU's trace of this boot, complete only once QEMU has exited
	if [ -f "$OUT/iommu/pending" ]; then
		/usr/bin/python3 "$LAB/iommu-check.py" "$OUT" >> "$OUT/results.txt" 2> "$OUT/iommu/check.err" ||
			echo "FAIL: lab/iommu: iommu-check.py failed: $(tail -n 1 "$OUT/iommu/check.err")" >> "$OUT/results.txt"
		rm -f "$OUT/iommu/pending"
	fi
	if [ -n "$STALLED" ] || [ "$stall_seen" != 0 ]; then
		cp "$OUT/console.log" "$OUT/console-boot$BOOT.log"
	fi
}

verdict_of() { grep -E "^(PASS|FAIL): lab/$1( |:|$)" "$OUT/results.txt" 2>/dev/null | tail -n 1; }

boot_guest 1 "${scen[@]}"
STALL1=$STALLED
if [ -n "$STALL1" ]; then
	left=()
	for s in "${scen[@]}"; do [ -n "$(verdict_of "$s")" ] || left+=("$s"); done
	if [ ${#left[@]} -gt 0 ]; then
		say "booting again for the ${#left[@]} scenario(s) without a verdict (the first guest hung in $STALL1)"
		STALLED=
		boot_guest 2 "${left[@]}"
	fi
fi
[ "${FERRY_LAB_KEEP:-0}" = 1 ] || rm -rf "${OUT:?}/bin" "${OUT:?}/initramfs.cpio.gz"

passed=0 failed=0
for s in "${scen[@]}"; do
	line=$(verdict_of "$s")
	if [ -z "$line" ]; then
		line="FAIL: lab/$s: no verdict (guest console: $OUT/console.log; last line: $(tail -n 1 "$OUT/console.log" 2>/dev/null))"
		[ -n "$STALLED" ] && [ "$s" = "$STALLED" ] && line="FAIL: lab/$s: the guest hung in it on both boots ($OUT/stall-boot1.txt, $OUT/stall-boot2.txt)"
	elif [ -n "$STALL1" ] && [ "$s" = "$STALL1" ]; then
		line="$line [on a second boot: the first guest hung in this scenario, see $OUT/stall-boot1.txt]"
	fi
	echo "$line"
	case $line in PASS:*) passed=$((passed + 1)) ;; *) failed=$((failed + 1)) ;; esac
done
say "done in $(( $(date +%s) - T0 )) s; logs in $OUT"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
