#!/usr/bin/env python3
"""The two halves of `make bench` (bench/client.sh drives them).

  client.py run  [options]   inside the lab's client namespace: run natcheck
                             and the peers against the servers already up,
                             one JSON line per run appended to --out
  client.py report RAW MD    read the JSON lines, write the Markdown results
                             to MD, print the summary and PASS/MISS lines

Python 3 standard library only.  Every child process is bounded with a
timeout; a run that hits it counts as wrong, its time capped at the bound.
"""
import argparse
import json
import re
import statistics
import subprocess
import sys
import time

TOOLS = ("natcheck", "baseline", "stun", "natdiscovery")
# natcheck and an earlier build of it (BENCH_BASELINE), judged alike, run
# side by side in the same cells: the honest "no slower than before".
NATCHECKS = ("natcheck", "baseline")
TOOL_TITLE = {
    "natcheck": "natcheck vs natcheck --serve",
    "baseline": "an earlier natcheck (BENCH_BASELINE) vs natcheck --serve",
    "stun": "Debian stun vs stund",
    "natdiscovery": "coturn natdiscovery -m -f vs turnserver",
}
PORT_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
PORT_FIRST, PORT_LAST = 10000, 65000

FAIRNESS = """\
- Each tool asks its own server (natcheck --serve, stund, coturn); on this
  path the servers' processing time is negligible next to the delays.
- The judges differ.  natcheck must get type, mapping AND filtering right;
  the stun client only its classic name, which lumps address-dependent and
  address-and-port-dependent mapping into "Dependent Mapping" (so it is
  right on address-dependent-mapping with less information); natdiscovery
  only mapping and filtering, and it never says "no NAT": on open it
  reports a NAT with endpoint-independent mapping and filtering (its mapped
  address is compared with 0.0.0.0), which is counted as right.
- natdiscovery does not retransmit: one lost request or answer leaves a
  test unanswered, and it then reports that behaviour as unknown or wrong
  (a lost answer to a filtering test reads as a filter).  Its accuracy under loss is its design, not the
  lab; every negative costs it a fixed ~3 s receive timeout, one test
  after another, hence its seconds.  It was run with -m -f only (no -H).
- The stun client (0.97) retransmits on its own fixed schedule and takes
  about 1.1 s on any path where the round trip is small, whatever the
  answers.  Like natcheck it also looks at hairpinning (not judged for
  either); natcheck besides checks that the server honours CHANGE-REQUEST.
  Through a NAT without hairpinning, natcheck's hairpin test is among the
  last to end.
- UDP blocked can only be called when the run's cap expires: natcheck's
  default -t 3 makes it 3 s (-t 1 would make it 1 s, at the risk of
  calling a slow path blocked); the stun client gives up after ~1.1 s and
  natdiscovery after two ~3 s timeouts.
- Wall clock includes starting the process (a few ms; natdiscovery loads
  libevent and OpenSSL).  natcheck's elapsed_ms leaves that out.
- The lab's delay is constant (no jitter) and its loss independent per
  datagram (real loss comes in bursts); both directions see the same
  loss.  The router is a Linux kernel NAT, not a home router.
- The machine has 2 cores and is shared with other engineers' builds and
  lab runs (see "foreign netns" and the load average above); that adds
  noise to the times, most to the short ones."""


# ---------------------------------------------------------------- parsing

def parse_natcheck(out):
    """natcheck --json: the verdict and the numbers, or None if unreadable."""
    try:
        obj = json.loads(out)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    warnings = obj.get("warnings")
    return {
        "type": obj.get("type"),
        "mapping": obj.get("mapping"),
        "filtering": obj.get("filtering"),
        "hairpinning": obj.get("hairpinning"),
        "elapsed_ms": obj.get("elapsed_ms"),
        "datagrams_sent": obj.get("datagrams_sent"),
        "loss": obj.get("loss"),
        "warnings": warnings if isinstance(warnings, list) else [],
    }


