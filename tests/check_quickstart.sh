#!/bin/sh
# The QUICK START program in bgpbt.h's top comment compiles warning-free (docs stay honest).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$ROOT/build/tests}
mkdir -p "$B"
sed -n '/QUICK START: BG-PBT/,/^       cc -O2/p' "$ROOT/bgpbt.h" | sed -n '/#define BGPBT_IMPLEMENTATION/,/^       }/p' \
    | sed 's/^       //' > "$B/quickstart.c"
grep -q 'bgpbt_pbt_run' "$B/quickstart.c" || { echo "quick start not found in bgpbt.h"; exit 1; }
gcc -std=c99 -Wall -Wextra -pedantic -Werror -O1 -I"$ROOT" "$B/quickstart.c" -o "$B/quickstart_bin" -lm
