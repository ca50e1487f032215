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
