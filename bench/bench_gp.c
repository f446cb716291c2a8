/* GP benchmarks against scikit-learn and NumPy, measured in the same run.
   gp.fit_predict.n<n>.d<d>.vs_sklearn: fit (L-BFGS on the log marginal likelihood with analytic
     gradients, 3 restarts as sklearn's n_restarts_optimizer=3; ARD Matern-5/2 x outputscale +
     learned noise, standardised y, zero mean as sklearn's normalize_y; sklearn's boxes, initial
     values and stopping rule; the same data set, written to a file the peer reads) then predict
     mean and variance at 1000 points; ratio = sklearn time / ours (higher is better). Also
     printed: both sides' LML evaluation counts and the LML each fit reached.
   gp.cholesky.n<n>.vs_numpy: numpy.linalg.cholesky time / bgpbt_linalg_cholesky time.
   Both sides run on ONE thread (omp_set_num_threads(1) here; OPENBLAS/OMP/MKL_NUM_THREADS=1 and
   threadpoolctl in the peer) in the same run. Each side reports the median of its repeats, as
   process CPU time (the ratio lines) and wall time (the _wall lines): on a shared machine the
   CPU time is the figure least disturbed by other processes, on an idle one the two agree.
   The Cholesky lines use the median wall time of 11-31 calls of well under a time slice.
   The peer is bench/gp_peer.py run by /usr/bin/python3. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static const char* filter = "";
static int want(const char* name) { return strncmp(name, filter, strlen(filter)) == 0 || strncmp(filter, name, strlen(name)) == 0; }
static void report(const char* name, double value, const char* unit) {
    if (strncmp(name, filter, strlen(filter)) == 0) printf("%s %.4g %s\n", name, value, unit);
    fflush(stdout);
}
static int cmp_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}
static double median_of(double* t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}
/* process CPU time (user + system) in seconds */
static double cpu_seconds(void) { return (double)clock() / (double)CLOCKS_PER_SEC; }

/* run the peer script (one BLAS thread); sets the values of the lines named key[i] (-1 when
   missing) */
static void peer(const char* args, int nk, const char* const* key, double* val) {
    char cmd[1024], line[512];
    const char* dir = getenv("BENCH_DIR");
    FILE* p;
    int i;
    for (i = 0; i < nk; ++i) val[i] = -1.0;
    snprintf(cmd, sizeof cmd,
             "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 /usr/bin/python3 %s/gp_peer.py %s 2>/dev/null",
             dir ? dir : "bench", args);
    p = popen(cmd, "r");
    if (!p) return;
    while (fgets(line, sizeof line, p)) {
        char name[256];
        double v;
        if (sscanf(line, "%255s %lf", name, &v) == 2)
            for (i = 0; i < nk; ++i)
                if (!strcmp(name, key[i])) val[i] = v;
    }
    pclose(p);
}

