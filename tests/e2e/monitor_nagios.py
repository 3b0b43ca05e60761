"""End to end: --expect, natcheck as a Nagios/Icinga plugin.

Usage: python3 tests/e2e/monitor_nagios.py ./natcheck

The Monitoring Plugins guidelines: exit 0 OK, 1 WARNING, 2 CRITICAL, 3
UNKNOWN; one status line "SERVICE STATUS - text | perfdata" with perfdata
'label'=value[UOM];[warn];[crit];[min];[max].  check_dummy from Debian's
monitoring-plugins-basic is the reference for which status word goes with
which exit status.  Only 127.0.0.0/8 is contacted.
"""
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, Server, run  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
# -b with an address this host does not have (TEST-NET-1): the run cannot
# even open its sockets, an error (exit 1) that sends nothing.
NOT_HERE = "192.0.2.1"
CHECK_DUMMY = "/usr/lib/nagios/plugins/check_dummy"
c = Checks()
if not os.access(CHECK_DUMMY, os.X_OK):
    print(f"FAIL  {CHECK_DUMMY} is missing (Debian package monitoring-plugins-basic)")
    c.failed += 1
    c.finish()

LINE = re.compile(r"^NATCHECK (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| ([^|\n]*))?$")
PERF = re.compile(r"^('[^'=]+'|[^'= ]+)=(-?[0-9.]+|U)(s|ms|us|%|B|KB|MB|TB|c)?"
                  r"(;(-?[0-9.]*)?){0,4}$")


def dummy_word(code):
    """The status word check_dummy prints for an exit status."""
    p = subprocess.run([CHECK_DUMMY, str(code), "x"], capture_output=True, text=True)
    return p.returncode, p.stdout.split(":", 1)[0]


def plugin(name, args, want_rc, want_text=None, perfdata=True):
    rc, out, err, _ = run([NATCHECK, *args])
    lines = out.splitlines()
    m = LINE.match(lines[0]) if lines else None
    c.check(f"{name}: exit {want_rc}", rc == want_rc, (rc, out, err))
    c.check(f"{name}: one status line 'NATCHECK STATE - text | perfdata'",
            len(lines) == 1 and m is not None, out)
    if m is None:
        return None
    # The same word check_dummy uses for this exit status.
    drc, word = dummy_word(rc)
    c.check(f"{name}: state word {m.group(1)} is check_dummy's for exit {rc} ({word})",
            drc == rc and word == m.group(1), (m.group(1), word))
    if want_text:
        c.check(f"{name}: says {want_text!r}", want_text in m.group(2), m.group(2))
    perf = (m.group(3) or "").split()
    if not perfdata:
        c.check(f"{name}: no performance data (nothing was measured)", perf == [], perf)
        return m
    c.check(f"{name}: performance data well-formed (elapsed in s, loss 0..1 or U)",
            any(p.startswith("elapsed=") and p.split("=")[1].split(";")[0].endswith("s") for p in perf)
            and any(p.startswith("loss=") for p in perf) and all(PERF.match(p) for p in perf), perf)
    return m


with Server(NATCHECK) as srv:
    target = f"127.0.0.1:{srv.port}"
    plugin("expected open", ["--expect", "open", target], 0, "open (expected open")
    plugin("expected among several", ["--expect", "full-cone,open,symmetric", target], 0, "open")
    plugin("not expected", ["--expect", "full-cone,port-restricted-cone", target], 2,
           "open (expected full-cone,port-restricted-cone")
    plugin("--format nagios with --expect", ["--format", "nagios", "--expect", "symmetric", target], 2)

with Server(NATCHECK, spec="127.0.0.1") as one:
    plugin("type cannot be determined", ["--expect", "open", f"127.0.0.1:{one.port}"], 3,
           "could not be determined")

silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", 0))
SILENT = f"127.0.0.1:{silent.getsockname()[1]}"
plugin("udp-blocked is a verdict, CRITICAL when not expected", ["--expect", "open", "-t", "0.3", SILENT], 2,
       "udp-blocked")
plugin("udp-blocked expected: OK", ["--expect", "udp-blocked", "-t", "0.3", SILENT], 0)
silent.close()

plugin("error (the check could not run): UNKNOWN", ["--expect", "open", "-b", NOT_HERE, "-t", "1", "127.0.0.1"], 3)

# A plugin's usage error is UNKNOWN, whatever comes first on the line.
for name, args in (("unknown type word", ["--expect", "cone", "127.0.0.1"]),
                   ("the word unknown", ["--expect", "unknown", "127.0.0.1"]),
                   ("empty list item", ["--expect", "open,", "127.0.0.1"]),
                   ("with --watch", ["--expect", "open", "--watch", "5", "127.0.0.1"]),
                   ("with --count", ["--count", "2", "--expect", "open", "127.0.0.1"]),
                   ("with --json", ["--json", "--expect", "open", "127.0.0.1"]),
                   ("--format nagios without --expect", ["--format", "nagios", "127.0.0.1"]),
                   ("a bad -t before --expect", ["-t", "x", "--expect", "open", "127.0.0.1"])):
    plugin(f"usage error, {name}", args, 3, "usage error", perfdata=False)
# The reason is on the status line, the one thing a plugin's caller shows,
# and a '|' in it cannot start performance data.
plugin("usage error names its reason", ["--expect", "cone", "127.0.0.1"], 3,
       "usage error: --expect: 'cone' is not a type", perfdata=False)
plugin("usage error with a '|' keeps one status field", ["--expect", "a|b", "127.0.0.1"], 3,
       "'a/b' is not a type", perfdata=False)

# Without --expect, usage errors keep their status 2.
for name, args in (("--format bogus", ["--format", "bogus", "127.0.0.1"]),
                   ("--json with --format prometheus", ["--json", "--format", "prometheus", "127.0.0.1"]),
                   ("-q with --format json", ["-q", "--format", "json", "127.0.0.1"]),
                   ("--watch 0", ["--watch", "0", "127.0.0.1"]),
                   ("--count 0", ["--count", "0", "127.0.0.1"]),
                   ("--count -1", ["--count", "-1", "127.0.0.1"]),
                   ("--watch with --serve", ["--serve", "127.0.0.1", "--watch", "1"])):
    rc, out, err, _ = run([NATCHECK, *args])
    c.check(f"usage error, {name}: exit 2, one line on stderr, nothing on stdout",
            rc == 2 and out == "" and len(err.splitlines()) == 1 and "(see natcheck --help)" in err, (rc, out, err))

c.finish()
