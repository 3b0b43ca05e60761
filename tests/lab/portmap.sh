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
#   none        nothing: NAT-PMP and PCP end false within their 250 ms
#               window, UPnP null (the STUN tests ended before the 1.1 s
#               an M-SEARCH answer may take), double NAT unknown.
#   gw-equal    tests/lab/pmgw.py reporting 198.51.100.1 (the mapped address):
#               double NAT false.
#   gw-differs  pmgw.py reporting 198.51.100.77: double NAT true.
#   gw-cgn      pmgw.py reporting 100.64.0.9: double NAT true, carrier-grade.
# Every natcheck answer is cross-checked with Debian's natpmpc and upnpc,
# and after every natcheck run the router's nftables ruleset and the
# gateway's mapping list (upnpc -l) must be exactly as before: natcheck
# only reads.  Multicast (SSDP) stays inside the lab's namespaces.
# PORTMAP_SCENARIOS="miniupnpd none ..." picks scenarios.
# Root only; skipped with one line otherwise (exit 1 when $CI is set).
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
	lab_client timeout 10 "$NATCHECK" --json -v "$LAB_SERVER1" >"$out" 2>"$out.err"
	gateway_state "$kind" >"$LAB_TMP/after"
	check "natcheck printed JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out"
	check "the gateway is unchanged by natcheck (ruleset, mapping list): $(
		diff "$LAB_TMP/before" "$LAB_TMP/after" | head -5 | tr '\n' ' ')" \
		cmp -s "$LAB_TMP/before" "$LAB_TMP/after"
}

up() {
	SCN=$1
	echo "== $SCN"
	lab_up port-restricted-cone || return 1
	lab_spawn srv s stund -h "$LAB_SERVER1" -a "$LAB_SERVER2" || return 1
	lab_wait_udp s "$LAB_SERVER1" 3478
}

down() {
	lab_down
}

# ---------------------------------------------------------------- scenarios

scn_miniupnpd() {
	local out pmp upnp
	up miniupnpd || { fail "lab"; return; }
	out="$LAB_TMP/mini.json"
	open_router_input && start_miniupnpd || { fail "miniupnpd did not start"; down; return; }
	run_natcheck "$out" upnp
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
	# natpmpc sees the same refusal; upnpc the same empty address.
	pmp=$(lab_client timeout 5 natpmpc -g "$GW" 2>&1)
	check "natpmpc also gets no public address (${pmp##*$'\n'})" \
		grep -qiE 'NETWORKFAILURE|failed|error' <<<"$pmp"
	upnp=$(lab_client timeout 5 upnpc -u "http://$GW:$HTTP_PORT/rootDesc.xml" -s 2>&1)
	check "upnpc -s reports no usable external address either" \
		grep -qiE 'ExternalIPAddress = *$|GetExternalIPAddress.*(failed|error)|ExternalIPAddress = 0\.0\.0\.0|^ExternalIPAddress' \
		<<<"$upnp"
	if grep -qE 'ExternalIPAddress = [0-9]' <<<"$upnp" && ! grep -q 'ExternalIPAddress = 0.0.0.0' <<<"$upnp"; then
		fail "upnpc got an external address natcheck did not: $(grep ExternalIP <<<"$upnp")"
	fi
	down
}

scn_none() {
	local out ms
	up none || { fail "lab"; return; }
	out="$LAB_TMP/none.json"
	run_natcheck "$out" none
	expect "$out" gateway "\"$GW\""
	# SSDP silence is only "no UPnP" after the whole MX second; a run
	# that is otherwise done stops sooner and says it could not tell.
	expect "$out" upnp null
	expect "$out" upnp_status '"timeout"'
	expect "$out" natpmp false
	expect "$out" pcp false
	expect "$out" double_nat null
	expect "$out" double_nat_reason '"no-port-mapping-protocol"'
	# The probes end at their UDP window (250 ms), not at the run's cap
	# (a bound on the engine's deadline, far from any timing noise).
	ms=$(jget "$out" elapsed_ms)
	check "portmap ended within its window (elapsed ${ms} ms)" test "$ms" -lt 1000
	down
}

scn_gw() {
	local ext="$1" dn="$2" why="$3" out pmp upnp
	up "gateway-$ext" || { fail "lab"; return; }
	out="$LAB_TMP/gw.json"
	open_router_input && start_pmgw "$ext" || { fail "pmgw did not start"; down; return; }
	run_natcheck "$out" upnp
	expect "$out" upnp true
	expect "$out" natpmp true
	expect "$out" pcp true
	expect "$out" natpmp_result 0
	expect "$out" external "\"$ext\""
	expect "$out" upnp_external "\"$ext\""
	expect "$out" double_nat "$dn"
	expect "$out" double_nat_reason "\"$why\""
	pmp=$(lab_client timeout 5 natpmpc -g "$GW" 2>&1)
	check "natpmpc agrees: $ext" grep -q "Public IP address : $ext" <<<"$pmp"
	upnp=$(lab_client timeout 5 upnpc -u "http://$GW:$HTTP_PORT/rootDesc.xml" -s 2>&1)
	check "upnpc -s agrees: $ext" grep -q "ExternalIPAddress = $ext" <<<"$upnp"
	down
}

for s in ${PORTMAP_SCENARIOS:-miniupnpd none gw-equal gw-differs gw-cgn}; do
	case $s in
	miniupnpd) scn_miniupnpd ;;
	none) scn_none ;;
	gw-equal) scn_gw 198.51.100.1 false external-equals-mapped ;;
	gw-differs) scn_gw 198.51.100.77 true external-differs-from-mapped ;;
	gw-cgn) scn_gw 100.64.0.9 true carrier-grade-nat ;;
	*) fail "unknown scenario $s" ;;
	esac
done

echo "portmap lab: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
