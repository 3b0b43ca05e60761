#!/usr/bin/env bash
# bench/dual.sh NATCHECK - a dual-stack run against each family alone.
#
# Issue #11: one run testing IPv4 and IPv6 together must take at most the
# slower family alone + 10%.  For each case (an IPv4 lab scenario and IPv6
# rules of its own in the same router, tests/lab/lib6.sh) and condition
# (round trip +100 ms and +0 ms): build the lab once, start natcheck --serve
# for each family, and run natcheck -4, natcheck -6 and natcheck for both
# BENCH_DUAL_N times each, interleaved (bench/dual.py run), every verdict
# checked.  Then bench/dual.py report writes bench/dual-results.md and
# prints PASS/MISS per cell; the exit status is 1 when any run was wrong.
#
# Environment:
#   BENCH_DUAL_N=15         repetitions (each: -4, -6, both) per case and condition
#   BENCH_DUAL_CASES="..."  a subset of the cases below (by name)
#   BENCH_DUAL_CONDS="..."  a subset of: rtt100 rtt0
#   BENCH_TIMEOUT=20        seconds any one run may take
#   BENCH_DUAL_OUT=bench/dual-results.md
#   BENCH_MAX_FOREIGN=9     wait (60 s at most) while more foreign lab
#                           namespaces than this exist
# Root only (network namespaces); the lab is tests/lab/lib.sh and lib6.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=tests/lab/lib.sh
. "$top/tests/lab/lib.sh"
# shellcheck source=tests/lab/lib6.sh
. "$top/tests/lab/lib6.sh"
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

bench_init "bench dual" "$@"

N=${BENCH_DUAL_N:-15}
TIMEOUT=${BENCH_TIMEOUT:-20}
OUT=${BENCH_DUAL_OUT:-$top/bench/dual-results.md}
MAX_FOREIGN=${BENCH_MAX_FOREIGN:-9}
case "$N$TIMEOUT$MAX_FOREIGN" in
*[!0-9]*) echo "BENCH_DUAL_N, BENCH_TIMEOUT and BENCH_MAX_FOREIGN are integers" >&2; exit 2 ;;
esac
if [ "$N" -lt 1 ] || [ "$N" -gt 200 ] || [ "$TIMEOUT" -lt 1 ]; then
	echo "BENCH_DUAL_N 1..200, BENCH_TIMEOUT >= 1" >&2
	exit 2
fi

# Case: NAME IPV4_SCENARIO IPV6_RULES (lib6.sh's v6_*).  Each pair gives
# the families different verdicts, and different amounts of work: a filter
# that drops the filtering tests' datagrams makes a family wait for its
# negatives, an open path or a full cone answers everything.
declare -A CASE=(
	[prc+fw6]="port-restricted-cone v6_fw_apd"
	[symmetric+open6]="symmetric v6_open"
	[fullcone+nat66random]="full-cone v6_nat66_random"
)
ALL_CASES="prc+fw6 symmetric+open6 fullcone+nat66random"
CASES=${BENCH_DUAL_CASES:-$ALL_CASES}
for c in $CASES; do
	[ -n "${CASE[$c]:-}" ] || { echo "bench dual: unknown case $c (have: $ALL_CASES)" >&2; exit 2; }
done

# Condition -> delay each way on the client-router wire (both families
# cross the same delay line).
declare -A COND=([rtt100]=50 [rtt0]=0)
declare -A COND_TITLE=(
	[rtt100]="round trip +100 ms (DELAY 50 each way) for both families, no loss"
	[rtt0]="no delay, no loss")
CONDS=${BENCH_DUAL_CONDS:-rtt100 rtt0}
for c in $CONDS; do
	[ -n "${COND[$c]:-}" ] || { echo "bench dual: unknown condition $c" >&2; exit 2; }
done

PORT=3478
START_S=$(date +%s)

# echo_path ADDR: 50 echoes from the client to ADDR (either family); the
# summary line in ECHO_LINE.
echo_path() {
	local at="$1"
	case $at in *:*) at="[$at]" ;; esac
	ECHO_LINE=-
	lab_spawn echo s python3 "$LAB_DIR/udpecho.py" serve "$1" 9000 10
	if lab_wait_udp s "$at" 9000; then
		ECHO_LINE=$(lab_client python3 "$LAB_DIR/udpecho.py" ping "$1" 9000 50 2>/dev/null)
	fi
	lab_stop echo
}

bench_start dual

