/* tests/test_sim.c - the simulator: dynamics against closed forms, a high-accuracy reference and
   conservation laws; contacts, friction, limits; the MJCF loader and its errors; batching,
   thread determinism and bad-state handling. */

static bgpbt_sim_model* sim_load(const char* xml, test_log_capture* cap) {
    bgpbt_sim_model_config mc = bgpbt_sim_model_config_default();
    bgpbt_sim_model* m = NULL;
    if (cap) {
        memset(cap, 0, sizeof *cap);
        mc.logger.fn = test_log_capture_fn;
        mc.logger.user = cap;
    }
    if (bgpbt_sim_model_from_mjcf(xml, strlen(xml), &mc, &m) != BGPBT_OK) return NULL;
    return m;
}

/* The model files are copied into tests/models; the tests run in build/tests. */
static bgpbt_sim_model* sim_load_file(const char* name) {
    static const char* const dirs[] = {"../../tests/models/", "tests/models/", "../tests/models/", "models/"};
    char path[512];
    int i;
    for (i = 0; i < 4; ++i) {
        bgpbt_sim_model* m = NULL;
        FILE* f;
        snprintf(path, sizeof path, "%s%s", dirs[i], name);
        f = fopen(path, "rb");
        if (!f) continue;
        fclose(f);
        if (bgpbt_sim_model_load_mjcf(path, NULL, &m) == BGPBT_OK) return m;
        return NULL;
    }
    return NULL;
}

/* A pendulum: a body with mass 1 and com at distance l below a hinge about y. */
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

/* Period from downward zero crossings against 2 pi sqrt((I + m l^2)/(m g l)) times the
   amplitude series 1 + th^2/16 + 11 th^4/3072 (0.1%); energy drift over 10 s below 2e-3 of
   the swing energy (symplectic Euler: bounded oscillation, no secular growth). */
