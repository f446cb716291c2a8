/* Environment benchmarks: full vecenv steps (simulator step, observations, rewards, termination,
   auto-reset, statistics) for every built-in task, batch 256, with 1 and 2 OpenMP threads.
   Actions are uniform random, pre-drawn (cycled from 8 batches), so the policy costs nothing.
   Median of 5 timed repeats of at least 0.25 s each. Prints
     env.<task>.env_steps_per_s <n> steps/s             (1 thread)
     env.<task>.env_steps_per_s.2threads <n> steps/s    (2 threads)
   and the same for a trivial user environment (env.user_point...), which measures the vecenv's
   own overhead per step. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static const char* filter = "";
static int wanted(const char* name) { return strncmp(name, filter, strlen(filter)) == 0 || strncmp(filter, name, strlen(name)) == 0; }
static void report(const char* name, double value, const char* unit) {
    if (strncmp(name, filter, strlen(filter)) == 0) printf("%s %.4g %s\n", name, value, unit);
    fflush(stdout);
}
static int cmp_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}
#define REPEATS 5
#define BATCH 256
#define ACT_SETS 8

static float actions[ACT_SETS][BATCH * 32];

static double measure(bgpbt_vecenv* v) {
    double rates[REPEATS];
    int k, steps = 0, s;
    bgpbt_vecenv_reset(v);
    for (s = 0; s < 20; ++s) bgpbt_vecenv_step(v, actions[s % ACT_SETS]); /* warm up */
    for (k = 0; k < REPEATS; ++k) {
        double t0 = bgpbt_time_seconds(), t1;
        steps = 0;
        do {
            for (s = 0; s < 8; ++s) bgpbt_vecenv_step(v, actions[(steps + s) % ACT_SETS]);
            steps += 8;
            t1 = bgpbt_time_seconds();
        } while (t1 - t0 < 0.25);
        rates[k] = (double)steps * BATCH / (t1 - t0);
    }
    qsort(rates, REPEATS, sizeof *rates, cmp_double);
    return rates[REPEATS / 2];
}

/* a minimal user environment: the vecenv's bookkeeping dominates */
static void pt_reset(void* state, bgpbt_rng* rng, float* obs, void* user) {
    float* x = (float*)state;
    (void)user;
    x[0] = (float)bgpbt_rng_uniform(rng, -1.0, 1.0);
    x[1] = 0.0f;
    obs[0] = x[0];
    obs[1] = x[1];
}
static void pt_step(void* state, const float* a, bgpbt_rng* rng, float* obs, float* reward, int* term, void* user) {
    float* x = (float*)state;
    (void)rng;
    (void)user;
    x[1] += 0.05f * a[0];
    x[0] += 0.05f * x[1];
    obs[0] = x[0];
    obs[1] = x[1];
    *reward = -x[0] * x[0];
    *term = x[0] > 3.0f || x[0] < -3.0f;
}

int main(int argc, char** argv) {
    bgpbt_rng r;
    int k, i, s, threads;
    if (argc > 1) filter = argv[1];
    bgpbt_rng_init(&r, 1, 0);
    for (s = 0; s < ACT_SETS; ++s)
        for (i = 0; i < BATCH * 32; ++i) actions[s][i] = 2.0f * bgpbt_rng_float(&r) - 1.0f;
    for (k = 0; k <= bgpbt_task_count(); ++k) {
        const char* name = k < bgpbt_task_count() ? bgpbt_task_name(k) : "user_point";
        char full[128];
        snprintf(full, sizeof full, "env.%s", name);
        if (!wanted(full)) continue;
        for (threads = 1; threads <= 2; ++threads) {
            bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
            bgpbt_vecenv* v = NULL;
            bgpbt_result res;
            double rate;
#if BGPBT__HAS_OPENMP
            omp_set_num_threads(threads);
#else
            if (threads > 1) break;
#endif
            c.num_envs = BATCH;
            c.seed = 7;
            c.num_threads = threads;
            c.logger.fn = bgpbt_log_stderr;
            if (k < bgpbt_task_count()) {
                res = bgpbt_vecenv_create_task(name, NULL, &c, &v);
            } else {
                bgpbt_env_def d;
                memset(&d, 0, sizeof d);
                d.name = "user_point";
                d.obs_dim = 2;
                d.act_dim = 1;
                d.max_episode_steps = 1000;
                d.state_bytes = 2 * sizeof(float);
                d.reset = pt_reset;
                d.step = pt_step;
                res = bgpbt_vecenv_create(&d, &c, &v);
            }
            if (res != BGPBT_OK) return 1;
            rate = measure(v);
            snprintf(full, sizeof full, threads == 1 ? "env.%s.env_steps_per_s" : "env.%s.env_steps_per_s.2threads", name);
            report(full, rate, "steps/s");
            bgpbt_vecenv_destroy(v);
        }
    }
    return 0;
}
