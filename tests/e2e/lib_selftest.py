#!/usr/bin/env python3
"""The end-to-end tests' own helpers (stunlib.py), checked against natcheck.

    python3 tests/e2e/lib_selftest.py ./natcheck

stunlib.Server under -v: the server writes a line per answer to stderr,
and nobody reads it while a test runs.  Through a pipe that stalls the
server once the pipe's 64 KiB are full (about 650 answers); the log must
go somewhere that never fills, so 1000 answers in a row must all come,
and all be in the log.  They come from 10 addresses, 100 each: -v logs
a source's first 100 lines in 10 s in full (then only counts them), so
that is 1000 lines.

Talks to 127.0.0.0/8 only; ends only the server it started, by PID.
"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import A1, Checks, Server, exchange, request, udp  # noqa: E402

N = 1000
SOURCES = 10            # 127.0.0.100 to .109, N / SOURCES requests each


def main():
    if len(sys.argv) != 2:
        print("usage: lib_selftest.py NATCHECK", file=sys.stderr)
        return 2
    c = Checks()
    srv = Server(sys.argv[1], extra=("-v",))
    try:
        if srv.start(c):
            answered = 0
            for k in range(SOURCES):
                s = udp(f"127.0.0.{100 + k}")
                try:
                    for _ in range(N // SOURCES):
                        req, tid = request(True)
                        if exchange(s, (A1, srv.port), req, tid, tries=2, wait=0.5) is None:
                            break       # stalled: the rest would only wait
                        answered += 1
                finally:
                    s.close()
                if answered < (k + 1) * (N // SOURCES):
                    break
            c.check(f"-v server: {N} requests in a row all answered", answered == N,
                    f"answered {answered}, then silence")
            rc = srv.stop(signal.SIGTERM)
            c.check("-v server: exit status 0 on SIGTERM", rc == 0, f"status {rc}")
            lines = srv.stderr().count("binding response")
            c.check(f"-v server: all {N} answers in its log", lines >= N, f"{lines} lines")
    finally:
        srv.kill()
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
