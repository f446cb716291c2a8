/* The driver hooks used by examples/mpi_population.c ([decl.pbt.driver]), without MPI:
   - a run resumed after EVERY round (checkpoint_save/_load's format, through bgpbt_pbt_run)
     writes the same log as a run never interrupted, across distillation rounds and agents
     whose budget ends early (both were refused by the loader before);
   - checkpoint_save / checkpoint_load round trip with byte-blob agents, and refusal;
   - the runner's PPO ops: an agent moved as a blob (save, load elsewhere) trains exactly like
     the original, and a blob copy reseeded with the job seed equals ops.clone. */

/* The stand-in agent of tests/test.h with this suite's learning rule: a skill that grows with
   the steps, faster near hp = 0.3 (encoded), with noise and per-agent step counts. */
static bgpbt_result mpi_f_train(test_sagent_user* u, test_sagent* a, const test_sagent* teacher, const bgpbt_pbt_job* job,
                                double* ret, long long* steps_run) {
    double g = 1;
    int k;
    for (k = 0; k < u->cfg.n_hp; ++k) {
        double d = bgpbt_pbt_param_encode(&u->cfg.hp[k], job->hp[k]) - 0.3;
        g -= d * d;
    }
    if (teacher && a->skill < 0.5 * teacher->skill) a->skill = 0.5 * teacher->skill;
    a->skill += 1e-4 * (double)job->steps * g + 0.05 * (double)(bgpbt_rng_u64(&a->rng) % 1000) / 1000.0;
    *ret = a->skill;
    /* like PPO's whole rounds: a little more than asked, different per agent, so lineages differ */
    *steps_run = job->steps + (long long)(bgpbt_rng_u64(&a->rng) % 4) * 100;
    return BGPBT_OK;
}
static bgpbt_pbt_agent_ops mpi_fake_ops(test_sagent_user* u) {
    u->fail_id = -1;
    u->train = mpi_f_train;
    memset(&u->allocator, 0, sizeof u->allocator);
    return test_sagent_ops(u);
}

static bgpbt_pbt_config mpi_small_config(int method) {
    bgpbt_pbt_config c = bgpbt_pbt_config_default();
    c.method = method;
    c.pop_size = 4;
    c.seed = 5;
    c.n_init = 8;
    c.n_arch_candidates = 8;
    c.t_ready = 1000;
    c.max_steps = 16000;
    c.patience = 3;
    c.distill_every = 5000;
    c.distill_budget = 3000;
    return c;
}

static void mpi_test_resume_every_round(void) {
    int method;
    for (method = 0; method < 4; ++method) {
        test_sagent_user u;
        bgpbt_pbt_agent_ops ops;
        bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
        bgpbt_pbt_run_result res;
        bgpbt_pbt* s = NULL;
        char *a, *b;
        size_t na, nb;
        int calls = 0, saw_distill = 0;
        if (test_is_fast() && method != BGPBT_PBT_METHOD_BGPBT) continue; /* BG-PBT: generations */
        rc.pbt = mpi_small_config(method);
        REQUIRE(bgpbt_pbt_create(&rc.pbt, &s) == BGPBT_OK);
        u.cfg = *bgpbt_pbt_get_config(s);
        bgpbt_pbt_destroy(s);
        ops = mpi_fake_ops(&u);
        rc.ops = &ops;
        rc.progress = 0;
        rc.threads = 1;
        rc.out_prefix = "mpi_run_a_";
        test_remove_run("mpi_run_a_");
        CHECK_OK(bgpbt_pbt_run(&rc, &res));
        CHECK(res.finished);
        a = test_read_file("mpi_run_a_log.csv", &na);
        REQUIRE(a != NULL && na > 100);
        saw_distill = strstr(a, ",distill,") != NULL;
        if (method == BGPBT_PBT_METHOD_BGPBT) CHECK(saw_distill);
        rc.out_prefix = "mpi_run_b_";
        test_remove_run("mpi_run_b_");
        rc.resume = 1;
        rc.max_rounds = 1;
        do {
            CHECK_OK(bgpbt_pbt_run(&rc, &res));
            CHECK_EQ_INT(res.resumed_at, calls);
            calls++;
        } while (!res.finished && calls < 200);
        CHECK(res.finished);
        b = test_read_file("mpi_run_b_log.csv", &nb);
        REQUIRE(b != NULL);
        CHECK(na == nb && memcmp(a, b, na) == 0);
        /* the finished run's checkpoint loads too (every member's state is in it) */
        {
            int ids[64], n = 0, i;
            void* ags[64];
            REQUIRE(bgpbt_pbt_create(&rc.pbt, &s) == BGPBT_OK);
            CHECK_OK(bgpbt_pbt_checkpoint_load(s, &ops, "mpi_run_b_checkpoint.bgpbt", 64, ids, ags, &n));
            CHECK(n >= rc.pbt.pop_size);
            { /* the loaded state is usable: the run is over */
                const bgpbt_pbt_round* r2;
                CHECK_OK(bgpbt_pbt_ask(s, &r2));
                CHECK_EQ_INT(r2->n_jobs, 0);
            }
            for (i = 0; i < n; ++i) ops.destroy(ops.user, ags[i]);
            bgpbt_pbt_destroy(s);
        }
        free(a);
        free(b);
        test_remove_run("mpi_run_a_");
        test_remove_run("mpi_run_b_");
    }
}

