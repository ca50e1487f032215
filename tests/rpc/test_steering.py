#!/usr/bin/env python3
"""test_steering.py — port.get's "steering" of vhostuser ports (lib/steer, issue #18 section 1):
on uplinks without rx queues reserved for VMs (net_pcap, net_ring) every VM port is steered in
software, and says why, per uplink and in one line; the reason follows port.set mac / vlan and
port.add / port.del of uplinks at runtime."""

from ferrytest import Daemon, check, main, write_pcap

MAC1, MAC2 = "52:54:00:00:18:01", "52:54:00:00:18:02"


def ports(d):
    write_pcap(d.path("empty.pcap"), [])
    return [{"name": "nic0", "type": "dpdk",
             "devargs": "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (d.path("empty.pcap"),
                                                             d.path("nic0.pcap"))},
            {"name": "ring0", "type": "dpdk", "devargs": "net_ring0"},
            {"name": "vm1", "type": "vhostuser", "path": d.path("vm1.sock"), "mac": MAC1,
             "vlan": {"mode": "access", "tag": 10}},
            {"name": "vm2", "type": "vhostuser", "path": d.path("vm2.sock")},
            {"name": "vm3", "type": "vhostuser", "path": d.path("vm3.sock"), "mac": MAC2}]


def setup():
    return Daemon(ports, tag="steer").start()


def teardown(d):
    d.cleanup()


def steering(d, name):
    with d.client() as c:
        s = c.result("port.get", {"name": name}).get("steering")
    check(isinstance(s, dict) and {"method", "queue", "reason", "uplinks"} <= set(s),
          "%s steering %r" % (name, s))
    return s


NO_Q = "uplink %s has no vm_queues"


def t_software_without_vm_queues(d):
    s = steering(d, "vm1")
    check(s["method"] == "software" and s["queue"] is None, "vm1 %r" % s)
    check(s["reason"] == NO_Q % "nic0" + "; " + NO_Q % "ring0", "vm1 reason %r" % s["reason"])
    check(s["uplinks"] == {u: {"method": "software", "queue": None, "reason": NO_Q % u}
                           for u in ("nic0", "ring0")}, "vm1 uplinks %r" % s["uplinks"])
    with d.client() as c:
        nic = c.result("port.get", {"name": "nic0"})
    check("steering" not in nic, "a dpdk port shows steering: %r" % nic.get("steering"))


def t_no_mac_and_trunk(d):
    s = steering(d, "vm2")
    check(s["method"] == "software" and s["reason"] == "vm2 has no mac", "vm2 %r" % s)
    check(s["uplinks"]["nic0"]["reason"] == "vm2 has no mac", "vm2 nic0 %r" % s["uplinks"])
    s = steering(d, "vm3")
    check(s["method"] == "software" and s["reason"].startswith("vm3 is a trunk port"),
          "vm3 (no vlan: trunk) %r" % s)


def t_follows_port_set(d):
    with d.client() as c:
        c.result("port.set", {"name": "vm2", "mac": MAC2, "vlan": {"mode": "access", "tag": 20}})
    check(steering(d, "vm2")["reason"] == NO_Q % "nic0" + "; " + NO_Q % "ring0",
          "vm2 after port.set mac %r" % steering(d, "vm2"))
    with d.client() as c:
        c.result("port.set", {"name": "vm2", "vlan": {"mode": "trunk", "allowed": [20, 30]}})
    check(steering(d, "vm2")["reason"].startswith("vm2 is a trunk port"), "vm2 trunk")
    with d.client() as c:
        c.result("port.set", {"name": "vm2", "mac": None})
    check(steering(d, "vm2")["reason"] == "vm2 has no mac", "vm2 mac removed")


def t_follows_uplinks(d):
    with d.client() as c:
        c.result("port.del", {"name": "ring0"})
    s = steering(d, "vm1")
    check(sorted(s["uplinks"]) == ["nic0"] and s["reason"] == NO_Q % "nic0", "ring0 gone %r" % s)
    with d.client() as c:
        c.result("port.del", {"name": "nic0"})
    s = steering(d, "vm1")
    check(s["uplinks"] == {} and s["reason"] == "no dpdk uplink", "no uplink %r" % s)
    with d.client() as c:
        c.result("port.add", {"name": "ring1", "type": "dpdk", "devargs": "net_ring1"})
    s = steering(d, "vm1")
    check(sorted(s["uplinks"]) == ["ring1"] and s["reason"] == NO_Q % "ring1", "ring1 %r" % s)


TESTS = [("steering_software_without_vm_queues", t_software_without_vm_queues),
         ("steering_no_mac_and_trunk", t_no_mac_and_trunk),
         ("steering_follows_port_set", t_follows_port_set),
         ("steering_follows_uplinks", t_follows_uplinks)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
