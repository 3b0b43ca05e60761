#!/usr/bin/env python3
"""natcheck --serve's TCP table under the lockout attack of issue 20.

    python3 tests/e2e/serve_tcp_lockout.py ./natcheck

The attack: 32 addresses hold 8 connections each (256, the whole table of
a server whose RLIMIT_NOFILE leaves room for 256), each sending a Binding
request every 10 s, and opening again whatever the server ends.  Before,
every other client was reset for as long as that went on.  Now:

  - IPv4 (127.0.4.1-32 on loopback): a newcomer from a fresh address is
    answered 3 times in 3, against that attack and against a harder one
    whose connections send every 0.5 s (never idle, so only eviction can
    make room); the attack does fill the table; UDP is answered meanwhile;
  - IPv6, inside `unshare -n` (root only; skipped otherwise) with
    2001:db8::/32 addresses on lo: the 32 addresses are one in each /64 of
    one /59, which now counts as one source (a /56): at most 8 of the 256
    are kept, and the newcomer (another /56) is answered 3 times in 3.

Talks to 127.0.0.0/8, and to 2001:db8::/32 inside its own namespace.
Every loop is bounded in time; the attacker's sockets are closed and the
server ended by its PID at the end of each part.  No timing assertions:
every wait is an upper bound, generous for a loaded machine.
"""
import os
import resource
import select
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import A1, A2, Checks, Server, exchange, request, udp  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
INSIDE = "NATCHECK_LOCKOUT_INSIDE"
TABLE = 256             # the table the attack fills
ADDRS, PER_ADDR = 32, 8
# The server keeps some descriptors for its sockets and files: with this
# limit its table is at most TABLE (the start-up line says how many).
NOFILE = TABLE + 32


def small_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def table_size(srv):
    """The TCP table the server announced, or None."""
    for line in srv.stderr().splitlines():
        if " tcp: at most " in line:
            return int(line.split(" tcp: at most ", 1)[1].split()[0])
    return None


