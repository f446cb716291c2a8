/* tests/sim_trace.c - prints a model's state (the ant, a pile of boxes) after a fixed control
   sequence from per-env initial velocities, every value in hexadecimal float; built with and
   without SIMD by tests/check_sim_simd.sh to compare the wide path against the scalar one.
   Usage: sim_trace MODEL.xml */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <stdio.h>
#include <math.h>

int main(int argc, char** argv) {
    bgpbt_sim_model* m = NULL;
    bgpbt_sim* s = NULL;
    bgpbt_sim_config c = bgpbt_sim_config_default();
    bgpbt_sim_sizes sz;
    float q[64], v[64], u[64];
    int i, e, k;
    if (argc < 2 || bgpbt_sim_model_load_mjcf(argv[1], NULL, &m) != BGPBT_OK) return 1;
    sz = bgpbt_sim_model_sizes(m);
    if (sz.nq > 64 || sz.nv > 64 || sz.nu > 64) return 1;
    c.num_envs = 37;
    c.frame_skip = 5;
    if (bgpbt_sim_create(m, &c, &s) != BGPBT_OK) return 1;
    for (e = 0; e < c.num_envs; ++e) { /* every lane its own trajectory */
        for (k = 0; k < sz.nv; ++k) v[k] = 0.3f * (float)sin(0.71 * e + 0.43 * k);
        bgpbt_sim_set_qvel(s, e, v);
    }
    for (i = 0; i < 100; ++i) {
        for (e = 0; e < c.num_envs; ++e) {
            for (k = 0; k < sz.nu; ++k) u[k] = (float)sin(0.37 * e + 1.3 * k + 0.21 * i);
            bgpbt_sim_set_ctrl(s, e, u);
        }
        bgpbt_sim_step(s);
    }
    for (e = 0; e < c.num_envs; ++e) {
        bgpbt_sim_get_qpos(s, e, q);
        bgpbt_sim_get_qvel(s, e, v);
        for (k = 0; k < sz.nq; ++k) printf("%a ", (double)q[k]);
        for (k = 0; k < sz.nv; ++k) printf("%a ", (double)v[k]);
        printf("\n");
    }
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
    return 0;
}
