#!/usr/bin/env bash
# tests/lab/tcp.sh NATCHECK - natcheck --tcp against real kernel NATs
# (issue #12, client side).
#
# The lab's topology (lib.sh) with the router's nftables ruleset replaced
# per scenario, and coturn's turnserver on both server addresses and both
# ports, with TCP on: it answers STUN Binding over UDP and over TCP.  In
# each scenario natcheck --json --tcp runs in the client namespace and the
# TCP verdict and the UDP verdict (type, mapping, filtering, hairpinning,
# and the exit status, which is UDP's) are asserted apart:
#   tcp-masquerade   masquerade for both: TCP endpoint-independent (the
#                    port is kept per connection), UDP port-restricted cone
#   tcp-random       TCP masquerade random: a fresh port per connection,
#                    address-and-port-dependent; UDP still independent
#   fake-full-cone   UDP a 1:1 NAT (full cone), TCP masquerade random:
#                    the "full cone" that is symmetric for TCP
#   tcp-hairpin      masquerade, and TCP to the public address loops back
#                    (DNAT + SNAT): TCP hairpinning yes
#   tcp-no-hairpin   masquerade alone: the hairpin SYN dies in the router:
#                    TCP hairpinning no
#   tcp-hairpin-rst  masquerade, and the router's own stack answers the
#                    hairpin SYN with a reset (a closed port on its public
#                    address, as many home routers do): TCP hairpinning no
#   tcp-blocked      masquerade, TCP dropped in the forward chain: TCP
#                    blocked, the UDP verdict untouched
# LAB_TCP_SCENARIOS="a b" picks scenarios; LAB_TCP_DELAY=MS puts lib.sh's
# delay line in (MS each way), on the side LAB_DELAY_SIDE names.
# Root only; skipped with one line otherwise (exit status 77, a skip).
# Sourced (bench/tcp.sh does), it only defines the scenarios' functions:
# tcp_setup SCENARIO [DELAY_MS] builds one, tcp_expect says what it must
# give.
set -u

tcp_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$tcp_here/lib.sh"

TCP_SCENARIOS="tcp-masquerade tcp-random fake-full-cone tcp-hairpin tcp-no-hairpin tcp-hairpin-rst
tcp-blocked"

# The router's rules for scenario $1 (after lab_base_rules).
#   udp:  masq (masquerade) or cone (1:1 NAT on the public address)
#   tcp:  masq, random (masquerade random) or drop
#   hair: 1 when TCP to the public address from inside loops back,
#         rst when the router resets it (before lab_base_rules' drop)
tcp_rules() {
	local udp=masq tcp=masq hair=0
	case "$1" in
	tcp-masquerade|tcp-no-hairpin) ;;
	tcp-hairpin-rst) hair=rst ;;
	tcp-random)     tcp=random ;;
	fake-full-cone) udp=cone tcp=random ;;
	tcp-hairpin)    hair=1 ;;
	tcp-blocked)    tcp=drop ;;
	*) lab_die "unknown TCP scenario $1"; return 1 ;;
	esac
	cat <<-EOF
		table inet lab {
			chain forward {
				type filter hook forward priority 0; policy drop;
				$([ "$tcp" = drop ] && echo "meta l4proto tcp drop")
				iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" accept
				iifname "$LAB_IF_RO" ct state established,related accept
				$([ "$udp" = cone ] && echo "iifname \"$LAB_IF_RO\" ip daddr $LAB_CLIENT meta l4proto udp accept")
				$([ "$hair" = 1 ] && echo "iifname \"$LAB_IF_RI\" oifname \"$LAB_IF_RI\" accept")
			}
		}
		$([ "$hair" = rst ] && printf 'table inet labrst { chain input { type filter hook input priority -1; policy accept; iifname "%s" ip daddr %s meta l4proto tcp reject with tcp reset; }; }' "$LAB_IF_RI" "$LAB_PUBLIC1")
		table ip labnat {
			chain pre {
				type nat hook prerouting priority -100; policy accept;
				$([ "$udp" = cone ] && echo "iifname \"$LAB_IF_RO\" ip daddr $LAB_PUBLIC1 meta l4proto udp dnat to $LAB_CLIENT")
				$([ "$hair" = 1 ] && echo "iifname \"$LAB_IF_RI\" ip daddr $LAB_PUBLIC1 meta l4proto tcp dnat to $LAB_CLIENT")
			}
			chain post {
				type nat hook postrouting priority 100; policy accept;
				$([ "$udp" = cone ] && echo "oifname \"$LAB_IF_RO\" ip saddr $LAB_CLIENT meta l4proto udp snat to $LAB_PUBLIC1")
				oifname "$LAB_IF_RO" ip saddr 192.0.2.0/24 meta l4proto udp masquerade
				oifname "$LAB_IF_RO" ip saddr 192.0.2.0/24 meta l4proto tcp masquerade $([ "$tcp" = random ] && echo random)
				$([ "$hair" = 1 ] && echo "oifname \"$LAB_IF_RI\" ip saddr 192.0.2.0/24 ct status dnat snat to $LAB_PUBLIC1")
			}
		}
	EOF
}

