/* Scale-out figures for examples/mpi_population.c (no MPI needed to measure them):

   mpi.blob_bytes.<task>             an agent blob (bgpbt_agent_save) with the paper's networks
                                     (policy 4x32, value 5x256), default agent config
   mpi.sched_ms.<method>.B<n>        the scheduler's time per interval (ask + tells: GP fit and
                                     suggestions for BG-PBT/PB2), the real scheduler with the
                                     paper's defaults driven by synthetic returns, mean of the
                                     training intervals of a 30-round run
   mpi.exploits.B<n>                 agents cloned per training interval (measured, same runs)
   mpi.bytes_per_interval.B<n>       bytes through rank 0 per training interval for halfcheetah
                                     agents: every trained agent up (B blobs, for the checkpoint),
                                     every clone down (worst case: parent on another rank), and
                                     the job descriptors
   mpi.ppo_steps_per_s.halfcheetah.T1  PPO training throughput of one agent on one core (env
                                     steps incl. rollouts, GAE and the update epochs; default
                                     networks and hyperparameters, num_minibatches 4 instead of 32
                                     to keep a round short: the cost per env step is the same)
   mpi.paper.*                       the paper-scale run (B = 8, 150M steps per agent, defaults):
                                     rounds, env steps in total (distillation included), and a
                                     wall-time model on P cores (see paper_model)
   Everything runs on one thread and is timed in process CPU time (the machine is shared). */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#  include <omp.h>
#endif

static const char* filter = "";
/* the name is wanted, or is a prefix of the filter (a group that holds wanted names) */
static int wanted(const char* name) { return strncmp(name, filter, strlen(filter)) == 0 || strncmp(filter, name, strlen(name)) == 0; }
static void report(const char* name, double value, const char* unit) {
    if (strncmp(name, filter, strlen(filter)) == 0) printf("%s %.4g %s\n", name, value, unit);
}

/* process CPU time: the machine is shared, and everything timed here runs on one thread */
static double cpu_seconds(void) { return (double)clock() / CLOCKS_PER_SEC; }

static size_t blob_bytes(const char* task) {
    bgpbt_agent_config c = bgpbt_agent_config_default();
    bgpbt_agent* a = NULL;
    size_t sz = 0;
    c.task = task;
    if (bgpbt_agent_create(&c, &a) != BGPBT_OK) return 0;
    bgpbt_agent_save(a, NULL, 0, &sz);
    bgpbt_agent_destroy(a);
    return sz;
}

/* the real scheduler on synthetic returns: improvement per interval peaks at an interior point
   of the encoded hyperparameter cube, plus noise */
