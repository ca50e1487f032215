#!/usr/bin/env python3
"""test_metrics.py — Prometheus /metrics (metrics.listen, issue #16 section 3) on a real ferryd,
scraped and parsed with prometheus_client's own text parser and checked against port.stats,
filter.list, pmd.list and switch.info read right after the traffic stopped: exact equality for
every counter. Also: HELP/TYPE lines, 404/405, a fresh snapshot per scrape, the HTTP thread off
the PMD cores, bad metrics.listen values refused by --check, an address in use refused at start.

Topology: `src` (net_pcap, a finite capture replayed once at start) with the ipv4_drop_udp filter
(tests/filters) at its ingress -> `dst` (net_null) whose MAC is static in the config. The capture
holds TCP frames (forwarded), UDP frames (the filter drops them) and frames with a multicast
source (dropped as invalid_src before the filter)."""

import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:   # a python3 other than Debian's (pyenv): use the Debian package anyway
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

from ferrytest import Daemon, FERRYD, check, main, mac_bytes, wait_for, write_pcap

BUILD = os.environ.get("BUILD") or os.path.dirname(os.path.dirname(os.path.dirname(FERRYD)))
FILTER = os.path.join(BUILD, "tests", "filters", "ipv4_drop_udp.o")
SRC, DST, BAD_SRC = "02:00:00:00:01:01", "02:00:00:00:02:02", "03:00:00:00:00:07"
N_TCP, N_UDP, N_BAD = 300, 120, 17


def ip_frame(dst, src, proto, seq, payload=26):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + payload, seq & 0xffff, 0, 64, proto, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return mac_bytes(dst) + mac_bytes(src) + b"\x08\x00" + ip + bytes(payload + seq % 50)


def frames():
    out = [ip_frame(DST, SRC, 6, i) for i in range(N_TCP)]
    out += [ip_frame(DST, SRC, 17, i) for i in range(N_UDP)]
    out += [ip_frame(DST, BAD_SRC, 6, i) for i in range(N_BAD)]
    return [out[(i * 7) % len(out)] for i in range(len(out))]   # interleaved (len is prime)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def with_metrics(d, listen):
    with open(d.cfg_path) as f:
        cfg = json.load(f)
    cfg["metrics"] = {"listen": listen}
    with open(d.cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)


def ports(d):
    write_pcap(d.path("in.pcap"), frames())
    return [{"name": "src", "type": "dpdk", "devargs": "net_pcap0,rx_pcap=%s" % d.path("in.pcap"),
             "filters": [{"hook": "ingress", "path": FILTER}]},
            {"name": "dst", "type": "dpdk", "devargs": "net_null0,no-rx=1", "mac": [DST]}]


class Ctx:
    pass


def setup():
    check(os.path.exists(FILTER), "test filter not built: %s" % FILTER)
    ctx = Ctx()
    ctx.port = free_port()
    ctx.url = "http://127.0.0.1:%d/metrics" % ctx.port
    ctx.d = Daemon(ports, tag="metrics")
    with_metrics(ctx.d, "127.0.0.1:%d" % ctx.port)
    ctx.d.start()
    return ctx


def teardown(ctx):
    ctx.d.cleanup()


