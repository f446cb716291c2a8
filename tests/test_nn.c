/* tests/test_nn.c - suite nn: GEMM kernels, MLP forward/backward, Adam, copy, save/load. */

static void nn_fill(bgpbt_rng* r, float* p, size_t n, float scale) {
    size_t i;
    for (i = 0; i < n; ++i) p[i] = scale * (2.0f * bgpbt_rng_float(r) - 1.0f);
}

static void nn_set_threads(int t) {
#if BGPBT__HAS_OPENMP
    omp_set_num_threads(t);
#else
    (void)t;
#endif
}

/* GEMM against a double-precision reference: plain and transposed A, beta 0 and 1, edges. */
static void nn_gemm_reference(void) {
    static const int shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {8, 32, 16}, {13, 45, 300}, {70, 64, 37},
                                    {64, 96, 513}, {129, 33, 256}, {3, 200, 9}};
    bgpbt_rng r;
    size_t s;
    bgpbt_rng_init(&r, 1, 0);
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], tr, beta, i, j, p;
        int ldb = n + 3, ldc = n + 5;
        float* a = (float*)malloc(sizeof(float) * (size_t)m * k);
        float* b = (float*)malloc(sizeof(float) * (size_t)k * ldb);
        float* c = (float*)malloc(sizeof(float) * (size_t)m * ldc);
        float* c0 = (float*)malloc(sizeof(float) * (size_t)m * ldc);
        REQUIRE(a && b && c && c0);
        nn_fill(&r, a, (size_t)m * k, 1.0f);
        nn_fill(&r, b, (size_t)k * ldb, 1.0f);
        nn_fill(&r, c0, (size_t)m * ldc, 1.0f);
        for (tr = 0; tr < 2; ++tr)
            for (beta = 0; beta < 2; ++beta) {
                double maxerr = 0.0;
                memcpy(c, c0, sizeof(float) * (size_t)m * ldc);
                /* tr: a is stored as A^T [k][m] */
                if (tr) bgpbt_sgemm(m, n, k, a, 1, m, b, ldb, c, ldc, beta);
                else bgpbt_sgemm(m, n, k, a, k, 1, b, ldb, c, ldc, beta);
                for (i = 0; i < m; ++i) {
                    for (j = 0; j < n; ++j) {
                        double ref = beta ? c0[i * ldc + j] : 0.0, mag = fabs(ref);
                        for (p = 0; p < k; ++p) {
                            double av = tr ? a[p * m + i] : a[i * k + p];
                            ref += av * b[p * ldb + j];
                            mag += fabs(av * b[p * ldb + j]);
                        }
                        if (fabs(c[i * ldc + j] - ref) / (mag + 1e-30) > maxerr) maxerr = fabs(c[i * ldc + j] - ref) / (mag + 1e-30);
                    }
                    for (j = n; j < ldc; ++j) CHECK(c[i * ldc + j] == c0[i * ldc + j]); /* outside untouched */
                }
                CHECK(maxerr < 1e-5);
            }
        free(a); free(b); free(c); free(c0);
    }
}

/* Same bits for 1 and 2 threads, and a row's result does not depend on the number of rows. */
static void nn_gemm_deterministic(void) {
    int m = 300, n = 96, k = 700, i;
    float *a = (float*)malloc(sizeof(float) * m * k), *b = (float*)malloc(sizeof(float) * k * n);
    float *c1 = (float*)malloc(sizeof(float) * m * n), *c2 = (float*)malloc(sizeof(float) * m * n);
    float* c3 = (float*)malloc(sizeof(float) * n);
    bgpbt_rng r;
    REQUIRE(a && b && c1 && c2 && c3);
    bgpbt_rng_init(&r, 2, 0);
    nn_fill(&r, a, (size_t)m * k, 1.0f);
    nn_fill(&r, b, (size_t)k * n, 1.0f);
    nn_set_threads(1);
    bgpbt_sgemm(m, n, k, a, k, 1, b, n, c1, n, 0);
    nn_set_threads(2);
    bgpbt_sgemm(m, n, k, a, k, 1, b, n, c2, n, 0);
    CHECK(memcmp(c1, c2, sizeof(float) * m * n) == 0);
    for (i = 0; i < m; i += 37) {
        bgpbt_sgemm(1, n, k, a + (size_t)i * k, k, 1, b, n, c3, n, 0);
        CHECK(memcmp(c3, c1 + (size_t)i * n, sizeof(float) * n) == 0);
    }
    free(a); free(b); free(c1); free(c2); free(c3);
}

