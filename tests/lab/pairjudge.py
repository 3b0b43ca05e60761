"""Judge tests/lab/pair.sh's pairs: the forecast against the punch.

Usage: python3 pairjudge.py [--report FILE] RESDIR TYPE...

For every unordered pair of the TYPEs (the scenarios, in order, each with
itself too), RESDIR/A+B/ holds what pair.sh left there:
  want          two lines "a|b TYPE MAPPING FILTERING": each site's NAT
                (scenarios.sh)
  a.json b.json each site's natcheck --json result
  pair.rc       the exit status of natcheck --pair a.json b.json
  punch-a.out punch-b.out   punch.py's two sides
  seconds       how long the pair took
The forecast is direct, predict, relay or unknown (exit 0, 20, 21, 22);
the punch direct, predict or relay (punch.py's "none"), or inconclusive
when no try of a mode was sound.  They agree when they are the same word;
each site's result must also name its own NAT (type, mapping, filtering),
or the lab is wrong.  Prints a line per pair, then the matrix; with
--report, appends one JSON line per pair to FILE.  Exit status 0 when
every pair agrees, 1 when not.
"""
import json
import sys

FORECAST = {"0": "direct", "20": "predict", "21": "relay", "22": "unknown"}
SHORT = {"full-cone": "full", "restricted-cone": "restr", "port-restricted-cone": "port-restr",
         "symmetric": "sym-rand", "symmetric-sequential": "sym-seq",
         "address-dependent-mapping": "adm", "symmetric-udp-firewall": "firewall",
         "udp-blocked": "blocked"}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def judge(d):
    """(forecast, punch, tries, [what is wrong]) of the pair in directory d."""
    bad = []
    want = {}
    for line in read(f"{d}/want").splitlines():
        site, *nat = line.split()
        want[site] = nat
    for s in "ab":
        doc = load(f"{d}/{s}.json")
        if not isinstance(doc, dict):
            bad.append(f"site {s}: no natcheck result")
            continue
        said = [doc.get("type"), doc.get("mapping"), doc.get("filtering")]
        if said != want.get(s):
            bad.append(f"site {s} is {' '.join(map(str, said))}, "
                       f"not {' '.join(want.get(s, ['?']))}")
    rc = read(f"{d}/pair.rc", "?")
    forecast = FORECAST.get(rc, f"exit-{rc}")
    sides = [load(f"{d}/punch-{s}.out") or {} for s in "ab"]
    outcomes = {x.get("outcome") for x in sides}
    tries = max(len(x.get("tries", [])) for x in sides)
    if len(outcomes) != 1 or None in outcomes:
        punch = "unreadable"
        bad.append(f"the punch's two sides say {sorted(map(str, outcomes))}")
    else:
        punch = outcomes.pop().replace("none", "relay")
    if punch == "inconclusive":
        bad.append(f"no try of the punch was sound in {tries} (a starved process?)")
    elif punch != "unreadable" and forecast != punch:
        bad.append(f"--pair says {forecast} (exit {rc}), the punch {punch}")
    return forecast, punch, tries, bad


def main():
    args = sys.argv[1:]
    report = None
    if args[:1] == ["--report"]:
        report, args = args[1], args[2:]
    res, types = args[0], args[1:]
    cells, failed, n = {}, 0, 0
    print("Pairs (site a x site b: forecast, punch, tries, seconds):")
    for i, a in enumerate(types):
        for b in types[i:]:
            d = f"{res}/{a}+{b}"
            forecast, punch, tries, bad = judge(d)
            n += 1
            secs = read(f"{d}/seconds", "?")
            name = f"{a} x {b}"
            if bad:
                failed += 1
                cells[a, b] = f"{forecast}/{punch}*"
                print(f"FAIL  {name:52} {'; '.join(bad)}")
            else:
                cells[a, b] = punch
                print(f"ok    {name:52} {forecast}, {punch}, {tries}, {secs} s")
            if report:
                with open(report, "a") as f:
                    f.write(json.dumps({"a": a, "b": b, "forecast": forecast, "punch": punch,
                                        "tries": tries, "ok": not bad}) + "\n")
    print()
    print("Matrix (the punch's outcome; forecast/punch* where --pair said otherwise):")
    print(" " * 28 + "".join(f" {SHORT.get(t, t):10}" for t in types))
    for i, a in enumerate(types):
        row = [" " * 10 if k < i else f"{cells.get((a, b), '-'):10}" for k, b in enumerate(types)]
        print(f"{a:28}" + "".join(" " + c for c in row))
    print(f"{n - failed} agree, {failed} disagree")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
