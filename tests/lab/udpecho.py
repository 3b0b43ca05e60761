#!/usr/bin/env python3
"""Round-trip check for the NAT lab (test-only).

  udpecho.py serve ADDR PORT SECONDS     echo every datagram back, for SECONDS
  udpecho.py ping ADDR PORT COUNT        send COUNT probes 20 ms apart, print
                                         "sent N received M min X median Y max Z" (ms)
ADDR is an IPv4 or an IPv6 address (without brackets).  Every wait is bounded.
"""
import socket
import statistics
import struct
import sys
import time


def udp_socket(addr):
    return socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)


def serve(addr, port, seconds):
    s = udp_socket(addr)
    s.bind((addr, port))
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return 0
        s.settimeout(left)
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            return 0
        s.sendto(data, peer)


def ping(addr, port, count):
    s = udp_socket(addr)
    s.connect((addr, port))
    sent = {}
    rtts = []
    gap = 0.02
    end = time.monotonic() + count * gap + 2.0
    i = 0
    next_send = time.monotonic()
    while time.monotonic() < end and (i < count or sent):
        now = time.monotonic()
        if i < count and now >= next_send:
            sent[i] = now
            s.send(struct.pack("!I", i))
            i += 1
            next_send = now + gap
        wait = max(0.001, min(end, next_send if i < count else end) - time.monotonic())
        s.settimeout(wait)
        try:
            data = s.recv(2048)
        except (socket.timeout, ConnectionRefusedError):
            continue
        if len(data) == 4:
            (n,) = struct.unpack("!I", data)
            if n in sent:
                rtts.append((time.monotonic() - sent.pop(n)) * 1000.0)
    if sent:
        print("lost: %s" % sorted(sent), file=sys.stderr)
    if not rtts:
        print("sent %d received 0" % count)
        return 1
    print("sent %d received %d min %.1f median %.1f max %.1f"
          % (count, len(rtts), min(rtts), statistics.median(rtts), max(rtts)))
    return 0


def main(argv):
    if len(argv) != 5 or argv[1] not in ("serve", "ping"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "serve":
        return serve(argv[2], int(argv[3]), float(argv[4]))
    return ping(argv[2], int(argv[3]), int(argv[4]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
