/* sim_boxes.c - the simulator as a game's physics: a brick wall built with the builder API
   stands on its own, then a heavy ball knocks it down (box-box, box-plane and sphere-box
   contacts with friction). Writes sim_boxes.svg, an animation of the 2 seconds (side and top
   views; browsers play it), and sim_boxes_still.svg, five moments of it overlaid.
   Build and run (from the repository root):
       cc -O2 -march=native -std=c99 examples/sim_boxes.c -o sim_boxes -lm && ./sim_boxes   */
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <math.h>
#include <stdio.h>

#define ROWS 5
#define NBRICK (3 * ((ROWS + 1) / 2) + 4 * (ROWS / 2))
#define FRAMES 40
#define STEPS_PER_FRAME 10 /* 10 x 5 ms = one frame every 50 ms */

static const float brick[3] = {0.2f, 0.1f, 0.1f}; /* half-sizes: a 0.4 x 0.2 x 0.2 m brick */

static int add_free_body(bgpbt_sim_builder* b, const float pos[3], int type, const float size[3], float density,
                         const float rgba[4]) {
    bgpbt_sim_body_desc body = bgpbt_sim_body_desc_default();
    bgpbt_sim_joint_desc free_joint = bgpbt_sim_joint_desc_default();
    bgpbt_sim_geom_desc geom = bgpbt_sim_geom_desc_default();
    int id, k;
    for (k = 0; k < 3; ++k) body.pos[k] = pos[k];
    if (bgpbt_sim_builder_add_body(b, &body, &id) != BGPBT_OK) return -1;
    free_joint.body = id;
    free_joint.type = BGPBT_SIM_JOINT_FREE;
    geom.body = id;
    geom.type = (bgpbt_sim_geom_type)type;
    for (k = 0; k < 3; ++k) geom.size[k] = size[k];
    for (k = 0; k < 4; ++k) geom.rgba[k] = rgba[k];
    geom.density = density;
    geom.friction = 0.7f;
    if (bgpbt_sim_builder_add_joint(b, &free_joint, NULL) != BGPBT_OK || bgpbt_sim_builder_add_geom(b, &geom, NULL) != BGPBT_OK) return -1;
    return id;
}

/* Every body's geom as the renderer wants it (each body here has one geom at its origin). */
static void snapshot(const bgpbt_sim* sim, const bgpbt_sim_model* m, bgpbt_render_geom* out) {
    bgpbt_sim_sizes sz = bgpbt_sim_model_sizes(m);
    int g;
    for (g = 0; g < sz.ngeom; ++g) {
        bgpbt_sim_geom_desc d;
        bgpbt_render_geom* r = &out[g];
        bgpbt_sim_model_geom(m, g, &d);
        r->type = d.type == BGPBT_SIM_GEOM_PLANE ? BGPBT_GEOM_PLANE : d.type == BGPBT_SIM_GEOM_SPHERE ? BGPBT_GEOM_SPHERE : BGPBT_GEOM_BOX;
        r->size[0] = d.size[0]; r->size[1] = d.size[1]; r->size[2] = d.size[2];
        r->rgba[0] = d.rgba[0]; r->rgba[1] = d.rgba[1]; r->rgba[2] = d.rgba[2]; r->rgba[3] = d.rgba[3];
        if (d.body == 0) { /* the ground */
            r->pos[0] = r->pos[1] = r->pos[2] = 0;
            r->quat[0] = 1; r->quat[1] = r->quat[2] = r->quat[3] = 0;
        } else {
            bgpbt_sim_body_pos(sim, 0, d.body, r->pos);
            bgpbt_sim_body_quat(sim, 0, d.body, r->quat);
        }
    }
}

static float max_speed(const bgpbt_sim* sim, int first, int count) {
    float best = 0, lin[3], ang[3];
    int b;
    for (b = first; b < first + count; ++b) {
        float v;
        bgpbt_sim_body_vel(sim, 0, b, lin, ang);
        v = sqrtf(lin[0] * lin[0] + lin[1] * lin[1] + lin[2] * lin[2]);
        best = v > best ? v : best;
    }
    return best;
}

