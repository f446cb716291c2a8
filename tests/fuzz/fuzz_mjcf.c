/* tests/fuzz_mjcf.c - libFuzzer target for the MJCF loader (built and run by
   tests/check_fuzz_mjcf.sh with clang -fsanitize=fuzzer,address,undefined).
   Every input must either load (then a short batched step runs on it) or be refused with an
   error code; crashes, leaks and undefined behaviour are findings. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"

int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
    bgpbt_sim_model* m = NULL;
    if (bgpbt_sim_model_from_mjcf((const char*)data, size, NULL, &m) == BGPBT_OK) {
        bgpbt_sim_config c = bgpbt_sim_config_default();
        bgpbt_sim* s = NULL;
        bgpbt_sim_sizes sz = bgpbt_sim_model_sizes(m);
        c.num_envs = 2;
        /* keep each input cheap: big models are only loaded */
        if (sz.nv <= 64 && sz.ncontact <= 256 && bgpbt_sim_create(m, &c, &s) == BGPBT_OK) {
            int i;
            for (i = 0; i < 3; ++i) bgpbt_sim_step(s);
            bgpbt_sim_destroy(s);
        }
        bgpbt_sim_model_destroy(m);
    }
    return 0;
}
