#!/usr/bin/python3
"""monitor.py — the host's hand on the lab VM's QEMU (QMP), on behalf of the guest.

The lab guest cannot reach QEMU's monitor, so it writes requests into the run directory it shares
with the host (virtio-9p): req/<n>.req, one line each, and waits for req/<n>.done:

  device_del ID            hot-unplug a device (answers once QEMU accepted the request)
  trace on|off EVENT...    switch QEMU trace events (-trace file=... was given at start)
  hmp COMMAND...           any human-monitor command, its output is the answer (debugging)

Usage: monitor.py QMP_SOCKET REQ_DIR. Runs until QEMU closes the socket.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from qmp import Qmp  # noqa: E402


def log(msg):
    print("monitor[%.1f]: %s" % (time.monotonic(), msg), flush=True)


def handle(q, line):
    words = line.split()
    if not words:
        return "error: empty request"
    if words[0] == "device_del" and len(words) == 2:
        r = q.cmd("device_del", id=words[1])
    elif words[0] == "trace" and len(words) >= 3 and words[1] in ("on", "off"):
        for ev in words[2:]:
            r = q.cmd("trace-event-set-state", name=ev, enable=words[1] == "on")
            if "error" in r:
                break
    elif words[0] == "hmp":
        r = q.cmd("human-monitor-command", **{"command-line": " ".join(words[1:])})
        if "return" in r:
            return "ok\n" + r["return"]
    else:
        return "error: unknown request"
    return "ok" if "return" in r else "error: " + json.dumps(r.get("error"))


def main():
    sock, reqdir = sys.argv[1], sys.argv[2]
    q = Qmp(sock, on_event=lambda ev, data: log("event %s %s" % (ev, json.dumps(data))))
    log("connected")
    done = set()
    try:
        while True:
            q.drain(0)   # QMP events (e.g. DEVICE_DELETED) arrive between requests
            for name in sorted(os.listdir(reqdir)):
                if not name.endswith(".req") or name in done:
                    continue
                path = os.path.join(reqdir, name)
                with open(path) as f:
                    line = f.read().strip()
                done.add(name)
                ans = handle(q, line)
                log("%s: %s -> %s" % (name, line, ans.splitlines()[0] if ans else ans))
                tmp = path[:-4] + ".tmp"
                with open(tmp, "w") as f:
                    f.write(ans + "\n")
                os.rename(tmp, path[:-4] + ".done")
            time.sleep(0.1)
    except (EOFError, ConnectionError, BrokenPipeError):
        log("QEMU closed the monitor")


if __name__ == "__main__":
    main()
