/* BGPBT_STATIC: every function is static to this file (no exported symbols, no warnings). */
#define BGPBT_STATIC
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
int main(void) {
    bgpbt_rng r;
    bgpbt_rng_init(&r, 1, 1);
    return bgpbt_rng_float(&r) < 1.0f ? 0 : 1;
}
