#!/usr/bin/env bash
# setup.sh — one-time setup of the virtual hardware lab (tests/lab/README.md): QEMU >= 8 (igb),
# a Debian kernel for the lab guest, busybox-static; everything cached under $FERRY_LAB_CACHE
# (default /var/cache/ferry-lab). Idempotent: a second run only checks (well under a second).
# Needs root and Debian's package archive (apt-get); adds bookworm-backports to apt's sources if it
# is not there yet. Concurrent runs on one cache wait for each other (flock on $CACHE/setup.lock).
#
#   tests/lab/setup.sh          QEMU, kernel and busybox (tests/lab/run.sh)
#   tests/lab/setup.sh qemu     QEMU only (tests/qemu/run.sh: its guests run on this QEMU too)
#
#   FERRY_LAB_QEMU=auto     (default) use an installed qemu-system-x86_64 if it is >= 8, else unpack
#                           qemu-system-x86 from bookworm-backports into the cache (installed
#                           packages untouched: QEMU 7.2 users on the same machine are not disturbed)
#   FERRY_LAB_QEMU=install  apt-get install -t bookworm-backports qemu-system-x86 (simplest on a CI box)
#   FERRY_LAB_QEMU=unpack   always unpack into the cache
#
# Writes $CACHE/qemu.env (sourced by tests/lab/run.sh and tests/qemu/lib.sh): QEMU= (binary),
# QEMU_MODULE_DIR=, QEMU_DATA= (-L directories), QEMU_VERSION= (e.g. 10.0.2), QEMU_MAJOR= (e.g. 10).
# Prints "lab-setup: ready: <qemu version>[, kernel <version>]" on success; exit 1 on failure.
set -euo pipefail
CACHE=${FERRY_LAB_CACHE:-/var/cache/ferry-lab}
MODE=${FERRY_LAB_QEMU:-auto}
WHAT=${1:-all}
case $WHAT in all|qemu) ;; *) echo "usage: $0 [qemu]" >&2; exit 2 ;; esac
say() { echo "lab-setup: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root"
mkdir -p "$CACHE/debs"
exec 9> "$CACHE/setup.lock"
flock -w 900 9 || die "another setup.sh held $CACHE/setup.lock for 15 minutes"

# The one place that reads QEMU's version: qemu.env carries it to its users (QEMU_VERSION, QEMU_MAJOR).
qemu_version() {   # qemu_version BINARY [MODULE_DIR]: e.g. 10.0.2, 0 if it does not run
	local v
	v=$(env ${2:+QEMU_MODULE_DIR=$2} "$1" --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9][0-9.]*\).*/\1/p')
	echo "${v:-0}"
}
qemu_major() { local v; v=$(qemu_version "$@"); echo "${v%%.*}"; }   # qemu_major BINARY [MODULE_DIR]

write_env() {   # write_env BINARY MODULE_DIR DATA_DIRS: $QEMU_ENV, replaced atomically (readers may be running)
	local v
	v=$(qemu_version "$1" "$2")
	[ "${v%%.*}" -ge 8 ] || die "$1 does not run or is older than QEMU 8 ($v): $(env ${2:+QEMU_MODULE_DIR=$2} "$1" --version 2>&1 | head -n 2)"
	printf 'QEMU=%s\nQEMU_MODULE_DIR=%s\nQEMU_DATA="%s"\nQEMU_VERSION=%s\nQEMU_MAJOR=%s\n' \
		"$1" "$2" "$3" "$v" "${v%%.*}" > "$QEMU_ENV.tmp.$$"
	mv -f "$QEMU_ENV.tmp.$$" "$QEMU_ENV"
}