static void bench_fit_predict(int n, int d, int repeats) {
    char name[128], args[640], k0[128], k1[128], k2[128], k3[128], nm[160], path[512];
    const char* keys[4];
    double *X = (double*)malloc(sizeof(double) * (size_t)n * d), *y = (double*)malloc(sizeof(double) * (size_t)n);
    double *Xs = (double*)malloc(sizeof(double) * 1000 * (size_t)d), *mu = (double*)malloc(sizeof(double) * 1000),
           *var = (double*)malloc(sizeof(double) * 1000);
    double tw[16], tc[16], ours_w, ours_c, sk[4], lml = 0.0;
    bgpbt_rng r;
    int i, j, k, evals = 0;
    snprintf(name, sizeof name, "gp.fit_predict.n%d.d%d.vs_sklearn", n, d);
    if (!want(name)) goto out;
    bgpbt_rng_init(&r, 1, 0);
    for (i = 0; i < n; ++i) {
        double s = 0.0;
        for (j = 0; j < d; ++j) { X[i * d + j] = bgpbt_rng_double(&r); s += sin(5 * X[i * d + j]); }
        y[i] = s + 0.1 * bgpbt_rng_normal(&r);
    }
    for (i = 0; i < 1000 * d; ++i) Xs[i] = bgpbt_rng_double(&r);
    { /* the peer fits the same data: n, d, X, y, Xs as raw doubles */
        const char* dir = getenv("BENCH_BUILD");
        FILE* f;
        double hd[2];
        snprintf(path, sizeof path, "%s/gp_data_n%d_d%d.bin", dir ? dir : "/tmp", n, d);
        f = fopen(path, "wb");
        if (f) {
            hd[0] = n; hd[1] = d;
            fwrite(hd, sizeof(double), 2, f);
            fwrite(X, sizeof(double), (size_t)n * d, f);
            fwrite(y, sizeof(double), (size_t)n, f);
            fwrite(Xs, sizeof(double), (size_t)1000 * d, f);
            fclose(f);
        }
    }
    for (k = 0; k < repeats; ++k) {
        bgpbt_gp_config c = bgpbt_gp_config_default();
        bgpbt_gp* gp;
        bgpbt_gp_fit_info fi;
        double t0, c0;
        c.dim = d;
        c.ard = 1;
        c.fixed_mean = 1;
        /* like for like: scikit-learn's default boxes and initial values for this kernel
           (lengthscale, constant and noise in [1e-5, 1e5]; lengthscale 1, constant 1, noise
           1e-3), instead of our tighter defaults for unit-cube inputs */
        c.lengthscale_min = 1e-5; c.lengthscale_max = 1e5; c.lengthscale_init = 1.0;
        c.outputscale_min = 1e-5; c.outputscale_max = 1e5; c.outputscale_init = 1.0;
        c.noise_min = 1e-5; c.noise_max = 1e5; c.noise_init = 1e-3;
        c.fit_tol = 2.2e-9; /* scipy's L-BFGS-B stopping rule (factr 1e7); pgtol 1e-5 is ours too */
        c.fit_restarts = 3;
        c.seed = (uint64_t)k;
        t0 = bgpbt_time_seconds();
        c0 = cpu_seconds();
        if (bgpbt_gp_create(&c, &gp) != BGPBT_OK) return;
        bgpbt_gp_set_data(gp, X, NULL, y, n);
        bgpbt_gp_fit(gp);
        bgpbt_gp_predict(gp, Xs, NULL, 1000, mu, var);
        tc[k] = cpu_seconds() - c0;
        tw[k] = bgpbt_time_seconds() - t0;
        bgpbt_gp_get_fit_info(gp, &fi);
        evals += fi.evaluations;
        lml = fi.lml;
        bgpbt_gp_destroy(gp);
    }
    ours_w = median_of(tw, repeats);
    ours_c = median_of(tc, repeats);
    snprintf(args, sizeof args, "fit %d %d %d %s", n, d, repeats, path);
    snprintf(k0, sizeof k0, "sk.fit_predict.n%d.d%d", n, d);
    snprintf(k1, sizeof k1, "sk.fit_predict_cpu.n%d.d%d", n, d);
    snprintf(k2, sizeof k2, "sk.lml_evals.n%d.d%d", n, d);
    snprintf(k3, sizeof k3, "sk.lml.n%d.d%d", n, d);
    keys[0] = k0; keys[1] = k1; keys[2] = k2; keys[3] = k3;
    peer(args, 4, keys, sk);
    remove(path);
    snprintf(nm, sizeof nm, "gp.fit_predict.n%d.d%d.ours_ms", n, d);
    report(nm, ours_c * 1e3, "ms");
    snprintf(nm, sizeof nm, "gp.fit_predict.n%d.d%d.lml_evals_ours", n, d);
    report(nm, (double)evals / repeats, "evals");
    if (sk[0] > 0 && sk[1] > 0) {
        snprintf(nm, sizeof nm, "gp.fit_predict.n%d.d%d.sklearn_ms", n, d);
        report(nm, sk[1] * 1e3, "ms");
        snprintf(nm, sizeof nm, "gp.fit_predict.n%d.d%d.lml_evals_sklearn", n, d);
        report(nm, sk[2], "evals");
        snprintf(nm, sizeof nm, "gp.fit_predict.n%d.d%d.lml_ours", n, d);
        if (strncmp(nm, filter, strlen(filter)) == 0) printf("%s %.10g nats\n", nm, lml);
        snprintf(nm, sizeof nm, "gp.fit_predict.n%d.d%d.lml_sklearn", n, d);
        if (strncmp(nm, filter, strlen(filter)) == 0) printf("%s %.10g nats\n", nm, sk[3]);
        snprintf(nm, sizeof nm, "gp.fit_predict.n%d.d%d.vs_sklearn_wall", n, d);
        report(nm, sk[0] / ours_w, "x");
        report(name, sk[1] / ours_c, "x");
    } else {
        printf("# %s: scikit-learn peer unavailable (install python3-sklearn)\n", name);
    }
out:
    free(X); free(y); free(Xs); free(mu); free(var);
}

