#!/usr/bin/env python3
"""test_robust.py — the control socket against clients that hold it hostage: 256 idle connections
(the next client still gets in: the longest-idle one is evicted, not a busy one), a table full of subscribers (the
next one is refused with -32004), the idle timeout (idle and slowloris connections closed after
rpc.idle_timeout, subscribers and active clients kept, the log names the peer's pid and uid), and
big batches (another client's switch.info answered promptly while a batch of 1000 expensive
requests runs; its answer is one array in order, bounded by 4 MiB; a batch of 100 000 requests
gets -32600 "batch too large")."""

import json
import os
import socket
import threading
import time

from ferrytest import (Daemon, Client, check, check_too_many_clients, clients_now, ferryctl, main,
                       wait_for, EINVALID_REQ, ELIMIT)

MAX_CLIENTS = 256
MAX_BATCH = 1000
MAX_OUTPUT = 4 << 20
# another client's request while a big batch runs: measured 20-60 ms on the 2-core box
# (the budget per round is 20 ms); generous for a noisy machine
LATENCY_LIMIT = 0.5
SLOW_REQUEST_LIMIT = 1.5


def ports(d):
    return [{"name": "null0", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
            {"name": "vm1", "type": "vhostuser", "path": d.path("vm1.sock")}]


class Ctx:
    """The default daemon (idle_timeout 60 s) for the whole file; one with idle_timeout 1 s only
    while the idle tests run (two busy PMDs on one lcore would slow both)."""

    def __init__(self):
        self.d = Daemon(ports, fdb_size=4096, tag="robust").start()
        self._idle = None

    @property
    def idle(self):
        if self._idle is None:
            self._idle = Daemon(ports, rpc={"idle_timeout": 1}, tag="robust-idle").start()
        return self._idle

    def drop_idle(self):
        if self._idle is not None:
            self._idle.cleanup()
            self._idle = None

    def cleanup(self):
        self.d.cleanup()
        self.drop_idle()


def setup():
    return Ctx()


def teardown(ctx):
    ctx.cleanup()


def is_closed(c, timeout=0.5):
    """True if ferryd closed c (EOF without an answer)."""
    c.sock.settimeout(timeout)
    try:
        data = c.sock.recv(4096)
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True
    return data == b""


def close_all(cs):
    for c in cs:
        c.close()


# --- connection table -----------------------------------------------------------------------

def stuck_client(d):
    """A client that pipelines requests and never reads: busy (its answer is not taken)."""
    c = Client(d.sock)
    c.sock.setblocking(False)
    req = (json.dumps({"jsonrpc": "2.0", "method": "port.list", "id": 1}) + "\n").encode()
    end = time.monotonic() + 5
    while time.monotonic() < end:
        try:
            c.sock.send(req * 100)
        except BlockingIOError:
            break
    c.sock.setblocking(True)
    return c


def t_idle_256_orchestrator_served(ctx):
    d = ctx.d
    held = []
    try:
        held.append(stuck_client(d))      # the oldest, but busy: never evicted
        time.sleep(1.0)                   # until ferryd has answered what the socket takes
        for _ in range(MAX_CLIENTS - 1):
            held.append(Client(d.sock))
        wait_for(lambda: held[-1].result("switch.info")["rpc"]["clients"] == MAX_CLIENTS,
                 what="256 clients connected")
        # the orchestrator connects: served, not refused
        with d.client() as orch:
            try:
                r = orch.call("switch.info")
            except OSError as e:
                r = "%s (refused and closed)" % e
            check("result" in r, "the orchestrator was refused with 256 idle connections: %s" % r)
            # the victim is the longest idle one that is not busy: the second connection
            # (one newcomer, one eviction: held[1] closed means the older, busy held[0] was not)
            check(is_closed(held[1], 5), "the longest-idle connection was not the one evicted")
            check(not is_closed(held[-1], 0.2), "a recently active connection was evicted")
            check(orch.result("port.list")[0]["name"] == "null0", "orchestrator keeps working")
        log = d.log()
        check("evicted" in log and "(pid %d, uid %d)" % (os.getpid(), os.getuid()) in log,
              "eviction logged with pid and uid")
        # every further newcomer gets in too (each evicts an idle one)
        for _ in range(20):
            with d.client() as c:
                c.result("switch.info")
    finally:
        close_all(held)
    wait_for(lambda: clients_now(d) == 0, what="clients released")


def t_all_subscribed_refused(ctx):
    d = ctx.d
    held = []
    try:
        for _ in range(MAX_CLIENTS):
            c = Client(d.sock)
            c.result("events.subscribe")
            held.append(c)
        check_too_many_clients(d.sock)
        check(all(not is_closed(c, 0.01) for c in held), "a subscriber was evicted")
        check(held[0].result("switch.info")["ports"] == 2, "subscribers still served")
    finally:
        close_all(held)
    wait_for(lambda: clients_now(d) == 0, what="subscribers released")


# --- idle timeout -----------------------------------------------------------------------------

def t_idle_timeout(ctx):
    d = ctx.idle   # rpc.idle_timeout 1 s
    idle = Client(d.sock)
    sub = Client(d.sock)
    sub.result("events.subscribe")
    active = Client(d.sock)
    slow = Client(d.sock)
    try:
        slow.send_raw(b'{"jsonrpc":"2.0",')
        t0 = time.monotonic()
        slow_closed = idle_closed = None
        # slowloris: a byte every 0.2 s never completes a request; active: a request every 0.3 s
        while time.monotonic() - t0 < 4.0:
            try:
                slow.send_raw(b" ")
            except OSError:
                slow_closed = slow_closed or time.monotonic() - t0
            active.result("switch.info")
            if idle_closed is None and is_closed(idle, 0.01):
                idle_closed = time.monotonic() - t0
            if slow_closed is None and is_closed(slow, 0.01):
                slow_closed = time.monotonic() - t0
            time.sleep(0.2)
        check(idle_closed is not None and 0.7 < idle_closed < 3.0,
              "idle connection closed after %s s (timeout 1 s)" % idle_closed)
        check(slow_closed is not None and 0.7 < slow_closed < 3.0,
              "slowloris connection (partial line) closed after %s s" % slow_closed)
        check(sub.result("switch.info")["ports"] == 2, "the quiet subscriber was closed")
        with d.client() as c:   # and it still gets events
            c.result("port.set", {"name": "vm1", "admin": "down"})
            c.result("port.set", {"name": "vm1", "admin": "up"})
        ev = sub.recv(5)
        check(ev.get("method") == "event", "subscriber gets events: %s" % ev)
        log = d.log()
        check("(pid %d, uid %d) idle for 1 s: closed" % (os.getpid(), os.getuid()) in log,
              "idle close logged with pid and uid: %s" % d.log_tail(5))
    finally:
        close_all([idle, sub, active, slow])


def t_ctl_top_outlives_idle_timeout(ctx):
    """ferryctl top whose delay is longer than rpc.idle_timeout keeps refreshing: it connects for
    each sample (a connection held through the wait was closed by the idle timer)."""
    d = ctx.idle   # rpc.idle_timeout 1 s
    rc, out, err = ferryctl(d, "--json", "top", "-n", "2", "-d", "1.6", timeout=20)
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    check(rc == 0 and len(lines) == 2, "top -d 1.6 against idle_timeout 1 s: rc %d, %d lines, %s"
          % (rc, len(lines), err.strip()))
    check(all({p["name"] for p in l["ports"]} == {"null0", "vm1"} for l in lines),
          "every refresh has both ports: %s" % lines)


def t_idle_unsubscribed_closed(ctx):
    d = ctx.idle
    with d.client() as c:
        c.result("events.subscribe")
        time.sleep(1.6)
        c.result("events.unsubscribe")     # a request: the timer restarts
        check(not is_closed(c, 0.5), "closed too early after unsubscribing")
        check(is_closed(c, 3.0), "an unsubscribed idle connection is closed")
    ctx.drop_idle()


# --- batches ------------------------------------------------------------------------------------

def latency_probe(d, stop, out):
    with d.client(timeout=30) as c:
        worst = 0.0
        n = 0
        while not stop.is_set():
            t0 = time.monotonic()
            c.result("switch.info", timeout=30)
            worst = max(worst, time.monotonic() - t0)
            n += 1
            time.sleep(0.01)
        out.append((worst, n))


def send_all(c, data):
    """Send what ferryd takes (it may close the connection early) in the background."""
    def push():
        try:
            c.sock.sendall(data)
        except OSError:
            pass
    t = threading.Thread(target=push, daemon=True)
    t.start()
    return t


def run_batch_with_probe(d, batch_bytes, timeout=120):
    """Send one batch line on one connection while another client calls switch.info in a loop;
    returns (answer, seconds, worst probe latency, probe calls)."""
    stop = threading.Event()
    out = []
    probe = threading.Thread(target=latency_probe, args=(d, stop, out))
    probe.start()
    time.sleep(0.2)
    try:
        with d.client(timeout=timeout) as c:
            t0 = time.monotonic()
            sender = send_all(c, batch_bytes)
            line = c.recv_line(timeout)
            sender.join(10)
            took = time.monotonic() - t0
    finally:
        stop.set()
        probe.join(60)
    check(line is not None, "no answer to the batch")
    check(out, "probe failed")
    return json.loads(line), took, out[0][0], out[0][1]


def fill_fdb(d, n):
    with d.client() as c:
        for i in range(0, n, 500):
            c.send([c.request("fdb.add", {"mac": "02:00:00:%02x:%02x:%02x" % (
                j >> 16 & 255, j >> 8 & 255, j & 255), "vlan": 1, "port": "null0"})
                for j in range(i, min(n, i + 500))])
            r = c.recv(30)
            check(all("result" in x for x in r), "fdb.add batch: %s" % r[:2])


def t_batch_does_not_starve(ctx):
    ctx.drop_idle()
    d = ctx.d
    fill_fdb(d, 600)
    # 1000 x fdb.list of 600 entries: ~50 MB of answers (a tree of 600 000 objects) that the
    # old code built in one go, answering nobody else for 2-4 s
    batch = [{"jsonrpc": "2.0", "method": "fdb.list", "id": i} for i in range(MAX_BATCH)]
    r, took, worst, n = run_batch_with_probe(d, json.dumps(batch).encode() + b"\n")
    ok = isinstance(r, list)
    ran = [x for x in r if "result" in x] if ok else []
    cut = [x for x in r if "error" in x] if ok else []
    print("  fdb.list batch: %d run, %d cut, %.2f s; probe worst %.0f ms over %d calls" %
          (len(ran), len(cut), took, worst * 1000, n), flush=True)
    check(worst < LATENCY_LIMIT, "switch.info took %.0f ms during the batch" % (worst * 1000))
    check(ok and len(r) == MAX_BATCH, "one answer per request: %s" % str(r)[:200])
    check([x.get("id") for x in r] == list(range(MAX_BATCH)), "answers in request order")
    check(ran and len(ran[0]["result"]) == 600, "fdb.list answered")
    check(cut and all(x["error"]["code"] == ELIMIT and "not run" in x["error"]["message"]
                      for x in cut), "requests past 4 MiB of answers: -32004 not run")
    check(r.index(cut[0]) == len(ran), "the first requests run, the rest cut")
    check(len(json.dumps(r)) < MAX_OUTPUT + (1 << 20), "batch answer bounded")
    with d.client() as c:
        c.result("fdb.flush", {"static": True})


def t_batch_slow_requests_interleaved(ctx):
    d = ctx.d
    # small answers, real work each (500 vhost-user ports added and deleted: ~1 s in all): the
    # batch runs over many rounds, the probe's requests between them
    batch = []
    for i in range(MAX_BATCH // 2):
        batch.append({"jsonrpc": "2.0", "method": "port.add", "id": 2 * i, "params": {
            "name": "b%d" % i, "type": "vhostuser", "path": d.path("b%d.sock" % i)}})
        batch.append({"jsonrpc": "2.0", "method": "port.del", "id": 2 * i + 1,
                      "params": {"name": "b%d" % i}})
    r, took, worst, n = run_batch_with_probe(d, json.dumps(batch).encode() + b"\n")
    check(isinstance(r, list) and len(r) == MAX_BATCH and
          all("result" in x for x in r), "port.add/del batch: %s" % str(r)[:300])
    check([x["id"] for x in r] == list(range(MAX_BATCH)), "answers in request order")
    print("  port.add/del batch: %.2f s; probe worst %.0f ms over %d calls" %
          (took, worst * 1000, n), flush=True)
    # one vhost-user port.add/del waits for an RCU grace period of the PMDs, 100+ ms (seen: 1.7 s)
    # when other busy PMDs share their core: the probe waits for one such request, never for the
    # batch (answered whole, the probe would wait about as long as the batch took)
    limit = max(SLOW_REQUEST_LIMIT, took / 2)
    check(worst < limit, "switch.info took %.0f ms during the %.1f s batch (limit %.0f ms)" %
          (worst * 1000, took, limit * 1000))


def t_batch_100k(ctx):
    d = ctx.d
    # 100 000 requests fit in 1 MiB only as tiny items; the batch is refused as a whole
    r, took, worst, n = run_batch_with_probe(d, b"[" + b",".join([b"{}"] * 100000) + b"]\n")
    check(isinstance(r, dict) and r.get("error", {}).get("code") == EINVALID_REQ and
          "batch too large" in r["error"]["message"] and "max %d" % MAX_BATCH in
          r["error"]["message"], "batch of 100 000: %s" % str(r)[:200])
    check(worst < LATENCY_LIMIT, "switch.info took %.0f ms" % (worst * 1000))
    # written out in full, 100 000 requests are over 1 MiB: "request too large", then closed
    full = json.dumps([{"jsonrpc": "2.0", "method": "switch.info", "id": i}
                       for i in range(100000)]).encode() + b"\n"
    r, took, worst, n = run_batch_with_probe(d, full)
    check(r.get("error", {}).get("code") == EINVALID_REQ and "too large" in
          r["error"]["message"], "full 100 000 batch: %s" % str(r)[:200])
    check(worst < LATENCY_LIMIT, "switch.info took %.0f ms" % (worst * 1000))


def t_batch_then_eof(ctx):
    # a batch sent right before the client shuts its side: still answered whole
    with ctx.d.client() as c:
        c.send([c.request("port.list") for _ in range(500)])
        c.sock.shutdown(socket.SHUT_WR)
        r = c.recv(30)
        check(isinstance(r, list) and len(r) == 500, "batch before EOF answered")
        c.expect_eof()


TESTS = [("robust_idle_256_orchestrator_served", t_idle_256_orchestrator_served),
         ("robust_all_subscribed_refused", t_all_subscribed_refused),
         ("robust_idle_timeout", t_idle_timeout),
         ("robust_ctl_top_outlives_idle_timeout", t_ctl_top_outlives_idle_timeout),
         ("robust_idle_after_unsubscribe", t_idle_unsubscribed_closed),
         ("robust_batch_does_not_starve", t_batch_does_not_starve),
         ("robust_batch_interleaved", t_batch_slow_requests_interleaved),
         ("robust_batch_100k", t_batch_100k),
         ("robust_batch_then_eof", t_batch_then_eof)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
