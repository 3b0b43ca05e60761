#!/usr/bin/env bash
# Real peers nobody here wrote, against `natcheck --serve` on loopback.
#
#   bash tests/peers/run.sh ./natcheck
#
# - Debian's `stun` (package stun-client, Vovida STUN client 0.97, RFC 3489):
#   must find test I, II (change IP), III (change port) and I(2) answered,
#   see our SOURCE-ADDRESS and CHANGED-ADDRESS, no NAT, and print "Primary: Open"
#   with its exit status 1 (that client's code for Open; Debian's own
#   `stund` on the same addresses gives the same output and status).
# - coturn's `turnutils_natdiscovery` (RFC 5780), with and without PADDING:
#   must report endpoint-independent mapping and filtering, and print our
#   RESPONSE-ORIGIN for the answer from the other address and port.
# - Then a server with one address (127.0.0.1): natdiscovery's bare test I
#   gets no OTHER-ADDRESS (RFC 5780 section 6), so it must name no mapping
#   and no filtering behaviour at all, after an answer; `stun` must fail
#   visibly ("Blocked or could not reach STUN server": its NAT test is
#   dropped).  natcheck(1), SERVER, says why.
#
# Only 127.0.0.1 and 127.0.0.2 are used.  Every peer run is bounded with
# timeout(1).  Only the server started here is ended, by its PID.  A missing
# peer prints one "skip  ..." line for each check it would have made.
# Ends with "N passed, M failed, K skipped"; exit status 1 when anything
# failed, 77 when anything was skipped (tests/group.sh), else 0.
set -u

natcheck=${1:?usage: run.sh NATCHECK}
A1=127.0.0.1
A2=127.0.0.2
passed=0
failed=0
skipped=0
server_pid=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/natcheck-peers.XXXXXX") || exit 1

cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "ok    $1"; passed=$((passed + 1)); }
fail() { echo "FAIL  $1${2:+: $2}"; failed=$((failed + 1)); }
check() {       # check NAME CONDITION-EXIT-STATUS [DETAIL]
	if [ "$2" -eq 0 ]; then pass "$1"; else fail "$1" "${3:-}"; fi
}
skip() {         # skip WHAT: a check that cannot run here
	echo "skip  $1"
	skipped=$((skipped + 1))
}
has() {         # has FILE TEXT: the fixed string TEXT is in FILE
	grep -qF -- "$2" "$1"
}

# start_server SPEC: the server on a random free port pair: the start-up
# line is printed only after every socket is bound, so it doubles as the
# readiness signal.  A port taken meanwhile makes the server exit; try
# again, ten times at most.
start_server() {
	local _
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		P=$((20000 + RANDOM % 40000))
		Q=$((P + 1))
		"$natcheck" --serve "$1" -p "$P" --alt-port "$Q" -v \
			</dev/null >/dev/null 2>"$tmp/server.log" &
		server_pid=$!
		for _ in $(seq 50); do                  # 5 s at most
			if has "$tmp/server.log" " serving on "; then
				return 0
			fi
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$server_pid" 2>/dev/null; then
			return 1        # alive but silent: retrying would not help
		fi
		wait "$server_pid" 2>/dev/null
		server_pid=
	done
	return 1
}

if ! start_server "$A1,$A2"; then
	fail "natcheck --serve $A1,$A2 starts" "$(head -c 500 "$tmp/server.log" 2>/dev/null)"
	echo "$passed passed, $failed failed"
	exit 1
fi
pass "natcheck --serve $A1,$A2 -p $P --alt-port $Q starts"

# ------------------------------------------------------------ stun-client
if ! command -v stun >/dev/null 2>&1; then
	skip "stun (Debian package stun-client) is not installed"
else
	timeout 30 stun "$A1:$P" -v >"$tmp/stun.out" 2>&1
	rc=$?
	out="$tmp/stun.out"
	check "stun: exit status 1 (its code for Open)" "$([ $rc -eq 1 ]; echo $?)" "status $rc"
	check "stun: prints 'Primary: Open'" "$(has "$out" "Primary: Open"; echo $?)" \
		"$(grep -E '^Primary' "$out")"
	check "stun: test I answered" "$(has "$out" "test I = 1"; echo $?)"
	# This client's test II asks for "change IP" only (CHANGE-REQUEST 4).
	check "stun: test II answered (change IP)" "$(has "$out" "test II = 1"; echo $?)"
	check "stun: test III answered (change port)" "$(has "$out" "test III = 1"; echo $?)"
	check "stun: test I to CHANGED-ADDRESS answered" "$(has "$out" "test I(2) = 1"; echo $?)"
	check "stun: no NAT" "$(has "$out" "is nat  = 0"; echo $?)"
	check "stun: CHANGED-ADDRESS is $A2:$Q" \
		"$(has "$out" "ChangedAddress = $A2:$Q"; echo $?)"
	check "stun: SOURCE-ADDRESS $A2:$P seen (change IP honoured)" \
		"$(has "$out" "SourceAddress = $A2:$P"; echo $?)"
	check "stun: SOURCE-ADDRESS $A1:$Q seen (change port honoured)" \
		"$(has "$out" "SourceAddress = $A1:$Q"; echo $?)"
	[ $rc -eq 1 ] || sed 's/^/    /' "$out" | tail -n 40
