#!/bin/sh
# The simulator's SIMD paths against its scalar path: the same 37 envs (the ant; a pile of boxes) driven by the same
# controls for 100 env steps (500 physics steps, with contacts and limits), built with
# -march=native, -mavx2 -mfma, plain SSE2 and -DBGPBT_NO_SIMD. The kernels use only
# element-wise ops that round the same on every width (no fused multiply-add, no
# approximations that differ by width), so the contract is bit-identical; the check also
# prints the largest difference if it ever is not, and fails above the documented tolerance
# (1e-3 absolute on any coordinate after 500 steps).
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$ROOT/build/tests}
mkdir -p "$B"
set -- "scalar:-DBGPBT_NO_SIMD" "sse2:" "avx2:-mavx2 -mfma" "native:-march=native"
for cfg in "$@"; do
    name=${cfg%%:*}
    flags=${cfg#*:}
    if ! gcc -std=c99 -O2 $flags -I"$ROOT" "$ROOT/tests/sim_trace.c" -o "$B/sim_trace_$name" -lm 2> "$B/sim_trace_$name.log"; then
        echo "check_sim_simd: build $name failed"; cat "$B/sim_trace_$name.log"; exit 1
    fi
done
status=0
for model in ant box_pile; do
    for cfg in "$@"; do
        name=${cfg%%:*}
        if ! "$B/sim_trace_$name" "$ROOT/tests/models/$model.xml" > "$B/sim_trace_${model}_$name.txt"; then echo "check_sim_simd: run $name on $model failed"; exit 1; fi
    done
    for name in sse2 avx2 native; do
        ref="$B/sim_trace_${model}_scalar.txt"; got="$B/sim_trace_${model}_$name.txt"
        if cmp -s "$ref" "$got"; then
            echo "check_sim_simd: $model: $name bit-identical to scalar"
        else
            d=$(awk 'NR==FNR { for (i = 1; i <= NF; i++) a[FNR, i] = $i; next }
                     { for (i = 1; i <= NF; i++) { x = strtonum(a[FNR, i]) - strtonum($i); if (x < 0) x = -x; if (x > m) m = x } }
                     END { printf "%.3g", m }' "$ref" "$got" 2>/dev/null)
            echo "check_sim_simd: $model: $name differs from scalar by at most ${d:-?}"
            ok=$(awk -v d="${d:-1}" 'BEGIN { print (d + 0 <= 1e-3) ? 1 : 0 }')
            [ "$ok" = 1 ] || status=1
        fi
    done
done
exit $status
