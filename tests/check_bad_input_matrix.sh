#!/bin/sh
# Coverage gate of the bad-input matrix (tests/test_hardening.c): every public function of
# bgpbt.h (its BGPBT_API declarations, listed through the preprocessor so comments and macros
# cannot hide or invent one) must appear in a matrix case, HBAD / HBADQ / HBADV / HBADN(
# bgpbt_name(..., or in the table hardening_no_bad_input with the reason it takes no input that
# could be bad. A function added to the header without a case makes this check fail.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$ROOT/build/tests}; mkdir -p "$B"
T="$ROOT/tests/test_hardening.c"
cc=${CC:-cc}
$cc -E -P -std=c99 -DBGPBT_API=BGPBT__PUBLIC_MARK "$ROOT/bgpbt.h" 2>"$B/bad_input_matrix.err" | tr '\n' ' ' |
    grep -o 'BGPBT__PUBLIC_MARK[^;{]*[;{]' | sed 's/(.*//; s/.*[ *]//' | sort -u > "$B/public_functions.txt"
total=$(wc -l < "$B/public_functions.txt")
if [ "$total" -lt 100 ]; then echo "could not list the public functions ($total found)"; cat "$B/bad_input_matrix.err"; exit 1; fi
# names used in matrix cases, and names listed as having no bad input
grep -o 'HBAD[QVN]\?( *bgpbt_[a-z0-9_]*(' "$T" | sed 's/^HBAD[QVN]*( *//; s/($//' | sort -u > "$B/matrix_cases.txt"
grep -o '{"bgpbt_[a-z0-9_]*", *"[^"][^"]*"}' "$T" | sed 's/{"\([a-z0-9_]*\)".*/\1/' | sort -u > "$B/matrix_exempt.txt"
sort -u "$B/matrix_cases.txt" "$B/matrix_exempt.txt" > "$B/matrix_all.txt"
missing=$(comm -23 "$B/public_functions.txt" "$B/matrix_all.txt")
stale=$(comm -13 "$B/public_functions.txt" "$B/matrix_all.txt")
both=$(comm -12 "$B/matrix_cases.txt" "$B/matrix_exempt.txt")
cases=$(grep -c 'HBAD[QVN]\?(' "$T")
n_cases=$(comm -12 "$B/public_functions.txt" "$B/matrix_cases.txt" | wc -l)
n_exempt=$(wc -l < "$B/matrix_exempt.txt")
status=0
if [ -n "$missing" ]; then echo "public functions with no bad-input case:"; echo "$missing" | sed 's/^/  /'; status=1; fi
if [ -n "$stale" ]; then echo "matrix names that are not public functions:"; echo "$stale" | sed 's/^/  /'; status=1; fi
if [ -n "$both" ]; then echo "listed as having no bad input but tested with one:"; echo "$both" | sed 's/^/  /'; status=1; fi
echo "bad-input matrix: $total public functions, $n_cases with cases, $n_exempt with no bad input (listed with a reason), $cases case lines"
exit $status
