/* tests/test_pbt.c - the population layer: schedulers, data construction, trust region,
   generations, successive halving, distillation hand-over, failed agents, save/load, logs. */

/* ---- a synthetic agent: a scalar skill that grows at a rate set by the hyperparameters ----- */

/* rate(u) peaks at 1 where the first two encoded hyperparameters are (0.7, 0.3); return =
   skill. Known best schedule: the peak configuration all the time. */
static double pbt_rate(const bgpbt_pbt_config* c, const double* hp) {
    double u0 = bgpbt_pbt_param_encode(&c->hp[0], hp[0]), u1 = bgpbt_pbt_param_encode(&c->hp[1], hp[1]);
    return exp(-((u0 - 0.7) * (u0 - 0.7) + (u1 - 0.3) * (u1 - 0.3)) / 0.05);
}

typedef struct pbt_world {
    double skill[4096];
    int arch0[4096];
    int nan_agent; /* this agent id returns NaN (-1: none) */
} pbt_world;

/* Run one round on the world: copies first, then training, then tells. */
static int pbt_run_round(bgpbt_pbt* s, pbt_world* w, const bgpbt_pbt_round** out) {
    const bgpbt_pbt_round* rd;
    const bgpbt_pbt_config* c = bgpbt_pbt_get_config(s);
    double start[BGPBT_PBT_MAX_POP];
    int j;
    if (bgpbt_pbt_ask(s, &rd) != BGPBT_OK || rd->n_jobs == 0) { if (out) *out = rd; return 0; }
    for (j = 0; j < rd->n_jobs; ++j) {
        const bgpbt_pbt_job* jb = &rd->jobs[j];
        if (jb->teacher >= 0 && jb->parent < 0) start[j] = 0.5 * w->skill[jb->teacher]; /* a student learns half */
        else start[j] = jb->parent < 0 ? 0.0 : w->skill[jb->parent];
    }
    for (j = 0; j < rd->n_jobs; ++j) {
        const bgpbt_pbt_job* jb = &rd->jobs[j];
        double sk = start[j] + 1e-4 * (double)jb->steps * pbt_rate(c, jb->hp) + 0.01 * jb->arch[0] * (jb->teacher >= 0);
        w->skill[jb->agent] = sk;
        w->arch0[jb->agent] = jb->arch[0];
    }
    for (j = 0; j < rd->n_jobs; ++j) {
        const bgpbt_pbt_job* jb = &rd->jobs[j];
        double r = jb->agent == w->nan_agent ? (double)NAN : w->skill[jb->agent];
        if (bgpbt_pbt_tell(s, j, r, jb->steps, 0) != BGPBT_OK) return -1;
    }
    if (out) *out = rd;
    return 1;
}

static bgpbt_pbt_config pbt_small_config(int method) {
    bgpbt_pbt_config c = bgpbt_pbt_config_default();
    c.method = method;
    c.seed = 7;
    c.t_ready = 1000;
    c.max_steps = 30000;
    if (method == BGPBT_PBT_METHOD_BGPBT) {
        c.n_init = 12;
        c.n_arch_candidates = 12;
        c.distill_budget = 4000;
        c.distill_every = 10000;
    } else {
        c.n_init = 0;
    }
    return c;
}

static void pbt_test_encode(void) {
    bgpbt_pbt_param pf = bgpbt_pbt_param_make("a", BGPBT_PBT_FLOAT, 2, 6, 0);
    bgpbt_pbt_param pl = bgpbt_pbt_param_make("b", BGPBT_PBT_FLOAT, 1e-4, 1e-2, 1);
    bgpbt_pbt_param pi = bgpbt_pbt_param_make("c", BGPBT_PBT_INT, 5, 15, 0);
    bgpbt_pbt_param pil = bgpbt_pbt_param_make("d", BGPBT_PBT_INT, 2, 16, 1);
    int v;
    CHECK_NEAR(bgpbt_pbt_param_encode(&pf, 3), 0.25, 1e-15);
    CHECK_NEAR(bgpbt_pbt_param_decode(&pf, 0.75), 5, 1e-12);
    CHECK_NEAR(bgpbt_pbt_param_encode(&pl, 1e-3), 0.5, 1e-12);
    CHECK_REL(bgpbt_pbt_param_decode(&pl, 0.5), 1e-3, 1e-12);
    /* integers: (v - lo + 0.5) / (hi - lo + 1), and every value decodes back to itself */
    CHECK_NEAR(bgpbt_pbt_param_encode(&pi, 5), 0.5 / 11, 1e-15);
    CHECK_NEAR(bgpbt_pbt_param_encode(&pi, 15), 10.5 / 11, 1e-15);
    for (v = 5; v <= 15; ++v) CHECK_EQ_INT((int)bgpbt_pbt_param_decode(&pi, bgpbt_pbt_param_encode(&pi, v)), v);
    for (v = 2; v <= 16; ++v) CHECK_EQ_INT((int)bgpbt_pbt_param_decode(&pil, bgpbt_pbt_param_encode(&pil, v)), v);
    CHECK_NEAR(bgpbt_pbt_param_encode(&pil, 2), (log(2.0) - log(1.5)) / (log(16.5) - log(1.5)), 1e-15);
    /* the ends of [0, 1] decode to the bounds, and out-of-range clamps */
    CHECK_EQ_INT((int)bgpbt_pbt_param_decode(&pi, 0.0), 5);
    CHECK_EQ_INT((int)bgpbt_pbt_param_decode(&pi, 1.0), 15);
    CHECK_NEAR(bgpbt_pbt_param_decode(&pf, 2.0), 6, 0);
    CHECK_NEAR(bgpbt_pbt_param_encode(&pf, -10), 0, 0);
}

static void pbt_test_math_helpers(void) {
    double y[5] = {3, 1, 2, 2, 5}, out[5], tmp[5], z[4] = {1, 2, 3, 100};
    CHECK_NEAR(bgpbt__norm_ppf(0.5), 0, 1e-15);
    CHECK_NEAR(bgpbt__norm_ppf(0.975), 1.959963984540054, 1e-12);
    CHECK_NEAR(bgpbt__norm_ppf(1e-6), -4.753424308822899, 1e-10);
    CHECK_NEAR(bgpbt__norm_ppf(0.3) + bgpbt__norm_ppf(0.7), 0, 1e-14);
    /* copula: ranks with ties taking the highest rank: 4, 1, 3, 3, 5 over n + 1 = 6 */
    bgpbt__pbt_copula(y, 5, out, tmp);
    CHECK_NEAR(out[0], bgpbt__norm_ppf(4.0 / 6), 1e-15);
    CHECK_NEAR(out[1], bgpbt__norm_ppf(1.0 / 6), 1e-15);
    CHECK_NEAR(out[2], bgpbt__norm_ppf(3.0 / 6), 1e-15);
    CHECK_NEAR(out[3], out[2], 0);
    CHECK_NEAR(out[4], bgpbt__norm_ppf(5.0 / 6), 1e-15);
    /* PB2: z-score (population std) clipped to [-2, 2]: 100 is clipped, the others are not */
    bgpbt__pbt_zscore_clip(z, 4);
    {
        double m = 26.5, sd = sqrt(((25.5 * 25.5) + (24.5 * 24.5) + (23.5 * 23.5) + (73.5 * 73.5)) / 4);
        CHECK_NEAR(z[0], (1 - m) / (sd + 1e-8), 1e-12);
        CHECK_NEAR(z[3], 73.5 / (sqrt(1801.25) + 1e-8), 1e-12);
        CHECK_NEAR(sd, sqrt(1801.25), 1e-12);
    }
    /* Python round (half to even) for successive halving */
    CHECK_EQ_INT(bgpbt__pbt_round_half_even(12.5), 12);
    CHECK_EQ_INT(bgpbt__pbt_round_half_even(13.0), 13);
    CHECK_EQ_INT(bgpbt__pbt_round_half_even(6.5), 6);
    CHECK_EQ_INT(bgpbt__pbt_round_half_even(7.5), 8);
    CHECK_EQ_INT(bgpbt__pbt_round_half_even(7.4), 7);
}