def parse_stun(out):
    """Debian's stun client: the text after 'Primary: ', or None."""
    for line in out.splitlines():
        if line.startswith("Primary: "):
            return line[len("Primary: "):].replace("\t", " ").strip()
    return None


RFC5780_WORDS = (("Endpoint Independent", "endpoint-independent"),
                 ("Address and Port Dependent", "address-and-port-dependent"),
                 ("Address Dependent", "address-dependent"))


def _behaviour(phrase):
    for text, word in RFC5780_WORDS:      # longest phrase first
        if text in phrase:
            return word
    return "unknown"


def parse_natdiscovery(out):
    """turnutils_natdiscovery -m -f: (mapping, filtering) in natcheck's words.
    It prints 'NAT with X Mapping!' or 'No NAT! (X Mapping)', and
    'NAT with X Filtering!'; what it does not print is unknown."""
    mapping = filtering = "unknown"
    for line in out.splitlines():
        m = re.match(r"^(?:NAT with (.*) Mapping!|No NAT! \((.*) Mapping\))", line)
        if m and mapping == "unknown":
            mapping = _behaviour(m.group(1) or m.group(2))
        m = re.match(r"^NAT with (.*) Filtering", line)
        if m and filtering == "unknown":
            filtering = _behaviour(m.group(1))
    return mapping, filtering


# ---------------------------------------------------------------- run

def set_port_window(k, width):
    """Run k gets ephemeral ports no earlier run in this namespace used."""
    lo = PORT_FIRST + k * width
    with open(PORT_RANGE_FILE, "w") as f:
        f.write("%d %d\n" % (lo, lo + width - 1))
    return lo


