#!/usr/bin/env python3
"""plugtest.py — one pcap replay test of an eBPF plugin (plugins/) through the real ferryd.

  plugtest.py CASE --ferryd FERRYD --objdir BUILD/plugins --out DIR [--plugin-src plugins/]

Crafts the case's frames (raw bytes; no scapy), writes them as port vm's input, runs ferryd with
two net_pcap ports (vm: the plugin at its ingress; up: where every frame is flooded to; case
proto_count_egress: the plugin at up's egress), waits
until vm's input is switched, reads the plugin's maps and counters with filter.list over the
RPC socket, stops ferryd (switch.shutdown), and checks that exactly the frames the case expects
left on up, unchanged and in order, and the map values. Case arp_guard builds its plugin with a
compiled-in list (plugins/build.sh); acl gets its rules from the filter's "maps" in the config;
the others use the object meson built.

Case acl_runtime changes the ACL's rules while ferryd runs: acl (no rules) at up's egress, and
three phases, each a net_pcap port added over RPC that sends the same frames (to up, flooded):
no rules (all pass); two drop rules set with filter.map_set (the frames they match are dropped,
the others pass, `dropped` and the rules' hits count them); the rules disabled (enabled = 0, with
filter.map_set again): all pass. up's capture must be exactly that sequence."""
import argparse, collections, json, os, socket, struct, subprocess, sys, time

HOST = bytes.fromhex("020000000001")
VM = bytes.fromhex("525400000001")
BCAST = b"\xff" * 6
UNKNOWN = bytes.fromhex("02000000eeee")


# ---- frames ----
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(etype, payload, dst=UNKNOWN, src=VM, tags=()):
    h = dst + src
    for vid in tags:
        h += struct.pack("!HH", 0x8100, vid)
    f = h + struct.pack("!H", etype) + payload
    return f + b"\0" * max(0, 60 - len(f))


def ip4(src, dst, proto, l4, frag=0, opts=b""):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(l4), 1, frag, 64, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4


def a6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def ip6(src, dst, nh, l4, ext=()):
    body = b""
    # ext: list of extension header types, in order; each 8 bytes of padding options
    chain = list(ext) + [nh]
    for i in range(len(ext) - 1, -1, -1):
        body = struct.pack("!BB6s", chain[i + 1], 0, b"\x01\x04\0\0\0\0") + body
    first = chain[0]
    payload = body + l4
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), first, 64, a6(src), a6(dst)) + payload


def udp(sport, dport, data=b"\0" * 8):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport, dport):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x02, 8192, 0, 0)


def icmp4():
    return struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"


def arp(op, spa, tpa, sha=VM):
    q = lambda s: bytes(map(int, s.split(".")))
    return eth(0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, q(spa),
                                   b"\0" * 6 if op == 1 else HOST, q(tpa)), dst=BCAST)


def nd(icmp_type, target):
    body = struct.pack("!BBHI16s", icmp_type, 0, 0, 0x60000000 if icmp_type == 136 else 0, a6(target))
    return eth(0x86dd, ip6("fe80::5054:ff:fe00:1", "ff02::1", 58, body), dst=BCAST)


# ---- cases: Case(plugin, list header or None, frames [(name, bytes, passes)], map checks,
#                   the filter's "maps" in the config or None) ----
Case = collections.namedtuple("Case", "plugin listh frames maps init", defaults=(None,))

ANY = (0, 65535)


def acl_rule(family, proto, src, slen, dst, dlen, sport=ANY, dport=ANY, action="drop",
             enabled=1):
    """struct ferry_acl_rule as filter.map_set's hex (the layout of plugins/README.md)."""
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    addr = lambda a: socket.inet_pton(af, a).ljust(16, b"\0")
    return (struct.pack("<Q", 0) + addr(src) + addr(dst) +
            struct.pack("!BBBBHHHH4x", slen, dlen, family, proto, sport[0], sport[1], dport[0], dport[1]) +
            struct.pack("B6xB", {"drop": 0, "pass": 1}[action], enabled)).hex()