static void pbt_test_successive_halving_budgets(void) {
    bgpbt_pbt_config c = bgpbt_pbt_config_default();
    long long D = c.distill_budget;
    /* the paper's numbers: N = 25 or 26 students, B = 8: two rungs, D/4 then the rest */
    CHECK_EQ_INT(bgpbt__pbt_sh_rungs(25, 8), 2);
    CHECK_EQ_INT(bgpbt__pbt_sh_rungs(64, 8), 2);
    CHECK_EQ_INT(bgpbt__pbt_sh_rungs(65, 8), 3);
    CHECK_EQ_INT(bgpbt__pbt_sh_rungs(8, 8), 1);
    CHECK_EQ_INT(bgpbt__pbt_sh_target(&c, 0, 2), D / 4);
    CHECK_EQ_INT(bgpbt__pbt_sh_target(&c, 1, 2), D);
    CHECK_EQ_INT(bgpbt__pbt_sh_keep(&c, 25, 0, 2), 12);
    CHECK_EQ_INT(bgpbt__pbt_sh_keep(&c, 26, 0, 2), 13);
    CHECK_EQ_INT(bgpbt__pbt_sh_keep(&c, 12, 1, 2), 8);
    CHECK_EQ_INT(bgpbt__pbt_sh_keep(&c, 10, 0, 2), 8); /* never below B */
    /* 25 x 7.5M + 12 x 22.5M = 457.5M (the report's cost accounting) */
    CHECK_EQ_INT(bgpbt__pbt_sh_cost(&c, 25), 25 * (D / 4) + 12 * (D - D / 4));
    /* alpha: 1 -> 0.05 linearly over 0.8 D, then held */
    CHECK_NEAR(bgpbt_pbt_distill_alpha(&c, 0, D), 1.0, 1e-15);
    CHECK_NEAR(bgpbt_pbt_distill_alpha(&c, (long long)(0.4 * D), D), 0.525, 1e-12);
    CHECK_NEAR(bgpbt_pbt_distill_alpha(&c, (long long)(0.8 * D), D), 0.05, 1e-12);
    CHECK_NEAR(bgpbt_pbt_distill_alpha(&c, D, D), 0.05, 1e-12);
}

static void pbt_test_config_errors(void) {
    bgpbt_pbt_config c = bgpbt_pbt_config_default();
    test_log_capture cap;
    bgpbt_pbt* s = NULL;
    memset(&cap, 0, sizeof cap);
    c.logger.fn = test_log_capture_fn;
    c.logger.user = &cap;
    c.pop_size = -3;
    CHECK_RESULT(bgpbt_pbt_create(&c, &s), BGPBT_ERR_OUT_OF_RANGE);
    CHECK(s == NULL);
    CHECK(cap.count == 1 && strstr(cap.last, "pop_size") != NULL);
    c.pop_size = 8;
    c.n_hp = 1;
    c.hp[0] = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, 1e-2, 1e-3, 1);
    CHECK_RESULT(bgpbt_pbt_create(&c, &s), BGPBT_ERR_EMPTY_RANGE);
    CHECK(strstr(cap.last, "lr") != NULL);
    c.hp[0] = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, 0, 1e-3, 1);
    CHECK_RESULT(bgpbt_pbt_create(&c, &s), BGPBT_ERR_OUT_OF_RANGE);
    c.hp[0] = bgpbt_pbt_param_make("x", BGPBT_PBT_FLOAT, 0, (double)NAN, 0);
    CHECK_RESULT(bgpbt_pbt_create(&c, &s), BGPBT_ERR_NOT_FINITE);
    c.hp[0] = bgpbt_pbt_param_make("x", BGPBT_PBT_INT, 0.5, 3, 0);
    CHECK_RESULT(bgpbt_pbt_create(&c, &s), BGPBT_ERR_INVALID_ARGUMENT);
    c.hp[0] = bgpbt_pbt_param_make("x", BGPBT_PBT_INT, 0, 4e18, 0); /* found by the pbt fuzzer */
    CHECK_RESULT(bgpbt_pbt_create(&c, &s), BGPBT_ERR_OUT_OF_RANGE);
    c.hp[0] = bgpbt_pbt_param_make("x", BGPBT_PBT_FLOAT, 0, 1, 0);
    c.quantile = 0.75;
    CHECK_RESULT(bgpbt_pbt_create(&c, &s), BGPBT_ERR_OUT_OF_RANGE);
    c.quantile = 0;
    c.method = 9;
    CHECK_RESULT(bgpbt_pbt_create(&c, &s), BGPBT_ERR_INVALID_ARGUMENT);
    c.method = 0;
    CHECK_OK(bgpbt_pbt_create(&c, &s));
    CHECK_NEAR(bgpbt_pbt_get_config(s)->quantile, 0.125, 0); /* method defaults */
    CHECK_EQ_INT(bgpbt_pbt_get_config(s)->n_init, 24);
    bgpbt_pbt_destroy(s);
}

static void pbt_test_ask_tell_errors(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_PBT);
    const bgpbt_pbt_round* rd;
    bgpbt_pbt* s;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    CHECK_RESULT(bgpbt_pbt_tell(s, 0, 1.0, 10, 0), BGPBT_ERR_WRONG_ORDER);
    CHECK_OK(bgpbt_pbt_ask(s, &rd));
    CHECK_EQ_INT(rd->n_jobs, 8);
    CHECK_EQ_INT(rd->kind, BGPBT_PBT_ROUND_INIT);
    CHECK_RESULT(bgpbt_pbt_tell(s, 8, 1.0, 10, 0), BGPBT_ERR_OUT_OF_RANGE);
    CHECK_RESULT(bgpbt_pbt_tell(s, 0, 1.0, -1, 0), BGPBT_ERR_OUT_OF_RANGE);
    CHECK_OK(bgpbt_pbt_tell(s, 0, 1.0, 10, 0));
    CHECK_RESULT(bgpbt_pbt_tell(s, 0, 1.0, 10, 0), BGPBT_ERR_WRONG_ORDER);
    {   /* asking again before the round is complete returns the same round */
        const bgpbt_pbt_round* rd2;
        CHECK_OK(bgpbt_pbt_ask(s, &rd2));
        CHECK_EQ_INT(rd2->index, rd->index);
        CHECK_EQ_INT(rd2->jobs[3].agent, 3);
    }
    CHECK_RESULT(bgpbt_pbt_best(s, NULL, NULL, NULL), BGPBT_ERR_WRONG_ORDER);
    bgpbt_pbt_destroy(s);
}

/* PBT: the bottom q copy the top q; floats move by exactly x0.8 or x1.2 (no resampling),
   integers to a neighbour; architecture and steps are copied; the rest continue. */
static void pbt_test_pbt_exploit_explore(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_PBT);
    static pbt_world w;
    const bgpbt_pbt_round* rd;
    bgpbt_pbt* s;
    double hp_before[8][BGPBT_PBT_MAX_HP], rets[8] = {5, 1, 7, 3, 0.5, 6, 2, 4};
    int ids[8], j, k, n_replaced = 0;
    memset(&w, 0, sizeof w);
    c.resample_prob = -1;
    c.quantile = 0.25; /* n = 2: agents with returns 0.5 and 1 copy those with 7 and 6 */
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
    for (j = 0; j < 8; ++j) {
        memcpy(hp_before[j], rd->jobs[j].hp, sizeof hp_before[j]);
        ids[j] = rd->jobs[j].agent;
        CHECK_EQ_INT(rd->jobs[j].parent, -1);
        CHECK_EQ_INT(rd->jobs[j].source, BGPBT_PBT_SRC_RANDOM);
    }
    for (j = 0; j < 8; ++j) CHECK_OK(bgpbt_pbt_tell(s, j, rets[j], rd->jobs[j].steps, 0));
    REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
    REQUIRE(rd->n_jobs == 8);
    CHECK_EQ_INT(rd->kind, BGPBT_PBT_ROUND_TRAIN);
    CHECK_EQ_INT(rd->n_release, 2);
    for (j = 0; j < 8; ++j) {
        const bgpbt_pbt_job* jb = &rd->jobs[j];
        CHECK_EQ_INT(jb->slot, j);
        if (j == 1 || j == 4) {
            n_replaced++;
            CHECK(jb->agent >= 8);
            CHECK(jb->parent == ids[2] || jb->parent == ids[5]);
            CHECK(jb->source == BGPBT_PBT_SRC_PERTURB);
            CHECK_EQ_INT(jb->lineage_steps, 1000);
            CHECK(rd->release[0] == ids[j] || rd->release[1] == ids[j]);
            for (k = 0; k < c.n_hp; ++k) {
                const bgpbt_pbt_param* p = &bgpbt_pbt_get_config(s)->hp[k];
                double src = hp_before[jb->parent == ids[2] ? 2 : 5][k], v = jb->hp[k];
                if (p->type == BGPBT_PBT_INT) {
                    CHECK(fabs(v - src) == 1.0);
                    CHECK(v >= p->lo && v <= p->hi);
                } else if (src * 0.8 >= p->lo && src * 1.2 <= p->hi) {
                    CHECK(fabs(v - src * 0.8) < 1e-12 * src || fabs(v - src * 1.2) < 1e-12 * src);
                } else {
                    CHECK(v >= p->lo && v <= p->hi);
                }
            }
            for (k = 0; k < c.n_arch; ++k) CHECK_EQ_INT(jb->arch[k], rd->jobs[jb->parent == ids[2] ? 2 : 5].arch[k]);
        } else {
            CHECK_EQ_INT(jb->agent, ids[j]);
            CHECK_EQ_INT(jb->parent, ids[j]);
            CHECK_EQ_INT(jb->source, BGPBT_PBT_SRC_PREVIOUS);
            for (k = 0; k < c.n_hp; ++k) CHECK(jb->hp[k] == hp_before[j][k]);
        }
    }
    CHECK_EQ_INT(n_replaced, 2);
    bgpbt_pbt_destroy(s);
}

