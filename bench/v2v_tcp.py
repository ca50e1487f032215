"""v2v_tcp.py — V2V TCP with guests that use TCP segmentation offload (issue #19): case
`v2v-tcp-64k`, its sender's setup and its table (Gbit/s of TCP payload per switch core).

Sender g1 (vm1): testpmd, a net_pcap port replaying 8 TCP/IPv4 frames of 64 000 payload bytes
(one flow, consecutive sequence numbers; one 64 KB mbuf each: --mbuf-size 65535, as net_pcap's
infinite_rx copies only a frame's first segment) forwarded by the `csum` engine to the
virtio-user port, set up as a guest's stack would after feature negotiation: `csum set tcp hw`,
`tso set 1460`: where the switch offered HOST_TSO4/6 and CSUM the virtio PMD writes a GSO header
(gso_size 1460, NEEDS_CSUM) and the 64 KB frame is one descriptor chain; where it did not (ferry
"offloads": false) testpmd refuses TSO and the sender segments in software (`set port 1 gso on`:
rte_gso, 1514-byte frames; the csum engine checksums the 64 KB frame in software first, and
rte_gso does not redo it per segment, so those frames' checksums are not valid — no switch here
reads them; the guest's work is of a software checksum's size). Receiver g2 (vm2): testpmd
rxonly, `--rx-offloads=0x1c` (TCP_LRO, TCP/UDP_CKSUM: GUEST_TSO4/6 and GUEST_CSUM requested,
granted where offered), counting bytes. Payload = received bytes - 54 per received frame.
Python standard library only."""
import os
import re
import struct
import time

from topology import Case, guest_mac_str
from util import BenchError, cell, log, read, rpc_call, stats_of

TOPOS = ("v2v-tcp",)
FULL_CASES = [("v2v-tcp", "64k")]
SMOKE_CASES = []          # 64 KB mbufs and a port restart: not for the CI smoke
PAYLOAD, MSS, FRAMES = 64000, 1460, 8
HDRS = 54                 # Ethernet + IPv4 + TCP, no options
OL_OFF = "ferry-offloads-off"
GOAL_ON_OFF, GOAL_VS_OVS = 3.0, 1.0


def csum16(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp_frames(src, dst, payload=PAYLOAD, n=FRAMES):
    """n TCP/IPv4 frames of one flow, consecutive sequence numbers, valid checksums."""
    out, seq = [], 1000
    sip, dip = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    for k in range(n):
        data = bytes(((seq + j) * 7 + ((seq + j) >> 8)) & 0xFF for j in range(payload))
        tcp = struct.pack("!HHIIBBHHH", 40000, 5201, seq, 1, 5 << 4, 0x18, 65535, 0, 0)
        ph = sip + dip + struct.pack("!BBH", 0, 6, len(tcp) + payload)
        c = csum16(ph + tcp + data)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + payload, k, 0x4000, 64, 6, 0,
                         sip, dip)
        ip = ip[:10] + struct.pack("!H", csum16(ip)) + ip[12:]
        out.append(dst + src + b"\x08\x00" + ip + tcp + data)
        seq += payload
    return out


def build_case(topo, label, work, smoke):
    import mkpcap
    c = Case("v2v-tcp", label, HDRS + PAYLOAD)
    pcap = os.path.join(work, "tcp-%d.pcap" % PAYLOAD)
    if not os.path.exists(pcap):
        mkpcap.write_pcap(pcap, tcp_frames(mkpcap.guest_mac(1), mkpcap.guest_mac(2)))
    c.ports = [{"name": "vm%d" % i, "kind": "vhost", "mac": guest_mac_str(i)} for i in (1, 2)]
    c.guests = [{"name": "g1", "ports": ["vm1"], "mode": "csum", "tx_first": 0, "replay": pcap,
                 "peer": guest_mac_str(2), "queue_size": 256, "mbufs": 2048, "mbuf_size": 65535,
                 "txpkts": 1514},
                {"name": "g2", "ports": ["vm2"], "mode": "rxonly", "tx_first": 0,
                 "txpkts": 1514, "mbuf_size": 2176}]   # testpmd's default: 2 KB buffers
    c.sink = ("guest", "g2")
    c.variants = ["ferry", OL_OFF, "testpmd", "ovs"]
    c.ovs_other_config = ["other_config:userspace-tso-enable=true"]
    # testpmd io as the cable: net_vhost keeps HOST_TSO (tso=1) and, with the legacy flags,
    # its dequeue sets TX_TCP_SEG from the guest's header, which its enqueue writes to the other
    c.testpmd_vhost_args = ",tso=1,legacy-ol-flags=1"
    c.hooks = Hooks()
    return c


