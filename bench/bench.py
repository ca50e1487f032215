#!/usr/bin/env python3
"""bench.py — ferry against dpdk-testpmd (io forwarding) and Open vSwitch with DPDK, side by side.

Run through bench/run.sh (which installs packages, reserves hugepages and builds ferryd); see
bench/README.md for the method. Python standard library only.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture_idle  # noqa: E402
import dpdktel  # noqa: E402
import isolation  # noqa: E402
import mkpcap   # noqa: E402
import topology  # noqa: E402
from topology import (GUEST_PORTS_MAX, QUEUE_SIZE, TX_FIRST_BURSTS, VM2NIC_GUEST,  # noqa: E402
                      Case, build_case, dev_devargs, dev_name)
from util import (BENCH, ROOT, BenchError, NotApplicable, cell, cpu_times,  # noqa: E402
                  fmt, kill_all, log, read, rpc_call, stats_of, steal_pct, tail, task_times,
                  wait_for, wait_quiet, Proc)

SWITCHES = ("ferry", "testpmd", "ovs")
# vm2nic: ferry once per zero_copy mode ("ferry-off" = rte_vhost's copying dequeue)
ZC_VARIANTS = ("ferry-off", "ferry-on", "ferry-auto")
TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
OVS_VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
SEPARATE = isolation.TOPOS + capture_idle.TOPOS   # cases with their own tables (not the main one)


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
        for i, p in enumerate(ports, self.first):
            argv += ["--vdev", "net_virtio_user%d,path=%s,server=1,queue_size=%d,mac=%s%s" % (
                i, p["sock"], QUEUE_SIZE, p["mac"], ring)]
            macs.append(p["mac"])
        mbufs = self.n * (2 * QUEUE_SIZE + 32 * TX_FIRST_BURSTS + 512) + 8192
        big = spec.get("replay_frames", 0)   # infinite_rx holds the whole capture in mbufs
        mbufs += big
        argv += ["--", "-i", "--forward-mode=" + spec["mode"], "--nb-cores=1", "--burst=32",
                 "--rxd=%d" % QUEUE_SIZE, "--txd=%d" % QUEUE_SIZE,
                 "--total-num-mbufs=%d" % mbufs, "--disable-link-check"]
        if case.size > 2048:   # one frame = one mbuf (testpmd's default data room is 2048 B);
            # before --txpkts, which testpmd checks against the mbuf size as it parses it
            argv.append("--mbuf-size=%d" % (128 + ((case.size + 1023) // 1024) * 1024))
        argv += ["--txpkts=%d" % case.size, "--txonly-multi-flow"]
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

    def __init__(self, case, run, args, zc=None):
        self.case, self.run, self.zc = case, run, zc
        if zc is not None:
            self.name = "ferry-" + zc
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
        if zc is not None:
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
        self.w0 = self.prev = self._snap() if self.case.topo == "vm2nic" else None

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
                dev = "net_vhost%d,iface=%s,client=1,queues=1" % (i, p["sock"])
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

    def port_tx(self, name):
        i = [p["name"] for p in self.case.ports].index(name)
        return int(self._tel().stats(self.ids[self.devs[i]])["opackets"])

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
                   run.prefix)
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
    return ADAPTERS[switch](case, run, args)


def is_ferry(switch):
    return switch == "ferry" or switch in ZC_VARIANTS


# ---------------------------------------------------------------------------------------------
# one measurement: one switch on one case

class Run:
    def __init__(self, out, work, case, switch, rep):
        self.case, self.switch, self.rep = case, switch, rep
        self.dir = os.path.join(out, "runs", "r%d-%s-%s" % (rep, case.name, switch))
        self.work = os.path.join(work, "r%d-%s-%s" % (rep, case.name, switch))
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(self.work, exist_ok=True)
        self.prefix = "fbench%d" % os.getpid()


def measure(args, out, work, case, switch, rep):
    run = Run(out, work, case, switch, rep)
    rec = {"topo": case.topo, "case": case.label, "name": case.name, "size": case.size,
           "switch": switch, "repeat": rep, "ok": False}
    for p in case.ports:
        if p["kind"] == "vhost":
            p["sock"] = os.path.join(run.work, p["name"] + ".sock")
    guests, sw = [], None
    t_start = time.time()
    try:
        if case.switches is not None and switch not in case.switches:
            raise NotApplicable(case.na_why)
        if switch == "testpmd" and len(case.ports) > GUEST_PORTS_MAX:
            raise NotApplicable("%d ports > RTE_MAX_ETHPORTS %d of Debian's DPDK" % (
                len(case.ports), GUEST_PORTS_MAX))
        for g in case.guests:
            guests.append(Guest(g, case, run))
        time.sleep(0.3)
        sw = adapter(switch, case, run, args)
        sw.start()
        limit = 20 + 1.5 * case.n_vhost() + case.connect_extra_s
        for g in guests:
            wait_for("guest %s ports up" % g.spec["name"], g.connect, limit,
                     alive=(sw.proc.check if sw.proc is not None else None))
        wait_for("%s ready" % switch, sw.ready, limit + getattr(sw, "extra_ready_s", 0), step=0.2)
        time.sleep(0.5 if guests else 0)
        hooks = case.hooks
        ctx = argparse.Namespace(args=args, case=case, sw=sw, guests=guests, run=run)
        warmed = False
        if getattr(hooks, "start_guests", None):   # a case's own order (mac-flood)
            warmed = hooks.start_guests(ctx)
        else:
            for g in guests:
                g.start()
        for g in guests:
            if g.spec["mode"] == "txonly":
                g.check_txonly()
        if not warmed:
            time.sleep(args.warmup if args.smoke else max(args.warmup, case.warmup_min))
        count = (lambda: sum(g.rx() for g in guests)) if case.sink[0] == "guests" else \
            (lambda: sum(g.rx() for g in guests if g.spec["name"] == case.sink[1])) \
            if case.sink[0] == "guest" else (lambda: sw.port_tx(case.sink[1]))
        # cross-check at the guests: what they received (vm2nic: what they sent)
        awake = [g for g in guests if not g.spec.get("sigstop")]   # a stopped one never answers
        guest_rx = (lambda: 0) if not guests else \
            (lambda: sum(g.tx() for g in guests)) if case.topo == "vm2nic" else \
            (lambda: sum(g.rx() for g in awake))
        sw_pid = sw.pid()
        cpu_use = lambda: (task_times(sw_pid, cpu=1) if sw_pid else 0.0,  # noqa: E731
                           sum(task_times(g.proc.p.pid) for g in guests))
        sw.window_start()
        sw.window_counters_start()
        if getattr(hooks, "window_start", None):
            hooks.window_start(ctx)
        cpu0, c0, t0, g0, use0 = cpu_times(), count(), time.time(), guest_rx(), cpu_use()
        samples, cyc_samples = [], []
        perf = start_perf(args, run, sw_pid) if is_ferry(switch) and args.perf else None
        prev_c, prev_t = c0, t0
        while time.time() < t0 + args.window - 0.05:
            time.sleep(min(1.0, t0 + args.window - time.time()))
            c, t = count(), time.time()
            samples.append(round((c - prev_c) / (t - prev_t) / 1e6, 4))
            prev_c, prev_t = c, t
            cyc = sw.sample()
            if cyc is not None:
                cyc_samples.append(cyc)
            for g in guests:
                g.proc.check()
        c1, t1, cpu1, g1, use1 = prev_c, prev_t, cpu_times(), guest_rx(), cpu_use()
        if perf is not None:
            stop_perf(perf, run, rec)
        rec.update(sw.window_end())
        rec["mpps"] = round((c1 - c0) / (t1 - t0) / 1e6, 4)
        rec["window_s"] = round(t1 - t0, 2)
        if getattr(hooks, "after_window", None):   # a case's own figures (isolation, capture A/B)
            hooks.after_window(ctx, rec)
        rec["per_second_mpps"] = samples
        if cyc_samples:
            rec["per_second_cycles"] = cyc_samples
        rec["steal_pct"] = steal_pct(cpu0, cpu1)
        # how much of its core each side actually got (the machine is shared: other tenants'
        # busy pollers on cpu 0/1 show up here, not in the rates' names)
        rec["switch_pmd_cpu_pct"] = round(100.0 * (use1[0] - use0[0]) / (t1 - t0), 1)
        rec["guest_cpu_pct"] = round(100.0 * (use1[1] - use0[1]) / (t1 - t0), 1) \
            if guests else None
        rec.update(sw.window_counters_end())
        if rec["switch_pmd_cpu_pct"] > 5:
            rec["mpps_per_core"] = round(rec["mpps"] * 100.0 / min(100.0, rec["switch_pmd_cpu_pct"]),
                                         4)
        if case.sink[0] == "port" and guests:   # cross-check: what the guests received/sent
            rec["guest_tx_mpps" if case.topo == "vm2nic" else "guest_rx_mpps"] = \
                round((g1 - g0) / (t1 - t0) / 1e6, 4)
        if case.topo == "vm2nic":
            rec["gbps"] = round(rec["mpps"] * case.size * 8 / 1000.0, 3)
            if switch == "ferry-on" and args.ab_pairs > 0:
                rec["ab"] = sw.ab_pairs(args.ab_pairs, case.sink[1])
        if args.filter and switch == "ferry" and case.topo == "pvp":
            rec["filter_ab"] = fab = sw.filter_ab(args.ab_pairs, args.filter, case.sink[1])
            rat = sorted(p["filter"]["mpps"] / p["none"]["mpps"] for p in fab
                         if p["none"]["mpps"] > 0)
            rec["filter_ratio_median"] = rat[len(rat) // 2] if rat else None
            for i, p in enumerate(fab):
                log("  filter A/B %d: none %.3f Mpps %s cyc/pkt | filter %.3f Mpps %s cyc/pkt "
                    "(jit %s): %.3f" % (i, p["none"]["mpps"], p["none"]["cycles"],
                                         p["filter"]["mpps"], p["filter"]["cycles"], p["jit"],
                                         p["filter"]["mpps"] / p["none"]["mpps"]
                                         if p["none"]["mpps"] else 0))
        st = sw.stop()
        sw = None
        rec["exit_status"] = st.get("exit_status")
        if is_ferry(switch):
            rec["ferry"] = st
            # vm2nic: cycles over the window (window_end); elsewhere: the whole run's, at exit
            if rec.get("cycles_per_packet") is None:
                rec["cycles_per_packet"] = st.get("cycles_per_packet")
                rec["busy_pct"] = st.get("busy_pct")
            if "to_guest_drop_pct" in st:
                rec["to_guest_drop_pct"] = st["to_guest_drop_pct"]
        rec["ok"] = rec["mpps"] > 0
        if not rec["ok"]:
            rec["error"] = "nothing forwarded in the window"
    except NotApplicable as e:
        rec["error"] = "n/a: %s" % e
        rec["na"] = True
    except Exception as e:  # noqa: BLE001 — a failed run is recorded, the suite goes on
        rec["error"] = str(e)
    finally:
        if sw is not None:
            try:
                sw.stop()
            except Exception as e:  # noqa: BLE001
                rec.setdefault("error", "stop: %s" % e)
        for g in guests:
            g.stop()
        cleanup_runtime(run.prefix)
        shutil.rmtree(run.work, ignore_errors=True)
    rec["elapsed_s"] = round(time.time() - t_start, 1)
    with open(os.path.join(run.dir, "result.json"), "w") as f:
        json.dump(rec, f, indent=1)
    return rec


def cleanup_runtime(prefix):
    for d in ("/var/run/dpdk", "/run/dpdk"):
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            if name == prefix or name.startswith(prefix + "-"):
                shutil.rmtree(os.path.join(d, name), ignore_errors=True)


def start_perf(args, run, pid):
    """Sample ferryd's threads only (other tenants' threads on cpu 1 are not ours to profile)."""
    data = os.path.join(run.dir, "perf.data")
    return Proc("perf", ["perf", "record", "-p", str(pid), "-g", "-F", "2999",
                         "-e", args.perf_event, "-o", data],
                os.path.join(run.dir, "perf-record.log"))


def stop_perf(perf, run, rec):
    perf.stop(signal.SIGINT, timeout=30)
    data = os.path.join(run.dir, "perf.data")
    rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio",
                          "--sort", "comm,dso,symbol", "--percent-limit", "0.3", "-g", "none"],
                         capture_output=True, text=True, timeout=120)
    with open(os.path.join(run.dir, "perf-report.txt"), "w") as f:
        f.write(rep.stdout)
    top = []
    for line in rep.stdout.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+(\S+)\s+\[[.k]\]\s+(\S+)", line)
        if m:
            top.append((float(m.group(1)), m.group(4), m.group(3), m.group(2)))
    rec["perf_top"] = top[:25]


# ---------------------------------------------------------------------------------------------
# summary, tables, chart

def run_quality(r):
    """A run is clean when the switch's PMD and the guests had their cores (other tenants' busy
    threads did not share them) and there was no steal: only then is its rate the switch's."""
    why = []
    pmd = r.get("switch_pmd_cpu_pct")
    if pmd is not None and pmd < 90:
        why.append("PMD got %.0f%% of cpu1" % pmd)
    g = r.get("guest_cpu_pct")
    if g is not None and g < 90:
        why.append("guests got %.0f%% of cpu0" % g)
    st = r.get("steal_pct") or {}
    if max(st.values() or [0]) > 5:
        why.append("steal %s%%" % max(st.values()))
    return not why, why


