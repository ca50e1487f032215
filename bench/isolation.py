"""isolation.py — issue #17's cases, ferry and OVS-DPDK side by side in one run (testpmd where its
io forwarding can run the topology: stalled-guest). What each switch gets as "the same control":

- ferry: `storm` (broadcast_pps) on vm1 in fair-limit, `policer` (kbps) on nic0 in policer,
  `mac_limit` (vhostuser default 256) in mac-flood.
- OVS-DPDK 3.1 (userspace datapath): `ingress_policing_rate`/`ingress_policing_burst` on the
  Interface. It has no per-port storm control (fair-limit polices vm1's whole ingress, which is
  all broadcast there), and `ingress_policing_kpkts_rate` is ignored by netdev-dpdk (its
  set_policing takes the kpkts arguments OVS_UNUSED), so the rate is set in kbps; its policer
  counts a frame's length minus the 14-byte Ethernet header (netdev_dpdk_policer_pkt_handle), so
  10 000 pps of 64 B frames is 4 000 kbps there. It has no per-port MAC limit: a full MAC table
  (other_config:mac-table-size) evicts from the port with the most entries (mac-learning.c's
  fair eviction), which is what mac-flood exercises.
Python standard library only.
"""
import os
import struct
import threading
import time

import dpdktel
import mkpcap
from topology import TX_FIRST_BURSTS, Case, guest_mac_str
from util import cell, fmt, log, rpc_call, stats_of

TOPOS = ("fair", "policer", "stalled-guest", "mac-flood")
BC_MAC = "ff:ff:ff:ff:ff:ff"
FAIR_STORM_PPS = 10000           # fair-limit: vm1's broadcast_pps (ferry) / policer (OVS)
POLICER_KBPS = 100000            # policer: both switches police nic0 at 100 Mbit/s
FLOOD_SINKS = 4                  # fair: vm1's broadcasts are replicated into this many ports
OVS_POLICER_HDR = 14             # OVS-DPDK's policer does not count the Ethernet header
MAC_FLOOD_SOURCES = 1000000      # mac-flood: distinct random source MACs (smoke: 20 000)
MAC_FLOOD_SMOKE = 20000
MAC_FLOOD_LOAD_MAX_S = 180       # give up waiting for a switch to take the whole flood
NO_LOOP = "io forwarding pairs ports (vm1-vm2, vm3-null0, ..): no flooding nor the vm2-vm3 loop"

FULL_CASES = [("fair", "solo"), ("fair", "flood"), ("fair", "limit"), ("fair", "police"),
              ("policer", "64"), ("policer", "1518"),
              ("stalled-guest", "base"), ("stalled-guest", "stalled"), ("mac-flood", "1m")]
SMOKE_CASES = [("fair", "solo"), ("fair", "limit"), ("policer", "64"),
               ("stalled-guest", "stalled"), ("mac-flood", "1m")]


def kbps_of_pps(pps, size):
    return pps * size * 8 // 1000


