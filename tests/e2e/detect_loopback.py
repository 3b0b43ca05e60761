"""End to end: natcheck against its own server on loopback, and its error paths.

Usage: python3 tests/e2e/detect_loopback.py ./natcheck

Only 127.0.0.0/8 is contacted.  The cases that need a name lookup or a
missing address family run inside `unshare -n` (a network namespace with
nothing in it, root only), so no packet can leave the machine; without root
they are reported as skipped.
"""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, Server, free_udp_ports, parse_attrs, run, xor_mapped  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
c = Checks()


def jrun(args, timeout=30):
    rc, out, err, secs = run([NATCHECK, "--json", *args], timeout)
    try:
        doc = json.loads(out)
    except ValueError as e:
        doc = None
        print(f"      (stdout was not one JSON object: {e}: {out!r})")
    return rc, doc, err, secs


def ns_json(script):
    """Run a sh script in a fresh network namespace ($0 is natcheck);
    (rc, its JSON or None, stdout, stderr)."""
    rc, out, err, _ = run(["unshare", "-n", "sh", "-c", script, NATCHECK])
    try:
        return rc, json.loads(out), out, err
    except ValueError:
        return rc, None, out, err


def started(doc):
    """The tests of a run that were sent (not 'not-run')."""
    return [t for t in doc["tests"] if t["result"] != "not-run"]


def one_line(err):
    return len(err.strip().splitlines()) == 1 and err.startswith("natcheck: ")


