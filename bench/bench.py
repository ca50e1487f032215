#!/usr/bin/env python3
"""bench.py — ferry against dpdk-testpmd (io forwarding) and Open vSwitch with DPDK, side by side.

Run through bench/run.sh (which installs packages, reserves hugepages and builds ferryd); see
bench/README.md for the method. This file: the options, the run loop (cases x switches x
repeats) and the results; topology.py / isolation.py / capture_idle.py the cases, peers.py the
guests and switches, measure.py one run, report.py the tables and charts, util.py the plumbing.
Python standard library only.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture_idle  # noqa: E402
import isolation  # noqa: E402
import topology  # noqa: E402
import v2v_tcp  # noqa: E402
from measure import cleanup_runtime, measure  # noqa: E402
from peers import ENQ, OL_OFF, OVS_VSWITCHD, SWITCHES, ZC_VARIANTS, is_ferry  # noqa: E402
from report import (SEPARATE, log_zc_pair, run_quality, summarize, summarize_zc,  # noqa: E402
                    write_chart, write_markdown, write_zc_chart, zc_min_auto, zc_smoke_check)
from topology import VM2NIC_GUEST, Case, build_case  # noqa: E402
from util import BENCH, ROOT, kill_all, log, read, wait_quiet  # noqa: E402


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
                    "ferry-auto (or name those), and OVS runs only when named; in v2v-tcp, "
                    "ferry = ferry and ferry-offloads-off (or name that one)")
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
        tcp = [r for r in d["runs"] if r["topo"] in v2v_tcp.TOPOS]
        if tcp:
            d["v2v_tcp"] = v2v_tcp.summarize(tcp)
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
        if s not in SWITCHES + ZC_VARIANTS + (OL_OFF, ENQ):
            ap.error("unknown switch %s (%s)" % (s, " ".join(SWITCHES + ZC_VARIANTS +
                                                             (OL_OFF, ENQ))))
    switches = [s for s in named if s in SWITCHES + (ENQ,)]
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
    # v2v-tcp: its variants (ferry with offloads off too) among the named switches
    ol_switches = [s for s in named if s in SWITCHES or s == OL_OFF]
    if "ferry" in ol_switches and OL_OFF not in ol_switches:
        ol_switches.insert(ol_switches.index("ferry") + 1, OL_OFF)
    pick = [(t, l) for t, l in pick if (zc_switches if t == "vm2nic" else ol_switches
                                        if t in v2v_tcp.TOPOS else switches)]
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
        case_sw = lambda c: zc_switches if c.topo == "vm2nic" else (  # noqa: E731
            [v for v in c.variants if v in ol_switches] if c.variants else
            [s for s in switches if s != ENQ or c.n_vhost() > 0])   # ferry-enq: guests only
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
                if c.topo in v2v_tcp.TOPOS:   # its hooks logged Gbit/s (Mpps says little)
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
    tcp_recs = [r for r in records_all if r["topo"] in v2v_tcp.TOPOS]
    if tcp_recs:
        res["v2v_tcp"] = v2v_tcp.summarize(tcp_recs)
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
