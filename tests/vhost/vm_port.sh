#!/usr/bin/env bash
# vm_port.sh — a dpdk port declared a VM's own function ("vm": "vm1", issue #18 section 1): a
# net_pcap port standing in for vm1's VF replays 345 frames: vm1's MAC untagged and tagged with its
# VLAN 10 (60..1518 bytes), broadcast and multicast (untagged and VLAN 10), vm2's MAC (same VLAN),
# an unknown MAC, vm1's MAC and a broadcast in VLANs vm1 does not carry. A normal uplink nic
# (net_pcap, access VLAN 10) replays broadcasts and unicasts to vm1 and vm2 alongside.
# Proves: vm1's virtio-user peer receives exactly vf's frames for it, byte for byte and in order
# (tags of VLAN 10 popped: vm1 is an access port), vm2 none of vf's; vf counts vm_dst 40 and
# vm_vlan 20 and nothing else; nic still floods and forwards (vm1 and vm2 get its frames, vf none:
# a vm port is never a destination, its tx capture stays empty); nothing is learned from vf.
# Then, while guest c sends 4000 frames to vm2 at 2000 pps: port.del vm1 (vf: vm_state absent), a
# second vm port replaying the same file drops all of it vm_absent, vm1 is re-added (attached
# again) — ferryd keeps running and vm2 gets every one of c's frames, in order.
set -u
# shellcheck source=../tools/vpeer_lib.sh
. "$(dirname "$0")/../tools/vpeer_lib.sh"
T_LIMIT=${VHOST_TEST_LIMIT:-120}
t_init vm_port

M1=52:54:00:00:19:01
M2=52:54:00:00:19:02
MC=52:54:00:00:19:03
VF_SRC=02:00:00:00:19:f1
NIC_SRC=02:00:00:00:19:e1

# vf.pcap (what the VF receives), want-vm1.pcap (what vm1 must receive from it), nic.pcap
python3 - "$T_DIR" "$M1" "$M2" "$VF_SRC" "$NIC_SRC" > "$T_DIR/counts" <<'PY' || t_fail "pcap generation"
import struct, sys
d, m1, m2, vf_src, nic_src = sys.argv[1:]
mac = lambda s: bytes(int(x, 16) for x in s.split(":"))
BC, MC, OTHER = "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "02:00:00:00:19:77"
seq = 0
def frame(dst, src, vlan=None, size=64):
    """(frame as sent, frame as an access VLAN 10 port receives it)"""
    global seq
    seq += 1
    tag = struct.pack(">HH", 0x8100, vlan) if vlan is not None else b""
    body = b"\x08\x00" + struct.pack(">I", seq)
    n = size - 12 - len(tag) - len(body)
    body += bytes((seq * 7 + i) & 0xff for i in range(n))
    return mac(dst) + mac(src) + tag + body, mac(dst) + mac(src) + body
def write(name, frames):
    with open("%s/%s" % (d, name), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(fr), len(fr)) + fr)
vf, want = [], []
def add(dst, vlan, sizes, n, mine):
    for k in range(n):
        sent, got = frame(dst, vf_src, vlan, sizes[k % len(sizes)])
        vf.append(sent)
        if mine:
            want.append(got)
add(m1, None, [60, 64, 65, 128, 256, 512, 1000, 1400, 1514], 180, True)
add(m1, 10, [64, 1518, 200, 700], 80, True)
add(m2, None, [64, 1514], 20, False)                   # vm_dst: another VM, same VLAN
add(BC, None, [60, 1514], 10, True)
add(BC, 10, [64, 1518], 10, True)
add(m2, 10, [100], 10, False)                         # vm_dst
add(MC, None, [90], 5, True)
add(OTHER, 10, [64], 10, False)                       # vm_dst: unknown MAC
add(m1, 20, [64, 1518], 15, False)                    # vm_vlan
add(BC, 30, [64], 5, False)                           # vm_vlan
write("vf.pcap", vf)
write("want-vm1.pcap", want)
nic = [frame(BC, nic_src, None, 64)[0] for _ in range(10)]
nic += [frame(m2, nic_src, None, 200)[0] for _ in range(20)]
nic += [frame(m1, nic_src, None, 300)[0] for _ in range(20)]
write("nic.pcap", nic)
print(len(vf), len(want), len(nic))
PY
read -r N_VF N_MINE N_NIC < "$T_DIR/counts"   # 345 285 50

