/* env_tasks.c - the ten built-in tasks: create each by name, run a random policy, draw it.

   Build and run (from the repository root):
       cc -O2 -march=native -std=c99 -fopenmp examples/env_tasks.c -o env_tasks -lm
       ./env_tasks [output-folder]

   For every task this prints its sizes and time step, steps 64 copies with uniform random
   actions for 1000 steps, prints the random policy's mean episode return and length, and writes
   <task>.svg (side and top view of copy 0 a few steps after reset) into the output folder
   (default: the current folder). It also writes ant_rollout.svg: 12 snapshots of one ant
   episode, drawn faded from old to new, and ant_trot.svg, the same trot as an animation
   (browsers play it). The pictures in examples/pictures/ were made this way.

   A random policy is only a smoke test: training is the PPO layer's job. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <stdio.h>
#include <string.h>

enum { N = 64 };

int main(int argc, char** argv) {
    const char* dir = argc > 1 ? argv[1] : ".";
    static float act[N * 32];
    bgpbt_rng rng;
    int k, t, i;
    bgpbt_rng_init(&rng, 1, 0);
    printf("%-26s %4s %4s %7s %10s %8s\n", "task", "obs", "act", "dt", "rand.ret", "rand.len");
    for (k = 0; k < bgpbt_task_count(); ++k) {
        const char* name = bgpbt_task_name(k);
        bgpbt_vecenv_config cfg = bgpbt_vecenv_config_default();
        bgpbt_vecenv* env = NULL;
        bgpbt_task_info info;
        bgpbt_episode_stats st;
        bgpbt_render_geom geoms[64];
        bgpbt_render_options ro = bgpbt_render_options_default();
        char path[512], title[160];
        int ad, count = 0;
        cfg.num_envs = N;
        cfg.seed = 42;
        cfg.logger.fn = bgpbt_log_stderr;
        if (bgpbt_task_get_info(name, &info) != BGPBT_OK) return 1;
        if (bgpbt_vecenv_create_task(name, NULL, &cfg, &env) != BGPBT_OK) return 1;
        ad = bgpbt_vecenv_act_dim(env);
        bgpbt_vecenv_reset(env);
        /* the picture: a few zero-action steps after reset, so contacts have settled */
        memset(act, 0, sizeof act);
        for (t = 0; t < 4; ++t) bgpbt_vecenv_step(env, act);
        bgpbt_vecenv_render_geoms(env, 0, geoms, 64, &count);
        if (strcmp(name, "fetch") == 0) count--; /* its target is 2..17 m away: leave it out */
        snprintf(title, sizeof title, "%s: obs %d, act %d, dt %.3f s%s", name, info.obs_dim, info.act_dim,
                 (double)info.dt, strcmp(name, "fetch") == 0 ? " (target not drawn)" : "");
        ro.title = title;
        ro.width = 300;
        snprintf(path, sizeof path, "%s/%s.svg", dir, name);
        if (bgpbt_render_svg_file(path, geoms, count, &ro) != BGPBT_OK) fprintf(stderr, "could not write %s\n", path);
        /* a random policy */
        bgpbt_vecenv_reset(env);
        bgpbt_vecenv_take_stats(env, &st);
        for (t = 0; t < 1000; ++t) { /* the time limit: every copy ends at least one episode */
            for (i = 0; i < N * ad; ++i) act[i] = 2.0f * bgpbt_rng_float(&rng) - 1.0f;
            bgpbt_vecenv_step(env, act);
        }
        bgpbt_vecenv_take_stats(env, &st);
        printf("%-26s %4d %4d %7.3f %10.2f %8.1f\n", name, info.obs_dim, info.act_dim, (double)info.dt,
               st.return_sum / (double)(st.episodes ? st.episodes : 1),
               st.length_sum / (double)(st.episodes ? st.episodes : 1));
        bgpbt_vecenv_destroy(env);
    }
    /* a rollout: 12 snapshots of one ant episode under a fixed open-loop trot */
    {
        bgpbt_vecenv_config cfg = bgpbt_vecenv_config_default();
        bgpbt_vecenv* env = NULL;
        static bgpbt_render_geom frames[12 * 16];
        bgpbt_render_options ro = bgpbt_render_options_default();
        char path[512];
        int ng = 0, f = 0;
        cfg.num_envs = 1;
        if (bgpbt_vecenv_create_task("ant", NULL, &cfg, &env) != BGPBT_OK) return 1;
        bgpbt_vecenv_reset(env);
        for (t = 0; t < 120; ++t) {
            float ph = 6.2831853f * 1.5f * 0.05f * (float)t;
            for (i = 0; i < 4; ++i) { /* diagonal pairs in phase: hips swing, knees lift */
                float s = (i == 0 || i == 2) ? 1.0f : -1.0f;
                act[2 * i] = 0.8f * s * sinf(ph) * ((i == 0 || i == 3) ? 1.0f : -1.0f);
                act[2 * i + 1] = 0.8f * s * cosf(ph);
            }
            bgpbt_vecenv_step(env, act);
            if (t % 10 == 9 && f < 12) {
                bgpbt_vecenv_render_geoms(env, 0, frames + f * 16, 16, &ng);
                ++f;
            }
        }
        ro.frames = f;
        ro.title = "ant: 12 snapshots of an open-loop trot, 0.5 s apart (older ones fainter)";
        ro.width = 420;
        ro.views = 2;
        snprintf(path, sizeof path, "%s/ant_rollout.svg", dir);
        if (ng > 0 && ng <= 16) bgpbt_render_svg_file(path, frames, ng, &ro);
        bgpbt_vecenv_destroy(env);
    }
    /* the same trot as an animation: 30 frames, 0.2 s apart, played in real time (open the
       .svg in a browser) */
    {
        bgpbt_vecenv_config cfg = bgpbt_vecenv_config_default();
        bgpbt_vecenv* env = NULL;
        static bgpbt_render_geom frames[30 * 16];
        bgpbt_render_options ro = bgpbt_render_options_default();
        char path[512];
        int ng = 0, f = 0;
        cfg.num_envs = 1;
        if (bgpbt_vecenv_create_task("ant", NULL, &cfg, &env) != BGPBT_OK) return 1;
        bgpbt_vecenv_reset(env);
        for (t = 0; t < 120; ++t) {
            float ph = 6.2831853f * 1.5f * 0.05f * (float)t;
            for (i = 0; i < 4; ++i) {
                float s = (i == 0 || i == 2) ? 1.0f : -1.0f;
                act[2 * i] = 0.8f * s * sinf(ph) * ((i == 0 || i == 3) ? 1.0f : -1.0f);
                act[2 * i + 1] = 0.8f * s * cosf(ph);
            }
            bgpbt_vecenv_step(env, act);
            if (t % 4 == 3 && f < 30) {
                bgpbt_vecenv_render_geoms(env, 0, frames + f * 16, 16, &ng);
                ++f;
            }
        }
        ro.frames = f;
        ro.frame_seconds = 0.2f;
        ro.title = "ant: an open-loop trot, animated (30 frames, 0.2 s apart, real time)";
        ro.width = 320;
        snprintf(path, sizeof path, "%s/ant_trot.svg", dir);
        if (ng > 0 && ng <= 16) bgpbt_render_svg_file(path, frames, ng, &ro);
        bgpbt_vecenv_destroy(env);
    }
    printf("pictures written to %s/\n", dir);
    return 0;
}
