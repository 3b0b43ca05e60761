"""Shared helpers for natcheck's end-to-end tests (python3 standard library only).

Everything here talks to 127.0.0.0/8 and ::1 only.  Processes are started
by the tests themselves and ended by their PID.
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

COOKIE = 0x2112A442
A1, A2 = "127.0.0.1", "127.0.0.2"

ATTR = {
    "MAPPED-ADDRESS": 0x0001, "RESPONSE-ADDRESS": 0x0002, "CHANGE-REQUEST": 0x0003,
    "SOURCE-ADDRESS": 0x0004, "CHANGED-ADDRESS": 0x0005, "ERROR-CODE": 0x0009,
    "UNKNOWN-ATTRIBUTES": 0x000A, "REFLECTED-FROM": 0x000B,
    "XOR-MAPPED-ADDRESS": 0x0020, "PADDING": 0x0026, "RESPONSE-PORT": 0x0027,
    "SOFTWARE": 0x8022, "FINGERPRINT": 0x8028, "RESPONSE-ORIGIN": 0x802B,
    "OTHER-ADDRESS": 0x802C,
}
CHANGE_IP, CHANGE_PORT = 0x04, 0x02


class Checks:
    """Counts checks, prints one line per check, ends with
    'N passed, M failed, K skipped' (tests/group.sh reads it)."""

    SKIPPED = 77    # the exit status of a run that skipped something

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok    {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL  {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def skip(self, what):
        """A check (or a group of them) that cannot run here: counted, never
        a pass."""
        self.skipped += 1
        print(f"skip  {what}", flush=True)

    def summary(self):
        """Print the counts; the exit status that goes with them: 1 on a
        failure, 77 when something was skipped, else 0."""
        print(f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped", flush=True)
        if self.failed:
            return 1
        return self.SKIPPED if self.skipped else 0

    def finish(self):
        sys.exit(self.summary())


# ------------------------------------------------------------------ codec

def attr(t, value):
    """One attribute, padded to 4 bytes."""
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", t, len(value)) + value + b"\0" * pad


def addr_value(host, port):
    """The value of a plain (not XORed) address attribute."""
    if ":" in host:
        return struct.pack("!BBH", 0, 2, port) + socket.inet_pton(socket.AF_INET6, host)
    return struct.pack("!BBH", 0, 1, port) + socket.inet_aton(host)


def request(cookie, attrs=b"", mtype=0x0001, length=None):
    """A request and its 16-byte transaction ID: the RFC 5389 form (cookie +
    12 random bytes) or the RFC 3489 form (16 random bytes, never the
    cookie).  `length` overrides the header's length field."""
    if cookie:
        tid = struct.pack("!I", COOKIE) + os.urandom(12)
    else:
        tid = os.urandom(16)
        while tid[:4] == struct.pack("!I", COOKIE):
            tid = os.urandom(16)
    n = len(attrs) if length is None else length
    return struct.pack("!HH", mtype, n) + tid + attrs, tid


def binding_request(tid=None, attrs=b""):
    """An RFC 5389 Binding request (with the given 16-byte tid) and its tid."""
    if tid is None:
        return request(True, attrs)
    return struct.pack("!HH", 0x0001, len(attrs)) + tid + attrs, tid


def xor_mapped(addr, port):
    """XOR-MAPPED-ADDRESS for an IPv4 address (RFC 5389 section 15.2)."""
    ip = struct.unpack("!I", socket.inet_aton(addr))[0]
    return attr(ATTR["XOR-MAPPED-ADDRESS"],
                struct.pack("!BBHI", 0, 1, port ^ (COOKIE >> 16), ip ^ COOKIE))


def parse_attrs(msg):
    """[(type, value)] of a STUN message (trusting it: test code only)."""
    out, off = [], 20
    while off + 4 <= len(msg):
        t, n = struct.unpack("!HH", msg[off:off + 4])
        out.append((t, msg[off + 4:off + 4 + n]))
        off += 4 + ((n + 3) & ~3)
    return out


def parse(msg):
    """(type, tid, [(type, value)], fingerprint_ok or None), checking the
    lengths and FINGERPRINT (value and last place); raises ValueError."""
    if len(msg) < 20:
        raise ValueError("short reply")
    mtype, mlen = struct.unpack("!HH", msg[:4])
    if 20 + mlen != len(msg) or mlen % 4:
        raise ValueError(f"bad length {mlen} for {len(msg)} bytes")
    attrs, off, fp = [], 20, None
    while off < len(msg):
        if off + 4 > len(msg):
            raise ValueError("truncated attribute header")
        t, n = struct.unpack("!HH", msg[off:off + 4])
        if off + 4 + n > len(msg):
            raise ValueError("truncated attribute")
        v = msg[off + 4:off + 4 + n]
        if t == ATTR["FINGERPRINT"]:
            want = (zlib.crc32(msg[:off]) ^ 0x5354554E) & 0xFFFFFFFF
            fp = n == 4 and struct.unpack("!I", v)[0] == want
            if off + 8 != len(msg):
                fp = False      # not last
        attrs.append((t, v))
        off += 4 + ((n + 3) & ~3)
    return mtype, msg[4:20], attrs, fp


