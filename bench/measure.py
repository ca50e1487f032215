"""measure.py — one measurement: one switch on one case (guests up, switch ready, warm-up, a
window of per-second counter reads, the case's own steps, stop), and perf record around it.
Python standard library only."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import time

from peers import Guest, adapter, is_ferry
from topology import GUEST_PORTS_MAX
from util import NotApplicable, Proc, cpu_times, log, steal_pct, task_times, wait_for


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

