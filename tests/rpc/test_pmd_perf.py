#!/usr/bin/env python3
"""test_pmd_perf.py — PMD performance counters (pmd.list), rebalancing by measured cycles and
`ferryctl pmd perf` / `ferryctl top`, on a real ferryd with real traffic. Port `heavy` (net_pcap
replaying a pcap forever: every rx burst is a full one) floods to `dst` and `idle` (net_null, no-rx),
which never receive, so their queues are polled empty every round; `finite` (net_pcap, 100 frames
once) gives bursts of 32, 32, 32, 4 and then none.

Each test can fail (the mutation that makes it fail):
  fields      pmd.list's new members (any of them left out)
  hist        burst_hist counts every rx call: sums to iterations x queues polled, heavy's in "32"
              and finite's last burst in "4-7" (empty polls not counted; bucket = size)
  share       per rxq cycles and busy_share over the last interval: heavy's share large, the idle
              queues' 0, shares sum to <= 1, cycles grow (cycles charged to r->port->idx + 1)
  interval    the interval is about a second and covers its PMD's cycles (no sampling in
              ferry_switch_poll)
  rebalance   2 PMDs: the two heavy queues, both on PMD 0, are split by their measured cycles
              (rxq_loads ignoring cycles: the log says "by packets")
  metrics     /metrics: ferry_pmd_busy_cycles_total, ferry_pmd_idle_cycles_total between two
              pmd.list reads, ferry_pmd_rxq_busy_ratio = busy_share, /ferry/pmds' busy_cycles and
              idle_cycles (busy and idle swapped)
  ctl_perf    ferryctl pmd perf prints the report (the command-table line removed)
  ctl_top     ferryctl top -n 2 -d 2: two tables whose rates agree with port.stats deltas (rates
              not divided by the elapsed time)
  ctl_top_json  ferryctl --json top -n 3 -d 1.5: exactly 3 JSON lines, no screen codes; heavy's rx
              rates > 0, dst sends what heavy receives, the rates times the intervals add up to
              no more than port.stats' deltas around the run and most of them, bytes per packet
              as port.stats has them (the interval left out of a rate, bps not times 8, the tables
              printed instead, a line per port)"""

import json
import re
import socket
import time
import urllib.request

from ferrytest import Daemon, check, ferryctl, main, wait_for, write_pcap, eth_frame
from test_telemetry import tel

SRC_MAC, DST_MAC = "02:00:00:00:01:01", "02:00:00:00:02:02"   # unknown: flooded
HIST = ["0", "1", "2-3", "4-7", "8-15", "16-31", "32"]


def pcap(d, name, n=256):
    write_pcap(d.path(name), [eth_frame(DST_MAC, SRC_MAC, 46, i) for i in range(n)])
    return d.path(name)


