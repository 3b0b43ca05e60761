#!/usr/bin/env bash
# tests/lab/run.sh NATCHECK - natcheck against real kernel NATs.
#
# For every scenario in scenarios.sh: build the lab, then against each of
#   stund          Debian's RFC 3489 server (two addresses, two ports)
#   coturn         turnserver on both addresses (RFC 5780)
#   natcheck       natcheck --serve on both addresses
#   coturn-1addr   turnserver on one address: no alternate, so natcheck
#                  must say "unknown" for what it cannot test
# run natcheck in text mode, twice with --json, and twice with -b ADDR:PORT
# (the pinned-port warning on stderr), and assert type, mapping, filtering
# and hairpinning (text: the printed type name), and the JSON runs' mapped
# address (the router's public address, or the client's own without NAT).  The peers check the lab itself:
# Debian's `stun` client against stund must name the classic type, coturn's
# turnutils_natdiscovery the mapping and filtering.
#
# Environment: LAB_SCENARIOS="a b ..." runs only those scenarios;
# LAB_JOBS=N runs N scenarios at a time (default 2; each has its own
# namespaces, so they cannot see each other).
# Root only; skipped with one line otherwise (exit status 77, a skip).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/lab/peers.sh
. "$here/peers.sh"
# shellcheck source=tests/lab/clients.sh
. "$here/clients.sh"

lab_preflight lab stund:stun-server stun:stun-client turnserver:coturn \
	turnutils_natdiscovery:coturn ss:iproute2 timeout:coreutils

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK (an executable natcheck)" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

PASSED=0 FAILED=0
declare -A CELL=()
FAIL_LINES=()
START_S=$(date +%s)
PINNED_PORT=47001

pass() { PASSED=$((PASSED + 1)); }
fail() {
	FAILED=$((FAILED + 1))
	FAIL_LINES+=("$LAB_SCENARIO: $*")
	echo "FAIL $LAB_SCENARIO: $*"
}

# ---------------------------------------------------------------- servers

SERVERS="stund coturn natcheck coturn-1addr"

# ---------------------------------------------------------------- peers

# Debian's stun client (RFC 3489) against stund: the lab's own check.
peer_stun() {
	local line v cell
	line=$(clients_stun "$LAB_NS_C" "$LAB_SERVER1")
	case "$line" in
	"Open"*) v=open ;;
	"Independent Mapping, Independent Filter"*) v=full ;;
	"Independent Mapping, Address Dependent Filter"*) v=restr ;;
	"Independent Mapping, Port Dependent Filter"*) v=port-restr ;;
	"Dependent Mapping"*) v=sym ;;
	"Firewall"*) v=sym-fw ;;
	"Blocked"*) v=blocked ;;
	*) v="?" ;;
	esac
	cell=$v
	case "$line" in *"will hairpin"*) cell="$cell H+" ;; *"no hairpin"*) cell="$cell H-" ;; esac
	local ok=1
	case "$line" in "$SCN_STUN"*) ;; *) ok=0 ;; esac
	if [ -n "$SCN_STUN_HAIRPIN" ]; then
		# The hairpinning variants rely on the port being kept.
		case "$line" in *"preserves ports"*"$SCN_STUN_HAIRPIN"*) ;; *) ok=0 ;; esac
	fi
	if [ $ok = 1 ]; then
		pass
	else
		cell="*$cell"
		fail "stun vs stund said '$line', want '$SCN_STUN${SCN_STUN_HAIRPIN:+ ... preserves ports, $SCN_STUN_HAIRPIN}'"
	fi
	CELL[$LAB_SCENARIO,stun]=$cell
}

_short() {
	case "$1" in
	endpoint-independent) echo EI ;;
	address-dependent) echo AD ;;
	address-and-port-dependent) echo APD ;;
	*) echo "?" ;;
	esac
}

# coturn's turnutils_natdiscovery -m -f (RFC 5780) against coturn.
peer_natdiscovery() {
	local m f cell
	read -r m f <<<"$(clients_rfc5780 "$(clients_natdisc "$LAB_NS_C" "$LAB_SERVER1")")"
	cell="M:$(_short "$m") F:$(_short "$f")"
	if [ "$m" = "$SCN_MAPPING" ] && [ "$f" = "$SCN_FILTERING" ]; then
		pass
	else
		cell="*$cell"
		fail "turnutils_natdiscovery said mapping $m filtering $f, want $SCN_MAPPING $SCN_FILTERING"
	fi
	CELL[$LAB_SCENARIO,natdisc]=$cell
}

