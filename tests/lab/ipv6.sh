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
# Root only; skipped with one line otherwise (exit 1 when $CI is set).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"

lab_preflight ipv6 turnserver:coturn ss:iproute2 timeout:coreutils

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK (an executable natcheck)" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

C6=2001:db8:1::10
C6_TEMP=2001:db8:1::7e57        # a second client address, as a privacy one
R6_IN=2001:db8:1::1
R6_OUT=2001:db8:2::1
S6_LINK=2001:db8:2::fe
S6_1=2001:db8:3::1
S6_2=2001:db8:3::2
NPT_PREFIX=2001:db8:5::/64
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

# ---------------------------------------------------------------- topology

# IPv6 on in namespace $1 (lib.sh turns it off), without router
# advertisements or autoconfiguration.
lab6_enable() {
	local ns="$1" ifs i
	ifs=$(ip -n "$ns" -o link show | sed -n 's/^[0-9]*: \([^:@]*\).*/\1/p')
	for i in all default $ifs; do
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$i.accept_ra=0" "net.ipv6.conf.$i.autoconf=0" \
			"net.ipv6.conf.$i.disable_ipv6=0" >/dev/null || return 1
	done
}

# The IPv6 addresses, routes and fixed neighbour entries (no neighbour
# discovery round trip before the first datagram), beside the IPv4 lab.
lab6_up() {
	local ns mc mri mro ms
	for ns in "$LAB_NS_C" "$LAB_NS_R" "$LAB_NS_S"; do
		lab6_enable "$ns" || { lab_die "cannot enable IPv6 in $ns"; return 1; }
	done
	mc=$(lab_mac "$LAB_NS_C" "$LAB_IF_C") mri=$(lab_mac "$LAB_NS_R" "$LAB_IF_RI")
	mro=$(lab_mac "$LAB_NS_R" "$LAB_IF_RO") ms=$(lab_mac "$LAB_NS_S" "$LAB_IF_S")
	{
		ip -n "$LAB_NS_C" addr add "$C6/64" dev "$LAB_IF_C" nodad &&
		ip -n "$LAB_NS_C" route add 2001:db8:2::/64 via "$R6_IN" &&
		ip -n "$LAB_NS_C" route add 2001:db8:3::/64 via "$R6_IN" &&
		ip -n "$LAB_NS_R" addr add "$R6_IN/64" dev "$LAB_IF_RI" nodad &&
		ip -n "$LAB_NS_R" addr add "$R6_OUT/64" dev "$LAB_IF_RO" nodad &&
		ip -n "$LAB_NS_R" route add 2001:db8:3::/64 via "$S6_LINK" &&
		ip netns exec "$LAB_NS_R" sysctl -qw net.ipv6.conf.all.forwarding=1 &&
		ip -n "$LAB_NS_S" addr add "$S6_LINK/64" dev "$LAB_IF_S" nodad &&
		ip -n "$LAB_NS_S" addr add "$S6_1/128" dev "$LAB_IF_S" nodad &&
		ip -n "$LAB_NS_S" addr add "$S6_2/128" dev "$LAB_IF_S" nodad &&
		ip -n "$LAB_NS_S" route add 2001:db8:1::/64 via "$R6_OUT" &&
		ip -n "$LAB_NS_S" route add "$NPT_PREFIX" via "$R6_OUT" &&
		ip -n "$LAB_NS_C" neigh replace "$R6_IN" lladdr "$mri" dev "$LAB_IF_C" nud permanent &&
		ip -n "$LAB_NS_R" neigh replace "$C6" lladdr "$mc" dev "$LAB_IF_RI" nud permanent &&
		ip -n "$LAB_NS_R" neigh replace "$S6_LINK" lladdr "$ms" dev "$LAB_IF_RO" nud permanent &&
		ip -n "$LAB_NS_S" neigh replace "$R6_OUT" lladdr "$mro" dev "$LAB_IF_S" nud permanent
	} >/dev/null || { lab_die "cannot configure IPv6"; return 1; }
}

# ---------------------------------------------------------------- IPv6 rules

# Each v6_NAME prints the router's IPv6 tables and sets what a correct
# detector must say about them: V6_TYPE, V6_MAPPING, V6_FILTERING, V6_NAT.
_v6_fwd() {
	cat <<-EOF
		table ip6 lab6 {
			chain forward {
				type filter hook forward priority 0; policy drop;
				iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" accept
				$1
			}
		}
	EOF
}