static bgpbt_mlp* nn_make(int in, int out, int nh, const int* hidden, bgpbt_activation act, int max_batch, uint64_t seed) {
    bgpbt_mlp_config c = bgpbt_mlp_config_default();
    bgpbt_mlp* n = NULL;
    int l;
    c.in_dim = in;
    c.out_dim = out;
    c.num_hidden = nh;
    for (l = 0; l < nh; ++l) c.hidden[l] = hidden[l];
    c.activation = act;
    c.max_batch = max_batch;
    c.seed = seed;
    if (bgpbt_mlp_create(&c, &n) != BGPBT_OK) return NULL;
    return n;
}

/* loss = sum_ij cw_ij y_ij (double); dy = cw */
static double nn_loss(bgpbt_mlp* n, const float* x, int batch, const float* cw, float* y, int out) {
    double s = 0.0;
    int i;
    bgpbt_mlp_forward(n, x, batch, y, 0);
    for (i = 0; i < batch * out; ++i) s += (double)cw[i] * y[i];
    return s;
}

/* 256-wide layers take another dW path (a transposed copy of the layer input): check a sample
   of its parameters by finite differences too. */
static void nn_gradcheck_wide(void) {
    static const int hidden[2] = {256, 256};
    int in = 3, out = 2, batch = 19, k;
    bgpbt_mlp* n = nn_make(in, out, 2, hidden, BGPBT_ACT_TANH, 32, 5);
    size_t np;
    float x[19 * 3], cw[19 * 2], y[19 * 2], *params, *grads;
    bgpbt_rng r;
    REQUIRE(n);
    np = bgpbt_mlp_num_params(n);
    params = (float*)malloc(sizeof(float) * np);
    grads = (float*)malloc(sizeof(float) * np);
    REQUIRE(params && grads);
    bgpbt_rng_init(&r, 8, 8);
    nn_fill(&r, x, sizeof x / sizeof x[0], 1.0f);
    nn_fill(&r, cw, sizeof cw / sizeof cw[0], 1.0f);
    CHECK_OK(bgpbt_mlp_forward(n, x, batch, y, 1));
    CHECK_OK(bgpbt_mlp_backward(n, cw, batch, NULL));
    bgpbt_mlp_get_grads(n, grads);
    bgpbt_mlp_get_params(n, params);
    for (k = 0; k < 150; ++k) {
        size_t p = ((size_t)k * 104729u) % np;
        float keep = params[p];
        double h = 2e-3, lp, lm, fd;
        params[p] = keep + (float)h; bgpbt_mlp_set_params(n, params); lp = nn_loss(n, x, batch, cw, y, out);
        params[p] = keep - (float)h; bgpbt_mlp_set_params(n, params); lm = nn_loss(n, x, batch, cw, y, out);
        params[p] = keep; bgpbt_mlp_set_params(n, params);
        fd = (lp - lm) / (2 * h);
        CHECK_NEAR(grads[p], fd, 2e-2 * fabs(fd) + 2e-3);
    }
    free(params); free(grads);
    bgpbt_mlp_destroy(n);
}

