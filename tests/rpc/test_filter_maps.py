#!/usr/bin/env python3
"""test_filter_maps.py — filter.map_set / filter.map_get on a real ferryd (and `ferryctl filter
map-set|map-get`), with tests/filters/maps.o ("wide": 4 entries of 24 bytes, "odd": 3 of 12 bytes)
attached to a net_null port: values written single and in batches read back exactly (filter.list
shows the same bytes); every refusal — unknown port, filter or map, index past the end, a value of
the wrong length or not hex, index and values together — has its code and a message naming the
expected size, and a batch with one bad entry writes none of its entries; a filter's configured
"maps" are written before it is attached (config file, port.add, filter.attach), config.get keeps
them as configured, and one that does not fit the object refuses the port; plugins/acl.o's rule
slot rewritten thousands of times under traffic never drops a frame neither rule matches."""

import json
import os
import socket
import struct
import time

from ferrytest import (Daemon, EINVAL, ENOENT, ENOPORT, FERRYD, check, ferryctl, mac_bytes, main,
                       wait_for, write_pcap)

BUILD = os.environ.get("BUILD") or os.path.dirname(os.path.dirname(os.path.dirname(FERRYD)))
OBJS = os.path.join(BUILD, "tests", "filters")
MAPS_O = os.path.join(OBJS, "maps.o")
ACL_O = os.path.join(BUILD, "plugins", "acl.o")
WIDE, ODD = 24, 12      # value sizes of maps.o's maps
INIT = {"wide": [{"index": 2, "value": "ab" * WIDE}], "odd": [{"index": 1, "value": "0c" * ODD}]}


def ports(d):
    return [{"name": "p0", "type": "dpdk", "devargs": "net_null0,no-rx=1",
             "filters": [{"hook": "ingress", "path": MAPS_O, "name": "m", "maps": INIT}]}]


def setup():
    check(os.path.exists(MAPS_O), "test filters not built in %s" % OBJS)
    return Daemon(ports, rpc={"filter_dirs": [OBJS]}, tag="fmaps").start()


def teardown(d):
    d.cleanup()


def value(seed, size):
    return bytes((seed + i) & 0xff for i in range(size)).hex()


def where(**kw):
    p = {"port": "p0", "name": "m", "map": "wide"}
    p.update(kw)
    return p


def entries(c, m="wide"):
    r = c.result("filter.map_get", where(map=m))
    return {e["index"]: e["value"] for e in r["values"]}


def t_config_initial(d):
    """The config's entries are there from the start; config.get gives them back as configured,
    also after the map changed."""
    with d.client() as c:
        check(entries(c)[2] == "ab" * WIDE and entries(c, "odd")[1] == "0c" * ODD,
              "configured entries: %s %s" % (entries(c), entries(c, "odd")))
        check(entries(c)[0] == "00" * WIDE, "other entries stay zero: %s" % entries(c))
        c.result("filter.map_set", where(index=2, value=value(1, WIDE)))
        f = c.result("config.get")["ports"][0]["filters"][0]
        check(f.get("maps") == INIT, "config.get keeps the configured maps: %s" % f)
        c.result("filter.map_set", where(index=2, value="ab" * WIDE))


def t_set_get(d):
    """Single and batch writes read back exactly, in both maps (8- and 4-byte words), and
    filter.list shows the same bytes."""
    with d.client() as c:
        r = c.result("filter.map_set", where(index=1, value=value(0x10, WIDE)))
        check(r == {"port": "p0", "name": "m", "map": "wide", "written": 1}, "map_set: %s" % r)
        g = c.result("filter.map_get", where(index=1))
        check(g["values"] == [{"index": 1, "value": value(0x10, WIDE)}] and
              g["value_size"] == WIDE and g["max_entries"] == 4, "map_get one: %s" % g)
        r = c.result("filter.map_set", where(values=[{"index": 0, "value": value(0x40, WIDE)},
                                                     {"index": 3, "value": value(0x80, WIDE)},
                                                     {"index": 0, "value": value(0x50, WIDE)}]))
        check(r["written"] == 3, "batch: %s" % r)
        check(entries(c) == {0: value(0x50, WIDE), 1: value(0x10, WIDE), 2: "ab" * WIDE,
                             3: value(0x80, WIDE)}, "after the batch (in order): %s" % entries(c))
        for i in range(3):   # entry 1 at byte 12: 4-byte stores; 2 at byte 24: 8, then 4
            c.result("filter.map_set", where(map="odd", index=i, value=value(0x20 * i + 1, ODD)))
        check(entries(c, "odd") == {i: value(0x20 * i + 1, ODD) for i in range(3)},
              "odd map: %s" % entries(c, "odd"))
        fl = c.result("filter.list", {"port": "p0"})[0]["maps"]
        check(fl[0]["name"] == "wide" and fl[0]["values"][3] == value(0x80, WIDE) and
              fl[1]["values"][1] == value(0x21, ODD), "filter.list shows them: %s" % fl)
        c.result("filter.map_set", where(values=[{"index": 2, "value": value(0x60, WIDE).upper()}]))
        check(entries(c)[2] == value(0x60, WIDE), "upper-case hex accepted, read back in lower")
        c.result("filter.map_set", where(index=2, value="ab" * WIDE))


