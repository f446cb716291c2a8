#!/bin/sh
# Fuzz the MJCF loader for ~20 s with libFuzzer (clang -fsanitize=fuzzer,address,undefined),
# seeded with the valid models in tests/models. Skips (exit 0, with a message) when clang or
# its fuzzer runtime is missing. Set FUZZ_SECONDS to change the budget.
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$ROOT/build/tests}
mkdir -p "$B/fuzz_corpus"
if ! command -v clang > /dev/null 2>&1; then
    echo "check_fuzz_mjcf: skipped (clang not found)"
    exit 0
fi
if ! clang -std=c99 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$ROOT" \
        "$ROOT/tests/fuzz_mjcf.c" -o "$B/fuzz_mjcf" -lm > "$B/fuzz_mjcf.build.log" 2>&1; then
    if grep -qi "fuzzer" "$B/fuzz_mjcf.build.log"; then
        echo "check_fuzz_mjcf: skipped (clang's libFuzzer runtime is missing)"
        sed -n 1,5p "$B/fuzz_mjcf.build.log"
        exit 0
    fi
    echo "check_fuzz_mjcf: build failed"
    sed -n 1,30p "$B/fuzz_mjcf.build.log"
    exit 1
fi
cp "$ROOT"/tests/models/*.xml "$B/fuzz_corpus/" 2>/dev/null
# a few small seeds that reach the other paths (defaults, pairs, boxes, errors)
printf '%s' "<mujoco><default><geom friction='0.5'/><default class='a'><joint damping='1'/></default></default><worldbody><geom type='plane' size='1 1 1'/><body pos='0 0 1' childclass='a'><freejoint/><geom type='box' size='.1 .1 .1'/><body pos='0 0 .3'><joint type='ball'/><geom type='capsule' fromto='0 0 0 0 0 .3' size='.05'/></body></body></worldbody><contact><pair geom1='g' geom2='h'/></contact></mujoco>" > "$B/fuzz_corpus/seed1.xml"
printf '%s' "<mujoco><compiler coordinate='global' angle='radian'/><option timestep='0.01' gravity='0 0 -1'/><custom><numeric name='n' data='1 2' size='4'/></custom><worldbody><body name='a' pos='0 0 1'><joint type='slide' axis='0 0 1' range='-1 1'/><inertial pos='0 0 1' mass='1' diaginertia='1 1 1'/><geom type='sphere' size='.1' pos='0 0 1'/></body></worldbody><actuator><motor joint='x' gear='2'/></actuator></mujoco>" > "$B/fuzz_corpus/seed2.xml"
SECS=${FUZZ_SECONDS:-20}
cd "$B" || exit 1
if ./fuzz_mjcf -max_total_time="$SECS" -max_len=16384 -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 fuzz_corpus > fuzz_mjcf.log 2>&1; then
    echo "check_fuzz_mjcf: $(grep -E 'stat::number_of_executed_units' fuzz_mjcf.log | sed 's/.*: *//') inputs in ${SECS}s, no finding"
    exit 0
fi
echo "check_fuzz_mjcf: libFuzzer reported a finding:"
grep -E "ERROR|SUMMARY|runtime error|crash-|leak" fuzz_mjcf.log | head -20
exit 1
