"""qmp.py — a minimal client of QEMU's machine protocol (QMP) for the tests' harnesses.

    q = Qmp("/path/qmp.sock")            # connects (retrying ~20 s), negotiates capabilities
    r = q.cmd("query-status")            # {"return": ...} or {"error": ...}
Events that arrive while waiting for an answer go to on_event(name, data) (default: dropped);
drain() hands over the ones still buffered, e.g. from a QEMU that has just exited.
"""
import json
import select
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
        self.r, self.w = self.s.makefile("r"), self.s.makefile("w")   # a failed write spares reads
        self.r.readline()                                   # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, _cmd, **args):
        req = {"execute": _cmd}
        if args:
            req["arguments"] = args
        self.w.write(json.dumps(req) + "\n")
        self.w.flush()
        while True:
            line = self.r.readline()
            if not line:
                raise EOFError
            r = json.loads(line)
            if "event" in r:
                self._event(r)
                continue
            return r

    def _event(self, r):
        if self.on_event:
            self.on_event(r["event"], r.get("data", {}))

    def drain(self, timeout=0.0):
        """Hands over the events already sent, waiting up to `timeout` s for more (or EOF)."""
        end = time.monotonic() + timeout
        self.s.setblocking(False)
        try:
            while True:
                line = self.r.readline()        # "" when nothing is buffered (or at EOF)
                if line:
                    r = json.loads(line)
                    if "event" in r:
                        self._event(r)
                    continue
                left = end - time.monotonic()
                if left <= 0 or not select.select([self.s], [], [], left)[0]:
                    break
                if not self.s.recv(1, socket.MSG_PEEK):
                    break                       # EOF: the QEMU is gone
        except (OSError, ValueError):
            pass
        finally:
            self.s.setblocking(True)

    def ok(self, _cmd, **args):
        """cmd() that raises on an error answer; returns the "return" value."""
        r = self.cmd(_cmd, **args)
        if "error" in r:
            raise RuntimeError("%s: %s" % (_cmd, r["error"].get("desc", r["error"])))
        return r["return"]
