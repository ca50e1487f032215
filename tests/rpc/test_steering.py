#!/usr/bin/env python3
"""test_steering.py — port.get's "steering" of vhostuser ports (lib/steer, issue #18 section 1):
on uplinks without rx queues reserved for VMs (net_pcap, net_ring) every VM port is steered in
software, and says why, per uplink and in one line; the reason follows port.set mac / vlan and
port.add / port.del of uplinks at runtime.

With vm_queues (a daemon of their own): the uplink has rxq + vm_queues rx queues, every one polled
by a PMD, RSS kept on the rxq ones (net_null's RETA) or said not to be (net_tap has none); each
VM's rule is tried on the real device and its refusal reported (net_null has no rte_flow; net_tap
validates the rule but cannot keep RSS off the queue, so it is not created); the attempts follow
port.set mac / vlan, VM and uplink del / add (each change an event port.steering, none for
the VMs it does not concern), and no reserved queue is ever left taken; a device
with fewer rx queues than rxq + vm_queues is refused with its max named. No NIC here accepts a
rule (net_tap's rte_flow_create refusal: unit/steer/net_tap_refuses)."""

import os

from ferrytest import EINVAL, Daemon, TestFailure, check, main, write_pcap

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


# --- vm_queues -------------------------------------------------------------------------------
TAP = "fst%d" % (os.getpid() % 100000)
NO_FLOW = "uplink null0: net_null has no rte_flow"
TAP_RSS = ("uplink tap0: rule valid, not created: net_tap has no RSS redirection table: RSS "
           "could spread shared traffic into the vm queues")


def vmq_ports(d):
    return [{"name": "null0", "type": "dpdk", "devargs": "net_null7,no-rx=1", "rxq": 1,
             "vm_queues": 2, "vlan": {"mode": "trunk", "allowed": [10, 20]}},
            {"name": "tap0", "type": "dpdk", "devargs": "net_tap7,iface=" + TAP, "vm_queues": 1,
             "txq": 2},
            {"name": "vm1", "type": "vhostuser", "path": d.path("vm1.sock"), "mac": MAC1,
             "vlan": {"mode": "access", "tag": 10}},
            {"name": "vm2", "type": "vhostuser", "path": d.path("vm2.sock"), "mac": MAC2,
             "vlan": {"mode": "access", "tag": 20}}]


def with_vmq(fn):
    def run(_d):
        d = Daemon(vmq_ports, tag="steerq", rpc={"allow_host_devargs": True}).start()
        try:
            fn(d)
        finally:
            d.cleanup()
    return run


def get(d, name):
    with d.client() as c:
        return c.result("port.get", {"name": name})


def no_queue_taken(d):
    for u, n in (("null0", 2), ("tap0", 1)):
        owners = get(d, u)["vm_queue_owners"]
        check(len(owners) == n and all(v is None for v in owners.values()),
              "%s vm_queue_owners %r" % (u, owners))


def t_vm_queues_configured(d):
    nic = get(d, "null0")
    check(nic["rx_queues"] == 3 and nic["rss_queues"] == 1 and "rss_note" not in nic,
          "null0: rxq 1 + vm_queues 2 %r" % {k: nic.get(k) for k in ("rx_queues", "rss_queues",
                                                                       "rss_note")})
    check(nic["vm_queue_owners"] == {"1": None, "2": None}, "null0 owners %r" %
          nic["vm_queue_owners"])
    check("RSS over rx queues 0..0, 2 reserved for VMs (RETA of 128)" in d.log(),
          "null0's RETA not confined: " + d.log_tail(5))
    tap = get(d, "tap0")
    check(tap["rx_queues"] == 2 and tap["rss_queues"] == 1 and
          tap.get("rss_note", "").startswith("net_tap has no RSS redirection table"),
          "tap0 %r" % {k: tap.get(k) for k in ("rx_queues", "rss_queues", "rss_note")})
    with d.client() as c:
        st = c.result("port.stats", {"name": "null0"})
        pmds = c.result("pmd.list")
    check([q["queue"] for q in st["rxq"]] == [0, 1, 2], "null0 stats rxq %r" % st["rxq"])
    polled = sorted((r["port"], r["queue"]) for p in pmds for r in p["rxqs"])
    check([q for q in polled if q[0] == "null0"] == [("null0", 0), ("null0", 1), ("null0", 2)]
          and ("tap0", 1) in polled, "PMDs poll %r" % polled)


def t_refusals_named(d):
    s = steering(d, "vm1")
    check(s["method"] == "software" and s["queue"] is None, "vm1 %r" % s)
    check(s["uplinks"]["null0"] == {"method": "software", "queue": None, "reason": NO_FLOW},
          "vm1 on null0 %r" % s["uplinks"]["null0"])
    check(s["uplinks"]["tap0"]["reason"] == TAP_RSS, "vm1 on tap0 %r" % s["uplinks"]["tap0"])
    check(s["reason"] == NO_FLOW + "; " + TAP_RSS, "vm1 reason %r" % s["reason"])
    check(steering(d, "vm2")["uplinks"]["null0"]["reason"] == NO_FLOW, "vm2 on null0")
    no_queue_taken(d)


def attempts(d, vm):
    return sum(1 for line in d.log().splitlines() if "steer: %s on uplink" % vm in line)


