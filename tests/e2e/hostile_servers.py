"""End to end: natcheck against servers that answer, but not with answers.

Usage: python3 tests/e2e/hostile_servers.py ./natcheck

Each "server" is a small UDP socket on 127.0.0.1 run by this script: one
sends every request back as it came, one answers with a transaction ID
that is not the client's, one answers with Binding indications, one
advertises an alternate address nobody may be sent to, one reports a
mapped address of the other family, one answers only requests that carry
FINGERPRINT, one never answers (beside natcheck --serve, or a closed
port), one names this host's own IP with a local service's port as the
mapped address (over UDP and TCP).  None of them may read as "UDP
Blocked" (datagrams came back), none may make natcheck send where the
server says, and each must be named in a finding.  Only 127.0.0.0/8 is
contacted.
"""
import json
import os
import socket
import struct
import sys
import threading
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import Checks, Server, free_udp_ports, parse_attrs, run, xor_mapped  # noqa: E402

NATCHECK = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./natcheck")
c = Checks()


def addr_attr(atype, ip, port):
    """A MAPPED-ADDRESS-style attribute, not XORed (RFC 5389 section 15.1)."""
    fam = 2 if ":" in ip else 1
    raw = socket.inet_pton(socket.AF_INET6 if fam == 2 else socket.AF_INET, ip)
    value = struct.pack("!BBH", 0, fam, port) + raw
    return struct.pack("!HH", atype, len(value)) + value


class Hostile:
    """One misbehaving server on 127.0.0.1, in a thread, until closed."""

    def __init__(self, mode, service_port=0):
        self.mode = mode
        self.service_port = service_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", free_udp_ports(1)[0]))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def reply(self, data, peer):
        tid = data[4:20]
        if self.mode == "echo":
            return data
        if self.mode == "wrong-tid":
            body = xor_mapped(peer[0], peer[1])
            other = tid[:4] + bytes(b ^ 0x5A for b in tid[4:])
            return struct.pack("!HH", 0x0101, len(body)) + other + body
        if self.mode == "indication":
            body = xor_mapped(peer[0], peer[1])
            return struct.pack("!HH", 0x0011, len(body)) + tid + body
        if self.mode == "unspecified-alternate":
            # An honest mapping, but OTHER-ADDRESS 0.0.0.0: never to be used.
            if any(t == 0x0003 for t, _ in parse_attrs(data)):
                return None
            body = xor_mapped(peer[0], peer[1]) + addr_attr(0x802C, "0.0.0.0", self.port + 1)
            return struct.pack("!HH", 0x0101, len(body)) + tid + body
        if self.mode == "strict":
            # A correct server that, as strict ones do, drops a request
            # without a valid FINGERPRINT (RFC 5389 section 15.5).
            attrs = parse_attrs(data)
            if not attrs or attrs[-1][0] != 0x8028 or len(data) < 28:
                return None
            want = (zlib.crc32(data[:-8]) ^ 0x5354554E) & 0xFFFFFFFF
            if struct.unpack("!I", data[-4:])[0] != want:
                return None
            body = xor_mapped(peer[0], peer[1])
            return struct.pack("!HH", 0x0101, len(body)) + tid + body
        if self.mode == "mapped-own-port":
            # The client's own IP with the port of a service on this host
            # (issue #20: the hairpin tests were sent there).
            body = xor_mapped(peer[0], self.service_port)
            return struct.pack("!HH", 0x0101, len(body)) + tid + body
        if self.mode == "mapped-v6":
            # MAPPED-ADDRESS of the other family (a plain attribute, no XOR).
            if any(t == 0x0003 for t, _ in parse_attrs(data)):
                return None
            body = addr_attr(0x0001, "2001:db8::1", 40000)
            return struct.pack("!HH", 0x0101, len(body)) + tid + body
        return None

    def serve(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) < 20:
                continue
            self.requests += 1
            out = self.reply(data, peer)
            if out is not None:
                self.sock.sendto(out, peer)

    def serve_tcp(self):
        """STUN over TCP on the same port: each request is answered with
        the client's IP and the service's port (mapped-own-port)."""
        while not self.stop.is_set():
            try:
                conn, peer = self.listener.accept()
            except socket.timeout:
                continue
            conn.settimeout(1.0)
            try:
                data = b""
                while len(data) < 20 or len(data) < 20 + struct.unpack("!H", data[2:4])[0]:
                    more = conn.recv(2048)
                    if not more:
                        break
                    data += more
                if len(data) >= 20:
                    self.tcp_requests += 1
                    body = xor_mapped(peer[0], self.service_port)
                    conn.sendall(struct.pack("!HH", 0x0101, len(body)) + data[4:20] + body)
                    conn.recv(1)        # until the client closes
            except OSError:
                pass
            conn.close()

    def __enter__(self):
        self.tcp_requests = 0
        self.listener = None
        if self.mode == "mapped-own-port":
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind(("127.0.0.1", self.port))
            self.listener.listen(16)
            self.listener.settimeout(0.05)
            self.tcp_thread = threading.Thread(target=self.serve_tcp, daemon=True)
            self.tcp_thread.start()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()
        if self.listener is not None:
            self.tcp_thread.join(3)
            self.listener.close()


