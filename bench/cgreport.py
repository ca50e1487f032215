#!/usr/bin/env python3
"""cgreport.py — instructions per frame of ferry's datapath from a callgrind profile of ferryd.

  cgreport.py CALLGRIND_OUT FRAMES [--json OUT] [--top N]
The profile must be written with --compress-strings=no --compress-pos=no. Reported:
  datapath/frame = (inclusive Ir of ferry_pipeline_run + Ir of the end-of-iteration tx flushes,
                    i.e. ferry_pipeline_flush -> ferry_txbuf_flush; before the tx buffer module:
                    ferry_pmd_flush_all -> ferry_pmd_flush) / FRAMES
    everything ferry does to a received burst: parse, VLAN, FDB lookup/learn, forwarding, tx
    buffering, the tx burst into the driver and freeing; not the rx driver, not idle polling.
  pmd_main/frame: for information (it includes the rx driver and the idle polls after the
    replay, which depend on timing: do not compare it across runs).
Then a call tree of the datapath (per frame) and the top functions by inclusive cost.
"""
import argparse
import json
import re
import sys
from collections import defaultdict


def parse(path):
    self_cost = defaultdict(int)
    calls = defaultdict(int)          # (caller, callee) -> inclusive Ir of those calls
    ncalls = defaultdict(int)
    fn = None
    cfn = None
    ob = cob = ""
    pending_call = False

    def named(name, obj):   # a stripped library's static function: say which library
        return "%s [%s]" % (name, obj.rsplit("/", 1)[-1]) if name.startswith("0x") else name
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("ob="):
                ob = cob = line[3:].strip()
            elif line.startswith("cob="):
                cob = line[4:].strip()
            elif line.startswith("fn="):
                fn = named(line[3:].strip(), ob)
                cob = ob
                pending_call = False
            elif line.startswith("cfn="):
                cfn = named(line[4:].strip(), cob)
            elif line.startswith("calls="):
                pending_call = True
                ncalls[(fn, cfn)] += int(line[6:].split()[0])
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                parts = line.split()
                if len(parts) < 2 or fn is None:
                    continue
                cost = int(parts[1])
                if pending_call:
                    calls[(fn, cfn)] += cost
                    pending_call = False
                    cob = ob
                else:
                    self_cost[fn] += cost
    incl = defaultdict(int)
    for f_, c in self_cost.items():
        incl[f_] += c
    for (a, b), c in calls.items():
        if a != b:
            incl[a] += c
    return self_cost, calls, ncalls, incl


def base(name):
    """'ferry_pmd_flush'[...'ob'] -> plain symbol name (callgrind may suffix 'name'2 etc.)"""
    return re.sub(r"'\d+$", "", name)


def find(incl, name):
    for k in incl:
        if base(k) == name:
            return k
    return None


def tree(calls, root, scale, depth, out, indent="  ", min_ir=0.5, seen=None):
    seen = seen or set()
    kids = sorted(((c, b) for (a, b), c in calls.items() if a == root and b != root),
                  reverse=True)
    for c, b in kids:
        if c / scale < min_ir:
            continue
        out.append("%s%8.1f  %s" % (indent, c / scale, base(b)))
        if depth > 1 and b not in seen:
            tree(calls, b, scale, depth - 1, out, indent + "  ", min_ir, seen | {b})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("frames", type=int)
    ap.add_argument("--json")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--scope", default="whole process")
    ap.add_argument("--top-only", action="store_true",
                    help="only the top list (a profile collected inside the datapath only)")
    a = ap.parse_args()
    self_cost, calls, ncalls, incl = parse(a.profile)
    n = a.frames
    if a.top_only:
        print("top %d functions by inclusive cost (%s, instructions per frame):" % (a.top, a.scope))
        print("  %10s %10s  %s" % ("incl", "self", "function"))
        for k, v in sorted(incl.items(), key=lambda kv: -kv[1])[:a.top]:
            print("  %10.1f %10.1f  %s" % (v / n, self_cost[k] / n, base(k)))
        return 0
    pr = find(incl, "ferry_pipeline_run")
    fa = find(incl, "ferry_pipeline_flush") or find(incl, "ferry_pmd_flush_all")
    fl = find(incl, "ferry_txbuf_flush") or find(incl, "ferry_pmd_flush")
    pm = find(incl, "pmd_main")
    if pr is None:
        print("cgreport: no ferry_pipeline_run in the profile (frames never reached the pipeline?)")
        return 1
    flush_end = calls.get((fa, fl), 0) if fa and fl else 0
    pipeline = incl[pr]
    res = {"frames": n,
           "datapath_ir_per_frame": round((pipeline + flush_end) / n, 1),
           "pipeline_ir_per_frame": round(pipeline / n, 1),
           "tx_flush_ir_per_frame": round(flush_end / n, 1),
           "pmd_main_ir_per_frame": round(incl[pm] / n, 1) if pm else None}
    print("frames through the pipeline: %d" % n)
    print("ferry datapath: %.1f instructions/frame  (pipeline %.1f + end-of-iteration tx flush %.1f)"
          % (res["datapath_ir_per_frame"], res["pipeline_ir_per_frame"],
             res["tx_flush_ir_per_frame"]))
    print("for information: pmd_main %s/frame (includes the rx driver and idle polling after the "
          "replay: not comparable across runs)" % res["pmd_main_ir_per_frame"])
    out = ["", "datapath call tree (instructions per frame, inclusive):",
           "  %8.1f  ferry_pipeline_run (self %.1f)" % (pipeline / n, self_cost[pr] / n)]
    tree(calls, pr, n, 3, out, "    ")
    if fl:
        out.append("  %8.1f  %s (from %s; self %.1f over all calls)"
                   % (flush_end / n, base(fl), base(fa) if fa else "?", self_cost[fl] / n))
        tree(calls, fl, n, 2, out, "    ")
    print("\n".join(out))
    print("\ntop %d functions by inclusive cost (%s, instructions per frame):" % (
        a.top, a.scope))
    print("  %10s %10s  %s" % ("incl", "self", "function"))
    rows = sorted(incl.items(), key=lambda kv: -kv[1])[:a.top]
    res["top_inclusive"] = []
    for k, v in rows:
        print("  %10.1f %10.1f  %s" % (v / n, self_cost[k] / n, base(k)))
        res["top_inclusive"].append({"function": base(k), "incl_per_frame": round(v / n, 1),
                                     "self_per_frame": round(self_cost[k] / n, 1)})
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
