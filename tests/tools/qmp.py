"""qmp.py — a minimal client of QEMU's machine protocol (QMP) for the tests' harnesses.

    q = Qmp("/path/qmp.sock")            # connects (retrying ~20 s), negotiates capabilities
    r = q.cmd("query-status")            # {"return": ...} or {"error": ...}
Events that arrive while waiting for an answer go to on_event(name, data) (default: dropped).
"""
import json
import socket
import time


class Qmp:
    def __init__(self, path, on_event=None, tries=200):
        self.on_event = on_event
        for _ in range(tries):
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                time.sleep(0.1)
        else:
            raise SystemExit("qmp: cannot connect to %s" % path)
        self.f = self.s.makefile("rw")
        self.f.readline()                                   # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, _cmd, **args):
        req = {"execute": _cmd}
        if args:
            req["arguments"] = args
        self.f.write(json.dumps(req) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError
            r = json.loads(line)
            if "event" in r:
                if self.on_event:
                    self.on_event(r["event"], r.get("data", {}))
                continue
            return r

    def ok(self, _cmd, **args):
        """cmd() that raises on an error answer; returns the "return" value."""
        r = self.cmd(_cmd, **args)
        if "error" in r:
            raise RuntimeError("%s: %s" % (_cmd, r["error"].get("desc", r["error"])))
        return r["return"]
