# lib.sh — harness of the QEMU end-to-end tests (tests/qemu/test_*.sh): a scratch directory, ferryd
# and QEMU guests with logs, waits with timeouts on serial-console markers, and a cleanup trap that
# stops every process, namespace and link the test created, on every exit path. Sourced.
#
# Environment:
#   FERRYD          ferryd binary (default build/app/ferryd/ferryd)
#   FERRY_TEST_OUT  logs go to $FERRY_TEST_OUT/qemu/<test> (default /tmp/ferry-tests)
#   FERRY_QEMU_GUEST  guest directory from build-guest.sh (run.sh sets it; built here if unset)
#   FERRY_QEMU_ACCEL  auto (default) | tcg | kvm: auto = KVM only if /dev/kvm is writable AND the
#                   CPU flags show vmx/svm (this host's /dev/kvm is a nested PVM that hangs stock
#                   guest kernels and shows neither)
#   FERRY_QEMU_ENV  the QEMU to run (see q_pick_qemu; default: the lab's QEMU 10 when set up)
#   QEMU_TEST_LIMIT seconds before a test is aborted (default 150)
#   FERRY_QEMU_PREFIX  ferryd's EAL --file-prefix (default ferry-qemu)

Q_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
Q_HERE=$Q_ROOT/tests/qemu

