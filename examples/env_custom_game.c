/* env_custom_game.c - bring your own world: a small 2-D game as a bgpbt environment.

   Build and run (from the repository root):
       cc -O2 -march=native -std=c99 -fopenmp examples/env_custom_game.c -o env_custom_game -lm
       ./env_custom_game

   The game: a ship in a 10 x 10 arena with two thrusters (action = thrust in x and y, each in
   [-1, 1]) chases a target that drifts and bounces off the walls. Catching the target (coming
   within 0.5) scores +10 and the target respawns somewhere else; every step costs the distance
   to the target times 0.01 and a little fuel (0.01 |a|^2). Leaving the arena costs 10 and ends
   the episode (terminated); otherwise it ends after 400 steps (truncated, handled by the vecenv).

   Everything a game needs is the bgpbt_env_def: sizes, a per-copy state struct, and two
   callbacks, reset and step, which draw their randomness only from the rng they are given
   (so runs are reproducible and independent of the thread count). The vecenv runs N copies,
   resets finished ones to fresh random starts, and keeps episode statistics.

   What this program does: it runs a uniformly random policy and a hand-written chase controller
   (a PD law on the observation) through the vectorised API, then trains a PPO agent on the game
   from scratch (a progress line per interval) and evaluates its deterministic policy on the
   same footing. It writes custom_game.svg (one episode of the scripted ship and one of the
   trained one, drawn with plain fprintf) and custom_game.agent, the trained agent, which a game
   loads with bgpbt_agent_load and drives with bgpbt_agent_act(agent, obs, 1, action, 1). */
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA 10.0f
#define DT 0.05f
#define TRAIN_STEPS 3200000LL /* PPO budget */
#define TRAIN_INTERVALS 32

typedef struct ship_game {
    float x, y, vx, vy;    /* ship */
    float tx, ty, tvx, tvy; /* target */
    int catches;
} ship_game;

enum { OBS_DIM = 10, ACT_DIM = 2 };

static void game_obs(const ship_game* g, float* obs) {
    /* Everything relative to the ship and scaled to about [-1, 1]: what a policy needs. */
    obs[0] = (g->tx - g->x) / ARENA;
    obs[1] = (g->ty - g->y) / ARENA;
    obs[2] = g->vx / 5.0f;
    obs[3] = g->vy / 5.0f;
    obs[4] = (g->tvx - g->vx) / 5.0f;
    obs[5] = (g->tvy - g->vy) / 5.0f;
    obs[6] = g->x / ARENA * 2.0f - 1.0f; /* where the walls are */
    obs[7] = g->y / ARENA * 2.0f - 1.0f;
    obs[8] = g->tvx / 2.0f;
    obs[9] = g->tvy / 2.0f;
}

static void spawn_target(ship_game* g, bgpbt_rng* rng) {
    float ang = (float)bgpbt_rng_uniform(rng, 0.0, 6.283185307);
    float speed = (float)bgpbt_rng_uniform(rng, 0.5, 1.5);
    g->tx = (float)bgpbt_rng_uniform(rng, 1.0, ARENA - 1.0);
    g->ty = (float)bgpbt_rng_uniform(rng, 1.0, ARENA - 1.0);
    g->tvx = speed * cosf(ang);
    g->tvy = speed * sinf(ang);
}

static void game_reset(void* state, bgpbt_rng* rng, float* obs, void* user) {
    ship_game* g = (ship_game*)state;
    (void)user;
    memset(g, 0, sizeof *g);
    g->x = (float)bgpbt_rng_uniform(rng, 2.0, ARENA - 2.0);
    g->y = (float)bgpbt_rng_uniform(rng, 2.0, ARENA - 2.0);
    spawn_target(g, rng);
    game_obs(g, obs);
}

static void game_step(void* state, const float* a, bgpbt_rng* rng, float* obs, float* reward,
                      int* terminated, void* user) {
    ship_game* g = (ship_game*)state;
    float dx, dy, dist, r;
    (void)user;
    /* ship: thrust 6 m/s^2 per unit action, linear drag */
    g->vx += DT * (6.0f * a[0] - 0.5f * g->vx);
    g->vy += DT * (6.0f * a[1] - 0.5f * g->vy);
    g->x += DT * g->vx;
    g->y += DT * g->vy;
    /* target: drifts, bounces off the walls */
    g->tx += DT * g->tvx;
    g->ty += DT * g->tvy;
    if (g->tx < 0.5f || g->tx > ARENA - 0.5f) g->tvx = -g->tvx;
    if (g->ty < 0.5f || g->ty > ARENA - 0.5f) g->tvy = -g->tvy;
    dx = g->tx - g->x;
    dy = g->ty - g->y;
    dist = sqrtf(dx * dx + dy * dy);
    r = -0.01f * dist - 0.01f * (a[0] * a[0] + a[1] * a[1]);
    if (dist < 0.5f) {
        r += 10.0f;
        g->catches++;
        spawn_target(g, rng);
    }
    *terminated = g->x < 0.0f || g->x > ARENA || g->y < 0.0f || g->y > ARENA;
    if (*terminated) r -= 10.0f; /* crashing into the wall costs a catch */
    *reward = r;
    game_obs(g, obs);
}

