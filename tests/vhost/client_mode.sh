#!/usr/bin/env bash
# client_mode.sh — two vhost-user ports in client mode (the guests listen, as QEMU does with
# server=on, and ferryd connects), same access VLAN, MACs pinned; two peers exchange 10 kpps both
# ways for 3 s: zero loss, no corruption, no reordering within a flow, nothing flooded.
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init client_mode

M1=52:54:00:00:02:01
M2=52:54:00:00:02:02
RATE=10000
COUNT=30000

t_config "$(t_port vm1 client $M1 10)" "$(t_port vm2 client $M2 10)"
# The peers listen first (virtio-user server=1 waits in its probe until ferryd connects).
peer_start a "$T_DIR/vm1.sock" 1 server --mac $M1 --peer $M2 --count $COUNT --rate $RATE --duration 6 --sync
peer_start b "$T_DIR/vm2.sock" 1 server --mac $M2 --peer $M1 --count $COUNT --rate $RATE --duration 6 --sync
wait_socket "$T_DIR/vm1.sock" 10
wait_socket "$T_DIR/vm2.sock" 10
ferryd_start
ferryd_wait_ready 15
peer_wait_link a 10
peer_wait_link b 10
peer_wait_exit a 25
peer_wait_exit b 10

check_pair_exact a b $COUNT
t_pass "2 x $COUNT frames at $RATE pps, zero loss"
