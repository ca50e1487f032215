#!/bin/sh
# tests/rpc/run.sh — run every control-socket test (ferryd + ferryctl) and exit non-zero if any
# failed. Each test prints `PASS: rpc/<name>` or `FAIL: rpc/<name>: <reason>`.
#   BUILD=dir, or FERRYD=... FERRYCTL=...   binaries (default build/app/ferryd/ferryd and
#   build/app/ferryctl/ferryctl)
#   tests/rpc/run.sh [file ...]   only these test files (e.g. test_methods.py)
# Needs root (DPDK, hugepages) and python3. Each file starts its own ferryd (lcores 0 and 1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${BUILD:=$root/build}"
: "${FERRYD:=$BUILD/app/ferryd/ferryd}"
: "${FERRYCTL:=$BUILD/app/ferryctl/ferryctl}"
export FERRYD FERRYCTL

for b in "$FERRYD" "$FERRYCTL"; do
	if [ ! -x "$b" ]; then
		echo "FAIL: rpc/setup: $b is not built (ninja -C build)"
		exit 1
	fi
done

files=${*:-"test_protocol.py test_methods.py test_clients.py test_robust.py test_events.py
	test_traffic.py test_reload.py test_ferryctl.py test_socket.py test_security.py test_fdb_full.py
	test_egress_limits.py test_filters.py test_filter_maps.py test_capture.py test_schema.py test_readme_fields.py
	test_metrics.py test_telemetry.py test_service.py test_pmd_perf.py
	test_isolation.py test_mirror.py test_steering.py test_vm_port.py"}
out=$(mktemp)
rcf=$(mktemp)
for f in $files; do
	f=$(basename "$f")
	{ timeout 600 python3 -u "$here/$f" 2>&1; echo $? > "$rcf"; } | tee -a "$out"
	rc=$(cat "$rcf")
	if [ "$rc" -ne 0 ] && ! grep -q "^FAIL: " "$out"; then
		echo "FAIL: rpc/$f: exited with status $rc" | tee -a "$out"
	fi
done
pass=$(grep -c '^PASS: ' "$out")
fail=$(grep -c '^FAIL: ' "$out")
rm -f "$out" "$rcf"
echo "rpc: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
