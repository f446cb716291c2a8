/* MLP / GEMM benchmarks against PyTorch (bench/torch_ppo_update.py, run in the same program at
   the same thread count, OpenMP OpenBLAS first on LD_LIBRARY_PATH, glibc keeping its memory:
   the peer at its best; see ../shared/peers/RESULTS.md).

   The machine is shared (other processes run on the same 2 cores). Single-thread figures
   (.t1, GEMM, peak, latency) are measured in process CPU time (ours: CLOCK_PROCESS_CPUTIME_ID;
   PyTorch: time.process_time()), so time given to other jobs is not counted; 2-thread figures
   are wall time. All are the best of several repeats, ours and PyTorch's alike.

   Lines:
     mlp.peak.clock_ghz             clock measured by a chain of 1-cycle dependent integer adds
                                    (before and after the FMA measurement, averaged)
     mlp.peak.fma_per_cycle         independent vector FMAs retired per cycle (12 chains), rounded
     mlp.peak.gflops                = clock x fma_per_cycle x 2 x lanes (the FP32 FMA peak, 1 core)
     mlp.gemm.<m>x<k>x<n>[.tag].gflops / .fraction_of_peak  one thread, against the peak at the
                                    highest clock measured in the run (measured again between
                                    shapes; time stolen by the hypervisor makes a clock window
                                    look slower, never faster, and 2.0-3.7 GHz was seen within one
                                    run), so a fraction errs low, B row-major (copied per
                                    tile); .at = A transposed (read in place); .pm = B
                                    panel-major (the MLP's weights, read in place); .pa = A and B
                                    panel-major (the MLP's training forward on hidden layers);
                                    .dw = the MLP's weight-gradient GEMM <fan_in>x<batch>x<fan_out>
                                    (A transposed, packed into a workspace or read in place up to
                                    64 columns; bias gradient fused). The 512- and 425-row shapes
                                    are those the PPO update runs (chunks of ~512 rows).
     mlp.<case>.t<T>.ms, .torch_ms, .vs_torch               PPO minibatch update (torch / ours);
                                                            the case is ppo_update_<net>.t<T>
     mlp.latency_1obs_<net>.t1.us, .torch_us, .vs_torch     policy action for one observation
   Cases: ppo_update_default = policy 4x32 + value 5x256 (SiLU), obs 87, act 8, 1024 segments x
   unroll 5 (value on 6144 rows, policy on 5120); ppo_update_small_b256 / _b1024 = 2x64 nets,
   256 / 1024 segments x unroll 5. */
#define _POSIX_C_SOURCE 199309L
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* filter = "";
static int use_cpu_time = 0;
/* Seconds of CPU time of this process when use_cpu_time (single-threaded measurements on a
   shared machine: time the scheduler gives to other jobs is not counted), else wall time. */
static double now(void) {
#if defined(CLOCK_PROCESS_CPUTIME_ID)
    if (use_cpu_time) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    }
#endif
    return bgpbt_time_seconds();
}
static int want(const char* prefix) {
    size_t a = strlen(prefix), b = strlen(filter);
    return strncmp(prefix, filter, a < b ? a : b) == 0;
}
static void report(const char* name, double value, const char* unit) {
    if (strncmp(name, filter, strlen(filter)) == 0) printf("%s %.4g %s\n", name, value, unit);
    fflush(stdout);
}
#define REPEATS 5
static void set_threads(int t) {
#ifdef _OPENMP
    omp_set_num_threads(t);
#else
    (void)t;
#endif
}