static void pbt_test_pbt_resample(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_PBT);
    bgpbt_pbt* s;
    double a[BGPBT_PBT_MAX_HP], b[BGPBT_PBT_MAX_HP];
    int k, i, same = 0;
    c.resample_prob = 1.0;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    for (k = 0; k < c.n_hp; ++k) a[k] = bgpbt_pbt_param_decode(&s->cfg.hp[k], 0.5);
    for (i = 0; i < 50; ++i) {
        CHECK_EQ_INT(bgpbt__pbt_perturb(s, a, b), BGPBT_PBT_SRC_RESAMPLE);
        for (k = 0; k < c.n_hp; ++k) {
            CHECK(b[k] >= s->cfg.hp[k].lo && b[k] <= s->cfg.hp[k].hi);
            same += s->cfg.hp[k].type == BGPBT_PBT_FLOAT && b[k] == a[k];
        }
    }
    CHECK_EQ_INT(same, 0);
    /* integers at a bound move inward */
    s->cfg.resample_prob = -1;
    for (k = 0; k < c.n_hp; ++k) a[k] = s->cfg.hp[k].hi;
    for (i = 0; i < 20; ++i) {
        bgpbt__pbt_perturb(s, a, b);
        CHECK_NEAR(b[3], s->cfg.hp[3].hi - 1, 0);
    }
    bgpbt_pbt_destroy(s);
}

/* Random search never exploits; a failed agent stops. */
static void pbt_test_random_search(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_RANDOM);
    static pbt_world w;
    const bgpbt_pbt_round* rd;
    bgpbt_pbt* s;
    int j, rounds = 0, nrows;
    const bgpbt_pbt_row* rows;
    memset(&w, 0, sizeof w);
    w.nan_agent = 3;
    c.max_steps = 5000;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    while (pbt_run_round(s, &w, &rd) == 1) {
        rounds++;
        for (j = 0; j < rd->n_jobs; ++j) {
            if (rounds > 1) CHECK_EQ_INT(rd->jobs[j].parent, rd->jobs[j].agent);
            CHECK(rd->jobs[j].agent < 8);
            if (rounds > 1) CHECK(rd->jobs[j].agent != 3);
        }
        if (rounds > 1) CHECK_EQ_INT(rd->n_jobs, 7);
    }
    CHECK_EQ_INT(rounds, 5);
    CHECK(bgpbt_pbt_done(s));
    rows = bgpbt_pbt_rows(s, &nrows);
    CHECK_EQ_INT(nrows, 8 + 4 * 7);
    CHECK(rows[3].failed && rows[3].ret < -1e300);
    bgpbt_pbt_destroy(s);
}

/* A failed (NaN) agent ranks last, is replaced by exploit at once, and never reaches the GP. */
static void pbt_test_failed_agent(void) {
    int m;
    for (m = 0; m < 3; ++m) {
        int method = m == 0 ? BGPBT_PBT_METHOD_PBT : m == 1 ? BGPBT_PBT_METHOD_PB2 : BGPBT_PBT_METHOD_BGPBT;
        bgpbt_pbt_config c = pbt_small_config(method);
        static pbt_world w;
        const bgpbt_pbt_round* rd;
        bgpbt_pbt* s;
        int j, i, n, nrows, idx[4096], rounds = 0, seen_fail = 0;
        const bgpbt_pbt_row* rows;
        memset(&w, 0, sizeof w);
        c.max_steps = 8000;
        c.hpo_only = 1;
        REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
        w.nan_agent = -1;
        while (pbt_run_round(s, &w, &rd) == 1) {
            rounds++;
            if (rounds == 2) { /* the best agent of round 2 will fail in round 3 */
                int best = -1;
                CHECK_OK(bgpbt_pbt_best(s, &best, NULL, NULL));
                w.nan_agent = best;
            }
            if (rounds == 4) {
                /* round 4: the failed agent was replaced (its id no longer trains) */
                for (j = 0; j < rd->n_jobs; ++j) CHECK(rd->jobs[j].agent != w.nan_agent);
            }
        }
        rows = bgpbt_pbt_rows(s, &nrows);
        for (i = 0; i < nrows; ++i) seen_fail += rows[i].failed;
        CHECK_EQ_INT(seen_fail, 1);
        n = bgpbt__pbt_gp_rows(s, -1, 100000, idx);
        CHECK(n > 0);
        for (i = 0; i < n; ++i) {
            CHECK(!rows[idx[i]].failed);
            CHECK(rows[idx[i]].ret_before == rows[idx[i]].ret_before);
        }
        bgpbt_pbt_destroy(s);
    }
}

/* The GP data: targets (change in return per step), inputs, window, epoch filter and
   normalisation, checked against a log whose numbers are known. */
static void pbt_test_gp_data(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_BGPBT);
    bgpbt_pbt* s;
    bgpbt_pbt_row row;
    bgpbt__pbt_gpdata g;
    int i, idx[16];
    c.hpo_only = 1;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    memset(&row, 0, sizeof row);
    for (i = 0; i < 6; ++i) {
        row.round = i + 2;
        row.kind = BGPBT_PBT_ROUND_TRAIN;
        row.agent = i % 2;
        row.steps_before = 1000 * (i + 1);
        row.steps = row.steps_before + 500;
        row.ret_before = (double)i;
        row.ret = (double)i + 0.5 * (i + 1);
        row.gp_epoch = i < 5 ? 0 : 1;
        row.failed = 0;
        row.hp[0] = 1e-4 * (i + 1);
        row.hp[1] = 0.95;
        if (i == 2) row.failed = 1;
        REQUIRE(bgpbt__pbt_push_row(s, &row) == BGPBT_OK);
    }
    /* epoch 0 has rows 0..4 minus the failed one: 4 rows */
    CHECK_EQ_INT(bgpbt__pbt_gp_rows(s, 0, 100, idx), 4);
    CHECK_EQ_INT(bgpbt__pbt_gp_rows(s, -1, 100, idx), 5);
    CHECK_EQ_INT(bgpbt__pbt_gp_rows(s, -1, 3, idx), 3); /* the window keeps the last ones */
    CHECK_EQ_INT(idx[0], 3);
    CHECK_EQ_INT(idx[2], 5);
    /* targets: (ret - ret_before) / 500 = 0.5 (i + 1) / 500 */
    CHECK_NEAR(bgpbt__pbt_row_target(&s->rows[4]), 2.5 / 500, 1e-15);
    /* BG-PBT data: hp encoded, then R_before min-max over data and pending; copula y */
    REQUIRE(bgpbt__pbt_build_data(s, 0, 10.0, 2, &g) == BGPBT_OK);
    CHECK_EQ_INT(g.n, 4);
    CHECK_EQ_INT(g.d, c.n_hp + 1);
    CHECK_NEAR(g.X[0], bgpbt_pbt_param_encode(&s->cfg.hp[0], 1e-4), 1e-15);
    CHECK_NEAR(g.rb_lo, 0, 0);
    CHECK_NEAR(g.rb_hi, 10, 0); /* the pending R_before widens the range */
    CHECK_NEAR(g.X[(size_t)3 * g.d + c.n_hp], (4 + 1e-8) / (10 + 2e-8), 1e-12);
    CHECK_NEAR(g.t[3], 6, 0);   /* time: round index, not normalised */
    CHECK_NEAR(g.y[0], bgpbt__norm_ppf(1.0 / 5), 1e-12); /* increasing targets: ranks 1..4 */
    CHECK_NEAR(g.y[3], bgpbt__norm_ppf(4.0 / 5), 1e-12);
    bgpbt__pbt_gpdata_free(&g);
    /* PB2 data: [time, R_before] min-max (+1e-8 in the denominator), hp, z-scored y */
    REQUIRE(bgpbt__pbt_build_data(s, 1, 10.0, 0, &g) == BGPBT_OK);
    CHECK_EQ_INT(g.n, 5);
    CHECK_EQ_INT(g.d, 2 + c.n_hp);
    CHECK_NEAR(g.X[0], 0, 1e-15);
    CHECK_NEAR(g.X[(size_t)4 * g.d], (7.0 - 2) / (5 + 1e-8), 1e-12);
    CHECK_NEAR(g.X[(size_t)4 * g.d + 1], 5.0 / (5 + 1e-8), 1e-12);
    {
        double m = 0, v = 0;
        for (i = 0; i < 5; ++i) m += g.y[i];
        for (i = 0; i < 5; ++i) v += g.y[i] * g.y[i];
        CHECK_NEAR(m, 0, 1e-9);
        CHECK_NEAR(v / 5, 1, 1e-4); /* 1e-8 added to a std of 2e-3 */
    }
    bgpbt__pbt_gpdata_free(&g);
    bgpbt_pbt_destroy(s);
}

