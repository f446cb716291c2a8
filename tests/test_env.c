/* env layer: the vectorised environment API over user callbacks, and the built-in tasks. */

/* ---- a small user environment: a 1-D point that must stay near the origin ------------------
   state: x, v. reset: x ~ U(-1, 1), v = 0. step: v += 0.1 a + 0.01 noise, x += v.
   reward = -|x| ; terminated when |x| > 2. Optionally poisons the observation with NaN. */
typedef struct env_pt_state { double x, v; int steps; int resets; } env_pt_state;
typedef struct env_pt_user { int nan_after; /* 0: never */ float last_action_seen; } env_pt_user;

static void env_pt_obs(const env_pt_state* s, float* obs) {
    obs[0] = (float)s->x;
    obs[1] = (float)s->v;
    obs[2] = (float)s->steps;
}
static void env_pt_reset(void* state, bgpbt_rng* rng, float* obs, void* user) {
    env_pt_state* s = (env_pt_state*)state;
    int resets = s->resets;
    (void)user;
    s->x = bgpbt_rng_uniform(rng, -1.0, 1.0);
    s->v = 0.0;
    s->steps = 0;
    s->resets = resets + 1;
    env_pt_obs(s, obs);
}
static void env_pt_step(void* state, const float* a, bgpbt_rng* rng, float* obs, float* reward,
                        int* terminated, void* user) {
    env_pt_state* s = (env_pt_state*)state;
    const env_pt_user* u = (const env_pt_user*)user;
    s->v += 0.1 * a[0] + 0.01 * bgpbt_rng_normal(rng);
    s->x += s->v;
    s->steps++;
    env_pt_obs(s, obs);
    *reward = (float)-fabs(s->x);
    *terminated = fabs(s->x) > 2.0;
    if (u && u->nan_after && s->steps >= u->nan_after) obs[1] = (float)NAN;
}
static bgpbt_env_def env_pt_def(env_pt_user* u, int max_steps) {
    bgpbt_env_def d;
    memset(&d, 0, sizeof d);
    d.name = "point";
    d.obs_dim = 3;
    d.act_dim = 1;
    d.max_episode_steps = max_steps;
    d.state_bytes = sizeof(env_pt_state);
    d.user = u;
    d.reset = env_pt_reset;
    d.step = env_pt_step;
    return d;
}

/* deterministic action pattern for env i at step t */
static float env_pt_action(int i, int t) { return (float)sin(0.37 * (double)i + 0.11 * (double)t) * 1.3f; }

static void env_user_errors(void) {
    bgpbt_env_def d = env_pt_def(NULL, 10);
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv* v = (bgpbt_vecenv*)1;
    test_log_capture cap;
    float act[4] = {0, 0, 0, 0};
    memset(&cap, 0, sizeof cap);
    c.logger.fn = test_log_capture_fn;
    c.logger.user = &cap;
    c.num_envs = 4;
    CHECK_RESULT(bgpbt_vecenv_create(NULL, &c, &v), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK(v == NULL);
    CHECK_EQ_INT(cap.count, 1);
    d.obs_dim = 0;
    CHECK_RESULT(bgpbt_vecenv_create(&d, &c, &v), BGPBT_ERR_OUT_OF_RANGE);
    CHECK(strstr(cap.last, "obs_dim 0") != NULL);
    d = env_pt_def(NULL, 10);
    d.step = NULL;
    CHECK_RESULT(bgpbt_vecenv_create(&d, &c, &v), BGPBT_ERR_INVALID_ARGUMENT);
    d = env_pt_def(NULL, -1);
    CHECK_RESULT(bgpbt_vecenv_create(&d, &c, &v), BGPBT_ERR_OUT_OF_RANGE);
    d = env_pt_def(NULL, 10);
    c.num_envs = -3;
    CHECK_RESULT(bgpbt_vecenv_create(&d, &c, &v), BGPBT_ERR_OUT_OF_RANGE);
    c.num_envs = 4;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &v) == BGPBT_OK);
    CHECK_EQ_INT(bgpbt_vecenv_num_envs(v), 4);
    CHECK_EQ_INT(bgpbt_vecenv_obs_dim(v), 3);
    CHECK_EQ_INT(bgpbt_vecenv_act_dim(v), 1);
    CHECK(strcmp(bgpbt_vecenv_name(v), "point") == 0);
    CHECK_RESULT(bgpbt_vecenv_step(v, act), BGPBT_ERR_WRONG_ORDER);
    CHECK_OK(bgpbt_vecenv_reset(v));
    CHECK_RESULT(bgpbt_vecenv_step(v, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(bgpbt_vecenv_reset_one(v, 4), BGPBT_ERR_OUT_OF_RANGE);
    CHECK_OK(bgpbt_vecenv_step(v, act));
    bgpbt_vecenv_destroy(v);
    bgpbt_vecenv_destroy(NULL);
    /* default config: 16 copies */
    REQUIRE(bgpbt_vecenv_create(&d, NULL, &v) == BGPBT_OK);
    CHECK_EQ_INT(bgpbt_vecenv_num_envs(v), 16);
    bgpbt_vecenv_destroy(v);
}

/* Run T steps of the pattern and hash everything visible. */
static uint32_t env_pt_run(bgpbt_vecenv* v, int T) {
    int n = bgpbt_vecenv_num_envs(v), t, i;
    uint32_t h = 0;
    float act[64];
    bgpbt_vecenv_reset(v);
    h = bgpbt_crc32(h, bgpbt_vecenv_obs(v), (size_t)n * 3 * sizeof(float));
    for (t = 0; t < T; ++t) {
        for (i = 0; i < n; ++i) act[i] = env_pt_action(i, t);
        if (bgpbt_vecenv_step(v, act) != BGPBT_OK) return 0;
        h = bgpbt_crc32(h, bgpbt_vecenv_obs(v), (size_t)n * 3 * sizeof(float));
        h = bgpbt_crc32(h, bgpbt_vecenv_rewards(v), (size_t)n * sizeof(float));
        h = bgpbt_crc32(h, bgpbt_vecenv_terminated(v), (size_t)n);
        h = bgpbt_crc32(h, bgpbt_vecenv_truncated(v), (size_t)n);
        for (i = 0; i < n; ++i)
            if (bgpbt_vecenv_terminated(v)[i] || bgpbt_vecenv_truncated(v)[i])
                h = bgpbt_crc32(h, bgpbt_vecenv_final_obs(v) + 3 * i, 3 * sizeof(float));
    }
    return h;
}

static void env_user_threads_bit_identical(void) {
    bgpbt_env_def d = env_pt_def(NULL, 37);
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv *v1 = NULL, *v2 = NULL, *v3 = NULL;
    uint32_t h1, h2, h3;
    bgpbt_episode_stats s1, s2;
    c.num_envs = 61;
    c.seed = 9;
    c.num_threads = 1;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &v1) == BGPBT_OK);
    c.num_threads = 2;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &v2) == BGPBT_OK);
    c.num_threads = 3;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &v3) == BGPBT_OK);
    h1 = env_pt_run(v1, 200);
    h2 = env_pt_run(v2, 200);
    h3 = env_pt_run(v3, 200);
    CHECK(h1 != 0);
    CHECK(h1 == h2);
    CHECK(h1 == h3);
    bgpbt_vecenv_take_stats(v1, &s1);
    bgpbt_vecenv_take_stats(v2, &s2);
    CHECK(s1.episodes > 61);
    CHECK(memcmp(&s1, &s2, sizeof s1) == 0);
    bgpbt_vecenv_destroy(v1);
    bgpbt_vecenv_destroy(v2);
    bgpbt_vecenv_destroy(v3);
    /* another seed gives another trajectory */
    c.seed = 10;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &v1) == BGPBT_OK);
    CHECK(env_pt_run(v1, 200) != h1);
    bgpbt_vecenv_destroy(v1);
}

