"""Inside `unshare -m -n`: the namespace of tests/e2e/resolve_offline.py.

Usage (by resolve_offline.py only): _resolve_ns.py NATCHECK MODE CONF HOSTS CASES OUT TMP

Brings lo up, bind-mounts CONF over /etc/resolv.conf and HOSTS over
/etc/hosts (private to this mount namespace), starts the DNS server of
MODE on 127.0.0.1:53 - "sink" (reads, never answers, records the
questions), "dnsmasq" (a real one that knows stun.test and v6only.test,
with natcheck --serve on 127.0.0.1,127.0.0.2 for "PORT" in the cases),
or "none" - runs natcheck once per case and writes
{"runs": [[rc, stdout, stderr, seconds]...], "queries": [[name, type]...]}
to OUT.  Everything it starts it ends by PID; the namespace goes with it.
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import on_pty  # noqa: E402

natcheck, mode, conf, hosts, cases, out, tmp = sys.argv[1:8]
cases = json.loads(cases)
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
for name, text in (("resolv.conf", conf), ("hosts", hosts)):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    subprocess.run(["mount", "--bind", path, "/etc/" + name], check=True)

queries, stop, children = [], threading.Event(), []


def qname(data):
    """(name, type) of a query, or None."""
    off, labels = 12, []
    while off < len(data) and data[off] != 0:
        n = data[off]
        labels.append(data[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    if off + 3 > len(data):
        return None
    return ".".join(labels), struct.unpack("!H", data[off + 1:off + 3])[0]


def sink(sock):
    while not stop.is_set():
        try:
            data = sock.recv(2048)
        except socket.timeout:
            continue
        q = qname(data)
        if q:
            queries.append(q)


def ask(name):
    """A query for name to 127.0.0.1:53: answered within 0.2 s?"""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00\x00\x01\x00\x01"
    try:
        s.sendto(q, ("127.0.0.1", 53))
        return s.recv(2048)[:2] == b"\x12\x34"
    except OSError:
        return False
    finally:
        s.close()


port = None
if mode == "sink":
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 53))
    sock.settimeout(0.05)
    threading.Thread(target=sink, args=(sock,), daemon=True).start()
elif mode == "dnsmasq":
    zone = os.path.join(tmp, "zone")
    with open(zone, "w") as f:
        f.write("127.0.0.1 stun.test\n::1 v6only.test\n")
    children.append(subprocess.Popen(
        ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
         "--addn-hosts=" + zone, "--local=/test/", "--listen-address=127.0.0.1", "--bind-interfaces",
         "--port=53", "--user=root", "--group=root", "--pid-file=" + os.path.join(tmp, "dnsmasq.pid"),
         "--log-facility=" + os.path.join(tmp, "dnsmasq.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    children.append(subprocess.Popen([natcheck, "--serve", "127.0.0.1,127.0.0.2", "-p", str(port),
                                      "--alt-port", str(port + 1), "--rate", "0"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for _ in range(100):
        if ask("stun.test"):
            break
        time.sleep(0.05)


runs = []
try:
    for case in cases:
        tty = isinstance(case, list) and len(case) == 2 and case[0] == "pty"
        args = [a.replace("PORT", str(port)) for a in (case[1] if tty else case)]
        t0 = time.monotonic()
        if tty:
            rc, o, e = on_pty([natcheck, *args])
            o, e = o.decode(), e.decode("latin-1")
        else:
            p = subprocess.run([natcheck, *args], capture_output=True, text=True,
                               timeout=float(os.environ.get("NATCHECK_RUN_TIMEOUT", "60")))
            rc, o, e = p.returncode, p.stdout, p.stderr
        runs.append([rc, o, e, time.monotonic() - t0])
finally:
    stop.set()
    for ch in children:
        ch.send_signal(signal.SIGTERM)
        try:
            ch.wait(timeout=5)
        except subprocess.TimeoutExpired:
            ch.kill()
            ch.wait(timeout=5)
with open(out, "w") as f:
    json.dump({"runs": runs, "queries": queries}, f)