/* A chase controller: thrust toward where the target is going, damped by our own velocity. */
static void scripted(const float* obs, float* a) {
    float ax = 4.0f * obs[0] + 1.2f * obs[4] - 0.6f * obs[2];
    float ay = 4.0f * obs[1] + 1.2f * obs[5] - 0.6f * obs[3];
    a[0] = ax; /* the vecenv clips to [-1, 1] */
    a[1] = ay;
}

static bgpbt_env_def game_def(void) {
    bgpbt_env_def d;
    memset(&d, 0, sizeof d); /* zero the fields this program does not use (step_batch, ...) */
    d.name = "ship_chase";
    d.obs_dim = OBS_DIM;
    d.act_dim = ACT_DIM;
    d.max_episode_steps = 400;
    d.state_bytes = sizeof(ship_game);
    d.reset = game_reset;
    d.step = game_step;
    return d;
}

static double run_policy(int use_script, long steps, long* episodes_out) {
    bgpbt_env_def def = game_def();
    bgpbt_vecenv_config cfg = bgpbt_vecenv_config_default();
    bgpbt_vecenv* env = NULL;
    bgpbt_episode_stats st;
    bgpbt_rng prng;
    float act[64 * ACT_DIM];
    long t;
    int i;
    cfg.num_envs = 64;
    cfg.seed = 2024;
    cfg.logger.fn = bgpbt_log_stderr;
    if (bgpbt_vecenv_create(&def, &cfg, &env) != BGPBT_OK) return 0.0;
    bgpbt_rng_init(&prng, 7, 0);
    bgpbt_vecenv_reset(env);
    for (t = 0; t < steps; ++t) {
        const float* obs = bgpbt_vecenv_obs(env);
        for (i = 0; i < cfg.num_envs; ++i) {
            if (use_script) scripted(obs + i * OBS_DIM, act + i * ACT_DIM);
            else {
                act[i * ACT_DIM] = 2.0f * bgpbt_rng_float(&prng) - 1.0f;
                act[i * ACT_DIM + 1] = 2.0f * bgpbt_rng_float(&prng) - 1.0f;
            }
        }
        if (bgpbt_vecenv_step(env, act) != BGPBT_OK) break;
    }
    bgpbt_vecenv_take_stats(env, &st);
    bgpbt_vecenv_destroy(env);
    *episodes_out = st.episodes;
    return st.episodes ? st.return_sum / (double)st.episodes : 0.0;
}

/* One episode (same start for both pilots) drawn into an SVG panel at x offset ox: arena, the
   ship's path, the target's path, catches. agent == NULL: the scripted chaser. */
static void draw_episode(FILE* f, float ox, bgpbt_agent* agent, const char* who) {
    ship_game g;
    bgpbt_rng rng;
    float obs[OBS_DIM], a[ACT_DIM], r;
    int t, term = 0;
    const float s = 40.0f; /* pixels per metre */
    bgpbt_rng_init(&rng, 11, 0);
    game_reset(&g, &rng, obs, NULL);
    fprintf(f, "<rect x='%g' y='10' width='%g' height='%g' fill='#f8f8ff' stroke='#333'/>\n", ox + 10, ARENA * s, ARENA * s);
    for (t = 0; t < 400 && !term; ++t) {
        float x0 = g.x, y0 = g.y, tx0 = g.tx, ty0 = g.ty;
        int c0 = g.catches;
        if (agent) bgpbt_agent_act(agent, obs, 1, a, 1); /* the game use case: one observation in, one action out */
        else scripted(obs, a);
        a[0] = a[0] > 1 ? 1 : a[0] < -1 ? -1 : a[0];
        a[1] = a[1] > 1 ? 1 : a[1] < -1 ? -1 : a[1];
        game_step(&g, a, &rng, obs, &r, &term, NULL);
        if (g.catches != c0) {
            fprintf(f, "<circle cx='%.1f' cy='%.1f' r='8' fill='none' stroke='#d33' stroke-width='2'/>\n",
                    ox + 10 + tx0 * s, 10 + (ARENA - ty0) * s);
        } else {
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e90' stroke-width='1.5'/>\n",
                    ox + 10 + tx0 * s, 10 + (ARENA - ty0) * s, ox + 10 + g.tx * s, 10 + (ARENA - g.ty) * s);
        }
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#24a' stroke-width='2'/>\n",
                ox + 10 + x0 * s, 10 + (ARENA - y0) * s, ox + 10 + g.x * s, 10 + (ARENA - g.y) * s);
    }
    fprintf(f, "<text x='%g' y='%d' font-family='sans-serif' font-size='14'>%s: %d catches in %d steps</text>\n",
            ox + 10, (int)(ARENA * s) + 32, who, g.catches, t);
}

