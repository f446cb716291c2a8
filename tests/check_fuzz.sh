#!/bin/sh
# Fuzzing in the test command: each tests/fuzz/fuzz_<name>.c is built with clang's libFuzzer
# plus ASan and UBSan, replays its seed corpus tests/fuzz/corpus_<name>/ and then fuzzes for
# FUZZ_SECONDS (default 10) from a scratch copy of that corpus. A longer run for releases:
#     FUZZ_SECONDS=3600 sh tests/check_fuzz.sh
# A unit that runs longer than 10 s counts as a failure (a hang): the fuzzer found one in
# session 4 (a scheduler state asking for 4.2M acquisition steps); the input is now in the
# corpus (corpus_pbt/regress_acq_steps_4194309).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$ROOT/build/tests}; mkdir -p "$B"; B=$(cd "$B" && pwd)
SECONDS_EACH=${FUZZ_SECONDS:-10}
# a fixed mutation seed, so that a failure in the test command can be replayed (any other
# seed explores other inputs: FUZZ_SEED=$(date +%s) sh tests/check_fuzz.sh)
SEED=${FUZZ_SEED:-1}
probe="$B/fuzz_probe.c"
echo 'int LLVMFuzzerTestOneInput(const unsigned char* d, unsigned long n) { (void)d; (void)n; return 0; }' > "$probe"
if ! clang -fsanitize=fuzzer "$probe" -o "$B/fuzz_probe" >/dev/null 2>&1; then
    echo "SKIPPED: clang's libFuzzer runtime is not installed (Debian: clang, libclang-rt-14-dev)"
    exit 77
fi
status=0
total_execs=0
# build every target first, two at a time (each is a full ASan+UBSan build of the header)
n_jobs=0
for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c); name=${name#fuzz_}
    ( clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$ROOT" "$src" -o "$B/fuzz_$name" -lm \
        > "$B/fuzz_$name.build.log" 2>&1 || rm -f "$B/fuzz_$name" ) &
    n_jobs=$((n_jobs + 1))
    [ $((n_jobs % 2)) -eq 0 ] && wait
done
wait
for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c); name=${name#fuzz_}
    exe="$B/fuzz_$name"
    if [ ! -x "$exe" ]; then
        echo "fuzz $name: build failed"; sed -n 1,20p "$B/fuzz_$name.build.log"; status=1; continue
    fi
    work="$B/fuzz_corpus_$name"; rm -rf "$work"; mkdir -p "$work"
    [ -d "$ROOT/tests/fuzz/corpus_$name" ] && cp "$ROOT/tests/fuzz/corpus_$name"/* "$work"/ 2>/dev/null
    if ! (cd "$B" && "$exe" -seed="$SEED" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 "$work" > "$B/fuzz_$name.log" 2>&1); then
        echo "fuzz $name: FAILED (crash or sanitizer report), see $B/fuzz_$name.log"; tail -n 30 "$B/fuzz_$name.log"; status=1; continue
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$B/fuzz_$name.log" | grep -o '[0-9]*$')
    [ -z "$execs" ] && execs=$(grep -E '^#[0-9]+' "$B/fuzz_$name.log" | tail -n 1 | sed 's/^#\([0-9]*\).*/\1/')
    total_execs=$((total_execs + ${execs:-0}))
    echo "fuzz $name: ${execs:-?} executions in ${SECONDS_EACH} s, no crash"
done
echo "fuzzing: $total_execs executions in total"
exit $status
