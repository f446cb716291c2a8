#!/bin/sh
# Benchmarks (README): sh bench/run.sh [FILTER]
# Builds each bench/bench_*.c and runs it with FILTER; every program prints only the results
# whose names start with FILTER, one per line as `name value unit`. Peers (MuJoCo, PyTorch,
# scikit-learn, NumPy) are measured in the same run by the benchmarks that compare with them;
# install them with `sh bench/setup_peers.sh` (Debian packages).
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
B=${BUILD:-$ROOT/build/bench}
mkdir -p "$B"
FILTER=${1:-}
CFLAGS="-std=c99 -O3 -march=native -Wall -Wextra"
status=0
for src in bench/bench_*.c; do
    name=$(basename "$src" .c)
    prefix=${name#bench_}
    # skip programs whose prefix cannot match the filter (e.g. FILTER=sim skips bench_gp)
    case "$FILTER" in
        "" ) ;;
        "$prefix"* ) ;;
        * ) case "$prefix" in "${FILTER%%.*}"*) ;; *) continue ;; esac ;;
    esac
    if ! gcc $CFLAGS -fopenmp -I"$ROOT" "$src" -o "$B/$name" -lm 2> "$B/$name.build.log"; then
        echo "# build of $src failed:"; sed -n 1,20p "$B/$name.build.log"; status=1; continue
    fi
    gcc $CFLAGS -DBGPBT_NO_SIMD -fopenmp -I"$ROOT" "$src" -o "$B/${name}_nosimd" -lm 2>/dev/null || true
    BENCH_DIR="$ROOT/bench" BENCH_BUILD="$B" "$B/$name" "$FILTER" || status=1
done
exit $status