fi

# ------------------------------------------------- coturn natdiscovery
if ! command -v turnutils_natdiscovery >/dev/null 2>&1; then
	skip "turnutils_natdiscovery (Debian package coturn) is not installed"
else
	for pad in "" "-P"; do
		name="turnutils_natdiscovery -m -f${pad:+ $pad}"
		# shellcheck disable=SC2086  # $pad is one optional word
		timeout 30 turnutils_natdiscovery -m -f $pad -p "$P" "$A1" >"$tmp/nd.out" 2>&1
		rc=$?
		out="$tmp/nd.out"
		check "$name: exit status 0" "$([ $rc -eq 0 ]; echo $?)" "status $rc"
		check "$name: endpoint-independent mapping" \
			"$(has "$out" "NAT with Endpoint Independent Mapping!"; echo $?)"
		check "$name: endpoint-independent filtering" \
			"$(has "$out" "NAT with Endpoint Independent Filtering!"; echo $?)"
		check "$name: OTHER-ADDRESS $A2:$Q" \
			"$(has "$out" "Other addr: : $A2:$Q"; echo $?)"
		check "$name: an answer with RESPONSE-ORIGIN $A2:$Q" \
			"$(has "$out" "Response origin: : $A2:$Q"; echo $?)"
		if ! has "$out" "Endpoint Independent Filtering!"; then
			sed 's/^/    /' "$out" | tail -n 40
		fi
	done
fi

# ------------------------------------------------------------- the server
# stop_server NAME: still running after the peers, and exits 0 on SIGTERM.
stop_server() {
	local rc _
	kill -0 "$server_pid" 2>/dev/null
	check "$1: still running after the peers" $?
	kill -TERM "$server_pid"
	rc=timeout
	for _ in $(seq 50); do                  # 5 s at most
		if ! kill -0 "$server_pid" 2>/dev/null; then
			wait "$server_pid"
			rc=$?
			server_pid=
			break
		fi
		sleep 0.1
	done
	check "$1: exits 0 on SIGTERM within 5 s" "$([ "$rc" = 0 ]; echo $?)" "status $rc"
}
stop_server "server"

# ------------------------------------------------------- one address
if ! start_server "$A1"; then
	fail "natcheck --serve $A1 starts" "$(head -c 500 "$tmp/server.log" 2>/dev/null)"
else
	pass "natcheck --serve $A1 -p $P --alt-port $Q starts"
	if command -v turnutils_natdiscovery >/dev/null 2>&1; then
		name="one address: turnutils_natdiscovery -m -f"
		timeout 30 turnutils_natdiscovery -m -f -p "$P" "$A1" >"$tmp/nd.out" 2>&1
		out="$tmp/nd.out"
		check "$name: answered (a reflexive address), no OTHER-ADDRESS" \
			"$(has "$out" "UDP reflexive addr: $A1:" && ! has "$out" "Other addr"; echo $?)"
		check "$name: names no mapping and no filtering behaviour" \
			"$(! grep -Eq 'Mapping!|Filtering!|No NAT|Independent|Dependent' "$out"; echo $?)" \
			"$(grep -E 'Mapping|Filtering' "$out")"
	else
		skip "one address: turnutils_natdiscovery (Debian package coturn) is not installed"
	fi
	if command -v stun >/dev/null 2>&1; then
		timeout 30 stun "$A1:$P" >"$tmp/stun.out" 2>&1
		check "one address: stun fails visibly" \
			"$(has "$tmp/stun.out" "Primary: Blocked or could not reach STUN server"; echo $?)" \
			"$(grep -E '^Primary' "$tmp/stun.out")"
	else
		skip "one address: stun (Debian package stun-client) is not installed"
	fi
	stop_server "one-address server"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] || exit 1
[ $skipped -eq 0 ] || exit 77
