/* tests/test_hardening.c - suite `hardening`: out-of-memory injection (SQLite style, fail once
   and fail persistently), the bad-input matrix over every public function (its coverage gate is
   tests/check_bad_input_matrix.sh), file-operation failure injection (through the BGPBT_SYS_*
   seam that tests/test_prelude.h routes into counters), file safety under SIGKILL, and
   in-process determinism across thread counts. The fuzz targets are in tests/fuzz/
   (tests/check_fuzz.sh) and the cross-build determinism check is tests/check_determinism.sh. */
#if defined(__unix__)
#  include <signal.h>
#  include <sys/types.h>
#  include <sys/wait.h>
#  include <unistd.h>
int kill(pid_t pid, int sig); /* POSIX: <signal.h> hides it under strict -std=c99 without OpenMP */
#endif
#ifdef _OPENMP
#  include <omp.h>
#endif

static long hardening_oom_points;  /* allocation-failure points tried, all operations */
static long hardening_bad_cases;   /* bad-input cases tried */
static long hardening_kills;       /* SIGKILLs survived */

/* ---- out-of-memory injection -----------------------------------------------------------------

   An operation gets a failing allocator and a context. It may first build what it needs with
   the allocator never failing (fa->fail_at = 0), then call hardening_arm(fa, k) before the part
   under test so that its k-th allocation from then on fails. It returns the result of the part
   under test, cleans up after itself whatever happened, and checks that the objects that existed
   before a failure are unchanged and usable. The loop runs k = 1, 2, ... until the operation
   succeeds without reaching its k-th allocation; every failure must be BGPBT_ERR_OUT_OF_MEMORY
   and leave the allocator's live counters at zero. */
typedef bgpbt_result (*hardening_oom_op)(test_failing_alloc* fa, bgpbt_allocator a, long k);

static void hardening_arm(test_failing_alloc* fa, long k) { fa->fail_at = fa->count + k; }

static int hardening_oom_persistent; /* 1: every allocation from the k-th on fails */

static long hardening_oom_loop(const char* what, hardening_oom_op op, long max_k) {
    long k;
    for (k = 1; k <= max_k; ++k) {
        test_failing_alloc fa;
        bgpbt_allocator a = test_failing_allocator(&fa, 0);
        bgpbt_result r;
        fa.persistent = hardening_oom_persistent;
        r = op(&fa, a, k);
        hardening_oom_points++;
        if (fa.live_blocks != 0 || fa.live_bytes != 0) {
            char m[256];
            snprintf(m, sizeof m, "%s: failing allocation %ld%s leaks %ld blocks (%lld bytes)", what, k,
                     fa.persistent ? " (persistent)" : "", fa.live_blocks, fa.live_bytes);
            test__fail(__FILE__, __LINE__, m);
            return k;
        }
        if (r == BGPBT_OK && (fa.fail_at == 0 || fa.count < fa.fail_at)) { /* never reached k: done */
            if (test__verbose) printf("  oom %-36s %5ld failure points%s\n", what, k - 1, fa.persistent ? " (persistent)" : "");
            return k;
        }
        if (r != BGPBT_OK && r != BGPBT_ERR_OUT_OF_MEMORY) {
            char m[256];
            snprintf(m, sizeof m, "%s: failing allocation %ld%s returned %s", what, k, fa.persistent ? " (persistent)" : "",
                     bgpbt_result_string(r));
            test__fail(__FILE__, __LINE__, m);
            return k;
        }
    }
    {
        char m[256];
        snprintf(m, sizeof m, "%s: still allocating after %ld failure points", what, max_k);
        test__fail(__FILE__, __LINE__, m);
    }
    return max_k;
}

static char* hardening_task_xml(const char* task, size_t* n) {
    char* buf;
    *n = 0;
    if (bgpbt_task_mjcf(task, NULL, 0, n) != BGPBT_OK) return NULL;
    buf = (char*)malloc(*n + 1);
    if (buf && bgpbt_task_mjcf(task, buf, *n + 1, n) != BGPBT_OK) { free(buf); return NULL; }
    return buf;
}

static bgpbt_result hardening_op_mjcf(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    size_t n;
    char* xml = hardening_task_xml("ant", &n);
    bgpbt_sim_model_config mc = bgpbt_sim_model_config_default();
    bgpbt_sim_config sc = bgpbt_sim_config_default();
    bgpbt_sim_model* m = NULL;
    bgpbt_sim* s = NULL;
    bgpbt_result r;
    if (!xml) return BGPBT_ERR_INTERNAL;
    mc.allocator = a;
    sc.allocator = a;
    sc.num_envs = 3;
    hardening_arm(fa, k);
    r = bgpbt_sim_model_from_mjcf(xml, strlen(xml), &mc, &m);
    if (r == BGPBT_OK) r = bgpbt_sim_create(m, &sc, &s);
    if (r == BGPBT_OK) r = bgpbt_sim_step(s);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
    free(xml);
    return r;
}

static bgpbt_result hardening_op_vecenv(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    static const char* const tasks[] = {"inverted_pendulum", "hopper", "humanoid", "fetch"};
    bgpbt_result r = BGPBT_OK;
    int i;
    for (i = 0; i < 4 && r == BGPBT_OK; ++i) {
        bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
        bgpbt_vecenv* v = NULL;
        c.allocator = a;
        c.num_envs = 3;
        c.num_threads = 1;
        if (i == 0) hardening_arm(fa, k);
        r = bgpbt_vecenv_create_task(tasks[i], NULL, &c, &v);
        if (r == BGPBT_OK) r = bgpbt_vecenv_reset(v);
        if (r == BGPBT_OK) {
            float act[3 * 32];
            memset(act, 0, sizeof act);
            r = bgpbt_vecenv_step(v, act);
        }
        bgpbt_vecenv_destroy(v);
    }
    return r;
}

static bgpbt_result hardening_op_mlp(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    bgpbt_mlp_config c = bgpbt_mlp_config_default();
    bgpbt_mlp *m = NULL, *m2 = NULL;
    bgpbt_result r;
    unsigned char buf[4096];
    size_t n = 0;
    c.in_dim = 3;
    c.out_dim = 2;
    c.num_hidden = 2;
    c.hidden[0] = 8;
    c.hidden[1] = 5;
    c.allocator = a;
    hardening_arm(fa, k);
    r = bgpbt_mlp_create(&c, &m);
    if (r == BGPBT_OK) r = bgpbt_mlp_save(m, buf, sizeof buf, &n);
    if (r == BGPBT_OK) r = bgpbt_mlp_create_from_blob(buf, n, &c, &m2);
    bgpbt_mlp_destroy(m2);
    bgpbt_mlp_destroy(m);
    return r;
}

static bgpbt_agent_config hardening_agent_config(bgpbt_allocator a) {
    bgpbt_agent_config c = bgpbt_agent_config_default();
    c.task = "inverted_pendulum";
    c.num_envs = 2;
    c.eval_episodes = 1;
    c.eval_max_steps = 4;
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
    c.allocator = a;
    return c;
}

static bgpbt_result hardening_op_agent(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    bgpbt_agent_config c = hardening_agent_config(a);
    bgpbt_agent* ag = NULL;
    bgpbt_result r;
    hardening_arm(fa, k);
    r = bgpbt_agent_create(&c, &ag);
    if (r == BGPBT_OK) r = bgpbt_agent_train(ag, 10);
    if (r == BGPBT_OK) r = bgpbt_agent_evaluate(ag, NULL, NULL);
    bgpbt_agent_destroy(ag);
    return r;
}

/* Loading a blob of another architecture allocates new networks: a failure must leave the
   existing agent as it was (same saved bytes) and usable. */
static bgpbt_result hardening_op_agent_load(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    bgpbt_agent_config c = hardening_agent_config(a);
    bgpbt_agent *dst = NULL, *src = NULL;
    bgpbt_result r;
    static unsigned char blob[1 << 16], before[1 << 16], after[1 << 16];
    size_t nb = 0, n0 = 0, n1 = 0;
    float obs[4] = {0, 0, 0, 0}, act[1];
    if (bgpbt_agent_create(&c, &dst) != BGPBT_OK) return BGPBT_ERR_INTERNAL;
    c.arch.policy_layers = 2;
    c.arch.policy_width = 6;
    c.seed = 9;
    if (bgpbt_agent_create(&c, &src) != BGPBT_OK) { bgpbt_agent_destroy(dst); return BGPBT_ERR_INTERNAL; }
    bgpbt_agent_save(src, blob, sizeof blob, &nb);
    bgpbt_agent_save(dst, before, sizeof before, &n0);
    hardening_arm(fa, k);
    r = bgpbt_agent_load(dst, blob, nb);
    fa->fail_at = 0;
    if (r != BGPBT_OK) {
        bgpbt_agent_save(dst, after, sizeof after, &n1);
        if (n1 != n0 || memcmp(before, after, n0) != 0) r = BGPBT_ERR_INTERNAL; /* changed: a finding */
    }
    if (bgpbt_agent_act(dst, obs, 1, act, 1) != BGPBT_OK) r = BGPBT_ERR_INTERNAL;
    bgpbt_agent_destroy(src);
    bgpbt_agent_destroy(dst);
    return r;
}

static void hardening_gp_data(double* X, double* y, int n, int d) {
    bgpbt_rng rng;
    int i, j;
    bgpbt_rng_init(&rng, 17, 0);
    for (i = 0; i < n; ++i) {
        double s = 0;
        for (j = 0; j < d; ++j) { X[i * d + j] = bgpbt_rng_double(&rng); s += sin(3 * X[i * d + j]); }
        y[i] = s;
    }
}

static bgpbt_result hardening_op_gp(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp* gp = NULL;
    double X[20 * 3], y[20], mu[2], var[2];
    bgpbt_result r;
    hardening_gp_data(X, y, 20, 3);
    c.dim = 3;
    c.ard = 1;
    c.allocator = a;
    hardening_arm(fa, k);
    r = bgpbt_gp_create(&c, &gp);
    if (r == BGPBT_OK) r = bgpbt_gp_set_data(gp, X, NULL, y, 20);
    if (r == BGPBT_OK) r = bgpbt_gp_fit(gp);
    if (r == BGPBT_OK) r = bgpbt_gp_predict(gp, X, NULL, 2, mu, var);
    bgpbt_gp_destroy(gp);
    return r;
}

static bgpbt_bo_config hardening_bo_config(bgpbt_allocator a) {
    bgpbt_bo_config c = bgpbt_bo_config_default();
    bgpbt_bo_space_add_float(&c.space, "x", 0, 1, 0);
    bgpbt_bo_space_add_float(&c.space, "lr", 1e-4, 1e-2, 1);
    bgpbt_bo_space_add_int(&c.space, "n", 1, 8, 0);
    bgpbt_bo_space_add_categorical(&c.space, "c", 3);
    c.n_init = 4;
    c.n_restarts = 1;
    c.n_steps = 4;
    c.n_candidates = 32;
    c.seed = 4;
    c.allocator = a;
    return c;
}

static bgpbt_result hardening_op_bo(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    bgpbt_bo_config c = hardening_bo_config(a);
    bgpbt_bo* bo = NULL;
    double v[4 * 2];
    bgpbt_result r;
    int i;
    hardening_arm(fa, k);
    r = bgpbt_bo_create(&c, &bo);
    for (i = 0; i < 4 && r == BGPBT_OK; ++i) { /* 4 random points, then 2 model-based ones */
        r = bgpbt_bo_ask(bo, NULL, i < 3 ? 2 : 1, v);
        if (r == BGPBT_OK) r = bgpbt_bo_tell(bo, v, 0, v[0] * v[0] + v[2] * 0.1);
        if (r == BGPBT_OK && i < 3) r = bgpbt_bo_tell(bo, v + 4, 0, v[4] - v[6] * 0.1);
    }
    bgpbt_bo_destroy(bo);
    return r;
}

static bgpbt_pbt_config hardening_pbt_config(int method, bgpbt_allocator a) {
    bgpbt_pbt_config c = bgpbt_pbt_config_default();
    c.method = method;
    c.pop_size = 4;
    c.seed = 3;
    c.t_ready = 1000;
    c.max_steps = 6000;
    c.max_generations = 1;
    c.patience = 2;
    c.distill_budget = 2000;
    c.distill_every = 4000;
    c.n_init = method == BGPBT_PBT_METHOD_BGPBT ? 6 : 0;
    c.n_arch_candidates = 6;
    c.acq_restarts = 1;
    c.acq_steps = 5;
    c.allocator = a;
    return c;
}

static int hardening_pbt_round(bgpbt_pbt* s, int round, bgpbt_result* r) {
    const bgpbt_pbt_round* rd;
    int i;
    *r = bgpbt_pbt_ask(s, &rd);
    if (*r != BGPBT_OK || rd->n_jobs == 0) return 0;
    for (i = 0; i < rd->n_jobs && *r == BGPBT_OK; ++i)
        *r = bgpbt_pbt_tell(s, i, 0.1 * i + 0.05 * round + 0.1 * rd->jobs[i].hp[0] * 1e3, rd->jobs[i].steps, 0);
    return *r == BGPBT_OK;
}

static int hardening_pbt_method;
static bgpbt_result hardening_op_pbt(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    bgpbt_pbt_config c = hardening_pbt_config(hardening_pbt_method, a);
    bgpbt_pbt* s = NULL;
    bgpbt_result r;
    int round;
    hardening_arm(fa, k);
    r = bgpbt_pbt_create(&c, &s);
    for (round = 0; round < 3 && r == BGPBT_OK; ++round)
        if (!hardening_pbt_round(s, round, &r)) break;
    bgpbt_pbt_destroy(s);
    return r;
}

/* The runner's checkpoint: save (bgpbt__pbt_checkpoint) and restore (bgpbt__pbt_restore) with
   synthetic agents; a failed restore leaves the scheduler and the agent table as they were. */
/* The stand-in agents (tests/test.h) allocate through the allocator under test too. */
static test_sagent_user hardening_agent_user;
static bgpbt_pbt_agent_ops hardening_sops(bgpbt_allocator a) {
    memset(&hardening_agent_user, 0, sizeof hardening_agent_user);
    hardening_agent_user.fail_id = -1;
    hardening_agent_user.allocator = a;
    return test_sagent_ops(&hardening_agent_user);
}

/* A scheduler after two rounds and a table holding its live agents. */
static bgpbt_result hardening_make_run(bgpbt_allocator a, bgpbt_pbt** out, bgpbt__pbt_table* t) {
    bgpbt_pbt_config c = hardening_pbt_config(BGPBT_PBT_METHOD_PBT, a);
    bgpbt_pbt_agent_ops ops = hardening_sops(a);
    bgpbt_pbt* s = NULL;
    bgpbt_result r;
    int i;
    r = bgpbt_pbt_create(&c, &s);
    if (r != BGPBT_OK) return r;
    memset(t, 0, sizeof *t);
    t->cap = 4 * s->cap + 16;
    t->ids = (int*)bgpbt__calloc(&a, (size_t)t->cap, sizeof(int));
    t->agents = (void**)bgpbt__calloc(&a, (size_t)t->cap, sizeof(void*));
    if (!t->ids || !t->agents) r = BGPBT_ERR_OUT_OF_MEMORY;
    hardening_pbt_round(s, 0, &r);
    hardening_pbt_round(s, 1, &r);
    for (i = 0; i < s->n_alive && r == BGPBT_OK; ++i) {
        double hp[BGPBT_PBT_MAX_HP];
        void* ag = NULL;
        hp[0] = 1e-4 * (i + 1);
        r = ops.create(ops.user, NULL, hp, (uint64_t)i, &ag);
        if (r == BGPBT_OK) bgpbt__pbt_table_put(t, s->alive[i], ag);
    }
    *out = s;
    return r;
}
static void hardening_free_run(bgpbt_allocator a, bgpbt_pbt* s, bgpbt__pbt_table* t) {
    int i;
    for (i = 0; i < t->n; ++i) test_sagent_destroy(&hardening_agent_user, t->agents[i]);
    bgpbt__cfree(&a, t->ids, (size_t)t->cap, sizeof(int));
    bgpbt__cfree(&a, t->agents, (size_t)t->cap, sizeof(void*));
    bgpbt_pbt_destroy(s);
}

static bgpbt_result hardening_op_checkpoint_save(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    bgpbt_pbt* s = NULL;
    bgpbt__pbt_table t;
    bgpbt_pbt_agent_ops ops = hardening_sops(a);
    bgpbt_result r = hardening_make_run(a, &s, &t);
    if (r == BGPBT_OK) {
        hardening_arm(fa, k);
        r = bgpbt__pbt_checkpoint(s, &ops, &t, "hardening_oom_checkpoint.bgpbt", NULL);
        fa->fail_at = 0;
    }
    hardening_free_run(a, s, &t);
    return r;
}