backports() {   # make bookworm-backports known to apt (same mirror as the main suite)
	if apt-cache policy 2>/dev/null | grep -q 'bookworm-backports/main'; then
		return 0
	fi
	local mirror
	mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\/*\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$mirror" ] || mirror=$(awk '$1=="deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	say "adding 'deb $mirror bookworm-backports main' to /etc/apt/sources.list.d/ferry-lab-backports.list"
	echo "deb $mirror bookworm-backports main" > /etc/apt/sources.list.d/ferry-lab-backports.list
	apt-get update -qq || die "apt-get update failed"
}

# ---- QEMU ----
QEMU_ENV=$CACHE/qemu.env   # sourced by tests/lab/run.sh and tests/qemu/lib.sh
setup_qemu() {
	local sys=/usr/bin/qemu-system-x86_64
	if [ "$MODE" = auto ] && [ -x $sys ] && [ "$(qemu_major $sys)" -ge 8 ]; then
		write_env $sys "" ""; return 0
	fi
	if [ "$MODE" = install ]; then
		backports
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports qemu-system-x86 >&2 ||
			die "apt-get install qemu-system-x86/bookworm-backports failed"
		write_env $sys "" ""; return 0
	fi
	local q=$CACHE/qemu/usr/bin/qemu-system-x86_64 md=$CACHE/qemu/usr/lib/x86_64-linux-gnu/qemu
	if ! [ -x "$q" ] || [ "$(qemu_major "$q" "$md")" -lt 8 ]; then
		backports
		say "downloading QEMU from bookworm-backports (unpacked into $CACHE/qemu)"
		(cd "$CACHE/debs" && rm -f qemu-*.deb seabios_*.deb &&
		 apt-get download -qq -o APT::Sandbox::User=root qemu-system-x86/bookworm-backports qemu-system-common/bookworm-backports \
			qemu-system-data/bookworm-backports qemu-system-gui/bookworm-backports \
			qemu-system-modules-opengl/bookworm-backports qemu-system-modules-spice/bookworm-backports \
			seabios/bookworm-backports ipxe-qemu >&2) || die "apt-get download of QEMU failed"
		rm -rf "$CACHE/qemu"; mkdir -p "$CACHE/qemu"
		local f
		for f in "$CACHE"/debs/qemu-*.deb "$CACHE"/debs/seabios_*.deb; do
			dpkg -x "$f" "$CACHE/qemu"
		done
		# the unpacked QEMU must load its own modules (QEMU_MODULE_DIR), never the installed 7.2 ones;
		# audio-pipewire needs libpipewire, which a server does not have
		rm -f "$md"/audio-pipewire.so
	fi
	qemu_libs "$q" "$md"
	write_env "$q" "$md" "$CACHE/qemu/usr/share/qemu $CACHE/qemu/usr/share/seabios"
}

# The shared libraries the unpacked QEMU links (libcapstone4, libfdt1, ...): dpkg -x installs no
# dependencies, and a box without QEMU 7.2 has none of them. Installed from bookworm (backports
# where bookworm's version is too old).
qemu_libs() {
	local q=$1 md=$2 f missing=() pkg
	QEMU_MODULE_DIR=$md "$q" --version >/dev/null 2>&1 && return 0
	for pkg in $(for f in "$CACHE"/debs/qemu-system-x86_*.deb "$CACHE"/debs/qemu-system-common_*.deb; do
			dpkg-deb -f "$f" Depends; echo ,
		done | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/:any//; s/ //g' | grep '^lib' | sort -u); do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing the libraries QEMU needs: ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				-t bookworm-backports "${missing[@]}" >&2 ||
			die "apt-get install ${missing[*]} failed"
	fi
	QEMU_MODULE_DIR=$md "$q" --version >/dev/null 2>&1 ||
		die "$q does not run: $(QEMU_MODULE_DIR=$md "$q" --version 2>&1 | tail -n 1)"
}

# ---- guest kernel and busybox ----
setup_kernel() {
	if ls "$CACHE"/kernel/boot/vmlinuz-* >/dev/null 2>&1 && [ -s "$CACHE/kernel/modules.dep.ok" ]; then
		return 0
	fi
	local kpkg
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	[ -n "$kpkg" ] || { apt-get update -qq; kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}'); }
	[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64"
	say "downloading $kpkg and busybox-static"
	(cd "$CACHE/debs" && rm -f linux-image-*.deb busybox-static_*.deb &&
	 apt-get download -qq -o APT::Sandbox::User=root "$kpkg" busybox-static >&2) || die "apt-get download $kpkg busybox-static failed"
	rm -rf "$CACHE/kernel" "$CACHE/bb"; mkdir -p "$CACHE/kernel" "$CACHE/bb"
	dpkg -x "$CACHE"/debs/linux-image-*.deb "$CACHE/kernel"
	dpkg -x "$CACHE"/debs/busybox-static_*.deb "$CACHE/bb"
	local kv
	kv=$(ls "$CACHE/kernel/lib/modules" | head -n 1)
	# no kmod on a minimal host: busybox's depmod writes modules.dep
	"$CACHE/bb/bin/busybox" depmod -b "$CACHE/kernel" "$kv" || die "depmod failed"
	echo "$kv" > "$CACHE/kernel/modules.dep.ok"
}

[ "$WHAT" = qemu ] || [ -x /usr/bin/dpdk-testpmd ] || [ -e /usr/lib/x86_64-linux-gnu/librte_eal.so.23 ] ||
	die "DPDK 22.11 (Debian's dpdk package) must be installed on the host: the lab guest runs the host's /"
setup_qemu
# shellcheck disable=SC1090
. "$QEMU_ENV"
if [ "$WHAT" = qemu ]; then
	say "ready: QEMU $QEMU_VERSION ($QEMU)"
	exit 0
fi
setup_kernel
say "ready: QEMU $QEMU_VERSION ($QEMU), kernel $(cat "$CACHE/kernel/modules.dep.ok")"
