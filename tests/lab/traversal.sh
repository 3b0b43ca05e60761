#!/usr/bin/env bash
# tests/lab/traversal.sh NATCHECK - binding lifetime, refresh, port allocation
# and the hole-punching forecast against real kernel NATs (issue #10).
#
#   lifetime   masquerade with the router's conntrack UDP timeouts
#              (net.netfilter.nf_conntrack_udp_timeout and _stream, per
#              namespace) set to 10 s and to 40 s: `natcheck --lifetime`'s
#              bracket must hold the truth, be at most max(2 s, 10 %) wide,
#              and say "inbound" (conntrack refreshes on traffic both ways);
#              its wall time is bench/traversal.sh's to judge.
#   outbound   a NAT whose filter only outbound traffic refreshes: conntrack
#              timeouts of 120 s keep the mapping, but inbound datagrams pass
#              only while an nftables set element, (inside address . inside
#              port), lives; outbound datagrams `update` it with a 10 s
#              timeout, inbound ones never touch it.  The binding as a peer
#              sees it lives 10 s after the last outbound datagram, whatever
#              comes in: the bracket must hold 10 s and the refresh must be
#              "outbound-only".
#   allocation masquerade keeps ports ("preserving"); `snat to ADDR : numgen
#              inc mod 256 map { 0 : 30000, ... }` hands out 30000, 30001,
#              ... in order ("sequential", delta 1; numgen's value used
#              directly as a port would land byte-swapped); fully-random
#              snat ("random").
#   pair       --pair over the saved results (one of them moved to another
#              public address, as if from a host behind another NAT):
#              preserving x random needs a relay (21), x sequential port
#              prediction (20), x preserving works directly (0); two results
#              from the same public address of a NAT that does not hairpin
#              cannot tell (22).
#   natdisc    coturn's turnutils_natdiscovery -t -T N (one binding, checked
#              once after N s, against coturn) agrees with the lab's 10 s
#              conntrack timeout: alive after 9 s, gone after 12 s.
# LAB_TRAVERSAL="lifetime outbound allocation pair natdisc" picks parts;
# LAB_LIFETIMES="10 40" the conntrack timeouts of the lifetime part;
# LAB_TRAVERSAL_REPORT=FILE appends one JSON line per measurement (for
# bench/traversal.sh).
# Root only; skipped with one line otherwise (exit status 77, a skip).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/lab/peers.sh
. "$here/peers.sh"

