# natcheck - NAT type detector and dual-address STUN server.
#
#   make                 build ./natcheck
#   make check           every test: unit, sanitizers, end to end, real peers,
#                        a bounded fuzz run, and the NAT lab when run as root
#   make install         PREFIX=/usr/local DESTDIR= (binary and man page)
#   make fuzz            the libFuzzer target for the decoder (clang)
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

# The pure core, then the I/O shell.
CORE_SRCS = stun.c hash.c addr.c probe.c nat.c report.c
SHELL_SRCS = net.c server.c loop.c
SRCS      = natcheck.c $(CORE_SRCS) $(SHELL_SRCS)
LIB_SRCS  = $(CORE_SRCS) $(SHELL_SRCS)
HDRS      = $(wildcard *.h)

B         = build
OBJS      = $(SRCS:%.c=$(B)/%.o)
LIB_OBJS  = $(LIB_SRCS:%.c=$(B)/%.o)

# Sanitizer build of the same code, for the unit tests.
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
BA        = build/asan
ASAN_LIB_OBJS = $(LIB_SRCS:%.c=$(BA)/%.o)

# Criterion unit tests: one binary per tests/test_*.c, linked with the
# library objects and the shared test helpers in tests/support/.
TEST_SRCS = $(wildcard tests/test_*.c)
SUPPORT_SRCS = $(wildcard tests/support/*.c)
TEST_BINS = $(TEST_SRCS:tests/%.c=$(B)/tests/%)
ASAN_TEST_BINS = $(TEST_SRCS:tests/%.c=$(BA)/tests/%)
CRITERION_LIBS = -lcriterion

FUZZ_CC   ?= clang
FUZZ_SECONDS ?= 60

.PHONY: all check check-clang check-unit check-asan check-e2e check-peers check-fuzz check-lab \
        fuzz install uninstall clean bench bench-server lab-loss

all: natcheck

# The objects behind the test binaries are not throw-away intermediates.
.SECONDARY: $(LIB_OBJS) $(ASAN_LIB_OBJS)

natcheck: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(B)/%.o: %.c $(HDRS) | $(B)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BA)/%.o: %.c $(HDRS) | $(BA)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(B) $(BA) $(B)/tests $(BA)/tests:
	mkdir -p $@

$(B)/tests/%: tests/%.c $(SUPPORT_SRCS) $(LIB_OBJS) $(HDRS) $(wildcard tests/support/*.h) | $(B)/tests
	$(CC) $(ALL_CFLAGS) -I. -Itests/support -o $@ $< $(SUPPORT_SRCS) $(LIB_OBJS) $(CRITERION_LIBS) $(LDLIBS) -lm

$(BA)/tests/%: tests/%.c $(SUPPORT_SRCS) $(ASAN_LIB_OBJS) $(HDRS) $(wildcard tests/support/*.h) | $(BA)/tests
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -I. -Itests/support -o $@ $< $(SUPPORT_SRCS) $(ASAN_LIB_OBJS) $(CRITERION_LIBS) $(LDLIBS) -lm

# ---------------------------------------------------------------- tests

check: natcheck check-clang check-unit check-asan check-e2e check-peers check-fuzz check-lab
	@echo "make check: all test groups passed"

# Both compilers must accept every file without a warning.
check-clang:
	@command -v clang >/dev/null || { echo "check-clang: clang is missing"; exit 1; }
	@for f in $(SRCS); do clang $(WARNINGS) $(DEFS) -O2 -fsyntax-only $$f || exit 1; done
	@echo "clang: $(words $(SRCS)) files compile clean"

check-unit: $(TEST_BINS)
	@bash tests/run-unit.sh $(TEST_BINS)

check-asan: $(ASAN_TEST_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  bash tests/run-unit.sh $(ASAN_TEST_BINS)

check-e2e: natcheck
	@bash tests/e2e/run.sh ./natcheck

check-peers: natcheck
	@bash tests/peers/run.sh ./natcheck

check-fuzz:
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

check-lab: natcheck
	@bash tests/lab/run.sh ./natcheck
	@bash tests/lab/cold.sh ./natcheck

lab-loss: natcheck
	@bash tests/lab/loss.sh ./natcheck

fuzz: $(B)/fuzz_stun

$(B)/fuzz_stun: tests/fuzz/fuzz_stun.c stun.c hash.c $(HDRS) | $(B)
	$(FUZZ_CC) $(WARNINGS) $(DEFS) -O1 -g -I. -fsanitize=fuzzer,address,undefined \
	  -o $@ tests/fuzz/fuzz_stun.c stun.c hash.c

# ---------------------------------------------------------------- benchmarks

bench: natcheck
	@bash bench/client.sh ./natcheck

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
