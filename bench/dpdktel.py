#!/usr/bin/env python3
"""dpdktel.py — read ethdev counters of a running DPDK process through its telemetry socket
(/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2; present unless the process ran with --no-telemetry).

  dpdktel.py PREFIX [CMD]     e.g. dpdktel.py fb-sw /ethdev/stats,0   (default: every port's stats)
As a module: Telemetry(prefix).ports() -> {port_id: {"name": ..., "ipackets": ..., ...}}.
"""
import json
import os
import socket
import sys

RUN_DIRS = ("/var/run/dpdk", "/run/dpdk")


class Telemetry:
    def __init__(self, prefix, timeout=5.0):
        self.prefix, self.timeout = prefix, timeout
        self._connect()
        self.names = {}

    def _connect(self):
        prefix, timeout = self.prefix, self.timeout
        path = None
        for d in RUN_DIRS:
            p = os.path.join(d, prefix, "dpdk_telemetry.v2")
            if os.path.exists(p):
                path = p
                break
        if path is None:
            raise FileNotFoundError("no telemetry socket for file prefix %s" % prefix)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        hello = json.loads(self.sock.recv(16384).decode())
        self.bufsz = int(hello.get("max_output_len", 16384))

    def cmd(self, c, tries=3):
        """One telemetry command; a loaded machine can stall the answer: reconnect and retry."""
        for k in range(tries):
            try:
                self.sock.send(c.encode())
                data = self.sock.recv(self.bufsz)
                return json.loads(data.decode())[c.split(",")[0]]
            except (socket.timeout, ConnectionError, ValueError):
                if k == tries - 1:
                    raise
                try:
                    self.sock.close()
                except OSError:
                    pass
                self._connect()

    def port_ids(self):
        return list(self.cmd("/ethdev/list") or [])

    def name(self, pid):
        if pid not in self.names:
            info = self.cmd("/ethdev/info,%d" % pid) or {}
            self.names[pid] = info.get("name", str(pid))
        return self.names[pid]

    def stats(self, pid):
        return self.cmd("/ethdev/stats,%d" % pid)

    def ports(self):
        out = {}
        for pid in self.port_ids():
            st = self.stats(pid) or {}
            st["name"] = self.name(pid)
            out[pid] = st
        return out

    def close(self):
        self.sock.close()


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip())
        return 2
    t = Telemetry(sys.argv[1])
    if len(sys.argv) > 2:
        print(json.dumps(t.cmd(sys.argv[2]), indent=1))
    else:
        for pid, st in t.ports().items():
            print(pid, st["name"], "rx", st.get("ipackets"), "tx", st.get("opackets"),
                  "rx_missed", st.get("imissed"), "tx_err", st.get("oerrors"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
