# natcheck - NAT type detector and dual-address STUN server.
#
#   make                 build ./natcheck
#   make deps            install the Debian packages the build and the tests use
#                        (root; `sudo make deps check` on a fresh Debian machine)
#   make check           every test: unit, sanitizers, end to end, real peers,
#                        a bounded fuzz run, and the NAT lab when run as root
#   make install         PREFIX=/usr/local DESTDIR= (binary, man page, shell
#                        completions, systemd units)
#   make deb             a Debian package in build/deb/
#   make fuzz            a libFuzzer binary per tests/fuzz/fuzz_*.c (clang)
#   make bench           client benchmarks in the NAT lab (root): time to
#                        verdict, traversal, failover, one dual-stack run vs
#                        each family, --tcp; name resolution with a silent
#                        DNS server
#   make bench-server    server throughput against coturn
#
# No library beyond libc; Criterion only for the unit tests.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=
# Shell completions and systemd units (make install).  zsh itself, for any
# prefix, reads $(PREFIX)/share/zsh/site-functions; Debian's packages use
# /usr/share/zsh/vendor-completions (debian/rules says so).
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
EXAMPLESDIR ?= $(PREFIX)/share/doc/natcheck/examples

CC       ?= cc
CFLAGS   ?= -O2 -g
WARNINGS  = -std=c11 -Wall -Wextra -Werror
DEFS      = -D_POSIX_C_SOURCE=200809L -DNATCHECK_VERSION='"$(VERSION)"'
ALL_CFLAGS = $(WARNINGS) $(DEFS) $(CFLAGS)
LDLIBS   ?=

# Every Debian package the build, the tests (make check) and the package
# build use; `make deps` installs exactly these, .ci/run calls it.
#   build-essential, clang, libclang-rt-14-dev   gcc, make, nm; clang with its
#                            sanitizer and libFuzzer runtimes (check-clang, fuzz)
#   libcriterion-dev         the unit tests
#   python3, mandoc          the end-to-end tests (and the man page)
#   shellcheck               check-shell
#   iproute2 nftables util-linux procps coreutils   the NAT lab (ip, ss,
#                            nft, unshare, taskset, sysctl, timeout)
#   stun-client stun-server coturn        the real peers (stun, stund,
#                            turnserver, turnutils_natdiscovery)
#   miniupnpd-nftables miniupnpc natpmpc  the port-mapping lab's gateway
#                            and its cross-checks (miniupnpd, upnpc, natpmpc)
#   debhelper dpkg-dev lintian bash-completion systemd strace zsh man-db
#                            the Debian package build and its checks
#                            (systemd-analyze, units run under strace, both
#                            shells' completions, man -w)
#   prometheus prometheus-node-exporter monitoring-plugins-basic
#   python3-jsonschema       the monitoring outputs' judges: promtool,
#                            node_exporter's textfile collector, check_dummy,
#                            and doc/natcheck.schema.json checked against real runs
#   dnsmasq-base             a real DNS server for the stub resolver's test
#                            (tests/e2e/resolve_offline.py; no service)
#   git                      the benches name the commit they measured
DEB_PACKAGES = build-essential clang libclang-rt-14-dev libcriterion-dev \
	python3 mandoc shellcheck \
	iproute2 nftables util-linux procps coreutils \
	stun-client stun-server coturn miniupnpd-nftables miniupnpc natpmpc \
	debhelper dpkg-dev lintian bash-completion systemd strace zsh man-db \
	prometheus prometheus-node-exporter monitoring-plugins-basic python3-jsonschema \
	dnsmasq-base git

# Whatever make runs finds Debian's programs, the ones make deps installs,
# before any other on PATH: a python3 of one's own (pyenv, a virtualenv)
# would bring modules of its own and hide a python3-* package missing from
# DEB_PACKAGES, which only a fresh machine would show (check-deps).
export PATH := /usr/sbin:/usr/bin:/sbin:/bin:$(PATH)

# The pure core (no I/O: check-core holds it to that), then the I/O shell.
CORE_SRCS = stun.c hash.c addr.c probe.c nat.c report.c server.c portmap.c monitor.c \
	tcpprobe.c tcpreport.c ratelimit.c logsum.c tcpframe.c ports.c forecast.c lifetime.c \
	traversal.c uri.c dns.c resolve.c
SHELL_SRCS = net.c serve.c loop.c portmap_io.c watch.c tcpprobe_io.c outfile.c engloop.c \
	resolve_io.c