static void sched_run(int method, int B, size_t blob, int rounds) {
    bgpbt_pbt_config c = bgpbt_pbt_config_default();
    bgpbt_pbt* s = NULL;
    static double ret_of[1 << 16];
    bgpbt_rng rng;
    const bgpbt_pbt_round* rd;
    double t_train = 0, exploits = 0, bytes = 0;
    int n_train = 0, r, j, k;
    char nm[96];
    c.method = method;
    c.pop_size = B;
    c.n_init = 3 * B;           /* the paper's 24 for B = 8 */
    c.n_arch_candidates = 3 * B > 160 ? 2 * B : 3 * B; /* the candidate cap is 256 with the archive */
    c.logger.fn = bgpbt_log_stderr;
    c.seed = 7;
    if (bgpbt_pbt_create(&c, &s) != BGPBT_OK) return;
    c = *bgpbt_pbt_get_config(s);
    bgpbt_rng_init(&rng, 11, 0);
    for (r = 0; r < rounds; ++r) {
        double t0 = cpu_seconds(), dt;
        int n_copy = 0;
        if (bgpbt_pbt_ask(s, &rd) != BGPBT_OK || rd->n_jobs == 0) break;
        dt = cpu_seconds() - t0;
        for (j = 0; j < rd->n_jobs; ++j) {
            const bgpbt_pbt_job* jb = &rd->jobs[j];
            double before = jb->parent >= 0 && jb->parent < (1 << 16) ? ret_of[jb->parent] : 0, g = 0;
            for (k = 0; k < c.n_hp; ++k) {
                double u = bgpbt_pbt_param_encode(&c.hp[k], jb->hp[k]) - 0.3;
                g -= u * u;
            }
            if (jb->parent >= 0 && jb->parent != jb->agent) n_copy++;
            if (jb->agent < (1 << 16)) ret_of[jb->agent] = before + 10 * (1 + g) + bgpbt_rng_normal(&rng);
            t0 = cpu_seconds();
            bgpbt_pbt_tell(s, j, ret_of[jb->agent & 0xFFFF], jb->steps, 0);
            dt += cpu_seconds() - t0;
        }
        if (rd->kind == BGPBT_PBT_ROUND_TRAIN && rd->index > 1) {
            t_train += dt;
            n_train++;
            exploits += n_copy;
            bytes += (double)(rd->n_jobs + n_copy) * (double)blob + (double)rd->n_jobs * (sizeof(bgpbt_pbt_job) + 64);
        }
    }
    if (n_train > 0) {
        snprintf(nm, sizeof nm, "mpi.sched_ms.%s.B%d", bgpbt_pbt_method_name(method), B);
        report(nm, 1e3 * t_train / n_train, "ms/interval");
        if (method == BGPBT_PBT_METHOD_BGPBT) {
            snprintf(nm, sizeof nm, "mpi.exploits.B%d", B);
            report(nm, exploits / n_train, "clones/interval");
            snprintf(nm, sizeof nm, "mpi.bytes_per_interval.B%d", B);
            report(nm, bytes / n_train, "bytes");
        }
    }
    bgpbt_pbt_destroy(s);
}

/* The paper-scale experiment (B = 8, 150M env steps per agent, t_ready 1M, generations and
   distillation with the defaults) on P cores, one agent per core: the real scheduler's round
   structure (synthetic returns), each round lasting ceil(jobs / P) x steps / rate, plus the
   measured scheduler time, the blobs through rank 0 over a 10 Gb/s link (1.25e9 B/s) and a
   checkpoint write at 1 GB/s. */
static void paper_model(double rate, size_t blob) {
    enum { MAXR = 2000 };
    static int jobs[MAXR];
    static long long steps[MAXR];
    static double sched[MAXR];
    static double ret_of[1 << 16];
    static const int Ps[] = {1, 8, 16, 32, 64};
    bgpbt_pbt_config c = bgpbt_pbt_config_default();
    bgpbt_pbt* s = NULL;
    const bgpbt_pbt_round* rd;
    bgpbt_rng rng;
    int n = 0, j, k, i, n_distill = 0, widest = 0;
    char nm[96];
    c.seed = 7;
    if (bgpbt_pbt_create(&c, &s) != BGPBT_OK) return;
    c = *bgpbt_pbt_get_config(s);
    bgpbt_rng_init(&rng, 13, 0);
    while (n < MAXR) {
        double t0 = cpu_seconds();
        if (bgpbt_pbt_ask(s, &rd) != BGPBT_OK || rd->n_jobs == 0) break;
        jobs[n] = rd->n_jobs;
        steps[n] = 0;
        for (j = 0; j < rd->n_jobs; ++j) {
            const bgpbt_pbt_job* jb = &rd->jobs[j];
            double before = jb->parent >= 0 ? ret_of[jb->parent & 0xFFFF] : 0, g = 0;
            for (k = 0; k < c.n_hp; ++k) {
                double u = bgpbt_pbt_param_encode(&c.hp[k], jb->hp[k]) - 0.3;
                g -= u * u;
            }
            ret_of[jb->agent & 0xFFFF] = before + 10 * (1 + g) + bgpbt_rng_normal(&rng);
            if (jb->steps > steps[n]) steps[n] = jb->steps;
            bgpbt_pbt_tell(s, j, ret_of[jb->agent & 0xFFFF], jb->steps, 0);
        }
        sched[n] = cpu_seconds() - t0;
        n_distill += rd->kind == BGPBT_PBT_ROUND_DISTILL;
        if (rd->n_jobs > widest) widest = rd->n_jobs;
        n++;
    }
    report("mpi.paper.rounds", n, "rounds");
    report("mpi.paper.distill_rounds", n_distill, "rounds");
    report("mpi.paper.widest_round", widest, "jobs");
    report("mpi.paper.total_env_steps", (double)bgpbt_pbt_total_steps(s), "env_steps");
    for (i = 0; i < (int)(sizeof Ps / sizeof Ps[0]); ++i) {
        double t = 0;
        for (k = 0; k < n; ++k) {
            double waves = (double)((jobs[k] + Ps[i] - 1) / Ps[i]);
            double bytes = 2.0 * jobs[k] * (double)blob; /* worst case: every job's state in and out */
            t += waves * (double)steps[k] / rate + sched[k] + (Ps[i] > 1 ? bytes / 1.25e9 : 0) + jobs[k] * (double)blob / 1e9;
        }
        snprintf(nm, sizeof nm, "mpi.paper.hours.P%d", Ps[i]);
        report(nm, t / 3600, "hours");
    }
    bgpbt_pbt_destroy(s);
}

