#!/usr/bin/env bash
# run.sh — runs the vhost-user scenarios (every tests/vhost/*.sh but this one, or those named on the
# command line) one after the other. Each prints "PASS: vhost/<name>" or "FAIL: vhost/<name>: ...";
# a scenario that exits non-zero without a FAIL line gets one here. Exit status: number of failures.
#   tests/vhost/run.sh [server_mode client_mode ...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
order=(server_mode client_mode multiqueue vlan_isolation reconnect ferryd_restart
       zc_nic zc_inflight zc_return zc_disconnect zc_memtable zc_off_states zc_evil)

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	names=("${order[@]}")
	for f in "$here"/*.sh; do   # scenarios added later run after the known ones
		n=$(basename "$f" .sh)
		[ "$n" = run ] && continue
		[[ " ${order[*]} " == *" $n "* ]] || names+=("$n")
	done
fi

failed=0
# The hostile-guest scenarios run once more against an AddressSanitizer ferryd (security #21 item
# 1): build it here (build-fuzz/, shared with tests/fuzz), so that it exists before they run.
if [ -z "${FERRYD_ASAN:-}" ] && [[ " ${names[*]} " == *" zc_evil "* || " ${names[*]} " == *" zc_ring_evil "* ]]; then
	root=$(cd "$here/../.." && pwd)
	abuild=${FUZZ_BUILD:-$root/build-fuzz}
	t0=$(date +%s)
	if "$root/tests/tools/asan_build.sh" "$abuild" "${FERRY_TEST_OUT:-/tmp/ferry-tests}/asan" app/ferryd/ferryd; then
		export FERRYD_ASAN=$abuild/app/ferryd/ferryd
		echo "vhost: AddressSanitizer ferryd $FERRYD_ASAN ($(( $(date +%s) - t0 )) s)"
	else
		echo "FAIL: vhost/asan_build: the ASan ferryd for zc_evil and zc_ring_evil did not build"
		failed=$((failed + 1))
		export FERRYD_ASAN=none
	fi
fi
out=$(mktemp)
for n in "${names[@]}"; do
	n=${n%.sh}
	if [ ! -f "$here/$n.sh" ]; then
		echo "FAIL: vhost/$n: no such scenario"
		failed=$((failed + 1))
		continue
	fi
	bash "$here/$n.sh" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		grep -q "^FAIL: " "$out" || echo "FAIL: vhost/$n: exited with status $rc"
	fi
done
rm -f "$out"
exit $failed
