#!/usr/bin/env bash
# zc_return.sh — lent buffers a NIC sits on go back to the guest after FERRY_ZC_RETURN_MS (10 ms):
# the black-hole NIC of zc_inflight.sh (a net_ring tx ring nobody reads), ferryd's default return
# time. Drivers that free transmitted mbufs only when their ring wraps (igb, ...) behave like it
# when traffic stops.
# Proves: peer a (ring 1024, bound 512) broadcasts 6000 frames of 1400 B at 6000 pps while the hole
# keeps every mbuf it takes: more than the bound is lent over the run (buffers come back early and
# are lent again), never more than the bound at once (inflight_max <= 512), returned_early > 0;
# once a stops sending, every buffer is back with the guest within 1 s (inflight 0) although the
# hole still holds mbufs (held > 0) — nothing forced when a leaves; b receives all 6000 frames
# intact, in order, once; ferryd exits 0 with the hole's mbufs still out.
# (The setup is zc_inflight.sh's; this runs it with ZC_EARLY set.)
ZC_EARLY=1 ZC_NAME=zc_return exec bash "$(dirname "$0")/zc_inflight.sh"
