/* examples/bgpbt_main.c - BG-PBT on a built-in task: 8 PPO agents, generations, architecture
   search, distillation; writes the CSV log, SVG plots and the best policy.

   cc -O2 -march=native -fopenmp -std=c99 examples/bgpbt_main.c -o bgpbt_main -lm && ./bgpbt_main

   Options (all optional):
     --task NAME      a built-in task (default hopper; see bgpbt_task_name) or
                      "point" (a user environment defined in this file)
     --method M       bgpbt (default), pb2, pbt, random
     --steps N        env steps per agent (default 500000)
     --total N        whole-run env-step budget (default 0: none)
     --pop B          population size (default 8)
     --seed S         (default 1)
     --out PREFIX     output files prefix (default "bgpbt_out/"; the directory must exist or be
                      creatable)
     --resume         continue from PREFIXcheckpoint.bgpbt after a crash or Ctrl-C
     --quiet          no progress lines
   Output: PREFIXlog.csv (every agent and round), PREFIXreturns.svg, PREFIXschedule.svg,
   PREFIXarch.svg, PREFIXbest.agent (replay it with examples/bgpbt_replay.c), and
   PREFIXcheckpoint.bgpbt. */
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#  include <direct.h>
#  define bgpbt_example_mkdir(p) _mkdir(p)
#else
#  include <sys/stat.h>
#  define bgpbt_example_mkdir(p) mkdir(p, 0755)
#endif

/* "point": move a point mass on a line to a random target (a user-defined environment). */
typedef struct point_state { float x, v, goal; } point_state;
static void point_reset(void* st, bgpbt_rng* rng, float* obs, void* user) {
    point_state* s = (point_state*)st;
    (void)user;
    s->x = (float)bgpbt_rng_uniform(rng, -1, 1);
    s->v = 0;
    s->goal = (float)bgpbt_rng_uniform(rng, -1, 1);
    obs[0] = s->x; obs[1] = s->v; obs[2] = s->goal;
}
static void point_step(void* st, const float* a, bgpbt_rng* rng, float* obs, float* reward, int* terminated, void* user) {
    point_state* s = (point_state*)st;
    (void)user; (void)rng;
    s->v = 0.9f * s->v + 0.1f * a[0];
    s->x += 0.1f * s->v;
    *reward = -(float)fabs(s->x - s->goal) - 0.01f * a[0] * a[0];
    *terminated = 0;
    obs[0] = s->x; obs[1] = s->v; obs[2] = s->goal;
}

