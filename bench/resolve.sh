#!/usr/bin/env bash
# bench/resolve.sh NATCHECK [BASELINE] - how long name resolution takes when
# the DNS server never answers, or cannot be reached (issue 20, section 1).
#
# In a private mount and network namespace (tests/e2e/_resolve_ns.py:
# /etc/resolv.conf bind-mounted to a UDP sink on the namespace's
# 127.0.0.1, or to an address with no route), BENCH_RESOLVE_N runs of each:
#   builtin   natcheck            the built-in list, 8 names (target: ~2 s)
#   given-t3  natcheck -t 3 a.test b.test c.test   (bounded by -t: 3 s)
#   offline   natcheck            no route to the DNS server (target: at once)
# and, with BASELINE (an older natcheck, e.g. main before issue 20), one run
# of each with it for comparison (it may take minutes; each run is cut at
# BENCH_RESOLVE_TIMEOUT seconds).  Writes bench/resolve-results.md (or
# BENCH_RESOLVE_OUT) with the median and the largest of each; exit 1 when
# a run of NATCHECK did not end with exit 1 and its warnings.
#
# Environment: BENCH_RESOLVE_N=10  BENCH_RESOLVE_TIMEOUT=200
#   BENCH_RESOLVE_OUT=bench/resolve-results.md
# Root only (unshare -m -n).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -x "$1" ] || { [ $# -eq 2 ] && [ ! -x "$2" ]; }; then
	echo "usage: $0 NATCHECK [BASELINE]" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
	echo "bench/resolve.sh: skipped: needs root and unshare"
	exit 1
fi
n=${BENCH_RESOLVE_N:-10}
case $n in ''|*[!0-9]*|0) echo "BENCH_RESOLVE_N: a whole number, at least 1" >&2; exit 2 ;; esac
out=${BENCH_RESOLVE_OUT:-$here/resolve-results.md}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# run NATCHECK REPS LABEL: BENCH lines "LABEL case seconds rc" into $tmp/raw
run() {
	local nc=$1 reps=$2 label=$3 cases
	cases=$(python3 -c 'import json,sys; n=int(sys.argv[1]); print(json.dumps([[]]*n))' "$reps")
	NATCHECK_RUN_TIMEOUT=${BENCH_RESOLVE_TIMEOUT:-200} unshare -m -n python3 "$top/tests/e2e/_resolve_ns.py" \
		"$nc" sink "nameserver 127.0.0.1
" "127.0.0.1 localhost
" "$cases" "$tmp/builtin.json" "$tmp" || return 1
	cases=$(python3 -c 'import json,sys; n=int(sys.argv[1]); print(json.dumps([["-t","3","a.test","b.test","c.test"]]*n))' "$reps")
	NATCHECK_RUN_TIMEOUT=${BENCH_RESOLVE_TIMEOUT:-200} unshare -m -n python3 "$top/tests/e2e/_resolve_ns.py" \
		"$nc" sink "nameserver 127.0.0.1
" "127.0.0.1 localhost
" "$cases" "$tmp/given.json" "$tmp" || return 1
	cases=$(python3 -c 'import json,sys; n=int(sys.argv[1]); print(json.dumps([[]]*n))' "$reps")
	NATCHECK_RUN_TIMEOUT=${BENCH_RESOLVE_TIMEOUT:-200} unshare -m -n python3 "$top/tests/e2e/_resolve_ns.py" \
		"$nc" none "nameserver 192.0.2.53
" "127.0.0.1 localhost
" "$cases" "$tmp/offline.json" "$tmp" || return 1
	python3 - "$label" "$tmp" >>"$tmp/raw" <<'PY'
import json, sys
label, tmp = sys.argv[1:3]
for case, f in (("builtin", "builtin.json"), ("given-t3", "given.json"), ("offline", "offline.json")):
    for rc, out, err, secs in json.load(open(f"{tmp}/{f}"))["runs"]:
        ok = rc == 1 and err.count("warning: cannot resolve") == (3 if case == "given-t3" else 8)
        print(label, case, f"{secs:.3f}", rc, "ok" if ok else "wrong")
PY
}

: >"$tmp/raw"
t0=$(date +%s)
run "$1" "$n" natcheck || { echo "bench/resolve.sh: the namespace did not run" >&2; exit 1; }
if [ $# -eq 2 ]; then
	run "$2" 1 baseline || echo "bench/resolve.sh: the baseline did not run to the end" >&2
fi
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$tmp/raw" "$out" "$n" "$commit" "$(( $(date +%s) - t0 ))" "$#" <<'PY'
import statistics, sys, time, os
raw, out, n, commit, took, nargs = sys.argv[1:7]
rows = [ln.split() for ln in open(raw)]
wrong = [r for r in rows if r[0] == "natcheck" and r[4] != "ok"]
def cell(label, case):
    s = [float(r[2]) for r in rows if r[0] == label and r[1] == case]
    if not s:
        return "-", "-"
    return f"{statistics.median(s):.2f} s", f"{max(s):.2f} s"
lines = [
    "# natcheck name resolution when DNS does not answer (issue 20, section 1)", "",
    "Produced by `bench/resolve.sh` (not part of `make check`); rewritten by every run.", "",
    f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
    f"- machine: {os.cpu_count()} cores, kernel {os.uname().release}",
    f"- natcheck commit: {commit}",
    f"- repetitions: N={n} (BENCH_RESOLVE_N){'; the baseline once' if nargs == '2' else ''}",
    f"- run time: {took} s", "",
    "Each run is in a private mount and network namespace (tests/e2e/_resolve_ns.py):",
    "`/etc/resolv.conf` names a UDP sink on the namespace's 127.0.0.1 that reads",
    "every query and never answers (`builtin`, `given-t3`), or 192.0.2.53, to which",
    "there is no route (`offline`).  Seconds from start to exit; every natcheck run",
    "must exit 1 with one warning per name.", "",
    "| case | what | natcheck median | natcheck max | baseline |",
    "| --- | --- | --- | --- | --- |",
]
what = {"builtin": "`natcheck` (the built-in list, 8 names)",
        "given-t3": "`natcheck -t 3 a.test b.test c.test`",
        "offline": "`natcheck`, no route to the DNS server"}
for case in ("builtin", "given-t3", "offline"):
    med, mx = cell("natcheck", case)
    base, _ = cell("baseline", case)
    lines.append(f"| {case} | {what[case]} | {med} | {mx} | {base} |")
lines += ["", f"Wrong runs: {len(wrong)}."]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(1 if wrong else 0)
PY
