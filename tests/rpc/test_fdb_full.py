#!/usr/bin/env python3
"""test_fdb_full.py — a full FDB never silently drops a port's static MACs (issue #21 item 5).

Anti-spoofing depends on the static entries ("pins") of a port's MACs. With a tiny
"fdb": {"size": 64} (the smallest allowed) filled to the last entry (vm1's pin, and learning
from a replayed pcap of 100 sources: 63 fit, the rest count as learn_full), port.add of a port with MACs fails with -32004 naming the FDB and adds nothing
(no port, no socket, no entry); port.set mac/vlan needing more entries fails with -32004 and the
port keeps its configuration and its pins (fdb.list); a change that needs no more room than it
frees (a MAC swapped for another, an access VLAN for another) still works on a full table; once
an entry is freed the port.add succeeds. A config file whose ports need more static entries
than fdb.size (a MAC on a trunk of 65 VLANs: 65 > 64) makes ferryd exit at startup with the reason. fdb.size is exact (rte_hash alone
would take thousands more)."""

import json
import os
import time

from ferrytest import Daemon, check, main, write_pcap, eth_frame, ELIMIT

SIZE = 64
A, B, C = "52:54:00:00:0f:0a", "52:54:00:00:0f:0b", "52:54:00:00:0f:0c"
LEARN = ["02:00:00:00:1f:%02x" % i for i in range(1, 101)]     # learned from the pcap (63 fit)


def ports(d):
    # the pcap port: frames from LEARN sources on VLAN 0 (untagged, trunk of every VLAN)
    write_pcap(d.path("in.pcap"), [eth_frame("ff:ff:ff:ff:ff:ff", m, seq=i)
                                   for i, m in enumerate(LEARN)])
    return [{"name": "null0", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
            {"name": "pcap0", "type": "dpdk",
             "devargs": "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (d.path("in.pcap"),
                                                              d.path("out.pcap"))},
            {"name": "vm1", "type": "vhostuser", "path": d.path("vm1.sock"),
             "mac": [A], "vlan": {"mode": "access", "tag": 10}}]


def setup():
    return Daemon(ports, fdb_size=SIZE, tag="fdbfull").start()


def teardown(d):
    d.cleanup()


def fdb(c):
    return sorted((e["mac"].lower(), e["vlan"], e["port"], e["type"]) for e in c.result("fdb.list"))


def pins(c, port):
    return sorted((m, v) for m, v, p, t in fdb(c) if p == port and t == "static")


def wait_full(c):
    end = time.monotonic() + 15
    while time.monotonic() < end and len(c.result("fdb.list")) < SIZE:
        time.sleep(0.05)


def t_table_is_exactly_full(d):
    with d.client() as c:
        wait_full(c)
        time.sleep(0.5)   # the rest of the replay: none of it may fit
        learned = [e for e in fdb(c) if e[3] == "learned"]
        check(len(c.result("fdb.list")) == SIZE and len(learned) == SIZE - 1,
              "the FDB of %d holds %s" % (SIZE, fdb(c)))
        st = json.dumps(c.result("port.stats", {"name": "pcap0"}))
        check('"learn_full": %d' % (len(LEARN) - len(learned)) in st,
              "pcap0's learn_full is not %d: %s" % (len(LEARN) - len(learned), st[:400]))
        c.error("fdb.add", {"mac": "02:00:00:00:0f:99", "vlan": 10, "port": "null0"}, ELIMIT,
                "FDB is full")
        check(len(c.result("fdb.list")) == SIZE, "a refused fdb.add changed the table")
        # an entry already there needs no room: a learned one made static
        c.result("fdb.add", {"mac": learned[0][0], "vlan": 0, "port": "pcap0"})
        check((learned[0][0], 0, "pcap0", "static") in fdb(c), "learned entry not made static")


