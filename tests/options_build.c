/* The remaining options of the header's table: BGPBT_API (custom decoration), BGPBT_ASSERT
   (custom assert hook) and BGPBT_NO_OPENMP (OpenMP ignored although -fopenmp is given). */
#include <stdio.h>
static int options_assert_calls;
#define BGPBT_API extern
#define BGPBT_ASSERT(x) ((void)((x) ? 0 : ++options_assert_calls))
#define BGPBT_NO_OPENMP
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
int main(void) {
    BGPBT_ASSERT(1 == 2); /* the hook is the one the implementation uses */
#ifdef _OPENMP
    if (bgpbt_max_threads() != 1) { printf("BGPBT_NO_OPENMP ignored\n"); return 1; }
#endif
    return options_assert_calls == 1 ? 0 : 1;
}
