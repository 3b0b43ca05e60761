#!/usr/bin/env bash
# bench/server.sh NATCHECK [BASELINE] - STUN Binding requests per second
# answered on loopback with one core by three servers under the same load:
#   floor     bench/floor.c, the bare recvmmsg -> flip type -> sendmmsg
#             responder: the cost of the system calls alone;
#   natcheck  natcheck --serve (RFC 5780 mode, two addresses, two ports);
#   coturn    coturn's turnserver --stun-only, the same RFC 5780 set-up;
# and, given a second natcheck binary, "baseline" (say, a build before a
# new feature) for an A/B comparison.  Targets: natcheck >= 0.85 x floor,
# natcheck >= 2 x coturn and, with a baseline, (baseline - natcheck) <=
# 0.05 x floor: a new feature costs at most 5% of the floor's rate.
#
#   make bench-server            (runs: bash bench/server.sh ./natcheck)
#
# Every server is pinned to CPU 1 and the load generator (bench/loadgen.c,
# built into build/) to CPU 0.  All servers start at once (the idle ones
# sleep in poll) and get a 1 s warm-up; then BENCH_REPS repetitions, each
# measuring every server once for BENCH_SECONDS, in an order rotated by
# one per repetition - so drift and other jobs hit all servers alike and
# no server is always first.  Ratios are taken within a repetition
# (natcheck/floor, natcheck/coturn), then their median and range over the
# repetitions.  Rates: median and min-max.  Results go to stdout and to
# bench/server-results.md, with every run.
#
# Knobs (environment): BENCH_SECONDS (10, 1..60), BENCH_REPS (5, 1..15),
# BENCH_WINDOW (192 requests in flight: at 128 the floor's core was at
# times 7-16% idle, starved by the closed loop, which flatters natcheck;
# at 256 the floor's and natcheck's single socket with its default
# 208 KiB receive buffer starts dropping; see bench/README),
# BENCH_SOCKETS (2), BENCH_MAX_FOREIGN (15), BENCH_OUT
# (bench/server-results.md), CC (cc), BENCH_NATCHECK_ARGS (extra options
# for natcheck --serve: "--rate 1000000" by default, so the rate limiter
# does all its work on every request but never drops one - the load comes
# from one address; "--rate 0" measures without it), BENCH_BASELINE_ARGS
# (the baseline's, by default the same: an A/B of two builds compares
# them doing the same work; "" for a build from before --rate).
#
# The machine may be shared, so every run also measures how much CPU other
# processes took on the two benchmark cores (in percent of one core,
# summed over both: 0..200; 200 never waits).  A run where that exceeds
# BENCH_MAX_FOREIGN percent is repeated, at most twice, after a pause;
# the run with the least interference is kept and marked if still noisy.
# Each run also records how idle the two cores were (a server core with
# idle time left was not the bottleneck) and what one answer cost the
# server's core in CPU time, the softirq work of its sends included
# ("us/answer"): other jobs change that far less than they change the
# rate, so ratios are also given from it (see bench/README, "Why
# natcheck/coturn differs").
#
# Only loopback addresses; only processes this script started are signalled
# (by PID, from the trap); every wait is bounded.
set -euo pipefail

die() { echo "bench/server.sh: $*" >&2; exit 1; }

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	die "usage: bash bench/server.sh ./natcheck [./baseline-natcheck]"
fi
NATCHECK=$(abs "$1")
[ -x "$NATCHECK" ] || die "$1: not an executable (run make first)"
BASELINE=
if [ $# -eq 2 ]; then
	BASELINE=$(abs "$2")
	[ -x "$BASELINE" ] || die "$2: not an executable"
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

num() { # num NAME VALUE LO HI
	case $2 in ''|*[!0-9]*) die "$1 must be a number, got '$2'" ;; esac
	if [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then die "$1 must be $3..$4, got $2"; fi
}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}; num BENCH_SECONDS "$SECONDS_PER_RUN" 1 60
REPS=${BENCH_REPS:-5};                num BENCH_REPS "$REPS" 1 15
WINDOW=${BENCH_WINDOW:-192};          num BENCH_WINDOW "$WINDOW" 1 65536
SOCKETS=${BENCH_SOCKETS:-2};          num BENCH_SOCKETS "$SOCKETS" 1 64
MAX_FOREIGN=${BENCH_MAX_FOREIGN:-15}; num BENCH_MAX_FOREIGN "$MAX_FOREIGN" 0 200
[ "$WINDOW" -ge "$SOCKETS" ] || die "BENCH_WINDOW ($WINDOW) must be at least BENCH_SOCKETS ($SOCKETS)"
RETRIES=2
RESULTS=${BENCH_OUT:-bench/server-results.md}
FLOOR_TARGET=0.85
COTURN_TARGET=2
FEATURE_MAX=0.05    # what natcheck may lose against the baseline, in floor rates

