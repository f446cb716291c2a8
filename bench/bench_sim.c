/* bench_sim.c - simulator throughput against MuJoCo 2.2.2 on the same Gymnasium model files.
   One env step = uniform random ctrl for every env, then frame_skip physics steps of the whole
   batch (256 envs); envs are reset (with +-0.1 noise) on the Gymnasium termination rule or after
   1000 steps, inside the timed region, as the peer does. Median of 3 repeats of >= 1 s.
   Modes: this build (SIMD) on 1 and 2 threads, and the BGPBT_NO_SIMD build of this file
   ($BENCH_BUILD/bench_sim_nosimd, run as a child) on 1 thread. The peer (bench/mj_peer.c) is
   built here with `cc ... -lmujoco` and steps one MuJoCo env on one core with the model's own
   integrator (RK4 for ant and hopper) and again with Euler (MuJoCo's cheapest); ratios are per
   core: ours on 1 thread / MuJoCo's single env.
   Not the same physics: this engine runs semi-implicit Euler with hard PGS contacts, MuJoCo
   its soft-constraint solver (see the README's Simulator section).
   sim.brick_wall: one game scene (17 bricks, a ball) instead of a robot batch: physics steps
   per second of one scene (this build: one env still fills a whole SIMD block; the scalar
   build: one lane), of 16 scenes stepped together (per scene), and of MuJoCo's one. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* filter = "";
static int want(const char* name) { return strncmp(name, filter, strlen(filter)) == 0 || strncmp(filter, name, strlen(name)) == 0; }
static void report(const char* name, double value, const char* unit) {
    if (strncmp(name, filter, strlen(filter)) == 0) printf("%s %.4g %s\n", name, value, unit);
    fflush(stdout);
}
static int cmp_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

typedef struct bench_model { const char* name; const char* file; int frame_skip; const char* term; } bench_model;
static const bench_model models[3] = {
    {"ant", "ant.xml", 5, "ant"}, {"half_cheetah", "half_cheetah.xml", 5, "none"}, {"hopper", "hopper.xml", 4, "hopper"}};

#define NENV 256
#define REPEATS 3

static double run_ours(const char* path, const bench_model* bm, int threads) {
    bgpbt_sim_model* m = NULL;
    bgpbt_sim* s = NULL;
    bgpbt_sim_config c = bgpbt_sim_config_default();
    bgpbt_sim_sizes sz;
    bgpbt_rng rng;
    float *u, q[64], v[64];
    int ep[NENV], e, k, r;
    double res[REPEATS];
    (void)threads;
#if BGPBT__HAS_OPENMP
    omp_set_num_threads(threads);
#endif
    if (bgpbt_sim_model_load_mjcf(path, NULL, &m) != BGPBT_OK) return -1;
    sz = bgpbt_sim_model_sizes(m);
    c.num_envs = NENV;
    c.frame_skip = bm->frame_skip;
    if (bgpbt_sim_create(m, &c, &s) != BGPBT_OK) return -1;
    u = (float*)malloc(sizeof(float) * NENV * (size_t)sz.nu);
    bgpbt_rng_init(&rng, 1, 0);
    memset(ep, 0, sizeof ep);
    for (r = 0; r < REPEATS; ++r) {
        long n = 0;
        double t0 = bgpbt_time_seconds(), t;
        do {
            int it;
            for (it = 0; it < 20; ++it) {
                for (e = 0; e < NENV * sz.nu; ++e) u[e] = (float)bgpbt_rng_uniform(&rng, -1, 1); /* ctrlrange [-1, 1] here */
                bgpbt_sim_set_ctrl_all(s, u);
                bgpbt_sim_step(s);
                n += NENV;
                for (e = 0; e < NENV; ++e) {
                    int done = 0;
                    bgpbt_sim_get_qpos(s, e, q);
                    if (bm->term[0] == 'a') done = q[2] < 0.2f || q[2] > 1.0f;
                    if (bm->term[0] == 'h') done = q[1] < 0.7f || q[2] > 0.2f || q[2] < -0.2f;
                    if (done || ++ep[e] >= 1000 || bgpbt_sim_env_flagged(s, e)) {
                        const float* q0 = bgpbt_sim_model_qpos0(m);
                        for (k = 0; k < sz.nq; ++k) q[k] = q0[k] + (float)bgpbt_rng_uniform(&rng, -0.1, 0.1);
                        for (k = 0; k < sz.nv; ++k) v[k] = (float)bgpbt_rng_uniform(&rng, -0.1, 0.1);
                        bgpbt_sim_reset_env(s, e, q, v);
                        ep[e] = 0;
                    }
                }
            }
            t = bgpbt_time_seconds() - t0;
        } while (t < 1.0);
        res[r] = n / t;
    }
    qsort(res, REPEATS, sizeof res[0], cmp_double);
    if (bgpbt_sim_warnings(s) > 0) printf("# %s: %ld bad-state warnings\n", bm->name, bgpbt_sim_warnings(s));
    free(u);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
    return res[REPEATS / 2];
}