def get(attrs, name):
    """The value of the first attribute called name, or None."""
    for t, v in attrs:
        if t == ATTR[name]:
            return v
    return None


def addr_of(v, tid=None):
    """(host, port) of an address attribute; XORed when tid is given."""
    if v is None or len(v) < 8:
        return None
    fam, port = v[1], struct.unpack("!H", v[2:4])[0]
    raw = v[4:]
    if tid is not None:
        port ^= COOKIE >> 16
        raw = bytes(a ^ b for a, b in zip(raw, tid))
    if fam == 1 and len(raw) == 4:
        return socket.inet_ntoa(raw), port
    if fam == 2 and len(raw) == 16:
        return socket.inet_ntop(socket.AF_INET6, raw), port
    return None


def error_of(attrs):
    """(code, reason) of ERROR-CODE, or (None, '')."""
    v = get(attrs, "ERROR-CODE")
    if v is None or len(v) < 4:
        return None, ""
    return (v[2] & 7) * 100 + v[3], v[4:].decode("utf-8", "replace")


# ---------------------------------------------------------------- sockets

def udp(host, port=0, timeout=1.0):
    """A UDP socket bound to host:port (IPv6 when host has a colon)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.bind((host, port))
    except OSError:
        s.close()
        raise
    s.settimeout(timeout)
    return s


def recv_match(sock, tid, seconds):
    """The first datagram with this transaction ID within `seconds`, as
    (data, (host, port)), or None.  Others are skipped (bounded by time)."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data, src = sock.recvfrom(65535)
        except socket.timeout:
            return None
        if data[4:20] == tid:
            return data, src[:2]


def exchange(sock, dst, req, tid, tries=3, wait=1.0, rx=None):
    """Send req to dst up to `tries` times; the matching reply on rx (default
    sock) or None.  Loopback loses nothing, but every wait is bounded."""
    rx = rx or sock
    for _ in range(tries):
        sock.sendto(req, dst)
        got = recv_match(rx, tid, wait)
        if got:
            return got
    return None


def free_udp_ports(n, hosts=(A1, A2), attempts=200):
    """n distinct UDP ports that are free on every host (bounded tries)."""
    ports = []
    for _ in range(attempts):
        if len(ports) == n:
            return ports
        s = udp(hosts[0])
        port = s.getsockname()[1]
        s.close()
        if port in ports:
            continue
        try:
            for h in hosts[1:]:
                udp(h, port).close()
        except OSError:
            continue
        ports.append(port)
    if len(ports) == n:
        return ports
    raise RuntimeError("no free UDP ports found")


def wait_ready(addr, seconds=5.0, alive=lambda: True):
    """True once a binding request to addr is answered, within `seconds`
    and while alive() holds."""
    deadline = time.monotonic() + seconds
    s = udp(addr[0], timeout=0.1)
    try:
        while time.monotonic() < deadline and alive():
            req, tid = request(True)
            s.sendto(req, addr)
            if recv_match(s, tid, 0.1):
                return True
        return False
    finally:
        s.close()


def change_matrix(sock, eps, named=None, label=""):
    """Every CHANGE-REQUEST (none, port, IP, both) to each of the four
    endpoints eps[0..3] = (host, port) (index: bit 0 address, bit 1 port),
    in both header forms, from sock.  Each answer must come from the
    endpoint asked for, report sock's address as mapped, and name
    named[via] as its origin and named[at ^ 3] as the other address
    (named defaults to eps: what the server binds is what it reports).
    Returns the problems, one string each (empty: all 32 right)."""
    named = named or eps
    me = sock.getsockname()[:2]
    bad = []
    for cookie in (True, False):
        for at in range(4):
            for flags, flip in ((None, 0), (CHANGE_PORT, 2), (CHANGE_IP, 1),
                                (CHANGE_IP | CHANGE_PORT, 3)):
                extra = b"" if flags is None else attr(ATTR["CHANGE-REQUEST"],
                                                       struct.pack("!I", flags))
                req, tid = request(cookie, extra)
                got = exchange(sock, eps[at], req, tid)
                via = at ^ flip
                name = f"{label}{'5389' if cookie else '3489'} at {eps[at]} flags {flags}"
                if got is None:
                    bad.append(f"{name}: no answer")
                    continue
                _, _, attrs, _ = parse(got[0])
                origin = get(attrs, "RESPONSE-ORIGIN" if cookie else "SOURCE-ADDRESS")
                other = get(attrs, "OTHER-ADDRESS" if cookie else "CHANGED-ADDRESS")
                if got[1] != eps[via]:
                    bad.append(f"{name}: came from {got[1]}")
                if addr_of(get(attrs, "MAPPED-ADDRESS")) != me:
                    bad.append(f"{name}: mapped {addr_of(get(attrs, 'MAPPED-ADDRESS'))}")
                if addr_of(origin) != named[via]:
                    bad.append(f"{name}: origin {addr_of(origin)}, want {named[via]}")
                if addr_of(other) != named[at ^ 3]:
                    bad.append(f"{name}: other {addr_of(other)}, want {named[at ^ 3]}")
    return bad


