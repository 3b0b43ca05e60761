"""End to end: natcheck's command line - long forms, input checks, exit codes.

Usage: python3 tests/e2e/cli_options.py ./natcheck

Only 127.0.0.0/8 is contacted (natcheck --serve on 127.0.0.1,127.0.0.2).
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, Server, free_udp_ports, run  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
HINT = " (see natcheck --help)\n"
c = Checks()


def usage_error(name, args, why=""):
    """Exit 2, nothing on stdout, one stderr line ending in the hint."""
    rc, out, err, _ = run([NATCHECK, *args])
    c.check(f"usage error, {name}: exit 2, one line with the hint",
            rc == 2 and out == "" and err.startswith("natcheck: ") and err.endswith(HINT)
            and err.count("\n") == 1 and why in err, f"rc={rc} err={err!r}")


# Every short option has a long form, and both give the same run.
with Server(NATCHECK) as srv:
    target = f"127.0.0.1:{srv.port}"
    pin = free_udp_ports(1)[0]
    rc, out, err, _ = run([NATCHECK, "--ipv4", "--quiet", "--timeout", "2", "--verbose",
                           f"--bind=127.0.0.1:{pin}", target])
    c.check("--ipv4 --quiet --timeout --verbose --bind: open, exit 0",
            rc == 0 and out == "open\n", f"rc={rc} out={out!r} err={err[-300:]!r}")
    c.check("--verbose logs like -v, --bind pins the mapping socket",
            f"local   map     socket 127.0.0.1:{pin}" in err and " send " in err, err[:300])
    rc, out, err, _ = run([NATCHECK, "--json", "--timeout=2", "--bind", "127.0.0.1", target])
    doc = json.loads(out) if rc == 0 else None
    c.check("--timeout=2 and --bind ADDR (no port): a fresh port on that address",
            doc is not None and doc["local"].startswith("127.0.0.1:") and doc["local"] != f"127.0.0.1:{pin}",
            f"rc={rc} out={out[:200]!r}")
    rc, out, err, _ = run([NATCHECK, "--ipv6", "--quiet", target])
    c.check("--ipv6 with an IPv4 server: a usage error (as -6)", rc == 2, f"rc={rc} err={err!r}")

p1, p2 = free_udp_ports(2)
srv = subprocess.Popen([NATCHECK, "--serve", "127.0.0.1", "--port", str(p1), "--alt-port", str(p2)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
try:
    ok = False
    for _ in range(25):
        rc, doc_out, _, _ = run([NATCHECK, "--json", "-t", "1", f"127.0.0.1:{p1}"])
        if doc_out and json.loads(doc_out)["mapped"]:
            ok = True
            break
    c.check("--serve with --port: serves on that port", ok, f"rc={rc}")
finally:
    srv.terminate()
    srv.wait(timeout=5)

rc, out, err, _ = run([NATCHECK, "-h"])
rc2, out2, _, _ = run([NATCHECK, "--help"])
c.check("-h is --help", rc == 0 and rc2 == 0 and out == out2 and out.startswith("usage: "), repr(out[:80]))
for short, long_ in [("-4", "--ipv4"), ("-6", "--ipv6"), ("-b", "--bind"), ("-q", "--quiet"),
                     ("-t", "--timeout"), ("-v", "--verbose"), ("-p", "--port"), ("-h", "--help")]:
    c.check(f"--help lists {short} and {long_} on one line",
            any(line.strip().startswith(f"{short}, {long_}") for line in out.splitlines()), out)

# -b: a concrete unicast address of this host.
for name, arg, why in [
    ("-b wildcard 0.0.0.0", "0.0.0.0", "wildcard"),
    ("-b wildcard ::", "[::]:5000", "wildcard"),
    ("-b multicast", "224.0.0.1", "multicast"),
    ("-b IPv6 multicast", "ff02::1", "multicast"),
    ("-b limited broadcast", "255.255.255.255", "broadcast"),
    ("-b broadcast of lo's 127/8", "127.255.255.255", "broadcast"),
    ("-b explicit port 0", "127.0.0.1:0", "port 0"),
    ("-b port not a number", "127.0.0.1:abc", "not a number"),
    ("-b unclosed bracket", "[::1", "']'"),
    ("-b empty", "", ""),
    ("-b a name", "localhost", "not an IP address"),
    ("-b inet_aton shorthand", "127.1", "not an IP address"),
]:
    usage_error(name, ["-b", arg, "127.0.0.1"], why)
usage_error("--bind wildcard", ["--bind=0.0.0.0", "127.0.0.1"], "wildcard")

# A subnet's broadcast address is refused, the host's own address on that
# subnet is not (an interface without "brd" once made glibc report the
# host's own address as the broadcast).  In a fresh namespace, lab prefix.
if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
    script = ('ip link set lo up && ip link add v0 type veth peer name v1 && '
              'ip addr add 192.0.2.10/24 dev v0 && ip link set v0 up && ip link set v1 up || exit 99; '
              '"$0" -q -t 0.2 -b 192.0.2.10 192.0.2.10 >/dev/null 2>&1; echo "own $?"; '
              '"$0" -q -t 0.2 -b 192.0.2.255 192.0.2.10 2>&1; echo "brd $?"')
    rc, out, err, _ = run(["unshare", "-n", "sh", "-c", script, NATCHECK])
    c.check("-b 192.0.2.10 on 192.0.2.10/24 (no brd): accepted",
            rc == 0 and "own 2" not in out and "own " in out, f"rc={rc} out={out!r} err={err!r}")
    c.check("-b 192.0.2.255 on 192.0.2.10/24: a broadcast address, exit 2",
            "broadcast address" in out and "brd 2" in out, f"rc={rc} out={out!r}")
else:
    c.skip("-b and a local subnet's broadcast (needs root, unshare and ip)")
usage_error("-4 with an IPv6 -b", ["-4", "-b", "::1", "127.0.0.1"], "family")

# -t: plain decimal numbers only.
for arg in ["0x1p-3", " 0.1", "0.1 ", "+1", "-1", "1e1", "inf", "nan", "", ".", "1.2.3", "1,5", "0.04", "3601"]:
    usage_error(f"-t {arg!r}", ["-t", arg, "127.0.0.1"], "-t")
usage_error("--timeout hex", ["--timeout=0x10", "127.0.0.1"], "--timeout")
usage_error("--json with a value", ["--json=yes", "127.0.0.1"], "takes no argument")
usage_error("--quiet with a value", ["--quiet=1", "127.0.0.1"], "takes no argument")
usage_error("unknown long option", ["--ipv5", "127.0.0.1"], "unknown option")

# --help and --version to a full device: exit 1 and say so.
for opt in ["--help", "--version", "-h"]:
    with open("/dev/full", "w") as full:
        p = subprocess.run([NATCHECK, opt], stdout=full, stderr=subprocess.PIPE, text=True, timeout=10)
    c.check(f"{opt} > /dev/full: exit 1 with a message",
            p.returncode == 1 and p.stderr.startswith("natcheck: writing"), f"rc={p.returncode} err={p.stderr!r}")

c.finish()
