"""peers.py — the bench's processes: the guests (dpdk-testpmd on net_virtio_user ports, the
vhost-user servers) and the switches measured side by side (ferry, dpdk-testpmd io, OVS-DPDK),
each with its start, readiness, counters and stop. Python standard library only."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import dpdktel
import mkpcap
from topology import GUEST_PORTS_MAX, QUEUE_SIZE, TX_FIRST_BURSTS, dev_devargs, dev_name
from util import BenchError, NotApplicable, Proc, log, read, rpc_call, tail, wait_for

SWITCHES = ("ferry", "testpmd", "ovs")
# vm2nic: ferry once per zero_copy mode ("ferry-off" = rte_vhost's copying dequeue)
ZC_VARIANTS = ("ferry-off", "ferry-on", "ferry-auto")
# v2v-tcp: ferry with "offloads": false on its vhost ports (issue #19's baseline)
OL_OFF = "ferry-offloads-off"
# pvp/v2v, only when named: ferry writing the guests' receive rings itself ("enqueue": "ferry"),
# dequeue by rte_vhost ("zero_copy": "off"), so that only the enqueue differs from "ferry";
# IOVA-as-VA, which ferry's own rings need (this host's EAL picks PA)
ENQ = "ferry-enq"
TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
OVS_VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


# ---------------------------------------------------------------------------------------------
# guests: dpdk-testpmd with net_virtio_user ports (vhost-user servers), on cpu 0

class Guest:
    def __init__(self, spec, case, run):
        self.spec, self.case, self.run = spec, case, run
        self.prefix = "%s-%s" % (run.prefix, spec["name"])
        self.tel = None
        ports = [p for p in case.ports if p["name"] in spec["ports"]]
        self.n = len(ports)
        argv = ["taskset", "-c", "0", "stdbuf", "-oL", TESTPMD, "--lcores", "0@0,1@0",
                "--main-lcore", "0", "--no-pci", "--in-memory", "--single-file-segments",
                "--file-prefix", self.prefix, "--log-level", "pmd.net.virtio.*:" + os.environ.get("BENCH_GUEST_LOG", "warning")]
        macs = []
        # vm2nic compares switches' dequeue paths: the guest must drive the same ring layout for
        # all of them (ferry's own dequeue refuses IN_ORDER, rte_vhost would accept it)
        ring = ",in_order=0,packed_vq=0" if case.topo == "vm2nic" else ""
        self.first = 0   # the first virtio-user port (after a replay port)
        if spec.get("replay"):   # port 0 replays the pcap (for ever, or once); io 0 -> 1
            argv += ["--vdev", "net_pcap0,rx_pcap=%s%s" % (
                spec["replay"], ",infinite_rx=1" if spec.get("replay_infinite", True) else "")]
            self.first = 1
        qs = spec.get("queue_size", QUEUE_SIZE)
        for i, p in enumerate(ports, self.first):
            argv += ["--vdev", "net_virtio_user%d,path=%s,server=1,queue_size=%d,mac=%s%s" % (
                i, p["sock"], qs, p["mac"], ring)]
            macs.append(p["mac"])
        mbufs = spec.get("mbufs") or self.n * (2 * qs + 32 * TX_FIRST_BURSTS + 512) + 8192
        big = spec.get("replay_frames", 0)   # infinite_rx holds the whole capture in mbufs
        mbufs += big
        argv += ["--", "-i", "--forward-mode=" + spec["mode"], "--nb-cores=1", "--burst=32",
                 "--rxd=%d" % qs, "--txd=%d" % qs,
                 "--total-num-mbufs=%d" % mbufs, "--disable-link-check"]
        if spec.get("mbuf_size"):   # v2v-tcp's sender: 64 KB frames in one mbuf
            argv.append("--mbuf-size=%d" % spec["mbuf_size"])
        elif case.size > 2048:   # one frame = one mbuf (testpmd's default data room is 2048 B);
            # before --txpkts, which testpmd checks against the mbuf size as it parses it
            argv.append("--mbuf-size=%d" % (128 + ((case.size + 1023) // 1024) * 1024))
        argv += ["--txpkts=%d" % spec.get("txpkts", case.size), "--txonly-multi-flow"]
        argv += spec.get("args", [])
        if spec.get("replay") and not spec.get("replay_infinite", True):
            argv.append("--no-flush-rx")   # testpmd's start would drain a finite replay
        argv += os.environ.get("BENCH_GUEST_ARGS", "").split()   # e.g. --record-burst-stats
        for i in range(self.n):   # loops: port 2k sends to port 2k+1's MAC and back
            peer = spec.get("peer") or (macs[i ^ 1] if i ^ 1 < self.n else macs[i])
            argv.append("--eth-peer=%d,%s" % (i + self.first, peer))
        self.proc = Proc("guest " + spec["name"], argv,
                         os.path.join(run.dir, "guest-%s.log" % spec["name"]), stdin=True)

    def connect(self):
        """True once every port of this guest is probed and its link is up."""
        self.proc.check()
        try:
            if self.tel is None:
                self.tel = dpdktel.Telemetry(self.prefix)
            ids = self.tel.port_ids()
            if len(ids) < self.n + self.first:
                return False
            return all((self.tel.cmd("/ethdev/link_status,%d" % i) or {}).get("status") == "UP"
                       for i in ids)
        except (OSError, ValueError, KeyError):
            self.tel = None
            return False

    def start(self):
        for c in self.spec.get("pre_cmds", ()):   # e.g. mac-flood's "set fwd io retry"
            self.proc.send(c)
        tf = self.spec["tx_first"]
        self.proc.send("start tx_first %d" % tf if tf else "start")
        self.stopped = False
        if self.spec.get("sigstop"):   # stalled-guest: it never reads its rings again
            time.sleep(0.5)
            os.kill(self.proc.p.pid, signal.SIGSTOP)
            self.stopped = True

    def check_txonly(self):
        """txonly: the guest really sends frames of the case's size (testpmd falls back to 64 B
        when it refuses --txpkts)."""
        got = wait_for("guest %s txonly start" % self.spec["name"],
                       lambda: re.search(r"packet len=(\d+)", read(self.proc.logpath)), 5)
        if int(got.group(1)) != self.case.size:
            raise BenchError("guest %s sends %s B frames, not %d B: %s" % (
                self.spec["name"], got.group(1), self.case.size,
                " / ".join(l for l in read(self.proc.logpath).splitlines()
                           if "give up" in l or "mbuf" in l)[:200]))

    def rx(self):
        return sum(int(self.tel.stats(i)["ipackets"]) for i in self.tel.port_ids())

    def tx(self):
        """Frames sent by the guest's virtio ports (not its replay port's)."""
        return sum(int(self.tel.stats(i)["opackets"]) for i in self.tel.port_ids()
                   if i >= self.first)

    def stop(self):
        if getattr(self, "stopped", False):
            os.kill(self.proc.p.pid, signal.SIGCONT)
            self.stopped = False
        if self.tel is not None:
            try:
                self.tel.close()
            except OSError:
                pass
        if self.proc.alive():
            try:
                self.proc.send("stop")
            except OSError:
                pass
        self.proc.stop(quit_cmd="quit", timeout=10)


# ---------------------------------------------------------------------------------------------
# switches

class Switch:
    """What every switch driver answers by default: its PMD process, and no extra counters around
    the measurement window (drivers override what they measure)."""

    def pid(self):
        return self.proc.p.pid

    def window_start(self):
        pass

    def window_end(self):
        return {}

    def window_counters_start(self):
        pass

    def window_counters_end(self):
        return {}

    def sample(self):
        """Called every second of the window: a per-second figure of the switch's own, or None."""
        return None


