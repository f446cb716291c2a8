#!/bin/sh
# Determinism across builds: tests/determinism.c prints golden hashes of a short physics
# rollout, a PPO update and a BO suggestion. The contract checked here ([doc.determinism]):
#   1. in one build, the hashes are equal for OMP_NUM_THREADS=1 and 2, and the same flags
#      without -fopenmp give the same hashes;
#   2. with floating-point contraction off, -O0 and -O2 give the same hashes, and gcc and
#      clang agree: gcc in an ISO mode (-std=c99: -ffp-contract=off is gcc's default there)
#      or any compiler with -ffp-contract=off.
#   Reported, not required: gcc -std=gnu99 -O2 (contracts a*b+c into FMA with -march=native)
#   and clang's default (-ffp-contract=on, contracts even at -O0) change the last bits.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$ROOT/build/tests}; mkdir -p "$B/det"; D="$B/det"
NATIVE="-march=native"
WARN="-Wall -Wextra -Wno-unused-function"
SRC="$ROOT/tests/determinism.c"
status=0
build() { # name compiler flags...
    n=$1; cc=$2; shift 2
    $cc "$@" $WARN -I"$ROOT" -I"$ROOT/tests" "$SRC" -o "$D/$n" -lm > "$D/$n.log" 2>&1 ||
        { echo "build $n failed"; cat "$D/$n.log"; exit 1; }
}
build c99_O0 gcc -std=c99 -O0 $NATIVE -fopenmp &
build c99_O0_noomp gcc -std=c99 -O0 $NATIVE -Wno-unknown-pragmas &
wait
build c99_O2 gcc -std=c99 -O2 $NATIVE -fopenmp &
build c99_O2_noomp gcc -std=c99 -O2 $NATIVE -Wno-unknown-pragmas &
wait
build clang_O2_nocontract clang -std=c99 -O2 $NATIVE -ffp-contract=off -fopenmp &
build gnu_O2 gcc -std=gnu99 -O2 $NATIVE -fopenmp &
wait
run() { OMP_NUM_THREADS=$2 "$D/$1" | tr '\n' ' '; }
ref=$(run c99_O2 1)
echo "reference (gcc -std=c99 -O2 $NATIVE, 1 thread): $ref"
for n in c99_O0 c99_O2 clang_O2_nocontract; do
    for t in 1 2; do
        h=$(run $n $t)
        if [ "$h" != "$ref" ]; then echo "FAIL: $n with $t thread(s): $h"; status=1; fi
    done
done
for n in c99_O0_noomp c99_O2_noomp; do
    h=$(run $n 1)
    if [ "$h" != "$ref" ]; then echo "FAIL: $n: $h"; status=1; fi
done
h1=$(run gnu_O2 1); h2=$(run gnu_O2 2)
if [ "$h1" != "$h2" ]; then echo "FAIL: gnu_O2 1 vs 2 threads: $h1 / $h2"; status=1; fi
[ "$h1" != "$ref" ] && echo "note: gcc -std=gnu99 -O2 (FMA contraction) differs in the last bits, as documented: $h1"
[ $status -eq 0 ] && echo "determinism: equal for 1 and 2 threads, OpenMP off, -O0 and -O2, gcc and clang (contraction off)"
exit $status