static void write_svg(const char* path, bgpbt_agent* agent) {
    const float s = 40.0f;
    FILE* f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d'>\n", (int)(2 * ARENA * s) + 30, (int)(ARENA * s) + 60);
    draw_episode(f, 0, NULL, "scripted chaser");
    if (agent) draw_episode(f, ARENA * s + 10, agent, "PPO pilot");
    fprintf(f, "<text x='10' y='%d' font-family='sans-serif' font-size='13'>ship (blue) chasing the target "
               "(orange); red rings: catches; same start for both</text>\n</svg>\n", (int)(ARENA * s) + 52);
    fclose(f);
}

/* PPO from scratch on the game: small networks, CPU-sized batches, a progress line per interval. */
static bgpbt_agent* train_ppo(double* final_return) {
    bgpbt_env_def def = game_def();
    bgpbt_agent_config cfg = bgpbt_agent_config_default();
    bgpbt_agent* agent = NULL;
    bgpbt_agent_stats st;
    double ret = 0, t0 = bgpbt_time_seconds();
    int i;
    cfg.env_def = &def;
    cfg.seed = 1;
    cfg.num_envs = 64;
    cfg.env_threads = 1; /* cheap callbacks: a parallel region per step would cost more than the step */
    cfg.arch.policy_layers = 2;
    cfg.arch.policy_width = 64;
    cfg.arch.value_layers = 2;
    cfg.arch.value_width = 64;
    cfg.hparams.learning_rate = 1e-3;
    cfg.hparams.entropy_cost = 1e-3;
    cfg.hparams.discount = 0.98;
    cfg.hparams.unroll_length = 16;
    cfg.hparams.batch_size = 64;
    cfg.hparams.num_minibatches = 8;
    cfg.hparams.reward_scaling = 1.0;
    cfg.logger.fn = bgpbt_log_stderr;
    if (bgpbt_agent_create(&cfg, &agent) != BGPBT_OK) return NULL;
    for (i = 1; i <= TRAIN_INTERVALS; ++i) {
        if (bgpbt_agent_train(agent, TRAIN_STEPS / TRAIN_INTERVALS) != BGPBT_OK) break;
        bgpbt_agent_evaluate(agent, &ret, NULL);
        bgpbt_agent_get_stats(agent, &st);
        printf("\r  PPO: interval %2d/%d, %8lld env steps, %.2e steps/s, eval return %8.2f", i, TRAIN_INTERVALS,
               st.env_steps, (double)st.env_steps / (bgpbt_time_seconds() - t0), ret);
        fflush(stdout);
    }
    printf("\n");
    *final_return = ret;
    return agent;
}

int main(void) {
    long ep_rand = 0, ep_script = 0;
    double r_rand = run_policy(0, 4000, &ep_rand);
    double r_script = run_policy(1, 4000, &ep_script);
    double r_ppo = 0;
    bgpbt_agent* agent;
    printf("ship_chase, 64 copies x 4000 steps\n");
    printf("  random policy:   mean episode return %8.2f over %ld episodes\n", r_rand, ep_rand);
    printf("  scripted chaser: mean episode return %8.2f over %ld episodes\n", r_script, ep_script);
    agent = train_ppo(&r_ppo);
    if (!agent) return 1;
    printf("  PPO pilot:       evaluation return   %8.2f (deterministic policy, 16 episodes)\n", r_ppo);
    write_svg("custom_game.svg", agent);
    printf("  wrote custom_game.svg (one episode of each pilot from the same start)\n");
    {
        size_t size = 0;
        void* blob;
        FILE* f;
        bgpbt_agent_save(agent, NULL, 0, &size);
        blob = malloc(size);
        if (blob && bgpbt_agent_save(agent, blob, size, &size) == BGPBT_OK && (f = fopen("custom_game.agent", "wb")) != NULL) {
            fwrite(blob, 1, size, f);
            fclose(f);
            printf("  wrote custom_game.agent (%lu bytes)\n", (unsigned long)size);
        }
        free(blob);
    }
    bgpbt_agent_destroy(agent);
    return r_script > r_rand && r_ppo > r_rand ? 0 : 1;
}