/* N copies together == N vecenvs of one copy with stream_base = i. */
static void env_user_vectorised_equals_one_by_one(void) {
    enum { N = 7, T = 120 };
    bgpbt_env_def d = env_pt_def(NULL, 25);
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv *all = NULL, *one[N];
    int i, t, ok = 1;
    float act[N];
    c.num_envs = N;
    c.seed = 3;
    c.stream_base = 100;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &all) == BGPBT_OK);
    c.num_envs = 1;
    for (i = 0; i < N; ++i) {
        c.stream_base = 100 + (uint64_t)i;
        REQUIRE(bgpbt_vecenv_create(&d, &c, &one[i]) == BGPBT_OK);
        bgpbt_vecenv_reset(one[i]);
    }
    bgpbt_vecenv_reset(all);
    for (t = 0; t < T; ++t) {
        for (i = 0; i < N; ++i) act[i] = env_pt_action(i, t);
        CHECK_OK(bgpbt_vecenv_step(all, act));
        for (i = 0; i < N; ++i) {
            CHECK_OK(bgpbt_vecenv_step(one[i], &act[i]));
            ok &= memcmp(bgpbt_vecenv_obs(all) + 3 * i, bgpbt_vecenv_obs(one[i]), 3 * sizeof(float)) == 0;
            ok &= bgpbt_vecenv_rewards(all)[i] == bgpbt_vecenv_rewards(one[i])[0];
            ok &= bgpbt_vecenv_terminated(all)[i] == bgpbt_vecenv_terminated(one[i])[0];
            ok &= bgpbt_vecenv_truncated(all)[i] == bgpbt_vecenv_truncated(one[i])[0];
        }
    }
    CHECK(ok);
    bgpbt_vecenv_destroy(all);
    for (i = 0; i < N; ++i) bgpbt_vecenv_destroy(one[i]);
}

/* Truncation at the limit, termination by the rule, final_obs, fresh resets, stats, info. */
static void env_user_autoreset_and_stats(void) {
    bgpbt_env_def d = env_pt_def(NULL, 10);
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv* v = NULL;
    float act[8], prev_obs[8 * 3];
    double manual_ret[8], sum_ret = 0.0, sum_sq = 0.0, sum_len = 0.0;
    float first_x[8][6];
    int i, t, episodes = 0, nterm = 0, manual_len[8], resets_seen[8];
    bgpbt_episode_stats st;
    c.num_envs = 8;
    c.seed = 5;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &v) == BGPBT_OK);
    CHECK_OK(bgpbt_vecenv_reset(v));
    for (i = 0; i < 8; ++i) {
        manual_ret[i] = 0.0;
        manual_len[i] = 0;
        resets_seen[i] = 0;
        first_x[i][0] = bgpbt_vecenv_obs(v)[3 * i];
        CHECK(bgpbt_vecenv_obs(v)[3 * i + 2] == 0.0f); /* step counter in the obs */
    }
    for (t = 0; t < 100; ++t) {
        memcpy(prev_obs, bgpbt_vecenv_obs(v), sizeof prev_obs);
        for (i = 0; i < 8; ++i) act[i] = (i & 1) ? 7.0f : -0.3f; /* 7 is clipped to 1 */
        REQUIRE(bgpbt_vecenv_step(v, act) == BGPBT_OK);
        for (i = 0; i < 8; ++i) {
            const float* fo = bgpbt_vecenv_final_obs(v) + 3 * i;
            const float* o = bgpbt_vecenv_obs(v) + 3 * i;
            float r = bgpbt_vecenv_rewards(v)[i];
            int te = bgpbt_vecenv_terminated(v)[i], tr = bgpbt_vecenv_truncated(v)[i];
            manual_ret[i] += r;
            manual_len[i] += 1;
            CHECK(!(te && tr));
            if (te || tr) {
                /* the old episode's last observation: counter = its length, reward = -|x| */
                CHECK_EQ_INT((int)fo[2], manual_len[i]);
                CHECK(r == (float)-fabs((double)fo[0]) || fabs(r + fabs(fo[0])) < 1e-6);
                if (te) CHECK(fabs(fo[0]) > 2.0f);
                if (tr) { CHECK_EQ_INT(manual_len[i], 10); CHECK(fabs(fo[0]) <= 2.0f); }
                CHECK(o[2] == 0.0f && o[1] == 0.0f && fabs(o[0]) < 1.0f); /* a fresh start */
                CHECK_NEAR(bgpbt_vecenv_episode_returns(v)[i], manual_ret[i], 1e-4);
                CHECK_EQ_INT(bgpbt_vecenv_episode_lengths(v)[i], manual_len[i]);
                if (resets_seen[i] < 5) first_x[i][++resets_seen[i]] = o[0];
                sum_ret += manual_ret[i];
                sum_sq += manual_ret[i] * manual_ret[i];
                sum_len += manual_len[i];
                episodes++;
                nterm += te;
                manual_ret[i] = 0.0;
                manual_len[i] = 0;
            } else {
                CHECK_EQ_INT((int)o[2], manual_len[i]);
                CHECK_EQ_INT((int)o[2], (int)prev_obs[3 * i + 2] + 1);
                CHECK(r == (float)-fabs((double)o[0]));
            }
            CHECK_EQ_INT(bgpbt_vecenv_step_counts(v)[i], manual_len[i]);
        }
    }
    bgpbt_vecenv_take_stats(v, &st);
    CHECK_EQ_INT(st.episodes, episodes);
    CHECK_EQ_INT(st.terminated, nterm);
    CHECK(nterm > 0 && nterm < episodes); /* both ways of ending happened */
    CHECK_EQ_INT(st.unstable, 0);
    CHECK_REL(st.return_sum, sum_ret, 1e-6);
    CHECK_REL(st.return_sq_sum, sum_sq, 1e-6);
    CHECK_NEAR(st.length_sum, sum_len, 0.0);
    bgpbt_vecenv_take_stats(v, &st); /* taking clears */
    CHECK_EQ_INT(st.episodes, 0);
    /* auto-reset draws fresh initial states: the starts of successive episodes all differ */
    for (i = 0; i < 8; ++i) {
        int a, b;
        CHECK(resets_seen[i] >= 2);
        for (a = 0; a <= resets_seen[i]; ++a)
            for (b = a + 1; b <= resets_seen[i]; ++b) CHECK(first_x[i][a] != first_x[i][b]);
    }
    /* the callback saw clipped actions: odd copies with a = 1 accelerate by 0.1 per step */
    {
        env_pt_state* s = (env_pt_state*)bgpbt_vecenv_user_state(v, 1);
        REQUIRE(s != NULL);
        CHECK(s->resets >= 2);
        CHECK(bgpbt_vecenv_user_state(v, 8) == NULL);
    }
    CHECK(bgpbt_vecenv_reward_terms(v, &i) == NULL);
    CHECK_EQ_INT(i, 0);
    bgpbt_vecenv_destroy(v);
}

/* Clipping: +-inf and large values act as +-1; the callback never sees anything else. */
static void env_user_clip(void) {
    bgpbt_env_def d = env_pt_def(NULL, 0);
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv *a = NULL, *b = NULL;
    float big[3] = {(float)INFINITY, -50.0f, 0.5f}, clipped[3] = {1.0f, -1.0f, 0.5f};
    int t;
    c.num_envs = 3;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &a) == BGPBT_OK);
    REQUIRE(bgpbt_vecenv_create(&d, &c, &b) == BGPBT_OK);
    bgpbt_vecenv_reset(a);
    bgpbt_vecenv_reset(b);
    for (t = 0; t < 20; ++t) {
        CHECK_OK(bgpbt_vecenv_step(a, big));
        CHECK_OK(bgpbt_vecenv_step(b, clipped));
    }
    CHECK(memcmp(bgpbt_vecenv_obs(a), bgpbt_vecenv_obs(b), 9 * sizeof(float)) == 0);
    bgpbt_vecenv_destroy(a);
    bgpbt_vecenv_destroy(b);
}

