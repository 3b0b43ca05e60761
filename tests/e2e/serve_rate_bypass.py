#!/usr/bin/env python3
"""natcheck --serve --rate against the bypasses of issue 20, on loopback.

    python3 tests/e2e/serve_rate_bypass.py ./natcheck

--rate is what keeps the server from hammering a host whose address a
flood forges, so each check counts the answers that went to the target
and holds them to the bound the limits promise (natcheck(1)): over a span
of t seconds at most rate x (t + 2) to one address, 8 x rate x (t + 2) to
one /24, and 1000 x rate x (t + 2) in all.  t runs from the first request
sent to the last answer read: the server handled every answered request
within that span, however loaded the machine, so the bound holds without
a guess at the server's delays (one answer more is allowed for its clock,
which counts whole milliseconds).

  - --rate 20: a victim sends bursts of 40 while spoofed datagrams from
    random 127/8 sources try to push it out of the server's table (with
    the old 4096-source table each return brought a fresh burst: about
    3.4 x the bound here); it gets no more than the bound, and at least
    its first burst;
  - --rate 20: every address of 127.0.9.0/24 sends 40, each within its own
    limit (before, 254 x 40 were all answered);
  - --rate 1: 6000 requests from random addresses across the /8 (before,
    all answered): the server's total stays within 1000 x (t + 2).

Measured figures, old against new: bench/flood.py.  Talks to 127.0.0.0/8
only; every flood is bounded in count and time, and the server is ended
by its PID.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _flood import many_prefixes, spread_over_24, victim_under_eviction  # noqa: E402
from stunlib import A1, Checks, Server  # noqa: E402

NATCHECK = sys.argv[1] if len(sys.argv) > 1 else "./natcheck"
PREFIX_FACTOR, GLOBAL_FACTOR = 8, 1000
c = Checks()


def bound(rate, t_first, t_answer):
    return rate * (t_answer - t_first + 2) + 1


with Server(NATCHECK, rate=20) as srv:
    got, t0, t1 = victim_under_eviction((A1, srv.port), 20, 3.0)
    b = bound(20, t0, t1)
    c.check(f"--rate 20, a victim among spoofed random sources: at most {b:.0f} answers "
            f"in {t1 - t0:.1f} s", got <= b, got)
    c.check("--rate 20: the victim still gets its first burst", got >= 40, got)

with Server(NATCHECK, rate=20) as srv:
    got, t0, t1 = spread_over_24((A1, srv.port), 20)
    b = bound(PREFIX_FACTOR * 20, t0, t1)
    c.check(f"--rate 20, 254 sources of one /24, 40 each: at most {b:.0f} answers to the /24 "
            f"in {t1 - t0:.1f} s", got <= b, got)
    c.check("--rate 20: the /24 gets at least one burst of 8 x rate", got >= 2 * 8 * 20, got)

with Server(NATCHECK, rate=1) as srv:
    got, t0, t1 = many_prefixes((A1, srv.port), 6000)
    b = bound(GLOBAL_FACTOR * 1, t0, t1)
    c.check(f"--rate 1, 6000 requests from random sources: at most {b:.0f} answers in all "
            f"in {t1 - t0:.1f} s", got <= b, got)

c.finish()
