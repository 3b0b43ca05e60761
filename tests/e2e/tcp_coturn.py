"""End to end: --tcp against coturn on loopback.

Usage: python3 tests/e2e/tcp_coturn.py ./natcheck

coturn's turnserver answers STUN Binding over TCP on every address and
port it listens on; started on 127.0.0.1 and 127.0.0.2 with an alternate
port, it is a real RFC 5780 server over both UDP and TCP.  On loopback
there is no NAT: the TCP mapping is endpoint-independent, all three
mapping connections leave from one local port, and hairpinning does not
apply.  The same server with --no-tcp refuses the connection: TCP says
"refused" while the UDP verdict and the exit status stay what they were.
Every JSON object is checked against doc/natcheck.schema.json.  Only
127.0.0.0/8 is contacted.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import A1, A2, Checks, run, wait_ready  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
HERE = os.path.dirname(os.path.abspath(__file__))
c = Checks()

try:
    import jsonschema
except ImportError:
    print("FAIL  python3-jsonschema is missing (Debian package python3-jsonschema)")
    c.failed += 1
    c.finish()
with open(os.path.join(HERE, "..", "..", "doc", "natcheck.schema.json")) as f:
    validator = jsonschema.Draft202012Validator(json.load(f))

if shutil.which("turnserver") is None:
    c.check("turnserver (Debian package coturn) is installed", False)
    c.finish()


def free_ports(attempts=200):
    """A port p with p and p+1 free for UDP and TCP on A1 and A2."""
    for _ in range(attempts):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((A1, 0))
        p = s.getsockname()[1]
        s.close()
        if p >= 65535:
            continue
        try:
            for h in (A1, A2):
                for port in (p, p + 1):
                    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                        t = socket.socket(socket.AF_INET, kind)
                        t.bind((h, port))
                        t.close()
        except OSError:
            continue
        return p
    raise RuntimeError("no free ports found")


class Coturn:
    """turnserver on A1 and A2, STUN only, TCP on unless no_tcp."""

    def __init__(self, no_tcp=False):
        self.no_tcp = no_tcp
        self.port = free_ports()
        self.dir = tempfile.mkdtemp(prefix="natcheck-tcp-")
        self.proc = None

    def __enter__(self):
        conf = os.path.join(self.dir, "empty.conf")
        open(conf, "w").close()
        args = ["turnserver", "-c", conf, "-L", A1, "-L", A2, "-p", str(self.port),
                "--alt-listening-port", str(self.port + 1), "--stun-only", "--no-tls",
                "--no-dtls", "--no-cli", "--no-tcp-relay",
                "--log-file", os.path.join(self.dir, "turn.log"), "--simple-log",
                "--no-stdout-log", "--userdb", os.path.join(self.dir, "turndb")]
        if self.no_tcp:
            args.append("--no-tcp")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        ok = all(wait_ready((h, p), 10.0, lambda: self.proc.poll() is None)
                 for h in (A1, A2) for p in (self.port, self.port + 1))
        if ok and not self.no_tcp:
            ok = self.tcp_ready()
        if not ok:
            self.__exit__()
            raise RuntimeError("turnserver did not come up")
        return self

    def tcp_ready(self, seconds=10.0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                for h in (A1, A2):
                    for p in (self.port, self.port + 1):
                        socket.create_connection((h, p), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


def valid(obj):
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
    return not errors, "; ".join(e.message for e in errors[:3])


def udp_words(obj):
    """The UDP verdict: type, mapping, filtering, hairpinning."""
    return obj and (obj["type"], obj["mapping"], obj["filtering"], obj["hairpinning"])


def udp_open(obj):
    """The truth on loopback against a server with two addresses."""
    return udp_words(obj) == ("open", "endpoint-independent", "endpoint-independent", None)


def detect(target, *extra):
    rc, out, err, secs = run([NATCHECK, "--json", "--no-portmap", *extra, target])
    try:
        obj = json.loads(out)
    except ValueError:
        obj = None
    return rc, obj, err, out


with Coturn() as srv:
    target = f"{A1}:{srv.port}"
    rc_udp, plain, _, out = detect(target)
    c.check("without --tcp: \"tcp\" is null", plain is not None and plain.get("tcp", 1) is None,
            out[:300])
    if plain is not None:
        ok, why = valid(plain)
        c.check("without --tcp: the object passes the schema", ok, why)

    rc, obj, err, out = detect(target, "--tcp")
    tcp = obj.get("tcp") if obj else None
    c.check("--tcp: a tcp object", isinstance(tcp, dict), out[:300])
    if isinstance(tcp, dict):
        ok, why = valid(obj)
        c.check("--tcp: the object passes the schema", ok, why)
        tests = {t["test"]: t for t in tcp["tests"]}
        c.check("--tcp: coturn answers over TCP", tcp["status"] == "ok", repr(tcp))
        c.check("--tcp: loopback is endpoint-independent over TCP",
                tcp["mapping"] == "endpoint-independent", repr(tcp))
        c.check("--tcp: no NAT, hairpinning does not apply",
                tcp["nat"] is False and tcp["hairpinning"] is None, repr(tcp))
        # No NAT in the UDP answer either: no hairpin guess, none made.
        c.check("--tcp: no NAT, no speculative hairpin attempts",
                tests["hairpin"].get("speculative") == 0 and tests["hairpin"].get("guess") is None,
                repr(tests["hairpin"]))
        # As for UDP: "not applicable" is no finding, so no warning.
        c.check("--tcp: no NAT is no warning", tcp["warnings"] == [] and "warning" not in err,
                f"{tcp['warnings']!r} / {err!r}")
        answered = [tests[n] for n in ("map", "map-alt-ip", "map-alt-ip-port")]
        c.check("--tcp: three mapping connections answered",
                all(t["result"] == "answered" for t in answered), repr(answered))
        c.check("--tcp: all three from one local port",
                len({t["local"] for t in answered}) == 1, repr(answered))
        c.check("--tcp: to the primary, alternate IP, alternate IP and port",
                [t["destination"] for t in answered] ==
                [f"{A1}:{srv.port}", f"{A2}:{srv.port}", f"{A2}:{srv.port + 1}"],
                repr(answered))
        # Loopback against two addresses: no NAT, nothing filtered.
        c.check("without --tcp: the UDP verdict is loopback's, open, exit 0",
                udp_open(plain) and rc_udp == 0, f"{udp_words(plain)} exit {rc_udp}")
        c.check("--tcp: the UDP verdict is still open, exit 0 (UDP's)",
                udp_open(obj) and rc == 0, f"{udp_words(obj)} exit {rc}")

    rc, out, err, _ = run([NATCHECK, "--tcp", "--no-portmap", target])
    c.check("text: TCP lines",
            "TCP          ok, to " + target in out and
            "TCP mapping  endpoint-independent" in out and
            "TCP hairpin  not applicable (no NAT)" in out, out)
    c.check("text: no warning without a NAT", "warning" not in err, err)

with Coturn(no_tcp=True) as srv:
    target = f"{A1}:{srv.port}"
    rc_udp, plain, _, _ = detect(target)
    rc, obj, err, out = detect(target, "--tcp")
    tcp = obj.get("tcp") if obj else None
    c.check("no TCP listener: status refused",
            isinstance(tcp, dict) and tcp["status"] == "refused", out[:400])
    if isinstance(tcp, dict):
        c.check("no TCP listener: mapping and hairpinning unknown",
                tcp["mapping"] == "unknown" and tcp["hairpinning"] is None, repr(tcp))
        c.check("no TCP listener: a warning says why", len(tcp["warnings"]) > 0, repr(tcp))
        c.check("no TCP listener: the warning is on stderr too", "TCP: " in err, err)
        c.check("no TCP listener: UDP still decided, open, exit 0 (with and without --tcp)",
                udp_open(plain) and rc_udp == 0 and udp_open(obj) and rc == 0,
                f"{udp_words(plain)} exit {rc_udp}; --tcp: {udp_words(obj)} exit {rc}")
        ok, why = valid(obj)
        c.check("no TCP listener: the object passes the schema", ok, why)

rc, out, err, _ = run([NATCHECK, "--serve", f"{A1}", "--tcp"])
c.check("--serve --tcp: usage error", rc == 2 and err.count("\n") == 1, f"rc {rc}: {err}")

c.finish()