class FakeServer:
    """A misbehaving server on 127.0.0.1: `mode` is 'garbage' or 'partial'."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", free_udp_ports(1)[0]))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) < 20:
                continue
            if self.mode == "garbage":
                # Looks like a STUN response with our transaction ID, but the
                # attribute claims more bytes than the datagram holds.
                body = struct.pack("!HH", 0x0020, 200) + b"\x00\x01\x00\x00"
                self.sock.sendto(struct.pack("!HH", 0x0101, len(body)) + data[4:20] + body, peer)
            elif self.mode == "partial":
                # A plain RFC 8489 server: answers, but has no alternate
                # address and silently ignores CHANGE-REQUEST.
                if any(t == 0x0003 for t, _ in parse_attrs(data)):
                    continue
                body = xor_mapped(peer[0], peer[1])
                self.sock.sendto(struct.pack("!HH", 0x0101, len(body)) + data[4:20] + body, peer)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def man_rendered():
    """man/natcheck.1 rendered as plain text by mandoc."""
    man = os.path.join(os.path.dirname(NATCHECK), "man", "natcheck.1")
    text = subprocess.run(["mandoc", "-Tascii", man], capture_output=True, text=True).stdout
    return re.sub(r".\x08", "", text)


def synopsis_from_man():
    """The SYNOPSIS of the manual, whitespace folded."""
    part = man_rendered().split("SYNOPSIS", 1)[1].split("DESCRIPTION", 1)[0]
    return " ".join(part.split())


with Server(NATCHECK) as srv:
    target = f"127.0.0.1:{srv.port}"

    rc, out, err, secs = run([NATCHECK, target])
    c.check("text: Open Internet, exit 0", rc == 0 and "Open Internet" in out, f"rc={rc} out={out!r} err={err!r}")
    c.check("text: alternate address shown",
            f"127.0.0.2:{srv.alt_port}" in out, out)

    rc, doc, err, secs = jrun([target])
    ok = doc is not None
    c.check("json: one object, exit 0", ok and rc == 0, f"rc={rc} err={err!r}")
    if ok:
        c.check("json: type open", doc["type"] == "open", doc["type"])
        c.check("json: nat false", doc["nat"] is False)
        c.check("json: mapping endpoint-independent", doc["mapping"] == "endpoint-independent", doc["mapping"])
        c.check("json: filtering endpoint-independent", doc["filtering"] == "endpoint-independent", doc["filtering"])
        c.check("json: hairpinning null without a NAT", doc["hairpinning"] is None, doc["hairpinning"])
        c.check("json: local equals mapped, on 127.0.0.1",
                doc["local"] == doc["mapped"] and doc["local"].startswith("127.0.0.1:"), (doc["local"], doc["mapped"]))
        c.check("json: server and alternate",
                doc["server"] == target and doc["alternate"] == f"127.0.0.2:{srv.alt_port}",
                (doc["server"], doc["alternate"]))
        names = {t["name"] for t in doc["tests"]}
        c.check("json: tests carry name, result, rtt, retransmissions",
                all({"name", "result", "rtt_ms", "retransmissions"} <= set(t) for t in doc["tests"])
                and "binding" in names, doc["tests"])
        c.check("json: the answer names its alternate: no ask-other-address",
                "ask-other-address" not in names, names)
        c.check("json: every test answered", all(t["result"] == "answered" for t in doc["tests"]
                                                  if t["result"] != "not-run"), doc["tests"])
        c.check("json: elapsed_ms and warnings", isinstance(doc["elapsed_ms"], int)
                and isinstance(doc["warnings"], list) and doc["warnings"] == [], (doc["elapsed_ms"], doc["warnings"]))

    rc, out, err, _ = run([NATCHECK, "-q", target])
    c.check("-q: the verdict word only", rc == 0 and out == "open\n", repr(out))

    # Fresh ports every run: the same verdict, different local ports.
    _, d1, _, _ = jrun([target])
    _, d2, _, _ = jrun([target])
    c.check("two runs: same verdict, fresh local ports",
            d1 and d2 and d1["type"] == d2["type"] == "open" and d1["local"] != d2["local"],
            (d1 and d1["local"], d2 and d2["local"]))

    # -b pins the mapping socket's port, run after run, and the result says
    # so (the classifier turns cfg.pinned_port into a finding: on stderr,
    # and in the JSON's findings or warnings).
    pin = free_udp_ports(1)[0]
    for i in (1, 2):
        rc, doc, err, _ = jrun(["-b", f"127.0.0.1:{pin}", target])
        notes = json.dumps((doc or {}).get("findings", [])) + json.dumps((doc or {}).get("warnings", []))
        c.check(f"-b run {i}: pinned port used, said on stderr and in JSON",
                doc is not None and doc["local"] == f"127.0.0.1:{pin}" and "pinned" in err
                and "pinned" in notes and doc["type"] == "open",
                f"rc={rc} err={err!r}")

    # nc's form: the port as its own word after the server.
    rc, out, err, _ = run([NATCHECK, "-q", "127.0.0.1", str(srv.port)])
    c.check("'natcheck 127.0.0.1 PORT': the word is the port, open, exit 0",
            rc == 0 and out == "open\n", f"rc={rc} out={out!r} err={err!r}")

    # A closed first server, then a working one: the second gives the verdict.
    closed = free_udp_ports(1)[0]
    rc, doc, err, _ = jrun([f"127.0.0.1:{closed}", target])
    c.check("closed first server + working second: verdict from the second",
            rc == 0 and doc is not None and doc["type"] == "open" and doc["server"] == target,
            f"rc={rc} err={err!r} doc={doc}")
    if doc is not None:
        first = [t for t in doc["tests"] if t["name"] == "binding"]
        c.check("closed first server: its binding is 'unreachable', not a timeout",
                first and first[0]["destination"] == f"127.0.0.1:{closed}"
                and first[0]["result"] == "unreachable", first)

    # -v names every local socket before the first send.
    rc, out, err, _ = run([NATCHECK, "-q", "-v", target])
    names = re.findall(r"^natcheck: local +(\w+) +socket 127\.0\.0\.1:(\d+)$", err, re.M)
    first_send = err.find(" send ")
    c.check("-v: the four local sockets and their ports, before the first send",
            [n for n, _ in names] == ["map", "filter", "hairpin", "filter2"]
            and all(int(p) > 0 for _, p in names) and len({p for _, p in names}) == 4
            and 0 <= err.find("local") < first_send, err[:400])

    rc, doc, err, _ = jrun(["--rfc3489-timing", target])
    c.check("--rfc3489-timing: same verdict", doc is not None and doc["type"] == "open", err)

    rc, doc, err, _ = jrun(["-v", target])
    c.check("-v: one stderr line per send and answer",
            doc is not None and "send    binding" in err and "answer  binding" in err and "rtt" in err, err[:500])

    rc = srv.stop()
    c.check("server stops cleanly on SIGTERM", rc == 0, f"rc={rc}")

# A server with one address (natcheck --serve 127.0.0.1, and ::1, the only
# IPv6 loopback address) names its other port, same IP, as OTHER-ADDRESS
# and cannot answer a change of IP.  natcheck uses it for what a change of
# port shows and says what stays open: unknown, exit 16, the mapping kept
# towards the other port and a reply from it let in - not a guess.
def have_ipv6_loopback():
    try:
        t = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        t.bind(("::1", 0))
        t.close()
        return True
    except OSError:
        return False


def one_address(host, fam):
    """natcheck against `natcheck --serve HOST --rate 0` (one address)."""
    p1 = free_udp_ports(2)
    ep = f"[{host}]:{p1[0]}" if ":" in host else f"{host}:{p1[0]}"
    alt = f"[{host}]:{p1[1]}" if ":" in host else f"{host}:{p1[1]}"
    srv1 = subprocess.Popen([NATCHECK, "--serve", host, "--rate", "0", "-p", str(p1[0]),
                             "--alt-port", str(p1[1])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tag = f"IPv{fam}"
    try:
        ready = False
        for _ in range(50):
            rc, doc, err, _ = jrun([f"-{fam}", "-t", "1", ep])
            if doc and doc["mapped"]:
                ready = True
                break
        c.check(f"{tag}: one-address server, local and mapped alike, no NAT",
                ready and doc["server"] == ep and doc["local"] == doc["mapped"]
                and doc["nat"] is False, doc)
        codes = [f["code"] for f in doc["findings"]] if ready else []
        res = {t["name"]: t["result"] for t in doc["tests"]} if ready else {}
        c.check(f"{tag}: one-address server -> unknown, exit 16, no guess",
                ready and rc == 16 and doc["type"] == "unknown"
                and doc["mapping"] == "unknown" and doc["filtering"] == "unknown", doc)
        c.check(f"{tag}: its alternate port is used: the port tests answered from it",
                ready and doc["alternate"] == alt and res.get("mapping-alt-port") == "answered"
                and res.get("filter-change-port") == "answered"
                and res.get("mapping-alt-ip") == "not-run", res)
        ask = [t for t in doc["tests"] if t["name"] == "ask-other-address"] if ready else []
        c.check(f"{tag}: the bare answer names no alternate; one ask, empty CHANGE-REQUEST, "
                f"answered from the primary",
                len(ask) == 1 and ask[0]["result"] == "answered" and ask[0]["change_request"] == "none"
                and ask[0]["from"] == ep and ask[0]["destination"] == ep, ask)
        c.check(f"{tag}: findings alternate-port-only, mapping- and filtering-not-port-dependent",
                all(k in codes for k in ("alternate-port-only", "mapping-not-port-dependent",
                                         "filtering-not-port-dependent")), codes)
        c.check(f"{tag}: the warning says what the one address cannot tell",
                "differs in the port only" in err and "does not differ" not in err, err)
        c.check(f"{tag}: the server is trusted, RFC 5780, honours CHANGE-REQUEST",
                ready and doc["servers"] == [{"address": ep, "rfc": 5780, "change_request": True,
                                              "trusted": True, "problems": []}], doc)
    finally:
        srv1.terminate()
        try:
            rc1 = srv1.wait(timeout=5)
        except subprocess.TimeoutExpired:
            srv1.kill()
            rc1 = srv1.wait()
    c.check(f"{tag}: server stops cleanly on SIGTERM", rc1 == 0, f"rc={rc1}")


one_address("127.0.0.1", 4)
if have_ipv6_loopback():
    one_address("::1", 6)
else:
    c.skip("IPv6 (no ::1 on this host)")

# Nothing answers: UDP blocked, decided at -t and not later.  The port is
# held open by a socket that never answers, so no ICMP error comes back.
silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", 0))
rc, doc, err, _ = jrun(["-t", "1", f"127.0.0.1:{silent.getsockname()[1]}"])
silent.close()
c.check("silent server: udp-blocked, exit 15", rc == 15 and doc and doc["type"] == "udp-blocked", f"rc={rc}")
# Semantic, not a timing: decided at -t, which the man page says is the
# only time it can be (natcheck's own clock; a hang is run()'s timeout).
c.check("silent server: decided at -t: its tests timed out, elapsed_ms >= 1000",
        doc is not None and doc["elapsed_ms"] >= 1000 and started(doc)
        and all(t["result"] == "timeout" for t in started(doc)), doc and doc["tests"])

# A closed port: the kernel says "port unreachable" at once.  That is a
# server that is down, not UDP blocked: exit 1 with a line naming the
# address, the JSON still printed, and the run did not wait for -t.
closed = free_udp_ports(1)[0]
rc, doc, err, _ = jrun(["-t", "3", f"127.0.0.1:{closed}"])
c.check("closed port: exit 1, not udp-blocked's 15", rc == 1, f"rc={rc} err={err!r}")
c.check("closed port: a line names the address and the refusal",
        f"no STUN server at 127.0.0.1:{closed} (port unreachable)" in err, err)
c.check("closed port: the JSON is still printed, binding 'unreachable'",
        doc is not None and any(t["name"] == "binding" and t["result"] == "unreachable"
                                for t in doc["tests"]), doc)
c.check("closed port: ended by the ICMP error, not by -t (every test run unreachable)",
        doc is not None and started(doc) and all(t["result"] == "unreachable" for t in started(doc)),
        doc and doc["tests"])
rc, out, err, _ = run([NATCHECK, "-q", "-t", "3", "127.0.0.1", str(closed)])
# -q prints the JSON's type, which is unknown when no server was reached.
c.check("closed port as 'HOST PORT', -q: exit 1, the word 'unknown', the line naming it",
        rc == 1 and out == "unknown\n"
        and f"natcheck: no STUN server at 127.0.0.1:{closed} (port unreachable)\n" in err,
        f"rc={rc} out={out!r} err={err!r}")

with FakeServer("garbage") as fake:
    rc, doc, err, _ = jrun(["-t", "1", f"127.0.0.1:{fake.port}"])
    c.check("garbage server: unknown (not udp-blocked), exit 16",
            rc == 16 and doc and doc["type"] == "unknown", f"rc={rc} doc={doc}")
    c.check("garbage server: a clear line names malformed answers",
            "malformed" in err and doc and doc["ignored"]["malformed"] > 0, err)
    c.check("garbage server: no answer believed, its tests ran to -t (timeout)",
            doc is not None and started(doc) and all(t["result"] == "timeout" for t in started(doc))
            and [f["code"] for f in doc["findings"]] == ["no-valid-answer"], doc and doc["tests"])

with FakeServer("partial") as fake:
    rc, doc, err, secs = jrun(["-t", "1", f"127.0.0.1:{fake.port}"])
    c.check("partial server: type unknown, exit 16", rc == 16 and doc and doc["type"] == "unknown",
            f"rc={rc} doc={doc}")
    c.check("partial server: filtering unknown, mapped address still reported",
            doc and doc["filtering"] == "unknown" and doc["mapped"] is not None, doc)
    c.check("partial server: warning says what could not be tested",
            "natcheck: warning:" in err and "alternate" in err, err)

# Usage errors: one line each, exit 2.
for name, args in [
    ("unknown option", ["-x", "127.0.0.1"]),
    ("-4 with -6", ["-4", "-6", "127.0.0.1"]),
    ("--json with -q", ["--json", "-q", "127.0.0.1"]),
    ("-t not a number", ["-t", "abc", "127.0.0.1"]),
    ("-t out of range", ["-t", "0", "127.0.0.1"]),
    ("port 0", ["127.0.0.1:0"]),
    ("port 99999", ["127.0.0.1:99999"]),
    ("port not a number", ["127.0.0.1:abc"]),
    ("a bare number is not an address", ["-q", "51000"]),
    ("a port word after a server with a port", ["127.0.0.1:3478", "3479"]),
    ("inet_aton shorthand", ["127.1"]),
    ("unclosed bracket", ["[::1:3478"]),
    ("-p without --serve", ["-p", "3478", "127.0.0.1"]),
    ("--serve with an operand", ["--serve", "127.0.0.1", "127.0.0.1"]),
    ("--serve with a name", ["--serve", "localhost"]),
    ("--serve same ports", ["--serve", "127.0.0.1", "-p", "4000", "--alt-port", "4000"]),
]:
    rc, out, err, _ = run([NATCHECK, *args])
    c.check(f"usage error, {name}: exit 2, one line", rc == 2 and one_line(err) and out == "",
            f"rc={rc} err={err!r}")

# Name resolution and a missing address family, with no network at all.
# Inside `unshare -n` only lo exists (brought up for the fallback case), so
# a name lookup cannot leave the machine.
if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
    rc, out, err, secs = run(["unshare", "-n", NATCHECK, "-t", "1", "no-such-host.invalid"])
    c.check("unresolvable name: exit 1, one line", rc == 1 and one_line(err) and "cannot resolve" in err,
            f"rc={rc} err={err!r}")
    rc, out, err, secs = run(["unshare", "-n", NATCHECK, "-6", "-t", "1", "[2001:db8::1]:3478"])
    c.check("no IPv6 route: exit 1, one line", rc == 1 and one_line(err), f"rc={rc} err={err!r}")
    p1, p2 = free_udp_ports(2)
    script = (f'ip link set lo up || exit 99; '
              f'"$0" --serve 127.0.0.1,127.0.0.2 -p {p1} --alt-port {p2} 2>/dev/null & s=$!; '
              f'for i in 1 2 3 4 5 6 7 8 9 10; do '
              f'"$0" -q -t 1 127.0.0.1:{p1} >/dev/null 2>&1; [ $? = 0 ] && break; sleep 0.2; done; '
              f'"$0" --json no-such-host.invalid 127.0.0.1:{p1}; rc=$?; kill $s; exit $rc')
    rc, doc, out, err = ns_json(script)
    c.check("unresolvable first name + working second: verdict from the second",
            rc == 0 and doc is not None and doc["type"] == "open" and doc["server"] == f"127.0.0.1:{p1}",
            f"rc={rc} out={out[:200]!r} err={err!r}")
    c.check("unresolvable first name: a warning says it was skipped",
            "warning: cannot resolve no-such-host.invalid" in err and "skipped" in err, err)
    # A send that fails at once ("unreachable" / "prohibit" routes, lab
    # prefixes only): the destination cannot be reached, so the test ends
    # "unreachable" at once, the run exits 1 naming it, and never waits for -t.
    for route, net, dst in [("unreachable", "198.51.100.0/24", "198.51.100.1"),
                            ("prohibit", "203.0.113.0/24", "203.0.113.1")]:
        script = (f'ip link set lo up && ip route add {route} {net} || exit 99; '
                  f'exec "$0" --json -t 3 -b 127.0.0.1 {dst}')
        rc, doc, out, err = ns_json(script)
        c.check(f"{route} route: every test run 'unreachable', ended before -t (none timed out)",
                doc is not None and started(doc)
                and all(t["result"] == "unreachable" for t in started(doc)),
                f"rc={rc} out={out[:300]!r} err={err!r}")
        c.check(f"{route} route: exit 1 naming {dst}:3478 (host unreachable)",
                rc == 1 and f"no STUN server at {dst}:3478 (host unreachable)" in err, f"rc={rc} err={err!r}")
else:
    c.skip("unresolvable name / missing family / unreachable routes (needs root, unshare and ip)")
rc, out, err, _ = run([NATCHECK, "-6", "-t", "1", "127.0.0.1"])
c.check("-6 with an IPv4 literal: a usage error, one line", rc == 2 and one_line(err), f"rc={rc} err={err!r}")

# Help, version, and the manual's SYNOPSIS word for word.
rc, out, err, _ = run([NATCHECK, "--version"])
c.check("--version", rc == 0 and re.match(r"^natcheck \d+\.\d+\.\d+\n$", out), repr(out))
rc, out, err, _ = run([NATCHECK, "--help"])
usage = out.split("\n\n", 1)[0].replace("usage:", "").replace("       natcheck", " natcheck")
if shutil.which("mandoc"):
    syn = synopsis_from_man()
    c.check("--help usage matches the manual's SYNOPSIS", " ".join(usage.split()) == syn,
            f"\n  help: {' '.join(usage.split())}\n  man:  {syn}")
    man_text = man_rendered()
    opts_section = man_text.split("\nOPTIONS\n", 1)[1].split("\nSERVER\n", 1)[0]
    help_opts = set(re.findall(r"(?<![\w-])(--?[a-z0-9][a-z0-9-]*)", out.split("\n\n", 1)[1].split("Without a server")[0]))
    # Each tag line of OPTIONS: "-b, --bind address[:port]" names both forms.
    man_opts = {o for line in re.findall(r"^ {5}(-.*)$", opts_section, re.M)
                for o in re.findall(r"(?<![\w-])(--?[a-z0-9][a-z0-9-]*)", line.split("  ")[0])}
    c.check("every --help option is in the manual's OPTIONS and back", help_opts == man_opts,
            f"help only: {sorted(help_opts - man_opts)}, man only: {sorted(man_opts - help_opts)}")
    output_section = man_text.split("\nOUTPUT\n", 1)[1].split("\nEXIT STATUS\n", 1)[0]
    with Server(NATCHECK) as srv2:
        _, doc, _, _ = jrun([f"127.0.0.1:{srv2.port}"])
    keys = set(doc or {}) | {k for t in (doc or {}).get("tests", []) for k in t} | set((doc or {}).get("ignored", {}))
    undocumented = sorted(k for k in keys if not re.search(r"(?<![\w-])" + re.escape(k) + r"(?![\w-])", output_section))
    c.check("every JSON key is documented in the manual's OUTPUT", doc is not None and not undocumented,
            f"undocumented: {undocumented}")
else:
    c.skip("--help vs SYNOPSIS and OPTIONS, JSON keys vs OUTPUT (mandoc missing)")

c.finish()
