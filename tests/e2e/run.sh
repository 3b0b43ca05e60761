#!/usr/bin/env bash
# tests/e2e/run.sh NATCHECK [SCRIPT...] - the end-to-end test scripts
# (default: every tests/e2e/*.py but stunlib.py and _*.py) against a built
# natcheck.  Each script talks only to 127.0.0.0/8 (or to nothing, inside
# `unshare -n`), prints one line per check and ends with "N passed, M failed,
# K skipped"; its exit status is 0, 1 on a failure, 77 when it skipped
# something (tests/group.sh).  So does this script, for all of them.
set -u
natcheck=${1:-./natcheck}
here=$(dirname "$0")
if [ $# -gt 1 ]; then
	shift
	scripts=("$@")
else
	scripts=("$here"/*.py)
fi

if ! command -v python3 >/dev/null 2>&1; then
	echo "e2e: python3 is missing (Debian package python3)"
	exit 1
fi

passed=0 failed=0 skipped=0 status=0
for t in "${scripts[@]}"; do
	[ -f "$t" ] || { echo "e2e: no such test script: $t"; status=1; failed=$((failed + 1)); continue; }
	case $(basename "$t") in stunlib.py|_*) continue ;; esac
	echo "== $t"
	out=$(timeout 300 python3 "$t" "$natcheck" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n 1)
	p=0 f=0 s=0
	[ -z "$last" ] || read -r p _ f _ s _ <<<"${last//,/}"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	if [ $rc = 77 ] && [ "$f" = 0 ]; then
		[ "$s" -gt 0 ] || skipped=$((skipped + 1))
	elif [ $rc -ne 0 ] || [ -z "$last" ] || [ "$f" -gt 0 ] || [ "$s" -gt 0 ]; then
		echo "e2e: $t exited with status $rc${last:+ after \"$last\"}"
		status=1
		[ "$f" -gt 0 ] || failed=$((failed + 1))
	fi
done
echo "e2e: $passed passed, $failed failed, $skipped skipped"
[ $status = 0 ] || exit 1
[ $skipped = 0 ] || exit 77
