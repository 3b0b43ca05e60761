#!/usr/bin/env python3
"""natcheck --serve over TCP, and hostile TCP streams, on loopback.

    python3 tests/e2e/serve_tcp.py ./natcheck

  - every endpoint answers a Binding request over TCP with
    XOR-MAPPED-ADDRESS (the client's TCP address), RESPONSE-ORIGIN and
    OTHER-ADDRESS; messages back to back in one write, and one message
    dribbled a byte at a time, are all answered, in order;
  - CHANGE-REQUEST and RESPONSE-PORT over TCP get 400, and the connection
    goes on;
  - hostile streams: a huge length field, HTTP, an RFC 3489 header are cut
    off at once; a request begun and never finished (slowloris) and an idle
    connection are closed in time; 300 connections from one address keep
    at most 8, and from many at most the server's table; meanwhile the server keeps
    answering over UDP and TCP, its VmRSS stays under a bound, and the
    counters account for the cut connections;
  - --no-tcp: nothing listens on TCP.

Talks to 127.0.0.0/8 only.  No timing assertions: every wait is an upper
bound on something the server must do, generous for a loaded machine.
"""
import os
import re
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import (A1, A2, ATTR, CHANGE_IP, CHANGE_PORT, Checks, Server,  # noqa: E402
                     addr_of, attr, error_of, exchange, get, parse, request, udp)

NATCHECK = sys.argv[1] if len(sys.argv) > 1 else "./natcheck"
RSS_LIMIT_KB = 32 * 1024        # static tables ~6 MB; a leak per connection shows
c = Checks()