/* A NaN action is an error that changes nothing: afterwards the vecenv continues exactly like
   a twin that never saw it. */
static void env_user_nan_action_changes_nothing(void) {
    bgpbt_env_def d = env_pt_def(NULL, 15);
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv *a = NULL, *b = NULL;
    test_log_capture cap;
    float act[5], bad[5], obs_before[15];
    int t, i;
    bgpbt_episode_stats sa, sb;
    memset(&cap, 0, sizeof cap);
    c.num_envs = 5;
    c.seed = 77;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &b) == BGPBT_OK);
    c.logger.fn = test_log_capture_fn;
    c.logger.user = &cap;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &a) == BGPBT_OK);
    bgpbt_vecenv_reset(a);
    bgpbt_vecenv_reset(b);
    for (t = 0; t < 40; ++t) {
        for (i = 0; i < 5; ++i) act[i] = env_pt_action(i, t);
        if (t == 13) {
            memcpy(bad, act, sizeof bad);
            bad[3] = (float)NAN;
            memcpy(obs_before, bgpbt_vecenv_obs(a), sizeof obs_before);
            CHECK_RESULT(bgpbt_vecenv_step(a, bad), BGPBT_ERR_NOT_FINITE);
            CHECK(strstr(cap.last, "env 3") != NULL);
            CHECK(memcmp(obs_before, bgpbt_vecenv_obs(a), sizeof obs_before) == 0);
        }
        CHECK_OK(bgpbt_vecenv_step(a, act));
        CHECK_OK(bgpbt_vecenv_step(b, act));
    }
    CHECK(memcmp(bgpbt_vecenv_obs(a), bgpbt_vecenv_obs(b), sizeof obs_before) == 0);
    bgpbt_vecenv_take_stats(a, &sa);
    bgpbt_vecenv_take_stats(b, &sb);
    CHECK(memcmp(&sa, &sb, sizeof sa) == 0);
    bgpbt_vecenv_destroy(a);
    bgpbt_vecenv_destroy(b);
}

/* A copy whose observation goes NaN is terminated (reward 0, obs zeroed) and counted. */
static void env_user_nonfinite_obs(void) {
    env_pt_user u;
    bgpbt_env_def d;
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv* v = NULL;
    float act[2] = {0, 0};
    int t, i;
    bgpbt_episode_stats st;
    memset(&u, 0, sizeof u);
    u.nan_after = 4;
    d = env_pt_def(&u, 0);
    c.num_envs = 2;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &v) == BGPBT_OK);
    bgpbt_vecenv_reset(v);
    for (t = 0; t < 12; ++t) {
        CHECK_OK(bgpbt_vecenv_step(v, act));
        for (i = 0; i < 2; ++i) {
            CHECK(bgpbt__isfinitef(bgpbt_vecenv_obs(v)[3 * i + 1]));
            CHECK(bgpbt__isfinitef(bgpbt_vecenv_rewards(v)[i]));
        }
    }
    bgpbt_vecenv_take_stats(v, &st);
    CHECK_EQ_INT(st.episodes, 6); /* every 4th step, two copies */
    CHECK_EQ_INT(st.unstable, 6);
    CHECK_EQ_INT(st.terminated, 6);
    CHECK_NEAR(st.length_sum, 24, 0);
    bgpbt_vecenv_destroy(v);
}

/* A batched user step through the same API gives the same results as the per-copy step. */
static void env_pt_step_batch(void* states, size_t stride, int n, const float* actions,
                              bgpbt_rng* rngs, float* obs, float* rewards, int* terminated, void* user) {
    int i;
    for (i = 0; i < n; ++i)
        env_pt_step((char*)states + (size_t)i * stride, actions + i, &rngs[i], obs + 3 * i,
                    &rewards[i], &terminated[i], user);
}
static void env_user_step_batch(void) {
    bgpbt_env_def d = env_pt_def(NULL, 20);
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv *a = NULL, *b = NULL;
    c.num_envs = 9;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &a) == BGPBT_OK);
    d.step = NULL;
    d.step_batch = env_pt_step_batch;
    REQUIRE(bgpbt_vecenv_create(&d, &c, &b) == BGPBT_OK);
    CHECK(env_pt_run(a, 90) == env_pt_run(b, 90));
    bgpbt_vecenv_destroy(a);
    bgpbt_vecenv_destroy(b);
}

/* Every allocation failure returns OUT_OF_MEMORY and leaks nothing; stepping allocates nothing. */
static void env_user_alloc(void) {
    bgpbt_env_def d = env_pt_def(NULL, 10);
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    test_failing_alloc fa;
    long k, count_after_create;
    int t, i;
    float act[6];
    c.num_envs = 6;
    for (k = 1; k < 40; ++k) {
        bgpbt_vecenv* v = NULL;
        bgpbt_result r;
        c.allocator = test_failing_allocator(&fa, k);
        r = bgpbt_vecenv_create(&d, &c, &v);
        if (r == BGPBT_OK) {
            bgpbt_vecenv_destroy(v);
            CHECK(fa.live_blocks == 0);
            break;
        }
        CHECK_RESULT(r, BGPBT_ERR_OUT_OF_MEMORY);
        CHECK(v == NULL);
        CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    }
    CHECK(k > 5 && k < 40);
    {
        bgpbt_vecenv* v = NULL;
        c.allocator = test_failing_allocator(&fa, 0);
        REQUIRE(bgpbt_vecenv_create(&d, &c, &v) == BGPBT_OK);
        count_after_create = fa.count;
        bgpbt_vecenv_reset(v);
        for (t = 0; t < 50; ++t) {
            for (i = 0; i < 6; ++i) act[i] = env_pt_action(i, t);
            bgpbt_vecenv_step(v, act);
        }
        CHECK_EQ_INT(fa.count, count_after_create);
        bgpbt_vecenv_destroy(v);
        CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    }
}


/* ---- rendering -------------------------------------------------------------------------------- */

