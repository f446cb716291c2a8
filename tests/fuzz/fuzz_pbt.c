/* libFuzzer target: scheduler state (bgpbt_pbt_load), as given and resealed (fuzz_targets.h).
   A state that loads must be usable: save it again, ask the round, tell every job, ask the next
   round (this runs the exploit and the GP/BO explore on the loaded data). */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include "fuzz_targets.h"

static void fuzz_one(const unsigned char* data, size_t size) {
    bgpbt_pbt_config c = fuzz_pbt_config(BGPBT_PBT_METHOD_PBT);
    bgpbt_pbt* s = NULL;
    const bgpbt_pbt_round* r;
    int i;
    if (bgpbt_pbt_create(&c, &s) != BGPBT_OK) __builtin_trap();
    if (bgpbt_pbt_load(s, data, size) == BGPBT_OK) {
        size_t n = 0;
        if (bgpbt_pbt_save(s, NULL, 0, &n) != BGPBT_OK) __builtin_trap();
        if (bgpbt_pbt_ask(s, &r) == BGPBT_OK && r->n_jobs > 0 && r->n_jobs <= 64) {
            for (i = 0; i < r->n_jobs; ++i) bgpbt_pbt_tell(s, i, 0.5 + 0.1 * i, r->jobs[i].steps, i == 1);
            (void)bgpbt_pbt_ask(s, &r);
        }
    }
    bgpbt_pbt_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    unsigned char* sealed;
    if (size > (1u << 20)) return 0;
    fuzz_one(data, size);
    sealed = fuzz_reseal(data, size);
    if (sealed) {
        fuzz_one(sealed, size);
        free(sealed);
    }
    return 0;
}