/* Finite differences on every parameter (small nets) and on the input, per activation. */
static void nn_gradcheck(void) {
    static const int hidden[3] = {7, 33, 5};
    int act;
    for (act = 0; act < 4; ++act) {
        int in = 4, out = 3, batch = 5, i;
        bgpbt_mlp* n = nn_make(in, out, 3, hidden, (bgpbt_activation)act, 16, 11);
        size_t np, p;
        float *x, *cw, *y, *params, *grads, *dx;
        bgpbt_rng r;
        int bad = 0;
        REQUIRE(n);
        np = bgpbt_mlp_num_params(n);
        CHECK_EQ_INT(np, 4 * 7 + 7 + 7 * 33 + 33 + 33 * 5 + 5 + 5 * 3 + 3);
        x = (float*)malloc(sizeof(float) * batch * in);
        cw = (float*)malloc(sizeof(float) * batch * out);
        y = (float*)malloc(sizeof(float) * batch * out);
        dx = (float*)malloc(sizeof(float) * batch * in);
        params = (float*)malloc(sizeof(float) * np);
        grads = (float*)malloc(sizeof(float) * np);
        bgpbt_rng_init(&r, 5, (uint64_t)act);
        nn_fill(&r, x, (size_t)batch * in, 1.5f);
        nn_fill(&r, cw, (size_t)batch * out, 1.0f);
        /* non-zero biases so every bias path is exercised */
        bgpbt_mlp_get_params(n, params);
        for (p = 0; p < np; ++p) params[p] += 0.1f * (2.0f * bgpbt_rng_float(&r) - 1.0f);
        CHECK_OK(bgpbt_mlp_set_params(n, params));
        CHECK_OK(bgpbt_mlp_forward(n, x, batch, y, 1));
        CHECK_OK(bgpbt_mlp_backward(n, cw, batch, dx));
        bgpbt_mlp_get_grads(n, grads);
        for (p = 0; p < np; ++p) {
            float keep = params[p];
            double h = 2e-3, lp, lm, fd;
            params[p] = keep + (float)h; bgpbt_mlp_set_params(n, params); lp = nn_loss(n, x, batch, cw, y, out);
            params[p] = keep - (float)h; bgpbt_mlp_set_params(n, params); lm = nn_loss(n, x, batch, cw, y, out);
            params[p] = keep;
            fd = (lp - lm) / (2 * h);
            if (fabs(fd - grads[p]) > 2e-2 * fabs(fd) + 2e-3) {
                if (act == BGPBT_ACT_RELU && bad < 3) { bad++; continue; } /* a kink inside +-h */
                CHECK_NEAR(grads[p], fd, 2e-2 * fabs(fd) + 2e-3);
                printf("  act %d param %d\n", act, (int)p);
            }
        }
        bgpbt_mlp_set_params(n, params);
        for (i = 0; i < batch * in; ++i) {
            float keep = x[i];
            double h = 2e-3, lp, lm;
            x[i] = keep + (float)h; lp = nn_loss(n, x, batch, cw, y, out);
            x[i] = keep - (float)h; lm = nn_loss(n, x, batch, cw, y, out);
            x[i] = keep;
            CHECK_NEAR(dx[i], (lp - lm) / (2 * h), 2e-2 * fabs((lp - lm) / (2 * h)) + 2e-3);
        }
        free(x); free(cw); free(y); free(dx); free(params); free(grads);
        bgpbt_mlp_destroy(n);
    }
}

/* Adam against a hand computation (two steps, bias correction), and clipping. */
static void nn_adam_hand(void) {
    static const int hidden[1] = {3};
    bgpbt_mlp* n = nn_make(2, 1, 1, hidden, BGPBT_ACT_TANH, 4, 3);
    bgpbt_adam_config a = bgpbt_adam_config_default();
    size_t np, p;
    float p0[32], g1[32], g2[32], after[32];
    double m[32], v[32];
    int step;
    REQUIRE(n);
    np = bgpbt_mlp_num_params(n);
    REQUIRE(np == 13);
    bgpbt_mlp_get_params(n, p0);
    for (p = 0; p < np; ++p) { g1[p] = 0.1f * (float)p - 0.5f; g2[p] = 0.3f - 0.05f * (float)p; }
    a.learning_rate = 0.01f;
    for (step = 1; step <= 2; ++step) {
        const float* g = step == 1 ? g1 : g2;
        bgpbt__mlp_unpack(n, g, n->grads);
        CHECK_OK(bgpbt_mlp_adam_step(n, &a));
    }
    bgpbt_mlp_get_params(n, after);
    for (p = 0; p < np; ++p) {
        double pp = p0[p];
        m[p] = v[p] = 0.0;
        for (step = 1; step <= 2; ++step) {
            double g = step == 1 ? g1[p] : g2[p];
            m[p] = 0.9 * m[p] + 0.1 * g;
            v[p] = 0.999 * v[p] + 0.001 * g * g;
            pp -= 0.01 * (m[p] / (1 - pow(0.9, step))) / (sqrt(v[p] / (1 - pow(0.999, step))) + 1e-8);
        }
        CHECK_NEAR(after[p], pp, 1e-6);
    }
    CHECK_EQ_INT(bgpbt_mlp_adam_steps(n), 2);
    /* clipping: the first Adam step is ~lr * sign(g) whatever the scale, so check the moments */
    bgpbt_mlp_reset_adam(n);
    for (p = 0; p < np; ++p) g1[p] = 3.0f;
    bgpbt__mlp_unpack(n, g1, n->grads);
    CHECK_NEAR(bgpbt_mlp_grad_norm(n), 3.0 * sqrt(13.0), 1e-4);
    a.max_grad_norm = 1.0f;
    CHECK_OK(bgpbt_mlp_adam_step(n, &a));
    {
        float mm[32];
        bgpbt__mlp_pack(n, n->m, mm);
        CHECK_NEAR(mm[0], 0.1 * 3.0 / (3.0 * sqrt(13.0)), 1e-6);
    }
    /* NaN gradient: refused, nothing changes */
    bgpbt_mlp_get_params(n, p0);
    g1[4] = NAN;
    bgpbt__mlp_unpack(n, g1, n->grads);
    CHECK_RESULT(bgpbt_mlp_adam_step(n, &a), BGPBT_ERR_NOT_FINITE);
    bgpbt_mlp_get_params(n, after);
    CHECK(memcmp(p0, after, np * sizeof(float)) == 0);
    bgpbt_mlp_destroy(n);
}