static void env_render_svg_basic(void) {
    bgpbt_render_geom g[3];
    bgpbt_render_options o = bgpbt_render_options_default();
    char buf[8192];
    size_t size = 0, size2 = 0;
    memset(g, 0, sizeof g);
    g[0].type = BGPBT_GEOM_PLANE;
    g[0].quat[0] = 1.0f;
    g[1].type = BGPBT_GEOM_SPHERE;
    g[1].size[0] = 0.25f;
    g[1].pos[2] = 0.5f;
    g[1].quat[0] = 1.0f;
    g[1].rgba[0] = 1.0f; g[1].rgba[3] = 1.0f;
    g[2].type = BGPBT_GEOM_CAPSULE; /* lying along x: quarter turn about y */
    g[2].size[0] = 0.1f; g[2].size[1] = 0.5f;
    g[2].pos[2] = 0.1f;
    g[2].quat[0] = 0.70710678f; g[2].quat[2] = 0.70710678f;
    o.width = 200;
    o.extent = 2.0f; /* 100 pixels per metre */
    o.views = 1;     /* side view only */
    o.title = "a <b> & c";
    CHECK_OK(bgpbt_render_svg(g, 3, &o, NULL, 0, &size));
    REQUIRE(size > 100 && size < sizeof buf);
    CHECK_OK(bgpbt_render_svg(g, 3, &o, buf, sizeof buf, &size2));
    CHECK_EQ_INT(size, size2);
    CHECK_EQ_INT(strlen(buf), size);
    CHECK(strstr(buf, "r='25.00'") != NULL);            /* sphere radius 0.25 m at 100 px/m */
    CHECK(strstr(buf, "stroke-width='20.00'") != NULL); /* capsule diameter 0.2 m */
    CHECK(strstr(buf, "a &lt;b&gt; &amp; c") != NULL);  /* caption escaped */
    CHECK(strstr(buf, "top (") == NULL);
    /* the capsule's axis spans 1 m = 100 px horizontally in the side view */
    {
        const char* p = strstr(buf, "<line x1='");
        float x1, y1, x2, y2;
        int found = 0;
        while (p && !found) {
            if (sscanf(p, "<line x1='%f' y1='%f' x2='%f' y2='%f'", &x1, &y1, &x2, &y2) == 4 &&
                strstr(p, "stroke-linecap") && strstr(p, "stroke-linecap") - p < 200)
                found = 1;
            else p = strstr(p + 1, "<line x1='");
        }
        CHECK(found);
        CHECK_NEAR(fabs(x2 - x1), 100.0, 0.2);
        CHECK_NEAR(y2 - y1, 0.0, 0.2);
    }
    CHECK_RESULT(bgpbt_render_svg(g, 3, &o, buf, size, &size2), BGPBT_ERR_BUFFER_TOO_SMALL);
    g[1].pos[0] = (float)NAN;
    CHECK_RESULT(bgpbt_render_svg(g, 3, &o, NULL, 0, &size), BGPBT_ERR_NOT_FINITE);
    g[1].pos[0] = 0.0f;
    /* two frames of a rollout: both views, earlier frame faded */
    {
        bgpbt_render_geom f[6];
        memcpy(f, g, sizeof g);
        memcpy(f + 3, g, sizeof g);
        f[4].pos[0] = 0.5f;
        o = bgpbt_render_options_default();
        o.frames = 2;
        CHECK_OK(bgpbt_render_svg(f, 3, &o, buf, sizeof buf, &size));
        CHECK(strstr(buf, "top (") != NULL && strstr(buf, "side (") != NULL);
        CHECK(strstr(buf, "fill-opacity='0.62'") != NULL); /* 0.25 + 0.75 / 2 */
        /* the same two frames as a looping animation: one <animate> per frame and view */
        o.frame_seconds = 0.5f;
        CHECK_OK(bgpbt_render_svg(f, 3, &o, buf, sizeof buf, &size));
        {
            const char* p = buf;
            int n = 0;
            while ((p = strstr(p, "<animate ")) != NULL) { ++n; ++p; }
            CHECK_EQ_INT(n, 4);
        }
        CHECK(strstr(buf, "keyTimes='0;0.50000;1.00000'") != NULL);
        CHECK(strstr(buf, "dur='1.000s'") != NULL);
        CHECK(strstr(buf, "fill-opacity='0.62'") == NULL); /* not faded */
    }
}

/* ---- built-in tasks ---------------------------------------------------------------------------- */

static const struct { const char* name; int obs, act, terminates; } env_task_table[10] = {
    {"inverted_pendulum", 4, 1, 1}, {"inverted_double_pendulum", 10, 1, 1}, {"reacher", 11, 2, 0},
    {"halfcheetah", 23, 6, 0},      {"hopper", 14, 3, 1},                   {"walker2d", 20, 6, 1},
    {"ant", 87, 8, 1},              {"humanoid", 233, 17, 1},               {"ur5e", 52, 6, 0},
    {"fetch", 87, 10, 0}};

static test_log_capture env_task_log; /* expected errors stay quiet; the last one is kept */
static bgpbt_vecenv* env_task_make(const char* name, int n, uint64_t seed, const bgpbt_task_options* opt) {
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv* v = NULL;
    c.num_envs = n;
    c.seed = seed;
    c.logger.fn = test_log_capture_fn;
    c.logger.user = &env_task_log;
    if (bgpbt_vecenv_create_task(name, opt, &c, &v) != BGPBT_OK) return NULL;
    if (bgpbt_vecenv_reset(v) != BGPBT_OK) { bgpbt_vecenv_destroy(v); return NULL; }
    return v;
}

static void env_task_random_actions(bgpbt_rng* r, float* a, int n) {
    int i;
    for (i = 0; i < n; ++i) a[i] = 2.0f * bgpbt_rng_float(r) - 1.0f;
}

static int env_all_finite(const float* x, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) if (!bgpbt__isfinitef(x[i])) return 0;
    return 1;
}

static void env_task_names_and_sizes(void) {
    int k;
    bgpbt_task_info info;
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv* v = (bgpbt_vecenv*)1;
    test_log_capture cap;
    bgpbt_task_options o = bgpbt_task_options_default();
    CHECK_EQ_INT(bgpbt_task_count(), 10);
    CHECK(bgpbt_task_name(10) == NULL && bgpbt_task_name(-1) == NULL);
    for (k = 0; k < 10; ++k) {
        size_t len = 0;
        REQUIRE(strcmp(bgpbt_task_name(k), env_task_table[k].name) == 0);
        CHECK_OK(bgpbt_task_get_info(env_task_table[k].name, &info));
        CHECK_EQ_INT(info.obs_dim, env_task_table[k].obs);
        CHECK_EQ_INT(info.act_dim, env_task_table[k].act);
        CHECK_EQ_INT(info.episode_length, 1000);
        CHECK(info.dt > 0.0f && info.dt <= 0.05f + 1e-6f);
        CHECK_OK(bgpbt_task_mjcf(env_task_table[k].name, NULL, 0, &len));
        CHECK(len > 300);
        v = env_task_make(env_task_table[k].name, 3, 1, NULL);
        REQUIRE(v != NULL);
        CHECK_EQ_INT(bgpbt_vecenv_obs_dim(v), env_task_table[k].obs);
        CHECK_EQ_INT(bgpbt_vecenv_act_dim(v), env_task_table[k].act);
        CHECK_EQ_INT(bgpbt_vecenv_max_episode_steps(v), 1000);
        CHECK(strcmp(bgpbt_vecenv_name(v), env_task_table[k].name) == 0);
        {
            int nt = 0, j;
            bgpbt_vecenv_reward_terms(v, &nt);
            CHECK_EQ_INT(nt, info.num_terms);
            for (j = 0; j < nt; ++j) CHECK(strcmp(bgpbt_vecenv_reward_term_name(v, j), info.term_names[j]) == 0);
        }
        CHECK(env_all_finite(bgpbt_vecenv_obs(v), (size_t)3 * (size_t)env_task_table[k].obs));
        bgpbt_vecenv_destroy(v);
    }
    memset(&cap, 0, sizeof cap);
    c.logger.fn = test_log_capture_fn;
    c.logger.user = &cap;
    CHECK_RESULT(bgpbt_vecenv_create_task("antt", NULL, &c, &v), BGPBT_ERR_UNKNOWN_NAME);
    CHECK(v == NULL);
    CHECK(strstr(cap.last, "antt") != NULL);
    CHECK_RESULT(bgpbt_task_get_info("nope", &info), BGPBT_ERR_UNKNOWN_NAME);
    o.num_reward_weights = 5; /* ant has 4 terms */
    CHECK_RESULT(bgpbt_vecenv_create_task("ant", &o, &c, &v), BGPBT_ERR_OUT_OF_RANGE);
    o = bgpbt_task_options_default();
    o.reward_weights[0] = (float)NAN;
    o.num_reward_weights = 1;
    CHECK_RESULT(bgpbt_vecenv_create_task("ant", &o, &c, &v), BGPBT_ERR_NOT_FINITE);
    o = bgpbt_task_options_default();
    o.episode_length = -1;
    CHECK_RESULT(bgpbt_vecenv_create_task("ant", &o, &c, &v), BGPBT_ERR_OUT_OF_RANGE);
}

