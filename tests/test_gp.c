/* Suite gp: fp64 Cholesky, the exact GP (closed forms, finite differences, scikit-learn). */
#ifdef _OPENMP
#include <omp.h>
#endif

static void gp_rand_spd(bgpbt_rng* r, double* a, int n, int lda) {
    /* A = B B^T / n + I */
    int i, j, k;
    double* b = (double*)malloc(sizeof(double) * (size_t)n * (size_t)n);
    for (i = 0; i < n * n; ++i) b[i] = bgpbt_rng_uniform(r, -1.0, 1.0);
    for (i = 0; i < n; ++i)
        for (j = 0; j < n; ++j) {
            double s = 0.0;
            for (k = 0; k < n; ++k) s += b[i * n + k] * b[j * n + k];
            a[(size_t)i * lda + j] = s / n + (i == j ? 1.0 : 0.0);
        }
    free(b);
}

static double gp_chol_residual(const double* a, const double* l, int n, int ld) {
    int i, j, k;
    double worst = 0.0;
    for (i = 0; i < n; ++i)
        for (j = 0; j <= i; ++j) {
            double s = 0.0;
            for (k = 0; k <= j; ++k) s += l[(size_t)i * ld + k] * l[(size_t)j * ld + k];
            if (fabs(s - a[(size_t)i * ld + j]) > worst) worst = fabs(s - a[(size_t)i * ld + j]);
        }
    return worst;
}

static void gp_cholesky_factors_and_solves(void) {
    static const int sizes[] = {1, 3, 4, 17, 33, 150};
    bgpbt_rng r;
    int s;
    bgpbt_rng_init(&r, 7, 0);
    { /* a hand case: [[4,2],[2,5]] = L L^T with L = [[2,0],[1,2]] */
        double a[4] = {4, -99, 2, 5};
        CHECK_OK(bgpbt_linalg_cholesky(a, 2, 2));
        CHECK_NEAR(a[0], 2.0, 1e-15);
        CHECK_NEAR(a[2], 1.0, 1e-15);
        CHECK_NEAR(a[3], 2.0, 1e-15);
        CHECK(a[1] == -99); /* upper triangle untouched */
    }
    for (s = 0; s < (int)(sizeof sizes / sizeof sizes[0]); ++s) {
        int n = sizes[s], ld = n + 3, i, j;
        double* a = (double*)calloc((size_t)n * ld, sizeof(double));
        double* l = (double*)calloc((size_t)n * ld, sizeof(double));
        double* m = (double*)calloc((size_t)n * ld, sizeof(double));
        double* x = (double*)calloc((size_t)n, sizeof(double));
        double* b = (double*)calloc((size_t)n, sizeof(double));
        double worst = 0.0;
        gp_rand_spd(&r, a, n, ld);
        memcpy(l, a, sizeof(double) * (size_t)n * ld);
        CHECK_OK(bgpbt_linalg_cholesky(l, n, ld));
        CHECK(gp_chol_residual(a, l, n, ld) < 1e-12 * n);
        /* solve A x = b through both triangular solves */
        for (i = 0; i < n; ++i) x[i] = bgpbt_rng_uniform(&r, -1, 1);
        for (i = 0; i < n; ++i) {
            double sum = 0.0;
            for (j = 0; j < n; ++j) sum += (j <= i ? a[(size_t)i * ld + j] : a[(size_t)j * ld + i]) * x[j];
            b[i] = sum;
        }
        bgpbt_linalg_solve_lower(l, ld, n, b);
        bgpbt_linalg_solve_lower_t(l, ld, n, b);
        for (i = 0; i < n; ++i) if (fabs(b[i] - x[i]) > worst) worst = fabs(b[i] - x[i]);
        CHECK(worst < 1e-11);
        /* M = L^{-T}: L M^T = I */
        bgpbt_linalg_lower_inverse(l, ld, n, m, ld);
        worst = 0.0;
        for (i = 0; i < n; ++i)
            for (j = 0; j < n; ++j) {
                double sum = 0.0;
                int k;
                for (k = 0; k <= i; ++k) sum += l[(size_t)i * ld + k] * m[(size_t)j * ld + k];
                if (fabs(sum - (i == j)) > worst) worst = fabs(sum - (i == j));
            }
        CHECK(worst < 1e-12 * n);
        for (i = 1; i < n; ++i) CHECK(m[(size_t)i * ld + i - 1] == 0.0);
        free(a); free(l); free(m); free(x); free(b);
    }
}