def tcp_from(src, dst, timeout=3.0):
    fam = socket.AF_INET6 if ":" in dst[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect(dst)
    except OSError:
        s.close()
        raise
    return s


def answered(s, seconds=5.0):
    """One Binding request on s; True when its success answer comes back
    within `seconds`."""
    req, tid = request(True)
    try:
        s.sendall(req)
    except OSError:
        return False
    buf = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(buf) >= 20 and len(buf) >= 20 + struct.unpack("!H", buf[2:4])[0]:
            return buf[0:2] == b"\x01\x01" and buf[4:20] == tid     # a Binding success
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = s.recv(4096)
        except (socket.timeout, OSError):
            return False
        if not data:
            return False
        buf += data
    return False


class Attack(threading.Thread):
    """PER_ADDR connections from each of `sources` to dst, each sending a
    Binding request when opened and every `period` s; a connection the
    server ends is opened again 0.2 s later (so at most 5 a second per
    slot).  Counts the connections it holds and those the server ended."""

    def __init__(self, sources, dst, period):
        super().__init__(daemon=True)
        self.sources, self.dst, self.period = sources, dst, period
        self.sel = selectors.DefaultSelector()
        self.slots = []         # [socket or None, source, next send, reopen at]
        self.ended = 0
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.req = request(True)[0]

    def held(self):
        """Before the thread runs: how many connections the server keeps
        (those it ended are closed here and counted)."""
        now = time.monotonic()
        for slot in self.slots:
            if slot[0] is None:
                continue
            try:
                while slot[0].recv(4096):
                    pass
                self._drop(slot, now)           # the server ended it
            except BlockingIOError:
                pass                            # open: kept
            except OSError:
                self._drop(slot, now)
        return sum(1 for s in self.slots if s[0] is not None)

    def _open(self, slot, now):
        try:
            s = tcp_from(slot[1], self.dst, timeout=1.0)
            s.sendall(self.req)
            s.setblocking(False)
        except OSError:
            slot[3] = now + 0.2
            return
        slot[0] = s
        slot[2] = now + self.period
        self.sel.register(s, selectors.EVENT_READ, slot)

    def _drop(self, slot, now):
        self.sel.unregister(slot[0])
        slot[0].close()
        slot[0] = None
        slot[3] = now + 0.2
        self.ended += 1

    def fill(self):
        """Open every connection at once (a SYN the kernel drops waits a
        second for its second try, and one after another those seconds
        would add up), each sending its first request once connected, the
        next ones staggered over the period."""
        fam = socket.AF_INET6 if ":" in self.dst[0] else socket.AF_INET
        pending = {}
        for src in (s for s in self.sources for _ in range(PER_ADDR)):
            slot = [None, src, 0.0, 0.0]
            self.slots.append(slot)
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.bind((src, 0))
            s.setblocking(False)
            s.connect_ex(self.dst)
            pending[s] = slot
        deadline = time.monotonic() + 10.0
        while pending and time.monotonic() < deadline:
            _, ready, _ = select.select([], list(pending), [], 0.1)
            for s in ready:
                slot = pending.pop(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    s.close()
                    continue
                try:
                    s.send(self.req)
                except OSError:
                    s.close()
                    continue
                slot[0] = s
                self.sel.register(s, selectors.EVENT_READ, slot)
        for s in pending:
            s.close()
        now = time.monotonic()
        for k, slot in enumerate(self.slots):
            slot[2] = now + self.period * (k + 1) / len(self.slots)
            slot[3] = now + 0.2

    def run(self):
        while not self.halt.is_set():
            for key, _ in self.sel.select(timeout=0.02):
                slot = key.data
                with self.lock:
                    try:
                        data = slot[0].recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        self._drop(slot, time.monotonic())
            now = time.monotonic()
            with self.lock:
                for slot in self.slots:
                    if slot[0] is None and now >= slot[3]:
                        self._open(slot, now)
                    elif slot[0] is not None and now >= slot[2]:
                        slot[2] = now + self.period
                        try:
                            slot[0].send(self.req)
                        except OSError:
                            self._drop(slot, now)

    def stop(self):
        self.halt.set()
        self.join(timeout=10)
        for slot in self.slots:
            if slot[0] is not None:
                slot[0].close()
                slot[0] = None
        self.sel.close()


def newcomer(src, dst, gaps):
    """Three connections from src, one after another (gaps[i] seconds
    before each): how many were answered."""
    ok = 0
    for gap in gaps:
        time.sleep(gap)
        try:
            s = tcp_from(src, dst)
        except OSError:
            continue
        ok += answered(s)
        s.close()
    return ok


def lockout(c, srv, label, sources, dst, period, fresh, gaps, expect_held):
    """One attack against srv; the checks.  expect_held(n) judges how many
    connections the attack holds once it has opened them all."""
    attack = Attack(sources, dst, period)
    try:
        attack.fill()
        time.sleep(0.5)
        held = attack.held()
        attack.start()
        c.check(f"{label}: the attack holds {held} connections", expect_held(held), held)
        ok = newcomer(fresh, dst, gaps)
        c.check(f"{label}: a newcomer from {fresh} is answered 3 times in 3", ok == 3,
                f"{ok} of 3; the server: {srv.stderr()[-400:]}")
        u = udp(dst[0])
        req, tid = request(True)
        c.check(f"{label}: UDP answered during the attack",
                exchange(u, dst, req, tid) is not None)
        u.close()
    finally:
        attack.stop()
    return attack


def ipv4(c):
    srv = Server(NATCHECK, preexec_fn=small_nofile)
    if not srv.start(c):
        srv.kill()
        return
    try:
        n = table_size(srv)
        c.check(f"RLIMIT_NOFILE {NOFILE}: the server announces a table of at most {TABLE}",
                n is not None and n <= TABLE, srv.stderr()[:300])
        n = n or TABLE
        dst = (A1, srv.port)
        # The attack: a request every 10 s from each connection.
        attack = lockout(c, srv, "IPv4, 32 x 8 connections, a request every 10 s",
                         [f"127.0.4.{a + 1}" for a in range(ADDRS)], dst,
                         10.0, "127.0.5.1", (0.5, 2.0, 3.0), lambda h: h == n)
        # Over three quarters full, a connection idle for 2 s (not 10) is
        # closed: most of these waited longer for their second request.
        c.check("IPv4: under pressure, idle connections are closed after 2 s, not 10",
                attack.ended >= TABLE // 2, attack.ended)
        # Never idle: only eviction makes room.  Other addresses, as the
        # server may still be closing the first attack's connections.
        attack = lockout(c, srv, "IPv4, 32 x 8 connections, a request every 0.5 s",
                         [f"127.0.6.{a + 1}" for a in range(ADDRS)], dst,
                         0.5, "127.0.5.2", (0.2, 0.5, 0.5), lambda h: h == n)
        c.check("IPv4: the attack's own connections were the ones ended for the newcomers",
                attack.ended >= 3, attack.ended)
        c.check("IPv4: the server still runs", srv.proc.poll() is None)
        c.check("IPv4: SIGTERM, exit 0", srv.stop() == 0)
    finally:
        srv.kill()


# ------------------------------------------------------------------ IPv6
B1, B2 = "2001:db8::1", "2001:db8::2"
SLASH59 = [f"2001:db8:0:{0x20 + k:x}::1" for k in range(ADDRS)]    # 2001:db8:0:20::/59
FRESH6 = "2001:db8:1::1"                                            # another /56


def outside():
    c = Checks()
    ipv4(c)
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        print("skip  IPv6 lockout (needs root, unshare and ip)")
        return c.summary()
    env = dict(os.environ, **{INSIDE: "1"})
    p = subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), NATCHECK],
                       env=env, timeout=200, capture_output=True, text=True)
    print(p.stdout, end="", flush=True)
    tail = [ln for ln in p.stdout.splitlines() if " passed, " in ln]
    if tail:
        c.passed += int(tail[-1].split()[0])
        c.failed += int(tail[-1].split()[2])
    c.check("IPv6 part ran to its end", p.returncode in (0, 1) and tail, p.stderr[-300:])
    return c.summary()


def inside():
    c = Checks()
    cmds = [["ip", "link", "set", "lo", "up"]] + \
        [["ip", "-6", "addr", "add", f"{a}/128", "dev", "lo", "nodad"]
         for a in [B1, B2, FRESH6] + SLASH59]
    for cmd in cmds:
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            c.check("namespace: lo up with the lab's IPv6 addresses", False,
                    f"{' '.join(cmd)}: {p.stderr}")
            return c.summary()
    c.check(f"namespace: lo up with {len(cmds) - 1} addresses of 2001:db8::/32", True)
    srv = Server(NATCHECK, spec=f"{B1},{B2}", preexec_fn=small_nofile)
    if srv.start(c):
        try:
            lockout(c, srv, "IPv6, one address in each /64 of a /59, 8 connections each",
                    SLASH59, (B1, srv.port), 10.0, FRESH6, (0.5, 1.0, 1.0),
                    lambda h: 1 <= h <= PER_ADDR)
            c.check("IPv6: SIGTERM, exit 0", srv.stop() == 0)
        finally:
            srv.kill()
    return c.summary()


if __name__ == "__main__":
    sys.exit(inside() if os.environ.get(INSIDE) else outside())
