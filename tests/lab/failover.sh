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
# bad server before it, then all four before it: the verdict must be
# right, come from the good server, and be decided by the tests, not by -t
# (no timeout finding).  How much time each bad server costs is a
# performance figure: FAILOVER_REPORT=FILE appends one JSON line per run
# (its elapsed_ms and the baseline's), and bench/failover.sh judges it.
# Then each bad server alone but the dead one, each held to exactly what
# natcheck(1) makes certain:
#   closed   exit 1 and the line "natcheck: no STUN server at ADDR (port
#            unreachable)"; type, mapping and filtering unknown,
#            unreachable true;
#   ignore   its CHANGE-REQUEST answers are not trusted: filtering and so
#            the type unknown, but the mapping (its two addresses answer
#            plain requests) and the hairpinning are the lab's, exit 16;
#   lie      untrusted (response-origin-mismatch): nothing it said is used,
#            type, mapping and filtering unknown, hairpinning null, exit 16.
# Prints "N passed, M failed, K skipped".  Root only; skipped with one line
# otherwise (exit status 77, a skip).
#
# Environment: DELAY, FAILOVER_REPORT, LAB_SCENARIOS.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"

lab_script_init "$@"
DELAY=${DELAY:-10} REPORT=${FAILOVER_REPORT:-}
case "$DELAY" in
''|*[!0-9]*) echo "DELAY is an integer" >&2; exit 2 ;;
esac
if [ "$DELAY" -lt 1 ] || [ "$DELAY" -gt 200 ]; then
	echo "DELAY 1..200" >&2
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

# "ELAPSED SERVER TIMEOUT" from a run's JSON (TIMEOUT: 1 when a test ran
# into -t, a "timeout" finding), or nothing.
facts() {
	python3 - "$LAB_TMP/$1.json" <<-'EOF' 2>/dev/null
		import json, sys
		o = json.load(open(sys.argv[1]))
		timeout = any(f.get("code") == "timeout" for f in o.get("findings", []))
		print(int(o["elapsed_ms"]), o["server"], int(timeout))
	EOF
}

# right NAME: the verdict is the scenario's, exactly.
right() {
	python3 "$LAB_DIR/verdict.py" json "$LAB_TMP/$1.json" "$(cat "$LAB_TMP/$1.rc")" \
		"$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" "$SCN_HAIRPIN"
}

# alone NAME RC TYPE MAPPING FILTERING HAIRPIN [UNREACHABLE]: a bad server
# alone, exactly: exit status, the four facts, and "unreachable" (false
# unless given).
alone() {
	python3 - "$LAB_TMP/$1.json" "$(cat "$LAB_TMP/$1.rc")" "${@:2}" <<-'EOF'
		import json, sys
		path, rc, want_rc, t, m, f, h = sys.argv[1:8]
		unreach = sys.argv[8] if len(sys.argv) > 8 else "false"
		o = json.load(open(path))
		got = {"exit": rc, "type": o["type"], "mapping": o["mapping"], "filtering": o["filtering"],
		       "hairpinning": json.dumps(o["hairpinning"]), "unreachable": json.dumps(o["unreachable"])}
		want = {"exit": want_rc, "type": t, "mapping": m, "filtering": f, "hairpinning": h,
		        "unreachable": unreach}
		bad = [f"{k} {got[k]}, want {want[k]}" for k in want if got[k] != want[k]]
		print("; ".join(bad))
		sys.exit(1 if bad else 0)
	EOF
}

# report NAME NBAD BASE ELAPSED: one JSON line for bench/failover.sh.
report() {
	[ -n "$REPORT" ] || return 0
	printf '{"scenario":"%s","run":"%s","bad":%s,"base_ms":%s,"elapsed_ms":%s}\n' \
		"$LAB_SCENARIO" "$1" "$2" "$3" "${4:-null}" >>"$REPORT"
}

check_failover() {
	local name=$1 nbad=$2 base=$3 res elapsed server timeout
	if res=$(right "$name"); then
		pass
	else
		fail "$name: wrong verdict: $(printf '%s\n' "$res" | tr '\n' ';')"
		python3 "$LAB_DIR/verdict.py" tests "$LAB_TMP/$name.json"
	fi
	read -r elapsed server timeout <<<"$(facts "$name")"
	echo "   $name: elapsed ${elapsed:-?} ms (baseline $base ms), server ${server:-?}"
	if [ "${server:-}" = "$GOOD" ]; then pass; else fail "$name: verdict from ${server:-?}, not $GOOD"; fi
	# Semantic, not a timing: the failover ended the bad servers' tests,
	# -t did not.
	if [ "${timeout:-}" = 0 ]; then
		pass
	else
		fail "$name: tests ran into -t (a timeout finding) or no JSON"
	fi
	report "$name" "$nbad" "$base" "$elapsed"
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
	read -r base _ _ <<<"$(facts base)"
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
	done
	if res=$(alone closed-alone 1 unknown unknown unknown null true); then
		pass
	else
		fail "closed alone: $res"
	fi
	if grep -qxF "natcheck: no STUN server at ${BAD[closed]} (port unreachable)" \
		"$LAB_TMP/closed-alone.err"; then
		pass
	else
		fail "closed alone: no 'natcheck: no STUN server at ${BAD[closed]} (port unreachable)' line: $(head -c 300 "$LAB_TMP/closed-alone.err")"
	fi
	if res=$(alone ignore-alone 16 unknown "$SCN_MAPPING" unknown "$SCN_HAIRPIN"); then
		pass
	else
		fail "ignore alone: $res"
	fi
	if res=$(alone lie-alone 16 unknown unknown unknown null); then
		pass
	else
		fail "lie alone: $res"
	fi
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
