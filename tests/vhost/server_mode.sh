#!/usr/bin/env bash
# server_mode.sh — two vhost-user ports in server mode (ferryd owns the sockets, the guests connect),
# same access VLAN, MACs pinned; two peers exchange 10 kpps both ways for 3 s: zero loss, no
# corruption, no reordering within a flow, nothing flooded.
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
t_init server_mode

M1=52:54:00:00:01:01
M2=52:54:00:00:01:02
RATE=10000
COUNT=30000

t_config "$(t_port vm1 server $M1 10)" "$(t_port vm2 server $M2 10)"
ferryd_start
ferryd_wait_ready 15
wait_socket "$T_DIR/vm1.sock" 5
wait_socket "$T_DIR/vm2.sock" 5

peer_start a "$T_DIR/vm1.sock" 1 client --mac $M1 --peer $M2 --count $COUNT --rate $RATE --duration 6 --sync ${T_PEER_ARGS:-}
peer_start b "$T_DIR/vm2.sock" 1 client --mac $M2 --peer $M1 --count $COUNT --rate $RATE --duration 6 --sync ${T_PEER_ARGS:-}
peer_wait_exit a 25
peer_wait_exit b 10

check_pair_exact a b $COUNT
t_pass "2 x $COUNT frames at $RATE pps, zero loss"
