#!/usr/bin/env bash
# tests/lab/advertise.sh NATCHECK - natcheck --serve deployed behind a 1:1
# NAT (a cloud VM: private addresses, public ones on the router), with
# --advertise and the default --rate, and three clients nobody here wrote
# the server for: natcheck, Debian's `stun` (RFC 3489) and coturn's
# turnutils_natdiscovery (RFC 5780).
#
#   client ns "o" 198.51.100.10 ---+                     server ns
#                                  | router ns          100.64.0.1 (A1)
#   client ns "n" 192.0.2.10 ------+ 1:1 NAT:           100.64.0.2 (A2)
#                 (masqueraded to  | 203.0.113.1 <-> 100.64.0.1
#                  198.51.100.1)   | 203.0.113.2 <-> 100.64.0.2
#
# The "o" client has a public address of its own (open), the "n" client
# sits behind the router's masquerade (Linux: a port-restricted cone).
# Every client asks 203.0.113.1 and must name its own NAT right: it can
# only do that when the server's OTHER-ADDRESS / CHANGED-ADDRESS are the
# public addresses.  Without --advertise, the same server names its
# private 100.64.0.2 and natcheck must say so (unknown), which shows the
# lab really depends on the option.
#
# Root only; skipped with one line otherwise (exit status 77, a skip).
# Only documentation ranges and 100.64.0.0/10 inside our own namespaces.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/lab/clients.sh
. "$here/clients.sh"

lab_preflight "lab advertise" stun:stun-client turnutils_natdiscovery:coturn \
	ss:iproute2 timeout:coreutils

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK (an executable natcheck)" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

PRIV1=100.64.0.1 PRIV2=100.64.0.2 PRIV_GW=100.64.0.254
PUB1=$LAB_SERVER1 PUB2=$LAB_SERVER2
OPEN_CLIENT=198.51.100.10

PASSED=0 FAILED=0
check() {
	local name="$1" detail="$2"
	shift 2
	if "$@"; then
		PASSED=$((PASSED + 1))
		echo "ok    $name"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL  $name: $detail"
	fi
}

# Build the topology; namespaces named as lib.sh names them, so that
# lab_down (from the trap) deletes exactly ours.
up() {
	local p
	trap 'lab_cleanup' EXIT
	trap 'lab_cleanup; exit 130' INT
	trap 'lab_cleanup; exit 143' TERM
	LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/natlab.XXXXXX") || return 1
	lab_set_prefix
	p=$LAB_PREFIX
	# lab_down deletes C, R, S and W: "o" is C, "n" is W.
	LAB_NS_C="${p}-c" LAB_NS_R="${p}-r" LAB_NS_S="${p}-s" LAB_NS_W="${p}-w"
	LAB_UP=1
	local ns
	for ns in "$LAB_NS_C" "$LAB_NS_W" "$LAB_NS_R" "$LAB_NS_S"; do
		ip netns add "$ns" || return 1
		lab_ns_sysctls "$ns"
	done
	ip link add "${p}o" netns "$LAB_NS_C" type veth peer name "${p}ro" netns "$LAB_NS_R" &&
	ip link add "${p}n" netns "$LAB_NS_W" type veth peer name "${p}rn" netns "$LAB_NS_R" &&
	ip link add "${p}s" netns "$LAB_NS_S" type veth peer name "${p}rs" netns "$LAB_NS_R" &&
	ip -n "$LAB_NS_C" addr add "$OPEN_CLIENT/24" dev "${p}o" &&
	ip -n "$LAB_NS_C" link set "${p}o" up &&
	ip -n "$LAB_NS_C" route add 203.0.113.0/24 via "$LAB_PUBLIC1" &&
	ip -n "$LAB_NS_W" addr add "$LAB_CLIENT/24" dev "${p}n" &&
	ip -n "$LAB_NS_W" link set "${p}n" up &&
	ip -n "$LAB_NS_W" route add 203.0.113.0/24 via "$LAB_ROUTER_IN" &&
	ip -n "$LAB_NS_R" addr add "$LAB_PUBLIC1/24" dev "${p}ro" &&
	ip -n "$LAB_NS_R" addr add "$LAB_ROUTER_IN/24" dev "${p}rn" &&
	ip -n "$LAB_NS_R" addr add "$PRIV_GW/24" dev "${p}rs" &&
	ip -n "$LAB_NS_R" link set "${p}ro" up &&
	ip -n "$LAB_NS_R" link set "${p}rn" up &&
	ip -n "$LAB_NS_R" link set "${p}rs" up &&
	ip netns exec "$LAB_NS_R" sysctl -qw net.ipv4.ip_forward=1 &&
	ip -n "$LAB_NS_S" addr add "$PRIV1/24" dev "${p}s" &&
	ip -n "$LAB_NS_S" addr add "$PRIV2/24" dev "${p}s" &&
	ip -n "$LAB_NS_S" link set "${p}s" up &&
	ip -n "$LAB_NS_S" route add 198.51.100.0/24 via "$PRIV_GW" || return 1
	# The cloud's 1:1 NAT, both ways, and the "n" client's masquerade;
	# nothing reaches the router itself.
	ip netns exec "$LAB_NS_R" nft -f - <<-EOF
		flush ruleset
		table inet labinput {
			chain input {
				type filter hook input priority 0; policy drop;
				iif lo accept
			}
		}
		table ip cloud {
			chain pre {
				type nat hook prerouting priority -100;
				ip daddr $PUB1 dnat to $PRIV1
				ip daddr $PUB2 dnat to $PRIV2
			}
			chain post {
				type nat hook postrouting priority 100;
				ip saddr $PRIV1 snat to $PUB1
				ip saddr $PRIV2 snat to $PUB2
				ip saddr 192.0.2.0/24 oifname "${p}rs" snat to $LAB_PUBLIC1
			}
		}
	EOF
}

