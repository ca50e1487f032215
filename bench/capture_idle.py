"""capture_idle.py — issue #16's figure: a capture of one port costs the others nothing measurable.

Case `pvp-capture-64`: the PVP 64 B topology (nic0 pcap replay <-> vm1, macswap guest) plus one
idle port (`idle`, net_null, its own VLAN 30: nothing reaches it). After the usual window, the
same ferryd alternates seconds without and with a `capture.start` (both directions, no filter)
on `idle`, --ab-pairs pairs, the order of each pair alternating (off/on, on/off, ...) so a trend
within the run does not favour one side; per second the PVP rate (nic0's tx) and the PMD's cycles
per frame (`pmd.list` busy cycles / frames, both directions). The capture is owned by one RPC
connection kept open for the run (a capture ends with its connection). ferry only: the figure
is about ferry's capture. Python standard library only.
"""
import argparse
import json
import os
import socket
import time

import mkpcap
from topology import Case, guest_mac_str
from util import BenchError, cell, log, stats_of

TOPOS = ("pvp-capture",)
FULL_CASES = [("pvp-capture", "64")]
SMOKE_CASES = [("pvp-capture", "64")]


def build_case(topo, label, work, smoke):
    size = int(label)
    c = Case(topo, label, size)
    pcap = os.path.join(work, "pvp-%d.pcap" % size)
    if not os.path.exists(pcap):
        mkpcap.write_pcap(pcap, mkpcap.gen_pvp(argparse.Namespace(
            size=size, guest=1, frames=4096, seed=1)))
    c.ports = [{"name": "nic0", "kind": "pcap", "pcap": pcap, "infinite": True, "vlan_tag": 10},
               {"name": "vm1", "kind": "vhost", "mac": guest_mac_str(1)},
               {"name": "idle", "kind": "null", "vlan_tag": 30}]
    c.guests = [{"name": "g1", "ports": ["vm1"], "mode": "macswap", "tx_first": 0}]
    c.sink = ("port", "nic0")
    c.switches, c.na_why = ("ferry",), "the figure is ferry's capture (capture.start)"
    c.hooks = CaptureHooks()
    return c


