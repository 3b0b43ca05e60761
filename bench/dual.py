#!/usr/bin/env python3
"""The two halves of the dual-stack benchmark (bench/dual.sh drives them).

  dual.py run [options]    inside the lab's client namespace: per repetition
                           run natcheck -4, natcheck -6 and natcheck (both
                           families) once each, in an order rotated every
                           repetition; one JSON line per run appended to --out
  dual.py report RAW MD    read the JSON lines, write the Markdown results to
                           MD, print the summary; exit 1 when a run was wrong
                           or a cell is incomplete

Python 3 standard library only.  Every run is bounded by --timeout; a run
that hits it counts as wrong, its time capped at the bound.
"""
import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
import client            # noqa: E402  bench/client.py: timed runs, port windows, formats
import family            # noqa: E402  tests/lab/family.py: one family's judge

MODES = ("-4", "-6", "both")
TARGET = 1.10           # issue #11: both families in at most the slower + 10%


# ---------------------------------------------------------------- run

def want(words):
    """'TYPE MAPPING FILTERING NAT' -> a tuple for family.judge."""
    w = words.split()
    if len(w) != 4:
        raise argparse.ArgumentTypeError("want: TYPE MAPPING FILTERING NAT")
    return tuple(w)


def one_run(a, mode):
    s4, s6 = a.server4, "[%s]" % a.server6
    args = {"-4": ["-4", s4], "-6": ["-6", s6], "both": [s4, s6]}[mode]
    wall, rc, out, err = client.timed([a.natcheck, "--json"] + args, a.timeout)
    rec = {"kind": "run", "case": a.case, "cond": a.cond, "mode": mode,
           "wall_ms": round(wall, 1), "timeout": rc is None, "rc": rc}
    checks = {"-4": [("top", a.want4)], "-6": [("top", a.want6)],
              "both": [("ipv4", a.want4), ("ipv6", a.want6), ("top", a.want4)]}[mode]
    said, bad = [], []
    try:
        doc = json.loads(out)
        rec["elapsed_ms"] = doc.get("elapsed_ms")
        rec["datagrams_sent"] = doc.get("datagrams_sent")
        for key in ("ipv4", "ipv6"):
            fam = doc.get(key)
            if isinstance(fam, dict) and fam.get("tested"):
                rec[key + "_elapsed_ms"] = fam.get("elapsed_ms")
        for key, w in checks:
            s, b = family.judge(doc, rc, key, *w)
            said.append("%s: %s" % (key, s))
            bad += ["%s %s" % (key, x) for x in b]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        bad.append("unreadable: %s" % e)
    if rc is None:
        bad.append("timeout after %g s" % a.timeout)
    rec["said"] = "; ".join(said)
    rec["right"] = not bad
    if bad:
        rec["wrong"] = bad
        rec["detail"] = (out[-20000:] + "\n--stderr--\n" + err[-500:]).strip()
    return rec


