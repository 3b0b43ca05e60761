#!/usr/bin/env python3
"""natcheck --serve as deployed: --advertise, one address, --rate, counters,
--metrics-file and --user, on real loopback sockets.

    python3 tests/e2e/serve_deploy.py ./natcheck

  - --advertise 203.0.113.1,203.0.113.2: every address the server reports
    about itself (RESPONSE-ORIGIN, OTHER-ADDRESS; SOURCE-, CHANGED-ADDRESS)
    is the public one with the endpoint's port, in both forms, from all
    four endpoints under every CHANGE-REQUEST; the mapped address is the
    real source; RESPONSE-ADDRESS naming the public address is still 400.
  - one address with --advertise: OTHER-ADDRESS is the public IP and the
    other port; change port is answered from the other port.
  - --rate 5: one source floods while another asks one request at a time:
    the other gets every answer, the flood loses some, and the counters
    (SIGUSR1, before and after) account for every datagram.
  - --metrics-file: written while running and at exit, accepted by
    `promtool check metrics`, and equal to the counters printed at exit.
  - --user nobody (as root): /proc/PID/status shows nobody's IDs and no
    groups, and the server still answers; --user when not root is an error.
  - usage errors for the new options.

Counts only, no timing assertions.  Talks to 127.0.0.0/8 only; ends only
the servers it started, by PID.
"""
import os
import pwd
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import (A1, A2, ATTR, CHANGE_IP, CHANGE_PORT, Checks, Server,  # noqa: E402
                     addr_of, addr_value, attr, change_matrix, error_of, exchange,
                     free_udp_ports, get, parse, request, run, udp)

NATCHECK = sys.argv[1] if len(sys.argv) > 1 else "./natcheck"
PUB1, PUB2 = "203.0.113.1", "203.0.113.2"
FLOOD, QUIET = "127.0.0.3", "127.0.0.4"
c = Checks()


def counters(srv, before=0, seconds=5.0):
    """SIGUSR1, then the counters lines it printed: {endpoint: {name: n}}."""
    os.kill(srv.proc.pid, signal.SIGUSR1)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lines = [ln for ln in srv.stderr().splitlines() if " counters " in ln]
        if len(lines) >= before + 4:
            return parse_counters(lines[before:before + 4]), before + 4
        time.sleep(0.05)
    return None, before


