#!/usr/bin/python3
"""rpc.py SOCKET METHOD [PARAMS_JSON] [--zc-idle SECONDS] — one JSON-RPC call to ferryd's control
socket (newline-delimited JSON-RPC 2.0), the result printed as one JSON line; exit status 1 on an
error answer or no answer.

--zc-idle S (with port.stats): repeat the call (every 0.2 s, one connection) until no vhost-user
port has a buffer lent (zero_copy.inflight == 0 everywhere) or S seconds passed, then print the
last answer with "zc_idle_after_s" (seconds waited; -1 if still lent at the end) added to each
port object. One process instead of a shell loop: process creation is slow in the lab guest.
"""
import json
import socket
import sys
import time


def main():
    args = sys.argv[1:]
    idle = None
    if "--zc-idle" in args:
        i = args.index("--zc-idle")
        idle = float(args[i + 1])
        del args[i:i + 2]
    sock, method = args[0], args[1]
    req = {"jsonrpc": "2.0", "id": 1, "method": method}
    if len(args) > 2 and args[2] != "null":
        req["params"] = json.loads(args[2])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock)
    f = s.makefile("rb")

    def call():
        s.sendall((json.dumps(req) + "\n").encode())
        line = f.readline()
        if not line:
            raise SystemExit("rpc.py: no answer from %s" % sock)
        return json.loads(line)

    t0 = time.monotonic()
    r = call()
    if idle is not None and "result" in r:
        def lent(res):
            ports = res if isinstance(res, list) else [res]
            return sum((p.get("zero_copy") or {}).get("inflight", 0) for p in ports)
        while lent(r["result"]) and time.monotonic() - t0 < idle:
            time.sleep(0.2)
            r = call()
        waited = -1 if lent(r["result"]) else round(time.monotonic() - t0, 2)
        for p in (r["result"] if isinstance(r["result"], list) else [r["result"]]):
            p["zc_idle_after_s"] = waited
    print(json.dumps(r.get("result", r.get("error")), separators=(",", ":")))
    return 0 if "result" in r else 1


if __name__ == "__main__":
    sys.exit(main())
