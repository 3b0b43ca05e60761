#!/usr/bin/env bash
# tests/lab/single.sh NATCHECK - a one-address server against every NAT,
# asked by natcheck, Debian's `stun` and coturn's turnutils_natdiscovery.
#
# Issue #14: `natcheck --serve A` with one address (two ports) names its
# other port, with the same address, in OTHER-ADDRESS only to a request
# that carries CHANGE-REQUEST; a bare request gets no OTHER-ADDRESS (RFC
# 5780 section 6).  natcheck asks (ask-other-address) and learns only what
# a change of port shows, and must say unknown for the rest.  For every
# scenario of scenarios.sh (LAB_SCENARIOS to choose), with DELAY ms each
# way on the client's wire, natcheck --serve 203.0.113.1 --rate 0
# (3478/3479), and against it:
#   natcheck --json --no-portmap, held exactly to what natcheck(1) says a
#   change of port shows (the alternate-port-only finding), derived from
#   the scenario's truth:
#     - mapping: address-and-port-dependent where it changes with the port,
#       else unknown (endpoint-independent and address-dependent look
#       alike through one IP);
#     - filtering: address-and-port-dependent where a change of port is
#       blocked, else unknown (the same);
#     - type: udp-blocked where nothing passes, symmetric for a mapping
#       that changes with the port, symmetric-udp-firewall without NAT and
#       with a blocked change of port, else unknown; the exit status
#       that type's;
#     - hairpinning: true where the NAT hairpins (seen directly), else null
#       (no NAT, or a mapping not known to be endpoint-independent, where
#       "no" cannot be concluded);
#     - it asked: the port tests ran against the other port the server
#       named when asked (alternate 203.0.113.1:3479, ask-other-address
#       answered) wherever UDP passes.
#   stun (RFC 3489) fails visibly everywhere: "Blocked or could not reach
#     STUN server".  The server drops an RFC 3489 CHANGE-REQUEST when it has
#     one address (server.h): stun counts any reply to its change-IP test,
#     a 420 too, as an open filter, and cannot see a mapping change through
#     one IP, so any answer would make it name every NAT's mapping
#     endpoint-independent.
#   turnutils_natdiscovery -m -f (RFC 5780) names no mapping and no
#     filtering behaviour anywhere: its test I (a bare Binding request) gets
#     no OTHER-ADDRESS, so both its runs stop there.  Where UDP passes it
#     must have been answered (a "UDP reflexive addr" line), so the silence
#     is the server's doing, not the path's.  Given the same-IP
#     OTHER-ADDRESS it called every NAT endpoint-independent.
# Each client runs in every scenario: stun takes about a second, and
# natdiscovery too (6 s where UDP is blocked: two 3-second timeouts).
# Prints "N passed, M failed, K skipped".  Root only; skipped with one line
# otherwise (exit status 77, a skip).
#
# Environment: DELAY, LAB_SCENARIOS.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/lab/clients.sh
. "$here/clients.sh"

lab_preflight "lab single" stun:stun-client turnutils_natdiscovery:coturn timeout:coreutils
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
	python3 - "$1" "$2" "$LAB_SCENARIO" "$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" \
		"$SCN_HAIRPIN" "$SCN_NAT" "$LAB_SERVER1:3479" <<-'EOF'
		import json, sys
		path, rc, scn, s_type, s_map, s_filt, s_hair, s_nat, alt = sys.argv[1:]
		try:
		    o = json.load(open(path))
		except (OSError, ValueError) as e:
		    print("no JSON (exit %s): %s" % (rc, e))
		    sys.exit(0)
		apd = "address-and-port-dependent"
		# What one IP with two ports can show (natcheck(1), alternate-port-only).
		m = apd if s_map == apd else "unknown"
		f = apd if s_filt == apd else "unknown"
		if s_type == "udp-blocked":
		    t = "udp-blocked"
		elif m == apd:
		    t = "symmetric"
		elif s_nat == "false" and f == apd:
		    t = "symmetric-udp-firewall"
		else:
		    t = "unknown"
		want = {"type": t, "mapping": m, "filtering": f,
		        "hairpinning": True if s_hair == "true" else None}
		codes = {"open": 0, "full-cone": 10, "restricted-cone": 11, "port-restricted-cone": 12,
		         "symmetric": 13, "symmetric-udp-firewall": 14, "udp-blocked": 15, "unknown": 16}
		got = {k: o.get(k) for k in want}
		for k in want:
		    if got[k] != want[k]:
		        print("%s %s, want %s (the NAT: %s %s %s)" % (k, json.dumps(got[k]), json.dumps(want[k]),
		                                                     s_type, s_map, s_filt))
		if int(rc) != codes[t]:
		    print("exit status %s, want %d (%s)" % (rc, codes[t], t))
		# It asked for the alternate and used the port the server named.
		if s_type != "udp-blocked":
		    res = {t.get("name"): t for t in o.get("tests", [])}
		    ask = res.get("ask-other-address")
		    if not ask or ask.get("result") != "answered" or ask.get("change_request") != "none":
		        print("ask-other-address %s" % (ask and ask.get("result")))
		    if o.get("alternate") != alt:
		        print("alternate %s, want %s" % (o.get("alternate"), alt))
		print("   %s: type %s, mapping %s, filtering %s, hairpinning %s, findings %s" % (
		    scn, got["type"], got["mapping"], got["filtering"], json.dumps(got["hairpinning"]),
		    ",".join(f.get("code", "?") for f in o.get("findings", []))), file=sys.stderr)
	EOF
}

# peers: stun and turnutils_natdiscovery against the server, each held to
# what the header says.
peers() {
	local line out got want
	line=$(clients_stun "$LAB_NS_C" "$LAB_SERVER1")
	echo "   $LAB_SCENARIO: stun: $line"
	case "$line" in
	"Blocked or could not reach STUN server"*) pass ;;
	*) fail "stun said '$line': against one address it must fail, not name a NAT" ;;
	esac
	out=$(clients_natdisc "$LAB_NS_C" "$LAB_SERVER1")
	got=$(clients_rfc5780 "$out")
	# No behaviour line at all, whatever its wording.
	if printf '%s\n' "$out" | grep -Eq 'Mapping!|Filtering!|No NAT|Behavior:|Independent|Dependent'; then
		got="$got, with a behaviour line"
	fi
	if [ "$SCN_TYPE" != udp-blocked ]; then
		case "$out" in
		*"UDP reflexive addr"*) ;;
		*) got="$got, never answered" ;;
		esac
	fi
	want="unknown unknown"
	echo "   $LAB_SCENARIO: turnutils_natdiscovery: mapping and filtering $got" \
		"(the NAT: $SCN_MAPPING $SCN_FILTERING)"
	if [ "$got" = "$want" ]; then
		pass
	else
		fail "turnutils_natdiscovery said '$got', want '$want' (see the header)"
		printf '%s\n' "$out" | sed 's/^/      /'
	fi
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
	peers
	lab_down
done

echo "lab-single: $(($(date +%s) - START_S)) s"
lab_finish "$PASSED" "$FAILED"
