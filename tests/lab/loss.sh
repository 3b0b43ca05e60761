#!/usr/bin/env bash
# tests/lab/loss.sh NATCHECK - natcheck through a slow, lossy path.
#
# The lab with DELAY ms on the client-router wire in each direction (round
# trip 2 * DELAY, 100 ms by default) and LOSS percent of UDP dropped in the
# router in each direction (10 by default), for the port-restricted cone,
# the restricted cone and the symmetric NAT; RUNS natcheck --json runs each
# (20 by default) against natcheck --serve (or SERVER=stund|coturn).  Every
# run must name the NAT right; prints right/total per scenario and
# "N passed, M failed, K skipped" (one check per run).  Root only; skipped
# otherwise (exit status 77).
#
# Environment: RUNS, DELAY, LOSS, SERVER, LAB_SCENARIOS.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/lab/peers.sh
. "$here/peers.sh"

lab_script_init "$@"
RUNS=${RUNS:-20} DELAY=${DELAY:-50} LOSS=${LOSS:-10} SERVER=${SERVER:-natcheck}
case "$RUNS$DELAY$LOSS" in *[!0-9]*) echo "RUNS, DELAY and LOSS are integers" >&2; exit 2 ;; esac
[ "$RUNS" -le 500 ] || { echo "RUNS at most 500" >&2; exit 2; }
case "$SERVER" in
natcheck|stund|coturn) ;;
*) echo "SERVER must be natcheck, stund or coturn" >&2; exit 2 ;;
esac

PASSED=0 FAILED=0 START_S=$(date +%s)
SUMMARY=()

for s in ${LAB_SCENARIOS:-port-restricted-cone restricted-cone symmetric}; do
	echo "== $s: ${DELAY} ms each way, ${LOSS}% loss each way, $RUNS runs against $SERVER"
	if ! lab_up "$s" "$DELAY" "$LOSS"; then
		echo "FAIL $s: lab_up failed"
		FAILED=$((FAILED + RUNS))
		SUMMARY+=("$s: lab_up failed")
		lab_down
		continue
	fi
	# The path as built: round trip and loss of plain UDP.
	lab_spawn echo s python3 "$LAB_DIR/udpecho.py" serve "$LAB_SERVER1" 9000 30
	if lab_wait_udp s "$LAB_SERVER1" 9000; then
		echo "   path: $(lab_client python3 "$LAB_DIR/udpecho.py" ping "$LAB_SERVER1" 9000 100 2>/dev/null)"
	fi
	lab_stop echo
	if ! peer_start srv "$SERVER"; then
		echo "FAIL $s: server $SERVER did not start"
		FAILED=$((FAILED + RUNS))
		lab_down
		continue
	fi
	right=0 total=0 times=()
	for i in $(seq 1 "$RUNS"); do
		out="$LAB_TMP/run.json" err="$LAB_TMP/run.err"
		t0=$(date +%s%N)
		lab_client timeout 60 "$NATCHECK" --json "$LAB_SERVER1" >"$out" 2>"$err"
		rc=$?
		times+=($((($(date +%s%N) - t0) / 1000000)))
		total=$((total + 1))
		if res=$(python3 "$LAB_DIR/verdict.py" json "$out" "$rc" \
			"$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" "$SCN_HAIRPIN"); then
			right=$((right + 1)) PASSED=$((PASSED + 1))
		else
			FAILED=$((FAILED + 1))
			echo "FAIL $s run $i (exit $rc): $(printf '%s\n' "$res" | tr '\n' ';')"
			python3 "$LAB_DIR/verdict.py" tests "$out"
		fi
	done
	sorted=$(printf '%s\n' "${times[@]}" | sort -n)
	echo "   $s: $right/$total right; natcheck run time min $(echo "$sorted" | head -n 1) ms," \
		"median $(echo "$sorted" | sed -n "$(((total + 1) / 2))p") ms, max $(echo "$sorted" | tail -n 1) ms"
	SUMMARY+=("$s: $right/$total right")
	lab_stop srv
	lab_down
done

printf '%s\n' "${SUMMARY[@]}"
echo "lab-loss: $(($(date +%s) - START_S)) s"
lab_finish "$PASSED" "$FAILED"