def summarize(records, cases, switches):
    summary = []
    for c in cases:
        row = {"topo": c.topo, "case": c.label, "name": c.name, "size": c.size, "switch": {}}
        by_sw = {s: {r["repeat"]: r for r in records
                     if r["name"] == c.name and r["switch"] == s} for s in switches}
        for s in switches:
            runs = by_sw[s].values()
            ok = [r for r in runs if r.get("ok")]
            clean = [r for r in ok if run_quality(r)[0]]
            row["switch"][s] = {
                "mpps": stats_of([r["mpps"] for r in ok]),
                "mpps_clean": stats_of([r["mpps"] for r in clean]),
                "clean_runs": len(clean),
                "mpps_per_core": stats_of([r.get("mpps_per_core") for r in ok]),
                "pmd_cpu_pct": stats_of([r.get("switch_pmd_cpu_pct") for r in ok]),
                "cycles_per_packet": stats_of([r.get("cycles_per_packet") for r in ok]),
                "errors": sorted({r["error"] for r in runs if r.get("error")}),
                "na": any(r.get("na") for r in runs)}
        for other in ("testpmd", "ovs"):
            if "ferry" in switches and other in switches:
                ratios, rpc, rclean = [], [], []
                for rep, fr in by_sw["ferry"].items():
                    o = by_sw[other].get(rep)
                    if fr.get("ok") and o and o.get("ok") and o["mpps"] > 0:
                        ratios.append(fr["mpps"] / o["mpps"])
                        if run_quality(fr)[0] and run_quality(o)[0]:
                            rclean.append(fr["mpps"] / o["mpps"])
                        if fr.get("mpps_per_core") and o.get("mpps_per_core"):
                            rpc.append(fr["mpps_per_core"] / o["mpps_per_core"])
                row["ferry_vs_" + other] = stats_of(ratios)
                row["ferry_vs_%s_per_core" % other] = stats_of(rpc)
                row["ferry_vs_%s_clean" % other] = stats_of(rclean)
        summary.append(row)
    return summary


