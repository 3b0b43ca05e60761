#!/usr/bin/env bash
# tests/lab/watch.sh NATCHECK - issue #13's "done when": the NAT changes
# under a running `natcheck --watch`, and both the JSON lines and the
# Prometheus metrics (through a real node_exporter) say so.
#
# The lab is built as a full cone NAT with `natcheck --serve` behind it;
# in the client namespace run
#   natcheck --json --watch 0.5 --metrics-file DIR/natcheck.prom
#   prometheus-node-exporter with only its textfile collector on DIR
# Once the lines say full-cone, the router's nftables ruleset is swapped
# for the symmetric scenario's.  A later line must say symmetric with
# "type" in "changed", a later scrape of node_exporter must show
# natcheck_nat_type{type="symmetric"} 1 and full-cone 0, every line must be
# valid against doc/natcheck.schema.json, and SIGTERM must end the watch
# with status 0.  Beside it, `natcheck --expect full-cone,restricted-cone`
# must say OK before the swap and CRITICAL after.  Root only; skipped with
# one line otherwise (exit status 77, a skip).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/lab/peers.sh
. "$here/peers.sh"

lab_preflight "lab watch" prometheus-node-exporter:prometheus-node-exporter
NODE_EXPORTER=$(command -v prometheus-node-exporter)
python3 -c 'import jsonschema' 2>/dev/null ||
	lab_skip "lab watch" "python3-jsonschema not found (Debian package python3-jsonschema)"
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 NATCHECK (an executable natcheck)" >&2
	exit 2
fi
NATCHECK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SCHEMA=$here/../../doc/natcheck.schema.json

PASSED=0 FAILED=0
check() {
	local name="$1"
	shift
	if "$@"; then
		PASSED=$((PASSED + 1))
		echo "ok    $name"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL  $name"
	fi
}

# The types of the JSON lines so far, one "TYPE EXIT CHANGED" per line.
lines_now() {
	python3 "$here/jsonl.py" "$SCHEMA" "$LAB_TMP/watch.jsonl"
}

# wait_line PATTERN [N]: bounded wait (30 s) for N (default 1) lines of
# lines_now matching.  grep -c reads them all (-q would break the pipe).
wait_line() {
	local _
	for _ in $(seq 1 150); do
		[ "$(lines_now 2>/dev/null | grep -Ec "$1")" -ge "${2:-1}" ] && return 0
		sleep 0.2
	done
	return 1
}

# scrape: node_exporter's page, from inside the client namespace.
scrape() {
	lab_client python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=5).read().decode())'
}

# wait_scrape TYPE: bounded wait (30 s) until natcheck_nat_type{type=TYPE} is 1.
wait_scrape() {
	local _
	for _ in $(seq 1 150); do
		scrape 2>/dev/null | grep -Eq "^natcheck_nat_type\\{server=\"$LAB_SERVER1:3478\",type=\"$1\"\\} 1\$" &&
			return 0
		sleep 0.2
	done
	return 1
}

lab_up full-cone || { echo "FAIL  lab: cannot build the full-cone NAT"; exit 1; }
peer_start srv natcheck || { echo "FAIL  lab: natcheck --serve does not start"; exit 1; }
mkdir -p "$LAB_TMP/prom"
lab_spawn node_exporter c "$NODE_EXPORTER" --web.listen-address=127.0.0.1:9100 \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$LAB_TMP/prom"
ip netns exec "$LAB_NS_C" "$NATCHECK" --json --watch 0.5 -t 2 \
	--metrics-file "$LAB_TMP/prom/natcheck.prom" "$LAB_SERVER1" \
	>"$LAB_TMP/watch.jsonl" 2>"$LAB_TMP/watch.err" </dev/null &
WATCH_PID=$!
LAB_PID[watch]=$WATCH_PID

check "watch: two lines say full-cone, the second unchanged" wait_line '^full-cone 10 -$' 2
check "scrape: natcheck_nat_type{type=\"full-cone\"} 1" wait_scrape full-cone

# plugin EXIT TEXT: natcheck --expect full-cone,restricted-cone, the
# Nagios check beside the watch, exits EXIT with TEXT in its one line.
plugin() {
	local out rc
	out=$(lab_client "$NATCHECK" -t 2 --expect full-cone,restricted-cone "$LAB_SERVER1" 2>/dev/null)
	rc=$?
	if [ "$rc" = "$1" ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ]; then
		case $out in *"$2"*) return 0 ;; esac
	fi
	echo "      got status $rc: $out"
	return 1
}
check "nagios: NATCHECK OK for the full cone, exit 0" plugin 0 "NATCHECK OK - full-cone (expected"

# The NAT changes under the running watch.
scenario_load symmetric
printf '%s\n%s\n' "$(lab_base_rules)" "$SCN_RULES" >"$LAB_TMP/router-symmetric.nft"
check "router: the ruleset is now the symmetric NAT's" lab_router nft -f "$LAB_TMP/router-symmetric.nft"

check "watch: a later line says symmetric, with type in changed" \
	wait_line '^symmetric 13 ([a-z,]*,)?type(,|$)'
check "scrape: natcheck_nat_type{type=\"symmetric\"} 1" wait_scrape symmetric
check "nagios: NATCHECK CRITICAL for the symmetric NAT, exit 2" plugin 2 "NATCHECK CRITICAL - symmetric (expected"
page=$(scrape 2>/dev/null)
check "scrape: full-cone now 0" grep -q "^natcheck_nat_type{server=\"$LAB_SERVER1:3478\",type=\"full-cone\"} 0\$" <<<"$page"
check "scrape: the textfile collector had no error" grep -q '^node_textfile_scrape_error 0$' <<<"$page"

kill -TERM "$WATCH_PID" 2>/dev/null
for _ in $(seq 1 100); do
	kill -0 "$WATCH_PID" 2>/dev/null || break
	sleep 0.1
done
wait "$WATCH_PID"
rc=$?
unset "LAB_PID[watch]"
check "watch: SIGTERM ends it with status 0 (got $rc)" test "$rc" = 0
check "watch: every line valid against the schema" eval 'lines_now >/dev/null'
n=$(lines_now | wc -l)
changes=$(lines_now | awk '$3 != "-"' | wc -l)
check "watch: several lines ($n), the verdict changed once or more ($changes)" \
	test "$n" -ge 3 -a "$changes" -ge 1
check "watch: the change names type, mapping and filtering (full-cone -> symmetric)" \
	eval 'lines_now | grep -Eq "^symmetric 13 type,mapping,filtering(,|\$)"'
check "watch: the first line has nothing to compare with" \
	test "$(lines_now | head -n 1 | awk '{ print $3 }')" = "-"
if [ "$FAILED" -gt 0 ]; then
	echo "--- natcheck's JSON lines:"; cat "$LAB_TMP/watch.jsonl"
	echo "--- its stderr:"; tail -n 20 "$LAB_TMP/watch.err"
fi

lab_down
lab_finish "$PASSED" "$FAILED"
