#!/usr/bin/env bash
# two_pmds.sh — the multiqueue scenario with two PMD threads (lcores 1 and 2, both on CPU 1 of this
# 2-core machine, hence the lower rate): rx queues split between PMDs, guest rings split, the FDB
# learned from two threads, both PMDs forwarding. Each guest port's 4 queues must be polled 2 + 2
# by the PMDs, also when the PMDs are unevenly loaded as the guests arrive (MQ_FILL: 4 net_null
# queues left on PMD 0) and whatever order the two guests' queue enables interleave in: a PMD that
# polls none of a port's queues sends none of its frames, so the receiving guest's RX rings owned
# by that PMD stayed empty (about 1 run in 12 failed so before the rx queue assignment counted
# each port's own queues).
export T_PMDS="[1, 2]" T_EAL='"--lcores", "0@0,1@1,2@1"'
export MQ_NAME=two_pmds MQ_RATE=6000 MQ_COUNT=18000 MQ_PMDS=2 MQ_FILL=8
exec bash "$(dirname "$0")/multiqueue.sh"
