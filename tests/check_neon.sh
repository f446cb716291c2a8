#!/bin/sh
# The NEON path: cross-compile the foundation suites for AArch64 and run them under qemu-user.
# Needs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user (README); skipped without.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$ROOT/build/tests}
if ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || ! command -v qemu-aarch64 >/dev/null 2>&1; then
    echo "SKIPPED: aarch64-linux-gnu-gcc or qemu-aarch64 not installed"
    exit 77
fi
{
    echo '#define BGPBT_IMPLEMENTATION'
    echo '#include "bgpbt.h"'
    echo '#include "test.h"'
    for s in core simd io; do echo "#include \"test_$s.c\""; done
    echo 'int main(int argc, char** argv) { test_init(argc, argv); suite_core(); suite_simd(); suite_io(); return test_finish(); }'
} > "$B/neon_tests.c"
aarch64-linux-gnu-gcc -std=c99 -O2 -Wall -Wextra -pedantic -Werror -I"$ROOT" -I"$ROOT/tests" \
    "$B/neon_tests.c" -o "$B/neon_tests" -lm -static || exit 1
out=$(cd "$B" && qemu-aarch64 ./neon_tests --fast) || { echo "$out"; exit 1; }
echo "$out" | grep -q '^simd: neon' || { echo "not the NEON path: $out"; exit 1; }
echo "$out" | tail -n 1
