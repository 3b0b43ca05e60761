#!/usr/bin/env bash
# tests/lab/example.sh NATCHECK SCENARIO DELAY_MS [ARG...] - one natcheck run
# in the lab, for the README's examples: what a user behind that NAT sees.
#
# Builds the lab for SCENARIO (tests/lab/scenarios.sh) with DELAY_MS each
# way on the client's wire, starts natcheck --serve on both server
# addresses, runs `natcheck ARG... 203.0.113.1` (the first server address is
# appended) in the client namespace, prints its standard error and output
# as a terminal would show them, then its exit status, and takes the lab
# down again.  Root only.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"

if [ $# -lt 3 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK SCENARIO DELAY_MS [ARG...]" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
scenario=$2 delay=$3
shift 3
case $delay in ''|*[!0-9]*) echo "DELAY_MS is a whole number" >&2; exit 2 ;; esac
reason=$(lab_unavailable)
if [ -n "$reason" ]; then
	echo "lab: $reason" >&2
	exit 1
fi
if ! lab_up "$scenario" "$delay" 0; then
	echo "cannot build the lab for $scenario" >&2
	lab_down
	exit 1
fi
lab_spawn srv s "$NATCHECK" --serve "$LAB_SERVER1,$LAB_SERVER2"
if ! lab_wait_udp s "$LAB_SERVER1" 3478 || ! lab_wait_udp s "$LAB_SERVER2" 3479; then
	echo "natcheck --serve did not start" >&2
	lab_down
	exit 1
fi
lab_client timeout 30 "$NATCHECK" "$@" "$LAB_SERVER1" 2>&1
echo "exit status $?"
lab_down
