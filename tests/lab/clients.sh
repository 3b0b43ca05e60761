# tests/lab/clients.sh - the STUN clients nobody here wrote, run and read.
# shellcheck shell=bash
#
# Source it (after lib.sh), then:
#   clients_stun NS SERVER      Debian's `stun` (stun-client, RFC 3489) from
#                               namespace NS against SERVER:3478; prints its
#                               verdict line without "Primary: " and tabs
#                               ("Independent Mapping, Port Dependent Filter,
#                               preserves ports, no hairpin", "Open", "Blocked
#                               or could not reach STUN server", ...), or
#                               nothing when it printed none
#   clients_natdisc NS SERVER   coturn's turnutils_natdiscovery -m -f
#                               (RFC 5780) likewise; prints its whole output
#   clients_rfc5780 TEXT        the mapping and the filtering that output
#                               names, as two words: endpoint-independent,
#                               address-dependent, address-and-port-dependent,
#                               or unknown where it names none
# Every run is bounded (timeout).  Used by run.sh, single.sh, advertise.sh.

clients_stun() {
	ip netns exec "$1" timeout 30 stun "$2" 2>&1 | sed -n 's/^Primary: //p' | tr -d '\t'
}

clients_natdisc() {
	ip netns exec "$1" timeout 60 turnutils_natdiscovery -m -f "$2" 2>&1
}

# natdiscovery's phrase for a behaviour, as RFC 5780's word.
_clients_word() {
	case "$1" in
	*"Endpoint Independent"*) echo endpoint-independent ;;
	*"Address and Port Dependent"*) echo address-and-port-dependent ;;
	*"Address Dependent"*) echo address-dependent ;;
	*) echo unknown ;;
	esac
}

clients_rfc5780() {
	local m f
	m=$(printf '%s\n' "$1" | sed -n 's/^NAT with \(.*\) Mapping!.*/\1/p; s/^No NAT! (\(.*\) Mapping).*/\1/p' | head -n 1)
	f=$(printf '%s\n' "$1" | sed -n 's/^NAT with \(.*\) Filtering.*/\1/p' | head -n 1)
	echo "$(_clients_word "$m") $(_clients_word "$f")"
}
