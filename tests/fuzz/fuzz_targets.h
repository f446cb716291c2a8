/* tests/fuzz/fuzz_targets.h - the small objects the fuzz targets load into, shared with
   make_seeds.c so the seed corpora match what the targets expect. The stand-in agent and the
   blob resealing come from tests/test.h (its scaffolding half only).

   Every saved object sits in a container whose payload and header carry CRC-32s, so almost
   every mutation of a valid blob is refused at the checksum. To reach the parsers behind it,
   each target also feeds a resealed copy (fuzz_reseal): the input with its payload size and
   both CRCs recomputed, as a corrupt-but-consistent file (or a malicious one) would be. */
#ifndef FUZZ_TARGETS_H
#define FUZZ_TARGETS_H
#include <stdio.h>
#define TEST_HELPERS_ONLY
#include "../test.h"

/* A malloc'd resealed copy of data (NULL if too short for a container header). */
TEST_FN unsigned char* fuzz_reseal(const uint8_t* data, size_t size) {
    unsigned char* c;
    if (size < BGPBT_CONTAINER_HEADER_SIZE) return NULL;
    c = (unsigned char*)malloc(size);
    if (!c) return NULL;
    memcpy(c, data, size);
    test_reseal(c, size);
    return c;
}

/* MLP: 3 -> 5 -> 2, tanh */
static bgpbt_mlp_config fuzz_mlp_config(void) {
    bgpbt_mlp_config c = bgpbt_mlp_config_default();
    c.in_dim = 3;
    c.out_dim = 2;
    c.num_hidden = 1;
    c.hidden[0] = 5;
    c.activation = BGPBT_ACT_TANH;
    c.max_batch = 4;
    c.seed = 11;
    return c;
}

/* PPO agent on inverted_pendulum with tiny networks */
static bgpbt_agent_config fuzz_agent_config(void) {
    bgpbt_agent_config c = bgpbt_agent_config_default();
    c.task = "inverted_pendulum";
    c.num_envs = 2;
    c.eval_episodes = 1;
    c.eval_max_steps = 5;
    c.env_threads = 1;
    c.arch.policy_layers = 1;
    c.arch.policy_width = 4;
    c.arch.value_layers = 1;
    c.arch.value_width = 4;
    c.hparams.unroll_length = 5;
    c.hparams.batch_size = 2;
    c.hparams.num_minibatches = 1;
    c.hparams.update_epochs = 1;
    c.seed = 5;
    return c;
}

/* Scheduler: small population, short rounds */
static bgpbt_pbt_config fuzz_pbt_config(int method) {
    bgpbt_pbt_config c = bgpbt_pbt_config_default();
    c.method = method;
    c.pop_size = 4;
    c.seed = 3;
    c.t_ready = 1000;
    c.max_steps = 8000;
    c.max_generations = 1;
    c.patience = 2;
    c.distill_budget = 2000;
    c.distill_every = 4000;
    c.n_init = method == BGPBT_PBT_METHOD_BGPBT ? 6 : 0;
    c.n_arch_candidates = 6;
    c.acq_restarts = 1;
    c.acq_steps = 5;
    return c;
}

/* Synthetic agents for the run checkpoint: the stand-in agent of tests/test.h. */
static bgpbt_pbt_agent_ops fuzz_sops(void) { return test_sagent_ops(NULL); }
#endif
