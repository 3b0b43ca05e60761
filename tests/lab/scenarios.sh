# tests/lab/scenarios.sh - one function per NAT behaviour the lab builds.
# shellcheck shell=bash disable=SC2034  # SCN_* are read by lib.sh and callers
#
# Each scn_NAME sets:
#   SCN_RULES          the router's nftables tables (after lib.sh's base rules;
#                      $LAB_IF_RI is the inside interface, $LAB_IF_RO the outside)
#   SCN_ROUTE_INSIDE   1: no NAT, the server ns routes 192.0.2.0/24 to the router
#   SCN_PUBLIC2        1: the router also owns 198.51.100.2
# and what a correct detector must say about it:
#   SCN_TYPE           natcheck's JSON "type"
#   SCN_MAPPING        "mapping"   (RFC 5780 section 4.3)
#   SCN_FILTERING      "filtering" (RFC 5780 section 4.4)
#   SCN_HAIRPIN        "hairpinning": true / false / null (null: no NAT, or a
#                      destination-dependent mapping, where the hairpin test
#                      cannot be observed)
#   SCN_NAT            "nat": true behind a NAT, false without one, null where
#                      UDP is blocked (no mapped address); scenario_load
#                      derives it
#   SCN_STUN           the verdict line of Debian's RFC 3489 `stun` client
#   SCN_STUN_HAIRPIN   its hairpin remark, for NATs with an independent mapping
#
# The NATs with an endpoint-independent mapping keep the client's port
# (no other flow competes for it); the lab's self-check asserts that through
# `stun`'s "preserves ports".  The hairpinning variants depend on it: they
# send a datagram addressed to a public address:port to the client's own
# address with the same port.

# The scenarios run.sh and single.sh go through by default.
scenario_list() {
	echo open full-cone full-cone-hairpin restricted-cone restricted-cone-hairpin \
		port-restricted-cone port-restricted-cone-hairpin symmetric \
		address-dependent-mapping symmetric-udp-firewall udp-blocked
}

# More scenarios any script may name (lab_up accepts them); not in the
# default set.  symmetric-sequential is the two-site lab's (pair.sh)
# sequential-port NAT.
scenario_list_extra() {
	echo symmetric-sequential
}

scenario_exists() {
	local s
	for s in $(scenario_list) $(scenario_list_extra); do
		[ "$s" = "$1" ] && return 0
	done
	return 1
}

scenario_load() {
	SCN_RULES='' SCN_ROUTE_INSIDE=0 SCN_PUBLIC2=0
	SCN_TYPE='' SCN_MAPPING='' SCN_FILTERING='' SCN_HAIRPIN=null
	SCN_STUN='' SCN_STUN_HAIRPIN=''
	scenario_exists "$1" || return 1
	"scn_${1//-/_}" || return 1
	if [ "$SCN_TYPE" = udp-blocked ]; then
		SCN_NAT=null
	elif [ "$SCN_ROUTE_INSIDE" = 1 ]; then
		SCN_NAT=false
	else
		SCN_NAT=true
	fi
}

# ---------------------------------------------------------------- pieces

# Outbound always passes; inbound only as the scenario allows.
_fwd_head() {
	cat <<-EOF
		table inet lab {
			chain forward {
				type filter hook forward priority 0; policy drop;
				iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" accept
	EOF
}

# 1:1 NAT of the client on 198.51.100.1: every port of the public address
# leads to the same port of the client, and the client's datagrams leave
# from it with their port kept.  Endpoint-independent mapping.
_one_to_one() {
	cat <<-EOF
		table ip labnat {
			chain pre {
				type nat hook prerouting priority -100; policy accept;
				iifname "$LAB_IF_RO" ip daddr $LAB_PUBLIC1 dnat to $LAB_CLIENT
			}
			chain post {
				type nat hook postrouting priority 100; policy accept;
				oifname "$LAB_IF_RO" ip saddr $LAB_CLIENT snat to $LAB_PUBLIC1
			}
		}
	EOF
}

# Hairpinning: a datagram from inside to the public address turns around
# to the client's same port, its source rewritten to the public address so
# the receiver sees the sender's mapping (RFC 4787 section 6).
_hairpin() {
	cat <<-EOF
		table ip labhair {
			chain pre {
				type nat hook prerouting priority -100; policy accept;
				iifname "$LAB_IF_RI" ip daddr $LAB_PUBLIC1 dnat to $LAB_CLIENT
			}
			chain post {
				type nat hook postrouting priority 100; policy accept;
				oifname "$LAB_IF_RI" ip saddr 192.0.2.0/24 ct status dnat snat to $LAB_PUBLIC1
			}
		}
	EOF
}

# In the lab's main forward chain: hairpinned datagrams pass.
_hairpin_forward() {
	printf '\t\tiifname "%s" oifname "%s" accept\n' "$LAB_IF_RI" "$LAB_IF_RI"
}

# ---------------------------------------------------------------- scenarios

# No NAT, no filter: the client's own address is public.
scn_open() {
	SCN_ROUTE_INSIDE=1
	SCN_TYPE=open SCN_MAPPING=endpoint-independent SCN_FILTERING=endpoint-independent
	SCN_HAIRPIN=null SCN_STUN="Open"
	SCN_RULES=$(cat <<-EOF
		table inet lab {
			chain forward {
				type filter hook forward priority 0; policy accept;
			}
		}
	EOF
	)
}

# No NAT, stateful filter: only replies from where the client sent to.
scn_symmetric_udp_firewall() {
	SCN_ROUTE_INSIDE=1
	SCN_TYPE=symmetric-udp-firewall SCN_MAPPING=endpoint-independent
	SCN_FILTERING=address-and-port-dependent SCN_HAIRPIN=null SCN_STUN="Firewall"
	SCN_RULES=$(cat <<-EOF
		$(_fwd_head)
				iifname "$LAB_IF_RO" ct state established,related accept
			}
		}
	EOF
	)
}