ncells=0
for c in $CONDS; do for s in $CASES; do ncells=$((ncells + 1)); done; done
echo "bench dual: $ncells case x condition cells, $N repetitions of -4, -6 and both each"

k=0 info=
for c in $CONDS; do
	delay=${COND[$c]}
	for name in $CASES; do
		read -r scn v6fn <<<"${CASE[$name]}"
		k=$((k + 1))
		bench_wait_quiet "$MAX_FOREIGN"
		fns=$(bench_foreign_ns)
		echo "[$k/$ncells] $c / $name (IPv4 $scn, IPv6 $v6fn) at $(($(date +%s) - START_S)) s"
		if ! lab_up "$scn" "$delay" || ! lab6_up || ! lab6_rules "$v6fn"; then
			echo "   lab set-up failed; cell skipped"
			lab_down
			continue
		fi
		want4="$SCN_TYPE $SCN_MAPPING $SCN_FILTERING $SCN_NAT"
		want6="$V6_TYPE $V6_MAPPING $V6_FILTERING $V6_NAT"
		info="$info\"$name\": {\"scn\": \"$scn\", \"v6\": \"$v6fn\", \"want4\": \"$want4\", \"want6\": \"$want6\"}, "
		echo_path "$LAB_SERVER1"
		p4=$ECHO_LINE
		echo_path "$S6_1"
		p6=$ECHO_LINE
		echo "   path: IPv4 $p4; IPv6 $p6"
		load=$(cut -d' ' -f1-3 /proc/loadavg)
		if ! lab6_serve "$PORT"; then
			echo "   a server did not start; cell skipped"
			lab_down
			continue
		fi
		lab_client python3 "$here/dual.py" run --out "$RAW" --case "$name" --cond "$c" \
			--n "$N" --timeout "$TIMEOUT" --natcheck "$NATCHECK" \
			--server4 "$LAB_SERVER1" --server6 "$S6_1" --want4 "$want4" --want6 "$want6"
		# The servers' counters, printed as they end: a request they
		# dropped (rate limit, a failed send) would make a client wait
		# for nothing.
		lab_stop srv4
		lab_stop srv6
		dropped=$(cat "$LAB_TMP/srv4.log" "$LAB_TMP/srv6.log" |
			grep -o -E '(ratelimited|send_failures)=[0-9]+' | awk -F= '{ n += $2 } END { print n + 0 }')
		echo "   servers: $dropped requests dropped (rate limit or send failure)"
		printf '{"kind":"cell","cond":"%s","case":"%s","path4":%s,"path6":%s,"foreign_ns":%s,"loadavg":"%s","server_dropped":%s}\n' \
			"$c" "$name" "$(bench_jstr "$p4")" "$(bench_jstr "$p6")" "$fns" "$load" "$dropped" >>"$RAW"
		lab_down
	done
done

SECONDS_TOTAL=$(($(date +%s) - START_S))
cmd="bash bench/dual.sh ./natcheck"
[ -n "${BENCH_DUAL_N:-}" ] && cmd="BENCH_DUAL_N=$BENCH_DUAL_N $cmd"
[ -n "${BENCH_DUAL_CASES:-}" ] && cmd="BENCH_DUAL_CASES='$BENCH_DUAL_CASES' $cmd"
[ -n "${BENCH_DUAL_CONDS:-}" ] && cmd="BENCH_DUAL_CONDS='$BENCH_DUAL_CONDS' $cmd"
[ -n "${BENCH_TIMEOUT:-}" ] && cmd="BENCH_TIMEOUT=$BENCH_TIMEOUT $cmd"

python3 - "$RAW" <<EOF
import json, sys
meta = {
    "kind": "meta",
    $(bench_machine),
    "n": $N, "timeout": $TIMEOUT,
    "command": $(bench_jstr "$cmd"),
    "seconds": $SECONDS_TOTAL,
    "cases": "$CASES".split(),
    "conds": "$CONDS".split(),
    "cond_titles": {$(for c in $CONDS; do printf '"%s": "%s", ' "$c" "${COND_TITLE[$c]}"; done)},
    "case_info": {$info},
}
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(meta) + "\n")
EOF

mkdir -p "$top/build" && cp "$RAW" "$top/build/bench-dual.jsonl"
python3 "$here/dual.py" report "$RAW" "$OUT"
rc=$?
echo "bench dual: $SECONDS_TOTAL s; results in $OUT, raw runs in build/bench-dual.jsonl"
exit "$rc"