def jrun(args):
    rc, out, err, secs = run([NATCHECK, "--json", *args])
    try:
        return rc, json.loads(out), err
    except ValueError:
        print(f"      (stdout was not one JSON object: {out!r})")
        return rc, None, err


def codes(doc):
    return [f["code"] for f in (doc or {}).get("findings", [])]


def finding(doc, code):
    for f in (doc or {}).get("findings", []):
        if f["code"] == code:
            return f
    return None


for mode, key in [("echo", "echoed"), ("wrong-tid", "unmatched"), ("indication", "indications")]:
    with Hostile(mode) as h:
        rc, doc, err = jrun(["-t", "1", f"127.0.0.1:{h.port}"])
    f = finding(doc, "no-valid-answer")
    c.check(f"{mode}: unknown, exit 16, not udp-blocked",
            rc == 16 and doc is not None and doc["type"] == "unknown", f"rc={rc} doc={doc}")
    c.check(f"{mode}: datagrams were received", doc is not None and doc["datagrams_received"] > 0,
            doc and doc["datagrams_received"])
    c.check(f"{mode}: finding no-valid-answer names them ({key})",
            f is not None and f[key] == f["received"] == doc["datagrams_received"] and f[key] > 0, f)
    c.check(f"{mode}: warning on stderr says none was a valid answer",
            "none a valid answer" in err, err)
    c.check(f"{mode}: ignored.{key} counts them",
            doc is not None and doc["ignored"][key] == doc["datagrams_received"], doc and doc["ignored"])
    c.check(f"{mode}: findings and warnings carry the same messages",
            doc is not None and [x["message"] for x in doc["findings"]] == doc["warnings"],
            doc and (doc["findings"], doc["warnings"]))

with Hostile("unspecified-alternate") as h:
    rc, doc, err = jrun(["-t", "2", f"127.0.0.1:{h.port}"])
    requests = h.requests
f = finding(doc, "alternate-rejected")
c.check("unspecified alternate: unknown, exit 16", rc == 16 and doc and doc["type"] == "unknown",
        f"rc={rc} doc={doc}")
c.check("unspecified alternate: finding alternate-rejected, reason unspecified",
        f is not None and f["reason"] == "unspecified" and f["alternate"].startswith("0.0.0.0:")
        and f["server"] == f"127.0.0.1:{h.port}", f)
c.check("unspecified alternate: no test sent to it",
        doc is not None and doc["alternate"] is None
        and all(t["destination"] is None or not t["destination"].startswith("0.0.0.0")
                for t in doc["tests"]), doc and doc["tests"])
c.check("unspecified alternate: the mapping is still reported",
        doc is not None and doc["mapped"] is not None and requests > 0, doc)

# Issue #20: a server that answers only requests with FINGERPRINT answers
# natcheck (the old requests had none: "UDP Blocked").
with Hostile("strict") as h:
    rc, doc, err = jrun(["-t", "2", f"127.0.0.1:{h.port}"])
    requests = h.requests
c.check("strict server (FINGERPRINT required): answered, not udp-blocked",
        doc is not None and doc["type"] != "udp-blocked" and rc != 15
        and doc["mapped"] is not None and doc["mapped"].startswith("127.0.0.1:"),
        f"rc={rc} type={doc and doc['type']} mapped={doc and doc['mapped']}")
c.check("strict server: its binding test was answered",
        doc is not None and requests > 0
        and [t["result"] for t in doc["tests"] if t["name"] == "binding"] == ["answered"],
        doc and [(t["name"], t["result"]) for t in doc["tests"]])

# A server that stays silent while the path is open never reads as UDP
# Blocked: another server's answer, or an ICMP error from a closed port,
# shows the path works, and the silent one is named (issue #20).
with Hostile("silent") as h, Server(NATCHECK) as good:
    rc, doc, err = jrun(["-4", "-t", "2", f"127.0.0.1:{h.port}", f"127.0.0.1:{good.port}"])