def build_case(topo, label, work, smoke):
    """fair: vm2 <-> vm3 closed loop (VLAN 10) while vm1 floods 64 B broadcasts into
    FLOOD_SINKS net_null ports (VLAN 20) at its maximum: solo (vm1 idle), flood (no limit),
    limit (ferry: storm broadcast_pps; OVS: ingress_policing_rate of the same frame rate).
    policer: nic0 (pcap, forever) -> nic1 (net_null), nic0 policed at POLICER_KBPS.
    stalled-guest: vm1 <-> vm2 loop while nic0 replays frames to vm3, whose guest reads (base) or
    is stopped (SIGSTOP: stalled). mac-flood: once vm2 <-> vm3 loop (VLAN 10, MACs learned, not
    pinned), vm1's guest sends MAC_FLOOD_SOURCES frames from distinct random source MACs (VLAN
    20, to an unknown MAC: flooded into a net_null); a net_null "spy" in VLAN 10 counts the
    loop's frames that were flooded (an entry of vm2/vm3 lost)."""
    loop = {"name": "g1", "mode": "io", "tx_first": TX_FIRST_BURSTS}
    c = Case(topo, label, int(label) if topo == "policer" else 64)
    c.sink = ("guest", "g1")
    c.isolation = True
    c.switches, c.na_why = ("ferry", "ovs"), NO_LOOP
    c.hooks = Hooks()

    def vm(i, vlan=10, **kw):
        return dict({"name": "vm%d" % i, "kind": "vhost", "mac": guest_mac_str(i),
                     "vlan_tag": vlan}, **kw)
    if topo == "fair":
        c.ports = [vm(1, 20), vm(2), vm(3)] + [{"name": "null%d" % k, "kind": "null",
                                               "vlan_tag": 20} for k in range(FLOOD_SINKS)]
        c.guests = [dict(loop, ports=["vm2", "vm3"]),   # solo: vm1's guest only listens
                    {"name": "g2", "ports": ["vm1"], "mode": "rxonly" if label == "solo" else
                     "txonly", "tx_first": 0, "peer": BC_MAC}]
        # limit: ferry's storm control (drops at the flood decision, after parse and learning);
        # police: ferry's ingress policer at the same frame rate (drops before parse), the
        # control OVS has: both get OVS's ingress_policing_rate
        if label == "limit":
            c.ports[0]["ferry"] = {"storm": {"broadcast_pps": FAIR_STORM_PPS}}
        if label == "police":
            c.ports[0]["ferry"] = {"policer": {"pps": FAIR_STORM_PPS}}
        if label in ("limit", "police"):
            c.ports[0]["ovs_police_kbps"] = kbps_of_pps(FAIR_STORM_PPS, 64 - OVS_POLICER_HDR)
    elif topo == "policer":
        pcap = os.path.join(work, "policer-%s.pcap" % label)
        dst, src = mkpcap.remote_mac(1), mkpcap.remote_mac(2)
        if not os.path.exists(pcap):
            mkpcap.write_pcap(pcap, [mkpcap.frame(dst, src, c.size, sport=1024 + k)
                                     for k in range(256)])
        c.ports = [{"name": "nic0", "kind": "pcap", "pcap": pcap, "infinite": True,
                    "ferry": {"policer": {"kbps": POLICER_KBPS}},
                    "ovs_police_kbps": POLICER_KBPS},
                   {"name": "nic1", "kind": "null", "mac": mkpcap.mac_str(dst)}]
        c.sink = ("port", "nic1")
        c.na_why = "no policer"
        c.hooks = PolicerHooks()
    elif topo == "stalled-guest":
        pcap = os.path.join(work, "stalled.pcap")
        if not os.path.exists(pcap):
            mkpcap.write_pcap(pcap, [mkpcap.frame(mkpcap.guest_mac(3), mkpcap.remote_mac(1), 64,
                                                  sport=1024 + k) for k in range(256)])
        # testpmd io pairs vm1 <-> vm2 (the loop) and vm3 <-> nic0: the same traffic
        c.ports = [vm(1), vm(2), vm(3), {"name": "nic0", "kind": "pcap", "pcap": pcap,
                                         "infinite": True, "vlan_tag": 10}]
        c.guests = [dict(loop, ports=["vm1", "vm2"]),
                    {"name": "g2", "ports": ["vm3"], "mode": "rxonly", "tx_first": 0,
                     "sigstop": label == "stalled"}]
        c.switches = None
    elif topo == "mac-flood":
        n = MAC_FLOOD_SMOKE if smoke else MAC_FLOOD_SOURCES
        pcap = os.path.join(work, "macflood-%d.pcap" % n)
        dst = mkpcap.remote_mac(9)   # unknown: flooded in VLAN 20 (to the net_null)
        if not os.path.exists(pcap):
            t0 = time.time()
            write_macflood_pcap(pcap, n, dst)
            log("      mac-flood: %d frames from distinct random sources written in %.1f s "
                "(%.0f MB)" % (n, time.time() - t0, os.path.getsize(pcap) / 1e6))
        c.ports = [vm(1, 20, learn=True), vm(2, learn=True), vm(3, learn=True),
                   {"name": "null20", "kind": "null", "vlan_tag": 20},
                   {"name": "spy", "kind": "null", "vlan_tag": 10}]
        # the replay is read from the file as the guest forwards it (no infinite_rx: no mbuf
        # held per frame), once; io with tx retry, so every source reaches the switch however
        # slowly the switch takes them: the time the whole flood takes is the switch's
        c.guests = [dict(loop, ports=["vm2", "vm3"]),
                    {"name": "g2", "ports": ["vm1"], "mode": "io", "tx_first": 0,
                     "replay": pcap, "replay_infinite": False, "flood": n,
                     "pre_cmds": ["set fwd io retry", "set burst tx delay 10 retry 100000"],
                     "peer": mkpcap.mac_str(dst)}]
        c.na_why = "no MAC learning"
        c.hooks = MacFloodHooks(n)
    return c


