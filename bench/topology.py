"""topology.py — the bench's cases: which switch ports (NIC = pcap replay or net_null, vhost-user),
which guests, where the rate is counted. The classic topologies (pvp, p2p, v2v, scale, vm2nic) are
here; the isolation cases (issue #17) in isolation.py, the capture-on-an-idle-port A/B (issue #16)
in capture_idle.py, V2V TCP with TSO guests (issue #19) in v2v_tcp.py. Python standard library
only."""
import argparse
import os

import mkpcap
from util import BenchError

VM2NIC_SIZES = (64, 128, 256, 512, 1024, 1518, 2048, 4096, 9000)
GUEST_PORTS_MAX = 32          # RTE_MAX_ETHPORTS of Debian's DPDK build
TX_FIRST_BURSTS = 16          # closed loops: 16 x 32 frames in flight per guest port
QUEUE_SIZE = 1024             # virtio ring size of every guest port
VM2NIC_GUEST = os.environ.get("BENCH_VM2NIC_GUEST", "replay")   # or txonly


def guest_mac_str(i):
    return mkpcap.mac_str(mkpcap.guest_mac(i))


class Case:
    def __init__(self, topo, label, size=64, **kw):
        self.topo, self.label, self.size = topo, label, size
        self.kw = kw
        self.name = "%s-%s" % (topo, label)
        self.ports = []        # {"name", "kind": pcap|vhost, ...}
        self.guests = []       # {"name", "ports": [vhost port names], "mode", "tx_first"}
        self.sink = None       # ("port", name): tx of that switch port; ("guests",): guest rx
        self.mbufs = 32768
        self.fdb = 65536
        self.pairs = False     # testpmd io pairs: (0,1), (2,3), ... in port order
        self.warmup_min = 0.0
        self.isolation = False  # an isolation case (issue #17): its own table, not the main one
        self.connect_extra_s = 0   # more seconds for the guests to come up (a big replay pcap)
        self.switches = None   # the switches that run it (None: all); others are "n/a"
        self.na_why = ""       # why the others are n/a
        self.ferry_cfg = {}    # merged into ferryd's config (e.g. {"rpc": {...}})
        # a case's own steps around the measurement (see measure() in bench.py): an object with
        # any of start_guests(ctx), after_window(ctx, rec)
        self.hooks = None
        self.variants = None   # the switches it runs, when not the named ones (v2v-tcp: + ferry
        # with offloads off); filtered by --switches

    def n_vhost(self):
        return sum(1 for p in self.ports if p["kind"] == "vhost")


