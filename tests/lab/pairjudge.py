"""Judge one pair of tests/lab/pair.sh: the forecast against the punch.

Usage: python3 pairjudge.py DIR PAIR_EXIT SCN_A SCN_B "TYPE MAPPING FILTERING" "TYPE MAPPING FILTERING"
                            [REPORT]

DIR holds a.json and b.json (each site's natcheck --json) and
punch-a.out and punch-b.out (punch.py's two sides).  PAIR_EXIT is
`natcheck --pair a.json b.json`'s exit status; the two quoted triples are
what each site's NAT is (scenarios.sh).  Prints one line:
  FORECAST PUNCH TRIES ok|DISAGREE [reasons]
where FORECAST is direct, predict, relay or unknown (from the exit status:
0, 20, 21, 22) and PUNCH is what the punch found (direct, predict, relay,
or inconclusive / unreadable).  They agree when they are the same word;
each site's result must also name its own NAT, or the lab is wrong.  With
REPORT, appends one JSON line per pair to it.  Exit status 0 when they
agree, 1 when not.
"""
import json
import sys

FORECAST = {"0": "direct", "20": "predict", "21": "relay", "22": "unknown"}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main():
    d, rc, scn = sys.argv[1], sys.argv[2], {"a": sys.argv[3], "b": sys.argv[4]}
    want = {"a": sys.argv[5].split(), "b": sys.argv[6].split()}
    report = sys.argv[7] if len(sys.argv) > 7 else ""
    bad = []
    facts = {}
    for s in "ab":
        doc = load(f"{d}/{s}.json")
        if not isinstance(doc, dict):
            bad.append(f"site {s}: no natcheck result")
            continue
        ports = doc.get("ports") or {}
        facts[s] = [doc.get("type"), doc.get("mapping"), doc.get("filtering"),
                    ports.get("allocation"), ports.get("delta")]
        if facts[s][:3] != want[s]:
            bad.append(f"site {s} ({scn[s]}) is {' '.join(map(str, facts[s][:3]))}, "
                       f"not {' '.join(want[s])}")
    forecast = FORECAST.get(rc, f"exit-{rc}")
    sides = [load(f"{d}/punch-{s}.out") or {} for s in "ab"]
    outcomes = {x.get("outcome") for x in sides}
    if len(outcomes) != 1 or None in outcomes:
        punch = "unreadable"
        bad.append(f"the two sides of the punch say {sorted(map(str, outcomes))}")
    else:
        punch = outcomes.pop().replace("none", "relay")
    tries = max(len(x.get("tries", [])) for x in sides)
    if punch == "inconclusive":
        bad.append(f"no try of the punch was sound in {tries} tries (a starved process?)")
    elif forecast != punch:
        bad.append(f"--pair says {forecast} (exit {rc}), the punch {punch}")
    if report:
        with open(report, "a") as f:
            f.write(json.dumps({"a": scn["a"], "b": scn["b"], "forecast": forecast,
                                "punch": punch, "tries": tries, "facts": facts,
                                "ok": not bad}) + "\n")
    print(forecast, punch, tries, "DISAGREE" if bad else "ok", "; ".join(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
