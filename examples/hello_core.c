/* hello_core.c - the core layer in 40 lines: version, SIMD path, RNG streams and statistics.
   Build and run (from the repository root):
       cc -O2 -march=native -std=c99 examples/hello_core.c -o hello_core -lm && ./hello_core   */
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <stdio.h>

int main(void) {
    enum { N = 1000000 };
    static float z[N];
    bgpbt_rng env0, env1;
    double mean = 0, var = 0, t0, t1;
    int i;

    printf("bgpbt.h %s, SIMD %s (%d floats per vector), %d thread(s)\n", bgpbt_version_string(),
           bgpbt_simd_name(), bgpbt_simd_width(), bgpbt_max_threads());

    /* one seed, one stream per consumer: environment 0 and environment 1 never share numbers */
    bgpbt_rng_init(&env0, 42, 0);
    bgpbt_rng_init(&env1, 42, 1);
    printf("stream 0 starts %.6f %.6f, stream 1 starts %.6f %.6f\n", bgpbt_rng_float(&env0),
           bgpbt_rng_float(&env0), bgpbt_rng_float(&env1), bgpbt_rng_float(&env1));

    t0 = bgpbt_time_seconds();
    bgpbt_rng_normals(&env0, z, N);
    t1 = bgpbt_time_seconds();
    for (i = 0; i < N; ++i) mean += z[i];
    mean /= N;
    for (i = 0; i < N; ++i) var += (z[i] - mean) * (z[i] - mean);
    var /= N - 1;
    printf("%d normals in %.2f ms: mean %+.4f, variance %.4f (expect 0 and 1)\n", N,
           1e3 * (t1 - t0), mean, var);
    printf("a fair die from bgpbt_rng_below: %u %u %u %u %u\n", bgpbt_rng_below(&env1, 6) + 1,
           bgpbt_rng_below(&env1, 6) + 1, bgpbt_rng_below(&env1, 6) + 1,
           bgpbt_rng_below(&env1, 6) + 1, bgpbt_rng_below(&env1, 6) + 1);
    return 0;
}
