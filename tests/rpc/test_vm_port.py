#!/usr/bin/env python3
"""test_vm_port.py — a dpdk port declared a VM's own function, "vm": "<vhostuser port>" (issue #18
section 1): validated (a config's vm may be listed after the dpdk port; port.set needs an existing
vhostuser port; port.add refuses a non-vhostuser one), port.set sets and clears it ("" or null),
port.get shows "vm" and "vm_state", pmd.list its queue's owner. A net_pcap port replays frames:
the VM's (untagged, its VLAN, broadcast) reach vm1's tx (counted not_ready: no guest), another
MAC and another VLAN are dropped vm_dst / vm_vlan, nothing reaches vm2 or the normal uplink,
nothing is learned; with vm1 deleted a new vm port drops everything vm_absent and re-adding vm1
attaches both again. Byte-for-byte delivery to a guest: tests/vhost/vm_port.sh."""

import os
import struct

from ferrytest import Daemon, EINVAL, check, main, wait_for, write_pcap, mac_bytes

VM1, VM2, SRC = "52:54:00:00:19:01", "52:54:00:00:19:02", "02:00:00:00:19:99"
BC = "ff:ff:ff:ff:ff:ff"


def frame(dst, vlan=None, size=64, seq=0):
    """An Ethernet frame of size bytes (without FCS), tagged with vlan if given."""
    hdr = mac_bytes(dst) + mac_bytes(SRC)
    if vlan is not None:
        hdr += struct.pack(">HH", 0x8100, vlan)
    hdr += b"\x08\x00"
    return hdr + struct.pack(">I", seq) + bytes(max(0, size - len(hdr) - 4))


def replay():
    """(frames, what vm1 gets, vm_dst, vm_vlan)"""
    fr = [frame(VM1, size=s, seq=i) for i, s in enumerate([60, 64, 128, 512, 1000, 1514] * 2)]
    fr += [frame(VM1, 10, size=s) for s in (64, 1518, 300)]
    fr += [frame(BC, size=60), frame(BC, 10, size=80)]
    mine = len(fr)
    fr += [frame(VM2, size=64), frame(VM2, 10, size=1514), frame("02:00:00:00:19:77", size=64)]
    fr += [frame(VM1, 20, size=64), frame(BC, 30, size=64), frame(VM1, 4094, size=100)]
    return fr, mine, 3, 3


def ports(d):
    write_pcap(d.path("vf.pcap"), replay()[0])
    write_pcap(d.path("empty.pcap"), [])
    pcap = "net_pcap%d,rx_pcap=%s,tx_pcap=%s"
    return [{"name": "vf", "type": "dpdk", "vm": "vm1",   # listed before its VM
             "devargs": pcap % (0, d.path("vf.pcap"), d.path("vf-tx.pcap"))},
            {"name": "nic", "type": "dpdk",
             "devargs": pcap % (1, d.path("empty.pcap"), d.path("nic-tx.pcap"))},
            {"name": "vm1", "type": "vhostuser", "path": d.path("vm1.sock"), "mac": VM1,
             "vlan": {"mode": "access", "tag": 10}},
            {"name": "vm2", "type": "vhostuser", "path": d.path("vm2.sock"), "mac": VM2,
             "vlan": {"mode": "access", "tag": 10}}]


def setup():
    return Daemon(ports, tag="vmport", rpc={"allow_host_devargs": True}).start()


def teardown(d):
    d.cleanup()


def stats(c, name):
    return c.result("port.stats", {"name": name})


def owners(c):
    return {(r["port"], r["queue"]): (r.get("vm"), r.get("vm_mode"))
            for p in c.result("pmd.list") for r in p["rxqs"]}


def t_drops_by_reason(d):
    fr, mine, vm_dst, vm_vlan = replay()
    with d.client() as c:
        wait_for(lambda: stats(c, "vf")["rx_packets"] == len(fr), what="vf replayed")
        vf, vm1, vm2, nic = (stats(c, n) for n in ("vf", "vm1", "vm2", "nic"))
        fdb = c.result("fdb.list")
    check(vf["drops"]["vm_dst"] == vm_dst and vf["drops"]["vm_vlan"] == vm_vlan,
          "vf drops %s" % {k: v for k, v in vf["drops"].items() if v})
    check(sum(vf["drops"].values()) == vm_dst + vm_vlan, "vf: other drops %s" % vf["drops"])
    check(vm1["drops"]["not_ready"] == mine, "vm1 got %d of %d (no guest: not_ready)" %
          (vm1["drops"]["not_ready"], mine))
    check(sum(vm2["drops"].values()) == 0 and vm2["tx_packets"] == 0, "vm2 got some: %s" % vm2)
    check(nic["tx_packets"] == 0 and sum(nic["drops"].values()) == 0, "nic got some: %s" % nic)
    check(not [e for e in fdb if e["port"] == "vf"], "learned from vf: %s" % fdb)