def cmd_run(argv):
    ap = argparse.ArgumentParser(prog="dual.py run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--case", required=True)
    ap.add_argument("--cond", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--natcheck", required=True)
    ap.add_argument("--server4", required=True)
    ap.add_argument("--server6", required=True, help="an IPv6 address, no brackets")
    ap.add_argument("--want4", type=want, required=True)
    ap.add_argument("--want6", type=want, required=True)
    a = ap.parse_args(argv)
    total = a.n * len(MODES)
    width = min(2000, (client.PORT_LAST - client.PORT_FIRST) // max(total, 1))
    if width < 16:
        ap.error("too many runs for fresh port windows (%d)" % total)
    k = 0
    runs = {m: [] for m in MODES}
    with open(a.out, "a") as out:
        for i in range(a.n):
            # Side by side: the three runs of one repetition follow each
            # other, the order rotated so that none is always first.
            order = MODES[i % 3:] + MODES[:i % 3]
            for mode in order:
                client.set_port_window(k, width)
                k += 1
                rec = one_run(a, mode)
                rec["i"] = i
                runs[mode].append(rec)
                out.write(json.dumps(rec) + "\n")
                out.flush()
    print("   " + "; ".join("%s %d/%d med %.0f ms" % (
        m, sum(r["right"] for r in runs[m]), len(runs[m]),
        statistics.median([r["wall_ms"] for r in runs[m]])) for m in MODES), flush=True)
    return 0


# ---------------------------------------------------------------- report

def quartiles(xs):
    """(q1, median, q3) by statistics.quantiles' inclusive method."""
    if len(xs) < 2:
        return (xs[0], xs[0], xs[0]) if xs else (None, None, None)
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[1], q[2]


def spread(xs):
    """'median [q1-q3] (min-max)' in ms."""
    if not xs:
        return "-"
    q1, m, q3 = quartiles(xs)
    return "%s [%s-%s] (%s-%s)" % (client.fms(m), client.fms(q1), client.fms(q3),
                                   client.fms(min(xs)), client.fms(max(xs)))


def fratio(x):
    return "-" if x is None else "%.3f" % x


def rep_ratios(rs, field):
    """Per repetition: both / max(-4, -6), from field of the three runs."""
    by = {}
    for r in rs:
        if r.get(field) is not None:
            by.setdefault(r["i"], {})[r["mode"]] = r[field]
    out = []
    for i in sorted(by):
        t = by[i]
        if all(m in t for m in MODES) and max(t["-4"], t["-6"]) > 0:
            out.append(t["both"] / max(t["-4"], t["-6"]))
    return out


def cmd_report(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    raw, md_path = argv
    meta, cells, runs = client.read_raw(raw)
    cases = meta.get("cases", [])
    conds = meta.get("conds", [])

    def sel(case, cond, mode=None):
        return [r for r in runs if r["case"] == case and r["cond"] == cond
                and (mode is None or r["mode"] == mode)]

    L = []
    P = L.append
    P("# natcheck dual-stack benchmark: both families in one run against each alone")
    P("")
    P("Produced by `bench/dual.sh` (+ bench/dual.py, part of `make bench`); rewritten by every run.")
    P("")
    L.extend(client.machine_lines(meta))
    P("- repetitions per case and condition: N=%s (BENCH_DUAL_N)" % meta.get("n", "?"))
    if meta.get("n") is not None and meta["n"] < 15:
        P("- **fewer repetitions than the default (15): a smoke test, not a measurement**")
    P("- command: `%s`" % meta.get("command", "?"))
    P("- run time: %s s (lab build-up and teardown included)" % meta.get("seconds", "?"))
    P("- every run bounded at %s s; a run that hits it is wrong" % meta.get("timeout", "?"))
    P("")
    P("Each case is one router with a behaviour per family (tests/lab/lib6.sh: the IPv4")
    P("scenario as `table ip lab`, the IPv6 rules in `table ip6`), two `natcheck --serve`,")
    P("one per family (203.0.113.1,203.0.113.2 and 2001:db8:3::1,2001:db8:3::2). Per")
    P("repetition, one after another in an order rotated every repetition:")
    P("")
    P("- `-4`: `natcheck --json -4 203.0.113.1`, right = the IPv4 verdict and exit status;")
    P("- `-6`: `natcheck --json -6 [2001:db8:3::1]`, right = the IPv6 verdict and exit status;")
    P("- `both`: `natcheck --json 203.0.113.1 [2001:db8:3::1]` (what a server with an A and")
    P("  an AAAA record gives), right = the `ipv4` and `ipv6` objects, and the top level")
    P("  and exit status IPv4's.")
    P("")
    P("Right = type, mapping, filtering and (where the case says) nat as the lab sets them")
    P("(tests/lab/family.py). The port-mapping probes run as users run them (no")
    P("`--no-portmap`); the lab's router answers none of them. Time = wall clock of the")
    P("process inside the client namespace; each run gets its own window of ephemeral ports,")
    P("so no run meets NAT or filter state an earlier one left. Ratio target (issue #11):")
    P("both <= %.2f x the slower family alone, taken two ways: from the medians," % TARGET)
    P("median(both) / max(median(-4), median(-6)), and per repetition, both / max(-4, -6)")
    P("of its three side-by-side runs (median and range).")
    P("")
    for c in conds:
        P("- %s: %s" % (c, meta.get("cond_titles", {}).get(c, c)))
    P("")
    P("Cases (IPv4 scenario + IPv6 rules, and what each family must be):")
    P("")
    for c in cases:
        d = meta.get("case_info", {}).get(c, {})
        P("- %s: IPv4 %s, must be %s; IPv6 %s, must be %s" % (
            c, d.get("scn", "?"), d.get("want4", "?"), d.get("v6", "?"), d.get("want6", "?")))
    P("")

    missing, wrong, checks, rows = [], [], [], []
    n = meta.get("n")
    for cond in conds:
        for case in cases:
            for m in MODES:
                got = len(sel(case, cond, m))
                if n is not None and got != n:
                    missing.append("%s, %s, %s: %d of %d runs" % (cond, case, m, got, n))
            for r in sel(case, cond):
                if not r["right"]:
                    wrong.append("- %s, %s, %s #%d: %s" % (cond, case, r["mode"], r["i"],
                                                         "; ".join(r.get("wrong", []))))
    if missing:
        P("**INCOMPLETE: some cells lack runs; the figures below are biased.**")
        P("")
        L.extend("- " + x for x in missing)
        P("")

    P("## Summary")
    P("")
    P("| condition | case | right | -4 | -6 | both | both / slower (medians) "
      "| both / slower per repetition | target |")
    P("|---|---|---|---|---|---|---|---|---|")
    for cond in conds:
        for case in cases:
            rs = sel(case, cond)
            if not rs:
                continue
            walls = {m: [r["wall_ms"] for r in rs if r["mode"] == m] for m in MODES}
            med = {m: client.median(walls[m]) for m in MODES}
            slower = max(med["-4"] or 0, med["-6"] or 0)
            ratio = med["both"] / slower if slower and med["both"] is not None else None
            per = rep_ratios(rs, "wall_ms")
            per_s = "%s (%s-%s)" % (fratio(client.median(per)), fratio(min(per)),
                                    fratio(max(per))) if per else "-"
            ok = ratio is not None and ratio <= TARGET
            row = "| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                cond, case, client.frac(sum(r["right"] for r in rs), len(rs)),
                spread(walls["-4"]), spread(walls["-6"]), spread(walls["both"]),
                fratio(ratio), per_s, "PASS" if ok else "MISS")
            P(row)
            rows.append(row)
            checks.append(("PASS" if ok else "MISS",
                           "%s, %s: both %s ms / slower family %s ms = %s <= %.2f "
                           "(per repetition: median %s)" % (
                               cond, case, client.fms(med["both"]), client.fms(slower),
                               fratio(ratio), TARGET, fratio(client.median(per)))))
    P("")
    P("Times in ms: median [quartiles] (min-max) over the repetitions; right counts all")
    P("three modes' runs.")
    P("")

    P("## natcheck's own clock")
    P("")
    P("`elapsed_ms` (first send to verdict, no process start), per family: in the `both`")
    P("run each family's object has its own. Medians (min-max).")
    P("")
    P("| condition | case | -4 | -6 | both: ipv4 | both: ipv6 | both / slower per repetition "
      "| datagrams -4 / -6 / both |")
    P("|---|---|---|---|---|---|---|---|")

    def mm(xs):
        xs = [x for x in xs if x is not None]
        if not xs:
            return "-"
        return "%s (%s-%s)" % (client.fms(client.median(xs)), client.fms(min(xs)),
                               client.fms(max(xs)))
    for cond in conds:
        for case in cases:
            rs = sel(case, cond)
            if not rs:
                continue

            def field(m, f):
                return [r.get(f) for r in rs if r["mode"] == m]
            # In a -4 or -6 run the one family's elapsed_ms is the top level's.
            per = rep_ratios([dict(r, run_ms=max(r.get("ipv4_elapsed_ms") or 0,
                                                  r.get("ipv6_elapsed_ms") or 0)
                                   if r["mode"] == "both" else r.get("elapsed_ms"))
                              for r in rs], "run_ms")
            dg = "/".join(client.fms(client.median([x for x in field(m, "datagrams_sent")
                                                     if x is not None]))
                          for m in MODES)
            P("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                cond, case, mm(field("-4", "elapsed_ms")), mm(field("-6", "elapsed_ms")),
                mm(field("both", "ipv4_elapsed_ms")), mm(field("both", "ipv6_elapsed_ms")),
                "%s (%s-%s)" % (fratio(client.median(per)), fratio(min(per)), fratio(max(per)))
                if per else "-", dg))
    P("")
    P("The top-level `elapsed_ms` of a `both` run is IPv4's alone (the top level describes")
    P("IPv4), so the per-repetition ratio here uses the slower family's.  `datagrams_sent`")
    P("of a `both` run is, likewise, the top level's (IPv4's) count.")
    P("")

    if cells:
        P("## The path as built")
        P("")
        P("50 UDP echoes 20 ms apart per family from the client (tests/lab/udpecho.py)")
        P("before the runs. Foreign namespaces = other people's lab namespaces present at the")
        P("start (a sign of a shared, noisier machine). Server drops = requests the two")
        P("servers (`--rate 0`) left unanswered, rate-limited or not sent, by their counters.")
        P("")
        P("| condition | case | IPv4 echo | IPv6 echo | foreign netns | load avg | server drops |")
        P("|---|---|---|---|---|---|---|")
        for cell in cells:
            P("| %s | %s | %s | %s | %s | %s | %s |" % (
                cell.get("cond"), cell.get("case"), cell.get("path4", "-"),
                cell.get("path6", "-"), cell.get("foreign_ns", "-"), cell.get("loadavg", "-"),
                cell.get("server_dropped", "-")))
        P("")

    P("## Wrong answers")
    P("")
    if wrong:
        L.extend(wrong)
    else:
        P("None (0 wrong of %d runs)." % len(runs))
    P("")
    P("## What the numbers do not say")
    P("")
    P("- The three runs of a repetition are not simultaneous: they follow each other within")
    P("  about a second, so a burst of load from other jobs can hit one and not the others;")
    P("  the per-repetition range shows how much.  The machine is shared (2 cores, see the")
    P("  foreign namespaces and load average above).")
    P("- The lab's delay is constant and the same for both families (one delay line on the")
    P("  client's wire carries both); on a real path the families' round trips differ, and")
    P("  then `both` ends with the slower family, which this lab does not show.")
    P("- The port-mapping probes (UPnP, NAT-PMP, PCP) go to the top-level family's gateway")
    P("  only; the lab's router stays silent, so they end after their own short wait.")
    P("")

    with open(md_path, "w") as f:
        f.write("\n".join(L) + "\n")
    for m in missing:
        print("INCOMPLETE %s" % m)
    for w in wrong:
        print("WRONG %s" % w[2:])
    for verdict, text in checks:
        print("%s %s" % (verdict, text))
    return 1 if wrong or missing else 0


if __name__ == "__main__":
    sys.exit(client.dispatch(sys.argv, {"run": cmd_run, "report": cmd_report}, __doc__))
