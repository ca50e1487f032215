#!/usr/bin/env python3
"""test_telemetry.py — the /ferry/... DPDK telemetry commands (issue #16 section 3) through DPDK's
own client, dpdk-telemetry.py (package dpdk), against a running ferryd (its --file-prefix names
the runtime directory of the telemetry socket): /ferry/ports, /ferry/port_stats,<name>,
/ferry/pmds and /ferry/fdb answer what port.list, port.stats, pmd.list and switch.info say, exactly,
once the traffic (a finite net_pcap capture -> net_null) has stopped; unknown ports answer null."""

import json
import shutil
import subprocess
import time

from ferrytest import Daemon, check, eth_frame, main, wait_for, write_pcap

SRC, DST = "02:00:00:00:01:01", "02:00:00:00:02:02"
N_FRAMES = 200
TELEMETRY = shutil.which("dpdk-telemetry.py") or "/usr/bin/dpdk-telemetry.py"


def ports(d):
    write_pcap(d.path("in.pcap"), [eth_frame(DST, SRC, 46 + i % 100, i) for i in range(N_FRAMES)] +
               [eth_frame(DST, "01:00:5e:00:00:01", 46, i) for i in range(9)])
    return [{"name": "src", "type": "dpdk", "devargs": "net_pcap0,rx_pcap=%s" % d.path("in.pcap")},
            {"name": "dst", "type": "dpdk", "devargs": "net_null0,no-rx=1", "mac": [DST]},
            {"name": "spare-1.x", "type": "dpdk", "devargs": "net_null1,no-rx=1",
             "admin": "down"}]


def setup():
    d = Daemon(ports, tag="telemetry").start()
    with d.client() as c:
        wait_for(lambda: c.result("port.stats", {"name": "src"})["rx_packets"] == N_FRAMES + 9,
                 timeout=30, what="the capture to be received")
    time.sleep(0.3)
    return d


def teardown(d):
    d.cleanup()


def tel(d, *cmds):
    """Each command's answer (the value under the command's key), through dpdk-telemetry.py."""
    p = subprocess.run([TELEMETRY, "-f", d.prefix], input="\n".join(cmds) + "\n",
                       capture_output=True, text=True, timeout=30)
    lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
    check(p.returncode == 0 and len(lines) == len(cmds),
          "dpdk-telemetry.py: exit %d, out %r, err %r" % (p.returncode, p.stdout[-300:],
                                                          p.stderr[-300:]))
    out = []
    for cmd, line in zip(cmds, lines):
        o = json.loads(line)
        key = cmd.split(",")[0]
        check(key in o, "%s: answer %s" % (cmd, line[:200]))
        out.append(o[key])
    return out


def test_listed(d):
    cmds, = tel(d, "/")
    for c in ("/ferry/ports", "/ferry/port_stats", "/ferry/pmds", "/ferry/fdb"):
        check(c in cmds, "%s not among the commands: %s" % (c, cmds))
    h, = tel(d, "/help,/ferry/port_stats")
    check("port name" in json.dumps(h), "help of /ferry/port_stats: %s" % h)


def test_ports(d):
    with d.client() as c:
        names = [p["name"] for p in c.result("port.list")]
    got, = tel(d, "/ferry/ports")
    check(got == names == ["src", "dst", "spare-1.x"], "ports %s, port.list %s" % (got, names))


def test_port_stats(d):
    with d.client() as c:
        st = {p["name"]: p for p in c.result("port.stats")}
    got = tel(d, *["/ferry/port_stats,%s" % n for n in st])
    for (name, p), t in zip(st.items(), got):
        check(t is not None and t["name"] == name, "%s: %s" % (name, t))
        for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "drops_total", "mac_moves",
                  "learn_full"):
            check(t[k] == p[k], "%s %s: telemetry %s, port.stats %s" % (name, k, t[k], p[k]))
        check(t["drops"] == p["drops"], "%s drops: telemetry %s, port.stats %s" %
              (name, t["drops"], p["drops"]))
    check(st["src"]["rx_packets"] == N_FRAMES + 9 and st["dst"]["tx_packets"] == N_FRAMES and
          st["src"]["drops"]["invalid_src"] == 9, "unexpected counters %s" % st)


def test_pmds(d):
    with d.client() as c:
        pmds = c.result("pmd.list")
    got, = tel(d, "/ferry/pmds")
    check(len(got) == len(pmds), "pmds %s vs %s" % (got, pmds))
    for k, p in enumerate(pmds):
        t = got["pmd%d" % k]
        check(t["lcore"] == p["lcore"] and t["packets"] == p["packets"] and
              t["rx_queues"] == len(p["rxqs"]) and 0 <= t["busy_pct"] <= 100,
              "pmd %d: telemetry %s, pmd.list %s" % (k, t, p))


def test_fdb(d):
    with d.client() as c:
        n = c.result("switch.info")["fdb_entries"]
        first, = tel(d, "/ferry/fdb")
        c.result("fdb.add", {"mac": "02:00:00:00:07:07", "vlan": 3, "port": "dst"})
        second, = tel(d, "/ferry/fdb")
        c.result("fdb.del", {"mac": "02:00:00:00:07:07", "vlan": 3})
        size = c.result("switch.info")["fdb_size"]
    check(first == {"entries": n, "size": size} and second["entries"] == n + 1,
          "fdb %s then %s (switch.info %d of %d)" % (first, second, n, size))


def test_errors(d):
    got = tel(d, "/ferry/port_stats,nope", "/ferry/port_stats")
    check(got == [None, None], "unknown port / no port: %s" % got)
    check(d.alive(), "ferryd died")


if __name__ == "__main__":
    main([("telemetry_listed", test_listed), ("telemetry_ports", test_ports),
          ("telemetry_port_stats", test_port_stats), ("telemetry_pmds", test_pmds),
          ("telemetry_fdb", test_fdb), ("telemetry_errors", test_errors)], setup, teardown)
