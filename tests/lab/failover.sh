#!/usr/bin/env bash
# tests/lab/failover.sh NATCHECK - walking the server list through bad servers.
#
# Issue #14: with servers that are dead (no answer), closed (ICMP port
# unreachable), ignoring CHANGE-REQUEST, or lying about where they answer
# from (RESPONSE-ORIGIN), natcheck must move on to the next server fast and
# still name the NAT right from the good one (natcheck --serve); and a bad
# server alone must never produce a confident wrong verdict.
#
# For the restricted and the port-restricted cone (LAB_SCENARIOS to choose
# others), DELAY ms each way on the client-router wire (10: a 20 ms round
# trip).  In the server namespace:
#   good     natcheck --serve 203.0.113.1,203.0.113.2 --rate 0 (3478/3479)
#   dead     tests/lab/stunbad.py dead   (4000/4001): reads, never answers
#   closed   203.0.113.1:4100, nothing listens (ICMP port unreachable)
#   ignore   tests/lab/stunbad.py ignore (5000/5001)
#   lie      tests/lab/stunbad.py lie    (6000/6001)
# Runs natcheck --json with the good server alone (the baseline), then each
# bad server before it, then all four before it: the verdict must be right,
# come from the good server, and cost at most FAILOVER_MS (300 by default,
# generous: about one round trip is the aim) more elapsed_ms per bad server
# than the baseline - natcheck's own clock, not this script's.  Then each
# bad server alone but the dead one: the type is unknown or right, never
# another, and the liar is named untrusted.
# Prints "N passed, M failed, K skipped".  Root only; skipped with one line
# otherwise (exit status 77, a skip).
#
# Environment: DELAY, FAILOVER_MS, LAB_SCENARIOS.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"

lab_script_init "$@"
DELAY=${DELAY:-10} FAILOVER_MS=${FAILOVER_MS:-300}
case "$DELAY$FAILOVER_MS" in
*[!0-9]*) echo "DELAY and FAILOVER_MS are integers" >&2; exit 2 ;;
esac
if [ "$DELAY" -lt 1 ] || [ "$DELAY" -gt 200 ] || [ "$FAILOVER_MS" -lt 1 ]; then
	echo "DELAY 1..200, FAILOVER_MS >= 1" >&2
	exit 2
fi

GOOD="$LAB_SERVER1:3478"
declare -A BAD=([dead]="$LAB_SERVER1:4000" [closed]="$LAB_SERVER1:4100"
	[ignore]="$LAB_SERVER1:5000" [lie]="$LAB_SERVER1:6000")
PASSED=0 FAILED=0 START_S=$(date +%s)

pass() { PASSED=$((PASSED + 1)); }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $LAB_SCENARIO $*"
}

# run NAME SERVER...: natcheck --json against these servers into
# $LAB_TMP/NAME.json; its exit status in $LAB_TMP/NAME.rc.
run() {
	local name=$1
	shift
	lab_client timeout 30 "$NATCHECK" --json --no-portmap "$@" \
		>"$LAB_TMP/$name.json" 2>"$LAB_TMP/$name.err"
	echo $? >"$LAB_TMP/$name.rc"
}

# "ELAPSED SERVER" from a run's JSON, or nothing.
facts() {
	python3 - "$LAB_TMP/$1.json" <<-'EOF' 2>/dev/null
		import json, sys
		o = json.load(open(sys.argv[1]))
		print(int(o["elapsed_ms"]), o["server"])
	EOF
}

# right NAME: the verdict is the scenario's, exactly.
right() {
	python3 "$LAB_DIR/verdict.py" json "$LAB_TMP/$1.json" "$(cat "$LAB_TMP/$1.rc")" \
		"$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" "$SCN_HAIRPIN"
}

