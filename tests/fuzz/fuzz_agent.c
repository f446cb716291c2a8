/* libFuzzer target: PPO agent blobs (bgpbt_agent_load), as given and resealed (fuzz_targets.h).
   The agent lives on inverted_pendulum with tiny networks; a blob may carry another
   architecture. After a load the agent must act; a refused load must leave it unchanged (same
   saved bytes). */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include "fuzz_targets.h"

static bgpbt_agent* fuzz_target_agent;
static unsigned char* fuzz_saved;
static size_t fuzz_saved_size;

static void fuzz_snapshot(void) {
    size_t n = 0;
    free(fuzz_saved);
    if (bgpbt_agent_save(fuzz_target_agent, NULL, 0, &n) != BGPBT_OK) __builtin_trap();
    fuzz_saved = (unsigned char*)malloc(n);
    if (!fuzz_saved || bgpbt_agent_save(fuzz_target_agent, fuzz_saved, n, &fuzz_saved_size) != BGPBT_OK) __builtin_trap();
}

static void fuzz_one(const unsigned char* data, size_t size) {
    if (bgpbt_agent_load(fuzz_target_agent, data, size) == BGPBT_OK) {
        float obs[4] = {0.01f, -0.02f, 0.0f, 0.1f}, act[1];
        if (bgpbt_agent_act(fuzz_target_agent, obs, 1, act, 1) != BGPBT_OK && !bgpbt_agent_failed(fuzz_target_agent))
            __builtin_trap();
        fuzz_snapshot();
        /* reload what it saved: must be accepted */
        if (bgpbt_agent_load(fuzz_target_agent, fuzz_saved, fuzz_saved_size) != BGPBT_OK) __builtin_trap();
    } else {
        size_t n = 0;
        unsigned char* now;
        if (bgpbt_agent_save(fuzz_target_agent, NULL, 0, &n) != BGPBT_OK || n != fuzz_saved_size) __builtin_trap();
        now = (unsigned char*)malloc(n);
        if (!now || bgpbt_agent_save(fuzz_target_agent, now, n, &n) != BGPBT_OK) __builtin_trap();
        if (memcmp(now, fuzz_saved, n) != 0) __builtin_trap();
        free(now);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    unsigned char* sealed;
    if (!fuzz_target_agent) {
        bgpbt_agent_config c = fuzz_agent_config();
        if (bgpbt_agent_create(&c, &fuzz_target_agent) != BGPBT_OK) __builtin_trap();
        fuzz_snapshot();
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