f = finding(doc, "no-answer-from")
c.check("silent server, then one that answers: the verdict from the second, not udp-blocked",
        rc == 0 and doc is not None and doc["type"] == "open", f"rc={rc} type={doc and doc['type']}")
c.check("silent server, then one that answers: finding no-answer-from names the silent one",
        f is not None and f["address"] == f"127.0.0.1:{h.port}", doc and codes(doc))
closed = free_udp_ports(1)[0]
with Hostile("silent") as h:
    rc, doc, err = jrun(["-4", "-t", "1", f"127.0.0.1:{h.port}", f"127.0.0.1:{closed}"])
f = finding(doc, "no-answer-from")
c.check("silent server beside a closed port (ICMP): unknown, exit 16, not udp-blocked",
        rc == 16 and doc is not None and doc["type"] == "unknown", f"rc={rc} type={doc and doc['type']}")
c.check("silent server beside a closed port: no-answer-from names the silent one, "
        "no-stun-server the closed one",
        f is not None and f["address"] == f"127.0.0.1:{h.port}"
        and (finding(doc, "no-stun-server") or {}).get("address") == f"127.0.0.1:{closed}",
        doc and codes(doc))

# Issue #20: a mapped address that is this host's own IP with another
# port (a local service's) is no NAT to hairpin through: no hairpin test,
# over UDP or TCP, may reach that service.
svc_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
svc_udp.bind(("127.0.0.1", 0))
svc_udp.settimeout(0.2)
svc_port = svc_udp.getsockname()[1]
svc_tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
svc_tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    svc_tcp.bind(("127.0.0.1", svc_port))
except OSError:
    svc_tcp.close()
    svc_tcp = None
if svc_tcp is not None:
    svc_tcp.listen(16)
    svc_tcp.settimeout(0.2)
with Hostile("mapped-own-port", svc_port) as h:
    rc, doc, err = jrun(["-4", "--tcp", "-t", "2", f"127.0.0.1:{h.port}"])
    tcp_asked = h.tcp_requests
datagrams = 0
while True:
    try:
        svc_udp.recvfrom(2048)
        datagrams += 1
    except socket.timeout:
        break
connects = 0
while svc_tcp is not None:
    try:
        svc_tcp.accept()[0].close()
        connects += 1
    except socket.timeout:
        break
svc_udp.close()
if svc_tcp is not None:
    svc_tcp.close()
f = finding(doc, "hairpinning-unsendable")
c.check("mapped address = this host's IP, a local service's port: no datagram reached the "
        "service", datagrams == 0, f"{datagrams} datagrams")
c.check("mapped own IP, another port: the UDP hairpin tests did not run, "
        "finding hairpinning-unsendable (local-address)",
        doc is not None and f is not None and f["reason"] == "local-address"
        and f["address"] == f"127.0.0.1:{svc_port}"
        and all(t["result"] == "not-run" for t in doc["tests"]
                if t["name"] in ("mapping-to-hairpin", "hairpin-to-mapping")),
        doc and (codes(doc), [(t["name"], t["result"]) for t in doc["tests"]]))
c.check("mapped own IP, another port: hairpinning null, the mapping still reported",
        doc is not None and doc["hairpinning"] is None and doc["mapped"] == f"127.0.0.1:{svc_port}",
        doc and (doc["hairpinning"], doc["mapped"]))
c.check("mapped own IP, another port, over TCP: the server was asked, no connection reached "
        "the service, TCP hairpinning null",
        svc_tcp is None or (tcp_asked > 0 and connects == 0 and doc is not None
                            and doc.get("tcp") is not None and doc["tcp"]["hairpinning"] is None),
        f"asked {tcp_asked}, {connects} connects, tcp={doc and doc.get('tcp')}")

with Hostile("mapped-v6") as h:
    rc, doc, err = jrun(["-t", "2", f"127.0.0.1:{h.port}"])
f = finding(doc, "hairpinning-unsendable")
c.check("IPv6 mapped address for an IPv4 socket: hairpinning null",
        doc is not None and doc["hairpinning"] is None, doc)
c.check("IPv6 mapped address: finding hairpinning-unsendable, reason other-family",
        f is not None and f["reason"] == "other-family" and f["address"] == "[2001:db8::1]:40000", f)
c.check("IPv6 mapped address: the hairpin tests did not run",
        doc is not None and all(t["result"] == "not-run" for t in doc["tests"]
                                if t["name"] in ("mapping-to-hairpin", "hairpin-to-mapping")),
        doc and doc["tests"])

c.finish()
