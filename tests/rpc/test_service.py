#!/usr/bin/env python3
"""test_service.py — ferryd as a systemd service (issue #16 section 4), without systemd as PID 1:
- `meson install --destdir` puts ferryd, ferryctl, ferryd.service, the bash completion and the
  example ferry.json where the build's prefix says, never replaces an existing ferry.json, and a
  --prefix=/usr build installs them where Debian expects them (/usr/bin, /lib/systemd/system,
  /usr/share/bash-completion/completions, /etc/ferry); `systemd-analyze verify` accepts the unit;
- the sd_notify protocol, read by a socket of our own as NOTIFY_SOCKET (path and abstract):
  READY=1 once the ports are up, RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a SIGHUP
  reload, STOPPING=1 on SIGTERM;
- logs on stderr only, with "<priority>" prefixes when JOURNAL_STREAM names stderr (journald)."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from ferrytest import FERRYD, ROOT, Daemon, TestFailure, check, main, wait_for

BUILD = os.environ.get("BUILD") or os.path.dirname(os.path.dirname(os.path.dirname(FERRYD)))


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=kw.pop("timeout", 300),
                          **kw)


def build_options(build):
    p = run(["meson", "introspect", "--buildoptions", build])
    check(p.returncode == 0, "meson introspect: %s" % p.stderr[-300:])
    return {o["name"]: o["value"] for o in json.loads(p.stdout)}


def under(prefix, d):
    return d if d.startswith("/") else os.path.join(prefix, d)


def unit_dir(opts):
    if opts.get("systemdunitdir"):
        return opts["systemdunitdir"]
    p = run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"])
    return p.stdout.strip() if p.returncode == 0 and p.stdout.strip() else "/lib/systemd/system"


def expected_files(opts):
    """{what: installed absolute path} for a build with these options."""
    prefix = opts["prefix"]
    bindir = under(prefix, opts["bindir"])
    return {"ferryd": os.path.join(bindir, "ferryd"), "ferryctl": os.path.join(bindir, "ferryctl"),
            "unit": os.path.join(unit_dir(opts), "ferryd.service"),
            "completion": os.path.join(under(prefix, opts["datadir"]), "bash-completion",
                                       "completions", "ferryctl"),
            "config": os.path.join(under(prefix, opts["sysconfdir"]), "ferry", "ferry.json")}


def install(destdir):
    p = run(["meson", "install", "-C", BUILD, "--destdir", destdir, "--no-rebuild"])
    check(p.returncode == 0, "meson install: %s" % (p.stdout + p.stderr)[-500:])


def test_install_layout():
    opts = build_options(BUILD)
    want = expected_files(opts)
    dest = tempfile.mkdtemp(prefix="ferry-install-")
    try:
        install(dest)
        got = {k: dest + v for k, v in want.items()}
        for k, path in got.items():
            check(os.path.isfile(path), "%s not installed at %s" % (k, want[k]))
        for k in ("ferryd", "ferryctl"):
            check(os.access(got[k], os.X_OK), "%s not executable" % k)
        with open(got["unit"]) as f:
            unit = f.read()
        for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID",
                     "ExecStart=%s --config %s" % (want["ferryd"], want["config"])):
            check(line in unit, "unit lacks %r" % line)
        check("@" not in re.sub(r"(?m)^#.*$", "", unit), "unsubstituted @VAR@ in the unit")
        p = run([got["ferryd"], "--check", "--config", got["config"]])
        check(p.returncode == 0, "the example config fails --check: %s" % p.stderr)
        with open(got["config"]) as f:
            check(json.load(f).get("metrics", {}).get("listen") == "127.0.0.1:9465",
                  "the example has no metrics.listen")
        with open(os.path.join(ROOT, "app/ferryctl/ferryctl.bash")) as a, \
                open(got["completion"]) as b:
            check(a.read() == b.read(), "the completion is not app/ferryctl/ferryctl.bash")
        # an operator's file survives the next install
        with open(got["config"], "w") as f:
            f.write('{"ports": []}\n')
        install(dest)
        with open(got["config"]) as f:
            check(f.read() == '{"ports": []}\n', "meson install replaced an existing ferry.json")
        verify_unit(got, want, dest)
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def verify_unit(got, want, dest):
    """systemd-analyze verify, with the binaries' paths pointed into the destdir (verify checks
    that ExecStart's program exists)."""
    sa = shutil.which("systemd-analyze")
    if sa is None:
        print("  (systemd-analyze not installed: unit not verified)")
        return
    with open(got["unit"]) as f:
        text = f.read().replace(want["ferryd"], got["ferryd"])
    vdir = tempfile.mkdtemp(prefix="ferry-unit-")
    try:
        path = os.path.join(vdir, "ferryd.service")
        with open(path, "w") as f:
            f.write(text)
        p = run([sa, "verify", path])
        check(p.returncode == 0 and p.stderr.strip() == "",
              "systemd-analyze verify: exit %d: %s" % (p.returncode, p.stderr.strip()))
    finally:
        shutil.rmtree(vdir, ignore_errors=True)


