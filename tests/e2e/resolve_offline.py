"""End to end: the first run offline, or with a DNS server that never answers.

Usage: python3 tests/e2e/resolve_offline.py ./natcheck

Each case runs inside `unshare -m -n`: a network namespace with only its
own loopback, and a private mount namespace in which /etc/resolv.conf and
/etc/hosts are bind-mounted over by files of the test.  So no name lookup
and no datagram can leave the machine, and the built-in list of public
servers is never contacted: its names go to the namespace's 127.0.0.1.

- A UDP sink on 127.0.0.1:53 (it reads queries and never answers): every
  name is asked at once (the first query of each name and family comes
  before any query is sent again), the run ends before its limit (the
  built-in list's resolution by 2 s, before -t), one warning per name,
  and one last line that says the built-in list was used and what to do.
- A real DNS server (dnsmasq, Debian's dnsmasq-base) on 127.0.0.1:53 that
  knows one name: the run uses it, the unknown name gets its warning.
- No route to the DNS server at all: the run ends at once.
- The progress line on a terminal covers resolution.

Durations are asserted only against the run's own limits; bench/resolve.sh
measures them.  Needs root, unshare and mount; skipped otherwise.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
HERE = os.path.dirname(os.path.abspath(__file__))
c = Checks()
BUILTIN = ["stun.hot-chilli.net", "stun.nextcloud.com", "stun.stochastix.de", "stun.sonetel.com",
           "stun.freeswitch.org", "stun.telnyx.com", "stun.m-online.net", "stun.voipgate.com"]
NEXT = "natcheck --serve 127.0.0.1,127.0.0.2 & natcheck 127.0.0.1"

if os.geteuid() != 0 or not all(shutil.which(x) for x in ("unshare", "mount", "ip")):
    print("skip  resolution offline (needs root, unshare, mount and ip)")
    c.finish()

tmp = tempfile.mkdtemp(prefix="natcheck-resolve-")


def ns(mode, cases, conf="nameserver 127.0.0.1\n", hosts="127.0.0.1 localhost\n"):
    """Run natcheck once per case (a list of argument lists, or of
    ("pty", args)) in a fresh namespace whose DNS server is `mode`
    (sink, dnsmasq, none): [(rc, stdout, stderr, seconds)] and the
    queries the sink saw, as [(name, type)] in order."""
    out = os.path.join(tmp, "out.json")
    p = subprocess.run(["unshare", "-m", "-n", sys.executable, os.path.join(HERE, "_resolve_ns.py"),
                        NATCHECK, mode, conf, hosts, json.dumps(cases), out, tmp],
                       capture_output=True, text=True, timeout=300)
    try:
        with open(out) as f:
            doc = json.load(f)
        os.unlink(out)
    except (OSError, ValueError):
        c.check(f"the namespace ran ({mode})", False, p.stdout[-500:] + p.stderr[-1500:])
        return [(None, "", "", 0.0)] * len(cases), []
    return [tuple(r) for r in doc["runs"]], [tuple(q) for q in doc["queries"]]


def lines(err):
    return [ln for ln in err.splitlines() if ln]


# 1. A DNS server that never answers: the built-in list.
runs, queries = ns("sink", [[], ["--json"], ["-v", "--no-portmap"]])
(rc, out, err, secs), (jrc, jout, jerr, jsecs), (vrc, _, verr, _) = runs
ls = lines(err)
c.check("built-in list, silent DNS: exit 1, nothing on stdout", rc == 1 and out == "", f"rc={rc} {out!r}")
c.check("built-in list, silent DNS: ended before -t (3 s), the resolution bounded by 2 s",
        secs < 3.0, f"{secs:.2f} s")
c.check("built-in list, silent DNS: one warning per name, each naming it and why",
        len(ls) == 9 and all(ls[i].startswith(f"natcheck: warning: cannot resolve {BUILTIN[i]}: "
                                              "no answer from the DNS server 127.0.0.1 in 2.0 s")
                             for i in range(8)), err)
c.check("built-in list, silent DNS: one last line, saying the built-in list was used",
        len(ls) == 9 and ls[8].startswith("natcheck: no server of the built-in list resolves (8 names)"), err)
c.check("built-in list, silent DNS: the last line says what to do next",
        len(ls) == 9 and "check the network" in ls[8] and "by its IP address" in ls[8] and NEXT in ls[8],
        err)
asked = {(n, t) for n, t in queries}
c.check("every built-in name is asked for, A and AAAA", asked == {(n, t) for n in BUILTIN for t in (1, 28)},
        sorted(asked))
first = queries[:16]
c.check("every name at the same time: the first query of each name and family comes before any is "
        "sent again", len(set(first)) == 16, first)
try:
    doc = json.loads(jout)
except ValueError:
    doc = None
c.check("--json: exit 1, an error object with the same last line",
        jrc == 1 and doc is not None and doc.get("error", "").startswith("no server of the built-in list")
        and "type" not in doc, f"rc={jrc} {jout[:300]!r}")
c.check("-v: each query is logged", "dns     send A    stun.hot-chilli.net #1 to 127.0.0.1" in verr
        and "dns     stun.voipgate.com: no answer" in verr and vrc == 1, verr[:600])

# 2. Servers given by name: bounded by -t; one name gives one line.
runs, _ = ns("sink", [["-t", "1.5", "a.test", "b.test", "c.test"], ["-t", "1", "a.test"],
                      ("pty", ["-t", "3", "a.test", "b.test"])])
(rc, out, err, secs), (rc1, out1, err1, secs1), (prc, _, ptty, _) = runs
ls = lines(err)
c.check("three names, silent DNS: exit 1, ended before -t 1.5 (and a second of grace)",
        rc == 1 and secs < 2.5, f"rc={rc} {secs:.2f} s")
c.check("three names: three warnings and one last line",
        len(ls) == 4 and all(f"warning: cannot resolve {n}: no answer from the DNS server 127.0.0.1 in 1.5 s"
                             in ls[i] for i, n in enumerate(["a.test", "b.test", "c.test"]))
        and ls[3].startswith("natcheck: none of the 3 server names resolves: check the network")
        and "built-in" not in err, err)
c.check("one name: one line, why and what to do",
        rc1 == 1 and len(lines(err1)) == 1 and err1.startswith(
            "natcheck: cannot resolve a.test: no answer from the DNS server 127.0.0.1 in 1.0 s: check the network")
        and secs1 < 2.0, f"rc={rc1} {secs1:.2f} s {err1!r}")
c.check("a terminal: the progress line covers resolution",
        b"natcheck: resolving 2 names, 2 s (at most 6 s)" in ptty.encode("latin-1") and prc == 1,
        ptty[-400:])

# 3. No route to the DNS server (offline): at once, saying so.
runs, _ = ns("none", [[], ["-t", "5", "a.test"]], conf="nameserver 192.0.2.53\n")
(rc, out, err, secs), (rc1, _, err1, secs1) = runs
ls = lines(err)
c.check("offline, built-in list: exit 1 at once, one warning per name and the last line",
        rc == 1 and secs < 1.0 and len(ls) == 9 and "DNS server 192.0.2.53: Network is unreachable" in ls[0]
        and "built-in list" in ls[8], f"rc={rc} {secs:.2f} s {err!r}")
c.check("offline, one name: exit 1 at once", rc1 == 1 and secs1 < 1.0 and "unreachable" in err1,
        f"{secs1:.2f} s {err1!r}")

# 4. A real DNS server that knows one name; the natcheck server on loopback.
if shutil.which("dnsmasq"):
    runs, queries = ns("dnsmasq", [["--json", "-t", "2", "--no-portmap", "missing.test", "stun.test:PORT"],
                                   ["-q", "-t", "2", "--no-portmap", "stun:stun.test:PORT"],
                                   ["-q", "-t", "2", "--no-portmap", "-4", "v6only.test:PORT",
                                    "stun.test:PORT"]])
    (rc, out, err, secs), (rc2, out2, err2, _), (rc3, out3, err3, _) = runs
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    c.check("dnsmasq: the name it knows is used (open, exit 0)",
            rc == 0 and doc is not None and doc["type"] == "open"
            and doc["server"].startswith("127.0.0.1:"), f"rc={rc} {out[:300]!r} {err!r}")
    c.check("dnsmasq: the unknown name is skipped with its warning",
            "warning: cannot resolve missing.test: no such name; server skipped" in err, err)
    c.check("dnsmasq: a stun: URI with a name", rc2 == 0 and out2 == "open\n", f"rc={rc2} {err2!r}")
    c.check("dnsmasq: -4 and a name with only an IPv6 address: skipped, saying so",
            rc3 == 0 and out3 == "open\n" and "cannot resolve v6only.test: no IPv4 address" in err3,
            f"rc={rc3} {err3!r}")
else:
    c.check("dnsmasq is there (Debian package dnsmasq-base)", False)

shutil.rmtree(tmp, ignore_errors=True)
c.finish()
