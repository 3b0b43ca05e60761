#!/usr/bin/env bash
# bench/client.sh NATCHECK - time to verdict and accuracy in the NAT lab.
#
# For every lab scenario with a classic RFC 3489 name, plus the
# address-dependent mapping, and for each network condition (round trip
# 0, 100 and 300 ms; 100 ms with 10% and with 30% loss each way): build the
# lab once, start natcheck --serve, stund and coturn side by side in the
# server namespace, and run natcheck --json BENCH_N times, Debian's stun
# client and coturn's turnutils_natdiscovery -m -f BENCH_PEER_N times each,
# interleaved (bench/client.py run).  Then bench/client.py report writes
# bench/results.md and prints the summary and the PASS/MISS target lines.
#
# Environment:
#   BENCH_N=20            natcheck runs per scenario and condition
#   BENCH_PEER_N=10       runs of each peer per scenario and condition
#   BENCH_TIMEOUT=20      seconds any one run may take
#   BENCH_SCENARIOS="..." a subset of the scenarios
#   BENCH_CONDS="..."     a subset of: rtt0 rtt100 rtt300 rtt100-loss10 rtt100-loss30
#   BENCH_TOOLS=natcheck,stun,natdiscovery  (also: baseline)
#   BENCH_BASELINE=PATH   an earlier natcheck build, run as the tool "baseline"
#                         beside natcheck in the same cells (judged alike)
#   BENCH_OUT=bench/results.md
#   BENCH_MAX_FOREIGN=9   wait (60 s at most) while more foreign lab
#                         namespaces than this exist
# Root only (network namespaces); the lab is tests/lab/lib.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=tests/lab/lib.sh
. "$top/tests/lab/lib.sh"
# shellcheck source=tests/lab/peers.sh
. "$top/tests/lab/peers.sh"
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

bench_init bench "$@"
for tool in stund:stun-server stun:stun-client turnserver:coturn \
	turnutils_natdiscovery:coturn python3:python3; do
	command -v "${tool%%:*}" >/dev/null 2>&1 || {
		echo "bench: ${tool%%:*} not found (Debian package ${tool#*:})"
		exit 1
	}
done

N=${BENCH_N:-20}
PEER_N=${BENCH_PEER_N:-10}
TIMEOUT=${BENCH_TIMEOUT:-20}
TOOLS=${BENCH_TOOLS:-natcheck,stun,natdiscovery}
OUT=${BENCH_OUT:-$top/bench/results.md}
MAX_FOREIGN=${BENCH_MAX_FOREIGN:-9}
case "$N$PEER_N$TIMEOUT$MAX_FOREIGN" in
*[!0-9]*) echo "BENCH_N, BENCH_PEER_N, BENCH_TIMEOUT and BENCH_MAX_FOREIGN are integers" >&2; exit 2 ;;
esac
if [ "$N" -lt 1 ] || [ "$N" -gt 200 ] || [ "$PEER_N" -gt 200 ] || [ "$TIMEOUT" -lt 1 ]; then
	echo "BENCH_N 1..200, BENCH_PEER_N 0..200, BENCH_TIMEOUT >= 1" >&2
	exit 2
fi

ALL_SCENARIOS="open full-cone restricted-cone port-restricted-cone symmetric \
symmetric-udp-firewall udp-blocked address-dependent-mapping"
SCENARIOS=${BENCH_SCENARIOS:-$ALL_SCENARIOS}
for s in $SCENARIOS; do
	scenario_exists "$s" || { echo "bench: unknown scenario $s" >&2; exit 2; }
done

# Condition name -> "DELAY_MS LOSS_PCT".  lab_up's delay is per direction on
# the client-router wire, so the round trip grows by twice it.
declare -A COND=([rtt0]="0 0" [rtt100]="50 0" [rtt300]="150 0"
	[rtt100-loss10]="50 10" [rtt100-loss30]="50 30")
declare -A COND_TITLE=(
	[rtt0]="no delay, no loss (DELAY 0)"
	[rtt100]="round trip +100 ms (DELAY 50 each way), no loss"
	[rtt300]="round trip +300 ms (DELAY 150 each way), no loss"
	[rtt100-loss10]="round trip +100 ms, 10% of UDP lost each way"
	[rtt100-loss30]="round trip +100 ms, 30% of UDP lost each way")
CONDS=${BENCH_CONDS:-rtt0 rtt100 rtt300 rtt100-loss10 rtt100-loss30}
for c in $CONDS; do
	[ -n "${COND[$c]:-}" ] || { echo "bench: unknown condition $c" >&2; exit 2; }
done

NC_PORT=3478        # natcheck --serve: 3478 and 3479
COTURN_PORT=3480    # turnserver: 3480 and 3481
STUND_PORT=3482     # stund: 3482 and 3483

START_S=$(date +%s)

# ---------------------------------------------------------------- servers

