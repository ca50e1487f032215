#!/usr/bin/env python3
"""mkpcap.py — generate the benchmark's input pcaps (stdlib only, deterministic for a given seed).

Frames are real Ethernet (optionally 802.1Q tagged) / IPv4 / UDP with varied 5-tuples, padded to an
exact length (the mbuf length: no FCS in the file; "64 B" = 64 bytes here, as testpmd's --txpkts).

  mkpcap.py pvp   --size 64 --out F       uplink -> one guest: src = 8 remote hosts, dst = the guest
                                          MAC, 256 UDP flows, untagged, 4096 frames
  mkpcap.py p2p   --stations N --size 64 --out F
                                          uplink -> N stations behind the other NIC: src = one
                                          router MAC, dst spans N stations (each in one of 4 VLANs,
                                          tagged), max(4096, N) frames, each station at least once
  mkpcap.py learn --stations N --out F    one frame from each of the N stations (src = station, to
                                          the router, in its VLAN): replayed once by the sink port
                                          so a learning switch pre-learns all N stations
  mkpcap.py vm2nic --size 1518 --out F   a guest's frames out to remote host 1: src = the guest,
                                          256 UDP flows, untagged (the vm2nic guest replays them)
  mkpcap.py info F                        frames, sizes, distinct MACs/VLANs of a pcap
Addresses: guest i = 52:54:00:00:00:<i> (i from 1), remote host j = 00:1b:21:0a:00:<j>,
router = 00:1b:21:0b:00:01, station k = 02:00:<k as 4 bytes>; VLAN of station k = 10 + k % 4.
"""
import argparse
import random
import struct
import sys

PCAP_HDR = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)   # LINKTYPE_ETHERNET

ROUTER = bytes.fromhex("001b210b0001")


def guest_mac(i):
    return bytes([0x52, 0x54, 0x00, 0x00, (i >> 8) & 0xFF, i & 0xFF])


def remote_mac(j):
    return bytes([0x00, 0x1B, 0x21, 0x0A, 0x00, j & 0xFF])


def station_mac(k):
    return bytes([0x02, 0x00]) + struct.pack(">I", k)


def station_vlan(k, n_vlans=4):
    return 10 + k % n_vlans


def mac_str(b):
    return ":".join("%02x" % x for x in b)


def ip_csum(hdr):
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(dst, src, size, vlan=None, pcp=0, sip=0x0A000001, dip=0x0A000002, sport=1024,
          dport=4789):
    """An Ethernet/IPv4/UDP frame of exactly `size` bytes (>= 60, or 64 when tagged)."""
    eth = dst + src
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, (pcp << 13) | vlan)
    eth += struct.pack("!H", 0x0800)
    ip_len = size - len(eth)
    if ip_len < 28:
        raise ValueError("frame size %d too small" % size)
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0x4000, 64, 17, 0,
                      struct.pack("!I", sip), struct.pack("!I", dip))
    iph = iph[:10] + struct.pack("!H", ip_csum(iph)) + iph[12:]
    udp = struct.pack("!HHHH", sport, dport, ip_len - 20, 0)
    payload = bytes((i & 0xFF for i in range(ip_len - 28)))
    return eth + iph + udp + payload


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(PCAP_HDR)
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(fr), len(fr)))
            f.write(fr)


def guest_udp(a, hosts, out):
    """a.frames UDP frames between guest a.guest and remote hosts 1..hosts, 256 flows: to the
    guest, or from it (out)."""
    rnd = random.Random(a.seed)
    guest = guest_mac(a.guest)
    gip = 0x0A000000 + a.guest
    frames = []
    for i in range(a.frames):
        h = rnd.randrange(hosts)
        flow = rnd.randrange(256)
        remote, rip, ports = remote_mac(h + 1), 0xC0A80000 + h + 1, (1024 + flow, 5000 + flow % 7)
        frames.append(frame(remote, guest, a.size, sip=gip, dip=rip, sport=ports[0],
                            dport=ports[1]) if out else
                      frame(guest, remote, a.size, sip=rip, dip=gip, sport=ports[0],
                            dport=ports[1]))
    return frames


def gen_pvp(a):
    return guest_udp(a, 8, out=False)


def gen_vm2nic(a):
    """A guest's frames to one remote host: src = the guest, dst = remote host 1, 256 UDP flows."""
    return guest_udp(a, 1, out=True)


def gen_p2p(a):
    rnd = random.Random(a.seed)
    n = a.stations
    total = max(a.frames, n)
    order = list(range(n))
    rnd.shuffle(order)
    frames = []
    for i in range(total):
        k = order[i] if i < n else rnd.randrange(n)
        vlan = station_vlan(k, a.vlans)
        frames.append(frame(station_mac(k), ROUTER, a.size, vlan=vlan, pcp=0,
                            sip=0xC6120000 + rnd.randrange(65536), dip=0x0A000000 + k,
                            sport=1024 + rnd.randrange(60000), dport=rnd.choice((53, 80, 443))))
    return frames


def gen_learn(a):
    return [frame(ROUTER, station_mac(k), max(a.size, 64), vlan=station_vlan(k, a.vlans),
                  sip=0x0A000000 + k, dip=0xC6120001, sport=443, dport=40000 + k % 20000)
            for k in range(a.stations)]


def info(path):
    with open(path, "rb") as f:
        data = f.read()
    off, n, sizes, dsts, srcs, vlans = 24, 0, set(), set(), set(), set()
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        fr = data[off + 16:off + 16 + incl]
        off += 16 + incl
        n += 1
        sizes.add(len(fr))
        dsts.add(fr[0:6])
        srcs.add(fr[6:12])
        if fr[12:14] == b"\x81\x00":
            vlans.add(struct.unpack("!H", fr[14:16])[0] & 0xFFF)
    print("%s: %d frames, sizes %s, %d dst MACs, %d src MACs, VLANs %s" % (
        path, n, sorted(sizes), len(dsts), len(srcs), sorted(vlans) or "none"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("kind", choices=("pvp", "p2p", "learn", "vm2nic", "info"))
    ap.add_argument("file", nargs="?", help="pcap to describe (info)")
    ap.add_argument("--out")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--stations", type=int, default=1)
    ap.add_argument("--vlans", type=int, default=4)
    ap.add_argument("--guest", type=int, default=1)
    ap.add_argument("--frames", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.kind == "info":
        info(a.file)
        return 0
    if not a.out:
        ap.error("--out is required")
    gen = {"pvp": gen_pvp, "p2p": gen_p2p, "learn": gen_learn, "vm2nic": gen_vm2nic}[a.kind]
    write_pcap(a.out, gen(a))
    return 0


if __name__ == "__main__":
    sys.exit(main())