static void gp_cholesky_jitter_and_failure(void) {
    enum { N = 10 };
    double a[N * N], l[N * N], jit = -1.0, v[N];
    int i, j;
    test_log_capture cap;
    bgpbt_logger lg;
    memset(&cap, 0, sizeof cap);
    lg.fn = test_log_capture_fn;
    lg.user = &cap;
    /* rank one: v v^T is singular; plain Cholesky fails, the jitter escalation succeeds */
    for (i = 0; i < N; ++i) v[i] = 1.0 + 0.1 * i;
    for (i = 0; i < N; ++i) for (j = 0; j < N; ++j) a[i * N + j] = v[i] * v[j];
    memcpy(l, a, sizeof a);
    CHECK_RESULT(bgpbt_linalg_cholesky(l, N, N), BGPBT_ERR_NOT_POSITIVE_DEFINITE);
    CHECK_OK(bgpbt_linalg_cholesky_jitter(a, N, l, N, N, &jit, &lg));
    CHECK(jit > 0.0 && jit < 1e-3 * 3.0);
    { /* L L^T = A + jit I */
        double b[N * N];
        memcpy(b, a, sizeof a);
        for (i = 0; i < N; ++i) b[i * N + i] += jit;
        CHECK(gp_chol_residual(b, l, N, N) < 1e-10);
    }
    /* no jitter needed: reports 0 */
    for (i = 0; i < N; ++i) a[i * N + i] += 1.0;
    CHECK_OK(bgpbt_linalg_cholesky_jitter(a, N, l, N, N, &jit, &lg));
    CHECK(jit == 0.0);
    /* impossible: negative definite */
    for (i = 0; i < N; ++i) for (j = 0; j < N; ++j) a[i * N + j] = i == j ? -1.0 : 0.0;
    CHECK_RESULT(bgpbt_linalg_cholesky_jitter(a, N, l, N, N, &jit, &lg), BGPBT_ERR_NOT_POSITIVE_DEFINITE);
    CHECK(cap.count == 1 && cap.last_code == BGPBT_ERR_NOT_POSITIVE_DEFINITE);
    CHECK(strstr(cap.last, "not positive definite") != NULL);
    /* NaN is refused before trying */
    a[3 * N + 1] = NAN;
    CHECK_RESULT(bgpbt_linalg_cholesky_jitter(a, N, l, N, N, &jit, &lg), BGPBT_ERR_NOT_FINITE);
}

static bgpbt_gp* gp_make(bgpbt_gp_config* c) {
    bgpbt_gp* gp = NULL;
    CHECK_OK(bgpbt_gp_create(c, &gp));
    return gp;
}

/* k for SE with outputscale s and lengthscale l in 1-D */
static double gp_se(double a, double b, double s, double l) { return s * exp(-0.5 * (a - b) * (a - b) / (l * l)); }

static void gp_posterior_closed_form(void) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp* gp;
    bgpbt_gp_hypers h;
    double X[2] = {0.2, 0.7}, y[2] = {1.0, -0.5}, xs[3] = {0.4, 0.2, 1.3}, mu[3], var[3];
    double s = 1.3, l = 0.4, sn = 0.01, k11, k12, k22, det, i11, i12, i22;
    int q;
    c.dim = 1;
    c.kernel = BGPBT_GP_SE;
    c.output = BGPBT_GP_NONE;
    c.fixed_mean = 1;
    c.mean_init = 0.25;
    gp = gp_make(&c);
    REQUIRE(gp);
    CHECK_OK(bgpbt_gp_set_data(gp, X, NULL, y, 2));
    bgpbt_gp_get_hypers(gp, &h);
    h.outputscale = s; h.lengthscale[0] = l; h.noise = sn;
    CHECK_OK(bgpbt_gp_set_hypers(gp, &h));
    bgpbt_gp_get_hypers(gp, &h);
    CHECK_NEAR(h.outputscale, s, 1e-12);
    CHECK_NEAR(h.lengthscale[0], l, 1e-12);
    k11 = s + sn; k22 = s + sn; k12 = gp_se(X[0], X[1], s, l);
    det = k11 * k22 - k12 * k12;
    i11 = k22 / det; i22 = k11 / det; i12 = -k12 / det;
    CHECK_OK(bgpbt_gp_predict(gp, xs, NULL, 3, mu, var));
    for (q = 0; q < 3; ++q) {
        double a = gp_se(xs[q], X[0], s, l), b = gp_se(xs[q], X[1], s, l);
        double r0 = y[0] - 0.25, r1 = y[1] - 0.25;
        double m = 0.25 + a * (i11 * r0 + i12 * r1) + b * (i12 * r0 + i22 * r1);
        double v = s - (a * (i11 * a + i12 * b) + b * (i12 * a + i22 * b));
        CHECK_NEAR(mu[q], m, 1e-12);
        CHECK_NEAR(var[q], v, 1e-12);
    }
    { /* LML closed form: -0.5 r^T K^-1 r - 0.5 log det K - log 2 pi */
        double raw[8], lml, r0 = y[0] - 0.25, r1 = y[1] - 0.25;
        double want = -0.5 * (r0 * (i11 * r0 + i12 * r1) + r1 * (i12 * r0 + i22 * r1)) - 0.5 * log(det) - log(2.0 * 3.14159265358979323846);
        bgpbt_gp_get_params(gp, raw);
        CHECK_OK(bgpbt_gp_lml(gp, raw, &lml, NULL));
        CHECK_NEAR(lml, want, 1e-12);
    }
    bgpbt_gp_destroy(gp);
}

