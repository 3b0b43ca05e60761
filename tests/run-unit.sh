#!/usr/bin/env bash
# Run Criterion test binaries; fail on any failure, and also on a binary that
# ran no test at all (Criterion exits 0 then, which would pass silently).
# Environment (sanitizer options) is passed through by the caller.
set -u
status=0
for t in "$@"; do
	echo "== $t"
	out=$("$t" --jobs 2 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ $rc -ne 0 ]; then
		echo "unit: $t failed (status $rc)"
		status=1
	elif ! printf '%s\n' "$out" | grep -Eq 'Synthesis: Tested: [1-9]'; then
		echo "unit: $t ran no test"
		status=1
	fi
done
exit $status
