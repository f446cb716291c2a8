/* examples/mpi_population.c - the BG-PBT population (or PB2, PBT, random search) across processes
   and machines with MPI: rank 0 runs the scheduler, every rank (rank 0 included) trains a share
   of the agents each interval.

   mpicc -O2 -march=native -fopenmp -std=c99 examples/mpi_population.c -o mpi_population -lm

   One machine:     mpirun -np 2 ./mpi_population --task halfcheetah --out mpi_out/
   Several:         mpirun --hostfile hosts -np 4 --map-by ppr:1:node --bind-to none \
                        -x OMP_NUM_THREADS=16 ./mpi_population --task halfcheetah --out /shared/run1/
                    (hosts: one line per machine, e.g. "node1 slots=1"; the --out directory is
                    only written by rank 0. Every machine runs the same binary: build once with
                    one -march, since bit-identical results need the same code path everywhere.)
   Needs OpenMPI (Debian/Ubuntu: sudo apt-get install libopenmpi-dev openmpi-bin).

   HOW IT WORKS (the ask/tell interface of bgpbt.h; the header itself knows nothing of MPI)
   Per round, rank 0 asks the scheduler for the jobs and places them: an agent that continues
   stays on the rank that holds it; a copy (PBT exploit) goes to the rank that holds its parent
   when that rank has room, else to the least loaded rank; at most ceil(jobs / ranks) per rank.
   Each rank gets one message: its jobs, the ids it may drop, and the serialised agents it does
   not hold (the parent of a copy, a distillation teacher, or an agent after a resume). Agents
   therefore move between ranks only as blobs, and only when needed. Every rank builds its
   copies first, drops what it was told to drop, trains its jobs (OpenMP over its agents), and
   sends back per job: result code, return, env steps run and the agent's blob. Rank 0 tells
   the scheduler in job order, keeps the blobs (so it holds the state of the whole population
   at every round's end), writes the CSV log and a checkpoint in bgpbt_pbt_run's own format.
   Training uses the runner's own operations (bgpbt_pbt_ppo_ops_create), so the result is bit
   for bit the single-process runner's, whatever the number of ranks (tests/check_mpi.sh).

   FAILURES. Rank 0 waits for each round's messages with a deadline (--timeout). A rank that
   has not answered by then (hung, or dead without taking the job down) is reported with its
   agents' last results, on stderr and in PREFIXranks.txt ("ABORTED ..."), and the job is
   aborted (MPI_Abort, exit status 3): the checkpoint of the last complete round is intact.
   When a process dies, OpenMPI's mpirun normally kills the whole job at once (its "mpirun
   noticed that process rank N ... exited on signal" message), before rank 0 can speak; for
   that case rank 0 writes PREFIXranks.txt at the start of every round (which rank trains
   which agent, with their last returns). With `mpirun --enable-recovery` rank 0 outlives a
   dead rank and reports it after the deadline (OpenMPI 4.1 then exits with status 0 after
   MPI_Abort: look for ABORTED in ranks.txt; the last line is FINISHED/STOPPED on success).
   Either way, continue with --resume on any number of ranks: the checkpoint holds the
   scheduler and every agent, and the continued run is bit-identical to one never
   interrupted. MPI itself offers no way to go on without the lost rank (that is ULFM's
   MPIX_Comm_shrink, not in Debian's OpenMPI build).

   Options (all optional; the same on every rank):
     --task NAME      a built-in task (default inverted_double_pendulum) or "point" (a user
                      environment defined in this file)
     --method M       bgpbt (default), pb2, pbt, random
     --steps N        env steps per agent (default 800000); --total N whole-run budget
     --pop B          population size (default 8); --seed S (default 1)
     --intervals K    intervals per agent (t_ready = steps / K; default 20)
     --num-envs N, --eval-episodes N   per agent (default 32, 16)
     --default-net    no architecture search: every agent has the paper's networks
                      (policy 4x32, value 5x256)
     --paper          the paper's experiment: every scheduler and PPO setting at the library's
                      defaults (150M env steps per agent, t_ready 1M, n_init 24, generations,
                      distillation budget 30M, Brax PPO hyperparameters); only --task,
                      --method, --pop and --seed still apply
     --out PREFIX     output prefix (default "mpi_out/"): log.csv, checkpoint.bgpbt (and .prev),
                      best.agent, ranks.txt, *.svg
     --resume         continue from PREFIXcheckpoint.bgpbt (any number of ranks)
     --max-rounds N   stop after N rounds of this call (after the checkpoint)
     --timeout SEC    deadline for a round's messages on rank 0 (default 3600)
     --runner         run the built-in single-process runner bgpbt_pbt_run instead (reference)
     --dump FILE      print a checkpoint's scheduler and agents as CRC-32s (sorted by id)
     --fault-rank R --fault-round K --fault-kind kill|hang   testing: rank R dies (SIGKILL)
                      or hangs after training its jobs of round K, before it reports
     --quiet          no progress lines */
#define _POSIX_C_SOURCE 200809L
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#ifdef _OPENMP
#  include <omp.h>
#endif

#define TAG_WORK 11
#define TAG_RESULT 12
#define MAX_HELD (4 * BGPBT_PBT_MAX_POP + 16)

static int g_rank, g_nranks;

static void die(const char* what) {
    fprintf(stderr, "mpi_population (rank %d): %s\n", g_rank, what);
    MPI_Abort(MPI_COMM_WORLD, 2);
    exit(2);
}

/* ---- a growable byte buffer for messages --------------------------------------------------- */
typedef struct buf { unsigned char* p; size_t n, cap, rd; } buf;
static void put(buf* b, const void* d, size_t n) {
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        unsigned char* q;
        while (c < b->n + n) c *= 2;
        q = (unsigned char*)realloc(b->p, c);
        if (!q) die("out of memory");
        b->p = q;
        b->cap = c;
    }
    if (n && d) memcpy(b->p + b->n, d, n); /* d NULL: reserve only */
    b->n += n;
}
static void get(buf* b, void* d, size_t n) {
    if (b->rd + n > b->n) die("malformed message");
    memcpy(d, b->p + b->rd, n);
    b->rd += n;
}
static void put_i(buf* b, int v) { put(b, &v, sizeof v); }
static int get_i(buf* b) { int v; get(b, &v, sizeof v); return v; }
static void buf_free(buf* b) { free(b->p); memset(b, 0, sizeof *b); }