static void pbt_test_trust_region(void) {
    bgpbt_pbt_config c = bgpbt_pbt_config_default();
    bgpbt_pbt* s;
    int i;
    c.hpo_only = 1;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    CHECK_NEAR(s->tr_len, 0.4, 0);
    bgpbt__pbt_tr_update(s, 1);
    bgpbt__pbt_tr_update(s, 1);
    CHECK_NEAR(s->tr_len, 0.4, 0);
    bgpbt__pbt_tr_update(s, 1); /* 3 consecutive successes: x1.5 */
    CHECK_NEAR(s->tr_len, 0.6, 1e-15);
    bgpbt__pbt_tr_update(s, 1);
    bgpbt__pbt_tr_update(s, 1);
    bgpbt__pbt_tr_update(s, 0); /* a failure resets the success count */
    bgpbt__pbt_tr_update(s, 1);
    bgpbt__pbt_tr_update(s, 1);
    CHECK_NEAR(s->tr_len, 0.6, 1e-15);
    bgpbt__pbt_tr_update(s, 1);
    CHECK_NEAR(s->tr_len, 0.9, 1e-15);
    for (i = 0; i < 3; ++i) bgpbt__pbt_tr_update(s, 1);
    CHECK_NEAR(s->tr_len, 1.0, 1e-15); /* capped at the maximum */
    for (i = 0; i < 9; ++i) bgpbt__pbt_tr_update(s, 0);
    CHECK_NEAR(s->tr_len, 1.0, 1e-15);
    bgpbt__pbt_tr_update(s, 0); /* 10 consecutive failures: /1.5 */
    CHECK_NEAR(s->tr_len, 1.0 / 1.5, 1e-15);
    /* shrinking to the minimum restarts (hpo_only): a new GP epoch, length back to 0.4 */
    CHECK_EQ_INT(s->gp_epoch, 0);
    for (i = 0; i < 30; ++i) bgpbt__pbt_tr_update(s, 0); /* 0.667 -> 0.444 -> 0.296 -> 0.198 */
    CHECK_NEAR(s->tr_len, 1.0 / (1.5 * 1.5 * 1.5 * 1.5), 1e-12);
    for (i = 0; i < 10; ++i) bgpbt__pbt_tr_update(s, 0); /* -> 0.15 (clamped): restart */
    CHECK_EQ_INT(s->gp_epoch, 1);
    CHECK_NEAR(s->tr_len, 0.4, 0);
    bgpbt_pbt_destroy(s);
}

/* BG-PBT: n_init random configurations, the best B kept in rank order, no exploit after init. */
static void pbt_test_bgpbt_init(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_BGPBT);
    const bgpbt_pbt_round* rd;
    bgpbt_pbt* s;
    int j, ids[12];
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
    CHECK_EQ_INT(rd->n_jobs, 12);
    for (j = 0; j < 12; ++j) {
        int k;
        ids[j] = rd->jobs[j].agent;
        CHECK_EQ_INT(rd->jobs[j].arch_source, BGPBT_PBT_SRC_RANDOM);
        for (k = 0; k < 4; ++k) CHECK(rd->jobs[j].arch[k] >= c.arch[k].lo && rd->jobs[j].arch[k] <= c.arch[k].hi);
    }
    for (j = 0; j < 12; ++j) CHECK_OK(bgpbt_pbt_tell(s, j, (double)((j * 5) % 12), 1000, 0));
    REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
    CHECK_EQ_INT(rd->n_jobs, 8);
    CHECK_EQ_INT(rd->n_release, 4);
    /* returns (5j mod 12): best is j = 7 (11), then 2 (10), 9 (9), 4 (8), 11 (7), 6 (6), 1 (5), 8 (4) */
    {
        static const int want[8] = {7, 2, 9, 4, 11, 6, 1, 8};
        for (j = 0; j < 8; ++j) {
            CHECK_EQ_INT(rd->jobs[j].agent, ids[want[j]]);
            CHECK_EQ_INT(rd->jobs[j].parent, ids[want[j]]);
            CHECK_EQ_INT(rd->jobs[j].slot, j);
        }
    }
    bgpbt_pbt_destroy(s);
}

/* The generation switch (patience and distill_every), successive halving and the hand-over. */
static void pbt_test_generations(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_BGPBT);
    const bgpbt_pbt_round* rd;
    bgpbt_pbt* s;
    int j, k, round = 0, teacher = -1, student_ids[64], n_students = 0;
    double teacher_ret = 0;
    long long teacher_steps = 0;
    c.patience = 3;
    c.distill_every = 1000000;
    c.max_generations = 1;
    c.arch_proposal = BGPBT_PBT_ARCH_RANDOM;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    /* init round + 1 improving round, then flat returns: stall 1, 2, 3 -> switch */
    for (;;) {
        REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
        REQUIRE(rd->n_jobs > 0);
        round++;
        if (rd->kind == BGPBT_PBT_ROUND_DISTILL) break;
        for (j = 0; j < rd->n_jobs; ++j) {
            double r = round <= 2 ? (double)rd->jobs[j].agent * round : 1.0;
            CHECK_OK(bgpbt_pbt_tell(s, j, r, rd->jobs[j].steps, 0));
        }
        REQUIRE(round < 20);
    }
    CHECK_EQ_INT(round, 2 + 3 + 1); /* init, the improving round, 3 stalled rounds, then distillation */
    /* students: n_arch_candidates (12) + archive (1) = 13 > B = 8: 2 rungs */
    CHECK_EQ_INT(rd->n_jobs, 13);
    CHECK_EQ_INT(rd->rung, 0);
    CHECK_EQ_INT(bgpbt_pbt_generation(s), 1);
    {
        int ids[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        double rets[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int n = bgpbt_pbt_population(s, ids, rets), b = 0;
        for (k = 1; k < n; ++k) if (rets[k] > rets[b]) b = k;
        teacher = ids[b];
        teacher_ret = rets[b];
        teacher_steps = s->pop[b].steps;
        CHECK(teacher_ret == 1.0);
    }
    CHECK_EQ_INT(rd->n_release, 7); /* everyone but the teacher */
    for (j = 0; j < rd->n_jobs; ++j) {
        const bgpbt_pbt_job* jb = &rd->jobs[j];
        CHECK_EQ_INT(jb->teacher, teacher);
        CHECK_EQ_INT(jb->parent, -1);
        CHECK_EQ_INT(jb->steps, c.distill_budget / 4);
        CHECK_EQ_INT(jb->distill_done, 0);
        CHECK_EQ_INT(jb->distill_total, c.distill_budget);
        CHECK_EQ_INT(jb->lineage_steps, teacher_steps);
        CHECK_EQ_INT(jb->generation, 1);
        student_ids[n_students++] = jb->agent;
    }
    /* candidates: the BO half (6), the archive (the best architecture so far), random (6) */
    CHECK_EQ_INT(rd->jobs[6].arch_source, BGPBT_PBT_SRC_ARCHIVE);
    {
        const bgpbt_pbt_row* rows;
        int nr, i, bi = -1;
        rows = bgpbt_pbt_rows(s, &nr);
        for (i = 0; i < nr; ++i) if (bi < 0 || rows[i].ret > rows[bi].ret) bi = i;
        for (k = 0; k < 4; ++k) CHECK_EQ_INT(rd->jobs[6].arch[k], rows[bi].arch[k]);
    }
    /* rung 0: student j scores j: keep max(B, round(13/2) = 6) = 8 best: j = 12..5 */
    for (j = 0; j < rd->n_jobs; ++j) CHECK_OK(bgpbt_pbt_tell(s, j, (double)j, rd->jobs[j].steps, 0));
    REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
    CHECK_EQ_INT(rd->kind, BGPBT_PBT_ROUND_DISTILL);
    CHECK_EQ_INT(rd->rung, 1);
    CHECK_EQ_INT(rd->n_jobs, 8);
    CHECK_EQ_INT(rd->n_release, 5);
    for (j = 0; j < 8; ++j) {
        const bgpbt_pbt_job* jb = &rd->jobs[j];
        CHECK_EQ_INT(jb->agent, student_ids[12 - j]);
        CHECK_EQ_INT(jb->parent, jb->agent);
        CHECK_EQ_INT(jb->teacher, teacher);
        CHECK_EQ_INT(jb->distill_done, c.distill_budget / 4);
        CHECK_EQ_INT(jb->steps, c.distill_budget - c.distill_budget / 4);
    }
    /* final rung: reverse the order: the new population is ranked by the final returns */
    for (j = 0; j < 8; ++j) CHECK_OK(bgpbt_pbt_tell(s, j, (double)(100 + j), rd->jobs[j].steps, 0));
    REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
    CHECK_EQ_INT(rd->kind, BGPBT_PBT_ROUND_TRAIN);
    CHECK_EQ_INT(rd->n_jobs, 8);
    CHECK_EQ_INT(rd->n_release, 1); /* the teacher */
    CHECK_EQ_INT(rd->release[0], teacher);
    for (j = 0; j < 8; ++j) {
        const bgpbt_pbt_job* jb = &rd->jobs[j];
        CHECK_EQ_INT(jb->agent, student_ids[12 - (7 - j)]);
        CHECK_EQ_INT(jb->parent, jb->agent);
        CHECK_EQ_INT(jb->teacher, -1);
        CHECK_EQ_INT(jb->source, BGPBT_PBT_SRC_DISTILLED);
        CHECK_EQ_INT(jb->slot, j);
        CHECK_EQ_INT(jb->lineage_steps, teacher_steps + c.distill_budget);
        CHECK_EQ_INT(jb->generation, 1);
    }
    CHECK_EQ_INT(s->gp_epoch, 1);
    /* max_generations = 1: no second switch however long it stalls */
    for (k = 0; k < 12 && rd->n_jobs > 0; ++k) {
        CHECK(rd->kind == BGPBT_PBT_ROUND_TRAIN);
        for (j = 0; j < rd->n_jobs; ++j) CHECK_OK(bgpbt_pbt_tell(s, j, 1.0, rd->jobs[j].steps, 0));
        REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
    }
    CHECK_EQ_INT(bgpbt_pbt_generation(s), 1);
    bgpbt_pbt_destroy(s);
}

/* distill_every: improving returns never stall, but the generation is too long. */
static void pbt_test_switch_by_steps(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_BGPBT);
    static pbt_world w;
    const bgpbt_pbt_round* rd;
    bgpbt_pbt* s;
    int round = 0;
    memset(&w, 0, sizeof w);
    w.nan_agent = -1;
    c.distill_every = 4500; /* gen_start = 1000 after init: switch once lineage steps exceed 5500 */
    c.arch_proposal = BGPBT_PBT_ARCH_CODE;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    for (;;) {
        REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
        if (rd->kind == BGPBT_PBT_ROUND_DISTILL) break;
        round++;
        REQUIRE(pbt_run_round(s, &w, NULL) == 1);
        REQUIRE(round < 20);
    }
    CHECK_EQ_INT(round, 6); /* steps 1000..6000: 6000 - 1000 > 4500 after the 6th round */
    {   /* the code's behaviour: two of the "BO" half are the minimal architecture */
        int j, minimal = 0;
        for (j = 0; j < rd->n_jobs; ++j)
            minimal += rd->jobs[j].arch[0] == 1 && rd->jobs[j].arch[1] == 5 && rd->jobs[j].arch[2] == 1 && rd->jobs[j].arch[3] == 5;
        CHECK(minimal >= 2);
        CHECK_EQ_INT(rd->jobs[0].source, BGPBT_PBT_SRC_COPIED);
    }
    bgpbt_pbt_destroy(s);
}

