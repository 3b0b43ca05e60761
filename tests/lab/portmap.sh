#!/usr/bin/env bash
# tests/lab/portmap.sh NATCHECK - the port-mapping probes against real gateways.
#
# In the lab's port-restricted-cone NAT (masquerade on 198.51.100.1), with
# stund on 203.0.113.1/.2 as the STUN server, the router namespace runs:
#   miniupnpd   Debian's miniupnpd (UPnP IGD + NAT-PMP/PCP).  It refuses to
#               report the lab's external address (a documentation range
#               counts as reserved), as it does behind a carrier NAT: so
#               natcheck must say the gateway speaks UPnP, NAT-PMP and PCP,
#               report NAT-PMP's result code, no external address, and
#               double NAT "unknown", never a guess.
#   double-nat  miniupnpd on a home router (outside 100.64.0.2) behind a
#               carrier NAT (100.64.0.1 | 198.51.100.1): the same refusals,
#               and the STUN server sees the carrier's address.
#   none        nothing, on the lab's fast path: the STUN tests end before
#               NAT-PMP's and PCP's 250 ms window, which is then cut short:
#               both null (unknown, natcheck(1) PORT MAPPING), exactly when
#               the probes ended before 250 ms (portmap.elapsed_ms, natcheck's
#               own clock), else false; UPnP null (the STUN tests ended
#               before the 1.1 s an M-SEARCH answer may take), double NAT
#               unknown, and the run ended by its tests, not by -t.
#   none-slow   the same behind 100 ms each way between the NAT and the
#               server: the STUN tests outlast the 250 ms window, so NAT-PMP
#               and PCP are false (not spoken), UPnP still null.
#   gw-equal    tests/lab/pmgw.py reporting 198.51.100.1 (the mapped address):
#               double NAT false.
#   gw-differs  pmgw.py reporting 198.51.100.77: double NAT true.
#   gw-cgn      pmgw.py reporting 100.64.0.9: double NAT true, carrier-grade.
# Every natcheck answer is cross-checked with Debian's natpmpc and upnpc,
# and after every natcheck run the router's nftables ruleset and the
# gateway's mapping list (upnpc -l) must be exactly as before: natcheck
# only reads.  Multicast (SSDP) stays inside the lab's namespaces.
# PORTMAP_SCENARIOS="miniupnpd none ..." picks scenarios.
# Root only; skipped with one line otherwise (exit status 77, a skip).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"

lab_preflight "portmap lab" miniupnpd:miniupnpd-nftables upnpc:miniupnpc natpmpc:natpmpc \
	stund:stun-server ss:iproute2 timeout:coreutils
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK (an executable natcheck)" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HTTP_PORT=5000
GW=$LAB_ROUTER_IN

PASSED=0 FAILED=0 SCN=
pass() { PASSED=$((PASSED + 1)); }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $SCN: $*"
}
check() {   # check DESCRIPTION COMMAND...
	local what="$1"
	shift
	if "$@"; then pass; else fail "$what"; fi
}

# jget FILE KEY: one key of the "portmap" object, as JSON text.
jget() {
	python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["portmap"][sys.argv[2]]))' "$1" "$2"
}
expect() {  # expect FILE KEY JSON
	local got
	got=$(jget "$1" "$2")
	if [ "$got" = "$3" ]; then pass; else fail "portmap.$2 is $got, expected $3"; fi
}

# The router accepts what a gateway's daemon needs from the inside.
open_router_input() {
	lab_router nft insert rule inet labinput input iifname "$LAB_IF_RI" \
		udp dport '{ 1900, 5351 }' accept &&
	lab_router nft insert rule inet labinput input iifname "$LAB_IF_RI" \
		tcp dport "$HTTP_PORT" accept &&
	lab_router nft insert rule inet labinput input iifname "$LAB_IF_RI" \
		ip daddr 239.255.255.250 accept
}