/* Same seed: same initial observations; another seed or a second reset: different ones. */
static void env_task_reset_reproducible(void) {
    int k;
    for (k = 0; k < 10; ++k) {
        const char* name = env_task_table[k].name;
        size_t od = (size_t)env_task_table[k].obs * 4;
        bgpbt_vecenv *a = env_task_make(name, 4, 7, NULL), *b = env_task_make(name, 4, 7, NULL);
        bgpbt_vecenv* c = env_task_make(name, 4, 8, NULL);
        float first[4 * 233];
        REQUIRE(a && b && c);
        CHECK(memcmp(bgpbt_vecenv_obs(a), bgpbt_vecenv_obs(b), od * sizeof(float)) == 0);
        CHECK(memcmp(bgpbt_vecenv_obs(a), bgpbt_vecenv_obs(c), od * sizeof(float)) != 0);
        /* copies of one vecenv start differently */
        CHECK(memcmp(bgpbt_vecenv_obs(a), bgpbt_vecenv_obs(a) + env_task_table[k].obs,
                     (size_t)env_task_table[k].obs * sizeof(float)) != 0);
        memcpy(first, bgpbt_vecenv_obs(a), od * sizeof(float));
        CHECK_OK(bgpbt_vecenv_reset(a));
        CHECK(memcmp(first, bgpbt_vecenv_obs(a), od * sizeof(float)) != 0); /* fresh draw */
        bgpbt_vecenv_destroy(a);
        bgpbt_vecenv_destroy(b);
        bgpbt_vecenv_destroy(c);
    }
}

/* Zero actions: 1000 steps (200 with --fast) stay finite and never go unstable. */
static void env_task_zero_action_finite(void) {
    int k, t, T = test_is_fast() ? 200 : 1000;
    float act[4 * 17];
    memset(act, 0, sizeof act);
    for (k = 0; k < 10; ++k) {
        bgpbt_vecenv* v = env_task_make(env_task_table[k].name, 4, 3, NULL);
        bgpbt_episode_stats st;
        int ok = 1;
        REQUIRE(v != NULL);
        for (t = 0; t < T; ++t) {
            REQUIRE(bgpbt_vecenv_step(v, act) == BGPBT_OK);
            ok &= env_all_finite(bgpbt_vecenv_obs(v), (size_t)4 * (size_t)env_task_table[k].obs);
            ok &= env_all_finite(bgpbt_vecenv_rewards(v), 4);
        }
        bgpbt_vecenv_take_stats(v, &st);
        if (!ok || st.unstable) printf("  task %s: finite %d unstable %ld\n", env_task_table[k].name, ok, st.unstable);
        CHECK(ok);
        CHECK_EQ_INT(st.unstable, 0);
        if (!env_task_table[k].terminates) CHECK_EQ_INT(st.terminated, 0);
        bgpbt_vecenv_destroy(v);
    }
}

/* The termination rule, evaluated on the observation of the step (final_obs when it ended). */
static int env_task_rule(int k, const float* o) {
    switch (k) {
        case 0: return 0.3f * cosf(o[1]) <= 0.2f;        /* pole centre height */
        case 1: return o[9] <= 1.0f;                     /* tip z */
        case 4: return o[0] < 0.7f;                      /* hopper torso z */
        case 5: return o[0] <= 0.7f || o[0] >= 2.0f;     /* walker2d */
        case 6: return o[0] < 0.2f || o[0] > 1.0f;       /* ant */
        case 7: return o[0] < 0.7f || o[0] > 2.1f;       /* humanoid: qpos z */
        default: return 0;
    }
}

static void env_task_termination_rule(void) {
    int k, t, i, T = test_is_fast() ? 150 : 600;
    bgpbt_rng r;
    float act[8 * 17];
    bgpbt_rng_init(&r, 5, 0);
    for (k = 0; k < 10; ++k) {
        bgpbt_vecenv* v = env_task_make(env_task_table[k].name, 8, 4, NULL);
        int od = env_task_table[k].obs, mismatches = 0, ends = 0;
        REQUIRE(v != NULL);
        for (t = 0; t < T; ++t) {
            env_task_random_actions(&r, act, 8 * env_task_table[k].act);
            REQUIRE(bgpbt_vecenv_step(v, act) == BGPBT_OK);
            for (i = 0; i < 8; ++i) {
                int te = bgpbt_vecenv_terminated(v)[i];
                const float* o = te || bgpbt_vecenv_truncated(v)[i] ? bgpbt_vecenv_final_obs(v) + i * od
                                                                    : bgpbt_vecenv_obs(v) + i * od;
                if (te != env_task_rule(k, o) && mismatches < 3)
                    printf("  %s t %d env %d: terminated %d, obs %g %g %g\n", env_task_table[k].name, t, i, te, o[0], o[1], o[9 % od]);
                mismatches += te != env_task_rule(k, o);
                ends += te;
            }
        }
        if (mismatches) printf("  task %s: %d mismatches\n", env_task_table[k].name, mismatches);
        CHECK_EQ_INT(mismatches, 0);
        /* random actions topple them all (the ant's random episodes last ~450 steps: not in 150) */
        if (env_task_table[k].terminates && (k != 6 || T > 300)) CHECK(ends > 0);
        bgpbt_vecenv_destroy(v);
    }
}

/* Placing the ant's torso at z 1.6 ends the episode on the next step; at 0.75 or 0.99 it does not. */
static void env_task_ant_termination_by_state(void) {
    bgpbt_vecenv* v = env_task_make("ant", 2, 1, NULL);
    float q[15], qd[14], act[16];
    int nq = 0, nv = 0;
    REQUIRE(v != NULL);
    CHECK_OK(bgpbt_vecenv_state_sizes(v, &nq, &nv));
    REQUIRE(nq == 15 && nv == 14);
    memset(act, 0, sizeof act);
    CHECK_OK(bgpbt_vecenv_get_state(v, 0, q, qd));
    memset(qd, 0, sizeof qd);
    q[2] = 1.6f;
    CHECK_OK(bgpbt_vecenv_set_state(v, 0, q, qd));
    q[2] = 0.75f;
    CHECK_OK(bgpbt_vecenv_set_state(v, 1, q, qd));
    CHECK_NEAR(bgpbt_vecenv_obs(v)[87], 0.75f, 1e-6); /* copy 1's obs[0] is its torso z */
    CHECK_OK(bgpbt_vecenv_step(v, act));
    CHECK_EQ_INT(bgpbt_vecenv_terminated(v)[0], 1);
    CHECK_EQ_INT(bgpbt_vecenv_terminated(v)[1], 0);
    CHECK(bgpbt_vecenv_final_obs(v)[0] > 1.0f);
    CHECK_EQ_INT(bgpbt_vecenv_episode_lengths(v)[0], 1);
    /* just below the upper bound it goes on (falling 1.2 cm in one 0.05 s step at most) */
    q[2] = 0.99f;
    CHECK_OK(bgpbt_vecenv_set_state(v, 0, q, qd));
    CHECK_OK(bgpbt_vecenv_step(v, act));
    CHECK_EQ_INT(bgpbt_vecenv_terminated(v)[0], 0);
    q[2] = (float)NAN;
    CHECK_RESULT(bgpbt_vecenv_set_state(v, 0, q, qd), BGPBT_ERR_NOT_FINITE);
    bgpbt_vecenv_destroy(v);
}

/* Reward terms recomputed from the state: forward terms from body positions (or the centre of
   mass) before and after the step, control terms from the actions, the rest from the observation. */
