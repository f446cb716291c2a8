/* SIMD vocabulary: every op against the scalar expression lane by lane, and the approximations
   against libm (double precision) with the error bounds documented in [impl.simd]. */

#define SIMD_N 4096
static float simd_a[SIMD_N], simd_b[SIMD_N], simd_c[SIMD_N], simd_out[SIMD_N];

static void simd_fill(uint64_t seed, float lo, float hi) {
    bgpbt_rng r;
    int i;
    bgpbt_rng_init(&r, seed, 0);
    for (i = 0; i < SIMD_N; ++i) {
        simd_a[i] = lo + (hi - lo) * bgpbt_rng_float(&r);
        simd_b[i] = lo + (hi - lo) * bgpbt_rng_float(&r);
        simd_c[i] = lo + (hi - lo) * bgpbt_rng_float(&r);
    }
    simd_a[0] = simd_b[0]; /* an equal pair, for eq/le/ge */
}

/* The element-wise ops are exact: they must equal the scalar C expression bit for bit. */
static void simd_elementwise_exact(void) {
    int i, k, bad = 0;
    simd_fill(1, -10.0f, 10.0f);
    for (k = 0; k < 16; ++k) {
        for (i = 0; i + BGPBT_FW_WIDTH <= SIMD_N; i += BGPBT_FW_WIDTH) {
            bgpbt_fw a = bgpbt_fw_load(simd_a + i), b = bgpbt_fw_load(simd_b + i), c = bgpbt_fw_load(simd_c + i), r;
            switch (k) {
                case 0: r = bgpbt_fw_add(a, b); break;
                case 1: r = bgpbt_fw_sub(a, b); break;
                case 2: r = bgpbt_fw_mul(a, b); break;
                case 3: r = bgpbt_fw_div(a, b); break;
                case 4: r = bgpbt_fw_min(a, b); break;
                case 5: r = bgpbt_fw_max(a, b); break;
                case 6: r = bgpbt_fw_muladd(a, b, c); break;
                case 7: r = bgpbt_fw_neg(a); break;
                case 8: r = bgpbt_fw_abs(a); break;
                case 9: r = bgpbt_fw_sqrt(bgpbt_fw_abs(a)); break;
                case 10: r = bgpbt_fw_blend(bgpbt_fw_lt(a, b), a, b); break;
                case 11: r = bgpbt_fw_blend(bgpbt_fw_le(a, b), c, a); break;
                case 12: r = bgpbt_fw_blend(bgpbt_fw_gt(a, b), c, b); break;
                case 13: r = bgpbt_fw_blend(bgpbt_fw_ge(a, b), a, c); break;
                case 14: r = bgpbt_fw_blend(bgpbt_fm_or(bgpbt_fw_eq(a, b), bgpbt_fm_not(bgpbt_fw_lt(a, c))), a, c); break;
                default: r = bgpbt_fw_clamp(a, bgpbt_fw_set1(-1.0f), bgpbt_fw_set1(2.0f)); break;
            }
            bgpbt_fw_store(simd_out + i, r);
        }
        for (i = 0; i < SIMD_N - SIMD_N % BGPBT_FW_WIDTH; ++i) {
            volatile float a = simd_a[i], b = simd_b[i], c = simd_c[i], ab, e;
            switch (k) {
                case 0: e = a + b; break;
                case 1: e = a - b; break;
                case 2: e = a * b; break;
                case 3: e = a / b; break;
                case 4: e = a < b ? a : b; break;
                case 5: e = a > b ? a : b; break;
                case 6: ab = a * b; e = ab + c; break; /* two roundings */
                case 7: e = -a; break;
                case 8: e = fabsf(a); break;
                case 9: e = sqrtf(fabsf(a)); break;
                case 10: e = a < b ? b : a; break;
                case 11: e = a <= b ? a : c; break;
                case 12: e = a > b ? b : c; break;
                case 13: e = a >= b ? c : a; break;
                case 14: e = (a == b || !(a < c)) ? c : a; break;
                default: e = a < -1.0f ? -1.0f : a > 2.0f ? 2.0f : a; break;
            }
            if (memcmp((const void*)&e, &simd_out[i], 4) != 0 && !(e == 0.0f && simd_out[i] == 0.0f)) {
                if (bad < 5) printf("  op %d lane %d: %.9g vs %.9g\n", k, i, (double)e, (double)simd_out[i]);
                bad++;
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static void simd_fma_and_masks(void) {
    int i, bad = 0;
    simd_fill(2, -4.0f, 4.0f);
    for (i = 0; i + BGPBT_FW_WIDTH <= SIMD_N; i += BGPBT_FW_WIDTH) {
        bgpbt_fw r = bgpbt_fw_fma(bgpbt_fw_load(simd_a + i), bgpbt_fw_load(simd_b + i), bgpbt_fw_load(simd_c + i));
        bgpbt_fw_store(simd_out + i, r);
    }
    for (i = 0; i < SIMD_N - SIMD_N % BGPBT_FW_WIDTH; ++i) {
        double e = (double)simd_a[i] * simd_b[i] + simd_c[i];
        /* fused: within half an ulp of the exact value; unfused: within about 2 ulp of |ab|+|c| */
        double tol = 2.5 * FLT_EPSILON * (fabs((double)simd_a[i] * simd_b[i]) + fabs(simd_c[i]));
        bad += fabs(simd_out[i] - e) > tol;
    }
    CHECK_EQ_INT(bad, 0);
    {
        bgpbt_fw one = bgpbt_fw_set1(1.0f), two = bgpbt_fw_set1(2.0f);
        CHECK(bgpbt_fm_all(bgpbt_fw_lt(one, two)));
        CHECK(!bgpbt_fm_any(bgpbt_fw_lt(two, one)));
        CHECK(bgpbt_fm_any(bgpbt_fw_eq(one, one)));
        CHECK(!bgpbt_fm_all(bgpbt_fm_and(bgpbt_fw_lt(one, two), bgpbt_fw_lt(two, one))));
        CHECK(bgpbt_fm_all(bgpbt_fm_not(bgpbt_fw_lt(two, one))));
    }
    {   /* a mask with some lanes set (only meaningful when W > 1) */
        float v[BGPBT_FW_WIDTH];
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = (float)i;
        {
            bgpbt_fm m = bgpbt_fw_lt(bgpbt_fw_load(v), bgpbt_fw_set1(0.5f));
            CHECK(bgpbt_fm_any(m));
            CHECK(bgpbt_fm_all(m) == (BGPBT_FW_WIDTH == 1));
        }
    }
}

static void simd_hsum_fixed_order(void) {
    float v[BGPBT_FW_WIDTH], expect = 0.0f;
    int i;
    for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = 1.0f / (float)(i + 3) + (i % 3 ? 1e7f : -1e7f);
    for (i = 0; i < BGPBT_FW_WIDTH; ++i) expect += v[i]; /* lane 0, 1, ..., W-1 */
    CHECK(bgpbt_fw_hsum(bgpbt_fw_load(v)) == expect);
}

typedef bgpbt_fw (*simd_unary)(bgpbt_fw);
/* max relative (and absolute) error of a wide op against a double-precision reference */
static void simd_measure(simd_unary op, double (*ref)(double), float lo, float hi, double* max_rel, double* max_abs) {
    int i;
    simd_fill(3, lo, hi);
    *max_rel = *max_abs = 0;
    for (i = 0; i + BGPBT_FW_WIDTH <= SIMD_N; i += BGPBT_FW_WIDTH) bgpbt_fw_store(simd_out + i, op(bgpbt_fw_load(simd_a + i)));
    for (i = 0; i < SIMD_N - SIMD_N % BGPBT_FW_WIDTH; ++i) {
        double e = ref(simd_a[i]), d = fabs(simd_out[i] - e);
        if (d > *max_abs) *max_abs = d;
        if (e != 0 && d / fabs(e) > *max_rel) *max_rel = d / fabs(e);
    }
}

static void simd_exp_accuracy(void) {
    double rel, abs_;
    simd_measure(bgpbt_fw_exp, exp, -87.0f, 88.0f, &rel, &abs_);
    CHECK(rel < 3e-7);
    simd_measure(bgpbt_fw_exp, exp, -1.0f, 1.0f, &rel, &abs_);
    CHECK(rel < 3e-7);
    {
        float v[BGPBT_FW_WIDTH];
        int i;
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = -100.0f;
        bgpbt_fw_store(v, bgpbt_fw_exp(bgpbt_fw_load(v)));
        CHECK(v[0] == 0.0f);
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = 100.0f;
        bgpbt_fw_store(v, bgpbt_fw_exp(bgpbt_fw_load(v)));
        CHECK(isinf(v[0]) && v[0] > 0);
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = NAN;
        bgpbt_fw_store(v, bgpbt_fw_exp(bgpbt_fw_load(v)));
        CHECK(isnan(v[0]));
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = 0.0f;
        bgpbt_fw_store(v, bgpbt_fw_exp(bgpbt_fw_load(v)));
        CHECK(v[0] == 1.0f);
    }
}

static void simd_log_accuracy(void) {
    double rel, abs_;
    simd_measure(bgpbt_fw_log, log, 1e-30f, 1e30f, &rel, &abs_);
    CHECK(rel < 3e-7);
    simd_measure(bgpbt_fw_log, log, 0.5f, 2.0f, &rel, &abs_);
    CHECK(abs_ < 1.2e-7); /* near 1 the relative error is ill-defined; absolute is tight */
    {
        float v[BGPBT_FW_WIDTH];
        int i;
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = 0.0f;
        bgpbt_fw_store(v, bgpbt_fw_log(bgpbt_fw_load(v)));
        CHECK(isinf(v[0]) && v[0] < 0);
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = -1.0f;
        bgpbt_fw_store(v, bgpbt_fw_log(bgpbt_fw_load(v)));
        CHECK(isnan(v[0]));
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = HUGE_VALF;
        bgpbt_fw_store(v, bgpbt_fw_log(bgpbt_fw_load(v)));
        CHECK(isinf(v[0]) && v[0] > 0);
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = 1.0f;
        bgpbt_fw_store(v, bgpbt_fw_log(bgpbt_fw_load(v)));
        CHECK(v[0] == 0.0f);
    }
}

static void simd_tanh_accuracy(void) {
    double rel, abs_;
    simd_measure(bgpbt_fw_tanh, tanh, -20.0f, 20.0f, &rel, &abs_);
    CHECK(abs_ < 2e-7);
    CHECK(rel < 4e-7);
    simd_measure(bgpbt_fw_tanh, tanh, -0.6f, 0.6f, &rel, &abs_);
    CHECK(rel < 4e-7);
    simd_measure(bgpbt_fw_tanh, tanh, -1e-3f, 1e-3f, &rel, &abs_);
    CHECK(rel < 2e-7);
    {
        float v[BGPBT_FW_WIDTH];
        int i;
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = 1e30f;
        bgpbt_fw_store(v, bgpbt_fw_tanh(bgpbt_fw_load(v)));
        CHECK(v[0] == 1.0f);
        for (i = 0; i < BGPBT_FW_WIDTH; ++i) v[i] = -HUGE_VALF;
        bgpbt_fw_store(v, bgpbt_fw_tanh(bgpbt_fw_load(v)));
        CHECK(v[0] == -1.0f);
    }
}

static void simd_sincos_accuracy(void) {
    int i;
    double worst = 0;
    simd_fill(4, -3.14159265f, 3.14159265f);
    for (i = 0; i + BGPBT_FW_WIDTH <= SIMD_N; i += BGPBT_FW_WIDTH) {
        bgpbt_fw s, c;
        bgpbt__fw_sincos_pi(bgpbt_fw_load(simd_a + i), &s, &c);
        bgpbt_fw_store(simd_out + i, s);
        bgpbt_fw_store(simd_b + i, c);
    }
    for (i = 0; i < SIMD_N - SIMD_N % BGPBT_FW_WIDTH; ++i) {
        double ds = fabs(simd_out[i] - sin(simd_a[i])), dc = fabs(simd_b[i] - cos(simd_a[i]));
        if (ds > worst) worst = ds;
        if (dc > worst) worst = dc;
    }
    CHECK(worst < 5e-7);
}

/* The wide approximations equal the scalar build's within a few ulp: computed here by running
   the same polynomial in double precision lane by lane is not possible without the scalar
   build, so tests/run.sh runs this suite in every SIMD build; each is checked against libm
   with the same bounds, which bounds their difference by twice the bound. */

void suite_simd(void) {
    printf("simd: %s, width %d\n", bgpbt_simd_name(), bgpbt_simd_width());
    CHECK_EQ_INT(bgpbt_simd_width(), BGPBT_FW_WIDTH);
    RUN(simd_elementwise_exact);
    RUN(simd_fma_and_masks);
    RUN(simd_hsum_fixed_order);
    RUN(simd_exp_accuracy);
    RUN(simd_log_accuracy);
    RUN(simd_tanh_accuracy);
    RUN(simd_sincos_accuracy);
}
