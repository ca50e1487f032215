"""fdb_scale.py — the FDB's cost at scale (issue #20): p2p-1m's own steps (wait until the switch
has learned the stations before the warm-up) and the "(N MACs / 1 MAC)" table: per switch and
repeat, p2p-N's rate over p2p-1's (adjacent runs of one bench run), and ferry's ratio over
testpmd's own (the traffic's footprint alone, no classification), against the goal 0.9.
Python standard library only."""
import time

from util import BenchError, cell, log, rpc_call, stats_of

GOAL = 0.9          # ferry's (N / 1) ratio >= 0.9x testpmd's (issue #20)
LEARN_MAX_S = 120   # p2p-1m: at most this long for the learning pass to be taken


class LearnFirst:
    """p2p-1m: nic1's learning pass (3 x N frames replayed once from the file) must be over before
    the warm-up, or the window measures learning and flooding. ferry: until switch.info's
    fdb_entries holds the N stations; testpmd (nothing to learn): until nic1 received the whole
    pass; OVS: its ready() already waited for its MAC table to hold them."""

    def __init__(self, stations):
        self.n = stations

    def start_guests(self, ctx):
        t0, sw = time.time(), ctx.sw
        if ctx.run.switch == "ferry":
            have = lambda: rpc_call(sw.sock, "switch.info", timeout=30)["fdb_entries"]  # noqa
            need = self.n
        elif ctx.run.switch == "testpmd":
            have = lambda: sw.port_rx("nic1")  # noqa: E731
            need = 3 * self.n
        else:
            need = None
        if need is not None:
            while True:
                got = have()
                if got >= need:
                    break
                if time.time() - t0 > LEARN_MAX_S:
                    raise BenchError("%s took %d of %d learning frames/entries in %d s" % (
                        ctx.run.switch, got, need, LEARN_MAX_S))
                time.sleep(0.5)
        self.learn_s = round(time.time() - t0, 1)
        log("      %s: learning pass taken in %.1f s (after ready)" % (ctx.run.switch,
                                                                        self.learn_s))
        return False   # the warm-up follows

    def after_window(self, ctx, rec):
        rec["learn_s"] = self.learn_s
        if ctx.run.switch == "ferry":
            rec["fdb_entries"] = rpc_call(ctx.sw.sock, "switch.info", timeout=30)["fdb_entries"]


def ratios(records, switches):
    """{case: {switch: stats of mpps(case)/mpps(p2p-1) per repeat, "ferry_vs_testpmd": ...}}"""
    by = {}
    for r in records:
        if r.get("topo") == "p2p" and r.get("ok"):
            by.setdefault(r["case"], {}).setdefault(r["switch"], {})[r["repeat"]] = r["mpps"]
    base = by.get("1")
    out = {}
    if not base:
        return out
    for case in [c for c in ("1k", "100k", "1m") if c in by]:
        row, per = {}, {}
        for s in switches:
            per[s] = {rep: m / base[s][rep] for rep, m in by[case].get(s, {}).items()
                      if base.get(s, {}).get(rep)}
            row[s] = stats_of(list(per[s].values()))
        if "ferry" in per and "testpmd" in per:
            row["ferry_vs_testpmd"] = stats_of([per["ferry"][k] / per["testpmd"][k]
                                                for k in per["ferry"] if per["testpmd"].get(k)])
        out[case] = row
    return out


def markdown(records, switches):
    rat = ratios(records, switches)
    if not rat:
        return []
    L = ["### The FDB at scale (issue #20): P2P N MACs / P2P 1 MAC", "",
         "Per switch and repeat, the rate at N stations over the rate at 1 station (adjacent "
         "runs), median (min-max); testpmd's ratio is the traffic's own footprint (io "
         "forwarding, no lookup); goal: ferry's ratio >= %.1fx testpmd's (per-repeat pairs)." %
         GOAL, ""]
    head = ["MACs"] + ["%s N/1" % s for s in switches] + ["ferry's / testpmd's", "goal"]
    L += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case, row in rat.items():
        f = row.get("ferry_vs_testpmd")
        goal = "-" if f is None else ("met" if f["median"] >= GOAL else "NOT met")
        L.append("| " + " | ".join([case] + [cell(row.get(s)) for s in switches] +
                                   [cell(f), goal]) + " |")
    L.append("")
    return L