#define ENV_ERR(x) do { float env__d = fabsf(x); if (!(env__d <= e)) e = env__d; } while (0)
static void env_task_reward_terms(void) {
    int k, t, i, j;
    bgpbt_rng r;
    float act[4 * 17];
    bgpbt_rng_init(&r, 6, 0);
    for (k = 0; k < 10; ++k) {
        bgpbt_vecenv* v = env_task_make(env_task_table[k].name, 4, 9, NULL);
        bgpbt_task_info info;
        int od = env_task_table[k].obs, ad = env_task_table[k].act, nt = 0;
        float before[4][3], com_before[4][3], tool_before[4][3], quat_before[4][4], e = 0.0f;
        static float obs_before[4 * 233];
        const bgpbt_sim* s;
        REQUIRE(v != NULL);
        s = bgpbt_vecenv_sim(v);
        bgpbt_task_get_info(env_task_table[k].name, &info);
        for (t = 0; t < 40; ++t) {
            const float* terms;
            float pos[32 * 3], cv[3];
            memcpy(obs_before, bgpbt_vecenv_obs(v), (size_t)(4 * od) * sizeof(float));
            for (i = 0; i < 4; ++i) {
                float q[32 * 4];
                bgpbt_vecenv_body_transforms(v, i, pos, q);
                for (j = 0; j < 3; ++j) before[i][j] = pos[3 + j]; /* body 1: the root / torso */
                for (j = 0; j < 4; ++j) quat_before[i][j] = q[4 + j];
                if (k == 8) {
                    float loc[3] = {0.0f, 0.1f, 0.0f}, w[3];
                    bgpbt__env_qrot(q + 4 * 6, loc, w);
                    for (j = 0; j < 3; ++j) tool_before[i][j] = pos[3 * 6 + j] + w[j];
                }
                if (s) bgpbt_sim_com(s, i, com_before[i], cv);
            }
            env_task_random_actions(&r, act, 4 * ad);
            REQUIRE(bgpbt_vecenv_step(v, act) == BGPBT_OK);
            terms = bgpbt_vecenv_reward_terms(v, &nt);
            for (i = 0; i < 4; ++i) {
                const float* tm = terms + i * nt;
                int done = bgpbt_vecenv_terminated(v)[i] || bgpbt_vecenv_truncated(v)[i];
                const float* o = done ? bgpbt_vecenv_final_obs(v) + i * od : bgpbt_vecenv_obs(v) + i * od;
                const float* a = act + i * ad;
                float sa = 0.0f, sum = 0.0f, after[3], com[3];
                for (j = 0; j < ad; ++j) sa += a[j] * a[j];
                for (j = 0; j < nt; ++j) sum += tm[j];
                ENV_ERR(sum - bgpbt_vecenv_rewards(v)[i]);
                if (done) continue; /* the pose was reset: positions are the new episode's */
                bgpbt_vecenv_body_transforms(v, i, pos, NULL);
                for (j = 0; j < 3; ++j) after[j] = pos[3 + j];
                if (s) bgpbt_sim_com(s, i, com, cv);
                switch (k) {
                    case 0: ENV_ERR(tm[0] - 1.0f); break;
                    case 1: {
                        float tx = o[8] + o[0], tz = o[9];
                        ENV_ERR(tm[0] - 10.0f);
                        ENV_ERR(tm[1] + (0.01f * tx * tx + (tz - 2.0f) * (tz - 2.0f)));
                        ENV_ERR(tm[2] + (1e-3f * o[6] * o[6] + 5e-3f * o[7] * o[7]));
                        break;
                    }
                    case 2:
                        ENV_ERR(tm[0] + sqrtf(o[8] * o[8] + o[9] * o[9] + o[10] * o[10]));
                        ENV_ERR(tm[1] + sa);
                        break;
                    case 3:
                        ENV_ERR(tm[0] - (after[0] - before[i][0]) / info.dt);
                        ENV_ERR(tm[1] + 0.1f * sa);
                        break;
                    case 4: case 5: case 7:
                        if (s) ENV_ERR(tm[0] - (k == 7 ? 1.25f : 1.0f) * (com[0] - com_before[i][0]) / info.dt);
                        ENV_ERR(tm[k == 7 ? 2 : 1] - (k == 7 ? 5.0f : 1.0f));
                        ENV_ERR(tm[k == 7 ? 1 : 2] + (k == 7 ? 0.01f : 1e-3f) * sa);
                        break;
                    case 6: {
                        float c = 0.0f;
                        for (j = 27; j < 87; ++j) c += o[j] * o[j];
                        ENV_ERR(tm[0] - (after[0] - before[i][0]) / info.dt);
                        ENV_ERR(tm[1] + 0.5f * sa);
                        ENV_ERR(tm[2] + 5e-4f * c);
                        ENV_ERR(tm[3] - 1.0f);
                        break;
                    }
                    case 8: case 9: { /* progress toward the target seen before the step */
                        float d[3], n2 = 0.0f, prog = 0.0f, pa[3], pb[3], q[32 * 4];
                        const float* ob = obs_before + i * od;
                        if (k == 8) { /* tool: 0.1 along wrist_3's y axis; direction in the world frame */
                            float loc[3] = {0.0f, 0.1f, 0.0f}, w[3];
                            bgpbt_vecenv_body_transforms(v, i, pos, q);
                            bgpbt__env_qrot(q + 4 * 6, loc, w);
                            for (j = 0; j < 3; ++j) { pa[j] = pos[3 * 6 + j] + w[j]; pb[j] = tool_before[i][j]; d[j] = ob[7 + j]; }
                        } else { /* torso; direction given in the torso frame, projected on the ground */
                            bgpbt__env_qrot(quat_before[i], ob + 7, d);
                            d[2] = 0.0f;
                            for (j = 0; j < 3; ++j) { pa[j] = after[j]; pb[j] = before[i][j]; }
                            /* up and height from the torso pose */
                            ENV_ERR(tm[1] - 0.1f * info.dt * o[5]);
                            ENV_ERR(tm[2] - 0.1f * info.dt * after[2]);
                        }
                        for (j = 0; j < 3; ++j) n2 += d[j] * d[j];
                        for (j = 0; j < 3; ++j) prog += (pa[j] - pb[j]) * d[j] / sqrtf(n2);
                        ENV_ERR(tm[0] - 0.1f * prog);
                        break;
                    }
                    default: break;
                }
            }
        }
        if (!(e <= 2e-3f)) printf("  task %s: largest reward term error %g\n", env_task_table[k].name, e);
        CHECK(e <= 2e-3f);
        bgpbt_vecenv_destroy(v);
    }
}

/* Auto-reset draws a fresh random initial state each time (Brax restores one cached state):
   hopper copies fall under random actions; every new episode starts near the nominal pose
   (torso z 1.25, upright, noise 0.005) but no two starts are the same. */
static void env_task_autoreset_fresh(void) {
    enum { N = 4, MAXS = 64 };
    bgpbt_vecenv* v = env_task_make("hopper", N, 12, NULL);
    bgpbt_rng r;
    float act[N * 3], starts[MAXS][14];
    int ns = 0, t, i, a, b, same = 0;
    REQUIRE(v != NULL);
    bgpbt_rng_init(&r, 1, 0);
    for (i = 0; i < N && ns < MAXS; ++i) memcpy(starts[ns++], bgpbt_vecenv_obs(v) + 14 * i, sizeof starts[0]);
    for (t = 0; t < 300 && ns < MAXS; ++t) {
        env_task_random_actions(&r, act, N * 3);
        REQUIRE(bgpbt_vecenv_step(v, act) == BGPBT_OK);
        for (i = 0; i < N && ns < MAXS; ++i)
            if (bgpbt_vecenv_terminated(v)[i] || bgpbt_vecenv_truncated(v)[i]) {
                const float* o = bgpbt_vecenv_obs(v) + 14 * i;
                CHECK(bgpbt_vecenv_step_counts(v)[i] == 0);
                CHECK_NEAR(o[0], 1.25, 0.011);     /* torso z */
                CHECK_NEAR(o[1], 1.0, 1e-4);       /* upright: quaternion w */
                memcpy(starts[ns++], o, sizeof starts[0]);
            }
    }
    CHECK(ns >= 20);
    for (a = 0; a < ns; ++a)
        for (b = a + 1; b < ns; ++b) same += memcmp(starts[a], starts[b], sizeof starts[0]) == 0;
    CHECK_EQ_INT(same, 0);
    bgpbt_vecenv_destroy(v);
}