class Hooks:
    def start_guests(self, ctx):
        """The receiver listens; the sender's virtio port is set up for TSO (or, refused, for
        software GSO) while stopped, restarted, then forwards."""
        g1, g2 = ctx.guests
        # the receiver asks for what the switch offered (virtio-user knows it once connected)
        caps = self._ask(g2, "show port 0 rx_offload capabilities",
                         r"Rx Offloading Capabilities of port 0 :\s*Per Queue :.*\n"
                         r"\s*Per Port\s*:.*")
        self.lro = "TCP_LRO" in caps
        if self.lro:
            self._restart(g2, 0, ["port config 0 rx_offload tcp_lro on",
                                  "port config 0 rx_offload tcp_cksum on"])
        g2.start()
        for cmd in ("port stop 1", "csum set ip sw 1", "csum set tcp hw 1"):
            g1.proc.send(cmd)
        ans = self._ask(g1, "tso set %d 1" % MSS,
                        r"TSO segment size for non-tunneled packets is|TSO is not supported")
        self.tso = ans.startswith("TSO segment")
        self._restart(g1, 1, [] if self.tso else ["set port 1 gso on"], stopped=True)
        g1.start()
        log("      sender: %s; receiver: %s" % (
            "TSO (gso_size %d in the virtio-net header)" % MSS if self.tso
            else "no TSO offered: software GSO in the guest",
            "LRO (GUEST_TSO4/6) and rx checksum" if self.lro else "no LRO offered"))
        return False

    @staticmethod
    def _ask(g, cmd, answer):
        """Send a testpmd command, return the text of its answer (regex) once logged."""
        n0 = len(read(g.proc.logpath))
        g.proc.send(cmd)
        for _ in range(50):
            m = re.search(answer, read(g.proc.logpath)[n0:])
            if m:
                return m.group(0)
            time.sleep(0.1)
        raise BenchError("guest %s: no answer to %s" % (g.spec["name"], cmd))

    @staticmethod
    def _restart(g, port, cmds, stopped=False):
        """port stop, cmds, port start (renegotiates with the switch), until the link is up."""
        for c in ([] if stopped else ["port stop %d" % port]) + cmds + ["port start %d" % port]:
            g.proc.send(c)
        g.tel = None
        time.sleep(1.0)
        for _ in range(100):
            if g.connect():
                return
            time.sleep(0.2)
        raise BenchError("guest %s: link not up again after port start" % g.spec["name"])

    def _rx(self, g2):
        st = g2.tel.stats(g2.tel.port_ids()[0])
        return int(st["ipackets"]), int(st["ibytes"]), time.time()

    def window_start(self, ctx):
        self.w0 = self._rx(ctx.guests[1])

    def after_window(self, ctx, rec):
        p1, b1, t1 = self._rx(ctx.guests[1])
        p0, b0, t0 = self.w0
        dp, db = p1 - p0, b1 - b0
        rec["tcp_gbps"] = round((db - HDRS * dp) * 8 / (t1 - t0) / 1e9, 3)
        rec["rx_frame_bytes"] = round(db / dp) if dp else None
        rec["sender_tso"], rec["receiver_lro"] = self.tso, self.lro
        if ctx.run.switch in ("ferry", OL_OFF):
            rec["negotiated"] = {p: rpc_call(ctx.sw.sock, "port.get", {"name": p}).get(
                "offloads_negotiated") for p in ("vm1", "vm2")}
        log("      %s: %.2f Gbit/s TCP payload, %s B per received frame, sender %s%s" % (
            ctx.run.switch, rec["tcp_gbps"], rec["rx_frame_bytes"],
            "TSO" if self.tso else "GSO", ", negotiated %s" % rec["negotiated"]
            if rec.get("negotiated") else ""))


def per_core(r):
    if r.get("tcp_gbps") is None or not r.get("switch_pmd_cpu_pct"):
        return None
    return r["tcp_gbps"] * 100.0 / min(100.0, max(r["switch_pmd_cpu_pct"], 1.0))