/* ---- peak ---- */
static double measure_clock_ghz(void) {
#if defined(__GNUC__) && defined(__x86_64__)
    long n = 1000000, i; /* 0.25 ms windows: some escape preemption on a shared machine */
    unsigned long x = 0;
    double t0 = now(), best = 1e9;
    int k;
    for (k = 0; k < 400; ++k) {
        t0 = now();
        for (i = 0; i < n; ++i) __asm__ volatile("add $1, %0" : "+r"(x));
        if (now() - t0 < best) best = now() - t0;
    }
    return (double)n / best / 1e9;
#else
    return 0.0;
#endif
}
static volatile float sinkf;
static double measure_fma_flops(void) {
    bgpbt_fw a0 = bgpbt_fw_set1(0.1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0,
             a9 = a0, a10 = a0, a11 = a0, b = bgpbt_fw_set1(0.999f), c = bgpbt_fw_set1(1e-4f);
    long n = 100000, i;
    double t0, best = 1e9;
    int k;
    for (k = 0; k < 400; ++k) {
        t0 = now();
        for (i = 0; i < n; ++i) {
            a0 = bgpbt_fw_fma(a0, b, c); a1 = bgpbt_fw_fma(a1, b, c); a2 = bgpbt_fw_fma(a2, b, c);
            a3 = bgpbt_fw_fma(a3, b, c); a4 = bgpbt_fw_fma(a4, b, c); a5 = bgpbt_fw_fma(a5, b, c);
            a6 = bgpbt_fw_fma(a6, b, c); a7 = bgpbt_fw_fma(a7, b, c); a8 = bgpbt_fw_fma(a8, b, c);
            a9 = bgpbt_fw_fma(a9, b, c); a10 = bgpbt_fw_fma(a10, b, c); a11 = bgpbt_fw_fma(a11, b, c);
#if defined(__GNUC__)
            __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
            __asm__ volatile("" : "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
#endif
        }
        if (now() - t0 < best) best = now() - t0;
    }
    a0 = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_add(a0, a1), bgpbt_fw_add(a2, a3)), bgpbt_fw_add(bgpbt_fw_add(a4, a5), bgpbt_fw_add(a6, a7)));
    a0 = bgpbt_fw_add(a0, bgpbt_fw_add(bgpbt_fw_add(a8, a9), bgpbt_fw_add(a10, a11)));
    sinkf = bgpbt_fw_hsum(a0);
    return (double)n * 12.0 * 2.0 * BGPBT_FW_WIDTH / best;
}

/* ---- GEMM ---- */
#define GREPS 41
static double minv(const double* t, int n) {
    double b = t[0];
    int i;
    for (i = 1; i < n; ++i) b = t[i] < b ? t[i] : b;
    return b;
}
#define NSHAPES 32
static char shape_names[NSHAPES][96];
static double shape_gflops[NSHAPES], clock_max;
static int nshapes;
static void bench_gemm(int m, int k, int n, int at) {
    float *a = (float*)malloc(sizeof(float) * (size_t)m * k), *b = (float*)malloc(sizeof(float) * (size_t)k * n);
    float* c = (float*)malloc(sizeof(float) * (size_t)m * n);
    double t[GREPS], gf;
    int r, q, reps;
    long i;
    char name[128];
    const char* tag = at == 1 ? ".at" : at == 2 ? ".pm" : at == 3 ? ".dw" : at == 4 ? ".pa" : "";
    /* .pa: A panel-major too, as the MLP's training forward reads its hidden activations */
    /* .dw: the MLP's weight-gradient GEMM (A transposed, B panel-major, packed-A workspace,
       bias gradient fused as a row of ones) */
    bgpbt__gemm_epi dw;
    float* ws = (float*)malloc(sizeof(float) * BGPBT__GEMM_WS(m));
    float* colsum = (float*)malloc(sizeof(float) * (size_t)n);
    memset(&dw, 0, sizeof dw);
    dw.ws = ws;
    dw.colsum = colsum;
    for (i = 0; i < (long)m * k; ++i) a[i] = (float)(i % 7) * 0.1f;
    for (i = 0; i < (long)k * n; ++i) b[i] = (float)(i % 5) * 0.1f;
    reps = (int)(1e7 / (2.0 * m * n * k)) + 1; /* ~0.1 ms per repeat, or one call */
    for (r = 0; r < GREPS; ++r) {
        double t0 = now();
        for (q = 0; q < reps; ++q) {
            if (at == 1) bgpbt_sgemm(m, n, k, a, 1, m, b, n, c, n, 0);
            else if (at == 2) bgpbt__sgemm_ex(m, n, k, a, k, 1, 0, b, 32, (ptrdiff_t)k * 32, c, n, 32, 0, NULL); /* panel-major B */
            else if (at == 4) bgpbt__sgemm_ex(m, n, k, a, 32, 1, (ptrdiff_t)m * 32, b, 32, (ptrdiff_t)k * 32, c, n, 32, 0, NULL);
            else if (at == 3) bgpbt__sgemm_ex(m, n, k, a, 1, m, 0, b, 32, (ptrdiff_t)k * 32, c, 32, (ptrdiff_t)m * 32, 0, &dw);
            else bgpbt_sgemm(m, n, k, a, k, 1, b, n, c, n, 0);
        }
        t[r] = (now() - t0) / reps;
    }
    gf = 2.0 * m * n * k / minv(t, GREPS) / 1e9;
    sprintf(name, "mlp.gemm.%dx%dx%d%s.gflops", m, k, n, tag);
    report(name, gf, "GFLOP/s");
    if (nshapes < NSHAPES) {
        double clk = measure_clock_ghz();
        if (clk > clock_max) clock_max = clk;
        sprintf(shape_names[nshapes], "mlp.gemm.%dx%dx%d%s.fraction_of_peak", m, k, n, tag);
        shape_gflops[nshapes++] = gf;
    }
    free(a); free(b); free(c); free(ws); free(colsum);
}