/* A small regression task trains: y = sin(3 x0) * x1 */
static double nn_train_steps(bgpbt_mlp* n, int steps, bgpbt_rng* r) {
    float x[64 * 2], y[64], t[64], dy[64];
    bgpbt_adam_config a = bgpbt_adam_config_default();
    double loss = 0.0;
    int s, i;
    a.learning_rate = 3e-3f;
    for (s = 0; s < steps; ++s) {
        nn_fill(r, x, 128, 1.0f);
        for (i = 0; i < 64; ++i) t[i] = sinf(3.0f * x[2 * i]) * x[2 * i + 1];
        bgpbt_mlp_forward(n, x, 64, y, 1);
        loss = 0.0;
        for (i = 0; i < 64; ++i) { loss += (y[i] - t[i]) * (y[i] - t[i]) / 64.0; dy[i] = 2.0f * (y[i] - t[i]) / 64.0f; }
        bgpbt_mlp_backward(n, dy, 64, NULL);
        bgpbt_mlp_adam_step(n, &a);
    }
    return loss;
}

static void nn_learns(void) {
    static const int hidden[2] = {64, 64};
    bgpbt_mlp* n = nn_make(2, 1, 2, hidden, BGPBT_ACT_SILU, 64, 7);
    bgpbt_rng r;
    double first, last;
    REQUIRE(n);
    bgpbt_rng_init(&r, 9, 0);
    first = nn_train_steps(n, 1, &r);
    last = nn_train_steps(n, 1500, &r);
    CHECK(last < 0.01);
    CHECK(last < 0.1 * first);
    bgpbt_mlp_destroy(n);
}

