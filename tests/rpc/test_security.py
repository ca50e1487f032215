#!/usr/bin/env python3
"""test_security.py — what an RPC client (root on the host, through the control socket) can make
ferryd touch, issue #21 item 3. config.save writes only the file ferryd was started with or a file
inside rpc.save_dir (no '..', no symlink, only regular files); port.add devargs naming host files
or interfaces are refused unless rpc.allow_host_devargs (allowlist: PCI on vfio-pci, net_null,
net_ring, net_tap without remote=); vhost-user sockets of ports added over RPC lie inside
vhost.socket_dirs (no '..' or symlink escape, no directory made outside); ferryd unlinks only the
socket file it bound (dev/ino), at port.del and at exit, never follows a symlink to a stale
socket and never removes a stale socket outside vhost.socket_dirs. Every refusal is -32602 naming the param and the rule. Config-file ports stay trusted.

Layout of each ferryd's directory D: D/allowed (vhost.socket_dirs), D/save (rpc.save_dir),
D/outside (neither), D/victim.txt (a file nothing may touch)."""

import json
import os
import socket
import stat

from ferrytest import Daemon, check, main, EINVAL, EPROBE

VICTIM_TEXT = "root:x:0:0:do not touch\n"
HOST_RULE = "rpc.allow_host_devargs is off"
DIRS_RULE = "vhost.socket_dirs"