def timed(cmd, bound_s):
    """Run cmd; (wall ms, exit code or None on timeout, stdout, stderr)."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=bound_s)
        wall = (time.monotonic() - t0) * 1000.0
        return wall, p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:    # the child is killed by now
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        return bound_s * 1000.0, None, out, err


def one_run(a, tool, lo):
    if tool in NATCHECKS:
        cmd = [a.natcheck if tool == "natcheck" else a.baseline, "--json",
               "%s:%d" % (a.server, a.nc_port)]
    elif tool == "stun":
        cmd = ["stun", "%s:%d" % (a.server, a.stund_port), "-p", str(lo)]
    else:
        cmd = ["turnutils_natdiscovery", "-m", "-f", "-p", str(a.coturn_port), a.server]
    wall, rc, out, err = timed(cmd, a.timeout)
    rec = {"kind": "run", "scenario": a.scenario, "cond": a.cond, "tool": tool,
           "wall_ms": round(wall, 1), "timeout": rc is None, "rc": rc}
    if tool in NATCHECKS:
        v = parse_natcheck(out)
        if v is None:
            rec.update(said="unreadable", right=False)
        else:
            rec.update(v)
            rec["said"] = "%s %s %s" % (v["type"], v["mapping"], v["filtering"])
            rec["right"] = (v["type"], v["mapping"], v["filtering"]) == \
                (a.want_type, a.want_mapping, a.want_filtering)
            rec["hairpin_right"] = json.dumps(v["hairpinning"]) == a.want_hairpin
    elif tool == "stun":
        line = parse_stun(out)
        rec["said"] = line if line is not None else "(no Primary: line)"
        rec["right"] = line is not None and line.startswith(a.want_stun)
    else:
        m, f = parse_natdiscovery(out)
        rec["said"] = "%s %s" % (m, f)
        rec["right"] = (m, f) == (a.want_mapping, a.want_filtering)
    if rc is None:
        rec["right"] = False
        rec["said"] = "timeout after %g s (%s)" % (a.timeout, rec.get("said"))
    if not rec["right"]:
        keep = 20000 if tool in NATCHECKS else 1500    # natcheck: the whole JSON
        rec["detail"] = (out[-keep:] + "\n--stderr--\n" + err[-500:]).strip()
    return rec


def cmd_run(argv):
    ap = argparse.ArgumentParser(prog="client.py run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--cond", required=True)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--peer-n", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--natcheck", required=True)
    ap.add_argument("--baseline", default=None)
    ap.add_argument("--server", required=True)
    ap.add_argument("--nc-port", type=int, default=3478)
    ap.add_argument("--stund-port", type=int, default=3482)
    ap.add_argument("--coturn-port", type=int, default=3480)
    ap.add_argument("--want-type", required=True)
    ap.add_argument("--want-mapping", required=True)
    ap.add_argument("--want-filtering", required=True)
    ap.add_argument("--want-hairpin", required=True)
    ap.add_argument("--want-stun", required=True)
    a = ap.parse_args(argv)
    tools = [t for t in a.tools.split(",") if t]
    if not tools or any(t not in TOOLS for t in tools):
        ap.error("--tools: a comma-separated subset of " + ",".join(TOOLS))
    if "baseline" in tools and not a.baseline:
        ap.error("--tools baseline needs --baseline NATCHECK")
    todo = {t: (a.n if t in NATCHECKS else a.peer_n) for t in tools}
    total = sum(todo.values())
    width = min(2000, (PORT_LAST - PORT_FIRST) // max(total, 1))
    if width < 16:
        ap.error("too many runs for fresh port windows (%d)" % total)

    # Round i runs each tool that still has runs left, the order rotated
    # every round so that no tool always follows the same neighbour.
    k = 0
    done = {t: [] for t in tools}
    rnd = 0
    with open(a.out, "a") as out:
        while any(len(done[t]) < todo[t] for t in tools):
            order = tools[rnd % len(tools):] + tools[:rnd % len(tools)]
            for t in order:
                if len(done[t]) >= todo[t]:
                    continue
                lo = set_port_window(k, width)
                k += 1
                rec = one_run(a, t, lo)
                rec["i"] = len(done[t])
                done[t].append(rec)
                out.write(json.dumps(rec) + "\n")
                out.flush()
            rnd += 1
    parts = []
    for t in tools:
        rs = done[t]
        parts.append("%s %d/%d med %.0f ms" % (
            t, sum(r["right"] for r in rs), len(rs),
            statistics.median([r["wall_ms"] for r in rs]) if rs else 0))
    print("   " + "; ".join(parts), flush=True)
    return 0


# ---------------------------------------------------------------- report

def median(xs):
    return statistics.median(xs) if xs else None


def pct(xs, p):
    """Nearest-rank percentile."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(1, -(-len(s) * p // 100))     # ceil(n * p / 100)
    return s[int(k) - 1]


def fms(x):
    if x is None:
        return "-"
    return "%.0f" % x


def fsec(x):
    if x is None:
        return "-"
    return "%.0f ms" % x if x < 1000 else "%.2f s" % (x / 1000.0)


def frac(right, total):
    if not total:
        return "-"
    return "%d/%d (%.0f%%)" % (right, total, 100.0 * right / total)


def norm_warning(w):
    return re.sub(r"\d+", "#", w)


def read_raw(path):
    """The raw JSON lines: (meta, cells, runs); unreadable lines are skipped."""
    meta, cells, runs = {}, [], []
    with open(path) as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            kind = rec.get("kind") if isinstance(rec, dict) else None
            if kind == "meta":
                meta.update(rec)
            elif kind == "cell":
                cells.append(rec)
            elif kind == "run":
                runs.append(rec)
    return meta, cells, runs


def machine_lines(meta):
    """The results' date, machine and commit lines (bench/lib.sh's bench_machine)."""
    return ["- date: %s" % meta.get("date", "?"),
            "- machine: %s cores, %s, kernel %s" % (meta.get("nproc", "?"), meta.get("cpu", "?"),
                                                     meta.get("kernel", "?")),
            "- natcheck commit: %s" % meta.get("commit", "?")]