def write_macflood_pcap(path, n, dst, seed=17):
    """n 64 B frames to dst from n distinct pseudo-random locally administered unicast sources:
    02:xx:xx:xx:xx:xx with xx.. = (k * A + B) mod 2^40 for an odd A (a bijection: no source
    repeats). The source MAC is outside the IP/UDP checksums, so one template serves all."""
    tmpl = mkpcap.frame(dst, bytes(6), 64)
    rest = tmpl[12:]
    a, b, m = 0x9E3779B97F, seed * 0x1000193, (1 << 40) - 1   # a is odd
    hdr = struct.Struct("<IIII")
    with open(path, "wb") as f:
        f.write(mkpcap.PCAP_HDR)
        chunk = []
        for k in range(n):
            v = (k * a + b) & m
            chunk.append(hdr.pack(k // 1000000, k % 1000000, 64, 64) + dst + b"\x02" +
                         v.to_bytes(5, "big") + rest)
            if len(chunk) == 65536:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


# --- a case's steps around the measurement (called by bench.measure) ---------------------------

class Hooks:
    """Every isolation case: ferry's per-port isolation counters after the window."""

    def after_window(self, ctx, rec):
        if ctx.sw.name == "ferry":
            rec["ferry_ports"] = {p["name"]: {k: p.get(k) for k in ("drops", "learned",
                                                                    "mac_limit")}
                                  for p in rpc_call(ctx.sw.sock, "port.stats")}


class PolicerHooks(Hooks):
    """policer: the rate offered to nic0 (its rx, policed frames included) over the window, and
    the measured rate in the switch's own accounting."""

    def window_start(self, ctx):
        self.rx0, self.t0 = ctx.sw.port_rx("nic0"), time.time()

    def after_window(self, ctx, rec):
        rx, t = ctx.sw.port_rx("nic0"), time.time()
        size = ctx.case.size
        rec["offered_mpps"] = round((rx - self.rx0) / (t - self.t0) / 1e6, 4)
        rec["policer_kbps"] = POLICER_KBPS
        rec["measured_kbps"] = round(rec["mpps"] * 1e3 * size * 8, 1)   # whole frames, no FCS
        # the bytes the switch's policer counts: ferry the whole frame, OVS frame - 14 B
        hdr = OVS_POLICER_HDR if ctx.sw.name == "ovs" else 0
        rec["policed_kbps"] = round(rec["mpps"] * 1e3 * (size - hdr) * 8, 1)
        Hooks.after_window(self, ctx, rec)


class MacFloodHooks(Hooks):
    """mac-flood: the loop runs and is learned first; then the flood starts (the window starts
    with it); after the window, wait until the flooding guest has put every frame into its ring
    (tx retry: none is dropped at the guest), then count the loop's frames the spy port got
    since the flood began and look the loop's MACs up in the switch's table."""

    def __init__(self, n):
        self.n = n

    def start_guests(self, ctx):
        loop = [g for g in ctx.guests if g.spec["name"] == "g1"]
        flood = [g for g in ctx.guests if g.spec["name"] == "g2"][0]
        for g in loop:
            g.start()
        time.sleep(max(1.0, ctx.args.warmup))   # learned both ways, in a steady state
        self.spy0 = ctx.sw.port_tx("spy")
        self.progress = FloodProgress(flood)
        flood.start()
        self.progress.start()
        return True   # warmed up: the window starts with the flood

    def after_window(self, ctx, rec):
        p = self.progress
        p.join(MAC_FLOOD_LOAD_MAX_S)
        p.stop = True
        rec["sources"] = self.n
        rec["sources_sent"] = p.sent
        rec["load_s"] = round(p.done_t - p.t0, 2) if p.done_t else None
        if p.done_t is None:
            rec["load_note"] = "not done in %d s (%d of %d sent)" % (
                MAC_FLOOD_LOAD_MAX_S, p.sent, self.n)
        time.sleep(0.5)   # the ring's last frames
        rec["flooded_frames"] = ctx.sw.port_tx("spy") - self.spy0
        rec["loop_entries"] = ctx.sw.loop_entries(
            {guest_mac_str(2): "vm2", guest_mac_str(3): "vm3"})
        rec["fdb_entries"] = ctx.sw.fdb_count()
        Hooks.after_window(self, ctx, rec)
        log("      mac-flood %s: %d sources in %s s, loop frames flooded %d, loop entries kept "
            "%d/2, FDB %s entries" % (ctx.sw.name, p.sent, rec["load_s"], rec["flooded_frames"],
                                       rec["loop_entries"], rec["fdb_entries"]))


class FloodProgress(threading.Thread):
    """Polls the flooding guest's virtio tx (its own telemetry connection) every 20 ms: the time
    at which all its frames were in the ring, or it stopped progressing after its replay ended."""

    def __init__(self, guest):
        super().__init__(daemon=True)
        self.g, self.n = guest, guest.spec["flood"]
        self.sent, self.done_t, self.stop = 0, None, False
        self.t0 = time.time()   # made right before the guest is told to start

    def run(self):
        tel = dpdktel.Telemetry(self.g.prefix)
        last, last_t = -1, time.time()
        try:
            while not self.stop and time.time() - self.t0 < MAC_FLOOD_LOAD_MAX_S:
                self.sent = int(tel.stats(self.g.first)["opackets"])
                now = time.time()
                if self.sent >= self.n:
                    self.done_t = now
                    return
                if self.sent != last:
                    last, last_t = self.sent, now
                elif now - last_t > 10 and int(tel.stats(0)["ipackets"]) >= self.n:
                    return   # the replay ended and the ring takes nothing more
                time.sleep(0.02)
        finally:
            tel.close()


# --- figures ------------------------------------------------------------------------------------

def _by(records):
    """{(name, switch): {repeat: record}} of the runs that forwarded."""
    out = {}
    for r in records:
        if r.get("ok"):
            out.setdefault((r["name"], r["switch"]), {})[r["repeat"]] = r
    return out


def _vals(by, name, sw, key):
    return [r.get(key) for r in by.get((name, sw), {}).values()]


def _ratios(by, num, den, sw, key="mpps"):
    """Per repeat num/den of the same switch (runs of one repeat are minutes apart at most)."""
    a, b = by.get((num, sw), {}), by.get((den, sw), {})
    return [a[k][key] / b[k][key] for k in a if k in b and b[k].get(key)]


def summarize(records, quiet=False):
    """Per switch: {figure: stats (median, min, max, n)}; logged unless quiet."""
    by = _by(records)
    out = {}
    for sw in sorted({r["switch"] for r in records}):
        o = {}
        for lab in ("solo", "flood", "limit", "police"):
            o["fair_%s_mpps" % lab] = stats_of(_vals(by, "fair-" + lab, sw, "mpps"))
        for lab in ("flood", "limit", "police"):
            o["fair_%s_vs_solo" % lab] = stats_of(_ratios(by, "fair-" + lab, "fair-solo", sw))
        for size in ("64", "1518"):
            for k in ("measured_kbps", "policed_kbps", "offered_mpps"):
                o["policer_%s_%s" % (size, k)] = stats_of(_vals(by, "policer-" + size, sw, k))
        for lab in ("base", "stalled"):
            o["stalled_%s_mpps" % lab] = stats_of(_vals(by, "stalled-guest-" + lab, sw, "mpps"))
        o["stalled_vs_base"] = stats_of(_ratios(by, "stalled-guest-stalled", "stalled-guest-base",
                                                sw))
        for k in ("mpps", "sources_sent", "load_s", "flooded_frames", "loop_entries",
                  "fdb_entries"):
            o["mac_flood_" + k] = stats_of(_vals(by, "mac-flood-1m", sw, k))
        out[sw] = {k: v for k, v in o.items() if v is not None}
        if out[sw] and not quiet:
            log("isolation %s: %s" % (sw, ", ".join("%s %s" % (k, cell(v, 3))
                                                    for k, v in out[sw].items())))
    return out


SW_TITLE = {"ferry": "ferry", "ovs": "OVS-DPDK", "testpmd": "testpmd io"}


def markdown(records, switches, meta):
    """The isolation table: one row per figure, one column per switch, with the goal."""
    s = summarize(records, quiet=True)
    names = {r["name"] for r in records}
    ran = [sw for sw in switches if sw in {r["switch"] for r in records}]
    na = {(r["name"], r["switch"]): r["error"][5:] for r in records if r.get("na")}
    L = ["## Isolation (issue #17): same run, side by side", "",
         "%d repeat(s), window %ss; one PMD core (cpu 1), every guest on cpu 0. Medians over "
         "repeats (min-max); ratios per repeat (solo and flood runs of the same repeat), then "
         "their median. OVS-DPDK's equivalents: `ingress_policing_rate` (kbps; its policer counts "
         "frame length - 14 B, and `ingress_policing_kpkts_rate` is ignored by netdev-dpdk) for "
         "ferry's storm limit and policer; no per-port MAC limit (its full MAC table evicts from "
         "the port with most entries)." % (meta["repeats"], meta["window_s"]), ""]
    head = ["case", "figure"] + [SW_TITLE.get(sw, sw) for sw in ran] + ["goal"]
    L += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def row(case, fig, key, goal="", nd=2, ok=None, fmt_cell=None):
        if not any(n.startswith(case) for n in names):
            return
        cells = []
        for sw in ran:
            st = s.get(sw, {}).get(key)
            if st is None:
                nak = next((v for (n, w), v in na.items() if n.startswith(case) and w == sw),
                           None)
                cells.append("n/a" if nak else "-")
                continue
            c = fmt_cell(st, sw) if fmt_cell else cell(st, nd)
            if ok is not None:
                c += " (%s)" % ("met" if ok(st["median"], sw) else "**NOT met**")
            cells.append(c)
        L.append("| " + " | ".join([case, fig] + cells + [goal]) + " |")

    row("fair", "vm2↔vm3 loop alone, Mpps", "fair_solo_mpps")
    row("fair", "loop while vm1 floods 64 B broadcast, no limit, Mpps", "fair_flood_mpps")
    row("fair", "same, vm1 limited to %d pps broadcast (ferry `storm`), Mpps" % FAIR_STORM_PPS,
        "fair_limit_mpps")
    row("fair", "same, vm1 policed to %d pps (ferry `policer`), Mpps" % FAIR_STORM_PPS,
        "fair_police_mpps")
    row("fair", "flood / solo, no limit", "fair_flood_vs_solo", "≥ 0.50", ok=lambda v, sw: v >= 0.5)
    ovs_kbps = kbps_of_pps(FAIR_STORM_PPS, 64 - OVS_POLICER_HDR)
    row("fair", "flood / solo, limit set (ferry `storm` broadcast_pps %d; OVS "
        "`ingress_policing_rate` %d kbps = %d pps)" % (FAIR_STORM_PPS, ovs_kbps, FAIR_STORM_PPS),
        "fair_limit_vs_solo", "≥ 0.90", ok=lambda v, sw: v >= 0.9)
    row("fair", "flood / solo, policer set (ferry `policer` pps %d; OVS as above)" %
        FAIR_STORM_PPS, "fair_police_vs_solo", "≥ 0.90", ok=lambda v, sw: v >= 0.9)
    for size in ("64", "1518"):
        pps = POLICER_KBPS * 1000 / 8 / int(size) / 1e6
        row("policer", "%s B: offered to nic0, Mpps" % size, "policer_%s_offered_mpps" % size,
            "≥ 10x the rate (%.3f Mpps)" % pps, nd=3, ok=lambda v, sw, pps=pps: v >= 10 * pps)
        row("policer", "%s B: measured kbps (whole frames), %d configured" % (size, POLICER_KBPS),
            "policer_%s_measured_kbps" % size, "within 5 %",
            ok=lambda v, sw: abs(v / POLICER_KBPS - 1) <= 0.05, nd=0)
        row("policer", "%s B: kbps as the switch's policer counts (OVS: frame - 14 B)" % size,
            "policer_%s_policed_kbps" % size, "within 5 %",
            ok=lambda v, sw: abs(v / POLICER_KBPS - 1) <= 0.05, nd=0)
    row("stalled-guest", "vm1↔vm2 loop, vm3's guest reading, Mpps", "stalled_base_mpps")
    row("stalled-guest", "same, vm3's guest stopped (SIGSTOP), Mpps", "stalled_stalled_mpps")
    row("stalled-guest", "stalled / base", "stalled_vs_base", "≥ 0.95",
        ok=lambda v, sw: v >= 0.95)
    if "mac-flood-1m" in names:
        row("mac-flood", "random sources vm1 sent (all in its ring)", "mac_flood_sources_sent",
            nd=0)
        row("mac-flood", "seconds until the switch took them all", "mac_flood_load_s", nd=2)
        row("mac-flood", "vm2↔vm3 loop during the window (from the flood's start), Mpps",
            "mac_flood_mpps")
        row("mac-flood", "loop frames flooded (to the spy port) since the flood began",
            "mac_flood_flooded_frames", "0", nd=0, ok=lambda v, sw: v == 0)
        row("mac-flood", "loop MACs still learned on vm2/vm3 at the end", "mac_flood_loop_entries",
            "2", nd=0, ok=lambda v, sw: v == 2)
        row("mac-flood", "FDB entries at the end", "mac_flood_fdb_entries", nd=0)
    L.append("")
    for w in ran:
        whys = sorted({"`%s`: %s" % (n.rsplit("-", 1)[0], why) for (n, sw), why in na.items()
                       if sw == w})
        if whys:
            L += ["%s n/a — %s." % (SW_TITLE.get(w, w), "; ".join(whys)), ""]
    fp = [r for r in records if r.get("ferry_ports") and r["name"] == "mac-flood-1m"]
    if fp:
        v = fp[-1]["ferry_ports"].get("vm1", {})
        L += ["ferry's vm1 in mac-flood (last run): learned %s (mac_limit %s), dropped %s as "
              "mac_limit." % (v.get("learned"), v.get("mac_limit"),
                              fmt((v.get("drops") or {}).get("mac_limit"), 0)), ""]
    return L