# miniupnpd's tables, under the names its configuration below gives it.
# (Debian's /etc/miniupnpd/nft_init.sh sources a miniupnpd_functions.sh
# that miniupnpd-nftables does not ship, so the same tables are made here.)
miniupnpd_tables() {
	lab_router nft -f - <<-'EOF'
		table inet mupnp {
			chain forward {
				type filter hook forward priority 10; policy accept;
				jump miniupnpd
			}
			chain miniupnpd {
			}
			chain prerouting {
				type nat hook prerouting priority -90; policy accept;
				jump prerouting_miniupnpd
			}
			chain postrouting {
				type nat hook postrouting priority 110; policy accept;
				jump postrouting_miniupnpd
			}
			chain prerouting_miniupnpd {
			}
			chain postrouting_miniupnpd {
			}
		}
	EOF
}

start_miniupnpd() {
	cat >"$LAB_TMP/miniupnpd.conf" <<-EOF
		ext_ifname=$LAB_IF_RO
		listening_ip=$LAB_IF_RI
		port=$HTTP_PORT
		enable_natpmp=yes
		enable_upnp=yes
		secure_mode=yes
		system_uptime=no
		upnp_table_name=mupnp
		upnp_nat_table_name=mupnp
		upnp_forward_chain=miniupnpd
		upnp_nat_chain=prerouting_miniupnpd
		upnp_nat_postrouting_chain=postrouting_miniupnpd
		uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
		allow 1024-65535 192.0.2.0/24 1024-65535
		deny 0-65535 0.0.0.0/0 0-65535
	EOF
	miniupnpd_tables || return 1
	lab_spawn gwd r miniupnpd -f "$LAB_TMP/miniupnpd.conf" -d -P "$LAB_TMP/miniupnpd.pid" ||
		return 1
	lab_wait_udp r "$GW" 5351
}

start_pmgw() {
	lab_spawn gwd r python3 "$here/pmgw.py" "$GW" "$1" "$HTTP_PORT" || return 1
	lab_wait_udp r "$GW" 5351
}

# What the gateway holds: its ruleset and its mapping list.
gateway_state() {
	lab_router nft list ruleset
	if [ "$1" = upnp ]; then
		# Only the mapping list: its entries and how the listing ended.
		lab_client timeout 5 upnpc -u "http://$GW:$HTTP_PORT/rootDesc.xml" -l 2>&1 |
			grep -E '^ *[0-9]+ (TCP|UDP) |GetGenericPortMappingEntry'
	fi
}

# run_natcheck OUT: natcheck --json, the gateway unchanged by it.
run_natcheck() {
	local out="$1" kind="$2"
	gateway_state "$kind" >"$LAB_TMP/before"
	GWLOG_BEFORE=$(wc -l <"$LAB_TMP/gwd.log" 2>/dev/null || echo 0)
	lab_client timeout 10 "$NATCHECK" --json -v "$LAB_SERVER1" >"$out" 2>"$out.err"
	# The gateways log a request before they answer it, so natcheck's are
	# all in the log by the time it has finished.
	tail -n +"$((GWLOG_BEFORE + 1))" "$LAB_TMP/gwd.log" 2>/dev/null >"$out.gw"
	gateway_state "$kind" >"$LAB_TMP/after"
	check "natcheck printed JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out"
	check "the gateway is unchanged by natcheck (ruleset, mapping list): $(
		diff "$LAB_TMP/before" "$LAB_TMP/after" | head -5 | tr '\n' ' ')" \
		cmp -s "$LAB_TMP/before" "$LAB_TMP/after"
}

up() {   # up NAME [DELAY_MS]: the delay line, if any, between NAT and server
	SCN=$1
	echo "== $SCN"
	LAB_DELAY_SIDE=outside lab_up port-restricted-cone "${2:-0}" || return 1
	lab_spawn srv s stund -h "$LAB_SERVER1" -a "$LAB_SERVER2" || return 1
	lab_wait_udp s "$LAB_SERVER1" 3478
}

