#!/usr/bin/env python3
"""test_schema.py — port.schema, the port object's field table (lib/config/config_fields.c), and
what follows it: port.schema lists every field; every settable field of a port type is set in ONE
port.set call and port.get shows each new value; a non-settable field is refused (-32602, naming
it); port.get and config.get print every field a port has; `ferryctl port schema` (table and
--json), ferryctl's help and bash completion come from it."""

import json
import os
import subprocess

from ferrytest import Daemon, FERRYCTL, ROOT, EINVAL, check, main, ferryctl

# today's port object; a field added to the table must be added here (and to SET_VALUES if
# settable), so a new field is a conscious change of the RPC interface
FIELDS = ["name", "type", "devargs", "rxq", "vm_queues", "txq", "rxd", "txd", "mtu", "hw_mac",
          "sriov", "vm", "path", "mode", "zero_copy", "enqueue", "offloads", "mac", "vlan", "admin",
          "external_ids", "filters",
          "policer", "storm", "mac_limit"]
JSON_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}

# a value differing from each port's initial one, for every settable field
SET_VALUES = {"mtu": 9000, "vlan": {"mode": "access", "tag": 42},
              "mac": ["52:54:00:00:00:07", "52:54:00:00:00:08"], "admin": "down",
              "external_ids": {"vm": "uuid-9", "iface": "eth0"}, "zero_copy": "off",
              "policer": {"pps": 1000, "burst": 64}, "storm": {"broadcast_pps": 100},
              "mac_limit": 32, "vm": "vm1"}


