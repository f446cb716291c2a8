#!/bin/sh
# Every example builds with exactly the one cc line written at its top (run from the
# repository root, as the comment says), with -Werror added. The program is not run here.
# Two builds at a time (the machine has 2 cores; serially this step took 140 s of the test
# command).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$ROOT/build/tests}
mkdir -p "$B/example_lines"
cd "$ROOT" || exit 2
status=0
running=0
for ex in examples/*.c; do
    line=$(grep -m1 -E '^ *(cc|mpicc) .*'"$ex" "$ex" | sed 's/^ *//; s/ *&&.*//; s| *\*/.*||')
    if [ -z "$line" ]; then echo "$ex: no build line at its top"; status=1; continue; fi
    case "$line" in mpicc*) command -v mpicc >/dev/null 2>&1 || { echo "$ex: mpicc missing, not built"; continue; } ;; esac
    out=$(basename "$ex" .c)
    cmd=$(echo "$line" | sed "s| -o [^ ]*| -o $B/example_lines/$out|")
    rm -f "$B/example_lines/$out.rc"
    ( sh -c "$cmd -Werror" > "$B/example_lines/$out.log" 2>&1; echo $? > "$B/example_lines/$out.rc" ) &
    running=$((running + 1))
    [ $((running % 2)) -eq 0 ] && wait
done
wait
for ex in examples/*.c; do
    out=$(basename "$ex" .c)
    [ -f "$B/example_lines/$out.rc" ] || continue
    if [ "$(cat "$B/example_lines/$out.rc")" -ne 0 ]; then
        line=$(grep -m1 -E '^ *(cc|mpicc) .*'"$ex" "$ex" | sed 's/^ *//; s/ *&&.*//; s| *\*/.*||')
        echo "$ex: '$line' failed:"; sed -n 1,10p "$B/example_lines/$out.log"; status=1
    fi
done
exit $status
