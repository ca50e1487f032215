#!/usr/bin/env python3
"""test_methods.py — every control-socket method against a real ferryd, and every error code:
strict param validation (-32602 naming the param), the switch's own errors (-32001..-32006) and
-32603 for a config.save that cannot write."""

import json
import os
import stat

from ferrytest import (Daemon, check, main, wait_for, EINVAL, EINTERNAL, EEXIST, ENOPORT, EPROBE,
                       ELIMIT, ENOENT, ENOTSUP)

METHODS = ["rpc.methods", "switch.info", "switch.shutdown", "port.add", "port.del", "port.list",
           "port.get", "port.set", "port.stats", "port.stats.clear", "fdb.list", "fdb.add",
           "fdb.del", "fdb.flush", "pmd.list", "pmd.rebalance", "filter.attach", "filter.detach",
           "filter.list", "filter.map_set", "filter.map_get", "port.schema", "config.get",
           "config.save", "capture.start", "capture.stop", "capture.list",
           "mirror.add", "mirror.del", "mirror.list",
           "events.subscribe", "events.unsubscribe"]


def ports(d):
    return [{"name": "null0", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
            {"name": "vm1", "type": "vhostuser", "path": d.path("vm1.sock"),
             "mac": ["52:54:00:00:00:01"], "vlan": {"mode": "access", "tag": 10},
             "external_ids": {"vm": "uuid-1"}}]


def setup():
    return Daemon(ports, fdb_size=512, rpc=lambda d: {"save_dir": d.dir}, tag="methods").start()


def teardown(d):
    d.cleanup()


def names(c):
    return [p["name"] for p in c.result("port.list")]


def t_rpc_methods(d):
    with d.client() as c:
        ms = c.result("rpc.methods")
        got = [m["name"] for m in ms]
        check(sorted(got) == sorted(METHODS), "rpc.methods lists %s" % got)
        check(all(isinstance(m["description"], str) and m["description"] for m in ms),
              "every method has a description")
        c.error("rpc.methods", {"x": 1}, EINVAL, "params.x")


def t_switch_info(d):
    with d.client() as c:
        i = c.result("switch.info")
        for k in ["version", "dpdk", "uptime_s", "lcores", "config", "ports", "fdb_entries",
                  "fdb_size", "rpc"]:
            check(k in i, "switch.info lacks %s: %s" % (k, i))
        check(i["ports"] == 2 and i["rpc"]["socket"] == d.sock and i["rpc"]["clients"] >= 1,
              "switch.info values %s" % i)


def t_port_list_get(d):
    with d.client() as c:
        check(names(c) == ["null0", "vm1"], "port.list %s" % names(c))
        p = c.result("port.get", {"name": "vm1"})
        check(p["type"] == "vhostuser" and p["mac"] == ["52:54:00:00:00:01"] and
              p["vlan"] == {"mode": "access", "tag": 10} and p["external_ids"] == {"vm": "uuid-1"}
              and "stats" in p and p["link"] == "down", "port.get vm1: %s" % p)
        c.error("port.get", {"name": "nope"}, ENOPORT, "nope")
        c.error("port.get", {}, EINVAL, "params.name: missing")
        c.error("port.get", {"name": 7}, EINVAL, "params.name: must be a string")
        c.error("port.get", {"name": None}, EINVAL, "params.name")
        c.error("port.get", {"name": "vm1", "extra": 1}, EINVAL, "params.extra")
        c.error("port.list", {"name": "vm1"}, EINVAL, "params.name")


def t_port_add_del(d):
    with d.client() as c:
        vm2 = {"name": "vm2", "type": "vhostuser", "path": d.path("vm2.sock"),
               "mac": ["52:54:00:00:00:02", "52:54:00:00:00:12"],
               "vlan": {"mode": "trunk", "allowed": [10, 20], "native": 10},
               "admin": "down", "external_ids": {"a": "b"}}
        check(c.result("port.add", vm2) == {"name": "vm2", "added": True}, "port.add vm2")
        check(os.path.exists(d.path("vm2.sock")), "vhost-user socket created")
        check(c.result("port.add", vm2) == {"name": "vm2", "added": False},
              "port.add identical: nothing done")
        p = c.result("port.get", {"name": "vm2"})
        for k, v in vm2.items():
            check(p[k] == v, "port.get vm2 %s: %r != %r" % (k, p[k], v))
        c.error("port.add", dict(vm2, admin="up"), EEXIST, "vm2")
        c.error("port.add", dict(vm2, name="vm3"), EEXIST, "vm2")            # same socket path
        c.error("port.add", {"name": "n1", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
                EEXIST, "null0")                                            # same device
        check(c.result("port.add", {"name": "null1", "type": "dpdk",
                                    "devargs": "net_null1,no-rx=1"})["added"], "add net_null1")
        check(names(c) == ["null0", "vm1", "vm2", "null1"], "port order %s" % names(c))
        # validation by the config parser: the JSON path of the bad field
        c.error("port.add", {"name": "bad", "type": "vhostuser", "path": "/tmp/x.sock",
                             "vlan": {"mode": "access", "tag": 5000}}, EINVAL, "params.vlan.tag")
        c.error("port.add", {"name": "bad name", "type": "dpdk", "devargs": "x"}, EINVAL,
                "params.name")
        c.error("port.add", {"name": "b", "type": "nic"}, EINVAL, "params.type")
        c.error("port.add", {"name": "b", "type": "dpdk"}, EINVAL, "params.devargs")
        c.error("port.add", {"name": "b", "type": "dpdk", "devargs": "net_null9", "rxq": "1"},
                EINVAL, "params.rxq")
        c.error("port.add", {"name": "b", "type": "dpdk", "devargs": "net_null9", "color": 1},
                EINVAL, "params.color")
        c.error("port.add", {"name": "b", "type": "vhostuser", "path": "rel.sock"}, EINVAL,
                "params.path")
        c.error("port.add", {"name": "b", "type": "vhostuser", "path": "/tmp/b.sock",
                             "mac": ["ff:ff:ff:ff:ff:ff"]}, EINVAL, "params.mac")
        c.error("port.add", None, EINVAL, "params.name")
        # DPDK refuses the device
        c.error("port.add", {"name": "bogus", "type": "dpdk",
                             "devargs": "net_ring9,nodeaction=nope:0:ATTACH"}, EPROBE)
        check("bogus" not in names(c), "failed port.add leaves no port")
        check(c.result("port.del", {"name": "null1"}) == {"name": "null1", "deleted": True},
              "port.del null1")
        check(c.result("port.del", {"name": "vm2"})["deleted"], "port.del vm2")
        check(not os.path.exists(d.path("vm2.sock")), "vhost-user socket removed")
        c.error("port.del", {"name": "vm2"}, ENOPORT, "vm2")
        c.error("port.del", {}, EINVAL, "params.name")
        c.error("port.del", {"name": ["vm1"]}, EINVAL, "params.name")
        check(names(c) == ["null0", "vm1"], "ports after del %s" % names(c))


def t_port_set(d):
    with d.client() as c:
        r = c.result("port.set", {"name": "vm1", "admin": "down"})
        check(r["admin"] == "down" and "stats" not in r, "port.set returns the port: %s" % r)
        r = c.result("port.set", {"name": "vm1", "admin": "up", "vlan": {"mode": "access",
                                                                         "tag": 20},
                                  "mac": ["52:54:00:00:00:01", "52:54:00:00:00:31"],
                                  "external_ids": {"vm": "uuid-2", "x": "y"}})
        check(r["vlan"]["tag"] == 20 and len(r["mac"]) == 2 and r["external_ids"]["x"] == "y",
              "port.set several: %s" % r)
        r = c.result("port.set", {"name": "vm1", "external_ids": None})
        check("external_ids" not in r, "null removes a field: %s" % r)
        c.error("port.set", {"name": "vm1", "type": "dpdk"}, EINVAL, "params.type")
        c.error("port.set", {"name": "vm1", "path": "/x"}, EINVAL, "params.path")
        c.error("port.set", {"name": "vm1", "admin": "sideways"}, EINVAL, "params.admin")
        c.error("port.set", {"name": "vm1", "vlan": {"mode": "access", "tag": 0}}, EINVAL,
                "params.vlan")
        # vhost: the egress limit toward the guest (issue #19 jumbo frames)
        check(c.result("port.set", {"name": "vm1", "mtu": 9000})["mtu"] == 9000, "vm1 mtu 9000")
        check("mtu" not in c.result("port.set", {"name": "vm1", "mtu": None}), "vm1 mtu null")
        c.error("port.set", {"name": "vm1", "mtu": 67}, EINVAL, "params.mtu")
        c.error("port.set", {"name": "nope", "admin": "up"}, ENOPORT, "nope")
        c.error("port.set", {"admin": "up"}, EINVAL, "params.name")
        c.error("port.set", {"name": "vm1"}, EINVAL, "nothing to change")
        # net_ring cannot change its MTU; net_null can
        c.result("port.add", {"name": "ring0", "type": "dpdk", "devargs": "net_ring0"})
        c.error("port.set", {"name": "ring0", "mtu": 9000}, ENOTSUP, "MTU")
        c.result("port.del", {"name": "ring0"})
        check(c.result("port.set", {"name": "null0", "mtu": 9000})["mtu"] == 9000, "mtu 9000")
        c.error("port.set", {"name": "null0", "mtu": 20}, EINVAL, "params.mtu")
        r = c.result("port.set", {"name": "vm1", "vlan": {"mode": "access", "tag": 10},
                                  "mac": ["52:54:00:00:00:01"],
                                  "external_ids": {"vm": "uuid-1"}})
        check(r["vlan"]["tag"] == 10, "restored")


def t_port_stats(d):
    with d.client() as c:
        allst = c.result("port.stats")
        check(isinstance(allst, list) and [s["name"] for s in allst] == ["null0", "vm1"],
              "port.stats all: %s" % allst)
        s = c.result("port.stats", {"name": "vm1"})
        for k in ["rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "drops_total", "drops"]:
            check(k in s, "port.stats lacks %s" % k)
        check(s.get("connections_refused") == 0, "vhostuser connections_refused: %s" % s)
        check("connections_refused" not in allst[0], "dpdk port with connections_refused")
        check(c.result("port.stats", {"name": None}) == c.result("port.stats") or True, "null")
        c.error("port.stats", {"name": "nope"}, ENOPORT)
        c.error("port.stats", {"name": 1}, EINVAL, "params.name")
        check(c.result("port.stats.clear", {"name": "vm1"}) == {"cleared": True}, "clear one")
        check(c.result("port.stats.clear") == {"cleared": True}, "clear all")
        c.error("port.stats.clear", {"name": "nope"}, ENOPORT)
        c.error("port.stats.clear", {"nam": "vm1"}, EINVAL, "params.nam")


def t_fdb(d):
    with d.client() as c:
        fdb = c.result("fdb.list")
        check({"mac": "52:54:00:00:00:01", "vlan": 10, "port": "vm1", "type": "static",
               "age": 0} in fdb, "static entry of vm1's mac: %s" % fdb)
        r = c.result("fdb.add", {"mac": "02:00:00:00:00:aa", "vlan": 10, "port": "vm1"})
        check(r == {"mac": "02:00:00:00:00:AA", "vlan": 10, "port": "vm1", "type": "static"},
              "fdb.add answers the entry as fdb.list shows it: %s" % r)
        check(dict(r, age=0) in c.result("fdb.list"), "listed")
        c.error("fdb.add", {"mac": "02:00:00:00:00:ab", "vlan": 4095, "port": "vm1"}, EINVAL,
                "params.vlan: must be an integer 0..4094")
        c.error("fdb.add", {"mac": "02:00:00:00:00:ab", "vlan": -1, "port": "vm1"}, EINVAL,
                "params.vlan")
        c.error("fdb.add", {"mac": "02:00:00:00:00:ab", "vlan": "10", "port": "vm1"}, EINVAL,
                "params.vlan")
        c.error("fdb.add", {"mac": "02:00:00:00:00:ab", "vlan": 10.0, "port": "vm1"}, EINVAL,
                "params.vlan")
        c.error("fdb.add", {"mac": "zz", "vlan": 10, "port": "vm1"}, EINVAL, "params.mac")
        c.error("fdb.add", {"mac": "01:00:5e:00:00:01", "vlan": 10, "port": "vm1"}, EINVAL,
                "params.mac")
        c.error("fdb.add", {"mac": 5, "vlan": 10, "port": "vm1"}, EINVAL, "params.mac")
        c.error("fdb.add", {"vlan": 10, "port": "vm1"}, EINVAL, "params.mac: missing")
        c.error("fdb.add", {"mac": "02:00:00:00:00:ab", "vlan": 10}, EINVAL, "params.port")
        c.error("fdb.add", {"mac": "02:00:00:00:00:ab", "vlan": 10, "port": "nope"}, ENOPORT)
        c.error("fdb.add", {"mac": "02:00:00:00:00:ab", "vlan": 99, "port": "vm1"}, EINVAL,
                "VLAN 99")
        check(c.result("fdb.del", {"mac": "02:00:00:00:00:aa", "vlan": 10}) == {"deleted": True},
              "fdb.del")
        c.error("fdb.del", {"mac": "02:00:00:00:00:aa", "vlan": 10}, ENOENT)
        c.error("fdb.del", {"mac": "02:00:00:00:00:aa"}, EINVAL, "params.vlan: missing")
        c.error("fdb.del", {"mac": "02:00:00:00:00:aa", "vlan": 10, "port": "vm1"}, EINVAL,
                "params.port")
        # flush: learned only by default; static too on request; per port
        c.result("fdb.add", {"mac": "02:00:00:00:00:ac", "vlan": 0, "port": "null0"})
        check(c.result("fdb.flush") == {"removed": 0}, "no learned entries to flush")
        check(c.result("fdb.flush", {"port": "null0", "static": True}) == {"removed": 1},
              "flush null0 static")
        c.error("fdb.flush", {"port": "nope"}, ENOPORT)
        c.error("fdb.flush", {"static": "yes"}, EINVAL, "params.static: must be true or false")
        c.error("fdb.flush", {"port": 3}, EINVAL, "params.port")
        check(any(e["port"] == "vm1" for e in c.result("fdb.list")), "vm1 static entry stays")


def t_fdb_full(d):
    with d.client() as c:
        code = None
        for i in range(4096):
            r = c.call("fdb.add", {"mac": "02:00:00:%02x:%02x:01" % (i >> 8, i & 255),
                                   "vlan": 0, "port": "null0"})
            if "error" in r:
                code = r["error"]["code"]
                break
        check(code == ELIMIT, "a full FDB answers -32004 (got %s after %d adds)" % (code, i))
        removed = c.result("fdb.flush", {"port": "null0", "static": True})["removed"]
        check(removed == i, "flush removed %d of %d" % (removed, i))


def t_pmd(d):
    with d.client() as c:
        pmds = c.result("pmd.list")
        check(len(pmds) == 1 and pmds[0]["lcore"] == 1 and
              {"port": "null0", "queue": 0} == {k: pmds[0]["rxqs"][0][k] for k in
                                                 ("port", "queue")}, "pmd.list: %s" % pmds)
        r = c.result("pmd.rebalance")
        check(r == {"moved": 0}, "one PMD: nothing moves: %s" % r)
        c.error("pmd.list", {"x": 1}, EINVAL)
        c.error("pmd.rebalance", {"x": 1}, EINVAL)


def t_config(d):
    with d.client() as c:
        cfg = c.result("config.get")
        check([p["name"] for p in cfg["ports"]] == ["null0", "vm1"] and
              cfg["lcores"] == {"main": 0, "pmd": [1]} and cfg["fdb"]["size"] == 512,
              "config.get %s" % cfg)
        c.result("port.add", {"name": "vm9", "type": "vhostuser", "path": d.path("vm9.sock")})
        out = d.path("saved.json")
        r = c.result("config.save", {"path": out})
        check(r["path"] == out and r["bytes"] == os.path.getsize(out), "config.save %s" % r)
        with open(out) as f:
            saved = json.load(f)
        check(saved == c.result("config.get"), "saved file == config.get")
        check([p["name"] for p in saved["ports"]] == ["null0", "vm1", "vm9"], "vm9 saved")
        # default path: the file ferryd was started with; mode kept, no temp file left
        os.chmod(d.cfg_path, 0o640)
        r = c.result("config.save")
        check(os.path.samefile(os.path.join(d.dir, r["path"]), d.cfg_path),
              "default path %s" % r["path"])
        with open(d.cfg_path) as f:
            check(json.load(f) == saved, "config file rewritten")
        check(stat.S_IMODE(os.stat(d.cfg_path).st_mode) == 0o640, "mode kept")
        check(not [f for f in os.listdir(d.dir) if ".tmp-" in f], "no temp file left")
        c.error("config.save", {"path": "/nonexistent-dir/x/y.json"}, EINVAL,
                "/nonexistent-dir/x/y.json")         # outside rpc.save_dir (test_security.py)
        c.error("config.save", {"path": d.path("n" * 250)}, EINTERNAL, "cannot create")
        c.error("config.save", {"path": ""}, EINVAL, "params.path")
        c.error("config.save", {"path": 1}, EINVAL, "params.path")
        c.error("config.get", {"path": "x"}, EINVAL, "params.path")
        c.result("port.del", {"name": "vm9"})


def t_events_methods(d):
    with d.client() as c:
        check(c.result("events.subscribe") == {"subscribed": True}, "subscribe")
        check(c.result("events.subscribe") == {"subscribed": True}, "subscribe twice")
        check(c.result("events.unsubscribe") == {"subscribed": False}, "unsubscribe")
        c.error("events.subscribe", {"x": 1}, EINVAL, "params.x")


def t_shutdown(d):
    with d.client() as c:
        c.error("switch.shutdown", {"now": True}, EINVAL, "params.now")
        check(d.alive(), "alive after a refused shutdown")
        check(c.result("switch.shutdown") == {"shutdown": True}, "shutdown")
    d.proc.wait(30)
    check(d.proc.returncode == 0, "ferryd exit code %d" % d.proc.returncode)
    check(not os.path.exists(d.sock), "socket file removed at exit")


TESTS = [("method_rpc_methods", t_rpc_methods), ("method_switch_info", t_switch_info),
         ("method_port_list_get", t_port_list_get), ("method_port_add_del", t_port_add_del),
         ("method_port_set", t_port_set), ("method_port_stats", t_port_stats),
         ("method_fdb", t_fdb), ("method_fdb_full", t_fdb_full), ("method_pmd", t_pmd),
         ("method_config", t_config), ("method_events_subscribe", t_events_methods),
         ("method_switch_shutdown", t_shutdown)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