ACL_RULES = [
    acl_rule(4, 0, "0.0.0.0", 0, "0.0.0.0", 0, enabled=0),            # would drop all IPv4: off
    acl_rule(4, 17, "0.0.0.0", 0, "10.0.0.0", 8, dport=(53, 53), action="pass"),
    acl_rule(4, 17, "0.0.0.0", 0, "0.0.0.0", 0, dport=(53, 53)),
    acl_rule(4, 6, "192.168.1.0", 24, "0.0.0.0", 0, dport=(1000, 2000)),
    acl_rule(6, 6, "::", 0, "2001:db8::", 32, dport=(22, 22)),
    acl_rule(4, 1, "0.0.0.0", 0, "10.0.0.9", 32),
    acl_rule(6, 17, "::", 0, "2001:db8::6", 127),
]


def case_acl():
    E4 = lambda *a, **k: eth(0x0800, ip4(*a, **k))
    frames = [
        ("udp to 10/8 port 53: rule 0 passes", E4("1.2.3.4", "10.1.1.1", 17, udp(999, 53)), True),
        ("udp port 53 elsewhere: rule 1", E4("1.2.3.4", "8.8.8.8", 17, udp(999, 53)), False),
        ("the same, VLAN-tagged", eth(0x0800, ip4("1.2.3.4", "8.8.8.8", 17, udp(999, 53)), tags=(100,)), False),
        ("the same, two tags", eth(0x0800, ip4("1.2.3.4", "8.8.8.8", 17, udp(999, 53)), tags=(100, 7)), False),
        ("udp port 54", E4("1.2.3.4", "8.8.8.8", 17, udp(999, 54)), True),
        ("tcp from 192.168.1/24 to 1500: rule 2", E4("192.168.1.7", "8.8.8.8", 6, tcp(5, 1500)), False),
        ("tcp from 192.168.2.7", E4("192.168.2.7", "8.8.8.8", 6, tcp(5, 1500)), True),
        ("tcp from 192.168.1.7 to 2001 (range end + 1)", E4("192.168.1.7", "8.8.8.8", 6, tcp(5, 2001)), True),
        ("tcp from 192.168.1.7 to 1000 (range start)", E4("192.168.1.7", "8.8.8.8", 6, tcp(5, 1000)), False),
        ("ipv6 tcp to 2001:db8::/32 port 22: rule 3", eth(0x86dd, ip6("2001:db9::1", "2001:db8::5", 6, tcp(7, 22))), False),
        ("ipv6 tcp to 2001:db9::5 port 22", eth(0x86dd, ip6("2001:db9::1", "2001:db9::5", 6, tcp(7, 22))), True),
        ("ipv6 udp to 2001:db8::5 port 22", eth(0x86dd, ip6("2001:db9::1", "2001:db8::5", 17, udp(7, 22))), True),
        ("ipv6 tcp behind a hop-by-hop header: rule 3", eth(0x86dd, ip6("2001:db9::1", "2001:db8::5", 6, tcp(7, 22), ext=(0,))), False),
        ("icmp to 10.0.0.9: rule 4", E4("1.2.3.4", "10.0.0.9", 1, icmp4()), False),
        ("icmp to 10.0.0.10", E4("1.2.3.4", "10.0.0.10", 1, icmp4()), True),
        ("ipv4 with options, udp 53: rule 1", E4("1.2.3.4", "8.8.8.8", 17, udp(999, 53), opts=b"\x01\x01\x01\x00"), False),
        ("a later fragment (no ports): no rule", E4("1.2.3.4", "8.8.8.8", 17, udp(999, 53), frag=100), True),
        ("arp: not ip", arp(1, "10.0.0.1", "10.0.0.2"), True),
        ("ipv6 udp to 2001:db8::7: rule 6 (a /127)", eth(0x86dd, ip6("2001:db9::1", "2001:db8::7", 17, udp(7, 9))), False),
        ("ipv6 udp to 2001:db8::8", eth(0x86dd, ip6("2001:db9::1", "2001:db8::8", 17, udp(7, 9))), True),
    ]
    init = {"rules": [{"index": i, "value": v} for i, v in enumerate(ACL_RULES)]}
    return Case("acl", None, frames, {"rules": ("hits", [0, 1, 4, 2, 2, 1, 1])}, init)