/* ---- "point": a user environment (as in examples/bgpbt_main.c) ------------------------------ */
typedef struct point_state { float x, v, goal; } point_state;
static void point_reset(void* st, bgpbt_rng* rng, float* obs, void* user) {
    point_state* s = (point_state*)st;
    (void)user;
    s->x = (float)bgpbt_rng_uniform(rng, -1, 1);
    s->v = 0;
    s->goal = (float)bgpbt_rng_uniform(rng, -1, 1);
    obs[0] = s->x; obs[1] = s->v; obs[2] = s->goal;
}
static void point_step(void* st, const float* a, bgpbt_rng* rng, float* obs, float* reward, int* terminated, void* user) {
    point_state* s = (point_state*)st;
    (void)user; (void)rng;
    s->v = 0.9f * s->v + 0.1f * a[0];
    s->x += 0.1f * s->v;
    *reward = -(float)fabs(s->x - s->goal) - 0.01f * a[0] * a[0];
    *terminated = 0;
    obs[0] = s->x; obs[1] = s->v; obs[2] = s->goal;
}

/* ---- options and the configuration (identical on every rank) -------------------------------- */
typedef struct options {
    const char *task, *method, *out, *dump, *fault_kind;
    long long steps, total;
    int pop, intervals, num_envs, eval_episodes, default_net, paper, resume, max_rounds, runner, quiet;
    int fault_rank, fault_round;
    double timeout;
    uint64_t seed;
} options;

static bgpbt_env_def g_point;

static void build_config(const options* o, bgpbt_pbt_run_config* rc) {
    bgpbt_pbt_config* c = &rc->pbt;
    *rc = bgpbt_pbt_run_config_default();
    c->method = !strcmp(o->method, "pb2") ? BGPBT_PBT_METHOD_PB2 : !strcmp(o->method, "pbt") ? BGPBT_PBT_METHOD_PBT
              : !strcmp(o->method, "random") ? BGPBT_PBT_METHOD_RANDOM : BGPBT_PBT_METHOD_BGPBT;
    c->pop_size = o->pop;
    c->seed = o->seed;
    c->n_init = 2 * o->pop;
    c->n_arch_candidates = 2 * o->pop;
    c->t_ready = o->steps / o->intervals;
    c->max_steps = o->steps;
    c->max_total_steps = o->total;
    c->patience = 5;
    c->distill_every = o->steps / 3;
    c->distill_budget = o->steps / 5;
    c->n_hp = 9;
    c->hp[0] = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, 1e-4, 3e-3, 1);
    c->hp[1] = bgpbt_pbt_param_make("gamma", BGPBT_PBT_FLOAT, 0.9, 0.9999, 1);
    c->hp[2] = bgpbt_pbt_param_make("entropy_cost", BGPBT_PBT_FLOAT, 1e-6, 1e-2, 1);
    c->hp[3] = bgpbt_pbt_param_make("unroll_length", BGPBT_PBT_INT, 5, 15, 0);
    c->hp[4] = bgpbt_pbt_param_make("log2_batch_size", BGPBT_PBT_INT, 3, 6, 0);
    c->hp[5] = bgpbt_pbt_param_make("num_update_epochs", BGPBT_PBT_INT, 2, 8, 1);
    c->hp[6] = bgpbt_pbt_param_make("reward_scaling", BGPBT_PBT_FLOAT, 0.1, 10, 1);
    c->hp[7] = bgpbt_pbt_param_make("gae_lambda", BGPBT_PBT_FLOAT, 0.9, 1.0, 0);
    c->hp[8] = bgpbt_pbt_param_make("clip_epsilon", BGPBT_PBT_FLOAT, 0.1, 0.4, 0);
    if (o->default_net) {
        c->n_arch = -1;   /* agents keep rc->agent.arch: the paper's 4x32 / 5x256 */
        c->hpo_only = 1;
    } else {
        c->n_arch = 4;
        c->arch[0] = bgpbt_pbt_param_make("policy_layers", BGPBT_PBT_INT, 1, 4, 0);
        c->arch[1] = bgpbt_pbt_param_make("policy_log2_width", BGPBT_PBT_INT, 4, 7, 0);
        c->arch[2] = bgpbt_pbt_param_make("value_layers", BGPBT_PBT_INT, 1, 4, 0);
        c->arch[3] = bgpbt_pbt_param_make("value_log2_width", BGPBT_PBT_INT, 4, 7, 0);
        c->default_arch[0] = 2; c->default_arch[1] = 5; c->default_arch[2] = 2; c->default_arch[3] = 6;
    }
    if (o->paper) { /* the paper's experiment: every scheduler and PPO constant at its default */
        bgpbt_pbt_config d = bgpbt_pbt_config_default();
        d.method = c->method;
        d.pop_size = o->pop;
        d.seed = o->seed;
        *c = d;
        rc->agent = bgpbt_agent_config_default();
    }
    c->logger.fn = bgpbt_log_stderr;
    if (!strcmp(o->task, "point")) {
        g_point.name = "point";
        g_point.obs_dim = 3;
        g_point.act_dim = 1;
        g_point.max_episode_steps = 100;
        g_point.state_bytes = sizeof(point_state);
        g_point.reset = point_reset;
        g_point.step = point_step;
        rc->agent.env_def = &g_point;
    } else {
        rc->agent.task = o->task;
    }
    if (!o->paper) {
        rc->agent.num_envs = o->num_envs;
        rc->agent.eval_episodes = o->eval_episodes;
        rc->agent.hparams.num_minibatches = 4;
    }
    rc->agent.env_threads = 1;       /* agents run in parallel; each steps its envs on one thread */
    rc->out_prefix = o->out;
    rc->resume = o->resume;
    rc->progress = !o->quiet;
    rc->max_rounds = o->max_rounds;
    rc->plots_every = 5;
}