lab_preflight "lab traversal" turnserver:coturn turnutils_natdiscovery:coturn
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK (an executable natcheck)" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PARTS=${LAB_TRAVERSAL:-lifetime outbound allocation pair natdisc}
LIFETIMES=${LAB_LIFETIMES:-10 40}
REPORT=${LAB_TRAVERSAL_REPORT:-}
PASSED=0 FAILED=0
RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/natlab-trav.XXXXXX") || exit 1
trap 'lab_cleanup; rm -rf "$RESULTS"' EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok    $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL  $*"; }
want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# router_rules NAT_RULES [FILTER_RULES]: replace the router's rules; @RI@
# and @RO@ stand for the inside and outside interfaces.  The forward filter
# lets everything out and, unless FILTER_RULES says otherwise, only
# conntrack's replies in.
router_rules() {
	local nat="$1" filter="${2:-iifname @RO@ oifname @RI@ ct state established,related accept}"
	nat=${nat//@RO@/\"$LAB_IF_RO\"} filter=${filter//@RO@/\"$LAB_IF_RO\"}
	filter=${filter//@RI@/\"$LAB_IF_RI\"}
	{
		lab_base_rules
		cat <<-EOF
			table inet labtrav {
				set pin {
					type ipv4_addr . inet_service
					flags dynamic,timeout
				}
				chain forward {
					type filter hook forward priority 0; policy drop;
					$filter
					iifname "$LAB_IF_RI" oifname "$LAB_IF_RO" accept
				}
			}
			table ip labnat {
				chain post {
					type nat hook postrouting priority 100; policy accept;
					$nat
				}
			}
		EOF
	} >"$LAB_TMP/trav.nft"
	lab_router nft -f "$LAB_TMP/trav.nft"
}

# conntrack_timeout SECONDS: both UDP timeouts of the router's namespace.
conntrack_timeout() {
	lab_router sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$1" \
		net.netfilter.nf_conntrack_udp_timeout_stream="$1"
}

# up NAME: a lab with natcheck --serve; its rules are the caller's.
up() {
	if ! lab_up port-restricted-cone 0 0; then
		fail "$1: lab_up failed"
		lab_down
		return 1
	fi
	if ! peer_start srv natcheck; then
		fail "$1: natcheck --serve did not start"
		lab_down
		return 1
	fi
}

# natcheck_json FILE ARGS...: run natcheck --json in the client namespace.
natcheck_json() {
	local out="$1"
	shift
	lab_client timeout 600 "$NATCHECK" --json "$@" "$LAB_SERVER1" >"$out" 2>"$out.err"
}

# check_lifetime FILE TRUTH_S REFRESH WALL_S NAME: the bracket holds the
# truth, is at most max(2 s, 10 %) wide, and names the refresh.  How long
# the run took (the man page's "about 1.25 times the lifetime plus 5
# seconds") is a performance figure: reported, and judged by
# bench/traversal.sh, not here.
check_lifetime() {
	local why ok=0
	why=$(python3 - "$1" "$2" "$3" "$4" "$5" "$REPORT" <<-'EOF'
		import json, sys
		truth, refresh, wall = float(sys.argv[2]), sys.argv[3], float(sys.argv[4])
		try:
		    doc = json.load(open(sys.argv[1]))
		except ValueError:
		    doc = {}
		lt = doc.get("lifetime") or {}
		a, e = lt.get("alive_s"), lt.get("expired_s")
		bad = []
		if a is None or e is None:
		    bad.append("no bracket")
		else:
		    if not a <= truth <= e:
		        bad.append(f"bracket {a}..{e} misses {truth}")
		    if e - a > max(2.0, truth / 10) + 0.05:
		        bad.append(f"bracket {a}..{e} wider than max(2 s, 10 %)")
		if lt.get("refresh") != refresh:
		    bad.append(f"refresh {lt.get('refresh')}, not {refresh}")
		if sys.argv[6]:
		    with open(sys.argv[6], "a") as f:
		        f.write(json.dumps({"kind": "lifetime", "case": sys.argv[5], "truth": truth,
		                            "alive_s": a, "expired_s": e, "refresh": lt.get("refresh"),
		                            "wall": wall, "ok": not bad}) + "\n")
		print("; ".join(bad) if bad else f"bracket {a}..{e} s, refresh {refresh}, {wall:.0f} s")
		sys.exit(1 if bad else 0)
	EOF
	) || ok=1
	if [ "$ok" = 0 ]; then
		pass "$5: $why"
	else
		fail "$5: $why ($(head -c 300 "$1.err"))"
	fi
}

lifetime_case() {
	local name="$1" truth="$2" refresh="$3" nat="$4" filter="${5:-}" ct="${6:-$2}" t0 t1
	up "$name" || return
	if ! router_rules "$nat" "$filter" || ! conntrack_timeout "$ct"; then
		fail "$name: router rules or sysctls rejected"
		lab_down
		return
	fi
	t0=$(date +%s.%N)
	natcheck_json "$RESULTS/$name.json" --lifetime=$((truth * 3))
	t1=$(date +%s.%N)
	check_lifetime "$RESULTS/$name.json" "$truth" "$refresh" \
		"$(python3 -c "print($t1 - $t0)")" "$name"
	lab_down
}

MASQ="oifname @RO@ ip saddr 192.0.2.0/24 masquerade"

if want lifetime; then
	echo "== lifetime: conntrack timeouts $LIFETIMES (seconds)"
	for t in $LIFETIMES; do
		lifetime_case "conntrack-${t}s" "$t" inbound "$MASQ"
	done
fi

if want outbound; then
	echo "== refresh: a filter only outbound traffic refreshes"
	lifetime_case outbound-only-10s 10 outbound-only "$MASQ" \
		"iifname @RI@ oifname @RO@ meta l4proto udp update @pin { ip saddr . udp sport timeout 10s }
		iifname @RO@ oifname @RI@ ct state established,related ip daddr . udp dport @pin accept" 120
fi

# allocation_case NAME "ALLOCATION DELTA" NAT_RULES: ports.allocation and
# ports.delta (JSON: null unless sequential) exactly.
allocation_case() {
	local name="$1" want="$2" got ok
	up "$name" || return
	if ! router_rules "$3"; then
		fail "$name: router rules rejected"
		lab_down
		return
	fi
	natcheck_json "$RESULTS/$name.json"
	# "ALLOCATION DELTA SAMPLES"; the first two must be exactly WANT's.
	got=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["ports"]; print(p["allocation"], json.dumps(p["delta"]), p["samples"])' \
		"$RESULTS/$name.json" 2>/dev/null)
	if [ "${got% *}" = "$want" ]; then
		pass "$name: allocation $got"
		ok=true
	else
		fail "$name: allocation and delta '${got% *}' (samples ${got##* }), want '$want' ($(head -c 300 "$RESULTS/$name.json.err"))"
		ok=false
	fi
	if [ -n "$REPORT" ]; then
		printf '{"kind":"allocation","case":"%s","want":"%s","got":"%s","ok":%s}\n' \
			"$name" "$want" "$got" "$ok" >>"$REPORT"
	fi
	lab_down
}

if want allocation || want pair; then
	echo "== allocation"
	allocation_case preserving "preserving null" "$MASQ"
	allocation_case sequential "sequential 1" \
		"oifname @RO@ ip saddr 192.0.2.0/24 meta l4proto udp snat ip to $LAB_PUBLIC1 : numgen inc mod 256 map { $(scn_sequential_port_map) }"
	allocation_case random "random null" \
		"oifname @RO@ ip saddr 192.0.2.0/24 meta l4proto udp snat to $LAB_PUBLIC1:1024-65535 fully-random"
fi

# elsewhere NAME: NAME's result as if from a host behind another NAT: the
# lab has one public address, and two results from one address are (rightly)
# "cannot tell" unless that NAT hairpins.
elsewhere() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["mapped"]="203.0.113.200:"+d["mapped"].rsplit(":",1)[1]; json.dump(d,open(sys.argv[2],"w"))' \
		"$RESULTS/$1.json" "$RESULTS/$1-elsewhere.json"
}

if want pair; then
	echo "== --pair over the saved results"
	for spec in "preserving random-elsewhere 21" "preserving sequential-elsewhere 20" \
		"sequential sequential-elsewhere 20" "preserving preserving-elsewhere 0" \
		"preserving random 22"; do
		read -r a b code <<<"$spec"
		if [ ! -s "$RESULTS/$a.json" ] || [ ! -s "$RESULTS/${b%-elsewhere}.json" ] ||
			! { [ "$b" = "${b%-elsewhere}" ] || elsewhere "${b%-elsewhere}"; }; then
			fail "--pair $a $b: a result is missing"
			continue
		fi
		"$NATCHECK" --pair "$RESULTS/$a.json" "$RESULTS/$b.json" >"$RESULTS/pair.out" 2>&1
		rc=$?
		if [ "$rc" = "$code" ]; then
			pass "--pair $a $b: exit $rc ($(grep '^Path' "$RESULTS/pair.out" | tr -s ' '))"
		else
			fail "--pair $a $b: exit $rc, want $code: $(tr '\n' ' ' <"$RESULTS/pair.out")"
		fi
	done
fi

# natdisc T: coturn's lifetime test with a T s timer: "alive" when its
# second binding response came through the old mapping, "gone" when it
# timed out, else what it printed.
natdisc() {
	local out
	out=$(lab_client timeout $(($1 + 30)) turnutils_natdiscovery -t -T "$1" "$LAB_SERVER1" 2>&1)
	if printf '%s\n' "$out" | grep -q "RFC 5780 response 2"; then
		echo alive
	elif printf '%s\n' "$out" | grep -q "STUN receive timeout"; then
		echo gone
	else
		printf '%s\n' "$out" | tail -n 3 | tr '\n' ' '
	fi
}

if want natdisc; then
	echo "== turnutils_natdiscovery -t agrees (10 s conntrack timeout)"
	# Either side of the lab's own timeout (the truth, which natcheck's
	# bracket must hold), not of natcheck's bracket.
	truth=10 below=9 above=12
	if up natdisc; then
		lab_stop srv
		if ! router_rules "$MASQ" || ! conntrack_timeout "$truth" || ! peer_start srv coturn; then
			fail "natdisc: rules or coturn failed"
		else
			b=$(natdisc "$below") a=$(natdisc "$above")
			if [ "$b" = alive ] && [ "$a" = gone ]; then
				pass "natdisc: alive after $below s, gone after $above s"
			else
				fail "natdisc: after $below s: $b; after $above s: $a"
			fi
		fi
		lab_down
	fi
fi

lab_finish "$PASSED" "$FAILED"
