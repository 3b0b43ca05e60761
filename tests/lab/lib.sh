# tests/lab/lib.sh - the NAT lab: real kernel NATs in network namespaces.
# shellcheck shell=bash
#
# Source this file, then:
#   lab_up SCENARIO [DELAY_MS] [LOSS_PCT]   build the topology, load the router rules;
#                                            when it fails, nothing of it is left up;
#                                            LAB_DELAY_SIDE=inside|outside: where the
#                                            delay line goes (see below)
#   lab_client CMD...                        run CMD in the client namespace
#   lab_server CMD...                        run CMD in the server namespace
#   lab_spawn NAME NS CMD...                 start CMD in namespace NS (lab_ns c|r|s),
#                                            log in $LAB_TMP/NAME.log
#   lab_stop NAME                            stop it (TERM, then KILL, bounded)
#   lab_down                                 stop everything, delete the namespaces
#   lab_script_init "$@"                     a lab script's start: skip, usage, NATCHECK
#   lab_skip LABEL REASON                    "LABEL: skipped: REASON", exit 77
#   lab_finish PASSED FAILED [SKIPPED]       the counts line; status 0, 1 or 77
# lab_up installs an EXIT/INT/TERM trap that calls lab_cleanup; a caller
# that needs its own EXIT trap calls lab_cleanup from it.
#
# Topology (only documentation ranges, no default route anywhere):
#
#   client ns          [wire ns]          router ns                  server ns
#   192.0.2.10 --------[delayer]-------- 192.0.2.1 | 198.51.100.1 -- 198.51.100.254
#                                                    198.51.100.2     203.0.113.1
#                                                    (some scenarios) 203.0.113.2
#
# The wire namespace exists only when DELAY_MS > 0: tests/lab/delayer holds
# every frame on one link DELAY_MS ms in each direction, so the round trip
# client <-> server grows by 2 * DELAY_MS.  Which link, LAB_DELAY_SIDE says:
#   inside  (the default) client-router, as drawn above: every packet of
#           the client's crosses it, a hairpin through the NAT included
#           (each crossing of the NAT costs a full round trip);
#   outside router-server: the client <-> NAT path (a hairpin's) stays
#           fast and only what goes beyond the NAT waits, as on a real
#           network, where the round trip to a server is the WAN's and the
#           path to one's own NAT the LAN's.
# The wire's two ends are $LAB_WIRE_A (client side) and $LAB_WIRE_B; the
# interfaces the router, client and server see keep their names
# ($LAB_IF_C, $LAB_IF_RI, $LAB_IF_RO, $LAB_IF_S) either way, so rules,
# neighbour entries and loss apply unchanged.  It sits on the
# wire rather than in an NFQUEUE hook because this kernel has no nft
# `queue` (CONFIG_NFT_QUEUE unset), and because a packet held inside the
# router before conntrack confirms it lets a retransmission of the same
# flow create a second, clashing conntrack entry that NAT maps to another
# port: the lab would then invent a symmetric NAT.  On the wire, the
# router sees packets late but exactly as a real NAT would.
# Loss: LOSS_PCT percent of UDP datagrams are dropped in the router's
# forward path, independently in each direction (nft numgen).

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lab/scenarios.sh
. "$LAB_DIR/scenarios.sh"

LAB_CLIENT=192.0.2.10
LAB_ROUTER_IN=192.0.2.1
LAB_PUBLIC1=198.51.100.1
LAB_PUBLIC2=198.51.100.2
LAB_SERVER_LINK=198.51.100.254
LAB_SERVER1=203.0.113.1
LAB_SERVER2=203.0.113.2

LAB_UP=0
LAB_TMP=
declare -A LAB_PID=()
# Namespaces beyond the client, router, server and wire ones that lab_down
# deletes (another topology's, lib2site.sh).
LAB_NS_MORE=()

# A per-run prefix short enough that prefix + 3 characters fits IFNAMSIZ (15).
# $BASHPID, not $$, so that labs in parallel subshells of one script differ.
# lab_up sets LAB_PREFIX itself, outside any command substitution (whose
# short-lived PID another run could get while our namespaces exist);
# lab_prefix prints the current lab's prefix.
lab_set_prefix() {
	LAB_PREFIX="nc$BASHPID"
	LAB_PREFIX=${LAB_PREFIX:0:11}
}
lab_prefix() {
	[ -n "${LAB_PREFIX:-}" ] || lab_set_prefix
	printf '%s' "$LAB_PREFIX"
}

