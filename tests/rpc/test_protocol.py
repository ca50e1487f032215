#!/usr/bin/env python3
"""test_protocol.py — JSON-RPC 2.0 conformance of ferryd's control socket: ids, notifications,
batches, every standard error code, and hostile input (malformed, truncated, binary, deeply
nested, oversized); ferryd must answer correctly and keep serving."""

import json
import os
import socket
import time

from ferrytest import (Daemon, check, main, EPARSE, EINVALID_REQ, ENOMETHOD, EINVAL)

MAX_REQUEST = 1 << 20


def setup():
    d = Daemon([{"name": "null0", "type": "dpdk", "devargs": "net_null0,no-rx=1"}], tag="proto")
    d.start()
    return d


def teardown(d):
    d.cleanup()


def is_error(msg, code, rid=None):
    return (isinstance(msg, dict) and msg.get("jsonrpc") == "2.0" and "result" not in msg and
            msg.get("error", {}).get("code") == code and msg.get("id", "absent") == rid)


def raw(d, data, timeout=10):
    """Send bytes on a fresh connection, return the first answer line parsed."""
    with d.client() as c:
        c.send_raw(data)
        return c.recv(timeout)


def still_serving(d):
    with d.client() as c:
        check(c.result("switch.info")["ports"] >= 1, "switch.info after abuse")
    check(d.alive(), "ferryd died")


def t_ids(d):
    with d.client() as c:
        for rid in ["abc", "", 0, -7, 2**53, 1.5, None, "ü\u20ac"]:
            c.send({"jsonrpc": "2.0", "method": "switch.info", "id": rid})
            r = c.recv()
            check(r.get("id") == rid and "result" in r, "id %r echoed: %s" % (rid, r))
            check(list(r.keys()) == ["jsonrpc", "result", "id"], "member order %s" % list(r))
        for bad in [{"x": 1}, [1], True]:
            c.send({"jsonrpc": "2.0", "method": "switch.info", "id": bad})
            check(is_error(c.recv(), EINVALID_REQ, None), "id %r must be refused" % bad)


def t_notifications(d):
    with d.client() as c:
        # valid, unknown-method and bad-params notifications get no answer at all
        c.send({"jsonrpc": "2.0", "method": "switch.info"})
        c.send({"jsonrpc": "2.0", "method": "no.such"})
        c.send({"jsonrpc": "2.0", "method": "port.get", "params": [1]})
        c.send({"jsonrpc": "2.0", "method": "port.get", "params": {"name": "nope"}})
        c.send({"jsonrpc": "2.0", "method": "switch.info", "id": 99})
        r = c.recv()
        check(r.get("id") == 99, "first answer must be the request's, got %s" % r)


def t_invalid_requests(d):
    with d.client() as c:
        cases = [
            (b'{"jsonrpc":"1.0","method":"switch.info","id":1}', 1),
            (b'{"method":"switch.info","id":2}', 2),
            (b'{"jsonrpc":2.0,"method":"switch.info","id":3}', 3),
            (b'{"jsonrpc":"2.0","method":1,"id":4}', 4),
            (b'{"jsonrpc":"2.0","id":5}', 5),
            (b'{"jsonrpc":"2.0","method":null,"id":6}', 6),
            (b'1', None), (b'"x"', None), (b'null', None), (b'true', None),
            (b'{"jsonrpc":"2.0","method":1,"params":"bar"}', None),   # no id: still answered
        ]
        for line, rid in cases:
            c.send_raw(line + b"\n")
            r = c.recv()
            check(is_error(r, EINVALID_REQ, rid), "%s -> %s" % (line, r))


def t_parse_errors(d):
    with d.client() as c:
        for line in [b'{"jsonrpc":"2.0","method":"switch.info","id":1',           # truncated
                     b'{"jsonrpc":"2.0","method":"switch.info","id":1}}',         # trailing junk
                     b'{"jsonrpc":"2.0","method":"switch.info","id":1} {}',
                     b"{'jsonrpc':'2.0'}", b"[", b"]", b"{", b"nul", b"01",
                     b'{"jsonrpc":"2.0","jsonrpc":"2.0","method":"switch.info","id":1}',  # dup
                     b'{"jsonrpc":"2.0","method":"sw\\u0000","id":1}',            # NUL escape
                     b'{"jsonrpc":"2.0","method":"\xff\xfe","id":1}',             # bad UTF-8
                     b'{"a":1e99999}', b'{"a":123456789012345678901234567890}']:
            c.send_raw(line + b"\n")
            r = c.recv()
            check(is_error(r, EPARSE, None), "%r -> %s" % (line, r))


