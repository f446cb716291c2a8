/* tests/test_sim.c - the simulator: dynamics against closed forms and conservation laws,
   contacts, limits, the MJCF loader, batching and thread determinism. */

/* A point-mass pendulum: body with mass m at distance l below a hinge about y. */
static bgpbt_sim_model* sim_pendulum_model(float dt, float l, float inertia) {
    bgpbt_sim_builder* b = NULL;
    bgpbt_sim_model* m = NULL;
    bgpbt_sim_body_desc bd = bgpbt_sim_body_desc_default();
    bgpbt_sim_joint_desc jd = bgpbt_sim_joint_desc_default();
    bgpbt_sim_options o = bgpbt_sim_options_default();
    int body = -1;
    if (bgpbt_sim_builder_create(NULL, &b) != BGPBT_OK) return NULL;
    o.timestep = dt;
    bgpbt_sim_builder_set_options(b, &o);
    bd.mass = 1;
    bd.com[2] = -l;
    bd.inertia[0] = bd.inertia[1] = bd.inertia[2] = inertia;
    bgpbt_sim_builder_add_body(b, &bd, &body);
    jd.body = body;
    jd.axis[0] = 0; jd.axis[1] = 1; jd.axis[2] = 0;
    bgpbt_sim_builder_add_joint(b, &jd, NULL);
    bgpbt_sim_builder_finish(b, &m);
    bgpbt_sim_builder_destroy(b);
    return m;
}

/* Small-angle period of a compound pendulum: T = 2 pi sqrt((I + m l^2) / (m g l)), corrected
   by the amplitude series 1 + th^2/16 + 11 th^4/3072. Measured from zero crossings. */
static void sim_test_pendulum_period(void) {
    const float dt = 1e-4f, l = 0.5f, I = 0.01f;
    bgpbt_sim_model* m = sim_pendulum_model(dt, l, I);
    bgpbt_sim* s = NULL;
    float q0 = 0.2f, q, prev = q0;
    double t_first = -1, t_last = -1, T, Tref;
    int i, ncross = 0;
    REQUIRE(m != NULL);
    CHECK_OK(bgpbt_sim_create(m, NULL, &s));
    REQUIRE(s != NULL);
    CHECK_OK(bgpbt_sim_set_qpos(s, 0, &q0));
    for (i = 0; i < 60000; ++i) {
        bgpbt_sim_step(s);
        bgpbt_sim_get_qpos(s, 0, &q);
        if (prev > 0 && q <= 0) { /* downward crossing, linear interpolation */
            double t = (i + prev / (prev - q)) * dt;
            if (t_first < 0) t_first = t;
            t_last = t;
            ncross++;
        }
        prev = q;
    }
    REQUIRE(ncross >= 3);
    T = (t_last - t_first) / (ncross - 1);
    Tref = 2 * 3.14159265358979 * sqrt((I + l * l) / (9.81 * l)) * (1 + q0 * q0 / 16.0 + 11.0 * pow(q0, 4) / 3072.0);
    CHECK_REL(T, Tref, 1e-3);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
}

void suite_sim(void) {
    RUN(sim_test_pendulum_period);
}