def t_errors(d):
    """Codes and messages; a batch with one bad entry writes nothing."""
    with d.client() as c:
        before = entries(c)
        c.error("filter.map_set", where(port="nope", index=0, value=value(0, WIDE)), ENOPORT,
                "no port named 'nope'")
        c.error("filter.map_get", where(name="nope"), ENOENT, "no filter named 'nope'")
        c.error("filter.map_set", where(map="nope", index=0, value=value(0, WIDE)), ENOENT,
                "no map named 'nope'")
        c.error("filter.map_get", where(map="nope"), ENOENT, "no map named 'nope'")
        c.error("filter.map_set", where(index=4, value=value(0, WIDE)), EINVAL, "4 entries")
        c.error("filter.map_get", where(index=4), EINVAL, "4 entries")
        c.error("filter.map_set", where(index=0, value=value(0, WIDE - 1)), EINVAL,
                "values are 24 bytes (48 hex digits)")
        c.error("filter.map_set", where(index=0, value=value(0, WIDE + 1)), EINVAL,
                "values are 24 bytes")
        c.error("filter.map_set", where(index=0, value="zz" * WIDE), EINVAL, "hex digits")
        c.error("filter.map_set", where(index=0, value="abc"), EINVAL, "even number")
        c.error("filter.map_set", where(index=-1, value=value(0, WIDE)), EINVAL, "params.index")
        c.error("filter.map_set", where(index=0), EINVAL, "params.value: missing")
        c.error("filter.map_set", where(), EINVAL, "params.index: missing")
        c.error("filter.map_set", where(index=0, value=value(0, WIDE), values=[]), EINVAL,
                "not both")
        c.error("filter.map_set", where(values=[]), EINVAL, "params.values")
        c.error("filter.map_set", where(index=0, value=value(0, WIDE), extra=1), EINVAL, "extra")
        for bad in ({"index": 9, "value": value(0, WIDE)}, {"index": 1, "value": value(0, 8)},
                    {"index": 1}, {"index": 1, "value": value(0, WIDE), "x": 1}, 7):
            batch = [{"index": 0, "value": value(0x70, WIDE)}, bad,
                     {"index": 3, "value": value(0x71, WIDE)}]
            c.error("filter.map_set", where(values=batch), EINVAL, "params.values[1]")
            check(entries(c) == before, "a batch with a bad entry (%s) wrote: %s" %
                  (bad, entries(c)))


def t_config_refused(d):
    """Configured maps that do not fit the object refuse the port (port.add, filter.attach); the
    syntax is checked when the config is parsed."""
    base = {"name": "p1", "type": "dpdk", "devargs": "net_null1,no-rx=1"}

    def port(maps):
        return dict(base, filters=[{"hook": "ingress", "path": MAPS_O, "name": "m",
                                    "maps": maps}])
    with d.client() as c:
        c.error("port.add", port({"nope": [{"index": 0, "value": "00"}]}), EINVAL,
                "maps.nope: the filter has no map of that name")
        c.error("port.add", port({"wide": [{"index": 0, "value": "00"}]}), EINVAL,
                "maps.wide[0].value: 1 bytes; map wide's values are 24 bytes")
        c.error("port.add", port({"odd": [{"index": 0, "value": "00" * ODD},
                                          {"index": 3, "value": "00" * ODD}]}), EINVAL,
                "maps.odd[1].index: 3 is past the end of map odd")
        c.error("port.add", port({"odd": [{"index": 0, "value": "0"}]}), EINVAL,
                "params.filters[0].maps.odd[0].value: must be an even number")
        c.error("port.add", port([]), EINVAL, "params.filters[0].maps: must be an object")
        check(all(p["name"] != "p1" for p in c.result("port.list")), "p1 was not added")
        c.result("port.add", port({"odd": [{"index": 2, "value": "11" * ODD}]}))
        g = c.result("filter.map_get", {"port": "p1", "name": "m", "map": "odd"})
        check([e["value"] for e in g["values"]] == ["00" * ODD, "00" * ODD, "11" * ODD],
              "port.add's filter maps: %s" % g)
        c.result("filter.attach", {"port": "p1", "hook": "egress", "path": MAPS_O, "name": "m2",
                                   "maps": {"wide": [{"index": 3, "value": "22" * WIDE}]}})
        g = c.result("filter.map_get", {"port": "p1", "name": "m2", "map": "wide", "index": 3})
        check(g["values"] == [{"index": 3, "value": "22" * WIDE}], "filter.attach maps: %s" % g)
        c.error("filter.attach", {"port": "p1", "hook": "egress", "path": MAPS_O, "name": "m3",
                                  "maps": {"wide": [{"index": 4, "value": "22" * WIDE}]}},
                EINVAL, "past the end")
        check([f["name"] for f in c.result("filter.list", {"port": "p1"})] == ["m", "m2"],
              "a refused attach attached nothing")
        c.result("port.del", {"name": "p1"})