/* copy and save/load continue training bit-identically; corrupt or mismatched blobs change nothing */
static void nn_copy_save_load(void) {
    static const int hidden[2] = {40, 24};
    static const int other[2] = {40, 25};
    bgpbt_mlp *a = nn_make(2, 1, 2, hidden, BGPBT_ACT_TANH, 64, 1), *b = nn_make(2, 1, 2, hidden, BGPBT_ACT_TANH, 64, 2);
    bgpbt_mlp *c = NULL, *d = nn_make(2, 1, 2, other, BGPBT_ACT_TANH, 64, 2);
    bgpbt_rng r1, r2;
    size_t size = 0, np;
    unsigned char* blob;
    float *pa, *pb;
    REQUIRE(a && b && d);
    bgpbt_rng_init(&r1, 4, 0);
    nn_train_steps(a, 20, &r1);
    CHECK_OK(bgpbt_mlp_copy(b, a));
    CHECK_RESULT(bgpbt_mlp_copy(d, a), BGPBT_ERR_SIZE_MISMATCH);
    CHECK_OK(bgpbt_mlp_save(a, NULL, 0, &size));
    blob = (unsigned char*)malloc(size);
    REQUIRE(blob);
    { size_t s2; CHECK_RESULT(bgpbt_mlp_save(a, blob, size - 1, &s2), BGPBT_ERR_BUFFER_TOO_SMALL); }
    CHECK_OK(bgpbt_mlp_save(a, blob, size, &size));
    CHECK_OK(bgpbt_mlp_create_from_blob(blob, size, NULL, &c));
    REQUIRE(c);
    r2 = r1;
    nn_train_steps(a, 10, &r1);
    { bgpbt_rng r3 = r2; nn_train_steps(b, 10, &r3); }
    nn_train_steps(c, 10, &r2);
    np = bgpbt_mlp_num_params(a);
    pa = (float*)malloc(np * 8); pb = (float*)malloc(np * 8);
    bgpbt_mlp_get_params(a, pa);
    bgpbt_mlp_get_params(b, pb);
    CHECK(memcmp(pa, pb, np * 4) == 0);
    bgpbt_mlp_get_params(c, pb);
    CHECK(memcmp(pa, pb, np * 4) == 0);
    /* load over b restores the saved state exactly */
    CHECK_OK(bgpbt_mlp_load(b, blob, size));
    CHECK_EQ_INT(bgpbt_mlp_adam_steps(b), 20);
    /* mismatch and corruption leave the target untouched */
    bgpbt_mlp_get_params(d, pa);
    CHECK_RESULT(bgpbt_mlp_load(d, blob, size), BGPBT_ERR_SIZE_MISMATCH);
    bgpbt_mlp_get_params(d, pb);
    CHECK(memcmp(pa, pb, bgpbt_mlp_num_params(d) * 4) == 0);
    blob[size / 2] ^= 0x10;
    CHECK_RESULT(bgpbt_mlp_load(b, blob, size), BGPBT_ERR_CHECKSUM);
    blob[size / 2] ^= 0x10;
    CHECK_RESULT(bgpbt_mlp_load(b, blob, size / 2), BGPBT_ERR_TRUNCATED);
    CHECK_EQ_INT(bgpbt_mlp_adam_steps(b), 20);
    free(blob); free(pa); free(pb);
    bgpbt_mlp_destroy(a); bgpbt_mlp_destroy(b); bgpbt_mlp_destroy(c); bgpbt_mlp_destroy(d);
}

/* training and inference forwards agree bit for bit; threads do not matter; batch 1 = row of
   batch. Case 1 is a value head (one output, from a 300-wide layer: two k blocks), which runs
   as a row-gathering GEMV in batches of 16 or more rows and as the GEMM for one row. */
