#!/usr/bin/env bash
# vpeer_testpmd_shim.sh — a stand-in for ferryd made of dpdk-testpmd, to check the vhost test
# harness (ferry-vpeer and tests/vhost/*.sh) without ferryd:
#   FERRYD=tests/tools/vpeer_testpmd_shim.sh tests/vhost/server_mode.sh
# It reads the ports of a ferryd config (path, mode) and runs testpmd with one net_vhost port each,
# io forwarding between port pairs (1st<->2nd, 3rd<->4th, ...), 4 queues per port. It is not a
# switch: no VLANs, no FDB, no flooding (vlan_isolation fails against it, as it should).
# Usage like ferryd: vpeer_testpmd_shim.sh --config cfg.json [-- EAL args]. Prints "ferryd ready"
# when testpmd forwards; SIGTERM stops testpmd and exits 0.
set -u
cfg=
while [ $# -gt 0 ]; do
	case $1 in
	--config|-c) cfg=$2; shift 2 ;;
	--) shift; break ;;
	*) shift ;;
	esac
done
[ -n "$cfg" ] || { echo "shim: --config needed" >&2; exit 2; }

eal=("$@")

vdevs=()
i=0
while IFS=$'\t' read -r path mode; do
	client=0
	[ "$mode" = client ] && client=1
	[ "$client" = 0 ] && rm -f "$path"
	vdevs+=(--vdev "net_vhost$i,iface=$path,queues=4,client=$client")
	i=$((i + 1))
done < <(jq -r '.ports[] | select(.type == "vhostuser") | [.path, (.mode // "server")] | @tsv' "$cfg")

# pdeathsig: a SIGKILLed shim takes testpmd with it, as a SIGKILLed ferryd would.
setpriv --pdeathsig KILL stdbuf -oL dpdk-testpmd -l 0,1 --no-pci "${vdevs[@]}" "${eal[@]}" -- --forward-mode=io --auto-start \
	--rxq=4 --txq=4 --nb-cores=1 --total-num-mbufs=16384 --disable-link-check --stats-period 3600 &
tp=$!
trap 'kill -TERM $tp 2>/dev/null; wait $tp; exit 0' TERM INT
# testpmd says "start packet forwarding" once its ports are started (stdout is our log file).
for _ in $(seq 150); do
	kill -0 $tp 2>/dev/null || break
	if grep -q "start packet forwarding" /proc/$$/fd/1 2>/dev/null; then
		echo "ferryd ready: $i ports (testpmd shim)"
		break
	fi
	sleep 0.1
done
wait $tp
