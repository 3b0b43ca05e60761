"""One side of a real UDP hole punch (RFC 5128 section 3.3) for the two-site lab.

Usage: python3 punch.py --server IP:PORT --dir DIR --me a|b --my-json FILE
                        --peer-json FILE --out FILE [--window N] [--seconds S] [--tries N]

Both sides run this at the same time, each in its own client namespace,
with the same DIR (the files in it stand in for the signalling a real
application does through its rendezvous server, and keep the two sides in
step).  A try:
  1. a fresh socket asks the server (a STUN Binding request, RFC 5389) for
     its server-reflexive address, and writes it to DIR; the try starts
     when the peer's is there too, so both send at once;
  2. every 20 ms a probe goes to each of the peer's candidates: its
     reflexive address and, in a "predict" try when the peer's saved
     `natcheck --json` result says its NAT allocates ports sequentially with
     step d, the N ports port + d, ..., port + N d before it (RFC 5128
     section 3.5; in this order, so that two sequential NATs open matching
     flows).  Every probe heard is answered with an ack to the address it
     came from, which becomes a candidate too;
  3. a side is connected when an ack from the peer came back; the try ends
     once the peer's probes say it is connected too (after a little more
     answering), or after S seconds;
  4. both sides write what they saw to DIR and read the peer's, so both
     take the same next step.
The pair connected when both sides did.  First "direct" tries; if none
connected and either side's own result says sequential, "predict" tries.
A failed try is conclusive only when it was sound: both sides had their
reflexive address and probed side by side (windows overlapping by half of
S, no gap over 0.5 s between rounds of probes); otherwise (a starved
process on a loaded machine) the try is made again, up to N tries per
mode.  A side whose server never answered (3 s) is UDP blocked: that is
sound.  Only datagrams carrying the try's session count.

Writes one JSON object to --out (when it is done): outcome ("direct", "predict", "none", or
"inconclusive" when no try of a mode was sound) and the tries.  Exit
status 0 when it ran, 2 on a usage error.  Every wait is bounded; only the
lab's addresses are contacted.
"""
import argparse
import json
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from stunlib import addr_of, binding_request, get, parse  # noqa: E402

TICK = 0.02           # seconds between rounds of probes
STUN_SECONDS = 3.0    # the server's answer, or UDP is blocked
STUN_EVERY = 0.25     # Binding request retransmissions
LINGER = 0.3          # answering on after both sides are connected
RENDEZVOUS = 30.0     # the longest wait for the peer's file
MAX_GAP = 0.5         # a longer pause between rounds of probes: starved


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def reflexive(sock, server):
    """The XOR-MAPPED-ADDRESS the server saw, or None after STUN_SECONDS."""
    req, tid = binding_request()
    end = time.monotonic() + STUN_SECONDS
    while time.monotonic() < end:
        sock.sendto(req, server)
        deadline = min(end, time.monotonic() + STUN_EVERY)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            data, src = sock.recvfrom(2048)
            try:
                mtype, rtid, attrs, _ = parse(data)
            except ValueError:
                continue
            if mtype == 0x0101 and rtid == tid and src[:2] == server:
                return addr_of(get(attrs, "XOR-MAPPED-ADDRESS"), tid)
    return None


def allocation(path):
    """(allocation, delta) from a saved natcheck --json result."""
    try:
        with open(path) as f:
            ports = json.load(f).get("ports") or {}
    except (OSError, ValueError, AttributeError):
        return None, None
    return ports.get("allocation"), ports.get("delta")


def put(path, obj):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
    os.rename(path + ".tmp", path)


