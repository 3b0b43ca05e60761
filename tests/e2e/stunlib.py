"""Shared helpers for natcheck's end-to-end tests (python3 standard library only).

Everything here talks to 127.0.0.0/8 only.  Processes are started by the
tests themselves and ended by their PID.
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import time

COOKIE = 0x2112A442


class Checks:
    """Counts checks, prints one line per check, ends with 'N passed, M failed'."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok    {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL  {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def free_udp_ports(n, host="127.0.0.1", attempts=200):
    """n distinct UDP ports that are free on host and on 127.0.0.2 (bounded tries)."""
    ports = []
    for _ in range(attempts):
        if len(ports) == n:
            return ports
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((host, 0))
        port = s.getsockname()[1]
        s.close()
        if port in ports:
            continue
        try:
            t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            t.bind(("127.0.0.2", port))
            t.close()
        except OSError:
            continue
        ports.append(port)
    raise RuntimeError("no free UDP ports found")


def binding_request(tid=None, attrs=b""):
    tid = tid if tid is not None else struct.pack("!I", COOKIE) + os.urandom(12)
    return struct.pack("!HH", 0x0001, len(attrs)) + tid + attrs, tid


def xor_mapped(addr, port):
    """XOR-MAPPED-ADDRESS for an IPv4 address (RFC 5389 section 15.2)."""
    ip = struct.unpack("!I", socket.inet_aton(addr))[0]
    value = struct.pack("!BBHI", 0, 1, port ^ (COOKIE >> 16), ip ^ COOKIE)
    return struct.pack("!HH", 0x0020, len(value)) + value


def parse_attrs(msg):
    """[(type, value)] of a STUN message (trusting it: test code only)."""
    out, off = [], 20
    while off + 4 <= len(msg):
        t, n = struct.unpack("!HH", msg[off:off + 4])
        out.append((t, msg[off + 4:off + 4 + n]))
        off += 4 + ((n + 3) & ~3)
    return out


class Server:
    """`natcheck --serve` on 127.0.0.1,127.0.0.2 with free ports; a context manager."""

    def __init__(self, natcheck, extra=()):
        self.natcheck = natcheck
        self.port, self.alt_port = free_udp_ports(2)
        self.args = [natcheck, "--serve", "127.0.0.1,127.0.0.2",
                     "-p", str(self.port), "--alt-port", str(self.alt_port), *extra]
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        if not wait_ready(("127.0.0.1", self.port)):
            self.stop()
            raise RuntimeError("natcheck --serve did not answer within 5 s")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def __exit__(self, *exc):
        self.stop()


def wait_ready(addr, seconds=5.0):
    """True once a binding request to addr is answered (bounded in time)."""
    deadline = time.monotonic() + seconds
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.1)
    try:
        while time.monotonic() < deadline:
            req, tid = binding_request()
            s.sendto(req, addr)
            try:
                data, _ = s.recvfrom(2048)
                if data[4:20] == tid:
                    return True
            except socket.timeout:
                pass
        return False
    finally:
        s.close()


def run(args, timeout=30):
    """Run a command; (returncode, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0