GUARD_ADDRS = r"""
#define FERRY_GUARD_ADDRS \
	GUARD_V4(0, 10, 0, 0, 1) \
	GUARD_V4(FERRY_GUARD_ANY_PORT, 10, 0, 0, 7) \
	GUARD_V4(1, 10, 0, 0, 99) \
	GUARD_V6(0, 0xfe80, 0, 0, 0, 0x5054, 0xff, 0xfe00, 1) \
	GUARD_V6(FERRY_GUARD_ANY_PORT, 0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)
"""


def case_arp_guard():
    tagged = arp(2, "10.0.0.5", "10.0.0.5")
    tagged = tagged[:12] + struct.pack("!HH", 0x8100, 10) + tagged[12:]
    frames = [
        ("arp request from 10.0.0.1 (port 0's)", arp(1, "10.0.0.1", "10.0.0.2"), True),
        ("arp reply from 10.0.0.7 (any port's)", arp(2, "10.0.0.7", "10.0.0.2"), True),
        ("gratuitous arp for 10.0.0.5", arp(1, "10.0.0.5", "10.0.0.5"), False),
        ("arp probe (sender 0.0.0.0)", arp(1, "0.0.0.0", "10.0.0.5"), True),
        ("arp from 10.0.0.99 (port 1's only)", arp(2, "10.0.0.99", "10.0.0.2"), False),
        ("tagged gratuitous arp reply for 10.0.0.5", tagged, False),
        ("na for fe80::5054:ff:fe00:1 (port 0's)", nd(136, "fe80::5054:ff:fe00:1"), True),
        ("na for fe80::5054:ff:fe00:2", nd(136, "fe80::5054:ff:fe00:2"), False),
        ("na for 2001:db8::1 (any port's)", nd(136, "2001:db8::1"), True),
        ("na for 2001:db8::2", nd(136, "2001:db8::2"), False),
        ("ns for 2001:db8::2 (not an advertisement)", nd(135, "2001:db8::2"), True),
        ("ipv4 udp", eth(0x0800, ip4("10.0.0.5", "10.0.0.2", 17, udp(1, 2))), True),
        ("arp reply from 10.0.0.1", arp(2, "10.0.0.1", "10.0.0.2"), True),
    ]
    return "arp_guard", ("FERRY_GUARD_ADDRS_H", GUARD_ADDRS), frames, {}


def case_dhcp_guard():
    E4 = lambda *a, **k: eth(0x0800, ip4(*a, **k), dst=BCAST)
    E6 = lambda *a, **k: eth(0x86dd, ip6(*a, **k), dst=BCAST)
    frames = [
        ("dhcpv4 discover 68 -> 67", E4("0.0.0.0", "255.255.255.255", 17, udp(68, 67, b"\x01" + b"\0" * 240)), True),
        ("dhcpv4 offer 67 -> 68", E4("10.0.0.5", "255.255.255.255", 17, udp(67, 68, b"\x02" + b"\0" * 240)), False),
        ("tagged offer", eth(0x0800, ip4("10.0.0.5", "255.255.255.255", 17, udp(67, 68, b"\x02" + b"\0" * 40)), dst=BCAST, tags=(10,)), False),
        ("udp 67 -> 69", E4("10.0.0.5", "10.0.0.9", 17, udp(67, 69)), True),
        ("dhcpv6 solicit 546 -> 547", E6("fe80::1", "ff02::1:2", 17, udp(546, 547, b"\x01\0\0\1")), True),
        ("dhcpv6 advertise 547 -> 546", E6("fe80::1", "fe80::2", 17, udp(547, 546, b"\x02\0\0\1")), False),
        ("dhcpv6 reply", E6("fe80::1", "fe80::2", 17, udp(547, 546, b"\x07\0\0\1")), False),
        ("dhcpv6 type 12 547 -> 546 (not a server message)", E6("fe80::1", "fe80::2", 17, udp(547, 546, b"\x0c\0\0\1")), True),
        ("dhcpv6 reply behind a destination-options header", E6("fe80::1", "fe80::2", 17, udp(547, 546, b"\x07\0\0\1"), ext=(60,)), False),
        ("offer with ip options", E4("10.0.0.5", "255.255.255.255", 17, udp(67, 68, b"\x02" + b"\0" * 40), opts=b"\x01\x01\x01\x00"), False),
        ("a later fragment of udp", E4("10.0.0.5", "10.0.0.9", 17, udp(67, 68), frag=20), True),
    ]
    return "dhcp_guard", None, frames, {"dropped": (None, [3, 3])}