def swcell(row, s, key="mpps", nd=2):
    d = row["switch"].get(s)
    if d is None:
        return "not run"
    if d["na"]:
        return "n/a"
    if d[key] is None:
        return "FAIL" if d["errors"] else "-"
    return cell(d[key], nd)


TOPO_TITLE = {"pvp": "PVP (NIC->VM->NIC)", "p2p": "P2P (NIC->NIC), MAC entries",
              "v2v": "V2V (VM->VM)", "scale": "Scale (vhost ports, VM<->VM pairs)"}


def write_markdown(path, meta, summary, records, switches, zc=None):
    L = ["# ferry benchmark — %s" % meta["date"], ""]
    if summary:
        L += main_tables(meta, summary, switches)
    else:
        L += ["%s; %d repeat(s); warm-up %ss, window %ss; PMD on lcore 1, guests on lcore 0." % (
            meta["mode"], meta["repeats"], meta["warmup_s"], meta["window_s"]), ""]
    if zc is not None and zc[0]["rows"]:
        L += zc_markdown(zc[0], zc[1], meta)
    iso = [r for r in records if r["topo"] in isolation.TOPOS]
    if iso:
        L += isolation.markdown(iso, switches, meta)
    cap = [r for r in records if r["topo"] in capture_idle.TOPOS]
    if cap:
        L += capture_idle.markdown(cap, meta)
    L += run_tables(meta, records)
    with open(path, "w") as f:
        f.write("\n".join(L))


def main_tables(meta, summary, switches):
    L = []
    L.append("%s; %d repeat(s); warm-up %ss, window %ss; PMD on lcore 1, guests/generators on "
             "lcore 0. Mpps = median over repeats (min-max); ratios are per-repeat pairs "
             "(adjacent runs), median (min-max). Cycles/packet: ferry from its PMD counters "
             "(whole run, per received frame), OVS from pmd-stats-show (window). Clean runs "
             "(per switch, in column order): runs where the PMD and the guests had their cores "
             "to themselves (see Every run): on a shared machine only those measure the "
             "switch." % (
                 meta["mode"], meta["repeats"], meta["warmup_s"], meta["window_s"]))
    L.append("")
    head = ["topology", "case"] + ["%s Mpps" % s for s in switches] + ["clean runs"]
    if "ferry" in switches:
        head += ["ferry/%s" % o for o in ("testpmd", "ovs") if o in switches]
        head += ["ferry cyc/pkt"]
    if "ovs" in switches:
        head += ["OVS cyc/pkt"]
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "---|" * len(head))
    for row in summary:
        label = {"pvp": "%s B" % row["case"], "p2p": "%s MACs" % row["case"],
                 "v2v": "64 B, 2 ports", "scale": "%s ports" % row["case"]}[row["topo"]]
        cells = [TOPO_TITLE[row["topo"]].split(" ")[0], label]
        cells += [swcell(row, s) for s in switches]
        cells += ["/".join(str(row["switch"][s].get("clean_runs", 0)) for s in switches)]
        if "ferry" in switches:
            cells += [cell(row.get("ferry_vs_" + o)) for o in ("testpmd", "ovs") if o in switches]
            cells += [swcell(row, "ferry", "cycles_per_packet", 0)]
        if "ovs" in switches:
            cells += [swcell(row, "ovs", "cycles_per_packet", 0)]
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    L.append("### Per PMD core (Mpps divided by the share of cpu 1 the PMD thread really got)")
    L.append("")
    L.append("On a shared machine other tenants' threads take part of the PMD core; this scales "
             "each run to a whole core. Meaningful where the switch is the bound (to-guest drops "
             "~0 and the guests had CPU to spare), misleading where the guest was.")
    L.append("")
    head2 = ["topology", "case"] + ["%s Mpps/core" % s for s in switches] + \
        ["%s PMD cpu %%" % s for s in switches]
    if "ferry" in switches:
        head2 += ["ferry/%s per core" % o for o in ("testpmd", "ovs") if o in switches]
    L.append("| " + " | ".join(head2) + " |")
    L.append("|" + "---|" * len(head2))
    for row in summary:
        label = {"pvp": "%s B" % row["case"], "p2p": "%s MACs" % row["case"],
                 "v2v": "64 B, 2 ports", "scale": "%s ports" % row["case"]}[row["topo"]]
        cells = [TOPO_TITLE[row["topo"]].split(" ")[0], label]
        cells += [swcell(row, s, "mpps_per_core") for s in switches]
        cells += [swcell(row, s, "pmd_cpu_pct", 0) for s in switches]
        if "ferry" in switches:
            cells += [cell(row.get("ferry_vs_%s_per_core" % o)) for o in ("testpmd", "ovs")
                      if o in switches]
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    if "ferry" in switches and len(switches) > 1:
        L.append("### Clean runs only (both runs of the pair clean)")
        L.append("")
        others = [o for o in ("testpmd", "ovs") if o in switches]
        head3 = ["topology", "case"] + ["%s Mpps (clean)" % s for s in switches] + \
            ["ferry/%s (clean pairs)" % o for o in others]
        L.append("| " + " | ".join(head3) + " |")
        L.append("|" + "---|" * len(head3))
        for row in summary:
            label = {"pvp": "%s B" % row["case"], "p2p": "%s MACs" % row["case"],
                     "v2v": "64 B, 2 ports", "scale": "%s ports" % row["case"]}[row["topo"]]
            cells = [TOPO_TITLE[row["topo"]].split(" ")[0], label]
            cells += [swcell(row, s, "mpps_clean") for s in switches]
            cells += [cell(row.get("ferry_vs_%s_clean" % o)) for o in others]
            L.append("| " + " | ".join(cells) + " |")
        L.append("")
    tgt = next((r for r in summary if r["name"] == "pvp-64"), None)
    if tgt is not None and "ferry" in switches:
        L.append("Targets (PVP 64 B, single PMD core): ferry >= 1.5x OVS: %s; ferry >= 0.9x "
                 "testpmd: %s." % (
                     target_txt(tgt.get("ferry_vs_ovs"), 1.5),
                     target_txt(tgt.get("ferry_vs_testpmd"), 0.9)))
        L.append("")
    return L


