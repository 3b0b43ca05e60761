#!/usr/bin/env bash
# tests/lab/ipv6.sh NATCHECK - IPv6 and dual stack against real kernel
# firewalls and NAT66 (issue #11).
#
# Each case builds the IPv4 lab of one scenario (scenarios.sh) and adds an
# IPv6 path beside it, with its own behaviour in the same router:
#
#   client 2001:db8:1::10 -- 2001:db8:1::1 | router | 2001:db8:2::1 -- 2001:db8:2::fe
#                                                               server 2001:db8:3::1
#                                                                      2001:db8:3::2
#
# The scenario's `table inet lab` is loaded as `table ip lab`, so the two
# families never share a rule.  Two `natcheck --serve` processes answer, one
# per family (203.0.113.1,203.0.113.2 and 2001:db8:3::1,2001:db8:3::2).
# For every case natcheck runs once for both families (the servers given as
# 203.0.113.1 and [2001:db8:3::1]), and each family's verdict is checked,
# the top level being IPv4's; then -6 alone against natcheck --serve and
# against coturn's turnserver listening on the two IPv6 addresses.
#
# Environment: IPV6_CASES="a b ..." runs only those cases.
# Root only; skipped with one line otherwise (exit status 77, a skip).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/lab/lib6.sh
. "$here/lib6.sh"

lab_preflight ipv6 turnserver:coturn ss:iproute2 timeout:coreutils

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK (an executable natcheck)" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

C6_TEMP=2001:db8:1::7e57        # a second client address, as a privacy one
PORT=3478
CPORT=3480                      # coturn's, beside natcheck's
CASE=

PASSED=0 FAILED=0
FAIL_LINES=()
pass() { PASSED=$((PASSED + 1)); }
fail() {
	FAILED=$((FAILED + 1))
	FAIL_LINES+=("$CASE: $*")
	echo "FAIL $CASE: $*"
}

# Case: NAME IPV4_SCENARIO IPV6_RULES [DELAY_MS].  The IPv4 scenarios are
# chosen so that every case's two families get different verdicts (but
# nptv6 and udp-blocked6, where only one family translates).  A delay puts
# the lab's delay line on the client's wire (DELAY_MS each way): both
# families' datagrams must cross it, their checksums completed.
CASES=(
	"open6 port-restricted-cone v6_open"
	"firewall6-apd open v6_fw_apd"
	"firewall6-ad full-cone v6_fw_ad"
	"firewall6-ei symmetric v6_fw_ei"
	"nat66 open v6_nat66"
	"nat66-random full-cone v6_nat66_random"
	"nptv6 port-restricted-cone v6_nptv6"
	"udp-blocked6 open v6_udp_blocked"
	"firewall6-apd-delayed port-restricted-cone v6_fw_apd 50"
)

# check LABEL OUT RC KEY TYPE MAPPING FILTERING NAT
check() {
	local label="$1" out="$2" rc="$3" got
	shift 3
	if got=$(python3 "$here/family.py" "$out" "$rc" "$@"); then
		pass
		echo "ok   $CASE: $label: $(printf '%s' "$got" | head -n 1)"
	else
		fail "$label: $(printf '%s' "$got" | tr '\n' ';')"
	fi
}

