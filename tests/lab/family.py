#!/usr/bin/env python3
"""Check one address family of a natcheck --json run against the lab's truth.

  family.py JSON_FILE EXIT_CODE KEY TYPE MAPPING FILTERING NAT [LOCAL_IP]

KEY is ipv4 or ipv6 (that family's object) or top (the top-level keys,
which must then also give EXIT_CODE); NAT is true, false or null; LOCAL_IP,
when given, is the IP address "local" must have.  A family
must have been tested.  Prints what natcheck said on one line, then one
line per mismatch; exits 0 when everything matches, 1 when not, 2 when
the output cannot be read.  bench/dual.py imports judge().
"""
import json
import sys

EXIT_CODES = {"open": 0, "full-cone": 10, "restricted-cone": 11, "port-restricted-cone": 12,
              "symmetric": 13, "symmetric-udp-firewall": 14, "udp-blocked": 15, "unknown": 16}


def judge(doc, rc, key, typ, mapping, filtering, nat, local_ip=None):
    """(what natcheck said, [mismatches]) for one family of the parsed
    JSON doc; raises KeyError or TypeError when doc lacks the family."""
    obj = doc if key == "top" else doc[key]
    if not isinstance(obj, dict):
        raise TypeError(f"{key} is not an object")
    nat_word = {True: "true", False: "false", None: "null"}.get(obj.get("nat"), "absent")
    said = " ".join(str(x) for x in (obj.get("type"), obj.get("mapping"), obj.get("filtering"),
                                     f"nat={nat_word}", obj.get("local"), obj.get("mapped")))
    bad = []
    if key != "top" and obj.get("tested") is not True:
        bad.append(f"{key} not tested: {obj.get('reason')}: {obj.get('message')}")
    for k, want in (("type", typ), ("mapping", mapping), ("filtering", filtering)):
        if obj.get(k) != want:
            bad.append(f"{k}: {obj.get(k)} (want {want})")
    if nat_word != nat:
        bad.append(f"nat: {nat_word} (want {nat})")
    if local_ip is not None and not str(obj.get("local")).startswith(f"[{local_ip}]:"):
        bad.append(f"local: {obj.get('local')} (want [{local_ip}]:port)")
    if key == "top" and (rc is None or int(rc) != EXIT_CODES.get(typ) or doc.get("exit") != int(rc)):
        bad.append(f"exit status {rc}, JSON exit {doc.get('exit')} (want {EXIT_CODES.get(typ)})")
    return said, bad


def main(argv):
    if len(argv) not in (8, 9):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    path, rc, key, typ, mapping, filtering, nat = argv[1:8]
    local_ip = argv[8] if len(argv) == 9 else None
    try:
        with open(path) as f:
            doc = json.load(f)
        said, bad = judge(doc, rc, key, typ, mapping, filtering, nat, local_ip)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"unreadable: {e}")
        return 2
    print(said)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