def tcp(dst, src=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect(dst)
    return s


def read_msgs(s, n, seconds=5.0):
    """n STUN messages from stream s (fewer when it ends or times out)."""
    buf, out = b"", []
    deadline = time.monotonic() + seconds
    while len(out) < n and time.monotonic() < deadline:
        while len(buf) >= 20 and len(buf) >= 20 + struct.unpack("!H", buf[2:4])[0]:
            k = 20 + struct.unpack("!H", buf[2:4])[0]
            out.append(buf[:k])
            buf = buf[k:]
        if len(out) >= n:
            break
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = s.recv(4096)
        except (socket.timeout, OSError):
            break
        if not data:
            break
        buf += data
    return out


def closed_by_server(s, seconds):
    """True when the server ends the connection within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not s.recv(4096):
                return True
        except socket.timeout:
            return False
        except OSError:
            return True         # reset
    return False


def kept(socks, settle=0.5):
    """How many of socks the server still keeps open, after `settle` s."""
    time.sleep(settle)
    alive = 0
    for s in socks:
        s.setblocking(False)
        try:
            alive += 1 if s.recv(1) else 0
        except BlockingIOError:
            alive += 1          # open, nothing to read: kept by the server
        except OSError:
            pass
    return alive


def rss_kb(pid):
    m = re.search(r"^VmRSS:\s+(\d+) kB", open(f"/proc/{pid}/status").read(), re.M)
    return int(m.group(1)) if m else None


def binding_ok(msg, tid, me, origin, other):
    try:
        mtype, rtid, attrs, _ = parse(msg)
    except ValueError:
        return False
    return (mtype == 0x0101 and rtid == tid and addr_of(get(attrs, "XOR-MAPPED-ADDRESS"), tid) == me
            and addr_of(get(attrs, "RESPONSE-ORIGIN")) == origin
            and addr_of(get(attrs, "OTHER-ADDRESS")) == other)


srv = Server(NATCHECK, extra=("-v",))
if srv.start(c):
    P, Q = srv.port, srv.alt_port
    eps = {0: (A1, P), 1: (A2, P), 2: (A1, Q), 3: (A2, Q)}
    pid = srv.proc.pid

    # ------------------------------------------------------------ plain
    bad = []
    for at, ep in eps.items():
        s = tcp(ep)
        me = s.getsockname()[:2]
        req, tid = request(True)
        s.sendall(req)
        got = read_msgs(s, 1)
        if not got or not binding_ok(got[0], tid, me, ep, eps[at ^ 3]):
            bad.append(f"{ep}: {got[:1]}")
        s.close()
    c.check("TCP: all four endpoints answer with XOR-MAPPED-ADDRESS, RESPONSE-ORIGIN, "
            "OTHER-ADDRESS", not bad, "; ".join(map(str, bad)))

    s = tcp(eps[0])
    me = s.getsockname()[:2]
    reqs = [request(True) for _ in range(3)]
    s.sendall(b"".join(r for r, _ in reqs))
    got = read_msgs(s, 3)
    c.check("TCP: three requests in one write, three answers in order",
            len(got) == 3 and all(binding_ok(g, t, me, eps[0], eps[3])
                                  for g, (_, t) in zip(got, reqs)), len(got))
    req, tid = request(True)
    for b in req:
        s.sendall(bytes([b]))
    got = read_msgs(s, 1)
    c.check("TCP: one request a byte at a time is answered",
            len(got) == 1 and binding_ok(got[0], tid, me, eps[0], eps[3]))
    for name, extra in (("CHANGE-REQUEST change IP", attr(ATTR["CHANGE-REQUEST"],
                                                          struct.pack("!I", CHANGE_IP))),
                        ("CHANGE-REQUEST change port", attr(ATTR["CHANGE-REQUEST"],
                                                            struct.pack("!I", CHANGE_PORT))),
                        ("RESPONSE-PORT", attr(ATTR["RESPONSE-PORT"], struct.pack("!HH", 9, 0)))):
        req, tid = request(True, extra)
        s.sendall(req)
        got = read_msgs(s, 1)
        code = error_of(parse(got[0])[2])[0] if got else None
        c.check(f"TCP: {name} is refused with 400, the connection goes on", code == 400, code)
    req, tid = request(True)
    s.sendall(req)
    c.check("TCP: the connection still answers after the refusals", len(read_msgs(s, 1)) == 1)
    s.close()

    # ----------------------------------------------------------- hostile
    rss0 = rss_kb(pid)
    idle = tcp(eps[1], "127.0.0.20")
    t_idle = time.monotonic()
    slow = tcp(eps[0], "127.0.0.21")
    slow.sendall(request(True)[0][:10])         # a header begun, never finished
    for name, data in (("a huge length field", struct.pack("!HHI", 1, 65532, 0x2112A442)),
                       ("HTTP", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                       ("an RFC 3489 header (no cookie)", request(False)[0])):
        s = tcp(eps[2], "127.0.0.22")
        s.sendall(data)
        c.check(f"TCP: {name} ends the connection", closed_by_server(s, 5.0))
        s.close()
    c.check("TCP: a request begun and not finished (slowloris) is cut off",
            closed_by_server(slow, 10.0))
    slow.close()

    # Many connections: 300 from one address, then 40 addresses x 8.
    held = []
    for _ in range(300):
        try:
            held.append(tcp(eps[0], "127.0.0.30", timeout=2.0))
        except OSError:
            break
    alive = kept(held)
    c.check("TCP: 300 connections from one address: the server keeps at most 8",
            len(held) >= 280 and alive <= 8, (len(held), alive))
    for s in held:
        s.close()
    held = []
    for a in range(40):
        for _ in range(8):
            try:
                held.append(tcp(eps[0], f"127.0.1.{a + 1}", timeout=2.0))
            except OSError:
                pass
    alive = kept(held)
    m = re.search(r" tcp: at most (\d+) connections", srv.stderr())
    table = int(m.group(1)) if m else 0
    c.check(f"TCP: 320 connections from 40 addresses: as many kept as the table holds ({table})",
            len(held) >= 280 and alive == min(len(held), table), (len(held), alive))
    # Still serving: UDP, and TCP from an address with room.  (A full
    # table is tests/e2e/serve_tcp_lockout.py's.)
    u = udp(A1)
    req, tid = request(True)
    c.check("UDP still answered while 320 TCP connections are held",
            exchange(u, eps[0], req, tid) is not None)
    u.close()
    for s in held:
        s.close()
    held = []
    time.sleep(0.5)
    s = tcp(eps[3], "127.0.0.40")
    req, tid = request(True)
    s.sendall(req)
    c.check("TCP answered again once connections are gone", len(read_msgs(s, 1)) == 1)
    s.close()
    rss1 = rss_kb(pid)
    c.check(f"VmRSS stays under {RSS_LIMIT_KB // 1024} MB through the stress",
            rss0 is not None and rss1 is not None and rss1 < RSS_LIMIT_KB, (rss0, rss1))

    # The idle connection (opened before all this) is closed once idle,
    # even though it keeps sending: Binding indications get no answer,
    # and only an answer counts as progress.
    gone = False
    while not gone and time.monotonic() - t_idle < 15.0:
        try:
            idle.sendall(request(True, mtype=0x0011)[0])
        except OSError:
            gone = True
            break
        gone = closed_by_server(idle, 1.0)
    c.check("TCP: a connection whose requests earn no answer is closed as idle", gone)
    idle.close()

    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while srv.stderr().count(" counters ") < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    cut = sum(int(n) for n in re.findall(r"tcp_cut=(\d+)", srv.stderr()))
    c.check("counters: the connections the server ended are counted (tcp_cut)",
            cut >= 3 + 1 + 1 + 292, cut)
    c.check("SIGTERM: exit 0", srv.stop() == 0)
srv.kill()

# ------------------------------------------- out of file descriptors
# With RLIMIT_NOFILE at 40 the server runs out of descriptors long before
# its table is full: accept() fails with EMFILE while the connection
# waits, so a listener that stayed in the poll set would spin.  Check it
# does not (CPU time over a pause, a generous bound), keeps answering UDP,
# and takes TCP again once descriptors are free.


def running_samples(pid, n=40, every=0.05):
    """How many of n looks at the process found it running or runnable
    (state R in /proc/PID/stat).  A loop that spins on a ready listener is
    R at nearly every look, however loaded the machine (waiting for a CPU
    is R too); one that sleeps in poll is S.  A count of states, not a
    measure of time."""
    r = 0
    for _ in range(n):
        with open(f"/proc/{pid}/stat") as f:
            r += f.read().rsplit(")", 1)[1].split()[0] == "R"
        time.sleep(every)
    return r


def low_nofile():
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))


srv = Server(NATCHECK, preexec_fn=low_nofile)
if srv.start(c):
    P = srv.port
    held = []
    for a in range(6):
        for _ in range(8):
            try:
                held.append(tcp((A1, P), f"127.0.3.{a + 1}", timeout=2.0))
            except OSError:
                pass
    time.sleep(0.5)
    busy = running_samples(srv.proc.pid)
    c.check("EMFILE: the server does not spin on a listener it cannot accept from",
            busy <= 4, f"running or runnable at {busy} of 40 looks")
    u = udp(A1)
    req, tid = request(True)
    c.check("EMFILE: UDP still answered", exchange(u, (A1, P), req, tid) is not None)
    u.close()
    for s in held:
        s.close()
    s = tcp((A1, P), "127.0.3.99")
    req, tid = request(True)
    s.sendall(req)
    c.check("EMFILE: TCP answered again once descriptors are free", len(read_msgs(s, 1)) == 1)
    s.close()
    c.check("EMFILE: SIGTERM, exit 0", srv.stop() == 0)
srv.kill()

# ------------------------------------------------------------- --no-tcp
with Server(NATCHECK, extra=("--no-tcp",)) as srv:
    try:
        tcp((A1, srv.port), timeout=2.0).close()
        refused = False
    except OSError:
        refused = True
    c.check("--no-tcp: nothing listens on TCP", refused)

c.finish()