down() {
	lab_down
}

# ---------------------------------------------------------------- scenarios

# What natcheck, natpmpc and upnpc must say of miniupnpd, whose external
# address (a documentation range, or 100.64.0.2 behind the carrier NAT) is
# one it will not report.
assert_miniupnpd() {
	local out="$1" pmp upnp actions
	# miniupnpd logs every SOAP action: natcheck's is GetExternalIPAddress only.
	actions=$(sed -n 's/.*SOAPAction: .*#//p' "$out.gw" | sort -u | tr '\n' ' ')
	check "natcheck's only SOAP action is GetExternalIPAddress ($actions)" \
		test "$actions" = "GetExternalIPAddress "
	check "miniupnpd saw natcheck's NAT-PMP or PCP request" grep -qiE 'NAT-PMP|PCP' "$out.gw"
	expect "$out" gateway "\"$GW\""
	expect "$out" upnp true
	expect "$out" natpmp true
	expect "$out" pcp true
	expect "$out" external null
	expect "$out" double_nat null
	expect "$out" double_nat_reason '"gateway-gives-no-external-address"'
	# NAT-PMP result 3, network failure: miniupnpd's answer when its
	# external address is reserved (RFC 6886 section 3.5).
	expect "$out" natpmp_result 3
	expect "$out" pcp_result 0
	expect "$out" upnp_status '"empty-address"'
	# natpmpc sees the same refusal; upnpc the same empty address.
	pmp=$(lab_client timeout 5 natpmpc -g "$GW" 2>&1)
	check "natpmpc gets no public address either: ${pmp##*$'\n'}" \
		grep -qE 'readnatpmpresponseorretry returned -5[0-9]' <<<"$pmp"
	upnp=$(lab_client timeout 5 upnpc -u "http://$GW:$HTTP_PORT/rootDesc.xml" -s 2>&1)
	check "upnpc -s: GetExternalIPAddress failed (empty string)" \
		grep -q 'GetExternalIPAddress failed. (empty string)' <<<"$upnp"
}

scn_miniupnpd() {
	local out
	up miniupnpd || { fail "lab"; return; }
	out="$LAB_TMP/mini.json"
	if ! { open_router_input && start_miniupnpd; }; then
		fail "miniupnpd did not start"; down; return
	fi
	run_natcheck "$out" upnp
	assert_miniupnpd "$out"
	down
}

