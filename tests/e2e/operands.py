"""End to end: what users really type - server operands and option words.

Usage: python3 tests/e2e/operands.py ./natcheck

An IPv6 address whose last group could be a port, an IPv4-mapped IPv6
address, a link-local address with its zone, stun: URIs (RFC 7064) as
WebRTC users paste them and the URIs natcheck does not take yet, a server
given twice, an address of a family -4 or -6 leaves out, "help" for
--help, an option one typo away from a real one, --expect words as people
write them, --pair with one file, "--lifetime 5" (with the verdict at
once, a progress line through the wait, no keepalive advice without a
NAT).  Every usage error exits 2 with the
usual hint and sends nothing.  Only 127.0.0.0/8, ::1 and (inside
`unshare -n`) fe80::1 on the namespace's own loopback are contacted.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, Server, on_pty, run  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
HINT = " (see natcheck --help)\n"
c = Checks()
tmp = tempfile.mkdtemp(prefix="natcheck-operands-")


def usage_error(name, args, *why, status=2):
    """Exit 2 (3 as a plugin), nothing on stdout but a plugin's line, one
    stderr line with the hint and every word of why; at once (nothing is
    sent, so nothing is waited for)."""
    rc, out, err, secs = run([NATCHECK, *args])
    c.check(f"usage error, {name}: exit {status}, one line saying {' / '.join(why)!r}",
            rc == status and (out == "" or status == 3) and err.startswith("natcheck: ")
            and err.endswith(HINT) and err.count("\n") == 1 and all(w in err for w in why)
            and secs < 2, f"rc={rc} {secs:.1f} s out={out!r} err={err!r}")


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


try:
    # An IPv6 address without brackets whose last group could be a port:
    # before, "::1:3478" was the address ::0.1.52.120, 3 s of silence and
    # a confident "UDP Blocked".
    usage_error("::1:3478", ["::1:3478"], "in brackets: [::1]:3478", "[::1:3478] for the address alone")
    usage_error("2001:db8::1:19302 (no address at all)", ["2001:db8::1:19302"], "[2001:db8::1]:19302")
    usage_error("::1:3478 in a --servers file", ["--servers", write("amb", "::1:3478\n")],
                "line 1", "[::1]:3478")
    # An IPv4-mapped IPv6 address is IPv4: say which address to give.
    usage_error("::ffff:127.0.0.1", ["::ffff:127.0.0.1"], "IPv4-mapped", "give the IPv4 address 127.0.0.1")
    usage_error("[::ffff:127.0.0.1]:3478", ["[::ffff:127.0.0.1]:3478"], "127.0.0.1")
    usage_error("a zone on a global address", ["2001:db8::1%lo"], "link-local")
    usage_error("a zone naming no interface", ["fe80::1%no-such-if0"], "no interface 'no-such-if0'")

    # stun: URIs; the others are not supported yet, which is a usage
    # error, not a resolver's.
    for uri, what in [("stuns:stun.example.org", "stuns: URIs (STUN over TLS) are not supported yet"),
                      ("turn:turn.example.org?transport=udp", "turn: URIs (TURN relays) are not supported yet"),
                      ("turns:turn.example.org:443?transport=tcp", "turns: URIs (TURN relays)"),
                      ("TURN:192.0.2.1", "turn: URIs")]:
        usage_error(uri, [uri], what, "give stun:host[:port]")
    usage_error("stun://host", ["stun://stun.example.org"], "no '//' after stun:")
    usage_error("stun:IPv6 without brackets", ["stun:2001:db8::1"], "goes in brackets")
    usage_error("stun:host:port out of range", ["stun:127.0.0.1:99999"], "out of range")
    usage_error("turn: in a --servers file", ["--servers", write("turn", "# relays\nturn:192.0.2.1\n")],
                "line 2", "turn: URIs")

    # Usage errors that used to be run errors (exit 1) or worse.
    usage_error("a server given twice", ["127.0.0.1", "127.0.0.1"], "'127.0.0.1' is given twice")
    usage_error("a server given twice, once with its default port", ["127.0.0.1", "127.0.0.1:3478"],
                "given twice")
    usage_error("a name given twice, in other case and with a final dot",
                ["stun.example.org", "STUN.example.org."], "given twice")
    usage_error("-6 with an IPv4 address", ["-6", "127.0.0.1"], "IPv4 address", "-6")
    usage_error("-4 with an IPv6 address", ["-4", "[::1]:3478"], "IPv6 address", "-4")
    usage_error("--pair with one file", ["--pair", write("a.json", "{}")], "--pair needs two files")
    usage_error("--pair with one file and an option", ["--pair", write("b.json", "{}"), "--json"],
                "--pair needs two files")
    usage_error("natcheck help", ["help"], "'help' is not a server", "--help")
    usage_error("natcheck version", ["version"], "--version")
    usage_error("natcheck HELP", ["HELP"], "--help")
    usage_error("--jsn", ["--jsn", "127.0.0.1"], "unknown option --jsn; did you mean --json?")
    usage_error("--tpc", ["--tpc"], "did you mean --tcp?")
    usage_error("--lifetim=30", ["--lifetim=30"], "unknown option --lifetim; did you mean --lifetime?")
    usage_error("-json", ["-json"], "did you mean --json?")
    usage_error("--bogus-option", ["--bogus-option"], "unknown option --bogus-option")
    rc, out, err, _ = run([NATCHECK, "--bogus-option"])
    c.check("nothing is suggested for a word far from every option", "did you mean" not in err, err)
    usage_error("--lifetime 2 (the word is its maximum, checked)", ["--lifetime", "2", "127.0.0.1"],
                "--lifetime: 2 seconds is out of range")

    with Server(NATCHECK) as srv:
        # stun:host[:port] as a server, in an operand and in a file.
        rc, out, err, _ = run([NATCHECK, "-q", "-t", "2", "--no-portmap", f"stun:127.0.0.1:{srv.port}"])
        c.check("stun:127.0.0.1:PORT is that server", rc == 0 and out == "open\n", f"rc={rc} {err!r}")
        rc, out, err, _ = run([NATCHECK, "--json", "-t", "2", "--no-portmap",
                               "--servers", write("uri", f"stun:127.0.0.1:{srv.port}\n")])
        doc = json.loads(out) if out.startswith("{") else {}
        c.check("stun:127.0.0.1:PORT in a --servers file",
                rc == 0 and doc.get("server") == f"127.0.0.1:{srv.port}", f"rc={rc} {out[:200]!r} {err!r}")
        rc, out, err, _ = run([NATCHECK, "-q", "-t", "2", "--no-portmap", "STUN:127.0.0.1", str(srv.port)])
        c.check("STUN:127.0.0.1 PORT: the scheme in any case, the port as the next word",
                rc == 0 and out == "open\n", f"rc={rc} {err!r}")

        # --expect words as people write them.
        for words in ("Open", "OPEN", "Open Internet", "open,Full-Cone"):
            rc, out, err, _ = run([NATCHECK, "--expect", words, "-t", "2", "--no-portmap",
                                   f"127.0.0.1:{srv.port}"])
            c.check(f"--expect {words!r}: accepted, OK", rc == 0 and out.startswith("NATCHECK OK"),
                    f"rc={rc} {out!r} {err!r}")
        rc, out, err, _ = run([NATCHECK, "--expect", "Full-Cone,port restricted cone", "-t", "2",
                               "--no-portmap", f"127.0.0.1:{srv.port}"])
        c.check("--expect 'Full-Cone,port restricted cone': accepted, CRITICAL for an open path",
                rc == 2 and out.startswith("NATCHECK CRITICAL"), f"rc={rc} {out!r} {err!r}")

        # --lifetime 5 (its maximum as the next word), stderr on a terminal:
        # the verdict at once, then a progress line through the wait; no
        # keepalive advice where there is no NAT.
        rc, out, tty = on_pty([NATCHECK, "--lifetime", "5", "--no-portmap", f"127.0.0.1:{srv.port}"], 90)
        out, tty = out.decode(), tty.decode("latin-1")
        verdict = tty.find("natcheck: Open Internet (no NAT); now measuring how long an idle binding "
                           "lives, up to 5 s (this takes up to 12 s more)")
        progress = tty.find("natcheck: measuring the binding lifetime, 2 s (at most 12 s)")
        c.check("--lifetime 5: the separate word is its maximum", rc == 0 and "Lifetime     at least 5.0 s" in out,
                f"rc={rc} {out!r} {tty[-300:]!r}")
        c.check("--lifetime: the verdict is on the terminal before the wait", verdict >= 0, tty[-600:])
        c.check("--lifetime: a progress line during the wait, after the verdict, erased at the end",
                0 <= verdict < progress and tty.rfind("\r\x1b[K") > progress, tty[-600:])
        c.check("--lifetime without a NAT: no keepalive advice",
                "keepalive every" not in out and "no keepalive needed (no NAT, nothing expired)" in out, out)

    # A link-local address keeps its zone: a server on fe80::1 of the
    # namespace's loopback, which answers with a plain MAPPED-ADDRESS.
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
        script = r'''
import os, socket, struct, subprocess, sys, threading
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["ip", "-6", "addr", "add", "fe80::1/64", "dev", "lo", "nodad"], check=True)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("fe80::1", 0, 0, socket.if_nametoindex("lo")))
s.settimeout(0.1)
port, got, stop = s.getsockname()[1], [], threading.Event()
def serve():
    while not stop.is_set():
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        got.append(peer)
        if len(data) < 20 or data[0:2] != b"\x00\x01":
            continue
        value = struct.pack("!BBH", 0, 2, peer[1]) + socket.inet_pton(socket.AF_INET6, peer[0].split("%")[0])
        body = struct.pack("!HH", 1, len(value)) + value
        s.sendto(struct.pack("!HH", 0x0101, len(body)) + data[4:20] + body, peer)
threading.Thread(target=serve, daemon=True).start()
p = subprocess.run([sys.argv[1], "--json", "-t", "1", "--no-portmap", "[fe80::1%%lo]:%d" % port],
                   capture_output=True, text=True, timeout=30)
stop.set()
print(len(got)); print(p.returncode); print(p.stderr.replace("\n", " ")); print(p.stdout)
'''
        p = subprocess.run(["unshare", "-n", "python3", "-c", script, NATCHECK], capture_output=True,
                           text=True, timeout=60)
        lines = p.stdout.split("\n", 3)
        ok = p.returncode == 0 and len(lines) == 4
        doc = {}
        if ok:
            try:
                doc = json.loads(lines[3])
            except ValueError:
                pass
        c.check("fe80::1%lo: the requests reach the link-local server (the zone is kept)",
                ok and int(lines[0]) > 0 and "Invalid argument" not in lines[2], p.stdout + p.stderr)
        c.check("fe80::1%lo: its answer is taken (a mapped address, no NAT)",
                ok and str(doc.get("mapped", "")).startswith("[fe80::") and doc.get("nat") is False,
                p.stdout[-600:] + p.stderr[-300:])
    else:
        print("skip  a link-local server with its zone (needs root, unshare and ip)")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
c.finish()