def run_tables(meta, records):
    L = []
    errs = [r for r in records if r.get("error") and not r.get("na")]
    if errs:
        L.append("## Failed runs")
        L.append("")
        for r in errs:
            L.append("- r%d %s %s: %s" % (r["repeat"], r["name"], r["switch"],
                                          r["error"].replace("\n", " ")[:300]))
        L.append("")
    L.append("## Every run")
    L.append("")
    L.append("PMD cpu = CPU time the switch's PMD thread got on cpu 1 during the window (100 = the "
             "whole core; less means other tenants' threads shared it); guest cpu = the guests' "
             "CPU time (cpu 0); to-guest drops = frames the switch could not put into full guest "
             "rings (the guest was the bound); steal = hypervisor steal on cpu0/cpu1.")
    L.append("")
    L.append("| repeat | case | switch | Mpps | per-second Mpps | cyc/pkt | PMD cpu % | "
             "guest cpu % | to-guest drops % | steal % | clean | note |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in records:
        st = r.get("steal_pct") or {}
        note = ""
        if r.get("ferry"):
            drops = {}
            for pn, pd in r["ferry"].get("ports", {}).items():
                for k, v in pd.get("drops", {}).items():
                    drops["%s.%s" % (pn, k)] = v
            if drops:
                note = "ferry drops (whole run): " + ", ".join(
                    "%s=%d" % kv for kv in sorted(drops.items()))
        if r.get("guest_rx_mpps") is not None:
            note = ("guest rx %.2f Mpps; " % r["guest_rx_mpps"]) + note
        z = zc_of(r) if r.get("ferry") else None
        if z:
            note = ("zero_copy %s/%s: lent %s, copied %s%s; " % (
                z.get("mode"), z.get("state"), z.get("lent"), z.get("copied"),
                "" if r.get("zc") else " (whole run)")) + note
        if r.get("per_second_cycles"):
            note = ("cyc/pkt per second %s; PMD busy %s%%; " % (
                " ".join(fmt(x, 0) for x in r["per_second_cycles"]),
                fmt(r.get("busy_pct"), 0))) + note
        if r.get("guest_tx_mpps") is not None:
            note = ("guest tx %.2f Mpps; " % r["guest_tx_mpps"]) + note
        if r.get("attempts", 1) > 1:
            note = ("attempt %d; " % r["attempts"]) + note
        if r.get("error"):
            note = r["error"].replace("\n", " ").replace("|", "/")[:120]
        clean, why = run_quality(r)
        L.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s/%s | %s | %s |" % (
            r["repeat"], r["name"], r["switch"], fmt(r.get("mpps")),
            " ".join(fmt(x) for x in r.get("per_second_mpps", [])),
            fmt(r.get("cycles_per_packet"), 0), fmt(r.get("switch_pmd_cpu_pct"), 0),
            fmt(r.get("guest_cpu_pct"), 0), fmt(r.get("to_guest_drop_pct"), 1),
            st.get("cpu0", "-"), st.get("cpu1", "-"),
            ("yes" if clean else "no: " + "; ".join(why)) if r.get("ok") else "-", note))
    L.append("")
    L.append("Machine: %s" % meta["machine"])
    L.append("")
    return L


def target_txt(st, goal):
    if st is None:
        return "not measured"
    return "%.2fx -> %s" % (st["median"], "met" if st["median"] >= goal else "NOT met")


def write_chart(out, summary, switches):
    dat = os.path.join(out, "chart.dat")
    with open(dat, "w") as f:
        f.write("# case " + " ".join("%s_med %s_min %s_max" % (s, s, s) for s in switches) + "\n")
        for row in summary:
            vals = []
            for s in switches:
                st = row["switch"][s]["mpps"]
                vals += ["%.4f %.4f %.4f" % (st["median"], st["min"], st["max"])
                         if st else "0 0 0"]
            f.write('"%s" %s\n' % (row["name"], " ".join(vals)))
    if not shutil.which("gnuplot"):
        log("gnuplot not found: chart.dat written, no chart.png")
        return None
    png = os.path.join(out, "chart.png")
    colors = {"ferry": "#1f77b4", "testpmd": "#7f7f7f", "ovs": "#d62728"}
    plots = ", ".join("'%s' using %d:%d:%d%s title '%s' lc rgb '%s'" % (
        dat, 2 + 3 * i, 3 + 3 * i, 4 + 3 * i, ":xtic(1)" if i == 0 else "",
        {"ovs": "OVS-DPDK", "testpmd": "testpmd io"}.get(s, s), colors[s])
        for i, s in enumerate(switches))
    script = "\n".join([
        "set terminal pngcairo size 1400,650 font 'sans,10'",
        "set output '%s'" % png,
        "set title 'ferry vs testpmd (io) vs OVS-DPDK: one PMD core, median and min-max over "
        "repeats'",
        "set ylabel 'Mpps (log scale)'", "set grid ytics mytics", "set logscale y",
        "set yrange [0.1:*]",
        "set style data histograms", "set style histogram errorbars gap 1.5 lw 1",
        "set style fill solid 0.85 border -1", "set boxwidth 0.9",
        "set xtics rotate by -30", "set key top right",
        "plot " + plots, ""])
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed: %s" % r.stderr.strip())
        return None
    return png


# --- vm2nic: copy vs zero-copy ------------------------------------------------------------------

ZC_TITLE = {"ferry-off": "copy (off)", "ferry-on": "zero-copy (on)", "ferry-auto": "auto",
            "testpmd": "testpmd io", "ovs": "OVS-DPDK"}
ZC_TARGET_1518 = 1.3   # the target: zero-copy >= 1.3x the copy path at 1518 B


def zc_of(r):
    """The guest port's zero_copy counters: over the window (RPC), else the whole run's."""
    if r.get("zc"):
        return r["zc"]
    for pd in ((r.get("ferry") or {}).get("ports") or {}).values():
        if pd.get("zero_copy"):
            z = pd["zero_copy"]
            n = (z.get("lent") or 0) + (z.get("copied") or 0)
            return {"mode": z.get("mode"), "state": z.get("state"), "lent": z.get("lent"),
                    "copied": z.get("copied"),
                    "lent_pct": round(100.0 * z["lent"] / n, 1) if n else 0.0}
    return None


def pair_ratio(by_sw, a, b, key, invert=False):
    """Per repeat: a/b of key (invert: b/a), from adjacent runs; median (min-max)."""
    vals = []
    for rep, ra in by_sw.get(a, {}).items():
        rb = by_sw.get(b, {}).get(rep)
        if ra.get("ok") and rb and rb.get("ok") and ra.get(key) and rb.get(key):
            vals.append(rb[key] / ra[key] if invert else ra[key] / rb[key])
    return stats_of(vals)


def crossover(rows, key):
    """Smallest size from which the ratio (median of per-repeat pairs) stays above 1 at that size
    and every larger one; None when it never does."""
    pts = [(r["size"], (r.get(key) or {}).get("median")) for r in rows]
    pts = [(sz, v) for sz, v in sorted(pts) if v is not None]
    for i, (sz, _) in enumerate(pts):
        if all(v > 1.0 for _, v in pts[i:]):
            return sz
    return None


def zc_min_auto():
    m = re.search(r"#define\s+FERRY_ZC_MIN_AUTO\s+(\d+)",
                  read(os.path.join(ROOT, "lib", "zc", "ferry_zc.h")))
    return int(m.group(1)) if m else None


