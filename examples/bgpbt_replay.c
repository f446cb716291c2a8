/* examples/bgpbt_replay.c - load the best policy written by bgpbt_main, run one episode with
   deterministic actions, print its return and render it (SVG filmstrip of the episode).

   cc -O2 -march=native -std=c99 examples/bgpbt_replay.c -o bgpbt_replay -lm && ./bgpbt_replay

   Options: --task NAME (the task bgpbt_main ran; default hopper)
            --in PREFIX (default "bgpbt_out/": reads PREFIXbest.agent, writes PREFIXreplay.svg)
            --seed S    (the episode's initial state) */
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 8
#define MAX_GEOMS 64

int main(int argc, char** argv) {
    const char* task = "hopper";
    const char* in = "bgpbt_out/";
    char path[1024];
    void* blob = NULL;
    size_t size = 0;
    bgpbt_agent_config ac = bgpbt_agent_config_default();
    bgpbt_agent* agent = NULL;
    bgpbt_vecenv_config vc = bgpbt_vecenv_config_default();
    bgpbt_vecenv* env = NULL;
    bgpbt_task_info info;
    static bgpbt_render_geom geoms[FRAMES * MAX_GEOMS];
    float obs[512], act[64];
    double ret = 0;
    int i, t, n_frames = 0, per_frame = 0, horizon;
    bgpbt_result r;
    vc.seed = 12345;
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--task") && i + 1 < argc) task = argv[++i];
        else if (!strcmp(argv[i], "--in") && i + 1 < argc) in = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) vc.seed = (uint64_t)atoll(argv[++i]);
        else { fprintf(stderr, "unknown option '%s'\n", argv[i]); return 2; }
    }
    snprintf(path, sizeof path, "%sbest.agent", in);
    r = bgpbt_file_read(path, NULL, (size_t)1 << 30, &blob, &size);
    if (r != BGPBT_OK) { fprintf(stderr, "cannot read %s: %s (run bgpbt_main first)\n", path, bgpbt_result_string(r)); return 1; }
    if (bgpbt_task_get_info(task, &info) != BGPBT_OK) { fprintf(stderr, "unknown task '%s'\n", task); return 1; }
    ac.task = task;
    ac.logger.fn = bgpbt_log_stderr;
    r = bgpbt_agent_create(&ac, &agent);
    if (r == BGPBT_OK) r = bgpbt_agent_load(agent, blob, size);
    bgpbt_mem_free(NULL, blob, size);
    if (r != BGPBT_OK) { fprintf(stderr, "cannot load the policy: %s\n", bgpbt_result_string(r)); return 1; }
    vc.num_envs = 1;
    r = bgpbt_vecenv_create_task(task, NULL, &vc, &env);
    if (r != BGPBT_OK || bgpbt_vecenv_obs_dim(env) > 512 || bgpbt_vecenv_act_dim(env) > 64) {
        fprintf(stderr, "cannot create the task: %s\n", bgpbt_result_string(r));
        return 1;
    }
    bgpbt_vecenv_reset(env);
    horizon = info.episode_length > 0 ? info.episode_length : 1000;
    for (t = 0; t < horizon; ++t) {
        if (n_frames < FRAMES && t % (horizon / FRAMES > 0 ? horizon / FRAMES : 1) == 0) {
            int count = 0;
            if (bgpbt_vecenv_render_geoms(env, 0, geoms + n_frames * MAX_GEOMS, MAX_GEOMS, &count) == BGPBT_OK) {
                if (count > MAX_GEOMS) count = MAX_GEOMS;
                if (!per_frame) per_frame = count;
                if (count == per_frame) n_frames++;
            }
        }
        memcpy(obs, bgpbt_vecenv_obs(env), sizeof(float) * (size_t)bgpbt_vecenv_obs_dim(env));
        bgpbt_agent_act(agent, obs, 1, act, 1);
        if (bgpbt_vecenv_step(env, act) != BGPBT_OK) break;
        ret += bgpbt_vecenv_rewards(env)[0];
        if (bgpbt_vecenv_terminated(env)[0] || bgpbt_vecenv_truncated(env)[0]) { t++; break; }
    }
    printf("%s: one episode of %d steps, return %.4g\n", task, t, ret);
    if (n_frames > 0) {
        bgpbt_render_options ro = bgpbt_render_options_default();
        /* frames are stored back to back; the renderer wants them contiguous */
        for (i = 1; i < n_frames; ++i)
            memmove(geoms + i * per_frame, geoms + i * MAX_GEOMS, sizeof(bgpbt_render_geom) * (size_t)per_frame);
        ro.frames = n_frames;
        ro.title = task;
        snprintf(path, sizeof path, "%sreplay.svg", in);
        r = bgpbt_render_svg_file(path, geoms, per_frame, &ro);
        if (r == BGPBT_OK) printf("wrote %s (%d frames)\n", path, n_frames);
        else fprintf(stderr, "rendering failed: %s\n", bgpbt_result_string(r));
    }
    bgpbt_vecenv_destroy(env);
    bgpbt_agent_destroy(agent);
    return 0;
}