int main(int argc, char** argv) {
    static bgpbt_env_def point;
    bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
    bgpbt_pbt_config* c = &rc.pbt;
    bgpbt_pbt_run_result res;
    bgpbt_result r;
    const char* task = "hopper";
    const char* method = "bgpbt";
    const char* out = "bgpbt_out/";
    long long steps = 500000, total = 0;
    int i, pop = 8, resume = 0, quiet = 0;
    uint64_t seed = 1;
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--task") && i + 1 < argc) task = argv[++i];
        else if (!strcmp(argv[i], "--method") && i + 1 < argc) method = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--total") && i + 1 < argc) total = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--pop") && i + 1 < argc) pop = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = (uint64_t)atoll(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--resume")) resume = 1;
        else if (!strcmp(argv[i], "--quiet")) quiet = 1;
        else { fprintf(stderr, "unknown option '%s' (see the top of examples/bgpbt_main.c)\n", argv[i]); return 2; }
    }
    if (out[0] && out[strlen(out) - 1] == '/') { /* create the output directory */
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", out);
        dir[strlen(dir) - 1] = 0;
        (void)bgpbt_example_mkdir(dir);
    }

    /* the scheduler: the paper's algorithm at CPU scale (budgets in env steps per agent) */
    c->method = !strcmp(method, "pb2") ? BGPBT_PBT_METHOD_PB2 : !strcmp(method, "pbt") ? BGPBT_PBT_METHOD_PBT
              : !strcmp(method, "random") ? BGPBT_PBT_METHOD_RANDOM : BGPBT_PBT_METHOD_BGPBT;
    c->pop_size = pop;
    c->seed = seed;
    c->n_init = 2 * pop;              /* the paper: 24 for B = 8 */
    c->n_arch_candidates = 2 * pop;
    c->t_ready = steps / 20;          /* 20 intervals per agent (the paper: 150) */
    c->max_steps = steps;
    c->max_total_steps = total;
    c->patience = 5;
    c->distill_every = steps / 3;     /* generations: at most 2 switches */
    c->distill_budget = steps / 5;
    /* the paper's PPO search space, with batch sizes for a CPU (segments per minibatch) */
    c->n_hp = 9;
    c->hp[0] = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, 1e-4, 3e-3, 1);
    c->hp[1] = bgpbt_pbt_param_make("gamma", BGPBT_PBT_FLOAT, 0.9, 0.9999, 1);
    c->hp[2] = bgpbt_pbt_param_make("entropy_cost", BGPBT_PBT_FLOAT, 1e-6, 1e-2, 1);
    c->hp[3] = bgpbt_pbt_param_make("unroll_length", BGPBT_PBT_INT, 5, 15, 0);
    c->hp[4] = bgpbt_pbt_param_make("log2_batch_size", BGPBT_PBT_INT, 3, 6, 0);
    c->hp[5] = bgpbt_pbt_param_make("num_update_epochs", BGPBT_PBT_INT, 2, 8, 1);
    c->hp[6] = bgpbt_pbt_param_make("reward_scaling", BGPBT_PBT_FLOAT, 0.1, 10, 1);
    c->hp[7] = bgpbt_pbt_param_make("gae_lambda", BGPBT_PBT_FLOAT, 0.9, 1.0, 0);
    c->hp[8] = bgpbt_pbt_param_make("clip_epsilon", BGPBT_PBT_FLOAT, 0.1, 0.4, 0);
    c->n_arch = 4;
    c->arch[0] = bgpbt_pbt_param_make("policy_layers", BGPBT_PBT_INT, 1, 4, 0);
    c->arch[1] = bgpbt_pbt_param_make("policy_log2_width", BGPBT_PBT_INT, 4, 7, 0);
    c->arch[2] = bgpbt_pbt_param_make("value_layers", BGPBT_PBT_INT, 1, 4, 0);
    c->arch[3] = bgpbt_pbt_param_make("value_log2_width", BGPBT_PBT_INT, 4, 7, 0);
    c->default_arch[0] = 2; c->default_arch[1] = 5; c->default_arch[2] = 2; c->default_arch[3] = 6;
    c->logger.fn = bgpbt_log_stderr;

    /* the agents: PPO on the task */
    if (!strcmp(task, "point")) {
        point.name = "point";
        point.obs_dim = 3;
        point.act_dim = 1;
        point.max_episode_steps = 100;
        point.state_bytes = sizeof(point_state);
        point.reset = point_reset;
        point.step = point_step;
        rc.agent.env_def = &point;
    } else {
        rc.agent.task = task;
    }
    rc.agent.num_envs = 32;
    rc.agent.eval_episodes = 16;
    rc.agent.env_threads = 1;         /* agents run in parallel; each steps its envs on one thread */
    rc.agent.hparams.num_minibatches = 4;
    rc.out_prefix = out;
    rc.resume = resume;
    rc.progress = !quiet;
    rc.plots_every = 5;

    printf("%s on %s: B = %d, %lld env steps per agent, t_ready %lld, %d threads (%s)\n", method, task, pop, steps,
           c->t_ready, bgpbt_max_threads(), bgpbt_simd_name());
    r = bgpbt_pbt_run(&rc, &res);
    if (r != BGPBT_OK) {
        fprintf(stderr, "run failed: %s\n", bgpbt_result_string(r));
        return 1;
    }
    printf("done: %d rounds, %.3g env steps in %.1f s (%.3g steps/s), best return %.4g (agent %d)\n", res.rounds,
           (double)res.total_steps, res.seconds, (double)(res.total_steps) / (res.seconds > 0 ? res.seconds : 1),
           res.best_return, res.best_agent);
    printf("wrote %slog.csv, %sreturns.svg, %sschedule.svg, %sarch.svg, %sbest.agent\n", out, out, out, out, out);
    return 0;
}
