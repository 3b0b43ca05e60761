#!/usr/bin/env bash
# bench/server.sh NATCHECK - STUN Binding requests per second that
# `natcheck --serve` answers on loopback with one core, against coturn's
# turnserver under the same load, and the ratio (target: natcheck >= 2x).
#
#   make bench-server            (runs: bash bench/server.sh ./natcheck)
#
# Each server is pinned to CPU 1 and the load generator (bench/loadgen.c,
# built into build/) to CPU 0.  Each server gets a 1 s warm-up and then
# BENCH_REPS runs of BENCH_SECONDS; the median rate is reported.  Results
# go to stdout and to bench/server-results.md.
#
# Knobs (environment): BENCH_SECONDS (10, 1..60), BENCH_REPS (3, 1..9),
# BENCH_WINDOW (128 requests in flight: enough to keep either server busy,
# few enough that they fit a default 208 KiB socket receive buffer - at
# 256 natcheck's single socket starts dropping, see bench/README), BENCH_SOCKETS (2), CC (cc).
#
# The machine is shared, so every run also measures how much CPU other
# processes took on the two benchmark cores.  A run where that exceeds
# BENCH_MAX_FOREIGN percent (15) is repeated, at most twice, after a pause;
# the run with the least interference is kept and marked if still noisy.
#
# Only loopback addresses; only processes this script started are signalled
# (by PID, from the trap); every wait is bounded.
set -euo pipefail

