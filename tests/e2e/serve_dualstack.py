#!/usr/bin/env python3
"""One natcheck --serve process, an IPv4 pair and an IPv6 pair at once.

    python3 tests/e2e/serve_dualstack.py ./natcheck

Runs itself again inside `unshare -n` (root only; skipped otherwise): a
network namespace of its own whose lo carries 127.0.0.1/8 and
2001:db8::1, 2001:db8::2, so nothing outside it can see or disturb the
test.  There it starts

    natcheck --serve 127.0.0.1,127.0.0.2 --serve 2001:db8::1,2001:db8::2

and checks that all eight endpoints answer in both header forms, every
CHANGE-REQUEST from the right endpoint of the request's own family, with
RESPONSE-ORIGIN and OTHER-ADDRESS (SOURCE-, CHANGED-ADDRESS) of that
family; that natcheck -4 and -6 both find no NAT against it; that
Debian's `stun` and coturn's turnutils_natdiscovery get answers over IPv4
and, where they can, IPv6; that SIGUSR1 prints eight counters lines; and
that two pairs of one family are refused.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import A1, A2, Checks, Server, change_matrix, run, udp  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
B1, B2 = "2001:db8::1", "2001:db8::2"
# The IPv6 clients' own address: from a wildcard socket, the kernel would
# send to B2 from B2 itself (the longest match on lo), and a client would
# see a mapping that changes with the destination.
CLIENT6 = "2001:db8::10"
INSIDE = "NATCHECK_DUALSTACK_INSIDE"


def outside():
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        c = Checks()
        c.skip("dual-stack server (needs root, unshare and ip)")
        return c.summary()
    env = dict(os.environ, **{INSIDE: "1"})
    return subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), NATCHECK],
                          env=env, timeout=280).returncode


def setup(c):
    cmds = [["ip", "link", "set", "lo", "up"],
            ["ip", "-6", "addr", "add", f"{B1}/128", "dev", "lo", "nodad"],
            ["ip", "-6", "addr", "add", f"{B2}/128", "dev", "lo", "nodad"],
            ["ip", "-6", "addr", "add", f"{CLIENT6}/128", "dev", "lo", "nodad"]]
    for cmd in cmds:
        p = subprocess.run(cmd, capture_output=True, text=True)
        if not c.check(f"namespace: {' '.join(cmd)}", p.returncode == 0, p.stderr):
            return False
    return True


def matrix(c, srv):
    """Both forms, all endpoints of both families, every CHANGE-REQUEST."""
    P, Q = srv.port, srv.alt_port
    bad = []
    for fam, (h1, h2) in (("IPv4", (A1, A2)), ("IPv6", (B1, B2))):
        eps = {0: (h1, P), 1: (h2, P), 2: (h1, Q), 3: (h2, Q)}
        s = udp(h1)
        bad += change_matrix(s, eps, label=f"{fam} ")
        s.close()
    c.check("64 answers (2 families x 4 endpoints x 2 forms x 4 CHANGE-REQUESTs) from the "
            "right endpoint, OTHER-ADDRESS in the request's family", not bad, "; ".join(bad[:4]))


def clients(c, srv):
    P = srv.port
    for flag, host in (("-4", A1), ("-6", f"[{B1}]")):
        rc, out, err, _ = run([NATCHECK, flag, "--json", "--no-portmap", "-t", "3",
                               f"{host}:{P}"])
        c.check(f"natcheck {flag} against the dual-stack server: open (exit 0)",
                rc == 0 and '"type":"open"' in out, (rc, out[:200], err[:300]))
    if shutil.which("stun"):
        # Debian's stun (RFC 3489) is IPv4 only (-p would be its own port).
        p = subprocess.run(["timeout", "30", "stun", f"{A1}:{P}"],
                           capture_output=True, text=True)
        c.check("Debian stun over IPv4: Open", "Primary: Open" in p.stdout,
                (p.stdout + p.stderr)[-300:])
    else:
        c.check("stun is installed (Debian package stun-client)", False)
    nd = shutil.which("turnutils_natdiscovery")
    if nd:
        for fam, host, local in (("IPv4", A1, A1), ("IPv6", B1, CLIENT6)):
            p = subprocess.run(["timeout", "60", nd, "-m", "-f", "-L", local, "-p", str(P),
                                host], capture_output=True, text=True)
            out = p.stdout + p.stderr
            # It compares the mapped address with its wildcard socket's, so
            # it says "NAT with" even here; the behaviours are what counts.
            c.check(f"turnutils_natdiscovery over {fam}: endpoint-independent mapping and "
                    "filtering", "Endpoint Independent Mapping" in out
                    and "Endpoint Independent Filtering" in out, out[-400:])
    else:
        c.check("turnutils_natdiscovery is installed (Debian package coturn)", False)


def inside():
    c = Checks()
    if not setup(c):
        return c.summary()
    srv = Server(NATCHECK, spec=f"{A1},{A2}", extra=("--serve", f"{B1},{B2}"))
    srv.hosts = [A1, A2, B1, B2]
    if srv.start(c):
        line = srv.stderr().splitlines()[0] if srv.stderr() else ""
        c.check("one process serves eight endpoints",
                len(line.split(" serving on ", 1)[-1].split()) == 8, line)
        matrix(c, srv)
        clients(c, srv)
        os.kill(srv.proc.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while srv.stderr().count(" counters ") < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        rc = srv.stop()
        lines = [ln for ln in srv.stderr().splitlines() if " counters " in ln]
        c.check("SIGUSR1 and exit: eight counters lines each, IPv4 and IPv6 endpoints",
                rc == 0 and len(lines) == 16 and any(f"[{B2}]:" in ln for ln in lines),
                f"{rc} {len(lines)}")
    srv.kill()
    rc, out, err, _ = run([NATCHECK, "--serve", A1, "--serve", A2])
    c.check("two --serve of one family: usage error", rc == 2 and "family" in err, err)
    rc, out, err, _ = run([NATCHECK, "--serve", A1, "--serve", B1, "--serve", B2])
    c.check("three --serve: usage error", rc == 2, err)
    return c.summary()


if __name__ == "__main__":
    sys.exit(inside() if os.environ.get(INSIDE) else outside())