def parse_counters(lines):
    out = {}
    for ln in lines:
        m = re.match(r"natcheck: \S+Z counters (\S+)((?: \w+=\d+)+)$", ln)
        if m:
            out[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return out


# ------------------------------------------------------------- advertise

with Server(NATCHECK, extra=("--advertise", f"{PUB1},{PUB2}")) as srv:
    P, Q = srv.port, srv.alt_port
    eps = {0: (A1, P), 1: (A2, P), 2: (A1, Q), 3: (A2, Q)}
    pub = {0: (PUB1, P), 1: (PUB2, P), 2: (PUB1, Q), 3: (PUB2, Q)}
    s = udp(A1)
    me = s.getsockname()[:2]
    bad = change_matrix(s, eps, pub)
    c.check("--advertise: 32 answers carry the public addresses with the endpoint ports, "
            "the real mapped address", not bad, "; ".join(bad[:4]))
    # The reflection rule is about the real source: the public address is
    # not the request's source IP.
    req, tid = request(False, attr(ATTR["RESPONSE-ADDRESS"], addr_value(PUB1, me[1])))
    got = exchange(s, eps[0], req, tid)
    code = error_of(parse(got[0])[2])[0] if got else None
    c.check("--advertise: RESPONSE-ADDRESS naming the public address is still 400",
            code == 400, f"{code}")
    s.close()

with Server(NATCHECK, spec=A1, extra=("--advertise", PUB1)) as one:
    P, Q = one.port, one.alt_port
    s = udp(A1)
    req, tid = request(True, attr(ATTR["CHANGE-REQUEST"], struct.pack("!I", CHANGE_PORT)))
    got = exchange(s, (A1, P), req, tid)
    attrs = parse(got[0])[2] if got else []
    c.check("one address --advertise: change port answered from the other port, "
            "OTHER-ADDRESS = public IP, other port, RESPONSE-ORIGIN public",
            got is not None and got[1] == (A1, Q)
            and addr_of(get(attrs, "OTHER-ADDRESS")) == (PUB1, Q)
            and addr_of(get(attrs, "RESPONSE-ORIGIN")) == (PUB1, Q),
            f"{got and got[1]} {addr_of(get(attrs, 'OTHER-ADDRESS')) if got else None}")
    req, tid = request(True, attr(ATTR["CHANGE-REQUEST"], struct.pack("!I", CHANGE_IP)))
    got = exchange(s, (A1, P), req, tid)
    code = error_of(parse(got[0])[2])[0] if got else None
    c.check("one address: change IP is 420", code == 420, f"{code}")
    s.close()

# ------------------------------------------------- rate, counters, metrics

tmp = tempfile.mkdtemp(prefix="natcheck-deploy-")
try:
    metrics = os.path.join(tmp, "server.prom")
    srv = Server(NATCHECK, rate=5, extra=("--metrics-file", metrics))
    if srv.start(c):
        P = srv.port
        ep = f"{A1}:{P}"
        base, seen = counters(srv)
        c.check("SIGUSR1: one counters line per endpoint",
                base is not None and len(base) == 4 and ep in base, srv.stderr()[-400:])
        flood, quiet = udp(FLOOD), udp(QUIET)
        flood_sent = quiet_ok = 0
        for k in range(10):
            for _ in range(20):
                req, _tid = request(True)
                flood.sendto(req, (A1, P))
                flood_sent += 1
            req, tid = request(True)
            if exchange(quiet, (A1, P), req, tid, tries=1, wait=2.0):
                quiet_ok += 1
        # Read what came back to the flood (bounded: replies already sent).
        flood_ok = 0
        flood.settimeout(0.5)
        try:
            while True:
                flood.recvfrom(2048)
                flood_ok += 1
        except OSError:
            pass
        flood.close()
        quiet.close()
        c.check("--rate 5: a source asking one at a time gets all 10 answers while "
                "another floods", quiet_ok == 10, f"{quiet_ok} of 10")
        c.check("--rate 5: the flood does not get all its answers",
                10 <= flood_ok < flood_sent, f"{flood_ok} of {flood_sent}")
        after, seen = counters(srv, seen)
        if c.check("SIGUSR1 again: counters for every endpoint",
                   after is not None and ep in after, srv.stderr()[-400:]):
            d = {k: after[ep][k] - base[ep][k] for k in after[ep]}
            c.check("counters: every datagram of both sources counted once",
                    d["requests"] == flood_sent + 10
                    and d["answers"] + d["ratelimited"] == d["requests"]
                    and d["errors"] == 0 and d["discards"] == 0, d)
            c.check("counters: the rate-limited ones are the flood's missing answers",
                    d["ratelimited"] == flood_sent + 10 - d["answers"]
                    and d["answers"] >= flood_ok + 10, d)
        # The periodic write (every 10 s): wait for it, bounded.
        deadline = time.monotonic() + 15
        while not os.path.exists(metrics) and time.monotonic() < deadline:
            time.sleep(0.2)
        c.check("--metrics-file: written while the server runs", os.path.exists(metrics))
        rc = srv.stop()
        c.check("SIGTERM: exit 0", rc == 0, f"{rc}")
        lines = [ln for ln in srv.stderr().splitlines() if " counters " in ln]
        final = parse_counters(lines[-4:])
        text = open(metrics).read() if os.path.exists(metrics) else ""
        promtool = shutil.which("promtool")
        if promtool:
            p = subprocess.run([promtool, "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=30)
            c.check("--metrics-file: promtool check metrics accepts it",
                    p.returncode == 0 and text, p.stdout + p.stderr)
        else:
            c.check("promtool is installed (Debian package prometheus)", False)
        series = dict(re.findall(r'^(natcheck_server_\w+_total\{endpoint="[^"]+"\}) (\d+)$',
                                 text, re.M))
        want = {f'natcheck_server_{k}_total{{endpoint="{e}"}}': str(v)
                for e, vals in final.items() for k, v in vals.items()}
        c.check("--metrics-file at exit: the same counters as printed at exit",
                len(want) == 32 and series == want, f"{len(series)} series, {len(want)} printed")
    srv.kill()
    srv.log.close()
finally:
    shutil.rmtree(tmp, ignore_errors=True)

# ------------------------------------------------------------------ --user

if os.geteuid() == 0:
    nobody = pwd.getpwnam("nobody")
    with Server(NATCHECK, extra=("--user", "nobody")) as srv:
        status = open(f"/proc/{srv.proc.pid}/status").read()
        uid = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        gid = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
        groups = re.search(r"^Groups:[ \t]*(.*)$", status, re.M).group(1).split()
        c.check("--user nobody: real, effective, saved and fs UIDs are nobody's",
                uid == [str(nobody.pw_uid)] * 4, uid)
        c.check("--user nobody: GIDs are nobody's group, no supplementary groups",
                gid == [str(nobody.pw_gid)] * 4 and groups == [], (gid, groups))
        s = udp(A1)
        req, tid = request(True)
        c.check("--user nobody: still answers", exchange(s, (A1, srv.port), req, tid) is not None)
        s.close()
    ports = [str(p) for p in free_udp_ports(2, (A1,))]
    rc, out, err, _ = run([NATCHECK, "--serve", A1, "-p", ports[0], "--alt-port", ports[1],
                           "--user", "no-such-user-xyz"])
    c.check("--user with an unknown user: exit 1, says so", rc == 1 and "no-such-user-xyz" in err,
            err)
    # Not root: copy the binary where nobody can run it.
    tmp = tempfile.mkdtemp(prefix="natcheck-user-")
    try:
        os.chmod(tmp, 0o755)
        exe = os.path.join(tmp, "natcheck")
        shutil.copy(NATCHECK, exe)
        os.chmod(exe, 0o755)
        rc, out, err, _ = run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                               "--clear-groups", exe, "--serve", A1, "-p", ports[0],
                               "--alt-port", ports[1], "--user", "nobody"])
        c.check("--user when not root: exit 1, 'only root'", rc == 1 and "only root" in err,
                (rc, err))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
else:
    c.skip("--user: needs root")

# ------------------------------------------------------------ usage errors

for args, what in (
        (["--serve", f"{A1},{A2}", "--advertise", PUB1], "one --advertise for two addresses"),
        (["--serve", A1, "--advertise", f"{PUB1},{PUB2}"], "two --advertise for one address"),
        (["--serve", A1, "--advertise", "2001:db8::1"], "--advertise of another family"),
        (["--serve", f"{A1},{A2}", "--advertise", f"{PUB1},{PUB1}"], "--advertise twice the same"),
        (["--serve", A1, "--advertise", "224.0.0.1"], "--advertise multicast"),
        (["--serve", A1, "--advertise", "example.org"], "--advertise a name"),
        (["--serve", A1, "--rate", "abc"], "--rate not a number"),
        (["--serve", A1, "--rate", "-1"], "--rate negative"),
        (["--serve", A1, "--rate", "99999999"], "--rate too large"),
        (["--serve", A1, "--user", ""], "--user empty"),
        (["--rate", "5", "127.0.0.1"], "--rate without --serve"),
        (["--advertise", PUB1, "127.0.0.1"], "--advertise without --serve"),
        (["--user", "nobody", "127.0.0.1"], "--user without --serve")):
    rc, out, err, _ = run([NATCHECK, *args])
    c.check(f"usage error: {what}: exit 2, one line", rc == 2 and len(err.splitlines()) == 1,
            (rc, err))

c.finish()
