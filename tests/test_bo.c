/* Suite bo: search space, trust-region rules, acquisition, ask/tell, optimisation quality. */

static double bo_branin(const double* x, int d, void* u) {
    double a = 1, b = 5.1 / (4 * 3.14159265358979323846 * 3.14159265358979323846), c = 5 / 3.14159265358979323846;
    double r = 6, s = 10, t = 1 / (8 * 3.14159265358979323846);
    (void)d; (void)u;
    return a * pow(x[1] - b * x[0] * x[0] + c * x[0] - r, 2) + s * (1 - t) * cos(x[0]) + s;
}
static double bo_hartmann6(const double* x, int d, void* u) {
    static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
    static const double P[4][6] = {{1312, 1696, 5569, 124, 8283, 5886}, {2329, 4135, 8307, 3736, 1004, 9991},
                                   {2348, 1451, 3522, 2883, 3047, 6650}, {4047, 8828, 8732, 5743, 1091, 381}};
    static const double al[4] = {1, 1.2, 3, 3.2};
    double s = 0;
    int i, j;
    (void)d; (void)u;
    for (i = 0; i < 4; ++i) {
        double e = 0;
        for (j = 0; j < 6; ++j) { double q = x[j] - P[i][j] * 1e-4; e += A[i][j] * q * q; }
        s -= al[i] * exp(-e);
    }
    return s;
}
static double bo_ackley(const double* x, int d, void* u) {
    double s1 = 0, s2 = 0;
    int i;
    (void)u;
    for (i = 0; i < d; ++i) { s1 += x[i] * x[i]; s2 += cos(2 * 3.14159265358979323846 * x[i]); }
    return -20 * exp(-0.2 * sqrt(s1 / d)) - exp(s2 / d) + 20 + 2.718281828459045;
}

static int bo_cmp(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}
static double bo_median(double* v, int n) { qsort(v, (size_t)n, sizeof *v, bo_cmp); return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]); }

static double bo_random_search(const bgpbt_bo_space* s, bgpbt_bo_objective f, int budget, uint64_t seed) {
    bgpbt_rng r;
    double v[BGPBT_BO_MAX_DIM], best = HUGE_VAL;
    int i;
    bgpbt_rng_init(&r, seed, 77);
    for (i = 0; i < budget; ++i) {
        double y;
        bgpbt_bo_space_sample(s, &r, v);
        y = f(v, s->dim, NULL);
        if (y < best) best = y;
    }
    return best;
}

static double bo_run(const bgpbt_bo_config* c, bgpbt_bo_objective f, int budget) {
    bgpbt_bo* bo = NULL;
    double best = HUGE_VAL;
    if (bgpbt_bo_create(c, &bo) != BGPBT_OK) return HUGE_VAL;
    CHECK_OK(bgpbt_bo_minimize(bo, f, NULL, budget, 1, NULL, NULL));
    CHECK_OK(bgpbt_bo_best(bo, NULL, &best));
    bgpbt_bo_destroy(bo);
    return best;
}

