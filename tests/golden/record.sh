#!/usr/bin/env bash
# tests/golden/record.sh NATCHECK OUTDIR - natcheck's outputs for a fixed set
# of runs, one file per run, for comparing two builds (compare.py).
#
# A restructure must not change what natcheck prints.  Each run leaves
# OUTDIR/NAME (the exit status, then stdout), NAME.stdout and NAME.stderr.
# Record with the old build, record with the new, then
#   python3 tests/golden/compare.py OLD_DIR NEW_DIR
# which ignores only what varies from run to run (times, ports the kernel
# picks, counts of retransmissions, races that keep the verdict).
#
# The runs (each file: the exit status on the first line, then stdout):
#   loopback   natcheck --serve on 127.0.0.1,127.0.0.2: text, JSON, -q,
#              --tcp, --format prometheus and nagios, --pair
#   errors     a closed port, a name that does not resolve (no network)
#   lab        every lab scenario with natcheck --serve: JSON, text, --tcp
#   lifetime   --lifetime behind conntrack with a 4 s UDP timeout
#   dual       both families behind an IPv4 port-restricted cone and an IPv6
#              firewall
#   portmap    the scripted gateway (tests/lab/pmgw.py) with a public
#              external address
# Root for the lab parts; without it they are skipped with one line.
set -u

here=$(cd "$(dirname "$0")" && pwd)
lab=$here/../lab
if [ $# -ne 2 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK OUTDIR" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
OUT=$2
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)

# save NAME CMD...: run CMD, its status and stdout into OUT/NAME.
save() {
	local name="$1" rc
	shift
	"$@" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr"
	rc=$?
	{ echo "exit $rc"; cat "$OUT/$name.stdout"; } >"$OUT/$name"
	echo "golden: $name (exit $rc)"
}

# ---------------------------------------------------------------- loopback

loopback() {
	local port srv
	port=$(python3 -c 'import socket
for p in range(40000, 40400, 2):
    ok = True
    for h in ("127.0.0.1", "127.0.0.2"):
        for q in (p, p + 1):
            for t in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, t)
                try:
                    s.bind((h, q))
                except OSError:
                    ok = False
                s.close()
    if ok:
        print(p)
        break')
	[ -n "$port" ] || { echo "golden: no free loopback port"; return 1; }
	"$NATCHECK" --serve 127.0.0.1,127.0.0.2 -p "$port" --alt-port $((port + 1)) --rate 0 \
		>"$OUT/loopback-server.log" 2>&1 &
	srv=$!
	sleep 0.3
	local s="127.0.0.1:$port"
	save loopback-text "$NATCHECK" --no-portmap "$s"
	save loopback-json "$NATCHECK" --no-portmap --json "$s"
	save loopback-quiet "$NATCHECK" --no-portmap -q "$s"
	save loopback-tcp "$NATCHECK" --no-portmap --json --tcp "$s"
	save loopback-tcp-text "$NATCHECK" --no-portmap --tcp "$s"
	save loopback-prometheus "$NATCHECK" --no-portmap --format prometheus "$s"
	save loopback-nagios "$NATCHECK" --no-portmap --expect open "$s"
	save loopback-nagios-critical "$NATCHECK" --no-portmap --expect symmetric "$s"
	save loopback-count "$NATCHECK" --no-portmap --json --count 2 "$s"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	# A port nobody listens on: the closed-port error.
	save error-closed "$NATCHECK" --no-portmap -t 2 "127.0.0.1:$((port + 2))"
	save error-closed-json "$NATCHECK" --no-portmap --json -t 2 "127.0.0.1:$((port + 2))"
	if command -v unshare >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		save error-resolve unshare -n "$NATCHECK" --no-portmap -t 2 nosuchhost.invalid
		save error-resolve-json unshare -n "$NATCHECK" --no-portmap --json -t 2 nosuchhost.invalid
	fi
	save error-usage "$NATCHECK" --no-such-option
}

# ---------------------------------------------------------------- the lab