def case_proto_count():
    E4 = lambda *a, **k: eth(0x0800, ip4(*a, **k))
    frames = [
        ("udp 1", E4("1.1.1.1", "2.2.2.2", 17, udp(1, 2)), True),
        ("udp 2", E4("1.1.1.1", "2.2.2.2", 17, udp(1, 3)), True),
        ("udp 3", E4("1.1.1.1", "2.2.2.2", 17, udp(1, 4)), True),
        ("tcp 1", E4("1.1.1.1", "2.2.2.2", 6, tcp(1, 2)), True),
        ("tcp 2", E4("1.1.1.1", "2.2.2.2", 6, tcp(1, 3)), True),
        ("tagged udp", eth(0x0800, ip4("1.1.1.1", "2.2.2.2", 17, udp(1, 2)), tags=(10,)), True),
        ("ipv6 tcp", eth(0x86dd, ip6("2001:db8::1", "2001:db8::2", 6, tcp(1, 2))), True),
        ("ipv6 icmpv6 (ns)", nd(135, "2001:db8::2"), True),
        ("arp 1", arp(1, "10.0.0.1", "10.0.0.2"), True),
        ("arp 2", arp(2, "10.0.0.1", "10.0.0.2"), True),
        ("llc (802.3 length)", eth(0x0026, b"\x42\x42\x03" + b"\0" * 40), True),
        ("lldp ethertype", eth(0x88cc, b"\0" * 40), True),
    ]
    # ethertype classes: ipv4 ipv6 arp other llc runt tagged all
    return "proto_count", None, frames, {"ethertype": (None, [6, 2, 2, 1, 1, 0, 1, 12]),
                                         "ip_proto": (None, {17: 4, 6: 3, 58: 1})}


def case_proto_count_egress():
    """proto_count at up's egress hook: it sees the frames as they leave up (one VLAN tag less or
    more would show in the classes; up and vm are both default trunks, so nothing changes)."""
    plugin, listh, frames, maps = case_proto_count()
    return plugin, listh, frames, maps


CASES = {"acl": case_acl, "arp_guard": case_arp_guard, "dhcp_guard": case_dhcp_guard,
         "proto_count": case_proto_count, "proto_count_egress": case_proto_count_egress}
EGRESS = {"proto_count_egress"}   # the plugin on up's egress instead of vm's ingress


# ---- pcap ----
def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(fr), len(fr)) + fr)


def read_pcap(path):
    out = []
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