/* ---- PPO update on a filled agent ---- */
static void dummy_reset(void* st, bgpbt_rng* rng, float* obs, void* user) {
    int i;
    (void)st; (void)user;
    for (i = 0; i < 87; ++i) obs[i] = (float)bgpbt_rng_normal(rng);
}
static void dummy_step(void* st, const float* a, bgpbt_rng* rng, float* obs, float* rew, int* term, void* user) {
    int i;
    (void)st; (void)user;
    for (i = 0; i < 87; ++i) obs[i] = (float)bgpbt_rng_normal(rng);
    *rew = a[0] + (float)bgpbt_rng_double(rng);
    *term = bgpbt_rng_double(rng) < 0.01;
}
static bgpbt_env_def dummy_def(void) {
    bgpbt_env_def d;
    memset(&d, 0, sizeof d);
    d.name = "dummy87";
    d.obs_dim = 87;
    d.act_dim = 8;
    d.max_episode_steps = 1000;
    d.reset = dummy_reset;
    d.step = dummy_step;
    return d;
}
static bgpbt_env_def g_def;
static bgpbt_agent* make_agent(int small, int B) {
    bgpbt_agent_config c = bgpbt_agent_config_default();
    bgpbt_agent* g = NULL;
    c.env_def = &g_def;
    c.num_envs = B;
    c.env_threads = 1;
    c.eval_episodes = 1;
    c.hparams.batch_size = B;
    c.hparams.num_minibatches = 1;
    c.hparams.update_epochs = 1;
    c.hparams.unroll_length = 5;
    if (small) {
        c.arch.policy_layers = c.arch.value_layers = 2;
        c.arch.policy_width = c.arch.value_width = 64;
    }
    if (bgpbt_agent_create(&c, &g) != BGPBT_OK || bgpbt_agent_train(g, 1) != BGPBT_OK) {
        fprintf(stderr, "bench_mlp: agent setup failed\n");
        exit(1);
    }
    return g;
}
static double time_update(bgpbt_agent* g) {
    double t[REPEATS * 2];
    int r, q, reps;
    double t0 = now();
    bgpbt__ppo_sgd(g, g->perm, g->hp.batch_size, g->cap_steps, 0.0, 3e-4);
    reps = (int)(0.1 / (now() - t0 + 1e-9)) + 1;
    for (r = 0; r < REPEATS * 2; ++r) {
        t0 = now();
        for (q = 0; q < reps; ++q) bgpbt__ppo_sgd(g, g->perm, g->hp.batch_size, g->cap_steps, 0.0, 3e-4);
        t[r] = (now() - t0) / reps;
    }
    return minv(t, REPEATS * 2);
}
static double time_latency(bgpbt_agent* g) {
    float obs[87], act[8];
    double t[7];
    int r, q, i, reps = 20000;
    for (i = 0; i < 87; ++i) obs[i] = 0.01f * (float)i;
    for (r = 0; r < 7; ++r) {
        double t0 = now();
        for (q = 0; q < reps; ++q) { bgpbt_agent_act(g, obs, 1, act, 1); obs[0] += act[0] * 1e-9f; }
        t[r] = (now() - t0) / reps;
    }
    return minv(t, 7);
}

/* torch figures for a thread count: name -> seconds */
#define NT 8
static char tnames[NT][64];
static double tvals[NT];
static int tcount;
static void run_torch(int threads) {
    char cmd[1024];
    const char* dir = getenv("BENCH_DIR");
    FILE* p;
    char line[256];
    tcount = 0;
    snprintf(cmd, sizeof cmd,
             "cd '%s' && LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp "
             "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967295 "
             "OMP_NUM_THREADS=%d /usr/bin/python3 torch_ppo_update.py %d 2>/dev/null",
             dir ? dir : "bench", threads, threads);
    p = popen(cmd, "r");
    if (!p) return;
    while (tcount < NT && fgets(line, sizeof line, p))
        if (sscanf(line, "%63s %lf", tnames[tcount], &tvals[tcount]) == 2) tcount++;
    pclose(p);
}
static double torch_val(const char* name) {
    int i;
    for (i = 0; i < tcount; ++i)
        if (!strcmp(tnames[i], name)) return tvals[i];
    return 0.0;
}

