#!/usr/bin/env bash
# tests/group.sh - run one test group of `make check` and record what it
# checked, so that a group cannot pass without saying so.
#
#   tests/group.sh NAME COMMAND...   run COMMAND, record its counts as NAME
#   tests/group.sh --passed NAME N   record N passed checks (a Makefile
#                                    recipe that stops make when it fails)
#   tests/group.sh --summary         every recorded group, the totals, and
#                                    the verdict of `make check`
#
# The convention every test script follows (tests/lab/README.md, README):
#   - a check that cannot run prints a line starting with "skip" (or
#     "LABEL: skipped: REASON" for a whole script) and counts as skipped;
#   - the last line of the script's output of the form
#       [LABEL: ]P passed, F failed, S skipped
#     gives its counts;
#   - exit status 0: everything ran and passed; 77: nothing failed but
#     something was skipped (the status automake and meson use for a skip);
#     anything else: a failure.
# A command that prints no such line counts as one check: passed on status
# 0, skipped on 77, failed otherwise.  Counts and status must agree: a
# failed check or a status other than 0 and 77 fails the group, a skipped
# check or 77 makes it skipped.
#
# Each group leaves build/check/NAME.result ("NAME P F S STATUS", STATUS
# pass, skip or fail) and NAME.log; CHECK_DIR overrides the directory.
# A skipped group fails, so that `make check-lab` alone cannot pass with
# nothing run, unless ALLOW_SKIP=1, or CHECK_DEFER_SKIPS=1 (make check sets
# it: its summary fails on the skips instead, after every group has run).
# The summary fails on any failed or skipped check unless ALLOW_SKIP=1, and
# .ci/run never sets it.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${CHECK_DIR:-$top/build/check}
COUNTS='[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'

# record NAME PASSED FAILED SKIPPED STATUS: the result file and its line.
record() {
	mkdir -p "$dir" || exit 1
	printf '%s %s %s %s %s\n' "$@" >"$dir/$1.result"
	echo "check: $1: $2 passed, $3 failed, $4 skipped ($5)"
}

summary() {
	local f name p fl s st tp=0 tf=0 ts=0 n=0 skipped=() failed=()
	echo
	echo "make check: what each group checked"
	printf '  %-22s %7s %7s %7s  %s\n' group passed failed skipped status
	for f in "$dir"/*.result; do
		[ -f "$f" ] || continue
		read -r name p fl s st <"$f"
		printf '  %-22s %7s %7s %7s  %s\n' "$name" "$p" "$fl" "$s" "$st"
		tp=$((tp + p)) tf=$((tf + fl)) ts=$((ts + s)) n=$((n + 1))
		[ "$st" = skip ] && skipped+=("$name")
		[ "$st" = fail ] && failed+=("$name")
	done
	printf '  %-22s %7s %7s %7s\n' "all $n groups" "$tp" "$tf" "$ts"
	for name in "${skipped[@]}"; do
		echo "  skipped in $name:"
		grep -E '^(skip|SKIP)|: skipped: ' "$dir/$name.log" 2>/dev/null | head -n 20 | sed 's/^/    /'
	done
	echo "make check: $((tp + tf)) checks ran ($tp passed, $tf failed), $ts skipped, in $n groups"
	if [ "${CHECK_STATUS:-0}" != 0 ] || [ ${#failed[@]} -gt 0 ] || [ "$tf" -gt 0 ]; then
		echo "make check: FAILED${failed[*]:+ in ${failed[*]}} (a group that failed stops the rest)"
		return 1
	fi
	if [ "$n" = 0 ]; then
		echo "make check: FAILED: no group recorded anything"
		return 1
	fi
	if [ "$ts" -gt 0 ]; then
		if [ "${ALLOW_SKIP:-}" = 1 ]; then
			echo "make check: all test groups passed; $ts checks skipped (allowed by ALLOW_SKIP=1)"
			return 0
		fi
		echo "make check: FAILED: $ts checks skipped in ${skipped[*]}; a skip is a failure unless ALLOW_SKIP=1"
		return 1
	fi
	echo "make check: all test groups passed, nothing skipped"
}

case "${1:-}" in
--summary)
	summary
	exit
	;;
--passed)
	[ $# -eq 3 ] || { echo "usage: $0 --passed NAME N" >&2; exit 2; }
	record "$2" "$3" 0 0 pass >/dev/null
	exit 0
	;;
''|-*)
	echo "usage: $0 NAME COMMAND... | --passed NAME N | --summary" >&2
	exit 2
	;;
esac

name=$1
shift
[ $# -gt 0 ] || { echo "usage: $0 NAME COMMAND..." >&2; exit 2; }
mkdir -p "$dir" || exit 1
log=$dir/$name.log
rm -f "$dir/$name.result"
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

line=$(grep -Eo "$COUNTS" "$log" | tail -n 1)
if [ -n "$line" ]; then
	read -r p _ f _ s _ <<<"${line//,/}"
else
	p=0 f=0 s=0
	case $rc in 0) p=1 ;; 77) s=1 ;; *) f=1 ;; esac
fi
case $rc in
0) ;;
77) [ "$s" -gt 0 ] || s=1 ;;
*) [ "$f" -gt 0 ] || { f=$((f + 1)); echo "$name: exit status $rc"; } ;;
esac
if [ "$f" -gt 0 ]; then
	status=fail
elif [ "$s" -gt 0 ]; then
	status=skip
else
	status=pass
fi
record "$name" "$p" "$f" "$s" "$status"
case $status in
pass) exit 0 ;;
fail) exit 1 ;;
esac
if [ "${ALLOW_SKIP:-}" = 1 ] || [ "${CHECK_DEFER_SKIPS:-}" = 1 ]; then
	exit 0
fi
echo "$name: $s skipped: a skip is a failure unless ALLOW_SKIP=1"
exit 1
