#!/usr/bin/env python3
"""test_events.py — events.subscribe: subscribers receive {"jsonrpc":"2.0","method":"event",
"params":{"event":NAME,...}} notifications for port.added / port.changed / port.deleted, several
subscribers each get every event, unsubscribe stops them, and `ferryctl events` prints them."""

import json
import os
import subprocess
import time

from ferrytest import Daemon, FERRYCTL, FERRYD, check, main, TestFailure


def ports(d):
    return [{"name": "null0", "type": "dpdk", "devargs": "net_null0,no-rx=1"}]


def setup():
    return Daemon(ports, tag="events").start()


def teardown(d):
    d.cleanup()


def next_event(c, timeout=10):
    """The next notification on c (answers to requests are not expected here)."""
    if c.notes:
        return c.notes.pop(0)
    m = c.recv(timeout)
    check(m.get("method") == "event" and m.get("jsonrpc") == "2.0" and "id" not in m,
          "expected an event notification, got %s" % m)
    return m


def t_port_events(d):
    with d.client() as sub, d.client() as ctl:
        sub.result("events.subscribe")
        vm = {"name": "ev1", "type": "vhostuser", "path": d.path("ev1.sock")}
        ctl.result("port.add", vm)
        check(next_event(sub)["params"] == {"event": "port.added", "name": "ev1"}, "port.added")
        ctl.result("port.add", vm)                     # identical: nothing happens, no event
        ctl.result("port.set", {"name": "ev1", "admin": "down"})
        check(next_event(sub)["params"] == {"event": "port.changed", "name": "ev1"},
              "port.changed")
        ctl.result("port.del", {"name": "ev1"})
        check(next_event(sub)["params"] == {"event": "port.deleted", "name": "ev1"},
              "port.deleted")
        ctl.call("port.del", {"name": "ev1"})          # fails: no event
        ctl.result("port.add", {"name": "n5", "type": "dpdk", "devargs": "net_null5,no-rx=1"})
        check(next_event(sub)["params"]["name"] == "n5", "dpdk port.added")
        ctl.result("port.del", {"name": "n5"})
        check(next_event(sub)["params"] == {"event": "port.deleted", "name": "n5"}, "deleted")
        check(not ctl.notes, "a client that did not subscribe gets no events")


def t_own_events_and_order(d):
    with d.client() as c:
        c.result("events.subscribe")
        c.send(c.request("port.add", {"name": "ev2", "type": "vhostuser",
                                      "path": d.path("ev2.sock")}, rid="add"))
        first, second = c.recv(), c.recv()
        check(first.get("method") == "event" and first["params"]["event"] == "port.added",
              "the event is queued before the answer to the request that caused it: %s" % first)
        check(second.get("id") == "add" and second["result"]["added"], "then the answer")
        c.result("events.unsubscribe")
        c.result("port.del", {"name": "ev2"})
        c.send(c.request("switch.info", rid="last"))
        check(c.recv().get("id") == "last" and not c.notes, "no events after unsubscribe")


def t_many_subscribers(d):
    subs = [d.client() for _ in range(10)]
    try:
        for s in subs:
            s.result("events.subscribe")
        with d.client() as ctl:
            for i in range(5):
                ctl.result("port.add", {"name": "m%d" % i, "type": "vhostuser",
                                        "path": d.path("m%d.sock" % i)})
            for i in range(5):
                ctl.result("port.del", {"name": "m%d" % i})
        want = [("port.added", "m%d" % i) for i in range(5)] + \
               [("port.deleted", "m%d" % i) for i in range(5)]
        for s in subs:
            got = [(e["params"]["event"], e["params"]["name"])
                   for e in (next_event(s) for _ in range(10))]
            check(got == want, "subscriber saw %s" % got)
    finally:
        for s in subs:
            s.close()


def t_ferryctl_events(d):
    for as_json in (False, True):
        args = [FERRYCTL, "-s", d.sock] + (["--json"] if as_json else []) + ["events"]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # wait until its subscription is active: it is one more client
            with d.client() as ctl:
                end = time.monotonic() + 10
                while ctl.result("switch.info")["rpc"]["clients"] < 2:
                    if time.monotonic() > end:
                        raise TestFailure("ferryctl events did not connect")
                    time.sleep(0.05)
                time.sleep(0.2)
                ctl.result("port.add", {"name": "cev", "type": "vhostuser",
                                        "path": d.path("cev.sock")})
                ctl.result("port.del", {"name": "cev"})
            lines = [p.stdout.readline().strip() for _ in range(2)]
        finally:
            p.terminate()
            p.wait(10)
        if as_json:
            got = [json.loads(x) for x in lines]
            check(got == [{"event": "port.added", "name": "cev"},
                          {"event": "port.deleted", "name": "cev"}], "--json events %s" % got)
        else:
            check(lines == ["port.added name=cev", "port.deleted name=cev"],
                  "ferryctl events printed %s" % lines)
    check(not os.path.exists(d.path("cev.sock")), "cleanup")


def t_guest_link_events(d):
    """Events raised by ferry_switch_poll (a guest connecting), not by an RPC call."""
    vpeer = os.environ.get("FERRY_VPEER", os.path.join(os.path.dirname(FERRYD), "..", "..",
                                                        "tests", "tools", "ferry-vpeer"))
    check(os.access(vpeer, os.X_OK), "%s is not built" % vpeer)
    with d.client() as sub, d.client() as ctl:
        ctl.result("port.add", {"name": "g1", "type": "vhostuser", "path": d.path("g1.sock")})
        sub.result("events.subscribe")
        log = open(d.path("vpeer.log"), "w")
        p = subprocess.Popen([vpeer, "-l", "0", "--no-pci", "--no-telemetry", "--in-memory",
                              "--single-file-segments", "--file-prefix", d.prefix + "-vp",
                              "--vdev", "net_virtio_user0,path=%s,queues=1" % d.path("g1.sock"),
                              "--", "--duration", "2", "--count", "0"],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            seen = []
            while ("port.link", "down") not in seen:
                e = next_event(sub, timeout=30)["params"]
                check(e.get("name") == "g1", "event of another port: %s" % e)
                seen.append((e["event"], e.get("state", e.get("direction"))))
        finally:
            p.wait(30)
            log.close()
        check(("port.link", "up") in seen[:seen.index(("port.link", "down"))],
              "link up before link down: %s" % seen)
        check(("port.queue", "rx") in seen and ("port.queue", "tx") in seen,
              "queue events: %s" % seen)
        ctl.result("port.del", {"name": "g1"})


TESTS = [("events_port_add_set_del", t_port_events),
         ("events_order_and_unsubscribe", t_own_events_and_order),
         ("events_many_subscribers", t_many_subscribers),
         ("events_ferryctl", t_ferryctl_events),
         ("events_guest_link", t_guest_link_events)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
