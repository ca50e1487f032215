#!/usr/bin/env python3
"""test_egress_limits.py — frames too big for the egress port never leave it (issue #21 item 9).

A pcap replayed through the real daemon: net_pcap ports whose device MTU is the default 1500
(net_pcap cannot set one; rte_eth_dev_get_mtu says 1500). The frame limit is the L3 MTU + 14
for the Ethernet header + 4 per VLAN tag the frame carries on egress (at most 2), FCS not
counted. Ports:
  trunk  rx: tagged frames, VLAN 10 (outer tag 10, some with an inner tag: QinQ passthrough)
  acc    rx: untagged frames, access VLAN 10
  out_u  tx: access VLAN 10 (frames leave untagged: limit 1514)
  out_t  tx: trunk of VLAN 10 (frames leave tagged: limit 1518; with an inner tag 1522)
  out_j  tx: access VLAN 10, "mtu": 9000 (ferry's own limit on a device without an MTU: 9014)
Every frame is broadcast (flooded: the copies of one frame meet different limits) but one
unicast to out_u's pinned MAC. Checked: each output capture holds exactly the frames within its
limit (the exact-size ones included), byte for byte, in order, and drops.mtu of each output port
counts the others; no other drop. Two runs: egress_mtu (out_u, out_t: the device's MTU) and
egress_mtu_own_limit (out_j alone: ferry's own limit), so that the first does not depend on a
device accepting "mtu" (before 4e54ff8, out_j's "mtu": 9000 on net_pcap stopped ferryd at start,
and out_u sent the 7054- and 9015-byte frames as they came)."""

import json
import struct
import time

from ferrytest import Daemon, check, main, write_pcap, mac_bytes

BCAST = "ff:ff:ff:ff:ff:ff"
SRC_T, SRC_A = "02:00:00:00:09:01", "02:00:00:00:09:02"
MAC_U = "02:00:00:00:09:10"


def frame(dst, src, length, tags=(), seq=0):
    """An Ethernet frame of `length` bytes (no FCS) with the given VLAN ids as 802.1Q tags."""
    hdr = mac_bytes(dst) + mac_bytes(src)
    for vid in tags:
        hdr += struct.pack(">HH", 0x8100, vid)
    hdr += b"\x08\x00" + struct.pack(">I", seq)
    return hdr + bytes((seq + i) & 0xff for i in range(length - len(hdr)))


def untag(fr):
    return fr[:12] + fr[16:]


def tagged(fr):
    return fr[:12] + struct.pack(">HH", 0x8100, 10) + fr[12:]


# (input port, frame): lengths as they enter
TRUNK_IN = [frame(BCAST, SRC_T, n, (10,), i) for i, n in
            enumerate([64, 1518, 1519, 1522, 7058, 1400, 9018, 9019])]
QINQ_IN = [frame(BCAST, SRC_T, n, (10, 20), 100 + i) for i, n in enumerate([1522, 1523])]
ACC_IN = [frame(BCAST, SRC_A, n, (), 200 + i) for i, n in
          enumerate([1514, 1515, 7054, 60, 9014, 9015])] + \
    [frame(MAC_U, SRC_A, 1515, (), 300), frame(MAC_U, SRC_A, 1514, (), 301)]


def expected(outs):
    """What each output port must send, in order, and how many it must drop as mtu, when the
    output ports are outs (the unicast frames to MAC_U are flooded when out_u is not there)."""
    out = {"out_u": [], "out_t": [], "out_j": []}
    drops = {"out_u": 0, "out_t": 0, "out_j": 0}

    def send(port, fr, limit):
        if len(fr) <= limit:
            out[port].append(fr)
        else:
            drops[port] += 1
    # ferry polls the ports in config order: trunk first, then acc
    for fr in TRUNK_IN + QINQ_IN:
        inner = fr in QINQ_IN
        if not inner:   # an inner tag never leaves untagged (vlan_hop): no copy to out_u/out_j
            send("out_u", untag(fr), 1514)
            send("out_j", untag(fr), 9014)
        send("out_t", fr, 1522 if inner else 1518)
    for fr in ACC_IN:
        unicast = fr[:6] == mac_bytes(MAC_U) and "out_u" in outs
        send("out_u", fr, 1514)
        if not unicast:
            send("out_t", tagged(fr), 1518)
            send("out_j", fr, 9014)
    return out, drops