def summarize(records):
    by = {}
    for r in records:
        if r.get("ok"):
            by.setdefault(r["switch"], {})[r["repeat"]] = r
    out = {"switch": {}}
    for s, reps in by.items():
        rs = list(reps.values())
        out["switch"][s] = {"gbps": stats_of([r.get("tcp_gbps") for r in rs]),
                            "gbps_per_core": stats_of([per_core(r) for r in rs]),
                            "frame_bytes": stats_of([r.get("rx_frame_bytes") for r in rs]),
                            "pmd_cpu_pct": stats_of([r.get("switch_pmd_cpu_pct") for r in rs]),
                            "drop_pct": stats_of([r.get("to_guest_drop_pct") for r in rs]),
                            "sender_tso": sorted({r.get("sender_tso") for r in rs}, key=str),
                            "negotiated": next((r["negotiated"] for r in rs
                                                if r.get("negotiated")), None)}

    def ratio(a, b):
        return stats_of([per_core(by[a][k]) / per_core(by[b][k]) for k in by.get(a, {})
                         if k in by.get(b, {}) and per_core(by[a][k]) and per_core(by[b][k])])
    out["on_vs_off"] = ratio("ferry", OL_OFF)
    out["ferry_vs_ovs"] = ratio("ferry", "ovs")
    out["ferry_vs_testpmd"] = ratio("ferry", "testpmd")
    return out


def markdown(records, meta):
    recs = [r for r in records if r["topo"] in TOPOS]
    if not recs:
        return []
    s = summarize(recs)
    L = ["## V2V TCP with TSO guests (issue #19): Gbit/s of TCP payload per switch core", "",
         "Sender guest: testpmd csum engine, 64 000-byte TCP segments, `tso set %d` on its "
         "virtio-user port (software GSO where the switch offers no TSO); receiver: rxonly with "
         "LRO/rx checksum requested. Payload Gbit/s at the receiver, divided by the share of "
         "cpu 1 the switch's PMD got; median (min-max) over repeats; ratios per repeat. Where "
         "to-guest drops are high (frames refused by the receiver's full ring) the receiver "
         "guest, sharing cpu 0 with the sender, was the bound rather than the switch: the "
         "per-core figure then scales a guest-bound rate." % MSS,
         "", "| switch | Gbit/s | Gbit/s per core | B per received frame | PMD cpu % | "
         "to-guest drops % | sender |", "|---|---|---|---|---|---|---|"]
    for sw in ("ferry", OL_OFF, "testpmd", "ovs"):
        d = s["switch"].get(sw)
        na = next((r for r in recs if r["switch"] == sw and r.get("na")), None)
        if d is None:
            err = next((r.get("error") for r in recs if r["switch"] == sw), None)
            if na or err:
                L.append("| %s | %s | | | | | |" % (sw, ("n/a: " if na else "FAIL: ") +
                                                   (err or "")[:150].replace("|", "/")))
            continue
        L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            sw, cell(d["gbps"]), cell(d["gbps_per_core"]), cell(d["frame_bytes"], 0),
            cell(d["pmd_cpu_pct"], 0), cell(d.get("drop_pct"), 1),
            "/".join("TSO" if t else "GSO" for t in d["sender_tso"])))
    L.append("")

    def goal(st, g):
        return "-" if st is None else ("met" if st["median"] >= g else "NOT met")
    L.append("ferry on/off (per core): %s (goal >= %.0fx: %s); ferry/OVS: %s (goal > 1: %s); "
             "ferry/testpmd io: %s." % (cell(s["on_vs_off"]), GOAL_ON_OFF,
                                       goal(s["on_vs_off"], GOAL_ON_OFF), cell(s["ferry_vs_ovs"]),
                                       goal(s["ferry_vs_ovs"], GOAL_VS_OVS),
                                       cell(s["ferry_vs_testpmd"])))
    for sw in ("ferry", OL_OFF):
        neg = (s["switch"].get(sw) or {}).get("negotiated")
        if neg:
            L.append("")
            L.append("%s negotiated: %s." % (sw, "; ".join("%s %s" % (p, " ".join(f or []) or
                                                                      "none")
                                                           for p, f in neg.items())))
    L.append("")
    return L
