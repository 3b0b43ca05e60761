"""End to end: the JSON for machines and --watch / --count, on loopback.

Usage: python3 tests/e2e/monitor_json.py ./natcheck

Every object natcheck prints (one run, an unknown verdict, UDP blocked,
errors, --watch lines) is validated against doc/natcheck.schema.json with
Debian's python3-jsonschema.  --watch is read line by line while it runs
(so each line must be flushed as it is written), a server that goes away
must show up as a changed verdict, and SIGTERM must end the watch after a
complete line with status 0.  Only 127.0.0.0/8 is contacted.
"""
import datetime
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, Server, free_udp_ports, run  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
# -b with an address this host does not have (TEST-NET-1): the run cannot
# even open its sockets, an error (exit 1) that sends nothing.
NOT_HERE = "192.0.2.1"
SCHEMA = os.path.join(os.path.dirname(NATCHECK), "doc", "natcheck.schema.json")
c = Checks()

try:
    import jsonschema
except ImportError:
    print("FAIL  python3-jsonschema is missing (Debian package python3-jsonschema)")
    c.failed += 1
    c.finish()

with open(SCHEMA) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)


def errors_of(doc):
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]


def valid(name, doc, rc=None):
    """doc is valid, its exit is rc, its time is now-ish UTC."""
    errs = errors_of(doc) if doc is not None else ["no JSON"]
    c.check(f"{name}: valid against the schema", not errs, errs[:3])
    if doc is None:
        return
    if rc is not None:
        c.check(f"{name}: \"exit\" is the exit status {rc}", doc.get("exit") == rc, doc.get("exit"))
    t = datetime.datetime.strptime(doc["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    skew = abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    c.check(f"{name}: \"time\" is the run's start in UTC", skew < 120, doc["time"])


def jrun(args, timeout=30):
    rc, out, err, _ = run([NATCHECK, "--json", *args], timeout)
    try:
        return rc, json.loads(out), out, err
    except ValueError:
        return rc, None, out, err


# The schema must be able to fail: a real object with a key broken.
with Server(NATCHECK) as srv:
    target = f"127.0.0.1:{srv.port}"
    rc, doc, out, err = jrun([target])
    valid("open", doc, rc)
    c.check("open: type open, exit 0, schema 1",
            doc is not None and rc == 0 and doc["type"] == "open" and doc["schema"] == 1, out)
    c.check("open: one object, one line, no \"changed\" outside --watch",
            out.count("\n") == 1 and doc is not None and "changed" not in doc, out[:200])
    if doc is not None:
        for broken in ({**doc, "type": "cone"}, {**doc, "exit": "0"}, {**doc, "time": "yesterday"},
                       {k: v for k, v in doc.items() if k != "tests"}):
            c.check("the schema rejects a broken object", errors_of(broken) != [], broken.get("type"))

    # -q and text keep working beside --format.
    rc, out, _, _ = run([NATCHECK, "-q", target])
    c.check("-q still prints the word", rc == 0 and out == "open\n", out)
    rc2, out2, _, _ = run([NATCHECK, "--format", "json", target])
    try:
        doc2 = json.loads(out2)
    except ValueError:
        doc2 = None
    c.check("--format json is --json", rc2 == 0 and doc2 is not None and doc2["type"] == "open", out2)
    valid("--format json", doc2, rc2)

    # --count: one JSON line per run, fresh ports each time, exit = last run's.
    rc, out, err, _ = run([NATCHECK, "--json", "--count", "3", target], 30)
    lines = out.splitlines()
    docs = []
    for ln in lines:
        try:
            docs.append(json.loads(ln))
        except ValueError:
            docs.append(None)
    c.check("--count 3: three JSON lines, exit 0", rc == 0 and len(docs) == 3 and None not in docs, out)
    for i, d in enumerate(docs):
        valid(f"--count line {i + 1}", d, 0)
    if len(docs) == 3 and None not in docs:
        c.check("--count: first line changed [], the others too (same verdict, same IP)",
                [d["changed"] for d in docs] == [[], [], []], [d["changed"] for d in docs])
        ports = {d["local"] for d in docs}
        c.check("--count: every run has fresh ports", len(ports) == 3, ports)

    # --watch spacing: runs start at least the interval apart (no overlap).
    rc, out, err, _ = run([NATCHECK, "--json", "--watch", "0.4", "--count", "3", target], 30)
    ts = []
    for ln in out.splitlines():
        try:
            ts.append(datetime.datetime.strptime(json.loads(ln)["time"], "%Y-%m-%dT%H:%M:%S.%fZ"))
        except (ValueError, KeyError):
            pass
    gaps = [(b - a).total_seconds() for a, b in zip(ts, ts[1:])]
    c.check("--watch 0.4 --count 3: three runs, started at least 0.4 s apart",
            rc == 0 and len(ts) == 3 and all(g >= 0.39 for g in gaps), (rc, gaps, err))

# Unknown: a server with one address (no alternate, no CHANGE-REQUEST).
with Server(NATCHECK, spec="127.0.0.1") as one:
    rc, doc, out, err = jrun([f"127.0.0.1:{one.port}"])
    c.check("one-address server: unknown, exit 16", rc == 16 and doc is not None and doc["type"] == "unknown", out[:200])
    valid("unknown", doc, rc)

# UDP blocked: a socket that never answers.
silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", 0))
rc, doc, out, err = jrun(["-t", "0.3", f"127.0.0.1:{silent.getsockname()[1]}"])
c.check("silent server: udp-blocked, exit 15", rc == 15 and doc is not None and doc["type"] == "udp-blocked", out[:200])
valid("udp-blocked", doc, rc)

# Errors: the run cannot test at all; the JSON says why, exit 1.
rc, doc, out, err = jrun(["-b", NOT_HERE, "-t", "1", "127.0.0.1"])
c.check("-b with an address not on this host: exit 1, an error object",
        rc == 1 and doc is not None and doc.get("error") and "type" not in doc, (rc, out, err))
valid("error (-b not here)", doc, rc)
c.check("error: the reason is on stderr too", err.startswith("natcheck: ") and doc is not None and doc.get("error", "?") in err, err)
if os.geteuid() == 0 and subprocess.run(["unshare", "-n", "true"]).returncode == 0:
    p = subprocess.run(["unshare", "-n", NATCHECK, "--json", "-t", "1", "nonexistent.invalid"],
                       capture_output=True, text=True, timeout=30)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    c.check("unresolvable name (empty namespace): exit 1, an error object",
            p.returncode == 1 and doc is not None and "resolve" in doc.get("error", ""), (p.returncode, p.stdout, p.stderr))
    valid("error (unresolvable)", doc, p.returncode)
else:
    c.skip("unresolvable name (needs root and unshare)")


def read_line(proc, seconds):
    """One line of proc's stdout within seconds, or None."""
    end = time.monotonic() + seconds
    buf = b""
    while time.monotonic() < end:
        r, _, _ = select.select([proc.stdout], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        ch = os.read(proc.stdout.fileno(), 1)
        if not ch:
            break
        buf += ch
        if ch == b"\n":
            return buf.decode()
    return None


# --watch read live: the server goes away between runs; SIGTERM stops it.
srv = Server(NATCHECK)
if srv.start(c):
    target = f"127.0.0.1:{srv.port}"
    w = subprocess.Popen([NATCHECK, "--json", "--watch", "0.3", "-t", "0.5", target],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        first = read_line(w, 10)
        c.check("--watch: the first line arrives while it still runs (flushed per line)",
                first is not None and w.poll() is None, first)
        d1 = json.loads(first) if first else None
        valid("--watch line 1", d1, 0)
        srv.stop()
        changed = None
        for _ in range(10):
            ln = read_line(w, 10)
            if ln is None:
                break
            d = json.loads(ln)
            valid("--watch line after the server stopped", d)
            if d["type"] != "open":
                changed = d
                break
        # On loopback the kernel answers for a stopped server (ICMP port
        # unreachable): an error, exit 1, "no STUN server", not UDP Blocked.
        c.check("--watch: a stopped server shows as a changed verdict naming its keys",
                changed is not None and "type" in changed["changed"] and "mapped" in changed["changed"]
                and changed["exit"] == 1 and "no STUN server" in changed.get("error", ""), changed)
        w.send_signal(signal.SIGTERM)
        try:
            rest, _ = w.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            w.kill()
            rest, _ = w.communicate()
        rest = rest.decode()
        c.check("--watch: SIGTERM ends it cleanly, status 0", w.returncode == 0, w.returncode)
        c.check("--watch: after SIGTERM, only whole JSON lines", rest == "" or
                (rest.endswith("\n") and all(json.loads(x) for x in rest.splitlines())), rest[-200:])
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
        srv.kill()

# A second SIGINT does not wait for a long run to end.  The first is sent
# once the silent server has seen the run's first datagram (the handlers
# are in place before any run starts), whatever the machine's load.
silent.setblocking(False)
try:
    while silent.recv(2048):
        pass
except OSError:
    pass
silent.settimeout(10)
w = subprocess.Popen([NATCHECK, "--json", "--watch", "1", "-t", "20", f"127.0.0.1:{silent.getsockname()[1]}"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
try:
    silent.recv(2048)
except OSError:
    pass
w.send_signal(signal.SIGINT)
time.sleep(0.3)
first_alive = w.poll() is None
w.send_signal(signal.SIGINT)
try:
    w.wait(timeout=10)
except subprocess.TimeoutExpired:
    w.kill()
    w.wait()
c.check("--watch: one SIGINT lets the run go on, a second ends it at once",
        first_alive and w.returncode == -signal.SIGINT, (first_alive, w.returncode))
w.stdout.close()

# The exit status after --count is the last run's.
rc, out, err, _ = run([NATCHECK, "--count", "2", "-t", "0.2", f"127.0.0.1:{silent.getsockname()[1]}"])
lines = out.splitlines()
c.check("--count 2 against a silent server: two text lines, exit 15",
        rc == 15 and len(lines) == 2 and all(" udp-blocked " in x and "exit=15" in x for x in lines), out)
silent.close()

c.finish()
