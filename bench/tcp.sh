#!/usr/bin/env bash
# bench/tcp.sh NATCHECK - what --tcp adds to a run's wall time, in the NAT
# lab with a delay line (issue #12: "--tcp adds at most about one round
# trip to a run").
#
# For each scenario of tests/lab/tcp.sh (built by its tcp_setup, with the
# delay line of tests/lab/lib.sh holding every frame BENCH_TCP_DELAY ms
# each way: the round trip grows by twice that), BENCH_TCP_N repetitions
# of a pair of runs side by side: natcheck without --tcp and with it, in
# alternating order.  Each run's wall time is taken around the process;
# the --tcp run's TCP verdict is checked against the scenario's
# expectation.  Writes BENCH_TCP_OUT: per scenario the medians and
# ranges, and median(--tcp) - median(UDP) in ms and in round trips.
#
# Environment:
#   BENCH_TCP_N=10                    repetitions (pairs) per scenario
#   BENCH_TCP_DELAY=50                one-way delay, ms (RTT + 2 x this)
#   BENCH_TCP_SCENARIOS="..."         default: all of tests/lab/tcp.sh's
#   BENCH_TCP_OUT=bench/tcp-results.md
# Root only (network namespaces); coturn's turnserver serves.  Takes about
# scenarios x (5 s + BENCH_TCP_N x 2 runs of about 1 s).
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
case "$N$DELAY" in ''|*[!0-9]*) echo "bench tcp: BENCH_TCP_N and BENCH_TCP_DELAY must be numbers" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] || { echo "bench tcp: BENCH_TCP_N must be at least 1" >&2; exit 2; }

raw=$(mktemp "${TMPDIR:-/tmp}/bench-tcp.XXXXXX") || exit 1
# lab_up leaves the traps to us (LAB_TRAP_SET): ours also removes $raw.
trap 'rm -f "$raw"; lab_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export LAB_TRAP_SET=1

# timed_run SCENARIO MODE REP: one natcheck run in the client namespace;
# one JSON line about it appended to $raw.
timed_run() {
	local scn="$1" mode="$2" rep="$3" out="$LAB_TMP/bench.json" t0 t1 rc
	local -a args=(--json --no-portmap)
	[ "$mode" = tcp ] && args+=(--tcp)
	t0=$(date +%s%N)
	lab_client timeout 30 "$NATCHECK" "${args[@]}" "$LAB_SERVER1:3478" >"$out" 2>/dev/null
	rc=$?
	t1=$(date +%s%N)
	python3 - "$scn" "$mode" "$rep" "$rc" "$(((t1 - t0) / 1000000))" "$out" \
		"$(tcp_expect "$scn")" >>"$raw" <<-'EOF'
		import json, sys
		scn, mode, rep, rc, wall, path, want = sys.argv[1:8]
		row = {"scenario": scn, "mode": mode, "rep": int(rep), "rc": int(rc), "wall_ms": int(wall)}
		try:
		    o = json.load(open(path))
		except ValueError:
		    o = {}
		row["udp_type"] = o.get("type")
		row["udp_elapsed_ms"] = o.get("elapsed_ms")
		t = o.get("tcp") or {}
		if mode == "tcp":
		    w = want.split()
		    hair = {"true": True, "false": False, "null": None}[w[4]]
		    row["tcp_elapsed_ms"] = t.get("elapsed_ms")
		    row["tcp_ok"] = (t.get("status"), t.get("mapping"), t.get("hairpinning")) == (w[2], w[3], hair)
		    row["tcp"] = f"{t.get('status')} {t.get('mapping')} hairpin={t.get('hairpinning')}"
		    row["attempts"] = sum(x.get("attempts", 1) for x in t.get("tests", []))
		print(json.dumps(row))
	EOF
}

start=$(date +%s)
for scn in ${BENCH_TCP_SCENARIOS:-$TCP_SCENARIOS}; do
	echo "bench tcp: $scn, $N pairs, +$((2 * DELAY)) ms round trip"
	if ! tcp_setup "$scn" "$DELAY"; then
		echo "bench tcp: $scn: set-up failed, skipped"
		continue
	fi
	for rep in $(seq 1 "$N"); do
		# Alternate which run goes first: neither gets the warmer path.
		if [ $((rep % 2)) -eq 1 ]; then
			timed_run "$scn" udp "$rep"
			timed_run "$scn" tcp "$rep"
		else
			timed_run "$scn" tcp "$rep"
			timed_run "$scn" udp "$rep"
		fi
	done
	lab_down
done

python3 - "$raw" "$OUT" "$N" "$DELAY" "$(($(date +%s) - start))" \
	"$(cd "$top" && git rev-parse --short HEAD 2>/dev/null)" <<'PY'
import json, statistics, sys
raw, out, n, delay, secs, commit = sys.argv[1:7]
rtt = 2 * int(delay)
rows = [json.loads(l) for l in open(raw) if l.strip()]
scns = []
for r in rows:
    if r["scenario"] not in scns:
        scns.append(r["scenario"])

def span(v):
    return f"{min(v)}..{max(v)}" if v else "-"

lines = ["# --tcp wall-time benchmark (issue #12)", "",
         f"bench/tcp.sh: {n} pairs per scenario (natcheck --json --no-portmap, without and with",
         f"--tcp, alternating which goes first), the delay line adding {delay} ms each way",
         f"(round trip + {rtt} ms), commit {commit}, {secs} s in all.",
         "Wall time around the process, ms: median and min..max.  diff = median(--tcp) -",
         f"median(UDP); in RTTs of {rtt} ms (the lab's own round trip, well under 1 ms, left out).",
         "Target: diff at most about 1 RTT.", "",
         "| scenario | UDP median | UDP range | --tcp median | --tcp range | diff ms | diff RTT | TCP verdict right | attempts (median) |",
         "|---|---|---|---|---|---|---|---|---|"]
for s in scns:
    u = [r["wall_ms"] for r in rows if r["scenario"] == s and r["mode"] == "udp" and r["rc"] < 100 and r["rc"] != 1]
    t = [r["wall_ms"] for r in rows if r["scenario"] == s and r["mode"] == "tcp" and r["rc"] < 100 and r["rc"] != 1]
    tr = [r for r in rows if r["scenario"] == s and r["mode"] == "tcp"]
    ok = sum(1 for r in tr if r.get("tcp_ok"))
    att = [r.get("attempts", 0) for r in tr]
    if u and t:
        d = statistics.median(t) - statistics.median(u)
        diff, drtt = f"{d:+.0f}", f"{d / rtt:+.2f}"
    else:
        diff = drtt = "-"
    lines.append(f"| {s} | {statistics.median(u) if u else '-'} | {span(u)} | "
                 f"{statistics.median(t) if t else '-'} | {span(t)} | {diff} | {drtt} | "
                 f"{ok}/{len(tr)} | {statistics.median(att) if att else '-'} |")
bad = [r for r in rows if r["mode"] == "tcp" and not r.get("tcp_ok")]
if bad:
    lines += ["", "TCP verdicts not as the scenario expects:", ""]
    lines += [f"- {r['scenario']} pair {r['rep']}: {r.get('tcp')}" for r in bad]
if int(n) < 10:
    lines += ["", f"Smoke test ({n} pairs per scenario), not a measurement for the record."]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "bench tcp: results in $OUT"
