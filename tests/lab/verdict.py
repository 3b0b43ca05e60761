#!/usr/bin/env python3
"""Check one natcheck run against the verdict the NAT lab expects.

  verdict.py json|text OUTPUT_FILE EXIT_CODE TYPE MAPPING FILTERING HAIRPIN
  verdict.py tests JSON_FILE      one line per test: name, result, sends, source

TYPE, MAPPING and FILTERING are natcheck's JSON words, HAIRPIN is
true, false or null.  Prints what natcheck said on one line
("TYPE MAPPING FILTERING HAIRPIN"), then one line per mismatch; exits 0
when everything matches, 1 when not, 2 when the output cannot be read.
"""
import json
import re
import sys

EXIT_CODES = {
    "open": 0,
    "full-cone": 10,
    "restricted-cone": 11,
    "port-restricted-cone": 12,
    "symmetric": 13,
    "symmetric-udp-firewall": 14,
    "udp-blocked": 15,
    "unknown": 16,
}
# The text report's "NAT type" line: the RFC 3489 names (natcheck(1), OUTPUT).
LABELS = {
    "Open Internet": "open",
    "Full Cone": "full-cone",
    "Restricted Cone": "restricted-cone",
    "Port Restricted Cone": "port-restricted-cone",
    "Symmetric": "symmetric",
    "Symmetric UDP Firewall": "symmetric-udp-firewall",
    "UDP Blocked": "udp-blocked",
    "Unknown": "unknown",
}
BEHAVIOURS = ("endpoint-independent", "address-dependent",
              "address-and-port-dependent", "unknown")
# Keys every --json object carries (the interface natcheck promises).
JSON_KEYS = ("type", "mapping", "filtering", "hairpinning", "local", "mapped",
             "server", "alternate", "tests", "elapsed_ms", "warnings")


def hair_word(v):
    return {True: "true", False: "false", None: "null"}.get(v, repr(v))


def from_json(text):
    obj = json.loads(text)
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    missing = [k for k in JSON_KEYS if k not in obj]
    problems = ["JSON lacks key %r" % k for k in missing]
    if not isinstance(obj.get("tests"), list):
        problems.append("JSON 'tests' is not a list")
    if not isinstance(obj.get("warnings"), list):
        problems.append("JSON 'warnings' is not a list")
    return (obj.get("type"), obj.get("mapping"), obj.get("filtering"),
            hair_word(obj.get("hairpinning", "absent"))), problems


def from_text(text, rc):
    """The text report: 'Label<spaces>value' lines; the type is the printed
    name on the "NAT type" line, which the exit code must agree with."""
    got = {}
    for line in text.splitlines():
        m = re.match(r"^(NAT type|Mapping|Filtering|Hairpinning)\s+(\S.*)$", line)
        if m and m.group(1) not in got:     # the top-level family's block comes first
            got[m.group(1)] = m.group(2).strip()
    problems = ["text report lacks a %r line" % k
                for k in ("NAT type", "Mapping", "Filtering", "Hairpinning") if k not in got]
    label = got.get("NAT type")
    t = LABELS.get(label, "label-%r" % label)
    if t in EXIT_CODES and EXIT_CODES[t] != rc:
        problems.append("exit code %d does not match the printed type %r (want %d)"
                        % (rc, label, EXIT_CODES[t]))
    # "unknown" and "not applicable (no NAT)" are both JSON's null.
    h = got.get("Hairpinning") or ""
    hair = {"yes": "true", "no": "false"}.get(h, "null" if h.startswith(("unknown",
                                                                       "not applicable")) else h)
    return (t, got.get("Mapping"), got.get("Filtering"), hair), problems


def show_tests(path):
    """For failure reports: what each test did, compactly."""
    with open(path, encoding="utf-8", errors="replace") as f:
        try:
            obj = json.load(f)
        except ValueError as e:
            print("  (not JSON: %s)" % e)
            return 2
    for t in obj.get("tests") or []:
        if isinstance(t, dict):
            print("  %-22s %-14s sent %-3s mapped %-22s from %s" % (
                t.get("name"), t.get("result"), t.get("sent"), t.get("mapped"), t.get("from")))
    for w in obj.get("warnings") or []:
        print("  warning: %s" % w)
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "tests":
        return show_tests(argv[2])
    if len(argv) != 8 or argv[1] not in ("json", "text"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, path, rc = argv[1], argv[2], int(argv[3])
    want = tuple(argv[4:8])
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        got, problems = from_json(text) if mode == "json" else from_text(text, rc)
    except ValueError as e:       # json.JSONDecodeError is a ValueError
        print("unreadable")
        print("output is not valid JSON: %s" % e)
        return 2
    print(" ".join(str(g) for g in got))
    names = ("type", "mapping", "filtering", "hairpinning")
    for name, g, w in zip(names, got, want):
        if g != w:
            problems.append("%s: got %s, want %s" % (name, g, w))
    if got[1] not in BEHAVIOURS or got[2] not in BEHAVIOURS:
        problems.append("mapping/filtering word outside the interface")
    if mode == "json" and EXIT_CODES.get(got[0]) != rc:
        problems.append("exit code %d does not match type %s (want %s)"
                        % (rc, got[0], EXIT_CODES.get(got[0])))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