# ---- ferryd ----
def rpc(sock_path, method, params=None, rid=[0]):
    rid[0] += 1
    req = {"jsonrpc": "2.0", "id": rid[0], "method": method}
    if params is not None:
        req["params"] = params
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall((json.dumps(req) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)


def find_filter(obj, name):
    """The filter.list entry named name, wherever the result nests it."""
    if isinstance(obj, dict):
        if obj.get("name") == name and "maps" in obj:
            return obj
        for v in obj.values():
            r = find_filter(v, name)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find_filter(v, name)
            if r is not None:
                return r
    return None


def map_values(entry, name, field):
    for m in entry["maps"]:
        if m["name"] == name:
            vals = m["values"]
            if field == "hits":   # struct values as hex: hits is the first u64
                return [struct.unpack("<Q", bytes.fromhex(v)[:8])[0] for v in vals]
            return vals
    return None


def start_ferryd(args, out, cfg):
    """ferryd on cfg (written to out/config.json); returns (process, log file)."""
    with open(out + "/config.json", "w") as f:
        json.dump(cfg, f, indent=1)
    log = open(out + "/ferryd.log", "w")
    p = subprocess.Popen([args.ferryd, "--config", out + "/config.json", "--idle-exit", "20000", "--",
                          "--file-prefix", "ferry-plug-" + args.case, "--in-memory"],
                         stdout=log, stderr=subprocess.STDOUT)
    return p, log


def stop_ferryd(p, log, sock):
    try:
        if p.poll() is None:
            rpc(sock, "switch.shutdown")
            p.wait(timeout=20)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        pass
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()


def wait_until(p, out, what, pred, timeout=30):
    """Poll pred() (RPC errors count as not yet) until true; an error string if not in time."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if p.poll() is not None:
            return "ferryd exited with status %d%s" % (p.returncode, log_hint(out))
        try:
            if pred():
                return None
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    return "%s not in %d s%s" % (what, timeout, log_hint(out))


def pcap_port(name, n, rx, out):
    return {"name": name, "type": "dpdk",
            "devargs": "net_pcap%d,rx_pcap=%s,tx_pcap=%s/out/%s.pcap" % (n, rx, out, name)}


def prepare_out(args):
    out = os.path.abspath(args.out)
    os.makedirs(out + "/out", exist_ok=True)
    for f in os.listdir(out + "/out"):
        os.unlink(out + "/out/" + f)
    write_pcap(out + "/empty.pcap", [])
    return out


def run(args):
    if args.case in RUNNERS:
        return RUNNERS[args.case](args)
    plugin, listh, frames, maps, init = Case(*CASES[args.case]())
    out = prepare_out(args)
    obj = os.path.join(os.path.abspath(args.objdir), plugin + ".o")
    if listh is not None:   # a variant with the case's compiled-in list
        macro, text = listh
        with open(out + "/list.h", "w") as f:
            f.write(text)
        obj = out + "/" + plugin + ".o"
        cmd = [args.plugin_src + "/build.sh", args.plugin_src + "/" + plugin + ".c", obj,
               "-D%s=\"%s\"" % (macro, out + "/list.h")]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            return fail(args.case, "building %s: %s" % (" ".join(cmd), r.stderr.strip()))
    write_pcap(out + "/vm.pcap", [f for _, f, _ in frames])
    sock = out + "/ferryd.sock"
    cfg = {"lcores": {"main": 0, "pmd": [1]}, "rpc": {"socket": sock},
           "ports": [pcap_port("vm", 0, out + "/vm.pcap", out),
                     pcap_port("up", 1, out + "/empty.pcap", out)]}
    fport = "up" if args.case in EGRESS else "vm"
    filt = {"hook": "egress" if fport == "up" else "ingress", "path": obj, "name": plugin}
    if init is not None:
        filt["maps"] = init
    cfg["ports"][1 if fport == "up" else 0]["filters"] = [filt]
    p, log = start_ferryd(args, out, cfg)
    listing = None
    try:
        why = wait_until(p, out, "vm's %d frames received" % len(frames),
                         lambda: got_rx(rpc(sock, "port.stats", {"name": "vm"}), len(frames)))
        if why is not None:
            return fail(args.case, why)
        time.sleep(0.3)   # the burst those frames came in is done by then
        listing = rpc(sock, "filter.list", {"port": fport})
    finally:
        stop_ferryd(p, log, sock)
    with open(out + "/filter.list.json", "w") as f:
        json.dump(listing, f, indent=1)
    return check(args.case, out, frames, maps, listing, plugin)


# ---- acl_runtime: rules set and disabled with filter.map_set while ferryd runs ----
RT_DROP_V4, RT_DROP_V6 = 3, 7   # the slots the two rules go to


def runtime_frames():
    """(name, frame, matches one of the two rules)"""
    E4 = lambda *a, **k: eth(0x0800, ip4(*a, **k))
    E6 = lambda *a, **k: eth(0x86dd, ip6(*a, **k))
    return [
        ("udp to 10.1.1.1:53", E4("1.2.3.4", "10.1.1.1", 17, udp(999, 53)), True),
        ("udp to 10.1.1.1:54", E4("1.2.3.4", "10.1.1.1", 17, udp(999, 54)), False),
        ("tcp to 10.1.1.1:53", E4("1.2.3.4", "10.1.1.1", 6, tcp(999, 53)), False),
        ("udp to 11.1.1.1:53", E4("1.2.3.4", "11.1.1.1", 17, udp(999, 53)), False),
        ("ipv6 tcp from 2001:db8:1::9 to port 22", E6("2001:db8:1::9", "2001:db9::1", 6, tcp(7, 22)), True),
        ("ipv6 tcp from 2001:db9::9 to port 22", E6("2001:db9::9", "2001:db9::1", 6, tcp(7, 22)), False),
        ("arp", arp(1, "10.0.0.1", "10.0.0.2"), False),
    ]


def runtime_rules(enabled):
    return {RT_DROP_V4: acl_rule(4, 17, "0.0.0.0", 0, "10.0.0.0", 8, dport=(53, 53), enabled=enabled),
            RT_DROP_V6: acl_rule(6, 6, "2001:db8::", 32, "::", 0, dport=(22, 22), enabled=enabled)}


def rpc_ok(sock, method, params):
    r = rpc(sock, method, params)
    if "result" not in r:
        raise ValueError("%s: %s" % (method, json.dumps(r)))
    return r["result"]


def run_acl_runtime(args):
    frames = runtime_frames()
    n = len(frames)
    out = prepare_out(args)
    write_pcap(out + "/in.pcap", [f for _, f, _ in frames])
    sock = out + "/ferryd.sock"
    obj = os.path.join(os.path.abspath(args.objdir), "acl.o")
    up = pcap_port("up", 0, out + "/empty.pcap", out)
    up["filters"] = [{"hook": "egress", "path": obj, "name": "acl"}]
    cfg = {"lcores": {"main": 0, "pmd": [1]}, "rpc": {"socket": sock, "allow_host_devargs": True},
           "ports": [up]}
    where = {"port": "up", "name": "acl", "map": "rules"}
    p, log = start_ferryd(args, out, cfg)
    bad, seen, hits = [], 0, None

    def phase(k):
        """Port in<k> sends the frames once; wait until up's filter has seen them all."""
        nonlocal seen
        name = "in%d" % k
        rpc_ok(sock, "port.add", pcap_port(name, 10 + k, out + "/in.pcap", out))
        seen += n
        why = wait_until(p, out, "phase %d: %d frames through the filter" % (k, seen),
                         lambda: sum(acl_counts(sock)) == seen)
        rpc_ok(sock, "port.del", {"name": name})
        return why

    try:
        why = wait_until(p, out, "ferryd's socket", lambda: rpc_ok(sock, "switch.info", None))
        if why is None and (why := phase(1)) is None:
            if acl_counts(sock) != (n, 0):
                bad.append("phase 1 (no rules): passed/dropped %s, expected (%d, 0)" % (acl_counts(sock), n))
            on = runtime_rules(1)
            rpc_ok(sock, "filter.map_set", dict(where, values=[{"index": i, "value": v} for i, v in on.items()]))
            why = phase(2)
        if why is None:
            got = rpc_ok(sock, "filter.map_get", where)["values"]
            hits = [struct.unpack("<Q", bytes.fromhex(e["value"])[:8])[0] for e in got]
            off = runtime_rules(0)
            rpc_ok(sock, "filter.map_set", dict(where, index=RT_DROP_V4, value=off[RT_DROP_V4]))
            rpc_ok(sock, "filter.map_set", dict(where, values=[{"index": RT_DROP_V6, "value": off[RT_DROP_V6]}]))
            why = phase(3)
        counts = acl_counts(sock) if why is None else None
    except (OSError, ValueError) as e:
        why = "RPC: %s%s" % (e, log_hint(out))
    finally:
        stop_ferryd(p, log, sock)
    if why is not None:
        return fail(args.case, why)
    matching = sum(1 for _, _, m in frames if m)
    if counts != (3 * n - matching, matching):
        bad.append("filter passed/dropped %s, expected (%d, %d)" % (counts, 3 * n - matching, matching))
    want_hits = [1 if i in (RT_DROP_V4, RT_DROP_V6) else 0 for i in range(16)]
    if hits != want_hits:
        bad.append("rules' hits after phase 2: %s, expected %s" % (hits, want_hits))
    want = [f for _, f, _ in frames] + [f for _, f, m in frames if not m] + [f for _, f, _ in frames]
    got = read_pcap(out + "/out/up.pcap")
    if got != want:
        names = [nm for nm, _, _ in frames]
        label = lambda f: names[[x for _, x, _ in frames].index(f)] if f in [x for _, x, _ in frames] else "?"
        bad.append("up sent %s, expected %s" % ([label(f) for f in got], [label(f) for f in want]))
    if bad:
        print("FAIL: plugins/%s: %s (see %s)" % (args.case, "; ".join(bad), out))
        return 1
    print("PASS: plugins/%s (3 phases of %d frames: no rules, 2 drop rules set at runtime "
          "(%d dropped), the rules disabled)" % (args.case, n, matching))
    return 0


def acl_counts(sock):
    """(passed, dropped) of up's acl filter."""
    e = find_filter(rpc_ok(sock, "filter.list", {"port": "up"}), "acl")
    return (e["passed"], e["dropped"])


RUNNERS = {"acl_runtime": run_acl_runtime}


def log_hint(out):
    """What ferryd.log says about filters or errors (a plugin the verifier refused, ...)."""
    try:
        lines = [l.strip() for l in open(out + "/ferryd.log", errors="replace")
                 if "filter" in l or "rror" in l or "verif" in l]
    except OSError:
        lines = []
    return " (ferryd.log: %s)" % " | ".join(lines[-3:]) if lines else " (see %s/ferryd.log)" % out


def got_rx(st, n):
    """Has port.stats counted n received frames (whatever the result's layout)?"""
    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k in ("rx_packets", "rx_pkts") and v == n:
                    return True
                if k == "rx" and isinstance(v, dict) and v.get("packets") == n:
                    return True
                if walk(v):
                    return True
        elif isinstance(o, list):
            return any(walk(v) for v in o)
        return False
    return walk(st.get("result"))


def fail(case, why):
    print("FAIL: plugins/%s: %s" % (case, why))
    return 1


def check(case, out, frames, maps, listing, plugin):
    got = read_pcap(out + "/out/up.pcap")
    want = [(n, f) for n, f, ok in frames if ok]
    inputs = [f for _, f, _ in frames]
    bad = []
    missing = [n for n, f in want if f not in got]
    extra = [n for n, f, ok in frames if not ok and f in got]
    unknown = sum(1 for g in got if g not in inputs)
    if missing:
        bad.append("dropped, should pass: " + "; ".join(missing))
    if extra:
        bad.append("passed, should be dropped: " + "; ".join(extra))
    if unknown:
        bad.append("%d frames on up that vm did not send (changed?)" % unknown)
    if not bad and [f for _, f in want] != got:
        bad.append("the frames on up are not in vm's order, or repeated")
    entry = find_filter(listing.get("result") if listing else None, plugin)
    if entry is None:
        bad.append("filter.list has no filter %s: %s" % (plugin, json.dumps(listing)[:300]))
    else:
        n_drop = sum(1 for _, _, ok in frames if not ok)
        if entry.get("dropped") != n_drop or entry.get("passed") != len(frames) - n_drop:
            bad.append("filter.list counts passed %s dropped %s, expected %d and %d" %
                       (entry.get("passed"), entry.get("dropped"), len(frames) - n_drop, n_drop))
        for mname, (field, expect) in maps.items():
            vals = map_values(entry, mname, field)
            if vals is None:
                bad.append("no map %s" % mname)
                continue
            if isinstance(expect, dict):
                exp = [expect.get(i, 0) for i in range(len(vals))]
            else:
                exp = list(expect) + [0] * (len(vals) - len(expect))
            if vals != exp:
                bad.append("map %s%s: %s, expected %s" % (mname, "." + field if field else "",
                                                            vals[:len(expect) if not isinstance(expect, dict) else 64],
                                                            exp[:len(expect) if not isinstance(expect, dict) else 64]))
    if bad:
        print("FAIL: plugins/%s: %s (see %s)" % (case, "; ".join(bad), out))
        return 1
    print("PASS: plugins/%s (%d frames, %d passed, maps checked)" % (case, len(frames), len(want)))
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=sorted(CASES) + sorted(RUNNERS))
    ap.add_argument("--ferryd", required=True)
    ap.add_argument("--objdir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--plugin-src", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../plugins"))
    sys.exit(run(ap.parse_args()))
