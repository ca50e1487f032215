#!/usr/bin/env python3
"""test_socket.py — the control socket file: directory creation, mode and group from the config,
removal at exit, a stale socket file replaced, a live ferryd on the same path refused (the first
keeps serving), a non-socket file at the path refused."""

import grp
import os
import socket
import stat
import subprocess

from ferrytest import Daemon, TestFailure, check, main

NULL_PORT = [{"name": "null0", "type": "dpdk", "devargs": "net_null0,no-rx=1"}]


def one(fn):
    """Run fn with a fresh daemon directory, cleaned up afterwards."""
    def run():
        ds = []
        try:
            fn(ds)
        finally:
            for d in ds:
                d.cleanup()
    return run


def mk(ds, **kw):
    d = Daemon(NULL_PORT, **kw)
    ds.append(d)
    return d


@one
def t_dir_mode_group(ds):
    group = "daemon" if any(g.gr_name == "daemon" for g in grp.getgrall()) else "root"
    d = mk(ds, tag="sock", rpc={"mode": "0640", "group": group})
    d.sock = os.path.join(d.dir, "run", "deep", "ferryd.sock")   # directories created
    d.start()
    st = os.stat(d.sock)
    check(stat.S_ISSOCK(st.st_mode), "socket file")
    check(stat.S_IMODE(st.st_mode) == 0o640, "mode %o" % stat.S_IMODE(st.st_mode))
    check(st.st_gid == grp.getgrnam(group).gr_gid, "group %d" % st.st_gid)
    check(d.stop() == 0, "clean exit on SIGTERM")
    check(not os.path.exists(d.sock), "socket removed at exit")


@one
def t_default_mode(ds):
    d = mk(ds, tag="sock").start()
    check(stat.S_IMODE(os.stat(d.sock).st_mode) == 0o660, "default mode 0660")


@one
def t_unknown_group(ds):
    d = mk(ds, tag="sock", rpc={"group": "no-such-group-ferry"})
    d.start(wait=False)
    rc = d.proc.wait(60)
    check(rc != 0 and "unknown group 'no-such-group-ferry'" in d.log(),
          "unknown group refused (exit %d): %s" % (rc, d.log_tail(3)))


@one
def t_stale_socket(ds):
    d = mk(ds, tag="sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(d.sock)            # bound, never listened, closed: a stale file
    s.close()
    d.start()
    check("removed the stale socket" in d.log(), "stale socket replaced: %s" % d.log_tail(3))
    with d.client() as c:
        check(c.result("switch.info")["ports"] == 1, "serving")


@one
def t_live_refused(ds):
    a = mk(ds, tag="sock").start()
    b = mk(ds, tag="sock2", socket_path=a.sock)
    b.start(wait=False)
    rc = b.proc.wait(60)
    check(rc != 0, "second ferryd must fail (exit %d)" % rc)
    check("another ferryd is already serving " + a.sock in b.log(), "message: %s" %
          b.log_tail(3))
    check(os.path.exists(a.sock), "the first one's socket is left alone")
    with a.client() as c:
        check(c.result("switch.info")["ports"] == 1, "first ferryd still serving")


@one
def t_not_a_socket(ds):
    d = mk(ds, tag="sock")
    with open(d.sock, "w") as f:
        f.write("precious")
    d.start(wait=False)
    rc = d.proc.wait(60)
    check(rc != 0 and "exists and is not a socket" in d.log(), "refused: %s" % d.log_tail(3))
    with open(d.sock) as f:
        check(f.read() == "precious", "the file is untouched")


@one
def t_path_too_long(ds):
    d = mk(ds, tag="sock")
    d.sock = os.path.join(d.dir, "x" * 120 + ".sock")
    d.start(wait=False)
    try:
        rc = d.proc.wait(20)
    except subprocess.TimeoutExpired:
        raise TestFailure("ferryd started with a --socket path of %d characters (sun_path holds "
                          "107): %s" % (len(d.sock), d.log_tail(2)))
    check(rc != 0, "refused (exit %d): %s" % (rc, d.log_tail(3)))
    check(not [f for f in os.listdir(d.dir) if f.startswith("xxx")], "no truncated socket file")


TESTS = [("socket_dir_mode_group_removal", t_dir_mode_group), ("socket_default_mode", t_default_mode),
         ("socket_unknown_group", t_unknown_group), ("socket_stale_replaced", t_stale_socket),
         ("socket_live_ferryd_refused", t_live_refused), ("socket_not_a_socket", t_not_a_socket),
         ("socket_path_too_long", t_path_too_long)]

if __name__ == "__main__":
    main(TESTS)
