"""End to end: --format prometheus and --metrics-file against the real tools.

Usage: python3 tests/e2e/monitor_prom.py ./natcheck

`promtool check metrics` (Debian package prometheus) must accept every
exposition natcheck prints (a verdict, unknown, UDP blocked, an error).  A
real prometheus-node-exporter, started on a free 127.0.0.1 port with only
its textfile collector, must serve what --metrics-file wrote when scraped
over HTTP, and with --watch a changed verdict must show in a later scrape.
Only 127.0.0.0/8 is contacted; node_exporter is ended by its PID.
"""
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, Server, prom_samples, run  # noqa: E402
from stunlib import promtool as check_metrics  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
# -b with an address this host does not have (TEST-NET-1): the run cannot
# even open its sockets, an error (exit 1) that sends nothing.
NOT_HERE = "192.0.2.1"
c = Checks()
NODE_EXPORTER = shutil.which("prometheus-node-exporter")
if not shutil.which("promtool"):
    c.check("promtool is installed (Debian package prometheus)", False)
    c.finish()
if not NODE_EXPORTER:
    c.check("prometheus-node-exporter is installed (Debian package prometheus-node-exporter)", False)
    c.finish()

samples = prom_samples


def one_hot(s, name, label):
    """The label values of `name` whose gauge is 1, and the count of 0s."""
    ones = [dict(k[1])[label] for k, v in s.items() if k[0] == name and v == 1]
    zeros = sum(1 for k, v in s.items() if k[0] == name and v == 0)
    return ones, zeros


def promtool(name, text):
    check_metrics(c, name, text)


def prom(args, timeout=30):
    return run([NATCHECK, "--format", "prometheus", *args], timeout)


# promtool must be able to say no, or its yes means nothing.
p = subprocess.run(["promtool", "check", "metrics"], input="natcheck_x 1\n", capture_output=True, text=True)
c.check("promtool rejects a metric without HELP", p.returncode != 0, p.returncode)

silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", 0))
SILENT = f"127.0.0.1:{silent.getsockname()[1]}"

with Server(NATCHECK) as srv:
    target = f"127.0.0.1:{srv.port}"
    rc, out, err, _ = prom([target])
    promtool("open", out)
    s = samples(out)
    c.check("open: exit 0, type one-hot on open (1 one, 7 zeros)",
            rc == 0 and one_hot(s, "natcheck_nat_type", "type") == (["open"], 7), one_hot(s, "natcheck_nat_type", "type"))
    c.check("open: mapping and filtering one-hot",
            one_hot(s, "natcheck_mapping", "behaviour") == (["endpoint-independent"], 3) and
            one_hot(s, "natcheck_filtering", "behaviour") == (["endpoint-independent"], 3), out)
    c.check("open: every sample has server=\"127.0.0.1:PORT\"",
            s and all(("server", target) in k[1] for k in s), target)
    c.check("open: server_up 1, loss 0, elapsed and timestamp present",
            s.get(("natcheck_server_up", frozenset({("server", target)}))) == 1 and
            s.get(("natcheck_loss_ratio", frozenset({("server", target)}))) == 0 and
            ("natcheck_elapsed_seconds", frozenset({("server", target)})) in s and
            abs(s.get(("natcheck_last_run_timestamp_seconds", frozenset({("server", target)})), 0) - time.time()) < 120, out)
    c.check("open: no hairpinning sample without a NAT (HELP/TYPE only)",
            not any(k[0] == "natcheck_hairpinning" for k in s) and "# TYPE natcheck_hairpinning gauge" in out, out)
    fam = {f: frozenset({("server", target), ("family", f)}) for f in ("ipv4", "ipv6")}
    c.check("open: per family, ipv4 tested and open, ipv6 (no address) 0 and no type",
            s.get(("natcheck_family_tested", fam["ipv4"])) == 1 and
            s.get(("natcheck_family_tested", fam["ipv6"])) == 0 and
            s.get(("natcheck_family_nat_type", fam["ipv4"] | {("type", "open")})) == 1 and
            not any(k[0].startswith("natcheck_family_") and ("family", "ipv6") in k[1] and v == 1
                    for k, v in s.items()) and
            ("natcheck_family_elapsed_seconds", fam["ipv4"]) in s and
            ("natcheck_family_elapsed_seconds", fam["ipv6"]) not in s, out)
    for metric in ("natcheck_nat_type", "natcheck_mapping", "natcheck_filtering", "natcheck_hairpinning",
                   "natcheck_server_up", "natcheck_elapsed_seconds", "natcheck_loss_ratio",
                   "natcheck_family_tested", "natcheck_family_nat_type", "natcheck_family_mapping",
                   "natcheck_family_filtering", "natcheck_family_hairpinning",
                   "natcheck_family_loss_ratio", "natcheck_family_elapsed_seconds",
                   "natcheck_last_run_timestamp_seconds"):
        c.check(f"{metric}: HELP and TYPE gauge", f"# HELP {metric} " in out and f"# TYPE {metric} gauge\n" in out)

with Server(NATCHECK, spec="127.0.0.1") as one:
    rc, out, err, _ = prom([f"127.0.0.1:{one.port}"])
    promtool("unknown", out)
    c.check("unknown: exit 16, type=\"unknown\" 1", rc == 16 and one_hot(samples(out), "natcheck_nat_type", "type")[0] == ["unknown"], out)

rc, out, err, _ = prom(["-t", "0.3", SILENT])
promtool("udp-blocked", out)
c.check("udp-blocked: exit 15, type=\"udp-blocked\" 1, loss absent",
        rc == 15 and one_hot(samples(out), "natcheck_nat_type", "type")[0] == ["udp-blocked"] and
        not any(k[0] == "natcheck_loss_ratio" for k in samples(out)), out)