/* ---- blobs: how rank 0 holds the population (no live agents needed there) ------------------ */
typedef struct blob { size_t size; unsigned char* data; } blob;
static bgpbt_result blob_save(void* user, const void* agent, void* b, size_t cap, size_t* size) {
    const blob* x = (const blob*)agent;
    (void)user;
    *size = x->size;
    if (b) {
        if (cap < x->size) return BGPBT_ERR_LIMIT;
        memcpy(b, x->data, x->size);
    }
    return BGPBT_OK;
}
static blob* blob_make(const void* data, size_t size) {
    blob* x = (blob*)malloc(sizeof *x);
    if (!x) die("out of memory");
    x->data = (unsigned char*)malloc(size ? size : 1);
    if (!x->data) die("out of memory");
    memcpy(x->data, data, size);
    x->size = size;
    return x;
}
static bgpbt_result blob_load(void* user, const void* data, size_t size, void** agent) {
    (void)user;
    *agent = blob_make(data, size);
    return BGPBT_OK;
}
static void blob_destroy(void* user, void* agent) {
    blob* x = (blob*)agent;
    (void)user;
    if (x) { free(x->data); free(x); }
}
static bgpbt_pbt_agent_ops blob_ops(void) {
    bgpbt_pbt_agent_ops o;
    memset(&o, 0, sizeof o);
    o.save = blob_save;
    o.load = blob_load;
    o.destroy = blob_destroy;
    return o;
}

/* ---- agents held by one rank --------------------------------------------------------------- */
typedef struct held { int n; int id[MAX_HELD]; void* agent[MAX_HELD]; } held;
static int held_find(const held* h, int id) {
    int i;
    for (i = 0; i < h->n; ++i) if (h->id[i] == id) return i;
    return -1;
}
static void held_put(held* h, int id, void* a) {
    if (h->n == MAX_HELD) die("too many agents held");
    h->id[h->n] = id;
    h->agent[h->n] = a;
    h->n++;
}
static void* held_take(held* h, int id) {
    int i = held_find(h, id);
    void* a;
    if (i < 0) return NULL;
    a = h->agent[i];
    h->id[i] = h->id[h->n - 1];
    h->agent[i] = h->agent[h->n - 1];
    h->n--;
    return a;
}

/* ---- one rank's share of a round ----------------------------------------------------------
   in: int round, n_jobs, n_release, n_blobs; n_jobs x {int j; bgpbt_pbt_job}; n_release ids;
       n_blobs x {int id; u64 size; bytes}.
   out: int round, n; n x {int j, agent, result; double ret; long long steps; u64 size; bytes}. */
static void work_round(buf* in, buf* out, const bgpbt_pbt_agent_ops* ops, held* h, const options* o) {
    int round = get_i(in), n = get_i(in), n_rel = get_i(in), n_blobs = get_i(in), k, j;
    int jidx[BGPBT_PBT_MAX_POP], rel[MAX_HELD], blob_id[2 * BGPBT_PBT_MAX_POP];
    bgpbt_pbt_job jobs[BGPBT_PBT_MAX_POP];
    const unsigned char* blob_ptr[2 * BGPBT_PBT_MAX_POP];
    size_t blob_size[2 * BGPBT_PBT_MAX_POP];
    void *made[BGPBT_PBT_MAX_POP], *teacher[BGPBT_PBT_MAX_POP], *agent[BGPBT_PBT_MAX_POP];
    bgpbt_result res[BGPBT_PBT_MAX_POP];
    double ret[BGPBT_PBT_MAX_POP];
    long long steps[BGPBT_PBT_MAX_POP];
    if (n < 0 || n > BGPBT_PBT_MAX_POP || n_rel < 0 || n_rel > MAX_HELD || n_blobs < 0 || n_blobs > 2 * BGPBT_PBT_MAX_POP)
        die("malformed work message");
    for (j = 0; j < n; ++j) { jidx[j] = get_i(in); get(in, &jobs[j], sizeof jobs[j]); }
    for (k = 0; k < n_rel; ++k) rel[k] = get_i(in);
    for (k = 0; k < n_blobs; ++k) {
        uint64_t sz;
        blob_id[k] = get_i(in);
        get(in, &sz, sizeof sz);
        if (sz > in->n - in->rd) die("malformed work message");
        blob_ptr[k] = in->p + in->rd;
        blob_size[k] = (size_t)sz;
        in->rd += (size_t)sz;
    }
    /* 1. copies, fresh agents and private teachers, from the states at the end of the last round
          (what bgpbt_pbt_run does; a blob from rank 0 stands in for an agent held elsewhere) */
    for (j = 0; j < n; ++j) {
        const bgpbt_pbt_job* jb = &jobs[j];
        int i;
        made[j] = teacher[j] = NULL;
        res[j] = BGPBT_OK;
        if (jb->parent == jb->agent) {
            if (held_find(h, jb->agent) < 0) { /* moved here (or after a resume): load as is */
                for (k = 0; k < n_blobs && blob_id[k] != jb->agent; ++k) {}
                res[j] = k < n_blobs ? ops->load(ops->user, blob_ptr[k], blob_size[k], &made[j]) : BGPBT_ERR_INTERNAL;
            }
        } else if (jb->parent < 0) {
            res[j] = ops->create(ops->user, jb->arch, jb->hp, jb->seed, &made[j]);
        } else if ((i = held_find(h, jb->parent)) >= 0) {
            res[j] = ops->clone(ops->user, h->agent[i], jb->seed, &made[j]);
        } else {
            for (k = 0; k < n_blobs && blob_id[k] != jb->parent; ++k) {}
            res[j] = k < n_blobs ? ops->load(ops->user, blob_ptr[k], blob_size[k], &made[j]) : BGPBT_ERR_INTERNAL;
            if (res[j] == BGPBT_OK) bgpbt_agent_reseed((bgpbt_agent*)made[j], jb->seed);
        }
        if (res[j] == BGPBT_OK && jb->teacher >= 0) {
            uint64_t ts = BGPBT_PBT_TEACHER_SEED(jb->seed);
            if ((i = held_find(h, jb->teacher)) >= 0) {
                res[j] = ops->clone(ops->user, h->agent[i], ts, &teacher[j]);
            } else {
                for (k = 0; k < n_blobs && blob_id[k] != jb->teacher; ++k) {}
                res[j] = k < n_blobs ? ops->load(ops->user, blob_ptr[k], blob_size[k], &teacher[j]) : BGPBT_ERR_INTERNAL;
                if (res[j] == BGPBT_OK) bgpbt_agent_reseed((bgpbt_agent*)teacher[j], ts);
            }
        }
    }
    /* 2. drop what is no longer needed here, then the new agents join */
    for (k = 0; k < n_rel; ++k) {
        void* a = held_take(h, rel[k]);
        if (a) ops->destroy(ops->user, a);
    }
    for (j = 0; j < n; ++j)
        if (made[j]) held_put(h, jobs[j].agent, made[j]);
    for (j = 0; j < n; ++j) {
        int i = held_find(h, jobs[j].agent);
        agent[j] = i >= 0 ? h->agent[i] : NULL;
        if (!agent[j] && res[j] == BGPBT_OK) res[j] = BGPBT_ERR_INTERNAL;
    }
    /* 3. train, OpenMP over this rank's agents (each agent is deterministic on its own, for any
          thread count); a rank with a single agent leaves its threads to that agent's own
          OpenMP loops (GEMMs), which a team of one does not nest away */
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) if (n > 1)
#endif
    for (j = 0; j < n; ++j) {
        ret[j] = (double)NAN;
        steps[j] = 0;
        if (res[j] == BGPBT_OK) res[j] = ops->train(ops->user, agent[j], teacher[j], &jobs[j], &ret[j], &steps[j]);
    }
    for (j = 0; j < n; ++j) if (teacher[j]) ops->destroy(ops->user, teacher[j]);
    if (o->fault_rank == g_rank && o->fault_round == round) { /* testing: die or hang mid-round */
        fprintf(stderr, "mpi_population (rank %d): fault injection: %s in round %d\n", g_rank, o->fault_kind, round);
        fflush(stderr);
        if (!strcmp(o->fault_kind, "hang")) for (;;) { struct timespec ts = {1, 0}; nanosleep(&ts, NULL); }
        raise(SIGKILL);
    }
    /* 4. results and blobs back to rank 0 */
    out->n = 0;
    put_i(out, round);
    put_i(out, n);
    for (j = 0; j < n; ++j) {
        size_t sz = 0;
        uint64_t sz64;
        bgpbt_result sr = agent[j] ? ops->save(ops->user, agent[j], NULL, 0, &sz) : BGPBT_ERR_INTERNAL;
        unsigned char* tmp = NULL;
        if (sr == BGPBT_OK) {
            tmp = (unsigned char*)malloc(sz ? sz : 1);
            if (!tmp) die("out of memory");
            sr = ops->save(ops->user, agent[j], tmp, sz, &sz);
        }
        if (sr != BGPBT_OK) { res[j] = sr; sz = 0; }
        put_i(out, jidx[j]);
        put_i(out, jobs[j].agent);
        put_i(out, (int)res[j]);
        put(out, &ret[j], sizeof ret[j]);
        put(out, &steps[j], sizeof steps[j]);
        sz64 = (uint64_t)sz;
        put(out, &sz64, sizeof sz64);
        put(out, tmp, sz);
        free(tmp);
    }
}