def prepare(d):
    for sub in ("allowed", "save", "outside"):
        os.makedirs(d.path(sub))
    with open(d.path("victim.txt"), "w") as f:
        f.write(VICTIM_TEXT)
    return [{"name": "null0", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
            # trusted config-file ports: a host file, a socket outside vhost.socket_dirs
            {"name": "cfgpcap", "type": "dpdk", "devargs": "net_pcap0,tx_pcap=" +
             d.path("outside/cfg-out.pcap")},
            {"name": "cfgvm", "type": "vhostuser", "path": d.path("outside/cfgvm.sock")}]


def make(tag, allow_host=False):
    return Daemon(prepare, tag=tag,
                  rpc=lambda d: {"save_dir": d.path("save"), "allow_host_devargs": allow_host},
                  vhost=lambda d: {"socket_dirs": [d.path("allowed")]})


def setup():
    return make("sec").start()


def teardown(d):
    d.cleanup()


def victim_intact(d):
    with open(d.path("victim.txt")) as f:
        check(f.read() == VICTIM_TEXT, "victim.txt was changed")


def refused(c, method, params, param, rule):
    """-32602 whose message names params.<param> and the rule."""
    msg = c.error(method, params, EINVAL, "params." + param)
    check(rule in msg, "%s %s: message %r does not name the rule %r" %
          (method, json.dumps(params), msg, rule))
    return msg


def names(c):
    return [p["name"] for p in c.result("port.list")]


# --- config.save ----------------------------------------------------------------------------

def t_save_started_file(d):
    with d.client() as c:
        r = c.result("config.save")
        check(os.path.samefile(r["path"], d.cfg_path), "default path %s" % r)
        r = c.result("config.save", {"path": d.cfg_path})
        check(r["path"] == d.cfg_path, "the started file by name: %s" % r)
        with open(d.cfg_path) as f:
            saved = json.load(f)
        check(saved["rpc"]["save_dir"] == d.path("save") and
              saved["vhost"]["socket_dirs"] == [d.path("allowed")] and
              saved["rpc"]["allow_host_devargs"] is False, "the policy is saved too: %s" % saved)
        r = c.result("config.save", {"path": d.path("save/copy.json")})
        with open(d.path("save/copy.json")) as f:
            check(json.load(f) == c.result("config.get"), "saved inside rpc.save_dir")
        check(not [f for f in os.listdir(d.path("save")) if ".tmp-" in f], "no temp file left")


def t_save_dotdot(d):
    with d.client() as c:
        for p in [d.path("save/../victim.txt"), d.path("save/../outside/x.json"),
                  d.path("save/./x.json"), "/tmp/x/../etc-victim.json"]:
            refused(c, "config.save", {"path": p}, "path", "'..'")
    victim_intact(d)
    check(not os.path.exists(d.path("outside/x.json")), "nothing written through '..'")


def t_save_outside(d):
    with d.client() as c:
        refused(c, "config.save", {"path": d.path("victim.txt")}, "path", "rpc.save_dir")
        refused(c, "config.save", {"path": d.path("outside/x.json")}, "path", "rpc.save_dir")
        msg = refused(c, "config.save", {"path": "/etc/passwd"}, "path", "rpc.save_dir")
        check("started with" in msg, "the message names both rules: %r" % msg)
        refused(c, "config.save", {"path": "/nonexistent-dir/x.json"}, "path", "rpc.save_dir")
        refused(c, "config.save", {"path": "relative.json"}, "path", "rpc.save_dir")
    victim_intact(d)
    check(not os.path.exists(d.path("outside/x.json")), "nothing written outside rpc.save_dir")


def t_save_symlink(d):
    os.symlink(d.path("victim.txt"), d.path("save/link.json"))
    os.symlink(d.path("outside"), d.path("save/dirlink"))
    os.mkdir(d.path("save/adir"))
    with d.client() as c:
        refused(c, "config.save", {"path": d.path("save/link.json")}, "path", "symlink")
        refused(c, "config.save", {"path": d.path("save/dirlink/x.json")}, "path",
                "rpc.save_dir")
        refused(c, "config.save", {"path": d.path("save/adir")}, "path", "regular file")
    victim_intact(d)
    check(os.path.islink(d.path("save/link.json")), "the symlink was not replaced")
    check(not os.path.exists(d.path("outside/x.json")), "nothing written through a symlink")
    check(os.path.isdir(d.path("save/adir")), "the directory is still there")


# --- devargs --------------------------------------------------------------------------------

def dpdk(name, devargs):
    return {"name": name, "type": "dpdk", "devargs": devargs}


def t_devargs_pcap_files(d):
    with d.client() as c:
        refused(c, "port.add", dpdk("sh", "net_pcap1,rx_pcap=/etc/shadow"), "devargs",
                HOST_RULE)
        refused(c, "port.add", dpdk("tx", "net_pcap2,tx_pcap=" + d.path("victim.txt")),
                "devargs", HOST_RULE)
        refused(c, "port.add", dpdk("ifc", "net_pcap3,iface=lo"), "devargs", HOST_RULE)
        check(names(c) == ["null0", "cfgpcap", "cfgvm"], "nothing added: %s" % names(c))
    victim_intact(d)


def t_devargs_host_interfaces(d):
    with d.client() as c:
        refused(c, "port.add", dpdk("afp", "net_af_packet0,iface=lo"), "devargs", HOST_RULE)
        refused(c, "port.add", dpdk("xdp", "net_af_xdp0,iface=lo"), "devargs", HOST_RULE)
        msg = refused(c, "port.add", dpdk("tr", "net_tap5,remote=lo"), "devargs", HOST_RULE)
        check("remote" in msg, "remote= named: %r" % msg)
        msg = refused(c, "port.add", dpdk("tl", "net_tap6,iface=lo"), "devargs", HOST_RULE)
        check("existing host interface" in msg, "existing interface named: %r" % msg)
        check(names(c) == ["null0", "cfgpcap", "cfgvm"], "nothing added: %s" % names(c))


def t_devargs_tricks(d):
    bad = ["NET_PCAP4,rx_pcap=/etc/shadow", " net_null4", "net_null4 ", "net_null4, size=64",
           "net_null4\t", "vdev:net_pcap4,rx_pcap=/etc/shadow", "eth_pcap4,rx_pcap=/etc/shadow",
           "net_pcap", "net_nullx,size=64", "net_null_pcap0", "net_null4,rx_pcap=/etc/shadow",
           "net_null4,,size=64", "net_null4,=1", "net_ring4,nodeaction=[a,b]",
           "net_memif0,socket=/tmp/memif.sock", "net_virtio_user0,path=/dev/vhost-net",
           "net_vhost0,iface=/tmp/v.sock", "net_failsafe0,exec(touch /tmp/pwned)",
           "net_bonding0,mode=0,slave=net_pcap9", "bus=vdev,name=net_pcap5/class=eth",
           "net_tun0", "net_tap7,persist", "ffff:ff:1f.7", "ff:1f.7", "0000:00:1f.8",
           "ffff:ff:1f.7,x=/etc/shadow",
           "net_null4,size=64\u00e9", "net_kni0", "crypto_null0"]
    with d.client() as c:
        for i, dev in enumerate(bad):
            refused(c, "port.add", dpdk("bad%d" % i, dev), "devargs", HOST_RULE)
        check(names(c) == ["null0", "cfgpcap", "cfgvm"], "nothing added: %s" % names(c))
    check(not os.path.exists("/tmp/pwned"), "failsafe exec ran")


def t_devargs_allowed(d):
    tap = "fsec%d" % (os.getpid() % 100000)
    ok = [dpdk("n1", "net_null1,no-rx=1"), dpdk("n2", "net_null22"),
          dpdk("r1", "net_ring1"), dpdk("t1", "net_tap8,iface=%s" % tap)]
    with d.client() as c:
        # every key of the allowlisted vdevs passes the policy (whatever DPDK then makes of it)
        for dev in ["net_null3,size=64,copy=1,no-rx=1", "net_ring3,nodeaction=r3:0:CREATE",
                    "net_tap9,mac=02:00:00:00:00:09,iface=%sx" % tap]:
            r = c.call("port.add", dpdk("k", dev))
            check(r.get("error", {}).get("code") != EINVAL, "%s refused: %s" % (dev, r))
            if "result" in r:
                c.result("port.del", {"name": "k"})
        for p in ok:
            check(c.result("port.add", p)["added"], "port.add %s" % p)
            check(c.result("port.add", p)["added"] is False, "identical again: nothing done")
        check(os.path.exists("/sys/class/net/" + tap), "net_tap made its interface")
        # a config-file port with host files: identical re-add passes (nothing done)
        cfg = [p for p in c.result("config.get")["ports"] if p["name"] == "cfgpcap"][0]
        check(c.result("port.add", cfg)["added"] is False, "identical config port: nothing done")
        for p in ok:
            c.result("port.del", {"name": p["name"]})


def t_devargs_allow_host(_):
    d = make("sec-host", allow_host=True).start()
    try:
        with d.client() as c:
            out = d.path("outside/rpc-out.pcap")
            r = c.result("port.add", dpdk("pc", "net_pcap7,tx_pcap=" + out))
            check(r["added"], "allow_host_devargs: net_pcap added")
            check(os.path.exists(out), "tx_pcap file made")
            c.result("port.del", {"name": "pc"})
            # the vhost-user rule does not depend on it
            refused(c, "port.add", {"name": "v", "type": "vhostuser",
                                    "path": d.path("outside/v.sock")}, "path", DIRS_RULE)
    finally:
        d.cleanup()


def t_config_ports_trusted(d):
    with d.client() as c:
        ps = {p["name"]: p for p in c.result("port.list")}
        check("cfgpcap" in ps and "cfgvm" in ps, "config ports up: %s" % list(ps))
    check(stat.S_ISSOCK(os.lstat(d.path("outside/cfgvm.sock")).st_mode),
          "config vhost socket outside vhost.socket_dirs")


# --- vhost-user socket paths ----------------------------------------------------------------

def vhost(name, path, mode="server"):
    return {"name": name, "type": "vhostuser", "path": path, "mode": mode}


def t_vhost_outside(d):
    with d.client() as c:
        refused(c, "port.add", vhost("o1", d.path("outside/o1.sock")), "path", DIRS_RULE)
        refused(c, "port.add", vhost("o2", "/etc/o2.sock"), "path", DIRS_RULE)
        refused(c, "port.add", vhost("o3", d.path("outside/o3.sock"), "client"), "path",
                DIRS_RULE)
        refused(c, "port.add", vhost("o4", d.path("allowed-not/o4.sock")), "path", DIRS_RULE)
    check(not os.path.exists(d.path("outside/o1.sock")) and not os.path.exists("/etc/o2.sock"),
          "no socket made outside")


def t_vhost_dotdot(d):
    with d.client() as c:
        refused(c, "port.add", vhost("d1", d.path("allowed/../outside/d1.sock")), "path", "'..'")
        refused(c, "port.add", vhost("d2", d.path("allowed/./d2.sock")), "path", "'..'")
        refused(c, "port.add", vhost("d3", d.path("allowed/x/../../outside/d3.sock")), "path",
                "'..'")
    check(not os.path.exists(d.path("outside/d1.sock")), "no socket through '..'")
    check(not os.path.exists(d.path("allowed/x")), "no directory made")


def t_vhost_symlink_escape(d):
    os.symlink(d.path("outside"), d.path("allowed/esc"))
    os.symlink("/etc", d.path("allowed/etc"))
    with d.client() as c:
        msg = refused(c, "port.add", vhost("s1", d.path("allowed/esc/s1.sock")), "path",
                      DIRS_RULE)
        check("resolves to" in msg, "the symlink's target named: %r" % msg)
        refused(c, "port.add", vhost("s2", d.path("allowed/etc/s2.sock")), "path", DIRS_RULE)
        refused(c, "port.add", vhost("s3", d.path("allowed/esc/new/s3.sock")), "path", DIRS_RULE)
    check(not os.path.exists(d.path("outside/s1.sock")) and not os.path.exists("/etc/s2.sock"),
          "no socket through a symlink")
    check(not os.path.exists(d.path("outside/new")), "no directory made through a symlink")


def t_vhost_mkdir(d):
    with d.client() as c:
        refused(c, "port.add", vhost("m1", d.path("outside/newdir/m1.sock")), "path", DIRS_RULE)
        refused(c, "port.add", vhost("m2", d.path("newtop/a/m2.sock")), "path", DIRS_RULE)
        check(not os.path.exists(d.path("outside/newdir")) and
              not os.path.exists(d.path("newtop")), "no directory made outside")
        # inside: the missing levels are made
        p = d.path("allowed/a/b/c/m3.sock")
        check(c.result("port.add", vhost("m3", p))["added"], "port.add inside, 3 new levels")
        check(stat.S_ISSOCK(os.lstat(p).st_mode), "socket made inside")
        c.result("port.del", {"name": "m3"})
        check(not os.path.exists(p), "socket removed at port.del")


def replace_with_file(p, text):
    """ferryd's socket at p replaced by a regular file holding text (another program's doing)."""
    os.unlink(p)
    with open(p, "w") as f:
        f.write(text)


def t_port_del_replaced(d):
    with d.client() as c:
        p = d.path("allowed/r1.sock")
        c.result("port.add", vhost("r1", p))
        replace_with_file(p, "not ferry's\n")
        check(c.result("port.del", {"name": "r1"})["deleted"], "port.del r1")
        check(os.path.isfile(p), "port.del unlinked a file that replaced the socket")
        with open(p) as f:
            check(f.read() == "not ferry's\n", "the file that replaced the socket was changed")
        # replaced by another process's socket
        p2 = d.path("allowed/r2.sock")
        c.result("port.add", vhost("r2", p2))
        os.unlink(p2)
        other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        other.bind(p2)
        other.listen(1)
        try:
            c.result("port.del", {"name": "r2"})
            check(os.path.exists(p2), "port.del unlinked another process's socket")
        finally:
            other.close()
        check(not [f for f in os.listdir(d.path("allowed")) if ".ferry-" in f],
              "nothing left aside")


def is_live(p):
    """Something accepts on the socket at p (a stale one refuses: ECONNREFUSED)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(p)
        return True
    except ConnectionRefusedError:
        return False
    finally:
        probe.close()


def t_stale_symlink(d):
    stale = d.path("outside/stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()                       # a stale socket: nobody accepts on it
    link = d.path("allowed/st.sock")
    os.symlink(stale, link)
    with d.client() as c:
        c.error("port.add", vhost("st", link), EPROBE, "not a socket")
        check(os.path.islink(link) and stat.S_ISSOCK(os.lstat(stale).st_mode),
              "a symlink to a stale socket was followed")
        # a stale socket itself is replaced (as before)
        own = d.path("allowed/st2.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(own)
        s.close()
        check(c.result("port.add", vhost("st2", own))["added"], "stale socket replaced")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(own)      # ferryd listens there now
        finally:
            probe.close()
        c.result("port.del", {"name": "st2"})
        # a stale socket outside vhost.socket_dirs (another program's), named directly or
        # reached through a symlinked directory inside: refused, and left where it is (the old
        # code's lstat saw a stale socket and unlinked it, then bound its own there)
        out = d.path("outside/stale-out.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(out)
        s.close()
        ino = os.lstat(out).st_ino
        os.symlink(d.path("outside"), d.path("allowed/to-outside"))
        for name, p in (("st3", out), ("st4", d.path("allowed/to-outside/stale-out.sock"))):
            r = c.call("port.add", vhost(name, p))
            st = os.lstat(out)
            check(stat.S_ISSOCK(st.st_mode) and st.st_ino == ino and not is_live(out),
                  "port.add %s (%s) unlinked the stale socket outside vhost.socket_dirs and "
                  "listens there (answer %s)" % (name, p, json.dumps(r)))
            e = r.get("error", {})
            check(e.get("code") == EINVAL and "params.path" in e.get("message", "") and
                  DIRS_RULE in e.get("message", ""), "port.add %s: %s" % (name, json.dumps(r)))


def t_port_set_no_path(d):
    with d.client() as c:
        c.error("port.set", {"name": "cfgvm", "path": d.path("outside/x.sock")}, EINVAL,
                "params.path")
        c.error("port.set", {"name": "null0", "devargs": "net_pcap0,rx_pcap=/etc/shadow"},
                EINVAL, "params.devargs")


def t_shutdown_replaced(d):
    with d.client() as c:
        p = d.path("allowed/z.sock")
        c.result("port.add", vhost("z", p))
    replace_with_file(p, "keep\n")
    check(d.stop() == 0, "ferryd exit code")
    check(os.path.isfile(p), "exit unlinked a file that replaced a socket")
    check(not os.path.exists(d.path("outside/cfgvm.sock")), "its own socket removed at exit")
    victim_intact(d)


TESTS = [("security_save_started_file", t_save_started_file),
         ("security_save_dotdot", t_save_dotdot),
         ("security_save_outside", t_save_outside),
         ("security_save_symlink", t_save_symlink),
         ("security_devargs_pcap_files", t_devargs_pcap_files),
         ("security_devargs_host_interfaces", t_devargs_host_interfaces),
         ("security_devargs_tricks", t_devargs_tricks),
         ("security_devargs_allowed", t_devargs_allowed),
         ("security_devargs_allow_host", t_devargs_allow_host),
         ("security_config_ports_trusted", t_config_ports_trusted),
         ("security_vhost_outside", t_vhost_outside),
         ("security_vhost_dotdot", t_vhost_dotdot),
         ("security_vhost_symlink_escape", t_vhost_symlink_escape),
         ("security_vhost_mkdir", t_vhost_mkdir),
         ("security_port_del_replaced", t_port_del_replaced),
         ("security_stale_symlink", t_stale_symlink),
         ("security_port_set_no_path", t_port_set_no_path),
         ("security_shutdown_replaced", t_shutdown_replaced)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