T_RPC='"allow_host_devargs": true'
t_config "$(t_port vm1 server $M1 10)" "$(t_port vm2 server $M2 10)" "$(t_port c server $MC 10)"
sed -i "s|\"rpc\": {|\"rpc\": {$T_RPC, |" "$T_DIR/cfg.json"   # net_pcap ports by port.add
ferryd_start
ferryd_wait_ready 15
for p in vm1 vm2 c; do wait_socket "$T_DIR/$p.sock" 5; done
peer_start vm1 "$T_DIR/vm1.sock" 1 client --mac $M1 --count 0 --duration 0 --rx-pcap "$T_DIR/vm1-rx.pcap"
peer_start vm2 "$T_DIR/vm2.sock" 1 client --mac $M2 --count 0 --duration 0 --rx-pcap "$T_DIR/vm2-rx.pcap"
peer_wait_link vm1 10
peer_wait_link vm2 10
ferryd_wait_link vm1 up 10
ferryd_wait_link vm2 up 10
add() {   # add PORT_JSON: port.add, or fail
	local r
	r=$(FERRYD_RPC_TIMEOUT=15 ferryd_rpc port.add "$1" 2>&1)
	[ "$(echo "$r" | jq -r '.name // empty')" != "" ] || t_fail "port.add $1: $r"
}
add "$(printf '{"name":"vf","type":"dpdk","vm":"vm1","devargs":"net_pcap0,rx_pcap=%s/vf.pcap,tx_pcap=%s/vf-tx.pcap"}' "$T_DIR" "$T_DIR")"
add "$(t_dpdk_port nic "net_pcap1,rx_pcap=$T_DIR/nic.pcap,tx_pcap=$T_DIR/nic-tx.pcap" 10)"
ferryd_wait_stat vf ".rx_packets == $N_VF" 20
ferryd_wait_stat nic ".rx_packets == $N_NIC" 20
ferryd_wait_stat vm1 ".tx_packets + .drops.tx_full >= $N_MINE + 30" 10
sleep 0.5
check_eq "vf drops.vm_dst" "$(ferryd_port_stat vf .drops.vm_dst)" 40
check_eq "vf drops.vm_vlan" "$(ferryd_port_stat vf .drops.vm_vlan)" 20
check_eq "vf drops (all)" "$(ferryd_port_stat vf '[.drops[]] | add')" 60
check_eq "vm1 tx_packets (vf's and nic's)" "$(ferryd_port_stat vm1 .tx_packets)" $((N_MINE + 30))
check_eq "vm2 tx_packets (nic's only)" "$(ferryd_port_stat vm2 .tx_packets)" 30
check_eq "vf tx_packets (never a destination)" "$(ferryd_port_stat vf .tx_packets)" 0
check_eq "vf vm_state" "$(ferryd_rpc port.get '{"name":"vf"}' | jq -r .vm_state)" attached
check_eq "FDB entries on vf" "$(ferryd_rpc fdb.list | jq '[.[] | select(.port == "vf")] | length')" 0
check_eq "nic's source learned" "$(ferryd_rpc fdb.list | jq -r --arg m $NIC_SRC '[.[] | select((.mac | ascii_downcase) == $m)][0].port')" nic
peer_finish vm1

