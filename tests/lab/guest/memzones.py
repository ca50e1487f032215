#!/usr/bin/python3
"""memzones.py RUNTIME_DIR OUT.json — ferryd's DPDK memzones (name, address, length) and memsegs
(VA -> IOVA) through its telemetry socket, for the iommu scenario: the IOVAs the NICs use (QEMU's
vtd_dmar_translate trace) must lie inside ferryd's mempools and rings."""
import json
import socket
import sys


def cmd(s, c):
    s.send(c.encode())
    reply = json.loads(s.recv(1 << 20).decode())
    return reply.get(c.split(",")[0])


def main():
    rundir, out = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(rundir + "/dpdk_telemetry.v2")
    json.loads(s.recv(1 << 16).decode())                   # greeting
    zones = []
    for z in cmd(s, "/eal/memzone_list") or []:
        i = cmd(s, "/eal/memzone_info,%d" % z)
        if i:
            zones.append({"name": i["Name"], "va": int(i["Address"], 16), "len": i["Length"]})
    segs = []
    for msl in cmd(s, "/eal/memseg_lists") or []:
        for ms in cmd(s, "/eal/memseg_list_info,%d" % msl) or []:
            i = cmd(s, "/eal/memseg_info,%d,%d" % (msl, ms))
            if i and i.get("IOVA_addr", "Bad IOVA") != "Bad IOVA":
                segs.append({"va": int(i["Start_addr"], 16), "iova": int(i["IOVA_addr"], 16),
                             "len": i["Size"]})
    with open(out, "w") as f:
        json.dump({"memzones": zones, "memsegs": segs}, f, indent=1)
    print("memzones.py: %d memzones, %d memsegs" % (len(zones), len(segs)))


if __name__ == "__main__":
    main()
