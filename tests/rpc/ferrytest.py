"""ferrytest.py — shared helpers of the control-socket tests (tests/rpc): start and stop a real
ferryd on net_null / net_pcap / vhost-user ports, a line-framed JSON-RPC client, a pcap writer,
and a tiny runner printing `PASS: rpc/<name>` / `FAIL: rpc/<name>: <reason>`.

Python 3 standard library only. Environment: FERRYD and FERRYCTL override the binaries (default
build/app/ferryd/ferryd and build/app/ferryctl/ferryctl under the repository root)."""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FERRYD = os.environ.get("FERRYD", os.path.join(ROOT, "build/app/ferryd/ferryd"))
FERRYCTL = os.environ.get("FERRYCTL", os.path.join(ROOT, "build/app/ferryctl/ferryctl"))

# JSON-RPC / ferry error codes (lib/common/ferry_common.h)
EPARSE, EINVALID_REQ, ENOMETHOD, EINVAL, EINTERNAL = -32700, -32600, -32601, -32602, -32603
EEXIST, ENOPORT, EPROBE, ELIMIT, ENOENT, ENOTSUP = -32001, -32002, -32003, -32004, -32005, -32006


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_for(pred, timeout=10.0, step=0.05, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise TestFailure("timed out waiting for " + what)


# ---------------------------------------------------------------------------------------------
class Client:
    """One connection to the control socket."""

    def __init__(self, path, timeout=10.0):
        end = time.monotonic() + timeout
        while True:   # a full listen backlog answers EAGAIN: ferryd accepts in rounds
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(path)
                break
            except BlockingIOError:
                self.sock.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.01)
        self.buf = b""
        self.notes = []          # notifications seen while waiting for answers
        self.next_id = 1

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, obj):
        self.send_raw(json.dumps(obj).encode() + b"\n")

    def recv_line(self, timeout=10.0):
        """The next line (bytes, no newline), or None at EOF."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise TestFailure("no answer within %.1f s" % timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                raise TestFailure("no answer within %.1f s" % timeout)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if self.buf:
                    raise TestFailure("connection closed inside a line: %r" % self.buf[:200])
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def recv(self, timeout=10.0):
        line = self.recv_line(timeout)
        if line is None:
            raise TestFailure("connection closed by ferryd")
        return json.loads(line)

    def expect_eof(self, timeout=10.0):
        line = self.recv_line(timeout)
        check(line is None, "expected the connection to be closed, got %r" % (line or b"")[:200])

    def request(self, method, params=None, rid=None):
        if rid is None:
            rid = self.next_id
            self.next_id += 1
        req = {"jsonrpc": "2.0", "method": method, "id": rid}
        if params is not None:
            req["params"] = params
        return req

    def call(self, method, params=None, timeout=10.0):
        req = self.request(method, params)
        self.send(req)
        while True:
            msg = self.recv(timeout)
            if "method" in msg:
                self.notes.append(msg)
                continue
            check(msg.get("id") == req["id"], "answer with id %r to request %r" %
                  (msg.get("id"), req["id"]))
            return msg

    def result(self, method, params=None, timeout=10.0):
        r = self.call(method, params, timeout)
        check("result" in r and r.get("jsonrpc") == "2.0",
              "%s %s: expected a result, got %s" % (method, json.dumps(params), json.dumps(r)))
        return r["result"]

    def error(self, method, params, code, contains=None):
        r = self.call(method, params)
        e = r.get("error")
        check(e is not None and e.get("code") == code,
              "%s %s: expected error %d, got %s" % (method, json.dumps(params), code,
                                                     json.dumps(r)[:300]))
        check(isinstance(e.get("message"), str) and e["message"], "error without a message")
        if contains is not None:
            check(contains in e["message"], "%s: message %r lacks %r" % (method, e["message"],
                                                                         contains))
        return e["message"]


# ---------------------------------------------------------------------------------------------
class Daemon:
    """A ferryd with its own directory, config and socket. ports: the config's port list, or a
    function of the Daemon returning it (to place vhost-user sockets in d.path(...)); rpc and vhost
    too.
    vhost: the config's "vhost" object; by default the Daemon's directory is vhost.socket_dirs, so
    that vhost-user ports added over RPC may have their sockets there."""

    _count = 0

    def __init__(self, ports, fdb_size=1024, rpc=None, socket_path=None, tag="rpc", vhost=None):
        Daemon._count += 1
        self.dir = tempfile.mkdtemp(prefix="ferry-%s-" % tag)
        self.sock = socket_path or os.path.join(self.dir, "ferryd.sock")
        self.prefix = "ferry-%s-%d-%d" % (tag, os.getpid(), Daemon._count)
        self.cfg_path = os.path.join(self.dir, "ferryd.json")
        if callable(ports):
            ports = ports(self)
        if callable(rpc):
            rpc = rpc(self)
        if callable(vhost):
            vhost = vhost(self)
        cfg = {"lcores": {"main": 0, "pmd": [1]}, "mbufs": 8192,
               "fdb": {"size": fdb_size, "aging": 300}, "ports": ports,
               "vhost": vhost if vhost is not None else {"socket_dirs": [self.dir]}}
        if rpc is not None:
            cfg["rpc"] = rpc
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f, indent=1)
        self.proc = None
        self.logf = None

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self, wait=True):
        self.logf = open(self.path("ferryd.log"), "w")
        args = [FERRYD, "--config", self.cfg_path, "--socket", self.sock, "--",
                "--file-prefix", self.prefix, "--in-memory"]
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise TestFailure("ferryd exited with %d: %s" % (self.proc.returncode,
                                                                 self.log_tail()))
            try:
                with Client(self.sock, 2.0) as c:
                    c.result("switch.info")
                    return
            except (OSError, TestFailure):
                time.sleep(0.1)
        raise TestFailure("ferryd did not come up: " + self.log_tail())

    def client(self, timeout=10.0):
        return Client(self.sock, timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.path("ferryd.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=15):
        return " | ".join(self.log().strip().splitlines()[-n:])

    def stop(self, timeout=30.0):
        """SIGTERM (if still running) and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.logf:
            self.logf.close()
            self.logf = None
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def clients_now(d):
    """Clients ferryd serves besides the one asking."""
    with d.client() as c:
        return c.result("switch.info")["rpc"]["clients"] - 1


