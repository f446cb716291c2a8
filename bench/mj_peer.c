/* bench/mj_peer.c - the MuJoCo 2.2.2 peer for bench_sim.c (built by bench_sim with
   `cc -O2 mj_peer.c -lmujoco -lm`). Steps ONE env with MuJoCo's own mj_step, the way a
   Gymnasium env does: uniform random ctrl in ctrlrange each env step, frame_skip mj_steps,
   Gymnasium-style termination (ant: torso z outside [0.2, 1]; hopper: z < 0.7 or |angle| > 0.2;
   half_cheetah: none), reset with +-0.1 noise after termination or 1000 env steps.
   Usage: mj_peer MODEL.xml FRAME_SKIP TERM(none|ant|hopper) INTEGRATOR(file|euler) SECONDS REPEATS
   Prints "env_steps_per_s <median>". */
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
static unsigned long long rs = 88172645463325252ULL;
static double urand(void) {
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (double)(rs >> 11) * (1.0 / 9007199254740992.0);
}
static int cmpd(const void* a, const void* b) { double x = *(const double*)a, y = *(const double*)b; return x < y ? -1 : x > y; }

int main(int argc, char** argv) {
    char err[1000];
    mjModel* m;
    mjData* d;
    int fs, term, reps, r, i;
    double secs, res[32];
    long ep = 0;
    if (argc < 7) { fprintf(stderr, "usage: mj_peer MODEL FS TERM INTEGRATOR SECONDS REPEATS\n"); return 2; }
    m = mj_loadXML(argv[1], NULL, err, sizeof err);
    if (!m) { fprintf(stderr, "mj_peer: %s\n", err); return 1; }
    if (strcmp(argv[4], "euler") == 0) m->opt.integrator = mjINT_EULER;
    d = mj_makeData(m);
    fs = atoi(argv[2]);
    term = strcmp(argv[3], "ant") == 0 ? 1 : strcmp(argv[3], "hopper") == 0 ? 2 : strcmp(argv[3], "scene") == 0 ? 3 : 0;
    secs = atof(argv[5]);
    reps = atoi(argv[6]);
    if (reps > 32) reps = 32;
    for (r = 0; r < reps; ++r) {
        long n = 0;
        double t0 = now(), t;
        do {
            int k;
            for (k = 0; k < 100; ++k) {
                int done = 0;
                for (i = 0; i < m->nu; ++i) {
                    double lo = m->actuator_ctrlrange[2 * i], hi = m->actuator_ctrlrange[2 * i + 1];
                    d->ctrl[i] = lo + (hi - lo) * urand();
                }
                for (i = 0; i < fs; ++i) mj_step(m, d);
                n++;
                ep++;
                if (term == 1) done = d->qpos[2] < 0.2 || d->qpos[2] > 1.0;
                if (term == 2) done = d->qpos[1] < 0.7 || d->qpos[2] > 0.2 || d->qpos[2] < -0.2;
                if (term == 3 && ep >= 400) { /* a game scene: replay it from its initial state every 2 s */
                    mj_resetData(m, d);
                    mj_forward(m, d);
                    ep = 0;
                } else if (done || ep >= 1000) {
                    mj_resetData(m, d);
                    for (i = 0; i < m->nq; ++i) d->qpos[i] = m->qpos0[i] + 0.1 * (2 * urand() - 1);
                    for (i = 0; i < m->nv; ++i) d->qvel[i] = 0.1 * (2 * urand() - 1);
                    mj_forward(m, d);
                    ep = 0;
                }
            }
            t = now() - t0;
        } while (t < secs);
        res[r] = n / t;
    }
    qsort(res, (size_t)reps, sizeof res[0], cmpd);
    printf("env_steps_per_s %.1f\n", res[reps / 2]);
    mj_deleteData(d);
    mj_deleteModel(m);
    return 0;
}
