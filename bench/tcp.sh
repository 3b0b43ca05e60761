#!/usr/bin/env bash
# bench/tcp.sh NATCHECK - what --tcp adds to a run's wall time, in the NAT
# lab with a delay line (issue #12: "--tcp adds at most about one round
# trip to a run").
#
# For each scenario of tests/lab/tcp.sh (built by its tcp_setup, with the
# delay line of tests/lab/lib.sh holding every frame BENCH_TCP_DELAY ms
# each way: the round trip grows by twice that) and each placement of the
# delay line (lib.sh's LAB_DELAY_SIDE: inside, between client and NAT,
# where a hairpin through the NAT crosses it; outside, between NAT and
# server, where only the WAN's round trip grows, as on a real network),
# BENCH_TCP_N repetitions of a pair of runs side by side: natcheck
# without --tcp and with it, in alternating order.  Each run's wall time
# is taken around the process; the --tcp run's TCP verdict, and both runs'
# UDP verdict and exit status, are checked against the scenario's
# expectation (tests/lab/tcp.sh's tcp_expect).  Writes BENCH_TCP_OUT: per
# scenario and placement the medians and ranges, and median(--tcp) -
# median(UDP) in ms and in round trips.  Exits 1, after writing it, when
# a verdict was wrong or a scenario could not be set up.
#
# Environment:
#   BENCH_TCP_N=10                    repetitions (pairs) per scenario and side
#   BENCH_TCP_DELAY=50                one-way delay, ms (RTT + 2 x this)
#   BENCH_TCP_SIDES="outside inside"  where the delay line goes
#   BENCH_TCP_SCENARIOS="..."         default: all of tests/lab/tcp.sh's
#   BENCH_TCP_OUT=bench/tcp-results.md
# Root only (network namespaces); coturn's turnserver serves.  Takes about
# scenarios x sides x (5 s + BENCH_TCP_N x 2 runs of about 1 s).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=tests/lab/tcp.sh
. "$top/tests/lab/tcp.sh"

lab_preflight "bench tcp" turnserver:coturn ss:iproute2 timeout:coreutils python3:python3
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK (an executable natcheck)" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
N=${BENCH_TCP_N:-10}
DELAY=${BENCH_TCP_DELAY:-50}
OUT=${BENCH_TCP_OUT:-$top/bench/tcp-results.md}
SIDES=${BENCH_TCP_SIDES:-outside inside}
for side in $SIDES; do
	case "$side" in
	inside|outside) ;;
	*) echo "bench tcp: BENCH_TCP_SIDES holds inside and/or outside, not '$side'" >&2; exit 2 ;;
	esac
done
case "$N$DELAY" in ''|*[!0-9]*) echo "bench tcp: BENCH_TCP_N and BENCH_TCP_DELAY must be numbers" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] || { echo "bench tcp: BENCH_TCP_N must be at least 1" >&2; exit 2; }

raw=$(mktemp "${TMPDIR:-/tmp}/bench-tcp.XXXXXX") || exit 1
# lab_up leaves the traps to us (LAB_TRAP_SET): ours also removes $raw.
trap 'rm -f "$raw"; lab_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export LAB_TRAP_SET=1

# timed_run SCENARIO SIDE MODE REP: one natcheck run in the client
# namespace; one JSON line about it appended to $raw.
timed_run() {
	local scn="$1" side="$2" mode="$3" rep="$4" out="$LAB_TMP/bench.json" t0 t1 rc
	local -a args=(--json --no-portmap)
	[ "$mode" = tcp ] && args+=(--tcp)
	t0=$(date +%s%N)
	lab_client timeout 30 "$NATCHECK" "${args[@]}" "$LAB_SERVER1:3478" >"$out" 2>/dev/null
	rc=$?
	t1=$(date +%s%N)
	python3 - "$scn" "$side" "$mode" "$rep" "$rc" "$(((t1 - t0) / 1000000))" "$out" \
		"$(tcp_expect "$scn")" >>"$raw" <<-'EOF'
		import json, sys
		scn, side, mode, rep, rc, wall, path, want = sys.argv[1:9]
		row = {"scenario": scn, "side": side, "mode": mode, "rep": int(rep), "rc": int(rc),
		       "wall_ms": int(wall)}
		try:
		    o = json.load(open(path))
		except ValueError:
		    o = {}
		row["udp_type"] = o.get("type")
		row["udp_elapsed_ms"] = o.get("elapsed_ms")
		t = o.get("tcp") or {}
		w = want.split()
		words = {"true": True, "false": False, "null": None}
		codes = {"full-cone": 10, "port-restricted-cone": 12}
		# The UDP verdict, and the exit status that is UDP's, in both modes.
		row["udp_ok"] = ((o.get("type"), o.get("mapping"), o.get("filtering"), o.get("hairpinning"))
		                 == (w[0], w[1], w[5], words[w[6]]) and int(rc) == codes.get(w[0]))
		row["udp"] = f"{o.get('type')} {o.get('mapping')} {o.get('filtering')} exit {rc}"
		if mode == "tcp":
		    row["tcp_elapsed_ms"] = t.get("elapsed_ms")
		    row["tcp_ok"] = (t.get("status"), t.get("mapping"), t.get("hairpinning")) == (w[2], w[3], words[w[4]])
		    row["tcp"] = f"{t.get('status')} {t.get('mapping')} hairpin={t.get('hairpinning')}"
		    tests = t.get("tests", [])
		    hp = tests[4] if len(tests) == 5 else {}
		    # Connects made: a discarded guess's are in no test's attempts.
		    row["attempts"] = sum(x.get("attempts", 1) for x in tests) + (
		        hp.get("speculative", 0) if hp.get("guess") == "discarded" else 0)
		    row["guess"] = hp.get("guess")
		print(json.dumps(row))
	EOF
}