run_case() {
	local name="$1" scn="$2" v6fn="$3" delay="${4:-0}" out rc
	CASE=$name
	lab_up "$scn" "$delay" || { fail "lab_up $scn failed"; return; }
	if ! lab6_up || ! lab6_rules "$v6fn"; then
		fail "IPv6 setup failed"
		lab_down
		return
	fi
	: >"$LAB_TMP/turn-empty.conf"
	rm -f "$LAB_TMP/turndb"
	lab_spawn coturn6 s turnserver -c "$LAB_TMP/turn-empty.conf" -L "$S6_1" -L "$S6_2" \
		-p "$CPORT" --alt-listening-port $((CPORT + 1)) \
		--stun-only --no-tcp --no-tls --no-dtls --no-cli --no-tcp-relay \
		--log-file "$LAB_TMP/turn6.log" --simple-log --no-stdout-log --userdb "$LAB_TMP/turndb"
	if ! lab6_serve "$PORT" || ! lab_wait_udp s "[$S6_1]" "$CPORT" ||
	    ! lab_wait_udp s "[$S6_2]" $((CPORT + 1)); then
		fail "servers did not start"
		lab_down
		return
	fi

	# Both families in one run; the top level is IPv4's.
	out="$LAB_TMP/$name-dual.json"
	lab_client timeout 60 "$NATCHECK" --json --no-portmap -t 5 "$LAB_SERVER1" "[$S6_1]" \
		>"$out" 2>"$LAB_TMP/$name-dual.err"
	rc=$?
	check "dual, ipv4 ($scn)" "$out" "$rc" ipv4 "$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" "$SCN_NAT"
	check "dual, ipv6" "$out" "$rc" ipv6 "$V6_TYPE" "$V6_MAPPING" "$V6_FILTERING" "$V6_NAT"
	check "dual, top level = IPv4" "$out" "$rc" top "$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" "$SCN_NAT"

	# -6 alone: the top level is IPv6's, and so is the exit status.
	out="$LAB_TMP/$name-6.json"
	lab_client timeout 60 "$NATCHECK" --json --no-portmap -6 -t 5 "[$S6_1]" \
		>"$out" 2>"$LAB_TMP/$name-6.err"
	rc=$?
	check "-6, natcheck --serve" "$out" "$rc" top "$V6_TYPE" "$V6_MAPPING" "$V6_FILTERING" "$V6_NAT"

	# -6 against coturn (RFC 5780 over IPv6).
	out="$LAB_TMP/$name-coturn.json"
	lab_client timeout 60 "$NATCHECK" --json --no-portmap -6 -t 5 "[$S6_1]:$CPORT" \
		>"$out" 2>"$LAB_TMP/$name-coturn.err"
	rc=$?
	check "-6, coturn" "$out" "$rc" top "$V6_TYPE" "$V6_MAPPING" "$V6_FILTERING" "$V6_NAT"

	# A second address, the one the kernel now picks towards the server
	# (as it picks a temporary privacy address): "no NAT" is decided
	# against the socket's real local address, not the interface's first.
	if [ "$V6_NAT" = false ]; then
		out="$LAB_TMP/$name-src.json"
		# The router's input drops neighbour discovery: a fixed entry.
		if lab_client ip addr add "$C6_TEMP/64" dev "$LAB_IF_C" nodad &&
		    lab_client ip route replace 2001:db8:3::/64 via "$R6_IN" src "$C6_TEMP" &&
		    lab_router ip neigh replace "$C6_TEMP" dev "$LAB_IF_RI" nud permanent \
			lladdr "$(lab_mac "$LAB_NS_C" "$LAB_IF_C")"; then
			lab_client timeout 60 "$NATCHECK" --json --no-portmap -6 -t 5 "[$S6_1]" \
				>"$out" 2>"$LAB_TMP/$name-src.err"
			rc=$?
			check "-6 from a second address" "$out" "$rc" top "$V6_TYPE" "$V6_MAPPING" \
				"$V6_FILTERING" false "$C6_TEMP"
		else
			fail "cannot add the second address"
		fi
	fi
	lab_down
}

for c in "${CASES[@]}"; do
	# shellcheck disable=SC2086  # three or four words
	set -- $c
	if [ -n "${IPV6_CASES:-}" ] && [[ " $IPV6_CASES " != *" $1 "* ]]; then
		continue
	fi
	run_case "$@"
done
lab_cleanup

for l in "${FAIL_LINES[@]}"; do
	echo "  FAIL $l"
done
printf "ipv6 lab: "
lab_finish "$PASSED" "$FAILED"