SRCS      = natcheck.c $(CORE_SRCS) $(SHELL_SRCS)
LIB_SRCS  = $(CORE_SRCS) $(SHELL_SRCS)
HDRS      = $(wildcard *.h)

B         = build
OBJS      = $(SRCS:%.c=$(B)/%.o)
CORE_OBJS = $(CORE_SRCS:%.c=$(B)/%.o)

# Sanitizer build of the same code, for the unit tests.
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
BA        = build/asan

# The server without recvmmsg/sendmmsg (the portable path), for the
# server's end-to-end tests.
BN        = build/nommsg
NOMMSG_OBJS = $(SRCS:%.c=$(BN)/%.o)

# Criterion unit tests: one binary per tests/test_*.c.  Each links only the
# modules it tests and what they need, so a test cannot lean on a module
# its subject does not link against (that would hide a layering leak):
# test_NAME_OBJS names them, without .o (tests/support/ files by path).
# A new tests/test_*.c needs its line here; its build says so.
TEST_SRCS = $(wildcard tests/test_*.c)
TEST_NAMES = $(TEST_SRCS:tests/%.c=%)
TEST_BINS = $(TEST_NAMES:%=$(B)/tests/%)
ASAN_TEST_BINS = $(TEST_NAMES:%=$(BA)/tests/%)
TEST_HDRS = $(wildcard tests/support/*.h)
CRITERION_LIBS = -lcriterion

test_addr_OBJS   = addr
test_uri_OBJS    = uri tests/support/edge
test_dns_OBJS    = dns tests/support/edge
test_resolve_OBJS = resolve dns addr
test_stun_OBJS   = stun hash tests/support/edge
test_portmap_OBJS = portmap portmap_io net addr tests/support/edge
test_net_OBJS    = net addr
test_server_OBJS = server serve net addr stun hash ratelimit logsum outfile tcpframe
test_ratelimit_OBJS = ratelimit
test_logsum_OBJS = logsum addr
test_tcpframe_OBJS = tcpframe tests/support/edge
# The engine against the real server_handle through the in-memory NAT.
test_probe_OBJS  = probe nat stun hash addr server tests/support/natsim
test_nat_OBJS    = nat report portmap probe stun hash addr server tests/support/natsim
test_report_OBJS = report portmap nat probe stun hash addr server tests/support/natsim
# The monitoring renderers on verdicts made by hand (nat.o for the words,
# report.o for JSON strings; report.o brings probe.o and its codec).
test_monitor_OBJS = monitor report portmap nat probe stun hash addr server
# The TCP engine against the real server_handle through a simulated NAT,
# in virtual time, and its renderer.
test_tcpprobe_OBJS = tcpprobe tcpreport report portmap nat probe stun hash addr server \
	tests/support/natsim \
	tests/support/edge
# Its sockets, on loopback.
test_tcpprobe_io_OBJS = tcpprobe_io tcpprobe probe net addr stun hash
test_ports_OBJS  = ports probe nat stun hash addr server tests/support/natsim
test_forecast_OBJS = forecast ports nat probe stun hash addr
test_lifetime_OBJS = lifetime stun hash addr server tests/support/natsim probe
test_traversal_OBJS = traversal report portmap forecast ports lifetime nat probe stun hash addr server tests/support/natsim

# test_objs DIR NAME: the object files test NAME links, built in DIR.
test_objs = $(addprefix $(1)/,$(addsuffix .o,$($(2)_OBJS)))

# libFuzzer targets: one binary build/fuzz_NAME per tests/fuzz/fuzz_NAME.c,
# linked with fuzz_NAME_SRCS (default: the core, server.c included), all
# built with the fuzzer's instrumentation in $(BF).
FUZZ_CC   ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all
BF        = build/fuzz-obj
FUZZ_NAMES = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS = $(FUZZ_NAMES:%=$(B)/fuzz_%)
FUZZ_DEFAULT_SRCS = $(CORE_SRCS)
fuzz_stun_SRCS = stun.c hash.c
fuzz_tcpframe_SRCS = tcpframe.c
fuzz_portmap_SRCS = portmap.c portmap_io.c addr.c net.c
fuzz_tcpprobe_SRCS = tcpprobe.c probe.c stun.c hash.c addr.c
fuzz_uri_SRCS = uri.c net.c addr.c
fuzz_dns_SRCS = dns.c
fuzz_pair_SRCS = forecast.c ports.c nat.c probe.c stun.c hash.c addr.c
fuzz_objs = $(patsubst %.c,$(BF)/%.o,$(or $(fuzz_$(1)_SRCS),$(FUZZ_DEFAULT_SRCS)))

# check-core: no core object may call any of these (the socket layer, name
# lookups, waiting, file descriptors, the clock, the OS random source,
# signals, processes).  stdio on a caller's FILE * is allowed.
CORE_FORBIDDEN = socket socketpair bind connect listen accept accept4 shutdown \
	send sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg \
	setsockopt getsockopt getsockname getpeername \
	getaddrinfo freeaddrinfo gai_strerror getnameinfo gethostbyname gethostbyname2 \
	poll ppoll select pselect epoll_create epoll_create1 epoll_ctl epoll_wait \
	open openat creat read write pread pwrite readv writev close pipe pipe2 dup dup2 \
	fcntl ioctl \
	clock_gettime gettimeofday time nanosleep clock_nanosleep sleep usleep alarm \
	getentropy getrandom arc4random arc4random_buf \
	signal sigaction raise kill fork vfork execv execve execvp system popen exit _exit abort

empty :=
space := $(empty) $(empty)

# Shell scripts: every *.sh and every file whose first line runs sh or bash
# (git's files, tracked or not ignored; without git, all but build/).
# All of shellcheck's notes count, style and up.
SHELLCHECK_FLAGS ?= -x -S style

.PHONY: all deps check check-deps check-clang check-core check-shell check-unit check-asan \
        check-e2e check-nommsg check-peers check-fuzz check-bench-tools check-lab \
        fuzz install uninstall clean bench bench-server lab-loss deb check-package

all: natcheck

# `make deps check` (also with -j): nothing else starts before deps is done.
ifneq ($(filter deps,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif

deps:
	@[ "$$(id -u)" = 0 ] || { echo "make deps: installs Debian packages: run it as root (sudo make deps)"; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_PACKAGES)

# The objects behind the test binaries are not throw-away intermediates.
.SECONDARY:

natcheck: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(BN)/natcheck: $(NOMMSG_OBJS)
	$(CC) $(ALL_CFLAGS) -DSERVER_NO_MMSG $(LDFLAGS) -o $@ $(NOMMSG_OBJS) $(LDLIBS)

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BA)/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

# The unit tests' shared helpers (tests/support/).
$(B)/tests/support/%.o: tests/support/%.c $(HDRS) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -I. -c -o $@ $<

$(BA)/tests/support/%.o: tests/support/%.c $(HDRS) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -I. -c -o $@ $<

$(BN)/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DSERVER_NO_MMSG -c -o $@ $<

$(BF)/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(WARNINGS) $(DEFS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined \
	  -c -o $@ $<

# unit_test NAME: its plain and its sanitizer binary.
define unit_test
$(B)/tests/$(1): tests/$(1).c $(call test_objs,$(B),$(1)) $(HDRS) $(TEST_HDRS)
	$(if $($(1)_OBJS),,@echo "tests/$(1).c: say what it links: add $(1)_OBJS = ... to the Makefile"; exit 1)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -I. -Itests/support -o $$@ $$< $(call test_objs,$(B),$(1)) \
	  $$(CRITERION_LIBS) $$(LDLIBS) -lm

$(BA)/tests/$(1): tests/$(1).c $(call test_objs,$(BA),$(1)) $(HDRS) $(TEST_HDRS)
	$(if $($(1)_OBJS),,@echo "tests/$(1).c: say what it links: add $(1)_OBJS = ... to the Makefile"; exit 1)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(SAN_FLAGS) -I. -Itests/support -o $$@ $$< $(call test_objs,$(BA),$(1)) \
	  $$(CRITERION_LIBS) $$(LDLIBS) -lm
endef
$(foreach t,$(TEST_NAMES),$(eval $(call unit_test,$(t))))

# fuzz_target NAME: build/fuzz_NAME.
define fuzz_target
$(B)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(call fuzz_objs,$(1)) $(HDRS)
	$$(FUZZ_CC) $$(WARNINGS) $$(DEFS) $$(FUZZ_FLAGS) -I. -fsanitize=fuzzer,address,undefined \
	  -o $$@ $$< $(call fuzz_objs,$(1))
endef
$(foreach f,$(FUZZ_NAMES),$(eval $(call fuzz_target,$(f))))

# The core alone, linked into a program of its own.
$(B)/core_link: tests/core_link.c $(CORE_OBJS) $(HDRS)
	$(CC) $(ALL_CFLAGS) -I. -o $@ $< $(CORE_OBJS) $(LDLIBS)

# ---------------------------------------------------------------- tests

# Every test group runs through tests/group.sh, which records how many
# checks it ran, failed and skipped (exit status 77 is a skip; the
# convention is in tests/group.sh and tests/lab/README.md).  make check
# runs the groups, then prints what each checked and the totals, and fails
# on any skip unless ALLOW_SKIP=1 (.ci/run never sets it).  A group run
# alone (make check-lab) fails on its own skips, with the same exception.
CHECK_GROUPS = check-deps check-clang check-core check-shell check-unit check-asan check-e2e \
	check-nommsg check-peers check-fuzz check-bench-tools check-lab check-package
GROUP = bash tests/group.sh
export CHECK_DIR = $(CURDIR)/$(B)/check

check: natcheck
	@rm -rf $(CHECK_DIR)
	@CHECK_DEFER_SKIPS=1 $(MAKE) --no-print-directory $(CHECK_GROUPS); \
	  CHECK_STATUS=$$? $(GROUP) --summary

# Every Debian package a test names as a prerequisite is in DEB_PACKAGES,
# and every tool the tests run comes from one of them (or from Debian's
# essential set).
check-deps:
	@$(GROUP) deps python3 tests/debian_deps.py $(DEB_PACKAGES)

# Both compilers must accept every file without a warning, the server's
# portable path (SERVER_NO_MMSG) included.
check-clang:
	@command -v clang >/dev/null || { echo "check-clang: clang is missing"; exit 1; }
	@for f in $(SRCS); do clang $(WARNINGS) $(DEFS) -O2 -fsyntax-only $$f || exit 1; done
	@clang $(WARNINGS) $(DEFS) -DSERVER_NO_MMSG -O2 -fsyntax-only serve.c
	@echo "clang: $(words $(SRCS)) files compile clean"
	@$(GROUP) --passed clang $(words $(SRCS))

# The core links without the shell (a call into net, serve, loop or main
# fails the link) and calls nothing in $(CORE_FORBIDDEN).
check-core: $(B)/core_link
	@$(B)/core_link
	@bad=$$(nm -u -A $(CORE_OBJS) | awk '{ print $$1, $$NF }' | \
	  grep -E ' (__)?($(subst $(space),|,$(strip $(CORE_FORBIDDEN))))(_chk)?$$'); \
	if [ -n "$$bad" ]; then \
	  echo "check-core: the core calls what only the I/O shell may:"; \
	  echo "$$bad" | sed 's/^/  /'; exit 1; \
	fi
	@echo "core: $(words $(CORE_OBJS)) objects link alone and do no I/O"
	@$(GROUP) --passed core 2

check-shell:
	@command -v shellcheck >/dev/null || { echo "check-shell: shellcheck is missing (Debian package shellcheck)"; exit 1; }
	@files=$$( { git ls-files --cached --others --exclude-standard 2>/dev/null || find . -path ./build -prune -o -type f -print; } | sort -u | \
	  while IFS= read -r f; do \
	    [ -f "$$f" ] || continue; \
	    case $$f in *.sh) echo "$$f"; continue ;; esac; \
	    head -n 1 "$$f" | grep -Eq '^#!.*[/ ](ba|da)?sh( |$$)' && echo "$$f"; \
	  done ); \
	[ -n "$$files" ] || { echo "check-shell: no shell script found"; exit 1; }; \
	shellcheck $(SHELLCHECK_FLAGS) $$files && echo "shellcheck: $$(echo $$files | wc -w) scripts clean" && \
	$(GROUP) --passed shell "$$(echo $$files | wc -w)"

check-unit: $(TEST_BINS)
	@$(GROUP) unit bash tests/run-unit.sh $(TEST_BINS)

check-asan: $(ASAN_TEST_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(GROUP) asan bash tests/run-unit.sh $(ASAN_TEST_BINS)

check-e2e: natcheck
	@$(GROUP) e2e bash tests/e2e/run.sh ./natcheck

# The server's end-to-end tests against the build without recvmmsg and
# sendmmsg (which must really be without them).
check-nommsg: $(BN)/natcheck
	@if nm -u $(BN)/serve.o | grep -Eq ' (recv|send)mmsg$$'; then \
	  echo "check-nommsg: $(BN)/serve.o still calls recvmmsg/sendmmsg"; exit 1; fi
	@$(GROUP) nommsg bash tests/e2e/run.sh $(BN)/natcheck tests/e2e/serve_*.py

check-peers: natcheck
	@$(GROUP) peers bash tests/peers/run.sh ./natcheck

check-fuzz:
	@$(GROUP) fuzz bash tests/fuzz/run.sh $(FUZZ_SECONDS)

# The benchmarks' own tools (bench/floor.c, bench/loadgen.c, bench/dual.py
# report) do what bench/README says: functional checks, no timing.
check-bench-tools: natcheck
	@$(GROUP) bench-tools bash bench/selftest.sh ./natcheck

check-lab: natcheck
	@$(GROUP) lab-run bash tests/lab/run.sh ./natcheck
	@$(GROUP) lab-portmap bash tests/lab/portmap.sh ./natcheck
	@$(GROUP) lab-watch bash tests/lab/watch.sh ./natcheck
	@$(GROUP) lab-cold bash tests/lab/cold.sh ./natcheck
	@$(GROUP) lab-failover bash tests/lab/failover.sh ./natcheck
	@$(GROUP) lab-single bash tests/lab/single.sh ./natcheck
	@$(GROUP) lab-ipv6 bash tests/lab/ipv6.sh ./natcheck
	@$(GROUP) lab-tcp bash tests/lab/tcp.sh ./natcheck
	@$(GROUP) lab-advertise bash tests/lab/advertise.sh ./natcheck
	@$(GROUP) lab-traversal bash tests/lab/traversal.sh ./natcheck
	@$(GROUP) lab-pair bash tests/lab/pair.sh ./natcheck

lab-loss: natcheck
	@bash tests/lab/loss.sh ./natcheck

fuzz: $(FUZZ_BINS)

# ---------------------------------------------------------------- benchmarks

bench: natcheck
	@bash bench/client.sh ./natcheck
	@bash bench/traversal.sh ./natcheck
	@bash bench/failover.sh ./natcheck
	@bash bench/dual.sh ./natcheck
	@bash bench/tcp.sh ./natcheck
	@bash bench/resolve.sh ./natcheck

bench-server: natcheck check-bench-tools
	@bash bench/server.sh ./natcheck

# ---------------------------------------------------------------- install

UNITS = natcheck-server.service natcheck-watch.service natcheck-watch.timer
DEFAULTS = natcheck-server.default natcheck-watch.default

# The units name the binary as /usr/bin/natcheck; installed, they name
# $(BINDIR)/natcheck.  The /etc/default examples go to EXAMPLESDIR: copy
# them to /etc/default/natcheck-server and natcheck-watch (the Debian
# package installs them there as configuration files).
install: natcheck
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
	  $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(EXAMPLESDIR)
	install -m 755 natcheck $(DESTDIR)$(BINDIR)/natcheck
	install -m 644 man/natcheck.1 $(DESTDIR)$(MANDIR)/man1/natcheck.1
	install -m 644 completions/natcheck.bash $(DESTDIR)$(BASHCOMPDIR)/natcheck
	install -m 644 completions/_natcheck $(DESTDIR)$(ZSHCOMPDIR)/_natcheck
	for u in $(UNITS); do \
	  sed 's|/usr/bin/natcheck|$(BINDIR)/natcheck|g' systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u.tmp && \
	  chmod 644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
	  mv -f $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	for d in $(DEFAULTS); do install -m 644 systemd/$$d $(DESTDIR)$(EXAMPLESDIR)/$$d || exit 1; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/natcheck $(DESTDIR)$(MANDIR)/man1/natcheck.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/natcheck $(DESTDIR)$(ZSHCOMPDIR)/_natcheck
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	for d in $(DEFAULTS); do rm -f $(DESTDIR)$(EXAMPLESDIR)/$$d; done
	rmdir $(DESTDIR)$(EXAMPLESDIR) $(DESTDIR)$(PREFIX)/share/doc/natcheck 2>/dev/null || true

# ---------------------------------------------------------------- packaging
# (new targets; see debian/ and tests/package/run.sh)

# A Debian package, built by dpkg-buildpackage in a copy of the tree under
# build/deb/, so nothing is written outside the repository.  The .deb lands
# in build/deb/.
DEB_DIR = $(B)/deb
DEB_SRC = $(DEB_DIR)/natcheck-$(VERSION)
deb:
	@v=$$(dpkg-parsechangelog -SVersion) && [ "$$v" = "$(VERSION)" ] || \
	  { echo "deb: debian/changelog says $$v, the Makefile $(VERSION)"; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	tar -cf - --exclude=./build --exclude=./.git --exclude=./natcheck --exclude=./bench/out . | \
	  tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/*.deb

# Completions against --help, units through systemd-analyze, make install
# and uninstall, the .deb through lintian and dpkg (as root).
check-package: natcheck
	@$(GROUP) package bash tests/package/run.sh ./natcheck

clean:
	rm -rf $(B) natcheck