# shellcheck source=tests/lab/lib.sh
. "$lab/lib.sh"
# shellcheck source=tests/lab/peers.sh
. "$lab/peers.sh"
# shellcheck source=tests/lab/lib6.sh
. "$lab/lib6.sh"

lab_scenarios() {
	local scn
	for scn in $(scenario_list); do
		lab_up "$scn" 0 0 || { echo "golden: lab_up $scn failed"; return 1; }
		peer_start srv natcheck || { echo "golden: server failed"; lab_down; return 1; }
		save "lab-$scn-json" lab_client timeout 30 "$NATCHECK" --json "$LAB_SERVER1"
		save "lab-$scn-text" lab_client timeout 30 "$NATCHECK" "$LAB_SERVER1"
		save "lab-$scn-tcp" lab_client timeout 30 "$NATCHECK" --json --tcp --no-portmap "$LAB_SERVER1"
		lab_down
	done
	save pair-full-sym "$NATCHECK" --pair "$OUT/lab-full-cone-json.stdout" \
		"$OUT/lab-symmetric-json.stdout"
	save pair-full-sym-json "$NATCHECK" --json --pair "$OUT/lab-full-cone-json.stdout" \
		"$OUT/lab-symmetric-json.stdout"
	save pair-prc-open "$NATCHECK" --pair "$OUT/lab-port-restricted-cone-json.stdout" \
		"$OUT/lab-open-json.stdout"
}

lifetime() {
	lab_up port-restricted-cone 0 0 || return 1
	peer_start srv natcheck || { lab_down; return 1; }
	lab_router sysctl -qw net.netfilter.nf_conntrack_udp_timeout=4 \
		net.netfilter.nf_conntrack_udp_timeout_stream=4
	save lifetime-json lab_client timeout 60 "$NATCHECK" --json --no-portmap --lifetime=12 "$LAB_SERVER1"
	lab_down
}

dual() {
	lab_up port-restricted-cone 0 0 || return 1
	if ! lab6_up || ! lab6_rules v6_fw_apd || ! lab6_serve 3478; then
		echo "golden: IPv6 set-up failed"; lab_down; return 1
	fi
	save dual-json lab_client timeout 30 "$NATCHECK" --json --no-portmap "$LAB_SERVER1" "[$S6_1]"
	save dual-text lab_client timeout 30 "$NATCHECK" --no-portmap "$LAB_SERVER1" "[$S6_1]"
	save dual-prometheus lab_client timeout 30 "$NATCHECK" --no-portmap --format prometheus \
		"$LAB_SERVER1" "[$S6_1]"
	lab_down
}

portmap() {
	lab_up port-restricted-cone 0 0 || return 1
	peer_start srv natcheck || { lab_down; return 1; }
	if ! { lab_router nft insert rule inet labinput input iifname "$LAB_IF_RI" \
		udp dport '{ 1900, 5351 }' accept &&
	    lab_router nft insert rule inet labinput input iifname "$LAB_IF_RI" tcp dport 5000 accept &&
	    lab_router nft insert rule inet labinput input iifname "$LAB_IF_RI" \
		ip daddr 239.255.255.250 accept &&
	    lab_spawn gwd r python3 "$lab/pmgw.py" "$LAB_ROUTER_IN" "$LAB_PUBLIC1" 5000 &&
	    lab_wait_udp r "$LAB_ROUTER_IN" 5351; }; then
		echo "golden: gateway failed"; lab_down; return 1
	fi
	save portmap-json lab_client timeout 30 "$NATCHECK" --json "$LAB_SERVER1"
	save portmap-text lab_client timeout 30 "$NATCHECK" "$LAB_SERVER1"
	lab_down
}

status=0
loopback || status=1
reason=$(lab_unavailable)
if [ -n "$reason" ]; then
	echo "golden: the lab parts skipped: $reason"
else
	# The JSON of two scenarios, as files, for --pair.
	lab_scenarios || status=1
	lifetime || status=1
	dual || status=1
	portmap || status=1
	lab_cleanup
fi
exit $status
