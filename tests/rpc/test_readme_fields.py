#!/usr/bin/env python3
"""test_readme_fields.py — README.md's table of port fields (under "Configuration", columns
name | type | applies to | settable | help) says what ferryd's port.schema says, row for row.

  test_readme_fields.py              the check (PASS/FAIL: rpc/readme_port_fields)
  test_readme_fields.py --markdown   print the table port.schema gives, to paste into README.md
README=path checks another file."""

import os
import re
import sys

from ferrytest import Daemon, ROOT, check, main

HEADER = ["name", "type", "applies to", "settable", "help"]


def schema():
    d = Daemon([], tag="readme").start()
    try:
        with d.client() as c:
            return c.result("port.schema")
    finally:
        d.cleanup()


def rows_of(s):
    """The table's rows as README.md should have them: lists of cell texts."""
    every = sorted({t for f in s for t in f["port_types"]})
    return [["`%s`" % f["name"], f["type"],
             "all" if sorted(f["port_types"]) == every else ", ".join(f["port_types"]),
             "yes" if f["settable"] else "no", f["help"]] for f in s]


def markdown(s):
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows_of(s)])


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def readme_table(text):
    """The rows of the first table whose header is HEADER, or None."""
    lines = text.split("\n")
    for i, ln in enumerate(lines):
        if ln.lstrip().startswith("|") and [c.lower() for c in cells(ln)] == HEADER:
            rows = []
            for body in lines[i + 2:]:
                if not body.lstrip().startswith("|"):
                    break
                rows.append(cells(body))
            return rows
    return None


def t_readme_port_fields():
    path = os.environ.get("README", os.path.join(ROOT, "README.md"))
    with open(path) as f:
        text = f.read()
    want = rows_of(schema())
    got = readme_table(text)
    check(got is not None, "%s has no port field table with the columns %s" %
          (path, " | ".join(HEADER)))
    check(re.search(r"^## Configuration$", text, re.M) and
          text.index("## Configuration") < text.index("| " + " | ".join(HEADER)),
          "the port field table is not under ## Configuration")
    names = [r[0] for r in got]
    check(names == [r[0] for r in want], "README fields %s, port.schema %s" %
          (names, [r[0] for r in want]))
    for g, w in zip(got, want):
        check(g == w, "README row %s differs from port.schema's: %s" % (g, w))


if __name__ == "__main__":
    if sys.argv[1:] == ["--markdown"]:
        print(markdown(schema()))
        sys.exit(0)
    main([("readme_port_fields", t_readme_port_fields)])
