/* sim_ant.c - the simulator: a builder-made pendulum, then 256 Gymnasium ants stepped together.
   Build and run (from the repository root):
       cc -O2 -march=native -fopenmp -std=c99 examples/sim_ant.c -o sim_ant -lm && ./sim_ant   */
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    bgpbt_sim_model_config mc = bgpbt_sim_model_config_default();
    bgpbt_sim_config sc = bgpbt_sim_config_default();
    bgpbt_sim_builder* b = NULL;
    bgpbt_sim_model *pend = NULL, *ant = NULL;
    bgpbt_sim* sim = NULL;
    bgpbt_sim_body_desc body = bgpbt_sim_body_desc_default();
    bgpbt_sim_joint_desc hinge = bgpbt_sim_joint_desc_default();
    bgpbt_rng rng;
    float q = 0.5f, pos[3], *ctrl;
    double t0;
    int id, i, e, torso;

    mc.logger.fn = bgpbt_log_stderr; /* errors say what and where */

    /* 1. a pendulum from the builder: 1 kg at 0.5 m below a hinge about y */
    bgpbt_sim_builder_create(&mc, &b);
    body.mass = 1;
    body.com[2] = -0.5f;
    body.inertia[0] = body.inertia[1] = body.inertia[2] = 1e-4f;
    bgpbt_sim_builder_add_body(b, &body, &id);
    hinge.body = id;
    hinge.axis[0] = 0; hinge.axis[1] = 1; hinge.axis[2] = 0;
    bgpbt_sim_builder_add_joint(b, &hinge, NULL);
    if (bgpbt_sim_builder_finish(b, &pend) != BGPBT_OK) return 1;
    bgpbt_sim_builder_destroy(b);
    bgpbt_sim_create(pend, NULL, &sim);
    bgpbt_sim_set_qpos(sim, 0, &q);
    for (i = 0; i < 1419; ++i) bgpbt_sim_step(sim); /* 2 pi sqrt(l/g) at dt 0.002; a 0.5 rad swing is 1.6% slower */
    bgpbt_sim_get_qpos(sim, 0, &q);
    printf("pendulum: angle after one period %.3f rad (started at 0.500)\n", q);
    bgpbt_sim_destroy(sim);
    bgpbt_sim_model_destroy(pend);

    /* 2. the Gymnasium ant, 256 copies, random torques */
    if (bgpbt_sim_model_load_mjcf("tests/models/ant.xml", &mc, &ant) != BGPBT_OK) return 1;
    sc.num_envs = 256;
    sc.frame_skip = 5;
    sc.logger = mc.logger;
    if (bgpbt_sim_create(ant, &sc, &sim) != BGPBT_OK) return 1;
    torso = bgpbt_sim_model_body_id(ant, "torso");
    ctrl = (float*)malloc(sizeof(float) * 256 * 8);
    if (!ctrl) return 1;
    bgpbt_rng_init(&rng, 1, 0);
    t0 = bgpbt_time_seconds();
    for (i = 0; i < 200; ++i) {
        for (e = 0; e < 256 * 8; ++e) ctrl[e] = (float)bgpbt_rng_uniform(&rng, -1, 1);
        bgpbt_sim_set_ctrl_all(sim, ctrl);
        bgpbt_sim_step(sim);
    }
    bgpbt_sim_body_pos(sim, 0, torso, pos);
    printf("ant: 256 envs x 200 env steps in %.2f s (%s); env 0 torso at (%.2f, %.2f, %.2f), %d contacts, %ld warnings\n",
           bgpbt_time_seconds() - t0, bgpbt_simd_name(), pos[0], pos[1], pos[2], bgpbt_sim_num_contacts(sim, 0),
           bgpbt_sim_warnings(sim));
    free(ctrl);
    bgpbt_sim_destroy(sim);
    bgpbt_sim_model_destroy(ant);
    return 0;
}
