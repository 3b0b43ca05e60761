# tests/lab/lib6.sh - the IPv6 path beside the NAT lab's IPv4 one.
# shellcheck shell=bash disable=SC2034  # V6_* and the addresses are read by callers
#
# Source tests/lab/lib.sh first, then this file; after lab_up:
#   lab6_up                      addresses, routes and fixed neighbours for IPv6
#   lab6_rules V6_FUNCTION       the router's rules: the IPv4 scenario as
#                                `table ip lab`, the IPv6 tables of V6_FUNCTION
#   lab6_serve PORT              natcheck --serve ($NATCHECK) per family (lab
#                                processes srv4, srv6) on PORT and PORT + 1
# Each v6_NAME prints IPv6 tables and sets what a correct detector must say
# about them: V6_TYPE, V6_MAPPING, V6_FILTERING, V6_NAT (true, false, or
# null where nothing comes back).
# lab_wait_udp s "[ADDR]" PORT waits for an IPv6 listener.
#
#   client 2001:db8:1::10 -- 2001:db8:1::1 | router | 2001:db8:2::1 -- 2001:db8:2::fe
#                                                               server 2001:db8:3::1
#                                                                      2001:db8:3::2
#
# With a delay (lab_up's DELAY_MS) IPv6 crosses the same delay line as IPv4:
# tests/lab/delayer forwards Ethernet frames of any protocol.

C6=2001:db8:1::10
R6_IN=2001:db8:1::1
R6_OUT=2001:db8:2::1
S6_LINK=2001:db8:2::fe
S6_1=2001:db8:3::1
S6_2=2001:db8:3::2
NPT_PREFIX=2001:db8:5::/64

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
	V6_TYPE=udp-blocked V6_MAPPING=unknown V6_FILTERING=unknown V6_NAT=null
	_v6_fwd "iifname \"$LAB_IF_RO\" meta l4proto != udp accept"
}

# lab6_rules V6_FUNCTION: the whole router ruleset: lib.sh's base, the IPv4
# scenario confined to IPv4, the IPv6 tables of V6_FUNCTION (one of the
# v6_* above; it sets V6_* in this shell), and lab_up's loss, which drops
# both families alike.
lab6_rules() {
	local v6fn="$1" v4 v6
	v4=${SCN_RULES//table inet lab /table ip lab }
	v6=$("$v6fn")
	"$v6fn" >/dev/null              # sets V6_* in this shell
	printf '%s\n%s\n%s\n' "$(lab_base_rules)" "$v4" "$v6" > "$LAB_TMP/router6.nft"
	if [ "${LAB_LOSS:-0}" -gt 0 ]; then
		lab_loss_rules "$LAB_LOSS" >> "$LAB_TMP/router6.nft"
	fi
	lab_router nft -f "$LAB_TMP/router6.nft" ||
		{ lab_die "router rules rejected (see $LAB_TMP/router6.nft)"; return 1; }
}

# lab6_serve PORT: one natcheck --serve per family, 203.0.113.1,203.0.113.2
# (lab process srv4) and 2001:db8:3::1,2001:db8:3::2 (srv6), on PORT and
# PORT + 1; 0 once every address and port listens.  --rate 0: the lab runs
# client after client from one address, back to back (as peers.sh's
# natcheck), and a limited answer would read as loss.
lab6_serve() {
	local port="$1"
	lab_spawn srv4 s "$NATCHECK" --serve "$LAB_SERVER1,$LAB_SERVER2" -p "$port" \
		--alt-port $((port + 1)) --rate 0 &&
	lab_spawn srv6 s "$NATCHECK" --serve "$S6_1,$S6_2" -p "$port" --alt-port $((port + 1)) \
		--rate 0 &&
	lab_wait_udp s "$LAB_SERVER1" "$port" && lab_wait_udp s "$LAB_SERVER2" $((port + 1)) &&
	lab_wait_udp s "[$S6_1]" "$port" && lab_wait_udp s "[$S6_2]" $((port + 1))
}