static void gp_noise_free_interpolates(void) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp* gp;
    double X[20 * 2], y[20], mu[20], var[20];
    bgpbt_rng r;
    int i;
    bgpbt_rng_init(&r, 3, 0);
    c.dim = 2;
    c.ard = 1;
    c.noise_min = c.noise_max = 1e-10; /* fixed, essentially noise-free */
    for (i = 0; i < 20; ++i) {
        X[2 * i] = bgpbt_rng_double(&r);
        X[2 * i + 1] = bgpbt_rng_double(&r);
        y[i] = sin(6 * X[2 * i]) * cos(4 * X[2 * i + 1]);
    }
    gp = gp_make(&c);
    REQUIRE(gp);
    CHECK_OK(bgpbt_gp_set_data(gp, X, NULL, y, 20));
    CHECK_OK(bgpbt_gp_fit(gp));
    CHECK_OK(bgpbt_gp_predict(gp, X, NULL, 20, mu, var));
    {
        double sh, sc;
        CHECK_OK(bgpbt_gp_output_affine(gp, &sh, &sc));
        for (i = 0; i < 20; ++i) {
            CHECK_NEAR(mu[i] * sc + sh, y[i], 1e-5);
            CHECK(var[i] < 1e-6);
        }
    }
    bgpbt_gp_destroy(gp);
}

/* LML gradient vs central differences, for one configuration */
static void gp_fd_case(bgpbt_gp_config* c, int n, uint64_t seed) {
    bgpbt_gp* gp;
    double X[40 * 8], t[40], y[40], raw[160] = {0}, g[160], lml;
    bgpbt_rng r;
    int i, j, P;
    bgpbt_rng_init(&r, seed, 1);
    for (i = 0; i < n; ++i) {
        for (j = 0; j < c->dim; ++j)
            X[i * c->dim + j] = c->num_categories[j] ? (double)bgpbt_rng_below(&r, (uint32_t)c->num_categories[j]) : bgpbt_rng_double(&r);
        t[i] = (double)(i % 5);
        y[i] = sin(3.0 * X[i * c->dim]) + 0.3 * bgpbt_rng_normal(&r);
    }
    gp = gp_make(c);
    REQUIRE(gp);
    CHECK_OK(bgpbt_gp_set_data(gp, X, t, y, n));
    P = bgpbt_gp_num_params(gp);
    for (j = 0; j < P; ++j) raw[j] = bgpbt_rng_uniform(&r, -1.5, 1.5);
    CHECK_OK(bgpbt_gp_lml(gp, raw, &lml, g));
    for (j = 0; j < P; ++j) {
        double hstep = 1e-5, fp, fm, save = raw[j], fd;
        raw[j] = save + hstep; CHECK_OK(bgpbt_gp_lml(gp, raw, &fp, NULL));
        raw[j] = save - hstep; CHECK_OK(bgpbt_gp_lml(gp, raw, &fm, NULL));
        raw[j] = save;
        fd = (fp - fm) / (2 * hstep);
        CHECK_NEAR(g[j], fd, 1e-6 * (1.0 + fabs(fd)));
    }
    bgpbt_gp_destroy(gp);
}