/* ---- rank 0: the scheduler ----------------------------------------------------------------- */
typedef struct store { int n; int id[MAX_HELD]; blob* b[MAX_HELD]; int owner[MAX_HELD]; } store;
static int store_find(const store* s, int id) {
    int i;
    for (i = 0; i < s->n; ++i) if (s->id[i] == id) return i;
    return -1;
}
static int owner_of(const store* s, int id) {
    int i = store_find(s, id);
    return i >= 0 ? s->owner[i] : -1;
}
static void store_set(store* s, int id, blob* b, int owner) {
    int i = store_find(s, id);
    if (i < 0) {
        if (s->n == MAX_HELD) die("too many agents");
        i = s->n++;
        s->id[i] = id;
        s->b[i] = NULL;
    }
    blob_destroy(NULL, s->b[i]);
    s->b[i] = b;
    s->owner[i] = owner;
}
static void store_drop(store* s, int id) {
    int i = store_find(s, id);
    if (i < 0) return;
    blob_destroy(NULL, s->b[i]);
    s->n--;
    s->id[i] = s->id[s->n];
    s->b[i] = s->b[s->n];
    s->owner[i] = s->owner[s->n];
}

static void add_blob(buf* m, const store* st, int id, int* listed, int* n_listed) {
    int i, k;
    for (k = 0; k < *n_listed; ++k) if (listed[k] == id) return;
    i = store_find(st, id);
    if (i < 0) die("an agent's state is missing on rank 0");
    listed[(*n_listed)++] = id;
    put_i(m, id);
    {
        uint64_t sz = (uint64_t)st->b[i]->size;
        put(m, &sz, sizeof sz);
    }
    put(m, st->b[i]->data, st->b[i]->size);
}

/* the last return told for an agent (NaN if none) */
static double last_return(const bgpbt_pbt* s, int id, long long* steps) {
    int n, i;
    const bgpbt_pbt_row* rows = bgpbt_pbt_rows(s, &n);
    for (i = n - 1; i >= 0; --i)
        if (rows[i].agent == id) { if (steps) *steps = rows[i].steps; return rows[i].ret; }
    if (steps) *steps = 0;
    return (double)NAN;
}

static void describe_rank(FILE* f, const bgpbt_pbt* s, const bgpbt_pbt_round* rd, const int* assign, int r) {
    int j;
    for (j = 0; j < rd->n_jobs; ++j) {
        const bgpbt_pbt_job* jb = &rd->jobs[j];
        long long st = 0;
        double lr;
        if (assign[j] != r) continue;
        lr = last_return(s, jb->parent >= 0 ? jb->parent : jb->agent, &st);
        fprintf(f, "  rank %d job %d: agent %d (slot %d) from %s %d: last return %.6g at %lld lineage steps\n", r, j, jb->agent,
                jb->slot, jb->parent == jb->agent ? "itself" : jb->parent < 0 ? "fresh" : "parent", jb->parent, lr, st);
    }
}