int main(int argc, char** argv) {
    double peak = 0.0, fpc = 0.0;
    if (argc > 1) filter = argv[1];
    g_def = dummy_def();
    if (want("mlp.peak") || want("mlp.gemm")) {
        double clk, fl;
        set_threads(1);
        use_cpu_time = 1;
        clk = measure_clock_ghz();
        fl = measure_fma_flops();
        clk = 0.5 * (clk + measure_clock_ghz());
        clock_max = clk;
        fpc = clk > 0 ? fl / (clk * 1e9 * 2.0 * BGPBT_FW_WIDTH) : 0.0;
        fpc = fpc < 0.75 ? 0.5 : (double)(long)(fpc + 0.5);
        peak = clk * fpc * 2.0 * BGPBT_FW_WIDTH;
        report("mlp.peak.clock_ghz", clk, "GHz");
        report("mlp.peak.fma_per_cycle", fpc, "");
        report("mlp.peak.gflops", peak, "GFLOP/s");
        report("mlp.peak.measured_fma_gflops", fl / 1e9, "GFLOP/s");
    }
    if (want("mlp.gemm")) {
        set_threads(1);
        /* m, k, n, layout (0 plain, 1 .at, 2 .pm, 3 .dw, 4 .pa); the 512- and 425-row shapes
           are the PPO update's chunks */
        static const int shapes[][4] = {{256, 256, 256, 2}, {1024, 256, 256, 2}, {6144, 256, 256, 2},
                                        {6144, 256, 256, 4}, {6144, 87, 256, 2},  {512, 256, 256, 4},
                                        {512, 87, 256, 2},   {5120, 32, 32, 2},   {256, 256, 256, 0},
                                        {1024, 256, 256, 0}, {256, 6144, 256, 0}, {256, 6144, 256, 1},
                                        {256, 6144, 256, 3}, {87, 6144, 256, 3},  {256, 512, 256, 3},
                                        {64, 425, 64, 3},    {64, 6144, 64, 3},   {32, 5120, 32, 0}};
        size_t q;
        for (q = 0; q < sizeof shapes / sizeof shapes[0]; ++q)
            bench_gemm(shapes[q][0], shapes[q][1], shapes[q][2], shapes[q][3]);
        if (fpc > 0) {
            int i;
            report("mlp.gemm.clock_max_ghz", clock_max, "GHz");
            for (i = 0; i < nshapes; ++i) report(shape_names[i], shape_gflops[i] / (clock_max * fpc * 2.0 * BGPBT_FW_WIDTH), "");
        }
    }
    if (want("mlp.ppo_update") || want("mlp.latency")) {
        static const char* cases[3] = {"ppo_update_default", "ppo_update_small_b256", "ppo_update_small_b1024"};
        bgpbt_agent* ag[3];
        int th, i;
        ag[0] = make_agent(0, 1024);
        ag[1] = make_agent(1, 256);
        ag[2] = make_agent(1, 1024);
        for (th = 1; th <= 2; ++th) {
            char name[128];
            run_torch(th);
            set_threads(th);
            use_cpu_time = th == 1;
            for (i = 0; i < 3; ++i) {
                double ours, theirs;
                sprintf(name, "mlp.%s.t%d", cases[i], th);
                if (!want(name)) continue;
                ours = time_update(ag[i]);
                theirs = torch_val(cases[i]);
                sprintf(name, "mlp.%s.t%d.ms", cases[i], th);
                report(name, ours * 1e3, "ms");
                if (theirs > 0) {
                    sprintf(name, "mlp.%s.t%d.torch_ms", cases[i], th);
                    report(name, theirs * 1e3, "ms");
                    sprintf(name, "mlp.%s.t%d.vs_torch", cases[i], th);
                    report(name, theirs / ours, "x");
                }
            }
            if (th == 1) {
                for (i = 0; i < 2; ++i) {
                    double ours, theirs;
                    const char* net = i == 0 ? "default" : "small";
                    sprintf(name, "mlp.latency_1obs_%s", net);
                    if (!want(name)) continue;
                    ours = time_latency(ag[i == 0 ? 0 : 1]);
                    sprintf(name, "mlp.latency_1obs_%s.us", net);
                    report(name, ours * 1e6, "us");
                    sprintf(name, "latency_1obs_%s", net);
                    theirs = torch_val(name);
                    if (theirs > 0) {
                        sprintf(name, "mlp.latency_1obs_%s.torch_us", net);
                        report(name, theirs * 1e6, "us");
                        sprintf(name, "mlp.latency_1obs_%s.vs_torch", net);
                        report(name, theirs / ours, "x");
                    }
                }
            }
        }
        for (i = 0; i < 3; ++i) bgpbt_agent_destroy(ag[i]);
    }
    return 0;
}