def build_case(topo, label, work, smoke):
    if topo == "pvp":
        size = int(label)
        c = Case("pvp", label, size)
        pcap = os.path.join(work, "pvp-%d.pcap" % size)
        if not os.path.exists(pcap):
            mkpcap.write_pcap(pcap, mkpcap.gen_pvp(argparse.Namespace(
                size=size, guest=1, frames=4096, seed=1)))
        c.ports = [{"name": "nic0", "kind": "pcap", "pcap": pcap, "infinite": True},
                   {"name": "vm1", "kind": "vhost", "mac": guest_mac_str(1)}]
        c.guests = [{"name": "g1", "ports": ["vm1"], "mode": "macswap", "tx_first": 0}]
        c.sink = ("port", "nic0")
        return c
    if topo == "p2p":
        n = {"1": 1, "1k": 1000, "100k": 100000, "1m": 1000000}[label]
        c = Case("p2p", label, 64, stations=n)
        pcap = os.path.join(work, "p2p-%d.pcap" % n)
        learn = os.path.join(work, "learn-%d.pcap" % n)
        if not os.path.exists(pcap):
            mkpcap.write_pcap(pcap, mkpcap.gen_p2p(argparse.Namespace(
                size=64, stations=n, vlans=4, frames=4096, seed=1)))
            # three passes: a switch that drops the first frames of a new port still learns all
            mkpcap.write_pcap(learn, 3 * mkpcap.gen_learn(argparse.Namespace(
                size=64, stations=n, vlans=4)))
        frames = max(4096, n)
        c.ports = [{"name": "nic0", "kind": "pcap", "pcap": pcap, "infinite": True},
                   {"name": "nic1", "kind": "pcap", "pcap": learn, "infinite": False}]
        c.sink = ("port", "nic1")
        c.mbufs = max(32768, 1 << (frames + 24576).bit_length())
        if n >= 1000000:   # nic0's replay holds 1 M mbufs: no power of two (2 M = 5 GB)
            c.mbufs = frames + 32768
        # OVS installs 100k megaflows through upcalls and its revalidators: it converges over
        # seconds; measure closer to its steady state (per-second rates show the ramp)
        c.warmup_min = 10.0 if n >= 100000 else 0.0
        c.fdb = max(65536, 1 << (2 * n).bit_length())   # fdb.size: 2x headroom at least
        if n >= 1000000:   # issue #20's case: the stations learned before the warm-up
            import fdb_scale
            c.hooks = fdb_scale.LearnFirst(n)
            c.connect_extra_s = 40   # each switch loads the 80 MB capture into mbufs at start
            c.window_cycles = True   # ferry's cycles/packet over the window, not learning's
            c.switches = ["ferry", "testpmd"]
            c.na_why = ("OVS-DPDK's mbuf pool holds at most 262 144 mbufs (netdev-dpdk "
                        "MAX_NB_MBUF) and net_pcap's infinite_rx needs one per frame of the "
                        "1 000 000-frame replay: eth_rx_queue_setup refuses nic0")
        return c
    if topo in ("v2v", "scale"):
        n = 2 if topo == "v2v" else int(label)
        c = Case(topo, label, 64, ports=n)
        c.ports = [{"name": "vm%d" % i, "kind": "vhost", "mac": guest_mac_str(i)}
                   for i in range(1, n + 1)]
        names = [p["name"] for p in c.ports]
        for g in range(0, n, GUEST_PORTS_MAX):
            c.guests.append({"name": "g%d" % (g // GUEST_PORTS_MAX + 1),
                             "ports": names[g:g + GUEST_PORTS_MAX], "mode": "io",
                             "tx_first": TX_FIRST_BURSTS})
        c.sink = ("guests",)
        c.pairs = True
        return c
    if topo == "vm2nic":
        # guest -> vhost-user -> net_null (an infinitely fast NIC: its tx frees the mbufs at once,
        # so lent buffers come back within the burst; no-rx: it sends nothing). The guest writes
        # every frame it sends, as a guest's network stack does (testpmd io from a replayed pcap:
        # net_pcap copies each frame into a fresh mbuf); BENCH_VM2NIC_GUEST=txonly: testpmd
        # txonly, which writes the headers only (its payload bytes are never touched)
        size = int(label)
        c = Case("vm2nic", label, size)
        remote = mkpcap.mac_str(mkpcap.remote_mac(1))
        c.ports = [{"name": "nic0", "kind": "null", "mac": remote},
                   {"name": "vm1", "kind": "vhost", "mac": guest_mac_str(1)}]
        c.guests = [{"name": "g1", "ports": ["vm1"], "mode": "txonly", "tx_first": 0,
                     "peer": remote}]
        if VM2NIC_GUEST == "replay":
            pcap = os.path.join(work, "vm2nic-%d.pcap" % size)
            if not os.path.exists(pcap):
                mkpcap.write_pcap(pcap, mkpcap.gen_vm2nic(argparse.Namespace(
                    size=size, guest=1, frames=1024, seed=1)))
            c.guests[0].update(mode="io", replay=pcap)
        c.sink = ("port", "nic0")
        return c
    import capture_idle
    import isolation
    import v2v_tcp
    if topo in v2v_tcp.TOPOS:
        return v2v_tcp.build_case(topo, label, work, smoke)
    if topo in isolation.TOPOS:
        return isolation.build_case(topo, label, work, smoke)
    if topo in capture_idle.TOPOS:
        return capture_idle.build_case(topo, label, work, smoke)
    raise BenchError("unknown topology %s" % topo)


def pcap_devargs(i, p):
    return "net_pcap%d,rx_pcap=%s%s" % (i, p["pcap"], ",infinite_rx=1" if p["infinite"] else "")


def dev_devargs(i, p):
    """The DPDK device of a switch's NIC port: a pcap replay or net_null (tx frees, no rx)."""
    if p["kind"] == "null":
        return "net_null%d,no-rx=1" % i
    return pcap_devargs(i, p)


def dev_name(i, p):
    return dev_devargs(i, p).split(",")[0]



FULL_CASES = [("pvp", "64"), ("pvp", "512"), ("pvp", "1518"),
              ("p2p", "1"), ("p2p", "1k"), ("p2p", "100k"), ("p2p", "1m"),
              ("v2v", "64"),
              ("scale", "2"), ("scale", "16"), ("scale", "64")]
FULL_CASES += [("vm2nic", str(s)) for s in VM2NIC_SIZES]
SMOKE_CASES = [("pvp", "64"), ("p2p", "1k"), ("v2v", "64"), ("scale", "4"), ("vm2nic", "1518")]


def all_cases():
    """(full, smoke) case lists, the isolation and capture cases included."""
    import capture_idle
    import isolation
    import v2v_tcp
    return (FULL_CASES + v2v_tcp.FULL_CASES + isolation.FULL_CASES + capture_idle.FULL_CASES,
            SMOKE_CASES + v2v_tcp.SMOKE_CASES + isolation.SMOKE_CASES + capture_idle.SMOKE_CASES)