static void gp_lml_gradient_matches_finite_differences(void) {
    bgpbt_gp_config c;
    int k;
    for (k = 0; k < 8; ++k) {
        c = bgpbt_gp_config_default();
        c.dim = 3;
        c.noise_min = 1e-3; /* keeps K well conditioned with repeated categorical rows, so the
                               central differences are accurate (the gradient is right anyway) */
        switch (k) {
            case 0: c.ard = 1; break;                                   /* Matern-5/2 ARD + mean */
            case 1: c.ard = 0; break;                                   /* Matern-5/2 shared */
            case 2: c.kernel = BGPBT_GP_SE; c.ard = 1; break;           /* SE ARD */
            case 3: c.kernel = BGPBT_GP_SE; c.time_varying = 1; break; /* SE + time */
            case 4: c.num_categories[0] = 3; c.num_categories[1] = 4; c.num_categories[2] = 2; c.ard = 1; break; /* overlap ARD */
            case 5: c.num_categories[0] = 3; c.num_categories[1] = 4; c.num_categories[2] = 2; break;             /* overlap shared */
            case 6: c.num_categories[1] = 3; c.ard = 1; c.time_varying = 1; break; /* mixture + time */
            default: c.num_categories[2] = 5; c.output = BGPBT_GP_COPULA; break;  /* mixture shared, copula y */
        }
        gp_fd_case(&c, 25, (uint64_t)(11 + k));
    }
    /* a larger case that uses the tiled and threaded paths (n >= 128) */
    c = bgpbt_gp_config_default();
    c.dim = 4;
    c.ard = 1;
    c.time_varying = 1;
    {
        /* n = 40 max in gp_fd_case; do a separate n = 150 check of the gradient norm only */
        bgpbt_gp* gp;
        static double X[150 * 4], t[150], y[150];
        double raw[16] = {0}, g[16], lml, fp, fm;
        bgpbt_rng r;
        int i, j, P;
        bgpbt_rng_init(&r, 99, 0);
        for (i = 0; i < 150; ++i) {
            for (j = 0; j < 4; ++j) X[i * 4 + j] = bgpbt_rng_double(&r);
            t[i] = i / 30;
            y[i] = X[i * 4] - X[i * 4 + 1] * X[i * 4 + 2] + 0.1 * bgpbt_rng_normal(&r);
        }
        gp = gp_make(&c);
        REQUIRE(gp);
        CHECK_OK(bgpbt_gp_set_data(gp, X, t, y, 150));
        P = bgpbt_gp_num_params(gp);
        for (j = 0; j < P; ++j) raw[j] = bgpbt_rng_uniform(&r, -1, 1);
        CHECK_OK(bgpbt_gp_lml(gp, raw, &lml, g));
        for (j = 0; j < P; ++j) {
            double save = raw[j];
            raw[j] = save + 1e-5; CHECK_OK(bgpbt_gp_lml(gp, raw, &fp, NULL));
            raw[j] = save - 1e-5; CHECK_OK(bgpbt_gp_lml(gp, raw, &fm, NULL));
            raw[j] = save;
            CHECK_NEAR(g[j], (fp - fm) / 2e-5, 1e-5 * (1.0 + fabs(g[j])));
        }
        bgpbt_gp_destroy(gp);
    }
}

static void gp_predict_gradient_matches_finite_differences(void) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp* gp;
    double X[30 * 3], y[30], t[30], x[3] = {0.3, 0.6, 1.0}, dm[3], dv[3], m0, v0, pend[2 * 3] = {0.35, 0.55, 1, 0.9, 0.1, 0};
    bgpbt_rng r;
    int i, j, pass;
    bgpbt_rng_init(&r, 5, 0);
    c.dim = 3;
    c.ard = 1;
    c.num_categories[2] = 3;
    c.time_varying = 1;
    for (i = 0; i < 30; ++i) {
        X[3 * i] = bgpbt_rng_double(&r);
        X[3 * i + 1] = bgpbt_rng_double(&r);
        X[3 * i + 2] = (double)bgpbt_rng_below(&r, 3);
        y[i] = X[3 * i] * X[3 * i] - X[3 * i + 1] + 0.2 * X[3 * i + 2];
        t[i] = (double)(i / 10);
    }
    gp = gp_make(&c);
    REQUIRE(gp);
    CHECK_OK(bgpbt_gp_set_data(gp, X, t, y, 30));
    CHECK_OK(bgpbt_gp_fit(gp));
    for (pass = 0; pass < 2; ++pass) {
        if (pass == 1) CHECK_OK(bgpbt_gp_set_pending(gp, pend, NULL, 2));
        CHECK_OK(bgpbt_gp_predict_grad(gp, x, NULL, &m0, &v0, dm, dv));
        {
            double mm, vv;
            CHECK_OK(bgpbt_gp_predict(gp, x, NULL, 1, &mm, &vv));
            CHECK_NEAR(mm, m0, 1e-12);
            CHECK_NEAR(vv, v0, 1e-12);
        }
        for (j = 0; j < 2; ++j) {
            double xp[3], xm[3], mp, vp, mm, vm;
            memcpy(xp, x, sizeof x); memcpy(xm, x, sizeof x);
            xp[j] += 1e-6; xm[j] -= 1e-6;
            CHECK_OK(bgpbt_gp_predict(gp, xp, NULL, 1, &mp, &vp));
            CHECK_OK(bgpbt_gp_predict(gp, xm, NULL, 1, &mm, &vm));
            CHECK_NEAR(dm[j], (mp - mm) / 2e-6, 1e-6 * (1 + fabs(dm[j])));
            CHECK_NEAR(dv[j], (vp - vm) / 2e-6, 1e-6 * (1 + fabs(dv[j])));
        }
        CHECK(dm[2] == 0.0 && dv[2] == 0.0); /* categorical */
    }
    bgpbt_gp_destroy(gp);
}

