#!/usr/bin/env bash
# tests/lab/cold.sh NATCHECK - natcheck through a cold path.
#
# A cold path is not a slow path: a cellular radio waking up, or a
# neighbour being resolved on a fresh link, holds the first datagrams after
# a quiet spell for a second or two, then lets them all through; later
# exchanges take the path's real round trip.  natcheck must still name the
# NAT, well within its default -t (3 s).
#
# For the restricted and the port-restricted cone (LAB_SCENARIOS to choose
# others): the lab with DELAY ms each way on the client-router wire (20 ms
# round trip by default), whose delay line (delayer -i IDLE_MS -H HOLD_MS)
# holds what arrives after IDLE_MS of silence for HOLD_MS (2000 and 1500 by
# default), and natcheck --serve on both server addresses.  RUNS runs of
# natcheck --json each (2 by default), each after more than IDLE_MS of
# silence, and each must
#   - find the path cold: the delay line logged a new hold during the run,
#     and natcheck's binding round trip is at least HOLD_MS;
#   - name the NAT right (type, mapping, filtering, hairpinning);
#   - end by its tests, not by -t: no test timed out, no timeout finding
#     (semantic: how long the run took is not asserted).
# Prints "N passed, M failed, K skipped" (three checks per run).  Root only;
# skipped with one line otherwise (exit status 77, a skip).
#
# Environment: RUNS, DELAY, IDLE_MS, HOLD_MS, LAB_SCENARIOS.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"

lab_script_init "$@"
RUNS=${RUNS:-2} DELAY=${DELAY:-10} IDLE_MS=${IDLE_MS:-2000} HOLD_MS=${HOLD_MS:-1500}
case "$RUNS$DELAY$IDLE_MS$HOLD_MS" in
*[!0-9]*) echo "RUNS, DELAY, IDLE_MS and HOLD_MS are integers" >&2; exit 2 ;;
esac
if [ "$RUNS" -lt 1 ] || [ "$RUNS" -gt 20 ] || [ "$DELAY" -lt 1 ] || [ "$DELAY" -gt 200 ] ||
	[ "$IDLE_MS" -lt 100 ] || [ "$IDLE_MS" -gt 10000 ] ||
	[ "$HOLD_MS" -lt 1 ] || [ "$HOLD_MS" -gt 2500 ]; then
	echo "RUNS 1..20, DELAY 1..200, IDLE_MS 100..10000, HOLD_MS 1..2500 (below -t)" >&2
	exit 2
fi

PASSED=0 FAILED=0 START_S=$(date +%s)
SUMMARY=()

pass() { PASSED=$((PASSED + 1)); }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $LAB_SCENARIO run $run: $*"
}

# The delay line lab_up started holds every frame DELAY ms; restart it with
# the cold path.  Nothing crosses the wire meanwhile (static neighbours, no
# IPv6), so no datagram is lost to the swap.
cold_wire() {
	lab_stop delayer
	lab_spawn delayer w "$LAB_DELAYER" -d "$DELAY" -i "$IDLE_MS" -H "$HOLD_MS" -l 3600 \
		"$LAB_WIRE_A" "$LAB_WIRE_B" || return 1
	sleep 0.2
	lab_running delayer
}

holds() {
	grep -c '^delayer: wire idle .*: holding frames' "$LAB_TMP/delayer.log" 2>/dev/null
}

# "BINDING_RTT ELAPSED TIMED_OUT" from natcheck's JSON, or nothing;
# TIMED_OUT is 1 when a test ended at -t (a timeout result or finding).
json_times() {
	python3 - "$1" <<-'EOF' 2>/dev/null
		import json, sys
		o = json.load(open(sys.argv[1]))
		b = [t for t in o["tests"] if t.get("name") == "binding"][0]
		timed_out = (any(t.get("result") == "timeout" for t in o["tests"]) or
		             any(f.get("code") == "timeout" for f in o["findings"]))
		print(int(b["rtt_ms"]), int(o["elapsed_ms"]), int(timed_out))
	EOF
}

for s in ${LAB_SCENARIOS:-restricted-cone port-restricted-cone}; do
	echo "== $s: ${DELAY} ms each way, held ${HOLD_MS} ms after ${IDLE_MS} ms idle, $RUNS runs"
	LAB_SCENARIO=$s run=-
	if ! lab_up "$s" "$DELAY" 0 || ! cold_wire; then
		fail "cannot build the lab with a cold wire: $(tail -n 3 "$LAB_TMP/delayer.log" 2>/dev/null)"
		lab_down
		continue
	fi
	lab_spawn srv s "$NATCHECK" --serve "$LAB_SERVER1,$LAB_SERVER2"
	if ! lab_wait_udp s "$LAB_SERVER1" 3478 || ! lab_wait_udp s "$LAB_SERVER2" 3479; then
		fail "natcheck --serve did not start"
		lab_down
		continue
	fi
	right=0
	for run in $(seq 1 "$RUNS"); do
		# Let the wire go cold (nothing crosses it between runs).
		sleep "$(((IDLE_MS + 500) / 1000)).$(((IDLE_MS + 500) % 1000 / 100))"
		out="$LAB_TMP/run.json" before=$(holds)
		lab_client timeout 30 "$NATCHECK" --json "$LAB_SERVER1" >"$out" 2>"$LAB_TMP/run.err"
		rc=$?
		after=$(holds)
		read -r brtt elapsed timed_out <<<"$(json_times "$out")"
		echo "   run $run: exit $rc, binding round trip ${brtt:-?} ms, elapsed ${elapsed:-?} ms," \
			"delay line holds $before -> $after"
		# The path really was cold: the first datagram was held.
		if [ "${after:-0}" -gt "${before:-0}" ] && [ "${brtt:-0}" -ge "$HOLD_MS" ]; then
			pass
		else
			fail "the path was not cold: holds $before -> $after, binding round trip ${brtt:-?} ms"
		fi
		if res=$(python3 "$LAB_DIR/verdict.py" json "$out" "$rc" \
			"$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" "$SCN_HAIRPIN"); then
			pass
			right=$((right + 1))
		else
			fail "$(printf '%s\n' "$res" | tr '\n' ';')"
			python3 "$LAB_DIR/verdict.py" tests "$out"
		fi
		if [ "${timed_out:-}" = 0 ]; then
			pass
		else
			fail "not decided by its tests: a test ran into -t (elapsed ${elapsed:-?} ms)"
		fi
	done
	SUMMARY+=("$s: $right/$RUNS right")
	lab_down
done

printf '%s\n' "${SUMMARY[@]}"
echo "lab-cold: $(($(date +%s) - START_S)) s"
lab_finish "$PASSED" "$FAILED"