def ports(d):
    return [{"name": "heavy", "type": "dpdk",
             "devargs": "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap(d, "in.pcap")},
            {"name": "finite", "type": "dpdk",
             "devargs": "net_pcap1,rx_pcap=%s" % pcap(d, "finite.pcap", 100)},
            {"name": "dst", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
            {"name": "idle", "type": "dpdk", "devargs": "net_null1,no-rx=1"}]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup():
    d = Daemon(ports, tag="perf")
    with open(d.cfg_path) as f:
        cfg = json.load(f)
    d.metrics = "http://127.0.0.1:%d/metrics" % free_port()
    cfg["metrics"] = {"listen": d.metrics[len("http://"):-len("/metrics")]}
    with open(d.cfg_path, "w") as f:
        json.dump(cfg, f)
    d.start()
    with d.client() as c:   # two intervals closed, the second one under traffic
        wait_for(lambda: c.result("pmd.list")[0]["interval"]["packets"] > 0, what="an interval")
    time.sleep(1.1)
    return d


def teardown(d):
    d.cleanup()


def pmd0(c):
    return c.result("pmd.list")[0]


def rxq(p, port):
    return next(r for r in p["rxqs"] if r["port"] == port)


def t_fields(d):
    with d.client() as c:
        p = pmd0(c)
    for k in ("busy_cycles", "idle_cycles", "tsc_hz", "burst_hist", "interval", "iterations",
              "busy_pct", "cycles_per_packet", "packets"):
        check(k in p, "pmd.list lacks %s: %s" % (k, json.dumps(p)[:300]))
    check(list(p["burst_hist"]) == HIST, "burst_hist buckets %s" % list(p["burst_hist"]))
    for k in ("seconds", "busy_pct", "busy_cycles", "idle_cycles", "packets", "iterations",
              "burst_hist"):
        check(k in p["interval"], "interval lacks %s: %s" % (k, p["interval"]))
    for r in p["rxqs"]:
        for k in ("port", "queue", "packets", "cycles", "interval_cycles", "busy_share"):
            check(k in r, "rxq lacks %s: %s" % (k, r))


def t_hist(d):
    with d.client() as c:
        for p, finite in ((pmd0(c), 1), (pmd0(c)["interval"], 0)):
            h, it, nq = p["burst_hist"], p["iterations"], 4
            polls = sum(h.values())
            check(abs(polls - it * nq) <= 2 * nq,
                  "%d rx calls counted, %d iterations x %d queues" % (polls, it, nq))
            # heavy gives a full burst every round, dst and idle none, finite 3 full and one of 4
            check(abs(h["32"] - (it + 3 * finite)) <= 2 and abs(h["0"] - (3 * it - 4 * finite)) <= 6,
                  "burst sizes %s for %d iterations" % (h, it))
            check(h["4-7"] == finite and sum(h[b] for b in HIST[1:6]) == finite,
                  "partial bursts %s" % h)


def t_share(d):
    with d.client() as c:
        a = pmd0(c)
        time.sleep(1.2)
        b = pmd0(c)
    h, dst, idle = rxq(b, "heavy"), rxq(b, "dst"), rxq(b, "idle")
    check(h["busy_share"] > 0.3, "heavy's share of the busy cycles: %s" % h)
    check(dst["busy_share"] == 0 and idle["busy_share"] == 0 and dst["cycles"] == 0 and
          idle["cycles"] == 0, "queues that never receive took cycles: %s %s" % (dst, idle))
    total = sum(r["busy_share"] for r in b["rxqs"])
    check(0 < total <= 1.0, "shares sum to %f" % total)
    grew = h["cycles"] - rxq(a, "heavy")["cycles"]
    busy = b["busy_cycles"] - a["busy_cycles"]
    check(0 < grew <= busy, "heavy's cycles grew by %d while the PMD was busy %d" % (grew, busy))
    check(h["interval_cycles"] <= b["interval"]["busy_cycles"],
          "interval: heavy %d > busy %d" % (h["interval_cycles"], b["interval"]["busy_cycles"]))


def t_interval(d):
    with d.client() as c:
        p = pmd0(c)
    v = p["interval"]
    check(0.5 <= v["seconds"] <= 2.5, "interval of %f s" % v["seconds"])
    ran = (v["busy_cycles"] + v["idle_cycles"]) / p["tsc_hz"]
    check(abs(ran - v["seconds"]) <= 0.1 * v["seconds"],
          "the PMD's cycles cover %f s of a %f s interval" % (ran, v["seconds"]))
    check(v["packets"] > 0 and v["iterations"] > 0 and v["busy_pct"] > 0, "interval %s" % v)


def two_pmd_ports(d):
    """heavy a and b land on PMD 0, null n1 and n2 on PMD 1 (sw_assign_rxqs in config order)."""
    return [{"name": "a", "type": "dpdk",
             "devargs": "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap(d, "a.pcap")},
            {"name": "n1", "type": "dpdk", "devargs": "net_null0,no-rx=1", "rxq": 1},
            {"name": "b", "type": "dpdk",
             "devargs": "net_pcap1,rx_pcap=%s,infinite_rx=1" % pcap(d, "b.pcap")},
            {"name": "n2", "type": "dpdk", "devargs": "net_null1,no-rx=1", "rxq": 1}]


def where(pmds):
    return {r["port"]: p["pmd"] for p in pmds for r in p["rxqs"]}


def t_rebalance(_):
    d = Daemon(two_pmd_ports, tag="perf2")
    with open(d.cfg_path) as f:
        cfg = json.load(f)
    cfg["lcores"]["pmd"] = [1, 2]   # both on CPU 1, as tests/vhost/two_pmds.sh
    cfg["eal_args"] = ["--lcores", "0@0,1@1,2@1"]
    with open(d.cfg_path, "w") as f:
        json.dump(cfg, f)
    try:
        d.start()
        with d.client() as c:
            w = where(c.result("pmd.list"))
            check(w == {"a": 0, "n1": 1, "b": 0, "n2": 1}, "initial assignment %s" % w)
            wait_for(lambda: rxq(c.result("pmd.list")[0], "b")["interval_cycles"] > 0,
                     what="an interval with cycles")
            time.sleep(1.1)   # the next one under traffic from its start
            pmds = c.result("pmd.list")
            # both PMDs share CPU 1: a queue's wall-clock cycles include the time its PMD was
            # preempted in its burst, so only the sum is predictable
            a, b = rxq(pmds[0], "a"), rxq(pmds[0], "b")
            check(a["interval_cycles"] > 0 and b["interval_cycles"] > 0 and
                  a["busy_share"] + b["busy_share"] > 0.5, "heavy queues: %s" % pmds[0]["rxqs"])
            moved = c.result("pmd.rebalance")["moved"]
            w = where(c.result("pmd.list"))
            check(moved >= 1 and w["a"] != w["b"], "after rebalance (%d moved): %s" % (moved, w))
            check("pmd rebalance by cycles" in d.log(), "log: %s" % d.log_tail(3))
    finally:
        d.cleanup()


def t_ctl_perf(d):
    rc, out, err = ferryctl(d, "pmd", "perf")
    check(rc == 0, "ferryctl pmd perf: %d %s" % (rc, err))
    for s in ("pmd 0 (lcore 1", "iterations", "busy cycles", "idle cycles", "rx burst sizes",
              "port heavy queue 0", "port idle queue 0"):
        check(s in out, "pmd perf output lacks %r:\n%s" % (s, out))
    m = re.search(r"port heavy queue 0 .*?busy share:\s+([\d.]+) %", out)
    check(m and float(m.group(1)) > 30, "heavy's share in\n%s" % out)


def table_rows(text, section):
    """The rows of every table of `section` ("PORT" or "PMD") in ferryctl top's plain output."""
    tables, cur = [], None
    for line in text.splitlines():
        f = line.split()
        if f and f[0] == section:
            cur = []
            tables.append(cur)
        elif not f or f[0] in ("PORT", "PMD") or line.startswith("ferry"):
            cur = None
        elif cur is not None:
            cur.append(f)
    return tables


def t_ctl_top(d):
    with d.client() as c:
        s0 = c.result("port.stats", {"name": "heavy"})["rx_packets"]
        t0 = time.monotonic()
        rc, out, err = ferryctl(d, "top", "-n", "2", "-d", "2")
        t1 = time.monotonic()
        s1 = c.result("port.stats", {"name": "heavy"})["rx_packets"]
    check(rc == 0, "ferryctl top: %d %s" % (rc, err))
    ports, pmds = table_rows(out, "PORT"), table_rows(out, "PMD")
    check(len(ports) == 2 and len(pmds) == 2, "expected two tables:\n%s" % out)
    # the two 2 s rates average to port.stats' rate over the whole run (ferryctl's start-up
    # aside); in each table what heavy receives is what dst sends
    avg = (s1 - s0) / (t1 - t0)
    rates = []
    for t in ports:
        row = {r[0]: r for r in t}
        rates.append(float(row["heavy"][1]))
        check(abs(float(row["dst"][3]) - rates[-1]) <= 0.01 * rates[-1] + 100,
              "heavy rx vs dst tx:\n%s" % out)
        check(float(row["idle"][1]) == 0 and float(row["heavy"][3]) == 0, "idle rx:\n%s" % out)
    check(abs(sum(rates) / 2 - avg) <= 0.15 * avg and min(rates) > 0.3 * avg,
          "heavy rx %s pps, port.stats says %f:\n%s" % (rates, avg, out))
    for t in pmds:
        check(len(t) == 1 and 50 <= float(t[0][2]) <= 100.0 and t[0][-1].startswith("heavy/0"),
              "PMD row %s:\n%s" % (t, out))


def t_ctl_top_json(d):
    with d.client() as c:
        s0 = c.result("port.stats", {"name": "heavy"})
        rc, out, err = ferryctl(d, "--json", "top", "-n", "3", "-d", "1.5")
        s1 = c.result("port.stats", {"name": "heavy"})
    check(rc == 0, "ferryctl --json top: %d %s" % (rc, err))
    check("\033" not in out, "screen control codes in --json output: %r" % out[:200])
    lines = out.splitlines()
    check(len(lines) == 3, "expected 3 JSON lines, got %d:\n%s" % (len(lines), out))
    objs = []
    for line in lines:
        try:
            objs.append(json.loads(line))
        except ValueError as e:
            check(False, "not JSON (%s): %r" % (e, line[:200]))
    pkts = s1["rx_packets"] - s0["rx_packets"]
    bpp = 8.0 * (s1["rx_bytes"] - s0["rx_bytes"]) / pkts   # bits per packet, all frames alike
    counted = 0.0
    for o in objs:
        check(set(o) == {"timestamp", "interval", "ports", "pmds"} and
              re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", o["timestamp"]) and
              0.5 <= o["interval"] <= 10, "refresh object %s" % json.dumps(o)[:300])
        ports = {p["name"]: p for p in o["ports"]}
        check(set(ports) == {"heavy", "finite", "dst", "idle"}, "ports %s" % list(ports))
        for p in ports.values():
            check(set(p) == {"name", "rx_pps", "rx_bps", "tx_pps", "tx_bps", "drops_per_s"},
                  "port rates %s" % p)
        h, dst, idle = ports["heavy"], ports["dst"], ports["idle"]
        check(h["rx_pps"] > 0 and h["rx_bps"] > 0, "heavy's rx rates %s" % h)
        check(abs(h["rx_bps"] - bpp * h["rx_pps"]) <= 1e-6 * h["rx_bps"] + 1,
              "heavy rx %s: port.stats has %f bits per packet" % (h, bpp))
        check(abs(dst["tx_pps"] - h["rx_pps"]) <= 0.01 * h["rx_pps"] + 100,
              "heavy rx %s vs dst tx %s" % (h, dst))
        check(idle["rx_pps"] == 0 and h["tx_pps"] == 0, "idle %s, heavy %s" % (idle, h))
        counted += h["rx_pps"] * o["interval"]
        pmd, = o["pmds"]
        check(set(pmd) == {"pmd", "lcore", "busy_share", "pps", "cycles_per_packet",
                           "top_queue"} and pmd["pmd"] == 0 and pmd["lcore"] == 1 and
              0.5 <= pmd["busy_share"] <= 1.0 and pmd["pps"] > 0 and
              pmd["top_queue"]["port"] == "heavy" and 0 < pmd["top_queue"]["busy_share"] <= 1,
              "PMD rates %s" % pmd)
    # ferryctl's samples lie between the two port.stats reads: its rates over its intervals add
    # up to at most their delta, and to most of it (all but ferryctl's start-up and first wait)
    check(0.5 * pkts <= counted <= pkts * (1 + 1e-6) + 1,
          "the rates count %f frames, port.stats %d around the run" % (counted, pkts))


def metric(text, name, **labels):
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"(\w+)\{([^}]*)\} (\S+)$", line)
        if m and m.group(1) == name and ",".join(sorted(m.group(2).split(","))) == want:
            return float(m.group(3))
    check(False, "no sample %s%s" % (name, labels))


def t_metrics(d):
    with d.client() as c:
        for _ in range(5):   # an interval may close between the reads: try again
            a = pmd0(c)
            with urllib.request.urlopen(d.metrics, timeout=10) as r:
                text = r.read().decode()
            b = pmd0(c)
            if a["interval"] == b["interval"]:
                break
    for key in ("busy_cycles", "idle_cycles"):
        got = metric(text, "ferry_pmd_%s_total" % key, lcore="1")
        check(a[key] <= got <= b[key], "%s: /metrics %s, pmd.list %s..%s" %
              (key, got, a[key], b[key]))
    check("# TYPE ferry_pmd_busy_cycles_total counter" in text and
          "# TYPE ferry_pmd_rxq_busy_ratio gauge" in text, "metric types")
    for q in b["rxqs"]:
        got = metric(text, "ferry_pmd_rxq_busy_ratio", lcore="1", port=q["port"], queue="0")
        check(abs(got - q["busy_share"]) < 1e-5, "%s share: /metrics %s, pmd.list %s" %
              (q["port"], got, q["busy_share"]))
    with d.client() as c:
        a = pmd0(c)
        t, = tel(d, "/ferry/pmds")
        b = pmd0(c)
    for key in ("busy_cycles", "idle_cycles"):
        check(a[key] <= t["pmd0"][key] <= b[key], "%s: telemetry %s, pmd.list %s..%s" %
              (key, t["pmd0"][key], a[key], b[key]))


TESTS = [("pmd_perf_fields", t_fields), ("pmd_perf_hist", t_hist), ("pmd_perf_share", t_share),
         ("pmd_perf_interval", t_interval), ("pmd_perf_ctl_perf", t_ctl_perf),
         ("pmd_perf_ctl_top", t_ctl_top), ("pmd_perf_ctl_top_json", t_ctl_top_json),
         ("pmd_perf_metrics", t_metrics),
         ("pmd_perf_rebalance", t_rebalance)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
