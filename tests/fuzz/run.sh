#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS - a bounded libFuzzer run of the STUN decoder.
#
# Builds build/fuzz_stun (make fuzz), fuzzes a scratch copy of the seed
# corpus for SECONDS, prints the number of executions, and exits non-zero
# on a crash (the crashing input is kept under build/fuzz-artifacts/).
# Without clang or its libFuzzer runtime it says so in one line and exits
# 1 under CI (where the tools must be there) and 0 elsewhere.
set -u

secs=${1:-60}
case $secs in
''|*[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/../.." || exit 2
cc=${FUZZ_CC:-clang}

skip() {
	echo "fuzz: skipped: $1"
	if [ -n "${CI:-}" ]; then exit 1; fi
	exit 0
}

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

command -v "$cc" >/dev/null 2>&1 || skip "$cc not found"
# The runtime ships separately from the compiler (libclang-rt-*-dev on Debian).
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	> "$tmp/probe.c"
"$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1 ||
	skip "$cc cannot link -fsanitize=fuzzer (libFuzzer runtime missing)"

make -s fuzz FUZZ_CC="$cc" || { echo "fuzz: build failed"; exit 1; }

mkdir -p "$tmp/corpus" build/fuzz-artifacts
cp tests/fuzz/corpus/* "$tmp/corpus/"

# One process, bounded in time; -timeout catches a hang on one input.
build/fuzz_stun -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
	-artifact_prefix=build/fuzz-artifacts/ "$tmp/corpus" > "$tmp/log" 2>&1
rc=$?

execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$tmp/log")
echo "fuzz: ${execs:-unknown} executions in ${secs}s"
if [ "$rc" -ne 0 ]; then
	echo "fuzz: FAILED (exit $rc); last lines of the log:"
	tail -n 40 "$tmp/log"
	ls -l build/fuzz-artifacts/ 2>/dev/null
	exit 1
fi
echo "fuzz: no crash"