def dispatch(argv, commands, doc):
    """argv[1] names one of commands (name -> function of the rest)."""
    if len(argv) >= 2 and argv[1] in commands:
        return commands[argv[1]](argv[2:])
    print(doc, file=sys.stderr)
    return 2


def cmd_report(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    raw, md_path = argv
    meta, cells, runs = read_raw(raw)
    scenarios = meta.get("scenarios", [])
    conds = meta.get("conds", [])
    cond_title = meta.get("cond_titles", {})
    tools = [t for t in TOOLS if any(r["tool"] == t for r in runs)]

    def sel(s=None, c=None, t=None):
        return [r for r in runs if (s is None or r["scenario"] == s)
                and (c is None or r["cond"] == c) and (t is None or r["tool"] == t)]

    L = []
    P = L.append
    P("# natcheck client benchmark: time to verdict and accuracy in the NAT lab")
    P("")
    P("Produced by `make bench` (bench/client.sh + bench/client.py); rewritten by every run.")
    P("")
    L.extend(machine_lines(meta))
    P("- runs per scenario and condition: natcheck N=%s (BENCH_N), each peer %s (BENCH_PEER_N)"
      % (meta.get("n", "?"), meta.get("peer_n", "?")))
    P("- command: `%s`" % meta.get("command", "?"))
    P("- run time: %s s (lab build-up and teardown included)" % meta.get("seconds", "?"))
    P("- every run bounded at %s s; a run that hits it is wrong, its time capped there"
      % meta.get("timeout", "?"))
    P("")
    P("Tools, all three servers up at once on 203.0.113.1 and 203.0.113.2 in the server")
    P("namespace, the runs of one scenario and condition interleaved:")
    P("")
    P("- natcheck: `natcheck --json 203.0.113.1:3478` against `natcheck --serve` (3478/3479);")
    P("  right = type, mapping and filtering as the lab's scenario says.")
    P("- stun: Debian's `stun 203.0.113.1:3482 -p PORT` (stun-client 0.97, RFC 3489) against")
    P("  `stund` (3482/3483); right = its `Primary:` line starts with the scenario's classic name.")
    P("- natdiscovery: coturn's `turnutils_natdiscovery -m -f -p 3480 203.0.113.1` (RFC 5780)")
    P("  against `turnserver --stun-only` on both addresses (3480/3481); right = mapping and")
    P("  filtering as the scenario says (it has no verdict for \"no NAT\": for open and the")
    P("  symmetric UDP firewall its answer is counted as it reports, endpoint-independent")
    P("  mapping; for UDP blocked, right = it names neither behaviour).")
    P("")
    P("Time = wall clock of the process, measured inside the client namespace (no `ip netns")
    P("exec` in it); natcheck's own `elapsed_ms` (first send to verdict) beside it. Each run")
    P("gets its own window of ephemeral ports (the client namespace's ip_local_port_range),")
    P("so no run meets NAT or filter state an earlier one left; the stun client gets the")
    P("window's first port with -p (left alone it draws from a small range).")
    P("")
    P("Conditions (the lab's delay line holds every frame DELAY ms each way on the")
    P("client-router wire; loss is dropped in the router, each direction independently):")
    P("")
    for c in conds:
        P("- %s: %s" % (c, cond_title.get(c, c)))
    P("")

    # ---- completeness: a cell cut short would bias every aggregate
    missing = []
    for c in conds:
        for s in scenarios:
            for t in tools:
                want = meta.get("n") if t in NATCHECKS else meta.get("peer_n")
                got = len(sel(s=s, c=c, t=t))
                if want is not None and got != want:
                    missing.append("%s, %s, %s: %d of %d runs" % (c, s, t, got, want))
    if missing:
        P("**INCOMPLETE: some cells lack runs; the aggregates below are biased.**")
        P("")
        for m in missing:
            P("- " + m)
        P("")

    # ---- summary
    P("## Summary")
    P("")
    hdr = "| condition |"
    sep = "|---|"
    for t in tools:
        hdr += " %s right | %s median |" % (t, t)
        sep += "---|---|"
    for t in tools:
        if t != "natcheck" and "natcheck" in tools:
            hdr += " natcheck/%s |" % t
            sep += "---|"
    P(hdr)
    P(sep)
    summary_rows = []
    for c in conds:
        row = "| %s |" % c
        med = {}
        for t in tools:
            rs = sel(c=c, t=t)
            med[t] = median([r["wall_ms"] for r in rs])
            row += " %s | %s |" % (frac(sum(r["right"] for r in rs), len(rs)), fsec(med[t]))
        for t in tools:
            if t != "natcheck" and "natcheck" in tools:
                if med.get(t) and med.get("natcheck") is not None:
                    row += " %.2f |" % (med["natcheck"] / med[t])
                else:
                    row += " - |"
        P(row)
        summary_rows.append(row)
    P("")
    P("Accuracy over all scenarios of the condition; median over all runs of the tool in it")
    P("(each scenario weighs the same: every tool has the same number of runs per scenario).")
    P("A ratio below 1 means natcheck reaches its verdict sooner.")
    P("")

    # ---- targets
    checks = []
    rtt100, rtt300, l10, l30 = (meta.get("target_conds", {}).get(k)
                                for k in ("rtt100", "rtt300", "loss10", "loss30"))

    def time_target(c, limit):
        if c is None or c not in conds:
            return
        for s in scenarios:
            if s == "udp-blocked":
                continue
            rs = sel(s=s, c=c, t="natcheck")
            if not rs:
                continue
            m = median([r["wall_ms"] for r in rs])
            e = median([r["elapsed_ms"] for r in rs if r.get("elapsed_ms") is not None])
            checks.append(("PASS" if m <= limit else "MISS",
                           "%s, %s: natcheck median %s <= %s (elapsed_ms median %s)"
                           % (c, s, fsec(m), fsec(limit), fsec(e))))

    def acc_target(c, want):
        if c is None or c not in conds:
            return
        rs = sel(c=c, t="natcheck")
        if not rs:
            return
        right = sum(r["right"] for r in rs)
        ok = right * 100.0 >= want * len(rs)
        checks.append(("PASS" if ok else "MISS",
                       "%s: natcheck %s right >= %g%% (all scenarios)"
                       % (c, frac(right, len(rs)), want)))

    time_target(rtt100, 500)
    time_target(rtt300, 1100)
    acc_target(l10, 99)
    acc_target(l30, 95)
    P("## Targets (natcheck)")
    P("")
    P("Time targets on the wall-clock median per scenario, UDP blocked excepted (it can only be")
    P("decided at the run's cap, 3 s by default).")
    P("")
    P("```")
    for verdict, text in checks:
        P("%s %s" % (verdict, text))
    P("```")
    P("")

    # ---- per cell
    P("## Per scenario, condition and tool")
    P("")
    P("time = wall clock; datagrams = natcheck's datagrams_sent; lossy runs = runs whose JSON")
    P("reported loss > 0; warned = runs with at least one warning.")
    P("")
    for c in conds:
        P("### %s" % c)
        P("")
        P("| scenario | tool | right | median | p95 | elapsed_ms median | datagrams median "
          "| lossy runs (median loss) | warned |")
        P("|---|---|---|---|---|---|---|---|---|")
        for s in scenarios:
            for t in tools:
                rs = sel(s=s, c=c, t=t)
                if not rs:
                    continue
                walls = [r["wall_ms"] for r in rs]
                if t in NATCHECKS:
                    el = median([r["elapsed_ms"] for r in rs if r.get("elapsed_ms") is not None])
                    dg = median([r["datagrams_sent"] for r in rs
                                 if r.get("datagrams_sent") is not None])
                    losses = [r["loss"] for r in rs if isinstance(r.get("loss"), (int, float))]
                    lossy = [x for x in losses if x > 0]
                    lossy_s = "%d (%.0f%%)" % (len(lossy), 100 * median(lossy)) if lossy else "0"
                    warned = sum(1 for r in rs if r.get("warnings"))
                    extra = "%s | %s | %s | %d" % (fms(el), fms(dg), lossy_s, warned)
                else:
                    extra = "- | - | - | -"
                P("| %s | %s | %s | %s | %s | %s |" % (
                    s, t, frac(sum(r["right"] for r in rs), len(rs)), fsec(median(walls)),
                    fsec(pct(walls, 95)), extra))
        P("")

    # ---- path checks
    if cells:
        P("## The path as built (per scenario and condition)")
        P("")
        P("50 UDP echoes 20 ms apart from the client to 203.0.113.1 (tests/lab/udpecho.py)")
        P("before the runs; round-trip loss = 1 - (1 - loss)^2. Foreign namespaces = other")
        P("people's lab namespaces present at the start (a sign of a shared, noisier machine).")
        P("")
        P("| condition | scenario | echo | foreign netns | load avg |")
        P("|---|---|---|---|---|")
        for cell in cells:
            P("| %s | %s | %s | %s | %s |" % (cell.get("cond"), cell.get("scenario"),
                                              cell.get("path", "-"), cell.get("foreign_ns", "-"),
                                              cell.get("loadavg", "-")))
        P("")

    # ---- what went wrong and what was warned
    P("## Wrong answers")
    P("")
    wrong_lines = []
    for c in conds:
        for s in scenarios:
            for t in tools:
                rs = [r for r in sel(s=s, c=c, t=t) if not r["right"]]
                if not rs:
                    continue
                said = {}
                for r in rs:
                    said[r["said"]] = said.get(r["said"], 0) + 1
                wrong_lines.append("- %s, %s, %s: %s" % (c, s, t, "; ".join(
                    "%dx %s" % (n, k) for k, n in sorted(said.items(), key=lambda kv: -kv[1]))))
    if wrong_lines:
        L.extend(wrong_lines)
    else:
        P("None.")
    P("")
    hair_wrong = [r for r in sel(t="natcheck") if r.get("hairpin_right") is False]
    P("natcheck hairpinning (not part of accuracy): %d of %d runs differ from the scenario."
      % (len(hair_wrong), len(sel(t="natcheck"))))
    P("")
    P("## natcheck warnings seen (digits as #)")
    P("")
    for c in conds:
        counts = {}
        for r in sel(c=c, t="natcheck"):
            for w in r.get("warnings") or []:
                k = norm_warning(w)
                counts[k] = counts.get(k, 0) + 1
        if not counts:
            P("- %s: none" % c)
            continue
        P("- %s:" % c)
        for k, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            P("  - %dx %s" % (n, k))
    P("")
    P("## What the numbers do not say")
    P("")
    for c in (l10, l30):
        rs = sel(c=c, t="natcheck") if c else []
        if rs:
            wrong = sum(1 for r in rs if not r["right"])
            if wrong == 0:
                P("- %s: %d of %d right; with no error seen, the 95%% upper bound on"
                  " natcheck's error rate is about 3/n = %.1f%% (rule of three), so the run"
                  " agrees with the target but cannot prove it." % (c, len(rs), len(rs),
                                                                    300.0 / len(rs)))
            else:
                P("- %s: %d wrong of %d natcheck runs." % (c, wrong, len(rs)))
    P(FAIRNESS)
    P("")

    with open(md_path, "w") as f:
        f.write("\n".join(L) + "\n")

    for m in missing:
        print("INCOMPLETE %s" % m)
    print("Summary (accuracy over all scenarios, median wall-clock time):")
    for row in summary_rows:
        print("  " + row)
    for verdict, text in checks:
        print("%s %s" % (verdict, text))
    return 0


if __name__ == "__main__":
    sys.exit(dispatch(sys.argv, {"run": cmd_run, "report": cmd_report}, __doc__))