def test_debian_layout():
    """A --prefix=/usr build (not compiled: meson introspect --installed) installs where Debian
    expects; its unit starts /usr/bin/ferryd with /etc/ferry/ferry.json."""
    b = tempfile.mkdtemp(prefix="ferry-usr-")
    try:
        p = run(["meson", "setup", "--prefix=/usr", b, ROOT])
        check(p.returncode == 0, "meson setup --prefix=/usr: %s" % (p.stdout + p.stderr)[-500:])
        opts = build_options(b)
        check(opts["sysconfdir"] == "/etc", "sysconfdir %r" % opts["sysconfdir"])
        want = expected_files(opts)
        check(want["unit"] in ("/lib/systemd/system/ferryd.service",
                               "/usr/lib/systemd/system/ferryd.service"), "unit at %s" % want["unit"])
        p = run(["meson", "introspect", "--installed", b])
        installed = set(json.loads(p.stdout).values())
        for k in ("ferryd", "ferryctl", "unit", "completion"):
            check(want[k] in installed, "%s would not be installed at %s: %s" %
                  (k, want[k], sorted(installed)))
        check(want["completion"] == "/usr/share/bash-completion/completions/ferryctl" and
              want["ferryd"] == "/usr/bin/ferryd", "paths %s" % want)
        with open(os.path.join(b, "config", "ferryd.service")) as f:
            check("ExecStart=/usr/bin/ferryd --config /etc/ferry/ferry.json" in f.read(),
                  "unit of the /usr build")
    finally:
        shutil.rmtree(b, ignore_errors=True)


# --- sd_notify --------------------------------------------------------------------------------
class Notify:
    """A NOTIFY_SOCKET listener: an AF_UNIX datagram socket (abstract if name starts with @)."""

    def __init__(self, name):
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + name[1:] if name.startswith("@") else name)

    def recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096).decode()
        except socket.timeout:
            raise TestFailure("no sd_notify message within %.0f s" % timeout)
        return dict(line.split("=", 1) for line in data.split("\n") if "=" in line)

    def close(self):
        self.sock.close()


NULL_PORTS = [{"name": "a", "type": "dpdk", "devargs": "net_null0,no-rx=1"},
              {"name": "b", "type": "dpdk", "devargs": "net_null1,no-rx=1"}]


def start_notified(d, name):
    n = Notify(name)
    os.environ["NOTIFY_SOCKET"] = name
    try:
        d.start(wait=False)
    finally:
        del os.environ["NOTIFY_SOCKET"]
    return n


def port_names(d):
    with d.client() as c:
        return [p["name"] for p in c.result("port.list")]


def test_notify():
    d = Daemon(NULL_PORTS, tag="notify")
    n = None
    try:
        n = start_notified(d, d.path("notify.sock"))
        m = n.recv(60)
        check(m.get("READY") == "1", "first message %s" % m)
        check(port_names(d) == ["a", "b"], "at READY=1 the ports are %s" % port_names(d))
        with open(d.cfg_path) as f:
            cfg = json.load(f)
        cfg["ports"].append({"name": "c", "type": "dpdk", "devargs": "net_null2,no-rx=1"})
        with open(d.cfg_path, "w") as f:
            json.dump(cfg, f)
        d.proc.send_signal(signal.SIGHUP)
        m = n.recv(30)
        check(m.get("RELOADING") == "1" and m.get("MONOTONIC_USEC", "").isdigit(),
              "after SIGHUP: %s" % m)
        usec = int(m["MONOTONIC_USEC"])
        check(abs(usec / 1e6 - time.clock_gettime(time.CLOCK_MONOTONIC)) < 30,
              "MONOTONIC_USEC %d is not CLOCK_MONOTONIC" % usec)
        m = n.recv(30)
        check(m.get("READY") == "1", "after RELOADING=1: %s" % m)
        check(port_names(d) == ["a", "b", "c"], "at READY=1 after reload: %s" % port_names(d))
        check("reload: 1 added" in d.log(), "no reload summary: %s" % d.log_tail())
        d.proc.send_signal(signal.SIGTERM)
        m = n.recv(30)
        check(m.get("STOPPING") == "1", "after SIGTERM: %s" % m)
        check(d.proc.wait(30) == 0, "exit status %s" % d.proc.returncode)
    finally:
        if n:
            n.close()
        d.cleanup()