/* ---- an open-loop gait found by a short random search moves ant and halfcheetah forward ----- */
typedef struct env_gait { float freq, amp[17], phase[17], bias[17]; } env_gait;

static float env_gait_action(const env_gait* g, int j, int t, float dt) {
    float a = g->bias[j] + g->amp[j] * sinf(6.2831853f * g->freq * dt * (float)t + g->phase[j]);
    return a;
}

/* Run candidate i on copy i for T steps; forward[i] = torso x displacement (m) until the first
   episode end (-1e9 when it ended), reward_fwd[i] = sum of forward reward terms * dt. */
static void env_gait_run(const char* name, const env_gait* g, int nc, int T, float* disp, float* fwd_sum) {
    bgpbt_task_options o = bgpbt_task_options_default();
    bgpbt_vecenv* v;
    bgpbt_task_info info;
    float act[128 * 8], x0[128], pos[32 * 3];
    int alive[128], t, i, j, ad, nt;
    o.reset_noise_scale = 0.1f;
    v = env_task_make(name, nc, 11, &o);
    if (!v) return;
    bgpbt_task_get_info(name, &info);
    ad = info.act_dim;
    for (i = 0; i < nc; ++i) {
        bgpbt_vecenv_body_transforms(v, i, pos, NULL);
        x0[i] = pos[3];
        alive[i] = 1;
        fwd_sum[i] = 0.0f;
        disp[i] = -1e9f;
    }
    for (t = 0; t < T; ++t) {
        const float* terms;
        for (i = 0; i < nc; ++i)
            for (j = 0; j < ad; ++j) act[i * ad + j] = env_gait_action(&g[i], j, t, info.dt);
        bgpbt_vecenv_step(v, act);
        terms = bgpbt_vecenv_reward_terms(v, &nt);
        for (i = 0; i < nc; ++i) {
            if (!alive[i]) continue;
            fwd_sum[i] += terms[i * nt] * info.dt;
            if (bgpbt_vecenv_terminated(v)[i] || bgpbt_vecenv_truncated(v)[i]) alive[i] = 0;
        }
    }
    for (i = 0; i < nc; ++i) {
        if (!alive[i]) continue;
        bgpbt_vecenv_body_transforms(v, i, pos, NULL);
        disp[i] = pos[3] - x0[i];
    }
    bgpbt_vecenv_destroy(v);
}

static void env_gait_search(const char* name, float min_speed) {
    enum { NC = 96 };
    env_gait g[NC];
    float disp[NC], fwd[NC], best_disp = -1e9f;
    int i, j, best = 0, ad = strcmp(name, "ant") == 0 ? 8 : 6, T = 200;
    bgpbt_task_info info;
    bgpbt_rng r;
    bgpbt_rng_init(&r, 2024, 0);
    bgpbt_task_get_info(name, &info);
    for (i = 0; i < NC; ++i) {
        g[i].freq = (float)bgpbt_rng_uniform(&r, 0.5, 3.0);
        for (j = 0; j < ad; ++j) {
            g[i].amp[j] = (float)bgpbt_rng_uniform(&r, 0.2, 0.9);
            g[i].phase[j] = (float)bgpbt_rng_uniform(&r, 0.0, 6.2831853);
            g[i].bias[j] = (float)bgpbt_rng_uniform(&r, -0.3, 0.3);
        }
    }
    env_gait_run(name, g, NC, T, disp, fwd);
    for (i = 0; i < NC; ++i) {
        if (disp[i] > best_disp) { best_disp = disp[i]; best = i; }
        /* the forward reward integrates to the displacement the bodies show */
        if (disp[i] > -1e8f) CHECK_NEAR(fwd[i], disp[i], 1e-3 + 1e-3 * fabs(disp[i]));
    }
    /* re-run the four best, each on 4 copies from other initial noise; the most robust one
       (best worst-copy displacement) must still move forward on every copy */
    {
        int order[NC], a, c, top;
        float best_min = -1e9f, speed;
        for (i = 0; i < NC; ++i) order[i] = i;
        for (a = 0; a < NC; ++a) /* selection of the 4 largest displacements */
            for (c = a + 1; c < NC; ++c)
                if (disp[order[c]] > disp[order[a]]) { int tmp = order[a]; order[a] = order[c]; order[c] = tmp; }
        for (top = 0; top < 4; ++top) {
            env_gait rep[4];
            float d4[4], f4[4], mn = 1e9f;
            for (c = 0; c < 4; ++c) rep[c] = g[order[top]];
            env_gait_run(name, rep, 4, T, d4, f4);
            for (c = 0; c < 4; ++c) if (d4[c] < mn) mn = d4[c];
            if (mn > best_min) best_min = mn;
        }
        speed = best_min / (info.dt * (float)T);
        if (test__verbose) printf("  %s gait: best of %d moves %.2f m in %.1f s; most robust of the top 4: >= %.2f m on 4 copies (%.2f m/s)\n",
                                  name, NC, best_disp, info.dt * (float)T, best_min, speed);
        CHECK(speed >= min_speed);
        (void)best;
    }
}

static void env_task_gait_ant(void) { env_gait_search("ant", 0.2f); }
static void env_task_gait_halfcheetah(void) { env_gait_search("halfcheetah", 0.5f); }

/* ---- batching, threads, options, memory, rendering ----------------------------------------- */

/* N copies together == N single-copy vecenvs with stream_base + i, stepped one by one. */
static void env_task_vectorised_equals_one_by_one(void) {
    static const char* names[3] = {"ant", "hopper", "reacher"};
    enum { N = 5 };
    int k, t, i;
    bgpbt_rng r;
#if BGPBT__HAS_OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1); /* batching is under test here (threads in the next test) */
#endif
    bgpbt_rng_init(&r, 8, 0);
    for (k = 0; k < 3; ++k) {
        bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
        bgpbt_vecenv *all = NULL, *one[N];
        bgpbt_task_info info;
        float act[N * 8], maxdiff = 0.0f;
        int same_done = 1;
        bgpbt_task_get_info(names[k], &info);
        c.num_envs = N;
        c.seed = 21;
        REQUIRE(bgpbt_vecenv_create_task(names[k], NULL, &c, &all) == BGPBT_OK);
        bgpbt_vecenv_reset(all);
        c.num_envs = 1;
        for (i = 0; i < N; ++i) {
            c.stream_base = (uint64_t)i;
            REQUIRE(bgpbt_vecenv_create_task(names[k], NULL, &c, &one[i]) == BGPBT_OK);
            bgpbt_vecenv_reset(one[i]);
        }
        for (t = 0; t < 120; ++t) {
            env_task_random_actions(&r, act, N * info.act_dim);
            bgpbt_vecenv_step(all, act);
            for (i = 0; i < N; ++i) {
                int j;
                bgpbt_vecenv_step(one[i], act + i * info.act_dim);
                for (j = 0; j < info.obs_dim; ++j) {
                    float d = fabsf(bgpbt_vecenv_obs(all)[i * info.obs_dim + j] - bgpbt_vecenv_obs(one[i])[j]);
                    if (!(d <= maxdiff)) maxdiff = d;
                }
                same_done &= bgpbt_vecenv_terminated(all)[i] == bgpbt_vecenv_terminated(one[i])[0];
            }
        }
        if (maxdiff != 0.0f) printf("  task %s: batched vs single max |obs diff| %g\n", names[k], maxdiff);
        CHECK(maxdiff == 0.0f);
        CHECK(same_done);
        bgpbt_vecenv_destroy(all);
        for (i = 0; i < N; ++i) bgpbt_vecenv_destroy(one[i]);
    }
#if BGPBT__HAS_OPENMP
    omp_set_num_threads(saved);
#endif
}