# Why the lab cannot run here, or nothing when it can.
lab_unavailable() {
	if [ "$(id -u)" != 0 ]; then
		echo "not root"; return
	fi
	local t
	for t in ip nft python3; do
		command -v "$t" >/dev/null 2>&1 || { echo "$t not found"; return; }
	done
	lab_set_prefix
	local probe="${LAB_PREFIX}probe"
	if ! ip netns add "$probe" 2>/dev/null; then
		echo "ip netns unavailable"; return
	fi
	if ! ip netns exec "$probe" nft -f - 2>/dev/null <<-'EOF'
		table inet labprobe {
			chain post { type nat hook postrouting priority 100; masquerade; }
		}
	EOF
	then
		ip netns del "$probe" 2>/dev/null
		echo "nft with NAT unavailable"; return
	fi
	ip netns del "$probe" 2>/dev/null
}

# lab_skip LABEL REASON: the script cannot run here.  One line, and exit
# status 77: a skip, never a pass (tests/group.sh; make check fails on it
# unless ALLOW_SKIP=1).
lab_skip() {
	echo "$1: skipped: $2"
	exit 77
}

# lab_finish PASSED FAILED [SKIPPED]: a lab script's last line, "P passed,
# F failed, S skipped", and, as the script's last command, its exit
# status: 1 when anything failed, else 77 when anything was skipped, else 0.
lab_finish() {
	echo "$1 passed, $2 failed, ${3:-0} skipped"
	[ "$2" = 0 ] || return 1
	[ "${3:-0}" = 0 ] || return 77
}

# lab_preflight LABEL TOOL:PACKAGE...: skip at once (lab_skip) when the lab
# or one of the tools is missing.  Each PACKAGE must be in the Makefile's
# DEB_PACKAGES (make check-deps holds the tests to that).
lab_preflight() {
	local label="$1" reason tool
	shift
	reason=$(lab_unavailable)
	for tool in "$@"; do
		[ -n "$reason" ] && break
		command -v "${tool%%:*}" >/dev/null 2>&1 ||
			reason="${tool%%:*} not found (Debian package ${tool#*:})"
	done
	[ -z "$reason" ] || lab_skip "$label" "$reason"
}

lab_ns() {
	case "$1" in
	c) printf '%s' "$LAB_NS_C" ;;
	r) printf '%s' "$LAB_NS_R" ;;
	s) printf '%s' "$LAB_NS_S" ;;
	w) printf '%s' "$LAB_NS_W" ;;
	*) printf '%s' "$1" ;;
	esac
}

lab_client() { ip netns exec "$LAB_NS_C" "$@"; }
lab_router() { ip netns exec "$LAB_NS_R" "$@"; }
lab_server() { ip netns exec "$LAB_NS_S" "$@"; }

lab_die() {
	echo "lab: $*" >&2
	return 1
}