# All three at once, each on its own port pair of both server addresses,
# each started as tests/lab/run.sh starts it (tests/lab/peers.sh).
servers_up() {
	peer_start nc natcheck "$NC_PORT" &&
	peer_start stund stund "$STUND_PORT" &&
	peer_start coturn coturn "$COTURN_PORT"
}

servers_down() {
	lab_stop nc
	lab_stop stund
	lab_stop coturn
}

# ---------------------------------------------------------------- main

bench_start client
if [ -n "${BENCH_BASELINE:-}" ]; then
	BENCH_BASELINE=$(bench_copy "$BENCH_BASELINE") || exit 1
fi

ncells=0
for c in $CONDS; do for s in $SCENARIOS; do ncells=$((ncells + 1)); done; done
echo "bench: $ncells scenario x condition cells; natcheck $N runs, peers $PEER_N runs each;" \
	"tools $TOOLS"

k=0
for c in $CONDS; do
	read -r delay loss <<<"${COND[$c]}"
	for s in $SCENARIOS; do
		k=$((k + 1))
		bench_wait_quiet "$MAX_FOREIGN"
		fns=$(bench_foreign_ns)
		echo "[$k/$ncells] $c / $s (delay $delay ms each way, loss $loss%) at $(($(date +%s) - START_S)) s"
		if ! lab_up "$s" "$delay" "$loss"; then
			echo "   lab_up failed; cell skipped"
			lab_down
			continue
		fi
		path=-
		lab_spawn echo s python3 "$LAB_DIR/udpecho.py" serve "$LAB_SERVER1" 9000 10
		if lab_wait_udp s "$LAB_SERVER1" 9000; then
			path=$(lab_client python3 "$LAB_DIR/udpecho.py" ping "$LAB_SERVER1" 9000 50 2>/dev/null)
		fi
		lab_stop echo
		echo "   path: $path"
		printf '{"kind":"cell","cond":"%s","scenario":"%s","path":%s,"foreign_ns":%s,"loadavg":"%s"}\n' \
			"$c" "$s" "$(bench_jstr "$path")" "$fns" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"
		if ! servers_up; then
			echo "   a server did not start; cell skipped"
			servers_down
			lab_down
			continue
		fi
		lab_client python3 "$here/client.py" run --out "$RAW" --scenario "$s" --cond "$c" \
			--tools "$TOOLS" --n "$N" --peer-n "$PEER_N" --timeout "$TIMEOUT" \
			--natcheck "$NATCHECK" ${BENCH_BASELINE:+--baseline "$BENCH_BASELINE"} \
			--server "$LAB_SERVER1" \
			--nc-port "$NC_PORT" --stund-port "$STUND_PORT" --coturn-port "$COTURN_PORT" \
			--want-type "$SCN_TYPE" --want-mapping "$SCN_MAPPING" \
			--want-filtering "$SCN_FILTERING" --want-hairpin "$SCN_HAIRPIN" \
			--want-stun "$SCN_STUN"
		servers_down
		lab_down
	done
done

SECONDS_TOTAL=$(($(date +%s) - START_S))
cmd="make bench"
[ -n "${BENCH_N:-}" ] && cmd="BENCH_N=$BENCH_N $cmd"
[ -n "${BENCH_PEER_N:-}" ] && cmd="BENCH_PEER_N=$BENCH_PEER_N $cmd"
[ -n "${BENCH_SCENARIOS:-}" ] && cmd="BENCH_SCENARIOS='$BENCH_SCENARIOS' $cmd"
[ -n "${BENCH_CONDS:-}" ] && cmd="BENCH_CONDS='$BENCH_CONDS' $cmd"
[ -n "${BENCH_TOOLS:-}" ] && cmd="BENCH_TOOLS=$BENCH_TOOLS $cmd"
[ -n "${BENCH_TIMEOUT:-}" ] && cmd="BENCH_TIMEOUT=$BENCH_TIMEOUT $cmd"
cmd="$cmd   (bash bench/client.sh ./natcheck)"

python3 - "$RAW" <<EOF
import json, sys
meta = {
    "kind": "meta",
    $(bench_machine),
    "n": $N, "peer_n": $PEER_N, "timeout": $TIMEOUT,
    "command": $(bench_jstr "$cmd"),
    "seconds": $SECONDS_TOTAL,
    "scenarios": "$SCENARIOS".split(),
    "conds": "$CONDS".split(),
    "cond_titles": {$(for c in $CONDS; do printf '"%s": "%s", ' "$c" "${COND_TITLE[$c]}"; done)},
    "target_conds": {"rtt100": "rtt100", "rtt300": "rtt300",
                     "loss10": "rtt100-loss10", "loss30": "rtt100-loss30"},
}
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(meta) + "\n")
EOF

mkdir -p "$top/build" && cp "$RAW" "$top/build/bench-client.jsonl"
python3 "$here/client.py" report "$RAW" "$OUT" || exit 1
echo "bench: $SECONDS_TOTAL s; results in $OUT, raw runs in build/bench-client.jsonl"
