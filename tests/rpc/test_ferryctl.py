#!/usr/bin/env python3
"""test_ferryctl.py — the ferryctl CLI against a real ferryd: every command, table and --json
output, the key=value / vlan= syntax, exit codes (0 ok, 1 ferryd error, 2 usage, 3 unreachable)
and its error messages."""

import json
import os
import re
import socket
import subprocess

from ferrytest import Daemon, FERRYCTL, check, main, ferryctl


def ports(d):
    return [{"name": "null0", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
            {"name": "vm1", "type": "vhostuser", "path": d.path("vm1.sock"),
             "mac": ["52:54:00:00:00:01"], "vlan": {"mode": "access", "tag": 10}}]


def setup():
    return Daemon(ports, rpc=lambda d: {"save_dir": d.dir}, tag="ctl").start()


def teardown(d):
    d.cleanup()


def ok(d, *args):
    rc, out, err = ferryctl(d, *args)
    check(rc == 0, "ferryctl %s: exit %d, stderr %r" % (" ".join(args), rc, err))
    return out


def fails(d, code, *args, stderr_has=None):
    rc, out, err = ferryctl(d, *args)
    check(rc == code, "ferryctl %s: exit %d (want %d), stderr %r" % (" ".join(args), rc, code,
                                                                     err))
    if stderr_has is not None:
        check(stderr_has in err, "ferryctl %s: stderr %r lacks %r" % (" ".join(args), err,
                                                                     stderr_has))
    return err


def table(out):
    lines = out.rstrip("\n").split("\n")
    head = lines[0].split()
    return head, [re.split(r"\s{2,}", ln.strip()) for ln in lines[1:]]


def t_help_and_usage(d):
    p = subprocess.run([FERRYCTL, "--help"], capture_output=True, text=True)
    check(p.returncode == 0, "--help exit %d" % p.returncode)
    for cmd in ["port add", "port del", "port list", "port show", "port set", "port stats",
                "port stats-clear", "fdb list", "fdb add", "fdb del", "fdb flush", "pmd list",
                "pmd rebalance", "filter attach", "filter detach", "filter list", "switch info", "switch shutdown", "config get", "config save",
                "events", "call METHOD"]:
        check(("  " + cmd) in p.stdout, "--help lacks %r" % cmd)
    p = subprocess.run([FERRYCTL, "--version"], capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout.startswith("ferryctl "), "--version")
    p = subprocess.run([FERRYCTL], capture_output=True, text=True)
    check(p.returncode == 2 and "Usage" in p.stderr, "no command: usage on stderr, exit 2")
    fails(d, 2, "bogus", stderr_has="unknown command 'bogus'")
    fails(d, 2, "port", stderr_has="expected one of: add, del")
    fails(d, 2, "port", "frobnicate", stderr_has="expected one of")
    fails(d, 2, "port", "del", stderr_has="usage: ferryctl port del NAME")
    fails(d, 2, "port", "del", "a", "b", stderr_has="usage")
    fails(d, 2, "port", "add", "x", "novalue", stderr_has="key=value")
    fails(d, 2, "port", "add", "x", "vlan=trunk:10,abc", stderr_has="vlan")
    fails(d, 2, "fdb", "add", "02:00:00:00:00:01", "ten", "vm1", stderr_has="VLAN")
    fails(d, 2, "call", "switch.info", "{bad", stderr_has="not JSON")
    ldd = subprocess.run(["ldd", FERRYCTL], capture_output=True, text=True).stdout
    check("librte_" not in ldd and "libjansson" in ldd, "ferryctl links jansson, not DPDK")


def t_unreachable(d):
    err = fails(d.path("nobody.sock"), 3, "port", "list")
    check("cannot connect to" in err and "No such file" in err, "message: %r" % err)
    # a socket file nobody listens on
    s = socket.socket(socket.AF_UNIX)
    s.bind(d.path("dead.sock"))
    s.close()
    err = fails(d.path("dead.sock"), 3, "switch", "info")
    check("Connection refused" in err, "message: %r" % err)
    env = dict(os.environ, FERRY_SOCKET=d.sock)
    p = subprocess.run([FERRYCTL, "switch", "info"], capture_output=True, text=True, env=env)
    check(p.returncode == 0 and "version:" in p.stdout, "$FERRY_SOCKET selects the socket")


def t_port_commands(d):
    out = ok(d, "port", "add", "vm2", "type=vhostuser", "path=" + d.path("vm2.sock"),
             "mac=52:54:00:00:00:02", "mac=52:54:00:00:00:22", "vlan=trunk:10,20-22/native=10",
             "external_ids.vm=abc", "admin=down")
    check(out == "port vm2 added\n", "port add: %r" % out)
    out = ok(d, "port", "add", "vm2", "type=vhostuser", "path=" + d.path("vm2.sock"),
             "mac=52:54:00:00:00:02", "mac=52:54:00:00:00:22", "vlan=trunk:10,20-22/native=10",
             "external_ids.vm=abc", "admin=down")
    check("nothing done" in out, "identical port add: %r" % out)
    p = json.loads(ok(d, "--json", "port", "show", "vm2"))
    check(p["vlan"] == {"mode": "trunk", "allowed": [10, 20, 21, 22], "native": 10} and
          p["mac"] == ["52:54:00:00:00:02", "52:54:00:00:00:22"] and
          p["external_ids"] == {"vm": "abc"} and p["admin"] == "down", "vm2: %s" % p)
    ok(d, "port", "add", "n1", "type=dpdk", "devargs=net_null1,no-rx=1", "rxq=1", "vlan=7")
    p = json.loads(ok(d, "port", "show", "n1", "--json"))     # --json after the command too
    check(p["rxq"] == 1 and p["vlan"] == {"mode": "access", "tag": 7}, "n1: %s" % p)
    head, rows = table(ok(d, "port", "list"))
    check(head == ["NAME", "TYPE", "ADMIN", "LINK", "VLAN", "MAC", "DEVICE"], "head %s" % head)
    byname = {r[0]: r for r in rows}
    check(set(byname) == {"null0", "vm1", "vm2", "n1"}, "port list rows %s" % rows)
    check(byname["vm2"][1:6] == ["vhostuser", "down", "down", "trunk:10,20,21,22/native=10",
                                 "52:54:00:00:00:02,52:54:00:00:00:22"], "vm2 row %s" %
          byname["vm2"])
    check(byname["vm1"][4] == "access:10" and byname["null0"][4] == "all", "vlan column")
    check(byname["n1"][6] == "net_null1,no-rx=1", "device column %s" % byname["n1"])
    out = ok(d, "port", "show", "vm2")
    for want in ["name:", "vm2", "vlan:", "trunk:10,20,21,22/native=10", "external_ids:",
                 "vm=abc", "RX_PACKETS", "drops: none"]:
        check(want in out, "port show lacks %r: %s" % (want, out))
    out = ok(d, "port", "set", "vm2", "admin=up", "vlan=default", "mac=",
             "external_ids.x=1")
    check(re.search(r"admin:\s+up", out), "port set output %r" % out)
    p = json.loads(ok(d, "--json", "port", "show", "vm2"))
    check("vlan" not in p and "mac" not in p and p["external_ids"] == {"x": "1"},
          "port set removed fields: %s" % p)
    err = fails(d, 1, "port", "set", "vm2", "type=dpdk", stderr_has="params.type")
    check("(code -32602)" in err, "code in message: %r" % err)
    fails(d, 1, "port", "set", "nope", "admin=up", stderr_has="(code -32002)")
    fails(d, 1, "port", "add", "vm3", "type=vhostuser", "path=" + d.path("vm2.sock"),
          stderr_has="(code -32001)")
    fails(d, 1, "port", "add", "bad", "type=dpdk", "devargs=net_ring9,nodeaction=nope:0:ATTACH",
          stderr_has="(code -32003)")
    check(ok(d, "port", "del", "vm2") == "port vm2 deleted\n", "port del")
    ok(d, "port", "del", "n1")
    fails(d, 1, "port", "del", "vm2", stderr_has="no port named 'vm2' (code -32002)")


def t_stats_commands(d):
    head, rows = table(ok(d, "port", "stats"))
    check(head == ["NAME", "RX_PACKETS", "RX_BYTES", "TX_PACKETS", "TX_BYTES", "DROPS"] and
          [r[0] for r in rows] == ["null0", "vm1"], "port stats %s %s" % (head, rows))
    out = ok(d, "port", "stats", "vm1")
    check("drops:" in out and "connections refused: 0\n" in out and
          "zero-copy: no_guest (auto)," in out and out.count("\n") == 7,
          "one port's stats: %r" % out)
    s = json.loads(ok(d, "--json", "port", "stats", "vm1"))
    check(s["name"] == "vm1" and "rx_packets" in s, "--json stats")
    check(ok(d, "port", "stats-clear") == "counters cleared\n", "stats-clear")
    ok(d, "port", "stats-clear", "vm1")
    fails(d, 1, "port", "stats", "nope", stderr_has="-32002")


def t_fdb_commands(d):
    check(ok(d, "fdb", "add", "02:00:00:00:00:0a", "10", "vm1") == "fdb entry added\n", "add")
    head, rows = table(ok(d, "fdb", "list"))
    check(head == ["MAC", "VLAN", "PORT", "TYPE", "AGE"], "fdb head %s" % head)
    check(["02:00:00:00:00:0A", "10", "vm1", "static", "-"] in rows, "fdb rows %s" % rows)
    fails(d, 1, "fdb", "add", "02:00:00:00:00:0b", "5000", "vm1",
          stderr_has="params.vlan: must be an integer 0..4094 (code -32602)")
    fails(d, 1, "fdb", "add", "02:00:00:00:00:0b", "10", "nope", stderr_has="-32002")
    check(ok(d, "fdb", "del", "02:00:00:00:00:0a", "10") == "fdb entry deleted\n", "del")
    fails(d, 1, "fdb", "del", "02:00:00:00:00:0a", "10", stderr_has="(code -32005)")
    check(ok(d, "fdb", "flush") == "0 entries removed\n", "flush")
    ok(d, "fdb", "add", "02:00:00:00:00:0c", "0", "null0")
    check(ok(d, "fdb", "flush", "null0", "--static") == "1 entries removed\n", "flush static")
    fails(d, 2, "fdb", "flush", "a", "b", stderr_has="unexpected")
    check(json.loads(ok(d, "--json", "fdb", "list"))[0]["port"] == "vm1", "--json fdb list")


def t_pmd_switch_config(d):
    head, rows = table(ok(d, "pmd", "list"))
    check(head[:3] == ["PMD", "LCORE", "NUMA"] and len(rows) == 1 and "null0:0" in rows[0][-1],
          "pmd list %s %s" % (head, rows))
    check(ok(d, "pmd", "rebalance") == "0 rx queues moved\n", "rebalance")
    out = ok(d, "switch", "info")
    check(re.search(r"^version:\s+\S+", out, re.M) and re.search(r"^ports:\s+2$", out, re.M),
          "switch info %r" % out)
    cfg = json.loads(ok(d, "config", "get"))
    check([p["name"] for p in cfg["ports"]] == ["null0", "vm1"], "config get")
    out = ok(d, "config", "save", d.path("c.json"))
    check(out.startswith("configuration saved to " + d.path("c.json")), "config save %r" % out)
    with open(d.path("c.json")) as f:
        check(json.load(f) == cfg, "saved == config get")
    fails(d, 1, "config", "save", "/nonexistent-dir/c.json", stderr_has="(code -32602)")
    out = ok(d, "call", "port.get", '{"name":"vm1"}')
    check(json.loads(out)["name"] == "vm1", "call with params")
    with d.client() as c:
        check(json.loads(ok(d, "call", "rpc.methods")) == c.result("rpc.methods"),
              "call rpc.methods prints what rpc.methods returns")
    fails(d, 1, "call", "no.such", stderr_has="(code -32601)")
    fails(d, 1, "call", "switch.info", "[1]", stderr_has="(code -32602)")


def t_shutdown(d):
    check(ok(d, "switch", "shutdown") == "ferryd is shutting down\n", "shutdown")
    d.proc.wait(30)
    check(d.proc.returncode == 0, "ferryd exit %d" % d.proc.returncode)
    fails(d, 3, "switch", "info", stderr_has="cannot connect")


TESTS = [("ferryctl_help_usage", t_help_and_usage), ("ferryctl_unreachable", t_unreachable),
         ("ferryctl_port", t_port_commands), ("ferryctl_stats", t_stats_commands),
         ("ferryctl_fdb", t_fdb_commands), ("ferryctl_pmd_switch_config", t_pmd_switch_config),
         ("ferryctl_shutdown", t_shutdown)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