# The delayer binary, built once per run (into the run's temporary
# directory, not the source tree) with the project's warning flags.
lab_build_delayer() {
	local bin="$LAB_TMP/delayer"
	if [ ! -x "$bin" ]; then
		${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -o "$bin" "$LAB_DIR/delayer.c" ||
			{ lab_die "cannot build the delayer"; return 1; }
	fi
	LAB_DELAYER=$bin
}

# Harmless per-namespace settings: no IPv6 (nothing here uses it and its
# autoconfiguration chatter would cross the lab), no ICMP redirects (the
# hairpinning router sends packets back out the interface they came in on),
# no reverse-path filter.
lab_ns_sysctls() {
	# One sysctl for all (it goes on past a key it cannot set).
	ip netns exec "$1" sysctl -qw \
		net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 \
		net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.default.accept_redirects=0 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null 2>&1
	ip -n "$1" link set lo up
}

# lab_begin: the EXIT/INT/TERM trap that calls lab_cleanup (once per shell)
# and the run's temporary directory $LAB_TMP.  For lab_up and for any other
# topology built on this file (lib2site.sh).
lab_begin() {
	if [ -z "${LAB_TRAP_SET:-}" ]; then
		trap 'lab_cleanup' EXIT
		trap 'lab_cleanup; exit 130' INT
		trap 'lab_cleanup; exit 143' TERM
		LAB_TRAP_SET=1
	fi
	if [ -z "$LAB_TMP" ]; then
		LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/natlab.XXXXXX") || return 1
	fi
}

# lab_up SCENARIO [DELAY_MS] [LOSS_PCT]: when any step fails, what was
# built is taken down again, so that the caller's next lab_up starts clean
# (a caller that forgets lab_down after a failure must not poison it).
lab_up() {
	[ "$LAB_UP" = 0 ] || { lab_die "lab already up"; return 1; }
	_lab_up "$@" && return 0
	lab_down
	return 1
}

_lab_up() {
	local scn="$1" delay="${2:-0}" loss="${3:-0}" side="${LAB_DELAY_SIDE:-inside}"
	case "$side" in
	inside|outside) ;;
	*) lab_die "LAB_DELAY_SIDE must be inside or outside, not '$side'"; return 1 ;;
	esac
	scenario_exists "$scn" || { lab_die "unknown scenario '$scn' (have: $(scenario_list))"; return 1; }
	case "$delay$loss" in *[!0-9]*) lab_die "delay and loss must be integers"; return 1 ;; esac
	[ "$loss" -le 100 ] || { lab_die "loss above 100"; return 1; }

	lab_begin || return 1

	local p
	lab_set_prefix
	p=$LAB_PREFIX
	LAB_NS_C="${p}-c" LAB_NS_R="${p}-r" LAB_NS_S="${p}-s" LAB_NS_W=
	LAB_IF_C="${p}ci" LAB_IF_RI="${p}ri" LAB_IF_RO="${p}ro" LAB_IF_S="${p}so"
	# For the caller: what is up.
	# shellcheck disable=SC2034
	LAB_SCENARIO=$scn LAB_DELAY=$delay LAB_LOSS=$loss LAB_WIRE_A='' LAB_WIRE_B=''
	LAB_SIDE=$side
	LAB_UP=1

	local ns
	for ns in "$LAB_NS_C" "$LAB_NS_R" "$LAB_NS_S"; do
		ip netns add "$ns" || { lab_die "cannot create namespace $ns"; return 1; }
		lab_ns_sysctls "$ns"
	done

	# Each link is a veth pair, or with the delay line on it two, joined
	# by the delayer in the wire namespace.
	if [ "$delay" -gt 0 ]; then
		lab_build_delayer || return 1
		LAB_NS_W="${p}-w"
		ip netns add "$LAB_NS_W" || { lab_die "cannot create namespace $LAB_NS_W"; return 1; }
		lab_ns_sysctls "$LAB_NS_W"
		if [ "$side" = inside ]; then
			LAB_WIRE_A="${p}wc" LAB_WIRE_B="${p}wr"
		else
			LAB_WIRE_A="${p}wr" LAB_WIRE_B="${p}ws"
		fi
	fi
	lab_link inside "$LAB_IF_C" "$LAB_NS_C" "$LAB_IF_RI" "$LAB_NS_R" || return 1
	lab_link outside "$LAB_IF_RO" "$LAB_NS_R" "$LAB_IF_S" "$LAB_NS_S" || return 1
	if [ "$delay" -gt 0 ]; then
		# Longer than any test may take; lab_down stops it sooner.
		lab_spawn delayer w "$LAB_DELAYER" -d "$delay" -l 3600 "$LAB_WIRE_A" "$LAB_WIRE_B" ||
			return 1
	fi

	{
		# Client: one address, routes to the two outside networks only.
		ip -n "$LAB_NS_C" addr add "$LAB_CLIENT/24" dev "$LAB_IF_C" &&
		ip -n "$LAB_NS_C" link set "$LAB_IF_C" up &&
		ip -n "$LAB_NS_C" route add 198.51.100.0/24 via "$LAB_ROUTER_IN" &&
		ip -n "$LAB_NS_C" route add 203.0.113.0/24 via "$LAB_ROUTER_IN" &&
		# Router: inside and outside, forwarding on.
		ip -n "$LAB_NS_R" addr add "$LAB_ROUTER_IN/24" dev "$LAB_IF_RI" &&
		ip -n "$LAB_NS_R" addr add "$LAB_PUBLIC1/24" dev "$LAB_IF_RO" &&
		ip -n "$LAB_NS_R" link set "$LAB_IF_RI" up &&
		ip -n "$LAB_NS_R" link set "$LAB_IF_RO" up &&
		ip -n "$LAB_NS_R" route add 203.0.113.0/24 via "$LAB_SERVER_LINK" &&
		ip netns exec "$LAB_NS_R" sysctl -qw net.ipv4.ip_forward=1 &&
		# Server: a link address and the two server addresses.
		ip -n "$LAB_NS_S" addr add "$LAB_SERVER_LINK/24" dev "$LAB_IF_S" &&
		ip -n "$LAB_NS_S" addr add "$LAB_SERVER1/32" dev "$LAB_IF_S" &&
		ip -n "$LAB_NS_S" addr add "$LAB_SERVER2/32" dev "$LAB_IF_S" &&
		ip -n "$LAB_NS_S" link set "$LAB_IF_S" up
	} || { lab_die "cannot configure addresses"; return 1; }

	lab_static_neighbours || return 1

	# The scenario sets SCN_* (see scenarios.sh), SCN_RULES among them.
	scenario_load "$scn" || { lab_die "scenario $scn failed"; return 1; }
	if [ "$SCN_PUBLIC2" = 1 ]; then
		ip -n "$LAB_NS_R" addr add "$LAB_PUBLIC2/24" dev "$LAB_IF_RO" ||
			{ lab_die "cannot add $LAB_PUBLIC2"; return 1; }
	fi
	if [ "$SCN_ROUTE_INSIDE" = 1 ]; then
		# No NAT: the server reaches the client's own address.
		ip -n "$LAB_NS_S" route add 192.0.2.0/24 via "$LAB_PUBLIC1" ||
			{ lab_die "cannot route the inside"; return 1; }
	fi
	printf '%s\n%s\n' "$(lab_base_rules)" "$SCN_RULES" > "$LAB_TMP/router.nft"
	if [ "$loss" -gt 0 ]; then
		lab_loss_rules "$loss" >> "$LAB_TMP/router.nft"
	fi
	lab_router nft -f "$LAB_TMP/router.nft" ||
		{ lab_die "router rules rejected (see $LAB_TMP/router.nft)"; return 1; }
}