/* A game scene (tests/models/brick_wall.xml: 17 bricks and a ball dropped on them): physics
   steps per second per scene, replaying the scene from its initial state every 400 steps, for
   nenv copies stepped together (1: what one game world costs; 16: a batch of worlds, one per
   lane on AVX-512). */
static double run_scene(const char* path, int nenv) {
    bgpbt_sim_model* m = NULL;
    bgpbt_sim* s = NULL;
    bgpbt_sim_config c = bgpbt_sim_config_default();
    double res[REPEATS];
    int r, e;
#if BGPBT__HAS_OPENMP
    omp_set_num_threads(1);
#endif
    if (bgpbt_sim_model_load_mjcf(path, NULL, &m) != BGPBT_OK) return -1;
    c.num_envs = nenv;
    if (bgpbt_sim_create(m, &c, &s) != BGPBT_OK) return -1;
    for (r = 0; r < REPEATS; ++r) {
        long n = 0;
        double t0 = bgpbt_time_seconds(), t;
        do {
            int it;
            for (it = 0; it < 400; ++it) bgpbt_sim_step(s);
            n += 400L * nenv;
            for (e = 0; e < nenv; ++e) bgpbt_sim_reset_env(s, e, NULL, NULL);
            t = bgpbt_time_seconds() - t0;
        } while (t < 1.0);
        res[r] = n / t;
    }
    qsort(res, REPEATS, sizeof res[0], cmp_double);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
    return res[REPEATS / 2];
}

static double run_cmd(const char* cmd) {
    FILE* p = popen(cmd, "r");
    char line[256];
    double v = -1;
    if (!p) return -1;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "env_steps_per_s %lf", &v) == 1) break;
    pclose(p);
    return v;
}