int main(void) {
    static bgpbt_render_geom frames[FRAMES][NBRICK + 2];
    bgpbt_sim_model_config mc = bgpbt_sim_model_config_default();
    bgpbt_sim_options opt;
    bgpbt_sim_builder* b = NULL;
    bgpbt_sim_model* m = NULL;
    bgpbt_sim* sim = NULL;
    bgpbt_sim_geom_desc ground = bgpbt_sim_geom_desc_default();
    bgpbt_render_options ro = bgpbt_render_options_default();
    const float clay[4] = {0.75f, 0.35f, 0.25f, 1}, steel[4] = {0.3f, 0.35f, 0.45f, 1};
    const float ball_size[3] = {0.15f, 0, 0};
    float qvel[6 * (NBRICK + 1)] = {0}, p[3], z0[NBRICK];
    int r, c, f, i, first_brick = 0, ball, fallen = 0;
    double t0;

    mc.logger.fn = bgpbt_log_stderr;
    if (bgpbt_sim_builder_create(&mc, &b) != BGPBT_OK) return 1;
    opt.timestep = 0.005f;
    opt.gravity[0] = 0; opt.gravity[1] = 0; opt.gravity[2] = -9.81f;
    opt.iterations = 30; /* stacks need more PGS sweeps than the default 10 */
    bgpbt_sim_builder_set_options(b, &opt);
    ground.body = 0; /* the world */
    ground.type = BGPBT_SIM_GEOM_PLANE;
    ground.size[0] = ground.size[1] = 10; ground.size[2] = 1;
    ground.friction = 0.7f;
    bgpbt_sim_builder_add_geom(b, &ground, NULL);
    /* a running-bond wall in the x-z plane: 3 bricks on even rows; on odd rows 2 bricks over
       the joints and a half brick at each end */
    for (r = 0; r < ROWS; ++r)
        for (c = 0; c < (r & 1 ? 4 : 3); ++c) {
            float pos[3], size[3];
            int id, half = (r & 1) && (c == 0 || c == 3);
            size[0] = half ? 0.5f * brick[0] : brick[0];
            size[1] = brick[1];
            size[2] = brick[2];
            pos[0] = r & 1 ? (half ? (c ? 1 : -1) * 2.5f * brick[0] : (c == 1 ? -1 : 1) * brick[0]) : (float)(c - 1) * 2 * brick[0];
            pos[1] = 0;
            pos[2] = (2 * r + 1) * brick[2];
            id = add_free_body(b, pos, BGPBT_SIM_GEOM_BOX, size, 500, clay);
            if (id < 0) return 1;
            if (!first_brick) first_brick = id;
        }
    {
        float pos[3] = {0.1f, -2.0f, 0.45f};
        ball = add_free_body(b, pos, BGPBT_SIM_GEOM_SPHERE, ball_size, 7800, steel);
    }
    if (ball < 0 || bgpbt_sim_builder_finish(b, &m) != BGPBT_OK) return 1;
    bgpbt_sim_builder_destroy(b);
    if (bgpbt_sim_create(m, NULL, &sim) != BGPBT_OK) return 1;

    /* 1. the wall alone: half a second to settle; bricks must not creep */
    for (i = 0; i < 100; ++i) bgpbt_sim_step(sim);
    printf("wall of %d bricks after 0.5 s: fastest brick %.1e m/s\n", NBRICK, max_speed(sim, first_brick, NBRICK));

    for (i = 0; i < NBRICK; ++i) {
        bgpbt_sim_body_pos(sim, 0, first_brick + i, p);
        z0[i] = p[2];
    }
    /* 2. throw the ball (qvel of its free joint: linear then angular, world frame) */
    bgpbt_sim_get_qvel(sim, 0, qvel);
    qvel[6 * (ball - first_brick) + 1] = 7.0f;
    qvel[6 * (ball - first_brick) + 2] = 2.0f;
    bgpbt_sim_set_qvel(sim, 0, qvel);
    t0 = bgpbt_time_seconds();
    for (f = 0; f < FRAMES; ++f) {
        snapshot(sim, m, frames[f]);
        for (i = 0; i < STEPS_PER_FRAME; ++i) bgpbt_sim_step(sim);
    }
    for (i = 0; i < NBRICK; ++i) {
        bgpbt_sim_body_pos(sim, 0, first_brick + i, p);
        fallen += p[2] < z0[i] - brick[2]; /* dropped by more than half a brick */
    }
    printf("after the ball: %d of %d bricks knocked down, %d contacts, %.0f physics steps/s\n", fallen, NBRICK,
           bgpbt_sim_num_contacts(sim, 0), FRAMES * STEPS_PER_FRAME / (bgpbt_time_seconds() - t0));

    ro.frames = FRAMES;
    ro.frame_seconds = 0.05f;
    ro.extent = 4.0f;
    ro.title = "sim_boxes: a heavy ball through a brick wall (2 s)";
    if (bgpbt_render_svg_file("sim_boxes.svg", &frames[0][0], NBRICK + 2, &ro) == BGPBT_OK) printf("wrote sim_boxes.svg (animated)\n");
    /* a still: every 8th frame overlaid, earlier ones faded */
    for (f = 0; f < FRAMES / 8; ++f)
        for (i = 0; i < NBRICK + 2; ++i) frames[f][i] = frames[8 * f][i];
    ro.frames = FRAMES / 8;
    ro.frame_seconds = 0;
    if (bgpbt_render_svg_file("sim_boxes_still.svg", &frames[0][0], NBRICK + 2, &ro) == BGPBT_OK) printf("wrote sim_boxes_still.svg\n");
    bgpbt_sim_destroy(sim);
    bgpbt_sim_model_destroy(m);
    return 0;
}
