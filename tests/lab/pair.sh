#!/usr/bin/env bash
# tests/lab/pair.sh NATCHECK - `natcheck --pair` against a real hole punch
# between two sites, each behind a kernel NAT of its own (lib2site.sh).
#
# For every unordered pair of the lab's NAT types (the scenarios below, a
# type with itself included), with type A on site a and type B on site b:
#   1. `natcheck --json` on both clients against natcheck --serve on the
#      internet; each must name its own site's NAT (type, mapping,
#      filtering), or the lab is wrong, not the forecast;
#   2. `natcheck --pair a.json b.json`: exit 0 direct, 20 with port
#      prediction, 21 relay, 22 cannot tell;
#   3. a real UDP punch between the two clients (punch.py, one process per
#      side): both learn their reflexive address from the server, then send
#      at once to each other's and answer whatever source they hear.  If
#      that does not connect and a side's result says its NAT allocates
#      ports sequentially, the same again with a window of that side's
#      predicted ports (LAB_PUNCH_WINDOW of them, stepped by the measured
#      delta).  Each try has fresh sockets and its own session.  A failed
#      try counts only when it was sound (both sides probed side by side,
#      without a long pause); one that was not, as a starved process on a
#      loaded machine makes, is made again, up to LAB_PUNCH_TRIES times;
# and asserts that the forecast is what the punch found: direct when the
# plain punch connected, with prediction when only the window did, relay
# when neither did ("cannot tell" never agrees, nor does a punch with no
# sound try).  Prints every pair and the matrix.
#
# Environment: LAB_PAIR_TYPES="a b ..." the scenarios (default: all nine
# below); LAB_JOBS=N pairs at once (default 4; each its own namespaces);
# LAB_PUNCH_TRIES, LAB_PUNCH_WINDOW (predicted ports, default 8),
# LAB_PUNCH_SECONDS (per try, default 2); LAB_PAIR_REPORT=FILE appends one
# JSON line per pair.  Ends with "lab pair: P passed, F failed, 0 skipped"
# (a pair agreeing is a check passed).  Root only; skipped with one line
# otherwise (exit status 77, a skip).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib2site.sh
. "$here/lib2site.sh"
# shellcheck source=tests/lab/peers.sh
. "$here/peers.sh"

lab_preflight "lab pair" python3:python3 timeout:coreutils ss:iproute2
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK (an executable natcheck)" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

TYPES=${LAB_PAIR_TYPES:-open full-cone restricted-cone port-restricted-cone symmetric \
symmetric-sequential address-dependent-mapping symmetric-udp-firewall udp-blocked}
JOBS=${LAB_JOBS:-4}
TRIES=${LAB_PUNCH_TRIES:-3}
WINDOW=${LAB_PUNCH_WINDOW:-8}
SECONDS_PER_TRY=${LAB_PUNCH_SECONDS:-2}
REPORT=${LAB_PAIR_REPORT:-}
for v in "$JOBS" "$TRIES" "$WINDOW" "$SECONDS_PER_TRY"; do
	case "$v" in ''|*[!0-9]*|0) echo "lab pair: LAB_JOBS, LAB_PUNCH_* must be positive integers" >&2; exit 2 ;; esac
done
for t in $TYPES; do
	scenario_exists "$t" || { echo "lab pair: unknown scenario $t" >&2; exit 2; }
done
START_S=$(date +%s)

# ---------------------------------------------------------------- one pair

