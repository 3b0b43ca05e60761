# tests/lab/peers.sh - the STUN servers the lab runs its clients against.
# shellcheck shell=bash
#
# Source after lib.sh (tests/lab/run.sh, tests/lab/loss.sh and
# bench/client.sh do), with NATCHECK set to the natcheck binary, then:
#   peer_start NAME KIND [PORT]   start server KIND in the server namespace
#                                 as lab process NAME (lab_spawn; its output in
#                                 $LAB_TMP/NAME.log), on ports PORT (default
#                                 3478) and PORT + 1; 0 once it listens on
#                                 every address and port it serves
#   peer_kinds                    the KINDs, one line
#   peer_kind_ok KIND             true for a KIND peer_start knows
# Stop it with lab_stop NAME.  KINDs:
#   natcheck       natcheck --serve on both server addresses
#   stund          Debian's RFC 3489 server (stun-server) on both addresses
#   coturn         coturn's turnserver on both addresses (RFC 5780 mode)
#   coturn-1addr   turnserver on $LAB_SERVER1 alone: no alternate address,
#                  only port PORT is awaited
# Several may run side by side under different NAMEs and PORTs.

peer_kinds() {
	echo natcheck stund coturn coturn-1addr
}

peer_kind_ok() {
	case " $(peer_kinds) " in *" $1 "*) return 0 ;; esac
	return 1
}

peer_start() {
	local name="$1" kind="$2" port1="${3:-3478}" port2 addrs a p
	port2=$((port1 + 1))
	addrs="$LAB_SERVER1 $LAB_SERVER2"
	case "$kind" in
	natcheck)
		[ -n "${NATCHECK:-}" ] || { lab_die "peer_start: NATCHECK is not set"; return 1; }
		# --rate 0: the lab runs client after client from one NAT address,
		# back to back; the limit's own lab test is advertise.sh.
		lab_spawn "$name" s "$NATCHECK" --serve "$LAB_SERVER1,$LAB_SERVER2" \
			-p "$port1" --alt-port "$port2" --rate 0 ;;
	stund)
		lab_spawn "$name" s stund -h "$LAB_SERVER1" -a "$LAB_SERVER2" -p "$port1" -o "$port2" ;;
	coturn|coturn-1addr)
		# An empty config (Debian's own turns RFC 5780 off); STUN only, no
		# TCP, TLS, DTLS, CLI or daemon; its database and log in the run's
		# directory, one set per NAME.
		local listen=(-L "$LAB_SERVER1" -L "$LAB_SERVER2" -p "$port1" --alt-listening-port "$port2")
		if [ "$kind" = coturn-1addr ]; then
			listen=(-L "$LAB_SERVER1" -p "$port1")
			addrs=$LAB_SERVER1 port2=
		fi
		: >"$LAB_TMP/$name-empty.conf"
		rm -f "$LAB_TMP/$name-turndb"
		lab_spawn "$name" s turnserver -c "$LAB_TMP/$name-empty.conf" "${listen[@]}" \
			--stun-only --no-tcp --no-tls --no-dtls --no-cli --no-tcp-relay \
			--log-file "$LAB_TMP/$name-turn.log" --simple-log --no-stdout-log \
			--userdb "$LAB_TMP/$name-turndb" ;;
	*)
		lab_die "peer_start: unknown server '$kind' (have: $(peer_kinds))"
		return 1 ;;
	esac
	for a in $addrs; do
		for p in $port1 $port2; do
			lab_wait_udp s "$a" "$p" || return 1
		done
	done
}
