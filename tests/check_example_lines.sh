#!/bin/sh
# Every example builds with exactly the one cc line written at its top (run from the
# repository root, as the comment says), with -Werror added. The program is not run here.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$ROOT/build/tests}
mkdir -p "$B/example_lines"
cd "$ROOT" || exit 2
status=0
for ex in examples/*.c; do
    line=$(grep -m1 -E '^ *(cc|mpicc) .*'"$ex" "$ex" | sed 's/^ *//; s/ *&&.*//; s| *\*/.*||')
    if [ -z "$line" ]; then echo "$ex: no build line at its top"; status=1; continue; fi
    case "$line" in mpicc*) command -v mpicc >/dev/null 2>&1 || { echo "$ex: mpicc missing, not built"; continue; } ;; esac
    out=$(basename "$ex" .c)
    cmd=$(echo "$line" | sed "s| -o [^ ]*| -o $B/example_lines/$out|")
    if ! sh -c "$cmd -Werror" > "$B/example_lines/$out.log" 2>&1; then
        echo "$ex: '$line' failed:"; sed -n 1,10p "$B/example_lines/$out.log"; status=1
    fi
done
exit $status
