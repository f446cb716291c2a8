/* BO benchmark: one BG-PBT-sized suggestion. 100 observations in 16 dims (15 hyperparameters,
   9 float and 6 integer, plus the return-before context), time-varying Matern-5/2 GP with a
   shared lengthscale and copula targets (BG-PBT's model, but with the lengthscale fitted),
   BG-PBT's trust region, LCB beta = 3, a batch of 8 through pending points. The time includes
   the GP fit (L-BFGS, 1 restart) and the 8 acquisition optimisations. Median of 7 wall times
   (OpenMP's default threads); bo.suggest.bgpbt_size.cpu_ms is the median process CPU time (all
   threads), the figure to compare on a loaded machine. No peer: the released BG-PBT runs this
   in Python/GPyTorch. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char* filter = "";
static void report(const char* name, double value, const char* unit) {
    if (strncmp(name, filter, strlen(filter)) == 0) printf("%s %.4g %s\n", name, value, unit);
}
static int cmp_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
    enum { N = 100, D = 16, Q = 8, REPEATS = 7 };
    static double X[N * D], T[N], Y[N], out[Q * D];
    double t[REPEATS], tc[REPEATS];
    bgpbt_bo_config c;
    bgpbt_bo* bo;
    bgpbt_rng r;
    bgpbt_bo_request req;
    int i, j, k;
    char nm[16];
    if (argc > 1) filter = argv[1];
    if (strncmp("bo.suggest.bgpbt_size", filter, strlen(filter)) != 0) return 0;
    c = bgpbt_bo_config_default();
    for (i = 0; i < 9; ++i) { sprintf(nm, "f%d", i); bgpbt_bo_space_add_float(&c.space, nm, 1e-4, 1.0, i % 2); }
    for (i = 0; i < 6; ++i) { sprintf(nm, "i%d", i); bgpbt_bo_space_add_int(&c.space, nm, 1, 16, 0); }
    bgpbt_bo_space_add_context(&c.space, "r_before", 0, 0);
    c.time_varying = 1;
    c.gp.ard = 0;
    c.gp.output = BGPBT_GP_COPULA;
    c.acq = BGPBT_BO_ACQ_LCB;
    c.beta = 3.0;
    c.tr = bgpbt_bo_tr_bgpbt();
    c.n_restarts = 3;
    c.n_steps = 40;
    bgpbt_rng_init(&r, 5, 0);
    for (i = 0; i < N; ++i) {
        double s = 0.0;
        for (j = 0; j < D - 1; ++j) {
            const bgpbt_bo_param* p = &c.space.params[j];
            double u = bgpbt_rng_double(&r);
            X[i * D + j] = p->type == BGPBT_BO_INT ? (double)(1 + bgpbt_rng_below(&r, 16)) : (p->log_scale ? exp(log(1e-4) + u * log(1e4)) : 1e-4 + u);
            s += (u - 0.3) * (u - 0.3);
        }
        X[i * D + D - 1] = -1000.0 * bgpbt_rng_double(&r);
        T[i] = 1 + i / 8;
        Y[i] = s + 0.1 * bgpbt_rng_normal(&r);
    }
    for (k = 0; k < REPEATS; ++k) {
        double t0, c0;
        if (bgpbt_bo_create(&c, &bo) != BGPBT_OK) return 1;
        bgpbt_bo_set_data(bo, X, T, Y, N);
        memset(&req, 0, sizeof req);
        req.center = X + 5 * D;
        t0 = bgpbt_time_seconds();
        c0 = (double)clock() / CLOCKS_PER_SEC;
        if (bgpbt_bo_suggest(bo, &req, Q, out) != BGPBT_OK) return 1;
        tc[k] = (double)clock() / CLOCKS_PER_SEC - c0;
        t[k] = bgpbt_time_seconds() - t0;
        bgpbt_bo_destroy(bo);
    }
    qsort(t, REPEATS, sizeof *t, cmp_double);
    report("bo.suggest.bgpbt_size", t[REPEATS / 2] * 1e3, "ms");
    qsort(tc, REPEATS, sizeof *tc, cmp_double);
    report("bo.suggest.bgpbt_size.cpu_ms", tc[REPEATS / 2] * 1e3, "ms");
    return 0;
}
