#!/usr/bin/env python3
"""test_traffic.py — control-plane changes while traffic flows. Port `src` (net_pcap replaying a
pcap forever, infinite_rx=1) sends unicast frames to a MAC pinned by a static FDB entry on port
`dst` (net_null, which counts and frees what it transmits). Meanwhile other ports are added,
changed and deleted, FDB entries of other ports come and go, stats are read and cleared, over the
RPC socket. Zero loss: once `src` is stopped (admin down), every frame it received and did not
drop for admin_down was transmitted by `dst`, and no drop counter of either port moved."""

import time

from ferrytest import Daemon, check, main, wait_for, write_pcap, eth_frame

SRC_MAC, DST_MAC = "02:00:00:00:01:01", "02:00:00:00:02:02"
N_FRAMES = 256


def ports(d):
    write_pcap(d.path("in.pcap"), [eth_frame(DST_MAC, SRC_MAC, 46 + (i % 64), i)
                                   for i in range(N_FRAMES)])
    return [{"name": "src", "type": "dpdk",
             "devargs": "net_pcap0,rx_pcap=%s,infinite_rx=1" % d.path("in.pcap"),
             "admin": "down"},
            {"name": "dst", "type": "dpdk", "devargs": "net_null0,no-rx=1"}]


def setup():
    return Daemon(ports, tag="traffic").start()


def teardown(d):
    d.cleanup()


def stats(c, name):
    return c.result("port.stats", {"name": name})


def churn(c, d, rounds):
    """Everything the control plane can do to other ports, while src -> dst flows."""
    for i in range(rounds):
        vm = "vm%d" % (i % 4)
        c.result("port.add", {"name": vm, "type": "vhostuser", "path": d.path(vm + ".sock"),
                              "mac": ["52:54:00:00:10:%02x" % i], "vlan": {"mode": "access",
                                                                         "tag": 10 + i % 3}})
        nul = "n%d" % (i % 3)
        c.result("port.add", {"name": nul, "type": "dpdk", "devargs": "net_null%d,no-rx=1" %
                              (i % 3 + 1), "vlan": {"mode": "trunk", "allowed": [10, 11]}})
        c.result("port.set", {"name": vm, "admin": "down"})
        c.result("port.set", {"name": nul, "vlan": {"mode": "trunk", "allowed": [10, 12],
                                                    "native": 10}})
        c.result("fdb.add", {"mac": "02:00:00:00:33:%02x" % i, "vlan": 10, "port": nul})
        c.result("port.stats")
        c.result("port.stats.clear", {"name": nul})
        c.result("pmd.list")
        c.result("fdb.list")
        c.result("pmd.rebalance")
        c.result("fdb.flush", {"port": nul, "static": True})
        c.result("port.del", {"name": vm})
        c.result("port.del", {"name": nul})
        c.result("config.get")


def t_zero_loss(d):
    with d.client(timeout=30) as c:
        c.result("fdb.add", {"mac": DST_MAC, "vlan": 0, "port": "dst"})
        c.result("port.stats.clear")
        c.result("port.set", {"name": "src", "admin": "up"})
        wait_for(lambda: stats(c, "dst")["tx_packets"] > 10000, what="traffic to flow")
        before = stats(c, "dst")["tx_packets"]
        t0 = time.monotonic()
        churn(c, d, 100)
        churn_s = time.monotonic() - t0
        during = stats(c, "dst")["tx_packets"] - before
        check(during > 1000, "traffic kept flowing during the changes (%d frames)" % during)
        # stop the source; its later frames are counted as admin_down drops
        c.result("port.set", {"name": "src", "admin": "down"})
        time.sleep(0.3)
        src = dst = None
        for _ in range(20):   # a PMD may be between two counter updates: read until stable
            src, dst = stats(c, "src"), stats(c, "dst")
            dst2 = stats(c, "dst")
            fwd = src["rx_packets"] - src["drops"]["admin_down"]
            if fwd == dst["tx_packets"] == dst2["tx_packets"]:
                break
            time.sleep(0.05)
        other_src = {k: v for k, v in src["drops"].items() if k != "admin_down" and v}
        check(not other_src, "src dropped frames: %s" % other_src)
        check(dst["drops_total"] == 0, "dst dropped frames: %s" % dst["drops"])
        check(all(q["drops"] == 0 for q in dst["txq"]), "dst tx queue drops: %s" % dst["txq"])
        check(fwd == dst["tx_packets"], "src forwarded %d frames, dst sent %d: %d lost" %
              (fwd, dst["tx_packets"], fwd - dst["tx_packets"]))
        check(fwd > 10000, "only %d frames flowed" % fwd)
        check(sorted(p["name"] for p in c.result("port.list")) == ["dst", "src"], "ports left")
        print("  %d frames src -> dst without loss; %.1f s of port add/set/del alongside "
              "(%d frames meanwhile)" % (fwd, churn_s, during), flush=True)


def t_stats_whole_bursts(d):
    """A PMD counts a burst (rx, then its drops) while the control thread reads or clears the
    counters: every read and every stats.clear baseline holds whole bursts. src is down and
    replaying forever, so each of its bursts is received and dropped for admin_down: after any
    clear, any read has rx_packets == drops.admin_down exactly, per port and per rx queue."""
    with d.client(timeout=30) as c:
        c.result("port.set", {"name": "src", "admin": "down"})
        wait_for(lambda: stats(c, "src")["drops"]["admin_down"] > 0, what="src receiving")
        bad, rounds = [], 400
        for i in range(rounds):
            if i % 2 == 0:
                c.result("port.stats.clear", {"name": "src"})
            s = stats(c, "src")
            q = s["rxq"][0]
            if not (s["rx_packets"] == s["drops"]["admin_down"] == s["drops_total"] and
                    q["packets"] == q["drops"]):
                bad.append((s["rx_packets"], s["drops"]["admin_down"], q["packets"], q["drops"]))
        moved = stats(c, "src")["rx_packets"]
        check(not bad, "%d of %d reads split a burst (rx, admin_down, rxq packets, rxq drops): "
              "%s" % (len(bad), rounds, bad[:5]))
        check(moved > 0, "src received nothing during the reads")
        print("  %d reads/clears while src received, each of whole bursts" % rounds, flush=True)


TESTS = [("traffic_zero_loss_during_changes", t_zero_loss),
         ("traffic_stats_whole_bursts", t_stats_whole_bursts)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
