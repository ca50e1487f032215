#!/usr/bin/env python3
"""test_filters.py — eBPF filters (issue #15 sections 1-2) on a real ferryd with the objects of
tests/filters (built by meson into <build>/tests/filters): attached at runtime while traffic
flows, with exact counts (filter passed/dropped, map values, port counters); detached; attached
and detached in a tight loop under traffic with no frame lost or duplicated on either port; every
bad object refused with its reason and nothing changed; config filters load, round-trip through
config.get/config.save and ferryd --check; a bad one in the config refuses the config; ferryctl.

Topology: `src` (net_pcap replaying forever) -> static FDB entry on `dst` (net_null); `src2` ->
`dst2` the same, the "other port" whose traffic must never notice."""

import json
import os
import struct
import subprocess
import time

from ferrytest import (Daemon, EEXIST, EINVAL, ENOENT, ENOPORT, FERRYD, check, ferryctl, main,
                       mac_bytes, wait_for, write_pcap)

BUILD = os.environ.get("BUILD") or os.path.dirname(os.path.dirname(os.path.dirname(FERRYD)))
OBJS = os.path.join(BUILD, "tests", "filters")
SRC, DST, SRC2, DST2 = ("02:00:00:00:01:01", "02:00:00:00:02:02", "02:00:00:00:03:03",
                        "02:00:00:00:04:04")
N_UDP, N_TCP = 96, 160          # per replay of the pcap: 256 frames


def obj(name):
    return os.path.join(OBJS, name + ".o")


def ip_frame(dst, src, proto, seq, payload=26):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + payload, seq & 0xffff, 0, 64, proto, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return mac_bytes(dst) + mac_bytes(src) + b"\x08\x00" + ip + bytes(payload)


def frames(dst, src):
    # UDP and TCP interleaved; lengths 60 (64 B on the wire) throughout
    out = []
    for i in range(N_UDP + N_TCP):
        out.append(ip_frame(dst, src, 17 if i % 8 < 3 else 6, i))
    return out


