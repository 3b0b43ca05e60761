#!/usr/bin/env bash
# bench/selftest.sh [NATCHECK] - the bench tools do what bench/README says:
#   - bench/floor.c answers a Binding request with exactly the request,
#     type flipped to 0x0101, and drops what is not a whole Binding
#     request (no reflector); it takes loopback literals only and ends
#     with status 0 on SIGTERM;
#   - bench/loadgen.c -e counts the floor's echoes as valid and nothing
#     else, and without -e counts them all invalid; given NATCHECK, its
#     full answers are valid without -e and all invalid with -e;
#   - bench/dual.py report computes dual.sh's ratios from runs made by
#     hand and exits 1 on a wrong or a missing run.
# Functional checks only, no timing (1 s of load per case, IPv4 and ::1).
# Needs python3 for the byte-level probes.  Loopback only; only the
# processes started here are signalled, by PID.  Part of make check
# (check-bench-tools); ends with "bench selftest: N passed, 0 failed, 0
# skipped", or at the first failure with exit 1.
set -euo pipefail

die() { echo "bench/selftest.sh: FAIL: $*" >&2; exit 1; }
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NATCHECK=
if [ $# -ge 1 ]; then NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); fi
cd "$ROOT"
command -v python3 >/dev/null || die "python3 is needed"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/natcheck-benchtest.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

for t in loadgen floor; do
	${CC:-cc} -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -O2 \
		-o "$TMP/$t" "bench/$t.c" || die "cannot build bench/$t.c"
done

# A free UDP port on the loopback (the kernel picks it; a race with
# another process taking it in between only makes the start fail).
free_port() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_floor ADDR:PORT: start the floor, wait (bounded) for its start line.
start_floor() {

	"$TMP/floor" "$1" 2>"$TMP/floor.err" &
	FLOOR_PID=$!
	PIDS+=("$FLOOR_PID")
	for _ in $(seq 50); do
		grep -q "serving on" "$TMP/floor.err" && return 0
		kill -0 "$FLOOR_PID" 2>/dev/null || die "floor $1 did not start: $(cat "$TMP/floor.err")"
		sleep 0.1
	done
	die "floor $1 did not start within 5 s"
}

# expect NAME "RESULT ..." KEY=VALUE...: each key has exactly that value.
expect() {
	local name=$1 out=$2 kv k v got
	shift 2
	for kv in "$@"; do
		k=${kv%%=*} v=${kv#*=}
		got=$(sed -n "s/.* $k=\([0-9.]*\).*/\1/p" <<<"$out")
		[ "$got" = "$v" ] || die "$name: $k=$got, expected $v ($out)"
	done
}
# expect_positive NAME "RESULT ..." KEY: the key is above 0.
expect_positive() {
	local got
	got=$(sed -n "s/.* $3=\([0-9]*\).*/\1/p" <<<"$2")
	[ "${got:-0}" -gt 0 ] || die "$1: $3=${got:-none}, expected > 0 ($2)"
}

# --- the floor's reply, byte for byte, and what it drops
P=$(free_port)
start_floor "127.0.0.1:$P"
python3 - "$P" <<'EOF' || die "floor's reply or drop behaviour (see above)"
import os, socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
def ask(data):
    s.sendto(data, ("127.0.0.1", port))
    try:
        return s.recvfrom(4096)[0]
    except socket.timeout:
        return None
head = lambda t, n: struct.pack("!HHI", t, n, 0x2112A442) + os.urandom(12)
req = head(0x0001, 0)
got = ask(req)
want = b"\x01\x01" + req[2:]
if got != want:
    sys.exit("request: got %r, want %r" % (got, want))
# A request with an attribute is echoed whole, type flipped.
req = head(0x0001, 8) + struct.pack("!HH4s", 0x8022, 4, b"test")
got = ask(req)
if got != b"\x01\x01" + req[2:]:
    sys.exit("request with attribute: got %r" % (got,))
for name, data in (("Binding success", head(0x0101, 0)),
                   ("Binding indication", head(0x0011, 0)),
                   ("19-byte datagram", head(0x0001, 0)[:19]),
                   ("empty datagram", b"")):
    got = ask(data)
    if got is not None:
        sys.exit("%s: answered %r, expected silence" % (name, got))
EOF
ok "floor echoes a Binding request with type 0x0101, drops the rest"

# --- loadgen -e against the floor, and without -e
out=$("$TMP/loadgen" -q -t 5000 -e -d 1 "127.0.0.1:$P") || die "loadgen -e vs floor: $out"
expect "loadgen -e vs floor" "$out" bad=0 lost=0 stray=0 errors=0
expect_positive "loadgen -e vs floor" "$out" received
if out=$("$TMP/loadgen" -q -t 5000 -d 1 "127.0.0.1:$P"); then
	die "loadgen without -e counted floor echoes as valid: $out"
fi
expect "loadgen vs floor" "$out" received=0 lost=0
expect_positive "loadgen vs floor" "$out" bad
ok "loadgen -e takes the floor's echoes, loadgen without -e takes none"

# --- SIGTERM ends the floor with status 0 and its count
kill -TERM "$FLOOR_PID"
rc=0; wait "$FLOOR_PID" || rc=$?
[ "$rc" -eq 0 ] || die "floor exited $rc on SIGTERM"
grep -q "answered [1-9]" "$TMP/floor.err" || die "floor did not report its answers: $(cat "$TMP/floor.err")"
ok "floor ends with status 0 on SIGTERM"

# --- IPv6 loopback
P=$(free_port)
start_floor "[::1]:$P"
out=$("$TMP/loadgen" -q -t 5000 -e -d 1 "[::1]:$P") || die "loadgen -e vs floor on ::1: $out"
expect "loadgen -e vs floor on ::1" "$out" bad=0 lost=0
expect_positive "loadgen -e vs floor on ::1" "$out" received
kill -INT "$FLOOR_PID"
rc=0; wait "$FLOOR_PID" || rc=$?
[ "$rc" -eq 0 ] || die "floor exited $rc on SIGINT"
ok "floor on [::1], ends with status 0 on SIGINT"

# --- loopback literals only, usage errors are status 2
for arg in 192.0.2.1:3478 "[2001:db8::1]:3478" localhost:3478 127.0.0.1 127.0.0.1:0 127.0.0.1:65536; do
	rc=0; "$TMP/floor" "$arg" 2>/dev/null || rc=$?
	[ "$rc" -eq 2 ] || die "floor $arg: status $rc, expected 2"
	rc=0; "$TMP/loadgen" -q -t 5000 -d 1 "$arg" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || die "loadgen $arg: status $rc, expected 2"
done
ok "floor and loadgen refuse non-loopback or malformed targets"

# --- natcheck's full answers: valid without -e, invalid with -e
# (--rate 0: the default limit, 100 a second from one source, would drop
# most of the load, as it must)
if [ -n "$NATCHECK" ]; then
	P=$(free_port)
	"$NATCHECK" --serve 127.0.0.1 -p "$P" --rate 0 2>"$TMP/natcheck.err" &
	NPID=$!
	PIDS+=("$NPID")
	for _ in $(seq 50); do
		grep -q "serving on" "$TMP/natcheck.err" && break
		sleep 0.1
	done
	grep -q "serving on" "$TMP/natcheck.err" || die "natcheck --serve did not start"
	out=$("$TMP/loadgen" -q -t 5000 -d 1 "127.0.0.1:$P") || die "loadgen vs natcheck: $out"
	expect "loadgen vs natcheck" "$out" bad=0 lost=0
	expect_positive "loadgen vs natcheck" "$out" received
	if out=$("$TMP/loadgen" -q -t 5000 -e -d 1 "127.0.0.1:$P"); then
		die "loadgen -e counted natcheck's full answers as echoes: $out"
	fi
	expect "loadgen -e vs natcheck" "$out" received=0
	expect_positive "loadgen -e vs natcheck" "$out" bad
	ok "loadgen takes natcheck's answers, loadgen -e takes none"
fi
# --- dual.py report: the ratios as bench/README defines them, and exit 1
# on a wrong run or a missing one.  Two repetitions made by hand:
#   #0  -4 300  -6 200  both 330  ->  330/300 = 1.100
#   #1  -4 310  -6 200  both 310  ->  310/310 = 1.000
# medians -4 305, both 320: 320/305 = 1.049; per repetition median 1.050.
dual_raw() {
	local wrong="$1" drop="$2" i mode ms
	echo '{"kind":"meta","n":2,"cases":["c"],"conds":["rtt100"],"timeout":20}'
	for i in 0 1; do
		for mode in -4 -6 both; do
			case "$i$mode" in
			0-4) ms=300 ;; 1-4) ms=310 ;; *-6) ms=200 ;; 0both) ms=330 ;; 1both) ms=310 ;;
			esac
			[ "$i$mode" = "$drop" ] && continue
			printf '{"kind":"run","case":"c","cond":"rtt100","mode":"%s","i":%d,"wall_ms":%d,"right":%s,"wrong":["x"]}\n' \
				"$mode" "$i" "$ms" "$([ "$i$mode" = "$wrong" ] && echo false || echo true)"
		done
	done
}
dual_raw none none >"$TMP/dual.jsonl"
out=$(python3 bench/dual.py report "$TMP/dual.jsonl" "$TMP/dual.md") || die "dual.py report: $out"
case $out in
*"PASS rtt100, c: both 320 ms / slower family 305 ms = 1.049 <= 1.10 (per repetition: median 1.050)"*) ;;
*) die "dual.py report, ratios: $out" ;;
esac
grep -q '| 1.049 | 1.050 (1.000-1.100) | PASS |' "$TMP/dual.md" || die "dual.py report, table: $(cat "$TMP/dual.md")"
dual_raw 1both none >"$TMP/dual.jsonl"
if out=$(python3 bench/dual.py report "$TMP/dual.jsonl" "$TMP/dual.md"); then
	die "dual.py report: status 0 with a wrong run: $out"
fi
case $out in *"WRONG rtt100, c, both #1"*) ;; *) die "dual.py report, wrong run: $out" ;; esac
dual_raw none 0-6 >"$TMP/dual.jsonl"
if out=$(python3 bench/dual.py report "$TMP/dual.jsonl" "$TMP/dual.md"); then
	die "dual.py report: status 0 with a run missing: $out"
fi
case $out in *"INCOMPLETE rtt100, c, -6: 1 of 2 runs"*) ;; *) die "dual.py report, missing: $out" ;; esac
ok "dual.py report computes the ratios and fails on a wrong or a missing run"
echo "bench/selftest.sh: all passed"
echo "bench selftest: $passed passed, 0 failed, 0 skipped"