static bgpbt_result hardening_op_checkpoint_load(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    bgpbt_pbt *s = NULL, *s2 = NULL;
    bgpbt__pbt_table t, t2;
    bgpbt_pbt_agent_ops ops = hardening_sops(a);
    bgpbt_result r = hardening_make_run(a, &s, &t);
    if (r == BGPBT_OK) r = bgpbt__pbt_checkpoint(s, &ops, &t, "hardening_oom_checkpoint.bgpbt", NULL);
    if (r == BGPBT_OK) {
        /* restore into a fresh scheduler that has run one round of its own */
        bgpbt_pbt_config c = hardening_pbt_config(BGPBT_PBT_METHOD_PBT, a);
        static unsigned char before[1 << 16], after[1 << 16];
        size_t n0 = 0, n1 = 0;
        int n_before;
        r = bgpbt_pbt_create(&c, &s2);
        memset(&t2, 0, sizeof t2);
        t2.cap = t.cap;
        t2.ids = (int*)bgpbt__calloc(&a, (size_t)t2.cap, sizeof(int));
        t2.agents = (void**)bgpbt__calloc(&a, (size_t)t2.cap, sizeof(void*));
        if (r == BGPBT_OK) hardening_pbt_round(s2, 0, &r);
        if (r == BGPBT_OK && (!t2.ids || !t2.agents)) r = BGPBT_ERR_OUT_OF_MEMORY;
        if (r == BGPBT_OK) r = bgpbt_pbt_save(s2, before, sizeof before, &n0);
        n_before = t2.n;
        if (r == BGPBT_OK) {
            hardening_arm(fa, k);
            r = bgpbt__pbt_restore(s2, &ops, &t2, "hardening_oom_checkpoint.bgpbt", NULL);
            fa->fail_at = 0;
            if (r != BGPBT_OK) { /* unchanged */
                if (bgpbt_pbt_save(s2, after, sizeof after, &n1) != BGPBT_OK || n1 != n0 ||
                    memcmp(before, after, n0) != 0 || t2.n != n_before)
                    r = BGPBT_ERR_INTERNAL;
            } else if (t2.n != t.n) {
                r = BGPBT_ERR_INTERNAL;
            }
        }
        if (s2) hardening_free_run(a, s2, &t2);
    }
    hardening_free_run(a, s, &t);
    remove("hardening_oom_checkpoint.bgpbt");
    remove("hardening_oom_checkpoint.bgpbt.prev");
    return r;
}

/* The runner on stand-in agents (allocated through the same allocator), three rounds, no files. */
static bgpbt_result hardening_op_run(test_failing_alloc* fa, bgpbt_allocator a, long k) {
    bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
    bgpbt_pbt_run_result res;
    bgpbt_pbt_agent_ops ops = hardening_sops(a);
    rc.pbt = hardening_pbt_config(hardening_pbt_method, a);
    rc.ops = &ops;
    rc.threads = 1;
    rc.progress = 0;
    rc.max_rounds = 3;
    hardening_arm(fa, k);
    return bgpbt_pbt_run(&rc, &res);
}

/* Both modes: the k-th allocation fails once (the operation may recover and go on), and every
   allocation from the k-th on fails (cleanup paths run with no memory at all). */
static void hardening_oom(void) {
    long before = hardening_oom_points;
    int m;
    for (hardening_oom_persistent = 0; hardening_oom_persistent < 2; ++hardening_oom_persistent) {
    hardening_oom_loop("MJCF model + sim (ant)", hardening_op_mjcf, 5000);
    hardening_oom_loop("vecenv tasks", hardening_op_vecenv, 5000);
    hardening_oom_loop("MLP create/save/load", hardening_op_mlp, 1000);
    hardening_oom_loop("agent create/train/evaluate", hardening_op_agent, 5000);
    hardening_oom_loop("agent load (other architecture)", hardening_op_agent_load, 1000);
    hardening_oom_loop("GP create/set_data/fit/predict", hardening_op_gp, 2000);
    hardening_oom_loop("BO create/ask/tell/suggest", hardening_op_bo, 5000);
    for (m = 0; m < 4; ++m) {
        if (test_is_fast() && m == BGPBT_PBT_METHOD_BGPBT) continue;
        hardening_pbt_method = m;
        hardening_oom_loop(bgpbt_pbt_method_name(m), hardening_op_pbt, 20000);
    }
    for (m = 0; m < 4; m += 1) {
        static const char* const names[4] = {"runner, 3 rounds (bgpbt)", "runner, 3 rounds (pb2)", "runner, 3 rounds (pbt)",
                                             "runner, 3 rounds (random)"};
        if (test_is_fast() && m != BGPBT_PBT_METHOD_PBT) continue;
        hardening_pbt_method = m;
        hardening_oom_loop(names[m], hardening_op_run, 20000);
    }
    hardening_oom_loop("run checkpoint save", hardening_op_checkpoint_save, 1000);
    hardening_oom_loop("run checkpoint load", hardening_op_checkpoint_load, 1000);
    }
    hardening_oom_persistent = 0;
    if (test__verbose) printf("  hardening: %ld allocation-failure points\n", hardening_oom_points - before);
}

/* ---- the bad-input matrix ----------------------------------------------------------------------

   Every case calls a public function with one bad input and checks the exact result code and,
   where the object or config carries a logger, that one message was logged. HBADQ is for calls
   with no logger in reach (a NULL object). The count is printed with --verbose. */
static test_log_capture hardening_cap;

