"""Floods for natcheck --serve's limits (tests/e2e/serve_rate_bypass.py,
serve_log_flood.py, and bench/flood.py, which measures what they assert).

Many source addresses from one socket: on Linux every 127.0.0.0/8 address
is local, and a UDP socket bound to the wildcard may send from any local
address with IP_PKTINFO (ip(7)), so one socket is a whole /8 of senders,
and the answers to all of them come back to it.  Loopback only; every
loop is bounded in count and time.  Python 3 standard library only.
"""
import random
import socket
import struct
import time

from stunlib import request

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)      # Linux's value; Python 3.11 lacks the name


def random_source(rnd):
    """A random 127/8 address (not .0 or .255 in the first and last byte)."""
    return f"127.{rnd.randrange(1, 255)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"


class Spoofer:
    """One UDP socket on 0.0.0.0 that sends from any 127/8 address and
    counts the Binding success answers it gets back."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.s.bind(("0.0.0.0", 0))
        self.s.setblocking(False)
        self.req = request(True)[0]
        self.answers = 0
        self.t_answer = None    # when the last answer was read
        self.sent = 0

    def send(self, src, dst):
        """One Binding request from src (an IPv4 address) to dst; False
        when the socket's buffer is full (the datagram is not sent)."""
        cmsg = [(socket.IPPROTO_IP, IP_PKTINFO,
                 struct.pack("=I4s4s", 0, socket.inet_aton(src), b"\0" * 4))]
        try:
            self.s.sendmsg([self.req], cmsg, 0, dst)
        except BlockingIOError:
            return False
        self.sent += 1
        return True

    def drain(self):
        """Count what has arrived."""
        while True:
            try:
                data = self.s.recv(2048)
            except BlockingIOError:
                return
            if data[:2] == b"\x01\x01":
                self.answers += 1
                self.t_answer = time.monotonic()

    def close(self):
        self.s.close()


def victim_under_eviction(dst, rate, seconds, flood_per_round=8192, seed=1):
    """The --rate bypass of issue 20: a victim (127.0.0.50) sends bursts of
    2 x rate requests, and between bursts spoofed datagrams from
    flood_per_round random 127/8 sources try to push it out of the
    server's table (which once gave it a fresh burst each time).  Returns
    (answers to the victim, first send, last answer) with monotonic times:
    the server handled every answered request between those two."""
    rnd = random.Random(seed)
    vic = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    vic.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    vic.bind(("127.0.0.50", 0))
    vic.setblocking(False)
    flood = Spoofer()
    req = request(True)[0]
    got = 0
    t_first = t_answer = time.monotonic()

    def drain_victim():
        nonlocal got, t_answer
        while True:
            try:
                if vic.recv(2048)[:2] == b"\x01\x01":
                    got += 1
                    t_answer = time.monotonic()
            except BlockingIOError:
                return

    try:
        while time.monotonic() - t_first < seconds:
            for _ in range(2 * rate):
                vic.sendto(req, dst)
            for k in range(flood_per_round):
                if not flood.send(random_source(rnd), dst):
                    time.sleep(0.0005)
                if k % 256 == 0:
                    flood.drain()
                    drain_victim()
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            drain_victim()
            time.sleep(0.02)
    finally:
        vic.close()
        flood.close()
    return got, t_first, t_answer


def send_from_each(sources, dst):
    """One Binding request from each address of `sources`, in order (when
    the socket's buffer is full, wait for it), then half a second for the
    last answers.  Returns (answers, first send, last answer)."""
    sp = Spoofer()
    t_first = time.monotonic()
    try:
        for k, src in enumerate(sources):
            while not sp.send(src, dst):
                sp.drain()
                time.sleep(0.0005)
            if k % 256 == 0:
                sp.drain()
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            sp.drain()
            time.sleep(0.02)
        return sp.answers, t_first, sp.t_answer or t_first
    finally:
        sp.close()


def spread_over_24(dst, rate, net="127.0.9"):
    """Every address of one /24 (.1 to .254) sends 2 x rate requests, each
    within its own limit.  Returns (answers to the /24, first send, last
    answer)."""
    return send_from_each((f"{net}.{h}" for h in range(1, 255) for _ in range(2 * rate)), dst)


def many_prefixes(dst, count, seed=2):
    """count requests, each from a fresh random 127/8 address (so from
    thousands of /24s).  Returns (answers, first send, last answer)."""
    rnd = random.Random(seed)
    return send_from_each((random_source(rnd) for _ in range(count)), dst)


def tcp_stream_flood(dst, seconds, src="127.0.0.60"):
    """One TCP connection that sends Binding requests back to back for
    `seconds` (the -v log flood of issue 20), reading whatever comes back.
    Returns the number of whole requests written."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(3.0)
    s.connect(dst)
    s.setblocking(False)
    chunk = b"".join(request(True)[0] for _ in range(512))
    sent, off = 0, 0            # off: how much of chunk went out (a send may be partial)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            try:
                n = s.send(chunk[off:])
                sent += n
                off = (off + n) % len(chunk)
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                break           # the server ended it
            try:
                while s.recv(65536):
                    pass
            except (BlockingIOError, OSError):
                pass
    finally:
        s.close()
    return sent // 20