/* Reference numbers from tests/gp_sklearn_reference.py (scikit-learn 1.2.1). */
static void gp_matches_sklearn(void) {
    static const double ref_lml[2] = {-7.01796564276898, -42.3696472112252};
    static const double ref_mean[2][4] = {{0.834701333830053, 0.888903877336224, 1.02660550882426, 0.593059376933093},
                                          {0.864143222773967, 0.782937294377371, 1.10008201977621, 0.588064483015377}};
    static const double ref_std[2][4] = {{0.142393544517643, 0.167391806409862, 0.0923155128697548, 0.0535896768092819},
                                         {0.0569794290068163, 0.0929178210434633, 0.0298600618532687, 0.0206566296221672}};
    static const double ls[2][3] = {{0.3, 0.5, 0.8}, {0.4, 0.7, 1.2}};
    static const double scale[2] = {1.7, 0.9}, noise[2] = {0.01, 1e-3};
    double X[12 * 3], y[12], Xs[12] = {0.25, 0.5, 0.75, 0.9, 0.1, 0.3, 0.5, 0.5, 0.5, 0.05, 0.95, 0.6};
    int i, j, k;
    for (i = 0; i < 12; ++i) {
        for (j = 0; j < 3; ++j) X[i * 3 + j] = fmod(0.1 + (i * 7 + j * 3) * 0.6180339887498949, 1.0);
        y[i] = sin(3 * X[i * 3]) + X[i * 3 + 1] * X[i * 3 + 1] - 0.5 * X[i * 3 + 2];
    }
    for (k = 0; k < 2; ++k) {
        bgpbt_gp_config c = bgpbt_gp_config_default();
        bgpbt_gp* gp;
        bgpbt_gp_hypers h;
        double raw[16], lml, mu[4], var[4], sh, sc;
        c.dim = 3;
        c.ard = 1;
        c.kernel = k == 0 ? BGPBT_GP_MATERN52 : BGPBT_GP_SE;
        c.fixed_mean = 1; /* sklearn: zero mean after normalize_y */
        c.output = BGPBT_GP_STANDARDIZE;
        gp = gp_make(&c);
        REQUIRE(gp);
        CHECK_OK(bgpbt_gp_set_data(gp, X, NULL, y, 12));
        bgpbt_gp_get_hypers(gp, &h);
        h.outputscale = scale[k];
        h.noise = noise[k];
        for (j = 0; j < 3; ++j) h.lengthscale[j] = ls[k][j];
        CHECK_OK(bgpbt_gp_set_hypers(gp, &h));
        bgpbt_gp_get_params(gp, raw);
        CHECK_OK(bgpbt_gp_lml(gp, raw, &lml, NULL));
        CHECK_NEAR(lml, ref_lml[k], 1e-9 * fabs(ref_lml[k]));
        CHECK_OK(bgpbt_gp_predict(gp, Xs, NULL, 4, mu, var));
        CHECK_OK(bgpbt_gp_output_affine(gp, &sh, &sc));
        for (i = 0; i < 4; ++i) {
            CHECK_NEAR(mu[i] * sc + sh, ref_mean[k][i], 1e-9);
            CHECK_NEAR(sqrt(var[i] + bgpbt_gp_noise(gp)) * sc, ref_std[k][i], 1e-9);
        }
        bgpbt_gp_destroy(gp);
    }
}