/* Budgets: per-agent max_steps, the whole-run budget, and t_ready annealing. */
static void pbt_test_budgets(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_PBT);
    static pbt_world w;
    const bgpbt_pbt_round* rd;
    bgpbt_pbt* s;
    int rounds = 0;
    memset(&w, 0, sizeof w);
    w.nan_agent = -1;
    c.max_steps = 10500; /* the last round is cut to 500 */
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    while (pbt_run_round(s, &w, &rd) == 1) rounds++;
    CHECK_EQ_INT(rounds, 11);
    CHECK_EQ_INT(bgpbt_pbt_total_steps(s), 8 * 10500);
    bgpbt_pbt_destroy(s);

    c.max_steps = 1000000;
    c.max_total_steps = 8 * 1000 * 5 + 8 * 400; /* 5 full rounds, then 400 < 1000/4? no: 400 >= 250 */
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    rounds = 0;
    while (pbt_run_round(s, &w, &rd) == 1) rounds++;
    CHECK_EQ_INT(rounds, 6);
    CHECK_EQ_INT(bgpbt_pbt_total_steps(s), c.max_total_steps);
    bgpbt_pbt_destroy(s);

    c.max_total_steps = 0;
    c.t_ready = 5000;
    c.t_ready_end = 1000;
    c.max_steps = 40000;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
    CHECK_EQ_INT(rd->jobs[0].steps, 5000);
    REQUIRE(pbt_run_round(s, &w, NULL) == 1);
    REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK);
    CHECK_EQ_INT(rd->jobs[0].steps, 5000 - 4000 * 5000 / 40000); /* T = 5000: 4500 */
    bgpbt_pbt_destroy(s);
}

/* Save at every point of a run (between rounds and mid-round), load into a fresh object, and
   continue both: identical logs. Corrupted and truncated states are refused, target untouched. */
static void pbt_test_save_load(void) {
    int method;
    for (method = 0; method < 4; ++method) {
        bgpbt_pbt_config c = pbt_small_config(method);
        static pbt_world w1, w2;
        bgpbt_pbt *a, *b;
        const bgpbt_pbt_round* rd;
        size_t size = 0, size2 = 0;
        unsigned char* buf;
        int rounds = 0, j, n1, n2;
        const bgpbt_pbt_row *r1, *r2;
        memset(&w1, 0, sizeof w1);
        w1.nan_agent = 5;
        c.max_steps = test_is_fast() ? 9000 : 14000;
        REQUIRE(bgpbt_pbt_create(&c, &a) == BGPBT_OK);
        for (rounds = 0; rounds < 7; ++rounds) if (pbt_run_round(a, &w1, NULL) != 1) break;
        /* mid-round: ask and tell half */
        REQUIRE(bgpbt_pbt_ask(a, &rd) == BGPBT_OK);
        for (j = 0; j < rd->n_jobs / 2; ++j) CHECK_OK(bgpbt_pbt_tell(a, j, 0.1 * j, rd->jobs[j].steps, 0));
        CHECK_OK(bgpbt_pbt_save(a, NULL, 0, &size));
        buf = (unsigned char*)malloc(size);
        REQUIRE(buf != NULL);
        CHECK_RESULT(bgpbt_pbt_save(a, buf, size - 1, &size2), BGPBT_ERR_BUFFER_TOO_SMALL);
        CHECK_OK(bgpbt_pbt_save(a, buf, size, &size2));
        CHECK_EQ_INT(size2, size);
        {
            bgpbt_pbt_config cb = pbt_small_config(BGPBT_PBT_METHOD_PBT);
            REQUIRE(bgpbt_pbt_create(&cb, &b) == BGPBT_OK);
        }
        /* corrupt / truncated: refused, b unchanged */
        {
            size_t sb0 = 0, sb1 = 0;
            unsigned char* before;
            CHECK_OK(bgpbt_pbt_save(b, NULL, 0, &sb0));
            before = (unsigned char*)malloc(sb0);
            REQUIRE(before != NULL);
            CHECK_OK(bgpbt_pbt_save(b, before, sb0, &sb0));
            buf[size / 2] ^= 0x10;
            CHECK_RESULT(bgpbt_pbt_load(b, buf, size), BGPBT_ERR_CHECKSUM);
            buf[size / 2] ^= 0x10;
            CHECK_RESULT(bgpbt_pbt_load(b, buf, size / 3), BGPBT_ERR_TRUNCATED);
            CHECK_RESULT(bgpbt_pbt_load(b, buf, 10), BGPBT_ERR_TRUNCATED);
            CHECK_OK(bgpbt_pbt_save(b, NULL, 0, &sb1));
            CHECK_EQ_INT(sb1, sb0);
            {
                unsigned char* after = (unsigned char*)malloc(sb1);
                REQUIRE(after != NULL);
                CHECK_OK(bgpbt_pbt_save(b, after, sb1, &sb1));
                CHECK(memcmp(before, after, sb0) == 0);
                free(after);
            }
            free(before);
        }
        CHECK_OK(bgpbt_pbt_load(b, buf, size));
        {   /* saving the loaded object gives the same bytes */
            unsigned char* again = (unsigned char*)malloc(size);
            REQUIRE(again != NULL);
            CHECK_OK(bgpbt_pbt_save(b, again, size, &size2));
            CHECK(size2 == size && memcmp(again, buf, size) == 0);
            free(again);
        }
        free(buf);
        /* finish the open round on both, then run both to the end */
        memcpy(&w2, &w1, sizeof w1);
        for (j = rd->n_jobs / 2; j < rd->n_jobs; ++j) {
            CHECK_OK(bgpbt_pbt_tell(a, j, 0.1 * j, rd->jobs[j].steps, 0));
            CHECK_OK(bgpbt_pbt_tell(b, j, 0.1 * j, rd->jobs[j].steps, 0));
        }
        while (pbt_run_round(a, &w1, NULL) == 1) {}
        while (pbt_run_round(b, &w2, NULL) == 1) {}
        r1 = bgpbt_pbt_rows(a, &n1);
        r2 = bgpbt_pbt_rows(b, &n2);
        CHECK_EQ_INT(n1, n2);
        CHECK(n1 > 0 && memcmp(r1, r2, sizeof(bgpbt_pbt_row) * (size_t)n1) == 0);
        CHECK(bgpbt_pbt_done(a) && bgpbt_pbt_done(b));
        bgpbt_pbt_destroy(a);
        bgpbt_pbt_destroy(b);
    }
}

