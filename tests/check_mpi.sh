#!/bin/sh
# examples/mpi_population.c under OpenMPI: the same seed on 1 and 2 ranks gives the same log,
# population and best agent as the single-process runner (bit for bit); a rank killed in the
# middle of a round, and a rank that hangs past the deadline, are reported and the run resumes
# from the checkpoint on fewer ranks (and under the built-in runner), again bit for bit.
# Exit 77 (skipped) without mpicc/mpirun: sudo apt-get install libopenmpi-dev openmpi-bin
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
B=${B:-$ROOT/build/tests}
if ! command -v mpicc >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1; then
    echo "SKIPPED: mpicc/mpirun not found (sudo apt-get install libopenmpi-dev openmpi-bin)"
    exit 77
fi
W="$B/mpi_check"
rm -rf "$W"
mkdir -p "$W" || exit 1
cd "$W" || exit 1
if ! mpicc -std=c99 -Wall -Wextra -pedantic -Werror -O2 -march=native -fopenmp -I"$ROOT" \
        "$ROOT/examples/mpi_population.c" -o mpi_population -lm > build.log 2>&1; then
    echo "FAIL: mpicc build"; cat build.log; exit 1
fi
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
# containers often forbid the cross-memory-attach single copy: use plain shared memory
export OMP_NUM_THREADS=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
RUN="mpirun --oversubscribe"
# nothing here may hang the test command
command -v timeout >/dev/null 2>&1 && RUN="timeout 300 $RUN"
# tiny budget: B = 4, 8 intervals of 2000 steps, generations and distillation included
ARGS="--task inverted_pendulum --pop 4 --steps 16000 --intervals 8 --num-envs 8 --eval-episodes 4 --seed 3 --quiet"
fail=0
bad() { echo "FAIL: $1"; fail=1; }
same() { # same REF DIR: log, best agent, and the final population (scheduler + every agent)
    cmp -s "$1/log.csv" "$2/log.csv" || bad "$2/log.csv differs from $1/log.csv"
    cmp -s "$1/best.agent" "$2/best.agent" || bad "$2/best.agent differs"
    $RUN -np 1 ./mpi_population $ARGS --dump "$1/checkpoint.bgpbt" > "$1.dump" 2>/dev/null
    $RUN -np 1 ./mpi_population $ARGS --dump "$2/checkpoint.bgpbt" > "$2.dump" 2>/dev/null
    [ -s "$1.dump" ] && cmp -s "$1.dump" "$2.dump" || bad "final population of $2 differs"
}
$RUN -np 1 ./mpi_population $ARGS --runner --out ref/ > ref.log 2>&1 || { bad "runner"; cat ref.log; }
rows=$(($(wc -l < ref/log.csv) - 1))
echo "reference (bgpbt_pbt_run): $rows log rows"
for np in 1 2; do
    $RUN -np $np ./mpi_population $ARGS --out np$np/ > np$np.log 2>&1 || { bad "$np rank(s)"; tail -n 20 np$np.log; }
    same ref np$np
    echo "$np rank(s): same log, population and best agent as the runner"
done
grep -q '^agent' ref.dump || bad "no agents in the final population"
# a rank killed in the middle of round 4 of 8: mpirun stops the job; resume on 1 rank
$RUN -np 2 ./mpi_population $ARGS --out kill/ --fault-rank 1 --fault-round 4 > kill.log 2>&1 && bad "the killed run did not fail"
grep -q 'round 4 in progress' kill/ranks.txt || bad "ranks.txt does not say which round was lost"
grep -q 'rank 1 job' kill/ranks.txt || bad "ranks.txt does not list rank 1's agents"
$RUN -np 1 ./mpi_population $ARGS --out kill/ --resume > kill_resume.log 2>&1 || { bad "resume after kill"; tail -n 20 kill_resume.log; }
grep -q 'resumed after round 3 on 1 ranks' kill_resume.log || bad "did not resume after round 3"
same ref kill
echo "killed rank in round 4: reported in ranks.txt, resumed on 1 rank, same result"
# a rank that hangs in round 6: rank 0's deadline reports it; resume under the built-in runner
$RUN -np 2 ./mpi_population $ARGS --out hang/ --fault-rank 1 --fault-round 6 --fault-kind hang --timeout 3 > hang.log 2>&1 \
    && bad "the hung run did not fail"
grep -q 'round 6: no answer within 3 s from rank(s) 1' hang.log || { bad "no report of the hung rank"; tail -n 20 hang.log; }
grep -q 'rank 1 job .*last return' hang.log || bad "the report does not list rank 1's agents with their returns"
grep -q '^ABORTED in round 6' hang/ranks.txt || bad "ranks.txt does not say ABORTED"
$RUN -np 1 ./mpi_population $ARGS --out hang/ --resume --runner > hang_resume.log 2>&1 || { bad "runner resume"; tail -n 20 hang_resume.log; }
same ref hang
echo "hung rank in round 6: reported after the deadline, resumed by bgpbt_pbt_run from the MPI checkpoint, same result"
[ $fail -eq 0 ] && echo "mpi: all checks passed"
exit $fail
