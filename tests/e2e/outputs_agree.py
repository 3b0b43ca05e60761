"""End to end: natcheck's outputs must not contradict themselves or each
other (issue 20, section 3) - the man page against the program, the text
against the exit status, one output against another.

Usage: python3 tests/e2e/outputs_agree.py ./natcheck

Only 127.0.0.0/8 is contacted (natcheck --serve on 127.0.0.1,127.0.0.2).
"""
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import (Checks, Server, binding_request, free_udp_ports, run, udp,  # noqa: E402
                     wait_ready)

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
TOP = os.path.dirname(NATCHECK)
MAN = os.path.join(TOP, "man", "natcheck.1")
HINT = " (see natcheck --help)\n"
c = Checks()
tmp = tempfile.mkdtemp(prefix="natcheck-outputs-")


def plain(text):
    """Rendered text without overstrike, with ASCII hyphens."""
    text = re.sub(r".\x08", "", text)
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return text.replace("\u2010", "-").replace("\u2212", "-").replace("\u2011", "-")


def renderings():
    """[(renderer, text)] of the man page, for each renderer installed."""
    cmds = []
    if shutil.which("mandoc"):
        cmds.append(("mandoc -Tascii", ["mandoc", "-Tascii", MAN]))
    if shutil.which("man"):
        cmds.append(("man -l", ["man", "-l", MAN]))
    env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
    out = []
    for name, cmd in cmds:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        out.append((name, plain(p.stdout)))
    return out


def entry(text, head):
    """The paragraph of an OPTIONS entry: from the line that is `head`
    (indented) to the next line indented as little, folded to one line."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == head:
            indent = len(line) - len(line.lstrip())
            body = []
            for nxt in lines[i + 1:]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                body.append(nxt.strip())
            return " ".join(" ".join(body).split())
    return ""


def usage_error(name, args, why=""):
    """Exit 2, nothing on stdout, one stderr line ending in the hint."""
    rc, out, err, _ = run([NATCHECK, *args])
    c.check(f"usage error, {name}: exit 2, one line with the hint",
            rc == 2 and out == "" and err.startswith("natcheck: ") and err.endswith(HINT)
            and err.count("\n") == 1 and why in err, f"rc={rc} err={err!r}")


# The JSON Schema, when python3-jsonschema is there to read it.
try:
    import jsonschema
    with open(os.path.join(TOP, "doc", "natcheck.schema.json")) as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
except ImportError:
    validator = None
    print("skip  the JSON Schema: python3-jsonschema is missing")


def schema_valid(name, doc):
    """doc is valid against doc/natcheck.schema.json."""
    if validator is None:
        return
    errs = ["no JSON"] if doc is None else \
        [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]
    c.check(f"{name}: valid against the JSON Schema", not errs, errs[:3])


# ------------------------------------------------------------ the manual

pages = renderings()
if not pages:
    print("skip  the manual: neither mandoc nor man is installed")
for name, text in pages:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    head, foot = (lines[0], lines[-1]) if lines else ("", "")
    c.check(f"{name}: the header reads 'General Commands Manual', not BSD's",
            "General Commands Manual" in head and "BSD" not in head, head)
    c.check(f"{name}: the footer does not sign natcheck as BSD's", "BSD" not in foot, foot)
    servers = entry(text, "--servers file")
    serve = entry(text, "--serve primary[,alternate]")
    c.check(f"{name}: --servers says nothing of what --serve does given twice",
            servers != "" and "serves both" not in servers, servers[-200:])
    c.check(f"{name}: --servers says a second --servers is a usage error",
            re.search(r"second --servers is a usage error", servers) is not None, servers[-200:])
    c.check(f"{name}: --serve says one process serves both families given twice",
            "one process serves both" in serve, serve)
    ex = text[text.find("EXAMPLES"):text.find("SEE ALSO")]
    folded = " ".join(ex.split())
    c.check(f"{name}: EXAMPLES shows a bare run with the built-in list",
            re.search(r"^\s*\$ natcheck\s*$", ex, re.M) is not None, ex[:300])
    own = folded[:folded.find("$ natcheck stun.example.org ")]
    c.check(f"{name}: EXAMPLES says what 'your own server' is (natcheck --serve)",
            "--serve" in own[own.rfind(". ") if ". " in own else 0:], own[-200:])

# ------------------------------------------------------------ the README

README = os.path.join(TOP, "README.md")
readme = open(README).read()


def code_blocks(text):
    """The README's fenced blocks, each as a list of lines."""
    blocks, cur = [], None
    for line in text.splitlines():
        if line.startswith("```"):
            if cur is None:
                cur = []
            else:
                blocks.append(cur)
                cur = None
        elif cur is not None:
            cur.append(line)
    return blocks