static void sim_test_pendulum_period_energy(void) {
    const float dt = 1e-4f, l = 0.5f, I = 0.01f;
    bgpbt_sim_model* m = sim_pendulum_model(dt, l, I);
    bgpbt_sim* s = NULL;
    float q0 = 0.3f, q, w, prev = q0;
    double t_first = -1, t_last = -1, T, Tref, E0, Emax = 0, swing;
    int i, ncross = 0;
    REQUIRE(m != NULL);
    CHECK_OK(bgpbt_sim_create(m, NULL, &s));
    REQUIRE(s != NULL);
    CHECK_OK(bgpbt_sim_set_qpos(s, 0, &q0));
    E0 = -9.81 * l * cos(q0);
    swing = 9.81 * l * (1 - cos(q0));
    for (i = 0; i < 100000; ++i) {
        double E;
        bgpbt_sim_step(s);
        bgpbt_sim_get_qpos(s, 0, &q);
        bgpbt_sim_get_qvel(s, 0, &w);
        E = 0.5 * (I + l * l) * w * w - 9.81 * l * cos(q);
        if (fabs(E - E0) > Emax) Emax = fabs(E - E0);
        if (prev > 0 && q <= 0) {
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
    CHECK(Emax / swing < 2e-3);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
}

/* A double pendulum of two point masses against RK4 at a 10x smaller step in double
   precision (absolute angles th1, th2; the sim's second joint is relative). */
static void sim_dp_deriv(const double* y, double* dy) {
    const double g = 9.81, m1 = 1, m2 = 0.7, l1 = 0.6, l2 = 0.4;
    double d = y[0] - y[1], den = 2 * m1 + m2 - m2 * cos(2 * y[0] - 2 * y[1]);
    dy[0] = y[2];
    dy[1] = y[3];
    dy[2] = (-g * (2 * m1 + m2) * sin(y[0]) - m2 * g * sin(y[0] - 2 * y[1]) - 2 * sin(d) * m2 * (y[3] * y[3] * l2 + y[2] * y[2] * l1 * cos(d))) / (l1 * den);
    dy[3] = (2 * sin(d) * (y[2] * y[2] * l1 * (m1 + m2) + g * (m1 + m2) * cos(y[0]) + y[3] * y[3] * l2 * m2 * cos(d))) / (l2 * den);
}
static void sim_test_double_pendulum_rk4(void) {
    const char* xml =
        "<mujoco><option timestep='0.0001' gravity='0 0 -9.81'/><worldbody>"
        "<body name='a'><joint type='hinge' axis='0 1 0'/><inertial pos='0 0 -0.6' mass='1' diaginertia='1e-7 1e-7 1e-7'/>"
        "<body name='b' pos='0 0 -0.6'><joint type='hinge' axis='0 1 0'/><inertial pos='0 0 -0.4' mass='0.7' diaginertia='1e-7 1e-7 1e-7'/>"
        "</body></body></worldbody></mujoco>";
    bgpbt_sim_model* m = sim_load(xml, NULL);
    bgpbt_sim* s = NULL;
    double y[4] = {1.0, 0.5, 0, 0}, k1[4], k2[4], k3[4], k4[4], t[4], hd = 1e-5, maxerr = 0;
    float q[2] = {1.0f, -0.5f};
    int i, j, r;
    REQUIRE(m != NULL);
    CHECK_OK(bgpbt_sim_create(m, NULL, &s));
    bgpbt_sim_set_qpos(s, 0, q);
    for (i = 0; i < 10000; ++i) { /* 1 s */
        bgpbt_sim_step(s);
        for (r = 0; r < 10; ++r) {
            sim_dp_deriv(y, k1);
            for (j = 0; j < 4; ++j) t[j] = y[j] + 0.5 * hd * k1[j];
            sim_dp_deriv(t, k2);
            for (j = 0; j < 4; ++j) t[j] = y[j] + 0.5 * hd * k2[j];
            sim_dp_deriv(t, k3);
            for (j = 0; j < 4; ++j) t[j] = y[j] + hd * k3[j];
            sim_dp_deriv(t, k4);
            for (j = 0; j < 4; ++j) y[j] += hd / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
        }
        bgpbt_sim_get_qpos(s, 0, q);
        if (fabs(q[0] - y[0]) > maxerr) maxerr = fabs(q[0] - y[0]);
        if (fabs(q[0] + q[1] - y[1]) > maxerr) maxerr = fabs(q[0] + q[1] - y[1]);
    }
    CHECK(maxerr < 5e-3);
    if (test__verbose) printf("  double pendulum max angle error %.3g rad\n", maxerr);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
}

/* free body: kinetic energy, linear and angular momentum (world frame) */
static void sim_free_invariants(const bgpbt_sim* s, const float I[3], float mass, double* ke, double L[3], double p[3]) {
    float q[7], v[6], R[9];
    double Iw[3];
    int k;
    bgpbt_sim_get_qpos(s, 0, q);
    bgpbt_sim_get_qvel(s, 0, v);
    bgpbt_sim_body_mat(s, 0, 1, R);
    for (k = 0; k < 3; ++k) Iw[k] = I[k] * v[3 + k];
    *ke = 0.5 * mass * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) + 0.5 * (Iw[0] * v[3] + Iw[1] * v[4] + Iw[2] * v[5]);
    for (k = 0; k < 3; ++k) {
        L[k] = R[3 * k] * Iw[0] + R[3 * k + 1] * Iw[1] + R[3 * k + 2] * Iw[2];
        p[k] = mass * v[k];
    }
}

/* Zero gravity: momentum and energy conserved; spin about the intermediate axis flips. */
static void sim_test_free_body_tennis_racket(void) {
    const char* xml =
        "<mujoco><option timestep='0.001' gravity='0 0 0'/><worldbody>"
        "<body pos='0 0 1'><freejoint/><inertial pos='0 0 0' mass='2' diaginertia='0.13 0.10 0.05'/></body>"
        "</worldbody></mujoco>";
    const float I[3] = {0.13f, 0.10f, 0.05f};
    bgpbt_sim_model* m = sim_load(xml, NULL);
    bgpbt_sim* s = NULL;
    float v0[6] = {0.3f, -0.2f, 0.1f, 0.01f, 4.0f, 0.01f}, v[6];
    double ke0, L0[3], p0[3], ke, L[3], p[3], maxdk = 0, maxdl = 0, maxdp = 0, wmin = 1e9;
    int i, k;
    REQUIRE(m != NULL);
    CHECK_OK(bgpbt_sim_create(m, NULL, &s));
    CHECK_OK(bgpbt_sim_set_qvel(s, 0, v0));
    sim_free_invariants(s, I, 2.0f, &ke0, L0, p0);
    for (i = 0; i < 10000; ++i) {
        bgpbt_sim_step(s);
        sim_free_invariants(s, I, 2.0f, &ke, L, p);
        bgpbt_sim_get_qvel(s, 0, v);
        if (v[4] < wmin) wmin = v[4];
        if (fabs(ke - ke0) > maxdk) maxdk = fabs(ke - ke0);
        for (k = 0; k < 3; ++k) {
            if (fabs(L[k] - L0[k]) > maxdl) maxdl = fabs(L[k] - L0[k]);
            if (fabs(p[k] - p0[k]) > maxdp) maxdp = fabs(p[k] - p0[k]);
        }
    }
    CHECK(maxdp < 1e-5);
    CHECK(maxdl / 0.4 < 1e-2);  /* |L| = 0.4 */
    CHECK(maxdk / ke0 < 1e-2);
    CHECK(wmin < -3.5);         /* the spin about the intermediate axis reversed */
    if (test__verbose) printf("  free body: dKE %.3g dL %.3g dp %.3g min w_y %.3g\n", maxdk / ke0, maxdl / 0.4, maxdp, wmin);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
}

/* The same body spun about its largest axis stays put (no flip: stable axis). */
static void sim_test_free_body_stable_axis(void) {
    const char* xml =
        "<mujoco><option timestep='0.005' gravity='0 0 0'/><worldbody>"
        "<body><freejoint/><geom type='box' size='0.3 0.2 0.1' density='100'/></body></worldbody></mujoco>";
    bgpbt_sim_model* m = sim_load(xml, NULL);
    bgpbt_sim* s = NULL;
    float v0[6] = {0, 0, 0, 0.01f, 0.01f, 6.0f}, v[6];
    int i;
    double wmin = 1e9;
    REQUIRE(m != NULL);
    CHECK_OK(bgpbt_sim_create(m, NULL, &s));
    bgpbt_sim_set_qvel(s, 0, v0);
    for (i = 0; i < 4000; ++i) {
        bgpbt_sim_step(s);
        bgpbt_sim_get_qvel(s, 0, v);
        if (v[5] < wmin) wmin = v[5];
    }
    CHECK(wmin > 5.9);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
}

/* Two free bodies collide in zero gravity (off-centre): total linear and angular momentum are
   conserved through the impact, kinetic energy does not grow. */
static void sim_check_momentum(const char* xml, const float* v0) {
    bgpbt_sim_model* m = sim_load(xml, NULL);
    bgpbt_sim* s = NULL;
    double P0[3], L0[3], KE0 = 0, P[3], L[3], KE;
    int i, k, touched = 0;
    REQUIRE(m != NULL);
    CHECK_OK(bgpbt_sim_create(m, NULL, &s));
    CHECK_OK(bgpbt_sim_set_qvel(s, 0, v0));
    for (i = 0; i <= 1000; ++i) {
        int b;
        for (k = 0; k < 3; ++k) P[k] = L[k] = 0;
        KE = 0;
        for (b = 1; b <= 2; ++b) { /* momenta about the origin: m c x v + I w (I w from the cvel) */
            bgpbt_sim_body_desc d;
            float c[3] = {0, 0, 0}, v[3] = {0, 0, 0}, w[3] = {0, 0, 0}, R[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
            double Iw[3], wl[3];
            int r;
            bgpbt_sim_model_body(m, b, &d);
            bgpbt_sim_body_com(s, 0, b, c);
            bgpbt_sim_body_vel(s, 0, b, v, w);
            bgpbt_sim_body_mat(s, 0, b, R);
            for (r = 0; r < 3; ++r) wl[r] = R[r] * w[0] + R[3 + r] * w[1] + R[6 + r] * w[2]; /* body frame */
            Iw[0] = d.inertia[0] * wl[0] + d.inertia[3] * wl[1] + d.inertia[4] * wl[2];
            Iw[1] = d.inertia[3] * wl[0] + d.inertia[1] * wl[1] + d.inertia[5] * wl[2];
            Iw[2] = d.inertia[4] * wl[0] + d.inertia[5] * wl[1] + d.inertia[2] * wl[2];
            KE += 0.5 * d.mass * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) + 0.5 * (Iw[0] * wl[0] + Iw[1] * wl[1] + Iw[2] * wl[2]);
            for (r = 0; r < 3; ++r) {
                double Iww = R[3 * r] * Iw[0] + R[3 * r + 1] * Iw[1] + R[3 * r + 2] * Iw[2];
                P[r] += d.mass * v[r];
                L[r] += Iww;
            }
            L[0] += d.mass * (c[1] * v[2] - c[2] * v[1]);
            L[1] += d.mass * (c[2] * v[0] - c[0] * v[2]);
            L[2] += d.mass * (c[0] * v[1] - c[1] * v[0]);
        }
        if (i == 0) {
            for (k = 0; k < 3; ++k) { P0[k] = P[k]; L0[k] = L[k]; }
            KE0 = KE;
        }
        if (bgpbt_sim_num_contacts(s, 0) > 0) touched = 1;
        bgpbt_sim_step(s);
    }
    CHECK(touched);
    for (k = 0; k < 3; ++k) {
        CHECK_NEAR(P[k], P0[k], 1e-4);
        CHECK_NEAR(L[k], L0[k], 2e-4); /* measured 2.5e-5 for the boxes, 5e-7 for sphere-capsule */
    }
    CHECK(KE <= KE0 * (1 + 1e-4));
    CHECK(KE < 0.99 * KE0); /* inelastic: the impact dissipates */
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
}
static void sim_test_collision_momentum(void) {
    static const float sphere_v[12] = {2, 0, 0, 0, 0, 0, -0.5f, 0, 0, 0, 0, 0};
    static const float box_v[12] = {2, 0.3f, -0.1f, 1, 3, -2, -0.5f, 0, 0, 0, 0, 0};
    sim_check_momentum("<mujoco><option timestep='0.001' gravity='0 0 0'/><worldbody>"
                       "<body pos='0 0 0'><freejoint/><geom type='sphere' size='0.1' mass='1'/></body>"
                       "<body pos='1 0.05 0' euler='90 0 0'><freejoint/><geom type='capsule' size='0.08 0.2' mass='3'/></body>"
                       "</worldbody></mujoco>", sphere_v);
    /* a spinning, tilted box strikes another box off-centre (box-box manifold) */
    sim_check_momentum("<mujoco><option timestep='0.001' gravity='0 0 0'/><worldbody>"
                       "<body pos='0 0 0' euler='30 40 10'><freejoint/><geom type='box' size='0.1 0.08 0.06' mass='1'/></body>"
                       "<body pos='0.8 0.07 0' euler='0 0 25'><freejoint/><geom type='box' size='0.15 0.2 0.1' mass='3'/></body>"
                       "</worldbody></mujoco>", box_v);
}


/* Resting contact: sphere, lying and standing capsule, box settle at the analytic height
   (within 2 mm) and stay still; total energy never grows while falling and landing. */
static void sim_check_rest(const char* xml, double z_expect, int steps) {
    bgpbt_sim_model* m = sim_load(xml, NULL);
    bgpbt_sim* s = NULL;
    float p[3] = {0, 0, 0}, lin[3] = {0, 0, 0}, ang[3] = {0, 0, 0}, z_prev = 0;
    double E0 = -1, maxgain = 0, mass;
    int i;
    REQUIRE(m != NULL);
    CHECK_OK(bgpbt_sim_create(m, NULL, &s));
    mass = bgpbt_sim_model_total_mass(m);
    for (i = 0; i < steps; ++i) {
        double E;
        bgpbt_sim_step(s);
        bgpbt_sim_body_com(s, 0, 1, p);
        bgpbt_sim_body_vel(s, 0, 1, lin, ang);
        E = mass * (9.81 * p[2] + 0.5 * (lin[0] * lin[0] + lin[1] * lin[1] + lin[2] * lin[2]));
        if (E0 < 0) E0 = E;
        if (E - E0 > maxgain) maxgain = E - E0;
        if (i == steps - 101) z_prev = p[2];
    }
    CHECK_NEAR(p[2], z_expect, 2e-3);
    CHECK_NEAR(p[2], z_prev, 1e-5); /* still over the last 100 steps */
    CHECK(fabs(lin[0]) + fabs(lin[1]) + fabs(lin[2]) < 1e-3);
    CHECK(maxgain < 1e-3 * E0);
    CHECK(bgpbt_sim_num_contacts(s, 0) >= 1);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
}
static void sim_test_resting_heights(void) {
    sim_check_rest("<mujoco><option timestep='0.005'/><worldbody><geom type='plane' size='5 5 1'/>"
                   "<body pos='0 0 1'><freejoint/><geom type='sphere' size='0.1'/></body></worldbody></mujoco>", 0.1, 1000);
    sim_check_rest("<mujoco><option timestep='0.005'/><worldbody><geom type='plane' size='5 5 1'/>"
                   "<body pos='0 0 0.5' euler='0 90 0'><freejoint/><geom type='capsule' size='0.05 0.3'/></body></worldbody></mujoco>", 0.05, 1000);
    sim_check_rest("<mujoco><option timestep='0.01'/><worldbody><geom type='plane' size='5 5 1'/>"
                   "<body pos='0 0 1'><freejoint/><geom type='capsule' size='0.1 0.3'/></body></worldbody></mujoco>", 0.4, 500);
    sim_check_rest("<mujoco><option timestep='0.005'/><worldbody><geom type='plane' size='5 5 1'/>"
                   "<body pos='0 0 1' euler='0 0 30'><freejoint/><geom type='box' size='0.1 0.2 0.3'/></body></worldbody></mujoco>", 0.3, 1000);
    /* a sphere and a lying capsule on a fixed box whose top is at 0.4 (off the box centre) */
    sim_check_rest("<mujoco><option timestep='0.005'/><worldbody><geom type='box' pos='0 0 0.2' size='0.5 0.5 0.2'/>"
                   "<body pos='0.2 -0.1 1'><freejoint/><geom type='sphere' size='0.1'/></body></worldbody></mujoco>", 0.5, 1000);
    sim_check_rest("<mujoco><option timestep='0.005'/><worldbody><geom type='box' pos='0 0 0.2' size='0.5 0.5 0.2' euler='0 0 20'/>"
                   "<body pos='0.1 0 0.8' euler='0 90 0'><freejoint/><geom type='capsule' size='0.05 0.2'/></body></worldbody></mujoco>", 0.45, 1000);
    /* a capsule on a fixed crossing capsule (vertical slide, so the balance is not the test):
       axes 0.25 apart */
    sim_check_rest("<mujoco><option timestep='0.005'/><worldbody><geom type='capsule' fromto='-1 0 0.1 1 0 0.1' size='0.1'/>"
                   "<body pos='0 0 0.6' euler='90 0 0'><joint type='slide' axis='0 1 0'/><geom type='capsule' size='0.15 0.2'/></body></worldbody></mujoco>", 0.35, 1000);
}

/* Box on box: a box on a fixed box (face on face), two crossed planks (the contact corners are
   edge crossings, not corners of either box), two cubes edge on crossed edge (a vertical slide
   keeps it balanced: axes 0.2 sqrt 2 apart), all at the analytic height; a stack of three turned
   cubes and a column of five stand still with the default 10 PGS sweeps (the column jitters at
   0.3 m/s without the penetration slop), and a tilted box dropped on a cube comes to rest on one
   of its faces. */
static void sim_test_box_box(void) {
    static const char* const stack =
        "<mujoco><option timestep='0.005'/><worldbody><geom type='plane' size='5 5 1'/>"
        "<body pos='0 0 0.1'><freejoint/><geom type='box' size='0.1 0.1 0.1'/></body>"
        "<body pos='0.02 0 0.3' euler='0 0 20'><freejoint/><geom type='box' size='0.1 0.1 0.1'/></body>"
        "<body pos='-0.02 0.01 0.5' euler='0 0 40'><freejoint/><geom type='box' size='0.1 0.1 0.1'/></body>"
        "<body pos='2.05 0.03 0.6' euler='30 40 10'><freejoint/><geom type='box' size='0.1 0.08 0.06'/></body>"
        "<body pos='2 0 0.1'><freejoint/><geom type='box' size='0.1 0.1 0.1'/></body>"
        "<body pos='-2 0 0.1'><freejoint/><geom type='box' size='0.1 0.1 0.1'/></body>"
        "<body pos='-2 0 0.3'><freejoint/><geom type='box' size='0.1 0.1 0.1'/></body>"
        "<body pos='-2 0 0.5'><freejoint/><geom type='box' size='0.1 0.1 0.1'/></body>"
        "<body pos='-2 0 0.7'><freejoint/><geom type='box' size='0.1 0.1 0.1'/></body>"
        "<body pos='-2 0 0.9'><freejoint/><geom type='box' size='0.1 0.1 0.1'/></body></worldbody></mujoco>";
    bgpbt_sim_model* m;
    bgpbt_sim* s = NULL;
    float p[3], lin[3], ang[3], z;
    int i, b;
    sim_check_rest("<mujoco><option timestep='0.005'/><worldbody><geom type='box' pos='0 0 0.2' size='0.5 0.5 0.2'/>"
                   "<body pos='0.1 0 1' euler='0 0 30'><freejoint/><geom type='box' size='0.1 0.2 0.15'/></body></worldbody></mujoco>", 0.55, 1000);
    sim_check_rest("<mujoco><option timestep='0.005'/><worldbody><geom type='box' pos='0 0 0.05' size='0.5 0.05 0.05'/>"
                   "<body pos='0 0 0.5'><freejoint/><geom type='box' size='0.05 0.5 0.05'/></body></worldbody></mujoco>", 0.15, 1000);
    sim_check_rest("<mujoco><option timestep='0.005'/><worldbody><geom type='box' pos='0 0 0.3' size='0.1 0.1 0.1' euler='0 45 0'/>"
                   "<body pos='0 0 0.8'><joint type='slide' axis='0 0 1'/><geom type='box' size='0.1 0.1 0.1' euler='45 0 0'/></body>"
                   "</worldbody></mujoco>", 0.3 + 0.2 * sqrt(2.0), 1000);
    m = sim_load(stack, NULL);
    REQUIRE(m != NULL);
    CHECK_OK(bgpbt_sim_create(m, NULL, &s));
    for (i = 0; i < 2000; ++i) bgpbt_sim_step(s);
    for (b = 1; b <= 10; ++b) { /* the turned stack (bodies 1-3) and the column (6-10) */
        int level = b <= 3 ? b : b - 5;
        if (b == 4 || b == 5) continue;
        bgpbt_sim_body_com(s, 0, b, p);
        bgpbt_sim_body_vel(s, 0, b, lin, ang);
        CHECK_NEAR(p[2], 0.2 * level - 0.1, 1e-3);
        CHECK(fabs(lin[0]) + fabs(lin[1]) + fabs(lin[2]) + fabs(ang[0]) + fabs(ang[1]) + fabs(ang[2]) < 1e-4);
    }
    bgpbt_sim_body_com(s, 0, 4, p);
    bgpbt_sim_body_vel(s, 0, 4, lin, ang);
    z = p[2] - 0.2f; /* the tilted box's half-height above the cube: one of its half-sizes */
    CHECK(fabs(z - 0.06) < 2e-3 || fabs(z - 0.08) < 2e-3 || fabs(z - 0.1) < 2e-3);
    CHECK(fabs(lin[0]) + fabs(lin[1]) + fabs(lin[2]) < 1e-3);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
}

/* A box on an incline (mu = 0.5): sticks at 20 degrees (tan = 0.36), slides at 35 degrees with
   a = g (sin - mu cos), within 3%. */
static double sim_incline_travel(double deg, double seconds) {
    char xml[1024];
    double th = deg * 3.14159265358979 / 180, h = 0.1;
    bgpbt_sim_model* m;
    bgpbt_sim* s = NULL;
    float p0[3], p[3];
    int i, n = (int)(seconds / 0.002 + 0.5);
    snprintf(xml, sizeof xml,
             "<mujoco><option timestep='0.002'/><worldbody><geom type='plane' size='20 20 1' euler='0 %g 0' friction='0.5'/>"
             "<body pos='%g 0 %g' euler='0 %g 0'><freejoint/><geom type='box' size='0.2 0.2 %g' friction='0.5'/></body></worldbody></mujoco>",
             deg, h * sin(th), h * cos(th), deg, h);
    m = sim_load(xml, NULL);
    if (!m || bgpbt_sim_create(m, NULL, &s) != BGPBT_OK) return -1;
    for (i = 0; i < 50; ++i) bgpbt_sim_step(s); /* settle the contacts */
    bgpbt_sim_body_pos(s, 0, 1, p0);
    for (i = 0; i < n; ++i) bgpbt_sim_step(s);
    bgpbt_sim_body_pos(s, 0, 1, p);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
    /* along the downhill direction (cos th, 0, -sin th) */
    return (p[0] - p0[0]) * cos(th) - (p[2] - p0[2]) * sin(th);
}
static void sim_test_incline_stick_slide(void) {
    double th = 35 * 3.14159265358979 / 180, a = 9.81 * (sin(th) - 0.5 * cos(th));
    double stick = sim_incline_travel(20, 1.0);
    double t0 = 50 * 0.002, t1 = t0 + 1.0;
    double slide = sim_incline_travel(35, 1.0);
    CHECK(fabs(stick) < 1e-3);
    /* the box starts from rest at t=0 and slides throughout: travel between t0 and t1 */
    CHECK_REL(slide, 0.5 * a * (t1 * t1 - t0 * t0), 0.03);
}

/* Joint limits hold under a large motor torque; ctrl is clamped to ctrlrange. */
static void sim_test_limits_and_ctrlrange(void) {
    const char* xml =
        "<mujoco><compiler angle='radian'/><option timestep='0.002' gravity='0 0 0'/><worldbody>"
        "<body><joint name='j' type='hinge' axis='0 0 1' range='-0.5 0.5'/><geom type='capsule' fromto='0 0 0 0.5 0 0' size='0.05'/></body>"
        "</worldbody><actuator><motor joint='j' gear='50' ctrlrange='-1 1'/></actuator></mujoco>";
    bgpbt_sim_model* m = sim_load(xml, NULL);
    bgpbt_sim_config c = bgpbt_sim_config_default();
    bgpbt_sim* s = NULL;
    float u1 = 1.0f, u10 = 10.0f, q[2], qmax = -1;
    int i;
    REQUIRE(m != NULL);
    c.num_envs = 2;
    CHECK_OK(bgpbt_sim_create(m, &c, &s));
    bgpbt_sim_set_ctrl(s, 0, &u1);
    bgpbt_sim_set_ctrl(s, 1, &u10);
    for (i = 0; i < 2000; ++i) {
        bgpbt_sim_step(s);
        bgpbt_sim_get_qpos(s, 0, q);
        bgpbt_sim_get_qpos(s, 1, q + 1);
        if (q[0] > qmax) qmax = q[0];
        if (q[0] != q[1]) break;
    }
    CHECK(q[0] == q[1]); /* ctrl 10 clamped to 1: identical trajectories */
    CHECK(qmax < 0.5f + 0.01f);
    CHECK(q[0] > 0.49f);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
}

/* Every supported element and attribute lands in the model it means. */
static void sim_test_mjcf_parse(void) {
    const char* xml =
        "<?xml version='1.0'?>\n<!-- comment -->\n<mujoco model='t'>\n"
        "<compiler angle='degree' inertiafromgeom='true' settotalmass='10'/>\n"
        "<option timestep='0.004' gravity='0 0 -5' integrator='RK4' iterations='12'/>\n"
        "<size nconmax='100'/><visual><map znear='0.1'/></visual>\n"
        "<asset><texture name='t' builtin='flat' width='1' height='1'/><material name='mm'/></asset>\n"
        "<custom><numeric name='init' data='1 2 3'/><numeric name='pad' data='4' size='3'/></custom>\n"
        "<default><joint damping='2' armature='0.1'/><geom friction='0.7' density='500'/>\n"
        "  <default class='stiff'><joint stiffness='30'/><default class='inner'><geom contype='2'/></default></default>\n"
        "</default>\n"
        "<worldbody><light pos='0 0 3'/><geom name='floor' type='plane' size='5 5 1'/>\n"
        " <body name='torso' pos='0 0 1' childclass='stiff'><freejoint name='root'/>\n"
        "  <geom name='ball' type='sphere' size='0.2' rgba='1 0 0 1'/>\n"
        "  <site name='tip' pos='0 0 0.5'/>\n"
        "  <body name='arm' pos='0.3 0 0' axisangle='0 0 1 90'>\n"
        "   <joint name='elbow' type='hinge' axis='0 1 0' range='-45 90' springref='10'/>\n"
        "   <geom name='limb' class='inner' type='capsule' fromto='0 0 0 0.4 0 0' size='0.05'/>\n"
        "   <body name='slider' pos='0.4 0 0'><joint name='sl' type='slide' axis='1 0 0' range='-0.1 0.1' ref='0.05' damping='7'/>\n"
        "    <inertial pos='0 0 0' mass='1' diaginertia='0.01 0.01 0.01'/><geom type='box' size='0.05 0.05 0.05'/></body>\n"
        "  </body>\n </body>\n</worldbody>\n"
        "<contact><exclude body1='torso' body2='slider'/></contact>\n"
        "<actuator><motor name='m1' joint='elbow' gear='25' ctrlrange='-2 2'/><motor joint='sl' gear='3'/></actuator>\n"
        "</mujoco>\n";
    test_log_capture cap;
    bgpbt_sim_model* m = sim_load(xml, &cap);
    bgpbt_sim_sizes sz;
    bgpbt_sim_options o;
    bgpbt_sim_joint_desc j;
    bgpbt_sim_geom_desc g;
    bgpbt_sim_actuator_desc a;
    bgpbt_sim_body_desc bd;
    float num[4];
    int id;
    if (!m) printf("  %s\n", cap.last);
    REQUIRE(m != NULL);
    sz = bgpbt_sim_model_sizes(m);
    CHECK_EQ_INT(sz.nq, 9);
    CHECK_EQ_INT(sz.nv, 8);
    CHECK_EQ_INT(sz.nu, 2);
    CHECK_EQ_INT(sz.nbody, 4);
    CHECK_EQ_INT(sz.ngeom, 4);
    CHECK_EQ_INT(sz.nsite, 1);
    o = bgpbt_sim_model_options(m);
    CHECK_NEAR(o.timestep, 0.004, 1e-9);
    CHECK_NEAR(o.gravity[2], -5, 1e-9);
    CHECK_EQ_INT(o.iterations, 12);
    CHECK_NEAR(bgpbt_sim_model_total_mass(m), 10, 1e-4);
    id = bgpbt_sim_model_joint_id(m, "elbow");
    REQUIRE(id == 1);
    CHECK_OK(bgpbt_sim_model_joint(m, id, &j));
    CHECK_EQ_INT(j.type, BGPBT_SIM_JOINT_HINGE);
    CHECK_EQ_INT(j.limited, 1); /* autolimits: a range means limited */
    CHECK_NEAR(j.range[0], -0.785398, 1e-5);
    CHECK_NEAR(j.range[1], 1.570796, 1e-5);
    CHECK_NEAR(j.damping, 2, 1e-6);      /* main default */
    CHECK_NEAR(j.armature, 0.1, 1e-6);
    CHECK_NEAR(j.stiffness, 30, 1e-6);   /* childclass */
    CHECK_NEAR(j.springref, 0.174533, 1e-5);
    CHECK_OK(bgpbt_sim_model_joint(m, bgpbt_sim_model_joint_id(m, "sl"), &j));
    CHECK_EQ_INT(j.type, BGPBT_SIM_JOINT_SLIDE);
    CHECK_NEAR(j.damping, 7, 1e-6);
    CHECK_NEAR(j.ref, 0.05, 1e-6);
    CHECK_NEAR(j.range[1], 0.1, 1e-6);   /* not converted: slide */
    CHECK_NEAR(bgpbt_sim_model_qpos0(m)[8], 0.05, 1e-6);
    CHECK_NEAR(bgpbt_sim_model_qpos0(m)[2], 1.0, 1e-6); /* free joint qpos0 = body pose */
    CHECK_EQ_INT(bgpbt_sim_model_joint_qpos_adr(m, 2), 8);
    CHECK_EQ_INT(bgpbt_sim_model_joint_dof_adr(m, 2), 7);
    CHECK_OK(bgpbt_sim_model_geom(m, bgpbt_sim_model_geom_id(m, "limb"), &g));
    CHECK_EQ_INT(g.type, BGPBT_SIM_GEOM_CAPSULE);
    CHECK_EQ_INT(g.contype, 2);          /* nested class */
    CHECK_NEAR(g.friction, 0.7, 1e-6);
    CHECK_NEAR(g.size[1], 0.2, 1e-6);    /* fromto -> half-length */
    CHECK_NEAR(g.pos[0], 0.2, 1e-6);
    CHECK_NEAR(g.quat[0], sqrt(0.5), 1e-5); /* z axis turned onto x: 90 degrees about y */
    CHECK_NEAR(g.quat[2], sqrt(0.5), 1e-5);
    CHECK_OK(bgpbt_sim_model_geom(m, bgpbt_sim_model_geom_id(m, "ball"), &g));
    CHECK_NEAR(g.rgba[1], 0, 1e-9);
    CHECK_NEAR(g.density, 500, 1e-3);
    CHECK_OK(bgpbt_sim_model_body(m, bgpbt_sim_model_body_id(m, "arm"), &bd));
    CHECK_NEAR(bd.quat[0], sqrt(0.5), 1e-5);
    CHECK_NEAR(bd.quat[3], sqrt(0.5), 1e-5);
    CHECK_NEAR(bd.pos[0], 0.3, 1e-6);
    CHECK_OK(bgpbt_sim_model_actuator(m, bgpbt_sim_model_actuator_id(m, "m1"), &a));
    CHECK_NEAR(a.gear, 25, 1e-6);
    CHECK_NEAR(a.ctrlrange[0], -2, 1e-6);
    CHECK_EQ_INT(a.ctrllimited, 1);
    CHECK_OK(bgpbt_sim_model_actuator(m, 1, &a));
    CHECK_EQ_INT(a.ctrllimited, 0);
    CHECK_EQ_INT(bgpbt_sim_model_numeric(m, "init", num, 4), 3);
    CHECK_NEAR(num[2], 3, 1e-9);
    CHECK_EQ_INT(bgpbt_sim_model_numeric(m, "pad", num, 4), 3);
    CHECK_NEAR(num[2], 0, 1e-9);
    CHECK_EQ_INT(bgpbt_sim_model_numeric(m, "nope", num, 4), -1);
    CHECK_EQ_INT(bgpbt_sim_model_site_id(m, "tip"), 0);
    CHECK_EQ_INT(bgpbt_sim_model_body_id(m, "nope"), -1);
    /* contacts: floor vs ball (1), floor vs limb (2), floor vs box (8): limb has contype 2 but
       the floor's conaffinity 1 still admits (floor contype 1 & limb conaffinity 1);
       torso-slider excluded, parent-child pairs filtered */
    CHECK_EQ_INT(sz.ncontact, 1 + 2 + 8);
    bgpbt_sim_model_destroy(m);
}

/* Malformed and hostile input: a clear error, naming the line where one exists. */
static void sim_expect_error(const char* xml, bgpbt_result code, const char* needle) {
    test_log_capture cap;
    bgpbt_sim_model_config mc = bgpbt_sim_model_config_default();
    bgpbt_sim_model* m = NULL;
    bgpbt_result r;
    memset(&cap, 0, sizeof cap);
    mc.logger.fn = test_log_capture_fn;
    mc.logger.user = &cap;
    r = bgpbt_sim_model_from_mjcf(xml, strlen(xml), &mc, &m);
    CHECK_RESULT(r, code);
    if (r != code) printf("  for %.60s: %s\n", xml, cap.last);
    CHECK(m == NULL);
    CHECK(cap.count >= 1);
    if (needle && !strstr(cap.last, needle)) {
        printf("  message '%s' lacks '%s'\n", cap.last, needle);
        CHECK(strstr(cap.last, needle) != NULL);
    }
    bgpbt_sim_model_destroy(m);
}
static void sim_test_mjcf_errors(void) {
    char deep[8192];
    int i, n = 0;
    sim_expect_error("<mujoco><worldbody><body><geom size='0.1'/>", BGPBT_ERR_TRUNCATED, "body>");
    sim_expect_error("<mujoco><worldbody></body></worldbody></mujoco>", BGPBT_ERR_PARSE, "line 1");
    sim_expect_error("<mujoco>\n<worldbody>\n<geom size='1e99'/></worldbody></mujoco>", BGPBT_ERR_OUT_OF_RANGE, "line 3");
    sim_expect_error("<mujoco><worldbody><geom size='nan'/></worldbody></mujoco>", BGPBT_ERR_OUT_OF_RANGE, "size");
    sim_expect_error("<mujoco><worldbody><geom size='0.1 abc'/></worldbody></mujoco>", BGPBT_ERR_PARSE, "size");
    sim_expect_error("<mujoco>\n\n<banana/></mujoco>", BGPBT_ERR_UNSUPPORTED, "line 3");
    sim_expect_error("<mujoco><worldbody><geom size='0.1' color='red'/></worldbody></mujoco>", BGPBT_ERR_UNSUPPORTED, "color");
    sim_expect_error("<mujoco><worldbody><body><joint type='screw'/><geom size='1'/></body></worldbody></mujoco>", BGPBT_ERR_PARSE, "screw");
    sim_expect_error("<mujoco><worldbody><geom type='mesh' size='1'/></worldbody></mujoco>", BGPBT_ERR_UNSUPPORTED, "mesh");
    sim_expect_error("<mujoco>\n<worldbody/>\n<tendon><spatial name='t'/></tendon></mujoco>", BGPBT_ERR_UNSUPPORTED, "line 3");
    sim_expect_error("<mujoco><equality/></mujoco>", BGPBT_ERR_UNSUPPORTED, "equality");
    sim_expect_error("<robot/>", BGPBT_ERR_PARSE, "<mujoco>");
    sim_expect_error("<mujoco><worldbody><geom size='1' size='2'/></worldbody></mujoco>", BGPBT_ERR_PARSE, "repeated");
    sim_expect_error("<mujoco><worldbody><geom size=1/></worldbody></mujoco>", BGPBT_ERR_PARSE, "quoted");
    sim_expect_error("<mujoco><!-- never closed </mujoco>", BGPBT_ERR_PARSE, "comment");
    sim_expect_error("", BGPBT_ERR_PARSE, "root");
    sim_expect_error("<mujoco/><mujoco/>", BGPBT_ERR_PARSE, "root");
    sim_expect_error("<mujoco><actuator><motor joint='nope'/></actuator></mujoco>", BGPBT_ERR_UNKNOWN_NAME, "nope");
    sim_expect_error("<mujoco><actuator><position joint='x'/></actuator></mujoco>", BGPBT_ERR_UNSUPPORTED, "position");
    sim_expect_error("<mujoco><option viscosity='0.1'/></mujoco>", BGPBT_ERR_UNSUPPORTED, "viscosity");
    sim_expect_error("<mujoco><option><wobble/></option></mujoco>", BGPBT_ERR_UNSUPPORTED, "wobble");
    sim_expect_error("<mujoco><worldbody><body><joint range='1 0' limited='true'/><geom size='1'/></body></worldbody></mujoco>", BGPBT_ERR_EMPTY_RANGE, "range");
    sim_expect_error("<mujoco><worldbody><body><joint/></body></worldbody></mujoco>", BGPBT_ERR_OUT_OF_RANGE, "mass");
    sim_expect_error("<mujoco><worldbody><geom class='x' size='1'/></worldbody></mujoco>", BGPBT_ERR_UNKNOWN_NAME, "class");
    n += snprintf(deep + n, sizeof deep - (size_t)n, "<mujoco><worldbody>");
    for (i = 0; i < 100; ++i) n += snprintf(deep + n, sizeof deep - (size_t)n, "<body>");
    sim_expect_error(deep, BGPBT_ERR_LIMIT, "deeper");
    /* fixed tendons: passive ones (the humanoid's) load; a limited or springy one is refused
       with its line */
    {
        const char* base = "<mujoco>\n<worldbody><body><joint name='a'/><joint name='b' axis='1 0 0'/><geom size='0.1'/></body></worldbody>\n<tendon>\n"
                           "<fixed name='t'%s><joint coef='-1' joint='a'/><joint coef='1' joint='b'/></fixed>\n</tendon>\n</mujoco>";
        char x[1024];
        bgpbt_sim_model* m;
        snprintf(x, sizeof x, base, "");
        m = sim_load(x, NULL);
        CHECK(m != NULL);
        bgpbt_sim_model_destroy(m);
        snprintf(x, sizeof x, base, " range='-1 1'");
        sim_expect_error(x, BGPBT_ERR_UNSUPPORTED, "line 4");
        snprintf(x, sizeof x, base, " stiffness='3'");
        sim_expect_error(x, BGPBT_ERR_UNSUPPORTED, "stiffness");
    }
}

/* The four Gymnasium models load with the right sizes and stand/settle without warnings. */
static void sim_test_gym_models(void) {
    static const char* const files[4] = {"ant.xml", "half_cheetah.xml", "hopper.xml", "humanoid.xml"};
    static const int nq[4] = {15, 9, 6, 24}, nv[4] = {14, 9, 6, 23}, nu[4] = {8, 6, 3, 17}, fs[4] = {5, 5, 4, 5};
    int f, i, e;
    for (f = 0; f < 4; ++f) {
        bgpbt_sim_model* m = sim_load_file(files[f]);
        bgpbt_sim_config c = bgpbt_sim_config_default();
        bgpbt_sim* s = NULL;
        bgpbt_sim_sizes sz;
        bgpbt_rng rng;
        float u[17], p[3] = {0, 0, 0};
        int steps = test_is_fast() ? 50 : f == 3 ? 600 : 3000; /* slow build: 3000 env steps = 60 s of sim time */
        REQUIRE(m != NULL);
        sz = bgpbt_sim_model_sizes(m);
        CHECK_EQ_INT(sz.nq, nq[f]);
        CHECK_EQ_INT(sz.nv, nv[f]);
        CHECK_EQ_INT(sz.nu, nu[f]);
        c.num_envs = 8;
        c.frame_skip = fs[f];
        CHECK_OK(bgpbt_sim_create(m, &c, &s));
        bgpbt_rng_init(&rng, 7, (uint64_t)f);
        for (i = 0; i < steps; ++i) {
            for (e = 0; e < c.num_envs; ++e) {
                int k;
                for (k = 0; k < sz.nu; ++k) u[k] = (float)bgpbt_rng_uniform(&rng, -1, 1);
                bgpbt_sim_set_ctrl(s, e, u);
            }
            bgpbt_sim_step(s);
            if (i % 500 == 499) /* new episodes from qpos0, as a task resets */
                for (e = 0; e < c.num_envs; ++e) bgpbt_sim_reset_env(s, e, NULL, NULL);
        }
        CHECK_EQ_INT(bgpbt_sim_warnings(s), 0);
        for (e = 0; e < c.num_envs; ++e) {
            float v[23];
            int k;
            bgpbt_sim_get_qvel(s, e, v);
            for (k = 0; k < sz.nv; ++k) CHECK(fabsf(v[k]) < 100.0f); /* no explosion */
        }
        for (e = 0; e < c.num_envs; ++e) {
            bgpbt_sim_body_pos(s, e, 1, p);
            CHECK(p[2] > -0.05f && p[2] < 3.0f); /* never through the floor, never launched */
        }
        bgpbt_sim_destroy(s);
        bgpbt_sim_model_destroy(m);
    }
}

/* Batched stepping equals stepping each env alone, bit for bit, and does not depend on the
   thread count. */
static void sim_run_ant(const bgpbt_sim_model* m, int nenv, int first_env, int steps, float* out /* nenv * nq */) {
    bgpbt_sim_config c = bgpbt_sim_config_default();
    bgpbt_sim* s = NULL;
    int i, e, k;
    c.num_envs = nenv;
    c.frame_skip = 5;
    if (bgpbt_sim_create(m, &c, &s) != BGPBT_OK) return;
    for (i = 0; i < steps; ++i) {
        for (e = 0; e < nenv; ++e) {
            float u[8];
            for (k = 0; k < 8; ++k) u[k] = (float)sin(0.37 * (e + first_env) + 1.3 * k + 0.21 * i);
            bgpbt_sim_set_ctrl(s, e, u);
        }
        bgpbt_sim_step(s);
    }
    for (e = 0; e < nenv; ++e) bgpbt_sim_get_qpos(s, e, out + (size_t)e * 15);
    bgpbt_sim_destroy(s);
}
static void sim_test_batched_equals_single(void) {
    bgpbt_sim_model* m = sim_load_file("ant.xml");
    float batch[37 * 15], one[15];
    int e, steps = test_is_fast() ? 10 : 60, same = 1;
    REQUIRE(m != NULL);
    sim_run_ant(m, 37, 0, steps, batch);
    for (e = 0; e < 37; e += 5) {
        sim_run_ant(m, 1, e, steps, one);
        if (memcmp(one, batch + (size_t)e * 15, sizeof one) != 0) same = 0;
    }
    CHECK(same);
    bgpbt_sim_model_destroy(m);
}
static void sim_test_thread_determinism(void) {
#if BGPBT__HAS_OPENMP
    bgpbt_sim_model* m = sim_load_file("ant.xml");
    float a[37 * 15], b[37 * 15];
    int steps = test_is_fast() ? 10 : 60, nt = omp_get_max_threads();
    REQUIRE(m != NULL);
    omp_set_num_threads(1);
    sim_run_ant(m, 37, 0, steps, a);
    omp_set_num_threads(2);
    sim_run_ant(m, 37, 0, steps, b);
    omp_set_num_threads(nt);
    CHECK(memcmp(a, b, sizeof a) == 0);
    bgpbt_sim_model_destroy(m);
#endif
}

/* An absurd state is caught, counted, reset to qpos0 and flagged, and the other envs go on as
   if alone. Non-finite input is refused and changes nothing. */
static void sim_test_bad_state(void) {
    bgpbt_sim_model* m = sim_load_file("hopper.xml");
    bgpbt_sim_config c = bgpbt_sim_config_default();
    bgpbt_sim* s = NULL;
    bgpbt_sim* alone = NULL;
    float v[6] = {0, 0, 0, 0, 0, 0}, q[6], qa[6], nanv[6];
    int k;
    REQUIRE(m != NULL);
    c.num_envs = 3;
    CHECK_OK(bgpbt_sim_create(m, &c, &s));
    c.num_envs = 1;
    CHECK_OK(bgpbt_sim_create(m, &c, &alone));
    v[3] = 3e4f; /* absurd joint speed in env 1 */
    CHECK_OK(bgpbt_sim_set_qvel(s, 1, v));
    memset(nanv, 0, sizeof nanv);
    nanv[2] = NAN;
    CHECK_RESULT(bgpbt_sim_set_qvel(s, 0, nanv), BGPBT_ERR_NOT_FINITE);
    CHECK_RESULT(bgpbt_sim_set_qpos(s, 0, nanv), BGPBT_ERR_NOT_FINITE);
    for (k = 0; k < 20; ++k) {
        bgpbt_sim_step(s);
        bgpbt_sim_step(alone);
    }
    CHECK_EQ_INT(bgpbt_sim_env_flagged(s, 1), 1);
    CHECK_EQ_INT(bgpbt_sim_env_flagged(s, 0), 0);
    CHECK(bgpbt_sim_warnings(s) >= 1);
    bgpbt_sim_get_qpos(s, 2, q);
    bgpbt_sim_get_qpos(alone, 0, qa);
    CHECK(memcmp(q, qa, sizeof q) == 0);
    bgpbt_sim_get_qpos(s, 1, q);
    for (k = 0; k < 6; ++k) CHECK(q[k] == q[k]); /* finite again */
    CHECK_OK(bgpbt_sim_reset_env(s, 1, NULL, NULL));
    CHECK_EQ_INT(bgpbt_sim_env_flagged(s, 1), 0);
    bgpbt_sim_destroy(s);
    bgpbt_sim_destroy(alone);
    bgpbt_sim_model_destroy(m);
}

/* Observables: contact force balances the weight at rest; com and body velocity agree with
   finite differences of positions. */
static void sim_test_observables(void) {
    bgpbt_sim_model* m = sim_load("<mujoco><option timestep='0.005'/><worldbody><geom type='plane' size='5 5 1'/>"
                                  "<body pos='0 0 0.2'><freejoint/><geom type='box' size='0.1 0.1 0.1' mass='2'/></body>"
                                  "<body pos='1 0 2'><freejoint/><geom type='sphere' size='0.1'/></body></worldbody></mujoco>", NULL);
    bgpbt_sim* s = NULL;
    float f[3], t[3], p0[3], p1[3], lin[3], ang[3], com[3], cv[3];
    float v[12] = {1, 0.5, 2, 0.3, -0.2, 0.1, 0, 0, 0, 0, 0, 0};
    int i;
    REQUIRE(m != NULL);
    CHECK_OK(bgpbt_sim_create(m, NULL, &s));
    for (i = 0; i < 400; ++i) bgpbt_sim_step(s);
    bgpbt_sim_body_contact(s, 0, 1, f, t);
    CHECK_NEAR(f[2], 2 * 9.81, 0.02);
    CHECK_NEAR(f[0], 0, 1e-3);
    CHECK(fabs(t[0]) + fabs(t[1]) + fabs(t[2]) < 1e-3);
    bgpbt_sim_body_contact(s, 0, 2, f, t);
    CHECK_NEAR(f[2], 1000 * 4.0 / 3.0 * 3.14159265 * 0.001 * 9.81, 0.05); /* the sphere landed and rests */
    /* velocity of the com by finite differences (ballistic sphere: contact-free for 0.1 s) */
    CHECK_OK(bgpbt_sim_reset_env(s, 0, NULL, NULL));
    bgpbt_sim_set_qvel(s, 0, v); /* qvel of the box's free joint (the first 6 dofs) */
    bgpbt_sim_body_com(s, 0, 2, p0);
    bgpbt_sim_body_vel(s, 0, 1, lin, ang);
    CHECK_NEAR(lin[0], 1, 1e-6);
    CHECK_NEAR(ang[0], 0.3, 1e-6); /* identity orientation: body frame = world frame */
    bgpbt_sim_com(s, 0, com, cv);
    CHECK(com[2] > 0.2f && com[2] < 2.0f);
    bgpbt_sim_step(s);
    bgpbt_sim_body_com(s, 0, 2, p1);
    bgpbt_sim_body_vel(s, 0, 2, lin, ang);
    CHECK_NEAR((p1[2] - p0[2]) / 0.005, lin[2], 1e-3);
    bgpbt_sim_destroy(s);
    bgpbt_sim_model_destroy(m);
}

/* Builder and creation errors leave nothing behind; allocation failures are clean. */
static void sim_test_errors_and_oom(void) {
    bgpbt_sim_builder* b = NULL;
    bgpbt_sim_body_desc bd = bgpbt_sim_body_desc_default();
    bgpbt_sim_joint_desc jd = bgpbt_sim_joint_desc_default();
    bgpbt_sim_model* m = NULL;
    bgpbt_sim_config c = bgpbt_sim_config_default();
    bgpbt_sim* s = NULL;
    test_failing_alloc fa;
    long k;
    int id;
    CHECK_OK(bgpbt_sim_builder_create(NULL, &b));
    bd.parent = 5;
    CHECK_RESULT(bgpbt_sim_builder_add_body(b, &bd, &id), BGPBT_ERR_OUT_OF_RANGE);
    bd.parent = 0;
    bd.pos[0] = NAN;
    CHECK_RESULT(bgpbt_sim_builder_add_body(b, &bd, &id), BGPBT_ERR_NOT_FINITE);
    bd.pos[0] = 0;
    bd.mass = 1;
    bd.inertia[0] = 1; bd.inertia[1] = 1; bd.inertia[2] = 5; /* violates the triangle inequality */
    CHECK_RESULT(bgpbt_sim_builder_add_body(b, &bd, &id), BGPBT_ERR_OUT_OF_RANGE);
    bd.inertia[2] = 1;
    CHECK_OK(bgpbt_sim_builder_add_body(b, &bd, &id));
    jd.body = id;
    jd.type = BGPBT_SIM_JOINT_FREE;
    CHECK_OK(bgpbt_sim_builder_add_joint(b, &jd, NULL));
    jd.type = BGPBT_SIM_JOINT_HINGE;
    CHECK_RESULT(bgpbt_sim_builder_add_joint(b, &jd, NULL), BGPBT_ERR_UNSUPPORTED); /* free must be alone */
    CHECK_OK(bgpbt_sim_builder_finish(b, &m));
    c.num_envs = -3;
    CHECK_RESULT(bgpbt_sim_create(m, &c, &s), BGPBT_ERR_OUT_OF_RANGE);
    CHECK(s == NULL);
    bgpbt_sim_model_destroy(m);
    bgpbt_sim_builder_destroy(b);
    /* every allocation of loading and creating fails once: OUT_OF_MEMORY, nothing leaked */
    for (k = 1; k < 200; ++k) {
        bgpbt_sim_model_config mc = bgpbt_sim_model_config_default();
        const char* xml = "<mujoco><worldbody><geom type='plane' size='1 1 1'/><body name='b' pos='0 0 1'><freejoint/><geom size='0.1'/>"
                          "<body name='c'><joint name='j'/><geom type='capsule' fromto='0 0 0 0 0 -1' size='0.05'/></body></body></worldbody>"
                          "<custom><numeric name='n' data='1'/></custom><actuator><motor joint='j'/></actuator></mujoco>";
        bgpbt_result r;
        mc.allocator = test_failing_allocator(&fa, k);
        m = NULL;
        s = NULL;
        r = bgpbt_sim_model_from_mjcf(xml, strlen(xml), &mc, &m);
        if (r == BGPBT_OK) {
            c = bgpbt_sim_config_default();
            c.allocator = mc.allocator;
            c.num_envs = 20;
            r = bgpbt_sim_create(m, &c, &s);
            if (r == BGPBT_OK) {
                bgpbt_sim_step(s);
                bgpbt_sim_destroy(s);
            } else {
                CHECK_RESULT(r, BGPBT_ERR_OUT_OF_MEMORY);
            }
            bgpbt_sim_model_destroy(m);
        } else {
            CHECK_RESULT(r, BGPBT_ERR_OUT_OF_MEMORY);
            CHECK(m == NULL);
        }
        CHECK_EQ_INT(fa.live_blocks, 0);
        if (fa.count < k) break; /* no allocation failed: all paths covered */
    }
}

void suite_sim(void) {
    RUN(sim_test_pendulum_period_energy);
    RUN(sim_test_double_pendulum_rk4);
    RUN(sim_test_free_body_tennis_racket);
    RUN(sim_test_free_body_stable_axis);
    RUN(sim_test_collision_momentum);
    RUN(sim_test_resting_heights);
    RUN(sim_test_box_box);
    RUN(sim_test_incline_stick_slide);
    RUN(sim_test_limits_and_ctrlrange);
    RUN(sim_test_mjcf_parse);
    RUN(sim_test_mjcf_errors);
    RUN(sim_test_gym_models);
    RUN(sim_test_batched_equals_single);
    RUN(sim_test_thread_determinism);
    RUN(sim_test_bad_state);
    RUN(sim_test_observables);
    RUN(sim_test_errors_and_oom);
}
