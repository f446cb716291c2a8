// C++11: the declarations alone, then the implementation, in one translation unit.
#include "bgpbt.h"
#include "bgpbt.h" // a second include is harmless
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include "bgpbt.h" // and a second implementation include too (inner guard)
#include <cstdio>

int main() {
    bgpbt_rng rng;
    bgpbt_rng_init(&rng, 1, 2);
    float z[40];
    bgpbt_rng_normals(&rng, z, 40);
    std::printf("c++ %s %s %d\n", bgpbt_version_string(), bgpbt_simd_name(), (int)(z[0] == z[0]));
    return bgpbt_crc32(0, "123456789", 9) == 0xCBF43926u ? 0 : 1;
}