# byte for byte: vm1's frames from vf are want-vm1.pcap; nic's reached vm1 and vm2; vf's not vm2
python3 - "$T_DIR" "$VF_SRC" "$NIC_SRC" > "$T_DIR/compare.log" 2>&1 <<'PY' || t_fail "$(cat "$T_DIR/compare.log")"
import struct, sys
d, vf_src, nic_src = sys.argv[1:]
mac = lambda s: bytes(int(x, 16) for x in s.split(":"))
def read(name):
    b, out, off = open("%s/%s" % (d, name), "rb").read(), [], 24
    while off + 16 <= len(b):
        n = struct.unpack("<IIII", b[off:off + 16])[2]
        out.append(b[off + 16:off + 16 + n])
        off += 16 + n
    return out
got = read("vm1-rx.pcap")
from_vf = [f for f in got if f[6:12] == mac(vf_src)]
want = read("want-vm1.pcap")
if from_vf != want:
    bad = next((i for i, (a, b) in enumerate(zip(from_vf, want)) if a != b), min(len(from_vf), len(want)))
    sys.exit("vm1 got %d frames from vf, want %d; first difference at #%d" % (len(from_vf), len(want), bad))
nic1 = [f for f in got if f[6:12] == mac(nic_src)]
if len(nic1) != 30 or sorted(len(f) for f in nic1) != [64] * 10 + [300] * 20:
    sys.exit("vm1 got %d of nic's 30 (broadcasts and its unicasts)" % len(nic1))
print("vm1: %d of vf's frames byte for byte, %d of nic's" % (len(from_vf), len(nic1)))
PY
t_log "$(cat "$T_DIR/compare.log")"
check_eq "vf-tx.pcap frames" "$(( $(stat -c %s "$T_DIR/vf-tx.pcap") > 24 ))" 0

# --- vm1 deleted and re-added while c sends to vm2 -----------------------------------------------
peer_start c "$T_DIR/c.sock" 1 client --mac $MC --peer $M2 --count 4000 --rate 2000 --duration 0 --progress 100
peer_wait_link c 10
peers_wait_value tx 500 10 c || t_fail "c did not start sending"
r=$(ferryd_rpc port.del '{"name":"vm1"}')
check_eq "vf vm_state after port.del vm1" "$(ferryd_rpc port.get '{"name":"vf"}' | jq -r .vm_state)" absent
add "$(printf '{"name":"vf2","type":"dpdk","vm":"vm1","devargs":"net_pcap2,rx_pcap=%s/vf.pcap,tx_pcap=%s/vf2-tx.pcap"}' "$T_DIR" "$T_DIR")"
ferryd_wait_stat vf2 ".rx_packets == $N_VF" 20
check_eq "vf2 drops.vm_absent" "$(ferryd_port_stat vf2 .drops.vm_absent)" $N_VF
add "$(t_port vm1 server $M1 10)"
check_eq "vf vm_state after re-adding vm1" "$(ferryd_rpc port.get '{"name":"vf"}' | jq -r .vm_state)" attached
check_eq "vf2 vm_state" "$(ferryd_rpc port.get '{"name":"vf2"}' | jq -r .vm_state)" attached
peers_wait_value tx 4000 20 c || t_fail "c sent only $(peer_progress c tx) of 4000"
sleep 1
peer_finish c vm2
check_flow c vm2 exact
check_eq "vm2: frames from vf" "$(python3 -c "
import struct
b=open('$T_DIR/vm2-rx.pcap','rb').read(); off=24; n=0
while off+16<=len(b):
    l=struct.unpack('<IIII',b[off:off+16])[2]; n+=b[off+22:off+28]==bytes.fromhex('$VF_SRC'.replace(':','')); off+=16+l
print(n)")" 0
ferryd_alive
ferryd_stop TERM 10
[ "$FERRYD_RC" = 0 ] || t_fail "ferryd exited with status $FERRYD_RC on SIGTERM"
t_pass "vm1 got its $N_MINE frames from the vm port byte for byte, vm2 none; vm_dst 40, vm_vlan 20; the uplink floods and forwards as before; vm1 deleted and re-added with c -> vm2 4000/4000"