# The home router (miniupnpd, outside 100.64.0.2) behind a carrier NAT
# (100.64.0.1 inside, 198.51.100.1 outside), built from lib.sh's pieces:
# the carrier lives in LAB_NS_W, so lab_down deletes it with the rest.
up_double() {
	local p ns
	SCN=double-nat
	echo "== $SCN"
	if [ -z "${LAB_TRAP_SET:-}" ]; then
		trap 'lab_cleanup' EXIT
		trap 'lab_cleanup; exit 130' INT
		trap 'lab_cleanup; exit 143' TERM
		LAB_TRAP_SET=1
	fi
	[ -n "$LAB_TMP" ] || LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/natlab.XXXXXX") || return 1
	lab_set_prefix
	p=$LAB_PREFIX
	LAB_NS_C="${p}-c" LAB_NS_R="${p}-r" LAB_NS_S="${p}-s" LAB_NS_W="${p}-n"
	LAB_IF_RI="${p}ri" LAB_IF_RO="${p}ro"
	# shellcheck disable=SC2034  # read by lab_down
	LAB_UP=1
	for ns in "$LAB_NS_C" "$LAB_NS_R" "$LAB_NS_W" "$LAB_NS_S"; do
		ip netns add "$ns" || return 1
		lab_ns_sysctls "$ns"
	done
	ip link add "${p}ci" netns "$LAB_NS_C" type veth peer name "$LAB_IF_RI" netns "$LAB_NS_R" &&
	ip link add "$LAB_IF_RO" netns "$LAB_NS_R" type veth peer name "${p}ni" netns "$LAB_NS_W" &&
	ip link add "${p}no" netns "$LAB_NS_W" type veth peer name "${p}so" netns "$LAB_NS_S" &&
	ip -n "$LAB_NS_C" addr add "$LAB_CLIENT/24" dev "${p}ci" &&
	ip -n "$LAB_NS_R" addr add "$GW/24" dev "$LAB_IF_RI" &&
	ip -n "$LAB_NS_R" addr add 100.64.0.2/24 dev "$LAB_IF_RO" &&
	ip -n "$LAB_NS_W" addr add 100.64.0.1/24 dev "${p}ni" &&
	ip -n "$LAB_NS_W" addr add "$LAB_PUBLIC1/24" dev "${p}no" &&
	ip -n "$LAB_NS_S" addr add "$LAB_SERVER_LINK/24" dev "${p}so" &&
	ip -n "$LAB_NS_S" addr add "$LAB_SERVER1/32" dev "${p}so" &&
	ip -n "$LAB_NS_S" addr add "$LAB_SERVER2/32" dev "${p}so" || return 1
	for ns in C:"${p}ci" R:"$LAB_IF_RI" R:"$LAB_IF_RO" W:"${p}ni" W:"${p}no" S:"${p}so"; do
		local var="LAB_NS_${ns%%:*}"
		ip -n "${!var}" link set "${ns#*:}" up || return 1
	done
	ip -n "$LAB_NS_C" route add 198.51.100.0/24 via "$GW" &&
	ip -n "$LAB_NS_C" route add 203.0.113.0/24 via "$GW" &&
	ip -n "$LAB_NS_R" route add 203.0.113.0/24 via 100.64.0.1 &&
	ip -n "$LAB_NS_W" route add 203.0.113.0/24 via "$LAB_SERVER_LINK" &&
	ip netns exec "$LAB_NS_R" sysctl -qw net.ipv4.ip_forward=1 &&
	ip netns exec "$LAB_NS_W" sysctl -qw net.ipv4.ip_forward=1 || return 1
	# Both are port-restricted cones (masquerade), nothing reaches them.
	nat_rules "$LAB_IF_RI" "$LAB_IF_RO" | lab_router nft -f - &&
	nat_rules "${p}ni" "${p}no" | ip netns exec "$LAB_NS_W" nft -f - || return 1
	lab_spawn srv s stund -h "$LAB_SERVER1" -a "$LAB_SERVER2" || return 1
	lab_wait_udp s "$LAB_SERVER1" 3478
}

# nat_rules IN OUT: lib.sh's base rules and a masquerading NAT.
nat_rules() {
	lab_base_rules
	cat <<-EOF
		table inet lab {
			chain forward {
				type filter hook forward priority 0; policy drop;
				iifname "$1" oifname "$2" accept
				iifname "$2" oifname "$1" ct state established,related accept
			}
		}
		table ip labnat {
			chain post {
				type nat hook postrouting priority 100; policy accept;
				oifname "$2" masquerade
			}
		}
	EOF
}

scn_double() {
	local out mapped
	up_double || { fail "lab"; down; return; }
	out="$LAB_TMP/double.json"
	if ! { open_router_input && start_miniupnpd; }; then
		fail "miniupnpd did not start"; down; return
	fi
	run_natcheck "$out" upnp
	assert_miniupnpd "$out"
	# The server saw the carrier's address, not the home router's.
	mapped=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mapped"])' "$out")
	check "mapped address is the carrier NAT's ($mapped)" test "${mapped%:*}" = "$LAB_PUBLIC1"
	down
}

