"""util.py — the bench's plumbing: logging, waiting, child processes (stopped by pid only),
CPU accounting, ferryd's JSON-RPC, and the median/min-max figures every table prints.
Python standard library only."""
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
START_T0 = time.time()
OURS = []                     # every process this run started (Popen), for cleanup


class BenchError(Exception):
    pass


class NotApplicable(Exception):
    pass


def log(msg):
    print("[bench %6.1fs] %s" % (time.time() - START_T0, msg), flush=True)


def wait_for(what, cond, timeout, step=0.1, alive=None):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        if alive is not None:
            alive()
        time.sleep(step)
    raise BenchError("timeout (%.0f s) waiting for %s" % (timeout, what))


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def tail(path, n=15):
    return "\n".join(read(path).splitlines()[-n:])


# ---------------------------------------------------------------------------------------------
# processes

class Proc:
    """A child process with its own log file; stopped by pid only."""

    def __init__(self, name, argv, logpath, stdin=False, env=None):
        self.name, self.logpath = name, logpath
        self.logf = open(logpath, "w")
        self.p = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                  stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  env=env, start_new_session=True)
        OURS.append(self)
        with open(logpath + ".cmd", "w") as f:
            f.write(" ".join(argv) + "\n")

    def alive(self):
        return self.p.poll() is None

    def check(self):
        if not self.alive():
            raise BenchError("%s exited early (status %s): %s" % (
                self.name, self.p.returncode, tail(self.logpath, 8)))

    def send(self, line):
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()

    def stop(self, sig=signal.SIGTERM, timeout=10, quit_cmd=None):
        if self.alive():
            try:
                if quit_cmd is not None and self.p.stdin:
                    self.send(quit_cmd)
                else:
                    self.p.send_signal(sig)
                self.p.wait(timeout)
            except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
                if self.alive():
                    self.p.send_signal(signal.SIGTERM)
                    try:
                        self.p.wait(5)
                    except subprocess.TimeoutExpired:
                        self.p.kill()
                        self.p.wait(5)
        if self.p.stdin:
            try:
                self.p.stdin.close()
            except OSError:
                pass
        self.logf.close()
        if self in OURS:
            OURS.remove(self)
        return self.p.returncode


def kill_all():
    for pr in list(OURS):
        try:
            pr.stop(timeout=3)
        except Exception:  # noqa: BLE001 — best effort at exit
            pass


def cpu_times():
    """/proc/stat per cpu: (total, steal) jiffies."""
    out = {}
    for line in read("/proc/stat").splitlines():
        if re.match(r"cpu\d+ ", line):
            f = line.split()
            v = [int(x) for x in f[1:]]
            out[f[0]] = (sum(v[:8]), v[7])
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def task_times(pid, cpu=None):
    """CPU seconds used so far by the threads of pid (only those last seen on `cpu`, if given)."""
    total = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0.0
    for tid in tids:
        st = read("/proc/%d/task/%s/stat" % (pid, tid))
        if not st:
            continue
        f = st[st.rfind(")") + 2:].split()
        if cpu is not None and int(f[36]) != cpu:
            continue
        total += int(f[11]) + int(f[12])
    return total / CLK_TCK


def others_busy():
    """CPUs' worth of work done by others over the next second (call it while none of ours run)."""
    def busy():
        f = [int(x) for x in read("/proc/stat").splitlines()[0].split()[1:9]]
        return sum(f) - f[3] - f[4], sum(f)
    b0, t0 = busy()
    time.sleep(1.0)
    b1, t1 = busy()
    return (b1 - b0) / (t1 - t0) * (os.cpu_count() or 1) if t1 > t0 else 0.0


def wait_quiet(max_s, below=0.15):
    """Wait (at most max_s) until other tenants use less than `below` of a CPU for 3 s running.
    Returns the seconds waited, or None when the machine stayed busy."""
    t0, calm = time.time(), 0
    while True:
        calm = calm + 1 if others_busy() < below else 0
        if calm >= 3:
            return round(time.time() - t0 - 3, 1)
        if time.time() - t0 > max_s:
            return None


def steal_pct(a, b):
    r = {}
    for cpu in a:
        dt = b[cpu][0] - a[cpu][0]
        r[cpu] = round(100.0 * (b[cpu][1] - a[cpu][1]) / dt, 1) if dt > 0 else 0.0
    return r



def rpc_call(path, method, params=None, timeout=5.0):
    """One JSON-RPC request to ferryd's control socket (one request per line)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall((json.dumps({"jsonrpc": "2.0", "method": method, "params": params or {},
                               "id": 1}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(1 << 16)
            if not d:
                break
            buf += d
    finally:
        s.close()
    r = json.loads(buf.decode())
    if "error" in r:
        raise BenchError("ferryd %s: %s" % (method, r["error"].get("message")))
    return r["result"]



def fmt(x, nd=2):
    return "-" if x is None else ("%.*f" % (nd, x))


def stats_of(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    med = statistics.median(vals)
    return {"median": round(med, 4), "min": round(min(vals), 4), "max": round(max(vals), 4),
            "n": len(vals),
            "spread_pct": round(100.0 * (max(vals) - min(vals)) / med, 1) if med else None}



def cell(st, nd=2):
    if st is None:
        return "-"
    if st["n"] == 1:
        return fmt(st["median"], nd)
    return "%s (%s-%s)" % (fmt(st["median"], nd), fmt(st["min"], nd), fmt(st["max"], nd))