def report_line(line):
    """A line of the text report: a label in 13 columns, then the value."""
    return re.match(r"^[A-Z][A-Za-z0-9 ]{0,11} +$", line[:13]) is not None and \
        len(line) > 13 and line[13] != " "


cut = []
for b in code_blocks(readme):
    if "..." in [ln.strip() for ln in b]:
        continue
    if any(ln.startswith("NAT type     ") for ln in b):
        # natcheck's report of a run that tested always goes on to the
        # gateway and the ports (loopback included).
        labels = {ln[:13].strip() for ln in b if report_line(ln)}
        if not {"Gateway", "Ports"} <= labels:
            cut.append(b[:3])
    elif b and not any(ln.startswith("$ ") or ln.startswith("#") for ln in b) and \
            all(report_line(ln) for ln in b if ln.strip()):
        cut.append(b[:3])       # a few lines of a report, shown alone
c.check("README: every example output that is cut says so ('...')", not cut, cut)

# Every long-only option of --help is in the README's list of them.
rc, out, err, _ = run([NATCHECK, "--help"])
long_only = sorted(set(re.findall(r"^  (--[a-z0-9-]+)", out, re.M)))
para = readme[readme.find("Every option has a long form"):]
para = para[:para.find("\n\n")]
para = para[para.find("`--port`;"):]
missing = [o for o in long_only if f"`{o}`" not in para]
c.check(f"README: the {len(long_only)} long-only options of --help are all listed as such",
        len(long_only) >= 10 and not missing, f"missing {missing}")

# --help fits an 80-column terminal (79 characters: a full line would
# wrap on some).
wide = [ln for ln in out.splitlines() if len(ln.expandtabs()) > 79]
c.check("--help: every line fits in 80 columns", rc == 0 and not wide, wide)

# --servers given twice: not silently the last file.
sfile = os.path.join(tmp, "servers")
with open(sfile, "w") as f:
    f.write("127.0.0.1\n")
usage_error("--servers twice", ["--servers", sfile, "--servers", sfile], "--servers")

# ------------------------------------------------------------ a closed port

# Nothing listens there: the kernel's ICMP port unreachable says so.  The
# error is said once, and an error run forecasts nothing.
closed = free_udp_ports(1)[0]
rc, out, err, _ = run([NATCHECK, "-t", "2", f"127.0.0.1:{closed}"])
said = err.count(f"no STUN server at 127.0.0.1:{closed} (port unreachable)")
c.check("a closed port: exit 1, 'no STUN server at ... (port unreachable)' said once",
        rc == 1 and said == 1, f"rc={rc} err={err!r}")
fc = [ln for ln in out.splitlines()
      if re.match(r"(Ports|Direct to|Predict for|Relay for|Unknown for|Lifetime) ", ln)]
c.check("a closed port: no forecast lines for an error run", not fc, fc)
rc, out, err, _ = run([NATCHECK, "--json", "-t", "2", f"127.0.0.1:{closed}"])
said = err.count("no STUN server at")
c.check("a closed port, --json: the error in the JSON, said once on stderr",
        rc == 1 and said == 1 and '"error":"no STUN server at' in out, f"rc={rc} err={err!r}")

# ------------------------------------------------------------ against a server

