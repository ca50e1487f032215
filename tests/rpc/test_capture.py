#!/usr/bin/env python3
"""test_capture.py — packet capture on ports (issue #16 section 1) on a real ferryd with real
traffic: capture.start/stop/list, the pcapng it writes (read by a small reader below: interface
name, direction flags, caplen/len, statistics block), libpcap filters compiled and JIT'd, snaplen,
count, the tx side after the VLAN rewrite, several captures at once, a client that disconnects,
a full ring (copies dropped and counted, originals all delivered), what paths a client may name,
ferryctl capture piped into tcpdump and stopped with SIGINT, and dpdk-dumpcap attaching to a
ferryd started with a shared file prefix (rte_pdump).

Topology: `src` (net_pcap replaying a mix of ICMP, TCP, UDP, ARP and VLAN-tagged frames forever)
-> static FDB entries on `dst` (net_null); `vsrc` (access VLAN 10, net_pcap) -> `vdst` (net_null,
trunk of VLAN 10: frames leave tagged)."""

import os
import shutil
import signal
import struct
import subprocess
import time

from ferrytest import (Daemon, EINVAL, ENOENT, ENOPORT, FERRYCTL, FERRYD, TestFailure, check,
                       mac_bytes, wait_for, write_pcap)

SRC, DST, VSRC, VDST = ("02:00:00:00:01:01", "02:00:00:00:02:02", "02:00:00:00:05:05",
                        "02:00:00:00:06:06")


# --- frames ----------------------------------------------------------------------------------
def ipv4(proto, payload, seq):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), seq & 0xffff, 0, 64, proto,
                       0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + payload


def eth(dst, src, ethertype, body, vlan=None):
    tag = struct.pack(">HH", 0x8100, vlan) if vlan is not None else b""
    return mac_bytes(dst) + mac_bytes(src) + tag + struct.pack(">H", ethertype) + body


def icmp(seq, vlan=None):
    return eth(DST, SRC, 0x0800, ipv4(1, struct.pack(">BBHHH", 8, 0, 0, 7, seq) + bytes(18), seq),
               vlan)


def tcp(seq, dport):
    th = struct.pack(">HHIIBBHHH", 40000 + seq, dport, seq, 0, 0x50, 0x02, 1024, 0, 0)
    return eth(DST, SRC, 0x0800, ipv4(6, th + bytes(40 + seq % 50), seq))


def udp(seq):
    return eth(DST, SRC, 0x0800, ipv4(17, struct.pack(">HHHH", 5353, 53, 8 + 30, 0) + bytes(30),
                                      seq))


def arp(seq):
    body = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac_bytes(SRC),
                       bytes([10, 0, 0, seq % 250 + 1]), mac_bytes(DST), bytes([10, 0, 0, 2]))
    return eth(DST, SRC, 0x0806, body + bytes(18))


def mix():
    out = []
    for i in range(8):
        out += [icmp(i), tcp(i, 80), udp(i), arp(i), tcp(100 + i, 22), icmp(50 + i, vlan=5)]
    return out


MIX = mix()
ICMP = [f for f in MIX if f[12:14] == b"\x08\x00" and f[23] == 1]
TCP80 = [f for f in MIX if f[12:14] == b"\x08\x00" and f[23] == 6 and f[36:38] == b"\x00\x50"]
PLAIN = [eth(VDST, VSRC, 0x0800, ipv4(17, bytes(30), i)) for i in range(16)]


def tagged(f, vlan):
    return f[:12] + struct.pack(">HH", 0x8100, vlan) + f[12:]


# --- pcapng ----------------------------------------------------------------------------------
def options(data):
    opts, off = [], 0
    while off + 4 <= len(data):
        code, ln = struct.unpack_from("<HH", data, off)
        if code == 0:
            break
        opts.append((code, data[off + 4:off + 4 + ln]))
        off += 4 + (ln + 3) // 4 * 4
    return opts


