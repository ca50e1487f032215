"""report.py — summaries over repeats and what results.md / the charts show: the main table
(ferry / testpmd / OVS), vm2nic's copy vs zero-copy, and the isolation and capture tables of
their modules. Python standard library only."""
import os
import re
import shutil
import subprocess

import capture_idle
import fdb_scale
import isolation
import v2v_tcp
from peers import ZC_VARIANTS
from util import ROOT, cell, fmt, log, read, stats_of

# cases with their own tables (not the main one)
SEPARATE = isolation.TOPOS + capture_idle.TOPOS + v2v_tcp.TOPOS


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
        for other in ("testpmd", "ovs", "ferry-enq"):
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
        L += fdb_scale.markdown(records, switches)
    else:
        L += ["%s; %d repeat(s); warm-up %ss, window %ss; PMD on lcore 1, guests on lcore 0." % (
            meta["mode"], meta["repeats"], meta["warmup_s"], meta["window_s"]), ""]
    if zc is not None and zc[0]["rows"]:
        L += zc_markdown(zc[0], zc[1], meta)
    L += v2v_tcp.markdown(records, meta)
    iso = [r for r in records if r["topo"] in isolation.TOPOS]
    if iso:
        L += isolation.markdown(iso, switches, meta)
    cap = [r for r in records if r["topo"] in capture_idle.TOPOS]
    if cap:
        L += capture_idle.markdown(cap, meta)
    L += run_tables(meta, records)
    with open(path, "w") as f:
        f.write("\n".join(L))


def row_cells(row):
    """The first two cells of a summary row: the topology and the case."""
    label = {"pvp": "%s B" % row["case"], "p2p": "%s MACs" % row["case"],
             "v2v": "64 B, 2 ports", "scale": "%s ports" % row["case"]}[row["topo"]]
    return [TOPO_TITLE[row["topo"]].split(" ")[0], label]


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
        head += ["ferry/%s" % o for o in ("testpmd", "ovs", "ferry-enq") if o in switches]
        head += ["ferry cyc/pkt"] + (["ferry-enq cyc/pkt"] if "ferry-enq" in switches else [])
    if "ovs" in switches:
        head += ["OVS cyc/pkt"]
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "---|" * len(head))
    for row in summary:
        cells = row_cells(row)
        cells += [swcell(row, s) for s in switches]
        cells += ["/".join(str(row["switch"][s].get("clean_runs", 0)) for s in switches)]
        if "ferry" in switches:
            cells += [cell(row.get("ferry_vs_" + o)) for o in ("testpmd", "ovs", "ferry-enq")
                      if o in switches]
            cells += [swcell(row, "ferry", "cycles_per_packet", 0)]
            if "ferry-enq" in switches:
                cells += [swcell(row, "ferry-enq", "cycles_per_packet", 0)]
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
        cells = row_cells(row)
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
            cells = row_cells(row)
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
    colors = {"ferry": "#1f77b4", "testpmd": "#7f7f7f", "ovs": "#d62728", "ferry-enq": "#2ca02c"}
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