class RpcConn:
    """One JSON-RPC connection to ferryd kept open (what it starts, e.g. a capture, lives as long
    as the connection)."""

    def __init__(self, path, timeout=5.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf, self.id = b"", 0

    def call(self, method, params=None):
        self.id += 1
        self.s.sendall((json.dumps({"jsonrpc": "2.0", "method": method, "params": params or {},
                                    "id": self.id}) + "\n").encode())
        while b"\n" not in self.buf:
            d = self.s.recv(1 << 16)
            if not d:
                raise BenchError("ferryd closed the RPC connection (%s)" % method)
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        r = json.loads(line.decode())
        if "error" in r:
            raise BenchError("ferryd %s: %s" % (method, r["error"].get("message")))
        return r["result"]

    def close(self):
        self.s.close()


class CaptureHooks:
    def ferry_cfg(self, cfg, run):
        self.dir = os.path.join(run.work, "captures")
        cfg["rpc"]["capture_dir"] = self.dir

    def after_window(self, ctx, rec, settle=0.3, second=1.0):
        sw, n = ctx.sw, ctx.args.ab_pairs
        conn = RpcConn(sw.sock)
        pairs, cid = [], None
        try:
            for i in range(n):
                pair = {"order": "off,on" if i % 2 == 0 else "on,off"}
                for mode in pair["order"].split(","):
                    if mode == "on":
                        cid = conn.call("capture.start", {
                            "port": "idle", "direction": "both",
                            "path": os.path.join(self.dir, "idle-%d.pcapng" % i)})["id"]
                        if not any(x["id"] == cid for x in conn.call("capture.list")):
                            raise BenchError("capture %s not listed" % cid)
                    time.sleep(settle)
                    a, ca, ta = sw._snap(zc=False), sw.port_tx("nic0"), time.time()
                    time.sleep(second)
                    b, cb, tb = sw._snap(zc=False), sw.port_tx("nic0"), time.time()
                    dp = b["pkts"] - a["pkts"]
                    pair[mode] = {"mpps": round((cb - ca) / (tb - ta) / 1e6, 4),
                                  "cycles": round((b["busy"] - a["busy"]) / dp, 1)
                                  if dp > 0 else None}
                    if mode == "on":
                        st = conn.call("capture.stop", {"id": cid})
                        cid = None
                        pair["captured"] = st.get("captured")
                pairs.append(pair)
                log("  capture A/B %d (%s): off %.3f Mpps %s cyc | on %.3f Mpps %s cyc: %.3f" % (
                    i, pair["order"], pair["off"]["mpps"], pair["off"]["cycles"],
                    pair["on"]["mpps"], pair["on"]["cycles"],
                    pair["on"]["mpps"] / pair["off"]["mpps"] if pair["off"]["mpps"] else 0))
        finally:
            if cid is not None:
                try:
                    conn.call("capture.stop", {"id": cid})
                except BenchError:
                    pass
            conn.close()
        rec["capture_ab"] = pairs
        rat = [p["on"]["mpps"] / p["off"]["mpps"] for p in pairs if p["off"]["mpps"] > 0]
        rec["capture_ratio_median"] = stats_of(rat)["median"] if rat else None


def summarize(records):
    """Over every pair of every run: with/without Mpps and cycles (medians, min-max), each side's
    medians, and the per-run medians of the Mpps ratio."""
    recs = [r for r in records if r.get("ok") and r.get("capture_ab")]
    pairs = [p for r in recs for p in r["capture_ab"]]
    if not pairs:
        return None
    cyc = [p for p in pairs if p["on"]["cycles"] and p["off"]["cycles"]]
    return {
        "pairs": len(pairs), "runs": len(recs),
        "mpps_off": stats_of([p["off"]["mpps"] for p in pairs]),
        "mpps_on": stats_of([p["on"]["mpps"] for p in pairs]),
        "mpps_on_vs_off": stats_of([p["on"]["mpps"] / p["off"]["mpps"] for p in pairs
                                    if p["off"]["mpps"] > 0]),
        "cycles_off": stats_of([p["off"]["cycles"] for p in cyc]),
        "cycles_on": stats_of([p["on"]["cycles"] for p in cyc]),
        "cycles_on_vs_off": stats_of([p["on"]["cycles"] / p["off"]["cycles"] for p in cyc]),
        "per_run_mpps_ratio": [r["capture_ratio_median"] for r in recs],
        "window_mpps": stats_of([r["mpps"] for r in recs]),
        "captured": sum(p.get("captured") or 0 for p in pairs)}


def markdown(records, meta):
    s = summarize(records)
    if s is None:
        return []
    return [
        "## Capture of an idle port (issue #16): PVP 64 B, same run A/B", "",
        "ferryd with the PVP 64 B topology plus an idle port (`idle`, net_null, VLAN 30); after "
        "each run's window, %d pairs of adjacent seconds without / with `capture.start` on "
        "`idle` (both directions, no filter), pair order alternating; %d run(s), %d pairs. "
        "Medians over all pairs (min-max); cycles = the PMD's busy cycles per frame (both "
        "directions)." % (meta.get("ab_pairs", 0), s["runs"], s["pairs"]), "",
        "| figure | without capture | with capture on `idle` | with / without |",
        "|---|---|---|---|",
        "| PVP 64 B Mpps | %s | %s | **%s** |" % (cell(s["mpps_off"], 3), cell(s["mpps_on"], 3),
                                                 cell(s["mpps_on_vs_off"], 3)),
        "| cycles / frame | %s | %s | %s |" % (cell(s["cycles_off"], 0), cell(s["cycles_on"], 0),
                                               cell(s["cycles_on_vs_off"], 3)),
        "",
        "Per-run medians of the Mpps ratio: %s; the run's own window: %s Mpps; frames captured "
        "on `idle`: %d." % (", ".join("%.3f" % v for v in s["per_run_mpps_ratio"] if v),
                            cell(s["window_mpps"], 2), s["captured"]), ""]