# ----------------------------------------------------------------- server

class Server:
    """`natcheck --serve SPEC -p P --alt-port Q --rate RATE EXTRA...` on free
    ports P, Q, as a child process ended by its PID only.  SPEC is one or two
    addresses (default 127.0.0.1,127.0.0.2).  RATE is 0 (no limit) unless a
    test asks for one: the tests are many clients on one address, and only
    the rate limit's own checks are about the limit.  Its stderr goes to a temporary file, not
    a pipe: nobody reads a pipe while the test runs, and under -v a full
    one would block the server.  A context manager (raises when it does not
    start), or start()/stop()/kill() by hand."""

    def __init__(self, natcheck, spec=f"{A1},{A2}", extra=(), rate=0, preexec_fn=None):
        self.natcheck, self.spec, self.preexec_fn = natcheck, spec, preexec_fn
        self.extra = ("--rate", str(rate)) + tuple(extra)
        self.hosts = spec.split(",")
        self.proc = None
        self.log = tempfile.TemporaryFile(mode="w+")
        self.port = self.alt_port = None
        self.args = None

    def start(self, c=None):
        """Start on free ports, retrying when a port was taken meanwhile.
        True once it answers; otherwise False (and a failed check on c)."""
        for _ in range(5):
            self.port, self.alt_port = free_udp_ports(2, self.hosts)
            self.args = [self.natcheck, "--serve", self.spec, "-p", str(self.port),
                         "--alt-port", str(self.alt_port), *self.extra]
            self.log.seek(0)
            self.log.truncate()
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=self.log,
                                         preexec_fn=self.preexec_fn)
            if wait_ready((self.hosts[0], self.port), 5.0,
                          alive=lambda: self.proc.poll() is None):
                return True
            if self.proc.poll() is None:
                self.kill()
                break           # running but silent: no point retrying
        if c is not None:
            c.check(f"server {self.spec} starts and answers", False, self.stderr())
        return False

    def stderr(self):
        """Everything the server wrote to stderr so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, sig=signal.SIGTERM, seconds=5.0):
        """Send sig; its exit status, or None when it did not end within
        `seconds` (it is killed then)."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def __enter__(self):
        if not self.start():
            err = self.stderr()
            self.kill()
            raise RuntimeError(f"natcheck --serve did not answer within 5 s: {err[:300]}")
        return self

    def __exit__(self, *exc):
        self.stop()
        self.kill()
        self.log.close()


def on_pty(args, timeout=60):
    """Run args with stderr on a pseudo-terminal (stdout a pipe):
    (status, stdout, what the terminal got), both as bytes."""
    master, slave = os.openpty()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    got = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:         # EIO: the last holder of the terminal is gone
            break
        if not chunk:
            break
        got += chunk
    out, _ = p.communicate(timeout=timeout)
    os.close(master)
    return p.returncode, out, got


def run(args, timeout=30):
    """Run a command; (returncode, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


# ---------------------------------------------------------------- Prometheus

PROM_SAMPLE = re.compile(r'^(natcheck_[a-z_]+)\{([^}]*)\} (\S+)$')


def prom_samples(text):
    """{(name, frozenset(labels)): value} of natcheck's samples in text."""
    out = {}
    for line in text.splitlines():
        m = PROM_SAMPLE.match(line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def promtool(c, name, text):
    """Check (on Checks c) that `promtool check metrics` accepts text."""
    if not shutil.which("promtool"):
        c.check(f"{name}: promtool is there (Debian package prometheus)", False)
        return
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    c.check(f"{name}: promtool check metrics accepts it", p.returncode == 0 and text,
            (p.returncode, p.stdout, p.stderr))
