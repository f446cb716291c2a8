/* libFuzzer target: run checkpoints (scheduler + agents in one "RUN " container), read from a
   file by the runner's restore (bgpbt__pbt_restore), as given and resealed (fuzz_targets.h).
   The agents are the synthetic ones of fuzz_targets.h, so the target exercises the
   checkpoint framing and the scheduler state; agent blobs have their own target. A refused
   checkpoint must leave the scheduler and the agent table as they were. */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include "fuzz_targets.h"
#include <unistd.h>

static char fuzz_path[256];

static void fuzz_one(const unsigned char* data, size_t size) {
    bgpbt_pbt_config c = fuzz_pbt_config(BGPBT_PBT_METHOD_PBT);
    bgpbt_pbt_agent_ops ops = fuzz_sops();
    bgpbt_pbt* s = NULL;
    bgpbt__pbt_table t;
    FILE* f;
    int i, round_before;
    if (bgpbt_pbt_create(&c, &s) != BGPBT_OK) __builtin_trap();
    memset(&t, 0, sizeof t);
    t.cap = 4 * s->cap + 16; /* as the runner sizes it */
    t.ids = (int*)bgpbt__calloc(&s->cfg.allocator, (size_t)t.cap, sizeof(int));
    t.agents = (void**)bgpbt__calloc(&s->cfg.allocator, (size_t)t.cap, sizeof(void*));
    if (!t.ids || !t.agents) __builtin_trap();
    f = fopen(fuzz_path, "wb");
    if (!f) __builtin_trap();
    if (size && fwrite(data, 1, size, f) != size) __builtin_trap();
    fclose(f);
    round_before = bgpbt_pbt_generation(s);
    if (bgpbt__pbt_restore(s, &ops, &t, fuzz_path, NULL) == BGPBT_OK) {
        size_t n = 0;
        const bgpbt_pbt_round* r;
        if (bgpbt_pbt_save(s, NULL, 0, &n) != BGPBT_OK) __builtin_trap();
        (void)bgpbt_pbt_ask(s, &r);
    } else if (t.n != 0 || bgpbt_pbt_generation(s) != round_before) {
        __builtin_trap();
    }
    for (i = 0; i < t.n; ++i) ops.destroy(ops.user, t.agents[i]);
    bgpbt__cfree(&s->cfg.allocator, t.ids, (size_t)t.cap, sizeof(int));
    bgpbt__cfree(&s->cfg.allocator, t.agents, (size_t)t.cap, sizeof(void*));
    bgpbt_pbt_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    unsigned char* sealed;
    if (!fuzz_path[0]) snprintf(fuzz_path, sizeof fuzz_path, "fuzz_run_%ld.bgpbt", (long)getpid());
    if (size > (1u << 20)) return 0;
    fuzz_one(data, size);
    sealed = fuzz_reseal(data, size);
    if (sealed) {
        fuzz_one(sealed, size);
        free(sealed);
    }
    return 0;
}