def read_pcapng(path):
    """{"idb": [{"name", "linktype", "snaplen"}], "epb": [{"iface", "flags", "caplen", "len",
    "data"}], "isb": [{"ifrecv", "ifdrop", "filteraccept", "usrdeliv"}]}"""
    with open(path, "rb") as f:
        b = f.read()
    out = {"idb": [], "epb": [], "isb": []}
    off = 0
    check(len(b) >= 28 and struct.unpack_from("<I", b, 0)[0] == 0x0A0D0D0A and
          struct.unpack_from("<I", b, 8)[0] == 0x1A2B3C4D, "%s: no pcapng section header" % path)
    while off + 12 <= len(b):
        btype, blen = struct.unpack_from("<II", b, off)
        check(blen >= 12 and blen % 4 == 0 and off + blen <= len(b) and
              struct.unpack_from("<I", b, off + blen - 4)[0] == blen,
              "%s: bad block at %d (type %x, length %d)" % (path, off, btype, blen))
        body = b[off + 8:off + blen - 4]
        if btype == 1:
            lt, _, snap = struct.unpack_from("<HHI", body, 0)
            o = dict(options(body[8:]))
            out["idb"].append({"linktype": lt, "snaplen": snap,
                               "name": o.get(2, b"").decode(), "tsresol": o.get(9)})
        elif btype == 6:
            iface, _, _, cap, ln = struct.unpack_from("<IIIII", body, 0)
            data = body[20:20 + cap]
            o = dict(options(body[20 + (cap + 3) // 4 * 4:]))
            flags = struct.unpack("<I", o[2])[0] if 2 in o else None
            out["epb"].append({"iface": iface, "flags": flags, "caplen": cap, "len": ln,
                               "data": data})
        elif btype == 5:
            o = dict(options(body[12:]))
            q = lambda k: struct.unpack("<Q", o[k])[0] if k in o else None  # noqa: E731
            out["isb"].append({"ifrecv": q(4), "ifdrop": q(5), "filteraccept": q(6),
                               "usrdeliv": q(8)})
        off += blen
    check(off == len(b), "%s: %d trailing bytes" % (path, len(b) - off))
    return out


def check_only(got, expected, what):
    """got: frames of expected only (copies may have been dropped in between: no order)."""
    bad = [g for g in got if g not in expected]
    check(len(got) > 0 and not bad, "%s: %d frames, %d not expected (%s)" %
          (what, len(got), len(bad), bad[0].hex() if bad else "-"))


def check_rotation(got, expected, what):
    """got: consecutive frames of an endless replay of expected (from any point)."""
    check(len(got) > 0, "%s: nothing captured" % what)
    n = len(expected)
    starts = [i for i in range(n) if expected[i] == got[0]]
    check(starts, "%s: first frame not among the expected ones: %s" % (what, got[0].hex()))
    for s in starts:
        if all(got[k] == expected[(s + k) % n] for k in range(len(got))):
            return
    bad = [g for g in got if g not in expected]
    check(False, "%s: %d frames, %d not expected (%s), or out of order" %
          (what, len(got), len(bad), bad[0].hex() if bad else "none"))


# --- daemon ----------------------------------------------------------------------------------
def ports(d):
    write_pcap(d.path("mix.pcap"), MIX)
    write_pcap(d.path("plain.pcap"), PLAIN)
    return [{"name": "src", "type": "dpdk", "admin": "down",
             "devargs": "net_pcap0,rx_pcap=%s,infinite_rx=1" % d.path("mix.pcap")},
            {"name": "dst", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
            {"name": "vsrc", "type": "dpdk", "admin": "down", "vlan": {"mode": "access", "tag": 10},
             "devargs": "net_pcap1,rx_pcap=%s,infinite_rx=1" % d.path("plain.pcap")},
            {"name": "vdst", "type": "dpdk", "devargs": "net_null1,no-rx=1",
             "vlan": {"mode": "trunk", "allowed": [10]}}]


def start_daemon(tag="capture", env=None, rpc=None):
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        d = Daemon(ports, rpc=lambda d: dict(rpc or {}, capture_dir=d.path("captures")),
                   tag=tag).start()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with d.client() as c:
        for mac, vlan, port in ((DST, 0, "dst"), (DST, 5, "dst"), (VDST, 10, "vdst")):
            c.result("fdb.add", {"mac": mac, "vlan": vlan, "port": port})
    return d


def setup():
    return start_daemon()


def teardown(d):
    d.cleanup()


def cap_path(d, name):
    return os.path.join(d.path("captures"), name)


def captures(c):
    return c.result("capture.list")


def up(c, *names):
    for n in names:
        c.result("port.set", {"name": n, "admin": "up"})


def down(c, *names):
    for n in names:
        c.result("port.set", {"name": n, "admin": "down"})


def capture_count(d, c, name, params, n, ports_up=("src",)):
    """Start a capture of n frames, send traffic until it ends by itself, read the file."""
    p = dict(params, count=n, path=cap_path(d, name))
    r = c.result("capture.start", p)
    check(any(x["id"] == r["id"] for x in captures(c)), "capture %d listed" % r["id"])
    up(c, *ports_up)
    try:
        wait_for(lambda: all(x["id"] != r["id"] for x in captures(c)), timeout=20,
                 what="capture %d to end by itself" % r["id"])
    finally:
        down(c, *ports_up)
    return read_pcapng(p["path"])


# --- tests -----------------------------------------------------------------------------------
def t_rx_icmp(d):
    """filter "icmp" at src's rx: exactly the (untagged) ICMP frames, byte for byte, in replay
    order; the interface is named src, every packet flagged inbound; the count ends the capture
    by itself and its stage is gone from the port."""
    with d.client() as c:
        f = capture_count(d, c, "icmp.pcapng", {"port": "src", "direction": "rx",
                                                "filter": "icmp"}, 3 * len(ICMP))
        check([i["name"] for i in f["idb"]] == ["src"] and f["idb"][0]["linktype"] == 1,
              "interfaces %s" % f["idb"])
        check(len(f["epb"]) == 3 * len(ICMP), "%d packets" % len(f["epb"]))
        check_rotation([e["data"] for e in f["epb"]], ICMP, "icmp")
        check(all(e["flags"] == 1 and e["iface"] == 0 and e["caplen"] == e["len"]
                  for e in f["epb"]), "flags/lengths %s" % f["epb"][0])
        isb = f["isb"][0] if len(f["isb"]) == 1 else {}
        check(isb.get("usrdeliv") == 3 * len(ICMP) and
              isb["filteraccept"] >= isb["usrdeliv"] + isb["ifdrop"] and
              isb["ifrecv"] > isb["filteraccept"], "statistics %s" % f["isb"])
        check(captures(c) == [] and c.result("filter.list", {"port": "src"}) == [],
              "capture and its stage gone")


def t_rx_tcp80(d):
    """filter "tcp port 80": exactly those frames."""
    with d.client() as c:
        f = capture_count(d, c, "tcp80.pcapng", {"port": "src", "direction": "rx",
                                                 "filter": "tcp port 80"}, 2 * len(TCP80))
        check_rotation([e["data"] for e in f["epb"]], TCP80, "tcp port 80")
        check(len(f["epb"]) == 2 * len(TCP80), "%d packets" % len(f["epb"]))


def t_tx_after_vlan(d):
    """tx at vdst (trunk of VLAN 10, frames from the access port vsrc): what leaves the port,
    i.e. after the VLAN push — the input frames with an 802.1Q tag 10, flagged outbound."""
    with d.client() as c:
        f = capture_count(d, c, "vdst.pcapng", {"port": "vdst", "direction": "tx"},
                          len(PLAIN) + 5, ports_up=("vsrc",))
        check([i["name"] for i in f["idb"]] == ["vdst"], "interfaces %s" % f["idb"])
        check_rotation([e["data"] for e in f["epb"]], [tagged(p, 10) for p in PLAIN],
                       "vdst tx")
        check(all(e["flags"] == 2 for e in f["epb"]), "flags %s" % f["epb"][0]["flags"])


def t_snaplen(d):
    """snaplen 40: caplen 40, len the frame's, the data its first 40 bytes."""
    with d.client() as c:
        f = capture_count(d, c, "snap.pcapng", {"port": "src", "direction": "rx", "filter": "tcp",
                                                "snaplen": 40}, 20)
        tcps = [x for x in MIX if x[12:14] == b"\x08\x00" and x[23] == 6]
        check(f["idb"][0]["snaplen"] == 40, "IDB snaplen %d" % f["idb"][0]["snaplen"])
        for e in f["epb"]:
            full = [x for x in tcps if x[:40] == e["data"] and len(x) == e["len"]]
            check(e["caplen"] == 40 and len(e["data"]) == 40 and full,
                  "caplen %d len %d" % (e["caplen"], e["len"]))
        check(len({e["len"] for e in f["epb"]}) > 1, "frames of several lengths")


def t_bad_params(d):
    """A bad filter: -32602 with libpcap's message; bad direction, port, snaplen."""
    with d.client() as c:
        p = {"port": "src", "path": cap_path(d, "bad.pcapng")}
        c.error("capture.start", dict(p, filter="tcp port 99999"), EINVAL,
                "params.filter: illegal port number 99999 > 65535")
        c.error("capture.start", dict(p, filter="icmp and and"), EINVAL, "syntax error")
        c.error("capture.start", dict(p, direction="up"), EINVAL, "params.direction")
        c.error("capture.start", dict(p, port="nope"), ENOPORT, "no port named 'nope'")
        c.error("capture.start", dict(p, snaplen=0), EINVAL, "params.snaplen")
        c.error("capture.stop", {"id": 999}, ENOENT, "no capture 999")
        check(not os.path.exists(p["path"]), "a capture that did not start left its file")
        check(captures(c) == [] and c.result("filter.list") == [], "nothing attached")


def t_paths(d):
    """Only inside rpc.capture_dir: no path outside, no "..", no symlink, no directory; the
    directory is made 0700."""
    outside = "/tmp/ferry-capture-outside-%d.pcapng" % os.getpid()
    with d.client() as c:
        p = {"port": "src"}
        c.error("capture.start", dict(p, path=outside), EINVAL, "is not inside rpc.capture_dir")
        check(not os.path.exists(outside), "nothing written outside")
        c.error("capture.start", dict(p, path=cap_path(d, "../x.pcapng")), EINVAL,
                "'..' components are not allowed")
        c.error("capture.start", dict(p, path="x.pcapng"), EINVAL, "must be an absolute path")
        check(os.stat(d.path("captures")).st_mode & 0o777 == 0o700, "capture dir mode")
        os.symlink(outside, cap_path(d, "link.pcapng"))
        c.error("capture.start", dict(p, path=cap_path(d, "link.pcapng")), EINVAL, "a symlink")
        check(not os.path.exists(outside), "symlink not followed")
        os.mkdir(cap_path(d, "adir"))
        c.error("capture.start", dict(p, path=cap_path(d, "adir")), EINVAL, "a directory")
        os.symlink("/tmp", cap_path(d, "ldir"))
        c.error("capture.start", dict(p, path=cap_path(d, "ldir/x.pcapng")), EINVAL,
                "is not inside rpc.capture_dir")
        check(captures(c) == [], "nothing started")


def t_two_at_once(d):
    """Two captures on src rx at once (icmp and tcp port 80), each gets exactly its frames; the
    list shows both while they run."""
    with d.client() as c:
        a = c.result("capture.start", {"port": "src", "direction": "rx", "filter": "icmp",
                                       "path": cap_path(d, "two-a.pcapng")})
        b = c.result("capture.start", {"port": "src", "direction": "both", "filter": "tcp port 80",
                                       "path": cap_path(d, "two-b.pcapng")})
        up(c, "src")
        wait_for(lambda: all(x["captured"] >= 30 for x in captures(c)), timeout=20,
                 what="both captures")
        down(c, "src")
        ls = captures(c)
        check(sorted((x["id"], x["port"], x["filter"]) for x in ls) ==
              [(a["id"], "src", "icmp"), (b["id"], "src", "tcp port 80")], "list %s" % ls)
        check(all(set(x) >= {"captured", "dropped", "bytes"} for x in ls), "fields %s" % ls)
        st = sorted((x["hook"], x["capture"]) for x in c.result("filter.list", {"port": "src"}))
        check(st == sorted([("ingress", a["id"]), ("ingress", b["id"]), ("egress", b["id"])]),
              "stages on src: %s" % st)
        ra = c.result("capture.stop", {"id": a["id"]})
        rb = c.result("capture.stop", {"id": b["id"]})
        fa, fb = read_pcapng(cap_path(d, "two-a.pcapng")), read_pcapng(cap_path(d, "two-b.pcapng"))
        check_only([e["data"] for e in fa["epb"]], ICMP, "capture a")
        check_only([e["data"] for e in fb["epb"]], TCP80, "capture b")
        check(len(fa["epb"]) == ra["captured"] and len(fb["epb"]) == rb["captured"],
              "stop's counters %d/%d, files %d/%d" % (ra["captured"], rb["captured"],
                                                       len(fa["epb"]), len(fb["epb"])))
        check(ra["bytes"] == sum(len(e["data"]) for e in fa["epb"]), "bytes")
        check(captures(c) == [] and c.result("filter.list") == [], "all gone")


def t_disconnect_ends(d):
    """A client that disconnects ends its capture: gone from another client's list, its stages
    detached, its file complete (statistics block last)."""
    with d.client() as other:
        c = d.client()
        r = c.result("capture.start", {"port": "src", "path": cap_path(d, "gone.pcapng")})
        check([x["id"] for x in captures(other)] == [r["id"]], "listed to the other client")
        check(len(other.result("filter.list", {"port": "src"})) == 2, "rx and tx stages")
        up(other, "src")
        wait_for(lambda: captures(other)[0]["captured"] > 10, what="frames")
        c.close()
        wait_for(lambda: captures(other) == [], what="capture to end with its client")
        down(other, "src")
        check(other.result("filter.list") == [], "stages detached")
        f = read_pcapng(cap_path(d, "gone.pcapng"))
        check(len(f["epb"]) > 10 and len(f["isb"]) == 1, "file %d packets, %d ISB" %
              (len(f["epb"]), len(f["isb"])))


def stats(c, name):
    return c.result("port.stats", {"name": name})


def forwarded(s):
    return s["rx_packets"] - s["drops"]["admin_down"]


def t_full_ring():
    """A ring of 8 copies (FERRY_TEST_CAPTURE_RING) at full rate: copies dropped and counted
    (capture.list, the ISB), never the frames: dst sends every frame src forwarded, and vsrc ->
    vdst (not captured) is exact too."""
    d = start_daemon("capring", {"FERRY_TEST_CAPTURE_RING": "8"})
    try:
        with d.client() as c:
            r = c.result("capture.start", {"port": "src", "direction": "rx",
                                           "path": cap_path(d, "full.pcapng")})
            c.result("port.stats.clear")
            up(c, "src", "vsrc")
            wait_for(lambda: captures(c)[0]["dropped"] > 20000 and
                     captures(c)[0]["captured"] > 100, timeout=30, what="drops")
            down(c, "src", "vsrc")
            time.sleep(0.3)
            last = captures(c)[0]
            fin = c.result("capture.stop", {"id": r["id"]})
            s, t, vs, vt = (stats(c, n) for n in ("src", "dst", "vsrc", "vdst"))
            f = read_pcapng(cap_path(d, "full.pcapng"))
            isb = f["isb"][0]
            check(fin["dropped"] >= last["dropped"] > 0, "dropped %d" % fin["dropped"])
            check(fin["matched"] == fin["captured"] + fin["dropped"],
                  "matched %d = captured %d + dropped %d" % (fin["matched"], fin["captured"],
                                                             fin["dropped"]))
            check(len(f["epb"]) == fin["captured"] == isb["usrdeliv"], "file %d, captured %d" %
                  (len(f["epb"]), fin["captured"]))
            check(isb["ifdrop"] == fin["dropped"], "ISB ifdrop %d" % isb["ifdrop"])
            check(forwarded(s) == t["tx_packets"] and s["drops_total"] == s["drops"]["admin_down"],
                  "src forwarded %d, dst sent %d (%s)" % (forwarded(s), t["tx_packets"],
                                                          s["drops"]))
            check(forwarded(vs) == vt["tx_packets"] > 0, "vsrc %d -> vdst %d" %
                  (forwarded(vs), vt["tx_packets"]))
            print("  ring of 8: %d captured, %d copies dropped, %d frames all forwarded" %
                  (fin["captured"], fin["dropped"], t["tx_packets"]), flush=True)
    finally:
        d.cleanup()


def t_ferryctl_tcpdump(d):
    """`ferryctl capture src -f icmp -c 12 -w - | tcpdump -r -`: tcpdump reads the stream and
    prints 12 ICMP lines; ferryctl exits 0 with its summary; no FIFO left behind."""
    with d.client() as c:
        up(c, "src")
        try:
            ctl = subprocess.Popen([FERRYCTL, "-s", d.sock, "capture", "src", "-f", "icmp", "-c",
                                    "12", "-w", "-"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
            td = subprocess.run(["tcpdump", "-n", "-r", "-"], stdin=ctl.stdout,
                                capture_output=True, text=True, timeout=30)
            ctl.stdout.close()
            rc = ctl.wait(30)
            err = ctl.stderr.read().decode()
        finally:
            down(c, "src")
        lines = td.stdout.strip().splitlines()
        check(td.returncode == 0 and len(lines) == 12 and
              all("ICMP echo request" in ln for ln in lines), "tcpdump (rc %d): %s / %s" %
              (td.returncode, lines[:3], td.stderr[-200:]))
        check(rc == 0 and "src: 12 captured, " in err, "ferryctl rc %d: %s" % (rc, err))
        check(os.listdir(d.path("captures")) == [] or
              not [n for n in os.listdir(d.path("captures")) if n.startswith(".ferryctl")],
              "FIFO left: %s" % os.listdir(d.path("captures")))
        check(captures(c) == [], "capture over")


def t_ferryctl_sigint(d):
    """ferryctl capture -w FILE (outside rpc.capture_dir: ferryctl writes it) until SIGINT: the
    capture is stopped, the file is complete pcapng (statistics block last), ferryctl exits 0 and
    its summary matches the file; progress lines went to stderr."""
    out = d.path("sigint.pcapng")
    with d.client() as c:
        up(c, "src")
        try:
            ctl = subprocess.Popen([FERRYCTL, "-s", d.sock, "capture", "src", "-d", "rx", "-f",
                                    "udp", "-w", out], stderr=subprocess.PIPE)
            wait_for(lambda: captures(c) and captures(c)[0]["captured"] > 50, what="frames")
            time.sleep(1.2)   # at least one progress line
            ctl.send_signal(signal.SIGINT)
            rc = ctl.wait(30)
            err = ctl.stderr.read().decode()
        finally:
            down(c, "src")
        f = read_pcapng(out)
        udps = [x for x in MIX if x[12:14] == b"\x08\x00" and x[23] == 17]
        check(rc == 0, "ferryctl exited %d: %s" % (rc, err))
        check_only([e["data"] for e in f["epb"]], udps, "udp")
        check(len(f["isb"]) == 1 and f["isb"][0]["usrdeliv"] == len(f["epb"]), "ISB %s" % f["isb"])
        check("src: %d captured, %d dropped" % (len(f["epb"]), f["isb"][0]["ifdrop"]) in err and
              err.count(" dropped\n") >= 2, "summary and progress: %s" % err[-300:])
        check(captures(c) == [] and c.result("filter.list") == [], "stopped and detached")


def t_ferryctl_quiet_idle():
    """ferryctl capture -q prints no progress but still asks capture.list every second, so its
    connection (which owns the capture) outlives rpc.idle_timeout (2 s here); -q's summary."""
    d = start_daemon("capidle", rpc={"idle_timeout": 2})
    try:
        def now():   # a new connection each time: this test's own would be idle too
            with d.client() as c:
                return captures(c)
        ctl = subprocess.Popen([FERRYCTL, "-s", d.sock, "capture", "src", "-q", "-w",
                                d.path("q.pcapng")], stderr=subprocess.PIPE)
        wait_for(lambda: now() != [], what="the capture")
        time.sleep(4.5)
        alive = now()
        ctl.send_signal(signal.SIGINT)
        rc = ctl.wait(30)
        err = ctl.stderr.read().decode()
        check(len(alive) == 1, "capture ended within 4.5 s (idle timeout 2 s): %s" % alive)
        check(rc == 0 and err.count("\n") == 1 and " captured, " in err, "rc %d, stderr %r" %
              (rc, err))
    finally:
        d.cleanup()


def t_dumpcap():
    """ferryd with a shared file prefix (no --in-memory) calls rte_pdump_init: dpdk-dumpcap
    (a DPDK secondary process) captures from its dpdk port src."""
    if shutil.which("dpdk-dumpcap") is None:
        raise TestFailure("dpdk-dumpcap not installed (package dpdk)")
    d = Daemon(ports, rpc=lambda d: {"capture_dir": d.path("captures")}, tag="dumpcap")
    d.logf = open(d.path("ferryd.log"), "w")
    d.proc = subprocess.Popen([FERRYD, "--config", d.cfg_path, "--socket", d.sock, "--",
                               "--file-prefix", d.prefix], stdout=d.logf,
                              stderr=subprocess.STDOUT, cwd=d.dir)
    try:
        d.wait_ready()
        with d.client() as c:
            c.result("fdb.add", {"mac": DST, "vlan": 0, "port": "dst"})
            up(c, "src")
            out = d.path("dumpcap.pcapng")
            p = subprocess.run(["dpdk-dumpcap", "--file-prefix=" + d.prefix, "-i", "net_pcap0",
                                "-c", "20", "-w", out, "-q"], capture_output=True, text=True,
                               timeout=60)
            down(c, "src")
        check(p.returncode == 0 and os.path.exists(out), "dumpcap rc %d: %s" %
              (p.returncode, (p.stdout + p.stderr)[-300:]))
        f = read_pcapng(out)
        check(len(f["epb"]) >= 20 and all(e["data"] in MIX for e in f["epb"]),
              "dumpcap: %d frames, unknown ones: %d" % (len(f["epb"]),
                                                        sum(e["data"] not in MIX for e in f["epb"])))
    finally:
        d.cleanup()


def t_vhost_port(d):
    """A vhostuser port (no ethdev): a ferry-vpeer guest sends numbered UDP frames to dst; a
    capture of g1's rx with filter "udp" gets 40 of them, interface named g1 (described as a
    vhostuser port), every frame from the guest's MAC to dst."""
    vpeer = os.environ.get("FERRY_VPEER", os.path.join(os.path.dirname(FERRYD), "..", "..",
                                                        "tests", "tools", "ferry-vpeer"))
    check(os.access(vpeer, os.X_OK), "%s is not built" % vpeer)
    gmac = "02:00:00:00:09:09"
    with d.client() as c:
        c.result("port.add", {"name": "g1", "type": "vhostuser", "path": d.path("g1.sock")})
        log = open(d.path("vpeer.log"), "w")
        p = subprocess.Popen([vpeer, "-l", "0", "--no-pci", "--no-telemetry", "--in-memory",
                              "--single-file-segments", "--file-prefix", d.prefix + "-vp",
                              "--vdev", "net_virtio_user0,path=%s,queues=1" % d.path("g1.sock"),
                              "--", "--mac", gmac, "--peer", DST, "--rate", "2000",
                              "--duration", "20", "--count", "100000"],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            r = c.result("capture.start", {"port": "g1", "direction": "rx", "filter": "udp",
                                           "count": 40, "path": cap_path(d, "g1.pcapng")})
            wait_for(lambda: all(x["id"] != r["id"] for x in captures(c)), timeout=30,
                     what="40 frames from the guest")
        finally:
            p.terminate()
            p.wait(30)
            log.close()
            c.result("port.del", {"name": "g1"})
        f = read_pcapng(cap_path(d, "g1.pcapng"))
        check([i["name"] for i in f["idb"]] == ["g1"], "interfaces %s" % f["idb"])
        check(len(f["epb"]) == 40 and all(e["data"][:12] == mac_bytes(DST) + mac_bytes(gmac) and
                                          e["data"][23] == 17 and e["flags"] == 1
                                          for e in f["epb"]), "guest frames %s" %
              [e["data"][:24].hex() for e in f["epb"][:2]])


def main_tests():
    return [("capture_rx_icmp", t_rx_icmp), ("capture_rx_tcp80", t_rx_tcp80),
            ("capture_tx_after_vlan", t_tx_after_vlan), ("capture_snaplen", t_snaplen),
            ("capture_bad_params", t_bad_params), ("capture_paths", t_paths),
            ("capture_two_at_once", t_two_at_once), ("capture_disconnect_ends", t_disconnect_ends),
            ("capture_ferryctl_tcpdump", t_ferryctl_tcpdump),
            ("capture_ferryctl_sigint", t_ferryctl_sigint), ("capture_vhost_port", t_vhost_port)]


if __name__ == "__main__":
    import sys
    from ferrytest import run_tests
    only = sys.argv[1:]
    tests = [t for t in main_tests() if not only or t[0] in only]
    rc = run_tests(tests, setup, teardown) if tests else 0
    solo = [("capture_full_ring", t_full_ring), ("capture_ferryctl_quiet_idle", t_ferryctl_quiet_idle),
            ("capture_dumpcap", t_dumpcap)]
    solo = [t for t in solo if not only or t[0] in only]
    rc |= run_tests(solo) if solo else 0
    sys.exit(rc)
