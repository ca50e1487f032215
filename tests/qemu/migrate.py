#!/usr/bin/python3
"""migrate.py — live-migrate a QEMU guest to another QEMU waiting with -incoming, and report.

Usage: migrate.py SRC_QMP DST_QMP URI [TIMEOUT_S]

Prints a progress line every 0.5 s (status, RAM transferred / remaining, dirty-sync rounds), then
one line "MIGRATE-RESULT status=completed total_ms=N downtime_ms=N setup_ms=N mbytes=N
dirty_syncs=N dest=running". Exits 0 if the migration completed and the destination runs, 1 if not
(the source is then left running: QEMU resumes it after a failed migration). The destination's
QMP events (RESUME, STOP, RESET, SHUTDOWN with its reason...) are printed as "dest event: ...", so
a destination that exits says why.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from qmp import Qmp  # noqa: E402


def main():
    src_path, dst_path, uri = sys.argv[1:4]
    limit = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
    src = Qmp(src_path)
    dst = Qmp(dst_path, on_event=lambda name, data: print("dest event: %s %s" % (
        name, json.dumps(data, sort_keys=True)), flush=True))
    # a local socket: no reason to throttle (QEMU 7.2's default limit is 32 MiB/s)
    src.ok("migrate-set-parameters", **{"max-bandwidth": 4 << 30, "downtime-limit": 300})
    src.ok("migrate", uri=uri)
    t0 = time.monotonic()
    while True:
        info = src.ok("query-migrate")
        st = info.get("status", "?")
        ram = info.get("ram", {})
        if st in ("completed", "failed", "cancelled"):
            break
        if time.monotonic() - t0 > limit:
            src.cmd("migrate_cancel")
            st = "timeout"
            break
        print("migrate: %-9s %6.1f s  transferred %6.1f MB  remaining %6.1f MB  dirty-syncs %d" % (
            st, time.monotonic() - t0, ram.get("transferred", 0) / 1e6,
            ram.get("remaining", 0) / 1e6, ram.get("dirty-sync-count", 0)), flush=True)
        dst.drain(0)
        time.sleep(0.5)
    dest = "?"
    if st == "completed":   # the destination resumes on its own once the last state arrived
        try:
            for _ in range(100):
                dest = dst.ok("query-status").get("status", "?")
                if dest == "running":
                    break
                time.sleep(0.1)
        except (OSError, EOFError):
            dest = "gone"
            dst.drain()
    print("MIGRATE-RESULT status=%s total_ms=%s downtime_ms=%s setup_ms=%s mbytes=%.1f "
          "dirty_syncs=%s dest=%s%s" % (
              st, info.get("total-time", "?"), info.get("downtime", "?"),
              info.get("setup-time", "?"), ram.get("transferred", 0) / 1e6,
              ram.get("dirty-sync-count", "?"), dest,
              (" error=" + info["error-desc"].replace(" ", "_")) if "error-desc" in info else ""),
          flush=True)
    return 0 if st == "completed" and dest == "running" else 1


if __name__ == "__main__":
    sys.exit(main())
