#!/usr/bin/env bash
# The packaging around natcheck: shell completions, systemd units,
# make install/uninstall and the Debian package.
#
#   bash tests/package/run.sh ./natcheck
#
# 1. The bash completion, driven through the real bash-completion package,
#    and the zsh one, driven through zsh's line editor (when zsh is
#    installed), offer exactly the options `natcheck --help` lists, and no
#    file names where natcheck takes none.
# 2. make install into a scratch prefix puts every file in place and
#    uninstall takes every file away again.
# 3. The installed units pass `systemd-analyze verify` and its offline
#    security review; their ExecStart= lines, run as systemd would expand
#    them, serve and record a verdict, and under strace stay inside the
#    system calls, address families and memory rules the units impose.
# 4. As root: `make deb`, lintian with no error or warning, dpkg -i, the
#    installed files work, dpkg --purge (also in a trap).
# Talks only to 127.0.0.1 and 127.0.0.2. Prints one line per check ("skip -"
# for one that cannot run here) and ends with "N passed, M failed, K
# skipped"; exit status 1 on a failure, 77 on a skip (tests/group.sh).
set -u
natcheck=$(realpath "${1:-./natcheck}")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 1

passed=0 failed=0 skipped=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
fail() { echo "FAIL - $*"; failed=$((failed + 1)); }
skip() { echo "skip - $*"; skipped=$((skipped + 1)); }
check() { # check NAME COMMAND...: passes when COMMAND succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}
not() { ! "$@"; }                          # not COMMAND...
has_line() { grep -qxF -- "$2" "$1"; }     # has_line FILE LINE
lacks_line() { ! grep -qxE -- "$2" "$1"; } # lacks_line FILE REGEX

for tool in python3 shellcheck systemd-analyze strace; do
	command -v "$tool" >/dev/null || { echo "package: $tool is missing"; exit 1; }
done
bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || { echo "package: $bc is missing (Debian package bash-completion)"; exit 1; }

tmp=$(mktemp -d)
server_pid=""
deb_installed=""
cleanup() {
	[ -n "$server_pid" ] && stop_server
	[ -n "$deb_installed" ] && dpkg --purge natcheck >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---------------------------------------------------------- shellcheck

check "shellcheck -S style: completion and test scripts" \
	shellcheck -x -S style completions/natcheck.bash tests/package/run.sh

# ---------------------------------------------------------- completions

# Every -x and --long word in --help, bundles like [-46qv] split up.
"$natcheck" --help >"$tmp/help" 2>&1
sed 's/[][(),|]/ /g' "$tmp/help" | tr -s ' \t' '\n' | sed 's/=.*//' |
	grep -E '^(-[A-Za-z0-9]+|--[a-z0-9][a-z0-9-]*)$' |
	while read -r w; do
		case $w in
		--*) echo "$w" ;;
		*) for ((i = 1; i < ${#w}; i++)); do echo "-${w:i:1}"; done ;;
		esac
	done | sort -u >"$tmp/help.opts"
if [ "$(wc -l <"$tmp/help.opts")" -ge 10 ]; then
	ok "--help lists $(wc -l <"$tmp/help.opts") options"
else
	fail "--help lists only: $(tr '\n' ' ' <"$tmp/help.opts")"
fi

# complete WORD...: run the completion for the command line WORD... (the
# last word is the one under the cursor) in a fresh non-interactive bash,
# print COMPREPLY one per line.  Runs in $tmp/cwd, where files lie that
# must never be offered, with its own hosts file and no ssh known_hosts.
mkdir -p "$tmp/cwd" "$tmp/home"
touch "$tmp/cwd/localfile" "$tmp/cwd/-file" "$tmp/cwd/127.0.0.9"
printf '127.0.0.1 localhost\n192.0.2.7 stun-a.example\n' >"$tmp/hosts"
complete_words() {
	(cd "$tmp/cwd" && HOME="$tmp/home" HOSTFILE="$tmp/hosts" \
		bash --norc --noprofile -c '
			source "$1"; source "$2"; shift 2
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE=""
			for ((i = 0; i < $#; i++)); do # no blank around a "=" word
				[[ $i -gt 0 && ${COMP_WORDS[i]} != = && ${COMP_WORDS[i-1]} != = ]] && COMP_LINE+=" "
				COMP_LINE+=${COMP_WORDS[i]}
			done
			COMP_POINT=${#COMP_LINE}
			_natcheck natcheck "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
			printf "%s\n" "${COMPREPLY[@]}"' \
		bash "$bc" "$top/completions/natcheck.bash" "$@")
}
# expect NAME WANT WORD...: the completions are exactly WANT (sorted,
# space-separated; "" for none).
expect() {
	local name=$1 want=$2 got
	shift 2
	got=$(complete_words "$@" | sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then ok "bash: $name"; else fail "bash: $name: got '$got', want '$want'"; fi
}
# offers NAME WANT WORD...: WANT is among the completions.
offers() {
	local name=$1 want=$2
	shift 2
	if complete_words "$@" | grep -qxF -- "$want"; then ok "bash: $name"
	else fail "bash: $name: '$want' not offered, got: $(complete_words "$@" | tr '\n' ' ')"; fi
}

# lacks NAME UNWANTED WORD...: UNWANTED is not among the completions.
lacks() {
	local name=$1 unwanted=$2
	shift 2
	if complete_words "$@" | grep -qxF -- "$unwanted"; then fail "bash: $name: '$unwanted' offered"
	else ok "bash: $name"; fi
}

complete_words natcheck - | sort -u >"$tmp/bash.opts"
missing=$(comm -23 "$tmp/help.opts" "$tmp/bash.opts" | tr '\n' ' ')
extra=$(comm -13 "$tmp/help.opts" "$tmp/bash.opts" | tr '\n' ' ')
check "bash: '-' offers every option in --help${missing:+ (missing: $missing)}" test -z "$missing"
check "bash: '-' offers no option --help lacks${extra:+ (extra: $extra)}" test -z "$extra"
expect "'--' offers exactly the long options" "$(grep -- '^--' "$tmp/help.opts" | sort | tr '\n' ' ' | sed 's/ $//')" natcheck --
expect "'--rfc' completes --rfc3489-timing" "--rfc3489-timing" natcheck --rfc
for o in -t --timeout -p --port --alt-port; do
	grep -qxF -- "$o" "$tmp/help.opts" || continue
	expect "nothing after $o (a number, no file names)" "" natcheck "$o" ""
done
expect "nothing after --timeout= (a number)" "" natcheck --timeout = ""
offers "-b offers this host's addresses" 127.0.0.1 natcheck -b 127.0.0.
lacks "-b offers no file names" 127.0.0.9 natcheck -b 127.0.0.
offers "--serve completes the address after the comma" 192.0.2.1,127.0.0.1 natcheck --serve 192.0.2.1,127.0.0.
lacks "--serve offers no alternate equal to the primary" 127.0.0.1,127.0.0.1 natcheck --serve 127.0.0.1,127.0.0.
offers "a server operand is a host name" stun-a.example natcheck -q stun
expect "a server operand is not a file name" "localhost" natcheck loc
expect "no options after --" "" natcheck -- -f
expect "--pair: the first result is a file" "localfile" natcheck --pair loc
expect "--pair: the second result is a file too" "localfile" natcheck --pair a.json loc
expect "--pair=A: the second result is a file too" "localfile" natcheck --pair = a.json loc
expect "--expect: the type words" "port-restricted-cone" natcheck --expect port
expect "--expect: the next type after a comma" "full-cone,port-restricted-cone" \
	natcheck --expect full-cone,port
offers "--expect: every type after a comma" "full-cone,udp-blocked" natcheck --expect full-cone,
lacks "--expect: no bare type after a comma" "open" natcheck --expect full-cone,
expect "no options after an option's value either way" "" natcheck -t -

# The loader finds the file where make install puts it (step 2 installs).
loads_from() { # loads_from SHAREDIR: bash-completion loads natcheck's from there
	HOME="$tmp/home" XDG_DATA_DIRS="$1" bash --norc --noprofile -c '
		source "$1"; __load_completion natcheck && complete -p natcheck' \
		bash "$bc" 2>&1 | grep -qx 'complete -F _natcheck natcheck'
}

# The zsh completion: the options its _arguments table names.
sed -n '/^opts=(/,/^)/p' completions/_natcheck | sed '1d;$d' |
	sed -E "s/^[[:space:]]*'?(\([^)]*\))?'?//" |
	while read -r spec; do
		case $spec in
		\{*) spec=${spec#\{}; spec=${spec%%\}*}; tr ',' '\n' <<<"$spec" | sed -E 's/[+=]$//' ;;
		*) grep -oE '^--?[A-Za-z0-9][A-Za-z0-9-]*' <<<"$spec" ;;
		esac
	done | sort -u >"$tmp/zsh.opts"
missing=$(comm -23 "$tmp/help.opts" "$tmp/zsh.opts" | tr '\n' ' ')
extra=$(comm -13 "$tmp/help.opts" "$tmp/zsh.opts" | tr '\n' ' ')
check "zsh: _natcheck names every option in --help${missing:+ (missing: $missing)}" test -z "$missing"
check "zsh: _natcheck names no option --help lacks${extra:+ (extra: $extra)}" test -z "$extra"
# zsh itself, through its line editor (tests/package/zsh-complete.zsh).
zcomplete() {
	(cd "$tmp/cwd" && HOME="$tmp/home" zsh -f "$top/tests/package/zsh-complete.zsh" \
		"$top/completions" "$@")
}
zexpect() { # zexpect NAME WANT WORD...: as expect, from zsh
	local name=$1 want=$2 got
	shift 2
	got=$(zcomplete "$@" | sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then ok "zsh: $name"; else fail "zsh: $name: got '$got', want '$want'"; fi
}
if command -v zsh >/dev/null; then
	check "zsh: _natcheck parses (zsh -n)" zsh -n completions/_natcheck
	check "zsh: the test driver parses (zsh -n)" zsh -n tests/package/zsh-complete.zsh
	zexpect "'-' offers every option in --help, and only those" \
		"$(sort "$tmp/help.opts" | tr '\n' ' ' | sed 's/ $//')" natcheck -
	zexpect "'--' offers exactly the long options" \
		"$(grep -- '^--' "$tmp/help.opts" | sort | tr '\n' ' ' | sed 's/ $//')" natcheck --
	zcomplete natcheck -4 - >"$tmp/z4"
	check "zsh: -4 - offers options" test -s "$tmp/z4"
	check "zsh: -4 excludes -6 and --ipv6 (and itself)" lacks_line "$tmp/z4" '-4|-6|--ipv4|--ipv6'
	for o in -t --timeout -p --port --alt-port; do
		grep -qxF -- "$o" "$tmp/help.opts" || continue
		zexpect "nothing after $o (a number, no file names)" "" natcheck "$o" ""
	done
	zcomplete natcheck -b 127.0.0. >"$tmp/zb"
	check "zsh: -b offers this host's addresses" has_line "$tmp/zb" 127.0.0.1
	check "zsh: -b offers no file names" lacks_line "$tmp/zb" '127\.0\.0\.9'
	zcomplete natcheck --serve 192.0.2.1,127.0.0. >"$tmp/zs"
	check "zsh: --serve completes the address after the comma" has_line "$tmp/zs" 127.0.0.1
	zcomplete natcheck --serve 127.0.0.1,127.0.0. >"$tmp/zs"
	check "zsh: --serve offers no alternate equal to the primary" lacks_line "$tmp/zs" '127\.0\.0\.1'
	zexpect "a server operand is a host name, not a file name" "localhost" natcheck loc
	zexpect "--pair: the second result is a file too" "localfile" natcheck --pair a.json loc
	zexpect "--expect: the next type after a comma" "port-restricted-cone" \
		natcheck --expect full-cone,port
else
	skip "zsh: not installed (Debian package zsh); _natcheck checked against --help only"
fi

# ---------------------------------------------------------- /etc/default files

# The defaults the server's /etc/default file states are natcheck's own,
# as --help gives them: that file is a configuration file, so a wrong word
# in it stays on every host that installed it.
default_in() { # default_in FILE OPTION: N from the first "OPTION ... (default N"
	tr '\n#' '  ' <"$1" | tr -s ' ' | grep -oE -- "$2 [^(]*\(default [0-9]+" |
		head -n 1 | grep -oE '[0-9]+$'
}
for o in "--rate --rate" "-p --port"; do
	read -r in_file in_help <<<"$o"
	d_file=$(default_in systemd/natcheck-server.default "$in_file")
	d_help=$(default_in "$tmp/help" "$in_help")
	check "natcheck-server.default: $in_file defaults to ${d_file:-?}, as --help says (${d_help:-?})" \
		test -n "$d_file" -a "$d_file" = "$d_help"
done

# ---------------------------------------------------------- make install

inst=$tmp/inst
prefix=$inst/usr
make -s install PREFIX="$prefix" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "make install"; }
for f in bin/natcheck share/man/man1/natcheck.1 \
	share/bash-completion/completions/natcheck share/zsh/site-functions/_natcheck \
	lib/systemd/system/natcheck-server.service lib/systemd/system/natcheck-watch.service \
	lib/systemd/system/natcheck-watch.timer \
	share/doc/natcheck/examples/natcheck-server.default \
	share/doc/natcheck/examples/natcheck-watch.default; do
	check "make install: $f" test -s "$prefix/$f"
done
check "make install: the binary runs" test "$("$prefix/bin/natcheck" --version)" = "natcheck $(sed -n "s/^VERSION *= *//p" Makefile)"
check "bash-completion loads the installed completion" loads_from "$prefix/share"
n=$(grep -l "$prefix/bin/natcheck" "$prefix"/lib/systemd/system/natcheck-*.service | wc -l)
check "make install: both services run \$(BINDIR)/natcheck" test "$n" = 2
check "make install: no unit still names /usr/bin/natcheck" \
	not grep -qE "[= ]/usr/bin/natcheck" "$prefix"/lib/systemd/system/natcheck-*

# ---------------------------------------------------------- systemd units

units=$prefix/lib/systemd/system
# The Documentation= keys must find the installed manual.
verify_in() { # verify_in DIR UNIT...: systemd-analyze verify, quietly
	(cd "$1" && shift && MANPATH="$prefix/share/man" systemd-analyze verify "$@") >/dev/null 2>&1
}
if out=$(cd "$units" && MANPATH="$prefix/share/man" systemd-analyze verify \
	natcheck-server.service natcheck-watch.service natcheck-watch.timer 2>&1); then
	ok "systemd-analyze verify: all three units"
else
	fail "systemd-analyze verify: $out"
fi
# verify really reads ExecStart=: a unit whose binary is missing fails.
sed "s|$prefix/bin/natcheck|$tmp/no-such-natcheck|" "$units/natcheck-server.service" \
	>"$tmp/natcheck-server.service"
check "systemd-analyze verify fails a unit whose binary is missing" \
	not verify_in "$tmp" natcheck-server.service
for u in natcheck-server.service natcheck-watch.service; do
	for key in DynamicUser=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
		NoNewPrivileges=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK' \
		CapabilityBoundingSet= SystemCallFilter=@system-service MemoryDenyWriteExecute=yes \
		LockPersonality=yes RestrictNamespaces=yes; do
		grep -qxF "$key" "$units/$u" || fail "$u lacks $key"
	done
	# systemd's own review: exposure 0.0 (locked down) to 10.0; 2.0 or
	# less is what it calls OK.
	if out=$(cd "$units" && systemd-analyze security --offline=true --threshold=20 "$u" 2>&1); then
		ok "$u: $(grep -o 'Overall exposure level.*' <<<"$out")"
	else
		fail "$u: systemd-analyze security: $(grep -o 'Overall exposure level.*' <<<"$out")"
	fi
done

# Run both ExecStart= lines as systemd would expand them, each under
# strace: the server on 127.0.0.1,127.0.0.2 and the watcher against it.
unit_argv() { # unit_argv UNIT: the expanded ExecStart into the array argv
	mapfile -d '' -t argv < <(python3 tests/package/unitcheck.py argv "$1")
}
start_server() { # on a random pair of free ports; 5 tries
	local try p
	for try in 1 2 3 4 5; do
		p=$((20000 + RANDOM % 30000))
		export NATCHECK_SERVE=127.0.0.1,127.0.0.2 NATCHECK_SERVE_OPTS="-p $p --alt-port $((p + 1))"
		unit_argv "$units/natcheck-server.service"
		strace -f -qq -o "$tmp/server.trace" "${argv[@]}" 2>"$tmp/server.err" &
		server_pid=$!
		sleep 0.5
		if kill -0 "$server_pid" 2>/dev/null; then port=$p; return 0; fi
		wait "$server_pid" 2>/dev/null
		server_pid=""
		echo "   (server on port $p failed, try $try: $(head -c 200 "$tmp/server.err"))"
	done
	return 1
}
stop_server() { # the natcheck under strace, then strace
	local child
	child=$(pgrep -P "$server_pid")
	[ -n "$child" ] && kill "$child"
	wait "$server_pid" 2>/dev/null
	server_pid=""
}
# Unconfigured (the shipped /etc/default file sets nothing), the server
# stops at once with a usage error, which the unit does not restart.
NATCHECK_SERVE="" NATCHECK_SERVE_OPTS="" unit_argv "$units/natcheck-server.service"
timeout 10 "${argv[@]}" >/dev/null 2>"$tmp/unset.err"
rc=$?
check "unconfigured, the server's ExecStart= is a usage error (rc $rc)" test "$rc" = 2
check "... that names --serve" grep -q -- --serve "$tmp/unset.err"
check "... and the unit does not restart on it" grep -qx 'RestartPreventExitStatus=2' "$units/natcheck-server.service"
port=""
if start_server; then
	ok "natcheck-server.service's ExecStart= serves on 127.0.0.1,127.0.0.2:$port"
	state=$tmp/state
	mkdir -p "$state"
	metrics=$state/natcheck.prom
	run_watch() { # run natcheck-watch.service's ExecStart= with these args
		NATCHECK_WATCH_ARGS="$*" NATCHECK_METRICS_FILE=$metrics unit_argv "$units/natcheck-watch.service"
		strace -f -qq -o "$tmp/watch.trace.$((++nwatch))" "${argv[@]}" >/dev/null 2>"$tmp/watch.err"
	}
	nwatch=0
	run_watch -t 3 -b 127.0.0.1 "127.0.0.1:$port"
	rc=$?
	check "natcheck-watch.service's ExecStart= succeeds (rc $rc: $(head -c 200 "$tmp/watch.err"))" test $rc = 0
	check "it writes the metrics with the verdict (open, on loopback)" \
		grep -q '^natcheck_nat_type{.*type="open"} 1$' "$metrics"
	if command -v promtool >/dev/null; then
		if promtool check metrics <"$metrics" >"$tmp/promtool.out" 2>&1; then
			ok "promtool check metrics accepts the file"
		else
			fail "promtool check metrics: $(head -c 300 "$tmp/promtool.out")"
		fi
	else
		skip "promtool check metrics: promtool not installed (Debian package prometheus)"
	fi
	cp "$metrics" "$tmp/good.prom"
	run_watch --no-such-option
	rc=$?
	check "a usage error fails the unit (rc $rc)" test $rc = 2
	check "... and keeps the last good metrics file" cmp -s "$tmp/good.prom" "$metrics"
	left=$(ls "$state")
	check "... and leaves no temporary file ($left)" test "$left" = natcheck.prom
	stop_server
	for u in server watch; do
		traces=("$tmp/$u".trace*)
		if out=$(python3 tests/package/unitcheck.py sandbox "$units/natcheck-$u.service" "${traces[@]}" 2>&1); then
			ok "natcheck-$u.service: the traced run stays inside its sandbox ($(tail -n 1 <<<"$out"))"
		else
			fail "natcheck-$u.service sandbox: $out"
		fi
	done
else
	fail "natcheck-server.service's ExecStart= did not start a server"
fi
unset NATCHECK_SERVE NATCHECK_SERVE_OPTS

make -s uninstall PREFIX="$prefix" >"$tmp/uninstall.log" 2>&1 || { cat "$tmp/uninstall.log"; fail "make uninstall"; }
left=$(find "$inst" -type f | sed "s|^$prefix/||" | tr '\n' ' ')
check "make uninstall removes every file${left:+ (left: $left)}" test -z "$left"

# ---------------------------------------------------------- Debian package

deb_tests() {
	local deb ver lint
	ver=$(sed -n 's/^VERSION *= *//p' Makefile)
	if ! make -s deb >"$tmp/deb.log" 2>&1; then
		tail -n 30 "$tmp/deb.log"
		fail "make deb"
		return
	fi
	deb=build/deb/natcheck_${ver}_$(dpkg --print-architecture).deb
	check "make deb builds $deb" test -s "$deb"
	[ -s "$deb" ] || return
	# Errors and warnings fail; pedantic and info tags are shown.
	# lintian's own status (a pipeline's, read after $(...), was grep's).
	lint=$(lintian --fail-on error,warning -I --pedantic "$deb" 2>&1)
	rc=$?
	lint=$(grep -v 'running with root privileges' <<<"$lint")
	[ -n "$lint" ] && while IFS= read -r line; do echo "   lintian: $line"; done <<<"$lint"
	check "lintian: no error or warning on the .deb" \
		test "$rc" = 0 -a -z "$(grep -E '^[EW]: ' <<<"$lint")"
	# The documents the manual points to, and a description that says
	# what the timer really does.
	dpkg-deb -c "$deb" >"$tmp/deb.list"
	check "the .deb ships the README" \
		grep -qE ' \./usr/share/doc/natcheck/README\.md(\.gz)?$' "$tmp/deb.list"
	check "the .deb ships the JSON Schema, uncompressed, where natcheck(1) says" \
		grep -qE ' \./usr/share/doc/natcheck/natcheck\.schema\.json$' "$tmp/deb.list"
	check "... and natcheck(1) says so" grep -q '^\.Pa /usr/share/doc/natcheck/natcheck\.schema\.json$' man/natcheck.1
	dpkg-deb -f "$deb" Description >"$tmp/deb.desc"
	timer_told() { # the watch unit writes metrics, and the description says so
		local timer
		timer=$(tr -s '\n ' '  ' <"$tmp/deb.desc" | grep -oE 'a timer that [^,]*')
		grep -q -- '--metrics-file' systemd/natcheck-watch.service &&
			grep -q 'Prometheus metrics' <<<"$timer" && ! grep -qi json <<<"$timer"
	}
	check "the description says the timer writes Prometheus metrics, as its unit does" timer_told

	if [ "$(id -u)" != 0 ]; then
		skip "dpkg -i: not root"
		return
	fi
	if dpkg-query -W -f='${Status}' natcheck 2>/dev/null | grep -q 'installed' ||
		[ -e /usr/bin/natcheck ]; then
		skip "dpkg -i: natcheck is already installed in /usr; not replacing it"
		return
	fi
	deb_installed=1
	# Another dpkg or apt may hold the lock for a while.
	local try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 && break
		grep -q 'lock' "$tmp/dpkg.log" || break
		sleep 3
	done
	if ! dpkg-query -W -f='${Status}' natcheck 2>/dev/null | grep -qx 'install ok installed'; then
		cat "$tmp/dpkg.log"
		fail "dpkg -i $deb"
		return
	fi
	ok "dpkg -i $deb"
	check "installed: /usr/bin/natcheck --version says $ver" \
		test "$(/usr/bin/natcheck --version)" = "natcheck $ver"
	check "installed: man finds natcheck(1)" \
		test "$(MANPATH=/usr/share/man man -w natcheck 2>/dev/null)" = /usr/share/man/man1/natcheck.1.gz
	check "installed: bash-completion loads it" loads_from /usr/share
	check "installed: zsh completion in vendor-completions" test -s /usr/share/zsh/vendor-completions/_natcheck
	check "installed: the JSON Schema natcheck(1) names is there and is JSON" \
		python3 -c 'import json, sys; json.load(open(sys.argv[1]))' \
		/usr/share/doc/natcheck/natcheck.schema.json
	for c in /etc/default/natcheck-server /etc/default/natcheck-watch; do
		dpkg-query -W -f="\${Conffiles}" natcheck >"$tmp/conffiles"
		check "installed: $c is a configuration file" grep -q "^ $c " "$tmp/conffiles"
	done
	if out=$(cd /lib/systemd/system && systemd-analyze verify natcheck-server.service \
		natcheck-watch.service natcheck-watch.timer 2>&1); then
		ok "installed: systemd-analyze verify on /lib/systemd/system/natcheck-*"
	else
		fail "installed units: $out"
	fi
	check "installed: no unit enabled" not compgen -G '/etc/systemd/system/*.wants/natcheck-*'
	dpkg --purge natcheck >"$tmp/dpkg.log" 2>&1 || cat "$tmp/dpkg.log"
	deb_installed=""
	check "dpkg --purge removes the binary" test ! -e /usr/bin/natcheck
	check "dpkg --purge removes /etc/default/natcheck-server" test ! -e /etc/default/natcheck-server
}
if command -v dpkg-buildpackage >/dev/null && command -v lintian >/dev/null && command -v dh >/dev/null; then
	deb_tests
else
	fail "the .deb: dpkg-dev, debhelper and lintian are needed"
fi

echo "package: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] || exit 1
[ "$skipped" = 0 ] || exit 77
