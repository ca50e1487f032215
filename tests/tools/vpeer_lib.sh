# vpeer_lib.sh — shared helpers for the vhost-user scenario scripts (tests/vhost/*.sh): a scratch
# directory, ferryd and ferry-vpeer processes with logs, waits with timeouts, report checks, and a
# cleanup trap that stops every process the scenario started. Sourced, not executed.
#
# Environment: FERRYD (default build/app/ferryd/ferryd), BUILD (default build; the peer is
# $BUILD/tests/tools/ferry-vpeer), FERRY_TEST_OUT (default /tmp/ferry-tests), VHOST_TEST_LIMIT
# (seconds before a scenario is aborted, default 60), FERRYD_EAL_EXTRA (more EAL args for ferryd).
# Relative paths are taken from the current directory if they exist there, else from the
# repository root.

T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

t_abs() {   # t_abs PATH: absolute path (cwd first, then the repository root)
	case $1 in
	/*) echo "$1" ;;
	*) if [ -e "$1" ]; then echo "$PWD/$1"; else echo "$T_ROOT/$1"; fi ;;
	esac
}

FERRYD=$(t_abs "${FERRYD:-build/app/ferryd/ferryd}")
BUILD=$(t_abs "${BUILD:-build}")
VPEER=$BUILD/tests/tools/ferry-vpeer
T_LIMIT=${VHOST_TEST_LIMIT:-60}

T_NAME=
T_DIR=
T_PIDS=()                 # every background process started (ferryd, peers, watchdog)
T_WATCHDOG=
declare -A PEER_PID=()    # peer name -> pid
FERRYD_PID=
FERRYD_LOG=
FERRYD_RUN=0              # number of ferryd starts (log file suffix)
FERRYD_STOPPED=0          # the current ferryd was stopped by ferryd_stop

# ---- scenario frame ----

t_init() {   # t_init NAME: scratch dir, trap, watchdog, tool checks
	T_NAME=$1
	T_DIR=${FERRY_TEST_OUT:-/tmp/ferry-tests}/vhost/$T_NAME
	rm -rf "$T_DIR"
	mkdir -p "$T_DIR" || { echo "FAIL: vhost/$T_NAME: cannot create $T_DIR"; exit 1; }
	trap t_cleanup EXIT
	trap 't_fail "interrupted"' INT TERM
	trap 't_fail "time limit of ${T_LIMIT}s reached"' USR1
	local x
	for x in "$FERRYD" "$VPEER"; do
		[ -x "$x" ] || { echo "FAIL: vhost/$T_NAME: $x not built"; exit 1; }
	done
	command -v jq >/dev/null || { echo "FAIL: vhost/$T_NAME: jq is required"; exit 1; }
	( trap 'kill $s 2>/dev/null; exit 0' TERM
	  sleep "$T_LIMIT" & s=$!
	  wait $s && kill -USR1 $$ ) >/dev/null 2>&1 &
	T_WATCHDOG=$!
	T_START_NS=$(date +%s%N)
}

t_ms() {     # milliseconds since t_init
	echo $(( ($(date +%s%N) - T_START_NS) / 1000000 ))
}

t_log() {
	echo "[vhost/$T_NAME $(t_ms) ms] $*"
}

t_kill_wait() {   # t_kill_wait PID: TERM, then KILL after 3 s
	local pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

t_cleanup() {
	local pid
	trap - EXIT INT TERM USR1
	if [ -n "$T_WATCHDOG" ]; then
		kill "$T_WATCHDOG" 2>/dev/null
		wait "$T_WATCHDOG" 2>/dev/null
	fi
	for pid in "${T_PIDS[@]}"; do
		t_kill_wait "$pid"
	done
	# EAL runtime directories of this scenario's processes (--in-memory leaves no hugepage files)
	rm -rf /var/run/dpdk/"ferry-$T_NAME" /var/run/dpdk/"vp-$T_NAME"-* 2>/dev/null
}

t_tails() {   # last lines of every log of the scenario
	local f
	for f in "$T_DIR"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (tail) ----"
		grep -v -e 'Reconnect callback call failed' "$f" | tail -n 12
	done
}

t_fail() {
	trap - INT TERM USR1
	local note=
	if [ -n "$FERRYD_PID" ] && kill -0 "$FERRYD_PID" 2>/dev/null; then
		ferryd_dump_stats
	elif [ -n "$FERRYD_PID" ] && [ "$FERRYD_STOPPED" = 0 ]; then
		note=" (ferryd is not running: it died, see $(basename "$FERRYD_LOG"))"
	fi
	t_tails
	echo "FAIL: vhost/$T_NAME: $*$note"
	exit 1
}

check_eq() {   # check_eq WHAT GOT WANT: fail the scenario unless GOT is WANT
	[ "$2" = "$3" ] || t_fail "$1: $2, expected $3"
}

t_pass() {
	echo "PASS: vhost/$T_NAME${1:+ ($*)}"
	exit 0
}

# ---- ferryd ----

# t_port NAME MODE MAC VLAN: one vhostuser port object (socket $T_DIR/NAME.sock, access VLAN).
t_port() {   # t_port NAME MODE MAC VLAN (T_ZC: the ports' zero_copy, default auto; T_ENQ: their
	     # enqueue, rte_vhost or ferry, default: the field's own default)
	printf '{"name":"%s","type":"vhostuser","path":"%s/%s.sock","mode":"%s","mac":["%s"],"vlan":{"mode":"access","tag":%s},"zero_copy":"%s"%s}' \
		"$1" "$T_DIR" "$1" "$2" "$3" "$4" "${T_ZC:-auto}" "${T_ENQ:+,\"enqueue\":\"$T_ENQ\"}"
}

# t_dpdk_port NAME DEVARGS VLAN [MORE_JSON]: one dpdk port object, access VLAN; MORE_JSON adds
# fields (e.g. '"rxq":1,"txq":2').
t_dpdk_port() {
	printf '{"name":"%s","type":"dpdk","devargs":"%s","vlan":{"mode":"access","tag":%s}%s}' \
		"$1" "$2" "$3" "${4:+,$4}"
}

# t_config PORT_JSON...: writes $T_DIR/cfg.json (lcores main 0, pmd ${T_PMDS:-[1]}; T_EAL: extra
# EAL arguments as a JSON list body, e.g. '"--lcores", "0@0,1@1,2@1"').
t_config() {
	local ports
	ports=$(IFS=,; echo "$*")
	cat > "$T_DIR/cfg.json" <<-EOF
	{"lcores": {"main": 0, "pmd": ${T_PMDS:-[1]}},
	 "eal_args": [${T_EAL:-}],
	 "burst": 32,
	 "mbufs": 8192,
	 "rpc": {"socket": "$T_DIR/ferryd.sock"},
	 "vhost": {"socket_dirs": ["$T_DIR"]},
	 "ports": [$ports]}
	EOF
}

ferryd_start() {   # starts ferryd on cfg.json; log ferrydN.log
	FERRYD_RUN=$((FERRYD_RUN + 1))
	FERRYD_LOG=$T_DIR/ferryd$FERRYD_RUN.log
	# FERRYD_EAL_EXTRA: extra EAL arguments, word-split on purpose
	# shellcheck disable=SC2086
	"$FERRYD" --config "$T_DIR/cfg.json" -- --file-prefix "ferry-$T_NAME" --in-memory \
		${FERRYD_EAL_EXTRA:-} > "$FERRYD_LOG" 2>&1 &
	FERRYD_PID=$!
	FERRYD_STOPPED=0
	T_PIDS+=("$FERRYD_PID")
	t_log "ferryd started (pid $FERRYD_PID, log $(basename "$FERRYD_LOG"))"
}

ferryd_wait_ready() {   # ferryd_wait_ready [TIMEOUT_S]: its "ferryd ready" log line
	local limit=$(( ${1:-15} * 10 ))
	for _ in $(seq "$limit"); do
		grep -q "ferryd ready" "$FERRYD_LOG" 2>/dev/null && { t_log "ferryd ready"; return 0; }
		kill -0 "$FERRYD_PID" 2>/dev/null || t_fail "ferryd exited during start-up"
		sleep 0.1
	done
	t_fail "ferryd not ready after ${1:-15} s"
}

ferryd_wait_log() {   # ferryd_wait_log REGEX [TIMEOUT_S]: a line of the current ferryd log (grep -E)
	local limit=$(( ${2:-10} * 10 ))
	for _ in $(seq "$limit"); do
		grep -qE "$1" "$FERRYD_LOG" 2>/dev/null && return 0
		ferryd_alive
		sleep 0.1
	done
	t_fail "no ferryd log line matching '$1' after ${2:-10} s"
}

ferryd_stop() {   # ferryd_stop SIGNAL [TIMEOUT_S]: signal ferryd, wait; sets FERRYD_RC
	local sig=$1 limit=$(( ${2:-5} * 10 ))
	kill -"$sig" "$FERRYD_PID" 2>/dev/null
	for _ in $(seq "$limit"); do
		kill -0 "$FERRYD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$FERRYD_PID" 2>/dev/null && t_fail "ferryd still running ${2:-5} s after SIG$sig"
	wait "$FERRYD_PID" 2>/dev/null
	FERRYD_RC=$?
	FERRYD_STOPPED=1
	t_log "ferryd stopped by SIG$sig (exit status $FERRYD_RC)"
}

ferryd_check_exit() {   # ferryd_check_exit NAME: after ferryd_stop TERM: no sanitizer report, status 0
	if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$FERRYD_LOG"; then
		grep -E -A30 "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$FERRYD_LOG" | head -60
		t_fail "$1: sanitizer report in $(basename "$FERRYD_LOG")"
	fi
	[ "$FERRYD_RC" = 0 ] || t_fail "$1: ferryd exited with status $FERRYD_RC on SIGTERM"
}

ferryd_alive() {
	kill -0 "$FERRYD_PID" 2>/dev/null || t_fail "ferryd died (see $(basename "$FERRYD_LOG"))"
}

# ---- peers ----

# peer_start NAME SOCKET QUEUES client|server [vpeer options...]
# "server" = the peer listens (virtio-user server=1) and ferryd is the vhost-user client.
# PEER_QSIZE (e.g. `PEER_QSIZE=256 peer_start ...`): ring size per queue instead of the default.
# PEER_MEM: hugepage MB the peer's EAL takes at start (-m; default: none, memory taken on demand).
# Taken at start, all of the guest's memory is in the table the switch gets when the device
# starts, as with a VM; memory taken on demand after that (the peer's mempool: virtio-user's
# device starts in the EAL probe) makes virtio-user send new tables right after start. The zc_*
# scenarios set 64 (their subject is what ferry lends, not a table changing under it — except
# zc_memtable.sh, which changes it on purpose with --grow-at).
peer_start() {
	local name=$1 sock=$2 queues=$3 role=$4 vdev
	shift 4
	# Deep rings (4096 descriptors per port, at least 1024 per queue; virtio-user's default is 256):
	# at 10 kpps a peer or ferryd's PMD may be kept off a busy shared core for ~400 ms without loss.
	local qsize=$(( 4096 / queues ))
	[ "$qsize" -ge 1024 ] || qsize=1024
	qsize=${PEER_QSIZE:-$qsize}
	vdev="net_virtio_user0,path=$sock,queues=$queues,queue_size=$qsize"
	[ "$role" = server ] && vdev="$vdev,server=1"
	local mem=()
	[ "${PEER_MEM:-0}" != 0 ] && mem=(-m "$PEER_MEM")
	"$VPEER" -l 0 "${mem[@]}" --no-pci --no-telemetry --in-memory --single-file-segments \
		--file-prefix "vp-$T_NAME-$name" --vdev "$vdev" -- \
		--report "$T_DIR/$name.json" "$@" > "$T_DIR/$name.log" 2>&1 &
	PEER_PID[$name]=$!
	T_PIDS+=("$!")
	t_log "peer $name started (pid $!, $role of $(basename "$sock"), queues $queues): $*"
}

peer_wait_link() {   # peer_wait_link NAME [TIMEOUT_S]
	local name=$1 limit=$(( ${2:-10} * 10 ))
	for _ in $(seq "$limit"); do
		grep -q "vpeer: link up" "$T_DIR/$name.log" 2>/dev/null && return 0
		kill -0 "${PEER_PID[$name]}" 2>/dev/null || t_fail "peer $name exited before link up"
		sleep 0.1
	done
	t_fail "peer $name: link not up after ${2:-10} s"
}

peer_wait_exit() {   # peer_wait_exit NAME [TIMEOUT_S]: waits; fails on non-zero status
	local name=$1 pid=${PEER_PID[$1]} limit=$(( ${2:-20} * 10 )) rc
	for _ in $(seq "$limit"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && t_fail "peer $name still running after ${2:-20} s"
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] || t_fail "peer $name exited with status $rc"
	[ -s "$T_DIR/$name.json" ] || t_fail "peer $name wrote no report"
}

peer_finish() {   # peer_finish NAME...: SIGUSR1 (stop sending, drain 0.5 s, report), wait
	local n
	for n in "$@"; do
		kill -USR1 "${PEER_PID[$n]}" 2>/dev/null || t_fail "peer $n is not running"
	done
	for n in "$@"; do
		peer_wait_exit "$n" 10
	done
}

wait_socket() {   # wait_socket PATH [TIMEOUT_S]
	local limit=$(( ${2:-10} * 10 ))
	for _ in $(seq "$limit"); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	t_fail "socket $1 did not appear within ${2:-10} s"
}

# Last "progress" value KEY of a running peer (needs --progress), 0 before the first line.
peer_progress() {   # peer_progress NAME KEY
	local v
	v=$(grep "vpeer: progress" "$T_DIR/$1.log" 2>/dev/null | tail -n 1 | tr ' ' '\n' |
		sed -n "s/^$2=//p")
	echo "${v:-0}"
}

# Waits until KEY of every named peer exceeds its value at call time + MIN; echoes elapsed ms.
peers_wait_progress() {   # peers_wait_progress KEY MIN TIMEOUT_S NAME...
	local key=$1 min=$2 limit=$(( $3 * 20 )) start n ok
	shift 3
	declare -A base=()
	for n in "$@"; do base[$n]=$(peer_progress "$n" "$key"); done
	start=$(date +%s%N)
	for _ in $(seq "$limit"); do
		ok=1
		for n in "$@"; do
			[ "$(peer_progress "$n" "$key")" -gt $(( ${base[$n]} + min )) ] || ok=0
		done
		[ $ok = 1 ] && { echo $(( ($(date +%s%N) - start) / 1000000 )); return 0; }
		sleep 0.05
	done
	return 1
}

# peers_wait_value KEY MIN TIMEOUT_S NAME...: until progress KEY of every named peer is >= MIN
# (e.g. `peers_wait_value tx 20000 30 a` for a --duration 0 sender). Returns 1 on timeout.
peers_wait_value() {
	local key=$1 min=$2 limit=$(( $3 * 10 )) n ok
	shift 3
	for _ in $(seq "$limit"); do
		ok=1
		for n in "$@"; do
			[ "$(peer_progress "$n" "$key")" -ge "$min" ] || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- report checks ----

rj() {   # rj NAME JQ_FILTER: a value from peer NAME's report
	jq -r "$2" "$T_DIR/$1.json"
}

sender_val() {   # sender_val RX_PEER SENDER_ID FIELD: 0 when the sender is absent
	jq -r --arg id "$2" ".senders[\$id].$3 // 0" "$T_DIR/$1.json"
}

# check_flow TX RX [exact]: RX got TX's frames undamaged, in order per flow, without duplicates;
# with "exact" also all of them (zero loss). Prints one summary line.
check_flow() {
	local tx=$1 rx=$2 id sent got dup ooo
	id=$(rj "$tx" .id)
	sent=$(rj "$tx" .tx)
	got=$(sender_val "$rx" "$id" rx)
	dup=$(sender_val "$rx" "$id" dup)
	ooo=$(sender_val "$rx" "$id" ooo)
	t_log "$tx -> $rx: sent $sent, received $got, lost $((sent - got)), dup $dup, ooo $ooo, rx_bad $(rj "$rx" .rx_bad) ($rx: longest wait between polls $(rj "$rx" .poll_gap_max_us) us)"
	[ "$sent" -gt 0 ] || t_fail "$tx sent nothing"
	[ "$(rj "$rx" .rx_bad)" = 0 ] || t_fail "$rx received $(rj "$rx" .rx_bad) corrupted frames"
	[ "$dup" = 0 ] || t_fail "$tx -> $rx: $dup duplicated frames"
	[ "$ooo" = 0 ] || t_fail "$tx -> $rx: $ooo frames out of order within a flow"
	[ "$got" -le "$sent" ] || t_fail "$tx -> $rx: received $got > sent $sent"
	if [ "${3:-}" = exact ]; then
		[ "$got" = "$sent" ] || t_fail "$tx -> $rx: lost $((sent - got)) of $sent frames (missing seqs $(sender_val "$rx" "$id" 'missing|@json'); $tx sent from $(rj "$tx" .first_tx_ms) ms at --rate; $rx: rx_nombuf $(rj "$rx" .rx_nombuf), fewest free mbufs $(rj "$rx" .pool_free_min))"
	else
		[ "$got" -gt 0 ] || t_fail "$tx -> $rx: nothing received"
	fi
}

check_sent_all() {   # check_sent_all NAME COUNT: the peer managed to send COUNT frames
	[ "$(rj "$1" .tx)" = "$2" ] || t_fail "peer $1 sent only $(rj "$1" .tx) of $2 frames (tx_unsent $(rj "$1" .tx_unsent))"
}

check_nothing_from() {   # check_nothing_from RX TX: RX saw no frame of TX's, addressed to it or not
	local id
	id=$(rj "$2" .id)
	if [ "$(sender_val "$1" "$id" rx)" != 0 ] || [ "$(sender_val "$1" "$id" foreign)" != 0 ]; then
		t_fail "$1 received $(sender_val "$1" "$id" rx) + $(sender_val "$1" "$id" foreign) (not addressed to it) frames from $2"
	fi
	t_log "$2 -> $1: nothing received (as required)"
}

# ---- diagnostics ----

# ferryd_rpc METHOD [PARAMS_JSON]: one JSON-RPC call on ferryd's control socket (needs python3);
# prints the result (or error) object. FERRYD_RPC_TIMEOUT: seconds to wait for the answer (3).
ferryd_rpc() {
	command -v python3 >/dev/null || { echo '{"error":"python3 missing"}'; return 1; }
	python3 - "$T_DIR/ferryd.sock" "$1" "${2:-null}" <<-'PY'
	import json, os, socket, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.settimeout(float(os.environ.get("FERRYD_RPC_TIMEOUT", "3")))
	s.connect(sys.argv[1])
	req = {"jsonrpc": "2.0", "id": 1, "method": sys.argv[2]}
	if sys.argv[3] != "null":
	    req["params"] = json.loads(sys.argv[3])
	s.sendall((json.dumps(req) + "\n").encode())
	buf = b""
	while not buf.endswith(b"\n"):
	    chunk = s.recv(65536)
	    if not chunk:
	        break
	    buf += chunk
	r = json.loads(buf)
	print(json.dumps(r.get("result", r.get("error")), separators=(",", ":")))
	PY
}

# ferryd_port_stat PORT [JQ_FILTER]: PORT's port.stats over the control socket, or one value of it
# (e.g. `ferryd_port_stat vm1 .zero_copy.lent`).
ferryd_port_stat() {
	ferryd_rpc port.stats "{\"name\":\"$1\"}" | jq -cr "${2:-.}"
}

# ferryd_wait_stat PORT JQ_CONDITION TIMEOUT_S: until the condition on PORT's port.stats holds
# (e.g. '.zero_copy.inflight == 0'); fails the scenario on timeout.
ferryd_wait_stat() {
	local limit=$(( $3 * 10 ))
	for _ in $(seq "$limit"); do
		ferryd_rpc port.stats "{\"name\":\"$1\"}" | jq -e "$2" >/dev/null 2>&1 && return 0
		ferryd_alive
		sleep 0.1
	done
	t_fail "port $1: '$2' not true after $3 s (now $(ferryd_port_stat "$1" .zero_copy))"
}

# ferryd_wait_link PORT up|down [TIMEOUT_S]: ferryd's view of a vhost-user port's guest (port.get).
ferryd_wait_link() {
	local limit=$(( ${3:-10} * 10 )) want=$2
	for _ in $(seq "$limit"); do
		[ "$(ferryd_rpc port.get "{\"name\":\"$1\"}" | jq -r '.link')" = "$want" ] && return 0
		ferryd_alive
		sleep 0.1
	done
	t_fail "port $1: link not $want after ${3:-10} s"
}

# ferryd_exit_stat PORT [JQ_FILTER]: PORT's counters from the "ferry: stats" line ferryd logged at
# exit (the last ferryd run's log).
ferryd_exit_stat() {
	sed -n 's/^ferry: stats //p' "$FERRYD_LOG" | jq -cr --arg n "$1" "select(.name == \$n) | ${2:-.}"
}

# ferryd_dump_stats: port counters into ferryd-stats.log (shown among the log tails on failure).
ferryd_dump_stats() {
	ferryd_rpc port.stats 2>&1 | { jq -c '.[]?' 2>/dev/null || cat; } > "$T_DIR/ferryd-stats.log"
}

# check_pair_exact A B COUNT: both peers synced, sent COUNT, got nothing foreign, and each received
# all of the other's frames intact and in order; then ferryd stops cleanly on SIGTERM.
check_pair_exact() {
	local p
	for p in "$1" "$2"; do
		[ "$(rj "$p" .synced_after_ms)" -ge 0 ] || t_fail "peer $p never heard its peer's announce"
		check_sent_all "$p" "$3"
		[ "$(rj "$p" .rx_foreign)" = 0 ] || t_fail "peer $p received $(rj "$p" .rx_foreign) frames not addressed to it"
	done
	check_flow "$1" "$2" exact
	check_flow "$2" "$1" exact
	ferryd_alive
	ferryd_stop TERM 5
	[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
}