static double g_rate = 9e3;
static void ppo_rate(int threads) {
    bgpbt_agent_config c = bgpbt_agent_config_default();
    bgpbt_agent* a = NULL;
    bgpbt_agent_stats st0, st1;
    double t0, best = 0;
    int rep;
    char nm[96];
    c.task = "halfcheetah";
    c.hparams.num_minibatches = 4;
    c.env_threads = threads;
#ifdef _OPENMP
    omp_set_num_threads(threads); /* the update's GEMMs and element-wise passes */
#endif
    if (bgpbt_agent_create(&c, &a) != BGPBT_OK) return;
    bgpbt_agent_train(a, 1); /* warm-up round */
    for (rep = 0; rep < 2; ++rep) {
        bgpbt_agent_get_stats(a, &st0);
        t0 = cpu_seconds();
        bgpbt_agent_train(a, 1);
        bgpbt_agent_get_stats(a, &st1);
        t0 = (double)(st1.env_steps - st0.env_steps) / (cpu_seconds() - t0);
        if (t0 > best) best = t0;
    }
    g_rate = best;
    snprintf(nm, sizeof nm, "mpi.ppo_steps_per_s.halfcheetah.T%d", threads);
    (void)nm;
    report(nm, best, "env_steps/s");
    bgpbt_agent_destroy(a);
}

int main(int argc, char** argv) {
    static const char* tasks[] = {"halfcheetah", "ant", "humanoid"};
    static const int Bs[] = {8, 24, 64};
    size_t hc = blob_bytes("halfcheetah");
    int i;
    char nm[96];
    if (argc > 1) filter = argv[1];
    if (!wanted("mpi")) return 0;
    for (i = 0; i < 3; ++i) {
        snprintf(nm, sizeof nm, "mpi.blob_bytes.%s", tasks[i]);
        if (wanted(nm)) report(nm, (double)blob_bytes(tasks[i]), "bytes");
    }
    for (i = 0; i < 3; ++i) {
        snprintf(nm, sizeof nm, "mpi.sched_ms.bgpbt.B%d", Bs[i]);
        if (wanted(nm) || wanted("mpi.exploits") || wanted("mpi.bytes")) sched_run(BGPBT_PBT_METHOD_BGPBT, Bs[i], hc, 30);
        snprintf(nm, sizeof nm, "mpi.sched_ms.pb2.B%d", Bs[i]);
        if (wanted(nm)) sched_run(BGPBT_PBT_METHOD_PB2, Bs[i], hc, 30);
        snprintf(nm, sizeof nm, "mpi.sched_ms.pbt.B%d", Bs[i]);
        if (wanted(nm)) sched_run(BGPBT_PBT_METHOD_PBT, Bs[i], hc, 30);
    }
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    if (wanted("mpi.ppo_steps_per_s") || wanted("mpi.paper")) ppo_rate(1);
    if (wanted("mpi.paper")) paper_model(g_rate, hc);
    return 0;
}
