#!/usr/bin/env bash
# Run Criterion test binaries; fail on any failure, and also on a binary that
# ran no test at all (Criterion exits 0 then, which would pass silently).
# A test that skips itself (cr_skip_test) is not in Criterion's "Tested":
# the skips are the tests --list names less those.  Ends with
# "unit: P passed, F failed, S skipped"; exit 0, 1 on a failure, 77 when
# something was skipped (tests/group.sh).
# Environment (sanitizer options) is passed through by the caller.
set -u
status=0 passed=0 failed=0 skipped=0
for t in "$@"; do
	echo "== $t"
	out=$("$t" --jobs 2 2>&1)
	rc=$?
	printf '%s\n' "$out"
	# "[====] Synthesis: Tested: 19 | Passing: 19 | Failing: 0 | Crashing: 0"
	read -r tested passing failing crashing < <(printf '%s\n' "$out" |
		sed -n 's/.*Synthesis: Tested: \([0-9]*\) | Passing: \([0-9]*\) | Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\1 \2 \3 \4/p' |
		tail -n 1)
	# "net: 19 tests" per suite.
	total=$("$t" --list 2>/dev/null | awk '/^[^ ].*: [0-9]+ tests?$/ { n += $(NF - 1) } END { print n + 0 }')
	passed=$((passed + ${passing:-0}))
	failed=$((failed + ${failing:-0} + ${crashing:-0}))
	bad=
	if [ $rc -ne 0 ]; then
		bad="failed (status $rc)"
	elif [ -z "${tested:-}" ] || [ "$tested" -lt 1 ]; then
		bad="ran no test"
	fi
	if [ -n "$bad" ]; then
		echo "unit: $t $bad"
		status=1
		# A binary that failed without a failing test still fails once.
		[ "$((${failing:-0} + ${crashing:-0}))" -gt 0 ] || failed=$((failed + 1))
	fi
	if [ -n "${tested:-}" ] && [ "$total" -gt "$tested" ]; then
		echo "skip  $t: $((total - tested)) of its $total tests skipped themselves"
		skipped=$((skipped + total - tested))
	fi
done
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ $status = 0 ] || exit 1
[ $skipped = 0 ] || exit 77
