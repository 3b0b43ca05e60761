# tests/lab/lib2site.sh - two NAT sites and one routed internet: two hosts,
# each behind a kernel NAT of its own, and a server between them, for hole
# punching between real NATs (tests/lab/pair.sh).
# shellcheck shell=bash disable=SC2034  # LAB2_* are for the caller
#
# Source this file (it sources lib.sh), then:
#   lab2_up SCN_A SCN_B          build both sites, router a with scenario SCN_A's
#                                rules, router b with SCN_B's (scenarios.sh);
#                                when it fails, nothing of it is left up
#   lab2_ns a|b|ra|rb|i          the namespace of client a or b, router a or b,
#                                or the internet (the server's, also lab_ns s)
#   lab2_in a|b|ra|rb|i CMD...   run CMD there
#   lab_spawn NAME NS CMD...     a background process (lib.sh); NS from lab2_ns
#   peer_start NAME KIND         a STUN server on the internet (peers.sh)
#   lab_down, lab_cleanup        take it all down (lib.sh)
# lab2_up installs lib.sh's EXIT/INT/TERM trap (lab_begin).  After it:
#   LAB2_SCN[a|b]   the scenario of each site, and each site's expectations
#   LAB2_TYPE[a|b]  (SCN_TYPE), LAB2_MAPPING[a|b], LAB2_FILTERING[a|b]
# One lab per shell; labs in parallel subshells get prefixes of their own.
#
# Topology (documentation ranges only, no default route anywhere):
#
#   site a                           internet (ns i)                  site b
#   client a 192.0.2.10/25                                            client b 192.0.2.138/25
#     |                                                                 |
#   192.0.2.1    router a                                 router b   192.0.2.129
#   198.51.100.1/24 (and .2) ---- 198.51.100.254/24                     |
#                                 203.0.113.254/25 ---- 203.0.113.129/25 (and .130)
#                                 server 203.0.113.1, 203.0.113.2 (/32, on lo)
#
# The two inside networks are the two halves of 192.0.2.0/24, so that two
# sites without NAT (open, symmetric-udp-firewall) can both be routed; the
# routers' public addresses are in different ranges, so no test can mistake
# one site's address for the other's, and the server's addresses are the
# one-site lab's (203.0.113.1 and .2), so every scenario's rules apply
# unchanged: while a site is built, the names scenarios.sh uses ($LAB_CLIENT,
# $LAB_PUBLIC1, $LAB_PUBLIC2, $LAB_IF_RI, $LAB_IF_RO) are that site's.  Each
# router routes the server's and the other site's networks to the internet,
# which routes a site's inside network only when that site has no NAT.
# The routers drop everything addressed to themselves (lib.sh's base rules).

LAB2_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$LAB2_DIR/lib.sh"

declare -A LAB2_CLIENT=([a]=192.0.2.10 [b]=192.0.2.138)
declare -A LAB2_ROUTER_IN=([a]=192.0.2.1 [b]=192.0.2.129)
declare -A LAB2_INSIDE=([a]=192.0.2.0/25 [b]=192.0.2.128/25)
declare -A LAB2_PUBLIC1=([a]=198.51.100.1 [b]=203.0.113.129)
declare -A LAB2_PUBLIC2=([a]=198.51.100.2 [b]=203.0.113.130)
# The link between each router and the internet: its prefix length and the
# internet's end of it.
declare -A LAB2_LINK_LEN=([a]=24 [b]=25)
declare -A LAB2_LINK_GW=([a]=198.51.100.254 [b]=203.0.113.254)
# What each router sends to the internet: the server's and the other site's
# networks (its own link's are connected).
declare -A LAB2_ROUTES=([a]="203.0.113.0/24 192.0.2.128/25"
	[b]="198.51.100.0/24 203.0.113.0/24 192.0.2.0/25")
# The networks each client reaches through its router.
LAB2_CLIENT_ROUTES="198.51.100.0/24 203.0.113.0/24"

declare -A LAB2_NS=() LAB2_SCN=() LAB2_TYPE=() LAB2_MAPPING=() LAB2_FILTERING=()

lab2_ns() {
	case "$1" in
	a|b|ra|rb|i) printf '%s' "${LAB2_NS[$1]:-}" ;;
	*) lab_die "lab2_ns: no namespace '$1' (a, b, ra, rb, i)"; return 1 ;;
	esac
}

