/* Minimise the Branin function (2 dims, global minimum 0.397887) with trust-region Bayesian
   optimisation through the ask/tell API, printing the progress.

       cc -O2 -march=native -std=c99 examples/bo_branin.c -o bo_branin -lm && ./bo_branin

   (add -fopenmp to fit the GP restarts on several threads) */
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <stdio.h>
#include <math.h>

static double branin(const double* x) {
    const double pi = 3.14159265358979323846;
    double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
    return pow(x[1] - b * x[0] * x[0] + c * x[0] - 6, 2) + 10 * (1 - t) * cos(x[0]) + 10;
}

int main(void) {
    bgpbt_bo_config cfg = bgpbt_bo_config_default();
    bgpbt_bo* bo;
    bgpbt_bo_tr_state tr;
    double x[2], y, best = 0.0, xbest[2];
    int i;
    cfg.logger.fn = bgpbt_log_stderr; /* errors (and only errors) to stderr */
    bgpbt_bo_space_add_float(&cfg.space, "x1", -5.0, 10.0, 0);
    bgpbt_bo_space_add_float(&cfg.space, "x2", 0.0, 15.0, 0);
    cfg.seed = 42;
    if (bgpbt_bo_create(&cfg, &bo) != BGPBT_OK) return 1;
    printf(" eval        x1        x2          f       best   TR length\n");
    for (i = 1; i <= 40; ++i) {
        if (bgpbt_bo_ask(bo, NULL, 1, x) != BGPBT_OK) return 1; /* one suggestion */
        y = branin(x);                                            /* evaluate it */
        if (bgpbt_bo_tell(bo, x, 0.0, y) != BGPBT_OK) return 1;  /* report it */
        bgpbt_bo_best(bo, xbest, &best);
        bgpbt_bo_tr_get(bo, &tr);
        printf("%5d %9.4f %9.4f %10.5f %10.5f %8.3f\n", i, x[0], x[1], y, best, tr.length);
    }
    printf("best f = %.6f at (%.4f, %.4f); the global minimum is 0.397887\n", best, xbest[0], xbest[1]);
    bgpbt_bo_destroy(bo);
    return 0;
}
