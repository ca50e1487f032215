#!/usr/bin/env bash
# test_zc_tcp.sh — test_ping_tcp.sh with the guests' ports on zero_copy "on" (ferry reads the Linux
# guests' TX rings itself and lends their buffers; IOVA-as-VA): the same pings, md5-checked TCP bulk
# transfers and VLAN isolation, plus every frame above 64 B lent, nothing refused, nothing left lent.
Q_ZC=on Q_EAL='"--iova-mode=va"' Q_TEST_NAME=zc_tcp exec bash "$(dirname "$0")/test_ping_tcp.sh"