lab2_in() {
	local ns
	ns=$(lab2_ns "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

# lab2_up SCN_A SCN_B
lab2_up() {
	[ "$LAB_UP" = 0 ] || { lab_die "lab already up"; return 1; }
	_lab2_up "$@" && return 0
	lab_down
	return 1
}

_lab2_up() {
	local s ns p
	[ $# = 2 ] || { lab_die "lab2_up SCN_A SCN_B"; return 1; }
	for s in "$1" "$2"; do
		scenario_exists "$s" ||
			{ lab_die "unknown scenario '$s' (have: $(scenario_list) $(scenario_list_extra))"; return 1; }
	done
	lab_begin || return 1
	lab_set_prefix
	p=$LAB_PREFIX
	LAB2_NS=([a]="${p}-a" [ra]="${p}-ra" [b]="${p}-b" [rb]="${p}-rb" [i]="${p}-i")
	# lib.sh's lab_down deletes these; lab_ns s (peers.sh) is the internet.
	LAB_NS_C='' LAB_NS_R='' LAB_NS_W='' LAB_NS_S=${LAB2_NS[i]}
	LAB_NS_MORE=("${LAB2_NS[a]}" "${LAB2_NS[ra]}" "${LAB2_NS[b]}" "${LAB2_NS[rb]}")
	LAB_UP=1
	for ns in "${LAB2_NS[@]}"; do
		ip netns add "$ns" || { lab_die "cannot create namespace $ns"; return 1; }
		lab_ns_sysctls "$ns"
	done
	{
		ip -n "${LAB2_NS[i]}" addr add "$LAB_SERVER1/32" dev lo &&
		ip -n "${LAB2_NS[i]}" addr add "$LAB_SERVER2/32" dev lo &&
		ip netns exec "${LAB2_NS[i]}" sysctl -qw net.ipv4.ip_forward=1
	} || { lab_die "cannot configure the internet"; return 1; }
	_lab2_site a "$1" && _lab2_site b "$2"
}

# _lab2_site a|b SCENARIO: the site's two links, addresses and routes, and
# its router's rules.
_lab2_site() {
	local s="$1" scn="$2" o net
	local c=${LAB2_NS[$1]} r=${LAB2_NS[r$1]} i=${LAB2_NS[i]}
	o=$([ "$s" = a ] && echo b || echo a)
	# What scenarios.sh's rules name, for this site (dynamic scope).
	local LAB_IF_C="${LAB_PREFIX}${s}c" LAB_IF_RI="${LAB_PREFIX}${s}i"
	local LAB_IF_RO="${LAB_PREFIX}${s}o" LAB_IF_S="${LAB_PREFIX}i${s}"
	local LAB_CLIENT=${LAB2_CLIENT[$s]} LAB_ROUTER_IN=${LAB2_ROUTER_IN[$s]}
	local LAB_PUBLIC1=${LAB2_PUBLIC1[$s]} LAB_PUBLIC2=${LAB2_PUBLIC2[$s]}

	scenario_load "$scn" || { lab_die "scenario $scn failed"; return 1; }
	LAB2_SCN[$s]=$scn LAB2_TYPE[$s]=$SCN_TYPE
	LAB2_MAPPING[$s]=$SCN_MAPPING LAB2_FILTERING[$s]=$SCN_FILTERING
	{
		ip link add "$LAB_IF_C" netns "$c" type veth peer name "$LAB_IF_RI" netns "$r" &&
		ip link add "$LAB_IF_RO" netns "$r" type veth peer name "$LAB_IF_S" netns "$i"
	} || { lab_die "cannot create site $s's links"; return 1; }
	# One `ip -batch` per namespace: a lab per pair of NATs is built often.
	{
		echo "addr add $LAB_CLIENT/25 dev $LAB_IF_C"
		echo "link set $LAB_IF_C up"
		for net in $LAB2_CLIENT_ROUTES "${LAB2_INSIDE[$o]}"; do
			echo "route add $net via $LAB_ROUTER_IN"
		done
	} | ip -n "$c" -batch - || { lab_die "cannot configure client $s"; return 1; }
	{
		echo "addr add $LAB_ROUTER_IN/25 dev $LAB_IF_RI"
		echo "addr add $LAB_PUBLIC1/${LAB2_LINK_LEN[$s]} dev $LAB_IF_RO"
		if [ "$SCN_PUBLIC2" = 1 ]; then
			echo "addr add $LAB_PUBLIC2/${LAB2_LINK_LEN[$s]} dev $LAB_IF_RO"
		fi
		echo "link set $LAB_IF_RI up"
		echo "link set $LAB_IF_RO up"
		for net in ${LAB2_ROUTES[$s]}; do
			echo "route add $net via ${LAB2_LINK_GW[$s]}"
		done
	} | ip -n "$r" -batch - || { lab_die "cannot configure router $s"; return 1; }
	{
		echo "addr add ${LAB2_LINK_GW[$s]}/${LAB2_LINK_LEN[$s]} dev $LAB_IF_S"
		echo "link set $LAB_IF_S up"
		# No NAT: the internet reaches the client's own address.
		if [ "$SCN_ROUTE_INSIDE" = 1 ]; then
			echo "route add ${LAB2_INSIDE[$s]} via $LAB_PUBLIC1"
		fi
	} | ip -n "$i" -batch - || { lab_die "cannot configure the internet for site $s"; return 1; }
	printf '%s\n%s\n' "$(lab_base_rules)" "$SCN_RULES" >"$LAB_TMP/router-$s.nft"
	{
		ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 &&
		ip netns exec "$r" nft -f "$LAB_TMP/router-$s.nft"
	} || { lab_die "router $s's rules rejected (see $LAB_TMP/router-$s.nft)"; return 1; }
}