def t_binary(d):
    with d.client() as c:
        for blob in [os.urandom(4096).replace(b"\n", b"x"), bytes(range(256)).replace(b"\n", b""),
                     b"\x00" * 100, b"\x00{}", b'{"jsonrpc":"2.0"\x00,"method":"x","id":1}']:
            c.send_raw(blob + b"\n")
            r = c.recv()
            check(is_error(r, EPARSE, None), "binary blob -> %s" % r)
        c.send_raw(b"\r\n   \n\t\n")    # blank lines are ignored
        check(c.result("switch.info")["ports"] == 1, "serving after binary input")


def t_method_and_params(d):
    with d.client() as c:
        c.error("no.such.method", None, ENOMETHOD, "no.such.method")
        c.error("", None, ENOMETHOD)
        c.error("x" * 5000, None, ENOMETHOD)
        for p in [[], [1, 2], "s", 3, True, None]:
            c.send({"jsonrpc": "2.0", "method": "switch.info", "params": p, "id": 7})
            check(is_error(c.recv(), EINVAL, 7), "params %r must be -32602" % (p,))
        c.error("switch.info", {"bogus": 1}, EINVAL, "params.bogus")
        # params absent and params {} are the same
        check(c.result("port.list", {}) == c.result("port.list"), "params {} vs absent")


def t_batches(d):
    with d.client() as c:
        batch = [{"jsonrpc": "2.0", "method": "switch.info", "id": 1},
                 {"jsonrpc": "2.0", "method": "switch.info"},             # notification
                 1,                                                       # invalid
                 {"jsonrpc": "2.0", "method": "nope", "id": "x"},
                 {"jsonrpc": "2.0", "method": "port.get", "params": {"name": "zz"}, "id": 3},
                 [],                                                      # nested: invalid
                 {"jsonrpc": "2.0", "method": "port.list", "id": None}]
        c.send(batch)
        r = c.recv()
        check(isinstance(r, list) and len(r) == 6, "batch answer: %s" % r)
        check("result" in r[0] and r[0]["id"] == 1, "batch[0] %s" % r[0])
        check(is_error(r[1], EINVALID_REQ, None), "batch 1 -> %s" % r[1])
        check(is_error(r[2], ENOMETHOD, "x"), "batch nope -> %s" % r[2])
        check(is_error(r[3], -32002, 3), "batch port.get zz -> %s" % r[3])
        check(is_error(r[4], EINVALID_REQ, None), "batch [] -> %s" % r[4])
        check("result" in r[5] and r[5]["id"] is None, "batch id null -> %s" % r[5])
        # empty batch: one error object, not an array
        c.send_raw(b"[]\n")
        check(is_error(c.recv(), EINVALID_REQ, None), "empty batch")
        c.send_raw(b"[1,2,3]\n")
        r = c.recv()
        check(isinstance(r, list) and len(r) == 3 and all(is_error(x, EINVALID_REQ) for x in r),
              "[1,2,3] -> %s" % r)
        # notifications only: no answer at all
        c.send([{"jsonrpc": "2.0", "method": "switch.info"}] * 3)
        c.send({"jsonrpc": "2.0", "method": "switch.info", "id": "after"})
        check(c.recv().get("id") == "after", "an all-notification batch must not be answered")
        # over-long batch is refused as a whole
        c.send([{"jsonrpc": "2.0", "method": "switch.info", "id": i} for i in range(1001)])
        check(is_error(c.recv(), EINVALID_REQ, None), "batch of 1001")
        c.send([{"jsonrpc": "2.0", "method": "port.list", "id": i} for i in range(1000)])
        r = c.recv()
        check(isinstance(r, list) and len(r) == 1000 and [x["id"] for x in r] == list(range(1000)),
              "batch of 1000 answered in order")


