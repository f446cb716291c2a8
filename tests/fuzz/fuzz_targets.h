/* tests/fuzz/fuzz_targets.h - the small objects the fuzz targets load into, shared with
   make_seeds.c so the seed corpora match what the targets expect. */
#ifndef FUZZ_TARGETS_H
#define FUZZ_TARGETS_H
#include <stdio.h>

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

/* Synthetic agents for the run checkpoint: a number that grows with training. */
typedef struct fuzz_sagent { double skill; uint64_t seed; } fuzz_sagent;
static bgpbt_result fuzz_s_create(void* user, const int* arch, const double* hp, uint64_t seed, void** out) {
    fuzz_sagent* a = (fuzz_sagent*)malloc(sizeof *a);
    (void)user; (void)arch;
    if (!a) return BGPBT_ERR_OUT_OF_MEMORY;
    a->skill = hp[0];
    a->seed = seed;
    *out = a;
    return BGPBT_OK;
}
static void fuzz_s_destroy(void* user, void* agent) { (void)user; free(agent); }
static bgpbt_result fuzz_s_clone(void* user, const void* src, uint64_t seed, void** out) {
    fuzz_sagent* a = (fuzz_sagent*)malloc(sizeof *a);
    (void)user;
    if (!a) return BGPBT_ERR_OUT_OF_MEMORY;
    *a = *(const fuzz_sagent*)src;
    a->seed = seed;
    *out = a;
    return BGPBT_OK;
}
static bgpbt_result fuzz_s_train(void* user, void* agent, const void* teacher, const bgpbt_pbt_job* job, double* ret,
                                 long long* steps_run) {
    fuzz_sagent* a = (fuzz_sagent*)agent;
    (void)user; (void)teacher;
    a->skill += 1e-4 * (double)job->steps * (1.0 + job->hp[0] * 1e3) + (double)(bgpbt_mix64(a->seed++) % 100) * 1e-3;
    *ret = a->skill;
    *steps_run = job->steps;
    return BGPBT_OK;
}
static bgpbt_result fuzz_s_save(void* user, const void* agent, void* buf, size_t cap, size_t* size) {
    (void)user;
    *size = sizeof(fuzz_sagent);
    if (buf) {
        if (cap < sizeof(fuzz_sagent)) return BGPBT_ERR_BUFFER_TOO_SMALL;
        memcpy(buf, agent, sizeof(fuzz_sagent));
    }
    return BGPBT_OK;
}
static bgpbt_result fuzz_s_load(void* user, const void* data, size_t size, void** out) {
    fuzz_sagent* a;
    (void)user;
    if (size != sizeof(fuzz_sagent)) return BGPBT_ERR_SIZE_MISMATCH;
    a = (fuzz_sagent*)malloc(sizeof *a);
    if (!a) return BGPBT_ERR_OUT_OF_MEMORY;
    memcpy(a, data, sizeof *a);
    *out = a;
    return BGPBT_OK;
}
static bgpbt_pbt_agent_ops fuzz_sops(void) {
    bgpbt_pbt_agent_ops o;
    memset(&o, 0, sizeof o);
    o.create = fuzz_s_create;
    o.destroy = fuzz_s_destroy;
    o.clone = fuzz_s_clone;
    o.train = fuzz_s_train;
    o.save = fuzz_s_save;
    o.load = fuzz_s_load;
    return o;
}
#endif
