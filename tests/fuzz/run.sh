#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS - a bounded libFuzzer run of every fuzz target.
#
# Builds build/fuzz_NAME for every tests/fuzz/fuzz_NAME.c (make fuzz), then
# runs each in turn on a scratch copy of its seed corpus
# tests/fuzz/corpus_NAME/ (an empty corpus when there is none), the
# SECONDS split evenly between the targets (at least 1 s each).  Prints
# the executions per target and exits non-zero on any crash, leak, hang
# or sanitizer report (the input is kept under build/fuzz-artifacts/).
# Without clang or its libFuzzer runtime it says so in one line and exits
# 77, a skip (tests/group.sh).  Ends with "fuzz: P passed, F failed, 0
# skipped", one check per target.
set -u

secs=${1:-60}
case $secs in
''|*[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/../.." || exit 2
cc=${FUZZ_CC:-clang}

skip() {
	echo "fuzz: skipped: $1"
	exit 77
}

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

command -v "$cc" >/dev/null 2>&1 || skip "$cc not found"
# The runtime ships separately from the compiler (libclang-rt-*-dev on Debian).
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	> "$tmp/probe.c"
"$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1 ||
	skip "$cc cannot link -fsanitize=fuzzer (libFuzzer runtime missing)"

names=()
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	n=${src#tests/fuzz/fuzz_}
	names+=("${n%.c}")
done
if [ ${#names[@]} -eq 0 ]; then
	echo "fuzz: no tests/fuzz/fuzz_*.c"
	exit 1
fi

make -s fuzz FUZZ_CC="$cc" || { echo "fuzz: build failed"; exit 1; }

each=$((secs / ${#names[@]}))
[ "$each" -ge 1 ] || each=1
mkdir -p build/fuzz-artifacts
status=0 passed=0 failed=0
for n in "${names[@]}"; do
	corpus="$tmp/corpus_$n" log="$tmp/$n.log" seeds=0
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/corpus_$n" ]; then
		cp tests/fuzz/corpus_"$n"/* "$corpus/" 2>/dev/null
		seeds=$(find "$corpus" -type f | wc -l)
	fi
	# One process, bounded in time; -timeout catches a hang on one input.
	"build/fuzz_$n" -max_total_time="$each" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="build/fuzz-artifacts/$n-" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
	echo "fuzz: $n: ${execs:-unknown} executions in ${each}s from $seeds seeds"
	if [ "$rc" -ne 0 ] || [ -z "$execs" ]; then
		echo "fuzz: $n FAILED (exit $rc); last lines of the log:"
		tail -n 40 "$log"
		ls -l build/fuzz-artifacts/ 2>/dev/null
		status=1 failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
if [ $status -eq 0 ]; then
	echo "fuzz: ${#names[@]} targets, no crash"
fi
echo "fuzz: $passed passed, $failed failed, 0 skipped"
exit $status