# No UDP crosses the router at all.
scn_udp_blocked() {
	SCN_ROUTE_INSIDE=1
	SCN_TYPE=udp-blocked SCN_MAPPING=unknown SCN_FILTERING=unknown SCN_HAIRPIN=null
	SCN_STUN="Blocked"
	SCN_RULES=$(cat <<-EOF
		table inet lab {
			chain forward {
				type filter hook forward priority 0; policy accept;
				meta l4proto udp drop
			}
		}
	EOF
	)
}

# Full cone: 1:1 NAT, anything to the public address reaches the client.
_full_cone() {
	SCN_TYPE=full-cone SCN_MAPPING=endpoint-independent SCN_FILTERING=endpoint-independent
	SCN_STUN="Independent Mapping, Independent Filter"
	SCN_RULES=$(cat <<-EOF
		$(_fwd_head)
				iifname "$LAB_IF_RO" oifname "$LAB_IF_RI" ip daddr $LAB_CLIENT accept
		$(if [ "${1:-}" = hairpin ]; then _hairpin_forward; fi)
			}
		}
		$(_one_to_one)
		$(if [ "${1:-}" = hairpin ]; then _hairpin; fi)
	EOF
	)
}
scn_full_cone() {
	_full_cone
	SCN_HAIRPIN=false SCN_STUN_HAIRPIN="no hairpin"
}
scn_full_cone_hairpin() {
	_full_cone hairpin
	SCN_HAIRPIN=true SCN_STUN_HAIRPIN="will hairpin"
}

# Restricted cone: the 1:1 NAT, but a datagram from outside passes only if
# the mapping it is addressed to has sent to its source address before, from
# any port.  The dynamic set holds (inside address, inside port, remote
# address) - one entry per mapping and contacted address, refreshed by
# every outbound datagram - so the filter of one mapping is never opened by
# another mapping's traffic.
_restricted_cone() {
	SCN_TYPE=restricted-cone SCN_MAPPING=endpoint-independent SCN_FILTERING=address-dependent
	SCN_STUN="Independent Mapping, Address Dependent Filter"
	SCN_RULES=$(cat <<-EOF
		table inet lab {
			set contacted {
				type ipv4_addr . inet_service . ipv4_addr
				flags dynamic, timeout
				timeout 3m
				size 65536
			}
			chain forward {
				type filter hook forward priority 0; policy drop;
				iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" meta l4proto udp update @contacted { ip saddr . udp sport . ip daddr } accept
				iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" accept
				iifname "$LAB_IF_RO" oifname "$LAB_IF_RI" meta l4proto udp ip daddr . udp dport . ip saddr @contacted accept
				iifname "$LAB_IF_RO" oifname "$LAB_IF_RI" meta l4proto != udp ct state established,related accept
		$(if [ "${1:-}" = hairpin ]; then _hairpin_forward; fi)
			}
		}
		$(_one_to_one)
		$(if [ "${1:-}" = hairpin ]; then _hairpin; fi)
	EOF
	)
}
scn_restricted_cone() {
	_restricted_cone
	SCN_HAIRPIN=false SCN_STUN_HAIRPIN="no hairpin"
}
scn_restricted_cone_hairpin() {
	_restricted_cone hairpin
	SCN_HAIRPIN=true SCN_STUN_HAIRPIN="will hairpin"
}

# Port-restricted cone: Linux's ordinary masquerade.  Only conntrack lets
# datagrams in (a reply from exactly the address and port sent to); the
# port is kept, and since the reply tuple differs per destination the same
# port is kept towards every destination: endpoint-independent mapping.
_port_restricted_cone() {
	SCN_TYPE=port-restricted-cone SCN_MAPPING=endpoint-independent
	SCN_FILTERING=address-and-port-dependent
	SCN_STUN="Independent Mapping, Port Dependent Filter"
	SCN_RULES=$(cat <<-EOF
		$(_fwd_head)
				iifname "$LAB_IF_RO" oifname "$LAB_IF_RI" ct state established,related accept
		$(if [ "${1:-}" = hairpin ]; then _hairpin_forward; fi)
			}
		}
		table ip labnat {
			chain post {
				type nat hook postrouting priority 100; policy accept;
				oifname "$LAB_IF_RO" ip saddr 192.0.2.0/24 masquerade
			}
		}
		$(if [ "${1:-}" = hairpin ]; then _hairpin; fi)
	EOF
	)
}
scn_port_restricted_cone() {
	_port_restricted_cone
	SCN_HAIRPIN=false SCN_STUN_HAIRPIN="no hairpin"
}
scn_port_restricted_cone_hairpin() {
	_port_restricted_cone hairpin
	SCN_HAIRPIN=true SCN_STUN_HAIRPIN="will hairpin"
}