# ---------------------------------------------------------------- natcheck

_type_short() {
	case "$1" in
	open) echo open ;; full-cone) echo full ;; restricted-cone) echo restr ;;
	port-restricted-cone) echo port-restr ;; symmetric) echo sym ;;
	symmetric-udp-firewall) echo sym-fw ;; udp-blocked) echo blocked ;;
	unknown) echo unknown ;; *) echo "?" ;;
	esac
}
_hair_short() {
	case "$1" in true) echo H+ ;; false) echo H- ;; *) echo "H?" ;; esac
}

# Show what a failed run said, and what it says with -v (bounded).
nc_detail() {
	local what="$1" out="$2" err="$3"
	shift 3
	echo "---- $LAB_SCENARIO / $CUR_SRV / $what: output"
	head -c 4000 "$out"; echo
	case " $* " in *" --json "*) python3 "$LAB_DIR/verdict.py" tests "$out" ;; esac
	echo "---- stderr"
	head -n 20 "$err"
	echo "---- the same run again with -v (first 80 lines of stderr)"
	lab_client timeout 30 "$NATCHECK" -v "$@" 2>&1 >/dev/null | head -n 80
	echo "----"
}

# nc_one WHAT MODE EXPECT(4 words) -- ARGS: one natcheck run, checked.
# Sets NC_GOT to what it said.
nc_one() {
	local what="$1" mode="$2" t="$3" m="$4" f="$5" h="$6"
	if [ $# -lt 7 ] || [ "$7" != -- ]; then
		# A caller's mistake: the expectation would eat natcheck's arguments.
		NC_GOT=
		fail "nc_one $what: want WHAT MODE TYPE MAPPING FILTERING HAIRPIN -- ARGS, got: $*"
		return 1
	fi
	shift 7
	local out="$LAB_TMP/nc.out" err="$LAB_TMP/nc.err" rc res
	lab_client timeout 60 "$NATCHECK" "$@" >"$out" 2>"$err"
	rc=$?
	res=$(python3 "$LAB_DIR/verdict.py" "$mode" "$out" "$rc" "$t" "$m" "$f" "$h")
	local vrc=$?
	NC_GOT=$(printf '%s\n' "$res" | head -n 1)
	if [ $vrc = 0 ]; then
		pass
		return 0
	fi
	fail "natcheck vs $CUR_SRV: natcheck $* ($what, exit $rc): $(printf '%s\n' "$res" | tail -n +2 | tr '\n' ';')"
	nc_detail "$what" "$out" "$err" "$@"
	return 1
}

# nc_mapped WHAT: the last JSON run's mapped IP address is the one the lab
# gives the client's traffic to the server: the router's public address
# behind a NAT, the client's own without one, none where UDP is blocked.
nc_mapped() {
	local want got
	if [ "$SCN_TYPE" = udp-blocked ]; then
		want=null
	elif [ "$SCN_ROUTE_INSIDE" = 1 ]; then
		want=$LAB_CLIENT
	else
		want=$LAB_PUBLIC1
	fi
	got=$(python3 -c 'import json, sys
m = json.load(open(sys.argv[1])).get("mapped")
print("null" if m is None else m.rsplit(":", 1)[0])' "$LAB_TMP/nc.out" 2>/dev/null)
	if [ "$got" = "$want" ]; then
		pass
		return 0
	fi
	fail "natcheck vs $CUR_SRV ($1): mapped address ${got:-unreadable}, the lab's is $want"
	return 1
}

# nc_server NAME: every natcheck check against the server now running.
nc_server() {
	local srv="$1" t m f h topt=()
	t=$SCN_TYPE m=$SCN_MAPPING f=$SCN_FILTERING h=$SCN_HAIRPIN
	if [ "$srv" = coturn-1addr ] && [ "$t" != udp-blocked ]; then
		# No alternate address: neither mapping nor filtering can be tested,
		# so no RFC 3489 type either.  Hairpinning is still observable, but
		# "no" can only be concluded for a known independent mapping.
		t=unknown m=unknown f=unknown
		[ "$h" = true ] || h=null
	fi
	# Nothing ever answers through a UDP-blocking router; the run lasts
	# exactly its cap, so keep that short.
	[ "$SCN_TYPE" = udp-blocked ] && topt=(-t 1)

	local ok=1 first
	nc_one text text "$t" "$m" "$f" "$h" -- "${topt[@]}" "$LAB_SERVER1" || ok=0
	nc_one json json "$t" "$m" "$f" "$h" -- "${topt[@]}" --json "$LAB_SERVER1" || ok=0
	first=$NC_GOT
	nc_mapped json || ok=0
	nc_one "json again" json "$t" "$m" "$f" "$h" -- "${topt[@]}" --json "$LAB_SERVER1" || ok=0
	nc_mapped "json again" || ok=0
	local i
	for i in 1 2; do
		nc_one "-b run $i" json "$t" "$m" "$f" "$h" -- "${topt[@]}" --json \
			-b "$LAB_CLIENT:$PINNED_PORT" "$LAB_SERVER1" || ok=0
		if grep -q "^natcheck: warning: .*pinned with -b" "$LAB_TMP/nc.err"; then
			pass
		else
			ok=0
			fail "natcheck -b $LAB_CLIENT:$PINNED_PORT vs $srv: no pinned-port warning on stderr (got: $(head -c 300 "$LAB_TMP/nc.err"))"
		fi
	done
	local w cell
	read -ra w <<<"$first"
	cell="$(_type_short "${w[0]:-}") M:$(_short "${w[1]:-}") F:$(_short "${w[2]:-}") $(_hair_short "${w[3]:-}")"
	[ $ok = 1 ] || cell="*$cell"
	CELL[$LAB_SCENARIO,$srv]=$cell
}

# ---------------------------------------------------------------- main

run_scenario() {
	local s="$1" srv
	echo "== $s"
	if ! lab_up "$s" 0 0; then
		LAB_SCENARIO=$s
		fail "lab_up failed"
		lab_down
		return
	fi
	for srv in $SERVERS; do
		CUR_SRV=$srv
		if ! peer_start srv "$srv"; then
			fail "server $srv did not start: $(tail -n 5 "$LAB_TMP/srv.log" 2>/dev/null | tr '\n' ' ')"
			CELL[$s,$srv]="*no server"
			lab_stop srv
			continue
		fi
		case "$srv" in
		stund) peer_stun ;;
		coturn) peer_natdiscovery ;;
		esac
		nc_server "$srv"
		lab_stop srv
		echo "   $srv: done at $(($(date +%s) - START_S)) s"
	done
	lab_down
}