def test_notify_abstract():
    d = Daemon(NULL_PORTS, tag="notify-abs")
    n = None
    try:
        n = start_notified(d, "@ferry-test-notify-%d" % os.getpid())
        check(n.recv(60).get("READY") == "1", "no READY=1 on an abstract NOTIFY_SOCKET")
        d.proc.send_signal(signal.SIGTERM)
        check(n.recv(30).get("STOPPING") == "1", "no STOPPING=1")
        check(d.proc.wait(30) == 0, "exit status %s" % d.proc.returncode)
    finally:
        if n:
            n.close()
        d.cleanup()


# --- logs -------------------------------------------------------------------------------------
def run_logged(journal):
    """ferryd with stdout and stderr in separate files (stderr as journald's stream if journal);
    SIGHUP with a changed burst (a warning), then SIGTERM. Returns (stdout, stderr) texts."""
    d = Daemon(NULL_PORTS, tag="log")
    try:
        out, err = open(d.path("out"), "w"), open(d.path("err"), "w")
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        if journal:
            st = os.fstat(err.fileno())
            env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        d.proc = subprocess.Popen([FERRYD, "--config", d.cfg_path, "--socket", d.sock, "--",
                                   "--file-prefix", d.prefix, "--in-memory"],
                                  stdout=out, stderr=err, env=env, cwd=d.dir)
        wait_for(lambda: "ferryd ready" in open(d.path("err")).read() or d.proc.poll() is not None,
                 timeout=60, what="ferryd ready")
        with open(d.cfg_path) as f:
            cfg = json.load(f)
        cfg["burst"] = 16
        with open(d.cfg_path, "w") as f:
            json.dump(cfg, f)
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload: 0 added" in open(d.path("err")).read(), timeout=30,
                 what="the reload")
        d.proc.send_signal(signal.SIGTERM)
        check(d.proc.wait(30) == 0, "exit status %s" % d.proc.returncode)
        out.close()
        err.close()
        return open(d.path("out")).read(), open(d.path("err")).read()
    finally:
        d.cleanup()


def test_logs_stderr():
    out, err = run_logged(False)
    check(out == "", "ferryd wrote to stdout: %r" % out[:300])
    check(re.search(r"(?m)^ferry: ferryd ready", err), "no 'ferry: ferryd ready' line on stderr")
    check(not re.search(r"(?m)^<\d>", err), "journald prefixes without JOURNAL_STREAM")


def test_logs_journald_levels():
    out, err = run_logged(True)
    check(out == "", "ferryd wrote to stdout: %r" % out[:300])
    lines = [x for x in err.splitlines() if x]
    bad = [x for x in lines if not re.match(r"<[0-7]>", x)]
    check(not bad, "lines without a priority: %s" % bad[:3])
    check("<6>ferry: ferryd ready" in lines or any(x.startswith("<6>ferry: ferryd ready")
                                                   for x in lines), "ready not at <6> (info)")
    check(any(x.startswith("<4>ferry: reload: burst changed") for x in lines),
          "the restart warning is not at <4> (warning): %s" % [x for x in lines if "burst" in x])


if __name__ == "__main__":
    main([("service_install_layout", test_install_layout),
          ("service_debian_layout", test_debian_layout),
          ("service_notify", test_notify), ("service_notify_abstract", test_notify_abstract),
          ("service_logs_stderr", test_logs_stderr),
          ("service_logs_journald_levels", test_logs_journald_levels)])
