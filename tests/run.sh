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
    echo '#include "test_prelude.h"   /* the file-operation seam for I/O fault injection */'
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

T0=$(date +%s)
el() { echo "[$(( $(date +%s) - T0 )) s]"; }   # elapsed time, to see what makes the command long
step_ok() { PASSED=$((PASSED + 1)); echo "ok    $1 $(el)"; }
step_fail() { FAILED=$((FAILED + 1)); echo "FAIL  $1 $(el)"; }

# Compiling the header dominates the run time, so builds go two at a time (the machine has 2
# cores); the tests themselves run one program at a time (they use 2 OpenMP threads).
# prebuild NAME "CC FLAGS" "LIBS": compile the suites in the background; rc in $B/NAME.rc
prebuild() {
    ( $2 -I"$ROOT" -I"$ROOT/tests" "$B/all_tests.c" -o "$B/tests_$1" $3 > "$B/$1.build.log" 2>&1; echo $? > "$B/$1.rc" ) &
}

# run_suites NAME "CC FLAGS" "LIBS" [--fast]
run_suites() {
    name=$1; cc=$2; libs=$3; shift 3
    exe="$B/tests_$name"
    if [ -f "$B/$name.rc" ]; then build_rc=$(cat "$B/$name.rc"); rm -f "$B/$name.rc"   # prebuilt in parallel
    else $cc -I"$ROOT" -I"$ROOT/tests" "$B/all_tests.c" -o "$exe" $libs > "$B/$name.build.log" 2>&1; build_rc=$?; fi
    if [ "$build_rc" -ne 0 ]; then
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
        echo "ok    $name: $line $(el)"
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

C_CLANG="clang $STRICT -O2 $NATIVE -fopenmp"
C_NOOMP="gcc $STRICT -O2 $NATIVE"
C_NOSIMD="gcc $STRICT -O3 $NATIVE -DBGPBT_NO_SIMD"   # -O3: its flow analysis warns where -O2 does not
C_SSE2="gcc $STRICT -O2"
C_AVX2="gcc $STRICT -O2 -mavx2 -mfma"
C_ASAN="clang $STRICT -O1 -g $NATIVE -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
prebuild clang_O2_native_omp "$C_CLANG" "-lm"; prebuild gcc_no_openmp "$C_NOOMP" "-lm"; wait
run_suites clang_O2_native_omp "$C_CLANG" "-lm" --fast
prebuild gcc_no_simd "$C_NOSIMD" "-lm"; prebuild gcc_sse2 "$C_SSE2" "-lm"
run_suites gcc_no_openmp "$C_NOOMP" "-lm" --fast
wait
run_suites gcc_no_simd "$C_NOSIMD" "-lm" --fast
prebuild gcc_avx2 "$C_AVX2" "-lm"; prebuild clang_asan_ubsan "$C_ASAN" "-lm"
run_suites gcc_sse2 "$C_SSE2" "-lm" --fast
wait
run_suites gcc_avx2 "$C_AVX2" "-lm" --fast
run_suites clang_asan_ubsan "$C_ASAN" "-lm" --fast

# C++: the header alone and with the implementation, g++ and clang++
for cxx in g++ clang++; do
    compile_check "cpp11_$cxx" $cxx -std=c++11 -Wall -Wextra -Werror -O1 -I"$ROOT" tests/compile_cpp.cpp -o "$B/cpp11_$cxx" -lm
done
compile_check two_tu gcc $STRICT -O1 -I"$ROOT" tests/two_tu_a.c tests/two_tu_b.c -o "$B/two_tu" -lm
compile_check static_build gcc $STRICT -O1 -I"$ROOT" tests/static_build.c -o "$B/static_build" -lm
compile_check custom_malloc gcc $STRICT -O1 -I"$ROOT" tests/custom_malloc.c -o "$B/custom_malloc" -lm
compile_check options_build gcc $STRICT -O1 -fopenmp -I"$ROOT" tests/options_build.c -o "$B/options_build" -lm
compile_check malloc_without_free_refused sh -c "gcc -std=c99 -I'$ROOT' tests/malloc_without_free.c -o '$B/never' 2>&1 | grep -q 'define both BGPBT_MALLOC and BGPBT_FREE'"
# every example builds warning-free: with the exact cc line at its top (tests/check_example_lines.sh,
# gcc, mostly with -fopenmp) and here with clang without OpenMP, two at a time
set -- examples/*.c
while [ $# -gt 0 ]; do
    for ex in "$1" "${2:-}"; do
        [ -n "$ex" ] || continue
        n=$(basename "$ex" .c)
        case "$n" in mpi_*) continue ;; esac   # needs mpicc: built and run by tests/check_mpi.sh
        ( clang $STRICT -O2 -I"$ROOT" "$ex" -o "$B/ex_${n}_noomp.bin" -lm > "$B/ex_${n}_noomp.log" 2>&1; echo $? > "$B/ex_${n}_noomp.rc" ) &
    done
    wait
    for ex in "$1" "${2:-}"; do
        [ -n "$ex" ] || continue
        n=$(basename "$ex" .c)
        [ -f "$B/ex_${n}_noomp.rc" ] || continue
        compile_check "example_${n}_no_omp" sh -c "cat '$B/ex_${n}_noomp.log'; exit \$(cat '$B/ex_${n}_noomp.rc')"
        rm -f "$B/ex_${n}_noomp.rc"
    done
    shift; [ $# -gt 0 ] && shift
done
# extra checks contributed by layers: tests/check_*.sh, each exits 0 on success
for chk in tests/check_*.sh; do
    [ -f "$chk" ] || continue
    compile_check "$(basename "$chk" .sh)" env ROOT="$ROOT" B="$B" sh "$chk"
done

[ "$SKIPPED" -gt 0 ] && echo "($SKIPPED check(s) skipped: see above)"
echo "total $(el)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