def t_ferryctl(d):
    rc, out, err = ferryctl(d, "filter", "map-set", "p0", "m", "wide", "1", value(0x33, WIDE))
    check(rc == 0 and "m: entry 1 of map wide written" in out, "map-set: %d %s %s" %
          (rc, out, err))
    rc, out, err = ferryctl(d, "filter", "map-get", "p0", "m", "wide")
    lines = out.splitlines()
    check(rc == 0 and lines[0].split() == ["INDEX", "VALUE"] and len(lines) == 5 and
          lines[2].split() == ["1", value(0x33, WIDE)], "map-get table: %s" % out)
    rc, out, err = ferryctl(d, "filter", "map-get", "p0", "m", "wide", "1", "--json")
    check(rc == 0 and json.loads(out)["values"] == [{"index": 1, "value": value(0x33, WIDE)}],
          "map-get --json: %s" % out)
    rc, out, err = ferryctl(d, "filter", "map-set", "p0", "m", "wide", "9", value(0, WIDE))
    check(rc == 1 and "4 entries" in err, "index past the end: %d %s" % (rc, err))
    rc, out, err = ferryctl(d, "filter", "map-set", "p0", "m", "wide", "x", value(0, WIDE))
    check(rc == 2 and "INDEX" in err, "bad INDEX: %d %s" % (rc, err))
    rc, out, err = ferryctl(d, "filter", "map-get", "p0", "m", "nope")
    check(rc == 1 and "no map named 'nope'" in err, "unknown map: %d %s" % (rc, err))


def acl_rule(proto, dport, enabled):
    """plugins/acl.c's rule (plugins/README.md): IPv4 to 10.0.0.0/8, proto, dport, drop."""
    dst = socket.inet_aton("10.0.0.0").ljust(16, b"\0")
    return (bytes(8) + bytes(16) + dst + struct.pack("!BBBBHHHH4x", 0, 8, 4, proto, 0, 65535,
                                                     dport, dport) +
            struct.pack("B6xB", 0, enabled)).hex()


def t_acl_no_torn_rule(d):
    """A rule slot of plugins/acl.o flips between "drop UDP to port 53" and "drop TCP to port 80"
    (each written whole with enabled 1 over the disabled other, then disabled) while UDP frames to
    port 80 flow: they match neither rule, only a mix of the two (UDP from one, port 80 from the
    other word), which a PMD would see if a rule became enabled before its other words landed.
    A guard against gross tearing and wrong matches only: the window a wrong store order opens is
    a few ns, which ~17 000 writes under ~1 Mpps do not reliably hit (lib/filter/README.md)."""
    check(os.path.exists(ACL_O), "plugins not built: %s" % ACL_O)
    src, dst = "02:00:00:00:01:01", "02:00:00:00:02:02"
    udp80 = (mac_bytes(dst) + mac_bytes(src) + b"\x08\x00" +
             struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0, socket.inet_aton("1.2.3.4"),
                         socket.inet_aton("10.1.1.1")) + struct.pack("!HHHH", 999, 80, 8, 0))
    rules = {"rules": [{"index": 0, "value": acl_rule(17, 53, 0)}]}

    def ports(x):
        write_pcap(x.path("in.pcap"), [udp80 + bytes(18)] * 64)
        return [{"name": "src", "type": "dpdk",
                 "devargs": "net_pcap0,rx_pcap=%s,infinite_rx=1" % x.path("in.pcap"),
                 "filters": [{"hook": "ingress", "path": ACL_O, "name": "acl", "maps": rules}]},
                {"name": "dst", "type": "dpdk", "devargs": "net_null0,no-rx=1"}]
    d2 = Daemon(ports, tag="fmaps-acl").start()
    try:
        with d2.client() as c:
            c.result("fdb.add", {"mac": dst, "vlan": 0, "port": "dst"})
            at = {"port": "src", "name": "acl", "map": "rules", "index": 0}
            acl = lambda: c.result("filter.list", {"port": "src"})[0]
            wait_for(lambda: acl()["passed"] > 10000, what="traffic through the acl")
            flips, end = 0, time.monotonic() + 4
            while time.monotonic() < end:
                for proto, dport in ((6, 80), (17, 53)):
                    c.result("filter.map_set", dict(at, value=acl_rule(proto, dport, 1)))
                    c.result("filter.map_set", dict(at, value=acl_rule(proto, dport, 0)))
                flips += 2
            f = acl()
            check(f["dropped"] == 0, "%d of %d frames dropped: a torn rule, or a wrong match (%d "
                  "rules written)" %
                  (f["dropped"], f["passed"] + f["dropped"], flips))
            check(f["passed"] > 100000, "too little traffic: %d frames" % f["passed"])
    finally:
        d2.cleanup()


TESTS = [("filter_maps_config_initial", t_config_initial),
         ("filter_maps_set_get", t_set_get),
         ("filter_maps_errors", t_errors),
         ("filter_maps_config_refused", t_config_refused),
         ("filter_maps_ferryctl", t_ferryctl),
         ("filter_maps_acl_no_torn_rule", t_acl_no_torn_rule)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