# lab_link SIDE IF_A NS_A IF_B NS_B: the inside or outside link IF_A (in
# NS_A) - IF_B (in NS_B): one veth pair, or, when the delay line goes on
# this side, two whose other ends, $LAB_WIRE_A and $LAB_WIRE_B, are in the
# wire namespace, for the delayer to join.
lab_link() {
	if [ -z "$LAB_NS_W" ] || [ "$1" != "$LAB_SIDE" ]; then
		ip link add "$2" netns "$3" type veth peer name "$4" netns "$5" ||
			{ lab_die "cannot create the $1 link"; return 1; }
		return 0
	fi
	{
		ip link add "$2" netns "$3" type veth peer name "$LAB_WIRE_A" netns "$LAB_NS_W" &&
		ip link add "$4" netns "$5" type veth peer name "$LAB_WIRE_B" netns "$LAB_NS_W" &&
		ip -n "$LAB_NS_W" link set "$LAB_WIRE_A" up &&
		ip -n "$LAB_NS_W" link set "$LAB_WIRE_B" up
	} || { lab_die "cannot build the wire"; return 1; }
}

# Fixed ARP entries on both links: no ARP round trip (through the delay
# line) before the first datagram of a run, and nothing for loss to hit.
lab_mac() {
	ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}
lab_static_neighbours() {
	local mc mri mro ms
	mc=$(lab_mac "$LAB_NS_C" "$LAB_IF_C") mri=$(lab_mac "$LAB_NS_R" "$LAB_IF_RI")
	mro=$(lab_mac "$LAB_NS_R" "$LAB_IF_RO") ms=$(lab_mac "$LAB_NS_S" "$LAB_IF_S")
	if [ -z "$mc" ] || [ -z "$mri" ] || [ -z "$mro" ] || [ -z "$ms" ]; then
		lab_die "cannot read MAC addresses"
		return 1
	fi
	{
		ip -n "$LAB_NS_C" neigh replace "$LAB_ROUTER_IN" lladdr "$mri" dev "$LAB_IF_C" nud permanent &&
		ip -n "$LAB_NS_R" neigh replace "$LAB_CLIENT" lladdr "$mc" dev "$LAB_IF_RI" nud permanent &&
		ip -n "$LAB_NS_R" neigh replace "$LAB_SERVER_LINK" lladdr "$ms" dev "$LAB_IF_RO" nud permanent &&
		ip -n "$LAB_NS_S" neigh replace "$LAB_PUBLIC1" lladdr "$mro" dev "$LAB_IF_S" nud permanent &&
		ip -n "$LAB_NS_S" neigh replace "$LAB_PUBLIC2" lladdr "$mro" dev "$LAB_IF_S" nud permanent
	} || { lab_die "cannot set neighbour entries"; return 1; }
}