def take(path, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                return json.load(f)
        except FileNotFoundError:
            time.sleep(0.01)
    return None


def targets_for(cand, mode, peer_alloc, window):
    host, port = endpoint(cand)
    alloc, delta = peer_alloc
    out = []
    if mode == "predict" and alloc == "sequential" and isinstance(delta, int) and delta != 0:
        out = [(host, (port + delta * k) % 65536) for k in range(1, window + 1)]
        out = [t for t in out if t[1] != 0]
    return out + [(host, port)]


def punch(sock, targets, me, peer, session, seconds):
    """Probe and answer for up to `seconds`; what this side saw."""
    probe = f"NCPUNCH {session} probe {me} ".encode()
    ack = f"NCPUNCH {session} ack {me}".encode()
    seen = {"connected": False, "peer_seen": None, "probes": 0, "max_gap": 0.0}
    peer_done = False
    done_at = None
    start = time.monotonic()
    end = start + seconds
    next_round = last_round = start
    while True:
        now = time.monotonic()
        if now >= end or (done_at is not None and now >= done_at):
            break
        if now >= next_round:
            seen["max_gap"] = max(seen["max_gap"], now - last_round)
            last_round = now
            flag = b"1" if seen["connected"] else b"0"
            for t in targets:
                sock.sendto(probe + flag, t)
                seen["probes"] += 1
            next_round = now + TICK
        wait = max(0.0, min(next_round, end) - time.monotonic())
        if not select.select([sock], [], [], wait)[0]:
            continue
        data, src = sock.recvfrom(2048)
        words = data.split()
        if len(words) < 4 or words[0] != b"NCPUNCH" or words[1] != session.encode() \
                or words[3] != peer.encode():
            continue
        src = src[:2]
        seen["peer_seen"] = f"{src[0]}:{src[1]}"
        if words[2] == b"probe":
            sock.sendto(ack, src)
            if src not in targets:
                targets.append(src)
            peer_done = peer_done or (len(words) > 4 and words[4] == b"1")
        elif words[2] == b"ack":
            seen["connected"] = True
        if seen["connected"] and peer_done and done_at is None:
            done_at = time.monotonic() + LINGER
    seen["start"], seen["end"] = start, time.monotonic()
    seen["targets"] = [f"{h}:{p}" for h, p in targets]
    return seen


def sound(mine, theirs, seconds):
    """Was a failed try a fair one (see the top of this file)?"""
    sides = (mine, theirs)
    if any(s.get("reflexive") is None for s in sides):
        return all(s.get("reflexive") is not None or s.get("stun_sound") for s in sides)
    if any("start" not in s for s in sides):
        return False
    overlap = min(s["end"] for s in sides) - max(s["start"] for s in sides)
    return overlap >= seconds / 2 and all(s["max_gap"] <= MAX_GAP for s in sides)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True, type=endpoint)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--me", required=True, choices=("a", "b"))
    ap.add_argument("--my-json", required=True)
    ap.add_argument("--peer-json", required=True)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--tries", type=int, default=3)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    me, peer = args.me, ("b" if args.me == "a" else "a")
    peer_alloc = allocation(args.peer_json)
    modes = ["direct"]
    if "sequential" in (allocation(args.my_json)[0], peer_alloc[0]):
        modes.append("predict")
    result = {"me": me, "outcome": "none", "tries": []}

    for mode in modes:
        conclusive = False
        for k in range(1, args.tries + 1):
            tag = f"{mode}{k}"
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("0.0.0.0", 0))
            t0 = time.monotonic()
            mine = reflexive(sock, args.server)
            rec = {"try": tag, "reflexive": f"{mine[0]}:{mine[1]}" if mine else None,
                   # no answer although every request went out in time: blocked
                   "stun_sound": mine is None and time.monotonic() - t0 < STUN_SECONDS + MAX_GAP}
            put(os.path.join(args.dir, f"{me}.{tag}.cand"), rec["reflexive"])
            cand = take(os.path.join(args.dir, f"{peer}.{tag}.cand"), RENDEZVOUS)
            if mine is not None and cand:
                rec.update(punch(sock, targets_for(cand, mode, peer_alloc, args.window),
                                 me, peer, f"{tag}-{os.path.basename(args.dir)}", args.seconds))
            sock.close()
            put(os.path.join(args.dir, f"{me}.{tag}.res"), rec)
            theirs = take(os.path.join(args.dir, f"{peer}.{tag}.res"),
                          RENDEZVOUS + args.seconds) or {}
            rec["peer_connected"] = theirs.get("connected", False)
            result["tries"].append(rec)
            if rec.get("connected") and theirs.get("connected"):
                result["outcome"] = mode
                put(args.out, result)
                return 0
            if sound(rec, theirs, args.seconds):
                conclusive = True
                break
        if not conclusive:
            result["outcome"] = "inconclusive"
            break
    put(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
