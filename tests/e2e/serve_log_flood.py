#!/usr/bin/env python3
"""natcheck --serve -v under a flood: the log stays bounded, and says what
it left out.

    python3 tests/e2e/serve_log_flood.py ./natcheck

One TCP connection once made a -v server write 231 MB in 25 s (a line per
rate-limited request).  Now each source has its first 100 lines of an
interval of 10 s logged in full, and the rest are counted and summarised
at the interval's end (natcheck(1), SERVER):

  - one TCP connection sends Binding requests back to back for 3 s at
    --rate 20: the -v log holds at most 100 lines from that source and one
    summary of the rest, which appears once the 10 s interval is over
    while the server still runs; the lines and the summary's count
    account for every request the server counted;
  - spoofed UDP from 20,000 random 127/8 sources: at most 17 x 101 lines
    (16 sources with a budget of their own, the rest sharing one, each
    with one summary line), and the summaries count the rest;
  - an ordinary natcheck run against a -v server is still logged line by
    line (no summary).

Measured sizes, old against new: bench/flood.py.  Talks to 127.0.0.0/8
only; every flood is bounded in count and time, and the server is ended
by its PID.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _flood import many_prefixes, tcp_stream_flood  # noqa: E402
from stunlib import A1, Checks, Server, run  # noqa: E402

NATCHECK = sys.argv[1] if len(sys.argv) > 1 else "./natcheck"
LINES, SLOTS, INTERVAL_S = 100, 16, 10
c = Checks()

SUMMARY = re.compile(r"Z (.+?): (\d+) more events in [\d.]+ s not logged: (.*)$")


def summaries(log):
    return [m.groups() for m in map(SUMMARY.search, log.splitlines()) if m]


def requests_counted(srv):
    """The requests the server counted, from its exit lines."""
    return sum(int(n) for n in re.findall(r" requests=(\d+)", srv.stderr()))


# ------------------------------------------------- one TCP connection
srv = Server(NATCHECK, rate=20, extra=("-v",))
if srv.start(c):
    try:
        t0 = time.monotonic()
        sent = tcp_stream_flood((A1, srv.port), 3.0)
        log = srv.stderr()
        mine = [ln for ln in log.splitlines() if "127.0.0.60:" in ln]
        c.check(f"one TCP connection, {sent} requests in 3 s: at most {LINES} lines of it "
                f"logged in full ({len(log)} bytes in all)",
                sent > 10 * LINES and len(mine) <= LINES, f"{len(mine)} lines, {len(log)} bytes")
        # The interval ends while the server runs: the summary comes then.
        s = []
        while not s and time.monotonic() - t0 < INTERVAL_S + 5:
            time.sleep(0.2)
            s = summaries(srv.stderr())
        c.check("the summary comes when the 10 s interval ends, the server still running",
                len(s) == 1 and s[0][0] == "127.0.0.60" and srv.proc.poll() is None, s)
        rc = srv.stop()
        log = srv.stderr()
        full = len([ln for ln in log.splitlines()
                    if re.search(r"Z (tcp )?127\.0\.0\.60:\d+ ", ln)])
        quiet = sum(int(n) for _, n, _ in summaries(log))
        # The server counted its start-up check's requests (from A1) too.
        n = requests_counted(srv) - len(re.findall(r"Z 127\.0\.0\.1:\d+ -> ", log))
        c.check("the lines and the summary account for every request the server counted, "
                "and the connection's accept and close",
                rc == 0 and full + quiet == n + 2, f"{full} + {quiet} vs {n} requests + 2")
        c.check("the summary names what it counted",
                s and "over a rate limit" in s[0][2], s)
    finally:
        srv.kill()

# ------------------------------------------------- many spoofed sources
srv = Server(NATCHECK, rate=20, extra=("-v",))
if srv.start(c):
    try:
        got, _, _ = many_prefixes((A1, srv.port), 20000)
        rc = srv.stop()
        log = srv.stderr().splitlines()
        per = [ln for ln in log if " -> 127.0.0.1:" in ln]
        s = summaries("\n".join(log))
        c.check(f"20000 requests from random sources: at most {(SLOTS + 1) * LINES} lines "
                f"in full and {SLOTS + 1} summaries",
                rc == 0 and len(per) <= (SLOTS + 1) * LINES and len(s) <= SLOTS + 1,
                f"{len(per)} lines, {len(s)} summaries")
        n = requests_counted(srv)
        c.check("... and they account for every request",
                len(per) + sum(int(q) for _, q, _ in s) == n, f"{len(per)} + summaries vs {n}")
        c.check("... the rest are summarised as 'other sources'",
                any(who == "other sources" for who, _, _ in s), s)
    finally:
        srv.kill()

# ------------------------------------------------- an ordinary client
srv = Server(NATCHECK, spec=f"{A1},127.0.0.2", extra=("-v",))
if srv.start(c):
    try:
        rc, out, err, _ = run([NATCHECK, "-t", "5", "--no-portmap", f"{A1}:{srv.port}"])
        srv.stop()
        log = srv.stderr()
        c.check("an ordinary natcheck run is logged line by line, no summary",
                "binding response" in log and not summaries(log), log[-300:])
    finally:
        srv.kill()

c.finish()
