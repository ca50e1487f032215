#!/usr/bin/env python3
"""test_reload.py — SIGHUP reloads ferryd's --config file and SIGQUIT stops it cleanly.

A reload with a changed file removes, adds, changes in place (port.set fields) and replaces
(path changed: deleted and added again) ports, emits the usual events, applies rpc.idle_timeout,
applies vhost.socket_dirs (a port added over RPC may use a new directory), logs what needs a
restart (burst) and a summary, while `src` (net_pcap replaying forever) keeps
forwarding to `dst` (net_null) without a pause. An invalid file (bad value, bad JSON) changes
nothing and ferryd keeps running. SIGQUIT: exit 0, sockets removed, the stats lines logged."""

import copy
import json
import os
import shutil
import signal
import tempfile
import time

from ferrytest import Daemon, check, main, wait_for, write_pcap, eth_frame

SRC_MAC, DST_MAC = "02:00:00:00:01:01", "02:00:00:00:02:02"


def ports_v1(d):
    write_pcap(d.path("in.pcap"), [eth_frame(DST_MAC, SRC_MAC, 46, i) for i in range(64)])
    return [{"name": "src", "type": "dpdk",
             "devargs": "net_pcap0,rx_pcap=%s,infinite_rx=1" % d.path("in.pcap")},
            {"name": "dst", "type": "dpdk", "devargs": "net_null0,no-rx=1", "mac": [DST_MAC]},
            {"name": "gone", "type": "dpdk", "devargs": "net_null1,no-rx=1"},
            {"name": "vmA", "type": "vhostuser", "path": d.path("a.sock")},
            {"name": "vmB", "type": "vhostuser", "path": d.path("b.sock"),
             "vlan": {"mode": "access", "tag": 10}}]


def config_v2(cfg, d):
    c = copy.deepcopy(cfg)
    ports = [p for p in c["ports"] if p["name"] != "gone"]
    for p in ports:
        if p["name"] == "vmA":
            p["path"] = d.path("a2.sock")                        # not settable: replaced
        if p["name"] == "vmB":
            p["vlan"] = {"mode": "access", "tag": 20}             # port.set
            p["admin"] = "down"
            p["external_ids"] = {"iface-id": "b-1"}
    ports.append({"name": "vmC", "type": "vhostuser", "path": d.path("c.sock")})
    ports.append({"name": "new2", "type": "dpdk", "devargs": "net_null2,no-rx=1"})
    c["ports"] = ports
    c["burst"] = 16                                               # needs a restart
    c["rpc"] = {"idle_timeout": 30}                               # applied at once
    return c


def setup():
    d = Daemon(ports_v1, tag="reload").start()
    with open(d.cfg_path) as f:
        d.cfg_v1 = json.load(f)
    return d


def teardown(d):
    d.cleanup()


def write_config(d, cfg_or_text):
    tmp = d.cfg_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(cfg_or_text if isinstance(cfg_or_text, str) else json.dumps(cfg_or_text, indent=1))
    os.rename(tmp, d.cfg_path)


def still_up(d, sig="SIGHUP"):
    """True while ferryd runs; a failure naming the signal once it has died of it (before
    security #21 item 10, SIGHUP's default action killed ferryd: status -1)."""
    check(d.alive(), "ferryd died on %s (exit status %s): %s" % (sig, d.proc.returncode,
                                                                 d.log_tail(2)))
    return True


def sighup_and_wait(d, marker):
    n = d.log().count(marker)
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: still_up(d) and d.log().count(marker) > n, timeout=30,
             what="'%s' in the log" % marker)


def tx(c):
    return c.result("port.stats", {"name": "dst"})["tx_packets"]


def by_name(c):
    return {p["name"]: p for p in c.result("port.list")}


