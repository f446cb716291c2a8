#include "bgpbt.h"
int two_tu_b_check(void);
int two_tu_b_check(void) {
    bgpbt_rng r;
    bgpbt_rng_init(&r, 5, 6);
    return bgpbt_rng_below(&r, 10) < 10 && bgpbt_result_string(BGPBT_OK)[0] == 's';
}
