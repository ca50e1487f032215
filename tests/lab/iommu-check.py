#!/usr/bin/python3
"""iommu-check.py RUN_DIR — the iommu scenario's verdict, on the host after QEMU exited.

Inputs (written during the pf-pair run): iommu/memzones.json (ferryd's DPDK memzones from its
telemetry socket, taken while traffic flowed), iommu/pending (the PCI addresses of ferryd's two
NICs), iommu/ferryd-eal.txt, iommu/dmesg-faults.txt, and qemu-trace.log (QEMU's VT-d trace: fault
events for the whole run, vtd_dmar_translate for about one second of traffic).

PASS when: ferryd ran in IOVA-as-VA mode; the trace holds translations of DMA by ferryd's NICs and
every one of them lands in a memzone of ferryd (mbuf pools "MP_*" for packets, "eth_p*" descriptor
rings; QEMU traces the translated IOMMU page, 2 MiB here, so "lands in" means the page holds one of
ferryd's memzones), pages of both kinds among them; no DMAR fault in QEMU's trace or the guest
kernel log, during pf-pair and over the whole run (except the dmar-fault scenario's deliberate one,
described by dmar-fault/control.txt). Prints one PASS/FAIL line for lab/iommu.
"""
import collections
import json
import os
import re
import sys


def fail(msg):
    print("FAIL: lab/iommu: " + msg)
    sys.exit(0)


def main():
    run = sys.argv[1]
    d = os.path.join(run, "iommu")
    pending = open(os.path.join(d, "pending")).read().split()
    devs = {}                                   # "01:00.00" (trace format) -> port name
    for kv in pending:
        name, bdf = kv.split("=")
        bus, rest = bdf.split(":")[1], bdf.split(":")[2]
        slot, fn = rest.split(".")
        devs["%s:%s.%02x" % (bus, slot, int(fn))] = name
    try:
        mz = json.load(open(os.path.join(d, "memzones.json")))["memzones"]
    except (OSError, ValueError, KeyError):
        fail("no memzone list from ferryd's telemetry (%s)" % open(os.path.join(d, "memzones.log")).read().strip()[-200:])
    eal = open(os.path.join(d, "ferryd-eal.txt")).read()
    if "IOVA mode 'VA'" not in eal:
        fail("ferryd's EAL did not select IOVA-as-VA (device addresses are not ferryd's virtual addresses): " + eal.strip()[-200:])
    faults = open(os.path.join(d, "dmesg-faults.txt")).read().strip()
    if faults:
        fail("DMAR fault in the guest kernel log during pf-pair: " + faults.splitlines()[0])
    # the dmar-fault scenario's deliberate fault (its negative control) is no fault of ferryd's:
    # leave out exactly that one (device, IOVA page) in both logs, and its "handling fault" line
    ctl = {}
    try:
        ctl = dict(kv.split("=", 1) for kv in open(os.path.join(run, "dmar-fault", "control.txt")).read().split())
    except (OSError, ValueError):
        pass

    def control(line):
        if not ctl:
            return False
        if "vtd_dmar_fault" in line:   # QEMU traces each faulting access: any address in that page
            m = re.search(r"sid (0x[0-9a-f]+) .*addr (0x[0-9a-f]+)", line)
            return bool(m) and m.group(1) == ctl["sid"] and int(m.group(2), 16) >> 12 == int(ctl["addr"], 16) >> 12
        return ("Request device [%s] fault addr %s " % (ctl["dev"], ctl["addr"])) in line or \
            "DRHD: handling fault status reg" in line

    try:   # the guest's kernel log at the end of the whole run (every scenario)
        full = [l for l in open(os.path.join(run, "dmesg.txt"), errors="replace")
                if re.search(r"DMAR:.*(fault|\[DMA)|DRHD: handling fault", l) and not control(l)]
    except OSError:
        full = []
    if full:
        fail("DMAR fault in the guest kernel log: " + full[0].strip())

    zones = [(z["va"], z["va"] + z["len"], z["name"]) for z in mz]

    def zones_in(lo, hi):
        return [name for zlo, zhi, name in zones if zlo < hi and lo < zhi]

    # vtd_dmar_translate prints the translated page (iova & ~mask; ferryd's 2 MiB hugepages are
    # mapped as 2 MiB IOMMU pages), not the exact address: a page is ferryd's if one of its
    # memzones lies in it.
    tr = re.compile(r"vtd_dmar_translate dev ([0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]{2}) iova 0x([0-9a-f]+) -> gpa 0x([0-9a-f]+) mask 0x([0-9a-f]+)")
    pages = collections.Counter()
    n_tr = n_fault = ident = 0
    with open(os.path.join(run, "qemu-trace.log"), errors="replace") as f:
        for line in f:
            if "vtd_dmar_fault" in line or "vtd_fault_disabled" in line:
                n_fault += not control(line)
                continue
            m = tr.search(line)
            if not m or m.group(1) not in devs:
                continue
            n_tr += 1
            iova, gpa, mask = int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16)
            ident += iova == gpa
            pages[(iova, mask)] += 1
    if n_fault:
        fail("%d DMAR fault events in QEMU's VT-d trace" % n_fault)
    if n_tr == 0:
        fail("no vtd_dmar_translate line for ferryd's NICs (%s) in qemu-trace.log: translation trace not captured" % ", ".join(sorted(devs)))
    outside, pool_pages, ring_pages = [], set(), set()
    for (iova, mask), n in pages.items():
        names = zones_in(iova, iova + mask + 1)
        if not names:
            outside.append("0x%x (%d translations)" % (iova, n))
        if any(x.startswith("MP_") for x in names):
            pool_pages.add(iova)
        if any(x.startswith("eth_p") for x in names):
            ring_pages.add(iova)
    if outside:
        fail("DMA by ferryd's NICs to %d IOMMU pages holding none of ferryd's memzones: %s" % (len(outside), "; ".join(sorted(outside)[:3])))
    if not pool_pages or not ring_pages:
        fail("translations seen but not both into mbuf pool pages (%d) and descriptor ring pages (%d)" % (len(pool_pages), len(ring_pages)))
    masks = sorted({"%d KiB" % ((mask + 1) >> 10) for _, mask in pages})
    print("PASS: lab/iommu (%d DMA translations by ferryd's NICs in ~1 s, onto %d IOMMU pages (%s), all holding ferryd memzones: %d with mbuf pools, %d with descriptor rings; iova == gpa for %d; 0 DMAR faults)"
          % (n_tr, len(pages), ", ".join(masks), len(pool_pages), len(ring_pages), ident))


if __name__ == "__main__":
    main()