static void report_and_abort(const bgpbt_pbt* s, const bgpbt_pbt_round* rd, const int* assign, const int* answered,
                             const options* o, const char* ckpt, double timeout) {
    int r;
    fprintf(stderr, "mpi_population: round %d: no answer within %.0f s from rank(s)", rd->index, timeout);
    for (r = 1; r < g_nranks; ++r) if (!answered[r]) fprintf(stderr, " %d", r);
    fprintf(stderr, " (dead or hung). Their agents and last results:\n");
    for (r = 1; r < g_nranks; ++r) if (!answered[r]) describe_rank(stderr, s, rd, assign, r);
    if (ckpt)
        fprintf(stderr, "mpi_population: the checkpoint after round %d (%s) is intact; continue with the same options "
                        "plus --resume, on any number of ranks\n", rd->index - 1, ckpt);
    if (o->out) { /* the report also goes next to the checkpoint, for scripts */
        char path[4200];
        FILE* f;
        snprintf(path, sizeof path, "%sranks.txt", o->out);
        f = fopen(path, "a");
        if (f) {
            fprintf(f, "ABORTED in round %d: no answer within %.0f s from rank(s)", rd->index, timeout);
            for (r = 1; r < g_nranks; ++r) if (!answered[r]) fprintf(f, " %d", r);
            fprintf(f, "; resume from the checkpoint after round %d\n", rd->index - 1);
            fclose(f);
        }
    }
    fflush(stderr);
    /* MPI_Abort also ends a hung rank. mpirun exits with 3, except under --enable-recovery
       where OpenMPI 4.1 reports 0: scripts should look for ABORTED in ranks.txt */
    MPI_Abort(MPI_COMM_WORLD, 3);
    exit(3);
}

