#!/usr/bin/env bash
# tests/lab/single.sh NATCHECK - a one-address server against every NAT.
#
# Issue #14: `natcheck --serve A` with one address (two ports) advertises
# OTHER-ADDRESS with the same address and its other port.  From such a
# server the client can learn only what a change of port shows, and must
# say unknown for the rest.  For every scenario of scenarios.sh
# (LAB_SCENARIOS to choose), with DELAY ms each way on the client's wire,
# natcheck --serve 203.0.113.1 --rate 0 (3478/3479) and natcheck --json
# --no-portmap against it:
#   - never wrong: the type, the mapping and the filtering are each the
#     scenario's or unknown;
#   - right where a change of port can tell: the symmetric NAT (its mapping
#     depends on the port) is named symmetric, a port-dependent filter is
#     named address-and-port-dependent, and a path that blocks UDP is UDP
#     blocked.
# Prints "N passed, M failed".  Root only; skipped with one line otherwise
# (exit 1 when $CI is set).
#
# Environment: DELAY, LAB_SCENARIOS.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"

lab_script_init "$@"
DELAY=${DELAY:-10}
case $DELAY in ''|*[!0-9]*) echo "DELAY is an integer" >&2; exit 2 ;; esac
if [ "$DELAY" -lt 1 ] || [ "$DELAY" -gt 200 ]; then
	echo "DELAY 1..200" >&2
	exit 2
fi

PASSED=0 FAILED=0 START_S=$(date +%s)
pass() { PASSED=$((PASSED + 1)); }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $LAB_SCENARIO: $*"
}

# judge FILE RC: one line per problem, nothing when the run is right.
judge() {
	python3 - "$1" "$2" "$LAB_SCENARIO" "$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" <<-'EOF'
		import json, sys
		path, rc, scn, want_t, want_m, want_f = sys.argv[1:]
		try:
		    o = json.load(open(path))
		except (OSError, ValueError) as e:
		    print("no JSON (exit %s): %s" % (rc, e))
		    sys.exit(0)
		got = {"type": o.get("type"), "mapping": o.get("mapping"),
		       "filtering": o.get("filtering")}
		want = {"type": want_t, "mapping": want_m, "filtering": want_f}
		for k in ("type", "mapping", "filtering"):
		    if got[k] not in (want[k], "unknown"):
		        print("%s %s, the NAT is %s" % (k, got[k], want[k]))
		must = {}
		if scn == "symmetric":
		    must = {"type": "symmetric"}
		elif scn.startswith("port-restricted-cone"):
		    must = {"filtering": "address-and-port-dependent"}
		elif scn == "udp-blocked":
		    must = {"type": "udp-blocked"}
		for k, v in must.items():
		    if got[k] != v:
		        print("%s %s: a change of port shows it is %s" % (k, got[k], v))
		print("   %s: type %s, mapping %s, filtering %s, findings %s" % (
		    scn, got["type"], got["mapping"], got["filtering"],
		    ",".join(f.get("code", "?") for f in o.get("findings", []))), file=sys.stderr)
	EOF
}

for s in ${LAB_SCENARIOS:-$(scenario_list)}; do
	LAB_SCENARIO=$s
	if ! lab_up "$s" "$DELAY" 0; then
		fail "cannot build the lab"
		lab_down
		continue
	fi
	lab_spawn srv s "$NATCHECK" --serve "$LAB_SERVER1" --rate 0
	if ! lab_wait_udp s "$LAB_SERVER1" 3478 || ! lab_wait_udp s "$LAB_SERVER1" 3479; then
		fail "natcheck --serve $LAB_SERVER1 did not start"
		lab_down
		continue
	fi
	out="$LAB_TMP/single.json"
	lab_client timeout 30 "$NATCHECK" --json --no-portmap "$LAB_SERVER1:3478" \
		>"$out" 2>"$LAB_TMP/single.err"
	rc=$?
	problems=$(judge "$out" "$rc")
	if [ -z "$problems" ]; then
		pass
	else
		while IFS= read -r line; do fail "$line"; done <<<"$problems"
	fi
	lab_down
done

echo "lab-single: $(($(date +%s) - START_S)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