def read_pcap(path):
    frames = []
    with open(path, "rb") as f:
        data = f.read()
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def ports(d, outs):
    write_pcap(d.path("trunk.pcap"), TRUNK_IN + QINQ_IN)
    write_pcap(d.path("acc.pcap"), ACC_IN)
    acc10 = {"mode": "access", "tag": 10}
    out = [{"name": "out_u", "type": "dpdk", "vlan": acc10, "mac": [MAC_U],
            "devargs": "net_pcap2,tx_pcap=%s" % d.path("out_u.pcap")},
           {"name": "out_t", "type": "dpdk", "vlan": {"mode": "trunk", "allowed": [10]},
            "devargs": "net_pcap3,tx_pcap=%s" % d.path("out_t.pcap")},
           {"name": "out_j", "type": "dpdk", "vlan": acc10, "mtu": 9000,
            "devargs": "net_pcap4,tx_pcap=%s" % d.path("out_j.pcap")}]
    return [{"name": "trunk", "type": "dpdk", "vlan": {"mode": "trunk", "allowed": [10]},
             "devargs": "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (d.path("trunk.pcap"),
                                                              d.path("trunk-out.pcap"))},
            {"name": "acc", "type": "dpdk", "vlan": acc10,
             "devargs": "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (d.path("acc.pcap"),
                                                              d.path("acc-out.pcap"))}] + \
        [p for p in out if p["name"] in outs]


def run(outs):
    """Replay through trunk and acc to the output ports outs; check what each one sent, byte for
    byte, and its drops (each port's share depends on its own limit only)."""
    d = Daemon(lambda d: ports(d, outs), tag="egress")
    try:
        d.start()
        with d.client() as c:
            n_in = len(TRUNK_IN) + len(QINQ_IN) + len(ACC_IN)
            end = time.monotonic() + 20
            while time.monotonic() < end:
                st = c.result("port.stats")
                if sum(p["rx_packets"] for p in st if p["name"] in ("trunk", "acc")) >= n_in:
                    break
                time.sleep(0.1)
            time.sleep(0.3)
            st = {p["name"]: p for p in c.result("port.stats")}
        check(d.stop() == 0, "ferryd did not exit cleanly")
        want, drops = expected(outs)
        for name in outs:
            got = read_pcap(d.path(name + ".pcap"))
            check([len(f) for f in got] == [len(f) for f in want[name]],
                  "%s sent lengths %s, expected %s" % (name, [len(f) for f in got],
                                                       [len(f) for f in want[name]]))
            check(got == want[name], "%s: frames differ byte for byte" % name)
            dr = st[name]["drops"]
            check(dr.get("mtu") == drops[name], "%s drops.mtu %s, expected %d: %s" %
                  (name, dr.get("mtu"), drops[name], json.dumps(dr)))
            check(st[name]["drops_total"] == drops[name],
                  "%s: other drops: %s" % (name, json.dumps(dr)))
            check(st[name]["tx_packets"] == len(want[name]), "%s tx_packets %d, expected %d" %
                  (name, st[name]["tx_packets"], len(want[name])))
        print("  egress: " + ", ".join("%s sent %d dropped %d" % (n, len(want[n]), drops[n])
                                       for n in outs))
    finally:
        d.cleanup()


def t_mtu_per_port():
    """The device MTU (1500): untagged 1514, tagged 1518, with an inner tag 1522."""
    run(["out_u", "out_t"])


def t_mtu_own_limit():
    """ "mtu": 9000 on a device without an MTU (net_pcap): ferry's own limit, 9014. A port of
    its own, so that egress_mtu does not depend on this device accepting the setting."""
    run(["out_j"])


if __name__ == "__main__":
    main([("egress_mtu", t_mtu_per_port), ("egress_mtu_own_limit", t_mtu_own_limit)])