# Every router: nothing reaches the router itself.  Unsolicited datagrams to
# its public address must not create conntrack entries (they would reserve
# the port a later mapping wants, and port preservation would fail), and
# must not draw ICMP port unreachable either.
lab_base_rules() {
	cat <<-'EOF'
		flush ruleset
		table inet labinput {
			chain input {
				type filter hook input priority 0; policy drop;
				iif lo accept
			}
		}
	EOF
}

# LOSS_PCT percent of UDP is dropped, per direction, before the router's
# filter and NAT see it (priority -10 < filter 0).
lab_loss_rules() {
	cat <<-EOF
		table inet labloss {
			chain forward {
				type filter hook forward priority -10; policy accept;
				iifname "$LAB_IF_RI" meta l4proto udp numgen random mod 100 < $1 drop
				iifname "$LAB_IF_RO" meta l4proto udp numgen random mod 100 < $1 drop
			}
		}
	EOF
}

# lab_spawn NAME NS CMD...: start CMD in the background in namespace NS.
lab_spawn() {
	local name="$1" ns
	ns=$(lab_ns "$2")
	shift 2
	[ -n "$ns" ] || { lab_die "no namespace for $name"; return 1; }
	ip netns exec "$ns" "$@" >"$LAB_TMP/$name.log" 2>&1 </dev/null &
	LAB_PID[$name]=$!
}

# True while NAME runs.
lab_running() {
	local pid="${LAB_PID[$1]:-}"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# lab_stop NAME: TERM, wait up to 2 s, then KILL.
lab_stop() {
	local name="$1" pid="${LAB_PID[$1]:-}" _
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 20); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	unset "LAB_PID[$name]"
	return 0
}

# lab_script_init "$@": the start of a lab script taking one argument,
# NATCHECK: skip with one line when the lab cannot run here (lab_skip),
# refuse anything but an executable, set NATCHECK to its full path.
lab_script_init() {
	local reason
	reason=$(lab_unavailable)
	[ -z "$reason" ] || lab_skip "lab $(basename "$0" .sh)" "$reason"
	if [ $# -ne 1 ] || [ ! -x "$1" ]; then
		echo "usage: $0 NATCHECK (an executable natcheck)" >&2
		exit 2
	fi
	# shellcheck disable=SC2034 # for the script that sourced this file
	NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
}

# lab_wait_udp NS ADDR PORT: bounded wait until something listens there.
lab_wait_udp() {
	local ns _
	ns=$(lab_ns "$1")
	for _ in $(seq 1 50); do
		if ip netns exec "$ns" ss -Hlun "src $2:$3" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	lab_die "nothing listens on $2:$3 in $ns"
}

# lab_down: stop our processes, delete our namespaces.  Safe to call twice.
lab_down() {
	local name ns pid
	for name in "${!LAB_PID[@]}"; do
		lab_stop "$name"
	done
	[ "$LAB_UP" = 1 ] || return 0
	for ns in "$LAB_NS_C" "$LAB_NS_R" "$LAB_NS_S" "$LAB_NS_W" "${LAB_NS_MORE[@]}"; do
		[ -n "$ns" ] || continue
		# Anything still inside was started by this run (the namespaces
		# are ours); end it by PID before the namespace goes.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	LAB_UP=0 LAB_NS_W='' LAB_NS_MORE=()
}

lab_cleanup() {
	lab_down
	if [ -n "$LAB_TMP" ] && [ -z "${LAB_KEEP_TMP:-}" ]; then
		rm -rf "$LAB_TMP"
	fi
	LAB_TMP=
}