static void gp_copula_and_quantile(void) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp* gp;
    double X[4] = {0.1, 0.2, 0.3, 0.4}, y[4] = {3.0, 1.0, 2.0, 2.0};
    const double* ty;
    static const double ps[] = {1e-300, 1e-20, 1e-5, 0.025, 0.3, 0.5, 0.7, 0.975, 1 - 1e-10};
    int i;
    CHECK_NEAR(bgpbt_normal_quantile(0.975), 1.959963984540054, 1e-13);
    CHECK_NEAR(bgpbt_normal_quantile(0.5), 0.0, 1e-15);
    for (i = 0; i < (int)(sizeof ps / sizeof ps[0]); ++i) {
        double x = bgpbt_normal_quantile(ps[i]);
        CHECK_REL(bgpbt_normal_cdf(x), ps[i], 1e-12);
    }
    c.dim = 1;
    c.output = BGPBT_GP_COPULA;
    gp = gp_make(&c);
    REQUIRE(gp);
    CHECK_OK(bgpbt_gp_set_data(gp, X, NULL, y, 4));
    ty = bgpbt_gp_targets(gp);
    /* ranks with ties sharing the highest: 3 -> 4, 1 -> 1, 2, 2 -> 3 */
    CHECK_NEAR(ty[0], bgpbt_normal_quantile(4.0 / 5.0), 1e-15);
    CHECK_NEAR(ty[1], bgpbt_normal_quantile(1.0 / 5.0), 1e-15);
    CHECK_NEAR(ty[2], bgpbt_normal_quantile(3.0 / 5.0), 1e-15);
    CHECK_NEAR(ty[3], bgpbt_normal_quantile(3.0 / 5.0), 1e-15);
    bgpbt_gp_destroy(gp);
    /* PB2's clip */
    c = bgpbt_gp_config_pb2(1);
    {
        double yo[4] = {0.0, 0.0, 0.0, 100.0}, tt[4] = {0, 1, 2, 3};
        gp = gp_make(&c);
        REQUIRE(gp);
        CHECK_OK(bgpbt_gp_set_data(gp, X, tt, yo, 4));
        ty = bgpbt_gp_targets(gp);
        CHECK_NEAR(ty[3], 1.7320508075688772, 1e-12); /* z-score of the outlier, below the clip */
        yo[3] = 1e6; yo[0] = -1; yo[1] = 1; yo[2] = 0;
        bgpbt_gp_destroy(gp);
    }
}

static void gp_pending_is_kriging_believer(void) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp *gp, *gp2;
    bgpbt_gp_hypers h;
    double X[11 * 2], y[11], xp[2] = {0.45, 0.55}, xs[3 * 2] = {0.45, 0.55, 0.5, 0.5, 0.9, 0.9};
    double m1[3], v1[3], m2[3], v2[3], m0[3], v0[3], mp;
    bgpbt_rng r;
    int i;
    bgpbt_rng_init(&r, 2, 0);
    c.dim = 2;
    c.output = BGPBT_GP_NONE;
    for (i = 0; i < 10; ++i) {
        X[2 * i] = bgpbt_rng_double(&r);
        X[2 * i + 1] = bgpbt_rng_double(&r);
        y[i] = X[2 * i] - X[2 * i + 1];
    }
    gp = gp_make(&c);
    gp2 = gp_make(&c);
    REQUIRE(gp && gp2);
    CHECK_OK(bgpbt_gp_set_data(gp, X, NULL, y, 10));
    CHECK_OK(bgpbt_gp_fit(gp));
    CHECK_OK(bgpbt_gp_predict(gp, xs, NULL, 3, m0, v0));
    CHECK_OK(bgpbt_gp_predict(gp, xp, NULL, 1, &mp, NULL));
    CHECK_OK(bgpbt_gp_set_pending(gp, xp, NULL, 1));
    CHECK_OK(bgpbt_gp_predict(gp, xs, NULL, 3, m1, v1));
    /* the same GP with the fantasy (xp, mean) as data and the same hyperparameters */
    X[20] = xp[0]; X[21] = xp[1]; y[10] = mp;
    CHECK_OK(bgpbt_gp_set_data(gp2, X, NULL, y, 11));
    bgpbt_gp_get_hypers(gp, &h);
    CHECK_OK(bgpbt_gp_set_hypers(gp2, &h));
    CHECK_OK(bgpbt_gp_predict(gp2, xs, NULL, 3, m2, v2));
    for (i = 0; i < 3; ++i) {
        CHECK_NEAR(m1[i], m0[i], 1e-12);  /* mean unchanged */
        CHECK_NEAR(m2[i], m0[i], 1e-8);   /* ... as the refit with the fantasy shows */
        CHECK_NEAR(v1[i], v2[i], 1e-10);  /* variance as with the fantasy point */
        CHECK(v1[i] <= v0[i] + 1e-15);
    }
    CHECK(v1[0] < 0.5 * v0[0]);
    CHECK_OK(bgpbt_gp_set_pending(gp, NULL, NULL, 0));
    CHECK_OK(bgpbt_gp_predict(gp, xs, NULL, 3, m1, v1));
    for (i = 0; i < 3; ++i) CHECK_NEAR(v1[i], v0[i], 1e-15);
    bgpbt_gp_destroy(gp);
    bgpbt_gp_destroy(gp2);
}

