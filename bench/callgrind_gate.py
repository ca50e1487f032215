#!/usr/bin/env python3
"""callgrind_gate.py — the datapath's instruction-count regression gate (CI, bench stage).

  bench/callgrind_gate.py [--ferryd PATH] [--baseline FILE] [--cases p2p-1,p2p-1k,p2p-100k]
                          [--threshold 3.0] [--out DIR] [--jobs N]
Runs `bench/callgrind.sh --case C --quick --no-build` for every case of the baseline file
(bench/callgrind-baseline.txt) and compares its "ferry datapath" instructions per frame with the
baseline's. A case more than --threshold percent above its baseline prints
  FAIL: bench/callgrind_gate: <case> x instr/frame, baseline y (+z %)
every other case a PASS line with the same figures; one more than the threshold below its
baseline passes with a note to lower the baseline. Exit status 1 if any case failed.

The baseline file: one line per case and update, `case instr/frame date commit why...`; for a case
the last line counts, and every line must say why (an update without a reason fails the gate).
`#` starts a comment. Updating: bench/README.md ("The callgrind gate").
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "bench/callgrind_gate"


def read_baseline(path):
    """{case: (instr, date, commit, why)}, [problems]"""
    base, bad = {}, []
    with open(path) as f:
        for no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 4)
            if len(parts) < 5 or not re.match(r"^\d+(\.\d+)?$", parts[1]):
                bad.append("%s:%d: expected 'case instr/frame date commit why...', got %r"
                           % (path, no, line))
                continue
            base[parts[0]] = (float(parts[1]), parts[2], parts[3], parts[4])
    return base, bad


def measure(case, ferryd, out):
    """(instr/frame or None, seconds, log tail)"""
    t0 = time.time()
    d = os.path.join(out, case)
    p = subprocess.run([os.path.join(ROOT, "bench", "callgrind.sh"), "--case", case, "--quick",
                        "--no-build", "--ferryd", ferryd, "--out", d],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with open(os.path.join(d, "callgrind.json")) as f:
            v = json.load(f)["datapath_ir_per_frame"]
    except (OSError, ValueError, KeyError):
        v = None
    if p.returncode != 0:
        v = None
    return v, time.time() - t0, "\n".join(p.stdout.splitlines()[-15:])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ferryd", default=os.environ.get(
        "FERRYD", os.path.join(ROOT, "build", "app", "ferryd", "ferryd")))
    ap.add_argument("--baseline", default=os.path.join(ROOT, "bench", "callgrind-baseline.txt"))
    ap.add_argument("--cases", help="comma-separated (default: every case of the baseline)")
    ap.add_argument("--threshold", type=float, default=3.0, help="percent (default 3)")
    ap.add_argument("--out", help="keep the profiles here (default: a temporary directory)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="cases run at once (counts do not depend on timing; default 1)")
    a = ap.parse_args()

    base, bad = read_baseline(a.baseline)
    for b in bad:
        print("FAIL: %s: %s" % (NAME, b))
    cases = a.cases.split(",") if a.cases else list(base)
    if not cases:
        print("FAIL: %s: no case in %s" % (NAME, a.baseline))
        return 1
    if not os.access(a.ferryd, os.X_OK):
        print("FAIL: %s: %s not built" % (NAME, a.ferryd))
        return 1
    out = a.out or tempfile.mkdtemp(prefix="ferry-cg-gate.")
    os.makedirs(out, exist_ok=True)
    print("%s: %s, cases %s, threshold +%.1f %% (profiles in %s)"
          % (NAME, a.ferryd, ",".join(cases), a.threshold, out), flush=True)
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        res = dict(zip(cases, ex.map(lambda c: measure(c, a.ferryd, out), cases)))
    failed = len(bad)
    for c in cases:
        v, secs, tail = res[c]
        if v is None:
            print(tail)
            print("FAIL: %s: %s: callgrind.sh failed (log in %s)" % (NAME, c, os.path.join(out, c)))
            failed += 1
            continue
        if c not in base:
            print("FAIL: %s: %s %.1f instr/frame, no baseline in %s" % (NAME, c, v, a.baseline))
            failed += 1
            continue
        b = base[c][0]
        pct = 100.0 * (v - b) / b
        line = "%s: %s %.1f instr/frame, baseline %.1f (%+.1f %%)" % (NAME, c, v, b, pct)
        if pct > a.threshold:
            print("FAIL: " + line + ": more than %.1f %% worse; if intended, update %s in the "
                  "same change with a line saying why (bench/README.md)"
                  % (a.threshold, os.path.relpath(a.baseline, ROOT)))
            failed += 1
        else:
            print("PASS: " + line + " [%.0f s]" % secs)
            if pct < -a.threshold:
                print("NOTE: %s: %s is %.1f %% better than its baseline: lower the baseline "
                      "(with a line saying why) so the gate keeps the gain" % (NAME, c, -pct))
    print("%s: %d case(s), %d failed, %.0f s" % (NAME, len(cases), failed, time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
