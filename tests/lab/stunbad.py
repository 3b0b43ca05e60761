"""A small misbehaving RFC 5780 server for the failover lab (real STUN).

Usage: python3 stunbad.py MODE PRIMARY ALTERNATE PORT ALT_PORT

Listens on PRIMARY and ALTERNATE, each on PORT and ALT_PORT, and for every
Binding request answers as an RFC 5780 server would (XOR-MAPPED-ADDRESS,
MAPPED-ADDRESS, RESPONSE-ORIGIN, OTHER-ADDRESS relative to the endpoint the
request reached), except:
  dead    never answers (reads and drops every datagram)
  ignore  ignores CHANGE-REQUEST: answers from the endpoint it was sent to
  lie     honours CHANGE-REQUEST but names a RESPONSE-ORIGIN it does not
          answer from (203.0.113.9, the same port)
No standard peer can be told to do these; natcheck must survive them.
Runs until SIGTERM; only the lab's documentation addresses are used.
"""
import os
import select
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from stunlib import ATTR, CHANGE_IP, CHANGE_PORT, COOKIE, addr_value, attr, get, parse, xor_mapped  # noqa: E402

FAKE_ORIGIN = "203.0.113.9"


def main():
    mode, ips, ports = sys.argv[1], sys.argv[2:4], [int(sys.argv[4]), int(sys.argv[5])]
    if mode not in ("dead", "ignore", "lie"):
        sys.exit(f"stunbad: unknown mode {mode}")
    socks = {}
    for a in range(2):
        for b in range(2):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((ips[a], ports[b]))
            socks[(a, b)] = s
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    by_fd = {s.fileno(): k for k, s in socks.items()}
    while True:
        ready, _, _ = select.select(list(socks.values()), [], [])
        for s in ready:
            data, peer = s.recvfrom(2048)
            a, b = by_fd[s.fileno()]
            if mode == "dead":
                continue
            try:
                mtype, tid, attrs, _ = parse(data)
            except ValueError:
                continue
            if mtype != 0x0001 or tid[:4] != struct.pack("!I", COOKIE):
                continue
            flags = 0
            cr = get(attrs, "CHANGE-REQUEST")
            if cr is not None and len(cr) == 4:
                flags = struct.unpack("!I", cr)[0]
            ra, rb = a, b
            if mode != "ignore":
                ra ^= 1 if flags & CHANGE_IP else 0
                rb ^= 1 if flags & CHANGE_PORT else 0
            origin = FAKE_ORIGIN if mode == "lie" else ips[ra]
            body = (xor_mapped(peer[0], peer[1]) +
                    attr(ATTR["MAPPED-ADDRESS"], addr_value(peer[0], peer[1])) +
                    attr(ATTR["RESPONSE-ORIGIN"], addr_value(origin, ports[rb])) +
                    attr(ATTR["OTHER-ADDRESS"], addr_value(ips[a ^ 1], ports[b ^ 1])))
            socks[(ra, rb)].sendto(struct.pack("!HH", 0x0101, len(body)) + tid + body, peer)


if __name__ == "__main__":
    main()
