#!/usr/bin/python3
"""dmar_fault.py BDF [IOVA] — the lab's deliberate DMAR fault (dmar-fault scenario): makes an igb
(82576) that is bound to vfio-pci but unused fetch TX descriptors from IOVA (default 0xdead000),
which nothing maps in the device's IOMMU domain. The VT-d unit must block the read and report it.

Programs TX queue 0 by hand through BAR0 (sysfs resource0): TDBAL/TDBAH/TDLEN at the IOVA, TDH =
TDT = 0, TXDCTL.ENABLE, TCTL.EN, then TDT = 4: the NIC reads descriptors 0-3 from the IOVA. Then
turns the queue off and restores the command register and runtime PM. Prints what it did.
"""
import mmap
import os
import struct
import sys
import time

TCTL, TDBAL, TDBAH, TDLEN, TDH, TDT, TXDCTL = 0x0400, 0xE000, 0xE004, 0xE008, 0xE010, 0xE018, 0xE028
TCTL_EN, TXDCTL_ENABLE = 1 << 1, 1 << 25
CMD_MEM, CMD_MASTER = 0x2, 0x4


def main():
    bdf = sys.argv[1]
    iova = int(sys.argv[2], 16) if len(sys.argv) > 2 else 0xdead000
    dev = "/sys/bus/pci/devices/" + bdf
    # vfio-pci runtime-suspends an unused device (D3hot: BARs read as 0): keep it awake meanwhile
    with open(dev + "/power/control") as f:
        pm = f.read().strip()
    with open(dev + "/power/control", "w") as f:
        f.write("on")
    time.sleep(0.2)
    cfg = os.open(dev + "/config", os.O_RDWR)
    cmd = struct.unpack("<H", os.pread(cfg, 2, 4))[0]
    os.pwrite(cfg, struct.pack("<H", cmd | CMD_MEM | CMD_MASTER), 4)   # DMA needs bus mastering
    fd = os.open(dev + "/resource0", os.O_RDWR | os.O_SYNC)
    bar = mmap.mmap(fd, os.fstat(fd).st_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    def rd(off):
        return struct.unpack("<I", bar[off:off + 4])[0]

    def wr(off, v):
        bar[off:off + 4] = struct.pack("<I", v & 0xffffffff)

    try:
        print("%s: status 0x%08x, command 0x%04x; TX ring 0 at IOVA 0x%x" % (bdf, rd(0x8), cmd, iova))
        wr(TDBAL, iova)
        wr(TDBAH, iova >> 32)
        wr(TDLEN, 4096)
        wr(TDH, 0)
        wr(TDT, 0)
        wr(TXDCTL, rd(TXDCTL) | TXDCTL_ENABLE)
        wr(TCTL, rd(TCTL) | TCTL_EN)
        wr(TDT, 4)   # the NIC fetches descriptors 0..3 from the IOVA now
        time.sleep(0.5)
        print("after the kick: TDH %d TDT %d" % (rd(TDH), rd(TDT)))
    finally:
        wr(TCTL, rd(TCTL) & ~TCTL_EN)
        wr(TXDCTL, rd(TXDCTL) & ~TXDCTL_ENABLE)
        wr(TDT, 0)
        wr(TDH, 0)
        wr(TDBAL, 0)
        bar.close()
        os.close(fd)
        os.pwrite(cfg, struct.pack("<H", cmd), 4)
        os.close(cfg)
        with open(dev + "/power/control", "w") as f:
            f.write(pm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
