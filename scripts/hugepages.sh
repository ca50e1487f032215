#!/usr/bin/env bash
# hugepages.sh — reserve 2 MiB hugepages (default 1024 = 2 GiB) and mount hugetlbfs if needed.
set -euo pipefail
want=${FERRY_HUGEPAGES:-1024}
have=$(cat /proc/sys/vm/nr_hugepages)
if [ "$have" -lt "$want" ]; then
	echo "$want" > /proc/sys/vm/nr_hugepages
	have=$(cat /proc/sys/vm/nr_hugepages)
	[ "$have" -ge "$want" ] || echo "hugepages: only $have of $want pages could be reserved" >&2
fi
if ! mountpoint -q /dev/hugepages; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages
fi
