/* libFuzzer target: MLP blobs (bgpbt_mlp_create_from_blob, bgpbt_mlp_load). Each input is tried
   as given and resealed (fuzz_targets.h). A blob that loads must run a forward pass, save to the
   same size and load back; a refused load must leave the target MLP unchanged. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include "fuzz_targets.h"

static bgpbt_mlp* fuzz_target_mlp;
static float fuzz_params_before[64];

static void fuzz_one(const unsigned char* data, size_t size) {
    bgpbt_mlp* m = NULL;
    float params[64];
    size_t np = bgpbt_mlp_num_params(fuzz_target_mlp);
    if (bgpbt_mlp_create_from_blob(data, size, NULL, &m) == BGPBT_OK) {
        bgpbt_mlp_config c = bgpbt_mlp_get_config(m);
        size_t n = 0, n2 = 0;
        void* buf;
        if (c.in_dim <= 64 && c.out_dim <= 64) {
            float x[64], y[64];
            memset(x, 0, sizeof x);
            if (bgpbt_mlp_forward(m, x, 1, y, 0) != BGPBT_OK) __builtin_trap();
        }
        if (bgpbt_mlp_save(m, NULL, 0, &n) != BGPBT_OK) __builtin_trap();
        buf = malloc(n);
        if (!buf || bgpbt_mlp_save(m, buf, n, &n2) != BGPBT_OK || n2 != n) __builtin_trap();
        {
            bgpbt_mlp* m2 = NULL;
            if (bgpbt_mlp_create_from_blob(buf, n, NULL, &m2) != BGPBT_OK) __builtin_trap();
            bgpbt_mlp_destroy(m2);
        }
        free(buf);
        bgpbt_mlp_destroy(m);
    }
    if (bgpbt_mlp_load(fuzz_target_mlp, data, size) != BGPBT_OK) {
        bgpbt_mlp_get_params(fuzz_target_mlp, params);
        if (memcmp(params, fuzz_params_before, np * sizeof(float)) != 0) __builtin_trap();
    } else {
        bgpbt_mlp_get_params(fuzz_target_mlp, fuzz_params_before); /* the new state */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    unsigned char* sealed;
    if (!fuzz_target_mlp) {
        bgpbt_mlp_config c = fuzz_mlp_config();
        if (bgpbt_mlp_create(&c, &fuzz_target_mlp) != BGPBT_OK || bgpbt_mlp_num_params(fuzz_target_mlp) > 64)
            __builtin_trap();
        bgpbt_mlp_get_params(fuzz_target_mlp, fuzz_params_before);
    }
    if (size > (1u << 20)) return 0;
    fuzz_one(data, size);
    sealed = fuzz_reseal(data, size);
    if (sealed) {
        fuzz_one(sealed, size);
        free(sealed);
    }
    return 0;
}
