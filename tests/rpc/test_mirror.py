#!/usr/bin/env python3
"""test_mirror.py — port mirroring (SPAN, issue #16 section 2) on a real ferryd with real pcap
files: net_pcap sources replaying crafted frames, net_pcap outputs (tx_pcap) parsed here.

- replay (mirrors from the config, finite inputs, ferryd stopped to close the pcap files):
  an rx mirror of a trunk with "vlans": [10] and the filter "vlan and udp" holds exactly the
  VLAN-10 UDP frames as they arrived (tagged, byte for byte), a spoofed-source one included;
  a tx mirror of a trunk holds exactly what left it (the 802.1Q tag ferry pushed is in the copy);
  a "both" mirror of an access port holds its rx and its tx; every original reached its
  destinations (all of them, each exactly as the switch semantics say).
- the output is out of forwarding: never flooded to, never a unicast destination (a static MAC on
  it: no_dest), nothing learned from it, its rx dropped as mirror_output; port.get shows
  "mirror_output"; after mirror.del it forwards and learns again.
- a slow output (a vhostuser port no guest ever reads): every copy dropped and counted in the
  mirror's "dropped", the originals all delivered.
- mirror.add / mirror.del in a loop while src -> dst flows: no frame lost on src -> dst.
- bad params each refused with the right code and the param named, nothing changed.
- config: config.get / config.save round trip, ferryd --check on the saved file, bad "mirrors"
  entries refused naming the entry and the field.
- port.del of a source (the mirror keeps its other sources), of its last source and of its
  output (the mirror goes with it).
- ferryctl mirror add / list / del."""

import json
import os
import struct
import subprocess
import time

from ferrytest import (Daemon, EEXIST, EINVAL, ENOENT, ENOPORT, FERRYCTL, FERRYD, check,
                       ferryctl, mac_bytes, main, wait_for, write_pcap)

_vdev = [0]


# --- frames and pcap files -------------------------------------------------------------------
def eth(dst, src, ethertype, body, vlan=None):
    tag = struct.pack(">HH", 0x8100, vlan) if vlan is not None else b""
    return mac_bytes(dst) + mac_bytes(src) + tag + struct.pack(">H", ethertype) + body


def ipv4(proto, seq, n=30):
    payload = struct.pack(">HHHH", 1000 + seq, 53, 8 + n, 0) + bytes(n) if proto == 17 else \
        struct.pack(">HHIIBBHHH", 2000 + seq, 80, seq, 0, 0x50, 2, 512, 0, 0) + bytes(n)
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), seq & 0xffff, 0, 64, proto,
                       0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + payload


def untag(f):
    return f[:12] + f[16:] if f[12:14] == b"\x81\x00" else f


def retag(f, vlan):
    f = untag(f)
    return f[:12] + struct.pack(">HH", 0x8100, vlan) + f[12:]


