/* Core benchmarks: RNG throughput, bulk SIMD normals against a plain libm Box-Muller loop in
   the same run, and the SIMD approximations against libm. Median of 7 repeats. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <stdio.h>
#include <string.h>
#include <math.h>

static const char* filter = "";
static void report(const char* name, double value, const char* unit) {
    if (strncmp(name, filter, strlen(filter)) == 0) printf("%s %.4g %s\n", name, value, unit);
}
static int cmp_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}
#define REPEATS 7
static double median(double* t) { qsort(t, REPEATS, sizeof *t, cmp_double); return t[REPEATS / 2]; }

enum { N = 1 << 20 };
static float buf[N], src[N];
static volatile float sink;

static void libm_box_muller(bgpbt_rng* r, float* out, int n) {
    int i;
    for (i = 0; i + 1 < n; i += 2) {
        float u1 = 1.0f - bgpbt_rng_float(r), u2 = bgpbt_rng_float(r);
        float rad = sqrtf(-2.0f * logf(u1)), th = 6.2831853f * u2;
        out[i] = rad * cosf(th);
        out[i + 1] = rad * sinf(th);
    }
}

int main(int argc, char** argv) {
    double t[REPEATS], ours, libm;
    bgpbt_rng r;
    int k, i;
    if (argc > 1) filter = argv[1];
    bgpbt_rng_init(&r, 1, 0);
    for (k = 0; k < REPEATS; ++k) {
        double t0 = bgpbt_time_seconds();
        uint64_t acc = 0;
        for (i = 0; i < N; ++i) acc += bgpbt_rng_u64(&r);
        t[k] = bgpbt_time_seconds() - t0;
        sink = (float)acc;
    }
    report("core.rng.u64_per_s", N / median(t), "1/s");
    for (k = 0; k < REPEATS; ++k) {
        double t0 = bgpbt_time_seconds();
        bgpbt_rng_normals(&r, buf, N);
        t[k] = bgpbt_time_seconds() - t0;
    }
    ours = N / median(t);
    for (k = 0; k < REPEATS; ++k) {
        double t0 = bgpbt_time_seconds();
        libm_box_muller(&r, buf, N);
        t[k] = bgpbt_time_seconds() - t0;
    }
    libm = N / median(t);
    report("core.rng.normals_per_s", ours, "1/s");
    report("core.rng.normals_libm_box_muller_per_s", libm, "1/s");
    report("core.rng.normals.vs_libm_box_muller", ours / libm, "x");
    for (i = 0; i < N; ++i) src[i] = -5.0f + 10.0f * bgpbt_rng_float(&r);
    {
        const char* names[3] = {"exp", "log", "tanh"};
        int op;
        for (op = 0; op < 3; ++op) {
            double tw, tl;
            char name[128];
            for (k = 0; k < REPEATS; ++k) {
                double t0 = bgpbt_time_seconds();
                for (i = 0; i + BGPBT_FW_WIDTH <= N; i += BGPBT_FW_WIDTH) {
                    bgpbt_fw x = bgpbt_fw_load(src + i);
                    bgpbt_fw y = op == 0 ? bgpbt_fw_exp(x) : op == 1 ? bgpbt_fw_log(bgpbt_fw_abs(x)) : bgpbt_fw_tanh(x);
                    bgpbt_fw_store(buf + i, y);
                }
                t[k] = bgpbt_time_seconds() - t0;
            }
            tw = median(t);
            for (k = 0; k < REPEATS; ++k) {
                double t0 = bgpbt_time_seconds();
                for (i = 0; i < N; ++i) buf[i] = op == 0 ? expf(src[i]) : op == 1 ? logf(fabsf(src[i])) : tanhf(src[i]);
                t[k] = bgpbt_time_seconds() - t0;
            }
            tl = median(t);
            sink = buf[N / 2];
            snprintf(name, sizeof name, "core.simd.%s.%s.vs_libm", names[op], bgpbt_simd_name());
            report(name, tl / tw, "x");
        }
    }
    return 0;
}