# Symmetric: every new UDP flow gets a public port of its own, so the
# mapping changes with the destination address and port; only replies come
# in.  _symmetric's argument is how the port is chosen: what follows `snat`.
_symmetric() {
	SCN_TYPE=symmetric SCN_MAPPING=address-and-port-dependent
	SCN_FILTERING=address-and-port-dependent SCN_HAIRPIN=null
	SCN_STUN="Dependent Mapping"
	SCN_RULES=$(cat <<-EOF
		$(_fwd_head)
				iifname "$LAB_IF_RO" oifname "$LAB_IF_RI" ct state established,related accept
			}
		}
		table ip labnat {
			chain post {
				type nat hook postrouting priority 100; policy accept;
				oifname "$LAB_IF_RO" ip saddr 192.0.2.0/24 meta l4proto udp snat $1
				oifname "$LAB_IF_RO" ip saddr 192.0.2.0/24 snat to $LAB_PUBLIC1
			}
		}
	EOF
	)
}

# A random port for every new flow.
scn_symmetric() {
	_symmetric "to $LAB_PUBLIC1:1024-65535 fully-random"
}

# Address-dependent mapping: traffic to 203.0.113.1 leaves from
# 198.51.100.1, everything else from 198.51.100.2, each with the client's
# port kept - so both ports of one server address see one mapping, the two
# server addresses see two.  Filtering is address-dependent per mapping: a
# public address:port accepts any port of an address that this mapping
# (public address, inside port) has sent to.  One set per public address;
# a new inbound flow's `ct original ip daddr` is the public address it was
# sent to, before the DNAT.  Replies to the client's own flows pass by
# conntrack.
scn_address_dependent_mapping() {
	SCN_PUBLIC2=1
	SCN_TYPE=symmetric SCN_MAPPING=address-dependent SCN_FILTERING=address-dependent
	SCN_HAIRPIN=null SCN_STUN="Dependent Mapping"
	SCN_RULES=$(cat <<-EOF
		table inet lab {
			set via1 {
				type ipv4_addr . inet_service . ipv4_addr
				flags dynamic, timeout
				timeout 3m
				size 65536
			}
			set via2 {
				type ipv4_addr . inet_service . ipv4_addr
				flags dynamic, timeout
				timeout 3m
				size 65536
			}
			chain forward {
				type filter hook forward priority 0; policy drop;
				iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" meta l4proto udp ip daddr $LAB_SERVER1 update @via1 { ip saddr . udp sport . ip daddr } accept
				iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" meta l4proto udp ip daddr != $LAB_SERVER1 update @via2 { ip saddr . udp sport . ip daddr } accept
				iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" accept
				iifname "$LAB_IF_RO" oifname "$LAB_IF_RI" ct state established,related accept
				iifname "$LAB_IF_RO" oifname "$LAB_IF_RI" meta l4proto udp ct original ip daddr $LAB_PUBLIC1 ip daddr . udp dport . ip saddr @via1 accept
				iifname "$LAB_IF_RO" oifname "$LAB_IF_RI" meta l4proto udp ct original ip daddr $LAB_PUBLIC2 ip daddr . udp dport . ip saddr @via2 accept
			}
		}
		table ip labnat {
			chain pre {
				type nat hook prerouting priority -100; policy accept;
				iifname "$LAB_IF_RO" ip daddr { $LAB_PUBLIC1, $LAB_PUBLIC2 } dnat to $LAB_CLIENT
			}
			chain post {
				type nat hook postrouting priority 100; policy accept;
				oifname "$LAB_IF_RO" ip saddr $LAB_CLIENT ip daddr $LAB_SERVER1 snat to $LAB_PUBLIC1
				oifname "$LAB_IF_RO" ip saddr $LAB_CLIENT ip daddr != $LAB_SERVER1 snat to $LAB_PUBLIC2
			}
		}
	EOF
	)
}

# The nftables map for a sequential port allocator: numgen's values 0..255
# to ports 30000..30255.  A new flow's port is the next one; numgen's value
# used directly as a port would land byte-swapped.
scn_sequential_port_map() {
	local i
	for i in $(seq 0 254); do
		printf '%d : %d, ' "$i" $((30000 + i))
	done
	printf '255 : 30255'
}

# Symmetric with sequential ports: every new UDP flow gets the next public
# port (30000, 30001, ..., wrapping after 256 flows), so a peer can predict
# it (RFC 5128 section 3.5).
scn_symmetric_sequential() {
	_symmetric "ip to $LAB_PUBLIC1 : numgen inc mod 256 map { $(scn_sequential_port_map) }"
}