static void hardening_bad_check(int got, int want, int logged, const char* expr, const char* file, int line) {
    hardening_bad_cases++;
    if (got != want) {
        char m[600];
        snprintf(m, sizeof m, "%s returned %d (%s), expected %d (%s)", expr, got, bgpbt_result_string((bgpbt_result)got),
                 want, bgpbt_result_string((bgpbt_result)want));
        test__fail(file, line, m);
    } else if (logged == 0) {
        char m[600];
        snprintf(m, sizeof m, "%s: no message logged", expr);
        test__fail(file, line, m);
    }
}
#define HBAD(expr, code) do { int hb_n = hardening_cap.count; int hb_r = (int)(expr); \
    hardening_bad_check(hb_r, (int)(code), hardening_cap.count > hb_n, #expr, __FILE__, __LINE__); } while (0)
#define HBADQ(expr, code) do { int hb_r = (int)(expr); \
    hardening_bad_check(hb_r, (int)(code), -1, #expr, __FILE__, __LINE__); } while (0)

static bgpbt_logger hardening_logger(void) {
    bgpbt_logger l;
    l.fn = test_log_capture_fn;
    l.user = &hardening_cap;
    return l;
}

/* damaged copies of a valid blob: truncated, a flipped payload bit, a flipped header bit, wrong
   magic, another kind, a newer version (resealed so that only the version is wrong) */
enum { HARDENING_DAMAGE_KINDS = 6 };
static size_t hardening_damage(const unsigned char* blob, size_t n, int kind, unsigned char* out) {
    memcpy(out, blob, n);
    switch (kind) {
        case 0: return n / 2;
        case 1: out[n - 3] ^= 0x10; return n;
        case 2: out[9] ^= 0x01; return n;
        case 3: out[0] = 'X'; return n;
        case 4: out[4] = 'Z'; break;
        default: out[8] = (unsigned char)(out[8] + 7); break;
    }
    test_seal_header(out);
    return n;
}
static const bgpbt_result hardening_damage_code[HARDENING_DAMAGE_KINDS] = {
    BGPBT_ERR_TRUNCATED, BGPBT_ERR_CHECKSUM, BGPBT_ERR_CHECKSUM, BGPBT_ERR_BAD_FORMAT, BGPBT_ERR_BAD_FORMAT, BGPBT_ERR_VERSION};

static void hardening_bad_io(void) {
    unsigned char blob[256], bad[256];
    bgpbt_writer w;
    bgpbt_reader rd;
    void* data = NULL;
    size_t n, size = 0;
    int k;
    memset(&w, 0, sizeof w);
    w.buf = blob;
    w.cap = sizeof blob;
    bgpbt_container_begin(&w, BGPBT_FOURCC('T', 'E', 'S', 'T'), 1);
    bgpbt_write_f64(&w, 1.5);
    bgpbt_write_u32(&w, 7);
    bgpbt_container_end(&w, 0);
    for (k = 0; k < HARDENING_DAMAGE_KINDS; ++k) {
        n = hardening_damage(blob, w.pos, k, bad);
        HBADQ(bgpbt_container_open(bad, n, BGPBT_FOURCC('T', 'E', 'S', 'T'), 1, NULL, &rd), hardening_damage_code[k]);
    }
    HBADQ(bgpbt_container_open(NULL, 0, BGPBT_FOURCC('T', 'E', 'S', 'T'), 1, NULL, &rd), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_container_open(blob, w.pos, BGPBT_FOURCC('T', 'E', 'S', 'T'), 1, NULL, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_file_read("hardening_no_such_file.bin", NULL, 100, &data, &size), BGPBT_ERR_IO);
    HBADQ(bgpbt_file_read(NULL, NULL, 100, &data, &size), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_file_write_atomic("hardening_no_such_dir/x.bin", blob, 4), BGPBT_ERR_IO);
    HBADQ(bgpbt_file_write_atomic(NULL, blob, 4), BGPBT_ERR_INVALID_ARGUMENT);
    if (bgpbt_file_write_atomic("hardening_big.bin", blob, w.pos) == BGPBT_OK) {
        HBADQ(bgpbt_file_read("hardening_big.bin", NULL, 8, &data, &size), BGPBT_ERR_LIMIT);
        remove("hardening_big.bin");
    }
    {
        uint64_t zero[4] = {0, 0, 0, 0};
        bgpbt_rng rng;
        bgpbt_rng_init(&rng, 1, 2);
        HBADQ(bgpbt_rng_set_state(&rng, zero), BGPBT_ERR_INVALID_ARGUMENT);
    }
    {
        bgpbt_text t;
        const char* cols[2] = {"a", "b"};
        double v[2] = {1, 2};
        bgpbt_text_init(&t, NULL);
        bgpbt_text_append(&t, "x");
        HBADQ(bgpbt_text_write_file(&t, "hardening_no_such_dir/t.txt"), BGPBT_ERR_IO);
        bgpbt_text_free(&t);
        HBADQ(bgpbt_csv_write("hardening_c.csv", cols, 0, v, 1, NULL), BGPBT_ERR_INVALID_ARGUMENT);
        HBADQ(bgpbt_csv_write("hardening_c.csv", cols, 2, v, -1, NULL), BGPBT_ERR_INVALID_ARGUMENT);
        HBADQ(bgpbt_csv_write(NULL, cols, 2, v, 1, NULL), BGPBT_ERR_INVALID_ARGUMENT);
        HBADQ(bgpbt_svg_write_plots("hardening_p.svg", "t", NULL, 1, 0, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    }
}

static void hardening_bad_sim(void) {
    bgpbt_sim_model_config mc = bgpbt_sim_model_config_default();
    bgpbt_sim_config sc = bgpbt_sim_config_default();
    bgpbt_sim_model* m = NULL;
    bgpbt_sim* s = NULL;
    size_t n;
    char* xml = hardening_task_xml("hopper", &n);
    float q[64];
    int i;
    REQUIRE(xml != NULL);
    mc.logger = hardening_logger();
    sc.logger = hardening_logger();
    HBAD(bgpbt_sim_model_from_mjcf(NULL, 10, &mc, &m), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_model_from_mjcf(xml, n / 2, &mc, &m), BGPBT_ERR_TRUNCATED);
    HBAD(bgpbt_sim_model_from_mjcf("<mujoco><worldbody><body><geom type='cone' size='1'/></body></worldbody></mujoco>", 82, &mc, &m),
         BGPBT_ERR_PARSE); /* unknown geom type */
    {
        const char* x = "<mujoco><worldbody><body><geom type='sphere' size='nan'/></body></worldbody></mujoco>";
        HBAD(bgpbt_sim_model_from_mjcf(x, strlen(x), &mc, &m), BGPBT_ERR_OUT_OF_RANGE); /* NaN fails the range check */
        x = "<mujoco><worldbody><body><geom type='sphere' size='-1'/></body></worldbody></mujoco>";
        HBAD(bgpbt_sim_model_from_mjcf(x, strlen(x), &mc, &m), BGPBT_ERR_OUT_OF_RANGE);
        x = "<mujoco><worldbody><body><joint type='hinge' range='1 -1' limited='true'/><geom size='.1'/></body></worldbody></mujoco>";
        HBAD(bgpbt_sim_model_from_mjcf(x, strlen(x), &mc, &m), BGPBT_ERR_EMPTY_RANGE);
        x = "<mujoco><worldbody><body><geom size='.1'/></body></worldbody><actuator><motor joint='nope'/></actuator></mujoco>";
        HBAD(bgpbt_sim_model_from_mjcf(x, strlen(x), &mc, &m), BGPBT_ERR_UNKNOWN_NAME);
    }
    HBAD(bgpbt_sim_model_load_mjcf("hardening_no_such_model.xml", &mc, &m), BGPBT_ERR_IO);
    CHECK(m == NULL);
    REQUIRE(bgpbt_sim_model_from_mjcf(xml, strlen(xml), &mc, &m) == BGPBT_OK);
    HBADQ(bgpbt_sim_create(NULL, &sc, &s), BGPBT_ERR_INVALID_ARGUMENT);
    sc.num_envs = -2;
    HBAD(bgpbt_sim_create(m, &sc, &s), BGPBT_ERR_OUT_OF_RANGE);
    sc.num_envs = 2;
    sc.frame_skip = -1;
    HBAD(bgpbt_sim_create(m, &sc, &s), BGPBT_ERR_OUT_OF_RANGE);
    sc.frame_skip = 0;
    REQUIRE(bgpbt_sim_create(m, &sc, &s) == BGPBT_OK);
    for (i = 0; i < 64; ++i) q[i] = 0;
    HBAD(bgpbt_sim_set_qpos(s, 2, q), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_sim_set_qpos(s, -1, q), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_sim_set_qpos(s, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    q[1] = (float)NAN;
    HBAD(bgpbt_sim_set_qpos(s, 0, q), BGPBT_ERR_NOT_FINITE);
    HBAD(bgpbt_sim_set_qvel(s, 0, q), BGPBT_ERR_NOT_FINITE);
    q[0] = (float)INFINITY;
    HBAD(bgpbt_sim_set_ctrl(s, 0, q), BGPBT_ERR_NOT_FINITE);
    HBAD(bgpbt_sim_set_ctrl_all(s, q), BGPBT_ERR_NOT_FINITE);
    HBAD(bgpbt_sim_reset_env(s, 5, NULL, NULL), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_sim_set_frame_skip(s, 0), BGPBT_ERR_OUT_OF_RANGE);
    HBADQ(bgpbt_sim_step(NULL), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_OK(bgpbt_sim_step(s)); /* still usable */
    CHECK_EQ_INT(bgpbt_sim_model_body_id(m, "no_such_body"), -1);
    CHECK_EQ_INT(bgpbt_sim_model_numeric(m, "no_such_numeric", q, 4), -1);
    {
        bgpbt_sim_body_desc bd;
        HBADQ(bgpbt_sim_model_body(m, 999, &bd), BGPBT_ERR_OUT_OF_RANGE); /* a getter: the model keeps no logger */
    }
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
    {
        bgpbt_sim_builder* b = NULL;
        bgpbt_sim_body_desc bd = bgpbt_sim_body_desc_default();
        bgpbt_sim_joint_desc jd = bgpbt_sim_joint_desc_default();
        bgpbt_sim_geom_desc gd = bgpbt_sim_geom_desc_default();
        bgpbt_sim_actuator_desc ad = bgpbt_sim_actuator_desc_default();
        bgpbt_sim_options op = bgpbt_sim_options_default();
        int id;
        REQUIRE(bgpbt_sim_builder_create(&mc, &b) == BGPBT_OK);
        bd.parent = 7;
        HBAD(bgpbt_sim_builder_add_body(b, &bd, &id), BGPBT_ERR_OUT_OF_RANGE);
        bd = bgpbt_sim_body_desc_default();
        bd.mass = (float)NAN;
        HBAD(bgpbt_sim_builder_add_body(b, &bd, &id), BGPBT_ERR_NOT_FINITE);
        jd.body = 3;
        HBAD(bgpbt_sim_builder_add_joint(b, &jd, &id), BGPBT_ERR_OUT_OF_RANGE);
        gd.body = 0;
        gd.size[0] = -1;
        HBAD(bgpbt_sim_builder_add_geom(b, &gd, &id), BGPBT_ERR_OUT_OF_RANGE);
        ad.joint = 4;
        HBAD(bgpbt_sim_builder_add_actuator(b, &ad, &id), BGPBT_ERR_OUT_OF_RANGE);
        op.timestep = 0;
        HBAD(bgpbt_sim_builder_set_options(b, &op), BGPBT_ERR_OUT_OF_RANGE);
        HBAD(bgpbt_sim_builder_exclude(b, 0, 9), BGPBT_ERR_OUT_OF_RANGE);
        HBADQ(bgpbt_sim_builder_finish(NULL, &m), BGPBT_ERR_INVALID_ARGUMENT);
        bgpbt_sim_builder_destroy(b);
    }
    free(xml);
}

static void hardening_bad_env(void) {
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_task_options o = bgpbt_task_options_default();
    bgpbt_task_info info;
    bgpbt_vecenv* v = NULL;
    float act[4 * 8], qp[64], qv[64];
    char small[8];
    size_t n;
    int i;
    c.logger = hardening_logger();
    c.num_envs = 4;
    c.num_threads = 1;
    HBAD(bgpbt_vecenv_create_task("no_such_task", NULL, &c, &v), BGPBT_ERR_UNKNOWN_NAME);
    HBAD(bgpbt_vecenv_create_task(NULL, NULL, &c, &v), BGPBT_ERR_UNKNOWN_NAME);
    HBADQ(bgpbt_task_get_info("no_such_task", &info), BGPBT_ERR_UNKNOWN_NAME);
    HBADQ(bgpbt_task_mjcf("hopper", small, sizeof small, &n), BGPBT_ERR_BUFFER_TOO_SMALL);
    HBADQ(bgpbt_task_mjcf("no_such_task", NULL, 0, &n), BGPBT_ERR_UNKNOWN_NAME);
    CHECK(bgpbt_task_name(-1) == NULL && bgpbt_task_name(99) == NULL);
    c.num_envs = 0;
    c.num_envs = -3;
    HBAD(bgpbt_vecenv_create_task("hopper", NULL, &c, &v), BGPBT_ERR_OUT_OF_RANGE);
    c.num_envs = 4;
    o.episode_length = -5;
    HBAD(bgpbt_vecenv_create_task("hopper", &o, &c, &v), BGPBT_ERR_OUT_OF_RANGE);
    o = bgpbt_task_options_default();
    o.num_reward_weights = 99;
    HBAD(bgpbt_vecenv_create_task("hopper", &o, &c, &v), BGPBT_ERR_OUT_OF_RANGE);
    o = bgpbt_task_options_default();
    o.num_reward_weights = 1;
    o.reward_weights[0] = (float)NAN;
    HBAD(bgpbt_vecenv_create_task("hopper", &o, &c, &v), BGPBT_ERR_NOT_FINITE);
    HBAD(bgpbt_vecenv_create(NULL, &c, &v), BGPBT_ERR_INVALID_ARGUMENT);
    REQUIRE(bgpbt_vecenv_create_task("hopper", NULL, &c, &v) == BGPBT_OK);
    for (i = 0; i < 4 * 8; ++i) act[i] = 0;
    HBAD(bgpbt_vecenv_step(v, act), BGPBT_ERR_WRONG_ORDER); /* before reset */
    CHECK_OK(bgpbt_vecenv_reset(v));
    HBAD(bgpbt_vecenv_step(v, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    for (i = 0; i < 4 * 8; ++i) act[i] = 0;
    act[2] = (float)NAN;
    HBAD(bgpbt_vecenv_step(v, act), BGPBT_ERR_NOT_FINITE);
    act[2] = 0;
    HBAD(bgpbt_vecenv_reset_one(v, 4), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_vecenv_get_state(v, -1, qp, qv), BGPBT_ERR_OUT_OF_RANGE);
    CHECK_OK(bgpbt_vecenv_get_state(v, 0, qp, qv));
    qv[0] = (float)INFINITY;
    HBAD(bgpbt_vecenv_set_state(v, 0, qp, qv), BGPBT_ERR_NOT_FINITE);
    HBAD(bgpbt_vecenv_set_state(v, 0, NULL, qv), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_vecenv_body_transforms(v, 9, qp, qv), BGPBT_ERR_OUT_OF_RANGE);
    CHECK(bgpbt_vecenv_reward_term_name(v, 99) == NULL);
    CHECK_OK(bgpbt_vecenv_step(v, act)); /* still usable */
    for (i = 0; i < 4; ++i) CHECK(isfinite(bgpbt_vecenv_rewards(v)[i]));
    bgpbt_vecenv_destroy(v);
}

static void hardening_bad_nn(void) {
    bgpbt_mlp_config c = bgpbt_mlp_config_default();
    bgpbt_mlp *m = NULL, *m2 = NULL;
    bgpbt_adam_config ad = bgpbt_adam_config_default();
    float x[4 * 3], y[4 * 2], dy[4 * 2], p[256];
    unsigned char blob[4096], bad[4096];
    size_t n = 0, nb;
    int k;
    c.logger = hardening_logger();
    c.in_dim = 3;
    c.out_dim = 2;
    c.num_hidden = 1;
    c.hidden[0] = 6;
    c.max_batch = 4;
    c.in_dim = 0;
    HBAD(bgpbt_mlp_create(&c, &m), BGPBT_ERR_INVALID_ARGUMENT);
    c.in_dim = 3;
    c.hidden[0] = -4;
    HBAD(bgpbt_mlp_create(&c, &m), BGPBT_ERR_INVALID_ARGUMENT);
    c.hidden[0] = 6;
    c.num_hidden = BGPBT_MLP_MAX_HIDDEN + 1;
    HBAD(bgpbt_mlp_create(&c, &m), BGPBT_ERR_LIMIT);
    c.num_hidden = 1;
    c.activation = (bgpbt_activation)9;
    HBAD(bgpbt_mlp_create(&c, &m), BGPBT_ERR_INVALID_ARGUMENT);
    c.activation = BGPBT_ACT_TANH;
    HBADQ(bgpbt_mlp_create(&c, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    REQUIRE(bgpbt_mlp_create(&c, &m) == BGPBT_OK);
    memset(x, 0, sizeof x);
    memset(dy, 0, sizeof dy);
    HBAD(bgpbt_mlp_backward(m, dy, 2, NULL), BGPBT_ERR_WRONG_ORDER);
    CHECK_OK(bgpbt_mlp_forward(m, x, 0, y, 0)); /* an empty batch is a no-op */
    HBAD(bgpbt_mlp_forward(m, x, -1, y, 0), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_mlp_forward(m, x, 5, y, 1), BGPBT_ERR_LIMIT); /* above max_batch */
    HBAD(bgpbt_mlp_forward(m, NULL, 1, y, 0), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_OK(bgpbt_mlp_forward(m, x, 2, y, 1));
    HBAD(bgpbt_mlp_backward(m, dy, 3, NULL), BGPBT_ERR_WRONG_ORDER); /* not the batch of the last forward */
    dy[1] = (float)NAN;
    CHECK_OK(bgpbt_mlp_backward(m, dy, 2, NULL));
    HBAD(bgpbt_mlp_adam_step(m, &ad), BGPBT_ERR_NOT_FINITE);
    bgpbt_mlp_get_params(m, p);
    p[3] = (float)NAN;
    HBAD(bgpbt_mlp_set_params(m, p), BGPBT_ERR_NOT_FINITE);
    ad.learning_rate = -1;
    dy[1] = 0;
    CHECK_OK(bgpbt_mlp_backward(m, dy, 2, NULL));
    HBAD(bgpbt_mlp_adam_step(m, &ad), BGPBT_ERR_OUT_OF_RANGE);
    ad = bgpbt_adam_config_default();
    CHECK_OK(bgpbt_mlp_save(m, NULL, 0, &n));
    HBAD(bgpbt_mlp_save(m, blob, n - 1, &nb), BGPBT_ERR_BUFFER_TOO_SMALL);
    REQUIRE(n <= sizeof blob && bgpbt_mlp_save(m, blob, sizeof blob, &n) == BGPBT_OK);
    for (k = 0; k < HARDENING_DAMAGE_KINDS; ++k) {
        nb = hardening_damage(blob, n, k, bad);
        HBAD(bgpbt_mlp_load(m, bad, nb), hardening_damage_code[k]);
        HBAD(bgpbt_mlp_create_from_blob(bad, nb, &c, &m2), hardening_damage_code[k]);
    }
    c.hidden[0] = 7;
    REQUIRE(bgpbt_mlp_create(&c, &m2) == BGPBT_OK);
    HBAD(bgpbt_mlp_copy(m2, m), BGPBT_ERR_SIZE_MISMATCH);
    CHECK_OK(bgpbt_mlp_save(m2, blob, sizeof blob, &n));
    HBAD(bgpbt_mlp_load(m, blob, n), BGPBT_ERR_SIZE_MISMATCH);
    CHECK_OK(bgpbt_mlp_forward(m, x, 2, y, 0)); /* still usable */
    CHECK(isfinite(y[0]) && isfinite(y[3]));
    bgpbt_mlp_destroy(m2);
    bgpbt_mlp_destroy(m);
}

/* a user environment whose reward turns NaN after a few steps (a buggy game) */
static void hardening_nan_reset(void* state, bgpbt_rng* rng, float* obs, void* user) {
    (void)rng; (void)user;
    *(int*)state = 0;
    obs[0] = 0.1f;
    obs[1] = -0.1f;
}
static void hardening_nan_step(void* state, const float* action, bgpbt_rng* rng, float* obs, float* reward,
                               int* terminated, void* user) {
    int* t = (int*)state;
    (void)rng; (void)user;
    ++*t;
    obs[0] = action[0];
    obs[1] = (float)*t * 0.01f;
    *reward = *t > 3 ? (float)NAN : 1.0f;
    *terminated = 0;
}

static void hardening_bad_ppo(void) {
    bgpbt_allocator none;
    bgpbt_agent_config c, c2;
    bgpbt_agent *a = NULL, *b = NULL;
    bgpbt_ppo_hparams hp;
    static unsigned char blob[1 << 16], bad[1 << 16];
    size_t n = 0, nb;
    float obs[2 * 4], act[2];
    int k;
    memset(&none, 0, sizeof none);
    c = hardening_agent_config(none);
    c.logger = hardening_logger();
    c2 = c;
    c2.task = NULL;
    HBAD(bgpbt_agent_create(&c2, &a), BGPBT_ERR_INVALID_ARGUMENT);
    c2.task = "no_such_task";
    HBAD(bgpbt_agent_create(&c2, &a), BGPBT_ERR_UNKNOWN_NAME);
    c2 = c;
    c2.hparams.learning_rate = NAN;
    HBAD(bgpbt_agent_create(&c2, &a), BGPBT_ERR_OUT_OF_RANGE); /* NaN fails the range check */
    c2 = c;
    c2.hparams.discount = 1.5;
    HBAD(bgpbt_agent_create(&c2, &a), BGPBT_ERR_OUT_OF_RANGE);
    c2 = c;
    c2.arch.policy_layers = -1;
    HBAD(bgpbt_agent_create(&c2, &a), BGPBT_ERR_OUT_OF_RANGE);
    c2 = c;
    c2.num_envs = -1;
    HBAD(bgpbt_agent_create(&c2, &a), BGPBT_ERR_OUT_OF_RANGE);
    HBADQ(bgpbt_agent_create(&c, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    REQUIRE(bgpbt_agent_create(&c, &a) == BGPBT_OK);
    hp = bgpbt_agent_get_hparams(a);
    hp.gae_lambda = NAN;
    HBAD(bgpbt_agent_set_hparams(a, &hp), BGPBT_ERR_OUT_OF_RANGE);
    hp = bgpbt_agent_get_hparams(a);
    hp.clip_epsilon = -0.2;
    HBAD(bgpbt_agent_set_hparams(a, &hp), BGPBT_ERR_OUT_OF_RANGE);
    hp = bgpbt_agent_get_hparams(a);
    hp.reward_scaling = INFINITY;
    HBAD(bgpbt_agent_set_hparams(a, &hp), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_agent_train(a, -5), BGPBT_ERR_INVALID_ARGUMENT);
    memset(obs, 0, sizeof obs);
    HBAD(bgpbt_agent_act(a, NULL, 1, act, 1), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_OK(bgpbt_agent_act(a, obs, 0, act, 1)); /* an empty batch is a no-op */
    obs[1] = NAN;
    HBAD(bgpbt_agent_act(a, obs, 2, act, 1), BGPBT_ERR_NOT_FINITE);
    obs[1] = 0;
    HBAD(bgpbt_agent_distill(a, NULL, NULL, 10), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_OK(bgpbt_agent_save(a, NULL, 0, &n));
    REQUIRE(n <= sizeof blob);
    HBAD(bgpbt_agent_save(a, blob, n - 1, &nb), BGPBT_ERR_BUFFER_TOO_SMALL);
    CHECK_OK(bgpbt_agent_save(a, blob, sizeof blob, &n));
    for (k = 0; k < HARDENING_DAMAGE_KINDS; ++k) {
        nb = hardening_damage(blob, n, k, bad);
        HBAD(bgpbt_agent_load(a, bad, nb), hardening_damage_code[k]);
    }
    c2 = c;
    c2.task = "reacher"; /* other observation and action sizes */
    REQUIRE(bgpbt_agent_create(&c2, &b) == BGPBT_OK);
    HBAD(bgpbt_agent_copy_from(a, b), BGPBT_ERR_SIZE_MISMATCH);
    CHECK_OK(bgpbt_agent_save(b, bad, sizeof bad, &nb));
    HBAD(bgpbt_agent_load(a, bad, nb), BGPBT_ERR_SIZE_MISMATCH);
    HBAD(bgpbt_agent_distill(a, b, NULL, 10), BGPBT_ERR_SIZE_MISMATCH);
    CHECK_OK(bgpbt_agent_act(a, obs, 2, act, 1)); /* still usable */
    CHECK(isfinite(act[0]) && isfinite(act[1]));
    bgpbt_agent_destroy(b);
    bgpbt_agent_destroy(a);
    { /* NaN rewards from a user environment: the env layer cuts the episode (counted as
         unstable), so training stays finite and the agent healthy */
        bgpbt_env_def def;
        bgpbt_vecenv_config vc = bgpbt_vecenv_config_default();
        bgpbt_vecenv* v = NULL;
        bgpbt_episode_stats es;
        float a2[4] = {0, 0, 0, 0};
        int t;
        memset(&def, 0, sizeof def);
        def.name = "nan_game";
        def.obs_dim = 2;
        def.act_dim = 1;
        def.max_episode_steps = 50;
        def.state_bytes = sizeof(int);
        def.reset = hardening_nan_reset;
        def.step = hardening_nan_step;
        vc.num_envs = 4;
        REQUIRE(bgpbt_vecenv_create(&def, &vc, &v) == BGPBT_OK);
        CHECK_OK(bgpbt_vecenv_reset(v));
        for (t = 0; t < 10; ++t) CHECK_OK(bgpbt_vecenv_step(v, a2));
        for (t = 0; t < 4; ++t) CHECK(isfinite(bgpbt_vecenv_rewards(v)[t]));
        bgpbt_vecenv_take_stats(v, &es);
        CHECK(es.unstable >= 4);
        bgpbt_vecenv_destroy(v);
        c2 = c;
        c2.task = NULL;
        c2.env_def = &def;
        REQUIRE(bgpbt_agent_create(&c2, &a) == BGPBT_OK);
        CHECK_OK(bgpbt_agent_train(a, 40));
        CHECK(!bgpbt_agent_failed(a));
        CHECK_OK(bgpbt_agent_act(a, obs, 1, act, 1));
        CHECK(isfinite(act[0]));
        bgpbt_agent_destroy(a);
    }
}

static void hardening_bad_gp_bo(void) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp* gp = NULL;
    bgpbt_gp_hypers h;
    double X[12 * 2], y[12], mu[2], var[2];
    bgpbt_bo_config bc;
    bgpbt_bo_space sp;
    bgpbt_bo* bo = NULL;
    bgpbt_allocator none;
    double v[4], lo[4], hi[4], yb;
    int ham, idx;
    bgpbt_logger lg = hardening_logger();
    c.logger = lg;
    c.dim = 0;
    HBAD(bgpbt_gp_create(&c, &gp), BGPBT_ERR_INVALID_ARGUMENT);
    c.dim = BGPBT_GP_MAX_DIM + 1;
    HBAD(bgpbt_gp_create(&c, &gp), BGPBT_ERR_INVALID_ARGUMENT);
    c.dim = 2;
    c.noise_min = 1.0;
    c.noise_max = 0.1;
    HBAD(bgpbt_gp_create(&c, &gp), BGPBT_ERR_EMPTY_RANGE);
    c.noise_min = c.noise_max = 0;
    REQUIRE(bgpbt_gp_create(&c, &gp) == BGPBT_OK);
    hardening_gp_data(X, y, 12, 2);
    CHECK_OK(bgpbt_gp_fit(gp)); /* no data: the prior, documented */
    X[3] = NAN;
    HBAD(bgpbt_gp_set_data(gp, X, NULL, y, 12), BGPBT_ERR_NOT_FINITE);
    X[3] = 0.5;
    y[4] = INFINITY;
    HBAD(bgpbt_gp_set_data(gp, X, NULL, y, 12), BGPBT_ERR_NOT_FINITE);
    y[4] = 0.5;
    HBAD(bgpbt_gp_set_data(gp, X, NULL, y, -1), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_gp_set_data(gp, NULL, NULL, y, 3), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_OK(bgpbt_gp_set_data(gp, X, NULL, y, 12));
    bgpbt_gp_get_hypers(gp, &h);
    h.outputscale = NAN;
    HBAD(bgpbt_gp_set_hypers(gp, &h), BGPBT_ERR_OUT_OF_RANGE);
    mu[0] = NAN;
    HBAD(bgpbt_gp_predict(gp, mu, NULL, 1, mu, var), BGPBT_ERR_NOT_FINITE);
    HBAD(bgpbt_gp_predict(gp, X, NULL, -2, mu, var), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_gp_sample(gp, X, NULL, 2, 1, NULL, mu), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_OK(bgpbt_gp_fit(gp));
    CHECK_OK(bgpbt_gp_predict(gp, X, NULL, 2, mu, var)); /* still usable */
    CHECK(isfinite(mu[0]) && var[1] >= 0);
    bgpbt_gp_destroy(gp);

    bgpbt_bo_space_init(&sp, &lg);
    HBAD(bgpbt_bo_space_add_float(&sp, "a", 1, 0, 0), BGPBT_ERR_EMPTY_RANGE);
    HBAD(bgpbt_bo_space_add_float(&sp, "a", 1, 1, 0), BGPBT_ERR_EMPTY_RANGE);
    HBAD(bgpbt_bo_space_add_float(&sp, "a", NAN, 1, 0), BGPBT_ERR_NOT_FINITE);
    HBAD(bgpbt_bo_space_add_float(&sp, "a", 0, 1, 1), BGPBT_ERR_OUT_OF_RANGE); /* log with lo = 0 */
    HBAD(bgpbt_bo_space_add_int(&sp, "n", 5, 2, 0), BGPBT_ERR_EMPTY_RANGE);
    HBAD(bgpbt_bo_space_add_categorical(&sp, "c", 1), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_bo_space_add_float(&sp, NULL, 0, 1, 0), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_OK(bgpbt_bo_space_add_float(&sp, "a", 0, 1, 0));
    HBAD(bgpbt_bo_space_add_float(&sp, "a", 0, 2, 0), BGPBT_ERR_INVALID_ARGUMENT); /* duplicate name */
    HBAD(bgpbt_bo_space_find(&sp, "zz", &idx), BGPBT_ERR_UNKNOWN_NAME);
    v[0] = 3;
    HBAD(bgpbt_bo_space_check(&sp, v), BGPBT_ERR_OUT_OF_RANGE);
    v[0] = NAN;
    HBAD(bgpbt_bo_space_check(&sp, v), BGPBT_ERR_NOT_FINITE);
    memset(&none, 0, sizeof none);
    bc = bgpbt_bo_config_default();
    bc.logger = lg;
    HBAD(bgpbt_bo_create(&bc, &bo), BGPBT_ERR_INVALID_ARGUMENT); /* empty space */
    bc = hardening_bo_config(none);
    bc.logger = lg;
    bc.beta = NAN;
    HBAD(bgpbt_bo_create(&bc, &bo), BGPBT_ERR_NOT_FINITE);
    bc.beta = 0;
    bc.tr.length_min = 0.5;
    bc.tr.length_max = 0.1;
    HBAD(bgpbt_bo_create(&bc, &bo), BGPBT_ERR_EMPTY_RANGE);
    bc = hardening_bo_config(none);
    bc.logger = lg;
    bc.n_steps = BGPBT_BO_MAX_STEPS + 1;
    HBAD(bgpbt_bo_create(&bc, &bo), BGPBT_ERR_OUT_OF_RANGE);
    bc = hardening_bo_config(none);
    bc.logger = lg;
    REQUIRE(bgpbt_bo_create(&bc, &bo) == BGPBT_OK);
    HBAD(bgpbt_bo_best(bo, v, &yb), BGPBT_ERR_WRONG_ORDER);
    HBAD(bgpbt_bo_tr_box(bo, lo, hi, &ham), BGPBT_ERR_WRONG_ORDER);
    HBAD(bgpbt_bo_guided_center(bo, v), BGPBT_ERR_WRONG_ORDER); /* no guided restart has happened */
    HBAD(bgpbt_bo_ask(bo, NULL, 0, v), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_bo_ask(bo, NULL, 1, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    v[0] = 0.5; v[1] = 1e-3; v[2] = 3; v[3] = 1;
    v[1] = 5; /* outside [1e-4, 1e-2] */
    HBAD(bgpbt_bo_tell(bo, v, 0, 1.0), BGPBT_ERR_OUT_OF_RANGE);
    v[1] = 1e-3;
    v[0] = NAN;
    HBAD(bgpbt_bo_tell(bo, v, 0, 1.0), BGPBT_ERR_NOT_FINITE);
    v[0] = 0.5;
    v[3] = 7; /* category out of range */
    HBAD(bgpbt_bo_tell(bo, v, 0, 1.0), BGPBT_ERR_OUT_OF_RANGE);
    v[3] = 1;
    HBAD(bgpbt_bo_set_data(bo, v, NULL, &yb, -1), BGPBT_ERR_INVALID_ARGUMENT);
    {
        bgpbt_bo_tr_state st;
        bgpbt_bo_tr_get(bo, &st);
        st.length = -1;
        HBAD(bgpbt_bo_tr_set(bo, &st), BGPBT_ERR_OUT_OF_RANGE);
        st.length = NAN;
        HBAD(bgpbt_bo_tr_set(bo, &st), BGPBT_ERR_OUT_OF_RANGE);
    }
    HBAD(bgpbt_bo_tell(bo, v, 0, NAN), BGPBT_ERR_NOT_FINITE); /* documented: reported by tell and skipped */
    CHECK_OK(bgpbt_bo_ask(bo, NULL, 1, v)); /* still usable */
    CHECK_OK(bgpbt_bo_space_check(bgpbt_bo_get_space(bo), v));
    bgpbt_bo_destroy(bo);
}

static void hardening_bad_pbt(void) {
    bgpbt_allocator none;
    bgpbt_pbt_config c, c2;
    bgpbt_pbt* s = NULL;
    const bgpbt_pbt_round* rd;
    static unsigned char blob[1 << 17], bad[1 << 17];
    size_t n = 0, nb;
    int k, id;
    double ret;
    memset(&none, 0, sizeof none);
    c = hardening_pbt_config(BGPBT_PBT_METHOD_PB2, none);
    c.logger = hardening_logger();
    c2 = c;
    c2.pop_size = 0;
    HBAD(bgpbt_pbt_create(&c2, &s), BGPBT_ERR_OUT_OF_RANGE);
    c2 = c;
    c2.pop_size = BGPBT_PBT_MAX_POP + 1;
    HBAD(bgpbt_pbt_create(&c2, &s), BGPBT_ERR_OUT_OF_RANGE);
    c2 = c;
    c2.method = 17;
    HBAD(bgpbt_pbt_create(&c2, &s), BGPBT_ERR_INVALID_ARGUMENT);
    c2 = c;
    c2.quantile = 0.9;
    HBAD(bgpbt_pbt_create(&c2, &s), BGPBT_ERR_OUT_OF_RANGE);
    c2 = c;
    c2.t_ready = -1;
    HBAD(bgpbt_pbt_create(&c2, &s), BGPBT_ERR_OUT_OF_RANGE);
    c2 = c;
    c2.n_hp = 1;
    c2.hp[0] = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, 1e-3, 1e-4, 1);
    HBAD(bgpbt_pbt_create(&c2, &s), BGPBT_ERR_EMPTY_RANGE);
    c2.hp[0] = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, NAN, 1e-4, 1);
    HBAD(bgpbt_pbt_create(&c2, &s), BGPBT_ERR_NOT_FINITE);
    c2.hp[0] = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, -1, 1, 1);
    HBAD(bgpbt_pbt_create(&c2, &s), BGPBT_ERR_OUT_OF_RANGE);
    c2 = c;
    c2.tr_min = 0.9;
    c2.tr_max = 0.2;
    HBAD(bgpbt_pbt_create(&c2, &s), BGPBT_ERR_OUT_OF_RANGE);
    c2 = c;
    c2.acq_steps = BGPBT_BO_MAX_STEPS + 1; /* (a saved state with it is refused by the same check) */
    HBAD(bgpbt_pbt_create(&c2, &s), BGPBT_ERR_OUT_OF_RANGE);
    HBADQ(bgpbt_pbt_create(NULL, &s), BGPBT_ERR_INVALID_ARGUMENT);
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    HBAD(bgpbt_pbt_tell(s, 0, 1.0, 1000, 0), BGPBT_ERR_WRONG_ORDER);
    HBAD(bgpbt_pbt_best(s, &id, &ret, NULL), BGPBT_ERR_WRONG_ORDER);
    REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK && rd->n_jobs > 1);
    HBAD(bgpbt_pbt_tell(s, rd->n_jobs, 1.0, 1000, 0), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_pbt_tell(s, -1, 1.0, 1000, 0), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_pbt_tell(s, 0, 1.0, -7, 0), BGPBT_ERR_OUT_OF_RANGE);
    CHECK_OK(bgpbt_pbt_tell(s, 0, NAN, 1000, 0)); /* documented: marks the job failed */
    HBAD(bgpbt_pbt_tell(s, 0, 1.0, 1000, 0), BGPBT_ERR_WRONG_ORDER); /* told twice */
    CHECK_OK(bgpbt_pbt_save(s, NULL, 0, &n));
    REQUIRE(n <= sizeof blob);
    HBAD(bgpbt_pbt_save(s, blob, n - 1, &nb), BGPBT_ERR_BUFFER_TOO_SMALL);
    CHECK_OK(bgpbt_pbt_save(s, blob, sizeof blob, &n));
    for (k = 0; k < HARDENING_DAMAGE_KINDS; ++k) {
        nb = hardening_damage(blob, n, k, bad);
        HBAD(bgpbt_pbt_load(s, bad, nb), hardening_damage_code[k]);
    }
    HBAD(bgpbt_pbt_write_csv(s, "hardening_no_such_dir/log.csv"), BGPBT_ERR_IO);
    for (k = 1; k < rd->n_jobs; ++k) CHECK_OK(bgpbt_pbt_tell(s, k, 0.1 * k, rd->jobs[k].steps, 0)); /* still usable */
    CHECK_OK(bgpbt_pbt_ask(s, &rd));
    CHECK(rd->n_jobs > 0);
    bgpbt_pbt_destroy(s);
    {
        bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
        bgpbt_pbt_run_result res;
        HBADQ(bgpbt_pbt_run(NULL, &res), BGPBT_ERR_INVALID_ARGUMENT);
        rc.pbt = c;
        rc.pbt.pop_size = -3;
        HBAD(bgpbt_pbt_run(&rc, &res), BGPBT_ERR_OUT_OF_RANGE);
    }
}

static void hardening_bad_inputs(void) {
    long before = hardening_bad_cases;
    memset(&hardening_cap, 0, sizeof hardening_cap);
    hardening_bad_io();
    hardening_bad_sim();
    hardening_bad_env();
    hardening_bad_nn();
    hardening_bad_ppo();
    hardening_bad_gp_bo();
    hardening_bad_pbt();
    if (test__verbose) printf("  hardening: %ld bad-input cases\n", hardening_bad_cases - before);
}

/* ---- the bad-input matrix, part 2: every remaining public function ---------------------------

   tests/check_bad_input_matrix.sh lists every public function of bgpbt.h (the BGPBT_API
   declarations, through the preprocessor) and fails unless each one appears here in an
   HBAD / HBADQ / HBADV / HBADN case, or in hardening_no_bad_input with the reason it has
   none. HBADV: a function that returns a value instead of a result must return this neutral
   value (NULL, 0, -1, "unknown") for the bad input; HBADN: a void function must return without
   touching anything. */
#define HBADV(expr, want) do { hardening_bad_cases++; if (!((expr) == (want))) \
    test__fail(__FILE__, __LINE__, #expr " is not " #want); } while (0)
#define HBADN(stmt) do { hardening_bad_cases++; stmt; } while (0)

/* Functions that take no input that could be bad; each is still called here once. */
static const char* const hardening_no_bad_input[][2] = {
    {"bgpbt_version_string", "no argument"},
    {"bgpbt_time_seconds", "no argument"},
    {"bgpbt_max_threads", "no argument"},
    {"bgpbt_simd_name", "no argument"},
    {"bgpbt_simd_width", "no argument"},
    {"bgpbt_sgemm_kernel_name", "no argument"},
    {"bgpbt_task_count", "no argument"},
    {"bgpbt_mix64", "every 64-bit value is a valid input"},
    {"bgpbt_sim_model_config_default", "no argument"},
    {"bgpbt_sim_body_desc_default", "no argument"},
    {"bgpbt_sim_joint_desc_default", "no argument"},
    {"bgpbt_sim_geom_desc_default", "no argument"},
    {"bgpbt_sim_actuator_desc_default", "no argument"},
    {"bgpbt_sim_options_default", "no argument"},
    {"bgpbt_sim_config_default", "no argument"},
    {"bgpbt_vecenv_config_default", "no argument"},
    {"bgpbt_render_options_default", "no argument"},
    {"bgpbt_task_options_default", "no argument"},
    {"bgpbt_mlp_config_default", "no argument"},
    {"bgpbt_adam_config_default", "no argument"},
    {"bgpbt_ppo_hparams_default", "no argument"},
    {"bgpbt_ppo_arch_default", "no argument"},
    {"bgpbt_agent_config_default", "no argument"},
    {"bgpbt_distill_config_default", "no argument"},
    {"bgpbt_gp_config_default", "no argument"},
    {"bgpbt_bo_tr_casmopolitan", "no argument"},
    {"bgpbt_bo_tr_bgpbt", "no argument"},
    {"bgpbt_bo_config_default", "no argument"},
    {"bgpbt_pbt_config_default", "no argument"},
    {"bgpbt_pbt_run_config_default", "no argument"},
};

static void hardening_matrix_no_input(void) {
    /* called once each (no crash, sane values) */
    CHECK(strcmp(bgpbt_version_string(), BGPBT_VERSION_STRING) == 0);
    CHECK(bgpbt_time_seconds() > 0);
    CHECK(bgpbt_max_threads() >= 1);
    CHECK(bgpbt_simd_name() != NULL && bgpbt_simd_width() >= 1);
    CHECK(bgpbt_sgemm_kernel_name() != NULL);
    CHECK(bgpbt_task_count() == 10);
    CHECK(bgpbt_mix64(0) != bgpbt_mix64(1));
    CHECK(bgpbt_sim_model_config_default().allocator.alloc == NULL);
    CHECK(bgpbt_sim_body_desc_default().parent == 0 || 1);
    (void)bgpbt_sim_joint_desc_default();
    (void)bgpbt_sim_geom_desc_default();
    (void)bgpbt_sim_actuator_desc_default();
    CHECK(bgpbt_sim_options_default().timestep > 0);
    (void)bgpbt_sim_config_default();
    (void)bgpbt_vecenv_config_default();
    (void)bgpbt_render_options_default();
    (void)bgpbt_task_options_default();
    (void)bgpbt_mlp_config_default();
    CHECK(bgpbt_adam_config_default().learning_rate > 0);
    (void)bgpbt_ppo_hparams_default();
    (void)bgpbt_ppo_arch_default();
    (void)bgpbt_agent_config_default();
    (void)bgpbt_distill_config_default();
    (void)bgpbt_gp_config_default();
    (void)bgpbt_bo_tr_casmopolitan();
    (void)bgpbt_bo_tr_bgpbt();
    (void)bgpbt_bo_config_default();
    (void)bgpbt_pbt_config_default();
    (void)bgpbt_pbt_run_config_default();
}

static void hardening_matrix_core_io(void) {
    bgpbt_rng rng;
    bgpbt_arena ar;
    bgpbt_writer w;
    bgpbt_reader rd;
    bgpbt_text t;
    uint64_t st[4] = {0, 0, 0, 0};
    unsigned char buf[64];
    float f4[4] = {0, 0, 0, 0};
    double d4[4] = {0, 0, 0, 0};
    int perm[4];
    bgpbt_allocator none;
    memset(&none, 0, sizeof none);
    /* core */
    HBADV(bgpbt_result_string((bgpbt_result)12345) != NULL, 1); /* any int has a name */
    HBADV(strcmp(bgpbt_result_string((bgpbt_result)-999), "unknown result") == 0 ||
          bgpbt_result_string((bgpbt_result)-999) != NULL, 1);
    HBADN(bgpbt_log_stderr((bgpbt_log_level)99, (bgpbt_result)-999, NULL, NULL)); /* unknown level, code, no message */
    HBADV(bgpbt_mem_alloc(NULL, 0, 16), NULL);
    HBADV(bgpbt_mem_alloc(NULL, 16, 3), NULL);        /* not a power of two */
    HBADV(bgpbt_mem_alloc(NULL, 16, 8192), NULL);     /* above 4096 */
    HBADV(bgpbt_mem_alloc(NULL, (size_t)-1, 64), NULL); /* overflows */
    HBADN(bgpbt_mem_free(NULL, NULL, 16));
    HBADN(bgpbt_rng_init(NULL, 1, 2));
    HBADV(bgpbt_rng_u64(NULL), 0);
    HBADV(bgpbt_rng_u32(NULL), 0);
    bgpbt_rng_init(&rng, 1, 2);
    HBADV(bgpbt_rng_below(&rng, 0), 0);
    HBADV(bgpbt_rng_below(NULL, 5), 0);
    HBADV(bgpbt_rng_float(NULL), 0.0f);
    HBADV(bgpbt_rng_double(NULL), 0.0);
    HBADV(bgpbt_rng_uniform(&rng, 2.0, 2.0), 2.0);   /* an empty range gives its bound */
    HBADV(bgpbt_rng_uniform(NULL, 1.0, 3.0), 1.0);
    HBADV(bgpbt_rng_normal(NULL), 0.0);
    HBADN(bgpbt_rng_normals(NULL, f4, 4));
    HBADN(bgpbt_rng_normals(&rng, NULL, 4));
    HBADN(bgpbt_rng_normals(&rng, f4, 0));
    HBADN(bgpbt_rng_permutation(&rng, perm, -3));
    HBADN(bgpbt_rng_permutation(&rng, NULL, 4));
    HBADN(bgpbt_rng_permutation(NULL, perm, 4));
    HBADN(bgpbt_rng_get_state(NULL, st));
    HBADN(bgpbt_rng_get_state(&rng, NULL));
    HBADQ(bgpbt_rng_set_state(NULL, st), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_rng_set_state(&rng, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_arena_init(NULL, NULL, 64), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_arena_init(&ar, NULL, 0), BGPBT_ERR_INVALID_ARGUMENT);
    REQUIRE(bgpbt_arena_init(&ar, NULL, 256) == BGPBT_OK);
    HBADV(bgpbt_arena_push(&ar, 300, 16), NULL);     /* larger than the arena */
    HBADV(bgpbt_arena_push(&ar, 8, 24), NULL);       /* alignment not a power of two */
    HBADV(bgpbt_arena_push(NULL, 8, 16), NULL);
    HBADV(bgpbt_arena_mark(NULL), 0);
    HBADN(bgpbt_arena_reset(&ar, 1000));             /* beyond the mark: ignored */
    CHECK_EQ_INT(bgpbt_arena_mark(&ar), 0);
    HBADN(bgpbt_arena_reset(NULL, 0));
    bgpbt_arena_free(&ar);
    HBADN(bgpbt_arena_free(&ar));                    /* twice */
    HBADN(bgpbt_arena_free(NULL));
    /* io: CRC, writer, reader */
    HBADV(bgpbt_crc32(7, NULL, 10), 7);
    memset(&w, 0, sizeof w);
    w.buf = buf;
    w.cap = 6;
    HBADN(bgpbt_write_bytes(NULL, buf, 4));
    HBADN(bgpbt_write_bytes(&w, NULL, 4));
    CHECK(w.overflow == 1 && w.pos == 0);
    w.overflow = 0;
    HBADN(bgpbt_write_u32(&w, 1));
    HBADN(bgpbt_write_u64(&w, 1));                   /* past cap: overflow, nothing written */
    CHECK(w.overflow == 1 && w.pos == 4);
    HBADN(bgpbt_write_i32(&w, 1));
    HBADN(bgpbt_write_f32(&w, (float)NAN));
    HBADN(bgpbt_write_f64(&w, INFINITY));
    HBADN(bgpbt_write_f32s(&w, NULL, 3));
    HBADN(bgpbt_write_f64s(NULL, d4, 3));
    CHECK(w.pos == 4);
    HBADN(bgpbt_container_begin(NULL, 1, 1));
    HBADN(bgpbt_container_end(NULL, 0));
    w.overflow = 0;
    HBADN(bgpbt_container_end(&w, 40));              /* begin_pos beyond pos: ignored */
    memset(&rd, 0, sizeof rd);
    rd.buf = buf;
    rd.size = 3;
    HBADN(bgpbt_read_bytes(NULL, buf, 2));
    HBADN(bgpbt_read_bytes(&rd, NULL, 2));
    CHECK(rd.failed == 1);
    rd.failed = 0;
    HBADV(bgpbt_read_u32(&rd), 0);                   /* past the end */
    CHECK(rd.failed == 1);
    HBADV(bgpbt_read_u64(&rd), 0);
    HBADV(bgpbt_read_i32(NULL), 0);
    HBADV(bgpbt_read_f32(&rd), 0.0f);
    HBADV(bgpbt_read_f64(NULL), 0.0);
    HBADN(bgpbt_read_f32s(&rd, f4, 4));
    HBADN(bgpbt_read_f64s(&rd, NULL, 4));
    HBADN(bgpbt_read_f32s(NULL, f4, 4));
    rd.failed = 0;
    rd.pos = 0;
    rd.size = 8;
    buf[0] = 200; buf[1] = 0; buf[2] = 0; buf[3] = 0;
    HBADV(bgpbt_read_count(&rd, 100, 1), 0);         /* above max */
    CHECK(rd.failed == 1);
    rd.failed = 0;
    rd.pos = 0;
    HBADV(bgpbt_read_count(&rd, 1000, 4), 0);        /* 200 x 4 bytes are not there */
    HBADV(bgpbt_read_count(NULL, 10, 1), 0);
    /* text */
    HBADN(bgpbt_text_init(NULL, NULL));
    HBADN(bgpbt_text_append(NULL, "x"));
    HBADN(bgpbt_text_printf(NULL, "%d", 1));
    HBADN(bgpbt_text_free(NULL));
    bgpbt_text_init(&t, NULL);
    HBADN(bgpbt_text_append(&t, NULL));              /* appends nothing */
    CHECK(t.len == 0);
    HBADQ(bgpbt_text_write_file(NULL, "hardening_t.txt"), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_text_write_file(&t, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    bgpbt_text_free(&t);
    {
        bgpbt_plot_panel p;
        memset(&p, 0, sizeof p);
        HBADQ(bgpbt_svg_write_plots("hardening_p.svg", "t", &p, -1, 0, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
        HBADQ(bgpbt_svg_write_plots(NULL, "t", &p, 1, 0, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    }
    {
        const char* cols[1] = {"a"};
        HBADQ(bgpbt_csv_write("hardening_c.csv", cols, 1, NULL, 3, NULL), BGPBT_ERR_INVALID_ARGUMENT);
        HBADQ(bgpbt_csv_write("hardening_c.csv", NULL, 1, d4, 1, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    }
    {
        void* data = NULL;
        size_t size = 0;
        HBADQ(bgpbt_file_read("hardening_no_such_file.bin", NULL, 100, NULL, &size), BGPBT_ERR_INVALID_ARGUMENT);
        HBADQ(bgpbt_file_write_atomic("", buf, 4), BGPBT_ERR_INVALID_ARGUMENT);
        HBADQ(bgpbt_file_write_atomic("hardening_x.bin", NULL, 4), BGPBT_ERR_INVALID_ARGUMENT);
        (void)data;
    }
    (void)none;
}

static void hardening_matrix_linalg(void) {
    double a[9] = {4, 0, 0, 2, 3, 0, 1, 1, NAN}, l[9], m[9], b[3] = {1, 2, 3}, j = -1;
    float fa[4] = {1, 2, 3, 4}, fc[4] = {9, 9, 9, 9};
    bgpbt_logger lg = hardening_logger();
    HBADN(bgpbt_sgemm(-1, 2, 2, fa, 2, 1, fa, 2, fc, 2, 0));
    HBADN(bgpbt_sgemm(2, 2, -1, fa, 2, 1, fa, 2, fc, 2, 0));
    HBADN(bgpbt_sgemm(2, 2, 2, NULL, 2, 1, fa, 2, fc, 2, 0));
    HBADN(bgpbt_sgemm(2, 2, 2, fa, 2, 1, fa, 2, NULL, 2, 0));
    CHECK(fc[0] == 9 && fc[3] == 9); /* untouched */
    HBADQ(bgpbt_linalg_cholesky(a, -1, 3), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_linalg_cholesky(a, 3, 2), BGPBT_ERR_INVALID_ARGUMENT); /* lda < n */
    HBADQ(bgpbt_linalg_cholesky(NULL, 3, 3), BGPBT_ERR_INVALID_ARGUMENT);
    memcpy(l, a, sizeof l);
    HBADQ(bgpbt_linalg_cholesky(l, 3, 3), BGPBT_ERR_NOT_POSITIVE_DEFINITE); /* a NaN pivot */
    HBAD(bgpbt_linalg_cholesky_jitter(a, 3, l, 3, 3, &j, &lg), BGPBT_ERR_NOT_FINITE);
    CHECK(j == 0.0);
    HBAD(bgpbt_linalg_cholesky_jitter(a, 3, l, 3, -2, &j, &lg), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_linalg_cholesky_jitter(a, 3, NULL, 3, 3, NULL, &lg), BGPBT_ERR_INVALID_ARGUMENT);
    a[8] = -5; /* indefinite */
    HBAD(bgpbt_linalg_cholesky_jitter(a, 3, l, 3, 3, &j, &lg), BGPBT_ERR_NOT_POSITIVE_DEFINITE);
    HBADN(bgpbt_linalg_solve_lower(NULL, 3, 3, b));
    HBADN(bgpbt_linalg_solve_lower(l, 3, 3, NULL));
    HBADN(bgpbt_linalg_solve_lower(l, 2, 3, b));      /* ldl < n */
    HBADN(bgpbt_linalg_solve_lower_t(l, 3, -4, b));
    HBADN(bgpbt_linalg_solve_lower_t(NULL, 3, 3, b));
    CHECK(b[0] == 1 && b[2] == 3);
    HBADN(bgpbt_linalg_lower_inverse(l, 3, 3, NULL, 3));
    HBADN(bgpbt_linalg_lower_inverse(l, 3, 3, m, 1));  /* ldm < n */
    HBADN(bgpbt_linalg_lower_inverse(l, 3, -1, m, 3));
}

static void hardening_matrix_sim(void) {
    bgpbt_sim_model_config mc = bgpbt_sim_model_config_default();
    bgpbt_sim_config sc = bgpbt_sim_config_default();
    bgpbt_sim_model* m = NULL;
    bgpbt_sim* s = NULL;
    bgpbt_sim_builder* b = NULL;
    bgpbt_sim_joint_desc jd;
    bgpbt_sim_geom_desc gd;
    bgpbt_sim_actuator_desc ad;
    float v3[3] = {0, 0, 0}, v9[9], q[64];
    size_t n;
    char* xml = hardening_task_xml("hopper", &n);
    int id;
    REQUIRE(xml != NULL);
    mc.logger = hardening_logger();
    sc.logger = hardening_logger();
    /* builder */
    HBAD(bgpbt_sim_builder_create(&mc, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADN(bgpbt_sim_builder_destroy(NULL));
    REQUIRE(bgpbt_sim_builder_create(&mc, &b) == BGPBT_OK);
    HBADQ(bgpbt_sim_builder_set_options(NULL, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_builder_set_options(b, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_builder_add_body(b, NULL, &id), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_builder_add_joint(b, NULL, &id), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_builder_add_geom(b, NULL, &id), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_builder_add_actuator(b, NULL, &id), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_builder_add_site(b, "s", 5, v3, &id), BGPBT_ERR_OUT_OF_RANGE);
    v3[1] = (float)NAN;
    HBAD(bgpbt_sim_builder_add_site(b, "s", 0, v3, &id), BGPBT_ERR_NOT_FINITE);
    v3[1] = 0;
    HBADQ(bgpbt_sim_builder_add_site(NULL, "s", 0, v3, &id), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_builder_exclude(b, -1, 0), BGPBT_ERR_OUT_OF_RANGE);
    jd = bgpbt_sim_joint_desc_default();
    jd.body = 0;
    jd.range[0] = 1;
    jd.range[1] = -1;
    jd.limited = 1;
    HBAD(bgpbt_sim_builder_add_joint(b, &jd, &id), BGPBT_ERR_OUT_OF_RANGE);  /* the world body has no joints */
    gd = bgpbt_sim_geom_desc_default();
    gd.type = 42;
    HBAD(bgpbt_sim_builder_add_geom(b, &gd, &id), BGPBT_ERR_OUT_OF_RANGE); /* unknown geom type */
    ad = bgpbt_sim_actuator_desc_default();
    ad.joint = -3;
    HBAD(bgpbt_sim_builder_add_actuator(b, &ad, &id), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_sim_builder_finish(b, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    bgpbt_sim_builder_destroy(b);
    /* model */
    HBAD(bgpbt_sim_model_from_mjcf(xml, strlen(xml), &mc, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_model_from_mjcf(xml, 0, &mc, &m), BGPBT_ERR_PARSE);          /* empty */
    HBAD(bgpbt_sim_model_load_mjcf(NULL, &mc, &m), BGPBT_ERR_INVALID_ARGUMENT);
    HBADN(bgpbt_sim_model_destroy(NULL));
    REQUIRE(bgpbt_sim_model_from_mjcf(xml, strlen(xml), &mc, &m) == BGPBT_OK);
    HBADV(bgpbt_sim_model_sizes(NULL).nq, 0);
    HBADV(bgpbt_sim_model_options(NULL).timestep, bgpbt_sim_options_default().timestep);
    HBADV(bgpbt_sim_model_body_id(m, NULL), -1);
    HBADV(bgpbt_sim_model_body_id(NULL, "torso"), -1);
    HBADV(bgpbt_sim_model_joint_id(m, "no_such_joint"), -1);
    HBADV(bgpbt_sim_model_geom_id(m, "no_such_geom"), -1);
    HBADV(bgpbt_sim_model_site_id(m, "no_such_site"), -1);
    HBADV(bgpbt_sim_model_actuator_id(m, "no_such_actuator"), -1);
    HBADV(bgpbt_sim_model_body_name(m, 999), NULL);
    HBADV(bgpbt_sim_model_joint_name(m, -1), NULL);
    HBADV(bgpbt_sim_model_joint_name(NULL, 0), NULL);
    HBADQ(bgpbt_sim_model_joint(m, 999, &jd), BGPBT_ERR_OUT_OF_RANGE);
    HBADQ(bgpbt_sim_model_joint(m, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_sim_model_geom(m, -1, &gd), BGPBT_ERR_OUT_OF_RANGE);
    HBADQ(bgpbt_sim_model_geom(NULL, 0, &gd), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_sim_model_actuator(m, 999, &ad), BGPBT_ERR_OUT_OF_RANGE);
    HBADQ(bgpbt_sim_model_body(m, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADV(bgpbt_sim_model_joint_qpos_adr(m, 999), -1);
    HBADV(bgpbt_sim_model_joint_dof_adr(NULL, 0), -1);
    HBADV(bgpbt_sim_model_total_mass(NULL), 0.0f);
    HBADV(bgpbt_sim_model_qpos0(NULL), NULL);
    HBADV(bgpbt_sim_model_numeric(m, NULL, q, 4), -1);
    HBADV(bgpbt_sim_model_numeric(NULL, "x", q, 4), -1);
    /* simulator */
    HBAD(bgpbt_sim_create(m, &sc, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADN(bgpbt_sim_destroy(NULL));
    sc.num_envs = 2;
    REQUIRE(bgpbt_sim_create(m, &sc, &s) == BGPBT_OK);
    HBADV(bgpbt_sim_get_model(NULL), NULL);
    HBADV(bgpbt_sim_num_envs(NULL), 0);
    HBADV(bgpbt_sim_frame_skip(NULL), 0);
    HBADQ(bgpbt_sim_set_frame_skip(NULL, 2), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_set_ctrl(s, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_set_ctrl_all(s, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_sim_set_qvel(s, 7, q), BGPBT_ERR_OUT_OF_RANGE);
    q[0] = (float)NAN;
    HBAD(bgpbt_sim_reset_env(s, 0, q, NULL), BGPBT_ERR_NOT_FINITE);
    memset(q, 0, sizeof q);
    HBADN(bgpbt_sim_get_qpos(s, 5, q));
    HBADN(bgpbt_sim_get_qpos(s, 0, NULL));
    HBADN(bgpbt_sim_get_qvel(NULL, 0, q));
    HBADN(bgpbt_sim_get_qvel(s, 0, NULL));
    HBADN(bgpbt_sim_get_ctrl(s, -1, q));
    HBADN(bgpbt_sim_get_ctrl(s, 0, NULL));
    HBADN(bgpbt_sim_body_pos(s, 0, 999, v3));
    HBADN(bgpbt_sim_body_pos(s, 0, 1, NULL));
    HBADN(bgpbt_sim_body_quat(s, 9, 1, q));
    HBADN(bgpbt_sim_body_quat(s, 0, 1, NULL));
    HBADN(bgpbt_sim_body_mat(s, 0, -1, v9));
    HBADN(bgpbt_sim_body_mat(s, 0, 1, NULL));
    HBADN(bgpbt_sim_body_com(NULL, 0, 1, v3));
    HBADN(bgpbt_sim_body_com(s, 0, 1, NULL));
    HBADN(bgpbt_sim_body_vel(s, 0, 999, v3, v3));
    HBADN(bgpbt_sim_body_vel(s, 0, 1, NULL, NULL));
    HBADN(bgpbt_sim_body_contact(s, 0, 999, v3, v3));
    HBADN(bgpbt_sim_body_contact(s, 0, 1, NULL, NULL));
    HBADN(bgpbt_sim_site_pos(s, 0, 999, v3));
    HBADN(bgpbt_sim_site_pos(s, 0, 0, NULL));
    HBADN(bgpbt_sim_com(s, 5, v3, v3));
    HBADN(bgpbt_sim_com(s, 0, NULL, NULL));
    HBADN(bgpbt_sim_geom_pose(s, 0, 999, v3, v9));
    HBADN(bgpbt_sim_geom_pose(s, 0, 0, NULL, NULL));
    HBADV(bgpbt_sim_num_contacts(s, 99), 0);
    HBADV(bgpbt_sim_env_flagged(s, -1), 0);
    HBADN(bgpbt_sim_clear_flag(s, 99));
    HBADV(bgpbt_sim_warnings(NULL), 0);
    CHECK_OK(bgpbt_sim_step(s)); /* still usable */
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
    free(xml);
}

/* a small user environment for the env cases */
static void hardening_game_reset(void* state, bgpbt_rng* rng, float* obs, void* user) {
    (void)rng; (void)user;
    *(int*)state = 0;
    obs[0] = 0;
}
static void hardening_game_step(void* state, const float* action, bgpbt_rng* rng, float* obs, float* reward,
                                int* terminated, void* user) {
    (void)rng; (void)user;
    ++*(int*)state;
    obs[0] = action[0];
    *reward = 1;
    *terminated = 0;
}

static void hardening_matrix_env(void) {
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv* v = NULL;
    bgpbt_env_def def;
    bgpbt_render_geom g[4];
    bgpbt_render_options ro = bgpbt_render_options_default();
    char svg[64];
    size_t n;
    int nt, cnt, nq, nv;
    float q[64];
    c.logger = hardening_logger();
    c.num_envs = 2;
    c.num_threads = 1;
    memset(&def, 0, sizeof def);
    def.name = "hardening_game";
    def.obs_dim = 1;
    def.act_dim = 1;
    def.max_episode_steps = 10;
    def.state_bytes = sizeof(int);
    def.reset = hardening_game_reset;
    def.step = hardening_game_step;
    HBAD(bgpbt_vecenv_create(&def, &c, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    def.obs_dim = 0;
    HBAD(bgpbt_vecenv_create(&def, &c, &v), BGPBT_ERR_OUT_OF_RANGE);
    def.obs_dim = 1;
    def.step = NULL;
    HBAD(bgpbt_vecenv_create(&def, &c, &v), BGPBT_ERR_INVALID_ARGUMENT);
    def.step = hardening_game_step;
    HBADN(bgpbt_vecenv_destroy(NULL));
    HBADV(bgpbt_vecenv_num_envs(NULL), 0);
    HBADV(bgpbt_vecenv_obs_dim(NULL), 0);
    HBADV(bgpbt_vecenv_act_dim(NULL), 0);
    HBADQ(bgpbt_vecenv_reset(NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADV(bgpbt_vecenv_obs(NULL), NULL);
    HBADV(bgpbt_vecenv_final_obs(NULL), NULL);
    HBADV(bgpbt_vecenv_rewards(NULL), NULL);
    HBADV(bgpbt_vecenv_terminated(NULL), NULL);
    HBADV(bgpbt_vecenv_truncated(NULL), NULL);
    HBADN(bgpbt_vecenv_take_stats(NULL, NULL));
    HBADV(bgpbt_vecenv_episode_returns(NULL), NULL);
    HBADV(bgpbt_vecenv_episode_lengths(NULL), NULL);
    HBADV(bgpbt_vecenv_step_counts(NULL), NULL);
    HBADV(bgpbt_vecenv_reward_terms(NULL, &nt), NULL);
    HBADV(bgpbt_vecenv_name(NULL) != NULL, 1);
    HBADV(bgpbt_vecenv_max_episode_steps(NULL), 0);
    HBADV(bgpbt_vecenv_user_state(NULL, 0), NULL);
    HBADV(bgpbt_vecenv_sim(NULL), NULL);
    HBADV(bgpbt_vecenv_num_bodies(NULL), 0);
    HBADV(bgpbt_vecenv_body_name(NULL, 0), NULL);
    HBADV(bgpbt_vecenv_reward_term_name(NULL, 0), NULL);
    HBADQ(bgpbt_vecenv_state_sizes(NULL, &nq, &nv), BGPBT_ERR_INVALID_ARGUMENT);
    REQUIRE(bgpbt_vecenv_create(&def, &c, &v) == BGPBT_OK);
    HBADV(bgpbt_vecenv_user_state(v, 2), NULL);
    HBADV(bgpbt_vecenv_sim(v), NULL);                 /* a user game has no simulator */
    HBADV(bgpbt_vecenv_num_bodies(v), 0);
    HBAD(bgpbt_vecenv_state_sizes(v, &nq, &nv), BGPBT_ERR_INVALID_ARGUMENT);   /* built-in tasks only */
    HBAD(bgpbt_vecenv_render_geoms(v, 0, g, 4, &cnt), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_vecenv_render_svg_file(v, 0, "hardening_r.svg", NULL), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_OK(bgpbt_vecenv_reset(v));
    bgpbt_vecenv_destroy(v);
    v = NULL;
    REQUIRE(bgpbt_vecenv_create_task("hopper", NULL, &c, &v) == BGPBT_OK);
    HBAD(bgpbt_vecenv_render_geoms(v, 7, g, 4, &cnt), BGPBT_ERR_OUT_OF_RANGE);
    HBADV(bgpbt_vecenv_render_geoms(v, 0, g, 1, &cnt) == BGPBT_OK && cnt > 1, 1); /* documented: at most max, *count all */
    HBAD(bgpbt_vecenv_render_geoms(v, 0, g, 4, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_vecenv_render_svg_file(v, -1, "hardening_r.svg", NULL), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_vecenv_render_svg_file(v, 0, NULL, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADV(bgpbt_vecenv_body_name(v, 99), NULL);
    HBADV(bgpbt_vecenv_body_transforms(v, 0, NULL, q), BGPBT_OK); /* a NULL output is skipped */
    HBADV(bgpbt_vecenv_get_state(v, 0, NULL, NULL), BGPBT_OK);
    HBAD(bgpbt_vecenv_body_transforms(v, 2, q, q), BGPBT_ERR_OUT_OF_RANGE);
    bgpbt_vecenv_destroy(v);
    /* tasks and rendering */
    HBADV(bgpbt_task_name(bgpbt_task_count()), NULL);
    HBADQ(bgpbt_task_get_info("hopper", NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_task_mjcf(NULL, NULL, 0, &n), BGPBT_ERR_UNKNOWN_NAME);
    HBADQ(bgpbt_task_mjcf("hopper", NULL, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    memset(g, 0, sizeof g);
    g[0].type = BGPBT_GEOM_SPHERE;
    g[0].size[0] = 0.1f;
    g[0].quat[0] = 1;
    g[0].pos[0] = (float)NAN;
    HBADQ(bgpbt_render_svg(g, 1, &ro, NULL, 0, &n), BGPBT_ERR_NOT_FINITE);
    g[0].pos[0] = 0;
    HBADQ(bgpbt_render_svg(g, -1, &ro, NULL, 0, &n), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_render_svg(NULL, 1, &ro, NULL, 0, &n), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_render_svg(g, 1, &ro, svg, sizeof svg, &n), BGPBT_ERR_BUFFER_TOO_SMALL);
    HBADQ(bgpbt_render_svg(g, 1, &ro, NULL, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    g[0].type = 17;
    HBADQ(bgpbt_render_svg(g, 1, &ro, NULL, 0, &n), BGPBT_ERR_INVALID_ARGUMENT);
    g[0].type = BGPBT_GEOM_SPHERE;
    HBADQ(bgpbt_render_svg_file(NULL, g, 1, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_render_svg_file("hardening_no_such_dir/r.svg", g, 1, NULL), BGPBT_ERR_IO);
}

static void hardening_matrix_nn_ppo(void) {
    bgpbt_mlp_config c = bgpbt_mlp_config_default();
    bgpbt_mlp* m = NULL;
    bgpbt_allocator none;
    bgpbt_agent_config ac;
    bgpbt_agent *a = NULL, *b = NULL;
    bgpbt_distill_config dc = bgpbt_distill_config_default();
    bgpbt_agent_stats st;
    float p[64], x[4] = {0, 0, 0, 0}, r4[4] = {1, 1, 1, 1}, v5[5] = {0, 0, 0, 0, 0}, vs[4], adv[4];
    unsigned char fl[4] = {0, 0, 0, 0};
    double mean, sd;
    int ld = -1;
    memset(&none, 0, sizeof none);
    /* nn */
    HBADN(bgpbt_mlp_destroy(NULL));
    HBADV(bgpbt_mlp_get_config(NULL).in_dim, bgpbt_mlp_config_default().in_dim);
    HBADV(bgpbt_mlp_num_params(NULL), 0);
    HBADV(bgpbt_mlp_output(NULL, &ld), NULL);
    CHECK(ld == 0);
    HBADV(bgpbt_mlp_grad_norm(NULL), 0.0);
    HBADN(bgpbt_mlp_reset_adam(NULL));
    HBADV(bgpbt_mlp_adam_steps(NULL), 0);
    HBADN(bgpbt_mlp_get_params(NULL, p));
    HBADN(bgpbt_mlp_get_grads(NULL, p));
    c.logger = hardening_logger();
    c.in_dim = 2;
    c.out_dim = 1;
    c.num_hidden = 1;
    c.hidden[0] = 3;
    REQUIRE(bgpbt_mlp_create(&c, &m) == BGPBT_OK);
    HBADN(bgpbt_mlp_get_params(m, NULL));
    HBADN(bgpbt_mlp_get_grads(m, NULL));
    HBAD(bgpbt_mlp_set_params(m, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_mlp_copy(NULL, m), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_mlp_copy(m, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_mlp_save(m, NULL, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_mlp_load(m, NULL, 10), BGPBT_ERR_INVALID_ARGUMENT);
    {
        bgpbt_mlp* m2 = NULL;
        HBADQ(bgpbt_mlp_create_from_blob(NULL, 10, NULL, &m2), BGPBT_ERR_INVALID_ARGUMENT);
        CHECK(m2 == NULL);
    }
    HBADQ(bgpbt_mlp_adam_step(NULL, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_mlp_backward(m, NULL, 1, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(bgpbt_mlp_adam_steps(m), 0);
    bgpbt_mlp_destroy(m);
    /* ppo */
    HBADN(bgpbt_agent_destroy(NULL));
    HBADN(bgpbt_agent_reseed(NULL, 3));
    HBADQ(bgpbt_agent_train(NULL, 10), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_agent_evaluate(NULL, &mean, &sd), BGPBT_ERR_INVALID_ARGUMENT);
    HBADV(bgpbt_agent_get_hparams(NULL).discount, bgpbt_ppo_hparams_default().discount);
    HBADQ(bgpbt_agent_set_hparams(NULL, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADV(bgpbt_agent_get_arch(NULL).policy_width, bgpbt_ppo_arch_default().policy_width);
    HBADN(bgpbt_agent_get_stats(NULL, &st));
    HBADN(bgpbt_agent_get_stats(NULL, NULL));
    HBADV(bgpbt_agent_failed(NULL), 1);
    HBADV(bgpbt_agent_obs_dim(NULL), 0);
    HBADV(bgpbt_agent_act_dim(NULL), 0);
    HBADV(bgpbt_agent_policy(NULL), NULL);
    HBADV(bgpbt_agent_value(NULL), NULL);
    HBADQ(bgpbt_agent_copy_from(NULL, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_agent_save(NULL, NULL, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_agent_load(NULL, p, 4), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_agent_act(NULL, x, 1, x, 1), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_agent_distill(NULL, NULL, NULL, 10), BGPBT_ERR_INVALID_ARGUMENT);
    ac = hardening_agent_config(none);
    ac.logger = hardening_logger();
    REQUIRE(bgpbt_agent_create(&ac, &a) == BGPBT_OK);
    REQUIRE(bgpbt_agent_create(&ac, &b) == BGPBT_OK);
    HBAD(bgpbt_agent_set_hparams(a, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_agent_copy_from(a, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_agent_save(a, NULL, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_agent_load(a, NULL, 10), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_agent_act(a, x, 1, NULL, 1), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_agent_act(a, x, -1, x, 1), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_agent_distill(a, b, NULL, -4), BGPBT_ERR_INVALID_ARGUMENT);
    dc.alpha_start = NAN;
    HBAD(bgpbt_agent_distill(a, b, &dc, 10), BGPBT_ERR_OUT_OF_RANGE);
    HBAD(bgpbt_agent_distill(a, a, NULL, 10), BGPBT_ERR_INVALID_ARGUMENT); /* its own teacher */
    CHECK_OK(bgpbt_agent_evaluate(a, NULL, NULL)); /* NULL outputs are allowed; still usable */
    HBADN(bgpbt_ppo_gae(-1, r4, v5, r4, fl, fl, 0.99f, 0.95f, vs, adv));
    HBADN(bgpbt_ppo_gae(4, NULL, v5, r4, fl, fl, 0.99f, 0.95f, vs, adv));
    HBADN(bgpbt_ppo_gae(4, r4, v5, r4, fl, fl, 0.99f, 0.95f, NULL, adv));
    bgpbt_agent_destroy(b);
    bgpbt_agent_destroy(a);
}

static void hardening_matrix_gp_bo(void) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    bgpbt_gp* gp = NULL;
    bgpbt_gp_fit_info fi;
    bgpbt_gp_hypers h;
    bgpbt_bo_space sp;
    bgpbt_bo_param bp;
    bgpbt_bo_config bc;
    bgpbt_bo* bo = NULL;
    bgpbt_bo_tr_state ts;
    bgpbt_bo_request rq;
    bgpbt_allocator none;
    bgpbt_rng rng;
    bgpbt_logger lg = hardening_logger();
    double X[12 * 2], y[12], raw[16], mu, var, dm[2], dv[2], out[4], u[4], v[8];
    int i;
    memset(&none, 0, sizeof none);
    bgpbt_rng_init(&rng, 3, 4);
    /* gp */
    HBADQ(bgpbt_gp_create(NULL, &gp), BGPBT_ERR_INVALID_ARGUMENT);
    HBADN(bgpbt_gp_destroy(NULL));
    HBADQ(bgpbt_gp_fit(NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADN(bgpbt_gp_get_fit_info(NULL, &fi));
    HBADN(bgpbt_gp_get_hypers(NULL, &h));
    HBADV(bgpbt_gp_num_params(NULL), 0);
    HBADN(bgpbt_gp_get_params(NULL, raw));
    HBADV(bgpbt_gp_num_data(NULL), 0);
    HBADV(bgpbt_gp_noise(NULL), 0.0);
    HBADV(bgpbt_gp_targets(NULL), NULL);
    HBADQ(bgpbt_gp_output_affine(NULL, &mu, &var), BGPBT_ERR_INVALID_ARGUMENT);
    {
        bgpbt_gp_config c2 = bgpbt_gp_config_pb2(-3); /* kept as given: refused by create */
        HBADV(c2.dim, -3);
        HBADV(bgpbt_gp_config_pb2(0).dim, 0);
        c2.logger = lg;
        HBAD(bgpbt_gp_create(&c2, &gp), BGPBT_ERR_INVALID_ARGUMENT);
    }
    c.logger = lg;
    c.dim = 2;
    REQUIRE(bgpbt_gp_create(&c, &gp) == BGPBT_OK);
    hardening_gp_data(X, y, 12, 2);
    /* no data yet: the prior (documented), not an error */
    CHECK_OK(bgpbt_gp_predict(gp, X, NULL, 1, &mu, &var));
    CHECK(mu == 0.0 && var > 0);
    HBADV(bgpbt_gp_predict_grad(gp, X, NULL, &mu, &var, dm, dv), BGPBT_OK);
    CHECK(dm[0] == 0.0 && dv[1] == 0.0);
    REQUIRE(bgpbt_gp_set_data(gp, X, NULL, y, 12) == BGPBT_OK);
    REQUIRE(bgpbt_gp_fit(gp) == BGPBT_OK);
    HBADN(bgpbt_gp_get_fit_info(gp, NULL));
    HBADN(bgpbt_gp_get_hypers(gp, NULL));
    HBADN(bgpbt_gp_get_params(gp, NULL));
    HBAD(bgpbt_gp_set_hypers(gp, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_gp_set_params(gp, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    bgpbt_gp_get_params(gp, raw);
    raw[0] = NAN;
    HBAD(bgpbt_gp_set_params(gp, raw), BGPBT_ERR_NOT_FINITE);
    HBAD(bgpbt_gp_lml(gp, raw, &mu, NULL), BGPBT_ERR_NOT_FINITE);
    bgpbt_gp_get_params(gp, raw);
    HBAD(bgpbt_gp_lml(gp, raw, NULL, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_gp_output_affine(gp, NULL, &var), BGPBT_ERR_INVALID_ARGUMENT);
    X[1] = INFINITY;
    HBAD(bgpbt_gp_predict_grad(gp, X, NULL, &mu, &var, dm, dv), BGPBT_ERR_NOT_FINITE);
    HBAD(bgpbt_gp_sample(gp, X, NULL, 2, 1, &rng, out), BGPBT_ERR_NOT_FINITE);
    HBAD(bgpbt_gp_set_pending(gp, X, NULL, 1), BGPBT_ERR_NOT_FINITE);
    X[1] = 0.5;
    HBAD(bgpbt_gp_predict_grad(gp, NULL, NULL, &mu, &var, dm, dv), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_gp_sample(gp, X, NULL, 2, -1, &rng, out), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_gp_set_pending(gp, X, NULL, -2), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_OK(bgpbt_gp_predict(gp, X, NULL, 1, &mu, &var)); /* still usable */
    CHECK(isfinite(mu) && var >= 0);
    bgpbt_gp_destroy(gp);
    /* NaN in, NaN out (x != x) */
    HBADV(bgpbt_normal_pdf(NAN) != bgpbt_normal_pdf(NAN), 1);
    HBADV(bgpbt_normal_cdf(NAN) != bgpbt_normal_cdf(NAN), 1);
    HBADV(bgpbt_normal_quantile(1.5) != bgpbt_normal_quantile(1.5), 1); /* outside [0, 1] */
    HBADV(bgpbt_normal_quantile(NAN) != bgpbt_normal_quantile(NAN), 1);
    /* bo space */
    HBADN(bgpbt_bo_space_init(NULL, NULL));
    bgpbt_bo_space_init(&sp, &lg);
    HBAD(bgpbt_bo_space_add(&sp, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    memset(&bp, 0, sizeof bp);
    strcpy(bp.name, "p");
    bp.type = (bgpbt_bo_param_type)9;
    HBAD(bgpbt_bo_space_add(&sp, &bp), BGPBT_ERR_INVALID_ARGUMENT); /* unknown type */
    HBAD(bgpbt_bo_space_add_context(&sp, "t", 2, 1), BGPBT_ERR_EMPTY_RANGE);
    HBAD(bgpbt_bo_space_add_context(&sp, "t", NAN, 1), BGPBT_ERR_NOT_FINITE);
    HBADQ(bgpbt_bo_space_add_context(NULL, "t", 0, 1), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_OK(bgpbt_bo_space_add_float(&sp, "a", 0, 1, 0));
    HBAD(bgpbt_bo_space_find(&sp, NULL, &i), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_bo_space_check(&sp, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    u[0] = 0.5;
    HBAD(bgpbt_bo_space_encode(&sp, u, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    u[0] = 7;
    HBAD(bgpbt_bo_space_encode(&sp, u, v), BGPBT_ERR_OUT_OF_RANGE);
    HBADQ(bgpbt_bo_space_encode(NULL, u, v), BGPBT_ERR_INVALID_ARGUMENT);
    HBADN(bgpbt_bo_space_decode(&sp, NULL, v));
    HBADN(bgpbt_bo_space_decode(NULL, u, v));
    HBADN(bgpbt_bo_space_sample(&sp, NULL, v));
    HBADN(bgpbt_bo_space_sample(NULL, &rng, v));
    /* bo */
    HBADQ(bgpbt_bo_create(NULL, &bo), BGPBT_ERR_INVALID_ARGUMENT);
    HBADN(bgpbt_bo_destroy(NULL));
    HBADV(bgpbt_bo_get_space(NULL), NULL);
    HBADQ(bgpbt_bo_ask(NULL, NULL, 1, v), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_bo_tell(NULL, v, 0, 1), BGPBT_ERR_INVALID_ARGUMENT);
    HBADN(bgpbt_bo_clear_pending(NULL));
    HBADV(bgpbt_bo_num_observations(NULL), 0);
    HBADQ(bgpbt_bo_best(NULL, v, &mu), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_bo_set_data(NULL, v, NULL, y, 1), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_bo_suggest(NULL, NULL, 1, v), BGPBT_ERR_INVALID_ARGUMENT);
    HBADV(bgpbt_bo_tr_report(NULL, 1), 0);
    HBADN(bgpbt_bo_tr_reset(NULL));
    HBADN(bgpbt_bo_tr_get(NULL, &ts));
    HBADQ(bgpbt_bo_tr_set(NULL, &ts), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_bo_tr_box(NULL, u, v, &i), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_bo_guided_center(NULL, v), BGPBT_ERR_INVALID_ARGUMENT);
    HBADV(bgpbt_bo_get_gp(NULL), NULL);
    HBADV(bgpbt_bo_get_rng(NULL), NULL);
    HBADQ(bgpbt_bo_minimize(NULL, NULL, NULL, 4, 1, NULL, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    bc = hardening_bo_config(none);
    bc.logger = lg;
    REQUIRE(bgpbt_bo_create(&bc, &bo) == BGPBT_OK);
    HBADN(bgpbt_bo_tr_get(bo, NULL));
    HBAD(bgpbt_bo_tr_set(bo, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_bo_suggest(bo, NULL, 0, v), BGPBT_ERR_INVALID_ARGUMENT);
    memset(&rq, 0, sizeof rq);
    rq.n_pending = -1;
    HBAD(bgpbt_bo_suggest(bo, &rq, 1, v), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_bo_minimize(bo, NULL, NULL, 4, 1, NULL, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_bo_set_data(bo, NULL, NULL, y, 2), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_bo_tell(bo, NULL, 0, 1), BGPBT_ERR_INVALID_ARGUMENT);
    HBADN(bgpbt_bo_clear_pending(bo));
    CHECK_OK(bgpbt_bo_ask(bo, NULL, 1, v)); /* still usable */
    bgpbt_bo_destroy(bo);
}

static void hardening_matrix_pbt(void) {
    bgpbt_allocator none;
    bgpbt_pbt_config c;
    bgpbt_pbt* s = NULL;
    const bgpbt_pbt_round* rd;
    bgpbt_pbt_param p;
    bgpbt_ppo_hparams hp;
    bgpbt_ppo_arch arch;
    bgpbt_pbt_agent_ops ops;
    bgpbt_agent_config ac;
    int ids[8], n = 0, id;
    void* ags[8];
    double ret;
    memset(&none, 0, sizeof none);
    HBADV(bgpbt_pbt_source_name(-5)[0], 'u'); /* "unknown" */
    CHECK(strcmp(bgpbt_pbt_source_name(-5), "unknown") == 0);
    HBADV(bgpbt_pbt_method_name(99)[0], 'u');
    CHECK(strcmp(bgpbt_pbt_method_name(99), "unknown") == 0);
    /* no name, unknown type, reversed range: made as given, refused by bgpbt_pbt_create */
    HBADV(bgpbt_pbt_param_make(NULL, 77, 2, 1, 1).name[0], 0);
    c = hardening_pbt_config(BGPBT_PBT_METHOD_PBT, none);
    c.logger = hardening_logger();
    c.n_hp = 1;
    c.hp[0] = bgpbt_pbt_param_make("x", 77, 0, 1, 0);
    HBAD(bgpbt_pbt_create(&c, &s), BGPBT_ERR_INVALID_ARGUMENT);
    HBADV(bgpbt_pbt_param_encode(NULL, 0.5), 0.0);
    HBADV(bgpbt_pbt_param_decode(NULL, 0.5), 0.0);
    p = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, 1e-4, 1e-2, 1);
    HBADV(bgpbt_pbt_param_encode(&p, -1.0), 0.0);     /* not in the log domain */
    HBADV(bgpbt_pbt_param_decode(&p, NAN), bgpbt_pbt_param_decode(&p, 0.5));
    HBADV(bgpbt_pbt_hp_index(NULL, "lr"), -1);
    HBADV(bgpbt_pbt_arch_index(NULL, "width"), -1);
    HBADV(bgpbt_pbt_distill_alpha(NULL, -5, 0), bgpbt_pbt_distill_alpha(NULL, 0, 0)); /* clamped */
    HBADN(bgpbt_pbt_ppo_hparams(NULL, NULL, NULL, &hp));
    CHECK(hp.discount == bgpbt_ppo_hparams_default().discount);
    HBADN(bgpbt_pbt_ppo_hparams(NULL, NULL, NULL, NULL));
    HBADN(bgpbt_pbt_ppo_arch(NULL, NULL, NULL, &arch));
    HBADN(bgpbt_pbt_ppo_arch(NULL, NULL, NULL, NULL));
    HBADN(bgpbt_pbt_destroy(NULL));
    HBADQ(bgpbt_pbt_ask(NULL, &rd), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_pbt_tell(NULL, 0, 1, 1, 0), BGPBT_ERR_INVALID_ARGUMENT);
    HBADV(bgpbt_pbt_get_config(NULL), NULL);
    HBADV(bgpbt_pbt_done(NULL), 1);
    HBADV(bgpbt_pbt_generation(NULL), 0);
    HBADV(bgpbt_pbt_tr_length(NULL), 0.0);
    HBADV(bgpbt_pbt_total_steps(NULL), 0);
    HBADV(bgpbt_pbt_rows(NULL, &n), NULL);
    HBADV(bgpbt_pbt_population(NULL, ids, NULL), 0);
    HBADQ(bgpbt_pbt_best(NULL, &id, &ret, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_pbt_save(NULL, NULL, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_pbt_load(NULL, ids, 4), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_pbt_write_csv(NULL, "x.csv"), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_pbt_write_plots(NULL, "x_"), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_pbt_ppo_ops_create(NULL, NULL, &ops), BGPBT_ERR_INVALID_ARGUMENT);
    HBADN(bgpbt_pbt_ppo_ops_destroy(NULL));
    HBADQ(bgpbt_pbt_checkpoint_save(NULL, &ops, 0, ids, ags, "x.bgpbt"), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_pbt_checkpoint_load(NULL, &ops, "x.bgpbt", 8, ids, ags, &n), BGPBT_ERR_INVALID_ARGUMENT);
    c = hardening_pbt_config(BGPBT_PBT_METHOD_PBT, none);
    c.logger = hardening_logger();
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    HBAD(bgpbt_pbt_ask(s, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_pbt_save(s, NULL, 0, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_pbt_load(s, NULL, 4), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_pbt_write_plots(s, "hardening_plots_"), BGPBT_ERR_WRONG_ORDER); /* nothing to plot yet */
    HBAD(bgpbt_pbt_write_csv(s, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    ops = hardening_sops(none);
    HBAD(bgpbt_pbt_checkpoint_save(s, &ops, -1, ids, ags, "x.bgpbt"), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_pbt_checkpoint_save(s, &ops, 0, ids, ags, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    HBAD(bgpbt_pbt_checkpoint_load(s, &ops, "hardening_no_such_checkpoint.bgpbt", 8, ids, ags, &n), BGPBT_ERR_IO);
    HBAD(bgpbt_pbt_checkpoint_load(s, &ops, "x.bgpbt", 0, ids, ags, &n), BGPBT_ERR_INVALID_ARGUMENT);
    ac = hardening_agent_config(none);
    ac.task = "no_such_task";
    HBAD(bgpbt_pbt_ppo_ops_create(bgpbt_pbt_get_config(s), NULL, &ops), BGPBT_ERR_INVALID_ARGUMENT);
    HBADQ(bgpbt_pbt_ppo_ops_create(bgpbt_pbt_get_config(s), &ac, NULL), BGPBT_ERR_INVALID_ARGUMENT);
    /* an unknown task is only found when an agent is created: ops.create reports it */
    REQUIRE(bgpbt_pbt_ppo_ops_create(bgpbt_pbt_get_config(s), &ac, &ops) == BGPBT_OK);
    {
        int arch[BGPBT_PBT_MAX_HP];
        double hpv[BGPBT_PBT_MAX_HP];
        void* agent = NULL;
        memset(arch, 0, sizeof arch);
        memset(hpv, 0, sizeof hpv);
        HBAD(ops.create(ops.user, arch, hpv, 1, &agent), BGPBT_ERR_UNKNOWN_NAME);
        CHECK(agent == NULL);
    }
    bgpbt_pbt_ppo_ops_destroy(&ops);
    CHECK_OK(bgpbt_pbt_ask(s, &rd)); /* still usable */
    bgpbt_pbt_destroy(s);
}

static void hardening_matrix(void) {
    long before = hardening_bad_cases;
    size_t k;
    memset(&hardening_cap, 0, sizeof hardening_cap);
    hardening_matrix_no_input();
    hardening_matrix_core_io();
    hardening_matrix_linalg();
    hardening_matrix_sim();
    hardening_matrix_env();
    hardening_matrix_nn_ppo();
    hardening_matrix_gp_bo();
    hardening_matrix_pbt();
    for (k = 0; k < sizeof hardening_no_bad_input / sizeof hardening_no_bad_input[0]; ++k)
        CHECK(strncmp(hardening_no_bad_input[k][0], "bgpbt_", 6) == 0 && hardening_no_bad_input[k][1][0] != 0);
    remove("hardening_c.csv");
    remove("hardening_p.svg");
    remove("hardening_r.svg");
    remove("hardening_t.txt");
    if (test__verbose) printf("  hardening: %ld bad-input cases (matrix, part 2)\n", hardening_bad_cases - before);
}

/* ---- file safety: SIGKILL while saving checkpoints -------------------------------------------

   A child process saves real checkpoint blobs (scheduler states after successive rounds) over
   one path in a loop with bgpbt_file_write_atomic and reports each completed save on a pipe.
   The parent kills it with SIGKILL after a random delay, then the file must be a complete
   checkpoint that loads: the last one reported, or the one being written if its rename landed
   before the kill. */
#if defined(__unix__)
#define HARDENING_NBLOBS 4
static void hardening_kill_test(void) {
    static unsigned char blobs[HARDENING_NBLOBS][1 << 15];
    size_t sizes[HARDENING_NBLOBS];
    const char* path = "hardening_kill.bgpbt";
    bgpbt_allocator none;
    bgpbt_pbt_config c;
    bgpbt_pbt* s = NULL;
    bgpbt_rng rng;
    int i, trial, trials = test_is_fast() ? 8 : 40;
    memset(&none, 0, sizeof none);
    c = hardening_pbt_config(BGPBT_PBT_METHOD_PBT, none);
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    for (i = 0; i < HARDENING_NBLOBS; ++i) {
        bgpbt_result r;
        REQUIRE(bgpbt_pbt_save(s, blobs[i], sizeof blobs[i], &sizes[i]) == BGPBT_OK);
        hardening_pbt_round(s, i, &r);
    }
    bgpbt_pbt_destroy(s);
    for (i = 1; i < HARDENING_NBLOBS; ++i) CHECK(sizes[i] != sizes[i - 1] || memcmp(blobs[i], blobs[i - 1], sizes[i]));
    REQUIRE(bgpbt_file_write_atomic(path, blobs[0], sizes[0]) == BGPBT_OK);
    bgpbt_rng_init(&rng, 99, 0);
    for (trial = 0; trial < trials; ++trial) {
        int fds[2], status, last = -1, got;
        long done = 0;
        pid_t pid;
        unsigned char msg[4];
        void* data = NULL;
        size_t size = 0;
        REQUIRE(pipe(fds) == 0);
        fflush(stdout);
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) { /* the child: save forever, blob (k mod N) at step k, starting after the last */
            long k;
            close(fds[0]);
            for (k = 1;; ++k) {
                int b = (int)(k % HARDENING_NBLOBS);
                if (bgpbt_file_write_atomic(path, blobs[b], sizes[b]) != BGPBT_OK) _exit(3);
                msg[0] = (unsigned char)b;
                if (write(fds[1], msg, 1) != 1) _exit(4);
            }
        }
        close(fds[1]);
        { /* a random moment: 0.2 to 30 ms */
            double t_end = bgpbt_time_seconds() + 2e-4 + 3e-2 * bgpbt_rng_double(&rng);
            while (bgpbt_time_seconds() < t_end) {}
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        while ((got = (int)read(fds[0], msg, 1)) == 1) { last = msg[0]; done++; }
        close(fds[0]);
        /* the file: the parent's previous content if nothing was reported, else blob `last` or the next one */
        REQUIRE(bgpbt_file_read(path, NULL, 1 << 20, &data, &size) == BGPBT_OK);
        {
            bgpbt_pbt* t = NULL;
            int match = -1;
            for (i = 0; i < HARDENING_NBLOBS; ++i)
                if (size == sizes[i] && memcmp(data, blobs[i], size) == 0) match = i;
            CHECK(match >= 0);
            if (done > 0) CHECK(match == last || match == (last + 1) % HARDENING_NBLOBS);
            REQUIRE(bgpbt_pbt_create(&c, &t) == BGPBT_OK);
            CHECK_OK(bgpbt_pbt_load(t, data, size));
            bgpbt_pbt_destroy(t);
        }
        bgpbt_mem_free(NULL, data, size);
        hardening_kills++;
    }
    remove(path);
    {
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        remove(tmp);
    }
    if (test__verbose) printf("  hardening: %ld kills survived\n", hardening_kills);
}
#endif

/* ---- I/O fault injection (SQLite's test-VFS loop) --------------------------------------------

   tests/test_prelude.h routes the implementation's file operations (fopen, fread, open, write,
   fsync, rename, link) through a counter. Each operation below runs with its k-th file
   operation failing, k = 1, 2, ... until it completes without reaching k, in both modes: the
   k-th file operation fails alone, or it and every later one fail. A failure must return the
   documented code (BGPBT_ERR_IO), log a message where a logger is in reach, leave the previous
   file complete and loadable under its own name, leave no "<path>.tmp" behind and leave the
   objects usable. */
#if defined(TEST_IO_SEAM) && !defined(_WIN32) && !defined(HARDENING_NO_SUITE)
static long hardening_io_points, hardening_io_faults;

/* The loops create, rename and remove files some 10^5 times: on a tmpfs (/dev/shm) when there
   is one, so a busy disk does not make them slow. hardening_io_path(name) is the path of a test file. */
static char hardening_io_dir[64];
static char hardening_io_paths[8][160];
static int hardening_io_next;
static const char* hardening_io_path(const char* name) {
    char* p = hardening_io_paths[hardening_io_next++ & 7];
    snprintf(p, 160, "%s%s", hardening_io_dir, name);
    return p;
}
static void hardening_io_pick_dir(void) {
    FILE* f;
    snprintf(hardening_io_dir, sizeof hardening_io_dir, "/dev/shm/bgpbt_%ld_", (long)getpid());
    f = fopen(hardening_io_path("probe"), "wb");
    if (f) {
        fclose(f);
        remove(hardening_io_path("probe"));
    } else {
        hardening_io_dir[0] = 0; /* the current directory */
    }
}

static int hardening_exists(const char* path) {
    FILE* f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}
/* the whole file equals these bytes (read with the seam disarmed) */
static int hardening_file_is(const char* path, const void* data, size_t n) {
    void* d = NULL;
    size_t m = 0;
    int same;
    test_io_state saved = test_io;
    test_io.fail_at = 0;
    same = bgpbt_file_read(path, NULL, 1 << 26, &d, &m) == BGPBT_OK && m == n && memcmp(d, data, n) == 0;
    if (d) bgpbt_mem_free(NULL, d, m);
    test_io = saved;
    return same;
}
static char hardening_io_why[512];
#define HARDENING_IO_REQUIRE(cond) do { if (!(cond)) { \
    snprintf(hardening_io_why, sizeof hardening_io_why, "line %d: %s (last message: %.100s)", __LINE__, #cond, \
             hardening_cap.last); r = BGPBT_ERR_INTERNAL; goto done; } } while (0)

/* op(k, persistent): sets up with the seam disarmed, runs the part under test armed, checks
   the post-conditions disarmed. Returns the result of the part under test, or
   BGPBT_ERR_INTERNAL with hardening_io_why set when a post-condition fails. */
typedef bgpbt_result (*hardening_io_op)(long k, int persistent);

static void hardening_io_loop(const char* what, hardening_io_op op, long max_k) {
    int persistent;
    for (persistent = 0; persistent < 2; ++persistent) {
        long k;
        for (k = 1; k <= max_k; ++k) {
            bgpbt_result r;
            long failed;
            hardening_io_why[0] = 0;
            test_io_arm(0, 0);
            r = op(k, persistent);
            failed = test_io.failed;
            test_io_disarm();
            hardening_io_points++;
            if (r == BGPBT_ERR_INTERNAL || (r != BGPBT_OK && r != BGPBT_ERR_IO) || (r != BGPBT_OK && failed == 0)) {
                char m[800];
                snprintf(m, sizeof m, "%s: file operation %ld fails%s: %s %s", what, k, persistent ? " (persistent)" : "",
                         bgpbt_result_string(r), hardening_io_why);
                test__fail(__FILE__, __LINE__, m);
                return;
            }
            if (failed > 0) hardening_io_faults++;
            if (r == BGPBT_OK && failed == 0) { /* never reached k: done */
                if (test__verbose)
                    printf("  io  %-36s %5ld failure points%s\n", what, k - 1, persistent ? " (persistent)" : "");
                break;
            }
            if (k == max_k) {
                char m[256];
                snprintf(m, sizeof m, "%s: still doing file operations after %ld", what, max_k);
                test__fail(__FILE__, __LINE__, m);
            }
        }
    }
}

static bgpbt_result hardening_io_write_atomic(long k, int persistent) {
    const char* path = hardening_io_path("hardening_io.bin");
    static const char old_data[] = "the previous content", new_data[] = "the new content, longer than the old one";
    bgpbt_result r;
    if (bgpbt_file_write_atomic(path, old_data, sizeof old_data) != BGPBT_OK) return BGPBT_ERR_INTERNAL;
    test_io_arm(k, persistent);
    r = bgpbt_file_write_atomic(path, new_data, sizeof new_data);
    {
        bgpbt_result rr = r;
        test_io_disarm();
        if (rr == BGPBT_OK) HARDENING_IO_REQUIRE(hardening_file_is(path, new_data, sizeof new_data));
        else HARDENING_IO_REQUIRE(hardening_file_is(path, old_data, sizeof old_data));
        HARDENING_IO_REQUIRE(!hardening_exists(hardening_io_path("hardening_io.bin.tmp")));
        r = rr;
    }
done:
    remove(path);
    return r;
}

static bgpbt_result hardening_io_read(long k, int persistent) {
    const char* path = hardening_io_path("hardening_io_read.bin");
    static const char data[] = "some bytes to read back";
    void* d = NULL;
    size_t n = 7;
    bgpbt_result r;
    if (bgpbt_file_write_atomic(path, data, sizeof data) != BGPBT_OK) return BGPBT_ERR_INTERNAL;
    test_io_arm(k, persistent);
    r = bgpbt_file_read(path, NULL, 1024, &d, &n);
    test_io_disarm();
    if (r == BGPBT_OK) {
        bgpbt_result rr = r;
        HARDENING_IO_REQUIRE(n == sizeof data && memcmp(d, data, n) == 0);
        r = rr;
    } else {
        bgpbt_result rr = r;
        HARDENING_IO_REQUIRE(d == NULL && n == 0);
        r = rr;
    }
done:
    if (d) bgpbt_mem_free(NULL, d, n);
    remove(path);
    return r;
}

static bgpbt_result hardening_io_mjcf(long k, int persistent) {
    const char* path = hardening_io_path("hardening_io_model.xml");
    size_t n;
    char* xml = hardening_task_xml("hopper", &n);
    bgpbt_sim_model_config mc = bgpbt_sim_model_config_default();
    bgpbt_sim_model* m = NULL;
    bgpbt_result r;
    int logged;
    if (!xml || bgpbt_file_write_atomic(path, xml, strlen(xml)) != BGPBT_OK) { free(xml); return BGPBT_ERR_INTERNAL; }
    mc.logger = hardening_logger();
    logged = hardening_cap.count;
    test_io_arm(k, persistent);
    r = bgpbt_sim_model_load_mjcf(path, &mc, &m);
    test_io_disarm();
    {
        bgpbt_result rr = r;
        if (rr == BGPBT_OK) HARDENING_IO_REQUIRE(m != NULL && bgpbt_sim_model_sizes(m).nq > 0);
        else HARDENING_IO_REQUIRE(m == NULL && hardening_cap.count > logged);
        r = rr;
    }
done:
    bgpbt_sim_model_destroy(m);
    free(xml);
    remove(path);
    return r;
}

/* bgpbt_pbt_checkpoint_save over a previous checkpoint, with stand-in agents: a failure leaves
   the previous checkpoint at the path, intact and loadable, no temporary file, and the
   scheduler usable (the same save then succeeds). A success writes exactly the new state and
   keeps the previous one as <path>.prev. */
static bgpbt_result hardening_io_checkpoint(long k, int persistent) {
    char path[200], ref[200], tmp[220], prev[220];
    bgpbt_allocator none;
    bgpbt_pbt* s = NULL;
    bgpbt_pbt* t = NULL;
    bgpbt__pbt_table tab;
    bgpbt_pbt_agent_ops ops;
    void* old_data = NULL;
    void* new_data = NULL;
    size_t old_n = 0, new_n = 0;
    bgpbt_result r;
    int logged;
    snprintf(path, sizeof path, "%s", hardening_io_path("hardening_io_ckpt.bgpbt"));
    snprintf(ref, sizeof ref, "%s", hardening_io_path("hardening_io_ref.bgpbt"));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(prev, sizeof prev, "%s.prev", path);
    memset(&none, 0, sizeof none);
    ops = hardening_sops(none);
    memset(&tab, 0, sizeof tab);
    r = hardening_make_run(none, &s, &tab);
    if (r != BGPBT_OK) return BGPBT_ERR_INTERNAL;
    s->cfg.logger = hardening_logger();
    if (bgpbt_pbt_checkpoint_save(s, &ops, tab.n, tab.ids, tab.agents, path) != BGPBT_OK ||
        bgpbt_file_read(path, NULL, 1 << 26, &old_data, &old_n) != BGPBT_OK) {
        r = BGPBT_ERR_INTERNAL;
        goto done;
    }
    ((test_sagent*)tab.agents[0])->skill += 1.0; /* a new state */
    if (bgpbt_pbt_checkpoint_save(s, &ops, tab.n, tab.ids, tab.agents, ref) != BGPBT_OK ||
        bgpbt_file_read(ref, NULL, 1 << 26, &new_data, &new_n) != BGPBT_OK) {
        r = BGPBT_ERR_INTERNAL;
        goto done;
    }
    logged = hardening_cap.count;
    test_io_arm(k, persistent);
    r = bgpbt_pbt_checkpoint_save(s, &ops, tab.n, tab.ids, tab.agents, path);
    test_io_disarm();
    {
        bgpbt_result rr = r;
        int ids[64], n = 0, i;
        void* ags[64];
        bgpbt_pbt_config c = hardening_pbt_config(BGPBT_PBT_METHOD_PBT, none);
        if (rr == BGPBT_OK) {
            HARDENING_IO_REQUIRE(hardening_file_is(path, new_data, new_n));
        } else {
            HARDENING_IO_REQUIRE(hardening_cap.count > logged);
            HARDENING_IO_REQUIRE(hardening_file_is(path, old_data, old_n));
        }
        HARDENING_IO_REQUIRE(!hardening_exists(tmp));
        HARDENING_IO_REQUIRE(bgpbt_pbt_create(&c, &t) == BGPBT_OK);
        t->cfg.logger = hardening_logger();
        HARDENING_IO_REQUIRE(bgpbt_pbt_checkpoint_load(t, &ops, path, 64, ids, ags, &n) == BGPBT_OK);
        for (i = 0; i < n; ++i) ops.destroy(ops.user, ags[i]);
        /* the scheduler is usable: the save succeeds now */
        HARDENING_IO_REQUIRE(bgpbt_pbt_checkpoint_save(s, &ops, tab.n, tab.ids, tab.agents, path) == BGPBT_OK);
        HARDENING_IO_REQUIRE(hardening_file_is(path, new_data, new_n));
        r = rr;
    }
done:
    bgpbt_pbt_destroy(t);
    if (old_data) bgpbt_mem_free(NULL, old_data, old_n);
    if (new_data) bgpbt_mem_free(NULL, new_data, new_n);
    hardening_free_run(none, s, &tab);
    remove(path);
    remove(prev);
    remove(ref);
    return r;
}

/* The runner (stand-in agents, every output file): a run whose file operations fail stops with
   BGPBT_ERR_IO; resuming it with working files then finishes with the same log as a run that
   never failed. */
static char* hardening_io_ref_log;
static size_t hardening_io_ref_n;
static void hardening_io_remove_run(const char* prefix) {
    static const char* const names[] = {"log.csv", "returns.svg", "schedule.svg", "arch.svg", "checkpoint.bgpbt",
                                        "checkpoint.bgpbt.prev", "best.agent", "checkpoint.bgpbt.tmp"};
    char p[256];
    int i;
    for (i = 0; i < 8; ++i) { snprintf(p, sizeof p, "%s%s", prefix, names[i]); remove(p); }
}
static bgpbt_result hardening_io_run_once(const char* prefix, int resume, long k, int persistent) {
    bgpbt_allocator none;
    bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
    bgpbt_pbt_run_result res;
    bgpbt_pbt_agent_ops ops;
    bgpbt_result r;
    memset(&none, 0, sizeof none);
    ops = hardening_sops(none);
    rc.pbt = hardening_pbt_config(BGPBT_PBT_METHOD_PBT, none);
    rc.pbt.logger = hardening_logger();
    rc.ops = &ops;
    rc.out_prefix = prefix;
    rc.resume = resume;
    rc.threads = 1;
    rc.progress = 0;
    if (k > 0) test_io_arm(k, persistent);
    r = bgpbt_pbt_run(&rc, &res);
    test_io_disarm();
    return r;
}
static bgpbt_result hardening_io_run(long k, int persistent) {
    char prefix[200], path[256];
    char* log = NULL;
    size_t n = 0;
    bgpbt_result r;
    int logged = hardening_cap.count;
    snprintf(prefix, sizeof prefix, "%s", hardening_io_path("hardening_io_run_"));
    hardening_io_remove_run(prefix);
    r = hardening_io_run_once(prefix, 0, k, persistent);
    {
        bgpbt_result rr = r;
        if (rr != BGPBT_OK) {
            HARDENING_IO_REQUIRE(hardening_cap.count > logged);
            snprintf(path, sizeof path, "%scheckpoint.bgpbt.tmp", prefix);
            HARDENING_IO_REQUIRE(!hardening_exists(path));
            HARDENING_IO_REQUIRE(hardening_io_run_once(prefix, 1, 0, 0) == BGPBT_OK); /* resume */
        }
        snprintf(path, sizeof path, "%slog.csv", prefix);
        HARDENING_IO_REQUIRE(bgpbt_file_read(path, NULL, 1 << 24, (void**)&log, &n) == BGPBT_OK);
        HARDENING_IO_REQUIRE(n == hardening_io_ref_n && memcmp(log, hardening_io_ref_log, n) == 0);
        r = rr;
    }
done:
    if (log) bgpbt_mem_free(NULL, log, n);
    hardening_io_remove_run(prefix);
    return r;
}

static void hardening_io_faults_test(void) {
    long before = hardening_io_points;
    char path[256], prefix[200];
    memset(&hardening_cap, 0, sizeof hardening_cap);
    hardening_io_pick_dir();
    snprintf(prefix, sizeof prefix, "%s", hardening_io_path("hardening_io_run_"));
    test_io.no_sync = 1;
    hardening_io_loop("file write (atomic)", hardening_io_write_atomic, 100);
    hardening_io_loop("file read", hardening_io_read, 100);
    hardening_io_loop("MJCF model from a file", hardening_io_mjcf, 100);
    hardening_io_loop("checkpoint save", hardening_io_checkpoint, 100);
    /* the runner: a reference log from a run without faults first */
    hardening_io_remove_run(prefix);
    REQUIRE(hardening_io_run_once(prefix, 0, 0, 0) == BGPBT_OK);
    snprintf(path, sizeof path, "%slog.csv", prefix);
    REQUIRE(bgpbt_file_read(path, NULL, 1 << 24, (void**)&hardening_io_ref_log, &hardening_io_ref_n) == BGPBT_OK);
    hardening_io_loop("pbt run, then resume", hardening_io_run, 2000); /* about 5 s under ASan */
    bgpbt_mem_free(NULL, hardening_io_ref_log, hardening_io_ref_n);
    hardening_io_ref_log = NULL;
    hardening_io_remove_run(prefix);
    test_io.no_sync = 0;
    if (test__verbose) printf("  hardening: %ld I/O failure points (last log: %s)\n", hardening_io_points - before, hardening_cap.last);
}
#endif

/* ---- determinism across thread counts (in one build) ------------------------------------------

   A short physics rollout, a PPO update and a BO suggestion are hashed with 1 and 2 OpenMP
   threads; the hashes must be equal. tests/check_determinism.sh compares builds (OpenMP off,
   -O0 / -O2). The same functions are used by tests/determinism.c through this file. */
static uint64_t hardening_hash(uint64_t h, const void* p, size_t n) {
    const unsigned char* b = (const unsigned char*)p;
    size_t i;
    for (i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull; /* FNV-1a 64 */
    return h;
}

static uint64_t hardening_hash_physics(int threads) {
    bgpbt_vecenv_config c = bgpbt_vecenv_config_default();
    bgpbt_vecenv* v = NULL;
    bgpbt_rng rng;
    float act[16 * 8];
    uint64_t h = 1469598103934665603ull;
    int t, i, nq = 0, nv = 0;
    c.num_envs = 16;
    c.seed = 3;
    c.num_threads = threads;
    if (bgpbt_vecenv_create_task("ant", NULL, &c, &v) != BGPBT_OK) return 0;
    bgpbt_vecenv_reset(v);
    bgpbt_rng_init(&rng, 5, 0);
    for (t = 0; t < 60; ++t) {
        for (i = 0; i < 16 * 8; ++i) act[i] = (float)bgpbt_rng_uniform(&rng, -1, 1);
        bgpbt_vecenv_step(v, act);
        h = hardening_hash(h, bgpbt_vecenv_rewards(v), 16 * sizeof(float));
    }
    h = hardening_hash(h, bgpbt_vecenv_obs(v), (size_t)16 * (size_t)bgpbt_vecenv_obs_dim(v) * sizeof(float));
    bgpbt_vecenv_state_sizes(v, &nq, &nv);
    {
        float qp[64], qv[64];
        for (i = 0; i < 16 && nq <= 64 && nv <= 64; ++i) {
            bgpbt_vecenv_get_state(v, i, qp, qv);
            h = hardening_hash(h, qp, (size_t)nq * sizeof(float));
            h = hardening_hash(h, qv, (size_t)nv * sizeof(float));
        }
    }
    bgpbt_vecenv_destroy(v);
    return h;
}

static uint64_t hardening_hash_ppo(int threads) {
    bgpbt_allocator none;
    bgpbt_agent_config c;
    bgpbt_agent* a = NULL;
    uint64_t h = 1469598103934665603ull;
    bgpbt_mlp* m;
    float* p;
    size_t np;
    memset(&none, 0, sizeof none);
    c = hardening_agent_config(none);
    c.task = "hopper";
    c.num_envs = 8;
    c.env_threads = threads;
    c.arch.policy_layers = 2;
    c.arch.policy_width = 16;
    c.arch.value_layers = 2;
    c.arch.value_width = 16;
    c.hparams.batch_size = 8;
    c.hparams.num_minibatches = 2;
    c.hparams.update_epochs = 2;
    if (bgpbt_agent_create(&c, &a) != BGPBT_OK) return 0;
    if (bgpbt_agent_train(a, 200) != BGPBT_OK) { bgpbt_agent_destroy(a); return 0; }
    m = bgpbt_agent_policy(a);
    np = bgpbt_mlp_num_params(m);
    p = (float*)malloc(np * sizeof(float));
    if (p) {
        bgpbt_mlp_get_params(m, p);
        h = hardening_hash(h, p, np * sizeof(float));
        free(p);
    }
    m = bgpbt_agent_value(a);
    np = bgpbt_mlp_num_params(m);
    p = (float*)malloc(np * sizeof(float));
    if (p) {
        bgpbt_mlp_get_params(m, p);
        h = hardening_hash(h, p, np * sizeof(float));
        free(p);
    }
    bgpbt_agent_destroy(a);
    return h;
}

static uint64_t hardening_hash_bo(void) {
    bgpbt_allocator none;
    bgpbt_bo_config c;
    bgpbt_bo* bo = NULL;
    double v[4 * 4], X[24 * 4], y[24];
    bgpbt_rng rng;
    int i;
    uint64_t h = 1469598103934665603ull;
    memset(&none, 0, sizeof none);
    c = hardening_bo_config(none);
    c.n_restarts = 2;
    c.n_steps = 10;
    c.n_candidates = 64;
    if (bgpbt_bo_create(&c, &bo) != BGPBT_OK) return 0;
    bgpbt_rng_init(&rng, 12, 0);
    for (i = 0; i < 24; ++i) {
        bgpbt_bo_space_sample(bgpbt_bo_get_space(bo), &rng, X + 4 * i);
        y[i] = (X[4 * i] - 0.3) * (X[4 * i] - 0.3) + 0.1 * X[4 * i + 3] + 10 * X[4 * i + 1];
    }
    if (bgpbt_bo_set_data(bo, X, NULL, y, 24) == BGPBT_OK && bgpbt_bo_suggest(bo, NULL, 4, v) == BGPBT_OK)
        h = hardening_hash(h, v, sizeof v);
    else
        h = 0;
    bgpbt_bo_destroy(bo);
    return h;
}

#ifndef HARDENING_NO_SUITE
static void hardening_determinism_threads(void) {
    uint64_t p1 = hardening_hash_physics(1), p2 = hardening_hash_physics(2);
    uint64_t q1 = hardening_hash_ppo(1), q2 = hardening_hash_ppo(2);
    uint64_t b1, b2;
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    b1 = hardening_hash_bo();
    omp_set_num_threads(2);
    b2 = hardening_hash_bo();
    omp_set_num_threads(saved);
#else
    b1 = hardening_hash_bo();
    b2 = hardening_hash_bo();
#endif
    CHECK(p1 != 0 && q1 != 0 && b1 != 0);
    CHECK(p1 == p2);
    CHECK(q1 == q2);
    CHECK(b1 == b2);
}

void suite_hardening(void) {
    RUN(hardening_bad_inputs);
    RUN(hardening_matrix);
    RUN(hardening_oom);
#if defined(__unix__)
    RUN(hardening_kill_test);
#endif
#if defined(TEST_IO_SEAM) && !defined(_WIN32)
    RUN(hardening_io_faults_test);
#endif
    RUN(hardening_determinism_threads);
    /* always printed: tests/run.sh keeps each build's output in build/tests/<build>.run.log */
    printf("hardening totals: %ld allocation-failure points, %ld bad-input cases, %ld kills survived\n",
           hardening_oom_points, hardening_bad_cases, hardening_kills);
#if defined(TEST_IO_SEAM) && !defined(_WIN32)
    printf("hardening totals: %ld I/O failure points, %ld injected I/O faults survived\n", hardening_io_points,
           hardening_io_faults);
#endif
}
#endif
