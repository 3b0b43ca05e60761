#!/usr/bin/env python3
"""natcheck --serve on real loopback sockets (python3 standard library only).

    python3 tests/e2e/serve_loopback.py ./natcheck

Starts `natcheck --serve 127.0.0.1,127.0.0.2 -p P --alt-port Q -v` on free
ports and checks, for both header forms, every CHANGE-REQUEST combination
sent to each of the four endpoints: the reply's real source address and
port (as recvfrom() reports it) and every address attribute in it.  Then
RESPONSE-PORT, RESPONSE-ADDRESS, garbage, a malformed attribute (400),
header-level failures (no answer), an unknown attribute (420), the
amplification rule and PADDING, a burst, timestamped -v lines, and a clean
stop on SIGTERM.  A second
server on one address (::1, or 127.0.0.1 without IPv6) checks the 420 for
"change IP", OTHER-ADDRESS only for a request that carries CHANGE-REQUEST,
silence for an RFC 3489 CHANGE-REQUEST, and a clean stop on
SIGINT.  Last, multicast, broadcast and
wildcard addresses are refused as usage errors.

Talks to 127.0.0.0/8 and ::1 only.  Ends only the servers it started, by
PID.  Prints one line per check and "N passed, M failed" last.
"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stunlib import (A1, A2, ATTR, CHANGE_IP, CHANGE_PORT, COOKIE, Checks,  # noqa: E402
                     Server, addr_of, addr_value, attr, error_of, exchange,
                     free_udp_ports, get, parse, recv_match, request, udp)

THIRD = "127.0.0.3"             # a "third party" that must never hear from us


# ------------------------------------------------------------------ checks

def check_reply(c, name, got, tid, cookie, want_src, client, ep_other, ep_src, req_len=None):
    """A Binding success from want_src that reports client as mapped; with
    req_len, the reply also keeps the amplification rule."""
    if not c.check(f"{name}: answered", got is not None, "no reply within 3 s"):
        return
    data, src = got
    c.check(f"{name}: reply comes from {want_src[0]}:{want_src[1]}", src == want_src,
            f"came from {src[0]}:{src[1]}")
    try:
        mtype, rtid, attrs, fp = parse(data)
    except ValueError as e:
        c.check(f"{name}: reply parses", False, str(e))
        return
    problems = []
    if mtype != 0x0101:
        problems.append(f"type 0x{mtype:04x}")
    if rtid != tid:
        problems.append("transaction ID not echoed")
    if addr_of(get(attrs, "MAPPED-ADDRESS")) != client:
        problems.append(f"MAPPED-ADDRESS {addr_of(get(attrs, 'MAPPED-ADDRESS'))}")
    if cookie:
        if addr_of(get(attrs, "XOR-MAPPED-ADDRESS"), tid) != client:
            problems.append("XOR-MAPPED-ADDRESS")
        if addr_of(get(attrs, "RESPONSE-ORIGIN")) != ep_src:
            problems.append(f"RESPONSE-ORIGIN {addr_of(get(attrs, 'RESPONSE-ORIGIN'))}")
        if addr_of(get(attrs, "OTHER-ADDRESS")) != ep_other:
            problems.append(f"OTHER-ADDRESS {addr_of(get(attrs, 'OTHER-ADDRESS'))}")
        # SOFTWARE and FINGERPRINT are optional: sent only in the room the
        # request paid for (bound_problems checks that rule).
        sw = get(attrs, "SOFTWARE")
        if sw is not None and sw != SOFTWARE:
            problems.append(f"SOFTWARE {sw!r}")
        if fp is False:
            problems.append("FINGERPRINT wrong or not last")
    else:
        if addr_of(get(attrs, "SOURCE-ADDRESS")) != ep_src:
            problems.append(f"SOURCE-ADDRESS {addr_of(get(attrs, 'SOURCE-ADDRESS'))}")
        if addr_of(get(attrs, "CHANGED-ADDRESS")) != ep_other:
            problems.append(f"CHANGED-ADDRESS {addr_of(get(attrs, 'CHANGED-ADDRESS'))}")
        for n in ("XOR-MAPPED-ADDRESS", "FINGERPRINT", "RESPONSE-ORIGIN", "SOFTWARE"):
            if get(attrs, n) is not None:
                problems.append(f"{n} in an RFC 3489 reply")
    if req_len is not None:
        problems += bound_problems(data, attrs, req_len)
    c.check(f"{name}: attributes", not problems, "; ".join(problems))


OPTIONAL = ("SOFTWARE", "FINGERPRINT", "PADDING")
SOFTWARE = b"natcheck"          # main() sets it to what --version prints


def wire_size(value):
    return 4 + ((len(value) + 3) & ~3)


def bound_problems(data, attrs, req_len):
    """The amplification rule (man page, SERVER): what the RFCs require may
    exceed the request, by 96 bytes at most; SOFTWARE, FINGERPRINT and
    PADDING only fill the room the request paid for, PADDING never beyond
    the request, and each is left out only for want of room."""
    opt = {ATTR[n] for n in OPTIONAL}
    required = 20 + sum(wire_size(v) for t, v in attrs if t not in opt)
    room = max(req_len, required)
    out = []
    if len(data) > room:
        out.append(f"reply {len(data)} > max(request {req_len}, required {required})")
    if len(data) > req_len + 96:
        out.append(f"reply {len(data)} more than 96 bytes over the request {req_len}")
    if get(attrs, "PADDING") is not None and len(data) > req_len:
        out.append(f"padded reply {len(data)} > request {req_len}")
    if data[4:8] == struct.pack("!I", COOKIE):
        fp = 8 if get(attrs, "FINGERPRINT") is not None else 0
        if not fp and required + 8 <= room:
            out.append("FINGERPRINT left out though it fitted")
        sw = get(attrs, "SOFTWARE")
        if sw is None and required + fp + wire_size(SOFTWARE) <= room:
            out.append("SOFTWARE left out though it fitted")
    return out


def check_error(c, name, got, code, reason_part, want_src):
    if not c.check(f"{name}: answered", got is not None, "no reply within 3 s"):
        return None
    data, src = got
    try:
        mtype, _, attrs, _ = parse(data)
    except ValueError as e:
        c.check(f"{name}: parses", False, str(e))
        return None
    got_code, reason = error_of(attrs)
    ok = (mtype & 0x0110) == 0x0110 and got_code == code and reason_part in reason \
        and src == want_src
    c.check(f"{name}: error {code} from {want_src[0]}:{want_src[1]}", ok,
            f"type 0x{mtype:04x}, code {got_code}, reason {reason!r}, from {src}")
    return attrs


def grid_tests(c, srv):
    P, Q = srv.port, srv.alt_port
    ep = {0: (A1, P), 1: (A2, P), 2: (A1, Q), 3: (A2, Q)}
    flag_cases = [("no flags", 0), ("change port", CHANGE_PORT), ("change IP", CHANGE_IP),
                  ("change IP+port", CHANGE_IP | CHANGE_PORT)]
    cl = udp(A1)
    client = cl.getsockname()[:2]
    try:
        for cookie in (False, True):
            form = "RFC 5389" if cookie else "RFC 3489"
            for at in range(4):
                for fname, flags in flag_cases:
                    via = at ^ (1 if flags & CHANGE_IP else 0) ^ (2 if flags & CHANGE_PORT else 0)
                    req, tid = request(cookie, attr(ATTR["CHANGE-REQUEST"],
                                                    struct.pack("!I", flags)))
                    got = exchange(cl, ep[at], req, tid)
                    name = f"{form} to {ep[at][0]}:{ep[at][1]} {fname}"
                    check_reply(c, name, got, tid, cookie, ep[via], client, ep[at ^ 3],
                                ep[via], len(req))
    finally:
        cl.close()


def other_tests(c, srv):
    P, Q = srv.port, srv.alt_port
    s1, s2 = udp(A1), udp(A1)
    third = None
    try:
        c1 = s1.getsockname()[:2]
        p2 = s2.getsockname()[1]

        # RESPONSE-PORT: the reply goes to the source IP at that port.
        req, tid = request(True, attr(ATTR["CHANGE-REQUEST"], struct.pack("!I", CHANGE_PORT)) +
                           attr(ATTR["RESPONSE-PORT"], struct.pack("!HH", p2, 0)))
        got = exchange(s1, (A1, P), req, tid, rx=s2)
        check_reply(c, "RESPONSE-PORT", got, tid, True, (A1, Q), c1, (A2, Q), (A1, Q))
        c.check("RESPONSE-PORT: nothing at the requesting port",
                recv_match(s1, tid, 0.3) is None)

        # RESPONSE-ADDRESS to the source IP, other port: honoured + REFLECTED-FROM.
        req, tid = request(False, attr(ATTR["RESPONSE-ADDRESS"], addr_value(A1, p2)))
        got = exchange(s1, (A2, Q), req, tid, rx=s2)
        check_reply(c, "RESPONSE-ADDRESS same IP", got, tid, False, (A2, Q), c1, (A1, P),
                    (A2, Q))
        if got:
            refl = addr_of(get(parse(got[0])[2], "REFLECTED-FROM"))
            c.check("RESPONSE-ADDRESS same IP: REFLECTED-FROM is the requester",
                    refl == c1, f"{refl}")

        # RESPONSE-ADDRESS naming a third party: 400 to the source, nothing
        # to the third party.
        try:
            third = udp(THIRD)
        except OSError:
            third = None
        tp = third.getsockname()[1] if third else 9
        req, tid = request(False, attr(ATTR["RESPONSE-ADDRESS"], addr_value(THIRD, tp)))
        got = exchange(s1, (A1, P), req, tid)
        check_error(c, "RESPONSE-ADDRESS third party", got, 400, "RESPONSE-ADDRESS", (A1, P))
        if third:
            c.check("RESPONSE-ADDRESS third party: it received nothing",
                    recv_match(third, tid, 0.3) is None)

        # Garbage, then the server still serves.
        s1.sendto(b"\xff" * 64, (A1, P))
        s1.sendto(b"GET / HTTP/1.0\r\n\r\n", (A1, P))
        s1.sendto(b"", (A1, P))
        c.check("garbage: no answer", recv_match(s1, b"\xff" * 16, 0.3) is None)
        req, tid = request(True)
        got = exchange(s1, (A1, P), req, tid)
        check_reply(c, "after garbage", got, tid, True, (A1, P), c1, (A2, Q), (A1, P))

        # A response sent to the server is dropped.
        resp, rtid = request(True, mtype=0x0101)
        s1.sendto(resp, (A1, P))
        c.check("a response is not answered", recv_match(s1, rtid, 0.3) is None)

        # A Binding request with a malformed attribute: 400 naming the problem.
        body = struct.pack("!HH", ATTR["CHANGE-REQUEST"], 8) + b"\0\0\0\0"   # 8 claimed, 4 there
        for cookie in (False, True):
            req, tid = request(cookie, body)
            got = exchange(s1, (A2, P), req, tid)
            check_error(c, f"malformed ({'RFC 5389' if cookie else 'RFC 3489'})", got, 400,
                        "truncated", (A2, P))

        # Header-level failures are discarded silently (RFC 5389 section
        # 7.3): a length that does not match, a misaligned one, an unknown
        # method, a class that is not a request.
        for what, (req, tid) in (
                ("20 bytes, length field 4", request(True, length=4)),
                ("length field 4 short", request(True, b"\0" * 8, length=4)),
                ("misaligned length", request(True, b"\0" * 3)),
                ("unknown method (Allocate)", request(True, b"\0" * 8, mtype=0x0003)),
                ("Binding indication", request(True, mtype=0x0011))):
            s1.sendto(req, (A1, P))
            c.check(f"header-level failure, {what}: no answer", recv_match(s1, tid, 0.3) is None)

        # A bare 20-byte request gets only what the RFCs require; one with
        # room for them also SOFTWARE and FINGERPRINT.
        for cookie, want in ((True, 68), (False, 56)):
            req, tid = request(cookie)
            got = exchange(s1, (A1, P), req, tid)
            form = "RFC 5389" if cookie else "RFC 3489"
            check_reply(c, f"bare {form} request", got, tid, cookie, (A1, P), c1, (A2, Q),
                        (A1, P), len(req))
            c.check(f"bare {form} request: {want}-byte reply", got is not None and
                    len(got[0]) == want, f"{len(got[0]) if got else None} bytes")
        req, tid = request(True, attr(0x8077, b"r" * 100))
        got = exchange(s1, (A1, P), req, tid)
        check_reply(c, "request with room", got, tid, True, (A1, P), c1, (A2, Q), (A1, P),
                    len(req))
        if got:
            a = parse(got[0])
            c.check("request with room: SOFTWARE and a good FINGERPRINT",
                    get(a[2], "SOFTWARE") is not None and a[3] is True)

        # Unknown comprehension-required attribute: 420 + UNKNOWN-ATTRIBUTES.
        for cookie in (False, True):
            req, tid = request(cookie, attr(0x0042, b"abcd") + attr(0x8042, b"opt!"))
            got = exchange(s1, (A2, Q), req, tid)
            attrs = check_error(c, f"unknown attribute ({'RFC 5389' if cookie else 'RFC 3489'})",
                                got, 420, "", (A2, Q))
            if attrs is not None:
                ua = get(attrs, "UNKNOWN-ATTRIBUTES") or b""
                c.check("  UNKNOWN-ATTRIBUTES lists 0x0042 only",
                        len(ua) >= 2 and set(struct.unpack(f"!{len(ua) // 2}H", ua)) == {0x0042},
                        f"{ua!r}")

        # PADDING: the reply is padded, but never beyond the request's size;
        # a small request has no room, and gets no PADDING at all.
        req, tid = request(True, attr(ATTR["PADDING"], b"p" * 1200))
        got = exchange(s1, (A1, P), req, tid)
        if c.check("PADDING: answered", got is not None):
            pad = get(parse(got[0])[2], "PADDING")
            c.check("PADDING: padded, reply no longer than the request",
                    pad is not None and len(pad) > 1000 and len(got[0]) <= len(req),
                    f"reply {len(got[0])} bytes, request {len(req)}")
        bad = []
        for n in range(0, 100):
            req, tid = request(n % 2 == 0, attr(ATTR["PADDING"], b"p" * n))
            got = exchange(s1, (A1, P), req, tid)
            if got is None:
                bad.append(f"{n}: no answer")
                continue
            attrs = parse(got[0])[2]
            bad += [f"{n}: {p}" for p in bound_problems(got[0], attrs, len(req))]
        c.check("PADDING 0..99 bytes: every reply keeps the rule", not bad, "; ".join(bad[:5]))

        # Three bursts of 100 requests, each sent before any reply is read:
        # every one answered (the batched receive path).  100 stays well
        # inside the default socket buffers (about 256 small datagrams).
        answered = 0
        for _ in range(3):
            tids = set()
            for _ in range(100):
                req, tid = request(True)
                tids.add(tid)
                s2.sendto(req, (A1, P))
            seen = set()
            deadline = time.monotonic() + 5
            while seen != tids and time.monotonic() < deadline:
                s2.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data, _ = s2.recvfrom(2048)
                except socket.timeout:
                    break
                seen.add(data[4:20])
            answered += len(seen & tids)
        c.check("3 bursts of 100: all answered", answered == 300, f"{answered} of 300")
    finally:
        s1.close()
        s2.close()
        if third:
            third.close()


def refused_addresses(c, natcheck):
    """Addresses a reply could not honestly come from are usage errors: exit
    2, one line.  127.255.255.255 is the directed broadcast of lo's
    127.0.0.0/8 (lo has no broadcast flag: it is computed from the mask)."""
    cases = ["127.0.0.1,127.255.255.255", "127.255.255.255", "255.255.255.255",
             "224.0.0.1", "127.0.0.1,239.1.2.3", "0.0.0.0", "ff02::1", "::1,ff05::2", "::"]
    port, alt = free_udp_ports(2, (A1,))
    for spec in cases:
        try:
            p = subprocess.run([natcheck, "--serve", spec, "-p", str(port), "--alt-port", str(alt)],
                               capture_output=True, text=True, timeout=5)
        except subprocess.TimeoutExpired:
            c.check(f"--serve {spec}: refused", False, "it started serving")
            continue
        lines = p.stderr.splitlines()
        c.check(f"--serve {spec}: usage error, one line",
                p.returncode == 2 and len(lines) == 1 and
                lines[0].endswith(" (see natcheck --help)") and "serving" not in p.stderr,
                f"status {p.returncode}, stderr {p.stderr!r}")


TIMESTAMP = re.compile(r"^natcheck: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


def check_log_times(c, log):
    """Every log line, the start-up line included, opens with an RFC 3339
    UTC time."""
    lines = log.splitlines()
    bad = [ln for ln in lines if not TIMESTAMP.match(ln)]
    c.check("-v lines carry an RFC 3339 UTC timestamp", lines and not bad,
            f"{len(bad)} of {len(lines)} without, e.g. {bad[:2]}")


def main():
    if len(sys.argv) != 2:
        print("usage: serve_loopback.py NATCHECK", file=sys.stderr)
        return 2
    natcheck = sys.argv[1]
    c = Checks()
    global SOFTWARE
    SOFTWARE = subprocess.run([natcheck, "--version"], capture_output=True,
                              timeout=10).stdout.strip()

    srv = Server(natcheck, f"{A1},{A2}", extra=("-v",))
    try:
        if srv.start(c):
            P, Q = srv.port, srv.alt_port
            line = f"Z serving on {A1}:{P} {A1}:{Q} {A2}:{P} {A2}:{Q}\n"
            c.check("start-up line", line in srv.stderr(), srv.stderr()[:300])
            grid_tests(c, srv)
            other_tests(c, srv)
            c.check("server still running", srv.proc.poll() is None)
            rc = srv.stop(signal.SIGTERM)
            c.check("SIGTERM: exit status 0 within 5 s", rc == 0, f"status {rc}")
            log = srv.stderr()
            c.check("-v logs answers", "binding response" in log)
            c.check("-v logs drops", "dropped" in log)
            c.check("-v logs errors", "error 420" in log and "error 400" in log)
            check_log_times(c, log)
    finally:
        srv.kill()

    # One address: the two ports only; change IP is 420.
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))
        host = "::1"
    except OSError:
        host = A1
    one = Server(natcheck, host, extra=("-v",))
    try:
        if one.start(c):
            P, Q = one.port, one.alt_port
            s = udp(host)
            try:
                me = s.getsockname()[:2]
                # An RFC 3489 request with CHANGE-REQUEST, whatever the
                # flags, is not answered (a classic client's NAT test must
                # fail, not count a 420 as a reply: natcheck(1), SERVER);
                # without it, the mapped address, and no CHANGED-ADDRESS.
                for flags in (0, CHANGE_PORT, CHANGE_IP):
                    req, tid = request(False, attr(ATTR["CHANGE-REQUEST"], struct.pack("!I", flags)))
                    got = exchange(s, (host, P), req, tid, tries=2, wait=0.5)
                    c.check(f"single {host} RFC 3489 CHANGE-REQUEST {flags}: no answer",
                            got is None, f"{got and got[1]}")
                req, tid = request(False)
                got = exchange(s, (host, P), req, tid)
                attrs = parse(got[0])[2] if got else []
                c.check(f"single {host} RFC 3489 without CHANGE-REQUEST: answered from "
                        f"port {P}, no CHANGED-ADDRESS",
                        got is not None and got[1] == (host, P)
                        and addr_of(get(attrs, "MAPPED-ADDRESS")) == me
                        and get(attrs, "CHANGED-ADDRESS") is None, f"{got and got[1]}")
                cookie, form = True, "RFC 5389"
                # A bare request gets no OTHER-ADDRESS (RFC 5780 section 6:
                # a client that does not ask must not take the same IP for a
                # second server); an empty CHANGE-REQUEST asks, and is
                # answered from where it went, naming the other port.
                req, tid = request(cookie)
                got = exchange(s, (host, P), req, tid)
                attrs = parse(got[0])[2] if got else []
                c.check(f"single {host} {form} bare: answered from port {P}, no OTHER-ADDRESS",
                        got is not None and got[1] == (host, P)
                        and addr_of(get(attrs, "MAPPED-ADDRESS")) == me
                        and get(attrs, "OTHER-ADDRESS") is None, f"{got and got[1]}")
                req, tid = request(cookie, attr(ATTR["CHANGE-REQUEST"], struct.pack("!I", 0)))
                got = exchange(s, (host, P), req, tid)
                attrs = parse(got[0])[2] if got else []
                other = get(attrs, "OTHER-ADDRESS")
                c.check(f"single {host} {form} empty CHANGE-REQUEST: from port {P}, "
                        f"OTHER-ADDRESS ({host}, {Q})",
                        got is not None and got[1] == (host, P)
                        and (addr_of(other) if other is not None else None) == (host, Q),
                        f"{got and got[1]} {addr_of(other) if other is not None else None}")
                req, tid = request(cookie, attr(ATTR["CHANGE-REQUEST"],
                                                struct.pack("!I", CHANGE_PORT)))
                got = exchange(s, (host, P), req, tid)
                if c.check(f"single {host} {form} change port: answered", got is not None):
                    _, _, attrs, _ = parse(got[0])
                    # One address: OTHER-ADDRESS is this IP, the other
                    # port (RFC 5389 form only; natcheck(1) says why).
                    other = get(attrs, "OTHER-ADDRESS")
                    want = (host, Q) if cookie else None
                    c.check(f"single {host} {form} change port: from port {Q}, "
                            f"OTHER-ADDRESS {want}, no CHANGED-ADDRESS",
                            got[1] == (host, Q) and addr_of(get(attrs, "MAPPED-ADDRESS")) == me
                            and (addr_of(other) if other is not None else None) == want
                            and get(attrs, "CHANGED-ADDRESS") is None,
                            f"{got[1]} {addr_of(other) if other is not None else None}")
                req, tid = request(cookie, attr(ATTR["CHANGE-REQUEST"],
                                                struct.pack("!I", CHANGE_IP)))
                got = exchange(s, (host, Q), req, tid)
                check_error(c, f"single {host} {form} change IP", got, 420, "", (host, Q))
            finally:
                s.close()
            rc = one.stop(signal.SIGINT)
            c.check("SIGINT: exit status 0 within 5 s", rc == 0, f"status {rc}")
    finally:
        one.kill()

    refused_addresses(c, natcheck)

    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
