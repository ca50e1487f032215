#!/usr/bin/env bash
# demo.sh — on a fresh Debian 12 machine: install what ferry needs, reserve hugepages, build, and
# start ferryd on its built-in demo configuration (TAP uplink 'ferry0' + vhost-user port
# /run/ferry/vm1.sock). Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/hugepages.sh
scripts/build.sh >/dev/null
cat <<'MSG'
ferryd is starting on the built-in demo configuration (see: build/app/ferryd/ferryd --print-default)
  host side : ip addr add 192.0.2.1/24 dev ferry0 && ip link set ferry0 up
  a guest   : qemu-system-x86_64 ... -object memory-backend-memfd,id=mem,size=1G,share=on \
                -numa node,memdev=mem -chardev socket,id=c0,path=/run/ferry/vm1.sock \
                -netdev vhost-user,id=n0,chardev=c0 -device virtio-net-pci,netdev=n0
  control   : build/app/ferryctl/ferryctl port list     (in another terminal)
MSG
exec build/app/ferryd/ferryd "$@"