static void gp_time_kernel_and_samples(void) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp* gp;
    bgpbt_gp_hypers h;
    double X[2] = {0.5, 0.5}, t[2] = {0.0, 2.0}, y[2] = {1.0, 0.0}, raw[8], lml;
    double s = 1.0, sn = 0.1, eps = 0.3, k12, det;
    c.dim = 1;
    c.time_varying = 1;
    c.output = BGPBT_GP_NONE;
    c.fixed_mean = 1;
    gp = gp_make(&c);
    REQUIRE(gp);
    CHECK_OK(bgpbt_gp_set_data(gp, X, t, y, 2));
    bgpbt_gp_get_hypers(gp, &h);
    h.outputscale = s; h.noise = sn; h.eps = eps; h.lengthscale[0] = 0.3;
    CHECK_OK(bgpbt_gp_set_hypers(gp, &h));
    /* same x, |dt| = 2: k12 = s (1 - eps)^1 */
    k12 = s * (1.0 - eps);
    det = (s + sn) * (s + sn) - k12 * k12;
    bgpbt_gp_get_params(gp, raw);
    CHECK_OK(bgpbt_gp_lml(gp, raw, &lml, NULL));
    CHECK_NEAR(lml, -0.5 * (s + sn) / det - 0.5 * log(det) - log(2 * 3.14159265358979323846), 1e-12);
    { /* samples: their mean and variance match the posterior (4000 draws) */
        double xs[2] = {0.5, 0.8}, ts[2] = {2.0, 2.0}, mu[2], var[2], *out;
        double sm[2] = {0, 0}, sv[2] = {0, 0};
        bgpbt_rng r;
        int i, j, ns = 4000;
        out = (double*)malloc(sizeof(double) * 2 * (size_t)ns);
        bgpbt_rng_init(&r, 1, 0);
        CHECK_OK(bgpbt_gp_predict(gp, xs, ts, 2, mu, var));
        CHECK_OK(bgpbt_gp_sample(gp, xs, ts, 2, ns, &r, out));
        for (i = 0; i < ns; ++i) for (j = 0; j < 2; ++j) sm[j] += out[i * 2 + j] / ns;
        for (i = 0; i < ns; ++i) for (j = 0; j < 2; ++j) sv[j] += (out[i * 2 + j] - sm[j]) * (out[i * 2 + j] - sm[j]) / ns;
        for (j = 0; j < 2; ++j) {
            double vy = var[j] + sn; /* samples of y */
            CHECK_NEAR(sm[j], mu[j], 4.0 * sqrt(vy / ns));
            CHECK_NEAR(sv[j], vy, 0.1 * vy);
        }
        free(out);
    }
    bgpbt_gp_destroy(gp);
}

static void gp_fit_improves_and_is_deterministic(void) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp *a, *b;
    static double X[200 * 5], y[200];
    double raw[16], lml0, xs[5] = {0.1, 0.2, 0.3, 0.4, 0.5}, ma, va, mb, vb;
    bgpbt_gp_fit_info fi;
    bgpbt_rng r;
    int i, j;
    bgpbt_rng_init(&r, 17, 0);
    c.dim = 5;
    c.ard = 1;
    c.seed = 4;
    for (i = 0; i < 200; ++i) {
        double s = 0.0;
        for (j = 0; j < 5; ++j) { X[i * 5 + j] = bgpbt_rng_double(&r); s += sin(5 * X[i * 5 + j]) * (j < 2 ? 1.0 : 0.1); }
        y[i] = s + 0.05 * bgpbt_rng_normal(&r);
    }
    a = gp_make(&c);
    b = gp_make(&c);
    REQUIRE(a && b);
    CHECK_OK(bgpbt_gp_set_data(a, X, NULL, y, 200));
    bgpbt_gp_get_params(a, raw);
    CHECK_OK(bgpbt_gp_lml(a, raw, &lml0, NULL));
    CHECK_OK(bgpbt_gp_fit(a));
    bgpbt_gp_get_fit_info(a, &fi);
    CHECK(fi.lml > lml0 + 10.0);
    CHECK(fi.starts == 4 && fi.evaluations > fi.starts);
    { /* the irrelevant dims get long lengthscales */
        bgpbt_gp_hypers h;
        bgpbt_gp_get_hypers(a, &h);
        CHECK(h.lengthscale[4] > 2.0 * h.lengthscale[0]);
    }
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    CHECK_OK(bgpbt_gp_set_data(b, X, NULL, y, 200));
    CHECK_OK(bgpbt_gp_fit(b));
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    CHECK_OK(bgpbt_gp_predict(a, xs, NULL, 1, &ma, &va));
    CHECK_OK(bgpbt_gp_predict(b, xs, NULL, 1, &mb, &vb));
    CHECK(ma == mb && va == vb); /* bit-identical for 1 and 2 threads */
    bgpbt_gp_destroy(a);
    bgpbt_gp_destroy(b);
}

