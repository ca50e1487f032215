#!/usr/bin/env bash
# two_pmds.sh — the multiqueue scenario with two PMD threads (lcores 1 and 2, both on CPU 1 of this
# 2-core machine, hence the lower rate): rx queues split between PMDs, guest rings split, the FDB
# learned from two threads, both PMDs forwarding.
export T_PMDS="[1, 2]" T_EAL='"--lcores", "0@0,1@1,2@1"'
export MQ_NAME=two_pmds MQ_RATE=6000 MQ_COUNT=18000 MQ_PMDS=2
exec bash "$(dirname "$0")/multiqueue.sh"