def t_reload_changes_ports(d):
    sub = d.client()
    sub.result("events.subscribe")
    with d.client() as c:
        wait_for(lambda: tx(c) > 10000, what="traffic src -> dst")
        write_config(d, config_v2(d.cfg_v1, d))
        samples = [tx(c)]
        n = d.log().count("reload: ")
        d.proc.send_signal(signal.SIGHUP)
        end = time.monotonic() + 30
        while "unchanged" not in d.log().split("reload (SIGHUP)")[-1] and \
                time.monotonic() < end:
            time.sleep(0.05)
            still_up(d)
            samples.append(tx(c))
        for _ in range(5):
            time.sleep(0.05)
            samples.append(tx(c))
        check(d.log().count("reload: ") > n, "no reload logged: %s" % d.log_tail(5))
        stalls = [i for i in range(1, len(samples)) if samples[i] <= samples[i - 1]]
        check(len(samples) >= 6 and not stalls, "dst stopped forwarding during the reload: %s"
              % samples)
        log = d.log()
        check("reload: 2 added, 1 removed, 2 changed, 2 unchanged, 0 failed" in log,
              "summary line: %s" % d.log_tail(12))
        check("reload: burst changed: needs a restart" in log, "burst needs a restart")
        check("rpc: idle timeout 30 s" in log, "rpc.idle_timeout applied")
        ports = by_name(c)
        check(sorted(ports) == ["dst", "new2", "src", "vmA", "vmB", "vmC"], "ports %s" %
              sorted(ports))
        check(ports["vmA"]["path"] == d.path("a2.sock") and os.path.exists(d.path("a2.sock"))
              and not os.path.exists(d.path("a.sock")), "vmA moved to a2.sock")
        check(ports["vmB"]["vlan"] == {"mode": "access", "tag": 20} and
              ports["vmB"]["admin"] == "down" and
              ports["vmB"]["external_ids"] == {"iface-id": "b-1"}, "vmB changed: %s" %
              ports["vmB"])
        check(os.path.exists(d.path("c.sock")), "vmC's socket")
        cfg = c.result("config.get")
        check(cfg["burst"] == 32, "burst unchanged until a restart")
        check(cfg["rpc"]["idle_timeout"] == 30, "config.get: the running idle_timeout")
        c.result("switch.info")
    events = []
    while len(events) < 6:
        m = sub.recv(10)
        events.append((m["params"]["event"], m["params"]["name"]))
    sub.close()
    check(events == [("port.deleted", "gone"), ("port.deleted", "vmA"),
                     ("port.changed", "vmB"), ("port.added", "vmA"), ("port.added", "vmC"),
                     ("port.added", "new2")], "events %s" % events)
    # the same file again: nothing to do (burst still differs)
    sighup_and_wait(d, "reload: 0 added, 0 removed, 0 changed, 6 unchanged, 0 failed")


def t_reload_invalid_changes_nothing(d):
    with d.client() as c:
        before = c.result("port.list")
        bad = config_v2(d.cfg_v1, d)
        bad["ports"][-2]["vlan"] = {"mode": "access", "tag": 5000}
        bad["ports"].append({"name": "never", "type": "dpdk", "devargs": "net_null7,no-rx=1"})
        write_config(d, bad)
        sighup_and_wait(d, "nothing changed")
        check("reload: %s: ports[4].vlan.tag: must be a VLAN id 1..4094: nothing changed" %
              d.cfg_path in d.log(), "error names file, JSON path, problem: %s" %
              d.log_tail(3))
        check(c.result("port.list") == before, "an invalid file changed the ports")
        write_config(d, '{"ports": [')
        n = d.log().count("nothing changed")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: still_up(d) and d.log().count("nothing changed") > n,
                 what="invalid JSON refused")
        check("invalid JSON" in d.log_tail(2), "invalid JSON named: %s" % d.log_tail(2))
        check(c.result("port.list") == before and d.alive(), "still running, unchanged")


def t_reload_rpc_policy(d):
    # vhost.socket_dirs is applied at once: a port added over RPC may use the new directory
    extra = tempfile.mkdtemp(prefix="ferry-reload-extra-")
    port = {"name": "rpcport", "type": "vhostuser", "path": os.path.join(extra, "r.sock")}
    with d.client() as c:
        check("error" in c.call("port.add", port), "outside vhost.socket_dirs: refused")
        cfg = config_v2(d.cfg_v1, d)
        cfg["vhost"] = {"socket_dirs": [d.dir, extra]}
        write_config(d, cfg)
        sighup_and_wait(d, "reload: 0 added")
        check(c.result("port.add", port)["added"], "port.add inside the reloaded socket_dirs")
        check(c.result("config.get")["vhost"]["socket_dirs"] == [d.dir, extra],
              "config.get: the running socket_dirs")
        check("vhost.socket_dirs changed: needs a restart" not in d.log(), "applied, not deferred")
        c.result("port.del", {"name": "rpcport"})
    shutil.rmtree(extra, ignore_errors=True)


def t_sigquit_clean_exit(d):
    sock = d.sock
    d.proc.send_signal(signal.SIGQUIT)
    try:
        rc = d.proc.wait(30)
    except Exception:  # noqa: BLE001
        rc = None
    check(rc == 0, "SIGQUIT: exit status %s%s" % (rc, " (killed by the signal: core dump)"
                                                  if rc == -signal.SIGQUIT else ""))
    check(not os.path.exists(sock) and not os.path.exists(d.path("a2.sock")),
          "sockets removed at exit")
    log = d.log()
    check("shutting down" in log and '"name":"dst"' in log.split("shutting down")[-1],
          "stats lines logged: %s" % d.log_tail(4))


TESTS = [("reload_changes_ports", t_reload_changes_ports),
         ("reload_invalid_changes_nothing", t_reload_invalid_changes_nothing),
         ("reload_rpc_policy", t_reload_rpc_policy),
         ("reload_sigquit_clean_exit", t_sigquit_clean_exit)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