def summarize_zc(records, cases, switches):
    rows = summarize(records, cases, switches)
    for row in rows:
        by_sw = {s: {r["repeat"]: r for r in records
                     if r["name"] == row["name"] and r["switch"] == s} for s in switches}
        for s in switches:
            ok = [r for r in by_sw[s].values() if r.get("ok")]
            row["switch"][s]["gbps"] = stats_of([r.get("gbps") for r in ok])
            row["switch"][s]["lent_pct"] = stats_of([(zc_of(r) or {}).get("lent_pct")
                                                     for r in ok])
            row["switch"][s]["guest_tx_mpps"] = stats_of([r.get("guest_tx_mpps") for r in ok])
        for v in ("ferry-on", "ferry-auto"):
            k = v.split("-")[1]
            row["%s_vs_off" % k] = pair_ratio(by_sw, v, "ferry-off", "mpps")
            row["%s_vs_off_cycles" % k] = pair_ratio(by_sw, v, "ferry-off", "cycles_per_packet",
                                                     invert=True)
        row["off_vs_testpmd"] = pair_ratio(by_sw, "ferry-off", "testpmd", "mpps")
        row["on_vs_testpmd"] = pair_ratio(by_sw, "ferry-on", "testpmd", "mpps")
        row.update(ab_summary([r for r in by_sw.get("ferry-on", {}).values() if r.get("ok")]))
    g = next((r for r in rows if r["size"] == 1518), None)
    return {"rows": rows,
            "crossover_cycles": crossover(rows, "on_vs_off_cycles"),
            "crossover_mpps": crossover(rows, "on_vs_off"),
            "crossover_ab_cycles": crossover(rows, "ab_cycles"),
            "gain_1518": {"mpps": g.get("on_vs_off"), "cycles": g.get("on_vs_off_cycles"),
                          "ab_cycles": g.get("ab_cycles"), "ab_mpps": g.get("ab_mpps"),
                          "target": ZC_TARGET_1518} if g else None}


def ab_summary(recs):
    """The A/B pairs of ferry-on runs (Ferry.ab_pairs): per pair copy/zc cycles and zc/copy Mpps,
    over every pair of every repeat: median (min-max); and each side's median cycles."""
    pairs = [p for r in recs for p in r.get("ab") or ()
             if p["copy"]["cycles"] and p["zc"]["cycles"]]
    if not pairs:
        return {}
    return {"ab_cycles": stats_of([p["copy"]["cycles"] / p["zc"]["cycles"] for p in pairs]),
            "ab_mpps": stats_of([p["zc"]["mpps"] / p["copy"]["mpps"] for p in pairs
                                 if p["copy"]["mpps"] > 0]),
            "ab_copy_cycles": stats_of([p["copy"]["cycles"] for p in pairs]),
            "ab_zc_cycles": stats_of([p["zc"]["cycles"] for p in pairs]),
            "ab_copy_mpps": stats_of([p["copy"]["mpps"] for p in pairs]),
            "ab_zc_mpps": stats_of([p["zc"]["mpps"] for p in pairs])}


def ab_markdown(zs):
    """The same-run A/B table (copy and lend in adjacent seconds), crossover and gain."""
    rows = [r for r in zs["rows"] if r.get("ab_cycles")]
    if not rows:
        return []
    L = ["### Same run, adjacent seconds (A/B)", "",
         "Right after each `ferry-on` window, the same ferryd and guest alternate `port.set "
         "zero_copy off` (ferry's own dequeue copies every frame, like rte_vhost's) and `on` "
         "(lends) every second, for --ab-pairs pairs; a pair's two seconds see the same machine "
         "mode, so its ratio is immune to the flips between runs. Medians over all pairs of all "
         "repeats (min-max).", "",
         "| frame | copy cyc/pkt | zero-copy cyc/pkt | cycles copy/zc | copy Mpps | zero-copy "
         "Mpps | Mpps zc/copy | pairs |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        L.append("| %d B | %s | %s | %s | %s | %s | %s | %d |" % (
            r["size"], cell(r.get("ab_copy_cycles"), 0), cell(r.get("ab_zc_cycles"), 0),
            cell(r.get("ab_cycles")), cell(r.get("ab_copy_mpps")), cell(r.get("ab_zc_mpps")),
            cell(r.get("ab_mpps")), r["ab_cycles"]["n"]))
    L.append("")
    cx = zs.get("crossover_ab_cycles")
    if len(rows) > 1:
        L.append("**Crossover (A/B)**: zero-copy costs fewer cycles per packet than the copy "
                 "from **%s** on." % ("%d B" % cx if cx is not None else "no size measured"))
        L.append("")
    g = zs.get("gain_1518") or {}
    if g.get("ab_cycles"):
        L.append("**Gain at 1518 B (A/B)**: switch cycles per packet copy/zero-copy **%sx**, "
                 "throughput zero-copy/copy %sx. Target >= %.1fx: cycles %s." % (
                     cell(g["ab_cycles"]), cell(g.get("ab_mpps")), g["target"],
                     target_txt(g["ab_cycles"], g["target"])))
        L.append("")
    return L


def zc_markdown(zs, switches, meta):
    rows = zs["rows"]
    L = ["## VM -> NIC: copy vs zero-copy (vm2nic)", ""]
    guest = ("testpmd `io` from a `net_pcap` port replaying frames of the case's size for ever "
             "(net_pcap copies every frame into a fresh mbuf: the guest writes every byte it "
             "sends, as a guest's network stack does)" if meta.get("vm2nic_guest") == "replay"
             else "testpmd `txonly`: it writes the headers only, never the payload")
    L.append("A guest (%s; one virtio-user port, split ring without IN_ORDER, multi-"
             "flow UDP, one mbuf per frame) on cpu 0 sends through the switch (PMD on cpu 1) to "
             "a `net_null` port, an infinitely fast NIC (its tx frees the mbufs at once). "
             "`ferry-off` = `\"zero_copy\": \"off\"` (rte_vhost's copying dequeue), `ferry-on` = "
             "ferry's own dequeue lending every frame > 64 B, `ferry-auto` = lending frames >= "
             "FERRY_ZC_MIN_AUTO (%s B in lib/zc/ferry_zc.h when this ran); every ferry run with "
             "`--iova-mode=va`. Mpps = frames the switch sent out of the null port per second; "
             "Gbit/s = Mpps x frame size x 8; cycles/packet = ferry's PMD busy cycles / frames "
             "over the window (RPC `pmd.list`); lent %% = frames lent / frames taken from the "
             "guest over the window (`port.stats` zero_copy). Ratios are per-repeat pairs "
             "(adjacent runs), median (min-max)." % (guest, meta.get("ferry_zc_min_auto") or "?"))
    L.append("")
    fv = [s for s in ZC_VARIANTS if s in switches]
    others = [s for s in switches if s not in ZC_VARIANTS]
    head = ["frame"] + ["%s Mpps" % ZC_TITLE[s] for s in fv + others]
    if "ferry-on" in fv and "ferry-off" in fv:
        head += ["on/off Mpps"]
    if "ferry-auto" in fv and "ferry-off" in fv:
        head += ["auto/off Mpps"]
    head += ["%s Gbit/s" % ZC_TITLE[s] for s in fv if s != "ferry-auto"]
    head += ["%s cyc/pkt" % ZC_TITLE[s] for s in fv]
    if "ferry-on" in fv and "ferry-off" in fv:
        head += ["cycles off/on"]
    if "ferry-auto" in fv and "ferry-off" in fv:
        head += ["cycles off/auto"]
    head += ["lent %% %s" % "/".join(s.split("-")[1] for s in fv), "clean runs"]
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "---|" * len(head))
    for row in rows:
        c = ["%d B" % row["size"]] + [swcell(row, s) for s in fv + others]
        if "ferry-on" in fv and "ferry-off" in fv:
            c += [cell(row.get("on_vs_off"))]
        if "ferry-auto" in fv and "ferry-off" in fv:
            c += [cell(row.get("auto_vs_off"))]
        c += [swcell(row, s, "gbps", 1) for s in fv if s != "ferry-auto"]
        c += [swcell(row, s, "cycles_per_packet", 0) for s in fv]
        if "ferry-on" in fv and "ferry-off" in fv:
            c += [cell(row.get("on_vs_off_cycles"))]
        if "ferry-auto" in fv and "ferry-off" in fv:
            c += [cell(row.get("auto_vs_off_cycles"))]
        c += ["/".join(fmt((row["switch"][s].get("lent_pct") or {}).get("median"), 0)
                       for s in fv)]
        c += ["/".join(str(row["switch"][s].get("clean_runs", 0)) for s in fv + others)]
        L.append("| " + " | ".join(c) + " |")
    L.append("")
    if "ferry-on" in fv and "ferry-off" in fv:
        cx, cm = zs.get("crossover_cycles"), zs.get("crossover_mpps")
        sizes = [r["size"] for r in rows]
        def cx_txt(v):
            if v is None:
                return "none in %s-%s B (zero-copy never cheaper at the largest sizes)" % (
                    min(sizes), max(sizes)) if sizes else "-"
            return ("%d B" % v) + (" (the smallest size measured)" if v == min(sizes) else "")
        if len(sizes) > 1:
            L.append("**Crossover** (smallest frame size from which zero-copy costs the switch "
                     "fewer cycles per packet than the copy, at that size and every larger one; "
                     "per-repeat ratios' medians): **%s**; in throughput (Mpps): %s." % (
                         cx_txt(cx), cx_txt(cm)))
            L.append("")
        g = zs.get("gain_1518")
        if g:
            m, cy = g.get("mpps"), g.get("cycles")
            L.append("**Gain at 1518 B** (zero-copy / copy): throughput %s, switch cycles per "
                     "packet %s (copy/zero-copy). Target >= %.1fx the copy path: %s." % (
                         "**%sx**" % cell(m) if m else "-", "**%sx**" % cell(cy) if cy else "-",
                         g["target"], "throughput %s, cycles %s" % (
                             target_txt(m, g["target"]), target_txt(cy, g["target"]))))
            L.append("")
    return L + ab_markdown(zs)