# No NAT, no filter.
v6_open() {
	V6_TYPE=open V6_MAPPING=endpoint-independent V6_FILTERING=endpoint-independent V6_NAT=false
	_v6_fwd "iifname \"$LAB_IF_RO\" accept"
}

# No NAT, stateful firewall: only replies from where the client sent to.
v6_fw_apd() {
	V6_TYPE=symmetric-udp-firewall V6_MAPPING=endpoint-independent
	V6_FILTERING=address-and-port-dependent V6_NAT=false
	_v6_fwd "iifname \"$LAB_IF_RO\" ct state established,related accept"
}

# A firewall without NAT that lets a datagram in when its key is in a set
# filled (and refreshed, 3 minutes) by the client's outbound datagrams:
# _v6_set_fwd TYPE OUT_KEY IN_KEY.
_v6_set_fwd() {
	cat <<-EOF
		table ip6 lab6 {
			set sent {
				type $1
				flags dynamic, timeout
				timeout 3m
				size 65536
			}
			chain forward {
				type filter hook forward priority 0; policy drop;
				iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" meta l4proto udp update @sent { $2 } accept
				iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" accept
				iifname "$LAB_IF_RO" oifname "$LAB_IF_RI" meta l4proto udp $3 @sent accept
			}
		}
	EOF
}

# No NAT, a firewall that lets in any port of an address the client's
# address:port has sent to.
v6_fw_ad() {
	V6_TYPE=symmetric-udp-firewall V6_MAPPING=endpoint-independent
	V6_FILTERING=address-dependent V6_NAT=false
	_v6_set_fwd "ipv6_addr . inet_service . ipv6_addr" "ip6 saddr . udp sport . ip6 daddr" \
		"ip6 daddr . udp dport . ip6 saddr"
}

# No NAT, a firewall that lets anything in to a local address:port that has
# sent out: endpoint-independent filtering, which RFC 3489 calls Open
# Internet (Test II is answered).
v6_fw_ei() {
	V6_TYPE=open V6_MAPPING=endpoint-independent V6_FILTERING=endpoint-independent V6_NAT=false
	_v6_set_fwd "ipv6_addr . inet_service" "ip6 saddr . udp sport" "ip6 daddr . udp dport"
}

# Stateful NAT66 of the inside prefix on the way out, replies only back in:
# _v6_nat66 SNAT_STATEMENT.
_v6_nat66() {
	_v6_fwd "iifname \"$LAB_IF_RO\" ct state established,related accept"
	cat <<-EOF
		table ip6 lab6nat {
			chain post {
				type nat hook postrouting priority 100; policy accept;
				oifname "$LAB_IF_RO" ip6 saddr 2001:db8:1::/64 $1
			}
		}
	EOF
}

# NAT66 masquerade to the router's outside address, ports kept: Linux's
# port-restricted cone.
v6_nat66() {
	V6_TYPE=port-restricted-cone V6_MAPPING=endpoint-independent
	V6_FILTERING=address-and-port-dependent V6_NAT=true
	_v6_nat66 masquerade
}

# NAT66 with a random port for every new flow: symmetric.
v6_nat66_random() {
	V6_TYPE=symmetric V6_MAPPING=address-and-port-dependent
	V6_FILTERING=address-and-port-dependent V6_NAT=true
	_v6_nat66 "meta l4proto udp snat to [$R6_OUT]:1024-65535 fully-random"
}

# NPTv6 (RFC 6296): the inside prefix is rewritten 1:1 to 2001:db8:5::/64
# both ways, no filter: a NAT with endpoint-independent mapping and
# filtering, a full cone.
v6_nptv6() {
	V6_TYPE=full-cone V6_MAPPING=endpoint-independent V6_FILTERING=endpoint-independent
	V6_NAT=true
	_v6_fwd "iifname \"$LAB_IF_RO\" accept"
	cat <<-EOF
		table ip6 lab6nat {
			chain pre {
				type nat hook prerouting priority -100; policy accept;
				iifname "$LAB_IF_RO" ip6 daddr $NPT_PREFIX dnat ip6 prefix to 2001:db8:1::/64
			}
			chain post {
				type nat hook postrouting priority 100; policy accept;
				oifname "$LAB_IF_RO" ip6 saddr 2001:db8:1::/64 snat ip6 prefix to $NPT_PREFIX
			}
		}
	EOF
}

# UDP blocked over IPv6 only.
v6_udp_blocked() {
	V6_TYPE=udp-blocked V6_MAPPING=unknown V6_FILTERING=unknown V6_NAT=any
	_v6_fwd "iifname \"$LAB_IF_RO\" meta l4proto != udp accept"
}

