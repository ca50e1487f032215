#!/bin/sh
# plugins/build.sh — compile one eBPF plugin with the flags the meson build uses, plus your own
# (e.g. a compiled-in list: -DFERRY_ACL_RULES_H='"/etc/ferry/acl_rules.h"').
#   plugins/build.sh SOURCE.c OUTPUT.o [clang arguments...]
set -e
[ $# -ge 2 ] || { echo "usage: plugins/build.sh SOURCE.c OUTPUT.o [clang arguments...]" >&2; exit 2; }
dir=$(cd "$(dirname "$0")" && pwd)
src=$1 out=$2
shift 2
exec "${CLANG:-clang}" -O2 -g -target bpf -Wall -Werror -I"$dir/include" -I"$dir" "$@" -c "$src" -o "$out"