static void pbt_test_out_of_memory(void) {
    long k;
    for (k = 1; k < 40; ++k) {
        test_failing_alloc fa;
        bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_BGPBT);
        bgpbt_pbt* s = NULL;
        bgpbt_result r;
        static pbt_world w;
        memset(&w, 0, sizeof w);
        w.nan_agent = -1;
        c.allocator = test_failing_allocator(&fa, k);
        r = bgpbt_pbt_create(&c, &s);
        if (r == BGPBT_OK) {
            int i;
            for (i = 0; i < 6; ++i) if (pbt_run_round(s, &w, NULL) != 1) break;
            bgpbt_pbt_write_csv(s, "pbt_oom_test.csv");
            bgpbt_pbt_destroy(s);
        } else {
            CHECK_RESULT(r, BGPBT_ERR_OUT_OF_MEMORY);
            CHECK(s == NULL);
        }
        CHECK_EQ_INT(fa.live_blocks, 0);
    }
    remove("pbt_oom_test.csv");
}

static int pbt_file_starts(const char* path, const char* prefix) {
    char buf[64];
    size_t n;
    FILE* f = fopen(path, "rb");
    if (!f) return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strncmp(buf, prefix, strlen(prefix)) == 0;
}

static void pbt_test_csv_and_plots(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_BGPBT);
    static pbt_world w;
    bgpbt_pbt* s;
    FILE* f;
    char line[4096];
    int lines = 0, nrows;
    memset(&w, 0, sizeof w);
    w.nan_agent = -1;
    c.patience = 2;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    while (pbt_run_round(s, &w, NULL) == 1) {}
    bgpbt_pbt_rows(s, &nrows);
    CHECK_OK(bgpbt_pbt_write_csv(s, "pbt_test_log.csv"));
    f = fopen("pbt_test_log.csv", "r");
    REQUIRE(f != NULL);
    if (fgets(line, sizeof line, f)) {
        CHECK(strncmp(line, "round,kind,agent,slot,parent", 28) == 0);
        CHECK(strstr(line, ",lr,gamma,") != NULL);
        CHECK(strstr(line, ",value_log2_width\n") != NULL);
        lines++;
    }
    while (fgets(line, sizeof line, f)) lines++;
    fclose(f);
    CHECK_EQ_INT(lines, nrows + 1);
    CHECK(bgpbt_pbt_generation(s) >= 1);
    CHECK_OK(bgpbt_pbt_write_plots(s, "pbt_test_"));
    CHECK(pbt_file_starts("pbt_test_returns.svg", "<svg"));
    CHECK(pbt_file_starts("pbt_test_schedule.svg", "<svg"));
    CHECK(pbt_file_starts("pbt_test_arch.svg", "<svg"));
    remove("pbt_test_log.csv");
    remove("pbt_test_returns.svg");
    remove("pbt_test_schedule.svg");
    remove("pbt_test_arch.svg");
    bgpbt_pbt_destroy(s);
}