q_abs() {
	case $1 in
	/*) echo "$1" ;;
	*) if [ -e "$1" ]; then echo "$PWD/$1"; else echo "$Q_ROOT/$1"; fi ;;
	esac
}

FERRYD=$(q_abs "${FERRYD:-build/app/ferryd/ferryd}")
FERRYCTL=$(q_abs "${FERRYCTL:-$(dirname "$FERRYD")/../ferryctl/ferryctl}")
Q_LIMIT=${QEMU_TEST_LIMIT:-150}
Q_PREFIX=${FERRY_QEMU_PREFIX:-ferry-qemu}   # EAL --file-prefix of ferryd

Q_NAME= Q_DIR= Q_WATCHDOG= Q_START_NS=
Q_PIDS=()                           # every QEMU / ferryd started (cleanup kills those alive)
Q_NETNS=()                          # network namespaces created
Q_LINKS=()                          # host links created
declare -A VM_PID=() VM_LOG=() VM_RUN=() VM_ARGS=()
FERRYD_PID= FERRYD_LOG= FERRYD_RUN=0 FERRYD_RC=

# ---- test frame ----

q_init() {   # q_init NAME
	Q_NAME=$1
	Q_DIR=${FERRY_TEST_OUT:-/tmp/ferry-tests}/qemu/$Q_NAME
	q_reap_previous
	rm -rf "$Q_DIR"
	mkdir -p "$Q_DIR" || { echo "FAIL: qemu/$Q_NAME: cannot create $Q_DIR"; exit 1; }
	trap q_cleanup EXIT
	trap 'q_fail "interrupted"' INT TERM
	trap 'q_fail "time limit of ${Q_LIMIT}s reached"' USR1
	[ -x "$FERRYD" ] || { echo "FAIL: qemu/$Q_NAME: $FERRYD not built"; exit 1; }
	q_pick_qemu
	command -v "$Q_QEMU" >/dev/null || { echo "FAIL: qemu/$Q_NAME: $Q_QEMU missing (run tests/qemu/run.sh)"; exit 1; }
	command -v jq >/dev/null || { echo "FAIL: qemu/$Q_NAME: jq missing (run tests/qemu/run.sh)"; exit 1; }
	if [ -z "${FERRY_QEMU_GUEST:-}" ]; then
		FERRY_QEMU_GUEST=$("$Q_HERE/build-guest.sh" | tail -n1) ||
			{ echo "FAIL: qemu/$Q_NAME: building the guest failed"; exit 1; }
	fi
	Q_KERNEL=$FERRY_QEMU_GUEST/vmlinux
	[ -s "$Q_KERNEL" ] || Q_KERNEL=$FERRY_QEMU_GUEST/vmlinuz
	Q_INITRD=$FERRY_QEMU_GUEST/initramfs.gz
	q_pick_accel
	( trap 'kill $s 2>/dev/null; exit 0' TERM
	  sleep "$Q_LIMIT" & s=$!
	  wait $s && kill -USR1 $$ ) >/dev/null 2>&1 &
	Q_WATCHDOG=$!
	Q_START_NS=$(date +%s%N)
	local irq=MSI-X
	[ -z "$Q_NIC_EXTRA" ] || irq="INTx (${Q_NIC_EXTRA#,})"
	q_log "$Q_QEMU_DESC, $Q_ACCEL, virtio-net-pci interrupts: $irq"
}

# A previous run of this test that was SIGKILLed (no trap) may have left QEMUs or a ferryd: their
# PIDs are in $Q_DIR/pids; each is killed only if its command line still names $Q_DIR.
q_reap_previous() {
	local pid
	[ -f "$Q_DIR/pids" ] || return 0
	while read -r pid; do
		[ -n "$pid" ] && { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$Q_DIR/" &&
			kill -KILL "$pid" 2>/dev/null && echo "qemu/$Q_NAME: killed pid $pid left by an earlier run"
	done < "$Q_DIR/pids"
	sleep 0.2
}

q_track() { Q_PIDS+=("$1"); echo "$1" >> "$Q_DIR/pids"; }

# The QEMU: FERRY_QEMU_ENV=FILE, in the form tests/lab/setup.sh writes it (QEMU=, QEMU_MODULE_DIR=,
# QEMU_DATA=, QEMU_VERSION=, QEMU_MAJOR=). Unset: the lab's QEMU 10 ($FERRY_LAB_CACHE/qemu.env, which
# run.sh has tests/lab/setup.sh prepare) if it is there, else the installed one. Empty: the
# installed qemu-system-x86_64, whose version is not read here (setup.sh is the one place that
# reads it): taken as Debian 12's 7.2, so INTx under TCG (see q_pick_accel).
q_pick_qemu() {
	local QEMU=qemu-system-x86_64 QEMU_DATA= QEMU_VERSION= QEMU_MAJOR= d
	local env=${FERRY_QEMU_ENV-${FERRY_LAB_CACHE:-/var/cache/ferry-lab}/qemu.env}
	[ -n "${FERRY_QEMU_ENV+set}" ] || [ -f "$env" ] || env=
	[ -z "$env" ] || . "$env" || { echo "FAIL: qemu/$Q_NAME: cannot read $env"; exit 1; }
	Q_QEMU=$QEMU Q_QEMU_ARGS=()
	[ -z "${QEMU_MODULE_DIR:-}" ] || export QEMU_MODULE_DIR   # (global: every QEMU started needs it)
	for d in $QEMU_DATA; do Q_QEMU_ARGS+=(-L "$d"); done
	Q_QEMU_MAJOR=${QEMU_MAJOR:-0}
	if [ -n "$env" ]; then
		[ -n "$QEMU_MAJOR" ] || echo "qemu/$Q_NAME: $env names no QEMU_MAJOR (written by an older tests/lab/setup.sh?): INTx"
		Q_QEMU_DESC="QEMU ${QEMU_VERSION:-?} from $env"
	else
		Q_QEMU_DESC="the installed $QEMU"
	fi
}

q_pick_accel() {
	Q_ACCEL=${FERRY_QEMU_ACCEL:-auto}
	if [ "$Q_ACCEL" = auto ]; then
		if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then Q_ACCEL=kvm; else Q_ACCEL=tcg; fi
	fi
	case $Q_ACCEL in
	kvm) Q_ACCEL_ARGS=(-accel kvm -cpu host); Q_NIC_EXTRA= ;;
	# QEMU 7.2 + TCG + vhost-user + MSI-X crashes QEMU (msix vector notifiers): legacy INTx there
	*) Q_ACCEL_ARGS=(-accel tcg); Q_NIC_EXTRA=; [ "${Q_QEMU_MAJOR:-0}" -ge 8 ] || Q_NIC_EXTRA=,vectors=0 ;;
	esac
}

q_ms() { echo $(( ($(date +%s%N) - Q_START_NS) / 1000000 )); }
q_now_ns() { date +%s%N; }
q_secs_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN{printf "%.1f", (b-a)/1e9}'; }   # NS
q_log() { echo "[qemu/$Q_NAME $(q_ms) ms] $*"; }

# q_child PID: PID is alive and still our own child (never signal a recycled PID)
q_child() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }

q_cleanup() {
	local pid ns l
	trap - EXIT INT TERM USR1
	if [ -n "$Q_WATCHDOG" ]; then
		kill "$Q_WATCHDOG" 2>/dev/null
		wait "$Q_WATCHDOG" 2>/dev/null
	fi
	for pid in "${Q_PIDS[@]}"; do
		q_child "$pid" && kill -KILL "$pid" 2>/dev/null   # QEMUs and ferryd: nothing to save
	done
	for pid in "${Q_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for l in "${Q_LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
	for ns in "${Q_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "/var/run/dpdk/$Q_PREFIX" 2>/dev/null
}

q_tails() {   # last lines of every log of the test
	local f
	for f in "$Q_DIR"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (tail) ----"
		tr -d '\r' < "$f" | grep -av -e 'ferry: stats ' -e 'Reconnect callback call failed' | tail -n 12
	done
	for f in "$Q_DIR"/ferryd*.log; do
		[ -f "$f" ] || continue
		sed -n 's/^.*ferry: stats //p' "$f" | jq -c --arg f "$(basename "$f")" \
			'{log: $f, port: .name, rx: .rx_packets, tx: .tx_packets, drops: (.drops | with_entries(select(.value > 0))),
			  rxq: [.rxq[].packets], txq: [.txq[] | [.packets, .drops]]}' 2>/dev/null
	done
}

q_fail() {
	trap - INT TERM USR1
	# a live ferryd logs its counters on SIGTERM: stop it first so the tails show them
	if [ -n "$FERRYD_PID" ] && q_child "$FERRYD_PID"; then
		kill -TERM "$FERRYD_PID" 2>/dev/null
		local i
		for i in $(seq 30); do q_child "$FERRYD_PID" || break; sleep 0.1; done
	fi
	q_tails
	echo "FAIL: qemu/$Q_NAME: $*"
	exit 1
}

q_pass() {
	echo "PASS: qemu/$Q_NAME${1:+ ($*)}"
	exit 0
}

# ---- ferryd ----

# q_vport NAME MODE MAC VLAN [MORE]: a vhostuser port ($Q_DIR/NAME.sock, access VLAN), MODE = ferryd's
# role, MAC its static MAC (- for none: learned), MORE more fields (e.g. '"offloads":false');
# Q_ZC: its zero_copy (default auto)
q_vport() {
	local mac=
	[ "$3" = - ] || mac=$(printf '"mac":["%s"],' "$3")
	printf '{"name":"%s","type":"vhostuser","path":"%s/%s.sock","mode":"%s",%s"vlan":{"mode":"access","tag":%s},"zero_copy":"%s"%s}' \
		"$1" "$Q_DIR" "$1" "$2" "$mac" "$4" "${Q_ZC:-auto}" "${5:+,$5}"
}

# q_ctl ARGS...: ferryctl on this test's ferryd (fails the test if ferryctl does)
q_ctl() {
	local out
	out=$("$FERRYCTL" -s "$Q_DIR/ctl.sock" "$@" 2>&1) || q_fail "ferryctl $*: $out"
	echo "$out"
}

q_config() {   # q_config PORT_JSON...: $Q_DIR/cfg.json (Q_EAL: extra EAL arguments, a JSON list body)
	local ports
	ports=$(IFS=,; echo "$*")
	cat > "$Q_DIR/cfg.json" <<-EOF
	{"lcores": {"main": 0, "pmd": [1]},
	 "eal_args": [${Q_EAL:-}],
	 "mbufs": 8192,
	 "rpc": {"socket": "$Q_DIR/ctl.sock"},
	 "vhost": {"socket_dirs": ["$Q_DIR"]},
	 "ports": [$ports]}
	EOF
	jq . "$Q_DIR/cfg.json" >/dev/null || q_fail "generated an invalid config"
}

ferryd_start() {
	FERRYD_RUN=$((FERRYD_RUN + 1))
	FERRYD_LOG=$Q_DIR/ferryd$FERRYD_RUN.log
	"$FERRYD" --config "$Q_DIR/cfg.json" -- --file-prefix "$Q_PREFIX" --in-memory \
		> "$FERRYD_LOG" 2>&1 < /dev/null &
	FERRYD_PID=$!
	q_track "$FERRYD_PID"
	q_log "ferryd started (pid $FERRYD_PID, log $(basename "$FERRYD_LOG"))"
}

ferryd_wait_ready() {   # [TIMEOUT_S]
	local limit=$(( ${1:-20} * 20 )) i
	for i in $(seq "$limit"); do
		grep -q "ferryd ready" "$FERRYD_LOG" 2>/dev/null && { q_log "ferryd ready"; return 0; }
		q_child "$FERRYD_PID" || q_fail "ferryd exited during start-up"
		sleep 0.05
	done
	q_fail "ferryd not ready after ${1:-20} s"
}

ferryd_alive() {
	q_child "$FERRYD_PID" || q_fail "ferryd died (see $(basename "$FERRYD_LOG"))"
}

ferryd_stop() {   # ferryd_stop SIGNAL [TIMEOUT_S]: sets FERRYD_RC
	local sig=$1 limit=$(( ${2:-10} * 10 )) i
	q_child "$FERRYD_PID" || q_fail "ferryd is not running (before SIG$sig)"
	kill -"$sig" "$FERRYD_PID" 2>/dev/null
	for i in $(seq "$limit"); do
		q_child "$FERRYD_PID" || break
		sleep 0.1
	done
	q_child "$FERRYD_PID" && q_fail "ferryd still running ${2:-10} s after SIG$sig"
	wait "$FERRYD_PID" 2>/dev/null
	FERRYD_RC=$?
	q_log "ferryd stopped by SIG$sig (exit status $FERRYD_RC)"
}

# ferryd_stat PORT JQ_FILTER: from the "stats {...}" line ferryd logs per port at SIGTERM
ferryd_stat() {
	sed -n 's/^.*ferry: stats //p' "$FERRYD_LOG" | jq -r --arg n "$1" "select(.name == \$n) | $2"
}

# ---- guests ----

# vm_start NAME key=value...: boots a guest. Keys:
#   ip=A.B.C.D/N  mac=...  sock=PATH  chr=client|server (QEMU's side of the vhost-user socket:
#   client = connect with reconnect=1, ferryd is the server; server = listen, ferryd connects)
#   script=FILE (test run in the guest)  smp=1  queues=1  mem=256  after=poweroff|reboot|stay
#   timeout=S (guest watchdog, default 120)  qmp=PATH (QMP socket)  incoming=URI (wait for a live
#   migration)  nic=OPTS (more virtio-net-pci options, e.g. guest_announce=off)
#   sock2=PATH mac2=... (a second virtio-net NIC, single queue, same chr and nic options: the
#   guest's eth1; its address is the test script's business)
# Arguments are remembered: vm_restart NAME boots the same guest again.
vm_start() {
	local name=$1
	shift
	VM_ARGS[$name]="$*"
	vm_boot "$name" "$@"
}

# vm_start_trio [ARG...]: guests a, b, c at 10.0.10.1-3/24 with MACs $MA $MB $MC, each a client of
# $Q_DIR/<g>.sock running $Q_DIR/<g>.sh, 100 s at most; ARGs go to every vm_start.
vm_start_trio() {
	local g i=1 mac
	for g in a b c; do
		mac=M${g^^}
		vm_start $g ip=10.0.10.$i/24 mac="${!mac}" sock="$Q_DIR/$g.sock" chr=client \
			script="$Q_DIR/$g.sh" timeout=100 "$@"
		i=$((i + 1))
	done
}

vm_restart() { vm_boot "$1" ${VM_ARGS[$1]}; }

vm_boot() {
	local name=$1 kv ip= mac= sock= chr=client script= smp=1 queues=1 mem=256 after=poweroff timeout=120
	local qmp= incoming= nic= sock2= mac2=
	shift
	for kv in "$@"; do
		case $kv in
		ip=*) ip=${kv#ip=} ;; mac=*) mac=${kv#mac=} ;; sock=*) sock=${kv#sock=} ;;
		chr=*) chr=${kv#chr=} ;; script=*) script=${kv#script=} ;; smp=*) smp=${kv#smp=} ;;
		queues=*) queues=${kv#queues=} ;; mem=*) mem=${kv#mem=} ;; after=*) after=${kv#after=} ;;
		timeout=*) timeout=${kv#timeout=} ;; qmp=*) qmp=${kv#qmp=} ;;
		incoming=*) incoming=${kv#incoming=} ;; nic=*) nic=,${kv#nic=} ;;
		sock2=*) sock2=${kv#sock2=} ;; mac2=*) mac2=${kv#mac2=} ;;
		*) q_fail "vm_start $name: unknown argument $kv" ;;
		esac
	done
	local copt netq= nicq= extra=()
	if [ "$chr" = server ]; then copt=",server=on,wait=off"; else copt=",reconnect=1"; fi
	if [ "$queues" -gt 1 ]; then netq=",queues=$queues"; nicq=",mq=on"; fi
	[ -n "$script" ] && extra=(-fw_cfg "name=opt/ferry/test,file=$script")
	[ -n "$qmp" ] && extra+=(-qmp "unix:$qmp,server=on,wait=off")
	[ -n "$incoming" ] && extra+=(-incoming "$incoming")
	[ -n "$sock2" ] && extra+=(-chardev "socket,id=vhu2,path=$sock2$copt" -netdev "vhost-user,id=net1,chardev=vhu2"
		-device "virtio-net-pci,netdev=net1,mac=$mac2$Q_NIC_EXTRA$nic")
	VM_RUN[$name]=$(( ${VM_RUN[$name]:-0} + 1 ))
	VM_LOG[$name]=$Q_DIR/$name.${VM_RUN[$name]}.serial.log
	[ -n "${FERRY_QEMU_DEBUG:-}" ] && extra+=(-d "$FERRY_QEMU_DEBUG")
	# FERRY_QEMU_TRACE="PATTERN...": QEMU trace events (e.g. "vhost_user_* migrate_pending_*"), with
	# timestamps, into the same file
	local ev evs=()
	read -r -a evs <<< "${FERRY_QEMU_TRACE:-}"   # (no globbing of the patterns)
	for ev in "${evs[@]}"; do extra+=(-trace "enable=$ev"); done
	[ -n "${FERRY_QEMU_DEBUG:-}${FERRY_QEMU_TRACE:-}" ] &&
		extra+=(-msg timestamp=on -D "$Q_DIR/$name.${VM_RUN[$name]}.qemu-debug.log")
	"$Q_QEMU" "${Q_QEMU_ARGS[@]}" -M "q35,memory-backend=mem" "${Q_ACCEL_ARGS[@]}" -m "$mem" -smp "$smp" \
		-nodefaults -no-user-config -display none \
		-object "memory-backend-memfd,id=mem,size=${mem}M,share=on" \
		-chardev "socket,id=vhu,path=$sock$copt" \
		-netdev "vhost-user,id=net0,chardev=vhu$netq" \
		-device "virtio-net-pci,netdev=net0,mac=$mac$nicq$Q_NIC_EXTRA$nic" \
		-kernel "$Q_KERNEL" -initrd "$Q_INITRD" \
		-append "console=ttyS0 quiet ipv6.disable=1 no_timer_check panic=-1 ferry_ip=$ip ferry_timeout=$timeout ferry_after=$after" \
		-serial "file:${VM_LOG[$name]}" "${extra[@]}" \
		$([ "$after" = reboot ] || echo -no-reboot) \
		> "$Q_DIR/$name.${VM_RUN[$name]}.qemu.log" 2>&1 < /dev/null &
	VM_PID[$name]=$!
	q_track "$!"
	q_log "guest $name boot ${VM_RUN[$name]} (pid $!, $ip, $mac${sock2:+ + $mac2 on $(basename "$sock2")}, QEMU vhost-user $chr, smp $smp, queues $queues, $Q_ACCEL)"
}

vm_alive() { q_child "${VM_PID[$1]}"; }

# vm_count NAME REGEX: matching lines in the guest's current serial log
vm_count() {
	local n
	n=$(grep -ac -E "$2" "${VM_LOG[$1]}" 2>/dev/null)
	echo "${n:-0}"
}

# vm_wait NAME REGEX [TIMEOUT_S] [MIN_COUNT]: until the serial log has MIN_COUNT (1) matching lines.
# Fails at once on a kernel panic, or on the guest's own "FERRY-RESULT fail" unless that is awaited.
vm_wait() {
	local name=$1 re=$2 limit=$(( ${3:-60} * 20 )) min=${4:-1} i
	for i in $(seq "$limit"); do
		[ "$(vm_count "$name" "$re")" -ge "$min" ] && return 0
		[ "$(vm_count "$name" 'Kernel panic')" = 0 ] ||
			q_fail "guest $name: kernel panic ($(vm_grep "$name" 'Kernel panic' | head -n1 | cut -c1-160))"
		case $re in *FERRY-RESULT*) ;; *)
			[ "$(vm_count "$name" '^FERRY-RESULT fail')" = 0 ] ||
				q_fail "guest $name: $(vm_grep "$name" '^FERRY-(RESULT|FAIL)' | tr '\n' ' ')" ;;
		esac
		vm_alive "$name" || { [ "$(vm_count "$name" "$re")" -ge "$min" ] && return 0
			q_fail "guest $name: QEMU exited while waiting for /$re/"; }
		sleep 0.05
	done
	q_fail "guest $name: no /$re/ on the serial console after ${3:-60} s"
}

vm_wait_net() { vm_wait "$1" '^FERRY-NET-UP' "${2:-60}"; }

# vm_result NAME [TIMEOUT_S]: waits for FERRY-RESULT and the QEMU exit; fails the test on "fail"
vm_result() {
	local name=$1 i res
	vm_wait "$name" '^FERRY-RESULT' "${2:-90}"
	for i in $(seq 100); do vm_alive "$name" || break; sleep 0.1; done
	vm_alive "$name" && q_log "guest $name still running after its result"
	res=$(grep -a '^FERRY-RESULT' "${VM_LOG[$name]}" | tail -n1 | tr -d '\r')
	q_log "guest $name: $res"
	case $res in "FERRY-RESULT ok"*) return 0 ;; esac
	q_fail "guest $name: ${res#FERRY-RESULT } ($(grep -a '^FERRY-FAIL' "${VM_LOG[$name]}" | tr -d '\r' | tail -n1))"
}

vm_kill() {   # vm_kill NAME [SIGNAL]
	q_child "${VM_PID[$1]}" && kill -"${2:-KILL}" "${VM_PID[$1]}" 2>/dev/null
	wait "${VM_PID[$1]}" 2>/dev/null
	q_log "guest $1: QEMU killed with SIG${2:-KILL}"
}

vm_grep() { grep -a -E "$2" "${VM_LOG[$1]}" 2>/dev/null | tr -d '\r'; }   # NAME REGEX

# q_script NAME <<'EOF' ... EOF: writes a guest test script $Q_DIR/NAME.sh, echoes its path
q_script() {
	cat > "$Q_DIR/$1.sh"
	echo "$Q_DIR/$1.sh"
}

# ---- host network namespaces ----

q_netns_add() { ip netns add "$1" || q_fail "ip netns add $1"; Q_NETNS+=("$1"); }
q_link_track() { Q_LINKS+=("$1"); }