def t_port_add_refused(d):
    with d.client() as c:
        before = fdb(c)
        sock = d.path("vm2.sock")
        msg = c.error("port.add", {"name": "vm2", "type": "vhostuser", "path": sock,
                                   "mac": [B], "vlan": {"mode": "access", "tag": 10}},
                      ELIMIT, "FDB is full")
        check("vm2" in msg and "fdb.size" in msg, "message does not name the port and fdb.size: "
              + msg)
        check("vm2" not in [p["name"] for p in c.result("port.list")], "vm2 was added")
        check(not os.path.exists(sock), "vm2's socket was created")
        check(fdb(c) == before, "the FDB changed: %s -> %s" % (before, fdb(c)))
        # a port without MACs needs no entry: still fine on a full table
        check(c.result("port.add", {"name": "vm3", "type": "vhostuser",
                                    "path": d.path("vm3.sock")})["added"], "port.add vm3")
        c.result("port.del", {"name": "vm3"})


def t_port_set_refused_keeps_pins(d):
    with d.client() as c:
        before = fdb(c)
        check(pins(c, "vm1") == [(A, 10)], "vm1's pins: %s" % pins(c, "vm1"))
        # one more MAC: one more entry
        c.error("port.set", {"name": "vm1", "mac": [A, C]}, ELIMIT, "FDB is full")
        # a trunk of two VLANs: two entries for one
        c.error("port.set", {"name": "vm1", "vlan": {"mode": "trunk", "allowed": [10, 20]}},
                ELIMIT, "FDB is full")
        # with another change in the same request: nothing of it applied either
        c.error("port.set", {"name": "vm1", "mac": [A, B], "admin": "down"}, ELIMIT, "FDB")
        vm1 = c.result("port.get", {"name": "vm1"})
        check([m.lower() for m in vm1["mac"]] == [A] and vm1["vlan"] == {"mode": "access", "tag": 10} and
              vm1.get("admin", "up") == "up", "vm1 changed: %s" % vm1)
        check(fdb(c) == before, "the FDB changed: %s -> %s" % (before, fdb(c)))


def t_swap_fits_on_full_table(d):
    with d.client() as c:
        c.result("port.set", {"name": "vm1", "vlan": {"mode": "access", "tag": 20}})
        check(pins(c, "vm1") == [(A, 20)], "after the VLAN swap: %s" % pins(c, "vm1"))
        c.result("port.set", {"name": "vm1", "mac": [B]})
        check(pins(c, "vm1") == [(B, 20)], "after the MAC swap: %s" % pins(c, "vm1"))
        check(len(c.result("fdb.list")) == SIZE, "the table is no longer full")
        c.result("port.set", {"name": "vm1", "mac": [A], "vlan": {"mode": "access", "tag": 10}})
        check(pins(c, "vm1") == [(A, 10)], "back: %s" % pins(c, "vm1"))


def t_room_freed_then_added(d):
    with d.client() as c:
        learned = [e for e in fdb(c) if e[3] == "learned"]
        c.result("fdb.del", {"mac": learned[0][0], "vlan": 0})
        check(c.result("port.add", {"name": "vm2", "type": "vhostuser",
                                    "path": d.path("vm2.sock"), "mac": [B],
                                    "vlan": {"mode": "access", "tag": 10}})["added"], "vm2")
        check(pins(c, "vm2") == [(B, 10)], "vm2's pins: %s" % pins(c, "vm2"))
        c.result("port.del", {"name": "vm2"})
        check(pins(c, "vm2") == [], "vm2's pins outlived it")


def t_config_too_small(d):
    small = Daemon(lambda s: [{"name": "vm1", "type": "vhostuser", "path": s.path("vm1.sock"),
                               "mac": [A], "vlan": {"mode": "trunk",
                                                    "allowed": list(range(1, 66))}}],
                   fdb_size=SIZE, tag="fdbsmall")
    try:
        small.start(wait=False)
        rc = small.proc.wait(60)
        log = small.log()
        check(rc != 0, "ferryd started with 65 static entries in an FDB of 64")
        check("FDB is full" in log and "vm1" in log and "fdb.size" in log,
              "no clear reason in the log: " + small.log_tail(5))
    finally:
        small.cleanup()


if __name__ == "__main__":
    main([("fdb_full_exact", t_table_is_exactly_full),
          ("fdb_full_port_add", t_port_add_refused),
          ("fdb_full_port_set", t_port_set_refused_keeps_pins),
          ("fdb_full_swap", t_swap_fits_on_full_table),
          ("fdb_full_freed", t_room_freed_then_added),
          ("fdb_full_config", t_config_too_small)], setup, teardown)
