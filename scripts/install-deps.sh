#!/usr/bin/env bash
# install-deps.sh — install the Debian 12 packages ferry needs to build, run and test.
# Skips apt entirely when everything is already installed.
set -euo pipefail
PKGS=(build-essential clang meson ninja-build pkg-config python3 iproute2 procps
      jq libdpdk-dev dpdk dpdk-dev libjansson-dev libpcap-dev libnuma-dev libbpf-dev libelf-dev
      libmicrohttpd-dev python3-prometheus-client tcpdump)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