# scn_none NAME DELAY_MS WANT: no gateway daemon; WANT is what NAT-PMP and
# PCP must be, or "by-time" for what the man page makes of the probes'
# own duration.
scn_none() {
	local name=$1 out ms want=$3
	up "$name" "$2" || { fail "lab"; return; }
	out="$LAB_TMP/$name.json"
	run_natcheck "$out" none
	expect "$out" gateway "\"$GW\""
	# SSDP silence is only "no UPnP" after the whole MX second; a run
	# that is otherwise done stops sooner and says it could not tell.
	expect "$out" upnp null
	expect "$out" upnp_status '"timeout"'
	# NAT-PMP and PCP: silent.  When the STUN tests end before their
	# 250 ms window it is cut short (unknown, null); otherwise it closes
	# (not spoken, false).  Which one, the probes' own duration says.
	ms=$(jget "$out" elapsed_ms)
	if [ "$want" = by-time ]; then
		if [ "$ms" -lt 250 ]; then want=null; else want=false; fi
	fi
	echo "   the probes took $ms ms: NAT-PMP and PCP must be $want"
	expect "$out" natpmp "$want"
	expect "$out" pcp "$want"
	expect "$out" natpmp_status '"timeout"'
	expect "$out" pcp_status '"timeout"'
	expect "$out" double_nat null
	expect "$out" double_nat_reason '"no-port-mapping-protocol"'
	# Semantic, not a timing: the probes did not hold the run to -t.
	check "the run ended by its tests, not by -t (no timeout finding)" \
		python3 -c 'import json, sys
sys.exit(any(f["code"] == "timeout" for f in json.load(open(sys.argv[1]))["findings"]))' "$out"
	down
}

scn_gw() {
	local ext="$1" dn="$2" why="$3" out pmp upnp other
	up "gateway-$ext" || { fail "lab"; return; }
	out="$LAB_TMP/gw.json"
	if ! { open_router_input && start_pmgw "$ext"; }; then
		fail "pmgw did not start"; down; return
	fi
	run_natcheck "$out" upnp
	expect "$out" upnp true
	expect "$out" natpmp true
	expect "$out" pcp true
	expect "$out" natpmp_result 0
	expect "$out" external "\"$ext\""
	expect "$out" upnp_external "\"$ext\""
	expect "$out" double_nat "$dn"
	expect "$out" double_nat_reason "\"$why\""
	# What natcheck asked, as the gateway logged it: only the read-only five.
	other=$(grep -v -E '^pmgw: (natpmp-external|pcp-announce|m-search|get-description|soap-GetExternalIPAddress)$' \
		"$out.gw" | tr '\n' ' ')
	check "natcheck asked only read-only requests (others: $other)" test -z "$other"
	check "natcheck asked every protocol" test "$(sort -u "$out.gw" | wc -l)" -eq 5
	pmp=$(lab_client timeout 5 natpmpc -g "$GW" 2>&1)
	check "natpmpc agrees: $ext" grep -q "Public IP address : $ext" <<<"$pmp"
	upnp=$(lab_client timeout 5 upnpc -u "http://$GW:$HTTP_PORT/rootDesc.xml" -s 2>&1)
	check "upnpc -s agrees: $ext" grep -q "ExternalIPAddress = $ext" <<<"$upnp"
	down
}

for s in ${PORTMAP_SCENARIOS:-miniupnpd double-nat none none-slow gw-equal gw-differs gw-cgn}; do
	case $s in
	miniupnpd) scn_miniupnpd ;;
	double-nat) scn_double ;;
	none) scn_none none 0 by-time ;;
	none-slow) scn_none none-slow 100 false ;;
	gw-equal) scn_gw 198.51.100.1 false external-equals-mapped ;;
	gw-differs) scn_gw 198.51.100.77 true external-differs-from-mapped ;;
	gw-cgn) scn_gw 100.64.0.9 true carrier-grade-nat ;;
	*) fail "unknown scenario $s" ;;
	esac
done

printf "portmap lab: "
lab_finish "$PASSED" "$FAILED"