# Case: NAME IPV4_SCENARIO IPV6_RULES.  The IPv4 scenarios are chosen so
# that every case's two families get different verdicts (but the last
# two, where only one family translates).
CASES=(
	"open6 port-restricted-cone v6_open"
	"firewall6-apd open v6_fw_apd"
	"firewall6-ad full-cone v6_fw_ad"
	"firewall6-ei symmetric v6_fw_ei"
	"nat66 open v6_nat66"
	"nat66-random full-cone v6_nat66_random"
	"nptv6 port-restricted-cone v6_nptv6"
	"udp-blocked6 open v6_udp_blocked"
)

# The whole router ruleset: lib.sh's base, the IPv4 scenario confined to
# IPv4, and the case's IPv6 tables.
load_rules() {
	local v6fn="$1" v4 v6
	v4=${SCN_RULES//table inet lab /table ip lab }
	v6=$("$v6fn")
	"$v6fn" >/dev/null              # sets V6_* in this shell
	printf '%s\n%s\n%s\n' "$(lab_base_rules)" "$v4" "$v6" > "$LAB_TMP/router6.nft"
	lab_router nft -f "$LAB_TMP/router6.nft" ||
		{ lab_die "router rules rejected (see $LAB_TMP/router6.nft)"; return 1; }
}

# wait_udp6 ADDR PORT: something listens there in the server namespace.
wait_udp6() {
	local _
	for _ in $(seq 1 50); do
		lab_server ss -Hlun "src [$1]:$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	lab_die "nothing listens on [$1]:$2"
}

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
	local name="$1" scn="$2" v6fn="$3" out rc
	CASE=$name
	lab_up "$scn" || { fail "lab_up $scn failed"; return; }
	if ! lab6_up || ! load_rules "$v6fn"; then
		fail "IPv6 setup failed"
		lab_down
		return
	fi
	lab_spawn srv4 s "$NATCHECK" --serve "$LAB_SERVER1,$LAB_SERVER2" -p "$PORT" --alt-port $((PORT + 1))
	lab_spawn srv6 s "$NATCHECK" --serve "$S6_1,$S6_2" -p "$PORT" --alt-port $((PORT + 1))
	: >"$LAB_TMP/turn-empty.conf"
	rm -f "$LAB_TMP/turndb"
	lab_spawn coturn6 s turnserver -c "$LAB_TMP/turn-empty.conf" -L "$S6_1" -L "$S6_2" \
		-p "$CPORT" --alt-listening-port $((CPORT + 1)) \
		--stun-only --no-tcp --no-tls --no-dtls --no-cli --no-tcp-relay \
		--log-file "$LAB_TMP/turn6.log" --simple-log --no-stdout-log --userdb "$LAB_TMP/turndb"
	if ! lab_wait_udp s "$LAB_SERVER1" "$PORT" || ! wait_udp6 "$S6_1" "$PORT" ||
	    ! wait_udp6 "$S6_2" $((PORT + 1)) || ! wait_udp6 "$S6_1" "$CPORT" ||
	    ! wait_udp6 "$S6_2" $((CPORT + 1)); then
		fail "servers did not start"
		lab_down
		return
	fi

	# Both families in one run; the top level is IPv4's.
	out="$LAB_TMP/$name-dual.json"
	lab_client timeout 60 "$NATCHECK" --json --no-portmap -t 5 "$LAB_SERVER1" "[$S6_1]" \
		>"$out" 2>"$LAB_TMP/$name-dual.err"
	rc=$?
	check "dual, ipv4 ($scn)" "$out" "$rc" ipv4 "$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" any
	check "dual, ipv6" "$out" "$rc" ipv6 "$V6_TYPE" "$V6_MAPPING" "$V6_FILTERING" "$V6_NAT"
	check "dual, top level = IPv4" "$out" "$rc" top "$SCN_TYPE" "$SCN_MAPPING" "$SCN_FILTERING" any

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
	# shellcheck disable=SC2086  # three words
	set -- $c
	if [ -n "${IPV6_CASES:-}" ] && [[ " $IPV6_CASES " != *" $1 "* ]]; then
		continue
	fi
	run_case "$1" "$2" "$3"
done
lab_cleanup

echo "ipv6 lab: $PASSED passed, $FAILED failed"
for l in "${FAIL_LINES[@]}"; do
	echo "  FAIL $l"
done
[ "$FAILED" = 0 ]
