/* Must NOT compile: BGPBT_MALLOC without BGPBT_FREE is refused with #error. */
#include <stdlib.h>
#define BGPBT_MALLOC(size) malloc(size)
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
int main(void) { return 0; }
