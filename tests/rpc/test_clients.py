#!/usr/bin/env python3
"""test_clients.py — many clients at once, and clients that misbehave: 50 concurrent clients,
a client that never reads its answers or its events while another keeps working (ferryd must
never block on it, and drops it once its unread output exceeds 4 MiB), the 256-client limit
(256 subscribers: the next client is refused; idle clients are evicted instead, see
test_robust.py), and clients that vanish mid-conversation."""

import json
import socket
import threading
import time

from ferrytest import Daemon, Client, check, check_too_many_clients, clients_now, main, wait_for

MAX_CLIENTS = 256
MAX_OUTPUT = 4 << 20


def ports(d):
    return [{"name": "null0", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
            {"name": "vm1", "type": "vhostuser", "path": d.path("vm1.sock")}]


def setup():
    return Daemon(ports, tag="clients").start()


def teardown(d):
    d.cleanup()


def t_concurrent_50(d):
    errors = []
    barrier = threading.Barrier(50)

    def worker(n):
        try:
            with d.client(timeout=30) as c:
                barrier.wait(30)
                for i in range(20):
                    m = ["switch.info", "port.list", "port.stats", "fdb.list", "pmd.list"][i % 5]
                    c.result(m, timeout=30)
                    if i % 7 == n % 7:
                        r = c.call("port.get", {"name": "vm1"})
                        check(r["result"]["name"] == "vm1", "port.get")
                # and a batch
                c.send([c.request("switch.info") for _ in range(10)])
                r = c.recv(30)
                check(isinstance(r, list) and len(r) == 10, "batch answer")
        except Exception as e:  # noqa: BLE001
            errors.append("client %d: %s" % (n, e))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not errors, "; ".join(errors[:5]))
    wait_for(lambda: clients_now(d) == 0, what="all 50 clients gone")


def latency_ok(d, n=100, limit=1.0):
    """Another client keeps working: every call answered within `limit` seconds."""
    with d.client() as c:
        worst = 0.0
        for i in range(n):
            t0 = time.monotonic()
            c.result("port.list" if i % 2 else "switch.info", timeout=limit + 5)
            worst = max(worst, time.monotonic() - t0)
        check(worst < limit, "a call took %.2f s while another client was stuck" % worst)
        return worst


def t_never_reads_answers(d):
    # stuck client: pipelines thousands of requests and never reads a byte
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.sock)
    s.setblocking(False)
    req = (json.dumps({"jsonrpc": "2.0", "method": "port.list", "id": 1}) + "\n").encode()
    sent = 0
    end = time.monotonic() + 5
    try:
        while time.monotonic() < end:     # until the kernel buffers are full both ways
            try:
                sent += s.send(req * 100)
            except BlockingIOError:
                break
    finally:
        s.setblocking(True)
    check(sent > 100000, "stuck client could only send %d bytes" % sent)
    latency_ok(d)
    # the stuck client is still connected (it is only slow), and once it reads, it is served
    s.settimeout(10)
    got = b""
    while got.count(b"\n") < 10:
        got += s.recv(1 << 16)
    first = json.loads(got.split(b"\n")[0])
    check(first.get("id") == 1 and "result" in first, "stuck client answered: %s" % first)
    s.close()


def t_never_reads_events(d):
    # subscriber that never reads: events pile up; ferryd drops it beyond 4 MiB unread
    sub = Client(d.sock)
    sub.result("events.subscribe")
    sub.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with d.client(timeout=60) as c:
        n_events = 0
        t0 = time.monotonic()
        event = len(json.dumps({"jsonrpc": "2.0", "method": "event", "params": {
            "event": "port.changed", "name": "vm1"}}, separators=(",", ":"))) + 1
        while n_events * event < MAX_OUTPUT + (1 << 20):
            batch = [c.request("port.set", {"name": "vm1", "admin": "down" if i % 2 else "up"})
                     for i in range(1000)]
            c.send(batch)
            r = c.recv(60)
            check(isinstance(r, list) and all("result" in x for x in r), "port.set batch")
            n_events += 1000
        elapsed = time.monotonic() - t0
        latency_ok(d)
    # the subscriber finds what reached its socket before the cut, then EOF
    total = 0
    sub.sock.settimeout(10)
    while True:
        chunk = sub.sock.recv(1 << 20)
        if not chunk:
            break
        total += len(chunk)
    check(0 < total < MAX_OUTPUT, "dropped subscriber: %d bytes of events readable (%d events "
          "in %.1f s)" % (total, n_events, elapsed))
    sub.close()
    check("does not read its output" in d.log(), "ferryd logs the disconnect")


def t_too_many_clients(d):
    held = []
    try:
        for _ in range(MAX_CLIENTS):   # subscribers: never evicted to make room
            held.append(Client(d.sock))
            held[-1].result("events.subscribe")
        wait_for(lambda: held[-1].result("switch.info")["rpc"]["clients"] == MAX_CLIENTS,
                 what="256 clients connected")
        check_too_many_clients(d.sock)
        check(held[0].result("switch.info")["ports"] == 2, "held clients still served")
    finally:
        for c in held:
            c.close()
    wait_for(lambda: clients_now(d) == 0, what="clients released")
    latency_ok(d, n=10)


def t_vanishing_clients(d):
    for i in range(100):
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        if i % 3 == 0:
            s.sendall(b'{"jsonrpc":"2.0","method":"events.subscribe","id":1}\n')
        elif i % 3 == 1:
            s.sendall(b'{"jsonrpc":"2.0","method":"config.get","id":1}\n' * 50)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    with d.client() as c:   # events to subscribers that are gone
        c.result("port.set", {"name": "vm1", "admin": "up"})
    wait_for(lambda: clients_now(d) == 0, what="vanished clients reaped")
    check(d.alive(), "ferryd alive")


TESTS = [("clients_concurrent_50", t_concurrent_50),
         ("clients_never_reads_answers", t_never_reads_answers),
         ("clients_never_reads_events", t_never_reads_events),
         ("clients_too_many", t_too_many_clients),
         ("clients_vanishing", t_vanishing_clients)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