# The delay line as built: 50 ms each way must give a ~100 ms round trip
# without loss, and the stun client must still name the NAT through it.
delay_job() {
	PASSED=0 FAILED=0 FAIL_LINES=() CELL=()
	{
		echo "== delay self-check (port-restricted-cone, 50 ms each way)"
		if ! lab_up port-restricted-cone 50 0; then
			LAB_SCENARIO=delay
			fail "lab_up with delay failed"
		else
			LAB_SCENARIO=delay
			lab_spawn echo s python3 "$LAB_DIR/udpecho.py" serve "$LAB_SERVER1" 9000 20
			local line
			if lab_wait_udp s "$LAB_SERVER1" 9000; then
				line=$(lab_client python3 "$LAB_DIR/udpecho.py" ping "$LAB_SERVER1" 9000 30 2>&1)
			fi
			echo "   udp echo: ${line:-none}"
			# "sent 30 received 30 min X median Y max Z"
			local w
			read -ra w <<<"${line:-}"
			if [ "${w[3]:-}" = 30 ] && python3 -c 'import sys; sys.exit(not 95 <= float(sys.argv[1]) <= 130)' "${w[7]:-0}"; then
				pass
			else
				fail "round trip through the 50 ms delay line: '${line:-}', want 30 of 30 back, median 95..130 ms"
			fi
			lab_stop echo
			if peer_start srv stund; then
				peer_stun
				echo "   stun through the delay: ${CELL[delay,stun]}"
			else
				fail "stund did not start"
			fi
			lab_stop srv
		fi
		lab_down
	} >"$RES/delay.log" 2>&1
	job_results delay
}

# A failed lab_up leaves nothing up, and the next lab_up in the same shell
# works: loss.sh once went on without lab_down after a failure, and every
# later scenario failed with "lab already up".
recover_job() {
	PASSED=0 FAILED=0 FAIL_LINES=() CELL=()
	{
		echo "== lab self-check: a failed lab_up leaves nothing behind"
		LAB_SCENARIO=recover
		local left
		# No compiler for the delay line: lab_up fails after its namespaces exist.
		if CC=false lab_up port-restricted-cone 10 0 2>/dev/null; then
			fail "lab_up succeeded without the delay line"
		else
			left=$(ip netns list | awk '{ print $1 }' | grep -c "^$(lab_prefix)-")
			if [ "$LAB_UP" = 0 ] && [ "$left" = 0 ]; then
				pass
			else
				fail "after a failed lab_up: LAB_UP=$LAB_UP, $left of its namespaces left"
			fi
		fi
		if lab_up port-restricted-cone 0 0; then
			pass
		else
			fail "lab_up after a failed one failed too"
		fi
		lab_down
		echo "   $PASSED of 2 checks passed"
	} >"$RES/recover.log" 2>&1
	job_results recover
}

