#!/usr/bin/env python3
"""compare.py OLD_DIR NEW_DIR - compare two recordings of tests/golden/record.sh.

Each run's file holds its exit status and its stdout.  What varies from run
to run is masked on both sides before they are compared:
  - JSON: times and durations (keys ending in _ms, _s, _seconds, "time"),
    send and retransmission counts, and ports in "address:port" strings
    other than the lab's fixed server and gateway ports;
  - races a run may win or lose with the same verdict (RACES below);
  - text: the same in words ("12 ms", "0.3 s", ports), ISO timestamps,
    Prometheus sample values of time and count series.
Exit 0 when every run matches, 1 with a unified diff per run that does not,
2 on usage errors.  A run recorded on one side only is a difference.
"""
import difflib
import json
import os
import re
import sys

FIXED_PORTS = {"3478", "3479", "5000", "5351", "1900"}
VARY_KEYS = {"time", "sent", "retransmissions", "datagrams_sent", "datagrams_received",
             "attempts", "exchanges", "answered", "lost", "late", "checks", "range"}
VARY_SUFFIXES = ("_ms", "_s", "_seconds", "_sent", "_retransmissions")


def mask_port(m):
    return m.group(1) + (m.group(2) if m.group(2) in FIXED_PORTS else "P")


ADDR_PORT = re.compile(r"((?:\d{1,3}\.){3}\d{1,3}:|\]:)(\d{1,5})\b")


def mask_str(s):
    return ADDR_PORT.sub(mask_port, s)


# Races that a run may win or lose without a change of verdict: the TCP
# hairpin's speculative attempts (tcpprobe.h) against its confirming
# answer, and the parity of a random port allocation.
RACES = [
    (lambda d: d.get("test") == "hairpin", ("guess", "speculative", "connect_ms", "local")),
    (lambda d: d.get("allocation") == "random", ("parity",)),
]


def mask_json(v, key=""):
    if isinstance(v, dict):
        out = {k: mask_json(x, k) for k, x in v.items()}
        for when, keys in RACES:
            if when(v):
                out.update({k: "RACE" for k in keys if k in out})
        return out
    if isinstance(v, list):
        return [mask_json(x, key) for x in v]
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        if key in VARY_KEYS or key.endswith(VARY_SUFFIXES) or key.startswith("port"):
            return "N"
        return v
    if isinstance(v, str):
        if key == "time":
            return "T"
        return mask_str(v)
    return v


TEXT_RULES = [
    (re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z"), "T"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"), r"N \2"),
    (re.compile(r"(_seconds|_sent|_total|_retransmissions)(\{[^}]*\})? [0-9.e+-]+"), r"\1\2 N"),
    (re.compile(r"'(elapsed|rtt)\w*'=[0-9.]+\w*"), r"'\1'=N"),
    (re.compile(r"^(Ports +random .*)parity (kept|changed)"), r"\1parity RACE"),
    (re.compile(r"\bports \d+\.\.\d+"), "ports N..N"),
    (re.compile(r"\b(\d+) (datagrams?|retransmissions?|requests?|attempts?)\b"), r"N \2"),
]


def mask_text(line):
    line = mask_str(line)
    for rx, rep in TEXT_RULES:
        line = rx.sub(rep, line)
    return line


def normalise(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    head, body = lines[:1], lines[1:]
    text = "\n".join(body)
    try:
        doc = json.loads(text)
        return head + json.dumps(mask_json(doc), indent=1, sort_keys=True).splitlines()
    except ValueError:
        pass
    out = list(head)
    for line in body:
        try:
            doc = json.loads(line)
            out += json.dumps(mask_json(doc), indent=1, sort_keys=True).splitlines()
        except ValueError:
            out.append(mask_text(line))
    return out


def runs(d):
    return sorted(n for n in os.listdir(d) if "." not in n and os.path.isfile(os.path.join(d, n)))


def main():
    if len(sys.argv) != 3 or not all(os.path.isdir(d) for d in sys.argv[1:]):
        print("usage: compare.py OLD_DIR NEW_DIR", file=sys.stderr)
        return 2
    old, new = sys.argv[1:]
    names = sorted(set(runs(old)) | set(runs(new)))
    differ = 0
    for n in names:
        a, b = os.path.join(old, n), os.path.join(new, n)
        if not os.path.exists(a) or not os.path.exists(b):
            print(f"DIFF  {n}: recorded on one side only")
            differ += 1
            continue
        na, nb = normalise(a), normalise(b)
        if na == nb:
            print(f"same  {n}")
            continue
        differ += 1
        print(f"DIFF  {n}")
        for line in difflib.unified_diff(na, nb, "old/" + n, "new/" + n, lineterm="", n=2):
            print("      " + line)
    print(f"golden: {len(names) - differ} of {len(names)} runs the same, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