def write_zc_chart(out, zs, switches):
    """Mpps and ferry's cycles/packet against frame size (log x), crossover marked."""
    rows = zs["rows"]
    if not rows:
        return None
    dat = os.path.join(out, "chart-zc.dat")
    cols = {}
    with open(dat, "w") as f:
        f.write("# size " + " ".join("%s_mpps_med/min/max %s_cyc_med/min/max" % (s, s)
                                     for s in switches) + "\n")
        for row in rows:
            vals = []
            for i, s in enumerate(switches):
                for j, key in enumerate(("mpps", "cycles_per_packet")):
                    st = row["switch"][s].get(key)
                    cols[(s, key)] = 2 + 6 * i + 3 * j
                    vals.append("%.4f %.4f %.4f" % (st["median"], st["min"], st["max"])
                                if st else "NaN NaN NaN")
            f.write("%d %s\n" % (row["size"], " ".join(vals)))
    rdat = os.path.join(out, "chart-zc-ratio.dat")
    with open(rdat, "w") as f:   # copy/zero-copy cycles: separate runs (vs rte_vhost), A/B
        f.write("# size runs_med runs_min runs_max ab_med ab_min ab_max\n")
        for row in rows:
            f.write("%d %s\n" % (row["size"], " ".join(
                "%.4f %.4f %.4f" % (st["median"], st["min"], st["max"]) if st else "NaN NaN NaN"
                for st in (row.get("on_vs_off_cycles"), row.get("ab_cycles")))))
    if not shutil.which("gnuplot"):
        log("gnuplot not found: chart-zc.dat written, no chart-zc.png")
        return None
    png = os.path.join(out, "chart-zc.png")
    colors = {"ferry-off": "#d62728", "ferry-on": "#1f77b4", "ferry-auto": "#2ca02c",
              "testpmd": "#7f7f7f", "ovs": "#9467bd"}
    def plot(key, sws):
        return "plot " + ", ".join(
            "'%s' using 1:%d:%d:%d with yerrorlines lw 2 pt 7 ps 0.8 lc rgb '%s' title '%s'" % (
                dat, cols[(s, key)], cols[(s, key)] + 1, cols[(s, key)] + 2, colors[s],
                ZC_TITLE[s]) for s in sws)
    cx = zs.get("crossover_cycles")
    g = zs.get("gain_1518") or {}
    sizes = [r["size"] for r in rows]
    mark = []
    if cx is not None and len(sizes) > 1:
        mark = ["set arrow 1 from %d, graph 0 to %d, graph 1 nohead dt 2 lw 1.5 lc rgb '#000000'"
                % (cx, cx),
                "set label 1 'crossover %d B' at %d, graph 0.95 offset 0.5,0 font 'sans,10'" % (
                    cx, cx)]
    title = "VM -> NIC (net\\_null), one PMD core: copy vs zero-copy"
    if g.get("mpps") or g.get("cycles"):
        title += "; at 1518 B zero-copy/copy = %s Mpps, %s cycles" % (
            fmt((g.get("mpps") or {}).get("median")), fmt((g.get("cycles") or {}).get("median")))
        if g.get("ab_cycles"):
            title += " (same-run A/B: %s cycles)" % fmt(g["ab_cycles"]["median"])
    cyc_sw = [s for s in switches if s in ZC_VARIANTS]
    script = [
        "set terminal pngcairo size 1900,600 font 'sans,10'",
        "set output '%s'" % png,
        "set multiplot layout 1,3 title '%s' font 'sans,12'" % title,
        "set logscale x 2", "set xrange [%g:%g]" % (min(sizes) / 1.25, max(sizes) * 1.25),
        "set xtics (%s) rotate by -30" % ", ".join("'%d' %d" % (sz, sz) for sz in sizes),
        "set xlabel 'frame size (bytes, log scale)'", "set grid xtics ytics mytics",
        "set key top right",
        "set logscale y", "set ylabel 'Mpps out of the NIC (log scale)'",
        "set title 'throughput (median, min-max over repeats)'"] + mark + [plot("mpps", switches)]
    if cyc_sw:
        script += ["set title 'ferry PMD cycles per packet'",
                   "set ylabel 'cycles / packet (log scale)'", "set key top left"] + mark + \
            [plot("cycles_per_packet", cyc_sw)]
    script += ["unset arrow", "unset label", "set title 'gain: copy / zero-copy cycles per packet'",
               "set ylabel 'ratio (log scale; > 1: zero-copy cheaper)'", "set key top left",
               "set yrange [0.25:16]",
               "plot '%s' using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '#d62728' "
               "title 'separate runs: rte\\_vhost copy / on', "
               "'%s' using 1:5:6:7 with yerrorlines lw 2 pt 5 lc rgb '#1f77b4' "
               "title 'same run A/B: ferry copy / on', "
               "1 with lines dt 2 lc rgb '#000000' title 'equal', "
               "%g with lines dt 3 lw 2 lc rgb '#2ca02c' title 'target %gx at 1518 B'" % (
                   rdat, rdat, ZC_TARGET_1518, ZC_TARGET_1518),
               "unset multiplot", ""]
    r = subprocess.run(["gnuplot"], input="\n".join(script), capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed: %s" % r.stderr.strip())
        return None
    return png


def log_zc_pair(c, line):
    by = {r["switch"]: r for r in line if r.get("ok")}
    off = by.get("ferry-off")
    out = []
    for v in ("ferry-on", "ferry-auto"):
        r = by.get(v)
        if off and r:
            t = "%s/off %.2f Mpps" % (v.split("-")[1], r["mpps"] / off["mpps"])
            if r.get("cycles_per_packet") and off.get("cycles_per_packet"):
                t += ", cycles off/%s %.2f" % (v.split("-")[1],
                                               off["cycles_per_packet"] / r["cycles_per_packet"])
            out.append(t)
    if out:
        log("      %s: %s" % (c.name, "; ".join(out)))


def zc_smoke_check(recs):
    """Smoke: the frames really went the intended way (whole-run counters at ferryd's exit)."""
    for r in recs:
        if not r.get("ok") or r["switch"] not in ("ferry-on", "ferry-off"):
            continue
        z = None
        for pd in ((r.get("ferry") or {}).get("ports") or {}).values():
            z = pd.get("zero_copy") or z
        if z is None:
            return "%s on %s: no zero_copy counters in ferryd's stats" % (r["switch"], r["name"])
        if r["switch"] == "ferry-on" and not z.get("lent"):
            return "ferry-on on %s lent no frame (zero_copy state %s, copied %s, reasons %s)" % (
                r["name"], z.get("state"), z.get("copied"), z.get("copy_reasons"))
        if r["switch"] == "ferry-off" and z.get("lent"):
            return "ferry-off on %s lent %s frames" % (r["name"], z.get("lent"))
    return None


def sha256(path):
    import hashlib
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:16]
    except OSError:
        return None