def check_too_many_clients(path):
    """Connect once more to a ferryd whose client table is full: the kernel accepts, ferryd answers
    a "too many clients" error (id null) and closes; checks that answer."""
    extra = socket.socket(socket.AF_UNIX)
    extra.connect(path)
    extra.settimeout(10)
    data = b""
    while True:
        chunk = extra.recv(4096)
        if not chunk:
            break
        data += chunk
    extra.close()
    r = json.loads(data.split(b"\n")[0])
    check(r.get("error", {}).get("code") == ELIMIT and r.get("id") is None and
          "too many clients" in r["error"]["message"], "refusal: %s" % r)


def ferryctl(daemon_or_sock, *args, timeout=30, input=None):
    """Run ferryctl; returns (exit code, stdout, stderr)."""
    sock = daemon_or_sock.sock if isinstance(daemon_or_sock, Daemon) else daemon_or_sock
    p = subprocess.run([FERRYCTL, "-s", sock] + list(args), capture_output=True, text=True,
                       timeout=timeout, input=input)
    return p.returncode, p.stdout, p.stderr


# ---------------------------------------------------------------------------------------------
def write_pcap(path, frames):
    """Classic pcap, Ethernet link type."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(fr), len(fr)))
            f.write(fr)


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def eth_frame(dst, src, payload_len=46, seq=0):
    body = struct.pack(">I", seq) + bytes(max(0, payload_len - 4))
    return mac_bytes(dst) + mac_bytes(src) + b"\x08\x00" + body


# ---------------------------------------------------------------------------------------------
def run_tests(tests, setup=None, teardown=None):
    """tests: list of (name, fn). Prints PASS/FAIL lines; returns the process exit code."""
    failed = 0
    ctx = None
    try:
        ctx = setup() if setup else None
    except Exception as e:  # noqa: BLE001 - a broken setup fails every test of the file
        for name, _ in tests:
            print("FAIL: rpc/%s: setup: %s" % (name, e), flush=True)
        return 1
    try:
        for name, fn in tests:
            t0 = time.monotonic()
            try:
                fn(ctx) if setup else fn()
                if os.environ.get("FERRY_TEST_VERBOSE"):
                    print("  %s took %.1f s" % (name, time.monotonic() - t0), flush=True)
                print("PASS: rpc/%s" % name, flush=True)
            except Exception as e:  # noqa: BLE001
                failed += 1
                reason = str(e) if isinstance(e, TestFailure) else "%s: %s" % (
                    type(e).__name__, e)
                print("FAIL: rpc/%s: %s" % (name, reason.replace("\n", " ")), flush=True)
                if os.environ.get("FERRY_TEST_VERBOSE"):
                    traceback.print_exc()
    finally:
        if teardown and ctx is not None:
            teardown(ctx)
    return 1 if failed else 0


def main(tests, setup=None, teardown=None):
    only = sys.argv[1:]
    if only:
        tests = [t for t in tests if t[0] in only]
    sys.exit(run_tests(tests, setup, teardown))