def t_get_set_and_pmd_list(d):
    with d.client() as c:
        p = c.result("port.get", {"name": "vf"})
        check(p["vm"] == "vm1" and p["vm_state"] == "attached", "vf %s" % p)
        check(owners(c)[("vf", 0)] == ("vm1", "strict") and owners(c)[("nic", 0)] == (None, None),
              "pmd.list owners %s" % owners(c))
        check("vm" not in c.result("port.get", {"name": "nic"}), "nic shows vm")
        for clear in (None, ""):
            r = c.result("port.set", {"name": "vf", "vm": clear})
            check("vm" not in r and "vm_state" not in r, "vm %r cleared: %s" % (clear, r))
            check(owners(c)[("vf", 0)] == (None, None), "vf shared again %s" % owners(c))
            r = c.result("port.set", {"name": "vf", "vm": "vm2"})
            check(r["vm"] == "vm2" and owners(c)[("vf", 0)] == ("vm2", "strict"), "vf -> vm2")
        c.result("port.set", {"name": "vf", "vm": "vm1"})
        saved = {p["name"]: p for p in c.result("config.get")["ports"]}
        check(saved["vf"]["vm"] == "vm1" and "vm_state" not in saved["vf"], "config.get vf")


def t_validation(d):
    with d.client() as c:
        c.error("port.set", {"name": "vf", "vm": "ghost"}, EINVAL,
                "params.vm: no vhostuser port named 'ghost'")
        c.error("port.set", {"name": "vf", "vm": "nic"}, EINVAL,
                "params.vm: 'nic' is a dpdk port, not a vhostuser port")
        c.error("port.set", {"name": "vf", "vm": "a b"}, EINVAL, "params.vm: 'a b'")
        c.error("port.set", {"name": "vf", "vm": 3}, EINVAL, "params.vm: must be a string")
        c.error("port.set", {"name": "vm2", "vm": "vm1"}, EINVAL,
                "params.vm: not a field of this port type")
        c.error("port.add", {"name": "vfx", "type": "dpdk", "devargs": "net_null7", "vm": "nic"},
                EINVAL, "'nic' is a dpdk port")
        check(c.result("port.get", {"name": "vf"})["vm"] == "vm1", "a refused set changed vf")
        check(not [p for p in c.result("port.list") if p["name"] == "vfx"], "vfx added")


def t_vm_deleted_and_readded(d):
    fr = replay()[0]
    with d.client() as c:
        vm1 = c.result("port.get", {"name": "vm1"})
        c.result("port.del", {"name": "vm1"})
        check(c.result("port.get", {"name": "vf"})["vm_state"] == "absent", "vf after vm1 del")
        check(owners(c)[("vf", 0)] == ("vm1", "strict"), "vf still vm1's %s" % owners(c))
        # a vm port added while its VM is not there: everything dropped vm_absent
        c.result("port.add", {"name": "vf2", "type": "dpdk", "vm": "vm1", "devargs":
                              "net_pcap2,rx_pcap=%s,tx_pcap=%s" % (d.path("vf.pcap"),
                                                                 d.path("vf2-tx.pcap"))})
        wait_for(lambda: stats(c, "vf2")["rx_packets"] == len(fr), what="vf2 replayed")
        s = stats(c, "vf2")
        check(s["drops"]["vm_absent"] == len(fr) and sum(s["drops"].values()) == len(fr),
              "vf2 drops %s" % {k: v for k, v in s["drops"].items() if v})
        check(c.result("port.get", {"name": "vf2"})["vm_state"] == "absent", "vf2 absent")
        check(stats(c, "vm2")["tx_packets"] == 0 and
              sum(stats(c, "vm2")["drops"].values()) == 0, "vm2 got vf2's frames")
        c.result("port.add", {k: vm1[k] for k in ("name", "type", "path", "mac", "vlan")})
        for n in ("vf", "vf2"):
            check(c.result("port.get", {"name": n})["vm_state"] == "attached", "%s attached" % n)
            check(owners(c)[(n, 0)] == ("vm1", "strict"), "%s owner %s" % (n, owners(c)))
        c.result("port.del", {"name": "vf2"})
    check(os.path.getsize(d.path("nic-tx.pcap")) <= 24, "nic transmitted frames")


TESTS = [("vm_port_drops_by_reason", t_drops_by_reason),
         ("vm_port_get_set_pmd_list", t_get_set_and_pmd_list),
         ("vm_port_validation", t_validation),
         ("vm_port_vm_deleted_and_readded", t_vm_deleted_and_readded)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
