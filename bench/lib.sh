# bench/lib.sh - what the lab benchmarks (client.sh, dual.sh) share.
# shellcheck shell=bash
#
# Source after tests/lab/lib.sh, then:
#   bench_init LABEL "$@"     the script's one argument, an executable natcheck,
#                             in NATCHECK (full path); exit 2 on bad usage,
#                             1 when the lab cannot run here
#   bench_start NAME          the run's directory BENCH_TMP (the traps remove it
#                             and the lab), RAW=$BENCH_TMP/raw.jsonl, NATCHECK
#                             copied into it, COMMIT the work tree's commit
#   bench_copy PATH           PATH copied into BENCH_TMP; prints the copy's path
#   bench_wait_quiet MAX      wait (60 s at most) while more than MAX lab
#                             namespaces of other runs exist
#   bench_foreign_ns          how many there are
#   bench_jstr STRING         STRING as a JSON string
#   bench_machine             the run's JSON fields "date", "nproc", "cpu",
#                             "kernel", "commit" (no braces), for the meta line

bench_init() {
	local label="$1" reason
	shift
	if [ $# -ne 1 ] || [ ! -x "$1" ]; then
		echo "usage: $0 NATCHECK (an executable natcheck)" >&2
		exit 2
	fi
	NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	reason=$(lab_unavailable)
	if [ -n "$reason" ]; then
		echo "$label: skipped: $reason"
		exit 1
	fi
}

bench_start() {
	local top
	top=$(cd "$LAB_DIR/../.." && pwd)
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-$1.XXXXXX") || exit 1
	trap 'rm -rf "$BENCH_TMP"; lab_cleanup' EXIT
	trap 'rm -rf "$BENCH_TMP"; lab_cleanup; exit 130' INT
	trap 'rm -rf "$BENCH_TMP"; lab_cleanup; exit 143' TERM
	# The raw data lives in the run's own directory (a `make clean`
	# elsewhere must not cut it short); the caller copies it to build/.
	RAW=$BENCH_TMP/raw.jsonl
	: >"$RAW"
	# shellcheck disable=SC2034  # read by lab_up: keep these traps
	LAB_TRAP_SET=1
	lab_set_prefix
	# The binary under test, copied: a rebuild in the work tree during
	# the run must not change it halfway.  The commit is taken now, too.
	NATCHECK=$(bench_copy "$NATCHECK") || exit 1
	COMMIT=$(cd "$top" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
	if ! (cd "$top" && git diff --quiet HEAD -- '*.c' '*.h' 2>/dev/null); then
		COMMIT="$COMMIT (C sources modified in the work tree: $(cd "$top" &&
			git diff --name-only HEAD -- '*.c' '*.h' | tr '\n' ' ' | sed 's/ $//'))"
	fi
}

bench_copy() {
	local to
	to=$BENCH_TMP/$(basename "$1")
	[ ! -e "$to" ] || to=$to-$RANDOM
	cp "$1" "$to" && printf '%s' "$to"
}

bench_foreign_ns() {
	local mine
	mine=$(lab_prefix)
	ip netns list 2>/dev/null | awk '{print $1}' | grep -v "^$mine-" | grep -c .
}

# Other people's labs make timing noisier: wait a little while there are many.
bench_wait_quiet() {
	local i n
	for i in $(seq 1 12); do
		n=$(bench_foreign_ns)
		[ "$n" -le "$1" ] && return 0
		[ "$i" = 1 ] && echo "   $n foreign namespaces: waiting up to 60 s"
		sleep 5
	done
}

bench_jstr() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

bench_machine() {
	printf '"date": %s, "nproc": %s, "cpu": %s, "kernel": %s, "commit": %s' \
		"$(bench_jstr "$(date -u '+%Y-%m-%d %H:%M UTC')")" "$(bench_jstr "$(nproc)")" \
		"$(bench_jstr "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)")" \
		"$(bench_jstr "$(uname -r)")" "$(bench_jstr "$COMMIT")"
}