def read_pcap(path):
    """Frames of a classic pcap file (micro- or nanosecond magic)."""
    with open(path, "rb") as f:
        b = f.read()
    check(len(b) >= 24 and struct.unpack_from("<I", b, 0)[0] in (0xA1B2C3D4, 0xA1B23C4D),
          "%s: not a pcap file" % path)
    out, off = [], 24
    while off + 16 <= len(b):
        incl = struct.unpack_from("<I", b, off + 8)[0]
        out.append(b[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def pcap_port(d, name, rx=None, tx=True, infinite=False, **kw):
    _vdev[0] += 1
    args = []
    if rx is not None:
        write_pcap(d.path(name + ".in.pcap"), rx)
        args.append("rx_pcap=" + d.path(name + ".in.pcap"))
        if infinite:
            args.append("infinite_rx=1")
    if tx:
        args.append("tx_pcap=" + d.path(name + ".out.pcap"))
    p = {"name": name, "type": "dpdk", "devargs": "net_pcap%d,%s" % (_vdev[0], ",".join(args))}
    p.update(kw)
    return p


def null_port(name, **kw):
    _vdev[0] += 1
    p = {"name": name, "type": "dpdk", "devargs": "net_null%d,no-rx=1" % _vdev[0]}
    p.update(kw)
    return p


def with_mirrors(d, mirrors):
    """Add "mirrors" to the Daemon's config file before it starts."""
    with open(d.cfg_path) as f:
        cfg = json.load(f)
    cfg["mirrors"] = mirrors
    with open(d.cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    return d


def stats(c, name):
    return c.result("port.stats", {"name": name})


def mirror(c, name):
    ms = [m for m in c.result("mirror.list") if m["name"] == name]
    check(len(ms) == 1, "mirror.list has %s once: %s" % (name, ms))
    return ms[0]


def settled(read, ok, tries=60):
    v = read()
    for _ in range(tries):
        if ok(v):
            return v
        time.sleep(0.05)
        v = read()
    return v


def same(got, want, what):
    check(len(got) == len(want), "%s: %d frames, expected %d" % (what, len(got), len(want)))
    bad = [i for i in range(len(got)) if got[i] != want[i]]
    check(not bad, "%s: frame %d differs: %s, expected %s" % (
        what, bad[0] if bad else 0, got[bad[0]].hex() if bad else "", want[bad[0]].hex() if bad else ""))


def same_set(got, want, what):
    same(sorted(got), sorted(want), what)


# --- 1. replay: rx with vlans + filter, tx after VLAN rewrite, both --------------------------
UP_SRC, ACC_SRC, SPOOF = "02:00:00:00:01:01", "02:00:00:00:02:02", "03:00:00:00:00:09"
FLOOD_DST = "02:00:00:00:ff:%02x"


def up_frames():
    """The trunk's input: UDP and TCP in VLANs 10, 20 and 30 (30 not carried), untagged (no
    native VLAN: dropped), and a VLAN-10 UDP frame from a group source (dropped invalid_src)."""
    out = []
    for i in range(40):
        vlan = (10, 20, 30, None)[i % 4]
        proto = 17 if i % 3 else 6
        out.append(eth(FLOOD_DST % (i % 7), UP_SRC, 0x0800, ipv4(proto, i), vlan))
    out.append(eth(FLOOD_DST % 1, SPOOF, 0x0800, ipv4(17, 99), 10))
    return out


def acc_frames():
    return [eth(FLOOD_DST % (i % 5), ACC_SRC, 0x0800, ipv4(17 if i % 2 else 6, 200 + i))
            for i in range(24)]


def is_udp(f):
    f = untag(f)
    return f[12:14] == b"\x08\x00" and f[23] == 17


def vid(f):
    return struct.unpack(">H", f[14:16])[0] & 0xfff if f[12:14] == b"\x81\x00" else None


def replay_ports(d):
    return [pcap_port(d, "up", rx=up_frames(), tx=False,
                      vlan={"mode": "trunk", "allowed": [10, 20]}),
            pcap_port(d, "acc", rx=acc_frames(), vlan={"mode": "access", "tag": 10}),
            pcap_port(d, "a", vlan={"mode": "access", "tag": 10}),
            pcap_port(d, "b", vlan={"mode": "access", "tag": 20}),
            pcap_port(d, "t", vlan={"mode": "trunk", "allowed": [10]}),
            pcap_port(d, "ids1"), pcap_port(d, "ids2"), pcap_port(d, "ids3")]


REPLAY_MIRRORS = [
    {"name": "m_rx", "ports": ["up"], "direction": "rx", "vlans": [10], "filter": "vlan and udp",
     "output": "ids1"},
    {"name": "m_tx", "ports": ["t"], "direction": "tx", "output": "ids2"},
    {"name": "m_both", "ports": ["acc"], "direction": "both", "output": "ids3"}]


def t_replay_exact():
    d = with_mirrors(Daemon(replay_ports, tag="mirror"), REPLAY_MIRRORS).start()
    try:
        up, acc = up_frames(), acc_frames()
        with d.client() as c:
            wait_for(lambda: stats(c, "up")["rx_packets"] == len(up) and
                     stats(c, "acc")["rx_packets"] == len(acc), timeout=20, what="replay done")
            time.sleep(0.3)
            ms = {m["name"]: m for m in c.result("mirror.list")}
            s = {n: stats(c, n) for n in ("up", "acc", "a", "b", "t", "ids1", "ids2", "ids3")}
        check(d.stop() == 0, "ferryd exit")
        out = {n: read_pcap(d.path(n + ".out.pcap")) for n in ("a", "b", "t", "ids1", "ids2",
                                                               "ids3", "acc")}
        # originals: what the switch semantics say, all of them
        valid_up = [f for f in up if vid(f) in (10, 20) and f[6:12] != mac_bytes(SPOOF)]
        v10 = [untag(f) for f in valid_up if vid(f) == 10]
        same_set(out["a"], v10 + acc, "a (access 10): every VLAN-10 frame, untagged")
        same_set(out["b"], [untag(f) for f in valid_up if vid(f) == 20], "b (access 20)")
        same_set(out["t"], [retag(f, 10) for f in v10 + acc], "t (trunk 10): tagged")
        same(out["acc"], v10, "acc (access 10): up's VLAN-10 frames, untagged")
        # rx mirror: VLAN 10 and UDP, as received (tagged), the group source's frame too
        want_rx = [f for f in up if vid(f) == 10 and is_udp(f)]
        check(any(f[6:12] == mac_bytes(SPOOF) for f in want_rx), "a spoofed frame is selected")
        same(out["ids1"], want_rx, "ids1 (rx of up, vlans [10], 'vlan and udp')")
        # tx mirror: exactly what left t, with the tag ferry pushed
        same(out["ids2"], out["t"], "ids2 (tx of t)")
        check(all(vid(f) == 10 for f in out["ids2"]), "ids2: every copy carries tag 10")
        # both: acc's rx (as received) and its tx (as it left)
        same_set(out["ids3"], acc + out["acc"], "ids3 (rx and tx of acc)")
        # counters
        check(ms["m_rx"]["selected"] == ms["m_rx"]["mirrored"] == len(want_rx) and
              ms["m_rx"]["dropped"] == 0 and
              ms["m_rx"]["bytes"] == sum(len(f) for f in want_rx), "m_rx counters: %s" % ms["m_rx"])
        check(ms["m_tx"]["mirrored"] == len(out["t"]) and ms["m_both"]["mirrored"] ==
              len(out["ids3"]), "m_tx/m_both counters: %s %s" % (ms["m_tx"], ms["m_both"]))
        check(s["up"]["drops"]["invalid_src"] == 1, "the spoofed frame was dropped: %s" %
              s["up"]["drops"])
        for n in ("ids1", "ids2", "ids3"):
            check(s[n]["rx_packets"] == 0 and s[n]["tx_packets"] == len(out[n]),
                  "%s: tx counts its copies: %s" % (n, s[n]))
    finally:
        d.cleanup()


# --- 2. the output is out of forwarding -----------------------------------------------------
SRC, DST, IDS_MAC, IDS_STATIC = ("02:00:00:00:10:01", "02:00:00:00:10:02", "02:00:00:00:10:99",
                                 "02:00:00:00:10:98")


def out_ports(d):
    src = [eth("ff:ff:ff:ff:ff:ff", SRC, 0x0800, ipv4(17, i)) for i in range(8)] + \
          [eth(IDS_STATIC, SRC, 0x0800, ipv4(17, 8))]
    ids = [eth("ff:ff:ff:ff:ff:ff", IDS_MAC, 0x0800, ipv4(17, i)) for i in range(4)]
    return [pcap_port(d, "src", rx=src, tx=False, infinite=True, admin="down"),
            null_port("dst"), pcap_port(d, "ids", rx=ids, tx=False, infinite=True, admin="down")]


def t_output_out_of_forwarding():
    d = Daemon(out_ports, tag="mirror").start()
    try:
        with d.client() as c:
            c.result("fdb.add", {"mac": IDS_STATIC, "vlan": 0, "port": "ids"})
            # before: ids floods and is learned
            c.result("port.set", {"name": "ids", "admin": "up"})
            wait_for(lambda: any(e["mac"] == IDS_MAC for e in c.result("fdb.list")), what="learn")
            m = c.result("mirror.add", {"name": "m", "ports": ["src"], "direction": "rx",
                                        "filter": "udp port 9", "output": "ids"})
            check(m["output"] == "ids" and m["selected"] == 0, "mirror.add result: %s" % m)
            check(c.result("port.get", {"name": "ids"}).get("mirror_output") == "m",
                  "port.get shows mirror_output")
            check(all(p.get("mirror_output") in (None, "m") for p in c.result("port.list")) and
                  [p["name"] for p in c.result("port.list") if p.get("mirror_output")] == ["ids"],
                  "port.list shows mirror_output on ids only")
            check(not any(e["port"] == "ids" and e["type"] != "static"
                          for e in c.result("fdb.list")), "learned entries of ids flushed")
            c.result("port.stats.clear")
            c.result("port.set", {"name": "src", "admin": "up"})
            wait_for(lambda: stats(c, "src")["rx_packets"] > 20000 and
                     stats(c, "ids")["rx_packets"] > 5000, timeout=20, what="traffic")
            c.result("port.set", {"name": "src", "admin": "down"})
            c.result("port.set", {"name": "ids", "admin": "down"})
            time.sleep(0.3)
            ids = stats(c, "ids")
            src = stats(c, "src")
            check(ids["tx_packets"] == 0, "nothing flooded or sent to ids: %s" % ids["tx_packets"])
            check(ids["drops"]["mirror_output"] > 5000 and
                  ids["drops"]["mirror_output"] + ids["drops"]["admin_down"] == ids["rx_packets"],
                  "ids' rx dropped as mirror_output: %s" % ids["drops"])
            check(src["drops"]["no_dest"] > 0, "unicast to ids' static MAC: no_dest")
            check(not any(e["port"] == "ids" and e["type"] != "static"
                          for e in c.result("fdb.list")), "nothing learned from ids")
            check(mirror(c, "m")["mirrored"] == 0, "filter matched nothing")
            check(c.result("filter.list") == [], "filter.list does not list mirrors")
            # after mirror.del: ids forwards and learns again
            c.result("mirror.del", {"name": "m"})
            check("mirror_output" not in c.result("port.get", {"name": "ids"}), "mirror_output gone")
            c.result("port.set", {"name": "ids", "admin": "up"})
            wait_for(lambda: any(e["mac"] == IDS_MAC for e in c.result("fdb.list")),
                     what="ids learned again")
            c.result("port.set", {"name": "src", "admin": "up"})
            wait_for(lambda: stats(c, "ids")["tx_packets"] > 0, what="ids flooded to again")
            c.result("port.set", {"name": "src", "admin": "down"})
            c.result("port.set", {"name": "ids", "admin": "down"})
    finally:
        d.cleanup()


# --- 3. a slow output ------------------------------------------------------------------------
def slow_ports(d):
    src = [eth(DST, SRC, 0x0800, ipv4(17, i)) for i in range(16)]
    return [pcap_port(d, "src", rx=src, tx=False, infinite=True, admin="down"), null_port("dst"),
            {"name": "ids", "type": "vhostuser", "path": d.path("ids.sock")}]


def mirror_to_slow_output(c):
    """src -> dst with an rx mirror of src to ids, until src forwarded 50 000 frames: checks that
    every original was delivered; returns (frames forwarded, mirror m once its counters settled)."""
    c.result("fdb.add", {"mac": DST, "vlan": 0, "port": "dst"})
    c.result("mirror.add", {"name": "m", "ports": ["src"], "direction": "rx", "output": "ids"})
    c.result("port.stats.clear")
    c.result("port.set", {"name": "src", "admin": "up"})
    wait_for(lambda: stats(c, "src")["rx_packets"] > 50000, timeout=20, what="traffic")
    c.result("port.set", {"name": "src", "admin": "down"})
    time.sleep(0.3)
    s, t, m = settled(lambda: (stats(c, "src"), stats(c, "dst"), mirror(c, "m")),
                      lambda v: v[0]["rx_packets"] - v[0]["drops"]["admin_down"] ==
                      v[1]["tx_packets"] == v[2]["selected"] ==
                      v[2]["mirrored"] + v[2]["dropped"])
    fwd = s["rx_packets"] - s["drops"]["admin_down"]
    check(fwd > 50000 and t["tx_packets"] == fwd and s["drops_total"] == s["drops"]["admin_down"],
          "originals all delivered: %d of %d, src drops %s" % (t["tx_packets"], fwd, s["drops"]))
    return fwd, m


def t_slow_output():
    d = Daemon(slow_ports, tag="mirror").start()
    try:
        with d.client() as c:
            fwd, m = mirror_to_slow_output(c)
            check(m["selected"] == fwd and m["dropped"] == fwd and m["mirrored"] == 0,
                  "every copy dropped and counted: %s" % m)
    finally:
        d.cleanup()


VPEER = os.path.join(os.environ.get("BUILD", os.path.join(os.path.dirname(FERRYD), "../..")),
                     "tests/tools/ferry-vpeer")


def t_stalled_guest_output():
    """The output is a vhostuser port whose guest (ferry-vpeer) connected and then stopped
    (SIGSTOP): its ring fills, the copies beyond it are dropped (tx_full) and counted, the
    originals all delivered."""
    if not os.path.exists(VPEER):
        raise Exception("%s not built" % VPEER)
    d = Daemon(slow_ports, tag="mirror").start()
    peer = None
    try:
        peer = subprocess.Popen(
            [VPEER, "-l", "0", "--no-pci", "--no-telemetry", "--in-memory",
             "--single-file-segments", "--file-prefix", "vp-mirror-%d" % os.getpid(), "--vdev",
             "net_virtio_user0,path=%s,queues=1,queue_size=256" % d.path("ids.sock"), "--",
             "--duration", "120"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with d.client() as c:
            # link up comes before the guest enables its rings: stop it only once its RX ring
            # (ferry's tx) is on, or the copies are dropped not_ready instead of tx_full
            wait_for(lambda: c.result("port.get", {"name": "ids"}).get("guest_queues_tx", 0) >= 1,
                     timeout=20, what="guest connected, its RX ring enabled")
            os.kill(peer.pid, 19)   # SIGSTOP: it reads nothing from now on
            fwd, m = mirror_to_slow_output(c)
            ids = stats(c, "ids")
            check(m["selected"] == fwd and m["mirrored"] + m["dropped"] == fwd and
                  m["mirrored"] <= 256 and m["dropped"] >= fwd - 256 and
                  ids["drops"]["tx_full"] == m["dropped"],
                  "copies beyond the stopped guest's ring dropped and counted: %s, ids drops %s" %
                  (m, {k: v for k, v in ids["drops"].items() if v}))
    finally:
        if peer is not None:
            peer.kill()
            peer.wait()
        d.cleanup()


# --- 4. mirror.add/del under traffic ---------------------------------------------------------
def loop_ports(d):
    src = [eth(DST, SRC, 0x0800, ipv4(17 if i % 2 else 6, i)) for i in range(32)]
    return [pcap_port(d, "src", rx=src, tx=False, infinite=True, admin="down"), null_port("dst"),
            null_port("ids"), null_port("ids2")]


def t_add_del_loop():
    d = Daemon(loop_ports, tag="mirror").start()
    try:
        with d.client(timeout=30) as c:
            c.result("fdb.add", {"mac": DST, "vlan": 0, "port": "dst"})
            c.result("port.stats.clear")
            c.result("port.set", {"name": "src", "admin": "up"})
            wait_for(lambda: stats(c, "src")["rx_packets"] > 20000, what="traffic")
            dirs = ["rx", "tx", "both"]
            for i in range(60):
                c.result("mirror.add", {"name": "m%d" % i, "ports": ["src", "dst"],
                                        "direction": dirs[i % 3], "output": "ids",
                                        **({"filter": "udp"} if i % 2 else {})})
                if i % 4 == 0:
                    c.result("mirror.add", {"name": "x", "ports": ["dst"], "direction": "tx",
                                            "output": "ids2"})
                    c.result("mirror.del", {"name": "x"})
                c.result("mirror.del", {"name": "m%d" % i})
            c.result("port.set", {"name": "src", "admin": "down"})
            time.sleep(0.3)
            s, t = settled(lambda: (stats(c, "src"), stats(c, "dst")),
                           lambda v: v[0]["rx_packets"] - v[0]["drops"]["admin_down"] ==
                           v[1]["tx_packets"])
            fwd = s["rx_packets"] - s["drops"]["admin_down"]
            check(t["tx_packets"] == fwd and s["drops_total"] == s["drops"]["admin_down"] and
                  t["drops_total"] == 0, "no loss src -> dst across 60 mirror.add/del: %d of %d, "
                  "drops %s %s" % (t["tx_packets"], fwd, s["drops"], t["drops"]))
            check(stats(c, "ids")["tx_packets"] > 0, "the mirrors did copy")
            check(c.result("mirror.list") == [], "no mirror left")
    finally:
        d.cleanup()


# --- 5. bad params ---------------------------------------------------------------------------
def bad_ports(d):
    return [null_port("p1"), null_port("p2"), null_port("o1"), null_port("o2")]


def t_bad_params():
    d = Daemon(bad_ports, tag="mirror").start()
    try:
        with d.client() as c:
            ok = {"name": "m", "ports": ["p1"], "direction": "rx", "output": "o1"}
            c.result("mirror.add", ok)
            before = (c.result("mirror.list"), c.result("port.list"), c.result("config.get"))

            def bad(params, code, contains):
                c.error("mirror.add", params, code, contains)

            def mod(**kw):
                p = dict(ok, name="n")
                for k, v in kw.items():
                    if v is None:
                        p.pop(k)
                    else:
                        p[k] = v
                return p
            bad(mod(name=None), EINVAL, "params.name")
            bad(mod(name="bad name!"), EINVAL, "params.name")
            bad(mod(ports=None), EINVAL, "params.ports")
            bad(mod(ports="p1"), EINVAL, "params.ports")
            bad(mod(ports=[]), EINVAL, "params.ports")
            bad(mod(ports=["p2", "p2"]), EINVAL, "params.ports")
            bad(mod(ports=["nope"]), ENOPORT, "nope")
            bad(mod(output="nope"), ENOPORT, "params.output")
            bad(mod(output=None), EINVAL, "params.output")
            bad(mod(ports=["p2"], output="p2"), EINVAL, "params.ports")
            bad(mod(direction="in"), EINVAL, "params.direction")
            bad(mod(direction=None), EINVAL, "params.direction")
            bad(mod(vlans=[5000]), EINVAL, "params.vlans")
            bad(mod(vlans="10"), EINVAL, "params.vlans")
            bad(mod(vlans=[]), EINVAL, "params.vlans")
            bad(mod(filter="tcp port"), EINVAL, "params.filter: ")
            bad(mod(filter="no such thing"), EINVAL, "params.filter")
            bad(mod(extra=1), EINVAL, "params.extra")
            bad(dict(ok), EEXIST, "mirror 'm' exists")
            bad(mod(ports=["p2"]), EINVAL, "params.output: port o1 is the output of mirror m")
            bad(mod(ports=["p2"], output="p1"), EINVAL, "params.output: port p1 is a source")
            bad(mod(ports=["o1"], output="o2"), EINVAL, "params.ports: port o1 is the output")
            c.error("mirror.del", {"name": "nope"}, ENOENT, "nope")
            c.error("mirror.del", {}, EINVAL, "params.name")
            c.error("mirror.list", {"x": 1}, EINVAL, "params.x")
            after = (c.result("mirror.list"), c.result("port.list"), c.result("config.get"))
            for a, b in zip(before, after):
                for x in (a if isinstance(a, list) else [a]):
                    for k in ("selected", "mirrored", "bytes", "dropped", "rx_queues", "link"):
                        x.pop(k, None)
                for x in (b if isinstance(b, list) else [b]):
                    for k in ("selected", "mirrored", "bytes", "dropped", "rx_queues", "link"):
                        x.pop(k, None)
                check(a == b, "nothing changed by the refused calls: %s vs %s" % (a, b))
    finally:
        d.cleanup()


# --- 6. config round trip, --check, bad configs ----------------------------------------------
def cfg_ports(d):
    return [null_port("p1"), null_port("p2", vlan={"mode": "trunk", "allowed": [10, 20]}),
            null_port("o1"), null_port("o2")]


CFG_MIRRORS = [{"name": "m1", "ports": ["p1", "p2"], "direction": "both", "vlans": [0, 10, 20],
                "filter": "udp or arp", "output": "o1"},
               {"name": "m2", "ports": ["p2"], "direction": "tx", "output": "o2"}]


def check_file(path):
    return subprocess.run([FERRYD, "--check", "-c", path], capture_output=True, text=True,
                          timeout=30)


def t_config_roundtrip():
    d = with_mirrors(Daemon(cfg_ports, tag="mirror"), CFG_MIRRORS)
    d.start()
    try:
        with d.client() as c:
            got = c.result("config.get")["mirrors"]
            check(got == CFG_MIRRORS, "config.get mirrors: %s" % got)
            lst = c.result("mirror.list")
            check([m["name"] for m in lst] == ["m1", "m2"] and lst[1]["vlans"] is None and
                  lst[1]["filter"] == "", "mirror.list: %s" % lst)
            c.result("config.save")
        check(d.stop() == 0, "ferryd exit")   # --check refuses a file whose socket is live
        with open(d.cfg_path) as f:
            saved = json.load(f)
        check(saved["mirrors"] == CFG_MIRRORS, "config.save wrote the mirrors: %s" %
              saved.get("mirrors"))
        r = check_file(d.cfg_path)
        check(r.returncode == 0, "ferryd --check accepts the saved file: %s" % r.stderr)
        base = dict(saved)
        cases = [
            ([dict(CFG_MIRRORS[1], direction="sideways")], "mirrors[0].direction"),
            ([dict(CFG_MIRRORS[1], ports=["nope"])], "mirrors[0].ports: no port named 'nope'"),
            ([dict(CFG_MIRRORS[1], output="nope")], "mirrors[0].output: no port named 'nope'"),
            ([dict(CFG_MIRRORS[1], ports=["o2"])], "mirrors[0].ports"),
            ([dict(CFG_MIRRORS[1], filter="tcp port")], "mirrors[0].filter"),
            ([dict(CFG_MIRRORS[1], vlans=[4095])], "mirrors[0].vlans"),
            ([CFG_MIRRORS[1], dict(CFG_MIRRORS[1], name="m3")], "mirrors[1].output"),
            ([CFG_MIRRORS[1], dict(CFG_MIRRORS[1])], "mirrors[1].name"),
            ([CFG_MIRRORS[0], dict(CFG_MIRRORS[1], ports=["o1"])], "mirrors[1].ports"),
            ("x", "mirrors: must be a list"),
        ]
        for mirrors, want in cases:
            cfg = dict(base, mirrors=mirrors)
            path = d.path("bad.json")
            with open(path, "w") as f:
                json.dump(cfg, f)
            r = check_file(path)
            check(r.returncode == 2 and want in r.stderr,
                  "--check refuses %s naming %s: rc %d, %s" % (mirrors, want, r.returncode,
                                                               r.stderr.strip()))
    finally:
        d.cleanup()


# --- 7. port.del -----------------------------------------------------------------------------
def t_port_del():
    d = Daemon(lambda d: [null_port("p1"), null_port("p2"), null_port("o1"), null_port("o2"),
                          null_port("q")], tag="mirror").start()
    try:
        with d.client() as c:
            c.result("mirror.add", {"name": "m1", "ports": ["p1", "p2"], "direction": "both",
                                    "output": "o1"})
            c.result("mirror.add", {"name": "m2", "ports": ["q"], "direction": "rx",
                                    "output": "o2"})
            c.result("port.del", {"name": "p1"})
            check(mirror(c, "m1")["ports"] == ["p2"], "p1 left m1")
            c.result("port.del", {"name": "p2"})
            check([m["name"] for m in c.result("mirror.list")] == ["m2"],
                  "m1 deleted with its last source")
            check("mirror_output" not in c.result("port.get", {"name": "o1"}), "o1 forwards")
            c.result("port.del", {"name": "o2"})   # deleting an IDS VM's port
            check(c.result("mirror.list") == [], "m2 deleted with its output")
            check("mirrors" not in c.result("config.get"), "config.get: no mirrors")
            c.result("mirror.add", {"name": "m2", "ports": ["q"], "direction": "rx",
                                    "output": "o1"})
    finally:
        d.cleanup()


# --- 8. ferryctl -----------------------------------------------------------------------------
def t_ferryctl():
    d = Daemon(lambda d: [null_port("vm1"), null_port("vm2"), null_port("idsvm")],
               tag="mirror").start()
    try:
        rc, out, err = ferryctl(d, "mirror", "add", "span1", "--ports", "vm1,vm2", "--direction",
                                "rx", "--vlans", "0,10", "--filter", "tcp port 80", "--output",
                                "idsvm")
        check(rc == 0 and "mirror span1 added" in out, "ferryctl mirror add: %d %s %s" %
              (rc, out, err))
        rc, out, err = ferryctl(d, "mirror", "list")
        lines = out.splitlines()
        check(rc == 0 and lines[0].split()[:5] == ["NAME", "PORTS", "DIRECTION", "VLANS", "OUTPUT"]
              and lines[1].split()[:5] == ["span1", "vm1,vm2", "rx", "0,10", "idsvm"] and
              "tcp port 80" in lines[1], "ferryctl mirror list: %s" % out)
        rc, out, err = ferryctl(d, "--json", "mirror", "list")
        check(rc == 0 and json.loads(out)[0]["filter"] == "tcp port 80", "--json: %s" % out)
        rc, out, err = ferryctl(d, "mirror", "add", "span2", "--ports", "vm1", "-d", "tx",
                                "--output", "vm1")
        check(rc == 1 and "params.ports" in err, "refused: %d %s" % (rc, err))
        rc, out, err = ferryctl(d, "mirror", "add", "span2", "--ports", "vm1", "--bogus", "x")
        check(rc == 2 and "--bogus" in err, "usage error: %d %s" % (rc, err))
        rc, out, err = ferryctl(d, "mirror", "del", "span1")
        check(rc == 0 and "mirror span1 deleted" in out, "ferryctl mirror del: %s %s" % (out, err))
        rc, out, err = ferryctl(d, "mirror", "del", "span1")
        check(rc == 1 and "no mirror named" in err, "del again: %d %s" % (rc, err))
        rc, out, err = ferryctl(d, "--help")
        check("mirror add NAME" in out, "help lists mirror add")
        bash = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "../../app/ferryctl/ferryctl.bash")
        with open(bash) as f:
            text = f.read()
        check("mirror) COMPREPLY" in text and "--direction" in text, "bash completion")
    finally:
        d.cleanup()


TESTS = [("mirror_replay_exact", t_replay_exact),
         ("mirror_output_out_of_forwarding", t_output_out_of_forwarding),
         ("mirror_slow_output", t_slow_output),
         ("mirror_stalled_guest_output", t_stalled_guest_output), ("mirror_add_del_under_traffic", t_add_del_loop),
         ("mirror_bad_params", t_bad_params), ("mirror_config_roundtrip", t_config_roundtrip),
         ("mirror_port_del", t_port_del), ("mirror_ferryctl", t_ferryctl)]

if __name__ == "__main__":
    check(os.path.exists(FERRYD) and os.path.exists(FERRYCTL), "ferryd/ferryctl not built")
    main(TESTS)
