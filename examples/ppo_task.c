/* PPO on a built-in task, in training intervals (as one BG-PBT agent would be trained), with
   the evaluation return after each interval printed and drawn as an SVG curve.

   Build and run (from the repository root):
       cc -O2 -march=native -fopenmp -std=c99 examples/ppo_task.c -o ppo_task -lm
       ./ppo_task [task] [intervals] [steps_per_interval] [curve.svg]
   e.g. ./ppo_task halfcheetah 30 20480 halfcheetah.svg                                      */
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <stdio.h>
#include <stdlib.h>

#define MAXI 1000

int main(int argc, char** argv) {
    const char* task = argc > 1 ? argv[1] : "inverted_pendulum";
    int intervals = argc > 2 ? atoi(argv[2]) : 8;
    long long per = argc > 3 ? atoll(argv[3]) : 16384;
    const char* svg = argc > 4 ? argv[4] : "ppo_task.svg";
    bgpbt_agent_config cfg = bgpbt_agent_config_default();
    bgpbt_agent* agent = NULL;
    bgpbt_agent_stats st;
    static double steps[MAXI + 1], ret[MAXI + 1];
    double lo = 0, hi = 1, t0 = bgpbt_time_seconds();
    int i;
    FILE* f;
    if (intervals < 1 || intervals > MAXI || per < 1) return 2;
    cfg.task = task;
    cfg.seed = 1;
    cfg.num_envs = 64;
    cfg.eval_episodes = 8;
    cfg.arch.policy_layers = cfg.arch.value_layers = 2; /* small networks: a CPU-sized run */
    cfg.arch.policy_width = cfg.arch.value_width = 64;
    cfg.hparams.learning_rate = 1e-3;
    cfg.hparams.discount = 0.97;
    cfg.hparams.entropy_cost = 1e-3;
    cfg.hparams.unroll_length = 16;
    cfg.hparams.batch_size = 32;
    cfg.hparams.num_minibatches = 8;
    cfg.hparams.update_epochs = 4;
    cfg.hparams.reward_scaling = 1.0;
    cfg.logger.fn = bgpbt_log_stderr;
    if (bgpbt_agent_create(&cfg, &agent) != BGPBT_OK) return 1;
    bgpbt_agent_evaluate(agent, &ret[0], NULL);
    steps[0] = 0;
    printf("%s: %10s %10s %8s\n", task, "env steps", "return", "time s");
    printf("%s: %10.0f %10.1f %8.1f\n", task, steps[0], ret[0], 0.0);
    for (i = 1; i <= intervals; ++i) {
        if (bgpbt_agent_train(agent, per) != BGPBT_OK) return 1;
        bgpbt_agent_evaluate(agent, &ret[i], NULL);
        bgpbt_agent_get_stats(agent, &st);
        steps[i] = (double)st.env_steps;
        printf("%s: %10.0f %10.1f %8.1f\n", task, steps[i], ret[i], bgpbt_time_seconds() - t0);
        fflush(stdout);
    }
    for (i = 0; i <= intervals; ++i) {
        if (ret[i] < lo) lo = ret[i];
        if (ret[i] > hi) hi = ret[i];
    }
    f = fopen(svg, "w");
    if (f) {
        double x0 = 60, y0 = 24, pw = 400, ph = 180;
        fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='480' height='240' font-family='sans-serif' font-size='11'>\n");
        fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
        fprintf(f, "<text x='%g' y='14'>PPO (bgpbt.h) on %s: deterministic evaluation return</text>\n", x0, task);
        fprintf(f, "<line x1='%g' y1='%g' x2='%g' y2='%g' stroke='black'/>\n", x0, y0 + ph, x0 + pw, y0 + ph);
        fprintf(f, "<line x1='%g' y1='%g' x2='%g' y2='%g' stroke='black'/>\n", x0, y0, x0, y0 + ph);
        fprintf(f, "<text x='4' y='%g'>%.0f</text><text x='4' y='%g'>%.0f</text>\n", y0 + ph, lo, y0 + 8, hi);
        fprintf(f, "<text x='%g' y='%g'>env steps: %.0f</text>\n", x0 + pw - 120, y0 + ph + 16, steps[intervals]);
        fprintf(f, "<polyline fill='none' stroke='#d62728' stroke-width='2' points='");
        for (i = 0; i <= intervals; ++i)
            fprintf(f, "%.1f,%.1f ", x0 + pw * steps[i] / steps[intervals], y0 + ph - ph * (ret[i] - lo) / (hi - lo));
        fprintf(f, "'/>\n</svg>\n");
        fclose(f);
    }
    bgpbt_agent_destroy(agent);
    return 0;
}
