/* BGPBT_MALLOC / BGPBT_FREE: the compile-time default allocator is replaced and used. */
#include <stdlib.h>
static int custom_allocs, custom_frees;
static void* counting_malloc(size_t n) { custom_allocs++; return malloc(n); }
static void counting_free(void* p) { if (p) custom_frees++; free(p); }
#define BGPBT_MALLOC(size) counting_malloc(size)
#define BGPBT_FREE(ptr) counting_free(ptr)
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
int main(void) {
    void* p = bgpbt_mem_alloc(NULL, 100, 64);
    bgpbt_mem_free(NULL, p, 100);
    return (p && custom_allocs == 1 && custom_frees == 1) ? 0 : 1;
}
