/* PPO end-to-end training throughput: env steps per second of bgpbt_agent_train (rollouts with
   the policy, normaliser, GAE, 4 epochs of minibatch updates), for built-in tasks and for a
   user environment whose step costs almost nothing (the learner alone).

   Lines: ppo.<task>.<net>.t<T>.train_env_steps_per_s   (net: default = policy 4x32 + value 5x256,
   small = 2x64 both; SiLU), T = OpenMP threads. Settings: Brax's per-sample work (4 epochs,
   unroll 5) at a size that fits a short benchmark: 256 envs, batch_size 256 segments x 8
   minibatches (10,240 env steps per round; each sample is used 4 times), reward scaling 10.
   One warm-up round, then the median of 3 timed rounds, in wall time; at one thread also
   ppo.<task>.<net>.t1.train_env_steps_per_s_cpu, per second of the process's CPU time (the
   machine is shared: time given to other jobs is not counted). A task that cannot run in this
   build (the simulator's model loader missing) prints a comment line instead. */
#define _POSIX_C_SOURCE 199309L
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* filter = "";
static int want(const char* prefix) {
    size_t a = strlen(prefix), b = strlen(filter);
    return strncmp(prefix, filter, a < b ? a : b) == 0;
}
static void report(const char* name, double value, const char* unit) {
    if (strncmp(name, filter, strlen(filter)) == 0) printf("%s %.4g %s\n", name, value, unit);
    fflush(stdout);
}
static void set_threads(int t) {
#ifdef _OPENMP
    omp_set_num_threads(t);
#else
    (void)t;
#endif
}
/* process CPU time in seconds (0 where unavailable) */
static double cpu_seconds(void) {
#if defined(CLOCK_PROCESS_CPUTIME_ID)
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#else
    return 0.0;
#endif
}
static int cmp_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static void user_reset(void* st, bgpbt_rng* rng, float* obs, void* user) {
    int i;
    (void)st; (void)user;
    for (i = 0; i < 87; ++i) obs[i] = (float)bgpbt_rng_normal(rng);
}
static void user_step(void* st, const float* a, bgpbt_rng* rng, float* obs, float* rew, int* term, void* user) {
    int i;
    (void)st; (void)user;
    for (i = 0; i < 87; ++i) obs[i] = 0.5f * obs[i] + (float)bgpbt_rng_float(rng) - 0.5f;
    *rew = a[0];
    *term = 0;
}

static void run(const char* task, int small, int threads) {
    bgpbt_agent_config c = bgpbt_agent_config_default();
    bgpbt_env_def def;
    bgpbt_agent* g = NULL;
    char name[160];
    double t[3], tc[3];
    int k;
    bgpbt_result r;
    sprintf(name, "ppo.%s.%s.t%d.train_env_steps_per_s", task, small ? "small" : "default", threads);
    if (!want(name)) return;
    memset(&def, 0, sizeof def);
    if (!strcmp(task, "user87")) {
        def.name = "user87";
        def.obs_dim = 87;
        def.act_dim = 8;
        def.max_episode_steps = 1000;
        def.reset = user_reset;
        def.step = user_step;
        c.env_def = &def;
        c.env_threads = 1;
    } else {
        c.task = task;
    }
    c.num_envs = 256;
    c.eval_episodes = 1;
    c.hparams.batch_size = 256;
    c.hparams.num_minibatches = 8;
    if (small) {
        c.arch.policy_layers = c.arch.value_layers = 2;
        c.arch.policy_width = c.arch.value_width = 64;
    }
    set_threads(threads);
    r = bgpbt_agent_create(&c, &g);
    if (r == BGPBT_OK) r = bgpbt_agent_train(g, 1);
    if (r != BGPBT_OK) {
        printf("# %s: %s (task unavailable in this build)\n", name, bgpbt_result_string(r));
        bgpbt_agent_destroy(g);
        return;
    }
    for (k = 0; k < 3; ++k) {
        bgpbt_agent_stats s0, s1;
        double t0 = bgpbt_time_seconds(), c0 = cpu_seconds();
        bgpbt_agent_get_stats(g, &s0);
        bgpbt_agent_train(g, 1);
        bgpbt_agent_get_stats(g, &s1);
        t[k] = (double)(s1.env_steps - s0.env_steps) / (bgpbt_time_seconds() - t0);
        tc[k] = (double)(s1.env_steps - s0.env_steps) / (cpu_seconds() - c0);
    }
    qsort(t, 3, sizeof *t, cmp_double);
    qsort(tc, 3, sizeof *tc, cmp_double);
    report(name, t[1], "steps/s");
    if (threads == 1 && tc[1] > 0.0) { /* on a shared machine: steps per second of this process's CPU time */
        strcat(name, "_cpu");
        report(name, tc[1], "steps/s");
    }
    bgpbt_agent_destroy(g);
}

int main(int argc, char** argv) {
    static const char* tasks[3] = {"halfcheetah", "ant", "user87"};
    int i, small, th;
    if (argc > 1) filter = argv[1];
    for (i = 0; i < 3; ++i)
        for (small = 0; small < 2; ++small)
            for (th = 1; th <= 2; ++th) run(tasks[i], small, th);
    return 0;
}