TEST_FN uint32_t env_task_hash_run(const char* name, int n, int T) {
    bgpbt_vecenv* v = env_task_make(name, n, 31, NULL);
    bgpbt_rng r;
    float act[40 * 17];
    uint32_t h = 0;
    int t, od, ad;
    if (!v) return 0;
    od = bgpbt_vecenv_obs_dim(v);
    ad = bgpbt_vecenv_act_dim(v);
    bgpbt_rng_init(&r, 3, 0);
    for (t = 0; t < T; ++t) {
        env_task_random_actions(&r, act, n * ad);
        bgpbt_vecenv_step(v, act);
        h = bgpbt_crc32(h, bgpbt_vecenv_obs(v), (size_t)n * (size_t)od * sizeof(float));
        h = bgpbt_crc32(h, bgpbt_vecenv_rewards(v), (size_t)n * sizeof(float));
        h = bgpbt_crc32(h, bgpbt_vecenv_terminated(v), (size_t)n);
    }
    bgpbt_vecenv_destroy(v);
    return h;
}

static void env_task_threads_bit_identical(void) {
#if BGPBT__HAS_OPENMP
    static const char* names[3] = {"ant", "walker2d", "fetch"};
    int k, saved = omp_get_max_threads();
    for (k = 0; k < 3; ++k) {
        uint32_t h1, h2;
        omp_set_num_threads(1);
        h1 = env_task_hash_run(names[k], 37, 60);
        omp_set_num_threads(2);
        h2 = env_task_hash_run(names[k], 37, 60);
        CHECK(h1 != 0);
        CHECK(h1 == h2);
    }
    omp_set_num_threads(saved);
#endif
}

static void env_task_options(void) {
    bgpbt_task_options o = bgpbt_task_options_default();
    bgpbt_vecenv* v;
    float act[3 * 6];
    int t, nt;
    bgpbt_episode_stats st;
    /* episode length */
    o.episode_length = 7;
    v = env_task_make("halfcheetah", 3, 1, &o);
    REQUIRE(v != NULL);
    memset(act, 0, sizeof act);
    for (t = 0; t < 21; ++t) bgpbt_vecenv_step(v, act);
    bgpbt_vecenv_take_stats(v, &st);
    CHECK_EQ_INT(st.episodes, 9);
    CHECK_NEAR(st.length_sum, 63, 0);
    bgpbt_vecenv_destroy(v);
    /* no reset noise: every copy starts in the same state */
    o = bgpbt_task_options_default();
    o.reset_noise_scale = -1.0f;
    v = env_task_make("halfcheetah", 3, 1, &o);
    REQUIRE(v != NULL);
    CHECK(memcmp(bgpbt_vecenv_obs(v), bgpbt_vecenv_obs(v) + 23, 23 * sizeof(float)) == 0);
    bgpbt_vecenv_destroy(v);
    /* reward weights replace the defaults, in the order of the terms */
    o = bgpbt_task_options_default();
    o.num_reward_weights = 2;
    o.reward_weights[0] = 0.0f;
    o.reward_weights[1] = 2.0f;
    v = env_task_make("halfcheetah", 3, 1, &o);
    REQUIRE(v != NULL);
    for (t = 0; t < 18; ++t) act[t] = 0.5f;
    bgpbt_vecenv_step(v, act);
    CHECK(bgpbt_vecenv_reward_terms(v, &nt)[0] == 0.0f);
    CHECK_NEAR(bgpbt_vecenv_reward_terms(v, &nt)[1], -2.0f * 6 * 0.25f, 1e-5);
    CHECK_NEAR(bgpbt_vecenv_rewards(v)[0], -3.0f, 1e-5);
    bgpbt_vecenv_destroy(v);
}

static void env_task_alloc_failure(void) {
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    test_failing_alloc fa;
    long k;
    c.num_envs = 5;
    for (k = 1; k < 200; ++k) {
        bgpbt_vecenv* v = NULL;
        bgpbt_result r;
        c.allocator = test_failing_allocator(&fa, k);
        r = bgpbt_vecenv_create_task("ant", NULL, &c, &v);
        if (r == BGPBT_OK) {
            float act[5 * 8];
            long before = fa.count;
            int t;
            memset(act, 0, sizeof act);
            bgpbt_vecenv_reset(v);
            for (t = 0; t < 20; ++t) bgpbt_vecenv_step(v, act);
            CHECK_EQ_INT(fa.count, before); /* no allocation per step or reset */
            bgpbt_vecenv_destroy(v);
            CHECK(fa.live_blocks == 0);
            break;
        }
        CHECK_RESULT(r, BGPBT_ERR_OUT_OF_MEMORY);
        CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    }
    CHECK(k > 10 && k < 200);
}

static void env_task_render(void) {
    int k;
    for (k = 0; k < 10; ++k) {
        bgpbt_vecenv* v = env_task_make(env_task_table[k].name, 2, 1, NULL);
        bgpbt_render_geom g[64];
        float pos[32 * 3], quat[32 * 4];
        int count = 0, nb, b, has_target = k == 2 || k == 8 || k == 9;
        size_t size = 0;
        char* svg;
        REQUIRE(v != NULL);
        nb = bgpbt_vecenv_num_bodies(v);
        CHECK(nb >= 3 && nb <= 32);
        CHECK(strcmp(bgpbt_vecenv_body_name(v, 0), "world") == 0 || bgpbt_vecenv_body_name(v, 0) != NULL);
        CHECK_OK(bgpbt_vecenv_body_transforms(v, 1, pos, quat));
        for (b = 0; b < nb; ++b) /* unit quaternions */
            CHECK_NEAR(quat[4 * b] * quat[4 * b] + quat[4 * b + 1] * quat[4 * b + 1] +
                       quat[4 * b + 2] * quat[4 * b + 2] + quat[4 * b + 3] * quat[4 * b + 3], 1.0, 1e-5);
        CHECK_RESULT(bgpbt_vecenv_body_transforms(v, 2, pos, quat), BGPBT_ERR_OUT_OF_RANGE);
        CHECK_OK(bgpbt_vecenv_render_geoms(v, 1, g, 64, &count));
        CHECK(count >= 2 && count < 64);
        if (has_target) CHECK(g[count - 1].type == BGPBT_GEOM_SPHERE && g[count - 1].rgba[0] > 0.85f);
        CHECK_OK(bgpbt_render_svg(g, count, NULL, NULL, 0, &size));
        svg = (char*)malloc(size + 1);
        REQUIRE(svg != NULL);
        CHECK_OK(bgpbt_render_svg(g, count, NULL, svg, size + 1, &size));
        CHECK(strncmp(svg, "<svg", 4) == 0 && strstr(svg, "</svg>") != NULL);
        CHECK_EQ_INT(strlen(svg), size);
        CHECK_RESULT(bgpbt_render_svg(g, count, NULL, svg, size, &size), BGPBT_ERR_BUFFER_TOO_SMALL);
        free(svg);
        bgpbt_vecenv_destroy(v);
    }
}

void suite_env(void) {
    RUN(env_user_errors);
    RUN(env_user_threads_bit_identical);
    RUN(env_user_vectorised_equals_one_by_one);
    RUN(env_user_autoreset_and_stats);
    RUN(env_user_clip);
    RUN(env_user_nan_action_changes_nothing);
    RUN(env_user_nonfinite_obs);
    RUN(env_user_step_batch);
    RUN(env_user_alloc);
    RUN(env_render_svg_basic);
    RUN(env_task_names_and_sizes);
    RUN(env_task_reset_reproducible);
    RUN(env_task_zero_action_finite);
    RUN(env_task_termination_rule);
    RUN(env_task_ant_termination_by_state);
    RUN(env_task_autoreset_fresh);
    RUN(env_task_reward_terms);
    RUN(env_task_gait_ant);
    RUN(env_task_gait_halfcheetah);
    RUN(env_task_vectorised_equals_one_by_one);
    RUN(env_task_threads_bit_identical);
    RUN(env_task_options);
    RUN(env_task_alloc_failure);
    RUN(env_task_render);
}
