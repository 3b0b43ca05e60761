#!/usr/bin/env bash
# bench/traversal.sh NATCHECK - the binding lifetime's wall time and
# bracket against the true timeout, and the port allocation verdicts, in
# the NAT lab (issue #10).
#
# Runs tests/lab/traversal.sh BENCH_TRAV_N times (its lifetime, outbound
# and allocation parts, with conntrack timeouts BENCH_LIFETIMES), collects
# one JSON line per measurement, and writes BENCH_TRAV_OUT: per true
# timeout, the brackets, their widths against max(2 s, 10 %), and the wall
# times against 1.25 x the timeout + 5 s (the man page's figure, judged
# here and not in the test); per NAT, how often the allocation verdict was
# right.  Exits 1 when any run had a wrong verdict (a failed check of
# tests/lab/traversal.sh: a bracket that misses the truth or is too wide,
# a wrong refresh or allocation), after writing the table; a wall time
# over its target is marked in the table.
#
# Environment:
#   BENCH_TRAV_N=3                 repetitions
#   BENCH_LIFETIMES="10 40 120"    true timeouts, seconds
#   BENCH_TRAV_OUT=bench/traversal-results.md
# Root only (network namespaces).  Takes about
# BENCH_TRAV_N x (sum of 1.25 x timeouts + 10 s + 30 s) seconds.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK (an executable natcheck)" >&2
	exit 2
fi
N=${BENCH_TRAV_N:-3}
LIFETIMES=${BENCH_LIFETIMES:-10 40 120}
OUT=${BENCH_TRAV_OUT:-$top/bench/traversal-results.md}
case "$N" in ''|*[!0-9]*) echo "bench traversal: BENCH_TRAV_N must be a number" >&2; exit 2 ;; esac

raw=$(mktemp "${TMPDIR:-/tmp}/bench-trav.XXXXXX") || exit 1
trap 'rm -f "$raw"' EXIT
start=$(date +%s)
wrong=0
for i in $(seq 1 "$N"); do
	echo "bench traversal: run $i/$N"
	if ! LAB_TRAVERSAL="lifetime outbound allocation" LAB_LIFETIMES="$LIFETIMES" \
		LAB_TRAVERSAL_REPORT="$raw" bash "$top/tests/lab/traversal.sh" "$1"; then
		echo "bench traversal: run $i had wrong verdicts or could not run (kept in the table)"
		wrong=$((wrong + 1))
	fi
done

python3 - "$raw" "$OUT" "$N" "$(($(date +%s) - start))" "$(cd "$top" && git rev-parse --short HEAD 2>/dev/null)" <<'PY'
import json, sys
raw, out, n, secs, commit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
rows = [json.loads(l) for l in open(raw) if l.strip()]
lines = ["# Traversal benchmark (issue #10)", "",
         f"{n} runs of tests/lab/traversal.sh, commit {commit}, {secs} s in all.", "",
         "## Binding lifetime", "",
         "| case | truth s | bracket s (alive..expired) | width s | width target s | wall s | wall target s | wall | refresh | verdict |",
         "|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    if r.get("kind") != "lifetime":
        continue
    t = r["truth"]
    a, e = r.get("alive_s"), r.get("expired_s")
    width = None if a is None or e is None else round(e - a, 1)
    wall_ok = r["wall"] <= t * 1.25 + 5
    lines.append(f"| {r['case']} | {t:g} | {a}..{e} | {width} | {max(2, t / 10):g} | "
                 f"{r['wall']:.1f} | {t * 1.25 + 5:g} | {'met' if wall_ok else 'NOT met'} | "
                 f"{r.get('refresh')} | {'right' if r['ok'] else 'WRONG'} |")
lines += ["", "## Port allocation", "", "| NAT | verdicts (allocation delta samples) | right |", "|---|---|---|"]
alloc = {}
for r in rows:
    if r.get("kind") == "allocation":
        alloc.setdefault((r["case"], r["want"]), []).append((r["got"], r["ok"]))
for (case, want), got in alloc.items():
    right = sum(1 for _, ok in got if ok)
    lines.append(f"| {case} (want {want}) | {'; '.join(g for g, _ in got)} | {right}/{len(got)} |")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "bench traversal: results in $OUT"
if [ "$wrong" -gt 0 ]; then
	echo "bench traversal: $wrong of $N runs had wrong verdicts"
	exit 1
fi