/* checkpoint_save of a scheduler and agents, then checkpoint_load: same scheduler state, same
   agents by id; a damaged file is refused and the target left unchanged. */
static void mpi_test_checkpoint_roundtrip(void) {
    test_sagent_user u;
    bgpbt_pbt_agent_ops ops;
    bgpbt_pbt_config c = mpi_small_config(BGPBT_PBT_METHOD_PBT);
    bgpbt_pbt *s = NULL, *t = NULL;
    const bgpbt_pbt_round* rd;
    void* ags[64];
    void* got[64];
    int ids[64], gids[64], n = 0, gn = 0, j, i, r;
    size_t s1 = 0, s2 = 0;
    unsigned char *b1, *b2;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    u.cfg = *bgpbt_pbt_get_config(s);
    ops = mpi_fake_ops(&u);
    for (r = 0; r < 3; ++r) { /* three rounds of ask/tell, agents kept by id like a driver */
        REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK && rd->n_jobs > 0);
        for (j = 0; j < rd->n_jobs; ++j) {
            const bgpbt_pbt_job* jb = &rd->jobs[j];
            void* a = NULL;
            double ret;
            long long st;
            int p = -1;
            for (i = 0; i < n; ++i) if (ids[i] == jb->parent) p = i;
            if (jb->parent == jb->agent) a = ags[p];
            else if (p >= 0) REQUIRE(ops.clone(ops.user, ags[p], jb->seed, &a) == BGPBT_OK);
            else REQUIRE(ops.create(ops.user, jb->arch, jb->hp, jb->seed, &a) == BGPBT_OK);
            if (jb->parent != jb->agent) { ids[n] = jb->agent; ags[n] = a; n++; }
            REQUIRE(ops.train(ops.user, a, NULL, jb, &ret, &st) == BGPBT_OK);
            CHECK_OK(bgpbt_pbt_tell(s, j, ret, st, 0));
        }
        for (j = 0; j < rd->n_release; ++j)
            for (i = 0; i < n; ++i)
                if (ids[i] == rd->release[j]) { ops.destroy(ops.user, ags[i]); ids[i] = ids[n - 1]; ags[i] = ags[n - 1]; n--; break; }
    }
    remove("mpi_ckpt.bgpbt");
    remove("mpi_ckpt.bgpbt.prev");
    CHECK_OK(bgpbt_pbt_checkpoint_save(s, &ops, n, ids, ags, "mpi_ckpt.bgpbt"));
    REQUIRE(bgpbt_pbt_create(&c, &t) == BGPBT_OK);
    CHECK_OK(bgpbt_pbt_checkpoint_load(t, &ops, "mpi_ckpt.bgpbt", 64, gids, got, &gn));
    CHECK_EQ_INT(gn, n);
    for (i = 0; i < gn; ++i) {
        int found = 0;
        for (j = 0; j < n; ++j)
            if (ids[j] == gids[i]) found = memcmp(ags[j], got[i], sizeof(test_sagent)) == 0;
        CHECK(found);
        ops.destroy(ops.user, got[i]);
    }
    bgpbt_pbt_save(s, NULL, 0, &s1);
    bgpbt_pbt_save(t, NULL, 0, &s2);
    CHECK(s1 == s2 && s1 > 0);
    b1 = (unsigned char*)malloc(s1);
    b2 = (unsigned char*)malloc(s2);
    REQUIRE(b1 && b2);
    CHECK_OK(bgpbt_pbt_save(s, b1, s1, &s1));
    CHECK_OK(bgpbt_pbt_save(t, b2, s2, &s2));
    CHECK(memcmp(b1, b2, s1) == 0);
    { /* truncated: refused, t unchanged */
        size_t len;
        char* f = test_read_file("mpi_ckpt.bgpbt", &len);
        FILE* o;
        test_log_capture cap;
        REQUIRE(f != NULL);
        o = fopen("mpi_ckpt_bad.bgpbt", "wb");
        REQUIRE(o != NULL);
        fwrite(f, 1, len / 2, o);
        fclose(o);
        free(f);
        memset(&cap, 0, sizeof cap);
        t->cfg.logger.fn = test_log_capture_fn;
        t->cfg.logger.user = &cap;
        CHECK(bgpbt_pbt_checkpoint_load(t, &ops, "mpi_ckpt_bad.bgpbt", 64, gids, got, &gn) != BGPBT_OK);
        CHECK(cap.count >= 1);
        t->cfg.logger.fn = NULL;
        CHECK_OK(bgpbt_pbt_save(t, b2, s2, &s2));
        CHECK(memcmp(b1, b2, s1) == 0);
        remove("mpi_ckpt_bad.bgpbt");
    }
    CHECK_RESULT(bgpbt_pbt_checkpoint_save(s, &ops, -1, ids, ags, "mpi_x"), BGPBT_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(bgpbt_pbt_checkpoint_load(t, &ops, "mpi_ckpt.bgpbt", 0, gids, got, &gn), BGPBT_ERR_INVALID_ARGUMENT);
    for (i = 0; i < n; ++i) ops.destroy(ops.user, ags[i]);
    free(b1);
    free(b2);
    remove("mpi_ckpt.bgpbt");
    remove("mpi_ckpt.bgpbt.prev");
    bgpbt_pbt_destroy(s);
    bgpbt_pbt_destroy(t);
}

