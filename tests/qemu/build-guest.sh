#!/usr/bin/env bash
# build-guest.sh — the tiny Linux guest of the QEMU end-to-end tests, from Debian packages only:
# linux-image-amd64 (unpacked with apt-get download + dpkg -x, never installed), busybox-static,
# and an initramfs holding the virtio-net/virtio-pci/fw_cfg modules, busybox, tests/qemu/guest/init
# and its helpers (tests/qemu/guest/ferry-guest.sh).
#
#   tests/qemu/build-guest.sh            prints the guest directory on its last line of stdout:
#                                        DIR/vmlinux (PVH ELF, boots ~3 s faster under TCG) or
#                                        DIR/vmlinuz, DIR/initramfs.gz, DIR/kernel-version
# Cached under ${FERRY_QEMU_CACHE:-/var/cache/ferry-qemu}/guest-<kernel pkg>-<version>-<hash>,
# where <hash> covers this script, the init and the helpers (and the busybox version). A cache
# hit costs no download. FERRY_QEMU_REBUILD=1 forces a rebuild.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${FERRY_QEMU_CACHE:-/var/cache/ferry-qemu}
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -q -o APT::Sandbox::User=root"    # root + apt-get download: skip the _apt sandbox

say() { echo "build-guest: $*" >&2; }

# --- tools on the host ----------------------------------------------------------------------
need=()
command -v xz >/dev/null || need+=(xz-utils)
command -v gzip >/dev/null || need+=(gzip)
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- cache key ------------------------------------------------------------------------------
resolve_kpkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}
KPKG=$(resolve_kpkg || true)
if [ -z "$KPKG" ]; then                       # fresh machine: no package lists yet
	apt-get update -qq
	KPKG=$(resolve_kpkg)
fi
[ -n "$KPKG" ] || { say "cannot resolve linux-image-amd64"; exit 1; }
cand() { apt-cache policy "$1" | awk '/Candidate:/{print $2; exit}'; }
KVERSION=$(cand "$KPKG")
BBVERSION=$(cand busybox-static)
HASH=$(cat "$0" "$HERE/guest/init" "$HERE/guest/ferry-guest.sh" | { cat; echo "$BBVERSION"; } |
	sha256sum | cut -c1-12)
OUT=$CACHE/guest-$KPKG-$KVERSION-$HASH
if [ "${FERRY_QEMU_REBUILD:-0}" != 1 ] && [ -s "$OUT/initramfs.gz" ] &&
	{ [ -s "$OUT/vmlinux" ] || [ -s "$OUT/vmlinuz" ]; }; then
	say "cached: $OUT"
	echo "$OUT"
	exit 0
fi

# --- build in a scratch directory, then move into place atomically --------------------------
mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DEBS=$WORK/debs ROOT=$WORK/root KX=$WORK/kernel BBX=$WORK/bb NEW=$WORK/out
mkdir -p "$DEBS" "$ROOT" "$KX" "$BBX" "$NEW"
say "downloading $KPKG $KVERSION, busybox-static $BBVERSION"
(cd "$DEBS" && $APT download "$KPKG=$KVERSION" "busybox-static=$BBVERSION" >/dev/null)
deb() { ls "$DEBS/$1"_*.deb | head -n1; }
dpkg -x "$(deb "$KPKG")" "$KX"
dpkg -x "$(deb busybox-static)" "$BBX"
BB=$BBX/bin/busybox
KVER=$(ls "$KX/lib/modules")
MD=$KX/lib/modules/$KVER
CFG=$KX/boot/config-$KVER
cp "$KX/boot/vmlinuz-$KVER" "$NEW/vmlinuz"
echo "$KVER ($KPKG $KVERSION)" > "$NEW/kernel-version"

# Uncompressed ELF vmlinux: QEMU enters it through PVH (CONFIG_PVH=y), skipping the real-mode
# setup and the XZ decompression that take seconds under TCG. xz exits 1 on the data after the
# stream; the output is complete all the same.
if grep -q '^CONFIG_PVH=y' "$CFG" && grep -q '^CONFIG_KERNEL_XZ=y' "$CFG"; then
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$NEW/vmlinuz" | head -n1 | cut -d: -f1)
	tail -c +$((off + 1)) "$NEW/vmlinuz" | xz -dc > "$NEW/vmlinux" 2>/dev/null || true
	if [ "$(head -c4 "$NEW/vmlinux" | od -An -c | tr -d ' ')" != '177ELF' ]; then
		say "vmlinux extraction failed; the tests will boot vmlinuz"
		rm -f "$NEW/vmlinux"
	fi
fi

# --- modules: the wanted drivers (=m in this kernel) and their dependencies, in load order ----
"$BB" depmod -b "$KX" "$KVER"          # Debian ships no modules.dep (postinst runs depmod)
WANT=""
for pair in VIRTIO_PCI:virtio_pci VIRTIO_NET:virtio_net FW_CFG_SYSFS:qemu_fw_cfg; do
	opt=${pair%%:*} mod=${pair#*:}
	v=$(sed -n "s/^CONFIG_${opt}=//p" "$CFG")
	case $v in
	m) WANT="$WANT $mod" ;;
	y) ;;
	*) say "kernel lacks CONFIG_$opt"; exit 1 ;;
	esac
done
ORDER=""
add_mod() {   # path relative to $MD, dependencies first
	local p=$1 d
	case " $ORDER " in *" $p "*) return 0 ;; esac
	for d in $(sed -n "s|^$p:||p" "$MD/modules.dep"); do add_mod "$d"; done
	ORDER="$ORDER $p"
}
for m in $WANT; do
	p=$(grep -o "^[^:]*/$m\.ko[^:]*:" "$MD/modules.dep" | head -n1 | tr -d :)
	[ -n "$p" ] || { say "module $m not found"; exit 1; }
	add_mod "$p"
done
mkdir -p "$ROOT/lib/modules" "$ROOT/etc"
: > "$ROOT/etc/modules"
for p in $ORDER; do
	f=$(basename "$p")
	case $f in
	*.xz) xz -dc "$MD/$p" > "$ROOT/lib/modules/${f%.xz}"; f=${f%.xz} ;;
	*.zst) zstd -qdc "$MD/$p" > "$ROOT/lib/modules/${f%.zst}"; f=${f%.zst} ;;
	*) cp "$MD/$p" "$ROOT/lib/modules/" ;;
	esac
	echo "$f" >> "$ROOT/etc/modules"
done
say "kernel $KVER, modules: $(tr '\n' ' ' < "$ROOT/etc/modules")"

# --- busybox root ----------------------------------------------------------------------------
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root}
cp "$BB" "$ROOT/bin/busybox"
for a in $("$BB" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$ROOT/bin/$a"
done
install -m 755 "$HERE/guest/init" "$ROOT/init"
install -m 644 "$HERE/guest/ferry-guest.sh" "$ROOT/lib/ferry-guest.sh"
(cd "$ROOT" && find . | LC_ALL=C sort | "$BB" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -9 > "$NEW/initramfs.gz"

rm -rf "$OUT"
mv "$NEW" "$OUT"
# older builds of this script (other hashes / kernel versions) are dead weight
find "$CACHE" -maxdepth 1 -name 'guest-*' ! -path "$OUT" -mmin +60 -exec rm -rf {} + 2>/dev/null || true
say "built $OUT ($(du -sh "$OUT" | cut -f1))"
echo "$OUT"
