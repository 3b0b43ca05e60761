"""End to end: the progress line on long runs, on a terminal only.

Usage: python3 tests/e2e/progress.py ./natcheck

A run against a server that never answers lasts until -t.  With standard
error on a pseudo-terminal (python's pty), a run longer than 2 s shows a
progress line there and erases it at the end; with standard error on a
pipe (a script) it never appears, nor on a terminal for a short run or
with -v.  Only 127.0.0.1 is contacted.
"""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks  # noqa: E402
from stunlib import on_pty as stunlib_on_pty  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
c = Checks()
PROGRESS = b"natcheck: testing, "

silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", 0))
SILENT = f"127.0.0.1:{silent.getsockname()[1]}"


def on_pty(args):
    """(status, stdout, what the terminal got on stderr)."""
    return stunlib_on_pty([NATCHECK, *args])


rc, out, tty = on_pty(["-q", "-t", "3.5", SILENT])
c.check("long run, stderr a terminal: the progress line appears", PROGRESS in tty, tty[-300:])
c.check("long run, stderr a terminal: the line counts seconds against -t",
        b"natcheck: testing, 2 s (at most 4 s)" in tty or b"natcheck: testing, 3 s (at most 4 s)" in tty, tty[-300:])
c.check("long run, stderr a terminal: erased at the end, before the warnings",
        tty.rfind(b"\r\x1b[K") > tty.rfind(PROGRESS) and tty.rfind(b"\r\x1b[K") < tty.find(b"warning"), tty[-300:])
c.check("long run: stdout untouched (the verdict word only), exit 15", rc == 15 and out == b"udp-blocked\n", (rc, out))

p = subprocess.run([NATCHECK, "-q", "-t", "3.5", SILENT], capture_output=True, timeout=60)
c.check("long run, stderr a pipe: no progress line, no escape", PROGRESS not in p.stderr and b"\x1b" not in p.stderr
        and p.returncode == 15, p.stderr)

rc, out, tty = on_pty(["-q", "-t", "1", SILENT])
c.check("short run (1 s), stderr a terminal: no progress line", PROGRESS not in tty and rc == 15, tty)

rc, out, tty = on_pty(["-q", "-v", "-t", "2.5", SILENT])
c.check("-v, stderr a terminal: no progress line between the log lines", PROGRESS not in tty and rc == 15, tty[-300:])

silent.close()
c.finish()