static void bench_cholesky(int n) {
    char name[128], args[128], k0[128], nm[160];
    const char* keys[1];
    double *a, *l, t[31], ours, theirs;
    bgpbt_rng r;
    int i, j, k, reps = n <= 200 ? 31 : 11;
    snprintf(name, sizeof name, "gp.cholesky.n%d.vs_numpy", n);
    if (!want(name)) return;
    a = (double*)malloc(sizeof(double) * (size_t)n * n);
    l = (double*)malloc(sizeof(double) * (size_t)n * n);
    bgpbt_rng_init(&r, 2, 0);
    for (i = 0; i < n * n; ++i) l[i] = bgpbt_rng_uniform(&r, -1, 1);
    for (i = 0; i < n; ++i)
        for (j = 0; j <= i; ++j) {
            double s = 0.0;
            for (k = 0; k < n; ++k) s += l[i * n + k] * l[j * n + k];
            a[i * n + j] = a[j * n + i] = s / n + (i == j);
        }
    for (k = 0; k < reps; ++k) {
        double t0;
        memcpy(l, a, sizeof(double) * (size_t)n * n);
        t0 = bgpbt_time_seconds();
        bgpbt_linalg_cholesky(l, n, n);
        t[k] = bgpbt_time_seconds() - t0;
    }
    ours = median_of(t, reps);
    snprintf(args, sizeof args, "chol %d %d", n, reps);
    snprintf(k0, sizeof k0, "np.cholesky.n%d", n);
    keys[0] = k0;
    peer(args, 1, keys, &theirs);
    snprintf(nm, sizeof nm, "gp.cholesky.n%d.gflops", n);
    report(nm, (double)n * n * n / 3.0 / ours * 1e-9, "GFLOP/s");
    if (theirs > 0) {
        snprintf(nm, sizeof nm, "gp.cholesky.n%d.numpy_gflops", n);
        report(nm, (double)n * n * n / 3.0 / theirs * 1e-9, "GFLOP/s");
        report(name, theirs / ours, "x");
    } else {
        printf("# %s: NumPy peer unavailable\n", name);
    }
    free(a); free(l);
}

int main(int argc, char** argv) {
    static const int ns[4] = {50, 100, 200, 500}, ds[3] = {5, 10, 20}, cn[4] = {100, 200, 500, 1000};
    int i, j;
    if (argc > 1) filter = argv[1];
#ifdef _OPENMP
    omp_set_num_threads(1); /* like-for-like with the one-thread peer */
#endif
    for (i = 0; i < 4; ++i) bench_cholesky(cn[i]);
    for (i = 0; i < 4; ++i)
        for (j = 0; j < 3; ++j) bench_fit_predict(ns[i], ds[j], ns[i] >= 500 ? 3 : 5);
    return 0;
}