def steer_events(sub, quiet=1.0):
    """The port.steering events on sub until none came for quiet seconds."""
    evs = [m["params"] for m in sub.notes if m.get("method") == "event"]
    sub.notes.clear()
    while True:
        try:
            m = sub.recv(quiet)
        except TestFailure:
            break
        if m.get("method") == "event":
            evs.append(m["params"])
    return [e for e in evs if e["event"] == "port.steering"]


def t_lifecycle(d):
    vm2_before = attempts(d, "vm2")
    sub = d.client()
    sub.result("events.subscribe")
    with d.client() as c:
        c.result("port.set", {"name": "vm1", "vlan": {"mode": "access", "tag": 30}})
    evs = steer_events(sub)   # reported: vm1 on null0 only (tap0 carries VLAN 30 too: same reason)
    check(evs == [{"event": "port.steering", "name": "vm1", "uplink": "null0",
                   "method": "software", "queue": None,
                   "reason": "uplink null0 does not carry VLAN 30"}], "events %r" % evs)
    s = steering(d, "vm1")["uplinks"]
    check(s["null0"]["reason"] == "uplink null0 does not carry VLAN 30" and
          s["tap0"]["reason"] == TAP_RSS, "vm1 on VLAN 30 %r" % s)   # tap0: a trunk of all
    with d.client() as c:
        c.result("port.set", {"name": "vm1", "vlan": {"mode": "access", "tag": 10}})
        c.result("port.set", {"name": "vm1", "mac": "52:54:00:00:18:09"})
    check(steering(d, "vm1")["uplinks"]["null0"]["reason"] == NO_FLOW, "vm1 back on VLAN 10")
    evs = steer_events(sub)
    check({"name": "vm1", "uplink": "null0", "reason": NO_FLOW} in
          [{k: e[k] for k in ("name", "uplink", "reason")} for e in evs] and
          all(e["name"] == "vm1" for e in evs), "events back on VLAN 10 %r" % evs)
    with d.client() as c:
        c.result("port.set", {"name": "vm1", "mac": None})
    check(steering(d, "vm1")["reason"] == "vm1 has no mac", "vm1 without mac")
    check(attempts(d, "vm2") == vm2_before, "vm2's state changed on vm1's port.set: " +
          d.log_tail(6))
    sub.close()
    with d.client() as c:   # an uplink's VLAN change: only its pairs are redone
        c.result("port.set", {"name": "null0", "vlan": {"mode": "access", "tag": 20}})
    s = steering(d, "vm2")["uplinks"]
    check(s["null0"]["reason"] == NO_FLOW and s["tap0"]["reason"] == TAP_RSS, "vm2 %r" % s)
    with d.client() as c:
        c.result("port.del", {"name": "vm1"})
        c.result("port.del", {"name": "null0"})
    s = steering(d, "vm2")
    check(sorted(s["uplinks"]) == ["tap0"] and s["reason"] == TAP_RSS, "null0 gone %r" % s)
    with d.client() as c:
        c.result("port.add", {"name": "null0", "type": "dpdk", "devargs": "net_null7,no-rx=1",
                              "rxq": 1, "vm_queues": 2})
        c.result("port.add", {"name": "vm1", "type": "vhostuser", "path": d.path("vm1.sock"),
                              "mac": MAC1, "vlan": {"mode": "access", "tag": 10}})
    for vm in ("vm1", "vm2"):
        check(steering(d, vm)["uplinks"]["null0"]["reason"] == NO_FLOW, "%s on new null0" % vm)
    no_queue_taken(d)
    check(d.alive(), "ferryd died")


def t_too_many_queues(d):
    write_pcap(d.path("one.pcap"), [])
    with d.client() as c:
        c.error("port.add", {"name": "pcap9", "type": "dpdk", "vm_queues": 1,
                             "devargs": "net_pcap9,rx_pcap=%s,tx_pcap=%s" % (
                                 d.path("one.pcap"), d.path("o.pcap"))}, EINVAL,
                "port pcap9: rxq 1 + vm_queues 1 need 2 rx queues; net_pcap takes at most 1 "
                "(its max_rx_queues)")
        c.error("port.add", {"name": "null9", "type": "dpdk", "devargs": "net_null9,no-rx=1",
                             "rxq": 2, "vm_queues": 31}, EINVAL,
                "need 33 rx queues; net_null takes at most 32 (ferry's limit)")
        c.result("port.add", {"name": "null9", "type": "dpdk", "devargs": "net_null9,no-rx=1",
                              "rxq": 1, "vm_queues": 31})   # the device was released
        check(c.result("port.get", {"name": "null9"})["rx_queues"] == 32, "null9 32 queues")
        c.error("port.set", {"name": "null0", "vm_queues": 1}, EINVAL,
                "cannot be changed at runtime")


TESTS = [("steering_software_without_vm_queues", t_software_without_vm_queues),
         ("steering_no_mac_and_trunk", t_no_mac_and_trunk),
         ("steering_follows_port_set", t_follows_port_set),
         ("steering_follows_uplinks", t_follows_uplinks),
         ("steering_vm_queues_configured", with_vmq(t_vm_queues_configured)),
         ("steering_vm_queues_refusals_named", with_vmq(t_refusals_named)),
         ("steering_vm_queues_lifecycle", with_vmq(t_lifecycle)),
         ("steering_vm_queues_too_many", with_vmq(t_too_many_queues))]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
