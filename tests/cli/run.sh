#!/usr/bin/env bash
# tests/cli/run.sh — ferryd as a program: help/version, the shipped configs, config errors (named by
# JSON path, exit 2, no device touched), clean shutdown on SIGTERM, SIGINT and SIGQUIT (sockets
# removed, pcap outputs complete, counters logged), SIGHUP reloading (or, invalid, not), a live
# socket never stolen.
set -uo pipefail
cd "$(dirname "$0")/../.."
FERRYD=${FERRYD:-build/app/ferryd/ferryd}
OUT=${FERRY_TEST_OUT:-/tmp/ferry-tests}/cli
rm -rf "$OUT"; mkdir -p "$OUT"
pass() { echo "PASS: cli/$1"; }
fail() { echo "FAIL: cli/$1: $2"; }

"$FERRYD" --help | grep -q -- "--config" && pass help || fail help "no usage text"
"$FERRYD" --version | grep -q "ferryd .*DPDK 22.11" && pass version || fail version "$("$FERRYD" --version)"

ok=1
for f in config/*.json; do "$FERRYD" --check -c "$f" >/dev/null || { ok=0; fail "configs" "$f rejected"; }; done
"$FERRYD" --print-default > "$OUT/default.json" && "$FERRYD" --check -c "$OUT/default.json" >/dev/null || ok=0
[ $ok = 1 ] && pass configs

# a bad port deep in the file: exit 2, message names file and JSON path, nothing created
cat > "$OUT/bad.json" <<J
{"ports": [{"name": "t", "type": "dpdk", "devargs": "net_tap9,iface=fbad0"},
           {"name": "v", "type": "vhostuser", "path": "$OUT/v.sock", "vlan": {"mode": "access", "tag": 5000}}]}
J
msg=$("$FERRYD" -c "$OUT/bad.json" 2>&1); rc=$?
if [ $rc -eq 2 ] && echo "$msg" | grep -q "bad.json: ports\[1\].vlan.tag: must be a VLAN id 1..4094" &&
   ! ip link show fbad0 >/dev/null 2>&1 && [ ! -e "$OUT/v.sock" ]; then
	pass bad_config
else
	fail bad_config "rc=$rc msg=$msg"
fi
msg=$("$FERRYD" -c "$OUT/missing.json" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$msg" | grep -q "missing.json" && pass missing_config || fail missing_config "rc=$rc $msg"

# clean shutdown: vhost socket and control socket removed, pcap output complete
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' > "$OUT/empty.pcap"
shutdown_test() {
	local sig=$1 name=$2
	cat > "$OUT/$name.json" <<J
{"eal_args": ["--in-memory", "--no-telemetry"], "rpc": {"socket": "$OUT/$name-ctl.sock"},
 "ports": [{"name": "p", "type": "dpdk", "devargs": "net_pcap0,rx_pcap=$OUT/empty.pcap,tx_pcap=$OUT/$name-out.pcap"},
           {"name": "v", "type": "vhostuser", "path": "$OUT/$name-v.sock"}]}
J
	"$FERRYD" -c "$OUT/$name.json" -- --file-prefix ferry-cli-$name > "$OUT/$name.log" 2>&1 &
	local pid=$! i
	for i in $(seq 50); do grep -q "ferryd ready" "$OUT/$name.log" && break; sleep 0.1; done
	[ -S "$OUT/$name-v.sock" ] || { fail "$name" "vhost socket not created"; kill -9 $pid; return; }
	kill -"$sig" $pid
	for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	if kill -0 $pid 2>/dev/null; then   # e.g. still dumping core (SIGQUIT before #21 item 10)
		kill -9 $pid; wait $pid
		fail "$name" "still running 10 s after SIG$sig (killed): $(tail -2 "$OUT/$name.log")"
		return
	fi
	wait $pid; local rc=$?
	if [ $rc -eq 0 ] && [ ! -e "$OUT/$name-v.sock" ] && [ ! -e "$OUT/$name-ctl.sock" ] &&
	   [ "$(stat -c %s "$OUT/$name-out.pcap" 2>/dev/null)" = 24 ] &&
	   grep -q 'stats {"name":"p"' "$OUT/$name.log"; then
		pass "$name"
	else
		fail "$name" "rc=$rc, sockets: $(ls "$OUT" | grep -c "$name.*sock"), log: $(tail -3 "$OUT/$name.log")"
	fi
}
shutdown_test TERM sigterm
shutdown_test INT sigint
shutdown_test QUIT sigquit

# SIGHUP: a port added from the changed file; then an invalid file changes nothing, ferryd runs on
cat > "$OUT/hup.json" <<J
{"eal_args": ["--in-memory", "--no-telemetry"], "rpc": {"socket": "$OUT/hup-ctl.sock"},
 "ports": [{"name": "v", "type": "vhostuser", "path": "$OUT/hup-v.sock"}]}
J
"$FERRYD" -c "$OUT/hup.json" -- --file-prefix ferry-cli-hup > "$OUT/hup.log" 2>&1 &
pid=$!
for i in $(seq 50); do grep -q "ferryd ready" "$OUT/hup.log" && break; sleep 0.1; done
sed 's|"ports": \[|"ports": [{"name": "w", "type": "vhostuser", "path": "'"$OUT"'/hup-w.sock"},|' \
	"$OUT/hup.json" > "$OUT/hup2.json" && mv "$OUT/hup2.json" "$OUT/hup.json"
kill -HUP $pid
for i in $(seq 50); do grep -q "reload: 1 added" "$OUT/hup.log" && break; sleep 0.1; done
sed 's|"path": "'"$OUT"'/hup-w.sock"|"path": 7|' "$OUT/hup.json" > "$OUT/hup3.json" && mv "$OUT/hup3.json" "$OUT/hup.json"
kill -HUP $pid
for i in $(seq 50); do grep -q "nothing changed" "$OUT/hup.log" && break; sleep 0.1; done
if grep -q "reload: 1 added, 0 removed, 0 changed, 1 unchanged, 0 failed" "$OUT/hup.log" &&
   grep -q "hup.json: ports\[0\].path: .*nothing changed" "$OUT/hup.log" && [ -S "$OUT/hup-w.sock" ] &&
   kill -0 $pid 2>/dev/null; then
	pass sighup_reload
else
	if kill -0 $pid 2>/dev/null; then
		fail sighup_reload "$(grep reload "$OUT/hup.log" | tail -3)"
	else
		wait $pid
		fail sighup_reload "ferryd died on SIGHUP (exit status $?)"
	fi
fi
kill $pid 2>/dev/null; wait $pid

# a socket another live ferryd serves is refused, not stolen
cat > "$OUT/live.json" <<J
{"eal_args": ["--in-memory", "--no-telemetry"], "rpc": {"socket": "$OUT/live-ctl.sock"},
 "ports": [{"name": "v", "type": "vhostuser", "path": "$OUT/live-v.sock"}]}
J
"$FERRYD" -c "$OUT/live.json" -- --file-prefix ferry-cli-live1 > "$OUT/live1.log" 2>&1 &
pid=$!
for i in $(seq 50); do grep -q "ferryd ready" "$OUT/live1.log" && break; sleep 0.1; done
sed "s/live-ctl.sock/live2-ctl.sock/" "$OUT/live.json" > "$OUT/live2.json"
"$FERRYD" -c "$OUT/live2.json" -- --file-prefix ferry-cli-live2 > "$OUT/live2.log" 2>&1; rc=$?
if [ $rc -ne 0 ] && grep -q "in use by a live process" "$OUT/live2.log" && [ -S "$OUT/live-v.sock" ]; then
	pass live_socket_kept
else
	fail live_socket_kept "rc=$rc $(tail -2 "$OUT/live2.log")"
fi
kill $pid; wait $pid
exit 0