[ "$(uname -s)" = Linux ] || die "Linux only (bench/floor.c and the CPU accounting need it)"
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
LOADGEN_PID=
cleanup() {
	local p
	if [ -n "$LOADGEN_PID" ]; then stop_pid "$LOADGEN_PID"; fi
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ bench tools
LOADGEN=build/bench-loadgen
FLOOR=build/bench-floor
mkdir -p build
for t in loadgen floor; do
	${CC:-cc} -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -O2 \
		-o "build/bench-$t" "bench/$t.c" || die "cannot build build/bench-$t"
done

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
				if grep "users:" <<<"$out" | grep -v "pid=$pid," | grep -q .; then
					echo "bench/server.sh: another process shares port $port:" >&2
					echo "$out" >&2
					return 1
				fi
				# A socket ss cannot yet tie to a process (seen
				# while a threaded server starts): look again.
				if ! grep -v "users:" <<<"$out" | grep -q .; then return 0; fi
			fi
		elif [ "$i" -ge 20 ]; then
			return 0        # no ss: 2 s must do
		fi
		sleep 0.1
	done
	return 1
}

# Where the softirq time goes.  On loopback each core runs the receive
# path of what it sends: the server's core delivers the replies into the
# generator's sockets, in softirq, mostly inside the server's sendmmsg.
# Without CONFIG_IRQ_TIME_ACCOUNTING that time is part of the process's
# CPU time (as measured by the scheduler) and /proc/stat only samples it;
# with it, the scheduler leaves it out and /proc/stat measures it, so it
# must be added to the server's time.  "unknown" is treated as "no".
IRQ_ACCT=unknown
for cfg in /proc/config.gz "/boot/config-$(uname -r)"; do
	[ -r "$cfg" ] || continue
	case $(zcat -f "$cfg" 2>/dev/null | grep -E '^(# )?CONFIG_IRQ_TIME_ACCOUNTING[= ]' || true) in
	CONFIG_IRQ_TIME_ACCOUNTING=y) IRQ_ACCT=yes ;;
	*"is not set") IRQ_ACCT=no ;;
	esac
	break
done