class Ferry(Switch):
    name = "ferry"

    def __init__(self, case, run, args, zc=None, offloads=True, enq=False):
        self.case, self.run, self.zc = case, run, zc
        if zc is not None:
            self.name = "ferry-" + zc
        if not offloads:
            self.name = OL_OFF
        if enq:
            self.name = ENQ
        self.prefix = run.prefix + "-sw"
        self.tel = None
        ports = []
        # VM ports: access ports with the guest's MAC, so the FDB holds it statically from the
        # start (a MAC list on an all-VLAN trunk only filters sources: ferry would flood the
        # first frames); PVP's uplink is in the same access VLAN; P2P's NICs are trunks of all
        # VLANs carrying the pcap's tagged frames. vm2nic's NIC (net_null) is an access port
        # with the remote host's MAC (a static entry: nothing is flooded).
        access = {"mode": "access", "tag": 10}
        for i, p in enumerate(case.ports):
            if p["kind"] in ("pcap", "null"):
                # ferry drops frames longer than a port's MTU + 14 (+4 per tag) on egress, and
                # the benchmark's frames go up to 9000 bytes (1518 untagged): a jumbo MTU
                ports.append({"name": p["name"], "type": "dpdk", "devargs": dev_devargs(i, p),
                              "mtu": 9000})
                if case.topo in ("pvp", "vm2nic"):
                    ports[-1]["vlan"] = access
                if p.get("mac"):
                    ports[-1]["mac"] = [p["mac"]]
            else:
                ports.append({"name": p["name"], "type": "vhostuser", "path": p["sock"],
                              "mode": "client", "mac": [p["mac"]], "vlan": access})
                if zc is not None:
                    ports[-1]["zero_copy"] = zc
                if not offloads:
                    ports[-1]["offloads"] = False
                if enq:
                    ports[-1].update({"enqueue": "ferry", "zero_copy": "off"})
                if p.get("learn"):   # mac-flood: learned (the guest's MAC not pinned)
                    del ports[-1]["mac"]
            if "vlan_tag" in p:      # isolation cases: their own VLANs, and controls
                ports[-1]["vlan"] = {"mode": "access", "tag": p["vlan_tag"]}
            ports[-1].update(p.get("ferry", {}))
        self.sock = os.path.join(run.work, "ferryd.sock")
        self.w0 = None
        cfg = {"lcores": {"main": 0, "pmd": [1]}, "burst": 32, "mbufs": case.mbufs,
               "fdb": {"size": case.fdb, "aging": 3600},
               "rpc": {"socket": self.sock}, "ports": ports}
        if args.filter:   # --filter: filter.attach may name the object (filter_ab)
            cfg["rpc"]["filter_dirs"] = [os.path.dirname(os.path.realpath(args.filter))]
        if getattr(case.hooks, "ferry_cfg", None):   # a case's own config (capture_dir)
            case.hooks.ferry_cfg(cfg, run)
        if zc is not None or enq:
            # zero-copy needs IOVA-as-VA (this host's EAL picks PA); every variant gets it, so
            # copy and zero-copy run in the same memory setup
            cfg["eal_args"] = ["--iova-mode=va"]
        self.cfg = os.path.join(run.dir, "ferry.json")
        with open(self.cfg, "w") as f:
            json.dump(cfg, f, indent=1)
        self.log = os.path.join(run.dir, "ferryd.log")
        self.argv = [args.ferryd, "--config", self.cfg, "--", "--file-prefix", self.prefix,
                     "--in-memory"]
        self.proc = None

    def start(self):
        self.proc = Proc("ferryd", self.argv, self.log)

    def ready(self):
        self.proc.check()
        text = read(self.log)
        return ("ferryd ready" in text and
                text.count("guest connected") >= self.case.n_vhost())

    def port_tx(self, name):
        if self.tel is None:
            self.tel = dpdktel.Telemetry(self.prefix)
            self.ids = {self.tel.name(i): i for i in self.tel.port_ids()}
        i = [p["name"] for p in self.case.ports].index(name)
        return int(self.tel.stats(self.ids[dev_name(i, self.case.ports[i])])["opackets"])

    def port_rx(self, name):
        """Frames a NIC port received (policed ones included: the driver's count)."""
        self.port_tx(name)
        i = [p["name"] for p in self.case.ports].index(name)
        return int(self.tel.stats(self.ids[dev_name(i, self.case.ports[i])])["ipackets"])

    def loop_entries(self, macs):
        """How many of {mac: port} the FDB holds on that port."""
        have = {(e["mac"].lower(), e["port"]) for e in rpc_call(self.sock, "fdb.list",
                                                                 timeout=30)}
        return sum((m.lower(), p) in have for m, p in macs.items())

    def fdb_count(self):
        return len(rpc_call(self.sock, "fdb.list", timeout=30))

    # window counters: ferry's own come at exit (whole run), see stop(); vm2nic also reads the
    # PMD's cycles and the guest port's zero_copy counters over the window (RPC)

    def _snap(self, zc=True):
        pmd = rpc_call(self.sock, "pmd.list")[0]
        busy = pmd["cycles_per_packet"] * pmd["packets"]
        snap = {"busy": busy, "pkts": pmd["packets"],
                "total": busy * 100.0 / pmd["busy_pct"] if pmd["busy_pct"] > 0 else None}
        for p in self.case.ports if zc else ():
            if p["kind"] == "vhost":
                zc = rpc_call(self.sock, "port.stats", {"name": p["name"]}).get("zero_copy") or {}
                snap["zc"] = zc
                break
        return snap

    def window_start(self):
        self.w0 = self.prev = self._snap() if self.case.topo == "vm2nic" or \
            getattr(self.case, "window_cycles", False) else None

    def sample(self):
        """vm2nic: the PMD's cycles per packet over the last second."""
        if self.w0 is None:
            return None
        s, prev = self._snap(zc=False), self.prev
        self.prev = s
        dp = s["pkts"] - prev["pkts"]
        return round((s["busy"] - prev["busy"]) / dp, 1) if dp > 0 else None

    def ab_pairs(self, n, sink, vhost="vm1", settle=0.3, second=1.0):
        """vm2nic, zero_copy on: n pairs of adjacent seconds of this run, copying (port.set
        zero_copy off: the same dequeue copies every frame) then lending. Mode flips of the
        machine last seconds, so a pair sees one machine: its ratio is the robust figure."""
        out = []
        try:
            for _ in range(n):
                pair = {}
                for mode in ("off", "on"):
                    rpc_call(self.sock, "port.set", {"name": vhost, "zero_copy": mode})
                    time.sleep(settle)
                    a, ca, ta = self._snap(zc=False), self.port_tx(sink), time.time()
                    time.sleep(second)
                    b, cb, tb = self._snap(zc=False), self.port_tx(sink), time.time()
                    dp = b["pkts"] - a["pkts"]
                    pair["copy" if mode == "off" else "zc"] = {
                        "cycles": round((b["busy"] - a["busy"]) / dp, 1) if dp > 0 else None,
                        "mpps": round((cb - ca) / (tb - ta) / 1e6, 4)}
                out.append(pair)
        finally:
            rpc_call(self.sock, "port.set", {"name": vhost, "zero_copy": "on"})
        return out

    def filter_ab(self, n, obj, sink, port="nic0", settle=0.3, second=1.0):
        """--filter: n pairs of adjacent seconds of this run, without then with obj attached at
        port's ingress (filter.attach / filter.detach): same ferryd, guest and machine mode."""
        out = []
        name = "bench_ab"
        try:
            for _ in range(n):
                pair = {}
                for mode in ("none", "filter"):
                    if mode == "filter":
                        r = rpc_call(self.sock, "filter.attach", {"port": port, "hook": "ingress",
                                                                  "path": obj, "name": name})
                    time.sleep(settle)
                    a, ca, ta = self._snap(zc=False), self.port_tx(sink), time.time()
                    time.sleep(second)
                    b, cb, tb = self._snap(zc=False), self.port_tx(sink), time.time()
                    dp = b["pkts"] - a["pkts"]
                    pair[mode] = {"cycles": round((b["busy"] - a["busy"]) / dp, 1) if dp > 0
                                  else None, "mpps": round((cb - ca) / (tb - ta) / 1e6, 4)}
                    if mode == "filter":
                        f = rpc_call(self.sock, "filter.list", {"port": port})[0]
                        pair["jit"] = f["jit"]
                        rpc_call(self.sock, "filter.detach", {"port": port, "name": name})
                        if f["dropped"] != 0 or not r.get("attached"):
                            raise BenchError("filter dropped %d frames" % f["dropped"])
                out.append(pair)
        except Exception:
            try:
                rpc_call(self.sock, "filter.detach", {"port": port, "name": name})
            except Exception:  # noqa: BLE001 - not attached
                pass
            raise
        return out

    def window_end(self):
        if self.w0 is None:
            return {}
        w0, w1 = self.w0, self._snap()
        out = {}
        dp = w1["pkts"] - w0["pkts"]
        if dp > 0:
            out["cycles_per_packet"] = round((w1["busy"] - w0["busy"]) / dp, 1)
        if w0["total"] and w1["total"] and w1["total"] > w0["total"]:
            out["busy_pct"] = round(100.0 * (w1["busy"] - w0["busy"]) /
                                    (w1["total"] - w0["total"]), 1)
        z0, z1 = w0.get("zc", {}), w1.get("zc", {})
        if z1:
            lent = z1.get("lent", 0) - z0.get("lent", 0)
            copied = z1.get("copied", 0) - z0.get("copied", 0)
            # nothing lent nor copied by ferry's own dequeue: rte_vhost's took every frame
            out["zc"] = {"mode": z1.get("mode"), "state": z1.get("state"), "lent": lent,
                         "copied": copied,
                         "lent_pct": round(100.0 * lent / (lent + copied), 1)
                         if lent + copied else 0.0}
        return out

    def stop(self):
        if self.tel is not None:
            self.tel.close()
        if self.proc is None:
            return {}
        rc = self.proc.stop(signal.SIGTERM, timeout=15)
        out = {"exit_status": rc, "ports": {}}
        for line in read(self.log).splitlines():
            m = re.search(r"\b(stats|pmd) (\{.*\})\s*$", line)
            if not m:
                continue
            d = json.loads(m.group(2))
            if m.group(1) == "pmd":
                out["cycles_per_packet"] = round(d["cycles_per_packet"], 1)
                out["busy_pct"] = round(d["busy_pct"], 1)
                out["pmd_packets"] = d["packets"]
            else:
                out["ports"][d["name"]] = {"rx": d["rx_packets"], "tx": d["tx_packets"],
                                           "drops": {k: v for k, v in d["drops"].items() if v},
                                           "mac_moves": d.get("mac_moves", 0)}
                if d.get("zero_copy"):   # whole run; the non-zero reasons and errors only
                    z = d["zero_copy"]
                    out["ports"][d["name"]]["zero_copy"] = dict(
                        {k: z.get(k) for k in ("mode", "state", "lent", "lent_bytes", "copied",
                                               "copied_bytes", "inflight_max", "no_mbuf",
                                               "forced_returns")},
                        copy_reasons={k: v for k, v in (z.get("copy_reasons") or {}).items()
                                      if v},
                        bad_descriptors={k: v for k, v in
                                         (z.get("bad_descriptors") or {}).items() if v})
        if "cycles_per_packet" not in out:
            raise BenchError("ferryd logged no pmd counters: " + tail(self.log, 6))
        sent = full = 0
        for p in self.case.ports:
            if p["kind"] == "vhost" and p["name"] in out["ports"]:
                sent += out["ports"][p["name"]]["tx"]
                full += out["ports"][p["name"]]["drops"].get("tx_full", 0)
        if sent + full:
            out["to_guest_drop_pct"] = round(100.0 * full / (sent + full), 1)
        return out