# serve NAME ARGS...: natcheck --serve on both private addresses.
serve() {
	local name="$1"
	shift
	lab_spawn "$name" s "$NATCHECK" --serve "$PRIV1,$PRIV2" -p 3478 --alt-port 3479 -v "$@" &&
	lab_wait_udp s "$PRIV1" 3478 && lab_wait_udp s "$PRIV1" 3479 &&
	lab_wait_udp s "$PRIV2" 3478 && lab_wait_udp s "$PRIV2" 3479
}

# JSON field of natcheck's output file.
field() {
	python3 -c 'import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    d = {}
print(d.get(sys.argv[2]))' "$1" "$2"
}

# nc NS WANT_TYPE WANT_MAPPING WANT_FILTERING LABEL
nc() {
	local ns="$1" t="$2" m="$3" f="$4" label="$5" out="$LAB_TMP/nc.json" got
	ip netns exec "$ns" timeout 60 "$NATCHECK" --json --no-portmap "$PUB1" >"$out" 2>"$LAB_TMP/nc.err"
	got="$(field "$out" type) $(field "$out" mapping) $(field "$out" filtering) $(field "$out" alternate)"
	check "natcheck ($label): $t, mapping $m, filtering $f, alternate $PUB2:3479" \
		"said '$got'; $(head -c 300 "$LAB_TMP/nc.err")" \
		[ "$got" = "$t $m $f $PUB2:3479" ]
}

starts_with() { case "$1" in "$2"*) return 0 ;; esac; return 1; }

# No counters line with rate-limited datagrams or send failures in log $1.
counters_clean() {
	grep -q counters "$1" && ! grep counters "$1" | grep -Eq 'ratelimited=[1-9]|send_failures=[1-9]'
}

# stun_client NS WANT LABEL: Debian's stun, RFC 3489.
stun_client() {
	local ns="$1" want="$2" label="$3" line
	line=$(clients_stun "$ns" "$PUB1")
	check "stun ($label): $want" "said '$line'" starts_with "$line" "$want"
}

# natdisc NS WANT_MAPPING WANT_FILTERING LABEL: coturn's RFC 5780 client.
natdisc() {
	local ns="$1" m="$2" f="$3" label="$4" got
	got=$(clients_rfc5780 "$(clients_natdisc "$ns" "$PUB1")")
	check "turnutils_natdiscovery ($label): $m mapping, $f filtering" \
		"said mapping and filtering '$got'" [ "$got" = "$m $f" ]
}

up || { echo "FAIL  lab advertise: cannot build the topology"; exit 1; }

# ---------------------------------------------------- with --advertise
if serve adv --advertise "$PUB1,$PUB2"; then
	nc "$LAB_NS_C" open endpoint-independent endpoint-independent "open client"
	nc "$LAB_NS_W" port-restricted-cone endpoint-independent address-and-port-dependent \
		"behind a NAT"
	stun_client "$LAB_NS_C" "Open" "open client"
	stun_client "$LAB_NS_W" "Independent Mapping, Port Dependent Filter" "behind a NAT"
	natdisc "$LAB_NS_C" endpoint-independent endpoint-independent "open client"
	natdisc "$LAB_NS_W" endpoint-independent address-and-port-dependent "behind a NAT"
	lab_stop adv
	check "the server's counters at exit: nothing rate-limited, no send failures" \
		"$(grep counters "$LAB_TMP/adv.log" | head -n 4)" \
		counters_clean "$LAB_TMP/adv.log"
else
	check "natcheck --serve --advertise starts behind the 1:1 NAT" "$(head -c 300 "$LAB_TMP/adv.log")" false
fi

# ---------------------------------------------------- without: the lab bites
if serve noadv; then
	out="$LAB_TMP/noadv.json"
	ip netns exec "$LAB_NS_C" timeout 60 "$NATCHECK" --json --no-portmap "$PUB1" >"$out" 2>/dev/null
	got="$(field "$out" type) $(field "$out" alternate)"
	check "without --advertise: the private alternate is named and natcheck cannot decide" \
		"said '$got'" [ "$got" = "unknown $PRIV2:3479" ]
	lab_stop noadv
else
	check "natcheck --serve starts behind the 1:1 NAT" "$(head -c 300 "$LAB_TMP/noadv.log")" false
fi

printf "lab advertise: "
lab_finish "$PASSED" "$FAILED"