# punch DIR: both sides of punch.py at once, each in its client's
# namespace, all their tries; their results in DIR/punch-a.out, -b.out.
# Started with lab_spawn, so that lab_down stops them by PID.
punch() {
	local s o
	mkdir -p "$1/punch" || return 1
	for s in a b; do
		o=$([ "$s" = a ] && echo b || echo a)
		lab_spawn "punch-$s" "$(lab2_ns "$s")" timeout $(((SECONDS_PER_TRY + 70) * TRIES * 2)) \
			python3 "$here/punch.py" --server "$LAB_SERVER1:3478" --dir "$1/punch" --me "$s" \
			--my-json "$1/$s.json" --peer-json "$1/$o.json" --window "$WINDOW" \
			--seconds "$SECONDS_PER_TRY" --tries "$TRIES" --out "$1/punch-$s.out"
	done
	wait "${LAB_PID[punch-a]}" "${LAB_PID[punch-b]}"
	for s in a b; do
		lab_stop "punch-$s"
		cp "$LAB_TMP/punch-$s.log" "$1/punch-$s.log" 2>/dev/null
	done
}

# pair_run A B DIR: one pair, in the current shell; what pairjudge.py
# reads, in DIR.
pair_run() {
	local a="$1" b="$2" d="$3" s t0 pids=()
	t0=$(date +%s)
	if ! lab2_up "$a" "$b"; then
		echo "lab2_up failed" >&2
		return
	fi
	printf 'a %s %s %s\nb %s %s %s\n' "${LAB2_TYPE[a]}" "${LAB2_MAPPING[a]}" \
		"${LAB2_FILTERING[a]}" "${LAB2_TYPE[b]}" "${LAB2_MAPPING[b]}" "${LAB2_FILTERING[b]}" \
		>"$d/want"
	if ! peer_start srv natcheck; then
		echo "natcheck --serve did not start" >&2
		lab_down
		return
	fi
	for s in a b; do
		lab2_in "$s" timeout 120 "$NATCHECK" --json "$LAB_SERVER1" >"$d/$s.json" 2>"$d/$s.err" &
		pids+=($!)
	done
	wait "${pids[@]}"
	"$NATCHECK" --pair "$d/a.json" "$d/b.json" >"$d/pair.out" 2>&1
	echo $? >"$d/pair.rc"
	punch "$d"
	lab_down
	echo "$(($(date +%s) - t0))" >"$d/seconds"
}

# ---------------------------------------------------------------- all pairs

RES=$(mktemp -d "${TMPDIR:-/tmp}/natlab-pair.XXXXXX") || exit 1
JOB_PIDS=()
stop_jobs() {
	local pid
	for pid in "${JOB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "${LAB_KEEP_TMP:-}" ] || rm -rf "$RES"
}
trap 'stop_jobs' EXIT
trap 'stop_jobs; exit 130' INT
trap 'stop_jobs; exit 143' TERM

PAIRS=()
set -f
# shellcheck disable=SC2206 # TYPES is a word list
types=($TYPES)
set +f
for ((i = 0; i < ${#types[@]}; i++)); do
	for ((k = i; k < ${#types[@]}; k++)); do
		PAIRS+=("${types[i]}+${types[k]}")
	done
done

running=0
for p in "${PAIRS[@]}"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	mkdir -p "$RES/$p"
	( pair_run "${p%+*}" "${p#*+}" "$RES/$p" >"$RES/$p/out" 2>&1 ) &
	JOB_PIDS+=($!)
	running=$((running + 1))
done
wait

# Every pair, then the matrix: a row per type on site a, a column per type
# on site b.  What the pairs said on their own (lab_die) goes after it.
python3 "$here/pairjudge.py" ${REPORT:+--report "$REPORT"} "$RES" "${types[@]}" |
	tee "$RES/judged"
for p in "${PAIRS[@]}"; do
	if [ -s "$RES/$p/out" ]; then
		echo "${p/+/ x }:"
		sed 's/^/      /' "$RES/$p/out"
	fi
done
echo "lab pair: ${#PAIRS[@]} pairs in $(($(date +%s) - START_S)) s, $JOBS at a time"
# Counted from the judge's lines: a pair that it could not judge fails.
agreed=$(grep -c '^ok ' "$RES/judged")
echo -n "lab pair: "
lab_finish "$agreed" $((${#PAIRS[@]} - agreed))