static void gp_rejects_bad_input(void) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp* gp = NULL;
    double X[6] = {0.1, 0, 0.5, 1, 0.9, 2}, y[3] = {1, 2, 3}, m;
    test_log_capture cap;
    memset(&cap, 0, sizeof cap);
    c.logger.fn = test_log_capture_fn;
    c.logger.user = &cap;
    c.dim = 0;
    CHECK_RESULT(bgpbt_gp_create(&c, &gp), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK(gp == NULL);
    c.dim = 2;
    c.num_categories[1] = 3;
    c.noise_min = 0.5; c.noise_max = 0.1;
    CHECK_RESULT(bgpbt_gp_create(&c, &gp), BGPBT_ERR_EMPTY_RANGE);
    c.noise_min = 0; c.noise_max = 0;
    CHECK_OK(bgpbt_gp_create(&c, &gp));
    REQUIRE(gp);
    CHECK_OK(bgpbt_gp_set_data(gp, X, NULL, y, 3));
    y[1] = NAN;
    CHECK_RESULT(bgpbt_gp_set_data(gp, X, NULL, y, 2), BGPBT_ERR_NOT_FINITE);
    CHECK(strstr(cap.last, "y[1]") != NULL);
    CHECK_EQ_INT(bgpbt_gp_num_data(gp), 3); /* unchanged */
    y[1] = 2;
    X[3] = 3; /* category out of range */
    CHECK_RESULT(bgpbt_gp_set_data(gp, X, NULL, y, 3), BGPBT_ERR_OUT_OF_RANGE);
    X[3] = 1;
    X[2] = INFINITY;
    CHECK_RESULT(bgpbt_gp_predict(gp, X + 2, NULL, 1, &m, NULL), BGPBT_ERR_NOT_FINITE);
    bgpbt_gp_destroy(gp);
    { /* allocation failures: every point of failure returns OUT_OF_MEMORY and leaks nothing */
        long k;
        for (k = 1; k <= 40; ++k) {
            test_failing_alloc fa;
            bgpbt_result r;
            bgpbt_gp_config c2 = bgpbt_gp_config_default();
            double X2[8] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}, y2[4] = {1, 2, 3, 5};
            c2.dim = 2;
            c2.output = BGPBT_GP_COPULA;
            c2.allocator = test_failing_allocator(&fa, k);
            gp = NULL;
            r = bgpbt_gp_create(&c2, &gp);
            if (r == BGPBT_OK) {
                r = bgpbt_gp_set_data(gp, X2, NULL, y2, 4);
                if (r == BGPBT_OK) r = bgpbt_gp_fit(gp);
                bgpbt_gp_destroy(gp);
            }
            CHECK(r == BGPBT_OK || r == BGPBT_ERR_OUT_OF_MEMORY);
            CHECK(fa.live_blocks == 0);
            if (fa.count < k) break; /* no allocation failed: all covered */
        }
    }
}

void suite_gp(void) {
    RUN(gp_cholesky_factors_and_solves);
    RUN(gp_cholesky_jitter_and_failure);
    RUN(gp_posterior_closed_form);
    RUN(gp_noise_free_interpolates);
    RUN(gp_lml_gradient_matches_finite_differences);
    RUN(gp_predict_gradient_matches_finite_differences);
    RUN(gp_matches_sklearn);
    RUN(gp_copula_and_quantile);
    RUN(gp_pending_is_kriging_believer);
    RUN(gp_time_kernel_and_samples);
    RUN(gp_fit_improves_and_is_deterministic);
    RUN(gp_rejects_bad_input);
}
