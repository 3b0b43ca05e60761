"""tests/lab/jsonl.py SCHEMA FILE - check natcheck's JSON Lines.

Every line of FILE must be one JSON object valid against SCHEMA (Debian's
python3-jsonschema); prints one line per object, "TYPE EXIT CHANGED"
(CHANGED the "changed" keys joined by commas, "-" when none).  Exit 1 and
a line naming the first bad line when one is not valid.
"""
import json
import signal
import sys

import jsonschema

# A reader that has seen enough (head, grep -q) just ends the output.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
with open(sys.argv[1]) as f:
    validator = jsonschema.Draft202012Validator(json.load(f))
with open(sys.argv[2]) as f:
    lines = f.read().splitlines()
for n, line in enumerate(lines, 1):
    try:
        doc = json.loads(line)
    except ValueError as e:
        print(f"line {n}: not JSON: {e}: {line[:200]!r}")
        sys.exit(1)
    errs = [e.message for e in validator.iter_errors(doc)]
    if errs:
        print(f"line {n}: not valid: {errs[:3]}")
        sys.exit(1)
    print(doc.get("type", "error"), doc["exit"], ",".join(doc.get("changed", [])) or "-")