rc, out, err, _ = prom(["-b", NOT_HERE, "-t", "1", "127.0.0.1"])
promtool("error", out)
s = samples(out)
c.check("error: exit 1, server_up 0, no type is 1 (an error is never a type)",
        rc == 1 and s.get(("natcheck_server_up", frozenset({("server", "127.0.0.1:3478")}))) == 0 and
        one_hot(s, "natcheck_nat_type", "type") == ([], 8), out)

# A label value is escaped: a server name with a quote and a backslash
# cannot be resolved, but its label must still be well-formed.  Looked up
# in an empty network namespace, so no query leaves the machine.
if os.geteuid() == 0 and subprocess.run(["unshare", "-n", "true"]).returncode == 0:
    rc, out, err, _ = run(["unshare", "-n", NATCHECK, "--format", "prometheus", "-t", "0.1",
                           'a"b\\c.invalid'], 60)
    c.check("error with a quote and a backslash in the server: escaped label",
            rc == 1 and 'server="a\\"b\\\\c.invalid:3478"' in out, out[:300])
    promtool("escaped label", out)
else:
    c.skip("escaped label (needs root and unshare for a name lookup that stays local)")


# ---------------------------------------------------------------- node_exporter

def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def terminate(proc):
    """SIGTERM to our child, by its PID; SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


tmp = tempfile.mkdtemp(prefix="natcheck-prom.")
mfile = os.path.join(tmp, "natcheck.prom")
ne = None
ne_log = tempfile.TemporaryFile()
try:
    for _ in range(5):
        ne_port = free_tcp_port()
        ne = subprocess.Popen([NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{ne_port}",
                               "--collector.disable-defaults", "--collector.textfile",
                               f"--collector.textfile.directory={tmp}"],
                              stdout=ne_log, stderr=ne_log, stdin=subprocess.DEVNULL)
        up = False
        for _ in range(100):
            if ne.poll() is not None:
                break
            try:
                scrape(ne_port)
                up = True
                break
            except OSError:
                time.sleep(0.1)
        if up:
            break
        if ne.poll() is None:
            ne.kill()
            ne.wait()
    c.check("node_exporter starts on 127.0.0.1 with only the textfile collector", up)

    with Server(NATCHECK) as srv:
        target = f"127.0.0.1:{srv.port}"
        rc, out, err, _ = run([NATCHECK, "-q", "--metrics-file", mfile, target])
        c.check("--metrics-file with -q: stdout stays the word, exit 0", rc == 0 and out == "open\n", (rc, out, err))
        mode = stat.S_IMODE(os.stat(mfile).st_mode) if os.path.exists(mfile) else None
        c.check("--metrics-file: the file is readable by the collector's user (0644)", mode == 0o644, oct(mode or 0))
        c.check("--metrics-file: no temporary file left beside it", os.listdir(tmp) == ["natcheck.prom"], os.listdir(tmp))
        body = scrape(ne_port) if up else ""
        s = samples(body)
        c.check("scrape: node_exporter serves natcheck_nat_type{type=\"open\"} 1",
                s.get(("natcheck_nat_type", frozenset({("server", target), ("type", "open")}))) == 1, body[-600:])
        c.check("scrape: the textfile collector had no error", "node_textfile_scrape_error 0" in body, body[-300:])

        # --watch: the server goes away; the next scrape shows the change.
        w = subprocess.Popen([NATCHECK, "--watch", "0.3", "-t", "0.4", "--metrics-file", mfile, target],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.0)
            before = samples(scrape(ne_port)) if up else {}
            srv.stop()
            after = {}
            torn = 0
            for _ in range(300):
                with open(mfile) as f:
                    text = f.read()
                if not text.rstrip("\n").split("\n")[-1].startswith("natcheck_last_run_timestamp_seconds{"):
                    torn += 1
                after = samples(scrape(ne_port)) if up else {}
                if after.get(("natcheck_server_up", frozenset({("server", target)}))) == 0:
                    break
                time.sleep(0.1)
            c.check("--watch: scrape before: open", before.get(
                ("natcheck_nat_type", frozenset({("server", target), ("type", "open")}))) == 1)
            # A stopped server on loopback is refused at once (ICMP port
            # unreachable): an error, so server_up 0 and no type at all.
            types_up = [k for k, val in after.items() if k[0] == "natcheck_nat_type" and val == 1]
            c.check("--watch: a later scrape shows the change (server_up 0, no type 1, open 0)",
                    after.get(("natcheck_server_up", frozenset({("server", target)}))) == 0 and
                    not types_up and
                    after.get(("natcheck_nat_type", frozenset({("server", target), ("type", "open")}))) == 0, after)
            c.check("--watch: every read of the file was a whole exposition", torn == 0, torn)
        finally:
            terminate(w)
        c.check("--watch --metrics-file: SIGTERM, status 0, no temporary file left",
                w.returncode == 0 and os.listdir(tmp) == ["natcheck.prom"], (w.returncode, os.listdir(tmp)))
finally:
    if ne is not None:
        terminate(ne)
    shutil.rmtree(tmp, ignore_errors=True)

# A metrics file that cannot be written: a single run is an error.
rc, out, err, _ = run([NATCHECK, "-q", "-t", "0.2", "--metrics-file", "/nonexistent-dir/x.prom", SILENT])
c.check("--metrics-file in a missing directory: exit 1, said on stderr",
        rc == 1 and "--metrics-file /nonexistent-dir/x.prom" in err, (rc, err))
silent.close()

c.finish()