int main(int argc, char** argv) {
    const char* bdir = getenv("BENCH_DIR");
    const char* bbuild = getenv("BENCH_BUILD");
    char path[1024], cmd[4096], name[256];
    int i, have_peer = 0;
    if (argc > 1) filter = argv[1];
    if (!bdir) bdir = "bench";
    if (!bbuild) bbuild = ".";
    /* child mode: the nosimd build prints raw numbers for one model */
    if (argc > 3 && strcmp(argv[2], "--child") == 0) {
        if (strcmp(argv[3], "brick_wall") == 0) {
            snprintf(path, sizeof path, "%s/../tests/models/brick_wall.xml", bdir);
            printf("env_steps_per_s %.1f\n", run_scene(path, 1));
        }
        for (i = 0; i < 3; ++i)
            if (strcmp(argv[3], models[i].name) == 0) {
                snprintf(path, sizeof path, "%s/../tests/models/%s", bdir, models[i].file);
                printf("env_steps_per_s %.1f\n", run_ours(path, &models[i], 1));
            }
        return 0;
    }
    if (!want("sim")) return 0;
    snprintf(cmd, sizeof cmd, "cc -O2 -o %s/mj_peer %s/mj_peer.c -lmujoco -lm 2> %s/mj_peer.build.log", bbuild, bdir, bbuild);
    have_peer = system(cmd) == 0;
    if (!have_peer) printf("# MuJoCo peer unavailable (libmujoco-dev missing? see %s/mj_peer.build.log): no ratios\n", bbuild);
    printf("# sim: %d envs, %s, peer MuJoCo 2.2.2 one env on one core\n", NENV, bgpbt_simd_name());
    for (i = 0; i < 3; ++i) {
        const bench_model* bm = &models[i];
        double ours1, ours2, nosimd, mj = -1, mje = -1;
        snprintf(name, sizeof name, "sim.%s", bm->name);
        if (!want(name)) continue;
        snprintf(path, sizeof path, "%s/../tests/models/%s", bdir, bm->file);
        ours1 = run_ours(path, bm, 1);
        ours2 = run_ours(path, bm, 2);
        snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s/bench_sim_nosimd sim --child %s", bbuild, bm->name);
        nosimd = run_cmd(cmd);
        if (have_peer) {
            snprintf(cmd, sizeof cmd, "%s/mj_peer %s %d %s file 1.0 %d", bbuild, path, bm->frame_skip, bm->term, REPEATS);
            mj = run_cmd(cmd);
            snprintf(cmd, sizeof cmd, "%s/mj_peer %s %d %s euler 1.0 %d", bbuild, path, bm->frame_skip, bm->term, REPEATS);
            mje = run_cmd(cmd);
        }
        snprintf(name, sizeof name, "sim.%s.env_steps_per_s", bm->name);
        report(name, ours1, "steps/s");
        snprintf(name, sizeof name, "sim.%s.threads2.env_steps_per_s", bm->name);
        report(name, ours2, "steps/s");
        if (nosimd > 0) {
            snprintf(name, sizeof name, "sim.%s.nosimd.env_steps_per_s", bm->name);
            report(name, nosimd, "steps/s");
        }
        if (mj > 0) {
            snprintf(name, sizeof name, "sim.%s.mujoco.env_steps_per_s", bm->name);
            report(name, mj, "steps/s");
            snprintf(name, sizeof name, "sim.%s.env_steps_per_s.vs_mujoco", bm->name);
            report(name, ours1 / mj, "x");
            if (nosimd > 0) {
                snprintf(name, sizeof name, "sim.%s.nosimd.env_steps_per_s.vs_mujoco", bm->name);
                report(name, nosimd / mj, "x");
            }
        }
        if (mje > 0) {
            snprintf(name, sizeof name, "sim.%s.mujoco_euler.env_steps_per_s", bm->name);
            report(name, mje, "steps/s");
            snprintf(name, sizeof name, "sim.%s.env_steps_per_s.vs_mujoco_euler", bm->name);
            report(name, ours1 / mje, "x");
        }
    }
    snprintf(name, sizeof name, "sim.brick_wall");
    if (want(name)) {
        double one, batch, nosimd, mj = -1;
        snprintf(path, sizeof path, "%s/../tests/models/brick_wall.xml", bdir);
        one = run_scene(path, 1);
        batch = run_scene(path, 16);
        snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s/bench_sim_nosimd sim --child brick_wall", bbuild);
        nosimd = run_cmd(cmd);
        if (have_peer) {
            snprintf(cmd, sizeof cmd, "%s/mj_peer %s 1 scene file 1.0 %d", bbuild, path, REPEATS);
            mj = run_cmd(cmd);
        }
        report("sim.brick_wall.scene_steps_per_s", one, "steps/s");
        report("sim.brick_wall.batch16.scene_steps_per_s", batch, "steps/s");
        if (nosimd > 0) report("sim.brick_wall.nosimd.scene_steps_per_s", nosimd, "steps/s");
        if (mj > 0) {
            if (nosimd > 0) report("sim.brick_wall.nosimd.scene_steps_per_s.vs_mujoco", nosimd / mj, "x");
            report("sim.brick_wall.mujoco.scene_steps_per_s", mj, "steps/s");
            report("sim.brick_wall.scene_steps_per_s.vs_mujoco", one / mj, "x");
            report("sim.brick_wall.batch16.scene_steps_per_s.vs_mujoco", batch / mj, "x");
        }
    }
    return 0;
}