static void sleep_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static int scheduler_main(const options* o, const bgpbt_pbt_run_config* rc, const bgpbt_pbt_agent_ops* ops, held* h,
                          bgpbt_pbt* s, store* st, const char* ckpt) {
    static buf msg[1024];
    buf res0, in;
    int rounds_this_call = 0, j, r;
    long long bytes_total = 0, blobs_down = 0, blobs_up = 0;
    double t_ask = 0, t_start = bgpbt_time_seconds(), t0;
    int rounds_stat = 0, n_rows0;
    char path[4200];
    bgpbt_pbt_agent_ops bops = blob_ops();
    memset(&res0, 0, sizeof res0);
    memset(&in, 0, sizeof in);
    if (g_nranks > 1024) die("at most 1024 ranks");
    bgpbt_pbt_rows(s, &n_rows0);
    for (;;) {
        const bgpbt_pbt_round* rd;
        int n, assign[BGPBT_PBT_MAX_POP], load[1024], answered[1024], per, fatal = 0, done_n = 0;
        int listed[2 * BGPBT_PBT_MAX_POP], n_listed;
        MPI_Request req[1024];
        bgpbt_result jres[BGPBT_PBT_MAX_POP];
        double jret[BGPBT_PBT_MAX_POP], deadline;
        long long jsteps[BGPBT_PBT_MAX_POP], round_bytes = 0;
        if (o->max_rounds > 0 && rounds_this_call >= o->max_rounds) break;
        t0 = bgpbt_time_seconds();
        if (bgpbt_pbt_ask(s, &rd) != BGPBT_OK) die("ask failed");
        t_ask += bgpbt_time_seconds() - t0;
        n = rd->n_jobs;
        if (n == 0) break;
        deadline = bgpbt_time_seconds() + o->timeout;
        /* place the jobs: keep agents where they are, copies next to their parent, balance */
        per = (n + g_nranks - 1) / g_nranks;
        for (r = 0; r < g_nranks; ++r) { load[r] = 0; answered[r] = r == 0; }
        for (j = 0; j < n; ++j) assign[j] = -1;
        for (j = 0; j < n; ++j) {
            int w = owner_of(st, rd->jobs[j].agent);
            if (rd->jobs[j].parent == rd->jobs[j].agent && w >= 0 && load[w] < per) { assign[j] = w; load[w]++; }
        }
        for (j = 0; j < n; ++j) {
            int w = rd->jobs[j].parent >= 0 ? owner_of(st, rd->jobs[j].parent) : -1;
            if (assign[j] < 0 && rd->jobs[j].parent != rd->jobs[j].agent && w >= 0 && load[w] < per) { assign[j] = w; load[w]++; }
        }
        for (j = 0; j < n; ++j)
            if (assign[j] < 0) {
                int best = 0;
                for (r = 1; r < g_nranks; ++r) if (load[r] < load[best]) best = r;
                assign[j] = best;
                load[best]++;
            }
        /* one message per rank */
        for (r = 0; r < g_nranks; ++r) {
            buf* m = &msg[r];
            int k, nr = 0, nb_pos, cnt_pos;
            m->n = m->rd = 0;
            put_i(m, rd->index);
            cnt_pos = (int)m->n;
            put_i(m, load[r]);
            put_i(m, 0); /* releases, patched below */
            put_i(m, 0); /* blobs, patched below */
            for (j = 0; j < n; ++j)
                if (assign[j] == r) { put_i(m, j); put(m, &rd->jobs[j], sizeof rd->jobs[j]); }
            for (k = 0; k < rd->n_release; ++k)
                if (owner_of(st, rd->release[k]) == r) { put_i(m, rd->release[k]); nr++; }
            for (j = 0; j < n; ++j) /* an agent that continues elsewhere is dropped here */
                if (rd->jobs[j].parent == rd->jobs[j].agent && owner_of(st, rd->jobs[j].agent) == r && assign[j] != r) {
                    put_i(m, rd->jobs[j].agent);
                    nr++;
                }
            memcpy(m->p + cnt_pos + sizeof(int), &nr, sizeof nr);
            nb_pos = (int)m->n;
            n_listed = 0;
            for (j = 0; j < n; ++j) {
                const bgpbt_pbt_job* jb = &rd->jobs[j];
                size_t before = m->n;
                if (assign[j] != r) continue;
                if (jb->parent >= 0 && owner_of(st, jb->parent) != r) add_blob(m, st, jb->parent, listed, &n_listed);
                if (jb->teacher >= 0 && owner_of(st, jb->teacher) != r) add_blob(m, st, jb->teacher, listed, &n_listed);
                if (r > 0) blobs_down += (long long)(m->n - before);
            }
            (void)nb_pos;
            memcpy(m->p + cnt_pos + 2 * sizeof(int), &n_listed, sizeof n_listed);
            if (r > 0) round_bytes += (long long)m->n;
        }
        /* who trains what, on disk before anything can die */
        if (o->out) {
            FILE* f;
            snprintf(path, sizeof path, "%sranks.txt", o->out);
            f = fopen(path, "w");
            if (f) {
                fprintf(f, "round %d in progress on %d ranks (checkpoint after round %d)\n", rd->index, g_nranks, rd->index - 1);
                for (r = 0; r < g_nranks; ++r) describe_rank(f, s, rd, assign, r);
                fclose(f);
            }
        }
        for (r = 1; r < g_nranks; ++r)
            MPI_Isend(msg[r].p, (int)msg[r].n, MPI_BYTE, r, TAG_WORK, MPI_COMM_WORLD, &req[r]);
        /* every send must complete before rank 0 trains (large messages need both sides) */
        for (;;) {
            int all = 1, flag;
            for (r = 1; r < g_nranks; ++r) {
                if (req[r] == MPI_REQUEST_NULL) continue;
                MPI_Test(&req[r], &flag, MPI_STATUS_IGNORE);
                if (!flag) all = 0;
            }
            if (all) break;
            if (bgpbt_time_seconds() > deadline) {
                for (r = 1; r < g_nranks; ++r) answered[r] = req[r] == MPI_REQUEST_NULL;
                report_and_abort(s, rd, assign, answered, o, ckpt, o->timeout);
            }
            sleep_ms(1);
        }
        for (j = 0; j < n; ++j) { jres[j] = BGPBT_ERR_INTERNAL; jret[j] = (double)NAN; jsteps[j] = 0; }
        /* rank 0's own share, then the others' answers as they come, until the deadline */
        msg[0].rd = 0;
        work_round(&msg[0], &res0, ops, h, o);
        for (r = 0; r < g_nranks; ++r) {
            buf* b = r == 0 ? &res0 : &in;
            int src = 0, cnt, k;
            if (r > 0) {
                MPI_Status stt;
                int flag = 0;
                while (!flag) {
                    MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &stt);
                    if (flag) break;
                    if (bgpbt_time_seconds() > deadline) report_and_abort(s, rd, assign, answered, o, ckpt, o->timeout);
                    sleep_ms(1);
                }
                src = stt.MPI_SOURCE;
                MPI_Get_count(&stt, MPI_BYTE, &cnt);
                in.n = in.rd = 0;
                put(&in, NULL, (size_t)cnt);
                in.n = 0;
                MPI_Recv(in.p, cnt, MPI_BYTE, src, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                in.n = (size_t)cnt;
                answered[src] = 1;
                round_bytes += cnt;
            }
            b->rd = 0;
            if (get_i(b) != rd->index) die("answer for another round");
            cnt = get_i(b);
            for (k = 0; k < cnt; ++k) {
                int jj = get_i(b), id = get_i(b), code = get_i(b);
                uint64_t sz;
                if (jj < 0 || jj >= n || rd->jobs[jj].agent != id) die("answer for an unknown job");
                get(b, &jret[jj], sizeof(double));
                get(b, &jsteps[jj], sizeof(long long));
                get(b, &sz, sizeof sz);
                if (sz > b->n - b->rd) die("malformed answer");
                jres[jj] = (bgpbt_result)code;
                if (sz > 0) store_set(st, id, blob_make(b->p + b->rd, (size_t)sz), src);
                if (src > 0) blobs_up += (long long)sz;
                b->rd += (size_t)sz;
                done_n++;
            }
        }
        if (done_n != n) die("some jobs were not answered");
        for (j = 0; j < rd->n_release; ++j) store_drop(st, rd->release[j]);
        /* as bgpbt_pbt_run: a job error other than a diverged agent stops the run */
        for (j = 0; j < n; ++j)
            if (jres[j] != BGPBT_OK && jres[j] != BGPBT_ERR_AGENT_FAILED && jres[j] != BGPBT_ERR_NOT_FINITE &&
                jres[j] != BGPBT_ERR_UNSTABLE) {
                fprintf(stderr, "mpi_population: job %d (agent %d, rank %d) failed: %s\n", j, rd->jobs[j].agent, assign[j],
                        bgpbt_result_string(jres[j]));
                fatal = 1;
            }
        if (fatal) return 1;
        for (j = 0; j < n; ++j)
            if (bgpbt_pbt_tell(s, j, jret[j], jsteps[j] > 0 ? jsteps[j] : rd->jobs[j].steps, jres[j] != BGPBT_OK) != BGPBT_OK)
                die("tell failed");
        rounds_this_call++;
        rounds_stat++;
        bytes_total += round_bytes;
        if (o->out) {
            int ids[MAX_HELD];
            void* ags[MAX_HELD];
            for (j = 0; j < st->n; ++j) { ids[j] = st->id[j]; ags[j] = st->b[j]; }
            snprintf(path, sizeof path, "%slog.csv", o->out);
            if (bgpbt_pbt_write_csv(s, path) != BGPBT_OK) die("cannot write the log");
            if (rounds_this_call % rc->plots_every == 0) (void)bgpbt_pbt_write_plots(s, o->out);
            if (bgpbt_pbt_checkpoint_save(s, &bops, st->n, ids, ags, ckpt) != BGPBT_OK) die("cannot write the checkpoint");
        }
        if (!o->quiet) {
            int id;
            double best = (double)NAN;
            (void)bgpbt_pbt_best(s, &id, &best, NULL);
            fprintf(stderr, "round %d%s | %d jobs on %d ranks | env steps %.3g | best %.4g | MPI %.3g MB | %.1f s\n", rd->index,
                    rd->kind == BGPBT_PBT_ROUND_DISTILL ? " (distill)" : rd->kind == BGPBT_PBT_ROUND_INIT ? " (init)" : "", n,
                    g_nranks, (double)bgpbt_pbt_total_steps(s), best, (double)round_bytes / 1e6, bgpbt_time_seconds() - t_start);
        }
    }
    /* end of the run (or of this call): log, plots, the best agent */
    if (o->out) {
        int id;
        snprintf(path, sizeof path, "%slog.csv", o->out);
        if (bgpbt_pbt_write_csv(s, path) != BGPBT_OK) die("cannot write the log");
        if (rounds_this_call > 0) (void)bgpbt_pbt_write_plots(s, o->out);
        if (bgpbt_pbt_best(s, &id, NULL, NULL) == BGPBT_OK) {
            int i = store_find(st, id);
            snprintf(path, sizeof path, "%sbest.agent", o->out);
            if (i >= 0 && bgpbt_file_write_atomic(path, st->b[i]->data, st->b[i]->size) != BGPBT_OK) die("cannot write best.agent");
        }
    }
    if (o->out) {
        FILE* f;
        snprintf(path, sizeof path, "%sranks.txt", o->out);
        f = fopen(path, "a");
        if (f) {
            int nr;
            const bgpbt_pbt_row* rows = bgpbt_pbt_rows(s, &nr);
            fprintf(f, "%s after round %d\n", bgpbt_pbt_done(s) ? "FINISHED" : "STOPPED", nr > 0 ? rows[nr - 1].round : 0);
            fclose(f);
        }
    }
    if (!o->quiet && rounds_stat > 0)
        fprintf(stderr, "mpi: %d rounds on %d ranks in %.1f s: %.3g MB per round over MPI (agents down %.3g MB, up %.3g MB), "
                        "scheduler %.3g ms per round\n", rounds_stat, g_nranks, bgpbt_time_seconds() - t_start,
                (double)bytes_total / rounds_stat / 1e6, (double)blobs_down / rounds_stat / 1e6, (double)blobs_up / rounds_stat / 1e6,
                1e3 * t_ask / rounds_stat);
    buf_free(&res0);
    buf_free(&in);
    for (r = 0; r < g_nranks; ++r) buf_free(&msg[r]);
    return 0;
}