/* a 1-d point-mass user environment for the PPO ops */
typedef struct mpi_pt { float x, v; } mpi_pt;
static void mpi_pt_reset(void* st, bgpbt_rng* rng, float* obs, void* user) {
    mpi_pt* s = (mpi_pt*)st;
    (void)user;
    s->x = (float)bgpbt_rng_uniform(rng, -1, 1);
    s->v = 0;
    obs[0] = s->x; obs[1] = s->v;
}
static void mpi_pt_step(void* st, const float* a, bgpbt_rng* rng, float* obs, float* reward, int* term, void* user) {
    mpi_pt* s = (mpi_pt*)st;
    (void)user; (void)rng;
    s->v = 0.9f * s->v + 0.1f * a[0];
    s->x += 0.1f * s->v;
    *reward = -(float)fabs(s->x);
    *term = 0;
    obs[0] = s->x; obs[1] = s->v;
}

static void mpi_test_ppo_ops_blob_moves(void) {
    static bgpbt_env_def env;
    bgpbt_pbt_config c = mpi_small_config(BGPBT_PBT_METHOD_PBT);
    bgpbt_agent_config ac = bgpbt_agent_config_default();
    bgpbt_pbt_agent_ops ops;
    bgpbt_pbt* s = NULL;
    const bgpbt_pbt_round* rd;
    bgpbt_pbt_job job;
    void *a = NULL, *b = NULL, *c1 = NULL, *c2 = NULL;
    unsigned char *blob, *x, *y;
    size_t n = 0, nx = 0, ny = 0;
    double ra = 0, rb = 1, r1 = 0, r2 = 1;
    long long sa = 0, sb = 1, s1 = 0, s2 = 1;
    env.name = "mpi_pt";
    env.obs_dim = 2;
    env.act_dim = 1;
    env.max_episode_steps = 50;
    env.state_bytes = sizeof(mpi_pt);
    env.reset = mpi_pt_reset;
    env.step = mpi_pt_step;
    ac.env_def = &env;
    ac.num_envs = 8;
    ac.eval_episodes = 2;
    ac.env_threads = 1;
    ac.hparams.num_minibatches = 2;
    c.n_arch = 4;
    c.arch[0] = bgpbt_pbt_param_make("policy_layers", BGPBT_PBT_INT, 1, 2, 0);
    c.arch[1] = bgpbt_pbt_param_make("policy_log2_width", BGPBT_PBT_INT, 3, 4, 0);
    c.arch[2] = bgpbt_pbt_param_make("value_layers", BGPBT_PBT_INT, 1, 2, 0);
    c.arch[3] = bgpbt_pbt_param_make("value_log2_width", BGPBT_PBT_INT, 3, 4, 0);
    c.default_arch[0] = 1; c.default_arch[1] = 3; c.default_arch[2] = 1; c.default_arch[3] = 3;
    c.hp[0] = bgpbt_pbt_param_make("log2_batch_size", BGPBT_PBT_INT, 3, 4, 0);
    c.n_hp = 1;
    REQUIRE(bgpbt_pbt_create(&c, &s) == BGPBT_OK);
    REQUIRE(bgpbt_pbt_ask(s, &rd) == BGPBT_OK && rd->n_jobs > 0);
    job = rd->jobs[0];
    job.steps = 200;
    CHECK_RESULT(bgpbt_pbt_ppo_ops_create(NULL, &ac, &ops), BGPBT_ERR_INVALID_ARGUMENT);
    REQUIRE(bgpbt_pbt_ppo_ops_create(bgpbt_pbt_get_config(s), &ac, &ops) == BGPBT_OK);
    REQUIRE(ops.create(ops.user, job.arch, job.hp, job.seed, &a) == BGPBT_OK);
    REQUIRE(ops.train(ops.user, a, NULL, &job, &ra, &sa) == BGPBT_OK); /* some history first */
    REQUIRE(ops.save(ops.user, a, NULL, 0, &n) == BGPBT_OK);
    blob = (unsigned char*)malloc(n);
    REQUIRE(blob != NULL);
    REQUIRE(ops.save(ops.user, a, blob, n, &n) == BGPBT_OK);
    /* moved: load elsewhere and continue == continue here */
    REQUIRE(ops.load(ops.user, blob, n, &b) == BGPBT_OK);
    REQUIRE(ops.train(ops.user, a, NULL, &job, &ra, &sa) == BGPBT_OK);
    REQUIRE(ops.train(ops.user, b, NULL, &job, &rb, &sb) == BGPBT_OK);
    CHECK(ra == rb && sa == sb);
    /* exploit copy: clone in memory == load + reseed(job seed) */
    REQUIRE(ops.clone(ops.user, a, job.seed + 1, &c1) == BGPBT_OK);
    REQUIRE(ops.save(ops.user, a, blob, n, &n) == BGPBT_OK);
    REQUIRE(ops.load(ops.user, blob, n, &c2) == BGPBT_OK);
    bgpbt_agent_reseed((bgpbt_agent*)c2, job.seed + 1);
    REQUIRE(ops.train(ops.user, c1, NULL, &job, &r1, &s1) == BGPBT_OK);
    REQUIRE(ops.train(ops.user, c2, NULL, &job, &r2, &s2) == BGPBT_OK);
    CHECK(r1 == r2 && s1 == s2);
    REQUIRE(ops.save(ops.user, c1, NULL, 0, &nx) == BGPBT_OK && ops.save(ops.user, c2, NULL, 0, &ny) == BGPBT_OK);
    CHECK(nx == ny);
    x = (unsigned char*)malloc(nx);
    y = (unsigned char*)malloc(ny);
    REQUIRE(x && y);
    CHECK_OK(ops.save(ops.user, c1, x, nx, &nx));
    CHECK_OK(ops.save(ops.user, c2, y, ny, &ny));
    CHECK(nx == ny && memcmp(x, y, nx) == 0);
    free(x);
    free(y);
    free(blob);
    ops.destroy(ops.user, a);
    ops.destroy(ops.user, b);
    ops.destroy(ops.user, c1);
    ops.destroy(ops.user, c2);
    bgpbt_pbt_ppo_ops_destroy(&ops);
    CHECK(ops.user == NULL);
    bgpbt_pbt_destroy(s);
}

void suite_mpi(void) {
    RUN(mpi_test_resume_every_round);
    RUN(mpi_test_checkpoint_roundtrip);
    RUN(mpi_test_ppo_ops_blob_moves);
}