# cautious NAME: the type is unknown or the scenario's, and so are the
# mapping and the filtering - never a confident wrong one.
cautious() {
	python3 - "$LAB_TMP/$1.json" "$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" <<-'EOF'
		import json, sys
		o = json.load(open(sys.argv[1]))
		bad = [f"{k} {o[k]}" for k, want in zip(("type", "mapping", "filtering"), sys.argv[2:5])
		       if o[k] not in ("unknown", want)]
		print("; ".join(bad))
		sys.exit(1 if bad else 0)
	EOF
}

check_failover() {
	local name=$1 nbad=$2 base=$3 res elapsed server
	if res=$(right "$name"); then
		pass
	else
		fail "$name: wrong verdict: $(printf '%s\n' "$res" | tr '\n' ';')"
		python3 "$LAB_DIR/verdict.py" tests "$LAB_TMP/$name.json"
	fi
	read -r elapsed server <<<"$(facts "$name")"
	echo "   $name: elapsed ${elapsed:-?} ms (baseline $base ms), server ${server:-?}"
	if [ "${server:-}" = "$GOOD" ]; then pass; else fail "$name: verdict from ${server:-?}, not $GOOD"; fi
	if [ -n "${elapsed:-}" ] && [ "$elapsed" -le $((base + nbad * FAILOVER_MS)) ]; then
		pass
	else
		fail "$name: elapsed ${elapsed:-?} ms, more than $base + $nbad x $FAILOVER_MS"
	fi
}

for s in ${LAB_SCENARIOS:-restricted-cone port-restricted-cone}; do
	echo "== $s: ${DELAY} ms each way, failover through dead, closed, ignoring and lying servers"
	LAB_SCENARIO=$s
	if ! lab_up "$s" "$DELAY" 0; then
		fail "cannot build the lab"
		lab_down
		continue
	fi
	lab_spawn good s "$NATCHECK" --serve "$LAB_SERVER1,$LAB_SERVER2" --rate 0
	for m in dead ignore lie; do
		port=${BAD[$m]##*:}
		lab_spawn "$m" s python3 "$here/stunbad.py" "$m" "$LAB_SERVER1" "$LAB_SERVER2" \
			"$port" $((port + 1))
	done
	if ! lab_wait_udp s "$LAB_SERVER1" 3478 || ! lab_wait_udp s "$LAB_SERVER2" 3479 ||
		! lab_wait_udp s "$LAB_SERVER1" 4000 || ! lab_wait_udp s "$LAB_SERVER1" 5000 ||
		! lab_wait_udp s "$LAB_SERVER2" 6001; then
		fail "the servers did not start"
		lab_down
		continue
	fi

	run base "$GOOD"
	read -r base _ <<<"$(facts base)"
	if res=$(right base) && [ -n "${base:-}" ]; then
		pass
	else
		fail "baseline: $(printf '%s\n' "$res" | tr '\n' ';')"
		lab_down
		continue
	fi
	for m in dead closed ignore lie; do
		run "$m-good" "${BAD[$m]}" "$GOOD"
		check_failover "$m-good" 1 "$base"
	done
	run all "${BAD[dead]}" "${BAD[closed]}" "${BAD[ignore]}" "${BAD[lie]}" "$GOOD"
	check_failover all 4 "$base"

	# (A dead server alone is UDP Blocked: nothing at all came back, which
	# is all natcheck can know.)
	for m in closed ignore lie; do
		run "$m-alone" "${BAD[$m]}"
		if res=$(cautious "$m-alone"); then
			pass
		else
			fail "$m alone: a confident wrong verdict: $res"
		fi
	done
	# The liar is named, and nothing it said is believed.
	if python3 - "$LAB_TMP/lie-alone.json" <<-'EOF'
		import json, sys
		o = json.load(open(sys.argv[1]))
		s = o["servers"][0]
		sys.exit(0 if o["type"] == "unknown" and not s["trusted"]
		         and "response-origin-mismatch" in s["problems"] else 1)
	EOF
	then
		pass
	else
		fail "lie alone: not named untrusted: $(head -c 400 "$LAB_TMP/lie-alone.json")"
	fi
	lab_down
done

echo "lab-failover: $(($(date +%s) - START_S)) s"
lab_finish "$PASSED" "$FAILED"