# CPU time of a process, all its threads, in ns: the scheduler's own
# figure (/proc/PID/task/*/schedstat), exact where /proc/PID/stat only
# has clock ticks; the ticks where schedstat is missing.
if [ -r /proc/self/schedstat ]; then
	cpu_ns_of() {
		awk '{ s += $1 } END { printf "%.0f\n", s }' /proc/"$1"/task/*/schedstat 2>/dev/null || echo 0
	}
else
	cpu_ns_of() {
		awk -v hz="$HZ" '{ printf "%.0f\n", ($14 + $15) * 1e9 / hz }' "/proc/$1/stat" 2>/dev/null ||
			echo 0
	}
fi
# "busy idle_srv idle_gen irq_srv" in clock ticks: busy time of the two
# benchmark cores, each core's idle + iowait, and the server core's irq +
# softirq.  "busy" counts irq and softirq only when they are also inside
# the processes' own CPU time (IRQ_ACCT not yes), so that busy minus our
# processes' time is what other processes took.
core_ticks() {
	awk -v a="cpu$SRV_CPU" -v b="cpu$GEN_CPU" -v q="$([ "$IRQ_ACCT" = yes ] && echo 0 || echo 1)" '
	    $1 == a || ($1 == b && a != b) { s += $2 + $3 + $4 + q * ($7 + $8) }
	    $1 == a { ia = $5 + $6; qa = $7 + $8 }
	    $1 == b { ib = $5 + $6 }
	    END { print s + 0, ia + 0, ib + 0, qa + 0 }' /proc/stat
}
# Wait, at most 30 s, until other processes leave the two cores mostly
# idle for a whole second (the servers we started are idle meanwhile).
# The tick counts may add up to a little over 200%.
wait_quiet() {
	local i b0 b1 pct
	[ "$MAX_FOREIGN" -lt 200 ] || return 0  # 200: measure whatever the load
	for i in $(seq 30); do
		read -r b0 _ < <(core_ticks); sleep 1; read -r b1 _ < <(core_ticks)
		pct=$(( (b1 - b0) * 100 / HZ ))
		[ "$pct" -gt "$MAX_FOREIGN" ] || return 0
		[ "$i" -gt 1 ] || echo "   (other jobs busy on the cores: ${pct}%; waiting up to 30 s)"
	done
	return 0
}
field() { # field NAME "RESULT ..." -> value
	sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"
}
# Numbers on stdin -> "median min max" (median of an even count: the mean
# of the middle two), printed with format $1 (default %d).
stats() {
	sort -g | awk -v f="${1:-%d}" '{ v[NR] = $1 } END {
		if (NR == 0) { print "n/a n/a n/a"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf f " " f " " f "\n", m, v[1], v[NR] }'
}

# ------------------------------------------------------------ servers
# Per server: its pid, port, loadgen flags and command line.
NAMES=()
declare -A PID_OF PORT_OF FLAGS_OF CMD_OF

# start_server NAME LOADGEN_FLAGS CMD... (@P@ and @Q@ become the ports):
# start it pinned, wait until it listens, warm it up for 1 s.
start_server() {
	local name=$1 flags=$2 pid
	shift 2
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
	# shellcheck disable=SC2086 # $flags: zero or one loadgen option
	taskset -c "$GEN_CPU" "$LOADGEN" -q $flags -d 1 -w "$WINDOW" -s "$SOCKETS" \
		"127.0.0.1:$P" >/dev/null ||
		die "$name does not answer Binding requests on 127.0.0.1:$P"
	NAMES+=("$name")
	PID_OF[$name]=$pid PORT_OF[$name]=$P FLAGS_OF[$name]=$flags CMD_OF[$name]="${cmd[*]}"
}

# One measured run against server $1.  Prints "rate server_cpu_pct
# foreign_pct lost bad gen_cpu_pct server_core_idle_pct gen_core_idle_pct
# cost_us", where cost_us is the server's CPU time, its softirq work
# included (see IRQ_ACCT), per answer, in microseconds: what one answer
# costs the server's core, which other jobs sharing the core change much
# less than they change the rate.
#
# The CPU figures are sampled inside the run, leaving out its first and
# last fifth (at most 1 s each): starting the generator, filling the
# window and the tail are not the steady state, and an idle share taken
# over them would say the server had room to spare when it had none.
# The answers in that middle span are taken as rate x span.
measure() {
	local name=$1 pid=${PID_OF[$1]} lead mid t0 t1 s0 s1 g0 g1 b0 b1 is0 is1 ig0 ig1 q0 q1 out
	lead=$(awk -v s="$SECONDS_PER_RUN" 'BEGIN { l = s / 5; if (l > 1) l = 1; print l }')
	mid=$(awk -v s="$SECONDS_PER_RUN" -v l="$lead" 'BEGIN { print s - 2 * l }')
	# shellcheck disable=SC2086 # FLAGS_OF: zero or one loadgen option
	"${NICE[@]}" taskset -c "$GEN_CPU" "$LOADGEN" -q ${FLAGS_OF[$name]} \
		-d "$SECONDS_PER_RUN" -w "$WINDOW" -s "$SOCKETS" "127.0.0.1:${PORT_OF[$name]}" \
		>"$TMP/loadgen.out" 2>&1 &
	LOADGEN_PID=$!
	sleep "$lead"
	t0=$EPOCHREALTIME; s0=$(cpu_ns_of "$pid"); g0=$(cpu_ns_of "$LOADGEN_PID")
	read -r b0 is0 ig0 q0 < <(core_ticks)
	sleep "$mid"
	t1=$EPOCHREALTIME; s1=$(cpu_ns_of "$pid"); g1=$(cpu_ns_of "$LOADGEN_PID")
	read -r b1 is1 ig1 q1 < <(core_ticks)
	if ! wait "$LOADGEN_PID"; then
		LOADGEN_PID=
		echo "bench/server.sh: load generator failed against $name: $(cat "$TMP/loadgen.out")" >&2
		return 1
	fi
	LOADGEN_PID=
	out=$(cat "$TMP/loadgen.out")
	kill -0 "$pid" 2>/dev/null || { echo "bench/server.sh: $name died" >&2; return 1; }
	awk -v r="$(field rate "$out")" -v t0="$t0" -v t1="$t1" \
	    -v ds=$((s1 - s0)) -v dg=$((g1 - g0)) -v db=$((b1 - b0)) \
	    -v dis=$((is1 - is0)) -v dig=$((ig1 - ig0)) -v dq=$((q1 - q0)) \
	    -v addq="$([ "$IRQ_ACCT" = yes ] && echo 1 || echo 0)" \
	    -v hz="$HZ" -v l="$(field lost "$out")" -v bad="$(field bad "$out")" 'BEGIN {
		span = t1 - t0; if (span <= 0) span = 1e-9
		srv = ds / 1e9; gen = dg / 1e9
		f = (db / hz - srv - gen) / span * 100; if (f < 0) f = 0
		n = r * span
		printf "%d %.0f %.0f %d %d %.0f %.0f %.0f %.2f\n", r, srv / span * 100, f, l, bad,
		       gen / span * 100, dis / hz / span * 100, dig / hz / span * 100,
		       (n > 0 ? (srv + addq * dq / hz) / n * 1e6 : 0) }'
}

# run_one NAME REP POS: one run with the retry logic; appends a row to
# $TMP/runs: name rep pos rate srv_cpu gen_cpu other lost bad srv_idle gen_idle
# cost_us noisy
run_one() {
	local name=$1 rep=$2 pos=$3 try best='' line f noisy=''
	for try in $(seq 0 "$RETRIES"); do
		[ "$try" -eq 0 ] || echo "   (other jobs took ${line##* F=}% of the cores; once more)"
		wait_quiet
		line=$(measure "$name") || die "$name: measurement failed"
		read -r -a f <<<"$line"
		line="$line F=${f[2]}"
		if [ -z "$best" ] || [ "${f[2]}" -lt "$(cut -d' ' -f3 <<<"$best")" ]; then best=$line; fi
		[ "${f[2]}" -gt "$MAX_FOREIGN" ] || break
	done
	read -r -a f <<<"$best"
	[ "${f[2]}" -le "$MAX_FOREIGN" ] || noisy=noisy
	printf '   %-9s %8d req/s  %5s us/answer  server CPU %3d%% (core idle %3d%%)  generator CPU %3d%% (core idle %3d%%)  other jobs %3d%%  lost %d  invalid %d%s\n' \
		"$name" "${f[0]}" "${f[8]}" "${f[1]}" "${f[6]}" "${f[5]}" "${f[7]}" "${f[2]}" "${f[3]}" "${f[4]}" \
		"${noisy:+  (noisy)}"
	echo "$name $rep $pos ${f[0]} ${f[1]} ${f[5]} ${f[2]} ${f[3]} ${f[4]} ${f[6]} ${f[7]} ${f[8]} ${noisy:--}" >>"$TMP/runs"
}

# ------------------------------------------------------------ start them
: >"$TMP/runs"

start_server floor -e "$ROOT/$FLOOR" 127.0.0.1:@P@
FLOOR_REPLY="20 bytes (the request, type flipped)"

# shellcheck disable=SC2086  # BENCH_NATCHECK_ARGS is a list of words
start_server natcheck "" "$NATCHECK" --serve 127.0.0.1,127.0.0.2 -p @P@ --alt-port @Q@ \
	${BENCH_NATCHECK_ARGS---rate 1000000}
# shellcheck disable=SC2086  # BENCH_BASELINE_ARGS is a list of words
[ -z "$BASELINE" ] ||
	start_server baseline "" "$BASELINE" --serve 127.0.0.1,127.0.0.2 -p @P@ --alt-port @Q@ \
		${BENCH_BASELINE_ARGS-${BENCH_NATCHECK_ARGS---rate 1000000}}

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
	start_server coturn "" turnserver -c "$TMP/turnserver.conf" -n --stun-only \
		-L 127.0.0.1 -L 127.0.0.2 -p @P@ --alt-listening-port @Q@ -m 1 \
		--no-tcp --no-tls --no-dtls --no-cli \
		--log-file "$TMP/turn.log" --simple-log --no-stdout-log \
		--pidfile "$TMP/turnserver.pid" --userdb "$TMP/turndb"
	COTURN_VERSION=$(turnserver --version 2>/dev/null | head -n 1)
else
	echo "bench/server.sh: turnserver (coturn) not installed: no comparison" >&2
	COTURN_VERSION="not installed"
fi

# ------------------------------------------------------------ measure
# Repetition r measures every server once, starting at server (r-1) mod N.
N=${#NAMES[@]}
for rep in $(seq "$REPS"); do
	echo "-- repetition $rep of $REPS"
	for pos in $(seq 0 $((N - 1))); do
		run_one "${NAMES[$(( (rep - 1 + pos) % N ))]}" "$rep" $((pos + 1))
	done
done
for p in "${PIDS[@]}"; do stop_pid "$p"; done
PIDS=()

# ------------------------------------------------------------ summary
col() { # col NAME COLUMN: that column of NAME's runs, one a line
	awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$TMP/runs"
}
# Per-repetition ratios of A to B: lines "rep ratio".  From the rates
# (column 4), A/B; from the cost per answer (column 12), B/A - the rate
# ratio the two costs would give on a core each had to itself.
ratios() {
	awk -v a="$1" -v b="$2" -v c="${3:-4}" '$1 == a { x[$2] = $c } $1 == b { y[$2] = $c }
		END { for (r in x) if (r in y && x[r] > 0 && y[r] > 0)
			printf "%d %.3f\n", r, c == 4 ? x[r] / y[r] : y[r] / x[r] }' \
		"$TMP/runs" | sort -n
}
# Per-repetition cost of natcheck against the baseline build, as a share
# of the floor's rate: (baseline - natcheck) / floor, lines "rep share".
# The project's rule: a new server feature may cost at most 5% of the
# floor's rate.
feature_costs() {
	awk '$1 == "natcheck" { n[$2] = $4 } $1 == "baseline" { b[$2] = $4 } $1 == "floor" { f[$2] = $4 }
		END { for (r in n) if (r in b && r in f && f[r] > 0)
			printf "%d %.3f\n", r, (b[r] - n[r]) / f[r] }' "$TMP/runs" | sort -n
}
has() { [ -n "${PID_OF[$1]:-}" ]; }
verdict() { # verdict MEDIAN TARGET
	awk -v r="$1" -v t="$2" 'BEGIN { if (r == "n/a") print "no comparison";
		else if (r + 0 >= t + 0) print "met"; else print "NOT met" }'
}
NOISY=$(awk '$13 == "noisy"' "$TMP/runs" | wc -l)
GENBOUND=$(awk '$11 < 5' "$TMP/runs" | wc -l)
SRVIDLE=$(awk '$10 > 5' "$TMP/runs" | wc -l)

table() {
	local n label
	echo "| server | median req/s | min - max req/s | median us/answer | min - max us/answer | median server CPU | median server core idle | median generator CPU | lost | invalid |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for n in "${NAMES[@]}"; do
		case $n in
		floor) label="floor (bench/floor.c)" ;;
		natcheck) label="natcheck --serve" ;;
		baseline) label="baseline natcheck --serve" ;;
		coturn) label="coturn turnserver -m 1" ;;
		esac
		read -r med lo hi < <(col "$n" 4 | stats)
		read -r cmed clo chi < <(col "$n" 12 | stats %.2f)
		printf '| %s | %s | %s - %s | %s | %s - %s | %s%% | %s%% | %s%% | %s | %s |\n' \
			"$label" "$med" "$lo" "$hi" "$cmed" "$clo" "$chi" \
			"$(col "$n" 5 | stats | cut -d' ' -f1)" "$(col "$n" 10 | stats | cut -d' ' -f1)" \
			"$(col "$n" 6 | stats | cut -d' ' -f1)" \
			"$(col "$n" 8 | awk '{ s += $1 } END { print s + 0 }')" \
			"$(col "$n" 9 | awk '{ s += $1 } END { print s + 0 }')"
	done
}
# ratio_row LABEL A B TARGET [COL]: the median and range of the
# per-repetition ratios of A to B (see ratios).
ratio_row() {
	local label=$1 a=$2 b=$3 target=$4 c=${5:-4} med lo hi all
	if ! has "$a" || ! has "$b"; then return 0; fi
	read -r med lo hi < <(ratios "$a" "$b" "$c" | cut -d' ' -f2 | stats %.2f)
	all=$(ratios "$a" "$b" "$c" | awk '{ printf "%s%.2f", (NR > 1 ? ", " : ""), $2 }')
	printf '| %s | %s | %s - %s | %s | %s | %s |\n' "$label" "$med" "$lo" "$hi" "$all" \
		"${target:+>= $target}" "${target:+$(verdict "$med" "$target")}"
}
ratio_table() {
	echo "| ratio (per repetition) | median | min - max | every repetition | target | verdict |"
	echo "|---|---:|---:|---|---:|---|"
	ratio_row "natcheck / floor, req/s" natcheck floor "$FLOOR_TARGET"
	ratio_row "natcheck / coturn, req/s" natcheck coturn "$COTURN_TARGET"
	ratio_row "natcheck / baseline, req/s" natcheck baseline ""
	ratio_row "coturn / floor, req/s" coturn floor ""
	ratio_row "natcheck / floor, from us/answer" natcheck floor "" 12
	ratio_row "natcheck / coturn, from us/answer" natcheck coturn "" 12
	ratio_row "natcheck / baseline, from us/answer" natcheck baseline "" 12
	if has natcheck && has baseline && has floor; then
		local med lo hi all
		read -r med lo hi < <(feature_costs | cut -d' ' -f2 | stats %.3f)
		all=$(feature_costs | awk '{ printf "%s%.3f", (NR > 1 ? ", " : ""), $2 }')
		# Judged per repetition, as the rule says: every one within it.
		printf '| (baseline - natcheck) / floor, req/s | %s | %s - %s | %s | <= %s in every repetition | %s |\n' \
			"$med" "$lo" "$hi" "$all" "$FEATURE_MAX" \
			"$(feature_costs | awk -v t="$FEATURE_MAX" '{ n++; if ($2 + 0 > t + 0) over++ }
				END { if (!n) print "no comparison"; else if (!over) print "met";
				      else printf "NOT met (%d of %d repetitions over)", over, n }')"
	fi
}
caveats() {
	[ "$NOISY" -eq 0 ] ||
		echo "- $NOISY run(s) still disturbed by other jobs after the retries (marked noisy)."
	[ "$GENBOUND" -eq 0 ] ||
		echo "- $GENBOUND run(s) left the generator's core under 5% idle: there the generator may have set the rate."
	[ "$SRVIDLE" -eq 0 ] ||
		echo "- $SRVIDLE run(s) left the server's core over 5% idle: there the server was not the bottleneck."
	if [ "$SECONDS_PER_RUN" -lt 10 ] || [ "$REPS" -lt 5 ]; then
		echo "- **Shorter than the default (BENCH_SECONDS=$SECONDS_PER_RUN, BENCH_REPS=$REPS): a smoke test, not a measurement.**"
	fi
	return 0
}
echo
table
echo
ratio_table
echo
caveats

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- '*.c' '*.h' 2>/dev/null || true)" ]; then REV="$REV (with uncommitted changes)"; fi
{
	echo "# natcheck --serve vs the syscall floor and coturn: STUN Binding throughput"
	echo
	echo "Written by \`make bench-server\` (bench/server.sh); see bench/README."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- machine: $NPROC CPUs, ${CPU_MODEL:-unknown CPU}, Linux $(uname -r)"
	echo "- natcheck: git $REV, $NATCHECK${BASELINE:+; baseline: $BASELINE}"
	echo "- coturn: $COTURN_VERSION"
	echo "- floor reply: $FLOOR_REPLY; natcheck and coturn send full RFC 5780 Binding answers"
	echo "- CPU time: the scheduler's (schedstat); kernel IRQ_TIME_ACCOUNTING: $IRQ_ACCT" \
	     "($([ "$IRQ_ACCT" = yes ] && echo "softirq time added to the server's" ||
	         echo "softirq work inside the server's own time"))"
	for n in "${NAMES[@]}"; do echo "- $n: \`${CMD_OF[$n]}\`"; done
	echo "- load: bench/loadgen.c, closed loop, window $WINDOW, $SOCKETS sockets;" \
	     "$REPS repetitions x ${SECONDS_PER_RUN} s per server, order rotated per repetition," \
	     "after a 1 s warm-up; servers on CPU $SRV_CPU, generator on CPU $GEN_CPU${NICE:+, all at nice -10}"
	echo
	table
	echo
	ratio_table
	echo
	caveats
	echo
	echo "Every run, in the order measured (\"us/answer\" = server CPU time, its"
	echo "softirq work included, per valid answer; \"other\" = CPU other processes"
	echo "took on the two cores; \"idle\" = the core's idle share, softirq is busy;"
	echo "CPU figures from the middle of each run):"
	echo
	echo "| rep | pos | server | req/s | us/answer | server CPU | server core idle | generator CPU | generator core idle | other | lost | invalid | note |"
	echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	awk '{ printf "| %s | %s | %s | %s | %s | %s%% | %s%% | %s%% | %s%% | %s%% | %s | %s | %s |\n",
	       $2, $3, $1, $4, $12, $5, $10, $6, $11, $7, $8, $9, ($13 == "-" ? "" : $13) }' "$TMP/runs"
} >"$TMP/results.md"
mv "$TMP/results.md" "$RESULTS"
echo "written to $RESULTS"