def machine_info():
    cpu = "?"
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return "%s, %d cpus, kernel %s" % (cpu, os.cpu_count(), os.uname().release)


def versions(args):
    v = {}
    for name, argv in (("ferryd", [args.ferryd, "--version"]),
                       ("testpmd", ["dpkg-query", "-W", "-f=${Version}", "dpdk"]),
                       ("ovs", ["dpkg-query", "-W", "-f=${Version}", "openvswitch-switch-dpdk"]),
                       ("git", ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])):
        try:
            v[name] = subprocess.run(argv, capture_output=True, text=True,
                                     timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            v[name] = None
    return v


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description="ferry vs testpmd vs OVS-DPDK (see bench/README.md)")
    ap.add_argument("--smoke", action="store_true", help="each topology once, very short")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--only", default="",
                    help="topologies or cases: pvp,p2p,v2v,scale,vm2nic,pvp-64,vm2nic-1518..")
    ap.add_argument("--switches", default=None,
                    help="ferry,testpmd,ovs (default). In vm2nic, ferry = ferry-off,ferry-on,"
                    "ferry-auto (or name those), and OVS runs only when named")
    ap.add_argument("--retry", type=int, default=0,
                    help="measure a run again (up to N times) while it is not clean")
    ap.add_argument("--quiet-wait", type=float, default=0, metavar="S",
                    help="before each run, wait up to S seconds for other tenants to go quiet")
    ap.add_argument("--ab-pairs", type=int, default=None, metavar="N",
                    help="vm2nic: after ferry-on's window, N pairs of adjacent seconds copy/lend "
                         "in the same run; pvp-capture: N pairs of seconds without/with a "
                         "capture on the idle port (default 5, smoke 2)")
    ap.add_argument("--warmup", type=float, default=None)
    ap.add_argument("--window", type=float, default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--ferryd", default=os.path.join(ROOT, "build/app/ferryd/ferryd"))
    ap.add_argument("--ovs-socket-mem", type=int, default=512)
    ap.add_argument("--perf", action="store_true",
                    help="perf record the PMD lcore during ferry's windows")
    ap.add_argument("--perf-event", default="cpu-clock")
    ap.add_argument("--filter", metavar="OBJ", default=None,
                    help="pvp, ferry: after the window, --ab-pairs pairs of adjacent seconds "
                    "without / with this eBPF filter object at nic0's ingress (filter.attach); "
                    "logged and in results.json (filter_ab, filter_ratio_median)")
    ap.add_argument("--report", metavar="DIR",
                    help="only rewrite DIR's results.md/chart.png from its results.json")
    args = ap.parse_args()
    if args.report:
        with open(os.path.join(args.report, "results.json")) as f:
            d = json.load(f)
        sws = d["meta"]["switches"]
        zsws = d["meta"].get("zc_switches", [])
        names = []
        for r in d["runs"]:
            if (r["topo"], r["case"]) not in names:
                names.append((r["topo"], r["case"]))
        cs = [Case(t, l, next(r["size"] for r in d["runs"] if r["topo"] == t and r["case"] == l))
              for t, l in names]
        main_cs = [c for c in cs if c.topo != "vm2nic" and c.topo not in SEPARATE]
        zc_cs = [c for c in cs if c.topo == "vm2nic"]
        d["summary"] = summarize([r for r in d["runs"] if r["topo"] != "vm2nic" and
                                  r["topo"] not in SEPARATE], main_cs, sws)
        iso = [r for r in d["runs"] if r["topo"] in isolation.TOPOS]
        if iso:
            d["isolation"] = isolation.summarize(iso)
        cap = [r for r in d["runs"] if r["topo"] in capture_idle.TOPOS]
        if cap:
            d["capture_idle"] = capture_idle.summarize(cap)
        if zc_cs:
            d["zc_summary"] = summarize_zc([r for r in d["runs"] if r["topo"] == "vm2nic"],
                                           zc_cs, zsws)
        with open(os.path.join(args.report, "results.json"), "w") as f:
            json.dump(d, f, indent=1)
        write_markdown(os.path.join(args.report, "results.md"), d["meta"], d["summary"],
                       d["runs"], sws, (d["zc_summary"], zsws) if zc_cs else None)
        if d["summary"]:
            write_chart(args.report, d["summary"], sws)
        if zc_cs:
            write_zc_chart(args.report, d["zc_summary"], zsws)
        print(read(os.path.join(args.report, "results.md")).split("## Every run")[0].rstrip())
        return 0
    if args.repeat is None:
        args.repeat = 1 if args.smoke else 3
    if args.warmup is None:
        args.warmup = 1.0 if args.smoke else 2.0
    if args.window is None:
        args.window = 2.0 if args.smoke else 5.0
    if args.ab_pairs is None:
        args.ab_pairs = 2 if args.smoke else 5
    named = [s for s in (args.switches or ",".join(SWITCHES)).split(",") if s]
    for s in named:
        if s not in SWITCHES + ZC_VARIANTS:
            ap.error("unknown switch %s (%s)" % (s, " ".join(SWITCHES + ZC_VARIANTS)))
    switches = [s for s in named if s in SWITCHES]
    # vm2nic runs ferry once per zero_copy mode, testpmd as the reference; OVS only when named
    # (it adds minutes and says nothing about ferry's copy vs zero-copy); smoke: the off/on pair
    zc_switches = [s for s in named if s in ZC_VARIANTS]
    if not zc_switches and "ferry" in switches:
        zc_switches = ["ferry-off", "ferry-on"] + ([] if args.smoke else ["ferry-auto"])
    if not args.smoke:
        zc_switches += [s for s in ("testpmd", "ovs") if s in switches and
                        (s != "ovs" or args.switches is not None)]
    if "ovs" in switches and not os.path.exists(OVS_VSWITCHD):
        log("OVS with DPDK is not installed (%s): skipping it" % OVS_VSWITCHD)
        switches.remove("ovs")
        if "ovs" in zc_switches:
            zc_switches.remove("ovs")
    full_cases, smoke_cases = topology.all_cases()
    pick = smoke_cases if args.smoke else full_cases
    only = [o for o in args.only.split(",") if o]
    if only:
        every = full_cases + [c for c in smoke_cases if c not in full_cases]
        pick = [(t, l) for t, l in pick if t in only] + \
            [(t, l) for t, l in every if "%s-%s" % (t, l) in only]
        if not pick:
            ap.error("--only %s matches no case (topologies: pvp p2p v2v scale; cases: %s)" % (
                args.only, " ".join("%s-%s" % c for c in every)))
    pick = [(t, l) for t, l in pick if (zc_switches if t == "vm2nic" else switches)]
    if not pick:
        ap.error("no case left for switches %s" % ",".join(named))
    if not os.access(args.ferryd, os.X_OK) and any(is_ferry(s) for s in switches + zc_switches):
        print("FAIL: bench%s: ferryd not built (%s)" % ("/smoke" if args.smoke else "",
                                                        args.ferryd))
        return 1

    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out or os.path.join(BENCH, "results", stamp + ("-smoke" if args.smoke else ""))
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="fbench.", dir="/tmp")
    # a private copy: others rebuilding build/ during the run must not change what is measured
    if os.access(args.ferryd, os.X_OK):
        snap = os.path.join(work, "ferryd")
        shutil.copy2(args.ferryd, snap)
        args.ferryd_src, args.ferryd = args.ferryd, snap
    def on_signal(signum, frame):
        raise KeyboardInterrupt()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "mode": "smoke" if args.smoke else
            "full", "repeats": args.repeat, "warmup_s": args.warmup, "window_s": args.window,
            "switches": switches, "zc_switches": zc_switches, "ferry_zc_min_auto": zc_min_auto(),
            "vm2nic_guest": VM2NIC_GUEST, "ab_pairs": args.ab_pairs,
            "machine": machine_info(), "versions": versions(args),
            "cmdline": sys.argv[1:], "ferryd": getattr(args, "ferryd_src", args.ferryd),
            "ferryd_sha256": sha256(args.ferryd)}
    log("results in %s (work dir %s)" % (out, work))
    log("cases: %s; switches: %s%s; %d repeat(s)" % (
        " ".join("%s-%s" % c for c in pick), " ".join(switches),
        "; vm2nic: " + " ".join(zc_switches) if any(t == "vm2nic" for t, _ in pick) else "",
        args.repeat))
    records = []
    cases = []
    interrupted = False
    try:
        cases = [build_case(t, l, work, args.smoke) for t, l in pick]
        case_sw = lambda c: zc_switches if c.topo == "vm2nic" else switches  # noqa: E731
        total = sum(len(case_sw(c)) for c in cases) * args.repeat
        k = 0
        for rep in range(1, args.repeat + 1):
            for c in cases:
                line = []
                for s in case_sw(c):
                    k += 1
                    for attempt in range(1, args.retry + 2):
                        waited = wait_quiet(args.quiet_wait) if args.quiet_wait > 0 else 0
                        if waited is None or waited > 0:
                            log("      waited %s for the machine to go quiet" % (
                                "%.0f s" % waited if waited else "%.0f s in vain" % args.quiet_wait))
                        r = measure(args, out, work, c, s, rep)
                        r["attempts"] = attempt
                        if args.quiet_wait > 0:
                            r["quiet_wait_s"] = waited
                        clean, why = run_quality(r)
                        if not r.get("ok") or clean or attempt > args.retry:
                            break
                        log("      r%d %s %s not clean (%s): again" % (
                            rep, c.name, s, "; ".join(why)))
                        if args.quiet_wait <= 0:
                            time.sleep(10 * attempt)
                    records.append(r)
                    if r.get("ok"):
                        extra = ""
                        if r.get("cycles_per_packet") is not None:
                            extra = ", %.0f cyc/pkt" % r["cycles_per_packet"]
                        msg = "%.3f Mpps%s" % (r["mpps"], extra)
                    else:
                        msg = r.get("error", "") if r.get("na") else "FAILED: " + r.get("error", "")
                    log("[%d/%d] r%d %-10s %-8s %s (%.0f s)" % (k, total, rep, c.name, s,
                                                                msg[:200], r["elapsed_s"]))
                    line.append(r)
                if c.topo == "vm2nic":
                    log_zc_pair(c, line)
                    continue
                fr = next((r for r in line if r["switch"] == "ferry" and r.get("ok")), None)
                if fr:
                    rat = ["ferry/%s %.2f" % (r["switch"], fr["mpps"] / r["mpps"])
                           for r in line if r["switch"] != "ferry" and r.get("ok")]
                    if rat:
                        log("      %s: %s" % (c.name, ", ".join(rat)))
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: writing what was measured")
    finally:
        kill_all()
        shutil.rmtree(work, ignore_errors=True)
        cleanup_runtime("fbench%d" % os.getpid())

    iso_recs = [r for r in records if r["topo"] in isolation.TOPOS]
    cap_recs = [r for r in records if r["topo"] in capture_idle.TOPOS]
    records_all, records = records, [r for r in records if r["topo"] not in SEPARATE]
    cases = [c for c in cases if c.topo not in SEPARATE]
    main_cases = [c for c in cases if c.topo != "vm2nic"]
    zc_cases = [c for c in cases if c.topo == "vm2nic"]
    main_recs = [r for r in records if r["topo"] != "vm2nic"]
    zc_recs = [r for r in records if r["topo"] == "vm2nic"]
    summary = summarize(main_recs, main_cases, switches) if main_recs else []
    zsum = summarize_zc(zc_recs, zc_cases, zc_switches) if zc_recs else None
    res = {"meta": meta, "summary": summary, "runs": records_all}
    if iso_recs:
        res["isolation"] = isolation.summarize(iso_recs)
    if cap_recs:
        res["capture_idle"] = capture_idle.summarize(cap_recs)
    if zsum is not None:
        res["zc_summary"] = zsum
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    write_markdown(os.path.join(out, "results.md"), meta, summary, records_all, switches,
                   (zsum, zc_switches) if zsum else None)
    png = write_chart(out, summary, switches) if summary else None
    zpng = write_zc_chart(out, zsum, zc_switches) if zsum else None
    latest = os.path.join(BENCH, "results", "latest" + ("-smoke" if args.smoke else ""))
    if os.path.dirname(os.path.abspath(out)) == os.path.join(BENCH, "results"):
        try:
            if os.path.islink(latest):
                os.unlink(latest)
            os.symlink(os.path.basename(out), latest)
        except OSError:
            pass
    print()
    print(read(os.path.join(out, "results.md")).split("## Failed runs")[0]
          .split("## Every run")[0].rstrip())
    print()
    log("wrote %s/results.md, results.json%s%s" % (out, ", chart.png" if png else "",
                                                    ", chart-zc.png" if zpng else ""))

    failed = [r for r in records_all if not r.get("ok") and not r.get("na")]
    if args.smoke:
        if interrupted:
            print("FAIL: bench/smoke: interrupted")
            return 1
        if failed:
            r = failed[0]
            print("FAIL: bench/smoke: %s on %s: %s" % (r["switch"], r["name"],
                                                      (r.get("error") or "")[:300]))
            return 1
        if not records_all:
            print("FAIL: bench/smoke: nothing ran")
            return 1
        bad = zc_smoke_check(zc_recs)
        if bad:
            print("FAIL: bench/smoke: %s" % bad)
            return 1
        print("PASS: bench/smoke")
        return 0
    return 1 if (failed or interrupted) else 0


if __name__ == "__main__":
    sys.exit(main())
