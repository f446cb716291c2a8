/* Two translation units: this one holds the implementation, two_tu_b.c only includes. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <stdio.h>
int two_tu_b_check(void);
int main(void) {
    int ok = two_tu_b_check();
    printf("two_tu: %s\n", ok ? "ok" : "mismatch");
    return ok ? 0 : 1;
}
