"""Both address families in one run (issue #11, client side).

Usage: python3 tests/e2e/dual_stack.py ./natcheck

Inside `unshare -n -m` (a fresh network namespace with only its loopback,
and a private mount namespace whose /etc/hosts gives one name an A and an
AAAA record), two `natcheck --serve` processes answer, one per family:
127.0.0.1,127.0.0.2 and ::1,2001:db8::2 (the documentation prefix, on lo).
Every natcheck output is held to doc/natcheck.schema.json.  Needs root,
unshare, mount and ip; otherwise skipped.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, free_udp_ports, prom_samples, promtool  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
SCHEMA = os.path.join(os.path.dirname(NATCHECK), "doc", "natcheck.schema.json")
c = Checks()

if os.geteuid() != 0 or not all(shutil.which(x) for x in ("unshare", "ip", "mount")):
    c.skip("dual stack (needs root, unshare, mount and ip)")
    c.finish()
try:
    import jsonschema
except ImportError:
    print("FAIL  python3-jsonschema is missing (Debian package python3-jsonschema)")
    sys.exit(1)
with open(SCHEMA) as f:
    validator = jsonschema.Draft202012Validator(json.load(f))

P1, P2 = free_udp_ports(2)
# Each run: a name, and natcheck's arguments (after NC, before the servers'
# words).  The script writes run NAME's stdout, stderr and status to files.
RUNS = {
    "both-literals": f"--json -t 3 127.0.0.1:{P1} [::1]:{P1}",
    "both-name": f"--json -t 3 dual.test:{P1}",
    "both-text": f"-t 3 dual.test:{P1}",
    "both-verbose": f"-v -q -t 3 dual.test:{P1}",
    "only4": f"--json -4 -t 3 dual.test:{P1}",
    "only6": f"--json -6 -t 3 dual.test:{P1}",
    "v4-literal": f"--json -t 3 127.0.0.1:{P1}",
    "v6-noroute": f"--json -t 5 noroute6.test:{P1}",
    "v6-closed": f"--json -t 3 dual.test:{P2 + 0}",
    "v4-noroute": f"--json -t 5 noroute4.test:{P1}",
    "both-prom": f"--format prometheus -t 3 dual.test:{P1}",
    "v6-closed-prom": f"--format prometheus -t 3 dual.test:{P2 + 0}",
    "nagios-ok": f"--expect open,ipv6:open -t 3 dual.test:{P1}",
    "nagios-crit6": f"--expect open,ipv6:symmetric -t 3 dual.test:{P1}",
    "nagios-unknown6": f"--expect open,ipv6:open -t 3 dual.test:{P2 + 0}",
}
HOSTS = ("127.0.0.1 localhost\n"
         "127.0.0.1 dual.test\n::1 dual.test\n"
         "127.0.0.1 noroute6.test\n2001:db8:ffff::1 noroute6.test\n"
         "198.51.100.1 noroute4.test\n2001:db8::2 noroute4.test\n")
# (Not ::1 beside an IPv4 address: glibc's files backend answers an IPv4
# lookup of a name on a "::1" line with 127.0.0.1.)

out_dir = tempfile.mkdtemp(prefix="natcheck-dual-")
hosts = os.path.join(out_dir, "hosts")
with open(hosts, "w") as f:
    f.write(HOSTS)
lines = [
    'set -u; nc=$0; dir=$1',
    'ip link set lo up || exit 99',
    'ip -6 addr add 2001:db8::2/128 dev lo nodad || exit 99',
    'mount --bind "$dir/hosts" /etc/hosts || exit 98',
    # v6-closed asks port P2 where only the IPv4 server listens: it serves
    # P2 as its primary, the IPv6 one nothing there (a closed port).
    f'"$nc" --serve 127.0.0.1,127.0.0.2 -p {P1} --alt-port {P1 + 1} 2>/dev/null & s1=$!',
    f'"$nc" --serve ::1,2001:db8::2 -p {P1} --alt-port {P1 + 1} 2>/dev/null & s2=$!',
    f'"$nc" --serve 127.0.0.1,127.0.0.2 -p {P2} --alt-port {P2 + 1} 2>/dev/null & s3=$!',
    'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do',
    f'  "$nc" -q -4 -t 1 127.0.0.1:{P1} >/dev/null 2>&1 && "$nc" -q -6 -t 1 [::1]:{P1} >/dev/null 2>&1 &&'
    f'  "$nc" -q -4 -t 1 127.0.0.1:{P2} >/dev/null 2>&1 && break; sleep 0.2; done',
]
for name, args in RUNS.items():
    lines.append(f'"$nc" {args} >"$dir/{name}.out" 2>"$dir/{name}.err"; echo $? >"$dir/{name}.rc"')
# --watch over both families: the IPv6 server stops after the first line.
lines += [
    f'"$nc" --json --watch 0.5 --count 3 -t 1 dual.test:{P1} >"$dir/watch.out" 2>"$dir/watch.err" & w=$!',
    'for i in $(seq 1 50); do [ -s "$dir/watch.out" ] && break; sleep 0.1; done',
    'kill $s2; wait $w; echo $? >"$dir/watch.rc"',
    'kill $s1 $s3',
]
p = subprocess.run(["unshare", "-n", "-m", "sh", "-c", "\n".join(lines), NATCHECK, out_dir],
                   capture_output=True, text=True, timeout=240)
if p.returncode in (98, 99):
    c.skip(f"dual stack (namespace setup failed: {p.stderr.strip()!r})")
    shutil.rmtree(out_dir, ignore_errors=True)
    c.finish()


def result(name):
    """(exit status, JSON or None, stdout, stderr) of a run."""
    def read(ext):
        try:
            with open(os.path.join(out_dir, f"{name}.{ext}")) as f:
                return f.read()
        except OSError:
            return ""
    out, err = read("out"), read("err")
    rc = int(read("rc").strip() or "-1")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    return rc, doc, out, err


def valid(name, doc):
    errs = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)] \
        if doc is not None else ["no JSON"]
    c.check(f"{name}: valid against the schema", not errs, errs[:3])


def fam(doc, k):
    return (doc or {}).get(k) or {}


# Both families by default, from two literals and from one name with A+AAAA.
for name in ("both-literals", "both-name"):
    rc, doc, out, err = result(name)
    valid(name, doc)
    v4, v6 = fam(doc, "ipv4"), fam(doc, "ipv6")
    c.check(f"{name}: both tested, each open, exit 0",
            rc == 0 and v4.get("tested") is True and v6.get("tested") is True
            and v4.get("type") == "open" and v6.get("type") == "open", (rc, out[:300], err))
    c.check(f"{name}: ipv4 from 127.0.0.1, ipv6 from [::1], each its own server",
            str(v4.get("local")).startswith("127.0.0.1:") and str(v6.get("local")).startswith("[::1]:")
            and v4.get("server") == f"127.0.0.1:{P1}" and v6.get("server") == f"[::1]:{P1}"
            and v6.get("alternate") == f"[2001:db8::2]:{P1 + 1}", (v4.get("server"), v6.get("server")))
    c.check(f"{name}: the top level is the IPv4 verdict",
            doc is not None and doc.get("local") == v4.get("local") and doc.get("tests") == v4.get("tests"),
            out[:200])
    c.check(f"{name}: each family ran its own tests (a binding each)",
            any(t["name"] == "binding" and t["result"] == "answered" for t in v4.get("tests", []))
            and any(t["name"] == "binding" and t["result"] == "answered" for t in v6.get("tests", [])),
            out[:200])

rc, doc, out, err = result("both-text")
c.check("text: a block per family, IPv4 first, exit 0",
        rc == 0 and out.startswith("IPv4\nNAT type     Open Internet\n")
        and "\n\nIPv6\nNAT type     Open Internet\n" in out and "Local        [::1]:" in out, (rc, out, err))

# In parallel, not one after the other: -v shows each family's first send
# before the other family's last decision (an order, not a timing).
rc, doc, out, err = result("both-verbose")
lines = err.splitlines()


def first(fam, word):
    return next((i for i, ln in enumerate(lines) if f" {fam} {word} " in ln), None)


def last(fam, word):
    return max((i for i, ln in enumerate(lines) if f" {fam} {word} " in ln), default=None)


order = [first("IPv4", "send"), first("IPv6", "send"), last("IPv4", "decided"), last("IPv6", "decided")]
c.check("-v: both families' engines run interleaved in one loop",
        rc == 0 and None not in order and order[0] < order[3] and order[1] < order[2],
        (order, err[:600]))
c.check("-v: the local sockets are listed per family",
        "natcheck: IPv4 local   map " in err and "natcheck: IPv6 local   map " in err, err[:400])

# -4 and -6 restrict the run; the other family says it was not asked.
rc, doc, out, err = result("only4")
valid("-4", doc)
c.check("-4: IPv4 tested, ipv6 not-asked",
        rc == 0 and fam(doc, "ipv4").get("tested") is True and fam(doc, "ipv6").get("tested") is False
        and fam(doc, "ipv6").get("reason") == "not-asked", out[:300])
rc, doc, out, err = result("only6")
valid("-6", doc)
c.check("-6: IPv6 tested and on top, ipv4 not-asked",
        rc == 0 and fam(doc, "ipv6").get("tested") is True and fam(doc, "ipv4").get("reason") == "not-asked"
        and str((doc or {}).get("local")).startswith("[::1]:"), out[:300])

# One family only: as before, plus the other's reason.
rc, doc, out, err = result("v4-literal")
valid("IPv4 literal", doc)
c.check("IPv4 literal: ipv6 no-address, with a message naming the server",
        rc == 0 and fam(doc, "ipv6").get("reason") == "no-address"
        and f"127.0.0.1:{P1}" in str(fam(doc, "ipv6").get("message")), out[-300:])

# A family without a route is reported at once, not after -t 5; the other
# one's verdict is the top level.
rc, doc, out, err = result("v6-noroute")
valid("no IPv6 route", doc)
c.check("no IPv6 route: ipv6 no-route naming the address, IPv4 open, exit 0",
        rc == 0 and doc is not None and doc.get("type") == "open"
        and fam(doc, "ipv6").get("reason") == "no-route"
        and "2001:db8:ffff::1" in str(fam(doc, "ipv6").get("message")), (rc, out[-300:], err))
# Semantic, not a timing: no test waited for -t (IPv4's all answered).
c.check("no IPv6 route: the run ended before -t: no test timed out, no timeout finding",
        doc is not None and not any(t.get("result") == "timeout" for t in doc.get("tests", []))
        and "timeout" not in [f.get("code") for f in doc.get("findings", [])],
        (doc or {}).get("tests"))
rc, doc, out, err = result("v4-noroute")
valid("no IPv4 route", doc)
c.check("no IPv4 route: ipv4 no-route, the top level is IPv6, exit 0",
        rc == 0 and fam(doc, "ipv4").get("reason") == "no-route"
        and (doc or {}).get("server") == f"[2001:db8::2]:{P1}" and fam(doc, "ipv6").get("type") == "open",
        (rc, out[-300:], err))

# The IPv6 server's port is closed, IPv4's answers: IPv6 is tested and
# unreachable, the exit status follows IPv4, and IPv6's warnings say whose.
rc, doc, out, err = result("v6-closed")
valid("IPv6 port closed", doc)
c.check("IPv6 port closed: ipv6 tested and unreachable, IPv4 open, exit 0",
        rc == 0 and doc is not None and doc.get("type") == "open"
        and fam(doc, "ipv6").get("tested") is True and fam(doc, "ipv6").get("unreachable") is True,
        (rc, out[-400:], err))
c.check("IPv6 port closed: its warnings start with 'IPv6: '",
        "natcheck: warning: IPv6: " in err and "warning: IPv4: " not in err, err)

# Prometheus: the top-level series stay IPv4's; each family has its own
# series, labelled family="ipv4" / "ipv6", judged by promtool.
for name, v6_type in (("both-prom", "open"), ("v6-closed-prom", None)):
    rc, _, out, err = result(name)
    promtool(c, name, out)
    s = prom_samples(out)
    srv = f"dual.test:{P1 if name == 'both-prom' else P2}"    # the server as given
    lab = {f: frozenset({("server", srv), ("family", f)}) for f in ("ipv4", "ipv6")}
    ones6 = [k for k, v in s.items() if ("family", "ipv6") in k[1] and v == 1]
    c.check(f"{name}: exit 0, top level and family ipv4 open",
            rc == 0 and s.get(("natcheck_nat_type", frozenset({("server", srv), ("type", "open")}))) == 1
            and s.get(("natcheck_family_nat_type", lab["ipv4"] | {("type", "open")})) == 1, (rc, out[-600:]))
    if v6_type:
        c.check(f"{name}: family ipv6 tested, open, with its own elapsed time",
                s.get(("natcheck_family_tested", lab["ipv6"])) == 1
                and s.get(("natcheck_family_nat_type", lab["ipv6"] | {("type", v6_type)})) == 1
                and ("natcheck_family_elapsed_seconds", lab["ipv6"]) in s, out[-1500:])
    else:
        c.check(f"{name}: family ipv6 unreachable: tested 0, no gauge of it 1, no elapsed",
                s.get(("natcheck_family_tested", lab["ipv6"])) == 0 and not ones6
                and ("natcheck_family_elapsed_seconds", lab["ipv6"]) not in s, (ones6, out[-1500:]))

# --expect with a family's words: each family judged, the worst state wins.
for name, want_rc, head in (("nagios-ok", 0, "NATCHECK OK - open, ipv6 open ("),
                            ("nagios-crit6", 2, "NATCHECK CRITICAL - open, ipv6 open ("),
                            ("nagios-unknown6", 3, "NATCHECK UNKNOWN - open, ipv6 could not be determined (")):
    rc, _, out, err = result(name)
    c.check(f"{name}: status {want_rc}, one plugin line naming both families",
            rc == want_rc and out.startswith(head) and out.count("\n") == 1 and " ipv6_loss=" in out,
            (rc, out, err[-200:]))
p = subprocess.run([NATCHECK, "-4", "--expect", "ipv6:open", "127.0.0.1"], capture_output=True, text=True)
c.check("-4 --expect ipv6:open: a usage error naming the conflict (a plugin's UNKNOWN, 3)",
        p.returncode == 3 and p.stdout.startswith("NATCHECK UNKNOWN - usage error: --expect: ipv6:")
        and "leaves out" in p.stderr, (p.returncode, p.stdout, p.stderr))

# --watch: a change on IPv6 alone is named "ipv6.*", the top level (IPv4)
# stays unchanged.
rc, _, out, err = result("watch")
docs = []
for ln in out.splitlines():
    try:
        docs.append(json.loads(ln))
    except ValueError:
        docs.append(None)
for i, d in enumerate(docs):
    valid(f"--watch line {i + 1}", d)
ch = [d.get("changed") if d else None for d in docs]
c.check("--watch: three lines, the first changes nothing",
        rc == 0 and len(docs) == 3 and ch[0] == [], (rc, ch, err[-300:]))
c.check("--watch: the IPv6 server stopping shows as ipv6.type, and no top-level key changes",
        len(ch) == 3 and ch[1] is not None and "ipv6.type" in ch[1]
        and not any(k in ch[1] for k in ("type", "mapping", "filtering", "mapped"))
        and not any(k.startswith("ipv4.") for k in ch[1]) and ch[2] == [], ch)

shutil.rmtree(out_dir, ignore_errors=True)
c.finish()