die() { echo "bench/server.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: bash bench/server.sh ./natcheck"
NATCHECK=$1
[ -x "$NATCHECK" ] || die "$NATCHECK: not an executable (run make first)"
case $NATCHECK in /*) ;; *) NATCHECK=$PWD/$NATCHECK ;; esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

num() { # num NAME VALUE LO HI
	case $2 in ''|*[!0-9]*) die "$1 must be a number, got '$2'" ;; esac
	if [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then die "$1 must be $3..$4, got $2"; fi
}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}; num BENCH_SECONDS "$SECONDS_PER_RUN" 1 60
REPS=${BENCH_REPS:-3};                num BENCH_REPS "$REPS" 1 9
WINDOW=${BENCH_WINDOW:-128};          num BENCH_WINDOW "$WINDOW" 1 65536
SOCKETS=${BENCH_SOCKETS:-2};          num BENCH_SOCKETS "$SOCKETS" 1 64
MAX_FOREIGN=${BENCH_MAX_FOREIGN:-15}; num BENCH_MAX_FOREIGN "$MAX_FOREIGN" 0 100
RETRIES=2
RESULTS=bench/server-results.md

command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin the processes"
HZ=$(getconf CLK_TCK)
NPROC=$(nproc)
if [ "$NPROC" -ge 2 ]; then
	SRV_CPU=1 GEN_CPU=0
else
	SRV_CPU=0 GEN_CPU=0
	echo "bench/server.sh: only one CPU: server and load generator share it" >&2
fi
# Higher priority than the other jobs on a shared machine, where allowed.
NICE=()
if nice -n -10 true 2>/dev/null; then NICE=(nice -n -10); fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/natcheck-bench.XXXXXX")
PIDS=()
stop_pid() { # TERM, up to 5 s grace, then KILL; only our own children
	local p=$1 i
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
	wait "$p" 2>/dev/null || true
}
cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ load generator
LOADGEN=build/bench-loadgen
mkdir -p build
${CC:-cc} -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -O2 \
	-o "$LOADGEN" bench/loadgen.c || die "cannot build $LOADGEN"

# ------------------------------------------------------------ helpers
# A UDP port pair nobody listens on.  coturn binds with SO_REUSEPORT, so a
# stale listener on the same port would silently share the load: check.
port_busy() {
	if command -v ss >/dev/null; then
		[ -n "$(ss -Hulnp "( sport = :$1 )" 2>/dev/null)" ]
	else
		return 1
	fi
}
NEXT_PORT=$((20000 + RANDOM % 20000))
pick_ports() { # sets P and Q
	local _
	for _ in $(seq 50); do
		P=$NEXT_PORT Q=$((NEXT_PORT + 1))
		NEXT_PORT=$((NEXT_PORT + 2))
		if ! port_busy "$P" && ! port_busy "$Q"; then return 0; fi
	done
	die "no free UDP port pair found"
}

# Wait (bounded) until pid $1 listens on 127.0.0.1:$2 and nobody else does.
wait_listening() {
	local pid=$1 port=$2 i out
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		if command -v ss >/dev/null; then
			out=$(ss -Hulnp "( sport = :$port )" 2>/dev/null || true)
			if grep -q "127.0.0.1:$port" <<<"$out"; then
				if grep -v "pid=$pid," <<<"$out" | grep -q .; then
					echo "bench/server.sh: another process shares port $port:" >&2
					echo "$out" >&2
					return 1
				fi
				return 0
			fi
		elif [ "$i" -ge 20 ]; then
			return 0        # no ss: 2 s must do
		fi
		sleep 0.1
	done
	return 1
}

cpu_ticks_of() { # utime + stime of a process (all threads), in clock ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# Busy ticks (user, nice, system) of the two benchmark cores.  Interrupt
# and softirq time is left out: during a run it is nearly all our own
# loopback traffic, and Linux does not charge it to any process.
core_busy_ticks() {
	awk -v a="cpu$SRV_CPU" -v b="cpu$GEN_CPU" \
	    '$1 == a || ($1 == b && a != b) { s += $2 + $3 + $4 } END { print s + 0 }' \
	    /proc/stat
}
# Wait, at most 30 s, until other processes leave the two cores mostly
# idle for a whole second (the server we started is idle meanwhile).
wait_quiet() {
	local i b0 b1 pct
	for i in $(seq 30); do
		b0=$(core_busy_ticks); sleep 1; b1=$(core_busy_ticks)
		pct=$(( (b1 - b0) * 100 / HZ ))
		[ "$pct" -gt "$MAX_FOREIGN" ] || return 0
		[ "$i" -gt 1 ] || echo "   (other jobs busy on the cores: ${pct}%; waiting up to 30 s)"
	done
	return 0
}
field() { # field NAME "RESULT ..." -> value
	sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# One measured run against pid $1 listening on port $2.  Prints
# "rate server_cpu_pct foreign_pct lost bad gen_cpu_pct".
measure() {
	local pid=$1 port=$2 s0 s1 b0 b1 out rate secs gcpu
	s0=$(cpu_ticks_of "$pid"); b0=$(core_busy_ticks)
	out=$("${NICE[@]}" taskset -c "$GEN_CPU" "$LOADGEN" -q -d "$SECONDS_PER_RUN" \
		-w "$WINDOW" -s "$SOCKETS" "127.0.0.1:$port") || {
		echo "bench/server.sh: load generator failed: $out" >&2; return 1; }
	s1=$(cpu_ticks_of "$pid"); b1=$(core_busy_ticks)
	kill -0 "$pid" 2>/dev/null || { echo "bench/server.sh: server died" >&2; return 1; }
	rate=$(field rate "$out"); secs=$(field seconds "$out"); gcpu=$(field cpu "$out")
	awk -v r="$rate" -v s="$secs" -v g="$gcpu" -v ds=$((s1 - s0)) -v db=$((b1 - b0)) \
	    -v hz="$HZ" -v l="$(field lost "$out")" -v bad="$(field bad "$out")" 'BEGIN {
		scpu = ds / hz; busy = db / hz
		f = (busy - scpu - g) / s * 100; if (f < 0) f = 0
		printf "%d %.0f %.0f %d %d %.0f\n", r, scpu / s * 100, f, l, bad, g / s * 100 }'
}

# bench NAME CMD...: start the server pinned, warm up, measure REPS runs.
# Appends rows to $TMP/runs and the summary line to $TMP/summary.
bench() {
	local name=$1 pid rep try best line rates f
	shift
	pick_ports
	local cmd=("${@//@P@/$P}")
	cmd=("${cmd[@]//@Q@/$Q}")
	"${NICE[@]}" taskset -c "$SRV_CPU" "${cmd[@]}" >"$TMP/$name.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_listening "$pid" "$P"; then
		sed 's/^/    /' "$TMP/$name.log" >&2
		die "$name did not start listening on 127.0.0.1:$P"
	fi
	echo "== $name (pid $pid, 127.0.0.1:$P, CPU $SRV_CPU): ${cmd[*]}"
	taskset -c "$GEN_CPU" "$LOADGEN" -q -d 1 -w "$WINDOW" -s "$SOCKETS" "127.0.0.1:$P" >/dev/null ||
		die "$name does not answer Binding requests on 127.0.0.1:$P"
	: >"$TMP/$name.rates"
	for rep in $(seq "$REPS"); do
		best=
		for try in $(seq 0 "$RETRIES"); do
			[ "$try" -eq 0 ] || echo "   (other jobs took ${line##* F=}% of the cores; once more)"
			wait_quiet
			line=$(measure "$pid" "$P") || die "$name: measurement failed"
			read -r -a f <<<"$line"; set -- "${f[@]}"
			line="$line F=$3"
			if [ -z "$best" ] || [ "$3" -lt "$(cut -d' ' -f3 <<<"$best")" ]; then best=$line; fi
			[ "$3" -gt "$MAX_FOREIGN" ] || break
		done
		read -r -a f <<<"$best"; set -- "${f[@]}"
		printf '   run %d: %8d req/s  server CPU %3d%%  generator CPU %3d%%  other jobs %3d%%  lost %d  invalid %d%s\n' \
			"$rep" "$1" "$2" "$6" "$3" "$4" "$5" "$([ "$3" -gt "$MAX_FOREIGN" ] && echo '  (noisy)')"
		echo "$name $rep $1 $2 $6 $3 $4 $5" >>"$TMP/runs"
		echo "$1" >>"$TMP/$name.rates"
	done
	stop_pid "$pid"
	PIDS=()
	rates=$(median <"$TMP/$name.rates")
	echo "$name $rates $(awk -v n="$name" '$1 == n { print $4 }' "$TMP/runs" | median)" >>"$TMP/summary"
}

# ------------------------------------------------------------ the servers
: >"$TMP/runs"; : >"$TMP/summary"

bench natcheck "$NATCHECK" --serve 127.0.0.1,127.0.0.2 -p @P@ --alt-port @Q@

if command -v turnserver >/dev/null; then
	# An empty config file AND -n, so Debian's /etc/turnserver.conf is never
	# read; --stun-only answers Binding without credentials (RFC 5389
	# section 10: Binding needs no authentication); -m 1 gives one relay
	# thread beside the listener thread (all pinned to the same core by
	# taskset) - measured about 5% faster on one core than -m 0, the
	# single-threaded mode, so it is the kinder choice for coturn; two
	# listening addresses and --alt-listening-port make it an RFC 5780
	# server with OTHER-ADDRESS and RESPONSE-ORIGIN like natcheck; no TCP,
	# TLS, DTLS, CLI; logs, pid file and user DB stay in our temp dir.
	: >"$TMP/turnserver.conf"
	bench coturn turnserver -c "$TMP/turnserver.conf" -n --stun-only \
		-L 127.0.0.1 -L 127.0.0.2 -p @P@ --alt-listening-port @Q@ -m 1 \
		--no-tcp --no-tls --no-dtls --no-cli \
		--log-file "$TMP/turn.log" --simple-log --no-stdout-log \
		--pidfile "$TMP/turnserver.pid" --userdb "$TMP/turndb"
	COTURN_VERSION=$(turnserver --version 2>/dev/null | head -n 1)
else
	echo "bench/server.sh: turnserver (coturn) not installed: no comparison" >&2
	COTURN_VERSION="not installed"
fi

# ------------------------------------------------------------ the table
N_RATE=$(awk '$1 == "natcheck" { print $2 }' "$TMP/summary")
C_RATE=$(awk '$1 == "coturn" { print $2 }' "$TMP/summary")
RATIO=$(awk -v n="$N_RATE" -v c="${C_RATE:-0}" 'BEGIN { if (c > 0) printf "%.2f", n / c; else print "n/a" }')
VERDICT=$(awk -v r="$RATIO" 'BEGIN { if (r == "n/a") print "no comparison"; else if (r + 0 >= 2) print "met"; else print "NOT met" }')

table() {
	echo "| server | median req/s | median server CPU | ratio natcheck/coturn |"
	echo "|---|---:|---:|---:|"
	echo "| natcheck --serve | $N_RATE | $(awk '$1 == "natcheck" { print $3 }' "$TMP/summary")% | $RATIO |"
	[ -z "$C_RATE" ] || echo "| coturn turnserver -m 1 | $C_RATE | $(awk '$1 == "coturn" { print $3 }' "$TMP/summary")% | 1.00 |"
}
echo
table
echo
echo "target natcheck >= 2x coturn: $VERDICT"

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- '*.c' '*.h' 2>/dev/null || true)" ]; then REV="$REV (with uncommitted changes)"; fi
{
	echo "# natcheck --serve vs coturn: STUN Binding throughput"
	echo
	echo "Written by \`make bench-server\` (bench/server.sh); see bench/README."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- machine: $NPROC CPUs, ${CPU_MODEL:-unknown CPU}, Linux $(uname -r)"
	echo "- natcheck: git $REV"
	echo "- coturn: $COTURN_VERSION"
	echo "- load: bench/loadgen.c, closed loop, window $WINDOW, $SOCKETS sockets," \
	     "$REPS x ${SECONDS_PER_RUN} s per server after a 1 s warm-up; server on CPU $SRV_CPU," \
	     "generator on CPU $GEN_CPU${NICE:+, both at nice -10}"
	echo
	table
	echo
	echo "Target natcheck >= 2x coturn: **$VERDICT**."
	echo
	echo "Every run (\"other\" = CPU other processes took on the two cores):"
	echo
	echo "| server | run | req/s | server CPU | generator CPU | other | lost | invalid |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	awk '{ printf "| %s | %s | %s | %s%% | %s%% | %s%% | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$TMP/runs"
} >"$TMP/results.md"
mv "$TMP/results.md" "$RESULTS"
echo "written to $RESULTS"