/* ---- the other ranks: wait for work, do it, answer; a message with round -1 ends ---------- */
static void worker_main(const options* o, const bgpbt_pbt_agent_ops* ops, held* h) {
    buf in, out;
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    for (;;) {
        MPI_Status stt;
        int cnt, round;
        MPI_Probe(0, TAG_WORK, MPI_COMM_WORLD, &stt);
        MPI_Get_count(&stt, MPI_BYTE, &cnt);
        in.n = in.rd = 0;
        put(&in, NULL, (size_t)cnt);
        MPI_Recv(in.p, cnt, MPI_BYTE, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        memcpy(&round, in.p, sizeof round);
        if (round < 0) break;
        work_round(&in, &out, ops, h, o);
        MPI_Send(out.p, (int)out.n, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
    }
    buf_free(&in);
    buf_free(&out);
}

static int dump_checkpoint(const bgpbt_pbt_run_config* rc, const char* path) {
    bgpbt_pbt* s = NULL;
    bgpbt_pbt_agent_ops bops = blob_ops();
    static int ids[MAX_HELD];
    static void* ags[MAX_HELD];
    int n = 0, i, k;
    size_t sz = 0;
    void* sb;
    if (bgpbt_pbt_create(&rc->pbt, &s) != BGPBT_OK) return 1;
    if (bgpbt_pbt_checkpoint_load(s, &bops, path, MAX_HELD, ids, ags, &n) != BGPBT_OK) { bgpbt_pbt_destroy(s); return 1; }
    bgpbt_pbt_save(s, NULL, 0, &sz);
    sb = malloc(sz);
    if (!sb || bgpbt_pbt_save(s, sb, sz, &sz) != BGPBT_OK) return 1;
    {
        const bgpbt_pbt_row* rows = bgpbt_pbt_rows(s, &k);
        printf("scheduler round %d size %lu crc %08x\n", k > 0 ? rows[k - 1].round : 0, (unsigned long)sz,
               (unsigned)bgpbt_crc32(0, sb, sz));
    }
    free(sb);
    for (;;) { /* sorted by id */
        int best = -1;
        for (i = 0; i < n; ++i) if (ags[i] && (best < 0 || ids[i] < ids[best])) best = i;
        if (best < 0) break;
        printf("agent %d size %lu crc %08x\n", ids[best], (unsigned long)((blob*)ags[best])->size,
               (unsigned)bgpbt_crc32(0, ((blob*)ags[best])->data, ((blob*)ags[best])->size));
        blob_destroy(NULL, ags[best]);
        ags[best] = NULL;
    }
    bgpbt_pbt_destroy(s);
    return 0;
}

int main(int argc, char** argv) {
    options o;
    bgpbt_pbt_run_config rc;
    bgpbt_pbt_config cfg;
    bgpbt_pbt_agent_ops ops;
    bgpbt_pbt* s = NULL;
    static held h;
    static store st;
    char ckpt[4200];
    int i, rc_exit = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_nranks);
    memset(&o, 0, sizeof o);
    o.task = "inverted_double_pendulum"; o.method = "bgpbt"; o.out = "mpi_out/"; o.fault_kind = "kill";
    o.steps = 800000; o.pop = 8; o.intervals = 20; o.num_envs = 32; o.eval_episodes = 16; o.seed = 1;
    o.timeout = 3600; o.fault_rank = -1; o.fault_round = -1;
    for (i = 1; i < argc; ++i) {
        const char* a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--task") && more) o.task = argv[++i];
        else if (!strcmp(a, "--method") && more) o.method = argv[++i];
        else if (!strcmp(a, "--steps") && more) o.steps = atoll(argv[++i]);
        else if (!strcmp(a, "--total") && more) o.total = atoll(argv[++i]);
        else if (!strcmp(a, "--pop") && more) o.pop = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && more) o.seed = (uint64_t)atoll(argv[++i]);
        else if (!strcmp(a, "--intervals") && more) o.intervals = atoi(argv[++i]);
        else if (!strcmp(a, "--num-envs") && more) o.num_envs = atoi(argv[++i]);
        else if (!strcmp(a, "--eval-episodes") && more) o.eval_episodes = atoi(argv[++i]);
        else if (!strcmp(a, "--default-net")) o.default_net = 1;
        else if (!strcmp(a, "--paper")) o.paper = 1;
        else if (!strcmp(a, "--out") && more) o.out = argv[++i];
        else if (!strcmp(a, "--resume")) o.resume = 1;
        else if (!strcmp(a, "--max-rounds") && more) o.max_rounds = atoi(argv[++i]);
        else if (!strcmp(a, "--timeout") && more) o.timeout = atof(argv[++i]);
        else if (!strcmp(a, "--runner")) o.runner = 1;
        else if (!strcmp(a, "--dump") && more) o.dump = argv[++i];
        else if (!strcmp(a, "--fault-rank") && more) o.fault_rank = atoi(argv[++i]);
        else if (!strcmp(a, "--fault-round") && more) o.fault_round = atoi(argv[++i]);
        else if (!strcmp(a, "--fault-kind") && more) o.fault_kind = argv[++i];
        else if (!strcmp(a, "--quiet")) o.quiet = 1;
        else {
            if (g_rank == 0) fprintf(stderr, "unknown option '%s' (see the top of examples/mpi_population.c)\n", a);
            MPI_Finalize();
            return 2;
        }
    }
    if (o.pop < 1 || o.pop > BGPBT_PBT_MAX_POP || o.intervals < 1 || o.steps < o.intervals || !(o.timeout > 0)) {
        if (g_rank == 0) fprintf(stderr, "bad --pop, --intervals, --steps or --timeout\n");
        MPI_Finalize();
        return 2;
    }
    build_config(&o, &rc);
    if (o.dump || o.runner) { /* single-process modes, on rank 0 only */
        if (g_rank == 0) {
            if (o.dump) rc_exit = dump_checkpoint(&rc, o.dump);
            else {
                bgpbt_pbt_run_result res;
                bgpbt_result r;
                if (o.out[0] && o.out[strlen(o.out) - 1] == '/') {
                    char dir[1024];
                    snprintf(dir, sizeof dir, "%s", o.out);
                    dir[strlen(dir) - 1] = 0;
                    (void)mkdir(dir, 0755);
                }
                r = bgpbt_pbt_run(&rc, &res);
                if (r != BGPBT_OK) { fprintf(stderr, "run failed: %s\n", bgpbt_result_string(r)); rc_exit = 1; }
            }
        }
        MPI_Finalize();
        return rc_exit;
    }
    snprintf(ckpt, sizeof ckpt, "%.4000scheckpoint.bgpbt", o.out);
    /* rank 0: the scheduler, fresh or from the checkpoint; everyone gets its resolved config */
    if (g_rank == 0) {
        bgpbt_pbt_agent_ops bops = blob_ops();
        static int ids[MAX_HELD];
        static void* ags[MAX_HELD];
        int n = 0;
        if (o.out[0] && o.out[strlen(o.out) - 1] == '/') {
            char dir[1024];
            snprintf(dir, sizeof dir, "%s", o.out);
            dir[strlen(dir) - 1] = 0;
            (void)mkdir(dir, 0755);
        }
        if (bgpbt_pbt_create(&rc.pbt, &s) != BGPBT_OK) die("bad scheduler configuration");
        if (o.resume) {
            FILE* f = fopen(ckpt, "rb");
            if (f) {
                bgpbt_result r;
                fclose(f);
                r = bgpbt_pbt_checkpoint_load(s, &bops, ckpt, MAX_HELD, ids, ags, &n);
                if (r != BGPBT_OK) {
                    char prev[4300];
                    snprintf(prev, sizeof prev, "%s.prev", ckpt);
                    fprintf(stderr, "mpi_population: trying the previous checkpoint %s\n", prev);
                    r = bgpbt_pbt_checkpoint_load(s, &bops, prev, MAX_HELD, ids, ags, &n);
                }
                if (r != BGPBT_OK) die("cannot resume from the checkpoint");
                for (i = 0; i < n; ++i) store_set(&st, ids[i], (blob*)ags[i], -1); /* held by nobody yet */
                {
                    int nr;
                    const bgpbt_pbt_row* rows = bgpbt_pbt_rows(s, &nr);
                    fprintf(stderr, "mpi_population: resumed after round %d on %d ranks (%d agents)\n",
                            nr ? rows[nr - 1].round : 0, g_nranks, n);
                }
            }
        }
        cfg = *bgpbt_pbt_get_config(s);
    }
    MPI_Bcast(&cfg, (int)sizeof cfg, MPI_BYTE, 0, MPI_COMM_WORLD);
    /* pointers do not travel between processes */
    cfg.allocator = bgpbt_pbt_config_default().allocator;
    cfg.logger = rc.pbt.logger;
    if (bgpbt_pbt_ppo_ops_create(&cfg, &rc.agent, &ops) != BGPBT_OK) die("cannot set up the agents");
    if (g_rank == 0) {
        int stop = -1;
        rc_exit = scheduler_main(&o, &rc, &ops, &h, s, &st, o.out ? ckpt : NULL);
        for (i = 1; i < g_nranks; ++i) MPI_Send(&stop, 1, MPI_INT, i, TAG_WORK, MPI_COMM_WORLD);
        if (rc_exit == 0 && !o.quiet) {
            int nr;
            const bgpbt_pbt_row* rows = bgpbt_pbt_rows(s, &nr);
            fprintf(stderr, "mpi_population: %s after round %d\n", bgpbt_pbt_done(s) ? "finished" : "stopped",
                    nr > 0 ? rows[nr - 1].round : 0);
        }
        for (i = 0; i < st.n; ++i) blob_destroy(NULL, st.b[i]);
        bgpbt_pbt_destroy(s);
        if (rc_exit) { MPI_Abort(MPI_COMM_WORLD, rc_exit); }
    } else {
        worker_main(&o, &ops, &h);
    }
    for (i = 0; i < h.n; ++i) ops.destroy(ops.user, h.agent[i]);
    bgpbt_pbt_ppo_ops_destroy(&ops);
    MPI_Finalize();
    return rc_exit;
}
