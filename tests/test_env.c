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
}