# What scenario $1 must give: udp_type udp_mapping tcp_status tcp_mapping
# tcp_hairpinning udp_filtering udp_hairpinning (JSON words; null for
# null).  UDP is masquerade's port-restricted cone, or the 1:1 NAT's full
# cone, and never hairpins (nothing but TCP loops back).
tcp_expect() {
	local prc="port-restricted-cone endpoint-independent" prc_f="address-and-port-dependent false"
	case "$1" in
	tcp-masquerade) echo "$prc ok endpoint-independent false $prc_f" ;;
	tcp-random)     echo "$prc ok address-and-port-dependent false $prc_f" ;;
	fake-full-cone) echo "full-cone endpoint-independent ok address-and-port-dependent false endpoint-independent false" ;;
	tcp-hairpin)    echo "$prc ok endpoint-independent true $prc_f" ;;
	tcp-no-hairpin) echo "$prc ok endpoint-independent false $prc_f" ;;
	tcp-hairpin-rst) echo "$prc ok endpoint-independent false $prc_f" ;;
	tcp-blocked)    echo "$prc blocked unknown null $prc_f" ;;
	esac
}

# Bounded wait until something listens on TCP ADDR:PORT in the server ns.
wait_tcp() {
	local _
	for _ in $(seq 1 50); do
		lab_server ss -Hltn "src $1:$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	lab_die "nothing listens on TCP $1:$2"
}

start_coturn() {
	local a p
	: >"$LAB_TMP/coturn-empty.conf"
	rm -f "$LAB_TMP/coturn-turndb"
	# STUN only, UDP and TCP (no --no-tcp), no TLS, DTLS, CLI or relay.
	lab_spawn coturn s turnserver -c "$LAB_TMP/coturn-empty.conf" \
		-L "$LAB_SERVER1" -L "$LAB_SERVER2" -p 3478 --alt-listening-port 3479 \
		--stun-only --no-tls --no-dtls --no-cli --no-tcp-relay \
		--log-file "$LAB_TMP/coturn-turn.log" --simple-log --no-stdout-log \
		--userdb "$LAB_TMP/coturn-turndb" || return 1
	for a in "$LAB_SERVER1" "$LAB_SERVER2"; do
		for p in 3478 3479; do
			lab_wait_udp s "$a" "$p" || return 1
			wait_tcp "$a" "$p" || return 1
		done
	done
}