# job_results NAME: a job's failures and counts, left in $RES for the summary.
job_results() {
	if [ ${#FAIL_LINES[@]} -gt 0 ]; then
		printf '%s\n' "${FAIL_LINES[@]}" >"$RES/$1.fails"
	fi
	echo "$PASSED $FAILED" >"$RES/$1.counts"
}

# One scenario in a subshell of its own (own namespaces, own prefix), its
# log, cells, failures and counts left in $RES for the summary.
scenario_job() {
	local s="$1" k
	PASSED=0 FAILED=0 FAIL_LINES=() CELL=()
	run_scenario "$s" >"$RES/$s.log" 2>&1
	for k in "${!CELL[@]}"; do
		printf '%s\t%s\n' "$k" "${CELL[$k]}"
	done >"$RES/$s.cells"
	job_results "$s"
}

scenarios=${LAB_SCENARIOS:-$(scenario_list)}
for s in $scenarios; do
	scenario_exists "$s" || { echo "lab: unknown scenario $s" >&2; exit 2; }
done
JOBS=${LAB_JOBS:-2}
case "$JOBS" in ''|*[!0-9]*|0) echo "lab: LAB_JOBS must be a positive integer" >&2; exit 2 ;; esac

RES=$(mktemp -d "${TMPDIR:-/tmp}/natlab-res.XXXXXX") || exit 1
JOB_PIDS=()
stop_jobs() {
	local pid
	for pid in "${JOB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$RES"
}
trap 'stop_jobs' EXIT
trap 'stop_jobs; exit 130' INT
trap 'stop_jobs; exit 143' TERM

running=0
if [ -z "${LAB_SCENARIOS:-}" ]; then
	delay_job &
	JOB_PIDS+=($!)
	recover_job &
	JOB_PIDS+=($!)
	running=2
	all_jobs="delay recover $scenarios"
else
	all_jobs=$scenarios
fi
for s in $scenarios; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	scenario_job "$s" &
	JOB_PIDS+=($!)
	running=$((running + 1))
done
wait

for s in $all_jobs; do
	cat "$RES/$s.log" 2>/dev/null
	if [ -f "$RES/$s.counts" ]; then
		read -r p f <"$RES/$s.counts"
		PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
	else
		FAILED=$((FAILED + 1))
		FAIL_LINES+=("$s: the scenario did not finish")
	fi
	[ -f "$RES/$s.fails" ] && mapfile -t -O "${#FAIL_LINES[@]}" FAIL_LINES <"$RES/$s.fails"
	while IFS=$'\t' read -r k v; do
		CELL[$k]=$v
	done < <(cat "$RES/$s.cells" 2>/dev/null)
done

echo
echo "Verdicts (peers: stun = Debian stun vs stund, natdisc = turnutils_natdiscovery vs coturn;"
echo "natcheck against each server; * marks a mismatch with the lab):"
fmt='%-29s %-17s %-15s %-24s %-24s %-24s %-24s\n'
# shellcheck disable=SC2059
printf "$fmt" scenario "stun>stund" "natdisc>coturn" "natcheck>stund" "natcheck>coturn" \
	"natcheck>natcheck" "natcheck>coturn-1addr"
for s in $scenarios; do
	# shellcheck disable=SC2059
	printf "$fmt" "$s" "${CELL[$s,stun]:--}" "${CELL[$s,natdisc]:--}" "${CELL[$s,stund]:--}" \
		"${CELL[$s,coturn]:--}" "${CELL[$s,natcheck]:--}" "${CELL[$s,coturn-1addr]:--}"
done
if [ ${#FAIL_LINES[@]} -gt 0 ]; then
	echo
	echo "Failures:"
	printf '  %s\n' "${FAIL_LINES[@]}"
fi
echo "lab: $(($(date +%s) - START_S)) s, $JOBS scenarios at a time"
lab_finish "$PASSED" "$FAILED"
