# natcheck - NAT type detector and dual-address STUN server.
#
#   make                 build ./natcheck
#   make deps            install the Debian packages the build and the tests use
#                        (root; `sudo make deps check` on a fresh Debian machine)
#   make check           every test: unit, sanitizers, end to end, real peers,
#                        a bounded fuzz run, and the NAT lab when run as root
#   make install         PREFIX=/usr/local DESTDIR= (binary and man page)
#   make fuzz            a libFuzzer binary per tests/fuzz/fuzz_*.c (clang)
#   make bench           client benchmarks in the NAT lab (root)
#   make bench-server    server throughput against coturn
#
# No library beyond libc; Criterion only for the unit tests.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=

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
#   iproute2 nftables util-linux procps   the NAT lab (ip, ss, nft, unshare,
#                            taskset, sysctl)
#   stun-client stun-server coturn        the real peers (stun, stund,
#                            turnserver, turnutils_natdiscovery)
#   debhelper dpkg-dev lintian bash-completion systemd   the Debian package
#                            build and its checks (systemd-analyze)
DEB_PACKAGES = build-essential clang libclang-rt-14-dev libcriterion-dev \
	python3 mandoc shellcheck \
	iproute2 nftables util-linux procps \
	stun-client stun-server coturn \
	debhelper dpkg-dev lintian bash-completion systemd

# The pure core (no I/O: check-core holds it to that), then the I/O shell.
CORE_SRCS = stun.c hash.c addr.c probe.c nat.c report.c ports.c forecast.c lifetime.c traversal.c
SHELL_SRCS = net.c server.c loop.c engloop.c
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
test_stun_OBJS   = stun hash
test_net_OBJS    = net addr
test_server_OBJS = server net addr stun hash
# The engine against the real server_handle through the in-memory NAT;
# server.o brings net.o (its socket half lives in the same file).
test_probe_OBJS  = probe nat stun hash addr server net tests/support/natsim
test_nat_OBJS    = nat probe stun hash addr server net tests/support/natsim
test_ports_OBJS  = ports probe nat stun hash addr server net tests/support/natsim
test_forecast_OBJS = forecast ports nat probe stun hash addr
test_lifetime_OBJS = lifetime stun hash addr server net tests/support/natsim probe
test_traversal_OBJS = traversal report forecast ports lifetime nat probe stun hash addr server net tests/support/natsim

# test_objs DIR NAME: the object files test NAME links, built in DIR.
test_objs = $(addprefix $(1)/,$(addsuffix .o,$($(2)_OBJS)))

# libFuzzer targets: one binary build/fuzz_NAME per tests/fuzz/fuzz_NAME.c,
# linked with fuzz_NAME_SRCS (default: the core, net.c and server.c), all
# built with the fuzzer's instrumentation in $(BF).
FUZZ_CC   ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all
BF        = build/fuzz-obj
FUZZ_NAMES = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS = $(FUZZ_NAMES:%=$(B)/fuzz_%)
FUZZ_DEFAULT_SRCS = $(CORE_SRCS) net.c server.c
fuzz_stun_SRCS = stun.c hash.c
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

.PHONY: all deps check check-clang check-core check-shell check-unit check-asan \
        check-e2e check-nommsg check-peers check-fuzz check-lab \
        fuzz install uninstall clean bench bench-server lab-loss

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

check: natcheck check-clang check-core check-shell check-unit check-asan check-e2e \
       check-nommsg check-peers check-fuzz check-lab
	@echo "make check: all test groups passed"

# Both compilers must accept every file without a warning, the server's
# portable path (SERVER_NO_MMSG) included.
check-clang:
	@command -v clang >/dev/null || { echo "check-clang: clang is missing"; exit 1; }
	@for f in $(SRCS); do clang $(WARNINGS) $(DEFS) -O2 -fsyntax-only $$f || exit 1; done
	@clang $(WARNINGS) $(DEFS) -DSERVER_NO_MMSG -O2 -fsyntax-only server.c
	@echo "clang: $(words $(SRCS)) files compile clean"

# The core links without the shell (a call into net, server, loop or main
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

check-shell:
	@command -v shellcheck >/dev/null || { echo "check-shell: shellcheck is missing (Debian package shellcheck)"; exit 1; }
	@files=$$( { git ls-files --cached --others --exclude-standard 2>/dev/null || find . -path ./build -prune -o -type f -print; } | sort -u | \
	  while IFS= read -r f; do \
	    [ -f "$$f" ] || continue; \
	    case $$f in *.sh) echo "$$f"; continue ;; esac; \
	    head -n 1 "$$f" | grep -Eq '^#!.*[/ ](ba|da)?sh( |$$)' && echo "$$f"; \
	  done ); \
	[ -n "$$files" ] || { echo "check-shell: no shell script found"; exit 1; }; \
	shellcheck $(SHELLCHECK_FLAGS) $$files && echo "shellcheck: $$(echo $$files | wc -w) scripts clean"

check-unit: $(TEST_BINS)
	@bash tests/run-unit.sh $(TEST_BINS)

check-asan: $(ASAN_TEST_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  bash tests/run-unit.sh $(ASAN_TEST_BINS)

check-e2e: natcheck
	@bash tests/e2e/run.sh ./natcheck

# The server's end-to-end tests against the build without recvmmsg and
# sendmmsg (which must really be without them).
check-nommsg: $(BN)/natcheck
	@if nm -u $(BN)/server.o | grep -Eq ' (recv|send)mmsg$$'; then \
	  echo "check-nommsg: $(BN)/server.o still calls recvmmsg/sendmmsg"; exit 1; fi
	@bash tests/e2e/run.sh $(BN)/natcheck tests/e2e/serve_*.py

check-peers: natcheck
	@bash tests/peers/run.sh ./natcheck

check-fuzz:
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

check-lab: natcheck
	@bash tests/lab/run.sh ./natcheck
	@bash tests/lab/traversal.sh ./natcheck

lab-loss: natcheck
	@bash tests/lab/loss.sh ./natcheck

fuzz: $(FUZZ_BINS)

# ---------------------------------------------------------------- benchmarks

bench: natcheck
	@bash bench/client.sh ./natcheck
	@bash bench/traversal.sh ./natcheck

bench-server: natcheck
	@bash bench/server.sh ./natcheck

# ---------------------------------------------------------------- install

install: natcheck
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 natcheck $(DESTDIR)$(BINDIR)/natcheck
	install -m 644 man/natcheck.1 $(DESTDIR)$(MANDIR)/man1/natcheck.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/natcheck $(DESTDIR)$(MANDIR)/man1/natcheck.1

clean:
	rm -rf $(B) natcheck
