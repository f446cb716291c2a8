/* PPO on your own environment, through bgpbt_env_def callbacks: an inverted pendulum on a motor
   (the pole falls when |angle| > 0.6 rad; +1 per step; 200-step episodes). Trains in intervals,
   evaluates the deterministic policy after each, writes the return curve as an SVG and saves
   the agent to a checkpoint blob.

   Build and run (from the repository root):
       cc -O2 -march=native -fopenmp -std=c99 examples/ppo_custom_env.c -o ppo_custom_env -lm
       ./ppo_custom_env [curve.svg]                                                           */
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct pole { float th, om; } pole;

static void pole_reset(void* st, bgpbt_rng* rng, float* obs, void* user) {
    pole* p = (pole*)st;
    (void)user;
    p->th = (float)bgpbt_rng_uniform(rng, -0.1, 0.1);
    p->om = (float)bgpbt_rng_uniform(rng, -0.1, 0.1);
    obs[0] = p->th;
    obs[1] = p->om;
}

static void pole_step(void* st, const float* action, bgpbt_rng* rng, float* obs, float* reward,
                      int* terminated, void* user) {
    pole* p = (pole*)st;
    (void)rng; (void)user;
    p->om += 0.05f * (3.0f * sinf(p->th) + 4.0f * action[0]); /* gravity vs motor */
    p->th += 0.05f * p->om;
    obs[0] = p->th;
    obs[1] = p->om;
    *reward = 1.0f;
    *terminated = fabsf(p->th) > 0.6f;
}

#define INTERVALS 20

static void write_svg(const char* path, const double* steps, const double* ret, int n, double ymax) {
    FILE* f = fopen(path, "w");
    int i;
    double w = 480, h = 240, x0 = 50, y0 = 20, pw = 410, ph = 180;
    if (!f) return;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%g' height='%g' font-family='sans-serif' font-size='11'>\n", w, h);
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(f, "<text x='%g' y='14'>PPO (bgpbt.h) on a user environment: evaluation return</text>\n", x0);
    fprintf(f, "<line x1='%g' y1='%g' x2='%g' y2='%g' stroke='black'/>\n", x0, y0 + ph, x0 + pw, y0 + ph);
    fprintf(f, "<line x1='%g' y1='%g' x2='%g' y2='%g' stroke='black'/>\n", x0, y0, x0, y0 + ph);
    fprintf(f, "<text x='%g' y='%g'>0</text><text x='%g' y='%g'>%.0f</text>\n", x0 - 12, y0 + ph, x0 - 30, y0 + 8, ymax);
    fprintf(f, "<text x='%g' y='%g'>env steps: %.0f</text>\n", x0 + pw - 110, y0 + ph + 16, steps[n - 1]);
    fprintf(f, "<polyline fill='none' stroke='#1f77b4' stroke-width='2' points='");
    for (i = 0; i < n; ++i)
        fprintf(f, "%.1f,%.1f ", x0 + pw * steps[i] / steps[n - 1], y0 + ph - ph * (ret[i] < 0 ? 0 : ret[i]) / ymax);
    fprintf(f, "'/>\n</svg>\n");
    fclose(f);
}

int main(int argc, char** argv) {
    bgpbt_env_def env = {0};
    bgpbt_agent_config cfg = bgpbt_agent_config_default();
    bgpbt_agent* agent = NULL;
    bgpbt_agent_stats st;
    double steps[INTERVALS + 1], ret[INTERVALS + 1];
    size_t size = 0;
    void* blob;
    int i;

    env.name = "pole";
    env.obs_dim = 2;
    env.act_dim = 1;
    env.max_episode_steps = 200;
    env.state_bytes = sizeof(pole);
    env.reset = pole_reset;
    env.step = pole_step;

    cfg.env_def = &env;
    cfg.seed = 1;
    cfg.num_envs = 32;
    cfg.env_threads = 1;               /* cheap callbacks: step the copies on one thread */
    cfg.arch.policy_layers = 2;        /* small networks for a small problem */
    cfg.arch.policy_width = 32;
    cfg.arch.value_layers = 2;
    cfg.arch.value_width = 64;
    cfg.hparams.learning_rate = 1e-3;
    cfg.hparams.entropy_cost = 1e-3;
    cfg.hparams.unroll_length = 8;
    cfg.hparams.batch_size = 16;
    cfg.hparams.num_minibatches = 4;
    cfg.hparams.reward_scaling = 1.0;
    cfg.logger.fn = bgpbt_log_stderr;
    if (bgpbt_agent_create(&cfg, &agent) != BGPBT_OK) return 1;

    bgpbt_agent_evaluate(agent, &ret[0], NULL);
    steps[0] = 0;
    printf("%8s %10s\n", "steps", "return");
    printf("%8.0f %10.1f\n", steps[0], ret[0]);
    for (i = 1; i <= INTERVALS; ++i) {
        if (bgpbt_agent_train(agent, 1536) != BGPBT_OK) return 1; /* one interval */
        bgpbt_agent_evaluate(agent, &ret[i], NULL);
        bgpbt_agent_get_stats(agent, &st);
        steps[i] = (double)st.env_steps;
        printf("%8.0f %10.1f\n", steps[i], ret[i]);
    }
    write_svg(argc > 1 ? argv[1] : "ppo_custom_env.svg", steps, ret, INTERVALS + 1, 200.0);

    /* everything resumable in one blob (weights, Adam, normaliser, RNG, hyperparameters) */
    bgpbt_agent_save(agent, NULL, 0, &size);
    blob = malloc(size);
    if (blob && bgpbt_agent_save(agent, blob, size, &size) == BGPBT_OK)
        printf("agent blob: %lu bytes\n", (unsigned long)size);
    free(blob);
    bgpbt_agent_destroy(agent);
    return 0;
}