def t_deep_nesting(d):
    for blob in [b"[" * 100000, b"{\"a\":" * 100000, b"[" * 100000 + b"]" * 100000,
                 b'{"jsonrpc":"2.0","method":"switch.info","id":1,"x":' + b"[" * 50000 +
                 b"]" * 50000 + b"}"]:
        r = raw(d, blob + b"\n")
        check(is_error(r, EPARSE, None), "deep nesting %d bytes -> %s" % (len(blob), r))
    # nesting within jansson's limit inside params is refused by validation
    deep = "[" * 1000 + "]" * 1000
    line = ('{"jsonrpc":"2.0","method":"port.set","id":1,"params":{"name":"null0",'
            '"external_ids":%s}}\n' % deep).encode()
    r = raw(d, line)
    check(is_error(r, EINVAL, 1), "deep params -> %s" % r)
    still_serving(d)


def t_truncated_and_eof(d):
    # request without '\n' then EOF on our side: still answered
    with d.client() as c:
        c.send_raw(b'{"jsonrpc":"2.0","method":"switch.info","id":42}')
        c.sock.shutdown(socket.SHUT_WR)
        r = c.recv()
        check(r.get("id") == 42 and "result" in r, "answer at EOF: %s" % r)
        c.expect_eof()
    # half a request, then the client vanishes
    for i in range(20):
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        s.sendall(b'{"jsonrpc":"2.0","method":"port.add","params":{"name":"x' + b"y" * i)
        s.close()
    # a request whose answer nobody reads
    for i in range(20):
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        s.sendall(b'{"jsonrpc":"2.0","method":"port.list","id":1}\n' * 10)
        s.close()
    still_serving(d)


def t_oversized(d):
    # 1. exactly at the limit: a valid request padded to max_request bytes is served
    head = b'{"jsonrpc":"2.0","method":"switch.info","id":"big","pad":"'
    line = head + b"x" * (MAX_REQUEST - len(head) - 2) + b'"}'
    check(len(line) == MAX_REQUEST, "test bug")
    r = raw(d, line + b"\n", timeout=20)
    check(r.get("id") == "big" and "result" in r, "request of exactly 1 MiB: %s" % str(r)[:200])
    # 2. one byte over, with and without a newline: -32600 "request too large", then closed
    for data in [line + b"x\n", b"[" * (MAX_REQUEST + 10), b"a" * (3 * MAX_REQUEST) + b"\n"]:
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        s.setblocking(False)
        sent = 0
        got = b""
        end = time.monotonic() + 20
        while time.monotonic() < end and b"\n" not in got:   # write what ferryd takes, read
            try:
                if sent < len(data):
                    sent += s.send(data[sent:sent + 65536])
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                sent = len(data)
            try:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            except BlockingIOError:
                time.sleep(0.001)
        s.setblocking(True)
        s.settimeout(10)
        check(b"\n" in got, "no answer to an oversized request (%d bytes sent)" % sent)
        r = json.loads(got.split(b"\n")[0])
        check(is_error(r, EINVALID_REQ, None) and "too large" in r["error"]["message"],
              "oversized -> %s" % r)
        rest = got.split(b"\n", 1)[1]
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                rest += chunk
        except ConnectionResetError:
            pass
        check(rest == b"", "nothing may follow the error: %r" % rest[:100])
        s.close()
    still_serving(d)


def t_pipelined(d):
    with d.client() as c:
        n = 2000
        c.send_raw(b"".join(json.dumps({"jsonrpc": "2.0", "method": "switch.info",
                                        "id": i}).encode() + b"\n" for i in range(n)))
        ids = [c.recv()["id"] for _ in range(n)]
        check(ids == list(range(n)), "answers in request order")


TESTS = [("protocol_ids", t_ids), ("protocol_notifications", t_notifications),
         ("protocol_invalid_request", t_invalid_requests), ("protocol_parse_error", t_parse_errors),
         ("protocol_binary", t_binary), ("protocol_method_params", t_method_and_params),
         ("protocol_batch", t_batches), ("protocol_deep_nesting", t_deep_nesting),
         ("protocol_truncated_eof", t_truncated_and_eof), ("protocol_oversized", t_oversized),
         ("protocol_pipelined", t_pipelined)]

if __name__ == "__main__":
    main(TESTS, setup, teardown)
