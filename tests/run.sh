#!/bin/sh
# The test command (README): sh tests/run.sh
#
# Builds every tests/test_*.c suite into one program per configuration and runs it, plus the
# compile-only checks (C++, two translation units, BGPBT_STATIC, examples). Prints one line per
# step and ends with "N passed, M failed"; exits non-zero on any failure.
#   QUICK=1 sh tests/run.sh    only the main configuration (for a fast edit-test loop)
#   BUILD=dir                  where to build (default: build/tests)
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
B=${BUILD:-$ROOT/build/tests}
mkdir -p "$B"
PASSED=0
FAILED=0
STRICT="-std=c99 -Wall -Wextra -pedantic -Werror"
NATIVE="-march=native"

# --- the generated driver: one translation unit with every suite --------------------------
SUITES=$(ls tests/test_*.c | sed 's|tests/test_||; s|\.c$||')
{
    echo '#define BGPBT_IMPLEMENTATION'
    echo '#include "bgpbt.h"'
    echo '#include "test.h"'
    for s in $SUITES; do echo "#include \"test_$s.c\""; done
    for s in $SUITES; do echo "void suite_$s(void);"; done
    echo 'int main(int argc, char** argv) {'
    echo '    test_init(argc, argv);'
    for s in $SUITES; do echo "    suite_$s();"; done
    echo '    return test_finish();'
    echo '}'
} > "$B/all_tests.c"

step_ok() { PASSED=$((PASSED + 1)); echo "ok    $1"; }
step_fail() { FAILED=$((FAILED + 1)); echo "FAIL  $1"; }

# run_suites NAME "CC FLAGS" "LIBS" [--fast]
run_suites() {
    name=$1; cc=$2; libs=$3; shift 3
    exe="$B/tests_$name"
    if ! $cc -I"$ROOT" -I"$ROOT/tests" "$B/all_tests.c" -o "$exe" $libs > "$B/$name.build.log" 2>&1; then
        step_fail "build $name: $cc"
        sed -n 1,30p "$B/$name.build.log"
        return
    fi
    out="$B/$name.run.log"
    (cd "$B" && OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} "$exe" "$@") > "$out" 2>&1
    rc=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); p=${p:-0}
    f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p'); f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or sanitizer report
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
    if [ "$f" -eq 0 ]; then
        echo "ok    $name: $line"
    else
        echo "FAIL  $name: ${line:-crashed (exit $rc)}"
        grep -v '^ok  ' "$out" | tail -n 40
    fi
}

# compile_check NAME COMMAND...  (a build, and a run if it produced $B/NAME); exit 77 = skipped
SKIPPED=0
compile_check() {
    name=$1; shift
    "$@" > "$B/$name.log" 2>&1
    rc=$?
    if [ $rc -eq 77 ]; then
        SKIPPED=$((SKIPPED + 1)); echo "skip  $name: $(tail -n 1 "$B/$name.log")"; return
    fi
    if [ $rc -eq 0 ]; then
        if [ -x "$B/$name" ] && ! (cd "$B" && "./$name" >> "$B/$name.log" 2>&1); then
            step_fail "$name (run)"; tail -n 20 "$B/$name.log"; return
        fi
        step_ok "$name"
    else
        step_fail "$name"; sed -n 1,30p "$B/$name.log"
    fi
}

echo "bgpbt.h tests ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc 2>/dev/null || echo ?) cores)"
run_suites gcc_O2_native_omp "gcc $STRICT -O2 $NATIVE -fopenmp" "-lm"
[ "${QUICK:-0}" = 1 ] && { echo "$PASSED passed, $FAILED failed"; [ $FAILED -eq 0 ]; exit $?; }

run_suites clang_O2_native_omp "clang $STRICT -O2 $NATIVE -fopenmp" "-lm" --fast
run_suites gcc_no_openmp "gcc $STRICT -O2 $NATIVE" "-lm" --fast
run_suites gcc_no_simd "gcc $STRICT -O2 $NATIVE -DBGPBT_NO_SIMD" "-lm" --fast
run_suites gcc_sse2 "gcc $STRICT -O2" "-lm" --fast
run_suites gcc_avx2 "gcc $STRICT -O2 -mavx2 -mfma" "-lm" --fast
run_suites clang_asan_ubsan "clang $STRICT -O1 -g $NATIVE -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" "-lm" --fast

# C++: the header alone and with the implementation, g++ and clang++
for cxx in g++ clang++; do
    compile_check "cpp11_$cxx" $cxx -std=c++11 -Wall -Wextra -Werror -O1 -I"$ROOT" tests/compile_cpp.cpp -o "$B/cpp11_$cxx" -lm
done
compile_check two_tu gcc $STRICT -O1 -I"$ROOT" tests/two_tu_a.c tests/two_tu_b.c -o "$B/two_tu" -lm
compile_check static_build gcc $STRICT -O1 -I"$ROOT" tests/static_build.c -o "$B/static_build" -lm
compile_check custom_malloc gcc $STRICT -O1 -I"$ROOT" tests/custom_malloc.c -o "$B/custom_malloc" -lm
compile_check options_build gcc $STRICT -O1 -fopenmp -I"$ROOT" tests/options_build.c -o "$B/options_build" -lm
compile_check malloc_without_free_refused sh -c "gcc -std=c99 -I'$ROOT' tests/malloc_without_free.c -o '$B/never' 2>&1 | grep -q 'define both BGPBT_MALLOC and BGPBT_FREE'"
# every example builds warning-free, with and without OpenMP
for ex in examples/*.c; do
    n=$(basename "$ex" .c)
    case "$n" in mpi_*) continue ;; esac   # needs mpicc: built and run by tests/check_mpi.sh
    compile_check "example_$n" gcc $STRICT -O2 $NATIVE -fopenmp -I"$ROOT" "$ex" -o "$B/ex_$n.bin" -lm
    compile_check "example_${n}_no_omp" clang $STRICT -O2 -I"$ROOT" "$ex" -o "$B/ex_${n}_noomp.bin" -lm
done
# extra checks contributed by layers: tests/check_*.sh, each exits 0 on success
for chk in tests/check_*.sh; do
    [ -f "$chk" ] || continue
    compile_check "$(basename "$chk" .sh)" env ROOT="$ROOT" B="$B" sh "$chk"
done

[ "$SKIPPED" -gt 0 ] && echo "($SKIPPED check(s) skipped: see above)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