start=$(date +%s)
failed_setup=0
for scn in ${BENCH_TCP_SCENARIOS:-$TCP_SCENARIOS}; do
	for side in $SIDES; do
		echo "bench tcp: $scn, delay line $side, $N pairs, +$((2 * DELAY)) ms round trip"
		if ! LAB_DELAY_SIDE=$side tcp_setup "$scn" "$DELAY"; then
			echo "bench tcp: $scn ($side): set-up failed"
			failed_setup=$((failed_setup + 1))
			continue
		fi
		for rep in $(seq 1 "$N"); do
			# Alternate which run goes first: neither gets the warmer path.
			if [ $((rep % 2)) -eq 1 ]; then
				timed_run "$scn" "$side" udp "$rep"
				timed_run "$scn" "$side" tcp "$rep"
			else
				timed_run "$scn" "$side" tcp "$rep"
				timed_run "$scn" "$side" udp "$rep"
			fi
		done
		lab_down
	done
done

python3 - "$raw" "$OUT" "$N" "$DELAY" "$(($(date +%s) - start))" \
	"$(cd "$top" && git rev-parse --short HEAD 2>/dev/null)" <<'PY'
import json, statistics, sys
raw, out, n, delay, secs, commit = sys.argv[1:7]
rtt = 2 * int(delay)
rows = [json.loads(l) for l in open(raw) if l.strip()]
scns, sides = [], []
for r in rows:
    if r["scenario"] not in scns:
        scns.append(r["scenario"])
    if r["side"] not in sides:
        sides.append(r["side"])

def span(v):
    return f"{min(v)}..{max(v)}" if v else "-"

def walls(s, side, mode):
    return [r["wall_ms"] for r in rows if r["scenario"] == s and r["side"] == side and
            r["mode"] == mode and r["rc"] < 100 and r["rc"] != 1]

lines = ["# --tcp wall-time benchmark (issue #12)", "",
         f"bench/tcp.sh: {n} pairs per scenario and placement (natcheck --json --no-portmap,",
         f"without and with --tcp, alternating which goes first), the delay line adding {delay} ms",
         f"each way (round trip + {rtt} ms), commit {commit}, {secs} s in all.",
         "Wall time around the process, ms: median and min..max.  diff = median(--tcp) -",
         f"median(UDP); in RTTs of {rtt} ms (the lab's own round trip, well under 1 ms, left out).",
         "",
         "Placement of the delay line (tests/lab/lib.sh, LAB_DELAY_SIDE):",
         "- outside: between the NAT and the server.  The round trip to the server is the",
         "  WAN's, the path from the client to its NAT (a hairpin's) the LAN's: a real",
         "  network's shape.  The target (diff at most about 1 RTT) is judged here.",
         "- inside: between the client and the NAT.  Every crossing of the NAT, a hairpin's",
         "  included, pays a full round trip: the hairpin test (its binding, then a",
         "  handshake and a request through the NAT) costs more round trips than on any",
         "  real network.", "",
         "The hairpin guess (the UDP answer's IP and the listener's port, tried before",
         "hairpin-binding answers): how many --tcp runs had it confirmed / discarded.",
         "Attempts: every connect, a discarded guess's included.", "",
         "| scenario | placement | UDP median | UDP range | --tcp median | --tcp range | diff ms | diff RTT | TCP verdict right | attempts (median) | guess confirmed/discarded |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
for s in scns:
    for side in sides:
        u, t = walls(s, side, "udp"), walls(s, side, "tcp")
        tr = [r for r in rows if r["scenario"] == s and r["side"] == side and r["mode"] == "tcp"]
        if not tr and not u:
            continue
        ok = sum(1 for r in tr if r.get("tcp_ok"))
        att = [r.get("attempts", 0) for r in tr]
        if u and t:
            d = statistics.median(t) - statistics.median(u)
            diff, drtt = f"{d:+.0f}", f"{d / rtt:+.2f}"
        else:
            diff = drtt = "-"
        lines.append(f"| {s} | {side} | {statistics.median(u) if u else '-'} | {span(u)} | "
                     f"{statistics.median(t) if t else '-'} | {span(t)} | {diff} | {drtt} | "
                     f"{ok}/{len(tr)} | {statistics.median(att) if att else '-'} | "
                     f"{sum(1 for r in tr if r.get('guess') == 'confirmed')}/"
                     f"{sum(1 for r in tr if r.get('guess') == 'discarded')} |")
bad = [r for r in rows if r["mode"] == "tcp" and not r.get("tcp_ok")]
if bad:
    lines += ["", "TCP verdicts not as the scenario expects:", ""]
    lines += [f"- {r['scenario']} ({r['side']}) pair {r['rep']}: {r.get('tcp')}" for r in bad]
bad_udp = [r for r in rows if not r.get("udp_ok")]
if bad_udp:
    lines += ["", "UDP verdicts or exit statuses not as the scenario expects:", ""]
    lines += [f"- {r['scenario']} ({r['side']}) pair {r['rep']}, {r['mode']} run: {r.get('udp')}"
              for r in bad_udp]
if int(n) < 10:
    lines += ["", f"Smoke test ({n} pairs per scenario and placement), not a measurement for the record."]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
# A wrong verdict is a failure of the benchmark, after the table.
sys.exit(1 if bad or bad_udp else 0)
PY
wrong=$?
echo "bench tcp: results in $OUT"
if [ "$wrong" != 0 ] || [ "$failed_setup" -gt 0 ]; then
	echo "bench tcp: wrong verdicts (above) or $failed_setup set-ups failed"
	exit 1
fi