class GuestDropWindow(Switch):
    """Switches that count frames offered to guests (_guest_tx -> sent, dropped): the share dropped
    at the guests' rings during the measurement window."""

    def window_counters_start(self):
        self.gt0 = self._guest_tx()

    def window_counters_end(self):
        s1, d1 = self._guest_tx()
        s, d = s1 - self.gt0[0], d1 - self.gt0[1]
        return {"to_guest_drop_pct": round(100.0 * d / (s + d), 1)} if s + d else {}


class TestpmdSwitch(GuestDropWindow):
    name = "testpmd"

    def __init__(self, case, run, args):
        self.case, self.run = case, run
        self.prefix = run.prefix + "-sw"
        self.tel = None
        if len(case.ports) > GUEST_PORTS_MAX:
            raise NotApplicable("testpmd: %d ports > RTE_MAX_ETHPORTS %d" % (
                len(case.ports), GUEST_PORTS_MAX))
        argv = ["stdbuf", "-oL", TESTPMD, "--lcores", "0@0,1@1", "--main-lcore", "0",
                "--no-pci", "--in-memory", "--file-prefix", self.prefix]
        self.devs = []
        for i, p in enumerate(case.ports):
            if p["kind"] in ("pcap", "null"):
                dev = dev_devargs(i, p)
            else:
                dev = "net_vhost%d,iface=%s,client=1,queues=1%s" % (
                    i, p["sock"], getattr(case, "testpmd_vhost_args", ""))
            argv += ["--vdev", dev]
            self.devs.append(dev.split(",")[0])
        argv += ["--", "--forward-mode=io", "--auto-start", "--nb-cores=1", "--burst=32",
                 "--rxd=1024", "--txd=1024", "--total-num-mbufs=%d" % case.mbufs,
                 "--disable-link-check", "--port-topology=paired"]
        self.log = os.path.join(run.dir, "testpmd-switch.log")
        self.argv = argv
        self.proc = None

    def start(self):
        self.proc = Proc("testpmd switch", self.argv, self.log, stdin=True)

    def _tel(self):
        if self.tel is None:
            self.tel = dpdktel.Telemetry(self.prefix)
            self.ids = {self.tel.name(i): i for i in self.tel.port_ids()}
        return self.tel

    def ready(self):
        self.proc.check()
        if "Press enter to exit" not in read(self.log):
            return False
        try:
            t = self._tel()
            for i, p in enumerate(self.case.ports):
                if p["kind"] == "vhost":
                    st = t.cmd("/ethdev/link_status,%d" % self.ids[self.devs[i]]) or {}
                    if st.get("status") != "UP":
                        return False
            return True
        except (OSError, ValueError, KeyError):
            self.tel = None
            return False

    def port_tx(self, name, what="opackets"):
        i = [p["name"] for p in self.case.ports].index(name)
        return int(self._tel().stats(self.ids[self.devs[i]])[what])

    def port_rx(self, name):
        return self.port_tx(name, "ipackets")

    def _guest_tx(self):
        """(sent, dropped) towards the guests. io forwarding sends what port i^1 received on
        port i and frees what the tx burst refused (net_vhost does not count those)."""
        sent = dropped = 0
        for i, p in enumerate(self.case.ports):
            if p["kind"] == "vhost" and (i ^ 1) < len(self.case.ports):
                tx = int(self._tel().stats(self.ids[self.devs[i]])["opackets"])
                rx = int(self._tel().stats(self.ids[self.devs[i ^ 1]])["ipackets"])
                sent += tx
                dropped += max(0, rx - tx)
        return sent, dropped

    def stop(self):
        if self.tel is not None:
            self.tel.close()
        if self.proc is None:
            return {}
        rc = self.proc.stop(timeout=15, quit_cmd="")   # "Press enter to exit"
        return {"exit_status": rc}