def ports(d):
    return [{"name": "null0", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
            {"name": "vm1", "type": "vhostuser", "path": d.path("vm1.sock"), "mode": "server",
             "mac": ["52:54:00:00:00:01"], "vlan": {"mode": "access", "tag": 10},
             "external_ids": {"vm": "uuid-1"}, "policer": {"kbps": 10000},
             "storm": {"multicast_pps": 50}, "mac_limit": 64, "mtu": 1500}]


def setup():
    return Daemon(ports, tag="schema").start()


def teardown(d):
    d.cleanup()


def schema(d):
    with d.client() as c:
        return c.result("port.schema")


def fields_of(s, port_type, settable=None):
    return [f["name"] for f in s if port_type in f["port_types"] and
            (settable is None or f["settable"] == settable)]


def t_schema_lists_every_field(d):
    s = schema(d)
    check([f["name"] for f in s] == FIELDS, "port.schema fields %s" % [f["name"] for f in s])
    for f in s:
        check(set(f) == {"name", "type", "port_types", "settable", "unique", "help"},
              "%s: keys %s" % (f["name"], sorted(f)))
        check(f["type"] in JSON_TYPES, "%s: JSON type %r" % (f["name"], f["type"]))
        check(f["port_types"] and set(f["port_types"]) <= {"dpdk", "vhostuser"},
              "%s: port_types %s" % (f["name"], f["port_types"]))
        check(isinstance(f["settable"], bool) and isinstance(f["help"], str) and f["help"],
              "%s: settable/help %s" % (f["name"], f))
    settable = sorted(f["name"] for f in s if f["settable"])
    check(settable == sorted(SET_VALUES), "settable fields %s" % settable)
    check(fields_of(s, "vhostuser", True) == ["mtu", "zero_copy", "mac", "vlan", "admin",
                                               "external_ids", "policer", "storm",
                                               "mac_limit"], "vhostuser settable")
    check(sorted(f["name"] for f in s if f["unique"]) == ["devargs", "name", "path"], "unique")
    with d.client() as c:
        c.error("port.schema", {"x": 1}, EINVAL, "params.x")
        m = [m for m in c.result("rpc.methods") if m["name"] in ("port.schema", "port.set")]
        check(len(m) == 2 and "port.schema" in m[1]["params"] + m[0]["params"],
              "rpc.methods: port.set's params point at port.schema: %s" % m)


def t_get_prints_every_field(d):
    """port.get / port.list / config.get show each field a port has, zero_copy included."""
    s = schema(d)
    with d.client() as c:
        got = {p["name"]: p for p in c.result("port.list")}
        saved = {p["name"]: p for p in c.result("config.get")["ports"]}
        vm1 = c.result("port.get", {"name": "vm1"})
    # vm1 has every vhostuser field but filters (which need an object file)
    for name in fields_of(s, "vhostuser"):
        if name == "filters":
            continue
        for where, p in [("port.get", vm1), ("port.list", got["vm1"]),
                         ("config.get", saved["vm1"])]:
            check(name in p, "%s vm1 lacks %s: %s" % (where, name, p))
            check(isinstance(p[name], JSON_TYPES[next(f["type"] for f in s
                                                       if f["name"] == name)]),
                  "%s vm1.%s is not its schema type" % (where, name))
    check(vm1["zero_copy"] == "auto" and saved["vm1"]["zero_copy"] == "auto", "zero_copy auto")
    for name in set(fields_of(s, "dpdk")) - set(fields_of(s, "vhostuser")):
        check(name not in vm1, "vm1 (vhostuser) shows dpdk field %s" % name)


def set_all(d, port, port_type):
    """Every settable field of port_type in one port.set; port.get shows each new value."""
    s = schema(d)
    names = fields_of(s, port_type, True)
    missing = [n for n in names if n not in SET_VALUES]
    check(not missing, "no test value for settable fields %s: add them to SET_VALUES" % missing)
    changes = dict({"name": port}, **{n: SET_VALUES[n] for n in names})
    with d.client() as c:
        r = c.result("port.set", changes)
        p = c.result("port.get", {"name": port})
        for n in names:
            check(r[n] == SET_VALUES[n] and p[n] == SET_VALUES[n],
                  "%s.%s after port.set: %r / port.get %r" % (port, n, r.get(n), p.get(n)))
        # and all back to the defaults (null removes) in one call again
        r = c.result("port.set", dict({"name": port}, **{n: None for n in names}))
        for n, default in [("admin", "up"), ("zero_copy", "auto")]:
            if n in names:
                check(r[n] == default, "%s.%s = null: %r" % (port, n, r[n]))
        for n in ["mac", "external_ids", "mtu", "vlan", "vm"]:
            if n in names:
                check(n not in r, "%s.%s = null still shows %r" % (port, n, r.get(n)))
    return names


def t_set_every_settable_field_vhostuser(d):
    names = set_all(d, "vm1", "vhostuser")
    check("zero_copy" in names and "mtu" in names and len(names) == 9,
          "vhostuser settable %s" % names)


def t_set_every_settable_field_dpdk(d):
    names = set_all(d, "null0", "dpdk")
    check("mtu" in names and "vm" in names and len(names) == 9, "dpdk settable %s" % names)


def t_non_settable_refused(d):
    s = schema(d)
    with d.client() as c:
        before = c.result("port.get", {"name": "vm1"})
        for f in s:
            if f["settable"] or f["name"] == "name":
                continue
            msg = c.error("port.set", {"name": "vm1", "admin": "down", f["name"]: "x"}, EINVAL,
                          "params.%s" % f["name"])
            check("cannot be changed at runtime" in msg and "zero_copy" in msg,
                  "%s refused: %r" % (f["name"], msg))
        c.error("port.set", {"name": "vm1", "bogus": 1}, EINVAL, "params.bogus: unknown field")
        # settable, but not on this port type
        c.error("port.set", {"name": "null0", "zero_copy": "off"}, EINVAL, "params.zero_copy")
        c.error("port.set", {"name": "vm1", "mtu": 9703}, EINVAL, "params.mtu")   # out of range
        after = c.result("port.get", {"name": "vm1"})
        check(after["admin"] == before["admin"], "a refused port.set changed nothing")


def t_ferryctl_schema(d):
    s = schema(d)
    rc, out, err = ferryctl(d, "--json", "port", "schema")
    check(rc == 0 and json.loads(out) == s, "ferryctl --json port schema: %d %r" % (rc, err))
    rc, out, err = ferryctl(d, "port", "schema")
    lines = out.rstrip("\n").split("\n")
    check(rc == 0 and lines[0].split() == ["FIELD", "TYPE", "PORTS", "SETTABLE", "HELP"],
          "ferryctl port schema header: %r" % lines[:1])
    rows = {ln.split()[0]: ln.split()[1:4] for ln in lines[1:]}
    check(sorted(rows) == sorted(FIELDS), "ferryctl port schema rows %s" % sorted(rows))
    check(rows["zero_copy"] == ["string", "vhostuser", "yes"] and
          rows["name"] == ["string", "all", "no"], "rows %s %s" % (rows["zero_copy"],
                                                                   rows["name"]))
    # help lists the fields from port.schema, settable ones starred
    p = subprocess.run([FERRYCTL, "-s", d.sock, "--help"], capture_output=True, text=True)
    check(p.returncode == 0 and "zero_copy*" in p.stdout and "mtu*" in p.stdout and
          "devargs," in p.stdout, "ferryctl --help port fields: %r" % p.stdout[-600:])
    # ferryctl set: several fields at once, key= removes
    rc, out, err = ferryctl(d, "port", "set", "vm1", "zero_copy=on", "admin=down", "vlan=77",
                            "mac=52:54:00:00:00:05", "external_ids.k=v")
    check(rc == 0, "ferryctl port set five fields: %r" % err)
    with d.client() as c:
        p = c.result("port.get", {"name": "vm1"})
    check(p["zero_copy"] == "on" and p["admin"] == "down" and p["vlan"]["tag"] == 77 and
          p["external_ids"] == {"k": "v"}, "after ferryctl port set: %s" % p)
    rc, out, err = ferryctl(d, "port", "set", "vm1", "zero_copy=", "admin=default")
    with d.client() as c:
        p = c.result("port.get", {"name": "vm1"})
    check(rc == 0 and p["zero_copy"] == "auto" and p["admin"] == "up", "key= resets: %s" % p)


def complete(d, *words):
    """What app/ferryctl/ferryctl.bash offers for `ferryctl -s SOCK WORDS...` (last word: the one
    being completed), with bash-completion's helpers stubbed."""
    script = r'''
_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${words[cword]};
                     prev=${words[cword-1]}; }
compopt() { :; }
_filedir() { :; }
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
_ferryctl
printf '%s\n' "${COMPREPLY[@]}"
'''
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(FERRYCTL)) + ":" +
               os.environ.get("PATH", ""))
    p = subprocess.run(["bash", "-c", script, "bash",
                        os.path.join(ROOT, "app/ferryctl/ferryctl.bash"),
                        "ferryctl", "-s", d.sock] + list(words),
                       capture_output=True, text=True, env=env, timeout=30)
    return sorted(x for x in p.stdout.split("\n") if x)