static void bo_space_encoding_and_errors(void) {
    bgpbt_bo_space s;
    test_log_capture cap;
    bgpbt_logger lg;
    double v[5], u[5], w[5];
    int idx;
    memset(&cap, 0, sizeof cap);
    lg.fn = test_log_capture_fn;
    lg.user = &cap;
    bgpbt_bo_space_init(&s, &lg);
    CHECK_OK(bgpbt_bo_space_add_float(&s, "lr", 1e-4, 1e-2, 1));
    CHECK_OK(bgpbt_bo_space_add_float(&s, "gamma", 0.9, 1.0, 0));
    CHECK_OK(bgpbt_bo_space_add_int(&s, "epochs", 2, 16, 0));
    CHECK_OK(bgpbt_bo_space_add_int(&s, "batch", 64, 1024, 1));
    CHECK_OK(bgpbt_bo_space_add_categorical(&s, "act", 3));
    CHECK_EQ_INT(s.dim, 5);
    v[0] = 1e-3; v[1] = 0.95; v[2] = 2; v[3] = 1024; v[4] = 2;
    CHECK_OK(bgpbt_bo_space_encode(&s, v, u));
    CHECK_NEAR(u[0], 0.5, 1e-12);                      /* log midpoint */
    CHECK_NEAR(u[1], 0.5, 1e-12);
    CHECK_NEAR(u[2], 0.5 / 15.0, 1e-12);               /* (v - lo + 0.5) / (hi - lo + 1) */
    CHECK_NEAR(u[3], (log(1024.0) - log(63.5)) / (log(1024.5) - log(63.5)), 1e-12);
    CHECK(u[4] == 2.0);                                /* categorical: the index */
    bgpbt_bo_space_decode(&s, u, w);
    CHECK_NEAR(w[0], v[0], 1e-15);
    CHECK_NEAR(w[1], v[1], 1e-15);
    CHECK(w[2] == 2 && w[3] == 1024 && w[4] == 2);
    { /* every integer round-trips, and the cells have equal width */
        int k;
        for (k = 2; k <= 16; ++k) {
            double x = k, uu, back;
            bgpbt_bo_param* p = &s.params[2];
            v[2] = x;
            CHECK_OK(bgpbt_bo_space_encode(&s, v, u));
            uu = u[2];
            CHECK_NEAR(uu, (k - 2 + 0.5) / 15.0, 1e-12);
            u[2] = uu + 0.49 / 15.0;
            bgpbt_bo_space_decode(&s, u, w);
            back = w[2];
            CHECK(back == x);
            (void)p;
        }
    }
    CHECK_OK(bgpbt_bo_space_find(&s, "epochs", &idx));
    CHECK_EQ_INT(idx, 2);
    CHECK_RESULT(bgpbt_bo_space_find(&s, "nope", &idx), BGPBT_ERR_UNKNOWN_NAME);
    CHECK(strstr(cap.last, "nope") != NULL);
    CHECK_RESULT(bgpbt_bo_space_add_float(&s, "rev", 1.0, 0.5, 0), BGPBT_ERR_EMPTY_RANGE);
    CHECK_RESULT(bgpbt_bo_space_add_float(&s, "empty", 1.0, 1.0, 0), BGPBT_ERR_EMPTY_RANGE);
    CHECK_RESULT(bgpbt_bo_space_add_float(&s, "lg", 0.0, 1.0, 1), BGPBT_ERR_OUT_OF_RANGE);
    CHECK_RESULT(bgpbt_bo_space_add_int(&s, "lgi", -1, 4, 1), BGPBT_ERR_OUT_OF_RANGE);
    CHECK_RESULT(bgpbt_bo_space_add_float(&s, "lr", 0, 1, 0), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(bgpbt_bo_space_add_categorical(&s, "one", 1), BGPBT_ERR_OUT_OF_RANGE);
    CHECK_RESULT(bgpbt_bo_space_add_float(&s, "nan", NAN, 1, 0), BGPBT_ERR_NOT_FINITE);
    CHECK_EQ_INT(s.dim, 5);
    v[0] = 1e-3; v[1] = 0.95; v[2] = 2; v[3] = 1024; v[4] = 2;
    v[2] = 17;
    CHECK_RESULT(bgpbt_bo_space_check(&s, v), BGPBT_ERR_OUT_OF_RANGE);
    v[2] = 2.5;
    CHECK_RESULT(bgpbt_bo_space_check(&s, v), BGPBT_ERR_OUT_OF_RANGE);
    v[2] = 2; v[4] = 3;
    CHECK_RESULT(bgpbt_bo_space_check(&s, v), BGPBT_ERR_OUT_OF_RANGE);
    v[4] = 0; v[1] = NAN;
    CHECK_RESULT(bgpbt_bo_space_check(&s, v), BGPBT_ERR_NOT_FINITE);
    {
        bgpbt_bo_space big;
        int k;
        char nm[16];
        bgpbt_bo_space_init(&big, NULL);
        for (k = 0; k < BGPBT_BO_MAX_DIM; ++k) { sprintf(nm, "x%d", k); CHECK_OK(bgpbt_bo_space_add_float(&big, nm, 0, 1, 0)); }
        CHECK_RESULT(bgpbt_bo_space_add_float(&big, "one_more", 0, 1, 0), BGPBT_ERR_LIMIT);
    }
}

static bgpbt_bo* bo_make_simple(bgpbt_bo_tr_config tr, int ncont, int ncat) {
    bgpbt_bo_config c = bgpbt_bo_config_default();
    bgpbt_bo* bo = NULL;
    int i;
    char nm[16];
    for (i = 0; i < ncont; ++i) { sprintf(nm, "x%d", i); bgpbt_bo_space_add_float(&c.space, nm, 0, 1, 0); }
    for (i = 0; i < ncat; ++i) { sprintf(nm, "c%d", i); bgpbt_bo_space_add_categorical(&c.space, nm, 4); }
    c.tr = tr;
    CHECK_OK(bgpbt_bo_create(&c, &bo));
    return bo;
}

static void bo_trust_region_rules(void) {
    bgpbt_bo* bo = bo_make_simple(bgpbt_bo_tr_bgpbt(), 2, 0);
    bgpbt_bo_tr_state s;
    int i, due = 0;
    REQUIRE(bo);
    bgpbt_bo_tr_get(bo, &s);
    CHECK_NEAR(s.length, 0.4, 1e-15);
    /* expansion after succ_tol = 3 successes, not before */
    bgpbt_bo_tr_report(bo, 1);
    bgpbt_bo_tr_report(bo, 1);
    bgpbt_bo_tr_get(bo, &s);
    CHECK_NEAR(s.length, 0.4, 1e-15);
    CHECK_EQ_INT(s.succ, 2);
    bgpbt_bo_tr_report(bo, 1);
    bgpbt_bo_tr_get(bo, &s);
    CHECK_NEAR(s.length, 0.6, 1e-15);
    CHECK_EQ_INT(s.succ, 0);
    /* a failure resets the success count */
    bgpbt_bo_tr_report(bo, 1);
    bgpbt_bo_tr_report(bo, 0);
    bgpbt_bo_tr_get(bo, &s);
    CHECK_EQ_INT(s.succ, 0);
    CHECK_EQ_INT(s.fail, 1);
    /* up to L_max = 1 */
    for (i = 0; i < 9; ++i) bgpbt_bo_tr_report(bo, 1);
    bgpbt_bo_tr_get(bo, &s);
    CHECK_NEAR(s.length, 1.0, 1e-15);
    /* shrink after fail_tol = 10 failures; restart due exactly when L reaches L_min = 0.15:
       1 -> 0.667 -> 0.444 -> 0.296 -> 0.198 -> 0.15 */
    bgpbt_bo_tr_reset(bo);
    for (i = 0; i < 9; ++i) CHECK_EQ_INT(bgpbt_bo_tr_report(bo, 0), 0);
    bgpbt_bo_tr_get(bo, &s);
    CHECK_NEAR(s.length, 0.4, 1e-15);
    CHECK_EQ_INT(bgpbt_bo_tr_report(bo, 0), 0);
    bgpbt_bo_tr_get(bo, &s);
    CHECK_NEAR(s.length, 0.4 / 1.5, 1e-15);
    for (i = 11; i <= 30 && !due; ++i) due = bgpbt_bo_tr_report(bo, 0);
    CHECK_EQ_INT(i - 1, 30); /* 0.4 -> 0.267 -> 0.178 -> 0.15 (clamped): due at the 30th failure */
    bgpbt_bo_tr_get(bo, &s);
    CHECK_NEAR(s.length, 0.15, 1e-15);
    bgpbt_bo_tr_reset(bo);
    bgpbt_bo_tr_get(bo, &s);
    CHECK_NEAR(s.length, 0.4, 1e-15);
    CHECK_EQ_INT(s.fail, 0);
    bgpbt_bo_destroy(bo);

    /* CASMOPOLITAN's Hamming radius: 20 -> 13 -> 8 -> 5 -> 3 -> 2 -> 1 (int truncation), restart at 1 */
    bo = bo_make_simple(bgpbt_bo_tr_casmopolitan(), 1, 3);
    REQUIRE(bo);
    {
        static const double want[6] = {13, 8, 5, 3, 2, 1};
        int k;
        for (k = 0; k < 6; ++k) {
            int r = 0;
            for (i = 0; i < 40; ++i) r = bgpbt_bo_tr_report(bo, 0);
            bgpbt_bo_tr_get(bo, &s);
            CHECK_NEAR(s.cat_length, want[k], 0);
            CHECK_EQ_INT(r, k == 5); /* due only when the radius reaches its minimum 1 */
        }
        bgpbt_bo_tr_reset(bo);
        for (i = 0; i < 3; ++i) bgpbt_bo_tr_report(bo, 1);
        bgpbt_bo_tr_get(bo, &s);
        CHECK_NEAR(s.cat_length, 30, 0); /* int(min(1.5 * 20, 30)) */
        CHECK_NEAR(s.length, 1.2, 1e-15);
    }
    bgpbt_bo_destroy(bo);
}

/* The box: centre +- L/2 with a shared lengthscale; with ARD, weights with product 1 */
static void bo_box_and_hamming_ball(void) {
    bgpbt_bo_config c = bgpbt_bo_config_default();
    bgpbt_bo* bo = NULL;
    double X[30 * 4], y[30], center[4] = {0.5, 0.5, 1, 2}, out[4 * 4], lo[4], hi[4];
    bgpbt_rng r;
    int i, j, ham = -1;
    bgpbt_bo_request req;
    bgpbt_rng_init(&r, 8, 0);
    bgpbt_bo_space_add_float(&c.space, "a", 0, 1, 0);
    bgpbt_bo_space_add_float(&c.space, "b", 0, 1, 0);
    bgpbt_bo_space_add_categorical(&c.space, "c", 3);
    bgpbt_bo_space_add_categorical(&c.space, "d", 4);
    c.tr = bgpbt_bo_tr_casmopolitan();
    c.tr.cat_length_init = 1;  /* Hamming radius 1 */
    c.tr.cat_length_min = 1;
    c.gp.ard = 0;
    c.acq = BGPBT_BO_ACQ_LCB;
    CHECK_OK(bgpbt_bo_create(&c, &bo));
    REQUIRE(bo);
    for (i = 0; i < 30; ++i) {
        X[4 * i] = bgpbt_rng_double(&r);
        X[4 * i + 1] = bgpbt_rng_double(&r);
        X[4 * i + 2] = (double)bgpbt_rng_below(&r, 3);
        X[4 * i + 3] = (double)bgpbt_rng_below(&r, 4);
        y[i] = pow(X[4 * i] - 0.3, 2) + X[4 * i + 2] + 0.5 * (X[4 * i + 3] != 1);
    }
    CHECK_RESULT(bgpbt_bo_tr_box(bo, lo, hi, &ham), BGPBT_ERR_WRONG_ORDER);
    CHECK_OK(bgpbt_bo_set_data(bo, X, NULL, y, 30));
    memset(&req, 0, sizeof req);
    req.center = center;
    CHECK_OK(bgpbt_bo_suggest(bo, &req, 4, out));
    CHECK_OK(bgpbt_bo_tr_box(bo, lo, hi, &ham));
    CHECK_NEAR(lo[0], 0.5 - 0.4, 1e-12);
    CHECK_NEAR(hi[0], 0.5 + 0.4, 1e-12);
    CHECK_EQ_INT(ham, 1);
    for (i = 0; i < 4; ++i) {
        int h = (out[4 * i + 2] != 1) + (out[4 * i + 3] != 2);
        CHECK(h <= 1);
        for (j = 0; j < 2; ++j) CHECK(out[4 * i + j] >= lo[j] - 1e-12 && out[4 * i + j] <= hi[j] + 1e-12);
    }
    bgpbt_bo_destroy(bo);
    /* ARD: weights normalised to geometric mean 1: the box volume stays L^d */
    c = bgpbt_bo_config_default();
    bgpbt_bo_space_add_float(&c.space, "a", 0, 1, 0);
    bgpbt_bo_space_add_float(&c.space, "b", 0, 1, 0);
    c.tr.length_init = 0.2;
    c.tr.length_min = 0.01;
    c.tr.length_max = 1.6;
    c.tr.cat_length_init = c.tr.cat_length_min = c.tr.cat_length_max = 1;
    c.tr.multiplier = 1.5; c.tr.succ_tol = 3; c.tr.fail_tol = 5;
    CHECK_OK(bgpbt_bo_create(&c, &bo));
    REQUIRE(bo);
    for (i = 0; i < 30; ++i) { X[2 * i] = bgpbt_rng_double(&r); X[2 * i + 1] = bgpbt_rng_double(&r); y[i] = sin(8 * X[2 * i]) + 0.05 * X[2 * i + 1]; }
    CHECK_OK(bgpbt_bo_set_data(bo, X, NULL, y, 30));
    center[0] = 0.5; center[1] = 0.5;
    CHECK_OK(bgpbt_bo_suggest(bo, &req, 1, out));
    CHECK_OK(bgpbt_bo_tr_box(bo, lo, hi, NULL));
    CHECK_NEAR((hi[0] - lo[0]) * (hi[1] - lo[1]), 0.2 * 0.2, 1e-12);
    CHECK(hi[0] - lo[0] < hi[1] - lo[1]); /* the wiggly dim gets the narrow side */
    bgpbt_bo_destroy(bo);
}

/* Every acquisition on a 1-D toy: data low near 0.2; a near-greedy setting picks a point near 0.2 */
static void bo_acquisition_signs(void) {
    int acq;
    for (acq = 0; acq < 4; ++acq) {
        bgpbt_bo_config c = bgpbt_bo_config_default();
        bgpbt_bo* bo = NULL;
        double X[9], y[9], out[1];
        int i;
        bgpbt_bo_space_add_float(&c.space, "x", 0, 1, 0);
        c.acq = (bgpbt_bo_acq_kind)acq;
        c.beta = 0.01;
        c.tr.global = 1;
        c.seed = 3;
        CHECK_OK(bgpbt_bo_create(&c, &bo));
        REQUIRE(bo);
        for (i = 0; i < 9; ++i) { X[i] = i / 8.0; y[i] = (X[i] - 0.22) * (X[i] - 0.22); }
        CHECK_OK(bgpbt_bo_set_data(bo, X, NULL, y, 9));
        CHECK_OK(bgpbt_bo_suggest(bo, NULL, 1, out));
        CHECK_NEAR(out[0], 0.22, 0.08);
        if (acq == 1) { /* a huge request beta makes LCB pure exploration: away from the data */
            bgpbt_bo_request req;
            memset(&req, 0, sizeof req);
            req.beta = 1e6;
            CHECK_OK(bgpbt_bo_suggest(bo, &req, 1, out));
            CHECK(fabs(out[0] - floor(out[0] * 8 + 0.5) / 8) > 0.03); /* between data points */
        }
        bgpbt_bo_destroy(bo);
    }
}

/* Context dims stay at the given value; frozen dims at the centre; time-varying data */
static void bo_context_frozen_and_time(void) {
    bgpbt_bo_config c = bgpbt_bo_config_default();
    bgpbt_bo* bo = NULL;
    double X[40 * 4], t[40], y[40], center[4], out[3 * 4], pend[2 * 4];
    unsigned char frozen[4] = {0, 0, 1, 0};
    bgpbt_bo_request req;
    bgpbt_rng r;
    int i;
    bgpbt_rng_init(&r, 4, 0);
    bgpbt_bo_space_add_float(&c.space, "lr", 1e-4, 1e-2, 1);
    bgpbt_bo_space_add_int(&c.space, "epochs", 1, 20, 0);
    bgpbt_bo_space_add_int(&c.space, "layers", 1, 4, 0);
    bgpbt_bo_space_add_context(&c.space, "r_before", 0, 0); /* auto-ranged */
    c.time_varying = 1;
    c.acq = BGPBT_BO_ACQ_LCB;
    c.tr = bgpbt_bo_tr_bgpbt();
    c.gp.ard = 0;
    c.gp.output = BGPBT_GP_COPULA;
    CHECK_OK(bgpbt_bo_create(&c, &bo));
    REQUIRE(bo);
    for (i = 0; i < 40; ++i) {
        X[4 * i] = exp(log(1e-4) + bgpbt_rng_double(&r) * log(100.0));
        X[4 * i + 1] = 1 + bgpbt_rng_below(&r, 20);
        X[4 * i + 2] = 1 + bgpbt_rng_below(&r, 4);
        X[4 * i + 3] = -100.0 * bgpbt_rng_double(&r);
        t[i] = 1 + i / 8;
        y[i] = pow(log10(X[4 * i]) + 3, 2) + 0.01 * X[4 * i + 1] + 0.001 * X[4 * i + 3];
    }
    CHECK_OK(bgpbt_bo_set_data(bo, X, t, y, 40));
    memcpy(center, X + 4 * 7, sizeof center);
    memcpy(pend, X, sizeof pend);
    memset(&req, 0, sizeof req);
    req.center = center;
    req.frozen = frozen;
    req.pending = pend;
    req.n_pending = 2;
    req.use_t = 1;
    req.t = 5;
    CHECK_OK(bgpbt_bo_suggest(bo, &req, 3, out));
    for (i = 0; i < 3; ++i) {
        CHECK(out[4 * i + 3] == center[3]); /* context from the centre */
        CHECK(out[4 * i + 2] == center[2]); /* frozen */
        CHECK(out[4 * i + 1] == floor(out[4 * i + 1]) && out[4 * i + 1] >= 1 && out[4 * i + 1] <= 20);
        CHECK(out[4 * i] >= 1e-4 && out[4 * i] <= 1e-2);
    }
    /* the batch is diverse: pending points push later picks away */
    CHECK(out[0] != out[4] || out[1] != out[5]);
    {
        double ctx = -55.5;
        req.context = &ctx;
        CHECK_OK(bgpbt_bo_suggest(bo, &req, 1, out));
        CHECK(out[3] == -55.5);
    }
    req.frozen = NULL;
    req.center = NULL;
    req.context = NULL;
    CHECK_OK(bgpbt_bo_suggest(bo, &req, 1, out));
    y[3] = NAN;
    CHECK_RESULT(bgpbt_bo_set_data(bo, X, t, y, 40), BGPBT_ERR_NOT_FINITE);
    bgpbt_bo_destroy(bo);
}

static double bo_nan_region(const double* x, int d, void* u) {
    (void)d; (void)u;
    if (x[0] < 0.3) return NAN; /* a crashed run */
    return (x[0] - 0.35) * (x[0] - 0.35) + (x[1] - 0.5) * (x[1] - 0.5);
}

static void bo_ask_tell_nan_and_batches(void) {
    bgpbt_bo_config c = bgpbt_bo_config_default();
    bgpbt_bo* bo = NULL;
    double v[4 * 2], best = 0, bv[2];
    test_log_capture cap;
    int i, k, rejected = 0;
    memset(&cap, 0, sizeof cap);
    c.logger.fn = test_log_capture_fn;
    c.logger.user = &cap;
    bgpbt_bo_space_add_float(&c.space, "x", 0, 1, 0);
    bgpbt_bo_space_add_float(&c.space, "y", 0, 1, 0);
    c.seed = 1;
    c.n_candidates = 128;
    CHECK_OK(bgpbt_bo_create(&c, &bo));
    REQUIRE(bo);
    CHECK_RESULT(bgpbt_bo_best(bo, bv, &best), BGPBT_ERR_WRONG_ORDER);
    for (i = 0; i < 10; ++i) {
        CHECK_OK(bgpbt_bo_ask(bo, NULL, 4, v));
        CHECK(v[0] != v[2] || v[1] != v[3]);
        for (k = 0; k < 4; ++k) {
            double y = bo_nan_region(v + 2 * k, 2, NULL);
            bgpbt_result r = bgpbt_bo_tell(bo, v + 2 * k, 0, y);
            if (y != y) { CHECK_RESULT(r, BGPBT_ERR_NOT_FINITE); rejected++; }
            else CHECK_OK(r);
        }
    }
    CHECK(rejected > 0);
    CHECK(cap.last_code == BGPBT_ERR_NOT_FINITE || rejected == 0);
    CHECK_EQ_INT(bgpbt_bo_num_observations(bo), 40 - rejected);
    CHECK_OK(bgpbt_bo_best(bo, bv, &best));
    CHECK(best < 0.01);
    CHECK(bv[0] >= 0.3);
    bgpbt_bo_destroy(bo);
}

/* Thompson sampling, LCB_VAR (PB2-style) and a categorical space all run and improve on the
   initial design */
static void bo_other_acquisitions_run(void) {
    int acq;
    for (acq = 2; acq <= 3; ++acq) {
        bgpbt_bo_config c = bgpbt_bo_config_default();
        double best;
        bgpbt_bo_space_add_float(&c.space, "x0", -5, 10, 0);
        bgpbt_bo_space_add_float(&c.space, "x1", 0, 15, 0);
        c.acq = (bgpbt_bo_acq_kind)acq;
        c.beta = acq == 3 ? 0.5 : 3.0;
        c.n_candidates = 256;
        c.seed = 9;
        best = bo_run(&c, bo_branin, test_is_fast() ? 20 : 30);
        CHECK(best < 3.0);
    }
}

static double bo_cat_fn(const double* x, int d, void* u) {
    int i, s = 0;
    (void)u;
    for (i = 0; i < d; ++i) s += x[i] != (double)(i % 4);
    return s;
}

static void bo_categorical_space(void) {
    bgpbt_bo_config c = bgpbt_bo_config_default();
    double best;
    int i;
    char nm[8];
    for (i = 0; i < 8; ++i) { sprintf(nm, "c%d", i); bgpbt_bo_space_add_categorical(&c.space, nm, 5); }
    c.tr = bgpbt_bo_tr_casmopolitan();
    c.tr.cat_length_init = 4; c.tr.cat_length_max = 8;
    c.seed = 2;
    best = bo_run(&c, bo_cat_fn, test_is_fast() ? 30 : 60);
    /* random search with 60 draws expects about 8 * 4/5 - 2 = 4.4 mismatches at best */
    CHECK(best <= (test_is_fast() ? 3 : 1));
}

static void bo_oom_and_bad_config(void) {
    long k;
    bgpbt_bo_config c = bgpbt_bo_config_default();
    bgpbt_bo* bo = NULL;
    CHECK_RESULT(bgpbt_bo_create(&c, &bo), BGPBT_ERR_INVALID_ARGUMENT); /* empty space */
    bgpbt_bo_space_add_context(&c.space, "ctx", 0, 1);
    CHECK_RESULT(bgpbt_bo_create(&c, &bo), BGPBT_ERR_INVALID_ARGUMENT); /* context only */
    bgpbt_bo_space_add_float(&c.space, "x", 0, 1, 0);
    c.tr.length_min = 2.0;
    CHECK_RESULT(bgpbt_bo_create(&c, &bo), BGPBT_ERR_EMPTY_RANGE);
    for (k = 1; k <= 60; ++k) {
        test_failing_alloc fa;
        bgpbt_result r;
        double v[2 * 6], ctx = 0.5;
        int i;
        c = bgpbt_bo_config_default();
        bgpbt_bo_space_add_float(&c.space, "x", 0, 1, 0);
        bgpbt_bo_space_add_context(&c.space, "ctx", 0, 1);
        c.n_init = 4;
        c.n_candidates = 32;
        c.allocator = test_failing_allocator(&fa, k);
        bo = NULL;
        r = bgpbt_bo_create(&c, &bo);
        for (i = 0; i < 3 && r == BGPBT_OK; ++i) {
            int q;
            r = bgpbt_bo_ask(bo, &ctx, 2, v);
            for (q = 0; q < 2 && r == BGPBT_OK; ++q) r = bgpbt_bo_tell(bo, v + 2 * q, 0, sin(7 * v[2 * q]));
        }
        bgpbt_bo_destroy(bo);
        CHECK(r == BGPBT_OK || r == BGPBT_ERR_OUT_OF_MEMORY);
        CHECK(fa.live_blocks == 0);
        if (fa.count < k) break;
    }
}

/* Quality with fixed seeds: median of 10 seeds against random search with the same budget. */
static void bo_quality_branin_hartmann_ackley(void) {
    enum { SEEDS = 10 };
    double bo_b[SEEDS], rs_b[SEEDS];
    int s, f;
    if (test_skip_slow()) return;
    for (f = 0; f < 3; ++f) {
        bgpbt_bo_config c;
        bgpbt_bo_objective fn = f == 0 ? bo_branin : f == 1 ? bo_hartmann6 : bo_ackley;
        int budget = f == 0 ? 40 : 100, i;
        double mb, mr;
        for (s = 0; s < SEEDS; ++s) {
            c = bgpbt_bo_config_default();
            if (f == 0) { bgpbt_bo_space_add_float(&c.space, "x0", -5, 10, 0); bgpbt_bo_space_add_float(&c.space, "x1", 0, 15, 0); }
            for (i = 0; f > 0 && i < (f == 1 ? 6 : 10); ++i) {
                char nm[8];
                sprintf(nm, "x%d", i);
                if (f == 1) bgpbt_bo_space_add_float(&c.space, nm, 0, 1, 0);
                else bgpbt_bo_space_add_float(&c.space, nm, -32.768, 32.768, 0);
            }
            c.seed = (uint64_t)(1000 + s);
            bo_b[s] = bo_run(&c, fn, budget);
            rs_b[s] = bo_random_search(&c.space, fn, budget, (uint64_t)(1000 + s));
        }
        mb = bo_median(bo_b, SEEDS);
        mr = bo_median(rs_b, SEEDS);
        printf("  bo quality %-10s budget %3d: median best %.5f (random search %.5f)\n",
               f == 0 ? "branin" : f == 1 ? "hartmann6" : "ackley10", budget, mb, mr);
        CHECK(mb < mr);
        if (f == 0) CHECK(mb < 0.397887 + 0.05);
        if (f == 1) CHECK(mb < -3.32237 + 0.1);
    }
}


/* Guided restart (CASMOPOLITAN): when a region collapses, the new region starts at the argmin of
   mu - 1.96 sigma of an auxiliary GP (shared lengthscale, no time kernel, config.gp's seed) on
   the best point of every finished region, and its initial design stays in the initial box
   around that centre. The test replays the auxiliary GP itself: the chosen centre must beat
   95% of random points on that acquisition (it is the best of 200 candidates). Without the
   switch the design spans the space and there is no guided centre. */
static double bo_bowl(const double* x, int d, void* u) {
    (void)d; (void)u;
    return (x[0] - 0.8) * (x[0] - 0.8) + (x[1] - 0.3) * (x[1] - 0.3);
}
static void bo_guided_restart(void) {
    int guided;
    for (guided = 1; guided >= 0; --guided) {
        bgpbt_bo_config c = bgpbt_bo_config_default();
        bgpbt_bo* bo = NULL;
        double rbx[64 * 2], rby[64], v[2], cen[2], best_y = HUGE_VAL, best_x[2] = {0, 0};
        int nrb = 0, restarts = 0, checked = 0, outside = 0, it;
        bgpbt_bo_space_add_float(&c.space, "x", 0, 1, 0);
        bgpbt_bo_space_add_float(&c.space, "y", 0, 1, 0);
        c.seed = 7;
        c.gp.seed = 99;
        c.n_init = 4;
        c.n_candidates = 64;
        c.n_steps = 5;
        c.tr = bgpbt_bo_tr_casmopolitan();
        c.tr.length_init = 0.4;
        c.tr.length_min = 0.3; /* one shrink (0.4 / 1.5 = 0.267) collapses the region */
        c.tr.fail_tol = 2;
        c.tr.guided_restart = guided;
        CHECK_OK(bgpbt_bo_create(&c, &bo));
        REQUIRE(bo);
        CHECK_RESULT(bgpbt_bo_guided_center(bo, cen), BGPBT_ERR_WRONG_ORDER);
        for (it = 0; it < 60 && checked < 3; ++it) {
            bgpbt_bo_tr_state st;
            double y;
            CHECK_OK(bgpbt_bo_ask(bo, NULL, 1, v));
            y = bo_bowl(v, 2, NULL);
            if (y < best_y) { best_y = y; best_x[0] = v[0]; best_x[1] = v[1]; }
            CHECK_OK(bgpbt_bo_tell(bo, v, 0, y));
            bgpbt_bo_tr_get(bo, &st);
            if (st.restarts == restarts) continue;
            /* a restart: the region's best joins the region bests */
            restarts = st.restarts;
            rbx[2 * nrb] = best_x[0]; rbx[2 * nrb + 1] = best_x[1]; rby[nrb++] = best_y;
            best_y = HUGE_VAL;
            if (!guided) {
                double d0[2], w[2];
                int k;
                CHECK_RESULT(bgpbt_bo_guided_center(bo, cen), BGPBT_ERR_WRONG_ORDER);
                CHECK_OK(bgpbt_bo_ask(bo, NULL, 1, d0));
                for (k = 1; k < 4; ++k) {
                    CHECK_OK(bgpbt_bo_ask(bo, NULL, 1, w));
                    if (fabs(w[0] - d0[0]) > 0.2 + 1e-12 || fabs(w[1] - d0[1]) > 0.2 + 1e-12) outside++;
                }
                bgpbt_bo_clear_pending(bo);
                checked++;
                continue;
            }
            CHECK_OK(bgpbt_bo_guided_center(bo, cen));
            { /* replay the auxiliary GP */
                bgpbt_gp_config g = c.gp;
                bgpbt_gp* aux = NULL;
                bgpbt_rng r;
                double mu, var, ac, xs[2], a;
                int k, better = 0;
                g.dim = 2;
                g.ard = 0;
                g.time_varying = 0;
                CHECK_OK(bgpbt_gp_create(&g, &aux));
                REQUIRE(aux);
                CHECK_OK(bgpbt_gp_set_data(aux, rbx, NULL, rby, nrb));
                if (nrb >= 2) CHECK_OK(bgpbt_gp_fit(aux));
                CHECK_OK(bgpbt_gp_predict(aux, cen, NULL, 1, &mu, &var));
                ac = mu - 1.96 * sqrt(var);
                bgpbt_rng_init(&r, 3, 0);
                for (k = 0; k < 2000; ++k) {
                    xs[0] = bgpbt_rng_double(&r); xs[1] = bgpbt_rng_double(&r);
                    CHECK_OK(bgpbt_gp_predict(aux, xs, NULL, 1, &mu, &var));
                    a = mu - 1.96 * sqrt(var);
                    if (a < ac) better++;
                }
                CHECK(better <= 100);
                bgpbt_gp_destroy(aux);
            }
            { /* the initial design: the centre, then points of the initial box around it */
                double w[2];
                int k;
                for (k = 0; k < 4; ++k) {
                    CHECK_OK(bgpbt_bo_ask(bo, NULL, 1, w));
                    if (k == 0) { CHECK_NEAR(w[0], cen[0], 1e-12); CHECK_NEAR(w[1], cen[1], 1e-12); }
                    CHECK(fabs(w[0] - cen[0]) <= 0.2 + 1e-12 && fabs(w[1] - cen[1]) <= 0.2 + 1e-12);
                    y = bo_bowl(w, 2, NULL);
                    if (y < best_y) { best_y = y; best_x[0] = w[0]; best_x[1] = w[1]; }
                    CHECK_OK(bgpbt_bo_tell(bo, w, 0, y));
                }
            }
            checked++;
        }
        CHECK_EQ_INT(checked, 3);
        if (!guided) CHECK(outside > 0); /* the unguided design spans the space */
        bgpbt_bo_destroy(bo);
    }
    /* the switch's defaults: CASMOPOLITAN on, BG-PBT off */
    CHECK_EQ_INT(bgpbt_bo_tr_casmopolitan().guided_restart, 1);
    CHECK_EQ_INT(bgpbt_bo_tr_bgpbt().guided_restart, 0);
}

void suite_bo(void) {
    RUN(bo_space_encoding_and_errors);
    RUN(bo_trust_region_rules);
    RUN(bo_guided_restart);
    RUN(bo_box_and_hamming_ball);
    RUN(bo_acquisition_signs);
    RUN(bo_context_frozen_and_time);
    RUN(bo_ask_tell_nan_and_batches);
    RUN(bo_other_acquisitions_run);
    RUN(bo_categorical_space);
    RUN(bo_oom_and_bad_config);
    RUN(bo_quality_branin_hartmann_ackley);
}