class Ovs(GuestDropWindow):
    name = "ovs"

    def __init__(self, case, run, args):
        self.case, self.run = case, run
        self.dir = os.path.join(run.work, "ovs")
        self.rundir = os.path.join(self.dir, "run")
        os.makedirs(self.rundir, exist_ok=True)
        self.env = dict(os.environ, OVS_RUNDIR=self.rundir, OVS_DBDIR=self.dir,
                        OVS_LOGDIR=run.dir, OVS_SYSCONFDIR=self.dir, OVS_PKGDATADIR=self.dir)
        self.db = "unix:" + os.path.join(self.rundir, "db.sock")
        self.ctl = os.path.join(self.rundir, "ovs-vswitchd.ctl")
        self.dbctl = os.path.join(self.rundir, "ovsdb-server.ctl")
        self.log = os.path.join(run.dir, "ovs-vswitchd.log")
        self.pids = []
        self.ofport = {p["name"]: i + 1 for i, p in enumerate(case.ports)}
        self.args = args
        self.proc = None

    def start(self):
        case, run, args = self.case, self.run, self.args
        dbfile = os.path.join(self.dir, "conf.db")
        self.sh(["ovsdb-tool", "create", dbfile, OVS_SCHEMA])
        self.sh(["taskset", "-c", "0", "ovsdb-server", dbfile, "--remote=punix:" + self.db[5:],
                 "--pidfile=" + os.path.join(self.rundir, "ovsdb-server.pid"),
                 "--unixctl=" + self.dbctl, "--detach", "--no-chdir",
                 "--log-file=" + os.path.join(run.dir, "ovsdb-server.log")])
        self.pids.append(os.path.join(self.rundir, "ovsdb-server.pid"))
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                   "other_config:dpdk-init=true", "other_config:dpdk-lcore-mask=0x1",
                   "other_config:pmd-cpu-mask=0x2",
                   "other_config:dpdk-socket-mem=%d" % args.ovs_socket_mem,
                   "other_config:dpdk-socket-limit=%d" % max(args.ovs_socket_mem, 2048),
                   "other_config:dpdk-extra=--in-memory --file-prefix=%s-ovs --no-pci" %
                   run.prefix, *getattr(case, "ovs_other_config", []))
        self.sh(["taskset", "-c", "0", OVS_VSWITCHD, self.db,
                 "--pidfile=" + os.path.join(self.rundir, "ovs-vswitchd.pid"),
                 "--unixctl=" + self.ctl, "--detach", "--no-chdir", "--log-file=" + self.log])
        self.pids.append(os.path.join(self.rundir, "ovs-vswitchd.pid"))
        if self.vsctl("get", "Open_vSwitch", ".", "dpdk_initialized").strip() != "true":
            raise BenchError("OVS: DPDK not initialized: " + tail(self.log, 8))
        cmd = ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev",
               "other_config:mac-table-size=262144", "other_config:disable-in-band=true",
               "fail_mode=standalone"]
        for i, p in enumerate(case.ports):
            cmd += ["--", "add-port", "br0", p["name"], "--", "set", "Interface", p["name"],
                    "ofport_request=%d" % (i + 1)]
            if p["kind"] in ("pcap", "null"):
                cmd += ["type=dpdk", "options:dpdk-devargs=" + dev_devargs(i, p)]
            else:
                cmd += ["type=dpdkvhostuserclient", "options:vhost-server-path=" + p["sock"]]
            if p.get("ovs_police_kbps"):   # the same policing as ferry's (burst: 10 ms)
                cmd += ["ingress_policing_rate=%d" % p["ovs_police_kbps"],
                        "ingress_policing_burst=%d" % max(p["ovs_police_kbps"] // 100, 64)]
            if "vlan_tag" in p:
                cmd += ["--", "set", "Port", p["name"], "tag=%d" % p["vlan_tag"]]
        self.vsctl(*cmd, timeout=60)
        self.sh(["ovs-ofctl", "mod-port", "br0", "br0", "no-flood"])
        for p in case.ports:
            if p.get("mac") and not p.get("learn"):   # guests' (vm2nic: the remote's) MACs are
                # known, as ferry's lists
                self.appctl("fdb/add", "br0", p["name"], str(p.get("vlan_tag", 0)), p["mac"])
        self.stations = case.kw.get("stations", 0)
        self.extra_ready_s = 180 if self.stations > 1000 else 30
        self.ready_t0, self.loaded = None, False

    def sh(self, argv, timeout=30):
        r = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise BenchError("OVS: %s failed: %s %s" % (" ".join(argv[:3]), r.stderr.strip(),
                                                          tail(self.log, 5)))
        return r.stdout

    def vsctl(self, *a, timeout=30):
        return self.sh(["ovs-vsctl", "--db=" + self.db, "--timeout=%d" % timeout] + list(a),
                       timeout=timeout + 5)

    def appctl(self, *a, target=None):
        return self.sh(["ovs-appctl", "-t", target or self.ctl] + list(a))

    def unixctl_bulk(self, method, param_list, batch=200):
        """Many unixctl requests over one connection (ovs-appctl would fork once each)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(self.ctl)
        dec = json.JSONDecoder()
        buf = ""
        for start in range(0, len(param_list), batch):
            chunk = param_list[start:start + batch]
            s.sendall("".join(json.dumps({"id": start + i, "method": method, "params": p})
                              for i, p in enumerate(chunk)).encode())
            got = 0
            while got < len(chunk):
                data = s.recv(1 << 16)
                if not data:
                    raise BenchError("OVS: unixctl connection closed")
                buf += data.decode(errors="replace")
                while buf.strip():
                    buf = buf.lstrip()
                    try:
                        obj, end = dec.raw_decode(buf)
                    except ValueError:
                        break
                    buf = buf[end:]
                    got += 1
                    if obj.get("error"):
                        raise BenchError("OVS: %s %s: %s" % (method, chunk[0], obj["error"]))
        s.close()

    def fdb_entries(self):
        out = self.appctl("fdb/stats-show", "br0")
        m = re.search(r"Current/maximum MAC entries in the table: (\d+)", out)
        return int(m.group(1)) if m else 0

    def ready(self):
        text = read(self.log)
        if len(re.findall(r"vHost Device '.*' has been added", text)) < self.case.n_vhost():
            return False
        for p in self.case.ports:
            if p["kind"] in ("pcap", "null"):
                st = self.vsctl("get", "Interface", p["name"], "error").strip()
                if st not in ("[]", ""):
                    raise BenchError("OVS: port %s: %s" % (p["name"], st))
        # P2P: learning goes through upcalls; measure once the stations are in the MAC table.
        # OVS polls a new port a moment before its bridge knows it and drops what arrives then
        # ("received packet on unknown port"): a small learning pass can vanish whole; then the
        # stations are loaded with fdb/add (what the pass teaches ferry; slow for 100k, where the
        # pass is long enough to get through)
        if self.stations == 0:
            return True
        have = self.fdb_entries()
        if have >= self.stations:
            return True
        if self.ready_t0 is None:
            self.ready_t0 = time.time()
        elif not self.loaded and self.stations <= 10000 and time.time() - self.ready_t0 > 3:
            self.loaded = True
            log("      OVS learned %d of %d stations: loading them with fdb/add" % (
                have, self.stations))
            self.unixctl_bulk("fdb/add", [["br0", "nic1", str(mkpcap.station_vlan(k)),
                                           mkpcap.mac_str(mkpcap.station_mac(k))]
                                          for k in range(self.stations)])
        return False

    def port_tx(self, name, what="tx"):
        out = self.sh(["ovs-ofctl", "dump-ports", "br0", str(self.ofport[name])])
        m = re.search(r"%s pkts=(\d+)" % what, out)
        if not m:
            raise BenchError("OVS: no %s counter for %s: %s" % (what, name, out))
        return int(m.group(1))

    def port_rx(self, name):
        """A dpdk port's rx is the driver's count: frames the policer dropped included."""
        return self.port_tx(name, "rx")

    def loop_entries(self, macs):
        """How many of {mac: port} OVS's MAC table holds on that port (fdb/show: port number)."""
        out = self.sh(["ovs-appctl", "-t", self.ctl, "fdb/show", "br0"], timeout=120)
        n = 0
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 3 and f[2].lower() in macs:
                n += f[0] in (str(self.ofport[macs[f[2].lower()]]), macs[f[2].lower()])
        return n

    def fdb_count(self):
        return self.fdb_entries()

    def pid(self):
        try:
            return int(read(os.path.join(self.rundir, "ovs-vswitchd.pid")).strip())
        except ValueError:
            return None

    def _guest_tx(self):
        out = self.sh(["ovs-ofctl", "dump-ports", "br0"])
        sent = dropped = 0
        vh = {self.ofport[p["name"]] for p in self.case.ports if p["kind"] == "vhost"}
        for m in re.finditer(r"port\s+(\d+): rx [^\n]*\n\s+tx pkts=(\d+), bytes=\d+, drop=(\d+)",
                             out):
            if int(m.group(1)) in vh:
                sent += int(m.group(2))
                dropped += int(m.group(3))
        return sent, dropped

    def window_start(self):
        self.appctl("dpif-netdev/pmd-stats-clear")

    def window_end(self):
        out = self.appctl("dpif-netdev/pmd-stats-show")
        r0 = {"ovs_fdb_entries": self.fdb_entries()} if self.stations else {}
        with open(os.path.join(self.run.dir, "ovs-pmd-stats.txt"), "w") as f:
            f.write(out)
        r = dict(r0)
        m = re.search(r"avg processing cycles per packet: ([\d.]+)", out)
        if m:
            r["cycles_per_packet"] = float(m.group(1))
        m = re.search(r"processing cycles: \d+ \(([\d.]+)%\)", out)
        if m:
            r["busy_pct"] = float(m.group(1))
        return r

    def stop(self):
        for target, args in ((self.ctl, ["exit", "--cleanup"]), (self.dbctl, ["exit"])):
            try:
                subprocess.run(["ovs-appctl", "-t", target] + args, env=self.env,
                               capture_output=True, timeout=20)
            except subprocess.TimeoutExpired:
                pass
        for pf in self.pids:
            try:
                pid = int(read(pf).strip() or 0)
            except ValueError:
                pid = 0
            if pid <= 0:
                continue
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.1)
            else:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        return {}


ADAPTERS = {"ferry": Ferry, "testpmd": TestpmdSwitch, "ovs": Ovs}


def adapter(switch, case, run, args):
    if switch in ZC_VARIANTS:
        return Ferry(case, run, args, zc=switch.split("-", 1)[1])
    if switch == OL_OFF:
        return Ferry(case, run, args, offloads=False)
    if switch == ENQ:
        return Ferry(case, run, args, enq=True)
    return ADAPTERS[switch](case, run, args)


def is_ferry(switch):
    return switch in ("ferry", OL_OFF, ENQ) or switch in ZC_VARIANTS