def t_bash_completion(d):
    s = schema(d)
    got = complete(d, "port", "set", "vm1", "")
    want = sorted(f["name"] + ("." if f["name"] == "external_ids" else "=")
                  for f in s if f["settable"])
    check(got == want, "port set vm1 <TAB>: %s, want %s" % (got, want))
    check(complete(d, "port", "set", "vm1", "ze") == ["zero_copy="], "port set vm1 ze<TAB>")
    got = complete(d, "port", "add", "x", "")
    check("zero_copy=" in got and "filters=" in got and "name=" not in got and
          len(got) == len(FIELDS) - 1, "port add x <TAB>: %s" % got)
    check("port.schema" in complete(d, "call", "port."), "call port.<TAB>")
    check(complete(d, "port", "sch") == ["schema"], "port sch<TAB>")


TESTS = [("schema_lists_every_field", t_schema_lists_every_field),
         ("schema_get_prints_every_field", t_get_prints_every_field),
         ("schema_set_all_vhostuser", t_set_every_settable_field_vhostuser),
         ("schema_set_all_dpdk", t_set_every_settable_field_dpdk),
         ("schema_non_settable_refused", t_non_settable_refused),
         ("schema_ferryctl", t_ferryctl_schema),
         ("schema_bash_completion", t_bash_completion)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