with Server(NATCHECK) as srv:
    target = f"127.0.0.1:{srv.port}"

    # -v says nothing of the TCP tests when --tcp did not ask for them, and
    # no log line ends in a blank.
    rc, out, err0, _ = run([NATCHECK, "-v", "-t", "2", target])
    err = err0
    tcp_lines = [ln for ln in err.splitlines() if re.match(r"natcheck: +\d+ ms  tcp ", ln)]
    c.check("-v without --tcp: no 'tcp ... not-run' lines", rc == 0 and not tcp_lines,
            f"rc={rc} {tcp_lines[:3]}")
    rc, out, err, _ = run([NATCHECK, "-v", "--tcp", "-t", "2", target])
    tcp_lines = [ln for ln in err.splitlines() if re.match(r"natcheck: +\d+ ms  tcp ", ln)]
    c.check("-v --tcp: the TCP tests are logged", rc == 0 and len(tcp_lines) >= 5,
            f"rc={rc} {err[-300:]!r}")
    blank = [ln for ln in (err0 + err).splitlines() if ln != ln.rstrip()]
    c.check("-v, with and without --tcp: no log line ends in a blank", not blank, blank[:3])

    # A metrics file that cannot be written makes a single run an error:
    # the plugin's status word is the state it exits with (UNKNOWN, 3) and
    # names the file's error; JSON's "exit" is the exit status.
    bad = os.path.join(tmp, "no-such-dir", "x.prom")
    rc, out, err, _ = run([NATCHECK, "--expect", "open", "--metrics-file", bad, target])
    word = out.split(" ")[1] if out.startswith("NATCHECK ") else None
    c.check("--expect with an unwritable --metrics-file: UNKNOWN, exit 3",
            rc == 3 and word == "UNKNOWN", f"rc={rc} out={out!r}")
    c.check("... the status line names the file and its error",
            f"--metrics-file {bad}: " in out.split(" | ")[0] and "No such file" in out, out)
    c.check("... and still gives the type found", "the type was open" in out, out)
    for args, want in ((["--expect", "open"], 0), (["--expect", "full-cone"], 2)):
        rc, out, err, _ = run([NATCHECK, *args, "--metrics-file", os.path.join(tmp, "ok.prom"), target])
        names = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
        c.check(f"{' '.join(args)}, metrics written: the status word is the exit status's "
                f"({names[want]}, {want})", rc == want and out.startswith(f"NATCHECK {names[want]} - "),
                f"rc={rc} out={out!r}")
    rc, out, err, _ = run([NATCHECK, "--json", "--metrics-file", bad, target])
    doc = json.loads(out) if out.startswith("{") else {}
    c.check("--json with an unwritable --metrics-file: \"exit\" is the exit status (1), "
            "\"error\" says why", rc == 1 and doc.get("exit") == 1 and
            doc.get("error", "").startswith(f"--metrics-file {bad}: ") and doc.get("type") == "open",
            f"rc={rc} out={out[:300]!r}")
    schema_valid("--json with an unwritable --metrics-file", doc)

    # --pair --json: a "schema" key as every object has, valid against the
    # same JSON Schema, each key in the manual.
    saved = os.path.join(tmp, "a.json")
    rc, out, err, _ = run([NATCHECK, "--json", target])
    with open(saved, "w") as f:
        f.write(out)
    schema_valid("a run's --json", json.loads(out) if out.startswith("{") else None)
    rc, out, err, _ = run([NATCHECK, "--pair", saved, saved, "--json"])
    doc = json.loads(out) if out.startswith("{") else None
    c.check("--pair --json: \"schema\" comes first, 1", rc == 0 and out.startswith('{"schema":1,'),
            f"rc={rc} out={out[:200]!r}")
    schema_valid("--pair --json", doc)
    bad_pair = dict(doc or {}, path="sideways")
    c.check("the JSON Schema refuses a --pair object with a path natcheck never writes",
            validator is None or list(validator.iter_errors(bad_pair)) != [], bad_pair)
    opts = next((t for n, t in pages if n == "mandoc -Tascii"), pages[0][1] if pages else "")
    pair_entry = entry(opts, "--pair a.json b.json")
    pair_entry = pair_entry[pair_entry.find("With --json"):] if "With --json" in pair_entry else ""
    keys = list((doc or {}).keys()) + ["type", "mapping", "filtering", "allocation"]
    missing = [k for k in keys if not re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", pair_entry)]
    c.check("natcheck(1), --pair: names every key of --pair --json", pages and doc and not missing,
            f"missing {missing}: {pair_entry[-300:]!r}")

# ------------------------------------------------------------ a rate limit

def fields(out):
    """The text report's first block as {label: value}."""
    got = {}
    for line in out.splitlines():
        if line[:13].strip() and len(line) > 13 and line[:13].strip() not in got:
            got[line[:13].strip()] = line[13:]
    return got


def honest_run(name, out, err):
    """A run against the rate-limited server on loopback: nothing wrong
    (there is no NAT: open, or unknown), and no "no loss seen" beside
    warnings of requests nobody answered."""
    f = fields(out)
    c.check(f"{name}: no wrong verdict (open or unknown; behaviours endpoint-independent "
            f"or unknown)", f.get("NAT type") in ("Open Internet", "Unknown") and
            f.get("Mapping") in ("endpoint-independent", "unknown") and
            f.get("Filtering") in ("endpoint-independent", "unknown"), out[:400])
    c.check(f"{name}: the Time line reports the unanswered requests, no 'no loss seen' "
            f"beside 'no answer' warnings", "no answer from" not in err or
            ("no loss seen" not in f.get("Time", "") and "unanswered" in f.get("Time", "")),
            f"{f.get('Time')!r} / {err[-400:]!r}")


# natcheck --serve --rate 2: a fresh source gets a burst, then one answer
# each half second (later, perhaps, a smaller first allowance).
with Server(NATCHECK, rate=2) as srv:
    target = f"127.0.0.1:{srv.port}"
    rc, out, err, _ = run([NATCHECK, "-t", "3", target])
    honest_run("--rate 2, a fresh source", out, err)
    # The burst spent, as by a run just before: what is left goes to a
    # dozen requests from 127.0.0.1, then natcheck runs from there.
    s = udp("127.0.0.1")
    for _ in range(12):
        s.sendto(binding_request()[0], ("127.0.0.1", srv.port))
    s.close()
    rc, out, err, _ = run([NATCHECK, "-t", "3", target])
    honest_run("--rate 2, the burst spent", out, err)
    c.check("--rate 2, the burst spent: 'answers stopped after a burst: ... the server may "
            "be rate-limiting; negatives not trusted'",
            re.search(r"natcheck: warning: answers stopped after a burst: .*the server may be "
                      r"rate-limiting; negatives not trusted", err) is not None,
            f"rc={rc} err={err[-600:]!r}")
    s = udp("127.0.0.1")
    for _ in range(12):
        s.sendto(binding_request()[0], ("127.0.0.1", srv.port))
    s.close()
    rc, out, err, _ = run([NATCHECK, "--json", "-t", "3", target])
    doc = json.loads(out) if out.startswith("{") else {}
    codes = [f.get("code") for f in doc.get("findings", [])]
    c.check("--rate 2, the burst spent, --json: the finding answers-stopped, filtering not "
            "decided from silence", "answers-stopped" in codes and
            doc.get("filtering") in ("endpoint-independent", "unknown"), f"rc={rc} {codes}")

# ------------------------------------------------------------ server messages

# Two public addresses for one served address: that is the error, not a
# family that does not match (the second stands for nothing).
rc, out, err, _ = run([NATCHECK, "--serve", "127.0.0.1", "--advertise", "203.0.113.1,203.0.113.2"])
c.check("--serve ONE --advertise TWO: exit 2, says two public addresses for one served one",
        rc == 2 and "two public addresses for the one --serve address 127.0.0.1" in err
        and "family" not in err, f"rc={rc} err={err!r}")


def two_free_ports():
    """A free UDP port P on 127.0.0.1 whose P + 1 is free too (bounded)."""
    for _ in range(50):
        p = free_udp_ports(1, ("127.0.0.1",))[0]
        if p < 65535:
            try:
                udp("127.0.0.1", p + 1).close()
                return p
            except OSError:
                continue
    raise RuntimeError("no two adjacent free UDP ports")


def serve_alone(args, seconds=5.0):
    """natcheck --serve ARGS... --no-tcp (these checks need no TCP port)
    until it answers on the first -p port; (process, stderr file,
    answered)."""
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([NATCHECK, "--serve", *args, "--no-tcp"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=log)
    port = int(args[args.index("-p") + 1])
    ok = wait_ready(("127.0.0.1", port), seconds, alive=lambda: proc.poll() is None)
    return proc, log, ok


def stop(proc, log):
    """End the server by its PID; its stderr."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    log.seek(0)
    text = log.read()
    log.close()
    return text


# -p alone: the alternate port is the one above it.
P = two_free_ports()
proc, log, ok = serve_alone(["127.0.0.1", "-p", str(P)])
text = stop(proc, log)
c.check(f"--serve 127.0.0.1 -p {P}: serves, --alt-port defaults to {P + 1}",
        ok and f"serving on 127.0.0.1:{P} 127.0.0.1:{P + 1}\n" in text, text[:300])
usage_error("-p 65535 without --alt-port", ["--serve", "127.0.0.1", "-p", "65535"], "--alt-port")
rc, out, err, _ = run([NATCHECK, "--help"])
c.check("--help: --alt-port defaults to -p + 1",
        re.search(r"--alt-port port +server: alternate port \(default -p \+ 1", out) is not None, out[-900:])

# The metrics file is written at start-up, and one the server cannot write
# stops it there.
P = two_free_ports()
rc, out, err, _ = run([NATCHECK, "--serve", "127.0.0.1", "-p", str(P), "--no-tcp", "--metrics-file",
                       os.path.join(tmp, "no-such-dir", "server.prom")], timeout=10)
c.check("--serve --metrics-file in a missing directory: exit 1 at start-up, names the file",
        rc == 1 and "no-such-dir/server.prom" in err, f"rc={rc} err={err!r}")
good = os.path.join(tmp, "server.prom")
proc, log, ok = serve_alone(["127.0.0.1", "-p", str(P), "--metrics-file", good])
there = os.path.exists(good)
text = stop(proc, log)
c.check("--serve --metrics-file: written at start-up, before the first 10 s",
        ok and there and "natcheck_server_requests_total" in open(good).read(), text[:300])
if os.geteuid() == 0:
    nobody = pwd.getpwnam("nobody")
    closed_dir = tempfile.mkdtemp(prefix="natcheck-root-only-")
    os.chmod(closed_dir, 0o700)
    P = two_free_ports()
    t0 = time.monotonic()
    rc, out, err, _ = run([NATCHECK, "--serve", "127.0.0.1", "-p", str(P), "--no-tcp", "--user",
                           "nobody", "--metrics-file", os.path.join(closed_dir, "server.prom")],
                          timeout=10)
    c.check("--user nobody --metrics-file where nobody cannot write: exit 1 at start-up, "
            "names the file, the error and the user",
            rc == 1 and "server.prom" in err and "Permission denied" in err and "nobody" in err
            and time.monotonic() - t0 < 5, f"rc={rc} err={err!r}")
    os.chmod(closed_dir, 0o755)
    os.chown(closed_dir, nobody.pw_uid, nobody.pw_gid)
    proc, log, ok = serve_alone(["127.0.0.1", "-p", str(P), "--user", "nobody", "--metrics-file",
                                 os.path.join(closed_dir, "server.prom")])
    st = os.stat(os.path.join(closed_dir, "server.prom")) if ok else None
    stop(proc, log)
    c.check("--user nobody --metrics-file where nobody can write: serves, the file is nobody's",
            ok and st is not None and st.st_uid == nobody.pw_uid, st)
    shutil.rmtree(closed_dir, ignore_errors=True)
else:
    print("skip  --user with --metrics-file: needs root")

shutil.rmtree(tmp, ignore_errors=True)
c.finish()
