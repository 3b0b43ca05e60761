"""End to end: the server list - the built-in one, and --servers FILE.

Usage: python3 tests/e2e/server_list.py ./natcheck

Only 127.0.0.0/8 is contacted (natcheck --serve on 127.0.0.1,127.0.0.2).
The built-in list of public servers is never contacted: natcheck runs
under `unshare -rn` (a network namespace with no interface up, so no name
resolves and no datagram can leave), and only what -v says is checked.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, Server, free_udp_ports, run  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
HINT = " (see natcheck --help)\n"
c = Checks()
tmp = tempfile.mkdtemp(prefix="natcheck-servers-")


def write(name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def usage_error(name, args, why):
    """Exit 2, nothing on stdout, one stderr line naming why."""
    rc, out, err, _ = run([NATCHECK, *args])
    c.check(f"usage error, {name}: exit 2, one line: {why!r}",
            rc == 2 and out == "" and err.endswith(HINT) and err.count("\n") == 1
            and why in err, f"rc={rc} err={err!r}")


try:
    # --servers: the file's servers are the run's servers, in order.
    with Server(NATCHECK) as srv:
        dead = free_udp_ports(1)[0]
        path = write("good", (f"# two servers, one closed\n\n  127.0.0.1:{dead}   # nothing there\n"
                              f"\t127.0.0.1:{srv.port}\r\n").encode())
        rc, out, err, _ = run([NATCHECK, "--json", "-t", "2", "--no-portmap", "--servers", path])
        doc = json.loads(out) if out.startswith("{") else None
        c.check("--servers FILE: comments, blanks, tabs and CRLF are fine; the live server is used",
                doc is not None and doc["server"] == f"127.0.0.1:{srv.port}" and doc["type"] == "open",
                f"rc={rc} out={out[:300]!r} err={err[-300:]!r}")
        c.check("--servers FILE: the closed first server is named",
                doc is not None and any(f["code"] == "no-stun-server" and
                                        f.get("address") == f"127.0.0.1:{dead}"
                                        for f in doc["findings"]),
                out[:600])
        rc, out, err, _ = run([NATCHECK, "-q", "-t", "2", "--no-portmap", f"--servers={path}"])
        c.check("--servers=FILE is --servers FILE", rc == 0 and out == "open\n", f"rc={rc} {err!r}")

    # Hostile or wrong files: a usage error naming the line.
    usage_error("two words on a line", ["--servers", write("two", b"# x\n127.0.0.1 127.0.0.2\n")],
                "line 2: one host[:port] a line")
    usage_error("a NUL byte", ["--servers", write("nul", b"127.0.0.1\n\n1\x0027.0.0.2\n")],
                "line 3: a NUL byte")
    usage_error("a control character", ["--servers", write("ctl", b"127.0.0.1\x1b[2J\n")],
                "line 1: a control character")
    usage_error("an overlong line", ["--servers", write("long", b"a" * 300 + b"\n")],
                "line 1: longer than 264 characters")
    usage_error("a bad port", ["--servers", write("port", b"127.0.0.1:0\n127.0.0.1:99999\n")],
                "line 1: '127.0.0.1:0'")
    usage_error("IPv4 shorthand", ["--servers", write("short", b"\n127.1\n")],
                "line 2: '127.1': not an address")
    usage_error("nine servers", ["--servers",
                                 write("nine", "".join(f"127.0.0.{i}\n" for i in range(1, 10)).encode())],
                "line 9: more than 8 servers")
    usage_error("comments only", ["--servers", write("empty", b"# none\n\n   # still none\n")],
                "no server in it")
    usage_error("larger than 64 KiB", ["--servers", write("big", b"#" * 70000 + b"\n")],
                "larger than 65536 bytes")
    usage_error("missing file", ["--servers", os.path.join(tmp, "absent")], "No such file")
    usage_error("with an operand", ["--servers", write("one", b"127.0.0.1\n"), "127.0.0.2"],
                "--servers and server operands exclude each other")
    usage_error("empty path", ["--servers="], "empty")

    # No server: the built-in list, never contacted (no network at all).
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"]).returncode == 0:
        rc, out, err, _ = run(["unshare", "-rn", NATCHECK, "-v", "--no-portmap", "-t", "1"])
        lines = [ln for ln in err.splitlines() if "listed as RFC 5780 capable by" in ln]
        c.check("no server: -v names the built-in list, stun.hot-chilli.net first",
                "the built-in list (8 servers)" in err and len(lines) == 8
                and "stun.hot-chilli.net:3478" in lines[0], err[:800])
        c.check("no server: each entry names its source, the file's commit and when it was read",
                all("always-online-stun valid_nat_testing_hosts.txt, commits e6ef224f and 0002108c (read 20" in ln
                    for ln in lines), err[:800])
        c.check("no server, no network: exit 1 with the resolution error, no STUN request sent",
                rc == 1 and "no server of the built-in list resolves" in err
                and not any(w in err for w in ("ms  send", "IPv4 send", "IPv6 send")), f"rc={rc} {err[-300:]!r}")
    else:
        c.check("unshare -rn is available to test the built-in list without a network", False)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
c.finish()