static void nn_forward_consistency(void) {
    int cs;
    for (cs = 0; cs < 2; ++cs) {
        const int O = cs ? 1 : 13;
        int hidden[3] = {256, 256, 100};
        bgpbt_mlp* n;
        float *x = (float*)malloc(sizeof(float) * 1500 * 23), *y1 = (float*)malloc(sizeof(float) * 1500 * 13);
        float *y2 = (float*)malloc(sizeof(float) * 1500 * 13), *y3 = (float*)malloc(sizeof(float) * 13);
        float *g1 = (float*)malloc(sizeof(float) * 300000), *g2 = (float*)malloc(sizeof(float) * 300000);
        bgpbt_rng r;
        int i;
        if (cs) hidden[2] = 300;
        n = nn_make(23, O, 3, hidden, BGPBT_ACT_SILU, 600, 3);
        REQUIRE(n && x && y1 && y2 && y3 && g1 && g2);
        REQUIRE(bgpbt_mlp_num_params(n) < 300000);
        bgpbt_rng_init(&r, 3, 3);
        bgpbt_mlp_get_params(n, g1); /* nonzero biases, so their addition is checked too */
        for (i = 0; i < (int)bgpbt_mlp_num_params(n); ++i) g1[i] += 0.01f * (float)bgpbt_rng_normal(&r);
        CHECK_OK(bgpbt_mlp_set_params(n, g1));
        nn_fill(&r, x, 1500 * 23, 2.0f);
        nn_set_threads(1);
        CHECK_OK(bgpbt_mlp_forward(n, x, 600, y1, 1));
        CHECK_OK(bgpbt_mlp_backward(n, y1, 600, NULL));
        bgpbt_mlp_get_grads(n, g1);
        nn_set_threads(2);
        CHECK_OK(bgpbt_mlp_forward(n, x, 600, y2, 1));
        CHECK(memcmp(y1, y2, sizeof(float) * 600 * (size_t)O) == 0);
        CHECK_OK(bgpbt_mlp_backward(n, y2, 600, NULL));
        bgpbt_mlp_get_grads(n, g2);
        CHECK(memcmp(g1, g2, sizeof(float) * bgpbt_mlp_num_params(n)) == 0);
        CHECK_RESULT(bgpbt_mlp_forward(n, x, 601, y2, 1), BGPBT_ERR_LIMIT);
        CHECK_OK(bgpbt_mlp_forward(n, x, 1500, y2, 0)); /* inference: any batch */
        CHECK(memcmp(y1, y2, sizeof(float) * 600 * (size_t)O) == 0);
        for (i = 0; i < 1500; i += 211) {
            CHECK_OK(bgpbt_mlp_forward(n, x + i * 23, 1, y3, 0));
            CHECK(memcmp(y3, y2 + i * O, sizeof(float) * (size_t)O) == 0);
        }
        for (i = 2; i < 40; i += 5) { /* short batches: the GEMM below 16 rows, the GEMV from 16 */
            CHECK_OK(bgpbt_mlp_forward(n, x + 7 * 23, i, y1, 0));
            CHECK(memcmp(y1, y2 + 7 * O, sizeof(float) * (size_t)(i * O)) == 0);
        }
        free(x); free(y1); free(y2); free(y3); free(g1); free(g2);
        bgpbt_mlp_destroy(n);
    }
}

static void nn_bad_input_and_oom(void) {
    bgpbt_mlp_config c = bgpbt_mlp_config_default();
    bgpbt_mlp* n = NULL;
    test_log_capture cap;
    test_failing_alloc fa;
    long k;
    memset(&cap, 0, sizeof cap);
    c.logger.fn = test_log_capture_fn;
    c.logger.user = &cap;
    CHECK_RESULT(bgpbt_mlp_create(&c, &n), BGPBT_ERR_INVALID_ARGUMENT); /* in/out missing */
    CHECK(n == NULL && cap.count == 1);
    c.in_dim = 3; c.out_dim = 2; c.hidden[1] = 0;
    CHECK_RESULT(bgpbt_mlp_create(&c, &n), BGPBT_ERR_INVALID_ARGUMENT);
    c.hidden[1] = 8; c.num_hidden = 99;
    CHECK_RESULT(bgpbt_mlp_create(&c, &n), BGPBT_ERR_LIMIT);
    c.num_hidden = 2;
    for (k = 1; k < 40; ++k) {
        bgpbt_result res;
        c.allocator = test_failing_allocator(&fa, k);
        res = bgpbt_mlp_create(&c, &n);
        if (res == BGPBT_OK) { bgpbt_mlp_destroy(n); CHECK(fa.live_blocks == 0); break; }
        CHECK_RESULT(res, BGPBT_ERR_OUT_OF_MEMORY);
        CHECK(n == NULL);
        CHECK(fa.live_blocks == 0 && fa.live_bytes == 0);
    }
    CHECK(k > 5 && k < 40);
    c.allocator.alloc = NULL; c.allocator.free = NULL;
    CHECK_OK(bgpbt_mlp_create(&c, &n));
    {
        float dy[2] = {1, 1};
        CHECK_RESULT(bgpbt_mlp_backward(n, dy, 1, NULL), BGPBT_ERR_WRONG_ORDER);
    }
    bgpbt_mlp_destroy(n);
}

void suite_nn(void) {
    RUN(nn_gemm_reference);
    RUN(nn_gemm_deterministic);
    RUN(nn_gradcheck);
    RUN(nn_gradcheck_wide);
    RUN(nn_adam_hand);
    RUN(nn_learns);
    RUN(nn_copy_save_load);
    RUN(nn_forward_consistency);
    RUN(nn_bad_input_and_oom);
    nn_set_threads(bgpbt_max_threads());
}
