#!/usr/bin/env python3
"""bench/flood.py NATCHECK [BASELINE] - natcheck --serve under the floods of
issue 20, section 5, measured: what the tests (tests/e2e/serve_rate_bypass.py,
serve_tcp_lockout.py, serve_log_flood.py) only bound.

For each binary (and a baseline build, say one from before the fix, side
by side), BENCH_FLOOD_N repetitions (default 3) of:

  rate-victim   --rate 20: a victim (127.0.0.50) sends bursts of 40 while
                spoofed datagrams from 8192 random 127/8 sources go out
                between its bursts, for 3 s: the victim's answers, and the
                bound rate x (t + 2) + 1, t from the first request to the
                last answer (tests/e2e/serve_rate_bypass.py says why);
  rate-24       --rate 20: each of 127.0.9.1-254 sends 40: the /24's
                answers, against 8 x rate x (t + 2);
  rate-all      --rate 1: 6000 requests from random 127/8 sources: all
                answers, against 1000 x rate x (t + 2);
  tcp-lockout   RLIMIT_NOFILE leaving a table of 256; 32 addresses x 8
                connections, a request every 10 s each (and, as
                tcp-lockout-busy, every 0.5 s): how many of 3 connections
                from a fresh address are answered;
  log-flood     -v --rate 20, one TCP connection writing requests back to
                back for 3 s: the bytes and lines the server wrote.

Writes the medians and ranges, and every run, to bench/flood-results.md
(BENCH_FLOOD_OUT).  Loopback only; about 2 minutes per binary at N=3.
Python 3 standard library only; each server is ended by its PID.
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import _flood                   # noqa: E402  the floods themselves
import serve_tcp_lockout        # noqa: E402  the lockout attack
from stunlib import A1, Server  # noqa: E402


def rate_victim(nc):
    with Server(nc, rate=20) as srv:
        got, t0, t1 = _flood.victim_under_eviction((A1, srv.port), 20, 3.0)
    return got, 20 * (t1 - t0 + 2) + 1, t1 - t0


def rate_24(nc):
    with Server(nc, rate=20) as srv:
        got, t0, t1 = _flood.spread_over_24((A1, srv.port), 20)
    return got, 8 * 20 * (t1 - t0 + 2) + 1, t1 - t0


def rate_all(nc):
    with Server(nc, rate=1) as srv:
        got, t0, t1 = _flood.many_prefixes((A1, srv.port), 6000)
    return got, 1000 * (t1 - t0 + 2) + 1, t1 - t0


def lockout(nc, period):
    srv = Server(nc, preexec_fn=serve_tcp_lockout.small_nofile)
    if not srv.start():
        srv.kill()
        raise RuntimeError("server did not start")
    try:
        attack = serve_tcp_lockout.Attack([f"127.0.4.{a + 1}" for a in range(32)],
                                          (A1, srv.port), period)
        attack.fill()
        time.sleep(0.5)
        held = attack.held()
        attack.start()
        try:
            ok = serve_tcp_lockout.newcomer("127.0.5.1", (A1, srv.port), (0.5, 1.0, 1.0))
        finally:
            attack.stop()
        return ok, held
    finally:
        srv.stop()
        srv.kill()


def log_flood(nc):
    srv = Server(nc, rate=20, extra=("-v",))
    if not srv.start():
        srv.kill()
        raise RuntimeError("server did not start")
    try:
        sent = _flood.tcp_stream_flood((A1, srv.port), 3.0)
        time.sleep(0.5)
        log = srv.stderr()
        return len(log.encode()), log.count("\n"), sent
    finally:
        srv.stop()
        srv.kill()


def rng(values, fmt="{:.0f}"):
    values = sorted(values)
    return (fmt.format(statistics.median(values)) + " (" + fmt.format(values[0]) + " - "
            + fmt.format(values[-1]) + ")")


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: bench/flood.py NATCHECK [BASELINE]", file=sys.stderr)
        return 2
    n = int(os.environ.get("BENCH_FLOOD_N", "3"))
    out = os.environ.get("BENCH_FLOOD_OUT", os.path.join(HERE, "flood-results.md"))
    builds = [("natcheck", os.path.abspath(sys.argv[1]))]
    if len(sys.argv) == 3:
        builds.append(("baseline", os.path.abspath(sys.argv[2])))
    runs = []                   # (build, case, repetition, measured, bound or "", detail)
    for rep in range(1, n + 1):
        for name, nc in builds:
            print(f"-- repetition {rep}, {name}", flush=True)
            for case, fn in (("rate-victim", rate_victim), ("rate-24", rate_24),
                             ("rate-all", rate_all)):
                got, bound, span = fn(nc)
                runs.append((name, case, rep, got, bound,
                             f"{span:.2f} s from the first request to the last answer"))
                print(f"   {case}: {got} answers, bound {bound:.0f}", flush=True)
            for case, period in (("tcp-lockout", 10.0), ("tcp-lockout-busy", 0.5)):
                ok, held = lockout(nc, period)
                runs.append((name, case, rep, ok, 3, f"the attack held {held}"))
                print(f"   {case}: newcomer answered {ok} of 3 (attack held {held})",
                      flush=True)
            size, lines, sent = log_flood(nc)
            runs.append((name, "log-flood", rep, size, "", f"{lines} lines, {sent} requests"))
            print(f"   log-flood: {size} bytes, {lines} lines for {sent} requests", flush=True)

    rev = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip() or "unknown"
    units = {"rate-victim": "answers to the victim", "rate-24": "answers to the /24",
             "rate-all": "answers in all", "tcp-lockout": "newcomer answered, of 3",
             "tcp-lockout-busy": "newcomer answered, of 3", "log-flood": "bytes of log"}
    with open(out + ".tmp", "w") as f:
        f.write("# natcheck --serve under the floods of issue 20\n\n")
        f.write("Written by `bench/flood.py` (see its header).\n\n")
        f.write(f"- date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}\n")
        f.write(f"- natcheck: git {rev}, {builds[0][1]}\n")
        if len(builds) == 2:
            f.write(f"- baseline: {builds[1][1]}\n")
        f.write(f"- {n} repetitions; medians, with the range in brackets; a bound is\n"
                "  the most the limits allow in the run's own span (each build's runs\n"
                "  have theirs: see every run below)\n\n")
        f.write("| case | measured | " + " | ".join(b for b, _ in builds)
                + " | bound (natcheck's runs) |\n")
        f.write("|---|---|" + "---:|" * len(builds) + "---:|\n")
        for case in units:
            cells = []
            for b, _ in builds:
                cells.append(rng([r[3] for r in runs if r[0] == b and r[1] == case]))
            bounds = [r[4] for r in runs if r[1] == case and r[0] == "natcheck"]
            bound = rng(bounds) if bounds and bounds[0] != "" else "-"
            f.write(f"| {case} | {units[case]} | " + " | ".join(cells) + f" | {bound} |\n")
        f.write("\nEvery run:\n\n| build | case | rep | measured | bound | detail |\n")
        f.write("|---|---|---:|---:|---:|---|\n")
        for b, case, rep, got, bound, detail in runs:
            bs = f"{bound:.0f}" if bound != "" else "-"
            f.write(f"| {b} | {case} | {rep} | {got} | {bs} | {detail} |\n")
    os.replace(out + ".tmp", out)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