# check_json SCENARIO FILE RC: the JSON and natcheck's exit status against
# the scenario's expectations.  The exit status is the UDP verdict's
# (natcheck(1), --tcp).
check_json() {
	local want
	read -r -a want <<<"$(tcp_expect "$1")"
	python3 - "$1" "$2" "$3" "${want[@]}" <<-'EOF'
		import json, sys
		scn, path, rc, utype, umap, tstatus, tmap, thair, ufilt, uhair = sys.argv[1:11]
		hair_word = {"true": True, "false": False, "null": None}
		want_hair = hair_word[thair]
		exit_codes = {"open": 0, "full-cone": 10, "restricted-cone": 11,
		              "port-restricted-cone": 12, "symmetric": 13,
		              "symmetric-udp-firewall": 14, "udp-blocked": 15, "unknown": 16}
		try:
		    o = json.load(open(path))
		except ValueError as e:
		    print(f"FAIL {scn}: no JSON: {e}")
		    sys.exit(1)
		t = o.get("tcp") or {}
		bad = []
		if int(rc) != exit_codes[utype]:
		    bad.append(f"exit status {rc}, want {exit_codes[utype]} (UDP {utype})")
		for name, got, want in (("UDP type", o.get("type"), utype),
		                        ("UDP mapping", o.get("mapping"), umap),
		                        ("UDP filtering", o.get("filtering"), ufilt),
		                        ("UDP hairpinning", o.get("hairpinning"), hair_word[uhair]),
		                        ("TCP status", t.get("status"), tstatus),
		                        ("TCP mapping", t.get("mapping"), tmap),
		                        ("TCP hairpinning", t.get("hairpinning"), want_hair)):
		    if got != want:
		        bad.append(f"{name} {got!r}, want {want!r}")
		if t.get("status") == "ok":
		    locals_ = {x["local"] for x in t["tests"][:3] if x["result"] == "answered"}
		    if len(locals_) != 1:
		        bad.append(f"the mapping connections left from {sorted(locals_)}")
		# The hairpin guess (the UDP answer's IP, the listener's port) is
		# confirmed exactly when hairpin-binding's mapped address is it.
		tests = t.get("tests") or []
		hp = tests[4] if len(tests) == 5 else {}
		guess = hp.get("guess")
		if (hp.get("speculative") and o.get("mapped") and tests[3].get("mapped") and
		        tests[3].get("local")):
		    hb = tests[3]
		    right = hb["mapped"] == (o["mapped"].rsplit(":", 1)[0] + ":" +
		                             hb["local"].rsplit(":", 1)[1])
		    if guess != ("confirmed" if right else "discarded"):
		        bad.append(f"guess {guess!r} for {hb['mapped']!r} (UDP {o['mapped']!r})")
		# Hairpinning null without a NAT is "not applicable", no warning.
		if t.get("mapping") == "unknown" or (t.get("hairpinning") is None and
		                                     t.get("nat") is not False):
		    if not t.get("warnings"):
		        bad.append("an unknown TCP fact without a warning")
		for b in bad:
		    print(f"FAIL {scn}: {b}")
		print(f"{scn}: UDP {o.get('type')}/{o.get('mapping')}, TCP {t.get('status')} "
		      f"{t.get('mapping')} hairpin={t.get('hairpinning')} "
		      f"guess={guess} ({hp.get('speculative')} speculative)")
		sys.exit(1 if bad else 0)
	EOF
}

# tcp_setup SCENARIO [DELAY_MS]: the lab up with scenario's router rules
# and coturn serving; on failure nothing of it is left up.
tcp_setup() {
	# Any NAT scenario builds the topology; the rules are replaced below.
	lab_up port-restricted-cone "${2:-0}" || return 1
	if ! { lab_base_rules; tcp_rules "$1"; } >"$LAB_TMP/tcp-router.nft" ||
	    ! lab_router nft -f "$LAB_TMP/tcp-router.nft"; then
		lab_die "rules rejected (see $LAB_TMP/tcp-router.nft)"
		lab_down
		return 1
	fi
	start_coturn || { lab_down; return 1; }
}

run_scenario() {
	local scn="$1" out="$LAB_TMP/$1.json" rc
	tcp_setup "$scn" "${LAB_TCP_DELAY:-0}" || return 1
	lab_client timeout 30 "$NATCHECK" --json --tcp --no-portmap "$LAB_SERVER1:3478" \
		>"$out" 2>"$LAB_TMP/$scn.err"
	rc=$?
	if check_json "$scn" "$out" "$rc"; then
		rc=0
	else
		echo "   stderr: $(head -c 300 "$LAB_TMP/$scn.err")"
		rc=1
	fi
	lab_down
	return $rc
}

tcp_main() {
	local scn passed=0 failed=0
	lab_preflight "lab tcp" turnserver:coturn ss:iproute2 timeout:coreutils
	if [ $# -ne 1 ] || [ ! -x "$1" ]; then
		echo "usage: $0 NATCHECK (an executable natcheck)" >&2
		exit 2
	fi
	NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	for scn in ${LAB_TCP_SCENARIOS:-$TCP_SCENARIOS}; do
		if run_scenario "$scn"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
	done
	printf "lab tcp: "
	lab_finish "$passed" "$failed"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	tcp_main "$@"
fi