static void pbt_test_io_writers(void) {
    const char* cols[3] = {"a", "b", "c"};
    double v[6] = {1, 2.5, (double)NAN, -4, 1e-12, 6};
    double x[4] = {0, 1, 2, 3}, y[4] = {1, 10, 100, (double)NAN};
    bgpbt_plot_series se;
    bgpbt_plot_panel pn;
    char buf[256];
    size_t n;
    FILE* f;
    CHECK_OK(bgpbt_csv_write("pbt_csv_test.csv", cols, 3, v, 2, NULL));
    f = fopen("pbt_csv_test.csv", "r");
    REQUIRE(f != NULL);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    CHECK(strcmp(buf, "a,b,c\n1,2.5,nan\n-4,1e-12,6\n") == 0);
    remove("pbt_csv_test.csv");
    CHECK_RESULT(bgpbt_csv_write("x.csv", cols, 0, v, 2, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    memset(&se, 0, sizeof se);
    se.label = "a<b";
    se.x = x;
    se.y = y;
    se.n = 4;
    memset(&pn, 0, sizeof pn);
    pn.title = "t";
    pn.log_y = 1;
    pn.series = &se;
    pn.n_series = 1;
    CHECK_OK(bgpbt_svg_write_plots("pbt_svg_test.svg", "T&", &pn, 1, 0, 0, NULL));
    CHECK(pbt_file_starts("pbt_svg_test.svg", "<svg"));
    f = fopen("pbt_svg_test.svg", "r");
    REQUIRE(f != NULL);
    {
        static char big[65536];
        n = fread(big, 1, sizeof big - 1, f);
        big[n] = 0;
        CHECK(strstr(big, "a&lt;b") != NULL);
        CHECK(strstr(big, "T&amp;") != NULL);
        CHECK(strstr(big, "nan") == NULL);
        CHECK(strstr(big, ">100<") != NULL); /* a decade tick on the log axis */
    }
    fclose(f);
    remove("pbt_svg_test.svg");
}

/* A log where the improvement per step grows with the first encoded hyperparameter: PB2 and
   BG-PBT must move it up; BG-PBT must stay inside its trust region. */
static void pbt_fill_rows(bgpbt_pbt* s, int n, uint64_t seed) {
    bgpbt_rng rng;
    bgpbt_pbt_row row;
    int i, k;
    bgpbt_rng_init(&rng, seed, 1);
    for (i = 0; i < n; ++i) {
        double u0;
        memset(&row, 0, sizeof row);
        row.round = 2 + i / 8;
        row.kind = BGPBT_PBT_ROUND_TRAIN;
        row.agent = i % 8;
        row.slot = i % 8;
        row.steps_before = 1000 * (1 + i / 8);
        row.steps = row.steps_before + 1000;
        for (k = 0; k < s->cfg.n_hp; ++k) row.hp[k] = bgpbt_pbt_param_decode(&s->cfg.hp[k], bgpbt_rng_double(&rng));
        for (k = 0; k < s->cfg.n_arch; ++k) row.arch[k] = s->cfg.default_arch[k];
        u0 = bgpbt_pbt_param_encode(&s->cfg.hp[0], row.hp[0]);
        row.ret_before = 1.0 + 0.01 * i;
        row.ret = row.ret_before + 1000 * (0.001 * u0 + 0.0001 * bgpbt_rng_double(&rng));
        bgpbt__pbt_push_row(s, &row);
    }
}

static void pbt_test_bo_explore(void) {
    int m;
    for (m = 0; m < 2; ++m) {
        bgpbt_pbt_config c = pbt_small_config(m == 0 ? BGPBT_PBT_METHOD_BGPBT : BGPBT_PBT_METHOD_PB2);
        bgpbt_pbt* s;
        bgpbt__pbt_member src;
        double out[BGPBT_PBT_MAX_HP], pend[2 * BGPBT_PBT_MAX_HP];
        int parch[2 * BGPBT_PBT_MAX_ARCH], k, tag;
        test_log_capture cap;
        memset(&cap, 0, sizeof cap);
        c.hpo_only = 1;
        c.logger.fn = test_log_capture_fn; /* the BO must not log any error */
        c.logger.user = &cap;
        REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
        /* too little data: random fallback */
        memset(&src, 0, sizeof src);
        for (k = 0; k < c.n_hp; ++k) src.hp[k] = bgpbt_pbt_param_decode(&s->cfg.hp[k], 0.5);
        for (k = 0; k < s->cfg.n_arch; ++k) src.arch[k] = s->cfg.default_arch[k];
        src.ret = 1.2;
        CHECK_EQ_INT(bgpbt__pbt_suggest(s, &src, NULL, NULL, 0, out), BGPBT_PBT_SRC_RANDOM);
        pbt_fill_rows(s, 48, 11);
        s->tr_len = 0.2;
        for (k = 0; k < 2 * BGPBT_PBT_MAX_HP; ++k) pend[k] = src.hp[k % BGPBT_PBT_MAX_HP];
        for (k = 0; k < 2 * BGPBT_PBT_MAX_ARCH; ++k) parch[k] = s->cfg.default_arch[k % BGPBT_PBT_MAX_ARCH];
        tag = bgpbt__pbt_suggest(s, &src, pend, parch, 2, out);
        CHECK_EQ_INT(tag, BGPBT_PBT_SRC_BO);
        for (k = 0; k < c.n_hp; ++k) {
            const bgpbt_pbt_param* p = &s->cfg.hp[k];
            double u = bgpbt_pbt_param_encode(p, out[k]);
            CHECK(out[k] >= p->lo && out[k] <= p->hi);
            if (m == 0) { /* the trust region: centre 0.5, half-length 0.1 (+ half an integer step) */
                double slack = p->type == BGPBT_PBT_INT ? 1.0 / (p->hi - p->lo + 1) : 1e-9;
                CHECK(fabs(u - 0.5) <= 0.1 + slack);
            }
        }
        /* the improvement grows with hp 0: the suggestion moves it up */
        CHECK(bgpbt_pbt_param_encode(&s->cfg.hp[0], out[0]) > (m == 0 ? 0.55 : 0.6));
        CHECK_EQ_INT(cap.count, 0);
        bgpbt_pbt_destroy(s);
    }
}

/* Architecture BO: returns grow with every architecture value; only small architectures were
   tried; the proposals are untried, distinct, and lean to the large ones. */
static void pbt_test_arch_bo(void) {
    bgpbt_pbt_config c = pbt_small_config(BGPBT_PBT_METHOD_BGPBT);
    bgpbt_pbt* s;
    bgpbt_pbt_row row;
    int out[6 * BGPBT_PBT_MAX_ARCH], a, b, k, i, j, got, sum_first = 0;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    CHECK_EQ_INT(bgpbt__pbt_propose_archs(s, 6, out), 0); /* no data */
    memset(&row, 0, sizeof row);
    row.kind = BGPBT_PBT_ROUND_TRAIN;
    for (a = 1; a <= 3; ++a)
        for (b = 5; b <= 6; ++b) {
            row.arch[0] = a; row.arch[1] = b; row.arch[2] = a; row.arch[3] = b;
            row.ret = a + b;
            REQUIRE(bgpbt__pbt_push_row(s, &row) == BGPBT_OK);
            row.ret = a + b - 0.5; /* a worse row of the same architecture: the best counts */
            REQUIRE(bgpbt__pbt_push_row(s, &row) == BGPBT_OK);
        }
    got = bgpbt__pbt_propose_archs(s, 6, out);
    CHECK_EQ_INT(got, 6);
    for (i = 0; i < got; ++i) {
        const int* x = out + i * BGPBT_PBT_MAX_ARCH;
        for (k = 0; k < 4; ++k) CHECK(x[k] >= c.arch[k].lo && x[k] <= c.arch[k].hi);
        CHECK(!(x[0] <= 3 && x[0] == x[2] && x[1] <= 6 && x[1] == x[3])); /* untried */
        for (j = 0; j < i; ++j) CHECK(!bgpbt__pbt_arch_equal(x, out + j * BGPBT_PBT_MAX_ARCH, 4));
    }
    for (k = 0; k < 4; ++k) sum_first += out[k];
    CHECK(sum_first > (1 + 5 + 5 + 8) / 2 + 6); /* above the middle of the space (sum 9.5..19) */
    bgpbt_pbt_destroy(s);
}

/* Each scheduler improves the synthetic task, and the exploiting ones beat their own start. */
static void pbt_test_synthetic_end_to_end(void) {
    int method;
    double final_best[4];
    if (test_skip_slow()) return;
    for (method = 0; method < 4; ++method) {
        bgpbt_pbt_config c = pbt_small_config(method);
        static pbt_world w;
        bgpbt_pbt* s;
        const bgpbt_pbt_row* rows;
        int nrows, i;
        double first_best = -1e300, best;
        memset(&w, 0, sizeof w);
        w.nan_agent = -1;
        c.max_steps = 20000;
        REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
        while (pbt_run_round(s, &w, NULL) == 1) {}
        rows = bgpbt_pbt_rows(s, &nrows);
        for (i = 0; i < nrows; ++i) if (rows[i].round == 1 && rows[i].ret > first_best) first_best = rows[i].ret;
        CHECK_OK(bgpbt_pbt_best(s, NULL, &best, NULL));
        CHECK(best > first_best);
        final_best[method] = best;
        bgpbt_pbt_destroy(s);
    }
    /* the analytic optimum rate is 1 per 1e4 steps: 20000 steps give at most 2.0 (+ the arch bonus) */
    for (method = 0; method < 4; ++method) CHECK(final_best[method] < 2.2);
}

/* ---- the runner, on synthetic agents -------------------------------------------------------- */

/* The stand-in agent of tests/test.h with this suite's learning rule: the analytic rate of
   the hyperparameters, noise, an architecture bonus, and steps that drift per agent. */
static bgpbt_result pbt_s_train(test_sagent_user* u, test_sagent* a, const test_sagent* teacher, const bgpbt_pbt_job* job,
                                double* ret, long long* steps_run) {
    if (teacher && a->skill < 0.5 * teacher->skill) a->skill = 0.5 * teacher->skill;
    a->skill += 1e-4 * (double)job->steps * pbt_rate(&u->cfg, job->hp) * (0.9 + 0.2 * bgpbt_rng_double(&a->rng));
    *ret = a->skill + 0.01 * a->arch0 + 0.02 * bgpbt_rng_double(&a->rng);
    *steps_run = job->steps + 7 * (job->agent % 3); /* like PPO's whole batches: lineages drift apart */
    return BGPBT_OK;
}

static bgpbt_pbt_agent_ops pbt_sops(test_sagent_user* u) {
    u->train = pbt_s_train;
    return test_sagent_ops(u);
}

/* A run stopped after k rounds and resumed from its checkpoint writes the same log as a run
   never interrupted; a corrupted or truncated checkpoint is refused and the previous one used. */
static void pbt_test_run_resume(void) {
    int method, damage;
    for (method = 0; method < 4; ++method) {
        test_sagent_user u;
        bgpbt_pbt_agent_ops ops;
        bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
        bgpbt_pbt_run_result res;
        char *a, *b;
        size_t na, nb;
        if (test_is_fast() && method != BGPBT_PBT_METHOD_PBT) continue; /* --fast: the GP-free PBT only */
        rc.pbt = pbt_small_config(method);
        rc.pbt.max_steps = 12000;
        rc.pbt.patience = 3;
        memset(&u, 0, sizeof u);
        u.fail_id = -1;
        REQUIRE(bgpbt__pbt_resolve(&rc.pbt, &u.cfg) == BGPBT_OK);
        ops = pbt_sops(&u);
        rc.ops = &ops;
        rc.progress = 0;
        rc.threads = 2;
        rc.out_prefix = "pbt_run_a_";
        test_remove_run("pbt_run_a_");
        CHECK_OK(bgpbt_pbt_run(&rc, &res));
        CHECK(res.finished);
        CHECK_EQ_INT(res.resumed_at, 0);
        a = test_read_file("pbt_run_a_log.csv", &na);
        REQUIRE(a != NULL && na > 100);
        CHECK(pbt_file_starts("pbt_run_a_best.agent", "") && pbt_file_starts("pbt_run_a_returns.svg", "<svg"));
        {   /* a finished run resumes to "finished" at once, with the same best */
            bgpbt_pbt_run_result again;
            rc.resume = 1;
            if (test__verbose) rc.pbt.logger.fn = bgpbt_log_stderr;
            CHECK_OK(bgpbt_pbt_run(&rc, &again));
            rc.pbt.logger.fn = NULL;
            CHECK(again.finished);
            CHECK_EQ_INT(again.rounds, res.rounds);
            CHECK(again.best_return == res.best_return);
        }
        for (damage = 0; damage < 3; ++damage) {
            test_log_capture cap;
            memset(&cap, 0, sizeof cap);
            rc.out_prefix = "pbt_run_b_";
            test_remove_run("pbt_run_b_");
            rc.max_rounds = 4;
            rc.threads = 1;
            rc.resume = 1;
            CHECK_OK(bgpbt_pbt_run(&rc, &res));
            CHECK_EQ_INT(res.rounds, 4);
            CHECK(!res.finished);
            if (damage > 0) { /* break the newest checkpoint: corrupt a byte, or truncate it */
                size_t n;
                char* c = test_read_file("pbt_run_b_checkpoint.bgpbt", &n);
                FILE* f;
                REQUIRE(c != NULL && n > 64);
                if (damage == 1) c[n - 10] ^= 0x5A;
                f = fopen("pbt_run_b_checkpoint.bgpbt", "wb");
                REQUIRE(f != NULL);
                fwrite(c, 1, damage == 1 ? n : n / 2, f);
                fclose(f);
                free(c);
            }
            rc.max_rounds = 0;
            rc.pbt.logger.fn = test_log_capture_fn;
            rc.pbt.logger.user = &cap;
            CHECK_OK(bgpbt_pbt_run(&rc, &res));
            rc.pbt.logger.fn = NULL;
            CHECK_EQ_INT(res.resumed_at, damage == 0 ? 4 : 3);
            CHECK(res.finished);
            if (damage > 0) CHECK(cap.count >= 2); /* the refusal, then the fallback */
            b = test_read_file("pbt_run_b_log.csv", &nb);
            REQUIRE(b != NULL);
            CHECK(na == nb && memcmp(a, b, na) == 0);
            free(b);
        }
        /* both checkpoints broken: the run refuses to start and leaves the files alone */
        {
            size_t n1, n2;
            char* c;
            FILE* f;
            rc.max_rounds = 2;
            test_remove_run("pbt_run_b_");
            rc.resume = 1;
            CHECK_OK(bgpbt_pbt_run(&rc, &res));
            CHECK_OK(bgpbt_pbt_run(&rc, &res)); /* now there is a .prev too */
            c = test_read_file("pbt_run_b_checkpoint.bgpbt", &n1);
            REQUIRE(c != NULL);
            f = fopen("pbt_run_b_checkpoint.bgpbt", "wb");
            fwrite(c, 1, n1 / 3, f);
            fclose(f);
            free(c);
            c = test_read_file("pbt_run_b_checkpoint.bgpbt.prev", &n2);
            REQUIRE(c != NULL);
            c[40] ^= 1;
            f = fopen("pbt_run_b_checkpoint.bgpbt.prev", "wb");
            fwrite(c, 1, n2, f);
            fclose(f);
            free(c);
            CHECK(bgpbt_pbt_run(&rc, &res) != BGPBT_OK);
            c = test_read_file("pbt_run_b_checkpoint.bgpbt", &n2);
            CHECK(c != NULL && n2 == n1 / 3);
            free(c);
        }
        free(a);
        test_remove_run("pbt_run_a_");
        test_remove_run("pbt_run_b_");
    }
}

/* An agent whose training fails does not stop the run. */
static void pbt_test_run_failed_agent(void) {
    test_sagent_user u;
    bgpbt_pbt_agent_ops ops;
    bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
    bgpbt_pbt_run_result res;
    size_t n;
    char* csv;
    rc.pbt = pbt_small_config(BGPBT_PBT_METHOD_PB2);
    rc.pbt.max_steps = 8000;
    memset(&u, 0, sizeof u);
    u.fail_id = 5;
    REQUIRE(bgpbt__pbt_resolve(&rc.pbt, &u.cfg) == BGPBT_OK);
    ops = pbt_sops(&u);
    rc.ops = &ops;
    rc.progress = 0;
    rc.out_prefix = "pbt_run_f_";
    CHECK_OK(bgpbt_pbt_run(&rc, &res));
    CHECK(res.finished);
    CHECK(res.best_return > 0);
    csv = test_read_file("pbt_run_f_log.csv", &n);
    REQUIRE(csv != NULL);
    {   /* agent 5, round 1: failed, return -inf */
        const char* line = strstr(csv, "\n1,init,5,5,-1,-1,0,0,random,previous,1,0,1000,");
        CHECK(line != NULL);
        if (line) {
            const char* end = strchr(line + 1, '\n');
            const char* hit = strstr(line, ",nan,-inf,");
            CHECK(hit != NULL && (!end || hit < end));
        }
    }
    free(csv);
    test_remove_run("pbt_run_f_");
}

/* ---- PPO end to end: each scheduler on a small control task improves its best return ------- */

typedef struct pbt_pm_state { float x, v, g; } pbt_pm_state;
static void pbt_pm_reset(void* st, bgpbt_rng* rng, float* obs, void* u) {
    pbt_pm_state* s = (pbt_pm_state*)st;
    (void)u;
    s->x = (float)bgpbt_rng_uniform(rng, -1, 1);
    s->v = 0;
    s->g = (float)bgpbt_rng_uniform(rng, -1, 1);
    obs[0] = s->x; obs[1] = s->v; obs[2] = s->g;
}
static void pbt_pm_step(void* st, const float* a, bgpbt_rng* rng, float* obs, float* r, int* term, void* u) {
    pbt_pm_state* s = (pbt_pm_state*)st;
    (void)u; (void)rng;
    s->v = 0.9f * s->v + 0.1f * a[0];
    s->x += 0.1f * s->v;
    *r = -fabsf(s->x - s->g) - 0.01f * a[0] * a[0];
    *term = 0;
    obs[0] = s->x; obs[1] = s->v; obs[2] = s->g;
}

static void pbt_test_ppo_end_to_end(void) {
    static bgpbt_env_def def;
    int method;
    if (test_skip_slow()) return;
    memset(&def, 0, sizeof def);
    def.name = "point";
    def.obs_dim = 3;
    def.act_dim = 1;
    def.max_episode_steps = 50;
    def.state_bytes = sizeof(pbt_pm_state);
    def.reset = pbt_pm_reset;
    def.step = pbt_pm_step;
    for (method = 0; method < 4; ++method) {
        bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
        bgpbt_pbt_run_result res;
        bgpbt_pbt_config* c = &rc.pbt;
        bgpbt_pbt* dummy = NULL;
        double first_best = -1e300;
        size_t n;
        char* csv;
        c->method = method;
        c->seed = 3;
        c->pop_size = 4;
        c->n_init = method == BGPBT_PBT_METHOD_BGPBT ? 6 : 0;
        c->n_arch_candidates = 6;
        c->t_ready = 4000;
        c->max_steps = method == BGPBT_PBT_METHOD_BGPBT ? 40000 : 24000; /* room after a switch */
        c->distill_budget = 4000;
        c->distill_every = 8000;
        c->n_hp = 2;
        c->hp[0] = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, 1e-4, 1e-2, 1);
        c->hp[1] = bgpbt_pbt_param_make("entropy_cost", BGPBT_PBT_FLOAT, 1e-5, 1e-2, 1);
        c->n_arch = 2;
        c->arch[0] = bgpbt_pbt_param_make("policy_layers", BGPBT_PBT_INT, 1, 2, 0);
        c->arch[1] = bgpbt_pbt_param_make("policy_log2_width", BGPBT_PBT_INT, 4, 5, 0);
        c->default_arch[0] = 2;
        c->default_arch[1] = 5;
        rc.agent.env_def = &def;
        rc.agent.num_envs = 8;
        rc.agent.eval_episodes = 8;
        rc.agent.env_threads = 1;
        rc.agent.hparams.batch_size = 16;
        rc.agent.hparams.num_minibatches = 4;
        rc.agent.hparams.unroll_length = 10;
        rc.agent.arch.value_layers = 2;
        rc.agent.arch.value_width = 32;
        rc.progress = 0;
        rc.out_prefix = "pbt_ppo_";
        CHECK_OK(bgpbt_pbt_run(&rc, &res));
        CHECK(res.finished);
        csv = test_read_file("pbt_ppo_log.csv", &n);
        REQUIRE(csv != NULL);
        {   /* the best return of round 1, from the log */
            char* line = strchr(csv, '\n');
            while (line && line[1]) {
                int round = atoi(line + 1);
                if (round == 1) {
                    int k;
                    char* p = line + 1;
                    for (k = 0; k < 15 && p; ++k) { p = strchr(p, ','); if (p) p++; }
                    if (p && atof(p) > first_best) first_best = atof(p);
                }
                line = strchr(line + 1, '\n');
            }
        }
        free(csv);
        CHECK(first_best > -1e300);
        if (test__verbose) printf("  %s: round-1 best %.3f, final best %.3f, %lld steps, %.1f s\n", bgpbt_pbt_method_name(method), first_best, res.best_return, res.total_steps, res.seconds);
        CHECK(res.best_return > first_best);
        (void)dummy;
        test_remove_run("pbt_ppo_");
    }
}

void suite_pbt(void) {
    RUN(pbt_test_encode);
    RUN(pbt_test_math_helpers);
    RUN(pbt_test_successive_halving_budgets);
    RUN(pbt_test_config_errors);
    RUN(pbt_test_ask_tell_errors);
    RUN(pbt_test_pbt_exploit_explore);
    RUN(pbt_test_pbt_resample);
    RUN(pbt_test_random_search);
    RUN(pbt_test_failed_agent);
    RUN(pbt_test_gp_data);
    RUN(pbt_test_trust_region);
    RUN(pbt_test_bgpbt_init);
    RUN(pbt_test_generations);
    RUN(pbt_test_switch_by_steps);
    RUN(pbt_test_budgets);
    RUN(pbt_test_save_load);
    RUN(pbt_test_out_of_memory);
    RUN(pbt_test_csv_and_plots);
    RUN(pbt_test_io_writers);
    RUN(pbt_test_bo_explore);
    RUN(pbt_test_arch_bo);
    RUN(pbt_test_synthetic_end_to_end);
    RUN(pbt_test_run_resume);
    RUN(pbt_test_run_failed_agent);
    RUN(pbt_test_ppo_end_to_end);
}