def scrape(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def samples(text):
    """{(name, frozenset(labels)): value} and {family name: type}."""
    out, types = {}, {}
    for fam in text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out, types


def value(sm, metric, **labels):
    key = (metric, frozenset(labels.items()))
    check(key in sm, "no sample %s%s" % (metric, labels))
    return sm[key]


def quiesced(c):
    """port.stats of every port once src received the whole capture and nothing moves."""
    total = N_TCP + N_UDP + N_BAD
    wait_for(lambda: c.result("port.stats", {"name": "src"})["rx_packets"] == total, timeout=30,
             what="src to receive the %d frames of its capture" % total)
    time.sleep(0.3)   # the burst those frames came in is through the pipeline by then
    return {p["name"]: p for p in c.result("port.stats")}


def test_values(ctx):
    with ctx.d.client() as c:
        st = quiesced(c)
        flist = c.result("filter.list")
        info = c.result("switch.info")
        pmds = c.result("pmd.list")
        status, _, text = scrape(ctx.url)
        after = {p["name"]: p for p in c.result("port.stats")}
    check(status == 200, "status %d" % status)
    check(after == st, "counters moved while quiesced")
    sm, _ = samples(text)
    for name, p in st.items():
        for key in ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes"):
            got = value(sm, "ferry_port_%s_total" % key, port=name)
            check(got == p[key], "%s %s: /metrics %s, port.stats %s" % (name, key, got, p[key]))
        for reason, n in p["drops"].items():
            got = value(sm, "ferry_port_drops_total", port=name, reason=reason)
            check(got == n, "%s drops %s: /metrics %s, port.stats %s" % (name, reason, got, n))
    # the numbers themselves, so that a renderer and a switch both wrong cannot agree
    check(st["src"]["drops"]["invalid_src"] == N_BAD and st["src"]["drops"]["filter"] == N_UDP and
          st["dst"]["tx_packets"] == N_TCP, "unexpected counters: %s" % json.dumps(st))
    check(len(flist) == 1, "filter.list %s" % flist)
    f = flist[0]
    got = value(sm, "ferry_filter_dropped_total", port="src", name=f["name"])
    check(got == f["dropped"] == N_UDP, "filter dropped: /metrics %s, filter.list %s" %
          (got, f["dropped"]))
    got = value(sm, "ferry_filter_passed_total", port="src", name=f["name"])
    check(got == f["passed"] == N_TCP, "filter passed: /metrics %s, filter.list %s" %
          (got, f["passed"]))
    got = value(sm, "ferry_fdb_entries")
    check(got == info["fdb_entries"] and got >= 1, "fdb entries: /metrics %s, switch.info %s" %
          (got, info["fdb_entries"]))
    check(value(sm, "ferry_fdb_size") == info["fdb_size"], "fdb size")
    for pmd in pmds:
        got = value(sm, "ferry_pmd_busy_ratio", lcore=str(pmd["lcore"]))
        check(0.0 <= got <= 1.0 and abs(got - pmd["busy_pct"] / 100.0) < 0.05,
              "busy ratio of lcore %d: /metrics %s, pmd.list %s %%" %
              (pmd["lcore"], got, pmd["busy_pct"]))


FAMILIES = {"ferry_port_rx_packets": "counter", "ferry_port_tx_packets": "counter",
            "ferry_port_rx_bytes": "counter", "ferry_port_tx_bytes": "counter",
            "ferry_port_drops": "counter", "ferry_pmd_busy_ratio": "gauge",
            "ferry_fdb_entries": "gauge", "ferry_filter_dropped": "counter"}


def test_format(ctx):
    status, ctype, text = scrape(ctx.url)
    check(status == 200 and ctype.startswith("text/plain; version=0.0.4"), "content type %r" % ctype)
    _, types = samples(text)
    for fam, typ in FAMILIES.items():
        check(types.get(fam) == typ, "family %s: type %r, expected %s" % (fam, types.get(fam), typ))
    lines = text.splitlines()
    for fam, typ in FAMILIES.items():
        name = fam + "_total" if typ == "counter" else fam
        check("# TYPE %s %s" % (name, typ) in lines, "no TYPE line for %s" % name)
        check(any(x.startswith("# HELP %s " % name) for x in lines), "no HELP line for %s" % name)
    for bad, code in (("/", 404), ("/metrics/x", 404)):
        try:
            scrape(ctx.url.replace("/metrics", bad))
            check(False, "%s answered 200" % bad)
        except urllib.error.HTTPError as e:
            check(e.code == code, "%s: HTTP %d, expected %d" % (bad, e.code, code))
    try:
        scrape(ctx.url, method="POST")
        check(False, "POST answered 200")
    except urllib.error.HTTPError as e:
        check(e.code == 405, "POST: HTTP %d" % e.code)


def test_fresh(ctx):
    """Each scrape is a new snapshot: a static FDB entry added just before is counted."""
    with ctx.d.client() as c:
        before = value(samples(scrape(ctx.url)[2])[0], "ferry_fdb_entries")
        c.result("fdb.add", {"mac": "02:00:00:00:09:09", "vlan": 0, "port": "dst"})
        after = value(samples(scrape(ctx.url)[2])[0], "ferry_fdb_entries")
        c.result("fdb.del", {"mac": "02:00:00:00:09:09", "vlan": 0})
        gone = value(samples(scrape(ctx.url)[2])[0], "ferry_fdb_entries")
    check(after == before + 1 and gone == before, "fdb entries %s, %s, %s" % (before, after, gone))


def test_many_scrapes(ctx):
    """Scrapes from several threads at once while RPC clients work: all answered, ferryd fine."""
    import threading
    errors = []

    def loop():
        try:
            for _ in range(20):
                check(scrape(ctx.url)[0] == 200, "status")
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    ts = [threading.Thread(target=loop) for _ in range(4)]
    for t in ts:
        t.start()
    with ctx.d.client() as c:
        for _ in range(50):
            c.result("port.stats")
    for t in ts:
        t.join()
    check(not errors, "scrape errors: %s" % errors[:3])
    check(ctx.d.alive(), "ferryd died")


def test_thread_off_pmd(ctx):
    """libmicrohttpd's thread runs on the main lcore's CPUs (0), never on the PMD's (1)."""
    pid = ctx.d.proc.pid
    seen = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            comm = f.read().strip()
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            cpus = [x.split(":")[1].strip() for x in f if x.startswith("Cpus_allowed_list")][0]
        seen[comm] = cpus
    mhd = [c for c in seen if c.startswith("MHD")]
    check(mhd, "no libmicrohttpd thread among %s" % seen)
    for c in mhd:
        check(seen[c] == seen["ferryd"] == "0", "thread %s on CPUs %s (main: %s)" %
              (c, seen[c], seen.get("ferryd")))


BAD_LISTEN = ["127.0.0.1", "localhost:9465", "127.0.0.1:0", "127.0.0.1:70000", "[::1]9465",
              "::1:9465", "127.0.0.1:x", "127.0.0.1:", ":9465", "1.2.3:9465", 5]


def test_config_kept(ctx):
    """config.get (and so config.save) keeps metrics.listen."""
    with ctx.d.client() as c:
        cfg = c.result("config.get")
    check(cfg.get("metrics") == {"listen": "127.0.0.1:%d" % ctx.port},
          "config.get metrics: %r" % cfg.get("metrics"))


def test_bad_listen(ctx):
    for bad in BAD_LISTEN:
        with open(ctx.d.cfg_path) as f:
            cfg = json.load(f)
        cfg["metrics"] = {"listen": bad}
        path = ctx.d.path("bad.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run([FERRYD, "--check", "--config", path], capture_output=True, text=True)
        check(p.returncode == 2 and "metrics.listen" in p.stderr,
              "listen %r: exit %d, %r" % (bad, p.returncode, p.stderr.strip()))
    for good in ("[::1]:9465", "0.0.0.0:1"):
        cfg["metrics"] = {"listen": good}
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run([FERRYD, "--check", "--config", path], capture_output=True, text=True)
        check(p.returncode == 0, "listen %r refused: %s" % (good, p.stderr.strip()))
    cfg["metrics"] = {"listen": "127.0.0.1:1", "port": 2}
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = subprocess.run([FERRYD, "--check", "--config", path], capture_output=True, text=True)
    check(p.returncode == 2 and "metrics" in p.stderr, "unknown key: %r" % p.stderr)


def test_address_in_use(ctx):
    """The port ctx's ferryd serves: a second ferryd on it fails at start, saying why."""
    d = Daemon([{"name": "n", "type": "dpdk", "devargs": "net_null0,no-rx=1"}], tag="metrics2")
    try:
        with_metrics(d, "127.0.0.1:%d" % ctx.port)
        d.start(wait=False)
        rc = d.proc.wait(60)
        log = d.log()
        check(rc == 1 and "metrics.listen 127.0.0.1:%d: Address already in use" % ctx.port in log,
              "exit %s: %s" % (rc, d.log_tail()))
    finally:
        d.cleanup()


if __name__ == "__main__":
    main([("metrics_values", test_values), ("metrics_format", test_format),
          ("metrics_fresh", test_fresh), ("metrics_many_scrapes", test_many_scrapes),
          ("metrics_thread_off_pmd", test_thread_off_pmd), ("metrics_config_kept", test_config_kept),
          ("metrics_bad_listen", test_bad_listen),
          ("metrics_address_in_use", test_address_in_use)], setup, teardown)