def ports(d):
    write_pcap(d.path("in.pcap"), frames(DST, SRC))
    write_pcap(d.path("in2.pcap"), frames(DST2, SRC2))
    return [{"name": "src", "type": "dpdk", "admin": "down",
             "devargs": "net_pcap0,rx_pcap=%s,infinite_rx=1" % d.path("in.pcap")},
            {"name": "dst", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
            {"name": "src2", "type": "dpdk", "admin": "down",
             "devargs": "net_pcap1,rx_pcap=%s,infinite_rx=1" % d.path("in2.pcap")},
            {"name": "dst2", "type": "dpdk", "devargs": "net_null1,no-rx=1"}]


def rpc(d):
    return {"filter_dirs": [OBJS, d.dir]}


def setup():
    check(os.path.exists(obj("count_all")), "test filters not built in %s" % OBJS)
    d = Daemon(ports, rpc=rpc, tag="filters").start()
    with d.client() as c:
        c.result("fdb.add", {"mac": DST, "vlan": 0, "port": "dst"})
        c.result("fdb.add", {"mac": DST2, "vlan": 0, "port": "dst2"})
    return d


def teardown(d):
    d.cleanup()


def stats(c, name):
    return c.result("port.stats", {"name": name})


def filters(c, port=None):
    return c.result("filter.list", {"port": port} if port else {})


def one(c, port, name):
    fs = [f for f in filters(c, port) if f["name"] == name]
    check(len(fs) == 1, "filter %s on %s: %s" % (name, port, fs))
    return fs[0]


def run_traffic(c, ports_up, until=lambda: True, min_frames=20000):
    """Clear counters, let ports_up send until `until()` and min_frames, stop them, settle."""
    c.result("port.stats.clear")
    for p in ports_up:
        c.result("port.set", {"name": p, "admin": "up"})
    wait_for(lambda: stats(c, ports_up[0])["rx_packets"] > min_frames and until(), timeout=30,
             what="traffic")


def stop_traffic(c, ports_up):
    for p in ports_up:
        c.result("port.set", {"name": p, "admin": "down"})
    time.sleep(0.3)


def settled(c, read, ok):
    """read() until ok(value) holds (at most 3 s). A stopped net_pcap source keeps receiving
    (counted as admin_down drops) and rx_packets and drops.admin_down are read at two instants:
    up to one burst of skew until a read falls between two bursts (as in test_traffic.py)."""
    v = read()
    for _ in range(60):
        if ok(v):
            return v
        time.sleep(0.05)
        v = read()
    return v


def forwarded(s):
    return s["rx_packets"] - s["drops"]["admin_down"]


def t_count_exact(d):
    """count_all at src ingress, attached while src -> dst flows: every frame the filter saw
    is counted by its map (XADD) and reached dst; none dropped."""
    with d.client(timeout=30) as c:
        run_traffic(c, ["src"])
        r = c.result("filter.attach", {"port": "src", "hook": "ingress",
                                       "path": obj("count_all")})
        check(r["name"] == "count_all" and r["hook"] == "ingress", "attach answer %s" % r)
        wait_for(lambda: one(c, "src", "count_all")["passed"] > 20000, timeout=30,
                 what="frames through the filter")
        stop_traffic(c, ["src"])
        f, s, t = settled(c, lambda: (one(c, "src", "count_all"), stats(c, "src"),
                                      stats(c, "dst")), lambda v: forwarded(v[1]) == v[2]["tx_packets"])
        v = f["maps"][0]["values"]
        check(f["jit"] is True, "JIT-compiled on x86-64: %s" % f)
        check(f["dropped"] == 0 and s["drops"]["filter"] == 0, "pass-all dropped %s" % f)
        check(v[0] == f["passed"], "map counted %d frames, filter passed %d" % (v[0], f["passed"]))
        check(v[1] == 60 * v[0], "map counted %d bytes for %d 60-byte frames" % (v[1], v[0]))
        check(v[2] == 0, "ferry_frame_port() = %d, src is port 0" % v[2])
        check(forwarded(s) == t["tx_packets"], "src forwarded %d, dst sent %d" %
              (forwarded(s), t["tx_packets"]))
        check(f["passed"] <= t["tx_packets"], "filter passed more than dst sent")
        check(f["maps"][0] == {"name": "counts", "type": "array", "key_size": 4,
                               "value_size": 8, "max_entries": 4, "values": v},
              "map listing %s" % f["maps"][0])
        c.result("filter.detach", {"port": "src", "name": "count_all"})
        check(filters(c, "src") == [], "detached")


def t_ipv4_drop_udp(d):
    """ipv4_drop_udp at src ingress reads the IPv4 header: UDP dropped, TCP passed, each counted
    per protocol in its map; exact against the port counters."""
    with d.client(timeout=30) as c:
        c.result("filter.attach", {"port": "src", "hook": "ingress", "path": obj("ipv4_drop_udp"),
                                   "name": "v4"})
        run_traffic(c, ["src"])
        stop_traffic(c, ["src"])
        f, s, t = settled(c, lambda: (one(c, "src", "v4"), stats(c, "src"), stats(c, "dst")),
                          lambda v: forwarded(v[1]) == v[0]["passed"] + v[0]["dropped"])
        proto = [m for m in f["maps"] if m["name"] == "proto"][0]["values"]
        other = [m for m in f["maps"] if m["name"] == "other"][0]["values"]
        check(proto[17] == f["dropped"] and proto[6] == f["passed"],
              "udp %d / dropped %d, tcp %d / passed %d" % (proto[17], f["dropped"], proto[6],
                                                           f["passed"]))
        check(other[0] == 0 and sum(proto) == proto[6] + proto[17], "only TCP/UDP seen")
        check(s["drops"]["filter"] == f["dropped"], "port drops.filter %d, filter dropped %d" %
              (s["drops"]["filter"], f["dropped"]))
        check(forwarded(s) == f["passed"] + f["dropped"], "filter saw every frame")
        check(t["tx_packets"] == f["passed"], "dst sent %d, filter passed %d" %
              (t["tx_packets"], f["passed"]))
        n = f["passed"] + f["dropped"]
        check(abs(f["dropped"] / n - N_UDP / (N_UDP + N_TCP)) < 0.02, "UDP share %d/%d" %
              (f["dropped"], n))
        c.result("filter.detach", {"port": "src", "name": "v4"})


def t_egress_drop_all(d):
    """drop_all at dst egress: every frame src forwards is dropped at dst's tx, counted by the
    filter and as dst's drops.filter."""
    with d.client(timeout=30) as c:
        c.result("filter.attach", {"port": "dst", "hook": "egress", "path": obj("drop_all")})
        run_traffic(c, ["src"])
        stop_traffic(c, ["src"])
        f, s, t = settled(c, lambda: (one(c, "dst", "drop_all"), stats(c, "src"),
                                      stats(c, "dst")), lambda v: forwarded(v[1]) == v[0]["dropped"])
        check(f["hook"] == "egress" and f["passed"] == 0, "egress filter %s" % f)
        check(t["tx_packets"] == 0, "dst sent %d" % t["tx_packets"])
        check(f["dropped"] == forwarded(s) == t["drops"]["filter"],
              "filter dropped %d, src forwarded %d, dst drops.filter %d" %
              (f["dropped"], forwarded(s), t["drops"]["filter"]))
        c.result("filter.detach", {"port": "dst", "name": "drop_all"})


def t_swap_loop_under_traffic(d):
    """Attach/detach in a tight loop at src ingress and dst egress while src -> dst and src2 ->
    dst2 flow: no frame lost or duplicated on either path, no crash."""
    with d.client(timeout=60) as c:
        run_traffic(c, ["src", "src2"])
        for i in range(150):
            c.result("filter.attach", {"port": "src", "hook": "ingress", "path": obj("count_all"),
                                       "name": "a"})
            c.result("filter.attach", {"port": "dst", "hook": "egress", "path": obj("ipv4"),
                                       "name": "b"})
            if i % 2:
                c.result("filter.detach", {"port": "src", "name": "a"})
                c.result("filter.detach", {"port": "dst", "name": "b"})
            else:
                c.result("filter.detach", {"port": "dst", "name": "b"})
                c.result("filter.detach", {"port": "src", "name": "a"})
        stop_traffic(c, ["src", "src2"])
        s, t, s2, t2 = settled(c, lambda: (stats(c, "src"), stats(c, "dst"), stats(c, "src2"),
                                           stats(c, "dst2")),
                               lambda v: forwarded(v[0]) == v[1]["tx_packets"] and
                               forwarded(v[2]) == v[3]["tx_packets"])
        for a, b, name in ((s, t, "src -> dst"), (s2, t2, "src2 -> dst2")):
            check(a["drops_total"] == a["drops"]["admin_down"], "%s: drops %s" % (name, a["drops"]))
            check(b["drops_total"] == 0, "%s: dst drops %s" % (name, b["drops"]))
            check(forwarded(a) == b["tx_packets"], "%s: forwarded %d, sent %d" %
                  (name, forwarded(a), b["tx_packets"]))
        check(d.alive() and filters(c) == [], "alive, nothing attached")
        print("  300 attach/detach pairs under traffic: %d + %d frames, none lost" %
              (t["tx_packets"], t2["tx_packets"]), flush=True)


def t_bad_inputs(d):
    """Every bad object or param is refused with its reason; nothing changes on the port."""
    notelf = d.path("not_elf.o")
    with open(notelf, "w") as f:
        f.write("not an object\n")
    outside = "/tmp/ferry-filter-outside-%d.o" % os.getpid()
    subprocess.run(["cp", obj("drop_all"), outside], check=True)
    cases = [
        ({"path": obj("bad_oob")}, EINVAL, "rte_bpf verifier: evaluate: memory boundary violation"),
        ({"path": obj("bad_helper")}, EINVAL, "unknown helper 5"),
        ({"path": obj("bad_loop")}, EINVAL, "loop"),
        ({"path": obj("bad_hash")}, EINVAL, "map h: type hash is not supported (ARRAY only)"),
        ({"path": obj("bad_nosec")}, EINVAL, "no program in section \"filter\""),
        ({"path": notelf}, EINVAL, "not an ELF object file"),
        ({"path": d.path("missing.o")}, EINVAL, "no such regular file"),
        ({"path": outside}, EINVAL, "is not inside rpc.filter_dirs"),
        ({"path": "drop_all.o"}, EINVAL, "params.path: 'drop_all.o': must be an absolute path"),
        ({"path": obj("drop_all"), "hook": "middle"}, EINVAL, "params.hook"),
        ({"path": obj("drop_all"), "port": "nope"}, ENOPORT, "no port named 'nope'"),
        ({"path": obj("drop_all"), "name": "a b"}, EINVAL, "params.name"),
        ({"path": obj("drop_all"), "bogus": 1}, EINVAL, "params.bogus: unknown parameter"),
    ]
    try:
        with d.client() as c:
            before = c.result("config.get")
            for extra, code, msg in cases:
                p = {"port": "src", "hook": "ingress"}
                p.update(extra)
                c.error("filter.attach", p, code, msg)
            c.error("filter.attach", {"port": "src", "path": obj("drop_all")}, EINVAL,
                    "params.hook: missing")
            c.result("filter.attach", {"port": "src", "hook": "ingress", "path": obj("drop_all")})
            c.error("filter.attach", {"port": "src", "hook": "egress", "path": obj("count_all"),
                                      "name": "drop_all"}, EEXIST, "already has a filter")
            c.error("filter.detach", {"port": "src", "name": "nope"}, ENOENT, "no filter named")
            c.error("filter.detach", {"port": "nope", "name": "x"}, ENOPORT, "no port")
            c.error("filter.list", {"port": "nope"}, ENOPORT, "no port")
            check([f["name"] for f in filters(c)] == ["drop_all"], "only the good one attached")
            c.result("filter.detach", {"port": "src", "name": "drop_all"})
            check(c.result("config.get") == before, "config unchanged")
            # port.add with a bad filter: refused, port not added; with a good one: added
            port = {"name": "n9", "type": "dpdk", "devargs": "net_null9,no-rx=1",
                    "filters": [{"hook": "egress", "path": obj("bad_loop")}]}
            c.error("port.add", port, EINVAL, "filters[0] (bad_loop): rte_bpf verifier")
            check("n9" not in [p["name"] for p in c.result("port.list")], "n9 not added")
            port["filters"] = [{"hook": "egress", "path": outside}]
            c.error("port.add", port, EINVAL, "params.filters[0].path")
            port["filters"] = [{"hook": "egress", "path": obj("count_all"), "name": "cnt"}]
            c.result("port.add", port)
            f = one(c, "n9", "cnt")
            check(f["hook"] == "egress" and f["path"] == obj("count_all"), "port.add filter %s" % f)
            c.result("port.del", {"name": "n9"})
            check(d.alive(), "ferryd alive")
    finally:
        os.unlink(outside)


def t_config_roundtrip(d):
    """A config with filters starts; config.get keeps them; config.save writes a file that
    ferryd --check accepts, and the same with a bad filter is refused naming the JSON path."""
    pcap = d.path("in.pcap")
    cfgports = [{"name": "p0", "type": "dpdk", "devargs": "net_null0,no-rx=1",
                 "filters": [{"hook": "ingress", "path": obj("count_all"), "name": "c"},
                             {"hook": "egress", "path": obj("ipv4")}]}]
    d2 = Daemon(cfgports, rpc=lambda x: {"filter_dirs": [OBJS], "save_dir": x.dir},
                tag="filters-cfg").start()
    try:
        with d2.client() as c:
            fs = filters(c)
            check([(f["name"], f["hook"]) for f in fs] == [("c", "ingress"), ("ipv4", "egress")],
                  "config filters %s" % fs)
            got = c.result("config.get")
            check(got["ports"][0]["filters"] == [
                {"hook": "ingress", "path": obj("count_all"), "name": "c"},
                {"hook": "egress", "path": obj("ipv4"), "name": "ipv4"}],
                "config.get filters %s" % got["ports"][0].get("filters"))
            check(got["rpc"]["filter_dirs"] == [OBJS], "rpc.filter_dirs kept")
            c.result("filter.attach", {"port": "p0", "hook": "ingress", "path": obj("drop_all")})
            c.result("filter.detach", {"port": "p0", "name": "c"})
            saved = d2.path("saved.json")
            c.result("config.save", {"path": saved})
        d2.stop()   # (the saved config names d2's socket: --check refuses while it serves)
        with open(saved) as f:
            sv = json.load(f)
        check([x["name"] for x in sv["ports"][0]["filters"]] == ["ipv4", "drop_all"],
              "saved filters %s" % sv["ports"][0]["filters"])
        p = subprocess.run([FERRYD, "--check", "--config", saved], capture_output=True, text=True)
        check(p.returncode == 0, "--check of the saved config: %s" % p.stderr)
        sv["ports"][0]["filters"].append({"hook": "egress", "path": obj("bad_helper")})
        with open(saved, "w") as f:
            json.dump(sv, f)
        p = subprocess.run([FERRYD, "--check", "--config", saved], capture_output=True, text=True)
        check(p.returncode != 0 and "ports[0].filters[2]: " in p.stderr and
              "unknown helper 5" in p.stderr, "--check refuses: %s" % p.stderr.strip())
    finally:
        d2.cleanup()
    d3 = Daemon([{"name": "p0", "type": "dpdk", "devargs": "net_null0,no-rx=1",
                  "filters": [{"hook": "ingress", "path": obj("bad_oob")}]}], tag="filters-bad")
    try:
        d3.start(wait=False)
        rc = d3.proc.wait(30)
        log = d3.log()
        check(rc != 0 and "ports[0].filters[0]: " in log and "memory boundary violation" in log,
              "startup refuses the config (%d): %s" % (rc, d3.log_tail(3)))
    finally:
        d3.cleanup()
    del pcap


def t_ferryctl(d):
    rc, out, err = ferryctl(d, "filter", "attach", "src", "ingress", obj("count_all"), "cnt")
    check(rc == 0 and "filter cnt attached to src ingress" in out, "attach: %d %s %s" %
          (rc, out, err))
    rc, out, err = ferryctl(d, "filter", "list")
    lines = out.splitlines()
    check(rc == 0 and lines[0].split() == ["PORT", "HOOK", "NAME", "JIT", "PASSED", "DROPPED",
                                           "PATH"], "list header: %s" % out)
    check(lines[1].split()[:4] == ["src", "ingress", "cnt", "yes"], "list row: %s" % out)
    check(any(l.split()[:5] == ["src", "cnt", "counts", "array", "4"] for l in lines),
          "map row: %s" % out)
    rc, out, err = ferryctl(d, "filter", "list", "src", "--json")
    check(rc == 0 and json.loads(out)[0]["maps"][0]["name"] == "counts", "--json: %s" % out)
    rc, out, err = ferryctl(d, "filter", "attach", "src", "ingress", obj("bad_loop"))
    check(rc == 1 and "loop" in err, "bad attach: %d %s" % (rc, err))
    rc, out, err = ferryctl(d, "filter", "detach", "src", "cnt")
    check(rc == 0 and "filter cnt detached from src" in out, "detach: %s %s" % (out, err))
    rc, out, err = ferryctl(d, "filter", "list", "src")
    check(rc == 0 and len(out.splitlines()) == 1, "empty list: %s" % out)


def isolated(fn):
    """fn, then whatever it left behind (a failed check skips its own detach) is undone, so one
    failure does not fail the tests after it: every filter detached, the sources stopped."""
    def run(d):
        try:
            fn(d)
        finally:
            if d.alive():
                with d.client(timeout=30) as c:
                    for f in filters(c):
                        c.result("filter.detach", {"port": f["port"], "name": f["name"]})
                    stop_traffic(c, ["src", "src2"])
    return run


TESTS = [(name, isolated(fn)) for name, fn in (
    ("filter_bad_inputs", t_bad_inputs),
    ("filter_count_exact", t_count_exact),
    ("filter_ipv4_drop_udp", t_ipv4_drop_udp),
    ("filter_egress_drop_all", t_egress_drop_all),
    ("filter_swap_loop_under_traffic", t_swap_loop_under_traffic),
    ("filter_config_roundtrip", t_config_roundtrip),
    ("filter_ferryctl", t_ferryctl))]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
